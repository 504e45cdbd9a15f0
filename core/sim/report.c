/* sim/report.c - a simulation run's report: accumulation, summary, JSON,
 * comparison and the text table; see report.h. The HTML page is in
 * report_html.c. */
#include "sim/report.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/arena.h"
#include "util/strmap.h"

#define MS_PER_HOUR 3600000.0
#define BYTES_PER_GIB 1073741824.0

enum { POD_PENDING = 0, POD_BOUND, POD_DELETED };

typedef struct pod_rec {
    const char *key;            /* in r->keys */
    int64_t cpu_m;              /* millicores */
    int64_t mem;                /* bytes */
    uint64_t since;             /* start of the current pending spell */
    unsigned char state;        /* POD_* */
    bool ever_bound;
} pod_rec;

typedef struct node_rec {
    const char *key;            /* in r->keys */
    uint32_t group[3];          /* index in r->groups[G_*] */
    double price;               /* USD/h */
    int64_t price_nano;         /* nano-USD/h, for the running cost rate */
    int64_t cpu_m, mem;         /* allocatable */
    uint64_t launched;
    bool alive, ready;
} node_rec;

/* A breakdown row: one NodePool, instance type or capacity type. */
typedef struct group_rec {
    const char *name;           /* in r->keys */
    size_t launched, terminated, interrupted, alive, peak;
    double machine_hours, cost;
} group_rec;

enum { G_POOL = 0, G_TYPE, G_CAPACITY, N_GROUPS };

typedef struct group_table {
    hoist_strmap index;         /* name -> position in rows */
    group_rec *rows;
    size_t n, cap;
} group_table;

struct hoist_report {
    char *name;                 /* malloc */
    uint64_t start_ms, step_ms;
    uint64_t now;               /* the latest event time */
    uint64_t next_sample;       /* time of the next sample to take */
    bool finished;

    hoist_arena keys;           /* every key and group name */
    hoist_strmap pod_index, node_index;
    pod_rec *pods;
    size_t n_pods, cap_pods;
    node_rec *nodes;
    size_t n_nodes, cap_nodes;
    group_table groups[N_GROUPS];

    /* running totals */
    int64_t bound_cpu_m, bound_mem, ready_cpu_m, ready_mem, cost_rate_nano;
    size_t pods_pending, pods_bound, nodes_alive, nodes_ready;
    /* integrals over time (unit x ms) */
    double int_bound_cpu, int_bound_mem, int_ready_cpu, int_ready_mem;

    /* counters */
    size_t pods_added, pods_scheduled, pods_deleted, pods_evicted;
    size_t pods_deleted_while_pending, pods_deleted_never_scheduled;
    size_t nodes_launched, nodes_terminated, nodes_interrupted, nodes_peak;
    uint64_t ignored;
    double cost, machine_hours;

    uint64_t *spells;           /* pending spells that ended in a bind, ms */
    size_t n_spells, cap_spells;

    hoist_report_sample *samples;
    size_t n_samples, cap_samples;

    hoist_report_summary summary;   /* filled by finish */
};

/* ---- small helpers ------------------------------------------------------ */

/* Grow *p (elements of size) so that it holds at least need; 0 or -1. */
static int grow(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap : 16;
    while (c < need) {
        if (c > SIZE_MAX / 2 / size)
            return -1;
        c *= 2;
    }
    void *q = realloc(*p, c * size);
    if (!q)
        return -1;
    *p = q;
    *cap = c;
    return 0;
}

/* A request or price as given, or 0 when negative or not finite. */
static double sane(double x)
{
    return isfinite(x) && x > 0 ? x : 0;
}

static int64_t to_int(double x, double scale)
{
    double v = sane(x) * scale;
    return v >= 9.0e18 ? INT64_MAX / 4 : (int64_t)llround(v);
}

/* x rounded to 1/scale (scale a power of ten), never -0. */
static double round_to(double x, double scale)
{
    return round(x * scale) / scale + 0.0;
}

static double ratio_or_zero(double num, double den)
{
    return den > 0 ? num / den : 0;
}

/* ---- the report --------------------------------------------------------- */

hoist_report *hoist_report_new(const hoist_report_config *cfg)
{
    hoist_report *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->name = strdup(cfg && cfg->name ? cfg->name : "run");
    if (!r->name) {
        free(r);
        return NULL;
    }
    r->start_ms = cfg ? cfg->start_ms : 0;
    r->step_ms = cfg && cfg->step_ms ? cfg->step_ms : HOIST_REPORT_STEP_MS_DEFAULT;
    r->now = r->start_ms;
    r->next_sample = r->start_ms;
    hoist_arena_init(&r->keys, 0);
    hoist_strmap_init(&r->pod_index);
    hoist_strmap_init(&r->node_index);
    for (int g = 0; g < N_GROUPS; g++)
        hoist_strmap_init(&r->groups[g].index);
    return r;
}

void hoist_report_free(hoist_report *r)
{
    if (!r)
        return;
    for (int g = 0; g < N_GROUPS; g++) {
        hoist_strmap_free(&r->groups[g].index);
        free(r->groups[g].rows);
    }
    hoist_strmap_free(&r->pod_index);
    hoist_strmap_free(&r->node_index);
    hoist_arena_free(&r->keys);
    free(r->pods);
    free(r->nodes);
    free(r->spells);
    free(r->samples);
    free(r->name);
    free(r);
}

const char *hoist_report_name(const hoist_report *r)
{
    return r->name;
}

/* The state now as a sample at time t. */
static void take_sample(hoist_report *r, uint64_t t)
{
    if (grow((void **)&r->samples, &r->cap_samples, r->n_samples + 1, sizeof *r->samples) < 0) {
        r->ignored++;
        return;
    }
    hoist_report_sample *s = &r->samples[r->n_samples++];
    s->t_ms = t;
    s->nodes = r->nodes_alive;
    s->nodes_ready = r->nodes_ready;
    s->pods_pending = r->pods_pending;
    s->pods_bound = r->pods_bound;
    s->cost_rate = (double)r->cost_rate_nano / 1e9;
    s->cpu_utilization = ratio_or_zero((double)r->bound_cpu_m, (double)r->ready_cpu_m);
    s->memory_utilization = ratio_or_zero((double)r->bound_mem, (double)r->ready_mem);
}

/* Move the clock to t: take the samples at times < t (the state holds
 * every event <= them), integrate the running totals over [now, t).
 * Returns false when the report is finished (the event is ignored). */
static bool advance(hoist_report *r, uint64_t t)
{
    if (r->finished) {
        r->ignored++;
        return false;
    }
    if (t <= r->now)
        return true;
    while (r->next_sample < t) {
        take_sample(r, r->next_sample);
        if (r->next_sample > UINT64_MAX - r->step_ms)
            break;
        r->next_sample += r->step_ms;
    }
    double dt = (double)(t - r->now);
    r->int_bound_cpu += (double)r->bound_cpu_m * dt;
    r->int_bound_mem += (double)r->bound_mem * dt;
    r->int_ready_cpu += (double)r->ready_cpu_m * dt;
    r->int_ready_mem += (double)r->ready_mem * dt;
    r->now = t;
    return true;
}

/* Copy of key in the key arena, or NULL when out of memory. */
static const char *own_key(hoist_report *r, const char *key)
{
    return hoist_arena_strdup(&r->keys, key);
}

static pod_rec *find_pod(hoist_report *r, const char *key)
{
    int64_t i;
    if (!key || !hoist_strmap_get(&r->pod_index, key, &i))
        return NULL;
    return &r->pods[i];
}

static node_rec *find_node(hoist_report *r, const char *key)
{
    int64_t i;
    if (!key || !hoist_strmap_get(&r->node_index, key, &i))
        return NULL;
    return &r->nodes[i];
}

/* The row of name in group table g (created on first use); UINT32_MAX when
 * out of memory. */
static uint32_t group_of(hoist_report *r, int g, const char *name)
{
    group_table *gt = &r->groups[g];
    int64_t i;
    if (!name)
        name = "";
    if (hoist_strmap_get(&gt->index, name, &i))
        return (uint32_t)i;
    if (gt->n >= UINT32_MAX - 1 ||
        grow((void **)&gt->rows, &gt->cap, gt->n + 1, sizeof *gt->rows) < 0)
        return UINT32_MAX;
    const char *owned = own_key(r, name);
    if (!owned || hoist_strmap_put(&gt->index, owned, (int64_t)gt->n) < 0)
        return UINT32_MAX;
    group_rec *row = &gt->rows[gt->n];
    memset(row, 0, sizeof *row);
    row->name = owned;
    return (uint32_t)gt->n++;
}

/* ---- pod events --------------------------------------------------------- */

void hoist_report_pod_added(hoist_report *r, uint64_t t, const char *key, double cpu,
                            double memory)
{
    if (!advance(r, t))
        return;
    if (!key) {
        r->ignored++;
        return;
    }
    pod_rec *p = find_pod(r, key);
    if (p && p->state != POD_DELETED) {
        r->ignored++;
        return;
    }
    if (!p) {
        if (grow((void **)&r->pods, &r->cap_pods, r->n_pods + 1, sizeof *r->pods) < 0) {
            r->ignored++;
            return;
        }
        const char *owned = own_key(r, key);
        if (!owned || hoist_strmap_put(&r->pod_index, owned, (int64_t)r->n_pods) < 0) {
            r->ignored++;
            return;
        }
        p = &r->pods[r->n_pods++];
        p->key = owned;
    }
    p->cpu_m = to_int(cpu, 1000.0);
    p->mem = to_int(memory, 1.0);
    p->since = r->now;
    p->state = POD_PENDING;
    p->ever_bound = false;
    r->pods_added++;
    r->pods_pending++;
}

void hoist_report_pod_bound(hoist_report *r, uint64_t t, const char *key, const char *node)
{
    (void)node;
    if (!advance(r, t))
        return;
    pod_rec *p = find_pod(r, key);
    if (!p || p->state != POD_PENDING) {
        r->ignored++;
        return;
    }
    if (grow((void **)&r->spells, &r->cap_spells, r->n_spells + 1, sizeof *r->spells) < 0) {
        r->ignored++;
        return;
    }
    r->spells[r->n_spells++] = r->now - p->since;
    p->state = POD_BOUND;
    if (!p->ever_bound) {
        p->ever_bound = true;
        r->pods_scheduled++;
    }
    r->pods_pending--;
    r->pods_bound++;
    r->bound_cpu_m += p->cpu_m;
    r->bound_mem += p->mem;
}

void hoist_report_pod_evicted(hoist_report *r, uint64_t t, const char *key)
{
    if (!advance(r, t))
        return;
    pod_rec *p = find_pod(r, key);
    if (!p || p->state != POD_BOUND) {
        r->ignored++;
        return;
    }
    p->state = POD_PENDING;
    p->since = r->now;
    r->pods_bound--;
    r->pods_pending++;
    r->bound_cpu_m -= p->cpu_m;
    r->bound_mem -= p->mem;
    r->pods_evicted++;
}

void hoist_report_pod_deleted(hoist_report *r, uint64_t t, const char *key)
{
    if (!advance(r, t))
        return;
    pod_rec *p = find_pod(r, key);
    if (!p || p->state == POD_DELETED) {
        r->ignored++;
        return;
    }
    if (p->state == POD_BOUND) {
        r->pods_bound--;
        r->bound_cpu_m -= p->cpu_m;
        r->bound_mem -= p->mem;
    } else {
        r->pods_pending--;
        r->pods_deleted_while_pending++;
        if (!p->ever_bound)
            r->pods_deleted_never_scheduled++;
    }
    p->state = POD_DELETED;
    r->pods_deleted++;
}

/* ---- machine events ----------------------------------------------------- */

void hoist_report_node_launched(hoist_report *r, uint64_t t, const char *node,
                                const char *nodepool, const char *instance_type,
                                const char *capacity_type, double price, double alloc_cpu,
                                double alloc_memory)
{
    if (!advance(r, t))
        return;
    if (!node) {
        r->ignored++;
        return;
    }
    node_rec *n = find_node(r, node);
    if (n && n->alive) {
        r->ignored++;
        return;
    }
    uint32_t g[3] = {group_of(r, G_POOL, nodepool), group_of(r, G_TYPE, instance_type),
                     group_of(r, G_CAPACITY, capacity_type)};
    if (g[0] == UINT32_MAX || g[1] == UINT32_MAX || g[2] == UINT32_MAX) {
        r->ignored++;
        return;
    }
    if (!n) {
        if (grow((void **)&r->nodes, &r->cap_nodes, r->n_nodes + 1, sizeof *r->nodes) < 0) {
            r->ignored++;
            return;
        }
        const char *owned = own_key(r, node);
        if (!owned || hoist_strmap_put(&r->node_index, owned, (int64_t)r->n_nodes) < 0) {
            r->ignored++;
            return;
        }
        n = &r->nodes[r->n_nodes++];
        n->key = owned;
    }
    memcpy(n->group, g, sizeof g);
    n->price = sane(price);
    n->price_nano = to_int(price, 1e9);
    n->cpu_m = to_int(alloc_cpu, 1000.0);
    n->mem = to_int(alloc_memory, 1.0);
    n->launched = r->now;
    n->alive = true;
    n->ready = false;
    r->nodes_launched++;
    r->nodes_alive++;
    if (r->nodes_alive > r->nodes_peak)
        r->nodes_peak = r->nodes_alive;
    r->cost_rate_nano += n->price_nano;
    for (int i = 0; i < N_GROUPS; i++) {
        group_rec *row = &r->groups[i].rows[g[i]];
        row->launched++;
        row->alive++;
        if (row->alive > row->peak)
            row->peak = row->alive;
    }
}

void hoist_report_node_ready(hoist_report *r, uint64_t t, const char *node)
{
    if (!advance(r, t))
        return;
    node_rec *n = find_node(r, node);
    if (!n || !n->alive || n->ready) {
        r->ignored++;
        return;
    }
    n->ready = true;
    r->nodes_ready++;
    r->ready_cpu_m += n->cpu_m;
    r->ready_mem += n->mem;
}

/* Bill n from its launch to end. */
static void bill(hoist_report *r, node_rec *n, uint64_t end)
{
    double hours = (double)(end - n->launched) / MS_PER_HOUR;
    double cost = n->price * hours;
    r->cost += cost;
    r->machine_hours += hours;
    for (int i = 0; i < N_GROUPS; i++) {
        group_rec *row = &r->groups[i].rows[n->group[i]];
        row->cost += cost;
        row->machine_hours += hours;
    }
}

void hoist_report_node_terminated(hoist_report *r, uint64_t t, const char *node,
                                  bool interrupted)
{
    if (!advance(r, t))
        return;
    node_rec *n = find_node(r, node);
    if (!n || !n->alive) {
        r->ignored++;
        return;
    }
    bill(r, n, r->now);
    if (n->ready) {
        r->nodes_ready--;
        r->ready_cpu_m -= n->cpu_m;
        r->ready_mem -= n->mem;
    }
    n->alive = false;
    n->ready = false;
    r->nodes_alive--;
    r->nodes_terminated++;
    if (interrupted)
        r->nodes_interrupted++;
    r->cost_rate_nano -= n->price_nano;
    for (int i = 0; i < N_GROUPS; i++) {
        group_rec *row = &r->groups[i].rows[n->group[i]];
        row->alive--;
        row->terminated++;
        if (interrupted)
            row->interrupted++;
    }
}

/* ---- finish and summary ------------------------------------------------- */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile p (1..100) of the sorted spells, in seconds. */
static double percentile_s(const uint64_t *sorted, size_t n, unsigned p)
{
    if (n == 0)
        return 0;
    size_t rank = (p * n + 99) / 100;    /* ceil(p/100 x n) */
    if (rank < 1)
        rank = 1;
    return (double)sorted[rank - 1] / 1000.0;
}

void hoist_report_finish(hoist_report *r, uint64_t t_end)
{
    if (r->finished)
        return;
    if (t_end < r->now)
        t_end = r->now;
    advance(r, t_end);
    while (r->next_sample <= t_end) {
        take_sample(r, r->next_sample);
        if (r->next_sample > UINT64_MAX - r->step_ms)
            break;
        r->next_sample += r->step_ms;
    }
    r->finished = true;

    for (size_t i = 0; i < r->n_nodes; i++)
        if (r->nodes[i].alive)
            bill(r, &r->nodes[i], t_end);

    hoist_report_summary *s = &r->summary;
    memset(s, 0, sizeof *s);
    s->cost = r->cost;
    s->machine_hours = r->machine_hours;
    s->requested_vcpu_hours = r->int_bound_cpu / 1000.0 / MS_PER_HOUR;
    s->requested_memory_gib_hours = r->int_bound_mem / BYTES_PER_GIB / MS_PER_HOUR;
    s->cost_per_vcpu_hour = s->requested_vcpu_hours > 0 ? s->cost / s->requested_vcpu_hours : 0;
    s->pods_added = r->pods_added;
    s->pods_scheduled = r->pods_scheduled;
    s->pods_deleted = r->pods_deleted;
    s->pods_evicted = r->pods_evicted;
    s->pods_deleted_while_pending = r->pods_deleted_while_pending;
    s->pods_deleted_never_scheduled = r->pods_deleted_never_scheduled;
    s->pods_pending_at_end = r->pods_pending;
    uint64_t longest = 0;
    for (size_t i = 0; i < r->n_pods; i++) {
        const pod_rec *p = &r->pods[i];
        if (p->state != POD_PENDING)
            continue;
        if (!p->ever_bound)
            s->pods_never_scheduled++;
        if (t_end - p->since > longest)
            longest = t_end - p->since;
    }
    s->longest_pending_at_end_s = (double)longest / 1000.0;

    if (r->n_spells)
        qsort(r->spells, r->n_spells, sizeof *r->spells, cmp_u64);
    s->pending_spells = r->n_spells;
    s->pending_p50_s = percentile_s(r->spells, r->n_spells, 50);
    s->pending_p95_s = percentile_s(r->spells, r->n_spells, 95);
    s->pending_p99_s = percentile_s(r->spells, r->n_spells, 99);
    s->pending_max_s = percentile_s(r->spells, r->n_spells, 100);

    s->nodes_launched = r->nodes_launched;
    s->nodes_terminated = r->nodes_terminated;
    s->nodes_interrupted = r->nodes_interrupted;
    s->nodes_peak = r->nodes_peak;
    s->nodes_at_end = r->nodes_alive;
    s->cpu_utilization = ratio_or_zero(r->int_bound_cpu, r->int_ready_cpu);
    s->memory_utilization = ratio_or_zero(r->int_bound_mem, r->int_ready_mem);
    s->ignored = r->ignored;
    s->duration_s = (double)(t_end - r->start_ms) / 1000.0;
}

void hoist_report_get_summary(const hoist_report *r, hoist_report_summary *out)
{
    *out = r->summary;
    out->ignored = r->ignored;
}

const hoist_report_sample *hoist_report_series(const hoist_report *r, size_t *n,
                                               uint64_t *step_ms)
{
    *n = r->n_samples;
    if (step_ms)
        *step_ms = r->step_ms;
    return r->samples;
}

/* ---- metrics ------------------------------------------------------------ */

#define D(field) offsetof(hoist_report_summary, field), false
#define C(field) offsetof(hoist_report_summary, field), true

static const hoist_report_metric metrics[] = {
    {"cost", "cost", HOIST_REPORT_UNIT_USD, true, D(cost)},
    {"cost_per_vcpu_hour", "$ per requested vCPU-h", HOIST_REPORT_UNIT_USD_RATE, true,
     D(cost_per_vcpu_hour)},
    {"pods_scheduled", "pods scheduled", HOIST_REPORT_UNIT_COUNT, false, C(pods_scheduled)},
    {"pods_never_scheduled", "pods never scheduled", HOIST_REPORT_UNIT_COUNT, false,
     C(pods_never_scheduled)},
    {"pending_p50_s", "pending p50", HOIST_REPORT_UNIT_SECONDS, true, D(pending_p50_s)},
    {"pending_p95_s", "pending p95", HOIST_REPORT_UNIT_SECONDS, true, D(pending_p95_s)},
    {"pending_p99_s", "pending p99", HOIST_REPORT_UNIT_SECONDS, true, D(pending_p99_s)},
    {"pending_max_s", "pending max", HOIST_REPORT_UNIT_SECONDS, false, D(pending_max_s)},
    {"nodes_launched", "nodes launched", HOIST_REPORT_UNIT_COUNT, true, C(nodes_launched)},
    {"nodes_peak", "nodes peak", HOIST_REPORT_UNIT_COUNT, true, C(nodes_peak)},
    {"cpu_utilization", "CPU utilization", HOIST_REPORT_UNIT_FRACTION, true,
     D(cpu_utilization)},
    {"memory_utilization", "memory utilization", HOIST_REPORT_UNIT_FRACTION, false,
     D(memory_utilization)},
    {"pods_evicted", "pods evicted", HOIST_REPORT_UNIT_COUNT, false, C(pods_evicted)},
};

#undef D
#undef C

const hoist_report_metric *hoist_report_metrics(size_t *n)
{
    *n = sizeof metrics / sizeof metrics[0];
    return metrics;
}

double hoist_report_metric_value(const hoist_report_metric *m, const hoist_report_summary *s)
{
    const char *base = (const char *)s + m->offset;
    if (m->is_count) {
        size_t v;
        memcpy(&v, base, sizeof v);
        return (double)v;
    }
    double v;
    memcpy(&v, base, sizeof v);
    return v;
}

void hoist_report_format_value(const hoist_report_metric *m, double v, char *buf, size_t cap)
{
    switch (m->unit) {
    case HOIST_REPORT_UNIT_USD:
        snprintf(buf, cap, "$%.6f", round_to(v, 1e6));
        break;
    case HOIST_REPORT_UNIT_USD_RATE:
        snprintf(buf, cap, "$%.6f", round_to(v, 1e6));
        break;
    case HOIST_REPORT_UNIT_COUNT:
        snprintf(buf, cap, "%.0f", v);
        break;
    case HOIST_REPORT_UNIT_SECONDS:
        snprintf(buf, cap, "%.3f s", round_to(v, 1e3));
        break;
    case HOIST_REPORT_UNIT_FRACTION:
        snprintf(buf, cap, "%.1f %%", round_to(v * 100.0, 10.0));
        break;
    }
}

/* ---- JSON --------------------------------------------------------------- */

/* Set o[key] = v (stolen); false when v is NULL or the set fails. */
static bool put(json_t *o, const char *key, json_t *v)
{
    return v && json_object_set_new(o, key, v) == 0;
}

static bool put_real(json_t *o, const char *key, double v, double scale)
{
    return put(o, key, json_real(round_to(v, scale)));
}

static bool put_count(json_t *o, const char *key, uint64_t v)
{
    return put(o, key, json_integer((json_int_t)v));
}

static json_t *summary_json(const hoist_report_summary *s)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    bool ok = put_real(o, "cost", s->cost, 1e6) &&
              put_real(o, "requested_vcpu_hours", s->requested_vcpu_hours, 1e6) &&
              put_real(o, "requested_memory_gib_hours", s->requested_memory_gib_hours, 1e6) &&
              put_real(o, "cost_per_vcpu_hour", s->cost_per_vcpu_hour, 1e6) &&
              put_count(o, "pods_added", s->pods_added) &&
              put_count(o, "pods_scheduled", s->pods_scheduled) &&
              put_count(o, "pods_never_scheduled", s->pods_never_scheduled) &&
              put_count(o, "pods_deleted", s->pods_deleted) &&
              put_count(o, "pods_deleted_while_pending", s->pods_deleted_while_pending) &&
              put_count(o, "pods_deleted_never_scheduled", s->pods_deleted_never_scheduled) &&
              put_count(o, "pods_evicted", s->pods_evicted) &&
              put_count(o, "pods_pending_at_end", s->pods_pending_at_end) &&
              put_real(o, "longest_pending_at_end_s", s->longest_pending_at_end_s, 1e3) &&
              put_count(o, "pending_spells", s->pending_spells) &&
              put_real(o, "pending_p50_s", s->pending_p50_s, 1e3) &&
              put_real(o, "pending_p95_s", s->pending_p95_s, 1e3) &&
              put_real(o, "pending_p99_s", s->pending_p99_s, 1e3) &&
              put_real(o, "pending_max_s", s->pending_max_s, 1e3) &&
              put_count(o, "nodes_launched", s->nodes_launched) &&
              put_count(o, "nodes_terminated", s->nodes_terminated) &&
              put_count(o, "nodes_interrupted", s->nodes_interrupted) &&
              put_count(o, "nodes_peak", s->nodes_peak) &&
              put_count(o, "nodes_at_end", s->nodes_at_end) &&
              put_real(o, "cpu_utilization", s->cpu_utilization, 1e6) &&
              put_real(o, "memory_utilization", s->memory_utilization, 1e6) &&
              put_real(o, "machine_hours", s->machine_hours, 1e6) &&
              put_count(o, "ignored", s->ignored) &&
              put_real(o, "duration_s", s->duration_s, 1e3);
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *groups_json(const group_table *gt, bool with_peak)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    for (size_t i = 0; i < gt->n; i++) {
        const group_rec *g = &gt->rows[i];
        json_t *row = json_object();
        if (!put(o, g->name, row) || !put_count(row, "launched", g->launched) ||
            !put_count(row, "terminated", g->terminated) ||
            !put_count(row, "interrupted", g->interrupted) ||
            !put_real(row, "machine_hours", g->machine_hours, 1e6) ||
            !put_real(row, "cost", g->cost, 1e6) ||
            (with_peak && !put_count(row, "peak", g->peak))) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

static json_t *series_json(const hoist_report *r)
{
    static const char *const keys[] = {"t", "nodes", "nodesReady", "podsPending", "podsBound",
                                       "costRate", "cpuUtilization", "memoryUtilization"};
    enum { NK = sizeof keys / sizeof keys[0] };
    json_t *o = json_object();
    json_t *arr[NK];
    bool ok = o && put_real(o, "startSeconds", (double)r->start_ms / 1000.0, 1e3) &&
              put_real(o, "stepSeconds", (double)r->step_ms / 1000.0, 1e3);
    for (size_t k = 0; k < NK; k++) {
        arr[k] = ok ? json_array() : NULL;
        ok = ok && put(o, keys[k], arr[k]);
    }
    for (size_t i = 0; ok && i < r->n_samples; i++) {
        const hoist_report_sample *s = &r->samples[i];
        json_t *v[NK] = {
            json_real(round_to((double)(s->t_ms - r->start_ms) / 1000.0, 1e3)),
            json_integer((json_int_t)s->nodes),
            json_integer((json_int_t)s->nodes_ready),
            json_integer((json_int_t)s->pods_pending),
            json_integer((json_int_t)s->pods_bound),
            json_real(round_to(s->cost_rate, 1e6)),
            json_real(round_to(s->cpu_utilization, 1e6)),
            json_real(round_to(s->memory_utilization, 1e6)),
        };
        for (size_t k = 0; k < NK; k++)
            if (!v[k] || json_array_append_new(arr[k], v[k]) < 0)
                ok = false;
    }
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *hoist_report_json(const hoist_report *r)
{
    hoist_report_summary s;
    hoist_report_get_summary(r, &s);
    json_t *o = json_object();
    if (!o)
        return NULL;
    if (!put(o, "name", json_string(r->name)) || !put(o, "summary", summary_json(&s)) ||
        !put(o, "nodePools", groups_json(&r->groups[G_POOL], true)) ||
        !put(o, "instanceTypes", groups_json(&r->groups[G_TYPE], false)) ||
        !put(o, "capacityTypes", groups_json(&r->groups[G_CAPACITY], false)) ||
        !put(o, "timeSeries", series_json(r))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* The ratio a / b rounded, or JSON null when b is 0. */
static json_t *ratio_json(double a, double b)
{
    return b != 0 ? json_real(round_to(a / b, 1e6)) : json_null();
}

json_t *hoist_report_compare_json(const hoist_report *const *runs, size_t n)
{
    json_t *o = json_object();
    json_t *list = json_array();
    json_t *cmp = json_object();
    bool ok = o && put(o, "runs", list) && put(o, "comparison", cmp);
    if (!ok) {
        json_decref(list);
        json_decref(cmp);
        json_decref(o);
        return NULL;
    }
    for (size_t i = 0; ok && i < n; i++)
        ok = json_array_append_new(list, hoist_report_json(runs[i])) == 0;
    if (ok && n > 0)
        ok = put(cmp, "baseline", json_string(runs[0]->name));
    size_t nm;
    const hoist_report_metric *m = hoist_report_metrics(&nm);
    for (size_t i = 1; ok && i < n; i++) {
        json_t *row = json_object();
        char key[512];
        bool taken = strcmp(runs[i]->name, "baseline") == 0;
        for (size_t k = 0; k < i && !taken; k++)
            taken = strcmp(runs[k]->name, runs[i]->name) == 0;
        if (taken)
            snprintf(key, sizeof key, "%s#%zu", runs[i]->name, i);
        else
            snprintf(key, sizeof key, "%s", runs[i]->name);
        ok = put(cmp, key, row);
        for (size_t k = 0; ok && k < nm; k++) {
            if (!m[k].compared)
                continue;
            double a = hoist_report_metric_value(&m[k], &runs[i]->summary);
            double b = hoist_report_metric_value(&m[k], &runs[0]->summary);
            ok = put(row, m[k].key, ratio_json(a, b));
        }
    }
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

int hoist_report_write_json(FILE *out, const json_t *j, hoist_err *err)
{
    errno = 0;
    if (json_dumpf(j, out, JSON_SORT_KEYS | JSON_INDENT(2) | JSON_REAL_PRECISION(15)) < 0 ||
        fputc('\n', out) == EOF || fflush(out) == EOF || ferror(out))
        return hoist_errf(err, "writing the report: %s", errno ? strerror(errno) : "I/O error");
    return 0;
}

/* ---- the text table ----------------------------------------------------- */

#define CELL 64

void hoist_report_print_summary(FILE *out, const hoist_report *const *runs, size_t n)
{
    size_t nm;
    const hoist_report_metric *m = hoist_report_metrics(&nm);
    size_t cols = 1 + n + (n > 1 ? n - 1 : 0);
    size_t rows = 1 + nm;
    char(*cell)[CELL] = calloc(rows * cols, CELL);
    size_t *width = calloc(cols, sizeof *width);
    if (!cell || !width) {
        free(cell);
        free(width);
        fputs("(out of memory printing the summary)\n", out);
        return;
    }
#define AT(row, col) cell[(row) * cols + (col)]
    snprintf(AT(0, 0), CELL, "%s", "metric");
    for (size_t i = 0; i < n; i++) {
        snprintf(AT(0, 1 + i), CELL, "%s", runs[i]->name);
        if (i > 0)
            snprintf(AT(0, n + i), CELL, "%s/%s", runs[i]->name, runs[0]->name);
    }
    for (size_t k = 0; k < nm; k++) {
        snprintf(AT(1 + k, 0), CELL, "%s", m[k].label);
        double base = n ? hoist_report_metric_value(&m[k], &runs[0]->summary) : 0;
        for (size_t i = 0; i < n; i++) {
            double v = hoist_report_metric_value(&m[k], &runs[i]->summary);
            hoist_report_format_value(&m[k], v, AT(1 + k, 1 + i), CELL);
            if (i == 0)
                continue;
            if (base != 0)
                snprintf(AT(1 + k, n + i), CELL, "%.3fx", v / base);
            else
                snprintf(AT(1 + k, n + i), CELL, "-");
        }
    }
    for (size_t row = 0; row < rows; row++)
        for (size_t c = 0; c < cols; c++) {
            size_t w = strlen(AT(row, c));
            if (w > width[c])
                width[c] = w;
        }
    for (size_t row = 0; row < rows; row++) {
        for (size_t c = 0; c < cols; c++) {
            int w = (int)width[c];
            if (c == 0)
                fprintf(out, "%-*s", w, AT(row, c));
            else
                fprintf(out, "  %*s", w, AT(row, c));
        }
        fputc('\n', out);
    }
#undef AT
    free(cell);
    free(width);
}
