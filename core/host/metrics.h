/*
 * host/metrics.h - a small registry of labelled counters and gauges that
 * renders the Prometheus text exposition format (version 0.0.4).
 *
 * A metric family has a name, a help text and a type; each distinct label
 * set is one series. A histogram family has fixed bucket bounds (given at
 * its first observation) and renders as _bucket{le=...} (cumulative),
 * _sum and _count series. Rendering is stable: families sorted by name, series by
 * their label sets (labels sorted by key within a set), so two renders of the
 * same registry are byte-identical. Not thread-safe: use from one thread.
 */
#ifndef HOIST_HOST_METRICS_H
#define HOIST_HOST_METRICS_H

#include <stddef.h>
#include <stdio.h>

#include <hoist/types.h>

#include "util/error.h"

typedef struct hoist_metrics hoist_metrics;

typedef enum hoist_metric_type {
    HOIST_METRIC_COUNTER = 0,
    HOIST_METRIC_GAUGE,
    HOIST_METRIC_HISTOGRAM
} hoist_metric_type;

/* An empty registry; NULL when out of memory. Free with hoist_metrics_free(). */
hoist_metrics *hoist_metrics_new(void);
/* Free the registry and every series in it (NULL is fine). */
void hoist_metrics_free(hoist_metrics *m);

/* Add delta (>= 0) to counter `name` with `labels` (copied), registering the
 * family with `help` on first use. -1 with a message on a bad name, label,
 * negative delta, or a name already registered as a gauge. */
int hoist_metrics_counter_add(hoist_metrics *m, const char *name, const char *help,
                              const hoist_kv *labels, size_t n_labels, double delta,
                              hoist_err *err);
/* Set gauge `name` with `labels` to value; same rules as counter_add. */
int hoist_metrics_gauge_set(hoist_metrics *m, const char *name, const char *help,
                            const hoist_kv *labels, size_t n_labels, double value,
                            hoist_err *err);
/* Add delta (any sign) to gauge `name` with `labels`. */
int hoist_metrics_gauge_add(hoist_metrics *m, const char *name, const char *help,
                            const hoist_kv *labels, size_t n_labels, double delta,
                            hoist_err *err);
/* Observe value in histogram `name` with `labels`. bounds[0..n_bounds) are
 * the buckets' upper bounds, strictly increasing and finite (+Inf is
 * implied), copied at the family's first use; later calls must give the
 * same ones. -1 with a message on a bad name, label, bounds or value. */
int hoist_metrics_histogram_observe(hoist_metrics *m, const char *name, const char *help,
                                    const double *bounds, size_t n_bounds,
                                    const hoist_kv *labels, size_t n_labels, double value,
                                    hoist_err *err);
/* Current value of a series into *out (a histogram's: its count); -1 (no message) when it does not exist. */
int hoist_metrics_get(const hoist_metrics *m, const char *name, const hoist_kv *labels,
                      size_t n_labels, double *out);
/* Number of families registered. */
size_t hoist_metrics_family_count(const hoist_metrics *m);

/* Render the whole registry in Prometheus text format into a malloc'd,
 * NUL-terminated string the caller frees; *len (if not NULL) gets its length.
 * NULL when out of memory. */
char *hoist_metrics_render(const hoist_metrics *m, size_t *len);
/* Render to a stream; -1 on a write error. */
int hoist_metrics_write(const hoist_metrics *m, FILE *out);

/* True when name is a valid Prometheus metric name [a-zA-Z_:][a-zA-Z0-9_:]*. */
int hoist_metrics_valid_name(const char *name);
/* True when name is a valid label name [a-zA-Z_][a-zA-Z0-9_]*, not starting "__". */
int hoist_metrics_valid_label(const char *name);

#endif
