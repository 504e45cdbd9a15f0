/*
 * sim/pdb.c - incremental PodDisruptionBudget counts (see pdb.h).
 */
#include "sim/pdb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/pdb_eval.h"

void hoist_sim_pdbs_init(hoist_sim_pdbs *t)
{
    memset(t, 0, sizeof *t);
    hoist_strmap_init(&t->by_ns);
    hoist_strmap_init(&t->by_pod);
}

/* Drop every record and PDB (arrays kept). */
static void clear(hoist_sim_pdbs *t)
{
    for (size_t i = 0; i < t->n_recs; i++) {
        free(t->recs[i].key);
        free(t->recs[i].pdbs);
    }
    t->n_recs = 0;
    t->n_free = 0;
    t->n_pdbs = 0;
    hoist_strmap_clear(&t->by_ns);
    hoist_strmap_clear(&t->by_pod);
}

void hoist_sim_pdbs_free(hoist_sim_pdbs *t)
{
    clear(t);
    free(t->recs);
    free(t->free_recs);
    free(t->pdbs);
    hoist_strmap_free(&t->by_ns);
    hoist_strmap_free(&t->by_pod);
    memset(t, 0, sizeof *t);
}

static const char *ns_or_default(const char *ns)
{
    return ns && *ns ? ns : "default";
}

static char *pod_key(const char *ns, const char *name)
{
    size_t a = strlen(ns), b = strlen(name);
    char *k = malloc(a + b + 2);
    if (k) {
        memcpy(k, ns, a);
        k[a] = '/';
        memcpy(k + a + 1, name, b + 1);
    }
    return k;
}

/* Take back what pod ns/name contributed, if anything. */
static void unaccount(hoist_sim_pdbs *t, const char *ns, const char *name)
{
    char buf[600];
    snprintf(buf, sizeof buf, "%s/%s", ns, name);
    int64_t at;
    if (!hoist_strmap_get(&t->by_pod, buf, &at))
        return;
    hoist_sim_pdb_pod *r = &t->recs[at];
    for (uint32_t i = 0; i < r->n; i++) {
        hoist_sim_pdb *e = &t->pdbs[r->pdbs[i]];
        e->expected -= r->expected;
        e->healthy -= r->healthy;
    }
    hoist_strmap_del(&t->by_pod, r->key);
    free(r->key);
    r->key = NULL;
    r->n = 0;
    /* cannot fail: the free list has room for every record (see new_record) */
    t->free_recs[t->n_free++] = (size_t)at;
}

/* A free record index, or SIZE_MAX when out of memory. */
static size_t new_record(hoist_sim_pdbs *t)
{
    if (t->n_free > 0)
        return t->free_recs[--t->n_free];
    if (t->n_recs == t->cap_recs) {
        size_t ncap = t->cap_recs ? t->cap_recs * 2 : 64;
        hoist_sim_pdb_pod *g = realloc(t->recs, ncap * sizeof *g);
        if (!g)
            return SIZE_MAX;
        t->recs = g;
        size_t *f = realloc(t->free_recs, ncap * sizeof *f);
        if (!f)
            return SIZE_MAX;
        t->free_recs = f;
        t->cap_recs = ncap;
        t->cap_free = ncap;
    }
    memset(&t->recs[t->n_recs], 0, sizeof t->recs[0]);
    return t->n_recs++;
}

/* Count pod p (of the world) in the PDBs that select it. 0 or -1. */
static int account(hoist_sim_pdbs *t, const hoist_pod *p)
{
    const char *ns = ns_or_default(p->ns);
    int64_t start;
    if (!hoist_strmap_get(&t->by_ns, ns, &start))
        return 0;
    size_t at = SIZE_MAX;
    for (size_t i = (size_t)start; i < t->n_pdbs && strcmp(t->pdbs[i].pdb->ns, ns) == 0; i++) {
        if (!hoist_pdb_selects(t->pdbs[i].pdb, p))
            continue;
        if (at == SIZE_MAX) {
            at = new_record(t);
            if (at == SIZE_MAX)
                return -1;
            hoist_sim_pdb_pod *r = &t->recs[at];
            r->key = pod_key(ns, p->name);
            if (!r->key || hoist_strmap_put(&t->by_pod, r->key, (int64_t)at) < 0) {
                free(r->key);
                r->key = NULL;
                t->free_recs[t->n_free++] = at;
                return -1;
            }
            r->healthy = hoist_pdb_pod_healthy(p);
            r->expected = !p->finished;
        }
        hoist_sim_pdb_pod *r = &t->recs[at];
        if (r->n == r->cap) {
            uint32_t ncap = r->cap ? r->cap * 2 : 2;
            uint32_t *g = realloc(r->pdbs, ncap * sizeof *g);
            if (!g)
                return -1; /* the record stays consistent with what it counted */
            r->pdbs = g;
            r->cap = ncap;
        }
        r->pdbs[r->n++] = (uint32_t)i;
        t->pdbs[i].expected += r->expected;
        t->pdbs[i].healthy += r->healthy;
    }
    return 0;
}

static int by_ns_name(const void *a, const void *b)
{
    const hoist_pdb *x = ((const hoist_sim_pdb *)a)->pdb, *y = ((const hoist_sim_pdb *)b)->pdb;
    int c = strcmp(x->ns, y->ns);
    return c ? c : strcmp(x->name, y->name);
}

int hoist_sim_pdbs_rebuild(hoist_sim_pdbs *t, hoist_cluster *c)
{
    clear(t);
    t->generation++;
    t->stale = true;
    const hoist_objects *o = hoist_cluster_objects(c);
    if (o->n_pdbs > t->cap_pdbs) {
        hoist_sim_pdb *g = realloc(t->pdbs, o->n_pdbs * sizeof *g);
        if (!g)
            return -1;
        t->pdbs = g;
        t->cap_pdbs = o->n_pdbs;
    }
    for (size_t i = 0; i < o->n_pdbs; i++) {
        if (!o->pdbs[i]->ns || !o->pdbs[i]->name)
            continue;
        t->pdbs[t->n_pdbs++] = (hoist_sim_pdb){o->pdbs[i], 0, 0};
    }
    if (t->n_pdbs > 1)
        qsort(t->pdbs, t->n_pdbs, sizeof t->pdbs[0], by_ns_name);
    for (size_t i = 0; i < t->n_pdbs; i++)
        if ((i == 0 || strcmp(t->pdbs[i - 1].pdb->ns, t->pdbs[i].pdb->ns) != 0) &&
            hoist_strmap_put(&t->by_ns, t->pdbs[i].pdb->ns, (int64_t)i) < 0)
            return -1;
    for (size_t i = 0; t->n_pdbs > 0 && i < o->n_pods; i++)
        if (account(t, o->pods[i]) < 0)
            return -1;
    t->stale = false;
    return 0;
}

int hoist_sim_pdbs_changed(hoist_sim_pdbs *t, hoist_cluster *c, const char *kind, const char *ns,
                           const char *name)
{
    bool is_pod = !kind || strcmp(kind, "Pod") == 0;
    if (t->stale || (kind && strcmp(kind, "PodDisruptionBudget") == 0))
        return hoist_sim_pdbs_rebuild(t, c);
    if (!is_pod || t->n_pdbs == 0 || !name)
        return 0;
    ns = ns_or_default(ns);
    unaccount(t, ns, name);
    const hoist_pod *p = hoist_cluster_find_pod(c, ns, name);
    if (p && account(t, p) < 0) {
        t->stale = true;
        return -1;
    }
    return 0;
}

const uint32_t *hoist_sim_pdbs_of(const hoist_sim_pdbs *t, const char *ns, const char *name,
                                  size_t *n)
{
    *n = 0;
    if (t->n_pdbs == 0 || !name)
        return NULL;
    char buf[600];
    snprintf(buf, sizeof buf, "%s/%s", ns_or_default(ns), name);
    int64_t at;
    if (!hoist_strmap_get(&t->by_pod, buf, &at))
        return NULL;
    *n = t->recs[at].n;
    return t->recs[at].pdbs;
}

int hoist_sim_pdbs_check(const hoist_sim_pdbs *t, const hoist_pod *p, char *why, size_t cap)
{
    if (cap)
        why[0] = '\0';
    if (!hoist_pdb_pod_healthy(p))
        return 0;
    size_t n;
    const uint32_t *idx = hoist_sim_pdbs_of(t, p->ns, p->name, &n);
    /* indexes ascend, and a pod's PDBs share its namespace: the first
     * refusing one is the first by name */
    for (size_t i = 0; i < n; i++) {
        const hoist_sim_pdb *e = &t->pdbs[idx[i]];
        if (hoist_pdb_disruptions_allowed(e->pdb, e->expected, e->healthy) > 0)
            continue;
        hoist_pdb_refusal(e->pdb, e->expected, e->healthy, why, cap);
        return 1;
    }
    return 0;
}

bool hoist_sim_pdbs_violated(const hoist_sim_pdbs *t, size_t i)
{
    if (i >= t->n_pdbs)
        return false;
    const hoist_sim_pdb *e = &t->pdbs[i];
    return e->healthy < hoist_pdb_desired_healthy(e->pdb, e->expected);
}
