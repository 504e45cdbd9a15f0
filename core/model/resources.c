/* model/resources.c - dense resource vectors and their JSON form; see resources.h. */
#include "model/resources.h"

#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/labels.h"

static const char *const standard_names[HOIST_RES_N_STANDARD] = {
    "cpu", "memory", "ephemeral-storage", "pods",
};

void hoist_resource_names_init(hoist_resource_names *t)
{
    memset(t, 0, sizeof *t);
    for (int i = 0; i < HOIST_RES_N_STANDARD; i++)
        t->names[i] = (char *)standard_names[i];
    t->count = HOIST_RES_N_STANDARD;
}

void hoist_resource_names_free(hoist_resource_names *t)
{
    for (int i = HOIST_RES_N_STANDARD; i < t->count; i++) {
        free(t->names[i]);
        t->names[i] = NULL;
    }
    t->count = HOIST_RES_N_STANDARD;
}

int hoist_resource_names_find(const hoist_resource_names *t, const char *name)
{
    if (!name)
        return -1;
    for (int i = 0; i < t->count; i++)
        if (strcmp(t->names[i], name) == 0)
            return i;
    return -1;
}

/* True when "hugepages-<size>" has a valid positive quantity as its size. */
static bool hugepages_size_ok(const char *size)
{
    hoist_quantity q;
    return hoist_quantity_parse(size, &q, NULL) == 0 && q.milli > 0;
}

static bool in_kubernetes_domain(const char *name, size_t prefix_len)
{
    static const char domain[] = "kubernetes.io";
    size_t dl = sizeof domain - 1;
    if (prefix_len < dl || memcmp(name + prefix_len - dl, domain, dl) != 0)
        return false;
    return prefix_len == dl || name[prefix_len - dl - 1] == '.';
}

const char *hoist_resource_name_problem(const char *name)
{
    if (!name || !*name)
        return "must not be empty";
    if (strncmp(name, "requests.", 9) == 0)
        return "the \"requests.\" prefix is for quotas, not resource lists";
    const char *why = hoist_label_key_problem(name);
    if (why)
        return why;
    const char *slash = strchr(name, '/');
    if (slash) {
        /* kubernetes.io is reserved for native resources, none of which has a prefix. */
        if (in_kubernetes_domain(name, (size_t)(slash - name)))
            return "the kubernetes.io domain is reserved for native resources";
        return NULL;
    }
    /* Without a domain only native resource names are allowed. */
    static const char *const native[] = {"cpu", "memory", "ephemeral-storage", "pods", "storage"};
    for (size_t i = 0; i < sizeof native / sizeof native[0]; i++)
        if (strcmp(name, native[i]) == 0)
            return NULL;
    if (strncmp(name, "hugepages-", 10) == 0)
        return hugepages_size_ok(name + 10) ? NULL : "hugepages size must be a positive quantity";
    if (strncmp(name, "attachable-volumes-", 19) == 0 && name[19])
        return NULL;
    return "not a native resource; extended resources need a domain (e.g. example.com/foo)";
}

int hoist_resource_names_intern(hoist_resource_names *t, const char *name, hoist_err *err)
{
    int slot = hoist_resource_names_find(t, name);
    if (slot >= 0)
        return slot;
    const char *why = hoist_resource_name_problem(name);
    if (why) {
        hoist_errf(err, "invalid resource name \"%s\": %s", name ? name : "", why);
        return -1;
    }
    if (t->count >= HOIST_RES_MAX) {
        hoist_errf(err, "resource \"%s\": too many distinct resource names (at most %d)", name,
                   HOIST_RES_MAX);
        return -1;
    }
    char *copy = strdup(name);
    if (!copy) {
        hoist_errf(err, "out of memory");
        return -1;
    }
    t->names[t->count] = copy;
    return t->count++;
}

static hoist_milli add_sat(hoist_milli a, hoist_milli b)
{
    hoist_milli r;
    if (__builtin_add_overflow(a, b, &r))
        return a > 0 ? INT64_MAX : INT64_MIN;
    return r;
}

static hoist_milli sub_sat(hoist_milli a, hoist_milli b)
{
    hoist_milli r;
    if (__builtin_sub_overflow(a, b, &r))
        return b < 0 ? INT64_MAX : INT64_MIN;
    return r;
}

void hoist_resources_add(hoist_resources *a, const hoist_resources *b)
{
    for (int i = 0; i < HOIST_RES_MAX; i++)
        a->v[i] = add_sat(a->v[i], b->v[i]);
}

void hoist_resources_sub(hoist_resources *a, const hoist_resources *b)
{
    for (int i = 0; i < HOIST_RES_MAX; i++)
        a->v[i] = sub_sat(a->v[i], b->v[i]);
}

void hoist_resources_max(hoist_resources *a, const hoist_resources *b)
{
    for (int i = 0; i < HOIST_RES_MAX; i++)
        if (b->v[i] > a->v[i])
            a->v[i] = b->v[i];
}

bool hoist_resources_fit(const hoist_resources *need, const hoist_resources *have)
{
    for (int i = 0; i < HOIST_RES_MAX; i++)
        if (need->v[i] > have->v[i])
            return false;
    return true;
}

bool hoist_resources_is_zero(const hoist_resources *r)
{
    for (int i = 0; i < HOIST_RES_MAX; i++)
        if (r->v[i] != 0)
            return false;
    return true;
}

int hoist_quantity_from_json(const json_t *j, hoist_quantity *out, hoist_err *err)
{
    char buf[64];
    const char *s;
    if (json_is_string(j)) {
        s = json_string_value(j);
    } else if (json_is_integer(j)) {
        snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(j));
        s = buf;
    } else if (json_is_real(j)) {
        /* The shortest spelling that reads back as the same double, so 0.1
         * is "0.1" and not "0.10000000000000001". */
        double d = json_real_value(j);
        for (int prec = 1; prec <= DBL_DECIMAL_DIG; prec++) {
            snprintf(buf, sizeof buf, "%.*g", prec, d);
            if (strtod(buf, NULL) == d)
                break;
        }
        /* %g writes "e+20"; a quantity exponent takes the sign too. */
        s = buf;
    } else {
        return hoist_errf(err, "expected a quantity (string or number), got %s",
                          hoist_json_type_name(j));
    }
    return hoist_quantity_parse(s, out, err);
}

int hoist_resources_from_json(hoist_resource_names *t, const json_t *obj, hoist_resources *out,
                              hoist_err *err)
{
    if (!obj || json_is_null(obj))
        return 0;
    if (!json_is_object(obj))
        return hoist_errf(err, "expected an object of resource quantities, got %s",
                          hoist_json_type_name(obj));
    /* Decode into a copy so a failure leaves out untouched. */
    hoist_resources sum = *out;
    const char *name;
    json_t *val;
    json_object_foreach((json_t *)obj, name, val) {
        hoist_quantity q;
        if (hoist_quantity_from_json(val, &q, err) < 0)
            return hoist_err_prefix(err, "%s", name);
        int slot = hoist_resource_names_intern(t, name, err);
        if (slot < 0)
            return hoist_err_prefix(err, "%s", name);
        if (__builtin_add_overflow(sum.v[slot], q.milli, &sum.v[slot]))
            return hoist_errf(err, "%s: total overflows", name);
    }
    *out = sum;
    return 0;
}

hoist_qformat hoist_resource_format(const char *name)
{
    if (strcmp(name, "memory") == 0 || strcmp(name, "ephemeral-storage") == 0 ||
        strcmp(name, "storage") == 0 || strncmp(name, "hugepages-", 10) == 0)
        return HOIST_QFMT_BINARY_SI;
    return HOIST_QFMT_DECIMAL_SI;
}

json_t *hoist_resources_to_json(const hoist_resource_names *t, const hoist_resources *r,
                                bool keep_zero_standard)
{
    json_t *obj = json_object();
    if (!obj)
        return NULL;
    for (int i = 0; i < t->count && i < HOIST_RES_MAX; i++) {
        if (r->v[i] == 0 && !(keep_zero_standard && i < HOIST_RES_N_STANDARD))
            continue;
        hoist_quantity q = {r->v[i], hoist_resource_format(t->names[i])};
        char buf[64];
        hoist_quantity_format(q, buf, sizeof buf);
        if (json_object_set_new(obj, t->names[i], json_string(buf)) < 0) {
            json_decref(obj);
            return NULL;
        }
    }
    return obj;
}
