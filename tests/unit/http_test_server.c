/* tests/unit/http_test_server.c - canned HTTP/1.1 server for tests; see the header. */
#include "http_test_server.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct conn {
    uv_tcp_t tcp;
    test_server *srv;
    char *buf;
    size_t len, cap;
    bool answered;
    bool closing;
    struct conn *prev, *next;
} conn;

struct test_server {
    uv_tcp_t listener;
    int port;
    int requests;
    int open_handles;
    bool stopping;
    conn *conns;
    test_server_hook hook;
    void *hook_arg;
};

static void maybe_free(test_server *s)
{
    if (s->stopping && s->open_handles == 0)
        free(s);
}

static void on_conn_closed(uv_handle_t *h)
{
    conn *c = h->data;
    test_server *s = c->srv;
    free(c->buf);
    free(c);
    s->open_handles--;
    maybe_free(s);
}

static void conn_close(conn *c)
{
    if (c->closing)
        return;
    c->closing = true;
    test_server *s = c->srv;
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
}

typedef struct write_req {
    uv_write_t req;
    conn *c;
    char *data;
} write_req;

static void on_written(uv_write_t *req, int status)
{
    (void)status;
    write_req *w = (write_req *)req;
    conn_close(w->c);
    free(w->data);
    free(w);
}

static void respond(conn *c, int status, const char *reason, const char *extra_header,
                    const char *body, size_t body_len)
{
    size_t cap = 512 + body_len + (extra_header ? strlen(extra_header) : 0);
    write_req *w = calloc(1, sizeof *w);
    char *data = malloc(cap);
    if (!w || !data) {
        free(w);
        free(data);
        conn_close(c);
        return;
    }
    int n = snprintf(data, cap,
                     "HTTP/1.1 %d %s\r\nContent-Length: %zu\r\nContent-Type: text/plain\r\n"
                     "%s%sConnection: close\r\n\r\n",
                     status, reason, body_len, extra_header ? extra_header : "",
                     extra_header ? "\r\n" : "");
    memcpy(data + n, body, body_len);
    w->c = c;
    w->data = data;
    uv_buf_t b = uv_buf_init(data, (unsigned)((size_t)n + body_len));
    if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, on_written) != 0) {
        free(data);
        free(w);
        conn_close(c);
    }
}

/* Value of header `name` in the header block [start, end), copied to out. */
static void header_value(const char *start, const char *end, const char *name, char *out,
                         size_t size)
{
    size_t nlen = strlen(name);
    out[0] = '\0';
    for (const char *line = start; line < end;) {
        const char *eol = strstr(line, "\r\n");
        if (!eol || eol > end)
            eol = end;
        if ((size_t)(eol - line) > nlen && !strncasecmp(line, name, nlen) && line[nlen] == ':') {
            const char *v = line + nlen + 1;
            while (*v == ' ')
                v++;
            snprintf(out, size, "%.*s", (int)(eol - v), v);
            return;
        }
        line = eol + 2;
    }
}

static void try_handle(conn *c)
{
    if (c->answered)
        return;
    char *hdr_end = c->buf ? strstr(c->buf, "\r\n\r\n") : NULL;
    if (!hdr_end)
        return;
    char method[16], path[256], clen[32];
    if (sscanf(c->buf, "%15s %255s", method, path) != 2) {
        c->answered = true;
        respond(c, 400, "Bad Request", NULL, "bad", 3);
        return;
    }
    char *headers = strstr(c->buf, "\r\n") + 2;
    header_value(headers, hdr_end + 2, "Content-Length", clen, sizeof clen);
    size_t body_len = clen[0] ? (size_t)strtoul(clen, NULL, 10) : 0;
    size_t head_len = (size_t)(hdr_end + 4 - c->buf);
    if (c->len < head_len + body_len)
        return;
    c->answered = true;
    c->srv->requests++;
    if (c->srv->hook)
        c->srv->hook(c->srv->hook_arg, method, path);
    if (c->closing)
        return;
    if (!strcmp(path, "/hang"))
        return;
    if (!strcmp(path, "/hello") || !strncmp(path, "/hello?", 7)) {
        respond(c, 200, "OK", "X-Test: yes", "hello world", 11);
    } else if (!strcmp(path, "/echo")) {
        char custom[128], extra[160];
        header_value(headers, hdr_end + 2, "X-Custom", custom, sizeof custom);
        snprintf(extra, sizeof extra, "X-Echo-Custom: %s", custom);
        size_t n = strlen(method) + 1 + body_len;
        char *out = malloc(n + 1);
        if (!out) {
            conn_close(c);
            return;
        }
        snprintf(out, n + 1, "%s ", method);
        memcpy(out + strlen(method) + 1, c->buf + head_len, body_len);
        respond(c, 200, "OK", extra, out, n);
        free(out);
    } else {
        respond(c, 404, "Not Found", NULL, "not found", 9);
    }
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    buf->base = malloc(suggested);
    buf->len = buf->base ? suggested : 0;
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    conn *c = stream->data;
    if (nread < 0) {
        free(buf->base);
        conn_close(c);
        return;
    }
    size_t n = (size_t)nread;
    if (c->len + n + 1 > c->cap) {
        size_t cap = (c->len + n + 1) * 2;
        char *p = realloc(c->buf, cap);
        if (!p) {
            free(buf->base);
            conn_close(c);
            return;
        }
        c->buf = p;
        c->cap = cap;
    }
    if (n)
        memcpy(c->buf + c->len, buf->base, n);
    c->len += n;
    c->buf[c->len] = '\0';
    free(buf->base);
    try_handle(c);
}

static void on_connection(uv_stream_t *server, int status)
{
    test_server *s = server->data;
    if (status < 0 || s->stopping)
        return;
    conn *c = calloc(1, sizeof *c);
    if (!c)
        return;
    c->srv = s;
    uv_tcp_init(server->loop, &c->tcp);
    c->tcp.data = c;
    s->open_handles++;
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0 ||
        uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) != 0)
        conn_close(c);
}

static void on_listener_closed(uv_handle_t *h)
{
    test_server *s = h->data;
    s->open_handles--;
    maybe_free(s);
}

test_server *test_server_start(uv_loop_t *loop)
{
    test_server *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    struct sockaddr_in addr;
    struct sockaddr_storage bound;
    int len = sizeof bound;
    uv_ip4_addr("127.0.0.1", 0, &addr);
    uv_tcp_init(loop, &s->listener);
    s->listener.data = s;
    s->open_handles = 1;
    if (uv_tcp_bind(&s->listener, (const struct sockaddr *)&addr, 0) != 0 ||
        uv_listen((uv_stream_t *)&s->listener, 128, on_connection) != 0 ||
        uv_tcp_getsockname(&s->listener, (struct sockaddr *)&bound, &len) != 0) {
        test_server_stop(s);
        return NULL;
    }
    s->port = ntohs(((struct sockaddr_in *)&bound)->sin_port);
    return s;
}

int test_server_port(const test_server *s)
{
    return s->port;
}

int test_server_requests(const test_server *s)
{
    return s->requests;
}

void test_server_set_hook(test_server *s, test_server_hook hook, void *arg)
{
    s->hook = hook;
    s->hook_arg = arg;
}

void test_server_stop(test_server *s)
{
    if (!s || s->stopping)
        return;
    s->stopping = true;
    while (s->conns)
        conn_close(s->conns);
    uv_close((uv_handle_t *)&s->listener, on_listener_closed);
}

static void on_probe_closed(uv_handle_t *h)
{
    (void)h;
}

int test_closed_port(uv_loop_t *loop)
{
    uv_tcp_t probe;
    struct sockaddr_in addr;
    struct sockaddr_storage bound;
    int len = sizeof bound, port = -1;
    uv_ip4_addr("127.0.0.1", 0, &addr);
    if (uv_tcp_init(loop, &probe) != 0)
        return -1;
    if (uv_tcp_bind(&probe, (const struct sockaddr *)&addr, 0) == 0 &&
        uv_tcp_getsockname(&probe, (struct sockaddr *)&bound, &len) == 0)
        port = ntohs(((struct sockaddr_in *)&bound)->sin_port);
    uv_close((uv_handle_t *)&probe, on_probe_closed);
    uv_run(loop, UV_RUN_NOWAIT);
    return port;
}
