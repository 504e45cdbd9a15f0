/* model/labels.c - label sets, key aliases and Kubernetes label syntax; see labels.h. */
#include "model/labels.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- syntax ------------------------------------------------------------ */

static bool is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool is_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* Why s[0..n) is not a Kubernetes "name" part (also a label value when
 * empty_ok), or NULL when it is one. */
static const char *name_problem(const char *s, size_t n, bool empty_ok)
{
    if (n == 0)
        return empty_ok ? NULL : "name part must not be empty";
    if (n > 63)
        return "must be no more than 63 characters";
    if (!is_alnum(s[0]) || !is_alnum(s[n - 1]))
        return "must begin and end with an alphanumeric character";
    for (size_t i = 1; i + 1 < n; i++) {
        char c = s[i];
        if (!is_alnum(c) && c != '-' && c != '_' && c != '.')
            return "may contain only alphanumerics, '-', '_' and '.'";
    }
    return NULL;
}

/* Why s[0..n) is not a DNS-1123 subdomain, or NULL. */
static const char *subdomain_problem(const char *s, size_t n)
{
    if (n == 0)
        return "prefix must not be empty";
    if (n > 253)
        return "prefix must be no more than 253 characters";
    /* Dot-separated labels of [a-z0-9-], each beginning and ending alphanumeric. */
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == '.') {
            if (i == start || !is_lower_alnum(s[start]) || !is_lower_alnum(s[i - 1]))
                return "prefix must be a lowercase DNS subdomain (e.g. example.com)";
            start = i + 1;
        } else if (!is_lower_alnum(s[i]) && s[i] != '-') {
            return "prefix must be a lowercase DNS subdomain (e.g. example.com)";
        }
    }
    return NULL;
}

const char *hoist_label_key_problem(const char *key)
{
    if (!key || !*key)
        return "must not be empty";
    const char *slash = strchr(key, '/');
    if (!slash)
        return name_problem(key, strlen(key), false);
    if (strchr(slash + 1, '/'))
        return "must contain at most one '/'";
    const char *why = subdomain_problem(key, (size_t)(slash - key));
    if (why)
        return why;
    return name_problem(slash + 1, strlen(slash + 1), false);
}

const char *hoist_label_value_problem(const char *value)
{
    if (!value)
        return "must be a string";
    return name_problem(value, strlen(value), true);
}

bool hoist_label_key_valid(const char *key)
{
    return hoist_label_key_problem(key) == NULL;
}

bool hoist_label_value_valid(const char *value)
{
    return hoist_label_value_problem(value) == NULL;
}

/* ---- aliases ----------------------------------------------------------- */

static const struct {
    const char *alias;
    const char *canonical;
} label_aliases[] = {
    {"karpenter.sh/capacity-type", HOIST_LABEL_CAPACITY_TYPE},
    {"karpenter.sh/nodepool", HOIST_LABEL_NODEPOOL},
    {"failure-domain.beta.kubernetes.io/zone", HOIST_LABEL_ZONE},
    {"failure-domain.beta.kubernetes.io/region", HOIST_LABEL_REGION},
    {"beta.kubernetes.io/instance-type", HOIST_LABEL_INSTANCE_TYPE},
    {"beta.kubernetes.io/arch", HOIST_LABEL_ARCH},
    {"beta.kubernetes.io/os", HOIST_LABEL_OS},
};

#define AWS_INSTANCE_PREFIX "karpenter.k8s.aws/instance-"

/* Canonical spellings of the instance attribute labels Karpenter's AWS
 * provider publishes; hoist_label_canonical answers these without an arena. */
static const char *const instance_labels[] = {
    HOIST_LABEL_INSTANCE_PREFIX "accelerator-count",
    HOIST_LABEL_INSTANCE_PREFIX "accelerator-manufacturer",
    HOIST_LABEL_INSTANCE_PREFIX "accelerator-name",
    HOIST_LABEL_INSTANCE_PREFIX "capability-flex",
    HOIST_LABEL_INSTANCE_PREFIX "category",
    HOIST_LABEL_INSTANCE_PREFIX "cpu",
    HOIST_LABEL_INSTANCE_PREFIX "cpu-manufacturer",
    HOIST_LABEL_INSTANCE_PREFIX "cpu-sustained-clock-speed-mhz",
    HOIST_LABEL_INSTANCE_PREFIX "ebs-bandwidth",
    HOIST_LABEL_INSTANCE_PREFIX "encryption-in-transit-supported",
    HOIST_LABEL_INSTANCE_PREFIX "family",
    HOIST_LABEL_INSTANCE_PREFIX "generation",
    HOIST_LABEL_INSTANCE_PREFIX "gpu-count",
    HOIST_LABEL_INSTANCE_PREFIX "gpu-manufacturer",
    HOIST_LABEL_INSTANCE_PREFIX "gpu-memory",
    HOIST_LABEL_INSTANCE_PREFIX "gpu-name",
    HOIST_LABEL_INSTANCE_PREFIX "hypervisor",
    HOIST_LABEL_INSTANCE_PREFIX "local-nvme",
    HOIST_LABEL_INSTANCE_PREFIX "memory",
    HOIST_LABEL_INSTANCE_PREFIX "network-bandwidth",
    HOIST_LABEL_INSTANCE_PREFIX "size",
};

#define N_ALIASES (sizeof label_aliases / sizeof label_aliases[0])
#define N_INSTANCE (sizeof instance_labels / sizeof instance_labels[0])
#define AWS_PREFIX_LEN (sizeof AWS_INSTANCE_PREFIX - 1)
#define HOIST_PREFIX_LEN (sizeof HOIST_LABEL_INSTANCE_PREFIX - 1)

/* The attribute part X of "karpenter.k8s.aws/instance-X", or NULL. */
static const char *aws_instance_attribute(const char *key)
{
    if (strncmp(key, AWS_INSTANCE_PREFIX, AWS_PREFIX_LEN) != 0 || !key[AWS_PREFIX_LEN])
        return NULL;
    return key + AWS_PREFIX_LEN;
}

const char *hoist_label_canonical(const char *key)
{
    if (!key)
        return NULL;
    /* every alias starts with "karpenter.", "failure-domain." or "beta.":
     * most keys (kubernetes.io/hostname too) leave here; this runs for every
     * label lookup */
    switch (key[0]) {
    case 'k':
        if (strncmp(key, "karpenter.", 10) != 0)
            return key;
        break;
    case 'f':
        if (strncmp(key, "failure-domain.", 15) != 0)
            return key;
        break;
    case 'b':
        if (strncmp(key, "beta.", 5) != 0)
            return key;
        break;
    default:
        return key;
    }
    for (size_t i = 0; i < N_ALIASES; i++)
        if (strcmp(key, label_aliases[i].alias) == 0)
            return label_aliases[i].canonical;
    const char *attr = aws_instance_attribute(key);
    if (attr) {
        for (size_t i = 0; i < N_INSTANCE; i++)
            if (strcmp(attr, instance_labels[i] + HOIST_PREFIX_LEN) == 0)
                return instance_labels[i];
    }
    return key;
}

const char *hoist_label_canonical_arena(hoist_arena *a, const char *key)
{
    const char *c = hoist_label_canonical(key);
    if (c != key)
        return c;
    const char *attr = key ? aws_instance_attribute(key) : NULL;
    if (!attr)
        return key;
    return hoist_arena_sprintf(a, "%s%s", HOIST_LABEL_INSTANCE_PREFIX, attr);
}

/* Canonical key into buf when it is not a fixed string; NULL when it does
 * not fit (no valid key is that long). */
static const char *canonical_buf(const char *key, char *buf, size_t len)
{
    const char *c = hoist_label_canonical(key);
    if (c != key)
        return c;
    const char *attr = aws_instance_attribute(key);
    if (!attr)
        return key;
    int n = snprintf(buf, len, "%s%s", HOIST_LABEL_INSTANCE_PREFIX, attr);
    return n >= 0 && (size_t)n < len ? buf : NULL;
}

/* ---- label sets -------------------------------------------------------- */

const char *hoist_labels_get(const hoist_labels *l, const char *key)
{
    if (!l || !key)
        return NULL;
    char buf[512];
    key = canonical_buf(key, buf, sizeof buf);
    if (!key)
        return NULL;
    size_t lo = 0, hi = l->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(key, l->items[mid].key);
        if (c == 0)
            return l->items[mid].value;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

typedef struct indexed_kv {
    hoist_kv kv;
    size_t index; /* position in the input, so later duplicates can win */
} indexed_kv;

static int indexed_kv_cmp(const void *pa, const void *pb)
{
    const indexed_kv *a = pa, *b = pb;
    int c = strcmp(a->kv.key, b->kv.key);
    if (c)
        return c;
    return a->index < b->index ? -1 : a->index > b->index;
}

int hoist_labels_from_pairs(hoist_arena *a, const hoist_kv *pairs, size_t n, hoist_labels *out)
{
    out->n = 0;
    out->items = NULL;
    if (n == 0)
        return 0;
    indexed_kv *tmp = malloc(n * sizeof *tmp);
    if (!tmp)
        return -1;
    for (size_t i = 0; i < n; i++) {
        tmp[i].kv.key = pairs[i].key;
        tmp[i].kv.value = pairs[i].value ? pairs[i].value : "";
        tmp[i].index = i;
    }
    /* Canonicalise first so an alias and its canonical key collide. */
    for (size_t i = 0; i < n; i++) {
        tmp[i].kv.key = hoist_label_canonical_arena(a, tmp[i].kv.key);
        if (!tmp[i].kv.key) {
            free(tmp);
            return -1;
        }
    }
    qsort(tmp, n, sizeof *tmp, indexed_kv_cmp);
    hoist_kv *items = hoist_arena_alloc(a, n * sizeof *items);
    if (!items) {
        free(tmp);
        return -1;
    }
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        /* Within a run of equal keys the last (highest index) wins. */
        if (i + 1 < n && strcmp(tmp[i].kv.key, tmp[i + 1].kv.key) == 0)
            continue;
        items[m].key = hoist_arena_strdup(a, tmp[i].kv.key);
        items[m].value = hoist_arena_strdup(a, tmp[i].kv.value);
        if (!items[m].key || !items[m].value) {
            free(tmp);
            return -1;
        }
        m++;
    }
    free(tmp);
    out->n = m;
    out->items = items;
    return 0;
}

int hoist_label_key_check(const char *key, hoist_err *err)
{
    const char *why = hoist_label_key_problem(key);
    if (why)
        return hoist_errf(err, "invalid label key \"%s\": %s", key ? key : "", why);
    return 0;
}

int hoist_label_value_check(const char *value, hoist_err *err)
{
    const char *why = hoist_label_value_problem(value);
    if (why)
        return hoist_errf(err, "invalid label value \"%s\": %s", value ? value : "", why);
    return 0;
}

const char *hoist_json_type_name(const json_t *j)
{
    if (!j)
        return "nothing";
    switch (json_typeof(j)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    }
    return "an unknown JSON type";
}

int hoist_labels_from_json(hoist_arena *a, const json_t *obj, hoist_labels *out, hoist_err *err)
{
    out->n = 0;
    out->items = NULL;
    if (!obj || json_is_null(obj))
        return 0;
    if (!json_is_object(obj))
        return hoist_errf(err, "expected an object of labels, got %s", hoist_json_type_name(obj));
    size_t n = json_object_size(obj);
    if (n == 0)
        return 0;
    const char **canon = NULL;
    hoist_kv *pairs = malloc(n * sizeof *pairs);
    if (!pairs)
        return hoist_errf(err, "out of memory");
    size_t i = 0;
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)obj, key, val) {
        if (hoist_label_key_check(key, err) < 0)
            goto fail;
        if (!json_is_string(val)) {
            hoist_errf(err, "%s: label value must be a string, got %s", key,
                       hoist_json_type_name(val));
            goto fail;
        }
        const char *v = json_string_value(val);
        if (hoist_label_value_check(v, err) < 0) {
            hoist_err_prefix(err, "%s", key);
            goto fail;
        }
        pairs[i].key = key;
        pairs[i].value = v;
        i++;
    }
    /* An alias and its canonical key may both be present; they must agree. */
    canon = malloc(n * sizeof *canon);
    if (!canon) {
        hoist_errf(err, "out of memory");
        goto fail;
    }
    for (size_t x = 0; x < n; x++) {
        canon[x] = hoist_label_canonical_arena(a, pairs[x].key);
        if (!canon[x]) {
            hoist_errf(err, "out of memory");
            goto fail;
        }
        if (canon[x] == pairs[x].key)
            continue; /* not an alias: JSON keys are unique, only aliases collide */
        for (size_t y = 0; y < n; y++) {
            if (y != x && strcmp(canon[x], pairs[y].key) == 0 &&
                strcmp(pairs[x].value, pairs[y].value) != 0) {
                hoist_errf(err, "%s: value \"%s\" conflicts with \"%s\" given for %s",
                           pairs[x].key, pairs[x].value, pairs[y].value, pairs[y].key);
                goto fail;
            }
        }
    }
    if (hoist_labels_from_pairs(a, pairs, n, out) < 0) {
        hoist_errf(err, "out of memory");
        goto fail;
    }
    free(canon);
    free(pairs);
    return 0;
fail:
    free(canon);
    free(pairs);
    return -1;
}

json_t *hoist_labels_to_json(const hoist_labels *l)
{
    json_t *obj = json_object();
    if (!obj)
        return NULL;
    for (size_t i = 0; l && i < l->n; i++) {
        if (json_object_set_new(obj, l->items[i].key, json_string(l->items[i].value)) < 0) {
            json_decref(obj);
            return NULL;
        }
    }
    return obj;
}
