/*
 * tests/e2e/test_cli_plan.c - `hoist plan` end to end on a mixed snapshot
 * (tests/data/plan/mixed-constraints.json: two NodePools, one GPU NodePool
 * with a taint, an existing Ready node, and 150 pods in five kinds: zonal
 * spread, hostname anti-affinity, zonal self-affinity, plain, and GPU pods).
 *
 * - The output is byte-identical across runs (deterministic).
 * - The JSON has DESIGN.md's fields, lists every pending pod exactly once,
 *   and its cost is the sum of the claims' prices, not below its bound.
 * - Existing capacity is used first; GPU pods go to the tainted GPU
 *   NodePool; anti-affinity pods never share a machine; zonal spread holds.
 * - Usage errors exit 2.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "run_hoist.h"

#define SNAPSHOT "tests/data/plan/mixed-constraints.json"
#define N_PODS 150

static json_t *plan_json(void)
{
    run_result r = run_hoist("plan -f " SNAPSHOT " -o json --offerings");
    if (r.status != 0)
        fprintf(stderr, "%s", r.err);
    assert_int_equal(r.status, 0);
    json_error_t jerr;
    json_t *j = json_loads(r.out, 0, &jerr);
    if (!j)
        fail_msg("bad JSON: %s", jerr.text);
    run_free(&r);
    return j;
}

static void test_deterministic(void **state)
{
    (void)state;
    run_result a = run_hoist("plan -f " SNAPSHOT " -o json --offerings");
    run_result b = run_hoist("plan -f " SNAPSHOT " -o json --offerings");
    assert_int_equal(a.status, 0);
    assert_int_equal(b.status, 0);
    assert_true(strlen(a.out) > 1000);
    assert_string_equal(a.out, b.out);
    run_free(&a);
    run_free(&b);
}

/* Where each pod went: claim index, or -2 for an existing node, -3 unschedulable. */
typedef struct placed {
    const char *pod;
    int where;
} placed;

static int find_placed(placed *v, int n, const char *pod)
{
    for (int i = 0; i < n; i++)
        if (strcmp(v[i].pod, pod) == 0)
            return i;
    return -1;
}

static void test_contract_and_constraints(void **state)
{
    (void)state;
    json_t *j = plan_json();
    json_t *claims = json_object_get(j, "nodeClaims");
    json_t *existing = json_object_get(j, "existingNodes");
    json_t *unsched = json_object_get(j, "unschedulable");
    assert_true(json_is_array(claims) && json_is_array(existing) && json_is_array(unsched));
    assert_int_equal(json_integer_value(json_object_get(j, "pendingPods")), N_PODS);

    placed v[N_PODS + 8];
    int n = 0;
    double sum = 0;
    size_t i, k;
    json_t *c, *p;
    int zone_counts[8] = {0};
    const char *zones[8] = {0};
    int n_zones = 0;
    json_array_foreach(claims, i, c)
    {
        const char *pool = json_string_value(json_object_get(c, "nodePool"));
        const char *type = json_string_value(json_object_get(c, "instanceType"));
        const char *zone = json_string_value(json_object_get(c, "zone"));
        const char *ct = json_string_value(json_object_get(c, "capacityType"));
        assert_non_null(pool);
        assert_non_null(type);
        assert_non_null(zone);
        assert_true(strcmp(ct, "spot") == 0 || strcmp(ct, "on-demand") == 0);
        double price = json_number_value(json_object_get(c, "price"));
        assert_true(price > 0);
        sum += price;
        json_t *opts = json_object_get(c, "instanceTypeOptions");
        assert_true(json_array_size(opts) >= 1);
        assert_string_equal(json_string_value(json_array_get(opts, 0)), type);
        json_t *offs = json_object_get(c, "offerings");
        assert_true(json_array_size(offs) >= 1 && json_array_size(offs) <= 60);
        /* the chosen offering is the cheapest of the launch request */
        assert_true(fabs(json_number_value(json_object_get(json_array_get(offs, 0), "price")) -
                         price) < 1e-9);
        assert_true(json_is_object(json_object_get(c, "labels")));
        assert_true(json_is_array(json_object_get(c, "taints")));
        int api_here = 0;
        json_array_foreach(json_object_get(c, "pods"), k, p)
        {
            const char *name = json_string_value(p);
            assert_int_equal(find_placed(v, n, name), -1);
            v[n].pod = name;
            v[n++].where = (int)i;
            bool gpu_pod = strncmp(name, "default/ml-", 11) == 0;
            /* GPU pods and only GPU pods land on the tainted GPU NodePool */
            assert_int_equal(gpu_pod, strcmp(pool, "gpu") == 0);
            if (strncmp(name, "default/api-", 12) == 0)
                api_here++;
            if (strncmp(name, "default/web-", 12) == 0) {
                int z;
                for (z = 0; z < n_zones && strcmp(zones[z], zone) != 0; z++)
                    ;
                if (z == n_zones)
                    zones[n_zones++] = zone;
                zone_counts[z]++;
            }
        }
        assert_true(api_here <= 1); /* required hostname anti-affinity */
        if (strcmp(pool, "gpu") == 0) {
            json_t *t = json_array_get(json_object_get(c, "taints"), 0);
            assert_string_equal(json_string_value(json_object_get(t, "key")), "nvidia.com/gpu");
        }
    }
    json_array_foreach(existing, i, c)
    {
        assert_string_equal(json_string_value(json_object_get(c, "node")), "ip-10-0-0-1");
        json_array_foreach(json_object_get(c, "pods"), k, p)
        {
            assert_int_equal(find_placed(v, n, json_string_value(p)), -1);
            if (strncmp(json_string_value(p), "default/web-", 12) == 0) {
                int z; /* the existing node is in us-east-1a */
                for (z = 0; z < n_zones && strcmp(zones[z], "us-east-1a") != 0; z++)
                    ;
                if (z == n_zones)
                    zones[n_zones++] = "us-east-1a";
                zone_counts[z]++;
            }
            v[n].pod = json_string_value(p);
            v[n++].where = -2;
        }
    }
    assert_int_equal(json_array_size(existing), 1); /* existing capacity is used first */
    json_array_foreach(unsched, i, c)
    {
        v[n].pod = json_string_value(json_object_get(c, "pod"));
        v[n++].where = -3;
    }
    assert_int_equal(n, N_PODS);
    assert_int_equal(json_array_size(unsched), 0);
    /* zonal spread, maxSkew 1, over the web pods on new machines and the existing node */
    int min = 1 << 30, max = 0;
    for (int z = 0; z < n_zones; z++) {
        min = zone_counts[z] < min ? zone_counts[z] : min;
        max = zone_counts[z] > max ? zone_counts[z] : max;
    }
    assert_true(n_zones >= 2);
    assert_true(max - min <= 1);
    double cost = json_number_value(json_object_get(j, "costPerHour"));
    double bound = json_number_value(json_object_get(j, "lowerBoundPerHour"));
    assert_true(fabs(cost - sum) < 1e-6);
    assert_true(bound > 0 && bound <= cost + 1e-9);
    json_decref(j);
}

static void test_text_and_usage(void **state)
{
    (void)state;
    run_result r = run_hoist("plan -f " SNAPSHOT " -o text");
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "150 pending pods:"));
    assert_non_null(strstr(r.out, "node ip-10-0-0-1"));
    run_free(&r);
    r = run_hoist("plan");
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "-f FILE"));
    run_free(&r);
    r = run_hoist("plan -f " SNAPSHOT " --policy /nonexistent/policy.lua");
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "/nonexistent/policy.lua"));
    run_free(&r);
    r = run_hoist("plan -f /nonexistent.yaml");
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "/nonexistent.yaml"));
    run_free(&r);
}

/* Every shipped policy passes `hoist policy check`; a failing policy leaves
 * the plan to hoist's defaults and says why, with file and line. */
static void test_policies(void **state)
{
    (void)state;
    static const char *const shipped[] = {
        "policies/defaults.lua", "policies/expire-ttl.lua", "policies/headroom.lua",
        "policies/recycle-family.lua", "policies/lowest-price.lua", "policies/no-burstable.lua",
        "policies/prefer-newer-generation.lua", "policies/price-capacity-optimized.lua",
        "policies/reserved-first.lua", "policies/spot-fallback.lua",
        "tests/data/policy/examples.lua", /* policies/README.md's example per hook */
    };
    for (size_t i = 0; i < sizeof shipped / sizeof shipped[0]; i++) {
        run_result r = run_hoist("policy check %s", shipped[i]);
        if (r.status != 0)
            fprintf(stderr, "%s: %s%s\n", shipped[i], r.out, r.err);
        assert_int_equal(r.status, 0);
        run_free(&r);
    }
    run_result plain = run_hoist("plan -f " SNAPSHOT " -o json");
    run_result bad = run_hoist("plan -f " SNAPSHOT " -o json --policy tests/data/plan/failing-policy.lua");
    assert_int_equal(plain.status, 0);
    assert_int_equal(bad.status, 0);
    assert_string_equal(plain.out, bad.out); /* the defaults decided everything */
    assert_non_null(strstr(bad.err, "hook call(s) failed"));
    assert_non_null(strstr(bad.err, "failing-policy.lua:11: no opinion today"));
    run_free(&plain);
    run_free(&bad);
    run_result broken = run_hoist("policy check tests/data/plan/failing-policy.lua");
    assert_int_equal(broken.status, 1);
    run_free(&broken);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_contract_and_constraints),
        cmocka_unit_test(test_text_and_usage),
        cmocka_unit_test(test_policies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
