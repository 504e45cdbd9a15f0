/* model/kubelet.c - decode and merge kubelet settings; see kubelet.h. */
#include "model/kubelet.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/quantity.h"

/* Largest value kubelet's int32 fields accept. */
#define KUBELET_INT32_MAX 2147483647LL

/* Read an integer field that must lie in 0..INT32_MAX. */
static int decode_int32(const json_t *v, const char *field, int32_t *out, hoist_err *err)
{
    if (!json_is_integer(v))
        return hoist_errf(err, "%s: expected a non-negative integer, got %s", field,
                          json_is_string(v) ? "a string" : "another JSON type");
    json_int_t n = json_integer_value(v);
    if (n < 0)
        return hoist_errf(err, "%s: must not be negative (got %lld)", field, (long long)n);
    if (n > KUBELET_INT32_MAX)
        return hoist_errf(err, "%s: %lld is too large (at most %lld)", field, (long long)n,
                          KUBELET_INT32_MAX);
    *out = (int32_t)n;
    return 0;
}

/* Map a reservation key to its resource slot; -2 for "pid" (valid, no slot),
 * -1 for anything kubelet does not reserve. */
static int reserved_slot(const char *key)
{
    if (strcmp(key, "cpu") == 0)
        return HOIST_RES_CPU;
    if (strcmp(key, "memory") == 0)
        return HOIST_RES_MEMORY;
    if (strcmp(key, "ephemeral-storage") == 0)
        return HOIST_RES_EPHEMERAL_STORAGE;
    if (strcmp(key, "pid") == 0)
        return -2;
    return -1;
}

/* Decode kubeReserved / systemReserved: {"cpu": "100m", "memory": "1Gi", ...}. */
static int decode_reserved(const json_t *obj, const char *field, hoist_resources *out,
                           uint32_t *set, hoist_err *err)
{
    if (!json_is_object(obj))
        return hoist_errf(err, "%s: expected an object of resource quantities", field);
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)obj, key, v) {
        int slot = reserved_slot(key);
        if (slot == -1)
            return hoist_errf(err, "%s.%s: unknown resource (expected cpu, memory, "
                              "ephemeral-storage or pid)", field, key);
        if (!json_is_string(v))
            return hoist_errf(err, "%s.%s: expected a quantity string", field, key);
        hoist_quantity q;
        if (hoist_quantity_parse(json_string_value(v), &q, err) != 0)
            return hoist_err_prefix(err, "%s.%s", field, key);
        if (slot >= 0) {
            out->v[slot] = q.milli;
            *set |= 1u << slot;
        }
    }
    return 0;
}

/* Eviction signals kubelet knows; only the first two shape allocatable. */
static const char *const known_signals[] = {
    "memory.available", "nodefs.available", "nodefs.inodesFree", "imagefs.available",
    "imagefs.inodesFree", "containerfs.available", "containerfs.inodesFree", "pid.available",
};

/* Parse "5%" or "12.5%" into a percentage in 0..100. */
static int parse_percent(const char *s, const char *field, double *out, hoist_err *err)
{
    size_t len = strlen(s);
    if (len < 2 || s[len - 1] != '%')
        return hoist_errf(err, "%s: invalid percentage \"%s\"", field, s);
    char buf[64];
    if (len - 1 >= sizeof buf)
        return hoist_errf(err, "%s: invalid percentage \"%s\"", field, s);
    memcpy(buf, s, len - 1);
    buf[len - 1] = '\0';
    char *end = NULL;
    errno = 0;
    double p = strtod(buf, &end);
    if (errno != 0 || end == buf || *end != '\0' || !isfinite(p) || buf[0] == ' ')
        return hoist_errf(err, "%s: invalid percentage \"%s\"", field, s);
    if (p < 0 || p > 100)
        return hoist_errf(err, "%s: percentage \"%s\" is outside 0%%..100%%", field, s);
    *out = p;
    return 0;
}

/* Decode evictionHard / evictionSoft: {"memory.available": "100Mi", ...}. */
static int decode_eviction(const json_t *obj, const char *field, hoist_eviction_threshold *out,
                           hoist_err *err)
{
    if (!json_is_object(obj))
        return hoist_errf(err, "%s: expected an object of signal thresholds", field);
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)obj, key, v) {
        size_t i, n = sizeof known_signals / sizeof known_signals[0];
        for (i = 0; i < n; i++)
            if (strcmp(key, known_signals[i]) == 0)
                break;
        if (i == n)
            return hoist_errf(err, "%s.%s: unknown eviction signal", field, key);
        char name[160];
        snprintf(name, sizeof name, "%s.%s", field, key);
        if (!json_is_string(v))
            return hoist_errf(err, "%s: expected a quantity or a percentage string", name);
        const char *s = json_string_value(v);
        hoist_eviction_threshold t = {.set = true};
        if (s[0] != '\0' && s[strlen(s) - 1] == '%') {
            if (parse_percent(s, name, &t.percent, err) != 0)
                return -1;
            t.is_percent = true;
        } else {
            hoist_quantity q;
            if (hoist_quantity_parse(s, &q, err) != 0)
                return hoist_err_prefix(err, "%s", name);
            t.amount = q.milli;
        }
        if (i < HOIST_EVICT_N_SIGNALS)
            out[i] = t;
    }
    return 0;
}

/* vmMemoryOverheadPercent: a number or a numeric string, optionally ending in
 * "%", in 0 <= p < 100 (it is a percentage: 7.5 means 7.5 %). */
static int decode_overhead_percent(const json_t *v, double *out, hoist_err *err)
{
    const char *field = "vmMemoryOverheadPercent";
    double p;
    if (json_is_number(v)) {
        p = json_number_value(v);
    } else if (json_is_string(v)) {
        const char *s = json_string_value(v);
        char *end = NULL;
        errno = 0;
        p = strtod(s, &end);
        if (errno != 0 || end == s || s[0] == ' ' || (*end != '\0' && strcmp(end, "%") != 0))
            return hoist_errf(err, "%s: invalid number \"%s\"", field, s);
    } else {
        return hoist_errf(err, "%s: expected a number such as 7.5", field);
    }
    if (!isfinite(p) || p < 0 || p >= 100)
        return hoist_errf(err, "%s: %g is outside 0..100 (it is a percentage)", field, p);
    *out = p;
    return 0;
}

/* Karpenter kubelet fields hoist accepts but that do not change allocatable. */
static const char *const ignored_fields[] = {
    "clusterDNS", "evictionSoftGracePeriod", "evictionMaxPodGracePeriod",
    "imageGCHighThresholdPercent", "imageGCLowThresholdPercent", "cpuCFSQuota",
};

int hoist_kubelet_from_json(hoist_resource_names *names, const json_t *obj,
                            hoist_kubelet_config *cfg, hoist_err *err)
{
    (void)names; /* kubelet reserves only standard resources, which have fixed slots */
    if (!json_is_object(obj))
        return hoist_errf(err, "kubelet: expected an object");
    hoist_kubelet_config c = *cfg; /* decode into a copy: cfg is untouched on error */
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)obj, key, v) {
        int rc = 0;
        if (strcmp(key, "maxPods") == 0) {
            rc = decode_int32(v, key, &c.max_pods, err);
            c.has_max_pods = rc == 0;
        } else if (strcmp(key, "podsPerCore") == 0) {
            rc = decode_int32(v, key, &c.pods_per_core, err);
            c.has_pods_per_core = rc == 0;
        } else if (strcmp(key, "kubeReserved") == 0) {
            rc = decode_reserved(v, key, &c.kube_reserved, &c.kube_reserved_set, err);
        } else if (strcmp(key, "systemReserved") == 0) {
            rc = decode_reserved(v, key, &c.system_reserved, &c.system_reserved_set, err);
        } else if (strcmp(key, "evictionHard") == 0) {
            rc = decode_eviction(v, key, c.eviction_hard, err);
        } else if (strcmp(key, "evictionSoft") == 0) {
            rc = decode_eviction(v, key, c.eviction_soft, err);
        } else if (strcmp(key, "vmMemoryOverheadPercent") == 0) {
            rc = decode_overhead_percent(v, &c.vm_memory_overhead_percent, err);
            c.has_vm_memory_overhead_percent = rc == 0;
        } else {
            size_t i, n = sizeof ignored_fields / sizeof ignored_fields[0];
            for (i = 0; i < n; i++)
                if (strcmp(key, ignored_fields[i]) == 0)
                    break;
            if (i == n)
                rc = hoist_errf(err, "%s: unknown kubelet field", key);
        }
        if (rc != 0)
            return hoist_err_prefix(err, "kubelet");
    }
    *cfg = c;
    return 0;
}

void hoist_kubelet_overlay(hoist_kubelet_config *base, const hoist_kubelet_config *over)
{
    if (over->has_max_pods) {
        base->has_max_pods = true;
        base->max_pods = over->max_pods;
    }
    if (over->has_pods_per_core) {
        base->has_pods_per_core = true;
        base->pods_per_core = over->pods_per_core;
    }
    for (int i = 0; i < HOIST_RES_MAX; i++) {
        if (over->kube_reserved_set & (1u << i))
            base->kube_reserved.v[i] = over->kube_reserved.v[i];
        if (over->system_reserved_set & (1u << i))
            base->system_reserved.v[i] = over->system_reserved.v[i];
    }
    base->kube_reserved_set |= over->kube_reserved_set;
    base->system_reserved_set |= over->system_reserved_set;
    for (int s = 0; s < HOIST_EVICT_N_SIGNALS; s++) {
        if (over->eviction_hard[s].set)
            base->eviction_hard[s] = over->eviction_hard[s];
        if (over->eviction_soft[s].set)
            base->eviction_soft[s] = over->eviction_soft[s];
    }
    if (over->has_vm_memory_overhead_percent) {
        base->has_vm_memory_overhead_percent = true;
        base->vm_memory_overhead_percent = over->vm_memory_overhead_percent;
    }
    if (over->has_root_volume) {
        base->has_root_volume = true;
        base->root_volume = over->root_volume;
    }
    if (over->instance_store_raid0)
        base->instance_store_raid0 = true;
}
