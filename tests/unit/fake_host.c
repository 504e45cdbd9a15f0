/*
 * fake_host.c - a virtual-time hoist_host for tests (see fake_host.h).
 */
#include "fake_host.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct hoist_timer {
    uint64_t due;
    uint64_t seq;
    size_t heap_index;
    hoist_timer_cb cb;
    void *arg;
};

typedef struct counter {
    char name[96];
    double sum;
} counter;

struct fake_host {
    hoist_host api;
    uint64_t now;
    uint64_t seq;
    hoist_timer **heap;
    size_t n_heap, cap_heap;
    char *log;
    size_t log_len, log_cap;
    counter counters[64];
    size_t n_counters;
};

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (!q) {
        fprintf(stderr, "fake_host: out of memory\n");
        abort();
    }
    return q;
}

/* ---- the heap ---- */

static int timer_before(const hoist_timer *a, const hoist_timer *b)
{
    return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

static void heap_set(fake_host *fh, size_t i, hoist_timer *t)
{
    fh->heap[i] = t;
    t->heap_index = i;
}

static void sift_up(fake_host *fh, size_t i)
{
    hoist_timer *t = fh->heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!timer_before(t, fh->heap[parent]))
            break;
        heap_set(fh, i, fh->heap[parent]);
        i = parent;
    }
    heap_set(fh, i, t);
}

static void sift_down(fake_host *fh, size_t i)
{
    hoist_timer *t = fh->heap[i];
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, best = i;
        const hoist_timer *bt = t;
        if (l < fh->n_heap && timer_before(fh->heap[l], bt)) {
            best = l;
            bt = fh->heap[l];
        }
        if (r < fh->n_heap && timer_before(fh->heap[r], bt))
            best = r;
        if (best == i)
            break;
        heap_set(fh, i, fh->heap[best]);
        i = best;
    }
    heap_set(fh, i, t);
}

static void heap_remove(fake_host *fh, hoist_timer *t)
{
    size_t i = t->heap_index;
    hoist_timer *last = fh->heap[--fh->n_heap];
    if (i == fh->n_heap)
        return;
    heap_set(fh, i, last);
    sift_up(fh, i);
    sift_down(fh, last->heap_index);
}

/* ---- host services ---- */

static void fh_log(void *ctx, hoist_log_level level, const char *fmt, ...)
{
    static const char *const names[] = {"ERROR", "WARN", "INFO", "DEBUG"};
    fake_host *fh = ctx;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    const char *lv = (unsigned)level < 4 ? names[level] : "?";
    size_t need = fh->log_len + strlen(lv) + strlen(line) + 3;
    if (need > fh->log_cap) {
        fh->log_cap = need * 2;
        fh->log = xrealloc(fh->log, fh->log_cap);
    }
    fh->log_len += (size_t)sprintf(fh->log + fh->log_len, "%s %s\n", lv, line);
}

static uint64_t fh_now(void *ctx)
{
    return ((fake_host *)ctx)->now;
}

static hoist_timer *fh_timer_start(void *ctx, uint64_t delay_ms, hoist_timer_cb cb, void *arg)
{
    fake_host *fh = ctx;
    hoist_timer *t = malloc(sizeof *t);
    if (!t)
        return NULL;
    t->due = delay_ms > UINT64_MAX - fh->now ? UINT64_MAX : fh->now + delay_ms;
    t->seq = fh->seq++;
    t->cb = cb;
    t->arg = arg;
    if (fh->n_heap == fh->cap_heap) {
        fh->cap_heap = fh->cap_heap ? fh->cap_heap * 2 : 64;
        fh->heap = xrealloc(fh->heap, fh->cap_heap * sizeof *fh->heap);
    }
    heap_set(fh, fh->n_heap++, t);
    sift_up(fh, t->heap_index);
    return t;
}

static void fh_timer_cancel(void *ctx, hoist_timer *t)
{
    fake_host *fh = ctx;
    if (!t)
        return;
    heap_remove(fh, t);
    free(t);
}

static hoist_http_call *fh_http_request(void *ctx, const hoist_http_request *req,
                                        hoist_http_cb cb, void *arg)
{
    (void)ctx;
    (void)req;
    (void)cb;
    (void)arg;
    return NULL;
}

static void fh_http_cancel(void *ctx, hoist_http_call *call)
{
    (void)ctx;
    (void)call;
}

static void fh_counter_add(void *ctx, const char *name, const char *help, const hoist_kv *labels,
                           size_t n_labels, double delta)
{
    fake_host *fh = ctx;
    (void)help;
    (void)labels;
    (void)n_labels;
    for (size_t i = 0; i < fh->n_counters; i++)
        if (strcmp(fh->counters[i].name, name) == 0) {
            fh->counters[i].sum += delta;
            return;
        }
    if (fh->n_counters < sizeof fh->counters / sizeof fh->counters[0]) {
        counter *c = &fh->counters[fh->n_counters++];
        snprintf(c->name, sizeof c->name, "%s", name);
        c->sum = delta;
    }
}

static void fh_gauge_set(void *ctx, const char *name, const char *help, const hoist_kv *labels,
                         size_t n_labels, double value)
{
    (void)ctx;
    (void)name;
    (void)help;
    (void)labels;
    (void)n_labels;
    (void)value;
}

/* ---- public ---- */

fake_host *fake_host_new(uint64_t start_ms)
{
    fake_host *fh = calloc(1, sizeof *fh);
    if (!fh) {
        fprintf(stderr, "fake_host: out of memory\n");
        abort();
    }
    fh->now = start_ms;
    fh->api.abi_version = HOIST_HOST_ABI_VERSION;
    fh->api.size = sizeof(hoist_host);
    fh->api.ctx = fh;
    fh->api.log = fh_log;
    fh->api.now_ms = fh_now;
    fh->api.timer_start = fh_timer_start;
    fh->api.timer_cancel = fh_timer_cancel;
    fh->api.http_request = fh_http_request;
    fh->api.http_cancel = fh_http_cancel;
    fh->api.metric_counter_add = fh_counter_add;
    fh->api.metric_gauge_set = fh_gauge_set;
    fh->log = xrealloc(NULL, 1);
    fh->log[0] = '\0';
    fh->log_cap = 1;
    return fh;
}

void fake_host_free(fake_host *fh)
{
    if (!fh)
        return;
    for (size_t i = 0; i < fh->n_heap; i++)
        free(fh->heap[i]);
    free(fh->heap);
    free(fh->log);
    free(fh);
}

const hoist_host *fake_host_api(fake_host *fh)
{
    return &fh->api;
}

uint64_t fake_host_now(const fake_host *fh)
{
    return fh->now;
}

/* Pop and fire the earliest timer. */
static void fire_first(fake_host *fh)
{
    hoist_timer *t = fh->heap[0];
    heap_remove(fh, t);
    if (t->due > fh->now)
        fh->now = t->due;
    hoist_timer_cb cb = t->cb;
    void *arg = t->arg;
    free(t);
    cb(arg);
}

size_t fake_host_run_until(fake_host *fh, uint64_t ms)
{
    size_t fired = 0;
    while (fh->n_heap > 0 && fh->heap[0]->due <= ms) {
        fire_first(fh);
        fired++;
    }
    if (ms > fh->now)
        fh->now = ms;
    return fired;
}

size_t fake_host_advance(fake_host *fh, uint64_t delta_ms)
{
    uint64_t to = delta_ms > UINT64_MAX - fh->now ? UINT64_MAX : fh->now + delta_ms;
    return fake_host_run_until(fh, to);
}

size_t fake_host_run_all(fake_host *fh, size_t limit)
{
    size_t fired = 0;
    while (fh->n_heap > 0 && fired < limit) {
        fire_first(fh);
        fired++;
    }
    return fired;
}

size_t fake_host_pending(const fake_host *fh)
{
    return fh->n_heap;
}

uint64_t fake_host_next_due(const fake_host *fh)
{
    return fh->n_heap ? fh->heap[0]->due : UINT64_MAX;
}

const char *fake_host_log(const fake_host *fh)
{
    return fh->log;
}

void fake_host_log_clear(fake_host *fh)
{
    fh->log_len = 0;
    fh->log[0] = '\0';
}

double fake_host_counter(const fake_host *fh, const char *name)
{
    for (size_t i = 0; i < fh->n_counters; i++)
        if (strcmp(fh->counters[i].name, name) == 0)
            return fh->counters[i].sum;
    return 0.0;
}
