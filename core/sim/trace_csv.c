/*
 * sim/trace_csv.c - import a CSV task list (name, cpu_milli, memory_mib,
 * num_gpu, creation_time, deletion_time: the shape of public cluster traces)
 * as a trace of Pods.
 *
 * The rows are read into compact records (numbers and an arena of names), the
 * adds and deletes sorted, and only then is the trace written, so a bad row
 * writes nothing.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/trace.h"
#include "util/arena.h"
#include "util/strmap.h"

/* Larger values are refused: far beyond any machine, and far from overflow. */
#define CSV_MAX_INTEGER 1000000000000ull /* 10^12 */
#define CSV_MAX_SECONDS 1e12
#define DNS_LABEL_MAX 63

enum { COL_NAME, COL_CPU, COL_MEMORY, COL_GPU, COL_CREATED, COL_DELETED, N_COLS };
static const char *const col_names[N_COLS] = {"name",    "cpu_milli",     "memory_mib",
                                              "num_gpu", "creation_time", "deletion_time"};

typedef struct csv_row {
    const char *task;      /* name as given (arena) */
    const char *pod;       /* its unique DNS-1123 pod name (arena) */
    uint64_t cpu_milli, memory_mib, gpus;
    uint64_t created_ms;
    bool deleted;          /* deletion_time given and after creation_time */
    uint64_t deleted_ms;
    size_t line;
} csv_row;

typedef struct csv_event {
    uint64_t at_ms;
    bool is_delete;
    size_t row;
} csv_event;

typedef struct csv_fields {
    char **v;              /* field starts, inside the (modified) line */
    size_t n, cap;
} csv_fields;

static int fields_push(csv_fields *f, char *s)
{
    if (f->n == f->cap) {
        size_t nc = f->cap ? 2 * f->cap : 8;
        char **p = realloc(f->v, nc * sizeof *p);
        if (!p)
            return -1;
        f->v = p;
        f->cap = nc;
    }
    f->v[f->n++] = s;
    return 0;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

/* Split line in place into fields (RFC 4180 quoting within one line).
 * Message without the file:line prefix on error. */
static int split_csv(char *line, csv_fields *f, hoist_err *err)
{
    f->n = 0;
    char *p = line;
    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        char *start;
        if (*p == '"') {
            start = ++p;
            char *w = start;
            for (;;) {
                if (*p == '\0' || *p == '\n' || *p == '\r')
                    return hoist_errf(err, "field %zu: unterminated quote", f->n + 1);
                if (*p == '"') {
                    if (p[1] == '"') {
                        *w++ = '"';
                        p += 2;
                        continue;
                    }
                    p++;
                    break;
                }
                *w++ = *p++;
            }
            while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
                p++;
            if (*p != ',' && *p != '\0')
                return hoist_errf(err, "field %zu: text after the closing quote", f->n + 1);
            char sep = *p;
            *w = '\0';
            if (fields_push(f, start) < 0)
                return hoist_errf(err, "out of memory");
            if (sep == '\0')
                return 0;
            p++;
        } else {
            start = p;
            while (*p != ',' && *p != '\0')
                p++;
            char sep = *p;
            *p = '\0';
            if (fields_push(f, trim(start)) < 0)
                return hoist_errf(err, "out of memory");
            if (sep == '\0')
                return 0;
            p++;
        }
    }
}

static bool blank(const char *s)
{
    for (; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
            return false;
    return true;
}

static int parse_count(const char *s, uint64_t *out, hoist_err *err)
{
    if (!*s)
        return hoist_errf(err, "empty (must be a non-negative integer)");
    uint64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return hoist_errf(err, "must be a non-negative integer, got \"%s\"", s);
        v = v * 10 + (uint64_t)(*p - '0');
        if (v > CSV_MAX_INTEGER)
            return hoist_errf(err, "%s is too large (at most %llu)", s,
                              (unsigned long long)CSV_MAX_INTEGER);
    }
    *out = v;
    return 0;
}

static int parse_seconds(const char *s, uint64_t *ms, hoist_err *err)
{
    if (!*s)
        return hoist_errf(err, "empty (must be a number of seconds >= 0)");
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (*end != '\0' || end == s || errno == ERANGE || !isfinite(v))
        return hoist_errf(err, "must be a number of seconds >= 0, got \"%s\"", s);
    if (v < 0)
        return hoist_errf(err, "must be a number of seconds >= 0, got %s", s);
    if (v > CSV_MAX_SECONDS)
        return hoist_errf(err, "%s s is too large (at most %.0f)", s, CSV_MAX_SECONDS);
    *ms = (uint64_t)llround(v * 1000.0);
    return 0;
}

/* name as a DNS-1123 label: lowercase, [a-z0-9-], runs of anything else one
 * '-', alphanumeric at both ends, at most 63; "task" when nothing is left. */
static void dns_label(const char *name, char out[DNS_LABEL_MAX + 1])
{
    size_t n = 0;
    for (const char *p = name; *p && n < DNS_LABEL_MAX; p++) {
        char c = *p;
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
            out[n++] = c;
        else if (n > 0 && out[n - 1] != '-')
            out[n++] = '-';
    }
    while (n > 0 && out[n - 1] == '-')
        n--;
    out[n] = '\0';
    if (n == 0)
        snprintf(out, DNS_LABEL_MAX + 1, "task");
}

/* A unique pod name for task (arena); `used` maps names taken to the next
 * "-N" to try for them. NULL when out of memory. */
static const char *unique_name(hoist_arena *a, hoist_strmap *used, const char *task)
{
    char base[DNS_LABEL_MAX + 1];
    dns_label(task, base);
    int64_t next;
    if (!hoist_strmap_get(used, base, &next)) {
        char *s = hoist_arena_strdup(a, base);
        return s && hoist_strmap_put(used, s, 2) == 0 ? s : NULL;
    }
    for (int64_t k = next;; k++) {
        char suffix[24], cand[DNS_LABEL_MAX + 1];
        int sl = snprintf(suffix, sizeof suffix, "-%lld", (long long)k);
        size_t keep = strlen(base);
        if (keep + (size_t)sl > DNS_LABEL_MAX)
            keep = DNS_LABEL_MAX - (size_t)sl;
        snprintf(cand, sizeof cand, "%.*s%s", (int)keep, base, suffix);
        if (hoist_strmap_get(used, cand, NULL))
            continue;
        char *s = hoist_arena_strdup(a, cand);
        /* take cand; continue after k next time base comes (an existing
         * key keeps its stored pointer, so passing base is safe) */
        if (!s || hoist_strmap_put(used, s, 2) < 0 || hoist_strmap_put(used, base, k + 1) < 0)
            return NULL;
        return s;
    }
}

static int event_cmp(const void *pa, const void *pb)
{
    const csv_event *a = pa, *b = pb;
    if (a->at_ms != b->at_ms)
        return a->at_ms < b->at_ms ? -1 : 1;
    if (a->is_delete != b->is_delete)
        return a->is_delete ? -1 : 1;
    return a->row < b->row ? -1 : a->row > b->row;
}

static json_t *task_pod(const csv_row *r, const char *ns)
{
    char cpu[32], mem[32];
    json_t *requests = json_object(), *limits = json_object();
    json_t *resources = json_object();
    json_t *pod = NULL;
    if (!requests || !limits || !resources)
        goto fail;
    if (r->cpu_milli > 0) {
        snprintf(cpu, sizeof cpu, "%llum", (unsigned long long)r->cpu_milli);
        json_object_set_new(requests, "cpu", json_string(cpu));
    }
    if (r->memory_mib > 0) {
        snprintf(mem, sizeof mem, "%lluMi", (unsigned long long)r->memory_mib);
        json_object_set_new(requests, "memory", json_string(mem));
    }
    if (r->gpus > 0) {
        json_object_set_new(requests, "nvidia.com/gpu", json_integer((json_int_t)r->gpus));
        json_object_set_new(limits, "nvidia.com/gpu", json_integer((json_int_t)r->gpus));
    }
    if (json_object_size(requests) > 0)
        json_object_set(resources, "requests", requests);
    if (json_object_size(limits) > 0)
        json_object_set(resources, "limits", limits);
    json_t *labels = json_pack("{s:s}", "app.kubernetes.io/managed-by", "hoist-trace-import");
    pod = json_pack("{s:s, s:s, s:{s:s, s:s, s:o}, s:{s:[{s:s, s:s, s:O}], s:s}}", "apiVersion",
                    "v1", "kind", "Pod", "metadata", "name", r->pod, "namespace", ns, "labels",
                    labels, "spec", "containers", "name", "task", "image",
                    "registry.example.com/task:latest", "resources", resources, "restartPolicy",
                    "Never");
    if (!pod)
        goto fail;
    if (strcmp(r->task, r->pod) != 0 &&
        json_object_set_new(json_object_get(pod, "metadata"), "annotations",
                            json_pack("{s:s}", "hoist.dev/task-name", r->task)) < 0)
        goto fail;
    if (r->gpus > 0 &&
        json_object_set_new(json_object_get(pod, "spec"), "tolerations",
                            json_pack("[{s:s, s:s, s:s}]", "key", "nvidia.com/gpu", "operator",
                                      "Exists", "effect", "NoSchedule")) < 0)
        goto fail;
    json_decref(requests);
    json_decref(limits);
    json_decref(resources);
    return pod;
fail:
    json_decref(requests);
    json_decref(limits);
    json_decref(resources);
    json_decref(pod);
    return NULL;
}

/* Map header columns to their field index; message names the column. */
static int read_header(csv_fields *f, int index[N_COLS], hoist_err *err)
{
    for (int c = 0; c < N_COLS; c++)
        index[c] = -1;
    for (size_t i = 0; i < f->n; i++) {
        const char *h = f->v[i];
        if (i == 0 && !strncmp(h, "\xEF\xBB\xBF", 3)) /* a UTF-8 byte order mark */
            h += 3;
        int c = 0;
        while (c < N_COLS && strcmp(h, col_names[c]) != 0)
            c++;
        if (c == N_COLS)
            return hoist_errf(err,
                              "header: unknown column \"%s\" (the columns are name, cpu_milli, "
                              "memory_mib, num_gpu, creation_time, deletion_time)",
                              h);
        if (index[c] >= 0)
            return hoist_errf(err, "header: column %s given twice", col_names[c]);
        index[c] = (int)i;
    }
    for (int c = 0; c < N_COLS; c++)
        if (index[c] < 0)
            return hoist_errf(err, "header: missing column %s", col_names[c]);
    return 0;
}

/* Decode one data row; message without the file:line prefix on error. */
static int read_row(csv_fields *f, const int index[N_COLS], hoist_arena *a, csv_row *r,
                    hoist_err *err)
{
    if (f->n != N_COLS)
        return hoist_errf(err, "%zu fields, the header has %d", f->n, N_COLS);
    const char *task = f->v[index[COL_NAME]];
    if (!(r->task = hoist_arena_strdup(a, task)))
        return hoist_errf(err, "out of memory");
    const struct {
        int col;
        uint64_t *out;
    } counts[] = {{COL_CPU, &r->cpu_milli}, {COL_MEMORY, &r->memory_mib}, {COL_GPU, &r->gpus}};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++)
        if (parse_count(f->v[index[counts[i].col]], counts[i].out, err) < 0)
            return hoist_err_prefix(err, "column %s", col_names[counts[i].col]);
    if (parse_seconds(f->v[index[COL_CREATED]], &r->created_ms, err) < 0)
        return hoist_err_prefix(err, "column creation_time");
    const char *del = f->v[index[COL_DELETED]];
    r->deleted = false;
    if (*del) {
        if (parse_seconds(del, &r->deleted_ms, err) < 0)
            return hoist_err_prefix(err, "column deletion_time");
        r->deleted = r->deleted_ms > r->created_ms;
    }
    return 0;
}

int hoist_trace_import_csv(FILE *in, const char *name, const char *ns, FILE *out, hoist_err *err)
{
    if (!ns || !*ns)
        ns = "default";
    hoist_arena arena;
    hoist_arena_init(&arena, 0);
    hoist_strmap used;
    hoist_strmap_init(&used);
    csv_fields f = {0};
    csv_row *rows = NULL;
    csv_event *events = NULL;
    size_t n_rows = 0, cap_rows = 0, lineno = 0;
    char *line = NULL;
    size_t line_cap = 0;
    int index[N_COLS];
    bool have_header = false;
    int rc = -1;

    for (;;) {
        errno = 0;
        ssize_t len = getline(&line, &line_cap, in);
        if (len < 0) {
            if (ferror(in)) {
                hoist_errf(err, "%s:%zu: read error: %s", name, lineno + 1,
                           strerror(errno ? errno : EIO));
                goto done;
            }
            break;
        }
        lineno++;
        if ((size_t)len != strlen(line)) {
            hoist_errf(err, "%s:%zu: the line holds a NUL byte", name, lineno);
            goto done;
        }
        if (blank(line))
            continue;
        if (split_csv(line, &f, err) < 0) {
            hoist_err_prefix(err, "%s:%zu", name, lineno);
            goto done;
        }
        if (!have_header) {
            if (read_header(&f, index, err) < 0) {
                hoist_err_prefix(err, "%s:%zu", name, lineno);
                goto done;
            }
            have_header = true;
            continue;
        }
        if (n_rows == cap_rows) {
            size_t nc = cap_rows ? 2 * cap_rows : 1024;
            csv_row *p = realloc(rows, nc * sizeof *p);
            if (!p) {
                hoist_errf(err, "out of memory");
                goto done;
            }
            rows = p;
            cap_rows = nc;
        }
        csv_row *r = &rows[n_rows];
        memset(r, 0, sizeof *r);
        r->line = lineno;
        if (read_row(&f, index, &arena, r, err) < 0) {
            hoist_err_prefix(err, "%s:%zu", name, lineno);
            goto done;
        }
        if (!(r->pod = unique_name(&arena, &used, r->task))) {
            hoist_errf(err, "out of memory");
            goto done;
        }
        n_rows++;
    }
    if (!have_header) {
        hoist_errf(err, "%s: no header line (want name,cpu_milli,memory_mib,num_gpu,"
                        "creation_time,deletion_time)",
                   name);
        goto done;
    }
    size_t n_events = 0;
    events = malloc((2 * n_rows + 1) * sizeof *events);
    if (!events) {
        hoist_errf(err, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n_rows; i++) {
        events[n_events++] = (csv_event){rows[i].created_ms, false, i};
        if (rows[i].deleted)
            events[n_events++] = (csv_event){rows[i].deleted_ms, true, i};
    }
    qsort(events, n_events, sizeof *events, event_cmp);
    for (size_t i = 0; i < n_events; i++) {
        const csv_row *r = &rows[events[i].row];
        json_t *obj = events[i].is_delete
                          ? json_pack("{s:s, s:s, s:{s:s, s:s}}", "apiVersion", "v1", "kind",
                                      "Pod", "metadata", "namespace", ns, "name", r->pod)
                          : task_pod(r, ns);
        if (!obj) {
            hoist_errf(err, "out of memory");
            goto done;
        }
        int wrc = hoist_trace_write(out, events[i].at_ms,
                                    events[i].is_delete ? HOIST_OBJECT_DELETE : HOIST_OBJECT_ADD,
                                    obj);
        json_decref(obj);
        if (wrc < 0) {
            hoist_errf(err, "cannot write the trace: %s", strerror(errno ? errno : EIO));
            goto done;
        }
    }
    if (fflush(out) != 0) {
        hoist_errf(err, "cannot write the trace: %s", strerror(errno));
        goto done;
    }
    rc = 0;
done:
    free(line);
    free(f.v);
    free(rows);
    free(events);
    hoist_strmap_free(&used);
    hoist_arena_free(&arena);
    return rc;
}
