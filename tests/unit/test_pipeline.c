/*
 * test_pipeline.c - the stages wired together (pipeline/pipeline.h), driven
 * the way the daemon and the simulator drive them: a virtual clock (the
 * fake host), object events pushed in, a recording sink, and the mock
 * provider linked in directly, with tests/data/launch/catalog.json
 * (a.large amd64 2 vCPU/8 GiB, spot from $0.040; b.large arm64 on-demand).
 *
 * Each test follows pods from pending to a launched machine, its Node's
 * registration, binding, and on to disruption, and checks what the world
 * was asked to do at each point.
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
#include "pipeline/pipeline.h"
#include "policy/policy.h"

#define T0 1700000000000ull /* virtual start, ms (2023-11-14) */

/* ---- recording sink ---- */

#define MAXREC 64
typedef struct sink_log {
    size_t n_nominated, n_unschedulable, n_taint, n_evict, n_delete;
    char nominated[MAXREC][128];     /* "ns/name>node" */
    char unschedulable[MAXREC][128]; /* "ns/name" */
    char taint[MAXREC][160];         /* "+node key" or "-node key" */
    char evict[MAXREC][128];         /* "ns/name" */
    char deleted[MAXREC][128];       /* node */
    int evict_answer;                /* what evict returns */
    hoist_pipeline *p;               /* deleted Nodes are reported back to it */
} sink_log;

static void s_nominated(void *ctx, const char *ns, const char *name, const char *node)
{
    sink_log *s = ctx;
    if (s->n_nominated < MAXREC)
        snprintf(s->nominated[s->n_nominated++], 128, "%s/%s>%s", ns, name, node);
}

static void s_unschedulable(void *ctx, const char *ns, const char *name, const char *reason)
{
    sink_log *s = ctx;
    assert_non_null(reason);
    assert_true(strlen(reason) > 0);
    if (s->n_unschedulable < MAXREC)
        snprintf(s->unschedulable[s->n_unschedulable++], 128, "%s/%s", ns, name);
}

static int s_taint(void *ctx, const char *node, const char *key, const char *value,
                   hoist_taint_effect effect, bool add)
{
    sink_log *s = ctx;
    (void)value, (void)effect;
    if (s->n_taint < MAXREC)
        snprintf(s->taint[s->n_taint++], 160, "%c%s %s", add ? '+' : '-', node, key);
    return 0;
}

static int s_evict(void *ctx, const char *ns, const char *name)
{
    sink_log *s = ctx;
    if (s->n_evict < MAXREC)
        snprintf(s->evict[s->n_evict++], 128, "%s/%s", ns, name);
    return s->evict_answer;
}

static int s_delete(void *ctx, const char *node)
{
    sink_log *s = ctx;
    if (s->n_delete < MAXREC)
        snprintf(s->deleted[s->n_delete++], 128, "%s", node);
    /* the API server deletes it and the watch says so (the pipeline is
     * inside a step or a provider callback: it must cope) */
    json_t *ref = hoist_object_ref(NULL, "Node", NULL, node);
    hoist_object_event ev = {.op = HOIST_OBJECT_DELETE, .object = ref};
    hoist_pipeline_observe(s->p, &ev);
    json_decref(ref);
    return 0;
}

/* ---- fixture ---- */

typedef struct fixture {
    fake_host *fh;
    const hoist_provider *mock;
    void *mock_state;
    hoist_catalog catalog;
    sink_log log;
    hoist_sink sink;
    hoist_policy *policy;
    hoist_pipeline *p;
    hoist_pipeline_config cfg;
    hoist_metrics *metrics;
} fixture;

static const char *src_path(const char *rel)
{
    static char buf[1024];
    const char *s = getenv("HOIST_SRCDIR");
    snprintf(buf, sizeof buf, "%s/%s", s && *s ? s : ".", rel);
    return buf;
}

typedef struct catalog_wait {
    hoist_catalog *out;
    int done;
} catalog_wait;

static void on_catalog(void *arg, const hoist_error *err, const hoist_instance_type *types,
                       size_t n)
{
    catalog_wait *w = arg;
    assert_null(err);
    hoist_err e = {{0}};
    if (hoist_catalog_copy(w->out, types, n, &e) < 0)
        fail_msg("%s", e.msg);
    w->done = 1;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->fh = fake_host_new(T0);
    f->mock = hoist_provider_entry(HOIST_PROVIDER_ABI_VERSION);
    char cfg[1200];
    snprintf(cfg, sizeof cfg, "{\"catalog\": \"%s\", \"zones\": [\"us-east-1a\", \"us-east-1b\"]}",
             src_path("tests/data/launch/catalog.json"));
    hoist_error err = {0};
    if (f->mock->init(fake_host_api(f->fh), cfg, &f->mock_state, &err) != HOIST_OK)
        fail_msg("mock init: %s", err.message);
    hoist_catalog_init(&f->catalog);
    catalog_wait w = {&f->catalog, 0};
    assert_int_equal(f->mock->catalog(f->mock_state, on_catalog, &w, &err), HOIST_OK);
    fake_host_run_until(f->fh, T0);
    assert_int_equal(w.done, 1);
    f->sink = (hoist_sink){&f->log, s_nominated, s_unschedulable, s_taint, s_evict, s_delete};
    memset(&f->cfg, 0, sizeof f->cfg);
    f->cfg.cluster = "test";
    *state = f;
    return 0;
}

/* Create the pipeline (after a test adjusted f->cfg or f->policy). */
static void start(fixture *f)
{
    hoist_pipeline_env env;
    memset(&env, 0, sizeof env);
    env.host = fake_host_api(f->fh);
    env.provider = f->mock;
    env.provider_state = f->mock_state;
    env.sink = &f->sink;
    env.catalog = &f->catalog;
    env.metrics = f->metrics = hoist_metrics_new();
    assert_non_null(f->metrics);
    hoist_err err = {{0}};
    f->p = hoist_pipeline_new(&env, &f->cfg, f->policy, &err);
    if (!f->p)
        fail_msg("%s", err.msg);
    f->log.p = f->p;
}

static int teardown(void **state)
{
    fixture *f = *state;
    /* let every provider call finish before the pipeline goes */
    fake_host_run_all(f->fh, 1000);
    f->mock->destroy(f->mock_state);
    hoist_pipeline_free(f->p);
    hoist_metrics_free(f->metrics);
    hoist_policy_free(f->policy);
    hoist_catalog_free(&f->catalog);
    fake_host_free(f->fh);
    free(f);
    return 0;
}

static void step(fixture *f)
{
    hoist_err err = {{0}};
    if (hoist_pipeline_step(f->p, NULL, &err) < 0)
        fail_msg("step: %s", err.msg);
}

/* Move the clock to `ms` after T0, firing provider timers and stepping the
 * pipeline at every wake time it asks for on the way. */
static void run_to(fixture *f, uint64_t ms)
{
    uint64_t until = T0 + ms;
    for (int guard = 0;; guard++) {
        assert_true(guard < 100000); /* the pipeline must not ask for steps forever */
        uint64_t wake;
        hoist_err err = {{0}};
        if (hoist_pipeline_step(f->p, &wake, &err) < 0)
            fail_msg("step: %s", err.msg);
        uint64_t now = fake_host_now(f->fh), timer = fake_host_next_due(f->fh);
        uint64_t next = wake < timer ? wake : timer;
        if (next > until)
            break;
        if (next <= now && timer > now)
            next = now + 1; /* a wake in the past with no timer due: move on */
        fake_host_run_until(f->fh, next);
    }
    fake_host_run_until(f->fh, until);
    step(f);
}

static void event(fixture *f, hoist_object_op op, const char *json_text)
{
    json_error_t je;
    json_t *obj = json_loads(json_text, 0, &je);
    if (!obj)
        fail_msg("bad test JSON: %s: %s", je.text, json_text);
    hoist_object_event ev = {.op = op, .object = obj};
    hoist_pipeline_observe(f->p, &ev);
    json_decref(obj);
}

static const char NODEPOOL[] =
    "{\"apiVersion\": \"hoist.dev/v1\", \"kind\": \"NodePool\", \"metadata\": {\"name\": "
    "\"general\"}, \"spec\": {\"template\": {\"spec\": {\"requirements\": ["
    "{\"key\": \"kubernetes.io/arch\", \"operator\": \"In\", \"values\": [\"amd64\", "
    "\"arm64\"]},"
    "{\"key\": \"hoist.dev/capacity-type\", \"operator\": \"In\", \"values\": [\"spot\", "
    "\"on-demand\"]}]}},"
    " \"disruption\": {\"consolidationPolicy\": \"WhenEmpty\", \"consolidateAfter\": \"30s\"}}}";

static void add_pod(fixture *f, const char *name, const char *cpu, int priority)
{
    char buf[512];
    snprintf(buf, sizeof buf,
             "{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"%s\", "
             "\"namespace\": \"default\"}, \"spec\": {\"priority\": %d, \"containers\": [{\"name\": "
             "\"c\", \"resources\": {\"requests\": {\"cpu\": \"%s\", \"memory\": \"1Gi\"}}}]}}",
             name, priority, cpu);
    event(f, HOIST_OBJECT_ADD, buf);
}

static void bind_pod(fixture *f, const char *name, const char *cpu, const char *node)
{
    char buf[512];
    snprintf(buf, sizeof buf,
             "{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"%s\", "
             "\"namespace\": \"default\"}, \"spec\": {\"nodeName\": \"%s\", \"containers\": "
             "[{\"name\": \"c\", \"resources\": {\"requests\": {\"cpu\": \"%s\", \"memory\": "
             "\"1Gi\"}}}]}, \"status\": {\"phase\": \"Running\"}}",
             name, node, cpu);
    event(f, HOIST_OBJECT_UPDATE, buf);
}

static void delete_pod(fixture *f, const char *name)
{
    char buf[256];
    snprintf(buf, sizeof buf, "{\"metadata\": {\"name\": \"%s\", \"namespace\": \"default\"}}",
             name);
    event(f, HOIST_OBJECT_DELETE, buf);
}

/* The Node a launched claim's machine registers as. */
static void register_node(fixture *f, const hoist_nodeclaim *c, const char *node, bool ready)
{
    char buf[1400];
    snprintf(buf, sizeof buf,
             "{\"apiVersion\": \"v1\", \"kind\": \"Node\", \"metadata\": {\"name\": \"%s\", "
             "\"creationTimestamp\": \"2023-11-14T22:13:20Z\", \"labels\": {"
             "\"hoist.dev/nodepool\": \"%s\", \"node.kubernetes.io/instance-type\": \"%s\", "
             "\"topology.kubernetes.io/zone\": \"%s\", \"hoist.dev/capacity-type\": \"%s\", "
             "\"kubernetes.io/arch\": \"amd64\", \"kubernetes.io/os\": \"linux\"}}, "
             "\"spec\": {\"providerID\": \"%s\"%s}, "
             "\"status\": {\"allocatable\": {\"cpu\": \"1930m\", \"memory\": \"7Gi\", \"pods\": "
             "\"29\"}, \"conditions\": [{\"type\": \"Ready\", \"status\": \"%s\"}]}}",
             node, c->nodepool, c->instance_type, c->zone,
             hoist_capacity_type_name(c->capacity_type), c->provider_id,
             ready ? "" : ", \"taints\": [{\"key\": \"hoist.dev/unregistered\", \"effect\": "
                          "\"NoExecute\"}]",
             ready ? "True" : "False");
    event(f, HOIST_OBJECT_UPDATE, buf);
}

static const hoist_nodeclaim *only_claim(fixture *f)
{
    const hoist_nodeclaim *const *claims;
    assert_int_equal(hoist_pipeline_claims(f->p, &claims), 1);
    return claims[0];
}

static const char *nominated(fixture *f, const char *pod)
{
    return hoist_cluster_nominated(hoist_pipeline_cluster(f->p), "default", pod);
}

/* ---- tests ---- */

/* Pending pods wait for the batch window, then one machine is launched for
 * them; they are nominated to its synthetic node at once, so neither a
 * repeated event nor a small new pod buys a second machine. */
static void test_pending_pods_launch_once(void **state)
{
    fixture *f = *state;
    start(f);
    event(f, HOIST_OBJECT_ADD, NODEPOOL);
    add_pod(f, "a", "500m", 0);
    add_pod(f, "b", "500m", 0);
    add_pod(f, "c", "500m", 0);
    step(f);
    assert_int_equal(hoist_pipeline_stats_get(f->p)->decisions, 0); /* window still open */
    run_to(f, 999);
    assert_int_equal(hoist_pipeline_stats_get(f->p)->decisions, 0);
    run_to(f, 1000);
    assert_int_equal(hoist_pipeline_stats_get(f->p)->decisions, 1);
    assert_int_equal(hoist_pipeline_stats_get(f->p)->launches, 1);
    const hoist_nodeclaim *c = only_claim(f);
    assert_string_equal(c->name, "general-1");
    assert_string_equal(c->instance_type, "a.large");
    assert_int_equal(c->capacity_type, HOIST_CAPACITY_SPOT);
    assert_int_equal(c->state, HOIST_CLAIM_LAUNCHED); /* the mock answers at once */
    assert_non_null(c->provider_id);
    assert_int_equal(c->n_pods, 3);
    assert_string_equal(nominated(f, "a"), "general-1");
    assert_string_equal(nominated(f, "c"), "general-1");
    assert_int_equal(f->log.n_nominated, 3);
    /* the synthetic node stands in for the machine: not Ready, the claim's labels */
    hoist_objects *o = hoist_cluster_objects(hoist_pipeline_cluster(f->p));
    const hoist_node *n = hoist_objects_find_node(o, "general-1");
    assert_non_null(n);
    assert_int_equal(n->ready, 0);
    assert_string_equal(hoist_labels_get(&n->labels, "node.kubernetes.io/instance-type"),
                        "a.large");
    /* the same pods again, and a small new pod: no second machine */
    add_pod(f, "a", "500m", 0);
    add_pod(f, "d", "100m", 0);
    run_to(f, 5000);
    assert_int_equal(hoist_pipeline_stats_get(f->p)->launches, 1);
    assert_string_equal(nominated(f, "d"), "general-1");
    assert_int_equal(hoist_pipeline_stats_get(f->p)->decisions, 2);
}

/* The machine's Node registers: the synthetic node goes, the pods follow to
 * the real node, the registration taint is removed; Ready, then bound. */
static void test_registration_moves_nominations(void **state)
{
    fixture *f = *state;
    start(f);
    event(f, HOIST_OBJECT_ADD, NODEPOOL);
    add_pod(f, "a", "500m", 0);
    run_to(f, 1000);
    const hoist_nodeclaim *c = only_claim(f);
    register_node(f, c, "ip-10-0-0-1", false);
    c = only_claim(f);
    assert_int_equal(c->state, HOIST_CLAIM_REGISTERED);
    assert_string_equal(c->node, "ip-10-0-0-1");
    hoist_objects *o = hoist_cluster_objects(hoist_pipeline_cluster(f->p));
    assert_null(hoist_objects_find_node(o, "general-1"));
    assert_non_null(hoist_objects_find_node(o, "ip-10-0-0-1"));
    assert_string_equal(nominated(f, "a"), "ip-10-0-0-1");
    assert_int_equal(f->log.n_taint, 1);
    assert_string_equal(f->log.taint[0], "-ip-10-0-0-1 hoist.dev/unregistered");
    register_node(f, c, "ip-10-0-0-1", true);
    assert_int_equal(only_claim(f)->state, HOIST_CLAIM_READY);
    bind_pod(f, "a", "500m", "ip-10-0-0-1");
    assert_null(nominated(f, "a"));
    run_to(f, 5000);
    assert_int_equal(hoist_pipeline_stats_get(f->p)->launches, 1);
    assert_int_equal(hoist_pipeline_stats_get(f->p)->registered, 1);
}

/* One offering a launch (max_offerings 1: the cheapest, a.large spot in
 * us-east-1a) and no capacity there: the launch fails, the offering is
 * cached as unavailable, the pod goes back into the batch, and the next
 * decision buys the next offering instead. */
static void test_insufficient_capacity_requeues(void **state)
{
    fixture *f = *state;
    hoist_error err = {0};
    assert_int_equal(f->mock->control(f->mock_state,
                                      "{\"op\": \"ice\", \"instance_type\": \"a.large\", "
                                      "\"zone\": \"us-east-1a\", \"capacity_type\": \"spot\"}",
                                      &err),
                     HOIST_OK);
    f->cfg.max_offerings = 1;
    start(f);
    event(f, HOIST_OBJECT_ADD, NODEPOOL);
    add_pod(f, "a", "500m", 0);
    run_to(f, 1000);
    const hoist_pipeline_stats *st = hoist_pipeline_stats_get(f->p);
    assert_int_equal(st->launch_ice, 1);
    assert_int_equal(st->requeued_pods, 1);
    assert_null(nominated(f, "a")); /* pending again */
    run_to(f, 2100);
    const hoist_nodeclaim *c = only_claim(f);
    assert_string_equal(c->instance_type, "a.large");
    assert_string_equal(c->zone, "us-east-1b");
    assert_int_equal(c->capacity_type, HOIST_CAPACITY_SPOT);
    assert_string_equal(c->name, "general-2");
    assert_string_equal(nominated(f, "a"), "general-2");
    assert_int_equal(st->launches, 2);
}

/* A machine whose Node never registers is terminated after the
 * registration timeout and its pods are decided again. */
static void test_registration_timeout(void **state)
{
    fixture *f = *state;
    f->cfg.registration_timeout_ms = 60000;
    start(f);
    event(f, HOIST_OBJECT_ADD, NODEPOOL);
    add_pod(f, "a", "500m", 0);
    run_to(f, 1000);
    assert_string_equal(only_claim(f)->name, "general-1");
    run_to(f, 61000);
    const hoist_pipeline_stats *st = hoist_pipeline_stats_get(f->p);
    assert_int_equal(st->registration_timeouts, 1);
    assert_int_equal(st->terminations, 1);
    run_to(f, 62100);
    assert_string_equal(only_claim(f)->name, "general-2");
    assert_string_equal(nominated(f, "a"), "general-2");
}

/* A launch the provider does not answer within the launch timeout is given
 * up: its pods are decided again (a second machine is asked for), and the
 * first machine, when it comes after all, is terminated. */
static void test_launch_timeout(void **state)
{
    fixture *f = *state;
    f->cfg.launch_timeout_ms = 60000;
    hoist_error err = {0};
    assert_int_equal(f->mock->control(f->mock_state, "{\"op\": \"latency\", \"ms\": 90000}", &err),
                     HOIST_OK);
    start(f);
    event(f, HOIST_OBJECT_ADD, NODEPOOL);
    add_pod(f, "a", "500m", 0);
    run_to(f, 1000);
    assert_string_equal(only_claim(f)->name, "general-1");
    assert_int_equal(only_claim(f)->state, HOIST_CLAIM_LAUNCHING);
    run_to(f, 62100);
    const hoist_pipeline_stats *st = hoist_pipeline_stats_get(f->p);
    assert_int_equal(st->launch_timeouts, 1);
    assert_string_equal(nominated(f, "a"), "general-2"); /* decided again */
    assert_int_equal(st->launches, 2);
    run_to(f, 95000); /* the first answer comes: that machine goes at once */
    assert_int_equal(st->terminations, 1);
    const hoist_nodeclaim *const *claims;
    size_t n = hoist_pipeline_claims(f->p, &claims);
    for (size_t i = 0; i < n; i++)
        assert_string_not_equal(claims[i]->name, "general-1");
    double v = 0;
    assert_int_equal(hoist_metrics_get(f->metrics, "hoist_launch_timeouts_total", NULL, 0, &v), 0);
    assert_true(v == 1);
}

/* A node left empty longer than consolidateAfter (30 s) is terminated and
 * its Node deleted; one that is not empty stays. */
static void test_empty_node_consolidated(void **state)
{
    fixture *f = *state;
    start(f);
    event(f, HOIST_OBJECT_ADD, NODEPOOL);
    add_pod(f, "a", "500m", 0);
    run_to(f, 1000);
    register_node(f, only_claim(f), "ip-10-0-0-1", true);
    bind_pod(f, "a", "500m", "ip-10-0-0-1");
    run_to(f, 120000);
    assert_int_equal(hoist_pipeline_stats_get(f->p)->terminations, 0);
    assert_int_equal(f->log.n_delete, 0);
    delete_pod(f, "a");
    run_to(f, 140000);
    assert_int_equal(hoist_pipeline_stats_get(f->p)->terminations, 0); /* < 30 s empty */
    run_to(f, 180000);
    const hoist_pipeline_stats *st = hoist_pipeline_stats_get(f->p);
    assert_int_equal(st->disruptions[HOIST_DISRUPT_EMPTY], 1);
    assert_int_equal(st->terminations, 1);
    assert_int_equal(f->log.n_delete, 1);
    assert_string_equal(f->log.deleted[0], "ip-10-0-0-1");
    const hoist_nodeclaim *const *claims;
    assert_int_equal(hoist_pipeline_claims(f->p, &claims), 0);
}

/* A close_batch policy closes the window at once for a high-priority pod. */
static void test_policy_closes_batch(void **state)
{
    fixture *f = *state;
    hoist_err err = {{0}};
    f->policy = hoist_policy_load(src_path("tests/data/batch/high_priority.lua"), NULL, &err);
    assert_non_null(f->policy);
    start(f);
    event(f, HOIST_OBJECT_ADD, NODEPOOL);
    add_pod(f, "urgent-pod", "500m", 1000);
    step(f);
    assert_int_equal(hoist_pipeline_stats_get(f->p)->decisions, 1);
    assert_int_equal(hoist_pipeline_stats_get(f->p)->launches, 1);
    /* without the policy the same pod waits for the idle window */
    hoist_pipeline_set_policy(f->p, NULL);
    add_pod(f, "other", "1500m", 1000);
    step(f);
    assert_int_equal(hoist_pipeline_stats_get(f->p)->decisions, 1);
}

/* A recycle policy drains a node: taint, evict its pods, terminate once
 * they are gone. */
static void test_recycle_drains_then_terminates(void **state)
{
    fixture *f = *state;
    hoist_err err = {{0}};
    f->policy = hoist_policy_load(src_path("tests/data/pipeline/recycle-old.lua"), NULL, &err);
    if (!f->policy)
        fail_msg("%s", err.msg);
    start(f);
    event(f, HOIST_OBJECT_ADD, NODEPOOL);
    add_pod(f, "a", "500m", 0);
    run_to(f, 1000);
    const hoist_nodeclaim *old = only_claim(f);
    register_node(f, old, "ip-10-0-0-1", true);
    bind_pod(f, "a", "500m", "ip-10-0-0-1");
    run_to(f, 60000);
    assert_int_equal(f->log.n_evict, 0); /* young: kept */
    run_to(f, 3700000);                   /* older than an hour */
    const hoist_pipeline_stats *st = hoist_pipeline_stats_get(f->p);
    assert_int_equal(st->disruptions[HOIST_DISRUPT_RECYCLE], 1);
    /* replaced first: a machine for its pod is launched, the node is
     * cordoned, and nothing is evicted until the replacement is Ready */
    const hoist_nodeclaim *const *claims;
    assert_int_equal(hoist_pipeline_claims(f->p, &claims), 2);
    const hoist_nodeclaim *repl = claims[0] == old ? claims[1] : claims[0];
    assert_int_equal(st->replacements, 1);
    assert_true(old->replacing);
    assert_true(repl->reserved);
    assert_int_equal(f->log.n_evict, 0);
    bool tainted = false;
    for (size_t i = 0; i < f->log.n_taint; i++)
        tainted |= strcmp(f->log.taint[i], "+ip-10-0-0-1 hoist.dev/disrupted") == 0;
    assert_true(tainted);
    run_to(f, 3720000);
    assert_int_equal(f->log.n_evict, 0); /* still booting */
    register_node(f, repl, "ip-10-0-0-2", true);
    run_to(f, 3730000);
    assert_int_equal(old->state, HOIST_CLAIM_DRAINING);
    assert_false(repl->reserved);
    assert_string_equal(f->log.evict[0], "default/a");
    assert_int_equal(st->terminations, 0);
    delete_pod(f, "a");                       /* the eviction went through, and */
    bind_pod(f, "a-2", "500m", "ip-10-0-0-2"); /* its ReplicaSet's new pod runs there */
    run_to(f, 3740000);
    assert_int_equal(st->terminations, 1);
    assert_string_equal(f->log.deleted[0], "ip-10-0-0-1");
}

/* A malformed object is skipped and counted; the rest goes on. */
static void test_bad_object_skipped(void **state)
{
    fixture *f = *state;
    start(f);
    event(f, HOIST_OBJECT_ADD, NODEPOOL);
    event(f, HOIST_OBJECT_ADD,
          "{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"bad\"}, "
          "\"spec\": {\"containers\": [{\"name\": \"c\", \"resources\": {\"requests\": {\"cpu\": "
          "\"lots\"}}}]}}");
    add_pod(f, "good", "500m", 0);
    run_to(f, 1000);
    const hoist_pipeline_stats *st = hoist_pipeline_stats_get(f->p);
    assert_int_equal(st->events_rejected, 1);
    assert_non_null(strstr(fake_host_log(f->fh), "bad"));
    assert_int_equal(st->launches, 1);
    assert_int_equal(only_claim(f)->n_pods, 1);
}

/* A pod no NodePool can take is reported through the sink, not launched for. */
static void test_unschedulable_reported(void **state)
{
    fixture *f = *state;
    start(f);
    event(f, HOIST_OBJECT_ADD, NODEPOOL);
    add_pod(f, "huge", "64", 0);
    run_to(f, 1000);
    assert_int_equal(hoist_pipeline_stats_get(f->p)->launches, 0);
    assert_int_equal(f->log.n_unschedulable, 1);
    assert_string_equal(f->log.unschedulable[0], "default/huge");
}

/* A headroom policy buys spare capacity with no pod pending, and the empty
 * machine it bought is not consolidated away. */
static void test_headroom_buys_and_keeps_spare(void **state)
{
    fixture *f = *state;
    hoist_err err = {{0}};
    f->policy = hoist_policy_load(src_path("tests/data/pipeline/headroom-one-cpu.lua"), NULL,
                                  &err);
    if (!f->policy)
        fail_msg("%s", err.msg);
    start(f);
    event(f, HOIST_OBJECT_ADD, NODEPOOL);
    run_to(f, 11000); /* the first consolidate tick also checks headroom */
    const hoist_pipeline_stats *st = hoist_pipeline_stats_get(f->p);
    assert_int_equal(st->launches, 1);
    assert_true(st->headroom_placeholders >= 1);
    const hoist_nodeclaim *c = only_claim(f);
    assert_int_equal(c->n_pods, 0);
    register_node(f, c, "ip-10-0-0-9", true);
    run_to(f, 300000);
    assert_int_equal(st->launches, 1);      /* the spare is there: nothing more */
    assert_int_equal(st->terminations, 0);  /* and it is not removed as empty */
}

/* The shipped policies/headroom.lua (10 % of a NodePool's CPU and memory)
 * on a NodePool whose only node is 95 % requested: a spare machine is
 * bought; without the policy, nothing is. */
static void existing_busy_node(fixture *f)
{
    event(f, HOIST_OBJECT_ADD,
          "{\"apiVersion\": \"v1\", \"kind\": \"Node\", \"metadata\": {\"name\": \"busy\", "
          "\"creationTimestamp\": \"2023-11-14T22:13:20Z\", \"labels\": {"
          "\"hoist.dev/nodepool\": \"general\", \"node.kubernetes.io/instance-type\": "
          "\"a.large\", \"topology.kubernetes.io/zone\": \"us-east-1a\", "
          "\"hoist.dev/capacity-type\": \"on-demand\", \"kubernetes.io/arch\": \"amd64\"}}, "
          "\"spec\": {\"providerID\": \"aws:///us-east-1a/i-busy\"}, \"status\": "
          "{\"allocatable\": {\"cpu\": \"2\", \"memory\": \"8Gi\", \"pods\": \"29\"}, "
          "\"conditions\": [{\"type\": \"Ready\", \"status\": \"True\"}]}}");
    bind_pod(f, "web", "1900m", "busy");
}

static void test_shipped_headroom_policy(void **state)
{
    fixture *f = *state;
    start(f);
    event(f, HOIST_OBJECT_ADD, NODEPOOL);
    existing_busy_node(f);
    run_to(f, 60000);
    assert_int_equal(hoist_pipeline_stats_get(f->p)->launches, 0);
    hoist_err err = {{0}};
    f->policy = hoist_policy_load(src_path("policies/headroom.lua"), NULL, &err);
    if (!f->policy)
        fail_msg("%s", err.msg);
    hoist_pipeline_set_policy(f->p, f->policy);
    run_to(f, 80000);
    const hoist_pipeline_stats *st = hoist_pipeline_stats_get(f->p);
    assert_int_equal(st->launches, 1);
    assert_int_equal(only_claim(f)->n_pods, 0);
    assert_int_equal(st->policy_errors, 0);
}

/* A policy whose hook fails: the C default decides (the machine is still
 * bought), the failure is counted in the stats and in the metric
 * hoist_policy_errors_total{policy=...}. */
static void test_failing_policy_counted(void **state)
{
    fixture *f = *state;
    hoist_err err = {{0}};
    f->policy = hoist_policy_load(src_path("tests/data/plan/failing-policy.lua"), NULL, &err);
    if (!f->policy)
        fail_msg("%s", err.msg);
    start(f);
    event(f, HOIST_OBJECT_ADD, NODEPOOL);
    add_pod(f, "a", "500m", 0);
    run_to(f, 1000);
    const hoist_pipeline_stats *st = hoist_pipeline_stats_get(f->p);
    assert_int_equal(st->launches, 1);
    assert_string_equal(only_claim(f)->instance_type, "a.large");
    assert_true(st->policy_errors > 0);
    hoist_kv label = {"policy", hoist_policy_name(f->policy)};
    double v = 0;
    assert_int_equal(hoist_metrics_get(f->metrics, "hoist_policy_errors_total", &label, 1, &v), 0);
    assert_true(v == (double)st->policy_errors);
    assert_int_equal(hoist_metrics_get(f->metrics, "hoist_machines_launched_total",
                                       &(hoist_kv){"nodepool", "general"}, 1, &v),
                     0);
    assert_true(v == 1);
}

/* A spot interruption notice from the provider: the node is cordoned with
 * the disrupted taint and its pods are evicted at once (well inside the
 * 2-minute notice); the machine goes once it is empty. */
static void test_interruption_drains(void **state)
{
    fixture *f = *state;
    start(f);
    event(f, HOIST_OBJECT_ADD, NODEPOOL);
    add_pod(f, "a", "500m", 0);
    run_to(f, 1000);
    const hoist_nodeclaim *c = only_claim(f);
    assert_int_equal(c->capacity_type, HOIST_CAPACITY_SPOT);
    register_node(f, c, "ip-10-0-0-1", true);
    bind_pod(f, "a", "500m", "ip-10-0-0-1");
    run_to(f, 5000);
    assert_int_equal(f->log.n_evict, 0);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "{\"op\": \"interrupt\", \"instance_id\": \"%s\"}",
             c->instance_id);
    hoist_error err = {0};
    assert_int_equal(f->mock->control(f->mock_state, cmd, &err), HOIST_OK);
    run_to(f, 5001);
    const hoist_pipeline_stats *st = hoist_pipeline_stats_get(f->p);
    assert_int_equal(st->interruptions, 1);
    assert_int_equal(c->state, HOIST_CLAIM_DRAINING);
    assert_int_equal(f->log.n_evict, 1);
    assert_string_equal(f->log.evict[0], "default/a");
    bool tainted = false;
    for (size_t i = 0; i < f->log.n_taint; i++)
        tainted |= strcmp(f->log.taint[i], "+ip-10-0-0-1 hoist.dev/disrupted") == 0;
    assert_true(tainted);
    /* the replacement was launched with the notice, before any eviction
     * was answered */
    assert_int_equal(st->launches, 2);
    /* evicted, the pod is pending again (its controller recreates it): it
     * goes to that machine; nothing more is bought */
    char buf[512];
    snprintf(buf, sizeof buf,
             "{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"a\", "
             "\"namespace\": \"default\"}, \"spec\": {\"containers\": [{\"name\": \"c\", "
             "\"resources\": {\"requests\": {\"cpu\": \"500m\", \"memory\": \"1Gi\"}}}]}}");
    event(f, HOIST_OBJECT_UPDATE, buf);
    run_to(f, 7000);
    assert_int_equal(st->launches, 2);
    assert_int_equal(st->terminations, 1); /* the drained one */
    assert_non_null(nominated(f, "a"));
}

/* terminationGracePeriod: an expired node whose pod a PodDisruptionBudget
 * holds (every eviction refused) is terminated once the period is over. */
static void test_termination_grace_period(void **state)
{
    fixture *f = *state;
    f->log.evict_answer = 1; /* refused, as a PDB would */
    start(f);
    event(f, HOIST_OBJECT_ADD,
          "{\"apiVersion\": \"hoist.dev/v1\", \"kind\": \"NodePool\", \"metadata\": {\"name\": "
          "\"general\"}, \"spec\": {\"template\": {\"spec\": {\"expireAfter\": \"10m\", "
          "\"terminationGracePeriod\": \"2m\", \"requirements\": [{\"key\": "
          "\"kubernetes.io/arch\", \"operator\": \"In\", \"values\": [\"amd64\"]}]}}}}");
    add_pod(f, "a", "500m", 0);
    run_to(f, 1000);
    register_node(f, only_claim(f), "ip-10-0-0-1", true);
    bind_pod(f, "a", "500m", "ip-10-0-0-1");
    /* expired at 10 minutes: the drain starts between 600 and 620 s */
    run_to(f, 620000);
    const hoist_pipeline_stats *st = hoist_pipeline_stats_get(f->p);
    assert_int_equal(st->disruptions[HOIST_DISRUPT_EXPIRED], 1);
    assert_true(f->log.n_evict >= 1);
    assert_int_equal(st->terminations, 0); /* the pod is held */
    run_to(f, 700000);
    assert_int_equal(st->terminations, 0); /* within the 2 minutes */
    run_to(f, 760000);
    assert_int_equal(st->terminations, 1);
    double v = 0;
    assert_int_equal(hoist_metrics_get(f->metrics, "hoist_grace_period_terminations_total",
                                       NULL, 0, &v), 0);
    assert_true(v == 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pending_pods_launch_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_registration_moves_nominations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_insufficient_capacity_requeues, setup, teardown),
        cmocka_unit_test_setup_teardown(test_registration_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_launch_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_termination_grace_period, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_node_consolidated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_policy_closes_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recycle_drains_then_terminates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_object_skipped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unschedulable_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(test_headroom_buys_and_keeps_spare, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shipped_headroom_policy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failing_policy_counted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_interruption_drains, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
