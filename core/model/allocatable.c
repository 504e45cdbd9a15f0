/* model/allocatable.c - kube-reserved, system-reserved, eviction and
 * allocatable; see allocatable.h. */
#include "model/allocatable.h"

#include <math.h>
#include <string.h>

#define MIB 1048576LL
#define GIB (1024LL * MIB)

/* CPU bands of the kube-reserved formula: [start, end) millicores at a rate. */
static const struct {
    int64_t start, end;
    double rate;
} cpu_bands[] = {
    {0, 1000, 0.06},
    {1000, 2000, 0.01},
    {2000, 4000, 0.005},
    {4000, INT64_MAX, 0.0025},
};

hoist_milli hoist_kube_reserved_cpu_default(hoist_milli cpu)
{
    hoist_milli total = 0;
    for (size_t i = 0; i < sizeof cpu_bands / sizeof cpu_bands[0]; i++) {
        if (cpu < cpu_bands[i].start)
            break;
        int64_t width = cpu < cpu_bands[i].end ? cpu - cpu_bands[i].start
                                               : cpu_bands[i].end - cpu_bands[i].start;
        /* truncated per band, as Karpenter does */
        total += (int64_t)((double)width * cpu_bands[i].rate);
    }
    return total;
}

/* Whole bytes of a milli-byte amount, rounded up. */
static int64_t bytes_of(hoist_milli m)
{
    return m / 1000 + (m % 1000 > 0);
}

/* A threshold's amount given the capacity it is a percentage of. */
static hoist_milli threshold_amount(const hoist_eviction_threshold *t, hoist_milli capacity)
{
    if (!t->is_percent)
        return t->amount;
    double p = t->percent == 100 ? 0 : t->percent; /* 100% disables the signal */
    double bytes = ceil((double)bytes_of(capacity) / 100 * p);
    return HOIST_MILLI((int64_t)bytes);
}

static void compute_eviction(const hoist_kubelet_config *kc, const hoist_resources *capacity,
                             hoist_resources *out)
{
    static const int slot_of[HOIST_EVICT_N_SIGNALS] = {
        [HOIST_EVICT_MEMORY_AVAILABLE] = HOIST_RES_MEMORY,
        [HOIST_EVICT_NODEFS_AVAILABLE] = HOIST_RES_EPHEMERAL_STORAGE,
    };
    hoist_milli storage = capacity->v[HOIST_RES_EPHEMERAL_STORAGE];
    out->v[HOIST_RES_MEMORY] = HOIST_MILLI(100 * MIB);
    out->v[HOIST_RES_EPHEMERAL_STORAGE] =
        HOIST_MILLI((int64_t)ceil((double)bytes_of(storage) / 100 * 10));
    if (!kc)
        return;
    for (int s = 0; s < HOIST_EVICT_N_SIGNALS; s++) {
        const hoist_eviction_threshold *hard = &kc->eviction_hard[s];
        const hoist_eviction_threshold *soft = &kc->eviction_soft[s];
        if (!hard->set && !soft->set)
            continue;
        int slot = slot_of[s];
        hoist_milli v = 0;
        if (hard->set)
            v = threshold_amount(hard, capacity->v[slot]);
        if (soft->set) {
            hoist_milli w = threshold_amount(soft, capacity->v[slot]);
            if (w > v)
                v = w;
        }
        out->v[slot] = v;
    }
}

void hoist_node_overhead_compute(const hoist_instance_type *it, const hoist_kubelet_config *kc,
                                 const hoist_resources *capacity, hoist_node_overhead *out)
{
    memset(out, 0, sizeof *out);
    /* AL2023 sizes kube-reserved memory by the ENI-limited pod count, whatever
     * maxPods says; without that count, by the node's pods. */
    int64_t pods = it->max_pods > 0 ? (int64_t)it->max_pods
                                    : capacity->v[HOIST_RES_PODS] / 1000;
    hoist_resources *kr = &out->kube_reserved;
    kr->v[HOIST_RES_CPU] = hoist_kube_reserved_cpu_default(capacity->v[HOIST_RES_CPU]);
    kr->v[HOIST_RES_MEMORY] = HOIST_MILLI((11 * pods + 255) * MIB);
    kr->v[HOIST_RES_EPHEMERAL_STORAGE] = HOIST_MILLI(GIB);
    if (kc) {
        for (int i = 0; i < HOIST_RES_MAX; i++) {
            if (kc->kube_reserved_set & (1u << i))
                kr->v[i] = kc->kube_reserved.v[i];
            if (kc->system_reserved_set & (1u << i))
                out->system_reserved.v[i] = kc->system_reserved.v[i];
        }
    }
    compute_eviction(kc, capacity, &out->eviction);
}

void hoist_allocatable(const hoist_instance_type *it, const hoist_kubelet_config *kc,
                       const hoist_resources *capacity, hoist_node_overhead *overhead_out,
                       hoist_resources *allocatable)
{
    hoist_node_overhead oh;
    hoist_node_overhead_compute(it, kc, capacity, &oh);
    for (int i = 0; i < HOIST_RES_MAX; i++) {
        /* all parts are >= 0; subtract one at a time so nothing can overflow */
        hoist_milli v = capacity->v[i] > 0 ? capacity->v[i] : 0;
        const hoist_milli parts[3] = {oh.kube_reserved.v[i], oh.system_reserved.v[i],
                                      oh.eviction.v[i]};
        for (int k = 0; k < 3; k++)
            v = parts[k] >= v ? 0 : v - parts[k];
        allocatable->v[i] = v;
    }
    if (overhead_out)
        *overhead_out = oh;
}
