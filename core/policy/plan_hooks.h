/*
 * policy/plan_hooks.h - a Lua policy's planning hooks as the planner's
 * hoist_plan_hooks.
 *
 * Hooks (see policies/README.md for the Lua side):
 *   score_type(type, nodepool)        -> false (drop the type), nil (keep,
 *                                        score 0) or a number (keep, score)
 *   order_offerings(claim, offerings) -> array of 1-based offering indices;
 *                                        listed offerings come first in that
 *                                        order, the others follow cheapest
 *                                        first
 * A hook that errors, runs out of time or memory, or returns the wrong type
 * makes the planner keep its C default for that call; the failure is
 * counted in the plan (hook_errors) and the last message kept here.
 */
#ifndef HOIST_POLICY_PLAN_HOOKS_H
#define HOIST_POLICY_PLAN_HOOKS_H

#include "policy/policy.h"
#include "sched/plan.h"
#include "util/error.h"

typedef struct hoist_policy_plan {
    hoist_policy *policy;   /* borrowed */
    hoist_plan_hooks hooks; /* what to put in hoist_plan_options.hooks */
    size_t errors;          /* failed hook calls */
    hoist_err last_error;   /* the last failure's message, "" when none */
} hoist_policy_plan;

/* Fill pp so pp->hooks calls policy p's planning hooks (those it defines;
 * the others stay NULL, so the planner's defaults apply). pp must stay put
 * while the hooks are in use: they point at it. */
void hoist_policy_plan_init(hoist_policy_plan *pp, hoist_policy *p);

#endif
