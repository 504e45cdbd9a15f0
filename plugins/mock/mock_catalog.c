/*
 * mock_catalog.c - load the mock provider's catalog and model spot prices.
 */
#include "mock_catalog.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

struct mock_strblock {
    mock_strblock *next;
    size_t used, cap;
    char data[];
};

void mock_spot_params_default(mock_spot_params *p)
{
    p->min_ratio = 0.38;
    p->max_ratio = 0.62;
    p->zone_spread = 0.08;
    p->drift_amplitude = 0.0;
    p->drift_period_ms = 24ull * 3600 * 1000;
    p->pco_price_band = 0.10;
    p->interruption_notice_ms = 120000;
}

/* ---- hashing and the spot model ---- */

uint64_t mock_mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ull;
    }
    return h;
}

uint64_t mock_hash(uint64_t seed, const char *a, const char *b, const char *c)
{
    uint64_t h = mock_mix64(seed);
    const char *parts[3] = {a, b, c};
    for (int i = 0; i < 3 && parts[i]; i++)
        h = mock_mix64(h ^ fnv1a(parts[i]));
    return h;
}

double mock_unit(uint64_t h)
{
    return (double)(h >> 11) * (1.0 / 9007199254740992.0);
}

static double round4(double x)
{
    double r = round(x * 10000.0) / 10000.0;
    return r < 0.0001 ? 0.0001 : r;
}

double mock_spot_family_ratio(const mock_spot_params *sp, uint64_t seed, const char *family)
{
    double u = mock_unit(mock_hash(seed, "spot-family", family, NULL));
    return sp->min_ratio + (sp->max_ratio - sp->min_ratio) * u;
}

double mock_spot_base_price(const mock_spot_params *sp, uint64_t seed, double od,
                            const char *family, const char *type, const char *zone)
{
    double ratio = mock_spot_family_ratio(sp, seed, family);
    double u = mock_unit(mock_hash(seed, "spot-zone", type, zone));
    double price = od * ratio * (1.0 + sp->zone_spread * (2.0 * u - 1.0));
    if (price > od)
        price = od;
    return round4(price);
}

uint32_t mock_pool_depth(uint64_t seed, const char *type, const char *zone)
{
    return 1 + (uint32_t)(mock_unit(mock_hash(seed, "pool-depth", type, zone)) * 10.0);
}

hoist_status mock_errf(hoist_error *err, hoist_status code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->code = code;
        err->retry_after_ms = 0;
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return code;
}

void mock_error_prefix(hoist_error *err, const char *prefix)
{
    if (!err)
        return;
    char m[sizeof err->message];
    size_t pl = strlen(prefix), ml = strlen(err->message);
    if (pl > sizeof m - 1)
        pl = sizeof m - 1;
    if (ml > sizeof m - 1 - pl)
        ml = sizeof m - 1 - pl;
    memcpy(m, prefix, pl);
    memcpy(m + pl, err->message, ml);
    m[pl + ml] = '\0';
    memcpy(err->message, m, sizeof m);
}

const char *mock_capacity_name(hoist_capacity_type ct)
{
    switch (ct) {
    case HOIST_CAPACITY_ON_DEMAND: return "on-demand";
    case HOIST_CAPACITY_SPOT: return "spot";
    case HOIST_CAPACITY_RESERVED: return "reserved";
    }
    return "?";
}

int mock_capacity_parse(const char *s, hoist_capacity_type *out)
{
    if (strcmp(s, "on-demand") == 0)
        *out = HOIST_CAPACITY_ON_DEMAND;
    else if (strcmp(s, "spot") == 0)
        *out = HOIST_CAPACITY_SPOT;
    else if (strcmp(s, "reserved") == 0)
        *out = HOIST_CAPACITY_RESERVED;
    else
        return -1;
    return 0;
}

bool mock_offer_available(const mock_offer *o, uint64_t now_ms)
{
    if (!o->listed)
        return false;
    if (o->ice && (o->ice_until_ms == 0 || now_ms < o->ice_until_ms))
        return false;
    return true;
}

double mock_offer_price(const mock_catalog *cat, const mock_offer *o, uint64_t seed,
                        const mock_spot_params *sp, uint64_t now_ms)
{
    if (o->overridden || o->capacity_type != HOIST_CAPACITY_SPOT || sp->drift_amplitude <= 0.0 ||
        sp->drift_period_ms == 0)
        return o->base_price;
    const char *type = cat->types[o->type_index].info.name;
    double phase = 2.0 * M_PI * mock_unit(mock_hash(seed, "spot-drift", type, o->zone));
    double t = (double)(now_ms % sp->drift_period_ms) / (double)sp->drift_period_ms;
    double price = o->base_price * (1.0 + sp->drift_amplitude * sin(2.0 * M_PI * t + phase));
    return round4(price);
}

/* ---- string storage ---- */

static const char *strsave_n(mock_catalog *cat, const char *s, size_t n)
{
    mock_strblock *b = cat->strings;
    if (!b || b->cap - b->used < n + 1) {
        size_t cap = n + 1 > 65536 ? n + 1 : 65536;
        mock_strblock *nb = malloc(sizeof *nb + cap);
        if (!nb)
            return NULL;
        nb->next = cat->strings;
        nb->used = 0;
        nb->cap = cap;
        cat->strings = nb;
        b = nb;
    }
    char *p = b->data + b->used;
    memcpy(p, s, n);
    p[n] = '\0';
    b->used += n + 1;
    return p;
}

static const char *strsave(mock_catalog *cat, const char *s)
{
    return strsave_n(cat, s, strlen(s));
}

static const char *strsave_lower(mock_catalog *cat, const char *s)
{
    const char *p = strsave(cat, s);
    if (p)
        for (char *q = (char *)p; *q; q++)
            *q = (char)tolower((unsigned char)*q);
    return p;
}

/* ---- parsing ---- */

/* Where we are in the file, for error messages. */
typedef struct ectx {
    const char *path;
    size_t index;
    const char *name;
    hoist_error *err;
} ectx;

static int failf(ectx *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int failf(ectx *e, const char *fmt, ...)
{
    char what[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (e->err) {
        e->err->code = HOIST_E_INVALID;
        e->err->retry_after_ms = 0;
        snprintf(e->err->message, sizeof e->err->message, "%s: [%zu] %s: %s", e->path, e->index,
                 e->name ? e->name : "?", what);
    }
    return -1;
}

static const char *json_kind(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    }
    return "?";
}

/* Optional string field: *out stays NULL when absent or null. */
static int opt_string(ectx *e, const json_t *obj, const char *key, const char *label,
                      const char **out)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return failf(e, "%s: expected a string, got %s", label, json_kind(v));
    *out = json_string_value(v);
    return 0;
}

/* Optional integer field in [min, max]; *present false when absent or null. */
static int opt_int(ectx *e, const json_t *obj, const char *key, const char *label, int64_t min,
                   int64_t max, int64_t *out, bool *present)
{
    json_t *v = json_object_get(obj, key);
    *present = false;
    *out = 0;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_integer(v))
        return failf(e, "%s: expected an integer, got %s", label, json_kind(v));
    json_int_t x = json_integer_value(v);
    if (x < min || x > max)
        return failf(e, "%s: %lld out of range [%lld, %lld]", label, (long long)x,
                     (long long)min, (long long)max);
    *out = x;
    *present = true;
    return 0;
}

static int req_int(ectx *e, const json_t *obj, const char *key, int64_t min, int64_t max,
                   int64_t *out)
{
    bool present;
    if (opt_int(e, obj, key, key, min, max, out, &present) < 0)
        return -1;
    if (!present)
        return failf(e, "%s: missing (an integer is required)", key);
    return 0;
}

static int opt_bool(ectx *e, const json_t *obj, const char *key, bool dflt, bool *out)
{
    json_t *v = json_object_get(obj, key);
    *out = dflt;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_boolean(v))
        return failf(e, "%s: expected a boolean, got %s", key, json_kind(v));
    *out = json_is_true(v);
    return 0;
}

/* Optional object field; *out NULL when absent or null. */
static int opt_object(ectx *e, const json_t *obj, const char *key, json_t **out)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_object(v))
        return failf(e, "%s: expected an object, got %s", key, json_kind(v));
    *out = v;
    return 0;
}

static int add_offer(mock_catalog *cat, size_t *cap, const mock_offer *o)
{
    if (cat->n_offers == *cap) {
        size_t ncap = *cap ? *cap * 2 : 4096;
        mock_offer *n = realloc(cat->offers, ncap * sizeof *n);
        if (!n)
            return -1;
        cat->offers = n;
        *cap = ncap;
    }
    cat->offers[cat->n_offers++] = *o;
    return 0;
}

static void offer_init(mock_offer *o, uint32_t type_index, const char *zone,
                       hoist_capacity_type ct, double price)
{
    memset(o, 0, sizeof *o);
    o->type_index = type_index;
    o->zone = zone;
    o->capacity_type = ct;
    o->base_price = price;
    o->listed = true;
    o->latency_ms = -1;
}

/* The type's explicit "offerings" list. */
static int parse_override(ectx *e, mock_catalog *cat, size_t *cap, const json_t *list,
                          uint32_t type_index, const char *name, uint64_t seed)
{
    static const char *const known[] = {"zone", "capacity_type", "price", "available",
                                        "pool_depth"};
    if (!json_is_array(list))
        return failf(e, "offerings: expected an array, got %s", json_kind(list));
    size_t i;
    json_t *it;
    json_array_foreach(list, i, it) {
        char label[64];
        if (!json_is_object(it))
            return failf(e, "offerings[%zu]: expected an object, got %s", i, json_kind(it));
        const char *key;
        json_t *val;
        json_object_foreach((json_t *)it, key, val) {
            bool ok = false;
            for (size_t k = 0; k < sizeof known / sizeof known[0]; k++)
                ok = ok || strcmp(key, known[k]) == 0;
            if (!ok)
                return failf(e, "offerings[%zu]: unknown field \"%s\"", i, key);
        }
        const char *zone, *ctname;
        snprintf(label, sizeof label, "offerings[%zu].zone", i);
        if (opt_string(e, it, "zone", label, &zone) < 0)
            return -1;
        if (!zone || !*zone)
            return failf(e, "%s: missing (a zone name is required)", label);
        snprintf(label, sizeof label, "offerings[%zu].capacity_type", i);
        if (opt_string(e, it, "capacity_type", label, &ctname) < 0)
            return -1;
        hoist_capacity_type ct;
        if (!ctname)
            return failf(e, "%s: missing (on-demand, spot or reserved)", label);
        if (mock_capacity_parse(ctname, &ct) < 0)
            return failf(e, "%s: \"%s\" is not on-demand, spot or reserved", label, ctname);
        json_t *pv = json_object_get(it, "price");
        if (!pv || !json_is_number(pv))
            return failf(e, "offerings[%zu].price: expected a number, got %s", i,
                         pv ? json_kind(pv) : "nothing");
        double price = json_number_value(pv);
        if (!(price >= 0.0) || !isfinite(price))
            return failf(e, "offerings[%zu].price: must be a finite number >= 0", i);
        json_t *av = json_object_get(it, "available");
        if (av && !json_is_boolean(av))
            return failf(e, "offerings[%zu].available: expected a boolean, got %s", i,
                         json_kind(av));
        int64_t depth;
        bool has_depth;
        snprintf(label, sizeof label, "offerings[%zu].pool_depth", i);
        if (opt_int(e, it, "pool_depth", label, 1, 10, &depth, &has_depth) < 0)
            return -1;
        const char *z = strsave(cat, zone);
        if (!z)
            return failf(e, "out of memory");
        mock_offer o;
        offer_init(&o, type_index, z, ct, price);
        o.listed = av ? json_is_true(av) : true;
        o.overridden = true;
        o.pool_depth = has_depth ? (uint32_t)depth : mock_pool_depth(seed, name, z);
        if (add_offer(cat, cap, &o) < 0)
            return failf(e, "out of memory");
    }
    return 0;
}

/* Derive category (leading letters) and generation (the digits after them) from a family. */
static void derive_category(const char *family, char *cat_out, size_t cap, uint32_t *gen)
{
    size_t n = 0;
    while (family[n] && isalpha((unsigned char)family[n]) && n + 1 < cap) {
        cat_out[n] = family[n];
        n++;
    }
    cat_out[n] = '\0';
    uint32_t g = 0;
    for (const char *p = family + n; isdigit((unsigned char)*p) && g < 100000; p++)
        g = g * 10 + (uint32_t)(*p - '0');
    *gen = g;
}

static int parse_type(ectx *e, mock_catalog *cat, size_t *cap, const json_t *obj,
                      const char *const *zones, size_t n_zones, uint64_t seed,
                      const mock_spot_params *sp)
{
    if (!json_is_object(obj))
        return failf(e, "expected an instance-type object, got %s", json_kind(obj));
    const char *name;
    if (opt_string(e, obj, "instance_type", "instance_type", &name) < 0)
        return -1;
    if (!name || !*name)
        return failf(e, "instance_type: missing (a non-empty string is required)");
    e->name = name;

    const char *family, *size, *category, *arch, *cpu, *hyper;
    if (opt_string(e, obj, "family", "family", &family) < 0 ||
        opt_string(e, obj, "size", "size", &size) < 0 ||
        opt_string(e, obj, "category", "category", &category) < 0 ||
        opt_string(e, obj, "architecture", "architecture", &arch) < 0 ||
        opt_string(e, obj, "cpu_manufacturer", "cpu_manufacturer", &cpu) < 0 ||
        opt_string(e, obj, "hypervisor", "hypervisor", &hyper) < 0)
        return -1;
    int64_t vcpus, mem, gen, maxpods;
    bool has_gen, has_maxpods;
    if (req_int(e, obj, "vcpus", 0, 1 << 20, &vcpus) < 0 ||
        req_int(e, obj, "memory_mib", 0, (int64_t)1 << 40, &mem) < 0 ||
        opt_int(e, obj, "generation", "generation", 0, 100000, &gen, &has_gen) < 0 ||
        opt_int(e, obj, "eks_max_pods", "eks_max_pods", 0, 1 << 20, &maxpods, &has_maxpods) < 0)
        return -1;
    bool bare, burst, current;
    json_t *bm = json_object_get(obj, "bare_metal");
    if (opt_bool(e, obj, "bare_metal", false, &bare) < 0 ||
        opt_bool(e, obj, "burstable_performance", false, &burst) < 0 ||
        opt_bool(e, obj, "current_generation", true, &current) < 0)
        return -1;

    mock_type *t = &cat->types[cat->n_types];
    memset(t, 0, sizeof *t);
    hoist_instance_type *info = &t->info;
    const char *dot = strchr(name, '.');
    info->name = strsave(cat, name);
    info->family = family ? strsave(cat, family)
                          : strsave_n(cat, name, dot ? (size_t)(dot - name) : strlen(name));
    info->size = size ? strsave(cat, size) : strsave(cat, dot ? dot + 1 : "");
    if (!info->name || !info->family || !info->size)
        return failf(e, "out of memory");
    char dcat[32];
    uint32_t dgen;
    derive_category(info->family, dcat, sizeof dcat, &dgen);
    info->category = strsave(cat, category ? category : dcat);
    info->generation = has_gen ? (uint32_t)gen : dgen;
    info->cpu_manufacturer = strsave_lower(cat, cpu ? cpu : "");
    if (arch)
        info->architecture = strsave(cat, arch);
    else if (info->cpu_manufacturer && (strcmp(info->cpu_manufacturer, "aws") == 0 ||
                                        strcmp(info->cpu_manufacturer, "apple") == 0))
        info->architecture = "arm64";
    else if (info->cpu_manufacturer && (strcmp(info->cpu_manufacturer, "intel") == 0 ||
                                        strcmp(info->cpu_manufacturer, "amd") == 0))
        info->architecture = "amd64";
    else
        info->architecture = "";
    info->hypervisor = strsave(cat, hyper ? hyper : "");
    if (!info->category || !info->cpu_manufacturer || !info->architecture || !info->hypervisor)
        return failf(e, "out of memory");
    info->bare_metal = (bm && json_is_boolean(bm)) ? bare : strstr(info->size, "metal") != NULL;
    json_t *bp = json_object_get(obj, "burstable_performance");
    info->burstable = (bp && json_is_boolean(bp)) ? burst : strcmp(info->category, "t") == 0;
    info->current_generation = current;
    info->vcpus = (uint32_t)vcpus;
    info->memory_mib = (uint64_t)mem;
    info->max_pods = has_maxpods ? (uint32_t)maxpods : 0;
    info->gpu.name = "";
    info->gpu.manufacturer = "";

    json_t *gpu, *acc, *ls, *net, *pricing;
    if (opt_object(e, obj, "gpu", &gpu) < 0 || opt_object(e, obj, "accelerator", &acc) < 0 ||
        opt_object(e, obj, "local_storage", &ls) < 0 || opt_object(e, obj, "network", &net) < 0 ||
        opt_object(e, obj, "pricing", &pricing) < 0)
        return -1;
    if (gpu) {
        int64_t count, total, per;
        bool has_count, has_total, has_per;
        const char *gname, *gman;
        if (opt_int(e, gpu, "count", "gpu.count", 0, 1024, &count, &has_count) < 0 ||
            opt_int(e, gpu, "total_memory_mib", "gpu.total_memory_mib", 0, (int64_t)1 << 40,
                    &total, &has_total) < 0 ||
            opt_int(e, gpu, "memory_mib_per_gpu", "gpu.memory_mib_per_gpu", 0,
                    (int64_t)1 << 32, &per, &has_per) < 0 ||
            opt_string(e, gpu, "name", "gpu.name", &gname) < 0 ||
            opt_string(e, gpu, "manufacturer", "gpu.manufacturer", &gman) < 0)
            return -1;
        if (!has_count)
            return failf(e, "gpu.count: missing (an integer is required)");
        info->gpu.count = (uint32_t)count;
        info->gpu.memory_mib = has_total ? (uint64_t)total : (uint64_t)(per * count);
        info->gpu.name = strsave_lower(cat, gname ? gname : "");
        info->gpu.manufacturer = strsave_lower(cat, gman ? gman : "");
        if (!info->gpu.name || !info->gpu.manufacturer)
            return failf(e, "out of memory");
    }
    if (acc) {
        int64_t count;
        bool has_count;
        const char *aman;
        if (opt_int(e, acc, "count", "accelerator.count", 0, 1024, &count, &has_count) < 0 ||
            opt_string(e, acc, "manufacturer", "accelerator.manufacturer", &aman) < 0)
            return -1;
        if (has_count && count > 0 && aman && strcmp(aman, "aws") == 0) {
            t->extended[info->n_extended].name = "aws.amazon.com/neuron";
            t->extended[info->n_extended].amount = HOIST_MILLI(count);
            info->extended = t->extended;
            info->n_extended++;
        }
    }
    if (ls) {
        int64_t nvme, total;
        bool has_nvme, has_total;
        const char *support;
        if (opt_int(e, ls, "nvme_total_gb", "local_storage.nvme_total_gb", 0, (int64_t)1 << 40,
                    &nvme, &has_nvme) < 0 ||
            opt_int(e, ls, "total_gb", "local_storage.total_gb", 0, (int64_t)1 << 40, &total,
                    &has_total) < 0 ||
            opt_string(e, ls, "nvme_support", "local_storage.nvme_support", &support) < 0)
            return -1;
        if (has_nvme)
            info->local_nvme_gb = (uint64_t)nvme;
        else if (has_total && support &&
                 (strcmp(support, "required") == 0 || strcmp(support, "supported") == 0))
            info->local_nvme_gb = (uint64_t)total;
    }
    if (net) {
        int64_t bw;
        bool has_bw;
        if (opt_int(e, net, "bandwidth_mbps", "network.bandwidth_mbps", 0, UINT32_MAX, &bw,
                    &has_bw) < 0)
            return -1;
        info->network_bandwidth_mbps = has_bw ? (uint32_t)bw : 0;
        if (!has_maxpods) {
            /* The EKS ENI formula, for types whose catalog entry lacks eks_max_pods:
             * ENIs of the default network card x (IPv4 addresses per ENI - 1) + 2. */
            int64_t enis, card_enis, ips;
            bool has_enis, has_card_enis, has_ips;
            if (opt_int(e, net, "max_enis", "network.max_enis", 0, 1024, &enis, &has_enis) < 0 ||
                opt_int(e, net, "default_card_max_enis", "network.default_card_max_enis", 0,
                        1024, &card_enis, &has_card_enis) < 0 ||
                opt_int(e, net, "ipv4_per_eni", "network.ipv4_per_eni", 0, 1024, &ips,
                        &has_ips) < 0)
                return -1;
            int64_t n_enis = has_card_enis ? card_enis : has_enis ? enis : 0;
            if (n_enis > 0 && has_ips && ips > 1)
                info->max_pods = (uint32_t)(n_enis * (ips - 1) + 2);
        }
        bool trunking;
        int64_t branch;
        bool has_branch;
        if (opt_bool(e, net, "trunking_compatible", false, &trunking) < 0 ||
            opt_int(e, net, "branch_enis", "network.branch_enis", 0, 1 << 20, &branch,
                    &has_branch) < 0)
            return -1;
        if (trunking && has_branch && branch > 0) {
            t->extended[info->n_extended].name = "vpc.amazonaws.com/pod-eni";
            t->extended[info->n_extended].amount = HOIST_MILLI(branch);
            info->extended = t->extended;
            info->n_extended++;
        }
    }
    bool has_od = false;
    double od = 0.0;
    if (pricing) {
        json_t *v = json_object_get(pricing, "on_demand_usd_per_hour");
        if (v && !json_is_null(v)) {
            if (!json_is_number(v))
                return failf(e, "pricing.on_demand_usd_per_hour: expected a number, got %s",
                             json_kind(v));
            od = json_number_value(v);
            if (!(od >= 0.0) || !isfinite(od))
                return failf(e, "pricing.on_demand_usd_per_hour: must be a finite number >= 0");
            has_od = true;
        }
    }

    bool want_od = true, want_spot = true;
    json_t *uc = json_object_get(obj, "supported_usage_classes");
    if (uc && !json_is_null(uc)) {
        if (!json_is_array(uc))
            return failf(e, "supported_usage_classes: expected an array, got %s", json_kind(uc));
        want_od = want_spot = false;
        size_t i;
        json_t *c;
        json_array_foreach(uc, i, c) {
            if (!json_is_string(c))
                return failf(e, "supported_usage_classes[%zu]: expected a string, got %s", i,
                             json_kind(c));
            want_od = want_od || strcmp(json_string_value(c), "on-demand") == 0;
            want_spot = want_spot || strcmp(json_string_value(c), "spot") == 0;
        }
    }

    t->first_offer = cat->n_offers;
    uint32_t type_index = (uint32_t)cat->n_types;
    json_t *override = json_object_get(obj, "offerings");
    if (override && !json_is_null(override)) {
        if (parse_override(e, cat, cap, override, type_index, info->name, seed) < 0)
            return -1;
    } else if (has_od) {
        for (int pass = 0; pass < 2; pass++) {
            bool spot = pass == 1;
            if ((spot && !want_spot) || (!spot && !want_od))
                continue;
            for (size_t z = 0; z < n_zones; z++) {
                mock_offer o;
                double price = spot ? mock_spot_base_price(sp, seed, od, info->family,
                                                           info->name, zones[z])
                                    : od;
                offer_init(&o, type_index, zones[z],
                           spot ? HOIST_CAPACITY_SPOT : HOIST_CAPACITY_ON_DEMAND, price);
                o.pool_depth = mock_pool_depth(seed, info->name, zones[z]);
                if (add_offer(cat, cap, &o) < 0)
                    return failf(e, "out of memory");
            }
        }
    }
    t->n_offers = cat->n_offers - t->first_offer;
    if (t->n_offers > 0)
        cat->n_types++; /* keep it; a type with no offerings is left out */
    return 0;
}

int mock_catalog_load(mock_catalog *cat, const char *path, const char *const *zones,
                      size_t n_zones, uint64_t seed, const mock_spot_params *sp,
                      hoist_error *err)
{
    memset(cat, 0, sizeof *cat);
    FILE *f = fopen(path, "rb");
    if (!f) {
        char m[256];
        snprintf(m, sizeof m, "catalog %s: cannot open: %s", path, strerror(errno));
        return hoist_error_set(err, HOIST_E_INVALID, m), -1;
    }
    json_error_t jerr;
    json_t *root = json_loadf(f, JSON_REJECT_DUPLICATES, &jerr);
    fclose(f);
    if (!root) {
        char m[256];
        snprintf(m, sizeof m, "catalog %s:%d:%d: not valid JSON: %s", path, jerr.line,
                 jerr.column, jerr.text);
        return hoist_error_set(err, HOIST_E_INVALID, m), -1;
    }
    int rc = mock_catalog_load_json(cat, root, path, zones, n_zones, seed, sp, err);
    json_decref(root);
    return rc;
}

/* Type indices by name, then index (qsort_r with the catalog). */
static int compare_by_name(const void *pa, const void *pb, void *arg)
{
    const mock_catalog *cat = arg;
    size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
    int c = strcmp(cat->types[a].info.name, cat->types[b].info.name);
    return c ? c : (a > b) - (a < b);
}

int mock_catalog_load_json(mock_catalog *cat, const json_t *root, const char *path,
                           const char *const *zones, size_t n_zones, uint64_t seed,
                           const mock_spot_params *sp, hoist_error *err)
{
    memset(cat, 0, sizeof *cat);
    if (!json_is_array(root)) {
        char m[256];
        snprintf(m, sizeof m, "catalog %s: expected a JSON array of instance types, got %s", path,
                 json_kind(root));
        return hoist_error_set(err, HOIST_E_INVALID, m), -1;
    }
    size_t n = json_array_size(root);
    cat->types = calloc(n ? n : 1, sizeof *cat->types);
    const char **zcopy = calloc(n_zones ? n_zones : 1, sizeof *zcopy);
    if (!cat->types || !zcopy) {
        free(zcopy);
        mock_catalog_free(cat);
        return hoist_error_set(err, HOIST_E_INTERNAL, "catalog: out of memory"), -1;
    }
    int rc = 0;
    for (size_t z = 0; z < n_zones && rc == 0; z++)
        if (!(zcopy[z] = strsave(cat, zones[z])))
            rc = -1;
    size_t cap = 0;
    ectx e = {path, 0, NULL, err};
    if (rc < 0)
        hoist_error_set(err, HOIST_E_INTERNAL, "catalog: out of memory");
    for (size_t i = 0; i < n && rc == 0; i++) {
        e.index = i;
        e.name = NULL;
        rc = parse_type(&e, cat, &cap, json_array_get(root, i), zcopy, n_zones, seed, sp);
    }
    free(zcopy);
    if (rc == 0 && cat->n_types == 0) {
        char m[256];
        snprintf(m, sizeof m, "catalog %s: no instance type has an offering", path);
        hoist_error_set(err, HOIST_E_INVALID, m);
        rc = -1;
    }
    if (rc == 0) {
        cat->snapshot = calloc(cat->n_offers, sizeof *cat->snapshot);
        cat->view = calloc(cat->n_types, sizeof *cat->view);
        cat->by_name = calloc(cat->n_types, sizeof *cat->by_name);
        if (cat->by_name) {
            for (size_t i = 0; i < cat->n_types; i++)
                cat->by_name[i] = i;
            qsort_r(cat->by_name, cat->n_types, sizeof *cat->by_name, compare_by_name, cat);
        }
        if (!cat->snapshot || !cat->view || !cat->by_name) {
            hoist_error_set(err, HOIST_E_INTERNAL, "catalog: out of memory");
            rc = -1;
        }
    }
    if (rc < 0) {
        if (err && strncmp(err->message, "catalog", 7) != 0)
            mock_error_prefix(err, "catalog ");
        mock_catalog_free(cat);
        return -1;
    }
    return 0;
}

void mock_catalog_free(mock_catalog *cat)
{
    free(cat->by_name);
    free(cat->types);
    free(cat->offers);
    free(cat->snapshot);
    free(cat->view);
    while (cat->strings) {
        mock_strblock *next = cat->strings->next;
        free(cat->strings);
        cat->strings = next;
    }
    memset(cat, 0, sizeof *cat);
}

long mock_catalog_find_type(const mock_catalog *cat, const char *name)
{
    /* the first index with that name: binary search for the lower bound
     * in the by-name order (every launch asks) */
    size_t lo = 0, hi = cat->by_name ? cat->n_types : 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(cat->types[cat->by_name[mid]].info.name, name) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < cat->n_types && cat->by_name &&
        strcmp(cat->types[cat->by_name[lo]].info.name, name) == 0)
        return (long)cat->by_name[lo];
    return -1;
}

long mock_catalog_find_offer(const mock_catalog *cat, const char *type, const char *zone,
                             hoist_capacity_type ct)
{
    long t = mock_catalog_find_type(cat, type);
    if (t < 0)
        return -1;
    const mock_type *mt = &cat->types[t];
    for (size_t i = mt->first_offer; i < mt->first_offer + mt->n_offers; i++)
        if (cat->offers[i].capacity_type == ct && strcmp(cat->offers[i].zone, zone) == 0)
            return (long)i;
    return -1;
}

const hoist_instance_type *mock_catalog_snapshot(mock_catalog *cat, uint64_t seed,
                                                 const mock_spot_params *sp, uint64_t now_ms)
{
    for (size_t i = 0; i < cat->n_offers; i++) {
        const mock_offer *o = &cat->offers[i];
        cat->snapshot[i].struct_size = sizeof cat->snapshot[i];
        cat->snapshot[i].zone = o->zone;
        cat->snapshot[i].capacity_type = o->capacity_type;
        cat->snapshot[i].price = mock_offer_price(cat, o, seed, sp, now_ms);
        cat->snapshot[i].available = mock_offer_available(o, now_ms);
        cat->snapshot[i].capacity_score = (double)o->pool_depth;
    }
    for (size_t t = 0; t < cat->n_types; t++) {
        cat->view[t] = cat->types[t].info;
        cat->view[t].struct_size = sizeof cat->view[t];
        cat->view[t].offerings = cat->snapshot + cat->types[t].first_offer;
        cat->view[t].n_offerings = cat->types[t].n_offers;
    }
    return cat->view;
}
