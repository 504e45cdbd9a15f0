/* kube/trim.c - keep only what decisions read; see trim.h. */
#include "kube/trim.h"

#include <stdbool.h>
#include <string.h>

/* Delete every member of obj (if an object) whose key is not in keys. */
static void keep_only(json_t *obj, const char *const *keys)
{
    if (!json_is_object(obj))
        return;
    const char *k;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(obj, tmp, k, v) {
        bool keep = false;
        for (size_t i = 0; keys[i] && !keep; i++)
            keep = strcmp(k, keys[i]) == 0;
        if (!keep)
            json_object_del(obj, k);
    }
}

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Annotations some decoder or stage reads. */
static bool annotation_read(const char *k)
{
    return starts_with(k, "hoist.dev/") || starts_with(k, "karpenter.sh/") ||
           starts_with(k, "karpenter.k8s.aws/") ||
           !strcmp(k, "cluster-autoscaler.kubernetes.io/safe-to-evict") ||
           !strcmp(k, "controller.kubernetes.io/pod-deletion-cost") ||
           !strcmp(k, "storageclass.kubernetes.io/is-default-class");
}

static void trim_metadata(json_t *md)
{
    static const char *const keep[] = {"name", "namespace", "uid", "resourceVersion", "labels",
                                       "annotations", "creationTimestamp", "deletionTimestamp",
                                       "ownerReferences", NULL};
    static const char *const owner_keep[] = {"apiVersion", "kind", "name", "uid", "controller",
                                             NULL};
    if (!json_is_object(md))
        return;
    keep_only(md, keep);
    json_t *ann = json_object_get(md, "annotations");
    if (json_is_object(ann)) {
        const char *k;
        json_t *v;
        void *tmp;
        json_object_foreach_safe(ann, tmp, k, v) {
            if (!annotation_read(k))
                json_object_del(ann, k);
        }
        if (json_object_size(ann) == 0)
            json_object_del(md, "annotations");
    }
    json_t *owners = json_object_get(md, "ownerReferences");
    size_t i;
    json_t *o;
    json_array_foreach(owners, i, o) keep_only(o, owner_keep);
}

static void trim_containers(json_t *list)
{
    static const char *const keep[] = {"name", "resources", "restartPolicy", NULL};
    static const char *const res_keep[] = {"requests", "limits", NULL};
    size_t i;
    json_t *c;
    json_array_foreach(list, i, c) {
        keep_only(c, keep);
        keep_only(json_object_get(c, "resources"), res_keep);
    }
}

static void trim_volumes(json_t *list)
{
    static const char *const keep[] = {"name", "persistentVolumeClaim", "ephemeral", "emptyDir",
                                       "hostPath", NULL};
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v) keep_only(v, keep);
}

/* A pod spec (a Pod's or a DaemonSet template's). */
static void trim_pod_spec(json_t *spec)
{
    static const char *const keep[] = {
        "nodeName", "nodeSelector", "affinity", "tolerations", "topologySpreadConstraints",
        "priority", "priorityClassName", "schedulerName", "volumes", "containers",
        "initContainers", "overhead", "resources", "terminationGracePeriodSeconds", NULL};
    if (!json_is_object(spec))
        return;
    keep_only(spec, keep);
    trim_containers(json_object_get(spec, "containers"));
    trim_containers(json_object_get(spec, "initContainers"));
    trim_volumes(json_object_get(spec, "volumes"));
}

static void trim_pod(json_t *obj)
{
    static const char *const keep[] = {"apiVersion", "kind", "metadata", "spec", "status", NULL};
    static const char *const status_keep[] = {"phase", NULL};
    keep_only(obj, keep);
    trim_pod_spec(json_object_get(obj, "spec"));
    keep_only(json_object_get(obj, "status"), status_keep);
}

static void trim_node(json_t *obj)
{
    static const char *const keep[] = {"apiVersion", "kind", "metadata", "spec", "status", NULL};
    static const char *const spec_keep[] = {"providerID", "taints", "unschedulable", NULL};
    static const char *const status_keep[] = {"capacity", "allocatable", "conditions", NULL};
    static const char *const cond_keep[] = {"type", "status", NULL};
    keep_only(obj, keep);
    keep_only(json_object_get(obj, "spec"), spec_keep);
    json_t *status = json_object_get(obj, "status");
    keep_only(status, status_keep);
    json_t *conds = json_object_get(status, "conditions");
    if (!json_is_array(conds))
        return;
    for (size_t i = json_array_size(conds); i-- > 0;) {
        json_t *c = json_array_get(conds, i);
        const char *type = json_string_value(json_object_get(c, "type"));
        if (json_is_object(c) && type && strcmp(type, "Ready") != 0)
            json_array_remove(conds, i);
        else
            keep_only(c, cond_keep);
    }
}

static void trim_daemonset(json_t *obj)
{
    static const char *const keep[] = {"apiVersion", "kind", "metadata", "spec", NULL};
    static const char *const spec_keep[] = {"template", NULL};
    static const char *const tmpl_keep[] = {"metadata", "spec", NULL};
    keep_only(obj, keep);
    json_t *spec = json_object_get(obj, "spec");
    keep_only(spec, spec_keep);
    json_t *tmpl = json_object_get(spec, "template");
    keep_only(tmpl, tmpl_keep);
    trim_metadata(json_object_get(tmpl, "metadata"));
    trim_pod_spec(json_object_get(tmpl, "spec"));
}

/* Top-level keep list, then spec and status keep lists (NULL = keep all). */
static void trim_simple(json_t *obj, const char *const *top, const char *const *spec,
                        const char *const *status)
{
    keep_only(obj, top);
    if (spec)
        keep_only(json_object_get(obj, "spec"), spec);
    if (status)
        keep_only(json_object_get(obj, "status"), status);
}

void hoist_kube_trim(json_t *obj)
{
    static const char *const with_status[] = {"apiVersion", "kind", "metadata", "spec", "status",
                                              NULL};
    static const char *const no_status[] = {"apiVersion", "kind", "metadata", "spec", NULL};
    if (!json_is_object(obj))
        return;
    trim_metadata(json_object_get(obj, "metadata"));
    const char *kind = json_string_value(json_object_get(obj, "kind"));
    if (!kind)
        return;
    size_t klen = strlen(kind);
    if (!strcmp(kind, "Pod")) {
        trim_pod(obj);
    } else if (!strcmp(kind, "Node")) {
        trim_node(obj);
    } else if (!strcmp(kind, "DaemonSet")) {
        trim_daemonset(obj);
    } else if (!strcmp(kind, "PersistentVolume")) {
        static const char *const spec[] = {"storageClassName", "capacity", "claimRef",
                                           "nodeAffinity", "csi", NULL};
        static const char *const status[] = {"phase", NULL};
        static const char *const claim[] = {"namespace", "name", "uid", NULL};
        static const char *const csi[] = {"driver", NULL};
        trim_simple(obj, with_status, spec, status);
        keep_only(json_object_get(json_object_get(obj, "spec"), "claimRef"), claim);
        keep_only(json_object_get(json_object_get(obj, "spec"), "csi"), csi);
    } else if (!strcmp(kind, "PersistentVolumeClaim")) {
        static const char *const spec[] = {"storageClassName", "volumeName", "resources", NULL};
        static const char *const status[] = {"phase", NULL};
        trim_simple(obj, with_status, spec, status);
    } else if (!strcmp(kind, "StorageClass")) {
        static const char *const top[] = {"apiVersion", "kind", "metadata", "provisioner",
                                          "volumeBindingMode", "allowedTopologies", NULL};
        trim_simple(obj, top, NULL, NULL);
    } else if (!strcmp(kind, "PodDisruptionBudget")) {
        static const char *const spec[] = {"selector", "minAvailable", "maxUnavailable", NULL};
        static const char *const status[] = {"currentHealthy", "desiredHealthy",
                                             "disruptionsAllowed", "expectedPods", NULL};
        trim_simple(obj, with_status, spec, status);
    } else if (!strcmp(kind, "Namespace")) {
        static const char *const top[] = {"apiVersion", "kind", "metadata", NULL};
        trim_simple(obj, top, NULL, NULL);
    } else if (!strcmp(kind, "NodePool") ||
               (klen >= 9 && !strcmp(kind + klen - 9, "NodeClass"))) {
        trim_simple(obj, no_status, NULL, NULL);
    }
}
