/*
 * policy/recycle_hook.h - a Lua policy's recycle hook as the consolidate
 * stage's recycle callback (pipeline/consolidate.h).
 *
 * Lua: recycle(node) -> nil (keep the node) or a non-empty string (why it
 * must be replaced), where node = {name, nodepool, instance_type, family,
 * generation, zone, capacity_type, age_seconds, price, pods, labels}
 * (age_seconds an integer, price a float in USD/h, pods the workload pods on
 * it, labels its node labels). Anything else (a number, an empty string, a
 * table, a boolean, an error, a timeout) is a failure: the node is kept, the
 * failure counted here and in the consolidation's hook_errors, and the last
 * message kept with the policy's file (and line, when Lua gives one).
 */
#ifndef HOIST_POLICY_RECYCLE_HOOK_H
#define HOIST_POLICY_RECYCLE_HOOK_H

#include <stdbool.h>
#include <stddef.h>

#include "pipeline/consolidate.h"
#include "policy/policy.h"
#include "util/error.h"

typedef struct hoist_policy_recycle {
    hoist_policy *policy;   /* borrowed */
    size_t calls;           /* recycle calls made */
    size_t errors;          /* ... that failed */
    hoist_err last_error;   /* the last failure's message, "" when none */
} hoist_policy_recycle;

/* Prepare pr for policy p (borrowed; may be NULL). */
void hoist_policy_recycle_init(hoist_policy_recycle *pr, hoist_policy *p);
/* Point opts' recycle hook at pr when the policy defines recycle (otherwise
 * leave opts as it is). pr must stay put while opts is used. */
void hoist_policy_recycle_attach(hoist_policy_recycle *pr, hoist_consolidate_options *opts);
/* The recycle callback itself (ctx is a hoist_policy_recycle *). */
int hoist_policy_recycle_decide(void *ctx, const hoist_recycle_view *node, bool *recycle,
                                char *reason, size_t cap);

#endif
