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

static void test_hash_str_is_hash_bytes(void **state)
{
    (void)state;
    const char *cases[] = {"", "a", "node-1", "Pod\x1fweb/frontend-7d9f",
                           "topology.kubernetes.io/zone"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t len = 12345;
        assert_true(hoist_hash_str(cases[i], &len) ==
                    hoist_hash_bytes(cases[i], strlen(cases[i])));
        assert_int_equal(len, strlen(cases[i]));
        assert_true(hoist_hash_str(cases[i], NULL) ==
                    hoist_hash_bytes(cases[i], strlen(cases[i])));
    }
    assert_true(hoist_hash_str("ab", NULL) != hoist_hash_str("ba", NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_get_replace),
        cmocka_unit_test(test_random_against_reference),
        cmocka_unit_test(test_hash_str_is_hash_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
