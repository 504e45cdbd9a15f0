/*
 * host/httpd.c - libmicrohttpd in external-epoll mode on a libuv loop.
 *
 * Requests: MHD calls the access handler once when the headers are in, once
 * per body piece, and once more when the body is complete; the body is
 * collected into a hoist_httpd_req (MHD's per-request context) and the
 * route's handler runs on that last call. The request context is freed in
 * MHD's "request completed" notification.
 *
 * Streams: a response whose content reader copies from the stream's queue.
 * With nothing queued the reader suspends the connection (allowed from a
 * content reader) and returns 0; hoist_httpd_stream_write() resumes it and
 * kicks MHD_run on the next loop turn. A stream is freed when both its owner
 * (the handler's code, until stream_end or the closed callback) and MHD (until
 * the response's free callback) have let go of it.
 */
#include "host/httpd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <microhttpd.h>

typedef struct route {
    char *method; /* NULL = any */
    char *prefix;
    size_t prefix_len;
    hoist_httpd_handler fn;
    void *arg;
} route;

struct hoist_httpd {
    uv_loop_t *loop;
    struct MHD_Daemon *mhd;
    uv_poll_t poll;
    uv_timer_t timer; /* MHD's own timeouts */
    uv_timer_t kick;  /* run MHD soon: a stream got data or ended */
    int open_handles;
    int port;
    bool closing;
    const hoist_logger *log;
    route routes[HOIST_HTTPD_MAX_HANDLERS];
    size_t n_routes;
    hoist_httpd_stream *streams; /* doubly linked, every stream not yet freed */
    size_t n_streams;
};

struct hoist_httpd_req {
    hoist_httpd *d;
    struct MHD_Connection *conn;
    const char *method; /* MHD's, valid during the request */
    const char *path;
    char *body;
    size_t len, cap;
    bool too_big;
    bool answered;
};

struct hoist_httpd_stream {
    hoist_httpd *d;
    struct MHD_Connection *conn;
    char *buf;
    size_t off, len, cap;
    bool suspended;
    bool ended;      /* no more bytes will come */
    bool owner_ref;  /* the owner may still use it */
    bool mhd_ref;    /* MHD still holds the response */
    hoist_httpd_stream_closed closed;
    void *arg;
    hoist_httpd_stream *prev, *next;
};

static void run_mhd(hoist_httpd *d);

static void stream_unlink_free(hoist_httpd_stream *s)
{
    hoist_httpd *d = s->d;
    if (s->prev)
        s->prev->next = s->next;
    else
        d->streams = s->next;
    if (s->next)
        s->next->prev = s->prev;
    d->n_streams--;
    free(s->buf);
    free(s);
}

static void on_kick(uv_timer_t *t)
{
    run_mhd(t->data);
}

static void kick_soon(hoist_httpd *d)
{
    if (!d->closing)
        uv_timer_start(&d->kick, on_kick, 0, 0);
}

static void on_timer(uv_timer_t *t)
{
    run_mhd(t->data);
}

static void on_poll(uv_poll_t *p, int status, int events)
{
    (void)status;
    (void)events;
    run_mhd(p->data);
}

static void run_mhd(hoist_httpd *d)
{
    if (d->closing)
        return;
    MHD_run(d->mhd);
    MHD_UNSIGNED_LONG_LONG ms = 0;
    if (MHD_get_timeout(d->mhd, &ms) == MHD_YES)
        uv_timer_start(&d->timer, on_timer, ms > UINT32_MAX ? UINT32_MAX : (uint64_t)ms, 0);
    else
        uv_timer_stop(&d->timer);
}

static void mhd_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    hoist_httpd *d = cls;
    hoist_logv(d->log, HOIST_LOG_DEBUG, "httpd", fmt, ap);
}

/* --- streams ---------------------------------------------------------------- */

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    hoist_httpd_stream *s = cls;
    if (s->len > s->off) {
        size_t n = s->len - s->off;
        if (n > max)
            n = max;
        memcpy(buf, s->buf + s->off, n);
        s->off += n;
        if (s->off == s->len)
            s->off = s->len = 0;
        return (ssize_t)n;
    }
    if (s->ended || s->d->closing)
        return MHD_CONTENT_READER_END_OF_STREAM;
    if (!s->suspended) {
        MHD_suspend_connection(s->conn);
        s->suspended = true;
    }
    return 0;
}

static void stream_release_mhd(void *cls)
{
    hoist_httpd_stream *s = cls;
    s->mhd_ref = false;
    s->suspended = false;
    if (s->owner_ref) {
        s->owner_ref = false;
        if (s->closed)
            s->closed(s->arg, s);
    }
    stream_unlink_free(s);
}

static void stream_resume(hoist_httpd_stream *s)
{
    if (s->suspended && s->mhd_ref) {
        s->suspended = false;
        MHD_resume_connection(s->conn);
    }
    kick_soon(s->d);
}

int hoist_httpd_stream_write(hoist_httpd_stream *s, const char *data, size_t len)
{
    if (!s->owner_ref || s->ended)
        return -1;
    if (len == 0)
        return 0;
    if (s->off > 0 && s->off == s->len)
        s->off = s->len = 0;
    if (s->len - s->off + len > HOIST_HTTPD_MAX_BODY)
        return -1;
    if (s->len + len > s->cap) {
        if (s->off > 0) { /* compact first */
            memmove(s->buf, s->buf + s->off, s->len - s->off);
            s->len -= s->off;
            s->off = 0;
        }
        size_t cap = s->cap ? s->cap : 4096;
        while (cap < s->len + len)
            cap *= 2;
        if (cap != s->cap) {
            char *nb = realloc(s->buf, cap);
            if (!nb)
                return -1;
            s->buf = nb;
            s->cap = cap;
        }
    }
    memcpy(s->buf + s->len, data, len);
    s->len += len;
    stream_resume(s);
    return 0;
}

size_t hoist_httpd_stream_pending(const hoist_httpd_stream *s)
{
    return s->len - s->off;
}

void hoist_httpd_stream_end(hoist_httpd_stream *s)
{
    if (!s->owner_ref)
        return;
    s->owner_ref = false;
    s->ended = true;
    if (s->mhd_ref)
        stream_resume(s);
    else
        stream_unlink_free(s);
}

hoist_httpd_stream *hoist_httpd_stream_start(hoist_httpd_req *req, int status,
                                             const char *content_type,
                                             hoist_httpd_stream_closed closed, void *arg)
{
    if (req->answered)
        return NULL;
    hoist_httpd *d = req->d;
    hoist_httpd_stream *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->d = d;
    s->conn = req->conn;
    s->closed = closed;
    s->arg = arg;
    s->mhd_ref = true;
    s->next = d->streams;
    if (d->streams)
        d->streams->prev = s;
    d->streams = s;
    d->n_streams++;
    struct MHD_Response *resp =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, stream_read, s,
                                          stream_release_mhd);
    if (!resp) {
        stream_unlink_free(s);
        return NULL;
    }
    if (content_type)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache, private");
    if (MHD_queue_response(req->conn, (unsigned)status, resp) != MHD_YES) {
        MHD_destroy_response(resp); /* frees s through stream_release_mhd */
        return NULL;
    }
    MHD_destroy_response(resp);
    s->owner_ref = true;
    req->answered = true;
    return s;
}

size_t hoist_httpd_streams(const hoist_httpd *d)
{
    return d->n_streams;
}

/* --- requests --------------------------------------------------------------- */

const char *hoist_httpd_method(const hoist_httpd_req *req)
{
    return req->method;
}

const char *hoist_httpd_path(const hoist_httpd_req *req)
{
    return req->path;
}

const char *hoist_httpd_query(const hoist_httpd_req *req, const char *name)
{
    const char *v = NULL;
    size_t vlen = 0;
    if (MHD_lookup_connection_value_n(req->conn, MHD_GET_ARGUMENT_KIND, name, strlen(name), &v,
                                      &vlen) != MHD_YES)
        return NULL;
    return v ? v : "";
}

const char *hoist_httpd_header(const hoist_httpd_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *hoist_httpd_body(const hoist_httpd_req *req, size_t *len)
{
    if (len)
        *len = req->len;
    return req->body ? req->body : "";
}

int hoist_httpd_respond_ex(hoist_httpd_req *req, int status, const char *content_type,
                           const char *body, size_t len, const char *const *headers,
                           size_t n_headers)
{
    if (req->answered)
        return -1;
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)(uintptr_t)(body ? body : ""),
                                        MHD_RESPMEM_MUST_COPY);
    if (!resp)
        return -1;
    if (content_type)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    for (size_t i = 0; i < n_headers; i++) {
        const char *colon = strchr(headers[i], ':');
        if (!colon || colon == headers[i])
            continue;
        char name[128];
        size_t nlen = (size_t)(colon - headers[i]);
        if (nlen >= sizeof name)
            continue;
        memcpy(name, headers[i], nlen);
        name[nlen] = '\0';
        const char *value = colon + 1;
        while (*value == ' ')
            value++;
        MHD_add_response_header(resp, name, value);
    }
    enum MHD_Result ok = MHD_queue_response(req->conn, (unsigned)status, resp);
    MHD_destroy_response(resp);
    if (ok != MHD_YES)
        return -1;
    req->answered = true;
    return 0;
}

int hoist_httpd_respond(hoist_httpd_req *req, int status, const char *content_type,
                        const char *body, size_t len)
{
    return hoist_httpd_respond_ex(req, status, content_type, body, len, NULL, 0);
}

static const route *find_route(const hoist_httpd *d, const char *method, const char *path)
{
    const route *best = NULL;
    for (size_t i = 0; i < d->n_routes; i++) {
        const route *r = &d->routes[i];
        if (r->method && strcmp(r->method, method) != 0)
            continue;
        if (strncmp(path, r->prefix, r->prefix_len) != 0)
            continue;
        if (!best || r->prefix_len > best->prefix_len)
            best = r;
    }
    return best;
}

static void respond_text(hoist_httpd_req *req, int status, const char *text)
{
    hoist_httpd_respond(req, status, "text/plain; charset=utf-8", text, strlen(text));
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)version;
    hoist_httpd *d = cls;
    hoist_httpd_req *req = *con_cls;
    if (!req) {
        req = calloc(1, sizeof *req);
        if (!req)
            return MHD_NO;
        req->d = d;
        req->conn = conn;
        req->method = method;
        req->path = url;
        *con_cls = req;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (req->too_big)
            return MHD_YES;
        if (req->len + n > HOIST_HTTPD_MAX_BODY) {
            req->too_big = true;
            return MHD_YES;
        }
        if (req->len + n + 1 > req->cap) {
            size_t cap = req->cap ? req->cap : 1024;
            while (cap < req->len + n + 1)
                cap *= 2;
            char *nb = realloc(req->body, cap);
            if (!nb)
                return MHD_NO;
            req->body = nb;
            req->cap = cap;
        }
        memcpy(req->body + req->len, upload_data, n);
        req->len += n;
        req->body[req->len] = '\0';
        return MHD_YES;
    }
    if (req->answered)
        return MHD_YES;
    hoist_log(d->log, HOIST_LOG_DEBUG, "httpd", "%s %s", method, url);
    if (req->too_big) {
        respond_text(req, 413, "request body too large\n");
        return MHD_YES;
    }
    const route *r = find_route(d, method, url);
    if (!r) {
        respond_text(req, 404, "not found\n");
        return MHD_YES;
    }
    r->fn(r->arg, req);
    if (!req->answered)
        respond_text(req, 500, "the handler did not answer\n");
    return MHD_YES;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    hoist_httpd_req *req = *con_cls;
    if (req) {
        free(req->body);
        free(req);
        *con_cls = NULL;
    }
}

/* --- lifecycle -------------------------------------------------------------- */

hoist_httpd *hoist_httpd_start(uv_loop_t *loop, const char *host, int port,
                               const hoist_logger *log, hoist_err *err)
{
    if (port < 0 || port > 65535) {
        hoist_errf(err, "listen port %d: out of range 0..65535", port);
        return NULL;
    }
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    if (uv_ip4_addr(host, port, (struct sockaddr_in *)&ss) != 0) {
        if (uv_ip6_addr(host, port, (struct sockaddr_in6 *)&ss) != 0) {
            hoist_errf(err, "listen address \"%s\": not an IPv4 or IPv6 address", host);
            return NULL;
        }
        flags |= MHD_USE_IPv6;
    }
    hoist_httpd *d = calloc(1, sizeof *d);
    if (!d) {
        hoist_errf(err, "out of memory");
        return NULL;
    }
    d->loop = loop;
    d->log = log;
    errno = 0;
    d->mhd = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, on_request, d,
                              MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
                              MHD_OPTION_NOTIFY_COMPLETED, on_completed, d,
                              MHD_OPTION_EXTERNAL_LOGGER, mhd_log, d,
                              MHD_OPTION_CONNECTION_LIMIT, (unsigned)1000,
                              MHD_OPTION_END);
    if (!d->mhd) {
        int e = errno;
        hoist_errf(err, "cannot listen on %s:%d: %s", host, port,
                   e ? strerror(e) : "libmicrohttpd refused to start");
        free(d);
        return NULL;
    }
    const union MHD_DaemonInfo *pi = MHD_get_daemon_info(d->mhd, MHD_DAEMON_INFO_BIND_PORT);
    const union MHD_DaemonInfo *ei = MHD_get_daemon_info(d->mhd, MHD_DAEMON_INFO_EPOLL_FD);
    if (!pi || !ei) {
        hoist_errf(err, "cannot listen on %s:%d: libmicrohttpd has no epoll support", host, port);
        MHD_stop_daemon(d->mhd);
        free(d);
        return NULL;
    }
    d->port = pi->port;
    int rc = uv_poll_init(loop, &d->poll, ei->epoll_fd);
    if (rc != 0) {
        hoist_errf(err, "cannot watch the server's epoll descriptor: %s", uv_strerror(rc));
        MHD_stop_daemon(d->mhd);
        free(d);
        return NULL;
    }
    uv_timer_init(loop, &d->timer);
    uv_timer_init(loop, &d->kick);
    d->poll.data = d->timer.data = d->kick.data = d;
    d->open_handles = 3;
    uv_poll_start(&d->poll, UV_READABLE, on_poll);
    run_mhd(d);
    return d;
}

int hoist_httpd_port(const hoist_httpd *d)
{
    return d->port;
}

int hoist_httpd_handle(hoist_httpd *d, const char *method, const char *prefix,
                       hoist_httpd_handler handler, void *arg, hoist_err *err)
{
    if (!prefix || prefix[0] != '/')
        return hoist_errf(err, "handler prefix \"%s\": must start with '/'",
                          prefix ? prefix : "(null)");
    if (d->n_routes == HOIST_HTTPD_MAX_HANDLERS)
        return hoist_errf(err, "handler prefix \"%s\": too many handlers (at most %d)", prefix,
                          HOIST_HTTPD_MAX_HANDLERS);
    route *r = &d->routes[d->n_routes];
    r->prefix = strdup(prefix);
    r->method = method ? strdup(method) : NULL;
    if (!r->prefix || (method && !r->method)) {
        free(r->prefix);
        free(r->method);
        return hoist_errf(err, "out of memory");
    }
    r->prefix_len = strlen(prefix);
    r->fn = handler;
    r->arg = arg;
    d->n_routes++;
    return 0;
}

void hoist_httpd_unhandle(hoist_httpd *d, void *arg)
{
    size_t o = 0;
    for (size_t i = 0; i < d->n_routes; i++) {
        if (d->routes[i].arg == arg) {
            free(d->routes[i].prefix);
            free(d->routes[i].method);
        } else {
            d->routes[o++] = d->routes[i];
        }
    }
    d->n_routes = o;
}

static void on_handle_closed(uv_handle_t *h)
{
    hoist_httpd *d = h->data;
    if (--d->open_handles > 0)
        return;
    while (d->streams) /* only streams nobody refers to any more can remain */
        stream_unlink_free(d->streams);
    for (size_t i = 0; i < d->n_routes; i++) {
        free(d->routes[i].prefix);
        free(d->routes[i].method);
    }
    free(d);
}

void hoist_httpd_close(hoist_httpd *d)
{
    if (!d || d->closing)
        return;
    /* Owners first: they learn their streams are gone while the server still
     * stands, so they may touch other streams from their callbacks. */
    for (;;) {
        hoist_httpd_stream *s = d->streams;
        while (s && !s->owner_ref)
            s = s->next;
        if (!s)
            break;
        s->owner_ref = false;
        s->ended = true;
        if (s->closed)
            s->closed(s->arg, s);
    }
    d->closing = true;
    for (hoist_httpd_stream *s = d->streams; s; s = s->next) {
        if (s->suspended) {
            s->suspended = false;
            MHD_resume_connection(s->conn);
        }
    }
    /* Let MHD send what is queued and the streams' last chunks (a few
     * non-blocking rounds; a client too slow to take them is cut off). */
    for (int round = 0; round < 4 && d->streams; round++)
        MHD_run(d->mhd);
    uv_poll_stop(&d->poll);
    uv_timer_stop(&d->timer);
    uv_timer_stop(&d->kick);
    MHD_stop_daemon(d->mhd); /* frees every connection and its response */
    d->mhd = NULL;
    uv_close((uv_handle_t *)&d->poll, on_handle_closed);
    uv_close((uv_handle_t *)&d->timer, on_handle_closed);
    uv_close((uv_handle_t *)&d->kick, on_handle_closed);
}
