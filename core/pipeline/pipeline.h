/*
 * pipeline/pipeline.h - the stages wired together: cluster events in,
 * machines and writes out.
 *
 *   event source --(object events)--> cluster state (state/cluster.h)
 *        pending pods --> batch --> pack (+ price) --> launch --> track
 *        every consolidate_interval --> consolidate --> sink / provider
 *
 * The pipeline does not know whether the daemon or the simulator drives it.
 * Everything it touches of the world is passed in (hoist_pipeline_env):
 *   - a clock: host->now_ms (wall clock in the daemon, virtual in the
 *     simulator) - nothing here reads the system clock;
 *   - an event source (hoist_event_source) that delivers object events, or
 *     the driver calls hoist_pipeline_observe() itself;
 *   - a write sink (hoist_sink): taints, evictions, Node deletions,
 *     nominations and "cannot help" notices; the daemon turns them into API
 *     calls, the simulator into changes of its world;
 *   - a provider (<hoist/provider.h>) that launches and terminates machines.
 * The driver calls hoist_pipeline_step() whenever an event arrived, a
 * provider call completed, or the wake time the last step returned passed.
 *
 * Machines. Each claim the pack stage decides becomes a machine record
 * named "<nodepool>-<n>" (n counts up from 1 per pipeline; the provider's
 * idempotency token). At once, before the provider answers, the cluster
 * state gets a synthetic Node of that name (not Ready, the claim's labels,
 * the allocatable of its first offering) and the claim's pods are nominated
 * to it, so the next decision counts them there and never buys twice. Then:
 *   launched    the provider returned an instance: the synthetic Node takes
 *               the real type, zone and capacity type;
 *   registered  a Node with the machine's providerID appeared: the synthetic
 *               Node goes, nominations move to the real Node, and the
 *               registration taint (hoist.dev/unregistered) is removed
 *               through the sink;
 *   ready       that Node is Ready; nominations still unbound
 *               nomination_ttl_ms later are dropped (the pods are pending
 *               again and will be decided afresh).
 * A launch that fails drops the synthetic Node and the nominations and
 * re-queues the pods into the batch (insufficient capacity also marks the
 * offerings unavailable, so the next decision picks others). A machine not
 * registered registration_timeout_ms after launch is terminated.
 *
 * Disruption (consolidate stage): an EMPTY node is terminated at once; an
 * EXPIRED or RECYCLE node is tainted hoist.dev/disrupted:NoSchedule, its pods
 * are evicted through the sink (a refused eviction is retried every step),
 * and the machine is terminated once no workload pod is left. The Node object
 * is deleted through the sink after the provider confirms termination. The
 * pods' replacements are decided like any pending pods.
 *
 * Interruptions: when the provider has HOIST_CAP_EVENTS, the pipeline
 * subscribes to its events; a spot interruption (or scheduled maintenance)
 * notice cordons the machine's node with the disrupted taint and evicts its
 * pods at once (budgets do not apply: it is involuntary), so their
 * replacements are decided within the batch window, well inside the
 * 2-minute notice; the machine is terminated once drained. The provider
 * must stop delivering events before the pipeline is freed (destroy it
 * first).
 *
 * Policies: one optional Lua policy; its hooks plug into the stages
 * (close_batch, score_type, order_offerings, decorate_launch, recycle,
 * headroom). hoist_pipeline_set_policy() swaps it (reload) between steps.
 *
 * Not thread-safe: one loop thread drives it. Free it only when no provider
 * call is in flight (destroy the provider first, or drain it).
 */
#ifndef HOIST_PIPELINE_PIPELINE_H
#define HOIST_PIPELINE_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hoist/host.h>
#include <hoist/provider.h>
#include <jansson.h>

#include "host/metrics.h"
#include "model/catalog.h"
#include "pipeline/batch.h"
#include "pipeline/consolidate.h"
#include "pipeline/launch.h"
#include "pipeline/pack.h"
#include "pipeline/price.h"
#include "pipeline/unavailable.h"
#include "policy/batch_hook.h"
#include "policy/launch_hook.h"
#include "policy/plan_hooks.h"
#include "policy/policy.h"
#include "state/cluster.h"
#include "util/error.h"
#include "util/strmap.h"

/* The taint put on a node being disrupted (as karpenter.sh/disrupted). */
#define HOIST_TAINT_DISRUPTED "hoist.dev/disrupted"
/* Annotation on the synthetic Nodes of machines not yet registered. */
#define HOIST_ANNOTATION_SYNTHETIC "hoist.dev/synthetic"

#define HOIST_CONSOLIDATE_INTERVAL_MS_DEFAULT 10000u
/* Underutilized nodes are looked for at most this often, and only when
 * objects changed since the last look found nothing (each look costs a few
 * scheduler passes). */
#define HOIST_UNDERUTILIZED_INTERVAL_MS_DEFAULT 60000u
#define HOIST_REGISTRATION_TIMEOUT_MS_DEFAULT (15u * 60u * 1000u)
/* A launch the provider has not answered after this long is given up: its
 * pods are decided again, and the machine, if it comes after all, is
 * terminated. */
#define HOIST_LAUNCH_TIMEOUT_MS_DEFAULT (5u * 60u * 1000u)
#define HOIST_NOMINATION_TTL_MS_DEFAULT 60000u

/* Where the pipeline's writes go. Every function is optional (NULL: the
 * write is skipped). Strings are borrowed for the call. */
typedef struct hoist_sink {
    void *ctx;
    /* Pod ns/name is nominated for node (a machine's node or an existing one). */
    void (*nominated)(void *ctx, const char *ns, const char *name, const char *node);
    /* hoist cannot place pod ns/name: why (once per decision that finds it so). */
    void (*unschedulable)(void *ctx, const char *ns, const char *name, const char *reason);
    /* Add (add true) or remove taint key[=value]:effect on Node `node`. 0 or -1. */
    int (*taint)(void *ctx, const char *node, const char *key, const char *value,
                 hoist_taint_effect effect, bool add);
    /* Evict pod ns/name (policy/v1 Eviction): 0 accepted, 1 refused for now
     * (a PodDisruptionBudget; retried later), -1 failed. */
    int (*evict)(void *ctx, const char *ns, const char *name);
    /* Delete Node `node` (its machine is terminated). 0 or -1. */
    int (*delete_node)(void *ctx, const char *node);
} hoist_sink;

/* Delivers one object event to the pipeline (or anything else). */
typedef void (*hoist_object_event_fn)(void *arg, const hoist_object_event *ev);

/* A source of object events: the API server's watches in the daemon, the
 * trace and the simulated world in the simulator. */
typedef struct hoist_event_source {
    void *ctx;
    /* Start delivering events through deliver(arg, ev), from the loop
     * thread, until stop. 0, or -1 with err. */
    int (*start)(void *ctx, hoist_object_event_fn deliver, void *arg, hoist_err *err);
    void (*stop)(void *ctx);
} hoist_event_source;

typedef struct hoist_pipeline_config {
    const char *cluster;                /* cluster name for tags; copied; required */
    hoist_batch_config batch;           /* the window (its hook is set from the policy) */
    hoist_price_strategy price;         /* C default offering order */
    size_t max_offerings;               /* per launch; 0 = HOIST_PLAN_MAX_OFFERINGS */
    uint64_t ice_ttl_ms;                /* 0 = HOIST_UNAVAILABLE_TTL_MS */
    uint64_t consolidate_interval_ms;   /* 0 = default 10 s */
    uint64_t underutilized_interval_ms; /* 0 = default 60 s */
    uint64_t registration_timeout_ms;   /* 0 = default 15 min */
    uint64_t launch_timeout_ms;         /* 0 = default 5 min */
    uint64_t nomination_ttl_ms;         /* 0 = default 60 s */
    bool no_consolidation;              /* true: the consolidate stage never runs */
    const char *run_id;                 /* copied; when set, claims are named
                                           "<nodepool>-<run_id>-<n>", so a restarted
                                           daemon never reuses a name (the provider's
                                           idempotency token) of an earlier run */
} hoist_pipeline_config;

/* Where a machine is in its life. */
typedef enum hoist_nodeclaim_state {
    HOIST_CLAIM_LAUNCHING = 0,  /* asked the provider, no answer yet */
    HOIST_CLAIM_LAUNCHED,       /* the provider returned an instance */
    HOIST_CLAIM_REGISTERED,     /* its Node appeared */
    HOIST_CLAIM_READY,          /* its Node is Ready */
    HOIST_CLAIM_DRAINING,       /* being disrupted: pods being evicted */
    HOIST_CLAIM_TERMINATING     /* the provider was asked to terminate it */
} hoist_nodeclaim_state;

/* One machine hoist launched (or adopted): a node claim, as Karpenter calls
 * it (hoist_machine is the provider's view of an instance). Strings owned. */
typedef struct hoist_nodeclaim {
    char *name;                   /* claim name = its synthetic Node's name */
    char *nodepool;
    char *node;                   /* the real Node's name once registered, else NULL */
    hoist_launched *launched;     /* the provider's answer, NULL while launching and
                                     for adopted nodes */
    char *instance_type;          /* the planned offering, then the launched one */
    char *zone;
    hoist_capacity_type capacity_type;
    double price;                 /* USD/h of that offering */
    char *instance_id;            /* the provider's id once known, else NULL */
    char *provider_id;            /* the Node's spec.providerID once known, else NULL */
    hoist_nodeclaim_state state;
    uint64_t created_ms, launched_ms, registered_ms, ready_ms;
    size_t n_pods;
    char **pods;                  /* "ns/name" of the pods nominated at launch */
    bool disrupting;              /* chosen by the consolidate stage */
    hoist_disruption_reason disrupt_reason;
    char *disrupt_detail;
    unsigned id;                  /* unique, for callbacks */
    bool call_in_flight;          /* a launch or terminate has not been answered */
    bool nominations_dropped;     /* nomination_ttl passed after Ready */
    uint64_t last_evict_ms;       /* DRAINING: when evictions were last sent */
    uint64_t drain_started_ms;    /* DRAINING: since when (terminationGracePeriod) */
    json_t *base_labels;          /* the claim's labels (synthetic Node); owned */
    json_t *taints;               /* the NodePool's taints (synthetic Node); owned */
    bool synthetic;               /* its synthetic Node is in the cluster state */
    size_t n_replacements;        /* REPLACING: claims launched to take its pods; it is */
    unsigned *replacements;       /* drained once they are all Ready (ids) */
    bool replacing;               /* waiting for its replacements */
    bool reserved;                /* launched as a replacement whose old node is not yet
                                     drained: its room is taken, no other plan counts on it */
} hoist_nodeclaim;

/* Counters (monotonic). */
typedef struct hoist_pipeline_stats {
    uint64_t events, events_rejected;
    uint64_t decisions;                  /* pack stage runs */
    uint64_t decision_ms_total, decision_ms_max; /* by the host clock */
    uint64_t pods_nominated, pods_unschedulable;
    uint64_t launches, launch_failures, launch_ice;
    uint64_t registered, registration_timeouts, launch_timeouts;
    uint64_t terminations, termination_failures;
    uint64_t disruptions[HOIST_DISRUPT_N_REASONS]; /* by hoist_disruption_reason */
    uint64_t evictions, evictions_refused;
    uint64_t replacements;               /* machines launched ahead of a drain */
    uint64_t requeued_pods;
    uint64_t interruptions;              /* interruption notices from the provider */
    uint64_t policy_errors;              /* hook calls that failed (all hooks) */
    uint64_t headroom_placeholders;      /* placeholders planned, summed */
    uint64_t adopted;                    /* machines of an earlier run taken over */
    uint64_t orphans;                    /* machines of an earlier run that never
                                            registered, terminated at adoption */
} hoist_pipeline_stats;

typedef struct hoist_pipeline_env {
    const hoist_host *host;             /* clock and log; never NULL */
    const hoist_provider *provider;     /* never NULL */
    void *provider_state;
    const hoist_sink *sink;             /* may be NULL (no writes) */
    const hoist_event_source *source;   /* may be NULL (the driver calls observe) */
    const hoist_catalog *catalog;       /* the provider's catalog; borrowed, never NULL */
    hoist_metrics *metrics;             /* may be NULL */
} hoist_pipeline_env;

typedef struct hoist_pipeline hoist_pipeline;

/* Create a pipeline; env and cfg are copied (cfg->cluster too); policy may be
 * NULL (borrowed; see hoist_pipeline_set_policy). NULL with err on bad input
 * or out of memory. */
hoist_pipeline *hoist_pipeline_new(const hoist_pipeline_env *env, const hoist_pipeline_config *cfg,
                                   hoist_policy *policy, hoist_err *err);
/* Stop the source and free everything (no provider call may be in flight). */
void hoist_pipeline_free(hoist_pipeline *p);

/* Start env->source (when given) delivering into hoist_pipeline_observe. */
int hoist_pipeline_start(hoist_pipeline *p, hoist_err *err);

/* Swap the policy (borrowed; NULL = C defaults only) for the next decisions. */
void hoist_pipeline_set_policy(hoist_pipeline *p, hoist_policy *policy);

/* One object event (the hoist_object_event_fn of a source; arg is p). A
 * refused object is logged and counted, never fatal. */
void hoist_pipeline_observe(void *p, const hoist_object_event *ev);

/* Run every stage that is due at host->now_ms: timeouts, the batch window
 * (and, when it closes, pack, price and launch), evictions of draining
 * machines, and consolidation. *wake_at_ms (may be NULL) gets when the
 * pipeline next needs a step without any event (UINT64_MAX: only on an
 * event). Returns 0, or -1 with err when a decision could not be made (out
 * of memory); the pipeline stays usable. */
int hoist_pipeline_step(hoist_pipeline *p, uint64_t *wake_at_ms, hoist_err *err);

/* The cluster state (borrowed) and the machines (borrowed, valid until the
 * next call into the pipeline). */
hoist_cluster *hoist_pipeline_cluster(hoist_pipeline *p);
size_t hoist_pipeline_claims(const hoist_pipeline *p, const hoist_nodeclaim *const **out);
const hoist_nodeclaim *hoist_pipeline_find_claim(const hoist_pipeline *p, const char *name);
const hoist_pipeline_stats *hoist_pipeline_stats_get(hoist_pipeline *p);
/* Launches and terminations the provider has not answered yet. */
size_t hoist_pipeline_in_flight(const hoist_pipeline *p);

/* ---- restart adoption ---------------------------------------------------
 *
 * A restarted daemon (or a new leader) takes over the machines an earlier
 * run launched. After the event source's first full sync, it lists the
 * provider's machines tagged hoist.dev/cluster = cfg.cluster and, for each
 * one not yet a claim:
 *   - a Node with its providerID exists: a claim in state registered or
 *     ready (by the Node's Ready condition) named by its hoist.dev/claim tag;
 *     a leftover hoist.dev/unregistered taint is removed through the sink;
 *   - no Node, launched less than registration_timeout_ms ago: a claim in
 *     state launched (its registration timeout keeps counting from the
 *     machine's launch time) with a synthetic Node of its type, so pending
 *     pods are nominated to it by the next decision instead of buying a
 *     second machine for them;
 *   - no Node and older: an orphan that never joined, terminated.
 * Machines shutting down are left alone. Claim numbers of adopted
 * "<nodepool>-<n>" names are skipped by later launches. */

/* What an adoption did. */
typedef struct hoist_pipeline_adoption {
    size_t listed;                /* machines the provider listed */
    size_t registered;            /* adopted with their Node */
    size_t in_flight;             /* adopted, waiting for their Node */
    size_t orphans;               /* terminated: never registered in time */
    size_t skipped;               /* already claims, shutting down, or unusable */
} hoist_pipeline_adoption;

/* Completion of hoist_pipeline_reconcile: err is NULL on success (then `a`
 * says what was done); borrowed for the call. */
typedef void (*hoist_pipeline_reconcile_cb)(void *arg, const hoist_error *err,
                                            const hoist_pipeline_adoption *a);

/* Adopt `machines` (borrowed; the provider's list) as described above, at
 * host->now_ms. *out (may be NULL) says what was done. Call between steps.
 * 0, or -1 with err when memory ran out (what was adopted stays). */
int hoist_pipeline_adopt(hoist_pipeline *p, const hoist_machine *machines, size_t n,
                         hoist_pipeline_adoption *out, hoist_err *err);
/* List the provider's machines of this cluster and adopt them; done(arg, ...)
 * runs once from the provider's completion. The list counts as a provider
 * call in flight (hoist_pipeline_in_flight). 0, or -1 with err when the
 * provider refused the call (done is then not called). */
int hoist_pipeline_reconcile(hoist_pipeline *p, hoist_pipeline_reconcile_cb done, void *arg,
                             hoist_err *err);
/* True while a hoist_pipeline_reconcile list is in flight. */
bool hoist_pipeline_reconciling(const hoist_pipeline *p);
/* The claim whose machine is (or will register as) Node `node`: by the real
 * Node's name once registered, else by the claim's (synthetic Node's) name.
 * NULL when the node is not a machine of this pipeline. */
const hoist_nodeclaim *hoist_pipeline_claim_of_node(const hoist_pipeline *p, const char *node);

/* "launching", "launched", "registered", "ready", "draining", "terminating". */
const char *hoist_nodeclaim_state_name(hoist_nodeclaim_state s);

#endif
