/* tests/unit/test_http.c - the curl-multi-on-libuv HTTP client against a local canned server. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/http.h"
#include "http_test_server.h"

/* What one completion callback saw. */
typedef struct outcome {
    int calls;
    hoist_status code;
    char message[256];
    long status;
    char body[256];
    size_t body_len;
    char headers[1024]; /* header lines joined with '\n' */
} outcome;

static void record(void *arg, const hoist_error *err, const hoist_http_response *resp)
{
    outcome *o = arg;
    o->calls++;
    assert_true((err == NULL) != (resp == NULL));
    if (err) {
        o->code = err->code;
        snprintf(o->message, sizeof o->message, "%s", err->message);
        return;
    }
    o->code = HOIST_OK;
    o->status = resp->status;
    o->body_len = resp->body_len;
    assert_int_equal(resp->body[resp->body_len], '\0');
    snprintf(o->body, sizeof o->body, "%.*s", (int)resp->body_len, resp->body);
    o->headers[0] = '\0';
    for (size_t i = 0; i < resp->n_headers; i++) {
        strncat(o->headers, resp->headers[i], sizeof o->headers - strlen(o->headers) - 2);
        strcat(o->headers, "\n");
    }
}

typedef struct fixture {
    uv_loop_t loop;
    test_server *srv;
    hoist_http *http;
    char base[64];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    f->srv = test_server_start(&f->loop);
    assert_non_null(f->srv);
    snprintf(f->base, sizeof f->base, "http://127.0.0.1:%d", test_server_port(f->srv));
    hoist_err err = {{0}};
    f->http = hoist_http_new(&f->loop, NULL, &err);
    assert_non_null(f->http);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    hoist_http_close(f->http);
    test_server_stop(f->srv);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    free(f);
    return 0;
}

static hoist_http_call *start(fixture *f, const char *method, const char *path,
                              const char *const *headers, size_t n_headers, const char *body,
                              uint32_t timeout_ms, outcome *o)
{
    char url[128];
    snprintf(url, sizeof url, "%s%s", f->base, path);
    hoist_http_request req = {method, url, headers, n_headers, body, body ? strlen(body) : 0,
                              timeout_ms};
    hoist_err err = {{0}};
    hoist_http_call *c = hoist_http_start(f->http, &req, record, o, &err);
    assert_non_null(c);
    assert_int_equal(o->calls, 0); /* never completes inside start */
    return c;
}

static void on_tick(uv_timer_t *t)
{
    fixture *f = t->data;
    if (hoist_http_active(f->http) == 0)
        uv_stop(t->loop);
}

/* Run the loop until no request is in flight. A completion that comes from
 * curl's timer would otherwise leave uv_run blocked in poll (the server's
 * listener keeps the loop alive), so a 1 ms ticker checks. */
static void run_until_idle(fixture *f)
{
    if (hoist_http_active(f->http) == 0)
        return;
    uv_timer_t tick;
    assert_int_equal(uv_timer_init(&f->loop, &tick), 0);
    tick.data = f;
    assert_int_equal(uv_timer_start(&tick, on_tick, 1, 1), 0);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&tick, NULL);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_int_equal(hoist_http_active(f->http), 0);
}

static void test_get_with_headers(void **state)
{
    fixture *f = *state;
    outcome o = {0};
    start(f, "GET", "/hello", NULL, 0, NULL, 5000, &o);
    run_until_idle(f);
    assert_int_equal(o.calls, 1);
    assert_int_equal(o.code, HOIST_OK);
    assert_int_equal(o.status, 200);
    assert_string_equal(o.body, "hello world");
    assert_int_equal(o.body_len, 11);
    assert_non_null(strstr(o.headers, "X-Test: yes\n"));
    assert_non_null(strstr(o.headers, "Content-Length: 11\n"));
    assert_null(strstr(o.headers, "HTTP/1.1")); /* the status line is not a header */
}

static void test_post_body_and_request_headers(void **state)
{
    fixture *f = *state;
    outcome o = {0};
    const char *headers[] = {"X-Custom: forty-two", "Content-Type: application/json"};
    start(f, "POST", "/echo", headers, 2, "{\"a\": 1}", 5000, &o);
    run_until_idle(f);
    assert_int_equal(o.code, HOIST_OK);
    assert_int_equal(o.status, 200);
    assert_string_equal(o.body, "POST {\"a\": 1}");
    assert_non_null(strstr(o.headers, "X-Echo-Custom: forty-two\n"));
}

static void test_put_uses_method(void **state)
{
    fixture *f = *state;
    outcome o = {0};
    start(f, "PUT", "/echo", NULL, 0, "data", 5000, &o);
    run_until_idle(f);
    assert_int_equal(o.code, HOIST_OK);
    assert_string_equal(o.body, "PUT data");
}

static void test_404_is_a_response(void **state)
{
    fixture *f = *state;
    outcome o = {0};
    start(f, "GET", "/nope", NULL, 0, NULL, 5000, &o);
    run_until_idle(f);
    assert_int_equal(o.calls, 1);
    assert_int_equal(o.code, HOIST_OK);
    assert_int_equal(o.status, 404);
    assert_string_equal(o.body, "not found");
}

static void test_connection_refused(void **state)
{
    fixture *f = *state;
    int port = test_closed_port(&f->loop);
    assert_true(port > 0);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/hello", port);
    hoist_http_request req = {"GET", url, NULL, 0, NULL, 0, 5000};
    outcome o = {0};
    assert_non_null(hoist_http_start(f->http, &req, record, &o, NULL));
    run_until_idle(f);
    assert_int_equal(o.calls, 1);
    assert_int_equal(o.code, HOIST_E_UNAVAILABLE);
    assert_non_null(strstr(o.message, url)); /* the message names the request */
}

static void test_timeout(void **state)
{
    fixture *f = *state;
    outcome o = {0};
    start(f, "GET", "/hang", NULL, 0, NULL, 200, &o);
    run_until_idle(f);
    assert_int_equal(o.calls, 1);
    assert_int_equal(o.code, HOIST_E_TIMEOUT);
    assert_int_equal(test_server_requests(f->srv), 1); /* it did reach the server */
}

typedef struct cancel_ctx {
    fixture *f;
    hoist_http_call *call;
} cancel_ctx;

static void cancel_on_request(void *arg, const char *method, const char *path)
{
    (void)method;
    cancel_ctx *cc = arg;
    if (!strcmp(path, "/hang") && cc->call) {
        hoist_http_cancel(cc->f->http, cc->call);
        cc->call = NULL;
    }
}

static void test_cancel_in_flight(void **state)
{
    fixture *f = *state;
    outcome o = {0};
    cancel_ctx cc = {f, NULL};
    test_server_set_hook(f->srv, cancel_on_request, &cc);
    cc.call = start(f, "GET", "/hang", NULL, 0, NULL, 60000, &o);
    run_until_idle(f);
    test_server_set_hook(f->srv, NULL, NULL);
    assert_null(cc.call);
    assert_int_equal(o.calls, 1);
    assert_int_equal(o.code, HOIST_E_CANCELLED);
}

static void test_cancel_before_loop_runs(void **state)
{
    fixture *f = *state;
    outcome o = {0};
    hoist_http_call *c = start(f, "GET", "/hello", NULL, 0, NULL, 5000, &o);
    hoist_http_cancel(f->http, c);
    assert_int_equal(o.calls, 1);
    assert_int_equal(o.code, HOIST_E_CANCELLED);
    assert_int_equal(hoist_http_active(f->http), 0);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_int_equal(o.calls, 1); /* exactly once */
}

static void test_close_cancels_everything(void **state)
{
    fixture *f = *state;
    outcome a = {0}, b = {0};
    start(f, "GET", "/hang", NULL, 0, NULL, 60000, &a);
    start(f, "GET", "/hello", NULL, 0, NULL, 60000, &b);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    hoist_http_close(f->http);
    assert_int_equal(a.code, HOIST_E_CANCELLED);
    assert_int_equal(b.calls, 1);
    assert_int_equal(a.calls, 1);
    /* a closed client refuses new work */
    hoist_http_request req = {"GET", "http://127.0.0.1:1/", NULL, 0, NULL, 0, 0};
    hoist_err err = {{0}};
    outcome c = {0};
    assert_null(hoist_http_start(f->http, &req, record, &c, &err));
    assert_non_null(strstr(err.msg, "closed"));
    /* make teardown's close a no-op on the closed client, then let it free itself */
    hoist_err err2 = {{0}};
    hoist_http *fresh = hoist_http_new(&f->loop, NULL, &err2);
    assert_non_null(fresh);
    f->http = fresh;
}

#define MANY 64

static void test_many_concurrent(void **state)
{
    fixture *f = *state;
    outcome *o = calloc(MANY, sizeof *o);
    assert_non_null(o);
    for (int i = 0; i < MANY; i++) {
        char path[32];
        snprintf(path, sizeof path, i % 4 == 3 ? "/missing%d" : "/hello?i=%d", i);
        start(f, "GET", path, NULL, 0, NULL, 10000, &o[i]);
    }
    assert_int_equal(hoist_http_active(f->http), MANY);
    run_until_idle(f);
    for (int i = 0; i < MANY; i++) {
        assert_int_equal(o[i].calls, 1);
        assert_int_equal(o[i].code, HOIST_OK);
        assert_int_equal(o[i].status, i % 4 == 3 ? 404 : 200);
    }
    assert_int_equal(test_server_requests(f->srv), MANY);
    free(o);
}

static void test_bad_requests_refused(void **state)
{
    fixture *f = *state;
    outcome o = {0};
    hoist_err err = {{0}};
    hoist_http_request no_url = {"GET", NULL, NULL, 0, NULL, 0, 0};
    assert_null(hoist_http_start(f->http, &no_url, record, &o, &err));
    assert_non_null(strstr(err.msg, "URL"));
    const char *bad_header[] = {"no colon here"};
    hoist_http_request bad = {"GET", "http://127.0.0.1:1/", bad_header, 1, NULL, 0, 0};
    assert_null(hoist_http_start(f->http, &bad, record, &o, &err));
    assert_non_null(strstr(err.msg, "header 0"));
    assert_int_equal(o.calls, 0);

    /* a URL curl cannot use is an error delivered to the callback */
    hoist_http_request ftp = {"GET", "ftp://127.0.0.1/x", NULL, 0, NULL, 0, 0};
    assert_non_null(hoist_http_start(f->http, &ftp, record, &o, &err));
    run_until_idle(f);
    assert_int_equal(o.calls, 1);
    assert_int_equal(o.code, HOIST_E_INVALID);
}

typedef struct chain {
    fixture *f;
    int remaining;
    outcome last;
} chain;

static void chain_next(void *arg, const hoist_error *err, const hoist_http_response *resp);

static void chain_start(chain *ch)
{
    char url[128];
    snprintf(url, sizeof url, "%s/hello", ch->f->base);
    hoist_http_request req = {"GET", url, NULL, 0, NULL, 0, 5000};
    assert_non_null(hoist_http_start(ch->f->http, &req, chain_next, ch, NULL));
}

static void chain_next(void *arg, const hoist_error *err, const hoist_http_response *resp)
{
    chain *ch = arg;
    record(&ch->last, err, resp);
    if (--ch->remaining > 0)
        chain_start(ch); /* starting a request from a completion callback */
}

static void test_start_from_callback(void **state)
{
    fixture *f = *state;
    chain ch = {f, 5, {0}};
    chain_start(&ch);
    run_until_idle(f);
    assert_int_equal(ch.remaining, 0);
    assert_int_equal(ch.last.calls, 5);
    assert_int_equal(ch.last.status, 200);
}

int main(void)
{
    /* the server is local: never go through a proxy from the environment */
    static const char *const proxies[] = {"http_proxy", "HTTP_PROXY", "https_proxy",
                                          "HTTPS_PROXY", "all_proxy", "ALL_PROXY"};
    for (size_t i = 0; i < sizeof proxies / sizeof proxies[0]; i++)
        unsetenv(proxies[i]);
    if (getenv("HOIST_TEST_FILTER"))
        cmocka_set_test_filter(getenv("HOIST_TEST_FILTER"));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_get_with_headers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_post_body_and_request_headers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_put_uses_method, setup, teardown),
        cmocka_unit_test_setup_teardown(test_404_is_a_response, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connection_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_in_flight, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_before_loop_runs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_cancels_everything, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_concurrent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_requests_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_start_from_callback, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
