/* kube/writer.c - evictions, taints, cordons, Node deletion; see writer.h. */
#include "kube/writer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "model/taints.h"

/* One write. Node writes to the same Node run one at a time, oldest first. */
typedef struct op {
    struct op *prev, *next;
    hoist_kube_writer *w;
    hoist_kube_write_kind kind;
    char *ns;                       /* evict only */
    char *name;                     /* pod or Node */
    char *key, *value;              /* taint kinds; value "" when none */
    hoist_taint_effect effect;
    bool started;                   /* node writes: its turn came */
    bool patching;                  /* node writes: the PATCH (not the GET) is in flight */
    unsigned conflicts;
    hoist_kube_request *req;
} op;

struct hoist_kube_writer {
    hoist_kube_client client;
    hoist_kube_writer_config cfg;
    uint64_t rng;
    op *head, *tail;
    size_t n_ops;
    hoist_kube_writer_stats stats;
};

static const char component[] = "kube/writer";

const char *hoist_kube_write_kind_name(hoist_kube_write_kind k)
{
    static const char *const names[] = {"evict", "taint", "untaint", "cordon", "uncordon",
                                        "delete-node"};
    return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "?";
}

const char *hoist_kube_write_outcome_name(hoist_kube_write_outcome o)
{
    static const char *const names[] = {"done", "unchanged", "gone", "refused", "failed"};
    return (unsigned)o < sizeof names / sizeof names[0] ? names[o] : "?";
}

static bool is_node_write(hoist_kube_write_kind k)
{
    return k == HOIST_KUBE_WRITE_TAINT || k == HOIST_KUBE_WRITE_UNTAINT ||
           k == HOIST_KUBE_WRITE_CORDON || k == HOIST_KUBE_WRITE_UNCORDON;
}

/* ---- the JSON patch ---------------------------------------------------------- */

static bool taint_matches(const json_t *t, const char *key, const char *effect)
{
    return !strcmp(json_string_value(json_object_get(t, "key")), key) &&
           !strcmp(json_string_value(json_object_get(t, "effect")), effect);
}

/* Check spec.taints; NULL when fine, else the message (in buf). */
static const char *check_taints(const json_t *taints, char *buf, size_t size)
{
    if (!taints || json_is_null(taints))
        return NULL;
    if (!json_is_array(taints))
        return "spec.taints: not an array";
    size_t i;
    const json_t *t;
    json_array_foreach(taints, i, t) {
        if (!json_is_object(t)) {
            snprintf(buf, size, "spec.taints[%zu]: not an object", i);
            return buf;
        }
        if (!json_is_string(json_object_get(t, "key"))) {
            snprintf(buf, size, "spec.taints[%zu].key: missing or not a string", i);
            return buf;
        }
        if (!json_is_string(json_object_get(t, "effect"))) {
            snprintf(buf, size, "spec.taints[%zu].effect: missing or not a string", i);
            return buf;
        }
        const json_t *v = json_object_get(t, "value");
        if (v && !json_is_null(v) && !json_is_string(v)) {
            snprintf(buf, size, "spec.taints[%zu].value: not a string", i);
            return buf;
        }
    }
    return NULL;
}

/* The new spec.taints (a new reference), or NULL when unchanged. */
static json_t *new_taints(const json_t *taints, bool add, const char *key, const char *value,
                          const char *effect, bool *oom)
{
    json_t *out = json_array();
    bool changed = false, found = false;
    size_t i;
    const json_t *t;
    if (!out) {
        *oom = true;
        return NULL;
    }
    if (json_is_array(taints)) {
        json_array_foreach(taints, i, t) {
            if (!taint_matches(t, key, effect)) {
                json_array_append_new(out, json_deep_copy(t));
                continue;
            }
            if (!add) {
                changed = true;
                continue;
            }
            if (found) { /* a duplicate of the same key and effect: keep one */
                changed = true;
                continue;
            }
            found = true;
            const char *have = json_string_value(json_object_get(t, "value"));
            json_t *copy = json_deep_copy(t);
            if (strcmp(have ? have : "", value) != 0) {
                changed = true;
                if (*value)
                    json_object_set_new(copy, "value", json_string(value));
                else
                    json_object_del(copy, "value");
            }
            json_array_append_new(out, copy);
        }
    }
    if (add && !found) {
        json_t *nt = json_object();
        json_object_set_new(nt, "key", json_string(key));
        if (*value)
            json_object_set_new(nt, "value", json_string(value));
        json_object_set_new(nt, "effect", json_string(effect));
        json_array_append_new(out, nt);
        changed = true;
    }
    if (!changed) {
        json_decref(out);
        return NULL;
    }
    return out;
}

char *hoist_kube_node_patch(const char *node_json, size_t len, hoist_kube_write_kind kind,
                            const char *key, const char *value, hoist_taint_effect effect,
                            bool *unchanged, hoist_err *err)
{
    *unchanged = false;
    if (!is_node_write(kind)) {
        hoist_errf(err, "not a Node write: %s", hoist_kube_write_kind_name(kind));
        return NULL;
    }
    json_error_t jerr;
    json_t *node = json_loadb(node_json, len, 0, &jerr);
    if (!node) {
        hoist_errf(err, "not JSON: %s (line %d)", jerr.text, jerr.line);
        return NULL;
    }
    char buf[128];
    const char *bad = NULL;
    const json_t *md = json_object_get(node, "metadata");
    const json_t *rv = json_object_get(md, "resourceVersion");
    const json_t *spec = json_object_get(node, "spec");
    if (!json_is_object(node))
        bad = "not a JSON object";
    else if (!json_is_object(md))
        bad = "metadata: missing or not an object";
    else if (!json_is_string(rv) || !*json_string_value(rv))
        bad = "metadata.resourceVersion: missing or not a string";
    else if (spec && !json_is_null(spec) && !json_is_object(spec))
        bad = "spec: not an object";
    else if (kind == HOIST_KUBE_WRITE_TAINT || kind == HOIST_KUBE_WRITE_UNTAINT)
        bad = check_taints(json_object_get(spec, "taints"), buf, sizeof buf);
    else if (json_object_get(spec, "unschedulable") &&
             !json_is_boolean(json_object_get(spec, "unschedulable")) &&
             !json_is_null(json_object_get(spec, "unschedulable")))
        bad = "spec.unschedulable: not a boolean";
    if (bad) {
        hoist_errf(err, "%s", bad);
        json_decref(node);
        return NULL;
    }
    bool has_spec = json_is_object(spec);
    json_t *patch = json_pack("[{s:s, s:s, s:O}]", "op", "test", "path",
                              "/metadata/resourceVersion", "value", rv);
    json_t *change = NULL;
    bool oom = false;
    if (kind == HOIST_KUBE_WRITE_TAINT || kind == HOIST_KUBE_WRITE_UNTAINT) {
        json_t *taints = new_taints(json_object_get(spec, "taints"),
                                    kind == HOIST_KUBE_WRITE_TAINT, key, value ? value : "",
                                    hoist_taint_effect_name(effect), &oom);
        if (!taints) {
            *unchanged = !oom;
        } else if (json_array_size(taints) == 0) {
            change = json_pack("{s:s, s:s}", "op", "remove", "path", "/spec/taints");
            json_decref(taints);
        } else if (has_spec) {
            change = json_pack("{s:s, s:s, s:o}", "op", "add", "path", "/spec/taints", "value",
                               taints);
        } else {
            change = json_pack("{s:s, s:s, s:{s:o}}", "op", "add", "path", "/spec", "value",
                               "taints", taints);
        }
    } else {
        bool want = kind == HOIST_KUBE_WRITE_CORDON;
        bool have = json_is_true(json_object_get(spec, "unschedulable"));
        if (want == have)
            *unchanged = true;
        else if (!want)
            change = json_pack("{s:s, s:s}", "op", "remove", "path", "/spec/unschedulable");
        else if (has_spec)
            change = json_pack("{s:s, s:s, s:b}", "op", "add", "path", "/spec/unschedulable",
                               "value", 1);
        else
            change = json_pack("{s:s, s:s, s:{s:b}}", "op", "add", "path", "/spec", "value",
                               "unschedulable", 1);
    }
    char *text = NULL;
    if (change && patch && json_array_append_new(patch, change) == 0) {
        change = NULL;
        text = json_dumps(patch, JSON_COMPACT);
    }
    json_decref(change);
    json_decref(patch);
    json_decref(node);
    if (!text && !*unchanged)
        hoist_errf(err, "out of memory building the patch");
    return text;
}

/* ---- ops ------------------------------------------------------------------- */

static void op_free(op *o)
{
    free(o->ns);
    free(o->name);
    free(o->key);
    free(o->value);
    free(o);
}

static void unlink_op(hoist_kube_writer *w, op *o)
{
    if (o->prev)
        o->prev->next = o->next;
    else
        w->head = o->next;
    if (o->next)
        o->next->prev = o->prev;
    else
        w->tail = o->prev;
    w->n_ops--;
}

static op *op_new(hoist_kube_writer *w, hoist_kube_write_kind kind, const char *ns,
                  const char *name)
{
    op *o = calloc(1, sizeof *o);
    if (!o)
        return NULL;
    o->w = w;
    o->kind = kind;
    o->ns = ns ? strdup(ns) : NULL;
    o->name = strdup(name);
    if ((ns && !o->ns) || !o->name) {
        op_free(o);
        return NULL;
    }
    o->prev = w->tail;
    if (w->tail)
        w->tail->next = o;
    else
        w->head = o;
    w->tail = o;
    w->n_ops++;
    return o;
}

static void start_node_write(hoist_kube_writer *w, op *o);

/* A write ended: report, drop it, and start the next write on the same Node. */
static void op_done(hoist_kube_writer *w, op *o, hoist_kube_write_outcome outcome, long status,
                    const char *message)
{
    hoist_log_level lvl = outcome == HOIST_KUBE_WRITE_FAILED    ? HOIST_LOG_WARN
                          : outcome == HOIST_KUBE_WRITE_REFUSED ? HOIST_LOG_INFO
                                                                : HOIST_LOG_DEBUG;
    hoist_log(w->client.log, lvl, component, "%s %s%s%s: %s%s%s",
              hoist_kube_write_kind_name(o->kind), o->ns ? o->ns : "", o->ns ? "/" : "",
              o->name, hoist_kube_write_outcome_name(outcome), message && *message ? ": " : "",
              message ? message : "");
    unlink_op(w, o);
    op *next = NULL;
    if (is_node_write(o->kind))
        for (op *x = w->head; x; x = x->next)
            if (is_node_write(x->kind) && !x->started && !strcmp(x->name, o->name)) {
                next = x;
                break;
            }
    if (w->cfg.on_result) {
        hoist_kube_write_result res = {o->kind, o->ns, o->name, outcome, status,
                                       message ? message : ""};
        w->cfg.on_result(w->cfg.arg, &res);
    }
    op_free(o);
    if (next)
        start_node_write(w, next);
}

static hoist_kube_retry retry_for(const hoist_kube_writer *w, bool eviction)
{
    hoist_kube_retry r = w->cfg.retry;
    if (eviction)
        r.retry_429 = false;
    return r;
}

/* Start a request for o (o->req set); on failure the op ends as FAILED (-1). */
static int send_op(hoist_kube_writer *w, op *o, const char *method, const char *path,
                 const char *ctype, const char *body, hoist_kube_done_cb cb)
{
    hoist_kube_retry r = retry_for(w, o->kind == HOIST_KUBE_WRITE_EVICT);
    hoist_err e = {{0}};
    o->req = hoist_kube_request_start(&w->client, method, path, ctype, body, &r, &w->rng,
                                      &w->stats.http, cb, o, &e);
    if (!o->req) {
        if (o->kind == HOIST_KUBE_WRITE_EVICT)
            w->stats.eviction_failures++;
        else if (o->kind == HOIST_KUBE_WRITE_DELETE_NODE)
            w->stats.node_delete_failures++;
        else
            w->stats.node_failures++;
        op_done(w, o, HOIST_KUBE_WRITE_FAILED, 0, e.msg);
        return -1;
    }
    return 0;
}

/* "HTTP 500: message" or the transport error, for messages. */
static const char *describe(const hoist_kube_result *res, char *buf, size_t size)
{
    if (res->status == 0)
        snprintf(buf, size, "%s (after %u attempts)", res->message, res->attempts);
    else
        snprintf(buf, size, "HTTP %ld%s%s", res->status, *res->message ? ": " : "",
                 res->message);
    return buf;
}

/* ---- evictions --------------------------------------------------------------- */

static void on_evicted(void *arg, const hoist_kube_result *res)
{
    op *o = arg;
    hoist_kube_writer *w = o->w;
    o->req = NULL;
    char buf[600];
    if (res->status >= 200 && res->status < 300) {
        w->stats.evicted++;
        op_done(w, o, HOIST_KUBE_WRITE_DONE, res->status, "");
    } else if (res->status == 404) {
        w->stats.eviction_pod_gone++;
        op_done(w, o, HOIST_KUBE_WRITE_GONE, res->status, "");
    } else if (res->status == 429) {
        w->stats.evictions_refused++;
        op_done(w, o, HOIST_KUBE_WRITE_REFUSED, res->status, describe(res, buf, sizeof buf));
    } else {
        w->stats.eviction_failures++;
        op_done(w, o, HOIST_KUBE_WRITE_FAILED, res->status, describe(res, buf, sizeof buf));
    }
}

static op *find_op(hoist_kube_writer *w, hoist_kube_write_kind kind, const char *ns,
                   const char *name)
{
    for (op *o = w->head; o; o = o->next)
        if (o->kind == kind && !strcmp(o->name, name) &&
            ((!ns && !o->ns) || (ns && o->ns && !strcmp(ns, o->ns))))
            return o;
    return NULL;
}

/* A path with escaped segments: fmt takes %s for each. */
static char *path_for(const char *ns, const char *name, const char *suffix)
{
    char *ens = ns ? hoist_kube_escape(ns) : NULL;
    char *ename = hoist_kube_escape(name);
    char *path = NULL;
    if ((!ns || ens) && ename) {
        int n = ns ? asprintf(&path, "/api/v1/namespaces/%s/pods/%s%s", ens, ename, suffix)
                   : asprintf(&path, "/api/v1/nodes/%s%s", ename, suffix);
        if (n < 0)
            path = NULL;
    }
    free(ens);
    free(ename);
    return path;
}

int hoist_kube_writer_evict(hoist_kube_writer *w, const char *ns, const char *name,
                            hoist_err *err)
{
    if (!ns || !*ns || !name || !*name)
        return hoist_errf(err, "evict: missing namespace or name");
    if (find_op(w, HOIST_KUBE_WRITE_EVICT, ns, name)) {
        w->stats.evictions_deduplicated++;
        return 0;
    }
    json_t *body = json_pack("{s:s, s:s, s:{s:s, s:s}}", "apiVersion", "policy/v1", "kind",
                             "Eviction", "metadata", "name", name, "namespace", ns);
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    char *path = path_for(ns, name, "/eviction");
    op *o = text && path ? op_new(w, HOIST_KUBE_WRITE_EVICT, ns, name) : NULL;
    if (!o) {
        free(text);
        free(path);
        return hoist_errf(err, "evict %s/%s: out of memory", ns, name);
    }
    w->stats.evictions++;
    int rc = send_op(w, o, "POST", path, "application/json", text, on_evicted);
    free(text);
    free(path);
    return rc < 0 ? hoist_errf(err, "evict %s/%s: cannot start the request", ns, name) : 0;
}

/* ---- Node deletion ----------------------------------------------------------- */

static void on_deleted(void *arg, const hoist_kube_result *res)
{
    op *o = arg;
    hoist_kube_writer *w = o->w;
    o->req = NULL;
    char buf[600];
    if (res->status >= 200 && res->status < 300) {
        w->stats.nodes_deleted++;
        op_done(w, o, HOIST_KUBE_WRITE_DONE, res->status, "");
    } else if (res->status == 404) {
        w->stats.nodes_already_gone++;
        op_done(w, o, HOIST_KUBE_WRITE_GONE, res->status, "");
    } else {
        w->stats.node_delete_failures++;
        op_done(w, o, HOIST_KUBE_WRITE_FAILED, res->status, describe(res, buf, sizeof buf));
    }
}

int hoist_kube_writer_delete_node(hoist_kube_writer *w, const char *node, hoist_err *err)
{
    if (!node || !*node)
        return hoist_errf(err, "delete node: missing name");
    if (find_op(w, HOIST_KUBE_WRITE_DELETE_NODE, NULL, node))
        return 0;
    char *path = path_for(NULL, node, "");
    op *o = path ? op_new(w, HOIST_KUBE_WRITE_DELETE_NODE, NULL, node) : NULL;
    if (!o) {
        free(path);
        return hoist_errf(err, "delete node %s: out of memory", node);
    }
    w->stats.node_deletes++;
    int rc = send_op(w, o, "DELETE", path, NULL, NULL, on_deleted);
    free(path);
    return rc < 0 ? hoist_errf(err, "delete node %s: cannot start the request", node) : 0;
}

/* ---- taints and cordons: read, modify, write ---------------------------------- */

static void node_failed(hoist_kube_writer *w, op *o, hoist_kube_write_outcome outcome,
                        long status, const char *message)
{
    w->stats.node_failures++;
    op_done(w, o, outcome, status, message);
}

static void on_patched(void *arg, const hoist_kube_result *res);

static void on_node_read(void *arg, const hoist_kube_result *res)
{
    op *o = arg;
    hoist_kube_writer *w = o->w;
    o->req = NULL;
    char buf[1200];
    if (res->status == 404) {
        w->stats.node_missing++;
        node_failed(w, o, HOIST_KUBE_WRITE_GONE, res->status, "the Node does not exist");
        return;
    }
    if (res->status != 200) {
        node_failed(w, o, HOIST_KUBE_WRITE_FAILED, res->status, describe(res, buf, sizeof buf));
        return;
    }
    bool unchanged = false;
    hoist_err e = {{0}};
    char *patch = hoist_kube_node_patch(res->body, res->body_len, o->kind, o->key, o->value,
                                        o->effect, &unchanged, &e);
    if (unchanged) {
        w->stats.node_unchanged++;
        op_done(w, o, HOIST_KUBE_WRITE_UNCHANGED, res->status, "");
        return;
    }
    if (!patch) {
        w->stats.node_malformed++;
        snprintf(buf, sizeof buf, "GET Node %s: malformed answer: %s", o->name, e.msg);
        node_failed(w, o, HOIST_KUBE_WRITE_FAILED, res->status, buf);
        return;
    }
    char *path = path_for(NULL, o->name, "");
    if (!path) {
        free(patch);
        node_failed(w, o, HOIST_KUBE_WRITE_FAILED, 0, "out of memory");
        return;
    }
    o->patching = true;
    send_op(w, o, "PATCH", path, "application/json-patch+json", patch, on_patched);
    free(path);
    free(patch);
}

static void read_node(hoist_kube_writer *w, op *o)
{
    char *path = path_for(NULL, o->name, "");
    if (!path) {
        node_failed(w, o, HOIST_KUBE_WRITE_FAILED, 0, "out of memory");
        return;
    }
    o->patching = false;
    send_op(w, o, "GET", path, NULL, NULL, on_node_read);
    free(path);
}

static void on_patched(void *arg, const hoist_kube_result *res)
{
    op *o = arg;
    hoist_kube_writer *w = o->w;
    o->req = NULL;
    char buf[600];
    if (res->status >= 200 && res->status < 300) {
        w->stats.node_patches++;
        op_done(w, o, HOIST_KUBE_WRITE_DONE, res->status, "");
    } else if (res->status == 409 || res->status == 422) {
        w->stats.node_conflicts++;
        if (++o->conflicts > w->cfg.max_conflicts) {
            snprintf(buf, sizeof buf, "still conflicting after %u rounds: HTTP %ld%s%s",
                     o->conflicts, res->status, *res->message ? ": " : "", res->message);
            node_failed(w, o, HOIST_KUBE_WRITE_FAILED, res->status, buf);
            return;
        }
        hoist_log(w->client.log, HOIST_LOG_DEBUG, component,
                  "%s %s: the Node changed meanwhile (HTTP %ld); reading it again",
                  hoist_kube_write_kind_name(o->kind), o->name, res->status);
        read_node(w, o);
    } else if (res->status == 404) {
        w->stats.node_missing++;
        node_failed(w, o, HOIST_KUBE_WRITE_GONE, res->status, "the Node does not exist");
    } else {
        node_failed(w, o, HOIST_KUBE_WRITE_FAILED, res->status, describe(res, buf, sizeof buf));
    }
}

static void start_node_write(hoist_kube_writer *w, op *o)
{
    o->started = true;
    read_node(w, o);
}

static int node_write(hoist_kube_writer *w, hoist_kube_write_kind kind, const char *node,
                      const char *key, const char *value, hoist_taint_effect effect,
                      hoist_err *err)
{
    if (!node || !*node)
        return hoist_errf(err, "%s: missing Node name", hoist_kube_write_kind_name(kind));
    if (key && !*key)
        return hoist_errf(err, "%s %s: empty taint key", hoist_kube_write_kind_name(kind), node);
    if (key && !strcmp(hoist_taint_effect_name(effect), "?"))
        return hoist_errf(err, "%s %s: unknown taint effect %d",
                          hoist_kube_write_kind_name(kind), node, (int)effect);
    w->stats.node_writes++;
    bool busy = false;
    for (op *x = w->head; x; x = x->next) {
        if (!is_node_write(x->kind) || strcmp(x->name, node) != 0)
            continue;
        busy = true;
        if (!x->started && x->kind == kind && (!key || (!strcmp(x->key, key) &&
                                                         !strcmp(x->value, value ? value : "") &&
                                                         x->effect == effect))) {
            w->stats.node_writes_coalesced++;
            return 0;
        }
    }
    op *o = op_new(w, kind, NULL, node);
    if (o && key) {
        o->key = strdup(key);
        o->value = strdup(value ? value : "");
        o->effect = effect;
        if (!o->key || !o->value) {
            unlink_op(w, o);
            op_free(o);
            o = NULL;
        }
    }
    if (!o)
        return hoist_errf(err, "%s %s: out of memory", hoist_kube_write_kind_name(kind), node);
    if (!busy)
        start_node_write(w, o);
    return 0;
}

int hoist_kube_writer_taint(hoist_kube_writer *w, const char *node, const char *key,
                            const char *value, hoist_taint_effect effect, bool add,
                            hoist_err *err)
{
    if (!key)
        return hoist_errf(err, "taint %s: missing key", node ? node : "?");
    return node_write(w, add ? HOIST_KUBE_WRITE_TAINT : HOIST_KUBE_WRITE_UNTAINT, node, key,
                      value, effect, err);
}

int hoist_kube_writer_cordon(hoist_kube_writer *w, const char *node, bool cordon,
                             hoist_err *err)
{
    return node_write(w, cordon ? HOIST_KUBE_WRITE_CORDON : HOIST_KUBE_WRITE_UNCORDON, node,
                      NULL, NULL, HOIST_TAINT_NO_SCHEDULE, err);
}

/* ---- the writer ---------------------------------------------------------------- */

hoist_kube_writer *hoist_kube_writer_new(const hoist_kube_client *client,
                                         const hoist_kube_writer_config *cfg, hoist_err *err)
{
    if (!client || !client->loop || !client->http || !client->kube) {
        hoist_errf(err, "kube writer: missing loop, HTTP client or kubeconfig");
        return NULL;
    }
    hoist_kube_writer *w = calloc(1, sizeof *w);
    if (!w) {
        hoist_errf(err, "kube writer: out of memory");
        return NULL;
    }
    w->client = *client;
    if (cfg)
        w->cfg = *cfg;
    if (!w->cfg.max_conflicts)
        w->cfg.max_conflicts = HOIST_KUBE_WRITER_MAX_CONFLICTS;
    w->rng = w->cfg.seed;
    return w;
}

size_t hoist_kube_writer_pending(const hoist_kube_writer *w)
{
    return w ? w->n_ops : 0;
}

const hoist_kube_writer_stats *hoist_kube_writer_get_stats(const hoist_kube_writer *w)
{
    return &w->stats;
}

void hoist_kube_writer_close(hoist_kube_writer *w)
{
    if (!w)
        return;
    op *o = w->head;
    while (o) {
        op *next = o->next;
        hoist_kube_request_cancel(o->req);
        op_free(o);
        o = next;
    }
    free(w);
}
