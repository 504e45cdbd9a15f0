/* kube/events.c - aggregated, rate-limited Events on pods; see events.h. */
#include "kube/events.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "util/strmap.h"

/* ---- a small string-keyed map (chained) ------------------------------------------ */

typedef struct slot {
    struct slot *next;
    char *key;
    void *val;
} slot;

typedef struct map {
    slot **b;
    size_t cap, n;
} map;

static slot **map_find(map *m, const char *key)
{
    if (!m->cap)
        return NULL;
    slot **s = &m->b[hoist_hash_bytes(key, strlen(key)) & (m->cap - 1)];
    while (*s && strcmp((*s)->key, key) != 0)
        s = &(*s)->next;
    return s;
}

static void *map_get(map *m, const char *key)
{
    slot **s = map_find(m, key);
    return s && *s ? (*s)->val : NULL;
}

static int map_put(map *m, const char *key, void *val)
{
    if (m->n + 1 > m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 64;
        slot **b = calloc(cap, sizeof *b);
        if (!b)
            return -1;
        for (size_t i = 0; i < m->cap; i++) {
            slot *s = m->b[i];
            while (s) {
                slot *next = s->next;
                size_t h = hoist_hash_bytes(s->key, strlen(s->key)) & (cap - 1);
                s->next = b[h];
                b[h] = s;
                s = next;
            }
        }
        free(m->b);
        m->b = b;
        m->cap = cap;
    }
    slot *s = calloc(1, sizeof *s);
    if (!s || !(s->key = strdup(key))) {
        free(s);
        return -1;
    }
    s->val = val;
    slot **at = &m->b[hoist_hash_bytes(key, strlen(key)) & (m->cap - 1)];
    s->next = *at;
    *at = s;
    m->n++;
    return 0;
}

static void map_del(map *m, const char *key)
{
    slot **s = map_find(m, key);
    if (!s || !*s)
        return;
    slot *dead = *s;
    *s = dead->next;
    free(dead->key);
    free(dead);
    m->n--;
}

/* ---- the recorder ---------------------------------------------------------------- */

/* A rate-limit bucket. */
typedef struct bucket {
    double tokens;
    uint64_t at_ms;             /* when tokens was computed */
} bucket;

/* One Event as the API server holds it (or will). */
typedef struct entry {
    struct hoist_kube_events *ev;
    char *key;
    char *ns, *pod, *type, *reason, *message;
    char *uid;                  /* the pod's uid, or NULL */
    char *name;                 /* the Event's name, "<pod>.<hex>" */
    uint64_t count, sent_count; /* count now; count in the last request sent */
    uint64_t first_ms, last_ms;
    bool created;               /* the API server has it */
    hoist_kube_request *req;    /* in flight, or NULL */
} entry;

struct hoist_kube_events {
    hoist_kube_client client;
    hoist_kube_events_config cfg;
    char *component, *instance;
    uint64_t rng;
    uint64_t seq;
    map entries;                /* key -> entry */
    map buckets;                /* "ns/name" -> bucket */
    bucket global;
    size_t in_flight;
    hoist_kube_events_stats stats;
};

static const char log_component[] = "kube/events";

static uint64_t now_ms(const hoist_kube_events *ev)
{
    return ev->cfg.now_ms(ev->cfg.clock_arg);
}

/* Refill b up to burst at now, one token per refill_ms. */
static void refill(bucket *b, uint64_t now, uint32_t burst, uint32_t refill_ms)
{
    if (now > b->at_ms) {
        b->tokens += (double)(now - b->at_ms) / (double)refill_ms;
        if (b->tokens > burst)
            b->tokens = burst;
    }
    b->at_ms = now;
}

static void entry_free(entry *e)
{
    free(e->key);
    free(e->ns);
    free(e->pod);
    free(e->type);
    free(e->reason);
    free(e->message);
    free(e->uid);
    free(e->name);
    free(e);
}

/* Forget entries past their window and buckets that are full again. */
static void sweep(hoist_kube_events *ev, uint64_t now)
{
    for (size_t i = 0; i < ev->entries.cap; i++) {
        slot *s = ev->entries.b[i];
        while (s) {
            slot *next = s->next;
            entry *e = s->val;
            if (!e->req && now - e->last_ms > ev->cfg.window_ms) {
                map_del(&ev->entries, e->key);
                entry_free(e);
            }
            s = next;
        }
    }
    for (size_t i = 0; i < ev->buckets.cap; i++) {
        slot *s = ev->buckets.b[i];
        while (s) {
            slot *next = s->next;
            bucket *b = s->val;
            refill(b, now, ev->cfg.burst, ev->cfg.refill_ms);
            if (b->tokens >= ev->cfg.burst) {
                char *key = strdup(s->key);
                if (key) {
                    map_del(&ev->buckets, key);
                    free(key);
                    free(b);
                }
            }
            s = next;
        }
    }
}

/* Take a token for object `obj` and one from the global bucket: true when both had one. */
static bool take_tokens(hoist_kube_events *ev, const char *obj, uint64_t now)
{
    refill(&ev->global, now, ev->cfg.global_burst, ev->cfg.global_refill_ms);
    bucket *b = map_get(&ev->buckets, obj);
    if (b)
        refill(b, now, ev->cfg.burst, ev->cfg.refill_ms);
    if (ev->global.tokens < 1.0 || (b && b->tokens < 1.0))
        return false;
    if (!b) {
        b = calloc(1, sizeof *b);
        if (!b || map_put(&ev->buckets, obj, b) < 0) {
            free(b);
            return false;
        }
        b->tokens = ev->cfg.burst;
        b->at_ms = now;
    }
    b->tokens -= 1.0;
    ev->global.tokens -= 1.0;
    return true;
}

/* ---- requests ---------------------------------------------------------------- */

static void send_entry(hoist_kube_events *ev, entry *e);

static void on_sent(void *arg, const hoist_kube_result *res)
{
    entry *e = arg;
    hoist_kube_events *ev = e->ev;
    e->req = NULL;
    ev->in_flight--;
    bool was_patch = e->created;
    if (res->status >= 200 && res->status < 300) {
        if (was_patch)
            ev->stats.patched++;
        else
            ev->stats.created++;
        e->created = true;
    } else if (was_patch && res->status == 404) {
        /* the Event expired on the server: create it again under a new name */
        ev->stats.recreated++;
        e->created = false;
        e->sent_count = 0;
        free(e->name);
        e->name = NULL;
    } else {
        ev->stats.failures++;
        hoist_log(ev->client.log, HOIST_LOG_WARN, log_component,
                  "%s Event %s on pod %s/%s: %s%ld%s%s", was_patch ? "PATCH" : "POST",
                  e->reason, e->ns, e->pod, res->status ? "HTTP " : "", res->status,
                  *res->message ? ": " : "", res->message);
        e->sent_count = e->count; /* what was lost is not sent again by itself */
        return;
    }
    if (e->count != e->sent_count)
        send_entry(ev, e);
}

/* "<pod>.<hex>": a timestamp in ns from the clock, made unique by a counter. */
static char *event_name(hoist_kube_events *ev, const char *pod, uint64_t now)
{
    char *name = NULL;
    uint64_t ns = now * 1000000u + (ev->seq++ % 1000000u);
    if (asprintf(&name, "%s.%" PRIx64, pod, ns) < 0)
        return NULL;
    return name;
}

static void send_entry(hoist_kube_events *ev, entry *e)
{
    char first[40], last[40];
    hoist_kube_time(e->first_ms, false, first, sizeof first);
    hoist_kube_time(e->last_ms, false, last, sizeof last);
    json_t *body;
    char *path = NULL, *ens = hoist_kube_escape(e->ns), *ename = NULL;
    const char *method, *ctype;
    if (!e->name)
        e->name = event_name(ev, e->pod, e->last_ms);
    if (e->name)
        ename = hoist_kube_escape(e->name);
    if (e->created) {
        method = "PATCH";
        ctype = "application/strategic-merge-patch+json";
        body = json_pack("{s:I, s:s}", "count", (json_int_t)e->count, "lastTimestamp", last);
        if (ens && ename && asprintf(&path, "/api/v1/namespaces/%s/events/%s", ens, ename) < 0)
            path = NULL;
    } else {
        method = "POST";
        ctype = "application/json";
        body = json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:s, s:s, s:s, s:s}, s:s, s:s, s:s, "
                         "s:I, s:s, s:s, s:{s:s}, s:s}",
                         "apiVersion", "v1", "kind", "Event", "metadata", "name",
                         e->name ? e->name : "", "namespace", e->ns, "involvedObject",
                         "apiVersion", "v1", "kind", "Pod", "namespace", e->ns, "name", e->pod,
                         "reason", e->reason, "message", e->message, "type", e->type, "count",
                         (json_int_t)e->count, "firstTimestamp", first, "lastTimestamp", last,
                         "source", "component", ev->component, "reportingComponent",
                         ev->component);
        if (body && e->uid)
            json_object_set_new(json_object_get(body, "involvedObject"), "uid",
                                json_string(e->uid));
        if (body && ev->instance)
            json_object_set_new(body, "reportingInstance", json_string(ev->instance));
        if (ens && asprintf(&path, "/api/v1/namespaces/%s/events", ens) < 0)
            path = NULL;
    }
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    hoist_err err = {{0}};
    if (text && path && e->name)
        e->req = hoist_kube_request_start(&ev->client, method, path, ctype, text,
                                          &ev->cfg.retry, &ev->rng, &ev->stats.http, on_sent, e,
                                          &err);
    if (e->req) {
        ev->in_flight++;
        e->sent_count = e->count;
    } else {
        ev->stats.failures++;
        hoist_log(ev->client.log, HOIST_LOG_WARN, log_component, "Event %s on pod %s/%s: %s",
                  e->reason, e->ns, e->pod, err.msg[0] ? err.msg : "out of memory");
    }
    free(text);
    free(path);
    free(ens);
    free(ename);
}

/* ---- emitting ------------------------------------------------------------------- */

/* Cut s to at most max bytes at a UTF-8 boundary (in place). */
static void cut_utf8(char *s, size_t max)
{
    size_t n = strlen(s);
    if (n <= max)
        return;
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
        max--;
    s[max] = '\0';
}

int hoist_kube_event_pod(hoist_kube_events *ev, const char *ns, const char *name,
                         const char *type, const char *reason, const char *message,
                         hoist_err *err)
{
    if (!ns || !*ns || !name || !*name || !type || !reason || !*reason || !message)
        return hoist_errf(err, "event: missing namespace, name, type, reason or message");
    if (strcmp(type, "Normal") != 0 && strcmp(type, "Warning") != 0)
        return hoist_errf(err, "event %s on pod %s/%s: type: must be Normal or Warning, not \"%s\"",
                          reason, ns, name, type);
    uint64_t now = now_ms(ev);
    ev->stats.emitted++;
    if (ev->entries.n + ev->buckets.n > ev->cfg.max_entries)
        sweep(ev, now);
    char *obj = NULL, *msg = strdup(message), *key = NULL;
    if (!msg || asprintf(&obj, "%s/%s", ns, name) < 0)
        obj = NULL;
    if (msg)
        cut_utf8(msg, HOIST_KUBE_EVENT_MAX_MESSAGE);
    const char *uid = ev->cfg.pod_uid ? ev->cfg.pod_uid(ev->cfg.uid_arg, ns, name) : NULL;
    if (uid && !*uid)
        uid = NULL;
    if (obj && asprintf(&key, "%s\x1f%s\x1f%s\x1f%s\x1f%s", obj, uid ? uid : "", type, reason,
                        msg) < 0)
        key = NULL;
    if (!key) {
        free(obj);
        free(msg);
        return hoist_errf(err, "event: out of memory");
    }
    if (!take_tokens(ev, obj, now)) {
        ev->stats.rate_limited++;
        hoist_log(ev->client.log, HOIST_LOG_DEBUG, log_component,
                  "Event %s on pod %s dropped by the rate limit", reason, obj);
        free(obj);
        free(msg);
        free(key);
        return 1;
    }
    free(obj);
    entry *e = map_get(&ev->entries, key);
    if (e && (now - e->last_ms <= ev->cfg.window_ms || e->req)) {
        ev->stats.aggregated++;
        e->count++;
        if (now > e->last_ms)
            e->last_ms = now;
        if (!e->req)
            send_entry(ev, e);
        free(msg);
        free(key);
        return 0;
    }
    if (e) { /* seen before, but longer ago than the window: a new Event */
        free(e->name);
        e->name = NULL;
        e->created = false;
        free(msg);
        free(key);
    } else {
        e = calloc(1, sizeof *e);
        if (!e || map_put(&ev->entries, key, e) < 0) {
            free(e);
            free(msg);
            free(key);
            return hoist_errf(err, "event: out of memory");
        }
        e->ev = ev;
        e->key = key;
        e->message = msg;
        e->ns = strdup(ns);
        e->pod = strdup(name);
        e->type = strdup(type);
        e->reason = strdup(reason);
        e->uid = uid ? strdup(uid) : NULL;
        if (!e->ns || !e->pod || !e->type || !e->reason || (uid && !e->uid)) {
            map_del(&ev->entries, key);
            entry_free(e);
            return hoist_errf(err, "event: out of memory");
        }
    }
    e->count = 1;
    e->sent_count = 0;
    e->first_ms = e->last_ms = now;
    send_entry(ev, e);
    return 0;
}

int hoist_kube_event_nominated(hoist_kube_events *ev, const char *ns, const char *name,
                               const char *node, bool new_node, hoist_err *err)
{
    char msg[512];
    snprintf(msg, sizeof msg, "nominated for %s node %s", new_node ? "new" : "existing",
             node ? node : "?");
    return hoist_kube_event_pod(ev, ns, name, "Normal", HOIST_KUBE_REASON_NOMINATED, msg, err);
}

int hoist_kube_event_unschedulable(hoist_kube_events *ev, const char *ns, const char *name,
                                   const char *why, hoist_err *err)
{
    char *msg = NULL;
    if (asprintf(&msg, "hoist cannot place the pod: %s", why && *why ? why : "no reason given") <
        0)
        return hoist_errf(err, "event: out of memory");
    int rc = hoist_kube_event_pod(ev, ns, name, "Warning", HOIST_KUBE_REASON_FAILED_SCALING, msg,
                                  err);
    free(msg);
    return rc;
}

/* ---- the recorder ----------------------------------------------------------------- */

hoist_kube_events *hoist_kube_events_new(const hoist_kube_client *client,
                                         const hoist_kube_events_config *cfg, hoist_err *err)
{
    if (!client || !client->loop || !client->http || !client->kube) {
        hoist_errf(err, "kube events: missing loop, HTTP client or kubeconfig");
        return NULL;
    }
    hoist_kube_events *ev = calloc(1, sizeof *ev);
    if (!ev) {
        hoist_errf(err, "kube events: out of memory");
        return NULL;
    }
    ev->client = *client;
    if (cfg)
        ev->cfg = *cfg;
    hoist_kube_events_config *c = &ev->cfg;
    if (!c->window_ms)
        c->window_ms = HOIST_KUBE_EVENT_WINDOW_MS;
    if (!c->burst)
        c->burst = HOIST_KUBE_EVENT_BURST;
    if (!c->refill_ms)
        c->refill_ms = HOIST_KUBE_EVENT_REFILL_MS;
    if (!c->global_burst)
        c->global_burst = HOIST_KUBE_EVENT_GLOBAL_BURST;
    if (!c->global_refill_ms)
        c->global_refill_ms = HOIST_KUBE_EVENT_GLOBAL_REFILL_MS;
    if (!c->max_entries)
        c->max_entries = HOIST_KUBE_EVENT_MAX_ENTRIES;
    if (!c->now_ms)
        c->now_ms = hoist_kube_real_clock_ms;
    ev->component = strdup(c->component ? c->component : "hoist");
    ev->instance = c->instance ? strdup(c->instance) : NULL;
    c->component = c->instance = NULL;
    if (!ev->component || (cfg && cfg->instance && !ev->instance)) {
        hoist_kube_events_close(ev);
        hoist_errf(err, "kube events: out of memory");
        return NULL;
    }
    ev->rng = c->seed;
    ev->global.tokens = c->global_burst;
    ev->global.at_ms = now_ms(ev);
    return ev;
}

size_t hoist_kube_events_pending(const hoist_kube_events *ev)
{
    return ev ? ev->in_flight : 0;
}

const hoist_kube_events_stats *hoist_kube_events_get_stats(const hoist_kube_events *ev)
{
    return &ev->stats;
}

void hoist_kube_events_close(hoist_kube_events *ev)
{
    if (!ev)
        return;
    for (size_t i = 0; i < ev->entries.cap; i++) {
        slot *s = ev->entries.b[i];
        while (s) {
            slot *next = s->next;
            entry *e = s->val;
            hoist_kube_request_cancel(e->req);
            entry_free(e);
            free(s->key);
            free(s);
            s = next;
        }
    }
    for (size_t i = 0; i < ev->buckets.cap; i++) {
        slot *s = ev->buckets.b[i];
        while (s) {
            slot *next = s->next;
            free(s->val);
            free(s->key);
            free(s);
            s = next;
        }
    }
    free(ev->entries.b);
    free(ev->buckets.b);
    free(ev->component);
    free(ev->instance);
    free(ev);
}
