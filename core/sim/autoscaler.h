/*
 * sim/autoscaler.h - an autoscaler the simulator can drive: hoist's own
 * pipeline, or a baseline that behaves like a peer (Cluster Autoscaler,
 * Clusterman) so a run can put them side by side on the same trace.
 *
 * Every autoscaler gets the same world through a hoist_pipeline_env
 * (pipeline/pipeline.h): the virtual clock and log (host), the provider that
 * launches and terminates machines (the mock behind the simulator), a sink
 * for writes (evictions, taints, Node deletion) and the catalog. It sees the
 * world through observe() (object events: pods, nodes, NodePools...) and
 * acts in step(), which the simulator calls at every event and at the wake
 * time step() returned.
 *
 * Machines are launched through provider->launch with a request whose
 * labels include hoist.dev/nodepool (the NodePool or node group name); the
 * simulated world registers a Node for each machine carrying the request's
 * labels and taints plus the well-known ones, with spec.providerID set to
 * the provider's id, so an autoscaler matches its machines by providerID.
 */
#ifndef HOIST_SIM_AUTOSCALER_H
#define HOIST_SIM_AUTOSCALER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/objects.h"
#include "pipeline/pipeline.h"
#include "state/cluster.h"
#include "util/error.h"

/* What an autoscaler did so far (monotonic counters). */
typedef struct hoist_autoscaler_stats {
    uint64_t scale_ups;          /* decisions that launched machines */
    uint64_t scale_downs;        /* decisions that removed machines */
    uint64_t nodes_launched;     /* launches the provider confirmed */
    uint64_t launch_failures;    /* launches the provider refused or failed */
    uint64_t nodes_terminated;   /* terminations the provider confirmed */
    uint64_t evictions;          /* pod evictions asked through the sink */
    uint64_t evictions_refused;  /* of which refused (PodDisruptionBudget) */
} hoist_autoscaler_stats;

typedef struct hoist_autoscaler {
    const char *name;     /* "hoist", "cluster-autoscaler", "clusterman" */
    void *ctx;
    /* One object event (borrowed for the call). */
    void (*observe)(void *ctx, const hoist_object_event *ev);
    /* Act at host->now_ms; *wake_at_ms gets when to be called again without
     * an event (UINT64_MAX: only on events). 0, or -1 with err (logged by
     * the simulator, which goes on). */
    int (*step)(void *ctx, uint64_t *wake_at_ms, hoist_err *err);
    void (*destroy)(void *ctx);
    /* Optional (may be NULL): the counters, borrowed, valid until destroy. */
    const hoist_autoscaler_stats *(*stats)(void *ctx);
} hoist_autoscaler;

/* hoist itself: the pipeline (pipeline/pipeline.h) behind this interface.
 * policy is borrowed. 0, or -1 with err. */
int hoist_autoscaler_hoist(const hoist_pipeline_env *env, const hoist_pipeline_config *cfg,
                           hoist_policy *policy, hoist_autoscaler *out, hoist_err *err);

/* Cluster Autoscaler, with its documented defaults (cited in README.md):
 * node groups of fixed instance types, a 10 s scan interval, the least-waste
 * expander, scale-down of nodes below 50 % utilization after 10 minutes
 * unneeded, and no scale-down for 10 minutes after a scale-up. */
typedef struct hoist_ca_config {
    const char *cluster;                /* for tags; required */
    size_t n_instance_types;            /* node groups per NodePool: one per type; 0 = the
                                           defaults (see the implementation's header comment) */
    const char *const *instance_types;
    uint64_t scan_interval_ms;          /* 0 = 10 s */
    double scale_down_utilization;      /* 0 = 0.5 */
    uint64_t scale_down_unneeded_ms;    /* 0 = 10 min */
    uint64_t scale_down_delay_after_add_ms; /* 0 = 10 min */
    size_t max_nodes_total;             /* 0 = no cap */
} hoist_ca_config;

int hoist_autoscaler_cluster_autoscaler(const hoist_pipeline_env *env, const hoist_ca_config *cfg,
                                        hoist_autoscaler *out, hoist_err *err);

/* Clusterman, with its documented defaults: one pool of one instance type,
 * a setpoint of 0.7 (requested / capacity) with a 0.1 margin, a 60 s
 * interval. */
typedef struct hoist_clusterman_config {
    const char *cluster;                /* for tags; required */
    const char *instance_type;          /* the pool's type; NULL = the implementation's default */
    const char *nodepool;               /* the NodePool whose pods it serves; NULL = the first */
    double setpoint;                    /* 0 = 0.7 */
    double margin;                      /* 0 = 0.1 */
    uint64_t interval_ms;               /* 0 = 60 s */
    size_t min_nodes, max_nodes;        /* max 0 = no cap */
    double pending_weight;              /* pending pods' requests count this many times in
                                           the signal; 0 = 1 (Clusterman's PendingPodsSignal
                                           uses 5, see baseline_clusterman.c) */
} hoist_clusterman_config;

int hoist_autoscaler_clusterman(const hoist_pipeline_env *env, const hoist_clusterman_config *cfg,
                                hoist_autoscaler *out, hoist_err *err);

#endif
