/*
 * kube/trim.h - cut a Kubernetes object down to the fields hoist's decisions
 * read (model/objects.c and the pipeline), so memory grows with the number
 * of objects, not with the API's verbosity.
 *
 * Everywhere: metadata keeps name, namespace, uid, resourceVersion, labels,
 * creationTimestamp, deletionTimestamp, ownerReferences (apiVersion, kind,
 * name, uid, controller) and only the annotations hoist reads (hoist.dev/..,
 * karpenter.sh/.., karpenter.k8s.aws/.., cluster-autoscaler's safe-to-evict,
 * pod-deletion-cost, the default StorageClass mark); managedFields and the
 * rest go. Per kind:
 *   Pod, DaemonSet template: spec keeps the scheduling fields; containers and
 *     initContainers keep name, resources and restartPolicy; volumes keep
 *     name and their persistentVolumeClaim, ephemeral, emptyDir or hostPath
 *     source; status keeps phase.
 *   Node: spec keeps providerID, taints, unschedulable; status keeps
 *     capacity, allocatable and the Ready condition (type, status).
 *   PV, PVC, StorageClass, PDB: the fields their decoders read.
 *   NodePool and *NodeClass: spec is kept whole (its hash detects drift);
 *     status goes.
 * A field of an unexpected type is left as it is, for the decoder to report.
 */
#ifndef HOIST_KUBE_TRIM_H
#define HOIST_KUBE_TRIM_H

#include <jansson.h>

/* Trim obj (a Kubernetes object with kind) in place. Unknown kinds keep
 * everything but metadata's extras. */
void hoist_kube_trim(json_t *obj);

#endif
