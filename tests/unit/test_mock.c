/*
 * test_mock.c - the mock provider plugin, driven through its descriptor on a
 * virtual-time fake host (and once through dlopen of the built mock.so).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <hoist/provider.h>

#include "fake_host.h"
#include "../../plugins/mock/mock_catalog.h"

#define T0 1700000000000ull /* virtual start time, ms */

static const hoist_provider *P(void)
{
    const hoist_provider *p = hoist_provider_entry(HOIST_PROVIDER_ABI_VERSION);
    assert_non_null(p);
    return p;
}

static const char *srcdir(void)
{
    const char *s = getenv("HOIST_SRCDIR");
    return s && *s ? s : ".";
}

/* Path of a file under the source tree, in a static rotating buffer. */
static const char *src_path(const char *rel)
{
    static char bufs[4][1024];
    static int next;
    char *b = bufs[next++ % 4];
    snprintf(b, sizeof bufs[0], "%s/%s", srcdir(), rel);
    return b;
}

/* A provider instance on a fresh fake host. */
typedef struct fixture {
    fake_host *fh;
    void *st;
} fixture;

static hoist_status open_mock(fixture *fx, const char *config, hoist_error *err)
{
    fx->fh = fake_host_new(T0);
    fx->st = NULL;
    return P()->init(fake_host_api(fx->fh), config, &fx->st, err);
}

static void open_ok(fixture *fx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void open_ok(fixture *fx, const char *fmt, ...)
{
    char cfg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cfg, sizeof cfg, fmt, ap);
    va_end(ap);
    hoist_error err = {0};
    hoist_status s = open_mock(fx, cfg, &err);
    if (s != HOIST_OK)
        fail_msg("init failed: %s", err.message);
}

static void close_mock(fixture *fx)
{
    if (fx->st)
        P()->destroy(fx->st);
    assert_int_equal(fake_host_pending(fx->fh), 0);
    fake_host_free(fx->fh);
}

static void small(fixture *fx)
{
    open_ok(fx, "{\"catalog\": \"%s\", \"seed\": 7}", src_path("tests/data/mock/small.json"));
}

static void over(fixture *fx, const char *extra)
{
    open_ok(fx, "{\"catalog\": \"%s\"%s}", src_path("tests/data/mock/override.json"), extra);
}

static void control_ok(fixture *fx, const char *cmd)
{
    hoist_error err = {0};
    if (P()->control(fx->st, cmd, &err) != HOIST_OK)
        fail_msg("control %s: %s", cmd, err.message);
}

/* ---- catalog capture ---- */

typedef struct cat_result {
    int calls;
    hoist_status code;
    size_t n;
    /* a few copied facts */
    double m5_large_od[8];
    size_t m5_large_n_od;
    double spot[64];          /* spot prices of the first type with spot offers, by index */
    char spot_type[64];
    size_t n_spot;
    hoist_instance_type found; /* copy of the type named in `want` (pointers valid until next op) */
    const char *want;
    hoist_offering found_offers[16];
    size_t n_found_offers;
    bool has_want;
    bool has_null_priced;
    bool all_spot_below_od;
} cat_result;

static void on_catalog(void *arg, const hoist_error *err, const hoist_instance_type *types,
                       size_t n)
{
    cat_result *r = arg;
    r->calls++;
    r->code = err ? err->code : HOIST_OK;
    r->n = n;
    r->all_spot_below_od = true;
    for (size_t i = 0; i < n; i++) {
        const hoist_instance_type *t = &types[i];
        double od = -1;
        for (size_t k = 0; k < t->n_offerings; k++)
            if (t->offerings[k].capacity_type == HOIST_CAPACITY_ON_DEMAND)
                od = t->offerings[k].price;
        for (size_t k = 0; k < t->n_offerings; k++) {
            const hoist_offering *o = &t->offerings[k];
            if (o->capacity_type == HOIST_CAPACITY_SPOT && od >= 0 && !(o->price < od))
                r->all_spot_below_od = false;
        }
        if (strcmp(t->name, "m5.large") == 0) {
            for (size_t k = 0; k < t->n_offerings && r->m5_large_n_od < 8; k++)
                if (t->offerings[k].capacity_type == HOIST_CAPACITY_ON_DEMAND)
                    r->m5_large_od[r->m5_large_n_od++] = t->offerings[k].price;
        }
        if (r->n_spot == 0)
            for (size_t k = 0; k < t->n_offerings && r->n_spot < 64; k++)
                if (t->offerings[k].capacity_type == HOIST_CAPACITY_SPOT) {
                    snprintf(r->spot_type, sizeof r->spot_type, "%s", t->name);
                    r->spot[r->n_spot++] = t->offerings[k].price;
                }
        if (strcmp(t->name, "hpc6a.48xlarge") == 0 || strcmp(t->name, "dl2q.24xlarge") == 0)
            r->has_null_priced = true;
        if (r->want && strcmp(t->name, r->want) == 0) {
            r->has_want = true;
            r->found = *t;
            r->n_found_offers = t->n_offerings < 16 ? t->n_offerings : 16;
            memcpy(r->found_offers, t->offerings, r->n_found_offers * sizeof *t->offerings);
        }
    }
}

static void get_catalog(fixture *fx, cat_result *r)
{
    hoist_error err = {0};
    int before = r->calls;
    assert_int_equal(P()->catalog(fx->st, on_catalog, r, &err), HOIST_OK);
    assert_int_equal(r->calls, before); /* never synchronously */
    fake_host_advance(fx->fh, 0);
    assert_int_equal(r->calls, before + 1);
}

/* ---- launch capture ---- */

typedef struct launch_result {
    int calls;
    hoist_status code;
    char message[256];
    bool has_machine;
    char id[32], provider_id[160], type[64], zone[64];
    hoist_capacity_type ct;
    double price;
    hoist_machine_state state;
    uint64_t at_ms;
    size_t n_exhausted;
    char exhausted[16][96];
    fake_host *fh;
} launch_result;

static void on_launch(void *arg, const hoist_error *err, const hoist_machine *m,
                      const hoist_launch_offering *ex, size_t n_ex)
{
    launch_result *r = arg;
    r->calls++;
    r->code = err ? err->code : HOIST_OK;
    if (err)
        snprintf(r->message, sizeof r->message, "%s", err->message);
    r->has_machine = m != NULL;
    if (m) {
        snprintf(r->id, sizeof r->id, "%s", m->instance_id);
        snprintf(r->provider_id, sizeof r->provider_id, "%s", m->provider_id);
        snprintf(r->type, sizeof r->type, "%s", m->instance_type);
        snprintf(r->zone, sizeof r->zone, "%s", m->zone);
        r->ct = m->capacity_type;
        r->price = m->price;
        r->state = m->state;
    }
    r->n_exhausted = n_ex;
    for (size_t i = 0; i < n_ex && i < 16; i++)
        snprintf(r->exhausted[i], sizeof r->exhausted[i], "%s %s %s", ex[i].instance_type,
                 ex[i].zone, mock_capacity_name(ex[i].capacity_type));
    if (r->fh)
        r->at_ms = fake_host_now(r->fh);
}

static bool exhausted_has(const launch_result *r, const char *what)
{
    for (size_t i = 0; i < r->n_exhausted && i < 16; i++)
        if (strcmp(r->exhausted[i], what) == 0)
            return true;
    return false;
}

typedef struct req_builder {
    hoist_launch_offering offs[32];
    size_t n;
    hoist_kv tags[3];
    char claim[64], nodepool[64];
    hoist_launch_request req;
} req_builder;

static void req_init(req_builder *b, const char *claim, const char *nodepool)
{
    memset(b, 0, sizeof *b);
    snprintf(b->claim, sizeof b->claim, "%s", claim);
    snprintf(b->nodepool, sizeof b->nodepool, "%s", nodepool);
    b->tags[0] = (hoist_kv){HOIST_TAG_CLUSTER, "test"};
    b->tags[1] = (hoist_kv){HOIST_TAG_NODEPOOL, b->nodepool};
    b->tags[2] = (hoist_kv){HOIST_TAG_CLAIM, b->claim};
    b->req.struct_size = sizeof b->req;
    b->req.claim = b->claim;
    b->req.cluster = "test";
    b->req.nodepool = b->nodepool;
    b->req.offerings = b->offs;
    b->req.spot_strategy = HOIST_ALLOC_PRICE_CAPACITY_OPTIMIZED;
    b->req.on_demand_strategy = HOIST_ALLOC_LOWEST_PRICE;
    b->req.tags = b->tags;
    b->req.n_tags = 3;
}

static void req_add(req_builder *b, const char *type, const char *zone, hoist_capacity_type ct)
{
    assert_true(b->n < 32);
    b->offs[b->n++] = (hoist_launch_offering){sizeof(hoist_launch_offering), type, zone, ct, 0.0};
    b->req.n_offerings = b->n;
}

static const char *const ZONES[6] = {"us-east-1a", "us-east-1b", "us-east-1c",
                                     "us-east-1d", "us-east-1e", "us-east-1f"};

static void req_add_all_zones(req_builder *b, const char *type, hoist_capacity_type ct)
{
    for (int z = 0; z < 6; z++)
        req_add(b, type, ZONES[z], ct);
}

/* Launch and run the host until the callback came (or `run_ms` passed). */
static void launch(fixture *fx, req_builder *b, launch_result *r)
{
    hoist_error err = {0};
    memset(r, 0, sizeof *r);
    r->fh = fx->fh;
    hoist_status s = P()->launch(fx->st, &b->req, on_launch, r, &err);
    if (s != HOIST_OK)
        fail_msg("launch: %s", err.message);
    assert_int_equal(r->calls, 0);
}

static void launch_now(fixture *fx, req_builder *b, launch_result *r)
{
    launch(fx, b, r);
    fake_host_advance(fx->fh, 0);
    assert_int_equal(r->calls, 1);
}

/* ---- list / terminate / events capture ---- */

typedef struct list_result {
    int calls;
    size_t n;
    char ids[16][32];
    hoist_machine_state states[16];
} list_result;

static void on_list(void *arg, const hoist_error *err, const hoist_machine *ms, size_t n)
{
    list_result *r = arg;
    assert_null(err);
    r->calls++;
    r->n = n;
    for (size_t i = 0; i < n && i < 16; i++) {
        snprintf(r->ids[i], sizeof r->ids[i], "%s", ms[i].instance_id);
        r->states[i] = ms[i].state;
    }
}

static size_t list_by(fixture *fx, const hoist_kv *filter, size_t n, list_result *r)
{
    hoist_error err = {0};
    memset(r, 0, sizeof *r);
    assert_int_equal(P()->list(fx->st, filter, n, on_list, r, &err), HOIST_OK);
    assert_int_equal(r->calls, 0);
    fake_host_advance(fx->fh, 0);
    assert_int_equal(r->calls, 1);
    return r->n;
}

typedef struct done_result {
    int calls;
    hoist_status code;
    char message[256];
} done_result;

static void on_done(void *arg, const hoist_error *err)
{
    done_result *r = arg;
    r->calls++;
    r->code = err ? err->code : HOIST_OK;
    if (err)
        snprintf(r->message, sizeof r->message, "%s", err->message);
}

typedef struct event_log {
    int n;
    hoist_event_kind kinds[32];
    char ids[32][32];
    uint64_t deadlines[32];
    uint64_t at[32];
    hoist_machine_state states[32];
    fake_host *fh;
} event_log;

static void on_event(void *arg, const hoist_event *ev)
{
    event_log *l = arg;
    if (l->n >= 32)
        return;
    l->kinds[l->n] = ev->kind;
    snprintf(l->ids[l->n], sizeof l->ids[0], "%s", ev->instance_id);
    l->deadlines[l->n] = ev->deadline_ms;
    l->states[l->n] = ev->state;
    l->at[l->n] = fake_host_now(l->fh);
    l->n++;
}

/* ================= tests ================= */

static void test_descriptor(void **state)
{
    (void)state;
    const hoist_provider *p = P();
    assert_int_equal(p->abi_version, HOIST_PROVIDER_ABI_VERSION);
    assert_int_equal(p->size, sizeof(hoist_provider));
    assert_string_equal(p->name, "mock");
    assert_int_equal(p->capabilities, HOIST_CAP_ON_DEMAND | HOIST_CAP_SPOT | HOIST_CAP_EVENTS |
                                          HOIST_CAP_CONTROL);
    assert_non_null(p->watch_events);
    assert_non_null(p->control);
    assert_null(hoist_provider_entry((HOIST_PROVIDER_ABI_MAJOR + 1u) << 16));
}

/* m5.large's on-demand price read straight from the catalog file. */
static double file_price(const char *path, const char *type)
{
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    assert_non_null(root);
    double price = -1;
    size_t i;
    json_t *t;
    json_array_foreach(root, i, t) {
        if (strcmp(json_string_value(json_object_get(t, "instance_type")), type) == 0)
            price = json_real_value(
                json_object_get(json_object_get(t, "pricing"), "on_demand_usd_per_hour"));
    }
    json_decref(root);
    return price;
}

/* Types in the catalog file with an on-demand price. */
static size_t file_priced_types(const char *path)
{
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    assert_non_null(root);
    size_t n = 0, i;
    json_t *t;
    json_array_foreach(root, i, t) {
        json_t *od = json_object_get(json_object_get(t, "pricing"), "on_demand_usd_per_hour");
        n += od && json_is_number(od);
    }
    json_decref(root);
    return n;
}

static void test_bundled_catalog(void **state)
{
    (void)state;
    fixture fx;
    const char *path = src_path("contrib/catalog/us-east-1.json");
    open_ok(&fx, "{\"catalog\": \"%s\"}", path);
    cat_result r = {0};
    r.want = "g4dn.xlarge";
    get_catalog(&fx, &r);
    assert_int_equal(r.code, HOIST_OK);
    assert_true(r.n > 1000);
    assert_int_equal(r.n, file_priced_types(path)); /* null-priced types are left out */
    assert_false(r.has_null_priced);
    double od = file_price(path, "m5.large");
    assert_true(od > 0);
    assert_int_equal(r.m5_large_n_od, 6);
    for (size_t i = 0; i < 6; i++)
        assert_true(r.m5_large_od[i] == od);
    assert_true(r.all_spot_below_od);
    assert_true(r.has_want);
    assert_int_equal(r.found.gpu.count, 1);
    assert_string_equal(r.found.gpu.name, "t4");
    assert_string_equal(r.found.gpu.manufacturer, "nvidia");
    assert_int_equal(r.found.local_nvme_gb, 125);
    assert_int_equal(r.found.n_offerings, 12);
    close_mock(&fx);
}

static void test_small_catalog_fields(void **state)
{
    (void)state;
    fixture fx;
    small(&fx);
    cat_result r = {0};
    r.want = "m5.large";
    get_catalog(&fx, &r);
    assert_int_equal(r.n, 6); /* hpc6a.48xlarge has no price and no offerings */
    assert_false(r.has_null_priced);
    const hoist_instance_type *t = &r.found;
    assert_string_equal(t->family, "m5");
    assert_string_equal(t->size, "large");
    assert_string_equal(t->category, "m");
    assert_int_equal(t->generation, 5);
    assert_string_equal(t->architecture, "amd64");
    assert_string_equal(t->hypervisor, "nitro");
    assert_int_equal(t->vcpus, 2);
    assert_int_equal(t->memory_mib, 8192);
    assert_int_equal(t->max_pods, 29);
    assert_int_equal(t->network_bandwidth_mbps, 750);
    assert_int_equal(t->gpu.count, 0);
    assert_int_equal(t->n_offerings, 12);
    size_t spot = 0;
    for (size_t i = 0; i < r.n_found_offers; i++) {
        assert_true(r.found_offers[i].available);
        spot += r.found_offers[i].capacity_type == HOIST_CAPACITY_SPOT;
    }
    assert_int_equal(spot, 6);

    /* derived fields: c5.large has no category/generation and null usage classes */
    cat_result c = {0};
    c.want = "c5.large";
    get_catalog(&fx, &c);
    assert_string_equal(c.found.category, "c");
    assert_int_equal(c.found.generation, 5);
    assert_string_equal(c.found.cpu_manufacturer, "intel");
    assert_int_equal(c.found.n_offerings, 12); /* null usage classes = on-demand and spot */

    cat_result n = {0};
    n.want = "t2.nano";
    get_catalog(&fx, &n);
    assert_int_equal(n.found.n_offerings, 6); /* on-demand only */
    assert_true(n.found.burstable);           /* derived from category t */

    cat_result inf = {0};
    inf.want = "inf2.xlarge";
    get_catalog(&fx, &inf);
    assert_int_equal(inf.found.n_extended, 1);
    assert_string_equal(inf.found.extended[0].name, "aws.amazon.com/neuron");
    assert_int_equal(inf.found.extended[0].amount, 1000);
    close_mock(&fx);
}

static void test_spot_deterministic(void **state)
{
    (void)state;
    fixture a, b, c;
    const char *path = src_path("contrib/catalog/us-east-1.json");
    open_ok(&a, "{\"catalog\": \"%s\", \"seed\": 1}", path);
    open_ok(&b, "{\"catalog\": \"%s\", \"seed\": 1}", path);
    open_ok(&c, "{\"catalog\": \"%s\", \"seed\": 2}", path);
    cat_result ra = {0}, rb = {0}, rc = {0};
    ra.want = rb.want = rc.want = "m5.large";
    get_catalog(&a, &ra);
    get_catalog(&b, &rb);
    get_catalog(&c, &rc);
    assert_true(ra.n_spot > 1);
    assert_int_equal(ra.n_spot, rb.n_spot);
    assert_memory_equal(ra.spot, rb.spot, ra.n_spot * sizeof ra.spot[0]);
    bool seed_differs = false;
    for (size_t i = 0; i < ra.n_spot; i++)
        seed_differs = seed_differs || ra.spot[i] != rc.spot[i];
    assert_true(seed_differs);
    /* m5.large spot offers: below on-demand, zones differ, within the model's band */
    double od = ra.found_offers[0].price, lo = 1e9, hi = 0;
    size_t n = 0;
    for (size_t i = 0; i < ra.n_found_offers; i++) {
        if (ra.found_offers[i].capacity_type != HOIST_CAPACITY_SPOT)
            continue;
        double p = ra.found_offers[i].price;
        lo = p < lo ? p : lo;
        hi = p > hi ? p : hi;
        n++;
        assert_true(p < od);
        assert_true(p >= od * 0.38 * 0.92 - 0.0001);
        assert_true(p <= od * 0.62 * 1.08 + 0.0001);
    }
    assert_int_equal(n, 6);
    assert_true(hi > lo);
    close_mock(&a);
    close_mock(&b);
    close_mock(&c);
}

static void test_spot_model_functions(void **state)
{
    (void)state;
    mock_spot_params sp;
    mock_spot_params_default(&sp);
    double r1 = mock_spot_family_ratio(&sp, 42, "m5");
    assert_true(r1 >= 0.38 && r1 <= 0.62);
    assert_true(r1 == mock_spot_family_ratio(&sp, 42, "m5"));
    /* the family ratio is shared by every size of the family */
    double a = mock_spot_base_price(&sp, 42, 1.0, "m5", "m5.large", "us-east-1a");
    assert_true(a >= r1 * 0.92 - 0.0001 && a <= r1 * 1.08 + 0.0001);
    /* ratios spread over the range across families */
    double lo = 1, hi = 0;
    static const char *const fams[] = {"m5", "c5", "r5", "t3", "m6g", "c6i", "r6i", "m7i",
                                       "x2", "z1d"};
    for (size_t i = 0; i < 10; i++) {
        double r = mock_spot_family_ratio(&sp, 42, fams[i]);
        lo = r < lo ? r : lo;
        hi = r > hi ? r : hi;
    }
    assert_true(hi - lo > 0.05);
    for (int z = 0; z < 6; z++) {
        uint32_t d = mock_pool_depth(42, "m5.large", ZONES[z]);
        assert_true(d >= 1 && d <= 10);
    }
    /* zone_spread 0 makes every zone of a type equal */
    sp.zone_spread = 0;
    assert_true(mock_spot_base_price(&sp, 9, 1.0, "m5", "m5.large", "us-east-1a") ==
                mock_spot_base_price(&sp, 9, 1.0, "m5", "m5.large", "us-east-1f"));
    hoist_capacity_type ct;
    assert_int_equal(mock_capacity_parse("spot", &ct), 0);
    assert_int_equal(ct, HOIST_CAPACITY_SPOT);
    assert_int_equal(mock_capacity_parse("Spot", &ct), -1);
}

static void test_spot_drift(void **state)
{
    (void)state;
    fixture fx;
    open_ok(&fx,
            "{\"catalog\": \"%s\", \"spot\": {\"drift_amplitude\": 0.2, "
            "\"drift_period_ms\": 86400000}}",
            src_path("tests/data/mock/small.json"));
    cat_result r1 = {0}, r2 = {0};
    r1.want = r2.want = "m5.large";
    get_catalog(&fx, &r1);
    fake_host_advance(fx.fh, 6 * 3600 * 1000);
    get_catalog(&fx, &r2);
    bool spot_moved = false;
    for (size_t i = 0; i < r1.n_found_offers; i++) {
        if (r1.found_offers[i].capacity_type == HOIST_CAPACITY_SPOT)
            spot_moved = spot_moved || r1.found_offers[i].price != r2.found_offers[i].price;
        else
            assert_true(r1.found_offers[i].price == r2.found_offers[i].price);
    }
    assert_true(spot_moved);
    close_mock(&fx);
}

static void test_offerings_override(void **state)
{
    (void)state;
    fixture fx;
    over(&fx, "");
    cat_result r = {0};
    r.want = "p.large";
    get_catalog(&fx, &r);
    assert_int_equal(r.n, 3);
    assert_int_equal(r.found.n_offerings, 6);
    assert_string_equal(r.found_offers[1].zone, "us-east-1b");
    assert_true(r.found_offers[1].price == 0.053);
    assert_false(r.found_offers[3].available);
    assert_true(r.found_offers[3].price == 0.010);
    assert_true(r.found_offers[5].price == 0.095);
    cat_result q = {0};
    q.want = "q.large"; /* null price, but its own offering in a zone not configured */
    get_catalog(&fx, &q);
    assert_true(q.has_want);
    assert_int_equal(q.found.n_offerings, 1);
    assert_string_equal(q.found_offers[0].zone, "eu-west-9z");
    cat_result rr = {0};
    rr.want = "r.large"; /* modelled */
    get_catalog(&fx, &rr);
    assert_int_equal(rr.found.n_offerings, 12);
    close_mock(&fx);
}

static void expect_init_error(const char *config, const char *needle)
{
    fixture fx;
    hoist_error err = {0};
    hoist_status s = open_mock(&fx, config, &err);
    assert_int_not_equal(s, HOIST_OK);
    assert_null(fx.st);
    if (!strstr(err.message, needle))
        fail_msg("config %s: message \"%s\" lacks \"%s\"", config, err.message, needle);
    fake_host_free(fx.fh);
}

static void expect_catalog_error(const char *file, const char *needle)
{
    char cfg[1024];
    snprintf(cfg, sizeof cfg, "{\"catalog\": \"%s/tests/data/mock/%s\"}", srcdir(), file);
    expect_init_error(cfg, needle);
}

static void test_bad_config(void **state)
{
    (void)state;
    char cfg[1024];
    const char *small_path = src_path("tests/data/mock/small.json");
    expect_init_error("{\"catalog\": ", "not valid JSON");
    expect_init_error("[1, 2]", "expected a JSON object");
    snprintf(cfg, sizeof cfg, "{\"catalog\": \"%s\", \"colour\": 1}", small_path);
    expect_init_error(cfg, "unknown key \"colour\"");
    expect_init_error("{\"catalog\": 12}", "catalog");
    expect_init_error("{\"catalog\": \"/nonexistent/cat.json\"}", "/nonexistent/cat.json");
    snprintf(cfg, sizeof cfg, "{\"catalog\": \"%s\", \"zones\": \"us-east-1a\"}", small_path);
    expect_init_error(cfg, "zones");
    snprintf(cfg, sizeof cfg, "{\"catalog\": \"%s\", \"zones\": [\"a\", 3]}", small_path);
    expect_init_error(cfg, "zones[1]");
    snprintf(cfg, sizeof cfg, "{\"catalog\": \"%s\", \"zones\": [\"a\", \"a\"]}", small_path);
    expect_init_error(cfg, "duplicate");
    snprintf(cfg, sizeof cfg, "{\"catalog\": \"%s\", \"seed\": -1}", small_path);
    expect_init_error(cfg, "seed");
    snprintf(cfg, sizeof cfg, "{\"catalog\": \"%s\", \"seed\": \"x\"}", small_path);
    expect_init_error(cfg, "seed");
    snprintf(cfg, sizeof cfg, "{\"catalog\": \"%s\", \"launch_latency_ms\": 1.5}", small_path);
    expect_init_error(cfg, "launch_latency_ms");
    snprintf(cfg, sizeof cfg, "{\"catalog\": \"%s\", \"spot\": {\"min_ratio\": 0.9}}", small_path);
    expect_init_error(cfg, "spot.min_ratio");
    snprintf(cfg, sizeof cfg, "{\"catalog\": \"%s\", \"spot\": {\"max_ratio\": 7}}", small_path);
    expect_init_error(cfg, "spot.max_ratio");
    snprintf(cfg, sizeof cfg, "{\"catalog\": \"%s\", \"spot\": {\"discount\": 1}}", small_path);
    expect_init_error(cfg, "unknown key \"discount\"");
    snprintf(cfg, sizeof cfg, "{\"catalog\": \"%s\", \"spot\": []}", small_path);
    expect_init_error(cfg, "spot");
    snprintf(cfg, sizeof cfg, "{\"catalog\": \"%s\", \"faults\": [{\"op\": \"boom\"}]}",
             small_path);
    expect_init_error(cfg, "faults[0]: op: unknown command \"boom\"");
    snprintf(cfg, sizeof cfg, "{\"catalog\": \"%s\", \"faults\": {}}", small_path);
    expect_init_error(cfg, "faults");
}

static void test_default_catalog(void **state)
{
    (void)state;
    /* No "catalog": the installed bundled catalog. Uninstalled, the error names it. */
    fixture fx;
    hoist_error err = {0};
    hoist_status s = open_mock(&fx, "{}", &err);
    if (s == HOIST_OK) {
        cat_result r = {0};
        get_catalog(&fx, &r);
        assert_true(r.n > 1000);
        close_mock(&fx);
    } else {
        assert_non_null(strstr(err.message, "catalog/us-east-1.json"));
        fake_host_free(fx.fh);
    }
}

static void test_bad_catalog(void **state)
{
    (void)state;
    expect_catalog_error("not-json.json", "not valid JSON");
    expect_catalog_error("not-json.json", "not-json.json");
    expect_catalog_error("not-array.json", "expected a JSON array");
    expect_catalog_error("bad-vcpus.json", "[1] m5.xlarge: vcpus: expected an integer");
    expect_catalog_error("bad-offering.json", "offerings[1].capacity_type");
    expect_catalog_error("bad-offering.json", "preemptible");
    expect_catalog_error("missing-name.json", "instance_type: missing");
    expect_catalog_error("nope.json", "nope.json: cannot open");
}

static void test_launch_lowest_on_demand(void **state)
{
    (void)state;
    fixture fx;
    small(&fx);
    req_builder b;
    req_init(&b, "claim-od", "default");
    req_add_all_zones(&b, "m5.large", HOIST_CAPACITY_ON_DEMAND);
    req_add(&b, "m5.xlarge", "us-east-1c", HOIST_CAPACITY_ON_DEMAND);
    req_add(&b, "c5.large", "us-east-1d", HOIST_CAPACITY_ON_DEMAND);
    launch_result r;
    launch_now(&fx, &b, &r);
    assert_int_equal(r.code, HOIST_OK);
    assert_true(r.has_machine);
    assert_string_equal(r.type, "c5.large");
    assert_string_equal(r.zone, "us-east-1d");
    assert_int_equal(r.ct, HOIST_CAPACITY_ON_DEMAND);
    assert_true(r.price == 0.085);
    assert_int_equal(r.state, HOIST_MACHINE_RUNNING);
    assert_int_equal(r.n_exhausted, 0);
    /* i- and 17 hex digits; providerID aws:///zone/id */
    assert_int_equal(strlen(r.id), 19);
    assert_memory_equal(r.id, "i-", 2);
    for (size_t i = 2; i < 19; i++)
        assert_non_null(strchr("0123456789abcdef", r.id[i]));
    char want[160];
    snprintf(want, sizeof want, "aws:///us-east-1d/%s", r.id);
    assert_string_equal(r.provider_id, want);
    assert_true(fake_host_counter(fx.fh, "mock_launches_total") == 1.0);
    close_mock(&fx);
}

static void test_launch_prefers_spot_and_ids_deterministic(void **state)
{
    (void)state;
    char first[2][32];
    for (int run = 0; run < 2; run++) {
        fixture fx;
        small(&fx);
        req_builder b;
        req_init(&b, "claim-mixed", "default");
        req_add_all_zones(&b, "m5.large", HOIST_CAPACITY_ON_DEMAND);
        req_add_all_zones(&b, "m5.large", HOIST_CAPACITY_SPOT);
        launch_result r;
        launch_now(&fx, &b, &r);
        assert_int_equal(r.code, HOIST_OK);
        assert_int_equal(r.ct, HOIST_CAPACITY_SPOT);
        assert_true(r.price < 0.096);
        snprintf(first[run], sizeof first[run], "%s", r.id);
        close_mock(&fx);
    }
    assert_string_equal(first[0], first[1]);
}

static const char *launch_pick(const char *extra, hoist_alloc_strategy s, launch_result *r)
{
    static char zone[64];
    fixture fx;
    over(&fx, extra);
    req_builder b;
    req_init(&b, "claim-pco", "default");
    b.req.spot_strategy = s;
    req_add(&b, "p.large", "us-east-1c", HOIST_CAPACITY_SPOT);
    req_add(&b, "p.large", "us-east-1a", HOIST_CAPACITY_SPOT);
    req_add(&b, "p.large", "us-east-1b", HOIST_CAPACITY_SPOT);
    req_add(&b, "p.large", "us-east-1d", HOIST_CAPACITY_SPOT);
    req_add(&b, "p.large", "us-east-1a", HOIST_CAPACITY_ON_DEMAND);
    launch_now(&fx, &b, r);
    snprintf(zone, sizeof zone, "%s", r->has_machine ? r->zone : "-");
    close_mock(&fx);
    return zone;
}

static void test_spot_strategies(void **state)
{
    (void)state;
    launch_result r;
    /* PCO: cheapest is 0.050 (depth 2); 0.053 (depth 9) is within the 10 % band;
     * 0.060 (depth 10) is not. The deepest pool in the band wins. */
    assert_string_equal(launch_pick("", HOIST_ALLOC_PRICE_CAPACITY_OPTIMIZED, &r), "us-east-1b");
    assert_true(r.price == 0.053);
    /* the listed-unavailable offering is reported as exhausted */
    assert_int_equal(r.n_exhausted, 1);
    assert_true(exhausted_has(&r, "p.large us-east-1d spot"));
    /* a band wide enough to reach 0.060 picks the deepest pool */
    assert_string_equal(launch_pick(", \"spot\": {\"pco_price_band\": 0.25}",
                                    HOIST_ALLOC_PRICE_CAPACITY_OPTIMIZED, &r),
                        "us-east-1c");
    /* a zero band is lowest price */
    assert_string_equal(launch_pick(", \"spot\": {\"pco_price_band\": 0}",
                                    HOIST_ALLOC_PRICE_CAPACITY_OPTIMIZED, &r),
                        "us-east-1a");
    assert_string_equal(launch_pick("", HOIST_ALLOC_LOWEST_PRICE, &r), "us-east-1a");
    assert_string_equal(launch_pick("", HOIST_ALLOC_CAPACITY_OPTIMIZED, &r), "us-east-1c");
    assert_string_equal(launch_pick("", HOIST_ALLOC_PRIORITIZED, &r), "us-east-1c");
}

static void test_ice_fallback(void **state)
{
    (void)state;
    launch_result r;
    /* ICE on the PCO choice: the next pick in the band is 1a */
    assert_string_equal(
        launch_pick(", \"faults\": [{\"op\": \"ice\", \"instance_type\": \"p.large\", "
                    "\"zone\": \"us-east-1b\", \"capacity_type\": \"spot\"}]",
                    HOIST_ALLOC_PRICE_CAPACITY_OPTIMIZED, &r),
        "us-east-1a");
    assert_true(exhausted_has(&r, "p.large us-east-1b spot"));
    assert_int_equal(r.n_exhausted, 2);
    /* every spot offering short: falls back to on-demand, reports all four */
    assert_string_equal(
        launch_pick(", \"faults\": [{\"op\": \"ice\", \"capacity_type\": \"spot\"}]",
                    HOIST_ALLOC_PRICE_CAPACITY_OPTIMIZED, &r),
        "us-east-1a");
    assert_int_equal(r.ct, HOIST_CAPACITY_ON_DEMAND);
    assert_int_equal(r.n_exhausted, 4);
    assert_true(exhausted_has(&r, "p.large us-east-1c spot"));
}

static void test_all_ice(void **state)
{
    (void)state;
    launch_result r;
    assert_string_equal(launch_pick(", \"faults\": [{\"op\": \"ice\"}]",
                                    HOIST_ALLOC_PRICE_CAPACITY_OPTIMIZED, &r),
                        "-");
    assert_int_equal(r.code, HOIST_E_INSUFFICIENT_CAPACITY);
    assert_false(r.has_machine);
    assert_int_equal(r.n_exhausted, 5);
    assert_true(exhausted_has(&r, "p.large us-east-1a on-demand"));
    assert_non_null(strstr(r.message, "claim-pco"));
}

static void test_ice_duration_and_clear(void **state)
{
    (void)state;
    fixture fx;
    small(&fx);
    control_ok(&fx, "{\"op\": \"ice\", \"instance_type\": \"m5.large\", \"duration_ms\": 60000}");
    req_builder b;
    launch_result r;
    req_init(&b, "c1", "default");
    req_add(&b, "m5.large", "us-east-1a", HOIST_CAPACITY_ON_DEMAND);
    launch_now(&fx, &b, &r);
    assert_int_equal(r.code, HOIST_E_INSUFFICIENT_CAPACITY);
    cat_result c = {0};
    c.want = "m5.large";
    get_catalog(&fx, &c);
    assert_false(c.found_offers[0].available);
    fake_host_advance(fx.fh, 60000);
    launch_now(&fx, &b, &r); /* a failed claim may be retried */
    assert_int_equal(r.code, HOIST_OK);
    /* until cleared */
    control_ok(&fx, "{\"op\": \"ice\", \"zone\": \"us-east-1b\"}");
    req_init(&b, "c2", "default");
    req_add(&b, "m5.large", "us-east-1b", HOIST_CAPACITY_ON_DEMAND);
    fake_host_advance(fx.fh, 3600000);
    launch_now(&fx, &b, &r);
    assert_int_equal(r.code, HOIST_E_INSUFFICIENT_CAPACITY);
    control_ok(&fx, "{\"op\": \"clear_ice\", \"zone\": \"*\"}");
    launch_now(&fx, &b, &r);
    assert_int_equal(r.code, HOIST_OK);
    close_mock(&fx);
}

static void test_latency(void **state)
{
    (void)state;
    fixture fx;
    open_ok(&fx, "{\"catalog\": \"%s\", \"launch_latency_ms\": 3000}",
            src_path("tests/data/mock/small.json"));
    control_ok(&fx, "{\"op\": \"latency\", \"instance_type\": \"m5.large\", \"ms\": 5000}");
    req_builder b;
    launch_result r;
    req_init(&b, "slow", "default");
    req_add(&b, "m5.large", "us-east-1a", HOIST_CAPACITY_ON_DEMAND);
    launch(&fx, &b, &r);
    fake_host_advance(fx.fh, 4999);
    assert_int_equal(r.calls, 0);
    list_result l;
    assert_int_equal(list_by(&fx, NULL, 0, &l), 1);
    assert_int_equal(l.states[0], HOIST_MACHINE_PENDING);
    fake_host_advance(fx.fh, 1);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.at_ms, T0 + 5000);
    assert_int_equal(r.state, HOIST_MACHINE_RUNNING);
    /* the instance default applies elsewhere */
    req_init(&b, "default-latency", "default");
    req_add(&b, "c5.large", "us-east-1a", HOIST_CAPACITY_ON_DEMAND);
    launch(&fx, &b, &r);
    uint64_t start = fake_host_now(fx.fh);
    fake_host_run_all(fx.fh, 100);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.at_ms, start + 3000);
    close_mock(&fx);
}

static void test_launch_failure(void **state)
{
    (void)state;
    fixture fx;
    small(&fx);
    control_ok(&fx, "{\"op\": \"launch_failure\", \"instance_type\": \"m5.large\", \"count\": 1}");
    control_ok(&fx, "{\"op\": \"latency\", \"ms\": 1000}");
    req_builder b;
    launch_result r;
    req_init(&b, "doomed", "default");
    req_add(&b, "m5.large", "us-east-1a", HOIST_CAPACITY_ON_DEMAND);
    launch(&fx, &b, &r);
    fake_host_advance(fx.fh, 999);
    assert_int_equal(r.calls, 0);
    fake_host_advance(fx.fh, 1);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.code, HOIST_E_LAUNCH_FAILED);
    assert_false(r.has_machine);
    assert_non_null(strstr(r.message, "doomed"));
    list_result l;
    assert_int_equal(list_by(&fx, NULL, 0, &l), 0);
    /* count 1: the next launch works */
    launch(&fx, &b, &r);
    fake_host_run_all(fx.fh, 100);
    assert_int_equal(r.code, HOIST_OK);
    /* no count: every launch fails until count 0 */
    control_ok(&fx, "{\"op\": \"launch_failure\", \"zone\": \"us-east-1b\"}");
    for (int i = 0; i < 3; i++) {
        char claim[32];
        snprintf(claim, sizeof claim, "b%d", i);
        req_init(&b, claim, "default");
        req_add(&b, "c5.large", "us-east-1b", HOIST_CAPACITY_SPOT);
        launch(&fx, &b, &r);
        fake_host_run_all(fx.fh, 100);
        assert_int_equal(r.code, HOIST_E_LAUNCH_FAILED);
    }
    control_ok(&fx, "{\"op\": \"launch_failure\", \"zone\": \"us-east-1b\", \"count\": 0}");
    launch(&fx, &b, &r);
    fake_host_run_all(fx.fh, 100);
    assert_int_equal(r.code, HOIST_OK);
    close_mock(&fx);
}

static void test_interruption(void **state)
{
    (void)state;
    fixture fx;
    small(&fx);
    event_log ev = {0};
    ev.fh = fx.fh;
    hoist_error err = {0};
    assert_int_equal(P()->watch_events(fx.st, on_event, &ev, &err), HOIST_OK);
    req_builder b;
    launch_result r;
    req_init(&b, "spotty", "default");
    req_add_all_zones(&b, "m5.large", HOIST_CAPACITY_SPOT);
    launch_now(&fx, &b, &r);
    assert_int_equal(r.code, HOIST_OK);
    fake_host_advance(fx.fh, 1000);
    uint64_t t_notice = fake_host_now(fx.fh);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "{\"op\": \"interrupt\", \"instance_id\": \"%s\"}", r.id);
    control_ok(&fx, cmd);
    assert_int_equal(ev.n, 0); /* through a timer, not inside control() */
    fake_host_advance(fx.fh, 0);
    assert_int_equal(ev.n, 1);
    assert_int_equal(ev.kinds[0], HOIST_EVENT_SPOT_INTERRUPTION);
    assert_string_equal(ev.ids[0], r.id);
    assert_int_equal(ev.deadlines[0], t_notice + 120000);
    /* a second notice for the same machine is refused */
    assert_int_not_equal(P()->control(fx.st, cmd, &err), HOIST_OK);
    assert_non_null(strstr(err.message, "already"));
    fake_host_run_until(fx.fh, t_notice + 119999);
    list_result l;
    assert_int_equal(list_by(&fx, NULL, 0, &l), 1);
    fake_host_run_until(fx.fh, t_notice + 120000);
    assert_int_equal(ev.n, 2);
    assert_int_equal(ev.kinds[1], HOIST_EVENT_STATE_CHANGE);
    assert_int_equal(ev.states[1], HOIST_MACHINE_TERMINATED);
    assert_int_equal(ev.at[1], t_notice + 120000);
    assert_int_equal(list_by(&fx, NULL, 0, &l), 0);
    close_mock(&fx);
}

static void test_interrupt_then_terminate_and_lose(void **state)
{
    (void)state;
    fixture fx;
    small(&fx);
    event_log ev = {0};
    ev.fh = fx.fh;
    hoist_error err = {0};
    assert_int_equal(P()->watch_events(fx.st, on_event, &ev, &err), HOIST_OK);
    req_builder b;
    launch_result r1, r2;
    req_init(&b, "s1", "default");
    req_add(&b, "m5.large", "us-east-1a", HOIST_CAPACITY_SPOT);
    launch_now(&fx, &b, &r1);
    req_init(&b, "o1", "default");
    req_add(&b, "m5.large", "us-east-1a", HOIST_CAPACITY_ON_DEMAND);
    launch_now(&fx, &b, &r2);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "{\"op\": \"interrupt\", \"instance_id\": \"%s\", \"notice_ms\": 500}",
             r1.id);
    control_ok(&fx, cmd);
    fake_host_advance(fx.fh, 0);
    assert_int_equal(ev.deadlines[0], fake_host_now(fx.fh) + 500);
    /* the core terminates it before the deadline: no reclaim event afterwards */
    done_result d = {0};
    assert_int_equal(P()->terminate(fx.st, r1.id, on_done, &d, &err), HOIST_OK);
    fake_host_run_all(fx.fh, 100);
    assert_int_equal(d.code, HOIST_OK);
    assert_int_equal(ev.n, 1);
    /* on-demand machines cannot get a spot notice, but can be lost */
    snprintf(cmd, sizeof cmd, "{\"op\": \"interrupt\", \"instance_id\": \"%s\"}", r2.id);
    assert_int_equal(P()->control(fx.st, cmd, &err), HOIST_E_INVALID);
    assert_non_null(strstr(err.message, "not spot"));
    snprintf(cmd, sizeof cmd, "{\"op\": \"lose\", \"instance_id\": \"%s\"}", r2.id);
    control_ok(&fx, cmd);
    fake_host_advance(fx.fh, 0);
    assert_int_equal(ev.n, 2);
    assert_int_equal(ev.kinds[1], HOIST_EVENT_STATE_CHANGE);
    assert_string_equal(ev.ids[1], r2.id);
    list_result l;
    assert_int_equal(list_by(&fx, NULL, 0, &l), 0);
    close_mock(&fx);
}

/* Times of random interruptions for 4 spot machines at 0.5/h over 24 h. */
static int random_interruptions(uint64_t *at, int max)
{
    fixture fx;
    small(&fx);
    event_log ev = {0};
    ev.fh = fx.fh;
    hoist_error err = {0};
    assert_int_equal(P()->watch_events(fx.st, on_event, &ev, &err), HOIST_OK);
    control_ok(&fx, "{\"op\": \"interruption_rate\", \"capacity_type\": \"spot\", \"per_hour\": 0.5}");
    for (int i = 0; i < 4; i++) {
        req_builder b;
        launch_result r;
        char claim[16];
        snprintf(claim, sizeof claim, "r%d", i);
        req_init(&b, claim, "default");
        req_add(&b, "m5.large", ZONES[i], HOIST_CAPACITY_SPOT);
        launch_now(&fx, &b, &r);
    }
    fake_host_run_until(fx.fh, T0 + 24ull * 3600 * 1000);
    int n = 0;
    for (int i = 0; i < ev.n && n < max; i++)
        if (ev.kinds[i] == HOIST_EVENT_SPOT_INTERRUPTION)
            at[n++] = ev.at[i];
    P()->destroy(fx.st);
    fake_host_free(fx.fh);
    return n;
}

static void test_random_interruption_rate(void **state)
{
    (void)state;
    uint64_t a[8], b[8];
    int na = random_interruptions(a, 8), nb = random_interruptions(b, 8);
    assert_true(na >= 1);
    assert_int_equal(na, nb);
    assert_memory_equal(a, b, (size_t)na * sizeof a[0]);
    for (int i = 0; i < na; i++)
        assert_true(a[i] > T0);
}

static void test_idempotent_claim(void **state)
{
    (void)state;
    fixture fx;
    small(&fx);
    control_ok(&fx, "{\"op\": \"latency\", \"ms\": 2000}");
    req_builder b;
    launch_result r1, r2, r3;
    req_init(&b, "same", "default");
    req_add(&b, "m5.large", "us-east-1a", HOIST_CAPACITY_ON_DEMAND);
    launch(&fx, &b, &r1);
    fake_host_advance(fx.fh, 500);
    launch(&fx, &b, &r2); /* in flight: answered when the first completes */
    fake_host_advance(fx.fh, 1500);
    assert_int_equal(r1.calls, 1);
    assert_int_equal(r2.calls, 1);
    assert_string_equal(r1.id, r2.id);
    assert_int_equal(r2.at_ms, T0 + 2000);
    launch(&fx, &b, &r3); /* done: answered at once with the same machine */
    fake_host_advance(fx.fh, 0);
    assert_int_equal(r3.calls, 1);
    assert_string_equal(r3.id, r1.id);
    list_result l;
    assert_int_equal(list_by(&fx, NULL, 0, &l), 1);
    close_mock(&fx);
}

static void test_list_by_tags(void **state)
{
    (void)state;
    fixture fx;
    small(&fx);
    static const char *const pools[3] = {"a", "b", "a"};
    launch_result r[3];
    for (int i = 0; i < 3; i++) {
        req_builder b;
        char claim[16];
        snprintf(claim, sizeof claim, "claim-%d", i);
        req_init(&b, claim, pools[i]);
        req_add(&b, "m5.large", "us-east-1a", HOIST_CAPACITY_ON_DEMAND);
        launch_now(&fx, &b, &r[i]);
    }
    list_result l;
    hoist_kv f1[2] = {{HOIST_TAG_CLUSTER, "test"}, {HOIST_TAG_NODEPOOL, "a"}};
    assert_int_equal(list_by(&fx, f1, 2, &l), 2);
    assert_string_equal(l.ids[0], r[0].id);
    assert_string_equal(l.ids[1], r[2].id);
    assert_int_equal(list_by(&fx, f1, 1, &l), 3);
    hoist_kv f2[1] = {{HOIST_TAG_CLAIM, "claim-1"}};
    assert_int_equal(list_by(&fx, f2, 1, &l), 1);
    assert_string_equal(l.ids[0], r[1].id);
    hoist_kv f3[1] = {{HOIST_TAG_NODEPOOL, "zzz"}};
    assert_int_equal(list_by(&fx, f3, 1, &l), 0);
    assert_int_equal(list_by(&fx, NULL, 0, &l), 3);
    close_mock(&fx);
}

static void test_terminate(void **state)
{
    (void)state;
    fixture fx;
    small(&fx);
    req_builder b;
    launch_result r;
    req_init(&b, "t", "default");
    req_add(&b, "m5.large", "us-east-1a", HOIST_CAPACITY_ON_DEMAND);
    launch_now(&fx, &b, &r);
    hoist_error err = {0};
    done_result d = {0};
    assert_int_equal(P()->terminate(fx.st, r.id, on_done, &d, &err), HOIST_OK);
    assert_int_equal(d.calls, 0);
    list_result l;
    /* listed as shutting down at call time, terminated by the time the list is delivered */
    assert_int_equal(list_by(&fx, NULL, 0, &l), 0);
    assert_int_equal(d.calls, 1);
    assert_int_equal(d.code, HOIST_OK);
    done_result d2 = {0};
    assert_int_equal(P()->terminate(fx.st, r.id, on_done, &d2, &err), HOIST_OK);
    fake_host_advance(fx.fh, 0);
    assert_int_equal(d2.code, HOIST_OK); /* already gone: fine */
    done_result d3 = {0};
    assert_int_equal(P()->terminate(fx.st, "i-0000000000000dead", on_done, &d3, &err), HOIST_OK);
    fake_host_advance(fx.fh, 0);
    assert_int_equal(d3.code, HOIST_E_NOT_FOUND);
    assert_non_null(strstr(d3.message, "i-0000000000000dead"));
    close_mock(&fx);
}

static void expect_control_error(fixture *fx, const char *cmd, const char *needle)
{
    hoist_error err = {0};
    assert_int_not_equal(P()->control(fx->st, cmd, &err), HOIST_OK);
    if (!strstr(err.message, needle))
        fail_msg("control %s: message \"%s\" lacks \"%s\"", cmd, err.message, needle);
}

static void test_control_errors(void **state)
{
    (void)state;
    fixture fx;
    small(&fx);
    expect_control_error(&fx, "{\"op\": ", "not valid JSON");
    expect_control_error(&fx, "[]", "object");
    expect_control_error(&fx, "{}", "op: missing");
    expect_control_error(&fx, "{\"op\": \"explode\"}", "unknown command \"explode\"");
    expect_control_error(&fx, "{\"op\": \"ice\", \"zones\": \"a\"}", "unknown field \"zones\"");
    expect_control_error(&fx, "{\"op\": \"ice\", \"instance_type\": \"m9.huge\"}", "m9.huge");
    expect_control_error(&fx, "{\"op\": \"ice\", \"capacity_type\": \"cheap\"}", "capacity_type");
    expect_control_error(&fx, "{\"op\": \"ice\", \"zone\": \"mars-1a\"}", "no offering matches");
    expect_control_error(&fx, "{\"op\": \"ice\", \"duration_ms\": -5}", "duration_ms");
    expect_control_error(&fx, "{\"op\": \"latency\"}", "ms: missing");
    expect_control_error(&fx, "{\"op\": \"latency\", \"ms\": \"fast\"}", "latency: ms");
    expect_control_error(&fx, "{\"op\": \"launch_failure\", \"count\": 1.5}", "count");
    expect_control_error(&fx, "{\"op\": \"interruption_rate\", \"per_hour\": -1}", "per_hour");
    expect_control_error(&fx, "{\"op\": \"interrupt\"}", "instance_id: missing");
    expect_control_error(&fx, "{\"op\": \"interrupt\", \"instance_id\": \"i-x\"}", "i-x");
    expect_control_error(&fx, "{\"op\": \"reset\", \"now\": true}", "unknown field \"now\"");
    close_mock(&fx);
}

static void test_reset(void **state)
{
    (void)state;
    fixture fx;
    small(&fx);
    control_ok(&fx, "{\"op\": \"ice\"}");
    control_ok(&fx, "{\"op\": \"latency\", \"ms\": 9000}");
    control_ok(&fx, "{\"op\": \"reset\"}");
    req_builder b;
    launch_result r;
    req_init(&b, "after-reset", "default");
    req_add(&b, "m5.large", "us-east-1a", HOIST_CAPACITY_ON_DEMAND);
    launch_now(&fx, &b, &r); /* no ICE, no latency */
    assert_int_equal(r.code, HOIST_OK);
    close_mock(&fx);
}

static void test_launch_bad_requests(void **state)
{
    (void)state;
    fixture fx;
    small(&fx);
    hoist_error err = {0};
    launch_result r = {0};
    req_builder b;
    req_init(&b, "", "default");
    req_add(&b, "m5.large", "us-east-1a", HOIST_CAPACITY_ON_DEMAND);
    assert_int_equal(P()->launch(fx.st, &b.req, on_launch, &r, &err), HOIST_E_INVALID);
    assert_non_null(strstr(err.message, "claim"));
    req_init(&b, "x", "default");
    assert_int_equal(P()->launch(fx.st, &b.req, on_launch, &r, &err), HOIST_E_INVALID);
    assert_non_null(strstr(err.message, "offerings"));
    req_add(&b, "m9.huge", "us-east-1a", HOIST_CAPACITY_ON_DEMAND);
    assert_int_equal(P()->launch(fx.st, &b.req, on_launch, &r, &err), HOIST_E_INVALID);
    assert_non_null(strstr(err.message, "m9.huge"));
    req_init(&b, "x", "default");
    req_add(&b, "m5.large", "us-east-1a", HOIST_CAPACITY_ON_DEMAND);
    b.req.spot_strategy = (hoist_alloc_strategy)99;
    assert_int_equal(P()->launch(fx.st, &b.req, on_launch, &r, &err), HOIST_E_INVALID);
    assert_non_null(strstr(err.message, "strategy"));
    fake_host_run_all(fx.fh, 10);
    assert_int_equal(r.calls, 0); /* failed calls never call back */
    close_mock(&fx);
}

static void test_destroy_abandons_pending(void **state)
{
    (void)state;
    fixture fx;
    small(&fx);
    control_ok(&fx, "{\"op\": \"latency\", \"ms\": 5000}");
    req_builder b;
    launch_result r;
    req_init(&b, "abandoned", "default");
    req_add(&b, "m5.large", "us-east-1a", HOIST_CAPACITY_ON_DEMAND);
    launch(&fx, &b, &r);
    cat_result c = {0};
    hoist_error err = {0};
    assert_int_equal(P()->catalog(fx.st, on_catalog, &c, &err), HOIST_OK);
    assert_int_equal(fake_host_pending(fx.fh), 2);
    P()->destroy(fx.st);
    fx.st = NULL;
    assert_int_equal(fake_host_pending(fx.fh), 0);
    fake_host_run_all(fx.fh, 10);
    assert_int_equal(r.calls, 0);
    assert_int_equal(c.calls, 0);
    close_mock(&fx);
}

typedef struct destroyer {
    void *st;
    int calls;
} destroyer;

static void destroy_in_callback(void *arg, const hoist_error *err, const hoist_instance_type *t,
                                size_t n)
{
    (void)err;
    (void)t;
    (void)n;
    destroyer *d = arg;
    d->calls++;
    P()->destroy(d->st);
}

static void test_destroy_inside_callback(void **state)
{
    (void)state;
    fixture fx;
    small(&fx);
    destroyer d = {fx.st, 0}, d2 = {fx.st, 0};
    hoist_error err = {0};
    assert_int_equal(P()->catalog(fx.st, destroy_in_callback, &d, &err), HOIST_OK);
    assert_int_equal(P()->catalog(fx.st, destroy_in_callback, &d2, &err), HOIST_OK);
    fake_host_run_all(fx.fh, 10);
    assert_int_equal(d.calls + d2.calls, 1); /* the second was abandoned */
    fx.st = NULL;
    close_mock(&fx);
}

static int fired_order[16];
static int n_fired;

static void record_fire(void *arg)
{
    fired_order[n_fired++] = *(const int *)arg;
}

static void test_fake_host_order(void **state)
{
    (void)state;
    fake_host *fh = fake_host_new(100);
    const hoist_host *h = fake_host_api(fh);
    static const int ids[6] = {0, 1, 2, 3, 4, 5};
    n_fired = 0;
    h->timer_start(h->ctx, 50, record_fire, (void *)&ids[0]);
    h->timer_start(h->ctx, 10, record_fire, (void *)&ids[1]);
    h->timer_start(h->ctx, 50, record_fire, (void *)&ids[2]);
    hoist_timer *t3 = h->timer_start(h->ctx, 20, record_fire, (void *)&ids[3]);
    h->timer_start(h->ctx, 0, record_fire, (void *)&ids[4]);
    h->timer_start(h->ctx, 50, record_fire, (void *)&ids[5]);
    h->timer_cancel(h->ctx, t3);
    assert_int_equal(fake_host_pending(fh), 5);
    assert_int_equal(fake_host_next_due(fh), 100);
    assert_int_equal(fake_host_run_until(fh, 149), 2);
    assert_int_equal(fake_host_now(fh), 149);
    assert_int_equal(fake_host_run_until(fh, 150), 3);
    int want[5] = {4, 1, 0, 2, 5}; /* by due time, then by start order */
    assert_int_equal(n_fired, 5);
    assert_memory_equal(fired_order, want, sizeof want);
    h->log(h->ctx, HOIST_LOG_WARN, "hello %d", 42);
    assert_string_equal(fake_host_log(fh), "WARN hello 42\n");
    fake_host_log_clear(fh);
    assert_string_equal(fake_host_log(fh), "");
    h->timer_start(h->ctx, 1000, record_fire, (void *)&ids[0]);
    fake_host_free(fh); /* frees the pending timer without firing it */
    assert_int_equal(n_fired, 5);
}

/* The built plugin through dlopen, as the core loads it. */
static void test_dlopen_mock_so(void **state)
{
    (void)state;
    const char *builddir = getenv("HOIST_BUILDDIR");
    if (!builddir || !*builddir) {
        print_message("HOIST_BUILDDIR not set: dlopen test needs the build tree\n");
        skip();
    }
    char path[1024];
    snprintf(path, sizeof path, "%s/.libs/mock.so", builddir);
    void *so = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!so)
        fail_msg("dlopen %s: %s", path, dlerror());
    const hoist_provider *(*entry)(uint32_t);
    *(void **)&entry = dlsym(so, HOIST_PROVIDER_ENTRY_SYMBOL);
    assert_non_null(entry);
    /* only the entry point is exported */
    assert_null(dlsym(so, "mock_catalog_load"));
    const hoist_provider *p = entry(HOIST_PROVIDER_ABI_VERSION);
    assert_non_null(p);
    assert_ptr_not_equal(p, P()); /* the shared object's own copy */
    assert_string_equal(p->name, "mock");
    assert_true(HOIST_PROVIDER_HAS(p, control));
    fake_host *fh = fake_host_new(T0);
    char cfg[1200];
    snprintf(cfg, sizeof cfg, "{\"catalog\": \"%s\"}", src_path("tests/data/mock/small.json"));
    void *st = NULL;
    hoist_error err = {0};
    if (p->init(fake_host_api(fh), cfg, &st, &err) != HOIST_OK)
        fail_msg("init: %s", err.message);
    cat_result r = {0};
    r.want = "m5.large";
    assert_int_equal(p->catalog(st, on_catalog, &r, &err), HOIST_OK);
    fake_host_run_all(fh, 10);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.n, 6);
    assert_true(r.found_offers[0].price == 0.096);
    p->destroy(st);
    fake_host_free(fh);
    dlclose(so);
}

/* Finding a type by name (binary search over the by-name order) gives what a
 * walk over the types gives: the first index with that name; offers too;
 * unknown names nothing. A catalog with a duplicate name keeps the first. */
static void test_catalog_find(void **state)
{
    (void)state;
    static const char *const zones[] = {"us-east-1a", "us-east-1b"};
    mock_spot_params sp;
    mock_spot_params_default(&sp);
    mock_catalog cat;
    memset(&cat, 0, sizeof cat);
    hoist_error err;
    memset(&err, 0, sizeof err);
    assert_int_equal(mock_catalog_load(&cat, src_path("contrib/catalog/us-east-1.json"), zones, 2,
                                       1, &sp, &err),
                     0);
    assert_true(cat.n_types > 100);
    for (size_t i = 0; i < cat.n_types; i++) {
        const char *name = cat.types[i].info.name;
        long first = -1;
        for (size_t j = 0; j < cat.n_types && first < 0; j++)
            if (strcmp(cat.types[j].info.name, name) == 0)
                first = (long)j;
        assert_int_equal(mock_catalog_find_type(&cat, name), first);
    }
    assert_int_equal(mock_catalog_find_type(&cat, "no.such-type"), -1);
    assert_int_equal(mock_catalog_find_type(&cat, ""), -1);
    assert_int_equal(mock_catalog_find_type(&cat, "zzzz"), -1);
    const mock_type *t0 = &cat.types[0];
    long off = mock_catalog_find_offer(&cat, t0->info.name, cat.offers[t0->first_offer].zone,
                                       cat.offers[t0->first_offer].capacity_type);
    assert_int_equal(off, (long)t0->first_offer);
    assert_int_equal(mock_catalog_find_offer(&cat, t0->info.name, "mars-1a",
                                             HOIST_CAPACITY_SPOT),
                     -1);
    mock_catalog_free(&cat);

    /* three types of the bundled catalog and the first again */
    json_t *all = json_load_file(src_path("contrib/catalog/us-east-1.json"), 0, NULL);
    assert_non_null(all);
    json_t *dup = json_array();
    for (size_t i = 0; i < 3; i++)
        json_array_append(dup, json_array_get(all, i));
    json_array_append_new(dup, json_deep_copy(json_array_get(all, 0)));
    json_decref(all);
    memset(&cat, 0, sizeof cat);
    if (mock_catalog_load_json(&cat, dup, "dup.json", zones, 2, 1, &sp, &err) != 0)
        fail_msg("%s", err.message);
    assert_int_equal(cat.n_types, 4);
    assert_string_equal(cat.types[3].info.name, cat.types[0].info.name);
    assert_int_equal(mock_catalog_find_type(&cat, cat.types[0].info.name), 0);
    assert_int_equal(mock_catalog_find_type(&cat, cat.types[2].info.name), 2);
    mock_catalog_free(&cat);
    json_decref(dup);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_descriptor),
        cmocka_unit_test(test_fake_host_order),
        cmocka_unit_test(test_bundled_catalog),
        cmocka_unit_test(test_catalog_find),
        cmocka_unit_test(test_small_catalog_fields),
        cmocka_unit_test(test_spot_deterministic),
        cmocka_unit_test(test_spot_model_functions),
        cmocka_unit_test(test_spot_drift),
        cmocka_unit_test(test_offerings_override),
        cmocka_unit_test(test_bad_config),
        cmocka_unit_test(test_default_catalog),
        cmocka_unit_test(test_bad_catalog),
        cmocka_unit_test(test_launch_lowest_on_demand),
        cmocka_unit_test(test_launch_prefers_spot_and_ids_deterministic),
        cmocka_unit_test(test_spot_strategies),
        cmocka_unit_test(test_ice_fallback),
        cmocka_unit_test(test_all_ice),
        cmocka_unit_test(test_ice_duration_and_clear),
        cmocka_unit_test(test_latency),
        cmocka_unit_test(test_launch_failure),
        cmocka_unit_test(test_interruption),
        cmocka_unit_test(test_interrupt_then_terminate_and_lose),
        cmocka_unit_test(test_random_interruption_rate),
        cmocka_unit_test(test_idempotent_claim),
        cmocka_unit_test(test_list_by_tags),
        cmocka_unit_test(test_terminate),
        cmocka_unit_test(test_control_errors),
        cmocka_unit_test(test_reset),
        cmocka_unit_test(test_launch_bad_requests),
        cmocka_unit_test(test_destroy_abandons_pending),
        cmocka_unit_test(test_destroy_inside_callback),
        cmocka_unit_test(test_dlopen_mock_so),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
