/* policy/plan_hooks.c - Lua planning hooks as hoist_plan_hooks; see plan_hooks.h. */
#include "policy/plan_hooks.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/catalog.h"
#include "model/labels.h"

/* Record a failed hook call with its message; always returns -1. */
static int failed(hoist_policy_plan *pp, const char *msg)
{
    pp->errors++;
    hoist_errf(&pp->last_error, "%s", msg);
    return -1;
}

/* An instance type as the policy sees it. */
static json_t *type_json(const hoist_instance_type *it)
{
    double cheapest = INFINITY;
    for (size_t i = 0; i < it->n_offerings; i++)
        if (it->offerings[i].available && it->offerings[i].price < cheapest)
            cheapest = it->offerings[i].price;
    return json_pack(
        "{s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:s, s:b, s:b, s:b, s:I, s:I, s:{s:I, s:s, s:s, s:I},"
        " s:I, s:I, s:I, s:f}",
        "name", it->name, "family", it->family, "size", it->size, "category", it->category,
        "generation", (json_int_t)it->generation, "architecture", it->architecture,
        "cpu_manufacturer", it->cpu_manufacturer, "hypervisor", it->hypervisor, "bare_metal",
        it->bare_metal, "burstable", it->burstable, "current_generation", it->current_generation,
        "vcpus", (json_int_t)it->vcpus, "memory_mib", (json_int_t)it->memory_mib, "gpu", "count",
        (json_int_t)it->gpu.count, "name", it->gpu.name, "manufacturer", it->gpu.manufacturer,
        "memory_mib", (json_int_t)it->gpu.memory_mib, "local_nvme_gb",
        (json_int_t)it->local_nvme_gb, "network_bandwidth_mbps",
        (json_int_t)it->network_bandwidth_mbps, "max_pods", (json_int_t)it->max_pods, "price",
        isfinite(cheapest) ? cheapest : 0.0);
}

static json_t *nodepool_json(const hoist_nodepool *np)
{
    return json_pack("{s:s, s:i, s:o}", "name", np->name, "weight", (int)np->weight, "labels",
                     hoist_labels_to_json(&np->labels));
}

static int score_type(void *ctx, const hoist_nodepool *np, const hoist_instance_type *it,
                      bool *keep, double *score)
{
    hoist_policy_plan *pp = ctx;
    json_t *args = json_pack("[o, o]", type_json(it), nodepool_json(np));
    if (!args)
        return failed(pp, "score_type: out of memory");
    json_t *r = NULL;
    hoist_err err = {{0}};
    int rc = hoist_policy_call(pp->policy, "score_type", args, &r, &err);
    json_decref(args);
    if (rc < 0)
        return failed(pp, err.msg);
    *keep = true;
    *score = 0.0;
    if (json_is_false(r)) {
        *keep = false;
    } else if (json_is_number(r)) {
        *score = json_number_value(r);
    } else if (!json_is_null(r)) {
        const char *what = json_is_string(r) ? "a string" : json_is_true(r) ? "true" : "a table";
        char msg[160];
        snprintf(msg, sizeof msg, "%s: score_type returned %s; expected false, nil or a number",
                 hoist_policy_path(pp->policy), what);
        json_decref(r);
        return failed(pp, msg);
    }
    json_decref(r);
    return 0;
}

static int order_offerings(void *ctx, const hoist_plan_claim *claim, hoist_plan_offering *offs,
                           size_t n)
{
    hoist_policy_plan *pp = ctx;
    json_t *list = json_array();
    for (size_t i = 0; list && i < n; i++) {
        const hoist_plan_offering *o = &offs[i];
        json_t *e = json_pack("{s:s, s:s, s:s, s:s, s:I, s:f, s:f, s:f}", "instance_type",
                              o->type->name, "family", o->type->family, "zone", o->offering->zone,
                              "capacity_type",
                              hoist_capacity_type_name(o->offering->capacity_type), "generation",
                              (json_int_t)o->type->generation, "price", o->offering->price,
                              "capacity_score", o->offering->capacity_score, "score", o->score);
        if (!e || json_array_append_new(list, e) < 0) {
            json_decref(list);
            list = NULL;
        }
    }
    json_t *args = list ? json_pack("[{s:s, s:I}, o]", "nodepool", claim->nodepool->name, "pods",
                                    (json_int_t)claim->n_pods, list)
                        : NULL;
    if (!args)
        return failed(pp, "order_offerings: out of memory");
    json_t *r = NULL;
    hoist_err err = {{0}};
    int rc = hoist_policy_call(pp->policy, "order_offerings", args, &r, &err);
    json_decref(args);
    if (rc < 0)
        return failed(pp, err.msg);
    if (!json_is_array(r) && !(json_is_object(r) && json_object_size(r) == 0)) {
        json_decref(r);
        return failed(pp, "order_offerings returned something else than an array of indices");
    }
    /* listed offerings first, in the policy's order; the rest after */
    hoist_plan_offering *out = malloc((n ? n : 1) * sizeof *out);
    bool *taken = calloc(n ? n : 1, sizeof *taken);
    if (!out || !taken) {
        free(out);
        free(taken);
        json_decref(r);
        return failed(pp, "order_offerings: out of memory");
    }
    size_t k = 0, i;
    json_t *v;
    json_array_foreach(r, i, v)
    {
        json_int_t idx = json_is_integer(v) ? json_integer_value(v) : 0;
        if (idx < 1 || (size_t)idx > n || taken[idx - 1]) {
            free(out);
            free(taken);
            json_decref(r);
            return failed(pp, "order_offerings returned a bad index; expected distinct indices "
                              "from 1 to the number of offerings");
        }
        taken[idx - 1] = true;
        out[k++] = offs[idx - 1];
    }
    for (i = 0; i < n; i++)
        if (!taken[i])
            out[k++] = offs[i];
    memcpy(offs, out, n * sizeof *offs);
    free(out);
    free(taken);
    json_decref(r);
    return 0;
}

void hoist_policy_plan_init(hoist_policy_plan *pp, hoist_policy *p)
{
    memset(pp, 0, sizeof *pp);
    pp->policy = p;
    pp->hooks.ctx = pp;
    if (hoist_policy_has(p, "score_type"))
        pp->hooks.score_type = score_type;
    if (hoist_policy_has(p, "order_offerings"))
        pp->hooks.order_offerings = order_offerings;
}
