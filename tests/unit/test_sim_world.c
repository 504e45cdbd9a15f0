/*
 * test_sim_world.c - the living world of `hoist sim serve`: simulated
 * kubelets and scheduler on the API store (driven with a fake store clock,
 * no loop), the simulated cloud over HTTP, and the mock provider's remote
 * mode against it.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include <hoist/provider.h>

#include "apiserver/cloud.h"
#include "apiserver/store.h"
#include "apiserver/world.h"
#include "host/host.h"
#include "host/httpd.h"
#include "model/catalog.h"

/* ---- shared: a loop, an httpd, host services, the cloud ---- */

typedef struct fx {
    uv_loop_t loop;
    hoist_httpd *httpd;
    hoist_services *services;
    const hoist_provider *mock;
    hoist_cloud *cloud;
    char endpoint[128];
    /* listener record */
    int running, terminated;
    char last_id[64], last_pid[160];
    json_t *last_labels;
    /* world part */
    double now;
    hoist_apistore *store;
    hoist_catalog catalog;
    hoist_world *world;
} fx;

static const char *srcdir(void)
{
    const char *s = getenv("HOIST_SRCDIR");
    return s ? s : ".";
}

static double fake_clock(void *arg)
{
    return *(double *)arg;
}

static void on_tick(uv_timer_t *t)
{
    int *flag = t->data;
    if (*flag)
        uv_stop(t->loop);
}

/* Run the loop until *flag is set (a ticker checks it every ms; the HTTP
 * calls' own timeouts bound the wait). */
static void run_until(fx *f, int *flag)
{
    uv_timer_t tick;
    assert_int_equal(uv_timer_init(&f->loop, &tick), 0);
    tick.data = flag;
    assert_int_equal(uv_timer_start(&tick, on_tick, 1, 1), 0);
    if (!*flag)
        uv_run(&f->loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&tick, NULL);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_true(*flag);
}

static void l_running(void *arg, const hoist_cloud_machine *m)
{
    fx *f = arg;
    f->running++;
    snprintf(f->last_id, sizeof f->last_id, "%s", m->instance_id);
    snprintf(f->last_pid, sizeof f->last_pid, "%s", m->provider_id);
    json_decref(f->last_labels);
    f->last_labels = json_deep_copy(m->labels);
}

static void l_terminated(void *arg, const char *id)
{
    fx *f = arg;
    f->terminated++;
    snprintf(f->last_id, sizeof f->last_id, "%s", id);
}

static int fx_setup_cloud(void **state, const char *extra)
{
    fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    hoist_err err = {{0}};
    f->httpd = hoist_httpd_start(&f->loop, "127.0.0.1", 0, NULL, &err);
    assert_non_null(f->httpd);
    f->services = hoist_services_new(&f->loop, NULL, NULL, "mock", &err);
    assert_non_null(f->services);
    f->mock = hoist_provider_entry(HOIST_PROVIDER_ABI_VERSION);
    assert_non_null(f->mock);
    char cfg[1024];
    snprintf(cfg, sizeof cfg,
             "{\"catalog\": \"%s/tests/data/mock/small.json\", \"zones\": [\"us-east-1a\", "
             "\"us-east-1b\"]%s}", srcdir(), extra ? extra : "");
    f->cloud = hoist_cloud_new(f->httpd, f->mock, hoist_services_host(f->services), cfg, NULL,
                               &err);
    if (!f->cloud)
        fail_msg("cloud: %s", err.msg);
    hoist_cloud_listener l = {f, l_running, l_terminated};
    hoist_cloud_set_listener(f->cloud, &l);
    snprintf(f->endpoint, sizeof f->endpoint, "http://127.0.0.1:%d" HOIST_CLOUD_PREFIX,
             hoist_httpd_port(f->httpd));
    hoist_catalog_init(&f->catalog);
    *state = f;
    return 0;
}

static int fx_setup(void **state)
{
    return fx_setup_cloud(state, NULL);
}

static int fx_setup_ice(void **state)
{
    return fx_setup_cloud(state, ", \"faults\": [{\"op\": \"ice\", \"instance_type\": "
                                 "\"c5.large\"}]");
}

static int fx_teardown(void **state)
{
    fx *f = *state;
    hoist_world_free(f->world);
    hoist_cloud_free(f->cloud);
    hoist_services_close(f->services);
    hoist_httpd_close(f->httpd);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    hoist_apistore_free(f->store);
    hoist_catalog_free(&f->catalog);
    json_decref(f->last_labels);
    free(f);
    return 0;
}

/* ---- the world (fake clock, no loop) ---- */

typedef struct cat_wait {
    fx *f;
    int done;
} cat_wait;

static void on_cat(void *arg, const hoist_error *err, const hoist_instance_type *types, size_t n)
{
    cat_wait *cw = arg;
    assert_null(err);
    hoist_err e = {{0}};
    assert_int_equal(hoist_catalog_copy(&cw->f->catalog, types, n, &e), 0);
    cw->done = 1;
}

/* A store on a fake clock and a world with register 3 s, ready 2 s. */
static void make_world_ex(fx *f, double speed, bool no_scheduler)
{
    cat_wait cw = {f, 0};
    hoist_err err = {{0}};
    assert_int_equal(hoist_cloud_catalog(f->cloud, on_cat, &cw, &err), 0);
    run_until(f, &cw.done);
    f->now = 1714560000.0;
    f->store = hoist_apistore_new(0, fake_clock, &f->now);
    assert_non_null(f->store);
    static hoist_logger lg;
    hoist_logger_init(&lg, stderr, getenv("WORLD_DEBUG") ? HOIST_LOG_DEBUG : HOIST_LOG_ERROR);
    hoist_world_config cfg = {.log = &lg, .speed = speed, .register_delay_ms = 3000, .ready_delay_ms = 2000,
                              .node_grace_ms = 30000, .schedule_interval_ms = 200,
                              .no_scheduler = no_scheduler};
    f->world = hoist_world_new(NULL, f->store, &f->catalog, &cfg, &err);
    if (!f->world)
        fail_msg("world: %s", err.msg);
}

static void make_world(fx *f, double speed)
{
    make_world_ex(f, speed, false);
}

static const hoist_api_resource *res(const char *plural)
{
    return hoist_api_resource_find("", "v1", plural);
}

static void machine_up(fx *f, const char *id, const char *type, const char *taints_json)
{
    json_t *labels = json_pack("{s:s}", "team", "blue");
    json_t *taints = json_loads(taints_json ? taints_json : "[]", 0, NULL);
    char pid[128];
    snprintf(pid, sizeof pid, "aws:///us-east-1a/%s", id);
    hoist_cloud_machine m = {id, pid, type, "us-east-1a", HOIST_CAPACITY_SPOT, "default", "c1",
                             labels, taints};
    hoist_world_machine_running(f->world, &m);
    json_decref(labels);
    json_decref(taints);
}

static const char *node_label(const json_t *node, const char *key)
{
    return json_string_value(
        json_object_get(json_object_get(json_object_get(node, "metadata"), "labels"), key));
}

static const char *ready_status(const json_t *node)
{
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(json_object_get(node, "status"), "conditions"), i, c)
        if (!strcmp(json_string_value(json_object_get(c, "type")), "Ready"))
            return json_string_value(json_object_get(c, "status"));
    return NULL;
}

static void advance(fx *f, double seconds)
{
    f->now += seconds;
    hoist_world_run_due(f->world);
}

static void create_pod(fx *f, const char *name, const char *cpu, const char *scheduler)
{
    json_t *pod = json_pack("{s:s,s:s,s:{s:s,s:s},s:{s:[{s:s,s:s,s:{s:{s:s,s:s}}}]}}",
                            "apiVersion", "v1", "kind", "Pod", "metadata", "name", name,
                            "namespace", "default", "spec", "containers", "name", "app",
                            "image", "busybox", "resources", "requests", "cpu", cpu, "memory",
                            "64Mi");
    assert_non_null(pod);
    if (scheduler)
        json_object_set_new(json_object_get(pod, "spec"), "schedulerName", json_string(scheduler));
    hoist_apierr e;
    json_t *made = hoist_apistore_create(f->store, res("pods"), "default", pod, false, &e);
    assert_non_null(made);
    json_decref(made);
    json_decref(pod);
}

static const char *pod_node(fx *f, const char *name)
{
    json_t *p = hoist_apistore_get(f->store, res("pods"), "default", name);
    return p ? json_string_value(json_object_get(json_object_get(p, "spec"), "nodeName")) : NULL;
}

/* Machine `id` comes up (registered, then Ready) and pod `pod`, created
 * meanwhile, is bound to it by the scheduler. */
static void pod_on_new_machine(fx *f, const char *id, const char *pod)
{
    machine_up(f, id, "m5.large", NULL);
    create_pod(f, pod, "100m", NULL);
    advance(f, 3.1);
    advance(f, 2.1);
    advance(f, 0.3);
    assert_string_equal(pod_node(f, pod), id);
}

static void test_machine_registers_then_ready(void **state)
{
    fx *f = *state;
    make_world(f, 1);
    machine_up(f, "i-0aaa", "m5.large",
               "[{\"key\": \"hoist.dev/unregistered\", \"effect\": \"NoExecute\"}]");
    advance(f, 2.9);
    assert_null(hoist_apistore_get(f->store, res("nodes"), NULL, "i-0aaa"));
    advance(f, 0.2);
    json_t *node = hoist_apistore_get(f->store, res("nodes"), NULL, "i-0aaa");
    assert_non_null(node);
    assert_string_equal(json_string_value(json_object_get(json_object_get(node, "spec"),
                                                          "providerID")),
                        "aws:///us-east-1a/i-0aaa");
    assert_string_equal(node_label(node, "node.kubernetes.io/instance-type"), "m5.large");
    assert_string_equal(node_label(node, "topology.kubernetes.io/zone"), "us-east-1a");
    assert_string_equal(node_label(node, "hoist.dev/capacity-type"), "spot");
    assert_string_equal(node_label(node, "hoist.dev/nodepool"), "default");
    assert_string_equal(node_label(node, "kubernetes.io/arch"), "amd64");
    assert_string_equal(node_label(node, "kubernetes.io/os"), "linux");
    assert_string_equal(node_label(node, "kubernetes.io/hostname"), "i-0aaa");
    assert_string_equal(node_label(node, "team"), "blue");
    json_t *taint = json_array_get(json_object_get(json_object_get(node, "spec"), "taints"), 0);
    assert_string_equal(json_string_value(json_object_get(taint, "key")),
                        "hoist.dev/unregistered");
    json_t *alloc = json_object_get(json_object_get(node, "status"), "allocatable");
    assert_non_null(json_object_get(alloc, "cpu"));
    assert_string_equal(ready_status(node), "False");
    advance(f, 1.9);
    assert_string_equal(ready_status(hoist_apistore_get(f->store, res("nodes"), NULL, "i-0aaa")),
                        "False");
    advance(f, 0.2);
    assert_string_equal(ready_status(hoist_apistore_get(f->store, res("nodes"), NULL, "i-0aaa")),
                        "True");
    assert_int_equal(hoist_world_stats_of(f->world).nodes_ready, 1);
    /* the same machine again is ignored */
    machine_up(f, "i-0aaa", "m5.large", NULL);
    advance(f, 10);
    assert_int_equal(hoist_world_stats_of(f->world).nodes_registered, 1);
}

static void test_scheduler_binds_fitting_pods_only(void **state)
{
    fx *f = *state;
    make_world(f, 1);
    create_pod(f, "early", "100m", NULL);
    advance(f, 1);
    assert_null(pod_node(f, "early")); /* no node yet */
    machine_up(f, "i-0bbb", "m5.large", NULL);
    advance(f, 3.1);
    assert_null(pod_node(f, "early")); /* registered, not Ready */
    create_pod(f, "huge", "64", NULL);
    create_pod(f, "other", "100m", "my-scheduler");
    advance(f, 2.1);
    advance(f, 0.3);
    assert_string_equal(pod_node(f, "early"), "i-0bbb");
    json_t *p = hoist_apistore_get(f->store, res("pods"), "default", "early");
    const json_t *st = json_object_get(p, "status");
    assert_string_equal(json_string_value(json_object_get(st, "phase")), "Running");
    int scheduled = 0, ready = 0;
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(st, "conditions"), i, c) {
        const char *t = json_string_value(json_object_get(c, "type"));
        const char *s = json_string_value(json_object_get(c, "status"));
        scheduled += !strcmp(t, "PodScheduled") && !strcmp(s, "True");
        ready += !strcmp(t, "Ready") && !strcmp(s, "True");
    }
    assert_int_equal(scheduled, 1);
    assert_int_equal(ready, 1);
    assert_null(pod_node(f, "huge"));  /* 64 CPUs fit no m5.large */
    assert_null(pod_node(f, "other")); /* not ours to schedule */
    assert_int_equal(hoist_world_stats_of(f->world).pods_bound, 1);
}

static void test_tainted_node_gets_no_pods(void **state)
{
    fx *f = *state;
    make_world(f, 1);
    machine_up(f, "i-0ccc", "m5.large",
               "[{\"key\": \"hoist.dev/unregistered\", \"effect\": \"NoExecute\"}]");
    create_pod(f, "web", "100m", NULL);
    advance(f, 3.1);
    advance(f, 2.1);
    advance(f, 1);
    assert_null(pod_node(f, "web"));
    /* the daemon removes the startup taint: now it binds */
    json_t *n = json_deep_copy(hoist_apistore_get(f->store, res("nodes"), NULL, "i-0ccc"));
    json_object_set_new(json_object_get(n, "spec"), "taints", json_array());
    hoist_apierr e;
    json_t *u = hoist_apistore_update(f->store, res("nodes"), NULL, "i-0ccc", n, HOIST_API_ALL, &e);
    assert_non_null(u);
    json_decref(u);
    json_decref(n);
    advance(f, 0.3);
    assert_string_equal(pod_node(f, "web"), "i-0ccc");
}

static void test_no_scheduler_leaves_pods_pending(void **state)
{
    fx *f = *state;
    make_world_ex(f, 1, true);
    machine_up(f, "i-0ggg", "m5.large", NULL);
    create_pod(f, "idle", "100m", NULL);
    advance(f, 3.1);
    advance(f, 2.1);
    advance(f, 1);
    assert_string_equal(ready_status(hoist_apistore_get(f->store, res("nodes"), NULL, "i-0ggg")),
                        "True");
    assert_null(pod_node(f, "idle"));
    assert_int_equal(hoist_world_stats_of(f->world).scheduler_passes, 0);
}

static void test_terminate_not_ready_pods_gone(void **state)
{
    fx *f = *state;
    make_world(f, 1);
    machine_up(f, "i-0ddd", "m5.large", NULL);
    create_pod(f, "a", "100m", NULL);
    create_pod(f, "b", "100m", NULL);
    advance(f, 3.1);
    advance(f, 2.1);
    advance(f, 0.3);
    assert_string_equal(pod_node(f, "a"), "i-0ddd");
    assert_string_equal(pod_node(f, "b"), "i-0ddd");
    hoist_world_machine_terminated(f->world, "i-0ddd");
    json_t *node = hoist_apistore_get(f->store, res("nodes"), NULL, "i-0ddd");
    assert_non_null(node);
    assert_string_equal(ready_status(node), "False");
    assert_null(hoist_apistore_get(f->store, res("pods"), "default", "a"));
    assert_null(hoist_apistore_get(f->store, res("pods"), "default", "b"));
    advance(f, 29);
    assert_non_null(hoist_apistore_get(f->store, res("nodes"), NULL, "i-0ddd"));
    advance(f, 1.1);
    assert_null(hoist_apistore_get(f->store, res("nodes"), NULL, "i-0ddd"));
    assert_int_equal(hoist_world_stats_of(f->world).nodes_deleted, 1);
}

static void test_node_deleted_pods_collected(void **state)
{
    fx *f = *state;
    make_world(f, 1);
    pod_on_new_machine(f, "i-0eee", "a");
    hoist_apierr e;
    json_t *gone = hoist_apistore_delete(f->store, res("nodes"), NULL, "i-0eee", NULL,
                                         HOIST_APISTORE_GRACE_DEFAULT, &e);
    assert_non_null(gone);
    json_decref(gone);
    advance(f, 0);
    assert_null(hoist_apistore_get(f->store, res("pods"), "default", "a"));
}

/* An evicted pod terminates: its kubelet deletes it once its containers
 * stopped (the shutdown delay, 1 s at speed 1); a terminating pod on a
 * Node that does not exist goes at once. */
static void test_evicted_pod_terminates_then_goes(void **state)
{
    fx *f = *state;
    make_world(f, 1);
    pod_on_new_machine(f, "i-0fff", "a");
    hoist_apierr e;
    assert_int_equal(hoist_apistore_evict(f->store, "default", "a", &e), 0);
    json_t *p = hoist_apistore_get(f->store, res("pods"), "default", "a");
    assert_non_null(p);
    assert_non_null(json_object_get(json_object_get(p, "metadata"), "deletionTimestamp"));
    advance(f, 0.9);
    assert_non_null(hoist_apistore_get(f->store, res("pods"), "default", "a"));
    advance(f, 0.2);
    assert_null(hoist_apistore_get(f->store, res("pods"), "default", "a"));

    /* bound to a Node nobody has: the pod GC's part, at once */
    create_pod(f, "b", "100m", "other-scheduler");
    json_decref(hoist_apistore_bind(f->store, "default", "b", "ghost", &e));
    json_decref(hoist_apistore_delete(f->store, res("pods"), "default", "b", NULL,
                                      HOIST_APISTORE_GRACE_DEFAULT, &e));
    assert_non_null(hoist_apistore_get(f->store, res("pods"), "default", "b"));
    advance(f, 0);
    assert_null(hoist_apistore_get(f->store, res("pods"), "default", "b"));
}

static void test_speed_divides_delays(void **state)
{
    (void)state;
    hoist_world_delays d;
    hoist_err err = {{0}};
    hoist_world_config cfg = {0};
    assert_int_equal(hoist_world_compute_delays(&cfg, &d, &err), 0);
    assert_int_equal(d.register_ms, HOIST_WORLD_REGISTER_DELAY_MS);
    assert_int_equal(d.ready_ms, HOIST_WORLD_READY_DELAY_MS);
    cfg.speed = 10;
    cfg.register_delay_ms = 4000;
    assert_int_equal(hoist_world_compute_delays(&cfg, &d, &err), 0);
    assert_int_equal(d.register_ms, 400);
    assert_int_equal(d.ready_ms, HOIST_WORLD_READY_DELAY_MS / 10);
    assert_int_equal(d.pod_shutdown_ms, HOIST_WORLD_POD_SHUTDOWN_MS / 10);
    assert_int_equal(d.node_grace_ms, HOIST_WORLD_NODE_GRACE_MS / 10);
    assert_int_equal(d.schedule_interval_ms, HOIST_WORLD_SCHEDULE_INTERVAL_MS / 10);
    cfg.speed = 0.5;
    assert_int_equal(hoist_world_compute_delays(&cfg, &d, &err), 0);
    assert_int_equal(d.register_ms, 8000);
    cfg.speed = -1;
    assert_int_equal(hoist_world_compute_delays(&cfg, &d, &err), -1);
    assert_non_null(strstr(err.msg, "speed"));
    cfg.speed = 1.0 / 0.0;
    assert_int_equal(hoist_world_compute_delays(&cfg, &d, &err), -1);
}

static void test_world_at_speed_registers_sooner(void **state)
{
    fx *f = *state;
    make_world(f, 10); /* register 300 ms, ready 200 ms */
    assert_int_equal(hoist_world_delays_of(f->world).register_ms, 300);
    machine_up(f, "i-0fff", "m5.large", NULL);
    advance(f, 0.31);
    assert_non_null(hoist_apistore_get(f->store, res("nodes"), NULL, "i-0fff"));
    advance(f, 0.21);
    assert_string_equal(ready_status(hoist_apistore_get(f->store, res("nodes"), NULL, "i-0fff")),
                        "True");
}

/* ---- the mock in remote mode against the cloud ---- */

typedef struct outcome {
    int done;
    hoist_status code;
    char msg[256];
    char id[64], pid[160], type[64], cluster[64];
    size_t n, n_exhausted;
} outcome;

static void on_launch(void *arg, const hoist_error *err, const hoist_machine *m,
                      const hoist_launch_offering *ex, size_t n_ex)
{
    outcome *o = arg;
    o->done = 1;
    o->code = err ? err->code : HOIST_OK;
    o->n_exhausted = n_ex;
    if (ex && n_ex)
        snprintf(o->type, sizeof o->type, "%s", ex[0].instance_type);
    if (err)
        snprintf(o->msg, sizeof o->msg, "%s", err->message);
    if (m) {
        snprintf(o->id, sizeof o->id, "%s", m->instance_id);
        snprintf(o->pid, sizeof o->pid, "%s", m->provider_id);
        snprintf(o->type, sizeof o->type, "%s", m->instance_type);
        for (size_t i = 0; i < m->n_tags; i++)
            if (!strcmp(m->tags[i].key, HOIST_TAG_CLUSTER))
                snprintf(o->cluster, sizeof o->cluster, "%s", m->tags[i].value);
    }
}

static void on_list(void *arg, const hoist_error *err, const hoist_machine *ms, size_t n)
{
    outcome *o = arg;
    o->done = 1;
    o->code = err ? err->code : HOIST_OK;
    o->n = n;
    if (err)
        snprintf(o->msg, sizeof o->msg, "%s", err->message);
    if (n)
        snprintf(o->id, sizeof o->id, "%s", ms[0].instance_id);
}

static void on_done(void *arg, const hoist_error *err)
{
    outcome *o = arg;
    o->done = 1;
    o->code = err ? err->code : HOIST_OK;
    if (err)
        snprintf(o->msg, sizeof o->msg, "%s", err->message);
}

static void on_catalog(void *arg, const hoist_error *err, const hoist_instance_type *t, size_t n)
{
    outcome *o = arg;
    o->done = 1;
    o->code = err ? err->code : HOIST_OK;
    o->n = n;
    if (err)
        snprintf(o->msg, sizeof o->msg, "%s", err->message);
    for (size_t i = 0; i < n; i++)
        if (!strcmp(HOIST_NTH(t, i)->name, "inf2.xlarge") && HOIST_NTH(t, i)->n_extended == 1)
            snprintf(o->type, sizeof o->type, "%s", HOIST_NTH(t, i)->extended[0].name);
}

static void *remote(fx *f, const char *endpoint)
{
    char cfg[512];
    snprintf(cfg, sizeof cfg, "{\"endpoint\": \"%s\", \"catalog\": \"ignored.json\"}", endpoint);
    void *st = NULL;
    hoist_error e;
    if (f->mock->init(hoist_services_host(f->services), cfg, &st, &e) != HOIST_OK)
        fail_msg("remote init: %s", e.message);
    return st;
}

static void launch(fx *f, void *st, const char *claim, const char *type, outcome *o)
{
    hoist_launch_offering off = {sizeof off, type, "us-east-1a", HOIST_CAPACITY_ON_DEMAND, 0.1};
    hoist_kv tags[] = {{"team", "blue"}};
    hoist_kv labels[] = {{"app", "web"}};
    hoist_taint taints[] = {{"hoist.dev/unregistered", "", HOIST_TAINT_NO_EXECUTE}};
    hoist_launch_request req = {sizeof req, claim, "sim", "default", &off, 1,
                                HOIST_ALLOC_PRICE_CAPACITY_OPTIMIZED, HOIST_ALLOC_LOWEST_PRICE,
                                tags, 1, labels, 1, taints, 1, NULL};
    memset(o, 0, sizeof *o);
    hoist_error e;
    assert_int_equal(f->mock->launch(st, &req, on_launch, o, &e), HOIST_OK);
    run_until(f, &o->done);
}

static void test_remote_round_trip(void **state)
{
    fx *f = *state;
    void *st = remote(f, f->endpoint);
    outcome o;
    launch(f, st, "claim-1", "m5.large", &o);
    assert_int_equal(o.code, HOIST_OK);
    assert_string_equal(o.type, "m5.large");
    assert_string_equal(o.cluster, "sim");
    char want[160];
    snprintf(want, sizeof want, "aws:///us-east-1a/%s", o.id);
    assert_string_equal(o.pid, want);
    /* the listener heard it, with the launch's labels */
    assert_int_equal(f->running, 1);
    assert_string_equal(f->last_pid, want);
    assert_string_equal(json_string_value(json_object_get(f->last_labels, "app")), "web");
    char id[64];
    snprintf(id, sizeof id, "%s", o.id);
    /* idempotent by claim */
    launch(f, st, "claim-1", "m5.large", &o);
    assert_string_equal(o.id, id);
    assert_int_equal(hoist_cloud_launches(f->cloud), 1);
    assert_int_equal(f->running, 1);
    /* list by tags */
    hoist_kv filter[] = {{HOIST_TAG_CLUSTER, "sim"}, {HOIST_TAG_NODEPOOL, "default"}};
    hoist_error e;
    memset(&o, 0, sizeof o);
    assert_int_equal(f->mock->list(st, filter, 2, on_list, &o, &e), HOIST_OK);
    run_until(f, &o.done);
    assert_int_equal(o.code, HOIST_OK);
    assert_int_equal(o.n, 1);
    assert_string_equal(o.id, id);
    hoist_kv other[] = {{HOIST_TAG_CLUSTER, "elsewhere"}};
    memset(&o, 0, sizeof o);
    assert_int_equal(f->mock->list(st, other, 1, on_list, &o, &e), HOIST_OK);
    run_until(f, &o.done);
    assert_int_equal(o.n, 0);
    /* terminate */
    memset(&o, 0, sizeof o);
    assert_int_equal(f->mock->terminate(st, id, on_done, &o, &e), HOIST_OK);
    run_until(f, &o.done);
    assert_int_equal(o.code, HOIST_OK);
    assert_int_equal(f->terminated, 1);
    assert_int_equal(hoist_cloud_machines_alive(f->cloud), 0);
    memset(&o, 0, sizeof o);
    assert_int_equal(f->mock->list(st, filter, 2, on_list, &o, &e), HOIST_OK);
    run_until(f, &o.done);
    assert_int_equal(o.n, 0);
    /* an id never issued */
    memset(&o, 0, sizeof o);
    assert_int_equal(f->mock->terminate(st, "i-0nope", on_done, &o, &e), HOIST_OK);
    run_until(f, &o.done);
    assert_int_equal(o.code, HOIST_E_NOT_FOUND);
    /* remote catalog: the cloud's types, extended resources kept */
    memset(&o, 0, sizeof o);
    assert_int_equal(f->mock->catalog(st, on_catalog, &o, &e), HOIST_OK);
    run_until(f, &o.done);
    assert_int_equal(o.code, HOIST_OK);
    assert_int_equal(o.n, 6); /* small.json: hpc6a has no price and no offerings */
    assert_string_equal(o.type, "aws.amazon.com/neuron");
    /* control is the cloud's */
    assert_int_equal(f->mock->control(st, "{\"op\": \"reset\"}", &e), HOIST_E_UNSUPPORTED);
    f->mock->destroy(st);
}

static void test_remote_insufficient_capacity(void **state)
{
    fx *f = *state;
    void *st = remote(f, f->endpoint);
    outcome o;
    launch(f, st, "claim-ice", "c5.large", &o);
    assert_int_equal(o.code, HOIST_E_INSUFFICIENT_CAPACITY);
    assert_int_equal(o.n_exhausted, 1);
    assert_string_equal(o.type, "c5.large");
    assert_int_equal(f->running, 0);
    /* an offering the catalog lacks: invalid */
    launch(f, st, "claim-bad", "zz.huge", &o);
    assert_int_equal(o.code, HOIST_E_INVALID);
    assert_non_null(strstr(o.msg, "zz.huge"));
    f->mock->destroy(st);
}

/* A broken cloud: answers from a fixed text per path. */
typedef struct broken {
    const char *body;
    int status;
} broken;

static void broken_handler(void *arg, hoist_httpd_req *req)
{
    const broken *b = arg;
    hoist_httpd_respond(req, b->status, "application/json", b->body, strlen(b->body));
}

static void test_remote_malformed_answers(void **state)
{
    fx *f = *state;
    static const broken cases[] = {
        {"not json at all", 200},
        {"[1, 2]", 200},
        {"{\"machine\": {\"instance_id\": 5}}", 200},
        {"{\"items\": [{\"instance_id\": \"i-1\"}]}", 200},
        {"{\"items\": 3}", 200},
        {"<html>bad gateway</html>", 502},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char prefix[64], ep[160];
        snprintf(prefix, sizeof prefix, "/broken%zu/", i);
        hoist_err err = {{0}};
        assert_int_equal(hoist_httpd_handle(f->httpd, NULL, prefix, broken_handler,
                                            (void *)&cases[i], &err), 0);
        snprintf(ep, sizeof ep, "http://127.0.0.1:%d/broken%zu", hoist_httpd_port(f->httpd), i);
        void *st = remote(f, ep);
        outcome o;
        launch(f, st, "c", "m5.large", &o);
        assert_int_not_equal(o.code, HOIST_OK);
        hoist_error e;
        memset(&o, 0, sizeof o);
        assert_int_equal(f->mock->list(st, NULL, 0, on_list, &o, &e), HOIST_OK);
        run_until(f, &o.done);
        assert_int_not_equal(o.code, HOIST_OK);
        memset(&o, 0, sizeof o);
        assert_int_equal(f->mock->catalog(st, on_catalog, &o, &e), HOIST_OK);
        run_until(f, &o.done);
        assert_int_not_equal(o.code, HOIST_OK);
        if (i == 2) {
            launch(f, st, "c", "m5.large", &o);
            assert_non_null(strstr(o.msg, "machine.instance_id"));
        }
        if (i == 3) {
            memset(&o, 0, sizeof o);
            assert_int_equal(f->mock->list(st, NULL, 0, on_list, &o, &e), HOIST_OK);
            run_until(f, &o.done);
            assert_non_null(strstr(o.msg, "machine.provider_id"));
            assert_int_equal(o.code, HOIST_E_UNAVAILABLE);
        }
        f->mock->destroy(st);
        hoist_httpd_unhandle(f->httpd, (void *)&cases[i]);
    }
}

static void test_remote_unreachable_and_config(void **state)
{
    fx *f = *state;
    /* nothing listens on port 1 */
    void *st = remote(f, "http://127.0.0.1:1/hoist-sim/cloud/v1");
    outcome o;
    launch(f, st, "c", "m5.large", &o);
    assert_int_equal(o.code, HOIST_E_UNAVAILABLE);
    /* destroy with a call in flight: its callback never runs */
    hoist_launch_offering off = {sizeof off, "m5.large", "us-east-1a", HOIST_CAPACITY_ON_DEMAND, 0};
    hoist_launch_request req = {sizeof req, "c2", "sim", "default", &off, 1,
                                HOIST_ALLOC_PRICE_CAPACITY_OPTIMIZED, HOIST_ALLOC_LOWEST_PRICE,
                                NULL, 0, NULL, 0, NULL, 0, NULL};
    memset(&o, 0, sizeof o);
    hoist_error e;
    assert_int_equal(f->mock->launch(st, &req, on_launch, &o, &e), HOIST_OK);
    f->mock->destroy(st);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_int_equal(o.done, 0);

    static const struct {
        const char *cfg, *field;
    } bad[] = {
        {"{\"endpoint\": 5}", "endpoint"},
        {"{\"endpoint\": \"ftp://x\"}", "endpoint"},
        {"{\"endpoint\": \"http://x\", \"faults\": []}", "faults"},
        {"{\"endpoint\": \"http://x\", \"timeout_ms\": \"soon\"}", "timeout_ms"},
        {"{\"endpoint\": \"http://x\", \"bogus\": 1}", "bogus"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        void *s2 = NULL;
        assert_int_equal(f->mock->init(hoist_services_host(f->services), bad[i].cfg, &s2, &e),
                         HOIST_E_INVALID);
        assert_non_null(strstr(e.message, bad[i].field));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_machine_registers_then_ready, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_scheduler_binds_fitting_pods_only, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_tainted_node_gets_no_pods, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_no_scheduler_leaves_pods_pending, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_terminate_not_ready_pods_gone, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_node_deleted_pods_collected, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_evicted_pod_terminates_then_goes, fx_setup,
                                        fx_teardown),
        cmocka_unit_test(test_speed_divides_delays),
        cmocka_unit_test_setup_teardown(test_world_at_speed_registers_sooner, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_remote_round_trip, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_remote_insufficient_capacity, fx_setup_ice,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_remote_malformed_answers, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_remote_unreachable_and_config, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
