/*
 * host/httpd.h - an HTTP/1.1 server on the caller's libuv loop, built on GNU
 * libmicrohttpd without any MHD thread.
 *
 * MHD runs in "external epoll" mode: a uv_poll watches MHD's epoll descriptor
 * and a uv_timer wakes it when MHD_get_timeout says so; MHD_run() does the
 * work on the loop's thread. Handlers are registered by method and path
 * prefix; the longest matching prefix wins. A handler answers before it
 * returns, either with a whole body (hoist_httpd_respond) or by starting a
 * chunked stream (hoist_httpd_stream_start) that the caller feeds later from
 * the loop (watches, long polls). Everything runs on the loop's thread.
 */
#ifndef HOIST_HOST_HTTPD_H
#define HOIST_HOST_HTTPD_H

#include <stdbool.h>
#include <stddef.h>

#include <uv.h>

#include "host/log.h"
#include "util/error.h"

/* Largest request body accepted; a larger one is answered 413. */
#define HOIST_HTTPD_MAX_BODY ((size_t)16 << 20)
/* Most handlers one server holds. */
#define HOIST_HTTPD_MAX_HANDLERS 32

typedef struct hoist_httpd hoist_httpd;
typedef struct hoist_httpd_req hoist_httpd_req;
typedef struct hoist_httpd_stream hoist_httpd_stream;

/* A request handler: answer `req` (borrowed, valid only during the call) with
 * hoist_httpd_respond() or hoist_httpd_stream_start() before returning; a
 * handler that does neither gets a 500 sent for it. */
typedef void (*hoist_httpd_handler)(void *arg, hoist_httpd_req *req);

/* Called once when a stream's client went away or the server is closing.
 * After it returns the stream is gone: do not use it again. It is not called
 * for a stream the owner ended with hoist_httpd_stream_end(). */
typedef void (*hoist_httpd_stream_closed)(void *arg, hoist_httpd_stream *s);

/* Start a server on `loop` (borrowed; must outlive the server until its close
 * completes) listening on host:port (an IPv4 or IPv6 literal; port 0 picks a
 * free port, see hoist_httpd_port). `log` (borrowed, may be NULL) gets a debug
 * line per request. NULL with a message when the address is bad or busy. */
hoist_httpd *hoist_httpd_start(uv_loop_t *loop, const char *host, int port,
                               const hoist_logger *log, hoist_err *err);

/* The port the server listens on. */
int hoist_httpd_port(const hoist_httpd *d);

/* Route requests with `method` ("GET", ...; NULL = any method) whose path
 * starts with `prefix` (copied) to handler(arg, req). -1 with a message when
 * the table is full or the prefix does not start with '/'. */
int hoist_httpd_handle(hoist_httpd *d, const char *method, const char *prefix,
                       hoist_httpd_handler handler, void *arg, hoist_err *err);

/* Remove every route whose handler argument is `arg`. */
void hoist_httpd_unhandle(hoist_httpd *d, void *arg);

/* End every stream (their closed callbacks run now), stop listening, and
 * close the server. Memory is released once the loop has run the handles'
 * close callbacks: run the loop before uv_loop_close(). NULL is fine. */
void hoist_httpd_close(hoist_httpd *d);

/* Number of streams open. */
size_t hoist_httpd_streams(const hoist_httpd *d);

/* --- inside a handler ---------------------------------------------------- */

/* The request's method, e.g. "GET". */
const char *hoist_httpd_method(const hoist_httpd_req *req);
/* The request's path without the query string (percent-decoded by MHD). */
const char *hoist_httpd_path(const hoist_httpd_req *req);
/* The value of query argument `name`, or NULL when absent ("" when given
 * without a value). */
const char *hoist_httpd_query(const hoist_httpd_req *req, const char *name);
/* The value of request header `name` (case-insensitive), or NULL. */
const char *hoist_httpd_header(const hoist_httpd_req *req, const char *name);
/* The request body (NUL-terminated for convenience) and its length. */
const char *hoist_httpd_body(const hoist_httpd_req *req, size_t *len);

/* Answer with a whole body (copied). content_type may be NULL (none sent).
 * Extra headers: n_headers "Name: value" strings (may be NULL/0). Returns 0,
 * or -1 when the request was already answered or out of memory. */
int hoist_httpd_respond_ex(hoist_httpd_req *req, int status, const char *content_type,
                           const char *body, size_t len, const char *const *headers,
                           size_t n_headers);
/* hoist_httpd_respond_ex without extra headers. */
int hoist_httpd_respond(hoist_httpd_req *req, int status, const char *content_type,
                        const char *body, size_t len);

/* Answer with a chunked body fed later with hoist_httpd_stream_write(). The
 * stream belongs to the server; the caller may use it until it calls
 * hoist_httpd_stream_end() or its closed(arg, s) callback runs. NULL when the
 * request was already answered or out of memory. */
hoist_httpd_stream *hoist_httpd_stream_start(hoist_httpd_req *req, int status,
                                             const char *content_type,
                                             hoist_httpd_stream_closed closed, void *arg);

/* --- streams, from anywhere on the loop ----------------------------------- */

/* Queue len bytes (copied) to send on the stream. -1 when out of memory or
 * when more than HOIST_HTTPD_MAX_BODY bytes are waiting (a stuck client). */
int hoist_httpd_stream_write(hoist_httpd_stream *s, const char *data, size_t len);
/* Bytes queued and not yet handed to the socket. */
size_t hoist_httpd_stream_pending(const hoist_httpd_stream *s);
/* Send what is queued, then end the body. The stream must not be used after. */
void hoist_httpd_stream_end(hoist_httpd_stream *s);

#endif
