/*
 * pipeline/pack.h - the pack stage: one provisioning decision on the cluster
 * state. It simulates scheduling every pending pod onto existing nodes,
 * in-flight machines and new claims (sched/plan.h does the packing; the price
 * stage orders each claim's offerings through the planner's hooks), with two
 * things the bare planner does not know:
 *
 *   - the insufficient-capacity cache (pipeline/unavailable.h): offerings the
 *     cloud recently had no capacity for are planned as unavailable, so a
 *     re-queued pod gets another type, zone or capacity type;
 *   - headroom (pipeline/headroom.h): when a NodePool's spare capacity after
 *     the decision is below what its headroom asks, the stage plans again
 *     with placeholders covering the deficit, so the new claims buy it.
 *
 * The result owns what the plan borrows besides the snapshot: the catalog
 * copy with the cache applied (when the cache holds something) and the
 * placeholders. Free it before the snapshot or the catalog change.
 */
#ifndef HOIST_PIPELINE_PACK_H
#define HOIST_PIPELINE_PACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/catalog.h"
#include "model/objects.h"
#include "pipeline/headroom.h"
#include "pipeline/price.h"
#include "pipeline/unavailable.h"
#include "sched/plan.h"
#include "util/arena.h"
#include "util/error.h"

typedef struct hoist_pack_ctx {
    const hoist_catalog *catalog;          /* the provider's catalog; borrowed */
    const hoist_unavailable *unavailable;  /* may be NULL */
    uint64_t now_ms;                       /* for the cache */
    hoist_price *price;                    /* the price stage (its policy's score_type too);
                                              NULL = planner defaults */
    size_t max_offerings;                  /* 0 = HOIST_PLAN_MAX_OFFERINGS */
    hoist_plan_cache *cache;               /* kept across decisions; may be NULL */
    hoist_headroom_fn headroom;            /* optional */
    void *headroom_ctx;
    size_t n_without;                      /* plan as if these nodes were gone, their pods */
    const char *const *without;            /* pending (sched/plan.h); borrowed */
    size_t n_avoid;                        /* nodes that take no pod (being disrupted); */
    const char *const *avoid;              /* borrowed */
} hoist_pack_ctx;

typedef struct hoist_pack_result {
    hoist_plan plan;               /* the decision */
    hoist_catalog iced;            /* the catalog with cached offerings unavailable (used when
                                      n_iced > 0; the plan borrows from it then) */
    size_t n_iced;                 /* offerings the cache made unavailable */
    hoist_arena holders;           /* the placeholders the plan borrows */
    size_t n_placeholders;         /* placeholders planned (0: no headroom deficit) */
    size_t n_headroom_pools;       /* NodePools that were short of headroom */
    size_t headroom_errors;        /* headroom hook calls that failed */
    bool replanned;                /* planned twice (headroom) */
} hoist_pack_result;

/* Decide on snapshot o (borrowed; its name table may grow). Returns 0 with
 * *r filled (free with hoist_pack_result_free), or -1 with err and *r empty. */
int hoist_pack(const hoist_pack_ctx *ctx, hoist_objects *o, hoist_pack_result *r, hoist_err *err);
/* Release a result (a zeroed one is fine). */
void hoist_pack_result_free(hoist_pack_result *r);

#endif
