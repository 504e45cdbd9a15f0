/* tests/unit/test_host.c - the hoist_host table: log, clock, timers, HTTP, metric hooks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/host.h"
#include "http_test_server.h"

typedef struct fixture {
    uv_loop_t loop;
    hoist_logger log;
    char *log_text;
    size_t log_len;
    FILE *log_out;
    hoist_metrics *metrics;
    hoist_services *svc;
    const hoist_host *host;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    f->log_out = open_memstream(&f->log_text, &f->log_len);
    assert_non_null(f->log_out);
    hoist_logger_init(&f->log, f->log_out, HOIST_LOG_INFO);
    f->log.timestamps = false;
    f->metrics = hoist_metrics_new();
    hoist_err err = {{0}};
    f->svc = hoist_services_new(&f->loop, &f->log, f->metrics, "mock", &err);
    assert_non_null(f->svc);
    f->host = hoist_services_host(f->svc);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    hoist_services_close(f->svc);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    fclose(f->log_out);
    free(f->log_text);
    hoist_metrics_free(f->metrics);
    free(f);
    return 0;
}

static const char *log_text(fixture *f)
{
    fflush(f->log_out);
    return f->log_text ? f->log_text : "";
}

static void test_table_shape(void **state)
{
    fixture *f = *state;
    const hoist_host *h = f->host;
    assert_int_equal(h->abi_version, HOIST_HOST_ABI_VERSION);
    assert_int_equal(h->size, sizeof(hoist_host));
    assert_true(HOIST_HOST_HAS(h, metric_gauge_set));
    assert_non_null(h->log);
    assert_non_null(h->timer_start);
    assert_non_null(h->http_request);
    /* wall clock in ms since the epoch: after 2020-01-01 and not in seconds */
    assert_true(h->now_ms(h->ctx) > UINT64_C(1577836800000));
}

static void test_log_attributed_and_filtered(void **state)
{
    fixture *f = *state;
    const hoist_host *h = f->host;
    h->log(h->ctx, HOIST_LOG_INFO, "launched %s in %d ms", "i-1", 42);
    h->log(h->ctx, HOIST_LOG_DEBUG, "too verbose for level info");
    h->log(h->ctx, HOIST_LOG_ERROR, "quote \" and\nnewline");
    const char *t = log_text(f);
    assert_string_equal(t, "level=info component=provider/mock msg=\"launched i-1 in 42 ms\"\n"
                           "level=error component=provider/mock msg=\"quote \\\" and\\nnewline\"\n");
}

static void test_logger_levels_and_timestamps(void **state)
{
    (void)state;
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    hoist_logger lg;
    hoist_logger_init(&lg, out, HOIST_LOG_WARN);
    assert_true(hoist_log_enabled(&lg, HOIST_LOG_ERROR));
    assert_false(hoist_log_enabled(&lg, HOIST_LOG_INFO));
    assert_false(hoist_log_enabled(NULL, HOIST_LOG_ERROR));
    hoist_log(&lg, HOIST_LOG_WARN, NULL, "plain");
    hoist_log(&lg, HOIST_LOG_INFO, "x", "dropped");
    hoist_log(NULL, HOIST_LOG_ERROR, "x", "no logger: no crash");
    fclose(out);
    assert_int_equal(strncmp(text, "ts=", 3), 0);
    assert_non_null(strstr(text, "Z level=warn msg=plain\n"));
    assert_null(strstr(text, "dropped"));
    free(text);
    hoist_log_level lv;
    assert_int_equal(hoist_log_level_parse("DEBUG", &lv), 0);
    assert_int_equal(lv, HOIST_LOG_DEBUG);
    assert_int_equal(hoist_log_level_parse("warning", &lv), 0);
    assert_int_equal(lv, HOIST_LOG_WARN);
    assert_int_equal(hoist_log_level_parse("loud", &lv), -1);
    assert_string_equal(hoist_log_level_name(HOIST_LOG_ERROR), "error");
}

/* Timer tests: each firing appends its tag to a trace. */
typedef struct trace {
    fixture *f;
    char order[64];
    hoist_timer *victim;  /* cancelled by the timer tagged 'c' */
    hoist_timer *chained;
} trace;

typedef struct tagged {
    trace *tr;
    char tag;
} tagged;

static void on_fire(void *arg)
{
    tagged *t = arg;
    size_t n = strlen(t->tr->order);
    t->tr->order[n] = t->tag;
    t->tr->order[n + 1] = '\0';
}

static void test_timers_fire_in_deadline_order(void **state)
{
    fixture *f = *state;
    const hoist_host *h = f->host;
    trace tr = {f, "", NULL, NULL};
    tagged t30 = {&tr, '3'}, t10 = {&tr, '1'}, t20 = {&tr, '2'}, t10b = {&tr, 'b'},
           t0 = {&tr, '0'};
    assert_non_null(h->timer_start(h->ctx, 30, on_fire, &t30));
    assert_non_null(h->timer_start(h->ctx, 10, on_fire, &t10));
    assert_non_null(h->timer_start(h->ctx, 20, on_fire, &t20));
    assert_non_null(h->timer_start(h->ctx, 10, on_fire, &t10b)); /* same deadline: start order */
    assert_non_null(h->timer_start(h->ctx, 0, on_fire, &t0));
    assert_int_equal(hoist_services_timers_active(f->svc), 5);
    assert_string_equal(tr.order, ""); /* nothing fires inside timer_start */
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_string_equal(tr.order, "01b23");
    assert_int_equal(hoist_services_timers_active(f->svc), 0);
}

static void cancel_victim(void *arg)
{
    tagged *t = arg;
    on_fire(arg);
    t->tr->f->host->timer_cancel(t->tr->f->host->ctx, t->tr->victim);
}

static void start_chained(void *arg)
{
    tagged *t = arg;
    static tagged next_tag;
    on_fire(arg);
    next_tag.tr = t->tr;
    next_tag.tag = 'n';
    const hoist_host *h = t->tr->f->host;
    t->tr->chained = h->timer_start(h->ctx, 0, on_fire, &next_tag);
    assert_non_null(t->tr->chained);
}

static void test_timer_cancel(void **state)
{
    fixture *f = *state;
    const hoist_host *h = f->host;
    trace tr = {f, "", NULL, NULL};
    tagged a = {&tr, 'a'}, x = {&tr, 'x'}, c = {&tr, 'c'}, v = {&tr, 'v'}, s = {&tr, 's'};
    hoist_timer *tx = h->timer_start(h->ctx, 5, on_fire, &x);
    assert_non_null(h->timer_start(h->ctx, 1, on_fire, &a));
    h->timer_cancel(h->ctx, tx); /* cancelled before the loop runs: never fires */
    assert_non_null(h->timer_start(h->ctx, 10, cancel_victim, &c));
    tr.victim = h->timer_start(h->ctx, 50, on_fire, &v); /* cancelled from c's callback */
    assert_non_null(tr.victim);
    assert_non_null(h->timer_start(h->ctx, 20, start_chained, &s));
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_string_equal(tr.order, "acsn");
}

static void test_close_drops_pending_timers(void **state)
{
    fixture *f = *state;
    const hoist_host *h = f->host;
    trace tr = {f, "", NULL, NULL};
    tagged late = {&tr, 'L'};
    assert_non_null(h->timer_start(h->ctx, 60000, on_fire, &late));
    hoist_services_close(f->svc);
    uv_run(&f->loop, UV_RUN_DEFAULT); /* returns at once: nothing left armed */
    assert_string_equal(tr.order, "");
    /* teardown closes a fresh one */
    f->svc = hoist_services_new(&f->loop, &f->log, f->metrics, "mock", NULL);
    assert_non_null(f->svc);
}

static void test_metric_hooks_prefix(void **state)
{
    fixture *f = *state;
    const hoist_host *h = f->host;
    hoist_kv l = {"zone", "us-east-1a"};
    h->metric_counter_add(h->ctx, "launches_total", "Machines launched.", &l, 1, 2);
    h->metric_counter_add(h->ctx, "launches_total", "Machines launched.", &l, 1, 1);
    h->metric_gauge_set(h->ctx, "machines", "Machines running.", NULL, 0, 7);
    double v = 0;
    assert_int_equal(hoist_metrics_get(f->metrics, "hoist_provider_launches_total", &l, 1, &v), 0);
    assert_true(v == 3);
    char *text = hoist_metrics_render(f->metrics, NULL);
    assert_non_null(strstr(text, "# TYPE hoist_provider_machines gauge\nhoist_provider_machines 7\n"));
    assert_non_null(strstr(text, "# HELP hoist_provider_launches_total Machines launched.\n"));
    free(text);
    /* a bad metric is a logged warning, not a crash */
    h->metric_counter_add(h->ctx, "bad name", "", NULL, 0, 1);
    h->metric_gauge_set(h->ctx, "launches_total", "", &l, 1, 1);
    const char *t = log_text(f);
    assert_non_null(strstr(t, "level=warn component=provider/mock msg=\"invalid metric name "));
    assert_non_null(strstr(t, "registered as a counter, used as a gauge"));
}

typedef struct http_result {
    int calls;
    long status;
    char body[64];
    hoist_status code;
} http_result;

static void on_http(void *arg, const hoist_error *err, const hoist_http_response *resp)
{
    http_result *r = arg;
    r->calls++;
    r->code = err ? err->code : HOIST_OK;
    if (resp) {
        r->status = resp->status;
        snprintf(r->body, sizeof r->body, "%s", resp->body);
    }
}

static void on_tick(uv_timer_t *t)
{
    if (*(int *)t->data)
        uv_stop(t->loop);
}

/* Run the loop until *flag is non-zero (a 1 ms ticker checks: a completion
 * from curl's timer would otherwise leave uv_run blocked in poll). */
static void run_until(uv_loop_t *loop, int *flag)
{
    uv_timer_t tick;
    assert_int_equal(uv_timer_init(loop, &tick), 0);
    tick.data = flag;
    assert_int_equal(uv_timer_start(&tick, on_tick, 1, 1), 0);
    uv_run(loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&tick, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
}

static void test_http_through_host(void **state)
{
    fixture *f = *state;
    const hoist_host *h = f->host;
    test_server *srv = test_server_start(&f->loop);
    assert_non_null(srv);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/hello", test_server_port(srv));
    hoist_http_request req = {"GET", url, NULL, 0, NULL, 0, 5000};
    http_result ok = {0}, cancelled = {0};
    assert_non_null(h->http_request(h->ctx, &req, on_http, &ok));
    snprintf(url, sizeof url, "http://127.0.0.1:%d/hang", test_server_port(srv));
    hoist_http_call *hang = h->http_request(h->ctx, &req, on_http, &cancelled);
    assert_non_null(hang);
    h->http_cancel(h->ctx, hang);
    assert_int_equal(cancelled.calls, 1);
    assert_int_equal(cancelled.code, HOIST_E_CANCELLED);
    /* a malformed request is refused with a warning and no callback */
    hoist_http_request bad = {"GET", NULL, NULL, 0, NULL, 0, 0};
    http_result none = {0};
    assert_null(h->http_request(h->ctx, &bad, on_http, &none));
    run_until(&f->loop, &ok.calls);
    assert_int_equal(ok.code, HOIST_OK);
    assert_int_equal(ok.status, 200);
    assert_string_equal(ok.body, "hello world");
    assert_int_equal(none.calls, 0);
    assert_non_null(strstr(log_text(f), "needs a method, a URL"));
    test_server_stop(srv);
}

static void test_close_cancels_http(void **state)
{
    fixture *f = *state;
    const hoist_host *h = f->host;
    test_server *srv = test_server_start(&f->loop);
    assert_non_null(srv);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/hang", test_server_port(srv));
    hoist_http_request req = {"GET", url, NULL, 0, NULL, 0, 60000};
    http_result r = {0};
    assert_non_null(h->http_request(h->ctx, &req, on_http, &r));
    uv_run(&f->loop, UV_RUN_NOWAIT);
    hoist_services_close(f->svc);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.code, HOIST_E_CANCELLED);
    test_server_stop(srv);
    f->svc = hoist_services_new(&f->loop, &f->log, f->metrics, "mock", NULL);
    assert_non_null(f->svc);
}

int main(void)
{
    static const char *const proxies[] = {"http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"};
    for (size_t i = 0; i < sizeof proxies / sizeof proxies[0]; i++)
        unsetenv(proxies[i]);
    if (getenv("HOIST_TEST_FILTER"))
        cmocka_set_test_filter(getenv("HOIST_TEST_FILTER"));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_table_shape, setup, teardown),
        cmocka_unit_test_setup_teardown(test_log_attributed_and_filtered, setup, teardown),
        cmocka_unit_test(test_logger_levels_and_timestamps),
        cmocka_unit_test_setup_teardown(test_timers_fire_in_deadline_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timer_cancel, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_drops_pending_timers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_metric_hooks_prefix, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_through_host, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_cancels_http, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
