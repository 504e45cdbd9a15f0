/*
 * test_pipeline_adopt.c - restart adoption (hoist_pipeline_reconcile and
 * hoist_pipeline_adopt): a second pipeline over the same mock cloud takes
 * over what the first one launched.
 *
 * "Killing" the first pipeline: it is simply never stepped or fed again (a
 * killed process makes no more calls either); it stays allocated until the
 * teardown so the mock's pending completions have somewhere to land and
 * AddressSanitizer sees no leak. Everything runs on the fake host's virtual
 * clock, with the mock provider linked in and tests/data/launch/catalog.json
 * (a.large: 2 vCPU, 8 GiB, spot from $0.040).
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

#define T0 1700000000000ull

#define MAXREC 32
typedef struct sink_log {
    size_t n_nominated, n_taint;
    char nominated[MAXREC][128]; /* "ns/name>node" */
    char taint[MAXREC][160];     /* "+node key" / "-node key" */
} sink_log;

static void s_nominated(void *ctx, const char *ns, const char *name, const char *node)
{
    sink_log *s = ctx;
    if (s->n_nominated < MAXREC)
        snprintf(s->nominated[s->n_nominated++], 128, "%s/%s>%s", ns, name, node);
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

typedef struct fixture {
    fake_host *fh;
    const hoist_provider *mock;
    hoist_provider no_list;     /* the mock without list(), for the error test */
    void *mock_state;
    hoist_catalog catalog;
    sink_log log_a, log_b;
    hoist_sink sink_a, sink_b;
    hoist_pipeline *a, *b;      /* the first run (killed) and the restarted one */
} fixture;

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
    assert_null(err);
    hoist_err e = {{0}};
    if (hoist_catalog_copy(arg, types, n, &e) < 0)
        fail_msg("%s", e.msg);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->fh = fake_host_new(T0);
    f->mock = hoist_provider_entry(HOIST_PROVIDER_ABI_VERSION);
    char cfg[1200];
    /* launches take 5 s: a restart can happen while one is in flight */
    snprintf(cfg, sizeof cfg,
             "{\"catalog\": \"%s\", \"zones\": [\"us-east-1a\", \"us-east-1b\"], "
             "\"launch_latency_ms\": 5000}",
             src_path("tests/data/launch/catalog.json"));
    hoist_error err = {0};
    if (f->mock->init(fake_host_api(f->fh), cfg, &f->mock_state, &err) != HOIST_OK)
        fail_msg("mock init: %s", err.message);
    hoist_catalog_init(&f->catalog);
    assert_int_equal(f->mock->catalog(f->mock_state, on_catalog, &f->catalog, &err), HOIST_OK);
    fake_host_run_until(f->fh, T0);
    assert_true(f->catalog.n > 0);
    f->sink_a = (hoist_sink){&f->log_a, s_nominated, NULL, s_taint, NULL, NULL};
    f->sink_b = (hoist_sink){&f->log_b, s_nominated, NULL, s_taint, NULL, NULL};
    f->no_list = *f->mock;
    f->no_list.list = NULL;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    fake_host_run_all(f->fh, 1000);
    f->mock->destroy(f->mock_state);
    hoist_pipeline_free(f->a);
    hoist_pipeline_free(f->b);
    hoist_catalog_free(&f->catalog);
    fake_host_free(f->fh);
    free(f);
    return 0;
}

static hoist_pipeline *new_pipeline(fixture *f, const hoist_provider *prov, hoist_sink *sink,
                                    const char *run_id, uint64_t registration_timeout_ms)
{
    hoist_pipeline_env env;
    memset(&env, 0, sizeof env);
    env.host = fake_host_api(f->fh);
    env.provider = prov;
    env.provider_state = f->mock_state;
    env.sink = sink;
    env.catalog = &f->catalog;
    hoist_pipeline_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.cluster = "test";
    cfg.run_id = run_id;
    cfg.registration_timeout_ms = registration_timeout_ms;
    cfg.no_consolidation = true;
    hoist_err err = {{0}};
    hoist_pipeline *p = hoist_pipeline_new(&env, &cfg, NULL, &err);
    if (!p)
        fail_msg("%s", err.msg);
    return p;
}

/* Step p at every wake time up to T0 + ms, firing provider timers on the way. */
static void run_to(fixture *f, hoist_pipeline *p, uint64_t ms)
{
    uint64_t until = T0 + ms;
    for (int guard = 0;; guard++) {
        assert_true(guard < 100000);
        uint64_t wake;
        hoist_err err = {{0}};
        if (hoist_pipeline_step(p, &wake, &err) < 0)
            fail_msg("step: %s", err.msg);
        uint64_t now = fake_host_now(f->fh), timer = fake_host_next_due(f->fh);
        uint64_t next = wake < timer ? wake : timer;
        if (next > until)
            break;
        if (next <= now && timer > now)
            next = now + 1;
        fake_host_run_until(f->fh, next);
    }
    fake_host_run_until(f->fh, until);
    hoist_err err = {{0}};
    if (hoist_pipeline_step(p, NULL, &err) < 0)
        fail_msg("step: %s", err.msg);
}

static void event(hoist_pipeline *p, hoist_object_op op, const char *json_text)
{
    json_error_t je;
    json_t *obj = json_loads(json_text, 0, &je);
    if (!obj)
        fail_msg("bad test JSON: %s: %s", je.text, json_text);
    hoist_object_event ev = {.op = op, .object = obj};
    hoist_pipeline_observe(p, &ev);
    json_decref(obj);
}

static const char NODEPOOL[] =
    "{\"apiVersion\": \"hoist.dev/v1\", \"kind\": \"NodePool\", \"metadata\": {\"name\": "
    "\"general\"}, \"spec\": {\"template\": {\"metadata\": {\"labels\": {\"team\": \"web\"}}, "
    "\"spec\": {\"requirements\": [{\"key\": \"kubernetes.io/arch\", \"operator\": \"In\", "
    "\"values\": [\"amd64\"]}, {\"key\": \"hoist.dev/capacity-type\", \"operator\": \"In\", "
    "\"values\": [\"spot\"]}]}}}}";

static void add_pod(hoist_pipeline *p, const char *name, const char *cpu, const char *node)
{
    char buf[600];
    snprintf(buf, sizeof buf,
             "{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"%s\", "
             "\"namespace\": \"default\"}, \"spec\": {%s%s%s\"containers\": [{\"name\": \"c\", "
             "\"resources\": {\"requests\": {\"cpu\": \"%s\", \"memory\": \"1Gi\"}}}]}%s}",
             name, node ? "\"nodeName\": \"" : "", node ? node : "", node ? "\", " : "", cpu,
             node ? ", \"status\": {\"phase\": \"Running\"}" : "");
    event(p, HOIST_OBJECT_ADD, buf);
}

/* The Node machine `provider_id` registers as. */
static void add_node(hoist_pipeline *p, const char *name, const char *provider_id, bool ready,
                     bool unregistered_taint)
{
    char buf[1400];
    snprintf(buf, sizeof buf,
             "{\"apiVersion\": \"v1\", \"kind\": \"Node\", \"metadata\": {\"name\": \"%s\", "
             "\"labels\": {\"hoist.dev/nodepool\": \"general\", "
             "\"node.kubernetes.io/instance-type\": \"a.large\", \"kubernetes.io/arch\": "
             "\"amd64\", \"kubernetes.io/os\": \"linux\"}}, \"spec\": {\"providerID\": \"%s\"%s}, "
             "\"status\": {\"allocatable\": {\"cpu\": \"1930m\", \"memory\": \"7Gi\", \"pods\": "
             "\"29\"}, \"conditions\": [{\"type\": \"Ready\", \"status\": \"%s\"}]}}",
             name, provider_id,
             unregistered_taint ? ", \"taints\": [{\"key\": \"hoist.dev/unregistered\", "
                                  "\"effect\": \"NoExecute\"}]"
                                : "",
             ready ? "True" : "False");
    event(p, HOIST_OBJECT_UPDATE, buf);
}

/* The world both runs see: the NodePool and three pending pods that need
 * one a.large (3 x 500m). */
static void feed_world(hoist_pipeline *p)
{
    event(p, HOIST_OBJECT_ADD, NODEPOOL);
    add_pod(p, "a", "500m", NULL);
    add_pod(p, "b", "500m", NULL);
    add_pod(p, "c", "500m", NULL);
}

/* The machines the mock holds (not terminated), after the list completes. */
typedef struct listing {
    size_t n;
    char ids[8][32];
    char claims[8][64];
    hoist_machine_state state[8];
    int done;
} listing;

static void on_list(void *arg, const hoist_error *err, const hoist_machine *m, size_t n)
{
    listing *l = arg;
    assert_null(err);
    l->n = n;
    for (size_t i = 0; i < n && i < 8; i++) {
        const hoist_machine *x = HOIST_NTH(m, i);
        snprintf(l->ids[i], sizeof l->ids[i], "%s", x->instance_id);
        l->state[i] = x->state;
        for (size_t k = 0; k < x->n_tags; k++)
            if (strcmp(x->tags[k].key, HOIST_TAG_CLAIM) == 0)
                snprintf(l->claims[i], sizeof l->claims[i], "%s", x->tags[k].value);
    }
    l->done = 1;
}

static listing machines(fixture *f)
{
    listing l;
    memset(&l, 0, sizeof l);
    hoist_error err = {0};
    hoist_kv filter = {HOIST_TAG_CLUSTER, "test"};
    assert_int_equal(f->mock->list(f->mock_state, &filter, 1, on_list, &l, &err), HOIST_OK);
    fake_host_run_until(f->fh, fake_host_now(f->fh));
    assert_int_equal(l.done, 1);
    return l;
}

typedef struct reconciled {
    int calls;
    bool failed;
    hoist_pipeline_adoption a;
} reconciled;

static void on_reconciled(void *arg, const hoist_error *err, const hoist_pipeline_adoption *a)
{
    reconciled *r = arg;
    r->calls++;
    r->failed = err != NULL;
    r->a = *a;
}

static reconciled reconcile(fixture *f, hoist_pipeline *p)
{
    reconciled r;
    memset(&r, 0, sizeof r);
    hoist_err err = {{0}};
    if (hoist_pipeline_reconcile(p, on_reconciled, &r, &err) < 0)
        fail_msg("reconcile: %s", err.msg);
    assert_true(hoist_pipeline_reconciling(p));
    assert_int_equal(hoist_pipeline_in_flight(p), 1);
    fake_host_run_until(f->fh, fake_host_now(f->fh));
    assert_int_equal(r.calls, 1);
    assert_false(r.failed);
    assert_false(hoist_pipeline_reconciling(p));
    return r;
}

/* ---- tests ---- */

/* Killed while the launch is in flight; the new run adopts the pending
 * machine, nominates the same pods to it, and launches nothing. When the
 * machine's Node registers, the new run's claim takes it. */
static void test_restart_mid_launch_launches_once(void **state)
{
    fixture *f = *state;
    f->a = new_pipeline(f, f->mock, &f->sink_a, "a", 0);
    feed_world(f->a);
    run_to(f, f->a, 1000);
    assert_int_equal(hoist_pipeline_stats_get(f->a)->launches, 1);
    assert_int_equal(hoist_pipeline_in_flight(f->a), 1); /* 5 s launch latency */
    listing l = machines(f);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.claims[0], "general-a-1");
    assert_int_equal(l.state[0], HOIST_MACHINE_PENDING);

    /* kill -9: a is never stepped again. b starts over the same cloud. */
    fake_host_advance(f->fh, 500);
    f->b = new_pipeline(f, f->mock, &f->sink_b, "b", 0);
    feed_world(f->b);
    reconciled r = reconcile(f, f->b);
    assert_int_equal(r.a.listed, 1);
    assert_int_equal(r.a.in_flight, 1);
    assert_int_equal(r.a.registered, 0);
    assert_int_equal(r.a.orphans, 0);
    const hoist_nodeclaim *c = hoist_pipeline_find_claim(f->b, "general-a-1");
    assert_non_null(c);
    assert_int_equal(c->state, HOIST_CLAIM_LAUNCHED);
    assert_string_equal(c->instance_id, l.ids[0]);
    assert_int_equal(c->launched_ms, T0 + 1000); /* the machine's own launch time */
    /* its synthetic node carries the NodePool's labels */
    hoist_objects *o = hoist_cluster_objects(hoist_pipeline_cluster(f->b));
    const hoist_node *n = hoist_objects_find_node(o, "general-a-1");
    assert_non_null(n);
    assert_string_equal(hoist_labels_get(&n->labels, "team"), "web");
    assert_ptr_equal(hoist_pipeline_claim_of_node(f->b, "general-a-1"), c);

    run_to(f, f->b, 3000);
    const hoist_pipeline_stats *st = hoist_pipeline_stats_get(f->b);
    assert_int_equal(st->decisions, 1);
    assert_int_equal(st->launches, 0);
    assert_int_equal(st->adopted, 1);
    assert_int_equal(f->log_b.n_nominated, 3);
    assert_string_equal(hoist_cluster_nominated(hoist_pipeline_cluster(f->b), "default", "b"),
                        "general-a-1");

    /* the launch completes at the mock (the dead run's callback is ignored),
     * the Node registers: b's claim takes it */
    run_to(f, f->b, 7000);
    l = machines(f);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.state[0], HOIST_MACHINE_RUNNING);
    char pid[200];
    snprintf(pid, sizeof pid, "%s", c->provider_id);
    add_node(f->b, "ip-10-0-0-1", pid, true, true);
    c = hoist_pipeline_find_claim(f->b, "general-a-1");
    assert_int_equal(c->state, HOIST_CLAIM_READY);
    assert_string_equal(c->node, "ip-10-0-0-1");
    assert_ptr_equal(hoist_pipeline_claim_of_node(f->b, "ip-10-0-0-1"), c);
    assert_string_equal(hoist_cluster_nominated(hoist_pipeline_cluster(f->b), "default", "a"),
                        "ip-10-0-0-1");
    run_to(f, f->b, 20000);
    assert_int_equal(hoist_pipeline_stats_get(f->b)->launches, 0);
    assert_int_equal(machines(f).n, 1); /* nothing launched twice, nothing leaked */
}

/* A machine of the dead run that never registered within the registration
 * timeout is an orphan: terminated at adoption, and the pods get a new one. */
static void test_orphan_terminated(void **state)
{
    fixture *f = *state;
    f->a = new_pipeline(f, f->mock, &f->sink_a, "a", 60000);
    feed_world(f->a);
    run_to(f, f->a, 1000);
    assert_int_equal(machines(f).n, 1);

    fake_host_advance(f->fh, 61000); /* down for a minute */
    f->b = new_pipeline(f, f->mock, &f->sink_b, "b", 60000);
    feed_world(f->b);
    reconciled r = reconcile(f, f->b);
    assert_int_equal(r.a.orphans, 1);
    assert_int_equal(r.a.in_flight, 0);
    assert_int_equal(hoist_pipeline_stats_get(f->b)->orphans, 1);
    run_to(f, f->b, 64000);
    listing l = machines(f);
    /* the orphan is gone; one new machine for the pods */
    assert_int_equal(l.n, 1);
    assert_string_equal(l.claims[0], "general-b-2"); /* number 1 was taken (general-a-1) */
    assert_int_equal(hoist_pipeline_stats_get(f->b)->launches, 1);
    assert_null(hoist_pipeline_find_claim(f->b, "general-a-1"));
}

/* A registered machine is adopted with its Node: its leftover registration
 * taint is removed, its pods are not pending, and later launches skip its
 * claim number (no run id: names "<nodepool>-<n>" would otherwise repeat,
 * and the provider would answer a new launch with the old machine). */
static void test_adopt_registered_and_skip_its_number(void **state)
{
    fixture *f = *state;
    f->a = new_pipeline(f, f->mock, &f->sink_a, NULL, 0);
    feed_world(f->a);
    run_to(f, f->a, 7000);
    const hoist_nodeclaim *ca = hoist_pipeline_find_claim(f->a, "general-1");
    assert_non_null(ca);
    assert_int_equal(ca->state, HOIST_CLAIM_LAUNCHED);
    char pid[200];
    snprintf(pid, sizeof pid, "%s", ca->provider_id);

    f->b = new_pipeline(f, f->mock, &f->sink_b, NULL, 0);
    event(f->b, HOIST_OBJECT_ADD, NODEPOOL);
    add_node(f->b, "ip-10-0-0-9", pid, true, true);
    add_pod(f->b, "a", "500m", "ip-10-0-0-9");
    add_pod(f->b, "b", "500m", "ip-10-0-0-9");
    reconciled r = reconcile(f, f->b);
    assert_int_equal(r.a.registered, 1);
    const hoist_nodeclaim *c = hoist_pipeline_find_claim(f->b, "general-1");
    assert_non_null(c);
    assert_int_equal(c->state, HOIST_CLAIM_READY);
    assert_string_equal(c->node, "ip-10-0-0-9");
    assert_int_equal(f->log_b.n_taint, 1);
    assert_string_equal(f->log_b.taint[0], "-ip-10-0-0-9 hoist.dev/unregistered");

    /* a pod that does not fit next to them: a second machine, a new name */
    add_pod(f->b, "big", "1800m", NULL);
    run_to(f, f->b, 12000);
    assert_int_equal(hoist_pipeline_stats_get(f->b)->launches, 1);
    assert_non_null(hoist_pipeline_find_claim(f->b, "general-2"));
    listing l = machines(f);
    assert_int_equal(l.n, 2);
    assert_string_not_equal(l.ids[0], l.ids[1]);
}

/* Hand-made listings: machines shutting down or without an id are skipped,
 * a machine without a claim tag gets a name of its own, a second adoption
 * of the same machines changes nothing. */
static void test_adopt_edge_cases(void **state)
{
    fixture *f = *state;
    f->b = new_pipeline(f, f->mock, &f->sink_b, "b", 0);
    event(f->b, HOIST_OBJECT_ADD, NODEPOOL);
    hoist_kv tags_ok[] = {{HOIST_TAG_CLUSTER, "test"}, {HOIST_TAG_NODEPOOL, "general"},
                          {HOIST_TAG_CLAIM, "general-x-7"}};
    hoist_kv tags_bare[] = {{HOIST_TAG_CLUSTER, "test"}};
    hoist_machine m[4];
    memset(m, 0, sizeof m);
    for (int i = 0; i < 4; i++) {
        m[i].struct_size = sizeof m[i];
        m[i].instance_type = "a.large";
        m[i].zone = "us-east-1a";
        m[i].capacity_type = HOIST_CAPACITY_SPOT;
        m[i].state = HOIST_MACHINE_RUNNING;
        m[i].launch_time_ms = T0;
    }
    m[0].instance_id = "i-1", m[0].provider_id = "aws:///us-east-1a/i-1";
    m[0].tags = tags_ok, m[0].n_tags = 3;
    m[1].instance_id = "i-2", m[1].provider_id = "aws:///us-east-1a/i-2";
    m[1].tags = tags_bare, m[1].n_tags = 1;
    m[2].instance_id = "i-3", m[2].state = HOIST_MACHINE_SHUTTING_DOWN;
    m[3].instance_id = NULL;
    hoist_pipeline_adoption a;
    hoist_err err = {{0}};
    assert_int_equal(hoist_pipeline_adopt(f->b, m, 4, &a, &err), 0);
    assert_int_equal(a.listed, 4);
    assert_int_equal(a.in_flight, 2);
    assert_int_equal(a.skipped, 2);
    assert_non_null(hoist_pipeline_find_claim(f->b, "general-x-7"));
    const hoist_nodeclaim *bare = hoist_pipeline_find_claim(f->b, "adopted-i-2");
    assert_non_null(bare);
    assert_string_equal(bare->nodepool, "unknown");
    assert_int_equal(hoist_pipeline_adopt(f->b, m, 4, &a, &err), 0);
    assert_int_equal(a.in_flight, 0);
    assert_int_equal(a.skipped, 4);
    const hoist_nodeclaim *const *claims;
    assert_int_equal(hoist_pipeline_claims(f->b, &claims), 2);
}

/* A provider without list() cannot be reconciled: the error names it. */
static void test_reconcile_without_list(void **state)
{
    fixture *f = *state;
    f->b = new_pipeline(f, &f->no_list, &f->sink_b, "b", 0);
    hoist_err err = {{0}};
    assert_int_equal(hoist_pipeline_reconcile(f->b, on_reconciled, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "mock cannot list"));
    assert_false(hoist_pipeline_reconciling(f->b));
    assert_int_equal(hoist_pipeline_in_flight(f->b), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_restart_mid_launch_launches_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_orphan_terminated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_adopt_registered_and_skip_its_number, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_adopt_edge_cases, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reconcile_without_list, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
