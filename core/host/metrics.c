/* host/metrics.c - counters and gauges rendered as Prometheus text; see metrics.h. */
#include "host/metrics.h"

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

typedef struct series {
    char *labels;  /* canonical rendering: k1="v1",k2="v2" (sorted by key, escaped); "" if none */
    double value;  /* a histogram's: its count */
    double sum;    /* histogram: sum of the observations */
    double *buckets; /* histogram: observations per bucket (not cumulative), n_bounds */
} series;

typedef struct family {
    char *name;
    char *help;
    hoist_metric_type type;
    double *bounds;  /* histogram: bucket upper bounds */
    size_t n_bounds;
    series *series;  /* sorted by labels */
    size_t n_series, cap_series;
} family;

struct hoist_metrics {
    family *families;  /* sorted by name */
    size_t n, cap;
};

/* A growable string. */
typedef struct sbuf {
    char *p;
    size_t len, cap;
    bool oom;
} sbuf;

static void sb_add(sbuf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_puts(sbuf *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

/* Append s escaped for a label value (\\, \", \n) or, when help, for HELP text (\\, \n). */
static void sb_escaped(sbuf *b, const char *s, bool help)
{
    for (; *s; s++) {
        if (*s == '\\')
            sb_puts(b, "\\\\");
        else if (*s == '\n')
            sb_puts(b, "\\n");
        else if (*s == '"' && !help)
            sb_puts(b, "\\\"");
        else
            sb_add(b, s, 1);
    }
}

int hoist_metrics_valid_name(const char *name)
{
    if (!name || !*name || (name[0] >= '0' && name[0] <= '9'))
        return 0;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == ':'))
            return 0;
    return 1;
}

int hoist_metrics_valid_label(const char *name)
{
    if (!name || !*name || (name[0] >= '0' && name[0] <= '9') || !strncmp(name, "__", 2))
        return 0;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_'))
            return 0;
    return 1;
}

hoist_metrics *hoist_metrics_new(void)
{
    return calloc(1, sizeof(hoist_metrics));
}

void hoist_metrics_free(hoist_metrics *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n; i++) {
        family *f = &m->families[i];
        for (size_t j = 0; j < f->n_series; j++) {
            free(f->series[j].labels);
            free(f->series[j].buckets);
        }
        free(f->series);
        free(f->bounds);
        free(f->name);
        free(f->help);
    }
    free(m->families);
    free(m);
}

size_t hoist_metrics_family_count(const hoist_metrics *m)
{
    return m->n;
}

static int cmp_kv_ptr(const void *a, const void *b)
{
    const hoist_kv *x = *(const hoist_kv *const *)a, *y = *(const hoist_kv *const *)b;
    return strcmp(x->key, y->key);
}

/* Canonical label string for a label set, malloc'd; NULL with a message on bad
 * labels or out of memory. */
static char *canonical_labels(const char *metric, const hoist_kv *labels, size_t n,
                              hoist_err *err)
{
    const hoist_kv **sorted = NULL;
    if (n) {
        sorted = malloc(n * sizeof *sorted);
        if (!sorted) {
            hoist_errf(err, "metric %s: out of memory", metric);
            return NULL;
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (!labels || !labels[i].key || !labels[i].value) {
            free(sorted);
            hoist_errf(err, "metric %s: label %zu has a NULL key or value", metric, i);
            return NULL;
        }
        if (!hoist_metrics_valid_label(labels[i].key)) {
            hoist_errf(err, "metric %s: invalid label name \"%s\"", metric, labels[i].key);
            free(sorted);
            return NULL;
        }
        sorted[i] = &labels[i];
    }
    if (n > 1)
        qsort(sorted, n, sizeof *sorted, cmp_kv_ptr);
    sbuf b = {0};
    sb_add(&b, "", 0);
    for (size_t i = 0; i < n; i++) {
        if (i && !strcmp(sorted[i]->key, sorted[i - 1]->key)) {
            hoist_errf(err, "metric %s: label \"%s\" given twice", metric, sorted[i]->key);
            free(sorted);
            free(b.p);
            return NULL;
        }
        if (i)
            sb_puts(&b, ",");
        sb_puts(&b, sorted[i]->key);
        sb_puts(&b, "=\"");
        sb_escaped(&b, sorted[i]->value, false);
        sb_puts(&b, "\"");
    }
    free(sorted);
    if (b.oom) {
        free(b.p);
        hoist_errf(err, "metric %s: out of memory", metric);
        return NULL;
    }
    return b.p;
}

/* Binary search of `n` elements of `size` bytes, sorted by the string
 * pointer at byte offset `key_at`: the index of `key`, or where it would be
 * inserted (*found = false). */
static size_t find_sorted(const void *base, size_t n, size_t size, size_t key_at,
                          const char *key, bool *found)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *k;
        memcpy(&k, (const char *)base + mid * size + key_at, sizeof k);
        int c = strcmp(k, key);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

/* Index of the family named `name`, or where it would be inserted. */
static size_t find_family(const hoist_metrics *m, const char *name, bool *found)
{
    return find_sorted(m->families, m->n, sizeof *m->families, offsetof(family, name), name,
                       found);
}

/* Index of the series of family f with label text `labels`, or where it would go. */
static size_t find_series(const family *f, const char *labels, bool *found)
{
    return find_sorted(f->series, f->n_series, sizeof *f->series,
                       offsetof(series, labels), labels, found);
}

static const char *type_name(hoist_metric_type t)
{
    switch (t) {
    case HOIST_METRIC_COUNTER: return "counter";
    case HOIST_METRIC_HISTOGRAM: return "histogram";
    default: return "gauge";
    }
}

/* The series for (name, labels), created at 0 if new. NULL with a message. */
static series *lookup(hoist_metrics *m, const char *name, const char *help,
                      hoist_metric_type type, const hoist_kv *labels, size_t n_labels,
                      hoist_err *err)
{
    if (!hoist_metrics_valid_name(name)) {
        hoist_errf(err, "invalid metric name \"%s\"", name ? name : "(null)");
        return NULL;
    }
    bool found;
    size_t fi = find_family(m, name, &found);
    if (found && m->families[fi].type != type) {
        hoist_errf(err, "metric %s: registered as a %s, used as a %s", name,
                   type_name(m->families[fi].type), type_name(type));
        return NULL;
    }
    char *key = canonical_labels(name, labels, n_labels, err);
    if (!key)
        return NULL;
    if (!found) {
        if (m->n == m->cap) {
            size_t cap = m->cap ? m->cap * 2 : 8;
            family *nf = realloc(m->families, cap * sizeof *nf);
            if (!nf)
                goto oom;
            m->families = nf;
            m->cap = cap;
        }
        family f = {0};
        f.name = strdup(name);
        f.help = strdup(help ? help : "");
        f.type = type;
        if (!f.name || !f.help) {
            free(f.name);
            free(f.help);
            goto oom;
        }
        memmove(&m->families[fi + 1], &m->families[fi], (m->n - fi) * sizeof(family));
        m->families[fi] = f;
        m->n++;
    }
    family *f = &m->families[fi];
    size_t si = find_series(f, key, &found);
    if (found) {
        free(key);
        return &f->series[si];
    }
    if (f->n_series == f->cap_series) {
        size_t cap = f->cap_series ? f->cap_series * 2 : 4;
        series *ns = realloc(f->series, cap * sizeof *ns);
        if (!ns)
            goto oom;
        f->series = ns;
        f->cap_series = cap;
    }
    memmove(&f->series[si + 1], &f->series[si], (f->n_series - si) * sizeof(series));
    memset(&f->series[si], 0, sizeof f->series[si]);
    f->series[si].labels = key;
    f->n_series++;
    return &f->series[si];
oom:
    free(key);
    hoist_errf(err, "metric %s: out of memory", name);
    return NULL;
}

int hoist_metrics_counter_add(hoist_metrics *m, const char *name, const char *help,
                              const hoist_kv *labels, size_t n_labels, double delta,
                              hoist_err *err)
{
    if (!(delta >= 0) || isinf(delta))
        return hoist_errf(err, "metric %s: counter increment %g is not a finite, non-negative number",
                          name ? name : "(null)", delta);
    series *s = lookup(m, name, help, HOIST_METRIC_COUNTER, labels, n_labels, err);
    if (!s)
        return -1;
    s->value += delta;
    return 0;
}

int hoist_metrics_gauge_set(hoist_metrics *m, const char *name, const char *help,
                            const hoist_kv *labels, size_t n_labels, double value,
                            hoist_err *err)
{
    series *s = lookup(m, name, help, HOIST_METRIC_GAUGE, labels, n_labels, err);
    if (!s)
        return -1;
    s->value = value;
    return 0;
}

int hoist_metrics_gauge_add(hoist_metrics *m, const char *name, const char *help,
                            const hoist_kv *labels, size_t n_labels, double delta,
                            hoist_err *err)
{
    series *s = lookup(m, name, help, HOIST_METRIC_GAUGE, labels, n_labels, err);
    if (!s)
        return -1;
    s->value += delta;
    return 0;
}

int hoist_metrics_histogram_observe(hoist_metrics *m, const char *name, const char *help,
                                    const double *bounds, size_t n_bounds,
                                    const hoist_kv *labels, size_t n_labels, double value,
                                    hoist_err *err)
{
    const char *who = name ? name : "(null)";
    if (isnan(value) || isinf(value))
        return hoist_errf(err, "metric %s: observation %g is not a finite number", who, value);
    if (!bounds || n_bounds == 0)
        return hoist_errf(err, "metric %s: a histogram needs bucket bounds", who);
    for (size_t i = 0; i < n_bounds; i++)
        if (isnan(bounds[i]) || isinf(bounds[i]) || (i > 0 && !(bounds[i] > bounds[i - 1])))
            return hoist_errf(err, "metric %s: bucket bounds must be finite and increasing", who);
    series *s = lookup(m, name, help, HOIST_METRIC_HISTOGRAM, labels, n_labels, err);
    if (!s)
        return -1;
    bool found;
    family *f = &m->families[find_family(m, name, &found)];
    if (!f->bounds) {
        if (!(f->bounds = malloc(n_bounds * sizeof *f->bounds)))
            return hoist_errf(err, "metric %s: out of memory", who);
        memcpy(f->bounds, bounds, n_bounds * sizeof *bounds);
        f->n_bounds = n_bounds;
    } else if (f->n_bounds != n_bounds || memcmp(f->bounds, bounds, n_bounds * sizeof *bounds)) {
        return hoist_errf(err, "metric %s: observed with other bucket bounds", who);
    }
    if (!s->buckets && !(s->buckets = calloc(f->n_bounds, sizeof *s->buckets)))
        return hoist_errf(err, "metric %s: out of memory", who);
    for (size_t i = 0; i < f->n_bounds; i++)
        if (value <= f->bounds[i]) {
            s->buckets[i]++;
            break;
        }
    s->value++;
    s->sum += value;
    return 0;
}

int hoist_metrics_get(const hoist_metrics *m, const char *name, const hoist_kv *labels,
                      size_t n_labels, double *out)
{
    if (!name)
        return -1;
    bool found;
    size_t fi = find_family(m, name, &found);
    if (!found)
        return -1;
    char *key = canonical_labels(name, labels, n_labels, NULL);
    if (!key)
        return -1;
    const family *f = &m->families[fi];
    size_t si = find_series(f, key, &found);
    free(key);
    if (!found)
        return -1;
    *out = f->series[si].value;
    return 0;
}

/* Shortest of %.15g/%.17g that reads back exactly; +Inf, -Inf, NaN as Prometheus spells them. */
static void format_value(double v, char *buf, size_t size)
{
    if (isnan(v)) {
        snprintf(buf, size, "NaN");
    } else if (isinf(v)) {
        snprintf(buf, size, v > 0 ? "+Inf" : "-Inf");
    } else {
        snprintf(buf, size, "%.15g", v);
        if (strtod(buf, NULL) != v)
            snprintf(buf, size, "%.17g", v);
    }
}

char *hoist_metrics_render(const hoist_metrics *m, size_t *len)
{
    sbuf b = {0};
    sb_add(&b, "", 0);
    for (size_t i = 0; i < m->n; i++) {
        const family *f = &m->families[i];
        if (f->help[0]) {
            sb_puts(&b, "# HELP ");
            sb_puts(&b, f->name);
            sb_puts(&b, " ");
            sb_escaped(&b, f->help, true);
            sb_puts(&b, "\n");
        }
        sb_puts(&b, "# TYPE ");
        sb_puts(&b, f->name);
        sb_puts(&b, " ");
        sb_puts(&b, type_name(f->type));
        sb_puts(&b, "\n");
        for (size_t j = 0; f->type == HOIST_METRIC_HISTOGRAM && j < f->n_series; j++) {
            const series *s = &f->series[j];
            double cumulative = 0;
            char num[64], le[64];
            for (size_t k = 0; k <= f->n_bounds; k++) {
                if (k < f->n_bounds) {
                    cumulative += s->buckets ? s->buckets[k] : 0;
                    format_value(f->bounds[k], le, sizeof le);
                } else {
                    cumulative = s->value;
                    snprintf(le, sizeof le, "+Inf");
                }
                sb_puts(&b, f->name);
                sb_puts(&b, "_bucket{");
                if (s->labels[0]) {
                    sb_puts(&b, s->labels);
                    sb_puts(&b, ",");
                }
                sb_puts(&b, "le=\"");
                sb_puts(&b, le);
                sb_puts(&b, "\"} ");
                format_value(cumulative, num, sizeof num);
                sb_puts(&b, num);
                sb_puts(&b, "\n");
            }
            static const char *const tails[] = {"_sum", "_count"};
            for (int t = 0; t < 2; t++) {
                sb_puts(&b, f->name);
                sb_puts(&b, tails[t]);
                if (s->labels[0]) {
                    sb_puts(&b, "{");
                    sb_puts(&b, s->labels);
                    sb_puts(&b, "}");
                }
                format_value(t == 0 ? s->sum : s->value, num, sizeof num);
                sb_puts(&b, " ");
                sb_puts(&b, num);
                sb_puts(&b, "\n");
            }
        }
        for (size_t j = 0; f->type != HOIST_METRIC_HISTOGRAM && j < f->n_series; j++) {
            char num[64];
            sb_puts(&b, f->name);
            if (f->series[j].labels[0]) {
                sb_puts(&b, "{");
                sb_puts(&b, f->series[j].labels);
                sb_puts(&b, "}");
            }
            format_value(f->series[j].value, num, sizeof num);
            sb_puts(&b, " ");
            sb_puts(&b, num);
            sb_puts(&b, "\n");
        }
    }
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    if (len)
        *len = b.len;
    return b.p;
}

int hoist_metrics_write(const hoist_metrics *m, FILE *out)
{
    size_t len;
    char *text = hoist_metrics_render(m, &len);
    if (!text)
        return -1;
    size_t w = fwrite(text, 1, len, out);
    free(text);
    return w == len ? 0 : -1;
}
