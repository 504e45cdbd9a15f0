/* apiserver/apiserver.c - the Kubernetes REST API over the store. */
#include "apiserver/apiserver.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/patch.h"
#include "apiserver/resources.h"

#define MAX_SEGMENTS 12

typedef struct api_watch api_watch;

struct hoist_apiserver {
    uv_loop_t *loop;
    hoist_httpd *httpd;
    hoist_apistore *store;
    uint64_t bookmark_ms;
    const hoist_logger *log;
    char *server_address;
    api_watch *watches;
    size_t n_watches;
    size_t closing_watches; /* timers still closing */
    bool closing;
};

struct api_watch {
    hoist_apiserver *a;
    const hoist_api_resource *res;
    hoist_httpd_stream *stream; /* NULL once ended */
    hoist_apiwatch *sw;
    uv_timer_t timer;
    uint64_t deadline;      /* uv_now ms; 0 = none */
    uint64_t next_bookmark; /* uv_now ms; 0 = no bookmarks */
    int table;              /* 0 objects, 1 meta.k8s.io/v1 Table, 2 v1beta1 */
    int include_object;     /* 0 none, 1 metadata, 2 object */
    bool header_sent;
    api_watch *prev, *next;
};

/* --- responses ---------------------------------------------------------------- */

static void send_json(hoist_httpd_req *req, int status, json_t *body /* stolen */)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (!text) {
        static const char oom[] = "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
                                  "\"status\":\"Failure\",\"message\":\"out of memory\","
                                  "\"reason\":\"InternalError\",\"code\":500}";
        hoist_httpd_respond(req, 500, "application/json", oom, sizeof oom - 1);
        return;
    }
    hoist_httpd_respond(req, status, "application/json", text, strlen(text));
    free(text);
}

static void send_error(hoist_httpd_req *req, const hoist_apierr *err)
{
    send_json(req, err->code, hoist_apierr_status(err));
}

static void send_status(hoist_httpd_req *req, int code, const char *reason, const char *msg)
{
    hoist_apierr e;
    hoist_apierr_set(&e, code, reason, "%s", msg);
    json_t *st = hoist_apierr_status(&e);
    if (code >= 400)
        json_object_set_new(st, "details", json_object());
    send_json(req, code, st);
}

static void not_found_path(hoist_httpd_req *req)
{
    send_status(req, 404, "NotFound", "the server could not find the requested resource");
}

static void method_not_allowed(hoist_httpd_req *req)
{
    send_status(req, 405, "MethodNotAllowed",
                "the server does not allow this method on the requested resource");
}

/* --- tables --------------------------------------------------------------------- */

void hoist_api_age(double seconds, char *buf, size_t n)
{
    if (seconds < -1) {
        snprintf(buf, n, "<invalid>");
        return;
    }
    long s = seconds < 0 ? 0 : (long)seconds;
    long m = s / 60, h = s / 3600, d = h / 24, y = d / 365;
    if (s < 120)
        snprintf(buf, n, "%lds", s);
    else if (m < 10)
        s % 60 ? snprintf(buf, n, "%ldm%lds", m, s % 60) : snprintf(buf, n, "%ldm", m);
    else if (m < 180)
        snprintf(buf, n, "%ldm", m);
    else if (h < 8)
        m % 60 ? snprintf(buf, n, "%ldh%ldm", h, m % 60) : snprintf(buf, n, "%ldh", h);
    else if (h < 48)
        snprintf(buf, n, "%ldh", h);
    else if (h < 24 * 8)
        h % 24 ? snprintf(buf, n, "%ldd%ldh", d, h % 24) : snprintf(buf, n, "%ldd", d);
    else if (d < 365 * 2)
        snprintf(buf, n, "%ldd", d);
    else if (d < 365 * 8)
        d % 365 ? snprintf(buf, n, "%ldy%ldd", y, d % 365) : snprintf(buf, n, "%ldy", y);
    else
        snprintf(buf, n, "%ldy", y);
}

static const char *str2(const json_t *o, const char *a, const char *b)
{
    return json_string_value(json_object_get(json_object_get(o, a), b));
}

static json_t *col(const char *name, const char *type, const char *format, int priority,
                   const char *desc)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:i}", "name", name, "type", type, "format", format,
                     "description", desc, "priority", priority);
}

static json_t *columns_for(const hoist_api_resource *r)
{
    json_t *c = json_array();
    json_array_append_new(c, col("Name", "string", "name", 0,
                                 "Name must be unique within a namespace."));
    if (!strcmp(r->kind, "Pod")) {
        json_array_append_new(c, col("Ready", "string", "", 0,
                                     "The aggregate readiness state of this pod."));
        json_array_append_new(c, col("Status", "string", "", 0,
                                     "The aggregate status of the containers in this pod."));
        json_array_append_new(c, col("Restarts", "string", "", 0,
                                     "The number of times the containers have restarted."));
        json_array_append_new(c, col("Age", "string", "", 0, "Time since creation."));
        json_array_append_new(c, col("IP", "string", "", 1, "IP address of the pod."));
        json_array_append_new(c, col("Node", "string", "", 1, "Node the pod is bound to."));
        json_array_append_new(c, col("Nominated Node", "string", "", 1,
                                     "Node the scheduler nominated for the pod."));
    } else if (!strcmp(r->kind, "Node")) {
        json_array_append_new(c, col("Status", "string", "", 0,
                                     "The status of the node (Ready condition)."));
        json_array_append_new(c, col("Roles", "string", "", 0, "The roles of the node."));
        json_array_append_new(c, col("Age", "string", "", 0, "Time since creation."));
        json_array_append_new(c, col("Version", "string", "", 0, "Kubelet version."));
    } else if (!strcmp(r->kind, "Namespace")) {
        json_array_append_new(c, col("Status", "string", "", 0, "The phase of the namespace."));
        json_array_append_new(c, col("Age", "string", "", 0, "Time since creation."));
    } else {
        json_array_append_new(c, col("Age", "string", "", 0, "Time since creation."));
    }
    return c;
}

static void age_of(const hoist_apistore *s, const json_t *obj, char *buf, size_t n)
{
    double created;
    if (hoist_api_time_parse(str2(obj, "metadata", "creationTimestamp"), &created) != 0) {
        snprintf(buf, n, "<unknown>");
        return;
    }
    hoist_api_age(hoist_apistore_now(s) - created, buf, n);
}

static const char *or_none(const char *s)
{
    return s && *s ? s : "<none>";
}

static json_t *cells_for(const hoist_apistore *s, const hoist_api_resource *r, const json_t *o)
{
    char age[32];
    age_of(s, o, age, sizeof age);
    const char *name = str2(o, "metadata", "name");
    json_t *c = json_pack("[s]", name ? name : "");
    if (!strcmp(r->kind, "Pod")) {
        json_t *status = json_object_get(o, "status");
        size_t total = json_array_size(json_object_get(json_object_get(o, "spec"), "containers"));
        size_t ready = 0;
        json_int_t restarts = 0;
        size_t i;
        json_t *cs;
        json_array_foreach(json_object_get(status, "containerStatuses"), i, cs) {
            ready += json_is_true(json_object_get(cs, "ready")) ? 1 : 0;
            restarts += json_integer_value(json_object_get(cs, "restartCount"));
        }
        char rd[32], rs[32];
        snprintf(rd, sizeof rd, "%zu/%zu", ready, total);
        snprintf(rs, sizeof rs, "%lld", (long long)restarts);
        const char *st = json_string_value(json_object_get(status, "reason"));
        if (!st)
            st = json_string_value(json_object_get(status, "phase"));
        if (str2(o, "metadata", "deletionTimestamp"))
            st = "Terminating";
        json_array_append_new(c, json_string(rd));
        json_array_append_new(c, json_string(st ? st : "Unknown"));
        json_array_append_new(c, json_string(rs));
        json_array_append_new(c, json_string(age));
        json_array_append_new(c, json_string(or_none(str2(o, "status", "podIP"))));
        json_array_append_new(c, json_string(or_none(str2(o, "spec", "nodeName"))));
        json_array_append_new(c, json_string(or_none(str2(o, "status", "nominatedNodeName"))));
    } else if (!strcmp(r->kind, "Node")) {
        const char *ready = "Unknown";
        size_t i;
        json_t *cond;
        json_array_foreach(json_object_get(json_object_get(o, "status"), "conditions"), i, cond) {
            const char *t = json_string_value(json_object_get(cond, "type"));
            const char *v = json_string_value(json_object_get(cond, "status"));
            if (t && v && !strcmp(t, "Ready"))
                ready = !strcmp(v, "True") ? "Ready" : !strcmp(v, "False") ? "NotReady" : "Unknown";
        }
        char st[64];
        snprintf(st, sizeof st, "%s%s", ready,
                 json_is_true(json_object_get(json_object_get(o, "spec"), "unschedulable"))
                     ? ",SchedulingDisabled"
                     : "");
        char roles[256] = "";
        const char *k;
        json_t *v;
        json_object_foreach(json_object_get(json_object_get(o, "metadata"), "labels"), k, v) {
            if (!strncmp(k, "node-role.kubernetes.io/", 24) && k[24]) {
                size_t len = strlen(roles);
                snprintf(roles + len, sizeof roles - len, "%s%s", len ? "," : "", k + 24);
            }
        }
        const char *ver = json_string_value(json_object_get(
            json_object_get(json_object_get(o, "status"), "nodeInfo"), "kubeletVersion"));
        json_array_append_new(c, json_string(st));
        json_array_append_new(c, json_string(or_none(roles)));
        json_array_append_new(c, json_string(age));
        json_array_append_new(c, json_string(ver ? ver : ""));
    } else if (!strcmp(r->kind, "Namespace")) {
        const char *phase = str2(o, "status", "phase");
        json_array_append_new(c, json_string(phase ? phase : "Active"));
        json_array_append_new(c, json_string(age));
    } else {
        json_array_append_new(c, json_string(age));
    }
    return c;
}

static json_t *row_for(const hoist_apistore *s, const hoist_api_resource *r, json_t *o,
                       int include_object)
{
    json_t *row = json_pack("{s:o}", "cells", cells_for(s, r, o));
    if (include_object == 2) {
        json_object_set(row, "object", o);
    } else if (include_object == 1) {
        json_object_set_new(row, "object",
                            json_pack("{s:s, s:s, s:O}", "kind", "PartialObjectMetadata",
                                      "apiVersion", "meta.k8s.io/v1", "metadata",
                                      json_object_get(o, "metadata")));
    }
    return row;
}

/* A Table of the given objects (a JSON array, borrowed). */
static json_t *table_of(const hoist_apistore *s, const hoist_api_resource *r, json_t *items,
                        const char *rv, int table, int include_object, bool header)
{
    json_t *rows = json_array();
    size_t i;
    json_t *o;
    json_array_foreach(items, i, o) json_array_append_new(rows, row_for(s, r, o, include_object));
    json_t *t = json_pack("{s:s, s:s, s:{s:s}, s:o, s:o}", "kind", "Table", "apiVersion",
                          table == 2 ? "meta.k8s.io/v1beta1" : "meta.k8s.io/v1", "metadata",
                          "resourceVersion", rv ? rv : "", "columnDefinitions",
                          header ? columns_for(r) : json_array(), "rows", rows);
    return t;
}

/* 0 plain objects, 1 Table v1, 2 Table v1beta1, from the Accept header. */
static int wants_table(hoist_httpd_req *req)
{
    const char *accept = hoist_httpd_header(req, "Accept");
    if (!accept || !strstr(accept, "as=Table"))
        return 0;
    return strstr(accept, "v=v1;") || strstr(accept, "v=v1,") ? 1 : 2;
}

static int include_object_param(hoist_httpd_req *req)
{
    const char *io = hoist_httpd_query(req, "includeObject");
    if (io && !strcmp(io, "None"))
        return 0;
    if (io && !strcmp(io, "Object"))
        return 2;
    return 1;
}

/* --- watches ---------------------------------------------------------------------- */

static void watch_timer_closed(uv_handle_t *h)
{
    api_watch *w = h->data;
    hoist_apiserver *a = w->a;
    free(w);
    a->closing_watches--;
    if (a->closing && !a->watches && a->closing_watches == 0) {
        free(a->server_address);
        free(a);
    }
}

/* Stop watch w; end its stream when end_stream (else the stream is gone). */
static void watch_stop(api_watch *w, bool end_stream)
{
    hoist_apiserver *a = w->a;
    hoist_apistore_unwatch(a->store, w->sw);
    w->sw = NULL;
    if (w->stream && end_stream)
        hoist_httpd_stream_end(w->stream);
    w->stream = NULL;
    if (w->prev)
        w->prev->next = w->next;
    else
        a->watches = w->next;
    if (w->next)
        w->next->prev = w->prev;
    a->n_watches--;
    a->closing_watches++;
    uv_timer_stop(&w->timer);
    uv_close((uv_handle_t *)&w->timer, watch_timer_closed);
}

static void watch_send(api_watch *w, const char *type, json_t *object /* stolen */)
{
    if (!w->stream) {
        json_decref(object);
        return;
    }
    json_t *ev = json_pack("{s:s, s:o}", "type", type, "object", object);
    char *line = ev ? json_dumps(ev, JSON_COMPACT) : NULL;
    json_decref(ev);
    int rc = -1;
    if (line) {
        size_t n = strlen(line);
        line[n] = '\n'; /* json_dumps leaves room for the NUL: replace it */
        rc = hoist_httpd_stream_write(w->stream, line, n + 1);
        free(line);
    }
    if (rc != 0) {
        hoist_log(w->a->log, HOIST_LOG_WARN, "apiserver",
                  "watch of %s: client too slow or out of memory; closing it", w->res->plural);
        watch_stop(w, true);
    }
}

static json_t *watch_object(api_watch *w, json_t *obj)
{
    if (!w->table)
        return json_incref(obj);
    json_t *items = json_pack("[O]", obj);
    json_t *t = table_of(w->a->store, w->res, items, str2(obj, "metadata", "resourceVersion"),
                         w->table, w->include_object, !w->header_sent);
    w->header_sent = true;
    json_decref(items);
    return t;
}

static void on_store_event(void *arg, hoist_api_event_type type, const hoist_api_event *ev)
{
    api_watch *w = arg;
    watch_send(w, hoist_api_event_name(type), watch_object(w, ev->object));
}

static void watch_stream_closed(void *arg, hoist_httpd_stream *s)
{
    (void)s;
    api_watch *w = arg;
    w->stream = NULL;
    watch_stop(w, false);
}

static void watch_arm(api_watch *w);

static void on_watch_timer(uv_timer_t *t)
{
    api_watch *w = t->data;
    uint64_t now = uv_now(w->a->loop);
    if (w->deadline && now >= w->deadline) {
        watch_stop(w, true);
        return;
    }
    if (w->next_bookmark && now >= w->next_bookmark) {
        char rv[32];
        snprintf(rv, sizeof rv, "%" PRIu64, hoist_apistore_rv(w->a->store));
        watch_send(w, "BOOKMARK",
                   json_pack("{s:s, s:s, s:{s:s}}", "kind", w->res->kind, "apiVersion",
                             w->res->group_version, "metadata", "resourceVersion", rv));
        if (!w->stream)
            return;
        w->next_bookmark = now + w->a->bookmark_ms;
    }
    watch_arm(w);
}

static void watch_arm(api_watch *w)
{
    uint64_t at = 0;
    if (w->deadline)
        at = w->deadline;
    if (w->next_bookmark && (!at || w->next_bookmark < at))
        at = w->next_bookmark;
    if (!at)
        return;
    uint64_t now = uv_now(w->a->loop);
    uv_timer_start(&w->timer, on_watch_timer, at > now ? at - now : 0, 0);
}

static bool parse_u64(const char *s, uint64_t *out)
{
    if (!s || !*s)
        return false;
    for (const char *c = s; *c; c++)
        if (*c < '0' || *c > '9')
            return false;
    errno = 0;
    unsigned long long v = strtoull(s, NULL, 10);
    if (errno)
        return false;
    *out = v;
    return true;
}

static void serve_watch(hoist_apiserver *a, hoist_httpd_req *req, const hoist_api_resource *r,
                        const char *ns, const char *labels, const char *fields)
{
    const char *rvs = hoist_httpd_query(req, "resourceVersion");
    uint64_t from = 0;
    if (rvs && *rvs && strcmp(rvs, "0") != 0 && !parse_u64(rvs, &from)) {
        hoist_apierr e;
        hoist_apierr_set(&e, 400, "BadRequest", "resourceVersion: invalid value \"%s\"", rvs);
        send_error(req, &e);
        return;
    }
    const char *ts = hoist_httpd_query(req, "timeoutSeconds");
    uint64_t timeout = 0;
    if (ts && *ts && !parse_u64(ts, &timeout)) {
        hoist_apierr e;
        hoist_apierr_set(&e, 400, "BadRequest", "timeoutSeconds: invalid value \"%s\"", ts);
        send_error(req, &e);
        return;
    }
    /* selectors are checked before the stream starts, so errors are plain 400s */
    hoist_selector ls = {0}, fs = {0};
    hoist_err perr = {{0}};
    int bad = hoist_selector_parse_labels(labels, &ls, &perr) != 0 ||
              hoist_selector_parse_fields(fields, &fs, &perr) != 0;
    hoist_selector_free(&ls);
    hoist_selector_free(&fs);
    if (bad) {
        hoist_apierr e;
        hoist_apierr_set(&e, 400, "BadRequest", "%s", perr.msg);
        send_error(req, &e);
        return;
    }
    api_watch *w = calloc(1, sizeof *w);
    if (!w) {
        send_status(req, 500, "InternalError", "out of memory");
        return;
    }
    w->a = a;
    w->res = r;
    w->table = wants_table(req);
    w->include_object = include_object_param(req);
    uv_timer_init(a->loop, &w->timer);
    w->timer.data = w;
    w->next = a->watches;
    if (a->watches)
        a->watches->prev = w;
    a->watches = w;
    a->n_watches++;
    w->stream = hoist_httpd_stream_start(req, 200, "application/json", watch_stream_closed, w);
    if (!w->stream) {
        watch_stop(w, false);
        return;
    }
    if (from > 0 && from < hoist_apistore_oldest_rv(a->store)) {
        hoist_apierr e;
        hoist_apierr_set(&e, 410, "Expired", "too old resource version: %" PRIu64 " (%" PRIu64 ")",
                         from, hoist_apistore_oldest_rv(a->store));
        watch_send(w, "ERROR", hoist_apierr_status(&e));
        if (w->stream)
            watch_stop(w, true);
        return;
    }
    if (from == 0) { /* synthetic ADDED events for what exists now */
        hoist_selector l2 = {0}, f2 = {0};
        hoist_selector_parse_labels(labels, &l2, NULL);
        hoist_selector_parse_fields(fields, &f2, NULL);
        hoist_apierr e;
        json_t *list = hoist_apistore_list(a->store, r, ns, &l2, &f2, 0, NULL, &e);
        hoist_selector_free(&l2);
        hoist_selector_free(&f2);
        size_t i;
        json_t *o;
        json_array_foreach(json_object_get(list, "items"), i, o) {
            if (!w->stream)
                break;
            watch_send(w, "ADDED", watch_object(w, o));
        }
        json_decref(list);
        if (!w->stream)
            return;
        from = hoist_apistore_rv(a->store);
    }
    hoist_apierr e;
    w->sw = hoist_apistore_watch(a->store, r, r->namespaced ? ns : NULL, labels, fields, from,
                                 on_store_event, w, &e);
    if (!w->stream) /* the replay failed to write */
        return;
    if (!w->sw) {
        watch_send(w, "ERROR", hoist_apierr_status(&e));
        if (w->stream)
            watch_stop(w, true);
        return;
    }
    uint64_t now = uv_now(a->loop);
    if (timeout > 0)
        w->deadline = now + (timeout > 86400 * 365 ? 86400 * 365 : timeout) * 1000;
    const char *bm = hoist_httpd_query(req, "allowWatchBookmarks");
    if (bm && (!strcmp(bm, "true") || !strcmp(bm, "1")))
        w->next_bookmark = now + a->bookmark_ms;
    watch_arm(w);
}

/* --- resource requests --------------------------------------------------------------- */

static json_t *parse_body(hoist_httpd_req *req, bool required, hoist_apierr *err)
{
    size_t len = 0;
    const char *body = hoist_httpd_body(req, &len);
    if (len == 0) {
        if (required)
            hoist_apierr_set(err, 400, "BadRequest", "the request body is empty; expected a "
                                                     "JSON object");
        return NULL;
    }
    const char *ct = hoist_httpd_header(req, "Content-Type");
    if (ct && strncmp(ct, "application/json", 16) != 0 && strncmp(ct, "*/*", 3) != 0) {
        hoist_apierr_set(err, 415, "UnsupportedMediaType",
                         "the body of the request was in an unknown format - accepted media "
                         "types include: application/json");
        return NULL;
    }
    json_error_t jerr;
    json_t *j = json_loadb(body, len, JSON_DECODE_ANY, &jerr);
    if (!j) {
        hoist_apierr_set(err, 400, "BadRequest",
                         "the request body is not valid JSON: %s (line %d, column %d)", jerr.text,
                         jerr.line, jerr.column);
        return NULL;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        hoist_apierr_set(err, 400, "BadRequest", "the request body must be a JSON object");
        return NULL;
    }
    return j;
}

typedef struct target {
    const hoist_api_resource *res;
    const char *ns;   /* NULL: no namespace in the path */
    const char *name; /* NULL: the collection */
    const char *sub;  /* NULL, "status", "binding", "eviction" */
} target;

static void serve_list(hoist_apiserver *a, hoist_httpd_req *req, const target *t)
{
    const char *labels = hoist_httpd_query(req, "labelSelector");
    const char *fields = hoist_httpd_query(req, "fieldSelector");
    char name_field[400];
    if (t->name) { /* a watch or list of one object by name */
        snprintf(name_field, sizeof name_field, "metadata.name=%s%s%s", t->name,
                 fields && *fields ? "," : "", fields ? fields : "");
        fields = name_field;
    }
    hoist_selector ls = {0}, fs = {0};
    hoist_err perr = {{0}};
    hoist_apierr e;
    if (hoist_selector_parse_labels(labels, &ls, &perr) != 0 ||
        hoist_selector_parse_fields(fields, &fs, &perr) != 0) {
        hoist_selector_free(&ls);
        hoist_selector_free(&fs);
        hoist_apierr_set(&e, 400, "BadRequest", "%s", perr.msg);
        send_error(req, &e);
        return;
    }
    for (size_t i = 0; i < fs.n; i++) {
        if (!hoist_api_field_supported(t->res, fs.reqs[i].key)) {
            hoist_apierr_set(&e, 400, "BadRequest", "field label not supported: %s",
                             fs.reqs[i].key);
            hoist_selector_free(&ls);
            hoist_selector_free(&fs);
            send_error(req, &e);
            return;
        }
    }
    const char *watch = hoist_httpd_query(req, "watch");
    if (watch && (!strcmp(watch, "true") || !strcmp(watch, "1"))) {
        hoist_selector_free(&ls);
        hoist_selector_free(&fs);
        serve_watch(a, req, t->res, t->ns, labels, fields);
        return;
    }
    const char *lim = hoist_httpd_query(req, "limit");
    uint64_t limit = 0;
    if (lim && *lim && !parse_u64(lim, &limit)) {
        hoist_selector_free(&ls);
        hoist_selector_free(&fs);
        hoist_apierr_set(&e, 400, "BadRequest", "limit: invalid value \"%s\"", lim);
        send_error(req, &e);
        return;
    }
    json_t *list = hoist_apistore_list(a->store, t->res, t->ns, &ls, &fs, (size_t)limit,
                                       hoist_httpd_query(req, "continue"), &e);
    hoist_selector_free(&ls);
    hoist_selector_free(&fs);
    if (!list) {
        send_error(req, &e);
        return;
    }
    int table = wants_table(req);
    if (table) {
        json_t *meta = json_object_get(list, "metadata");
        json_t *tab = table_of(a->store, t->res, json_object_get(list, "items"),
                               json_string_value(json_object_get(meta, "resourceVersion")), table,
                               include_object_param(req), true);
        json_t *cont = json_object_get(meta, "continue");
        if (cont)
            json_object_set(json_object_get(tab, "metadata"), "continue", cont);
        json_decref(list);
        list = tab;
    }
    send_json(req, 200, list);
}

static void serve_get(hoist_apiserver *a, hoist_httpd_req *req, const target *t)
{
    json_t *o = hoist_apistore_get(a->store, t->res, t->ns, t->name);
    if (!o) {
        hoist_apierr e;
        if (*t->res->group)
            hoist_apierr_set(&e, 404, "NotFound", "%s.%s \"%s\" not found", t->res->plural,
                             t->res->group, t->name);
        else
            hoist_apierr_set(&e, 404, "NotFound", "%s \"%s\" not found", t->res->plural,
                             t->name);
        snprintf(e.name, sizeof e.name, "%s", t->name);
        snprintf(e.kind, sizeof e.kind, "%s", t->res->plural);
        snprintf(e.group, sizeof e.group, "%s", t->res->group);
        send_error(req, &e);
        return;
    }
    int table = wants_table(req);
    if (table && !t->sub) {
        json_t *items = json_pack("[O]", o);
        json_t *tab = table_of(a->store, t->res, items, str2(o, "metadata", "resourceVersion"),
                               table, include_object_param(req), true);
        json_decref(items);
        send_json(req, 200, tab);
        return;
    }
    send_json(req, 200, json_incref(o));
}

static bool dry_run(hoist_httpd_req *req)
{
    const char *d = hoist_httpd_query(req, "dryRun");
    if (!d || !*d)
        return false;
    send_status(req, 400, "BadRequest", "dryRun is not supported by the simulated API server");
    return true;
}

static void serve_delete(hoist_apiserver *a, hoist_httpd_req *req, const target *t)
{
    hoist_apierr e;
    json_t *opts = NULL;
    size_t len = 0;
    hoist_httpd_body(req, &len);
    if (len > 0 && !(opts = parse_body(req, true, &e))) {
        send_error(req, &e);
        return;
    }
    const char *pre = json_string_value(
        json_object_get(json_object_get(opts, "preconditions"), "resourceVersion"));
    /* DeleteOptions.gracePeriodSeconds, in the body or the query */
    int64_t grace = HOIST_APISTORE_GRACE_DEFAULT;
    json_t *g = json_object_get(opts, "gracePeriodSeconds");
    const char *q = hoist_httpd_query(req, "gracePeriodSeconds");
    if (json_is_integer(g) && json_integer_value(g) >= 0) {
        grace = (int64_t)json_integer_value(g);
    } else if (q && *q) {
        char *end;
        errno = 0;
        long long v = strtoll(q, &end, 10);
        if (errno || *end || v < 0) {
            json_decref(opts);
            send_status(req, 400, "BadRequest", "gracePeriodSeconds: expected an integer >= 0");
            return;
        }
        grace = (int64_t)v;
    }
    json_t *gone = hoist_apistore_delete(a->store, t->res, t->ns, t->name, pre, grace, &e);
    json_decref(opts);
    if (!gone) {
        send_error(req, &e);
        return;
    }
    send_json(req, 200, gone);
}

static void serve_delete_collection(hoist_apiserver *a, hoist_httpd_req *req, const target *t)
{
    hoist_selector ls = {0}, fs = {0};
    hoist_err perr = {{0}};
    hoist_apierr e;
    if (hoist_selector_parse_labels(hoist_httpd_query(req, "labelSelector"), &ls, &perr) != 0 ||
        hoist_selector_parse_fields(hoist_httpd_query(req, "fieldSelector"), &fs, &perr) != 0) {
        hoist_selector_free(&ls);
        hoist_selector_free(&fs);
        hoist_apierr_set(&e, 400, "BadRequest", "%s", perr.msg);
        send_error(req, &e);
        return;
    }
    json_t *list = hoist_apistore_list(a->store, t->res, t->ns, &ls, &fs, 0, NULL, &e);
    hoist_selector_free(&ls);
    hoist_selector_free(&fs);
    if (!list) {
        send_error(req, &e);
        return;
    }
    json_t *deleted = json_array();
    size_t i;
    json_t *o;
    json_array_foreach(json_object_get(list, "items"), i, o) {
        json_t *gone = hoist_apistore_delete(a->store, t->res, str2(o, "metadata", "namespace"),
                                             str2(o, "metadata", "name"), NULL,
                                             HOIST_APISTORE_GRACE_DEFAULT, NULL);
        if (gone)
            json_array_append_new(deleted, gone);
    }
    json_object_set_new(list, "items", deleted);
    send_json(req, 200, list);
}

static void serve_write(hoist_apiserver *a, hoist_httpd_req *req, const target *t,
                        const char *method)
{
    hoist_apierr e;
    hoist_api_part part = t->sub ? HOIST_API_STATUS : HOIST_API_MAIN;
    json_t *res = NULL;
    int status = 200;
    if (!strcmp(method, "PATCH")) {
        hoist_patch_type pt;
        if (hoist_patch_type_parse(hoist_httpd_header(req, "Content-Type"), &pt) != 0) {
            const char *ct = hoist_httpd_header(req, "Content-Type");
            hoist_apierr_set(&e, 415, "UnsupportedMediaType",
                             "the body of the request was in an unknown format - accepted media "
                             "types include: application/json-patch+json, "
                             "application/merge-patch+json, "
                             "application/strategic-merge-patch+json (got \"%s\")",
                             ct ? ct : "");
            send_error(req, &e);
            return;
        }
        size_t len = 0;
        const char *body = hoist_httpd_body(req, &len);
        res = hoist_apistore_patch(a->store, t->res, t->ns, t->name, (int)pt, body, len, part, &e);
    } else {
        json_t *obj = parse_body(req, true, &e);
        if (!obj) {
            send_error(req, &e);
            return;
        }
        if (!strcmp(method, "POST")) {
            res = hoist_apistore_create(a->store, t->res, t->ns, obj, false, &e);
            status = 201;
        } else {
            res = hoist_apistore_update(a->store, t->res, t->ns, t->name, obj, part, &e);
        }
        json_decref(obj);
    }
    if (!res) {
        send_error(req, &e);
        return;
    }
    send_json(req, status, res);
}

static void serve_pod_action(hoist_apiserver *a, hoist_httpd_req *req, const target *t)
{
    hoist_apierr e;
    json_t *body = parse_body(req, true, &e);
    if (!body) {
        send_error(req, &e);
        return;
    }
    const char *bname = str2(body, "metadata", "name");
    if (bname && strcmp(bname, t->name) != 0) {
        hoist_apierr_set(&e, 400, "BadRequest",
                         "name in URL does not match name in %s object",
                         !strcmp(t->sub, "eviction") ? "Eviction" : "Binding");
        json_decref(body);
        send_error(req, &e);
        return;
    }
    if (!strcmp(t->sub, "eviction")) {
        int rc = hoist_apistore_evict(a->store, t->ns, t->name, &e);
        json_decref(body);
        if (rc != 0) {
            send_error(req, &e);
            return;
        }
    } else {
        const char *node = str2(body, "target", "name");
        json_t *pod = hoist_apistore_bind(a->store, t->ns, t->name, node, &e);
        json_decref(body);
        if (!pod) {
            send_error(req, &e);
            return;
        }
        json_decref(pod);
    }
    send_json(req, 201, json_pack("{s:s, s:s, s:{}, s:s, s:i}", "kind", "Status", "apiVersion",
                                  "v1", "metadata", "status", "Success", "code", 201));
}

static void serve_resource(hoist_apiserver *a, hoist_httpd_req *req, const target *t)
{
    const char *m = hoist_httpd_method(req);
    bool get = !strcmp(m, "GET"), post = !strcmp(m, "POST"), put = !strcmp(m, "PUT"),
         patch = !strcmp(m, "PATCH"), del = !strcmp(m, "DELETE");
    if (t->res->namespaced && t->name && !t->ns) { /* /api/v1/pods/x: no such path */
        not_found_path(req);
        return;
    }
    if ((post || put || patch || del) && dry_run(req))
        return;
    if (t->sub) {
        bool status = !strcmp(t->sub, "status") && t->res->has_status;
        bool action = !strcmp(t->res->kind, "Pod") &&
                      (!strcmp(t->sub, "eviction") || !strcmp(t->sub, "binding"));
        if (!status && !action) {
            not_found_path(req);
            return;
        }
        if (status && get)
            serve_get(a, req, t);
        else if (status && (put || patch))
            serve_write(a, req, t, m);
        else if (action && post)
            serve_pod_action(a, req, t);
        else
            method_not_allowed(req);
        return;
    }
    if (!t->name) {
        if (get)
            serve_list(a, req, t);
        else if (post && (t->ns || !t->res->namespaced))
            serve_write(a, req, t, m);
        else if (del)
            serve_delete_collection(a, req, t);
        else
            method_not_allowed(req);
        return;
    }
    const char *watch = hoist_httpd_query(req, "watch");
    if (get && watch && (!strcmp(watch, "true") || !strcmp(watch, "1")))
        serve_list(a, req, t);
    else if (get)
        serve_get(a, req, t);
    else if (put || patch)
        serve_write(a, req, t, m);
    else if (del)
        serve_delete(a, req, t);
    else
        method_not_allowed(req);
}

/* --- routing ------------------------------------------------------------------------ */

/* Split path into at most MAX_SEGMENTS segments inside buf. */
static size_t split_path(const char *path, char *buf, size_t cap, char **seg)
{
    snprintf(buf, cap, "%s", path);
    size_t n = 0;
    char *save = NULL;
    for (char *p = strtok_r(buf, "/", &save); p; p = strtok_r(NULL, "/", &save)) {
        if (n == MAX_SEGMENTS)
            return MAX_SEGMENTS + 1;
        seg[n++] = p;
    }
    return n;
}

static bool discovery_get(hoist_httpd_req *req)
{
    if (strcmp(hoist_httpd_method(req), "GET") != 0) {
        method_not_allowed(req);
        return false;
    }
    return true;
}

static void on_request(void *arg, hoist_httpd_req *req)
{
    hoist_apiserver *a = arg;
    char buf[2048];
    char *seg[MAX_SEGMENTS];
    size_t n = split_path(hoist_httpd_path(req), buf, sizeof buf, seg);
    if (n == 0 || n > MAX_SEGMENTS) {
        not_found_path(req);
        return;
    }
    if (!strcmp(seg[0], "version") && n == 1) {
        if (discovery_get(req))
            send_json(req, 200, hoist_api_version_doc());
        return;
    }
    if (!strcmp(seg[0], "openapi")) {
        if (n >= 2 && !strcmp(seg[1], "v3") && discovery_get(req)) {
            if (n == 2) {
                send_json(req, 200, hoist_api_openapi_v3_index());
                return;
            }
            char gv[512] = "";
            for (size_t i = 2; i < n; i++) {
                size_t len = strlen(gv);
                snprintf(gv + len, sizeof gv - len, "%s%s", i > 2 ? "/" : "", seg[i]);
            }
            json_t *doc = hoist_api_openapi_v3_doc(gv);
            if (doc)
                send_json(req, 200, doc);
            else
                not_found_path(req);
        } else if (n < 2 || strcmp(seg[1], "v3") != 0) {
            not_found_path(req);
        }
        return;
    }
    const char *group, *version;
    size_t rest;
    if (!strcmp(seg[0], "api")) {
        if (n == 1) {
            if (discovery_get(req))
                send_json(req, 200, hoist_api_versions_doc(a->server_address));
            return;
        }
        group = "";
        version = seg[1];
        rest = 2;
    } else if (!strcmp(seg[0], "apis")) {
        if (n == 1) {
            if (discovery_get(req))
                send_json(req, 200, hoist_api_group_list_doc());
            return;
        }
        if (n == 2) {
            json_t *g = hoist_api_group_doc(seg[1]);
            if (!g)
                not_found_path(req);
            else if (discovery_get(req))
                send_json(req, 200, g);
            else
                json_decref(g);
            return;
        }
        group = seg[1];
        version = seg[2];
        rest = 3;
    } else {
        not_found_path(req);
        return;
    }
    if (n == rest) {
        json_t *doc = hoist_api_resource_list_doc(group, version);
        if (!doc)
            not_found_path(req);
        else if (discovery_get(req))
            send_json(req, 200, doc);
        else
            json_decref(doc);
        return;
    }
    char **r = seg + rest;
    size_t m = n - rest;
    target t = {0};
    if (m >= 3 && !strcmp(r[0], "namespaces") &&
        (t.res = hoist_api_resource_find(group, version, r[2])) != NULL && t.res->namespaced) {
        t.ns = r[1];
        r += 2;
        m -= 2;
    } else {
        t.res = hoist_api_resource_find(group, version, r[0]);
    }
    if (!t.res || m > 3) {
        not_found_path(req);
        return;
    }
    t.name = m >= 2 ? r[1] : NULL;
    t.sub = m == 3 ? r[2] : NULL;
    serve_resource(a, req, &t);
}

/* --- lifecycle -------------------------------------------------------------------- */

hoist_apiserver *hoist_apiserver_new(uv_loop_t *loop, hoist_httpd *d, hoist_apistore *store,
                                     const hoist_apiserver_config *cfg, hoist_err *err)
{
    hoist_apiserver *a = calloc(1, sizeof *a);
    if (!a) {
        hoist_errf(err, "out of memory");
        return NULL;
    }
    a->loop = loop;
    a->httpd = d;
    a->store = store;
    a->bookmark_ms = cfg && cfg->bookmark_ms ? cfg->bookmark_ms : HOIST_APISERVER_BOOKMARK_MS;
    a->log = cfg ? cfg->log : NULL;
    if (cfg && cfg->server_address && !(a->server_address = strdup(cfg->server_address))) {
        free(a);
        hoist_errf(err, "out of memory");
        return NULL;
    }
    static const char *const prefixes[] = {"/api", "/version", "/openapi"};
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
        if (hoist_httpd_handle(d, NULL, prefixes[i], on_request, a, err) != 0) {
            hoist_httpd_unhandle(d, a);
            free(a->server_address);
            free(a);
            return NULL;
        }
    }
    return a;
}

size_t hoist_apiserver_watches(const hoist_apiserver *a)
{
    return a->n_watches;
}

void hoist_apiserver_close(hoist_apiserver *a)
{
    if (!a || a->closing)
        return;
    hoist_httpd_unhandle(a->httpd, a);
    a->closing = true;
    while (a->watches)
        watch_stop(a->watches, true);
    if (a->closing_watches == 0) {
        free(a->server_address);
        free(a);
    }
}
