/* policy/batch_hook.c - Lua close_batch as the batch stage's close_now; see batch_hook.h. */
#include "policy/batch_hook.h"

#include <string.h>

/* Record a failed hook call with its message; always returns -1. */
static int failed(hoist_policy_batch *pb, const char *msg)
{
    pb->errors++;
    hoist_errf(&pb->last_error, "%s", msg);
    return -1;
}

/* The batch as the policy sees it. */
static json_t *batch_json(const hoist_batch_view *v)
{
    json_t *keys = json_array();
    size_t n = v->n_pods < HOIST_BATCH_HOOK_MAX_KEYS ? v->n_pods : HOIST_BATCH_HOOK_MAX_KEYS;
    for (size_t i = 0; keys && i < n; i++)
        if (json_array_append_new(keys, json_string(v->keys[i])) < 0) {
            json_decref(keys);
            keys = NULL;
        }
    if (!keys)
        return NULL;
    return json_pack("[{s:I, s:f, s:f, s:I, s:o}]", "pods", (json_int_t)v->n_pods, "age_seconds",
                     (double)v->age_ms / 1000.0, "idle_seconds", (double)v->idle_ms / 1000.0,
                     "max_priority", (json_int_t)v->max_priority, "keys", keys);
}

int hoist_policy_batch_close_now(void *ctx, const hoist_batch_view *view, bool *close)
{
    hoist_policy_batch *pb = ctx;
    pb->calls++;
    json_t *args = batch_json(view);
    if (!args)
        return failed(pb, "close_batch: out of memory");
    json_t *r = NULL;
    hoist_err err = {{0}};
    int rc = hoist_policy_call(pb->policy, "close_batch", args, &r, &err);
    json_decref(args);
    if (rc < 0)
        return failed(pb, err.msg);
    if (!json_is_boolean(r)) {
        const char *what = json_is_null(r)     ? "nil"
                           : json_is_string(r) ? "a string"
                           : json_is_number(r) ? "a number"
                                               : "a table";
        hoist_err msg;
        hoist_errf(&msg, "%s: close_batch returned %s; expected true or false",
                   hoist_policy_path(pb->policy), what);
        json_decref(r);
        return failed(pb, msg.msg);
    }
    *close = json_is_true(r);
    json_decref(r);
    return 0;
}

void hoist_policy_batch_init(hoist_policy_batch *pb, hoist_policy *p)
{
    memset(pb, 0, sizeof *pb);
    pb->policy = p;
}

void hoist_policy_batch_attach(hoist_policy_batch *pb, hoist_batch_config *cfg)
{
    if (!pb->policy || !hoist_policy_has(pb->policy, "close_batch"))
        return;
    cfg->close_now = hoist_policy_batch_close_now;
    cfg->hook_ctx = pb;
}
