/*
 * sim/baseline_ca.c - a Cluster Autoscaler baseline behind sim/autoscaler.h.
 *
 * It behaves as Cluster Autoscaler (kubernetes/autoscaler, cluster-autoscaler)
 * does with its documented defaults. Sources:
 *   [FAQ]   cluster-autoscaler/FAQ.md, "How does scale-up work?", "How does
 *           scale-down work?", "What types of pods can prevent CA from removing
 *           a node?", "What are Expanders?", "What are the parameters to CA?",
 *           "I have a couple of nodes with low utilization, but they are not
 *           scaled down. Why?"
 *           https://github.com/kubernetes/autoscaler/blob/master/cluster-autoscaler/FAQ.md
 *   [WASTE] cluster-autoscaler/expander/waste/waste.go (the least-waste score)
 *
 * Defaults, each with its source:
 *   scan-interval 10 s ........................................ [FAQ] parameters
 *     The first scan runs one interval after start; nothing happens between scans.
 *   expander least-waste ...................................... [FAQ] expanders
 *     (CA's default expander is `random`; least-waste is the documented choice
 *     for node groups of different shapes and is deterministic, so the
 *     simulator uses it). Score of a node group = idle CPU fraction + idle
 *     memory fraction of its new nodes after placing the pods it can take,
 *     against node CAPACITY [WASTE]; ties: fewer nodes, then group name
 *     (CA breaks ties at random).
 *   estimator binpacking ...................................... [FAQ] parameters
 *     First-fit decreasing (cpu, then memory, then name) of the pending pods a
 *     group's template node can take, into new template nodes.
 *   one node group scaled per loop; max-nodes-total 0 = no cap  [FAQ] parameters
 *   upcoming nodes count as capacity: launched machines whose Node is not
 *     Ready take pending pods in the simulation first, so nothing is bought
 *     twice ............................. [FAQ] startup taints / scale-up sections
 *   max-node-provision-time 15 min: a machine whose Node never registers is
 *     terminated ................................................ [FAQ] scale-up
 *   expendable-pods-priority-cutoff -10: pending pods with priority below it
 *     never cause a scale-up .......................................... [FAQ]
 *   scale-down-utilization-threshold 0.5: max(cpu, memory) requests /
 *     allocatable, DaemonSet pods included (ignore-daemonsets-utilization
 *     false); GPU nodes by GPU requests ......... [FAQ] scale-down, parameters
 *   scale-down-unneeded-time 10 min .................. [FAQ] scale-down, parameters
 *   scale-down-delay-after-add 10 min: unneeded timers keep running during
 *     it, deletions wait ................................... [FAQ] parameters
 *   scale-down-delay-after-failure 3 min (a refused eviction) .. [FAQ] parameters
 *   scale-down-non-empty-candidates-count 30 (per loop) ....... [FAQ] parameters
 *   max-empty-bulk-delete 10: empty nodes in bulk, non-empty ones one at a
 *     time ....................................................... [FAQ] scale-down
 *   max-graceful-termination-sec 600: a draining node is terminated once its
 *     pods are gone or after 10 min ................................... [FAQ]
 *   a node is kept when one of its pods (DaemonSet and mirror pods aside):
 *     has cluster-autoscaler.kubernetes.io/safe-to-evict "false"; or, unless
 *     safe-to-evict "true": has no controller, uses local storage (emptyDir,
 *     hostPath), or runs in kube-system without a PodDisruptionBudget; or is
 *     covered by a PodDisruptionBudget allowing no disruption; or fits on no
 *     other Ready node ............... [FAQ] "What types of pods can prevent..."
 *   drain: taint ToBeDeletedByClusterAutoscaler:NoSchedule, evict through the
 *     Eviction API; a refused eviction saves the node ......... [FAQ] PDB section
 *
 * Node groups. CA scales node groups of one instance type each; here a node
 * group is (NodePool, instance type, zone), on-demand unless the NodePool
 * allows only spot. One group per zone follows the FAQ's advice for
 * zone-bound pods ("use separate node groups per zone"). Instance types:
 * cfg->instance_types, else those of the general-purpose list below the
 * NodePool allows (m5 and m6i, large to 4xlarge, plus g5.xlarge and
 * g5.12xlarge where GPU types are allowed); a NodePool allowing none of them
 * gets its 8 cheapest allowed types.
 *
 * Scheduling check: resources, nodeSelector, required node affinity, taints,
 * the zones of the pod's volumes. Pod (anti-)affinity and topology spread are
 * not simulated (the simulator's scheduler enforces them when binding).
 */
#include "sim/autoscaler.h"

#include <stdlib.h>
#include <string.h>

#include "model/labels.h"
#include "model/requirements.h"
#include "sched/volumes.h"
#include "sim/baseline_util.h"

#define CA_SCAN_INTERVAL_MS 10000u
#define CA_UTILIZATION 0.5
#define CA_UNNEEDED_MS (10u * 60u * 1000u)
#define CA_DELAY_AFTER_ADD_MS (10u * 60u * 1000u)
#define CA_DELAY_AFTER_FAILURE_MS (3u * 60u * 1000u)
#define CA_MAX_EMPTY_BULK_DELETE 10
#define CA_NON_EMPTY_CANDIDATES 30
#define CA_MAX_GRACEFUL_MS (10u * 60u * 1000u)
#define CA_EXPENDABLE_PRIORITY (-10)
#define CA_GROUP_BACKOFF_MS (5u * 60u * 1000u)
#define CA_FALLBACK_TYPES 8
#define CA_TAINT_TO_BE_DELETED "ToBeDeletedByClusterAutoscaler"

static const char *const ca_default_types[] = {
    "m5.large",  "m5.xlarge",  "m5.2xlarge",  "m5.4xlarge", "m6i.large",
    "m6i.xlarge", "m6i.2xlarge", "m6i.4xlarge", "g5.xlarge",  "g5.12xlarge",
};

typedef struct ca_backoff {
    char *group;
    uint64_t until_ms;
} ca_backoff;

typedef struct ca_ctx {
    hoist_pipeline_env env;
    hoist_ca_config cfg;
    char *cluster_name;
    char **types;
    size_t n_types;
    hoist_cluster cluster;
    bl_fleet *fleet;
    hoist_arena tarena;           /* the templates' memory */
    bl_templates templates;       /* sorted by name */
    bool templates_dirty;
    bool started;
    uint64_t next_scan_ms;
    bool scaled_up;               /* ever */
    uint64_t last_scale_up_ms;
    uint64_t last_failed_scale_down_ms;
    bool failed_scale_down;
    size_t n_backoff, cap_backoff;
    ca_backoff *backoff;
    hoist_autoscaler_stats stats;
} ca_ctx;

/* ---- templates ---- */

static int template_cmp(const void *a, const void *b)
{
    return strcmp(((const bl_template *)a)->name, ((const bl_template *)b)->name);
}

static int price_cmp(const void *a, const void *b)
{
    const bl_template *x = a, *y = b;
    if (x->price != y->price)
        return x->price < y->price ? -1 : 1;
    return strcmp(x->name, y->name);
}

static int build_templates(ca_ctx *c, hoist_objects *o, hoist_err *err)
{
    hoist_arena_free(&c->tarena);
    hoist_arena_init(&c->tarena, 0);
    bl_templates_free(&c->templates);
    for (size_t i = 0; i < o->n_nodepools; i++) {
        const hoist_nodepool *np = o->nodepools[i];
        size_t before = c->templates.n;
        const char *const *types = c->n_types ? (const char *const *)c->types : ca_default_types;
        size_t n_types = c->n_types ? c->n_types
                                    : sizeof ca_default_types / sizeof ca_default_types[0];
        if (bl_templates_add_nodepool(&c->tarena, c->env.catalog, o, np, types, n_types, true,
                                      &c->templates, err) < 0)
            return -1;
        if (c->templates.n == before && !c->n_types) {
            /* none of the defaults: the NodePool's cheapest types */
            if (bl_templates_add_nodepool(&c->tarena, c->env.catalog, o, np, NULL, 0, true,
                                          &c->templates, err) < 0)
                return -1;
            size_t added = c->templates.n - before;
            qsort(c->templates.items + before, added, sizeof(bl_template), price_cmp);
            /* keep every zone of the CA_FALLBACK_TYPES cheapest types */
            const char *kept[CA_FALLBACK_TYPES];
            size_t n_kept = 0, w = before;
            for (size_t k = before; k < c->templates.n; k++) {
                const char *tn = c->templates.items[k].type->name;
                bool in = false;
                for (size_t q = 0; q < n_kept; q++)
                    in |= strcmp(kept[q], tn) == 0;
                if (!in && n_kept < CA_FALLBACK_TYPES) {
                    kept[n_kept++] = tn;
                    in = true;
                }
                if (in)
                    c->templates.items[w++] = c->templates.items[k];
            }
            c->templates.n = w;
        }
    }
    qsort(c->templates.items, c->templates.n, sizeof(bl_template), template_cmp);
    c->templates_dirty = false;
    return 0;
}

static const bl_template *find_template(const ca_ctx *c, const char *name)
{
    size_t lo = 0, hi = c->templates.n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int r = strcmp(c->templates.items[mid].name, name);
        if (r == 0)
            return &c->templates.items[mid];
        if (r < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* ---- backoff after failed launches ---- */

static bool backed_off(const ca_ctx *c, const char *group, uint64_t now)
{
    for (size_t i = 0; i < c->n_backoff; i++)
        if (strcmp(c->backoff[i].group, group) == 0)
            return now < c->backoff[i].until_ms;
    return false;
}

static void on_launch_failed(void *ctx, const bl_machine *m, const hoist_error *err)
{
    ca_ctx *c = ctx;
    (void)err;
    uint64_t until = c->env.host->now_ms(c->env.host->ctx) + CA_GROUP_BACKOFF_MS;
    for (size_t i = 0; i < c->n_backoff; i++)
        if (strcmp(c->backoff[i].group, m->group) == 0) {
            c->backoff[i].until_ms = until;
            return;
        }
    if (c->n_backoff == c->cap_backoff) {
        size_t ncap = c->cap_backoff ? c->cap_backoff * 2 : 8;
        ca_backoff *p = realloc(c->backoff, ncap * sizeof *p);
        if (!p)
            return;
        c->backoff = p;
        c->cap_backoff = ncap;
    }
    char *g = strdup(m->group);
    if (!g)
        return;
    c->backoff[c->n_backoff++] = (ca_backoff){g, until};
}

/* ---- one loop ---- */

/* A pending pod with the node selectors its volumes impose. */
typedef struct ca_pod {
    const hoist_pod *pod;
    hoist_node_selector *vols;
    size_t n_vols;
} ca_pod;

static int ffd_cmp(const void *a, const void *b)
{
    const hoist_pod *x = ((const ca_pod *)a)->pod, *y = ((const ca_pod *)b)->pod;
    for (int r = HOIST_RES_CPU; r <= HOIST_RES_MEMORY; r++)
        if (x->requests.v[r] != y->requests.v[r])
            return x->requests.v[r] > y->requests.v[r] ? -1 : 1;
    int k = strcmp(x->ns, y->ns);
    return k ? k : strcmp(x->name, y->name);
}

/* A node in the loop's view. */
typedef struct ca_node {
    const hoist_node *node;
    bl_machine *machine;          /* ours, or NULL */
    hoist_resources used;         /* requests of the pods running there */
    bl_bin bin;                   /* for placing pods: free = allocatable - used */
    size_t first_pod;             /* index into the pod chain, SIZE_MAX = none */
    size_t n_movable;             /* pods that must move for a scale-down */
    bool ready;                   /* Ready, schedulable, not being deleted */
    bool removed;                 /* unneeded in this pass: not a destination */
} ca_node;

static const hoist_labels no_labels = {0, NULL};

static bool pdb_covers(const hoist_pdb *b, const hoist_pod *p)
{
    return b->has_selector && strcmp(b->ns, p->ns) == 0 &&
           hoist_reqs_match_labels(&b->selector, &p->labels);
}

/* Why pod p keeps its node, or NULL when it may be evicted. */
static const char *blocks_scale_down(const hoist_objects *o, const hoist_pod *p)
{
    if (p->safe_to_evict == 0)
        return "safe-to-evict false";
    bool has_pdb = false;
    for (size_t i = 0; i < o->n_pdbs; i++) {
        const hoist_pdb *b = o->pdbs[i];
        if (!pdb_covers(b, p))
            continue;
        has_pdb = true;
        if (b->has_status && b->disruptions_allowed < 1)
            return "PodDisruptionBudget allows no disruption";
    }
    if (p->safe_to_evict == 1)
        return NULL;
    if (!p->owner_kind)
        return "not backed by a controller";
    if (p->has_empty_dir || p->has_host_path)
        return "local storage";
    if (strcmp(p->ns, "kube-system") == 0 && !has_pdb)
        return "kube-system pod without a PodDisruptionBudget";
    return NULL;
}

/* Pods that run on every node by default and never need to move. */
static bool stays_with_node(const hoist_pod *p)
{
    return p->daemonset_owned || (p->owner_kind && strcmp(p->owner_kind, "Node") == 0);
}

static double node_utilization(const hoist_objects *o, const ca_node *n)
{
    int gpu = hoist_resource_names_find(&o->names, "nvidia.com/gpu");
    const hoist_resources *alloc = &n->node->allocatable;
    if (gpu >= 0 && alloc->v[gpu] > 0)
        return (double)n->used.v[gpu] / (double)alloc->v[gpu];
    return bl_utilization(&n->used, alloc);
}

/* The loop's scratch state. */
typedef struct ca_loop {
    hoist_arena a;
    hoist_objects *o;
    size_t n_nodes;
    ca_node *nodes;
    size_t *pod_next;             /* chain of pods per node, by pod index */
    hoist_strmap node_index;
} ca_loop;

static int loop_build(ca_ctx *c, ca_loop *L, hoist_err *err)
{
    hoist_objects *o = L->o;
    L->n_nodes = o->n_nodes;
    L->nodes = hoist_arena_calloc(&L->a, o->n_nodes ? o->n_nodes : 1, sizeof *L->nodes);
    L->pod_next = hoist_arena_calloc(&L->a, o->n_pods ? o->n_pods : 1, sizeof *L->pod_next);
    if (!L->nodes || !L->pod_next)
        return hoist_errf(err, "cluster-autoscaler: out of memory"), -1;
    for (size_t i = 0; i < o->n_nodes; i++) {
        ca_node *n = &L->nodes[i];
        n->node = o->nodes[i];
        n->machine = bl_fleet_find_node(c->fleet, n->node->name);
        n->first_pod = SIZE_MAX;
        bool deleting = n->machine && (n->machine->state == BL_DRAINING ||
                                       n->machine->state == BL_TERMINATING);
        n->ready = n->node->ready == 1 && !n->node->unschedulable && !deleting;
        n->bin.labels = &n->node->labels;
        n->bin.taints = &n->node->taints;
        n->bin.node = n->node->name;
        if (hoist_strmap_put(&L->node_index, n->node->name, (int64_t)i) < 0)
            return hoist_errf(err, "cluster-autoscaler: out of memory"), -1;
    }
    for (size_t i = 0; i < o->n_pods; i++) {
        const hoist_pod *p = o->pods[i];
        int64_t ni;
        if (!bl_pod_running(p) || !hoist_strmap_get(&L->node_index, p->node_name, &ni))
            continue;
        ca_node *n = &L->nodes[ni];
        hoist_resources_add(&n->used, &p->requests);
        L->pod_next[i] = n->first_pod;
        n->first_pod = i;
        if (!stays_with_node(p))
            n->n_movable++;
    }
    for (size_t i = 0; i < L->n_nodes; i++) {
        ca_node *n = &L->nodes[i];
        n->bin.free = n->node->allocatable;
        hoist_resources_sub(&n->bin.free, &n->used);
    }
    return 0;
}

/* Volume constraints of pod p (NULL, 0 for pods without claims); -1 when the
 * pod cannot be scheduled at all. */
static int pod_vols(ca_loop *L, const hoist_pod *p, hoist_node_selector **vols, size_t *n)
{
    *vols = NULL;
    *n = 0;
    if (p->claims.n == 0)
        return 0;
    hoist_err e = {{0}};
    return hoist_pod_volume_terms(L->o, p, &L->a, vols, n, &e);
}

/* Place pod on the first bin of bins[0..n) it fits; true when placed. */
static bool place_first_fit(const ca_pod *cp, bl_bin *bins, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (bl_pod_fits(cp->pod, &bins[i], cp->vols, cp->n_vols)) {
            hoist_resources_sub(&bins[i].free, &cp->pod->requests);
            return true;
        }
    return false;
}

/* Scale-up: returns 1 when machines were launched, 0 when not, -1 on error. */
static int scale_up(ca_ctx *c, ca_loop *L, uint64_t now, hoist_err *err)
{
    hoist_objects *o = L->o;
    size_t n_pending = 0;
    for (size_t i = 0; i < o->n_pods; i++)
        n_pending += bl_pod_pending(o->pods[i]);
    if (n_pending == 0)
        return 0;
    ca_pod *pods = hoist_arena_calloc(&L->a, n_pending, sizeof *pods);
    if (!pods)
        return hoist_errf(err, "cluster-autoscaler: out of memory"), -1;
    size_t np = 0;
    for (size_t i = 0; i < o->n_pods; i++) {
        const hoist_pod *p = o->pods[i];
        if (!bl_pod_pending(p) || (p->has_priority && p->priority < CA_EXPENDABLE_PRIORITY))
            continue;
        ca_pod *cp = &pods[np];
        cp->pod = p;
        if (pod_vols(L, p, &cp->vols, &cp->n_vols) < 0)
            continue; /* can never be scheduled: no scale-up helps */
        np++;
    }
    qsort(pods, np, sizeof *pods, ffd_cmp);

    /* bins: Ready nodes, then upcoming machines (launched, not Ready) */
    bl_machine *const *ms;
    size_t n_m = bl_fleet_machines(c->fleet, &ms);
    bl_bin *bins = hoist_arena_calloc(&L->a, L->n_nodes + n_m + 1, sizeof *bins);
    if (!bins)
        return hoist_errf(err, "cluster-autoscaler: out of memory"), -1;
    size_t nb = 0;
    for (size_t i = 0; i < L->n_nodes; i++)
        if (L->nodes[i].ready)
            bins[nb++] = L->nodes[i].bin;
    for (size_t i = 0; i < n_m; i++) {
        const bl_machine *m = ms[i];
        if (m->state != BL_LAUNCHING && m->state != BL_LAUNCHED && m->state != BL_REGISTERED)
            continue;
        const bl_template *t = find_template(c, m->group);
        bl_bin *b = &bins[nb++];
        b->free = m->free;
        b->labels = t ? &t->labels : &no_labels;
        b->taints = t ? &t->taints : NULL;
        b->node = m->node;
        int64_t ni;
        if (m->node && hoist_strmap_get(&L->node_index, m->node, &ni))
            hoist_resources_sub(&b->free, &L->nodes[ni].used);
    }
    size_t n_uns = 0;
    for (size_t i = 0; i < np; i++)
        if (!place_first_fit(&pods[i], bins, nb))
            pods[n_uns++] = pods[i]; /* keeps FFD order */
    if (n_uns == 0)
        return 0;

    /* options: every node group that can take some of them */
    const bl_template *best = NULL;
    size_t best_nodes = 0;
    double best_waste = 0;
    bl_bin *fresh = hoist_arena_calloc(&L->a, n_uns, sizeof *fresh);
    if (!fresh)
        return hoist_errf(err, "cluster-autoscaler: out of memory"), -1;
    for (size_t g = 0; g < c->templates.n; g++) {
        const bl_template *t = &c->templates.items[g];
        if (backed_off(c, t->name, now))
            continue;
        bl_bin empty = {t->free, &t->labels, &t->taints, NULL};
        size_t nodes = 0;
        hoist_resources req;
        memset(&req, 0, sizeof req);
        for (size_t i = 0; i < n_uns; i++) {
            if (!bl_pod_fits(pods[i].pod, &empty, pods[i].vols, pods[i].n_vols))
                continue;
            if (!place_first_fit(&pods[i], fresh, nodes)) {
                fresh[nodes] = empty;
                hoist_resources_sub(&fresh[nodes].free, &pods[i].pod->requests);
                nodes++;
            }
            hoist_resources_add(&req, &pods[i].pod->requests);
        }
        if (nodes == 0)
            continue;
        double waste = 0;
        for (int r = HOIST_RES_CPU; r <= HOIST_RES_MEMORY; r++) {
            double cap = (double)t->capacity.v[r] * (double)nodes;
            if (cap > 0)
                waste += (cap - (double)req.v[r]) / cap;
        }
        if (!best || waste < best_waste ||
            (waste == best_waste && nodes < best_nodes)) { /* names ascend: first name wins */
            best = t;
            best_nodes = nodes;
            best_waste = waste;
        }
    }
    if (!best)
        return 0;
    if (c->cfg.max_nodes_total) {
        size_t total = o->n_nodes;
        for (size_t i = 0; i < n_m; i++)
            total += !ms[i]->node && ms[i]->state != BL_TERMINATING;
        if (total >= c->cfg.max_nodes_total)
            return 0;
        if (best_nodes > c->cfg.max_nodes_total - total)
            best_nodes = c->cfg.max_nodes_total - total;
    }
    size_t launched = 0;
    for (size_t i = 0; i < best_nodes; i++) {
        hoist_err e = {{0}};
        if (bl_fleet_launch(c->fleet, best, &e) < 0) {
            const hoist_host *h = c->env.host;
            if (HOIST_HOST_HAS(h, log) && h->log)
                h->log(h->ctx, HOIST_LOG_WARN, "cluster-autoscaler: %s", e.msg);
            break;
        }
        launched++;
    }
    if (launched == 0)
        return 0;
    c->stats.scale_ups++;
    c->scaled_up = true;
    c->last_scale_up_ms = now;
    return 1;
}

/* Try to move the movable pods of node ni onto other Ready nodes (consuming
 * their room in the bins); true when all fit. On failure the bins are left
 * as they were. */
static bool pods_can_move(ca_loop *L, size_t ni)
{
    ca_node *n = &L->nodes[ni];
    size_t k = 0;
    ca_pod *pods = hoist_arena_calloc(&L->a, n->n_movable ? n->n_movable : 1, sizeof *pods);
    size_t *where = hoist_arena_calloc(&L->a, n->n_movable ? n->n_movable : 1, sizeof *where);
    if (!pods || !where)
        return false;
    for (size_t pi = n->first_pod; pi != SIZE_MAX; pi = L->pod_next[pi]) {
        const hoist_pod *p = L->o->pods[pi];
        if (stays_with_node(p))
            continue;
        pods[k].pod = p;
        if (pod_vols(L, p, &pods[k].vols, &pods[k].n_vols) < 0)
            return false;
        k++;
    }
    qsort(pods, k, sizeof *pods, ffd_cmp);
    size_t placed = 0;
    for (; placed < k; placed++) {
        size_t d = SIZE_MAX;
        for (size_t j = 0; j < L->n_nodes; j++) {
            ca_node *m = &L->nodes[j];
            if (j == ni || !m->ready || m->removed)
                continue;
            if (bl_pod_fits(pods[placed].pod, &m->bin, pods[placed].vols, pods[placed].n_vols)) {
                d = j;
                break;
            }
        }
        if (d == SIZE_MAX)
            break;
        hoist_resources_sub(&L->nodes[d].bin.free, &pods[placed].pod->requests);
        where[placed] = d;
    }
    if (placed == k)
        return true;
    for (size_t i = 0; i < placed; i++)
        hoist_resources_add(&L->nodes[where[i]].bin.free, &pods[i].pod->requests);
    return false;
}

typedef struct ca_cand {
    size_t node;
    double util;
} ca_cand;

static int cand_cmp(const void *a, const void *b)
{
    const ca_cand *x = a, *y = b;
    if (x->util != y->util)
        return x->util < y->util ? -1 : 1;
    return x->node < y->node ? -1 : x->node > y->node;
}

/* One pending drain or termination, by copied names (the snapshot may
 * change under the sink's calls). */
typedef struct ca_action {
    unsigned machine;
    const char *node;
    size_t n_pods;
    const char **pod_ns, **pod_name;
} ca_action;

static void logw(const ca_ctx *c, const char *what, const char *detail)
{
    const hoist_host *h = c->env.host;
    if (HOIST_HOST_HAS(h, log) && h->log)
        h->log(h->ctx, HOIST_LOG_WARN, "cluster-autoscaler: %s%s", what, detail ? detail : "");
}

static int scale_down(ca_ctx *c, ca_loop *L, uint64_t now, hoist_err *err)
{
    hoist_objects *o = L->o;
    double threshold = c->cfg.scale_down_utilization > 0 ? c->cfg.scale_down_utilization
                                                         : CA_UTILIZATION;
    uint64_t unneeded_ms = c->cfg.scale_down_unneeded_ms ? c->cfg.scale_down_unneeded_ms
                                                         : CA_UNNEEDED_MS;
    uint64_t delay_add = c->cfg.scale_down_delay_after_add_ms ? c->cfg.scale_down_delay_after_add_ms
                                                              : CA_DELAY_AFTER_ADD_MS;
    ca_cand *cands = hoist_arena_calloc(&L->a, L->n_nodes ? L->n_nodes : 1, sizeof *cands);
    if (!cands)
        return hoist_errf(err, "cluster-autoscaler: out of memory"), -1;
    size_t nc = 0;
    bool draining = false;
    for (size_t i = 0; i < L->n_nodes; i++) {
        ca_node *n = &L->nodes[i];
        if (!n->machine)
            continue;
        draining |= n->machine->state == BL_DRAINING;
        if (n->machine->state != BL_READY || !n->ready) {
            n->machine->unneeded_since_ms = 0;
            continue;
        }
        double u = node_utilization(o, n);
        if (u >= threshold) {
            n->machine->unneeded_since_ms = 0;
            continue;
        }
        cands[nc++] = (ca_cand){i, u};
    }
    qsort(cands, nc, sizeof *cands, cand_cmp);
    size_t checked = 0;
    for (size_t k = 0; k < nc; k++) {
        ca_node *n = &L->nodes[cands[k].node];
        bool unneeded = true;
        for (size_t pi = n->first_pod; pi != SIZE_MAX && unneeded; pi = L->pod_next[pi])
            if (!stays_with_node(o->pods[pi]) && blocks_scale_down(o, o->pods[pi]))
                unneeded = false;
        if (unneeded && n->n_movable > 0) {
            if (checked >= CA_NON_EMPTY_CANDIDATES)
                continue; /* not looked at this loop: its timer stays as it was */
            checked++;
            unneeded = pods_can_move(L, cands[k].node);
        }
        if (!unneeded) {
            n->machine->unneeded_since_ms = 0;
            continue;
        }
        n->removed = true;
        if (!n->machine->unneeded_since_ms)
            n->machine->unneeded_since_ms = now;
    }

    /* deletion */
    if (c->scaled_up && now < c->last_scale_up_ms + delay_add)
        return 0;
    if (c->failed_scale_down && now < c->last_failed_scale_down_ms + CA_DELAY_AFTER_FAILURE_MS)
        return 0;
    if (draining)
        return 0;
    size_t n_empty = 0;
    ca_action *acts = hoist_arena_calloc(&L->a, CA_MAX_EMPTY_BULK_DELETE, sizeof *acts);
    ca_action drain;
    memset(&drain, 0, sizeof drain);
    bool have_drain = false;
    if (!acts)
        return hoist_errf(err, "cluster-autoscaler: out of memory"), -1;
    for (size_t k = 0; k < nc; k++) {
        ca_node *n = &L->nodes[cands[k].node];
        if (!n->removed || now < n->machine->unneeded_since_ms + unneeded_ms)
            continue;
        if (n->n_movable == 0) {
            if (n_empty < CA_MAX_EMPTY_BULK_DELETE)
                acts[n_empty++] = (ca_action){n->machine->id, NULL, 0, NULL, NULL};
        } else if (!have_drain) {
            drain.machine = n->machine->id;
            drain.node = hoist_arena_strdup(&L->a, n->node->name);
            drain.pod_ns = hoist_arena_calloc(&L->a, n->n_movable, sizeof *drain.pod_ns);
            drain.pod_name = hoist_arena_calloc(&L->a, n->n_movable, sizeof *drain.pod_name);
            if (!drain.node || !drain.pod_ns || !drain.pod_name)
                return hoist_errf(err, "cluster-autoscaler: out of memory"), -1;
            for (size_t pi = n->first_pod; pi != SIZE_MAX; pi = L->pod_next[pi]) {
                const hoist_pod *p = o->pods[pi];
                if (stays_with_node(p))
                    continue;
                drain.pod_ns[drain.n_pods] = hoist_arena_strdup(&L->a, p->ns);
                drain.pod_name[drain.n_pods] = hoist_arena_strdup(&L->a, p->name);
                if (!drain.pod_ns[drain.n_pods] || !drain.pod_name[drain.n_pods])
                    return hoist_errf(err, "cluster-autoscaler: out of memory"), -1;
                drain.n_pods++;
            }
            have_drain = true;
        }
    }
    /* from here on the snapshot may change under the sink's calls */
    if (n_empty > 0) {
        for (size_t i = 0; i < n_empty; i++) {
            hoist_err e = {{0}};
            if (bl_fleet_terminate(c->fleet, acts[i].machine, &e) < 0)
                logw(c, e.msg, NULL);
        }
        c->stats.scale_downs++;
        return 0;
    }
    if (!have_drain)
        return 0;
    bl_machine *m = bl_fleet_find(c->fleet, drain.machine);
    if (!m)
        return 0;
    m->state = BL_DRAINING;
    m->drain_started_ms = now;
    const hoist_sink *s = c->env.sink;
    if (s && s->taint)
        (void)s->taint(s->ctx, drain.node, CA_TAINT_TO_BE_DELETED, "", HOIST_TAINT_NO_SCHEDULE, true);
    bool refused = false;
    for (size_t i = 0; i < drain.n_pods && !refused; i++) {
        if (!s || !s->evict)
            break;
        c->stats.evictions++;
        int r = s->evict(s->ctx, drain.pod_ns[i], drain.pod_name[i]);
        if (r != 0) {
            c->stats.evictions_refused++;
            refused = true;
        }
    }
    m = bl_fleet_find(c->fleet, drain.machine);
    if (refused) {
        /* the node is saved; scale-down waits delay-after-failure */
        if (s && s->taint)
            (void)s->taint(s->ctx, drain.node, CA_TAINT_TO_BE_DELETED, "",
                           HOIST_TAINT_NO_SCHEDULE, false);
        if (m && m->state == BL_DRAINING) {
            m->state = BL_READY;
            m->unneeded_since_ms = 0;
        }
        c->failed_scale_down = true;
        c->last_failed_scale_down_ms = now;
        return 0;
    }
    c->stats.scale_downs++;
    return 0;
}

/* Terminate draining machines whose pods are gone, or after the grace period. */
static void finish_drains(ca_ctx *c, ca_loop *L, uint64_t now)
{
    unsigned ids[64];
    size_t k = 0;
    for (size_t i = 0; i < L->n_nodes && k < 64; i++) {
        ca_node *n = &L->nodes[i];
        if (!n->machine || n->machine->state != BL_DRAINING)
            continue;
        if (n->n_movable == 0 || now >= n->machine->drain_started_ms + CA_MAX_GRACEFUL_MS)
            ids[k++] = n->machine->id;
    }
    /* a draining machine whose Node is already gone */
    bl_machine *const *ms;
    size_t n_m = bl_fleet_machines(c->fleet, &ms);
    for (size_t i = 0; i < n_m && k < 64; i++)
        if (ms[i]->state == BL_DRAINING && !ms[i]->node)
            ids[k++] = ms[i]->id;
    for (size_t i = 0; i < k; i++) {
        hoist_err e = {{0}};
        if (bl_fleet_terminate(c->fleet, ids[i], &e) < 0)
            logw(c, e.msg, NULL);
    }
}

static int run_once(ca_ctx *c, uint64_t now, hoist_err *err)
{
    hoist_objects *o = hoist_cluster_objects(&c->cluster);
    if (c->templates_dirty && build_templates(c, o, err) < 0)
        return -1;
    ca_loop L;
    memset(&L, 0, sizeof L);
    hoist_arena_init(&L.a, 0);
    hoist_strmap_init(&L.node_index);
    L.o = o;
    int rc = loop_build(c, &L, err);
    if (rc == 0)
        finish_drains(c, &L, now); /* terminate: answered later, the snapshot stays */
    if (rc == 0) {
        rc = scale_up(c, &L, now, err);
        if (rc == 0) /* no scale-up this loop: look at scale-down */
            rc = scale_down(c, &L, now, err);
        else if (rc > 0)
            rc = 0;
    }
    hoist_strmap_free(&L.node_index);
    hoist_arena_free(&L.a);
    return rc;
}

/* ---- the interface ---- */

static void ca_observe(void *ctx, const hoist_object_event *ev)
{
    ca_ctx *c = ctx;
    hoist_err e = {{0}};
    if (hoist_cluster_apply(&c->cluster, ev, &e) < 0) {
        const hoist_host *h = c->env.host;
        if (HOIST_HOST_HAS(h, log) && h->log)
            h->log(h->ctx, HOIST_LOG_DEBUG, "cluster-autoscaler: object refused: %s", e.msg);
    }
    if (bl_observe(c->fleet, ev))
        c->templates_dirty = true;
}

static int ca_step(void *ctx, uint64_t *wake_at_ms, hoist_err *err)
{
    ca_ctx *c = ctx;
    uint64_t now = c->env.host->now_ms(c->env.host->ctx);
    uint64_t interval = c->cfg.scan_interval_ms ? c->cfg.scan_interval_ms : CA_SCAN_INTERVAL_MS;
    int rc = 0;
    if (!c->started) {
        c->started = true;
        c->next_scan_ms = now + interval;
    } else if (now >= c->next_scan_ms) {
        while (c->next_scan_ms <= now)
            c->next_scan_ms += interval;
        bl_fleet_tick(c->fleet, now);
        rc = run_once(c, now, err);
    }
    if (wake_at_ms)
        *wake_at_ms = c->next_scan_ms;
    return rc;
}

static const hoist_autoscaler_stats *ca_stats(void *ctx)
{
    ca_ctx *c = ctx;
    const hoist_autoscaler_stats *f = bl_fleet_stats(c->fleet);
    uint64_t ups = c->stats.scale_ups, downs = c->stats.scale_downs;
    uint64_t ev = c->stats.evictions, evr = c->stats.evictions_refused;
    c->stats = *f;
    c->stats.scale_ups = ups;
    c->stats.scale_downs = downs;
    c->stats.evictions = ev;
    c->stats.evictions_refused = evr;
    return &c->stats;
}

static void ca_destroy(void *ctx)
{
    ca_ctx *c = ctx;
    if (!c)
        return;
    bl_fleet_free(c->fleet);
    hoist_cluster_free(&c->cluster);
    bl_templates_free(&c->templates);
    hoist_arena_free(&c->tarena);
    for (size_t i = 0; i < c->n_types; i++)
        free(c->types[i]);
    free(c->types);
    for (size_t i = 0; i < c->n_backoff; i++)
        free(c->backoff[i].group);
    free(c->backoff);
    free(c->cluster_name);
    free(c);
}

int hoist_autoscaler_cluster_autoscaler(const hoist_pipeline_env *env, const hoist_ca_config *cfg,
                                        hoist_autoscaler *out, hoist_err *err)
{
    if (!cfg || !cfg->cluster || !*cfg->cluster)
        return hoist_errf(err, "cluster-autoscaler: cluster: a cluster name is required"), -1;
    if (cfg->scale_down_utilization < 0 || cfg->scale_down_utilization > 1)
        return hoist_errf(err, "cluster-autoscaler: scale_down_utilization: must be within 0..1"),
               -1;
    if (cfg->n_instance_types && !cfg->instance_types)
        return hoist_errf(err, "cluster-autoscaler: instance_types: missing"), -1;
    ca_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return hoist_errf(err, "cluster-autoscaler: out of memory"), -1;
    hoist_cluster_init(&c->cluster);
    hoist_arena_init(&c->tarena, 0);
    c->templates_dirty = true;
    c->cfg = *cfg;
    c->cfg.instance_types = NULL;
    c->cluster_name = strdup(cfg->cluster);
    c->cfg.cluster = c->cluster_name;
    if (!c->cluster_name)
        goto oom;
    if (cfg->n_instance_types) {
        c->types = calloc(cfg->n_instance_types, sizeof *c->types);
        if (!c->types)
            goto oom;
        for (size_t i = 0; i < cfg->n_instance_types; i++) {
            if (!cfg->instance_types[i] || !*cfg->instance_types[i]) {
                ca_destroy(c);
                return hoist_errf(err, "cluster-autoscaler: instance_types[%zu]: empty", i), -1;
            }
            if (!(c->types[i] = strdup(cfg->instance_types[i])))
                goto oom;
            c->n_types++;
        }
    }
    bl_fleet_hooks hooks = {c, on_launch_failed};
    c->fleet = bl_fleet_new(env, cfg->cluster, "ca", &hooks, err);
    if (!c->fleet) {
        ca_destroy(c);
        return hoist_err_prefix(err, "cluster-autoscaler"), -1;
    }
    c->env = *env;
    memset(out, 0, sizeof *out);
    out->name = "cluster-autoscaler";
    out->ctx = c;
    out->observe = ca_observe;
    out->step = ca_step;
    out->destroy = ca_destroy;
    out->stats = ca_stats;
    return 0;
oom:
    ca_destroy(c);
    return hoist_errf(err, "cluster-autoscaler: out of memory"), -1;
}
