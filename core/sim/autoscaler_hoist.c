/*
 * sim/autoscaler_hoist.c - hoist's own pipeline behind the simulator's
 * autoscaler interface (see autoscaler.h): the same code the daemon runs.
 */
#include "sim/autoscaler.h"

#include <string.h>

static int step(void *ctx, uint64_t *wake_at_ms, hoist_err *err)
{
    return hoist_pipeline_step(ctx, wake_at_ms, err);
}

static void destroy(void *ctx)
{
    hoist_pipeline_free(ctx);
}

int hoist_autoscaler_hoist(const hoist_pipeline_env *env, const hoist_pipeline_config *cfg,
                           hoist_policy *policy, hoist_autoscaler *out, hoist_err *err)
{
    memset(out, 0, sizeof *out);
    hoist_pipeline *p = hoist_pipeline_new(env, cfg, policy, err);
    if (!p)
        return -1;
    out->name = "hoist";
    out->ctx = p;
    out->observe = hoist_pipeline_observe;
    out->step = step;
    out->destroy = destroy;
    return 0;
}
