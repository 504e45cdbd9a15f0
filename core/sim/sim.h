/*
 * sim/sim.h - the simulator: replays a workload trace through an autoscaler
 * (hoist's own pipeline, the very code the daemon runs, or a baseline) in a
 * simulated cluster on virtual time, and reports what it cost.
 *
 * Discrete events on one virtual clock (ms): trace events, provider timers
 * (the provider runs on the simulator's host, so the mock's launch latency is
 * virtual), machine registration and readiness, spot interruptions, the
 * scheduler, and the autoscaler's own wake-ups. Events at the same time run
 * in the order they were scheduled; nothing reads the system clock, so a run
 * is a function of its inputs and seed.
 *
 * The world:
 *   - objects from -f files are created at the start; the trace adds,
 *     updates and deletes objects (Pods mostly) at their times;
 *   - a scheduler binds pending pods to Ready nodes they fit, with the
 *     planner's predicates (sched/plan.h, existing_only): resources, node
 *     selectors and affinity, taints, topology spread, pod (anti-)affinity,
 *     volumes. It runs whenever pods are pending and something changed, at
 *     most every schedule_interval_ms;
 *   - machines: every launch the autoscaler makes through the provider is
 *     watched; when it succeeds, the machine's Node registers after a delay
 *     drawn uniformly from [register_min_ms, register_max_ms] (with the
 *     request's labels and taints, the instance type's capacity and
 *     allocatable, and its providerID) and turns Ready after
 *     [ready_min_ms, ready_max_ms] more, when the NodePool's startup taints
 *     are removed (the agents that own them are done);
 *   - spot machines are interrupted at spot_interruptions_per_hour (a
 *     Poisson process per machine): a notice, delivered to the autoscaler
 *     as the provider's SPOT_INTERRUPTION event, then after
 *     interruption_notice_ms (2 minutes) the machine is gone, with whatever
 *     pods are still on it (counted in pods_lost);
 *   - a machine that is terminated or lost takes its Node with it; its pods
 *     are evicted (pending again, counted);
 *   - the sink: evictions make the pod pending again (its controller
 *     recreates it at once, under the same name), taints change the Node,
 *     Node deletions remove it. An eviction that would violate a
 *     PodDisruptionBudget is refused (1, counted in evictions_refused;
 *     model/pdb_eval.h has the rules, sim/pdb.h keeps the counts), unless
 *     the pod's machine got a spot interruption notice: that disruption is
 *     involuntary, and so is losing a machine, which never asks;
 *   - with check_invariants, sim/invariants.h is checked after every event.
 * Capacity shortages are the provider's (the mock's `faults`).
 */
#ifndef HOIST_SIM_SIM_H
#define HOIST_SIM_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include <hoist/provider.h>

#include "policy/policy.h"
#include "sim/autoscaler.h"
#include "sim/invariants.h"
#include "sim/report.h"
#include "util/error.h"

/* 2026-01-05T00:00:00Z, a Monday: the default virtual epoch. */
#define HOIST_SIM_EPOCH_MS 1767571200000ull

typedef enum hoist_sim_autoscaler_kind {
    HOIST_SIM_HOIST = 0,
    HOIST_SIM_CLUSTER_AUTOSCALER,
    HOIST_SIM_CLUSTERMAN
} hoist_sim_autoscaler_kind;

typedef struct hoist_sim_config {
    uint64_t seed;                        /* the world's random draws (and the mock's) */
    uint64_t start_ms;                    /* virtual epoch; 0 = HOIST_SIM_EPOCH_MS */
    uint64_t end_after_ms;                /* run this long after the epoch; 0 = until the
                                             last trace event + tail_ms */
    uint64_t tail_ms;                     /* 0 = 30 minutes */
    uint64_t register_min_ms, register_max_ms; /* launched -> Node registered (default 20-40 s) */
    uint64_t ready_min_ms, ready_max_ms;  /* registered -> Ready (default 5-15 s) */
    double spot_interruptions_per_hour;   /* per spot machine; 0 = none */
    uint64_t interruption_notice_ms;      /* 0 = 120 s */
    uint64_t schedule_interval_ms;        /* 0 = 1 s */
    uint64_t report_step_ms;              /* 0 = HOIST_REPORT_STEP_MS_DEFAULT */
    bool verbose;                         /* log the world and the autoscaler to stderr */
    bool check_invariants;                /* check sim/invariants.h after every event
                                             (PDBs, disruption budgets, churn) */
    bool evictions_ignore_pdbs;           /* TEST ONLY: evictions skip PodDisruptionBudgets,
                                             so a test can show the invariant checker
                                             catches what the refusal prevents */
} hoist_sim_config;

/* What to run. */
typedef struct hoist_sim_inputs {
    const char *trace_path;               /* the trace (sim/trace.h) */
    const json_t *objects;                /* array of objects created at the start (-f files),
                                             borrowed */
    const hoist_provider *provider;       /* the provider (the mock); borrowed */
    const char *provider_config;          /* its init configuration (JSON text) */
    hoist_sim_autoscaler_kind kind;
    hoist_policy *policy;                 /* hoist only; may be NULL; borrowed */
    const hoist_pipeline_config *pipeline;/* hoist only; NULL = defaults (cluster "sim") */
    const hoist_ca_config *ca;            /* cluster-autoscaler only; NULL = defaults */
    const hoist_clusterman_config *clusterman; /* clusterman only; NULL = defaults */
} hoist_sim_inputs;

/* Bookkeeping of a run, for conservation checks and the benchmark. */
typedef struct hoist_sim_stats {
    uint64_t events;                      /* discrete events processed */
    uint64_t trace_events;
    uint64_t autoscaler_steps;
    uint64_t scheduler_runs, binds;
    uint64_t scheduler_skipped;           /* of the runs, those that planned nothing: no
                                             pod waited, or no Ready node had room for
                                             the smallest pending request */
    uint64_t pods_added, pods_deleted, pods_evicted;
    uint64_t pods_lost;                   /* pods still on a spot machine when it was reclaimed */
    uint64_t pods_bound_at_end, pods_pending_at_end;
    uint64_t machines_launched, machines_terminated, machines_interrupted, machines_alive_at_end;
    uint64_t interruption_notices;        /* notices given (the machine may be gone before) */
    uint64_t launch_failures;
    double machine_cost;                  /* sum over machines of price x lifetime, USD,
                                             computed here independently of the report */
    uint64_t end_ms;                      /* virtual time the run ended */
    uint64_t autoscaler_errors;           /* step() failures (logged) */
    uint64_t evictions_refused;           /* evictions a PodDisruptionBudget refused (the
                                             autoscaler retries them) */
    /* invariants (check_invariants; sim/invariants.h), all 0 when not checked */
    uint64_t invariant_checks;            /* PDBs and disruption starts judged */
    uint64_t pdb_violations;              /* a voluntary eviction left a PDB short */
    uint64_t budget_violations;           /* more nodes disrupted than budgets allow */
    uint64_t churn;                       /* machines removed voluntarily within
                                             consolidateAfter of their launch */
    uint64_t peak_disrupting;             /* most nodes of one NodePool being disrupted at
                                             once (voluntary or expired) */
    size_t n_violations;                  /* the first few, listed */
    hoist_invariant_violation violations[HOIST_INVARIANTS_LISTED];
} hoist_sim_stats;

/* Run one simulation. On success returns 0 with *report (caller frees with
 * hoist_report_free) and *stats filled; -1 with err when the inputs are bad
 * (a malformed or out-of-order trace line, a provider that fails to start,
 * ...): the message names the file and line. */
int hoist_sim_run(const hoist_sim_config *cfg, const hoist_sim_inputs *in, hoist_report **report,
                  hoist_sim_stats *stats, hoist_err *err);

/* "hoist", "cluster-autoscaler", "clusterman"; parse returns 0 or -1. */
const char *hoist_sim_autoscaler_name(hoist_sim_autoscaler_kind k);
int hoist_sim_autoscaler_parse(const char *name, hoist_sim_autoscaler_kind *out);

#endif
