/*
 * kube/sink.h - the pipeline's write sink (pipeline/pipeline.h hoist_sink)
 * on the Kubernetes API: taints, evictions and Node deletions through a
 * writer (kube/writer.h), nominations and "cannot help" notices as Events
 * (kube/events.h).
 *
 * The calls return at once; the API calls finish later on the loop, and
 * their outcomes are counted and logged by the writer and the recorder.
 * evict() returns 0 when the eviction was sent (or one for the pod is
 * already in flight): whether a PodDisruptionBudget refused it is known
 * only later, and the pipeline sends a drain's evictions again every
 * consolidation interval anyway.
 */
#ifndef HOIST_KUBE_SINK_H
#define HOIST_KUBE_SINK_H

#include <stdbool.h>

#include "host/log.h"
#include "kube/events.h"
#include "kube/writer.h"
#include "pipeline/pipeline.h"

/* True when `node` is a machine hoist is launching (a claim's name), so the
 * Nominated Event says "new node"; e.g. hoist_pipeline_find_claim != NULL. */
typedef bool (*hoist_kube_is_new_node_fn)(void *arg, const char *node);

/* What the sink writes through; everything borrowed. */
typedef struct hoist_kube_sink {
    hoist_kube_writer *writer;          /* NULL: taints, evictions, deletions skipped */
    hoist_kube_events *events;          /* NULL: no Events */
    hoist_kube_is_new_node_fn is_new_node; /* NULL: every Node counts as existing */
    void *arg;                          /* for is_new_node */
    const hoist_logger *log;            /* may be NULL */
} hoist_kube_sink;

/* Fill `out` with callbacks writing through k (borrowed: it must outlive
 * every use of out). */
void hoist_kube_sink_bind(hoist_kube_sink *k, hoist_sink *out);

#endif
