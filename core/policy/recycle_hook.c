/* policy/recycle_hook.c - Lua recycle as the consolidate stage's hook; see recycle_hook.h. */
#include "policy/recycle_hook.h"

#include <stdio.h>
#include <string.h>

void hoist_policy_recycle_init(hoist_policy_recycle *pr, hoist_policy *p)
{
    memset(pr, 0, sizeof *pr);
    pr->policy = p;
}

void hoist_policy_recycle_attach(hoist_policy_recycle *pr, hoist_consolidate_options *opts)
{
    if (!pr->policy || !hoist_policy_has(pr->policy, "recycle"))
        return;
    opts->recycle = hoist_policy_recycle_decide;
    opts->recycle_ctx = pr;
}

/* Count a failure with its message; returns -1. */
static int failed(hoist_policy_recycle *pr, const char *msg)
{
    pr->errors++;
    hoist_errf(&pr->last_error, "%s", msg);
    return -1;
}

/* The node as the policy sees it (a one-element argument array), or NULL. */
static json_t *node_args(const hoist_recycle_view *v)
{
    json_t *labels = hoist_labels_to_json(&v->node->labels);
    if (!labels)
        return NULL;
    return json_pack("[{s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:I, s:f, s:I, s:o}]", "name",
                     v->node->name, "nodepool", v->nodepool->name, "instance_type",
                     v->instance_type, "family", v->family, "generation",
                     (json_int_t)v->generation, "zone", v->zone, "capacity_type",
                     v->capacity_type, "age_seconds", (json_int_t)v->age_seconds, "price",
                     v->price, "pods", (json_int_t)v->n_pods, "labels", labels);
}

int hoist_policy_recycle_decide(void *ctx, const hoist_recycle_view *node, bool *recycle,
                                char *reason, size_t cap)
{
    hoist_policy_recycle *pr = ctx;
    pr->calls++;
    *recycle = false;
    json_t *args = node_args(node);
    if (!args)
        return failed(pr, "recycle: out of memory");
    json_t *r = NULL;
    hoist_err err = {{0}};
    int rc = hoist_policy_call(pr->policy, "recycle", args, &r, &err);
    json_decref(args);
    if (rc < 0)
        return failed(pr, err.msg);
    if (json_is_null(r)) {
        json_decref(r);
        return 0;
    }
    if (!json_is_string(r) || json_string_length(r) == 0) {
        const char *what = json_is_string(r)    ? "an empty string"
                           : json_is_number(r)  ? "a number"
                           : json_is_boolean(r) ? "a boolean"
                                                : "a table";
        hoist_err msg;
        hoist_errf(&msg, "%s: recycle returned %s for node %s; expected nil or a non-empty "
                   "string", hoist_policy_path(pr->policy), what, node->node->name);
        json_decref(r);
        return failed(pr, msg.msg);
    }
    if (cap)
        snprintf(reason, cap, "%s", json_string_value(r));
    *recycle = true;
    json_decref(r);
    return 0;
}
