/*
 * sim/pdb.h - the simulated world's PodDisruptionBudgets, counted
 * incrementally, so that an eviction is judged in O(PDBs of the pod's
 * namespace) instead of a walk over every pod.
 *
 * The tracker watches a hoist_cluster (the world). Its owner calls
 * hoist_sim_pdbs_changed after every change of a Pod or a
 * PodDisruptionBudget (apply, bind, delete). For each PDB it keeps the
 * number of pods it selects that are not finished (expected) and of those
 * the healthy ones (model/pdb_eval.h gives the rules); for each selected
 * pod, which PDBs count it and whether it counted as healthy, so its next
 * change first takes back exactly what it gave.
 *
 * Cost: a pod change costs O(PDBs in its namespace) (nothing at all while
 * the world has no PDB); a PDB change rebuilds the counts with one walk over
 * the pods (PDBs change rarely; a trace is mostly pods).
 *
 * PDB pointers are borrowed from the cluster's snapshot: a PDB's decoded
 * object lives until that PDB is updated or deleted, and the owner reports
 * exactly those changes, upon which the tracker re-reads them.
 */
#ifndef HOIST_SIM_PDB_H
#define HOIST_SIM_PDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/objects.h"
#include "state/cluster.h"
#include "util/strmap.h"

/* One PDB and its counts. */
typedef struct hoist_sim_pdb {
    const hoist_pdb *pdb;   /* borrowed from the world */
    int32_t expected;       /* selected pods not finished */
    int32_t healthy;        /* of those, healthy ones */
} hoist_sim_pdb;

/* What one selected pod contributes (private; public for sizing). */
typedef struct hoist_sim_pdb_pod {
    char *key;              /* "ns/name" (owned; NULL = free record) */
    bool healthy;           /* counted as healthy */
    bool expected;          /* counted as expected (not finished) */
    uint32_t n, cap;
    uint32_t *pdbs;         /* indexes into pdbs[] */
} hoist_sim_pdb_pod;

typedef struct hoist_sim_pdbs {
    size_t n_pdbs, cap_pdbs;
    hoist_sim_pdb *pdbs;    /* sorted by namespace, then name */
    hoist_strmap by_ns;     /* namespace -> index of its first PDB (keys: the PDBs' ns) */
    hoist_strmap by_pod;    /* "ns/name" -> record (keys: records' key) */
    size_t n_recs, cap_recs;
    hoist_sim_pdb_pod *recs;
    size_t n_free, cap_free;
    size_t *free_recs;      /* indexes of free records */
    bool stale;             /* out of memory once: rebuild at the next change */
    uint64_t generation;    /* bumped by every rebuild: pdbs[] indexes change */
} hoist_sim_pdbs;

/* Prepare an empty tracker (allocates nothing). */
void hoist_sim_pdbs_init(hoist_sim_pdbs *t);
/* Free everything. */
void hoist_sim_pdbs_free(hoist_sim_pdbs *t);

/* Object kind ns/name of world c changed (added, updated, bound or
 * deleted; c already shows the change). Kinds other than Pod and
 * PodDisruptionBudget are ignored. 0, or -1 when out of memory (the
 * tracker is then rebuilt at the next change). */
int hoist_sim_pdbs_changed(hoist_sim_pdbs *t, hoist_cluster *c, const char *kind, const char *ns,
                           const char *name);

/* Recount everything from c (what a PDB change does). 0 or -1. */
int hoist_sim_pdbs_rebuild(hoist_sim_pdbs *t, hoist_cluster *c);

/* Whether evicting pod p of the world is allowed now: 0 yes, 1 refused with
 * the reason in why (model/pdb_eval.h's wording). O(PDBs of p's namespace). */
int hoist_sim_pdbs_check(const hoist_sim_pdbs *t, const hoist_pod *p, char *why, size_t cap);

/* The PDBs counting pod ns/name now: *n indexes into t->pdbs (borrowed,
 * valid until the next change), NULL with *n = 0 when none. */
const uint32_t *hoist_sim_pdbs_of(const hoist_sim_pdbs *t, const char *ns, const char *name,
                                  size_t *n);

/* Whether the PDB at index i has fewer healthy pods than it requires. */
bool hoist_sim_pdbs_violated(const hoist_sim_pdbs *t, size_t i);

#endif
