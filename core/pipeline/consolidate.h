/*
 * pipeline/consolidate.h - the consolidate stage: decide which of hoist's
 * machines to remove or replace now, and why. It only decides; the pipeline
 * carries the decision out through its sink and provider (taint, evict,
 * terminate), and the pack stage buys replacements for evicted pods.
 *
 * Candidates are the Nodes of the snapshot that carry hoist.dev/nodepool
 * (karpenter.sh/nodepool is an alias; labels are canonical) naming a NodePool
 * of the snapshot. The C defaults, checked in this order for each node:
 *   EXPIRED   now - created >= the NodePool's expireAfter (forceful: not
 *             held back by budgets or do-not-disrupt, as Karpenter v1);
 *   RECYCLE   the recycle hook (a Lua policy) returned a reason; a voluntary
 *             replacement, counted against budgets under the "Drifted" reason;
 *   DRIFTED   the node's hoist.dev/nodepool-hash label (the NodePool's
 *             spec.template hash at launch) differs from the NodePool's
 *             template hash now: its template changed (requirements, labels,
 *             taints, kubelet, nodeClassRef...; limits, weight and disruption
 *             settings do not drift). Nodes without the label are never
 *             drifted. A voluntary replacement under the "Drifted" budget
 *             reason: drained, and the pack stage buys what the pods need
 *             under the new template.
 *   EMPTY     no pod but DaemonSet pods (and finished or terminating ones)
 *             has been bound to it since at least consolidateAfter ago (the
 *             stage remembers when it saw each Ready node become empty; a
 *             node that gets a pod, or stops being Ready, forgets that time),
 *             for either consolidationPolicy. Deleting it must not take the
 *             NodePool below its headroom: the spare of the NodePool (the
 *             allocatable of its Ready nodes not being disrupted, minus the
 *             requests of the pods bound to them, minus what the empty nodes
 *             removed in this decision gave) stays >= want for cpu and memory.
 *   UNDERUTILIZED  (consolidationPolicy WhenEmptyOrUnderutilized, and only
 *             when opts->underutilized asks for it this round, nothing else
 *             was decided, no disruption is in progress and no pod waits
 *             for a node) a Ready node at least consolidateAfter old whose
 *             workload pods all fit on the other Ready nodes now, judged by
 *             the planner in scheduler mode (sched/plan.h existing_only,
 *             `without`). Candidates go in disruption-cost order; several
 *             may be removed together (multi-node: each next candidate is
 *             tried together with those already chosen), at most
 *             opts->max_underutilized_plans removal plans per round.
 *             Removing a node whose pods fit elsewhere saves its whole
 *             price, so no threshold is needed against churn; a node younger than
 *             consolidateAfter is never removed this way, so hoist never
 *             removes a machine it bought within that window. Pods that
 *             block it, as Cluster Autoscaler documents: a pod without a
 *             controller, or with local storage (emptyDir, hostPath),
 *             unless annotated cluster-autoscaler.kubernetes.io/safe-to-evict
 *             "true"; "false" always blocks. Headroom is kept as for EMPTY.
 *             Replace (single and multi-node): when nothing could be
 *             removed, the candidates that may go together (budgets and
 *             PDBs counted per member, blocking pods and do-not-disrupt
 *             ruled out, prices known), in the same order, form a group of
 *             at most 16 whose cpu and memory requests, beyond the other
 *             Ready nodes' free room, the catalog's largest type could hold.
 *             The longest prefix of that group whose pods fit on the other
 *             nodes plus at most ONE new machine is replaced by it (or just
 *             removed when no machine is needed), if that machine costs at
 *             most 85 % of the prefix's summed price (the churn guard: a
 *             replacement must save at least 15 %, and never less than
 *             $0.002/h). The whole group is planned first, then a binary
 *             search below it, within opts->max_replacement_plans plans (as
 *             Karpenter's multi-node consolidation; a prefix of one is
 *             single-node replacement). Every member is decided with
 *             replace set and the same replacement_price; the pipeline
 *             plans their pods together, so one machine is launched, and
 *             drains them once it is Ready. A spot node is replaced by a
 *             spot machine only when its NodePool opts in with the
 *             annotation hoist.dev/spot-to-spot-consolidation: "true" (spot
 *             prices move; Karpenter gates it the same way).
 *             No oscillation: every removal or replacement lowers the
 *             price of the machines it touches (by all of it, or by at
 *             least 15 % and $0.002/h) with the pods they hold, and none
 *             ever splits one node into several, so consolidation alone
 *             can never come back to a state it left; only new pods buy
 *             machines again.
 * PodDisruptionBudgets: a voluntary candidate (not EXPIRED) is held back
 * when a healthy pod on it is selected by a PDB that allows no more
 * disruptions now (model/pdb_eval.h), counting one disruption per node
 * already decided this round; the evictions themselves are still refused
 * by the API when a budget shrinks meanwhile, and retried.
 * Nodes listed in opts->disrupting are never decided again. Nodes not Ready
 * or unschedulable are skipped for voluntary reasons (RECYCLE, EMPTY), and
 * nodes or pods annotated do-not-disrupt (the pod field
 * hoist_pod.do_not_disrupt, any active pod on the node, DaemonSet pods
 * included; the node label or annotation is read as the label
 * hoist.dev/do-not-disrupt=true, karpenter.sh/do-not-disrupt=true also
 * counts) hold them back with a why in `blocked`.
 *
 * Budgets: for each NodePool, a voluntary disruption is decided only while
 * the disruptions in progress (opts->disrupting nodes of that NodePool) plus
 * those decided now (any reason, expiries included) stay below the tightest
 * active budget that applies to its reason (nodes as a count, or a percent
 * of the NodePool's nodes in the snapshot rounded up as Karpenter does).
 * RECYCLE counts as "Drifted", EMPTY as "Empty", UNDERUTILIZED as
 * "Underutilized". With no active budget for
 * the reason, nothing limits it (as Karpenter). A budget with a schedule is
 * active for `duration` after each cron match (5-field cron, UTC; the
 * @hourly/@daily/@weekly/@monthly/@yearly macros); a schedule that does not
 * parse is taken as always active, and the why says so.
 *
 * Order: decisions are sorted by reason (EXPIRED, RECYCLE, EMPTY, DRIFTED), then by
 * disruption cost (fewer pods, lower priorities and pod-deletion-cost first,
 * then less lifetime left before expireAfter), then by node name, so the
 * output is deterministic.
 *
 * Time is passed in (now_s, Unix seconds on the driver's clock).
 */
#ifndef HOIST_PIPELINE_CONSOLIDATE_H
#define HOIST_PIPELINE_CONSOLIDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/catalog.h"
#include "model/objects.h"
#include "util/arena.h"
#include "util/error.h"
#include "util/strmap.h"

/* Why a node is removed. */
typedef enum hoist_disruption_reason {
    HOIST_DISRUPT_EXPIRED = 0,  /* past its NodePool's expireAfter */
    HOIST_DISRUPT_RECYCLE,      /* a policy's recycle hook asked for it */
    HOIST_DISRUPT_EMPTY,        /* no workload pods for consolidateAfter */
    HOIST_DISRUPT_UNDERUTILIZED,/* its pods fit on the other Ready nodes */
    HOIST_DISRUPT_DRIFTED       /* launched from an older NodePool template */
} hoist_disruption_reason;

#define HOIST_DISRUPT_N_REASONS 5

/* What the recycle hook sees of one candidate node. */
typedef struct hoist_recycle_view {
    const hoist_node *node;         /* borrowed */
    const hoist_nodepool *nodepool; /* borrowed */
    const char *instance_type;      /* node.kubernetes.io/instance-type, "" when absent */
    const char *family;             /* the catalog type's family, else the part before '.' */
    int generation;                 /* the catalog type's generation, 0 when unknown */
    const char *zone;               /* topology.kubernetes.io/zone, "" when absent */
    const char *capacity_type;      /* hoist.dev/capacity-type, "" when absent */
    int64_t age_seconds;            /* now - created (0 when created is unknown) */
    double price;                   /* the catalog price of its offering, 0 when unknown */
    size_t n_pods;                  /* workload pods bound to it (not DaemonSet pods) */
} hoist_recycle_view;

/* A policy's recycle decision: 0 with *recycle set and, when true, a reason
 * written into reason[0..cap) (NUL-terminated, truncated; "" becomes
 * "recycled by policy"); -1 on failure (the node is kept from recycling, the
 * failure counted, and the EMPTY default still applies). Called once per
 * Ready, schedulable node of a NodePool that is not expired or disrupting. */
typedef int (*hoist_recycle_fn)(void *ctx, const hoist_recycle_view *node, bool *recycle,
                                char *reason, size_t cap);

/* The spare capacity a NodePool must keep (pipeline/headroom.h computes it
 * through a hook): 0 with *want filled (zeros = none), -1 on failure (none). */
typedef int (*hoist_headroom_want_fn)(void *ctx, const hoist_nodepool *np, hoist_resources *want);

typedef struct hoist_consolidate_options {
    int64_t now_s;                      /* the driver's clock, Unix seconds */
    const hoist_catalog *catalog;       /* for prices and families; may be NULL */
    size_t n_disrupting;
    const char *const *disrupting;      /* names of nodes whose disruption is in progress */
    hoist_recycle_fn recycle;           /* optional */
    void *recycle_ctx;
    hoist_headroom_want_fn headroom;    /* optional */
    void *headroom_ctx;
    bool underutilized;                 /* look for underutilized nodes this round */
    size_t max_underutilized_plans;     /* removal plans tried per round; 0 = 8 */
    size_t max_replacement_plans;       /* replacement plans tried per round; 0 = 5 */
} hoist_consolidate_options;

/* One decision. */
typedef struct hoist_disruption {
    const hoist_node *node;             /* borrowed from the snapshot */
    const hoist_nodepool *nodepool;     /* borrowed */
    hoist_disruption_reason reason;
    const char *detail;                 /* human-readable why, e.g. "empty for 45s (consolidateAfter
                                           30s)" or the policy's reason; in the result's arena */
    double price;                       /* USD/h of the node (0 when unknown) */
    bool replace;                       /* UNDERUTILIZED: replaced by one cheaper machine
                                           (launched and Ready before the drain) */
    double replacement_price;           /* its USD/h when replace */
    size_t replaced_together;           /* UNDERUTILIZED by a group: the nodes of the group
                                           (each listed with the same replacement), else 0 */
    size_t n_pods;
    const hoist_pod **pods;             /* the pods to evict (not DaemonSet pods), borrowed */
} hoist_disruption;

/* A node that qualified but was held back, and by what. */
typedef struct hoist_disruption_blocked {
    const hoist_node *node;
    hoist_disruption_reason reason;
    const char *why;                    /* e.g. "budget of NodePool default allows 1 node",
                                           "pod default/db-0 has do-not-disrupt" */
} hoist_disruption_blocked;

typedef struct hoist_consolidation {
    hoist_arena arena;                  /* owns the arrays and strings below */
    size_t n;
    hoist_disruption *items;
    size_t n_blocked;
    hoist_disruption_blocked *blocked;
    size_t hook_calls, hook_errors;     /* recycle hook */
    size_t underutilized_plans;         /* plans tried for UNDERUTILIZED */
} hoist_consolidation;

/* What the stage keeps of node o->nodes[i] between decisions, while that
 * is the same node version (pointer and hoist_node.serial). */
typedef struct hoist_consolidator_node {
    const hoist_node *node;             /* borrowed: checked against o->nodes[i] */
    uint64_t serial;                    /* its hoist_node.serial then (0: not kept) */
    int pool;                           /* index into o->nodepools; -1 when not hoist's */
    bool drifted;                       /* launched from another template of its NodePool */
    bool ready, unschedulable;          /* node->ready == 1, node->unschedulable */
    int64_t created;                    /* node->created */
    size_t usage_slot;                  /* hint: hoist_usage_slot_of, SIZE_MAX = none */
    uint64_t usage_gen;
} hoist_consolidator_node;

/* The stage's memory between decisions: when each node was first seen
 * empty, and what does not change while a node and the NodePools do not
 * (each node's NodePool, drift and readiness, and where its usage is), so
 * that a round reads no labels and looks no node up by name. */
typedef struct hoist_consolidator {
    hoist_strmap empty_since;           /* node name -> Unix seconds (keys owned) */
    const hoist_objects *cache_of;      /* the snapshot the cache describes, or NULL */
    size_t n_pools;                     /* its NodePools then: any change voids the cache */
    const hoist_nodepool **pools;       /* (borrowed pointers, owned array) */
    char **pool_names;                  /* their names (owned copies) */
    uint64_t *pool_hashes;              /* their template hashes (owned) */
    size_t n_cache, cap_cache;
    hoist_consolidator_node *cache;     /* per position in o->nodes (owned) */
} hoist_consolidator;

void hoist_consolidator_init(hoist_consolidator *s);
void hoist_consolidator_free(hoist_consolidator *s);

/* Decide at opts->now_s on snapshot o (borrowed; the result borrows from it
 * and must be freed before o changes). Updates s's empty-since times (nodes
 * no longer in o are forgotten). Returns 0, or -1 with err (out of memory). */
int hoist_consolidate_compute(hoist_consolidator *s, const hoist_objects *o,
                              const hoist_consolidate_options *opts, hoist_consolidation *out,
                              hoist_err *err);
void hoist_consolidation_free(hoist_consolidation *c);

/* "expired", "recycle", "empty", "underutilized" or "drifted". */
const char *hoist_disruption_reason_name(hoist_disruption_reason r);

/* Whether a 5-field cron expression (or @hourly...) matches the minute that
 * contains Unix time t (UTC): 1 yes, 0 no, -1 with err when expr is malformed
 * (the message names the field). Fields: minute 0-59, hour 0-23, day-of-month
 * 1-31, month 1-12 or jan..dec, day-of-week 0-7 (0 and 7 Sunday) or sun..sat;
 * each a comma list of *, N or N-M with an optional /step ("N/step" runs to
 * the field's end; ? is *). When both day fields are restricted (neither
 * starts with * or ?), a day matching either one matches, as in cron. */
int hoist_cron_matches(const char *expr, int64_t t, hoist_err *err);
/* Whether a budget with `schedule` and `duration_s` is active at t: it is
 * when some minute in (t - duration_s, t] matched. 1, 0, or -1 with err. */
int hoist_cron_active(const char *expr, int64_t duration_s, int64_t t, hoist_err *err);

#endif
