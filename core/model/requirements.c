/* model/requirements.c - label requirements; see requirements.h.
 *
 * Semantics per key, over label values seen as strings:
 *   In V          value present and in V
 *   NotIn V       value absent, or present and not in V
 *   Exists        value present
 *   DoesNotExist  value absent
 *   Gt n / Lt n   value present, an integer (as Go's strconv.ParseInt reads
 *                 it), and greater / less than n
 * A conjunction on one key is satisfiable when the label may be absent
 * (every requirement allows that: NotIn, DoesNotExist) or some value
 * passes all of them. With an In among them the candidates are its values;
 * otherwise the exclusions are finite and every integer has infinitely many
 * spellings ("5", "05", ...), so only DoesNotExist or an empty Gt/Lt range
 * can leave no value. This is Karpenter's per-key set-with-complement model,
 * made exact about absence and integer ranges.
 */
#include "model/requirements.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const op_names[] = {"In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"};
#define N_OPS ((int)(sizeof op_names / sizeof op_names[0]))

/* Karpenter's bounds on minValues. */
#define MIN_VALUES_MAX 50

const char *hoist_req_op_name(hoist_req_op op)
{
    return (int)op >= 0 && (int)op < N_OPS ? op_names[op] : "?";
}

int hoist_req_op_parse(const char *s)
{
    for (int i = 0; s && i < N_OPS; i++)
        if (strcmp(s, op_names[i]) == 0)
            return i;
    return -1;
}

bool hoist_parse_int64(const char *s, int64_t *out)
{
    /* Go's strconv.ParseInt(s, 10, 64): optional sign, then decimal digits only. */
    if (!s || !*s)
        return false;
    const char *p = s;
    if (*p == '+' || *p == '-')
        p++;
    if (!*p)
        return false;
    for (const char *q = p; *q; q++)
        if (*q < '0' || *q > '9')
            return false;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno == ERANGE || *end)
        return false;
    *out = (int64_t)v;
    return true;
}

/* Binary search in a sorted value array. */
static bool values_contain(const char *const *values, size_t n, const char *v)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(v, values[mid]);
        if (c == 0)
            return true;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return false;
}

bool hoist_req_match_value(const hoist_req *r, const char *value)
{
    int64_t lv, rv;
    switch (r->op) {
    case HOIST_OP_IN:
        return value && values_contain(r->values, r->n_values, value);
    case HOIST_OP_NOT_IN:
        return !value || !values_contain(r->values, r->n_values, value);
    case HOIST_OP_EXISTS:
        return value != NULL;
    case HOIST_OP_DOES_NOT_EXIST:
        return value == NULL;
    case HOIST_OP_GT:
    case HOIST_OP_LT:
        if (!value || r->n_values != 1 || !hoist_parse_int64(value, &lv) ||
            !hoist_parse_int64(r->values[0], &rv))
            return false;
        return r->op == HOIST_OP_GT ? lv > rv : lv < rv;
    }
    return false;
}

bool hoist_reqs_match_labels(const hoist_reqs *rs, const hoist_labels *labels)
{
    for (size_t i = 0; rs && i < rs->n; i++) {
        const hoist_req *r = &rs->items[i];
        if (!hoist_req_match_value(r, hoist_labels_get(labels, r->key)))
            return false;
    }
    return true;
}

/* ---- per-key folding ----------------------------------------------------- */

/* What the requirements on one key, from up to two lists, say together. */
typedef struct key_summary {
    const char *key;
    bool absent_ok;          /* every requirement allows the label to be absent */
    const hoist_req *first_in;
    bool has_dne;
    bool has_gt, has_lt;
    int64_t gt, lt;          /* tightest bounds */
    bool bad_bound;          /* a Gt/Lt operand that is not an integer */
    size_t n_excluded;       /* NotIn values, counted with repeats */
    int32_t min_values;      /* largest minValues */
} key_summary;

static void summarise_list(key_summary *s, const hoist_reqs *rs)
{
    for (size_t i = 0; rs && i < rs->n; i++) {
        const hoist_req *r = &rs->items[i];
        if (strcmp(r->key, s->key) != 0)
            continue;
        if (r->min_values > s->min_values)
            s->min_values = r->min_values;
        int64_t v;
        switch (r->op) {
        case HOIST_OP_IN:
            s->absent_ok = false;
            if (!s->first_in)
                s->first_in = r;
            break;
        case HOIST_OP_NOT_IN:
            s->n_excluded += r->n_values;
            break;
        case HOIST_OP_EXISTS:
            s->absent_ok = false;
            break;
        case HOIST_OP_DOES_NOT_EXIST:
            s->has_dne = true;
            break;
        case HOIST_OP_GT:
        case HOIST_OP_LT:
            s->absent_ok = false;
            if (r->n_values != 1 || !hoist_parse_int64(r->values[0], &v)) {
                s->bad_bound = true;
            } else if (r->op == HOIST_OP_GT) {
                if (!s->has_gt || v > s->gt)
                    s->gt = v;
                s->has_gt = true;
            } else {
                if (!s->has_lt || v < s->lt)
                    s->lt = v;
                s->has_lt = true;
            }
            break;
        }
    }
}

static key_summary summarise(const char *key, const hoist_reqs *x, const hoist_reqs *y)
{
    key_summary s;
    memset(&s, 0, sizeof s);
    s.key = key;
    s.absent_ok = true;
    summarise_list(&s, x);
    summarise_list(&s, y);
    return s;
}

/* True when no integer lies strictly between the bounds. */
static bool range_empty(const key_summary *s)
{
    if (s->bad_bound)
        return true;
    if (s->has_gt && s->gt == INT64_MAX)
        return true;
    if (s->has_lt && s->lt == INT64_MIN)
        return true;
    return s->has_gt && s->has_lt && (s->gt >= s->lt || s->gt + 1 == s->lt);
}

/* True when `value` passes every requirement on its key in x and y. */
static bool value_ok(const char *key, const char *value, const hoist_reqs *x, const hoist_reqs *y)
{
    const hoist_reqs *lists[2] = {x, y};
    for (int l = 0; l < 2; l++) {
        for (size_t i = 0; lists[l] && i < lists[l]->n; i++) {
            const hoist_req *r = &lists[l]->items[i];
            if (strcmp(r->key, key) == 0 && !hoist_req_match_value(r, value))
                return false;
        }
    }
    return true;
}

static bool key_satisfiable(const key_summary *s, const hoist_reqs *x, const hoist_reqs *y)
{
    if (s->absent_ok)
        return true;
    if (s->first_in) {
        for (size_t i = 0; i < s->first_in->n_values; i++)
            if (value_ok(s->key, s->first_in->values[i], x, y))
                return true;
        return false;
    }
    if (s->has_dne)
        return false; /* absence is ruled out and no value is allowed */
    return !range_empty(s);
}

/* True when key appears in rs before index `before`. */
static bool key_seen(const hoist_reqs *rs, size_t before, const char *key)
{
    for (size_t i = 0; rs && i < before && i < rs->n; i++)
        if (strcmp(rs->items[i].key, key) == 0)
            return true;
    return false;
}

bool hoist_reqs_compatible(const hoist_reqs *a, const hoist_reqs *b)
{
    for (size_t i = 0; a && i < a->n; i++) {
        const char *key = a->items[i].key;
        if (key_seen(a, i, key))
            continue;
        key_summary s = summarise(key, a, b);
        if (!key_satisfiable(&s, a, b))
            return false;
    }
    for (size_t i = 0; b && i < b->n; i++) {
        const char *key = b->items[i].key;
        if (key_seen(b, i, key) || key_seen(a, a ? a->n : 0, key))
            continue;
        key_summary s = summarise(key, b, NULL);
        if (!key_satisfiable(&s, b, NULL))
            return false;
    }
    return true;
}

static int cmp_str_ptr(const void *pa, const void *pb)
{
    return strcmp(*(const char *const *)pa, *(const char *const *)pb);
}

/* Sort and de-duplicate n strings in place; returns the new count. */
static size_t sort_unique(const char **v, size_t n)
{
    if (n < 2)
        return n;
    qsort(v, n, sizeof *v, cmp_str_ptr);
    size_t m = 1;
    for (size_t i = 1; i < n; i++)
        if (strcmp(v[i], v[m - 1]) != 0)
            v[m++] = v[i];
    return m;
}

/* Append the simplified requirements for one key to out (room for 3). */
static int emit_key(hoist_arena *a, const key_summary *s, const hoist_reqs *x, const hoist_reqs *y,
                    hoist_reqs *out)
{
    hoist_req *first = &out->items[out->n];
    if (s->first_in) {
        const char **vals = hoist_arena_alloc(a, s->first_in->n_values * sizeof *vals);
        if (!vals)
            return -1;
        size_t n = 0;
        for (size_t i = 0; i < s->first_in->n_values; i++)
            if (value_ok(s->key, s->first_in->values[i], x, y))
                vals[n++] = s->first_in->values[i];
        out->items[out->n++] = (hoist_req){s->key, HOIST_OP_IN, vals, n, 0};
    } else if (s->has_dne) {
        out->items[out->n++] = (hoist_req){s->key, HOIST_OP_DOES_NOT_EXIST, NULL, 0, 0};
    } else {
        bool bounded = s->has_gt || s->has_lt;
        if (!s->absent_ok && !bounded)
            out->items[out->n++] = (hoist_req){s->key, HOIST_OP_EXISTS, NULL, 0, 0};
        /* Exclusions; under bounds only those the bounds do not already exclude. */
        if (s->n_excluded) {
            const char **vals = hoist_arena_alloc(a, s->n_excluded * sizeof *vals);
            if (!vals)
                return -1;
            size_t n = 0;
            const hoist_reqs *lists[2] = {x, y};
            for (int l = 0; l < 2; l++) {
                for (size_t i = 0; lists[l] && i < lists[l]->n; i++) {
                    const hoist_req *r = &lists[l]->items[i];
                    if (r->op != HOIST_OP_NOT_IN || strcmp(r->key, s->key) != 0)
                        continue;
                    for (size_t k = 0; k < r->n_values; k++) {
                        int64_t v;
                        if (bounded && (!hoist_parse_int64(r->values[k], &v) ||
                                        (s->has_gt && v <= s->gt) || (s->has_lt && v >= s->lt)))
                            continue;
                        vals[n++] = r->values[k];
                    }
                }
            }
            n = sort_unique(vals, n);
            if (n)
                out->items[out->n++] = (hoist_req){s->key, HOIST_OP_NOT_IN, vals, n, 0};
        }
        if (s->has_gt || s->has_lt) {
            int64_t bound[2] = {s->gt, s->lt};
            bool has[2] = {s->has_gt, s->has_lt};
            hoist_req_op ops[2] = {HOIST_OP_GT, HOIST_OP_LT};
            for (int k = 0; k < 2; k++) {
                if (!has[k])
                    continue;
                const char **vals = hoist_arena_alloc(a, sizeof *vals);
                if (!vals)
                    return -1;
                vals[0] = hoist_arena_sprintf(a, "%lld", (long long)bound[k]);
                if (!vals[0])
                    return -1;
                out->items[out->n++] = (hoist_req){s->key, ops[k], vals, 1, 0};
            }
        }
        if (first == &out->items[out->n]) /* only NotIn requirements that excluded nothing */
            return 0;
    }
    first->min_values = s->min_values;
    return 0;
}

int hoist_reqs_intersect(hoist_arena *a, const hoist_reqs *x, const hoist_reqs *y, hoist_reqs *out,
                         hoist_err *err)
{
    out->n = 0;
    out->items = NULL;
    size_t total = (x ? x->n : 0) + (y ? y->n : 0);
    if (total == 0)
        return 0;
    const char **keys = malloc(total * sizeof *keys);
    if (!keys)
        return hoist_errf(err, "out of memory");
    size_t nk = 0;
    for (size_t i = 0; x && i < x->n; i++)
        keys[nk++] = x->items[i].key;
    for (size_t i = 0; y && i < y->n; i++)
        keys[nk++] = y->items[i].key;
    nk = sort_unique(keys, nk);

    hoist_req *items = hoist_arena_calloc(a, nk * 3, sizeof *items);
    if (!items) {
        free(keys);
        return hoist_errf(err, "out of memory");
    }
    hoist_reqs res = {0, items};
    for (size_t k = 0; k < nk; k++) {
        key_summary s = summarise(keys[k], x, y);
        if (!key_satisfiable(&s, x, y)) {
            hoist_errf(err, "%s: requirements cannot all be met", keys[k]);
            free(keys);
            return -1;
        }
        if (emit_key(a, &s, x, y, &res) < 0) {
            free(keys);
            return hoist_errf(err, "out of memory");
        }
    }
    free(keys);
    *out = res;
    return 0;
}

/* ---- JSON ---------------------------------------------------------------- */

enum {
    REQ_ALLOW_MIN_VALUES = 1, /* NodePool requirements */
    REQ_ALLOW_GT_LT = 2,      /* node selector requirements, not label selectors */
    REQ_CHECK_VALUES = 4,     /* values must be valid label values (label selectors) */
};

/* Decode one requirement object; errors are prefixed with `path`. */
static int decode_req(hoist_arena *a, const json_t *obj, unsigned flags, const char *path,
                      hoist_req *out, hoist_err *err)
{
    if (!json_is_object(obj))
        return hoist_errf(err, "%s: expected an object, got %s", path, hoist_json_type_name(obj));

    const json_t *jkey = json_object_get(obj, "key");
    if (!jkey)
        return hoist_errf(err, "%s.key: missing", path);
    if (!json_is_string(jkey))
        return hoist_errf(err, "%s.key: expected a string, got %s", path,
                          hoist_json_type_name(jkey));
    if (hoist_label_key_check(json_string_value(jkey), err) < 0)
        return hoist_err_prefix(err, "%s.key", path);
    const char *key = hoist_label_canonical_arena(a, json_string_value(jkey));
    if (key == json_string_value(jkey))
        key = hoist_arena_strdup(a, key);
    if (!key)
        return hoist_errf(err, "out of memory");

    const json_t *jop = json_object_get(obj, "operator");
    if (!jop)
        return hoist_errf(err, "%s.operator: missing", path);
    if (!json_is_string(jop))
        return hoist_errf(err, "%s.operator: expected a string, got %s", path,
                          hoist_json_type_name(jop));
    int op = hoist_req_op_parse(json_string_value(jop));
    if (op < 0 || (!(flags & REQ_ALLOW_GT_LT) && (op == HOIST_OP_GT || op == HOIST_OP_LT)))
        return hoist_errf(err, "%s.operator: unknown operator \"%s\" (expected %s)", path,
                          json_string_value(jop),
                          (flags & REQ_ALLOW_GT_LT) ? "In, NotIn, Exists, DoesNotExist, Gt or Lt"
                                                    : "In, NotIn, Exists or DoesNotExist");

    const json_t *jvals = json_object_get(obj, "values");
    size_t nv = 0;
    if (jvals && !json_is_null(jvals)) {
        if (!json_is_array(jvals))
            return hoist_errf(err, "%s.values: expected an array, got %s", path,
                              hoist_json_type_name(jvals));
        nv = json_array_size(jvals);
    }
    switch (op) {
    case HOIST_OP_IN:
    case HOIST_OP_NOT_IN:
        if (nv == 0)
            return hoist_errf(err, "%s.values: operator %s needs at least one value", path,
                              op_names[op]);
        break;
    case HOIST_OP_EXISTS:
    case HOIST_OP_DOES_NOT_EXIST:
        if (nv != 0)
            return hoist_errf(err, "%s.values: operator %s takes no values", path, op_names[op]);
        break;
    default:
        if (nv != 1)
            return hoist_errf(err, "%s.values: operator %s needs exactly one value, got %zu",
                              path, op_names[op], nv);
        break;
    }
    const char **vals = NULL;
    if (nv) {
        vals = hoist_arena_alloc(a, nv * sizeof *vals);
        if (!vals)
            return hoist_errf(err, "out of memory");
    }
    for (size_t i = 0; i < nv; i++) {
        const json_t *jv = json_array_get(jvals, i);
        if (!json_is_string(jv))
            return hoist_errf(err, "%s.values[%zu]: expected a string, got %s", path, i,
                              hoist_json_type_name(jv));
        const char *v = json_string_value(jv);
        int64_t iv;
        if ((op == HOIST_OP_GT || op == HOIST_OP_LT) && !hoist_parse_int64(v, &iv))
            return hoist_errf(err, "%s.values[%zu]: \"%s\" is not an integer", path, i, v);
        if ((flags & REQ_CHECK_VALUES) && hoist_label_value_check(v, err) < 0)
            return hoist_err_prefix(err, "%s.values[%zu]", path, i);
        vals[i] = hoist_arena_strdup(a, v);
        if (!vals[i])
            return hoist_errf(err, "out of memory");
    }
    nv = sort_unique(vals, nv);

    int32_t min_values = 0;
    const json_t *jmin = json_object_get(obj, "minValues");
    if (jmin && !json_is_null(jmin)) {
        if (!(flags & REQ_ALLOW_MIN_VALUES))
            return hoist_errf(err, "%s.minValues: not allowed here (only in NodePool requirements)",
                              path);
        if (!json_is_integer(jmin))
            return hoist_errf(err, "%s.minValues: expected an integer, got %s", path,
                              hoist_json_type_name(jmin));
        json_int_t m = json_integer_value(jmin);
        if (m < 1 || m > MIN_VALUES_MAX)
            return hoist_errf(err, "%s.minValues: must be between 1 and %d, got %lld", path,
                              MIN_VALUES_MAX, (long long)m);
        if (op == HOIST_OP_IN && (size_t)m > nv)
            return hoist_errf(err, "%s.minValues: %lld is more than the %zu distinct values given",
                              path, (long long)m, nv);
        min_values = (int32_t)m;
    }
    *out = (hoist_req){key, (hoist_req_op)op, vals, nv, min_values};
    return 0;
}

/* Decode an array of requirements, appending to items[*n]; paths are
 * "<prefix>[i]". */
static int decode_req_array(hoist_arena *a, const json_t *array, unsigned flags, const char *prefix,
                            hoist_req *items, size_t *n, hoist_err *err)
{
    for (size_t i = 0; i < json_array_size(array); i++) {
        char path[96];
        snprintf(path, sizeof path, "%s[%zu]", prefix, i);
        if (decode_req(a, json_array_get(array, i), flags, path, &items[*n], err) < 0)
            return -1;
        (*n)++;
    }
    return 0;
}

int hoist_reqs_from_json(hoist_arena *a, const json_t *array, bool allow_min_values,
                         hoist_reqs *out, hoist_err *err)
{
    out->n = 0;
    out->items = NULL;
    if (!array || json_is_null(array))
        return 0;
    if (!json_is_array(array))
        return hoist_errf(err, "expected an array of requirements, got %s",
                          hoist_json_type_name(array));
    size_t n = json_array_size(array);
    if (n == 0)
        return 0;
    hoist_req *items = hoist_arena_calloc(a, n, sizeof *items);
    if (!items)
        return hoist_errf(err, "out of memory");
    unsigned flags = REQ_ALLOW_GT_LT | (allow_min_values ? REQ_ALLOW_MIN_VALUES : 0);
    size_t got = 0;
    if (decode_req_array(a, array, flags, "", items, &got, err) < 0)
        return -1;
    out->n = got;
    out->items = items;
    return 0;
}

int hoist_selector_from_json(hoist_arena *a, const json_t *selector, hoist_reqs *out,
                             hoist_err *err)
{
    out->n = 0;
    out->items = NULL;
    if (!selector || json_is_null(selector))
        return 0;
    if (!json_is_object(selector))
        return hoist_errf(err, "expected a label selector object, got %s",
                          hoist_json_type_name(selector));
    const json_t *labels = json_object_get(selector, "matchLabels");
    const json_t *exprs = json_object_get(selector, "matchExpressions");
    if (labels && !json_is_null(labels) && !json_is_object(labels))
        return hoist_errf(err, "matchLabels: expected an object, got %s",
                          hoist_json_type_name(labels));
    if (exprs && !json_is_null(exprs) && !json_is_array(exprs))
        return hoist_errf(err, "matchExpressions: expected an array, got %s",
                          hoist_json_type_name(exprs));
    size_t n = json_object_size(labels) + json_array_size(exprs);
    if (n == 0)
        return 0;
    hoist_req *items = hoist_arena_calloc(a, n, sizeof *items);
    if (!items)
        return hoist_errf(err, "out of memory");
    size_t got = 0;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)labels, k, v) {
        if (hoist_label_key_check(k, err) < 0)
            return hoist_err_prefix(err, "matchLabels");
        if (!json_is_string(v))
            return hoist_errf(err, "matchLabels.%s: expected a string, got %s", k,
                              hoist_json_type_name(v));
        if (hoist_label_value_check(json_string_value(v), err) < 0)
            return hoist_err_prefix(err, "matchLabels.%s", k);
        const char *key = hoist_label_canonical_arena(a, k);
        if (key == k)
            key = hoist_arena_strdup(a, k);
        const char **vals = hoist_arena_alloc(a, sizeof *vals);
        if (!key || !vals || !(vals[0] = hoist_arena_strdup(a, json_string_value(v))))
            return hoist_errf(err, "out of memory");
        items[got++] = (hoist_req){key, HOIST_OP_IN, vals, 1, 0};
    }
    if (exprs && !json_is_null(exprs) &&
        decode_req_array(a, exprs, REQ_CHECK_VALUES, "matchExpressions", items, &got, err) < 0)
        return -1;
    out->n = got;
    out->items = items;
    return 0;
}

json_t *hoist_reqs_to_json(const hoist_reqs *rs)
{
    json_t *arr = json_array();
    if (!arr)
        return NULL;
    for (size_t i = 0; rs && i < rs->n; i++) {
        const hoist_req *r = &rs->items[i];
        json_t *o = json_object();
        if (!o || json_array_append_new(arr, o) < 0)
            goto fail;
        if (json_object_set_new(o, "key", json_string(r->key)) < 0 ||
            json_object_set_new(o, "operator", json_string(hoist_req_op_name(r->op))) < 0)
            goto fail;
        if (r->n_values) {
            json_t *vals = json_array();
            if (!vals || json_object_set_new(o, "values", vals) < 0)
                goto fail;
            for (size_t k = 0; k < r->n_values; k++)
                if (json_array_append_new(vals, json_string(r->values[k])) < 0)
                    goto fail;
        }
        if (r->min_values > 0 &&
            json_object_set_new(o, "minValues", json_integer(r->min_values)) < 0)
            goto fail;
    }
    return arr;
fail:
    json_decref(arr);
    return NULL;
}
