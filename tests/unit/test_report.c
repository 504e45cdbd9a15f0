/* tests/unit/test_report.c - the simulation report (sim/report.h): figures
 * computed by hand, JSON, comparison, HTML and the text table. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sim/report.h"

#define SEC 1000ull
#define MIN (60 * SEC)
#define HOUR (60 * MIN)
#define GIB 1073741824.0

static hoist_report *new_report(const char *name, uint64_t start, uint64_t step)
{
    hoist_report_config cfg = {start, step, name};
    hoist_report *r = hoist_report_new(&cfg);
    assert_non_null(r);
    return r;
}

static hoist_report_summary summary_of(const hoist_report *r)
{
    hoist_report_summary s;
    hoist_report_get_summary(r, &s);
    return s;
}

static void assert_has(const char *s, const char *part)
{
    if (!strstr(s, part))
        fail_msg("output does not contain \"%s\":\n%s", part, s);
}

static void assert_lacks(const char *s, const char *part)
{
    if (strstr(s, part))
        fail_msg("output contains \"%s\"", part);
}

static size_t count_of(const char *s, const char *part)
{
    size_t n = 0;
    for (const char *p = strstr(s, part); p; p = strstr(p + 1, part))
        n++;
    return n;
}

/* A JSON number at a path of object keys ("summary", "cost", NULL). */
static json_t *at(json_t *j, ...)
{
    va_list ap;
    va_start(ap, j);
    for (const char *k; (k = va_arg(ap, const char *));) {
        j = json_object_get(j, k);
        if (!j)
            fail_msg("no key %s", k);
    }
    va_end(ap);
    return j;
}

static void assert_close(double a, double b)
{
    if (!(a > b - 1e-9 && a < b + 1e-9))
        fail_msg("%.17g is not %.17g", a, b);
}

static void one_node(hoist_report *r, uint64_t t, const char *name, const char *pool,
                     const char *type, double price, double cpu, double mem)
{
    hoist_report_node_launched(r, t, name, pool, type, "on-demand", price, cpu, mem);
}

/* ---- cost --------------------------------------------------------------- */

/* $1/h launched at 0, Ready at 60 s, terminated at 2 h: billed from launch. */
static void test_cost_from_launch_to_termination(void **state)
{
    (void)state;
    hoist_report *r = new_report("hoist", 0, 0);
    one_node(r, 0, "n1", "default", "m5.large", 1.0, 2, 8 * GIB);
    hoist_report_node_ready(r, 60 * SEC, "n1");
    hoist_report_node_terminated(r, 2 * HOUR, "n1", false);
    hoist_report_finish(r, 3 * HOUR);
    hoist_report_summary s = summary_of(r);
    assert_true(s.cost == 2.0);
    assert_true(s.machine_hours == 2.0);
    assert_int_equal(s.nodes_launched, 1);
    assert_int_equal(s.nodes_terminated, 1);
    assert_int_equal(s.nodes_interrupted, 0);
    assert_int_equal(s.nodes_peak, 1);
    assert_int_equal(s.nodes_at_end, 0);
    assert_true(s.duration_s == 10800.0);
    hoist_report_free(r);
}

/* Alive at the end: billed up to the end. A spot node interrupted at 2 h. */
static void test_alive_billed_to_end_and_interrupted(void **state)
{
    (void)state;
    hoist_report *r = new_report("hoist", 0, 0);
    hoist_report_node_launched(r, 0, "spot1", "default", "m5.xlarge", "spot", 0.5, 4, 16 * GIB);
    one_node(r, 1 * HOUR, "od1", "default", "m5.large", 0.25, 2, 8 * GIB);
    hoist_report_node_terminated(r, 2 * HOUR, "spot1", true);
    hoist_report_finish(r, 5 * HOUR);
    hoist_report_summary s = summary_of(r);
    assert_true(s.cost == 0.5 * 2 + 0.25 * 4);
    assert_true(s.machine_hours == 6.0);
    assert_int_equal(s.nodes_interrupted, 1);
    assert_int_equal(s.nodes_terminated, 1);
    assert_int_equal(s.nodes_at_end, 1);

    json_t *j = hoist_report_json(r);
    assert_non_null(j);
    assert_true(json_real_value(at(j, "instanceTypes", "m5.xlarge", "cost", NULL)) == 1.0);
    assert_true(json_real_value(at(j, "instanceTypes", "m5.large", "machine_hours", NULL)) ==
                4.0);
    assert_int_equal(json_integer_value(at(j, "instanceTypes", "m5.xlarge", "interrupted", NULL)),
                     1);
    assert_true(json_real_value(at(j, "capacityTypes", "spot", "cost", NULL)) == 1.0);
    assert_true(json_real_value(at(j, "capacityTypes", "on-demand", "cost", NULL)) == 1.0);
    assert_true(json_real_value(at(j, "nodePools", "default", "cost", NULL)) == 2.0);
    assert_int_equal(json_integer_value(at(j, "nodePools", "default", "launched", NULL)), 2);
    json_decref(j);
    hoist_report_free(r);
}

/* Peak with overlapping lifetimes: n1 [0,10m], n2 [5m,20m], n3 [8m,9m]
 * (pool b), n4 [15m,30m] (pool b): 3 alive at 8 m; pool a peaks at 2. */
static void test_peak_nodes(void **state)
{
    (void)state;
    hoist_report *r = new_report("hoist", 0, 0);
    one_node(r, 0, "n1", "a", "t", 1, 1, GIB);
    one_node(r, 5 * MIN, "n2", "a", "t", 1, 1, GIB);
    one_node(r, 8 * MIN, "n3", "b", "t", 1, 1, GIB);
    hoist_report_node_terminated(r, 9 * MIN, "n3", false);
    hoist_report_node_terminated(r, 10 * MIN, "n1", false);
    one_node(r, 15 * MIN, "n4", "b", "t", 1, 1, GIB);
    hoist_report_node_terminated(r, 20 * MIN, "n2", false);
    hoist_report_node_terminated(r, 30 * MIN, "n4", false);
    hoist_report_finish(r, 40 * MIN);
    hoist_report_summary s = summary_of(r);
    assert_int_equal(s.nodes_peak, 3);
    assert_int_equal(s.nodes_launched, 4);
    assert_int_equal(s.nodes_terminated, 4);
    assert_int_equal(s.nodes_at_end, 0);
    /* 10 + 15 + 1 + 15 minutes at $1/h */
    assert_close(s.cost, 41.0 / 60.0);
    json_t *j = hoist_report_json(r);
    assert_int_equal(json_integer_value(at(j, "nodePools", "a", "peak", NULL)), 2);
    assert_int_equal(json_integer_value(at(j, "nodePools", "b", "peak", NULL)), 1);
    assert_int_equal(json_integer_value(at(j, "nodePools", "b", "launched", NULL)), 2);
    json_decref(j);
    hoist_report_free(r);
}

/* ---- utilization -------------------------------------------------------- */

/* Two 1-CPU 1-GiB pods bound for 1 h on a 4-CPU 16-GiB node Ready for 2 h. */
static void test_utilization_time_weighted(void **state)
{
    (void)state;
    hoist_report *r = new_report("hoist", 0, 0);
    one_node(r, 0, "n1", "default", "m5.xlarge", 0.5, 4, 16 * GIB);
    hoist_report_node_ready(r, 0, "n1");
    hoist_report_pod_added(r, 0, "default/a", 1, GIB);
    hoist_report_pod_added(r, 0, "default/b", 1, GIB);
    hoist_report_pod_bound(r, 0, "default/a", "n1");
    hoist_report_pod_bound(r, 0, "default/b", "n1");
    hoist_report_pod_deleted(r, 1 * HOUR, "default/a");
    hoist_report_pod_deleted(r, 1 * HOUR, "default/b");
    hoist_report_finish(r, 2 * HOUR);
    hoist_report_summary s = summary_of(r);
    assert_true(s.cpu_utilization == 0.25);
    assert_true(s.memory_utilization == 2.0 / 32.0);
    assert_true(s.requested_vcpu_hours == 2.0);
    assert_true(s.requested_memory_gib_hours == 2.0);
    assert_true(s.cost == 1.0);
    assert_true(s.cost_per_vcpu_hour == 0.5);
    assert_int_equal(s.pods_deleted, 2);
    assert_int_equal(s.pods_deleted_while_pending, 0);
    hoist_report_free(r);
}

/* Allocatable counts only from Ready: a 2-CPU node Ready at 1 h of 2 h,
 * one 1-CPU pod bound from 1 h: 1 x 1 / (2 x 1) = 0.5. Nothing requested
 * gives cost per vCPU-hour 0. */
static void test_utilization_ready_only(void **state)
{
    (void)state;
    hoist_report *r = new_report("hoist", 0, 0);
    one_node(r, 0, "n1", "default", "t", 1, 2, GIB);
    hoist_report_pod_added(r, 0, "ns/p", 1, 0);
    hoist_report_node_ready(r, 1 * HOUR, "n1");
    hoist_report_pod_bound(r, 1 * HOUR, "ns/p", "n1");
    hoist_report_finish(r, 2 * HOUR);
    hoist_report_summary s = summary_of(r);
    assert_true(s.cpu_utilization == 0.5);
    assert_true(s.pending_max_s == 3600.0);

    hoist_report *empty = new_report("empty", 0, 0);
    one_node(empty, 0, "n1", "default", "t", 1, 2, GIB);
    hoist_report_finish(empty, HOUR);
    s = summary_of(empty);
    assert_true(s.cost == 1.0);
    assert_true(s.cost_per_vcpu_hour == 0);
    assert_true(s.cpu_utilization == 0);
    hoist_report_free(empty);
    hoist_report_free(r);
}

/* ---- pending ------------------------------------------------------------ */

/* Spells 40, 20, 10, 30 s: nearest rank p50 = 2nd = 20, p95 = p99 = 4th = 40. */
static void test_pending_percentiles(void **state)
{
    (void)state;
    hoist_report *r = new_report("hoist", 0, 0);
    hoist_report_pod_added(r, 0, "ns/p1", 1, 0);
    hoist_report_pod_added(r, 5 * SEC, "ns/p2", 1, 0);
    hoist_report_pod_added(r, 10 * SEC, "ns/p4", 1, 0);
    hoist_report_pod_added(r, 20 * SEC, "ns/p3", 1, 0);
    hoist_report_pod_bound(r, 25 * SEC, "ns/p2", "n");  /* 20 */
    hoist_report_pod_bound(r, 30 * SEC, "ns/p3", "n");  /* 10 */
    hoist_report_pod_bound(r, 40 * SEC, "ns/p1", "n");  /* 40 */
    hoist_report_pod_bound(r, 40 * SEC, "ns/p4", "n");  /* 30 */
    hoist_report_finish(r, 60 * SEC);
    hoist_report_summary s = summary_of(r);
    assert_true(s.pending_p50_s == 20.0);
    assert_true(s.pending_p95_s == 40.0);
    assert_true(s.pending_p99_s == 40.0);
    assert_true(s.pending_max_s == 40.0);
    assert_int_equal(s.pending_spells, 4);
    assert_int_equal(s.pods_scheduled, 4);
    assert_int_equal(s.pods_never_scheduled, 0);
    hoist_report_free(r);
}

/* 100 spells of 100, 99, ..., 1 s (bound in reverse order): the ranks are
 * exact: p50 = 50, p95 = 95, p99 = 99, max = 100. */
static void test_pending_percentiles_hundred(void **state)
{
    (void)state;
    hoist_report *r = new_report("hoist", 0, 0);
    char key[32];
    for (int i = 100; i >= 1; i--) {
        snprintf(key, sizeof key, "ns/p%d", i);
        hoist_report_pod_added(r, (uint64_t)(100 - i) * SEC, key, 0.1, 0);
    }
    for (int i = 1; i <= 100; i++) {
        snprintf(key, sizeof key, "ns/p%d", i);
        hoist_report_pod_bound(r, 100 * SEC, key, "n"); /* spell = i s */
    }
    hoist_report_finish(r, 100 * SEC);
    hoist_report_summary s = summary_of(r);
    assert_true(s.pending_p50_s == 50.0);
    assert_true(s.pending_p95_s == 95.0);
    assert_true(s.pending_p99_s == 99.0);
    assert_true(s.pending_max_s == 100.0);
    hoist_report_free(r);
}

/* An evicted pod starts a new spell: 10 s, then 30 s; its requests leave the
 * integral while it is pending again. */
static void test_eviction_restarts_spell(void **state)
{
    (void)state;
    hoist_report *r = new_report("hoist", 0, 0);
    one_node(r, 0, "n1", "default", "t", 1, 2, GIB);
    hoist_report_node_ready(r, 0, "n1");
    hoist_report_pod_added(r, 0, "ns/p", 1, 0);
    hoist_report_pod_bound(r, 10 * SEC, "ns/p", "n1");
    hoist_report_pod_evicted(r, 100 * SEC, "ns/p");
    hoist_report_pod_bound(r, 130 * SEC, "ns/p", "n1");
    hoist_report_finish(r, 200 * SEC);
    hoist_report_summary s = summary_of(r);
    assert_int_equal(s.pods_evicted, 1);
    assert_int_equal(s.pods_scheduled, 1);
    assert_int_equal(s.pending_spells, 2);
    assert_true(s.pending_p50_s == 10.0);
    assert_true(s.pending_max_s == 30.0);
    /* bound 90 s + 70 s of 200 s on 2 CPUs */
    assert_true(s.cpu_utilization == 160.0 / 400.0);
    hoist_report_free(r);
}

/* a: never bound, there at the end; b: deleted before a bind; c: bound,
 * evicted, deleted while pending; d: bound then deleted; e: bound, evicted,
 * pending at the end. */
static void test_pod_outcomes(void **state)
{
    (void)state;
    hoist_report *r = new_report("hoist", 0, 0);
    hoist_report_pod_added(r, 0, "ns/b", 1, 0);
    hoist_report_pod_added(r, 0, "ns/c", 1, 0);
    hoist_report_pod_added(r, 0, "ns/d", 1, 0);
    hoist_report_pod_added(r, 0, "ns/e", 1, 0);
    hoist_report_pod_added(r, 5 * SEC, "ns/a", 1, 0);
    hoist_report_pod_bound(r, 10 * SEC, "ns/c", "n");
    hoist_report_pod_bound(r, 10 * SEC, "ns/d", "n");
    hoist_report_pod_bound(r, 10 * SEC, "ns/e", "n");
    hoist_report_pod_deleted(r, 20 * SEC, "ns/b");
    hoist_report_pod_evicted(r, 30 * SEC, "ns/c");
    hoist_report_pod_deleted(r, 40 * SEC, "ns/c");
    hoist_report_pod_deleted(r, 40 * SEC, "ns/d");
    hoist_report_pod_evicted(r, 50 * SEC, "ns/e");
    hoist_report_finish(r, 65 * SEC);
    hoist_report_summary s = summary_of(r);
    assert_int_equal(s.pods_added, 5);
    assert_int_equal(s.pods_scheduled, 3);
    assert_int_equal(s.pods_never_scheduled, 1);
    assert_int_equal(s.pods_deleted_never_scheduled, 1);
    assert_int_equal(s.pods_added,
                     s.pods_scheduled + s.pods_never_scheduled + s.pods_deleted_never_scheduled);
    assert_int_equal(s.pods_deleted_while_pending, 2);
    assert_int_equal(s.pods_deleted, 3);
    assert_int_equal(s.pods_evicted, 2);
    assert_int_equal(s.pods_pending_at_end, 2);
    assert_true(s.longest_pending_at_end_s == 60.0); /* a, from 5 s to 65 s */
    assert_int_equal(s.pending_spells, 3);
    assert_true(s.pending_max_s == 10.0);

    json_t *j = hoist_report_json(r);
    assert_int_equal(json_integer_value(at(j, "summary", "pods_deleted_while_pending", NULL)), 2);
    assert_true(json_real_value(at(j, "summary", "longest_pending_at_end_s", NULL)) == 60.0);
    json_decref(j);
    hoist_report_free(r);
}

/* A key may come back after its delete or termination: a new object. */
static void test_key_reuse(void **state)
{
    (void)state;
    hoist_report *r = new_report("hoist", 0, 0);
    hoist_report_pod_added(r, 0, "ns/p", 1, 0);
    hoist_report_pod_deleted(r, 10 * SEC, "ns/p");
    hoist_report_pod_added(r, 20 * SEC, "ns/p", 1, 0);
    hoist_report_pod_bound(r, 25 * SEC, "ns/p", "n");
    one_node(r, 0 + 30 * SEC, "n", "default", "t", 3.6, 1, GIB);
    hoist_report_node_terminated(r, 40 * SEC, "n", false);
    one_node(r, 50 * SEC, "n", "default", "t", 3.6, 1, GIB);
    hoist_report_finish(r, 60 * SEC);
    hoist_report_summary s = summary_of(r);
    assert_int_equal(s.pods_added, 2);
    assert_int_equal(s.pods_scheduled, 1);
    assert_true(s.pending_max_s == 5.0);
    assert_int_equal(s.nodes_launched, 2);
    assert_int_equal(s.nodes_at_end, 1);
    assert_true(s.cost > 0.0199999 && s.cost < 0.0200001); /* $3.6/h x 20 s */
    assert_int_equal(s.ignored, 0);
    hoist_report_free(r);
}

/* Events that do not apply are ignored and counted; the state is unchanged. */
static void test_ignored_events(void **state)
{
    (void)state;
    hoist_report *r = new_report("hoist", 0, 0);
    one_node(r, 0, "n1", "default", "t", 1, 4, GIB);
    hoist_report_node_ready(r, 0, "n1");
    hoist_report_pod_added(r, 0, "ns/p", 1, 0);
    hoist_report_pod_bound(r, 1 * SEC, "ns/unknown", "n1");   /* 1 */
    hoist_report_pod_evicted(r, 1 * SEC, "ns/unknown");       /* 2 */
    hoist_report_pod_deleted(r, 1 * SEC, "ns/unknown");       /* 3 */
    hoist_report_node_ready(r, 1 * SEC, "nx");                /* 4 */
    hoist_report_node_terminated(r, 1 * SEC, "nx", false);    /* 5 */
    hoist_report_pod_added(r, 1 * SEC, "ns/p", 2, 0);         /* 6: live already */
    hoist_report_node_ready(r, 1 * SEC, "n1");                /* 7: Ready twice */
    hoist_report_pod_evicted(r, 1 * SEC, "ns/p");             /* 8: not bound */
    one_node(r, 1 * SEC, "n1", "default", "t", 1, 4, GIB);    /* 9: alive already */
    hoist_report_pod_added(r, 1 * SEC, NULL, 1, 0);           /* 10 */
    hoist_report_pod_bound(r, 2 * SEC, "ns/p", "n1");
    hoist_report_pod_bound(r, 3 * SEC, "ns/p", "n1");         /* 11: bound already */
    hoist_report_finish(r, 10 * SEC);
    hoist_report_pod_added(r, 11 * SEC, "ns/late", 1, 0);     /* 12: after finish */
    hoist_report_finish(r, 20 * SEC);                         /* no effect */
    hoist_report_summary s = summary_of(r);
    assert_int_equal(s.ignored, 12);
    assert_int_equal(s.pods_added, 1);
    assert_int_equal(s.nodes_launched, 1);
    assert_true(s.pending_max_s == 2.0);
    assert_true(s.duration_s == 10.0);
    /* 1 CPU of 4 from 2 s to 10 s: the second add's 2 CPUs were not taken */
    assert_true(s.cpu_utilization == 8.0 / 40.0);
    hoist_report_free(r);
}

/* A time going backwards is taken as the latest time seen. */
static void test_time_never_goes_back(void **state)
{
    (void)state;
    hoist_report *r = new_report("hoist", 1000, 0);
    hoist_report_pod_added(r, 0, "ns/p", 1, 0);       /* before start: at start */
    hoist_report_pod_added(r, 100 * SEC, "ns/q", 1, 0);
    hoist_report_pod_bound(r, 50 * SEC, "ns/q", "n"); /* at 100 s: spell 0 */
    hoist_report_pod_bound(r, 101 * SEC, "ns/p", "n");
    hoist_report_finish(r, 101 * SEC);
    hoist_report_summary s = summary_of(r);
    assert_true(s.pending_p50_s == 0.0);
    assert_true(s.pending_max_s == 100.0); /* from start_ms = 1 s to 101 s */
    hoist_report_free(r);
}

/* ---- time series -------------------------------------------------------- */

/* Step 60 s from start 1000 s. A sample at T holds every event at <= T. */
static void test_time_series(void **state)
{
    (void)state;
    const uint64_t t0 = 1000 * SEC;
    hoist_report *r = new_report("hoist", t0, 60 * SEC);
    one_node(r, t0, "n1", "default", "t", 1.5, 4, 8 * GIB);
    hoist_report_node_ready(r, t0 + 30 * SEC, "n1");
    hoist_report_pod_added(r, t0 + 60 * SEC, "ns/p", 1, 2 * GIB);
    hoist_report_pod_bound(r, t0 + 90 * SEC, "ns/p", "n1");
    hoist_report_finish(r, t0 + 180 * SEC);

    size_t n;
    uint64_t step;
    const hoist_report_sample *s = hoist_report_series(r, &n, &step);
    assert_int_equal(step, 60 * SEC);
    assert_int_equal(n, 4);
    assert_int_equal(s[0].t_ms, t0);
    assert_int_equal(s[3].t_ms, t0 + 180 * SEC);
    /* t0: launched, not Ready */
    assert_int_equal(s[0].nodes, 1);
    assert_int_equal(s[0].nodes_ready, 0);
    assert_int_equal(s[0].pods_pending, 0);
    assert_true(s[0].cost_rate == 1.5);
    assert_true(s[0].cpu_utilization == 0);
    /* t0 + 60 s: Ready, the pod added exactly then is pending */
    assert_int_equal(s[1].nodes_ready, 1);
    assert_int_equal(s[1].pods_pending, 1);
    assert_int_equal(s[1].pods_bound, 0);
    /* t0 + 120 s and the end: bound */
    for (size_t i = 2; i < 4; i++) {
        assert_int_equal(s[i].pods_pending, 0);
        assert_int_equal(s[i].pods_bound, 1);
        assert_true(s[i].cpu_utilization == 0.25);
        assert_true(s[i].memory_utilization == 0.25);
    }

    json_t *j = hoist_report_json(r);
    json_t *ts = at(j, "timeSeries", NULL);
    assert_true(json_real_value(at(ts, "stepSeconds", NULL)) == 60.0);
    assert_true(json_real_value(at(ts, "startSeconds", NULL)) == 1000.0);
    json_t *t = at(ts, "t", NULL);
    assert_int_equal(json_array_size(t), 4);
    assert_true(json_real_value(json_array_get(t, 2)) == 120.0);
    assert_int_equal(json_integer_value(json_array_get(at(ts, "podsPending", NULL), 1)), 1);
    assert_true(json_real_value(json_array_get(at(ts, "costRate", NULL), 0)) == 1.5);
    assert_true(json_real_value(json_array_get(at(ts, "cpuUtilization", NULL), 3)) == 0.25);
    json_decref(j);
    hoist_report_free(r);
}

/* A termination between samples: the rate drops at the next sample. */
static void test_time_series_cost_rate(void **state)
{
    (void)state;
    hoist_report *r = new_report("hoist", 0, 60 * SEC);
    one_node(r, 0, "a", "default", "t", 0.1, 1, GIB);
    one_node(r, 0, "b", "default", "t", 0.2, 1, GIB);
    hoist_report_node_terminated(r, 90 * SEC, "b", false);
    hoist_report_node_terminated(r, 150 * SEC, "a", false);
    hoist_report_finish(r, 150 * SEC);
    size_t n;
    const hoist_report_sample *s = hoist_report_series(r, &n, NULL);
    assert_int_equal(n, 3);
    assert_true(s[0].cost_rate > 0.2999999 && s[0].cost_rate < 0.3000001);
    assert_true(s[1].cost_rate > 0.2999999 && s[1].cost_rate < 0.3000001);
    assert_true(s[2].cost_rate > 0.0999999 && s[2].cost_rate < 0.1000001);
    assert_int_equal(s[2].nodes, 1);
    hoist_report_free(r);
}

/* ---- JSON --------------------------------------------------------------- */

/* A small run with a bit of everything. */
static hoist_report *scenario(const char *name, double price)
{
    hoist_report *r = new_report(name, 0, 10 * MIN);
    one_node(r, 0, "n1", "general", "m5.large", price, 2, 8 * GIB);
    hoist_report_node_launched(r, 0, "n2", "gpu", "g5.xlarge", "spot", price * 3, 4, 16 * GIB);
    hoist_report_node_ready(r, 45 * SEC, "n1");
    hoist_report_node_ready(r, 70 * SEC, "n2");
    char key[32];
    for (int i = 0; i < 6; i++) {
        snprintf(key, sizeof key, "web/p%d", i);
        hoist_report_pod_added(r, (uint64_t)i * SEC, key, 0.5, 512 * 1048576.0);
    }
    for (int i = 0; i < 5; i++) {
        snprintf(key, sizeof key, "web/p%d", i);
        hoist_report_pod_bound(r, (uint64_t)(80 + 3 * i) * SEC, key, i % 2 ? "n1" : "n2");
    }
    hoist_report_pod_evicted(r, 30 * MIN, "web/p1");
    hoist_report_node_terminated(r, 40 * MIN, "n2", true);
    hoist_report_finish(r, 1 * HOUR);
    return r;
}

static char *dump(const json_t *j)
{
    char *s = json_dumps(j, JSON_SORT_KEYS);
    assert_non_null(s);
    return s;
}

static void test_json_deterministic(void **state)
{
    (void)state;
    hoist_report *a = scenario("hoist", 0.1), *b = scenario("hoist", 0.1),
                 *c = scenario("hoist", 0.2);
    json_t *ja = hoist_report_json(a), *jb = hoist_report_json(b), *jc = hoist_report_json(c);
    char *sa = dump(ja), *sb = dump(jb), *sc = dump(jc);
    assert_string_equal(sa, sb);
    assert_string_not_equal(sa, sc);
    assert_string_equal(json_string_value(at(ja, "name", NULL)), "hoist");
    /* n1 $0.1/h for 1 h, n2 $0.3/h for 40 min: 0.1 + 0.2 (rounded to 1e-6) */
    assert_true(json_real_value(at(ja, "summary", "cost", NULL)) == 0.3);
    assert_int_equal(json_integer_value(at(ja, "summary", "nodes_interrupted", NULL)), 1);
    assert_int_equal(json_integer_value(at(ja, "summary", "pods_never_scheduled", NULL)), 1);
    assert_int_equal(json_integer_value(at(ja, "nodePools", "gpu", "peak", NULL)), 1);
    assert_int_equal(json_array_size(at(ja, "timeSeries", "nodes", NULL)), 7);
    free(sa);
    free(sb);
    free(sc);
    json_decref(ja);
    json_decref(jb);
    json_decref(jc);
    hoist_report_free(a);
    hoist_report_free(b);
    hoist_report_free(c);
}

/* write_json prints the rounded figures as rounded (no 0.30000000000000004). */
static void test_write_json(void **state)
{
    (void)state;
    hoist_report *r = scenario("hoist", 0.1);
    json_t *j = hoist_report_json(r);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    hoist_err err = {{0}};
    assert_int_equal(hoist_report_write_json(f, j, &err), 0);
    fclose(f);
    assert_has(text, "\"cost\": 0.3,");
    assert_lacks(text, "0000000");
    json_error_t jerr;
    json_t *back = json_loads(text, 0, &jerr);
    assert_non_null(back);
    assert_true(json_equal(back, j));
    json_decref(back);
    free(text);

    FILE *ro = fopen("/dev/null", "r");
    assert_non_null(ro);
    assert_int_equal(hoist_report_write_json(ro, j, &err), -1);
    assert_has(err.msg, "writing the report");
    fclose(ro);
    json_decref(j);
    hoist_report_free(r);
}

/* ---- comparison --------------------------------------------------------- */

static void test_compare(void **state)
{
    (void)state;
    /* base: one $1/h node for 2 h, no pending wait; other: two $0.25/h for 2 h */
    hoist_report *base = new_report("hoist", 0, 0);
    one_node(base, 0, "n1", "default", "t", 1.0, 4, GIB);
    hoist_report_node_ready(base, 0, "n1");
    hoist_report_pod_added(base, 0, "ns/p", 1, 0);
    hoist_report_pod_bound(base, 0, "ns/p", "n1");
    hoist_report_finish(base, 2 * HOUR);

    hoist_report *other = new_report("cluster-autoscaler", 0, 0);
    one_node(other, 0, "n1", "default", "t", 0.25, 2, GIB);
    one_node(other, 0, "n2", "default", "t", 0.25, 2, GIB);
    hoist_report_node_ready(other, 0, "n1");
    hoist_report_node_ready(other, 0, "n2");
    hoist_report_pod_added(other, 0, "ns/p", 1, 0);
    hoist_report_pod_bound(other, 30 * SEC, "ns/p", "n1");
    hoist_report_finish(other, 2 * HOUR);

    hoist_report *same_name = new_report("hoist", 0, 0);
    hoist_report_finish(same_name, 2 * HOUR);

    const hoist_report *runs[] = {base, other, same_name};
    json_t *j = hoist_report_compare_json(runs, 3);
    assert_non_null(j);
    assert_int_equal(json_array_size(at(j, "runs", NULL)), 3);
    json_t *cmp = at(j, "comparison", NULL);
    assert_string_equal(json_string_value(at(cmp, "baseline", NULL)), "hoist");
    json_t *ca = at(cmp, "cluster-autoscaler", NULL);
    assert_true(json_real_value(at(ca, "cost", NULL)) == 0.5);
    assert_true(json_real_value(at(ca, "nodes_launched", NULL)) == 2.0);
    assert_true(json_real_value(at(ca, "nodes_peak", NULL)) == 2.0);
    /* 1 CPU of 4 for 2 h vs 1 CPU of 2 x 2 for 2 h less 30 s */
    assert_true(json_real_value(at(ca, "cpu_utilization", NULL)) == 0.995833);
    /* $/vCPU-h: 2 / 2 vs 1 / (7170 / 3600) = 0.502092...: ratio 0.502092 */
    assert_true(json_real_value(at(ca, "cost_per_vcpu_hour", NULL)) == 0.502092);
    /* the base waited 0 s: no ratio */
    assert_true(json_is_null(at(ca, "pending_p50_s", NULL)));
    assert_true(json_is_null(at(ca, "pending_p99_s", NULL)));
    /* the baseline's name again gets its index; nothing requested: ratio 0 */
    json_t *dup = at(cmp, "hoist#2", NULL);
    assert_true(json_real_value(at(dup, "cost", NULL)) == 0.0);
    assert_null(json_object_get(dup, "memory_utilization")); /* not compared */
    json_decref(j);
    hoist_report_free(base);
    hoist_report_free(other);
    hoist_report_free(same_name);
}

/* ---- HTML --------------------------------------------------------------- */

static char *html_of(const hoist_report *const *runs, size_t n, const char *title)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    hoist_err err = {{0}};
    int rc = hoist_report_write_html(f, runs, n, title, &err);
    fclose(f);
    if (rc != 0)
        fail_msg("write_html: %s", err.msg);
    return text;
}

static void test_html(void **state)
{
    (void)state;
    hoist_report *a = scenario("a<b>&\"c'", 0.1), *b = scenario("plain", 0.2);
    const hoist_report *runs[] = {a, b};
    char *html = html_of(runs, 2, "Trace <one> & \"two\"");
    assert_has(html, "<!DOCTYPE html>");
    assert_has(html, "<style>");
    assert_int_equal(count_of(html, "<svg"), 4);
    assert_int_equal(count_of(html, "</svg>"), 4);
    assert_has(html, "a&lt;b&gt;&amp;&quot;c&#39;");
    assert_has(html, "Trace &lt;one&gt; &amp; &quot;two&quot;");
    assert_lacks(html, "a<b>");
    assert_lacks(html, "<one>");
    assert_lacks(html, "http://");
    assert_lacks(html, "https://");
    assert_lacks(html, "<script");
    assert_lacks(html, "url(");
    assert_lacks(html, "src=");
    assert_has(html, "Nodes alive");
    assert_has(html, "Pending pods");
    assert_has(html, "Cost rate (USD/h)");
    assert_has(html, "CPU utilization");
    assert_has(html, "plain / a&lt;b&gt;&amp;&quot;c&#39;"); /* the ratio column */
    assert_has(html, "2.000&#215;");                        /* cost doubles */
    assert_has(html, "$0.300000");                          /* the first run's cost */
    assert_has(html, "g5.xlarge");
    /* one polyline per run per plot, each run in its colour */
    assert_int_equal(count_of(html, "<polyline"), 8);
    assert_int_equal(count_of(html, "stroke=\"#1f77b4\""), 4);
    assert_int_equal(count_of(html, "stroke=\"#d62728\""), 4);
    free(html);

    /* one run: no ratio column */
    const hoist_report *one[] = {b};
    html = html_of(one, 1, NULL);
    assert_lacks(html, "&#215;");
    assert_int_equal(count_of(html, "<svg"), 4);
    free(html);

    FILE *ro = fopen("/dev/null", "r");
    assert_non_null(ro);
    hoist_err err = {{0}};
    assert_int_equal(hoist_report_write_html(ro, runs, 2, "t", &err), -1);
    assert_has(err.msg, "HTML");
    fclose(ro);
    hoist_report_free(a);
    hoist_report_free(b);
}

/* ---- summary text ------------------------------------------------------- */

static void test_print_summary(void **state)
{
    (void)state;
    hoist_report *a = scenario("hoist", 0.1), *b = scenario("clusterman", 0.2);
    const hoist_report *runs[] = {a, b};
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    hoist_report_print_summary(f, runs, 2);
    fclose(f);
    assert_has(text, "metric");
    assert_has(text, "clusterman/hoist");
    assert_has(text, "$0.300000");
    assert_has(text, "$0.600000");
    assert_has(text, "2.000x");
    assert_has(text, "pending p95");
    assert_has(text, "nodes peak");
    assert_has(text, "pods evicted");
    assert_has(text, "memory utilization");
    /* aligned: every line has the header's length */
    size_t first = strcspn(text, "\n");
    size_t lines = 0;
    for (const char *p = text; *p; lines++) {
        size_t l = strcspn(p, "\n");
        assert_int_equal(l, first);
        p += l + (p[l] ? 1 : 0);
    }
    size_t nm;
    hoist_report_metrics(&nm);
    assert_int_equal(lines, nm + 1);
    free(text);

    /* one run: no ratio column */
    text = NULL;
    f = open_memstream(&text, &len);
    hoist_report_print_summary(f, runs, 1);
    fclose(f);
    assert_lacks(text, "x\n");
    assert_lacks(text, "clusterman");
    free(text);
    hoist_report_free(a);
    hoist_report_free(b);
}

/* ---- scale -------------------------------------------------------------- */

/* 33,000 pods added, bound and deleted and 1,000 machines: 102,000 events.
 * Nothing may be quadratic; the figures still add up. */
static void test_many_events(void **state)
{
    (void)state;
    enum { PODS = 33000, NODES = 1000 };
    hoist_report *r = new_report("big", 0, 60 * SEC);
    char key[32];
    uint64_t t = 0;
    for (int i = 0; i < NODES; i++) {
        snprintf(key, sizeof key, "node-%d", i);
        one_node(r, t, key, i % 2 ? "a" : "b", i % 3 ? "m5.large" : "c5.large", 1.0, 2, GIB);
        hoist_report_node_ready(r, t, key);
    }
    for (int i = 0; i < PODS; i++) {
        snprintf(key, sizeof key, "ns/pod-%d", i);
        hoist_report_pod_added(r, t++, key, 0.01, 1048576);
    }
    for (int i = 0; i < PODS; i++) {
        snprintf(key, sizeof key, "ns/pod-%d", i);
        hoist_report_pod_bound(r, t++, key, "node-0"); /* each waited PODS ms */
    }
    for (int i = 0; i < PODS; i++) {
        snprintf(key, sizeof key, "ns/pod-%d", i);
        hoist_report_pod_deleted(r, t++, key);
    }
    for (int i = 0; i < NODES; i++) {
        snprintf(key, sizeof key, "node-%d", i);
        hoist_report_node_terminated(r, HOUR, key, false);
    }
    hoist_report_finish(r, HOUR);
    hoist_report_summary s = summary_of(r);
    assert_int_equal(s.pods_added, PODS);
    assert_int_equal(s.pods_scheduled, PODS);
    assert_int_equal(s.pods_deleted, PODS);
    assert_int_equal(s.pending_spells, PODS);
    assert_true(s.pending_p50_s == PODS / 1000.0);
    assert_int_equal(s.nodes_peak, NODES);
    assert_true(s.cost == (double)NODES);
    assert_int_equal(s.ignored, 0);
    size_t n;
    hoist_report_series(r, &n, NULL);
    assert_int_equal(n, 61);
    json_t *j = hoist_report_json(r);
    assert_int_equal(json_integer_value(at(j, "nodePools", "a", "launched", NULL)), NODES / 2);
    json_decref(j);
    hoist_report_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cost_from_launch_to_termination),
        cmocka_unit_test(test_alive_billed_to_end_and_interrupted),
        cmocka_unit_test(test_peak_nodes),
        cmocka_unit_test(test_utilization_time_weighted),
        cmocka_unit_test(test_utilization_ready_only),
        cmocka_unit_test(test_pending_percentiles),
        cmocka_unit_test(test_pending_percentiles_hundred),
        cmocka_unit_test(test_eviction_restarts_spell),
        cmocka_unit_test(test_pod_outcomes),
        cmocka_unit_test(test_key_reuse),
        cmocka_unit_test(test_ignored_events),
        cmocka_unit_test(test_time_never_goes_back),
        cmocka_unit_test(test_time_series),
        cmocka_unit_test(test_time_series_cost_rate),
        cmocka_unit_test(test_json_deterministic),
        cmocka_unit_test(test_write_json),
        cmocka_unit_test(test_compare),
        cmocka_unit_test(test_html),
        cmocka_unit_test(test_print_summary),
        cmocka_unit_test(test_many_events),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
