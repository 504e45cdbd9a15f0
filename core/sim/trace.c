/*
 * sim/trace.c - read and write workload traces (JSON Lines, one event a line).
 *
 * The reader streams: it holds one line and one decoded object at a time, so
 * a trace of any length is read in constant memory.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/trace.h"

/* The largest `at` accepted, in seconds (about 31,700 years): keeps at_ms far
 * from overflow and exact in a double. */
#define TRACE_MAX_SECONDS 1e12

struct hoist_trace {
    FILE *f;
    bool owned;          /* opened by hoist_trace_open: closed by hoist_trace_close */
    char *name;          /* for messages */
    char *line;          /* getline buffer */
    size_t line_cap;
    size_t lineno;       /* lines read so far */
    json_t *current;     /* the object handed out by the last hoist_trace_next */
    bool have_prev;
    uint64_t prev_at_ms; /* `at` of the last good event */
    size_t prev_line;
};

const char *hoist_trace_op_name(hoist_object_op op)
{
    switch (op) {
    case HOIST_OBJECT_ADD:
        return "add";
    case HOIST_OBJECT_UPDATE:
        return "update";
    case HOIST_OBJECT_DELETE:
        return "delete";
    }
    return "?";
}

void hoist_trace_format_seconds(uint64_t at_ms, char *buf, size_t cap)
{
    uint64_t s = at_ms / 1000, ms = at_ms % 1000;
    if (ms == 0) {
        snprintf(buf, cap, "%llu", (unsigned long long)s);
        return;
    }
    char frac[4];
    snprintf(frac, sizeof frac, "%03u", (unsigned)ms);
    for (int i = 2; i > 0 && frac[i] == '0'; i--)
        frac[i] = '\0';
    snprintf(buf, cap, "%llu.%s", (unsigned long long)s, frac);
}

static hoist_trace *trace_new(FILE *f, bool owned, const char *name, hoist_err *err)
{
    hoist_trace *t = calloc(1, sizeof *t);
    if (!t || !(t->name = strdup(name))) {
        free(t);
        hoist_errf(err, "%s: out of memory", name);
        return NULL;
    }
    t->f = f;
    t->owned = owned;
    return t;
}

hoist_trace *hoist_trace_open(const char *path, hoist_err *err)
{
    if (!strcmp(path, "-"))
        return hoist_trace_open_stream(stdin, "-", err);
    FILE *f = fopen(path, "r");
    if (!f) {
        hoist_errf(err, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    hoist_trace *t = trace_new(f, true, path, err);
    if (!t)
        fclose(f);
    return t;
}

hoist_trace *hoist_trace_open_stream(FILE *f, const char *name, hoist_err *err)
{
    return trace_new(f, false, name ? name : "-", err);
}

void hoist_trace_close(hoist_trace *t)
{
    if (!t)
        return;
    if (t->owned)
        fclose(t->f);
    json_decref(t->current);
    free(t->line);
    free(t->name);
    free(t);
}

/* True for a line that holds only white space or starts (after it) with '#'. */
static bool skippable(const char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
        s++;
    return *s == '\0' || *s == '#';
}

static const char *json_type_name(const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_NULL:
        return "null";
    }
    return "?";
}

/* `at` in milliseconds; message without the file:line prefix on error. */
static int parse_at(const json_t *at, uint64_t *ms, hoist_err *err)
{
    if (!at)
        return hoist_errf(err, "at: missing (must be a number >= 0, in seconds)");
    if (!json_is_number(at))
        return hoist_errf(err, "at: must be a number >= 0, got %s", json_type_name(at));
    if (json_is_integer(at)) {
        json_int_t v = json_integer_value(at);
        if (v < 0)
            return hoist_errf(err, "at: must be a number >= 0, got %lld", (long long)v);
        if ((double)v > TRACE_MAX_SECONDS)
            return hoist_errf(err, "at: %lld s is too large (at most %.0f)", (long long)v,
                              TRACE_MAX_SECONDS);
        *ms = (uint64_t)v * 1000u;
        return 0;
    }
    double v = json_real_value(at);
    if (!(v >= 0))
        return hoist_errf(err, "at: must be a number >= 0, got %g", v);
    if (v > TRACE_MAX_SECONDS)
        return hoist_errf(err, "at: %g s is too large (at most %.0f)", v, TRACE_MAX_SECONDS);
    *ms = (uint64_t)llround(v * 1000.0);
    return 0;
}

static int parse_op(const json_t *op, hoist_object_op *out, hoist_err *err)
{
    if (!op)
        return hoist_errf(err, "op: missing (add, update or delete)");
    if (!json_is_string(op))
        return hoist_errf(err, "op: must be a string (add, update or delete), got %s",
                          json_type_name(op));
    const char *s = json_string_value(op);
    static const hoist_object_op ops[] = {HOIST_OBJECT_ADD, HOIST_OBJECT_UPDATE,
                                          HOIST_OBJECT_DELETE};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        if (!strcmp(s, hoist_trace_op_name(ops[i]))) {
            *out = ops[i];
            return 0;
        }
    }
    return hoist_errf(err, "op: unknown op \"%s\" (want add, update or delete)", s);
}

/* Check the object; default its kind to Pod (and then apiVersion to v1). */
static int check_object(json_t *obj, hoist_object_op op, hoist_err *err)
{
    if (!obj)
        return hoist_errf(err, "object: missing");
    if (!json_is_object(obj))
        return hoist_errf(err, "object: must be an object, got %s", json_type_name(obj));
    json_t *kind = json_object_get(obj, "kind");
    if (kind && !json_is_string(kind))
        return hoist_errf(err, "object: kind: must be a string, got %s", json_type_name(kind));
    const json_t *meta = json_object_get(obj, "metadata");
    const char *what = op == HOIST_OBJECT_DELETE ? " (a delete names the object it removes)" : "";
    if (!meta)
        return hoist_errf(err, "object: metadata.name: missing%s", what);
    if (!json_is_object(meta))
        return hoist_errf(err, "object: metadata: must be an object, got %s",
                          json_type_name(meta));
    const json_t *name = json_object_get(meta, "name");
    if (!name)
        return hoist_errf(err, "object: metadata.name: missing%s", what);
    if (!json_is_string(name) || !*json_string_value(name))
        return hoist_errf(err, "object: metadata.name: must be a non-empty string");
    const json_t *ns = json_object_get(meta, "namespace");
    if (ns && !json_is_string(ns))
        return hoist_errf(err, "object: metadata.namespace: must be a string, got %s",
                          json_type_name(ns));
    if (!kind) {
        if (json_object_set_new(obj, "kind", json_string("Pod")) < 0)
            return hoist_errf(err, "out of memory");
        if (!json_object_get(obj, "apiVersion") &&
            json_object_set_new(obj, "apiVersion", json_string("v1")) < 0)
            return hoist_errf(err, "out of memory");
    }
    return 0;
}

/* Decode one non-blank line into ev; message without the prefix on error. */
static int parse_line(hoist_trace *t, hoist_trace_event *ev, hoist_err *err)
{
    json_error_t jerr;
    json_t *root = json_loads(t->line, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (!root)
        return hoist_errf(err, "invalid JSON at column %d: %s", jerr.column, jerr.text);
    if (!json_is_object(root)) {
        hoist_errf(err, "an event must be a JSON object {\"at\", \"op\", \"object\"}, got %s",
                   json_type_name(root));
        json_decref(root);
        return -1;
    }
    uint64_t at_ms = 0;
    hoist_object_op op = HOIST_OBJECT_ADD;
    json_t *obj = json_object_get(root, "object");
    if (parse_at(json_object_get(root, "at"), &at_ms, err) < 0 ||
        parse_op(json_object_get(root, "op"), &op, err) < 0 || check_object(obj, op, err) < 0) {
        json_decref(root);
        return -1;
    }
    if (t->have_prev && at_ms < t->prev_at_ms) {
        char now[32], prev[32];
        hoist_trace_format_seconds(at_ms, now, sizeof now);
        hoist_trace_format_seconds(t->prev_at_ms, prev, sizeof prev);
        hoist_errf(err,
                   "event at %s s is before the previous one at %s s (line %zu): "
                   "a trace must be in time order",
                   now, prev, t->prev_line);
        json_decref(root);
        return -1;
    }
    json_incref(obj);
    json_decref(root);
    t->current = obj;
    t->have_prev = true;
    t->prev_at_ms = at_ms;
    t->prev_line = t->lineno;
    ev->at_ms = at_ms;
    ev->op = op;
    ev->object = obj;
    ev->line = t->lineno;
    return 0;
}

int hoist_trace_next(hoist_trace *t, hoist_trace_event *ev, hoist_err *err)
{
    json_decref(t->current);
    t->current = NULL;
    for (;;) {
        errno = 0;
        ssize_t n = getline(&t->line, &t->line_cap, t->f);
        if (n < 0) {
            if (ferror(t->f))
                return hoist_errf(err, "%s:%zu: read error: %s", t->name, t->lineno + 1,
                                  strerror(errno ? errno : EIO));
            return 0;
        }
        t->lineno++;
        if ((size_t)n != strlen(t->line))
            return hoist_errf(err, "%s:%zu: the line holds a NUL byte", t->name, t->lineno);
        if (skippable(t->line))
            continue;
        if (parse_line(t, ev, err) < 0)
            return hoist_err_prefix(err, "%s:%zu", t->name, t->lineno);
        return 1;
    }
}

int hoist_trace_write(FILE *out, uint64_t at_ms, hoist_object_op op, const json_t *object)
{
    char at[32];
    hoist_trace_format_seconds(at_ms, at, sizeof at);
    if (!object || fprintf(out, "{\"at\":%s,\"op\":\"%s\",\"object\":", at,
                           hoist_trace_op_name(op)) < 0)
        return -1;
    if (json_dumpf(object, out, JSON_COMPACT) < 0)
        return -1;
    if (fputs("}\n", out) < 0 || ferror(out))
        return -1;
    return 0;
}
