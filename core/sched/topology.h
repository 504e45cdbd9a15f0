/*
 * sched/topology.h - topology groups: the pod counts per domain that
 * topology spread constraints and pod (anti-)affinity terms are judged by.
 *
 * A group is one constraint shape: a kind (spread, affinity, anti-affinity),
 * a topology key, a namespace set and a label selector (with matchLabelKeys
 * already folded in). Pods with the same constraint share one group. Each
 * group counts, per domain of its key, the pods its selector matches
 * (`count`), and for anti-affinity also the pods that hold the term
 * (`owners`), so a new pod matching the selector is kept out of the owners'
 * domains (anti-affinity that running pods hold against new ones).
 *
 * Domains: for kubernetes.io/hostname a domain is a bin (node or claim) id;
 * for any other key it is a value id interned per key.
 */
#ifndef HOIST_SCHED_TOPOLOGY_H
#define HOIST_SCHED_TOPOLOGY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/objects.h"
#include "model/requirements.h"
#include "util/arena.h"
#include "util/error.h"
#include "util/strbuf.h"
#include "util/strmap.h"

/* Most domain values one topology key may have when a claim's domain is
 * still open (zones, capacity types): they are tracked as a 64-bit set. */
#define HOIST_TOPO_MAX_VALUES 64

typedef struct hoist_topo_key {
    const char *key;          /* canonical label key */
    size_t index;             /* its position in the topology's keys */
    bool hostname;            /* kubernetes.io/hostname: domains are bins */
    hoist_strmap ids;         /* value -> id (not hostname) */
    size_t n_values;
    const char **values;      /* id -> value */
    size_t cap_values;
} hoist_topo_key;

typedef enum hoist_group_kind {
    HOIST_GROUP_SPREAD = 0,
    HOIST_GROUP_AFFINITY,
    HOIST_GROUP_ANTI_AFFINITY
} hoist_group_kind;

/* An int array indexed by domain id, grown on demand. */
typedef struct hoist_counts {
    size_t n;
    int32_t *v;
} hoist_counts;

typedef struct hoist_group {
    hoist_group_kind kind;
    hoist_topo_key *key;
    int32_t max_skew;         /* spread */
    int32_t min_domains;      /* spread; 0 = unset */
    bool all_namespaces;      /* namespaceSelector {} */
    hoist_strings namespaces; /* explicit namespaces */
    bool has_ns_selector;     /* a non-empty namespaceSelector also picks namespaces */
    hoist_reqs ns_selector;
    hoist_reqs selector;      /* pods counted; folded matchLabelKeys / mismatchLabelKeys */
    bool matches_nothing;     /* labelSelector was null */
    hoist_counts count;       /* pods matching the selector, per domain */
    hoist_counts owners;      /* anti-affinity: pods holding the term, per domain */
    int64_t total;            /* sum of count */
    int64_t owners_total;     /* sum of owners */
    const char *describe;     /* human-readable, for reasons */
} hoist_group;

typedef struct hoist_topology {
    hoist_arena *arena;       /* borrowed: owns keys, groups, strings */
    const hoist_objects *objects; /* borrowed: namespaces for namespaceSelector */
    size_t n_keys;
    hoist_topo_key **keys;
    size_t n_groups;
    hoist_group **groups;
    hoist_strmap group_ids;   /* signature -> group index */
    /* index: "key=value" -> list of groups whose selector requires that label */
    hoist_strmap by_label;
    size_t n_lists;
    struct hoist_group_list { size_t n, cap; int32_t *items; } *lists;
    struct hoist_group_list scan_always; /* groups with no single required label */
    hoist_strbuf keybuf;      /* scratch for group keys */
} hoist_topology;

/* Prepare; everything is allocated in `a` (and malloc for growing arrays). */
void hoist_topology_init(hoist_topology *t, hoist_arena *a, const hoist_objects *o);
/* Free the malloc'd parts (the arena is the caller's). */
void hoist_topology_free(hoist_topology *t);

/* The key entry for `key`, created if new; NULL when out of memory. */
hoist_topo_key *hoist_topology_key(hoist_topology *t, const char *key);
/* Id of `value` under key k, interned if new; -1 when out of memory or past
 * HOIST_TOPO_MAX_VALUES values (such values cannot be chosen for open domains). */
int hoist_topo_value_id(hoist_topo_key *k, const char *value);

/* The group for a spread constraint of pod p; NULL with a message on error. */
hoist_group *hoist_topology_spread_group(hoist_topology *t, const hoist_pod *p,
                                         const hoist_topology_spread *c, hoist_err *err);
/* The group for a pod (anti-)affinity term of pod p. */
hoist_group *hoist_topology_term_group(hoist_topology *t, const hoist_pod *p,
                                       const hoist_pod_affinity_term *term, bool anti,
                                       hoist_err *err);
/* Build the label index once every group exists. Returns 0 or -1. */
int hoist_topology_index(hoist_topology *t);
/* Append to *out (malloc'd, grown) the ids of the groups whose selector
 * matches pod p. Returns the count, or -1 when out of memory. */
long hoist_topology_matching(const hoist_topology *t, const hoist_pod *p, int32_t **out);

/* Count value at domain d (0 when out of range). */
static inline int32_t hoist_counts_get(const hoist_counts *c, long d)
{
    return d >= 0 && (size_t)d < c->n ? c->v[d] : 0;
}
/* Add delta at domain d, growing the array. Returns 0 or -1. */
int hoist_counts_add(hoist_counts *c, long d, int32_t delta);

#endif
