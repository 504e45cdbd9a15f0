/* tests/unit/test_kube_writer.c - evictions, taints, cordons and Node
 * deletion (kube/writer.h) against the canned API server. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/events.h"
#include "kube/sink.h"
#include "kube/writer.h"
#include "kube_fake_server.h"

/* ---- fixture ------------------------------------------------------------------ */

typedef struct results {
    int n;
    hoist_kube_write_kind kind[32];
    hoist_kube_write_outcome outcome[32];
    long status[32];
    char message[32][600];
} results;

typedef struct fixture {
    uv_loop_t loop;
    kfs *srv;
    hoist_http *http;
    hoist_kube_config kube;
    hoist_kube_writer *w;
    hoist_kube_events *ev;
    uint64_t now;              /* the events' fake clock (unix ms) */
    results res;
} fixture;

static uint64_t fake_now(void *arg)
{
    return ((fixture *)arg)->now;
}

static void on_result(void *arg, const hoist_kube_write_result *r)
{
    results *rs = arg;
    if (rs->n >= 32)
        return;
    rs->kind[rs->n] = r->kind;
    rs->outcome[rs->n] = r->outcome;
    rs->status[rs->n] = r->status;
    snprintf(rs->message[rs->n], sizeof rs->message[0], "%s", r->message);
    rs->n++;
}

static fixture *setup_with(const hoist_kube_writer_config *extra, bool dead_server)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    f->srv = kfs_start(NULL, NULL);
    assert_non_null(f->srv);
    char server[64];
    snprintf(server, sizeof server, "http://127.0.0.1:%d", kfs_port(f->srv));
    if (dead_server) { /* nothing listens there any more */
        kfs_stop(f->srv);
        f->srv = NULL;
    }
    f->kube.server = strdup(server);
    f->kube.source = strdup("test");
    f->kube.token = strdup("writer-token");
    f->http = hoist_http_new(&f->loop, NULL, NULL);
    assert_non_null(f->http);
    hoist_kube_client c = {&f->loop, f->http, &f->kube, NULL};
    hoist_kube_writer_config cfg = {0};
    if (extra)
        cfg = *extra;
    cfg.retry.base_ms = 1;
    cfg.retry.cap_ms = 4;
    cfg.seed = 42;
    cfg.on_result = on_result;
    cfg.arg = &f->res;
    hoist_err err = {{0}};
    f->w = hoist_kube_writer_new(&c, &cfg, &err);
    assert_non_null(f->w);
    return f;
}

static fixture *setup(void)
{
    return setup_with(NULL, false);
}

/* A fixture with an event recorder too (cfg may be NULL), its clock at 2024-05-01T12:00:00Z. */
static fixture *setup_events(const hoist_kube_events_config *extra)
{
    fixture *f = setup();
    f->now = 1714564800000ull;
    hoist_kube_events_config cfg = {0};
    if (extra)
        cfg = *extra;
    cfg.now_ms = fake_now;
    cfg.clock_arg = f;
    cfg.instance = "hoist-0";
    cfg.retry.base_ms = 1;
    cfg.retry.cap_ms = 4;
    hoist_kube_client c = {&f->loop, f->http, &f->kube, NULL};
    hoist_err err = {{0}};
    f->ev = hoist_kube_events_new(&c, &cfg, &err);
    assert_non_null(f->ev);
    return f;
}

static void teardown(fixture *f)
{
    hoist_kube_events_close(f->ev);
    hoist_kube_writer_close(f->w);
    hoist_http_close(f->http);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    kfs_stop(f->srv);
    hoist_kube_config_free(&f->kube);
    free(f);
}

typedef struct ticker {
    fixture *f;
    long ticks;
} ticker;

static bool idle(const fixture *f)
{
    return hoist_kube_writer_pending(f->w) == 0 && hoist_kube_events_pending(f->ev) == 0;
}

static void on_tick(uv_timer_t *t)
{
    ticker *k = t->data;
    if (idle(k->f) || ++k->ticks > 5000) /* hang guard only */
        uv_stop(t->loop);
}

/* Run the loop until every write and Event finished. */
static void run_idle(fixture *f)
{
    if (idle(f))
        return;
    ticker k = {f, 0};
    uv_timer_t t;
    assert_int_equal(uv_timer_init(&f->loop, &t), 0);
    t.data = &k;
    assert_int_equal(uv_timer_start(&t, on_tick, 1, 1), 0);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_true(idle(f));
}

/* The body of the nth request `method path`; asserts it exists. Caller frees. */
static char *body_of(fixture *f, const char *method, const char *path, int nth, char *ctype,
                     size_t ctype_size)
{
    kfs_seen sn;
    assert_true(kfs_seen_get(f->srv, method, path, nth, &sn));
    if (ctype)
        snprintf(ctype, ctype_size, "%s", sn.content_type);
    return sn.body;
}

/* True when some request `method path` has a body containing needle. */
static bool any_body_has(fixture *f, const char *method, const char *path, const char *needle)
{
    bool found = false;
    for (int i = 0; i < kfs_seen_count(f->srv, method, path) && !found; i++) {
        char *body = body_of(f, method, path, i, NULL, 0);
        found = strstr(body, needle) != NULL;
        free(body);
    }
    return found;
}

/* ---- evictions ------------------------------------------------------------------ */

static void test_evict_body_and_dedup(void **state)
{
    (void)state;
    fixture *f = setup();
    const char *path = "/api/v1/namespaces/shop/pods/web-1/eviction";
    kfs_route(f->srv, "POST", path, &(kfs_reply){.status = 201, .body = "{}"}, -1);
    hoist_err err = {{0}};
    assert_int_equal(hoist_kube_writer_evict(f->w, "shop", "web-1", &err), 0);
    assert_int_equal(hoist_kube_writer_evict(f->w, "shop", "web-1", &err), 0); /* in flight */
    assert_int_equal(hoist_kube_writer_pending(f->w), 1);
    run_idle(f);

    assert_int_equal(kfs_seen_count(f->srv, NULL, NULL), 1);
    char ctype[128];
    char *body = body_of(f, "POST", path, 0, ctype, sizeof ctype);
    assert_string_equal(body, "{\"apiVersion\":\"policy/v1\",\"kind\":\"Eviction\",\"metadata\":"
                              "{\"name\":\"web-1\",\"namespace\":\"shop\"}}");
    assert_string_equal(ctype, "application/json");
    free(body);
    char auth[128];
    assert_string_equal(kfs_last_auth(f->srv, auth, sizeof auth), "Bearer writer-token");

    const hoist_kube_writer_stats *st = hoist_kube_writer_get_stats(f->w);
    assert_int_equal(st->evictions, 1);
    assert_int_equal(st->evictions_deduplicated, 1);
    assert_int_equal(st->evicted, 1);
    assert_int_equal(st->http.requests, 1);
    assert_int_equal(f->res.n, 1);
    assert_int_equal(f->res.kind[0], HOIST_KUBE_WRITE_EVICT);
    assert_int_equal(f->res.outcome[0], HOIST_KUBE_WRITE_DONE);

    /* finished: the same pod may be evicted again */
    assert_int_equal(hoist_kube_writer_evict(f->w, "shop", "web-1", &err), 0);
    run_idle(f);
    assert_int_equal(kfs_seen_count(f->srv, "POST", path), 2);
    teardown(f);
}

static void test_evict_refused_and_gone(void **state)
{
    (void)state;
    fixture *f = setup();
    const char *pdb = "/api/v1/namespaces/db/pods/pg-0/eviction";
    const char *gone = "/api/v1/namespaces/db/pods/pg-9/eviction";
    kfs_route(f->srv, "POST", pdb,
              &(kfs_reply){.status = 429,
                           .body = "{\"kind\":\"Status\",\"code\":429,\"message\":\"Cannot evict "
                                   "pod as it would violate the pod's disruption budget.\"}"},
              -1);
    kfs_route(f->srv, "POST", gone, &(kfs_reply){.status = 404, .body = "{\"code\":404}"}, -1);
    hoist_err err = {{0}};
    assert_int_equal(hoist_kube_writer_evict(f->w, "db", "pg-0", &err), 0);
    assert_int_equal(hoist_kube_writer_evict(f->w, "db", "pg-9", &err), 0);
    run_idle(f);

    const hoist_kube_writer_stats *st = hoist_kube_writer_get_stats(f->w);
    assert_int_equal(st->evictions_refused, 1);
    assert_int_equal(st->eviction_pod_gone, 1);
    assert_int_equal(st->eviction_failures, 0);
    assert_int_equal(st->http.throttled, 1);
    /* a refusal is not retried here: the pipeline asks again later */
    assert_int_equal(kfs_seen_count(f->srv, "POST", pdb), 1);
    assert_int_equal(f->res.n, 2);
    for (int i = 0; i < 2; i++) {
        if (f->res.status[i] == 429) {
            assert_int_equal(f->res.outcome[i], HOIST_KUBE_WRITE_REFUSED);
            assert_non_null(strstr(f->res.message[i], "disruption budget"));
        } else {
            assert_int_equal(f->res.status[i], 404);
            assert_int_equal(f->res.outcome[i], HOIST_KUBE_WRITE_GONE);
        }
    }
    /* not fatal: the next eviction goes out */
    assert_int_equal(hoist_kube_writer_evict(f->w, "db", "pg-0", &err), 0);
    run_idle(f);
    assert_int_equal(kfs_seen_count(f->srv, "POST", pdb), 2);
    assert_int_equal(st->evictions_refused, 2);
    teardown(f);
}

static void test_evict_5xx_retried_then_fails(void **state)
{
    (void)state;
    hoist_kube_writer_config cfg = {.retry = {.max_attempts = 3}};
    fixture *f = setup_with(&cfg, false);
    const char *ok = "/api/v1/namespaces/a/pods/p1/eviction";
    const char *bad = "/api/v1/namespaces/a/pods/p2/eviction";
    kfs_route(f->srv, "POST", ok, &(kfs_reply){.status = 503, .body = "{}"}, 2);
    kfs_route(f->srv, "POST", ok, &(kfs_reply){.status = 201, .body = "{}"}, -1);
    kfs_route(f->srv, "POST", bad, &(kfs_reply){.status = 500, .body = "{\"message\":\"etcd\"}"},
              -1);
    hoist_err err = {{0}};
    assert_int_equal(hoist_kube_writer_evict(f->w, "a", "p1", &err), 0);
    assert_int_equal(hoist_kube_writer_evict(f->w, "a", "p2", &err), 0);
    run_idle(f);
    const hoist_kube_writer_stats *st = hoist_kube_writer_get_stats(f->w);
    assert_int_equal(kfs_seen_count(f->srv, "POST", ok), 3);
    assert_int_equal(kfs_seen_count(f->srv, "POST", bad), 3); /* bounded: max_attempts */
    assert_int_equal(st->evicted, 1);
    assert_int_equal(st->eviction_failures, 1);
    assert_int_equal(st->http.server_errors, 5);
    assert_int_equal(st->http.retries, 4);
    assert_int_equal(st->http.gave_up, 1);
    teardown(f);
}

static void test_transport_error_bounded(void **state)
{
    (void)state;
    hoist_kube_writer_config cfg = {.retry = {.max_attempts = 2}};
    fixture *f = setup_with(&cfg, true);
    hoist_err err = {{0}};
    assert_int_equal(hoist_kube_writer_evict(f->w, "a", "p1", &err), 0);
    assert_int_equal(hoist_kube_writer_delete_node(f->w, "n1", &err), 0);
    run_idle(f);
    const hoist_kube_writer_stats *st = hoist_kube_writer_get_stats(f->w);
    assert_int_equal(st->http.transport_errors, 4);
    assert_int_equal(st->http.requests, 4);
    assert_int_equal(st->eviction_failures, 1);
    assert_int_equal(st->node_delete_failures, 1);
    assert_int_equal(f->res.n, 2);
    assert_int_equal(f->res.outcome[0], HOIST_KUBE_WRITE_FAILED);
    assert_non_null(strstr(f->res.message[0], "after 2 attempts"));
    teardown(f);
}

/* ---- Node deletion ---------------------------------------------------------------- */

static void test_delete_node(void **state)
{
    (void)state;
    hoist_kube_writer_config cfg = {.retry = {.retry_429 = true}};
    fixture *f = setup_with(&cfg, false);
    kfs_route(f->srv, "DELETE", "/api/v1/nodes/gone", &(kfs_reply){.status = 404}, -1);
    kfs_route(f->srv, "DELETE", "/api/v1/nodes/busy",
              &(kfs_reply){.status = 429, .retry_after = "0"}, 1);
    kfs_route(f->srv, "DELETE", "/api/v1/nodes/busy", &(kfs_reply){.status = 200, .body = "{}"},
              -1);
    kfs_route(f->srv, "DELETE", "/api/v1/nodes/denied",
              &(kfs_reply){.status = 403, .body = "{\"message\":\"forbidden\"}"}, -1);
    hoist_err err = {{0}};
    assert_int_equal(hoist_kube_writer_delete_node(f->w, "gone", &err), 0);
    assert_int_equal(hoist_kube_writer_delete_node(f->w, "busy", &err), 0);
    assert_int_equal(hoist_kube_writer_delete_node(f->w, "busy", &err), 0); /* in flight */
    assert_int_equal(hoist_kube_writer_delete_node(f->w, "denied", &err), 0);
    assert_int_equal(hoist_kube_writer_delete_node(f->w, "", &err), -1);
    assert_non_null(strstr(err.msg, "missing name"));
    run_idle(f);
    const hoist_kube_writer_stats *st = hoist_kube_writer_get_stats(f->w);
    assert_int_equal(st->nodes_already_gone, 1);
    assert_int_equal(st->nodes_deleted, 1);
    assert_int_equal(st->node_delete_failures, 1);
    assert_int_equal(st->http.throttled, 1);
    assert_int_equal(kfs_seen_count(f->srv, "DELETE", "/api/v1/nodes/busy"), 2);
    assert_int_equal(kfs_seen_count(f->srv, "DELETE", "/api/v1/nodes/denied"), 1); /* 4xx: no retry */
    teardown(f);
}

/* ---- taints ------------------------------------------------------------------------- */

#define NODE_TAINTS_A                                                                     \
    "[{\"key\":\"dedicated\",\"value\":\"gpu\",\"effect\":\"NoSchedule\"},"             \
    "{\"key\":\"node.kubernetes.io/not-ready\",\"effect\":\"NoExecute\",\"timeAdded\":" \
    "\"2024-05-01T12:00:00Z\"}]"

static const char node_a[] = "{\"kind\":\"Node\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":"
                             "\"n1\",\"resourceVersion\":\"7\"},\"spec\":{\"providerID\":"
                             "\"mock:///i-1\",\"taints\":" NODE_TAINTS_A "}}";

static void test_taint_add_keeps_others(void **state)
{
    (void)state;
    fixture *f = setup();
    kfs_route(f->srv, "GET", "/api/v1/nodes/n1", &(kfs_reply){.body = node_a}, -1);
    kfs_route(f->srv, "PATCH", "/api/v1/nodes/n1", &(kfs_reply){.body = "{}"}, -1);
    hoist_err err = {{0}};
    assert_int_equal(hoist_kube_writer_taint(f->w, "n1", "hoist.dev/disrupted", NULL,
                                             HOIST_TAINT_NO_SCHEDULE, true, &err),
                     0);
    run_idle(f);
    char ctype[128];
    char *body = body_of(f, "PATCH", "/api/v1/nodes/n1", 0, ctype, sizeof ctype);
    assert_string_equal(ctype, "application/json-patch+json");
    assert_string_equal(body, "[{\"op\":\"test\",\"path\":\"/metadata/resourceVersion\",\"value\":"
                              "\"7\"},{\"op\":\"add\",\"path\":\"/spec/taints\",\"value\":"
                              "[{\"key\":\"dedicated\",\"value\":\"gpu\",\"effect\":"
                              "\"NoSchedule\"},{\"key\":\"node.kubernetes.io/not-ready\","
                              "\"effect\":\"NoExecute\",\"timeAdded\":\"2024-05-01T12:00:00Z\"},"
                              "{\"key\":\"hoist.dev/disrupted\",\"effect\":\"NoSchedule\"}]}]");
    free(body);
    const hoist_kube_writer_stats *st = hoist_kube_writer_get_stats(f->w);
    assert_int_equal(st->node_patches, 1);
    assert_int_equal(f->res.outcome[0], HOIST_KUBE_WRITE_DONE);
    teardown(f);
}

static void test_taint_idempotent(void **state)
{
    (void)state;
    fixture *f = setup();
    kfs_route(f->srv, "GET", "/api/v1/nodes/n1", &(kfs_reply){.body = node_a}, -1);
    hoist_err err = {{0}};
    /* already there with the same value: no PATCH */
    assert_int_equal(hoist_kube_writer_taint(f->w, "n1", "dedicated", "gpu",
                                             HOIST_TAINT_NO_SCHEDULE, true, &err),
                     0);
    /* removing a taint that is not there (other effect): no PATCH */
    assert_int_equal(hoist_kube_writer_taint(f->w, "n1", "dedicated", "gpu",
                                             HOIST_TAINT_NO_EXECUTE, false, &err),
                     0);
    run_idle(f);
    assert_int_equal(kfs_seen_count(f->srv, "PATCH", NULL), 0);
    assert_int_equal(kfs_seen_count(f->srv, "GET", "/api/v1/nodes/n1"), 2);
    const hoist_kube_writer_stats *st = hoist_kube_writer_get_stats(f->w);
    assert_int_equal(st->node_unchanged, 2);
    assert_int_equal(f->res.outcome[0], HOIST_KUBE_WRITE_UNCHANGED);
    assert_int_equal(f->res.outcome[1], HOIST_KUBE_WRITE_UNCHANGED);
    teardown(f);
}

static void test_taint_remove_only_that_one(void **state)
{
    (void)state;
    bool unchanged;
    hoist_err err = {{0}};
    char *p = hoist_kube_node_patch(node_a, strlen(node_a), HOIST_KUBE_WRITE_UNTAINT, "dedicated",
                                    NULL, HOIST_TAINT_NO_SCHEDULE, &unchanged, &err);
    assert_non_null(p);
    assert_false(unchanged);
    assert_string_equal(p, "[{\"op\":\"test\",\"path\":\"/metadata/resourceVersion\",\"value\":"
                           "\"7\"},{\"op\":\"add\",\"path\":\"/spec/taints\",\"value\":"
                           "[{\"key\":\"node.kubernetes.io/not-ready\",\"effect\":\"NoExecute\","
                           "\"timeAdded\":\"2024-05-01T12:00:00Z\"}]}]");
    free(p);

    /* the last taint goes: the list is removed */
    static const char one[] = "{\"metadata\":{\"resourceVersion\":\"3\"},\"spec\":{\"taints\":"
                              "[{\"key\":\"hoist.dev/unregistered\",\"effect\":\"NoExecute\"}]}}";
    p = hoist_kube_node_patch(one, strlen(one), HOIST_KUBE_WRITE_UNTAINT,
                              "hoist.dev/unregistered", NULL, HOIST_TAINT_NO_EXECUTE, &unchanged,
                              &err);
    assert_non_null(p);
    assert_string_equal(p, "[{\"op\":\"test\",\"path\":\"/metadata/resourceVersion\",\"value\":"
                           "\"3\"},{\"op\":\"remove\",\"path\":\"/spec/taints\"}]");
    free(p);

    /* a new value replaces the old one in place */
    p = hoist_kube_node_patch(node_a, strlen(node_a), HOIST_KUBE_WRITE_TAINT, "dedicated", "cpu",
                              HOIST_TAINT_NO_SCHEDULE, &unchanged, &err);
    assert_non_null(p);
    assert_non_null(strstr(p, "[{\"key\":\"dedicated\",\"value\":\"cpu\",\"effect\":"
                              "\"NoSchedule\"},{\"key\":\"node.kubernetes.io/not-ready\""));
    free(p);

    /* a Node without spec gets one */
    static const char bare[] = "{\"metadata\":{\"resourceVersion\":\"1\"}}";
    p = hoist_kube_node_patch(bare, strlen(bare), HOIST_KUBE_WRITE_TAINT, "k", "v",
                              HOIST_TAINT_PREFER_NO_SCHEDULE, &unchanged, &err);
    assert_non_null(p);
    assert_non_null(strstr(p, "{\"op\":\"add\",\"path\":\"/spec\",\"value\":{\"taints\":[{\"key\":"
                              "\"k\",\"value\":\"v\",\"effect\":\"PreferNoSchedule\"}]}}"));
    free(p);

    /* cordon and uncordon */
    p = hoist_kube_node_patch(node_a, strlen(node_a), HOIST_KUBE_WRITE_CORDON, NULL, NULL, 0,
                              &unchanged, &err);
    assert_non_null(p);
    assert_non_null(strstr(p, "{\"op\":\"add\",\"path\":\"/spec/unschedulable\",\"value\":true}"));
    free(p);
    p = hoist_kube_node_patch(node_a, strlen(node_a), HOIST_KUBE_WRITE_UNCORDON, NULL, NULL, 0,
                              &unchanged, &err);
    assert_null(p);
    assert_true(unchanged);
}

static void test_taint_conflict_retried(void **state)
{
    (void)state;
    fixture *f = setup();
    /* first read: rv 7; then someone else added a taint (rv 8) before our PATCH landed */
    static const char node_b[] = "{\"metadata\":{\"name\":\"n1\",\"resourceVersion\":\"8\"},"
                                 "\"spec\":{\"taints\":[{\"key\":\"other\",\"effect\":"
                                 "\"NoSchedule\"}]}}";
    kfs_route(f->srv, "GET", "/api/v1/nodes/n1", &(kfs_reply){.body = node_a}, 1);
    kfs_route(f->srv, "GET", "/api/v1/nodes/n1", &(kfs_reply){.body = node_b}, -1);
    kfs_route(f->srv, "PATCH", "/api/v1/nodes/n1",
              &(kfs_reply){.status = 422,
                           .body = "{\"message\":\"the server rejected our request due to an "
                                   "error in our request\"}"},
              1);
    kfs_route(f->srv, "PATCH", "/api/v1/nodes/n1", &(kfs_reply){.body = "{}"}, -1);
    hoist_err err = {{0}};
    assert_int_equal(hoist_kube_writer_taint(f->w, "n1", "hoist.dev/disrupted", "",
                                             HOIST_TAINT_NO_SCHEDULE, true, &err),
                     0);
    run_idle(f);
    assert_int_equal(kfs_seen_count(f->srv, "GET", "/api/v1/nodes/n1"), 2);
    assert_int_equal(kfs_seen_count(f->srv, "PATCH", "/api/v1/nodes/n1"), 2);
    char *body = body_of(f, "PATCH", "/api/v1/nodes/n1", 1, NULL, 0);
    assert_string_equal(body, "[{\"op\":\"test\",\"path\":\"/metadata/resourceVersion\",\"value\":"
                              "\"8\"},{\"op\":\"add\",\"path\":\"/spec/taints\",\"value\":"
                              "[{\"key\":\"other\",\"effect\":\"NoSchedule\"},{\"key\":"
                              "\"hoist.dev/disrupted\",\"effect\":\"NoSchedule\"}]}]");
    free(body);
    const hoist_kube_writer_stats *st = hoist_kube_writer_get_stats(f->w);
    assert_int_equal(st->node_conflicts, 1);
    assert_int_equal(st->node_patches, 1);
    assert_int_equal(f->res.outcome[0], HOIST_KUBE_WRITE_DONE);
    teardown(f);
}

static void test_taint_conflict_bounded(void **state)
{
    (void)state;
    hoist_kube_writer_config cfg = {.max_conflicts = 2};
    fixture *f = setup_with(&cfg, false);
    kfs_route(f->srv, "GET", "/api/v1/nodes/n1", &(kfs_reply){.body = node_a}, -1);
    kfs_route(f->srv, "PATCH", "/api/v1/nodes/n1",
              &(kfs_reply){.status = 409, .body = "{\"message\":\"conflict\"}"}, -1);
    hoist_err err = {{0}};
    assert_int_equal(hoist_kube_writer_cordon(f->w, "n1", true, &err), 0);
    run_idle(f);
    assert_int_equal(kfs_seen_count(f->srv, "PATCH", "/api/v1/nodes/n1"), 3);
    const hoist_kube_writer_stats *st = hoist_kube_writer_get_stats(f->w);
    assert_int_equal(st->node_conflicts, 3);
    assert_int_equal(st->node_failures, 1);
    assert_int_equal(f->res.outcome[0], HOIST_KUBE_WRITE_FAILED);
    assert_non_null(strstr(f->res.message[0], "still conflicting after 3 rounds"));
    teardown(f);
}

static void test_node_writes_serialized(void **state)
{
    (void)state;
    fixture *f = setup();
    kfs_route(f->srv, "GET", "/api/v1/nodes/n1", &(kfs_reply){.body = node_a}, -1);
    kfs_route(f->srv, "PATCH", "/api/v1/nodes/n1", &(kfs_reply){.body = "{}"}, -1);
    kfs_route(f->srv, "GET", "/api/v1/nodes/missing", &(kfs_reply){.status = 404}, -1);
    hoist_err err = {{0}};
    assert_int_equal(hoist_kube_writer_taint(f->w, "n1", "a", NULL, HOIST_TAINT_NO_SCHEDULE, true,
                                             &err),
                     0);
    assert_int_equal(hoist_kube_writer_taint(f->w, "n1", "dedicated", NULL,
                                             HOIST_TAINT_NO_SCHEDULE, false, &err),
                     0);
    assert_int_equal(hoist_kube_writer_taint(f->w, "n1", "dedicated", NULL,
                                             HOIST_TAINT_NO_SCHEDULE, false, &err),
                     0); /* the same write is already waiting */
    assert_int_equal(hoist_kube_writer_taint(f->w, "missing", "a", NULL, HOIST_TAINT_NO_SCHEDULE,
                                             true, &err),
                     0);
    assert_int_equal(hoist_kube_writer_taint(f->w, "n1", "", NULL, HOIST_TAINT_NO_SCHEDULE, true,
                                             &err),
                     -1);
    assert_non_null(strstr(err.msg, "empty taint key"));
    assert_int_equal(hoist_kube_writer_pending(f->w), 3);
    run_idle(f);
    /* one Node, one write at a time: GET PATCH GET PATCH */
    const char *want[] = {"GET", "PATCH", "GET", "PATCH"};
    int k = 0;
    for (int i = 0; i < kfs_seen_count(f->srv, NULL, NULL); i++) {
        kfs_seen sn;
        assert_true(kfs_seen_get(f->srv, NULL, NULL, i, &sn));
        if (!strcmp(sn.path, "/api/v1/nodes/n1")) {
            assert_true(k < 4);
            assert_string_equal(sn.method, want[k]);
            k++;
        }
        kfs_seen_free(&sn);
    }
    assert_int_equal(k, 4);
    const hoist_kube_writer_stats *st = hoist_kube_writer_get_stats(f->w);
    assert_int_equal(st->node_writes_coalesced, 1);
    assert_int_equal(st->node_patches, 2);
    assert_int_equal(st->node_missing, 1);
    teardown(f);
}

/* ---- bad answers ----------------------------------------------------------------- */

static void test_malformed_node(void **state)
{
    (void)state;
    fixture *f = setup();
    kfs_route(f->srv, "GET", "/api/v1/nodes/junk", &(kfs_reply){.body = "<html>oops"}, -1);
    kfs_route(f->srv, "GET", "/api/v1/nodes/norv",
              &(kfs_reply){.body = "{\"metadata\":{\"name\":\"norv\"},\"spec\":{}}"}, -1);
    kfs_route(f->srv, "GET", "/api/v1/nodes/badtaint",
              &(kfs_reply){.body = "{\"metadata\":{\"resourceVersion\":\"1\"},\"spec\":{"
                                   "\"taints\":[{\"key\":\"a\",\"effect\":\"NoSchedule\"},"
                                   "{\"key\":5,\"effect\":\"NoSchedule\"}]}}"},
              -1);
    hoist_err err = {{0}};
    assert_int_equal(hoist_kube_writer_taint(f->w, "junk", "a", NULL, HOIST_TAINT_NO_SCHEDULE,
                                             true, &err),
                     0);
    run_idle(f);
    assert_int_equal(hoist_kube_writer_taint(f->w, "norv", "a", NULL, HOIST_TAINT_NO_SCHEDULE,
                                             true, &err),
                     0);
    run_idle(f);
    assert_int_equal(hoist_kube_writer_taint(f->w, "badtaint", "a", NULL, HOIST_TAINT_NO_SCHEDULE,
                                             false, &err),
                     0);
    run_idle(f);
    const hoist_kube_writer_stats *st = hoist_kube_writer_get_stats(f->w);
    assert_int_equal(st->node_malformed, 3);
    assert_int_equal(st->node_failures, 3);
    assert_int_equal(kfs_seen_count(f->srv, "PATCH", NULL), 0);
    assert_int_equal(f->res.n, 3);
    assert_non_null(strstr(f->res.message[0], "GET Node junk: malformed answer: not JSON"));
    assert_non_null(strstr(f->res.message[1], "metadata.resourceVersion"));
    assert_non_null(strstr(f->res.message[2], "spec.taints[1].key"));
    teardown(f);

    /* the patch builder on its own: each bad shape names the field */
    static const struct {
        const char *json, *field;
        hoist_kube_write_kind kind;
    } bad[] = {
        {"[1,2]", "not a JSON object", HOIST_KUBE_WRITE_TAINT},
        {"{\"metadata\":7}", "metadata:", HOIST_KUBE_WRITE_TAINT},
        {"{\"metadata\":{\"resourceVersion\":12}}", "metadata.resourceVersion",
         HOIST_KUBE_WRITE_TAINT},
        {"{\"metadata\":{\"resourceVersion\":\"1\"},\"spec\":[]}", "spec: not an object",
         HOIST_KUBE_WRITE_TAINT},
        {"{\"metadata\":{\"resourceVersion\":\"1\"},\"spec\":{\"taints\":{}}}",
         "spec.taints: not an array", HOIST_KUBE_WRITE_TAINT},
        {"{\"metadata\":{\"resourceVersion\":\"1\"},\"spec\":{\"taints\":[3]}}",
         "spec.taints[0]: not an object", HOIST_KUBE_WRITE_UNTAINT},
        {"{\"metadata\":{\"resourceVersion\":\"1\"},\"spec\":{\"taints\":[{\"key\":\"a\"}]}}",
         "spec.taints[0].effect", HOIST_KUBE_WRITE_TAINT},
        {"{\"metadata\":{\"resourceVersion\":\"1\"},\"spec\":{\"taints\":[{\"key\":\"a\","
         "\"effect\":\"NoSchedule\",\"value\":[]}]}}",
         "spec.taints[0].value", HOIST_KUBE_WRITE_TAINT},
        {"{\"metadata\":{\"resourceVersion\":\"1\"},\"spec\":{\"unschedulable\":\"yes\"}}",
         "spec.unschedulable", HOIST_KUBE_WRITE_CORDON},
        {"{\"metadata\":{\"resourceVersion\":\"1\"", "not JSON", HOIST_KUBE_WRITE_CORDON},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        bool unchanged = true;
        hoist_err e = {{0}};
        char *p = hoist_kube_node_patch(bad[i].json, strlen(bad[i].json), bad[i].kind, "a", NULL,
                                        HOIST_TAINT_NO_SCHEDULE, &unchanged, &e);
        assert_null(p);
        assert_false(unchanged);
        if (!strstr(e.msg, bad[i].field))
            fail_msg("case %zu: \"%s\" does not name %s", i, e.msg, bad[i].field);
    }
}

static void test_close_with_writes_in_flight(void **state)
{
    (void)state;
    fixture *f = setup();
    kfs_route(f->srv, "GET", "/api/v1/nodes/n1", &(kfs_reply){.body = node_a}, -1);
    hoist_err err = {{0}};
    assert_int_equal(hoist_kube_writer_evict(f->w, "a", "b", &err), 0);
    assert_int_equal(hoist_kube_writer_taint(f->w, "n1", "x", NULL, HOIST_TAINT_NO_SCHEDULE, true,
                                             &err),
                     0);
    assert_int_equal(hoist_kube_writer_taint(f->w, "n1", "y", NULL, HOIST_TAINT_NO_SCHEDULE, true,
                                             &err),
                     0);
    assert_int_equal(hoist_kube_writer_pending(f->w), 3);
    teardown(f); /* closes with everything pending: no callback, no leak */
}


/* ---- Events ------------------------------------------------------------------------- */

/* The name the recorder gives the nth Event (from 0) made at unix ms `at`. */
static void expected_name(char *buf, size_t size, const char *pod, uint64_t at, unsigned nth)
{
    snprintf(buf, size, "%s.%" PRIx64, pod, at * 1000000u + nth);
}

static void test_event_created(void **state)
{
    (void)state;
    fixture *f = setup_events(NULL);
    const char *coll = "/api/v1/namespaces/shop/events";
    kfs_route(f->srv, "POST", coll, &(kfs_reply){.status = 201, .body = "{}"}, -1);
    hoist_err err = {{0}};
    assert_int_equal(hoist_kube_event_nominated(f->ev, "shop", "web-1", "default-1", true, &err),
                     0);
    run_idle(f);
    char name[128], want[1024];
    expected_name(name, sizeof name, "web-1", f->now, 0);
    snprintf(want, sizeof want,
             "{\"apiVersion\":\"v1\",\"kind\":\"Event\",\"metadata\":{\"name\":\"%s\","
             "\"namespace\":\"shop\"},\"involvedObject\":{\"apiVersion\":\"v1\",\"kind\":\"Pod\","
             "\"namespace\":\"shop\",\"name\":\"web-1\"},\"reason\":\"Nominated\",\"message\":"
             "\"nominated for new node default-1\",\"type\":\"Normal\",\"count\":1,"
             "\"firstTimestamp\":\"2024-05-01T12:00:00Z\",\"lastTimestamp\":"
             "\"2024-05-01T12:00:00Z\",\"source\":{\"component\":\"hoist\"},"
             "\"reportingComponent\":\"hoist\",\"reportingInstance\":\"hoist-0\"}",
             name);
    char ctype[128];
    char *body = body_of(f, "POST", coll, 0, ctype, sizeof ctype);
    assert_string_equal(body, want);
    assert_string_equal(ctype, "application/json");
    free(body);
    const hoist_kube_events_stats *st = hoist_kube_events_get_stats(f->ev);
    assert_int_equal(st->created, 1);
    assert_int_equal(st->emitted, 1);

    /* an existing Node says so */
    assert_int_equal(hoist_kube_event_nominated(f->ev, "shop", "web-2", "ip-10-0-0-1", false,
                                                &err),
                     0);
    run_idle(f);
    body = body_of(f, "POST", coll, 1, NULL, 0);
    assert_non_null(strstr(body, "\"message\":\"nominated for existing node ip-10-0-0-1\""));
    free(body);
    teardown(f);
}

static void test_event_aggregated(void **state)
{
    (void)state;
    fixture *f = setup_events(NULL);
    const char *coll = "/api/v1/namespaces/shop/events";
    kfs_route(f->srv, "POST", coll, &(kfs_reply){.status = 201, .body = "{}"}, -1);
    char name[128], path[256];
    expected_name(name, sizeof name, "web-1", f->now, 0);
    snprintf(path, sizeof path, "%s/%s", coll, name);
    kfs_route(f->srv, "PATCH", path, &(kfs_reply){.body = "{}"}, 1);
    kfs_route(f->srv, "PATCH", path, &(kfs_reply){.status = 404, .body = "{}"}, -1);
    hoist_err err = {{0}};
    const char *why = "no instance type fits 3 GPUs";
    assert_int_equal(hoist_kube_event_unschedulable(f->ev, "shop", "web-1", why, &err), 0);
    run_idle(f);
    f->now += 1000;
    assert_int_equal(hoist_kube_event_unschedulable(f->ev, "shop", "web-1", why, &err), 0);
    run_idle(f);
    assert_int_equal(kfs_seen_count(f->srv, "POST", coll), 1); /* not a second Event */
    assert_int_equal(kfs_seen_count(f->srv, "PATCH", path), 1);
    char ctype[128];
    char *body = body_of(f, "PATCH", path, 0, ctype, sizeof ctype);
    assert_string_equal(body, "{\"count\":2,\"lastTimestamp\":\"2024-05-01T12:00:01Z\"}");
    assert_string_equal(ctype, "application/strategic-merge-patch+json");
    free(body);
    body = body_of(f, "POST", coll, 0, NULL, 0);
    assert_non_null(strstr(body, "\"reason\":\"FailedScaling\",\"message\":\"hoist cannot place "
                                 "the pod: no instance type fits 3 GPUs\",\"type\":\"Warning\""));
    free(body);

    /* two more while nothing is in flight, then the Event expired on the server (404):
     * it is created again with the whole count */
    f->now += 1000;
    assert_int_equal(hoist_kube_event_unschedulable(f->ev, "shop", "web-1", why, &err), 0);
    f->now += 1000;
    assert_int_equal(hoist_kube_event_unschedulable(f->ev, "shop", "web-1", why, &err), 0);
    run_idle(f);
    const hoist_kube_events_stats *st = hoist_kube_events_get_stats(f->ev);
    assert_int_equal(st->recreated, 1);
    assert_int_equal(kfs_seen_count(f->srv, "POST", coll), 2);
    body = body_of(f, "POST", coll, 1, NULL, 0);
    assert_non_null(strstr(body, "\"count\":4,"));
    assert_null(strstr(body, name)); /* a new name */
    free(body);

    /* another message is another Event; the same one after the window too */
    assert_int_equal(hoist_kube_event_unschedulable(f->ev, "shop", "web-1", "other", &err), 0);
    f->now += HOIST_KUBE_EVENT_WINDOW_MS + 1;
    assert_int_equal(hoist_kube_event_unschedulable(f->ev, "shop", "web-1", why, &err), 0);
    run_idle(f);
    assert_int_equal(kfs_seen_count(f->srv, "POST", coll), 4);
    body = body_of(f, "POST", coll, 3, NULL, 0);
    assert_non_null(strstr(body, "\"count\":1,"));
    free(body);
    assert_int_equal(st->aggregated, 3);
    assert_int_equal(st->created, 4);
    assert_int_equal(st->failures, 0);
    teardown(f);
}

static void test_event_rate_limit(void **state)
{
    (void)state;
    hoist_kube_events_config cfg = {.burst = 3, .refill_ms = 1000, .global_burst = 5,
                                    .global_refill_ms = 100};
    fixture *f = setup_events(&cfg);
    kfs_route(f->srv, "POST", "/api/v1/namespaces/ns/events", &(kfs_reply){.status = 201}, -1);
    hoist_err err = {{0}};
    int sent = 0, dropped = 0;
    for (int i = 0; i < 5; i++) {
        char msg[32];
        snprintf(msg, sizeof msg, "reason %d", i);
        int rc = hoist_kube_event_unschedulable(f->ev, "ns", "a", msg, &err);
        assert_true(rc == 0 || rc == 1);
        rc == 0 ? sent++ : dropped++;
    }
    assert_int_equal(sent, 3);
    assert_int_equal(dropped, 2);
    /* another pod has its own bucket; the global one (5) runs out after two more */
    assert_int_equal(hoist_kube_event_unschedulable(f->ev, "ns", "b", "x", &err), 0);
    assert_int_equal(hoist_kube_event_unschedulable(f->ev, "ns", "c", "x", &err), 0);
    assert_int_equal(hoist_kube_event_unschedulable(f->ev, "ns", "d", "x", &err), 1);
    /* time gives tokens back: one per refill period per pod */
    f->now += 1000;
    assert_int_equal(hoist_kube_event_unschedulable(f->ev, "ns", "a", "later 1", &err), 0);
    assert_int_equal(hoist_kube_event_unschedulable(f->ev, "ns", "a", "later 2", &err), 1);
    run_idle(f);
    const hoist_kube_events_stats *st = hoist_kube_events_get_stats(f->ev);
    assert_int_equal(st->rate_limited, 4);
    assert_int_equal(st->emitted, 10);
    assert_int_equal(kfs_seen_count(f->srv, "POST", "/api/v1/namespaces/ns/events"), 6);
    teardown(f);
}

static void test_event_bad_input_and_failures(void **state)
{
    (void)state;
    fixture *f = setup_events(NULL);
    kfs_route(f->srv, "POST", "/api/v1/namespaces/locked/events",
              &(kfs_reply){.status = 403, .body = "{\"message\":\"events is forbidden\"}"}, -1);
    hoist_err err = {{0}};
    assert_int_equal(hoist_kube_event_pod(f->ev, "a", "b", "Info", "R", "m", &err), -1);
    assert_non_null(strstr(err.msg, "type: must be Normal or Warning"));
    assert_int_equal(hoist_kube_event_pod(f->ev, "", "b", "Normal", "R", "m", &err), -1);
    assert_non_null(strstr(err.msg, "missing namespace"));
    assert_int_equal(hoist_kube_event_unschedulable(f->ev, "locked", "p", "x", &err), 0);
    run_idle(f);
    const hoist_kube_events_stats *st = hoist_kube_events_get_stats(f->ev);
    assert_int_equal(st->failures, 1);
    assert_int_equal(st->created, 0);
    /* a very long message is cut, not refused */
    char *longmsg = malloc(5000);
    memset(longmsg, 'x', 4999);
    longmsg[4999] = '\0';
    kfs_route(f->srv, "POST", "/api/v1/namespaces/big/events", &(kfs_reply){.status = 201}, -1);
    assert_int_equal(hoist_kube_event_pod(f->ev, "big", "p", "Normal", "R", longmsg, &err), 0);
    free(longmsg);
    run_idle(f);
    char *body = body_of(f, "POST", "/api/v1/namespaces/big/events", 0, NULL, 0);
    const char *m = strstr(body, "\"message\":\"");
    assert_non_null(m);
    assert_int_equal(strspn(m + 11, "x"), HOIST_KUBE_EVENT_MAX_MESSAGE);
    free(body);
    teardown(f);
}

static const char *uid_of(void *arg, const char *ns, const char *name)
{
    (void)arg;
    return !strcmp(ns, "shop") && !strcmp(name, "web-1") ? "5f1c0e7a-uid" : NULL;
}

static void test_event_uid(void **state)
{
    (void)state;
    hoist_kube_events_config cfg = {.pod_uid = uid_of};
    fixture *f = setup_events(&cfg);
    const char *coll = "/api/v1/namespaces/shop/events";
    kfs_route(f->srv, "POST", coll, &(kfs_reply){.status = 201}, -1);
    hoist_err err = {{0}};
    assert_int_equal(hoist_kube_event_unschedulable(f->ev, "shop", "web-1", "x", &err), 0);
    assert_int_equal(hoist_kube_event_unschedulable(f->ev, "shop", "web-2", "x", &err), 0);
    run_idle(f);
    assert_true(any_body_has(f, "POST", coll,
                             "\"involvedObject\":{\"apiVersion\":\"v1\",\"kind\":\"Pod\","
                             "\"namespace\":\"shop\",\"name\":\"web-1\",\"uid\":"
                             "\"5f1c0e7a-uid\"}"));
    assert_true(any_body_has(f, "POST", coll,
                             "\"involvedObject\":{\"apiVersion\":\"v1\",\"kind\":\"Pod\","
                             "\"namespace\":\"shop\",\"name\":\"web-2\"}"));
    teardown(f);
}

/* ---- the pipeline's sink ----------------------------------------------------------------- */

static bool claim_names(void *arg, const char *node)
{
    (void)arg;
    return !strncmp(node, "default-", 8);
}

static void test_sink(void **state)
{
    (void)state;
    fixture *f = setup_events(NULL);
    kfs_route(f->srv, "POST", "/api/v1/namespaces/shop/events", &(kfs_reply){.status = 201}, -1);
    kfs_route(f->srv, "POST", "/api/v1/namespaces/shop/pods/web-1/eviction",
              &(kfs_reply){.status = 201}, -1);
    kfs_route(f->srv, "GET", "/api/v1/nodes/n1", &(kfs_reply){.body = node_a}, -1);
    kfs_route(f->srv, "PATCH", "/api/v1/nodes/n1", &(kfs_reply){.body = "{}"}, -1);
    kfs_route(f->srv, "DELETE", "/api/v1/nodes/n1", &(kfs_reply){.body = "{}"}, -1);
    hoist_kube_sink k = {f->w, f->ev, claim_names, NULL, NULL};
    hoist_sink s;
    hoist_kube_sink_bind(&k, &s);
    s.nominated(s.ctx, "shop", "web-1", "default-3");
    s.nominated(s.ctx, "shop", "web-2", "n1");
    s.unschedulable(s.ctx, "shop", "web-3", "too big");
    assert_int_equal(s.evict(s.ctx, "shop", "web-1"), 0);
    assert_int_equal(s.taint(s.ctx, "n1", "hoist.dev/disrupted", "", HOIST_TAINT_NO_SCHEDULE,
                             true),
                     0);
    assert_int_equal(s.delete_node(s.ctx, "n1"), 0);
    assert_int_equal(s.taint(s.ctx, "", "k", "", HOIST_TAINT_NO_SCHEDULE, true), -1);
    run_idle(f);
    assert_int_equal(kfs_seen_count(f->srv, "POST", "/api/v1/namespaces/shop/events"), 3);
    /* concurrent requests: the server may see them in any order */
    assert_true(any_body_has(f, "POST", "/api/v1/namespaces/shop/events",
                             "\"message\":\"nominated for new node default-3\""));
    assert_true(any_body_has(f, "POST", "/api/v1/namespaces/shop/events",
                             "\"message\":\"nominated for existing node n1\""));
    assert_true(any_body_has(f, "POST", "/api/v1/namespaces/shop/events",
                             "\"message\":\"hoist cannot place the pod: too big\""));
    assert_int_equal(kfs_seen_count(f->srv, "POST", "/api/v1/namespaces/shop/pods/web-1/eviction"),
                     1);
    assert_int_equal(kfs_seen_count(f->srv, "PATCH", "/api/v1/nodes/n1"), 1);
    assert_int_equal(kfs_seen_count(f->srv, "DELETE", "/api/v1/nodes/n1"), 1);
    /* without a writer or recorder the writes are skipped, not crashed on */
    hoist_kube_sink none = {0};
    hoist_kube_sink_bind(&none, &s);
    s.nominated(s.ctx, "a", "b", "c");
    assert_int_equal(s.evict(s.ctx, "a", "b"), 0);
    teardown(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_evict_body_and_dedup),
        cmocka_unit_test(test_evict_refused_and_gone),
        cmocka_unit_test(test_evict_5xx_retried_then_fails),
        cmocka_unit_test(test_transport_error_bounded),
        cmocka_unit_test(test_delete_node),
        cmocka_unit_test(test_taint_add_keeps_others),
        cmocka_unit_test(test_taint_idempotent),
        cmocka_unit_test(test_taint_remove_only_that_one),
        cmocka_unit_test(test_taint_conflict_retried),
        cmocka_unit_test(test_taint_conflict_bounded),
        cmocka_unit_test(test_node_writes_serialized),
        cmocka_unit_test(test_malformed_node),
        cmocka_unit_test(test_close_with_writes_in_flight),
        cmocka_unit_test(test_event_created),
        cmocka_unit_test(test_event_aggregated),
        cmocka_unit_test(test_event_rate_limit),
        cmocka_unit_test(test_event_bad_input_and_failures),
        cmocka_unit_test(test_event_uid),
        cmocka_unit_test(test_sink),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
