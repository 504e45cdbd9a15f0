/*
 * model/objects.h - Kubernetes objects decoded into plain structs.
 *
 * A hoist_objects is a snapshot: every object loaded from `-f` files (or
 * added one by one from JSON) lives in its arena, grouped by kind. Only the
 * fields scheduling and disruption decisions need are kept.
 *
 * Kinds: Pod, Node, NodePool (hoist.dev/v1 or karpenter.sh/v1), any kind
 * ending in "NodeClass" (e.g. EC2NodeClass), PersistentVolume,
 * PersistentVolumeClaim, StorageClass, DaemonSet, PodDisruptionBudget,
 * Namespace.
 * Other kinds (Deployment, Service, ...) are skipped with a warning.
 *
 * Errors name the place, the object and the field:
 *   "pods.yaml:12: Pod default/web: spec.containers[0].resources.requests:
 *    cpu: invalid quantity ..."
 * By default one bad object fails the whole load and nothing from that file
 * is kept; with keep_going set, bad objects are skipped and their messages
 * collected in `errors`.
 *
 * All strings and arrays below are owned by the snapshot's arena; optional
 * strings are NULL when absent unless a default is stated.
 */
#ifndef HOIST_MODEL_OBJECTS_H
#define HOIST_MODEL_OBJECTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include <hoist/types.h>

#include "model/kubelet.h"
#include "model/labels.h"
#include "model/requirements.h"
#include "model/resources.h"
#include "model/taints.h"
#include "util/arena.h"
#include "util/error.h"

/* A duration meaning "never" (expireAfter: Never, consolidateAfter: Never). */
#define HOIST_NEVER INT64_MAX
/* An unset optional duration or count. */
#define HOIST_UNSET (-1)

/* Where an object was read from. */
typedef struct hoist_source {
    const char *file; /* file name as given ("-" for stdin), or a caller-chosen name */
    int line;         /* 1-based line the object starts on (0 when unknown) */
    int index;        /* 0-based document index in the file */
} hoist_source;

/* A list of strings. */
typedef struct hoist_strings {
    size_t n;
    const char **items;
} hoist_strings;

/* One node selector term: all of its expressions and fields must hold. As in
 * Kubernetes, a term with neither expressions nor fields matches no node. */
typedef struct hoist_node_term {
    hoist_reqs match_expressions; /* matchExpressions on node labels (keys canonical) */
    hoist_reqs match_fields;      /* matchFields; the only key Kubernetes allows is
                                     "metadata.name" (the node's name) */
} hoist_node_term;

/* A node selector: an OR of terms. n == 0 means "no constraint". */
typedef struct hoist_node_selector {
    size_t n;
    hoist_node_term *terms;
} hoist_node_selector;

/* A preferred node affinity term. */
typedef struct hoist_preferred_node_term {
    int32_t weight;        /* 1..100 */
    hoist_node_term term;  /* preference */
} hoist_preferred_node_term;

/* A pod (anti-)affinity term. */
typedef struct hoist_pod_affinity_term {
    int32_t weight;                  /* preferred terms: 1..100; required terms: 0 */
    bool has_selector;               /* false: labelSelector null, which matches no pod */
    hoist_reqs selector;             /* labelSelector */
    hoist_strings namespaces;        /* namespaces; empty = the pod's own namespace
                                        (unless a namespaceSelector is given) */
    bool has_namespace_selector;     /* namespaceSelector given ({} matches all namespaces) */
    hoist_reqs namespace_selector;   /* namespaceSelector */
    const char *topology_key;        /* topologyKey (canonical), never NULL for valid terms */
    hoist_strings match_label_keys;  /* matchLabelKeys */
    hoist_strings mismatch_label_keys; /* mismatchLabelKeys */
} hoist_pod_affinity_term;

/* A list of pod (anti-)affinity terms. */
typedef struct hoist_pod_affinity_terms {
    size_t n;
    hoist_pod_affinity_term *items;
} hoist_pod_affinity_terms;

/* nodeAffinityPolicy / nodeTaintsPolicy of a topology spread constraint. */
typedef enum hoist_spread_policy {
    HOIST_SPREAD_HONOR = 0,
    HOIST_SPREAD_IGNORE
} hoist_spread_policy;

/* A topology spread constraint. */
typedef struct hoist_topology_spread {
    int32_t max_skew;                   /* maxSkew, >= 1 */
    const char *topology_key;           /* topologyKey (canonical) */
    bool do_not_schedule;               /* whenUnsatisfiable: DoNotSchedule (true) or
                                           ScheduleAnyway (false) */
    bool has_selector;                  /* false: labelSelector null (matches no pod) */
    hoist_reqs selector;                /* labelSelector */
    int32_t min_domains;                /* minDomains; 0 when unset (Kubernetes treats as 1) */
    hoist_strings match_label_keys;     /* matchLabelKeys */
    hoist_spread_policy node_affinity_policy; /* default Honor */
    hoist_spread_policy node_taints_policy;   /* default Ignore */
} hoist_topology_spread;

/* A Pod (also the decoded template of a DaemonSet). */
typedef struct hoist_pod {
    hoist_source src;               /* where it was read */
    const char *ns;                 /* metadata.namespace, default "default" */
    const char *name;               /* metadata.name */
    const char *uid;                /* metadata.uid */
    hoist_labels labels;            /* metadata.labels */
    uint64_t labels_hash;           /* of ns and labels (hoist_pod_labels_hash): pods with
                                       equal ones usually match the same selectors */
    bool do_not_disrupt;            /* annotation hoist.dev/do-not-disrupt or
                                       karpenter.sh/do-not-disrupt is "true" */
    int safe_to_evict;              /* cluster-autoscaler.kubernetes.io/safe-to-evict:
                                       1 "true", 0 "false", -1 absent */
    bool has_deletion_cost;         /* controller.kubernetes.io/pod-deletion-cost given */
    int32_t deletion_cost;          /* its value */
    const char *node_name;          /* spec.nodeName; NULL = not bound (pending) */
    const char *phase;              /* status.phase ("Pending", "Running", "Succeeded",
                                       "Failed", "Unknown"); "" when absent */
    bool finished;                  /* phase is "Succeeded" or "Failed" */
    bool terminating;               /* metadata.deletionTimestamp present */
    bool has_priority;              /* spec.priority given */
    int32_t priority;               /* spec.priority (0 when absent) */
    const char *priority_class_name;/* spec.priorityClassName */
    const char *scheduler_name;     /* spec.schedulerName, default "default-scheduler" */
    const char *owner_kind;         /* kind of the controller ownerReference, or NULL */
    const char *owner_name;         /* name of the controller ownerReference, or NULL */
    bool daemonset_owned;           /* the controller owner is a DaemonSet */
    hoist_labels node_selector;     /* spec.nodeSelector (keys canonical) */
    hoist_node_selector node_affinity;          /* requiredDuringScheduling... node terms */
    size_t n_preferred_node_affinity;
    hoist_preferred_node_term *preferred_node_affinity; /* preferredDuringScheduling... */
    hoist_pod_affinity_terms pod_affinity;               /* podAffinity required */
    hoist_pod_affinity_terms pod_affinity_preferred;     /* podAffinity preferred */
    hoist_pod_affinity_terms pod_anti_affinity;          /* podAntiAffinity required */
    hoist_pod_affinity_terms pod_anti_affinity_preferred;/* podAntiAffinity preferred */
    hoist_tolerations tolerations;  /* spec.tolerations */
    size_t n_spread;
    hoist_topology_spread *spread;  /* spec.topologySpreadConstraints */
    hoist_strings claims;           /* PVC names from volumes[].persistentVolumeClaim
                                       (ephemeral volumes give "<pod>-<volume>") */
    bool has_empty_dir;             /* some volume is an emptyDir */
    bool has_host_path;             /* some volume is a hostPath */
    bool placeholder;               /* not a real pod: capacity hoist buys to keep a NodePool's
                                       headroom (pipeline/headroom.h); never decoded, never bound */
    hoist_resources requests;       /* effective requests (see hoist_pod_requests_from_json),
                                       including pods = 1 */
} hoist_pod;

/* A hash of p's namespace and labels, in order. */
uint64_t hoist_pod_labels_hash(const hoist_pod *p);
/* Whether pods a and b have the same namespace and the same labels in the same order. */
bool hoist_pod_same_labels(const hoist_pod *a, const hoist_pod *b);

/* Whether pod p takes capacity on the node it names (bound or nominated):
 * not terminating, not finished, not a placeholder. */
static inline bool hoist_pod_holds_node(const hoist_pod *p)
{
    return p->node_name && !p->terminating && !p->finished && !p->placeholder;
}

/* Whether pod p waits for a node: none yet, not terminating, not finished,
 * and not a DaemonSet's (those come with the node). */
static inline bool hoist_pod_waits(const hoist_pod *p)
{
    return !p->node_name && !p->terminating && !p->finished && !p->daemonset_owned;
}

/* A Node. */
typedef struct hoist_node {
    hoist_source src;
    const char *name;             /* metadata.name */
    const char *provider_id;      /* spec.providerID */
    hoist_labels labels;          /* metadata.labels (keys canonical) */
    hoist_taints taints;          /* spec.taints */
    hoist_resources capacity;     /* status.capacity */
    hoist_resources allocatable;  /* status.allocatable */
    bool unschedulable;           /* spec.unschedulable */
    int ready;                    /* Ready condition: 1 True, 0 False/Unknown, -1 absent */
    int64_t created;              /* metadata.creationTimestamp, Unix seconds; 0 absent */
    uint64_t serial;              /* set by the snapshot's owner (state/cluster.h): new for
                                     every decoded version of every node, never reused;
                                     0 = not kept (a reader may not cache by it) */
} hoist_node;

/* Why a disruption budget applies (NodePool budgets' reasons). */
enum {
    HOIST_REASON_EMPTY = 1u << 0,         /* "Empty" */
    HOIST_REASON_DRIFTED = 1u << 1,       /* "Drifted" */
    HOIST_REASON_UNDERUTILIZED = 1u << 2, /* "Underutilized" */
    HOIST_REASON_ALL = 7u
};

/* One NodePool disruption budget. */
typedef struct hoist_budget {
    bool nodes_is_percent;  /* nodes given as "N%" */
    int32_t nodes;          /* node count, or percent when nodes_is_percent */
    const char *schedule;   /* cron schedule, or NULL (always active) */
    int64_t duration;       /* seconds the schedule stays active; HOIST_UNSET without schedule */
    unsigned reasons;       /* HOIST_REASON_* bits; HOIST_REASON_ALL when reasons omitted */
} hoist_budget;

/* consolidationPolicy. */
typedef enum hoist_consolidation_policy {
    HOIST_CONSOLIDATE_WHEN_EMPTY_OR_UNDERUTILIZED = 0, /* the default */
    HOIST_CONSOLIDATE_WHEN_EMPTY
} hoist_consolidation_policy;

/* A NodePool (hoist.dev/v1 or karpenter.sh/v1). */
typedef struct hoist_nodepool {
    hoist_source src;
    const char *api_version;       /* "hoist.dev/v1" or "karpenter.sh/v1" */
    const char *name;              /* metadata.name */
    int32_t weight;                /* spec.weight (0..100, default 0) */
    hoist_labels labels;           /* spec.template.metadata.labels (keys canonical) */
    hoist_reqs requirements;       /* spec.template.spec.requirements (with minValues) */
    hoist_taints taints;           /* spec.template.spec.taints */
    hoist_taints startup_taints;   /* spec.template.spec.startupTaints */
    int64_t expire_after;          /* seconds; default 720h; HOIST_NEVER for "Never" */
    int64_t termination_grace_period; /* seconds; HOIST_UNSET when absent */
    const char *node_class_group;  /* spec.template.spec.nodeClassRef.group */
    const char *node_class_kind;   /* ... .kind */
    const char *node_class_name;   /* ... .name */
    bool has_kubelet;              /* spec.template.spec.kubelet given */
    hoist_kubelet_config kubelet;  /* its settings (only set fields flagged) */
    uint32_t limits_set;           /* bit i: limits.v[i] was given */
    hoist_resources limits;        /* spec.limits */
    hoist_consolidation_policy consolidation_policy; /* spec.disruption.consolidationPolicy */
    int64_t consolidate_after;     /* seconds; default 0; HOIST_NEVER for "Never" */
    size_t n_budgets;
    hoist_budget *budgets;         /* spec.disruption.budgets; when omitted, one budget of
                                      nodes "10%" (Karpenter's default) */
    uint64_t spec_hash;            /* FNV-1a 64 of spec as compact JSON with sorted keys */
    bool spot_to_spot;             /* annotation hoist.dev/spot-to-spot-consolidation
                                      is "true": a spot node may be replaced by spot */
    uint64_t template_hash;        /* the same of spec.template only: a change drifts the
                                      NodePool's machines (limits, weight and disruption
                                      settings do not) */
} hoist_nodepool;

/* A NodeClass (any kind ending in "NodeClass", e.g. EC2NodeClass). */
typedef struct hoist_nodeclass {
    hoist_source src;
    const char *api_version;       /* e.g. "karpenter.k8s.aws/v1" */
    const char *kind;              /* e.g. "EC2NodeClass" */
    const char *name;              /* metadata.name */
    bool has_kubelet;              /* spec.kubelet given */
    hoist_kubelet_config kubelet;  /* spec.kubelet, plus has_root_volume/root_volume from
                                      blockDeviceMappings (the rootVolume: true entry, else
                                      the first) and instance_store_raid0 */
    const char *instance_store_policy; /* spec.instanceStorePolicy, e.g. "RAID0" */
} hoist_nodeclass;

/* A PersistentVolume. */
typedef struct hoist_pv {
    hoist_source src;
    const char *name;               /* metadata.name */
    const char *storage_class;      /* spec.storageClassName */
    hoist_milli capacity;           /* spec.capacity.storage, milli-bytes */
    const char *claim_ns;           /* spec.claimRef.namespace */
    const char *claim_name;         /* spec.claimRef.name */
    hoist_node_selector node_affinity; /* spec.nodeAffinity.required */
    const char *csi_driver;         /* spec.csi.driver */
} hoist_pv;

/* A PersistentVolumeClaim. */
typedef struct hoist_pvc {
    hoist_source src;
    const char *ns;                 /* metadata.namespace, default "default" */
    const char *name;               /* metadata.name */
    const char *storage_class;      /* spec.storageClassName; NULL = the default class,
                                       "" = no class */
    const char *volume_name;        /* spec.volumeName (bound PV) */
    hoist_milli request;            /* spec.resources.requests.storage, milli-bytes */
    const char *phase;              /* status.phase; "" when absent */
} hoist_pvc;

/* A StorageClass. */
typedef struct hoist_storage_class {
    hoist_source src;
    const char *name;                   /* metadata.name */
    const char *provisioner;            /* provisioner */
    bool wait_for_first_consumer;       /* volumeBindingMode: WaitForFirstConsumer */
    bool is_default;                    /* annotation storageclass.kubernetes.io/is-default-class */
    hoist_node_selector allowed_topologies; /* allowedTopologies (matchLabelExpressions as In) */
} hoist_storage_class;

/* A DaemonSet: its pod template decoded as a Pod named after the DaemonSet. */
typedef struct hoist_daemonset {
    hoist_source src;
    const char *ns;                 /* metadata.namespace, default "default" */
    const char *name;               /* metadata.name */
    hoist_pod pod;                  /* spec.template (daemonset_owned set) */
} hoist_daemonset;

/* An int-or-percent field of a PodDisruptionBudget. */
typedef struct hoist_int_or_percent {
    bool set;        /* given */
    bool percent;    /* written as "N%" */
    int32_t value;   /* the count, or N when percent */
} hoist_int_or_percent;

/* A PodDisruptionBudget. */
typedef struct hoist_pdb {
    hoist_source src;
    const char *ns;                      /* metadata.namespace, default "default" */
    const char *name;                    /* metadata.name */
    bool has_selector;                   /* false: selector null (matches no pod) */
    hoist_reqs selector;                 /* spec.selector ({} matches every pod in ns) */
    hoist_int_or_percent min_available;  /* spec.minAvailable */
    hoist_int_or_percent max_unavailable;/* spec.maxUnavailable */
    bool has_status;                     /* status given */
    int32_t current_healthy;             /* status.currentHealthy */
    int32_t desired_healthy;             /* status.desiredHealthy */
    int32_t disruptions_allowed;         /* status.disruptionsAllowed */
    int32_t expected_pods;               /* status.expectedPods */
} hoist_pdb;

/* The label the API server puts on every Namespace: its own name. */
#define HOIST_LABEL_NAMESPACE_NAME "kubernetes.io/metadata.name"

/* A Namespace (v1), for evaluating pod affinity namespaceSelectors. */
typedef struct hoist_namespace {
    hoist_source src;
    const char *name;               /* metadata.name */
    hoist_labels labels;            /* metadata.labels (keys canonical), always including
                                       kubernetes.io/metadata.name = name, as the API
                                       server sets it */
} hoist_namespace;

/* A growing array of pointers to arena-allocated objects. */
#define HOIST_OBJECT_ARRAY(type, field) \
    size_t n_##field;                  \
    size_t cap_##field;                \
    type **field

/* A snapshot of objects. */
struct hoist_usage;

typedef struct hoist_objects {
    hoist_arena arena;                  /* owns every object and string below */
    hoist_resource_names names;         /* resource slot table for every hoist_resources */
    bool keep_going;                    /* skip bad objects instead of failing (daemon) */
    HOIST_OBJECT_ARRAY(hoist_pod, pods);
    HOIST_OBJECT_ARRAY(hoist_node, nodes);
    HOIST_OBJECT_ARRAY(hoist_nodepool, nodepools);
    HOIST_OBJECT_ARRAY(hoist_nodeclass, nodeclasses);
    HOIST_OBJECT_ARRAY(hoist_pv, pvs);
    HOIST_OBJECT_ARRAY(hoist_pvc, pvcs);
    HOIST_OBJECT_ARRAY(hoist_storage_class, storage_classes);
    HOIST_OBJECT_ARRAY(hoist_daemonset, daemonsets);
    HOIST_OBJECT_ARRAY(hoist_pdb, pdbs);
    HOIST_OBJECT_ARRAY(hoist_namespace, namespaces);
    HOIST_OBJECT_ARRAY(const char, warnings); /* skipped kinds, "file:line: Kind name: ..." */
    HOIST_OBJECT_ARRAY(const char, errors);   /* keep_going: messages of skipped bad objects */
    const struct hoist_usage *usage;    /* per-node pod usage kept by the snapshot's owner
                                           (model/usage.h; borrowed), or NULL: readers
                                           then index the pods themselves */
} hoist_objects;

/* Prepare an empty snapshot (strict mode: keep_going false). */
void hoist_objects_init(hoist_objects *o);
/* Free every object, string and array. */
void hoist_objects_free(hoist_objects *o);

/* Load a JSON or YAML file ("-" reads standard input) and add its objects.
 * Strict mode: returns -1 on the first bad object and keeps nothing from this
 * file. keep_going: returns -1 only when the file itself is unreadable or
 * malformed; bad objects land in o->errors. */
int hoist_objects_load_file(hoist_objects *o, const char *path, hoist_err *err);
/* Same, reading a whole stream (not closed) named `name`. */
int hoist_objects_load_stream(hoist_objects *o, const char *name, FILE *f, hoist_err *err);
/* Same, from len bytes of text named `name`. */
int hoist_objects_load_buffer(hoist_objects *o, const char *name, const char *buf, size_t len,
                              hoist_err *err);
/* Decode one object (borrowed) and add it; src may be NULL. Unknown kinds add
 * a warning and return 0. Returns 0 or -1 (nothing added) in both modes. */
int hoist_objects_add_json(hoist_objects *o, const json_t *obj, const hoist_source *src,
                           hoist_err *err);

/* Compute a pod spec's effective requests into out, as Kubernetes does:
 * max(sum of containers + sum of restartable init containers,
 *     max over init containers i of (i + restartable init containers before i))
 * plus spec.overhead; requests default to limits per resource; pod-level
 * spec.resources (cpu, memory) replace the container sum when given; pods = 1.
 * Errors name the field below spec. */
int hoist_pod_requests_from_json(hoist_resource_names *names, const json_t *spec,
                                 hoist_resources *out, hoist_err *err);

/* Parse a duration such as "720h", "30s", "1h30m", "1.5h", "500ms" (rounded up
 * to whole seconds) or, when allow_never, "Never" (HOIST_NEVER). */
int hoist_duration_parse(const char *s, bool allow_never, int64_t *seconds, hoist_err *err);
/* Parse an RFC 3339 timestamp ("2024-01-02T03:04:05Z", offsets and fractions
 * allowed) into Unix seconds. */
int hoist_timestamp_parse(const char *s, int64_t *seconds, hoist_err *err);

/* Find objects by name (namespace-scoped kinds take ns; NULL ns = "default"). */
const hoist_pod *hoist_objects_find_pod(const hoist_objects *o, const char *ns, const char *name);
const hoist_node *hoist_objects_find_node(const hoist_objects *o, const char *name);
const hoist_nodepool *hoist_objects_find_nodepool(const hoist_objects *o, const char *name);
/* NodeClass by kind (NULL = any) and name. */
const hoist_nodeclass *hoist_objects_find_nodeclass(const hoist_objects *o, const char *kind,
                                                    const char *name);
const hoist_pvc *hoist_objects_find_pvc(const hoist_objects *o, const char *ns, const char *name);
const hoist_pv *hoist_objects_find_pv(const hoist_objects *o, const char *name);
const hoist_storage_class *hoist_objects_find_storage_class(const hoist_objects *o,
                                                            const char *name);
const hoist_namespace *hoist_objects_find_namespace(const hoist_objects *o, const char *name);
/* True when namespace `ns` (NULL = "default") has labels matching `selector`
 * (a namespaceSelector; zero requirements match every namespace). A namespace
 * not in the snapshot is taken to carry only kubernetes.io/metadata.name. */
bool hoist_objects_namespace_matches(const hoist_objects *o, const char *ns,
                                     const hoist_reqs *selector);

#endif
