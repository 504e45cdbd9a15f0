/*
 * tests/bench/test_workloads.c - the benchmark workload generators:
 * - splitmix64 matches its published reference values and stays in range;
 * - Karpenter's workload: counts per kind, each kind's constraint, sizes from
 *   the documented sets, same seed -> same pods, other seed -> other pods;
 * - the fake catalog: sizes and prices of Karpenter's fake types, accepted by
 *   hoist_catalog_copy, and read back identically by the mock from the
 *   mock-schema file the CLI benchmark writes;
 * - scheduler_perf templates: the mix's counts, names, namespaces and the
 *   zone1/zone2 adaptation (skipped when the shared data is absent).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "../../plugins/mock/mock_catalog.h"
#include "model/catalog.h"
#include "model/objects.h"
#include "workloads.h"

static const char *shared_data(void)
{
    const char *v = getenv("HOIST_SHARED_DATA");
    return v && *v ? v : HOIST_BENCH_SHARED_DATA;
}

static void test_splitmix64_reference(void **state)
{
    (void)state;
    /* Reference outputs of splitmix64 seeded with 1234567 (Vigna's splitmix64.c). */
    bench_rng r;
    bench_rng_seed(&r, 1234567);
    assert_true(bench_rng_next(&r) == 6457827717110365317ULL);
    assert_true(bench_rng_next(&r) == 3203168211198807973ULL);
    assert_true(bench_rng_next(&r) == 9817491932198370423ULL);
    bench_rng_seed(&r, 7);
    unsigned seen[6] = {0};
    for (int i = 0; i < 6000; i++) {
        uint32_t v = bench_rng_below(&r, 6);
        assert_true(v < 6);
        seen[v]++;
    }
    for (int v = 0; v < 6; v++)
        assert_true(seen[v] > 800 && seen[v] < 1200);
}

static void test_kind_split(void **state)
{
    (void)state;
    /* 1003 pods: 200 of each kind, the 3 left over are generic. */
    size_t per[BENCH_KIND_COUNT] = {0};
    for (size_t i = 0; i < 1003; i++)
        per[bench_karpenter_kind_of(1003, i)]++;
    assert_int_equal(per[BENCH_KIND_GENERIC], 203);
    for (int k = 1; k < BENCH_KIND_COUNT; k++)
        assert_int_equal(per[k], 200);
    assert_int_equal(bench_karpenter_kind_of(1003, 199), BENCH_KIND_GENERIC);
    assert_int_equal(bench_karpenter_kind_of(1003, 200), BENCH_KIND_ZONE_SPREAD);
    assert_int_equal(bench_karpenter_kind_of(1003, 999), BENCH_KIND_HOST_ANTI_AFFINITY);
    assert_int_equal(bench_karpenter_kind_of(1003, 1000), BENCH_KIND_GENERIC);
    assert_int_equal(bench_karpenter_kind_of(3, 2), BENCH_KIND_GENERIC);
}

/* True when s is one of the quantity strings of `set`. */
static bool in_set(const char *s, const char *const *set, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(s, set[i]) == 0)
            return true;
    return false;
}

static void test_karpenter_pods(void **state)
{
    (void)state;
    static const char *const cpus[] = {"100m", "250m", "500m", "1000m", "1500m"};
    static const char *const mems[] = {"100Mi", "256Mi", "512Mi", "1024Mi", "2048Mi", "4096Mi"};
    json_t *pods = bench_karpenter_pods(1000, BENCH_DEFAULT_SEED);
    assert_non_null(pods);
    assert_int_equal(json_array_size(pods), 1000);
    size_t per[BENCH_KIND_COUNT] = {0}, cpu_seen[5] = {0};
    size_t i;
    json_t *pod;
    json_array_foreach(pods, i, pod) {
        const char *kind = json_string_value(
            json_object_get(json_object_get(json_object_get(pod, "metadata"), "labels"),
                            BENCH_KIND_LABEL));
        assert_non_null(kind);
        bench_kind k = bench_karpenter_kind_of(1000, i);
        assert_string_equal(kind, bench_kind_name(k));
        per[k]++;
        json_t *spec = json_object_get(pod, "spec");
        json_t *req = json_object_get(
            json_object_get(json_array_get(json_object_get(spec, "containers"), 0), "resources"),
            "requests");
        const char *cpu = json_string_value(json_object_get(req, "cpu"));
        const char *mem = json_string_value(json_object_get(req, "memory"));
        assert_true(in_set(cpu, cpus, 5));
        assert_true(in_set(mem, mems, 6));
        for (size_t c = 0; c < 5; c++)
            cpu_seen[c] += strcmp(cpu, cpus[c]) == 0;
        json_t *tsc = json_object_get(spec, "topologySpreadConstraints");
        json_t *aff = json_object_get(spec, "affinity");
        switch (k) {
        case BENCH_KIND_GENERIC:
            assert_null(tsc);
            assert_null(aff);
            break;
        case BENCH_KIND_ZONE_SPREAD:
        case BENCH_KIND_HOST_SPREAD: {
            assert_null(aff);
            json_t *c = json_array_get(tsc, 0);
            assert_int_equal(json_integer_value(json_object_get(c, "maxSkew")), 1);
            assert_string_equal(json_string_value(json_object_get(c, "whenUnsatisfiable")),
                                "DoNotSchedule");
            assert_string_equal(json_string_value(json_object_get(c, "topologyKey")),
                                k == BENCH_KIND_ZONE_SPREAD ? "topology.kubernetes.io/zone"
                                                            : "kubernetes.io/hostname");
            assert_string_equal(
                json_string_value(json_object_get(
                    json_object_get(json_object_get(c, "labelSelector"), "matchLabels"),
                    BENCH_KIND_LABEL)),
                kind);
            break;
        }
        case BENCH_KIND_ZONE_AFFINITY:
        case BENCH_KIND_HOST_ANTI_AFFINITY: {
            assert_null(tsc);
            json_t *a = json_object_get(aff, k == BENCH_KIND_ZONE_AFFINITY ? "podAffinity"
                                                                           : "podAntiAffinity");
            json_t *t = json_array_get(
                json_object_get(a, "requiredDuringSchedulingIgnoredDuringExecution"), 0);
            assert_non_null(t);
            assert_string_equal(json_string_value(json_object_get(t, "topologyKey")),
                                k == BENCH_KIND_ZONE_AFFINITY ? "topology.kubernetes.io/zone"
                                                              : "kubernetes.io/hostname");
            break;
        }
        case BENCH_KIND_COUNT:
            fail();
        }
    }
    for (int k = 0; k < BENCH_KIND_COUNT; k++)
        assert_int_equal(per[k], 200);
    for (int c = 0; c < 5; c++)
        assert_true(cpu_seen[c] > 140);  /* each of the 5 sizes drawn about 200 times */

    /* Same seed: same pods. Another seed: other sizes. */
    json_t *again = bench_karpenter_pods(1000, BENCH_DEFAULT_SEED);
    json_t *other = bench_karpenter_pods(1000, BENCH_DEFAULT_SEED + 1);
    assert_true(json_equal(pods, again));
    assert_false(json_equal(pods, other));
    json_decref(pods);
    json_decref(again);
    json_decref(other);
}

static void test_karpenter_objects_decode(void **state)
{
    (void)state;
    hoist_objects o;
    hoist_err err = {{0}};
    hoist_objects_init(&o);
    json_t *pods = bench_karpenter_pods(100, BENCH_DEFAULT_SEED);
    json_t *np = bench_karpenter_nodepool();
    assert_non_null(np);
    assert_int_equal(hoist_objects_add_json(&o, np, NULL, &err), 0);
    if (bench_add_objects(&o, pods, &err) < 0)
        fail_msg("%s", err.msg);
    assert_int_equal(o.n_pods, 100);
    assert_int_equal(o.n_nodepools, 1);
    size_t spread = 0, affinity = 0, anti = 0;
    for (size_t i = 0; i < o.n_pods; i++) {
        const hoist_pod *p = o.pods[i];
        assert_null(p->node_name);
        assert_string_equal(p->ns, "bench");
        spread += p->n_spread;
        affinity += p->pod_affinity.n;
        anti += p->pod_anti_affinity.n;
        if (p->n_spread)
            assert_true(p->spread[0].do_not_schedule && p->spread[0].max_skew == 1);
    }
    assert_int_equal(spread, 40);
    assert_int_equal(affinity, 20);
    assert_int_equal(anti, 20);
    json_decref(pods);
    json_decref(np);
    hoist_objects_free(&o);
}

static void test_fake_catalog(void **state)
{
    (void)state;
    bench_fake_catalog fc;
    hoist_err err = {{0}};
    assert_int_equal(bench_fake_catalog_init(&fc, BENCH_KARPENTER_TYPES, &err), 0);
    assert_int_equal(fc.n, 400);
    const hoist_instance_type *t = &fc.types[9];
    assert_string_equal(t->name, "fake-it-9");
    assert_int_equal(t->vcpus, 10);
    assert_int_equal(t->memory_mib, 20480);
    assert_int_equal(t->max_pods, 100);
    assert_int_equal(t->n_offerings, 5);
    /* 10 vCPU and 20 GiB = 21.47483648 GB: 1.0 + 2.147483648 */
    assert_true(fabs(bench_fake_price(9) - 3.147483648) < 1e-9);
    size_t spot = 0, od = 0;
    for (size_t k = 0; k < t->n_offerings; k++) {
        spot += t->offerings[k].capacity_type == HOIST_CAPACITY_SPOT;
        od += t->offerings[k].capacity_type == HOIST_CAPACITY_ON_DEMAND;
        assert_true(fabs(t->offerings[k].price - bench_fake_price(9)) < 1e-12);
    }
    assert_int_equal(spot, 2);
    assert_int_equal(od, 3);
    assert_int_equal(fc.types[399].vcpus, 400);

    hoist_catalog c;
    hoist_catalog_init(&c);
    if (hoist_catalog_copy(&c, fc.types, fc.n, &err) < 0)
        fail_msg("%s", err.msg);
    assert_int_equal(c.n, 400);
    assert_non_null(hoist_catalog_find(&c, "fake-it-399"));

    /* The mock reads the mock-schema file back as the same types and prices. */
    json_t *file = bench_fake_catalog_mock_json(&fc);
    assert_non_null(file);
    char path[] = "/tmp/hoist-bench-catalog-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(json_dump_file(file, path, JSON_COMPACT), 0);
    json_decref(file);
    mock_catalog mc;
    memset(&mc, 0, sizeof mc);
    mock_spot_params sp;
    mock_spot_params_default(&sp);
    static const char *const zones[] = {"us-east-1a", "us-east-1b", "us-east-1c",
                                        "us-east-1d", "us-east-1e", "us-east-1f"};
    hoist_error e;
    memset(&e, 0, sizeof e);
    if (mock_catalog_load(&mc, path, zones, 6, 42, &sp, &e) < 0)
        fail_msg("%s", e.message);
    unlink(path);
    const hoist_instance_type *view = mock_catalog_snapshot(&mc, 42, &sp, 0);
    assert_int_equal(mc.n_types, 400);
    for (size_t i = 0; i < mc.n_types; i++) {
        const hoist_instance_type *m = HOIST_NTH(view, i);
        const hoist_instance_type *want = hoist_catalog_find(&c, m->name);
        assert_non_null(want);
        assert_int_equal(m->vcpus, want->vcpus);
        assert_int_equal(m->memory_mib, want->memory_mib);
        assert_int_equal(m->max_pods, want->max_pods);
        assert_string_equal(m->architecture, "amd64");
        assert_int_equal(m->n_offerings, 5);
        for (size_t k = 0; k < m->n_offerings; k++) {
            const hoist_offering *mo = HOIST_NTH(m->offerings, k);
            assert_true(fabs(mo->price - want->offerings[0].price) < 1e-9);
            assert_true(strcmp(mo->zone, "us-east-1c") != 0 ||
                        mo->capacity_type == HOIST_CAPACITY_ON_DEMAND);
        }
    }
    mock_catalog_free(&mc);
    hoist_catalog_free(&c);
    bench_fake_catalog_free(&fc);
}

static void test_perf_pods(void **state)
{
    (void)state;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/workloads/k8s-scheduler-perf/templates", shared_data());
    if (access(dir, R_OK) != 0) {
        print_message("skipped: %s is missing (set HOIST_SHARED_DATA)\n", dir);
        skip();
    }
    hoist_err err = {{0}};
    size_t unsched = 0;
    json_t *pods = bench_perf_pods(dir, 10000, &unsched, &err);
    if (!pods)
        fail_msg("%s", err.msg);
    assert_int_equal(json_array_size(pods), 10000);
    assert_int_equal(unsched, 3);

    size_t n_mix;
    const bench_perf_share *mix = bench_perf_mix(&n_mix);
    size_t weights = 0, fixed = 0;
    for (size_t s = 0; s < n_mix; s++) {
        weights += mix[s].weight;
        fixed += mix[s].fixed;
    }
    assert_int_equal(weights, 10000);
    assert_int_equal(fixed, 4);

    size_t node_affinity = 0, sched0 = 0, sched1 = 0;
    size_t i;
    json_t *pod;
    json_array_foreach(pods, i, pod) {
        json_t *meta = json_object_get(pod, "metadata");
        assert_null(json_object_get(meta, "generateName"));
        const char *name = json_string_value(json_object_get(meta, "name"));
        const char *ns = json_string_value(json_object_get(meta, "namespace"));
        assert_non_null(name);
        assert_non_null(ns);
        sched0 += strcmp(ns, "sched-0") == 0;
        sched1 += strcmp(ns, "sched-1") == 0;
        if (strncmp(name, "node-affinity-", 14) == 0) {
            node_affinity++;
            char *text = json_dumps(pod, JSON_COMPACT);
            assert_non_null(text);
            assert_null(strstr(text, "\"zone1\""));
            assert_non_null(strstr(text, "\"us-east-1a\""));
            assert_non_null(strstr(text, "\"us-east-1b\""));
            free(text);
        }
    }
    assert_int_equal(node_affinity, 9996 * 1000 / 10000);
    assert_int_equal(sched0 + sched1, 9996 * 800 / 10000 + 9996 * 200 / 10000 +
                                          9996 * 500 / 10000 + 9996 * 200 / 10000);
    assert_true(sched0 >= sched1 && sched0 - sched1 <= 4);

    /* Every adapted pod and both NodePools decode. */
    hoist_objects o;
    hoist_objects_init(&o);
    json_t *pools = bench_perf_nodepools();
    assert_non_null(pools);
    if (bench_add_objects(&o, pools, &err) < 0 || bench_add_objects(&o, pods, &err) < 0)
        fail_msg("%s", err.msg);
    assert_int_equal(o.n_pods, 10000);
    assert_int_equal(o.n_nodepools, 2);
    assert_non_null(hoist_objects_find_pod(&o, "perf-unsched", "unsched-resources-0"));
    hoist_objects_free(&o);
    json_decref(pools);
    json_decref(pods);

    /* A missing template is an error naming it. */
    pods = bench_perf_pods("/nonexistent-dir", 100, &unsched, &err);
    assert_null(pods);
    assert_non_null(strstr(err.msg, "pod-default.yaml"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_splitmix64_reference),
        cmocka_unit_test(test_kind_split),
        cmocka_unit_test(test_karpenter_pods),
        cmocka_unit_test(test_karpenter_objects_decode),
        cmocka_unit_test(test_fake_catalog),
        cmocka_unit_test(test_perf_pods),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
