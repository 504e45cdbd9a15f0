/*
 * kube/writer.h - the daemon's writes to Node and Pod objects: evictions,
 * taints, cordons and Node deletion, each one asynchronous HTTP call (or a
 * read-modify-write pair) on the libuv loop.
 *
 *   evict        POST /api/v1/namespaces/NS/pods/NAME/eviction with a
 *                policy/v1 Eviction. 2xx = evicted; 404 = the pod is already
 *                gone (success); 429 = a PodDisruptionBudget refuses for now
 *                (counted, not retried here: the pipeline sends drains'
 *                evictions again every consolidation interval); 5xx and
 *                transport errors are retried with backoff, then counted as
 *                failures. An eviction of a pod that is already in flight is
 *                not sent twice.
 *   taint/cordon GET the Node, compute spec.taints (or spec.unschedulable)
 *                from what it holds, and PATCH it with a JSON patch
 *                (application/json-patch+json) whose first operation tests
 *                metadata.resourceVersion: a Node changed meanwhile makes the
 *                PATCH fail (409, or 422 as the API server answers a failed
 *                `test`) and the whole read-modify-write is done again, at most
 *                max_conflicts times. Other taints are copied as they are
 *                (timeAdded included); a taint matches by key and effect; adding
 *                one that is there with the same value, or removing one that is
 *                not there, sends no PATCH. Writes to the same Node are done one
 *                after the other, in the order asked; an identical write already
 *                waiting is not queued twice.
 *   delete_node  DELETE /api/v1/nodes/NAME; 404 = already gone (success).
 *
 * Every request retries transport errors and 5xx with exponential backoff
 * and jitter (kube/request.h; attempts bounded), and 429 after its
 * Retry-After except for evictions. Each outcome is counted
 * (hoist_kube_writer_stats), logged, and reported to on_result when set.
 * A malformed answer (a GET Node that is not JSON, or has no
 * resourceVersion, or wrong types in spec.taints) fails that write with a
 * message naming the field; nothing else is affected.
 *
 * The write functions return at once (0 = started or already in flight);
 * the outcome arrives later from the loop. Not thread-safe: the loop's
 * thread only.
 */
#ifndef HOIST_KUBE_WRITER_H
#define HOIST_KUBE_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hoist/types.h>

#include "kube/request.h"

#define HOIST_KUBE_WRITER_MAX_CONFLICTS 5u

/* What a write was. */
typedef enum hoist_kube_write_kind {
    HOIST_KUBE_WRITE_EVICT = 0,
    HOIST_KUBE_WRITE_TAINT,
    HOIST_KUBE_WRITE_UNTAINT,
    HOIST_KUBE_WRITE_CORDON,
    HOIST_KUBE_WRITE_UNCORDON,
    HOIST_KUBE_WRITE_DELETE_NODE
} hoist_kube_write_kind;

/* How it ended. */
typedef enum hoist_kube_write_outcome {
    HOIST_KUBE_WRITE_DONE = 0,      /* the API accepted it */
    HOIST_KUBE_WRITE_UNCHANGED,     /* the object already was as asked; nothing sent */
    HOIST_KUBE_WRITE_GONE,          /* 404: pod or Node already gone (success for evict/delete) */
    HOIST_KUBE_WRITE_REFUSED,       /* 429 on an eviction: a PodDisruptionBudget said no */
    HOIST_KUBE_WRITE_FAILED         /* anything else; message says what */
} hoist_kube_write_outcome;

/* One finished write, borrowed for the on_result call. */
typedef struct hoist_kube_write_result {
    hoist_kube_write_kind kind;
    const char *ns;                 /* the pod's namespace (evict), else NULL */
    const char *name;               /* pod or Node name */
    hoist_kube_write_outcome outcome;
    long status;                    /* last HTTP status, 0 when none */
    const char *message;            /* why, for FAILED/REFUSED; else "" */
} hoist_kube_write_result;

typedef void (*hoist_kube_write_result_cb)(void *arg, const hoist_kube_write_result *res);

typedef struct hoist_kube_writer_config {
    hoist_kube_retry retry;         /* for every request (retry_429 is ignored for evictions) */
    uint32_t max_conflicts;         /* read-modify-write rounds after a conflict;
                                       0 = HOIST_KUBE_WRITER_MAX_CONFLICTS */
    uint64_t seed;                  /* seeds the backoff jitter */
    hoist_kube_write_result_cb on_result; /* may be NULL */
    void *arg;
} hoist_kube_writer_config;

/* Counters (monotonic). */
typedef struct hoist_kube_writer_stats {
    hoist_kube_request_stats http;  /* every HTTP attempt, retries and errors */
    uint64_t evictions;             /* evictions started */
    uint64_t evictions_deduplicated; /* asked while the same pod's eviction was in flight */
    uint64_t evicted;               /* accepted (2xx) */
    uint64_t eviction_pod_gone;     /* 404: already gone, counted as success */
    uint64_t evictions_refused;     /* 429: refused by a PodDisruptionBudget */
    uint64_t eviction_failures;     /* transport/5xx after retries, other 4xx */
    uint64_t node_writes;           /* taint/untaint/cordon/uncordon asked (and queued) */
    uint64_t node_writes_coalesced; /* an identical write was already waiting */
    uint64_t node_patches;          /* PATCHes the API accepted */
    uint64_t node_unchanged;        /* already as asked: no PATCH */
    uint64_t node_conflicts;        /* 409/422 answers to a PATCH (each starts a new round) */
    uint64_t node_malformed;        /* GET Node answers that were not a usable Node */
    uint64_t node_missing;          /* the Node does not exist (404) */
    uint64_t node_failures;         /* taint/cordon writes given up (any reason) */
    uint64_t node_deletes;          /* DELETE Node started */
    uint64_t nodes_deleted;         /* 2xx */
    uint64_t nodes_already_gone;    /* 404, counted as success */
    uint64_t node_delete_failures;
} hoist_kube_writer_stats;

typedef struct hoist_kube_writer hoist_kube_writer;

/* A writer sending through client (copied; its pointers are borrowed and
 * must outlive the writer). NULL with err when out of memory. */
hoist_kube_writer *hoist_kube_writer_new(const hoist_kube_client *client,
                                         const hoist_kube_writer_config *cfg, hoist_err *err);

/* Evict pod ns/name. 0 = sent or already in flight, -1 with err when it
 * cannot be started. */
int hoist_kube_writer_evict(hoist_kube_writer *w, const char *ns, const char *name,
                            hoist_err *err);
/* Add (add true) or remove taint key[=value]:effect on Node `node`. value
 * may be NULL or "" (no value). 0 = queued, -1 with err. */
int hoist_kube_writer_taint(hoist_kube_writer *w, const char *node, const char *key,
                            const char *value, hoist_taint_effect effect, bool add,
                            hoist_err *err);
/* Set spec.unschedulable of Node `node` (cordon true, uncordon false). 0 or -1. */
int hoist_kube_writer_cordon(hoist_kube_writer *w, const char *node, bool cordon,
                             hoist_err *err);
/* Delete Node `node`. 0 = sent or already in flight, -1 with err. */
int hoist_kube_writer_delete_node(hoist_kube_writer *w, const char *node, hoist_err *err);

/* Writes not finished yet (in flight, backing off or queued behind another). */
size_t hoist_kube_writer_pending(const hoist_kube_writer *w);
/* Counters. */
const hoist_kube_writer_stats *hoist_kube_writer_get_stats(const hoist_kube_writer *w);

/* Cancel every write (no on_result afterwards) and free the writer. Run the
 * loop afterwards so the requests' timers close. Not from inside on_result.
 * NULL is fine. */
void hoist_kube_writer_close(hoist_kube_writer *w);

/* The JSON patch (RFC 6902 text, malloc'd) that applies one write to `node`
 * (a Node object): a test of metadata.resourceVersion, then the new
 * spec.taints or spec.unschedulable. *unchanged is set (and NULL returned
 * without error) when the Node already is as asked. NULL with err naming
 * the field when the Node is malformed. Exposed for tests. kind is TAINT,
 * UNTAINT, CORDON or UNCORDON; key/value/effect are for the taint kinds. */
char *hoist_kube_node_patch(const char *node_json, size_t len, hoist_kube_write_kind kind,
                            const char *key, const char *value, hoist_taint_effect effect,
                            bool *unchanged, hoist_err *err);

/* "evict", "taint", "untaint", "cordon", "uncordon", "delete-node". */
const char *hoist_kube_write_kind_name(hoist_kube_write_kind k);
/* "done", "unchanged", "gone", "refused", "failed". */
const char *hoist_kube_write_outcome_name(hoist_kube_write_outcome o);

#endif
