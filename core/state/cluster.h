/*
 * state/cluster.h - the cluster state the pipeline decides on: every
 * Kubernetes object the event source reported, kept up to date by add,
 * update and delete events, indexed by key, and readable at any moment as a
 * hoist_objects snapshot (model/objects.h) that the planner and the
 * disruption stages borrow.
 *
 * Objects are keyed by kind and "namespace/name" (cluster-scoped kinds:
 * "name"). The kinds are those model/objects.h decodes; other kinds are
 * ignored (hoist_cluster_apply returns 0 and counts them in `ignored`).
 *
 * Storage. Each decoded object lives in an arena of its own (small blocks),
 * and each live object also keeps its compact JSON text. A delete or an
 * update drops the object from the snapshot's arrays at once (O(1): swap
 * with the last and fix the index) and frees its arena, so memory follows
 * the live objects without a garbage-collecting rebuild (an earlier design
 * re-decoded every object once garbage outgrew them: a pause of ~0.9 s at
 * 30,000 pods and a fifth of a large simulation's time). Pointers into the
 * snapshot (hoist_pod *, names, ...) are valid until the next apply or bind
 * (one that replaces or deletes that object frees it). Nominating and clearing nominations never move or
 * free objects; they only change pods' node_name (a nominated node_name
 * string lives until that nomination ends). The resource name table is the
 * snapshot's and only grows.
 * Array ORDER in the snapshot is not stable across mutations; decisions that
 * need determinism sort by name (the planner does).
 *
 * Nominations. The pipeline nominates a pending pod to a node it launched for
 * it (or to an in-flight node): the snapshot then shows the pod with
 * node_name = that node, so the next decision counts it there and does not
 * buy for it again. hoist_pod.node_name is the EFFECTIVE node; the store
 * remembers whether it comes from spec.nodeName (bound) or a nomination.
 * A nomination ends when the pod is bound (an update with spec.nodeName),
 * deleted, or cleared.
 *
 * Usage. The store keeps model/usage.h's per-node index current with every
 * change (entry positions are the ids), and the snapshot's `usage` points at
 * it, so decisions read a node's pods and sums, and the number of pods
 * waiting, without walking every pod.
 *
 * Synthetic nodes. The pipeline may add Node objects of its own (in-flight
 * machines before their Node registers) with hoist_cluster_apply like any
 * other; it deletes them when the real Node appears.
 *
 * Not thread-safe; one loop thread owns it.
 */
#ifndef HOIST_STATE_CLUSTER_H
#define HOIST_STATE_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "model/objects.h"
#include "model/usage.h"
#include "util/error.h"
#include "util/strmap.h"

/* What happened to an object. */
typedef enum hoist_object_op {
    HOIST_OBJECT_ADD = 0,    /* added (or first seen in a list) */
    HOIST_OBJECT_UPDATE,     /* changed; an update of an unknown object is an add */
    HOIST_OBJECT_DELETE      /* deleted; only kind, metadata.namespace and metadata.name
                               are read, so a trace's delete stub works */
} hoist_object_op;

/* One change of one object, as an event source delivers it. */
typedef struct hoist_object_event {
    hoist_object_op op;
    const json_t *object;   /* borrowed: the whole object with apiVersion and kind
                               (a delete may carry a stub; kind defaults to "Pod") */
    const char *text;       /* optional, borrowed: `object` as compact JSON text
                               (json_dumps with JSON_COMPACT) when the producer has
                               it already; saves the store a dump. NULL: dumped */
    bool keep;              /* the producer never changes `object` afterwards: the
                               store may keep a reference to a pending pod's object
                               until it is bound, replaced or deleted, so that
                               hoist_cluster_bind need not parse its text */
} hoist_object_event;

/* Counters (monotonic). */
typedef struct hoist_cluster_stats {
    uint64_t applied;       /* events applied */
    uint64_t rejected;      /* events refused (bad object; the previous version stays) */
    uint64_t ignored;       /* objects of kinds hoist does not decode */
} hoist_cluster_stats;

typedef struct hoist_cluster_entry hoist_cluster_entry; /* private, in cluster.c */

/* The kinds the store keeps, one snapshot array each (all NodeClass kinds share
 * one array). */
#define HOIST_CLUSTER_N_KINDS 10

typedef struct hoist_cluster {
    hoist_objects objects;          /* the snapshot (keep_going false; this store checks
                                       one object at a time) */
    size_t index_cap;               /* slots in index: a power of two, or 0 */
    size_t *index;                  /* "Kind\x1fns/name" -> entry position + 1; 0 = empty
                                       (open addressing, deletion by backward shift) */
    size_t n_live;                  /* live objects */
    size_t n_entries, cap_entries;  /* entry slots used (live or free) and allocated */
    hoist_cluster_entry *entries;   /* live objects and free slots; positions are stable */
    size_t free_entry;              /* first free entry slot, SIZE_MAX = none */
    size_t *owners[HOIST_CLUSTER_N_KINDS]; /* per kind: the entry of each element of the
                                              snapshot's array of that kind */
    size_t cap_owners[HOIST_CLUSTER_N_KINDS];
    size_t *nominated;              /* entries of nominated pods */
    size_t n_nominated, cap_nominated;
    size_t live_bytes;              /* arena bytes of the decoded live objects */
    hoist_usage usage;              /* pods per node, by entry position (the snapshot's
                                       objects.usage points here) */
    bool usage_stale;               /* a usage update ran out of memory: rebuild it */
    uint64_t last_node_serial;      /* the last hoist_node.serial given */
    hoist_cluster_stats stats;
} hoist_cluster;

/* The object a DELETE event needs: {"apiVersion", "kind", "metadata":
 * {"name"[, "namespace"]}} (a new reference; ns NULL for cluster-scoped
 * kinds; apiVersion "v1" unless given). NULL when out of memory. */
json_t *hoist_object_ref(const char *api_version, const char *kind, const char *ns,
                         const char *name);

/* Prepare an empty store (allocates nothing). */
void hoist_cluster_init(hoist_cluster *c);
/* Free every object and the snapshot; the store is empty and reusable. */
void hoist_cluster_free(hoist_cluster *c);

/* Apply one event. ADD/UPDATE decode ev->object (borrowed; its text is
 * copied): on success the object replaces any previous one with the same
 * key; a bad object is refused with err naming it and the field at fault,
 * and any previous version stays. DELETE removes the object (0 when it was
 * not there). Returns 1 when the store changed, 0 when not (delete of an
 * unknown key, an ignored kind), -1 with err on a refused object or when
 * memory runs out. */
int hoist_cluster_apply(hoist_cluster *c, const hoist_object_event *ev, hoist_err *err);

/* The snapshot to decide on: borrowed, valid until the next mutating call.
 * Its name table may grow under the planner; that is allowed. */
hoist_objects *hoist_cluster_objects(hoist_cluster *c);

/* Number of live objects of all kinds. */
size_t hoist_cluster_size(const hoist_cluster *c);

/* Point pending pod ns/name at node (copied): the snapshot shows it with
 * node_name = node until it is bound, deleted or the nomination is cleared.
 * Returns 0, 1 when the pod is unknown or already bound (nothing done), -1
 * when memory runs out. */
int hoist_cluster_nominate(hoist_cluster *c, const char *ns, const char *name, const char *node);
/* End pod ns/name's nomination (it is pending again). True when it had one. */
bool hoist_cluster_clear_nomination(hoist_cluster *c, const char *ns, const char *name);
/* The node pod ns/name is nominated to, or NULL (borrowed, valid until the next
 * mutating call). */
const char *hoist_cluster_nominated(const hoist_cluster *c, const char *ns, const char *name);
/* End every nomination to node (the machine failed or its node went away);
 * returns how many pods are pending again. */
size_t hoist_cluster_clear_nominations_to(hoist_cluster *c, const char *node);

/* Bind pod ns/name to node as the API's binding would: its JSON gets
 * spec.nodeName = node and status.phase "Running" (the simulator's
 * scheduler uses this; the daemon sees bindings as update events instead).
 * Returns 0, 1 when the pod is unknown or already bound, -1 when out of memory. */
int hoist_cluster_bind(hoist_cluster *c, const char *ns, const char *name, const char *node);
/* As hoist_cluster_bind; on 0, *bound (when not NULL) gets the bound pod as
 * JSON (a new reference the caller owns; its compact text is
 * hoist_cluster_text's), so a caller passing the change on need not parse
 * the text again. *bound is NULL on any other return. */
int hoist_cluster_bind_object(hoist_cluster *c, const char *ns, const char *name,
                              const char *node, json_t **bound);

/* The current compact JSON text of an object (borrowed, valid until the next
 * mutating call), or NULL. kind as in the object ("Pod", "Node", ...); ns NULL
 * for cluster-scoped kinds. A bind or nomination is NOT in this text for
 * nominations (they are hoist's, not the API's); a bind is. */
const char *hoist_cluster_text(const hoist_cluster *c, const char *kind, const char *ns,
                               const char *name);

/* Pod ns/name (NULL ns = "default") in the snapshot by its key, O(1), or NULL
 * (borrowed, valid until the next apply or bind). */
const hoist_pod *hoist_cluster_find_pod(const hoist_cluster *c, const char *ns, const char *name);
/* Node `name` in the snapshot, O(1), or NULL (borrowed, as above). */
const hoist_node *hoist_cluster_find_node(const hoist_cluster *c, const char *name);

#endif
