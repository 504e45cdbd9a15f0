/*
 * model/kubelet.h - kubelet settings that shape a node's allocatable.
 *
 * They come from a NodePool's spec.template.spec.kubelet or from the
 * NodeClass it references (spec.kubelet); the NodePool's own fields win,
 * field by field. Every field has a "set" flag: an explicit "0" is honoured
 * as zero; an unset field takes Karpenter's documented default.
 */
#ifndef HOIST_MODEL_KUBELET_H
#define HOIST_MODEL_KUBELET_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "model/resources.h"
#include "util/error.h"

/* Eviction signals hoist understands (others are accepted and ignored). */
typedef enum hoist_eviction_signal {
    HOIST_EVICT_MEMORY_AVAILABLE = 0,  /* memory.available  -> reduces memory */
    HOIST_EVICT_NODEFS_AVAILABLE,      /* nodefs.available  -> reduces ephemeral-storage */
    HOIST_EVICT_N_SIGNALS
} hoist_eviction_signal;

/* One eviction threshold: an absolute quantity or a percentage of capacity. */
typedef struct hoist_eviction_threshold {
    bool set;
    bool is_percent;
    double percent;        /* 0..100 when is_percent */
    hoist_milli amount;    /* milli-units when !is_percent */
} hoist_eviction_threshold;

typedef struct hoist_kubelet_config {
    bool has_max_pods;
    int32_t max_pods;                      /* kubelet maxPods */
    bool has_pods_per_core;
    int32_t pods_per_core;                 /* kubelet podsPerCore (0 = no per-core cap) */
    uint32_t kube_reserved_set;            /* bit i set: kube_reserved.v[i] given */
    hoist_resources kube_reserved;
    uint32_t system_reserved_set;          /* bit i set: system_reserved.v[i] given */
    hoist_resources system_reserved;
    hoist_eviction_threshold eviction_hard[HOIST_EVICT_N_SIGNALS];
    hoist_eviction_threshold eviction_soft[HOIST_EVICT_N_SIGNALS];
    bool has_vm_memory_overhead_percent;
    double vm_memory_overhead_percent;     /* fraction written as a percentage, e.g. 7.5 */
    bool has_root_volume;
    hoist_milli root_volume;               /* root volume size, milli-bytes (NodeClass
                                              blockDeviceMappings; default 20Gi) */
    bool instance_store_raid0;             /* NodeClass instanceStorePolicy: RAID0 -> the
                                              ephemeral storage is the instance-store NVMe */
} hoist_kubelet_config;

/* Decode a kubelet object ({"maxPods": 110, "kubeReserved": {...}, "evictionHard":
 * {"memory.available": "5%"}, ...}) into cfg, on top of what cfg holds. */
int hoist_kubelet_from_json(hoist_resource_names *names, const json_t *obj,
                            hoist_kubelet_config *cfg, hoist_err *err);
/* For every field set in `over`, copy it into `base`. */
void hoist_kubelet_overlay(hoist_kubelet_config *base, const hoist_kubelet_config *over);

#endif
