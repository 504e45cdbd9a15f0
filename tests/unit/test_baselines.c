/*
 * test_baselines.c - the Cluster Autoscaler and Clusterman baselines
 * (sim/autoscaler.h) on the virtual-time fake host with the mock provider
 * linked in and tests/data/baselines/catalog.json: a.large (2 vCPU, 8 GiB,
 * $0.05/h) and c.xlarge (4 vCPU, 8 GiB, $0.17/h), on-demand in us-east-1a.
 *
 * There is no simulated world here, so the test plays it: it records every
 * launch (wrapping the mock's launch), registers a Node with the machine's
 * providerID and the request's labels when told, marks it Ready, binds pods
 * with update events and deletes evicted pods.
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

#include "fake_host.h"
#include "model/catalog.h"
#include "sim/autoscaler.h"

#define T0 1700000000000ull
#define MAXM 16
#define MAXREC 64

/* ---- the recording provider ---- */

typedef struct machine_rec {
    char claim[64], type[32], provider_id[160], instance_id[64];
    json_t *labels;          /* the request's labels */
    bool launched;
} machine_rec;

typedef struct world world;

typedef struct launch_wrap {
    world *w;
    size_t idx;
    hoist_launch_cb cb;
    void *arg;
} launch_wrap;

struct world {
    fake_host *fh;
    const hoist_provider *mock;
    void *mock_state;
    hoist_provider prov;     /* the mock's descriptor, launch and terminate wrapped */
    hoist_catalog catalog;
    size_t n_machines;
    machine_rec machines[MAXM];
    size_t n_terminate_calls;
    /* sink */
    size_t n_evict, n_delete, n_taint;
    char evicted[MAXREC][128], deleted[MAXREC][128], tainted[MAXREC][160];
    int evict_answer;
    hoist_sink sink;
    hoist_autoscaler as;
};

static void on_wrapped_launch(void *arg, const hoist_error *err, const hoist_machine *m,
                              const hoist_launch_offering *ex, size_t n_ex)
{
    launch_wrap *lw = arg;
    machine_rec *r = &lw->w->machines[lw->idx];
    if (!err && m) {
        snprintf(r->provider_id, sizeof r->provider_id, "%s", m->provider_id);
        snprintf(r->instance_id, sizeof r->instance_id, "%s", m->instance_id);
        snprintf(r->type, sizeof r->type, "%s", m->instance_type);
        r->launched = true;
    }
    lw->cb(lw->arg, err, m, ex, n_ex);
    free(lw);
}

static hoist_status rec_launch(void *state, const hoist_launch_request *req, hoist_launch_cb cb,
                               void *arg, hoist_error *err)
{
    world *w = state;
    assert_true(w->n_machines < MAXM);
    machine_rec *r = &w->machines[w->n_machines];
    memset(r, 0, sizeof *r);
    snprintf(r->claim, sizeof r->claim, "%s", req->claim);
    assert_int_equal(req->n_offerings, 1);
    snprintf(r->type, sizeof r->type, "%s", req->offerings[0].instance_type);
    r->labels = json_object();
    for (size_t i = 0; i < req->n_labels; i++)
        json_object_set_new(r->labels, req->labels[i].key, json_string(req->labels[i].value));
    bool cluster_tag = false;
    for (size_t i = 0; i < req->n_tags; i++)
        cluster_tag |= strcmp(req->tags[i].key, HOIST_TAG_CLUSTER) == 0 &&
                       strcmp(req->tags[i].value, "test") == 0;
    assert_true(cluster_tag);
    launch_wrap *lw = malloc(sizeof *lw);
    assert_non_null(lw);
    *lw = (launch_wrap){w, w->n_machines, cb, arg};
    hoist_status s = w->mock->launch(w->mock_state, req, on_wrapped_launch, lw, err);
    if (s != HOIST_OK) {
        free(lw);
        json_decref(r->labels);
        return s;
    }
    w->n_machines++;
    return s;
}

static hoist_status rec_terminate(void *state, const char *id, hoist_done_cb cb, void *arg,
                                  hoist_error *err)
{
    world *w = state;
    w->n_terminate_calls++;
    return w->mock->terminate(w->mock_state, id, cb, arg, err);
}

/* ---- events ---- */

static void deliver(world *w, hoist_object_op op, json_t *obj)
{
    hoist_object_event ev = {.op = op, .object = obj};
    w->as.observe(w->as.ctx, &ev);
    json_decref(obj);
}

static void event_text(world *w, hoist_object_op op, const char *text)
{
    json_error_t je;
    json_t *obj = json_loads(text, 0, &je);
    if (!obj)
        fail_msg("bad test JSON: %s: %s", je.text, text);
    deliver(w, op, obj);
}

static const char NODEPOOL[] =
    "{\"apiVersion\": \"hoist.dev/v1\", \"kind\": \"NodePool\", \"metadata\": {\"name\": "
    "\"general\"}, \"spec\": {\"template\": {\"spec\": {\"requirements\": []}}}}";

/* A pod of `cpu` and 256Mi; owned by a ReplicaSet unless bare; bound to node when given. */
static void pod(world *w, hoist_object_op op, const char *name, const char *cpu, const char *node,
                bool bare)
{
    json_t *p = json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:[{s:s, s:{s:{s:s, s:s}}}]}}",
                          "apiVersion", "v1", "kind", "Pod", "metadata", "name", name,
                          "namespace", "default", "spec", "containers", "name", "c",
                          "resources", "requests", "cpu", cpu, "memory", "256Mi");
    assert_non_null(p);
    if (!bare)
        json_object_set_new(json_object_get(p, "metadata"), "ownerReferences",
                            json_pack("[{s:s, s:s, s:s, s:b}]", "apiVersion", "apps/v1", "kind",
                                      "ReplicaSet", "name", "web", "controller", 1));
    if (node) {
        json_object_set_new(json_object_get(p, "spec"), "nodeName", json_string(node));
        json_object_set_new(p, "status", json_pack("{s:s}", "phase", "Running"));
    }
    deliver(w, op, p);
}

static void delete_pod(world *w, const char *name)
{
    deliver(w, HOIST_OBJECT_DELETE,
            json_pack("{s:s, s:{s:s, s:s}}", "kind", "Pod", "metadata", "name", name, "namespace",
                      "default"));
}

/* Node "n<i>" for recorded machine i (its request's labels, its providerID). */
static void register_node(world *w, size_t i, bool ready)
{
    machine_rec *r = &w->machines[i];
    assert_true(r->launched);
    char name[32];
    snprintf(name, sizeof name, "n%zu", i);
    const char *cpu = strcmp(r->type, "c.xlarge") == 0 ? "3920m" : "1930m";
    json_t *labels = json_deep_copy(r->labels);
    json_object_set_new(labels, "node.kubernetes.io/instance-type", json_string(r->type));
    json_t *n = json_pack(
        "{s:s, s:s, s:{s:s, s:o}, s:{s:s}, s:{s:{s:s, s:s, s:s}, s:[{s:s, s:s}]}}",
        "apiVersion", "v1", "kind", "Node", "metadata", "name", name, "labels", labels, "spec",
        "providerID", r->provider_id, "status", "allocatable", "cpu", cpu, "memory", "6Gi", "pods",
        "58", "conditions", "type", "Ready", "status", ready ? "True" : "False");
    assert_non_null(n);
    deliver(w, HOIST_OBJECT_UPDATE, n);
}

/* ---- sink ---- */

static int s_evict(void *ctx, const char *ns, const char *name)
{
    world *w = ctx;
    if (w->n_evict < MAXREC)
        snprintf(w->evicted[w->n_evict++], 128, "%s/%s", ns, name);
    return w->evict_answer;
}

static int s_delete(void *ctx, const char *node)
{
    world *w = ctx;
    if (w->n_delete < MAXREC)
        snprintf(w->deleted[w->n_delete++], 128, "%s", node);
    deliver(w, HOIST_OBJECT_DELETE, hoist_object_ref(NULL, "Node", NULL, node));
    return 0;
}

static int s_taint(void *ctx, const char *node, const char *key, const char *value,
                   hoist_taint_effect effect, bool add)
{
    world *w = ctx;
    (void)value, (void)effect;
    if (w->n_taint < MAXREC)
        snprintf(w->tainted[w->n_taint++], 160, "%c%s %s", add ? '+' : '-', node, key);
    return 0;
}

/* ---- fixture ---- */

static const char *src_path(const char *rel)
{
    static char buf[1024];
    const char *s = getenv("HOIST_SRCDIR");
    snprintf(buf, sizeof buf, "%s/%s", s && *s ? s : ".", rel);
    return buf;
}

static void on_catalog(void *arg, const hoist_error *err, const hoist_instance_type *types,
                       size_t n)
{
    world *w = arg;
    assert_null(err);
    hoist_err e = {{0}};
    if (hoist_catalog_copy(&w->catalog, types, n, &e) < 0)
        fail_msg("%s", e.msg);
}

static int setup(void **state)
{
    world *w = calloc(1, sizeof *w);
    assert_non_null(w);
    w->fh = fake_host_new(T0);
    w->mock = hoist_provider_entry(HOIST_PROVIDER_ABI_VERSION);
    char cfg[1200];
    snprintf(cfg, sizeof cfg, "{\"catalog\": \"%s\", \"zones\": [\"us-east-1a\"]}",
             src_path("tests/data/baselines/catalog.json"));
    hoist_error err = {0};
    if (w->mock->init(fake_host_api(w->fh), cfg, &w->mock_state, &err) != HOIST_OK)
        fail_msg("mock init: %s", err.message);
    hoist_catalog_init(&w->catalog);
    assert_int_equal(w->mock->catalog(w->mock_state, on_catalog, w, &err), HOIST_OK);
    fake_host_run_until(w->fh, T0);
    assert_int_equal(w->catalog.n, 2);
    w->prov = *w->mock;
    w->prov.launch = rec_launch;
    w->prov.terminate = rec_terminate;
    w->sink = (hoist_sink){w, NULL, NULL, s_taint, s_evict, s_delete};
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    fake_host_run_all(w->fh, 1000);
    if (w->as.destroy)
        w->as.destroy(w->as.ctx);
    w->mock->destroy(w->mock_state);
    for (size_t i = 0; i < w->n_machines; i++)
        json_decref(w->machines[i].labels);
    hoist_catalog_free(&w->catalog);
    fake_host_free(w->fh);
    free(w);
    return 0;
}

static hoist_pipeline_env env_of(world *w)
{
    hoist_pipeline_env env;
    memset(&env, 0, sizeof env);
    env.host = fake_host_api(w->fh);
    env.provider = &w->prov;
    env.provider_state = w;
    env.sink = &w->sink;
    env.catalog = &w->catalog;
    return env;
}

static void start_ca(world *w, const char *const *types, size_t n_types)
{
    hoist_pipeline_env env = env_of(w);
    hoist_ca_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.cluster = "test";
    cfg.instance_types = types;
    cfg.n_instance_types = n_types;
    hoist_err err = {{0}};
    if (hoist_autoscaler_cluster_autoscaler(&env, &cfg, &w->as, &err) < 0)
        fail_msg("%s", err.msg);
    assert_string_equal(w->as.name, "cluster-autoscaler");
}

static void start_cm(world *w, const char *type)
{
    hoist_pipeline_env env = env_of(w);
    hoist_clusterman_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.cluster = "test";
    cfg.instance_type = type;
    hoist_err err = {{0}};
    if (hoist_autoscaler_clusterman(&env, &cfg, &w->as, &err) < 0)
        fail_msg("%s", err.msg);
    assert_string_equal(w->as.name, "clusterman");
}

/* Move the clock to T0 + ms, firing provider timers and stepping at every
 * wake time the autoscaler asks for and after every timer. */
static void run_to(world *w, uint64_t ms)
{
    uint64_t until = T0 + ms;
    for (int guard = 0;; guard++) {
        assert_true(guard < 100000);
        uint64_t wake;
        hoist_err err = {{0}};
        if (w->as.step(w->as.ctx, &wake, &err) < 0)
            fail_msg("step: %s", err.msg);
        uint64_t now = fake_host_now(w->fh), timer = fake_host_next_due(w->fh);
        uint64_t next = wake < timer ? wake : timer;
        if (next > until)
            break;
        if (next <= now)
            next = now + 1;
        fake_host_run_until(w->fh, next);
    }
    fake_host_run_until(w->fh, until);
    hoist_err err = {{0}};
    if (w->as.step(w->as.ctx, NULL, &err) < 0)
        fail_msg("step: %s", err.msg);
}

static const hoist_autoscaler_stats *stats(world *w)
{
    assert_non_null(w->as.stats);
    return w->as.stats(w->as.ctx);
}

/* ---- Cluster Autoscaler ---- */

/* Six 1-CPU pods. a.large (the cheapest type) takes one each: 6 nodes,
 * $0.30/h, idle cpu 0.5 + idle memory 0.97. c.xlarge takes three: 2 nodes,
 * $0.34/h, idle 0.25 + 0.91. Least-waste picks c.xlarge although a.large
 * would cost less - and only at the first scan, 10 s after the start. */
static void test_ca_scan_interval_and_least_waste(void **state)
{
    world *w = *state;
    start_ca(w, NULL, 0); /* defaults: none in this catalog, so its cheapest types */
    event_text(w, HOIST_OBJECT_ADD, NODEPOOL);
    char name[16];
    for (int i = 1; i <= 6; i++) {
        snprintf(name, sizeof name, "p%d", i);
        pod(w, HOIST_OBJECT_ADD, name, "1", NULL, false);
    }
    run_to(w, 9999);
    assert_int_equal(w->n_machines, 0);
    run_to(w, 10000);
    assert_int_equal(w->n_machines, 2);
    for (size_t i = 0; i < w->n_machines; i++) {
        assert_string_equal(w->machines[i].type, "c.xlarge");
        assert_string_equal(json_string_value(json_object_get(w->machines[i].labels,
                                                              "hoist.dev/nodepool")),
                            "general");
    }
    assert_string_equal(w->machines[0].claim, "ca-1");
    assert_int_equal(stats(w)->scale_ups, 1);
    assert_int_equal(stats(w)->nodes_launched, 2);
}

/* Machines launched and not Ready count as capacity: a pod that fits on
 * them buys nothing, at any later scan; one that does not fit buys one more. */
static void test_ca_upcoming_nodes_count(void **state)
{
    world *w = *state;
    const char *types[] = {"c.xlarge"};
    start_ca(w, types, 1);
    event_text(w, HOIST_OBJECT_ADD, NODEPOOL);
    pod(w, HOIST_OBJECT_ADD, "p1", "1", NULL, false);
    pod(w, HOIST_OBJECT_ADD, "p2", "1", NULL, false);
    run_to(w, 10000);
    assert_int_equal(w->n_machines, 1);
    pod(w, HOIST_OBJECT_ADD, "p3", "1", NULL, false); /* 3 CPUs fit one c.xlarge */
    run_to(w, 60000);
    assert_int_equal(w->n_machines, 1);
    register_node(w, 0, false); /* registered, not Ready: still upcoming */
    run_to(w, 120000);
    assert_int_equal(w->n_machines, 1);
    pod(w, HOIST_OBJECT_ADD, "p4", "1500m", NULL, false); /* does not fit what is coming */
    run_to(w, 130000);
    assert_int_equal(w->n_machines, 2);
    assert_int_equal(stats(w)->scale_ups, 2);
}

/* Two c.xlarge: n0 with three 0.9-CPU pods (69 %), n1 with one (23 %)
 * whose pod fits on n0. n1 is unneeded from the scan at 20 s; it goes once
 * it has been unneeded 10 minutes and the scale-up at 10 s is 10 minutes
 * old: evicted at 620 s, not at 610 s; terminated once its pod is gone. */
static void bring_up_two_nodes(world *w, bool bare)
{
    const char *types[] = {"c.xlarge"};
    start_ca(w, types, 1);
    event_text(w, HOIST_OBJECT_ADD, NODEPOOL);
    char name[16];
    for (int i = 1; i <= 5; i++) {
        snprintf(name, sizeof name, "p%d", i);
        pod(w, HOIST_OBJECT_ADD, name, "900m", NULL, false);
    }
    run_to(w, 10000);
    assert_int_equal(w->n_machines, 2);
    run_to(w, 15000);
    register_node(w, 0, true);
    register_node(w, 1, true);
    pod(w, HOIST_OBJECT_UPDATE, "p1", "900m", "n0", false);
    pod(w, HOIST_OBJECT_UPDATE, "p2", "900m", "n0", false);
    pod(w, HOIST_OBJECT_UPDATE, "p3", "900m", "n0", false);
    pod(w, HOIST_OBJECT_UPDATE, "p4", "900m", "n1", bare);
    delete_pod(w, "p5");
}

static void test_ca_scale_down_after_unneeded_time(void **state)
{
    world *w = *state;
    bring_up_two_nodes(w, false);
    run_to(w, 619999);
    assert_int_equal(w->n_evict, 0);
    assert_int_equal(w->n_terminate_calls, 0);
    run_to(w, 620000);
    assert_int_equal(w->n_evict, 1);
    assert_string_equal(w->evicted[0], "default/p4");
    assert_true(w->n_taint >= 1);
    assert_string_equal(w->tainted[0], "+n1 ToBeDeletedByClusterAutoscaler");
    assert_int_equal(w->n_terminate_calls, 0); /* its pod is still there */
    /* the eviction goes through; the ReplicaSet's new pod lands on n0 */
    delete_pod(w, "p4");
    pod(w, HOIST_OBJECT_UPDATE, "p4b", "900m", "n0", false);
    run_to(w, 640000);
    assert_int_equal(w->n_terminate_calls, 1);
    assert_int_equal(w->n_delete, 1);
    assert_string_equal(w->deleted[0], "n1");
    assert_int_equal(stats(w)->scale_downs, 1);
    assert_int_equal(stats(w)->nodes_terminated, 1);
    /* n0 is at 92 %: it stays */
    run_to(w, 2000000);
    assert_int_equal(w->n_terminate_calls, 1);
}

/* A scale-up at 300 s pushes the deletion of n1 (unneeded since 20 s) to
 * 900 s: scale-down-delay-after-add. */
static void test_ca_no_scale_down_after_scale_up(void **state)
{
    world *w = *state;
    bring_up_two_nodes(w, false);
    run_to(w, 295000);
    pod(w, HOIST_OBJECT_ADD, "big", "3500m", NULL, false); /* fits neither node */
    run_to(w, 300000);
    assert_int_equal(w->n_machines, 3);
    run_to(w, 305000);
    register_node(w, 2, true);
    pod(w, HOIST_OBJECT_UPDATE, "big", "3500m", "n2", false);
    run_to(w, 890000);
    assert_int_equal(w->n_evict, 0);
    run_to(w, 900000);
    assert_int_equal(w->n_evict, 1);
    assert_string_equal(w->evicted[0], "default/p4");
}

/* A pod without a controller keeps its node (and so does safe-to-evict
 * false); nothing is evicted or terminated however long it waits. */
static void test_ca_bare_pod_keeps_node(void **state)
{
    world *w = *state;
    bring_up_two_nodes(w, true);
    run_to(w, 1800000);
    assert_int_equal(w->n_evict, 0);
    assert_int_equal(w->n_terminate_calls, 0);
    assert_int_equal(stats(w)->scale_downs, 0);
}

/* A refused eviction (a PodDisruptionBudget) saves the node: the taint is
 * taken back and it is not terminated. */
static void test_ca_refused_eviction_saves_node(void **state)
{
    world *w = *state;
    bring_up_two_nodes(w, false);
    w->evict_answer = 1;
    run_to(w, 620000);
    assert_int_equal(w->n_evict, 1);
    assert_int_equal(w->n_taint, 2);
    assert_string_equal(w->tainted[1], "-n1 ToBeDeletedByClusterAutoscaler");
    run_to(w, 700000);
    assert_int_equal(w->n_terminate_calls, 0);
    assert_int_equal(stats(w)->evictions_refused, 1);
}

/* An empty node goes without evictions once unneeded 10 minutes. */
static void test_ca_empty_node_terminated(void **state)
{
    world *w = *state;
    bring_up_two_nodes(w, false);
    delete_pod(w, "p4");
    run_to(w, 620000);
    assert_int_equal(w->n_evict, 0);
    assert_int_equal(w->n_terminate_calls, 1);
    run_to(w, 630000);
    assert_int_equal(w->n_delete, 1);
    assert_string_equal(w->deleted[0], "n1");
}

static void test_ca_bad_config(void **state)
{
    world *w = *state;
    hoist_pipeline_env env = env_of(w);
    hoist_ca_config cfg;
    memset(&cfg, 0, sizeof cfg);
    hoist_autoscaler as;
    hoist_err err = {{0}};
    assert_int_equal(hoist_autoscaler_cluster_autoscaler(&env, &cfg, &as, &err), -1);
    assert_non_null(strstr(err.msg, "cluster"));
    cfg.cluster = "test";
    cfg.scale_down_utilization = 1.5;
    assert_int_equal(hoist_autoscaler_cluster_autoscaler(&env, &cfg, &as, &err), -1);
    assert_non_null(strstr(err.msg, "scale_down_utilization"));
    hoist_clusterman_config cm;
    memset(&cm, 0, sizeof cm);
    cm.cluster = "test";
    cm.setpoint = 2;
    assert_int_equal(hoist_autoscaler_clusterman(&env, &cm, &as, &err), -1);
    assert_non_null(strstr(err.msg, "setpoint"));
    cm.setpoint = 0;
    cm.min_nodes = 3;
    cm.max_nodes = 2;
    assert_int_equal(hoist_autoscaler_clusterman(&env, &cm, &as, &err), -1);
    assert_non_null(strstr(err.msg, "min_nodes"));
}

/* ---- Clusterman ---- */

/* Two 868m pods: the first run (60 s) goes from 0 to 1 node; with both
 * bound there utilization is 1736/1930 = 0.9, outside 0.7 +- margin: the
 * run at 120 s sets 0.9/0.7 -> 2 nodes, not before. 2 nodes at 0.45 then
 * stay (the target rounds up to 2). Every machine is the pool's type. */
static void test_cm_scales_up_at_90_percent(void **state)
{
    world *w = *state;
    start_cm(w, "a.large");
    event_text(w, HOIST_OBJECT_ADD, NODEPOOL);
    pod(w, HOIST_OBJECT_ADD, "p1", "868m", NULL, false);
    pod(w, HOIST_OBJECT_ADD, "p2", "868m", NULL, false);
    run_to(w, 59999);
    assert_int_equal(w->n_machines, 0);
    run_to(w, 60000);
    assert_int_equal(w->n_machines, 1);
    run_to(w, 61000);
    register_node(w, 0, true);
    pod(w, HOIST_OBJECT_UPDATE, "p1", "868m", "n0", false);
    pod(w, HOIST_OBJECT_UPDATE, "p2", "868m", "n0", false);
    run_to(w, 119999);
    assert_int_equal(w->n_machines, 1);
    run_to(w, 120000);
    assert_int_equal(w->n_machines, 2);
    run_to(w, 121000);
    register_node(w, 1, true);
    run_to(w, 600000);
    assert_int_equal(w->n_machines, 2);
    assert_int_equal(w->n_terminate_calls, 0);
    for (size_t i = 0; i < w->n_machines; i++)
        assert_string_equal(w->machines[i].type, "a.large");
    assert_int_equal(stats(w)->scale_ups, 2);
}

/* Six 772m pods on 4 nodes (60 %: kept, the target rounds up to 4); two
 * pods go: 40 %, 4 x 0.4 / 0.7 -> 3 nodes. The idle node goes first, at
 * once (nothing to evict); nodes with pods are kept. */
static void test_cm_scales_down_at_40_percent(void **state)
{
    world *w = *state;
    start_cm(w, "a.large");
    event_text(w, HOIST_OBJECT_ADD, NODEPOOL);
    char name[16];
    for (int i = 1; i <= 6; i++) {
        snprintf(name, sizeof name, "p%d", i);
        pod(w, HOIST_OBJECT_ADD, name, "772m", NULL, false);
    }
    run_to(w, 60000);
    assert_int_equal(w->n_machines, 1);
    run_to(w, 61000);
    register_node(w, 0, true);
    run_to(w, 120000); /* 6 x 772m pending on 1930m: 2.4 / 0.7 -> 4 */
    assert_int_equal(w->n_machines, 4);
    run_to(w, 121000);
    for (size_t i = 1; i < 4; i++)
        register_node(w, i, true);
    for (int i = 1; i <= 6; i++) {
        snprintf(name, sizeof name, "p%d", i);
        char node[8];
        snprintf(node, sizeof node, "n%d", (i - 1) / 2);
        pod(w, HOIST_OBJECT_UPDATE, name, "772m", node, false);
    }
    run_to(w, 180000);
    assert_int_equal(w->n_machines, 4);
    assert_int_equal(w->n_terminate_calls, 0);
    delete_pod(w, "p2");
    delete_pod(w, "p4");
    run_to(w, 239999);
    assert_int_equal(w->n_terminate_calls, 0);
    run_to(w, 240000);
    assert_int_equal(w->n_terminate_calls, 1);
    assert_int_equal(w->n_evict, 0);
    run_to(w, 241000);
    assert_int_equal(w->n_delete, 1);
    assert_string_equal(w->deleted[0], "n3");
    assert_int_equal(stats(w)->scale_downs, 1);
    run_to(w, 900000); /* 3 nodes at 53 %: the target rounds up to 3 */
    assert_int_equal(w->n_terminate_calls, 1);
    assert_int_equal(w->n_machines, 4);
}

/* Below the target the node with the fewest pods is drained: its pods are
 * evicted, then it is terminated once they are gone. */
static void test_cm_drains_fewest_pods_first(void **state)
{
    world *w = *state;
    start_cm(w, "a.large");
    event_text(w, HOIST_OBJECT_ADD, NODEPOOL);
    pod(w, HOIST_OBJECT_ADD, "p1", "800m", NULL, false);
    pod(w, HOIST_OBJECT_ADD, "p2", "800m", NULL, false);
    pod(w, HOIST_OBJECT_ADD, "p3", "800m", NULL, false);
    run_to(w, 60000);
    run_to(w, 61000);
    register_node(w, 0, true);
    run_to(w, 120000); /* 2400m pending on 1930m: 1.24 / 0.7 -> 2 */
    assert_int_equal(w->n_machines, 2);
    run_to(w, 121000);
    register_node(w, 1, true);
    pod(w, HOIST_OBJECT_UPDATE, "p1", "800m", "n0", false);
    pod(w, HOIST_OBJECT_UPDATE, "p2", "800m", "n0", false);
    pod(w, HOIST_OBJECT_UPDATE, "p3", "800m", "n1", false);
    run_to(w, 125000);
    delete_pod(w, "p2");
    delete_pod(w, "p3"); /* 800m on 3860m: 0.21 -> 1 node */
    pod(w, HOIST_OBJECT_UPDATE, "p4", "100m", "n1", false);
    pod(w, HOIST_OBJECT_UPDATE, "p5", "100m", "n1", false);
    run_to(w, 180000); /* n0 has 1 pod, n1 has 2: n0 goes */
    assert_int_equal(w->n_evict, 1);
    assert_string_equal(w->evicted[0], "default/p1");
    assert_int_equal(w->n_terminate_calls, 0);
    delete_pod(w, "p1");
    run_to(w, 240000);
    assert_int_equal(w->n_terminate_calls, 1);
    assert_int_equal(w->n_delete, 1);
    assert_string_equal(w->deleted[0], "n0");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ca_scan_interval_and_least_waste, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ca_upcoming_nodes_count, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ca_scale_down_after_unneeded_time, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ca_no_scale_down_after_scale_up, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ca_bare_pod_keeps_node, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ca_refused_eviction_saves_node, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ca_empty_node_terminated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ca_bad_config, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cm_scales_up_at_90_percent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cm_scales_down_at_40_percent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cm_drains_fewest_pods_first, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
