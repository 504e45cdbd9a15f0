/* kube/reflector.c - list+watch of one resource; see reflector.h. */
#include "kube/reflector.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "kube/trim.h"

/* What the timer does when it fires. */
typedef enum next_action { ACT_LIST, ACT_WATCH } next_action;

struct hoist_reflector {
    uv_loop_t *loop;
    hoist_http *http;
    hoist_kube_config *kube;
    const hoist_logger *log;
    hoist_reflector_config cfg;      /* strings below are owned copies */
    char *path, *api_version, *kind;
    uv_timer_t timer;
    next_action next;
    hoist_http_call *call;           /* request in flight, or NULL */
    char *rv;                        /* last resourceVersion */
    char *cont;                      /* continue token while paging a list */
    json_t *known;                   /* key -> resourceVersion the consumer holds */
    json_t *seen;                    /* during a list: keys listed so far */
    char *line;                      /* partial watch line */
    size_t line_len, line_cap;
    bool line_skip;                  /* discarding an overlong line up to its newline */
    bool watch_gone;                 /* the watch said 410 */
    bool watch_failed;               /* the watch sent an ERROR event */
    bool watch_got_event;            /* the current watch delivered something */
    bool watched_once;
    bool synced;
    bool absent;
    bool in_data;                    /* inside the watch data callback */
    bool closing;
    unsigned failures;               /* failures in a row */
    uint64_t rng;
    uint64_t last_delay_ms;
    hoist_reflector_stats stats;
};

static const char component[] = "kube";

/* ---- backoff ------------------------------------------------------------- */

static uint64_t next_random(uint64_t *s)
{
    /* splitmix64 */
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint64_t hoist_kube_backoff_ms(unsigned failures, uint32_t base_ms, uint32_t cap_ms,
                               uint64_t *rng)
{
    uint64_t d = base_ms;
    for (unsigned i = 1; i < failures && d < cap_ms; i++)
        d *= 2;
    if (d > cap_ms)
        d = cap_ms;
    uint64_t half = d / 2;
    return half + (d - half ? next_random(rng) % (d - half + 1) : 0);
}

uint64_t hoist_kube_retry_after_ms(const char *value, int64_t now_unix)
{
    if (!value)
        return 0;
    while (*value == ' ' || *value == '\t')
        value++;
    if (!*value)
        return 0;
    uint64_t ms;
    if (isdigit((unsigned char)*value)) {
        char *end;
        unsigned long long s = strtoull(value, &end, 10);
        while (*end == ' ' || *end == '\t')
            end++;
        if (*end)
            return 0;
        ms = s > HOIST_REFLECTOR_RETRY_AFTER_MAX_MS / 1000 ? HOIST_REFLECTOR_RETRY_AFTER_MAX_MS
                                                           : (uint64_t)s * 1000;
    } else {
        time_t t = curl_getdate(value, NULL);
        if (t == (time_t)-1 || (int64_t)t <= now_unix)
            return 0;
        int64_t d = (int64_t)t - now_unix;
        ms = d > HOIST_REFLECTOR_RETRY_AFTER_MAX_MS / 1000 ? HOIST_REFLECTOR_RETRY_AFTER_MAX_MS
                                                           : (uint64_t)d * 1000;
    }
    return ms;
}

/* ---- small helpers --------------------------------------------------------- */

static char *url_escape(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(s);
    char *out = malloc(n * 3 + 1), *o = out;
    if (!out)
        return NULL;
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~') {
            *o++ = (char)ch;
        } else {
            *o++ = '%';
            *o++ = hex[ch >> 4];
            *o++ = hex[ch & 15];
        }
    }
    *o = '\0';
    return out;
}

static void set_str(char **dst, const char *src)
{
    char *copy = src ? strdup(src) : NULL;
    if (src && !copy)
        return; /* keep the old value when out of memory */
    free(*dst);
    *dst = copy;
}

/* The value of response header `name`, or NULL (borrowed). */
static const char *header(const hoist_http_response *resp, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < resp->n_headers; i++) {
        const char *h = resp->headers[i];
        if (!strncasecmp(h, name, n) && h[n] == ':') {
            h += n + 1;
            while (*h == ' ' || *h == '\t')
                h++;
            return h;
        }
    }
    return NULL;
}

/* The "message" of a Status body, for logs; "" when none. */
static void status_message(const hoist_http_response *resp, char *buf, size_t size)
{
    buf[0] = '\0';
    json_t *st = json_loadb(resp->body, resp->body_len, 0, NULL);
    const char *m = json_string_value(json_object_get(st, "message"));
    if (m)
        snprintf(buf, size, ": %s", m);
    json_decref(st);
}

/* Check an object's envelope; NULL when fine, else what is wrong. Fills
 * key (ns/name or name) and rv ("" when absent). */
static const char *check_object(const json_t *obj, char *key, size_t size, const char **rv)
{
    if (!json_is_object(obj))
        return "the object is not a JSON object";
    const json_t *md = json_object_get(obj, "metadata");
    if (!json_is_object(md))
        return "metadata: missing or not an object";
    const json_t *name = json_object_get(md, "name");
    if (!json_is_string(name) || !*json_string_value(name))
        return "metadata.name: missing or not a string";
    const json_t *ns = json_object_get(md, "namespace");
    if (ns && !json_is_null(ns) && !json_is_string(ns))
        return "metadata.namespace: not a string";
    const json_t *v = json_object_get(md, "resourceVersion");
    if (v && !json_is_null(v) && !json_is_string(v))
        return "metadata.resourceVersion: not a string";
    const json_t *kind = json_object_get(obj, "kind");
    if (kind && !json_is_string(kind))
        return "kind: not a string";
    const json_t *av = json_object_get(obj, "apiVersion");
    if (av && !json_is_string(av))
        return "apiVersion: not a string";
    *rv = json_is_string(v) ? json_string_value(v) : "";
    if (json_is_string(ns) && *json_string_value(ns))
        snprintf(key, size, "%s/%s", json_string_value(ns), json_string_value(name));
    else
        snprintf(key, size, "%s", json_string_value(name));
    return NULL;
}

static void malformed(hoist_reflector *r, const char *where, const char *why)
{
    r->stats.malformed++;
    hoist_log(r->log, HOIST_LOG_WARN, component, "%s %s: skipped a malformed object: %s",
              where, r->path, why);
}

static void emit(hoist_reflector *r, hoist_object_op op, const json_t *obj)
{
    hoist_object_event ev = {.op = op, .object = obj};
    r->stats.events++;
    r->cfg.on_event(r->cfg.arg, &ev);
}

/* Fill kind/apiVersion when missing and trim. */
static void prepare(hoist_reflector *r, json_t *obj)
{
    if (!json_object_get(obj, "kind"))
        json_object_set_new(obj, "kind", json_string(r->kind));
    if (!json_object_get(obj, "apiVersion"))
        json_object_set_new(obj, "apiVersion", json_string(r->api_version));
    if (!r->cfg.keep_whole)
        hoist_kube_trim(obj);
}

/* A DELETE for a key the consumer holds. */
static void emit_delete_key(hoist_reflector *r, const char *key)
{
    const char *slash = strchr(key, '/');
    char ns[256] = "";
    const char *name = key;
    if (slash) {
        snprintf(ns, sizeof ns, "%.*s", (int)(slash - key), key);
        name = slash + 1;
    }
    json_t *ref = hoist_object_ref(r->api_version, r->kind, slash ? ns : NULL, name);
    if (!ref) {
        hoist_log(r->log, HOIST_LOG_ERROR, component, "%s: out of memory", r->path);
        return;
    }
    emit(r, HOIST_OBJECT_DELETE, ref);
    json_decref(ref);
}

/* ---- scheduling -------------------------------------------------------------- */

static void start_list(hoist_reflector *r);
static void start_watch(hoist_reflector *r);

static void on_timer(uv_timer_t *t)
{
    hoist_reflector *r = t->data;
    if (r->closing)
        return;
    if (r->next == ACT_LIST)
        start_list(r);
    else
        start_watch(r);
}

static void schedule(hoist_reflector *r, next_action act, uint64_t delay_ms)
{
    r->next = act;
    r->last_delay_ms = delay_ms;
    if (uv_timer_start(&r->timer, on_timer, delay_ms, 0) != 0)
        hoist_log(r->log, HOIST_LOG_ERROR, component, "%s: cannot arm the retry timer", r->path);
}

/* A failure: back off, then do act. extra_ms is a floor (Retry-After). */
static void retry_later(hoist_reflector *r, next_action act, uint64_t floor_ms)
{
    r->failures++;
    uint64_t d = hoist_kube_backoff_ms(r->failures, r->cfg.backoff_base_ms, r->cfg.backoff_cap_ms,
                                       &r->rng);
    if (d < floor_ms)
        d = floor_ms;
    schedule(r, act, d);
}

/* Relist from scratch (a fresh list, then the difference). */
static void relist(hoist_reflector *r, uint64_t delay_ms)
{
    set_str(&r->cont, NULL);
    json_object_clear(r->seen);
    schedule(r, ACT_LIST, delay_ms);
}

/* Common request options. */
static void request_options(hoist_reflector *r, hoist_http_options *o)
{
    memset(o, 0, sizeof *o);
    hoist_err e = {{0}};
    if (hoist_kube_config_refresh_token(r->kube, uv_now(r->loop), &e) < 0)
        hoist_log(r->log, HOIST_LOG_WARN, component, "%s (keeping the previous token)", e.msg);
    o->ca_pem = r->kube->ca.data;
    o->ca_len = r->kube->ca.len;
    o->cert_pem = r->kube->cert.data;
    o->cert_len = r->kube->cert.len;
    o->key_pem = r->kube->key.data;
    o->key_len = r->kube->key.len;
    o->insecure = r->kube->insecure;
    o->bearer_token = r->kube->token;
}

static const char *const json_accept[] = {"Accept: application/json"};

/* Send a GET; on failure to start, back off and do `act` again. */
static void send_get(hoist_reflector *r, const char *url, uint32_t timeout_ms, bool stream,
                     hoist_http_cb cb, next_action act);

/* ---- the absent optional resource ---------------------------------------------- */

/* Forget every object the consumer holds except the keys in `keep` (may be NULL). */
static void sweep(hoist_reflector *r, const json_t *keep)
{
    const char *key;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(r->known, tmp, key, v) {
        if (keep && json_object_get(keep, key))
            continue;
        char *k = strdup(key);
        if (!k)
            continue;
        json_object_del(r->known, key);
        emit_delete_key(r, k);
        free(k);
        if (r->closing)
            return;
    }
}

static void mark_synced(hoist_reflector *r)
{
    if (r->synced)
        return;
    r->synced = true;
    if (r->cfg.on_synced)
        r->cfg.on_synced(r->cfg.arg);
}

static void went_absent(hoist_reflector *r)
{
    if (!r->absent)
        hoist_log(r->log, HOIST_LOG_INFO, component,
                  "%s: not served (404; the CRD is not installed?); checking again every %u s",
                  r->path, r->cfg.absent_retry_ms / 1000);
    r->absent = true;
    r->failures = 0;
    set_str(&r->rv, NULL);
    sweep(r, NULL);
    if (r->closing)
        return;
    mark_synced(r);
    if (r->closing)
        return;
    relist(r, r->cfg.absent_retry_ms);
}

/* ---- LIST -------------------------------------------------------------------- */

static void on_list_done(void *arg, const hoist_error *err, const hoist_http_response *resp);

static void start_list(hoist_reflector *r)
{
    char *url = NULL;
    char *cont = r->cont ? url_escape(r->cont) : NULL;
    int n = cont ? asprintf(&url, "%s%s?limit=%u&continue=%s", r->kube->server, r->path,
                            r->cfg.page_size, cont)
                 : asprintf(&url, "%s%s?limit=%u", r->kube->server, r->path, r->cfg.page_size);
    free(cont);
    if (n < 0) {
        hoist_log(r->log, HOIST_LOG_ERROR, component, "%s: out of memory", r->path);
        retry_later(r, ACT_LIST, 0);
        return;
    }
    if (!r->cont && r->synced && !r->absent)
        r->stats.relists++;
    r->stats.lists++;
    send_get(r, url, 0, false, on_list_done, ACT_LIST);
    free(url);
}

/* Deliver one listed item; false when the reflector was closed meanwhile. */
static bool list_item(hoist_reflector *r, json_t *item, size_t i)
{
    char key[512], where[64];
    const char *rv;
    const char *bad = check_object(item, key, sizeof key, &rv);
    if (bad) {
        snprintf(where, sizeof where, "list items[%zu]", i);
        malformed(r, where, bad);
        return true;
    }
    if (json_object_get(r->seen, key)) {
        snprintf(where, sizeof where, "list items[%zu]", i);
        malformed(r, where, "listed twice");
        return true;
    }
    json_object_set_new(r->seen, key, json_true());
    const char *before = json_string_value(json_object_get(r->known, key));
    if (before && strcmp(before, rv) == 0 && *rv)
        return true; /* the consumer has this version */
    json_object_set_new(r->known, key, json_string(rv));
    prepare(r, item);
    emit(r, before ? HOIST_OBJECT_UPDATE : HOIST_OBJECT_ADD, item);
    return !r->closing;
}

static void list_ok(hoist_reflector *r, const hoist_http_response *resp)
{
    json_error_t jerr;
    json_t *list = json_loadb(resp->body, resp->body_len, 0, &jerr);
    json_t *items = json_object_get(list, "items");
    json_t *md = json_object_get(list, "metadata");
    if (!json_is_object(list) || !(json_is_array(items) || json_is_null(items) || !items)) {
        r->stats.failures++;
        hoist_log(r->log, HOIST_LOG_WARN, component, "list %s: not a list (%s)", r->path,
                  list ? "no items array" : jerr.text);
        json_decref(list);
        set_str(&r->cont, NULL);
        json_object_clear(r->seen);
        retry_later(r, ACT_LIST, 0);
        return;
    }
    if (r->absent) {
        hoist_log(r->log, HOIST_LOG_INFO, component, "%s: served again", r->path);
        r->absent = false;
    }
    size_t i;
    json_t *item;
    json_array_foreach(items, i, item) {
        if (!list_item(r, item, i)) {
            json_decref(list);
            return;
        }
    }
    const char *cont = json_string_value(json_object_get(md, "continue"));
    if (cont && *cont) {
        set_str(&r->cont, cont);
        json_decref(list);
        start_list(r);
        return;
    }
    set_str(&r->cont, NULL);
    const char *rv = json_string_value(json_object_get(md, "resourceVersion"));
    set_str(&r->rv, rv ? rv : "");
    json_decref(list);
    sweep(r, r->seen);
    json_object_clear(r->seen);
    if (r->closing)
        return;
    r->failures = 0;
    mark_synced(r);
    if (r->closing)
        return;
    start_watch(r);
}

static void on_list_done(void *arg, const hoist_error *err, const hoist_http_response *resp)
{
    hoist_reflector *r = arg;
    r->call = NULL;
    if (r->closing)
        return;
    if (err) {
        r->stats.failures++;
        hoist_log(r->log, HOIST_LOG_WARN, component, "list %s failed: %s", r->path, err->message);
        retry_later(r, ACT_LIST, 0);
        return;
    }
    if (resp->status == 200) {
        list_ok(r, resp);
        return;
    }
    char msg[256];
    status_message(resp, msg, sizeof msg);
    if (resp->status == 404 && r->cfg.optional) {
        went_absent(r);
        return;
    }
    if (resp->status == 410) {
        /* the continue token expired: list again from the start */
        hoist_log(r->log, HOIST_LOG_INFO, component, "list %s: 410 Gone%s; listing again",
                  r->path, msg);
        set_str(&r->cont, NULL);
        json_object_clear(r->seen);
        retry_later(r, ACT_LIST, 0);
        return;
    }
    if (resp->status == 429) {
        r->stats.throttled++;
        uint64_t ra = hoist_kube_retry_after_ms(header(resp, "Retry-After"), (int64_t)time(NULL));
        hoist_log(r->log, HOIST_LOG_INFO, component, "list %s: 429 Too Many Requests%s",
                  r->path, msg);
        retry_later(r, ACT_LIST, ra);
        return;
    }
    r->stats.failures++;
    hoist_log(r->log, HOIST_LOG_WARN, component, "list %s: HTTP %ld%s", r->path, resp->status,
              msg);
    retry_later(r, ACT_LIST, 0);
}

/* ---- WATCH ------------------------------------------------------------------- */

static void on_watch_done(void *arg, const hoist_error *err, const hoist_http_response *resp);
static int on_watch_data(void *arg, const char *data, size_t len);

static void start_watch(hoist_reflector *r)
{
    char *url = NULL;
    char *rv = url_escape(r->rv ? r->rv : "");
    if (!rv || asprintf(&url, "%s%s?watch=1&allowWatchBookmarks=true&timeoutSeconds=%u"
                        "&resourceVersion=%s", r->kube->server, r->path,
                        r->cfg.watch_timeout_s, rv) < 0) {
        free(rv);
        hoist_log(r->log, HOIST_LOG_ERROR, component, "%s: out of memory", r->path);
        retry_later(r, ACT_WATCH, 0);
        return;
    }
    free(rv);
    if (r->watched_once)
        r->stats.watch_restarts++;
    r->watched_once = true;
    r->line_len = 0;
    r->line_skip = false;
    r->watch_gone = r->watch_failed = r->watch_got_event = false;
    /* the server ends the watch after timeoutSeconds; the client waits a little longer */
    send_get(r, url, (r->cfg.watch_timeout_s + 30) * 1000u, true, on_watch_done, ACT_WATCH);
    free(url);
}

/* One watch line; returns false to end the watch (410, ERROR, closed). */
static bool watch_line(hoist_reflector *r, const char *line, size_t len)
{
    while (len && (line[len - 1] == '\r' || line[len - 1] == ' '))
        len--;
    if (len == 0)
        return true;
    json_error_t jerr;
    json_t *ev = json_loadb(line, len, 0, &jerr);
    if (!json_is_object(ev)) {
        char why[200];
        snprintf(why, sizeof why, "not a JSON object (%s)", ev ? "wrong type" : jerr.text);
        malformed(r, "watch", why);
        json_decref(ev);
        return true;
    }
    const char *type = json_string_value(json_object_get(ev, "type"));
    json_t *obj = json_object_get(ev, "object");
    if (!type || !json_is_object(obj)) {
        malformed(r, "watch", !type ? "event without a type" : "event without an object");
        json_decref(ev);
        return true;
    }
    bool go_on = true;
    if (!strcmp(type, "BOOKMARK")) {
        const char *rv =
            json_string_value(json_object_get(json_object_get(obj, "metadata"), "resourceVersion"));
        if (rv && *rv) {
            set_str(&r->rv, rv);
            r->stats.bookmarks++;
            r->watch_got_event = true;
        } else {
            malformed(r, "watch", "BOOKMARK without metadata.resourceVersion");
        }
    } else if (!strcmp(type, "ERROR")) {
        json_int_t code = json_integer_value(json_object_get(obj, "code"));
        const char *msg = json_string_value(json_object_get(obj, "message"));
        if (code == 410) {
            r->watch_gone = true;
        } else {
            r->watch_failed = true;
            hoist_log(r->log, HOIST_LOG_WARN, component, "watch %s: error %lld: %s", r->path,
                      (long long)code, msg ? msg : "(no message)");
        }
        go_on = false;
    } else if (!strcmp(type, "ADDED") || !strcmp(type, "MODIFIED") || !strcmp(type, "DELETED")) {
        char key[512];
        const char *rv;
        const char *bad = check_object(obj, key, sizeof key, &rv);
        if (bad) {
            malformed(r, "watch", bad);
        } else {
            r->watch_got_event = true;
            if (*rv)
                set_str(&r->rv, rv);
            prepare(r, obj);
            if (type[0] == 'D') {
                bool held = json_object_get(r->known, key) != NULL;
                json_object_del(r->known, key);
                if (held)
                    emit(r, HOIST_OBJECT_DELETE, obj);
            } else {
                bool held = json_object_get(r->known, key) != NULL;
                json_object_set_new(r->known, key, json_string(rv));
                emit(r, held ? HOIST_OBJECT_UPDATE : HOIST_OBJECT_ADD, obj);
            }
            go_on = !r->closing;
        }
    } else {
        char why[96];
        snprintf(why, sizeof why, "unknown event type \"%.40s\"", type);
        malformed(r, "watch", why);
    }
    json_decref(ev);
    return go_on;
}

static int on_watch_data(void *arg, const char *data, size_t len)
{
    hoist_reflector *r = arg;
    if (r->closing)
        return -1;
    r->in_data = true;
    int rc = 0;
    while (len) {
        const char *nl = memchr(data, '\n', len);
        size_t take = nl ? (size_t)(nl - data) : len;
        if (!r->line_skip) {
            if (r->line_len + take > HOIST_REFLECTOR_MAX_LINE) {
                malformed(r, "watch", "event longer than the line limit");
                r->line_skip = true;
                r->line_len = 0;
            } else {
                if (r->line_len + take + 1 > r->line_cap) {
                    size_t cap = r->line_cap ? r->line_cap : 4096;
                    while (cap < r->line_len + take + 1)
                        cap *= 2;
                    char *p = realloc(r->line, cap);
                    if (!p) {
                        hoist_log(r->log, HOIST_LOG_ERROR, component, "watch %s: out of memory",
                                  r->path);
                        r->watch_failed = true;
                        rc = -1;
                        break;
                    }
                    r->line = p;
                    r->line_cap = cap;
                }
                memcpy(r->line + r->line_len, data, take);
                r->line_len += take;
            }
        }
        if (!nl)
            break;
        data = nl + 1;
        len -= take + 1;
        if (r->line_skip) {
            r->line_skip = false;
            continue;
        }
        size_t n = r->line_len;
        r->line_len = 0;
        if (!watch_line(r, r->line, n)) {
            rc = -1;
            break;
        }
    }
    r->in_data = false;
    return rc;
}

static void on_watch_done(void *arg, const hoist_error *err, const hoist_http_response *resp)
{
    hoist_reflector *r = arg;
    r->call = NULL;
    if (r->closing)
        return;
    if (r->watch_got_event)
        r->failures = 0;
    if (r->watch_gone || (resp && resp->status == 410)) {
        hoist_log(r->log, HOIST_LOG_INFO, component,
                  "watch %s: resourceVersion %s is gone (410); listing again", r->path,
                  r->rv ? r->rv : "");
        set_str(&r->rv, NULL);
        relist(r, 0);
        return;
    }
    if (r->watch_failed) {
        r->stats.failures++;
        retry_later(r, ACT_WATCH, 0);
        return;
    }
    if (err) {
        r->stats.failures++;
        hoist_log(r->log, HOIST_LOG_WARN, component, "watch %s failed: %s", r->path,
                  err->message);
        retry_later(r, ACT_WATCH, 0);
        return;
    }
    if (resp->status >= 200 && resp->status < 300) {
        schedule(r, ACT_WATCH, 0); /* the server's timeout: watch again from rv */
        return;
    }
    char msg[256];
    status_message(resp, msg, sizeof msg);
    if (resp->status == 404 && r->cfg.optional) {
        went_absent(r);
        return;
    }
    if (resp->status == 429) {
        r->stats.throttled++;
        uint64_t ra = hoist_kube_retry_after_ms(header(resp, "Retry-After"), (int64_t)time(NULL));
        hoist_log(r->log, HOIST_LOG_INFO, component, "watch %s: 429 Too Many Requests%s",
                  r->path, msg);
        retry_later(r, ACT_WATCH, ra);
        return;
    }
    r->stats.failures++;
    hoist_log(r->log, HOIST_LOG_WARN, component, "watch %s: HTTP %ld%s", r->path, resp->status,
              msg);
    retry_later(r, ACT_WATCH, 0);
}

static void send_get(hoist_reflector *r, const char *url, uint32_t timeout_ms, bool stream,
                     hoist_http_cb cb, next_action act)
{
    hoist_http_options o;
    request_options(r, &o);
    if (stream)
        o.on_data = on_watch_data;
    hoist_http_request req = {"GET", url, json_accept, 1, NULL, 0, timeout_ms};
    hoist_err e = {{0}};
    r->call = hoist_http_start_opts(r->http, &req, &o, cb, r, &e);
    if (!r->call) {
        r->stats.failures++;
        hoist_log(r->log, HOIST_LOG_WARN, component, "%s", e.msg);
        retry_later(r, act, 0);
    }
}

/* ---- public ------------------------------------------------------------------- */

hoist_reflector *hoist_reflector_new(uv_loop_t *loop, hoist_http *http, hoist_kube_config *kube,
                                     const hoist_logger *log, const hoist_reflector_config *cfg,
                                     hoist_err *err)
{
    if (!cfg || !cfg->path || cfg->path[0] != '/' || !cfg->kind || !cfg->api_version ||
        !cfg->on_event) {
        hoist_errf(err, "reflector: needs a path starting with '/', a kind, an apiVersion and "
                   "an event callback");
        return NULL;
    }
    if (!kube || !kube->server) {
        hoist_errf(err, "reflector %s: no API server configured", cfg->path);
        return NULL;
    }
    hoist_reflector *r = calloc(1, sizeof *r);
    if (!r) {
        hoist_errf(err, "reflector %s: out of memory", cfg->path);
        return NULL;
    }
    r->loop = loop;
    r->http = http;
    r->kube = kube;
    r->log = log;
    r->cfg = *cfg;
    r->path = strdup(cfg->path);
    r->kind = strdup(cfg->kind);
    r->api_version = strdup(cfg->api_version);
    r->known = json_object();
    r->seen = json_object();
    if (!r->cfg.page_size)
        r->cfg.page_size = HOIST_REFLECTOR_PAGE_SIZE;
    if (!r->cfg.watch_timeout_s)
        r->cfg.watch_timeout_s = HOIST_REFLECTOR_WATCH_TIMEOUT_S;
    if (!r->cfg.backoff_base_ms)
        r->cfg.backoff_base_ms = HOIST_REFLECTOR_BACKOFF_BASE_MS;
    if (!r->cfg.backoff_cap_ms)
        r->cfg.backoff_cap_ms = HOIST_REFLECTOR_BACKOFF_CAP_MS;
    if (!r->cfg.absent_retry_ms)
        r->cfg.absent_retry_ms = HOIST_REFLECTOR_ABSENT_RETRY_MS;
    r->rng = cfg->seed;
    if (!r->path || !r->kind || !r->api_version || !r->known || !r->seen ||
        uv_timer_init(loop, &r->timer) != 0) {
        free(r->path);
        free(r->kind);
        free(r->api_version);
        json_decref(r->known);
        json_decref(r->seen);
        free(r);
        hoist_errf(err, "reflector %s: out of memory", cfg->path);
        return NULL;
    }
    r->cfg.path = r->path;
    r->cfg.kind = r->kind;
    r->cfg.api_version = r->api_version;
    r->timer.data = r;
    return r;
}

int hoist_reflector_start(hoist_reflector *r, hoist_err *err)
{
    start_list(r);
    if (!r->call) {
        hoist_errf(err, "reflector %s: cannot start the first list (retrying in %llu ms)",
                   r->path, (unsigned long long)r->last_delay_ms);
        return -1;
    }
    return 0;
}

static void on_closed(uv_handle_t *h)
{
    hoist_reflector *r = h->data;
    json_decref(r->known);
    json_decref(r->seen);
    free(r->line);
    free(r->rv);
    free(r->cont);
    free(r->path);
    free(r->kind);
    free(r->api_version);
    free(r);
}

void hoist_reflector_close(hoist_reflector *r)
{
    if (!r || r->closing)
        return;
    r->closing = true;
    if (r->call && !r->in_data) {
        hoist_http_call *c = r->call;
        r->call = NULL;
        hoist_http_cancel(r->http, c); /* its callback sees closing and returns */
    }
    /* inside the data callback, on_watch_data returns -1 and the http client
     * completes the call (on_watch_done sees closing) before the timer closes */
    uv_timer_stop(&r->timer);
    uv_close((uv_handle_t *)&r->timer, on_closed);
}

const hoist_reflector_stats *hoist_reflector_get_stats(const hoist_reflector *r)
{
    return &r->stats;
}

const char *hoist_reflector_resource_version(const hoist_reflector *r)
{
    return r->rv ? r->rv : "";
}

uint64_t hoist_reflector_last_delay_ms(const hoist_reflector *r)
{
    return r->last_delay_ms;
}

bool hoist_reflector_synced(const hoist_reflector *r)
{
    return r->synced;
}

bool hoist_reflector_absent(const hoist_reflector *r)
{
    return r->absent;
}

size_t hoist_reflector_size(const hoist_reflector *r)
{
    return json_object_size(r->known);
}
