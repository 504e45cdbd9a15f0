/*
 * apiserver/world.h - what makes `hoist sim serve` a living cluster: the
 * simulated kubelets and kube-scheduler, writing into the API server's store
 * (store.h) in process, so HTTP watchers see their changes.
 *
 * Kubelets. For each machine the cloud (cloud.h) reports running, after the
 * registration delay the world creates its Node (model/node_template.h:
 * labels of the launch plus the instance type's, capacity and allocatable
 * from the catalog under its NodePool's kubelet settings, spec.providerID,
 * the taints the launch asked for - the startup taint hoist.dev/unregistered
 * among them when the launch sent it - and Ready=False), then after the
 * ready delay turns it Ready (and drops its NodePool's startupTaints, as a
 * node's own agents would). When the machine is terminated its Node turns
 * NotReady at once and the pods bound to it are deleted; the daemon deletes
 * the Node object itself, and if it has not within the grace period the
 * world does. A Node deleted while pods are still bound to it has them
 * deleted too (the pod garbage collector).
 *
 * Graceful deletion (store.h): a pod that starts terminating on a Node is
 * deleted by its kubelet with grace 0 once its containers stopped, after
 * the shutdown delay or its grace period, whichever is shorter; on a Node
 * that does not exist, at once. The scheduler does not count a
 * terminating pod's requests on its node (it is about to go).
 *
 * Scheduler. Pending pods (no spec.nodeName; spec.schedulerName absent or
 * "default-scheduler"; not finished) are bound to Ready nodes they fit,
 * decided by the planner in existing_only mode (sched/plan.h), at most once
 * per schedule interval and only after something changed. A bind goes
 * through hoist_apistore_bind (spec.nodeName, PodScheduled), then the pod's
 * status turns Running with Ready and ContainersReady conditions, so
 * watchers see two MODIFIED events as from a real cluster.
 *
 * The world reads the cluster through a state/cluster.h mirror fed by a
 * store watch on every type: the planner needs a decoded hoist_objects
 * snapshot, and keeping one up to date event by event costs only the
 * changes, where rebuilding from the store's JSON on every pass would decode
 * every object each time.
 *
 * Time. Delays are real time at speed 1 and divide by the speed factor.
 * Times are read from the store's clock (hoist_apistore_now), so a test
 * with a fake clock drives the world with hoist_world_run_due() and no
 * loop; with a loop the world arms one uv timer for its next due action.
 */
#ifndef HOIST_APISERVER_WORLD_H
#define HOIST_APISERVER_WORLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "apiserver/cloud.h"
#include "apiserver/store.h"
#include "host/log.h"
#include "model/catalog.h"
#include "util/error.h"

/* Defaults, milliseconds of real time at speed 1. */
#define HOIST_WORLD_REGISTER_DELAY_MS 3000u
#define HOIST_WORLD_READY_DELAY_MS 2000u
#define HOIST_WORLD_NODE_GRACE_MS 30000u
#define HOIST_WORLD_SCHEDULE_INTERVAL_MS 200u
#define HOIST_WORLD_POD_SHUTDOWN_MS 1000u

typedef struct hoist_world hoist_world;

typedef struct hoist_world_config {
    double speed;                  /* > 0; 0 = 1 */
    uint64_t register_delay_ms;    /* machine running -> Node created; 0 = the default */
    uint64_t ready_delay_ms;       /* Node created -> Ready; 0 = the default */
    uint64_t node_grace_ms;        /* terminated -> the world deletes a Node the daemon left; 0 = default */
    uint64_t schedule_interval_ms; /* least time between scheduler passes; 0 = the default */
    uint64_t pod_shutdown_ms;      /* a terminating pod's containers stop (at most its
                                      grace period); 0 = the default */
    bool immediate;                /* take the delays as 0 (tests); speed then ignored */
    bool no_scheduler;             /* kubelets only: pending pods stay pending */
    const hoist_logger *log;       /* borrowed, may be NULL */
} hoist_world_config;

/* The delays the world applies, after the speed factor (milliseconds). */
typedef struct hoist_world_delays {
    uint64_t register_ms, ready_ms, node_grace_ms, schedule_interval_ms, pod_shutdown_ms;
    double speed;                  /* the factor they were divided by */
} hoist_world_delays;

/* Counters (monotonic). */
typedef struct hoist_world_stats {
    uint64_t nodes_registered, nodes_ready, nodes_not_ready, nodes_deleted;
    uint64_t pods_bound, pods_deleted, scheduler_passes, errors;
} hoist_world_stats;

/* A world writing into `store`, sizing Nodes from `catalog` (both borrowed;
 * must outlive the world). `loop` may be NULL: nothing runs by itself then,
 * call hoist_world_run_due(). cfg may be NULL (defaults). NULL with a
 * message on a bad configuration or out of memory. */
hoist_world *hoist_world_new(uv_loop_t *loop, hoist_apistore *store, const hoist_catalog *catalog,
                             const hoist_world_config *cfg, hoist_err *err);
/* Stop the timer and the store watch; free once the loop closed the timer
 * (run the loop before uv_loop_close). NULL is fine. */
void hoist_world_free(hoist_world *w);

/* The delays computed from the configuration and speed. */
hoist_world_delays hoist_world_delays_of(const hoist_world *w);
/* Compute delays for cfg without a world (0 fields = defaults). -1 with a
 * message when the speed is not a finite number > 0. */
int hoist_world_compute_delays(const hoist_world_config *cfg, hoist_world_delays *out,
                               hoist_err *err);

/* A listener for hoist_cloud_set_listener() that feeds this world. */
hoist_cloud_listener hoist_world_cloud_listener(hoist_world *w);
/* Machine m (borrowed; copied) is running: its Node registers after the
 * registration delay. A machine already known is ignored. */
void hoist_world_machine_running(hoist_world *w, const hoist_cloud_machine *m);
/* The machine is gone: its Node turns NotReady now, its pods are deleted,
 * and the Node is deleted after the grace period unless someone did. */
void hoist_world_machine_terminated(hoist_world *w, const char *instance_id);

/* Run every action due at the store's clock now, and a scheduler pass when
 * one is due. Returns the number of actions run. */
size_t hoist_world_run_due(hoist_world *w);
/* Store-clock time (Unix seconds) of the next due action, or -1 when none. */
double hoist_world_next_due(const hoist_world *w);
/* A scheduler pass now, whatever the interval. Returns the pods bound. */
size_t hoist_world_schedule(hoist_world *w);
/* Name of the Node of machine `instance_id`, or NULL when the world does not
 * know it (borrowed). */
const char *hoist_world_node_of(const hoist_world *w, const char *instance_id);
/* Counters. */
hoist_world_stats hoist_world_stats_of(const hoist_world *w);

#endif
