/* apiserver/store.c - the in-memory object store, its history and watches. */
#include "apiserver/store.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apiserver/patch.h"

#define MAX_RESOURCES 16

typedef struct event_rec {
    hoist_api_event ev; /* holds a reference to object and old */
} event_rec;

struct hoist_apiwatch {
    const hoist_api_resource *res; /* NULL = all */
    char *ns;                      /* NULL = all */
    hoist_selector labels, fields;
    uint64_t min_rv; /* events up to this rv were replayed already */
    hoist_apiwatch_cb cb;
    void *arg;
    bool dead;
    hoist_apiwatch *next;
};

struct hoist_apistore {
    json_t *objs[MAX_RESOURCES]; /* per type: "namespace/name" -> object */
    uint64_t rv;
    event_rec *ring;             /* history, oldest at start */
    size_t cap, start, n;
    uint64_t compacted;          /* rv of the newest event dropped from the history */
    hoist_apiwatch *watches;
    bool dispatching, any_dead;
    event_rec *queue;            /* events waiting for delivery */
    size_t qhead, qn, qcap;
    hoist_apistore_clock clock;
    void *clock_arg;
    uint64_t rand_state;
};

/* --- small helpers --------------------------------------------------------------- */

void *hoist_apierr_set(hoist_apierr *err, int code, const char *reason, const char *fmt, ...)
{
    if (!err)
        return NULL;
    memset(err, 0, sizeof *err);
    err->code = code;
    snprintf(err->reason, sizeof err->reason, "%s", reason);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return NULL;
}

static void *err_details(hoist_apierr *err, const hoist_api_resource *r, const char *name)
{
    if (err) {
        snprintf(err->name, sizeof err->name, "%s", name ? name : "");
        snprintf(err->kind, sizeof err->kind, "%s", r->plural);
        snprintf(err->group, sizeof err->group, "%s", r->group);
    }
    return NULL;
}

static void *not_found(hoist_apierr *err, const hoist_api_resource *r, const char *name)
{
    if (*r->group)
        hoist_apierr_set(err, 404, "NotFound", "%s.%s \"%s\" not found", r->plural, r->group,
                         name);
    else
        hoist_apierr_set(err, 404, "NotFound", "%s \"%s\" not found", r->plural, name);
    return err_details(err, r, name);
}

static void *conflict(hoist_apierr *err, const hoist_api_resource *r, const char *name)
{
    char what[128];
    if (*r->group)
        snprintf(what, sizeof what, "%s.%s", r->plural, r->group);
    else
        snprintf(what, sizeof what, "%s", r->plural);
    hoist_apierr_set(err, 409, "Conflict",
                     "Operation cannot be fulfilled on %s \"%s\": the object has been modified; "
                     "please apply your changes to the latest version and try again",
                     what, name);
    return err_details(err, r, name);
}

json_t *hoist_apierr_status(const hoist_apierr *err)
{
    json_t *st = json_pack("{s:s, s:s, s:{}, s:s, s:s, s:s, s:i}", "kind", "Status", "apiVersion",
                           "v1", "metadata", "status", err->code < 300 ? "Success" : "Failure",
                           "message", err->message, "reason", err->reason, "code", err->code);
    if (err->name[0] || err->kind[0] || err->cause[0]) {
        json_t *d = json_object();
        if (err->name[0])
            json_object_set_new(d, "name", json_string(err->name));
        if (err->group[0])
            json_object_set_new(d, "group", json_string(err->group));
        if (err->kind[0])
            json_object_set_new(d, "kind", json_string(err->kind));
        if (err->cause[0]) {
            json_t *c = json_pack("{s:s, s:s}", "reason", err->cause_reason, "message",
                                  err->cause);
            if (err->cause_field[0])
                json_object_set_new(c, "field", json_string(err->cause_field));
            json_object_set_new(d, "causes", json_pack("[o]", c));
        }
        json_object_set_new(st, "details", d);
    }
    if (!err->reason[0])
        json_object_del(st, "reason");
    return st;
}

const char *hoist_api_event_name(hoist_api_event_type t)
{
    switch (t) {
    case HOIST_API_ADDED:
        return "ADDED";
    case HOIST_API_MODIFIED:
        return "MODIFIED";
    case HOIST_API_DELETED:
        return "DELETED";
    }
    return "ERROR";
}

void hoist_api_time(double unix_seconds, char *buf, size_t n)
{
    time_t t = (time_t)unix_seconds;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int hoist_api_time_parse(const char *s, double *out)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *end = s ? strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
    if (!end)
        return -1;
    if (*end == '.') { /* fractional seconds */
        end++;
        while (isdigit((unsigned char)*end))
            end++;
    }
    if (strcmp(end, "Z") != 0)
        return -1;
    *out = (double)timegm(&tm);
    return 0;
}

static double wall_clock(void *arg)
{
    (void)arg;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t next_rand(hoist_apistore *s)
{
    uint64_t z = (s->rand_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static void make_uid(hoist_apistore *s, char *buf, size_t n)
{
    uint64_t a = next_rand(s), b = next_rand(s);
    snprintf(buf, n, "%08" PRIx64 "-%04" PRIx64 "-4%03" PRIx64 "-8%03" PRIx64 "-%012" PRIx64,
             a >> 32, (a >> 16) & 0xffff, a & 0xfff, (b >> 48) & 0xfff, b & (uint64_t)0xffffffffffffull);
}

static const char *meta_str(const json_t *obj, const char *field)
{
    return json_string_value(json_object_get(json_object_get(obj, "metadata"), field));
}

static void key_of(const hoist_api_resource *r, const char *ns, const char *name, char *buf,
                   size_t n)
{
    snprintf(buf, n, "%s/%s", r->namespaced && ns ? ns : "", name);
}

static void set_rv(json_t *obj, uint64_t rv)
{
    char b[32];
    snprintf(b, sizeof b, "%" PRIu64, rv);
    json_object_set_new(json_object_get(obj, "metadata"), "resourceVersion", json_string(b));
}

/* A lowercase RFC 1123 subdomain of at most 253 characters. */
static bool valid_subdomain(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > 253 || !isalnum((unsigned char)name[0]) ||
        !isalnum((unsigned char)name[n - 1]))
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!(islower((unsigned char)c) || isdigit((unsigned char)c) || c == '-' || c == '.'))
            return false;
    }
    return true;
}

/* --- lifecycle ------------------------------------------------------------------ */

static json_t *create_locked(hoist_apistore *s, const hoist_api_resource *r, const char *ns,
                             const json_t *obj, bool keep_status, hoist_apierr *err);

hoist_apistore *hoist_apistore_new(size_t history, hoist_apistore_clock clock, void *clock_arg)
{
    hoist_apistore *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->cap = history ? history : HOIST_APISTORE_DEFAULT_HISTORY;
    s->ring = calloc(s->cap, sizeof *s->ring);
    s->clock = clock ? clock : wall_clock;
    s->clock_arg = clock_arg;
    s->rand_state = 0x686f697374ull; /* fixed: uids are reproducible */
    bool ok = s->ring != NULL;
    for (size_t i = 0; ok && i < hoist_api_resource_count(); i++)
        ok = (s->objs[i] = json_object()) != NULL;
    static const char *const builtin[] = {"default", "kube-system", "kube-public",
                                          "kube-node-lease"};
    const hoist_api_resource *nsr = hoist_api_resource_find("", "v1", "namespaces");
    for (size_t i = 0; ok && i < 4; i++) {
        json_t *o = json_pack("{s:{s:s}}", "metadata", "name", builtin[i]);
        json_t *made = create_locked(s, nsr, NULL, o, false, NULL);
        ok = made != NULL;
        json_decref(made);
        json_decref(o);
    }
    if (!ok) {
        hoist_apistore_free(s);
        return NULL;
    }
    return s;
}

static void event_release(event_rec *e)
{
    json_decref(e->ev.object);
    json_decref(e->ev.old);
    e->ev.object = e->ev.old = NULL;
}

static void watch_free(hoist_apiwatch *w)
{
    free(w->ns);
    hoist_selector_free(&w->labels);
    hoist_selector_free(&w->fields);
    free(w);
}

void hoist_apistore_free(hoist_apistore *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < MAX_RESOURCES; i++)
        json_decref(s->objs[i]);
    for (size_t i = 0; s->ring && i < s->n; i++)
        event_release(&s->ring[(s->start + i) % s->cap]);
    free(s->ring);
    for (size_t i = s->qhead; i < s->qn; i++)
        event_release(&s->queue[i]);
    free(s->queue);
    while (s->watches) {
        hoist_apiwatch *w = s->watches;
        s->watches = w->next;
        watch_free(w);
    }
    free(s);
}

double hoist_apistore_now(const hoist_apistore *s)
{
    return s->clock(s->clock_arg);
}

uint64_t hoist_apistore_rv(const hoist_apistore *s)
{
    return s->rv;
}

uint64_t hoist_apistore_oldest_rv(const hoist_apistore *s)
{
    return s->compacted;
}

size_t hoist_apistore_count(const hoist_apistore *s, const hoist_api_resource *r)
{
    return json_object_size(s->objs[r->index]);
}

json_t *hoist_apistore_get(const hoist_apistore *s, const hoist_api_resource *r, const char *ns,
                           const char *name)
{
    char key[600];
    key_of(r, ns, name, key, sizeof key);
    return json_object_get(s->objs[r->index], key);
}

/* --- events and watches ---------------------------------------------------------- */

static bool watch_wants(const hoist_apiwatch *w, const hoist_api_event *ev,
                        hoist_api_event_type *type)
{
    if (w->dead || (w->res && w->res != ev->res) || ev->rv <= w->min_rv)
        return false;
    if (w->ns && ev->res->namespaced) {
        const char *ons = meta_str(ev->object, "namespace");
        if (!ons || strcmp(ons, w->ns) != 0)
            return false;
    }
    json_t *nl = json_object_get(json_object_get(ev->object, "metadata"), "labels");
    bool now = hoist_selector_match_labels(&w->labels, nl) &&
               hoist_selector_match_fields(&w->fields, ev->object);
    if (ev->type != HOIST_API_MODIFIED) {
        *type = ev->type;
        return now;
    }
    json_t *ol = json_object_get(json_object_get(ev->old, "metadata"), "labels");
    bool before = hoist_selector_match_labels(&w->labels, ol) &&
                  hoist_selector_match_fields(&w->fields, ev->old);
    if (now && before)
        *type = HOIST_API_MODIFIED;
    else if (now)
        *type = HOIST_API_ADDED;
    else if (before)
        *type = HOIST_API_DELETED;
    return now || before;
}

static void sweep_watches(hoist_apistore *s)
{
    hoist_apiwatch **pp = &s->watches;
    while (*pp) {
        hoist_apiwatch *w = *pp;
        if (w->dead) {
            *pp = w->next;
            watch_free(w);
        } else {
            pp = &w->next;
        }
    }
    s->any_dead = false;
}

static void dispatch(hoist_apistore *s)
{
    if (s->dispatching)
        return;
    s->dispatching = true;
    while (s->qhead < s->qn) {
        event_rec e = s->queue[s->qhead++];
        for (hoist_apiwatch *w = s->watches; w; w = w->next) {
            hoist_api_event_type t;
            if (watch_wants(w, &e.ev, &t))
                w->cb(w->arg, t, &e.ev);
        }
        event_release(&e);
    }
    s->qhead = s->qn = 0;
    s->dispatching = false;
    if (s->any_dead)
        sweep_watches(s);
}

/* Record a change: the object (stolen) and old (stolen, may be NULL). */
static void emit(hoist_apistore *s, hoist_api_event_type type, const hoist_api_resource *r,
                 json_t *object, json_t *old)
{
    event_rec e = {{type, r, s->rv, object, old}};
    /* history */
    if (s->n == s->cap) {
        event_rec *oldest = &s->ring[s->start];
        s->compacted = oldest->ev.rv;
        event_release(oldest);
        s->start = (s->start + 1) % s->cap;
        s->n--;
    }
    event_rec *slot = &s->ring[(s->start + s->n) % s->cap];
    *slot = e;
    json_incref(object);
    json_incref(old);
    s->n++;
    /* delivery */
    if (s->watches) {
        if (s->qn == s->qcap) {
            size_t cap = s->qcap ? s->qcap * 2 : 16;
            event_rec *q = realloc(s->queue, cap * sizeof *q);
            if (!q) { /* cannot queue: the watchers miss this event; history has it */
                event_release(&e);
                return;
            }
            s->queue = q;
            s->qcap = cap;
        }
        s->queue[s->qn++] = e;
        dispatch(s);
    } else {
        event_release(&e);
    }
}

hoist_apiwatch *hoist_apistore_watch(hoist_apistore *s, const hoist_api_resource *r,
                                     const char *ns, const char *labels, const char *fields,
                                     uint64_t from_rv, hoist_apiwatch_cb cb, void *arg,
                                     hoist_apierr *err)
{
    if (from_rv > 0 && from_rv < s->compacted)
        return hoist_apierr_set(err, 410, "Expired", "too old resource version: %" PRIu64
                                " (%" PRIu64 ")", from_rv, s->compacted);
    /* a version this store never issued: the client saw an earlier server
     * (restarted, its history gone); it must list again, as after a 410 */
    if (from_rv > s->rv)
        return hoist_apierr_set(err, 410, "Expired", "too large resource version: %" PRIu64
                                " (current %" PRIu64 "): list again", from_rv, s->rv);
    hoist_apiwatch *w = calloc(1, sizeof *w);
    if (!w)
        return hoist_apierr_set(err, 500, "InternalError", "out of memory");
    hoist_err perr = {{0}};
    if (hoist_selector_parse_labels(labels, &w->labels, &perr) != 0 ||
        hoist_selector_parse_fields(fields, &w->fields, &perr) != 0) {
        watch_free(w);
        return hoist_apierr_set(err, 400, "BadRequest", "%s", perr.msg);
    }
    for (size_t i = 0; r && i < w->fields.n; i++) {
        if (!hoist_api_field_supported(r, w->fields.reqs[i].key)) {
            hoist_apierr_set(err, 400, "BadRequest", "field label not supported: %s",
                             w->fields.reqs[i].key);
            watch_free(w);
            return NULL;
        }
    }
    w->res = r;
    w->ns = ns ? strdup(ns) : NULL;
    w->cb = cb;
    w->arg = arg;
    w->min_rv = from_rv > 0 ? from_rv : s->rv;
    if (from_rv > 0) { /* replay the history after from_rv */
        for (size_t i = 0; i < s->n && !w->dead; i++) {
            const hoist_api_event *ev = &s->ring[(s->start + i) % s->cap].ev;
            hoist_api_event_type t;
            if (watch_wants(w, ev, &t))
                cb(arg, t, ev);
        }
        w->min_rv = s->rv;
    }
    w->next = s->watches;
    s->watches = w;
    if (w->dead) { /* unwatched from inside the replay */
        s->any_dead = true;
        if (!s->dispatching)
            sweep_watches(s);
        return NULL;
    }
    return w;
}

void hoist_apistore_unwatch(hoist_apistore *s, hoist_apiwatch *w)
{
    if (!w)
        return;
    w->dead = true;
    s->any_dead = true;
    if (!s->dispatching) {
        bool listed = false;
        for (hoist_apiwatch *x = s->watches; x; x = x->next)
            listed = listed || x == w;
        if (listed)
            sweep_watches(s);
    }
}

/* --- reads ------------------------------------------------------------------------ */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void list_kind(const hoist_api_resource *r, char *buf, size_t n)
{
    snprintf(buf, n, "%sList", r->kind);
}

json_t *hoist_apistore_list(hoist_apistore *s, const hoist_api_resource *r, const char *ns,
                            const hoist_selector *labels, const hoist_selector *fields,
                            size_t limit, const char *cont, hoist_apierr *err)
{
    json_t *objs = s->objs[r->index];
    size_t n = json_object_size(objs), k = 0;
    const char **keys = malloc((n ? n : 1) * sizeof *keys);
    if (!keys)
        return hoist_apierr_set(err, 500, "InternalError", "out of memory");
    const char *key;
    json_t *obj;
    json_object_foreach(objs, key, obj) keys[k++] = key;
    qsort(keys, k, sizeof *keys, cmp_str);
    const char *after = NULL;
    uint64_t cont_rv = 0;
    if (cont && *cont) {
        char *end = NULL;
        cont_rv = strtoull(cont, &end, 10);
        if (!end || *end != ':' || end == cont) {
            free(keys);
            return hoist_apierr_set(err, 400, "BadRequest",
                                    "continue key is not valid: \"%s\"", cont);
        }
        if (cont_rv < s->compacted) {
            free(keys);
            return hoist_apierr_set(err, 410, "Expired", "The provided continue parameter is "
                                    "too old to display a consistent list result. You can "
                                    "start a new list without the continue parameter.");
        }
        after = end + 1;
    }
    json_t *items = json_array();
    const char *last = NULL;
    size_t remaining = 0;
    for (size_t i = 0; i < k; i++) {
        if (after && strcmp(keys[i], after) <= 0)
            continue;
        obj = json_object_get(objs, keys[i]);
        if (ns && r->namespaced) {
            const char *ons = meta_str(obj, "namespace");
            if (!ons || strcmp(ons, ns) != 0)
                continue;
        }
        if (labels && !hoist_selector_match_labels(labels, json_object_get(
                                                               json_object_get(obj, "metadata"),
                                                               "labels")))
            continue;
        if (fields && !hoist_selector_match_fields(fields, obj))
            continue;
        if (limit > 0 && json_array_size(items) == limit) {
            remaining++;
            continue;
        }
        json_array_append(items, obj);
        last = keys[i];
    }
    char kind[96], rv[32];
    list_kind(r, kind, sizeof kind);
    snprintf(rv, sizeof rv, "%" PRIu64, cont_rv ? cont_rv : s->rv);
    json_t *meta = json_pack("{s:s}", "resourceVersion", rv);
    if (remaining > 0 && last) {
        size_t tlen = strlen(last) + 32;
        char *tok = malloc(tlen);
        if (tok) {
            snprintf(tok, tlen, "%s:%s", rv, last);
            json_object_set_new(meta, "continue", json_string(tok));
            free(tok);
        }
        json_object_set_new(meta, "remainingItemCount", json_integer((json_int_t)remaining));
    }
    free(keys);
    return json_pack("{s:s, s:s, s:o, s:o}", "kind", kind, "apiVersion", r->group_version,
                     "metadata", meta, "items", items);
}

/* --- writes ----------------------------------------------------------------------- */

/* Check obj's apiVersion and kind against r (when given) and its metadata. */
static bool check_shape(const hoist_api_resource *r, const json_t *obj, hoist_apierr *err)
{
    if (!json_is_object(obj)) {
        hoist_apierr_set(err, 400, "BadRequest", "the object must be a JSON object");
        return false;
    }
    json_t *av = json_object_get(obj, "apiVersion"), *kind = json_object_get(obj, "kind");
    if (av && (!json_is_string(av) || strcmp(json_string_value(av), r->group_version) != 0)) {
        hoist_apierr_set(err, 400, "BadRequest",
                         "the API version in the data (%s) does not match the expected API "
                         "version (%s)", json_is_string(av) ? json_string_value(av) : "?",
                         r->group_version);
        return false;
    }
    if (kind && (!json_is_string(kind) || strcmp(json_string_value(kind), r->kind) != 0)) {
        hoist_apierr_set(err, 400, "BadRequest",
                         "the object provided is unrecognized (must be of type %s): kind \"%s\"",
                         r->kind, json_is_string(kind) ? json_string_value(kind) : "?");
        return false;
    }
    json_t *meta = json_object_get(obj, "metadata");
    if (meta && !json_is_object(meta)) {
        hoist_apierr_set(err, 400, "BadRequest", "metadata: expected an object");
        return false;
    }
    json_t *labels = json_object_get(meta, "labels");
    if (labels && !json_is_null(labels)) {
        const char *k;
        json_t *v;
        if (!json_is_object(labels)) {
            hoist_apierr_set(err, 400, "BadRequest", "metadata.labels: expected an object");
            return false;
        }
        json_object_foreach(labels, k, v) {
            if (!json_is_string(v)) {
                hoist_apierr_set(err, 400, "BadRequest", "metadata.labels.%s: expected a string",
                                 k);
                return false;
            }
        }
    }
    return true;
}

/* A 422 Invalid about one field, with details as the API sends them (kind
 * is the Kind there, and the cause names the field). */
static void *invalid(hoist_apierr *err, const hoist_api_resource *r, const char *name,
                     const char *field, const char *cause_reason, const char *detail)
{
    hoist_apierr_set(err, 422, "Invalid", "%s \"%s\" is invalid: %s: %s", r->kind, name, field,
                     detail);
    if (err) {
        err_details(err, r, name);
        snprintf(err->kind, sizeof err->kind, "%s", r->kind);
        snprintf(err->cause_reason, sizeof err->cause_reason, "%s", cause_reason);
        snprintf(err->cause_field, sizeof err->cause_field, "%s", field);
        snprintf(err->cause, sizeof err->cause, "%s", detail);
    }
    return NULL;
}

static void *invalid_name(hoist_apierr *err, const hoist_api_resource *r, const char *name)
{
    char detail[600];
    snprintf(detail, sizeof detail,
             "Invalid value: \"%.200s\": a lowercase RFC 1123 subdomain must consist of lower "
             "case alphanumeric characters, '-' or '.', and must start and end with an "
             "alphanumeric character", name);
    return invalid(err, r, name, "metadata.name", "FieldValueInvalid", detail);
}

static json_t *create_locked(hoist_apistore *s, const hoist_api_resource *r, const char *ns,
                             const json_t *obj, bool keep_status, hoist_apierr *err)
{
    if (!check_shape(r, obj, err))
        return NULL;
    json_t *meta = json_object_get(obj, "metadata");
    json_t *jname = json_object_get(meta, "name");
    const char *gen = json_string_value(json_object_get(meta, "generateName"));
    char name[300];
    if (jname && !json_is_string(jname))
        return hoist_apierr_set(err, 400, "BadRequest", "metadata.name: expected a string");
    if (json_string_value(jname) && *json_string_value(jname)) {
        snprintf(name, sizeof name, "%s", json_string_value(jname));
    } else if (gen && *gen) {
        static const char alphabet[] = "bcdfghjklmnpqrstvwxz2456789";
        size_t g = strlen(gen) > 58 ? 58 : strlen(gen);
        memcpy(name, gen, g);
        for (size_t i = 0; i < 5; i++)
            name[g + i] = alphabet[next_rand(s) % (sizeof alphabet - 1)];
        name[g + 5] = '\0';
    } else {
        return invalid(err, r, "", "metadata.name", "FieldValueRequired",
                       "Required value: name or generateName is required");
    }
    if (!valid_subdomain(name))
        return invalid_name(err, r, name);
    const char *ons = json_string_value(json_object_get(meta, "namespace"));
    char nsbuf[300] = "";
    if (r->namespaced) {
        if (ns && ons && *ons && strcmp(ns, ons) != 0)
            return hoist_apierr_set(err, 400, "BadRequest",
                                    "the namespace of the provided object does not match the "
                                    "namespace sent on the request");
        snprintf(nsbuf, sizeof nsbuf, "%s", ns ? ns : (ons && *ons ? ons : "default"));
        const hoist_api_resource *nsr = hoist_api_resource_find("", "v1", "namespaces");
        if (!hoist_apistore_get(s, nsr, NULL, nsbuf))
            return not_found(err, nsr, nsbuf);
    }
    char key[600];
    key_of(r, nsbuf, name, key, sizeof key);
    if (json_object_get(s->objs[r->index], key)) {
        if (*r->group)
            hoist_apierr_set(err, 409, "AlreadyExists", "%s.%s \"%s\" already exists", r->plural,
                             r->group, name);
        else
            hoist_apierr_set(err, 409, "AlreadyExists", "%s \"%s\" already exists", r->plural,
                             name);
        return err_details(err, r, name);
    }
    json_t *o = json_deep_copy(obj);
    if (!o)
        return hoist_apierr_set(err, 500, "InternalError", "out of memory");
    json_object_set_new(o, "apiVersion", json_string(r->group_version));
    json_object_set_new(o, "kind", json_string(r->kind));
    json_t *m = json_object_get(o, "metadata");
    if (!m) {
        m = json_object();
        json_object_set_new(o, "metadata", m);
    }
    json_object_set_new(m, "name", json_string(name));
    if (r->namespaced)
        json_object_set_new(m, "namespace", json_string(nsbuf));
    else
        json_object_del(m, "namespace");
    char uid[40], ts[40];
    make_uid(s, uid, sizeof uid);
    hoist_api_time(s->clock(s->clock_arg), ts, sizeof ts);
    json_object_set_new(m, "uid", json_string(uid));
    json_object_set_new(m, "creationTimestamp", json_string(ts));
    json_object_set_new(m, "generation", json_integer(1));
    json_object_del(m, "deletionTimestamp");
    if (!keep_status && !strcmp(r->kind, "Pod"))
        json_object_set_new(o, "status", json_pack("{s:s}", "phase", "Pending"));
    if (!strcmp(r->kind, "Namespace") && !json_object_get(o, "status"))
        json_object_set_new(o, "status", json_pack("{s:s}", "phase", "Active"));
    s->rv++;
    set_rv(o, s->rv);
    json_object_set(s->objs[r->index], key, o);
    json_incref(o); /* one for the caller, one for the event */
    emit(s, HOIST_API_ADDED, r, o, NULL);
    return o;
}

json_t *hoist_apistore_create(hoist_apistore *s, const hoist_api_resource *r, const char *ns,
                              const json_t *obj, bool keep_status, hoist_apierr *err)
{
    return create_locked(s, r, ns, obj, keep_status, err);
}

/* ---- graceful deletion and finalizers ---- */

static bool has_finalizers(const json_t *obj)
{
    json_t *f = json_object_get(json_object_get(obj, "metadata"), "finalizers");
    return json_is_array(f) && json_array_size(f) > 0;
}

/* A Pod a kubelet must stop before it goes: bound to a node, not finished. */
static bool pod_running_on_node(const hoist_api_resource *r, const json_t *obj)
{
    if (strcmp(r->kind, "Pod") != 0)
        return false;
    const char *node = json_string_value(
        json_object_get(json_object_get(obj, "spec"), "nodeName"));
    const char *phase = json_string_value(
        json_object_get(json_object_get(obj, "status"), "phase"));
    return node && *node && !(phase && (!strcmp(phase, "Succeeded") || !strcmp(phase, "Failed")));
}

/* The grace period still asked of a terminating object (0 when none). */
static int64_t grace_left(const json_t *obj)
{
    return (int64_t)json_integer_value(
        json_object_get(json_object_get(obj, "metadata"), "deletionGracePeriodSeconds"));
}

/* Whether obj, being deleted, may go now: no finalizers, and a pod's
 * kubelet is done with it (grace 0, or nothing left to stop). */
static bool deletion_done(const hoist_api_resource *r, const json_t *obj)
{
    if (!json_object_get(json_object_get(obj, "metadata"), "deletionTimestamp"))
        return false;
    return !has_finalizers(obj) && (grace_left(obj) == 0 || !pod_running_on_node(r, obj));
}

/* Store o (owned) as the next version of cur (under key), or delete the
 * object with o as its last state when `gone`, with the event it makes:
 * MODIFIED or DELETED. Returns o (a new reference). */
static json_t *store_version(hoist_apistore *s, const hoist_api_resource *r, const char *key,
                             json_t *cur, json_t *o, bool gone)
{
    s->rv++;
    set_rv(o, s->rv);
    json_incref(cur); /* the event's old */
    if (gone)
        json_object_del(s->objs[r->index], key);
    else
        json_object_set(s->objs[r->index], key, o);
    json_incref(o);
    emit(s, gone ? HOIST_API_DELETED : HOIST_API_MODIFIED, r, o, cur);
    return o;
}

/* True when a and b differ outside metadata and status. */
static bool spec_changed(const json_t *a, const json_t *b)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)a, k, v) {
        if (!strcmp(k, "metadata") || !strcmp(k, "status"))
            continue;
        json_t *w = json_object_get(b, k);
        if (!w || !json_equal(v, w))
            return true;
    }
    json_object_foreach((json_t *)b, k, v) {
        if (strcmp(k, "metadata") != 0 && strcmp(k, "status") != 0 && !json_object_get(a, k))
            return true;
    }
    return false;
}

json_t *hoist_apistore_update(hoist_apistore *s, const hoist_api_resource *r, const char *ns,
                              const char *name, const json_t *obj, hoist_api_part part,
                              hoist_apierr *err)
{
    json_t *cur = hoist_apistore_get(s, r, ns, name);
    if (!cur)
        return not_found(err, r, name);
    if (!check_shape(r, obj, err))
        return NULL;
    const char *oname = meta_str(obj, "name");
    if (oname && strcmp(oname, name) != 0)
        return hoist_apierr_set(err, 400, "BadRequest",
                                "the name of the object (%s) does not match the name on the URL "
                                "(%s)", oname, name);
    const char *ons = meta_str(obj, "namespace");
    if (r->namespaced && ons && *ons && strcmp(ons, meta_str(cur, "namespace")) != 0)
        return hoist_apierr_set(err, 400, "BadRequest",
                                "the namespace of the provided object does not match the "
                                "namespace sent on the request");
    const char *want_rv = meta_str(obj, "resourceVersion");
    if (want_rv && *want_rv && strcmp(want_rv, meta_str(cur, "resourceVersion")) != 0)
        return conflict(err, r, name);
    json_t *o;
    if (part == HOIST_API_STATUS) {
        o = json_deep_copy(cur);
        json_t *st = json_object_get(obj, "status");
        if (st)
            json_object_set_new(o, "status", json_deep_copy(st));
        else
            json_object_del(o, "status");
    } else {
        o = json_deep_copy(obj);
        if (part == HOIST_API_MAIN && r->has_status) {
            json_t *st = json_object_get(cur, "status");
            if (st)
                json_object_set_new(o, "status", json_deep_copy(st));
            else
                json_object_del(o, "status");
        }
    }
    if (!o)
        return hoist_apierr_set(err, 500, "InternalError", "out of memory");
    json_object_set_new(o, "apiVersion", json_string(r->group_version));
    json_object_set_new(o, "kind", json_string(r->kind));
    json_t *m = json_object_get(o, "metadata");
    if (!json_is_object(m)) {
        m = json_object();
        json_object_set_new(o, "metadata", m);
    }
    json_t *cm = json_object_get(cur, "metadata");
    static const char *const kept[] = {"name", "namespace", "uid", "creationTimestamp",
                                       "deletionTimestamp", "deletionGracePeriodSeconds"};
    for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++) {
        json_t *v = json_object_get(cm, kept[i]);
        if (v)
            json_object_set(m, kept[i], v);
        else
            json_object_del(m, kept[i]);
    }
    json_int_t gen = json_integer_value(json_object_get(cm, "generation"));
    json_object_set_new(m, "generation", json_integer(gen + (spec_changed(cur, o) ? 1 : 0)));
    json_object_set(m, "resourceVersion", json_object_get(cm, "resourceVersion"));
    if (json_equal(o, cur)) { /* nothing changed: no new version, no event */
        json_decref(o);
        json_incref(cur);
        return cur;
    }
    char key[600];
    key_of(r, ns, name, key, sizeof key);
    /* the last finalizer went from an object being deleted: it goes */
    return store_version(s, r, key, cur, o, deletion_done(r, o));
}

json_t *hoist_apistore_patch(hoist_apistore *s, const hoist_api_resource *r, const char *ns,
                             const char *name, int patch_type, const char *patch, size_t len,
                             hoist_api_part part, hoist_apierr *err)
{
    json_t *cur = hoist_apistore_get(s, r, ns, name);
    if (!cur)
        return not_found(err, r, name);
    hoist_err perr = {{0}};
    json_t *patched = hoist_patch_apply((hoist_patch_type)patch_type, cur, patch, len, &perr);
    if (!patched)
        return hoist_apierr_set(err, 400, "BadRequest", "%s", perr.msg);
    const char *pname = meta_str(patched, "name");
    json_t *res = NULL;
    if (!pname || strcmp(pname, name) != 0) {
        char detail[400];
        snprintf(detail, sizeof detail, "Invalid value: \"%.200s\": field is immutable",
                 pname ? pname : "");
        invalid(err, r, name, "metadata.name", "FieldValueInvalid", detail);
    } else {
        res = hoist_apistore_update(s, r, ns, name, patched, part, err);
    }
    json_decref(patched);
    return res;
}

static json_t *delete_one(hoist_apistore *s, const hoist_api_resource *r, const char *key,
                          json_t *cur)
{
    json_incref(cur);
    json_object_del(s->objs[r->index], key);
    s->rv++;
    json_t *last = json_deep_copy(cur);
    set_rv(last, s->rv);
    json_incref(last);
    emit(s, HOIST_API_DELETED, r, last, cur);
    return last;
}

/* Store a new version of cur (under key) marked as being deleted, grace_s
 * from now (MODIFIED); the stored object, new reference. */
static json_t *mark_deleting(hoist_apistore *s, const hoist_api_resource *r, const char *key,
                             json_t *cur, int64_t grace_s, hoist_apierr *err)
{
    json_t *o = json_deep_copy(cur);
    json_t *m = json_object_get(o, "metadata");
    char ts[40];
    hoist_api_time(s->clock(s->clock_arg) + (double)grace_s, ts, sizeof ts);
    if (!o || !json_is_object(m) ||
        json_object_set_new(m, "deletionTimestamp", json_string(ts)) != 0 ||
        json_object_set_new(m, "deletionGracePeriodSeconds", json_integer(grace_s)) != 0) {
        json_decref(o);
        return hoist_apierr_set(err, 500, "InternalError", "out of memory");
    }
    return store_version(s, r, key, cur, o, false);
}

json_t *hoist_apistore_delete(hoist_apistore *s, const hoist_api_resource *r, const char *ns,
                              const char *name, const char *precondition_rv, int64_t grace_s,
                              hoist_apierr *err)
{
    json_t *cur = hoist_apistore_get(s, r, ns, name);
    if (!cur)
        return not_found(err, r, name);
    if (precondition_rv && *precondition_rv &&
        strcmp(precondition_rv, meta_str(cur, "resourceVersion")) != 0)
        return conflict(err, r, name);
    if (!strcmp(r->kind, "Namespace")) { /* everything in it goes first */
        for (size_t i = 0; i < hoist_api_resource_count(); i++) {
            const hoist_api_resource *t = hoist_api_resource_at(i);
            if (!t->namespaced)
                continue;
            /* keys first: watchers may write while the deletes go out */
            size_t plen = strlen(name), n = 0;
            char **keys = malloc((json_object_size(s->objs[t->index]) + 1) * sizeof *keys);
            if (!keys)
                return hoist_apierr_set(err, 500, "InternalError", "out of memory");
            const char *key;
            json_t *obj;
            json_object_foreach(s->objs[t->index], key, obj) {
                if (!strncmp(key, name, plen) && key[plen] == '/' && (keys[n] = strdup(key)))
                    n++;
            }
            for (size_t k = 0; k < n; k++) {
                json_t *o = json_object_get(s->objs[t->index], keys[k]);
                if (o)
                    json_decref(delete_one(s, t, keys[k], o));
                free(keys[k]);
            }
            free(keys);
        }
    }
    char key[600];
    key_of(r, ns, name, key, sizeof key);
    if (strcmp(r->kind, "Namespace") != 0) {
        bool deleting = json_object_get(json_object_get(cur, "metadata"), "deletionTimestamp");
        int64_t grace = 0;
        if (pod_running_on_node(r, cur)) {
            json_t *g = json_object_get(json_object_get(cur, "spec"),
                                        "terminationGracePeriodSeconds");
            grace = grace_s >= 0 ? grace_s
                    : json_is_integer(g) && json_integer_value(g) >= 0 ? json_integer_value(g)
                                                                      : 30;
            if (deleting && grace >= grace_left(cur)) { /* only ever shortened */
                json_incref(cur);
                return cur;
            }
        }
        if (grace > 0 || (has_finalizers(cur) && !(deleting && grace_left(cur) == 0)))
            return mark_deleting(s, r, key, cur, grace, err);
        if (has_finalizers(cur)) { /* waiting for its finalizers already */
            json_incref(cur);
            return cur;
        }
    }
    return delete_one(s, r, key, cur);
}
