/*
 * sched/volumes.h - where a pod's persistent volumes let it run.
 *
 * For each PersistentVolumeClaim a pod mounts (pod->claims, looked up in the
 * pod's namespace), as kube-scheduler's VolumeBinding plugin reads it:
 *   - bound (spec.volumeName, or a PV whose spec.claimRef names the claim):
 *     the PV's spec.nodeAffinity.required, an OR of node selector terms;
 *   - unbound, StorageClass (spec.storageClassName; when absent, the default
 *     class, the last loaded if several are marked default) with
 *     volumeBindingMode WaitForFirstConsumer: the class's allowedTopologies
 *     (an OR; none = no constraint), since the volume is provisioned where
 *     the pod lands;
 *   - unbound with Immediate binding, with storageClassName "" or with no
 *     class at all: no constraint. kube-scheduler would keep such a pod
 *     pending until the claim binds and then follow the PV; hoist plans as
 *     if the volume will be provisioned wherever the pod goes.
 * Static PVs that could still be matched to an unbound WaitForFirstConsumer
 * claim are not considered: the class's topology is used.
 *
 * Zone keys: node labels and offerings in hoist carry the standard
 * topology.kubernetes.io/zone, while the AWS EBS CSI driver writes its
 * volumes' zone under topology.ebs.csi.aws.com/zone. That key is translated
 * to topology.kubernetes.io/zone in the returned terms (merged with a zone
 * requirement the term already has), so a volume pinned to us-east-1a
 * yields `topology.kubernetes.io/zone In [us-east-1a]`. All other keys are
 * canonical (see hoist_label_canonical) as decoded.
 *
 * Terms that match no node (no expressions and no fields, as Kubernetes
 * reads an empty term, or whose requirements contradict each other after the
 * translation) are dropped; a volume left with no term makes the pod
 * unschedulable.
 */
#ifndef HOIST_SCHED_VOLUMES_H
#define HOIST_SCHED_VOLUMES_H

#include <stddef.h>

#include "model/objects.h"
#include "util/arena.h"
#include "util/error.h"

/* The AWS EBS CSI driver's zone topology key, read as topology.kubernetes.io/zone. */
#define HOIST_LABEL_EBS_CSI_ZONE "topology.ebs.csi.aws.com/zone"

/* The node selectors pod's volumes impose: *out gets *n_out selectors, one
 * per constrained claim (claims without a constraint add none; a claim
 * mounted twice counts once), which must ALL hold; each is an OR of at least
 * one term. Arrays are new in arena `a`; terms and strings may be shared
 * with `o`, which must outlive them. Returns 0, or -1 when the pod cannot be
 * scheduled at all, with a message naming the pod and the claim: claim not
 * found, bound PersistentVolume not found, StorageClass named but not found,
 * a volume whose topology matches no node, or out of memory. */
int hoist_pod_volume_terms(const hoist_objects *o, const hoist_pod *pod, hoist_arena *a,
                           hoist_node_selector **out, size_t *n_out, hoist_err *err);

/* The PersistentVolume bound to claim pvc: the one spec.volumeName names,
 * else one whose spec.claimRef names pvc (namespace and name); NULL when
 * neither exists. */
const hoist_pv *hoist_pvc_bound_pv(const hoist_objects *o, const hoist_pvc *pvc);

/* The StorageClass that provisions pvc: the named one, or for an absent
 * storageClassName the default class (the last loaded that is marked
 * default); NULL for storageClassName "", no default class, or a named
 * class that is not in the snapshot. */
const hoist_storage_class *hoist_pvc_storage_class(const hoist_objects *o, const hoist_pvc *pvc);

#endif
