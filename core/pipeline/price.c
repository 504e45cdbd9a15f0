/*
 * pipeline/price.c - the price stage (see price.h).
 */
#include "pipeline/price.h"

#include <stdlib.h>
#include <string.h>

#define PCO_TOLERANCE_DEFAULT 0.10

void hoist_price_init(hoist_price *pr, hoist_price_strategy s, const hoist_plan_hooks *policy)
{
    memset(pr, 0, sizeof *pr);
    pr->strategy = s;
    pr->policy = policy;
}

bool hoist_price_prioritized(const hoist_price *pr)
{
    return pr->policy && pr->policy->order_offerings;
}

/* The hooks share one ctx (this stage): pass score_type on to the policy
 * with the policy's own ctx. */
static int forward_score_type(void *ctx, const hoist_nodepool *np, const hoist_instance_type *it,
                              bool *keep, double *score)
{
    const hoist_price *pr = ctx;
    return pr->policy->score_type(pr->policy->ctx, np, it, keep, score);
}

void hoist_price_hooks(hoist_price *pr, hoist_plan_hooks *out)
{
    memset(out, 0, sizeof *out);
    out->ctx = pr;
    if (pr->policy && pr->policy->score_type)
        out->score_type = forward_score_type;
    if (hoist_price_prioritized(pr) || pr->strategy != HOIST_PRICE_LOWEST)
        out->order_offerings = hoist_price_order;
}

/* Cheaper first; the planner's order (stable index) breaks ties. */
typedef struct ranked {
    hoist_plan_offering off;
    size_t index;   /* position in the planner's order */
    int tier;       /* 0 = the preferred spot band, 1 = the rest */
} ranked;

static int compare_ranked(const void *pa, const void *pb)
{
    const ranked *a = pa, *b = pb;
    if (a->tier != b->tier)
        return a->tier - b->tier;
    if (a->tier == 0) {
        double sa = a->off.offering->capacity_score, sb = b->off.offering->capacity_score;
        if (sa != sb)
            return sa > sb ? -1 : 1;
    }
    double pa_ = a->off.offering->price, pb_ = b->off.offering->price;
    if (pa_ != pb_)
        return pa_ < pb_ ? -1 : 1;
    return (a->index > b->index) - (a->index < b->index);
}

/* Price-capacity-optimized: spot offerings within tolerance of the cheapest
 * spot price come first, deepest pool first; the rest follow by price. */
static void order_pco(const hoist_price *pr, hoist_plan_offering *offs, size_t n)
{
    double cheapest = -1;
    for (size_t i = 0; i < n; i++)
        if (offs[i].offering->capacity_type == HOIST_CAPACITY_SPOT &&
            (cheapest < 0 || offs[i].offering->price < cheapest))
            cheapest = offs[i].offering->price;
    if (cheapest < 0)
        return; /* no spot: the planner's cheapest-first order stands */
    double tol = pr->pco_tolerance > 0 ? pr->pco_tolerance : PCO_TOLERANCE_DEFAULT;
    double limit = cheapest * (1.0 + tol);
    ranked *r = malloc(n * sizeof *r);
    if (!r)
        return; /* out of memory: keep the cheapest-first order */
    for (size_t i = 0; i < n; i++) {
        r[i].off = offs[i];
        r[i].index = i;
        r[i].tier = offs[i].offering->capacity_type == HOIST_CAPACITY_SPOT &&
                            offs[i].offering->price <= limit
                        ? 0
                        : 1;
    }
    qsort(r, n, sizeof *r, compare_ranked);
    for (size_t i = 0; i < n; i++)
        offs[i] = r[i].off;
    free(r);
}

int hoist_price_order(void *ctx, const hoist_plan_claim *claim, hoist_plan_offering *offs,
                      size_t n)
{
    hoist_price *pr = ctx;
    pr->calls++;
    if (hoist_price_prioritized(pr)) {
        pr->policy_calls++;
        if (pr->policy->order_offerings(pr->policy->ctx, claim, offs, n) == 0)
            return 0;
        pr->policy_errors++; /* the hook leaves offs untouched on failure */
    }
    if (pr->strategy == HOIST_PRICE_CAPACITY_OPTIMIZED)
        order_pco(pr, offs, n);
    return 0;
}

const char *hoist_price_strategy_name(hoist_price_strategy s)
{
    return s == HOIST_PRICE_CAPACITY_OPTIMIZED ? "price-capacity-optimized" : "lowest-price";
}

int hoist_price_strategy_parse(const char *name, hoist_price_strategy *out)
{
    if (name && strcmp(name, "lowest-price") == 0)
        *out = HOIST_PRICE_LOWEST;
    else if (name && strcmp(name, "price-capacity-optimized") == 0)
        *out = HOIST_PRICE_CAPACITY_OPTIMIZED;
    else
        return -1;
    return 0;
}
