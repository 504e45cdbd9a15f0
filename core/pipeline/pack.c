/*
 * pipeline/pack.c - the pack stage (see pack.h).
 */
#include "pipeline/pack.h"

#include <stdlib.h>
#include <string.h>

#include "util/strmap.h"

void hoist_pack_result_free(hoist_pack_result *r)
{
    hoist_plan_free(&r->plan);
    hoist_catalog_free(&r->iced);
    hoist_arena_free(&r->holders);
    memset(r, 0, sizeof *r);
}

/* Copy catalog c with every offering the cache holds at now_ms marked
 * unavailable into r->iced; r->n_iced counts them. */
static int apply_cache(const hoist_pack_ctx *ctx, hoist_pack_result *r, hoist_err *err)
{
    const hoist_catalog *c = ctx->catalog;
    hoist_arena tmp;
    hoist_arena_init(&tmp, 0);
    hoist_instance_type *types = hoist_arena_calloc(&tmp, c->n + 1, sizeof *types);
    if (!types)
        goto oom;
    for (size_t i = 0; i < c->n; i++) {
        const hoist_instance_type *it = &c->types[i];
        types[i] = *it;
        hoist_offering *offs = hoist_arena_calloc(&tmp, it->n_offerings + 1, sizeof *offs);
        if (!offs)
            goto oom;
        for (size_t j = 0; j < it->n_offerings; j++) {
            const hoist_offering *o = HOIST_NTH(it->offerings, j);
            memcpy(&offs[j], o, o->struct_size < sizeof offs[j] ? o->struct_size : sizeof offs[j]);
            offs[j].struct_size = sizeof offs[j];
            if (offs[j].available &&
                hoist_unavailable_is_unavailable(ctx->unavailable, it->name, o->zone,
                                                 o->capacity_type, ctx->now_ms)) {
                offs[j].available = false;
                r->n_iced++;
            }
        }
        types[i].offerings = offs;
    }
    int rc = hoist_catalog_copy(&r->iced, types, c->n, err);
    hoist_arena_free(&tmp);
    return rc;
oom:
    hoist_arena_free(&tmp);
    return hoist_errf(err, "pack: out of memory");
}

/* Ask the headroom hook for every NodePool after plan `first`; collect the
 * placeholders covering each deficit in r->holders. */
static int plan_headroom(const hoist_pack_ctx *ctx, hoist_objects *o, const hoist_catalog *cat,
                         const hoist_plan *first, hoist_pack_result *r,
                         const hoist_pod ***holders, size_t *n_holders, hoist_err *err)
{
    size_t cap = 0;
    *holders = NULL;
    *n_holders = 0;
    for (size_t i = 0; i < o->n_nodepools; i++) {
        const hoist_nodepool *np = o->nodepools[i];
        hoist_arena scratch;
        hoist_arena_init(&scratch, 0);
        hoist_pool_types pool;
        if (hoist_nodepool_types(&scratch, cat, o, np, &pool, err) < 0) {
            hoist_arena_free(&scratch);
            return -1;
        }
        hoist_headroom_usage usage;
        if (hoist_headroom_usage_compute(o, np, first, &pool, &usage, err) < 0) {
            hoist_arena_free(&scratch);
            return -1;
        }
        hoist_resources want, deficit;
        memset(&want, 0, sizeof want);
        if (ctx->headroom(ctx->headroom_ctx, np, &usage, &want) < 0) {
            r->headroom_errors++;
            hoist_arena_free(&scratch);
            continue;
        }
        if (!hoist_headroom_deficit(&usage, &want, &deficit) || pool.n == 0) {
            hoist_arena_free(&scratch);
            continue;
        }
        hoist_pod **made = NULL;
        size_t n_made = 0;
        int rc = hoist_headroom_placeholders(&r->holders, &o->names, np, &pool, &deficit, &made,
                                             &n_made, err);
        hoist_arena_free(&scratch);
        if (rc < 0)
            return -1;
        if (n_made == 0)
            continue;
        r->n_headroom_pools++;
        if (*n_holders + n_made > cap) {
            size_t ncap = (*n_holders + n_made) * 2;
            const hoist_pod **grown = realloc(*holders, ncap * sizeof *grown);
            if (!grown)
                return hoist_errf(err, "pack: out of memory");
            *holders = grown;
            cap = ncap;
        }
        for (size_t k = 0; k < n_made; k++)
            (*holders)[(*n_holders)++] = made[k];
    }
    return 0;
}

int hoist_pack(const hoist_pack_ctx *ctx, hoist_objects *o, hoist_pack_result *r, hoist_err *err)
{
    memset(r, 0, sizeof *r);
    hoist_catalog_init(&r->iced);
    hoist_arena_init(&r->holders, 0);
    const hoist_catalog *cat = ctx->catalog;
    if (ctx->unavailable && hoist_unavailable_count(ctx->unavailable, ctx->now_ms) > 0) {
        if (apply_cache(ctx, r, err) < 0)
            goto fail;
        if (r->n_iced > 0)
            cat = &r->iced;
    }
    hoist_plan_hooks hooks;
    hoist_plan_options opts;
    memset(&opts, 0, sizeof opts);
    opts.max_offerings = ctx->max_offerings;
    opts.without = ctx->without;
    opts.n_without = ctx->n_without;
    opts.avoid = ctx->avoid;
    opts.n_avoid = ctx->n_avoid;
    /* the cache keeps pointers into the catalog it saw: only for the
     * caller's long-lived catalog, never for this decision's iced copy */
    opts.cache = cat == ctx->catalog ? ctx->cache : NULL;
    if (ctx->price) {
        hoist_price_hooks(ctx->price, &hooks);
        opts.hooks = &hooks;
    }
    if (hoist_plan_compute(o, cat, &opts, &r->plan, err) < 0)
        goto fail;
    if (!ctx->headroom)
        return 0;
    const hoist_pod **holders = NULL;
    size_t n_holders = 0;
    if (plan_headroom(ctx, o, cat, &r->plan, r, &holders, &n_holders, err) < 0) {
        free(holders);
        goto fail;
    }
    if (n_holders == 0)
        return 0;
    opts.n_placeholders = n_holders;
    opts.placeholders = holders;
    hoist_plan second;
    int rc = hoist_plan_compute(o, cat, &opts, &second, err);
    free(holders);
    if (rc < 0)
        goto fail;
    hoist_plan_free(&r->plan);
    r->plan = second;
    r->n_placeholders = n_holders;
    r->replanned = true;
    return 0;
fail:
    hoist_pack_result_free(r);
    return -1;
}
