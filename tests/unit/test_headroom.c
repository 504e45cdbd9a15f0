/*
 * tests/unit/test_headroom.c - pipeline/headroom: a NodePool's usage (its
 * nodes, their pods, a plan's pods and claims), the deficit against a
 * wanted spare, and the placeholder pods that cover it.
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
#include "model/labels.h"
#include "model/objects.h"
#include "model/taints.h"
#include "pipeline/headroom.h"
#include "sched/plan.h"

#define GI (1024LL * 1024 * 1024)
#define MILLI_GI (GI * 1000)

/* Three types: c5.large (2 vCPU, 4 GiB), m5.xlarge (4, 16), m5.4xlarge (16, 64). */
static void build_catalog(hoist_catalog *c)
{
    static const struct {
        const char *name, *family, *size;
        uint32_t vcpus;
        uint64_t mem;
        double od;
    } spec[] = {
        {"c5.large", "c5", "large", 2, 4096, 0.085},
        {"m5.4xlarge", "m5", "4xlarge", 16, 65536, 0.768},
        {"m5.xlarge", "m5", "xlarge", 4, 16384, 0.192},
    };
    enum { N = 3 };
    static hoist_offering offs[N];
    static hoist_instance_type types[N];
    for (int i = 0; i < N; i++) {
        offs[i] = (hoist_offering){.struct_size = sizeof offs[i], .zone = "us-east-1a",
                                   .capacity_type = HOIST_CAPACITY_ON_DEMAND,
                                   .price = spec[i].od, .available = true};
        types[i] = (hoist_instance_type){
            .struct_size = sizeof types[i], .name = spec[i].name, .family = spec[i].family,
            .size = spec[i].size, .category = spec[i].name[0] == 'c' ? "c" : "m",
            .generation = 5, .architecture = "amd64", .cpu_manufacturer = "intel",
            .hypervisor = "nitro", .current_generation = true, .vcpus = spec[i].vcpus,
            .memory_mib = spec[i].mem, .gpu = {0, "", "", 0}, .max_pods = 58,
            .offerings = &offs[i], .n_offerings = 1};
    }
    hoist_err err = {{0}};
    if (hoist_catalog_copy(c, types, N, &err) < 0)
        fail_msg("%s", err.msg);
}

#define NODE(name, labels, cpu, mem)                                                         \
    "---\napiVersion: v1\nkind: Node\nmetadata:\n  name: " name "\n  labels: {" labels "}\n" \
    "status:\n  allocatable: {cpu: '" cpu "', memory: " mem ", pods: '110'}\n"             \
    "  conditions: [{type: Ready, status: 'True'}]\n"
#define POD(name, extra_meta, spec_extra, cpu, mem, status)                                  \
    "---\napiVersion: v1\nkind: Pod\nmetadata: {name: " name ", namespace: default" extra_meta \
    "}\nspec:\n" spec_extra "  containers: [{name: c, image: x, resources: {requests: {cpu: '" \
    cpu "', memory: " mem "}}}]\n" status

/* NodePool a: nodes a1 (hoist.dev/nodepool) and a2 (karpenter.sh/nodepool,
 * the alias); NodePool b: node b1; node n0 belongs to none. Bound pods on
 * each; a terminating and a Succeeded pod on a1/a2 hold nothing. */
static const char SNAPSHOT[] =
    "apiVersion: hoist.dev/v1\nkind: NodePool\nmetadata: {name: a}\n"
    "spec: {weight: 50, template: {spec: {requirements: []}}}\n"
    "---\napiVersion: hoist.dev/v1\nkind: NodePool\nmetadata: {name: b}\n"
    "spec:\n  weight: 10\n  template:\n    spec:\n      requirements: []\n"
    "      taints: [{key: dedicated, value: b, effect: NoSchedule}]\n"
    NODE("a1", "hoist.dev/nodepool: a", "4", "16Gi")
    NODE("a2", "karpenter.sh/nodepool: a", "8", "32Gi")
    NODE("b1", "hoist.dev/nodepool: b", "2", "8Gi")
    NODE("n0", "team: none", "16", "64Gi")
    POD("p1", "", "  nodeName: a1\n", "1", "2Gi", "status: {phase: Running}\n")
    POD("p2", "", "  nodeName: a2\n", "500m", "1Gi", "")
    POD("p3", ", deletionTimestamp: '2024-01-01T00:00:00Z'", "  nodeName: a1\n", "2", "4Gi",
        "status: {phase: Running}\n")
    POD("p4", "", "  nodeName: a2\n", "3", "3Gi", "status: {phase: Succeeded}\n")
    POD("p5", "", "  nodeName: b1\n", "1", "1Gi", "status: {phase: Running}\n")
    POD("p6", "", "  nodeName: n0\n", "7", "7Gi", "status: {phase: Running}\n");

/* Pending pods for the plan tests: small goes onto a1/a2, big needs a claim. */
static const char PENDING[] =
    POD("small", "", "  nodeSelector: {hoist.dev/nodepool: a}\n", "250m", "256Mi", "")
    POD("big", "", "  nodeSelector: {hoist.dev/nodepool: a}\n", "15", "8Gi", "");

typedef struct fixture {
    hoist_objects objs;
    hoist_catalog cat;
    hoist_arena arena;
} fixture;

static void load(hoist_objects *o, const char *name, const char *text)
{
    hoist_err err = {{0}};
    if (hoist_objects_load_buffer(o, name, text, strlen(text), &err) < 0)
        fail_msg("%s", err.msg);
}

static int setup(void **state)
{
    static fixture f;
    memset(&f, 0, sizeof f);
    hoist_objects_init(&f.objs);
    hoist_catalog_init(&f.cat);
    hoist_arena_init(&f.arena, 0);
    load(&f.objs, "snapshot.yaml", SNAPSHOT);
    build_catalog(&f.cat);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    hoist_arena_free(&f->arena);
    hoist_catalog_free(&f->cat);
    hoist_objects_free(&f->objs);
    return 0;
}

static const hoist_nodepool *pool_named(fixture *f, const char *name)
{
    const hoist_nodepool *np = hoist_objects_find_nodepool(&f->objs, name);
    assert_non_null(np);
    return np;
}

static void usage_of(fixture *f, const char *np, const hoist_plan *plan,
                     const hoist_pool_types *pool, hoist_headroom_usage *u)
{
    hoist_err err = {{0}};
    if (hoist_headroom_usage_compute(&f->objs, pool_named(f, np), plan, pool, u, &err) < 0)
        fail_msg("%s", err.msg);
}

static void types_of(fixture *f, const char *np, hoist_pool_types *pool)
{
    hoist_err err = {{0}};
    if (hoist_nodepool_types(&f->arena, &f->cat, &f->objs, pool_named(f, np), pool, &err) < 0)
        fail_msg("%s", err.msg);
    assert_true(pool->n > 0);
}

static const hoist_pool_type *pool_type(const hoist_pool_types *pool, const char *name)
{
    for (size_t i = 0; i < pool->n; i++)
        if (!strcmp(pool->items[i].type->name, name))
            return &pool->items[i];
    fail_msg("type %s not in the pool", name);
    return NULL;
}

/* ---- usage ------------------------------------------------------------------- */

static void test_usage_nodes_and_bound_pods(void **state)
{
    fixture *f = *state;
    hoist_headroom_usage u;
    usage_of(f, "a", NULL, NULL, &u);
    assert_int_equal(u.n_nodes, 2); /* a1 and a2 (by its karpenter.sh alias), not n0 */
    assert_int_equal(u.allocatable.v[HOIST_RES_CPU], HOIST_MILLI(12));
    assert_int_equal(u.allocatable.v[HOIST_RES_MEMORY], 48 * MILLI_GI);
    assert_int_equal(u.allocatable.v[HOIST_RES_PODS], HOIST_MILLI(220));
    /* p1 + p2; terminating p3 and Succeeded p4 hold nothing; p6 is on n0 */
    assert_int_equal(u.requested.v[HOIST_RES_CPU], 1500);
    assert_int_equal(u.requested.v[HOIST_RES_MEMORY], 3 * MILLI_GI);
    assert_int_equal(u.requested.v[HOIST_RES_PODS], HOIST_MILLI(2));

    usage_of(f, "b", NULL, NULL, &u);
    assert_int_equal(u.n_nodes, 1);
    assert_int_equal(u.allocatable.v[HOIST_RES_CPU], HOIST_MILLI(2));
    assert_int_equal(u.requested.v[HOIST_RES_CPU], HOIST_MILLI(1));
    assert_int_equal(u.requested.v[HOIST_RES_MEMORY], 1 * MILLI_GI);
}

static void test_usage_empty_pool(void **state)
{
    fixture *f = *state;
    load(&f->objs, "c.yaml",
         "apiVersion: hoist.dev/v1\nkind: NodePool\nmetadata: {name: c}\n"
         "spec: {template: {spec: {requirements: []}}}\n");
    hoist_headroom_usage u;
    memset(&u, 0x5a, sizeof u);
    usage_of(f, "c", NULL, NULL, &u);
    assert_int_equal(u.n_nodes, 0);
    assert_true(hoist_resources_is_zero(&u.allocatable));
    assert_true(hoist_resources_is_zero(&u.requested));
}

/* After a plan: the pending pod placed on a1/a2 and the claim (its type's
 * allocatable and its pods) are added to NodePool a, nothing to b. */
static void test_usage_after_plan(void **state)
{
    fixture *f = *state;
    hoist_headroom_usage before, after, b_after;
    usage_of(f, "a", NULL, NULL, &before);
    load(&f->objs, "pending.yaml", PENDING);
    hoist_plan plan;
    hoist_err err = {{0}};
    if (hoist_plan_compute(&f->objs, &f->cat, NULL, &plan, &err) < 0)
        fail_msg("%s", err.msg);
    assert_int_equal(plan.n_unschedulable, 0);
    assert_int_equal(plan.n_existing, 1);
    assert_int_equal(plan.n_claims, 1);
    const hoist_plan_claim *c = &plan.claims[0];
    assert_string_equal(c->nodepool->name, "a");
    assert_string_equal(c->chosen.type->name, "m5.4xlarge");
    hoist_pool_types pool;
    types_of(f, "a", &pool);
    usage_of(f, "a", &plan, &pool, &after);
    const hoist_pool_type *pt = pool_type(&pool, "m5.4xlarge");
    assert_int_equal(after.n_nodes, 3);
    for (int i = 0; i < HOIST_RES_MAX; i++)
        assert_int_equal(after.allocatable.v[i], before.allocatable.v[i] + pt->allocatable.v[i]);
    /* + small on an existing node + big on the claim */
    assert_int_equal(after.requested.v[HOIST_RES_CPU], 1500 + 250 + 15000);
    assert_int_equal(after.requested.v[HOIST_RES_MEMORY], 3 * MILLI_GI + MILLI_GI / 4 + 8 * MILLI_GI);
    assert_int_equal(after.requested.v[HOIST_RES_PODS], HOIST_MILLI(4));
    /* NodePool b got nothing from this plan (and needs no pool: no claim of b) */
    usage_of(f, "b", &plan, NULL, &b_after);
    assert_int_equal(b_after.n_nodes, 1);
    assert_int_equal(b_after.requested.v[HOIST_RES_CPU], HOIST_MILLI(1));
    /* a claim's type must be in the pool: not given, or not there, is an error */
    hoist_headroom_usage u;
    assert_int_equal(hoist_headroom_usage_compute(&f->objs, pool_named(f, "a"), &plan, NULL, &u, &err),
                     -1);
    assert_non_null(strstr(err.msg, "NodePool a: claim 0's type m5.4xlarge is not among"));
    hoist_pool_types small = {1, (hoist_pool_type *)pool_type(&pool, "c5.large")};
    assert_int_equal(
        hoist_headroom_usage_compute(&f->objs, pool_named(f, "a"), &plan, &small, &u, &err), -1);
    assert_non_null(strstr(err.msg, "m5.4xlarge"));
    hoist_plan_free(&plan);
}

/* ---- deficit ----------------------------------------------------------------- */

static void test_deficit(void **state)
{
    (void)state;
    hoist_headroom_usage u;
    memset(&u, 0, sizeof u);
    u.allocatable.v[HOIST_RES_CPU] = HOIST_MILLI(10);
    u.allocatable.v[HOIST_RES_MEMORY] = 40 * MILLI_GI;
    u.requested.v[HOIST_RES_CPU] = HOIST_MILLI(7);   /* spare 3 */
    u.requested.v[HOIST_RES_MEMORY] = 30 * MILLI_GI; /* spare 10Gi */
    u.requested.v[HOIST_RES_PODS] = HOIST_MILLI(5);  /* more than allocatable: not wanted */
    hoist_resources want, d;

    /* none wanted */
    memset(&want, 0, sizeof want);
    memset(&d, 0x5a, sizeof d);
    assert_false(hoist_headroom_deficit(&u, &want, &d));
    assert_true(hoist_resources_is_zero(&d));
    /* wanted and there */
    want.v[HOIST_RES_CPU] = HOIST_MILLI(3);
    want.v[HOIST_RES_MEMORY] = 10 * MILLI_GI;
    assert_false(hoist_headroom_deficit(&u, &want, &d));
    assert_true(hoist_resources_is_zero(&d));
    /* cpu only */
    want.v[HOIST_RES_CPU] = 4500;
    assert_true(hoist_headroom_deficit(&u, &want, &d));
    assert_int_equal(d.v[HOIST_RES_CPU], 1500);
    assert_int_equal(d.v[HOIST_RES_MEMORY], 0);
    assert_int_equal(d.v[HOIST_RES_PODS], 0);
    /* both */
    want.v[HOIST_RES_MEMORY] = 12 * MILLI_GI;
    assert_true(hoist_headroom_deficit(&u, &want, &d));
    assert_int_equal(d.v[HOIST_RES_CPU], 1500);
    assert_int_equal(d.v[HOIST_RES_MEMORY], 2 * MILLI_GI);
    /* overcommitted: the deficit also covers what is missing already */
    u.requested.v[HOIST_RES_CPU] = HOIST_MILLI(12);
    assert_true(hoist_headroom_deficit(&u, &want, &d));
    assert_int_equal(d.v[HOIST_RES_CPU], 4500 + 2000);
    /* extreme values saturate instead of overflowing */
    u.requested.v[HOIST_RES_CPU] = INT64_MAX;
    u.allocatable.v[HOIST_RES_CPU] = INT64_MIN + 1;
    assert_true(hoist_headroom_deficit(&u, &want, &d));
    assert_int_equal(d.v[HOIST_RES_CPU], INT64_MAX);
}

/* ---- placeholders ------------------------------------------------------------ */

/* A hand-made pool: "a" (4 cpu, 16Gi), "b" (16 cpu, 32Gi), "c" (2 cpu, 128Gi). */
typedef struct hand_pool {
    hoist_instance_type types[3];
    hoist_pool_type items[3];
    hoist_pool_types pool;
} hand_pool;

static void build_hand_pool(hand_pool *h)
{
    static const char *names[] = {"a", "b", "c"};
    static const hoist_milli cpu[] = {4000, 16000, 2000};
    static const hoist_milli mem[] = {16 * MILLI_GI, 32 * MILLI_GI, 128 * MILLI_GI};
    memset(h, 0, sizeof *h);
    for (int i = 0; i < 3; i++) {
        h->types[i].struct_size = sizeof h->types[i];
        h->types[i].name = names[i];
        h->items[i].type = &h->types[i];
        h->items[i].allocatable.v[HOIST_RES_CPU] = cpu[i];
        h->items[i].allocatable.v[HOIST_RES_MEMORY] = mem[i];
        h->items[i].allocatable.v[HOIST_RES_PODS] = HOIST_MILLI(110);
    }
    h->pool.n = 3;
    h->pool.items = h->items;
}

static void make(fixture *f, const hoist_nodepool *np, const hoist_pool_types *pool,
                 const hoist_resources *deficit, hoist_pod ***out, size_t *n)
{
    hoist_err err = {{0}};
    if (hoist_headroom_placeholders(&f->arena, &f->objs.names, np, pool, deficit, out, n, &err) < 0)
        fail_msg("%s", err.msg);
}

/* Every placeholder is complete: the planner's view of a pod. */
static void check_placeholder(const hoist_pod *p, const char *np, size_t i)
{
    char name[64];
    snprintf(name, sizeof name, "headroom-%s-%zu", np, i);
    assert_true(p->placeholder);
    assert_string_equal(p->name, name);
    assert_string_equal(p->ns, "hoist-system");
    assert_string_equal(p->phase, "");
    assert_string_equal(p->scheduler_name, "default-scheduler");
    assert_null(p->node_name);
    assert_false(p->terminating);
    assert_false(p->daemonset_owned);
    assert_int_equal(p->labels.n, 0);
    assert_int_equal(p->node_affinity.n, 0);
    assert_int_equal(p->pod_anti_affinity.n, 0);
    assert_int_equal(p->n_spread, 0);
    assert_int_equal(p->claims.n, 0);
    assert_int_equal(p->node_selector.n, 1);
    assert_string_equal(hoist_labels_get(&p->node_selector, "hoist.dev/nodepool"), np);
    assert_string_equal(hoist_labels_get(&p->node_selector, "karpenter.sh/nodepool"), np);
    assert_int_equal(p->tolerations.n, 1);
    const hoist_toleration *t = &p->tolerations.items[0];
    assert_string_equal(t->key, "");
    assert_int_equal(t->op, HOIST_TOLERATE_EXISTS);
    assert_int_equal(t->effect, -1);
    /* tolerates any taint */
    hoist_taint x = {.key = "dedicated", .value = "gpu", .effect = HOIST_TAINT_NO_EXECUTE};
    assert_true(hoist_toleration_tolerates(t, &x));
    x.effect = HOIST_TAINT_NO_SCHEDULE;
    x.key = "hoist.dev/unregistered";
    assert_true(hoist_toleration_tolerates(t, &x));
    assert_int_equal(p->requests.v[HOIST_RES_PODS], HOIST_MILLI(1));
}

static void test_placeholders_split(void **state)
{
    fixture *f = *state;
    hand_pool h;
    build_hand_pool(&h);
    const hoist_nodepool *np = pool_named(f, "a");
    hoist_resources d;
    memset(&d, 0, sizeof d);
    d.v[HOIST_RES_CPU] = 20000;                /* 20 cpu */
    d.v[HOIST_RES_MEMORY] = 10 * MILLI_GI;     /* 10Gi */
    hoist_pod **pods;
    size_t n;
    make(f, np, &h.pool, &d, &pods, &n);
    /* "b" needs ceil(20 / 8) = 3 pieces, "a" ceil(20 / 2) = 10, "c" 20: 3 */
    assert_int_equal(n, 3);
    hoist_milli cpu[] = {6667, 6667, 6666};
    hoist_milli mem[] = {3579139414000LL, 3579139413000LL, 3579139413000LL};
    hoist_resources sum;
    memset(&sum, 0, sizeof sum);
    for (size_t i = 0; i < n; i++) {
        check_placeholder(pods[i], "a", i);
        assert_int_equal(pods[i]->requests.v[HOIST_RES_CPU], cpu[i]);
        assert_int_equal(pods[i]->requests.v[HOIST_RES_MEMORY], mem[i]);
        /* each fits half of "b" */
        assert_true(pods[i]->requests.v[HOIST_RES_CPU] <= 8000);
        assert_true(pods[i]->requests.v[HOIST_RES_MEMORY] <= 16 * MILLI_GI);
        hoist_resources_add(&sum, &pods[i]->requests);
    }
    assert_int_equal(sum.v[HOIST_RES_CPU], d.v[HOIST_RES_CPU]);
    assert_int_equal(sum.v[HOIST_RES_MEMORY], d.v[HOIST_RES_MEMORY]);
    assert_int_equal(sum.v[HOIST_RES_PODS], HOIST_MILLI(3));
    /* the pods share the selector and toleration but are distinct structs */
    assert_ptr_not_equal(pods[0], pods[1]);

    /* memory only: the memory-rich "c" needs 2 pieces of 50Gi (cpu 0) */
    memset(&d, 0, sizeof d);
    d.v[HOIST_RES_MEMORY] = 100 * MILLI_GI;
    make(f, np, &h.pool, &d, &pods, &n);
    assert_int_equal(n, 2);
    for (size_t i = 0; i < n; i++) {
        check_placeholder(pods[i], "a", i);
        assert_int_equal(pods[i]->requests.v[HOIST_RES_MEMORY], 50 * MILLI_GI);
        assert_int_equal(pods[i]->requests.v[HOIST_RES_CPU], 0);
    }

    /* small cpu only: one pod with all of it */
    memset(&d, 0, sizeof d);
    d.v[HOIST_RES_CPU] = 1500;
    make(f, np, &h.pool, &d, &pods, &n);
    assert_int_equal(n, 1);
    check_placeholder(pods[0], "a", 0);
    assert_int_equal(pods[0]->requests.v[HOIST_RES_CPU], 1500);
    assert_int_equal(pods[0]->requests.v[HOIST_RES_MEMORY], 0);
}

static void test_placeholders_rounding_and_limits(void **state)
{
    fixture *f = *state;
    hand_pool h;
    build_hand_pool(&h);
    const hoist_nodepool *np = pool_named(f, "b");
    hoist_resources d;
    hoist_pod **pods;
    size_t n;

    /* memory rounds up to whole bytes */
    memset(&d, 0, sizeof d);
    d.v[HOIST_RES_MEMORY] = 1500;
    make(f, np, &h.pool, &d, &pods, &n);
    assert_int_equal(n, 1);
    assert_int_equal(pods[0]->requests.v[HOIST_RES_MEMORY], 2000);
    check_placeholder(pods[0], "b", 0);

    /* a pods deficit asks for that many placeholders */
    memset(&d, 0, sizeof d);
    d.v[HOIST_RES_CPU] = 1000;
    d.v[HOIST_RES_PODS] = HOIST_MILLI(5);
    make(f, np, &h.pool, &d, &pods, &n);
    assert_int_equal(n, 5);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(pods[i]->requests.v[HOIST_RES_CPU], 200);

    /* huge: capped at HOIST_HEADROOM_MAX_PLACEHOLDERS, sum still exact */
    memset(&d, 0, sizeof d);
    d.v[HOIST_RES_CPU] = HOIST_MILLI(1000000) + 7;
    make(f, np, &h.pool, &d, &pods, &n);
    assert_int_equal(n, HOIST_HEADROOM_MAX_PLACEHOLDERS);
    hoist_milli sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += pods[i]->requests.v[HOIST_RES_CPU];
    assert_int_equal(sum, d.v[HOIST_RES_CPU]);
    check_placeholder(pods[63], "b", 63);

    /* nothing to cover: none, and no pool is needed */
    memset(&d, 0, sizeof d);
    pods = (hoist_pod **)&h;
    make(f, np, NULL, &d, &pods, &n);
    assert_int_equal(n, 0);
    assert_null(pods);
}

static void test_placeholders_errors(void **state)
{
    fixture *f = *state;
    hand_pool h;
    build_hand_pool(&h);
    const hoist_nodepool *np = pool_named(f, "a");
    hoist_resources d;
    memset(&d, 0, sizeof d);
    d.v[HOIST_RES_CPU] = 1000;
    hoist_pod **pods;
    size_t n;
    hoist_err err = {{0}};
    hoist_pool_types empty = {0, NULL};
    assert_int_equal(
        hoist_headroom_placeholders(&f->arena, &f->objs.names, np, &empty, &d, &pods, &n, &err), -1);
    assert_non_null(strstr(err.msg, "NodePool a: no instance type"));
    assert_int_equal(
        hoist_headroom_placeholders(&f->arena, &f->objs.names, np, NULL, &d, &pods, &n, &err), -1);
    /* a resource no type has */
    int gpu = hoist_resource_names_intern(&f->objs.names, "nvidia.com/gpu", &err);
    assert_true(gpu >= HOIST_RES_N_STANDARD);
    d.v[gpu] = HOIST_MILLI(1);
    assert_int_equal(
        hoist_headroom_placeholders(&f->arena, &f->objs.names, np, &h.pool, &d, &pods, &n, &err),
        -1);
    assert_non_null(strstr(err.msg, "no instance type has enough nvidia.com/gpu"));
    /* with one type that has GPUs the split counts them in whole units */
    h.items[1].allocatable.v[gpu] = HOIST_MILLI(8);
    d.v[gpu] = HOIST_MILLI(3);
    d.v[HOIST_RES_CPU] = 0;
    if (hoist_headroom_placeholders(&f->arena, &f->objs.names, np, &h.pool, &d, &pods, &n, &err) < 0)
        fail_msg("%s", err.msg);
    assert_int_equal(n, 1);
    assert_int_equal(pods[0]->requests.v[gpu], HOIST_MILLI(3));
}

/* The whole loop as the pack stage runs it: measure after plan 1, cover the
 * deficit with placeholders, plan again; the placeholders buy new capacity
 * of NodePool a, their requests do not count as requested, and the spare
 * then meets the want. */
static void test_placeholders_through_the_planner(void **state)
{
    fixture *f = *state;
    load(&f->objs, "pending.yaml", PENDING);
    hoist_err err = {{0}};
    hoist_plan first, second;
    if (hoist_plan_compute(&f->objs, &f->cat, NULL, &first, &err) < 0)
        fail_msg("%s", err.msg);
    hoist_pool_types pool;
    types_of(f, "a", &pool);
    hoist_headroom_usage u1, u2;
    usage_of(f, "a", &first, &pool, &u1);
    hoist_resources want, d;
    memset(&want, 0, sizeof want);
    want.v[HOIST_RES_CPU] = u1.allocatable.v[HOIST_RES_CPU] - u1.requested.v[HOIST_RES_CPU] +
                            HOIST_MILLI(6);
    want.v[HOIST_RES_MEMORY] = 4 * MILLI_GI; /* already spare */
    assert_true(hoist_headroom_deficit(&u1, &want, &d));
    assert_int_equal(d.v[HOIST_RES_CPU], HOIST_MILLI(6));
    assert_int_equal(d.v[HOIST_RES_MEMORY], 0);
    hoist_pod **holders;
    size_t n;
    make(f, pool_named(f, "a"), &pool, &d, &holders, &n);
    assert_int_equal(n, 1); /* 6 cpu fits half an m5.4xlarge */
    hoist_plan_options opts = {0};
    opts.n_placeholders = n;
    opts.placeholders = (const hoist_pod *const *)holders;
    if (hoist_plan_compute(&f->objs, &f->cat, &opts, &second, &err) < 0)
        fail_msg("%s", err.msg);
    assert_int_equal(second.n_placeholders_unplaced, 0);
    assert_int_equal(second.n_claims, 2);
    size_t holding = 0;
    for (size_t i = 0; i < second.n_claims; i++) {
        assert_string_equal(second.claims[i].nodepool->name, "a");
        for (size_t k = 0; k < second.claims[i].n_pods; k++)
            holding += second.claims[i].pods[k]->placeholder;
    }
    assert_int_equal(holding, 1);
    usage_of(f, "a", &second, &pool, &u2);
    assert_int_equal(u2.n_nodes, u1.n_nodes + 1);
    /* placeholders are not requested: the real pods' requests are unchanged */
    for (int i = 0; i < HOIST_RES_MAX; i++)
        assert_int_equal(u2.requested.v[i], u1.requested.v[i]);
    assert_true(u2.allocatable.v[HOIST_RES_CPU] >= u1.allocatable.v[HOIST_RES_CPU] + HOIST_MILLI(6));
    assert_false(hoist_headroom_deficit(&u2, &want, &d));
    hoist_plan_free(&second);
    hoist_plan_free(&first);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_usage_nodes_and_bound_pods, setup, teardown),
        cmocka_unit_test_setup_teardown(test_usage_empty_pool, setup, teardown),
        cmocka_unit_test_setup_teardown(test_usage_after_plan, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deficit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_placeholders_split, setup, teardown),
        cmocka_unit_test_setup_teardown(test_placeholders_rounding_and_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_placeholders_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_placeholders_through_the_planner, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
