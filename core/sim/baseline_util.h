/*
 * sim/baseline_util.h - what the two baseline autoscalers (Cluster
 * Autoscaler, Clusterman; sim/autoscaler.h) share: node templates (one
 * instance type of one NodePool in one zone), a small scheduling check
 * (resources, nodeSelector, required node affinity, taints, volume zones),
 * and the fleet of machines a baseline launched, followed from launch to
 * registration (a Node with the machine's providerID), Ready, draining and
 * termination.
 *
 * Nothing here decides anything; the baselines do. Not thread-safe.
 */
#ifndef HOIST_SIM_BASELINE_UTIL_H
#define HOIST_SIM_BASELINE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hoist/provider.h>

#include "model/catalog.h"
#include "model/objects.h"
#include "pipeline/pipeline.h"
#include "sim/autoscaler.h"
#include "util/arena.h"
#include "util/error.h"

/* How long a launched machine may stay unregistered before it is
 * terminated (Cluster Autoscaler's max-node-provision-time, 15 min). */
#define BL_PROVISION_TIMEOUT_MS (15u * 60u * 1000u)

/* A node as a NodePool would launch it: one instance type in one zone, of
 * one capacity type. Everything lives in the arena the template was built
 * in; nothing points into a cluster snapshot. */
typedef struct bl_template {
    const char *nodepool;           /* NodePool name */
    const char *name;               /* "<nodepool>/<type>/<zone>": the node group's name */
    const hoist_instance_type *type;/* borrowed from the catalog */
    const char *zone;
    hoist_capacity_type capacity_type;
    double price;                   /* USD/h of the offering */
    hoist_labels labels;            /* the labels a node of it carries (sorted) */
    hoist_taints taints;            /* the NodePool's taints */
    hoist_taints startup_taints;    /* the NodePool's startup taints (sent at launch only) */
    hoist_resources capacity;       /* under the NodePool's kubelet settings */
    hoist_resources allocatable;
    hoist_resources daemon_overhead;/* requests of the DaemonSets that would run on it */
    hoist_resources free;           /* allocatable - daemon_overhead */
} bl_template;

typedef struct bl_templates {
    size_t n, cap;
    bl_template *items;
} bl_templates;

/* Add to `out` the templates of NodePool np (borrowed) for the catalog types
 * np allows: only those named in types[0..n_types) when n_types > 0, each
 * in every allowed zone (per_zone) or only the zone of its cheapest
 * offering; on-demand when np allows it, else spot. Strings and arrays go
 * into arena a. 0, or -1 with err (out of memory, a bad NodePool). */
int bl_templates_add_nodepool(hoist_arena *a, const hoist_catalog *c, hoist_objects *o,
                              const hoist_nodepool *np, const char *const *types, size_t n_types,
                              bool per_zone, bl_templates *out, hoist_err *err);
/* Free the items array (the strings are in the caller's arena). */
void bl_templates_free(bl_templates *t);

/* A place pods can go in a simulation: free resources and the node's view. */
typedef struct bl_bin {
    hoist_resources free;
    const hoist_labels *labels;    /* borrowed */
    const hoist_taints *taints;    /* borrowed */
    const char *node;              /* node name for matchFields, or NULL (a new node) */
} bl_bin;

/* True when pod p may run on a node with `labels`, `taints` and name `node`
 * (NULL: a node not yet named): nodeSelector, required node affinity,
 * NoSchedule/NoExecute taints tolerated, and the node selectors its volumes
 * impose (vols[0..n_vols), from hoist_pod_volume_terms). Resources are not
 * checked. */
bool bl_pod_allowed(const hoist_pod *p, const hoist_labels *labels, const hoist_taints *taints,
                    const char *node, const hoist_node_selector *vols, size_t n_vols);
/* bl_pod_allowed plus the pod's requests within b->free. */
bool bl_pod_fits(const hoist_pod *p, const bl_bin *b, const hoist_node_selector *vols,
                 size_t n_vols);

/* A pending pod as Kubernetes sees it: not bound, not terminating, not
 * finished, not a DaemonSet pod, not a headroom placeholder. */
bool bl_pod_pending(const hoist_pod *p);
/* A pod that occupies its node: bound and not finished. */
bool bl_pod_running(const hoist_pod *p);

/* max(cpu, memory) of used / alloc, 0 when alloc has neither. */
double bl_utilization(const hoist_resources *used, const hoist_resources *alloc);

/* ---- the fleet of launched machines ---- */

typedef enum bl_machine_state {
    BL_LAUNCHING = 0,  /* asked the provider */
    BL_LAUNCHED,       /* the provider returned an instance, no Node yet */
    BL_REGISTERED,     /* its Node appeared, not Ready */
    BL_READY,          /* its Node is Ready */
    BL_DRAINING,       /* being emptied before termination */
    BL_TERMINATING     /* terminate was asked (or is due) */
} bl_machine_state;

/* One machine a baseline launched. Strings owned. */
typedef struct bl_machine {
    unsigned id;
    char *claim;                  /* the launch's claim name */
    char *group;                  /* the template's name */
    char *nodepool;
    char *instance_type;
    char *zone;
    char *instance_id, *provider_id; /* once launched */
    char *node;                   /* the Node's name once registered */
    bl_machine_state state;
    bool in_flight;               /* a launch or terminate is not answered yet */
    hoist_resources capacity, allocatable, free; /* the template's */
    uint64_t created_ms, ready_ms, drain_started_ms;
    uint64_t unneeded_since_ms;   /* Cluster Autoscaler: 0 = not unneeded */
} bl_machine;

typedef struct bl_fleet bl_fleet;

/* Completion hooks (optional): a launch failed (the machine is forgotten
 * right after), a machine went away. */
typedef struct bl_fleet_hooks {
    void *ctx;
    void (*launch_failed)(void *ctx, const bl_machine *m, const hoist_error *err);
} bl_fleet_hooks;

/* A fleet launching through env (copied; must outlive the fleet) with tags
 * for `cluster` (copied) and claim names "<prefix>-<n>". NULL on bad input
 * or out of memory, with err. */
bl_fleet *bl_fleet_new(const hoist_pipeline_env *env, const char *cluster, const char *prefix,
                       const bl_fleet_hooks *hooks, hoist_err *err);
/* Free every record and pending callback state (no provider call may be
 * answered afterwards: destroy or drain the provider first). */
void bl_fleet_free(bl_fleet *f);

/* Launch one machine of template t. 0 (the machine is LAUNCHING), or -1 with
 * err when the provider refused at once (nothing is recorded). */
int bl_fleet_launch(bl_fleet *f, const bl_template *t, hoist_err *err);
/* Ask the provider to terminate machine id (any state but in flight; a
 * machine still launching is terminated once its launch answers). Its Node
 * is deleted through the sink when the provider confirms. 0 or -1 with err. */
int bl_fleet_terminate(bl_fleet *f, unsigned id, hoist_err *err);
/* Track a Node event: registration, Ready, deletion of a machine's Node. */
void bl_fleet_observe_node(bl_fleet *f, hoist_object_op op, const json_t *node);
/* What an object event means to a baseline: a Node goes to the fleet (true
 * is not returned for it); true when it changes the node templates (a
 * NodePool, a DaemonSet, a NodeClass). */
bool bl_observe(bl_fleet *f, const hoist_object_event *ev);
/* Periodic work: terminate machines unregistered for BL_PROVISION_TIMEOUT_MS
 * and retry terminations whose call failed. */
void bl_fleet_tick(bl_fleet *f, uint64_t now_ms);

/* The machines (borrowed, valid until the next fleet call or provider callback). */
size_t bl_fleet_machines(const bl_fleet *f, bl_machine *const **out);
bl_machine *bl_fleet_find(const bl_fleet *f, unsigned id);
bl_machine *bl_fleet_find_node(const bl_fleet *f, const char *node);
/* Machines not yet Ready and not going away (capacity on its way). */
size_t bl_fleet_upcoming(const bl_fleet *f);
/* Every machine not terminating (launching, launched, registered, ready, draining). */
size_t bl_fleet_alive(const bl_fleet *f);
/* The stats the fleet keeps (launches, terminations, failures, evictions). */
hoist_autoscaler_stats *bl_fleet_stats(bl_fleet *f);

#endif
