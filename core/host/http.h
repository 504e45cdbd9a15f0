/*
 * host/http.h - asynchronous HTTP client: libcurl multi driven by a libuv loop.
 *
 * curl tells us which sockets to watch (CURLMOPT_SOCKETFUNCTION -> uv_poll)
 * and when to wake it (CURLMOPT_TIMERFUNCTION -> uv_timer); every request is
 * one curl easy handle. HTTP/2 is used where the server offers it over TLS.
 * A 4xx/5xx answer is a response; only transport failures, timeouts and
 * cancellation are errors (see hoist_http_cb in <hoist/host.h>).
 *
 * Everything runs on the loop's thread. Callbacks never run inside
 * hoist_http_start(); they run from the loop, except for cancellation, whose
 * callback runs inside hoist_http_cancel() / hoist_http_close().
 */
#ifndef HOIST_HOST_HTTP_H
#define HOIST_HOST_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include <hoist/host.h>

#include "host/log.h"
#include "util/error.h"

/* Default whole-request timeout when a request says 0. */
#define HOIST_HTTP_DEFAULT_TIMEOUT_MS 30000u
/* Largest response body accepted; larger ones fail with HOIST_E_UNAVAILABLE. */
#define HOIST_HTTP_MAX_BODY ((size_t)64 << 20)

typedef struct hoist_http hoist_http;

/* A client on `loop` (borrowed; must outlive the client until the close
 * completes). `log` (borrowed, may be NULL) gets a debug line per request.
 * NULL with a message if curl cannot be set up. */
hoist_http *hoist_http_new(uv_loop_t *loop, const hoist_logger *log, hoist_err *err);

/* Start a request; everything in req is copied. cb(arg, ...) is called exactly
 * once later. The returned call is valid until its callback returns. NULL,
 * with a message and without calling cb, when the request is malformed
 * (missing method or URL) or cannot be set up. */
hoist_http_call *hoist_http_start(hoist_http *h, const hoist_http_request *req,
                                  hoist_http_cb cb, void *arg, hoist_err *err);

/* ---- core-only extensions (not in the plugin ABI) ------------------------ */

/* Body bytes of a streamed 2xx response, in order, as they arrive. Runs from
 * the loop (never inside curl), so it may start or cancel calls, its own
 * included. Return 0 to go on, -1 to abort the transfer: the call then
 * completes with HOIST_E_CANCELLED ("aborted by the data callback"). */
typedef int (*hoist_http_data_cb)(void *arg, const char *data, size_t len);

/* Per-request TLS, authentication and streaming. Everything is copied by
 * hoist_http_start_opts(); a zeroed struct means the defaults. */
typedef struct hoist_http_options {
    const char *ca_pem;         /* trust only these CAs (PEM bundle); NULL = the system's */
    size_t ca_len;
    const char *cert_pem;       /* client certificate (PEM), with key_pem; NULL = none */
    size_t cert_len;
    const char *key_pem;        /* its private key (PEM) */
    size_t key_len;
    bool insecure;              /* do not check the server's certificate or name */
    const char *bearer_token;   /* adds "Authorization: Bearer <token>"; NULL = none */
    hoist_http_data_cb on_data; /* non-NULL: a 2xx body goes to on_data(arg, ...) as it
                                   arrives, is not kept and has no size limit; the
                                   completion then has an empty body. Other statuses are
                                   buffered and given to the completion as usual. */
} hoist_http_options;

/* hoist_http_start with options (opt may be NULL = hoist_http_start). */
hoist_http_call *hoist_http_start_opts(hoist_http *h, const hoist_http_request *req,
                                       const hoist_http_options *opt, hoist_http_cb cb,
                                       void *arg, hoist_err *err);

/* Abort a call in flight: its callback runs now, with HOIST_E_CANCELLED. */
void hoist_http_cancel(hoist_http *h, hoist_http_call *call);

/* Number of calls in flight. */
size_t hoist_http_active(const hoist_http *h);

/* Cancel every call in flight (callbacks run with HOIST_E_CANCELLED) and close
 * the client. Its memory is released by the loop once its handles have
 * closed: run the loop (uv_run) before uv_loop_close(). NULL is fine. */
void hoist_http_close(hoist_http *h);

#endif
