/* tests/unit/test_httpd.c - the libmicrohttpd server on a libuv loop, driven by
 * the curl-multi client on the same loop; and the /metrics, /healthz, /readyz
 * endpoints. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/http.h"
#include "host/httpd.h"
#include "host/metrics.h"
#include "host/status.h"

typedef struct outcome {
    int calls;
    hoist_status code;
    long status;
    char body[4096];
    char headers[2048];
} outcome;

static void record(void *arg, const hoist_error *err, const hoist_http_response *resp)
{
    outcome *o = arg;
    o->calls++;
    if (err) {
        o->code = err->code;
        return;
    }
    o->code = HOIST_OK;
    o->status = resp->status;
    snprintf(o->body, sizeof o->body, "%.*s", (int)resp->body_len, resp->body);
    o->headers[0] = '\0';
    for (size_t i = 0; i < resp->n_headers; i++) {
        strncat(o->headers, resp->headers[i], sizeof o->headers - strlen(o->headers) - 2);
        strcat(o->headers, "\n");
    }
}

typedef struct fixture {
    uv_loop_t loop;
    hoist_httpd *d;
    hoist_http *http;
    char base[64];
    /* stream test state */
    hoist_httpd_stream *stream;
    int closed_calls;
    int handler_calls;
    char last_query[64];
    char last_header[64];
    char last_body[256];
} fixture;

static void h_hello(void *arg, hoist_httpd_req *req)
{
    fixture *f = arg;
    f->handler_calls++;
    const char *q = hoist_httpd_query(req, "name");
    snprintf(f->last_query, sizeof f->last_query, "%s", q ? q : "(absent)");
    const char *h = hoist_httpd_header(req, "x-custom");
    snprintf(f->last_header, sizeof f->last_header, "%s", h ? h : "(absent)");
    const char *extra[] = {"X-Extra: yes", "not a header"};
    char body[128];
    snprintf(body, sizeof body, "hello %s", q ? q : "world");
    assert_int_equal(hoist_httpd_respond_ex(req, 200, "text/plain", body, strlen(body), extra, 2),
                     0);
    /* a second answer is refused */
    assert_int_equal(hoist_httpd_respond(req, 500, NULL, "x", 1), -1);
}

static void h_echo(void *arg, hoist_httpd_req *req)
{
    fixture *f = arg;
    size_t len = 0;
    const char *body = hoist_httpd_body(req, &len);
    snprintf(f->last_body, sizeof f->last_body, "%.*s", (int)len, body);
    char out[512];
    snprintf(out, sizeof out, "%s %s %zu", hoist_httpd_method(req), hoist_httpd_path(req), len);
    hoist_httpd_respond(req, 201, "text/plain", out, strlen(out));
}

static void h_silent(void *arg, hoist_httpd_req *req)
{
    (void)arg;
    (void)req; /* answers nothing: the server must send a 500 */
}

static void stream_closed(void *arg, hoist_httpd_stream *s)
{
    fixture *f = arg;
    assert_ptr_equal(s, f->stream);
    f->closed_calls++;
    f->stream = NULL;
}

static void h_stream(void *arg, hoist_httpd_req *req)
{
    fixture *f = arg;
    f->stream = hoist_httpd_stream_start(req, 200, "application/json", stream_closed, f);
    assert_non_null(f->stream);
    assert_null(hoist_httpd_stream_start(req, 200, NULL, NULL, NULL)); /* answered already */
    assert_int_equal(hoist_httpd_stream_write(f->stream, "first\n", 6), 0);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    hoist_err err = {{0}};
    f->d = hoist_httpd_start(&f->loop, "127.0.0.1", 0, NULL, &err);
    assert_non_null(f->d);
    assert_true(hoist_httpd_port(f->d) > 0);
    assert_int_equal(hoist_httpd_handle(f->d, "GET", "/hello", h_hello, f, &err), 0);
    assert_int_equal(hoist_httpd_handle(f->d, NULL, "/echo", h_echo, f, &err), 0);
    assert_int_equal(hoist_httpd_handle(f->d, "GET", "/silent", h_silent, f, &err), 0);
    assert_int_equal(hoist_httpd_handle(f->d, "GET", "/stream", h_stream, f, &err), 0);
    snprintf(f->base, sizeof f->base, "http://127.0.0.1:%d", hoist_httpd_port(f->d));
    f->http = hoist_http_new(&f->loop, NULL, &err);
    assert_non_null(f->http);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    hoist_http_close(f->http);
    hoist_httpd_close(f->d);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    free(f);
    return 0;
}

static hoist_http_call *start(fixture *f, const char *method, const char *path,
                              const char *const *headers, size_t n_headers, const char *body,
                              outcome *o)
{
    char url[256];
    snprintf(url, sizeof url, "%s%s", f->base, path);
    hoist_http_request req = {method, url, headers, n_headers, body, body ? strlen(body) : 0, 5000};
    hoist_http_call *c = hoist_http_start(f->http, &req, record, o, NULL);
    assert_non_null(c);
    return c;
}

static void on_tick(uv_timer_t *t)
{
    outcome *o = t->data;
    if (o->calls > 0)
        uv_stop(t->loop);
}

/* Run the loop until o's request completed (a 1 ms ticker checks). */
static void run_until_done(fixture *f, outcome *o)
{
    uv_timer_t tick;
    assert_int_equal(uv_timer_init(&f->loop, &tick), 0);
    tick.data = o;
    assert_int_equal(uv_timer_start(&tick, on_tick, 1, 1), 0);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&tick, NULL);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_int_equal(o->calls, 1);
}

static void test_get_query_and_headers(void **state)
{
    fixture *f = *state;
    outcome o = {0};
    const char *headers[] = {"X-Custom: forty-two"};
    start(f, "GET", "/hello?name=kube&flag", headers, 1, NULL, &o);
    run_until_done(f, &o);
    assert_int_equal(o.code, HOIST_OK);
    assert_int_equal(o.status, 200);
    assert_string_equal(o.body, "hello kube");
    assert_string_equal(f->last_query, "kube");
    assert_string_equal(f->last_header, "forty-two");
    assert_non_null(strstr(o.headers, "X-Extra: yes"));
    assert_non_null(strstr(o.headers, "Content-Type: text/plain"));
}

static void test_query_without_value_and_absent(void **state)
{
    fixture *f = *state;
    outcome o = {0};
    start(f, "GET", "/hello?name", NULL, 0, NULL, &o);
    run_until_done(f, &o);
    assert_string_equal(f->last_query, ""); /* present, no value */
    outcome o2 = {0};
    start(f, "GET", "/hello", NULL, 0, NULL, &o2);
    run_until_done(f, &o2);
    assert_string_equal(f->last_query, "(absent)");
    assert_string_equal(f->last_header, "(absent)");
    assert_string_equal(o2.body, "hello world");
}

static void test_post_body_any_method(void **state)
{
    fixture *f = *state;
    outcome o = {0};
    start(f, "POST", "/echo/x", NULL, 0, "{\"a\": 1}", &o);
    run_until_done(f, &o);
    assert_int_equal(o.status, 201);
    assert_string_equal(o.body, "POST /echo/x 8");
    assert_string_equal(f->last_body, "{\"a\": 1}");
    outcome o2 = {0};
    start(f, "DELETE", "/echo", NULL, 0, NULL, &o2);
    run_until_done(f, &o2);
    assert_string_equal(o2.body, "DELETE /echo 0");
}

static void test_large_body_in_pieces(void **state)
{
    fixture *f = *state;
    size_t n = 300000;
    char *big = malloc(n + 1);
    assert_non_null(big);
    memset(big, 'x', n);
    big[n] = '\0';
    outcome o = {0};
    start(f, "PUT", "/echo", NULL, 0, big, &o);
    free(big);
    run_until_done(f, &o);
    assert_string_equal(o.body, "PUT /echo 300000");
}

static void test_routes_404_and_silent_500(void **state)
{
    fixture *f = *state;
    outcome o = {0};
    start(f, "GET", "/nowhere", NULL, 0, NULL, &o);
    run_until_done(f, &o);
    assert_int_equal(o.status, 404);
    outcome o2 = {0};
    start(f, "POST", "/hello", NULL, 0, "x", &o2); /* /hello is GET only */
    run_until_done(f, &o2);
    assert_int_equal(o2.status, 404);
    assert_int_equal(f->handler_calls, 0);
    outcome o3 = {0};
    start(f, "GET", "/silent", NULL, 0, NULL, &o3);
    run_until_done(f, &o3);
    assert_int_equal(o3.status, 500);
}

/* --- streams ---------------------------------------------------------------- */

typedef struct feeder {
    fixture *f;
    int step;
} feeder;

static void feed(uv_timer_t *t)
{
    feeder *fd = t->data;
    fixture *f = fd->f;
    if (!f->stream) /* not connected yet */
        return;
    fd->step++;
    if (fd->step == 1) {
        assert_int_equal(hoist_httpd_stream_write(f->stream, "second\n", 7), 0);
    } else if (fd->step == 2) {
        assert_int_equal(hoist_httpd_stream_write(f->stream, "third\n", 6), 0);
        hoist_httpd_stream_end(f->stream);
        f->stream = NULL;
        uv_timer_stop(t);
    }
}

static void test_stream_pushed_later(void **state)
{
    fixture *f = *state;
    outcome o = {0};
    start(f, "GET", "/stream", NULL, 0, NULL, &o);
    feeder fd = {f, 0};
    uv_timer_t t;
    uv_timer_init(&f->loop, &t);
    t.data = &fd;
    uv_timer_start(&t, feed, 20, 20);
    run_until_done(f, &o);
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_int_equal(o.status, 200);
    assert_string_equal(o.body, "first\nsecond\nthird\n");
    assert_non_null(strstr(o.headers, "Transfer-Encoding: chunked"));
    assert_int_equal(f->closed_calls, 0); /* ended by its owner: no callback */
    assert_int_equal(hoist_httpd_streams(f->d), 0);
}

typedef struct closer {
    fixture *f;
    hoist_http_call *call;
    int writes;
} closer;

/* Once the stream exists, cancel the client's request, then keep writing
 * until the server notices the client is gone. */
static void cancel_then_write(uv_timer_t *t)
{
    closer *c = t->data;
    fixture *f = c->f;
    if (c->call && f->stream) {
        hoist_http_cancel(f->http, c->call);
        c->call = NULL;
        return;
    }
    if (!c->call && f->stream) {
        hoist_httpd_stream_write(f->stream, "ping\n", 5);
        c->writes++;
        return;
    }
    if (!c->call && !f->stream)
        uv_stop(t->loop);
}

static void test_stream_client_gone(void **state)
{
    fixture *f = *state;
    outcome o = {0};
    closer c = {f, NULL, 0};
    c.call = start(f, "GET", "/stream", NULL, 0, NULL, &o);
    uv_timer_t t;
    uv_timer_init(&f->loop, &t);
    t.data = &c;
    uv_timer_start(&t, cancel_then_write, 10, 10);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_int_equal(o.code, HOIST_E_CANCELLED);
    assert_int_equal(f->closed_calls, 1); /* the owner heard of it once */
    assert_null(f->stream);
    assert_int_equal(hoist_httpd_streams(f->d), 0);
}

static void close_when_streaming(uv_timer_t *t)
{
    fixture *f = t->data;
    if (f->stream) {
        hoist_httpd_close(f->d);
        f->d = NULL;
        uv_timer_stop(t);
    }
}

static void test_close_ends_streams(void **state)
{
    fixture *f = *state;
    outcome o = {0};
    start(f, "GET", "/stream", NULL, 0, NULL, &o);
    uv_timer_t t;
    uv_timer_init(&f->loop, &t);
    t.data = f;
    uv_timer_start(&t, close_when_streaming, 5, 5);
    run_until_done(f, &o);
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_int_equal(f->closed_calls, 1);
    assert_null(f->stream);
    /* the client got what was sent before the close, and the body's end */
    assert_int_equal(o.code, HOIST_OK);
    assert_string_equal(o.body, "first\n");
}

/* --- setup errors ----------------------------------------------------------- */

static void test_bad_addresses_and_prefixes(void **state)
{
    fixture *f = *state;
    hoist_err err = {{0}};
    assert_null(hoist_httpd_start(&f->loop, "not-an-ip", 0, NULL, &err));
    assert_non_null(strstr(err.msg, "\"not-an-ip\""));
    assert_null(hoist_httpd_start(&f->loop, "127.0.0.1", 70000, NULL, &err));
    assert_non_null(strstr(err.msg, "70000"));
    /* the port in use */
    assert_null(hoist_httpd_start(&f->loop, "127.0.0.1", hoist_httpd_port(f->d), NULL, &err));
    assert_non_null(strstr(err.msg, "cannot listen on 127.0.0.1:"));
    assert_int_equal(hoist_httpd_handle(f->d, "GET", "metrics", h_hello, f, &err), -1);
    assert_non_null(strstr(err.msg, "must start with '/'"));
    int added = 0;
    while (hoist_httpd_handle(f->d, "GET", "/more", h_hello, f, &err) == 0)
        added++;
    assert_int_equal(added, HOIST_HTTPD_MAX_HANDLERS - 4);
    assert_non_null(strstr(err.msg, "too many handlers"));
}

/* --- /metrics, /healthz, /readyz ------------------------------------------ */

static void test_status_endpoints(void **state)
{
    fixture *f = *state;
    hoist_metrics *m = hoist_metrics_new();
    assert_non_null(m);
    hoist_kv lab[] = {{"reason", "empty"}};
    assert_int_equal(hoist_metrics_counter_add(m, "hoist_machines_terminated_total",
                                               "Machines terminated.", lab, 1, 3, NULL),
                     0);
    hoist_health h;
    hoist_health_init(&h, m);
    hoist_err err = {{0}};
    assert_int_equal(hoist_health_register(f->d, &h, &err), 0);

    outcome o = {0};
    start(f, "GET", "/metrics", NULL, 0, NULL, &o);
    run_until_done(f, &o);
    assert_int_equal(o.status, 200);
    assert_non_null(strstr(o.headers, "Content-Type: text/plain; version=0.0.4"));
    assert_non_null(strstr(o.body, "hoist_machines_terminated_total{reason=\"empty\"} 3"));
    char *expect = hoist_metrics_render(m, NULL);
    assert_string_equal(o.body, expect);
    free(expect);

    outcome o2 = {0};
    start(f, "GET", "/healthz", NULL, 0, NULL, &o2);
    run_until_done(f, &o2);
    assert_int_equal(o2.status, 200);
    assert_string_equal(o2.body, "ok\n");

    outcome o3 = {0};
    start(f, "GET", "/readyz", NULL, 0, NULL, &o3);
    run_until_done(f, &o3);
    assert_int_equal(o3.status, 503);
    assert_string_equal(o3.body, "not ready: starting\n");

    hoist_health_set_ready(&h, false, "watch of pods not synced");
    outcome o4 = {0};
    start(f, "GET", "/readyz", NULL, 0, NULL, &o4);
    run_until_done(f, &o4);
    assert_int_equal(o4.status, 503);
    assert_non_null(strstr(o4.body, "watch of pods not synced"));

    hoist_health_set_ready(&h, true, NULL);
    outcome o5 = {0};
    start(f, "GET", "/readyz", NULL, 0, NULL, &o5);
    run_until_done(f, &o5);
    assert_int_equal(o5.status, 200);
    assert_string_equal(o5.body, "ok\n");

    outcome o6 = {0};
    start(f, "GET", "/healthzz", NULL, 0, NULL, &o6);
    run_until_done(f, &o6);
    assert_int_equal(o6.status, 404);
    outcome o7 = {0};
    start(f, "POST", "/metrics", NULL, 0, "", &o7);
    run_until_done(f, &o7);
    assert_int_equal(o7.status, 404);

    /* the server goes before the registry it renders */
    hoist_httpd_close(f->d);
    f->d = NULL;
    uv_run(&f->loop, UV_RUN_NOWAIT);
    hoist_metrics_free(m);
}

static void test_empty_metrics(void **state)
{
    fixture *f = *state;
    hoist_health h;
    hoist_health_init(&h, NULL);
    assert_int_equal(hoist_health_register(f->d, &h, NULL), 0);
    outcome o = {0};
    start(f, "GET", "/metrics", NULL, 0, NULL, &o);
    run_until_done(f, &o);
    assert_int_equal(o.status, 200);
    assert_string_equal(o.body, "");
    hoist_httpd_close(f->d);
    f->d = NULL;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_get_query_and_headers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_query_without_value_and_absent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_post_body_any_method, setup, teardown),
        cmocka_unit_test_setup_teardown(test_large_body_in_pieces, setup, teardown),
        cmocka_unit_test_setup_teardown(test_routes_404_and_silent_500, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stream_pushed_later, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stream_client_gone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_ends_streams, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_addresses_and_prefixes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status_endpoints, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_metrics, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
