/*
 * test_sim.c - the simulator (sim/sim.h) on small traces whose right answer
 * is known exactly, plus determinism, conservation and bad traces.
 *
 * The provider is the mock linked in directly, over tests/data/sim/catalog.json:
 * x.xlarge (4 vCPU, 16 GiB, on-demand $0.20/h in us-east-1a) and y.2xlarge.
 * A 4-vCPU node keeps 80m CPU for the kubelet (Karpenter's 6 %/1 %/0.5 %/
 * 0.5 %), so 3 pods of 1 CPU fit on one: ten such pods need four machines.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hoist/provider.h>

#include "model/load.h"
#include "sim/report.h"
#include "sim/sim.h"
#include "sim_test_util.h"

/* Simulate trace `trace` with NodePools `nodepools` for `hours` (0 = to the
 * end of the trace plus the tail). */
static const char *catalog_path = "tests/data/sim/catalog.json";

static double spot_rate; /* interruptions per spot machine-hour of the next run */

static void simulate(run *r, const char *trace, const char *nodepools, double hours,
                     uint64_t seed, hoist_sim_autoscaler_kind kind)
{
    memset(r, 0, sizeof *r);
    json_t *objects = objects_of(nodepools);
    char pcfg[1200];
    snprintf(pcfg, sizeof pcfg,
             "{\"catalog\": \"%s\", \"launch_latency_ms\": 0, \"seed\": %llu}",
             src_path(catalog_path), (unsigned long long)seed);
    hoist_sim_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.seed = seed;
    cfg.end_after_ms = (uint64_t)(hours * 3600000.0);
    cfg.spot_interruptions_per_hour = spot_rate;
    hoist_sim_inputs in;
    memset(&in, 0, sizeof in);
    in.trace_path = src_path(trace);
    in.objects = objects;
    in.provider = hoist_provider_entry(HOIST_PROVIDER_ABI_VERSION);
    in.provider_config = pcfg;
    in.kind = kind;
    r->rc = hoist_sim_run(&cfg, &in, &r->report, &r->stats, &r->err);
    if (r->rc == 0)
        hoist_report_get_summary(r->report, &r->sum);
    json_decref(objects);
}

static void run_free(run *r)
{
    hoist_report_free(r->report);
    r->report = NULL;
}

/* Every pod added is scheduled, deleted or pending at the end; every
 * machine launched is terminated or alive; the report's cost is the sum over
 * machines of price x lifetime. */
static void assert_conserved(const run *r)
{
    const hoist_sim_stats *s = &r->stats;
    assert_int_equal(s->pods_added, s->pods_deleted + s->pods_bound_at_end + s->pods_pending_at_end);
    assert_int_equal(s->machines_launched,
                     s->machines_terminated + s->machines_interrupted + s->machines_alive_at_end);
    assert_true(fabs(r->sum.cost - s->machine_cost) < 1e-6);
    assert_int_equal(r->sum.nodes_launched, s->machines_launched);
    assert_int_equal(r->sum.pods_added, s->pods_added);
}

/* Ten 1-CPU pods for an hour, one allowed type, no consolidation, two
 * hours: four x.xlarge from t = 1 s (the batch window) to the end. */
static void test_known_answer(void **state)
{
    (void)state;
    run r;
    simulate(&r, "tests/data/sim/ten-pods.jsonl", "tests/data/sim/nodepool-x.yaml", 2, 1,
             HOIST_SIM_HOIST);
    if (r.rc < 0)
        fail_msg("%s", r.err.msg);
    assert_int_equal(r.sum.nodes_launched, 4);
    assert_int_equal(r.sum.nodes_peak, 4);
    assert_int_equal(r.sum.nodes_terminated, 0);
    assert_int_equal(r.sum.pods_added, 10);
    assert_int_equal(r.sum.pods_scheduled, 10);
    assert_int_equal(r.sum.pods_never_scheduled, 0);
    /* 4 x $0.20/h x (7200 s - 1 s) */
    double expect = 4 * 0.2 * 7199.0 / 3600.0;
    if (fabs(r.sum.cost - expect) > 1e-6)
        fail_msg("cost %.6f, expected %.6f", r.sum.cost, expect);
    assert_true(r.sum.pending_max_s > 1.0 && r.sum.pending_max_s < 120.0);
    assert_conserved(&r);
    run_free(&r);
}

/* Same trace, empty nodes consolidated after a minute: all four machines
 * go soon after the pods, and the run costs less. */
static void test_consolidation_saves(void **state)
{
    (void)state;
    run keep, cons;
    simulate(&keep, "tests/data/sim/ten-pods.jsonl", "tests/data/sim/nodepool-x.yaml", 2, 1,
             HOIST_SIM_HOIST);
    simulate(&cons, "tests/data/sim/ten-pods.jsonl", "tests/data/sim/nodepool-consolidate.yaml",
             2, 1, HOIST_SIM_HOIST);
    if (cons.rc < 0)
        fail_msg("%s", cons.err.msg);
    assert_int_equal(cons.sum.nodes_launched, 4);
    assert_int_equal(cons.sum.nodes_terminated, 4);
    assert_int_equal(cons.stats.machines_alive_at_end, 0);
    /* bought at 1 s, removed between 1 h 1 min and 1 h 2 min (10 s ticks) */
    assert_true(cons.sum.cost > 4 * 0.2 * 3660.0 / 3600.0);
    assert_true(cons.sum.cost < 4 * 0.2 * 3735.0 / 3600.0);
    assert_true(cons.sum.cost < keep.sum.cost);
    assert_conserved(&cons);
    run_free(&keep);
    run_free(&cons);
}

/* The same seed gives the same report, byte for byte. */
static void test_deterministic(void **state)
{
    (void)state;
    run a, b;
    simulate(&a, "tests/data/sim/ten-pods.jsonl", "tests/data/sim/nodepool-consolidate.yaml", 2,
             7, HOIST_SIM_HOIST);
    simulate(&b, "tests/data/sim/ten-pods.jsonl", "tests/data/sim/nodepool-consolidate.yaml", 2,
             7, HOIST_SIM_HOIST);
    assert_int_equal(a.rc, 0);
    assert_int_equal(b.rc, 0);
    json_t *ja = hoist_report_json(a.report), *jb = hoist_report_json(b.report);
    char *sa = json_dumps(ja, JSON_SORT_KEYS), *sb = json_dumps(jb, JSON_SORT_KEYS);
    assert_non_null(sa);
    assert_string_equal(sa, sb);
    assert_int_equal(a.stats.events, b.stats.events);
    free(sa);
    free(sb);
    json_decref(ja);
    json_decref(jb);
    run_free(&a);
    run_free(&b);
}

/* A malformed line stops the run with its line number; so does time going
 * backwards. */
static void test_bad_traces(void **state)
{
    (void)state;
    run r;
    simulate(&r, "tests/data/sim/bad-line.jsonl", "tests/data/sim/nodepool-x.yaml", 1, 1,
             HOIST_SIM_HOIST);
    assert_int_equal(r.rc, -1);
    assert_null(r.report);
    assert_non_null(strstr(r.err.msg, "bad-line.jsonl:4:"));
    simulate(&r, "tests/data/sim/out-of-order.jsonl", "tests/data/sim/nodepool-x.yaml", 1, 1,
             HOIST_SIM_HOIST);
    assert_int_equal(r.rc, -1);
    assert_non_null(strstr(r.err.msg, "out-of-order.jsonl:2:"));
    simulate(&r, "tests/data/sim/no-such-trace.jsonl", "tests/data/sim/nodepool-x.yaml", 1, 1,
             HOIST_SIM_HOIST);
    assert_int_equal(r.rc, -1);
    assert_non_null(strstr(r.err.msg, "no-such-trace.jsonl"));
}

/* The baselines keep the books as well. */
static void test_baselines_conserve(void **state)
{
    (void)state;
    static const hoist_sim_autoscaler_kind kinds[] = {HOIST_SIM_CLUSTER_AUTOSCALER,
                                                      HOIST_SIM_CLUSTERMAN};
    for (size_t i = 0; i < 2; i++) {
        run r;
        simulate(&r, "tests/data/sim/ten-pods.jsonl", "tests/data/sim/nodepool-consolidate.yaml",
                 2, 1, kinds[i]);
        if (r.rc < 0)
            fail_msg("%s", r.err.msg);
        assert_int_equal(r.sum.pods_scheduled, 10);
        assert_true(r.sum.nodes_launched >= 4);
        assert_conserved(&r);
        run_free(&r);
    }
}

/* The bundled stateful trace (pods on zone-pinned volumes, a daily rolling
 * restart) over the bundled catalog: every pod runs, the books balance. */
static void test_bundled_stateful(void **state)
{
    (void)state;
    catalog_path = "contrib/catalog/us-east-1.json";
    run r;
    simulate(&r, "contrib/traces/stateful.jsonl", "contrib/traces/nodepools.yaml", 0, 1,
             HOIST_SIM_HOIST);
    catalog_path = "tests/data/sim/catalog.json";
    if (r.rc < 0)
        fail_msg("%s", r.err.msg);
    assert_true(r.sum.pods_added >= 17);
    assert_int_equal(r.sum.pods_never_scheduled, 0);
    assert_true(r.sum.nodes_launched > 0);
    assert_conserved(&r);
    run_free(&r);
}

/* Spot machines reclaimed often (3 per machine-hour, 2-minute notice): hoist
 * hears each notice, drains the machine and buys the replacement at once, so
 * no pod is still on a machine when it goes, and every pod keeps running. */
static void test_spot_interruptions_drained(void **state)
{
    (void)state;
    spot_rate = 3.0;
    run r;
    simulate(&r, "tests/data/sim/ten-pods.jsonl", "tests/data/sim/nodepool-spot.yaml", 1, 3,
             HOIST_SIM_HOIST);
    spot_rate = 0;
    if (r.rc < 0)
        fail_msg("%s", r.err.msg);
    assert_true(r.stats.interruption_notices > 0);
    assert_true(r.stats.pods_evicted > 0);  /* drained on notice */
    assert_int_equal(r.stats.pods_lost, 0); /* none left when the machine went */
    assert_int_equal(r.sum.pods_never_scheduled, 0);
    assert_true(r.sum.nodes_launched > 2); /* replacements were bought */
    assert_conserved(&r);
    run_free(&r);
}

/* Issue 6 (a) and (b): twelve 1-CPU pods on four x.xlarge (three fit a
 * machine), scaled down to four pods after 10 minutes, one left on each
 * machine. WhenEmpty keeps all four machines; WhenEmptyOrUnderutilized
 * moves two pods and ends on the optimum, two machines, within 5 % of the
 * optimum's cost for the 3 hours, and then disrupts nothing more. */
static void test_underutilized_reaches_optimum(void **state)
{
    (void)state;
    run empty, under;
    simulate(&empty, "tests/data/sim/scale-down.jsonl", "tests/data/sim/nodepool-consolidate.yaml",
             3, 1, HOIST_SIM_HOIST);
    simulate(&under, "tests/data/sim/scale-down.jsonl",
             "tests/data/sim/nodepool-underutilized.yaml", 3, 1, HOIST_SIM_HOIST);
    if (under.rc < 0)
        fail_msg("%s", under.err.msg);
    assert_int_equal(empty.stats.machines_alive_at_end, 4);
    assert_int_equal(under.stats.machines_alive_at_end, 2);
    assert_int_equal(under.sum.nodes_launched, 4);
    assert_int_equal(under.sum.nodes_terminated, 2);
    assert_int_equal(under.stats.pods_bound_at_end, 4);
    /* converged: two pods moved once, nothing after */
    assert_int_equal(under.sum.pods_evicted, 2);
    double optimum = 4 * 0.2 * 600.0 / 3600.0 + 2 * 0.2 * (3 * 3600.0 - 600.0) / 3600.0;
    assert_true(under.sum.cost >= optimum);
    assert_true(under.sum.cost <= optimum * 1.05);
    assert_true(under.sum.cost < empty.sum.cost * 0.6);
    assert_conserved(&under);
    run_free(&empty);
    run_free(&under);
}

/* Issue 6, drift: the NodePool's template changes after 30 minutes; both
 * machines launched under the old template are replaced, the replacements
 * launched and Ready before the old ones are drained (four machines at the
 * peak), and nothing else moves. */
static void test_drift_replaces(void **state)
{
    (void)state;
    run r;
    simulate(&r, "tests/data/sim/drift.jsonl", "tests/data/sim/nodepool-drift.yaml", 2, 1,
             HOIST_SIM_HOIST);
    if (r.rc < 0)
        fail_msg("%s", r.err.msg);
    assert_int_equal(r.sum.nodes_launched, 4);
    assert_int_equal(r.sum.nodes_peak, 4);
    assert_int_equal(r.sum.nodes_terminated, 2);
    assert_int_equal(r.stats.machines_alive_at_end, 2);
    assert_int_equal(r.sum.pods_evicted, 4);
    assert_int_equal(r.stats.pods_bound_at_end, 4);
    assert_conserved(&r);
    run_free(&r);
}

/* Issue 6, several nodes into one: nine 1-CPU pods arrive in three waves
 * (one x.xlarge each, $0.2/h), two are deleted after 10 minutes. No node's
 * pods fit on the others, but the seven left fit one y.2xlarge ($0.4/h for
 * the three's $0.6/h): it is launched and Ready before the three drain
 * (four machines at the peak), and then nothing moves. */
static void test_multi_node_replaced(void **state)
{
    (void)state;
    run r;
    simulate(&r, "tests/data/sim/multi-replace.jsonl", "tests/data/sim/nodepool-multi.yaml", 2,
             1, HOIST_SIM_HOIST);
    if (r.rc < 0)
        fail_msg("%s", r.err.msg);
    assert_int_equal(r.sum.nodes_launched, 4);
    assert_int_equal(r.sum.nodes_peak, 4);
    assert_int_equal(r.sum.nodes_terminated, 3);
    assert_int_equal(r.stats.machines_alive_at_end, 1);
    assert_int_equal(r.sum.pods_evicted, 7);
    assert_int_equal(r.stats.pods_bound_at_end, 7);
    /* three x.xlarge from their launch to about 12 minutes, then the one
     * y.2xlarge from 11 minutes to the end of the two hours */
    double three = 0.2 * (720.0 + 600.0 + 480.0) / 3600.0;
    double one = 0.4 * (7200.0 - 660.0) / 3600.0;
    assert_true(r.sum.cost <= three + one);
    assert_true(r.sum.cost >= one);
    assert_conserved(&r);
    run_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_answer),
        cmocka_unit_test(test_consolidation_saves),
        cmocka_unit_test(test_underutilized_reaches_optimum),
        cmocka_unit_test(test_drift_replaces),
        cmocka_unit_test(test_multi_node_replaced),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_bad_traces),
        cmocka_unit_test(test_baselines_conserve),
        cmocka_unit_test(test_bundled_stateful),
        cmocka_unit_test(test_spot_interruptions_drained),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
