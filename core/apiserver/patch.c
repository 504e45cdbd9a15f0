/* apiserver/patch.c - JSON merge patch, JSON patch and strategic merge patch. */
#include "apiserver/patch.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int hoist_patch_type_parse(const char *content_type, hoist_patch_type *out)
{
    if (!content_type)
        return -1;
    while (isspace((unsigned char)*content_type))
        content_type++;
    size_t n = strcspn(content_type, ";");
    while (n > 0 && isspace((unsigned char)content_type[n - 1]))
        n--;
    static const struct {
        const char *name;
        hoist_patch_type type;
    } types[] = {
        {"application/merge-patch+json", HOIST_PATCH_MERGE},
        {"application/json-patch+json", HOIST_PATCH_JSON},
        {"application/strategic-merge-patch+json", HOIST_PATCH_STRATEGIC},
    };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        if (strlen(types[i].name) == n && !strncasecmp(content_type, types[i].name, n)) {
            *out = types[i].type;
            return 0;
        }
    }
    return -1;
}

/* --- RFC 7386 ---------------------------------------------------------------- */

json_t *hoist_merge_patch(const json_t *target, const json_t *patch)
{
    if (!json_is_object(patch))
        return json_deep_copy(patch);
    json_t *res = json_is_object(target) ? json_deep_copy(target) : json_object();
    if (!res)
        return NULL;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)patch, k, v) {
        if (json_is_null(v)) {
            json_object_del(res, k);
            continue;
        }
        json_t *m = hoist_merge_patch(json_object_get(res, k), v);
        if (!m || json_object_set_new(res, k, m) != 0) {
            json_decref(res);
            return NULL;
        }
    }
    return res;
}

/* --- RFC 6902 ---------------------------------------------------------------- */

/* Decode one reference token of a JSON pointer (~1 -> /, ~0 -> ~) into buf. */
static int pointer_token(const char *p, size_t n, char *buf, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (c == '~') {
            if (i + 1 >= n || (p[i + 1] != '0' && p[i + 1] != '1'))
                return -1;
            c = p[i + 1] == '0' ? '~' : '/';
            i++;
        }
        if (o + 1 >= cap)
            return -1;
        buf[o++] = c;
    }
    buf[o] = '\0';
    return 0;
}

/* Parse an array index token; "-" gives size (append) when allow_end. */
static int array_index(const char *tok, size_t size, bool allow_end, size_t *out)
{
    if (allow_end && !strcmp(tok, "-")) {
        *out = size;
        return 0;
    }
    if (!*tok || (tok[0] == '0' && tok[1]) )
        return -1;
    for (const char *c = tok; *c; c++)
        if (!isdigit((unsigned char)*c))
            return -1;
    errno = 0;
    unsigned long long v = strtoull(tok, NULL, 10);
    if (errno || v > size || (!allow_end && v == size))
        return -1;
    *out = (size_t)v;
    return 0;
}

/* Find the container of the value `path` names; *last gets the final token.
 * NULL when the path is malformed or a parent is missing. */
static json_t *pointer_parent(json_t *root, const char *path, char *last, size_t cap)
{
    if (path[0] != '/')
        return NULL;
    json_t *cur = root;
    const char *p = path + 1;
    for (;;) {
        size_t n = strcspn(p, "/");
        if (pointer_token(p, n, last, cap) != 0)
            return NULL;
        if (p[n] == '\0')
            return cur;
        json_t *next = NULL;
        if (json_is_object(cur)) {
            next = json_object_get(cur, last);
        } else if (json_is_array(cur)) {
            size_t i;
            if (array_index(last, json_array_size(cur), false, &i) == 0)
                next = json_array_get(cur, i);
        }
        if (!next)
            return NULL;
        cur = next;
        p += n + 1;
    }
}

static json_t *pointer_get(json_t *root, const char *path)
{
    if (!*path)
        return root;
    char tok[512];
    json_t *parent = pointer_parent(root, path, tok, sizeof tok);
    if (json_is_object(parent))
        return json_object_get(parent, tok);
    size_t i;
    if (json_is_array(parent) && array_index(tok, json_array_size(parent), false, &i) == 0)
        return json_array_get(parent, i);
    return NULL;
}

/* add: value is stolen. */
static int pointer_add(json_t **root, const char *path, json_t *value)
{
    if (!*path) {
        json_decref(*root);
        *root = value;
        return 0;
    }
    char tok[512];
    json_t *parent = pointer_parent(*root, path, tok, sizeof tok);
    if (json_is_object(parent))
        return json_object_set_new(parent, tok, value);
    size_t i;
    if (json_is_array(parent) && array_index(tok, json_array_size(parent), true, &i) == 0)
        return json_array_insert_new(parent, i, value);
    json_decref(value);
    return -1;
}

static int pointer_remove(json_t *root, const char *path)
{
    char tok[512];
    json_t *parent = *path ? pointer_parent(root, path, tok, sizeof tok) : NULL;
    if (json_is_object(parent))
        return json_object_del(parent, tok);
    size_t i;
    if (json_is_array(parent) && array_index(tok, json_array_size(parent), false, &i) == 0)
        return json_array_remove(parent, i);
    return -1;
}

json_t *hoist_json_patch(const json_t *target, const json_t *ops, hoist_err *err)
{
    if (!json_is_array(ops)) {
        hoist_errf(err, "json patch: expected an array of operations");
        return NULL;
    }
    json_t *doc = json_deep_copy(target);
    size_t i;
    json_t *op;
    json_array_foreach((json_t *)ops, i, op) {
        const char *name = json_string_value(json_object_get(op, "op"));
        const char *path = json_string_value(json_object_get(op, "path"));
        json_t *value = json_object_get(op, "value");
        const char *from = json_string_value(json_object_get(op, "from"));
        if (!json_is_object(op) || !name) {
            hoist_errf(err, "json patch operation %zu: op: expected a string", i);
            goto fail;
        }
        if (!path) {
            hoist_errf(err, "json patch operation %zu (%s): path: expected a string", i, name);
            goto fail;
        }
        int rc = 0;
        const char *why = "path not found";
        if (!strcmp(name, "add") || !strcmp(name, "replace") || !strcmp(name, "test")) {
            if (!value) {
                hoist_errf(err, "json patch operation %zu (%s %s): value: missing", i, name, path);
                goto fail;
            }
        }
        if (!strcmp(name, "add")) {
            rc = pointer_add(&doc, path, json_deep_copy(value));
        } else if (!strcmp(name, "remove")) {
            rc = pointer_remove(doc, path);
        } else if (!strcmp(name, "replace")) {
            if (!pointer_get(doc, path))
                rc = -1;
            else if (*path && (rc = pointer_remove(doc, path)) == 0)
                rc = pointer_add(&doc, path, json_deep_copy(value));
            else if (!*path)
                rc = pointer_add(&doc, path, json_deep_copy(value));
        } else if (!strcmp(name, "move") || !strcmp(name, "copy")) {
            if (!from) {
                hoist_errf(err, "json patch operation %zu (%s %s): from: expected a string", i,
                           name, path);
                goto fail;
            }
            json_t *src = pointer_get(doc, from);
            if (!src) {
                rc = -1;
                why = "from path not found";
            } else {
                json_t *copy = json_deep_copy(src);
                if (!strcmp(name, "move") && pointer_remove(doc, from) != 0)
                    rc = -1;
                if (rc == 0)
                    rc = pointer_add(&doc, path, copy);
                else
                    json_decref(copy);
            }
        } else if (!strcmp(name, "test")) {
            json_t *cur = pointer_get(doc, path);
            if (!cur || !json_equal(cur, value)) {
                rc = -1;
                why = "test failed";
            }
        } else {
            hoist_errf(err, "json patch operation %zu: op: unknown operation \"%s\"", i, name);
            goto fail;
        }
        if (rc != 0) {
            hoist_errf(err, "json patch operation %zu (%s %s): %s", i, name, path, why);
            goto fail;
        }
    }
    return doc;
fail:
    json_decref(doc);
    return NULL;
}

/* --- strategic merge patch ----------------------------------------------------- */

/* Lists the Kubernetes types merge by key (patchStrategy "merge"); "" is a
 * list of primitives merged as a set. Keyed by the field's name, whatever
 * object holds it: the served kinds do not reuse these names with another
 * strategy. */
static const struct {
    const char *field;
    const char *key;
} merge_keys[] = {
    {"containers", "name"},       {"initContainers", "name"},
    {"ephemeralContainers", "name"}, {"env", "name"},
    {"volumes", "name"},          {"volumeMounts", "mountPath"},
    {"volumeDevices", "devicePath"}, {"imagePullSecrets", "name"},
    {"conditions", "type"},       {"ownerReferences", "uid"},
    {"hostAliases", "ip"},        {"ports", "containerPort"},
    {"addresses", "type"},        {"topologySpreadConstraints", "topologyKey"},
    {"resourceClaims", "name"},   {"podIPs", "ip"},
    {"finalizers", ""},
};

static const char *merge_key_for(const char *field)
{
    for (size_t i = 0; i < sizeof merge_keys / sizeof merge_keys[0]; i++)
        if (!strcmp(merge_keys[i].field, field))
            return merge_keys[i].key;
    return NULL;
}

static bool is_directive(const char *k)
{
    return k[0] == '$';
}

static json_t *smp_map(const json_t *target, const json_t *patch, const char *where,
                       hoist_err *err);

/* A copy of v with every directive key removed from objects inside. */
static json_t *strip_directives(const json_t *v)
{
    if (json_is_object(v)) {
        json_t *o = json_object();
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)v, k, x) {
            if (!is_directive(k))
                json_object_set_new(o, k, strip_directives(x));
        }
        return o;
    }
    if (json_is_array(v)) {
        json_t *a = json_array();
        size_t i;
        json_t *x;
        json_array_foreach((json_t *)v, i, x) json_array_append_new(a, strip_directives(x));
        return a;
    }
    return json_deep_copy(v);
}

static json_t *smp_list(const json_t *target, const json_t *patch, const char *field,
                        const char *key, hoist_err *err)
{
    size_t i;
    json_t *item;
    json_array_foreach((json_t *)patch, i, item) {
        const char *d = json_string_value(json_object_get(item, "$patch"));
        if (d && !strcmp(d, "replace")) {
            json_t *res = json_array();
            size_t j;
            json_t *x;
            json_array_foreach((json_t *)patch, j, x) {
                if (j != i)
                    json_array_append_new(res, strip_directives(x));
            }
            return res;
        }
    }
    json_t *res = json_is_array(target) ? json_deep_copy(target) : json_array();
    if (!*key) { /* a set of primitives */
        json_array_foreach((json_t *)patch, i, item) {
            bool found = false;
            size_t j;
            json_t *x;
            json_array_foreach(res, j, x) found = found || json_equal(x, item);
            if (!found)
                json_array_append(res, item);
        }
        return res;
    }
    json_array_foreach((json_t *)patch, i, item) {
        if (!json_is_object(item)) {
            hoist_errf(err, "%s[%zu]: expected an object with merge key \"%s\"", field, i, key);
            goto fail;
        }
        json_t *kv = json_object_get(item, key);
        if (!kv) {
            hoist_errf(err, "%s[%zu]: missing merge key \"%s\"", field, i, key);
            goto fail;
        }
        size_t found = (size_t)-1, j;
        json_t *x;
        json_array_foreach(res, j, x) {
            if (found == (size_t)-1 && json_equal(json_object_get(x, key), kv))
                found = j;
        }
        const char *d = json_string_value(json_object_get(item, "$patch"));
        if (d && !strcmp(d, "delete")) {
            if (found != (size_t)-1)
                json_array_remove(res, found);
            continue;
        }
        json_t *merged = smp_map(found != (size_t)-1 ? json_array_get(res, found) : NULL, item,
                                 field, err);
        if (!merged)
            goto fail;
        if (found != (size_t)-1)
            json_array_set_new(res, found, merged);
        else
            json_array_append_new(res, merged);
    }
    return res;
fail:
    json_decref(res);
    return NULL;
}

/* Reorder list `name` of res after the order given (items matched by key, or
 * by value for primitives); items the order does not name keep their place
 * after the named ones. */
static void set_element_order(json_t *res, const char *name, const json_t *order)
{
    json_t *list = json_object_get(res, name);
    const char *key = merge_key_for(name);
    if (!json_is_array(list) || !json_is_array(order) || !key)
        return;
    json_t *sorted = json_array();
    json_t *rest = json_deep_copy(list);
    size_t i;
    json_t *o;
    json_array_foreach((json_t *)order, i, o) {
        size_t j;
        json_t *x;
        json_array_foreach(rest, j, x) {
            json_t *a = *key ? json_object_get(x, key) : x;
            json_t *b = *key ? json_object_get(o, key) : o;
            if (a && b && json_equal(a, b)) {
                json_array_append(sorted, x);
                json_array_remove(rest, j);
                break;
            }
        }
    }
    json_array_extend(sorted, rest);
    json_decref(rest);
    json_object_set_new(res, name, sorted);
}

static json_t *smp_map(const json_t *target, const json_t *patch, const char *where,
                       hoist_err *err)
{
    const char *d = json_string_value(json_object_get(patch, "$patch"));
    if (d && !strcmp(d, "replace"))
        return strip_directives(patch);
    if (d && strcmp(d, "merge") != 0 && strcmp(d, "delete") != 0) {
        hoist_errf(err, "%s: $patch: unknown directive \"%s\"", where, d);
        return NULL;
    }
    json_t *res = json_is_object(target) ? json_deep_copy(target) : json_object();
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)patch, k, v) {
        if (is_directive(k))
            continue;
        if (json_is_null(v)) {
            json_object_del(res, k);
            continue;
        }
        json_t *merged = NULL;
        if (json_is_object(v)) {
            const char *vd = json_string_value(json_object_get(v, "$patch"));
            if (vd && !strcmp(vd, "delete")) {
                json_object_del(res, k);
                continue;
            }
            merged = smp_map(json_object_get(res, k), v, k, err);
        } else if (json_is_array(v) && merge_key_for(k)) {
            merged = smp_list(json_object_get(res, k), v, k, merge_key_for(k), err);
        } else {
            merged = strip_directives(v);
        }
        if (!merged) {
            json_decref(res);
            return NULL;
        }
        json_object_set_new(res, k, merged);
    }
    json_object_foreach((json_t *)patch, k, v) {
        if (!strncmp(k, "$deleteFromPrimitiveList/", 25)) {
            json_t *list = json_object_get(res, k + 25);
            if (!json_is_array(v)) {
                hoist_errf(err, "%s: %s: expected an array", where, k);
                json_decref(res);
                return NULL;
            }
            for (size_t i = 0; json_is_array(list) && i < json_array_size(list);) {
                bool drop = false;
                size_t j;
                json_t *x;
                json_array_foreach(v, j, x) drop = drop || json_equal(x, json_array_get(list, i));
                if (drop)
                    json_array_remove(list, i);
                else
                    i++;
            }
        } else if (!strncmp(k, "$setElementOrder/", 17)) {
            set_element_order(res, k + 17, v);
        }
    }
    json_t *retain = json_object_get(patch, "$retainKeys");
    if (retain) {
        if (!json_is_array(retain)) {
            hoist_errf(err, "%s: $retainKeys: expected an array", where);
            json_decref(res);
            return NULL;
        }
        void *tmp;
        json_object_foreach_safe(res, tmp, k, v) {
            bool keep = false;
            size_t j;
            json_t *x;
            json_array_foreach(retain, j, x) keep = keep || (json_is_string(x) &&
                                                             !strcmp(json_string_value(x), k));
            if (!keep)
                json_object_del(res, k);
        }
    }
    return res;
}

json_t *hoist_strategic_merge_patch(const json_t *target, const json_t *patch, hoist_err *err)
{
    if (!json_is_object(patch)) {
        hoist_errf(err, "strategic merge patch: expected an object");
        return NULL;
    }
    return smp_map(target, patch, "patch", err);
}

json_t *hoist_patch_apply(hoist_patch_type type, const json_t *target, const char *patch,
                          size_t len, hoist_err *err)
{
    json_error_t jerr;
    json_t *p = json_loadb(patch, len, JSON_DECODE_ANY, &jerr);
    if (!p) {
        hoist_errf(err, "the patch is not valid JSON: %s (line %d, column %d)", jerr.text,
                   jerr.line, jerr.column);
        return NULL;
    }
    json_t *res = NULL;
    switch (type) {
    case HOIST_PATCH_MERGE:
        if (!json_is_object(p))
            hoist_errf(err, "merge patch: expected a JSON object");
        else if (!(res = hoist_merge_patch(target, p)))
            hoist_errf(err, "out of memory");
        break;
    case HOIST_PATCH_JSON:
        res = hoist_json_patch(target, p, err);
        break;
    case HOIST_PATCH_STRATEGIC:
        res = hoist_strategic_merge_patch(target, p, err);
        break;
    }
    json_decref(p);
    return res;
}
