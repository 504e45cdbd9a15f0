/*
 * policy/batch_hook.h - a Lua policy's close_batch hook as the batch
 * stage's close_now callback (pipeline/batch.h).
 *
 * Hook (see policies/README.md for the Lua side):
 *   close_batch(batch) -> true (close the batch now) or false (let the
 *                         idle and max-age rules decide)
 * where batch = {pods = n, age_seconds = x, idle_seconds = y,
 *                max_priority = p, keys = {"ns/name", ...}} (keys: the
 * first HOIST_BATCH_HOOK_MAX_KEYS pods in arrival order; age and idle are
 * floats in seconds). A hook that errors, runs out of time or memory, or
 * returns anything but a boolean (nil included) is a failure: the batch
 * stage's default rules decide, the failure is counted here and in the
 * batch's hook_errors, and the last message is kept.
 */
#ifndef HOIST_POLICY_BATCH_HOOK_H
#define HOIST_POLICY_BATCH_HOOK_H

#include <stddef.h>

#include "pipeline/batch.h"
#include "policy/policy.h"
#include "util/error.h"

#define HOIST_BATCH_HOOK_MAX_KEYS 100 /* pod keys passed to close_batch at most */

typedef struct hoist_policy_batch {
    hoist_policy *policy;   /* borrowed */
    size_t calls;           /* close_batch calls made */
    size_t errors;          /* failed close_batch calls */
    hoist_err last_error;   /* the last failure's message, "" when none */
} hoist_policy_batch;

/* Prepare pb for policy p (borrowed). */
void hoist_policy_batch_init(hoist_policy_batch *pb, hoist_policy *p);
/* Point cfg's close_now hook at pb when the policy defines close_batch
 * (otherwise leave cfg as it is). pb must stay put while the batch uses it. */
void hoist_policy_batch_attach(hoist_policy_batch *pb, hoist_batch_config *cfg);
/* The close_now callback itself (ctx is a hoist_policy_batch *). */
int hoist_policy_batch_close_now(void *ctx, const hoist_batch_view *view, bool *close);

#endif
