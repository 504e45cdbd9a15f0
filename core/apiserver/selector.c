/* apiserver/selector.c - label and field selectors: parsing and matching. */
#include "apiserver/selector.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void hoist_selector_free(hoist_selector *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->reqs[i].key);
        for (size_t j = 0; j < s->reqs[i].n_values; j++)
            free(s->reqs[i].values[j]);
        free(s->reqs[i].values);
    }
    free(s->reqs);
    memset(s, 0, sizeof *s);
}

static char *dup_range(const char *p, size_t n)
{
    char *s = malloc(n + 1);
    if (s) {
        memcpy(s, p, n);
        s[n] = '\0';
    }
    return s;
}

static void trim(const char **p, size_t *n)
{
    while (*n > 0 && isspace((unsigned char)**p)) {
        (*p)++;
        (*n)--;
    }
    while (*n > 0 && isspace((unsigned char)(*p)[*n - 1]))
        (*n)--;
}

static bool alnum(char c)
{
    return isalnum((unsigned char)c) != 0;
}

/* A label name or value: at most 63 of [A-Za-z0-9_.-], alphanumeric at both
 * ends; empty allowed only for values. */
static bool valid_name_part(const char *p, size_t n, bool allow_empty)
{
    if (n == 0)
        return allow_empty;
    if (n > 63 || !alnum(p[0]) || !alnum(p[n - 1]))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!alnum(p[i]) && p[i] != '-' && p[i] != '_' && p[i] != '.')
            return false;
    return true;
}

/* A label key: [prefix/]name, prefix a DNS subdomain of at most 253. */
static bool valid_key(const char *p, size_t n)
{
    const char *slash = memchr(p, '/', n);
    if (!slash)
        return valid_name_part(p, n, false);
    size_t plen = (size_t)(slash - p);
    if (plen == 0 || plen > 253 || !alnum(p[0]) || !alnum(p[plen - 1]))
        return false;
    for (size_t i = 0; i < plen; i++)
        if (!(islower((unsigned char)p[i]) || isdigit((unsigned char)p[i])) && p[i] != '-' &&
            p[i] != '.')
            return false;
    return valid_name_part(slash + 1, n - plen - 1, false);
}

static hoist_sel_req *add_req(hoist_selector *s)
{
    hoist_sel_req *r = realloc(s->reqs, (s->n + 1) * sizeof *r);
    if (!r)
        return NULL;
    s->reqs = r;
    memset(&r[s->n], 0, sizeof *r);
    return &r[s->n++];
}

static int add_value(hoist_sel_req *r, const char *p, size_t n)
{
    char **v = realloc(r->values, (r->n_values + 1) * sizeof *v);
    if (!v)
        return -1;
    r->values = v;
    if (!(v[r->n_values] = dup_range(p, n)))
        return -1;
    r->n_values++;
    return 0;
}

/* One label requirement p[0..n). */
static int parse_label_req(hoist_selector *s, const char *p, size_t n, hoist_err *err)
{
    const char *req = p;
    size_t req_len = n;
    trim(&p, &n);
    if (n == 0)
        return hoist_errf(err, "empty requirement");
    hoist_sel_req *r = add_req(s);
    if (!r)
        return hoist_errf(err, "out of memory");
    if (p[0] == '!') {
        p++;
        n--;
        trim(&p, &n);
        if (!valid_key(p, n))
            return hoist_errf(err, "requirement \"%.*s\": invalid label key \"%.*s\"",
                              (int)req_len, req, (int)n, p);
        r->op = HOIST_SEL_NOT_EXISTS;
        r->key = dup_range(p, n);
        return r->key ? 0 : hoist_errf(err, "out of memory");
    }
    size_t k = 0;
    while (k < n && (alnum(p[k]) || strchr("-_./", p[k])))
        k++;
    if (!valid_key(p, k))
        return hoist_errf(err, "requirement \"%.*s\": invalid label key \"%.*s\"", (int)req_len,
                          req, (int)(k ? k : n), p);
    if (!(r->key = dup_range(p, k)))
        return hoist_errf(err, "out of memory");
    const char *q = p + k;
    size_t m = n - k;
    trim(&q, &m);
    if (m == 0) {
        r->op = HOIST_SEL_EXISTS;
        return 0;
    }
    if (m >= 2 && (!strncmp(q, "!=", 2) || !strncmp(q, "==", 2)) ) {
        r->op = q[0] == '!' ? HOIST_SEL_NEQ : HOIST_SEL_EQ;
        q += 2;
        m -= 2;
    } else if (q[0] == '=') {
        r->op = HOIST_SEL_EQ;
        q++;
        m--;
    } else if ((m > 2 && !strncmp(q, "in", 2) && (isspace((unsigned char)q[2]) || q[2] == '(')) ||
               (m > 5 && !strncmp(q, "notin", 5) &&
                (isspace((unsigned char)q[5]) || q[5] == '('))) {
        bool in = q[0] == 'i';
        r->op = in ? HOIST_SEL_IN : HOIST_SEL_NOTIN;
        q += in ? 2 : 5;
        m -= in ? 2 : 5;
        trim(&q, &m);
        if (m < 2 || q[0] != '(' || q[m - 1] != ')')
            return hoist_errf(err, "requirement \"%.*s\": expected a parenthesised value list",
                              (int)req_len, req);
        q++;
        m -= 2;
        const char *v = q;
        for (size_t i = 0; i <= m; i++) {
            if (i == m || q[i] == ',') {
                const char *vp = v;
                size_t vn = (size_t)(q + i - v);
                trim(&vp, &vn);
                if (!valid_name_part(vp, vn, true) || memchr(vp, '(', vn) || memchr(vp, ')', vn))
                    return hoist_errf(err, "requirement \"%.*s\": invalid label value \"%.*s\"",
                                      (int)req_len, req, (int)vn, vp);
                if (add_value(r, vp, vn) != 0)
                    return hoist_errf(err, "out of memory");
                v = q + i + 1;
            }
        }
        return 0;
    } else {
        return hoist_errf(err, "requirement \"%.*s\": expected =, ==, !=, in, notin or the end "
                               "after the key", (int)req_len, req);
    }
    trim(&q, &m);
    if (!valid_name_part(q, m, true))
        return hoist_errf(err, "requirement \"%.*s\": invalid label value \"%.*s\"",
                          (int)req_len, req, (int)m, q);
    return add_value(r, q, m) == 0 ? 0 : hoist_errf(err, "out of memory");
}

int hoist_selector_parse_labels(const char *text, hoist_selector *out, hoist_err *err)
{
    memset(out, 0, sizeof *out);
    if (!text || !*text)
        return 0;
    const char *start = text;
    int depth = 0;
    for (const char *p = text;; p++) {
        if (*p == '(')
            depth++;
        else if (*p == ')')
            depth--;
        if (depth < 0 || depth > 1)
            return hoist_errf(err, "label selector \"%s\": unbalanced parentheses", text);
        if ((*p == ',' && depth == 0) || *p == '\0') {
            if (*p == '\0' && depth != 0)
                return hoist_errf(err, "label selector \"%s\": unbalanced parentheses", text);
            if (parse_label_req(out, start, (size_t)(p - start), err) != 0)
                return hoist_err_prefix(err, "label selector \"%s\"", text);
            if (*p == '\0')
                break;
            start = p + 1;
        }
    }
    return 0;
}

int hoist_selector_parse_fields(const char *text, hoist_selector *out, hoist_err *err)
{
    memset(out, 0, sizeof *out);
    if (!text || !*text)
        return 0;
    const char *start = text;
    for (const char *p = text;; p++) {
        if (*p != ',' && *p != '\0')
            continue;
        const char *q = start;
        size_t n = (size_t)(p - start);
        trim(&q, &n);
        size_t k = 0;
        while (k < n && (alnum(q[k]) || q[k] == '.' || q[k] == '_' || q[k] == '-'))
            k++;
        if (k == 0)
            return hoist_errf(err, "field selector \"%s\": requirement \"%.*s\": expected a "
                                   "field name", text, (int)n, q);
        hoist_sel_req *r = add_req(out);
        if (!r || !(r->key = dup_range(q, k)))
            return hoist_errf(err, "out of memory");
        const char *v = q + k;
        size_t m = n - k;
        if (m >= 2 && !strncmp(v, "!=", 2)) {
            r->op = HOIST_SEL_NEQ;
            v += 2, m -= 2;
        } else if (m >= 2 && !strncmp(v, "==", 2)) {
            r->op = HOIST_SEL_EQ;
            v += 2, m -= 2;
        } else if (m >= 1 && v[0] == '=') {
            r->op = HOIST_SEL_EQ;
            v++, m--;
        } else {
            return hoist_errf(err, "field selector \"%s\": requirement \"%.*s\": expected =, == "
                                   "or != after the field name", text, (int)n, q);
        }
        if (add_value(r, v, m) != 0)
            return hoist_errf(err, "out of memory");
        if (*p == '\0')
            break;
        start = p + 1;
    }
    return 0;
}

int hoist_selector_from_labelselector(const json_t *sel, hoist_selector *out, hoist_err *err)
{
    memset(out, 0, sizeof *out);
    if (!sel || json_is_null(sel)) {
        out->nothing = true;
        return 0;
    }
    if (!json_is_object(sel))
        return hoist_errf(err, "selector: expected an object");
    json_t *ml = json_object_get(sel, "matchLabels");
    if (ml && !json_is_null(ml)) {
        if (!json_is_object(ml))
            return hoist_errf(err, "selector.matchLabels: expected an object");
        const char *k;
        json_t *v;
        json_object_foreach(ml, k, v) {
            if (!json_is_string(v))
                return hoist_errf(err, "selector.matchLabels.%s: expected a string", k);
            if (!valid_key(k, strlen(k)))
                return hoist_errf(err, "selector.matchLabels: invalid label key \"%s\"", k);
            hoist_sel_req *r = add_req(out);
            if (!r || !(r->key = strdup(k)) || add_value(r, json_string_value(v),
                                                        json_string_length(v)) != 0)
                return hoist_errf(err, "out of memory");
            r->op = HOIST_SEL_EQ;
        }
    }
    json_t *me = json_object_get(sel, "matchExpressions");
    if (me && !json_is_null(me)) {
        if (!json_is_array(me))
            return hoist_errf(err, "selector.matchExpressions: expected an array");
        size_t i;
        json_t *e;
        json_array_foreach(me, i, e) {
            const char *key = json_string_value(json_object_get(e, "key"));
            const char *op = json_string_value(json_object_get(e, "operator"));
            json_t *vals = json_object_get(e, "values");
            if (!key || !valid_key(key, strlen(key)))
                return hoist_errf(err, "selector.matchExpressions[%zu].key: expected a label key",
                                  i);
            hoist_sel_req *r = add_req(out);
            if (!r || !(r->key = strdup(key)))
                return hoist_errf(err, "out of memory");
            bool want_values = true;
            if (op && !strcmp(op, "In"))
                r->op = HOIST_SEL_IN;
            else if (op && !strcmp(op, "NotIn"))
                r->op = HOIST_SEL_NOTIN;
            else if (op && !strcmp(op, "Exists"))
                r->op = HOIST_SEL_EXISTS, want_values = false;
            else if (op && !strcmp(op, "DoesNotExist"))
                r->op = HOIST_SEL_NOT_EXISTS, want_values = false;
            else
                return hoist_errf(err, "selector.matchExpressions[%zu].operator: \"%s\" is not "
                                       "In, NotIn, Exists or DoesNotExist", i, op ? op : "");
            if (want_values && (!json_is_array(vals) || json_array_size(vals) == 0))
                return hoist_errf(err, "selector.matchExpressions[%zu].values: must be a "
                                       "non-empty array for %s", i, op);
            if (!want_values && vals && json_array_size(vals) > 0)
                return hoist_errf(err, "selector.matchExpressions[%zu].values: must be empty "
                                       "for %s", i, op);
            size_t j;
            json_t *v;
            json_array_foreach(vals, j, v) {
                if (!json_is_string(v))
                    return hoist_errf(err, "selector.matchExpressions[%zu].values[%zu]: "
                                           "expected a string", i, j);
                if (add_value(r, json_string_value(v), json_string_length(v)) != 0)
                    return hoist_errf(err, "out of memory");
            }
        }
    }
    return 0;
}

static bool has_value(const hoist_sel_req *r, const char *v)
{
    for (size_t i = 0; i < r->n_values; i++)
        if (!strcmp(r->values[i], v))
            return true;
    return false;
}

static bool req_match(const hoist_sel_req *r, const char *v /* NULL = absent */)
{
    switch (r->op) {
    case HOIST_SEL_EQ:
    case HOIST_SEL_IN:
        return v && has_value(r, v);
    case HOIST_SEL_NEQ:
    case HOIST_SEL_NOTIN:
        return !v || !has_value(r, v);
    case HOIST_SEL_EXISTS:
        return v != NULL;
    case HOIST_SEL_NOT_EXISTS:
        return v == NULL;
    }
    return false;
}

bool hoist_selector_match_labels(const hoist_selector *s, const json_t *labels)
{
    if (s->nothing)
        return false;
    for (size_t i = 0; i < s->n; i++) {
        const char *v = json_string_value(json_object_get(labels, s->reqs[i].key));
        if (!req_match(&s->reqs[i], v))
            return false;
    }
    return true;
}

void hoist_field_value(const json_t *obj, const char *path, char *buf, size_t n)
{
    buf[0] = '\0';
    const json_t *cur = obj;
    char part[128];
    const char *p = path;
    while (cur && *p) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        if (len >= sizeof part)
            return;
        memcpy(part, p, len);
        part[len] = '\0';
        cur = json_object_get(cur, part);
        p = dot ? dot + 1 : p + len;
    }
    if (!cur)
        return;
    if (json_is_string(cur))
        snprintf(buf, n, "%s", json_string_value(cur));
    else if (json_is_boolean(cur))
        snprintf(buf, n, "%s", json_is_true(cur) ? "true" : "false");
    else if (json_is_integer(cur))
        snprintf(buf, n, "%lld", (long long)json_integer_value(cur));
}

bool hoist_selector_match_fields(const hoist_selector *s, const json_t *obj)
{
    if (s->nothing)
        return false;
    char buf[512];
    for (size_t i = 0; i < s->n; i++) {
        hoist_field_value(obj, s->reqs[i].key, buf, sizeof buf);
        if (!req_match(&s->reqs[i], buf))
            return false;
    }
    return true;
}
