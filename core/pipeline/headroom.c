/* pipeline/headroom.c - a NodePool's spare capacity and the placeholder pods
 * that buy back a deficit; see headroom.h. */
#include "pipeline/headroom.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/labels.h"
#include "model/taints.h"
#include "model/usage.h"
#include "util/strmap.h"

/* True when node n belongs to NodePool `name` (labels are canonical, so
 * karpenter.sh/nodepool was already folded into hoist.dev/nodepool). */
static bool node_in_pool(const hoist_node *n, const char *name)
{
    const char *v = hoist_labels_get(&n->labels, HOIST_LABEL_NODEPOOL);
    return v && strcmp(v, name) == 0;
}

static int compare_pool_type_name(const void *key, const void *elem)
{
    const hoist_pool_type *pt = elem;
    return strcmp(key, pt->type->name);
}

/* pool's entry for the type called `name`, or NULL (pool->items is sorted by name). */
static const hoist_pool_type *find_pool_type(const hoist_pool_types *pool, const char *name)
{
    if (!pool || pool->n == 0)
        return NULL;
    return bsearch(name, pool->items, pool->n, sizeof *pool->items, compare_pool_type_name);
}

int hoist_headroom_usage_compute(const hoist_objects *o, const hoist_nodepool *np,
                                 const hoist_plan *plan, const hoist_pool_types *pool,
                                 hoist_headroom_usage *out, hoist_err *err)
{
    memset(out, 0, sizeof *out);
    hoist_strmap mine; /* names of np's nodes (borrowed from the snapshot) */
    hoist_strmap_init(&mine);
    for (size_t i = 0; i < o->n_nodes; i++) {
        const hoist_node *n = o->nodes[i];
        if (!n->name || !node_in_pool(n, np->name))
            continue;
        if (hoist_strmap_put(&mine, n->name, (int64_t)i) < 0) {
            hoist_strmap_free(&mine);
            return hoist_errf(err, "headroom: NodePool %s: out of memory", np->name);
        }
        out->n_nodes++;
        hoist_resources_add(&out->allocatable, &n->allocatable);
    }
    int64_t unused;
    /* what runs on them: the owner's usage index, or one built now */
    hoist_usage local;
    hoist_usage_init(&local);
    const hoist_usage *usage = o->usage;
    if (!usage && hoist_usage_build(&local, o) < 0) {
        hoist_usage_free(&local);
        hoist_strmap_free(&mine);
        return hoist_errf(err, "headroom: NodePool %s: out of memory", np->name);
    }
    usage = usage ? usage : &local;
    for (size_t i = 0; i < o->n_nodes; i++) {
        const hoist_node_usage *u;
        if (o->nodes[i]->name && hoist_strmap_get(&mine, o->nodes[i]->name, &unused) &&
            (u = hoist_usage_of(usage, o->nodes[i]->name)))
            hoist_resources_add(&out->requested, &u->requested);
    }
    hoist_usage_free(&local);
    if (plan) {
        for (size_t i = 0; i < plan->n_existing; i++) {
            const hoist_plan_existing *e = &plan->existing[i];
            if (!e->node || !e->node->name || !hoist_strmap_get(&mine, e->node->name, &unused))
                continue;
            for (size_t k = 0; k < e->n_pods; k++)
                if (!e->pods[k]->placeholder)
                    hoist_resources_add(&out->requested, &e->pods[k]->requests);
        }
    }
    hoist_strmap_free(&mine);
    if (!plan)
        return 0;
    for (size_t i = 0; i < plan->n_claims; i++) {
        const hoist_plan_claim *c = &plan->claims[i];
        if (!c->nodepool || strcmp(c->nodepool->name, np->name) != 0)
            continue;
        const char *type = c->chosen.type ? c->chosen.type->name : NULL;
        if (!type)
            return hoist_errf(err, "headroom: NodePool %s: claim %zu has no chosen type",
                              np->name, i);
        const hoist_pool_type *pt = find_pool_type(pool, type);
        if (!pt)
            return hoist_errf(err,
                              "headroom: NodePool %s: claim %zu's type %s is not among the "
                              "NodePool's instance types",
                              np->name, i, type);
        out->n_nodes++;
        hoist_resources_add(&out->allocatable, &pt->allocatable);
        /* the claim's requests: its pods plus the DaemonSet pods that will run
         * there (as bound DaemonSet pods count on real nodes), less its
         * placeholders: the capacity they hold is the spare itself */
        hoist_resources used = c->requests;
        for (size_t k = 0; k < c->n_pods; k++)
            if (c->pods[k]->placeholder)
                hoist_resources_sub(&used, &c->pods[k]->requests);
        hoist_resources_add(&out->requested, &used);
    }
    return 0;
}

/* a - b, saturating at the int64 limits. */
static hoist_milli sat_sub(hoist_milli a, hoist_milli b)
{
    hoist_milli r;
    if (__builtin_sub_overflow(a, b, &r))
        return b < 0 ? INT64_MAX : INT64_MIN;
    return r;
}

bool hoist_headroom_deficit(const hoist_headroom_usage *u, const hoist_resources *want,
                            hoist_resources *deficit)
{
    bool any = false;
    memset(deficit, 0, sizeof *deficit);
    for (int i = 0; i < HOIST_RES_MAX; i++) {
        if (want->v[i] <= 0)
            continue;
        hoist_milli spare = sat_sub(u->allocatable.v[i], u->requested.v[i]);
        hoist_milli d = sat_sub(want->v[i], spare);
        if (d > 0) {
            deficit->v[i] = d;
            any = true;
        }
    }
    return any;
}

/* ---- placeholders ---------------------------------------------------------- */

/* The step a slot's placeholder requests are rounded to: milli-CPU for cpu,
 * whole units (bytes, GPUs, ...) for every other resource. */
static hoist_milli step_of(int slot)
{
    return slot == HOIST_RES_CPU ? 1 : 1000;
}

/* ceil(a / b) for a >= 0, b > 0. */
static int64_t div_up(int64_t a, int64_t b)
{
    return a / b + (a % b != 0);
}

/* Pieces type pt needs so that each share of `units` (in steps) fits half its
 * allocatable; INT64_MAX when it has none of some resource in deficit. */
static int64_t pieces_for(const hoist_pool_type *pt, const int64_t units[HOIST_RES_MAX])
{
    int64_t k = 1;
    for (int i = 0; i < HOIST_RES_MAX; i++) {
        if (i == HOIST_RES_PODS || units[i] == 0)
            continue;
        int64_t half = pt->allocatable.v[i] / step_of(i) / 2;
        if (half <= 0)
            return INT64_MAX;
        int64_t need = div_up(units[i], half);
        if (need > k)
            k = need;
    }
    return k;
}

int hoist_headroom_placeholders(hoist_arena *a, const hoist_resource_names *names,
                                const hoist_nodepool *np, const hoist_pool_types *pool,
                                const hoist_resources *deficit, hoist_pod ***out, size_t *n,
                                hoist_err *err)
{
    *out = NULL;
    *n = 0;
    /* the deficit in steps, rounded up (memory to whole bytes) */
    int64_t units[HOIST_RES_MAX];
    bool any = false;
    for (int i = 0; i < HOIST_RES_MAX; i++) {
        units[i] = deficit->v[i] > 0 ? div_up(deficit->v[i], step_of(i)) : 0;
        if (units[i] > INT64_MAX / 1000) /* so share * step cannot overflow */
            units[i] = INT64_MAX / 1000;
        any = any || units[i] > 0;
    }
    if (!any)
        return 0;
    if (!pool || pool->n == 0)
        return hoist_errf(err, "headroom: NodePool %s: no instance type to size placeholders on",
                          np->name);
    /* the type that needs the fewest pieces (the largest for this deficit);
     * on a tie the first by name */
    int64_t k = INT64_MAX;
    for (size_t t = 0; t < pool->n; t++) {
        int64_t kt = pieces_for(&pool->items[t], units);
        if (kt < k)
            k = kt;
    }
    if (k == INT64_MAX) {
        int slot = 0;
        for (int i = 0; i < HOIST_RES_MAX; i++)
            if (i != HOIST_RES_PODS && units[i] > 0) {
                bool offered = false;
                for (size_t t = 0; t < pool->n && !offered; t++)
                    offered = pool->items[t].allocatable.v[i] / step_of(i) / 2 > 0;
                if (!offered) {
                    slot = i;
                    break;
                }
            }
        const char *rname = names && slot < names->count && names->names[slot]
                                ? names->names[slot]
                                : "a resource";
        return hoist_errf(err,
                          "headroom: NodePool %s: no instance type has enough %s to hold "
                          "placeholders",
                          np->name, rname);
    }
    /* a pods headroom is met by the number of placeholders (each is one pod) */
    if (units[HOIST_RES_PODS] > k)
        k = units[HOIST_RES_PODS];
    if (k > HOIST_HEADROOM_MAX_PLACEHOLDERS)
        k = HOIST_HEADROOM_MAX_PLACEHOLDERS;

    hoist_pod **pods = hoist_arena_calloc(a, (size_t)k, sizeof *pods);
    hoist_pod *all = hoist_arena_calloc(a, (size_t)k, sizeof *all);
    hoist_toleration *tol = hoist_arena_calloc(a, 1, sizeof *tol);
    hoist_labels selector;
    hoist_kv pair = {HOIST_LABEL_NODEPOOL, np->name};
    if (!pods || !all || !tol || hoist_labels_from_pairs(a, &pair, 1, &selector) < 0)
        goto oom;
    tol->key = "";
    tol->op = HOIST_TOLERATE_EXISTS;
    tol->value = "";
    tol->effect = -1;
    tol->toleration_seconds = -1;
    for (int64_t j = 0; j < k; j++) {
        hoist_pod *p = &all[j];
        p->src.file = "headroom";
        p->src.index = (int)j;
        p->ns = "hoist-system";
        p->name = hoist_arena_sprintf(a, "headroom-%s-%lld", np->name, (long long)j);
        if (!p->name)
            goto oom;
        p->uid = "";
        p->safe_to_evict = -1;
        p->phase = "";
        p->scheduler_name = "default-scheduler";
        p->node_selector = selector;
        p->tolerations.n = 1;
        p->tolerations.items = tol;
        p->placeholder = true;
        /* equal shares in steps; the first (units mod k) pods take one step
         * more, so every share is at most ceil(units / k) */
        for (int i = 0; i < HOIST_RES_MAX; i++) {
            if (i == HOIST_RES_PODS || units[i] == 0)
                continue;
            int64_t share = units[i] / k + (j < units[i] % k);
            p->requests.v[i] = share * step_of(i);
        }
        p->requests.v[HOIST_RES_PODS] = HOIST_MILLI(1);
        pods[j] = p;
    }
    *out = pods;
    *n = (size_t)k;
    return 0;
oom:
    return hoist_errf(err, "headroom: NodePool %s: out of memory", np->name);
}
