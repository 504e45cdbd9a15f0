/*
 * model/catalog.h - an owned copy of a provider's instance types, and the
 * instance types one NodePool may launch.
 *
 * A provider hands its catalog to a callback as borrowed memory; the core
 * keeps a deep copy in an arena (hoist_catalog). A NodePool sees the subset
 * of types its requirements allow, each with the node labels, capacity and
 * allocatable that type would have under the NodePool's kubelet settings,
 * and the offerings (zone, capacity type) it may buy (hoist_pool_types).
 *
 * NodePool defaults: a NodePool without a capacity-type requirement buys
 * on-demand only, one without a kubernetes.io/arch requirement amd64 only,
 * and one without kubernetes.io/os linux only, as Karpenter's AWS provider
 * does for its NodePools.
 */
#ifndef HOIST_MODEL_CATALOG_H
#define HOIST_MODEL_CATALOG_H

#include <stddef.h>

#include <hoist/types.h>

#include "model/allocatable.h"
#include "model/kubelet.h"
#include "model/labels.h"
#include "model/objects.h"
#include "model/requirements.h"
#include "model/resources.h"
#include "util/arena.h"
#include "util/error.h"

typedef struct hoist_catalog {
    hoist_arena arena;            /* owns every type, offering and string */
    size_t n;
    hoist_instance_type *types;   /* sorted by name; offerings sorted by price, zone, type */
} hoist_catalog;

/* Prepare an empty catalog. */
void hoist_catalog_init(hoist_catalog *c);
/* Free everything. */
void hoist_catalog_free(hoist_catalog *c);
/* Replace the catalog's contents by a deep copy of n types (borrowed; arrays
 * walked with HOIST_NTH). Refuses, with a message naming the type, elements
 * whose struct_size is too small, missing names, duplicate names and
 * negative or non-finite prices. Returns 0 or -1. */
int hoist_catalog_copy(hoist_catalog *c, const hoist_instance_type *types, size_t n,
                       hoist_err *err);
/* The type called `name`, or NULL. Binary search. */
const hoist_instance_type *hoist_catalog_find(const hoist_catalog *c, const char *name);

/* Spelling of a capacity type in labels and JSON: "on-demand", "spot", "reserved". */
const char *hoist_capacity_type_name(hoist_capacity_type ct);

/* One instance type as a NodePool would launch it. */
typedef struct hoist_pool_type {
    const hoist_instance_type *type;  /* borrowed from the catalog */
    hoist_labels labels;              /* the type's node labels (hoist_instance_labels) */
    hoist_resources capacity;         /* node capacity under the NodePool's kubelet settings */
    hoist_node_overhead overhead;     /* what the kubelet keeps back */
    hoist_resources allocatable;      /* capacity - overhead */
    size_t n_offerings;
    const hoist_offering **offerings; /* allowed offerings, cheapest first (borrowed) */
} hoist_pool_type;

typedef struct hoist_pool_types {
    size_t n;
    hoist_pool_type *items;           /* sorted by type name */
} hoist_pool_types;

/* The kubelet settings that apply to NodePool np: those of the NodeClass it
 * references (when found in o), overlaid by the NodePool's own. */
void hoist_nodepool_kubelet(const hoist_objects *o, const hoist_nodepool *np,
                            hoist_kubelet_config *out);
/* np's requirements plus the NodePool defaults (see the file comment), in `a`. */
int hoist_nodepool_requirements(hoist_arena *a, const hoist_nodepool *np, hoist_reqs *out,
                                hoist_err *err);
/* The instance types of catalog c that NodePool np allows, with at least one
 * allowed offering (available or not), in `a`. Uses o for np's NodeClass.
 * Extended resource names are interned in o's name table. Returns 0 or -1. */
int hoist_nodepool_types(hoist_arena *a, const hoist_catalog *c, hoist_objects *o,
                         const hoist_nodepool *np, hoist_pool_types *out, hoist_err *err);

#endif
