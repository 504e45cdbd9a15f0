/*
 * sched/bound.c - cheapest fractional cover by a dense dual simplex.
 *
 * The LP  min p.x  s.t.  B x >= 1, x >= 0  (B: m <= 4 rows, one per demanded
 * resource scaled so the demand is 1; each item column scaled so its largest
 * entry is 1, which keeps every tableau entry in a sane range) is written
 * with surplus variables s as  -B x + s = -1. The basis {s} has reduced costs
 * p >= 0, so it is dual feasible and the dual simplex runs from there until
 * every basic variable is >= 0. The final basis is re-solved from the scaled
 * data (Gaussian elimination with partial pivoting) so the reported cost does
 * not carry the rounding of the pivots.
 */
#include "sched/bound.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A basic variable below -FEAS_TOL is infeasible (the right-hand side is 1). */
#define FEAS_TOL 1e-9
/* Pivot entries smaller than PIVOT_TOL (entries are scaled to at most 1) are
 * treated as zero. */
#define PIVOT_TOL 1e-11

typedef struct tableau {
    int m;           /* rows: demanded resources */
    size_t n;        /* item columns; surplus column of row k is n + k */
    size_t ncol;     /* n + m */
    double *t;       /* m rows of ncol + 1 entries (last: right-hand side) */
    double *d;       /* reduced costs, ncol */
    double *scale;   /* item column scale: x_i = x'_i / scale[i] */
    double *col;     /* scaled item columns, n * m (for the final re-solve) */
    size_t basis[HOIST_COVER_MAX_DIMS];
} tableau;

#define T(tb, r, j) ((tb)->t[(size_t)(r) * ((tb)->ncol + 1) + (j)])

static void tableau_free(tableau *tb)
{
    free(tb->t);
    free(tb->d);
    free(tb->scale);
    free(tb->col);
}

/* Pivot on row r, column j. */
static void pivot(tableau *tb, int r, size_t j)
{
    size_t w = tb->ncol + 1;
    double *row = &tb->t[(size_t)r * w];
    double inv = 1.0 / row[j];
    for (size_t k = 0; k < w; k++)
        row[k] *= inv;
    row[j] = 1.0;
    for (int q = 0; q < tb->m; q++) {
        if (q == r)
            continue;
        double *other = &tb->t[(size_t)q * w];
        double f = other[j];
        if (f == 0.0)
            continue;
        for (size_t k = 0; k < w; k++)
            other[k] -= f * row[k];
        other[j] = 0.0;
    }
    double f = tb->d[j];
    if (f != 0.0) {
        for (size_t k = 0; k < tb->ncol; k++)
            tb->d[k] -= f * row[k];
        tb->d[j] = 0.0;
    }
    tb->basis[r] = j;
}

/* Run the dual simplex with Bland's rule. Returns 0 at the optimum, -1 when
 * some infeasible row has no entering column (numerical trouble: the caller
 * has already checked feasibility exactly) or the pivot limit is hit. */
static int dual_simplex(tableau *tb)
{
    size_t limit = 1000 + 50 * tb->ncol;
    for (size_t iter = 0; iter < limit; iter++) {
        int r = -1;
        for (int q = 0; q < tb->m; q++)
            if (T(tb, q, tb->ncol) < -FEAS_TOL && (r < 0 || tb->basis[q] < tb->basis[r]))
                r = q;
        if (r < 0)
            return 0;
        size_t enter = tb->ncol;
        double best = 0.0;
        for (size_t j = 0; j < tb->ncol; j++) {
            double a = T(tb, r, j);
            if (a >= -PIVOT_TOL)
                continue;
            double d = tb->d[j] > 0.0 ? tb->d[j] : 0.0;
            double ratio = d / -a;
            /* Strictly smaller (beyond rounding) wins; ties keep the lowest j. */
            if (enter == tb->ncol || ratio < best - 1e-12 * (1.0 + best)) {
                enter = j;
                best = ratio;
            }
        }
        if (enter == tb->ncol)
            return -1;
        pivot(tb, r, enter);
    }
    return -1;
}

/* Solve the m x m system M y = 1 (row-major, destroyed) by Gaussian
 * elimination with partial pivoting. Returns 0, or -1 when singular. */
static int solve_ones(int m, double M[HOIST_COVER_MAX_DIMS][HOIST_COVER_MAX_DIMS],
                      double y[HOIST_COVER_MAX_DIMS])
{
    double rhs[HOIST_COVER_MAX_DIMS];
    for (int i = 0; i < m; i++)
        rhs[i] = 1.0;
    for (int c = 0; c < m; c++) {
        int p = c;
        for (int i = c + 1; i < m; i++)
            if (fabs(M[i][c]) > fabs(M[p][c]))
                p = i;
        if (fabs(M[p][c]) < 1e-14)
            return -1;
        if (p != c) {
            for (int k = 0; k < m; k++) {
                double tmp = M[c][k];
                M[c][k] = M[p][k];
                M[p][k] = tmp;
            }
            double tmp = rhs[c];
            rhs[c] = rhs[p];
            rhs[p] = tmp;
        }
        for (int i = c + 1; i < m; i++) {
            double f = M[i][c] / M[c][c];
            for (int k = c; k < m; k++)
                M[i][k] -= f * M[c][k];
            rhs[i] -= f * rhs[c];
        }
    }
    for (int c = m - 1; c >= 0; c--) {
        double s = rhs[c];
        for (int k = c + 1; k < m; k++)
            s -= M[c][k] * y[k];
        y[c] = s / M[c][c];
    }
    return 0;
}

/* The basic values of the final basis: re-solved from the scaled columns when
 * possible, else read from the tableau. */
static void basic_values(const tableau *tb, double x[HOIST_COVER_MAX_DIMS])
{
    double M[HOIST_COVER_MAX_DIMS][HOIST_COVER_MAX_DIMS];
    for (int c = 0; c < tb->m; c++) {
        size_t j = tb->basis[c];
        for (int r = 0; r < tb->m; r++)
            M[r][c] = j < tb->n ? tb->col[j * (size_t)tb->m + (size_t)r]
                                : (j - tb->n == (size_t)r ? -1.0 : 0.0);
    }
    if (solve_ones(tb->m, M, x) == 0)
        return;
    for (int r = 0; r < tb->m; r++)
        x[r] = T(tb, r, tb->ncol);
}

static int check_input(const hoist_cover_item *items, size_t n, const hoist_milli *demand,
                       int dims, hoist_err *err)
{
    if (dims < 1 || dims > HOIST_COVER_MAX_DIMS)
        return hoist_errf(err, "cover: dims %d out of range 1..%d", dims, HOIST_COVER_MAX_DIMS);
    if (n > 0 && !items)
        return hoist_errf(err, "cover: %zu items but no array", n);
    for (int k = 0; k < dims; k++)
        if (demand[k] < 0)
            return hoist_errf(err, "cover: demand[%d]: negative (%lld)", k,
                              (long long)demand[k]);
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(items[i].price) || items[i].price < 0)
            return hoist_errf(err, "cover: item %zu: price %g is not a finite amount >= 0", i,
                              items[i].price);
        for (int k = 0; k < dims; k++)
            if (items[i].cap[k] < 0)
                return hoist_errf(err, "cover: item %zu: cap[%d]: negative (%lld)", i, k,
                                  (long long)items[i].cap[k]);
    }
    return 0;
}

int hoist_cover_solve(const hoist_cover_item *items, size_t n, const hoist_milli *demand,
                      int dims, hoist_cover *out, hoist_err *err)
{
    memset(out, 0, sizeof *out);
    out->feasible = true;
    if (check_input(items, n, demand, dims, err) < 0)
        return -1;

    /* The demanded resources, each coverable by some item (checked exactly). */
    int use[HOIST_COVER_MAX_DIMS], m = 0;
    for (int k = 0; k < dims; k++) {
        if (demand[k] == 0)
            continue;
        bool covered = false;
        for (size_t i = 0; i < n && !covered; i++)
            covered = items[i].cap[k] > 0;
        if (!covered) {
            out->feasible = false;
            out->cost = INFINITY;
            return 0;
        }
        use[m++] = k;
    }
    if (m == 0)
        return 0;

    tableau tb = {.m = m, .n = n, .ncol = n + (size_t)m};
    tb.t = calloc((size_t)m * (tb.ncol + 1), sizeof *tb.t);
    tb.d = calloc(tb.ncol, sizeof *tb.d);
    tb.scale = calloc(n ? n : 1, sizeof *tb.scale);
    tb.col = calloc(n ? n * (size_t)m : 1, sizeof *tb.col);
    if (!tb.t || !tb.d || !tb.scale || !tb.col) {
        tableau_free(&tb);
        return hoist_errf(err, "cover: out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        double *c = &tb.col[i * (size_t)m], big = 0.0;
        for (int r = 0; r < m; r++) {
            c[r] = (double)items[i].cap[use[r]] / (double)demand[use[r]];
            if (c[r] > big)
                big = c[r];
        }
        /* An item with nothing demanded can never help: a zero column that
         * the ratio test never picks. */
        tb.scale[i] = big > 0.0 ? big : 1.0;
        for (int r = 0; r < m; r++) {
            c[r] /= tb.scale[i];
            T(&tb, r, i) = -c[r];
        }
        tb.d[i] = items[i].price / tb.scale[i];
    }
    for (int r = 0; r < m; r++) {
        T(&tb, r, n + (size_t)r) = 1.0;
        T(&tb, r, tb.ncol) = -1.0;
        tb.basis[r] = n + (size_t)r;
    }

    if (dual_simplex(&tb) < 0) {
        tableau_free(&tb);
        return hoist_errf(err, "cover: the simplex did not reach an optimum (%zu items, %d "
                               "resources): numerically degenerate input", n, m);
    }
    double x[HOIST_COVER_MAX_DIMS];
    basic_values(&tb, x);
    double cost = 0.0;
    for (int r = 0; r < m; r++) {
        size_t j = tb.basis[r];
        if (j >= n || x[r] <= 0.0)
            continue;
        double amount = x[r] / tb.scale[j];
        cost += amount * items[j].price;
        out->item[out->n_used] = j;
        out->amount[out->n_used] = amount;
        out->n_used++;
    }
    out->cost = cost;
    tableau_free(&tb);
    return 0;
}

int hoist_cover_lower_bound(const hoist_cover_item *items, size_t n, const hoist_milli *demand,
                            int dims, double *out, hoist_err *err)
{
    hoist_cover c;
    if (hoist_cover_solve(items, n, demand, dims, &c, err) < 0)
        return -1;
    *out = c.cost;
    return 0;
}

/* ---- two resources: the frontier of what a dollar buys ---- */

typedef struct point2 {
    double x, y;
} point2;

static int compare_point2(const void *pa, const void *pb)
{
    const point2 *a = pa, *b = pb;
    if (a->x != b->x)
        return a->x < b->x ? -1 : 1;
    if (a->y != b->y)
        return a->y > b->y ? -1 : 1;
    return 0;
}

/* Cross product of (b - a) and (c - a). */
static double cross2(point2 a, point2 b, point2 c)
{
    return (b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x);
}

int hoist_cover2_init(hoist_cover2 *f, const hoist_cover_item *items, size_t n, hoist_err *err)
{
    f->n = 0;
    f->x = f->y = NULL;
    point2 *p = malloc((n ? n : 1) * sizeof *p);
    if (!p)
        return hoist_errf(err, "cover: out of memory");
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (items[i].cap[0] < 0 || items[i].cap[1] < 0) {
            free(p);
            return hoist_errf(err, "cover: item %zu: negative capacity", i);
        }
        if (!isfinite(items[i].price) || items[i].price < 0) {
            free(p);
            return hoist_errf(err, "cover: item %zu: price %g is not a valid price", i,
                              items[i].price);
        }
        if (items[i].cap[0] == 0 && items[i].cap[1] == 0)
            continue;
        if (items[i].price == 0) {
            /* free capacity covers any demand in the resources it has */
            double big = 1e300;
            p[m++] = (point2){items[i].cap[0] ? big : 0, items[i].cap[1] ? big : 0};
            continue;
        }
        p[m++] = (point2){(double)items[i].cap[0] / items[i].price,
                          (double)items[i].cap[1] / items[i].price};
    }
    qsort(p, m, sizeof *p, compare_point2);
    /* upper hull from left to right, keeping only what descends in y */
    point2 *h = malloc((m + 1) * sizeof *h);
    if (!h) {
        free(p);
        return hoist_errf(err, "cover: out of memory");
    }
    size_t k = 0;
    for (size_t i = 0; i < m; i++) {
        /* a point dominated in y by the hull's last point, with smaller x, is useless */
        while (k >= 1 && h[k - 1].y <= p[i].y)
            k--;
        while (k >= 2 && cross2(h[k - 2], h[k - 1], p[i]) >= 0)
            k--;
        h[k++] = p[i];
    }
    free(p);
    f->x = malloc((k ? k : 1) * sizeof *f->x);
    f->y = malloc((k ? k : 1) * sizeof *f->y);
    if (!f->x || !f->y) {
        free(h);
        hoist_cover2_free(f);
        return hoist_errf(err, "cover: out of memory");
    }
    for (size_t i = 0; i < k; i++) {
        f->x[i] = h[i].x;
        f->y[i] = h[i].y;
    }
    f->n = k;
    free(h);
    return 0;
}

void hoist_cover2_free(hoist_cover2 *f)
{
    free(f->x);
    free(f->y);
    f->x = f->y = NULL;
    f->n = 0;
}

double hoist_cover2_cost(const hoist_cover2 *f, double d0, double d1)
{
    if (d0 <= 0 && d1 <= 0)
        return 0.0;
    if (f->n == 0)
        return INFINITY;
    /* The frontier: (0, y0) -> hull vertices -> (x_last, 0). A dollar buys
     * s * (d0, d1) for the largest s with s * d on it; the cover costs 1/s.
     * Demands along an axis meet the frontier at its ends. */
    if (d0 <= 0)
        return f->y[0] > 0 ? d1 / f->y[0] : INFINITY;
    if (d1 <= 0)
        return f->x[f->n - 1] > 0 ? d0 / f->x[f->n - 1] : INFINITY;
    double best = 0.0;
    size_t segs = f->n + 1;
    for (size_t i = 0; i < segs; i++) {
        double ax = i == 0 ? 0.0 : f->x[i - 1], ay = i == 0 ? f->y[0] : f->y[i - 1];
        double bx = i == f->n ? f->x[f->n - 1] : f->x[i];
        double by = i == f->n ? 0.0 : f->y[i];
        /* solve s*d = a + u*(b - a) for s, u in [0, 1] */
        double ex = bx - ax, ey = by - ay;
        double det = d0 * (-ey) - d1 * (-ex);
        if (det == 0)
            continue;
        double s = (ax * (-ey) - ay * (-ex)) / det;
        double u = (d0 * ay - d1 * ax) / det;
        if (u >= -1e-12 && u <= 1 + 1e-12 && s > best)
            best = s;
    }
    return best > 0 ? 1.0 / best : INFINITY;
}
