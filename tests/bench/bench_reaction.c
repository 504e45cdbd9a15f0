/*
 * bench_reaction.c - reaction time of `hoist run` (issue 7, part 7): over
 * 100 pods, the time from a pod's creation in the API server to the
 * provider's launch call for a machine it is packed on, with the default
 * 1 s batch idle window.
 *
 * Everything runs in one process on one loop, over real loopback HTTP: the
 * simulated API server (apiserver/), the daemon (daemon/) with its
 * reflectors watching it, and the mock provider linked in, wrapped so each
 * launch call is timestamped and mapped to the pods of its claim. Pods are
 * created in waves of 10, the next wave once the previous one's machines
 * were asked for, so each wave measures a fresh batch window; each pod
 * refuses to share a node with another (required pod anti-affinity), so
 * every pod gets a launch of its own and none rides on an earlier machine.
 *
 * Target: p99 within the batch window plus 50 ms (1,050 ms). Built by
 * `make check`, never run by it (timing is not asserted anywhere):
 *     tests/bench/bench_reaction [catalog.json]
 */
#include <inttypes.h>
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
#include "model/catalog.h"

#define N_PODS 100
#define WAVE 10
#define GUARD_MS 60000u

typedef struct bench {
    uv_loop_t loop;
    uv_timer_t ticker;
    hoist_apistore *store;
    hoist_httpd *httpd;
    hoist_apiserver *api;
    hoist_services *svc;
    const hoist_provider *mock;
    void *mock_state;
    hoist_provider timed;        /* the mock with launch timestamped */
    hoist_catalog catalog;
    hoist_kube_config kube;
    hoist_daemon *d;
    uint64_t created_ms[N_PODS];
    uint64_t launch_ms[N_PODS];  /* 0 until a launch call carried the pod */
    size_t n_launched;
    bool stopped;
} bench;

static uint64_t now(void)
{
    return hoist_kube_real_clock_ms(NULL);
}

static hoist_status timed_launch(void *state, const hoist_launch_request *req, hoist_launch_cb cb,
                                 void *arg, hoist_error *err)
{
    bench *b = state;
    uint64_t t = now();
    hoist_pipeline *p = hoist_daemon_pipeline(b->d);
    const hoist_nodeclaim *c = p ? hoist_pipeline_find_claim(p, req->claim) : NULL;
    for (size_t i = 0; c && i < c->n_pods; i++) {
        unsigned k;
        if (sscanf(c->pods[i], "default/pod-%u", &k) == 1 && k < N_PODS && !b->launch_ms[k]) {
            b->launch_ms[k] = t;
            b->n_launched++;
        }
    }
    return b->mock->launch(b->mock_state, req, cb, arg, err);
}

static hoist_status timed_terminate(void *state, const char *id, hoist_done_cb cb, void *arg,
                                    hoist_error *err)
{
    bench *b = state;
    return b->mock->terminate(b->mock_state, id, cb, arg, err);
}

static hoist_status timed_list(void *state, const hoist_kv *f, size_t n, hoist_list_cb cb,
                               void *arg, hoist_error *err)
{
    bench *b = state;
    return b->mock->list(b->mock_state, f, n, cb, arg, err);
}

static hoist_status timed_catalog(void *state, hoist_catalog_cb cb, void *arg, hoist_error *err)
{
    bench *b = state;
    return b->mock->catalog(b->mock_state, cb, arg, err);
}

static void on_tick(uv_timer_t *t)
{
    (void)t;
}

static void on_catalog(void *arg, const hoist_error *err, const hoist_instance_type *types,
                       size_t n)
{
    hoist_err e = {{0}};
    if (err || hoist_catalog_copy(arg, types, n, &e) < 0) {
        fprintf(stderr, "bench_reaction: catalog: %s\n", err ? err->message : e.msg);
        exit(1);
    }
}

static void on_stopped(void *arg)
{
    ((bench *)arg)->stopped = true;
}

static void create(bench *b, const char *group, const char *plural, const char *text)
{
    json_t *obj = json_loads(text, 0, NULL);
    hoist_apierr e;
    json_t *made = obj ? hoist_apistore_create(b->store, hoist_api_resource_find(group, "v1",
                                                                                 plural),
                                               NULL, obj, false, &e)
                       : NULL;
    if (!made) {
        fprintf(stderr, "bench_reaction: create %s failed\n", plural);
        exit(1);
    }
    json_decref(made);
    json_decref(obj);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Run the loop until cond holds or the guard passes; 0 or -1. */
static int run_while(bench *b, bool (*pending)(bench *))
{
    uint64_t end = now() + GUARD_MS;
    while (pending(b)) {
        if (now() > end)
            return -1;
        uv_run(&b->loop, UV_RUN_ONCE);
    }
    return 0;
}

static size_t wave_target;
static bool wave_pending(bench *b)
{
    return b->n_launched < wave_target;
}

static bool not_ready(bench *b)
{
    return !hoist_daemon_ready(b->d, NULL);
}

static bool not_stopped(bench *b)
{
    return !b->stopped;
}

int main(int argc, char **argv)
{
    char catalog_path[1024];
    snprintf(catalog_path, sizeof catalog_path, "%s",
             argc > 1 ? argv[1] : HOIST_BENCH_SRCDIR "/tests/data/launch/catalog.json");
    static bench b;
    hoist_err err = {{0}};
    uv_loop_init(&b.loop);
    uv_timer_init(&b.loop, &b.ticker);
    uv_timer_start(&b.ticker, on_tick, 5, 5);
    b.store = hoist_apistore_new(0, NULL, NULL);
    b.httpd = hoist_httpd_start(&b.loop, "127.0.0.1", 0, NULL, &err);
    if (!b.store || !b.httpd) {
        fprintf(stderr, "bench_reaction: %s\n", err.msg);
        return 1;
    }
    b.api = hoist_apiserver_new(&b.loop, b.httpd, b.store, NULL, &err);
    if (!hoist_apistore_get(b.store, hoist_api_resource_find("", "v1", "namespaces"), NULL,
                            "default"))
        create(&b, "", "namespaces", "{\"metadata\": {\"name\": \"default\"}}");
    b.svc = hoist_services_new(&b.loop, NULL, NULL, "mock", &err);
    b.mock = hoist_provider_entry(HOIST_PROVIDER_ABI_VERSION);
    char cfg[1200];
    snprintf(cfg, sizeof cfg, "{\"catalog\": \"%s\"}", catalog_path);
    hoist_error perr = {0};
    if (!b.api || !b.svc ||
        b.mock->init(hoist_services_host(b.svc), cfg, &b.mock_state, &perr) != HOIST_OK) {
        fprintf(stderr, "bench_reaction: %s%s\n", err.msg, perr.message);
        return 1;
    }
    hoist_catalog_init(&b.catalog);
    b.mock->catalog(b.mock_state, on_catalog, &b.catalog, &perr);
    while (b.catalog.n == 0)
        uv_run(&b.loop, UV_RUN_ONCE);
    b.timed = *b.mock;
    b.timed.launch = timed_launch;
    b.timed.terminate = timed_terminate;
    b.timed.list = timed_list;
    b.timed.catalog = timed_catalog;
    b.timed.watch_events = NULL;
    b.timed.capabilities &= ~(uint64_t)HOIST_CAP_EVENTS;
    char kc[512];
    snprintf(kc, sizeof kc,
             "{\"current-context\": \"b\", \"contexts\": [{\"name\": \"b\", \"context\": "
             "{\"cluster\": \"b\", \"user\": \"b\"}}], \"clusters\": [{\"name\": \"b\", "
             "\"cluster\": {\"server\": \"http://127.0.0.1:%d\"}}], \"users\": [{\"name\": "
             "\"b\", \"user\": {}}]}",
             hoist_httpd_port(b.httpd));
    if (hoist_kubeconfig_parse(&b.kube, "bench", kc, strlen(kc), NULL, NULL, false, &err) < 0) {
        fprintf(stderr, "bench_reaction: %s\n", err.msg);
        return 1;
    }
    hoist_daemon_config dc;
    memset(&dc, 0, sizeof dc);
    dc.kube = &b.kube;
    dc.provider = &b.timed;
    dc.provider_state = &b;
    dc.catalog = &b.catalog;
    dc.pipeline.cluster = "bench";
    dc.pipeline.no_consolidation = true; /* batch: the default 1 s idle window */
    dc.seed = 1;
    b.d = hoist_daemon_new(&b.loop, &dc, &err);
    if (!b.d || hoist_daemon_start(b.d, &err) < 0 || run_while(&b, not_ready) < 0) {
        fprintf(stderr, "bench_reaction: daemon: %s\n", err.msg[0] ? err.msg : "never ready");
        return 1;
    }
    create(&b, "hoist.dev", "nodepools",
           "{\"apiVersion\": \"hoist.dev/v1\", \"kind\": \"NodePool\", \"metadata\": "
           "{\"name\": \"general\"}, \"spec\": {\"template\": {\"spec\": {}}}}");
    for (size_t w = 0; w < N_PODS / WAVE; w++) {
        for (size_t i = w * WAVE; i < (w + 1) * WAVE; i++) {
            char pod[512];
            snprintf(pod, sizeof pod,
                     "{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": "
                     "\"pod-%zu\", \"namespace\": \"default\", \"labels\": {\"app\": \"bench\"}}, "
                     "\"spec\": {\"affinity\": {\"podAntiAffinity\": "
                     "{\"requiredDuringSchedulingIgnoredDuringExecution\": [{\"labelSelector\": "
                     "{\"matchLabels\": {\"app\": \"bench\"}}, \"topologyKey\": "
                     "\"kubernetes.io/hostname\"}]}}, \"containers\": "
                     "[{\"name\": \"c\", \"image\": \"x\", \"resources\": {\"requests\": "
                     "{\"cpu\": \"500m\", \"memory\": \"512Mi\"}}}]}}",
                     i);
            b.created_ms[i] = now();
            create(&b, "", "pods", pod);
        }
        wave_target = (w + 1) * WAVE;
        if (run_while(&b, wave_pending) < 0) {
            fprintf(stderr, "bench_reaction: wave %zu: only %zu of %zu pods launched for\n", w,
                    b.n_launched, wave_target);
            return 1;
        }
    }
    uint64_t lat[N_PODS];
    for (size_t i = 0; i < N_PODS; i++)
        lat[i] = b.launch_ms[i] - b.created_ms[i];
    qsort(lat, N_PODS, sizeof lat[0], cmp_u64);
    const hoist_pipeline_stats *ps = hoist_pipeline_stats_get(hoist_daemon_pipeline(b.d));
    printf("bench_reaction: %d pods in %d waves, batch idle window 1000 ms, %" PRIu64
           " launches, %" PRIu64 " decisions\n",
           N_PODS, N_PODS / WAVE, ps->launches, ps->decisions);
    printf("pod created -> provider launch call: min %" PRIu64 " ms, p50 %" PRIu64
           " ms, p99 %" PRIu64 " ms, max %" PRIu64 " ms\n",
           lat[0], lat[N_PODS / 2], lat[N_PODS * 99 / 100], lat[N_PODS - 1]);
    printf("target: p99 <= 1050 ms (window + 50 ms): %s\n",
           lat[N_PODS * 99 / 100] <= 1050 ? "met" : "NOT met");
    hoist_daemon_shutdown(b.d, on_stopped, &b);
    run_while(&b, not_stopped);
    b.mock->destroy(b.mock_state);
    hoist_daemon_free(b.d);
    hoist_services_close(b.svc);
    hoist_apiserver_close(b.api);
    hoist_httpd_close(b.httpd);
    uv_close((uv_handle_t *)&b.ticker, NULL);
    uv_run(&b.loop, UV_RUN_DEFAULT);
    uv_loop_close(&b.loop);
    hoist_apistore_free(b.store);
    hoist_catalog_free(&b.catalog);
    hoist_kube_config_free(&b.kube);
    return 0;
}
