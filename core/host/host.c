/* host/host.c - the hoist_host lent to plugins, on a libuv loop; see host.h. */
#include "host/host.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct hoist_timer {
    uv_timer_t handle;
    hoist_services *s;
    hoist_timer_cb cb;
    void *arg;
    hoist_timer *prev, *next;
};

struct hoist_services {
    hoist_host host;          /* host.ctx == this */
    uv_loop_t *loop;
    const hoist_logger *log;
    hoist_metrics *metrics;
    hoist_http *http;
    char *component;          /* "provider/<name>" */
    hoist_timer *timers;      /* armed */
    size_t n_timers;
    int closing_timers;       /* timer handles whose close callback is pending */
    bool closed;
};

static void maybe_free(hoist_services *s)
{
    if (s->closed && s->closing_timers == 0) {
        free(s->component);
        free(s);
    }
}

/* ---- log and clock ------------------------------------------------------- */

static void host_log(void *ctx, hoist_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void host_log(void *ctx, hoist_log_level level, const char *fmt, ...)
{
    hoist_services *s = ctx;
    if (level > HOIST_LOG_DEBUG)
        level = HOIST_LOG_DEBUG;
    if (!fmt || !hoist_log_enabled(s->log, level))
        return;
    va_list ap;
    va_start(ap, fmt);
    hoist_logv(s->log, level, s->component, fmt, ap);
    va_end(ap);
}

static uint64_t host_now_ms(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- timers -------------------------------------------------------------- */

static void on_timer_closed(uv_handle_t *handle)
{
    hoist_timer *t = handle->data;
    hoist_services *s = t->s;
    free(t);
    s->closing_timers--;
    maybe_free(s);
}

/* Unlink t from the armed list and close its handle. */
static void timer_release(hoist_timer *t)
{
    hoist_services *s = t->s;
    if (t->prev)
        t->prev->next = t->next;
    else
        s->timers = t->next;
    if (t->next)
        t->next->prev = t->prev;
    s->n_timers--;
    s->closing_timers++;
    uv_timer_stop(&t->handle);
    uv_close((uv_handle_t *)&t->handle, on_timer_closed);
}

static void on_timer_fired(uv_timer_t *handle)
{
    hoist_timer *t = handle->data;
    hoist_timer_cb cb = t->cb;
    void *arg = t->arg;
    timer_release(t); /* the handle is invalid for the plugin from here on */
    cb(arg);
}

static hoist_timer *host_timer_start(void *ctx, uint64_t delay_ms, hoist_timer_cb cb, void *arg)
{
    hoist_services *s = ctx;
    if (s->closed || !cb)
        return NULL;
    hoist_timer *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    if (uv_timer_init(s->loop, &t->handle) != 0) {
        free(t);
        return NULL;
    }
    t->handle.data = t;
    t->s = s;
    t->cb = cb;
    t->arg = arg;
    t->next = s->timers;
    if (s->timers)
        s->timers->prev = t;
    s->timers = t;
    s->n_timers++;
    if (uv_timer_start(&t->handle, on_timer_fired, delay_ms, 0) != 0) {
        timer_release(t);
        return NULL;
    }
    return t;
}

static void host_timer_cancel(void *ctx, hoist_timer *t)
{
    (void)ctx;
    if (t)
        timer_release(t);
}

/* ---- http ---------------------------------------------------------------- */

static hoist_http_call *host_http_request(void *ctx, const hoist_http_request *req,
                                          hoist_http_cb cb, void *arg)
{
    hoist_services *s = ctx;
    hoist_err err = {{0}};
    if (s->closed)
        return NULL;
    hoist_http_call *c = hoist_http_start(s->http, req, cb, arg, &err);
    if (!c)
        hoist_log(s->log, HOIST_LOG_WARN, s->component, "%s", err.msg);
    return c;
}

static void host_http_cancel(void *ctx, hoist_http_call *call)
{
    hoist_services *s = ctx;
    hoist_http_cancel(s->http, call);
}

/* ---- metrics ------------------------------------------------------------- */

/* "hoist_provider_<name>" into buf; false (and a warning) when it does not fit. */
static bool metric_name(hoist_services *s, const char *name, char *buf, size_t size)
{
    int n = snprintf(buf, size, "%s%s", HOIST_PROVIDER_METRIC_PREFIX, name ? name : "");
    if (n < 0 || (size_t)n >= size) {
        hoist_log(s->log, HOIST_LOG_WARN, s->component, "metric name too long: %.64s...",
                  name ? name : "");
        return false;
    }
    return true;
}

static void host_counter_add(void *ctx, const char *name, const char *help,
                             const hoist_kv *labels, size_t n_labels, double delta)
{
    hoist_services *s = ctx;
    char full[256];
    hoist_err err = {{0}};
    if (!s->metrics || !metric_name(s, name, full, sizeof full))
        return;
    if (hoist_metrics_counter_add(s->metrics, full, help, labels, n_labels, delta, &err) != 0)
        hoist_log(s->log, HOIST_LOG_WARN, s->component, "%s", err.msg);
}

static void host_gauge_set(void *ctx, const char *name, const char *help,
                           const hoist_kv *labels, size_t n_labels, double value)
{
    hoist_services *s = ctx;
    char full[256];
    hoist_err err = {{0}};
    if (!s->metrics || !metric_name(s, name, full, sizeof full))
        return;
    if (hoist_metrics_gauge_set(s->metrics, full, help, labels, n_labels, value, &err) != 0)
        hoist_log(s->log, HOIST_LOG_WARN, s->component, "%s", err.msg);
}

/* ---- lifecycle ----------------------------------------------------------- */

hoist_services *hoist_services_new(uv_loop_t *loop, const hoist_logger *log,
                                   hoist_metrics *metrics, const char *name, hoist_err *err)
{
    if (!loop) {
        hoist_errf(err, "host: no event loop");
        return NULL;
    }
    hoist_services *s = calloc(1, sizeof *s);
    if (!s) {
        hoist_errf(err, "host: out of memory");
        return NULL;
    }
    size_t len = strlen("provider/") + strlen(name ? name : "plugin") + 1;
    s->component = malloc(len);
    if (!s->component) {
        free(s);
        hoist_errf(err, "host: out of memory");
        return NULL;
    }
    snprintf(s->component, len, "provider/%s", name ? name : "plugin");
    s->http = hoist_http_new(loop, log, err);
    if (!s->http) {
        free(s->component);
        free(s);
        return NULL;
    }
    s->loop = loop;
    s->log = log;
    s->metrics = metrics;
    s->host.abi_version = HOIST_HOST_ABI_VERSION;
    s->host.size = (uint32_t)sizeof(hoist_host);
    s->host.ctx = s;
    s->host.log = host_log;
    s->host.now_ms = host_now_ms;
    s->host.timer_start = host_timer_start;
    s->host.timer_cancel = host_timer_cancel;
    s->host.http_request = host_http_request;
    s->host.http_cancel = host_http_cancel;
    s->host.metric_counter_add = host_counter_add;
    s->host.metric_gauge_set = host_gauge_set;
    return s;
}

const hoist_host *hoist_services_host(const hoist_services *s)
{
    return &s->host;
}

hoist_http *hoist_services_http(hoist_services *s)
{
    return s->http;
}

size_t hoist_services_timers_active(const hoist_services *s)
{
    return s->n_timers;
}

void hoist_services_close(hoist_services *s)
{
    if (!s || s->closed)
        return;
    s->closed = true;
    while (s->timers)
        timer_release(s->timers);
    hoist_http_close(s->http);
    s->http = NULL;
    maybe_free(s);
}
