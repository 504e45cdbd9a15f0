/*
 * apiserver/cloud.c - the simulated cloud: the mock provider's operations
 * over HTTP (the contract is in cloud.h), and a listener for the world's
 * kubelets.
 *
 * Operations that complete in a mock callback are answered with a chunked
 * stream started in the handler and written when the callback runs; a
 * client that went away meanwhile is noticed by the stream's closed
 * callback, and the operation still completes (a launched machine is kept
 * and announced, so a daemon killed mid-launch finds it on restart).
 */
#include "config.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/cloud.h"
#include "model/catalog.h"

/* A machine whose launch completed. */
typedef struct cloud_rec {
    char *id, *provider_id, *type, *zone, *nodepool, *claim;
    hoist_capacity_type ct;
    double price;
    uint64_t launch_ms;
    hoist_machine_state state;
    json_t *tags;   /* object */
    json_t *labels; /* object */
    json_t *taints; /* array */
} cloud_rec;

typedef enum call_kind { CALL_CATALOG, CALL_LAUNCH, CALL_TERMINATE, CALL_LIST } call_kind;

/* An operation in flight in the mock, its answer held open. */
typedef struct cloud_call {
    struct cloud_call *prev, *next;
    hoist_cloud *cloud;
    call_kind kind;
    hoist_httpd_stream *stream; /* NULL once the client went away, or none (in-process) */
    json_t *labels, *taints;    /* launch: what the kubelet registers with */
    char *id;                   /* terminate: the instance */
    hoist_catalog_cb user_cb;   /* in-process catalog */
    void *user_arg;
} cloud_call;

typedef struct cloud_event {
    uint64_t seq;
    hoist_event_kind kind;
    char id[64];
    hoist_machine_state state;
    uint64_t deadline_ms;
} cloud_event;

struct hoist_cloud {
    hoist_httpd *d;
    const hoist_provider *p;
    void *st;                   /* the mock instance */
    const hoist_host *host;
    const hoist_logger *log;
    hoist_cloud_listener listener;
    char *cluster;              /* default cluster tag, may be NULL */
    cloud_rec **recs;
    size_t n_recs, cap_recs;
    size_t launches;
    cloud_call *calls;
    cloud_event *events;        /* ring of HOIST_CLOUD_EVENT_LOG */
    uint64_t next_seq;          /* seq of the next event (first is 1) */
};

/* ---- names ---- */

static const char *state_name(hoist_machine_state s)
{
    switch (s) {
    case HOIST_MACHINE_PENDING: return "pending";
    case HOIST_MACHINE_RUNNING: return "running";
    case HOIST_MACHINE_SHUTTING_DOWN: return "shutting-down";
    case HOIST_MACHINE_TERMINATED: return "terminated";
    }
    return "unknown";
}

static const char *event_kind_name(hoist_event_kind k)
{
    switch (k) {
    case HOIST_EVENT_SPOT_INTERRUPTION: return "spot-interruption";
    case HOIST_EVENT_REBALANCE: return "rebalance";
    case HOIST_EVENT_SCHEDULED_MAINTENANCE: return "scheduled-maintenance";
    case HOIST_EVENT_STATE_CHANGE: return "state-change";
    }
    return "unknown";
}

static int parse_capacity(const char *s, hoist_capacity_type *out)
{
    if (!s)
        return -1;
    if (!strcmp(s, "on-demand"))
        *out = HOIST_CAPACITY_ON_DEMAND;
    else if (!strcmp(s, "spot"))
        *out = HOIST_CAPACITY_SPOT;
    else if (!strcmp(s, "reserved"))
        *out = HOIST_CAPACITY_RESERVED;
    else
        return -1;
    return 0;
}

static int parse_strategy(const char *s, hoist_alloc_strategy *out)
{
    if (!strcmp(s, "lowest-price"))
        *out = HOIST_ALLOC_LOWEST_PRICE;
    else if (!strcmp(s, "price-capacity-optimized"))
        *out = HOIST_ALLOC_PRICE_CAPACITY_OPTIMIZED;
    else if (!strcmp(s, "capacity-optimized"))
        *out = HOIST_ALLOC_CAPACITY_OPTIMIZED;
    else if (!strcmp(s, "prioritized"))
        *out = HOIST_ALLOC_PRIORITIZED;
    else
        return -1;
    return 0;
}

/* ---- answers ---- */

static json_t *error_json(const hoist_error *e)
{
    return json_pack("{s:{s:s,s:s,s:I}}", "error", "code", hoist_status_name(e->code), "message",
                     e->message, "retry_after_ms", (json_int_t)e->retry_after_ms);
}

static int http_status_of(hoist_status s)
{
    switch (s) {
    case HOIST_E_INVALID: return 400;
    case HOIST_E_NOT_FOUND: return 404;
    case HOIST_E_UNSUPPORTED: return 405;
    case HOIST_E_THROTTLED: return 429;
    case HOIST_E_UNAVAILABLE: return 503;
    default: return 500;
    }
}

/* Answer req with j (stolen). */
static void respond_json(hoist_httpd_req *req, int status, json_t *j)
{
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!text) {
        static const char oom[] = "{\"error\":{\"code\":\"internal\",\"message\":\"out of memory\"}}";
        hoist_httpd_respond(req, 500, "application/json", oom, sizeof oom - 1);
        return;
    }
    hoist_httpd_respond(req, status, "application/json", text, strlen(text));
    free(text);
}

static void respond_error(hoist_httpd_req *req, hoist_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void respond_error(hoist_httpd_req *req, hoist_status code, const char *fmt, ...)
{
    hoist_error e;
    e.code = code;
    e.retry_after_ms = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e.message, sizeof e.message, fmt, ap);
    va_end(ap);
    respond_json(req, http_status_of(code), error_json(&e));
}

/* Write j (stolen) as the whole body of call's stream and end it. */
static void call_answer(cloud_call *call, json_t *j)
{
    if (!call->stream) {
        json_decref(j);
        return;
    }
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!text) {
        static const char oom[] = "{\"error\":{\"code\":\"internal\",\"message\":\"out of memory\"}}";
        hoist_httpd_stream_write(call->stream, oom, sizeof oom - 1);
    } else {
        hoist_httpd_stream_write(call->stream, text, strlen(text));
        free(text);
    }
    hoist_httpd_stream_end(call->stream);
    call->stream = NULL;
}

/* ---- calls ---- */

static cloud_call *call_new(hoist_cloud *c, call_kind kind)
{
    cloud_call *call = calloc(1, sizeof *call);
    if (!call)
        return NULL;
    call->cloud = c;
    call->kind = kind;
    call->next = c->calls;
    if (c->calls)
        c->calls->prev = call;
    c->calls = call;
    return call;
}

static void call_free(cloud_call *call)
{
    hoist_cloud *c = call->cloud;
    if (call->prev)
        call->prev->next = call->next;
    else
        c->calls = call->next;
    if (call->next)
        call->next->prev = call->prev;
    json_decref(call->labels);
    json_decref(call->taints);
    free(call->id);
    free(call);
}

static void call_stream_closed(void *arg, hoist_httpd_stream *s)
{
    cloud_call *call = arg;
    (void)s;
    call->stream = NULL;
}

/* After the mock accepted the operation: hold the answer open. */
static void call_hold(cloud_call *call, hoist_httpd_req *req)
{
    call->stream = hoist_httpd_stream_start(req, 200, "application/json", call_stream_closed,
                                            call);
}

/* ---- records ---- */

static cloud_rec *rec_find(const hoist_cloud *c, const char *id)
{
    for (size_t i = 0; i < c->n_recs; i++)
        if (strcmp(c->recs[i]->id, id) == 0)
            return c->recs[i];
    return NULL;
}

static void rec_free(cloud_rec *r)
{
    free(r->id);
    free(r->provider_id);
    free(r->type);
    free(r->zone);
    free(r->nodepool);
    free(r->claim);
    json_decref(r->tags);
    json_decref(r->labels);
    json_decref(r->taints);
    free(r);
}

static const char *tag_of(const hoist_machine *m, const char *key)
{
    for (size_t i = 0; i < m->n_tags; i++)
        if (strcmp(m->tags[i].key, key) == 0)
            return m->tags[i].value;
    return "";
}

static json_t *tags_json(const hoist_kv *tags, size_t n)
{
    json_t *o = json_object();
    for (size_t i = 0; o && i < n; i++)
        json_object_set_new(o, tags[i].key, json_string(tags[i].value));
    return o;
}

/* Remember machine m (launch completed) and announce it once. */
static void rec_running(hoist_cloud *c, const hoist_machine *m, json_t *labels, json_t *taints)
{
    cloud_rec *r = rec_find(c, m->instance_id);
    if (r) {
        if (r->state == HOIST_MACHINE_PENDING)
            r->state = m->state;
        return;
    }
    if (c->n_recs == c->cap_recs) {
        size_t cap = c->cap_recs ? c->cap_recs * 2 : 16;
        cloud_rec **n = realloc(c->recs, cap * sizeof *n);
        if (!n)
            goto oom;
        c->recs = n;
        c->cap_recs = cap;
    }
    r = calloc(1, sizeof *r);
    if (!r)
        goto oom;
    r->id = strdup(m->instance_id);
    r->provider_id = strdup(m->provider_id);
    r->type = strdup(m->instance_type);
    r->zone = strdup(m->zone);
    r->nodepool = strdup(tag_of(m, HOIST_TAG_NODEPOOL));
    r->claim = strdup(tag_of(m, HOIST_TAG_CLAIM));
    r->ct = m->capacity_type;
    r->price = m->price;
    r->launch_ms = m->launch_time_ms;
    r->state = m->state;
    r->tags = tags_json(m->tags, m->n_tags);
    r->labels = labels ? json_incref(labels) : json_object();
    r->taints = taints ? json_incref(taints) : json_array();
    if (!r->id || !r->provider_id || !r->type || !r->zone || !r->nodepool || !r->claim ||
        !r->tags || !r->labels || !r->taints) {
        rec_free(r);
        goto oom;
    }
    c->recs[c->n_recs++] = r;
    c->launches++;
    if (c->listener.running) {
        hoist_cloud_machine v = {r->id, r->provider_id, r->type, r->zone, r->ct, r->nodepool,
                                 r->claim, r->labels, r->taints};
        c->listener.running(c->listener.arg, &v);
    }
    return;
oom:
    hoist_log(c->log, HOIST_LOG_ERROR, "cloud", "out of memory recording machine %s",
              m->instance_id);
}

static void rec_terminated(hoist_cloud *c, const char *id)
{
    cloud_rec *r = rec_find(c, id);
    if (!r || r->state == HOIST_MACHINE_TERMINATED)
        return;
    r->state = HOIST_MACHINE_TERMINATED;
    hoist_log(c->log, HOIST_LOG_INFO, "cloud", "machine %s (%s) terminated", id, r->type);
    if (c->listener.terminated)
        c->listener.terminated(c->listener.arg, id);
}

static json_t *machine_json(const hoist_machine *m)
{
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:f,s:s,s:I,s:o}", "instance_id", m->instance_id,
                     "provider_id", m->provider_id, "instance_type", m->instance_type, "zone",
                     m->zone, "capacity_type", hoist_capacity_type_name(m->capacity_type),
                     "price", m->price, "state", state_name(m->state), "launch_time_ms",
                     (json_int_t)m->launch_time_ms, "tags", tags_json(m->tags, m->n_tags));
}

static json_t *rec_json(const cloud_rec *r)
{
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:f,s:s,s:I,s:O}", "instance_id", r->id,
                     "provider_id", r->provider_id, "instance_type", r->type, "zone", r->zone,
                     "capacity_type", hoist_capacity_type_name(r->ct), "price", r->price, "state",
                     state_name(r->state), "launch_time_ms", (json_int_t)r->launch_ms, "tags",
                     r->tags);
}

static json_t *offerings_json(const hoist_launch_offering *offs, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++) {
        const hoist_launch_offering *o = HOIST_NTH(offs, i);
        json_array_append_new(a, json_pack("{s:s,s:s,s:s,s:f}", "instance_type",
                                           o->instance_type, "zone", o->zone, "capacity_type",
                                           hoist_capacity_type_name(o->capacity_type), "price",
                                           o->price));
    }
    return a;
}

/* ---- mock callbacks ---- */

static void on_launched(void *arg, const hoist_error *err, const hoist_machine *machine,
                        const hoist_launch_offering *exhausted, size_t n_exhausted)
{
    cloud_call *call = arg;
    hoist_cloud *c = call->cloud;
    json_t *ex = offerings_json(exhausted, n_exhausted);
    json_t *body;
    if (err) {
        body = error_json(err);
        hoist_log(c->log, HOIST_LOG_INFO, "cloud", "launch failed: %s: %s",
                  hoist_status_name(err->code), err->message);
    } else {
        body = json_pack("{s:o}", "machine", machine_json(machine));
        hoist_log(c->log, HOIST_LOG_INFO, "cloud", "launched %s %s %s %s (claim %s)",
                  machine->instance_id, machine->instance_type, machine->zone,
                  hoist_capacity_type_name(machine->capacity_type),
                  tag_of(machine, HOIST_TAG_CLAIM));
    }
    if (body)
        json_object_set_new(body, "exhausted", ex ? ex : json_array());
    else
        json_decref(ex);
    if (!err)
        rec_running(c, machine, call->labels, call->taints);
    call_answer(call, body);
    call_free(call);
}

static void on_terminated(void *arg, const hoist_error *err)
{
    cloud_call *call = arg;
    hoist_cloud *c = call->cloud;
    if (!err)
        rec_terminated(c, call->id);
    call_answer(call, err ? error_json(err) : json_object());
    call_free(call);
}

static void on_listed(void *arg, const hoist_error *err, const hoist_machine *machines, size_t n)
{
    cloud_call *call = arg;
    json_t *body;
    if (err) {
        body = error_json(err);
    } else {
        json_t *items = json_array();
        for (size_t i = 0; items && i < n; i++)
            json_array_append_new(items, machine_json(HOIST_NTH(machines, i)));
        body = json_pack("{s:o}", "items", items ? items : json_array());
    }
    call_answer(call, body);
    call_free(call);
}

static void on_catalog(void *arg, const hoist_error *err, const hoist_instance_type *types,
                       size_t n)
{
    cloud_call *call = arg;
    if (call->user_cb) {
        call->user_cb(call->user_arg, err, types, n);
        call_free(call);
        return;
    }
    json_t *body;
    if (err) {
        body = error_json(err);
    } else {
        json_t *items = json_array();
        for (size_t i = 0; items && i < n; i++) {
            json_t *t = hoist_cloud_type_json(HOIST_NTH(types, i));
            if (!t || json_array_append_new(items, t) != 0) {
                json_decref(items);
                items = NULL;
            }
        }
        body = items ? json_pack("{s:o}", "items", items) : NULL;
    }
    call_answer(call, body);
    call_free(call);
}

static void on_event(void *arg, const hoist_event *ev)
{
    hoist_cloud *c = arg;
    cloud_event *slot = &c->events[(c->next_seq - 1) % HOIST_CLOUD_EVENT_LOG];
    slot->seq = c->next_seq++;
    slot->kind = ev->kind;
    snprintf(slot->id, sizeof slot->id, "%s", ev->instance_id);
    slot->state = ev->state;
    slot->deadline_ms = ev->deadline_ms;
    hoist_log(c->log, HOIST_LOG_INFO, "cloud", "event %s %s (%s)", event_kind_name(ev->kind),
              ev->instance_id, state_name(ev->state));
    if (ev->kind == HOIST_EVENT_STATE_CHANGE && ev->state == HOIST_MACHINE_TERMINATED)
        rec_terminated(c, ev->instance_id);
}

/* ---- catalog as JSON ---- */

json_t *hoist_cloud_type_json(const hoist_instance_type *t)
{
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:i,s:s,s:s,s:s,s:b,s:b,s:b,s:I,s:I}",
                          "instance_type", t->name, "family", t->family, "size", t->size,
                          "category", t->category, "generation", (int)t->generation,
                          "architecture", t->architecture, "cpu_manufacturer",
                          t->cpu_manufacturer, "hypervisor", t->hypervisor, "bare_metal",
                          (int)t->bare_metal, "burstable_performance", (int)t->burstable,
                          "current_generation", (int)t->current_generation, "vcpus",
                          (json_int_t)t->vcpus, "memory_mib", (json_int_t)t->memory_mib);
    if (!o)
        return NULL;
    int bad = 0;
    if (t->gpu.count > 0)
        bad |= json_object_set_new(o, "gpu", json_pack("{s:I,s:s,s:s,s:I}", "count",
                                                        (json_int_t)t->gpu.count, "name",
                                                        t->gpu.name ? t->gpu.name : "",
                                                        "manufacturer",
                                                        t->gpu.manufacturer ? t->gpu.manufacturer
                                                                            : "",
                                                        "total_memory_mib",
                                                        (json_int_t)t->gpu.memory_mib));
    if (t->local_nvme_gb > 0)
        bad |= json_object_set_new(o, "local_storage", json_pack("{s:I}", "nvme_total_gb",
                                                                  (json_int_t)t->local_nvme_gb));
    json_t *net = json_pack("{s:I}", "bandwidth_mbps", (json_int_t)t->network_bandwidth_mbps);
    for (size_t i = 0; net && i < t->n_extended; i++) {
        const hoist_resource *r = &t->extended[i];
        json_int_t count = (json_int_t)(r->amount / 1000);
        if (!strcmp(r->name, "aws.amazon.com/neuron"))
            bad |= json_object_set_new(o, "accelerator", json_pack("{s:I,s:s}", "count", count,
                                                                    "manufacturer", "aws"));
        else if (!strcmp(r->name, "vpc.amazonaws.com/pod-eni")) {
            bad |= json_object_set_new(net, "trunking_compatible", json_true());
            bad |= json_object_set_new(net, "branch_enis", json_integer(count));
        }
    }
    bad |= json_object_set_new(o, "network", net);
    if (t->max_pods > 0)
        bad |= json_object_set_new(o, "eks_max_pods", json_integer((json_int_t)t->max_pods));
    json_t *offs = json_array();
    for (size_t i = 0; offs && i < t->n_offerings; i++) {
        const hoist_offering *of = HOIST_NTH(t->offerings, i);
        json_t *j = json_pack("{s:s,s:s,s:f,s:b}", "zone", of->zone, "capacity_type",
                              hoist_capacity_type_name(of->capacity_type), "price", of->price,
                              "available", (int)of->available);
        if (j && of->capacity_score >= 1.0 && of->capacity_score <= 10.0)
            json_object_set_new(j, "pool_depth", json_integer((json_int_t)of->capacity_score));
        if (!j || json_array_append_new(offs, j) != 0)
            bad = 1;
    }
    bad |= json_object_set_new(o, "offerings", offs);
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* ---- handlers ---- */

static json_t *body_object(hoist_httpd_req *req)
{
    size_t len;
    const char *body = hoist_httpd_body(req, &len);
    json_error_t jerr;
    json_t *j = body && len ? json_loadb(body, len, 0, &jerr) : NULL;
    if (j && !json_is_object(j)) {
        json_decref(j);
        j = NULL;
    }
    if (!j)
        respond_error(req, HOIST_E_INVALID, "body: expected a JSON object");
    return j;
}

static const char *opt_str(const json_t *o, const char *key, const char **out)
{
    json_t *v = json_object_get(o, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return NULL;
    if (!json_is_string(v))
        return key;
    *out = json_string_value(v);
    return NULL;
}

/* kv pairs of a JSON object of strings (pointers into it). NULL + *bad on error. */
static hoist_kv *kv_of(const json_t *obj, size_t *n, const char *field, char *bad, size_t badn)
{
    *n = 0;
    if (!obj || json_is_null(obj))
        return NULL;
    if (!json_is_object(obj)) {
        snprintf(bad, badn, "%s: expected an object of strings", field);
        return NULL;
    }
    hoist_kv *kv = calloc(json_object_size(obj) + 1, sizeof *kv);
    if (!kv) {
        snprintf(bad, badn, "out of memory");
        return NULL;
    }
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v) {
        if (!json_is_string(v)) {
            snprintf(bad, badn, "%s.%s: expected a string", field, k);
            free(kv);
            *n = 0;
            return NULL;
        }
        kv[*n].key = k;
        kv[*n].value = json_string_value(v);
        (*n)++;
    }
    return kv;
}

static void handle_launch(hoist_cloud *c, hoist_httpd_req *req)
{
    json_t *b = body_object(req);
    if (!b)
        return;
    hoist_launch_request lr;
    memset(&lr, 0, sizeof lr);
    lr.struct_size = sizeof lr;
    lr.spot_strategy = HOIST_ALLOC_PRICE_CAPACITY_OPTIMIZED;
    lr.on_demand_strategy = HOIST_ALLOC_LOWEST_PRICE;
    char bad[256] = "";
    hoist_launch_offering *offs = NULL;
    hoist_kv *tags = NULL, *labels = NULL;
    hoist_taint *taints = NULL;
    const char *f;
    const char *ss = NULL, *ods = NULL;
    if ((f = opt_str(b, "claim", &lr.claim)) || (f = opt_str(b, "cluster", &lr.cluster)) ||
        (f = opt_str(b, "nodepool", &lr.nodepool)) || (f = opt_str(b, "user_data", &lr.user_data)) ||
        (f = opt_str(b, "spot_strategy", &ss)) || (f = opt_str(b, "on_demand_strategy", &ods))) {
        snprintf(bad, sizeof bad, "%s: expected a string", f);
        goto fail;
    }
    if (!lr.cluster)
        lr.cluster = c->cluster;
    if (!lr.claim || !*lr.claim) {
        snprintf(bad, sizeof bad, "claim: missing (a non-empty string is required)");
        goto fail;
    }
    if ((ss && parse_strategy(ss, &lr.spot_strategy) < 0) ||
        (ods && parse_strategy(ods, &lr.on_demand_strategy) < 0)) {
        snprintf(bad, sizeof bad, "%s: unknown allocation strategy \"%s\"",
                 ss && parse_strategy(ss, &lr.spot_strategy) < 0 ? "spot_strategy"
                                                                 : "on_demand_strategy",
                 ss && parse_strategy(ss, &lr.spot_strategy) < 0 ? ss : ods);
        goto fail;
    }
    json_t *ol = json_object_get(b, "offerings");
    if (!json_is_array(ol) || json_array_size(ol) == 0) {
        snprintf(bad, sizeof bad, "offerings: expected a non-empty array");
        goto fail;
    }
    offs = calloc(json_array_size(ol), sizeof *offs);
    if (!offs) {
        snprintf(bad, sizeof bad, "out of memory");
        goto fail;
    }
    size_t i;
    json_t *it;
    json_array_foreach(ol, i, it) {
        const char *ct = NULL;
        offs[i].struct_size = sizeof offs[i];
        if (!json_is_object(it) || opt_str(it, "instance_type", &offs[i].instance_type) ||
            opt_str(it, "zone", &offs[i].zone) || opt_str(it, "capacity_type", &ct) ||
            !offs[i].instance_type || !offs[i].zone ||
            parse_capacity(ct, &offs[i].capacity_type) < 0) {
            snprintf(bad, sizeof bad,
                     "offerings[%zu]: expected {\"instance_type\", \"zone\", \"capacity_type\": "
                     "on-demand|spot|reserved}", i);
            goto fail;
        }
        json_t *p = json_object_get(it, "price");
        if (p && !json_is_number(p)) {
            snprintf(bad, sizeof bad, "offerings[%zu].price: expected a number", i);
            goto fail;
        }
        offs[i].price = p ? json_number_value(p) : 0.0;
    }
    lr.offerings = offs;
    lr.n_offerings = json_array_size(ol);
    tags = kv_of(json_object_get(b, "tags"), &lr.n_tags, "tags", bad, sizeof bad);
    if (bad[0])
        goto fail;
    lr.tags = tags;
    json_t *lj = json_object_get(b, "labels");
    labels = kv_of(lj, &lr.n_labels, "labels", bad, sizeof bad);
    if (bad[0])
        goto fail;
    lr.labels = labels;
    json_t *tj = json_object_get(b, "taints");
    if (tj && !json_is_null(tj)) {
        if (!json_is_array(tj)) {
            snprintf(bad, sizeof bad, "taints: expected an array");
            goto fail;
        }
        taints = calloc(json_array_size(tj) + 1, sizeof *taints);
        if (!taints) {
            snprintf(bad, sizeof bad, "out of memory");
            goto fail;
        }
        json_array_foreach(tj, i, it) {
            const char *eff = NULL;
            if (!json_is_object(it) || opt_str(it, "key", &taints[i].key) ||
                opt_str(it, "value", &taints[i].value) || opt_str(it, "effect", &eff) ||
                !taints[i].key || !eff) {
                snprintf(bad, sizeof bad, "taints[%zu]: expected {\"key\", \"value\", \"effect\"}",
                         i);
                goto fail;
            }
            if (!strcmp(eff, "NoSchedule"))
                taints[i].effect = HOIST_TAINT_NO_SCHEDULE;
            else if (!strcmp(eff, "PreferNoSchedule"))
                taints[i].effect = HOIST_TAINT_PREFER_NO_SCHEDULE;
            else if (!strcmp(eff, "NoExecute"))
                taints[i].effect = HOIST_TAINT_NO_EXECUTE;
            else {
                snprintf(bad, sizeof bad, "taints[%zu].effect: \"%s\" is not NoSchedule, "
                                          "PreferNoSchedule or NoExecute", i, eff);
                goto fail;
            }
        }
        for (size_t k = 0; k < json_array_size(tj); k++)
            if (!taints[k].value)
                taints[k].value = "";
        lr.taints = taints;
        lr.n_taints = json_array_size(tj);
    }
    cloud_call *call = call_new(c, CALL_LAUNCH);
    if (!call) {
        snprintf(bad, sizeof bad, "out of memory");
        goto fail;
    }
    call->labels = lj && json_is_object(lj) ? json_incref(lj) : json_object();
    call->taints = tj && json_is_array(tj) ? json_incref(tj) : json_array();
    hoist_error e;
    if (c->p->launch(c->st, &lr, on_launched, call, &e) != HOIST_OK) {
        call_free(call);
        respond_json(req, http_status_of(e.code), error_json(&e));
    } else {
        call_hold(call, req);
    }
    free(offs);
    free(tags);
    free(labels);
    free(taints);
    json_decref(b);
    return;
fail:
    respond_error(req, HOIST_E_INVALID, "launch: %s", bad);
    free(offs);
    free(tags);
    free(labels);
    free(taints);
    json_decref(b);
}

static void handle_list(hoist_cloud *c, hoist_httpd_req *req)
{
    hoist_kv filter[64];
    size_t n = 0;
    static const char *const named[][2] = {{"cluster", HOIST_TAG_CLUSTER},
                                           {"nodepool", HOIST_TAG_NODEPOOL},
                                           {"claim", HOIST_TAG_CLAIM}};
    for (size_t i = 0; i < 3; i++) {
        const char *v = hoist_httpd_query(req, named[i][0]);
        if (v) {
            filter[n].key = named[i][1];
            filter[n].value = v;
            n++;
        }
    }
    const char *tq = hoist_httpd_query(req, "tags");
    char *copy = tq ? strdup(tq) : NULL;
    if (tq && !copy) {
        respond_error(req, HOIST_E_INTERNAL, "out of memory");
        return;
    }
    char *save = NULL;
    for (char *tok = copy ? strtok_r(copy, ",", &save) : NULL; tok;
         tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq || eq == tok || n == sizeof filter / sizeof filter[0]) {
            respond_error(req, HOIST_E_INVALID, "tags: \"%s\": expected key=value pairs "
                                                "separated by commas (at most 64)", tok);
            free(copy);
            return;
        }
        *eq = '\0';
        filter[n].key = tok;
        filter[n].value = eq + 1;
        n++;
    }
    cloud_call *call = call_new(c, CALL_LIST);
    hoist_error e;
    if (!call) {
        respond_error(req, HOIST_E_INTERNAL, "out of memory");
    } else if (c->p->list(c->st, filter, n, on_listed, call, &e) != HOIST_OK) {
        call_free(call);
        respond_json(req, http_status_of(e.code), error_json(&e));
    } else {
        call_hold(call, req);
    }
    free(copy);
}

static void handle_terminate(hoist_cloud *c, hoist_httpd_req *req, const char *id)
{
    cloud_call *call = call_new(c, CALL_TERMINATE);
    if (call)
        call->id = strdup(id);
    if (!call || !call->id) {
        if (call)
            call_free(call);
        respond_error(req, HOIST_E_INTERNAL, "out of memory");
        return;
    }
    hoist_error e;
    if (c->p->terminate(c->st, id, on_terminated, call, &e) != HOIST_OK) {
        call_free(call);
        respond_json(req, http_status_of(e.code), error_json(&e));
        return;
    }
    call_hold(call, req);
}

static void handle_events(hoist_cloud *c, hoist_httpd_req *req)
{
    const char *a = hoist_httpd_query(req, "after");
    uint64_t after = 0;
    if (a && *a) {
        char *end;
        unsigned long long v = strtoull(a, &end, 10);
        if (*end || a[0] == '-') {
            respond_error(req, HOIST_E_INVALID, "after: \"%s\": expected a sequence number", a);
            return;
        }
        after = v;
    }
    json_t *evs = json_array();
    uint64_t oldest = c->next_seq > HOIST_CLOUD_EVENT_LOG ? c->next_seq - HOIST_CLOUD_EVENT_LOG
                                                          : 1;
    for (uint64_t s = after + 1 > oldest ? after + 1 : oldest; evs && s < c->next_seq; s++) {
        const cloud_event *ev = &c->events[(s - 1) % HOIST_CLOUD_EVENT_LOG];
        json_array_append_new(evs, json_pack("{s:I,s:s,s:s,s:s,s:I}", "seq", (json_int_t)ev->seq,
                                             "kind", event_kind_name(ev->kind), "instance_id",
                                             ev->id, "state", state_name(ev->state),
                                             "deadline_ms", (json_int_t)ev->deadline_ms));
    }
    respond_json(req, 200, evs ? json_pack("{s:o,s:I}", "events", evs, "next",
                                           (json_int_t)(c->next_seq - 1))
                               : NULL);
}

static void handle_control(hoist_cloud *c, hoist_httpd_req *req)
{
    size_t len;
    const char *body = hoist_httpd_body(req, &len);
    if (!c->p->control) {
        respond_error(req, HOIST_E_UNSUPPORTED, "control: the provider has no control commands");
        return;
    }
    char *cmd = strndup(body ? body : "", len);
    if (!cmd) {
        respond_error(req, HOIST_E_INTERNAL, "out of memory");
        return;
    }
    hoist_error e;
    hoist_status s = c->p->control(c->st, cmd, &e);
    free(cmd);
    if (s != HOIST_OK)
        respond_json(req, http_status_of(e.code), error_json(&e));
    else
        respond_json(req, 200, json_object());
}

static void handle_catalog(hoist_cloud *c, hoist_httpd_req *req)
{
    cloud_call *call = call_new(c, CALL_CATALOG);
    hoist_error e;
    if (!call) {
        respond_error(req, HOIST_E_INTERNAL, "out of memory");
    } else if (c->p->catalog(c->st, on_catalog, call, &e) != HOIST_OK) {
        call_free(call);
        respond_json(req, http_status_of(e.code), error_json(&e));
    } else {
        call_hold(call, req);
    }
}

static void handle_machine(hoist_cloud *c, hoist_httpd_req *req, const char *method,
                           const char *id)
{
    if (!strcmp(method, "DELETE")) {
        handle_terminate(c, req, id);
    } else if (strcmp(method, "GET") != 0) {
        respond_error(req, HOIST_E_UNSUPPORTED, "%s /machines/%s: use GET or DELETE", method, id);
    } else {
        const cloud_rec *r = rec_find(c, id);
        if (r)
            respond_json(req, 200, rec_json(r));
        else
            respond_error(req, HOIST_E_NOT_FOUND, "no machine \"%s\"", id);
    }
}

static void handle(void *arg, hoist_httpd_req *req)
{
    hoist_cloud *c = arg;
    const char *method = hoist_httpd_method(req);
    const char *path = hoist_httpd_path(req) + strlen(HOIST_CLOUD_PREFIX);
    bool get = !strcmp(method, "GET"), post = !strcmp(method, "POST");
    if (!strcmp(path, "/catalog") && get)
        handle_catalog(c, req);
    else if (!strcmp(path, "/machines") && post)
        handle_launch(c, req);
    else if (!strcmp(path, "/machines") && get)
        handle_list(c, req);
    else if (!strncmp(path, "/machines/", 10) && path[10] && !strchr(path + 10, '/'))
        handle_machine(c, req, method, path + 10);
    else if (!strcmp(path, "/control") && post)
        handle_control(c, req);
    else if (!strcmp(path, "/events") && get)
        handle_events(c, req);
    else if (!strcmp(path, "/catalog") || !strcmp(path, "/machines") ||
             !strcmp(path, "/control") || !strcmp(path, "/events"))
        respond_error(req, HOIST_E_UNSUPPORTED, "%s %s: method not allowed", method, path);
    else
        respond_error(req, HOIST_E_NOT_FOUND, "no cloud resource \"%s\"", hoist_httpd_path(req));
}

/* ---- life ---- */

hoist_cloud *hoist_cloud_new(hoist_httpd *d, const hoist_provider *mock, const hoist_host *host,
                             const char *config_json, const hoist_logger *log, hoist_err *err)
{
    hoist_cloud *c = calloc(1, sizeof *c);
    if (c)
        c->events = calloc(HOIST_CLOUD_EVENT_LOG, sizeof *c->events);
    if (!c || !c->events) {
        free(c);
        hoist_errf(err, "cloud: out of memory");
        return NULL;
    }
    c->d = d;
    c->p = mock;
    c->host = host;
    c->log = log;
    c->next_seq = 1;
    hoist_error e;
    if (mock->init(host, config_json ? config_json : "{}", &c->st, &e) != HOIST_OK) {
        hoist_errf(err, "cloud: mock: %s", e.message);
        free(c->events);
        free(c);
        return NULL;
    }
    if (mock->watch_events && mock->watch_events(c->st, on_event, c, &e) != HOIST_OK) {
        hoist_errf(err, "cloud: mock: watch_events: %s", e.message);
        hoist_cloud_free(c);
        return NULL;
    }
    if (d && hoist_httpd_handle(d, NULL, HOIST_CLOUD_PREFIX "/", handle, c, err) != 0) {
        hoist_err_prefix(err, "cloud: ");
        hoist_cloud_free(c);
        return NULL;
    }
    return c;
}

int hoist_cloud_set_cluster(hoist_cloud *c, const char *cluster, hoist_err *err)
{
    char *copy = cluster ? strdup(cluster) : NULL;
    if (cluster && !copy)
        return hoist_errf(err, "cloud: out of memory");
    free(c->cluster);
    c->cluster = copy;
    return 0;
}

void hoist_cloud_set_listener(hoist_cloud *c, const hoist_cloud_listener *l)
{
    if (l)
        c->listener = *l;
    else
        memset(&c->listener, 0, sizeof c->listener);
}

size_t hoist_cloud_machines_alive(const hoist_cloud *c)
{
    size_t n = 0;
    for (size_t i = 0; i < c->n_recs; i++)
        n += c->recs[i]->state != HOIST_MACHINE_TERMINATED;
    return n;
}

size_t hoist_cloud_launches(const hoist_cloud *c)
{
    return c->launches;
}

int hoist_cloud_catalog(hoist_cloud *c, hoist_catalog_cb cb, void *arg, hoist_err *err)
{
    cloud_call *call = call_new(c, CALL_CATALOG);
    if (!call)
        return hoist_errf(err, "cloud: out of memory");
    call->user_cb = cb;
    call->user_arg = arg;
    hoist_error e;
    if (c->p->catalog(c->st, on_catalog, call, &e) != HOIST_OK) {
        call_free(call);
        return hoist_errf(err, "cloud: catalog: %s", e.message);
    }
    return 0;
}

void hoist_cloud_free(hoist_cloud *c)
{
    if (!c)
        return;
    if (c->d)
        hoist_httpd_unhandle(c->d, c);
    if (c->st)
        c->p->destroy(c->st); /* abandons pending operations: their callbacks never run */
    while (c->calls) {
        cloud_call *call = c->calls;
        if (call->stream) {
            static const char gone[] =
                "{\"error\":{\"code\":\"unavailable\",\"message\":\"the cloud is shutting down\"}}";
            hoist_httpd_stream_write(call->stream, gone, sizeof gone - 1);
            hoist_httpd_stream_end(call->stream);
            call->stream = NULL;
        }
        call_free(call);
    }
    for (size_t i = 0; i < c->n_recs; i++)
        rec_free(c->recs[i]);
    free(c->recs);
    free(c->events);
    free(c->cluster);
    free(c);
}
