/*
 * model/usage.h - what the pods on each node take, kept current one pod
 * change at a time, so that a decision reads a node's requests, its pods
 * and the number of pods waiting in O(1) instead of walking every pod.
 *
 * The owner of the pods (state/cluster.h) gives each pod a stable id (any
 * size_t; ids index an internal table, so keep them dense) and calls
 * hoist_usage_track whenever that pod's decoded object or its effective
 * node changes, and hoist_usage_forget when it goes. A pod counts on a node
 * when hoist_pod_holds_node is true for it; it counts as waiting when
 * hoist_pod_waits is true.
 *
 * The index borrows the hoist_pod pointers. Untracking reads the pod it
 * tracked (its requests and flags, never its node_name), so a pod's
 * decoded object must stay readable, and those fields unchanged, until
 * its id is tracked again or forgotten. The owner may change node_name in
 * place if it re-tracks at once.
 *
 * For a snapshot without an owner (files given with -f), hoist_usage_build
 * indexes every pod of a hoist_objects at once.
 */
#ifndef HOIST_MODEL_USAGE_H
#define HOIST_MODEL_USAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/objects.h"
#include "util/strmap.h" /* hoist_hash_str */

/* Pods on one node with the same namespace and labels (so the same
 * selectors match them): counted once, by a representative. */
typedef struct hoist_label_set {
    const hoist_pod *rep;         /* one of them (borrowed) */
    uint64_t hash;                /* its labels_hash */
    uint32_t count;
    uint32_t id;                  /* its label class: sets on any node have the same
                                     id exactly when they have the same namespace and
                                     labels */
} hoist_label_set;

/* A label class: the label sets of every node with one namespace and
 * labels share its id (an index into hoist_usage.classes, < n_classes),
 * so a reader can memoize per id what depends only on those. An id is
 * free again once no set has it. Private to usage.c. */
typedef struct hoist_label_class {
    char *text;                   /* owned: namespace, then each label's key and
                                     value, each NUL-terminated; NULL = free id */
    size_t n_labels;
    uint64_t hash;                /* its labels_hash */
    uint32_t refs;                /* label sets with this id */
    uint32_t next_free;           /* free ids: the next one */
} hoist_label_class;

/* One node's pods and their sums. */
typedef struct hoist_node_usage {
    char *node;                   /* node name: name_inline, or malloc'd when longer;
                                     NULL = free slot */
    uint64_t name_hash;           /* hoist_hash_str of it */
    uint64_t gen;                 /* new each time the slot is given to a node (unique
                                     in the index): see hoist_usage_at */
    char name_inline[48];         /* short names live here, next to the sums a
                                     lookup reads next */
    bool long_name;               /* node is malloc'd (too long for name_inline) */
    hoist_resources requested;    /* sum of the requests of the pods holding it */
    uint32_t n_work;              /* of those, pods not owned by a DaemonSet */
    uint32_t n_do_not_disrupt;    /* pods with the do-not-disrupt annotation */
    int64_t priority_sum;         /* spec.priority over the workload pods */
    int64_t deletion_cost_sum;    /* pod-deletion-cost over the workload pods */
    uint32_t n_anti_affinity;     /* pods with required pod anti-affinity */
    size_t n_sets, cap_sets;
    hoist_label_set *sets;        /* its pods grouped by namespace and labels */
    size_t n_pods, cap_pods;
    const hoist_pod **pods;       /* borrowed, in no particular order */
    size_t *ids;                  /* the owner's id of each pod */
    size_t next_free;             /* free slots: the next one */
} hoist_node_usage;

/* Where a tracked id is counted (private to usage.c; public for sizing). */
typedef struct hoist_usage_link {
    size_t slot;                  /* node slot + 1; 0 = on no node */
    size_t at;                    /* position in that slot's pods */
    const hoist_pod *pod;         /* the pod tracked, or NULL */
    bool waiting;                 /* it is in the waiting list (node_name may have
                                     changed in place since) */
    size_t wpos;                  /* its position there */
} hoist_usage_link;

typedef struct hoist_usage {
    hoist_node_usage *slots;
    size_t n_slots, cap_slots, free_slot, n_live_slots;
    uint32_t *node_index;         /* open addressing by name_hash: live slot + 1,
                                     0 = empty */
    size_t n_node_indexed, cap_node_index; /* cap: a power of two, or 0 */
    hoist_usage_link *links;      /* by id */
    size_t cap_links;
    size_t n_tracked;             /* ids tracking a pod */
    size_t n_waiting;             /* tracked pods that wait for a node */
    size_t *waiting;              /* their ids, in no particular order */
    size_t cap_waiting;
    size_t n_anti_affinity;       /* pods holding a node with required pod anti-affinity */
    hoist_label_class *classes;   /* by id; ids below n_classes were used */
    size_t n_classes, cap_classes;
    uint32_t free_class;          /* first free id, or UINT32_MAX */
    uint32_t *class_index;        /* open addressing by hash: id + 1, 0 = empty */
    size_t n_indexed, cap_index;  /* cap_index: a power of two, or 0 */
    uint64_t last_gen;            /* the last slot generation given */
} hoist_usage;

/* Prepare an empty index (allocates nothing). */
void hoist_usage_init(hoist_usage *u);
/* Free everything; the index is empty and reusable. */
void hoist_usage_free(hoist_usage *u);

/* Count pod p (borrowed) under id, replacing whatever id counted before.
 * 0, or -1 when out of memory (id then counts nothing). */
int hoist_usage_track(hoist_usage *u, size_t id, const hoist_pod *p);
/* Stop counting id (nothing when it counts nothing). */
void hoist_usage_forget(hoist_usage *u, size_t id);
/* Forget every id (node slots are kept for reuse). */
void hoist_usage_reset(hoist_usage *u);

/* Index every pod of o, id = its position in o->pods. 0 or -1 (out of memory). */
int hoist_usage_build(hoist_usage *u, const hoist_objects *o);

/* The i-th pod waiting for a node, i < u->n_waiting (borrowed). */
static inline const hoist_pod *hoist_usage_waiting(const hoist_usage *u, size_t i)
{
    return u->links[u->waiting[i]].pod;
}

/* The pods holding node `name`, or NULL when none do (borrowed, valid until
 * the next track, forget or reset). */
const hoist_node_usage *hoist_usage_of(const hoist_usage *u, const char *name);
/* The index into u->slots of node `name`'s usage, or SIZE_MAX when it has
 * none. With that slot's gen it is a hint a caller may keep between
 * decisions: hoist_usage_at gives the usage back without a name lookup. */
size_t hoist_usage_slot_of(const hoist_usage *u, const char *name);
/* Slot `slot`'s usage while it still belongs to the node it had at
 * generation gen (borrowed), else NULL (the node lost it: look it up). */
const hoist_node_usage *hoist_usage_at(const hoist_usage *u, size_t slot, uint64_t gen);

/* False only when no pod waiting in u can fit on any node of o that a
 * scheduler could bind to (Ready or without a Ready condition, i.e. ready
 * != 0, and not cordoned) by resources alone: every such node lacks room
 * (allocatable minus what its pods request) for the smallest waiting
 * request of some resource. A pod fits a node only with room for all its
 * requests, so a false answer means a scheduling pass would bind nothing.
 * True when some pod waits and such a node may have room. O(waiting pods +
 * nodes). u must index o's pods. */
bool hoist_usage_room_for_waiting(const hoist_usage *u, const hoist_objects *o);

#endif
