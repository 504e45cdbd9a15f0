/* policy/headroom_hook.c - Lua headroom as the pack and consolidate stages'
 * headroom callbacks; see headroom_hook.h. */
#include "policy/headroom_hook.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "model/labels.h"
#include "model/quantity.h"

void hoist_policy_headroom_init(hoist_policy_headroom *ph, hoist_policy *p,
                                const hoist_resource_names *names)
{
    memset(ph, 0, sizeof *ph);
    ph->policy = p;
    ph->names = names;
}

bool hoist_policy_headroom_defined(const hoist_policy_headroom *ph)
{
    return ph->policy && hoist_policy_has(ph->policy, "headroom");
}

void hoist_policy_headroom_attach_consolidate(hoist_policy_headroom *ph,
                                              hoist_consolidate_options *opts)
{
    if (!hoist_policy_headroom_defined(ph))
        return;
    opts->headroom = hoist_policy_headroom_want_now;
    opts->headroom_ctx = ph;
}

/* Count a failure with "<policy file>: headroom: <why>"; returns -1. */
static int failed(hoist_policy_headroom *ph, const char *why)
{
    ph->errors++;
    hoist_errf(&ph->last_error, "%s: headroom: %s",
               ph->policy ? hoist_policy_path(ph->policy) : "(no policy)", why);
    return -1;
}

/* What a returned value is, in Lua's words. */
static const char *lua_kind(const json_t *j)
{
    if (!j || json_is_null(j))
        return "nil";
    if (json_is_string(j))
        return "a string";
    if (json_is_number(j))
        return "a number";
    if (json_is_boolean(j))
        return "a boolean";
    if (json_is_array(j))
        return "an array";
    return "a table";
}

/* The nodepool argument (a new reference, NULL when out of memory). */
static json_t *nodepool_json(const hoist_resource_names *names, const hoist_nodepool *np,
                             const hoist_headroom_usage *u)
{
    return json_pack("[{s:s, s:i, s:o, s:I, s:o, s:o}]", "name", np->name, "weight",
                     (int)np->weight, "labels", hoist_labels_to_json(&np->labels), "nodes",
                     (json_int_t)u->n_nodes, "capacity",
                     hoist_resources_to_json(names, &u->allocatable, true), "requested",
                     hoist_resources_to_json(names, &u->requested, true));
}

/* One returned amount in milli-units; -1 with why in msg. */
static int amount(const char *field, const json_t *v, hoist_milli *out, char *msg, size_t cap)
{
    if (json_is_number(v)) {
        double x = json_number_value(v);
        if (!isfinite(x) || x < 0) {
            snprintf(msg, cap, "%s: expected a number >= 0, got %g", field, x);
            return -1;
        }
        /* finer than a milli-unit rounds up, as in a quantity, but not the
         * noise of binary fractions (64 * 0.1 is 6.4000000000000004) */
        double m = x * 1000.0, near = nearbyint(m);
        m = fabs(m - near) <= 1e-9 * fmax(1.0, m) ? near : ceil(m);
        if (m >= 9.2e18) {
            snprintf(msg, cap, "%s: %g is too large", field, x);
            return -1;
        }
        *out = (hoist_milli)m;
        return 0;
    }
    if (json_is_string(v)) {
        hoist_quantity q;
        hoist_err err = {{0}};
        if (hoist_quantity_parse(json_string_value(v), &q, &err) < 0) {
            snprintf(msg, cap, "%s: %.400s", field, err.msg);
            return -1;
        }
        *out = q.milli;
        return 0;
    }
    snprintf(msg, cap, "%s: expected a number or a quantity string, got %s", field, lua_kind(v));
    return -1;
}

int hoist_policy_headroom_want(void *ctx, const hoist_nodepool *np,
                               const hoist_headroom_usage *usage, hoist_resources *want)
{
    hoist_policy_headroom *ph = ctx;
    ph->calls++;
    const hoist_resource_names *names = ph->names ? ph->names
                                        : ph->objects ? &ph->objects->names
                                                      : NULL;
    if (!ph->policy)
        return failed(ph, "no policy");
    if (!names)
        return failed(ph, "no resource name table");
    json_t *args = nodepool_json(names, np, usage);
    if (!args)
        return failed(ph, "out of memory");
    json_t *r = NULL;
    hoist_err err = {{0}};
    int rc = hoist_policy_call(ph->policy, "headroom", args, &r, &err);
    json_decref(args);
    if (rc < 0) {
        /* the policy host's message already names the file and line */
        ph->errors++;
        hoist_errf(&ph->last_error, "%s", err.msg);
        return -1;
    }
    char msg[512];
    hoist_resources got;
    memset(&got, 0, sizeof got);
    if (json_is_array(r) && json_array_size(r) == 0) { /* {}: no headroom */
        json_decref(r);
        *want = got;
        return 0;
    }
    if (!json_is_object(r)) {
        snprintf(msg, sizeof msg, "returned %s; expected a table {cpu, memory}", lua_kind(r));
        json_decref(r);
        return failed(ph, msg);
    }
    const char *k;
    json_t *v;
    json_object_foreach(r, k, v)
    {
        int slot = !strcmp(k, "cpu") ? HOIST_RES_CPU : !strcmp(k, "memory") ? HOIST_RES_MEMORY : -1;
        if (slot < 0) {
            snprintf(msg, sizeof msg, "unknown field %.200s (expected cpu or memory)", k);
            json_decref(r);
            return failed(ph, msg);
        }
        if (amount(k, v, &got.v[slot], msg, sizeof msg) < 0) {
            json_decref(r);
            return failed(ph, msg);
        }
    }
    json_decref(r);
    *want = got;
    return 0;
}

int hoist_policy_headroom_want_now(void *ctx, const hoist_nodepool *np, hoist_resources *want)
{
    hoist_policy_headroom *ph = ctx;
    if (!ph->objects) {
        ph->calls++;
        return failed(ph, "no snapshot to measure the NodePool on");
    }
    hoist_headroom_usage usage;
    hoist_err err = {{0}};
    if (hoist_headroom_usage_compute(ph->objects, np, NULL, NULL, &usage, &err) < 0) {
        ph->calls++;
        return failed(ph, err.msg);
    }
    return hoist_policy_headroom_want(ph, np, &usage, want);
}
