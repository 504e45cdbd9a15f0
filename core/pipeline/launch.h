/*
 * pipeline/launch.h - the launch stage: turn a planned claim (sched/plan.h)
 * into one provider launch (<hoist/provider.h>) and remember the offerings
 * the cloud had no capacity for (pipeline/unavailable.h).
 *
 * The request hoist_launch_claim() sends:
 *   claim, cluster, nodepool   the claim name given, ctx->cluster, the NodePool's name;
 *   offerings                  the claim's launch offerings claim->offerings[0..n) in the
 *                              planner's order (the chosen offering alone when the claim
 *                              has none), minus those the cache says are unavailable now;
 *                              every element has struct_size set;
 *   strategies                 spot PRICE_CAPACITY_OPTIMIZED and on-demand LOWEST_PRICE,
 *                              or both PRIORITIZED when ctx->prioritized (a policy ordered
 *                              the offerings and its order must be kept);
 *   tags                       hoist.dev/cluster, hoist.dev/nodepool, hoist.dev/claim,
 *                              then the decoration's tags;
 *   labels                     the claim's labels, then the decoration's labels;
 *   taints                     the NodePool's taints (claim->taints), its startupTaints,
 *                              the registration taint hoist.dev/unregistered:NoExecute,
 *                              then the decoration's taints (a (key, effect) pair is sent
 *                              once). The registration taint keeps every pod off the node
 *                              until hoist has seen it register and matched it to its claim
 *                              (the track stage removes it, like karpenter.sh/unregistered).
 * Everything the request points at lives in a scratch arena freed as soon as
 * the provider's launch() returns: providers copy what they keep (the ABI says
 * so; the mock does).
 *
 * Insufficient capacity: every offering the provider reports `exhausted`
 * (on success or failure) is marked unavailable in ctx->unavailable for
 * ctx->ice_ttl_ms (0 = HOIST_UNAVAILABLE_TTL_MS, 3 minutes), before done() runs.
 * When every launch offering is already unavailable, hoist_launch_claim()
 * fails at once with HOIST_E_INSUFFICIENT_CAPACITY and the provider is not
 * called. On HOIST_E_INSUFFICIENT_CAPACITY, from either path, the CALLER
 * re-queues the claim's pods for the next planning round (this stage does not):
 * the planner then sees the cache through the catalog and picks other offerings.
 */
#ifndef HOIST_PIPELINE_LAUNCH_H
#define HOIST_PIPELINE_LAUNCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hoist/host.h>
#include <hoist/provider.h>

#include "pipeline/unavailable.h"
#include "sched/plan.h"
#include "util/arena.h"
#include "util/error.h"

/* The registration taint every launched machine starts with. */
#define HOIST_TAINT_UNREGISTERED "hoist.dev/unregistered"

/* Extra tags, labels and taints a decorate hook adds to one launch. Add them
 * with the hoist_launch_decoration_add_* functions: they copy into `arena`,
 * which lives until the provider's launch() returns. */
typedef struct hoist_launch_decoration {
    hoist_arena *arena;          /* scratch memory of this launch (set by the stage) */
    size_t n_tags, cap_tags;
    hoist_kv *tags;
    size_t n_labels, cap_labels;
    hoist_kv *labels;
    size_t n_taints, cap_taints;
    hoist_taint *taints;
} hoist_launch_decoration;

/* Add a tag / label (key non-empty, value not NULL) or a taint (key non-empty,
 * value NULL = ""); strings are copied. Return 0, or -1 on bad input or out of memory. */
int hoist_launch_decoration_add_tag(hoist_launch_decoration *d, const char *key, const char *value);
int hoist_launch_decoration_add_label(hoist_launch_decoration *d, const char *key,
                                      const char *value);
int hoist_launch_decoration_add_taint(hoist_launch_decoration *d, const char *key,
                                      const char *value, hoist_taint_effect effect);

/* Everything the launch stage needs; borrowed for the call. The provider
 * instance, the cache and the host must outlive every launch in flight. */
typedef struct hoist_launch_ctx {
    const hoist_provider *provider;  /* the descriptor (hoist_plugin_descriptor() or a linked one) */
    void *state;                     /* its instance (hoist_plugin_state()) */
    const hoist_host *host;          /* time (now_ms) and, when set, log; never NULL */
    const char *cluster;             /* cluster name for hoist.dev/cluster; non-empty */
    hoist_unavailable *unavailable;  /* the insufficient-capacity cache; never NULL */
    uint64_t ice_ttl_ms;             /* how long exhausted offerings stay unavailable;
                                        0 = HOIST_UNAVAILABLE_TTL_MS */
    bool prioritized;                /* the offerings' order was set by a policy: send
                                        PRIORITIZED for both capacity types */
    /* Optional: add tags, labels and taints to a claim's launch. Returns 0, or
     * -1 when it failed: the launch then goes out with the defaults only and a
     * warning is logged. A decoration that would replace a hoist.dev/ tag
     * above, a claim label or repeat one of its own keys counts as a failure. */
    int (*decorate)(void *decorate_ctx, const hoist_plan_claim *claim,
                    hoist_launch_decoration *out);
    void *decorate_ctx;
} hoist_launch_ctx;

/* What a successful launch produced; owns its strings (one allocation). */
typedef struct hoist_launched {
    char *claim;                /* the claim name */
    char *instance_id;
    char *provider_id;          /* the Node's spec.providerID */
    char *instance_type;
    char *zone;
    hoist_capacity_type capacity_type;
    double price;               /* USD/h at launch */
    uint64_t launch_time_ms;
} hoist_launched;

/* Free a result (NULL is fine). */
void hoist_launched_free(hoist_launched *m);

/* Completion of a launch: `err` is NULL on success and `m` the result, which
 * the callee now owns (free it with hoist_launched_free()); on failure `err`
 * (borrowed for the call; err->code tells why, e.g. INSUFFICIENT_CAPACITY:
 * re-queue the pods) and `m` is NULL. */
typedef void (*hoist_launch_done_cb)(void *arg, const hoist_error *err, hoist_launched *m);

/* Launch claim `claim` (borrowed for the call) under the unique name
 * `claim_name` (the provider's idempotency token). Returns HOIST_OK (0) when
 * the launch was started: done(arg, ...) is then called exactly once, later,
 * from the provider's completion. Otherwise returns the hoist_status of the
 * failure (HOIST_E_INSUFFICIENT_CAPACITY when every offering is cached as
 * unavailable, HOIST_E_INVALID for a bad ctx or claim, or the provider's own
 * code) with err filled, and done is never called. */
int hoist_launch_claim(const hoist_launch_ctx *ctx, const hoist_plan_claim *claim,
                       const char *claim_name, hoist_launch_done_cb done, void *arg,
                       hoist_err *err);

#endif
