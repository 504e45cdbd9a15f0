/*
 * kube/request.h - one write-side call to the Kubernetes API, with bounded
 * retries: what the writer, the event recorder and the lease share.
 *
 * A request is sent to kube->server + path with the kubeconfig's TLS and
 * bearer token (the token file is re-read first when it rotated). It is
 * retried, after an exponential backoff with jitter
 * (hoist_kube_backoff_ms from kube/reflector.h), when the transport fails
 * or the server answers 5xx, and - when the caller asks for it - on 429,
 * waiting at least the answer's Retry-After. Anything else is the answer.
 * The completion runs exactly once, from the loop, unless the request is
 * cancelled first.
 */
#ifndef HOIST_KUBE_REQUEST_H
#define HOIST_KUBE_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "host/http.h"
#include "host/log.h"
#include "kube/kubeconfig.h"
#include "util/error.h"

/* What every request needs; all borrowed and outliving the requests. */
typedef struct hoist_kube_client {
    uv_loop_t *loop;
    hoist_http *http;
    hoist_kube_config *kube;    /* its token is refreshed before each attempt */
    const hoist_logger *log;    /* may be NULL */
} hoist_kube_client;

/* How hard to try. Zero fields take the defaults below. */
typedef struct hoist_kube_retry {
    uint32_t max_attempts;      /* attempts in all, >= 1; 0 = HOIST_KUBE_RETRY_ATTEMPTS */
    uint32_t base_ms;           /* first backoff; 0 = HOIST_KUBE_RETRY_BASE_MS */
    uint32_t cap_ms;            /* largest backoff; 0 = HOIST_KUBE_RETRY_CAP_MS */
    uint32_t timeout_ms;        /* per attempt; 0 = HOIST_KUBE_REQUEST_TIMEOUT_MS */
    bool retry_429;             /* 429 is retried (after Retry-After) instead of answered */
} hoist_kube_retry;

#define HOIST_KUBE_RETRY_ATTEMPTS 5u
#define HOIST_KUBE_RETRY_BASE_MS 200u
#define HOIST_KUBE_RETRY_CAP_MS 10000u
#define HOIST_KUBE_REQUEST_TIMEOUT_MS 10000u

/* Counters a request adds to (the owner's; monotonic). */
typedef struct hoist_kube_request_stats {
    uint64_t requests;          /* HTTP attempts sent */
    uint64_t retries;           /* attempts after the first */
    uint64_t transport_errors;  /* attempts that got no answer (connect, TLS, timeout) */
    uint64_t server_errors;     /* 5xx answers */
    uint64_t throttled;         /* 429 answers */
    uint64_t gave_up;           /* requests whose last attempt still failed */
} hoist_kube_request_stats;

/* The outcome, borrowed for the completion. status 0 = no answer (transport
 * failure after the last attempt; `message` says why). */
typedef struct hoist_kube_result {
    long status;
    const char *body;           /* NUL-terminated; "" when none */
    size_t body_len;
    const char *retry_after;    /* the Retry-After header, or NULL */
    const char *message;        /* transport error, or the Status body's message, or "" */
    unsigned attempts;
} hoist_kube_result;

typedef void (*hoist_kube_done_cb)(void *arg, const hoist_kube_result *res);

/* A clock: unix time in ms (injectable where decisions depend on time). */
typedef uint64_t (*hoist_kube_clock_fn)(void *arg);
/* The system's real-time clock as a hoist_kube_clock_fn (arg unused). */
uint64_t hoist_kube_real_clock_ms(void *arg);

typedef struct hoist_kube_request hoist_kube_request;

/* Start `method path` (path from the server root, query included) with an
 * optional body of content type `ctype` (copied). rng (borrowed, advanced)
 * draws the jitter; stats (borrowed, may be NULL) is counted into; both must
 * outlive the request. NULL with err when nothing could be started (out of
 * memory, a malformed request); done is then never called. */
hoist_kube_request *hoist_kube_request_start(const hoist_kube_client *c, const char *method,
                                             const char *path, const char *ctype,
                                             const char *body, const hoist_kube_retry *retry,
                                             uint64_t *rng, hoist_kube_request_stats *stats,
                                             hoist_kube_done_cb done, void *arg, hoist_err *err);

/* Stop a request: done is not called. Its memory goes once the loop has run
 * the close callback of its timer. */
void hoist_kube_request_cancel(hoist_kube_request *r);

/* The delay chosen before the last retry of r, in ms (0 before any). */
uint64_t hoist_kube_request_last_delay_ms(const hoist_kube_request *r);

/* The value of response header `name` (case-insensitive), or NULL; borrowed. */
const char *hoist_kube_header(const hoist_http_response *resp, const char *name);

/* Percent-escape a path segment (RFC 3986 unreserved kept). malloc'd, NULL when out of memory. */
char *hoist_kube_escape(const char *s);

/* Format unix milliseconds as a Kubernetes MicroTime
 * ("2024-05-01T12:00:00.123000Z") or, with micro false, a Time
 * ("2024-05-01T12:00:00Z"). buf must hold 32 bytes. */
const char *hoist_kube_time(uint64_t unix_ms, bool micro, char *buf, size_t size);

#endif
