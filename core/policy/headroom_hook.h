/*
 * policy/headroom_hook.h - a Lua policy's headroom hook as the pack stage's
 * hoist_headroom_fn (pipeline/headroom.h) and the consolidate stage's
 * hoist_headroom_want_fn (pipeline/consolidate.h).
 *
 * Lua: headroom(nodepool) -> {cpu = q, memory = q}
 * where nodepool = {name = "default", weight = 10, labels = {k = "v"},
 * nodes = n, capacity = {cpu = "64", memory = "256Gi", ...},
 * requested = {cpu = "40", memory = "150Gi", ...}}: nodes, capacity and
 * requested are the NodePool's usage (pipeline/headroom.h: its nodes plus
 * the claims of the plan being checked; capacity is their allocatable),
 * as Kubernetes quantity strings, cpu, memory, ephemeral-storage and pods
 * always present, extended resources when non-zero.
 * Each returned q is a number (cores for cpu, bytes for memory; finer than
 * a milli-unit rounds up) or a quantity string ("500m", "8Gi"); a missing
 * field or an empty table asks for none. Anything else is a failure: an
 * error, a timeout, nil, a non-table, a negative or non-finite number, a bad
 * quantity, a value of another type, or a field other than cpu and memory
 * (the same rule as `hoist policy check`; other resources are refused). On
 * failure the NodePool gets no headroom this round, the failure is counted
 * here and the last message kept (it names the file and the field).
 */
#ifndef HOIST_POLICY_HEADROOM_HOOK_H
#define HOIST_POLICY_HEADROOM_HOOK_H

#include <stddef.h>

#include "model/objects.h"
#include "model/resources.h"
#include "pipeline/consolidate.h"
#include "pipeline/headroom.h"
#include "policy/policy.h"
#include "util/error.h"

typedef struct hoist_policy_headroom {
    hoist_policy *policy;               /* borrowed */
    const hoist_resource_names *names;  /* borrowed; slot names for capacity/requested
                                           (NULL: those of `objects`) */
    const hoist_objects *objects;       /* borrowed; the snapshot hoist_policy_headroom_want_now
                                           measures. The caller sets it before each use */
    size_t calls;                       /* headroom calls made */
    size_t errors;                      /* ... that failed */
    hoist_err last_error;               /* the last failure's message, "" when none */
} hoist_policy_headroom;

/* Prepare ph for policy p and name table names (both borrowed; names may be NULL). */
void hoist_policy_headroom_init(hoist_policy_headroom *ph, hoist_policy *p,
                                const hoist_resource_names *names);
/* True when the policy defines the headroom hook. */
bool hoist_policy_headroom_defined(const hoist_policy_headroom *ph);
/* Point opts' headroom hook at ph (hoist_policy_headroom_want_now) when the
 * policy defines headroom; ph must stay put, with `objects` set to the
 * snapshot being consolidated, while opts is used. */
void hoist_policy_headroom_attach_consolidate(hoist_policy_headroom *ph,
                                              hoist_consolidate_options *opts);
/* The hoist_headroom_fn callback (ctx is a hoist_policy_headroom *): calls
 * headroom(nodepool) with np and usage; 0 with *want (cpu and memory slots,
 * the rest zero), or -1 on failure (*want untouched). */
int hoist_policy_headroom_want(void *ctx, const hoist_nodepool *np,
                               const hoist_headroom_usage *usage, hoist_resources *want);
/* The hoist_headroom_want_fn callback: measures np on ph->objects with no
 * plan (hoist_headroom_usage_compute) and then as hoist_policy_headroom_want.
 * No snapshot set is a failure. */
int hoist_policy_headroom_want_now(void *ctx, const hoist_nodepool *np, hoist_resources *want);

#endif
