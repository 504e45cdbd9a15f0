/*
 * tests/unit/test_batch.c - the batch stage's window on a virtual clock:
 * idle and max-age closes, the pod cap, removals, duplicates, wake times,
 * the close_now hook (C and Lua close_batch) and its failures.
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

#include "pipeline/batch.h"
#include "policy/batch_hook.h"
#include "policy/policy.h"

static char fixture_path[4096];

static const char *fixture(const char *name)
{
    const char *src = getenv("HOIST_SRCDIR");
    snprintf(fixture_path, sizeof fixture_path, "%s/tests/data/batch/%s", src ? src : "..", name);
    return fixture_path;
}

/* Poll at now, expecting state and (when OPEN) wake. */
static void expect_poll(hoist_batch *b, uint64_t now, hoist_batch_state want, uint64_t want_wake)
{
    uint64_t wake = 12345;
    hoist_batch_state s = hoist_batch_poll(b, now, &wake);
    if (s != want)
        fail_msg("poll at %llu: %s, expected %s", (unsigned long long)now,
                 hoist_batch_state_name(s), hoist_batch_state_name(want));
    assert_int_equal(wake, want_wake);
}

static void test_defaults(void **state)
{
    (void)state;
    hoist_batch_config c = hoist_batch_config_default();
    assert_int_equal(c.idle_ms, 1000);
    assert_int_equal(c.max_ms, 10000);
    assert_int_equal(c.max_pods, 0);
    assert_null(c.close_now);
    hoist_batch b;
    hoist_batch_init(&b, NULL);
    assert_int_equal(b.cfg.idle_ms, 1000);
    assert_int_equal(b.cfg.max_ms, 10000);
    /* an empty batch never closes and has nothing to wait for */
    expect_poll(&b, 0, HOIST_BATCH_OPEN, HOIST_BATCH_NEVER);
    expect_poll(&b, 1000000, HOIST_BATCH_OPEN, HOIST_BATCH_NEVER);
    char **keys = (char **)&b; /* must be overwritten */
    assert_int_equal(hoist_batch_take(&b, &keys), 0);
    assert_null(keys);
    hoist_batch_free(&b);
}

static void test_idle_close(void **state)
{
    (void)state;
    hoist_batch b;
    hoist_batch_init(&b, NULL);
    assert_int_equal(hoist_batch_add(&b, "default/a", 0, 5000), 1);
    expect_poll(&b, 5000, HOIST_BATCH_OPEN, 6000);
    assert_int_equal(hoist_batch_add(&b, "default/b", 0, 5400), 1);
    expect_poll(&b, 5400, HOIST_BATCH_OPEN, 6400);
    expect_poll(&b, 6399, HOIST_BATCH_OPEN, 6400);
    expect_poll(&b, 6400, HOIST_BATCH_CLOSE_IDLE, 6400);
    /* sticky until taken */
    expect_poll(&b, 6401, HOIST_BATCH_CLOSE_IDLE, 6401);
    char **keys;
    size_t n = hoist_batch_take(&b, &keys);
    assert_int_equal(n, 2);
    assert_string_equal(keys[0], "default/a");
    assert_string_equal(keys[1], "default/b");
    hoist_batch_keys_free(keys, n);
    assert_int_equal(hoist_batch_size(&b), 0);
    expect_poll(&b, 6500, HOIST_BATCH_OPEN, HOIST_BATCH_NEVER);
    /* the next window starts with the next pod */
    assert_int_equal(hoist_batch_add(&b, "default/c", 0, 9000), 1);
    expect_poll(&b, 9999, HOIST_BATCH_OPEN, 10000);
    expect_poll(&b, 10000, HOIST_BATCH_CLOSE_IDLE, 10000);
    hoist_batch_free(&b);
}

static void test_trickle_closes_at_max(void **state)
{
    (void)state;
    hoist_batch b;
    hoist_batch_init(&b, NULL);
    uint64_t t0 = 100000;
    size_t added = 0;
    for (uint64_t t = t0; t < t0 + 10000; t += 900) {
        char key[32];
        snprintf(key, sizeof key, "ns/p%zu", added);
        assert_int_equal(hoist_batch_add(&b, key, 0, t), 1);
        added++;
        uint64_t idle_wake = t + 1000, max_wake = t0 + 10000;
        expect_poll(&b, t, HOIST_BATCH_OPEN, idle_wake < max_wake ? idle_wake : max_wake);
        if (t + 899 < max_wake)
            expect_poll(&b, t + 899, HOIST_BATCH_OPEN, idle_wake < max_wake ? idle_wake : max_wake);
    }
    assert_int_equal(added, 12); /* 0, 900, ..., 9900 */
    /* the last pod came at +9900; idle would close at +10900, max closes at +10000 */
    expect_poll(&b, t0 + 9999, HOIST_BATCH_OPEN, t0 + 10000);
    expect_poll(&b, t0 + 10000, HOIST_BATCH_CLOSE_MAX_AGE, t0 + 10000);
    char **keys;
    size_t n = hoist_batch_take(&b, &keys);
    assert_int_equal(n, 12);
    assert_string_equal(keys[0], "ns/p0");
    assert_string_equal(keys[11], "ns/p11");
    hoist_batch_keys_free(keys, n);
    hoist_batch_free(&b);
}

static void test_max_pods(void **state)
{
    (void)state;
    hoist_batch_config c = hoist_batch_config_default();
    c.max_pods = 3;
    hoist_batch b;
    hoist_batch_init(&b, &c);
    assert_int_equal(hoist_batch_add(&b, "a/1", 0, 0), 1);
    assert_int_equal(hoist_batch_add(&b, "a/2", 0, 10), 1);
    assert_int_equal(hoist_batch_add(&b, "a/2", 0, 20), 0); /* duplicate: still 2 */
    expect_poll(&b, 20, HOIST_BATCH_OPEN, 1010);
    assert_int_equal(hoist_batch_add(&b, "a/3", 0, 30), 1);
    expect_poll(&b, 30, HOIST_BATCH_CLOSE_MAX_PODS, 30);
    /* a pod seen after the close but before the take joins the batch */
    assert_int_equal(hoist_batch_add(&b, "a/4", 0, 40), 1);
    expect_poll(&b, 40, HOIST_BATCH_CLOSE_MAX_PODS, 40);
    char **keys;
    size_t n = hoist_batch_take(&b, &keys);
    assert_int_equal(n, 4);
    assert_string_equal(keys[3], "a/4");
    hoist_batch_keys_free(keys, n);
    hoist_batch_free(&b);
}

static void test_remove_to_empty_resets(void **state)
{
    (void)state;
    hoist_batch b;
    hoist_batch_init(&b, NULL);
    assert_int_equal(hoist_batch_add(&b, "ns/a", 0, 0), 1);
    assert_int_equal(hoist_batch_add(&b, "ns/b", 0, 500), 1);
    assert_true(hoist_batch_remove(&b, "ns/a"));
    assert_false(hoist_batch_remove(&b, "ns/a"));
    assert_false(hoist_batch_remove(&b, "ns/zzz"));
    assert_false(hoist_batch_contains(&b, "ns/a"));
    assert_true(hoist_batch_contains(&b, "ns/b"));
    /* the window still dates from the first pod: max at 10000, idle at 1500 */
    expect_poll(&b, 600, HOIST_BATCH_OPEN, 1500);
    assert_true(hoist_batch_remove(&b, "ns/b"));
    assert_int_equal(hoist_batch_size(&b), 0);
    expect_poll(&b, 9000, HOIST_BATCH_OPEN, HOIST_BATCH_NEVER);
    /* a new window opens at 9000: it closes at 19000 at the latest, not 10000 */
    for (uint64_t t = 9000; t <= 18900; t += 900) {
        char key[32];
        snprintf(key, sizeof key, "ns/q%llu", (unsigned long long)t);
        assert_int_equal(hoist_batch_add(&b, key, 0, t), 1);
    }
    expect_poll(&b, 18999, HOIST_BATCH_OPEN, 19000);
    expect_poll(&b, 19000, HOIST_BATCH_CLOSE_MAX_AGE, 19000);
    /* removing every pod of a closed batch drops the close decision */
    char **keys;
    size_t n = hoist_batch_take(&b, &keys);
    hoist_batch_keys_free(keys, n);
    assert_int_equal(hoist_batch_add(&b, "ns/x", 0, 20000), 1);
    expect_poll(&b, 21000, HOIST_BATCH_CLOSE_IDLE, 21000);
    assert_true(hoist_batch_remove(&b, "ns/x"));
    assert_int_equal(hoist_batch_add(&b, "ns/y", 0, 21500), 1);
    expect_poll(&b, 21500, HOIST_BATCH_OPEN, 22500);
    hoist_batch_free(&b);
}

static void test_duplicates(void **state)
{
    (void)state;
    hoist_batch b;
    hoist_batch_init(&b, NULL);
    assert_int_equal(hoist_batch_add(&b, "ns/a", 0, 0), 1);
    /* re-seeing a pod neither counts it twice nor extends the window */
    assert_int_equal(hoist_batch_add(&b, "ns/a", 5, 800), 0);
    assert_int_equal(hoist_batch_size(&b), 1);
    expect_poll(&b, 800, HOIST_BATCH_OPEN, 1000);
    expect_poll(&b, 1000, HOIST_BATCH_CLOSE_IDLE, 1000);
    char **keys;
    size_t n = hoist_batch_take(&b, &keys);
    assert_int_equal(n, 1);
    hoist_batch_keys_free(keys, n);
    /* removed then seen again: a new pod, at the end of the order */
    assert_int_equal(hoist_batch_add(&b, "ns/a", 0, 2000), 1);
    assert_int_equal(hoist_batch_add(&b, "ns/b", 0, 2100), 1);
    assert_true(hoist_batch_remove(&b, "ns/a"));
    assert_int_equal(hoist_batch_add(&b, "ns/a", 0, 2200), 1);
    assert_int_equal(hoist_batch_add(&b, "ns/a", 0, 2300), 0);
    assert_int_equal(hoist_batch_size(&b), 2);
    expect_poll(&b, 2300, HOIST_BATCH_OPEN, 3200);
    n = hoist_batch_take(&b, &keys);
    assert_int_equal(n, 2);
    assert_string_equal(keys[0], "ns/b");
    assert_string_equal(keys[1], "ns/a");
    hoist_batch_keys_free(keys, n);
    /* bad keys */
    assert_int_equal(hoist_batch_add(&b, NULL, 0, 0), -1);
    assert_int_equal(hoist_batch_add(&b, "", 0, 0), -1);
    assert_int_equal(hoist_batch_size(&b), 0);
    assert_false(hoist_batch_remove(&b, NULL));
    hoist_batch_free(&b);
}

/* Many adds and removes: compaction keeps order and membership right. */
static void test_churn(void **state)
{
    (void)state;
    hoist_batch_config c = hoist_batch_config_default();
    c.max_ms = 1000000;
    hoist_batch b;
    hoist_batch_init(&b, &c);
    enum { N = 2000 };
    char key[32];
    for (int i = 0; i < N; i++) {
        snprintf(key, sizeof key, "ns/p%d", i);
        assert_int_equal(hoist_batch_add(&b, key, i, (uint64_t)i), 1);
    }
    /* remove every pod but multiples of 7, and re-add some removed ones */
    for (int i = 0; i < N; i++)
        if (i % 7) {
            snprintf(key, sizeof key, "ns/p%d", i);
            assert_true(hoist_batch_remove(&b, key));
        }
    assert_true(b.n_slots < (size_t)N); /* compacted along the way */
    for (int i = 1; i < 100; i += 7) {
        snprintf(key, sizeof key, "ns/p%d", i);
        assert_int_equal(hoist_batch_add(&b, key, 0, (uint64_t)(N + i)), 1);
    }
    size_t want = (N + 6) / 7 + 15;
    assert_int_equal(hoist_batch_size(&b), want);
    for (int i = 0; i < N; i++) {
        snprintf(key, sizeof key, "ns/p%d", i);
        assert_int_equal(hoist_batch_contains(&b, key), i % 7 == 0 || (i < 100 && i % 7 == 1));
    }
    char **keys;
    size_t n = hoist_batch_take(&b, &keys);
    assert_int_equal(n, want);
    assert_string_equal(keys[0], "ns/p0");
    assert_string_equal(keys[1], "ns/p7");
    assert_string_equal(keys[(N + 6) / 7 - 1], "ns/p1995");
    assert_string_equal(keys[(N + 6) / 7], "ns/p1");
    assert_string_equal(keys[n - 1], "ns/p99");
    hoist_batch_keys_free(keys, n);
    hoist_batch_free(&b);
}

/* A C hook: close at once for a pod of priority >= 1000; records what it saw. */
typedef struct seen {
    int calls;
    hoist_batch_view last;
    char first_key[64];
    bool fail;
} seen;

static int close_high_priority(void *ctx, const hoist_batch_view *v, bool *close)
{
    seen *s = ctx;
    s->calls++;
    s->last = *v;
    snprintf(s->first_key, sizeof s->first_key, "%s", v->keys[0]);
    if (s->fail)
        return -1;
    *close = v->max_priority >= 1000;
    return 0;
}

static void test_c_hook(void **state)
{
    (void)state;
    seen s = {0};
    hoist_batch_config c = hoist_batch_config_default();
    c.close_now = close_high_priority;
    c.hook_ctx = &s;
    hoist_batch b;
    hoist_batch_init(&b, &c);
    expect_poll(&b, 0, HOIST_BATCH_OPEN, HOIST_BATCH_NEVER);
    assert_int_equal(s.calls, 0); /* not called on an empty batch */
    assert_int_equal(hoist_batch_add(&b, "ns/low", 10, 1000), 1);
    expect_poll(&b, 1300, HOIST_BATCH_OPEN, 2000);
    assert_int_equal(s.calls, 1);
    assert_int_equal(s.last.n_pods, 1);
    assert_int_equal(s.last.age_ms, 300);
    assert_int_equal(s.last.idle_ms, 300);
    assert_int_equal(s.last.max_priority, 10);
    assert_string_equal(s.first_key, "ns/low");
    assert_int_equal(hoist_batch_add(&b, "ns/high", 2000, 1500), 1);
    expect_poll(&b, 1500, HOIST_BATCH_CLOSE_HOOK, 1500);
    assert_int_equal(s.calls, 2);
    assert_int_equal(s.last.n_pods, 2);
    assert_int_equal(s.last.age_ms, 500);
    assert_int_equal(s.last.idle_ms, 0);
    assert_int_equal(s.last.max_priority, 2000);
    /* sticky: the hook is not asked again */
    expect_poll(&b, 1501, HOIST_BATCH_CLOSE_HOOK, 1501);
    assert_int_equal(s.calls, 2);
    char **keys;
    size_t n = hoist_batch_take(&b, &keys);
    assert_int_equal(n, 2);
    hoist_batch_keys_free(keys, n);

    /* removing the high-priority pod before a poll lowers max_priority again */
    assert_int_equal(hoist_batch_add(&b, "ns/a", 5, 3000), 1);
    assert_int_equal(hoist_batch_add(&b, "ns/vip", 5000, 3100), 1);
    assert_true(hoist_batch_remove(&b, "ns/vip"));
    expect_poll(&b, 3200, HOIST_BATCH_OPEN, 4100);
    assert_int_equal(s.last.max_priority, 5);
    assert_int_equal(s.last.n_pods, 1);
    assert_string_equal(s.first_key, "ns/a");
    /* a duplicate raising the priority closes */
    assert_int_equal(hoist_batch_add(&b, "ns/a", 1000, 3300), 0);
    expect_poll(&b, 3300, HOIST_BATCH_CLOSE_HOOK, 3300);
    /* the default rules come first: an idle batch closes as idle, no hook call */
    n = hoist_batch_take(&b, &keys);
    hoist_batch_keys_free(keys, n);
    int before = s.calls;
    assert_int_equal(hoist_batch_add(&b, "ns/z", 0, 5000), 1);
    expect_poll(&b, 6000, HOIST_BATCH_CLOSE_IDLE, 6000);
    assert_int_equal(s.calls, before);
    assert_int_equal(b.hook_errors, 0);
    hoist_batch_free(&b);
}

static void test_failing_hook_falls_back(void **state)
{
    (void)state;
    seen s = {.fail = true};
    hoist_batch_config c = hoist_batch_config_default();
    c.close_now = close_high_priority;
    c.hook_ctx = &s;
    hoist_batch b;
    hoist_batch_init(&b, &c);
    assert_int_equal(hoist_batch_add(&b, "ns/high", 9999, 0), 1);
    expect_poll(&b, 0, HOIST_BATCH_OPEN, 1000);
    expect_poll(&b, 999, HOIST_BATCH_OPEN, 1000);
    assert_int_equal(b.hook_calls, 2);
    assert_int_equal(b.hook_errors, 2);
    expect_poll(&b, 1000, HOIST_BATCH_CLOSE_IDLE, 1000);
    assert_int_equal(b.hook_calls, 2);
    hoist_batch_free(&b);
}

static hoist_policy *load_policy(const char *name)
{
    hoist_err err = {{0}};
    hoist_policy *p = hoist_policy_load(fixture(name), NULL, &err);
    if (!p)
        fail_msg("%s did not load: %s", name, err.msg);
    return p;
}

static void test_lua_close_batch(void **state)
{
    (void)state;
    hoist_policy *p = load_policy("high_priority.lua");
    hoist_policy_batch pb;
    hoist_policy_batch_init(&pb, p);
    hoist_batch_config c = hoist_batch_config_default();
    hoist_policy_batch_attach(&pb, &c);
    assert_ptr_equal(c.close_now, hoist_policy_batch_close_now);
    hoist_batch b;
    hoist_batch_init(&b, &c);

    /* low priority: the hook says no until the batch is 2.5 s old */
    assert_int_equal(hoist_batch_add(&b, "ns/a", 0, 0), 1);
    for (uint64_t t = 0; t < 2500; t += 500) {
        char key[32];
        snprintf(key, sizeof key, "ns/t%llu", (unsigned long long)t);
        assert_int_equal(hoist_batch_add(&b, key, 0, t), 1);
        expect_poll(&b, t, HOIST_BATCH_OPEN, t + 1000);
    }
    expect_poll(&b, 2499, HOIST_BATCH_OPEN, 3000);
    expect_poll(&b, 2500, HOIST_BATCH_CLOSE_HOOK, 2500);
    char **keys;
    size_t n = hoist_batch_take(&b, &keys);
    assert_int_equal(n, 6);
    hoist_batch_keys_free(keys, n);

    /* a high-priority pod closes at once */
    assert_int_equal(hoist_batch_add(&b, "ns/b", 0, 10000), 1);
    expect_poll(&b, 10000, HOIST_BATCH_OPEN, 11000);
    assert_int_equal(hoist_batch_add(&b, "ns/c", 1000, 10100), 1);
    expect_poll(&b, 10100, HOIST_BATCH_CLOSE_HOOK, 10100);
    n = hoist_batch_take(&b, &keys);
    hoist_batch_keys_free(keys, n);

    /* the keys reach the policy */
    assert_int_equal(hoist_batch_add(&b, "ns/d", 0, 20000), 1);
    expect_poll(&b, 20000, HOIST_BATCH_OPEN, 21000);
    assert_int_equal(hoist_batch_add(&b, "urgent/e", 0, 20200), 1);
    expect_poll(&b, 20200, HOIST_BATCH_CLOSE_HOOK, 20200);

    assert_int_equal(pb.errors, 0);
    assert_int_equal(b.hook_errors, 0);
    assert_int_equal(pb.calls, 11); /* every poll of an open batch after the defaults */
    assert_string_equal(pb.last_error.msg, "");
    hoist_batch_free(&b);
    hoist_policy_free(p);
}

static void test_lua_wrong_type_falls_back(void **state)
{
    (void)state;
    hoist_policy *p = load_policy("returns_string.lua");
    hoist_policy_batch pb;
    hoist_policy_batch_init(&pb, p);
    hoist_batch_config c = hoist_batch_config_default();
    hoist_policy_batch_attach(&pb, &c);
    hoist_batch b;
    hoist_batch_init(&b, &c);
    assert_int_equal(hoist_batch_add(&b, "ns/a", 5000, 0), 1);
    expect_poll(&b, 0, HOIST_BATCH_OPEN, 1000);
    expect_poll(&b, 500, HOIST_BATCH_OPEN, 1000);
    assert_int_equal(pb.errors, 2);
    assert_int_equal(b.hook_errors, 2);
    if (!strstr(pb.last_error.msg, "returns_string.lua: close_batch returned a string"))
        fail_msg("unexpected message: %s", pb.last_error.msg);
    expect_poll(&b, 1000, HOIST_BATCH_CLOSE_IDLE, 1000);
    hoist_batch_free(&b);

    /* a policy without close_batch leaves the config alone */
    hoist_policy *none = load_policy("../policy/good.lua");
    hoist_policy_batch pb2;
    hoist_policy_batch_init(&pb2, none);
    hoist_batch_config c2 = hoist_batch_config_default();
    hoist_policy_batch_attach(&pb2, &c2);
    assert_null(c2.close_now);
    assert_null(c2.hook_ctx);
    hoist_policy_free(none);
    hoist_policy_free(p);
}

static void test_lua_view_and_errors(void **state)
{
    (void)state;
    hoist_policy *p = load_policy("inspect.lua");
    hoist_policy_batch pb;
    hoist_policy_batch_init(&pb, p);
    hoist_batch_config c = hoist_batch_config_default();
    hoist_policy_batch_attach(&pb, &c);
    hoist_batch b;
    hoist_batch_init(&b, &c);
    assert_int_equal(hoist_batch_add(&b, "ns/p0", 0, 0), 1);
    expect_poll(&b, 0, HOIST_BATCH_OPEN, 1000); /* nil: a failure */
    assert_int_equal(pb.errors, 1);
    if (!strstr(pb.last_error.msg, "inspect.lua: close_batch returned nil"))
        fail_msg("unexpected message: %s", pb.last_error.msg);
    assert_int_equal(hoist_batch_add(&b, "ns/p1", 1, 10), 1);
    expect_poll(&b, 10, HOIST_BATCH_OPEN, 1010); /* error(): a failure with file:line */
    assert_int_equal(pb.errors, 2);
    if (!strstr(pb.last_error.msg, "inspect.lua:6: two pods"))
        fail_msg("unexpected message: %s", pb.last_error.msg);
    for (int i = 2; i < 150; i++) {
        char key[32];
        snprintf(key, sizeof key, "ns/p%d", i);
        assert_int_equal(hoist_batch_add(&b, key, i, 150), 1);
    }
    /* 150 pods, first at 0, last new at 150: at 400 age 0.4 s, idle 0.25 s */
    expect_poll(&b, 400, HOIST_BATCH_CLOSE_HOOK, 400);
    assert_int_equal(pb.errors, 2);
    assert_int_equal(b.hook_errors, 2);
    assert_int_equal(pb.calls, 3);
    hoist_batch_free(&b);
    hoist_policy_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_idle_close),
        cmocka_unit_test(test_trickle_closes_at_max),
        cmocka_unit_test(test_max_pods),
        cmocka_unit_test(test_remove_to_empty_resets),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_churn),
        cmocka_unit_test(test_c_hook),
        cmocka_unit_test(test_failing_hook_falls_back),
        cmocka_unit_test(test_lua_close_batch),
        cmocka_unit_test(test_lua_wrong_type_falls_back),
        cmocka_unit_test(test_lua_view_and_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
