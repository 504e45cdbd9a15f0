/* test_resources.c - resource name table, vector arithmetic, ResourceList JSON. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "model/resources.h"

#include "test_json.h"

static void test_names_standard_slots(void **state)
{
    (void)state;
    hoist_resource_names t;
    hoist_resource_names_init(&t);
    assert_int_equal(t.count, HOIST_RES_N_STANDARD);
    assert_int_equal(hoist_resource_names_find(&t, "cpu"), HOIST_RES_CPU);
    assert_int_equal(hoist_resource_names_find(&t, "memory"), HOIST_RES_MEMORY);
    assert_int_equal(hoist_resource_names_find(&t, "ephemeral-storage"),
                     HOIST_RES_EPHEMERAL_STORAGE);
    assert_int_equal(hoist_resource_names_find(&t, "pods"), HOIST_RES_PODS);
    assert_int_equal(hoist_resource_names_find(&t, "nvidia.com/gpu"), -1);
    assert_int_equal(hoist_resource_names_find(&t, NULL), -1);
    hoist_err err = {{0}};
    assert_int_equal(hoist_resource_names_intern(&t, "memory", &err), HOIST_RES_MEMORY);
    int gpu = hoist_resource_names_intern(&t, "nvidia.com/gpu", &err);
    assert_int_equal(gpu, HOIST_RES_N_STANDARD);
    assert_int_equal(hoist_resource_names_intern(&t, "nvidia.com/gpu", &err), gpu);
    assert_int_equal(hoist_resource_names_find(&t, "nvidia.com/gpu"), gpu);
    int huge = hoist_resource_names_intern(&t, "hugepages-2Mi", &err);
    assert_int_equal(huge, gpu + 1);
    assert_int_equal(t.count, HOIST_RES_N_STANDARD + 2);
    hoist_resource_names_free(&t);
    assert_int_equal(t.count, HOIST_RES_N_STANDARD);
    assert_int_equal(hoist_resource_names_find(&t, "nvidia.com/gpu"), -1);
}

static void test_names_validation(void **state)
{
    (void)state;
    static const char *const ok[] = {
        "cpu", "storage", "hugepages-2Mi", "hugepages-1Gi", "attachable-volumes-aws-ebs",
        "nvidia.com/gpu", "aws.amazon.com/neuron", "example.com/Foo_bar.9",
        "vpc.amazonaws.com/pod-eni",
    };
    static const struct {
        const char *name;
        const char *why;
    } bad[] = {
        {"", "empty"},
        {"foo", "extended resources need a domain"},
        {"requests.cpu", "requests."},
        {"requests.nvidia.com/gpu", "requests."},
        {"hugepages-", "alphanumeric"},
        {"hugepages-2Xi", "hugepages size"},
        {"kubernetes.io/batman", "kubernetes.io domain"},
        {"sub.kubernetes.io/x", "kubernetes.io domain"},
        {"Example.com/gpu", "DNS subdomain"},
        {"example.com/", "empty"},
        {"a/b/c", "at most one '/'"},
        {"nvidia.com/-gpu", "alphanumeric"},
        {"nvidia.com/g pu", "alphanumerics"},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (hoist_resource_name_problem(ok[i]))
            fail_msg("%s: unexpectedly invalid: %s", ok[i], hoist_resource_name_problem(ok[i]));
    assert_null(hoist_resource_name_problem("notkubernetes.io/x"));
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hoist_resource_names t;
        hoist_resource_names_init(&t);
        hoist_err err = {{0}};
        assert_int_equal(hoist_resource_names_intern(&t, bad[i].name, &err), -1);
        char quoted[128];
        snprintf(quoted, sizeof quoted, "invalid resource name \"%s\"", bad[i].name);
        if (!strstr(err.msg, quoted) || !strstr(err.msg, bad[i].why))
            fail_msg("%s: message \"%s\"", bad[i].name, err.msg);
        assert_int_equal(t.count, HOIST_RES_N_STANDARD);
        hoist_resource_names_free(&t);
    }
}

static void test_names_table_full(void **state)
{
    (void)state;
    hoist_resource_names t;
    hoist_resource_names_init(&t);
    hoist_err err = {{0}};
    char name[64];
    for (int i = HOIST_RES_N_STANDARD; i < HOIST_RES_MAX; i++) {
        snprintf(name, sizeof name, "example.com/r%d", i);
        assert_int_equal(hoist_resource_names_intern(&t, name, &err), i);
    }
    assert_int_equal(t.count, HOIST_RES_MAX);
    assert_int_equal(hoist_resource_names_intern(&t, "example.com/one-too-many", &err), -1);
    assert_non_null(strstr(err.msg, "too many distinct resource names"));
    assert_non_null(strstr(err.msg, "example.com/one-too-many"));
    /* Existing names still resolve when full. */
    assert_int_equal(hoist_resource_names_intern(&t, "example.com/r5", &err), 5);
    /* And a JSON list naming a new one fails with the field name. */
    json_t *j = parse("{\"cpu\": \"1\", \"example.com/new\": 1}");
    hoist_resources r = {{0}};
    assert_int_equal(hoist_resources_from_json(&t, j, &r, &err), -1);
    assert_non_null(strstr(err.msg, "example.com/new: resource \"example.com/new\": too many"));
    assert_int_equal(r.v[HOIST_RES_CPU], 0);
    json_decref(j);
    hoist_resource_names_free(&t);
}

static void test_arithmetic(void **state)
{
    (void)state;
    hoist_resources a = {{0}}, b = {{0}};
    assert_true(hoist_resources_is_zero(&a));
    a.v[HOIST_RES_CPU] = 1500;
    a.v[HOIST_RES_MEMORY] = 1000;
    b.v[HOIST_RES_CPU] = 500;
    b.v[HOIST_RES_PODS] = 2000;
    b.v[HOIST_RES_MAX - 1] = 7;
    assert_false(hoist_resources_is_zero(&a));
    hoist_resources s = a;
    hoist_resources_add(&s, &b);
    assert_int_equal(s.v[HOIST_RES_CPU], 2000);
    assert_int_equal(s.v[HOIST_RES_MEMORY], 1000);
    assert_int_equal(s.v[HOIST_RES_PODS], 2000);
    assert_int_equal(s.v[HOIST_RES_MAX - 1], 7);
    hoist_resources_sub(&s, &a);
    assert_memory_equal(&s, &b, sizeof s);
    hoist_resources d = b;
    hoist_resources_sub(&d, &a);
    assert_int_equal(d.v[HOIST_RES_CPU], -1000);
    assert_int_equal(d.v[HOIST_RES_MEMORY], -1000);
    hoist_resources m = a;
    hoist_resources_max(&m, &b);
    assert_int_equal(m.v[HOIST_RES_CPU], 1500);
    assert_int_equal(m.v[HOIST_RES_MEMORY], 1000);
    assert_int_equal(m.v[HOIST_RES_PODS], 2000);
    assert_int_equal(m.v[HOIST_RES_MAX - 1], 7);
    /* fit: every slot, including the last extended one. */
    assert_true(hoist_resources_fit(&a, &m));
    assert_true(hoist_resources_fit(&b, &m));
    assert_false(hoist_resources_fit(&m, &a));
    hoist_resources need = {{0}};
    need.v[HOIST_RES_MAX - 1] = 8;
    assert_false(hoist_resources_fit(&need, &m));
    need.v[HOIST_RES_MAX - 1] = 7;
    assert_true(hoist_resources_fit(&need, &m));
    hoist_resources zero = {{0}};
    assert_true(hoist_resources_fit(&zero, &zero));
    /* Saturation instead of wrap-around. */
    hoist_resources big = {{0}}, neg = {{0}};
    big.v[0] = INT64_MAX - 1;
    hoist_resources_add(&big, &a);
    assert_true(big.v[0] == INT64_MAX);
    neg.v[0] = INT64_MIN + 1;
    hoist_resources_sub(&neg, &a);
    assert_true(neg.v[0] == INT64_MIN);
}

static void test_from_json(void **state)
{
    (void)state;
    hoist_resource_names t;
    hoist_resource_names_init(&t);
    hoist_err err = {{0}};
    json_t *j = parse("{\"cpu\": \"250m\", \"memory\": \"1.5Gi\", \"pods\": 110,"
                      " \"nvidia.com/gpu\": 2, \"ephemeral-storage\": 0.5,"
                      " \"hugepages-2Mi\": \"64Mi\", \"example.com/dongle\": 1e3}");
    hoist_resources r = {{0}};
    r.v[HOIST_RES_CPU] = 1000; /* decoding adds */
    assert_int_equal(hoist_resources_from_json(&t, j, &r, &err), 0);
    assert_int_equal(r.v[HOIST_RES_CPU], 1250);
    assert_true(r.v[HOIST_RES_MEMORY] == INT64_C(1610612736000));
    assert_int_equal(r.v[HOIST_RES_PODS], 110000);
    assert_int_equal(r.v[HOIST_RES_EPHEMERAL_STORAGE], 500);
    int gpu = hoist_resource_names_find(&t, "nvidia.com/gpu");
    assert_true(gpu >= HOIST_RES_N_STANDARD);
    assert_int_equal(r.v[gpu], 2000);
    int huge = hoist_resource_names_find(&t, "hugepages-2Mi");
    assert_true(r.v[huge] == INT64_C(67108864000));
    int dongle = hoist_resource_names_find(&t, "example.com/dongle");
    assert_int_equal(r.v[dongle], 1000000);
    json_decref(j);

    /* 0.1 as a JSON number is 100m, not 101m from a long decimal expansion. */
    j = parse("{\"cpu\": 0.1}");
    hoist_resources c = {{0}};
    assert_int_equal(hoist_resources_from_json(&t, j, &c, &err), 0);
    assert_int_equal(c.v[HOIST_RES_CPU], 100);
    json_decref(j);

    /* NULL and null add nothing. */
    assert_int_equal(hoist_resources_from_json(&t, NULL, &c, &err), 0);
    j = parse("null");
    assert_int_equal(hoist_resources_from_json(&t, j, &c, &err), 0);
    assert_int_equal(c.v[HOIST_RES_CPU], 100);
    json_decref(j);
    hoist_resource_names_free(&t);
}

static void test_from_json_bad(void **state)
{
    (void)state;
    static const struct {
        const char *json;
        const char *want; /* substring of the message */
    } cases[] = {
        {"[]", "expected an object of resource quantities, got an array"},
        {"\"2\"", "expected an object of resource quantities, got a string"},
        {"{\"cpu\": \"12x\"}", "cpu: invalid quantity \"12x\": unknown suffix \"x\""},
        {"{\"memory\": \"-1Gi\"}", "memory: invalid quantity \"-1Gi\": negative"},
        {"{\"memory\": -5}", "memory: invalid quantity \"-5\": negative"},
        {"{\"cpu\": \"\"}", "cpu: invalid quantity \"\": empty"},
        {"{\"cpu\": true}", "cpu: expected a quantity (string or number), got a boolean"},
        {"{\"cpu\": null}", "cpu: expected a quantity (string or number), got null"},
        {"{\"cpu\": {\"a\": 1}}", "cpu: expected a quantity (string or number), got an object"},
        {"{\"cpu\": [1]}", "cpu: expected a quantity (string or number), got an array"},
        {"{\"memory\": \"10E\"}", "memory: invalid quantity \"10E\": too large"},
        {"{\"gpu\": 1}", "gpu: invalid resource name \"gpu\""},
        {"{\"requests.cpu\": 1}", "requests.cpu: invalid resource name"},
        {"{\"example.com/a b\": 1}", "example.com/a b: invalid resource name"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hoist_resource_names t;
        hoist_resource_names_init(&t);
        hoist_err err = {{0}};
        json_t *j = parse(cases[i].json);
        hoist_resources r = {{0}};
        r.v[HOIST_RES_CPU] = 42;
        assert_int_equal(hoist_resources_from_json(&t, j, &r, &err), -1);
        if (!strstr(err.msg, cases[i].want))
            fail_msg("%s: message \"%s\" lacks \"%s\"", cases[i].json, err.msg, cases[i].want);
        assert_int_equal(r.v[HOIST_RES_CPU], 42); /* untouched on failure */
        json_decref(j);
        hoist_resource_names_free(&t);
    }
}

static void test_from_json_sum_overflow(void **state)
{
    (void)state;
    hoist_resource_names t;
    hoist_resource_names_init(&t);
    hoist_err err = {{0}};
    json_t *j = parse("{\"memory\": \"8Pi\"}");
    hoist_resources r = {{0}};
    assert_int_equal(hoist_resources_from_json(&t, j, &r, &err), 0);
    assert_int_equal(hoist_resources_from_json(&t, j, &r, &err), -1);
    assert_non_null(strstr(err.msg, "memory: total overflows"));
    assert_true(r.v[HOIST_RES_MEMORY] == INT64_C(9007199254740992000));
    json_decref(j);
    hoist_resource_names_free(&t);
}

static void expect_member(json_t *obj, const char *key, const char *want)
{
    json_t *v = json_object_get(obj, key);
    if (!want) {
        if (v)
            fail_msg("%s: unexpectedly present", key);
        return;
    }
    if (!json_is_string(v))
        fail_msg("%s: missing or not a string", key);
    if (strcmp(json_string_value(v), want) != 0)
        fail_msg("%s: \"%s\", want \"%s\"", key, json_string_value(v), want);
}

static void test_to_json(void **state)
{
    (void)state;
    hoist_resource_names t;
    hoist_resource_names_init(&t);
    hoist_err err = {{0}};
    json_t *in = parse("{\"cpu\": \"2000m\", \"memory\": \"4096Mi\", \"pods\": \"110\","
                       " \"nvidia.com/gpu\": \"1\", \"hugepages-1Gi\": \"2Gi\","
                       " \"example.com/bytes\": \"1Ki\"}");
    hoist_resources r = {{0}};
    assert_int_equal(hoist_resources_from_json(&t, in, &r, &err), 0);
    json_decref(in);
    json_t *out = hoist_resources_to_json(&t, &r, false);
    assert_non_null(out);
    expect_member(out, "cpu", "2");
    expect_member(out, "memory", "4Gi");
    expect_member(out, "pods", "110");
    expect_member(out, "nvidia.com/gpu", "1");
    expect_member(out, "hugepages-1Gi", "2Gi");
    expect_member(out, "example.com/bytes", "1024"); /* extended: decimal SI */
    expect_member(out, "ephemeral-storage", NULL);   /* zero omitted */
    assert_int_equal(json_object_size(out), 6);
    json_decref(out);

    /* memory that is not whole binary units prints in decimal; cpu in milli. */
    hoist_resources z = {{0}};
    z.v[HOIST_RES_CPU] = 1500;
    z.v[HOIST_RES_MEMORY] = 1000500;
    out = hoist_resources_to_json(&t, &z, true);
    expect_member(out, "cpu", "1500m");
    expect_member(out, "memory", "1000500m");
    expect_member(out, "ephemeral-storage", "0");
    expect_member(out, "pods", "0");
    expect_member(out, "nvidia.com/gpu", NULL);
    assert_int_equal(json_object_size(out), 4);
    json_decref(out);

    /* Round trip: decoding the encoded list gives the same vector. */
    out = hoist_resources_to_json(&t, &r, false);
    hoist_resources back = {{0}};
    assert_int_equal(hoist_resources_from_json(&t, out, &back, &err), 0);
    assert_memory_equal(&back, &r, sizeof r);
    json_decref(out);
    hoist_resource_names_free(&t);
}

static void test_formats(void **state)
{
    (void)state;
    assert_int_equal(hoist_resource_format("cpu"), HOIST_QFMT_DECIMAL_SI);
    assert_int_equal(hoist_resource_format("pods"), HOIST_QFMT_DECIMAL_SI);
    assert_int_equal(hoist_resource_format("memory"), HOIST_QFMT_BINARY_SI);
    assert_int_equal(hoist_resource_format("ephemeral-storage"), HOIST_QFMT_BINARY_SI);
    assert_int_equal(hoist_resource_format("storage"), HOIST_QFMT_BINARY_SI);
    assert_int_equal(hoist_resource_format("hugepages-2Mi"), HOIST_QFMT_BINARY_SI);
    assert_int_equal(hoist_resource_format("nvidia.com/gpu"), HOIST_QFMT_DECIMAL_SI);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_standard_slots),
        cmocka_unit_test(test_names_validation),
        cmocka_unit_test(test_names_table_full),
        cmocka_unit_test(test_arithmetic),
        cmocka_unit_test(test_from_json),
        cmocka_unit_test(test_from_json_bad),
        cmocka_unit_test(test_from_json_sum_overflow),
        cmocka_unit_test(test_to_json),
        cmocka_unit_test(test_formats),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
