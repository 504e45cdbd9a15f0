/*
 * sim/trace.h - workload traces: read one (the DESIGN.md format), write one,
 * generate synthetic ones, and import CSV task lists.
 *
 * Format: JSON Lines, one event a line, in time order:
 *   {"at": <seconds>, "op": "add", "object": {<any object, usually a Pod>}}
 *   {"at": <seconds>, "op": "update", "object": {<the whole object>}}
 *   {"at": <seconds>, "op": "delete", "object": {"kind": "Pod" (default),
 *                                                "metadata": {"namespace": "...", "name": "..."}}}
 * `at` is a number >= 0 (fractions allowed), never smaller than the previous
 * line's. Blank lines and lines starting with '#' are skipped. Objects other
 * than Pods (PersistentVolumes, PVCs, StorageClasses, NodePools,
 * PodDisruptionBudgets...) may appear too; the simulator applies them.
 *
 * Errors name the file and line: "web.jsonl:12: at: must be a number >= 0",
 * "web.jsonl:40: event at 5 s is before the previous one at 7 s (line 39): ...".
 * The reader also requires metadata.name (a string) in every object, and
 * gives an object without "kind" the kind Pod (and apiVersion v1 when absent).
 */
#ifndef HOIST_SIM_TRACE_H
#define HOIST_SIM_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "state/cluster.h"
#include "util/error.h"

/* One event of a trace. */
typedef struct hoist_trace_event {
    uint64_t at_ms;           /* `at` in milliseconds (rounded to the nearest ms) */
    hoist_object_op op;
    json_t *object;           /* owned by the reader; valid until the next call */
    size_t line;              /* 1-based line number */
} hoist_trace_event;

typedef struct hoist_trace hoist_trace;

/* Open a trace file ("-" = standard input). NULL with err when it cannot be opened. */
hoist_trace *hoist_trace_open(const char *path, hoist_err *err);
/* Read from an open stream (borrowed; not closed by hoist_trace_close);
 * name is used in messages. */
hoist_trace *hoist_trace_open_stream(FILE *f, const char *name, hoist_err *err);
/* The next event: 1 with *ev filled, 0 at the end, -1 with err naming the
 * line (the reader stays at that line: a caller may stop or skip it by
 * calling again). */
int hoist_trace_next(hoist_trace *t, hoist_trace_event *ev, hoist_err *err);
void hoist_trace_close(hoist_trace *t);

/* "add", "update", "delete". */
const char *hoist_trace_op_name(hoist_object_op op);
/* Milliseconds as seconds the way traces write them: "12", "12.5", "0.005". */
void hoist_trace_format_seconds(uint64_t at_ms, char *buf, size_t cap);

/* Append one event to out as a compact trace line (object borrowed); `at` is
 * written in seconds with at most 3 decimals, e.g. {"at":12.5,"op":"add",...}. 0 or -1. */
int hoist_trace_write(FILE *out, uint64_t at_ms, hoist_object_op op, const json_t *object);

/* Synthetic workloads (seeded, deterministic for a seed). */
typedef enum hoist_tracegen_kind {
    HOIST_TRACEGEN_WEB = 0,     /* a diurnal web service: replicas follow a daily load curve */
    HOIST_TRACEGEN_BATCH,       /* batch jobs: bursts of short tasks */
    HOIST_TRACEGEN_ML,          /* ML training jobs needing GPUs */
    HOIST_TRACEGEN_STATEFUL     /* stateful sets whose pods use zone-pinned volumes */
} hoist_tracegen_kind;

typedef struct hoist_tracegen_config {
    hoist_tracegen_kind kind;
    uint64_t seed;
    double hours;               /* length of the trace (default 24) */
    double scale;               /* size factor (default 1: a few hundred pods at peak) */
    const char *namespace_;     /* namespace of the objects (default by kind: web, batch,
                                   ml, data) */
} hoist_tracegen_config;

/* Write a synthetic trace to out. hours and scale of 0 mean the defaults;
 * negative, non-finite, hours > 8784 (a leap year) or scale > 1000 are
 * refused. Events after `hours` are dropped (pods still running at the end
 * have no delete). 0, or -1 with err. */
int hoist_tracegen(const hoist_tracegen_config *cfg, FILE *out, hoist_err *err);
/* Write n generated traces merged into one, in time order (at equal times
 * in the order of cfgs). Each is generated into a temporary file first.
 * 0, or -1 with err. */
int hoist_tracegen_merge(const hoist_tracegen_config *cfgs, size_t n, FILE *out,
                         hoist_err *err);
/* "web", "batch", "ml", "stateful" <-> kind; parse returns 0 or -1. */
const char *hoist_tracegen_kind_name(hoist_tracegen_kind k);
int hoist_tracegen_kind_parse(const char *name, hoist_tracegen_kind *out);

/* Convert a CSV task list with the header
 *   name,cpu_milli,memory_mib,num_gpu,creation_time,deletion_time
 * (columns in any order, each exactly once, no others; fields may be quoted
 * "..." with "" for a quote; times in seconds, fractions allowed;
 * deletion_time empty or <= creation_time: never deleted)
 * into a trace of Pods in namespace ns (NULL: "default"), sorted by time; at
 * equal times deletes come first (the capacity they free is free for a pod
 * starting at that time), then CSV line order. Pod names are `name` made a
 * DNS-1123 label (lowercase, [a-z0-9-], at most 63, "task" when nothing is
 * left) and unique ("-2", "-3", ... appended). num_gpu > 0 becomes
 * nvidia.com/gpu requests and limits plus the toleration of the nvidia.com/gpu
 * taint that Kubernetes' ExtendedResourceToleration admission adds.
 * Errors name the CSV line and column: "tasks.csv:7: column cpu_milli: ...".
 * 0, or -1 with err (nothing is written then). */
int hoist_trace_import_csv(FILE *in, const char *name, const char *ns, FILE *out, hoist_err *err);

#endif
