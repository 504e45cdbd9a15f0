/*
 * tests/e2e/test_cli_catalog.c - `hoist catalog` end to end: the built hoist
 * binary, the built mock.so and the bundled catalog.
 *
 * - With no kubelet settings, allocatable equals Karpenter's published
 *   figures (tests/data/allocatable/karpenter-published.tsv) for every type
 *   the bundled catalog prices.
 * - NodeClass kubelet settings apply and the NodePool's own override them.
 * - Zone and capacity-type requirements filter offerings.
 * - Bad input exits non-zero with a message naming file, object and field.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "run_hoist.h"

/* The catalog entry of NodePool `pool` and type `name` in a JSON array. */
static json_t *find_entry(json_t *arr, const char *pool, const char *name)
{
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e)
    {
        if (strcmp(json_string_value(json_object_get(e, "nodePool")), pool) == 0 &&
            strcmp(json_string_value(json_object_get(e, "name")), name) == 0)
            return e;
    }
    return NULL;
}

static const char *alloc_of(json_t *e, const char *res)
{
    return json_string_value(json_object_get(json_object_get(e, "allocatable"), res));
}

static void test_matches_karpenter_published(void **state)
{
    (void)state;
    run_result r = run_hoist("catalog -f tests/data/cli/all-types.yaml -o json");
    if (r.status != 0)
        fprintf(stderr, "%s", r.err);
    assert_int_equal(r.status, 0);
    json_error_t jerr;
    json_t *arr = json_loads(r.out, 0, &jerr);
    assert_non_null(arr);
    assert_true(json_array_size(arr) > 1000);

    char path[1024];
    snprintf(path, sizeof path, "%s/tests/data/allocatable/karpenter-published.tsv",
             env_or("HOIST_SRCDIR", "."));
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[4096];
    int rows = 0, matched = 0, absent = 0, mismatched = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        line[strcspn(line, "\n")] = '\0';
        char *save = NULL;
        char *name = strtok_r(line, "\t", &save);
        char *cpu = strtok_r(NULL, "\t", &save);
        char *eph = strtok_r(NULL, "\t", &save);
        char *mem = strtok_r(NULL, "\t", &save);
        char *pods = strtok_r(NULL, "\t", &save);
        char *ext = strtok_r(NULL, "\t", &save);
        assert_non_null(ext);
        rows++;
        json_t *e = find_entry(arr, "everything", name);
        if (!e) {
            absent++; /* the catalog has no price for it: the mock offers nothing */
            continue;
        }
        bool ok = strcmp(alloc_of(e, "cpu"), cpu) == 0 &&
                  strcmp(alloc_of(e, "ephemeral-storage"), eph) == 0 &&
                  strcmp(alloc_of(e, "memory"), mem) == 0 && strcmp(alloc_of(e, "pods"), pods) == 0;
        if (strcmp(ext, "-") != 0) {
            char *s2 = NULL;
            for (char *kv = strtok_r(ext, ",", &s2); kv; kv = strtok_r(NULL, ",", &s2)) {
                char *eq = strchr(kv, '=');
                assert_non_null(eq);
                *eq = '\0';
                if (strcmp(kv, "vpc.amazonaws.com/efa") == 0)
                    continue; /* the catalog gives no EFA count */
                const char *got = alloc_of(e, kv);
                if (!got || strcmp(got, eq + 1) != 0)
                    ok = false;
            }
        }
        if (ok) {
            matched++;
        } else {
            mismatched++;
            fprintf(stderr, "mismatch %s: published cpu=%s eph=%s mem=%s pods=%s; hoist %s\n",
                    name, cpu, eph, mem, pods,
                    json_dumps(json_object_get(e, "allocatable"), JSON_COMPACT));
        }
    }
    fclose(f);
    printf("karpenter-published: %d rows, %d matched, %d not priced in the catalog\n", rows,
           matched, absent);
    assert_int_equal(mismatched, 0);
    assert_true(matched >= 790);
    json_decref(arr);
    run_free(&r);
}

static void test_kubelet_settings_layer(void **state)
{
    (void)state;
    run_result r = run_hoist("catalog -f tests/data/cli/kubelet-overrides.yaml -o json");
    assert_int_equal(r.status, 0);
    json_t *arr = json_loads(r.out, 0, NULL);
    assert_non_null(arr);
    assert_int_equal(json_array_size(arr), 1);
    json_t *e = find_entry(arr, "tuned", "m5.large");
    assert_non_null(e);
    json_t *cap = json_object_get(e, "capacity");
    /* maxPods 20 from the NodePool beats the NodeClass's 50; root volume 50Gi */
    assert_string_equal(json_string_value(json_object_get(cap, "pods")), "20");
    assert_string_equal(json_string_value(json_object_get(cap, "ephemeral-storage")), "50Gi");
    assert_string_equal(json_string_value(json_object_get(cap, "memory")), "7577Mi");
    /* cpu: 2000m - 70m kube-reserved - 100m system-reserved (NodeClass) */
    assert_string_equal(alloc_of(e, "cpu"), "1830m");
    /* memory: kube-reserved "0" is honoured; eviction 200Mi from the NodeClass */
    assert_string_equal(alloc_of(e, "memory"), "7377Mi");
    /* storage: 50Gi - 1Gi kube-reserved - 10 % nodefs eviction */
    assert_string_equal(alloc_of(e, "ephemeral-storage"), "44Gi");
    assert_string_equal(alloc_of(e, "pods"), "20");
    json_decref(arr);
    run_free(&r);
}

static void test_offerings_filtered(void **state)
{
    (void)state;
    run_result r = run_hoist("catalog -f tests/data/cli/zones-spot.yaml -o json");
    assert_int_equal(r.status, 0);
    json_t *arr = json_loads(r.out, 0, NULL);
    assert_non_null(arr);
    assert_true(json_array_size(arr) >= 10);
    size_t i, k;
    json_t *e, *off;
    json_array_foreach(arr, i, e)
    {
        const char *name = json_string_value(json_object_get(e, "name"));
        assert_true(strncmp(name, "m5.", 3) == 0 || strncmp(name, "c5.", 3) == 0);
        assert_null(strstr(name, "metal"));
        json_t *offs = json_object_get(e, "offerings");
        assert_int_equal(json_array_size(offs), 1);
        json_array_foreach(offs, k, off)
        {
            assert_string_equal(json_string_value(json_object_get(off, "zone")), "us-east-1c");
            assert_string_equal(json_string_value(json_object_get(off, "capacityType")), "spot");
        }
    }
    json_decref(arr);
    run_free(&r);
}

static void test_text_output_readable(void **state)
{
    (void)state;
    run_result r = run_hoist("catalog -f contrib/examples/nodepool.yaml");
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "NodePool general-purpose (weight 10)"));
    assert_non_null(strstr(r.out, "NodePool graviton"));
    assert_non_null(strstr(r.out, "m7g.large"));
    /* weight 10 sorts first */
    assert_true(strstr(r.out, "general-purpose") < strstr(r.out, "graviton"));
    run_free(&r);
}

/* One bad invocation: exit status and substrings the message must contain. */
typedef struct bad_case {
    const char *args;
    int status;
    const char *want[3];
} bad_case;

static void test_bad_input(void **state)
{
    (void)state;
    static const bad_case cases[] = {
        {"catalog", 2, {"-f FILE", NULL}},
        {"catalog -f tests/data/cli/all-types.yaml -o yaml", 2, {"-o", "yaml", NULL}},
        {"catalog -f /nonexistent.yaml", 1, {"/nonexistent.yaml", NULL}},
        {"catalog -f tests/data/cli/bad-requirement.yaml", 1,
         {"bad-requirement.yaml:", "NodePool broken", "operator"}},
        {"catalog -f tests/data/cli/bad-kubelet.yaml", 1,
         {"bad-kubelet.yaml:", "NodePool broken-kubelet", "maxPods"}},
        {"catalog -f tests/data/cli/no-nodepool.yaml", 1, {"no NodePool", NULL}},
        {"catalog -f tests/data/cli/all-types.yaml --catalog tests/data/cli/not-json.txt", 1,
         {"not-json.txt", NULL}},
        {"catalog -f tests/data/cli/all-types.yaml --provider /nonexistent/p.so", 1,
         {"/nonexistent/p.so", NULL}},
        {"frobnicate", 2, {"unknown command", NULL}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run_result r = run_hoist("%s", cases[i].args);
        if (r.status != cases[i].status)
            fprintf(stderr, "case '%s': status %d, stderr: %s\n", cases[i].args, r.status, r.err);
        assert_int_equal(r.status, cases[i].status);
        for (int k = 0; k < 3 && cases[i].want[k]; k++) {
            if (!strstr(r.err, cases[i].want[k]))
                fprintf(stderr, "case '%s': missing \"%s\" in: %s\n", cases[i].args,
                        cases[i].want[k], r.err);
            assert_non_null(strstr(r.err, cases[i].want[k]));
        }
        run_free(&r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matches_karpenter_published),
        cmocka_unit_test(test_kubelet_settings_layer),
        cmocka_unit_test(test_offerings_filtered),
        cmocka_unit_test(test_text_output_readable),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
