/* tests/unit/test_jsontext.c - hoist_json_compact writes exactly what
 * json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY) writes (util/jsontext.h):
 * on hand-picked values, on every object of the bundled traces, and on
 * random trees of every JSON type. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/jsontext.h"

static void same_as_jansson(const json_t *j)
{
    char *want = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    char *got = hoist_json_compact(j);
    assert_non_null(want);
    assert_non_null(got);
    if (strcmp(want, got) != 0)
        fail_msg("want %s\n got %s", want, got);
    free(want);
    free(got);
}

static void test_hand_picked(void **state)
{
    (void)state;
    static const char *const texts[] = {
        "{}", "[]", "\"\"", "0", "-1", "9223372036854775807", "-9223372036854775808", "true",
        "false", "null", "1.5", "-0.0", "1e300", "123456789.125", "\"caf\\u00e9\"",
        "\"\\u2028 and \\ud83d\\ude00\"", "\"tab\\tnew\\nline\\r\\b\\f\\\\ \\\" / \\u0001\\u001f\\u007f\"",
        "{\"a\":{\"b\":[1,2,{\"c\":null}],\"d\":\"x\"},\"e\":[],\"f\":{}}",
        "{\"z\":1,\"a\":2,\"m\":[true,false,null,\"s\",-3]}",
        "[[[[[[]]]]],{\"\":\"\"}]",
        "{\"key\":\"nul\\u0000inside\"}",
        "{\"x\":[1,2.25,3],\"y\":\"ok\"}",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        json_error_t e;
        json_t *j = json_loads(texts[i], JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
        if (!j)
            fail_msg("%s: %s", texts[i], e.text);
        same_as_jansson(j);
        json_decref(j);
    }
    /* built by hand, keys in insertion order (not sorted) */
    json_t *o = json_pack("{s:i, s:s, s:[i, b, n]}", "zeta", 1, "alpha", "x\"y", "mid", -7, 1);
    json_object_set_new(o, "added", json_string("later"));
    same_as_jansson(o);
    json_object_set_new(o, "zeta", json_string("replaced in place"));
    same_as_jansson(o);
    json_decref(o);
    assert_null(hoist_json_compact(NULL));
}

static void test_bundled_traces(void **state)
{
    (void)state;
    const char *src = getenv("HOIST_SRCDIR");
    static const char *const files[] = {"web-diurnal.jsonl", "batch-and-ml.jsonl",
                                        "stateful.jsonl"};
    size_t checked = 0;
    for (size_t f = 0; f < 3; f++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/contrib/traces/%s", src && *src ? src : ".", files[f]);
        FILE *in = fopen(path, "r");
        if (!in)
            fail_msg("%s: cannot open", path);
        char *line = NULL;
        size_t cap = 0;
        ssize_t n;
        while ((n = getline(&line, &cap, in)) > 0 && checked < 200000) {
            if (line[0] != '{')
                continue;
            json_t *ev = json_loads(line, 0, NULL);
            assert_non_null(ev);
            same_as_jansson(json_object_get(ev, "object"));
            same_as_jansson(ev);
            json_decref(ev);
            checked++;
        }
        free(line);
        fclose(in);
    }
    assert_true(checked > 1000);
}

static uint64_t rnd(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* A random string: mostly ASCII of every kind, control characters,
 * quotes and backslashes, sometimes a multi-byte character. */
static json_t *random_string(uint64_t *seed)
{
    char buf[64];
    size_t n = rnd(seed) % 20, len = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned r = (unsigned)(rnd(seed) % 100);
        if (r < 80)
            buf[len++] = (char)(0x20 + rnd(seed) % 0x60);
        else if (r < 95)
            buf[len++] = (char)(1 + rnd(seed) % 0x1f);
        else if (r < 98) {
            memcpy(buf + len, "\xc3\xa9", 2); /* e acute */
            len += 2;
        } else
            buf[len++] = "\"\\/"[rnd(seed) % 3];
    }
    return json_stringn(buf, len);
}

static json_t *random_value(uint64_t *seed, int depth)
{
    unsigned r = (unsigned)(rnd(seed) % (depth > 4 ? 6 : 8));
    switch (r) {
    case 0: return json_integer((json_int_t)rnd(seed) * (rnd(seed) % 2 ? 1 : -1));
    case 1: return json_integer((json_int_t)(rnd(seed) % 1000) - 500);
    case 2: return random_string(seed);
    case 3: return rnd(seed) % 2 ? json_true() : json_false();
    case 4: return json_null();
    case 5: return rnd(seed) % 10 == 0 ? json_real((double)(rnd(seed) % 100000) / 7.0)
                                        : random_string(seed);
    case 6: {
        json_t *a = json_array();
        size_t n = rnd(seed) % 5;
        for (size_t i = 0; i < n; i++)
            json_array_append_new(a, random_value(seed, depth + 1));
        return a;
    }
    default: {
        json_t *o = json_object();
        size_t n = rnd(seed) % 6;
        for (size_t i = 0; i < n; i++) {
            json_t *k = random_string(seed);
            json_object_setn_new(o, json_string_value(k), json_string_length(k),
                                 random_value(seed, depth + 1));
            json_decref(k);
        }
        return o;
    }
    }
}

static void test_random_trees(void **state)
{
    (void)state;
    uint64_t seed = 7;
    for (int i = 0; i < 3000; i++) {
        json_t *j = random_value(&seed, 0);
        assert_non_null(j);
        same_as_jansson(j);
        json_decref(j);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_picked),
        cmocka_unit_test(test_bundled_traces),
        cmocka_unit_test(test_random_trees),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
