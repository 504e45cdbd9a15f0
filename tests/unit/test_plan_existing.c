/*
 * tests/unit/test_plan_existing.c - the planner's existing_only pass (the
 * simulator's scheduler) leaves out, before placement, the pending pods
 * that fit no node by resources. That shortcut must change nothing: every
 * pod it leaves out is one the full placement would not place either.
 *
 * Checked two ways: hand-made cases (cordoned nodes, nodes not Ready, a
 * node without a Ready condition, memory and extended resources, two pods
 * of one shape competing for one room), and random clusters where the
 * existing_only plan must bind exactly the pods, to exactly the nodes, that
 * the ordinary pass (no NodePool, so it can only use existing nodes) binds.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/catalog.h"
#include "model/objects.h"
#include "sched/plan.h"
#include "util/strbuf.h"

static void load(hoist_objects *o, const char *yaml)
{
    hoist_err err = {{0}};
    if (hoist_objects_load_buffer(o, "test.yaml", yaml, strlen(yaml), &err) < 0)
        fail_msg("%s", err.msg);
}

/* A node; ready: "True", "False" or NULL (no Ready condition). */
static void add_node(hoist_strbuf *b, const char *name, const char *zone, const char *cpu,
                     const char *mem, const char *gpu, const char *ready, bool cordoned)
{
    char buf[1024];
    snprintf(buf, sizeof buf,
             "---\napiVersion: v1\nkind: Node\nmetadata:\n  name: %s\n"
             "  labels: {topology.kubernetes.io/zone: %s, kubernetes.io/hostname: %s}\n"
             "spec: {unschedulable: %s}\n"
             "status:\n  allocatable: {cpu: '%s', memory: %s, pods: '110'%s%s%s}\n",
             name, zone, name, cordoned ? "true" : "false", cpu, mem,
             gpu ? ", nvidia.com/gpu: '" : "", gpu ? gpu : "", gpu ? "'" : "");
    hoist_strbuf_str(b, buf);
    if (ready) {
        snprintf(buf, sizeof buf, "  conditions: [{type: Ready, status: '%s'}]\n", ready);
        hoist_strbuf_str(b, buf);
    }
}

/* A pod, pending when node is NULL; spread over zones (DoNotSchedule) when
 * app is given. */
static void add_pod(hoist_strbuf *b, const char *name, const char *node, const char *cpu,
                    const char *mem, const char *gpu, const char *app)
{
    char buf[1400];
    snprintf(buf, sizeof buf,
             "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: %s\n  namespace: default\n"
             "  labels: {app: %s}\n"
             "spec:\n%s%s%s"
             "  containers: [{name: c, image: x, resources: {requests: {cpu: '%s', memory: %s"
             "%s%s%s}}}]\n",
             name, app ? app : "none", node ? "  nodeName: " : "", node ? node : "",
             node ? "\n" : "", cpu, mem, gpu ? ", nvidia.com/gpu: '" : "", gpu ? gpu : "",
             gpu ? "'" : "");
    hoist_strbuf_str(b, buf);
    if (app) {
        snprintf(buf, sizeof buf,
                 "  topologySpreadConstraints:\n"
                 "  - {maxSkew: 1, topologyKey: topology.kubernetes.io/zone,\n"
                 "     whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {app: %s}}}\n",
                 app);
        hoist_strbuf_str(b, buf);
    }
    if (node)
        hoist_strbuf_str(b, "status: {phase: Running}\n");
}

/* Pod name -> the node the plan puts it on, or NULL. */
static const char *placed_on(const hoist_plan *p, const char *pod)
{
    for (size_t i = 0; i < p->n_existing; i++)
        for (size_t j = 0; j < p->existing[i].n_pods; j++)
            if (strcmp(p->existing[i].pods[j]->name, pod) == 0)
                return p->existing[i].node->name;
    return NULL;
}

static const char *reason_for(const hoist_plan *p, const char *pod)
{
    for (size_t i = 0; i < p->n_unschedulable; i++)
        if (strcmp(p->unschedulable[i].pod->name, pod) == 0)
            return p->unschedulable[i].reason;
    return NULL;
}

static void compute(hoist_objects *o, hoist_catalog *c, bool existing_only, hoist_plan *plan)
{
    hoist_plan_options opts;
    memset(&opts, 0, sizeof opts);
    opts.existing_only = existing_only;
    hoist_err err = {{0}};
    if (hoist_plan_compute(o, c, &opts, plan, &err) < 0)
        fail_msg("%s", err.msg);
}

static void test_left_out_only_when_nothing_fits(void **state)
{
    (void)state;
    hoist_strbuf b = {0};
    add_node(&b, "small", "a", "2", "8Gi", NULL, "True", false);
    add_node(&b, "cordoned", "a", "16", "64Gi", NULL, "True", true);
    add_node(&b, "booting", "b", "16", "64Gi", NULL, "False", false);
    add_node(&b, "nocond", "b", "4", "2Gi", NULL, NULL, false);
    add_node(&b, "gpu", "c", "4", "16Gi", "1", "True", false);
    add_pod(&b, "runs", "small", "500m", "1Gi", NULL, NULL); /* small: 1.5 CPU, 7Gi left */
    add_pod(&b, "p-3cpu", NULL, "3", "1Gi", NULL, NULL);      /* gpu or nocond */
    add_pod(&b, "p-12cpu", NULL, "12", "1Gi", NULL, NULL);    /* only cordoned/booting */
    add_pod(&b, "p-mem", NULL, "100m", "20Gi", NULL, NULL);   /* memory: nowhere */
    add_pod(&b, "p-gpu", NULL, "1", "1Gi", "1", NULL);        /* the gpu node */
    add_pod(&b, "p-gpu2", NULL, "1", "1Gi", "2", NULL);       /* 2 GPUs: nowhere */
    add_pod(&b, "twin-1", NULL, "1500m", "6Gi", NULL, NULL);  /* one shape, one room */
    add_pod(&b, "twin-2", NULL, "1500m", "6Gi", NULL, NULL);
    hoist_objects o;
    hoist_objects_init(&o);
    load(&o, hoist_strbuf_cstr(&b));
    hoist_catalog cat;
    hoist_catalog_init(&cat);
    hoist_plan plan;
    compute(&o, &cat, true, &plan);
    assert_null(placed_on(&plan, "p-12cpu"));
    assert_string_equal(reason_for(&plan, "p-12cpu"), "no Ready node fits");
    assert_null(placed_on(&plan, "p-mem"));
    assert_string_equal(reason_for(&plan, "p-mem"), "no Ready node fits");
    assert_null(placed_on(&plan, "p-gpu2"));
    assert_string_equal(reason_for(&plan, "p-gpu2"), "no Ready node fits");
    assert_string_equal(placed_on(&plan, "p-gpu"), "gpu");
    const char *p3 = placed_on(&plan, "p-3cpu");
    assert_non_null(p3);
    assert_true(strcmp(p3, "gpu") == 0 || strcmp(p3, "nocond") == 0);
    /* both twins fit the small node's room alone; only one can have it, the
     * other may still go where there is room (nocond has 2Gi: too little) */
    const char *t1 = placed_on(&plan, "twin-1"), *t2 = placed_on(&plan, "twin-2");
    assert_true((t1 != NULL) + (t2 != NULL) >= 1);
    if (t1 && t2)
        assert_true(strcmp(t1, t2) != 0);
    assert_int_equal(plan.n_claims, 0);
    size_t placed = 0;
    for (size_t i = 0; i < plan.n_existing; i++)
        placed += plan.existing[i].n_pods;
    assert_int_equal(placed + plan.n_unschedulable, 7);
    hoist_plan_free(&plan);
    hoist_catalog_free(&cat);
    hoist_objects_free(&o);
    hoist_strbuf_free(&b);
}

static uint64_t rnd(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Random clusters of Ready (or condition-less) nodes, some cordoned, with
 * running and pending pods, some of them spread over zones: the
 * existing_only pass binds exactly what the ordinary pass without NodePools
 * places. */
static void test_same_as_full_placement(void **state)
{
    (void)state;
    static const char *const cpus[] = {"250m", "500m", "1", "2", "3", "6", "12"};
    static const char *const mems[] = {"512Mi", "1Gi", "2Gi", "4Gi", "12Gi"};
    static const char *const zones[] = {"a", "b", "c"};
    static const char *const apps[] = {"web", "api", NULL, NULL};
    uint64_t seed = 42;
    hoist_catalog cat;
    hoist_catalog_init(&cat);
    size_t left_out_total = 0, placed_total = 0;
    for (int round = 0; round < 60; round++) {
        hoist_strbuf b = {0};
        int n_nodes = 1 + (int)(rnd(&seed) % 12);
        for (int i = 0; i < n_nodes; i++) {
            char name[32], cpu[16], mem[16];
            snprintf(name, sizeof name, "n%02d", i);
            snprintf(cpu, sizeof cpu, "%d", 2 << (rnd(&seed) % 3));
            snprintf(mem, sizeof mem, "%dGi", 4 << (rnd(&seed) % 3));
            add_node(&b, name, zones[rnd(&seed) % 3], cpu, mem,
                     rnd(&seed) % 5 == 0 ? "1" : NULL, rnd(&seed) % 4 ? "True" : NULL,
                     rnd(&seed) % 6 == 0);
        }
        int n_pods = (int)(rnd(&seed) % 40);
        for (int i = 0; i < n_pods; i++) {
            char name[32], node[32];
            snprintf(name, sizeof name, "p%02d", i);
            bool running = rnd(&seed) % 3 == 0;
            snprintf(node, sizeof node, "n%02d", (int)(rnd(&seed) % (uint64_t)n_nodes));
            add_pod(&b, name, running ? node : NULL, cpus[rnd(&seed) % 7], mems[rnd(&seed) % 5],
                    rnd(&seed) % 8 == 0 ? "1" : NULL, apps[rnd(&seed) % 4]);
        }
        hoist_objects o;
        hoist_objects_init(&o);
        load(&o, hoist_strbuf_cstr(&b));
        hoist_plan eo, full;
        compute(&o, &cat, true, &eo);
        compute(&o, &cat, false, &full);
        assert_int_equal(eo.n_claims, 0);
        assert_int_equal(full.n_claims, 0);
        for (size_t i = 0; i < o.n_pods; i++) {
            const hoist_pod *p = o.pods[i];
            if (p->node_name)
                continue;
            const char *a = placed_on(&eo, p->name), *f = placed_on(&full, p->name);
            if ((a == NULL) != (f == NULL) || (a && strcmp(a, f) != 0))
                fail_msg("round %d: %s: existing_only put it on %s, the full pass on %s", round,
                         p->name, a ? a : "(none)", f ? f : "(none)");
            if (a)
                placed_total++;
            else
                assert_string_equal(reason_for(&eo, p->name), "no Ready node fits");
        }
        assert_int_equal(eo.n_unschedulable, full.n_unschedulable);
        left_out_total += eo.n_unschedulable;
        hoist_plan_free(&eo);
        hoist_plan_free(&full);
        hoist_objects_free(&o);
        hoist_strbuf_free(&b);
    }
    /* the rounds exercised both outcomes */
    assert_true(left_out_total > 20);
    assert_true(placed_total > 20);
    hoist_catalog_free(&cat);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_left_out_only_when_nothing_fits),
        cmocka_unit_test(test_same_as_full_placement),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
