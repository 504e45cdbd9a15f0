/*
 * sched/plan.h - the provisioning decision: which pending pods go onto
 * existing or in-flight nodes, and which new machines (claims) to buy for the
 * rest, honouring every scheduling constraint, at the lowest price.
 *
 * Input is a snapshot (hoist_objects: pods, nodes, NodePools, volumes,
 * DaemonSets...) and a provider catalog (hoist_catalog). Pending pods are pods
 * without spec.nodeName that are not terminating, not finished and not owned
 * by a DaemonSet. Bound pods count against their node's allocatable and in
 * topology spread and pod (anti-)affinity.
 *
 * The algorithm (first-fit decreasing with claims that keep every compatible
 * instance type, as Karpenter does, plus indexes so 20,000 pods take well
 * under a second):
 *   1. pods sorted by priority, then cpu, then memory, descending; name ties;
 *   2. each pod tries existing Ready nodes, then in-flight (not yet Ready)
 *      nodes, then the claims opened so far, then a new claim from the first
 *      NodePool by weight that can take it;
 *   3. preferred node affinity, preferred pod (anti-)affinity and
 *      ScheduleAnyway spreads are first treated as required, then relaxed one
 *      at a time until the pod fits;
 *   4. a claim's instance types are those whose allocatable, less the
 *      DaemonSet pods that would run there, holds its pods, whose labels
 *      satisfy the claim's requirements and that have an offering in the
 *      claim's zones and capacity types; its price is its cheapest offering.
 * The result is deterministic for the same input.
 */
#ifndef HOIST_SCHED_PLAN_H
#define HOIST_SCHED_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "model/catalog.h"
#include "model/objects.h"
#include "util/arena.h"
#include "util/error.h"

/* Most offerings a claim's launch request carries (Karpenter sends 60 types). */
#define HOIST_PLAN_MAX_OFFERINGS 60

/* One offering of a claim's launch request. */
typedef struct hoist_plan_offering {
    const hoist_instance_type *type;  /* borrowed from the catalog */
    const hoist_offering *offering;   /* borrowed from the catalog */
    double score;                     /* the type's score from the score_type hook (0 without) */
} hoist_plan_offering;

typedef struct hoist_plan_claim hoist_plan_claim;

/* Decisions a caller (a Lua policy, a test) may take over from the
 * planner's defaults. Every hook returns 0, or -1 when it failed: the
 * planner then keeps its default for that call and counts the failure in
 * hoist_plan.hook_errors. Hooks are called on the planning thread and must
 * not keep the pointers they are lent. */
typedef struct hoist_plan_hooks {
    void *ctx;  /* first argument of every hook */
    /* Decide whether NodePool np may use instance type it (*keep, default
     * true) and its score (*score, default 0; handed to order_offerings).
     * Called once per (NodePool, type) per packing pass. NULL: keep all. */
    int (*score_type)(void *ctx, const hoist_nodepool *np, const hoist_instance_type *it,
                      bool *keep, double *score);
    /* Reorder offs[0..n) in place: the compatible offerings of a finished
     * claim, cheapest first (at most 4 x max_offerings of them). The first
     * becomes the claim's choice; the first max_offerings its launch
     * request. NULL: cheapest first. */
    int (*order_offerings)(void *ctx, const hoist_plan_claim *claim, hoist_plan_offering *offs,
                           size_t n);
} hoist_plan_hooks;

/* Remembers, across decisions, each NodePool's instance types (with their
 * allocatable) and which of them are efficient (a linear program per type):
 * a caller deciding again and again on the same catalog (the pipeline) keeps
 * one cache and passes it in. The cache keeps pointers into the catalog and
 * the snapshot it was used with: use one cache with one catalog object that
 * does not change and one snapshot object (whose contents may change) for
 * its whole life; when the catalog is replaced, free the cache. */
typedef struct hoist_plan_cache hoist_plan_cache;

/* A new, empty cache (NULL when out of memory); free it with hoist_plan_cache_free. */
hoist_plan_cache *hoist_plan_cache_new(void);
void hoist_plan_cache_free(hoist_plan_cache *c);
/* Lookups answered from the cache and lookups that had to compute. */
void hoist_plan_cache_stats(const hoist_plan_cache *c, uint64_t *hits, uint64_t *misses);

typedef struct hoist_plan_options {
    size_t max_offerings;          /* offerings per launch request; 0 = HOIST_PLAN_MAX_OFFERINGS */
    const hoist_plan_hooks *hooks; /* borrowed; NULL = the C defaults */
    /* Headroom placeholders (pipeline/headroom.h), borrowed: pods with
     * `placeholder` set that are planned after every real pod and only onto
     * NEW claims of their own: never onto existing or in-flight nodes, nor
     * into the free room of a claim a real pod opened. They appear in
     * their claims' pods (and requests and cost); one that fits nowhere is
     * counted in n_placeholders_unplaced, not reported unschedulable. */
    size_t n_placeholders;
    const hoist_pod *const *placeholders;
    /* Place pending pods on existing Ready nodes only: no claims, no
     * in-flight nodes, NodePools ignored (a kube-scheduler's view; the
     * simulator binds with it). Pods that fit nowhere are unschedulable
     * with the reason "no Ready node fits". */
    bool existing_only;
    /* Consolidation's question, "what if these nodes were gone": the nodes
     * named are no bins, and the pods holding them (not DaemonSet pods) are
     * planned as pending too. Needs the snapshot's usage index (o->usage)
     * or builds one. Borrowed. */
    size_t n_without;
    const char *const *without;
    /* Nodes that take no pod in this plan (being disrupted); their own
     * pods are left where they are. Borrowed. */
    size_t n_avoid;
    const char *const *avoid;
    hoist_plan_cache *cache;       /* borrowed; NULL = a cache for this call only */
} hoist_plan_options;

/* A new machine to buy. */
struct hoist_plan_claim {
    const hoist_nodepool *nodepool;     /* borrowed from the snapshot */
    hoist_plan_offering chosen;         /* the cheapest offering of the compatible set */
    size_t n_types;
    const hoist_instance_type **types;  /* compatible types, cheapest first (instanceTypeOptions) */
    size_t n_offerings;
    hoist_plan_offering *offerings;     /* the launch request: cheapest compatible offerings */
    hoist_labels labels;                /* labels the node will carry (NodePool labels and the
                                           requirements narrowed to one value) */
    hoist_taints taints;                /* NodePool taints (startup taints not included) */
    hoist_reqs requirements;            /* the claim's requirements after its pods */
    hoist_resources requests;           /* its pods' requests plus DaemonSet overhead */
    size_t n_pods;
    const hoist_pod **pods;             /* borrowed */
};

/* Pending pods placed on a node that already exists (Ready or in flight). */
typedef struct hoist_plan_existing {
    const hoist_node *node;   /* borrowed */
    bool in_flight;           /* the node is not Ready yet */
    size_t n_pods;
    const hoist_pod **pods;   /* borrowed */
} hoist_plan_existing;

/* A pending pod hoist cannot place, and why. */
typedef struct hoist_plan_unschedulable {
    const hoist_pod *pod;     /* borrowed; NULL for an object that failed to decode */
    const char *name;         /* "namespace/name" */
    const char *reason;       /* names the constraint, e.g. "no NodePool tolerated by the
                                 pod: taint dedicated=gpu:NoSchedule of NodePool gpu" */
} hoist_plan_unschedulable;

typedef struct hoist_plan {
    hoist_arena arena;                    /* owns everything below but borrowed pointers */
    size_t n_claims;
    hoist_plan_claim *claims;
    size_t n_existing;
    hoist_plan_existing *existing;        /* only nodes that receive pods */
    size_t n_unschedulable;
    hoist_plan_unschedulable *unschedulable;
    double cost_per_hour;                 /* sum of the claims' chosen prices */
    double lower_bound_per_hour;          /* cheapest fractional cover of the new claims'
                                             cpu and memory (see sched/bound.h) */
    size_t n_pending;                     /* pending pods considered (placeholders not counted) */
    size_t n_placeholders_unplaced;       /* placeholders no new claim could take */
    size_t hook_errors;                   /* hook calls that failed (defaults used) */
} hoist_plan;

/* Decide. `o` is borrowed (its name table may grow), `c` is borrowed; both
 * must outlive the plan. opts may be NULL. Pods that no NodePool can ever
 * fit are reported in plan->unschedulable, not as errors. Returns 0, or -1
 * with a message only when the decision itself cannot be made (out of memory). */
int hoist_plan_compute(hoist_objects *o, const hoist_catalog *c, const hoist_plan_options *opts,
                       hoist_plan *plan, hoist_err *err);

/* Release a plan. */
void hoist_plan_free(hoist_plan *plan);

/* The plan as DESIGN.md's `hoist plan` JSON (the launch offerings of each
 * claim only when with_offerings: they are 60 objects a claim):
 *   {"nodeClaims": [{"nodePool", "instanceType", "zone", "capacityType", "price",
 *                    "instanceTypeOptions": [...], ["offerings": [...],] "labels": {...},
 *                    "taints": [...], "requests": {...}, "pods": ["ns/name", ...],
 *                    ["headroomPlaceholders": n]}],  (pods: real pods only)
 *    "existingNodes": [{"node", "inFlight", "pods": [...]}],
 *    "unschedulable": [{"pod", "reason"}],
 *    "costPerHour", "lowerBoundPerHour", "pendingPods"} */
json_t *hoist_plan_to_json(const hoist_plan *plan, const hoist_resource_names *names,
                           bool with_offerings);

#endif
