/*
 * hoist/host.h - services the hoist core lends to a provider plugin.
 *
 * The core passes a `hoist_host` to the plugin's init(). The struct and the
 * context it points to outlive the plugin instance (until destroy() returns).
 * A plugin uses these services instead of running its own event loop or
 * threads: timers, HTTP and time come from the core, so the same plugin runs
 * on the daemon's libuv loop and on the simulator's virtual clock.
 *
 * Like the provider descriptor, the struct begins with an ABI version and its
 * own size, and fields are only ever appended: a plugin must check `size`
 * before using a field added after the version it was written for (use
 * HOIST_HOST_HAS()).
 *
 * Threading: every function here must be called from the core's loop thread,
 * and every callback runs on it.
 */
#ifndef HOIST_HOST_H
#define HOIST_HOST_H

#include <stddef.h>
#include <stdint.h>

#include <hoist/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define HOIST_PRINTF(fmt_idx, arg_idx) __attribute__((format(printf, fmt_idx, arg_idx)))
#else
#define HOIST_PRINTF(fmt_idx, arg_idx)
#endif

/* Outcome codes of host and provider operations. */
typedef enum hoist_status {
    HOIST_OK = 0,
    HOIST_E_INVALID,               /* the request was malformed or names unknown things */
    HOIST_E_NOT_FOUND,             /* no such instance, type or object */
    HOIST_E_INSUFFICIENT_CAPACITY, /* the cloud has no capacity for the offerings asked */
    HOIST_E_THROTTLED,             /* the cloud rate-limited the call; see retry_after_ms */
    HOIST_E_UNAUTHORIZED,          /* credentials missing, expired or not allowed */
    HOIST_E_QUOTA,                 /* an account limit (vCPU quota, instance limit) was hit */
    HOIST_E_LAUNCH_FAILED,         /* the cloud accepted the launch, then the machine failed */
    HOIST_E_UNAVAILABLE,           /* transient: network error or 5xx; retry later */
    HOIST_E_TIMEOUT,               /* the operation did not finish in time */
    HOIST_E_UNSUPPORTED,           /* the plugin does not implement this */
    HOIST_E_CANCELLED,             /* cancelled by the core (shutdown, timer cancelled) */
    HOIST_E_INTERNAL               /* a bug or resource exhaustion inside the plugin or core */
} hoist_status;

/* A typed error. Plain value: copy it freely. */
typedef struct hoist_error {
    hoist_status code;        /* never HOIST_OK in a reported error */
    uint32_t retry_after_ms;  /* for THROTTLED and UNAVAILABLE: suggested wait; 0 = unknown */
    char message[256];        /* human-readable detail, NUL-terminated */
} hoist_error;

/* Log levels, most severe first. */
typedef enum hoist_log_level {
    HOIST_LOG_ERROR = 0,
    HOIST_LOG_WARN,
    HOIST_LOG_INFO,
    HOIST_LOG_DEBUG
} hoist_log_level;

/* An armed timer (opaque; owned by the core). */
typedef struct hoist_timer hoist_timer;
/* Called once when a timer fires. The timer handle is invalid afterwards. */
typedef void (*hoist_timer_cb)(void *arg);

/* An HTTP request. All fields are borrowed for the duration of http_request(). */
typedef struct hoist_http_request {
    const char *method;            /* "GET", "POST", ... */
    const char *url;               /* absolute URL */
    const char *const *headers;    /* "Name: value" strings */
    size_t n_headers;
    const char *body;              /* may be NULL */
    size_t body_len;
    uint32_t timeout_ms;           /* whole-request timeout; 0 = the core's default (30 s) */
} hoist_http_request;

/* An HTTP response, borrowed for the duration of the completion callback. */
typedef struct hoist_http_response {
    long status;                   /* HTTP status code, e.g. 200 */
    const char *const *headers;    /* "Name: value" strings as received */
    size_t n_headers;
    const char *body;              /* NUL-terminated for convenience; may contain NULs */
    size_t body_len;
} hoist_http_response;

/* An HTTP request in flight (opaque; owned by the core). */
typedef struct hoist_http_call hoist_http_call;
/* Completion: exactly one of err and resp is non-NULL. A 4xx or 5xx answer is
 * a response, not an error; errors are transport failures and timeouts. */
typedef void (*hoist_http_cb)(void *arg, const hoist_error *err, const hoist_http_response *resp);

/* ABI version of hoist_host: major in the high 16 bits, minor in the low 16. */
#define HOIST_HOST_ABI_VERSION ((1u << 16) | 0u)

/* The host services table. */
typedef struct hoist_host {
    uint32_t abi_version;   /* HOIST_HOST_ABI_VERSION of the core */
    uint32_t size;          /* sizeof(hoist_host) in the core */
    void *ctx;              /* first argument to every function below */

    /* Write a log line at `level`, attributed to the plugin. */
    void (*log)(void *ctx, hoist_log_level level, const char *fmt, ...) HOIST_PRINTF(3, 4);

    /* Current time in milliseconds since the Unix epoch: wall clock in the
     * daemon, virtual time in the simulator. Plugins must not read the
     * system clock for decisions. */
    uint64_t (*now_ms)(void *ctx);

    /* Call cb(arg) once after delay_ms. Returns NULL on allocation failure. */
    hoist_timer *(*timer_start)(void *ctx, uint64_t delay_ms, hoist_timer_cb cb, void *arg);
    /* Cancel a timer that has not fired; its callback is never called. */
    void (*timer_cancel)(void *ctx, hoist_timer *timer);

    /* Start an asynchronous HTTP request (libcurl multi on the core's loop).
     * Returns NULL, and never calls cb, if the request could not be started. */
    hoist_http_call *(*http_request)(void *ctx, const hoist_http_request *req,
                                     hoist_http_cb cb, void *arg);
    /* Abort a request in flight; cb is called with HOIST_E_CANCELLED. */
    void (*http_cancel)(void *ctx, hoist_http_call *call);

    /* Add delta to the counter `name` (exported as hoist_provider_<name>)
     * with the given labels. The first use registers it with `help`. */
    void (*metric_counter_add)(void *ctx, const char *name, const char *help,
                               const hoist_kv *labels, size_t n_labels, double delta);
    /* Set the gauge `name` (exported as hoist_provider_<name>). */
    void (*metric_gauge_set)(void *ctx, const char *name, const char *help,
                             const hoist_kv *labels, size_t n_labels, double value);
} hoist_host;

/* True when host `h` has field `field` (it was built with a version that had it). */
#define HOIST_HOST_HAS(h, field) \
    ((h)->size >= offsetof(hoist_host, field) + sizeof((h)->field))

/* Fill err (if not NULL) with code and msg, truncated to fit; returns code. */
static inline hoist_status hoist_error_set(hoist_error *err, hoist_status code, const char *msg)
{
    if (err) {
        size_t i = 0;
        err->code = code;
        err->retry_after_ms = 0;
        if (msg)
            for (; msg[i] && i + 1 < sizeof err->message; i++)
                err->message[i] = msg[i];
        err->message[i] = '\0';
    }
    return code;
}

/* Name of a status code, e.g. "insufficient-capacity". */
static inline const char *hoist_status_name(hoist_status s)
{
    switch (s) {
    case HOIST_OK: return "ok";
    case HOIST_E_INVALID: return "invalid";
    case HOIST_E_NOT_FOUND: return "not-found";
    case HOIST_E_INSUFFICIENT_CAPACITY: return "insufficient-capacity";
    case HOIST_E_THROTTLED: return "throttled";
    case HOIST_E_UNAUTHORIZED: return "unauthorized";
    case HOIST_E_QUOTA: return "quota";
    case HOIST_E_LAUNCH_FAILED: return "launch-failed";
    case HOIST_E_UNAVAILABLE: return "unavailable";
    case HOIST_E_TIMEOUT: return "timeout";
    case HOIST_E_UNSUPPORTED: return "unsupported";
    case HOIST_E_CANCELLED: return "cancelled";
    case HOIST_E_INTERNAL: return "internal";
    }
    return "unknown";
}

#ifdef __cplusplus
}
#endif
#endif /* HOIST_HOST_H */
