/*
 * tests/unit/test_plan_hooks.c - the planner's hooks (hoist_plan_hooks):
 * score_type filters and scores instance types, order_offerings picks a
 * claim's offering; a failing hook leaves the default in force and is
 * counted.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "model/catalog.h"
#include "model/objects.h"
#include "sched/plan.h"

/* Four types, two zones, spot and on-demand; c5 is the cheapest. */
static void build_catalog(hoist_catalog *c)
{
    static const struct {
        const char *name, *family, *size, *category;
        uint32_t gen, vcpus;
        uint64_t mem;
        double od;
    } spec[] = {
        {"c5.large", "c5", "large", "c", 5, 2, 4096, 0.085},
        {"m5.large", "m5", "large", "m", 5, 2, 8192, 0.096},
        {"m6i.large", "m6i", "large", "m", 6, 2, 8192, 0.096},
        {"r5.large", "r5", "large", "r", 5, 2, 16384, 0.126},
    };
    static const char *zones[] = {"us-east-1a", "us-east-1b"};
    enum { N = 4, PER = 4 };
    static hoist_offering offs[N][PER];
    static hoist_instance_type types[N];
    for (int i = 0; i < N; i++) {
        for (int z = 0; z < 2; z++)
            for (int ct = 0; ct < 2; ct++) {
                hoist_offering *o = &offs[i][z * 2 + ct];
                o->struct_size = sizeof *o;
                o->zone = zones[z];
                o->capacity_type = ct ? HOIST_CAPACITY_SPOT : HOIST_CAPACITY_ON_DEMAND;
                o->price = ct ? spec[i].od * 0.4 + 0.001 * z : spec[i].od;
                o->available = true;
            }
        types[i] = (hoist_instance_type){
            .struct_size = sizeof types[i], .name = spec[i].name, .family = spec[i].family,
            .size = spec[i].size, .category = spec[i].category, .generation = spec[i].gen,
            .architecture = "amd64", .cpu_manufacturer = "intel", .hypervisor = "nitro",
            .current_generation = true, .vcpus = spec[i].vcpus, .memory_mib = spec[i].mem,
            .gpu = {0, "", "", 0}, .max_pods = 29, .offerings = offs[i], .n_offerings = PER};
    }
    hoist_err err = {{0}};
    if (hoist_catalog_copy(c, types, N, &err) < 0)
        fail_msg("%s", err.msg);
}

static const char SNAPSHOT[] =
    "apiVersion: hoist.dev/v1\n"
    "kind: NodePool\n"
    "metadata: {name: default}\n"
    "spec:\n"
    "  template:\n"
    "    spec:\n"
    "      requirements:\n"
    "      - {key: hoist.dev/capacity-type, operator: In, values: [spot, on-demand]}\n"
    "---\n"
    "apiVersion: v1\n"
    "kind: Pod\n"
    "metadata: {name: a, namespace: default}\n"
    "spec:\n"
    "  containers: [{name: c, image: x, resources: {requests: {cpu: 500m, memory: 1Gi}}}]\n";

typedef struct fixture {
    hoist_objects objs;
    hoist_catalog cat;
    hoist_plan plan;
} fixture;

static int setup(void **state)
{
    static fixture f;
    memset(&f, 0, sizeof f);
    hoist_objects_init(&f.objs);
    hoist_catalog_init(&f.cat);
    hoist_err err = {{0}};
    if (hoist_objects_load_buffer(&f.objs, "snapshot.yaml", SNAPSHOT, sizeof SNAPSHOT - 1, &err) < 0)
        fail_msg("%s", err.msg);
    build_catalog(&f.cat);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    hoist_plan_free(&f->plan);
    hoist_catalog_free(&f->cat);
    hoist_objects_free(&f->objs);
    return 0;
}

static void plan_with(fixture *f, const hoist_plan_hooks *hooks)
{
    hoist_plan_free(&f->plan);
    hoist_plan_options opts = {.hooks = hooks};
    hoist_err err = {{0}};
    if (hoist_plan_compute(&f->objs, &f->cat, &opts, &f->plan, &err) < 0)
        fail_msg("%s", err.msg);
    assert_int_equal(f->plan.n_claims, 1);
}

static void test_default_is_cheapest(void **state)
{
    fixture *f = *state;
    plan_with(f, NULL);
    const hoist_plan_claim *c = &f->plan.claims[0];
    assert_string_equal(c->chosen.type->name, "c5.large");
    assert_int_equal(c->chosen.offering->capacity_type, HOIST_CAPACITY_SPOT);
    assert_string_equal(c->chosen.offering->zone, "us-east-1a");
    assert_int_equal(f->plan.hook_errors, 0);
}

/* score_type: drop every type not in family m*, score by generation. */
static int keep_m_family(void *ctx, const hoist_nodepool *np, const hoist_instance_type *it,
                         bool *keep, double *score)
{
    (void)ctx;
    assert_string_equal(np->name, "default");
    *keep = it->category[0] == 'm';
    *score = it->generation;
    return 0;
}

static void test_score_type_filters(void **state)
{
    fixture *f = *state;
    hoist_plan_hooks hooks = {NULL, keep_m_family, NULL};
    plan_with(f, &hooks);
    const hoist_plan_claim *c = &f->plan.claims[0];
    for (size_t i = 0; i < c->n_types; i++)
        assert_int_equal(c->types[i]->category[0], 'm');
    for (size_t i = 0; i < c->n_offerings; i++)
        assert_true(c->offerings[i].score == (double)c->offerings[i].type->generation);
    assert_string_equal(c->chosen.type->name, "m5.large"); /* cheapest m; m6i ties on price */
}

/* order_offerings: newest generation first, then price (prefer-newer-generation). */
static int newest_first(void *ctx, const hoist_plan_claim *claim, hoist_plan_offering *offs,
                        size_t n)
{
    int *calls = ctx;
    (*calls)++;
    assert_int_equal(claim->n_pods, 1);
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && offs[j].score > offs[j - 1].score; j--) {
            hoist_plan_offering t = offs[j];
            offs[j] = offs[j - 1];
            offs[j - 1] = t;
        }
    return 0;
}

static void test_order_offerings_picks(void **state)
{
    fixture *f = *state;
    int calls = 0;
    hoist_plan_hooks hooks = {&calls, keep_m_family, newest_first};
    plan_with(f, &hooks);
    assert_true(calls >= 1);
    const hoist_plan_claim *c = &f->plan.claims[0];
    assert_string_equal(c->chosen.type->name, "m6i.large");
    assert_true(f->plan.cost_per_hour == c->chosen.offering->price);
}

static int failing_score(void *ctx, const hoist_nodepool *np, const hoist_instance_type *it,
                         bool *keep, double *score)
{
    (void)ctx;
    (void)np;
    (void)it;
    *keep = false; /* ignored: the call failed */
    *score = 99;
    return -1;
}

static int failing_order(void *ctx, const hoist_plan_claim *claim, hoist_plan_offering *offs,
                         size_t n)
{
    (void)ctx;
    (void)claim;
    if (n > 1) /* scribbles, then fails: the planner must not use this order */
        offs[0] = offs[n - 1];
    return -1;
}

static void test_failing_hooks_keep_defaults(void **state)
{
    fixture *f = *state;
    hoist_plan_hooks hooks = {NULL, failing_score, failing_order};
    plan_with(f, &hooks);
    const hoist_plan_claim *c = &f->plan.claims[0];
    assert_string_equal(c->chosen.type->name, "c5.large");
    assert_true(c->n_types >= 4);
    assert_true(f->plan.hook_errors >= 5); /* four types scored, one claim ordered */
}


/* Headroom placeholders go after the real pods and only onto new claims:
 * a Ready node with room takes the real pod but never the placeholder; a
 * placeholder too big for any type is counted, not reported unschedulable. */
static const char NODE_WITH_ROOM[] =
    "apiVersion: v1\n"
    "kind: Node\n"
    "metadata:\n"
    "  name: roomy\n"
    "  labels: {hoist.dev/nodepool: default, node.kubernetes.io/instance-type: m5.large,\n"
    "           topology.kubernetes.io/zone: us-east-1a, hoist.dev/capacity-type: spot}\n"
    "status:\n"
    "  allocatable: {cpu: '8', memory: 32Gi, pods: '110'}\n"
    "  conditions: [{type: Ready, status: 'True'}]\n"
    "---\n"
    "apiVersion: v1\n"
    "kind: Pod\n"
    "metadata: {name: holder, namespace: hoist-system}\n"
    "spec:\n"
    "  containers: [{name: c, image: x, resources: {requests: {cpu: '1', memory: 1Gi}}}]\n"
    "---\n"
    "apiVersion: v1\n"
    "kind: Pod\n"
    "metadata: {name: huge, namespace: hoist-system}\n"
    "spec:\n"
    "  containers: [{name: c, image: x, resources: {requests: {cpu: '64', memory: 1Gi}}}]\n";

static void test_placeholders_only_on_new_claims(void **state)
{
    fixture *f = *state;
    hoist_err err = {{0}};
    if (hoist_objects_load_buffer(&f->objs, "extra.yaml", NODE_WITH_ROOM,
                                  sizeof NODE_WITH_ROOM - 1, &err) < 0)
        fail_msg("%s", err.msg);
    /* take the two last pods out of the snapshot: they become placeholders */
    assert_int_equal(f->objs.n_pods, 3);
    hoist_pod holder = *f->objs.pods[1], huge = *f->objs.pods[2];
    f->objs.n_pods = 1;
    holder.placeholder = huge.placeholder = true;
    const hoist_pod *holders[] = {&holder, &huge};
    hoist_plan_options opts = {0};
    opts.n_placeholders = 2;
    opts.placeholders = holders;
    if (hoist_plan_compute(&f->objs, &f->cat, &opts, &f->plan, &err) < 0)
        fail_msg("%s", err.msg);
    /* the real pod fits on the Ready node */
    assert_int_equal(f->plan.n_existing, 1);
    assert_int_equal(f->plan.existing[0].n_pods, 1);
    assert_string_equal(f->plan.existing[0].pods[0]->name, "a");
    /* the placeholder did not: it bought a machine of its own */
    assert_int_equal(f->plan.n_claims, 1);
    assert_int_equal(f->plan.claims[0].n_pods, 1);
    assert_true(f->plan.claims[0].pods[0]->placeholder);
    assert_true(f->plan.cost_per_hour > 0);
    /* the 64-CPU one fits no type: counted, not unschedulable */
    assert_int_equal(f->plan.n_placeholders_unplaced, 1);
    assert_int_equal(f->plan.n_unschedulable, 0);
    assert_int_equal(f->plan.n_pending, 1);
    /* JSON lists real pods only and counts the placeholders */
    json_t *j = hoist_plan_to_json(&f->plan, &f->objs.names, false);
    assert_non_null(j);
    json_t *claim = json_array_get(json_object_get(j, "nodeClaims"), 0);
    assert_int_equal(json_array_size(json_object_get(claim, "pods")), 0);
    assert_int_equal(json_integer_value(json_object_get(claim, "headroomPlaceholders")), 1);
    json_decref(j);
    /* without the flag the same pods are planned as real pods, onto the node */
    hoist_plan_free(&f->plan);
    holder.placeholder = false;
    opts.n_placeholders = 1;
    f->objs.n_pods = 2;
    if (hoist_plan_compute(&f->objs, &f->cat, NULL, &f->plan, &err) < 0)
        fail_msg("%s", err.msg);
    assert_int_equal(f->plan.n_claims, 0);
    assert_int_equal(f->plan.existing[0].n_pods, 2);
    f->objs.n_pods = 3;
}

/* A placeholder never takes the free room of a claim a real pod opened:
 * that room is already spare, so it must buy a machine of its own. */
static const char SMALL_HOLDER[] =
    "apiVersion: v1\n"
    "kind: Pod\n"
    "metadata: {name: small, namespace: hoist-system}\n"
    "spec:\n"
    "  containers: [{name: c, image: x, resources: {requests: {cpu: 200m, memory: 256Mi}}}]\n";

static void test_placeholder_not_in_real_claim(void **state)
{
    fixture *f = *state;
    hoist_err err = {{0}};
    if (hoist_objects_load_buffer(&f->objs, "holder.yaml", SMALL_HOLDER, sizeof SMALL_HOLDER - 1,
                                  &err) < 0)
        fail_msg("%s", err.msg);
    hoist_pod holder = *f->objs.pods[1];
    f->objs.n_pods = 1;
    holder.placeholder = true;
    const hoist_pod *holders[] = {&holder};
    hoist_plan_options opts = {0};
    opts.n_placeholders = 1;
    opts.placeholders = holders;
    if (hoist_plan_compute(&f->objs, &f->cat, &opts, &f->plan, &err) < 0)
        fail_msg("%s", err.msg);
    /* the 500m pod's c5.large has room for 200m, yet two machines */
    assert_int_equal(f->plan.n_claims, 2);
    size_t real = f->plan.claims[0].pods[0]->placeholder ? 1 : 0;
    assert_int_equal(f->plan.claims[real].n_pods, 1);
    assert_false(f->plan.claims[real].pods[0]->placeholder);
    assert_int_equal(f->plan.claims[1 - real].n_pods, 1);
    assert_true(f->plan.claims[1 - real].pods[0]->placeholder);
    /* as a real pod it shares the machine */
    hoist_plan_free(&f->plan);
    f->objs.n_pods = 2;
    if (hoist_plan_compute(&f->objs, &f->cat, NULL, &f->plan, &err) < 0)
        fail_msg("%s", err.msg);
    assert_int_equal(f->plan.n_claims, 1);
    assert_int_equal(f->plan.claims[0].n_pods, 2);
}

/* existing_only (the simulator's scheduler): Ready nodes only, never a claim. */
static void test_existing_only(void **state)
{
    fixture *f = *state;
    hoist_err err = {{0}};
    if (hoist_objects_load_buffer(&f->objs, "extra.yaml", NODE_WITH_ROOM,
                                  sizeof NODE_WITH_ROOM - 1, &err) < 0)
        fail_msg("%s", err.msg);
    f->objs.n_pods = 3; /* a (500m), holder (1), huge (64): all real and pending */
    hoist_plan_options opts = {0};
    opts.existing_only = true;
    if (hoist_plan_compute(&f->objs, &f->cat, &opts, &f->plan, &err) < 0)
        fail_msg("%s", err.msg);
    assert_int_equal(f->plan.n_claims, 0);
    assert_int_equal(f->plan.n_existing, 1);
    assert_int_equal(f->plan.existing[0].n_pods, 2);
    assert_int_equal(f->plan.n_unschedulable, 1);
    assert_string_equal(f->plan.unschedulable[0].name, "hoist-system/huge");
    assert_string_equal(f->plan.unschedulable[0].reason, "no Ready node fits");
    /* the same node not Ready: nothing is placed, nothing bought */
    hoist_plan_free(&f->plan);
    f->objs.nodes[0]->ready = 0;
    if (hoist_plan_compute(&f->objs, &f->cat, &opts, &f->plan, &err) < 0)
        fail_msg("%s", err.msg);
    assert_int_equal(f->plan.n_claims, 0);
    assert_int_equal(f->plan.n_existing, 0);
    assert_int_equal(f->plan.n_unschedulable, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_default_is_cheapest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_score_type_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_order_offerings_picks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failing_hooks_keep_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_placeholders_only_on_new_claims, setup, teardown),
        cmocka_unit_test_setup_teardown(test_placeholder_not_in_real_claim, setup, teardown),
        cmocka_unit_test_setup_teardown(test_existing_only, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
