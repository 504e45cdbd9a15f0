/*
 * test_launch.c - the launch stage (pipeline/launch.h) and the
 * insufficient-capacity cache (pipeline/unavailable.h), driven against the
 * mock provider linked in directly, on the virtual-time fake host, with the
 * small catalog tests/data/launch/catalog.json (explicit offerings).
 *
 * The mock keeps tags but not labels or taints, so the provider the stage
 * sees is the mock's descriptor with launch() wrapped by a recorder that
 * copies the request, checks it, then hands it to the mock.
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
#include "pipeline/launch.h"
#include "policy/launch_hook.h"
#include "pipeline/unavailable.h"

#define T0 1700000000000ull /* virtual start time, ms */
#define TTL HOIST_UNAVAILABLE_TTL_MS

/* ---- the recording provider ---- */

#define MAXN 16
typedef struct recorded {
    int calls;
    uint32_t req_size;
    uint32_t off_size[MAXN];
    char claim[64], cluster[64], nodepool[64];
    size_t n_off;
    char off_type[MAXN][32], off_zone[MAXN][32];
    hoist_capacity_type off_ct[MAXN];
    double off_price[MAXN];
    hoist_alloc_strategy spot, on_demand;
    size_t n_tags, n_labels, n_taints;
    char tag_k[MAXN][64], tag_v[MAXN][64];
    char label_k[MAXN][64], label_v[MAXN][64];
    char taint_k[MAXN][64], taint_v[MAXN][64];
    hoist_taint_effect taint_e[MAXN];
} recorded;

typedef struct recorder {
    const hoist_provider *mock;
    void *inner;
    recorded last;
} recorder;

static void copy_str(char *dst, size_t n, const char *s)
{
    assert_non_null(s);
    assert_true(strlen(s) < n);
    memcpy(dst, s, strlen(s) + 1);
}

static hoist_status rec_launch(void *state, const hoist_launch_request *req, hoist_launch_cb cb,
                               void *arg, hoist_error *err)
{
    recorder *r = state;
    recorded *x = &r->last;
    int calls = x->calls;
    memset(x, 0, sizeof *x);
    x->calls = calls + 1;
    x->req_size = req->struct_size;
    copy_str(x->claim, sizeof x->claim, req->claim);
    copy_str(x->cluster, sizeof x->cluster, req->cluster);
    copy_str(x->nodepool, sizeof x->nodepool, req->nodepool);
    assert_true(req->n_offerings <= MAXN && req->n_tags <= MAXN && req->n_labels <= MAXN &&
                req->n_taints <= MAXN);
    x->n_off = req->n_offerings;
    for (size_t i = 0; i < req->n_offerings; i++) {
        const hoist_launch_offering *o = HOIST_NTH(req->offerings, i);
        x->off_size[i] = o->struct_size;
        copy_str(x->off_type[i], sizeof x->off_type[i], o->instance_type);
        copy_str(x->off_zone[i], sizeof x->off_zone[i], o->zone);
        x->off_ct[i] = o->capacity_type;
        x->off_price[i] = o->price;
    }
    x->spot = req->spot_strategy;
    x->on_demand = req->on_demand_strategy;
    x->n_tags = req->n_tags;
    for (size_t i = 0; i < req->n_tags; i++) {
        copy_str(x->tag_k[i], 64, req->tags[i].key);
        copy_str(x->tag_v[i], 64, req->tags[i].value);
    }
    x->n_labels = req->n_labels;
    for (size_t i = 0; i < req->n_labels; i++) {
        copy_str(x->label_k[i], 64, req->labels[i].key);
        copy_str(x->label_v[i], 64, req->labels[i].value);
    }
    x->n_taints = req->n_taints;
    for (size_t i = 0; i < req->n_taints; i++) {
        copy_str(x->taint_k[i], 64, req->taints[i].key);
        copy_str(x->taint_v[i], 64, req->taints[i].value);
        x->taint_e[i] = req->taints[i].effect;
    }
    return r->mock->launch(r->inner, req, cb, arg, err);
}

/* ---- fixture: mock + recorder + cache + a hand-built claim ---- */

typedef struct fixture {
    fake_host *fh;
    hoist_provider prov;       /* the mock's descriptor with launch wrapped */
    recorder rec;
    hoist_unavailable cache;
    hoist_launch_ctx ctx;
    /* the claim */
    hoist_offering offer[3];
    hoist_instance_type type[2];
    hoist_plan_offering poff[3];
    hoist_taint np_taint[1], np_startup[2], claim_taint[1];
    hoist_kv claim_label[2];
    hoist_nodepool np;
    hoist_plan_claim claim;
} fixture;

static const char *src_path(const char *rel)
{
    static char buf[1024];
    const char *s = getenv("HOIST_SRCDIR");
    snprintf(buf, sizeof buf, "%s/%s", s && *s ? s : ".", rel);
    return buf;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->fh = fake_host_new(T0);
    const hoist_provider *mock = hoist_provider_entry(HOIST_PROVIDER_ABI_VERSION);
    assert_non_null(mock);
    char cfg[1200];
    snprintf(cfg, sizeof cfg, "{\"catalog\": \"%s\", \"zones\": [\"us-east-1a\", \"us-east-1b\"]}",
             src_path("tests/data/launch/catalog.json"));
    hoist_error err = {0};
    if (mock->init(fake_host_api(f->fh), cfg, &f->rec.inner, &err) != HOIST_OK)
        fail_msg("mock init: %s", err.message);
    f->rec.mock = mock;
    f->prov = *mock;
    f->prov.launch = rec_launch;
    hoist_unavailable_init(&f->cache);
    f->ctx.provider = &f->prov;
    f->ctx.state = &f->rec;
    f->ctx.host = fake_host_api(f->fh);
    f->ctx.cluster = "prod";
    f->ctx.unavailable = &f->cache;

    /* a.large us-east-1a 0.10, a.large us-east-1b 0.11, b.large us-east-1a 0.12:
     * on-demand, cheapest first, as the planner sends them. */
    const char *zones[3] = {"us-east-1a", "us-east-1b", "us-east-1a"};
    const double prices[3] = {0.10, 0.11, 0.12};
    for (int i = 0; i < 3; i++)
        f->offer[i] = (hoist_offering){.struct_size = sizeof(hoist_offering), .zone = zones[i],
                                       .capacity_type = HOIST_CAPACITY_ON_DEMAND,
                                       .price = prices[i], .available = true};
    f->type[0] = (hoist_instance_type){.struct_size = sizeof(hoist_instance_type),
                                       .name = "a.large", .offerings = f->offer, .n_offerings = 2};
    f->type[1] = (hoist_instance_type){.struct_size = sizeof(hoist_instance_type),
                                       .name = "b.large", .offerings = &f->offer[2],
                                       .n_offerings = 1};
    for (int i = 0; i < 3; i++)
        f->poff[i] = (hoist_plan_offering){.type = &f->type[i < 2 ? 0 : 1], .offering = &f->offer[i]};

    f->np_taint[0] = (hoist_taint){"dedicated", "batch", HOIST_TAINT_NO_SCHEDULE};
    f->np_startup[0] = (hoist_taint){"node.cilium.io/agent-not-ready", "true",
                                     HOIST_TAINT_NO_EXECUTE};
    f->np_startup[1] = (hoist_taint){"dedicated", "other", HOIST_TAINT_NO_SCHEDULE}; /* dup key+effect */
    f->np.name = "general";
    f->np.taints = (hoist_taints){1, f->np_taint};
    f->np.startup_taints = (hoist_taints){2, f->np_startup};
    f->claim_taint[0] = f->np_taint[0];
    f->claim_label[0] = (hoist_kv){"hoist.dev/nodepool", "general"};
    f->claim_label[1] = (hoist_kv){"team", "data"};

    f->claim.nodepool = &f->np;
    f->claim.chosen = f->poff[0];
    f->claim.n_offerings = 3;
    f->claim.offerings = f->poff;
    f->claim.labels = (hoist_labels){2, f->claim_label};
    f->claim.taints = (hoist_taints){1, f->claim_taint};
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    f->rec.mock->destroy(f->rec.inner);
    hoist_unavailable_free(&f->cache);
    fake_host_free(f->fh);
    free(f);
    return 0;
}

/* ---- completion capture ---- */

typedef struct outcome {
    int calls;
    hoist_status code;
    char msg[256];
    hoist_launched *m;
} outcome;

static void on_done(void *arg, const hoist_error *err, hoist_launched *m)
{
    outcome *o = arg;
    o->calls++;
    o->code = err ? err->code : HOIST_OK;
    if (err) {
        assert_null(m);
        snprintf(o->msg, sizeof o->msg, "%s", err->message);
    }
    hoist_launched_free(o->m);
    o->m = m;
}

/* Launch claim `name` and let its 0 ms completion run; returns the start status. */
static int launch(fixture *f, const char *name, outcome *o, hoist_err *err)
{
    memset(o, 0, sizeof *o);
    int rc = hoist_launch_claim(&f->ctx, &f->claim, name, on_done, o, err);
    if (rc == HOIST_OK)
        assert_int_equal(o->calls, 0); /* never inside the call */
    fake_host_run_until(f->fh, fake_host_now(f->fh));
    return rc;
}

static void launch_ok(fixture *f, const char *name, outcome *o)
{
    hoist_err err = {{0}};
    int rc = launch(f, name, o, &err);
    if (rc != HOIST_OK)
        fail_msg("launch %s: %s", name, err.msg);
    assert_int_equal(o->calls, 1);
    if (o->code != HOIST_OK)
        fail_msg("launch %s completed with %s", name, o->msg);
    assert_non_null(o->m);
}

static void control(fixture *f, const char *cmd)
{
    hoist_error err = {0};
    if (f->rec.mock->control(f->rec.inner, cmd, &err) != HOIST_OK)
        fail_msg("control %s: %s", cmd, err.message);
}

/* Machines the mock lists with tag key=value. */
typedef struct listed {
    int calls;
    size_t n;
    char id[4][64];
} listed;

static void on_list(void *arg, const hoist_error *err, const hoist_machine *ms, size_t n)
{
    listed *l = arg;
    assert_null(err);
    l->calls++;
    l->n = n;
    for (size_t i = 0; i < n && i < 4; i++)
        snprintf(l->id[i], sizeof l->id[i], "%s", HOIST_NTH(ms, i)->instance_id);
}

static size_t list_by_tag(fixture *f, const char *key, const char *value, listed *l)
{
    hoist_kv filter = {key, value};
    hoist_error err = {0};
    memset(l, 0, sizeof *l);
    assert_int_equal(f->rec.mock->list(f->rec.inner, &filter, 1, on_list, l, &err), HOIST_OK);
    fake_host_run_until(f->fh, fake_host_now(f->fh));
    assert_int_equal(l->calls, 1);
    return l->n;
}

static bool has_kv(const char k[][64], const char v[][64], size_t n, const char *key, const char *value)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(k[i], key) == 0 && strcmp(v[i], value) == 0)
            return true;
    return false;
}

/* ---- the cache ---- */

static void test_unavailable_cache(void **state)
{
    (void)state;
    hoist_unavailable u;
    hoist_unavailable_init(&u);
    assert_false(hoist_unavailable_is_unavailable(&u, "m5.large", "us-east-1a",
                                                  HOIST_CAPACITY_SPOT, T0));
    assert_int_equal(hoist_unavailable_mark(&u, "m5.large", "us-east-1a", HOIST_CAPACITY_SPOT, T0,
                                            TTL), 0);
    assert_true(hoist_unavailable_is_unavailable(&u, "m5.large", "us-east-1a",
                                                 HOIST_CAPACITY_SPOT, T0 + TTL - 1));
    assert_false(hoist_unavailable_is_unavailable(&u, "m5.large", "us-east-1a",
                                                  HOIST_CAPACITY_SPOT, T0 + TTL));
    /* the key is the whole triple */
    assert_false(hoist_unavailable_is_unavailable(&u, "m5.large", "us-east-1a",
                                                  HOIST_CAPACITY_ON_DEMAND, T0));
    assert_false(hoist_unavailable_is_unavailable(&u, "m5.large", "us-east-1b",
                                                  HOIST_CAPACITY_SPOT, T0));
    assert_false(hoist_unavailable_is_unavailable(&u, "m5.xlarge", "us-east-1a",
                                                  HOIST_CAPACITY_SPOT, T0));
    assert_int_equal(hoist_unavailable_until(&u, "m5.large", "us-east-1a", HOIST_CAPACITY_SPOT),
                     T0 + TTL);
    /* a second mark replaces the expiry */
    assert_int_equal(hoist_unavailable_mark(&u, "m5.large", "us-east-1a", HOIST_CAPACITY_SPOT,
                                            T0 + 1000, TTL), 0);
    assert_int_equal(hoist_unavailable_until(&u, "m5.large", "us-east-1a", HOIST_CAPACITY_SPOT),
                     T0 + 1000 + TTL);
    assert_int_equal(u.n, 1);

    /* a name longer than the lookup's stack buffer */
    char longname[400];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    assert_int_equal(hoist_unavailable_mark(&u, longname, "z", HOIST_CAPACITY_RESERVED, T0, 10), 0);
    assert_true(hoist_unavailable_is_unavailable(&u, longname, "z", HOIST_CAPACITY_RESERVED, T0 + 9));
    assert_int_equal(hoist_unavailable_count(&u, T0), 2);
    assert_int_equal(hoist_unavailable_count(&u, T0 + 10), 1);
    assert_int_equal(hoist_unavailable_mark(&u, NULL, "z", HOIST_CAPACITY_SPOT, T0, 10), -1);

    /* many entries force the index to grow; prune drops the expired ones */
    char name[32];
    for (int i = 0; i < 100; i++) {
        snprintf(name, sizeof name, "t%d.large", i);
        assert_int_equal(hoist_unavailable_mark(&u, name, "us-east-1c", HOIST_CAPACITY_SPOT, T0,
                                                (uint64_t)(i % 2 ? 50 : 5000)), 0);
    }
    assert_int_equal(hoist_unavailable_count(&u, T0), 102);
    assert_int_equal(hoist_unavailable_prune(&u, T0 + 50), 51); /* 50 odd ones + the long name */
    assert_int_equal(u.n, 51);
    assert_int_equal(hoist_unavailable_count(&u, T0 + 50), 51);
    assert_true(hoist_unavailable_is_unavailable(&u, "t42.large", "us-east-1c",
                                                 HOIST_CAPACITY_SPOT, T0 + 50));
    assert_int_equal(hoist_unavailable_until(&u, "t43.large", "us-east-1c", HOIST_CAPACITY_SPOT), 0);
    assert_true(hoist_unavailable_is_unavailable(&u, "m5.large", "us-east-1a",
                                                 HOIST_CAPACITY_SPOT, T0 + 50));
    /* an expired entry can be marked again */
    assert_int_equal(hoist_unavailable_mark(&u, "t43.large", "us-east-1c", HOIST_CAPACITY_SPOT,
                                            T0 + 60, 1), 0);
    assert_true(hoist_unavailable_is_unavailable(&u, "t43.large", "us-east-1c",
                                                 HOIST_CAPACITY_SPOT, T0 + 60));
    assert_int_equal(hoist_unavailable_prune(&u, UINT64_MAX), 52);
    assert_int_equal(hoist_unavailable_count(&u, 0), 0);
    /* a TTL past the end of time saturates */
    assert_int_equal(hoist_unavailable_mark(&u, "a", "b", HOIST_CAPACITY_SPOT, UINT64_MAX - 5, TTL), 0);
    assert_int_equal(hoist_unavailable_until(&u, "a", "b", HOIST_CAPACITY_SPOT), UINT64_MAX);
    hoist_unavailable_free(&u);
    assert_int_equal(u.n, 0);
}

/* ---- launch ---- */

static void test_launch_request(void **state)
{
    fixture *f = *state;
    outcome o;
    launch_ok(f, "general-abc12", &o);
    const recorded *x = &f->rec.last;
    assert_int_equal(x->calls, 1);
    assert_int_equal(x->req_size, sizeof(hoist_launch_request));
    assert_string_equal(x->claim, "general-abc12");
    assert_string_equal(x->cluster, "prod");
    assert_string_equal(x->nodepool, "general");
    /* the claim's offerings, in its order, each with struct_size */
    assert_int_equal(x->n_off, 3);
    const char *want_t[3] = {"a.large", "a.large", "b.large"};
    const char *want_z[3] = {"us-east-1a", "us-east-1b", "us-east-1a"};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(x->off_size[i], sizeof(hoist_launch_offering));
        assert_string_equal(x->off_type[i], want_t[i]);
        assert_string_equal(x->off_zone[i], want_z[i]);
        assert_int_equal(x->off_ct[i], HOIST_CAPACITY_ON_DEMAND);
    }
    assert_true(x->off_price[1] == 0.11);
    assert_int_equal(x->spot, HOIST_ALLOC_PRICE_CAPACITY_OPTIMIZED);
    assert_int_equal(x->on_demand, HOIST_ALLOC_LOWEST_PRICE);
    /* tags: exactly the three hoist.dev ones */
    assert_int_equal(x->n_tags, 3);
    assert_true(has_kv(x->tag_k, x->tag_v, 3, HOIST_TAG_CLUSTER, "prod"));
    assert_true(has_kv(x->tag_k, x->tag_v, 3, HOIST_TAG_NODEPOOL, "general"));
    assert_true(has_kv(x->tag_k, x->tag_v, 3, HOIST_TAG_CLAIM,
                       "general-abc12"));
    /* labels: the claim's, then the NodePool template hash (drift) */
    assert_int_equal(x->n_labels, 3);
    assert_string_equal(x->label_k[2], "hoist.dev/nodepool-hash");
    assert_int_equal(strlen(x->label_v[2]), 16);
    assert_string_equal(x->label_k[0], "hoist.dev/nodepool");
    assert_string_equal(x->label_k[1], "team");
    assert_string_equal(x->label_v[1], "data");
    /* taints: NodePool taint, startup taint (its duplicate key+effect dropped), registration */
    assert_int_equal(x->n_taints, 3);
    assert_string_equal(x->taint_k[0], "dedicated");
    assert_string_equal(x->taint_v[0], "batch");
    assert_int_equal(x->taint_e[0], HOIST_TAINT_NO_SCHEDULE);
    assert_string_equal(x->taint_k[1], "node.cilium.io/agent-not-ready");
    assert_int_equal(x->taint_e[1], HOIST_TAINT_NO_EXECUTE);
    assert_string_equal(x->taint_k[2], HOIST_TAINT_UNREGISTERED);
    assert_string_equal(x->taint_v[2], "");
    assert_int_equal(x->taint_e[2], HOIST_TAINT_NO_EXECUTE);

    /* the result: the cheapest on-demand offering */
    assert_string_equal(o.m->claim, "general-abc12");
    assert_string_equal(o.m->instance_type, "a.large");
    assert_string_equal(o.m->zone, "us-east-1a");
    assert_int_equal(o.m->capacity_type, HOIST_CAPACITY_ON_DEMAND);
    assert_true(o.m->price == 0.10);
    assert_int_equal(o.m->launch_time_ms, T0);
    assert_true(strncmp(o.m->instance_id, "i-0", 3) == 0);
    char pid[128];
    snprintf(pid, sizeof pid, "aws:///us-east-1a/%s", o.m->instance_id);
    assert_string_equal(o.m->provider_id, pid);
    assert_int_equal(hoist_unavailable_count(&f->cache, T0), 0);

    /* the machine carries the tags */
    listed l;
    assert_int_equal(list_by_tag(f, HOIST_TAG_CLAIM, "general-abc12", &l), 1);
    assert_string_equal(l.id[0], o.m->instance_id);
    assert_int_equal(list_by_tag(f, HOIST_TAG_CLUSTER, "prod", &l), 1);
    assert_int_equal(list_by_tag(f, HOIST_TAG_NODEPOOL, "general", &l), 1);
    assert_int_equal(list_by_tag(f, HOIST_TAG_CLUSTER, "staging", &l), 0);
    hoist_launched_free(o.m);
}

static void test_ice_marks_for_ttl(void **state)
{
    fixture *f = *state;
    f->ctx.prioritized = true; /* take the first available offering */
    control(f, "{\"op\": \"ice\", \"instance_type\": \"a.large\", \"zone\": \"us-east-1a\", "
               "\"capacity_type\": \"on-demand\"}");
    outcome o;
    launch_ok(f, "c1", &o);
    assert_int_equal(f->rec.last.n_off, 3);
    assert_int_equal(f->rec.last.on_demand, HOIST_ALLOC_PRIORITIZED);
    assert_int_equal(f->rec.last.spot, HOIST_ALLOC_PRIORITIZED);
    /* the mock fell back to the next offering */
    assert_string_equal(o.m->instance_type, "a.large");
    assert_string_equal(o.m->zone, "us-east-1b");
    /* and the exhausted one is cached for exactly 180 s */
    assert_int_equal(hoist_unavailable_count(&f->cache, T0), 1);
    assert_int_equal(hoist_unavailable_until(&f->cache, "a.large", "us-east-1a",
                                             HOIST_CAPACITY_ON_DEMAND), T0 + 180000);

    /* capacity is back in the cloud, but the cache still skips it */
    hoist_launched_free(o.m);
    control(f, "{\"op\": \"clear_ice\"}");
    fake_host_run_until(f->fh, T0 + 180000 - 1);
    launch_ok(f, "c2", &o);
    assert_int_equal(f->rec.last.n_off, 2);
    assert_string_equal(f->rec.last.off_zone[0], "us-east-1b");
    assert_string_equal(f->rec.last.off_type[1], "b.large");
    assert_string_equal(o.m->zone, "us-east-1b");

    hoist_launched_free(o.m);
    /* at expiry it is offered again, first, and taken */
    fake_host_run_until(f->fh, T0 + 180000);
    launch_ok(f, "c3", &o);
    assert_int_equal(f->rec.last.n_off, 3);
    assert_string_equal(f->rec.last.off_zone[0], "us-east-1a");
    assert_string_equal(f->rec.last.off_type[0], "a.large");
    assert_string_equal(o.m->zone, "us-east-1a");
    assert_int_equal(f->rec.last.calls, 3);
    hoist_launched_free(o.m);
}

static void test_ice_ttl_configurable(void **state)
{
    fixture *f = *state;
    f->ctx.ice_ttl_ms = 5000;
    control(f, "{\"op\": \"ice\", \"instance_type\": \"b.large\"}");
    outcome o;
    launch_ok(f, "c1", &o);
    /* LOWEST_PRICE takes a.large 1a; the mock examined every on-demand
     * offering and reports b.large as exhausted: cached for the ctx's TTL. */
    assert_string_equal(o.m->zone, "us-east-1a");
    assert_int_equal(hoist_unavailable_until(&f->cache, "b.large", "us-east-1a",
                                             HOIST_CAPACITY_ON_DEMAND), T0 + 5000);
    hoist_launched_free(o.m);
}

static void test_all_cached_fails_at_once(void **state)
{
    fixture *f = *state;
    for (int i = 0; i < 3; i++)
        assert_int_equal(hoist_unavailable_mark(&f->cache, f->poff[i].type->name,
                                                f->offer[i].zone, HOIST_CAPACITY_ON_DEMAND, T0,
                                                TTL), 0);
    outcome o;
    hoist_err err = {{0}};
    assert_int_equal(launch(f, "c1", &o, &err), HOIST_E_INSUFFICIENT_CAPACITY);
    assert_int_equal(f->rec.last.calls, 0); /* the provider was not asked */
    assert_int_equal(o.calls, 0);           /* nor is done called */
    assert_non_null(strstr(err.msg, "launch c1: insufficient capacity"));
    assert_non_null(strstr(err.msg, "all 3 offerings"));
    /* one expired: the launch goes out with just that one */
    fake_host_run_until(f->fh, T0 + 10);
    assert_int_equal(hoist_unavailable_mark(&f->cache, "a.large", "us-east-1b",
                                            HOIST_CAPACITY_ON_DEMAND, T0, 5), 0);
    launch_ok(f, "c2", &o);
    assert_int_equal(f->rec.last.n_off, 1);
    assert_string_equal(o.m->zone, "us-east-1b");
    hoist_launched_free(o.m);
}

static void test_cloud_out_of_capacity(void **state)
{
    fixture *f = *state;
    control(f, "{\"op\": \"ice\"}");
    outcome o;
    hoist_err err = {{0}};
    assert_int_equal(launch(f, "c1", &o, &err), HOIST_OK);
    assert_int_equal(o.calls, 1);
    assert_int_equal(o.code, HOIST_E_INSUFFICIENT_CAPACITY);
    assert_null(o.m);
    assert_int_equal(hoist_unavailable_count(&f->cache, T0), 3);
    assert_true(hoist_unavailable_is_unavailable(&f->cache, "b.large", "us-east-1a",
                                                 HOIST_CAPACITY_ON_DEMAND, T0 + TTL - 1));
    /* the retry fails at once */
    assert_int_equal(launch(f, "c1", &o, &err), HOIST_E_INSUFFICIENT_CAPACITY);
    assert_int_equal(f->rec.last.calls, 1);
}

static int add_team(void *dctx, const hoist_plan_claim *claim, hoist_launch_decoration *out)
{
    int *calls = dctx;
    (*calls)++;
    assert_string_equal(claim->nodepool->name, "general");
    if (hoist_launch_decoration_add_tag(out, "cost-center", "ml-42") != 0 ||
        hoist_launch_decoration_add_label(out, "example.com/team", "ml") != 0 ||
        hoist_launch_decoration_add_taint(out, "gpu", NULL, HOIST_TAINT_NO_SCHEDULE) != 0)
        return -1;
    /* bad input is refused */
    assert_int_equal(hoist_launch_decoration_add_tag(out, "", "x"), -1);
    assert_int_equal(hoist_launch_decoration_add_label(out, "k", NULL), -1);
    assert_int_equal(hoist_launch_decoration_add_taint(out, "k", "", (hoist_taint_effect)7), -1);
    return 0;
}

static void test_decorate_adds(void **state)
{
    fixture *f = *state;
    int calls = 0;
    f->ctx.decorate = add_team;
    f->ctx.decorate_ctx = &calls;
    outcome o;
    launch_ok(f, "c1", &o);
    assert_int_equal(calls, 1);
    const recorded *x = &f->rec.last;
    assert_int_equal(x->n_tags, 4);
    assert_string_equal(x->tag_k[3], "cost-center");
    assert_string_equal(x->tag_v[3], "ml-42");
    assert_int_equal(x->n_labels, 4);
    assert_string_equal(x->label_k[2], "example.com/team");
    assert_string_equal(x->label_v[2], "ml");
    assert_int_equal(x->n_taints, 4);
    assert_string_equal(x->taint_k[3], "gpu");
    assert_string_equal(x->taint_v[3], "");
    listed l;
    assert_int_equal(list_by_tag(f, "cost-center", "ml-42", &l), 1);
    assert_string_equal(l.id[0], o.m->instance_id);
    assert_null(strstr(fake_host_log(f->fh), "decoration dropped"));
    hoist_launched_free(o.m);
}

static int add_then_fail(void *dctx, const hoist_plan_claim *claim, hoist_launch_decoration *out)
{
    (void)dctx;
    (void)claim;
    assert_int_equal(hoist_launch_decoration_add_tag(out, "cost-center", "ml-42"), 0);
    assert_int_equal(hoist_launch_decoration_add_label(out, "example.com/team", "ml"), 0);
    return -1;
}

static int override_claim_tag(void *dctx, const hoist_plan_claim *claim,
                              hoist_launch_decoration *out)
{
    (void)dctx;
    (void)claim;
    return hoist_launch_decoration_add_tag(out, HOIST_TAG_CLAIM, "stolen");
}

static int override_label(void *dctx, const hoist_plan_claim *claim, hoist_launch_decoration *out)
{
    (void)dctx;
    (void)claim;
    return hoist_launch_decoration_add_label(out, "team", "other");
}

static int twice_tag(void *dctx, const hoist_plan_claim *claim, hoist_launch_decoration *out)
{
    (void)dctx;
    (void)claim;
    if (hoist_launch_decoration_add_tag(out, "a", "1") != 0)
        return -1;
    return hoist_launch_decoration_add_tag(out, "a", "2");
}

static void expect_defaults(fixture *f, const char *claim, const char *why)
{
    outcome o;
    fake_host_log_clear(f->fh);
    launch_ok(f, claim, &o);
    const recorded *x = &f->rec.last;
    assert_int_equal(x->n_tags, 3);
    assert_int_equal(x->n_labels, 3);
    assert_string_equal(x->label_v[1], "data");
    assert_int_equal(x->n_taints, 3);
    for (size_t i = 0; i < x->n_tags; i++)
        if (strcmp(x->tag_k[i], HOIST_TAG_CLAIM) == 0)
            assert_string_equal(x->tag_v[i], claim);
    const char *log = fake_host_log(f->fh);
    assert_non_null(strstr(log, "decoration dropped, defaults used"));
    assert_non_null(strstr(log, why));
    hoist_launched_free(o.m);
}

/* The Lua adapter (policy/launch_hook): decorate_launch's tags, labels and
 * taints reach the provider; a bad result keeps hoist's defaults. */
static void test_lua_decorate(void **state)
{
    fixture *f = *state;
    char path[4096];
    const char *src = getenv("HOIST_SRCDIR");
    snprintf(path, sizeof path, "%s/tests/data/launch/decorate.lua", src && *src ? src : "..");
    hoist_policy_limits limits = hoist_policy_limits_default();
    hoist_err err = {{0}};
    hoist_policy *p = hoist_policy_load(path, &limits, &err);
    if (!p)
        fail_msg("%s", err.msg);
    hoist_policy_launch pl;
    hoist_policy_launch_init(&pl, p);
    hoist_policy_launch_attach(&pl, &f->ctx);
    assert_true(f->ctx.decorate == hoist_policy_launch_decorate);
    outcome o;
    launch_ok(f, "c1", &o);
    assert_int_equal(pl.calls, 1);
    assert_int_equal(pl.errors, 0);
    const recorded *x = &f->rec.last;
    assert_int_equal(x->n_tags, 5);
    bool cost = false, pool = false;
    for (size_t i = 0; i < x->n_tags; i++) {
        cost = cost || (!strcmp(x->tag_k[i], "cost-center") && !strcmp(x->tag_v[i], "ml-42"));
        pool = pool || (!strcmp(x->tag_k[i], "pool") && !strcmp(x->tag_v[i], "general"));
    }
    assert_true(cost && pool);
    assert_int_equal(x->n_labels, 4);
    assert_string_equal(x->label_k[2], "example.com/team");
    assert_int_equal(x->n_taints, 4);
    assert_string_equal(x->taint_k[3], "gpu");
    hoist_launched_free(o.m);
    hoist_policy_free(p);

    snprintf(path, sizeof path, "%s/tests/data/launch/decorate-bad.lua", src && *src ? src : "..");
    p = hoist_policy_load(path, &limits, &err);
    if (!p)
        fail_msg("%s", err.msg);
    hoist_policy_launch_init(&pl, p);
    hoist_policy_launch_attach(&pl, &f->ctx);
    expect_defaults(f, "c2", "the decorate hook failed");
    assert_int_equal(pl.errors, 1);
    assert_non_null(strstr(pl.last_error.msg, "decorate-bad.lua: decorate_launch: each taint"));
    hoist_policy_free(p);
    f->ctx.decorate = NULL;
}

static void test_decorate_failure_keeps_defaults(void **state)
{
    fixture *f = *state;
    f->ctx.decorate = add_then_fail;
    expect_defaults(f, "c1", "the decorate hook failed");
    f->ctx.decorate = override_claim_tag;
    expect_defaults(f, "c2", "tag would replace a hoist.dev tag hoist.dev/claim");
    f->ctx.decorate = override_label;
    expect_defaults(f, "c3", "label would replace a label of the claim team");
    f->ctx.decorate = twice_tag;
    expect_defaults(f, "c4", "tag given twice a");
    listed l;
    assert_int_equal(list_by_tag(f, "cost-center", "ml-42", &l), 0);
}

static void test_bad_input(void **state)
{
    fixture *f = *state;
    outcome o;
    hoist_err err = {{0}};
    assert_int_equal(launch(f, "", &o, &err), HOIST_E_INVALID);
    assert_non_null(strstr(err.msg, "claim name"));
    f->claim.nodepool = NULL;
    assert_int_equal(launch(f, "c1", &o, &err), HOIST_E_INVALID);
    assert_non_null(strstr(err.msg, "launch c1: the claim has no NodePool"));
    f->claim.nodepool = &f->np;
    const char *cluster = f->ctx.cluster;
    f->ctx.cluster = "";
    assert_int_equal(launch(f, "c1", &o, &err), HOIST_E_INVALID);
    assert_non_null(strstr(err.msg, "cluster"));
    f->ctx.cluster = cluster;
    /* the provider refuses (an offering its catalog lacks): its code and message come back */
    f->type[1].name = "zz.nope";
    f->claim.n_offerings = 1;
    f->claim.offerings = &f->poff[2];
    assert_int_equal(launch(f, "c1", &o, &err), HOIST_E_INVALID);
    assert_int_equal(o.calls, 0);
    assert_int_equal(f->rec.last.calls, 1);
    assert_non_null(strstr(err.msg, "launch c1: launch c1: no requested offering exists"));
    /* a claim without launch offerings sends its chosen offering */
    f->claim.n_offerings = 0;
    f->claim.offerings = NULL;
    launch_ok(f, "c2", &o);
    assert_int_equal(f->rec.last.n_off, 1);
    assert_string_equal(f->rec.last.off_type[0], "a.large");
    hoist_launched_free(o.m);
}

/* Spot first, on-demand when spot is out: only the spot offerings are cached. */
static void test_spot_falls_back_to_on_demand(void **state)
{
    fixture *f = *state;
    f->offer[0] = (hoist_offering){.struct_size = sizeof(hoist_offering), .zone = "us-east-1a",
                                   .capacity_type = HOIST_CAPACITY_SPOT, .price = 0.040};
    f->offer[1] = (hoist_offering){.struct_size = sizeof(hoist_offering), .zone = "us-east-1b",
                                   .capacity_type = HOIST_CAPACITY_SPOT, .price = 0.042};
    f->offer[2] = (hoist_offering){.struct_size = sizeof(hoist_offering), .zone = "us-east-1a",
                                   .capacity_type = HOIST_CAPACITY_ON_DEMAND, .price = 0.10};
    f->poff[2].type = &f->type[0]; /* a.large on-demand */
    outcome o;
    launch_ok(f, "s1", &o);
    assert_int_equal(f->rec.last.spot, HOIST_ALLOC_PRICE_CAPACITY_OPTIMIZED);
    assert_int_equal(o.m->capacity_type, HOIST_CAPACITY_SPOT);
    assert_string_equal(o.m->zone, "us-east-1b"); /* the deeper pool within the price band */
    hoist_launched_free(o.m);

    control(f, "{\"op\": \"ice\", \"capacity_type\": \"spot\"}");
    launch_ok(f, "s2", &o);
    assert_int_equal(o.m->capacity_type, HOIST_CAPACITY_ON_DEMAND);
    assert_string_equal(o.m->instance_type, "a.large");
    assert_int_equal(hoist_unavailable_count(&f->cache, T0), 2);
    assert_true(hoist_unavailable_is_unavailable(&f->cache, "a.large", "us-east-1a",
                                                 HOIST_CAPACITY_SPOT, T0));
    assert_true(hoist_unavailable_is_unavailable(&f->cache, "a.large", "us-east-1b",
                                                 HOIST_CAPACITY_SPOT, T0));
    assert_false(hoist_unavailable_is_unavailable(&f->cache, "a.large", "us-east-1a",
                                                  HOIST_CAPACITY_ON_DEMAND, T0));
    hoist_launched_free(o.m);
    /* the next launch sends only the on-demand offering */
    launch_ok(f, "s3", &o);
    assert_int_equal(f->rec.last.n_off, 1);
    assert_int_equal(f->rec.last.off_ct[0], HOIST_CAPACITY_ON_DEMAND);
    hoist_launched_free(o.m);
}

static void test_idempotent_claim(void **state)
{
    fixture *f = *state;
    outcome a, b;
    launch_ok(f, "same", &a);
    launch_ok(f, "same", &b);
    assert_string_equal(a.m->instance_id, b.m->instance_id);
    listed l;
    assert_int_equal(list_by_tag(f, HOIST_TAG_CLAIM, "same", &l), 1);
    hoist_launched_free(a.m);
    hoist_launched_free(b.m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unavailable_cache),
        cmocka_unit_test_setup_teardown(test_launch_request, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ice_marks_for_ttl, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ice_ttl_configurable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_all_cached_fails_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cloud_out_of_capacity, setup, teardown),
        cmocka_unit_test_setup_teardown(test_decorate_adds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_decorate_failure_keeps_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lua_decorate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_spot_falls_back_to_on_demand, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idempotent_claim, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
