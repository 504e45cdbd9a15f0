/*
 * tests/e2e/test_cli_simulate.c - `hoist simulate` through the built binary:
 * the summary, the JSON and HTML reports with the baselines side by side,
 * the same seed giving the same report, bad traces and bad usage.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "run_hoist.h"

#define SMALL "--trace tests/data/sim/ten-pods.jsonl -f tests/data/sim/nodepool-x.yaml " \
              "--catalog tests/data/sim/catalog.json --hours 2"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/hoist-sim-e2e-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    if (buf)
        buf[n] = '\0';
    fclose(f);
    return buf;
}

static void test_reports_and_baselines(void **state)
{
    (void)state;
    run_result r = run_hoist("simulate " SMALL " --compare cluster-autoscaler,clusterman "
                             "--report %s/r.json --html %s/r.html",
                             dir, dir);
    if (r.status != 0)
        fail_msg("status %d: %s", r.status, r.err);
    assert_non_null(strstr(r.out, "cost"));
    assert_non_null(strstr(r.out, "cluster-autoscaler/hoist"));
    assert_non_null(strstr(r.out, "clusterman/hoist"));
    assert_non_null(strstr(r.out, "simulated hours"));
    run_free(&r);
    char path[128];
    snprintf(path, sizeof path, "%s/r.json", dir);
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    assert_non_null(j);
    json_t *runs = json_object_get(j, "runs");
    assert_int_equal(json_array_size(runs), 3);
    json_t *hoist = json_array_get(runs, 0);
    assert_string_equal(json_string_value(json_object_get(hoist, "name")), "hoist");
    json_t *sum = json_object_get(hoist, "summary");
    /* ten 1-CPU pods, three to a 4-vCPU node: four machines */
    assert_int_equal(json_integer_value(json_object_get(sum, "nodes_launched")), 4);
    assert_int_equal(json_integer_value(json_object_get(sum, "pods_scheduled")), 10);
    assert_non_null(json_object_get(json_object_get(j, "comparison"), "cluster-autoscaler"));
    json_decref(j);
    snprintf(path, sizeof path, "%s/r.html", dir);
    char *html = slurp(path);
    assert_non_null(html);
    assert_non_null(strstr(html, "<svg"));
    assert_non_null(strstr(html, "clusterman"));
    assert_null(strstr(html, "<script"));
    assert_null(strstr(html, "http://"));
    assert_null(strstr(html, "https://"));
    free(html);
}

static void test_same_seed_same_report(void **state)
{
    (void)state;
    char *text[2];
    for (int i = 0; i < 2; i++) {
        run_result r = run_hoist("simulate " SMALL " --seed 42 --report %s/s%d.json", dir, i);
        assert_int_equal(r.status, 0);
        run_free(&r);
        char path[128];
        snprintf(path, sizeof path, "%s/s%d.json", dir, i);
        text[i] = slurp(path);
        assert_non_null(text[i]);
    }
    assert_string_equal(text[0], text[1]);
    free(text[0]);
    free(text[1]);
}

static void test_bad_input(void **state)
{
    (void)state;
    run_result r = run_hoist("simulate --trace tests/data/sim/bad-line.jsonl "
                             "-f tests/data/sim/nodepool-x.yaml --catalog tests/data/sim/catalog.json");
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "bad-line.jsonl:4:"));
    run_free(&r);
    r = run_hoist("simulate --trace tests/data/sim/out-of-order.jsonl "
                  "-f tests/data/sim/nodepool-x.yaml --catalog tests/data/sim/catalog.json");
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "out-of-order.jsonl:2:"));
    run_free(&r);
    static const char *const usage[] = {
        "simulate -f tests/data/sim/nodepool-x.yaml",            /* no --trace */
        "simulate " SMALL " --compare kubernetes-autoscaler",    /* unknown baseline */
        "simulate " SMALL " --seed -1",
        "simulate " SMALL " --hours 0",
        "simulate " SMALL " --spot-interruptions lots",
        "simulate --trace tests/data/sim/ten-pods.jsonl",        /* no -f */
    };
    for (size_t i = 0; i < sizeof usage / sizeof usage[0]; i++) {
        r = run_hoist("%s", usage[i]);
        if (r.status != 2)
            fail_msg("%s: status %d", usage[i], r.status);
        run_free(&r);
    }
}

/* The bundled traces are well formed. */
static void test_bundled_traces(void **state)
{
    (void)state;
    static const char *const traces[] = {"web-diurnal", "batch-and-ml", "stateful"};
    for (size_t i = 0; i < 3; i++) {
        run_result r = run_hoist("trace check contrib/traces/%s.jsonl", traces[i]);
        if (r.status != 0)
            fail_msg("%s: %s", traces[i], r.err);
        run_free(&r);
    }
}

/* --check-invariants: a drain held by a PodDisruptionBudget breaks none of
 * the rules; the refused evictions are reported. */
static void test_check_invariants(void **state)
{
    (void)state;
    run_result r = run_hoist("simulate --trace tests/data/sim/pdb-web.jsonl "
                             "-f tests/data/sim/nodepool-pdb-expire.yaml "
                             "--catalog tests/data/sim/catalog.json --check-invariants");
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "hoist invariants: "));
    assert_non_null(strstr(r.out, "PDB violations 0, budget violations 0, churn 0"));
    assert_null(strstr(r.out, "evictions refused 0)"));
    run_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reports_and_baselines),
        cmocka_unit_test(test_same_seed_same_report),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_bundled_traces),
        cmocka_unit_test(test_check_invariants),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
