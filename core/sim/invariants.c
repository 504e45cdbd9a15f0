/*
 * sim/invariants.c - the simulator's safety invariants (see invariants.h).
 */
#include "sim/invariants.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/pdb_eval.h"
#include "pipeline/consolidate.h"

void hoist_invariants_init(hoist_invariants *v, uint64_t epoch_ms, bool verbose)
{
    memset(v, 0, sizeof *v);
    hoist_strmap_init(&v->disrupting);
    hoist_strmap_init(&v->pools);
    v->epoch_ms = epoch_ms;
    v->verbose = verbose;
}

void hoist_invariants_free(hoist_invariants *v)
{
    for (size_t i = 0; i < v->n_nodes; i++)
        free(v->nodes[i].node);
    free(v->nodes);
    for (size_t i = 0; i < v->n_pools; i++)
        free(v->pool_names[i]);
    free(v->pool_names);
    free(v->pool_count);
    free(v->touched);
    hoist_strmap_free(&v->disrupting);
    hoist_strmap_free(&v->pools);
    memset(v, 0, sizeof *v);
}

const char *hoist_invariant_kind_name(hoist_invariant_kind k)
{
    switch (k) {
    case HOIST_INVARIANT_PDB: return "pdb";
    case HOIST_INVARIANT_BUDGET: return "budget";
    default: return "churn";
    }
}

static void violation(hoist_invariants *v, hoist_invariant_kind kind, uint64_t now_ms,
                      const char *object, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void violation(hoist_invariants *v, hoist_invariant_kind kind, uint64_t now_ms,
                      const char *object, const char *fmt, ...)
{
    char detail[sizeof v->listed[0].detail];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    if (v->n_listed < HOIST_INVARIANTS_LISTED) {
        hoist_invariant_violation *x = &v->listed[v->n_listed++];
        x->at_ms = now_ms;
        x->kind = kind;
        snprintf(x->object, sizeof x->object, "%s", object);
        snprintf(x->detail, sizeof x->detail, "%s", detail);
    }
    if (v->verbose)
        fprintf(stderr, "[%10.3f] invariant %s violated: %s: %s\n",
                (double)(now_ms - v->epoch_ms) / 1000.0, hoist_invariant_kind_name(kind), object,
                detail);
}

/* ---- PodDisruptionBudgets ------------------------------------------------- */

int hoist_invariants_evicting(hoist_invariants *v, const hoist_sim_pdbs *t, const hoist_pod *p)
{
    if (!hoist_pdb_pod_healthy(p))
        return 0; /* an unhealthy pod takes nothing from a budget */
    size_t n;
    const uint32_t *idx = hoist_sim_pdbs_of(t, p->ns, p->name, &n);
    if (n == 0)
        return 0;
    if (v->touched_generation != t->generation) {
        v->n_touched = 0;
        v->touched_generation = t->generation;
    }
    for (size_t i = 0; i < n; i++) {
        bool seen = false;
        for (size_t k = 0; k < v->n_touched && !seen; k++)
            seen = v->touched[k] == idx[i];
        if (seen)
            continue;
        if (v->n_touched == v->cap_touched) {
            size_t ncap = v->cap_touched ? v->cap_touched * 2 : 8;
            uint32_t *g = realloc(v->touched, ncap * sizeof *g);
            if (!g)
                return -1;
            v->touched = g;
            v->cap_touched = ncap;
        }
        v->touched[v->n_touched++] = idx[i];
    }
    return 0;
}

void hoist_invariants_after_event(hoist_invariants *v, const hoist_sim_pdbs *t, uint64_t now_ms)
{
    if (v->n_touched == 0)
        return;
    /* a PDB changed during the event: the indexes are stale, and the
     * evictions were judged against the PDBs as they were */
    if (v->touched_generation != t->generation) {
        v->n_touched = 0;
        return;
    }
    for (size_t k = 0; k < v->n_touched; k++) {
        size_t i = v->touched[k];
        v->checks++;
        if (!hoist_sim_pdbs_violated(t, i))
            continue;
        const hoist_sim_pdb *e = &t->pdbs[i];
        v->pdb_violations++;
        char object[160], why[200];
        snprintf(object, sizeof object, "PodDisruptionBudget %s/%s", e->pdb->ns, e->pdb->name);
        hoist_pdb_refusal(e->pdb, e->expected, e->healthy, why, sizeof why);
        /* "would violate ...: 1 of 3 healthy, minAvailable 2" -> the counts */
        const char *counts = strstr(why, ": ");
        violation(v, HOIST_INVARIANT_PDB, now_ms, object,
                  "voluntary evictions left %s", counts ? counts + 2 : why);
    }
    v->n_touched = 0;
}

/* ---- disruption budgets and churn ----------------------------------------- */

size_t hoist_invariants_budget_allows(const hoist_nodepool *np, unsigned reasons,
                                      size_t pool_nodes, int64_t now_s)
{
    size_t most = 0;
    for (unsigned bit = 1; bit <= HOIST_REASON_ALL; bit <<= 1) {
        if (!(reasons & bit))
            continue;
        size_t tightest = SIZE_MAX;
        for (size_t i = 0; i < np->n_budgets; i++) {
            const hoist_budget *b = &np->budgets[i];
            if (!(b->reasons & bit))
                continue;
            if (b->schedule) {
                hoist_err err;
                if (hoist_cron_active(b->schedule, b->duration, now_s, &err) == 0)
                    continue; /* inactive; a malformed schedule (-1) counts as active */
            }
            size_t n = b->nodes < 0 ? 0 : (size_t)b->nodes;
            if (b->nodes_is_percent)
                n = (n * pool_nodes + 99) / 100;
            if (n < tightest)
                tightest = n;
        }
        if (tightest > most)
            most = tightest;
    }
    return most;
}

/* Index of NodePool `name` in the checker's table (added when new), or
 * SIZE_MAX when out of memory. */
static size_t pool_index(hoist_invariants *v, const char *name)
{
    int64_t at;
    if (hoist_strmap_get(&v->pools, name, &at))
        return (size_t)at;
    if (v->n_pools == v->cap_pools) {
        size_t ncap = v->cap_pools ? v->cap_pools * 2 : 4;
        char **g = realloc(v->pool_names, ncap * sizeof *g);
        if (!g)
            return SIZE_MAX;
        v->pool_names = g;
        size_t *c = realloc(v->pool_count, ncap * sizeof *c);
        if (!c)
            return SIZE_MAX;
        v->pool_count = c;
        v->cap_pools = ncap;
    }
    char *copy = strdup(name);
    if (!copy || hoist_strmap_put(&v->pools, copy, (int64_t)v->n_pools) < 0) {
        free(copy);
        return SIZE_MAX;
    }
    v->pool_names[v->n_pools] = copy;
    v->pool_count[v->n_pools] = 0;
    return v->n_pools++;
}

bool hoist_invariants_disrupting(const hoist_invariants *v, const char *name)
{
    int64_t at;
    return name && hoist_strmap_get(&v->disrupting, name, &at);
}

int hoist_invariants_disrupt_start(hoist_invariants *v, const hoist_invariant_node *n,
                                   uint64_t now_ms)
{
    if (!n->name || hoist_invariants_disrupting(v, n->name))
        return 0;
    if (v->n_nodes == v->cap_nodes) {
        size_t ncap = v->cap_nodes ? v->cap_nodes * 2 : 16;
        struct hoist_invariant_disruption *g = realloc(v->nodes, ncap * sizeof *g);
        if (!g)
            return -1;
        v->nodes = g;
        v->cap_nodes = ncap;
    }
    struct hoist_invariant_disruption *d = &v->nodes[v->n_nodes];
    d->node = strdup(n->name);
    d->pool = SIZE_MAX;
    d->counted = false;
    if (!d->node || hoist_strmap_put(&v->disrupting, d->node, (int64_t)v->n_nodes) < 0) {
        free(d->node);
        return -1;
    }
    v->n_nodes++;
    const hoist_nodepool *np = n->nodepool;
    if (n->noticed || !np)
        return 0; /* involuntary, or not a NodePool's: budgets do not apply */
    d->pool = pool_index(v, np->name);
    if (d->pool == SIZE_MAX)
        return -1;
    d->counted = true;
    size_t now_count = ++v->pool_count[d->pool];
    if (now_count > v->peak_disrupting)
        v->peak_disrupting = now_count;
    uint64_t age_ms = now_ms > n->launched_ms ? now_ms - n->launched_ms : 0;
    if (np->expire_after != HOIST_NEVER && np->expire_after >= 0 &&
        age_ms >= (uint64_t)np->expire_after * 1000u)
        return 0; /* expired: forceful, counted but not held back */
    char object[160];
    snprintf(object, sizeof object, "Node %s", n->name);
    v->checks++;
    unsigned reasons = n->tainted ? (HOIST_REASON_DRIFTED | HOIST_REASON_UNDERUTILIZED)
                                  : HOIST_REASON_ALL;
    size_t allowed = hoist_invariants_budget_allows(np, reasons, n->pool_machines,
                                                    (int64_t)(now_ms / 1000));
    if (allowed != SIZE_MAX && now_count > allowed) {
        v->budget_violations++;
        violation(v, HOIST_INVARIANT_BUDGET, now_ms, object,
                  "NodePool %s: %zu nodes disrupted at once, its budgets allow %zu "
                  "(of %zu machines)", np->name, now_count, allowed, n->pool_machines);
    }
    bool never = np->consolidate_after == HOIST_NEVER || np->consolidate_after < 0;
    uint64_t window_ms = never ? UINT64_MAX : (uint64_t)np->consolidate_after * 1000u;
    if (never || age_ms < window_ms) {
        v->churn++;
        if (never)
            violation(v, HOIST_INVARIANT_CHURN, now_ms, object,
                      "removed by hoist %.1f s after its launch; NodePool %s has "
                      "consolidateAfter Never", (double)age_ms / 1000.0, np->name);
        else
            violation(v, HOIST_INVARIANT_CHURN, now_ms, object,
                      "removed by hoist %.1f s after its launch, within NodePool %s's "
                      "consolidateAfter %lld s", (double)age_ms / 1000.0, np->name,
                      (long long)np->consolidate_after);
    }
    return 0;
}

void hoist_invariants_disrupt_end(hoist_invariants *v, const char *name)
{
    int64_t at;
    if (!name || !hoist_strmap_get(&v->disrupting, name, &at))
        return;
    struct hoist_invariant_disruption *d = &v->nodes[at];
    hoist_strmap_del(&v->disrupting, d->node);
    if (d->counted && d->pool < v->n_pools && v->pool_count[d->pool] > 0)
        v->pool_count[d->pool]--;
    free(d->node);
    d->node = NULL;
}
