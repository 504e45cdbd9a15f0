/* tests/unit/test_strmap.c - the string -> integer hash map (util/strmap.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "util/strmap.h"

static void test_put_get_replace(void **state)
{
    (void)state;
    hoist_strmap m;
    hoist_strmap_init(&m);
    int64_t v = 0;
    assert_false(hoist_strmap_get(&m, "a", &v));
    assert_false(hoist_strmap_del(&m, "a")); /* empty map */
    assert_int_equal(hoist_strmap_put(&m, "a", 1), 0);
    assert_int_equal(hoist_strmap_put(&m, "b", 2), 0);
    assert_int_equal(hoist_strmap_put(&m, "a", 3), 0); /* replaces */
    assert_int_equal(m.n, 2);
    assert_true(hoist_strmap_get(&m, "a", &v));
    assert_int_equal(v, 3);
    assert_true(hoist_strmap_del(&m, "a"));
    assert_false(hoist_strmap_del(&m, "a"));
    assert_false(hoist_strmap_get(&m, "a", NULL));
    assert_true(hoist_strmap_get(&m, "b", &v));
    assert_int_equal(v, 2);
    assert_int_equal(m.n, 1);
    hoist_strmap_free(&m);
}

/* Random puts and deletes against a plain array: every key present in the
 * array is found with its value, every other is not (deletion must keep
 * probe runs intact, including runs that wrap around the table's end). */
static void test_random_against_reference(void **state)
{
    (void)state;
    enum { N = 500 };
    static char keys[N][16];
    int64_t ref[N];
    hoist_strmap m;
    hoist_strmap_init(&m);
    for (int i = 0; i < N; i++) {
        snprintf(keys[i], sizeof keys[i], "key-%d", i);
        ref[i] = -1;
    }
    unsigned seed = 7;
    for (int step = 0; step < 20000; step++) {
        seed = seed * 1103515245u + 12345u;
        int k = (int)((seed >> 8) % N);
        if ((seed >> 20) % 3) {
            assert_int_equal(hoist_strmap_put(&m, keys[k], step), 0);
            ref[k] = step;
        } else {
            assert_int_equal(hoist_strmap_del(&m, keys[k]), ref[k] >= 0);
            ref[k] = -1;
        }
        if (step % 1000 == 0 || step == 19999) {
            size_t live = 0;
            for (int i = 0; i < N; i++) {
                int64_t v;
                bool found = hoist_strmap_get(&m, keys[i], &v);
                if (found != (ref[i] >= 0) || (found && v != ref[i]))
                    fail_msg("step %d: %s: found %d value %lld, expected %lld", step, keys[i],
                             found, (long long)(found ? v : -1), (long long)ref[i]);
                live += ref[i] >= 0;
            }
            assert_int_equal(m.n, live);
        }
    }
    hoist_strmap_free(&m);
}

/* The string hash: a function of the bytes alone, the length measured, and
 * keys that differ in any byte (or only in length) spread over the low bits
 * the maps index by. */
static void test_hash_str(void **state)
{
    (void)state;
    const char *cases[] = {"", "a", "node-1", "Pod\x1fweb/frontend-7d9f",
                           "topology.kubernetes.io/zone"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char copy[64];
        snprintf(copy, sizeof copy, "%s", cases[i]);
        size_t len = 12345;
        assert_true(hoist_hash_str(cases[i], &len) == hoist_hash_str(copy, NULL));
        assert_int_equal(len, strlen(cases[i]));
    }
    /* one byte changed anywhere in a 40-char key, or a key cut short: a
     * different hash, and the low 10 bits take many values */
    char key[41];
    memset(key, 'k', 40);
    key[40] = '\0';
    uint64_t base = hoist_hash_str(key, NULL);
    bool seen[1024] = {false};
    size_t distinct = 0;
    for (int i = 0; i < 40; i++) {
        key[i] = 'x';
        uint64_t h = hoist_hash_str(key, NULL);
        assert_true(h != base);
        key[i] = 'k';
        char cut[41];
        memcpy(cut, key, (size_t)i);
        cut[i] = '\0';
        assert_true(hoist_hash_str(cut, NULL) != base);
    }
    for (int i = 0; i < 1000; i++) {
        char name[32];
        snprintf(name, sizeof name, "ip-10-0-%d-%d", i / 250, i % 250);
        uint64_t low = hoist_hash_str(name, NULL) & 1023;
        distinct += !seen[low];
        seen[low] = true;
    }
    assert_true(distinct > 550); /* a uniform hash gives ~632 of 1024 */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_get_replace),
        cmocka_unit_test(test_random_against_reference),
        cmocka_unit_test(test_hash_str),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
