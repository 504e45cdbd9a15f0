/*
 * model/instance.h - an instance type seen as a Kubernetes node: its
 * capacity (what the kubelet reports as status.capacity) and its node labels.
 *
 * Capacity follows Karpenter's AWS provider (pkg/providers/instancetype,
 * AL2023 defaults), so a NodePool without kubelet settings sees the figures
 * Karpenter publishes:
 *   cpu                vcpus
 *   memory             (memory_mib, less 64 MiB CMA on arm64) less
 *                      ceil(that * vmMemoryOverheadPercent / 100) MiB (default 7.5)
 *   pods               maxPods if set, else the ENI-limited count (it->max_pods,
 *                      110 when unknown); then min(podsPerCore * vcpus) when
 *                      podsPerCore > 0
 *   ephemeral-storage  the instance-store NVMe (GB) under RAID0, else the root
 *                      volume (default 20Gi)
 *   nvidia.com/gpu, amd.com/gpu, habana.ai/gaudi   GPU count by manufacturer
 *   it->extended       added as given (aws.amazon.com/neuron, ...)
 */
#ifndef HOIST_MODEL_INSTANCE_H
#define HOIST_MODEL_INSTANCE_H

#include <hoist/types.h>

#include "model/kubelet.h"
#include "model/labels.h"
#include "model/resources.h"
#include "util/arena.h"
#include "util/error.h"

/* Karpenter's default VM memory overhead, in percent of the advertised memory. */
#define HOIST_DEFAULT_VM_MEMORY_OVERHEAD_PERCENT 7.5
/* Memory the Graviton (arm64) firmware keeps for CMA, MiB, taken before the overhead. */
#define HOIST_ARM64_CMA_RESERVED_MIB 64
/* Pods per node when the ENI-limited count is unknown (kubelet's default maxPods). */
#define HOIST_DEFAULT_MAX_PODS 110
/* Default root volume, bytes (20Gi). */
#define HOIST_DEFAULT_ROOT_VOLUME_BYTES (20LL * 1024 * 1024 * 1024)

/* Memory capacity in milli-bytes of `it` after the VM overhead (kc may be NULL). */
hoist_milli hoist_instance_memory(const hoist_instance_type *it, const hoist_kubelet_config *kc);
/* Pod capacity in milli-pods of `it` under kc (kc may be NULL). */
hoist_milli hoist_instance_pods(const hoist_instance_type *it, const hoist_kubelet_config *kc);
/* Ephemeral-storage capacity in milli-bytes of `it` under kc (kc may be NULL). */
hoist_milli hoist_instance_ephemeral_storage(const hoist_instance_type *it,
                                             const hoist_kubelet_config *kc);

/* Fill *capacity (zeroed first) with the node capacity of `it` under kc (NULL
 * means no kubelet settings). GPU and extended resource names are interned in
 * `names`. Returns 0, or -1 with a message naming the instance type when the
 * name table is full or an extended resource name is invalid. */
int hoist_instance_capacity(const hoist_instance_type *it, const hoist_kubelet_config *kc,
                            hoist_resource_names *names, hoist_resources *capacity, hoist_err *err);

/* The labels a node of type `it` carries before it has a zone, nodepool or
 * capacity type: node.kubernetes.io/instance-type, kubernetes.io/arch,
 * kubernetes.io/os=linux and hoist.dev/instance-* (category, family,
 * generation, size, cpu, memory, hypervisor, cpu-manufacturer, and when the
 * type has them network-bandwidth, local-nvme, gpu-name, gpu-manufacturer,
 * gpu-count, gpu-memory (per GPU, MiB)), with the values Karpenter puts under
 * karpenter.k8s.aws/instance-*. *out is sorted by key and owned by `a`.
 * Returns 0, or -1 when out of memory. */
int hoist_instance_labels(hoist_arena *a, const hoist_instance_type *it, hoist_labels *out);

#endif
