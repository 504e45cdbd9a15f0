/*
 * kube/reflector.h - keep a consumer's copy of one Kubernetes resource exact:
 * LIST, then WATCH, forever, on the libuv loop.
 *
 *   LIST  path?limit=N[&continue=T]      pages until no continue token
 *   WATCH path?watch=1&allowWatchBookmarks=true&timeoutSeconds=S&resourceVersion=RV
 *
 * The resourceVersion is taken from the list and from every watch event and
 * BOOKMARK. When a watch ends normally (server timeout) it is restarted from
 * the last resourceVersion at once. 410 Gone (as the HTTP status or as an
 * ERROR event with code 410) means the resourceVersion is too old: the
 * resource is listed again and the consumer gets the difference from what it
 * was told before: ADD for new objects, UPDATE for changed ones (by
 * resourceVersion), DELETE for objects that vanished meanwhile.
 *
 * Failures (transport errors, 5xx, 401/403, unparseable list) are retried
 * after an exponential backoff with jitter (base 0.5 s doubling per failure
 * in a row, capped at 30 s; the delay is drawn uniformly from [d/2, d] with
 * a caller-seeded generator so tests are deterministic); a 429 waits at least
 * its Retry-After (seconds or HTTP date, capped at 600 s). For an optional
 * resource (a CRD such as karpenter.sh/v1 NodePools) a 404 means "absent":
 * objects known before are deleted, the first absence counts as synced, it
 * is logged once and retried every minute, not as an error.
 *
 * A malformed object (not JSON, no metadata.name, wrong types in metadata, an
 * unknown event type) is skipped, logged and counted; the stream goes on.
 * Objects are trimmed (kube/trim.h) before the consumer sees them, unless
 * the caller turns that off.
 */
#ifndef HOIST_KUBE_REFLECTOR_H
#define HOIST_KUBE_REFLECTOR_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "host/http.h"
#include "host/log.h"
#include "kube/kubeconfig.h"
#include "state/cluster.h"
#include "util/error.h"

/* Defaults for the zero fields of hoist_reflector_config. */
#define HOIST_REFLECTOR_PAGE_SIZE 500u
#define HOIST_REFLECTOR_WATCH_TIMEOUT_S 300u
#define HOIST_REFLECTOR_BACKOFF_BASE_MS 500u
#define HOIST_REFLECTOR_BACKOFF_CAP_MS 30000u
#define HOIST_REFLECTOR_ABSENT_RETRY_MS 60000u
/* Longest Retry-After honoured. */
#define HOIST_REFLECTOR_RETRY_AFTER_MAX_MS 600000u
/* Longest watch event line accepted; longer ones are skipped as malformed. */
#define HOIST_REFLECTOR_MAX_LINE ((size_t)32 << 20)

typedef struct hoist_reflector hoist_reflector;

/* One change for the consumer; ev->object is borrowed for the call. */
typedef void (*hoist_reflector_event_cb)(void *arg, const hoist_object_event *ev);
/* The first complete list was delivered (or the optional resource is absent). */
typedef void (*hoist_reflector_synced_cb)(void *arg);

typedef struct hoist_reflector_config {
    const char *path;           /* e.g. "/api/v1/pods", "/apis/karpenter.sh/v1/nodepools" */
    const char *api_version;    /* e.g. "v1": set on list items, which come without it */
    const char *kind;           /* e.g. "Pod": likewise */
    bool optional;              /* 404 = absent (a CRD that may not be installed) */
    bool keep_whole;            /* do not trim objects (kube/trim.h) */
    uint32_t page_size;         /* list limit; 0 = HOIST_REFLECTOR_PAGE_SIZE */
    uint32_t watch_timeout_s;   /* timeoutSeconds; 0 = HOIST_REFLECTOR_WATCH_TIMEOUT_S */
    uint32_t backoff_base_ms;   /* 0 = HOIST_REFLECTOR_BACKOFF_BASE_MS */
    uint32_t backoff_cap_ms;    /* 0 = HOIST_REFLECTOR_BACKOFF_CAP_MS */
    uint32_t absent_retry_ms;   /* 0 = HOIST_REFLECTOR_ABSENT_RETRY_MS */
    uint64_t seed;              /* seeds the jitter generator */
    hoist_reflector_event_cb on_event; /* required */
    hoist_reflector_synced_cb on_synced; /* may be NULL */
    void *arg;                  /* passed to both */
} hoist_reflector_config;

/* Counters (monotonic). */
typedef struct hoist_reflector_stats {
    uint64_t lists;             /* list pages requested */
    uint64_t relists;           /* lists after the first sync (410, errors, absence) */
    uint64_t watch_restarts;    /* watches started after the first */
    uint64_t events;            /* events given to the consumer */
    uint64_t bookmarks;         /* BOOKMARK events */
    uint64_t malformed;         /* objects or lines skipped as malformed */
    uint64_t failures;          /* failed requests (transport, HTTP errors, bad lists) */
    uint64_t throttled;         /* 429 answers */
} hoist_reflector_stats;

/* A reflector for cfg (strings copied) talking through `http` to the server
 * of `kube` (both borrowed; kube's token is refreshed before each request,
 * so it must outlive the reflector). Nothing is sent until start. */
hoist_reflector *hoist_reflector_new(uv_loop_t *loop, hoist_http *http, hoist_kube_config *kube,
                                     const hoist_logger *log, const hoist_reflector_config *cfg,
                                     hoist_err *err);
/* Send the first LIST. Returns 0, or -1 with err when the request cannot be
 * started (it is then retried after a backoff anyway). */
int hoist_reflector_start(hoist_reflector *r, hoist_err *err);
/* Stop: cancel the request in flight and the timer; no callback runs after
 * this returns. The memory goes once the loop has run the timer's close
 * callback. May be called from the reflector's own callbacks. NULL is fine. */
void hoist_reflector_close(hoist_reflector *r);

/* Counters. */
const hoist_reflector_stats *hoist_reflector_get_stats(const hoist_reflector *r);
/* Last resourceVersion seen ("" before the first list). */
const char *hoist_reflector_resource_version(const hoist_reflector *r);
/* Delay of the last request scheduled on the timer, in ms (0: at once). */
uint64_t hoist_reflector_last_delay_ms(const hoist_reflector *r);
/* True once the first list was delivered (or the resource was found absent). */
bool hoist_reflector_synced(const hoist_reflector *r);
/* True while an optional resource answers 404. */
bool hoist_reflector_absent(const hoist_reflector *r);
/* Objects the consumer currently holds from this reflector. */
size_t hoist_reflector_size(const hoist_reflector *r);

/* The backoff after `failures` failures in a row (>= 1): d = min(cap, base *
 * 2^(failures-1)), result uniform in [d/2, d] drawn from *rng (advanced). */
uint64_t hoist_kube_backoff_ms(unsigned failures, uint32_t base_ms, uint32_t cap_ms,
                               uint64_t *rng);
/* A Retry-After value in ms: delta-seconds, or an HTTP date relative to
 * now_unix; 0 when unparseable or in the past; at most
 * HOIST_REFLECTOR_RETRY_AFTER_MAX_MS. */
uint64_t hoist_kube_retry_after_ms(const char *value, int64_t now_unix);

#endif
