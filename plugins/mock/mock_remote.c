/*
 * mock_remote.c - the mock provider's remote mode: the provider operations
 * as HTTP calls to a simulated cloud (contract: core/apiserver/cloud.h),
 * made with the host's asynchronous HTTP client, answers mapped back to the
 * ABI's structs and typed errors.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mock_catalog.h"
#include "mock_remote.h"

typedef enum rcall_kind { RC_CATALOG, RC_LAUNCH, RC_TERMINATE, RC_LIST, RC_EVENTS } rcall_kind;

typedef struct rcall {
    struct rcall *prev, *next;
    mock_remote *r;
    rcall_kind kind;
    hoist_http_call *http;
    union {
        hoist_catalog_cb catalog;
        hoist_launch_cb launch;
        hoist_done_cb done;
        hoist_list_cb list;
    } cb;
    void *arg;
} rcall;

typedef struct rwatcher {
    hoist_event_cb cb;
    void *arg;
} rwatcher;

struct mock_remote {
    const hoist_host *host;
    char *endpoint;             /* without a trailing '/' */
    uint64_t timeout_ms, launch_timeout_ms, poll_ms;
    rcall *calls;
    rwatcher *watchers;
    size_t n_watchers;
    hoist_timer *poll_timer;
    bool polling;               /* a GET /events is in flight */
    uint64_t events_after;
    int depth;                  /* > 0 while a user callback runs */
    bool dead;                  /* freed inside a callback: free on the way out */
};

#define RLOG(r, level, ...) \
    do { \
        if ((r)->host->log) \
            (r)->host->log((r)->host->ctx, (level), __VA_ARGS__); \
    } while (0)

/* ---- life ---- */

hoist_status mock_remote_new(const hoist_host *host, const mock_remote_config *cfg,
                             mock_remote **out, hoist_error *err)
{
    if (!HOIST_HOST_HAS(host, http_cancel) || !host->http_request || !host->http_cancel)
        return mock_errf(err, HOIST_E_INVALID, "config: endpoint: the host lends no HTTP client");
    if (!cfg->endpoint || (strncmp(cfg->endpoint, "http://", 7) != 0 &&
                           strncmp(cfg->endpoint, "https://", 8) != 0))
        return mock_errf(err, HOIST_E_INVALID, "config: endpoint: expected an http:// or https:// URL");
    mock_remote *r = calloc(1, sizeof *r);
    if (!r || !(r->endpoint = strdup(cfg->endpoint))) {
        free(r);
        return mock_errf(err, HOIST_E_INTERNAL, "mock: out of memory");
    }
    size_t n = strlen(r->endpoint);
    while (n > 0 && r->endpoint[n - 1] == '/')
        r->endpoint[--n] = '\0';
    r->host = host;
    r->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : 30000;
    r->launch_timeout_ms = cfg->launch_timeout_ms ? cfg->launch_timeout_ms : 900000;
    r->poll_ms = cfg->events_poll_ms ? cfg->events_poll_ms : 1000;
    *out = r;
    return HOIST_OK;
}

static void remote_release(mock_remote *r)
{
    free(r->watchers);
    free(r->endpoint);
    free(r);
}

static void call_unlink(mock_remote *r, rcall *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        r->calls = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
}

void mock_remote_free(mock_remote *r)
{
    if (!r)
        return;
    r->dead = true; /* http callbacks of cancelled calls only free them */
    if (r->poll_timer) {
        r->host->timer_cancel(r->host->ctx, r->poll_timer);
        r->poll_timer = NULL;
    }
    while (r->calls) {
        rcall *c = r->calls;
        call_unlink(r, c);
        hoist_http_call *h = c->http;
        c->r = NULL;
        if (h)
            r->host->http_cancel(r->host->ctx, h); /* runs on_http now, which frees c */
        else
            free(c);
    }
    free(r->watchers);
    r->watchers = NULL;
    r->n_watchers = 0;
    if (r->depth == 0)
        remote_release(r);
}

/* ---- answers ---- */

static hoist_status status_of(const char *name)
{
    static const hoist_status all[] = {
        HOIST_E_INVALID,     HOIST_E_NOT_FOUND, HOIST_E_INSUFFICIENT_CAPACITY,
        HOIST_E_THROTTLED,   HOIST_E_UNAUTHORIZED, HOIST_E_QUOTA,
        HOIST_E_LAUNCH_FAILED, HOIST_E_UNAVAILABLE, HOIST_E_TIMEOUT,
        HOIST_E_UNSUPPORTED, HOIST_E_CANCELLED, HOIST_E_INTERNAL};
    for (size_t i = 0; name && i < sizeof all / sizeof all[0]; i++)
        if (strcmp(name, hoist_status_name(all[i])) == 0)
            return all[i];
    return HOIST_OK;
}

/* Parse an answer: the JSON body (new reference) when it is a result, NULL
 * with *e filled when it is an error or malformed. */
static json_t *parse_answer(const char *what, const hoist_error *herr,
                            const hoist_http_response *resp, hoist_error *e)
{
    if (herr) {
        mock_errf(e, herr->code == HOIST_E_TIMEOUT ? HOIST_E_TIMEOUT : HOIST_E_UNAVAILABLE,
             "%s: cloud unreachable: %s", what, herr->message);
        return NULL;
    }
    json_error_t jerr;
    json_t *j = json_loadb(resp->body ? resp->body : "", resp->body_len, 0, &jerr);
    if (!j || !json_is_object(j)) {
        json_decref(j);
        mock_errf(e, resp->status >= 500 || resp->status < 400 ? HOIST_E_UNAVAILABLE
                                                          : HOIST_E_INVALID,
             "%s: malformed answer from the cloud (HTTP %ld): not a JSON object", what,
             resp->status);
        return NULL;
    }
    json_t *ej = json_object_get(j, "error");
    if (ej || resp->status >= 400) {
        const char *code = json_string_value(json_object_get(ej, "code"));
        const char *msg = json_string_value(json_object_get(ej, "message"));
        hoist_status s = status_of(code);
        if (s == HOIST_OK)
            s = resp->status == 404 ? HOIST_E_NOT_FOUND
                : resp->status == 429 ? HOIST_E_THROTTLED
                : resp->status >= 500 || resp->status < 400 ? HOIST_E_UNAVAILABLE
                : HOIST_E_INVALID;
        mock_errf(e, s, "%s: %s", what, msg ? msg : "the cloud answered an error without a message");
        json_t *ra = json_object_get(ej, "retry_after_ms");
        if (json_is_integer(ra) && json_integer_value(ra) > 0 &&
            json_integer_value(ra) <= UINT32_MAX)
            e->retry_after_ms = (uint32_t)json_integer_value(ra);
        /* keep the body: a launch error carries "exhausted" */
        json_t *keep = json_object_get(j, "exhausted") ? j : NULL;
        if (!keep)
            json_decref(j);
        return keep ? (json_object_set_new(keep, "__error", json_true()), keep) : NULL;
    }
    return j;
}

static int parse_capacity(const char *s, hoist_capacity_type *out)
{
    return s ? mock_capacity_parse(s, out) : -1;
}

static int parse_state(const char *s, hoist_machine_state *out)
{
    static const char *const names[] = {"pending", "running", "shutting-down", "terminated"};
    for (int i = 0; s && i < 4; i++)
        if (strcmp(s, names[i]) == 0) {
            *out = (hoist_machine_state)i;
            return 0;
        }
    return -1;
}

/* A MACHINE object into m (strings and *tags borrowed from j / malloc'd;
 * the caller frees *tags). -1 with e naming the field. */
static int parse_machine(const json_t *j, hoist_machine *m, hoist_kv **tags, const char *what,
                         hoist_error *e)
{
    memset(m, 0, sizeof *m);
    *tags = NULL;
    m->struct_size = sizeof *m;
    if (!json_is_object(j))
        return mock_errf(e, HOIST_E_UNAVAILABLE, "%s: malformed answer: machine: expected an object",
                    what), -1;
    static const char *const fields[] = {"instance_id", "provider_id", "instance_type", "zone"};
    const char **dst[] = {&m->instance_id, &m->provider_id, &m->instance_type, &m->zone};
    for (size_t i = 0; i < 4; i++) {
        *dst[i] = json_string_value(json_object_get(j, fields[i]));
        if (!*dst[i])
            return mock_errf(e, HOIST_E_UNAVAILABLE, "%s: malformed answer: machine.%s: expected a "
                        "string", what, fields[i]), -1;
    }
    if (parse_capacity(json_string_value(json_object_get(j, "capacity_type")),
                       &m->capacity_type) < 0)
        return mock_errf(e, HOIST_E_UNAVAILABLE, "%s: malformed answer: machine.capacity_type: "
                    "expected on-demand, spot or reserved", what), -1;
    if (parse_state(json_string_value(json_object_get(j, "state")), &m->state) < 0)
        return mock_errf(e, HOIST_E_UNAVAILABLE, "%s: malformed answer: machine.state: expected "
                    "pending, running, shutting-down or terminated", what), -1;
    json_t *p = json_object_get(j, "price");
    if (!json_is_number(p))
        return mock_errf(e, HOIST_E_UNAVAILABLE, "%s: malformed answer: machine.price: expected a "
                    "number", what), -1;
    m->price = json_number_value(p);
    json_t *lt = json_object_get(j, "launch_time_ms");
    if (lt && (!json_is_integer(lt) || json_integer_value(lt) < 0))
        return mock_errf(e, HOIST_E_UNAVAILABLE, "%s: malformed answer: machine.launch_time_ms: "
                    "expected an integer >= 0", what), -1;
    m->launch_time_ms = lt ? (uint64_t)json_integer_value(lt) : 0;
    json_t *tj = json_object_get(j, "tags");
    if (tj && !json_is_object(tj))
        return mock_errf(e, HOIST_E_UNAVAILABLE, "%s: malformed answer: machine.tags: expected an "
                    "object", what), -1;
    size_t n = json_object_size(tj);
    *tags = calloc(n + 1, sizeof **tags);
    if (!*tags)
        return mock_errf(e, HOIST_E_INTERNAL, "mock: out of memory"), -1;
    const char *k;
    json_t *v;
    json_object_foreach(tj, k, v) {
        if (!json_is_string(v)) {
            free(*tags);
            *tags = NULL;
            return mock_errf(e, HOIST_E_UNAVAILABLE, "%s: malformed answer: machine.tags.%s: expected "
                        "a string", what, k), -1;
        }
        (*tags)[m->n_tags].key = k;
        (*tags)[m->n_tags].value = json_string_value(v);
        m->n_tags++;
    }
    m->tags = *tags;
    return 0;
}

/* "exhausted" offerings (borrowed strings); NULL when none or malformed (skipped). */
static hoist_launch_offering *parse_exhausted(const json_t *a, size_t *n)
{
    *n = 0;
    if (!json_is_array(a) || json_array_size(a) == 0)
        return NULL;
    hoist_launch_offering *o = calloc(json_array_size(a), sizeof *o);
    if (!o)
        return NULL;
    size_t i;
    json_t *it;
    json_array_foreach(a, i, it) {
        hoist_launch_offering *x = &o[*n];
        x->struct_size = sizeof *x;
        x->instance_type = json_string_value(json_object_get(it, "instance_type"));
        x->zone = json_string_value(json_object_get(it, "zone"));
        json_t *p = json_object_get(it, "price");
        x->price = json_is_number(p) ? json_number_value(p) : 0.0;
        if (x->instance_type && x->zone &&
            parse_capacity(json_string_value(json_object_get(it, "capacity_type")),
                           &x->capacity_type) == 0)
            (*n)++;
    }
    return o;
}

/* ---- completions ---- */

static void finish_catalog(mock_remote *r, rcall *c, json_t *j, hoist_error *e)
{
    if (!j) {
        c->cb.catalog(c->arg, e, NULL, 0);
        return;
    }
    json_t *items = json_object_get(j, "items");
    mock_catalog cat;
    mock_spot_params sp;
    mock_spot_params_default(&sp);
    char label[300];
    snprintf(label, sizeof label, "%s/catalog", r->endpoint);
    if (mock_catalog_load_json(&cat, items ? items : json_null(), label, NULL, 0, 0, &sp, e) < 0) {
        e->code = HOIST_E_UNAVAILABLE;
        mock_error_prefix(e, "catalog: malformed answer: ");
        c->cb.catalog(c->arg, e, NULL, 0);
        return;
    }
    const hoist_instance_type *v = mock_catalog_snapshot(&cat, 0, &sp, r->host->now_ms(r->host->ctx));
    c->cb.catalog(c->arg, NULL, v, cat.n_types);
    mock_catalog_free(&cat);
}

static void finish_launch(rcall *c, json_t *j, hoist_error *e)
{
    size_t n_ex = 0;
    hoist_launch_offering *ex = j ? parse_exhausted(json_object_get(j, "exhausted"), &n_ex) : NULL;
    if (!j || json_object_get(j, "__error")) {
        c->cb.launch(c->arg, e, NULL, ex, n_ex);
        free(ex);
        return;
    }
    hoist_machine m;
    hoist_kv *tags = NULL;
    if (parse_machine(json_object_get(j, "machine"), &m, &tags, "launch", e) < 0)
        c->cb.launch(c->arg, e, NULL, ex, n_ex);
    else
        c->cb.launch(c->arg, NULL, &m, ex, n_ex);
    free(tags);
    free(ex);
}

static void finish_list(rcall *c, json_t *j, hoist_error *e)
{
    if (!j) {
        c->cb.list(c->arg, e, NULL, 0);
        return;
    }
    json_t *items = json_object_get(j, "items");
    if (!json_is_array(items)) {
        mock_errf(e, HOIST_E_UNAVAILABLE, "list: malformed answer: items: expected an array");
        c->cb.list(c->arg, e, NULL, 0);
        return;
    }
    size_t n = json_array_size(items);
    hoist_machine *ms = calloc(n + 1, sizeof *ms);
    hoist_kv **tags = calloc(n + 1, sizeof *tags);
    bool ok = ms && tags;
    if (!ok)
        mock_errf(e, HOIST_E_INTERNAL, "mock: out of memory");
    for (size_t i = 0; ok && i < n; i++)
        ok = parse_machine(json_array_get(items, i), &ms[i], &tags[i], "list", e) == 0;
    if (ok)
        c->cb.list(c->arg, NULL, ms, n);
    else
        c->cb.list(c->arg, e, NULL, 0);
    for (size_t i = 0; tags && i < n; i++)
        free(tags[i]);
    free(tags);
    free(ms);
}

static void poll_events(void *arg);

static void finish_events(mock_remote *r, json_t *j, hoist_error *e)
{
    r->polling = false;
    if (!j) {
        RLOG(r, HOIST_LOG_WARN, "mock: events: %s", e->message);
    } else {
        json_t *evs = json_object_get(j, "events");
        size_t i;
        json_t *it;
        json_array_foreach(evs, i, it) {
            static const char *const kinds[] = {"spot-interruption", "rebalance",
                                                "scheduled-maintenance", "state-change"};
            const char *k = json_string_value(json_object_get(it, "kind"));
            const char *id = json_string_value(json_object_get(it, "instance_id"));
            json_t *seq = json_object_get(it, "seq");
            hoist_event ev = {sizeof ev, HOIST_EVENT_STATE_CHANGE, id, HOIST_MACHINE_RUNNING, 0};
            int kind = -1;
            for (int x = 0; k && x < 4; x++)
                if (!strcmp(k, kinds[x]))
                    kind = x;
            if (kind < 0 || !id || !json_is_integer(seq) ||
                parse_state(json_string_value(json_object_get(it, "state")), &ev.state) < 0) {
                RLOG(r, HOIST_LOG_WARN, "mock: events: malformed event %zu skipped", i);
                continue;
            }
            if ((uint64_t)json_integer_value(seq) <= r->events_after)
                continue;
            r->events_after = (uint64_t)json_integer_value(seq);
            ev.kind = (hoist_event_kind)kind;
            json_t *dl = json_object_get(it, "deadline_ms");
            ev.deadline_ms = json_is_integer(dl) && json_integer_value(dl) > 0
                                 ? (uint64_t)json_integer_value(dl) : 0;
            for (size_t w = 0; w < r->n_watchers && !r->dead; w++)
                r->watchers[w].cb(r->watchers[w].arg, &ev);
            if (r->dead)
                return;
        }
    }
    if (!r->dead && r->n_watchers > 0 && !r->poll_timer)
        r->poll_timer = r->host->timer_start(r->host->ctx, r->poll_ms, poll_events, r);
}

static void on_http(void *arg, const hoist_error *herr, const hoist_http_response *resp)
{
    rcall *c = arg;
    mock_remote *r = c->r;
    if (!r) { /* abandoned by mock_remote_free */
        free(c);
        return;
    }
    call_unlink(r, c);
    static const char *const what[] = {"catalog", "launch", "terminate", "list", "events"};
    hoist_error e;
    memset(&e, 0, sizeof e);
    json_t *j = parse_answer(what[c->kind], herr, resp, &e);
    r->depth++;
    switch (c->kind) {
    case RC_CATALOG:
        finish_catalog(r, c, j && !json_object_get(j, "__error") ? j : NULL, &e);
        break;
    case RC_LAUNCH:
        finish_launch(c, j, &e);
        break;
    case RC_TERMINATE:
        c->cb.done(c->arg, j && !json_object_get(j, "__error") ? NULL : &e);
        break;
    case RC_LIST:
        finish_list(c, j && !json_object_get(j, "__error") ? j : NULL, &e);
        break;
    case RC_EVENTS:
        finish_events(r, j && !json_object_get(j, "__error") ? j : NULL, &e);
        break;
    }
    r->depth--;
    json_decref(j);
    free(c);
    if (r->dead && r->depth == 0)
        remote_release(r);
}

/* ---- requests ---- */

/* Append s percent-encoded (RFC 3986 unreserved kept) to buf. */
static void url_escape(char *buf, size_t n, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t len = strlen(buf);
    for (; *s && len + 4 < n; s++) {
        unsigned char ch = (unsigned char)*s;
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
            ch == '-' || ch == '.' || ch == '_' || ch == '~') {
            buf[len++] = (char)ch;
        } else {
            buf[len++] = '%';
            buf[len++] = hex[ch >> 4];
            buf[len++] = hex[ch & 15];
        }
    }
    buf[len] = '\0';
}

static hoist_status start(mock_remote *r, rcall_kind kind, const char *method, const char *path,
                          const char *body, uint64_t timeout_ms, void *cb, void *arg,
                          hoist_error *err)
{
    rcall *c = calloc(1, sizeof *c);
    size_t ulen = strlen(r->endpoint) + strlen(path) + 1;
    char *url = malloc(ulen);
    if (!c || !url) {
        free(c);
        free(url);
        return mock_errf(err, HOIST_E_INTERNAL, "mock: out of memory");
    }
    snprintf(url, ulen, "%s%s", r->endpoint, path);
    c->r = r;
    c->kind = kind;
    c->arg = arg;
    switch (kind) {
    case RC_CATALOG: c->cb.catalog = (hoist_catalog_cb)cb; break;
    case RC_LAUNCH: c->cb.launch = (hoist_launch_cb)cb; break;
    case RC_TERMINATE: c->cb.done = (hoist_done_cb)cb; break;
    case RC_LIST: c->cb.list = (hoist_list_cb)cb; break;
    case RC_EVENTS: break;
    }
    static const char *const json_headers[] = {"Content-Type: application/json",
                                               "Accept: application/json"};
    hoist_http_request req = {method, url, json_headers, body ? 2 : 1, body,
                              body ? strlen(body) : 0, (uint32_t)timeout_ms};
    if (!body)
        req.headers = json_headers + 1;
    c->next = r->calls;
    if (r->calls)
        r->calls->prev = c;
    r->calls = c;
    c->http = r->host->http_request(r->host->ctx, &req, on_http, c);
    free(url);
    if (!c->http) {
        call_unlink(r, c);
        free(c);
        return mock_errf(err, HOIST_E_UNAVAILABLE, "mock: cannot start a request to %s", r->endpoint);
    }
    return HOIST_OK;
}

/* Function pointers through void *: the ABI's callback types all return void. */
#define CB(f) ((void *)(uintptr_t)(f))

hoist_status mock_remote_catalog(mock_remote *r, hoist_catalog_cb cb, void *arg,
                                 hoist_error *err)
{
    if (!cb)
        return mock_errf(err, HOIST_E_INVALID, "catalog: a callback is required");
    return start(r, RC_CATALOG, "GET", "/catalog", NULL, r->timeout_ms, CB(cb), arg, err);
}

static const char *strategy_name(hoist_alloc_strategy s)
{
    switch (s) {
    case HOIST_ALLOC_LOWEST_PRICE: return "lowest-price";
    case HOIST_ALLOC_PRICE_CAPACITY_OPTIMIZED: return "price-capacity-optimized";
    case HOIST_ALLOC_CAPACITY_OPTIMIZED: return "capacity-optimized";
    case HOIST_ALLOC_PRIORITIZED: return "prioritized";
    }
    return NULL;
}

static const char *effect_name(hoist_taint_effect e)
{
    switch (e) {
    case HOIST_TAINT_NO_SCHEDULE: return "NoSchedule";
    case HOIST_TAINT_PREFER_NO_SCHEDULE: return "PreferNoSchedule";
    case HOIST_TAINT_NO_EXECUTE: return "NoExecute";
    }
    return NULL;
}

hoist_status mock_remote_launch(mock_remote *r, const hoist_launch_request *req,
                                hoist_launch_cb cb, void *arg, hoist_error *err)
{
    if (!req || !cb)
        return mock_errf(err, HOIST_E_INVALID, "launch: request and callback are required");
    if (!req->claim || !*req->claim)
        return mock_errf(err, HOIST_E_INVALID, "launch: claim: a non-empty claim name is required");
    if (req->n_offerings == 0 || !req->offerings)
        return mock_errf(err, HOIST_E_INVALID, "launch %s: offerings: at least one is required",
                    req->claim);
    const char *ss = strategy_name(req->spot_strategy);
    const char *ods = strategy_name(req->on_demand_strategy);
    if (!ss || !ods)
        return mock_errf(err, HOIST_E_INVALID, "launch %s: unknown allocation strategy", req->claim);
    json_t *b = json_pack("{s:s,s:s,s:s}", "claim", req->claim, "spot_strategy", ss,
                          "on_demand_strategy", ods);
    json_t *offs = json_array(), *tags = json_object(), *labels = json_object(),
           *taints = json_array();
    bool ok = b && offs && tags && labels && taints;
    if (ok && req->cluster)
        ok = json_object_set_new(b, "cluster", json_string(req->cluster)) == 0;
    if (ok && req->nodepool)
        ok = json_object_set_new(b, "nodepool", json_string(req->nodepool)) == 0;
    if (ok && req->user_data)
        ok = json_object_set_new(b, "user_data", json_string(req->user_data)) == 0;
    for (size_t i = 0; ok && i < req->n_offerings; i++) {
        const hoist_launch_offering *o = HOIST_NTH(req->offerings, i);
        if (!o->instance_type || !o->zone) {
            json_decref(b);
            json_decref(offs);
            json_decref(tags);
            json_decref(labels);
            json_decref(taints);
            return mock_errf(err, HOIST_E_INVALID,
                        "launch %s: offerings[%zu]: instance_type and zone are required",
                        req->claim, i);
        }
        ok = json_array_append_new(offs, json_pack("{s:s,s:s,s:s,s:f}", "instance_type",
                                                   o->instance_type, "zone", o->zone,
                                                   "capacity_type",
                                                   mock_capacity_name(o->capacity_type),
                                                   "price", o->price)) == 0;
    }
    for (size_t i = 0; ok && i < req->n_tags; i++)
        ok = req->tags[i].key && req->tags[i].value &&
             json_object_set_new(tags, req->tags[i].key, json_string(req->tags[i].value)) == 0;
    for (size_t i = 0; ok && i < req->n_labels; i++)
        ok = req->labels[i].key && req->labels[i].value &&
             json_object_set_new(labels, req->labels[i].key,
                                 json_string(req->labels[i].value)) == 0;
    for (size_t i = 0; ok && i < req->n_taints; i++) {
        const hoist_taint *t = &req->taints[i];
        const char *eff = effect_name(t->effect);
        ok = t->key && eff &&
             json_array_append_new(taints, json_pack("{s:s,s:s,s:s}", "key", t->key, "value",
                                                     t->value ? t->value : "", "effect",
                                                     eff)) == 0;
    }
    if (ok)
        ok = json_object_set_new(b, "offerings", offs) == 0 &&
             json_object_set_new(b, "tags", tags) == 0 &&
             json_object_set_new(b, "labels", labels) == 0 &&
             json_object_set_new(b, "taints", taints) == 0;
    else {
        json_decref(offs);
        json_decref(tags);
        json_decref(labels);
        json_decref(taints);
    }
    char *text = ok ? json_dumps(b, JSON_COMPACT) : NULL;
    json_decref(b);
    if (!text)
        return mock_errf(err, HOIST_E_INVALID, "launch %s: a tag, label or taint lacks its key, "
                    "value or effect (or out of memory)", req->claim);
    hoist_status s = start(r, RC_LAUNCH, "POST", "/machines", text, r->launch_timeout_ms, CB(cb),
                           arg, err);
    free(text);
    return s;
}

hoist_status mock_remote_terminate(mock_remote *r, const char *instance_id, hoist_done_cb cb,
                                   void *arg, hoist_error *err)
{
    if (!instance_id || !*instance_id || !cb)
        return mock_errf(err, HOIST_E_INVALID, "terminate: instance id and callback are required");
    char path[512] = "/machines/";
    url_escape(path, sizeof path, instance_id);
    return start(r, RC_TERMINATE, "DELETE", path, NULL, r->timeout_ms, CB(cb), arg, err);
}

hoist_status mock_remote_list(mock_remote *r, const hoist_kv *filter, size_t n_filter,
                              hoist_list_cb cb, void *arg, hoist_error *err)
{
    if (!cb)
        return mock_errf(err, HOIST_E_INVALID, "list: a callback is required");
    char path[4096] = "/machines";
    for (size_t i = 0; i < n_filter; i++) {
        const char *k = filter[i].key, *v = filter[i].value;
        if (!k || !v || strpbrk(k, ",=") || strchr(v, ','))
            return mock_errf(err, HOIST_E_INVALID, "list: filter[%zu]: a key and value without ',' "
                        "(and a key without '=') are required", i);
        size_t len = strlen(path);
        snprintf(path + len, sizeof path - len, "%s", i == 0 ? "?tags=" : "%2C");
        url_escape(path, sizeof path, k);
        len = strlen(path);
        snprintf(path + len, sizeof path - len, "%%3D");
        url_escape(path, sizeof path, v);
        if (strlen(path) + 8 >= sizeof path)
            return mock_errf(err, HOIST_E_INVALID, "list: filter too long");
    }
    return start(r, RC_LIST, "GET", path, NULL, r->timeout_ms, CB(cb), arg, err);
}

static void poll_events(void *arg)
{
    mock_remote *r = arg;
    r->poll_timer = NULL;
    if (r->polling || r->n_watchers == 0)
        return;
    char path[64];
    snprintf(path, sizeof path, "/events?after=%" PRIu64, r->events_after);
    hoist_error e;
    if (start(r, RC_EVENTS, "GET", path, NULL, r->timeout_ms, NULL, r, &e) == HOIST_OK) {
        r->polling = true;
    } else {
        RLOG(r, HOIST_LOG_WARN, "mock: events: %s", e.message);
        r->poll_timer = r->host->timer_start(r->host->ctx, r->poll_ms, poll_events, r);
    }
}

hoist_status mock_remote_watch_events(mock_remote *r, hoist_event_cb cb, void *arg,
                                      hoist_error *err)
{
    if (!cb)
        return mock_errf(err, HOIST_E_INVALID, "watch_events: a callback is required");
    rwatcher *w = realloc(r->watchers, (r->n_watchers + 1) * sizeof *w);
    if (!w)
        return mock_errf(err, HOIST_E_INTERNAL, "mock: out of memory");
    r->watchers = w;
    w[r->n_watchers].cb = cb;
    w[r->n_watchers].arg = arg;
    r->n_watchers++;
    if (!r->poll_timer && !r->polling) {
        r->poll_timer = r->host->timer_start(r->host->ctx, 0, poll_events, r);
        if (!r->poll_timer)
            return mock_errf(err, HOIST_E_INTERNAL, "mock: host timer_start failed");
    }
    return HOIST_OK;
}
