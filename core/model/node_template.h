/*
 * model/node_template.h - the Node object a machine of a given instance type
 * becomes: labels (the caller's, then the type's hoist.dev/instance-* labels
 * and the well-known ones), taints, capacity and allocatable under its
 * NodePool's kubelet settings, and a Ready condition.
 *
 * Used for the pipeline's synthetic in-flight Nodes and for the Nodes the
 * simulator's kubelets register, so both carry exactly what a real hoist
 * node would.
 */
#ifndef HOIST_MODEL_NODE_TEMPLATE_H
#define HOIST_MODEL_NODE_TEMPLATE_H

#include <stdbool.h>

#include <jansson.h>

#include <hoist/types.h>

#include "model/objects.h"
#include "util/error.h"

typedef struct hoist_node_template {
    const char *name;               /* metadata.name (also kubernetes.io/hostname) */
    const char *nodepool;           /* hoist.dev/nodepool; its kubelet settings apply when the
                                       NodePool is in the snapshot */
    const hoist_instance_type *type;
    const char *zone;
    hoist_capacity_type capacity_type;
    const json_t *labels;           /* extra labels (object), borrowed; may be NULL */
    const json_t *taints;           /* spec.taints (array), borrowed; may be NULL */
    const char *provider_id;        /* spec.providerID, may be NULL */
    const json_t *annotations;      /* metadata.annotations (object), borrowed; may be NULL */
    bool ready;                     /* the Ready condition: "True" or "False" */
    int64_t created_s;              /* creationTimestamp, Unix seconds; 0 = leave out */
} hoist_node_template;

/* Build the Node (a new reference). o gives the NodePool (and its NodeClass)
 * and the resource name table; it is not changed except for interning
 * resource names. NULL with err when out of memory or the type's capacity
 * cannot be computed. */
json_t *hoist_node_template_json(hoist_objects *o, const hoist_node_template *t, hoist_err *err);

#endif
