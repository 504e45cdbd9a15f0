/* model/instance.c - an instance type's node capacity and labels; see instance.h. */
#include "model/instance.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MIB 1048576LL

hoist_milli hoist_instance_memory(const hoist_instance_type *it, const hoist_kubelet_config *kc)
{
    int64_t mib = (int64_t)it->memory_mib;
    if (it->architecture && strcmp(it->architecture, "arm64") == 0)
        mib = mib > HOIST_ARM64_CMA_RESERVED_MIB ? mib - HOIST_ARM64_CMA_RESERVED_MIB : 0;
    double percent = kc && kc->has_vm_memory_overhead_percent
                         ? kc->vm_memory_overhead_percent
                         : HOIST_DEFAULT_VM_MEMORY_OVERHEAD_PERCENT;
    /* Same floating-point steps as Karpenter (bytes * fraction / 1024 / 1024,
     * rounded up to whole MiB) so that results agree to the MiB. */
    double overhead = ceil((double)(mib * MIB) * (percent / 100) / 1024 / 1024);
    int64_t left = mib - (int64_t)overhead;
    if (left < 0)
        left = 0;
    return HOIST_MILLI(left * MIB);
}

hoist_milli hoist_instance_pods(const hoist_instance_type *it, const hoist_kubelet_config *kc)
{
    int64_t pods;
    if (kc && kc->has_max_pods)
        pods = kc->max_pods;
    else if (it->max_pods > 0)
        pods = it->max_pods;
    else
        pods = HOIST_DEFAULT_MAX_PODS;
    if (kc && kc->has_pods_per_core && kc->pods_per_core > 0) {
        int64_t cap = (int64_t)kc->pods_per_core * it->vcpus;
        if (cap < pods)
            pods = cap;
    }
    return HOIST_MILLI(pods);
}

hoist_milli hoist_instance_ephemeral_storage(const hoist_instance_type *it,
                                             const hoist_kubelet_config *kc)
{
    if (kc && kc->instance_store_raid0 && it->local_nvme_gb > 0)
        return HOIST_MILLI((int64_t)it->local_nvme_gb * 1000000000LL);
    if (kc && kc->has_root_volume)
        return kc->root_volume;
    return HOIST_MILLI(HOIST_DEFAULT_ROOT_VOLUME_BYTES);
}

/* Kubernetes extended-resource name for a GPU maker, or NULL. */
static const char *gpu_resource(const char *manufacturer)
{
    if (!manufacturer)
        return NULL;
    if (strcasecmp(manufacturer, "nvidia") == 0)
        return "nvidia.com/gpu";
    if (strcasecmp(manufacturer, "amd") == 0)
        return "amd.com/gpu";
    if (strcasecmp(manufacturer, "habana") == 0)
        return "habana.ai/gaudi";
    return NULL;
}

static int add_named(hoist_resource_names *names, hoist_resources *r, const char *name,
                     hoist_milli amount, const char *type, hoist_err *err)
{
    int slot = hoist_resource_names_intern(names, name, err);
    if (slot < 0)
        return hoist_err_prefix(err, "instance type %s: %s", type, name);
    r->v[slot] += amount;
    return 0;
}

int hoist_instance_capacity(const hoist_instance_type *it, const hoist_kubelet_config *kc,
                            hoist_resource_names *names, hoist_resources *capacity, hoist_err *err)
{
    const char *type = it->name ? it->name : "(unnamed)";
    memset(capacity, 0, sizeof *capacity);
    capacity->v[HOIST_RES_CPU] = HOIST_MILLI(it->vcpus);
    capacity->v[HOIST_RES_MEMORY] = hoist_instance_memory(it, kc);
    capacity->v[HOIST_RES_EPHEMERAL_STORAGE] = hoist_instance_ephemeral_storage(it, kc);
    capacity->v[HOIST_RES_PODS] = hoist_instance_pods(it, kc);
    const char *gpu = it->gpu.count > 0 ? gpu_resource(it->gpu.manufacturer) : NULL;
    if (gpu && add_named(names, capacity, gpu, HOIST_MILLI(it->gpu.count), type, err) != 0)
        return -1;
    for (size_t i = 0; i < it->n_extended; i++) {
        const hoist_resource *x = &it->extended[i];
        if (!x->name)
            return hoist_errf(err, "instance type %s: extended resource %zu has no name", type, i);
        if (add_named(names, capacity, x->name, x->amount, type, err) != 0)
            return -1;
    }
    return 0;
}

/* Karpenter's label spelling of names: lower case, spaces as dashes. */
static char *kebab(hoist_arena *a, const char *s)
{
    char *out = hoist_arena_strdup(a, s ? s : "");
    if (!out)
        return NULL;
    for (char *p = out; *p; p++)
        *p = *p == ' ' ? '-' : (char)tolower((unsigned char)*p);
    return out;
}

static int kv_cmp(const void *x, const void *y)
{
    return strcmp(((const hoist_kv *)x)->key, ((const hoist_kv *)y)->key);
}

#define INSTANCE_LABEL(suffix) HOIST_LABEL_INSTANCE_PREFIX suffix

int hoist_instance_labels(hoist_arena *a, const hoist_instance_type *it, hoist_labels *out)
{
    enum { MAX_LABELS = 20 };
    hoist_kv *kv = hoist_arena_calloc(a, MAX_LABELS, sizeof *kv);
    if (!kv)
        return -1;
    size_t n = 0;
#define PUT(k, v)                                   \
    do {                                            \
        const char *val_ = (v);                     \
        if (!val_)                                  \
            return -1;                              \
        kv[n].key = (k);                            \
        kv[n].value = val_;                         \
        n++;                                        \
    } while (0)
    PUT(HOIST_LABEL_INSTANCE_TYPE, hoist_arena_strdup(a, it->name ? it->name : ""));
    PUT(HOIST_LABEL_ARCH, hoist_arena_strdup(a, it->architecture ? it->architecture : ""));
    PUT(HOIST_LABEL_OS, "linux");
    PUT(INSTANCE_LABEL("category"), hoist_arena_strdup(a, it->category ? it->category : ""));
    PUT(INSTANCE_LABEL("family"), hoist_arena_strdup(a, it->family ? it->family : ""));
    PUT(INSTANCE_LABEL("generation"), hoist_arena_sprintf(a, "%u", (unsigned)it->generation));
    PUT(INSTANCE_LABEL("size"), hoist_arena_strdup(a, it->size ? it->size : ""));
    PUT(INSTANCE_LABEL("cpu"), hoist_arena_sprintf(a, "%u", (unsigned)it->vcpus));
    PUT(INSTANCE_LABEL("memory"),
        hoist_arena_sprintf(a, "%llu", (unsigned long long)it->memory_mib));
    PUT(INSTANCE_LABEL("hypervisor"), kebab(a, it->hypervisor));
    if (it->cpu_manufacturer && it->cpu_manufacturer[0])
        PUT(INSTANCE_LABEL("cpu-manufacturer"), kebab(a, it->cpu_manufacturer));
    if (it->network_bandwidth_mbps > 0)
        PUT(INSTANCE_LABEL("network-bandwidth"),
            hoist_arena_sprintf(a, "%u", (unsigned)it->network_bandwidth_mbps));
    if (it->local_nvme_gb > 0)
        PUT(INSTANCE_LABEL("local-nvme"),
            hoist_arena_sprintf(a, "%llu", (unsigned long long)it->local_nvme_gb));
    if (it->gpu.count > 0) {
        PUT(INSTANCE_LABEL("gpu-name"), kebab(a, it->gpu.name));
        PUT(INSTANCE_LABEL("gpu-manufacturer"), kebab(a, it->gpu.manufacturer));
        PUT(INSTANCE_LABEL("gpu-count"), hoist_arena_sprintf(a, "%u", (unsigned)it->gpu.count));
        PUT(INSTANCE_LABEL("gpu-memory"),
            hoist_arena_sprintf(a, "%llu",
                                (unsigned long long)(it->gpu.memory_mib / it->gpu.count)));
    }
#undef PUT
    qsort(kv, n, sizeof *kv, kv_cmp);
    out->n = n;
    out->items = kv;
    return 0;
}
