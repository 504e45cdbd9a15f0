/*
 * tests/unit/test_price.c - the price stage: lowest price leaves the
 * planner's order, price-capacity-optimized puts the deepest spot pool
 * within the tolerance first, a policy's order wins, and a failing policy
 * falls back to the C default and is counted.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "pipeline/price.h"

/* Four offerings, cheapest first as the planner gives them. */
static hoist_instance_type types[2] = {
    {.struct_size = sizeof(hoist_instance_type), .name = "m5.large"},
    {.struct_size = sizeof(hoist_instance_type), .name = "m6i.large"},
};
static hoist_offering offerings[4] = {
    {sizeof(hoist_offering), "us-east-1a", HOIST_CAPACITY_SPOT, 0.040, true, 2},
    {sizeof(hoist_offering), "us-east-1b", HOIST_CAPACITY_SPOT, 0.042, true, 9},
    {sizeof(hoist_offering), "us-east-1c", HOIST_CAPACITY_SPOT, 0.050, true, 10},
    {sizeof(hoist_offering), "us-east-1a", HOIST_CAPACITY_ON_DEMAND, 0.096, true, 0},
};

static void fill(hoist_plan_offering *offs)
{
    for (int i = 0; i < 4; i++) {
        offs[i].type = &types[i & 1];
        offs[i].offering = &offerings[i];
        offs[i].score = 0;
    }
}

static void test_lowest_keeps_planner_order(void **state)
{
    (void)state;
    hoist_price pr;
    hoist_price_init(&pr, HOIST_PRICE_LOWEST, NULL);
    hoist_plan_hooks hooks;
    hoist_price_hooks(&pr, &hooks);
    /* nothing to do: the planner's own cheapest-first order stands */
    assert_null(hooks.order_offerings);
    assert_null(hooks.score_type);
    assert_false(hoist_price_prioritized(&pr));
}

static void test_pco_prefers_deep_pool_within_tolerance(void **state)
{
    (void)state;
    hoist_price pr;
    hoist_price_init(&pr, HOIST_PRICE_CAPACITY_OPTIMIZED, NULL);
    hoist_plan_hooks hooks;
    hoist_price_hooks(&pr, &hooks);
    assert_non_null(hooks.order_offerings);
    hoist_plan_offering offs[4];
    fill(offs);
    assert_int_equal(hooks.order_offerings(hooks.ctx, NULL, offs, 4), 0);
    /* 0.042 (score 9) is within 10 % of 0.040 and deeper: first; 0.040
     * next; 0.050 is 25 % dearer: after the band despite score 10 */
    assert_ptr_equal(offs[0].offering, &offerings[1]);
    assert_ptr_equal(offs[1].offering, &offerings[0]);
    assert_ptr_equal(offs[2].offering, &offerings[2]);
    assert_ptr_equal(offs[3].offering, &offerings[3]);
    /* a wider tolerance takes the deepest pool of all */
    pr.pco_tolerance = 0.30;
    fill(offs);
    hooks.order_offerings(hooks.ctx, NULL, offs, 4);
    assert_ptr_equal(offs[0].offering, &offerings[2]);
    assert_int_equal(pr.calls, 2);
}

static int reverse_order(void *ctx, const hoist_plan_claim *claim, hoist_plan_offering *offs,
                         size_t n)
{
    (void)claim;
    int *calls = ctx;
    (*calls)++;
    for (size_t i = 0; i < n / 2; i++) {
        hoist_plan_offering t = offs[i];
        offs[i] = offs[n - 1 - i];
        offs[n - 1 - i] = t;
    }
    return 0;
}

static int failing_order(void *ctx, const hoist_plan_claim *claim, hoist_plan_offering *offs,
                         size_t n)
{
    (void)ctx, (void)claim, (void)offs, (void)n;
    return -1;
}

static int keep_all(void *ctx, const hoist_nodepool *np, const hoist_instance_type *it,
                    bool *keep, double *score)
{
    (void)np, (void)it;
    int *calls = ctx;
    (*calls)++;
    *keep = true;
    *score = 7;
    return 0;
}

static void test_policy_order_wins(void **state)
{
    (void)state;
    int calls = 0;
    hoist_plan_hooks policy = {&calls, keep_all, reverse_order};
    hoist_price pr;
    hoist_price_init(&pr, HOIST_PRICE_CAPACITY_OPTIMIZED, &policy);
    assert_true(hoist_price_prioritized(&pr));
    hoist_plan_hooks hooks;
    hoist_price_hooks(&pr, &hooks);
    hoist_plan_offering offs[4];
    fill(offs);
    hooks.order_offerings(hooks.ctx, NULL, offs, 4);
    assert_ptr_equal(offs[0].offering, &offerings[3]); /* reversed, not PCO */
    assert_int_equal(calls, 1);
    /* score_type reaches the policy with the policy's own context */
    bool keep = false;
    double score = 0;
    assert_int_equal(hooks.score_type(hooks.ctx, NULL, &types[0], &keep, &score), 0);
    assert_true(keep);
    assert_true(score == 7);
    assert_int_equal(calls, 2);
}

static void test_failing_policy_falls_back(void **state)
{
    (void)state;
    hoist_plan_hooks policy = {NULL, NULL, failing_order};
    hoist_price pr;
    hoist_price_init(&pr, HOIST_PRICE_CAPACITY_OPTIMIZED, &policy);
    hoist_plan_hooks hooks;
    hoist_price_hooks(&pr, &hooks);
    hoist_plan_offering offs[4];
    fill(offs);
    assert_int_equal(hooks.order_offerings(hooks.ctx, NULL, offs, 4), 0);
    assert_int_equal(pr.policy_errors, 1);
    assert_ptr_equal(offs[0].offering, &offerings[1]); /* the PCO default */
}

static void test_strategy_names(void **state)
{
    (void)state;
    hoist_price_strategy s;
    assert_int_equal(hoist_price_strategy_parse("price-capacity-optimized", &s), 0);
    assert_int_equal(s, HOIST_PRICE_CAPACITY_OPTIMIZED);
    assert_string_equal(hoist_price_strategy_name(s), "price-capacity-optimized");
    assert_int_equal(hoist_price_strategy_parse("lowest-price", &s), 0);
    assert_int_equal(s, HOIST_PRICE_LOWEST);
    assert_int_equal(hoist_price_strategy_parse("cheapest", &s), -1);
    assert_int_equal(hoist_price_strategy_parse(NULL, &s), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lowest_keeps_planner_order),
        cmocka_unit_test(test_pco_prefers_deep_pool_within_tolerance),
        cmocka_unit_test(test_policy_order_wins),
        cmocka_unit_test(test_failing_policy_falls_back),
        cmocka_unit_test(test_strategy_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
