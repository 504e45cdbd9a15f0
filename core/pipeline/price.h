/*
 * pipeline/price.h - the price stage: order each new claim's offerings
 * (instance type x zone x capacity type). The first offering is the machine
 * the plan counts on; the first max_offerings go into the launch request,
 * where the provider makes the final choice (EC2 Fleet: price-capacity-
 * optimized for spot, lowest price for on-demand, unless the order is
 * PRIORITIZED).
 *
 * The C default (HOIST_PRICE_LOWEST): cheapest first, as the planner already
 * gives them (price, then zone, then type), so without a policy the stage
 * does not even hook into the planner. HOIST_PRICE_CAPACITY_OPTIMIZED: among the spot
 * offerings within `pco_tolerance` (default 10 %) of the cheapest spot price,
 * the deepest pool first (then cheaper); the others follow cheapest first.
 *
 * A policy's order_offerings hook (policy/plan_hooks.h), when given, is asked
 * first; when it fails the C default orders the claim and the failure is
 * counted. When a policy orders offerings, the launch stage must send
 * PRIORITIZED so the provider keeps that order (hoist_price_prioritized).
 *
 * It plugs into the planner as hoist_plan_hooks.order_offerings; the pack
 * stage builds the hooks with hoist_price_hooks().
 */
#ifndef HOIST_PIPELINE_PRICE_H
#define HOIST_PIPELINE_PRICE_H

#include <stdbool.h>
#include <stddef.h>

#include "sched/plan.h"

typedef enum hoist_price_strategy {
    HOIST_PRICE_LOWEST = 0,          /* cheapest first (the default) */
    HOIST_PRICE_CAPACITY_OPTIMIZED   /* spot: deepest pool within a price tolerance */
} hoist_price_strategy;

typedef struct hoist_price {
    hoist_price_strategy strategy;
    double pco_tolerance;            /* HOIST_PRICE_CAPACITY_OPTIMIZED: fraction above the
                                        cheapest spot price still considered (0 = 0.10) */
    const hoist_plan_hooks *policy;  /* borrowed; its order_offerings (if any) goes first */
    size_t calls;                    /* claims ordered */
    size_t policy_calls;             /* ... of which a policy ordered */
    size_t policy_errors;            /* policy calls that failed (C default used) */
} hoist_price;

/* Prepare a stage with strategy s and an optional policy (borrowed). */
void hoist_price_init(hoist_price *pr, hoist_price_strategy s, const hoist_plan_hooks *policy);

/* The planner's hooks for a decision: score_type from the policy (may be
 * NULL), order_offerings from this stage. pr must stay put while out is used. */
void hoist_price_hooks(hoist_price *pr, hoist_plan_hooks *out);

/* True when a policy orders the offerings: launches must keep that order. */
bool hoist_price_prioritized(const hoist_price *pr);

/* Order offs[0..n) of claim (the hoist_plan_hooks.order_offerings signature;
 * ctx is a hoist_price *). Always returns 0: when the policy fails, the C
 * default orders them. */
int hoist_price_order(void *ctx, const hoist_plan_claim *claim, hoist_plan_offering *offs,
                      size_t n);

/* "lowest-price" or "price-capacity-optimized". */
const char *hoist_price_strategy_name(hoist_price_strategy s);
/* Parse a strategy name; 0, or -1 when unknown. */
int hoist_price_strategy_parse(const char *name, hoist_price_strategy *out);

#endif
