/*
 * policy/check.h - the hook API a policy is checked against, and the work of
 * `hoist policy check F`: load the policy, check every hook it defines
 * against the API, run each on a built-in fixture and print the results.
 *
 * The known hooks (arguments -> what they must return):
 *   close_batch(batch)                 -> boolean
 *   score_type(type, nodepool)         -> number, false (drop the type) or nil
 *   order_offerings(claim, offerings)  -> array of distinct indices into offerings
 *   decorate_launch(claim)             -> table {tags = {k = v}, labels = {k = v},
 *                                         taints = {{key, value, effect}}}
 *   recycle(node)                      -> nil (keep) or a string (the reason)
 *   headroom(nodepool)                 -> table {cpu = q, memory = q}, q a number
 *                                         or a Kubernetes quantity string
 */
#ifndef HOIST_POLICY_CHECK_H
#define HOIST_POLICY_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "policy/policy.h"

typedef struct hoist_policy_hook_api {
    const char *name;      /* e.g. "score_type" */
    const char *params;    /* e.g. "type, nodepool" */
    const char *returns;   /* what it must return, in words */
    const char *fixtures;  /* names of the fixture values passed, comma-separated */
    /* 0 when result (the hook's answer to args) has the right type, else -1
     * with the reason in err ("expected ..., got ..."). */
    int (*check)(const json_t *result, const json_t *args, hoist_err *err);
} hoist_policy_hook_api;

/* The API entry of a hook name, or NULL when hoist knows no such hook. */
const hoist_policy_hook_api *hoist_policy_hook_api_find(const char *name);
/* Number of known hooks and the i-th one (static storage). */
size_t hoist_policy_hook_api_count(void);
const hoist_policy_hook_api *hoist_policy_hook_api_get(size_t i);

/* The built-in fixture: an object with batch, type, nodepool, claim,
 * offerings and node (a new reference the caller owns), or NULL when out of
 * memory. */
json_t *hoist_policy_check_fixture(void);

typedef struct hoist_policy_check_options {
    const char *const *hooks; /* only these hooks (borrowed); NULL = every hook defined */
    size_t n_hooks;
    bool json;                             /* JSON report instead of text */
    const hoist_policy_limits *limits;     /* NULL = defaults */
} hoist_policy_check_options;

/* Check the policy at path and print the report to out. Returns the exit
 * status: 0 when it loads and every checked hook returns the right type,
 * 1 otherwise. */
int hoist_policy_check(const char *path, const hoist_policy_check_options *opts, FILE *out);

#endif
