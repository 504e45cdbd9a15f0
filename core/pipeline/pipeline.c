/*
 * pipeline/pipeline.c - the stages wired together (see pipeline.h).
 *
 * Re-entrancy: a sink write or a provider call may answer at once (the
 * simulator's world deletes an evicted pod inside evict(); a provider may
 * complete inside launch()). While a step runs, the snapshot's pointers are
 * in use, so object events and provider completions that arrive during a
 * step are queued and handled when the step ends.
 */
#include "pipeline/pipeline.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/labels.h"
#include "model/node_template.h"
#include "model/usage.h"
#include "model/taints.h"
#include "pipeline/headroom.h"
#include "policy/headroom_hook.h"
#include "policy/recycle_hook.h"

/* A deferred provider completion or object event. */
typedef enum deferred_kind {
    DEFER_EVENT,
    DEFER_LAUNCH,
    DEFER_TERMINATE,
    DEFER_INTERRUPTION
} deferred_kind;

typedef struct deferred {
    deferred_kind kind;
    hoist_object_op op;        /* DEFER_EVENT */
    json_t *object;            /* DEFER_EVENT: a deep copy, owned */
    unsigned claim_id;         /* DEFER_LAUNCH / DEFER_TERMINATE */
    hoist_error error;         /* the provider's error (code HOIST_OK on success) */
    hoist_launched *launched;  /* DEFER_LAUNCH success, owned */
    char *instance_id;         /* DEFER_INTERRUPTION, owned */
    uint64_t deadline_ms;      /* DEFER_INTERRUPTION */
} deferred;

/* What a provider callback needs to find its pipeline and claim. */
typedef struct call_ref {
    hoist_pipeline *p;
    unsigned claim_id;
} call_ref;

struct hoist_pipeline {
    hoist_pipeline_env env;
    hoist_pipeline_config cfg;
    char *cluster_name;
    hoist_policy *policy;
    hoist_policy_plan pplan;
    hoist_policy_batch pbatch;
    hoist_policy_launch plaunch;
    hoist_policy_recycle precycle;
    hoist_policy_headroom pheadroom;
    hoist_cluster cluster;
    hoist_batch batch;
    hoist_unavailable ice;
    hoist_price price;
    hoist_consolidator consol;
    hoist_plan_cache *plan_cache;   /* efficient types, kept across decisions */
    /* claims: heap records; indexes rebuilt when one is removed */
    size_t n_claims, cap_claims;
    hoist_nodeclaim **claims;
    hoist_strmap by_name, by_node, by_provider_id; /* -> index in claims */
    unsigned next_claim_seq, next_claim_id;
    char *run_id;                   /* cfg.run_id copied, or NULL */
    bool reconciling;               /* a provider list() for adoption is in flight */
    size_t in_flight;
    uint64_t next_consolidate_ms;
    bool in_step;
    bool started;
    uint64_t policy_errors_past;  /* failed hook calls of policies swapped out */
    uint64_t policy_errors_exported; /* ... counted in hoist_policy_errors_total so far */
    /* Nodes whose machines are terminated but whose Node object has not gone
     * yet: never adopted or disrupted again (few; a plain array). */
    size_t n_gone, cap_gone;
    size_t n_draining;              /* claims in HOIST_CLAIM_DRAINING */
    uint64_t next_underutilized_ms; /* no look for underutilized nodes before */
    uint64_t events_at_fruitless;   /* stats.events when a look last found nothing;
                                       UINT64_MAX: none */
    bool track_dirty;               /* a claim changed state: track() looks at all */
    uint64_t track_due_ms;          /* else the earliest time track() has work */
    char **gone;
    size_t n_deferred, cap_deferred;
    deferred *deferred_q;
    hoist_pipeline_stats stats;
};

/* ---- small helpers -------------------------------------------------------- */

static uint64_t now_ms(const hoist_pipeline *p)
{
    return p->env.host->now_ms(p->env.host->ctx);
}

#define LOG(p, level, ...)                                                 \
    do {                                                                   \
        if ((p)->env.host->log)                                            \
            (p)->env.host->log((p)->env.host->ctx, level, __VA_ARGS__);    \
    } while (0)

/* Add delta to counter hoist_<name>{label=value} when metrics are wired. */
static void count(hoist_pipeline *p, const char *name, const char *help, const char *label,
                  const char *value, double delta)
{
    if (!p->env.metrics)
        return;
    hoist_kv kv = {label, value};
    hoist_err err = {{0}};
    if (hoist_metrics_counter_add(p->env.metrics, name, help, label ? &kv : NULL, label ? 1 : 0,
                                  delta, &err) < 0)
        LOG(p, HOIST_LOG_WARN, "metrics: %s", err.msg);
}

static const char *json_str(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* "ns/name" of a pod object into buf; false when metadata.name is missing. */
static bool pod_key(const json_t *pod, char *buf, size_t cap, const char **ns_out,
                    const char **name_out)
{
    const json_t *md = json_object_get(pod, "metadata");
    const char *ns = json_str(md, "namespace"), *name = json_str(md, "name");
    if (!name || !*name)
        return false;
    ns = ns && *ns ? ns : "default";
    if (ns_out)
        *ns_out = ns;
    if (name_out)
        *name_out = name;
    return (size_t)snprintf(buf, cap, "%s/%s", ns, name) < cap;
}

/* Split "ns/name" (in place copy) for cluster calls. */
static bool split_key(const char *key, char *ns, size_t ns_cap, const char **name)
{
    const char *slash = strchr(key, '/');
    if (!slash || (size_t)(slash - key) >= ns_cap)
        return false;
    memcpy(ns, key, (size_t)(slash - key));
    ns[slash - key] = '\0';
    *name = slash + 1;
    return true;
}

/* Whether a Pod object is waiting for a node hoist may have to buy: not
 * bound, not terminating, not finished, not a DaemonSet's. */
static bool pod_json_pending(const json_t *pod, int32_t *priority)
{
    const json_t *md = json_object_get(pod, "metadata");
    const json_t *spec = json_object_get(pod, "spec");
    const char *node = json_str(spec, "nodeName");
    if (node && *node)
        return false;
    if (json_object_get(md, "deletionTimestamp"))
        return false;
    const char *phase = json_str(json_object_get(pod, "status"), "phase");
    if (phase && (strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0))
        return false;
    const json_t *owners = json_object_get(md, "ownerReferences");
    size_t i;
    const json_t *o;
    json_array_foreach(owners, i, o)
    {
        const char *kind = json_str(o, "kind");
        if (json_is_true(json_object_get(o, "controller")) && kind &&
            strcmp(kind, "DaemonSet") == 0)
            return false;
    }
    json_int_t prio = json_integer_value(json_object_get(spec, "priority"));
    *priority = prio > INT32_MAX ? INT32_MAX : prio < INT32_MIN ? INT32_MIN : (int32_t)prio;
    return true;
}

/* The Ready condition of a Node object: true only for status "True". */
static bool node_json_ready(const json_t *node)
{
    size_t i;
    const json_t *c;
    json_array_foreach(json_object_get(json_object_get(node, "status"), "conditions"), i, c)
    {
        const char *type = json_str(c, "type"), *status = json_str(c, "status");
        if (type && strcmp(type, "Ready") == 0)
            return status && strcmp(status, "True") == 0;
    }
    return false;
}

/* ---- claims table ---------------------------------------------------------- */

static int index_claim(hoist_pipeline *p, size_t i)
{
    hoist_nodeclaim *c = p->claims[i];
    if (hoist_strmap_put(&p->by_name, c->name, (int64_t)i) < 0)
        return -1;
    if (c->node && hoist_strmap_put(&p->by_node, c->node, (int64_t)i) < 0)
        return -1;
    if (c->provider_id && hoist_strmap_put(&p->by_provider_id, c->provider_id, (int64_t)i) < 0)
        return -1;
    return 0;
}

/* Drop key from index m if it points at claim i. */
static void unindex_key(hoist_strmap *m, const char *key, size_t i)
{
    int64_t at;
    if (key && hoist_strmap_get(m, key, &at) && at == (int64_t)i)
        hoist_strmap_del(m, key);
}

static void unindex_claim(hoist_pipeline *p, size_t i)
{
    hoist_nodeclaim *c = p->claims[i];
    unindex_key(&p->by_name, c->name, i);
    unindex_key(&p->by_node, c->node, i);
    unindex_key(&p->by_provider_id, c->provider_id, i);
}

/* Position of claim c in p->claims (by its name), or SIZE_MAX. */
static size_t claim_index(const hoist_pipeline *p, const hoist_nodeclaim *c)
{
    int64_t i;
    if (hoist_strmap_get(&p->by_name, c->name, &i) && p->claims[i] == c)
        return (size_t)i;
    for (size_t k = 0; k < p->n_claims; k++) /* not indexed (out of memory earlier) */
        if (p->claims[k] == c)
            return k;
    return SIZE_MAX;
}

static int claim_set_string(char **slot, const char *v);

/* Move claim c to state s, keeping the counters and track()'s schedule right. */
static void claim_state(hoist_pipeline *p, hoist_nodeclaim *c, hoist_nodeclaim_state s)
{
    p->n_draining += (s == HOIST_CLAIM_DRAINING);
    p->n_draining -= (c->state == HOIST_CLAIM_DRAINING);
    c->state = s;
    p->track_dirty = true;
}

/* Set claim c's indexed string *slot (its node or provider id) to v
 * (copied), keeping index m in step. 0 or -1 when out of memory. */
static int claim_rekey(hoist_pipeline *p, hoist_strmap *m, hoist_nodeclaim *c, char **slot,
                       const char *v)
{
    size_t i = claim_index(p, c);
    if (i == SIZE_MAX)
        return -1;
    unindex_key(m, *slot, i);
    if (claim_set_string(slot, v) < 0)
        return -1;
    return *slot ? hoist_strmap_put(m, *slot, (int64_t)i) : 0;
}

static hoist_nodeclaim *claim_by(const hoist_pipeline *p, const hoist_strmap *m, const char *key)
{
    int64_t i;
    if (!key || !hoist_strmap_get(m, key, &i))
        return NULL;
    return p->claims[i];
}

static hoist_nodeclaim *claim_by_id(const hoist_pipeline *p, unsigned id)
{
    for (size_t i = 0; i < p->n_claims; i++)
        if (p->claims[i]->id == id)
            return p->claims[i];
    return NULL;
}

static void claim_free(hoist_nodeclaim *c)
{
    if (!c)
        return;
    free(c->name);
    free(c->nodepool);
    free(c->node);
    hoist_launched_free(c->launched);
    free(c->instance_type);
    free(c->zone);
    free(c->instance_id);
    free(c->provider_id);
    for (size_t i = 0; i < c->n_pods; i++)
        free(c->pods[i]);
    free(c->pods);
    free(c->disrupt_detail);
    json_decref(c->base_labels);
    json_decref(c->taints);
    free(c->replacements);
    free(c);
}

static hoist_nodeclaim *claim_add(hoist_pipeline *p, const char *name, const char *nodepool)
{
    if (p->n_claims == p->cap_claims) {
        size_t ncap = p->cap_claims ? p->cap_claims * 2 : 16;
        hoist_nodeclaim **grown = realloc(p->claims, ncap * sizeof *grown);
        if (!grown)
            return NULL;
        p->claims = grown;
        p->cap_claims = ncap;
    }
    hoist_nodeclaim *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->name = strdup(name);
    c->nodepool = strdup(nodepool);
    c->id = ++p->next_claim_id;
    c->created_ms = now_ms(p);
    if (!c->name || !c->nodepool) {
        claim_free(c);
        return NULL;
    }
    p->claims[p->n_claims++] = c;
    if (index_claim(p, p->n_claims - 1) < 0) {
        p->n_claims--;
        claim_free(c);
        return NULL;
    }
    return c;
}

static void claim_remove(hoist_pipeline *p, hoist_nodeclaim *c)
{
    size_t i = claim_index(p, c);
    if (i == SIZE_MAX)
        return;
    unindex_claim(p, i);
    size_t last = --p->n_claims;
    if (i != last) {
        unindex_claim(p, last);
        p->claims[i] = p->claims[last];
        if (index_claim(p, i) < 0)
            LOG(p, HOIST_LOG_ERROR, "pipeline: out of memory re-indexing node claims");
    }
    if (c->state == HOIST_CLAIM_DRAINING)
        p->n_draining--;
    claim_free(c);
}

static int claim_set_string(char **slot, const char *v)
{
    char *copy = v ? strdup(v) : NULL;
    if (v && !copy)
        return -1;
    free(*slot);
    *slot = copy;
    return 0;
}

static bool is_gone(const hoist_pipeline *p, const char *node)
{
    for (size_t i = 0; i < p->n_gone; i++)
        if (strcmp(p->gone[i], node) == 0)
            return true;
    return false;
}

static void mark_gone(hoist_pipeline *p, const char *node)
{
    if (is_gone(p, node))
        return;
    if (p->n_gone == p->cap_gone) {
        size_t ncap = p->cap_gone ? p->cap_gone * 2 : 8;
        char **g = realloc(p->gone, ncap * sizeof *g);
        if (!g)
            return;
        p->gone = g;
        p->cap_gone = ncap;
    }
    char *copy = strdup(node);
    if (copy)
        p->gone[p->n_gone++] = copy;
}

static void forget_gone(hoist_pipeline *p, const char *node)
{
    for (size_t i = 0; i < p->n_gone; i++)
        if (strcmp(p->gone[i], node) == 0) {
            free(p->gone[i]);
            p->gone[i] = p->gone[--p->n_gone];
            return;
        }
}

/* ---- the synthetic Node of a claim ---------------------------------------- */

/* A Node object standing in for claim c until its real Node registers: the
 * claim's labels, the NodePool's taints, capacity and allocatable of type
 * `it` under the NodePool's kubelet settings, and Ready False. */
static json_t *synthetic_node(hoist_pipeline *p, const hoist_nodeclaim *c,
                              const hoist_instance_type *it, hoist_err *err)
{
    json_t *annotations = json_pack("{s:s}", HOIST_ANNOTATION_SYNTHETIC, "true");
    if (!annotations) {
        hoist_errf(err, "out of memory");
        return NULL;
    }
    hoist_node_template t = {
        .name = c->name,
        .nodepool = c->nodepool,
        .type = it,
        .zone = c->zone,
        .capacity_type = c->capacity_type,
        .labels = c->base_labels,
        .taints = c->taints,
        .annotations = annotations,
        .ready = false,
    };
    json_t *node = hoist_node_template_json(hoist_cluster_objects(&p->cluster), &t, err);
    json_decref(annotations);
    return node;
}

/* Put (or replace) claim c's synthetic Node into the cluster state. */
static void put_synthetic_node(hoist_pipeline *p, hoist_nodeclaim *c)
{
    const hoist_instance_type *it = hoist_catalog_find(p->env.catalog, c->instance_type);
    if (!it) {
        LOG(p, HOIST_LOG_WARN, "pipeline: claim %s: type %s is not in the catalog", c->name,
            c->instance_type);
        return;
    }
    hoist_err err = {{0}};
    json_t *node = synthetic_node(p, c, it, &err);
    if (!node) {
        LOG(p, HOIST_LOG_ERROR, "pipeline: claim %s: building its node: %s", c->name, err.msg);
        return;
    }
    hoist_object_event ev = {.op = HOIST_OBJECT_UPDATE, .object = node};
    if (hoist_cluster_apply(&p->cluster, &ev, &err) < 0)
        LOG(p, HOIST_LOG_ERROR, "pipeline: claim %s: %s", c->name, err.msg);
    else
        c->synthetic = true;
    json_decref(node);
}

static void drop_synthetic_node(hoist_pipeline *p, hoist_nodeclaim *c)
{
    if (!c->synthetic)
        return;
    c->synthetic = false;
    json_t *ref = hoist_object_ref(NULL, "Node", NULL, c->name);
    if (!ref)
        return;
    hoist_object_event ev = {.op = HOIST_OBJECT_DELETE, .object = ref};
    hoist_err err = {{0}};
    if (hoist_cluster_apply(&p->cluster, &ev, &err) < 0)
        LOG(p, HOIST_LOG_ERROR, "pipeline: claim %s: %s", c->name, err.msg);
    json_decref(ref);
}

/* Pods of c nominated to it go back to pending and into the batch. */
static void requeue_pods(hoist_pipeline *p, hoist_nodeclaim *c, const char *node)
{
    hoist_cluster_clear_nominations_to(&p->cluster, node);
    uint64_t now = now_ms(p);
    for (size_t i = 0; i < c->n_pods; i++) {
        char ns[256];
        const char *name;
        if (!split_key(c->pods[i], ns, sizeof ns, &name))
            continue;
        const hoist_pod *pod = hoist_cluster_find_pod(&p->cluster, ns, name);
        if (!pod || pod->node_name)
            continue; /* gone, bound, or nominated elsewhere */
        if (hoist_batch_add(&p->batch, c->pods[i], pod->priority, now) >= 0)
            p->stats.requeued_pods++;
    }
}

/* ---- provider calls ------------------------------------------------------- */

static void defer(hoist_pipeline *p, const deferred *d)
{
    if (p->n_deferred == p->cap_deferred) {
        size_t ncap = p->cap_deferred ? p->cap_deferred * 2 : 16;
        deferred *grown = realloc(p->deferred_q, ncap * sizeof *grown);
        if (!grown) {
            LOG(p, HOIST_LOG_ERROR, "pipeline: out of memory queueing a completion");
            json_decref(d->object);
            hoist_launched_free(d->launched);
            return;
        }
        p->deferred_q = grown;
        p->cap_deferred = ncap;
    }
    p->deferred_q[p->n_deferred++] = *d;
}

static void terminate_claim(hoist_pipeline *p, hoist_nodeclaim *c, const char *why);

static void launch_finished(hoist_pipeline *p, unsigned id, const hoist_error *err,
                            hoist_launched *m)
{
    hoist_nodeclaim *c = claim_by_id(p, id);
    p->in_flight--;
    if (!c) {
        hoist_launched_free(m);
        return;
    }
    c->call_in_flight = false;
    p->track_dirty = true;
    if (err) {
        p->stats.launch_failures++;
        if (err->code == HOIST_E_INSUFFICIENT_CAPACITY)
            p->stats.launch_ice++;
        count(p, "hoist_launch_failures_total", "Launches the provider refused, by reason",
              "reason", hoist_status_name(err->code), 1);
        LOG(p, HOIST_LOG_WARN, "pipeline: launch of %s failed: %s: %s", c->name,
            hoist_status_name(err->code), err->message);
        drop_synthetic_node(p, c);
        requeue_pods(p, c, c->name);
        claim_remove(p, c);
        return;
    }
    c->launched = m;
    c->launched_ms = now_ms(p);
    c->capacity_type = m->capacity_type;
    c->price = m->price;
    if (claim_set_string(&c->instance_id, m->instance_id) < 0 ||
        claim_rekey(p, &p->by_provider_id, c, &c->provider_id, m->provider_id) < 0 ||
        claim_set_string(&c->instance_type, m->instance_type) < 0 ||
        claim_set_string(&c->zone, m->zone) < 0)
        LOG(p, HOIST_LOG_ERROR, "pipeline: out of memory recording launch of %s", c->name);
    count(p, "hoist_machines_launched_total", "Machines launched, by NodePool", "nodepool",
          c->nodepool, 1);
    if (c->disrupting || c->state == HOIST_CLAIM_TERMINATING) {
        terminate_claim(p, c, "terminated while launching");
        return;
    }
    claim_state(p, c, HOIST_CLAIM_LAUNCHED);
    put_synthetic_node(p, c); /* now with the type, zone and capacity type launched */
}

static void on_launch_done(void *arg, const hoist_error *err, hoist_launched *m)
{
    call_ref *ref = arg;
    hoist_pipeline *p = ref->p;
    unsigned id = ref->claim_id;
    free(ref);
    if (p->in_step) {
        deferred d = {0};
        d.kind = DEFER_LAUNCH;
        d.claim_id = id;
        d.launched = m;
        if (err)
            d.error = *err;
        d.error.code = err ? err->code : HOIST_OK;
        defer(p, &d);
        return;
    }
    launch_finished(p, id, err, m);
}

static void terminate_finished(hoist_pipeline *p, unsigned id, const hoist_error *err)
{
    hoist_nodeclaim *c = claim_by_id(p, id);
    p->in_flight--;
    if (!c)
        return;
    c->call_in_flight = false;
    p->track_dirty = true;
    if (err && err->code != HOIST_E_NOT_FOUND) {
        p->stats.termination_failures++;
        LOG(p, HOIST_LOG_WARN, "pipeline: terminate %s failed (retried): %s: %s", c->name,
            hoist_status_name(err->code), err->message);
        return; /* stays TERMINATING; the next step asks again */
    }
    p->stats.terminations++;
    count(p, "hoist_machines_terminated_total", "Machines terminated, by reason", "reason",
          c->disrupting ? hoist_disruption_reason_name(c->disrupt_reason) : "other", 1);
    if (c->node) {
        mark_gone(p, c->node);
        if (p->env.sink && p->env.sink->delete_node &&
            p->env.sink->delete_node(p->env.sink->ctx, c->node) < 0)
            LOG(p, HOIST_LOG_WARN, "pipeline: deleting node %s failed", c->node);
        hoist_cluster_clear_nominations_to(&p->cluster, c->node);
    }
    drop_synthetic_node(p, c);
    hoist_cluster_clear_nominations_to(&p->cluster, c->name);
    claim_remove(p, c);
}

static void on_terminate_done(void *arg, const hoist_error *err)
{
    call_ref *ref = arg;
    hoist_pipeline *p = ref->p;
    unsigned id = ref->claim_id;
    free(ref);
    if (p->in_step) {
        deferred d = {0};
        d.kind = DEFER_TERMINATE;
        d.claim_id = id;
        if (err)
            d.error = *err;
        d.error.code = err ? err->code : HOIST_OK;
        defer(p, &d);
        return;
    }
    terminate_finished(p, id, err);
}

/* Ask the provider to terminate c (once its instance is known). */
static void terminate_claim(hoist_pipeline *p, hoist_nodeclaim *c, const char *why)
{
    claim_state(p, c, HOIST_CLAIM_TERMINATING);
    if (c->call_in_flight || !c->instance_id)
        return; /* the launch answer (or the next step) gets here again */
    call_ref *ref = malloc(sizeof *ref);
    if (!ref) {
        LOG(p, HOIST_LOG_ERROR, "pipeline: out of memory terminating %s", c->name);
        return;
    }
    ref->p = p;
    ref->claim_id = c->id;
    LOG(p, HOIST_LOG_INFO, "pipeline: terminating %s (%s): %s", c->name, c->instance_id, why);
    hoist_error perr;
    memset(&perr, 0, sizeof perr);
    c->call_in_flight = true;
    p->in_flight++;
    hoist_status st = p->env.provider->terminate(p->env.provider_state, c->instance_id,
                                                 on_terminate_done, ref, &perr);
    if (st != HOIST_OK) {
        free(ref);
        c->call_in_flight = false;
        p->track_dirty = true;
        p->in_flight--;
        p->stats.termination_failures++;
        LOG(p, HOIST_LOG_WARN, "pipeline: terminate %s refused: %s: %s", c->name,
            hoist_status_name(st), perr.message);
    }
}

/* ---- interruptions --------------------------------------------------------- */

/* The cloud will reclaim instance_id at deadline_ms (a spot interruption or
 * scheduled maintenance): cordon its node with the disrupted taint and evict
 * its pods at once, so their replacements are decided now and the pods are
 * off the machine before it goes; the drain loop terminates it when empty.
 * Interruption is involuntary: budgets and do-not-disrupt do not apply. */
static int decide_without(hoist_pipeline *p, const char *const *without, size_t n_without,
                          hoist_err *err);

static void interruption(hoist_pipeline *p, const char *instance_id, uint64_t deadline_ms)
{
    hoist_nodeclaim *c = NULL;
    for (size_t i = 0; i < p->n_claims && !c; i++)
        if (p->claims[i]->instance_id && strcmp(p->claims[i]->instance_id, instance_id) == 0)
            c = p->claims[i];
    p->stats.interruptions++;
    count(p, "hoist_interruptions_total", "Interruption notices received", NULL, NULL, 1);
    if (!c) {
        LOG(p, HOIST_LOG_INFO, "pipeline: interruption notice for %s, not a machine of ours",
            instance_id);
        return;
    }
    LOG(p, HOIST_LOG_INFO, "pipeline: %s (%s) will be reclaimed in %.0f s: draining it",
        c->name, instance_id,
        deadline_ms > now_ms(p) ? (double)(deadline_ms - now_ms(p)) / 1000.0 : 0.0);
    c->disrupting = true;
    claim_set_string(&c->disrupt_detail, "spot interruption");
    if (!c->node) {
        /* not registered yet: nothing to drain; its pods are decided again */
        drop_synthetic_node(p, c);
        requeue_pods(p, c, c->name);
        terminate_claim(p, c, "interrupted before it registered");
        return;
    }
    if (c->state == HOIST_CLAIM_TERMINATING || c->state == HOIST_CLAIM_DRAINING)
        return;
    /* the replacement first, at once: the machines the node's pods need are
     * launched now (not after the evictions and a batch window), and the
     * evicted pods are placed on them by the next decision */
    if (!p->in_step) {
        hoist_err err = {{0}};
        const char *node = c->node;
        size_t before = p->stats.launches;
        if (decide_without(p, &node, 1, &err) < 0)
            LOG(p, HOIST_LOG_WARN, "pipeline: replacing interrupted %s: %s", c->node, err.msg);
        else if (p->stats.launches > before)
            p->stats.replacements += p->stats.launches - before;
    }
    claim_state(p, c, HOIST_CLAIM_DRAINING);
    c->drain_started_ms = now_ms(p);
    c->last_evict_ms = 0; /* the next drain pass evicts at once */
    hoist_cluster_clear_nominations_to(&p->cluster, c->node);
    if (p->env.sink && p->env.sink->taint &&
        p->env.sink->taint(p->env.sink->ctx, c->node, HOIST_TAINT_DISRUPTED, "",
                           HOIST_TAINT_NO_SCHEDULE, true) < 0)
        LOG(p, HOIST_LOG_WARN, "pipeline: tainting %s failed", c->node);
}

static void on_provider_event(void *arg, const hoist_event *ev)
{
    hoist_pipeline *p = arg;
    if (!ev || !ev->instance_id)
        return;
    if (ev->kind != HOIST_EVENT_SPOT_INTERRUPTION &&
        ev->kind != HOIST_EVENT_SCHEDULED_MAINTENANCE)
        return;
    if (p->in_step) {
        deferred d = {0};
        d.kind = DEFER_INTERRUPTION;
        d.instance_id = strdup(ev->instance_id);
        d.deadline_ms = ev->deadline_ms;
        if (d.instance_id)
            defer(p, &d);
        return;
    }
    interruption(p, ev->instance_id, ev->deadline_ms);
}

/* ---- events --------------------------------------------------------------- */

static void free_strings(char **v, size_t n);

/* "ns/name" of every pod the snapshot shows on node (bound or nominated),
 * malloc'd; NULL with *n 0 when there are none or memory ran out. */
static char **pods_nominated_to(hoist_pipeline *p, const char *node, size_t *n)
{
    *n = 0;
    const hoist_objects *o = hoist_cluster_objects(&p->cluster);
    const hoist_node_usage *u = o->usage ? hoist_usage_of(o->usage, node) : NULL;
    if (!u || u->n_pods == 0)
        return NULL;
    char **keys = calloc(u->n_pods, sizeof *keys);
    for (size_t i = 0; keys && i < u->n_pods; i++) {
        size_t len = strlen(u->pods[i]->ns) + strlen(u->pods[i]->name) + 2;
        if (!(keys[*n] = malloc(len)))
            break;
        snprintf(keys[(*n)++], len, "%s/%s", u->pods[i]->ns, u->pods[i]->name);
    }
    return keys;
}


static void node_event(hoist_pipeline *p, hoist_object_op op, const json_t *node)
{
    const json_t *md = json_object_get(node, "metadata");
    const char *name = json_str(md, "name");
    if (!name)
        return;
    if (json_object_get(json_object_get(md, "annotations"), HOIST_ANNOTATION_SYNTHETIC))
        return;
    if (op == HOIST_OBJECT_DELETE) {
        forget_gone(p, name);
        hoist_nodeclaim *c = claim_by(p, &p->by_node, name);
        if (c && c->state != HOIST_CLAIM_TERMINATING)
            terminate_claim(p, c, "its Node was deleted");
        return;
    }
    const char *pid = json_str(json_object_get(node, "spec"), "providerID");
    hoist_nodeclaim *c = claim_by(p, &p->by_provider_id, pid);
    if (!c)
        return;
    uint64_t now = now_ms(p);
    if (c->state == HOIST_CLAIM_LAUNCHING || c->state == HOIST_CLAIM_LAUNCHED) {
        if (claim_rekey(p, &p->by_node, c, &c->node, name) < 0) {
            LOG(p, HOIST_LOG_ERROR, "pipeline: out of memory registering %s", c->name);
            return;
        }
        claim_state(p, c, HOIST_CLAIM_REGISTERED);
        c->registered_ms = now;
        p->stats.registered++;
        /* pods nominated to the synthetic node by later decisions (or, for
         * a machine adopted after a restart, by the first one) follow too */
        size_t n_later = 0;
        char **later = pods_nominated_to(p, c->name, &n_later);
        drop_synthetic_node(p, c);
        hoist_cluster_clear_nominations_to(&p->cluster, c->name);
        for (size_t i = 0; i < c->n_pods + n_later; i++) {
            const char *key = i < c->n_pods ? c->pods[i] : later[i - c->n_pods];
            char ns[256];
            const char *pod;
            if (split_key(key, ns, sizeof ns, &pod) &&
                hoist_cluster_nominate(&p->cluster, ns, pod, name) < 0)
                LOG(p, HOIST_LOG_ERROR, "pipeline: out of memory nominating %s", key);
        }
        free_strings(later, n_later);
        if (p->env.sink && p->env.sink->taint &&
            p->env.sink->taint(p->env.sink->ctx, name, HOIST_TAINT_UNREGISTERED, "",
                               HOIST_TAINT_NO_EXECUTE, false) < 0)
            LOG(p, HOIST_LOG_WARN, "pipeline: removing %s from %s failed",
                HOIST_TAINT_UNREGISTERED, name);
    }
    if (c->state == HOIST_CLAIM_REGISTERED && node_json_ready(node)) {
        claim_state(p, c, HOIST_CLAIM_READY);
        c->ready_ms = now;
    }
}

static void pod_event(hoist_pipeline *p, hoist_object_op op, const json_t *pod)
{
    char key[512];
    const char *ns, *name;
    if (!pod_key(pod, key, sizeof key, &ns, &name))
        return;
    int32_t prio = 0;
    if (op != HOIST_OBJECT_DELETE && pod_json_pending(pod, &prio) &&
        !hoist_cluster_nominated(&p->cluster, ns, name)) {
        if (hoist_batch_add(&p->batch, key, prio, now_ms(p)) < 0)
            LOG(p, HOIST_LOG_ERROR, "pipeline: out of memory batching %s", key);
        return;
    }
    hoist_batch_remove(&p->batch, key);
}

static void apply_event(hoist_pipeline *p, hoist_object_op op, const json_t *obj,
                        const char *text)
{
    p->stats.events++;
    hoist_object_event ev = {op, obj, text, false};
    hoist_err err = {{0}};
    if (hoist_cluster_apply(&p->cluster, &ev, &err) < 0) {
        p->stats.events_rejected++;
        count(p, "hoist_objects_rejected_total", "Objects refused as malformed", NULL, NULL, 1);
        LOG(p, HOIST_LOG_WARN, "pipeline: skipped object: %s", err.msg);
        return;
    }
    const char *kind = json_str(obj, "kind");
    if (!kind || strcmp(kind, "Pod") == 0)
        pod_event(p, op, obj);
    else if (strcmp(kind, "Node") == 0)
        node_event(p, op, obj);
}

void hoist_pipeline_observe(void *arg, const hoist_object_event *ev)
{
    hoist_pipeline *p = arg;
    if (!ev || !ev->object)
        return;
    if (p->in_step) {
        deferred d = {0};
        d.kind = DEFER_EVENT;
        d.op = ev->op;
        d.object = json_deep_copy(ev->object);
        if (!d.object) {
            LOG(p, HOIST_LOG_ERROR, "pipeline: out of memory queueing an event");
            return;
        }
        defer(p, &d);
        return;
    }
    apply_event(p, ev->op, ev->object, ev->text);
}

static void drain_deferred(hoist_pipeline *p)
{
    /* handling one may queue no more (we are outside the step now) */
    for (size_t i = 0; i < p->n_deferred; i++) {
        deferred *d = &p->deferred_q[i];
        switch (d->kind) {
        case DEFER_EVENT:
            apply_event(p, d->op, d->object, NULL);
            json_decref(d->object);
            break;
        case DEFER_LAUNCH:
            launch_finished(p, d->claim_id, d->error.code == HOIST_OK ? NULL : &d->error,
                            d->launched);
            break;
        case DEFER_TERMINATE:
            terminate_finished(p, d->claim_id, d->error.code == HOIST_OK ? NULL : &d->error);
            break;
        case DEFER_INTERRUPTION:
            interruption(p, d->instance_id, d->deadline_ms);
            free(d->instance_id);
            break;
        }
    }
    p->n_deferred = 0;
}

/* ---- policies ------------------------------------------------------------- */

static void attach_policy(hoist_pipeline *p)
{
    hoist_policy_plan_init(&p->pplan, p->policy);
    hoist_policy_batch_init(&p->pbatch, p->policy);
    hoist_policy_launch_init(&p->plaunch, p->policy);
    hoist_policy_recycle_init(&p->precycle, p->policy);
    hoist_policy_headroom_init(&p->pheadroom, p->policy, NULL);
    p->batch.cfg.close_now = p->cfg.batch.close_now;
    p->batch.cfg.hook_ctx = p->cfg.batch.hook_ctx;
    if (p->policy)
        hoist_policy_batch_attach(&p->pbatch, &p->batch.cfg);
    hoist_price_init(&p->price, p->cfg.price, p->policy ? &p->pplan.hooks : NULL);
}

/* Failed hook calls of the current policy's adapters. */
static uint64_t adapter_errors(const hoist_pipeline *p)
{
    return p->pplan.errors + p->pbatch.errors + p->plaunch.errors + p->precycle.errors +
           p->pheadroom.errors;
}

void hoist_pipeline_set_policy(hoist_pipeline *p, hoist_policy *policy)
{
    p->policy_errors_past += adapter_errors(p);
    p->policy = policy;
    attach_policy(p);
}

/* ---- the provisioning decision ------------------------------------------- */

/* What the decision does after the plan is freed. */
typedef struct nomination {
    char *key;    /* "ns/name" */
    char *node;
} nomination;

typedef struct unsched {
    char *key;
    char *reason;
} unsched;

static void free_strings(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* Launch one planned claim: record it, put its synthetic node, nominate its
 * pods. Returns 0, or -1 when out of memory. */
static int launch_one(hoist_pipeline *p, const hoist_plan_claim *pc)
{
    char name[300];
    if (p->run_id)
        snprintf(name, sizeof name, "%s-%s-%u", pc->nodepool->name, p->run_id,
                 ++p->next_claim_seq);
    else
        snprintf(name, sizeof name, "%s-%u", pc->nodepool->name, ++p->next_claim_seq);
    hoist_nodeclaim *c = claim_add(p, name, pc->nodepool->name);
    if (!c)
        return -1;
    c->pods = calloc(pc->n_pods + 1, sizeof *c->pods);
    c->base_labels = hoist_labels_to_json(&pc->labels);
    c->taints = hoist_taints_to_json(&pc->taints);
    if (!c->pods || !c->base_labels || !c->taints)
        goto oom;
    char hash[24];
    snprintf(hash, sizeof hash, "%016llx", (unsigned long long)pc->nodepool->template_hash);
    if (json_object_set_new(c->base_labels, HOIST_LABEL_NODEPOOL_HASH, json_string(hash)) < 0)
        goto oom;
    for (size_t i = 0; i < pc->n_pods; i++) {
        const hoist_pod *pod = pc->pods[i];
        if (pod->placeholder)
            continue;
        size_t len = strlen(pod->ns) + strlen(pod->name) + 2;
        char *k = malloc(len);
        if (!k)
            goto oom;
        snprintf(k, len, "%s/%s", pod->ns, pod->name);
        c->pods[c->n_pods++] = k;
    }
    if (claim_set_string(&c->instance_type, pc->chosen.type->name) < 0 ||
        claim_set_string(&c->zone, pc->chosen.offering->zone) < 0)
        goto oom;
    c->capacity_type = pc->chosen.offering->capacity_type;
    c->price = pc->chosen.offering->price;
    hoist_launch_ctx lc;
    memset(&lc, 0, sizeof lc);
    lc.provider = p->env.provider;
    lc.state = p->env.provider_state;
    lc.host = p->env.host;
    lc.cluster = p->cluster_name;
    lc.unavailable = &p->ice;
    lc.ice_ttl_ms = p->cfg.ice_ttl_ms;
    lc.prioritized = hoist_price_prioritized(&p->price);
    if (p->policy)
        hoist_policy_launch_attach(&p->plaunch, &lc);
    call_ref *ref = malloc(sizeof *ref);
    if (!ref)
        goto oom;
    ref->p = p;
    ref->claim_id = c->id;
    c->call_in_flight = true;
    p->in_flight++;
    p->stats.launches++;
    hoist_err err = {{0}};
    int rc = hoist_launch_claim(&lc, pc, c->name, on_launch_done, ref, &err);
    if (rc != HOIST_OK) {
        free(ref);
        c->call_in_flight = false;
        p->track_dirty = true;
        p->in_flight--;
        p->stats.launch_failures++;
        if (rc == HOIST_E_INSUFFICIENT_CAPACITY)
            p->stats.launch_ice++;
        LOG(p, HOIST_LOG_WARN, "pipeline: launch of %s not started: %s", c->name, err.msg);
        /* its pods stay pending; the cache now steers the next decision */
        for (size_t i = 0; i < c->n_pods; i++) {
            char ns[256];
            const char *pod;
            if (split_key(c->pods[i], ns, sizeof ns, &pod)) {
                const hoist_pod *hp = hoist_cluster_find_pod(&p->cluster, ns, pod);
                if (hoist_batch_add(&p->batch, c->pods[i], hp ? hp->priority : 0,
                                    now_ms(p)) >= 0)
                    p->stats.requeued_pods++;
            }
        }
        claim_remove(p, c);
        return 0;
    }
    claim_state(p, c, HOIST_CLAIM_LAUNCHING);
    /* the synthetic node and nominations wait until the plan is freed */
    return 0;
oom:
    claim_remove(p, c);
    return -1;
}

/* One decision for every pending pod, and for the pods of the nodes named in
 * without[0..n_without) as if those were gone (their replacement). */
static int decide_without(hoist_pipeline *p, const char *const *without, size_t n_without,
                          hoist_err *err)
{
    uint64_t t0 = now_ms(p);
    hoist_objects *o = hoist_cluster_objects(&p->cluster);
    hoist_pack_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.catalog = p->env.catalog;
    ctx.unavailable = &p->ice;
    ctx.now_ms = t0;
    ctx.price = &p->price;
    ctx.max_offerings = p->cfg.max_offerings;
    ctx.cache = p->plan_cache;
    ctx.without = without;
    ctx.n_without = n_without;
    /* no pod is placed on a node being disrupted (its taint may not be in
     * the cluster state yet), nor on a replacement whose room is reserved */
    const char **avoid = calloc(p->n_claims + 1, sizeof *avoid);
    size_t n_avoid = 0;
    if (!avoid)
        return hoist_errf(err, "pipeline: out of memory");
    for (size_t i = 0; i < p->n_claims; i++) {
        const hoist_nodeclaim *c = p->claims[i];
        if (c->disrupting && c->node)
            avoid[n_avoid++] = c->node;
        else if (c->reserved)
            avoid[n_avoid++] = c->node ? c->node : c->name;
    }
    ctx.avoid = avoid;
    ctx.n_avoid = n_avoid;
    if (p->policy && hoist_policy_has(p->policy, "headroom")) {
        ctx.headroom = hoist_policy_headroom_want;
        ctx.headroom_ctx = &p->pheadroom;
        p->pheadroom.objects = o;
    }
    hoist_pack_result r;
    int packed = hoist_pack(&ctx, o, &r, err);
    free(avoid);
    if (packed < 0)
        return -1;
    p->stats.decisions++;
    p->stats.headroom_placeholders += r.n_placeholders;
    size_t first_new = p->n_claims;
    int rc = 0;
    for (size_t i = 0; i < r.plan.n_claims && rc == 0; i++)
        rc = launch_one(p, &r.plan.claims[i]);
    /* copy what the plan says about existing nodes and left-out pods */
    size_t n_nom = 0, n_uns = 0;
    for (size_t i = 0; i < r.plan.n_existing; i++)
        n_nom += r.plan.existing[i].n_pods;
    nomination *noms = calloc(n_nom + 1, sizeof *noms);
    unsched *uns = calloc(r.plan.n_unschedulable + 1, sizeof *uns);
    if (!noms || !uns)
        rc = -1;
    n_nom = 0;
    for (size_t i = 0; rc == 0 && i < r.plan.n_existing; i++) {
        const hoist_plan_existing *x = &r.plan.existing[i];
        for (size_t j = 0; j < x->n_pods; j++) {
            size_t len = strlen(x->pods[j]->ns) + strlen(x->pods[j]->name) + 2;
            noms[n_nom].key = malloc(len);
            noms[n_nom].node = strdup(x->node->name);
            if (!noms[n_nom].key || !noms[n_nom].node) {
                free(noms[n_nom].key);
                free(noms[n_nom].node);
                rc = -1;
                break;
            }
            snprintf(noms[n_nom].key, len, "%s/%s", x->pods[j]->ns, x->pods[j]->name);
            n_nom++;
        }
    }
    for (size_t i = 0; rc == 0 && i < r.plan.n_unschedulable; i++) {
        uns[n_uns].key = strdup(r.plan.unschedulable[i].name);
        uns[n_uns].reason = strdup(r.plan.unschedulable[i].reason);
        if (!uns[n_uns].key || !uns[n_uns].reason) {
            free(uns[n_uns].key);
            free(uns[n_uns].reason);
            rc = -1;
            break;
        }
        n_uns++;
    }
    hoist_pack_result_free(&r);
    /* the snapshot may change from here on */
    for (size_t i = first_new; i < p->n_claims; i++) {
        hoist_nodeclaim *c = p->claims[i];
        if (c->state != HOIST_CLAIM_LAUNCHING || c->synthetic)
            continue;
        put_synthetic_node(p, c);
        for (size_t k = 0; k < c->n_pods; k++) {
            char ns[256];
            const char *pod;
            if (!split_key(c->pods[k], ns, sizeof ns, &pod))
                continue;
            if (hoist_cluster_nominate(&p->cluster, ns, pod, c->name) == 0) {
                p->stats.pods_nominated++;
                hoist_batch_remove(&p->batch, c->pods[k]);
                if (p->env.sink && p->env.sink->nominated)
                    p->env.sink->nominated(p->env.sink->ctx, ns, pod, c->name);
            }
        }
    }
    for (size_t i = 0; i < n_nom; i++) {
        char ns[256];
        const char *pod;
        if (split_key(noms[i].key, ns, sizeof ns, &pod) &&
            hoist_cluster_nominate(&p->cluster, ns, pod, noms[i].node) == 0) {
            p->stats.pods_nominated++;
            hoist_batch_remove(&p->batch, noms[i].key);
            if (p->env.sink && p->env.sink->nominated)
                p->env.sink->nominated(p->env.sink->ctx, ns, pod, noms[i].node);
        }
        free(noms[i].key);
        free(noms[i].node);
    }
    for (size_t i = 0; i < n_uns; i++) {
        char ns[256];
        const char *pod;
        p->stats.pods_unschedulable++;
        if (split_key(uns[i].key, ns, sizeof ns, &pod) && p->env.sink &&
            p->env.sink->unschedulable)
            p->env.sink->unschedulable(p->env.sink->ctx, ns, pod, uns[i].reason);
        free(uns[i].key);
        free(uns[i].reason);
    }
    free(noms);
    free(uns);
    uint64_t took = now_ms(p) - t0;
    if (p->env.metrics) {
        static const double buckets[] = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1,
                                         0.25,  0.5,   1,    2.5,   5,    10};
        hoist_err merr = {{0}};
        if (hoist_metrics_histogram_observe(
                p->env.metrics, "hoist_decision_duration_seconds",
                "How long provisioning decisions took (the host clock, millisecond steps)",
                buckets, sizeof buckets / sizeof buckets[0], NULL, 0, (double)took / 1000.0,
                &merr) < 0)
            LOG(p, HOIST_LOG_WARN, "metrics: %s", merr.msg);
    }
    p->stats.decision_ms_total += took;
    if (took > p->stats.decision_ms_max)
        p->stats.decision_ms_max = took;
    if (rc < 0)
        return hoist_errf(err, "pipeline: out of memory carrying out a decision");
    return 0;
}

static int decide(hoist_pipeline *p, hoist_err *err)
{
    return decide_without(p, NULL, 0, err);
}

/* ---- disruption ----------------------------------------------------------- */

/* Start draining claim c's node now: cordon it with the disrupted taint; the
 * drain pass evicts its pods at once and terminates it when they are gone. */
static void begin_drain(hoist_pipeline *p, hoist_nodeclaim *c)
{
    claim_state(p, c, HOIST_CLAIM_DRAINING);
    c->drain_started_ms = now_ms(p);
    c->last_evict_ms = 0;
    hoist_cluster_clear_nominations_to(&p->cluster, c->node);
    if (p->env.sink && p->env.sink->taint &&
        p->env.sink->taint(p->env.sink->ctx, c->node, HOIST_TAINT_DISRUPTED, "",
                           HOIST_TAINT_NO_SCHEDULE, true) < 0)
        LOG(p, HOIST_LOG_WARN, "pipeline: tainting %s failed", c->node);
}

/* Voluntary replacements (drift, recycling) of the claims in olds[0..n),
 * planned together: plan their nodes' pods as if the nodes were gone and
 * launch what they need now; each node is drained once those machines are
 * Ready (track), so its pods never wait for a machine to boot. The new
 * machines' room is reserved until then. When the pods fit on the other
 * nodes, or the decision fails, the nodes drain now. */
static void start_replacements(hoist_pipeline *p, hoist_nodeclaim *const *olds, size_t n)
{
    if (n == 0)
        return;
    size_t first_new = p->n_claims;
    hoist_err err = {{0}};
    const char **names = calloc(n, sizeof *names);
    for (size_t i = 0; names && i < n; i++) {
        names[i] = olds[i]->node;
        /* cordoned at once, so nothing new lands on it meanwhile */
        if (p->env.sink && p->env.sink->taint &&
            p->env.sink->taint(p->env.sink->ctx, olds[i]->node, HOIST_TAINT_DISRUPTED, "",
                               HOIST_TAINT_NO_SCHEDULE, true) < 0)
            LOG(p, HOIST_LOG_WARN, "pipeline: tainting %s failed", olds[i]->node);
    }
    if (!names || decide_without(p, names, n, &err) < 0) {
        LOG(p, HOIST_LOG_WARN, "pipeline: replacing %zu node%s: %s; draining now", n,
            n == 1 ? "" : "s", names ? err.msg : "out of memory");
        free(names);
        for (size_t i = 0; i < n; i++)
            begin_drain(p, olds[i]);
        return;
    }
    free(names);
    size_t k = 0;
    unsigned *ids = calloc(p->n_claims - first_new + 1, sizeof *ids);
    for (size_t i = first_new; ids && i < p->n_claims; i++)
        if (p->claims[i]->state == HOIST_CLAIM_LAUNCHING ||
            p->claims[i]->state == HOIST_CLAIM_LAUNCHED) {
            ids[k++] = p->claims[i]->id;
            p->claims[i]->reserved = true;
        }
    for (size_t i = 0; i < n; i++) {
        hoist_nodeclaim *c = olds[i];
        unsigned *mine = k ? malloc(k * sizeof *mine) : NULL;
        if (!mine) {
            begin_drain(p, c);
            continue;
        }
        memcpy(mine, ids, k * sizeof *mine);
        c->replacements = mine;
        c->n_replacements = k;
        c->replacing = true;
        LOG(p, HOIST_LOG_INFO, "pipeline: %s is drained once %zu replacement%s %s Ready", c->node,
            k, k == 1 ? "" : "s", k == 1 ? "is" : "are");
    }
    p->stats.replacements += k;
    if (k)
        count(p, "hoist_replacements_total",
              "Machines launched to replace nodes before they are drained", NULL, NULL,
              (double)k);
    free(ids);
}

/* A replacing claim: drain once every replacement is Ready, or when one
 * failed (its pods then wait for the pack stage, as with any drain). */
static void check_replacements(hoist_pipeline *p, hoist_nodeclaim *c)
{
    bool ready = true, failed = false;
    for (size_t i = 0; i < c->n_replacements; i++) {
        const hoist_nodeclaim *r = claim_by_id(p, c->replacements[i]);
        if (!r || r->state == HOIST_CLAIM_TERMINATING || r->state == HOIST_CLAIM_DRAINING)
            failed = true;
        else if (r->state != HOIST_CLAIM_READY)
            ready = false;
    }
    if (!ready && !failed)
        return;
    if (failed)
        LOG(p, HOIST_LOG_WARN, "pipeline: a replacement of %s failed; draining it anyway",
            c->node);
    for (size_t i = 0; i < c->n_replacements; i++) { /* the pods may take their room now */
        hoist_nodeclaim *r = claim_by_id(p, c->replacements[i]);
        if (r)
            r->reserved = false;
    }
    c->replacing = false;
    free(c->replacements);
    c->replacements = NULL;
    c->n_replacements = 0;
    begin_drain(p, c);
}

/* Adopt a hoist-labelled Node that has no claim (launched by an earlier run). */
static hoist_nodeclaim *adopt_node(hoist_pipeline *p, const hoist_node *n, const char *nodepool)
{
    char name[300];
    snprintf(name, sizeof name, "adopted-%s", n->name);
    hoist_nodeclaim *c = claim_add(p, name, nodepool);
    if (!c)
        return NULL;
    const char *slash = n->provider_id ? strrchr(n->provider_id, '/') : NULL;
    if (claim_rekey(p, &p->by_node, c, &c->node, n->name) < 0 ||
        claim_rekey(p, &p->by_provider_id, c, &c->provider_id, n->provider_id) < 0 ||
        claim_set_string(&c->instance_id, slash ? slash + 1 : NULL) < 0) {
        claim_remove(p, c);
        return NULL;
    }
    claim_state(p, c, HOIST_CLAIM_READY);
    return c;
}

static void evict_pods(hoist_pipeline *p, hoist_nodeclaim *c, const char *const *keys, size_t n)
{
    c->last_evict_ms = now_ms(p);
    for (size_t i = 0; i < n; i++) {
        char ns[256];
        const char *pod;
        if (!split_key(keys[i], ns, sizeof ns, &pod) || !p->env.sink || !p->env.sink->evict)
            continue;
        int rc = p->env.sink->evict(p->env.sink->ctx, ns, pod);
        if (rc == 0)
            p->stats.evictions++;
        else
            p->stats.evictions_refused++;
    }
}

static int consolidate(hoist_pipeline *p, hoist_err *err)
{
    hoist_objects *o = hoist_cluster_objects(&p->cluster);
    uint64_t now = now_ms(p);
    const char **disrupting = calloc(p->n_claims + p->n_gone + 1, sizeof *disrupting);
    if (!disrupting)
        return hoist_errf(err, "pipeline: out of memory");
    size_t n_disrupting = 0;
    for (size_t i = 0; i < p->n_gone; i++)
        disrupting[n_disrupting++] = p->gone[i];
    for (size_t i = 0; i < p->n_claims; i++)
        if (p->claims[i]->disrupting && p->claims[i]->node)
            disrupting[n_disrupting++] = p->claims[i]->node;
    hoist_consolidate_options opts;
    memset(&opts, 0, sizeof opts);
    opts.now_s = (int64_t)(now / 1000);
    opts.catalog = p->env.catalog;
    opts.n_disrupting = n_disrupting;
    opts.disrupting = disrupting;
    hoist_policy_recycle_attach(&p->precycle, &opts);
    /* underutilized nodes: throttled, and not again until something changed */
    opts.underutilized = now >= p->next_underutilized_ms &&
                         p->stats.events != p->events_at_fruitless;
    p->pheadroom.objects = o;
    hoist_policy_headroom_attach_consolidate(&p->pheadroom, &opts);
    hoist_consolidation out;
    int rc = hoist_consolidate_compute(&p->consol, o, &opts, &out, err);
    free(disrupting);
    if (rc < 0)
        return -1;
    if (out.underutilized_plans > 0) {
        p->next_underutilized_ms = now + p->cfg.underutilized_interval_ms;
        bool found = false;
        for (size_t i = 0; i < out.n; i++)
            found |= out.items[i].reason == HOIST_DISRUPT_UNDERUTILIZED;
        p->events_at_fruitless = found ? UINT64_MAX : p->stats.events;
    }
    /* copy the decisions out before the snapshot changes */
    typedef struct disruption_copy {
        char *node, *nodepool, *provider_id, *detail;
        hoist_disruption_reason reason;
        bool replace;
        size_t n_pods;
        char **pods;
    } disruption_copy;
    disruption_copy *chosen = calloc(out.n + 1, sizeof *chosen);
    size_t n_chosen = 0;
    for (size_t i = 0; chosen && i < out.n; i++) {
        const hoist_disruption *d = &out.items[i];
        disruption_copy *t = &chosen[n_chosen++];
        t->node = strdup(d->node->name);
        t->nodepool = strdup(d->nodepool->name);
        t->provider_id = d->node->provider_id ? strdup(d->node->provider_id) : NULL;
        t->detail = strdup(d->detail ? d->detail : "");
        t->reason = d->reason;
        t->replace = d->replace;
        t->pods = calloc(d->n_pods + 1, sizeof *t->pods);
        for (size_t k = 0; t->pods && k < d->n_pods; k++) {
            size_t len = strlen(d->pods[k]->ns) + strlen(d->pods[k]->name) + 2;
            t->pods[k] = malloc(len);
            if (t->pods[k]) {
                snprintf(t->pods[k], len, "%s/%s", d->pods[k]->ns, d->pods[k]->name);
                t->n_pods++;
            }
        }
    }
    /* adopted nodes need the hoist_node: do it while the snapshot is valid */
    for (size_t i = 0; chosen && i < n_chosen; i++) {
        if (claim_by(p, &p->by_node, chosen[i].node) || is_gone(p, chosen[i].node))
            continue;
        const hoist_node *n = hoist_cluster_find_node(&p->cluster, chosen[i].node);
        if (n && !adopt_node(p, n, chosen[i].nodepool))
            LOG(p, HOIST_LOG_ERROR, "pipeline: out of memory adopting %s", chosen[i].node);
    }
    hoist_consolidation_free(&out);
    if (!chosen)
        return hoist_errf(err, "pipeline: out of memory");
    /* mark them all first, so a replacement planned for one never counts on
     * another chosen in the same round */
    bool *act = calloc(n_chosen + 1, sizeof *act);
    hoist_nodeclaim **replace = calloc(n_chosen + 1, sizeof *replace);
    size_t n_replace = 0;
    if (!act || !replace) {
        free(act);
        free(replace);
        for (size_t i = 0; i < n_chosen; i++) {
            free(chosen[i].node);
            free(chosen[i].nodepool);
            free(chosen[i].provider_id);
            free(chosen[i].detail);
            free_strings(chosen[i].pods, chosen[i].n_pods);
        }
        free(chosen);
        return hoist_errf(err, "pipeline: out of memory");
    }
    for (size_t i = 0; i < n_chosen; i++) {
        hoist_nodeclaim *c = claim_by(p, &p->by_node, chosen[i].node);
        if (c && !c->disrupting && !is_gone(p, chosen[i].node))
            act[i] = c->disrupting = true;
    }
    for (size_t i = 0; i < n_chosen; i++) {
        disruption_copy *t = &chosen[i];
        hoist_nodeclaim *c = claim_by(p, &p->by_node, t->node);
        if (c && act[i]) {
            c->disrupt_reason = t->reason;
            claim_set_string(&c->disrupt_detail, t->detail);
            p->stats.disruptions[t->reason]++;
            count(p, "hoist_disruption_decisions_total", "Disruptions decided, by reason",
                  "reason", hoist_disruption_reason_name(t->reason), 1);
            LOG(p, HOIST_LOG_INFO, "pipeline: disrupting %s (%s): %s", t->node,
                hoist_disruption_reason_name(t->reason), t->detail);
            if (t->reason == HOIST_DISRUPT_EMPTY || t->n_pods == 0) {
                terminate_claim(p, c, t->detail);
            } else if (t->reason == HOIST_DISRUPT_RECYCLE || t->reason == HOIST_DISRUPT_DRIFTED ||
                       t->replace) {
                replace[n_replace++] = c; /* replaced first, drained once that is Ready */
            } else {
                claim_state(p, c, HOIST_CLAIM_DRAINING);
                c->drain_started_ms = now_ms(p);
                if (p->env.sink && p->env.sink->taint &&
                    p->env.sink->taint(p->env.sink->ctx, t->node, HOIST_TAINT_DISRUPTED, "",
                                       HOIST_TAINT_NO_SCHEDULE, true) < 0)
                    LOG(p, HOIST_LOG_WARN, "pipeline: tainting %s failed", t->node);
                evict_pods(p, c, (const char *const *)t->pods, t->n_pods);
            }
        }
        free(t->node);
        free(t->nodepool);
        free(t->provider_id);
        free(t->detail);
        free_strings(t->pods, t->n_pods);
    }
    start_replacements(p, replace, n_replace);
    free(replace);
    free(act);
    free(chosen);
    return 0;
}

/* NodePool `name` of the snapshot, or NULL. */
static const hoist_nodepool *nodepool_named(const hoist_objects *o, const char *name)
{
    for (size_t i = 0; name && i < o->n_nodepools; i++)
        if (strcmp(o->nodepools[i]->name, name) == 0)
            return o->nodepools[i];
    return NULL;
}

/* Draining claims: terminate those with no workload pod left, re-send
 * evictions to the others every consolidate interval. */
static void drain(hoist_pipeline *p)
{
    if (p->n_draining == 0)
        return;
    uint64_t now = now_ms(p);
    hoist_objects *o = hoist_cluster_objects(&p->cluster);
    for (size_t i = 0; i < p->n_claims; i++) {
        hoist_nodeclaim *c = p->claims[i];
        if (c->state != HOIST_CLAIM_DRAINING || !c->node)
            continue;
        /* workload pods still on the node */
        if (!o->usage) {
            LOG(p, HOIST_LOG_WARN, "pipeline: no pod usage index (out of memory); "
                "draining %s waits", c->node);
            continue;
        }
        const hoist_node_usage *u = hoist_usage_of(o->usage, c->node);
        size_t n_left = 0, cap = 0;
        char **left = NULL;
        for (size_t k = 0; u && k < u->n_pods; k++) {
            const hoist_pod *pod = u->pods[k];
            if (pod->daemonset_owned)
                continue;
            if (n_left == cap) {
                cap = cap ? cap * 2 : 8;
                char **g = realloc(left, cap * sizeof *g);
                if (!g)
                    break;
                left = g;
            }
            size_t len = strlen(pod->ns) + strlen(pod->name) + 2;
            left[n_left] = malloc(len);
            if (!left[n_left])
                break;
            snprintf(left[n_left++], len, "%s/%s", pod->ns, pod->name);
        }
        /* terminationGracePeriod: how long a drain may wait for pods that
         * PodDisruptionBudgets or do-not-disrupt hold; then it goes anyway */
        const hoist_nodepool *np = nodepool_named(o, c->nodepool);
        bool overdue = np && np->termination_grace_period != HOIST_UNSET &&
                       np->termination_grace_period >= 0 &&
                       now >= c->drain_started_ms +
                                  (uint64_t)np->termination_grace_period * 1000u;
        if (n_left == 0) {
            terminate_claim(p, c, c->disrupt_detail ? c->disrupt_detail : "drained");
        } else if (overdue) {
            LOG(p, HOIST_LOG_WARN, "pipeline: %s still holds %zu pod%s after its NodePool's "
                "terminationGracePeriod (%llds): terminating it", c->node, n_left,
                n_left == 1 ? "" : "s", (long long)np->termination_grace_period);
            count(p, "hoist_grace_period_terminations_total",
                  "Drains ended by terminationGracePeriod with pods left", NULL, NULL, 1);
            terminate_claim(p, c, "terminationGracePeriod elapsed");
        } else if (now >= c->last_evict_ms + p->cfg.consolidate_interval_ms) {
            evict_pods(p, c, (const char *const *)left, n_left);
        }
        free_strings(left, n_left);
        o = hoist_cluster_objects(&p->cluster);
    }
}

/* Registration timeouts, retries of failed terminations, nomination expiry. */
static void track(hoist_pipeline *p, uint64_t now, uint64_t *wake)
{
    /* nothing changed and nothing is due: skip the walk over every claim */
    if (!p->track_dirty && now < p->track_due_ms) {
        if (p->track_due_ms < *wake)
            *wake = p->track_due_ms;
        return;
    }
    p->track_dirty = false;
    uint64_t due_min = UINT64_MAX;
    for (size_t i = 0; i < p->n_claims; i++) {
        hoist_nodeclaim *c = p->claims[i];
        if (c->state == HOIST_CLAIM_LAUNCHING && !c->disrupting) {
            uint64_t due = c->created_ms + p->cfg.launch_timeout_ms;
            if (now >= due) {
                /* given up: the pods are decided again; a machine that still
                 * comes is terminated when the answer arrives */
                p->stats.launch_timeouts++;
                count(p, "hoist_launch_timeouts_total",
                      "Launches the provider did not answer in time", NULL, NULL, 1);
                LOG(p, HOIST_LOG_WARN, "pipeline: launch of %s unanswered after %llu s; "
                    "deciding its pods again", c->name,
                    (unsigned long long)(p->cfg.launch_timeout_ms / 1000));
                c->disrupting = true;
                claim_set_string(&c->disrupt_detail, "its launch timed out");
                drop_synthetic_node(p, c);
                requeue_pods(p, c, c->name);
            } else if (due < due_min) {
                due_min = due;
            }
        } else if (c->state == HOIST_CLAIM_LAUNCHED) {
            uint64_t due = c->launched_ms + p->cfg.registration_timeout_ms;
            if (now >= due) {
                p->stats.registration_timeouts++;
                drop_synthetic_node(p, c);
                requeue_pods(p, c, c->name);
                terminate_claim(p, c, "its node never registered");
            } else if (due < due_min) {
                due_min = due;
            }
        } else if (c->state == HOIST_CLAIM_TERMINATING && !c->call_in_flight) {
            terminate_claim(p, c, "retry");
        } else if (c->replacing) {
            check_replacements(p, c);
        } else if (c->state == HOIST_CLAIM_READY && !c->nominations_dropped && c->node) {
            uint64_t due = c->ready_ms + p->cfg.nomination_ttl_ms;
            if (now >= due) {
                c->nominations_dropped = true;
                size_t n = hoist_cluster_clear_nominations_to(&p->cluster, c->node);
                if (n > 0)
                    LOG(p, HOIST_LOG_INFO,
                        "pipeline: %zu pods nominated to %s are still unbound; deciding again",
                        n, c->node);
                requeue_pods(p, c, c->node);
            } else if (due < due_min) {
                due_min = due;
            }
        }
    }
    p->track_due_ms = due_min;
    if (due_min < *wake)
        *wake = due_min;
}

int hoist_pipeline_step(hoist_pipeline *p, uint64_t *wake_at_ms, hoist_err *err)
{
    int rc = 0;
    uint64_t wake = UINT64_MAX;
    drain_deferred(p);
    p->in_step = true;
    uint64_t now = now_ms(p);
    hoist_unavailable_prune(&p->ice, now);
    track(p, now, &wake);
    uint64_t batch_wake = HOIST_BATCH_NEVER;
    hoist_batch_state st = hoist_batch_poll(&p->batch, now, &batch_wake);
    bool tick = !p->cfg.no_consolidation && now >= p->next_consolidate_ms;
    bool headroom = p->policy && hoist_policy_has(p->policy, "headroom");
    if (st != HOIST_BATCH_OPEN || (tick && headroom)) {
        /* the batch's keys only trigger the decision: it covers every
         * pending pod; with headroom, every tick also checks the spare */
        if (st != HOIST_BATCH_OPEN) {
            char **keys = NULL;
            size_t n = hoist_batch_take(&p->batch, &keys);
            hoist_batch_keys_free(keys, n);
        }
        if (decide(p, err) < 0)
            rc = -1;
        hoist_batch_poll(&p->batch, now, &batch_wake);
    }
    if (batch_wake < wake)
        wake = batch_wake;
    drain(p);
    if (!p->cfg.no_consolidation) {
        if (tick) {
            if (consolidate(p, err) < 0)
                rc = -1;
            p->next_consolidate_ms = now + p->cfg.consolidate_interval_ms;
        }
        if (p->next_consolidate_ms < wake)
            wake = p->next_consolidate_ms;
    }
    p->in_step = false;
    drain_deferred(p);
    uint64_t errors = p->policy_errors_past + adapter_errors(p);
    if (errors > p->policy_errors_exported) {
        count(p, "hoist_policy_errors_total",
              "Policy hook calls that failed, timed out or returned a wrong value (the C "
              "default decided instead)",
              "policy", p->policy ? hoist_policy_name(p->policy) : "none",
              (double)(errors - p->policy_errors_exported));
        p->policy_errors_exported = errors;
    }
    if (hoist_batch_size(&p->batch) > 0) {
        uint64_t w;
        if (hoist_batch_poll(&p->batch, now_ms(p), &w) != HOIST_BATCH_OPEN)
            w = now_ms(p);
        if (w < wake)
            wake = w;
    }
    if (wake_at_ms)
        *wake_at_ms = wake;
    return rc;
}

/* ---- lifecycle and accessors --------------------------------------------- */

hoist_pipeline *hoist_pipeline_new(const hoist_pipeline_env *env, const hoist_pipeline_config *cfg,
                                   hoist_policy *policy, hoist_err *err)
{
    if (!env || !env->host || !env->host->now_ms || !env->provider || !env->catalog) {
        hoist_errf(err, "pipeline: host (with now_ms), provider and catalog are required");
        return NULL;
    }
    if (!cfg || !cfg->cluster || !*cfg->cluster) {
        hoist_errf(err, "pipeline: a cluster name is required");
        return NULL;
    }
    hoist_pipeline *p = calloc(1, sizeof *p);
    if (!p || !(p->cluster_name = strdup(cfg->cluster)) ||
        !(p->plan_cache = hoist_plan_cache_new())) {
        if (p)
            free(p->cluster_name);
        free(p);
        hoist_errf(err, "pipeline: out of memory");
        return NULL;
    }
    p->env = *env;
    p->cfg = *cfg;
    p->cfg.cluster = p->cluster_name;
    if (cfg->run_id && *cfg->run_id && !(p->run_id = strdup(cfg->run_id))) {
        hoist_plan_cache_free(p->plan_cache);
        free(p->cluster_name);
        free(p);
        hoist_errf(err, "pipeline: out of memory");
        return NULL;
    }
    p->cfg.run_id = p->run_id;
    if (!p->cfg.consolidate_interval_ms)
        p->cfg.consolidate_interval_ms = HOIST_CONSOLIDATE_INTERVAL_MS_DEFAULT;
    if (!p->cfg.launch_timeout_ms)
        p->cfg.launch_timeout_ms = HOIST_LAUNCH_TIMEOUT_MS_DEFAULT;
    if (!p->cfg.underutilized_interval_ms)
        p->cfg.underutilized_interval_ms = HOIST_UNDERUTILIZED_INTERVAL_MS_DEFAULT;
    if (!p->cfg.registration_timeout_ms)
        p->cfg.registration_timeout_ms = HOIST_REGISTRATION_TIMEOUT_MS_DEFAULT;
    if (!p->cfg.nomination_ttl_ms)
        p->cfg.nomination_ttl_ms = HOIST_NOMINATION_TTL_MS_DEFAULT;
    if (!p->cfg.batch.idle_ms && !p->cfg.batch.max_ms)
        p->cfg.batch = hoist_batch_config_default();
    hoist_cluster_init(&p->cluster);
    hoist_batch_init(&p->batch, &p->cfg.batch);
    hoist_unavailable_init(&p->ice);
    hoist_consolidator_init(&p->consol);
    hoist_strmap_init(&p->by_name);
    hoist_strmap_init(&p->by_node);
    hoist_strmap_init(&p->by_provider_id);
    p->policy = policy;
    attach_policy(p);
    p->next_consolidate_ms = now_ms(p) + p->cfg.consolidate_interval_ms;
    p->events_at_fruitless = UINT64_MAX;
    if ((env->provider->capabilities & HOIST_CAP_EVENTS) && env->provider->watch_events) {
        hoist_error perr;
        memset(&perr, 0, sizeof perr);
        if (env->provider->watch_events(env->provider_state, on_provider_event, p, &perr) !=
            HOIST_OK)
            LOG(p, HOIST_LOG_WARN, "pipeline: provider events unavailable: %s", perr.message);
    }
    return p;
}

int hoist_pipeline_start(hoist_pipeline *p, hoist_err *err)
{
    if (!p->env.source || p->started)
        return 0;
    if (p->env.source->start(p->env.source->ctx, hoist_pipeline_observe, p, err) < 0)
        return -1;
    p->started = true;
    return 0;
}

void hoist_pipeline_free(hoist_pipeline *p)
{
    if (!p)
        return;
    if (p->started && p->env.source->stop)
        p->env.source->stop(p->env.source->ctx);
    for (size_t i = 0; i < p->n_deferred; i++) {
        json_decref(p->deferred_q[i].object);
        hoist_launched_free(p->deferred_q[i].launched);
        free(p->deferred_q[i].instance_id);
    }
    free(p->deferred_q);
    for (size_t i = 0; i < p->n_gone; i++)
        free(p->gone[i]);
    free(p->gone);
    for (size_t i = 0; i < p->n_claims; i++)
        claim_free(p->claims[i]);
    free(p->claims);
    hoist_strmap_free(&p->by_name);
    hoist_strmap_free(&p->by_node);
    hoist_strmap_free(&p->by_provider_id);
    hoist_consolidator_free(&p->consol);
    hoist_plan_cache_free(p->plan_cache);
    hoist_unavailable_free(&p->ice);
    hoist_batch_free(&p->batch);
    hoist_cluster_free(&p->cluster);
    free(p->cluster_name);
    free(p->run_id);
    free(p);
}

hoist_cluster *hoist_pipeline_cluster(hoist_pipeline *p)
{
    return &p->cluster;
}

size_t hoist_pipeline_claims(const hoist_pipeline *p, const hoist_nodeclaim *const **out)
{
    *out = (const hoist_nodeclaim *const *)p->claims;
    return p->n_claims;
}

const hoist_nodeclaim *hoist_pipeline_find_claim(const hoist_pipeline *p, const char *name)
{
    return claim_by(p, &p->by_name, name);
}

const hoist_pipeline_stats *hoist_pipeline_stats_get(hoist_pipeline *p)
{
    p->stats.policy_errors = p->policy_errors_past + adapter_errors(p);
    return &p->stats;
}

size_t hoist_pipeline_in_flight(const hoist_pipeline *p)
{
    return p->in_flight;
}

const char *hoist_nodeclaim_state_name(hoist_nodeclaim_state s)
{
    switch (s) {
    case HOIST_CLAIM_LAUNCHING: return "launching";
    case HOIST_CLAIM_LAUNCHED: return "launched";
    case HOIST_CLAIM_REGISTERED: return "registered";
    case HOIST_CLAIM_READY: return "ready";
    case HOIST_CLAIM_DRAINING: return "draining";
    case HOIST_CLAIM_TERMINATING: return "terminating";
    }
    return "unknown";
}

/* ---- restart adoption ------------------------------------------------------ */

static const char *machine_tag(const hoist_machine *m, const char *key)
{
    for (size_t i = 0; m->tags && i < m->n_tags; i++) {
        const hoist_kv *kv = &m->tags[i];
        if (kv->key && kv->value && strcmp(kv->key, key) == 0)
            return kv->value;
    }
    return NULL;
}

/* The real (not synthetic) Node whose spec.providerID is pid, or NULL. */
static const hoist_node *node_by_provider_id(hoist_pipeline *p, const char *pid)
{
    if (!pid || !*pid)
        return NULL;
    hoist_objects *o = hoist_cluster_objects(&p->cluster);
    for (size_t i = 0; i < o->n_nodes; i++)
        if (o->nodes[i]->provider_id && strcmp(o->nodes[i]->provider_id, pid) == 0)
            return o->nodes[i];
    return NULL;
}

/* Skip claim number n of "<nodepool>-<n>" (or "<nodepool>-<run>-<n>") in
 * later launches. */
static void reserve_claim_number(hoist_pipeline *p, const char *claim)
{
    const char *dash = strrchr(claim, '-');
    if (!dash || !dash[1])
        return;
    char *end = NULL;
    unsigned long n = strtoul(dash + 1, &end, 10);
    if (*end == '\0' && n > p->next_claim_seq && n < UINT32_MAX)
        p->next_claim_seq = (unsigned)n;
}

/* Record what the provider knows of machine m in claim c. 0 or -1 (memory). */
static int claim_take_machine(hoist_pipeline *p, hoist_nodeclaim *c, const hoist_machine *m)
{
    c->capacity_type = m->capacity_type;
    c->price = m->price;
    c->launched_ms = m->launch_time_ms ? m->launch_time_ms : now_ms(p);
    if (c->launched_ms > now_ms(p))
        c->launched_ms = now_ms(p);
    c->created_ms = c->launched_ms;
    if (claim_set_string(&c->instance_id, m->instance_id) < 0 ||
        claim_set_string(&c->instance_type, m->instance_type) < 0 ||
        claim_set_string(&c->zone, m->zone) < 0 ||
        claim_rekey(p, &p->by_provider_id, c, &c->provider_id, m->provider_id) < 0)
        return -1;
    return 0;
}

/* The labels and taints a synthetic Node of nodepool `pool` carries: the
 * NodePool's template labels and taints ({} and [] when it is unknown). */
static int claim_template(hoist_pipeline *p, hoist_nodeclaim *c)
{
    const hoist_nodepool *np =
        hoist_objects_find_nodepool(hoist_cluster_objects(&p->cluster), c->nodepool);
    json_decref(c->base_labels);
    json_decref(c->taints);
    c->base_labels = np ? hoist_labels_to_json(&np->labels) : json_object();
    c->taints = np ? hoist_taints_to_json(&np->taints) : json_array();
    return c->base_labels && c->taints ? 0 : -1;
}

/* Adopt one machine; updates *a. -1 when memory ran out. */
static int adopt_machine(hoist_pipeline *p, const hoist_machine *m, hoist_pipeline_adoption *a)
{
    if (!m->instance_id || !*m->instance_id || m->state == HOIST_MACHINE_SHUTTING_DOWN ||
        m->state == HOIST_MACHINE_TERMINATED) {
        a->skipped++;
        return 0;
    }
    for (size_t i = 0; i < p->n_claims; i++)
        if (p->claims[i]->instance_id && strcmp(p->claims[i]->instance_id, m->instance_id) == 0) {
            a->skipped++; /* ours already */
            return 0;
        }
    const char *claim = machine_tag(m, HOIST_TAG_CLAIM);
    const char *pool = machine_tag(m, HOIST_TAG_NODEPOOL);
    char fallback[300];
    if (!claim || !*claim) {
        snprintf(fallback, sizeof fallback, "adopted-%s", m->instance_id);
        claim = fallback;
    }
    if (claim_by(p, &p->by_name, claim)) {
        a->skipped++;
        return 0;
    }
    reserve_claim_number(p, claim);
    hoist_nodeclaim *c = claim_add(p, claim, pool && *pool ? pool : "unknown");
    if (!c || claim_take_machine(p, c, m) < 0)
        goto oom;
    uint64_t now = now_ms(p);
    const hoist_node *n = node_by_provider_id(p, m->provider_id);
    if (n) {
        bool unregistered = false;
        for (size_t i = 0; i < n->taints.n; i++)
            unregistered |= strcmp(n->taints.items[i].key, HOIST_TAINT_UNREGISTERED) == 0;
        char node[256];
        snprintf(node, sizeof node, "%s", n->name);
        bool ready = n->ready == 1;
        if (claim_rekey(p, &p->by_node, c, &c->node, node) < 0)
            goto oom;
        c->registered_ms = now;
        claim_state(p, c, ready ? HOIST_CLAIM_READY : HOIST_CLAIM_REGISTERED);
        if (ready) {
            c->ready_ms = now;
            c->nominations_dropped = true; /* nothing was nominated by this run */
        }
        p->stats.adopted++;
        a->registered++;
        LOG(p, HOIST_LOG_INFO, "pipeline: adopted %s (%s) as Node %s", c->name, c->instance_id,
            node);
        if (unregistered && p->env.sink && p->env.sink->taint &&
            p->env.sink->taint(p->env.sink->ctx, node, HOIST_TAINT_UNREGISTERED, "",
                               HOIST_TAINT_NO_EXECUTE, false) < 0)
            LOG(p, HOIST_LOG_WARN, "pipeline: removing %s from %s failed",
                HOIST_TAINT_UNREGISTERED, node);
        return 0;
    }
    if (now - c->launched_ms >= p->cfg.registration_timeout_ms) {
        p->stats.orphans++;
        a->orphans++;
        count(p, "hoist_orphans_terminated_total",
              "Machines of an earlier run that never registered, terminated at adoption", NULL,
              NULL, 1);
        char why[96];
        snprintf(why, sizeof why, "an orphan: no Node %.0f s after its launch",
                 (double)(now - c->launched_ms) / 1000.0);
        terminate_claim(p, c, why);
        return 0;
    }
    if (claim_template(p, c) < 0)
        goto oom;
    claim_state(p, c, HOIST_CLAIM_LAUNCHED);
    put_synthetic_node(p, c);
    p->stats.adopted++;
    a->in_flight++;
    LOG(p, HOIST_LOG_INFO, "pipeline: adopted %s (%s), launched %.0f s ago, waiting for its Node",
        c->name, c->instance_id, (double)(now - c->launched_ms) / 1000.0);
    return 0;
oom:
    if (c)
        claim_remove(p, c);
    return -1;
}

int hoist_pipeline_adopt(hoist_pipeline *p, const hoist_machine *machines, size_t n,
                         hoist_pipeline_adoption *out, hoist_err *err)
{
    hoist_pipeline_adoption a;
    memset(&a, 0, sizeof a);
    a.listed = n;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        if (adopt_machine(p, HOIST_NTH(machines, i), &a) < 0)
            rc = hoist_errf(err, "pipeline: out of memory adopting machine %zu", i);
    p->track_dirty = true;
    if (out)
        *out = a;
    return rc;
}

/* What the list callback needs. */
typedef struct reconcile_ref {
    hoist_pipeline *p;
    hoist_pipeline_reconcile_cb done;
    void *arg;
} reconcile_ref;

static void on_reconcile_list(void *arg, const hoist_error *err, const hoist_machine *machines,
                              size_t n)
{
    reconcile_ref r = *(reconcile_ref *)arg;
    free(arg);
    hoist_pipeline *p = r.p;
    p->in_flight--;
    p->reconciling = false;
    hoist_pipeline_adoption a;
    memset(&a, 0, sizeof a);
    if (err) {
        LOG(p, HOIST_LOG_WARN, "pipeline: listing the provider's machines failed: %s: %s",
            hoist_status_name(err->code), err->message);
        if (r.done)
            r.done(r.arg, err, &a);
        return;
    }
    hoist_err e = {{0}};
    hoist_error perr;
    memset(&perr, 0, sizeof perr);
    const hoist_error *failed = NULL;
    if (p->in_step) {
        hoist_error_set(&perr, HOIST_E_INTERNAL, "pipeline: the machine list arrived inside a step");
        failed = &perr;
    } else if (hoist_pipeline_adopt(p, machines, n, &a, &e) < 0) {
        hoist_error_set(&perr, HOIST_E_INTERNAL, e.msg);
        failed = &perr;
    } else {
        LOG(p, HOIST_LOG_INFO,
            "pipeline: %zu machines listed: %zu adopted with Nodes, %zu waiting for Nodes, "
            "%zu orphans terminated",
            a.listed, a.registered, a.in_flight, a.orphans);
    }
    if (r.done)
        r.done(r.arg, failed, &a);
}

int hoist_pipeline_reconcile(hoist_pipeline *p, hoist_pipeline_reconcile_cb done, void *arg,
                             hoist_err *err)
{
    if (!p->env.provider->list)
        return hoist_errf(err, "pipeline: provider %s cannot list its machines",
                          p->env.provider->name ? p->env.provider->name : "?");
    reconcile_ref *r = malloc(sizeof *r);
    if (!r)
        return hoist_errf(err, "pipeline: out of memory");
    r->p = p;
    r->done = done;
    r->arg = arg;
    hoist_kv filter = {HOIST_TAG_CLUSTER, p->cluster_name};
    hoist_error perr;
    memset(&perr, 0, sizeof perr);
    p->in_flight++;
    p->reconciling = true;
    if (p->env.provider->list(p->env.provider_state, &filter, 1, on_reconcile_list, r, &perr) !=
        HOIST_OK) {
        p->in_flight--;
        p->reconciling = false;
        free(r);
        return hoist_errf(err, "pipeline: listing the provider's machines: %s: %s",
                          hoist_status_name(perr.code), perr.message);
    }
    return 0;
}

bool hoist_pipeline_reconciling(const hoist_pipeline *p)
{
    return p->reconciling;
}

const hoist_nodeclaim *hoist_pipeline_claim_of_node(const hoist_pipeline *p, const char *node)
{
    const hoist_nodeclaim *c = claim_by(p, &p->by_node, node);
    return c ? c : claim_by(p, &p->by_name, node);
}
