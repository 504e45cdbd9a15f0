/*
 * sim/baseline_clusterman.c - a Clusterman baseline behind sim/autoscaler.h.
 *
 * It behaves as Yelp's Clusterman does with its documented defaults.
 * Sources (github.com/Yelp/clusterman, docs at clusterman.readthedocs.io):
 *   [AUTO]   docs/source/autoscaler.rst, "Scaling logic"
 *   [CONF]   docs/source/configuration.rst, "Service Configuration" and
 *            "Pool Configuration" (the example file with the defaults)
 *   [SIG]    docs/source/signals.rst, "Default signal"
 *   [CODE]   clusterman/autoscaler/autoscaler.py (_compute_target_capacity),
 *            clusterman/autoscaler/pool_manager.py (_prioritize_killable_nodes,
 *            _constrain_target_capacity), clusterman/signals/pending_pods_signal.py
 *
 * Defaults, each with its source:
 *   setpoint 0.7 ........................................... [CONF] autoscaling
 *   margin 0.1: Clusterman scales only when the relative change between the
 *     current and the new target capacity is at least the margin
 *     ("target_capacity_margin: 0.1", [CONF]; setpoint_distance >= margin in
 *     [CODE]). For a setpoint s that is utilization outside s*(1 +- margin),
 *     i.e. 0.63..0.77. ([AUTO]'s worked example reads the margin as absolute,
 *     s +- margin; the configuration reference and the code are relative.)
 *   new target = fulfilled nodes x utilization / setpoint, utilization being
 *     the most constrained of cpu and memory (requested / allocatable over
 *     the pool's registered nodes), rounded up; requested 0 -> target 0;
 *     target 0 with a request -> 1 ("to get some data"); no registered node
 *     yet -> target unchanged ............................ [AUTO] [CODE]
 *   signal: requested resources of the pods on the pool's nodes plus those of
 *     the pending pods the pool could run ([SIG]: the default signal is the
 *     allocated resources; [CODE] PendingPodsSignal adds pending pods'
 *     requests, weighted 5 there; cfg->pending_weight, default 1)
 *   run period 60 s: the autoscaler batch runs every
 *     batches.autoscaler.run_interval_seconds; the batches of the example
 *     service configuration run every 60 s ............................ [CONF]
 *   one pool of one instance type (a resource group of one launch spec);
 *     default m5.2xlarge when the NodePool allows it, else its 8-vCPU,
 *     4 GiB-a-vCPU type cheapest per vCPU (then any 8-vCPU type, then any
 *     type); machines spread round-robin over the allowed zones;
 *     on-demand unless the NodePool allows only spot
 *   scaling_limits min_capacity / max_capacity ......... [CONF] pool config
 *   scale-down order (pool_manager _prioritize_killable_nodes, [CODE]):
 *     orphans first (machines launched whose Node has not registered), then
 *     idle nodes (no pods), then fewest batch pods (owned by a Job), then
 *     fewest pods; name breaks ties; machines still launching are not killable
 *   draining: pods evicted, the machine terminated once they are gone or
 *     after draining_time_threshold_seconds 1200 (force_terminate) .. [CONF]
 */
#include "sim/autoscaler.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/labels.h"
#include "sched/volumes.h"
#include "sim/baseline_util.h"

#define CM_SETPOINT 0.7
#define CM_MARGIN 0.1
#define CM_INTERVAL_MS 60000u
#define CM_DRAIN_TIMEOUT_MS (1200u * 1000u)
#define CM_DEFAULT_TYPE "m5.2xlarge"

typedef struct cm_ctx {
    hoist_pipeline_env env;
    hoist_clusterman_config cfg;
    char *cluster_name, *type_name, *nodepool_name;
    hoist_cluster cluster;
    bl_fleet *fleet;
    hoist_arena tarena;
    bl_templates templates;      /* the pool's type, one per zone */
    bool templates_dirty;
    size_t next_zone;
    bool started;
    uint64_t next_run_ms;
    size_t target;               /* the pool's target capacity (nodes) */
    hoist_autoscaler_stats stats;
} cm_ctx;

static void logm(const cm_ctx *c, hoist_log_level level, const char *what, const char *detail)
{
    const hoist_host *h = c->env.host;
    if (HOIST_HOST_HAS(h, log) && h->log)
        h->log(h->ctx, level, "clusterman: %s%s", what, detail ? detail : "");
}

static const hoist_nodepool *pool_nodepool(const cm_ctx *c, const hoist_objects *o)
{
    const hoist_nodepool *best = NULL;
    for (size_t i = 0; i < o->n_nodepools; i++) {
        const hoist_nodepool *np = o->nodepools[i];
        if (c->nodepool_name) {
            if (strcmp(np->name, c->nodepool_name) == 0)
                return np;
        } else if (!best || strcmp(np->name, best->name) < 0) {
            best = np;
        }
    }
    return best;
}

static int build_templates(cm_ctx *c, hoist_objects *o, hoist_err *err)
{
    hoist_arena_free(&c->tarena);
    hoist_arena_init(&c->tarena, 0);
    bl_templates_free(&c->templates);
    c->templates_dirty = false;
    const hoist_nodepool *np = pool_nodepool(c, o);
    if (!np)
        return 0;
    const char *want = c->type_name ? c->type_name : CM_DEFAULT_TYPE;
    if (bl_templates_add_nodepool(&c->tarena, c->env.catalog, o, np, &want, 1, true,
                                  &c->templates, err) < 0)
        return -1;
    if (c->templates.n > 0 || c->type_name)
        return 0;
    /* the default type is not allowed: the NodePool's type most like it
     * (a general-purpose 8-vCPU machine, 4 GiB a vCPU), cheapest per vCPU;
     * failing that any 8-vCPU type, then any type, cheapest per vCPU. A pool
     * of tiny machines would be a strawman: Clusterman pools are sized for
     * the service's pods. */
    if (bl_templates_add_nodepool(&c->tarena, c->env.catalog, o, np, NULL, 0, true, &c->templates,
                                  err) < 0)
        return -1;
    const hoist_instance_type *cheapest = NULL;
    double best = 0;
    int best_rank = 3;
    for (size_t i = 0; i < c->templates.n; i++) {
        const bl_template *t = &c->templates.items[i];
        uint32_t v = t->type->vcpus ? t->type->vcpus : 1;
        int rank = v == 8 && t->type->memory_mib == 8u * 4096u ? 0 : v == 8 ? 1 : 2;
        double per_vcpu = t->price / v;
        if (!cheapest || rank < best_rank ||
            (rank == best_rank && (per_vcpu < best ||
                                   (per_vcpu == best && strcmp(t->type->name, cheapest->name) < 0)))) {
            cheapest = t->type;
            best = per_vcpu;
            best_rank = rank;
        }
    }
    size_t w = 0;
    for (size_t i = 0; i < c->templates.n; i++)
        if (c->templates.items[i].type == cheapest)
            c->templates.items[w++] = c->templates.items[i];
    c->templates.n = w;
    return 0;
}

/* One machine of the pool in this run's view. */
typedef struct cm_member {
    unsigned id;
    const char *claim;
    bool orphan;         /* launched, no Node */
    size_t pods, batch_pods;
} cm_member;

static int member_cmp(const void *a, const void *b)
{
    const cm_member *x = a, *y = b;
    if (x->orphan != y->orphan)
        return x->orphan ? -1 : 1;
    if ((x->pods == 0) != (y->pods == 0))
        return x->pods == 0 ? -1 : 1;
    if (x->batch_pods != y->batch_pods)
        return x->batch_pods < y->batch_pods ? -1 : 1;
    if (x->pods != y->pods)
        return x->pods < y->pods ? -1 : 1;
    return strcmp(x->claim, y->claim);
}

/* Copied names of the pods to evict from one node. */
typedef struct cm_drain {
    unsigned id;
    size_t n;
    const char **ns, **name;
} cm_drain;

static int run_once(cm_ctx *c, uint64_t now, hoist_err *err)
{
    hoist_objects *o = hoist_cluster_objects(&c->cluster);
    if (c->templates_dirty && build_templates(c, o, err) < 0)
        return -1;
    bl_fleet_tick(c->fleet, now);
    if (c->templates.n == 0)
        return 0; /* no NodePool (yet) or the type is not allowed */

    hoist_arena a;
    hoist_arena_init(&a, 0);
    hoist_strmap idx;
    hoist_strmap_init(&idx);
    int rc = 0;
    bl_machine *const *ms;
    size_t n_m = bl_fleet_machines(c->fleet, &ms);
    cm_member *mem = hoist_arena_calloc(&a, n_m ? n_m : 1, sizeof *mem);
    unsigned *done_draining = hoist_arena_calloc(&a, n_m ? n_m : 1, sizeof *done_draining);
    if (!mem || !done_draining)
        goto oom;
    for (size_t i = 0; i < n_m; i++) {
        mem[i].id = ms[i]->id;
        mem[i].claim = hoist_arena_strdup(&a, ms[i]->claim);
        if (!mem[i].claim)
            goto oom;
        mem[i].orphan = ms[i]->state == BL_LAUNCHED && !ms[i]->node;
        if (ms[i]->node && hoist_strmap_put(&idx, ms[i]->node, (int64_t)i) < 0)
            goto oom;
    }

    /* the signal: requests on the pool's nodes, plus pending pods it could run */
    hoist_resources req, total;
    memset(&req, 0, sizeof req);
    memset(&total, 0, sizeof total);
    double weight = c->cfg.pending_weight > 0 ? c->cfg.pending_weight : 1.0;
    double pending_cpu = 0, pending_mem = 0;
    for (size_t i = 0; i < o->n_pods; i++) {
        const hoist_pod *p = o->pods[i];
        int64_t mi;
        if (bl_pod_running(p) && hoist_strmap_get(&idx, p->node_name, &mi)) {
            hoist_resources_add(&req, &p->requests);
            if (!p->daemonset_owned) {
                mem[mi].pods++;
                mem[mi].batch_pods += p->owner_kind && strcmp(p->owner_kind, "Job") == 0;
            }
        } else if (bl_pod_pending(p)) {
            hoist_node_selector *vols = NULL;
            size_t n_vols = 0;
            hoist_err e = {{0}};
            if (p->claims.n && hoist_pod_volume_terms(o, p, &a, &vols, &n_vols, &e) < 0)
                continue;
            bool any = false;
            for (size_t t = 0; t < c->templates.n && !any; t++)
                any = bl_pod_allowed(p, &c->templates.items[t].labels,
                                     &c->templates.items[t].taints, NULL, vols, n_vols);
            if (!any)
                continue;
            pending_cpu += (double)p->requests.v[HOIST_RES_CPU] * weight;
            pending_mem += (double)p->requests.v[HOIST_RES_MEMORY] * weight;
        }
    }
    size_t fulfilled = 0, alive = 0;
    size_t n_drain_done = 0;
    for (size_t i = 0; i < n_m; i++) {
        const bl_machine *m = ms[i];
        if (m->state == BL_DRAINING) {
            if (mem[i].pods == 0 || !m->node || now >= m->drain_started_ms + CM_DRAIN_TIMEOUT_MS)
                done_draining[n_drain_done++] = m->id;
            continue;
        }
        if (m->state == BL_TERMINATING)
            continue;
        alive++;
        if (m->state == BL_REGISTERED || m->state == BL_READY) {
            const hoist_node *n = hoist_cluster_find_node(&c->cluster, m->node);
            if (n) {
                fulfilled++;
                hoist_resources_add(&total, &n->allocatable);
            }
        }
    }
    double rcpu = (double)req.v[HOIST_RES_CPU] + pending_cpu;
    double rmem = (double)req.v[HOIST_RES_MEMORY] + pending_mem;

    /* the new target capacity */
    double setpoint = c->cfg.setpoint > 0 ? c->cfg.setpoint : CM_SETPOINT;
    double margin = c->cfg.margin > 0 ? c->cfg.margin : CM_MARGIN;
    double target = (double)c->target;
    if (rcpu <= 0 && rmem <= 0) {
        target = 0;
    } else if (c->target == 0) {
        target = 1;
    } else if (fulfilled > 0) {
        double u = 0;
        if (total.v[HOIST_RES_CPU] > 0)
            u = rcpu / (double)total.v[HOIST_RES_CPU];
        if (total.v[HOIST_RES_MEMORY] > 0 && rmem / (double)total.v[HOIST_RES_MEMORY] > u)
            u = rmem / (double)total.v[HOIST_RES_MEMORY];
        double want = (double)fulfilled * u / setpoint;
        if (fabs(want - (double)c->target) / (double)c->target >= margin)
            target = want;
    }
    size_t new_target = (size_t)ceil(target - 1e-9);
    if (new_target < c->cfg.min_nodes)
        new_target = c->cfg.min_nodes;
    if (c->cfg.max_nodes && new_target > c->cfg.max_nodes)
        new_target = c->cfg.max_nodes;
    c->target = new_target;

    /* drains that are over: terminate (answered later) */
    for (size_t i = 0; i < n_drain_done; i++) {
        hoist_err e = {{0}};
        if (bl_fleet_terminate(c->fleet, done_draining[i], &e) < 0)
            logm(c, HOIST_LOG_WARN, e.msg, NULL);
    }

    if (alive < new_target) {
        size_t launched = 0;
        for (size_t k = alive; k < new_target; k++) {
            const bl_template *t = &c->templates.items[c->next_zone++ % c->templates.n];
            hoist_err e = {{0}};
            if (bl_fleet_launch(c->fleet, t, &e) < 0) {
                logm(c, HOIST_LOG_WARN, e.msg, NULL);
                break;
            }
            launched++;
        }
        if (launched)
            c->stats.scale_ups++;
    } else if (alive > new_target) {
        /* killable: not launching, not already going */
        size_t nk = 0;
        for (size_t i = 0; i < n_m; i++) {
            bl_machine *m = bl_fleet_find(c->fleet, mem[i].id);
            if (!m || m->state == BL_LAUNCHING || m->state == BL_DRAINING ||
                m->state == BL_TERMINATING)
                continue;
            mem[nk++] = mem[i];
        }
        qsort(mem, nk, sizeof *mem, member_cmp);
        size_t to_remove = alive - new_target;
        if (to_remove > nk)
            to_remove = nk;
        /* collect names first: the sink's calls may change the snapshot */
        cm_drain *drains = hoist_arena_calloc(&a, to_remove ? to_remove : 1, sizeof *drains);
        if (!drains)
            goto oom;
        for (size_t k = 0; k < to_remove; k++) {
            bl_machine *m = bl_fleet_find(c->fleet, mem[k].id);
            drains[k].id = mem[k].id;
            if (!m || !m->node || mem[k].pods == 0)
                continue;
            drains[k].ns = hoist_arena_calloc(&a, mem[k].pods, sizeof(char *));
            drains[k].name = hoist_arena_calloc(&a, mem[k].pods, sizeof(char *));
            if (!drains[k].ns || !drains[k].name)
                goto oom;
            for (size_t i = 0; i < o->n_pods && drains[k].n < mem[k].pods; i++) {
                const hoist_pod *p = o->pods[i];
                if (!bl_pod_running(p) || p->daemonset_owned || strcmp(p->node_name, m->node) != 0)
                    continue;
                drains[k].ns[drains[k].n] = hoist_arena_strdup(&a, p->ns);
                drains[k].name[drains[k].n] = hoist_arena_strdup(&a, p->name);
                if (!drains[k].ns[drains[k].n] || !drains[k].name[drains[k].n])
                    goto oom;
                drains[k].n++;
            }
        }
        const hoist_sink *s = c->env.sink;
        for (size_t k = 0; k < to_remove; k++) {
            bl_machine *m = bl_fleet_find(c->fleet, drains[k].id);
            if (!m)
                continue;
            if (drains[k].n == 0) {
                hoist_err e = {{0}};
                if (bl_fleet_terminate(c->fleet, drains[k].id, &e) < 0)
                    logm(c, HOIST_LOG_WARN, e.msg, NULL);
                continue;
            }
            m->state = BL_DRAINING;
            m->drain_started_ms = now;
            for (size_t i = 0; i < drains[k].n && s && s->evict; i++) {
                c->stats.evictions++;
                if (s->evict(s->ctx, drains[k].ns[i], drains[k].name[i]) != 0)
                    c->stats.evictions_refused++;
            }
        }
        if (to_remove)
            c->stats.scale_downs++;
    }
    goto out;
oom:
    rc = -1;
    hoist_errf(err, "clusterman: out of memory");
out:
    hoist_strmap_free(&idx);
    hoist_arena_free(&a);
    return rc;
}

/* ---- the interface ---- */

static void cm_observe(void *ctx, const hoist_object_event *ev)
{
    cm_ctx *c = ctx;
    hoist_err e = {{0}};
    if (hoist_cluster_apply(&c->cluster, ev, &e) < 0)
        logm(c, HOIST_LOG_DEBUG, "object refused: ", e.msg);
    if (bl_observe(c->fleet, ev))
        c->templates_dirty = true;
}

static int cm_step(void *ctx, uint64_t *wake_at_ms, hoist_err *err)
{
    cm_ctx *c = ctx;
    uint64_t now = c->env.host->now_ms(c->env.host->ctx);
    uint64_t interval = c->cfg.interval_ms ? c->cfg.interval_ms : CM_INTERVAL_MS;
    int rc = 0;
    if (!c->started) {
        c->started = true;
        c->next_run_ms = now + interval;
    } else if (now >= c->next_run_ms) {
        while (c->next_run_ms <= now)
            c->next_run_ms += interval;
        rc = run_once(c, now, err);
    }
    if (wake_at_ms)
        *wake_at_ms = c->next_run_ms;
    return rc;
}

static const hoist_autoscaler_stats *cm_stats(void *ctx)
{
    cm_ctx *c = ctx;
    const hoist_autoscaler_stats *f = bl_fleet_stats(c->fleet);
    c->stats.nodes_launched = f->nodes_launched;
    c->stats.launch_failures = f->launch_failures;
    c->stats.nodes_terminated = f->nodes_terminated;
    return &c->stats;
}

static void cm_destroy(void *ctx)
{
    cm_ctx *c = ctx;
    if (!c)
        return;
    bl_fleet_free(c->fleet);
    hoist_cluster_free(&c->cluster);
    bl_templates_free(&c->templates);
    hoist_arena_free(&c->tarena);
    free(c->cluster_name);
    free(c->type_name);
    free(c->nodepool_name);
    free(c);
}

int hoist_autoscaler_clusterman(const hoist_pipeline_env *env, const hoist_clusterman_config *cfg,
                                hoist_autoscaler *out, hoist_err *err)
{
    if (!cfg || !cfg->cluster || !*cfg->cluster)
        return hoist_errf(err, "clusterman: cluster: a cluster name is required"), -1;
    if (cfg->setpoint < 0 || cfg->setpoint > 1)
        return hoist_errf(err, "clusterman: setpoint: must be within 0..1"), -1;
    if (cfg->margin < 0 || cfg->margin >= 1)
        return hoist_errf(err, "clusterman: margin: must be within 0..1"), -1;
    if (cfg->pending_weight < 0)
        return hoist_errf(err, "clusterman: pending_weight: must be >= 0"), -1;
    if (cfg->max_nodes && cfg->min_nodes > cfg->max_nodes)
        return hoist_errf(err, "clusterman: min_nodes: larger than max_nodes"), -1;
    cm_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return hoist_errf(err, "clusterman: out of memory"), -1;
    hoist_cluster_init(&c->cluster);
    hoist_arena_init(&c->tarena, 0);
    c->templates_dirty = true;
    c->cfg = *cfg;
    c->cluster_name = strdup(cfg->cluster);
    c->type_name = cfg->instance_type ? strdup(cfg->instance_type) : NULL;
    c->nodepool_name = cfg->nodepool ? strdup(cfg->nodepool) : NULL;
    if (!c->cluster_name || (cfg->instance_type && !c->type_name) ||
        (cfg->nodepool && !c->nodepool_name)) {
        cm_destroy(c);
        return hoist_errf(err, "clusterman: out of memory"), -1;
    }
    c->cfg.cluster = c->cluster_name;
    c->cfg.instance_type = c->type_name;
    c->cfg.nodepool = c->nodepool_name;
    c->fleet = bl_fleet_new(env, cfg->cluster, "clusterman", NULL, err);
    if (!c->fleet) {
        cm_destroy(c);
        return hoist_err_prefix(err, "clusterman"), -1;
    }
    c->env = *env;
    memset(out, 0, sizeof *out);
    out->name = "clusterman";
    out->ctx = c;
    out->observe = cm_observe;
    out->step = cm_step;
    out->destroy = cm_destroy;
    out->stats = cm_stats;
    return 0;
}
