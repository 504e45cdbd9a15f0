/* model/load.c - Kubernetes documents from JSON or YAML text; see load.h. */
#include "model/load.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

/* ---- the document array ---------------------------------------------- */

void hoist_docs_init(hoist_docs *d)
{
    memset(d, 0, sizeof *d);
    hoist_arena_init(&d->names, 4096);
}

void hoist_docs_free(hoist_docs *d)
{
    for (size_t i = 0; i < d->n; i++)
        json_decref(d->items[i].json);
    free(d->items);
    hoist_arena_free(&d->names);
    d->items = NULL;
    d->n = d->cap = 0;
}

static int docs_push(hoist_docs *d, json_t *obj, const char *file, int index, int item, int line,
                     hoist_err *err)
{
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 16;
        hoist_doc *p = realloc(d->items, cap * sizeof *p);
        if (!p)
            return hoist_errf(err, "%s: out of memory", file);
        d->items = p;
        d->cap = cap;
    }
    d->items[d->n++] = (hoist_doc){json_incref(obj), file, index, item, line};
    return 0;
}

/* Drop documents appended after `mark` (used to undo a failed load). */
static void docs_truncate(hoist_docs *d, size_t mark)
{
    while (d->n > mark)
        json_decref(d->items[--d->n].json);
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* Append one top-level document, expanding Lists (recursively). item_lines,
 * when not NULL, gives the start line of each element of a List's items. */
static int add_document(hoist_docs *d, json_t *doc, const char *file, int index, int line,
                        const int *item_lines, size_t n_item_lines, int item, hoist_err *err)
{
    if (!json_is_object(doc))
        return hoist_errf(err, "%s:%d: expected a Kubernetes object (a mapping), got %s", file,
                          line,
                          json_is_array(doc) ? "a sequence" : "a scalar");
    json_t *kind = json_object_get(doc, "kind");
    json_t *items = json_object_get(doc, "items");
    if (json_is_string(kind) && ends_with(json_string_value(kind), "List") &&
        json_is_array(items)) {
        size_t i;
        json_t *it;
        json_array_foreach(items, i, it) {
            int l = item_lines && i < n_item_lines ? item_lines[i] : line;
            if (!json_is_object(it))
                return hoist_errf(err, "%s:%d: %s: items[%zu]: expected an object", file, l,
                                  json_string_value(kind), i);
            if (add_document(d, it, file, index, l, NULL, 0, (int)i, err) < 0)
                return -1;
        }
        return 0;
    }
    return docs_push(d, doc, file, index, item, line, err);
}

/* ---- YAML ------------------------------------------------------------- */

/* YAML 1.2 core schema words. The YAML 1.1 words (yes/no/on/off/y/n) stay
 * strings: a label value "on" or a name "n" means what it says. */
static const char *const yaml_true_words[] = {"true", "True", "TRUE", NULL};
static const char *const yaml_false_words[] = {"false", "False", "FALSE", NULL};
static const char *const yaml_null_words[] = {"", "~", "null", "Null", "NULL", NULL};
static const char *const yaml_special_floats[] = {".inf", ".Inf", ".INF", "+.inf", "+.Inf",
                                                  "+.INF", "-.inf", "-.Inf", "-.INF", ".nan",
                                                  ".NaN", ".NAN", NULL};

static bool in_words(const char *s, const char *const *words)
{
    for (; *words; words++)
        if (strcmp(s, *words) == 0)
            return true;
    return false;
}

/* An integer in YAML 1.2 core notation: [-+]?[0-9]+, 0o[0-7]+ or 0x[0-9a-fA-F]+.
 * *overflow is set for decimal integers outside int64 (they become floats). */
static bool yaml_int(const char *s, json_int_t *out, bool *overflow)
{
    *overflow = false;
    const char *p = s;
    int base = 10;
    bool neg = false;
    if (p[0] == '0' && p[1] == 'o')
        base = 8, p += 2;
    else if (p[0] == '0' && p[1] == 'x')
        base = 16, p += 2;
    else if (*p == '+' || *p == '-')
        neg = *p++ == '-';
    if (!*p)
        return false;
    for (const char *q = p; *q; q++) {
        int v;
        if (*q >= '0' && *q <= '9')
            v = *q - '0';
        else if (base == 16 && *q >= 'a' && *q <= 'f')
            v = *q - 'a' + 10;
        else if (base == 16 && *q >= 'A' && *q <= 'F')
            v = *q - 'A' + 10;
        else
            return false;
        if (v >= base)
            return false;
    }
    errno = 0;
    unsigned long long u = strtoull(p, NULL, base);
    if (errno == ERANGE || u > (unsigned long long)INT64_MAX + (neg ? 1u : 0u)) {
        *overflow = base == 10;
        return base == 10;
    }
    *out = neg ? (json_int_t)(0 - u) : (json_int_t)u;
    return true;
}

/* A float matching [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static bool yaml_float_syntax(const char *s)
{
    const char *p = s;
    if (*p == '+' || *p == '-')
        p++;
    size_t digits = 0;
    while (*p >= '0' && *p <= '9')
        p++, digits++;
    if (*p == '.') {
        p++;
        size_t frac = 0;
        while (*p >= '0' && *p <= '9')
            p++, frac++;
        if (!digits && !frac)
            return false;
    } else if (!digits) {
        return false;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!(*p >= '0' && *p <= '9'))
            return false;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    return *p == '\0';
}

/* Type a scalar. Returns a new value, or NULL with *why set. */
static json_t *yaml_scalar_value(const char *s, size_t len, bool plain, const char *tag,
                                 const char **why)
{
    *why = NULL;
    if (strlen(s) != len) {
        *why = "NUL character in scalar";
        return NULL;
    }
    if (tag && strncmp(tag, "tag:yaml.org,2002:", 18) == 0) {
        const char *t = tag + 18;
        if (strcmp(t, "str") == 0 || strcmp(t, "binary") == 0 || strcmp(t, "timestamp") == 0)
            return json_stringn(s, len);
        if (strcmp(t, "null") == 0)
            return json_null();
        plain = true; /* !!int, !!float, !!bool: resolve as plain, then check */
    } else if (tag && strcmp(tag, "!") == 0) {
        return json_stringn(s, len);
    }
    if (!plain)
        return json_stringn(s, len);
    if (in_words(s, yaml_null_words))
        return json_null();
    if (in_words(s, yaml_true_words))
        return json_true();
    if (in_words(s, yaml_false_words))
        return json_false();
    if (in_words(s, yaml_special_floats)) {
        *why = "infinity and NaN cannot be represented in JSON";
        return NULL;
    }
    json_int_t iv;
    bool overflow;
    if (yaml_int(s, &iv, &overflow) && !overflow)
        return json_integer(iv);
    if (overflow || yaml_float_syntax(s)) {
        double d = strtod(s, NULL);
        if (!isfinite(d)) {
            *why = "number out of range";
            return NULL;
        }
        return json_real(d);
    }
    if (tag && strncmp(tag, "tag:yaml.org,2002:", 18) == 0 &&
        (strcmp(tag + 18, "int") == 0 || strcmp(tag + 18, "float") == 0 ||
         strcmp(tag + 18, "bool") == 0)) {
        *why = "scalar does not match its explicit tag";
        return NULL;
    }
    return json_stringn(s, len);
}

/* The key string for a scalar value used as a mapping key. */
static char *key_string(const json_t *v)
{
    char buf[64];
    switch (json_typeof(v)) {
    case JSON_STRING:
        return strdup(json_string_value(v));
    case JSON_TRUE:
        return strdup("true");
    case JSON_FALSE:
        return strdup("false");
    case JSON_NULL:
        return strdup("null");
    case JSON_INTEGER:
        snprintf(buf, sizeof buf, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return strdup(buf);
    default:
        snprintf(buf, sizeof buf, "%.17g", json_number_value(v));
        return strdup(buf);
    }
}

typedef struct yframe {
    json_t *node;       /* object or array being filled (owned) */
    char *anchor;       /* its anchor name (malloc'd) or NULL */
    char *key;          /* mapping: key awaiting its value (malloc'd), NULL when none */
    bool key_is_merge;  /* the pending key is a plain "<<" */
    json_t *merges;     /* mapping: merge sources, applied at the end (owned) */
    bool root_items;    /* the "items" sequence of the root mapping */
    int line;           /* where it starts */
} yframe;

typedef struct yanchor {
    char *name;
    json_t *value;
    size_t nodes;
} yanchor;

typedef struct yctx {
    const char *file;
    hoist_err *err;
    yframe *stack;
    size_t depth, cap;
    yanchor *anchors;
    size_t n_anchors, cap_anchors;
    size_t alias_nodes;      /* nodes copied by aliases in this document */
    json_t *root;            /* the document's root value, once complete */
    int root_line;
    int *item_lines;         /* lines of the root "items" elements */
    size_t n_item_lines, cap_item_lines;
} yctx;

static size_t json_nodes(const json_t *v)
{
    size_t n = 1;
    if (json_is_object(v)) {
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)v, k, x) n += json_nodes(x);
    } else if (json_is_array(v)) {
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) n += json_nodes(x);
    }
    return n;
}

static void yctx_reset_doc(yctx *c)
{
    while (c->depth) {
        yframe *f = &c->stack[--c->depth];
        json_decref(f->node);
        json_decref(f->merges);
        free(f->anchor);
        free(f->key);
    }
    for (size_t i = 0; i < c->n_anchors; i++) {
        free(c->anchors[i].name);
        json_decref(c->anchors[i].value);
    }
    c->n_anchors = 0;
    c->alias_nodes = 0;
    json_decref(c->root);
    c->root = NULL;
    c->root_line = 0;
    c->n_item_lines = 0;
}

static void yctx_free(yctx *c)
{
    yctx_reset_doc(c);
    free(c->stack);
    free(c->anchors);
    free(c->item_lines);
}

static int yerr(yctx *c, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int yerr(yctx *c, int line, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return hoist_errf(c->err, "%s:%d: %s", c->file, line, msg);
}

static int remember_anchor(yctx *c, const char *name, json_t *v, int line)
{
    if (!name)
        return 0;
    /* A later anchor of the same name replaces the earlier one. */
    for (size_t i = 0; i < c->n_anchors; i++) {
        if (strcmp(c->anchors[i].name, name) == 0) {
            json_decref(c->anchors[i].value);
            c->anchors[i].value = json_incref(v);
            c->anchors[i].nodes = json_nodes(v);
            return 0;
        }
    }
    if (c->n_anchors == c->cap_anchors) {
        size_t cap = c->cap_anchors ? c->cap_anchors * 2 : 8;
        yanchor *p = realloc(c->anchors, cap * sizeof *p);
        if (!p)
            return yerr(c, line, "out of memory");
        c->anchors = p;
        c->cap_anchors = cap;
    }
    char *copy = strdup(name);
    if (!copy)
        return yerr(c, line, "out of memory");
    c->anchors[c->n_anchors++] = (yanchor){copy, json_incref(v), json_nodes(v)};
    return 0;
}

/* Place a complete value (reference stolen) into the current container.
 * scalar: v may serve as a mapping key; merge: it is a plain "<<". */
static int place_value(yctx *c, json_t *v, bool scalar, bool merge, int line)
{
    if (!v)
        return yerr(c, line, "out of memory");
    if (c->depth == 0) {
        c->root = v;
        return 0;
    }
    yframe *f = &c->stack[c->depth - 1];
    if (json_is_array(f->node)) {
        if (f->root_items) {
            if (c->n_item_lines == c->cap_item_lines) {
                size_t cap = c->cap_item_lines ? c->cap_item_lines * 2 : 16;
                int *p = realloc(c->item_lines, cap * sizeof *p);
                if (!p) {
                    json_decref(v);
                    return yerr(c, line, "out of memory");
                }
                c->item_lines = p;
                c->cap_item_lines = cap;
            }
            c->item_lines[c->n_item_lines++] = line;
        }
        if (json_array_append_new(f->node, v) < 0)
            return yerr(c, line, "out of memory");
        return 0;
    }
    /* A mapping: either this value is a key, or the value of the pending key. */
    if (!f->key) {
        if (!scalar) {
            json_decref(v);
            return yerr(c, line, "complex mapping keys are not supported");
        }
        f->key = key_string(v);
        f->key_is_merge = merge;
        json_decref(v);
        if (!f->key)
            return yerr(c, line, "out of memory");
        return 0;
    }
    char *key = f->key;
    f->key = NULL;
    if (f->key_is_merge) {
        f->key_is_merge = false;
        free(key);
        bool ok = json_is_object(v);
        if (json_is_array(v)) {
            size_t i;
            json_t *x;
            ok = true;
            json_array_foreach(v, i, x) ok = ok && json_is_object(x);
        }
        if (!ok) {
            json_decref(v);
            return yerr(c, line, "merge key \"<<\" needs a mapping or a sequence of mappings");
        }
        if (!f->merges && !(f->merges = json_array())) {
            json_decref(v);
            return yerr(c, line, "out of memory");
        }
        if (json_is_object(v)) {
            json_array_append_new(f->merges, v);
        } else {
            size_t i;
            json_t *x;
            json_array_foreach(v, i, x) json_array_append(f->merges, x);
            json_decref(v);
        }
        return 0;
    }
    if (json_object_get(f->node, key)) {
        json_decref(v);
        yerr(c, line, "duplicate mapping key \"%s\"", key);
        free(key);
        return -1;
    }
    int rc = json_object_set_new(f->node, key, v);
    free(key);
    if (rc < 0)
        return yerr(c, line, "out of memory (or key not UTF-8)");
    return 0;
}

static int push_container(yctx *c, json_t *node, const char *anchor, int line)
{
    if (!node)
        return yerr(c, line, "out of memory");
    if (c->depth) {
        yframe *top = &c->stack[c->depth - 1];
        if (json_is_object(top->node) && !top->key) {
            json_decref(node);
            return yerr(c, line, "complex mapping keys are not supported");
        }
    }
    if (c->depth >= 1000) {
        json_decref(node);
        return yerr(c, line, "nesting deeper than 1000 levels");
    }
    if (c->depth == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        yframe *p = realloc(c->stack, cap * sizeof *p);
        if (!p) {
            json_decref(node);
            return yerr(c, line, "out of memory");
        }
        c->stack = p;
        c->cap = cap;
    }
    bool root_items = c->depth == 1 && json_is_array(node) && c->stack[0].key &&
                      strcmp(c->stack[0].key, "items") == 0;
    char *a = anchor ? strdup(anchor) : NULL;
    c->stack[c->depth++] = (yframe){node, a, NULL, false, NULL, root_items, line};
    if (root_items)
        c->n_item_lines = 0;
    if (c->depth == 1)
        c->root_line = line;
    return 0;
}

static int pop_container(yctx *c, int line)
{
    yframe f = c->stack[--c->depth];
    free(f.key);
    if (f.merges) {
        size_t i;
        json_t *m;
        /* Explicit keys win; earlier merge sources win over later ones. */
        json_array_foreach(f.merges, i, m) json_object_update_missing(f.node, m);
        json_decref(f.merges);
    }
    int rc = remember_anchor(c, f.anchor, f.node, line);
    free(f.anchor);
    if (rc < 0) {
        json_decref(f.node);
        return -1;
    }
    return place_value(c, f.node, false, false, f.line);
}

static int on_alias(yctx *c, const char *name, int line)
{
    for (size_t i = c->n_anchors; i-- > 0;) {
        if (strcmp(c->anchors[i].name, name) != 0)
            continue;
        c->alias_nodes += c->anchors[i].nodes;
        if (c->alias_nodes > HOIST_YAML_MAX_ALIAS_NODES)
            return yerr(c, line, "alias expansion exceeds the limit of %d nodes",
                        HOIST_YAML_MAX_ALIAS_NODES);
        json_t *v = json_deep_copy(c->anchors[i].value);
        return place_value(c, v, v && !json_is_object(v) && !json_is_array(v), false, line);
    }
    return yerr(c, line, "unknown alias \"*%s\"", name);
}

/* Parse a YAML stream; each non-empty document goes through add_document. */
static int yaml_load(hoist_docs *d, const char *file, const char *buf, size_t len,
                     hoist_err *err)
{
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser))
        return hoist_errf(err, "%s: cannot initialise the YAML parser", file);
    yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
    yctx c = {.file = file, .err = err};
    int rc = 0, doc_index = 0;
    bool done = false;
    while (!done && rc == 0) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev)) {
            int line = (int)parser.problem_mark.line + 1;
            hoist_errf(err, "%s:%d: invalid YAML: %s%s%s", file, line,
                       parser.problem ? parser.problem : "parse error",
                       parser.context ? " " : "", parser.context ? parser.context : "");
            rc = -1;
            break;
        }
        int line = (int)ev.start_mark.line + 1;
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            done = true;
            break;
        case YAML_DOCUMENT_START_EVENT:
            yctx_reset_doc(&c);
            break;
        case YAML_DOCUMENT_END_EVENT:
            if (c.root && !json_is_null(c.root))
                rc = add_document(d, c.root, file, doc_index, c.root_line ? c.root_line : line,
                                  c.item_lines, c.n_item_lines, -1, err);
            doc_index++;
            yctx_reset_doc(&c);
            break;
        case YAML_MAPPING_START_EVENT:
            rc = push_container(&c, json_object(), (const char *)ev.data.mapping_start.anchor,
                                line);
            break;
        case YAML_SEQUENCE_START_EVENT:
            rc = push_container(&c, json_array(), (const char *)ev.data.sequence_start.anchor,
                                line);
            break;
        case YAML_MAPPING_END_EVENT:
        case YAML_SEQUENCE_END_EVENT:
            rc = pop_container(&c, line);
            break;
        case YAML_SCALAR_EVENT: {
            const char *s = (const char *)ev.data.scalar.value;
            const char *why;
            bool plain = ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
            json_t *v = yaml_scalar_value(s, ev.data.scalar.length, plain,
                                          (const char *)ev.data.scalar.tag, &why);
            if (!v && why) {
                rc = yerr(&c, line, "%s", why);
                break;
            }
            if (c.depth == 0)
                c.root_line = line;
            rc = remember_anchor(&c, (const char *)ev.data.scalar.anchor, v, line);
            if (rc == 0)
                rc = place_value(&c, v, true, plain && strcmp(s, "<<") == 0, line);
            else
                json_decref(v);
            break;
        }
        case YAML_ALIAS_EVENT:
            rc = on_alias(&c, (const char *)ev.data.alias.anchor, line);
            break;
        default:
            break;
        }
        yaml_event_delete(&ev);
    }
    yctx_free(&c);
    yaml_parser_delete(&parser);
    return rc;
}

/* ---- JSON ------------------------------------------------------------- */

static int line_at(const char *buf, size_t off)
{
    int line = 1;
    for (size_t i = 0; i < off; i++)
        if (buf[i] == '\n')
            line++;
    return line;
}

static size_t skip_json_space(const char *s, size_t i, size_t len)
{
    while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
        i++;
    return i;
}

/* Find the start offsets of the elements of the top-level "items" array of
 * the JSON object text s[0..len) and store their lines (base_line for s[0]).
 * Returns how many were found (0 when the scan does not recognise it). */
static size_t json_item_lines(const char *s, size_t len, int base_line, int *lines, size_t max)
{
    int depth = 0, line = base_line;
    bool in_str = false, esc = false, at_items = false, want_elem = false;
    size_t n = 0, key_start = 0;
    int items_depth = -1;
    for (size_t i = 0; i < len; i++) {
        char ch = s[i];
        if (in_str) {
            if (esc)
                esc = false;
            else if (ch == '\\')
                esc = true;
            else if (ch == '"') {
                in_str = false;
                if (depth == 1 && i - key_start == 5 && memcmp(s + key_start, "items", 5) == 0)
                    at_items = true;
            } else if (ch == '\n')
                line++;
            continue;
        }
        if (ch == '\n') {
            line++;
            continue;
        }
        if (ch == ' ' || ch == '\t' || ch == '\r' || ch == ':')
            continue;
        if (want_elem && ch != ']') {
            if (n < max)
                lines[n] = line;
            n++;
            want_elem = false;
        }
        switch (ch) {
        case '"':
            in_str = true;
            key_start = i + 1;
            break;
        case '{':
        case '[':
            depth++;
            if (ch == '[' && at_items && depth == 2) {
                items_depth = 2;
                want_elem = true;
            }
            at_items = false;
            break;
        case '}':
        case ']':
            if (depth == items_depth)
                return n < max ? n : max;
            depth--;
            break;
        case ',':
            if (depth == items_depth)
                want_elem = true;
            else if (depth == 1)
                at_items = false;
            break;
        default:
            if (depth == 1)
                at_items = false;
            break;
        }
    }
    return 0;
}

static int json_load(hoist_docs *d, const char *file, const char *buf, size_t len, hoist_err *err)
{
    size_t off = skip_json_space(buf, 0, len);
    int index = 0;
    while (off < len) {
        json_error_t je;
        int base = line_at(buf, off);
        json_t *v = json_loadb(buf + off, len - off, JSON_DISABLE_EOF_CHECK |
                               JSON_REJECT_DUPLICATES, &je);
        if (!v)
            return hoist_errf(err, "%s:%d: invalid JSON: %s", file,
                              je.line > 0 ? base + je.line - 1 : base, je.text);
        size_t used = je.position > 0 ? (size_t)je.position : len - off;
        int rc = 0;
        if (!json_is_null(v)) {
            json_t *items = json_object_get(v, "items");
            size_t n_items = json_is_array(items) ? json_array_size(items) : 0;
            int *lines = n_items ? calloc(n_items, sizeof *lines) : NULL;
            size_t got = lines ? json_item_lines(buf + off, used, base, lines, n_items) : 0;
            rc = add_document(d, v, file, index, base, lines, got, -1, err);
            free(lines);
        }
        json_decref(v);
        if (rc < 0)
            return -1;
        index++;
        off = skip_json_space(buf, off + used, len);
    }
    return 0;
}

/* ---- entry points ----------------------------------------------------- */

int hoist_docs_load_buffer(hoist_docs *d, const char *name, const char *buf, size_t len,
                           hoist_err *err)
{
    const char *file = hoist_arena_strdup(&d->names, name ? name : "-");
    if (!file)
        return hoist_errf(err, "%s: out of memory", name ? name : "-");
    size_t mark = d->n;
    /* Skip a UTF-8 byte order mark. */
    if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
        buf += 3, len -= 3;
    size_t i = skip_json_space(buf, 0, len);
    int rc = (i < len && (buf[i] == '{' || buf[i] == '['))
                 ? json_load(d, file, buf, len, err)
                 : yaml_load(d, file, buf, len, err);
    if (rc < 0)
        docs_truncate(d, mark);
    return rc;
}

int hoist_docs_load_stream(hoist_docs *d, const char *name, FILE *f, hoist_err *err)
{
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap);
    if (!buf)
        return hoist_errf(err, "%s: out of memory", name);
    for (;;) {
        if (len == cap) {
            if (cap >= HOIST_LOAD_MAX_BYTES) {
                free(buf);
                return hoist_errf(err, "%s: larger than %u bytes", name, HOIST_LOAD_MAX_BYTES);
            }
            char *p = realloc(buf, cap * 2);
            if (!p) {
                free(buf);
                return hoist_errf(err, "%s: out of memory", name);
            }
            buf = p;
            cap *= 2;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        free(buf);
        return hoist_errf(err, "%s: read error: %s", name, strerror(errno));
    }
    int rc = hoist_docs_load_buffer(d, name, buf, len, err);
    free(buf);
    return rc;
}

int hoist_docs_load_file(hoist_docs *d, const char *path, hoist_err *err)
{
    if (strcmp(path, "-") == 0)
        return hoist_docs_load_stream(d, "-", stdin, err);
    FILE *f = fopen(path, "rb");
    if (!f)
        return hoist_errf(err, "%s: cannot open: %s", path, strerror(errno));
    int rc = hoist_docs_load_stream(d, path, f, err);
    fclose(f);
    return rc;
}
