/* test_requirements.c - requirement matching, compatibility, intersection, JSON. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/requirements.h"

#include "test_json.h"

/* Decode a requirement list that must be valid (minValues allowed). */
static hoist_reqs reqs(hoist_arena *a, const char *text)
{
    json_t *j = parse(text);
    hoist_reqs rs;
    hoist_err err = {{0}};
    if (hoist_reqs_from_json(a, j, true, &rs, &err) != 0)
        fail_msg("%s: %s", text, err.msg);
    json_decref(j);
    return rs;
}

static char *dump(const hoist_reqs *rs)
{
    json_t *j = hoist_reqs_to_json(rs);
    assert_non_null(j);
    char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(j);
    return s;
}

static void test_op_names(void **state)
{
    (void)state;
    const char *names[] = {"In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"};
    for (int i = 0; i < 6; i++) {
        assert_string_equal(hoist_req_op_name((hoist_req_op)i), names[i]);
        assert_int_equal(hoist_req_op_parse(names[i]), i);
    }
    assert_int_equal(hoist_req_op_parse("in"), -1);
    assert_int_equal(hoist_req_op_parse("Inn"), -1);
    assert_int_equal(hoist_req_op_parse(NULL), -1);
    assert_string_equal(hoist_req_op_name((hoist_req_op)17), "?");
}

static void test_parse_int64(void **state)
{
    (void)state;
    int64_t v;
    assert_true(hoist_parse_int64("42", &v) && v == 42);
    assert_true(hoist_parse_int64("-7", &v) && v == -7);
    assert_true(hoist_parse_int64("+7", &v) && v == 7);
    assert_true(hoist_parse_int64("007", &v) && v == 7);
    assert_true(hoist_parse_int64("9223372036854775807", &v) && v == INT64_MAX);
    assert_true(hoist_parse_int64("-9223372036854775808", &v) && v == INT64_MIN);
    const char *bad[] = {"", "+", "-", "1.5", " 1", "1 ", "0x10", "abc", "1e3",
                         "9223372036854775808", "-9223372036854775809"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (hoist_parse_int64(bad[i], &v))
            fail_msg("\"%s\" read as an integer", bad[i]);
    assert_false(hoist_parse_int64(NULL, &v));
}

static void test_match_value(void **state)
{
    (void)state;
    hoist_arena a;
    hoist_arena_init(&a, 0);
    hoist_reqs rs = reqs(&a, "[{\"key\":\"k\",\"operator\":\"In\",\"values\":[\"b\",\"a\"]},"
                             " {\"key\":\"k\",\"operator\":\"NotIn\",\"values\":[\"a\"]},"
                             " {\"key\":\"k\",\"operator\":\"Exists\"},"
                             " {\"key\":\"k\",\"operator\":\"DoesNotExist\"},"
                             " {\"key\":\"k\",\"operator\":\"Gt\",\"values\":[\"5\"]},"
                             " {\"key\":\"k\",\"operator\":\"Lt\",\"values\":[\"-2\"]}]");
    assert_int_equal(rs.n, 6);
    const hoist_req *in = &rs.items[0], *notin = &rs.items[1], *ex = &rs.items[2],
                    *dne = &rs.items[3], *gt = &rs.items[4], *lt = &rs.items[5];
    assert_true(hoist_req_match_value(in, "a"));
    assert_true(hoist_req_match_value(in, "b"));
    assert_false(hoist_req_match_value(in, "c"));
    assert_false(hoist_req_match_value(in, NULL));
    assert_false(hoist_req_match_value(notin, "a"));
    assert_true(hoist_req_match_value(notin, "b"));
    assert_true(hoist_req_match_value(notin, NULL)); /* absent satisfies NotIn */
    assert_true(hoist_req_match_value(ex, ""));
    assert_false(hoist_req_match_value(ex, NULL));
    assert_true(hoist_req_match_value(dne, NULL));
    assert_false(hoist_req_match_value(dne, "x"));
    assert_true(hoist_req_match_value(gt, "6"));
    assert_true(hoist_req_match_value(gt, "06"));
    assert_false(hoist_req_match_value(gt, "5"));
    assert_false(hoist_req_match_value(gt, "-6"));
    assert_false(hoist_req_match_value(gt, "abc")); /* not an integer */
    assert_false(hoist_req_match_value(gt, "6.5"));
    assert_false(hoist_req_match_value(gt, "99999999999999999999"));
    assert_false(hoist_req_match_value(gt, NULL));
    assert_true(hoist_req_match_value(lt, "-3"));
    assert_false(hoist_req_match_value(lt, "-2"));
    assert_false(hoist_req_match_value(lt, "0"));
    assert_false(hoist_req_match_value(lt, NULL));
    hoist_arena_free(&a);
}

static void test_match_labels_with_aliases(void **state)
{
    (void)state;
    hoist_arena a;
    hoist_arena_init(&a, 0);
    hoist_reqs rs = reqs(&a, "[{\"key\":\"karpenter.sh/capacity-type\",\"operator\":\"In\","
                             "\"values\":[\"spot\",\"on-demand\"]},"
                             " {\"key\":\"karpenter.k8s.aws/instance-cpu\",\"operator\":\"Gt\","
                             "\"values\":[\"3\"]},"
                             " {\"key\":\"beta.kubernetes.io/arch\",\"operator\":\"In\","
                             "\"values\":[\"amd64\"]},"
                             " {\"key\":\"example.com/taboo\",\"operator\":\"DoesNotExist\"}]");
    assert_string_equal(rs.items[0].key, "hoist.dev/capacity-type");
    assert_string_equal(rs.items[1].key, "hoist.dev/instance-cpu");
    assert_string_equal(rs.items[2].key, "kubernetes.io/arch");
    hoist_kv node[] = {{"hoist.dev/capacity-type", "spot"},
                       {"hoist.dev/instance-cpu", "4"},
                       {"kubernetes.io/arch", "amd64"}};
    hoist_labels l;
    assert_int_equal(hoist_labels_from_pairs(&a, node, 3, &l), 0);
    assert_true(hoist_reqs_match_labels(&rs, &l));
    hoist_kv small[] = {{"hoist.dev/capacity-type", "spot"},
                        {"hoist.dev/instance-cpu", "2"},
                        {"kubernetes.io/arch", "amd64"}};
    assert_int_equal(hoist_labels_from_pairs(&a, small, 3, &l), 0);
    assert_false(hoist_reqs_match_labels(&rs, &l));
    hoist_kv taboo[] = {{"hoist.dev/capacity-type", "spot"},
                        {"hoist.dev/instance-cpu", "8"},
                        {"kubernetes.io/arch", "amd64"},
                        {"example.com/taboo", ""}};
    assert_int_equal(hoist_labels_from_pairs(&a, taboo, 4, &l), 0);
    assert_false(hoist_reqs_match_labels(&rs, &l));
    hoist_kv missing[] = {{"hoist.dev/instance-cpu", "8"}, {"kubernetes.io/arch", "amd64"}};
    assert_int_equal(hoist_labels_from_pairs(&a, missing, 2, &l), 0);
    assert_false(hoist_reqs_match_labels(&rs, &l));
    /* No requirements match everything. */
    hoist_reqs none = {0, NULL};
    assert_true(hoist_reqs_match_labels(&none, &l));
    hoist_arena_free(&a);
}

#define R(k, op, vals) "{\"key\":\"" k "\",\"operator\":\"" op "\",\"values\":[" vals "]}"
#define E(k, op) "{\"key\":\"" k "\",\"operator\":\"" op "\"}"

static void test_compatible_table(void **state)
{
    (void)state;
    static const struct {
        const char *a, *b;
        bool want;
    } cases[] = {
        {"[]", "[]", true},
        {"[" R("k", "In", "\"a\",\"b\"") "]", "[" R("k", "In", "\"b\",\"c\"") "]", true},
        {"[" R("k", "In", "\"a\"") "]", "[" R("k", "In", "\"b\"") "]", false},
        {"[" R("k", "In", "\"a\"") "]", "[" R("k", "NotIn", "\"a\"") "]", false},
        {"[" R("k", "In", "\"a\",\"b\"") "]", "[" R("k", "NotIn", "\"a\"") "]", true},
        {"[" R("k", "NotIn", "\"a\"") "]", "[" R("k", "NotIn", "\"b\"") "]", true},
        {"[" R("k", "NotIn", "\"a\"") "]", "[" E("k", "DoesNotExist") "]", true},
        {"[" E("k", "DoesNotExist") "]", "[" E("k", "DoesNotExist") "]", true},
        {"[" E("k", "Exists") "]", "[" E("k", "DoesNotExist") "]", false},
        {"[" R("k", "In", "\"a\"") "]", "[" E("k", "DoesNotExist") "]", false},
        {"[" E("k", "Exists") "]", "[" R("k", "NotIn", "\"a\"") "]", true},
        {"[" E("k", "Exists") "]", "[" R("k", "In", "\"a\"") "]", true},
        {"[" R("k", "Gt", "\"5\"") "]", "[" R("k", "Lt", "\"6\"") "]", false},
        {"[" R("k", "Gt", "\"5\"") "]", "[" R("k", "Lt", "\"7\"") "]", true},
        {"[" R("k", "Gt", "\"5\"") "]", "[" R("k", "Lt", "\"5\"") "]", false},
        {"[" R("k", "Gt", "\"5\"") "]", "[" R("k", "In", "\"6\"") "]", true},
        {"[" R("k", "Gt", "\"5\"") "]", "[" R("k", "In", "\"5\",\"abc\"") "]", false},
        {"[" R("k", "Gt", "\"5\"") "]", "[" E("k", "DoesNotExist") "]", false},
        {"[" R("k", "Gt", "\"5\"") "]", "[" R("k", "NotIn", "\"6\"") "]", true},
        {"[" R("k", "Lt", "\"-9223372036854775808\"") "]", "[]", false},
        {"[" R("k", "Gt", "\"9223372036854775807\"") "]", "[]", false},
        /* a list that contradicts itself is incompatible with anything */
        {"[" R("k", "Gt", "\"5\"") "," R("k", "Lt", "\"3\"") "]", "[]", false},
        {"[]", "[" R("k", "In", "\"a\"") "," R("k", "In", "\"b\"") "]", false},
        /* disjoint keys */
        {"[" R("x", "In", "\"a\"") "]", "[" R("y", "In", "\"b\"") "]", true},
        /* one key fine, another not */
        {"[" R("x", "In", "\"a\"") "," R("y", "In", "\"b\"") "]",
         "[" R("x", "In", "\"a\"") "," R("y", "In", "\"c\"") "]", false},
        /* aliases are the same key */
        {"[" R("karpenter.sh/nodepool", "In", "\"a\"") "]",
         "[" R("hoist.dev/nodepool", "In", "\"b\"") "]", false},
        {"[" R("karpenter.sh/nodepool", "In", "\"a\"") "]",
         "[" R("hoist.dev/nodepool", "In", "\"a\"") "]", true},
        {"[" R("failure-domain.beta.kubernetes.io/zone", "In", "\"z1\"") "]",
         "[" R("topology.kubernetes.io/zone", "NotIn", "\"z1\"") "]", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hoist_arena a;
        hoist_arena_init(&a, 0);
        hoist_reqs x = reqs(&a, cases[i].a), y = reqs(&a, cases[i].b);
        if (hoist_reqs_compatible(&x, &y) != cases[i].want)
            fail_msg("%s vs %s: want %d", cases[i].a, cases[i].b, cases[i].want);
        if (hoist_reqs_compatible(&y, &x) != cases[i].want)
            fail_msg("%s vs %s (swapped): want %d", cases[i].b, cases[i].a, cases[i].want);
        hoist_reqs out;
        hoist_err err = {{0}};
        int rc = hoist_reqs_intersect(&a, &x, &y, &out, &err);
        if ((rc == 0) != cases[i].want)
            fail_msg("%s AND %s: intersect rc %d (%s)", cases[i].a, cases[i].b, rc, err.msg);
        hoist_arena_free(&a);
    }
}

static void test_intersect_table(void **state)
{
    (void)state;
    static const struct {
        const char *a, *b, *want;
    } cases[] = {
        {"[" R("k", "In", "\"a\",\"b\",\"c\"") "]", "[" R("k", "NotIn", "\"b\"") "]",
         "[" R("k", "In", "\"a\",\"c\"") "]"},
        {"[" R("k", "In", "\"c\",\"a\",\"b\"") "]", "[" R("k", "In", "\"b\",\"c\",\"d\"") "]",
         "[" R("k", "In", "\"b\",\"c\"") "]"},
        {"[" R("k", "NotIn", "\"b\"") "]", "[" R("k", "NotIn", "\"a\",\"b\"") "]",
         "[" R("k", "NotIn", "\"a\",\"b\"") "]"},
        {"[" E("k", "Exists") "]", "[" R("k", "NotIn", "\"a\"") "]",
         "[" E("k", "Exists") "," R("k", "NotIn", "\"a\"") "]"},
        {"[" E("k", "Exists") "]", "[" E("k", "Exists") "]", "[" E("k", "Exists") "]"},
        {"[" R("k", "NotIn", "\"a\"") "]", "[" E("k", "DoesNotExist") "]",
         "[" E("k", "DoesNotExist") "]"},
        {"[" R("k", "Gt", "\"2\"") "," R("k", "Gt", "\"4\"") "]", "[" R("k", "Lt", "\"10\"") "]",
         "[" R("k", "Gt", "\"4\"") "," R("k", "Lt", "\"10\"") "]"},
        {"[" R("k", "Gt", "\"2\"") "]", "[" R("k", "NotIn", "\"1\",\"3\",\"x\"") "]",
         "[" R("k", "NotIn", "\"3\"") "," R("k", "Gt", "\"2\"") "]"},
        {"[" R("k", "Gt", "\"2\"") "]", "[" E("k", "Exists") "]", "[" R("k", "Gt", "\"2\"") "]"},
        {"[" R("k", "In", "\"1\",\"5\",\"9\"") "," R("k", "Gt", "\"2\"") "]",
         "[" R("k", "Lt", "\"8\"") "]", "[" R("k", "In", "\"5\"") "]"},
        /* keys come out sorted, from both sides */
        {"[" R("zone", "In", "\"z1\"") "]", "[" R("arch", "In", "\"amd64\"") "]",
         "[" R("arch", "In", "\"amd64\"") "," R("zone", "In", "\"z1\"") "]"},
        /* aliases merge under the canonical key */
        {"[" R("karpenter.sh/capacity-type", "In", "\"spot\",\"on-demand\"") "]",
         "[" R("hoist.dev/capacity-type", "In", "\"spot\"") "]",
         "[" R("hoist.dev/capacity-type", "In", "\"spot\"") "]"},
        /* minValues: the largest is kept, on the first entry of the key */
        {"[{\"key\":\"f\",\"operator\":\"In\",\"values\":[\"a\",\"b\",\"c\"],\"minValues\":2}]",
         "[" R("f", "In", "\"a\",\"b\"") "]",
         "[{\"key\":\"f\",\"operator\":\"In\",\"values\":[\"a\",\"b\"],\"minValues\":2}]"},
        {"[{\"key\":\"f\",\"operator\":\"Exists\",\"minValues\":3}]",
         "[" R("f", "NotIn", "\"x\"") "]",
         "[{\"key\":\"f\",\"operator\":\"Exists\",\"minValues\":3}," R("f", "NotIn", "\"x\"") "]"},
        {"[]", "[]", "[]"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hoist_arena a;
        hoist_arena_init(&a, 0);
        hoist_reqs x = reqs(&a, cases[i].a), y = reqs(&a, cases[i].b), out;
        hoist_err err = {{0}};
        if (hoist_reqs_intersect(&a, &x, &y, &out, &err) != 0)
            fail_msg("%s AND %s: %s", cases[i].a, cases[i].b, err.msg);
        char *got = dump(&out);
        if (strcmp(got, cases[i].want) != 0)
            fail_msg("%s AND %s:\n  got  %s\n  want %s", cases[i].a, cases[i].b, got,
                     cases[i].want);
        free(got);
        hoist_arena_free(&a);
    }
}

static void test_intersect_error_names_key(void **state)
{
    (void)state;
    hoist_arena a;
    hoist_arena_init(&a, 0);
    hoist_reqs x = reqs(&a, "[" R("ok", "In", "\"1\"") "," R("hoist.dev/nodepool", "In", "\"a\"") "]");
    hoist_reqs y = reqs(&a, "[" R("karpenter.sh/nodepool", "In", "\"b\"") "]");
    hoist_reqs out = {99, NULL};
    hoist_err err = {{0}};
    assert_int_equal(hoist_reqs_intersect(&a, &x, &y, &out, &err), -1);
    assert_string_equal(err.msg, "hoist.dev/nodepool: requirements cannot all be met");
    assert_int_equal(out.n, 0);
    hoist_arena_free(&a);
}

/* The intersection matches exactly the label sets that match both inputs,
 * checked over every pair from a pool of requirement lists and a grid of
 * label values (absent included). */
static void test_intersect_matches_conjunction(void **state)
{
    (void)state;
    static const char *const pool[] = {
        "[]",
        "[" R("k", "In", "\"a\",\"b\"") "]",
        "[" R("k", "In", "\"1\",\"5\",\"05\",\"x\"") "]",
        "[" R("k", "NotIn", "\"a\"") "]",
        "[" R("k", "NotIn", "\"5\",\"b\"") "]",
        "[" E("k", "Exists") "]",
        "[" E("k", "DoesNotExist") "]",
        "[" R("k", "Gt", "\"3\"") "]",
        "[" R("k", "Lt", "\"6\"") "]",
        "[" R("k", "Gt", "\"0\"") "," R("k", "Lt", "\"9\"") "," R("k", "NotIn", "\"1\"") "]",
        "[" R("k", "In", "\"b\"") "," R("j", "Exists", "") "]",
        "[" E("j", "DoesNotExist") "]",
        "[" R("j", "NotIn", "\"q\"") "," R("k", "NotIn", "\"9\"") "]",
    };
    static const char *const values[] = {NULL, "a", "b", "x", "1", "3", "4", "5", "05",
                                         "6", "9", "q", ""};
    const size_t np = sizeof pool / sizeof pool[0], nv = sizeof values / sizeof values[0];
    for (size_t p = 0; p < np; p++) {
        for (size_t q = 0; q < np; q++) {
            hoist_arena a;
            hoist_arena_init(&a, 0);
            hoist_reqs x = reqs(&a, pool[p]), y = reqs(&a, pool[q]), out;
            hoist_err err = {{0}};
            int rc = hoist_reqs_intersect(&a, &x, &y, &out, &err);
            bool compat = hoist_reqs_compatible(&x, &y);
            assert_int_equal(rc == 0, compat);
            bool any = false;
            for (size_t vk = 0; vk < nv; vk++) {
                for (size_t vj = 0; vj < nv; vj++) {
                    hoist_kv kv[2];
                    size_t n = 0;
                    if (values[vk])
                        kv[n++] = (hoist_kv){"k", values[vk]};
                    if (values[vj])
                        kv[n++] = (hoist_kv){"j", values[vj]};
                    hoist_labels l;
                    assert_int_equal(hoist_labels_from_pairs(&a, kv, n, &l), 0);
                    bool both = hoist_reqs_match_labels(&x, &l) && hoist_reqs_match_labels(&y, &l);
                    any |= both;
                    if (rc == 0 && hoist_reqs_match_labels(&out, &l) != both)
                        fail_msg("%s AND %s with k=%s j=%s: intersection says %d", pool[p],
                                 pool[q], values[vk] ? values[vk] : "(absent)",
                                 values[vj] ? values[vj] : "(absent)", !both);
                }
            }
            /* A witness proves compatibility. */
            if (any && !compat)
                fail_msg("%s vs %s: matching labels exist but not compatible", pool[p], pool[q]);
            hoist_arena_free(&a);
        }
    }
}

static void test_decode_good(void **state)
{
    (void)state;
    hoist_arena a;
    hoist_arena_init(&a, 0);
    hoist_reqs rs = reqs(&a, "[{\"key\":\"k\",\"operator\":\"In\",\"values\":[\"c\",\"a\",\"c\",\"b\"],"
                             "\"minValues\":3, \"ignored\": true},"
                             " {\"key\":\"e\",\"operator\":\"Exists\",\"values\":[]},"
                             " {\"key\":\"d\",\"operator\":\"DoesNotExist\",\"values\":null}]");
    assert_int_equal(rs.n, 3);
    assert_int_equal(rs.items[0].n_values, 3); /* sorted and de-duplicated */
    assert_string_equal(rs.items[0].values[0], "a");
    assert_string_equal(rs.items[0].values[1], "b");
    assert_string_equal(rs.items[0].values[2], "c");
    assert_int_equal(rs.items[0].min_values, 3);
    assert_int_equal(rs.items[1].op, HOIST_OP_EXISTS);
    assert_int_equal(rs.items[2].op, HOIST_OP_DOES_NOT_EXIST);
    /* Round trip through JSON. */
    char *s = dump(&rs);
    assert_string_equal(s, "[{\"key\":\"k\",\"operator\":\"In\",\"values\":[\"a\",\"b\",\"c\"],"
                           "\"minValues\":3},{\"key\":\"e\",\"operator\":\"Exists\"},"
                           "{\"key\":\"d\",\"operator\":\"DoesNotExist\"}]");
    hoist_reqs back = reqs(&a, s);
    char *s2 = dump(&back);
    assert_string_equal(s, s2);
    free(s);
    free(s2);
    /* null and absent give nothing. */
    hoist_err err = {{0}};
    assert_int_equal(hoist_reqs_from_json(&a, NULL, false, &rs, &err), 0);
    assert_int_equal(rs.n, 0);
    json_t *n = json_null();
    assert_int_equal(hoist_reqs_from_json(&a, n, false, &rs, &err), 0);
    assert_int_equal(rs.n, 0);
    hoist_arena_free(&a);
}

static void test_decode_bad(void **state)
{
    (void)state;
    static const struct {
        const char *json;
        bool allow_min;
        const char *want;
    } cases[] = {
        {"{}", true, "expected an array of requirements, got an object"},
        {"[1]", true, "[0]: expected an object, got an integer"},
        {"[" E("k", "Exists") ", \"x\"]", true, "[1]: expected an object, got a string"},
        {"[{\"operator\":\"Exists\"}]", true, "[0].key: missing"},
        {"[{\"key\":5,\"operator\":\"Exists\"}]", true, "[0].key: expected a string, got an integer"},
        {"[{\"key\":\"a b\",\"operator\":\"Exists\"}]", true, "[0].key: invalid label key \"a b\""},
        {"[{\"key\":\"\",\"operator\":\"Exists\"}]", true, "[0].key: invalid label key \"\""},
        {"[" E("k", "Exists") "," E("k", "Exists") ",{\"key\":\"k\",\"operator\":\"Inn\","
         "\"values\":[\"a\"]}]", true, "[2].operator: unknown operator \"Inn\""},
        {"[{\"key\":\"k\"}]", true, "[0].operator: missing"},
        {"[{\"key\":\"k\",\"operator\":null}]", true, "[0].operator: expected a string, got null"},
        {"[{\"key\":\"k\",\"operator\":\"in\",\"values\":[\"a\"]}]", true,
         "[0].operator: unknown operator \"in\""},
        {"[{\"key\":\"k\",\"operator\":\"In\"}]", true,
         "[0].values: operator In needs at least one value"},
        {"[" R("k", "NotIn", "") "]", true, "[0].values: operator NotIn needs at least one value"},
        {"[" R("k", "Exists", "\"a\"") "]", true, "[0].values: operator Exists takes no values"},
        {"[" R("k", "DoesNotExist", "\"a\"") "]", true,
         "[0].values: operator DoesNotExist takes no values"},
        {"[" R("k", "Gt", "") "]", true, "[0].values: operator Gt needs exactly one value, got 0"},
        {"[" R("k", "Lt", "\"1\",\"2\"") "]", true,
         "[0].values: operator Lt needs exactly one value, got 2"},
        {"[" R("k", "Gt", "\"abc\"") "]", true, "[0].values[0]: \"abc\" is not an integer"},
        {"[" R("k", "Lt", "\"1.5\"") "]", true, "[0].values[0]: \"1.5\" is not an integer"},
        {"[" R("k", "Gt", "\"99999999999999999999\"") "]", true,
         "[0].values[0]: \"99999999999999999999\" is not an integer"},
        {"[{\"key\":\"k\",\"operator\":\"In\",\"values\":\"a\"}]", true,
         "[0].values: expected an array, got a string"},
        {"[" R("k", "In", "\"a\",7") "]", true, "[0].values[1]: expected a string, got an integer"},
        {"[{\"key\":\"k\",\"operator\":\"In\",\"values\":[\"a\"],\"minValues\":1}]", false,
         "[0].minValues: not allowed here"},
        {"[{\"key\":\"k\",\"operator\":\"In\",\"values\":[\"a\"],\"minValues\":\"1\"}]", true,
         "[0].minValues: expected an integer, got a string"},
        {"[{\"key\":\"k\",\"operator\":\"In\",\"values\":[\"a\"],\"minValues\":0}]", true,
         "[0].minValues: must be between 1 and 50, got 0"},
        {"[{\"key\":\"k\",\"operator\":\"Exists\",\"minValues\":51}]", true,
         "[0].minValues: must be between 1 and 50, got 51"},
        {"[{\"key\":\"k\",\"operator\":\"In\",\"values\":[\"a\",\"b\",\"a\"],\"minValues\":3}]",
         true, "[0].minValues: 3 is more than the 2 distinct values given"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hoist_arena a;
        hoist_arena_init(&a, 0);
        json_t *j = parse(cases[i].json);
        hoist_reqs rs = {7, NULL};
        hoist_err err = {{0}};
        assert_int_equal(hoist_reqs_from_json(&a, j, cases[i].allow_min, &rs, &err), -1);
        if (strncmp(err.msg, cases[i].want, strlen(cases[i].want)) != 0)
            fail_msg("%s:\n  got  \"%s\"\n  want \"%s...\"", cases[i].json, err.msg, cases[i].want);
        assert_int_equal(rs.n, 0);
        json_decref(j);
        hoist_arena_free(&a);
    }
}

static void test_selector(void **state)
{
    (void)state;
    hoist_arena a;
    hoist_arena_init(&a, 0);
    json_t *j = parse("{\"matchLabels\": {\"app\": \"web\", \"karpenter.sh/nodepool\": \"np\"},"
                      " \"matchExpressions\": [" R("tier", "NotIn", "\"db\"") ","
                      E("canary", "DoesNotExist") "]}");
    hoist_reqs rs;
    hoist_err err = {{0}};
    assert_int_equal(hoist_selector_from_json(&a, j, &rs, &err), 0);
    json_decref(j);
    assert_int_equal(rs.n, 4);
    char *s = dump(&rs);
    assert_string_equal(s, "[" R("app", "In", "\"web\"") "," R("hoist.dev/nodepool", "In", "\"np\"")
                           "," R("tier", "NotIn", "\"db\"") "," E("canary", "DoesNotExist") "]");
    free(s);
    hoist_kv pod[] = {{"app", "web"}, {"hoist.dev/nodepool", "np"}, {"tier", "front"}};
    hoist_labels l;
    assert_int_equal(hoist_labels_from_pairs(&a, pod, 3, &l), 0);
    assert_true(hoist_reqs_match_labels(&rs, &l));
    pod[2].value = "db";
    assert_int_equal(hoist_labels_from_pairs(&a, pod, 3, &l), 0);
    assert_false(hoist_reqs_match_labels(&rs, &l));

    /* Empty, null and missing selectors select everything. */
    assert_int_equal(hoist_selector_from_json(&a, NULL, &rs, &err), 0);
    assert_int_equal(rs.n, 0);
    j = parse("{}");
    assert_int_equal(hoist_selector_from_json(&a, j, &rs, &err), 0);
    assert_int_equal(rs.n, 0);
    json_decref(j);
    j = parse("{\"matchLabels\": null, \"matchExpressions\": null}");
    assert_int_equal(hoist_selector_from_json(&a, j, &rs, &err), 0);
    assert_int_equal(rs.n, 0);
    json_decref(j);
    hoist_arena_free(&a);
}

static void test_selector_bad(void **state)
{
    (void)state;
    static const struct {
        const char *json, *want;
    } cases[] = {
        {"[]", "expected a label selector object, got an array"},
        {"{\"matchLabels\": []}", "matchLabels: expected an object, got an array"},
        {"{\"matchLabels\": {\"app\": 1}}", "matchLabels.app: expected a string, got an integer"},
        {"{\"matchLabels\": {\"app\": \"a b\"}}", "matchLabels.app: invalid label value \"a b\""},
        {"{\"matchLabels\": {\"-app\": \"x\"}}", "matchLabels: invalid label key \"-app\""},
        {"{\"matchExpressions\": {}}", "matchExpressions: expected an array, got an object"},
        {"{\"matchExpressions\": [" R("k", "Gt", "\"1\"") "]}",
         "matchExpressions[0].operator: unknown operator \"Gt\" (expected In, NotIn, Exists or "
         "DoesNotExist)"},
        {"{\"matchExpressions\": [" E("k", "Exists") ",{\"key\":\"k\",\"operator\":\"In\"}]}",
         "matchExpressions[1].values: operator In needs at least one value"},
        {"{\"matchExpressions\": [" R("k", "In", "\"a b\"") "]}",
         "matchExpressions[0].values[0]: invalid label value \"a b\""},
        {"{\"matchExpressions\": [{\"key\":\"k\",\"operator\":\"In\",\"values\":[\"a\"],"
         "\"minValues\":1}]}", "matchExpressions[0].minValues: not allowed here"},
        {"{\"matchExpressions\": [{\"operator\":\"Exists\"}]}", "matchExpressions[0].key: missing"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hoist_arena a;
        hoist_arena_init(&a, 0);
        json_t *j = parse(cases[i].json);
        hoist_reqs rs = {7, NULL};
        hoist_err err = {{0}};
        assert_int_equal(hoist_selector_from_json(&a, j, &rs, &err), -1);
        if (strncmp(err.msg, cases[i].want, strlen(cases[i].want)) != 0)
            fail_msg("%s:\n  got  \"%s\"\n  want \"%s...\"", cases[i].json, err.msg, cases[i].want);
        assert_int_equal(rs.n, 0);
        json_decref(j);
        hoist_arena_free(&a);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_op_names),
        cmocka_unit_test(test_parse_int64),
        cmocka_unit_test(test_match_value),
        cmocka_unit_test(test_match_labels_with_aliases),
        cmocka_unit_test(test_compatible_table),
        cmocka_unit_test(test_intersect_table),
        cmocka_unit_test(test_intersect_error_names_key),
        cmocka_unit_test(test_intersect_matches_conjunction),
        cmocka_unit_test(test_decode_good),
        cmocka_unit_test(test_decode_bad),
        cmocka_unit_test(test_selector),
        cmocka_unit_test(test_selector_bad),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
