/*
 * apiserver/store.h - the in-memory object store of the simulated API server,
 * shared by the HTTP front (apiserver.h) and in-process writers (the
 * simulator's scheduler, kubelets, mock cloud).
 *
 * Objects are jansson values keyed by resource type, namespace and name. The
 * store keeps one resourceVersion counter for all types (decimal strings in
 * metadata.resourceVersion), sets uid, creationTimestamp and generation on
 * create, bumps generation when anything but metadata and status changes,
 * and checks resourceVersion preconditions on update (409 Conflict).
 *
 * Stored objects are immutable: every change stores a new value, so a value
 * handed out (a borrowed reference from get, or an event's object) stays as
 * it is; take a reference (json_incref) to keep it past the next change.
 *
 * Every change is an event (ADDED, MODIFIED, DELETED) kept in a bounded
 * history and delivered to watchers. A watcher may write to the store from
 * its callback: the events that causes are queued and delivered after the
 * current one, so every watcher sees events in resourceVersion order.
 *
 * Errors are Kubernetes Status errors: an HTTP code, a reason ("NotFound",
 * "AlreadyExists", "Conflict", "Invalid", "BadRequest", "Expired", ...) and a
 * message worded as the real API server words it.
 */
#ifndef HOIST_APISERVER_STORE_H
#define HOIST_APISERVER_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "apiserver/resources.h"
#include "apiserver/selector.h"

/* Default number of events kept for watches that resume from a resourceVersion. */
#define HOIST_APISTORE_DEFAULT_HISTORY 10000

typedef struct hoist_apistore hoist_apistore;
typedef struct hoist_apiwatch hoist_apiwatch;

/* A Kubernetes Status error. */
typedef struct hoist_apierr {
    int code;             /* HTTP status: 400, 404, 409, 410, 422, 429, 500 */
    char reason[32];      /* "NotFound", ... */
    char message[768];
    char name[254];       /* details.name, may be empty */
    char kind[64];        /* details.kind (the resource's plural), may be empty */
    char group[64];       /* details.group, may be empty */
    char cause[256];      /* details.causes[0].message (eviction), may be empty */
    char cause_reason[64];
    char cause_field[128]; /* details.causes[0].field, may be empty */
} hoist_apierr;

typedef enum hoist_api_event_type {
    HOIST_API_ADDED,
    HOIST_API_MODIFIED,
    HOIST_API_DELETED
} hoist_api_event_type;

/* One change. Borrowed by callbacks: incref what you keep. */
typedef struct hoist_api_event {
    hoist_api_event_type type;
    const hoist_api_resource *res;
    uint64_t rv;
    json_t *object; /* after the change; for DELETED the last state (its rv is the delete's) */
    json_t *old;    /* before the change (MODIFIED, DELETED); NULL for ADDED */
} hoist_api_event;

/* Delivered event: `type` is what this watcher sees (a MODIFIED that moves an
 * object into or out of its selectors reads ADDED or DELETED). */
typedef void (*hoist_apiwatch_cb)(void *arg, hoist_api_event_type type,
                                  const hoist_api_event *ev);

/* Clock for creationTimestamp and the like: Unix seconds. */
typedef double (*hoist_apistore_clock)(void *arg);

/* An empty store keeping `history` events (0 = the default). `clock` (NULL =
 * wall clock) and its arg are borrowed. NULL when out of memory. The
 * namespaces default, kube-system, kube-public and kube-node-lease exist. */
hoist_apistore *hoist_apistore_new(size_t history, hoist_apistore_clock clock, void *clock_arg);
/* Free the store, its objects and history; watchers still registered are
 * dropped without a callback. NULL is fine. */
void hoist_apistore_free(hoist_apistore *s);

/* The store's clock now (Unix seconds). */
double hoist_apistore_now(const hoist_apistore *s);
/* The current resourceVersion (0 before any change). */
uint64_t hoist_apistore_rv(const hoist_apistore *s);
/* The oldest resourceVersion a watch may resume from (older ones get 410). */
uint64_t hoist_apistore_oldest_rv(const hoist_apistore *s);
/* Number of objects of type r (all namespaces). */
size_t hoist_apistore_count(const hoist_apistore *s, const hoist_api_resource *r);

/* The object r ns/name (ns ignored for cluster-scoped types), borrowed; NULL
 * when absent. */
json_t *hoist_apistore_get(const hoist_apistore *s, const hoist_api_resource *r, const char *ns,
                           const char *name);

/* Objects of r in ns (NULL = all namespaces) matching the selectors (NULL =
 * all), sorted by namespace then name, as a <Kind>List object (new
 * reference). limit > 0 caps the items and sets metadata.continue; cont (may
 * be NULL) resumes after a previous page's continue token. NULL with a 400
 * (bad continue) or 410 (continue token too old) error. */
json_t *hoist_apistore_list(hoist_apistore *s, const hoist_api_resource *r, const char *ns,
                            const hoist_selector *labels, const hoist_selector *fields,
                            size_t limit, const char *cont, hoist_apierr *err);

/* Create obj (borrowed; copied) as r in ns (NULL: the object's
 * metadata.namespace, else "default"; ignored for cluster-scoped types).
 * metadata.generateName is honoured when name is absent. keep_status false
 * resets a Pod's status to {"phase": "Pending"} as the API does; in-process
 * writers preloading a world pass true. Returns the stored object (new
 * reference) or NULL with an error: 400 wrong kind or namespace, 404
 * namespace missing, 409 AlreadyExists, 422 Invalid name. */
json_t *hoist_apistore_create(hoist_apistore *s, const hoist_api_resource *r, const char *ns,
                              const json_t *obj, bool keep_status, hoist_apierr *err);

/* Which part of an object an update writes. */
typedef enum hoist_api_part {
    HOIST_API_MAIN,   /* everything but status (for types with a status subresource) */
    HOIST_API_STATUS, /* only status */
    HOIST_API_ALL     /* everything (in-process writers) */
} hoist_api_part;

/* Replace r ns/name by obj (borrowed). A metadata.resourceVersion in obj must
 * equal the stored one (409 Conflict); without one the update is
 * unconditional. uid, creationTimestamp, namespace, deletionTimestamp and
 * deletionGracePeriodSeconds are kept. An object being deleted whose
 * finalizers the update empties is deleted (see hoist_apistore_delete).
 * Returns the stored (or deleted) object (new reference) or NULL with
 * 400/404/409/422. */
json_t *hoist_apistore_update(hoist_apistore *s, const hoist_api_resource *r, const char *ns,
                              const char *name, const json_t *obj, hoist_api_part part,
                              hoist_apierr *err);

/* Apply a patch (len bytes, of a type from patch.h) to r ns/name and store
 * the result as hoist_apistore_update does. 400 for a malformed patch, 422
 * when it changes the name, 404, 409. */
json_t *hoist_apistore_patch(hoist_apistore *s, const hoist_api_resource *r, const char *ns,
                             const char *name, int patch_type, const char *patch, size_t len,
                             hoist_api_part part, hoist_apierr *err);

/* DeleteOptions.gracePeriodSeconds not given: the object's own. */
#define HOIST_APISTORE_GRACE_DEFAULT (-1)

/* Delete r ns/name as the API server does. A non-empty `precondition_rv`
 * must equal the stored one (409).
 * - Graceful deletion: a Pod bound to a node and not finished (phase not
 *   Succeeded or Failed) with a grace period > 0 (grace_s when >= 0, else
 *   its spec.terminationGracePeriodSeconds, else 30) is not removed: it
 *   gets metadata.deletionTimestamp (now + grace) and
 *   deletionGracePeriodSeconds (MODIFIED); its kubelet deletes it again
 *   with grace 0 once its containers stopped. Deleting a terminating pod
 *   again may only shorten its grace.
 * - Finalizers: an object with a non-empty metadata.finalizers is kept
 *   with deletionTimestamp set (deletionGracePeriodSeconds 0) until an
 *   update empties them; that update deletes it (one DELETED event).
 * - Deleting a namespace deletes every object in it at once.
 * Returns the object deleted, or now terminating (new reference), or NULL
 * with 404/409. */
json_t *hoist_apistore_delete(hoist_apistore *s, const hoist_api_resource *r, const char *ns,
                              const char *name, const char *precondition_rv, int64_t grace_s,
                              hoist_apierr *err);

/* Watch changes to r (NULL = every type) in ns (NULL = all) matching the
 * selectors (copied; NULL = all). Events after resourceVersion `from_rv` that
 * are still in the history are delivered first, from inside this call
 * (from_rv 0 = only what happens from now on). NULL with 410 Expired ("too
 * old resource version") when from_rv is older than the history. */
hoist_apiwatch *hoist_apistore_watch(hoist_apistore *s, const hoist_api_resource *r,
                                     const char *ns, const char *labels, const char *fields,
                                     uint64_t from_rv, hoist_apiwatch_cb cb, void *arg,
                                     hoist_apierr *err);
/* Stop a watch; its callback is not called again (safe from inside it). */
void hoist_apistore_unwatch(hoist_apistore *s, hoist_apiwatch *w);

/* policy/v1 Eviction of pod ns/name: deleted (gracefully, as
 * hoist_apistore_delete with the pod's own grace period) when it is not bound
 * to a node, has finished, or every PodDisruptionBudget in its namespace
 * whose selector matches it allows a disruption; else 429 TooManyRequests
 * naming the budget. More than one matching budget is a 500, as in the API.
 * A pod counts as healthy when it is bound, not finished, not terminating
 * (no deletionTimestamp; a terminating pod is evicted without a check),
 * and its Ready condition is True (or, without a Ready condition, its
 * phase is Running).
 * Returns 0 or -1 with the error (404 when the pod does not exist). */
int hoist_apistore_evict(hoist_apistore *s, const char *ns, const char *name, hoist_apierr *err);
/* Bind pod ns/name to `node` (spec.nodeName, and a PodScheduled condition).
 * 409 when it is bound already. Returns the stored pod (new reference). */
json_t *hoist_apistore_bind(hoist_apistore *s, const char *ns, const char *name,
                            const char *node, hoist_apierr *err);

/* Fill err (code, reason, message printf-style). Returns NULL for `return
 * hoist_apierr_set(...)` in functions returning pointers. */
void *hoist_apierr_set(hoist_apierr *err, int code, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The Status object of an error (new reference). */
json_t *hoist_apierr_status(const hoist_apierr *err);
/* Name of an event type: "ADDED", "MODIFIED", "DELETED". */
const char *hoist_api_event_name(hoist_api_event_type t);
/* Format Unix seconds as RFC 3339 UTC ("2024-05-01T12:00:00Z") into buf (21+ bytes). */
void hoist_api_time(double unix_seconds, char *buf, size_t n);
/* Parse an RFC 3339 UTC time as the store writes it; -1 when malformed. */
int hoist_api_time_parse(const char *s, double *out);

#endif
