/*
 * sim/report.h - what a simulation run cost and how it served its pods:
 * accumulated from the simulator's events, written as JSON, as an HTML page
 * with inline SVG plots (readable offline, no scripts, no URLs), and as a
 * short summary table; several runs (hoist and the baselines) side by side.
 *
 * Definitions (all times virtual, in ms; money in USD):
 *   cost                 sum over machines of price x (terminated - launched),
 *                        machines alive at the end counted up to the end;
 *   machine-hours        the same sum without the price;
 *   requested vCPU-hours sum over pods of requested CPU x time bound to a node;
 *   spending efficiency  cost / requested vCPU-hours (USD per requested
 *                        vCPU-hour; lower is better; 0 when nothing was bound);
 *   pending time         for each pending spell of a pod (from added, or from
 *                        evicted, to bound): its length; percentiles
 *                        p50/p95/p99/max are nearest-rank (the ceil(p/100 x n)-th
 *                        smallest) over all spells that ended in a bind; a
 *                        spell ended by a delete is not recorded;
 *   pods                 added; scheduled = bound at least once; never
 *                        scheduled = never bound and still there at the end;
 *                        deleted_never_scheduled = deleted before any bind, so
 *                        added = scheduled + never_scheduled +
 *                        deleted_never_scheduled; deleted_while_pending =
 *                        deletes during any pending spell (after an eviction
 *                        too); pending_at_end = pending at the end (never
 *                        scheduled ones and evicted ones not bound again),
 *                        longest_pending_at_end = the longest of their open
 *                        spells; evicted = evictions of bound pods;
 *   utilization          time-weighted: integral of requests of bound pods /
 *                        integral of allocatable of Ready nodes, for CPU and
 *                        memory (0 when no node was ever Ready);
 *   nodes                launched, terminated (interrupted: lost to a spot
 *                        interruption), peak alive (launched and not yet
 *                        terminated), alive at the end;
 *   time series          a sample at every start_ms + k x step_ms up to the
 *                        end: nodes alive, Ready nodes, pending pods, bound
 *                        pods, cost rate (USD/h of the machines alive), CPU
 *                        and memory utilization at that instant (requests of
 *                        bound pods / allocatable of Ready nodes, 0 without a
 *                        Ready node). The state is piecewise constant between
 *                        events; a sample at time T holds the state after
 *                        every event at a time <= T (events at exactly T
 *                        included).
 * Breakdowns per NodePool, per instance type and per capacity type: machines
 * launched, terminated, interrupted, peak alive, machine-hours, cost.
 *
 * Accumulation is O(1) amortised per event: pods and nodes are found by key
 * in hash maps, the integrals are running totals integrated between events.
 *
 * The simulator calls the hoist_report_* event functions in time order (t
 * never decreases; an earlier t is treated as the latest time seen, a t
 * before start_ms as start_ms). Keys: pods "namespace/name", nodes by the
 * name the simulator gives them. Events that do not apply are ignored and
 * counted in `ignored`, so a report never fails on the simulator's
 * bookkeeping: unknown keys, a second add of a live pod or node, a bind of a
 * pod that is not pending, an eviction of a pod that is not bound, Ready
 * twice, any event after finish. A pod or node key may be reused after its
 * delete / termination (a new object). The report does not evict pods when
 * their node terminates: the simulator reports those evictions.
 * Out of memory while accumulating drops the event (counted in `ignored`).
 */
#ifndef HOIST_SIM_REPORT_H
#define HOIST_SIM_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "util/error.h"

#define HOIST_REPORT_STEP_MS_DEFAULT 300000u /* 5 minutes */

typedef struct hoist_report_config {
    uint64_t start_ms;          /* virtual time of the first event */
    uint64_t step_ms;           /* time series step; 0 = HOIST_REPORT_STEP_MS_DEFAULT */
    const char *name;           /* the run's name, e.g. "hoist" or "cluster-autoscaler"; copied;
                                   NULL = "run" */
} hoist_report_config;

typedef struct hoist_report hoist_report;

/* A new empty report; NULL when out of memory. */
hoist_report *hoist_report_new(const hoist_report_config *cfg);
/* Free the report and everything it holds (NULL is fine). */
void hoist_report_free(hoist_report *r);

/* Pod events. cpu in cores, memory in bytes (the pod's effective requests;
 * stored as millicores and whole bytes). Keys are copied. */
void hoist_report_pod_added(hoist_report *r, uint64_t t, const char *key, double cpu,
                            double memory);
/* Bound to node (the node name is not checked). Ends the pod's pending spell. */
void hoist_report_pod_bound(hoist_report *r, uint64_t t, const char *key, const char *node);
/* Evicted (or its node went away): pending again, counted in pods_evicted. */
void hoist_report_pod_evicted(hoist_report *r, uint64_t t, const char *key);
/* Deleted by the trace (or finished). */
void hoist_report_pod_deleted(hoist_report *r, uint64_t t, const char *key);

/* Machine events. price in USD/h; allocatable cpu in cores, memory in bytes.
 * Strings are copied. */
void hoist_report_node_launched(hoist_report *r, uint64_t t, const char *node,
                                const char *nodepool, const char *instance_type,
                                const char *capacity_type, double price, double alloc_cpu,
                                double alloc_memory);
/* Ready: its allocatable counts in utilization from t. */
void hoist_report_node_ready(hoist_report *r, uint64_t t, const char *node);
/* Terminated (by the autoscaler, or lost to a spot interruption: interrupted true). */
void hoist_report_node_terminated(hoist_report *r, uint64_t t, const char *node,
                                  bool interrupted);

/* Close the run at t_end (alive machines are billed up to it, the last
 * samples are taken). No event after. Calling it twice does nothing. */
void hoist_report_finish(hoist_report *r, uint64_t t_end);

/* The figures of a finished run (read by tests and the comparison). */
typedef struct hoist_report_summary {
    double cost;                        /* USD */
    double requested_vcpu_hours;
    double cost_per_vcpu_hour;          /* spending efficiency; 0 when nothing was requested */
    size_t pods_added, pods_scheduled, pods_never_scheduled, pods_deleted, pods_evicted;
    double pending_p50_s, pending_p95_s, pending_p99_s, pending_max_s;
    size_t nodes_launched, nodes_terminated, nodes_interrupted, nodes_peak, nodes_at_end;
    double cpu_utilization, memory_utilization;  /* 0..1, time-weighted */
    double machine_hours;
    uint64_t ignored;                   /* events that did not apply (see above) */
    /* added with the implementation: */
    size_t pods_deleted_while_pending;  /* deletes during a pending spell */
    size_t pods_deleted_never_scheduled;/* deleted before any bind */
    size_t pods_pending_at_end;         /* pending at the end (never scheduled or evicted) */
    double longest_pending_at_end_s;    /* the longest open spell at the end; 0 when none */
    size_t pending_spells;              /* spells that ended in a bind (the percentiles' n) */
    double requested_memory_gib_hours;  /* memory counterpart of requested_vcpu_hours */
    double duration_s;                  /* t_end - start_ms */
} hoist_report_summary;

/* Fill *out with the run's figures. Complete after hoist_report_finish;
 * before it, everything but `ignored` is zero (`ignored` is always current,
 * events after finish included). */
void hoist_report_get_summary(const hoist_report *r, hoist_report_summary *out);

/* The run's name (owned by the report). */
const char *hoist_report_name(const hoist_report *r);

/* One time series sample (see the definitions above). */
typedef struct hoist_report_sample {
    uint64_t t_ms;                      /* start_ms + k x step_ms */
    size_t nodes, nodes_ready, pods_pending, pods_bound;
    double cost_rate;                   /* USD/h */
    double cpu_utilization, memory_utilization; /* 0..1 (may exceed 1 if the simulator
                                                   binds beyond allocatable) */
} hoist_report_sample;

/* The samples taken so far (owned by the report, valid until its next event);
 * *step_ms gets the step when not NULL. */
const hoist_report_sample *hoist_report_series(const hoist_report *r, size_t *n,
                                               uint64_t *step_ms);

/* The whole report as JSON (a new reference): {"name", "summary": {...},
 * "nodePools": {...}, "instanceTypes": {...}, "capacityTypes": {...},
 * "timeSeries": {"startSeconds", "stepSeconds", "t": [seconds since start],
 * "nodes", "nodesReady", "podsPending", "podsBound", "costRate",
 * "cpuUtilization", "memoryUtilization"}}. Summary keys are the summary
 * field names. Costs are rounded to 1e-6 USD, seconds to 1e-3, hours,
 * ratios and utilizations to 1e-6; the same events give the same JSON.
 * NULL when out of memory. */
json_t *hoist_report_json(const hoist_report *r);

/* Several runs side by side: {"runs": [report json...], "comparison":
 * {"baseline": runs[0].name, "<name>": {"cost": ratio to runs[0], ...}}}
 * for every run after the first (a name that an earlier run, the baseline
 * included, already has, or "baseline", gets "#<index>" appended).
 * Ratios (rounded to 1e-6; null when runs[0]'s figure is 0): cost,
 * cost_per_vcpu_hour, pending_p50_s, pending_p95_s, pending_p99_s,
 * nodes_launched, nodes_peak, cpu_utilization. NULL when out of memory. */
json_t *hoist_report_compare_json(const hoist_report *const *runs, size_t n);

/* Write j (a report or a comparison) to out with sorted keys, a 2-space
 * indent and 15 significant digits, so the rounded figures print as rounded.
 * 0, or -1 with err on a write error. */
int hoist_report_write_json(FILE *out, const json_t *j, hoist_err *err);

/* An HTML page (one file, inline SVG and CSS, no scripts, no URLs) with the
 * summary table of every run, ratios to the first, and plots over time of
 * nodes, pending pods, cost rate and CPU utilization, every run in one plot
 * per quantity. title and run names are escaped. 0, or -1 with err on a
 * write error or out of memory. */
int hoist_report_write_html(FILE *out, const hoist_report *const *runs, size_t n,
                            const char *title, hoist_err *err);

/* A short aligned text table of the runs' main figures (and ratios to the
 * first when n > 1). */
void hoist_report_print_summary(FILE *out, const hoist_report *const *runs, size_t n);

/* The figures the summary table, the HTML page and the comparison show, in
 * order (a static table). */
typedef enum hoist_report_unit {
    HOIST_REPORT_UNIT_USD = 0,          /* "$12.345678" */
    HOIST_REPORT_UNIT_USD_RATE,         /* "$0.012345" (per vCPU-hour) */
    HOIST_REPORT_UNIT_COUNT,            /* "42" */
    HOIST_REPORT_UNIT_SECONDS,          /* "12.345 s" */
    HOIST_REPORT_UNIT_FRACTION          /* "45.6 %" */
} hoist_report_unit;

typedef struct hoist_report_metric {
    const char *key;                    /* the summary's JSON key */
    const char *label;                  /* for people */
    hoist_report_unit unit;
    bool compared;                      /* has a ratio in hoist_report_compare_json */
    size_t offset;                      /* of the field in hoist_report_summary */
    bool is_count;                      /* the field is a size_t (else a double) */
} hoist_report_metric;

/* The table and its length. */
const hoist_report_metric *hoist_report_metrics(size_t *n);
/* The metric's value in s (counts as doubles). */
double hoist_report_metric_value(const hoist_report_metric *m, const hoist_report_summary *s);
/* The value formatted in the metric's unit into buf (always terminated). */
void hoist_report_format_value(const hoist_report_metric *m, double v, char *buf, size_t cap);

#endif
