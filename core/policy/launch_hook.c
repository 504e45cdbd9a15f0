/* policy/launch_hook.c - Lua decorate_launch as the launch stage's hook; see launch_hook.h. */
#include "policy/launch_hook.h"

#include <stdio.h>
#include <string.h>

#include "model/catalog.h"
#include "model/labels.h"
#include "model/taints.h"

void hoist_policy_launch_init(hoist_policy_launch *pl, hoist_policy *p)
{
    memset(pl, 0, sizeof *pl);
    pl->policy = p;
}

void hoist_policy_launch_attach(hoist_policy_launch *pl, hoist_launch_ctx *ctx)
{
    if (hoist_policy_has(pl->policy, "decorate_launch")) {
        ctx->decorate = hoist_policy_launch_decorate;
        ctx->decorate_ctx = pl;
    }
}

/* Count a failure with its message; returns -1. */
static int failed(hoist_policy_launch *pl, const char *msg)
{
    pl->errors++;
    hoist_errf(&pl->last_error, "%s", msg);
    return -1;
}

/* Add every "key": "value" of object `map` with add(); -1 on a non-string. */
static int add_pairs(hoist_launch_decoration *out, const json_t *map,
                     int (*add)(hoist_launch_decoration *, const char *, const char *))
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)map, k, v)
    {
        if (!json_is_string(v) || add(out, k, json_string_value(v)) < 0)
            return -1;
    }
    return 0;
}

int hoist_policy_launch_decorate(void *decorate_ctx, const hoist_plan_claim *claim,
                                 hoist_launch_decoration *out)
{
    hoist_policy_launch *pl = decorate_ctx;
    pl->calls++;
    json_t *args = json_pack(
        "[{s:s, s:I, s:s, s:s, s:s, s:f, s:o}]", "nodepool", claim->nodepool->name, "pods",
        (json_int_t)claim->n_pods, "instance_type", claim->chosen.type->name, "zone",
        claim->chosen.offering->zone, "capacity_type",
        hoist_capacity_type_name(claim->chosen.offering->capacity_type), "price",
        claim->chosen.offering->price, "labels", hoist_labels_to_json(&claim->labels));
    if (!args)
        return failed(pl, "decorate_launch: out of memory");
    json_t *r = NULL;
    hoist_err err = {{0}};
    int rc = hoist_policy_call(pl->policy, "decorate_launch", args, &r, &err);
    json_decref(args);
    if (rc < 0)
        return failed(pl, err.msg);
    /* {} comes back as an empty array or object: nothing to add */
    if (json_is_array(r) && json_array_size(r) == 0) {
        json_decref(r);
        return 0;
    }
    char msg[256];
    if (!json_is_object(r)) {
        json_decref(r);
        snprintf(msg, sizeof msg, "%s: decorate_launch must return a table",
                 hoist_policy_path(pl->policy));
        return failed(pl, msg);
    }
    json_t *tags = json_object_get(r, "tags"), *labels = json_object_get(r, "labels");
    json_t *taints = json_object_get(r, "taints");
    const char *bad = NULL;
    if (tags && !json_is_null(tags) && (!json_is_object(tags) ||
                                        add_pairs(out, tags, hoist_launch_decoration_add_tag) < 0))
        bad = "tags must map names to strings";
    else if (labels && !json_is_null(labels) &&
             (!json_is_object(labels) ||
              add_pairs(out, labels, hoist_launch_decoration_add_label) < 0))
        bad = "labels must map names to strings";
    else if (taints && !json_is_null(taints)) {
        size_t i;
        json_t *t;
        if (!json_is_array(taints))
            bad = "taints must be a list";
        json_array_foreach(taints, i, t)
        {
            const char *key = json_string_value(json_object_get(t, "key"));
            const char *value = json_string_value(json_object_get(t, "value"));
            const char *effect = json_string_value(json_object_get(t, "effect"));
            int e = effect ? hoist_taint_effect_parse(effect) : -1;
            if (!key || e < 0 ||
                hoist_launch_decoration_add_taint(out, key, value, (hoist_taint_effect)e) < 0) {
                bad = "each taint needs a key and an effect NoSchedule, PreferNoSchedule or "
                      "NoExecute";
                break;
            }
        }
    }
    json_decref(r);
    if (bad) {
        snprintf(msg, sizeof msg, "%s: decorate_launch: %s", hoist_policy_path(pl->policy), bad);
        return failed(pl, msg);
    }
    return 0;
}
