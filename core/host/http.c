/* host/http.c - libcurl multi on a libuv loop; see http.h. */
#include "host/http.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

/* One socket curl asked us to watch. */
typedef struct sock_watch {
    uv_poll_t poll;
    curl_socket_t fd;
    hoist_http *h;
    struct sock_watch *prev, *next;
} sock_watch;

struct hoist_http_call {
    hoist_http *h;
    CURL *easy;
    struct curl_slist *req_headers;
    hoist_http_cb cb;
    void *arg;
    char *method;            /* for messages */
    char *url;               /* for messages */
    char *body;              /* response body, NUL-terminated when non-NULL */
    size_t body_len, body_cap;
    char **headers;          /* response header lines of the last response */
    size_t n_headers, cap_headers;
    bool too_large;          /* body exceeded HOIST_HTTP_MAX_BODY */
    bool oom;                /* a buffer could not grow */
    hoist_http_data_cb on_data; /* streaming mode (see hoist_http_options) */
    int stream;              /* 0 undecided, 1 streaming this response, -1 buffering it */
    char *pend;              /* streamed bytes read but not yet given to on_data */
    size_t pend_len, pend_cap;
    char errbuf[CURL_ERROR_SIZE];
    uint64_t serial;         /* tells this call from a later one at the same address */
    hoist_http_call *prev, *next;
};

struct hoist_http {
    uv_loop_t *loop;
    CURLM *multi;
    uv_timer_t timer;
    const hoist_logger *log;
    hoist_http_call *calls;   /* in flight */
    size_t n_calls;
    sock_watch *socks;        /* watched sockets (not yet closing) */
    int open_handles;         /* uv handles not yet closed: timer + sockets */
    bool closing;
    uint64_t serials;         /* last call serial handed out */
};

static void maybe_free(hoist_http *h)
{
    if (h->closing && h->open_handles == 0) {
        free(h);
        curl_global_cleanup();
    }
}

static void on_sock_closed(uv_handle_t *handle)
{
    sock_watch *sw = handle->data;
    hoist_http *h = sw->h;
    free(sw);
    h->open_handles--;
    maybe_free(h);
}

static void sock_close(sock_watch *sw)
{
    hoist_http *h = sw->h;
    if (sw->prev)
        sw->prev->next = sw->next;
    else
        h->socks = sw->next;
    if (sw->next)
        sw->next->prev = sw->prev;
    uv_poll_stop(&sw->poll);
    uv_close((uv_handle_t *)&sw->poll, on_sock_closed);
}

/* ---- completion ---------------------------------------------------------- */

static void free_call(hoist_http_call *c)
{
    if (c->easy)
        curl_easy_cleanup(c->easy);
    curl_slist_free_all(c->req_headers);
    for (size_t i = 0; i < c->n_headers; i++)
        free(c->headers[i]);
    free(c->headers);
    free(c->body);
    free(c->pend);
    free(c->method);
    free(c->url);
    free(c);
}

static void unlink_call(hoist_http_call *c)
{
    hoist_http *h = c->h;
    if (c->prev)
        c->prev->next = c->next;
    else
        h->calls = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
    h->n_calls--;
}

static hoist_status status_of(CURLcode rc)
{
    switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
        return HOIST_E_TIMEOUT;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_BAD_FUNCTION_ARGUMENT:
        return HOIST_E_INVALID;
    case CURLE_OUT_OF_MEMORY:
        return HOIST_E_INTERNAL;
    case CURLE_LOGIN_DENIED:
        return HOIST_E_UNAUTHORIZED;
    default:
        /* resolve and connect failures, resets, TLS errors, short reads */
        return HOIST_E_UNAVAILABLE;
    }
}

/* Report the outcome of call c (already detached from the multi handle) and free it. */
static void complete(hoist_http_call *c, hoist_status code, const char *why)
{
    hoist_http *h = c->h;
    unlink_call(c);
    if (code != HOIST_OK) {
        hoist_error e = {0};
        e.code = code;
        snprintf(e.message, sizeof e.message, "%s %s: %s", c->method, c->url, why);
        hoist_log(h->log, HOIST_LOG_DEBUG, "http", "%s %s failed (%s): %s", c->method, c->url,
                  hoist_status_name(code), why);
        c->cb(c->arg, &e, NULL);
    } else {
        hoist_http_response r = {0};
        long status = 0;
        if (curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK)
            status = 0;
        r.status = status;
        r.headers = (const char *const *)c->headers;
        r.n_headers = c->n_headers;
        r.body = c->body ? c->body : "";
        r.body_len = c->body_len;
        hoist_log(h->log, HOIST_LOG_DEBUG, "http", "%s %s -> %ld (%zu bytes)", c->method,
                  c->url, status, c->body_len);
        c->cb(c->arg, NULL, &r);
    }
    free_call(c);
}

static void finish(hoist_http_call *c, CURLcode rc)
{
    curl_multi_remove_handle(c->h->multi, c->easy);
    if (rc == CURLE_OK) {
        complete(c, HOIST_OK, NULL);
    } else if (c->too_large) {
        complete(c, HOIST_E_UNAVAILABLE, "response body larger than the client's limit");
    } else if (c->oom) {
        complete(c, HOIST_E_INTERNAL, "out of memory reading the response");
    } else {
        char why[CURL_ERROR_SIZE + 64];
        snprintf(why, sizeof why, "%s", c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc));
        complete(c, status_of(rc), why);
    }
}

/* Deliver every finished transfer curl has queued. */
static void drain_done(hoist_http *h)
{
    CURLMsg *msg;
    int left;
    while (!h->closing && (msg = curl_multi_info_read(h->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURLcode rc = msg->data.result;
        hoist_http_call *c = NULL;
        if (curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&c) != CURLE_OK || !c)
            continue;
        finish(c, rc);
    }
}

/* Give every streaming call's buffered bytes to its data callback, outside
 * curl's callbacks (so the callback may start or cancel calls). */
static void deliver_pending(hoist_http *h)
{
    for (;;) {
        hoist_http_call *c = h->calls;
        while (c && c->pend_len == 0)
            c = c->next;
        if (!c || h->closing)
            return;
        char *data = c->pend;
        size_t len = c->pend_len;
        uint64_t serial = c->serial;
        c->pend = NULL;
        c->pend_len = c->pend_cap = 0;
        int rc = c->on_data(c->arg, data, len);
        free(data);
        if (rc != 0 && !h->closing) {
            /* c may be gone if the callback cancelled it */
            for (hoist_http_call *x = h->calls; x; x = x->next) {
                if (x == c && x->serial == serial) {
                    curl_multi_remove_handle(h->multi, c->easy);
                    complete(c, HOIST_E_CANCELLED, "aborted by the data callback");
                    break;
                }
            }
        }
    }
}

/* ---- curl <-> libuv glue ------------------------------------------------- */

static void on_poll(uv_poll_t *poll, int status, int events)
{
    sock_watch *sw = poll->data;
    hoist_http *h = sw->h;
    int flags = 0;
    if (status < 0) {
        flags = CURL_CSELECT_ERR;
    } else {
        if (events & UV_READABLE)
            flags |= CURL_CSELECT_IN;
        if (events & UV_WRITABLE)
            flags |= CURL_CSELECT_OUT;
    }
    int running;
    curl_multi_socket_action(h->multi, sw->fd, flags, &running);
    deliver_pending(h);
    drain_done(h);
}

static void on_timer(uv_timer_t *t)
{
    hoist_http *h = t->data;
    int running;
    curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    deliver_pending(h);
    drain_done(h);
}

static int curl_socket_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    (void)easy;
    hoist_http *h = userp;
    sock_watch *sw = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (sw)
            sock_close(sw);
        return 0;
    }
    if (!sw) {
        sw = calloc(1, sizeof *sw);
        if (!sw)
            return -1;
        if (uv_poll_init_socket(h->loop, &sw->poll, s) != 0) {
            free(sw);
            return -1;
        }
        sw->fd = s;
        sw->h = h;
        sw->poll.data = sw;
        sw->next = h->socks;
        if (h->socks)
            h->socks->prev = sw;
        h->socks = sw;
        h->open_handles++;
        curl_multi_assign(h->multi, s, sw);
    }
    int events = 0;
    if (what & CURL_POLL_IN)
        events |= UV_READABLE;
    if (what & CURL_POLL_OUT)
        events |= UV_WRITABLE;
    return uv_poll_start(&sw->poll, events, on_poll) == 0 ? 0 : -1;
}

static int curl_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    hoist_http *h = userp;
    if (timeout_ms < 0)
        return uv_timer_stop(&h->timer) == 0 ? 0 : -1;
    return uv_timer_start(&h->timer, on_timer, (uint64_t)timeout_ms, 0) == 0 ? 0 : -1;
}

/* ---- response capture ---------------------------------------------------- */

/* Append n bytes to a growing buffer; false when out of memory. */
static bool append(char **buf, size_t *len, size_t *cap, const char *data, size_t n)
{
    if (*len + n + 1 > *cap) {
        size_t ncap = *cap ? *cap : 1024;
        while (ncap < *len + n + 1)
            ncap *= 2;
        char *p = realloc(*buf, ncap);
        if (!p)
            return false;
        *buf = p;
        *cap = ncap;
    }
    memcpy(*buf + *len, data, n);
    *len += n;
    (*buf)[*len] = '\0';
    return true;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userp)
{
    hoist_http_call *c = userp;
    size_t n = size * nmemb;
    if (c->on_data && c->stream == 0) {
        long status = 0;
        if (curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK)
            status = 0;
        c->stream = status >= 200 && status < 300 ? 1 : -1;
    }
    if (c->stream == 1) {
        if (!append(&c->pend, &c->pend_len, &c->pend_cap, data, n)) {
            c->oom = true;
            return 0;
        }
        return n;
    }
    if (n > HOIST_HTTP_MAX_BODY - c->body_len) {
        c->too_large = true;
        return 0;
    }
    if (c->body_len + n + 1 > c->body_cap) {
        size_t cap = c->body_cap ? c->body_cap : 1024;
        while (cap < c->body_len + n + 1)
            cap *= 2;
        char *p = realloc(c->body, cap);
        if (!p) {
            c->oom = true;
            return 0;
        }
        c->body = p;
        c->body_cap = cap;
    }
    memcpy(c->body + c->body_len, data, n);
    c->body_len += n;
    c->body[c->body_len] = '\0';
    return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *userp)
{
    hoist_http_call *c = userp;
    size_t n = size * nmemb, len = n;
    while (len && (data[len - 1] == '\r' || data[len - 1] == '\n'))
        len--;
    if (len >= 5 && !strncmp(data, "HTTP/", 5)) {
        /* a new response (after 100 Continue or a redirect): keep only its headers */
        c->stream = 0;
        for (size_t i = 0; i < c->n_headers; i++)
            free(c->headers[i]);
        c->n_headers = 0;
        return n;
    }
    if (len == 0)
        return n;
    if (c->n_headers == c->cap_headers) {
        size_t cap = c->cap_headers ? c->cap_headers * 2 : 16;
        char **p = realloc(c->headers, cap * sizeof *p);
        if (!p) {
            c->oom = true;
            return 0;
        }
        c->headers = p;
        c->cap_headers = cap;
    }
    char *line = strndup(data, len);
    if (!line) {
        c->oom = true;
        return 0;
    }
    c->headers[c->n_headers++] = line;
    return n;
}

/* ---- public API ---------------------------------------------------------- */

hoist_http *hoist_http_new(uv_loop_t *loop, const hoist_logger *log, hoist_err *err)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        hoist_errf(err, "http: curl_global_init failed");
        return NULL;
    }
    hoist_http *h = calloc(1, sizeof *h);
    if (!h) {
        curl_global_cleanup();
        hoist_errf(err, "http: out of memory");
        return NULL;
    }
    h->loop = loop;
    h->log = log;
    h->multi = curl_multi_init();
    if (!h->multi || uv_timer_init(loop, &h->timer) != 0) {
        if (h->multi)
            curl_multi_cleanup(h->multi);
        free(h);
        curl_global_cleanup();
        hoist_errf(err, "http: cannot create the curl multi handle or its timer");
        return NULL;
    }
    h->timer.data = h;
    h->open_handles = 1;
    if (curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, curl_socket_cb) != CURLM_OK ||
        curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h) != CURLM_OK ||
        curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, curl_timer_cb) != CURLM_OK ||
        curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h) != CURLM_OK) {
        hoist_errf(err, "http: cannot configure the curl multi handle");
        hoist_http_close(h);
        return NULL;
    }
    return h;
}

/* Set a PEM blob option (copied by curl). */
static bool set_blob(CURL *e, CURLoption opt, const char *data, size_t len)
{
    struct curl_blob blob = {(void *)data, len, CURL_BLOB_COPY};
    return curl_easy_setopt(e, opt, &blob) == CURLE_OK;
}

/* Apply TLS options; false if curl refused one. */
static bool setup_tls(CURL *e, const hoist_http_options *opt)
{
    bool ok = true;
    if (opt->ca_pem && opt->ca_len) {
        ok &= set_blob(e, CURLOPT_CAINFO_BLOB, opt->ca_pem, opt->ca_len);
        /* trust this bundle only, not also the system's directory */
        ok &= curl_easy_setopt(e, CURLOPT_CAPATH, (char *)NULL) == CURLE_OK;
    }
    if (opt->cert_pem && opt->cert_len) {
        ok &= set_blob(e, CURLOPT_SSLCERT_BLOB, opt->cert_pem, opt->cert_len);
        ok &= curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM") == CURLE_OK;
    }
    if (opt->key_pem && opt->key_len) {
        ok &= set_blob(e, CURLOPT_SSLKEY_BLOB, opt->key_pem, opt->key_len);
        ok &= curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM") == CURLE_OK;
    }
    if (opt->insecure) {
        ok &= curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L) == CURLE_OK;
        ok &= curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L) == CURLE_OK;
    }
    return ok;
}

/* Configure c->easy for req; false if curl refused an option. */
static bool setup_easy(hoist_http_call *c, const hoist_http_request *req,
                       const hoist_http_options *opt)
{
    CURL *e = c->easy;
    uint32_t timeout = req->timeout_ms ? req->timeout_ms : HOIST_HTTP_DEFAULT_TIMEOUT_MS;
    bool ok = true;
    ok &= curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)c) == CURLE_OK;
    ok &= curl_easy_setopt(e, CURLOPT_URL, req->url) == CURLE_OK;
    ok &= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, c->errbuf) == CURLE_OK;
    ok &= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) == CURLE_OK;
    ok &= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)timeout) == CURLE_OK;
    ok &= curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS) == CURLE_OK;
#if LIBCURL_VERSION_NUM >= 0x075500
    ok &= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK;
#else
    ok &= curl_easy_setopt(e, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS)) ==
          CURLE_OK;
#endif
    ok &= curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "") == CURLE_OK;
    ok &= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body) == CURLE_OK;
    ok &= curl_easy_setopt(e, CURLOPT_WRITEDATA, (void *)c) == CURLE_OK;
    ok &= curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header) == CURLE_OK;
    ok &= curl_easy_setopt(e, CURLOPT_HEADERDATA, (void *)c) == CURLE_OK;

    bool has_body = req->body && req->body_len;
    if (has_body) {
        ok &= curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len) ==
              CURLE_OK;
        ok &= curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, req->body) == CURLE_OK;
        if (strcmp(req->method, "POST") != 0)
            ok &= curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method) == CURLE_OK;
    } else if (!strcmp(req->method, "HEAD")) {
        ok &= curl_easy_setopt(e, CURLOPT_NOBODY, 1L) == CURLE_OK;
    } else if (!strcmp(req->method, "POST")) {
        ok &= curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0) == CURLE_OK;
        ok &= curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, "") == CURLE_OK;
    } else if (strcmp(req->method, "GET") != 0) {
        ok &= curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method) == CURLE_OK;
    }

    for (size_t i = 0; ok && i < req->n_headers; i++) {
        struct curl_slist *l = curl_slist_append(c->req_headers, req->headers[i]);
        if (!l)
            return false;
        c->req_headers = l;
    }
    if (ok && opt && opt->bearer_token) {
        char *auth;
        if (asprintf(&auth, "Authorization: Bearer %s", opt->bearer_token) < 0)
            return false;
        struct curl_slist *l = curl_slist_append(c->req_headers, auth);
        free(auth);
        if (!l)
            return false;
        c->req_headers = l;
    }
    if (ok && opt)
        ok &= setup_tls(e, opt);
    if (ok && has_body) {
        /* no "Expect: 100-continue" round trip */
        struct curl_slist *l = curl_slist_append(c->req_headers, "Expect:");
        if (!l)
            return false;
        c->req_headers = l;
    }
    if (c->req_headers)
        ok &= curl_easy_setopt(e, CURLOPT_HTTPHEADER, c->req_headers) == CURLE_OK;
    return ok;
}

hoist_http_call *hoist_http_start(hoist_http *h, const hoist_http_request *req,
                                  hoist_http_cb cb, void *arg, hoist_err *err)
{
    return hoist_http_start_opts(h, req, NULL, cb, arg, err);
}

hoist_http_call *hoist_http_start_opts(hoist_http *h, const hoist_http_request *req,
                                       const hoist_http_options *opt, hoist_http_cb cb,
                                       void *arg, hoist_err *err)
{
    if (h->closing) {
        hoist_errf(err, "http: client is closed");
        return NULL;
    }
    if (!req || !req->method || !*req->method || !req->url || !*req->url || !cb) {
        hoist_errf(err, "http: request needs a method, a URL and a callback");
        return NULL;
    }
    if (req->n_headers && !req->headers) {
        hoist_errf(err, "http: %s %s: n_headers is %zu but headers is NULL", req->method,
                   req->url, req->n_headers);
        return NULL;
    }
    for (size_t i = 0; i < req->n_headers; i++) {
        if (!req->headers[i] || !strchr(req->headers[i], ':')) {
            hoist_errf(err, "http: %s %s: header %zu is not \"Name: value\"", req->method,
                       req->url, i);
            return NULL;
        }
    }
    hoist_http_call *c = calloc(1, sizeof *c);
    if (!c) {
        hoist_errf(err, "http: out of memory");
        return NULL;
    }
    c->h = h;
    c->cb = cb;
    c->arg = arg;
    c->on_data = opt ? opt->on_data : NULL;
    c->serial = ++h->serials;
    c->method = strdup(req->method);
    c->url = strdup(req->url);
    c->easy = curl_easy_init();
    if (!c->method || !c->url || !c->easy) {
        free_call(c);
        hoist_errf(err, "http: %s %s: out of memory", req->method, req->url);
        return NULL;
    }
    if (!setup_easy(c, req, opt)) {
        hoist_errf(err, "http: %s %s: curl refused the request options", req->method, req->url);
        free_call(c);
        return NULL;
    }
    c->next = h->calls;
    if (h->calls)
        h->calls->prev = c;
    h->calls = c;
    h->n_calls++;
    CURLMcode mrc = curl_multi_add_handle(h->multi, c->easy);
    if (mrc != CURLM_OK) {
        unlink_call(c);
        hoist_errf(err, "http: %s %s: %s", req->method, req->url, curl_multi_strerror(mrc));
        free_call(c);
        return NULL;
    }
    return c;
}

void hoist_http_cancel(hoist_http *h, hoist_http_call *call)
{
    if (!h || !call)
        return;
    curl_multi_remove_handle(h->multi, call->easy);
    complete(call, HOIST_E_CANCELLED, "cancelled");
}

size_t hoist_http_active(const hoist_http *h)
{
    return h->n_calls;
}

static void on_timer_closed(uv_handle_t *handle)
{
    hoist_http *h = handle->data;
    h->open_handles--;
    maybe_free(h);
}

void hoist_http_close(hoist_http *h)
{
    if (!h || h->closing)
        return;
    h->closing = true; /* callbacks run below cannot start new calls */
    while (h->calls)
        hoist_http_cancel(h, h->calls);
    curl_multi_cleanup(h->multi); /* may report sockets of cached connections as removed */
    h->multi = NULL;
    while (h->socks)
        sock_close(h->socks);
    uv_close((uv_handle_t *)&h->timer, on_timer_closed);
}
