/*
 * tests/unit/test_plan_quality.c - the plan is cheap (issue 3, point 2):
 * on a mixed workload over the real bundled us-east-1 catalog, restricted to
 * current-generation amd64 c/m/r types bought on demand, hoist's plan
 *   - schedules every pod,
 *   - costs strictly less than the best plan that uses a single instance type
 *     (what a Cluster Autoscaler node group gives): per type the NodePool can
 *     launch, first-fit decreasing onto its allocatable at its cheapest
 *     offering; and hoist_plan_compute with the NodePool restricted to that
 *     type by a node.kubernetes.io/instance-type In [t] requirement, for the
 *     types whose node-count floor could still beat the best so far, kept when
 *     every pod is scheduled; the cheapest of all (so a planner weakness on
 *     one-type NodePools cannot make the baseline look worse than it is),
 *   - and costs at least its own lower bound.
 * The workload: 300 pods with the sizes of Karpenter's benchmark (cpu from
 * {100,250,500,1000,1500}m, memory from {100,256,512,1024,2048,4096}Mi,
 * seed 42), 10 memory-heavy pods (1 cpu, 48Gi) and 10 cpu-heavy pods
 * (14 cpu, 4Gi).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../../plugins/mock/mock_catalog.h"
#include "model/catalog.h"
#include "model/objects.h"
#include "sched/plan.h"
#include "workloads.h"

#define GENERIC_PODS 300
#define HEAVY_PODS 10

static const char *srcdir(void)
{
    const char *v = getenv("HOIST_SRCDIR");
    return v && *v ? v : HOIST_BENCH_SRCDIR;
}

/* True for a current-generation amd64 type of category c, m or r. */
static bool wanted_type(const hoist_instance_type *t)
{
    return t->current_generation && strcmp(t->architecture, "amd64") == 0 &&
           (strcmp(t->category, "c") == 0 || strcmp(t->category, "m") == 0 ||
            strcmp(t->category, "r") == 0);
}

/* The bundled catalog as the mock provider loads it, keeping wanted types only. */
static void load_catalog(hoist_catalog *c)
{
    static const char *const zones[] = {"us-east-1a", "us-east-1b", "us-east-1c",
                                        "us-east-1d", "us-east-1e", "us-east-1f"};
    char path[4096];
    snprintf(path, sizeof path, "%s/contrib/catalog/us-east-1.json", srcdir());
    mock_catalog mc;
    memset(&mc, 0, sizeof mc);
    mock_spot_params sp;
    mock_spot_params_default(&sp);
    hoist_error e;
    memset(&e, 0, sizeof e);
    if (mock_catalog_load(&mc, path, zones, 6, 42, &sp, &e) < 0)
        fail_msg("%s", e.message);
    const hoist_instance_type *view = mock_catalog_snapshot(&mc, 42, &sp, 0);
    hoist_instance_type *keep = calloc(mc.n_types, sizeof *keep);
    assert_non_null(keep);
    size_t n = 0;
    for (size_t i = 0; i < mc.n_types; i++) {
        const hoist_instance_type *t = HOIST_NTH(view, i);
        if (wanted_type(t)) {
            memcpy(&keep[n], t, sizeof keep[n]);
            keep[n++].struct_size = sizeof keep[0];
        }
    }
    hoist_err err = {{0}};
    if (hoist_catalog_copy(c, keep, n, &err) < 0)
        fail_msg("%s", err.msg);
    free(keep);
    mock_catalog_free(&mc);
}

/* The mixed workload as an array of Pods. */
static json_t *mixed_pods(void)
{
    static const int cpus[] = {100, 250, 500, 1000, 1500};
    static const int mems[] = {100, 256, 512, 1024, 2048, 4096};
    bench_rng rng;
    bench_rng_seed(&rng, BENCH_DEFAULT_SEED);
    json_t *arr = json_array();
    assert_non_null(arr);
    char name[64];
    for (int i = 0; i < GENERIC_PODS; i++) {
        snprintf(name, sizeof name, "web-%d", i);
        int cpu = cpus[bench_rng_below(&rng, 5)];
        int mem = mems[bench_rng_below(&rng, 6)];
        assert_int_equal(json_array_append_new(arr, bench_simple_pod("mixed", name, cpu, mem)), 0);
    }
    for (int i = 0; i < HEAVY_PODS; i++) {
        snprintf(name, sizeof name, "cache-%d", i);
        assert_int_equal(
            json_array_append_new(arr, bench_simple_pod("mixed", name, 1000, 48 * 1024)), 0);
        snprintf(name, sizeof name, "batch-%d", i);
        assert_int_equal(
            json_array_append_new(arr, bench_simple_pod("mixed", name, 14000, 4 * 1024)), 0);
    }
    return arr;
}

/* An on-demand NodePool, limited to instance type `only` when not NULL. */
static json_t *nodepool(const char *only)
{
    json_t *np = json_pack("{s:s, s:s, s:{s:s}, s:{s:{s:{s:[], s:{s:s, s:s, s:s}}}}}",
                           "apiVersion", "karpenter.sh/v1", "kind", "NodePool", "metadata",
                           "name", only ? "single" : "mixed", "spec", "template", "spec",
                           "requirements", "nodeClassRef", "group", "karpenter.k8s.aws", "kind",
                           "EC2NodeClass", "name", "default");
    assert_non_null(np);
    if (only) {
        json_t *reqs = json_object_get(json_object_get(json_object_get(json_object_get(
                                           np, "spec"), "template"), "spec"), "requirements");
        assert_int_equal(json_array_append_new(reqs, json_pack("{s:s, s:s, s:[s]}", "key",
                                                               "node.kubernetes.io/instance-type",
                                                               "operator", "In", "values", only)),
                         0);
    }
    return np;
}

/* Compare pods by cpu, then memory, descending (first-fit decreasing). */
static int by_size_desc(const void *a, const void *b)
{
    const hoist_pod *x = *(const hoist_pod *const *)a, *y = *(const hoist_pod *const *)b;
    for (int r = HOIST_RES_CPU; r <= HOIST_RES_MEMORY; r++)
        if (x->requests.v[r] != y->requests.v[r])
            return x->requests.v[r] > y->requests.v[r] ? -1 : 1;
    return 0;
}

/* Nodes needed to pack pods (sorted by by_size_desc) first-fit onto nodes
 * with allocatable `alloc`, or 0 when some pod fits no such node. */
static size_t ffd_nodes(const hoist_pod *const *pods, size_t n, const hoist_resources *alloc)
{
    hoist_resources *free_ = calloc(n, sizeof *free_);
    assert_non_null(free_);
    size_t bins = 0;
    for (size_t i = 0; i < n; i++) {
        size_t b = 0;
        while (b < bins && !hoist_resources_fit(&pods[i]->requests, &free_[b]))
            b++;
        if (b == bins) {
            if (!hoist_resources_fit(&pods[i]->requests, alloc)) {
                free(free_);
                return 0;
            }
            free_[bins++] = *alloc;
        }
        hoist_resources_sub(&free_[b], &pods[i]->requests);
    }
    free(free_);
    return bins;
}

/* No plan on nodes with allocatable `alloc` needs fewer nodes than this:
 * the summed requests divided by the allocatable, per cpu, memory and pods. */
static size_t nodes_at_least(const hoist_resources *sum, const hoist_resources *alloc)
{
    static const int slots[] = {HOIST_RES_CPU, HOIST_RES_MEMORY, HOIST_RES_PODS};
    size_t most = 0;
    for (size_t k = 0; k < 3; k++) {
        hoist_milli need = sum->v[slots[k]], have = alloc->v[slots[k]];
        if (need <= 0)
            continue;
        size_t nodes = have > 0 ? (size_t)((need + have - 1) / have) : SIZE_MAX;
        if (nodes > most)
            most = nodes;
    }
    return most;
}

/* A snapshot of `pods` under one NodePool (restricted to `only` when not NULL). */
static void snapshot_with(const json_t *pods, const char *only, hoist_objects *o)
{
    hoist_err err = {{0}};
    hoist_objects_init(o);
    json_t *np = nodepool(only);
    if (hoist_objects_add_json(o, np, NULL, &err) < 0 || bench_add_objects(o, pods, &err) < 0)
        fail_msg("%s", err.msg);
    json_decref(np);
}

/* Decide snapshot o over c. */
static void compute(hoist_objects *o, const hoist_catalog *c, hoist_plan *plan)
{
    hoist_err err = {{0}};
    memset(plan, 0, sizeof *plan);
    if (hoist_plan_compute(o, c, NULL, plan, &err) < 0)
        fail_msg("hoist_plan_compute: %s", err.msg);
}

static void test_mixed_beats_single_type(void **state)
{
    (void)state;
    hoist_catalog c;
    hoist_catalog_init(&c);
    load_catalog(&c);
    assert_true(c.n > 100);
    json_t *pods = mixed_pods();
    const size_t n_pods = json_array_size(pods);

    hoist_objects o;
    hoist_plan plan;
    snapshot_with(pods, NULL, &o);
    compute(&o, &c, &plan);
    assert_int_equal(plan.n_pending, n_pods);
    assert_int_equal(plan.n_unschedulable, 0);
    size_t placed = 0;
    for (size_t i = 0; i < plan.n_claims; i++)
        placed += plan.claims[i].n_pods;
    assert_int_equal(placed, n_pods);
    const double cost = plan.cost_per_hour, bound = plan.lower_bound_per_hour;
    const size_t claims = plan.n_claims;
    hoist_plan_free(&plan);

    /* The best single-type plan that schedules every pod. First-fit
     * decreasing on every type the NodePool can launch gives a baseline; then
     * hoist itself plans each type (NodePool restricted to it) that could
     * still beat that baseline by its node-count bound, so the figure is the
     * best over both for every type while the test stays fast. */
    hoist_arena a;
    hoist_arena_init(&a, 0);
    hoist_pool_types pt;
    hoist_err err = {{0}};
    if (hoist_nodepool_types(&a, &c, &o, o.nodepools[0], &pt, &err) < 0)
        fail_msg("%s", err.msg);
    const hoist_pod **sorted = calloc(o.n_pods, sizeof *sorted);
    assert_non_null(sorted);
    memcpy(sorted, o.pods, o.n_pods * sizeof *sorted);
    qsort(sorted, o.n_pods, sizeof *sorted, by_size_desc);
    hoist_resources sum;
    memset(&sum, 0, sizeof sum);
    for (size_t i = 0; i < o.n_pods; i++)
        hoist_resources_add(&sum, &o.pods[i]->requests);

    double best = -1;
    size_t best_nodes = 0, can_hold = 0, planned = 0;
    const char *best_type = NULL, *best_by = "";
    for (size_t t = 0; t < pt.n; t++) {
        const hoist_pool_type *pty = &pt.items[t];
        if (pty->n_offerings == 0)
            continue;
        size_t nodes = ffd_nodes(sorted, o.n_pods, &pty->allocatable);
        if (nodes == 0)
            continue;
        can_hold++;
        double ffd = (double)nodes * pty->offerings[0]->price;
        if (best < 0 || ffd < best) {
            best = ffd;
            best_nodes = nodes;
            best_type = pty->type->name;
            best_by = "first-fit decreasing";
        }
    }
    for (size_t t = 0; t < pt.n; t++) {
        const hoist_pool_type *pty = &pt.items[t];
        if (pty->n_offerings == 0 || !hoist_resources_fit(&sorted[0]->requests,
                                                          &pty->allocatable))
            continue;
        double floor_cost =
            (double)nodes_at_least(&sum, &pty->allocatable) * pty->offerings[0]->price;
        if (best >= 0 && floor_cost >= best)
            continue;
        hoist_objects one;
        snapshot_with(pods, pty->type->name, &one);
        compute(&one, &c, &plan);
        planned++;
        if (plan.n_unschedulable == 0 && plan.n_pending == n_pods) {
            for (size_t i = 0; i < plan.n_claims; i++)
                assert_string_equal(plan.claims[i].chosen.type->name, pty->type->name);
            if (best < 0 || plan.cost_per_hour < best) {
                best = plan.cost_per_hour;
                best_nodes = plan.n_claims;
                best_type = pty->type->name;
                best_by = "hoist on a one-type NodePool";
            }
        }
        hoist_plan_free(&plan);
        hoist_objects_free(&one);
    }
    const size_t n_types = pt.n;
    char best_name[64];
    snprintf(best_name, sizeof best_name, "%s", best_type ? best_type : "(none)");
    free(sorted);
    hoist_arena_free(&a);
    hoist_objects_free(&o);
    json_decref(pods);
    hoist_catalog_free(&c);

    print_message("mixed workload, %zu pods, %zu current-generation c/m/r types "
                  "(%zu hold every pod alone; %zu planned by hoist alone)\n", n_pods, n_types,
                  can_hold, planned);
    print_message("  hoist plan:        $%.4f/h on %zu nodes\n", cost, claims);
    print_message("  best single type:  $%.4f/h on %zu x %s (%s)\n", best, best_nodes,
                  best_name, best_by);
    print_message("  lower bound:       $%.4f/h (hoist / bound = %.3f, single / bound = %.3f)\n",
                  bound, bound > 0 ? cost / bound : 0, bound > 0 ? best / bound : 0);
    assert_true(best > 0);
    assert_true(bound > 0);
    assert_true(cost < best);
    assert_true(cost >= bound * (1 - 1e-9));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mixed_beats_single_type),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
