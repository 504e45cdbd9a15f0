/*
 * daemon/daemon.h - `hoist run`: the pipeline (pipeline/pipeline.h) wired to
 * a Kubernetes API server on one libuv loop.
 *
 *   reflectors (kube/reflector.h), one per resource: pods, nodes, PVs, PVCs,
 *     StorageClasses, PDBs, DaemonSets, hoist.dev/v1 NodePools and
 *     karpenter.sh/v1 NodePools (both optional CRDs), trimmed objects
 *     -> the pipeline's event source; NodePools from files are delivered
 *     first, as ADD events
 *   the pipeline's sink -> kube/sink.h (writer: taints, evictions, Node
 *     deletion; recorder: Events on pods)
 *   leader election (kube/lease.h): the pipeline exists only while we lead
 *     (or when election is off); losing the Lease stops it (reflectors
 *     closed, no more steps) and frees it once its provider calls are
 *     answered; winning again builds a fresh one, which adopts what the
 *     earlier one launched (hoist_pipeline_reconcile)
 *   start-up of a pipeline: reflectors synced (every one listed, absent
 *     CRDs count) -> the provider's machines listed and adopted -> steps
 *   steps: a uv timer at the wake time the last step returned, and at once
 *     (next loop iteration) after a batch of events or a provider answer
 *   /metrics, /healthz, /readyz on an HTTP listener (host/status.h); ready =
 *     (leading, or election off) and every reflector synced and adoption done
 *   policy reload on SIGHUP (policy/reloader.h), when a policy file is given
 *   shutdown (hoist_daemon_shutdown, e.g. on SIGTERM): reflectors stopped,
 *     no more steps, the Lease released, then waiting (bounded) for provider
 *     calls, writes and Events in flight; the listener closes last.
 *
 * The provider instance, catalog, kubeconfig, logger and metrics are the
 * caller's (borrowed); the daemon wraps the provider's launch, terminate and
 * list completions only to schedule a step after each.
 *
 * Not thread-safe: everything runs on the loop's thread.
 */
#ifndef HOIST_DAEMON_DAEMON_H
#define HOIST_DAEMON_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hoist/provider.h>
#include <jansson.h>
#include <uv.h>

#include "host/log.h"
#include "host/metrics.h"
#include "kube/kubeconfig.h"
#include "kube/request.h"
#include "model/catalog.h"
#include "pipeline/pipeline.h"
#include "policy/policy.h"
#include "util/error.h"

/* How long shutdown waits for calls in flight, by default. */
#define HOIST_DAEMON_DRAIN_MS_DEFAULT 30000u
/* Most NodePools given from files. */
#define HOIST_DAEMON_MAX_FILE_NODEPOOLS 256

typedef struct hoist_daemon_config {
    hoist_kube_config *kube;            /* the API server; borrowed, never NULL */
    const hoist_provider *provider;     /* started instance; borrowed, never NULL */
    void *provider_state;
    const hoist_catalog *catalog;       /* the provider's catalog; borrowed, never NULL */
    hoist_policy **policy;              /* slot of the policy in force (borrowed; may be
                                           NULL or hold NULL); reloads replace *policy */
    const char *policy_path;            /* reloaded on SIGHUP; NULL = no reloader */
    json_t *const *nodepools;           /* NodePool objects from files (borrowed for new;
                                           the daemon keeps references) */
    size_t n_nodepools;
    hoist_pipeline_config pipeline;     /* .cluster required; .run_id defaults to a
                                           fresh one per pipeline */
    const char *listen_host;            /* metrics/health listener; NULL = none */
    int listen_port;                    /* 0 = a free port (hoist_daemon_port) */
    bool leader_election;               /* compete for the Lease below */
    const char *lease_ns, *lease_name;  /* required with leader_election */
    const char *identity;               /* NULL = "<hostname>_<pid>" */
    uint32_t lease_duration_s;          /* 0 = client-go's defaults (kube/lease.h) */
    uint32_t renew_deadline_ms;
    uint32_t retry_period_ms;
    uint32_t backoff_base_ms;           /* reflectors; 0 = kube/reflector.h defaults */
    uint32_t backoff_cap_ms;
    uint32_t absent_retry_ms;
    uint32_t watch_timeout_s;
    bool no_adoption;                   /* skip hoist_pipeline_reconcile at start */
    uint64_t drain_ms;                  /* shutdown wait; 0 = HOIST_DAEMON_DRAIN_MS_DEFAULT */
    hoist_kube_clock_fn now_ms;         /* the pipeline's clock; NULL = real time */
    void *clock_arg;
    const hoist_logger *log;            /* borrowed; may be NULL */
    hoist_metrics *metrics;             /* borrowed; may be NULL (no /metrics content) */
    uint64_t seed;                      /* jitter of backoffs and the Lease */
} hoist_daemon_config;

/* What the daemon did (monotonic), beside the pipeline's own stats. */
typedef struct hoist_daemon_stats {
    uint64_t events;                    /* object events delivered to pipelines */
    uint64_t steps;                     /* pipeline steps run */
    uint64_t step_errors;               /* steps that returned -1 */
    uint64_t pipelines;                 /* pipelines built (one per leadership term) */
    uint64_t adoptions;                 /* reconciliations finished (ok or not) */
    uint64_t adoption_failures;
    uint64_t provider_answers;          /* launch/terminate/list completions seen */
    uint64_t reloads, reload_failures;  /* policy reloads */
} hoist_daemon_stats;

typedef struct hoist_daemon hoist_daemon;

/* Called once when a shutdown finished (or gave up waiting). */
typedef void (*hoist_daemon_done_cb)(void *arg);
/* Called after every pipeline step (tests and the benchmark watch progress). */
typedef void (*hoist_daemon_step_cb)(void *arg, hoist_daemon *d);

/* Build a daemon on loop (borrowed; cfg copied, strings too). Nothing runs
 * until start. NULL with err naming the field on bad configuration. */
hoist_daemon *hoist_daemon_new(uv_loop_t *loop, const hoist_daemon_config *cfg, hoist_err *err);
/* Listen (when asked), start the policy reloader and leader election (or
 * the pipeline at once). 0, or -1 with err (e.g. the address is busy). */
int hoist_daemon_start(hoist_daemon *d, hoist_err *err);
/* Stop gracefully (see above); done(arg) runs from the loop when finished.
 * A second call only replaces nothing and returns. */
void hoist_daemon_shutdown(hoist_daemon *d, hoist_daemon_done_cb done, void *arg);
/* Free everything. Call after the shutdown finished, and after the
 * provider was destroyed when calls were still in flight; the memory goes
 * once the loop has run the handles' close callbacks (run it before
 * uv_loop_close). NULL is fine. */
void hoist_daemon_free(hoist_daemon *d);

/* The current pipeline (borrowed), or NULL while not leading/starting. */
hoist_pipeline *hoist_daemon_pipeline(hoist_daemon *d);
/* True while the daemon leads (always, once started, without election). */
bool hoist_daemon_leading(const hoist_daemon *d);
/* True when /readyz answers 200; *why (may be NULL) says why not. */
bool hoist_daemon_ready(const hoist_daemon *d, const char **why);
/* The listener's port, or -1 without a listener. */
int hoist_daemon_port(const hoist_daemon *d);
/* Counters. */
const hoist_daemon_stats *hoist_daemon_get_stats(const hoist_daemon *d);
/* Watch restarts summed over every reflector of the current pipeline. */
uint64_t hoist_daemon_watch_restarts(const hoist_daemon *d);
/* Run cb(arg, d) after every step (NULL to stop). */
void hoist_daemon_on_step(hoist_daemon *d, hoist_daemon_step_cb cb, void *arg);
/* Refresh the daemon's metrics (reflector, writer, Event, Lease counters and
 * the gauges) into cfg->metrics now; also done every second. */
void hoist_daemon_update_metrics(hoist_daemon *d);

#endif
