/* model/taints.c - taints and tolerations; see taints.h. */
#include "model/taints.h"

#include <stdio.h>
#include <string.h>

#include "model/labels.h"

static const char *const effect_names[] = {"NoSchedule", "PreferNoSchedule", "NoExecute"};
#define N_EFFECTS ((int)(sizeof effect_names / sizeof effect_names[0]))

const char *hoist_taint_effect_name(hoist_taint_effect e)
{
    return (int)e >= 0 && (int)e < N_EFFECTS ? effect_names[e] : "?";
}

int hoist_taint_effect_parse(const char *s)
{
    for (int i = 0; s && i < N_EFFECTS; i++)
        if (strcmp(s, effect_names[i]) == 0)
            return i;
    return -1;
}

bool hoist_toleration_tolerates(const hoist_toleration *t, const hoist_taint *x)
{
    if (t->effect >= 0 && t->effect != (int)x->effect)
        return false;
    if (t->key && t->key[0] && strcmp(t->key, x->key) != 0)
        return false;
    if (t->op == HOIST_TOLERATE_EXISTS)
        return true;
    return strcmp(t->value ? t->value : "", x->value ? x->value : "") == 0;
}

const hoist_taint *hoist_tolerations_first_untolerated(const hoist_tolerations *tols,
                                                       const hoist_taints *taints)
{
    for (size_t i = 0; taints && i < taints->n; i++) {
        const hoist_taint *x = &taints->items[i];
        if (x->effect == HOIST_TAINT_PREFER_NO_SCHEDULE)
            continue;
        bool ok = false;
        for (size_t k = 0; tols && k < tols->n && !ok; k++)
            ok = hoist_toleration_tolerates(&tols->items[k], x);
        if (!ok)
            return x;
    }
    return NULL;
}

bool hoist_tolerations_tolerate_all(const hoist_tolerations *tols, const hoist_taints *taints)
{
    return hoist_tolerations_first_untolerated(tols, taints) == NULL;
}

/* An optional string member: NULL when absent or null, "" kept. -1 on a
 * wrong type. */
static int opt_string(const json_t *obj, const char *field, const char *path, const char **out,
                      hoist_err *err)
{
    const json_t *j = json_object_get(obj, field);
    *out = NULL;
    if (!j || json_is_null(j))
        return 0;
    if (!json_is_string(j))
        return hoist_errf(err, "%s.%s: expected a string, got %s", path, field,
                          hoist_json_type_name(j));
    *out = json_string_value(j);
    return 0;
}

static int decode_effect(const char *s, const char *path, hoist_err *err)
{
    int e = hoist_taint_effect_parse(s);
    if (e < 0)
        hoist_errf(err, "%s.effect: unknown effect \"%s\" (expected NoSchedule, "
                        "PreferNoSchedule or NoExecute)", path, s);
    return e;
}

static int decode_taint(hoist_arena *a, const json_t *obj, const char *path, hoist_taint *out,
                        hoist_err *err)
{
    if (!json_is_object(obj))
        return hoist_errf(err, "%s: expected an object, got %s", path, hoist_json_type_name(obj));
    const char *key, *value, *effect;
    if (opt_string(obj, "key", path, &key, err) < 0 ||
        opt_string(obj, "value", path, &value, err) < 0 ||
        opt_string(obj, "effect", path, &effect, err) < 0)
        return -1;
    if (!key)
        return hoist_errf(err, "%s.key: missing", path);
    if (hoist_label_key_check(key, err) < 0)
        return hoist_err_prefix(err, "%s.key", path);
    if (!value)
        value = "";
    if (hoist_label_value_check(value, err) < 0)
        return hoist_err_prefix(err, "%s.value", path);
    if (!effect || !*effect)
        return hoist_errf(err, "%s.effect: missing", path);
    int e = decode_effect(effect, path, err);
    if (e < 0)
        return -1;
    out->key = hoist_arena_strdup(a, key);
    out->value = hoist_arena_strdup(a, value);
    out->effect = (hoist_taint_effect)e;
    if (!out->key || !out->value)
        return hoist_errf(err, "out of memory");
    return 0;
}

int hoist_taints_from_json(hoist_arena *a, const json_t *array, hoist_taints *out, hoist_err *err)
{
    out->n = 0;
    out->items = NULL;
    if (!array || json_is_null(array))
        return 0;
    if (!json_is_array(array))
        return hoist_errf(err, "expected an array of taints, got %s", hoist_json_type_name(array));
    size_t n = json_array_size(array);
    if (n == 0)
        return 0;
    hoist_taint *items = hoist_arena_calloc(a, n, sizeof *items);
    if (!items)
        return hoist_errf(err, "out of memory");
    for (size_t i = 0; i < n; i++) {
        char path[32];
        snprintf(path, sizeof path, "[%zu]", i);
        if (decode_taint(a, json_array_get(array, i), path, &items[i], err) < 0)
            return -1;
    }
    out->n = n;
    out->items = items;
    return 0;
}

static int decode_toleration(hoist_arena *a, const json_t *obj, const char *path,
                             hoist_toleration *out, hoist_err *err)
{
    if (!json_is_object(obj))
        return hoist_errf(err, "%s: expected an object, got %s", path, hoist_json_type_name(obj));
    const char *key, *op, *value, *effect;
    if (opt_string(obj, "key", path, &key, err) < 0 ||
        opt_string(obj, "operator", path, &op, err) < 0 ||
        opt_string(obj, "value", path, &value, err) < 0 ||
        opt_string(obj, "effect", path, &effect, err) < 0)
        return -1;
    if (!key)
        key = "";
    if (!value)
        value = "";
    hoist_toleration_op top;
    if (!op || !*op || strcmp(op, "Equal") == 0)
        top = HOIST_TOLERATE_EQUAL;
    else if (strcmp(op, "Exists") == 0)
        top = HOIST_TOLERATE_EXISTS;
    else
        return hoist_errf(err, "%s.operator: unknown operator \"%s\" (expected Equal or Exists)",
                          path, op);
    if (*key && hoist_label_key_check(key, err) < 0)
        return hoist_err_prefix(err, "%s.key", path);
    if (!*key && top != HOIST_TOLERATE_EXISTS)
        return hoist_errf(err, "%s.operator: must be Exists when key is empty", path);
    if (top == HOIST_TOLERATE_EXISTS && *value)
        return hoist_errf(err, "%s.value: must be empty when operator is Exists", path);
    if (hoist_label_value_check(value, err) < 0)
        return hoist_err_prefix(err, "%s.value", path);
    int e = -1;
    if (effect && *effect && (e = decode_effect(effect, path, err)) < 0)
        return -1;

    int64_t seconds = -1;
    const json_t *js = json_object_get(obj, "tolerationSeconds");
    if (js && !json_is_null(js)) {
        if (!json_is_integer(js))
            return hoist_errf(err, "%s.tolerationSeconds: expected an integer, got %s", path,
                              hoist_json_type_name(js));
        if (e != HOIST_TAINT_NO_EXECUTE)
            return hoist_errf(err, "%s.tolerationSeconds: only allowed with effect NoExecute",
                              path);
        json_int_t s = json_integer_value(js);
        seconds = s < 0 ? 0 : (int64_t)s; /* Kubernetes: zero and negative evict at once */
    }
    out->key = hoist_arena_strdup(a, key);
    out->value = hoist_arena_strdup(a, value);
    if (!out->key || !out->value)
        return hoist_errf(err, "out of memory");
    out->op = top;
    out->effect = e;
    out->toleration_seconds = seconds;
    return 0;
}

int hoist_tolerations_from_json(hoist_arena *a, const json_t *array, hoist_tolerations *out,
                                hoist_err *err)
{
    out->n = 0;
    out->items = NULL;
    if (!array || json_is_null(array))
        return 0;
    if (!json_is_array(array))
        return hoist_errf(err, "expected an array of tolerations, got %s",
                          hoist_json_type_name(array));
    size_t n = json_array_size(array);
    if (n == 0)
        return 0;
    hoist_toleration *items = hoist_arena_calloc(a, n, sizeof *items);
    if (!items)
        return hoist_errf(err, "out of memory");
    for (size_t i = 0; i < n; i++) {
        char path[32];
        snprintf(path, sizeof path, "[%zu]", i);
        if (decode_toleration(a, json_array_get(array, i), path, &items[i], err) < 0)
            return -1;
    }
    out->n = n;
    out->items = items;
    return 0;
}

json_t *hoist_taints_to_json(const hoist_taints *taints)
{
    json_t *arr = json_array();
    if (!arr)
        return NULL;
    for (size_t i = 0; taints && i < taints->n; i++) {
        const hoist_taint *x = &taints->items[i];
        json_t *o = json_object();
        if (!o || json_array_append_new(arr, o) < 0 ||
            json_object_set_new(o, "key", json_string(x->key)) < 0 ||
            (x->value && *x->value && json_object_set_new(o, "value", json_string(x->value)) < 0) ||
            json_object_set_new(o, "effect", json_string(hoist_taint_effect_name(x->effect))) < 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

json_t *hoist_tolerations_to_json(const hoist_tolerations *tols)
{
    json_t *arr = json_array();
    if (!arr)
        return NULL;
    for (size_t i = 0; tols && i < tols->n; i++) {
        const hoist_toleration *t = &tols->items[i];
        json_t *o = json_object();
        if (!o || json_array_append_new(arr, o) < 0)
            goto fail;
        if (t->key && *t->key && json_object_set_new(o, "key", json_string(t->key)) < 0)
            goto fail;
        if (json_object_set_new(o, "operator",
                                json_string(t->op == HOIST_TOLERATE_EXISTS ? "Exists" : "Equal")) < 0)
            goto fail;
        if (t->value && *t->value && json_object_set_new(o, "value", json_string(t->value)) < 0)
            goto fail;
        if (t->effect >= 0 &&
            json_object_set_new(o, "effect",
                                json_string(hoist_taint_effect_name((hoist_taint_effect)t->effect))) < 0)
            goto fail;
        if (t->toleration_seconds >= 0 &&
            json_object_set_new(o, "tolerationSeconds", json_integer(t->toleration_seconds)) < 0)
            goto fail;
    }
    return arr;
fail:
    json_decref(arr);
    return NULL;
}
