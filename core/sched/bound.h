/*
 * sched/bound.h - a lower bound on what any plan must pay: the cheapest
 * fractional cover of a demand vector.
 *
 * Given items i (an instance type offering: capacity vector a_i over K
 * resources and an hourly price p_i) and a demand D (summed pod requests),
 * the bound is the optimum of the linear program
 *
 *     minimise  sum_i x_i p_i   subject to  sum_i x_i a_i >= D,  x_i >= 0 real.
 *
 * Any real plan buys whole machines, so it costs at least this much. K is at
 * most HOIST_COVER_MAX_DIMS (cpu, memory, and optionally pods and gpu).
 *
 * Method: each resource with demand > 0 is scaled so its demand is 1
 * (resources with zero demand are dropped: x >= 0 and a >= 0 meet them
 * already), and the LP is solved exactly by a dense dual simplex on its K
 * rows: the surplus basis is dual feasible from the start because prices
 * are >= 0, each pivot costs O(nK), and Bland's rule (lowest index leaves,
 * ties in the ratio test to the lowest index) rules out cycling on
 * duplicate or degenerate items. The optimum uses at most K items. The cost
 * is O(nK) per pivot and, in practice, a handful of pivots: 1,500 items
 * with K = 2 take microseconds.
 */
#ifndef HOIST_SCHED_BOUND_H
#define HOIST_SCHED_BOUND_H

#include <stdbool.h>
#include <stddef.h>

#include <hoist/types.h>

#include "util/error.h"

/* Most resources (dimensions) a cover problem may have. */
#define HOIST_COVER_MAX_DIMS 4

/* One item: a capacity vector (milli-units, >= 0; only the first `dims`
 * entries are read) and a price (finite, >= 0). */
typedef struct hoist_cover_item {
    hoist_milli cap[HOIST_COVER_MAX_DIMS];
    double price;
} hoist_cover_item;

/* An optimal fractional cover. */
typedef struct hoist_cover {
    bool feasible;                          /* false: no mix of items covers the demand
                                               (some demanded resource no item has) */
    double cost;                            /* optimum; +INFINITY when !feasible, 0 for
                                               zero demand */
    size_t n_used;                          /* items with x_i > 0 (at most dims) */
    size_t item[HOIST_COVER_MAX_DIMS];      /* their indices in the caller's array */
    double amount[HOIST_COVER_MAX_DIMS];    /* their x_i (machines, fractional) */
} hoist_cover;

/* Solve the cover LP for n items (borrowed) and demand[0..dims) (milli-units,
 * >= 0), 1 <= dims <= HOIST_COVER_MAX_DIMS. Returns 0 with *out filled (an
 * uncoverable demand is not an error: out->feasible is false), or -1 with a
 * message for bad input (dims out of range, a negative capacity or demand, a
 * negative or non-finite price, naming the item) or out of memory. */
int hoist_cover_solve(const hoist_cover_item *items, size_t n, const hoist_milli *demand,
                      int dims, hoist_cover *out, hoist_err *err);

/* The bound alone: *out = the optimum cost, +INFINITY when no mix of items
 * covers the demand, 0 for zero demand. Errors as hoist_cover_solve. */
int hoist_cover_lower_bound(const hoist_cover_item *items, size_t n, const hoist_milli *demand,
                            int dims, double *out, hoist_err *err);

/* The same bound for two resources (cpu and memory), answered in O(h) per
 * demand after an O(n log n) set-up: the frontier of what one dollar buys
 * (capacity / price of each item, its upper-right convex hull, closed by
 * free disposal). The packer asks it on every growth step of a claim. */
typedef struct hoist_cover2 {
    size_t n;      /* frontier vertices */
    double *x;     /* resource 0 per dollar, ascending */
    double *y;     /* resource 1 per dollar, descending */
} hoist_cover2;

/* Build the frontier of items' cap[0] and cap[1] (borrowed). 0, or -1 with
 * a message for bad items (as hoist_cover_solve) or out of memory. */
int hoist_cover2_init(hoist_cover2 *f, const hoist_cover_item *items, size_t n, hoist_err *err);
/* Free the frontier. */
void hoist_cover2_free(hoist_cover2 *f);
/* Cheapest fractional cover of (d0, d1) >= 0: +INFINITY when no mix covers
 * it, 0 for (0, 0). Equal to hoist_cover_lower_bound with dims = 2. */
double hoist_cover2_cost(const hoist_cover2 *f, double d0, double d1);

#endif
