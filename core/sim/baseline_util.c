/*
 * sim/baseline_util.c - templates, the scheduling check and the fleet the
 * baselines share (see baseline_util.h).
 */
#include "sim/baseline_util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/labels.h"
#include "model/requirements.h"
#include "model/taints.h"

/* ---- templates ---- */

static int templates_push(bl_templates *t, bl_template **out)
{
    if (t->n == t->cap) {
        size_t ncap = t->cap ? t->cap * 2 : 16;
        bl_template *p = realloc(t->items, ncap * sizeof *p);
        if (!p)
            return -1;
        t->items = p;
        t->cap = ncap;
    }
    *out = &t->items[t->n++];
    memset(*out, 0, sizeof **out);
    return 0;
}

void bl_templates_free(bl_templates *t)
{
    free(t->items);
    memset(t, 0, sizeof *t);
}

static bool name_listed(const char *name, const char *const *types, size_t n)
{
    if (n == 0)
        return true;
    for (size_t i = 0; i < n; i++)
        if (types[i] && strcmp(types[i], name) == 0)
            return true;
    return false;
}

static int copy_taints(hoist_arena *a, const hoist_taints *in, hoist_taints *out)
{
    out->n = 0;
    out->items = NULL;
    if (in->n == 0)
        return 0;
    out->items = hoist_arena_calloc(a, in->n, sizeof *out->items);
    if (!out->items)
        return -1;
    for (size_t i = 0; i < in->n; i++) {
        out->items[i].key = hoist_arena_strdup(a, in->items[i].key);
        out->items[i].value = hoist_arena_strdup(a, in->items[i].value ? in->items[i].value : "");
        out->items[i].effect = in->items[i].effect;
        if (!out->items[i].key || !out->items[i].value)
            return -1;
    }
    out->n = in->n;
    return 0;
}

/* Requests of the DaemonSets whose pods would run on a node with these labels and taints. */
static void daemon_overhead(const hoist_objects *o, const hoist_labels *labels,
                            const hoist_taints *taints, hoist_resources *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < o->n_daemonsets; i++) {
        const hoist_pod *p = &o->daemonsets[i]->pod;
        if (bl_pod_allowed(p, labels, taints, NULL, NULL, 0))
            hoist_resources_add(out, &p->requests);
    }
}

/* The template's labels: the type's, the NodePool's, the NodePool's
 * requirements narrowed to one value, zone, capacity type and NodePool. */
static int template_labels(hoist_arena *a, const hoist_nodepool *np, const hoist_pool_type *pt,
                           const char *zone, hoist_capacity_type ct, hoist_labels *out)
{
    size_t n = pt->labels.n + np->labels.n + np->requirements.n + 3, k = 0;
    hoist_kv *kv = hoist_arena_calloc(a, n, sizeof *kv);
    if (!kv)
        return -1;
    for (size_t i = 0; i < np->requirements.n; i++) {
        const hoist_req *r = &np->requirements.items[i];
        if (r->op == HOIST_OP_IN && r->n_values == 1)
            kv[k++] = (hoist_kv){r->key, r->values[0]};
    }
    for (size_t i = 0; i < pt->labels.n; i++)
        kv[k++] = pt->labels.items[i];
    for (size_t i = 0; i < np->labels.n; i++)
        kv[k++] = np->labels.items[i];
    kv[k++] = (hoist_kv){HOIST_LABEL_ZONE, zone};
    kv[k++] = (hoist_kv){HOIST_LABEL_CAPACITY_TYPE, hoist_capacity_type_name(ct)};
    kv[k++] = (hoist_kv){HOIST_LABEL_NODEPOOL, np->name};
    return hoist_labels_from_pairs(a, kv, k, out);
}

int bl_templates_add_nodepool(hoist_arena *a, const hoist_catalog *c, hoist_objects *o,
                              const hoist_nodepool *np, const char *const *types, size_t n_types,
                              bool per_zone, bl_templates *out, hoist_err *err)
{
    hoist_pool_types pts;
    if (hoist_nodepool_types(a, c, o, np, &pts, err) < 0)
        return hoist_err_prefix(err, "NodePool %s", np->name), -1;
    /* on-demand when the NodePool allows it (node groups are on-demand by default) */
    bool any_od = false;
    for (size_t i = 0; i < pts.n && !any_od; i++)
        for (size_t j = 0; j < pts.items[i].n_offerings; j++)
            if (pts.items[i].offerings[j]->capacity_type == HOIST_CAPACITY_ON_DEMAND) {
                any_od = true;
                break;
            }
    hoist_capacity_type want = any_od ? HOIST_CAPACITY_ON_DEMAND : HOIST_CAPACITY_SPOT;
    const char *npname = hoist_arena_strdup(a, np->name);
    if (!npname)
        goto oom;
    for (size_t i = 0; i < pts.n; i++) {
        const hoist_pool_type *pt = &pts.items[i];
        if (!name_listed(pt->type->name, types, n_types))
            continue;
        /* offerings are cheapest first: one template per zone, first seen wins */
        const char *zones_done[64];
        size_t n_done = 0;
        for (size_t j = 0; j < pt->n_offerings; j++) {
            const hoist_offering *of = pt->offerings[j];
            if (of->capacity_type != want)
                continue;
            bool seen = false;
            for (size_t z = 0; z < n_done; z++)
                seen |= strcmp(zones_done[z], of->zone) == 0;
            if (seen)
                continue;
            if (n_done < 64)
                zones_done[n_done++] = of->zone;
            bl_template *t;
            if (templates_push(out, &t) < 0)
                goto oom;
            t->nodepool = npname;
            t->type = pt->type;
            t->zone = hoist_arena_strdup(a, of->zone);
            t->capacity_type = want;
            t->price = of->price;
            char buf[512];
            snprintf(buf, sizeof buf, "%s/%s/%s", np->name, pt->type->name, of->zone);
            t->name = hoist_arena_strdup(a, buf);
            if (!t->zone || !t->name ||
                template_labels(a, np, pt, t->zone, want, &t->labels) < 0 ||
                copy_taints(a, &np->taints, &t->taints) < 0 ||
                copy_taints(a, &np->startup_taints, &t->startup_taints) < 0)
                goto oom;
            t->capacity = pt->capacity;
            t->allocatable = pt->allocatable;
            daemon_overhead(o, &t->labels, &t->taints, &t->daemon_overhead);
            t->free = t->allocatable;
            hoist_resources_sub(&t->free, &t->daemon_overhead);
            if (!per_zone)
                break;
        }
    }
    return 0;
oom:
    hoist_errf(err, "NodePool %s: out of memory building node templates", np->name);
    return -1;
}

/* ---- the scheduling check ---- */

static bool term_matches(const hoist_node_term *t, const hoist_labels *labels, const char *node)
{
    if (t->match_expressions.n == 0 && t->match_fields.n == 0)
        return false;
    if (!hoist_reqs_match_labels(&t->match_expressions, labels))
        return false;
    for (size_t i = 0; i < t->match_fields.n; i++) {
        const hoist_req *r = &t->match_fields.items[i];
        const char *v = strcmp(r->key, "metadata.name") == 0 ? node : NULL;
        if (!v) /* a node not yet named matches no name */
            return false;
        if (!hoist_req_match_value(r, v))
            return false;
    }
    return true;
}

static bool selector_matches(const hoist_node_selector *s, const hoist_labels *labels,
                             const char *node)
{
    if (s->n == 0)
        return true;
    for (size_t i = 0; i < s->n; i++)
        if (term_matches(&s->terms[i], labels, node))
            return true;
    return false;
}

bool bl_pod_allowed(const hoist_pod *p, const hoist_labels *labels, const hoist_taints *taints,
                    const char *node, const hoist_node_selector *vols, size_t n_vols)
{
    for (size_t i = 0; i < p->node_selector.n; i++) {
        const char *v = hoist_labels_get(labels, p->node_selector.items[i].key);
        if (!v || strcmp(v, p->node_selector.items[i].value) != 0)
            return false;
    }
    if (!selector_matches(&p->node_affinity, labels, node))
        return false;
    if (taints && !hoist_tolerations_tolerate_all(&p->tolerations, taints))
        return false;
    for (size_t i = 0; i < n_vols; i++)
        if (!selector_matches(&vols[i], labels, node))
            return false;
    return true;
}

bool bl_pod_fits(const hoist_pod *p, const bl_bin *b, const hoist_node_selector *vols,
                 size_t n_vols)
{
    return hoist_resources_fit(&p->requests, &b->free) &&
           bl_pod_allowed(p, b->labels, b->taints, b->node, vols, n_vols);
}

static bool finished(const hoist_pod *p)
{
    return p->finished;
}

bool bl_pod_pending(const hoist_pod *p)
{
    return !p->node_name && !p->terminating && !p->daemonset_owned && !p->placeholder &&
           !finished(p);
}

bool bl_pod_running(const hoist_pod *p)
{
    return p->node_name && !finished(p);
}

double bl_utilization(const hoist_resources *used, const hoist_resources *alloc)
{
    double u = 0;
    for (int r = HOIST_RES_CPU; r <= HOIST_RES_MEMORY; r++)
        if (alloc->v[r] > 0) {
            double x = (double)used->v[r] / (double)alloc->v[r];
            if (x > u)
                u = x;
        }
    return u;
}

/* ---- the fleet ---- */

/* State of one provider call, freed by its completion or by bl_fleet_free. */
typedef struct bl_op {
    bl_fleet *fleet;
    unsigned id;
    struct bl_op *prev, *next;
} bl_op;

struct bl_fleet {
    hoist_pipeline_env env;
    char *cluster;
    char *prefix;
    bl_fleet_hooks hooks;
    size_t n, cap;
    bl_machine **machines;
    unsigned next_id;
    uint64_t next_claim;
    bl_op *ops;                 /* calls in flight */
    hoist_autoscaler_stats stats;
};

static uint64_t now_ms(const bl_fleet *f)
{
    return f->env.host->now_ms(f->env.host->ctx);
}

static void flog(const bl_fleet *f, hoist_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void flog(const bl_fleet *f, hoist_log_level level, const char *fmt, ...)
{
    const hoist_host *h = f->env.host;
    if (!HOIST_HOST_HAS(h, log) || !h->log)
        return;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    h->log(h->ctx, level, "baseline: %s", buf);
}

bl_fleet *bl_fleet_new(const hoist_pipeline_env *env, const char *cluster, const char *prefix,
                       const bl_fleet_hooks *hooks, hoist_err *err)
{
    if (!env || !env->host || !env->host->now_ms || !env->provider || !env->provider->launch ||
        !env->provider->terminate || !env->catalog) {
        hoist_errf(err, "baseline: host clock, provider (launch, terminate) and catalog are required");
        return NULL;
    }
    if (!cluster || !*cluster) {
        hoist_errf(err, "baseline: cluster: a non-empty cluster name is required");
        return NULL;
    }
    bl_fleet *f = calloc(1, sizeof *f);
    if (!f || !(f->cluster = strdup(cluster)) || !(f->prefix = strdup(prefix))) {
        if (f)
            free(f->cluster);
        free(f);
        hoist_errf(err, "baseline: out of memory");
        return NULL;
    }
    f->env = *env;
    if (hooks)
        f->hooks = *hooks;
    f->next_id = 1;
    f->next_claim = 1;
    return f;
}

static void machine_free(bl_machine *m)
{
    if (!m)
        return;
    free(m->claim);
    free(m->group);
    free(m->nodepool);
    free(m->instance_type);
    free(m->zone);
    free(m->instance_id);
    free(m->provider_id);
    free(m->node);
    free(m);
}

void bl_fleet_free(bl_fleet *f)
{
    if (!f)
        return;
    for (bl_op *op = f->ops, *next; op; op = next) {
        next = op->next;
        free(op);
    }
    for (size_t i = 0; i < f->n; i++)
        machine_free(f->machines[i]);
    free(f->machines);
    free(f->cluster);
    free(f->prefix);
    free(f);
}

static bl_op *op_new(bl_fleet *f, unsigned id)
{
    bl_op *op = calloc(1, sizeof *op);
    if (!op)
        return NULL;
    op->fleet = f;
    op->id = id;
    op->next = f->ops;
    if (f->ops)
        f->ops->prev = op;
    f->ops = op;
    return op;
}

static void op_done(bl_op *op)
{
    bl_fleet *f = op->fleet;
    if (op->prev)
        op->prev->next = op->next;
    else
        f->ops = op->next;
    if (op->next)
        op->next->prev = op->prev;
    free(op);
}

bl_machine *bl_fleet_find(const bl_fleet *f, unsigned id)
{
    for (size_t i = 0; i < f->n; i++)
        if (f->machines[i]->id == id)
            return f->machines[i];
    return NULL;
}

bl_machine *bl_fleet_find_node(const bl_fleet *f, const char *node)
{
    if (!node)
        return NULL;
    for (size_t i = 0; i < f->n; i++)
        if (f->machines[i]->node && strcmp(f->machines[i]->node, node) == 0)
            return f->machines[i];
    return NULL;
}

static void remove_machine(bl_fleet *f, unsigned id)
{
    for (size_t i = 0; i < f->n; i++)
        if (f->machines[i]->id == id) {
            machine_free(f->machines[i]);
            memmove(&f->machines[i], &f->machines[i + 1], (f->n - i - 1) * sizeof *f->machines);
            f->n--;
            return;
        }
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static void on_terminated(void *arg, const hoist_error *err);

static void on_launched(void *arg, const hoist_error *err, const hoist_machine *mc,
                        const hoist_launch_offering *exhausted, size_t n_exhausted)
{
    bl_op *op = arg;
    bl_fleet *f = op->fleet;
    unsigned id = op->id;
    (void)exhausted, (void)n_exhausted;
    op_done(op);
    bl_machine *m = bl_fleet_find(f, id);
    if (!m)
        return;
    m->in_flight = false;
    if (err || !mc) {
        f->stats.launch_failures++;
        flog(f, HOIST_LOG_WARN, "launch %s failed: %s", m->claim, err ? err->message : "no machine");
        if (f->hooks.launch_failed) {
            hoist_error e;
            if (err)
                e = *err;
            else
                hoist_error_set(&e, HOIST_E_INTERNAL, "the provider returned no machine");
            f->hooks.launch_failed(f->hooks.ctx, m, &e);
        }
        remove_machine(f, id);
        return;
    }
    f->stats.nodes_launched++;
    free(m->instance_id);
    free(m->provider_id);
    m->instance_id = dup_or_null(mc->instance_id);
    m->provider_id = dup_or_null(mc->provider_id);
    if (mc->instance_type && strcmp(mc->instance_type, m->instance_type) != 0) {
        free(m->instance_type);
        m->instance_type = strdup(mc->instance_type);
    }
    if (mc->zone && strcmp(mc->zone, m->zone) != 0) {
        free(m->zone);
        m->zone = strdup(mc->zone);
    }
    if (!m->instance_id || !m->provider_id || !m->instance_type || !m->zone)
        flog(f, HOIST_LOG_ERROR, "%s: out of memory recording the machine", m->claim);
    if (m->state == BL_TERMINATING) { /* given up while launching */
        hoist_err e = {{0}};
        if (bl_fleet_terminate(f, id, &e) < 0)
            flog(f, HOIST_LOG_WARN, "%s (retried later)", e.msg);
        return;
    }
    if (m->state == BL_LAUNCHING)
        m->state = BL_LAUNCHED;
}

int bl_fleet_launch(bl_fleet *f, const bl_template *t, hoist_err *err)
{
    if (f->n == f->cap) {
        size_t ncap = f->cap ? f->cap * 2 : 16;
        bl_machine **p = realloc(f->machines, ncap * sizeof *p);
        if (!p)
            return hoist_errf(err, "baseline: out of memory"), -1;
        f->machines = p;
        f->cap = ncap;
    }
    char claim[256];
    snprintf(claim, sizeof claim, "%s-%llu", f->prefix, (unsigned long long)f->next_claim);
    bl_machine *m = calloc(1, sizeof *m);
    if (!m)
        return hoist_errf(err, "baseline: out of memory"), -1;
    m->id = f->next_id;
    m->claim = strdup(claim);
    m->group = strdup(t->name);
    m->nodepool = strdup(t->nodepool);
    m->instance_type = strdup(t->type->name);
    m->zone = strdup(t->zone);
    m->state = BL_LAUNCHING;
    m->capacity = t->capacity;
    m->allocatable = t->allocatable;
    m->free = t->free;
    m->created_ms = now_ms(f);
    if (!m->claim || !m->group || !m->nodepool || !m->instance_type || !m->zone) {
        machine_free(m);
        return hoist_errf(err, "baseline: out of memory"), -1;
    }

    hoist_launch_offering off;
    memset(&off, 0, sizeof off);
    off.struct_size = sizeof off;
    off.instance_type = t->type->name;
    off.zone = t->zone;
    off.capacity_type = t->capacity_type;
    off.price = t->price;
    hoist_kv tags[3] = {{HOIST_TAG_CLUSTER, f->cluster},
                        {HOIST_TAG_NODEPOOL, t->nodepool},
                        {HOIST_TAG_CLAIM, claim}};
    size_t n_taints = t->taints.n + t->startup_taints.n;
    hoist_taint *taints = calloc(n_taints ? n_taints : 1, sizeof *taints);
    if (!taints) {
        machine_free(m);
        return hoist_errf(err, "baseline: out of memory"), -1;
    }
    for (size_t i = 0; i < t->taints.n; i++)
        taints[i] = t->taints.items[i];
    for (size_t i = 0; i < t->startup_taints.n; i++)
        taints[t->taints.n + i] = t->startup_taints.items[i];
    hoist_launch_request req;
    memset(&req, 0, sizeof req);
    req.struct_size = sizeof req;
    req.claim = claim;
    req.cluster = f->cluster;
    req.nodepool = t->nodepool;
    req.offerings = &off;
    req.n_offerings = 1;
    req.spot_strategy = HOIST_ALLOC_PRICE_CAPACITY_OPTIMIZED;
    req.on_demand_strategy = HOIST_ALLOC_LOWEST_PRICE;
    req.tags = tags;
    req.n_tags = 3;
    req.labels = t->labels.items;
    req.n_labels = t->labels.n;
    req.taints = taints;
    req.n_taints = n_taints;

    bl_op *op = op_new(f, m->id);
    if (!op) {
        free(taints);
        machine_free(m);
        return hoist_errf(err, "baseline: out of memory"), -1;
    }
    /* recorded before the call: a provider answers later, never inside launch() */
    f->machines[f->n++] = m;
    f->next_id++;
    f->next_claim++;
    m->in_flight = true;
    hoist_error perr;
    memset(&perr, 0, sizeof perr);
    hoist_status s = f->env.provider->launch(f->env.provider_state, &req, on_launched, op, &perr);
    free(taints);
    if (s != HOIST_OK) {
        op_done(op);
        f->stats.launch_failures++;
        hoist_errf(err, "launch %s: %s", claim, perr.message[0] ? perr.message : hoist_status_name(s));
        if (f->hooks.launch_failed)
            f->hooks.launch_failed(f->hooks.ctx, m, &perr);
        remove_machine(f, m->id);
        return -1;
    }
    return 0;
}

static void on_terminated(void *arg, const hoist_error *err)
{
    bl_op *op = arg;
    bl_fleet *f = op->fleet;
    unsigned id = op->id;
    op_done(op);
    bl_machine *m = bl_fleet_find(f, id);
    if (!m)
        return;
    m->in_flight = false;
    if (err && err->code != HOIST_E_NOT_FOUND) {
        flog(f, HOIST_LOG_WARN, "terminate %s failed (retried): %s", m->claim, err->message);
        return;
    }
    f->stats.nodes_terminated++;
    char *node = m->node;
    m->node = NULL;
    remove_machine(f, id);
    /* after the record is gone: the sink may report the deletion back at once */
    if (node && f->env.sink && f->env.sink->delete_node)
        (void)f->env.sink->delete_node(f->env.sink->ctx, node);
    free(node);
}

int bl_fleet_terminate(bl_fleet *f, unsigned id, hoist_err *err)
{
    bl_machine *m = bl_fleet_find(f, id);
    if (!m)
        return hoist_errf(err, "baseline: terminate: no machine %u", id), -1;
    if (m->in_flight) {
        m->state = BL_TERMINATING; /* done once the call in flight answers */
        return 0;
    }
    m->state = BL_TERMINATING;
    if (!m->instance_id) { /* never launched: nothing to terminate */
        remove_machine(f, id);
        return 0;
    }
    bl_op *op = op_new(f, id);
    if (!op)
        return hoist_errf(err, "baseline: out of memory"), -1;
    m->in_flight = true;
    hoist_error perr;
    memset(&perr, 0, sizeof perr);
    hoist_status s = f->env.provider->terminate(f->env.provider_state, m->instance_id,
                                                on_terminated, op, &perr);
    if (s != HOIST_OK) {
        op_done(op);
        m->in_flight = false;
        return hoist_errf(err, "terminate %s: %s", m->claim,
                          perr.message[0] ? perr.message : hoist_status_name(s)),
               -1;
    }
    return 0;
}

static bool node_ready(const json_t *node)
{
    const json_t *conds = json_object_get(json_object_get(node, "status"), "conditions");
    size_t i;
    const json_t *c;
    json_array_foreach(conds, i, c) {
        const char *type = json_string_value(json_object_get(c, "type"));
        const char *status = json_string_value(json_object_get(c, "status"));
        if (type && strcmp(type, "Ready") == 0)
            return status && strcmp(status, "True") == 0;
    }
    return false;
}

void bl_fleet_observe_node(bl_fleet *f, hoist_object_op op, const json_t *node)
{
    const char *name = json_string_value(json_object_get(json_object_get(node, "metadata"), "name"));
    if (!name)
        return;
    if (op == HOIST_OBJECT_DELETE) {
        bl_machine *m = bl_fleet_find_node(f, name);
        if (!m)
            return;
        free(m->node);
        m->node = NULL;
        /* the Node went away without us (an interruption, the world's doing):
         * the machine is gone unless we are terminating it */
        if (m->state != BL_TERMINATING && !m->in_flight)
            remove_machine(f, m->id);
        return;
    }
    const char *pid = json_string_value(json_object_get(json_object_get(node, "spec"), "providerID"));
    bl_machine *m = bl_fleet_find_node(f, name);
    if (!m && pid)
        for (size_t i = 0; i < f->n; i++)
            if (f->machines[i]->provider_id && strcmp(f->machines[i]->provider_id, pid) == 0) {
                m = f->machines[i];
                break;
            }
    if (!m)
        return;
    if (!m->node && !(m->node = strdup(name)))
        return;
    bool ready = node_ready(node);
    if (m->state == BL_LAUNCHED || m->state == BL_LAUNCHING || m->state == BL_REGISTERED) {
        m->state = ready ? BL_READY : BL_REGISTERED;
        if (ready)
            m->ready_ms = now_ms(f);
    }
}

void bl_fleet_tick(bl_fleet *f, uint64_t now)
{
    /* ids first: terminate may remove records */
    size_t n = f->n;
    unsigned *ids = malloc((n ? n : 1) * sizeof *ids);
    if (!ids)
        return;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const bl_machine *m = f->machines[i];
        if (m->in_flight)
            continue;
        bool timed_out = m->state == BL_LAUNCHED && now >= m->created_ms + BL_PROVISION_TIMEOUT_MS;
        if (timed_out || m->state == BL_TERMINATING)
            ids[k++] = m->id;
    }
    for (size_t i = 0; i < k; i++) {
        hoist_err e = {{0}};
        if (bl_fleet_terminate(f, ids[i], &e) < 0)
            flog(f, HOIST_LOG_WARN, "%s", e.msg);
    }
    free(ids);
}

size_t bl_fleet_machines(const bl_fleet *f, bl_machine *const **out)
{
    *out = f->machines;
    return f->n;
}

size_t bl_fleet_upcoming(const bl_fleet *f)
{
    size_t k = 0;
    for (size_t i = 0; i < f->n; i++) {
        bl_machine_state s = f->machines[i]->state;
        k += s == BL_LAUNCHING || s == BL_LAUNCHED || s == BL_REGISTERED;
    }
    return k;
}

size_t bl_fleet_alive(const bl_fleet *f)
{
    size_t k = 0;
    for (size_t i = 0; i < f->n; i++)
        k += f->machines[i]->state != BL_TERMINATING;
    return k;
}

hoist_autoscaler_stats *bl_fleet_stats(bl_fleet *f)
{
    return &f->stats;
}

bool bl_observe(bl_fleet *f, const hoist_object_event *ev)
{
    const char *kind = json_string_value(json_object_get(ev->object, "kind"));
    if (!kind)
        return false;
    size_t kl = strlen(kind);
    if (strcmp(kind, "Node") == 0) {
        bl_fleet_observe_node(f, ev->op, ev->object);
        return false;
    }
    return strcmp(kind, "NodePool") == 0 || strcmp(kind, "DaemonSet") == 0 ||
           (kl >= 9 && strcmp(kind + kl - 9, "NodeClass") == 0);
}
