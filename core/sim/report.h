/*
 * sim/report.h - what a simulation run cost and how it served its pods:
 * accumulated from the simulator's events, written as JSON, as an HTML page
 * with inline SVG plots (readable offline, no scripts from anywhere), and as
 * a short summary table; several runs (hoist and the baselines) side by side.
 *
 * Definitions (all times virtual, in ms; money in USD):
 *   cost                 sum over machines of price x (terminated - launched),
 *                        machines alive at the end counted up to the end;
 *   requested vCPU-hours sum over pods of requested CPU x time bound to a node;
 *   spending efficiency  cost / requested vCPU-hours (USD per requested
 *                        vCPU-hour; lower is better);
 *   pending time         for each pending spell of a pod (from added, or from
 *                        evicted, to bound): its length; percentiles
 *                        p50/p95/p99/max are nearest-rank over all spells
 *                        that ended in a bind; pods still pending at the end
 *                        are "never scheduled" (and not in the percentiles);
 *   utilization          time-weighted: integral of requests of bound pods /
 *                        integral of allocatable of Ready nodes, for CPU and
 *                        memory;
 *   nodes                launched, terminated, peak alive (launched and not
 *                        yet terminated);
 *   time series          every step_ms: nodes alive, Ready nodes, pending pods,
 *                        bound pods, cost rate (USD/h of the machines alive),
 *                        CPU and memory utilization at that instant.
 * Breakdowns per NodePool and per instance type: machines launched, cost,
 * machine-hours.
 *
 * The simulator calls the hoist_report_* event functions in time order
 * (t never decreases). Keys: pods "namespace/name", nodes by the name the
 * simulator gives them. Unknown keys in later calls are ignored (counted in
 * `ignored`), so a report never fails on the simulator's bookkeeping.
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
    const char *name;           /* the run's name, e.g. "hoist" or "cluster-autoscaler"; copied */
} hoist_report_config;

typedef struct hoist_report hoist_report;

hoist_report *hoist_report_new(const hoist_report_config *cfg);
void hoist_report_free(hoist_report *r);

/* Pod events. cpu in cores, memory in bytes (the pod's effective requests). */
void hoist_report_pod_added(hoist_report *r, uint64_t t, const char *key, double cpu,
                            double memory);
void hoist_report_pod_bound(hoist_report *r, uint64_t t, const char *key, const char *node);
/* Evicted (or its node went away): pending again, counted in pods_evicted. */
void hoist_report_pod_evicted(hoist_report *r, uint64_t t, const char *key);
/* Deleted by the trace (or finished). */
void hoist_report_pod_deleted(hoist_report *r, uint64_t t, const char *key);

/* Machine events. price in USD/h; allocatable cpu in cores, memory in bytes. */
void hoist_report_node_launched(hoist_report *r, uint64_t t, const char *node,
                                const char *nodepool, const char *instance_type,
                                const char *capacity_type, double price, double alloc_cpu,
                                double alloc_memory);
void hoist_report_node_ready(hoist_report *r, uint64_t t, const char *node);
/* Terminated (by the autoscaler, or lost to a spot interruption: interrupted true). */
void hoist_report_node_terminated(hoist_report *r, uint64_t t, const char *node,
                                  bool interrupted);

/* Close the run at t_end (alive machines are billed up to it). No event after. */
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
    uint64_t ignored;                   /* events with unknown keys */
} hoist_report_summary;

void hoist_report_get_summary(const hoist_report *r, hoist_report_summary *out);

/* The whole report as JSON (a new reference): {"name", "summary": {...},
 * "nodePools": {...}, "instanceTypes": {...}, "timeSeries": {"stepSeconds",
 * "t": [...], "nodes": [...], ...}}. NULL when out of memory. */
json_t *hoist_report_json(const hoist_report *r);

/* Several runs side by side: {"runs": [report json...], "comparison":
 * {"baseline": runs[0].name, "<name>": {"cost": ratio to runs[0], ...}}}. */
json_t *hoist_report_compare_json(const hoist_report *const *runs, size_t n);
/* An HTML page (one file, inline SVG and CSS, no scripts) with the summary
 * table of every run, ratios to the first, and plots over time of nodes,
 * pending pods, cost rate and utilization, every run in one plot per
 * quantity. 0, or -1 with err on a write error. */
int hoist_report_write_html(FILE *out, const hoist_report *const *runs, size_t n,
                            const char *title, hoist_err *err);
/* A short aligned text table of the runs' main figures (and ratios to the
 * first when n > 1). */
void hoist_report_print_summary(FILE *out, const hoist_report *const *runs, size_t n);

#endif
