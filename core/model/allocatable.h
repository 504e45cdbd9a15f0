/*
 * model/allocatable.h - what the kubelet keeps back on a node, and what is
 * left for pods (status.allocatable), as Karpenter's AWS provider computes it
 * for AL2023 nodes.
 *
 *   allocatable = capacity - kube-reserved - system-reserved - eviction threshold
 *   (slot by slot, never below zero)
 *
 * Defaults, each replaced per resource by the kubelet settings:
 *   kube-reserved    cpu: 6 % of the first core, 1 % of the second, 0.5 % of
 *                    the third and fourth, 0.25 % of the rest (millicores,
 *                    rounded down per band); memory: 11 MiB per ENI-limited pod
 *                    (the node's pods when the ENI limit is unknown) + 255 MiB;
 *                    ephemeral-storage: 1Gi
 *   system-reserved  nothing
 *   eviction         memory.available 100Mi, nodefs.available 10 % of the
 *                    ephemeral-storage capacity; evictionHard and evictionSoft
 *                    thresholds (percentages of capacity; "100%" disables)
 *                    replace a default by the larger of the two.
 */
#ifndef HOIST_MODEL_ALLOCATABLE_H
#define HOIST_MODEL_ALLOCATABLE_H

#include <hoist/types.h>

#include "model/kubelet.h"
#include "model/resources.h"

/* The three parts the kubelet keeps back. */
typedef struct hoist_node_overhead {
    hoist_resources kube_reserved;
    hoist_resources system_reserved;
    hoist_resources eviction;
} hoist_node_overhead;

/* Karpenter's default kube-reserved CPU, millicores, for a node of `cpu` millicores. */
hoist_milli hoist_kube_reserved_cpu_default(hoist_milli cpu);

/* The overhead of a node of type `it` with `capacity` (from hoist_instance_capacity
 * under the same kc) under kubelet settings kc (NULL: none). */
void hoist_node_overhead_compute(const hoist_instance_type *it, const hoist_kubelet_config *kc,
                                 const hoist_resources *capacity, hoist_node_overhead *out);

/* Allocatable of a node of type `it` with `capacity` under kc (NULL: none);
 * the overhead it subtracted goes to *overhead_out unless that is NULL. */
void hoist_allocatable(const hoist_instance_type *it, const hoist_kubelet_config *kc,
                       const hoist_resources *capacity, hoist_node_overhead *overhead_out,
                       hoist_resources *allocatable);

#endif
