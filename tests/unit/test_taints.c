/* test_taints.c - taints, tolerations and Kubernetes' toleration rules. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "model/taints.h"

#include "test_json.h"

static hoist_tolerations tols(hoist_arena *a, const char *text)
{
    json_t *j = parse(text);
    hoist_tolerations t;
    hoist_err err = {{0}};
    if (hoist_tolerations_from_json(a, j, &t, &err) != 0)
        fail_msg("%s: %s", text, err.msg);
    json_decref(j);
    return t;
}

static hoist_taints taints(hoist_arena *a, const char *text)
{
    json_t *j = parse(text);
    hoist_taints t;
    hoist_err err = {{0}};
    if (hoist_taints_from_json(a, j, &t, &err) != 0)
        fail_msg("%s: %s", text, err.msg);
    json_decref(j);
    return t;
}

static void test_effect_names(void **state)
{
    (void)state;
    assert_string_equal(hoist_taint_effect_name(HOIST_TAINT_NO_SCHEDULE), "NoSchedule");
    assert_string_equal(hoist_taint_effect_name(HOIST_TAINT_PREFER_NO_SCHEDULE), "PreferNoSchedule");
    assert_string_equal(hoist_taint_effect_name(HOIST_TAINT_NO_EXECUTE), "NoExecute");
    assert_int_equal(hoist_taint_effect_parse("NoSchedule"), HOIST_TAINT_NO_SCHEDULE);
    assert_int_equal(hoist_taint_effect_parse("PreferNoSchedule"), HOIST_TAINT_PREFER_NO_SCHEDULE);
    assert_int_equal(hoist_taint_effect_parse("NoExecute"), HOIST_TAINT_NO_EXECUTE);
    assert_int_equal(hoist_taint_effect_parse("noschedule"), -1);
    assert_int_equal(hoist_taint_effect_parse(""), -1);
    assert_int_equal(hoist_taint_effect_parse(NULL), -1);
}

static void test_tolerates_rules(void **state)
{
    (void)state;
    hoist_taint gpu = {"nvidia.com/gpu", "true", HOIST_TAINT_NO_SCHEDULE};
    hoist_taint gpu_exec = {"nvidia.com/gpu", "true", HOIST_TAINT_NO_EXECUTE};
    hoist_taint other = {"dedicated", "infra", HOIST_TAINT_NO_SCHEDULE};
    hoist_taint novalue = {"spot", "", HOIST_TAINT_NO_SCHEDULE};
    static const struct {
        hoist_toleration t;
        bool gpu, gpu_exec, other, novalue;
    } cases[] = {
        /* empty key + Exists tolerates everything */
        {{"", HOIST_TOLERATE_EXISTS, "", -1, -1}, true, true, true, true},
        /* ... but only for its effect when one is given */
        {{"", HOIST_TOLERATE_EXISTS, "", HOIST_TAINT_NO_SCHEDULE, -1}, true, false, true, true},
        /* key + Exists: any value, every effect */
        {{"nvidia.com/gpu", HOIST_TOLERATE_EXISTS, "", -1, -1}, true, true, false, false},
        /* key + Equal: the value must match */
        {{"nvidia.com/gpu", HOIST_TOLERATE_EQUAL, "true", -1, -1}, true, true, false, false},
        {{"nvidia.com/gpu", HOIST_TOLERATE_EQUAL, "false", -1, -1}, false, false, false, false},
        {{"nvidia.com/gpu", HOIST_TOLERATE_EQUAL, "true", HOIST_TAINT_NO_EXECUTE, 30},
         false, true, false, false},
        {{"spot", HOIST_TOLERATE_EQUAL, "", -1, -1}, false, false, false, true},
        {{"spot", HOIST_TOLERATE_EQUAL, NULL, -1, -1}, false, false, false, true},
        {{NULL, HOIST_TOLERATE_EXISTS, NULL, -1, -1}, true, true, true, true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const hoist_toleration *t = &cases[i].t;
        if (hoist_toleration_tolerates(t, &gpu) != cases[i].gpu ||
            hoist_toleration_tolerates(t, &gpu_exec) != cases[i].gpu_exec ||
            hoist_toleration_tolerates(t, &other) != cases[i].other ||
            hoist_toleration_tolerates(t, &novalue) != cases[i].novalue)
            fail_msg("case %zu", i);
    }
}

static void test_tolerate_all(void **state)
{
    (void)state;
    hoist_arena a;
    hoist_arena_init(&a, 0);
    hoist_taints node = taints(&a, "[{\"key\":\"dedicated\",\"value\":\"gpu\",\"effect\":\"NoSchedule\"},"
                                   " {\"key\":\"soft\",\"effect\":\"PreferNoSchedule\"},"
                                   " {\"key\":\"draining\",\"effect\":\"NoExecute\"}]");
    assert_int_equal(node.n, 3);
    hoist_tolerations none = {0, NULL};
    /* PreferNoSchedule never blocks; the first blocking one is reported. */
    assert_false(hoist_tolerations_tolerate_all(&none, &node));
    assert_string_equal(hoist_tolerations_first_untolerated(&none, &node)->key, "dedicated");
    hoist_tolerations some = tols(&a, "[{\"key\":\"dedicated\",\"operator\":\"Equal\","
                                      "\"value\":\"gpu\",\"effect\":\"NoSchedule\"}]");
    assert_string_equal(hoist_tolerations_first_untolerated(&some, &node)->key, "draining");
    hoist_tolerations enough = tols(&a, "[{\"key\":\"dedicated\",\"value\":\"gpu\"},"
                                        " {\"key\":\"draining\",\"operator\":\"Exists\","
                                        "\"effect\":\"NoExecute\",\"tolerationSeconds\":300}]");
    assert_true(hoist_tolerations_tolerate_all(&enough, &node));
    assert_null(hoist_tolerations_first_untolerated(&enough, &node));
    hoist_tolerations all = tols(&a, "[{\"operator\":\"Exists\"}]");
    assert_true(hoist_tolerations_tolerate_all(&all, &node));
    /* Wrong value does not tolerate. */
    hoist_tolerations wrong = tols(&a, "[{\"key\":\"dedicated\",\"value\":\"cpu\"},"
                                       " {\"key\":\"draining\",\"operator\":\"Exists\"}]");
    assert_false(hoist_tolerations_tolerate_all(&wrong, &node));
    /* No taints: anything goes. */
    hoist_taints clean = {0, NULL};
    assert_true(hoist_tolerations_tolerate_all(&none, &clean));
    assert_true(hoist_tolerations_tolerate_all(NULL, NULL));
    hoist_arena_free(&a);
}

static void test_decode_tolerations_good(void **state)
{
    (void)state;
    hoist_arena a;
    hoist_arena_init(&a, 0);
    hoist_tolerations t = tols(&a, "[{\"key\":\"k\",\"value\":\"v\"},"
                                   " {\"key\":\"k\",\"operator\":\"Exists\",\"effect\":\"NoExecute\","
                                   "\"tolerationSeconds\":-5},"
                                   " {\"operator\":\"Exists\",\"effect\":\"\"},"
                                   " {\"key\":\"k\",\"operator\":\"\",\"value\":\"\",\"effect\":null,"
                                   "\"tolerationSeconds\":null}]");
    assert_int_equal(t.n, 4);
    assert_int_equal(t.items[0].op, HOIST_TOLERATE_EQUAL);
    assert_string_equal(t.items[0].value, "v");
    assert_int_equal(t.items[0].effect, -1);
    assert_int_equal(t.items[0].toleration_seconds, -1);
    assert_int_equal(t.items[1].op, HOIST_TOLERATE_EXISTS);
    assert_int_equal(t.items[1].effect, HOIST_TAINT_NO_EXECUTE);
    assert_int_equal(t.items[1].toleration_seconds, 0);
    assert_string_equal(t.items[2].key, "");
    assert_int_equal(t.items[2].effect, -1);
    assert_int_equal(t.items[3].op, HOIST_TOLERATE_EQUAL);
    json_t *j = hoist_tolerations_to_json(&t);
    char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    assert_string_equal(s, "[{\"key\":\"k\",\"operator\":\"Equal\",\"value\":\"v\"},"
                           "{\"key\":\"k\",\"operator\":\"Exists\",\"effect\":\"NoExecute\","
                           "\"tolerationSeconds\":0},{\"operator\":\"Exists\"},"
                           "{\"key\":\"k\",\"operator\":\"Equal\"}]");
    free(s);
    json_decref(j);
    hoist_err err = {{0}};
    assert_int_equal(hoist_tolerations_from_json(&a, NULL, &t, &err), 0);
    assert_int_equal(t.n, 0);
    hoist_arena_free(&a);
}

static void test_decode_taints_good(void **state)
{
    (void)state;
    hoist_arena a;
    hoist_arena_init(&a, 0);
    hoist_taints t = taints(&a, "[{\"key\":\"example.com/k\",\"value\":\"v\",\"effect\":\"NoSchedule\","
                                "\"timeAdded\":\"2024-01-01T00:00:00Z\"},"
                                " {\"key\":\"x\",\"effect\":\"NoExecute\"}]");
    assert_int_equal(t.n, 2);
    assert_string_equal(t.items[0].key, "example.com/k");
    assert_string_equal(t.items[1].value, "");
    assert_int_equal(t.items[1].effect, HOIST_TAINT_NO_EXECUTE);
    json_t *j = hoist_taints_to_json(&t);
    char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    assert_string_equal(s, "[{\"key\":\"example.com/k\",\"value\":\"v\",\"effect\":\"NoSchedule\"},"
                           "{\"key\":\"x\",\"effect\":\"NoExecute\"}]");
    hoist_taints back = taints(&a, s);
    assert_int_equal(back.n, 2);
    assert_string_equal(back.items[0].value, "v");
    free(s);
    json_decref(j);
    hoist_err err = {{0}};
    json_t *n = json_null();
    assert_int_equal(hoist_taints_from_json(&a, n, &t, &err), 0);
    assert_int_equal(t.n, 0);
    hoist_arena_free(&a);
}

static void test_decode_bad(void **state)
{
    (void)state;
    static const struct {
        bool taint; /* decode as taints, else as tolerations */
        const char *json, *want;
    } cases[] = {
        {true, "{}", "expected an array of taints, got an object"},
        {true, "[3]", "[0]: expected an object, got an integer"},
        {true, "[{\"effect\":\"NoSchedule\"}]", "[0].key: missing"},
        {true, "[{\"key\":1,\"effect\":\"NoSchedule\"}]", "[0].key: expected a string, got an integer"},
        {true, "[{\"key\":\"a b\",\"effect\":\"NoSchedule\"}]", "[0].key: invalid label key \"a b\""},
        {true, "[{\"key\":\"k\",\"value\":\"a b\",\"effect\":\"NoSchedule\"}]",
         "[0].value: invalid label value \"a b\""},
        {true, "[{\"key\":\"k\",\"value\":true,\"effect\":\"NoSchedule\"}]",
         "[0].value: expected a string, got a boolean"},
        {true, "[{\"key\":\"k\",\"effect\":\"NoSchedule\"},{\"key\":\"k\"}]", "[1].effect: missing"},
        {true, "[{\"key\":\"k\",\"effect\":\"\"}]", "[0].effect: missing"},
        {true, "[{\"key\":\"k\",\"effect\":\"NoScheduled\"}]",
         "[0].effect: unknown effect \"NoScheduled\" (expected NoSchedule, PreferNoSchedule or "
         "NoExecute)"},
        {false, "\"x\"", "expected an array of tolerations, got a string"},
        {false, "[null]", "[0]: expected an object, got null"},
        {false, "[{\"key\":\"k\",\"operator\":\"Equals\"}]",
         "[0].operator: unknown operator \"Equals\" (expected Equal or Exists)"},
        {false, "[{\"key\":\"k\",\"operator\":5}]", "[0].operator: expected a string, got an integer"},
        {false, "[{\"value\":\"v\"}]", "[0].operator: must be Exists when key is empty"},
        {false, "[{\"key\":\"k\",\"operator\":\"Exists\",\"value\":\"v\"}]",
         "[0].value: must be empty when operator is Exists"},
        {false, "[{\"key\":\"-k\",\"operator\":\"Exists\"}]", "[0].key: invalid label key \"-k\""},
        {false, "[{\"key\":\"k\",\"value\":\"v v\"}]", "[0].value: invalid label value \"v v\""},
        {false, "[{\"key\":\"k\",\"effect\":\"Never\"}]", "[0].effect: unknown effect \"Never\""},
        {false, "[{\"key\":\"k\",\"effect\":\"NoExecute\",\"tolerationSeconds\":\"30\"}]",
         "[0].tolerationSeconds: expected an integer, got a string"},
        {false, "[{\"key\":\"k\",\"effect\":\"NoExecute\",\"tolerationSeconds\":1.5}]",
         "[0].tolerationSeconds: expected an integer, got a number"},
        {false, "[{\"key\":\"k\",\"effect\":\"NoSchedule\",\"tolerationSeconds\":30}]",
         "[0].tolerationSeconds: only allowed with effect NoExecute"},
        {false, "[{\"key\":\"k\",\"tolerationSeconds\":30}]",
         "[0].tolerationSeconds: only allowed with effect NoExecute"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hoist_arena a;
        hoist_arena_init(&a, 0);
        json_t *j = parse(cases[i].json);
        hoist_err err = {{0}};
        int rc;
        size_t n;
        if (cases[i].taint) {
            hoist_taints t = {5, NULL};
            rc = hoist_taints_from_json(&a, j, &t, &err);
            n = t.n;
        } else {
            hoist_tolerations t = {5, NULL};
            rc = hoist_tolerations_from_json(&a, j, &t, &err);
            n = t.n;
        }
        assert_int_equal(rc, -1);
        assert_int_equal(n, 0);
        if (strncmp(err.msg, cases[i].want, strlen(cases[i].want)) != 0)
            fail_msg("%s:\n  got  \"%s\"\n  want \"%s...\"", cases[i].json, err.msg, cases[i].want);
        json_decref(j);
        hoist_arena_free(&a);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_effect_names),
        cmocka_unit_test(test_tolerates_rules),
        cmocka_unit_test(test_tolerate_all),
        cmocka_unit_test(test_decode_tolerations_good),
        cmocka_unit_test(test_decode_taints_good),
        cmocka_unit_test(test_decode_bad),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
