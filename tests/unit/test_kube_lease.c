/* tests/unit/test_kube_lease.c - leader election on a Lease (kube/lease.h)
 * against the canned API server's object store. Time is a fake clock the
 * tests move; the candidates are ticked by hand (manual mode), except in
 * one test that runs the timer with a tiny retry period and asserts only
 * the outcome. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "kube/lease.h"
#include "kube_fake_server.h"

#define LEASES "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases"
#define T0 1714564800000ull /* 2024-05-01T12:00:00Z */

typedef struct counts {
    int started, stopped, released;
} counts;

typedef struct fixture {
    uv_loop_t loop;
    kfs *srv;
    hoist_http *http;
    hoist_kube_config kube;
    uint64_t now;
    hoist_kube_lease *a, *b;
    counts ca, cb;
} fixture;

static uint64_t fake_now(void *arg)
{
    return ((fixture *)arg)->now;
}

static void on_started(void *arg)
{
    ((counts *)arg)->started++;
}

static void on_stopped(void *arg)
{
    ((counts *)arg)->stopped++;
}

static void on_released(void *arg)
{
    ((counts *)arg)->released++;
}

static hoist_kube_lease *candidate(fixture *f, const char *id, counts *c, bool manual)
{
    hoist_kube_client client = {&f->loop, f->http, &f->kube, NULL};
    hoist_kube_lease_config cfg = {
        .ns = "kube-system", .name = "hoist", .identity = id,
        .now_ms = manual ? fake_now : NULL, .clock_arg = f, .manual = manual,
        .on_started = on_started, .on_stopped = on_stopped, .arg = c,
    };
    if (!manual) {
        cfg.retry_period_ms = 5;
        cfg.renew_deadline_ms = 2000;
        cfg.lease_duration_s = 3;
    }
    hoist_err err = {{0}};
    hoist_kube_lease *l = hoist_kube_lease_new(&client, &cfg, &err);
    if (!l)
        fail_msg("%s", err.msg);
    return l;
}

static fixture *setup(void)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    f->srv = kfs_start(NULL, NULL);
    assert_non_null(f->srv);
    kfs_store(f->srv, LEASES);
    char server[64];
    snprintf(server, sizeof server, "http://127.0.0.1:%d", kfs_port(f->srv));
    f->kube.server = strdup(server);
    f->kube.source = strdup("test");
    f->http = hoist_http_new(&f->loop, NULL, NULL);
    assert_non_null(f->http);
    f->now = T0;
    f->a = candidate(f, "a", &f->ca, true);
    f->b = candidate(f, "b", &f->cb, true);
    return f;
}

static void teardown(fixture *f)
{
    hoist_kube_lease_close(f->a);
    hoist_kube_lease_close(f->b);
    hoist_http_close(f->http);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    kfs_stop(f->srv);
    hoist_kube_config_free(&f->kube);
    free(f);
}

typedef bool (*predicate)(fixture *f);

typedef struct ticker {
    fixture *f;
    predicate pred;
    long ticks;
} ticker;

static void on_tick(uv_timer_t *t)
{
    ticker *k = t->data;
    if (k->pred(k->f) || ++k->ticks > 5000) /* hang guard, not a timing check */
        uv_stop(t->loop);
}

static void run_until(fixture *f, predicate pred)
{
    if (pred(f))
        return;
    ticker k = {f, pred, 0};
    uv_timer_t t;
    assert_int_equal(uv_timer_init(&f->loop, &t), 0);
    t.data = &k;
    assert_int_equal(uv_timer_start(&t, on_tick, 1, 1), 0);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_true(pred(f));
}

static bool quiet(fixture *f)
{
    return !hoist_kube_lease_busy(f->a) && !hoist_kube_lease_busy(f->b);
}

/* Tick one candidate and wait for its requests to finish. */
static void tick(fixture *f, hoist_kube_lease *l)
{
    hoist_kube_lease_tick(l);
    run_until(f, quiet);
}

static void start(fixture *f, hoist_kube_lease *l)
{
    hoist_err err = {{0}};
    assert_int_equal(hoist_kube_lease_start(l, &err), 0);
    run_until(f, quiet);
}

/* The stored Lease's spec field as a string ("" when absent). */
static void stored_field(fixture *f, const char *field, char *buf, size_t size)
{
    char *text = kfs_store_get(f->srv, LEASES, "hoist");
    assert_non_null(text);
    json_t *o = json_loads(text, 0, NULL);
    free(text);
    const json_t *v = json_object_get(json_object_get(o, "spec"), field);
    if (json_is_string(v))
        snprintf(buf, size, "%s", json_string_value(v));
    else if (json_is_integer(v))
        snprintf(buf, size, "%lld", (long long)json_integer_value(v));
    else
        snprintf(buf, size, "%s", "");
    json_decref(o);
}

/* ---- tests ---------------------------------------------------------------------------- */

static void test_acquire_from_empty(void **state)
{
    (void)state;
    fixture *f = setup();
    start(f, f->a);
    assert_true(hoist_kube_lease_is_leader(f->a));
    assert_int_equal(f->ca.started, 1);
    assert_int_equal(kfs_seen_count(f->srv, "GET", LEASES "/hoist"), 1);
    kfs_seen sn;
    assert_true(kfs_seen_get(f->srv, "POST", LEASES, 0, &sn));
    assert_string_equal(sn.content_type, "application/json");
    assert_string_equal(sn.body,
                        "{\"apiVersion\":\"coordination.k8s.io/v1\",\"kind\":\"Lease\","
                        "\"metadata\":{\"name\":\"hoist\",\"namespace\":\"kube-system\"},"
                        "\"spec\":{\"holderIdentity\":\"a\",\"leaseDurationSeconds\":15,"
                        "\"renewTime\":\"2024-05-01T12:00:00.000000Z\",\"acquireTime\":"
                        "\"2024-05-01T12:00:00.000000Z\",\"leaseTransitions\":0}}");
    kfs_seen_free(&sn);
    char buf[128];
    stored_field(f, "holderIdentity", buf, sizeof buf);
    assert_string_equal(buf, "a");
    assert_string_equal(hoist_kube_lease_holder(f->a), "a");

    /* renewing: a PUT with the resourceVersion just read, a later renewTime */
    f->now += 2000;
    tick(f, f->a);
    assert_true(hoist_kube_lease_is_leader(f->a));
    assert_true(kfs_seen_get(f->srv, "PUT", LEASES "/hoist", 0, &sn));
    assert_non_null(strstr(sn.body, "\"resourceVersion\":\"100\""));
    assert_non_null(strstr(sn.body, "\"renewTime\":\"2024-05-01T12:00:02.000000Z\""));
    assert_non_null(strstr(sn.body, "\"acquireTime\":\"2024-05-01T12:00:00.000000Z\""));
    kfs_seen_free(&sn);
    assert_int_equal(hoist_kube_lease_get_stats(f->a)->renewals, 1);
    assert_int_equal(f->ca.started, 1);
    teardown(f);
}

static void test_held_lease_then_expiry(void **state)
{
    (void)state;
    fixture *f = setup();
    start(f, f->a);
    start(f, f->b);
    assert_false(hoist_kube_lease_is_leader(f->b));
    assert_string_equal(hoist_kube_lease_holder(f->b), "a");
    assert_int_equal(kfs_seen_count(f->srv, "PUT", NULL), 0); /* b did not try to write */

    /* a renews every 5 s: b never sees it expire, for 30 s */
    for (int i = 0; i < 6; i++) {
        f->now += 5000;
        tick(f, f->a);
        tick(f, f->b);
        assert_true(hoist_kube_lease_is_leader(f->a));
        assert_false(hoist_kube_lease_is_leader(f->b));
    }
    /* a stops renewing: 14 s after b last saw a change it still waits ... */
    f->now += 14000;
    tick(f, f->b);
    assert_false(hoist_kube_lease_is_leader(f->b));
    /* ... after 15 s it takes over */
    f->now += 1000;
    tick(f, f->b);
    assert_true(hoist_kube_lease_is_leader(f->b));
    assert_int_equal(f->cb.started, 1);
    char buf[64];
    stored_field(f, "holderIdentity", buf, sizeof buf);
    assert_string_equal(buf, "b");
    stored_field(f, "leaseTransitions", buf, sizeof buf);
    assert_string_equal(buf, "1");
    /* a wakes up past its renew deadline: it stops leading without writing */
    int puts = kfs_seen_count(f->srv, "PUT", NULL);
    tick(f, f->a);
    assert_false(hoist_kube_lease_is_leader(f->a));
    assert_int_equal(f->ca.stopped, 1);
    assert_int_equal(hoist_kube_lease_get_stats(f->a)->lost, 1);
    assert_int_equal(kfs_seen_count(f->srv, "PUT", NULL), puts);
    assert_string_equal(hoist_kube_lease_holder(f->a), "b");
    teardown(f);
}

static void test_release_hands_over_at_once(void **state)
{
    (void)state;
    fixture *f = setup();
    start(f, f->a);
    start(f, f->b);
    assert_false(hoist_kube_lease_is_leader(f->b));
    hoist_err err = {{0}};
    assert_int_equal(hoist_kube_lease_release(f->a, on_released, &f->ca, &err), 0);
    assert_false(hoist_kube_lease_is_leader(f->a));
    assert_int_equal(f->ca.stopped, 1);
    run_until(f, quiet);
    assert_int_equal(f->ca.released, 1);
    assert_int_equal(hoist_kube_lease_get_stats(f->a)->released, 1);
    char buf[64];
    stored_field(f, "holderIdentity", buf, sizeof buf);
    assert_string_equal(buf, "");
    stored_field(f, "leaseDurationSeconds", buf, sizeof buf);
    assert_string_equal(buf, "1");
    /* no time passes: b takes the released Lease at its next try */
    tick(f, f->b);
    assert_true(hoist_kube_lease_is_leader(f->b));
    /* a released lease does not compete again */
    tick(f, f->a);
    assert_false(hoist_kube_lease_is_leader(f->a));
    assert_int_equal(hoist_kube_lease_release(f->a, NULL, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "already released"));
    /* releasing when not leading: nothing is written, done still runs */
    int puts = kfs_seen_count(f->srv, "PUT", NULL);
    hoist_kube_client client = {&f->loop, f->http, &f->kube, NULL};
    counts cc = {0};
    hoist_kube_lease_config cfg = {.ns = "kube-system", .name = "hoist", .identity = "c",
                                   .now_ms = fake_now, .clock_arg = f, .manual = true};
    hoist_kube_lease *c = hoist_kube_lease_new(&client, &cfg, &err);
    assert_non_null(c);
    assert_int_equal(hoist_kube_lease_release(c, on_released, &cc, &err), 0);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_int_equal(cc.released, 1);
    assert_int_equal(kfs_seen_count(f->srv, "PUT", NULL), puts);
    hoist_kube_lease_close(c);
    teardown(f);
}

static void test_renew_conflict_loses(void **state)
{
    (void)state;
    fixture *f = setup();
    start(f, f->a);
    assert_true(hoist_kube_lease_is_leader(f->a));
    /* someone else writes the Lease behind a's back */
    assert_int_equal(kfs_store_put(f->srv, LEASES,
                                   "{\"apiVersion\":\"coordination.k8s.io/v1\",\"kind\":\"Lease\","
                                   "\"metadata\":{\"name\":\"hoist\",\"namespace\":\"kube-system\"},"
                                   "\"spec\":{\"holderIdentity\":\"intruder\","
                                   "\"leaseDurationSeconds\":15}}"),
                     0);
    f->now += 2000;
    tick(f, f->a);
    assert_false(hoist_kube_lease_is_leader(f->a));
    assert_int_equal(f->ca.stopped, 1);
    const hoist_kube_lease_stats *st = hoist_kube_lease_get_stats(f->a);
    assert_int_equal(st->conflicts, 1);
    assert_int_equal(st->lost, 1);
    /* as a candidate again it sees the intruder holding a fresh Lease */
    tick(f, f->a);
    assert_false(hoist_kube_lease_is_leader(f->a));
    assert_string_equal(hoist_kube_lease_holder(f->a), "intruder");
    teardown(f);
}

static void test_create_race(void **state)
{
    (void)state;
    fixture *f = setup();
    hoist_err err = {{0}};
    assert_int_equal(hoist_kube_lease_start(f->a, &err), 0);
    assert_int_equal(hoist_kube_lease_start(f->b, &err), 0);
    run_until(f, quiet);
    /* both may have seen 404 and POSTed; exactly one won */
    assert_true(hoist_kube_lease_is_leader(f->a) != hoist_kube_lease_is_leader(f->b));
    assert_int_equal(f->ca.started + f->cb.started, 1);
    uint64_t conflicts = hoist_kube_lease_get_stats(f->a)->conflicts +
                         hoist_kube_lease_get_stats(f->b)->conflicts;
    assert_true(conflicts <= 1);
    assert_int_equal(kfs_seen_count(f->srv, "POST", LEASES), (int)(1 + conflicts));
    teardown(f);
}

static void test_malformed_lease(void **state)
{
    (void)state;
    fixture *f = setup();
    static const struct {
        const char *body, *field;
    } bad[] = {
        {"<html>", "not JSON"},
        {"{\"metadata\":{\"name\":\"hoist\"}}", "metadata.resourceVersion"},
        {"{\"metadata\":{\"resourceVersion\":\"5\"},\"spec\":[]}", "spec: not an object"},
        {"{\"metadata\":{\"resourceVersion\":\"5\"},\"spec\":{\"holderIdentity\":7}}",
         "spec.holderIdentity"},
        {"{\"metadata\":{\"resourceVersion\":\"5\"},\"spec\":{\"leaseDurationSeconds\":\"15\"}}",
         "spec.leaseDurationSeconds"},
        {"{\"metadata\":{\"resourceVersion\":\"5\"},\"spec\":{\"leaseTransitions\":1.5}}",
         "spec.leaseTransitions"},
    };
    size_t n = sizeof bad / sizeof bad[0];
    for (size_t i = 0; i < n; i++)
        kfs_route(f->srv, "GET", LEASES "/hoist", &(kfs_reply){.body = bad[i].body}, 1);
    hoist_err err = {{0}};
    assert_int_equal(hoist_kube_lease_start(f->a, &err), 0);
    run_until(f, quiet);
    for (size_t i = 0; i < n; i++) {
        if (!strstr(hoist_kube_lease_last_error(f->a), bad[i].field))
            fail_msg("case %zu: \"%s\" does not name %s", i, hoist_kube_lease_last_error(f->a),
                     bad[i].field);
        assert_false(hoist_kube_lease_is_leader(f->a));
        if (i + 1 < n)
            tick(f, f->a);
    }
    assert_int_equal(hoist_kube_lease_get_stats(f->a)->malformed, n);
    assert_int_equal(kfs_seen_count(f->srv, "PUT", NULL) + kfs_seen_count(f->srv, "POST", NULL),
                     0);
    /* the API recovers: the store answers again and a acquires */
    tick(f, f->a);
    assert_true(hoist_kube_lease_is_leader(f->a));
    teardown(f);
}

static void test_bad_config(void **state)
{
    (void)state;
    fixture *f = setup();
    hoist_kube_client client = {&f->loop, f->http, &f->kube, NULL};
    hoist_err err = {{0}};
    hoist_kube_lease_config cfg = {.name = "hoist"};
    assert_null(hoist_kube_lease_new(&client, &cfg, &err));
    assert_non_null(strstr(err.msg, "namespace"));
    cfg = (hoist_kube_lease_config){.ns = "x"};
    assert_null(hoist_kube_lease_new(&client, &cfg, &err));
    assert_non_null(strstr(err.msg, "name"));
    cfg = (hoist_kube_lease_config){.ns = "x", .name = "y", .identity = ""};
    assert_null(hoist_kube_lease_new(&client, &cfg, &err));
    assert_non_null(strstr(err.msg, "identity"));
    /* the default identity is hostname_pid */
    cfg = (hoist_kube_lease_config){.ns = "x", .name = "y", .manual = true};
    hoist_kube_lease *l = hoist_kube_lease_new(&client, &cfg, &err);
    assert_non_null(l);
    char suffix[32];
    snprintf(suffix, sizeof suffix, "_%ld", (long)getpid());
    const char *id = hoist_kube_lease_identity(l);
    assert_true(strlen(id) > strlen(suffix));
    assert_string_equal(id + strlen(id) - strlen(suffix), suffix);
    hoist_kube_lease_close(l);
    teardown(f);
}

static bool a_leads(fixture *f)
{
    return hoist_kube_lease_is_leader(f->a) && hoist_kube_lease_get_stats(f->a)->renewals >= 2;
}

static bool a_released(fixture *f)
{
    return f->ca.released == 1;
}

static void test_timer_mode(void **state)
{
    (void)state;
    fixture *f = setup();
    hoist_kube_lease_close(f->a);
    f->a = candidate(f, "timer", &f->ca, false); /* real clock, 5 ms retry period */
    hoist_err err = {{0}};
    assert_int_equal(hoist_kube_lease_start(f->a, &err), 0);
    run_until(f, a_leads);
    assert_int_equal(f->ca.started, 1);
    assert_int_equal(hoist_kube_lease_release(f->a, on_released, &f->ca, &err), 0);
    run_until(f, a_released);
    char buf[64];
    stored_field(f, "holderIdentity", buf, sizeof buf);
    assert_string_equal(buf, "");
    assert_int_equal(f->ca.stopped, 1);
    teardown(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_acquire_from_empty),
        cmocka_unit_test(test_held_lease_then_expiry),
        cmocka_unit_test(test_release_hands_over_at_once),
        cmocka_unit_test(test_renew_conflict_loses),
        cmocka_unit_test(test_create_race),
        cmocka_unit_test(test_malformed_lease),
        cmocka_unit_test(test_bad_config),
        cmocka_unit_test(test_timer_mode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
