/*
 * test_daemon.c - the daemon (daemon/daemon.h) in-process against the
 * simulated API server (apiserver/apiserver.h) on the same loop, over real
 * HTTP on a loopback port, with the mock provider linked in.
 *
 * Time is real (the loop's), but nothing asserts on it: every wait is "run
 * the loop until X happens", with a generous guard that fails the test
 * when X never happens.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hoist/provider.h>

#include "apiserver/apiserver.h"
#include "apiserver/resources.h"
#include "apiserver/store.h"
#include "daemon/daemon.h"
#include "host/host.h"
#include "host/httpd.h"
#include "host/metrics.h"
#include "model/catalog.h"

#define GUARD_MS 20000u

typedef struct world {
    uv_loop_t loop;
    uv_timer_t ticker;          /* makes uv_run(ONCE) return regularly */
    hoist_logger log;
    hoist_apistore *store;
    hoist_httpd *httpd;
    hoist_apiserver *api;
    int port;
    hoist_metrics *metrics;
    hoist_services *svc;
    const hoist_provider *mock;
    void *mock_state;
    hoist_catalog catalog;
    hoist_kube_config kube;
    hoist_daemon *d;
    bool stopped;
} world;

static const char *src_path(const char *rel)
{
    static char buf[1024];
    const char *s = getenv("HOIST_SRCDIR");
    snprintf(buf, sizeof buf, "%s/%s", s && *s ? s : ".", rel);
    return buf;
}

static void on_tick(uv_timer_t *t)
{
    (void)t;
}

static uint64_t real_ms(void)
{
    return hoist_kube_real_clock_ms(NULL);
}

/* Run the loop until pred(w) or the guard runs out; false then. */
static bool run_until(world *w, bool (*pred)(world *), uint64_t guard_ms)
{
    uint64_t end = real_ms() + guard_ms;
    while (!pred(w)) {
        if (real_ms() > end)
            return false;
        uv_run(&w->loop, UV_RUN_ONCE);
    }
    return true;
}

static const hoist_api_resource *res(const char *group, const char *plural)
{
    const hoist_api_resource *r = hoist_api_resource_find(group, "v1", plural);
    assert_non_null(r);
    return r;
}

static void create(world *w, const char *group, const char *plural, const char *json_text)
{
    json_error_t je;
    json_t *obj = json_loads(json_text, 0, &je);
    if (!obj)
        fail_msg("bad test JSON: %s", je.text);
    hoist_apierr e;
    json_t *made = hoist_apistore_create(w->store, res(group, plural), NULL, obj, false, &e);
    if (!made)
        fail_msg("create %s: %s", plural, e.message);
    json_decref(made);
    json_decref(obj);
}

/* A fresh API server (empty store with the default namespace) on port
 * (0 = any free one). */
static void api_start(world *w, int port)
{
    hoist_err err = {{0}};
    w->store = hoist_apistore_new(0, NULL, NULL);
    assert_non_null(w->store);
    w->httpd = hoist_httpd_start(&w->loop, "127.0.0.1", port, NULL, &err);
    if (!w->httpd)
        fail_msg("httpd: %s", err.msg);
    w->port = hoist_httpd_port(w->httpd);
    hoist_apiserver_config cfg = {100, NULL, NULL}; /* bookmarks every 100 ms */
    w->api = hoist_apiserver_new(&w->loop, w->httpd, w->store, &cfg, &err);
    if (!w->api)
        fail_msg("apiserver: %s", err.msg);
    if (!hoist_apistore_get(w->store, res("", "namespaces"), NULL, "default"))
        create(w, "", "namespaces", "{\"metadata\": {\"name\": \"default\"}}");
}

static void api_stop(world *w)
{
    hoist_apiserver_close(w->api);
    w->api = NULL;
    hoist_httpd_close(w->httpd);
    w->httpd = NULL;
    uv_run(&w->loop, UV_RUN_NOWAIT);
    hoist_apistore_free(w->store);
    w->store = NULL;
}

static void on_catalog(void *arg, const hoist_error *err, const hoist_instance_type *types,
                       size_t n)
{
    assert_null(err);
    hoist_err e = {{0}};
    if (hoist_catalog_copy(arg, types, n, &e) < 0)
        fail_msg("%s", e.msg);
}

static int setup(void **state)
{
    world *w = calloc(1, sizeof *w);
    assert_non_null(w);
    assert_int_equal(uv_loop_init(&w->loop), 0);
    uv_timer_init(&w->loop, &w->ticker);
    uv_timer_start(&w->ticker, on_tick, 10, 10);
    hoist_logger_init(&w->log, getenv("HOIST_TEST_VERBOSE") ? stderr : NULL, HOIST_LOG_DEBUG);
    api_start(w, 0);
    w->metrics = hoist_metrics_new();
    hoist_err err = {{0}};
    w->svc = hoist_services_new(&w->loop, &w->log, w->metrics, "mock", &err);
    assert_non_null(w->svc);
    w->mock = hoist_provider_entry(HOIST_PROVIDER_ABI_VERSION);
    char cfg[1200];
    snprintf(cfg, sizeof cfg, "{\"catalog\": \"%s\", \"zones\": [\"us-east-1a\"]}",
             src_path("tests/data/launch/catalog.json"));
    hoist_error perr = {0};
    if (w->mock->init(hoist_services_host(w->svc), cfg, &w->mock_state, &perr) != HOIST_OK)
        fail_msg("mock: %s", perr.message);
    hoist_catalog_init(&w->catalog);
    assert_int_equal(w->mock->catalog(w->mock_state, on_catalog, &w->catalog, &perr), HOIST_OK);
    while (w->catalog.n == 0)
        uv_run(&w->loop, UV_RUN_ONCE);
    char kc[512];
    snprintf(kc, sizeof kc,
             "{\"apiVersion\": \"v1\", \"kind\": \"Config\", \"current-context\": \"t\", "
             "\"contexts\": [{\"name\": \"t\", \"context\": {\"cluster\": \"t\", \"user\": "
             "\"t\"}}], \"clusters\": [{\"name\": \"t\", \"cluster\": {\"server\": "
             "\"http://127.0.0.1:%d\"}}], \"users\": [{\"name\": \"t\", \"user\": {}}]}",
             w->port);
    if (hoist_kubeconfig_parse(&w->kube, "test", kc, strlen(kc), NULL, NULL, false, &err) < 0)
        fail_msg("kubeconfig: %s", err.msg);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    w->mock->destroy(w->mock_state);
    hoist_daemon_free(w->d);
    hoist_services_close(w->svc);
    if (w->api)
        api_stop(w);
    uv_close((uv_handle_t *)&w->ticker, NULL);
    uv_run(&w->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&w->loop), 0);
    hoist_catalog_free(&w->catalog);
    hoist_metrics_free(w->metrics);
    hoist_kube_config_free(&w->kube);
    free(w);
    return 0;
}

static void base_config(world *w, hoist_daemon_config *c)
{
    memset(c, 0, sizeof *c);
    c->kube = &w->kube;
    c->provider = w->mock;
    c->provider_state = w->mock_state;
    c->catalog = &w->catalog;
    c->pipeline.cluster = "test";
    c->pipeline.batch.idle_ms = 50;
    c->pipeline.batch.max_ms = 1000;
    c->pipeline.no_consolidation = true;
    c->listen_host = "127.0.0.1";
    c->backoff_base_ms = 20;
    c->backoff_cap_ms = 200;
    c->drain_ms = 5000;
    c->log = &w->log;
    c->metrics = w->metrics;
    c->seed = 7;
}

static void start_daemon(world *w, const hoist_daemon_config *c)
{
    hoist_err err = {{0}};
    w->d = hoist_daemon_new(&w->loop, c, &err);
    if (!w->d)
        fail_msg("daemon: %s", err.msg);
    if (hoist_daemon_start(w->d, &err) < 0)
        fail_msg("start: %s", err.msg);
}

static void on_stopped(void *arg)
{
    ((world *)arg)->stopped = true;
}

static bool is_ready(world *w)
{
    return hoist_daemon_ready(w->d, NULL);
}

static bool is_stopped(world *w)
{
    return w->stopped;
}

static bool launched_one(world *w)
{
    hoist_pipeline *p = hoist_daemon_pipeline(w->d);
    return p && hoist_pipeline_stats_get(p)->launches >= 1 && hoist_pipeline_in_flight(p) == 0;
}

static bool has_event(world *w)
{
    return hoist_apistore_count(w->store, res("", "events")) > 0;
}

static const char NODEPOOL[] =
    "{\"apiVersion\": \"hoist.dev/v1\", \"kind\": \"NodePool\", \"metadata\": {\"name\": "
    "\"general\"}, \"spec\": {\"template\": {\"spec\": {\"requirements\": [{\"key\": "
    "\"kubernetes.io/arch\", \"operator\": \"In\", \"values\": [\"amd64\"]}]}}}}";

static const char POD[] =
    "{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"web\", "
    "\"namespace\": \"default\"}, \"spec\": {\"containers\": [{\"name\": \"c\", \"image\": "
    "\"x\", \"resources\": {\"requests\": {\"cpu\": \"1\", \"memory\": \"1Gi\"}}}]}}";

/* ---- tests ---- */

/* Synced and ready without election; a NodePool and a pending pod created
 * in the API server: one machine launched, a Nominated Event written; the
 * metrics carry the watch counters; shutdown completes. */
static void test_pod_to_launch(void **state)
{
    world *w = *state;
    hoist_daemon_config c;
    base_config(w, &c);
    start_daemon(w, &c);
    assert_true(hoist_daemon_leading(w->d));
    assert_true(hoist_daemon_port(w->d) > 0);
    assert_true(run_until(w, is_ready, GUARD_MS));
    create(w, "hoist.dev", "nodepools", NODEPOOL);
    create(w, "", "pods", POD);
    assert_true(run_until(w, launched_one, GUARD_MS));
    const hoist_nodeclaim *const *claims;
    assert_int_equal(hoist_pipeline_claims(hoist_daemon_pipeline(w->d), &claims), 1);
    assert_string_equal(claims[0]->nodepool, "general");
    assert_non_null(strstr(claims[0]->name, "general-"));
    assert_true(run_until(w, has_event, GUARD_MS));
    hoist_daemon_update_metrics(w->d);
    double v = 0;
    hoist_kv l = {"resource", "pods"};
    assert_int_equal(hoist_metrics_get(w->metrics, "hoist_watch_events_total", &l, 1, &v), 0);
    assert_true(v >= 1);
    assert_int_equal(hoist_metrics_get(w->metrics, "hoist_leader", NULL, 0, &v), 0);
    assert_true(v == 1);
    assert_true(hoist_daemon_get_stats(w->d)->steps > 0);
    hoist_daemon_shutdown(w->d, on_stopped, w);
    assert_false(hoist_daemon_ready(w->d, NULL));
    assert_true(run_until(w, is_stopped, GUARD_MS));
    assert_null(hoist_daemon_pipeline(w->d));
}

static bool leading(world *w)
{
    return hoist_daemon_leading(w->d) && hoist_daemon_ready(w->d, NULL);
}

static const char *lease_holder(world *w)
{
    json_t *l = hoist_apistore_get(w->store, hoist_api_resource_find("coordination.k8s.io", "v1",
                                                                     "leases"),
                                   "kube-system", "hoist-test");
    return json_string_value(json_object_get(json_object_get(l, "spec"), "holderIdentity"));
}

/* With election: not ready until the Lease is ours; the Lease names us;
 * shutdown releases it (empty holder). */
static void test_lease_taken_and_released(void **state)
{
    world *w = *state;
    if (!hoist_apistore_get(w->store, res("", "namespaces"), NULL, "kube-system"))
        create(w, "", "namespaces", "{\"metadata\": {\"name\": \"kube-system\"}}");
    hoist_daemon_config c;
    base_config(w, &c);
    c.leader_election = true;
    c.lease_ns = "kube-system";
    c.lease_name = "hoist-test";
    c.identity = "test-one";
    c.retry_period_ms = 50;
    start_daemon(w, &c);
    const char *why = NULL;
    assert_false(hoist_daemon_ready(w->d, &why));
    assert_true(run_until(w, leading, GUARD_MS));
    assert_string_equal(lease_holder(w), "test-one");
    hoist_daemon_shutdown(w->d, on_stopped, w);
    assert_true(run_until(w, is_stopped, GUARD_MS));
    assert_string_equal(lease_holder(w), "");
    assert_false(hoist_daemon_leading(w->d));
}

static bool relisted(world *w)
{
    return hoist_daemon_watch_restarts(w->d) > 0;
}

/* The API server goes away and comes back empty on the same port (every
 * resourceVersion is new): the watches fail, back off, relist, and the
 * daemon decides on the new world. */
static void test_api_server_restart(void **state)
{
    world *w = *state;
    hoist_daemon_config c;
    base_config(w, &c);
    start_daemon(w, &c);
    assert_true(run_until(w, is_ready, GUARD_MS));
    int port = w->port;
    api_stop(w);
    api_start(w, port);
    assert_int_equal(w->port, port);
    create(w, "hoist.dev", "nodepools", NODEPOOL);
    create(w, "", "pods", POD);
    assert_true(run_until(w, relisted, GUARD_MS));
    assert_true(run_until(w, launched_one, GUARD_MS));
    hoist_daemon_shutdown(w->d, on_stopped, w);
    assert_true(run_until(w, is_stopped, GUARD_MS));
}

/* Bad configuration is refused with the field named. */
static void test_bad_config(void **state)
{
    world *w = *state;
    hoist_daemon_config c;
    hoist_err err = {{0}};
    base_config(w, &c);
    c.pipeline.cluster = "";
    assert_null(hoist_daemon_new(&w->loop, &c, &err));
    assert_non_null(strstr(err.msg, "cluster"));
    base_config(w, &c);
    c.leader_election = true;
    c.lease_name = "x";
    assert_null(hoist_daemon_new(&w->loop, &c, &err));
    assert_non_null(strstr(err.msg, "Lease's namespace and name"));
    base_config(w, &c);
    c.catalog = NULL;
    assert_null(hoist_daemon_new(&w->loop, &c, &err));
    assert_non_null(strstr(err.msg, "catalog"));
    base_config(w, &c);
    c.listen_host = "256.0.0.1";
    w->d = hoist_daemon_new(&w->loop, &c, &err);
    assert_non_null(w->d);
    assert_int_equal(hoist_daemon_start(w->d, &err), -1);
    assert_non_null(strstr(err.msg, "listen 256.0.0.1:0"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pod_to_launch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lease_taken_and_released, setup, teardown),
        cmocka_unit_test_setup_teardown(test_api_server_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_config, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
