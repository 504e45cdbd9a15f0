/*
 * policy/launch_hook.h - a Lua policy's decorate_launch hook as the launch
 * stage's decorate callback.
 *
 * Lua: decorate_launch(claim) -> {tags = {k = "v"}, labels = {k = "v"},
 *      taints = {{key = "k", value = "v", effect = "NoSchedule"}}}
 * with every field optional; claim = {nodepool, pods, instance_type, zone,
 * capacity_type, price, labels}. Anything else (an error, a timeout, a
 * non-string value, an unknown effect) is a failure: the launch goes out
 * with hoist's own tags, labels and taints, and the failure is counted here.
 */
#ifndef HOIST_POLICY_LAUNCH_HOOK_H
#define HOIST_POLICY_LAUNCH_HOOK_H

#include "pipeline/launch.h"
#include "policy/policy.h"
#include "util/error.h"

typedef struct hoist_policy_launch {
    hoist_policy *policy;   /* borrowed */
    size_t calls;           /* decorate_launch calls made */
    size_t errors;          /* ... that failed */
    hoist_err last_error;   /* the last failure's message */
} hoist_policy_launch;

/* Prepare pl for policy p (borrowed). */
void hoist_policy_launch_init(hoist_policy_launch *pl, hoist_policy *p);
/* Point ctx's decorate hook at the policy when it defines decorate_launch;
 * pl must stay put while ctx is used. */
void hoist_policy_launch_attach(hoist_policy_launch *pl, hoist_launch_ctx *ctx);
/* The decorate callback itself (decorate_ctx is a hoist_policy_launch). */
int hoist_policy_launch_decorate(void *decorate_ctx, const hoist_plan_claim *claim,
                                 hoist_launch_decoration *out);

#endif
