/*
 * pipeline/headroom.h - spare capacity per NodePool that must stay free for
 * bursts, without placeholder pods in the cluster (what Clusterman's setpoint
 * gave and Karpenter lacks).
 *
 * A policy (or a C caller) says how much CPU and memory each NodePool must
 * keep unrequested (`want`). The pack stage then:
 *   1. plans the pending pods as usual (plan 1);
 *   2. measures each NodePool's spare after plan 1 with hoist_headroom_usage():
 *      allocatable of its nodes (Ready and in flight) and of plan 1's new
 *      claims, minus the requests of the pods bound or nominated there and of
 *      the pods plan 1 puts there;
 *   3. when spare < want for some resource, builds placeholder pods covering
 *      the deficit with hoist_headroom_placeholders() and plans again with
 *      them (sched/plan.h: placeholders go only onto NEW claims, after every
 *      real pod). The machines bought for them are ordinary claims; the
 *      placeholders are never bound or nominated, and they exist only inside
 *      that decision.
 * The consolidate stage asks the same `want` and never removes a node when
 * that would take the NodePool's spare below it.
 *
 * A NodePool's nodes are the snapshot's Nodes labelled hoist.dev/nodepool =
 * its name (karpenter.sh/nodepool is an alias); resources are the dense
 * vectors of model/resources.h in the snapshot's name table.
 */
#ifndef HOIST_PIPELINE_HEADROOM_H
#define HOIST_PIPELINE_HEADROOM_H

#include <stdbool.h>
#include <stddef.h>

#include "model/catalog.h"
#include "model/objects.h"
#include "sched/plan.h"
#include "util/arena.h"
#include "util/error.h"

/* Most placeholder pods one NodePool's deficit is split into. */
#define HOIST_HEADROOM_MAX_PLACEHOLDERS 64

/* A NodePool's capacity and use. */
typedef struct hoist_headroom_usage {
    size_t n_nodes;                 /* its nodes (Ready and in flight) plus plan 1's claims */
    hoist_resources allocatable;    /* their allocatable summed */
    hoist_resources requested;      /* requests of the pods on them (bound, nominated, planned) */
} hoist_headroom_usage;

/* How much spare NodePool np must keep given its usage: 0 with *want filled
 * (all zeros = no headroom), or -1 on failure (then no headroom this round). */
typedef int (*hoist_headroom_fn)(void *ctx, const hoist_nodepool *np,
                                 const hoist_headroom_usage *usage, hoist_resources *want);

/* Measure NodePool np on snapshot o after plan (NULL = before any plan: only
 * nodes and their pods). For a claim, its allocatable is that of its chosen
 * type under np's kubelet settings, taken from pool (the NodePool's types,
 * model/catalog.h hoist_nodepool_types; may be NULL when plan is NULL).
 * Counted as requested: pods bound to np's nodes that are not terminating
 * and not Succeeded/Failed (as the planner counts them), the pods plan puts
 * on those nodes, and each of np's claims' requests (its pods plus the
 * DaemonSet pods that will run there, as bound DaemonSet pods count on real
 * nodes). Placeholder pods are NOT counted as requested: the capacity bought
 * for them is the spare itself, so after the second plan spare >= want.
 * O(pods + nodes + planned pods). Returns 0, or -1 with err (out of memory,
 * a claim of np whose chosen type is not in pool). */
int hoist_headroom_usage_compute(const hoist_objects *o, const hoist_nodepool *np,
                                 const hoist_plan *plan, const hoist_pool_types *pool,
                                 hoist_headroom_usage *out, hoist_err *err);

/* The deficit per resource: max(0, want - (allocatable - requested)), only for
 * resources want sets (cpu and memory in practice). True when any is > 0. */
bool hoist_headroom_deficit(const hoist_headroom_usage *u, const hoist_resources *want,
                            hoist_resources *deficit);

/* Build placeholder pods for np covering `deficit` (in arena a): each has
 * placeholder set, name "headroom-<nodepool>-<i>" (i from 0) in namespace
 * "hoist-system", a nodeSelector hoist.dev/nodepool = np->name, a toleration
 * of every taint (empty key, operator Exists, all effects), scheduler
 * "default-scheduler", phase "", uid "", no labels or affinity, and requests =
 * an equal share of the deficit plus pods = 1. The deficit is split into the
 * fewest equal pods (at most HOIST_HEADROOM_MAX_PLACEHOLDERS) such that each
 * fits half the allocatable of the largest type in pool, so the planner can
 * pack them onto typical machines; "largest" is the type that needs the
 * fewest pieces for this deficit (first by name on a tie). A pods deficit
 * raises the count to that many placeholders. Rounding: cpu is split in
 * milli-CPU, every other resource in whole units (memory in bytes; the
 * deficit is first rounded up to a whole unit); the first (units mod count)
 * pods take one step more, so the shares sum to the (rounded) deficit and
 * none exceeds ceil(deficit / count). At the cap of 64 pods the shares may
 * exceed half a machine. names (may be NULL) only names resources in errors.
 * Returns 0 with *out / *n (n is 0 and *out NULL when deficit is zero), or -1
 * with err (out of memory, no type in pool, or no type in pool has any of a
 * resource in deficit). */
int hoist_headroom_placeholders(hoist_arena *a, const hoist_resource_names *names,
                                const hoist_nodepool *np, const hoist_pool_types *pool,
                                const hoist_resources *deficit, hoist_pod ***out, size_t *n,
                                hoist_err *err);

#endif
