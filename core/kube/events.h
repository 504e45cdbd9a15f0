/*
 * kube/events.h - core/v1 Events on pods, aggregated and rate-limited like
 * client-go's event recorder.
 *
 *   Nominated      (Normal)  "nominated for new node X" / "nominated for
 *                            existing node X"
 *   FailedScaling  (Warning) "hoist cannot place the pod: <reason>"
 *
 * Aggregation: the same (pod, type, reason, message) again within the
 * window (10 minutes, as client-go's correlator) does not create a second
 * Event: the existing one's `count` and `lastTimestamp` are bumped with a
 * strategic merge PATCH (one request in flight per Event; bumps arriving
 * meanwhile are folded into the next PATCH). A PATCH answered 404 (the API
 * server's Event TTL removed it) creates the Event again under a new name.
 * Event names are "<pod>.<hex>", the hex of a nanosecond-style timestamp,
 * as client-go names them.
 *
 * Rate limits, two token buckets, checked before aggregation (as client-go's
 * spam filter):
 *   - per pod: burst 25, one token back every 300 s - client-go's
 *     defaultSpamBurst and defaultSpamQPS (1/300) in
 *     tools/record/events_cache.go;
 *   - for all pods together: burst 100, one token back every 100 ms (10/s) -
 *     hoist's own number, so a storm of thousands of pending pods cannot
 *     flood the API server with thousands of writes at once.
 * An event refused by either is dropped and counted. Both are configurable.
 *
 * The clock is injectable (unix ms): timestamps, the window and the buckets
 * all read it, so tests drive time without sleeping. Entries are forgotten
 * once their window and their bucket's refill are over (swept when the
 * cache holds more than max_entries).
 */
#ifndef HOIST_KUBE_EVENTS_H
#define HOIST_KUBE_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kube/request.h"

#define HOIST_KUBE_EVENT_WINDOW_MS (10u * 60u * 1000u)
#define HOIST_KUBE_EVENT_BURST 25u
#define HOIST_KUBE_EVENT_REFILL_MS 300000u
#define HOIST_KUBE_EVENT_GLOBAL_BURST 100u
#define HOIST_KUBE_EVENT_GLOBAL_REFILL_MS 100u
#define HOIST_KUBE_EVENT_MAX_ENTRIES 4096u
/* Longer messages are cut (at a UTF-8 boundary) to this many bytes. */
#define HOIST_KUBE_EVENT_MAX_MESSAGE 1024u

#define HOIST_KUBE_REASON_NOMINATED "Nominated"
#define HOIST_KUBE_REASON_FAILED_SCALING "FailedScaling"

typedef struct hoist_kube_events_config {
    const char *component;      /* source.component and reportingComponent; NULL = "hoist" */
    const char *instance;       /* reportingInstance (e.g. the host name); NULL = none */
    uint64_t window_ms;         /* aggregation window; 0 = HOIST_KUBE_EVENT_WINDOW_MS */
    uint32_t burst;             /* per pod; 0 = HOIST_KUBE_EVENT_BURST */
    uint32_t refill_ms;         /* per pod, ms per token; 0 = HOIST_KUBE_EVENT_REFILL_MS */
    uint32_t global_burst;      /* 0 = HOIST_KUBE_EVENT_GLOBAL_BURST */
    uint32_t global_refill_ms;  /* 0 = HOIST_KUBE_EVENT_GLOBAL_REFILL_MS */
    size_t max_entries;         /* 0 = HOIST_KUBE_EVENT_MAX_ENTRIES */
    hoist_kube_clock_fn now_ms; /* NULL = the system's real-time clock */
    void *clock_arg;
    hoist_kube_retry retry;     /* for the POSTs and PATCHes */
    uint64_t seed;
    /* The pod's metadata.uid, or NULL when unknown (borrowed for the call;
     * e.g. looked up in the cluster state). It goes into involvedObject.uid,
     * which `kubectl describe pod` selects Events by, and into the
     * aggregation key. NULL function = no uid. */
    const char *(*pod_uid)(void *arg, const char *ns, const char *name);
    void *uid_arg;
} hoist_kube_events_config;

/* Counters (monotonic). */
typedef struct hoist_kube_events_stats {
    hoist_kube_request_stats http;
    uint64_t emitted;           /* events asked for */
    uint64_t rate_limited;      /* dropped by a token bucket */
    uint64_t aggregated;        /* folded into an existing Event (count bump) */
    uint64_t created;           /* Events created (POST 2xx) */
    uint64_t patched;           /* count bumps written (PATCH 2xx) */
    uint64_t recreated;         /* PATCH 404: created again */
    uint64_t failures;          /* POST/PATCH given up */
} hoist_kube_events_stats;

typedef struct hoist_kube_events hoist_kube_events;

/* A recorder sending through client (copied; its pointers are borrowed and
 * must outlive the recorder); cfg's strings are copied. NULL with err. */
hoist_kube_events *hoist_kube_events_new(const hoist_kube_client *client,
                                         const hoist_kube_events_config *cfg, hoist_err *err);

/* Record an Event on pod ns/name. type "Normal" or "Warning". 0 = sent or
 * aggregated, 1 = dropped by the rate limit, -1 with err on bad arguments
 * or out of memory. */
int hoist_kube_event_pod(hoist_kube_events *ev, const char *ns, const char *name,
                         const char *type, const char *reason, const char *message,
                         hoist_err *err);
/* "Nominated": pod ns/name will run on `node`, a machine being launched
 * (new_node) or an existing Node. Returns as hoist_kube_event_pod. */
int hoist_kube_event_nominated(hoist_kube_events *ev, const char *ns, const char *name,
                               const char *node, bool new_node, hoist_err *err);
/* "FailedScaling": hoist cannot place pod ns/name, because `why`. */
int hoist_kube_event_unschedulable(hoist_kube_events *ev, const char *ns, const char *name,
                                   const char *why, hoist_err *err);

/* Requests in flight. */
size_t hoist_kube_events_pending(const hoist_kube_events *ev);
/* Counters. */
const hoist_kube_events_stats *hoist_kube_events_get_stats(const hoist_kube_events *ev);
/* Cancel what is in flight (unsent count bumps are lost) and free. Run the
 * loop afterwards so the requests' timers close. NULL is fine. */
void hoist_kube_events_close(hoist_kube_events *ev);

#endif
