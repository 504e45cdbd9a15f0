/*
 * sim/invariants.h - safety invariants of a simulated run, checked as the
 * world changes (hoist_sim_config.check_invariants):
 *
 *   pdb     no voluntary eviction leaves a PodDisruptionBudget with fewer
 *           healthy pods than it requires: after each event, every PDB that
 *           counted a healthy pod evicted voluntarily during the event must
 *           still have healthy >= desired (model/pdb_eval.h). One violation
 *           per PDB and event.
 *   budget  a NodePool's disruption budgets are never exceeded: when a node
 *           starts being disrupted for a voluntary reason (it is tainted
 *           hoist.dev/disrupted, or its machine is terminated, and neither a
 *           spot interruption notice nor expiry explains it), the nodes of
 *           its NodePool being disrupted (voluntary ones and expiries, whose
 *           disruption counts against budgets though budgets do not hold it
 *           back) must be <= what the budgets allow at that instant: per
 *           reason the tightest active budget (count, or percent of the
 *           NodePool's machines rounded up; a schedule that does not parse is
 *           taken as active), no active budget meaning no limit. The count
 *           only grows when a node starts, so checking then is checking at
 *           every instant (a schedule that closes while nodes are draining
 *           does not make them violations: budgets limit starting
 *           disruptions, as Karpenter's do).
 *           The world does not know hoist's reason, so it takes the most
 *           permissive of the reasons hoist could have had: a node tainted
 *           first (pods to move) is "Drifted" or "Underutilized", a node
 *           terminated without a taint any of "Empty", "Drifted",
 *           "Underutilized". A node counts as expired when its machine is at
 *           least expireAfter old (launch time, which is earlier than the
 *           Node's creation, so hoist never calls a node expired that the
 *           checker does not).
 *   churn   no machine is removed by hoist's own voluntary decision within
 *           its NodePool's consolidateAfter of its launch (consolidateAfter
 *           Never: any voluntary removal counts).
 *
 * Work per event is O(what changed): the PDBs of the evicted pods, the
 * NodePool of a node that started or ended being disrupted.
 */
#ifndef HOIST_SIM_INVARIANTS_H
#define HOIST_SIM_INVARIANTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/objects.h"
#include "sim/pdb.h"
#include "util/strmap.h"

typedef enum hoist_invariant_kind {
    HOIST_INVARIANT_PDB = 0,
    HOIST_INVARIANT_BUDGET,
    HOIST_INVARIANT_CHURN
} hoist_invariant_kind;

/* One violation, for the log and the run's stats. */
typedef struct hoist_invariant_violation {
    uint64_t at_ms;                 /* virtual time */
    hoist_invariant_kind kind;
    char object[160];               /* "PodDisruptionBudget ns/name", "Node name" */
    char detail[240];               /* what was wrong */
} hoist_invariant_violation;

/* Violations listed in full (the rest only counted). */
#define HOIST_INVARIANTS_LISTED 8

/* A node starting a disruption, as the world sees it. */
typedef struct hoist_invariant_node {
    const char *name;               /* the Node */
    const hoist_nodepool *nodepool; /* its NodePool (borrowed), or NULL: not checked */
    uint64_t launched_ms;           /* its machine's launch */
    size_t pool_machines;           /* machines of that NodePool not gone (percent budgets) */
    bool noticed;                   /* a spot interruption notice came: involuntary */
    bool tainted;                   /* it starts by the disrupted taint (else by termination) */
} hoist_invariant_node;

typedef struct hoist_invariants {
    uint64_t pdb_violations, budget_violations, churn;
    uint64_t checks;                /* checks made (evaluated PDBs and disruption starts) */
    size_t peak_disrupting;         /* most nodes of one NodePool counted as disrupting at once */
    size_t n_listed;
    hoist_invariant_violation listed[HOIST_INVARIANTS_LISTED];
    /* nodes being disrupted: name -> index into nodes[] (live entries) */
    hoist_strmap disrupting;        /* keys: the entries' names */
    struct hoist_invariant_disruption {
        char *node;                 /* owned; NULL once it ended */
        size_t pool;                /* index into pool_names, SIZE_MAX = none */
        bool counted;               /* counted in pool_count (voluntary or expired) */
    } *nodes;
    size_t n_nodes, cap_nodes;
    hoist_strmap pools;             /* NodePool name (owned) -> nodes counted as disrupting */
    char **pool_names;
    size_t n_pools, cap_pools;
    size_t *pool_count;
    /* PDBs touched by voluntary evictions of healthy pods this event */
    uint32_t *touched;
    size_t n_touched, cap_touched;
    uint64_t touched_generation;    /* the tracker's generation they index */
    bool verbose;                   /* print each violation to stderr */
    uint64_t epoch_ms;              /* for the times printed */
} hoist_invariants;

/* Prepare an empty checker (allocates nothing). */
void hoist_invariants_init(hoist_invariants *v, uint64_t epoch_ms, bool verbose);
void hoist_invariants_free(hoist_invariants *v);

/* A voluntary eviction of pod p (of the world, before it is carried out)
 * with the world's PDB counts t: remember the PDBs it was counted in when it
 * was healthy. 0 or -1 (out of memory). */
int hoist_invariants_evicting(hoist_invariants *v, const hoist_sim_pdbs *t, const hoist_pod *p);

/* The event is over: judge the PDBs touched during it, at now_ms. */
void hoist_invariants_after_event(hoist_invariants *v, const hoist_sim_pdbs *t, uint64_t now_ms);

/* Node n starts being disrupted at now_ms (nothing when it already is):
 * check budgets and churn. 0 or -1 (out of memory). */
int hoist_invariants_disrupt_start(hoist_invariants *v, const hoist_invariant_node *n,
                                   uint64_t now_ms);
/* Node `name` is no longer being disrupted (its taint went, or it is gone). */
void hoist_invariants_disrupt_end(hoist_invariants *v, const char *name);
/* Whether node `name` is counted as being disrupted. */
bool hoist_invariants_disrupting(const hoist_invariants *v, const char *name);

/* The most nodes NodePool np may have disrupting at Unix second now_s for
 * any reason in `reasons` (HOIST_REASON_* bits): the largest over those
 * reasons of the tightest active budget; SIZE_MAX when some reason is not
 * limited. pool_nodes sizes percent budgets (rounded up). */
size_t hoist_invariants_budget_allows(const hoist_nodepool *np, unsigned reasons,
                                      size_t pool_nodes, int64_t now_s);

/* "pdb", "budget", "churn". */
const char *hoist_invariant_kind_name(hoist_invariant_kind k);

#endif
