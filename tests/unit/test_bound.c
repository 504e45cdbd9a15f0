/* Unit tests for sched/bound: the cheapest fractional cover of a demand. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sched/bound.h"

#define CPU(n) ((hoist_milli)(n) * 1000)
#define GIB(n) ((hoist_milli)(n) * 1024 * 1024 * 1024 * 1000)

static void assert_has(const char *msg, const char *needle)
{
    if (!strstr(msg, needle))
        fail_msg("message \"%s\" lacks \"%s\"", msg, needle);
}

static void assert_close(double got, double want)
{
    if (fabs(got - want) > 1e-9 * (1.0 + fabs(want)))
        fail_msg("got %.15g, want %.15g", got, want);
}

static double solve(const hoist_cover_item *items, size_t n, const hoist_milli *demand, int dims)
{
    double v = -1;
    hoist_err err = {{0}};
    if (hoist_cover_lower_bound(items, n, demand, dims, &v, &err) != 0)
        fail_msg("%s", err.msg);
    return v;
}

/* The returned mix covers the demand and costs what it says. */
static void assert_cover_valid(const hoist_cover_item *items, size_t n, const hoist_milli *demand,
                               int dims, const hoist_cover *c)
{
    assert_true(c->feasible);
    assert_true(c->n_used <= (size_t)dims);
    double cost = 0;
    double got[HOIST_COVER_MAX_DIMS] = {0};
    for (size_t u = 0; u < c->n_used; u++) {
        assert_true(c->item[u] < n);
        assert_true(c->amount[u] > 0);
        cost += c->amount[u] * items[c->item[u]].price;
        for (int k = 0; k < dims; k++)
            got[k] += c->amount[u] * (double)items[c->item[u]].cap[k];
    }
    for (int k = 0; k < dims; k++)
        if (got[k] < (double)demand[k] * (1 - 1e-9) - 1e-9)
            fail_msg("resource %d: covered %.12g of %lld", k, got[k], (long long)demand[k]);
    assert_close(cost, c->cost);
}

/* ---- hand cases --------------------------------------------------------- */

static void test_two_types_mix(void **state)
{
    (void)state;
    /* c-type 2 cpu / 2 GiB and r-type 1 cpu / 4 GiB, both 1.0; demand 4 cpu,
     * 8 GiB: 4/3 of each (cost 8/3) beats 4 of either alone (cost 4). */
    hoist_cover_item items[] = {{{CPU(2), GIB(2)}, 1.0}, {{CPU(1), GIB(4)}, 1.0}};
    hoist_milli demand[] = {CPU(4), GIB(8)};
    hoist_cover c;
    hoist_err err = {{0}};
    assert_int_equal(hoist_cover_solve(items, 2, demand, 2, &c, &err), 0);
    assert_close(c.cost, 8.0 / 3.0);
    assert_int_equal(c.n_used, 2);
    assert_cover_valid(items, 2, demand, 2, &c);
    for (size_t u = 0; u < c.n_used; u++)
        assert_close(c.amount[u], 4.0 / 3.0);
}

static void test_single_binding_resource(void **state)
{
    (void)state;
    /* 2 cpu / 8 GiB at 1.0, demand 4 cpu / 8 GiB: cpu binds, 2 machines. */
    hoist_cover_item items[] = {{{CPU(2), GIB(8)}, 1.0}};
    hoist_milli demand[] = {CPU(4), GIB(8)};
    assert_close(solve(items, 1, demand, 2), 2.0);
    /* An expensive extra type changes nothing. */
    hoist_cover_item more[] = {{{CPU(2), GIB(8)}, 1.0}, {{CPU(4), GIB(16)}, 2.5}};
    assert_close(solve(more, 2, demand, 2), 2.0);
}

static void test_zero_demand(void **state)
{
    (void)state;
    hoist_cover_item items[] = {{{CPU(2), GIB(8)}, 1.0}};
    hoist_milli demand[] = {0, 0};
    assert_close(solve(items, 1, demand, 2), 0.0);
    /* Zero demand needs nothing even when no item exists. */
    assert_close(solve(NULL, 0, demand, 2), 0.0);
    /* A dimension with zero demand that no item has is irrelevant. */
    hoist_cover_item no_gpu[] = {{{CPU(2), GIB(8), 0}, 1.0}};
    hoist_milli d3[] = {CPU(2), GIB(1), 0};
    assert_close(solve(no_gpu, 1, d3, 3), 1.0);
}

static void test_uncoverable(void **state)
{
    (void)state;
    /* GPU demanded, no item has a GPU. */
    hoist_cover_item items[] = {{{CPU(2), GIB(8), 0}, 1.0}, {{CPU(8), GIB(32), 0}, 3.0}};
    hoist_milli demand[] = {CPU(1), GIB(1), 1000};
    hoist_cover c;
    hoist_err err = {{0}};
    assert_int_equal(hoist_cover_solve(items, 2, demand, 3, &c, &err), 0);
    assert_false(c.feasible);
    assert_true(isinf(c.cost) && c.cost > 0);
    assert_int_equal(c.n_used, 0);
    assert_true(isinf(solve(items, 2, demand, 3)));
    /* No items at all. */
    assert_true(isinf(solve(NULL, 0, demand, 3)));
}

static void test_zero_capacity_items(void **state)
{
    (void)state;
    /* A memory-only item (0 cpu) at 0.1 and a cpu-only item at 1.0: demand
     * 3 cpu / 5 GiB costs 3 x 1.0 + 0.5 x 0.1. */
    hoist_cover_item items[] = {{{0, GIB(10)}, 0.1}, {{CPU(1), 0}, 1.0}};
    hoist_milli demand[] = {CPU(3), GIB(5)};
    assert_close(solve(items, 2, demand, 2), 3.05);
    /* An all-zero item, even free, does not help. */
    hoist_cover_item with_empty[] = {{{0, 0}, 0.0}, {{0, GIB(10)}, 0.1}, {{CPU(1), 0}, 1.0}};
    assert_close(solve(with_empty, 3, demand, 2), 3.05);
}

static void test_free_item(void **state)
{
    (void)state;
    /* A free item that covers everything makes the bound 0. */
    hoist_cover_item items[] = {{{CPU(2), GIB(8)}, 1.0}, {{CPU(1), GIB(1)}, 0.0}};
    hoist_milli demand[] = {CPU(40), GIB(80)};
    assert_close(solve(items, 2, demand, 2), 0.0);
    /* A free item covering memory only: the cpu still costs. */
    hoist_cover_item mem_free[] = {{{CPU(2), GIB(8)}, 1.0}, {{0, GIB(1)}, 0.0}};
    assert_close(solve(mem_free, 2, demand, 2), 20.0);
}

static void test_duplicates(void **state)
{
    (void)state;
    /* Many identical items (degenerate ratio ties) give the single item's bound. */
    hoist_cover_item items[40];
    for (size_t i = 0; i < 40; i++)
        items[i] = (hoist_cover_item){{CPU(2), GIB(4)}, 0.5};
    hoist_milli demand[] = {CPU(10), GIB(20)};
    hoist_cover c;
    hoist_err err = {{0}};
    assert_int_equal(hoist_cover_solve(items, 40, demand, 2, &c, &err), 0);
    assert_close(c.cost, 2.5);
    assert_cover_valid(items, 40, demand, 2, &c);
    /* Pairs of identical mixes: duplicates of both types of the mix case. */
    hoist_cover_item mix[] = {{{CPU(2), GIB(2)}, 1.0}, {{CPU(1), GIB(4)}, 1.0},
                              {{CPU(2), GIB(2)}, 1.0}, {{CPU(1), GIB(4)}, 1.0},
                              {{CPU(3), GIB(3)}, 1.5}};
    hoist_milli d2[] = {CPU(4), GIB(8)};
    assert_close(solve(mix, 5, d2, 2), 8.0 / 3.0);
}

static void test_one_dimension(void **state)
{
    (void)state;
    /* K = 1: the best price per unit wins. */
    hoist_cover_item items[] = {{{CPU(2)}, 0.3}, {{CPU(4)}, 0.5}, {{CPU(8)}, 1.1}};
    hoist_milli demand[] = {CPU(10)};
    assert_close(solve(items, 3, demand, 1), 10 * 0.125);
}

static void test_four_dimensions(void **state)
{
    (void)state;
    /* cpu, memory, pods, gpu: the GPU item is needed for the GPU only; the
     * rest is cheapest on the general item. */
    hoist_cover_item items[] = {
        {{CPU(4), GIB(16), 110000, 0}, 0.2},
        {{CPU(8), GIB(32), 58000, 1000}, 1.0},
    };
    hoist_milli demand[] = {CPU(16), GIB(64), 20000, 1000};
    /* One GPU item (8 cpu, 32 GiB) plus 2 general items for the rest. */
    hoist_cover c;
    hoist_err err = {{0}};
    assert_int_equal(hoist_cover_solve(items, 2, demand, 4, &c, &err), 0);
    assert_close(c.cost, 1.0 + 2 * 0.2);
    assert_cover_valid(items, 2, demand, 4, &c);
}

/* ---- bad input ---------------------------------------------------------- */

static void test_bad_input(void **state)
{
    (void)state;
    hoist_cover_item items[] = {{{CPU(2), GIB(8)}, 1.0}};
    hoist_milli demand[] = {CPU(1), GIB(1)};
    hoist_err err = {{0}};
    double v;
    assert_int_equal(hoist_cover_lower_bound(items, 1, demand, 0, &v, &err), -1);
    assert_has(err.msg, "dims 0 out of range");
    assert_int_equal(hoist_cover_lower_bound(items, 1, demand, 5, &v, &err), -1);
    assert_has(err.msg, "dims 5 out of range");

    hoist_cover_item neg_price[] = {{{CPU(2), GIB(8)}, 1.0}, {{CPU(2), GIB(8)}, -0.5}};
    assert_int_equal(hoist_cover_lower_bound(neg_price, 2, demand, 2, &v, &err), -1);
    assert_has(err.msg, "item 1: price -0.5");

    hoist_cover_item nan_price[] = {{{CPU(2), GIB(8)}, NAN}};
    assert_int_equal(hoist_cover_lower_bound(nan_price, 1, demand, 2, &v, &err), -1);
    assert_has(err.msg, "item 0: price");

    hoist_cover_item inf_price[] = {{{CPU(2), GIB(8)}, INFINITY}};
    assert_int_equal(hoist_cover_lower_bound(inf_price, 1, demand, 2, &v, &err), -1);
    assert_has(err.msg, "not a finite amount");

    hoist_cover_item neg_cap[] = {{{CPU(2), -5}, 1.0}};
    assert_int_equal(hoist_cover_lower_bound(neg_cap, 1, demand, 2, &v, &err), -1);
    assert_has(err.msg, "item 0: cap[1]: negative (-5)");

    hoist_milli neg_demand[] = {CPU(1), -1};
    assert_int_equal(hoist_cover_lower_bound(items, 1, neg_demand, 2, &v, &err), -1);
    assert_has(err.msg, "demand[1]: negative (-1)");

    assert_int_equal(hoist_cover_lower_bound(NULL, 3, demand, 2, &v, &err), -1);
    assert_has(err.msg, "3 items but no array");
}

/* ---- brute force: every basic solution of  A x - s = D,  x, s >= 0 ------ */

/* Solve the k x k system M z = b; 0, or -1 when singular. */
static int gauss(int k, double M[4][5], double z[4])
{
    for (int c = 0; c < k; c++) {
        int p = c;
        for (int i = c + 1; i < k; i++)
            if (fabs(M[i][c]) > fabs(M[p][c]))
                p = i;
        if (fabs(M[p][c]) < 1e-12)
            return -1;
        for (int j = 0; j <= k; j++) {
            double t = M[c][j];
            M[c][j] = M[p][j];
            M[p][j] = t;
        }
        for (int i = 0; i < k; i++) {
            if (i == c)
                continue;
            double f = M[i][c] / M[c][c];
            for (int j = c; j <= k; j++)
                M[i][j] -= f * M[c][j];
        }
    }
    for (int c = 0; c < k; c++)
        z[c] = M[c][k] / M[c][c];
    return 0;
}

typedef struct brute {
    const hoist_cover_item *items;
    size_t n;
    const hoist_milli *demand;
    int dims;
    size_t pick[4];
    double best;
} brute;

/* Column j of [A | -I]: an item's capacities or a surplus. */
static double column(const brute *b, size_t j, int row)
{
    if (j < b->n)
        return (double)b->items[j].cap[row];
    return j - b->n == (size_t)row ? -1.0 : 0.0;
}

static void brute_rec(brute *b, int depth, size_t from)
{
    if (depth == b->dims) {
        double M[4][5], z[4];
        for (int r = 0; r < b->dims; r++) {
            for (int c = 0; c < b->dims; c++)
                M[r][c] = column(b, b->pick[c], r);
            M[r][b->dims] = (double)b->demand[r];
        }
        if (gauss(b->dims, M, z) < 0)
            return;
        double cost = 0;
        for (int c = 0; c < b->dims; c++) {
            if (z[c] < -1e-9)
                return;
            if (b->pick[c] < b->n)
                cost += z[c] * b->items[b->pick[c]].price;
        }
        if (cost < b->best)
            b->best = cost;
        return;
    }
    for (size_t j = from; j < b->n + (size_t)b->dims; j++) {
        b->pick[depth] = j;
        brute_rec(b, depth + 1, j + 1);
    }
}

static double brute_force(const hoist_cover_item *items, size_t n, const hoist_milli *demand,
                          int dims)
{
    brute b = {items, n, demand, dims, {0}, INFINITY};
    brute_rec(&b, 0, 0);
    return b.best;
}

/* Deterministic generator (xorshift64*), local to the test. */
static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

static void random_instances(int dims, int trials, size_t max_items, int cap_range, uint64_t seed)
{
    uint64_t s = seed;
    hoist_cover_item items[16];
    for (int t = 0; t < trials; t++) {
        size_t n = (size_t)(next_rand(&s) % max_items);
        for (size_t i = 0; i < n; i++) {
            if (i > 0 && next_rand(&s) % 6 == 0) { /* a duplicate */
                items[i] = items[next_rand(&s) % i];
                continue;
            }
            for (int k = 0; k < dims; k++)
                items[i].cap[k] = (hoist_milli)(next_rand(&s) % (uint64_t)cap_range) * 1000;
            items[i].price = (double)(1 + next_rand(&s) % 8) / 4.0;
        }
        hoist_milli demand[4];
        for (int k = 0; k < dims; k++)
            demand[k] = (hoist_milli)(next_rand(&s) % 20) * 500;
        hoist_cover c;
        hoist_err err = {{0}};
        if (hoist_cover_solve(items, n, demand, dims, &c, &err) != 0)
            fail_msg("trial %d: %s", t, err.msg);
        double want = brute_force(items, n, demand, dims);
        if (isinf(want)) {
            if (c.feasible || !isinf(c.cost))
                fail_msg("dims %d trial %d: brute force finds no cover, solver %.12g", dims, t,
                         c.cost);
            continue;
        }
        if (fabs(c.cost - want) > 1e-9 * (1.0 + want))
            fail_msg("dims %d trial %d (n %zu): solver %.15g, brute force %.15g", dims, t, n,
                     c.cost, want);
        assert_cover_valid(items, n, demand, dims, &c);
    }
}

static void test_random_k1(void **state)
{
    (void)state;
    random_instances(1, 400, 8, 6, 1);
}

static void test_random_k2(void **state)
{
    (void)state;
    random_instances(2, 1500, 12, 6, 2);
    random_instances(2, 500, 12, 1000, 22);
}

static void test_random_k3(void **state)
{
    (void)state;
    random_instances(3, 800, 10, 5, 3);
    random_instances(3, 300, 10, 1000, 33);
}

static void test_random_k4(void **state)
{
    (void)state;
    random_instances(4, 400, 9, 4, 4);
    random_instances(4, 200, 9, 1000, 44);
}

/* A catalog-sized K = 2 instance with realistic magnitudes (milli-cpu and
 * milli-bytes differ by ~10^9), checked against the pair enumeration. */
static void test_catalog_sized(void **state)
{
    (void)state;
    enum { N = 400 };
    hoist_cover_item *items = calloc(N, sizeof *items);
    assert_non_null(items);
    uint64_t s = 7;
    for (size_t i = 0; i < N; i++) {
        hoist_milli cpu = (hoist_milli)(1 + next_rand(&s) % 192);
        hoist_milli gib = cpu * (hoist_milli)(1 + next_rand(&s) % 8);
        items[i].cap[0] = CPU(cpu);
        items[i].cap[1] = GIB(gib);
        /* 0.04 per vCPU plus 0.005 per GiB, with +-20 % noise. */
        double noise = 0.8 + 0.4 * (double)(next_rand(&s) % 1000) / 1000.0;
        items[i].price = (0.04 * (double)cpu + 0.005 * (double)gib) * noise;
    }
    hoist_milli demand[] = {CPU(5000), GIB(40000)};
    hoist_cover c;
    hoist_err err = {{0}};
    assert_int_equal(hoist_cover_solve(items, N, demand, 2, &c, &err), 0);
    double want = brute_force(items, N, demand, 2);
    assert_close(c.cost, want);
    assert_cover_valid(items, N, demand, 2, &c);
    free(items);
}

/* The two-resource frontier answers what the LP answers, on random
 * instances (duplicates, zero capacities, one-resource items) and demands. */
static void test_cover2_matches_lp(void **state)
{
    (void)state;
    uint64_t seed = 99;
    for (int trial = 0; trial < 2000; trial++) {
        size_t n = 1 + next_rand(&seed) % 12;
        hoist_cover_item items[12];
        memset(items, 0, sizeof items);
        for (size_t i = 0; i < n; i++) {
            items[i].cap[0] = (hoist_milli)(next_rand(&seed) % 9) * 1000;
            items[i].cap[1] = (hoist_milli)(next_rand(&seed) % 9) * 1000;
            items[i].price = (double)(1 + next_rand(&seed) % 8) / 4.0;
        }
        hoist_cover2 f;
        hoist_err err = {{0}};
        if (hoist_cover2_init(&f, items, n, &err) != 0)
            fail_msg("trial %d: %s", trial, err.msg);
        for (int q = 0; q < 5; q++) {
            hoist_milli demand[2] = {(hoist_milli)(next_rand(&seed) % 20) * 500,
                                     (hoist_milli)(next_rand(&seed) % 20) * 500};
            double want;
            if (hoist_cover_lower_bound(items, n, demand, 2, &want, &err) != 0)
                fail_msg("trial %d: %s", trial, err.msg);
            double got = hoist_cover2_cost(&f, (double)demand[0], (double)demand[1]);
            if (isinf(want) != isinf(got) || (!isinf(want) && fabs(got - want) > 1e-9 * (1 + want)))
                fail_msg("trial %d query %d: frontier %.12g, LP %.12g", trial, q, got, want);
        }
        hoist_cover2_free(&f);
    }
}

static void test_cover2_bad_input(void **state)
{
    (void)state;
    hoist_cover_item bad[1] = {{{1000, 1000, 0, 0}, -1.0}};
    hoist_cover2 f;
    hoist_err err = {{0}};
    assert_int_equal(hoist_cover2_init(&f, bad, 1, &err), -1);
    assert_non_null(strstr(err.msg, "item 0"));
    assert_int_equal(hoist_cover2_init(&f, NULL, 0, &err), 0);
    assert_true(isinf(hoist_cover2_cost(&f, 1, 1)));
    assert_true(hoist_cover2_cost(&f, 0, 0) == 0.0);
    hoist_cover2_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_types_mix),
        cmocka_unit_test(test_single_binding_resource),
        cmocka_unit_test(test_zero_demand),
        cmocka_unit_test(test_uncoverable),
        cmocka_unit_test(test_zero_capacity_items),
        cmocka_unit_test(test_free_item),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_one_dimension),
        cmocka_unit_test(test_four_dimensions),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_random_k1),
        cmocka_unit_test(test_random_k2),
        cmocka_unit_test(test_random_k3),
        cmocka_unit_test(test_random_k4),
        cmocka_unit_test(test_catalog_sized),
        cmocka_unit_test(test_cover2_matches_lp),
        cmocka_unit_test(test_cover2_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
