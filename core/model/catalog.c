/* model/catalog.c - owned catalog copies and NodePool instance-type views; see catalog.h. */
#include "model/catalog.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/instance.h"

/* Size of the v1.0 layout of each sized struct: older fillers are refused. */
#define OFFERING_MIN_SIZE (offsetof(hoist_offering, available) + sizeof(bool))
#define TYPE_MIN_SIZE (offsetof(hoist_instance_type, n_offerings) + sizeof(size_t))

void hoist_catalog_init(hoist_catalog *c)
{
    hoist_arena_init(&c->arena, 256 * 1024);
    c->n = 0;
    c->types = NULL;
}

void hoist_catalog_free(hoist_catalog *c)
{
    hoist_arena_free(&c->arena);
    c->n = 0;
    c->types = NULL;
}

const char *hoist_capacity_type_name(hoist_capacity_type ct)
{
    switch (ct) {
    case HOIST_CAPACITY_ON_DEMAND: return "on-demand";
    case HOIST_CAPACITY_SPOT: return "spot";
    case HOIST_CAPACITY_RESERVED: return "reserved";
    }
    return "unknown";
}

static int compare_offerings(const void *pa, const void *pb)
{
    const hoist_offering *a = pa, *b = pb;
    if (a->price != b->price)
        return a->price < b->price ? -1 : 1;
    int z = strcmp(a->zone, b->zone);
    if (z)
        return z;
    return (int)a->capacity_type - (int)b->capacity_type;
}

static int compare_types(const void *pa, const void *pb)
{
    const hoist_instance_type *a = pa, *b = pb;
    return strcmp(a->name, b->name);
}

/* Copy string s into the arena, "" for NULL. */
static const char *copy_str(hoist_arena *a, const char *s)
{
    return hoist_arena_strdup(a, s ? s : "");
}

/* Deep-copy one offering array (borrowed, sized elements) into dst. */
static int copy_offerings(hoist_arena *a, const hoist_instance_type *src, hoist_offering **dst,
                          hoist_err *err)
{
    *dst = NULL;
    if (src->n_offerings == 0)
        return 0;
    if (!src->offerings)
        return hoist_errf(err, "offerings: %zu announced but none given", src->n_offerings);
    if (src->offerings->struct_size < OFFERING_MIN_SIZE)
        return hoist_errf(err, "offerings: element size %u is smaller than this ABI's %zu",
                          (unsigned)src->offerings->struct_size, OFFERING_MIN_SIZE);
    hoist_offering *v = hoist_arena_calloc(a, src->n_offerings, sizeof *v);
    if (!v)
        return hoist_errf(err, "out of memory");
    for (size_t i = 0; i < src->n_offerings; i++) {
        const hoist_offering *o = HOIST_NTH(src->offerings, i);
        if (!o->zone || !*o->zone)
            return hoist_errf(err, "offerings[%zu]: zone is missing", i);
        if (!isfinite(o->price) || o->price < 0)
            return hoist_errf(err, "offerings[%zu]: price %g is not a valid price", i, o->price);
        if (o->capacity_type > HOIST_CAPACITY_RESERVED)
            return hoist_errf(err, "offerings[%zu]: unknown capacity type %d", i,
                              (int)o->capacity_type);
        v[i].struct_size = sizeof v[i];
        v[i].zone = copy_str(a, o->zone);
        v[i].capacity_type = o->capacity_type;
        v[i].price = o->price;
        v[i].available = o->available;
        v[i].capacity_score =
            HOIST_HAS(o, hoist_offering, capacity_score) ? o->capacity_score : 0.0;
        if (!v[i].zone)
            return hoist_errf(err, "out of memory");
    }
    qsort(v, src->n_offerings, sizeof *v, compare_offerings);
    *dst = v;
    return 0;
}

/* Deep-copy one instance type into dst. */
static int copy_type(hoist_arena *a, const hoist_instance_type *s, hoist_instance_type *d,
                     hoist_err *err)
{
    *d = *s;
    d->struct_size = sizeof *d;
    d->name = copy_str(a, s->name);
    d->family = copy_str(a, s->family);
    d->size = copy_str(a, s->size);
    d->category = copy_str(a, s->category);
    d->architecture = copy_str(a, s->architecture);
    d->cpu_manufacturer = copy_str(a, s->cpu_manufacturer);
    d->hypervisor = copy_str(a, s->hypervisor);
    d->gpu.name = copy_str(a, s->gpu.name);
    d->gpu.manufacturer = copy_str(a, s->gpu.manufacturer);
    if (!d->name || !d->family || !d->size || !d->category || !d->architecture ||
        !d->cpu_manufacturer || !d->hypervisor || !d->gpu.name || !d->gpu.manufacturer)
        return hoist_errf(err, "out of memory");
    d->extended = NULL;
    if (s->n_extended) {
        if (!s->extended)
            return hoist_errf(err, "extended: %zu announced but none given", s->n_extended);
        hoist_resource *x = hoist_arena_calloc(a, s->n_extended, sizeof *x);
        if (!x)
            return hoist_errf(err, "out of memory");
        for (size_t i = 0; i < s->n_extended; i++) {
            if (!s->extended[i].name || s->extended[i].amount < 0)
                return hoist_errf(err, "extended[%zu]: a name and a non-negative amount are "
                                  "required", i);
            x[i].name = copy_str(a, s->extended[i].name);
            x[i].amount = s->extended[i].amount;
            if (!x[i].name)
                return hoist_errf(err, "out of memory");
        }
        d->extended = x;
    }
    hoist_offering *offs;
    if (copy_offerings(a, s, &offs, err) < 0)
        return -1;
    d->offerings = offs;
    return 0;
}

int hoist_catalog_copy(hoist_catalog *c, const hoist_instance_type *types, size_t n,
                       hoist_err *err)
{
    hoist_catalog_free(c);
    hoist_catalog_init(c);
    if (n == 0)
        return 0;
    if (!types)
        return hoist_errf(err, "catalog: %zu instance types announced but none given", n);
    if (types->struct_size < TYPE_MIN_SIZE)
        return hoist_errf(err, "catalog: instance type size %u is smaller than this ABI's %zu",
                          (unsigned)types->struct_size, TYPE_MIN_SIZE);
    hoist_instance_type *v = hoist_arena_calloc(&c->arena, n, sizeof *v);
    if (!v)
        return hoist_errf(err, "catalog: out of memory");
    for (size_t i = 0; i < n; i++) {
        const hoist_instance_type *s = HOIST_NTH(types, i);
        if (!s->name || !*s->name) {
            hoist_catalog_free(c);
            return hoist_errf(err, "catalog: type [%zu]: name is missing", i);
        }
        if (copy_type(&c->arena, s, &v[i], err) < 0) {
            hoist_err_prefix(err, "catalog: %s", s->name);
            hoist_catalog_free(c);
            return -1;
        }
    }
    qsort(v, n, sizeof *v, compare_types);
    for (size_t i = 1; i < n; i++)
        if (strcmp(v[i - 1].name, v[i].name) == 0) {
            hoist_errf(err, "catalog: instance type %s is listed twice", v[i].name);
            hoist_catalog_free(c);
            return -1;
        }
    c->types = v;
    c->n = n;
    return 0;
}

const hoist_instance_type *hoist_catalog_find(const hoist_catalog *c, const char *name)
{
    hoist_instance_type key = {.name = name};
    return c->n ? bsearch(&key, c->types, c->n, sizeof key, compare_types) : NULL;
}

void hoist_nodepool_kubelet(const hoist_objects *o, const hoist_nodepool *np,
                            hoist_kubelet_config *out)
{
    memset(out, 0, sizeof *out);
    if (np->node_class_name) {
        const hoist_nodeclass *nc =
            hoist_objects_find_nodeclass(o, np->node_class_kind, np->node_class_name);
        if (nc)
            hoist_kubelet_overlay(out, &nc->kubelet);
    }
    if (np->has_kubelet)
        hoist_kubelet_overlay(out, &np->kubelet);
}

/* Default values of the keys a NodePool gets when it does not constrain them. */
static const char *const DEFAULT_CAPACITY_TYPE[] = {"on-demand"};
static const char *const DEFAULT_ARCH[] = {"amd64"};
static const char *const DEFAULT_OS[] = {"linux"};

static bool reqs_have_key(const hoist_reqs *rs, const char *key)
{
    for (size_t i = 0; i < rs->n; i++)
        if (strcmp(rs->items[i].key, key) == 0)
            return true;
    return false;
}

int hoist_nodepool_requirements(hoist_arena *a, const hoist_nodepool *np, hoist_reqs *out,
                                hoist_err *err)
{
    static const struct {
        const char *key;
        const char *const *values;
    } defaults[] = {
        {HOIST_LABEL_CAPACITY_TYPE, DEFAULT_CAPACITY_TYPE},
        {HOIST_LABEL_ARCH, DEFAULT_ARCH},
        {HOIST_LABEL_OS, DEFAULT_OS},
    };
    size_t n_defaults = sizeof defaults / sizeof defaults[0];
    hoist_req *items = hoist_arena_calloc(a, np->requirements.n + n_defaults, sizeof *items);
    if (!items)
        return hoist_errf(err, "out of memory");
    size_t n = 0;
    for (size_t i = 0; i < np->requirements.n; i++)
        items[n++] = np->requirements.items[i];
    for (size_t i = 0; i < n_defaults; i++) {
        if (reqs_have_key(&np->requirements, defaults[i].key))
            continue;
        items[n].key = defaults[i].key;
        items[n].op = HOIST_OP_IN;
        items[n].values = (const char **)defaults[i].values;
        items[n].n_values = 1;
        n++;
    }
    out->items = items;
    out->n = n;
    return 0;
}

/* True when `key` is a label every node of an instance type gets from the
 * type alone, so a type without it does not satisfy Exists. */
static bool is_type_label(const char *key)
{
    return strcmp(key, HOIST_LABEL_INSTANCE_TYPE) == 0 || strcmp(key, HOIST_LABEL_ARCH) == 0 ||
           strcmp(key, HOIST_LABEL_OS) == 0 ||
           strncmp(key, HOIST_LABEL_INSTANCE_PREFIX, strlen(HOIST_LABEL_INSTANCE_PREFIX)) == 0;
}

/* True when offering o satisfies every zone and capacity-type requirement. */
static bool offering_allowed(const hoist_reqs *rs, const hoist_offering *o)
{
    for (size_t i = 0; i < rs->n; i++) {
        const hoist_req *r = &rs->items[i];
        if (strcmp(r->key, HOIST_LABEL_ZONE) == 0) {
            if (!hoist_req_match_value(r, o->zone))
                return false;
        } else if (strcmp(r->key, HOIST_LABEL_CAPACITY_TYPE) == 0) {
            if (!hoist_req_match_value(r, hoist_capacity_type_name(o->capacity_type)))
                return false;
        }
    }
    return true;
}

/* True when the type's labels satisfy every requirement on type labels. */
static bool type_allowed(const hoist_reqs *rs, const hoist_labels *labels)
{
    for (size_t i = 0; i < rs->n; i++) {
        const hoist_req *r = &rs->items[i];
        if (is_type_label(r->key) && !hoist_req_match_value(r, hoist_labels_get(labels, r->key)))
            return false;
    }
    return true;
}

int hoist_nodepool_types(hoist_arena *a, const hoist_catalog *c, hoist_objects *o,
                         const hoist_nodepool *np, hoist_pool_types *out, hoist_err *err)
{
    out->n = 0;
    out->items = NULL;
    hoist_reqs reqs;
    if (hoist_nodepool_requirements(a, np, &reqs, err) < 0)
        return -1;
    hoist_kubelet_config kc;
    hoist_nodepool_kubelet(o, np, &kc);
    hoist_pool_type *items = c->n ? hoist_arena_calloc(a, c->n, sizeof *items) : NULL;
    if (c->n && !items)
        return hoist_errf(err, "out of memory");
    size_t n = 0;
    for (size_t t = 0; t < c->n; t++) {
        const hoist_instance_type *it = &c->types[t];
        hoist_pool_type *pt = &items[n];
        if (hoist_instance_labels(a, it, &pt->labels) < 0)
            return hoist_errf(err, "out of memory");
        if (!type_allowed(&reqs, &pt->labels))
            continue;
        size_t k = 0;
        for (size_t i = 0; i < it->n_offerings; i++)
            if (offering_allowed(&reqs, &it->offerings[i]))
                k++;
        if (k == 0)
            continue;
        pt->offerings = hoist_arena_calloc(a, k, sizeof *pt->offerings);
        if (!pt->offerings)
            return hoist_errf(err, "out of memory");
        for (size_t i = 0; i < it->n_offerings; i++)
            if (offering_allowed(&reqs, &it->offerings[i]))
                pt->offerings[pt->n_offerings++] = &it->offerings[i];
        pt->type = it;
        if (hoist_instance_capacity(it, &kc, &o->names, &pt->capacity, err) < 0)
            return hoist_err_prefix(err, "NodePool %s", np->name);
        hoist_allocatable(it, &kc, &pt->capacity, &pt->overhead, &pt->allocatable);
        n++;
    }
    out->items = items;
    out->n = n;
    return 0;
}
