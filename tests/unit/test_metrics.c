/* tests/unit/test_metrics.c - the counter/gauge registry and its Prometheus text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "host/metrics.h"

static void test_render_help_type_and_order(void **state)
{
    (void)state;
    hoist_metrics *m = hoist_metrics_new();
    assert_non_null(m);
    hoist_kv z[] = {{"zone", "b"}, {"type", "m5.large"}};
    hoist_kv a[] = {{"type", "c5.large"}, {"zone", "a"}};
    assert_int_equal(hoist_metrics_gauge_set(m, "zz_nodes", "Nodes.", NULL, 0, 3, NULL), 0);
    assert_int_equal(hoist_metrics_counter_add(m, "aa_launches_total", "Launches.", z, 2, 2, NULL), 0);
    assert_int_equal(hoist_metrics_counter_add(m, "aa_launches_total", "ignored", a, 2, 1, NULL), 0);
    assert_int_equal(hoist_metrics_counter_add(m, "aa_launches_total", NULL, z, 2, 0.5, NULL), 0);
    char *text = hoist_metrics_render(m, NULL);
    assert_non_null(text);
    /* families by name, series by sorted label set, labels sorted by key */
    assert_string_equal(text,
                        "# HELP aa_launches_total Launches.\n"
                        "# TYPE aa_launches_total counter\n"
                        "aa_launches_total{type=\"c5.large\",zone=\"a\"} 1\n"
                        "aa_launches_total{type=\"m5.large\",zone=\"b\"} 2.5\n"
                        "# HELP zz_nodes Nodes.\n"
                        "# TYPE zz_nodes gauge\n"
                        "zz_nodes 3\n");
    /* rendering is stable */
    char *again = hoist_metrics_render(m, NULL);
    assert_string_equal(text, again);
    free(again);
    free(text);
    double v = 0;
    hoist_kv z_reordered[] = {{"type", "m5.large"}, {"zone", "b"}};
    assert_int_equal(hoist_metrics_get(m, "aa_launches_total", z_reordered, 2, &v), 0);
    assert_true(v == 2.5);
    assert_int_equal(hoist_metrics_get(m, "aa_launches_total", NULL, 0, &v), -1);
    assert_int_equal(hoist_metrics_family_count(m), 2);
    hoist_metrics_free(m);
}

static void test_label_and_help_escaping(void **state)
{
    (void)state;
    hoist_metrics *m = hoist_metrics_new();
    hoist_kv l[] = {{"path", "C:\\dir \"quoted\"\nnext"}};
    assert_int_equal(hoist_metrics_gauge_set(m, "g", "Help with \\ and\nnewline \"kept\".", l, 1, -1.5, NULL), 0);
    char *text = hoist_metrics_render(m, NULL);
    assert_string_equal(text, "# HELP g Help with \\\\ and\\nnewline \"kept\".\n"
                              "# TYPE g gauge\n"
                              "g{path=\"C:\\\\dir \\\"quoted\\\"\\nnext\"} -1.5\n");
    free(text);
    hoist_metrics_free(m);
}

static void test_special_values(void **state)
{
    (void)state;
    hoist_metrics *m = hoist_metrics_new();
    hoist_kv a = {"k", "a"}, b = {"k", "b"}, c = {"k", "c"}, d = {"k", "d"};
    hoist_metrics_gauge_set(m, "v", "", &a, 1, INFINITY, NULL);
    hoist_metrics_gauge_set(m, "v", "", &b, 1, -INFINITY, NULL);
    hoist_metrics_gauge_set(m, "v", "", &c, 1, NAN, NULL);
    hoist_metrics_gauge_set(m, "v", "", &d, 1, 0.1, NULL);
    assert_int_equal(hoist_metrics_gauge_add(m, "v", "", &d, 1, 0.2, NULL), 0);
    char *text = hoist_metrics_render(m, NULL);
    /* no HELP line for an empty help text; 0.1+0.2 needs 17 digits to read back */
    assert_string_equal(text, "# TYPE v gauge\n"
                              "v{k=\"a\"} +Inf\n"
                              "v{k=\"b\"} -Inf\n"
                              "v{k=\"c\"} NaN\n"
                              "v{k=\"d\"} 0.30000000000000004\n");
    free(text);
    hoist_metrics_free(m);
}

static void test_errors_name_the_problem(void **state)
{
    (void)state;
    hoist_metrics *m = hoist_metrics_new();
    hoist_err err = {{0}};
    assert_int_equal(hoist_metrics_counter_add(m, "1bad", "", NULL, 0, 1, &err), -1);
    assert_non_null(strstr(err.msg, "invalid metric name \"1bad\""));
    assert_int_equal(hoist_metrics_counter_add(m, "has-dash", "", NULL, 0, 1, &err), -1);
    assert_non_null(strstr(err.msg, "has-dash"));
    hoist_kv badlabel = {"bad-label", "x"};
    assert_int_equal(hoist_metrics_counter_add(m, "ok_total", "", &badlabel, 1, 1, &err), -1);
    assert_non_null(strstr(err.msg, "invalid label name \"bad-label\""));
    hoist_kv reserved = {"__name__", "x"};
    assert_int_equal(hoist_metrics_counter_add(m, "ok_total", "", &reserved, 1, 1, &err), -1);
    assert_non_null(strstr(err.msg, "__name__"));
    hoist_kv dup[] = {{"zone", "a"}, {"zone", "b"}};
    assert_int_equal(hoist_metrics_counter_add(m, "ok_total", "", dup, 2, 1, &err), -1);
    assert_non_null(strstr(err.msg, "label \"zone\" given twice"));
    assert_int_equal(hoist_metrics_counter_add(m, "ok_total", "", NULL, 0, -1, &err), -1);
    assert_non_null(strstr(err.msg, "ok_total"));
    assert_non_null(strstr(err.msg, "non-negative"));
    assert_int_equal(hoist_metrics_counter_add(m, "ok_total", "", NULL, 0, NAN, &err), -1);
    assert_int_equal(hoist_metrics_counter_add(m, "ok_total", "", NULL, 0, 1, &err), 0);
    assert_int_equal(hoist_metrics_gauge_set(m, "ok_total", "", NULL, 0, 1, &err), -1);
    assert_non_null(strstr(err.msg, "registered as a counter, used as a gauge"));
    hoist_kv nullval = {"k", NULL};
    assert_int_equal(hoist_metrics_gauge_set(m, "g2", "", &nullval, 1, 1, &err), -1);
    assert_non_null(strstr(err.msg, "NULL"));
    /* failed calls registered nothing but the one good counter */
    assert_int_equal(hoist_metrics_family_count(m), 1);
    hoist_metrics_free(m);
}

static void test_many_series_sorted(void **state)
{
    (void)state;
    hoist_metrics *m = hoist_metrics_new();
    for (int i = 99; i >= 0; i--) {
        char v[8];
        snprintf(v, sizeof v, "%02d", i);
        hoist_kv l = {"n", v};
        assert_int_equal(hoist_metrics_counter_add(m, "c_total", "C.", &l, 1, i, NULL), 0);
    }
    size_t len = 0;
    char *text = hoist_metrics_render(m, &len);
    assert_int_equal(len, strlen(text));
    const char *p00 = strstr(text, "n=\"00\""), *p50 = strstr(text, "n=\"50\""),
               *p99 = strstr(text, "n=\"99\"");
    assert_true(p00 && p50 && p99 && p00 < p50 && p50 < p99);
    assert_non_null(strstr(text, "c_total{n=\"42\"} 42\n"));
    free(text);
    hoist_metrics_free(m);
}

/* Histograms: cumulative buckets with le labels, _sum and _count; bad
 * bounds and values refused with the metric named. */
static void test_histogram(void **state)
{
    (void)state;
    hoist_metrics *m = hoist_metrics_new();
    assert_non_null(m);
    const double b[] = {0.1, 1, 10};
    hoist_kv st[] = {{"stage", "pack"}};
    static const double obs[] = {0.05, 0.1, 0.5, 3, 20};
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(hoist_metrics_histogram_observe(m, "x_seconds", "Took.", b, 3, st, 1,
                                                         obs[i], NULL), 0);
    char *text = hoist_metrics_render(m, NULL);
    assert_non_null(text);
    assert_string_equal(text, "# HELP x_seconds Took.\n"
                              "# TYPE x_seconds histogram\n"
                              "x_seconds_bucket{stage=\"pack\",le=\"0.1\"} 2\n"
                              "x_seconds_bucket{stage=\"pack\",le=\"1\"} 3\n"
                              "x_seconds_bucket{stage=\"pack\",le=\"10\"} 4\n"
                              "x_seconds_bucket{stage=\"pack\",le=\"+Inf\"} 5\n"
                              "x_seconds_sum{stage=\"pack\"} 23.65\n"
                              "x_seconds_count{stage=\"pack\"} 5\n");
    free(text);
    double v = 0;
    assert_int_equal(hoist_metrics_get(m, "x_seconds", st, 1, &v), 0);
    assert_true(v == 5);
    hoist_err err = {{0}};
    const double other[] = {1, 2};
    const double bad[] = {1, 1};
    assert_int_equal(hoist_metrics_histogram_observe(m, "x_seconds", NULL, other, 2, st, 1, 1,
                                                     &err), -1);
    assert_non_null(strstr(err.msg, "x_seconds: observed with other bucket bounds"));
    assert_int_equal(hoist_metrics_histogram_observe(m, "y", NULL, bad, 2, NULL, 0, 1, &err), -1);
    assert_non_null(strstr(err.msg, "y: bucket bounds must be finite and increasing"));
    assert_int_equal(hoist_metrics_histogram_observe(m, "y", NULL, b, 3, NULL, 0, NAN, &err), -1);
    assert_non_null(strstr(err.msg, "not a finite number"));
    assert_int_equal(hoist_metrics_counter_add(m, "x_seconds", NULL, NULL, 0, 1, &err), -1);
    assert_non_null(strstr(err.msg, "registered as a histogram"));
    hoist_metrics_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_render_help_type_and_order),
        cmocka_unit_test(test_label_and_help_escaping),
        cmocka_unit_test(test_special_values),
        cmocka_unit_test(test_errors_name_the_problem),
        cmocka_unit_test(test_many_series_sorted),
        cmocka_unit_test(test_histogram),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
