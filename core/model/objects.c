/* model/objects.c - Kubernetes objects decoded into plain structs; see objects.h. */
#include "model/objects.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model/load.h"

/* ---- decoding helpers ------------------------------------------------- */

/* What every decoder needs: the arena, the resource table, the error. */
typedef struct dec {
    hoist_objects *o;
    hoist_arena *a;
    hoist_err *err;
} dec;

/* A field path under construction, e.g. "spec.containers[0].resources". */
typedef struct fpath {
    char s[256];
} fpath;

/* Mark a path that did not fit with a trailing "...". */
static void path_fit(fpath *p, int n)
{
    if (n < 0 || (size_t)n >= sizeof p->s)
        memcpy(p->s + sizeof p->s - 4, "...", 4);
}

/* Append str to p (holding *len chars of its text so far) as snprintf
 * would: what fits, NUL-terminated; *len counts every char asked for. */
static void path_add(fpath *p, size_t *len, const char *str)
{
    size_t n = strlen(str);
    if (*len < sizeof p->s - 1) {
        size_t room = sizeof p->s - 1 - *len, k = n < room ? n : room;
        memcpy(p->s + *len, str, k);
        p->s[*len + k] = '\0';
    }
    *len += n;
}

/* parent.key (key alone when parent is empty), built without printf: paths
 * are made for every field decoded, errors or not. */
static fpath path_key(const char *parent, const char *key)
{
    fpath p;
    size_t len = 0;
    p.s[0] = '\0';
    path_add(&p, &len, parent);
    if (*parent)
        path_add(&p, &len, ".");
    path_add(&p, &len, key);
    path_fit(&p, len > INT_MAX ? -1 : (int)len);
    return p;
}

static fpath path_index(const char *parent, size_t i)
{
    fpath p;
    char num[32];
    size_t len = 0, d = sizeof num;
    num[--d] = '\0';
    num[--d] = ']';
    do
        num[--d] = (char)('0' + i % 10);
    while ((i /= 10) > 0);
    num[--d] = '[';
    p.s[0] = '\0';
    path_add(&p, &len, parent);
    path_add(&p, &len, num + d);
    path_fit(&p, len > INT_MAX ? -1 : (int)len);
    return p;
}

static const char *json_type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    default:
        return "null";
    }
}

static int type_error(dec *d, const char *parent, const char *key, const char *want,
                      const json_t *v)
{
    return hoist_errf(d->err, "%s: expected %s, got %s", path_key(parent, key).s, want,
                      json_type_name(v));
}

/* The member `key` of obj, or NULL when absent or JSON null. */
static json_t *member(const json_t *obj, const char *key)
{
    json_t *v = obj ? json_object_get(obj, key) : NULL;
    return json_is_null(v) ? NULL : v;
}

/* A string member copied into the arena; NULL when absent. */
static int get_str(dec *d, const json_t *obj, const char *parent, const char *key,
                   const char **out)
{
    json_t *v = member(obj, key);
    *out = NULL;
    if (!v)
        return 0;
    if (!json_is_string(v))
        return type_error(d, parent, key, "a string", v);
    *out = hoist_arena_strndup(d->a, json_string_value(v), json_string_length(v));
    if (!*out)
        return hoist_errf(d->err, "%s: out of memory", path_key(parent, key).s);
    return 0;
}

/* A required non-empty string member. */
static int need_str(dec *d, const json_t *obj, const char *parent, const char *key,
                    const char **out)
{
    if (get_str(d, obj, parent, key, out) < 0)
        return -1;
    if (!*out || !**out)
        return hoist_errf(d->err, "%s: required", path_key(parent, key).s);
    return 0;
}

/* A string member that must be one of `words` (NULL-terminated); *out gets
 * its index, or stays untouched when absent. */
static int get_enum(dec *d, const json_t *obj, const char *parent, const char *key,
                    const char *const *words, int *out)
{
    json_t *v = member(obj, key);
    if (!v)
        return 0;
    if (!json_is_string(v))
        return type_error(d, parent, key, "a string", v);
    for (int i = 0; words[i]; i++) {
        if (strcmp(json_string_value(v), words[i]) == 0) {
            *out = i;
            return 0;
        }
    }
    char allowed[256] = "";
    for (int i = 0; words[i]; i++)
        snprintf(allowed + strlen(allowed), sizeof allowed - strlen(allowed), "%s%s",
                 i ? ", " : "", words[i]);
    return hoist_errf(d->err, "%s: unknown value \"%s\" (expected one of %s)",
                      path_key(parent, key).s, json_string_value(v), allowed);
}

static int get_bool(dec *d, const json_t *obj, const char *parent, const char *key, bool *out)
{
    json_t *v = member(obj, key);
    if (!v)
        return 0;
    if (!json_is_boolean(v))
        return type_error(d, parent, key, "a boolean", v);
    *out = json_is_true(v);
    return 0;
}

/* An int32 member in [min, max]; *has (may be NULL) tells whether it was given. */
static int get_i32(dec *d, const json_t *obj, const char *parent, const char *key, int64_t min,
                   int64_t max, int32_t *out, bool *has)
{
    json_t *v = member(obj, key);
    if (has)
        *has = v != NULL;
    if (!v)
        return 0;
    json_int_t x;
    if (json_is_integer(v))
        x = json_integer_value(v);
    else if (json_is_real(v) && json_real_value(v) > -9e18 && json_real_value(v) < 9e18 &&
             json_real_value(v) == (double)(json_int_t)json_real_value(v))
        x = (json_int_t)json_real_value(v);
    else
        return type_error(d, parent, key, "an integer", v);
    if (x < min || x > max)
        return hoist_errf(d->err, "%s: %" JSON_INTEGER_FORMAT " out of range [%" PRId64
                          ", %" PRId64 "]", path_key(parent, key).s, x, min, max);
    *out = (int32_t)x;
    return 0;
}

/* An object member; NULL when absent. */
static int get_obj(dec *d, const json_t *obj, const char *parent, const char *key,
                   json_t **out)
{
    json_t *v = member(obj, key);
    *out = NULL;
    if (v && !json_is_object(v))
        return type_error(d, parent, key, "an object", v);
    *out = v;
    return 0;
}

/* An array member; NULL when absent. */
static int get_arr(dec *d, const json_t *obj, const char *parent, const char *key,
                   json_t **out)
{
    json_t *v = member(obj, key);
    *out = NULL;
    if (v && !json_is_array(v))
        return type_error(d, parent, key, "an array", v);
    *out = v;
    return 0;
}

/* An array of strings. */
static int get_strings(dec *d, const json_t *obj, const char *parent, const char *key,
                       hoist_strings *out)
{
    json_t *arr;
    memset(out, 0, sizeof *out);
    if (get_arr(d, obj, parent, key, &arr) < 0)
        return -1;
    if (!arr)
        return 0;
    size_t n = json_array_size(arr);
    if (!n)
        return 0;
    out->items = hoist_arena_calloc(d->a, n, sizeof *out->items);
    if (!out->items)
        return hoist_errf(d->err, "%s: out of memory", path_key(parent, key).s);
    for (size_t i = 0; i < n; i++) {
        json_t *s = json_array_get(arr, i);
        if (!json_is_string(s)) {
            fpath p = path_key(parent, key);
            return hoist_errf(d->err, "%s: expected a string, got %s", path_index(p.s, i).s,
                              json_type_name(s));
        }
        out->items[i] = hoist_arena_strdup(d->a, json_string_value(s));
        if (!out->items[i])
            return hoist_errf(d->err, "%s: out of memory", path_key(parent, key).s);
    }
    out->n = n;
    return 0;
}

/* A quantity given as a string or a JSON number, in milli-units. */
static int get_quantity(dec *d, const json_t *v, const char *where, hoist_milli *out)
{
    char buf[64];
    const char *s;
    if (json_is_string(v))
        s = json_string_value(v);
    else if (json_is_integer(v))
        snprintf(buf, sizeof buf, "%" JSON_INTEGER_FORMAT, json_integer_value(v)), s = buf;
    else if (json_is_real(v))
        snprintf(buf, sizeof buf, "%.17g", json_real_value(v)), s = buf;
    else
        return hoist_errf(d->err, "%s: expected a quantity, got %s", where, json_type_name(v));
    hoist_quantity q;
    if (hoist_quantity_parse(s, &q, d->err) < 0)
        return hoist_err_prefix(d->err, "%s", where);
    *out = q.milli;
    return 0;
}

static int labels_member(dec *d, const json_t *obj, const char *parent, const char *key,
                         hoist_labels *out)
{
    json_t *m;
    memset(out, 0, sizeof *out);
    if (get_obj(d, obj, parent, key, &m) < 0)
        return -1;
    if (m && hoist_labels_from_json(d->a, m, out, d->err) < 0)
        return hoist_err_prefix(d->err, "%s", path_key(parent, key).s);
    return 0;
}

static int resources_member(dec *d, const json_t *obj, const char *parent, const char *key,
                            hoist_resources *out, uint32_t *set_bits)
{
    json_t *m;
    if (get_obj(d, obj, parent, key, &m) < 0)
        return -1;
    if (!m)
        return 0;
    if (hoist_resources_from_json(&d->o->names, m, out, d->err) < 0)
        return hoist_err_prefix(d->err, "%s", path_key(parent, key).s);
    if (set_bits) {
        const char *k;
        json_t *x;
        json_object_foreach(m, k, x) {
            int slot = hoist_resource_names_find(&d->o->names, k);
            if (slot >= 0)
                *set_bits |= 1u << slot;
        }
    }
    return 0;
}

static int taints_member(dec *d, const json_t *obj, const char *parent, const char *key,
                         hoist_taints *out)
{
    json_t *arr;
    memset(out, 0, sizeof *out);
    if (get_arr(d, obj, parent, key, &arr) < 0)
        return -1;
    if (arr && hoist_taints_from_json(d->a, arr, out, d->err) < 0)
        return hoist_err_prefix(d->err, "%s", path_key(parent, key).s);
    return 0;
}

/* A label selector member; *has is false when it is absent or null. */
static int selector_member(dec *d, const json_t *obj, const char *parent, const char *key,
                           hoist_reqs *out, bool *has)
{
    json_t *m;
    memset(out, 0, sizeof *out);
    *has = false;
    if (get_obj(d, obj, parent, key, &m) < 0)
        return -1;
    if (!m)
        return 0;
    *has = true;
    if (hoist_selector_from_json(d->a, m, out, d->err) < 0)
        return hoist_err_prefix(d->err, "%s", path_key(parent, key).s);
    return 0;
}

static const char *canonical_copy(dec *d, const char *key)
{
    return key ? hoist_label_canonical_arena(d->a, key) : NULL;
}

/* ---- durations and timestamps ----------------------------------------- */

int hoist_duration_parse(const char *s, bool allow_never, int64_t *seconds, hoist_err *err)
{
    if (!s || !*s)
        return hoist_errf(err, "invalid duration \"\": empty");
    if (strcmp(s, "Never") == 0) {
        if (!allow_never)
            return hoist_errf(err, "invalid duration \"Never\": not allowed here");
        *seconds = HOIST_NEVER;
        return 0;
    }
    if (strcmp(s, "0") == 0) {
        *seconds = 0;
        return 0;
    }
    static const struct {
        const char *unit;
        long double ns;
    } units[] = {{"ns", 1}, {"us", 1e3}, {"\xC2\xB5s", 1e3}, {"ms", 1e6},
                 {"s", 1e9}, {"m", 60e9}, {"h", 3600e9}};
    long double total = 0;
    const char *p = s;
    while (*p) {
        if (!isdigit((unsigned char)*p) && *p != '.')
            return hoist_errf(err, "invalid duration \"%s\": expected a number at \"%s\"", s, p);
        const char *num = p;
        size_t digits = 0;
        while (isdigit((unsigned char)*p))
            p++, digits++;
        if (*p == '.') {
            p++;
            while (isdigit((unsigned char)*p))
                p++, digits++;
        }
        if (!digits)
            return hoist_errf(err, "invalid duration \"%s\": bad number", s);
        long double v = strtold(num, NULL);
        const char *u = p;
        while (*p && !isdigit((unsigned char)*p) && *p != '.')
            p++;
        size_t ulen = (size_t)(p - u);
        if (!ulen)
            return hoist_errf(err, "invalid duration \"%s\": missing unit (ns, us, ms, s, m, h)",
                              s);
        long double scale = 0;
        for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
            if (strlen(units[i].unit) == ulen && memcmp(units[i].unit, u, ulen) == 0)
                scale = units[i].ns;
        if (scale == 0)
            return hoist_errf(err, "invalid duration \"%s\": unknown unit \"%.*s\"", s, (int)ulen,
                              u);
        total += v * scale;
        if (total > 9.2e18L)
            return hoist_errf(err, "invalid duration \"%s\": too large", s);
    }
    long double secs = total / 1e9L;
    int64_t whole = (int64_t)secs;
    if ((long double)whole < secs)
        whole++;
    *seconds = whole;
    return 0;
}

int hoist_timestamp_parse(const char *s, int64_t *seconds, hoist_err *err)
{
    int Y, M, D, h, m, sec, n = 0;
    if (!s || sscanf(s, "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &Y, &M, &D, &h, &m, &sec, &n) != 6 ||
        n != 19)
        return hoist_errf(err, "invalid timestamp \"%s\": expected RFC 3339", s ? s : "");
    if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60)
        return hoist_errf(err, "invalid timestamp \"%s\": field out of range", s);
    const char *p = s + n;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p))
            return hoist_errf(err, "invalid timestamp \"%s\": bad fraction", s);
        while (isdigit((unsigned char)*p))
            p++;
    }
    int offset = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om, k = 0;
        if (sscanf(p + 1, "%2d:%2d%n", &oh, &om, &k) != 2 || k != 5 || oh > 23 || om > 59)
            return hoist_errf(err, "invalid timestamp \"%s\": bad offset", s);
        offset = (oh * 3600 + om * 60) * (*p == '-' ? -1 : 1);
        p += 1 + k;
    } else {
        return hoist_errf(err, "invalid timestamp \"%s\": missing time zone", s);
    }
    if (*p)
        return hoist_errf(err, "invalid timestamp \"%s\": trailing characters", s);
    struct tm tm = {.tm_year = Y - 1900, .tm_mon = M - 1, .tm_mday = D, .tm_hour = h,
                    .tm_min = m, .tm_sec = sec};
    time_t t = timegm(&tm);
    *seconds = (int64_t)t - offset;
    return 0;
}

static int duration_member(dec *d, const json_t *obj, const char *parent, const char *key,
                           bool allow_never, int64_t *out)
{
    json_t *v = member(obj, key);
    if (!v)
        return 0;
    if (!json_is_string(v))
        return type_error(d, parent, key, "a duration string", v);
    if (hoist_duration_parse(json_string_value(v), allow_never, out, d->err) < 0)
        return hoist_err_prefix(d->err, "%s", path_key(parent, key).s);
    return 0;
}

/* ---- node selectors --------------------------------------------------- */

static int node_term(dec *d, const json_t *t, const char *where, hoist_node_term *out)
{
    memset(out, 0, sizeof *out);
    if (!json_is_object(t))
        return hoist_errf(d->err, "%s: expected an object, got %s", where, json_type_name(t));
    json_t *exprs, *fields;
    if (get_arr(d, t, where, "matchExpressions", &exprs) < 0 ||
        get_arr(d, t, where, "matchFields", &fields) < 0)
        return -1;
    if (exprs && hoist_reqs_from_json(d->a, exprs, false, &out->match_expressions, d->err) < 0)
        return hoist_err_prefix(d->err, "%s", path_key(where, "matchExpressions").s);
    if (fields) {
        size_t i;
        json_t *f;
        json_array_foreach(fields, i, f) {
            json_t *k = json_object_get(f, "key");
            if (!json_is_string(k) || strcmp(json_string_value(k), "metadata.name") != 0) {
                fpath p = path_key(where, "matchFields");
                return hoist_errf(d->err, "%s.key: only \"metadata.name\" is supported",
                                  path_index(p.s, i).s);
            }
        }
        if (hoist_reqs_from_json(d->a, fields, false, &out->match_fields, d->err) < 0)
            return hoist_err_prefix(d->err, "%s", path_key(where, "matchFields").s);
    }
    return 0;
}

/* A {"nodeSelectorTerms": [...]} object. */
static int node_selector(dec *d, const json_t *sel, const char *where, hoist_node_selector *out)
{
    json_t *terms;
    memset(out, 0, sizeof *out);
    if (get_arr(d, sel, where, "nodeSelectorTerms", &terms) < 0)
        return -1;
    size_t n = terms ? json_array_size(terms) : 0;
    if (!n)
        return 0;
    out->terms = hoist_arena_calloc(d->a, n, sizeof *out->terms);
    if (!out->terms)
        return hoist_errf(d->err, "%s: out of memory", where);
    fpath tp = path_key(where, "nodeSelectorTerms");
    for (size_t i = 0; i < n; i++)
        if (node_term(d, json_array_get(terms, i), path_index(tp.s, i).s, &out->terms[i]) < 0)
            return -1;
    out->n = n;
    return 0;
}

/* ---- Pod ------------------------------------------------------------ */

/* One container's requests, defaulted from its limits per resource. */
static int container_requests(hoist_resource_names *names, const json_t *c, const char *where,
                              hoist_resources *out, hoist_err *err)
{
    memset(out, 0, sizeof *out);
    if (!json_is_object(c))
        return hoist_errf(err, "%s: expected an object, got %s", where, json_type_name(c));
    json_t *res = member(c, "resources");
    if (!res)
        return 0;
    fpath rp = path_key(where, "resources");
    if (!json_is_object(res))
        return hoist_errf(err, "%s: expected an object, got %s", rp.s, json_type_name(res));
    json_t *req = member(res, "requests"), *lim = member(res, "limits");
    if (req && !json_is_object(req))
        return hoist_errf(err, "%s.requests: expected an object, got %s", rp.s,
                          json_type_name(req));
    if (lim && !json_is_object(lim))
        return hoist_errf(err, "%s.limits: expected an object, got %s", rp.s,
                          json_type_name(lim));
    if (req && hoist_resources_from_json(names, req, out, err) < 0)
        return hoist_err_prefix(err, "%s.requests", rp.s);
    if (lim) {
        hoist_resources l = {{0}};
        if (hoist_resources_from_json(names, lim, &l, err) < 0)
            return hoist_err_prefix(err, "%s.limits", rp.s);
        const char *k;
        json_t *x;
        json_object_foreach(lim, k, x) {
            if (req && json_object_get(req, k))
                continue;
            int slot = hoist_resource_names_find(names, k);
            if (slot >= 0)
                out->v[slot] = l.v[slot];
        }
    }
    return 0;
}

/* Effective requests of the pod spec at path sp (e.g. "spec.template.spec"). */
static int pod_requests(hoist_resource_names *names, const json_t *spec, const char *sp,
                        hoist_resources *out, hoist_err *err)
{
    memset(out, 0, sizeof *out);
    if (!json_is_object(spec))
        return hoist_errf(err, "%s: expected an object", sp);
    fpath cp = path_key(sp, "containers"), ip = path_key(sp, "initContainers");
    json_t *containers = member(spec, "containers"), *inits = member(spec, "initContainers");
    if (containers && !json_is_array(containers))
        return hoist_errf(err, "%s: expected an array, got %s", cp.s,
                          json_type_name(containers));
    if (inits && !json_is_array(inits))
        return hoist_errf(err, "%s: expected an array, got %s", ip.s, json_type_name(inits));
    hoist_resources sum = {{0}}, sidecars = {{0}}, init_max = {{0}}, r;
    size_t i;
    json_t *c;
    json_array_foreach(containers, i, c) {
        if (container_requests(names, c, path_index(cp.s, i).s, &r, err) < 0)
            return -1;
        hoist_resources_add(&sum, &r);
    }
    json_array_foreach(inits, i, c) {
        fpath p = path_index(ip.s, i);
        if (container_requests(names, c, p.s, &r, err) < 0)
            return -1;
        json_t *policy = json_object_get(c, "restartPolicy");
        if (policy && !json_is_null(policy) && !json_is_string(policy))
            return hoist_errf(err, "%s.restartPolicy: expected a string, got %s", p.s,
                              json_type_name(policy));
        bool restartable = json_is_string(policy) && strcmp(json_string_value(policy),
                                                            "Always") == 0;
        if (restartable) {
            /* A sidecar runs alongside everything after it. */
            hoist_resources_add(&sum, &r);
            hoist_resources_add(&sidecars, &r);
            hoist_resources_max(&init_max, &sidecars);
        } else {
            /* A plain init container runs next to the sidecars started before it. */
            hoist_resources_add(&r, &sidecars);
            hoist_resources_max(&init_max, &r);
        }
    }
    hoist_resources_max(&sum, &init_max);

    /* Pod-level resources (cpu and memory) replace the containers' sum. */
    json_t *pres = member(spec, "resources");
    if (pres) {
        hoist_resources pod_level;
        if (container_requests(names, spec, sp, &pod_level, err) < 0)
            return -1;
        json_t *preq = member(pres, "requests"), *plim = member(pres, "limits");
        static const int slots[] = {HOIST_RES_CPU, HOIST_RES_MEMORY};
        static const char *const keys[] = {"cpu", "memory"};
        for (size_t k = 0; k < 2; k++)
            if ((preq && json_object_get(preq, keys[k])) ||
                (plim && json_object_get(plim, keys[k])))
                sum.v[slots[k]] = pod_level.v[slots[k]];
    }

    json_t *overhead = member(spec, "overhead");
    if (overhead) {
        if (!json_is_object(overhead))
            return hoist_errf(err, "%s.overhead: expected an object, got %s", sp,
                              json_type_name(overhead));
        hoist_resources oh = {{0}};
        if (hoist_resources_from_json(names, overhead, &oh, err) < 0)
            return hoist_err_prefix(err, "%s.overhead", sp);
        hoist_resources_add(&sum, &oh);
    }
    sum.v[HOIST_RES_PODS] = HOIST_MILLI(1);
    *out = sum;
    return 0;
}

int hoist_pod_requests_from_json(hoist_resource_names *names, const json_t *spec,
                                 hoist_resources *out, hoist_err *err)
{
    return pod_requests(names, spec, "spec", out, err);
}

static int affinity_term(dec *d, const json_t *t, const char *where, int32_t weight,
                         hoist_pod_affinity_term *out)
{
    memset(out, 0, sizeof *out);
    out->weight = weight;
    if (!json_is_object(t))
        return hoist_errf(d->err, "%s: expected an object, got %s", where, json_type_name(t));
    const char *tk;
    if (selector_member(d, t, where, "labelSelector", &out->selector, &out->has_selector) < 0 ||
        get_strings(d, t, where, "namespaces", &out->namespaces) < 0 ||
        selector_member(d, t, where, "namespaceSelector", &out->namespace_selector,
                        &out->has_namespace_selector) < 0 ||
        need_str(d, t, where, "topologyKey", &tk) < 0 ||
        get_strings(d, t, where, "matchLabelKeys", &out->match_label_keys) < 0 ||
        get_strings(d, t, where, "mismatchLabelKeys", &out->mismatch_label_keys) < 0)
        return -1;
    out->topology_key = canonical_copy(d, tk);
    return 0;
}

/* podAffinity or podAntiAffinity: required and preferred term lists. */
static int pod_affinity(dec *d, const json_t *aff, const char *where,
                        hoist_pod_affinity_terms *req, hoist_pod_affinity_terms *pref)
{
    json_t *r, *p;
    memset(req, 0, sizeof *req);
    memset(pref, 0, sizeof *pref);
    if (get_arr(d, aff, where, "requiredDuringSchedulingIgnoredDuringExecution", &r) < 0 ||
        get_arr(d, aff, where, "preferredDuringSchedulingIgnoredDuringExecution", &p) < 0)
        return -1;
    if (r && json_array_size(r)) {
        fpath rp = path_key(where, "requiredDuringSchedulingIgnoredDuringExecution");
        req->items = hoist_arena_calloc(d->a, json_array_size(r), sizeof *req->items);
        if (!req->items)
            return hoist_errf(d->err, "%s: out of memory", rp.s);
        for (size_t i = 0; i < json_array_size(r); i++)
            if (affinity_term(d, json_array_get(r, i), path_index(rp.s, i).s, 0,
                              &req->items[i]) < 0)
                return -1;
        req->n = json_array_size(r);
    }
    if (p && json_array_size(p)) {
        fpath pp = path_key(where, "preferredDuringSchedulingIgnoredDuringExecution");
        pref->items = hoist_arena_calloc(d->a, json_array_size(p), sizeof *pref->items);
        if (!pref->items)
            return hoist_errf(d->err, "%s: out of memory", pp.s);
        for (size_t i = 0; i < json_array_size(p); i++) {
            fpath ip = path_index(pp.s, i);
            json_t *w = json_array_get(p, i);
            int32_t weight = 0;
            bool has_weight;
            if (!json_is_object(w))
                return hoist_errf(d->err, "%s: expected an object, got %s", ip.s,
                                  json_type_name(w));
            if (get_i32(d, w, ip.s, "weight", 1, 100, &weight, &has_weight) < 0)
                return -1;
            if (!has_weight)
                return hoist_errf(d->err, "%s.weight: required", ip.s);
            json_t *t = member(w, "podAffinityTerm");
            if (!t)
                return hoist_errf(d->err, "%s.podAffinityTerm: required", ip.s);
            if (affinity_term(d, t, path_key(ip.s, "podAffinityTerm").s, weight,
                              &pref->items[i]) < 0)
                return -1;
        }
        pref->n = json_array_size(p);
    }
    return 0;
}

static int pod_node_affinity(dec *d, const json_t *na, const char *where, hoist_pod *p)
{
    json_t *req, *pref;
    if (get_obj(d, na, where, "requiredDuringSchedulingIgnoredDuringExecution", &req) < 0 ||
        get_arr(d, na, where, "preferredDuringSchedulingIgnoredDuringExecution", &pref) < 0)
        return -1;
    if (req && node_selector(d, req,
                             path_key(where, "requiredDuringSchedulingIgnoredDuringExecution").s,
                             &p->node_affinity) < 0)
        return -1;
    size_t n = pref ? json_array_size(pref) : 0;
    if (!n)
        return 0;
    fpath pp = path_key(where, "preferredDuringSchedulingIgnoredDuringExecution");
    p->preferred_node_affinity = hoist_arena_calloc(d->a, n, sizeof *p->preferred_node_affinity);
    if (!p->preferred_node_affinity)
        return hoist_errf(d->err, "%s: out of memory", pp.s);
    for (size_t i = 0; i < n; i++) {
        fpath ip = path_index(pp.s, i);
        json_t *w = json_array_get(pref, i);
        hoist_preferred_node_term *t = &p->preferred_node_affinity[i];
        bool has_weight;
        if (!json_is_object(w))
            return hoist_errf(d->err, "%s: expected an object, got %s", ip.s, json_type_name(w));
        if (get_i32(d, w, ip.s, "weight", 1, 100, &t->weight, &has_weight) < 0)
            return -1;
        if (!has_weight)
            return hoist_errf(d->err, "%s.weight: required", ip.s);
        json_t *pt = member(w, "preference");
        if (!pt)
            return hoist_errf(d->err, "%s.preference: required", ip.s);
        if (node_term(d, pt, path_key(ip.s, "preference").s, &t->term) < 0)
            return -1;
    }
    p->n_preferred_node_affinity = n;
    return 0;
}

static int spread_constraint(dec *d, const json_t *c, const char *where,
                             hoist_topology_spread *out)
{
    static const char *const when[] = {"ScheduleAnyway", "DoNotSchedule", NULL};
    static const char *const policies[] = {"Honor", "Ignore", NULL};
    memset(out, 0, sizeof *out);
    if (!json_is_object(c))
        return hoist_errf(d->err, "%s: expected an object, got %s", where, json_type_name(c));
    bool has_skew, has_min;
    int when_i = -1, aff = HOIST_SPREAD_HONOR, taints = HOIST_SPREAD_IGNORE;
    const char *tk;
    if (get_i32(d, c, where, "maxSkew", 1, INT32_MAX, &out->max_skew, &has_skew) < 0 ||
        need_str(d, c, where, "topologyKey", &tk) < 0 ||
        get_enum(d, c, where, "whenUnsatisfiable", when, &when_i) < 0 ||
        selector_member(d, c, where, "labelSelector", &out->selector, &out->has_selector) < 0 ||
        get_i32(d, c, where, "minDomains", 1, INT32_MAX, &out->min_domains, &has_min) < 0 ||
        get_strings(d, c, where, "matchLabelKeys", &out->match_label_keys) < 0 ||
        get_enum(d, c, where, "nodeAffinityPolicy", policies, &aff) < 0 ||
        get_enum(d, c, where, "nodeTaintsPolicy", policies, &taints) < 0)
        return -1;
    if (!has_skew)
        return hoist_errf(d->err, "%s.maxSkew: required", where);
    if (when_i < 0)
        return hoist_errf(d->err, "%s.whenUnsatisfiable: required", where);
    out->topology_key = canonical_copy(d, tk);
    out->do_not_schedule = when_i == 1;
    out->node_affinity_policy = (hoist_spread_policy)aff;
    out->node_taints_policy = (hoist_spread_policy)taints;
    return 0;
}

static int pod_volumes(dec *d, const json_t *spec, const char *sp, hoist_pod *p)
{
    json_t *vols;
    if (get_arr(d, spec, sp, "volumes", &vols) < 0)
        return -1;
    if (!vols)
        return 0;
    size_t n = json_array_size(vols), k = 0;
    if (!n)
        return 0;
    fpath vp = path_key(sp, "volumes");
    p->claims.items = hoist_arena_calloc(d->a, n, sizeof *p->claims.items);
    if (!p->claims.items)
        return hoist_errf(d->err, "%s: out of memory", vp.s);
    for (size_t i = 0; i < n; i++) {
        fpath ip = path_index(vp.s, i);
        json_t *v = json_array_get(vols, i), *pvc, *eph, *x;
        if (!json_is_object(v))
            return hoist_errf(d->err, "%s: expected an object, got %s", ip.s, json_type_name(v));
        if (get_obj(d, v, ip.s, "persistentVolumeClaim", &pvc) < 0 ||
            get_obj(d, v, ip.s, "ephemeral", &eph) < 0)
            return -1;
        if (pvc) {
            fpath cp = path_key(ip.s, "persistentVolumeClaim");
            if (need_str(d, pvc, cp.s, "claimName", &p->claims.items[k]) < 0)
                return -1;
            k++;
        } else if (eph) {
            const char *vname;
            if (need_str(d, v, ip.s, "name", &vname) < 0)
                return -1;
            p->claims.items[k] = hoist_arena_sprintf(d->a, "%s-%s", p->name, vname);
            if (!p->claims.items[k++])
                return hoist_errf(d->err, "%s: out of memory", ip.s);
        }
        if ((x = json_object_get(v, "emptyDir")) && !json_is_null(x))
            p->has_empty_dir = true;
        if ((x = json_object_get(v, "hostPath")) && !json_is_null(x))
            p->has_host_path = true;
    }
    p->claims.n = k;
    return 0;
}

/* Annotations the pod decisions read. */
static int pod_annotations(dec *d, const json_t *meta, const char *mp, hoist_pod *p)
{
    json_t *ann;
    p->safe_to_evict = -1;
    if (get_obj(d, meta, mp, "annotations", &ann) < 0)
        return -1;
    if (!ann)
        return 0;
    fpath ap = path_key(mp, "annotations");
    const char *k;
    json_t *v;
    json_object_foreach(ann, k, v) {
        if (!json_is_string(v))
            return type_error(d, ap.s, k, "a string", v);
    }
    const char *s;
    if ((s = json_string_value(json_object_get(ann, "hoist.dev/do-not-disrupt"))) &&
        strcmp(s, "true") == 0)
        p->do_not_disrupt = true;
    if ((s = json_string_value(json_object_get(ann, "karpenter.sh/do-not-disrupt"))) &&
        strcmp(s, "true") == 0)
        p->do_not_disrupt = true;
    if ((s = json_string_value(
             json_object_get(ann, "cluster-autoscaler.kubernetes.io/safe-to-evict"))))
        p->safe_to_evict = strcmp(s, "true") == 0 ? 1 : strcmp(s, "false") == 0 ? 0 : -1;
    if ((s = json_string_value(json_object_get(ann, "controller.kubernetes.io/pod-deletion-cost")))) {
        char *end;
        errno = 0;
        long long c = strtoll(s, &end, 10);
        if (!*s || *end || errno || c < INT32_MIN || c > INT32_MAX)
            return hoist_errf(d->err, "%s.controller.kubernetes.io/pod-deletion-cost: \"%s\" is "
                              "not a 32-bit integer", ap.s, s);
        p->has_deletion_cost = true;
        p->deletion_cost = (int32_t)c;
    }
    return 0;
}

/* Decode a Pod-shaped object (a Pod, or a pod template when `template`):
 * obj holds "metadata" and "spec"; paths start at `base` ("" or "spec.template"). */
static int decode_pod_body(dec *d, const json_t *obj, const char *base, hoist_pod *p)
{
    json_t *meta, *spec, *status;
    fpath mp = path_key(base, "metadata"), sp = path_key(base, "spec");
    if (get_obj(d, obj, base, "metadata", &meta) < 0 || get_obj(d, obj, base, "spec", &spec) < 0)
        return -1;
    if (labels_member(d, meta, mp.s, "labels", &p->labels) < 0 ||
        pod_annotations(d, meta, mp.s, p) < 0 || get_str(d, meta, mp.s, "uid", &p->uid) < 0)
        return -1;
    p->terminating = member(meta, "deletionTimestamp") != NULL;

    json_t *owners;
    if (get_arr(d, meta, mp.s, "ownerReferences", &owners) < 0)
        return -1;
    if (owners) {
        fpath op = path_key(mp.s, "ownerReferences");
        for (size_t i = 0; i < json_array_size(owners); i++) {
            json_t *ref = json_array_get(owners, i);
            fpath ip = path_index(op.s, i);
            bool controller = false;
            if (!json_is_object(ref))
                return hoist_errf(d->err, "%s: expected an object, got %s", ip.s,
                                  json_type_name(ref));
            if (get_bool(d, ref, ip.s, "controller", &controller) < 0)
                return -1;
            if (!controller)
                continue;
            if (get_str(d, ref, ip.s, "kind", &p->owner_kind) < 0 ||
                get_str(d, ref, ip.s, "name", &p->owner_name) < 0)
                return -1;
            p->daemonset_owned = p->owner_kind && strcmp(p->owner_kind, "DaemonSet") == 0;
            break;
        }
    }

    p->scheduler_name = "default-scheduler";
    p->phase = "";
    if (!spec)
        return hoist_errf(d->err, "%s: required", sp.s);
    const char *sched;
    if (get_str(d, spec, sp.s, "nodeName", &p->node_name) < 0 ||
        get_i32(d, spec, sp.s, "priority", INT32_MIN, INT32_MAX, &p->priority,
                &p->has_priority) < 0 ||
        get_str(d, spec, sp.s, "priorityClassName", &p->priority_class_name) < 0 ||
        get_str(d, spec, sp.s, "schedulerName", &sched) < 0 ||
        labels_member(d, spec, sp.s, "nodeSelector", &p->node_selector) < 0)
        return -1;
    if (p->node_name && !*p->node_name)
        p->node_name = NULL;
    if (sched && *sched)
        p->scheduler_name = sched;

    json_t *aff, *x;
    if (get_obj(d, spec, sp.s, "affinity", &aff) < 0)
        return -1;
    if (aff) {
        fpath ap = path_key(sp.s, "affinity");
        if (get_obj(d, aff, ap.s, "nodeAffinity", &x) < 0 ||
            (x && pod_node_affinity(d, x, path_key(ap.s, "nodeAffinity").s, p) < 0))
            return -1;
        if (get_obj(d, aff, ap.s, "podAffinity", &x) < 0 ||
            (x && pod_affinity(d, x, path_key(ap.s, "podAffinity").s, &p->pod_affinity,
                               &p->pod_affinity_preferred) < 0))
            return -1;
        if (get_obj(d, aff, ap.s, "podAntiAffinity", &x) < 0 ||
            (x && pod_affinity(d, x, path_key(ap.s, "podAntiAffinity").s, &p->pod_anti_affinity,
                               &p->pod_anti_affinity_preferred) < 0))
            return -1;
    }

    if (get_arr(d, spec, sp.s, "tolerations", &x) < 0)
        return -1;
    if (x && hoist_tolerations_from_json(d->a, x, &p->tolerations, d->err) < 0)
        return hoist_err_prefix(d->err, "%s", path_key(sp.s, "tolerations").s);

    if (get_arr(d, spec, sp.s, "topologySpreadConstraints", &x) < 0)
        return -1;
    if (x && json_array_size(x)) {
        fpath tp = path_key(sp.s, "topologySpreadConstraints");
        p->spread = hoist_arena_calloc(d->a, json_array_size(x), sizeof *p->spread);
        if (!p->spread)
            return hoist_errf(d->err, "%s: out of memory", tp.s);
        for (size_t i = 0; i < json_array_size(x); i++)
            if (spread_constraint(d, json_array_get(x, i), path_index(tp.s, i).s,
                                  &p->spread[i]) < 0)
                return -1;
        p->n_spread = json_array_size(x);
    }

    if (pod_volumes(d, spec, sp.s, p) < 0)
        return -1;

    if (pod_requests(&d->o->names, spec, sp.s, &p->requests, d->err) < 0)
        return -1;

    if (get_obj(d, obj, base, "status", &status) < 0)
        return -1;
    const char *phase;
    if (get_str(d, status, path_key(base, "status").s, "phase", &phase) < 0)
        return -1;
    if (phase) {
        p->phase = phase;
        p->finished = strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0;
    }
    return 0;
}

/* ---- the other kinds -------------------------------------------------- */

static int decode_node(dec *d, const json_t *obj, hoist_node *n)
{
    json_t *meta = member(obj, "metadata"), *spec, *status;
    if (get_obj(d, obj, "", "spec", &spec) < 0 || get_obj(d, obj, "", "status", &status) < 0 ||
        labels_member(d, meta, "metadata", "labels", &n->labels) < 0 ||
        get_str(d, spec, "spec", "providerID", &n->provider_id) < 0 ||
        taints_member(d, spec, "spec", "taints", &n->taints) < 0 ||
        get_bool(d, spec, "spec", "unschedulable", &n->unschedulable) < 0 ||
        resources_member(d, status, "status", "capacity", &n->capacity, NULL) < 0 ||
        resources_member(d, status, "status", "allocatable", &n->allocatable, NULL) < 0)
        return -1;
    const char *created;
    if (get_str(d, meta, "metadata", "creationTimestamp", &created) < 0)
        return -1;
    if (created && hoist_timestamp_parse(created, &n->created, d->err) < 0)
        return hoist_err_prefix(d->err, "metadata.creationTimestamp");
    n->ready = -1;
    json_t *conds;
    if (get_arr(d, status, "status", "conditions", &conds) < 0)
        return -1;
    for (size_t i = 0; conds && i < json_array_size(conds); i++) {
        json_t *c = json_array_get(conds, i);
        fpath cp = path_index("status.conditions", i);
        const char *type, *st;
        if (!json_is_object(c))
            return hoist_errf(d->err, "%s: expected an object, got %s", cp.s, json_type_name(c));
        if (get_str(d, c, cp.s, "type", &type) < 0 || get_str(d, c, cp.s, "status", &st) < 0)
            return -1;
        if (type && strcmp(type, "Ready") == 0)
            n->ready = st && strcmp(st, "True") == 0;
    }
    return 0;
}

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return h;
}

/* nodes of a budget: "N%" (0..100) or "N". */
static int budget_nodes(dec *d, const json_t *b, const char *where, hoist_budget *out)
{
    json_t *v = member(b, "nodes");
    char *end;
    if (!v)
        return hoist_errf(d->err, "%s.nodes: required", where);
    if (json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) <= INT32_MAX) {
        out->nodes = (int32_t)json_integer_value(v);
        return 0;
    }
    if (!json_is_string(v))
        return type_error(d, where, "nodes", "a string such as \"10%\" or \"5\"", v);
    const char *s = json_string_value(v);
    errno = 0;
    long x = isdigit((unsigned char)*s) ? strtol(s, &end, 10) : -1;
    if (x < 0 || errno || (strcmp(end, "%") != 0 && *end) || x > INT32_MAX ||
        (*end == '%' && x > 100))
        return hoist_errf(d->err, "%s.nodes: invalid value \"%s\" (expected \"N%%\" with N in "
                          "0..100, or a node count)", where, s);
    out->nodes = (int32_t)x;
    out->nodes_is_percent = *end == '%';
    return 0;
}

static int decode_budgets(dec *d, const json_t *dis, const char *dp, hoist_nodepool *np)
{
    json_t *arr;
    if (get_arr(d, dis, dp, "budgets", &arr) < 0)
        return -1;
    if (!arr) {
        np->budgets = hoist_arena_calloc(d->a, 1, sizeof *np->budgets);
        if (!np->budgets)
            return hoist_errf(d->err, "%s: out of memory", dp);
        np->budgets[0] = (hoist_budget){true, 10, NULL, HOIST_UNSET, HOIST_REASON_ALL};
        np->n_budgets = 1;
        return 0;
    }
    size_t n = json_array_size(arr);
    fpath bp = path_key(dp, "budgets");
    if (!n)
        return 0;
    np->budgets = hoist_arena_calloc(d->a, n, sizeof *np->budgets);
    if (!np->budgets)
        return hoist_errf(d->err, "%s: out of memory", bp.s);
    for (size_t i = 0; i < n; i++) {
        fpath ip = path_index(bp.s, i);
        json_t *b = json_array_get(arr, i), *reasons;
        hoist_budget *out = &np->budgets[i];
        if (!json_is_object(b))
            return hoist_errf(d->err, "%s: expected an object, got %s", ip.s, json_type_name(b));
        out->duration = HOIST_UNSET;
        if (budget_nodes(d, b, ip.s, out) < 0 ||
            get_str(d, b, ip.s, "schedule", &out->schedule) < 0 ||
            duration_member(d, b, ip.s, "duration", false, &out->duration) < 0 ||
            get_arr(d, b, ip.s, "reasons", &reasons) < 0)
            return -1;
        if ((out->schedule != NULL) != (out->duration != HOIST_UNSET))
            return hoist_errf(d->err, "%s: schedule and duration must be given together", ip.s);
        if (!reasons) {
            out->reasons = HOIST_REASON_ALL;
            continue;
        }
        static const char *const names[] = {"Empty", "Drifted", "Underutilized", NULL};
        for (size_t k = 0; k < json_array_size(reasons); k++) {
            json_t *r = json_array_get(reasons, k);
            fpath rp = path_key(ip.s, "reasons");
            int bit = -1;
            for (int w = 0; names[w] && json_is_string(r); w++)
                if (strcmp(json_string_value(r), names[w]) == 0)
                    bit = w;
            if (bit < 0)
                return hoist_errf(d->err, "%s: unknown reason %s%s%s (expected Empty, Drifted or "
                                  "Underutilized)", path_index(rp.s, k).s,
                                  json_is_string(r) ? "\"" : "",
                                  json_is_string(r) ? json_string_value(r) : json_type_name(r),
                                  json_is_string(r) ? "\"" : "");
            out->reasons |= 1u << bit;
        }
    }
    np->n_budgets = n;
    return 0;
}

static int decode_nodepool(dec *d, const json_t *obj, const char *api, hoist_nodepool *np)
{
    if (strcmp(api, "hoist.dev/v1") != 0 && strcmp(api, "karpenter.sh/v1") != 0)
        return hoist_errf(d->err, "apiVersion: \"%s\" is not supported (use hoist.dev/v1 or "
                          "karpenter.sh/v1)", api);
    json_t *spec, *tmpl, *tmeta = NULL, *tspec = NULL, *ref, *kubelet, *dis, *meta, *ann;
    if (get_obj(d, obj, "", "metadata", &meta) < 0 ||
        get_obj(d, meta, "metadata", "annotations", &ann) < 0)
        return -1;
    const char *s2s = NULL;
    if (get_str(d, ann, "metadata.annotations", "hoist.dev/spot-to-spot-consolidation", &s2s) < 0)
        return -1;
    np->spot_to_spot = s2s && strcmp(s2s, "true") == 0;
    if (get_obj(d, obj, "", "spec", &spec) < 0)
        return -1;
    if (!spec)
        return hoist_errf(d->err, "spec: required");
    if (get_i32(d, spec, "spec", "weight", 0, 100, &np->weight, NULL) < 0 ||
        get_obj(d, spec, "spec", "template", &tmpl) < 0 ||
        get_obj(d, tmpl, "spec.template", "metadata", &tmeta) < 0 ||
        get_obj(d, tmpl, "spec.template", "spec", &tspec) < 0)
        return -1;
    if (!tspec)
        return hoist_errf(d->err, "spec.template.spec: required");
    const char *ts = "spec.template.spec";
    if (labels_member(d, tmeta, "spec.template.metadata", "labels", &np->labels) < 0 ||
        taints_member(d, tspec, ts, "taints", &np->taints) < 0 ||
        taints_member(d, tspec, ts, "startupTaints", &np->startup_taints) < 0)
        return -1;
    json_t *reqs;
    if (get_arr(d, tspec, ts, "requirements", &reqs) < 0)
        return -1;
    if (reqs && hoist_reqs_from_json(d->a, reqs, true, &np->requirements, d->err) < 0)
        return hoist_err_prefix(d->err, "%s.requirements", ts);
    np->expire_after = 720 * 3600;
    np->termination_grace_period = HOIST_UNSET;
    if (duration_member(d, tspec, ts, "expireAfter", true, &np->expire_after) < 0 ||
        duration_member(d, tspec, ts, "terminationGracePeriod", false,
                        &np->termination_grace_period) < 0 ||
        get_obj(d, tspec, ts, "nodeClassRef", &ref) < 0 ||
        get_obj(d, tspec, ts, "kubelet", &kubelet) < 0)
        return -1;
    if (ref) {
        const char *rp = "spec.template.spec.nodeClassRef";
        if (get_str(d, ref, rp, "group", &np->node_class_group) < 0 ||
            need_str(d, ref, rp, "kind", &np->node_class_kind) < 0 ||
            need_str(d, ref, rp, "name", &np->node_class_name) < 0)
            return -1;
    }
    if (kubelet) {
        np->has_kubelet = true;
        if (hoist_kubelet_from_json(&d->o->names, kubelet, &np->kubelet, d->err) < 0)
            return hoist_err_prefix(d->err, "%s.kubelet", ts);
    }
    if (resources_member(d, spec, "spec", "limits", &np->limits, &np->limits_set) < 0 ||
        get_obj(d, spec, "spec", "disruption", &dis) < 0)
        return -1;
    static const char *const policies[] = {"WhenEmptyOrUnderutilized", "WhenEmpty", NULL};
    int policy = HOIST_CONSOLIDATE_WHEN_EMPTY_OR_UNDERUTILIZED;
    if (get_enum(d, dis, "spec.disruption", "consolidationPolicy", policies, &policy) < 0 ||
        duration_member(d, dis, "spec.disruption", "consolidateAfter", true,
                        &np->consolidate_after) < 0 ||
        decode_budgets(d, dis, "spec.disruption", np) < 0)
        return -1;
    np->consolidation_policy = (hoist_consolidation_policy)policy;
    char *dump = json_dumps(spec, JSON_COMPACT | JSON_SORT_KEYS);
    if (!dump)
        return hoist_errf(d->err, "spec: out of memory");
    np->spec_hash = fnv1a(dump);
    free(dump);
    dump = json_dumps(tmpl ? tmpl : json_null(), JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    if (!dump)
        return hoist_errf(d->err, "spec: out of memory");
    np->template_hash = fnv1a(dump);
    free(dump);
    return 0;
}

static int decode_nodeclass(dec *d, const json_t *obj, hoist_nodeclass *nc)
{
    json_t *spec, *kubelet, *bdm;
    if (get_obj(d, obj, "", "spec", &spec) < 0 || get_obj(d, spec, "spec", "kubelet", &kubelet) < 0 ||
        get_arr(d, spec, "spec", "blockDeviceMappings", &bdm) < 0 ||
        get_str(d, spec, "spec", "instanceStorePolicy", &nc->instance_store_policy) < 0)
        return -1;
    if (kubelet) {
        nc->has_kubelet = true;
        if (hoist_kubelet_from_json(&d->o->names, kubelet, &nc->kubelet, d->err) < 0)
            return hoist_err_prefix(d->err, "spec.kubelet");
    }
    if (nc->instance_store_policy && strcmp(nc->instance_store_policy, "RAID0") == 0)
        nc->kubelet.instance_store_raid0 = true;
    size_t n = bdm ? json_array_size(bdm) : 0, root = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *m = json_array_get(bdm, i);
        bool is_root = false;
        fpath ip = path_index("spec.blockDeviceMappings", i);
        if (!json_is_object(m))
            return hoist_errf(d->err, "%s: expected an object, got %s", ip.s, json_type_name(m));
        if (get_bool(d, m, ip.s, "rootVolume", &is_root) < 0)
            return -1;
        if (is_root) {
            root = i;
            break;
        }
    }
    if (n) {
        fpath ip = path_index("spec.blockDeviceMappings", root);
        json_t *ebs, *size;
        if (get_obj(d, json_array_get(bdm, root), ip.s, "ebs", &ebs) < 0)
            return -1;
        if (ebs && (size = member(ebs, "volumeSize"))) {
            fpath vp = path_key(path_key(ip.s, "ebs").s, "volumeSize");
            if (get_quantity(d, size, vp.s, &nc->kubelet.root_volume) < 0)
                return -1;
            nc->kubelet.has_root_volume = true;
        }
    }
    return 0;
}

static int decode_pv(dec *d, const json_t *obj, hoist_pv *pv)
{
    json_t *spec, *cap, *ref, *aff, *csi, *req;
    if (get_obj(d, obj, "", "spec", &spec) < 0 ||
        get_str(d, spec, "spec", "storageClassName", &pv->storage_class) < 0 ||
        get_obj(d, spec, "spec", "capacity", &cap) < 0 ||
        get_obj(d, spec, "spec", "claimRef", &ref) < 0 ||
        get_obj(d, spec, "spec", "nodeAffinity", &aff) < 0 ||
        get_obj(d, spec, "spec", "csi", &csi) < 0)
        return -1;
    json_t *storage = member(cap, "storage");
    if (storage && get_quantity(d, storage, "spec.capacity.storage", &pv->capacity) < 0)
        return -1;
    if (get_str(d, ref, "spec.claimRef", "namespace", &pv->claim_ns) < 0 ||
        get_str(d, ref, "spec.claimRef", "name", &pv->claim_name) < 0 ||
        get_str(d, csi, "spec.csi", "driver", &pv->csi_driver) < 0 ||
        get_obj(d, aff, "spec.nodeAffinity", "required", &req) < 0)
        return -1;
    if (req && node_selector(d, req, "spec.nodeAffinity.required", &pv->node_affinity) < 0)
        return -1;
    return 0;
}

static int decode_pvc(dec *d, const json_t *obj, hoist_pvc *pvc)
{
    json_t *spec, *res, *reqs, *status;
    pvc->phase = "";
    if (get_obj(d, obj, "", "spec", &spec) < 0 ||
        get_str(d, spec, "spec", "storageClassName", &pvc->storage_class) < 0 ||
        get_str(d, spec, "spec", "volumeName", &pvc->volume_name) < 0 ||
        get_obj(d, spec, "spec", "resources", &res) < 0 ||
        get_obj(d, res, "spec.resources", "requests", &reqs) < 0 ||
        get_obj(d, obj, "", "status", &status) < 0)
        return -1;
    json_t *storage = member(reqs, "storage");
    if (storage &&
        get_quantity(d, storage, "spec.resources.requests.storage", &pvc->request) < 0)
        return -1;
    const char *phase;
    if (get_str(d, status, "status", "phase", &phase) < 0)
        return -1;
    if (phase)
        pvc->phase = phase;
    if (pvc->volume_name && !*pvc->volume_name)
        pvc->volume_name = NULL;
    return 0;
}

static int decode_storage_class(dec *d, const json_t *obj, hoist_storage_class *sc)
{
    static const char *const modes[] = {"Immediate", "WaitForFirstConsumer", NULL};
    int mode = 0;
    json_t *topo, *meta = member(obj, "metadata"), *ann;
    if (need_str(d, obj, "", "provisioner", &sc->provisioner) < 0 ||
        get_enum(d, obj, "", "volumeBindingMode", modes, &mode) < 0 ||
        get_arr(d, obj, "", "allowedTopologies", &topo) < 0 ||
        get_obj(d, meta, "metadata", "annotations", &ann) < 0)
        return -1;
    sc->wait_for_first_consumer = mode == 1;
    json_t *def = json_object_get(ann, "storageclass.kubernetes.io/is-default-class");
    sc->is_default = json_is_string(def) && strcmp(json_string_value(def), "true") == 0;
    size_t n = topo ? json_array_size(topo) : 0;
    if (!n)
        return 0;
    sc->allowed_topologies.terms = hoist_arena_calloc(d->a, n, sizeof(hoist_node_term));
    if (!sc->allowed_topologies.terms)
        return hoist_errf(d->err, "allowedTopologies: out of memory");
    for (size_t i = 0; i < n; i++) {
        fpath ip = path_index("allowedTopologies", i);
        json_t *t = json_array_get(topo, i), *exprs;
        if (!json_is_object(t))
            return hoist_errf(d->err, "%s: expected an object, got %s", ip.s, json_type_name(t));
        if (get_arr(d, t, ip.s, "matchLabelExpressions", &exprs) < 0)
            return -1;
        /* Topology selector requirements are "key in values"; restate them as
         * node selector requirements. */
        json_t *reqs = json_array();
        for (size_t k = 0; reqs && exprs && k < json_array_size(exprs); k++) {
            json_t *e = json_array_get(exprs, k);
            if (!json_is_object(e)) {
                json_decref(reqs);
                fpath ep = path_key(ip.s, "matchLabelExpressions");
                return hoist_errf(d->err, "%s: expected an object, got %s",
                                  path_index(ep.s, k).s, json_type_name(e));
            }
            json_t *r = json_pack("{s:O?, s:s, s:O?}", "key", json_object_get(e, "key"),
                                  "operator", "In", "values", json_object_get(e, "values"));
            if (!r || json_array_append_new(reqs, r) < 0) {
                json_decref(reqs);
                return hoist_errf(d->err, "%s: out of memory", ip.s);
            }
        }
        if (!reqs)
            return hoist_errf(d->err, "%s: out of memory", ip.s);
        int rc = hoist_reqs_from_json(d->a, reqs, false,
                                      &sc->allowed_topologies.terms[i].match_expressions, d->err);
        json_decref(reqs);
        if (rc < 0)
            return hoist_err_prefix(d->err, "%s.matchLabelExpressions", ip.s);
    }
    sc->allowed_topologies.n = n;
    return 0;
}

static int int_or_percent(dec *d, const json_t *obj, const char *parent, const char *key,
                          hoist_int_or_percent *out)
{
    json_t *v = member(obj, key);
    memset(out, 0, sizeof *out);
    if (!v)
        return 0;
    out->set = true;
    if (json_is_integer(v)) {
        if (json_integer_value(v) < 0 || json_integer_value(v) > INT32_MAX)
            return hoist_errf(d->err, "%s: %" JSON_INTEGER_FORMAT " out of range",
                              path_key(parent, key).s, json_integer_value(v));
        out->value = (int32_t)json_integer_value(v);
        return 0;
    }
    if (!json_is_string(v))
        return type_error(d, parent, key, "an integer or a percentage", v);
    const char *s = json_string_value(v);
    char *end;
    errno = 0;
    long x = isdigit((unsigned char)*s) ? strtol(s, &end, 10) : -1;
    if (x < 0 || errno || strcmp(end, "%") != 0 || x > INT32_MAX)
        return hoist_errf(d->err, "%s: invalid value \"%s\" (expected an integer or \"N%%\")",
                          path_key(parent, key).s, s);
    out->percent = true;
    out->value = (int32_t)x;
    return 0;
}

static int decode_pdb(dec *d, const json_t *obj, hoist_pdb *pdb)
{
    json_t *spec, *status;
    if (get_obj(d, obj, "", "spec", &spec) < 0 || get_obj(d, obj, "", "status", &status) < 0 ||
        selector_member(d, spec, "spec", "selector", &pdb->selector, &pdb->has_selector) < 0 ||
        int_or_percent(d, spec, "spec", "minAvailable", &pdb->min_available) < 0 ||
        int_or_percent(d, spec, "spec", "maxUnavailable", &pdb->max_unavailable) < 0)
        return -1;
    if (pdb->min_available.set && pdb->max_unavailable.set)
        return hoist_errf(d->err, "spec: minAvailable and maxUnavailable are mutually exclusive");
    if (status) {
        pdb->has_status = true;
        if (get_i32(d, status, "status", "currentHealthy", 0, INT32_MAX, &pdb->current_healthy,
                    NULL) < 0 ||
            get_i32(d, status, "status", "desiredHealthy", 0, INT32_MAX, &pdb->desired_healthy,
                    NULL) < 0 ||
            get_i32(d, status, "status", "disruptionsAllowed", 0, INT32_MAX,
                    &pdb->disruptions_allowed, NULL) < 0 ||
            get_i32(d, status, "status", "expectedPods", 0, INT32_MAX, &pdb->expected_pods,
                    NULL) < 0)
            return -1;
    }
    return 0;
}

static int decode_namespace(dec *d, const json_t *obj, hoist_namespace *ns)
{
    hoist_labels given;
    if (labels_member(d, member(obj, "metadata"), "metadata", "labels", &given) < 0)
        return -1;
    /* The API server sets kubernetes.io/metadata.name to the name on every
     * namespace, overriding whatever was written. */
    hoist_kv *pairs = hoist_arena_calloc(d->a, given.n + 1, sizeof *pairs);
    if (!pairs)
        return hoist_errf(d->err, "metadata.labels: out of memory");
    if (given.n)
        memcpy(pairs, given.items, given.n * sizeof *pairs);
    pairs[given.n] = (hoist_kv){HOIST_LABEL_NAMESPACE_NAME, ns->name};
    if (hoist_labels_from_pairs(d->a, pairs, given.n + 1, &ns->labels) < 0)
        return hoist_errf(d->err, "metadata.labels: out of memory");
    return 0;
}

/* ---- the snapshot ----------------------------------------------------- */

uint64_t hoist_pod_labels_hash(const hoist_pod *p)
{
    /* FNV-1a over "ns\0k\0v\0k\0v\0..." */
    uint64_t h = 0xcbf29ce484222325ull;
#define MIX_STRING(str)                                        \
    for (const unsigned char *c = (const unsigned char *)(str);; c++) { \
        h = (h ^ *c) * 0x100000001b3ull;                        \
        if (!*c)                                                \
            break;                                              \
    }
    MIX_STRING(p->ns ? p->ns : "");
    for (size_t i = 0; i < p->labels.n; i++) {
        MIX_STRING(p->labels.items[i].key);
        MIX_STRING(p->labels.items[i].value);
    }
#undef MIX_STRING
    return h;
}

bool hoist_pod_same_labels(const hoist_pod *a, const hoist_pod *b)
{
    if (a == b)
        return true;
    if (a->labels.n != b->labels.n || strcmp(a->ns ? a->ns : "", b->ns ? b->ns : "") != 0)
        return false;
    for (size_t i = 0; i < a->labels.n; i++)
        if (strcmp(a->labels.items[i].key, b->labels.items[i].key) != 0 ||
            strcmp(a->labels.items[i].value, b->labels.items[i].value) != 0)
            return false;
    return true;
}

void hoist_objects_init(hoist_objects *o)
{
    memset(o, 0, sizeof *o);
    hoist_arena_init(&o->arena, 0);
    hoist_resource_names_init(&o->names);
}

void hoist_objects_free(hoist_objects *o)
{
    free(o->pods);
    free(o->nodes);
    free(o->nodepools);
    free(o->nodeclasses);
    free(o->pvs);
    free(o->pvcs);
    free(o->storage_classes);
    free(o->daemonsets);
    free(o->pdbs);
    free(o->namespaces);
    free(o->warnings);
    free(o->errors);
    hoist_resource_names_free(&o->names);
    hoist_arena_free(&o->arena);
    memset(o, 0, sizeof *o);
}

/* Make room for one more element in the array whose pointer is at *slot
 * (a `T **` passed as void *). Returns 0 or -1. */
static int grow(void *slot, size_t n, size_t *cap, size_t elem)
{
    if (n < *cap)
        return 0;
    size_t nc = *cap ? *cap * 2 : 16;
    void *old;
    memcpy(&old, slot, sizeof old);
    void *p = realloc(old, nc * elem);
    if (!p)
        return -1;
    memcpy(slot, &p, sizeof p);
    *cap = nc;
    return 0;
}

/* Append item to o->field; evaluates to 0, or -1 when out of memory (the
 * array is then unchanged). */
#define APPEND(o, field, item)                                                       \
    (grow((void *)&(o)->field, (o)->n_##field, &(o)->cap_##field, sizeof *(o)->field) \
         ? -1                                                                        \
         : ((o)->field[(o)->n_##field++] = (item), 0))

/* Counts before a load, to undo it. */
typedef struct marks {
    size_t pods, nodes, nodepools, nodeclasses, pvs, pvcs, storage_classes, daemonsets, pdbs,
        namespaces, warnings, errors;
} marks;

static marks take_marks(const hoist_objects *o)
{
    return (marks){o->n_pods, o->n_nodes, o->n_nodepools, o->n_nodeclasses, o->n_pvs,
                   o->n_pvcs, o->n_storage_classes, o->n_daemonsets, o->n_pdbs,
                   o->n_namespaces, o->n_warnings, o->n_errors};
}

static void restore_marks(hoist_objects *o, const marks *m)
{
    o->n_pods = m->pods;
    o->n_nodes = m->nodes;
    o->n_nodepools = m->nodepools;
    o->n_nodeclasses = m->nodeclasses;
    o->n_pvs = m->pvs;
    o->n_pvcs = m->pvcs;
    o->n_storage_classes = m->storage_classes;
    o->n_daemonsets = m->daemonsets;
    o->n_pdbs = m->pdbs;
    o->n_namespaces = m->namespaces;
    o->n_warnings = m->warnings;
    o->n_errors = m->errors;
}

/* "file:line: " context for a message. */
static int prefix_source(hoist_err *err, const hoist_source *s)
{
    if (s->line > 0)
        return hoist_err_prefix(err, "%s:%d", s->file, s->line);
    return hoist_err_prefix(err, "%s", s->file);
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

static bool is_known_kind(const char *kind)
{
    static const char *const kinds[] = {"Pod", "Node", "NodePool", "PersistentVolume",
                                        "PersistentVolumeClaim", "StorageClass", "DaemonSet",
                                        "PodDisruptionBudget", "Namespace", NULL};
    for (int i = 0; kinds[i]; i++)
        if (strcmp(kind, kinds[i]) == 0)
            return true;
    return ends_with(kind, "NodeClass");
}

static bool is_namespaced(const char *kind)
{
    return strcmp(kind, "Pod") == 0 || strcmp(kind, "PersistentVolumeClaim") == 0 ||
           strcmp(kind, "DaemonSet") == 0 || strcmp(kind, "PodDisruptionBudget") == 0;
}


/* Decode and append; message without the source prefix on failure. */
static int add_object(hoist_objects *o, const json_t *obj, const hoist_source *src,
                      const char *api, const char *kind, const char *ns, const char *name,
                      hoist_err *err)
{
    dec d = {o, &o->arena, err};
    hoist_source s = *src;
    s.file = hoist_arena_strdup(&o->arena, src->file);
    const char *nm = hoist_arena_strdup(&o->arena, name);
    const char *nsc = ns ? hoist_arena_strdup(&o->arena, ns) : NULL;
    if (!s.file || !nm || (ns && !nsc))
        return hoist_errf(err, "out of memory");

#define NEW(type, var)                                          \
    type *var = hoist_arena_calloc(&o->arena, 1, sizeof *var);  \
    if (!var)                                                   \
        return hoist_errf(err, "out of memory");                \
    var->src = s

    if (strcmp(kind, "Pod") == 0) {
        NEW(hoist_pod, p);
        p->ns = nsc;
        p->name = nm;
        if (decode_pod_body(&d, obj, "", p) < 0)
            return -1;
        p->labels_hash = hoist_pod_labels_hash(p);
        return APPEND(o, pods, p) < 0 ? hoist_errf(err, "out of memory") : 0;
    }
    if (strcmp(kind, "Node") == 0) {
        NEW(hoist_node, n);
        n->name = nm;
        if (decode_node(&d, obj, n) < 0)
            return -1;
        return APPEND(o, nodes, n) < 0 ? hoist_errf(err, "out of memory") : 0;
    }
    if (strcmp(kind, "NodePool") == 0) {
        NEW(hoist_nodepool, np);
        np->name = nm;
        np->api_version = hoist_arena_strdup(&o->arena, api);
        if (decode_nodepool(&d, obj, api, np) < 0)
            return -1;
        return APPEND(o, nodepools, np) < 0 ? hoist_errf(err, "out of memory") : 0;
    }
    if (ends_with(kind, "NodeClass")) {
        NEW(hoist_nodeclass, nc);
        nc->name = nm;
        nc->kind = hoist_arena_strdup(&o->arena, kind);
        nc->api_version = hoist_arena_strdup(&o->arena, api);
        if (decode_nodeclass(&d, obj, nc) < 0)
            return -1;
        return APPEND(o, nodeclasses, nc) < 0 ? hoist_errf(err, "out of memory") : 0;
    }
    if (strcmp(kind, "PersistentVolume") == 0) {
        NEW(hoist_pv, pv);
        pv->name = nm;
        if (decode_pv(&d, obj, pv) < 0)
            return -1;
        return APPEND(o, pvs, pv) < 0 ? hoist_errf(err, "out of memory") : 0;
    }
    if (strcmp(kind, "PersistentVolumeClaim") == 0) {
        NEW(hoist_pvc, pvc);
        pvc->ns = nsc;
        pvc->name = nm;
        if (decode_pvc(&d, obj, pvc) < 0)
            return -1;
        return APPEND(o, pvcs, pvc) < 0 ? hoist_errf(err, "out of memory") : 0;
    }
    if (strcmp(kind, "StorageClass") == 0) {
        NEW(hoist_storage_class, sc);
        sc->name = nm;
        if (decode_storage_class(&d, obj, sc) < 0)
            return -1;
        return APPEND(o, storage_classes, sc) < 0 ? hoist_errf(err, "out of memory") : 0;
    }
    if (strcmp(kind, "DaemonSet") == 0) {
        NEW(hoist_daemonset, ds);
        ds->ns = nsc;
        ds->name = nm;
        json_t *spec, *tmpl;
        if (get_obj(&d, obj, "", "spec", &spec) < 0 ||
            get_obj(&d, spec, "spec", "template", &tmpl) < 0)
            return -1;
        if (!tmpl)
            return hoist_errf(err, "spec.template: required");
        ds->pod.src = s;
        ds->pod.ns = nsc;
        ds->pod.name = nm;
        if (decode_pod_body(&d, tmpl, "spec.template", &ds->pod) < 0)
            return -1;
        ds->pod.owner_kind = "DaemonSet";
        ds->pod.owner_name = nm;
        ds->pod.daemonset_owned = true;
        return APPEND(o, daemonsets, ds) < 0 ? hoist_errf(err, "out of memory") : 0;
    }
    if (strcmp(kind, "PodDisruptionBudget") == 0) {
        NEW(hoist_pdb, pdb);
        pdb->ns = nsc;
        pdb->name = nm;
        if (decode_pdb(&d, obj, pdb) < 0)
            return -1;
        return APPEND(o, pdbs, pdb) < 0 ? hoist_errf(err, "out of memory") : 0;
    }
    if (strcmp(kind, "Namespace") == 0) {
        NEW(hoist_namespace, ns_obj);
        ns_obj->name = nm;
        if (decode_namespace(&d, obj, ns_obj) < 0)
            return -1;
        return APPEND(o, namespaces, ns_obj) < 0 ? hoist_errf(err, "out of memory") : 0;
    }
#undef NEW
    const char *w = hoist_arena_sprintf(&o->arena, "%s%s%d: %s %s%s%s: kind not used by hoist, "
                                        "skipped", s.file, s.line > 0 ? ":" : "", s.line, kind,
                                        ns ? ns : "", ns ? "/" : "", name);
    if (!w || APPEND(o, warnings, w) < 0)
        return hoist_errf(err, "out of memory");
    return 0;
}

int hoist_objects_add_json(hoist_objects *o, const json_t *obj, const hoist_source *src,
                           hoist_err *err)
{
    hoist_source s = src ? *src : (hoist_source){"<object>", 0, 0};
    if (!s.file)
        s.file = "<object>";
    if (!json_is_object(obj)) {
        hoist_errf(err, "document %d: expected an object", s.index);
        return prefix_source(err, &s);
    }
    json_t *api = json_object_get(obj, "apiVersion"), *kind = json_object_get(obj, "kind");
    json_t *meta = json_object_get(obj, "metadata");
    json_t *name = json_is_object(meta) ? json_object_get(meta, "name") : NULL;
    json_t *ns = json_is_object(meta) ? json_object_get(meta, "namespace") : NULL;
    const char *missing = !json_is_string(api) || !*json_string_value(api) ? "apiVersion"
                          : !json_is_string(kind) || !*json_string_value(kind) ? "kind"
                          : !json_is_object(meta) ? "metadata"
                          : !json_is_string(name) || !*json_string_value(name) ? "metadata.name"
                          : NULL;
    if (missing) {
        const json_t *v = !strcmp(missing, "apiVersion") ? api
                          : !strcmp(missing, "kind") ? kind
                          : !strcmp(missing, "metadata") ? meta : name;
        if (json_is_string(kind))
            hoist_errf(err, "%s (document %d): %s: %s", json_string_value(kind), s.index, missing,
                       v && !json_is_null(v) && !json_is_string(v) ? "expected a string"
                                                                   : "required");
        else
            hoist_errf(err, "document %d: %s: %s", s.index, missing,
                       v && !json_is_null(v) && !json_is_string(v) ? "expected a string"
                                                                   : "required");
        return prefix_source(err, &s);
    }
    const char *k = json_string_value(kind), *nm = json_string_value(name);
    const char *namespace = NULL;
    if (!is_known_kind(k)) {
        namespace = json_is_string(ns) && *json_string_value(ns) ? json_string_value(ns) : NULL;
    } else if (is_namespaced(k)) {
        if (ns && !json_is_null(ns) && !json_is_string(ns)) {
            hoist_errf(err, "%s %s: metadata.namespace: expected a string, got %s", k, nm,
                       json_type_name(ns));
            return prefix_source(err, &s);
        }
        namespace = json_is_string(ns) && *json_string_value(ns) ? json_string_value(ns)
                                                                  : "default";
    }
    marks m = take_marks(o);
    if (add_object(o, obj, &s, json_string_value(api), k, namespace, nm, err) < 0) {
        restore_marks(o, &m);
        hoist_err_prefix(err, "%s %s%s%s", k, namespace ? namespace : "", namespace ? "/" : "",
                         nm);
        return prefix_source(err, &s);
    }
    return 0;
}

/* Add every document of docs; strict mode undoes everything on failure. */
static int add_docs(hoist_objects *o, const hoist_docs *docs, hoist_err *err)
{
    marks m = take_marks(o);
    for (size_t i = 0; i < docs->n; i++) {
        const hoist_doc *doc = &docs->items[i];
        hoist_source src = {doc->file, doc->line, doc->index};
        hoist_err local;
        local.msg[0] = '\0';
        if (hoist_objects_add_json(o, doc->json, &src, &local) == 0)
            continue;
        if (o->keep_going) {
            const char *copy = hoist_arena_strdup(&o->arena, local.msg);
            if (copy && APPEND(o, errors, copy) == 0)
                continue;
            hoist_errf(err, "%s: out of memory", doc->file);
        } else if (err) {
            *err = local;
        }
        restore_marks(o, &m);
        return -1;
    }
    return 0;
}

int hoist_objects_load_buffer(hoist_objects *o, const char *name, const char *buf, size_t len,
                              hoist_err *err)
{
    hoist_docs docs;
    hoist_docs_init(&docs);
    int rc = hoist_docs_load_buffer(&docs, name, buf, len, err);
    if (rc == 0)
        rc = add_docs(o, &docs, err);
    hoist_docs_free(&docs);
    return rc;
}

int hoist_objects_load_stream(hoist_objects *o, const char *name, FILE *f, hoist_err *err)
{
    hoist_docs docs;
    hoist_docs_init(&docs);
    int rc = hoist_docs_load_stream(&docs, name, f, err);
    if (rc == 0)
        rc = add_docs(o, &docs, err);
    hoist_docs_free(&docs);
    return rc;
}

int hoist_objects_load_file(hoist_objects *o, const char *path, hoist_err *err)
{
    if (strcmp(path, "-") == 0)
        return hoist_objects_load_stream(o, "-", stdin, err);
    FILE *f = fopen(path, "rb");
    if (!f)
        return hoist_errf(err, "%s: cannot open: %s", path, strerror(errno));
    int rc = hoist_objects_load_stream(o, path, f, err);
    fclose(f);
    return rc;
}

/* ---- lookups ---------------------------------------------------------- */

static bool same(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

const hoist_pod *hoist_objects_find_pod(const hoist_objects *o, const char *ns, const char *name)
{
    ns = ns ? ns : "default";
    for (size_t i = 0; i < o->n_pods; i++)
        if (same(o->pods[i]->name, name) && same(o->pods[i]->ns, ns))
            return o->pods[i];
    return NULL;
}

const hoist_node *hoist_objects_find_node(const hoist_objects *o, const char *name)
{
    for (size_t i = 0; i < o->n_nodes; i++)
        if (same(o->nodes[i]->name, name))
            return o->nodes[i];
    return NULL;
}

const hoist_nodepool *hoist_objects_find_nodepool(const hoist_objects *o, const char *name)
{
    for (size_t i = 0; i < o->n_nodepools; i++)
        if (same(o->nodepools[i]->name, name))
            return o->nodepools[i];
    return NULL;
}

const hoist_nodeclass *hoist_objects_find_nodeclass(const hoist_objects *o, const char *kind,
                                                    const char *name)
{
    for (size_t i = 0; i < o->n_nodeclasses; i++)
        if (same(o->nodeclasses[i]->name, name) && (!kind || same(o->nodeclasses[i]->kind, kind)))
            return o->nodeclasses[i];
    return NULL;
}

const hoist_pvc *hoist_objects_find_pvc(const hoist_objects *o, const char *ns, const char *name)
{
    ns = ns ? ns : "default";
    for (size_t i = 0; i < o->n_pvcs; i++)
        if (same(o->pvcs[i]->name, name) && same(o->pvcs[i]->ns, ns))
            return o->pvcs[i];
    return NULL;
}

const hoist_pv *hoist_objects_find_pv(const hoist_objects *o, const char *name)
{
    for (size_t i = 0; i < o->n_pvs; i++)
        if (same(o->pvs[i]->name, name))
            return o->pvs[i];
    return NULL;
}

const hoist_storage_class *hoist_objects_find_storage_class(const hoist_objects *o,
                                                            const char *name)
{
    for (size_t i = 0; i < o->n_storage_classes; i++)
        if (same(o->storage_classes[i]->name, name))
            return o->storage_classes[i];
    return NULL;
}

const hoist_namespace *hoist_objects_find_namespace(const hoist_objects *o, const char *name)
{
    for (size_t i = 0; i < o->n_namespaces; i++)
        if (same(o->namespaces[i]->name, name))
            return o->namespaces[i];
    return NULL;
}

bool hoist_objects_namespace_matches(const hoist_objects *o, const char *ns,
                                     const hoist_reqs *selector)
{
    ns = ns ? ns : "default";
    const hoist_namespace *n = hoist_objects_find_namespace(o, ns);
    if (n)
        return hoist_reqs_match_labels(selector, &n->labels);
    hoist_kv only = {HOIST_LABEL_NAMESPACE_NAME, ns};
    hoist_labels implicit = {1, &only};
    return hoist_reqs_match_labels(selector, &implicit);
}
