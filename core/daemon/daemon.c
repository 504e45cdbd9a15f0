/*
 * daemon/daemon.c - `hoist run` wired on one libuv loop (see daemon.h).
 */
#include "daemon/daemon.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/http.h"
#include "host/httpd.h"
#include "host/status.h"
#include "kube/events.h"
#include "kube/lease.h"
#include "kube/reflector.h"
#include "kube/sink.h"
#include "kube/writer.h"
#include "model/usage.h"
#include "policy/reloader.h"

#define COMPONENT "daemon"
#define TICK_MS 1000u
#define DRAIN_POLL_MS 20u
#define ADOPT_RETRY_MS 2000u

/* The resources the daemon lists and watches. */
typedef struct resource {
    const char *name;         /* for logs and metric labels */
    const char *path;
    const char *api_version;
    const char *kind;
    bool optional;            /* a CRD that may be absent */
} resource;

static const resource RESOURCES[] = {
    {"pods", "/api/v1/pods", "v1", "Pod", false},
    {"nodes", "/api/v1/nodes", "v1", "Node", false},
    {"persistentvolumes", "/api/v1/persistentvolumes", "v1", "PersistentVolume", false},
    {"persistentvolumeclaims", "/api/v1/persistentvolumeclaims", "v1", "PersistentVolumeClaim",
     false},
    {"storageclasses", "/apis/storage.k8s.io/v1/storageclasses", "storage.k8s.io/v1",
     "StorageClass", false},
    {"poddisruptionbudgets", "/apis/policy/v1/poddisruptionbudgets", "policy/v1",
     "PodDisruptionBudget", false},
    {"daemonsets", "/apis/apps/v1/daemonsets", "apps/v1", "DaemonSet", false},
    {"nodepools.hoist.dev", "/apis/hoist.dev/v1/nodepools", "hoist.dev/v1", "NodePool", true},
    {"nodepools.karpenter.sh", "/apis/karpenter.sh/v1/nodepools", "karpenter.sh/v1", "NodePool",
     true},
};
#define N_RESOURCES (sizeof RESOURCES / sizeof RESOURCES[0])

struct hoist_daemon;

/* One reflector slot of the current pipeline. */
typedef struct watch_slot {
    struct hoist_daemon *d;
    size_t i;                         /* index in RESOURCES */
    hoist_reflector *r;
    hoist_reflector_stats exported;   /* counters already added to the metrics */
} watch_slot;

/* A provider call the daemon relays, to step after its answer. */
typedef struct relay {
    struct hoist_daemon *d;
    union {
        hoist_launch_cb launch;
        hoist_done_cb done;
        hoist_list_cb list;
    } cb;
    void *arg;
} relay;

/* Counters already exported, for deltas. */
typedef struct exported {
    hoist_kube_writer_stats writer;
    hoist_kube_events_stats events;
    hoist_kube_lease_stats lease;
    uint64_t termination_failures; /* of the current pipeline */
} exported;

struct hoist_daemon {
    uv_loop_t *loop;
    hoist_daemon_config cfg;          /* strings point into the copies below */
    char *cluster, *lease_ns, *lease_name, *identity, *listen_host, *policy_path;
    json_t **nodepools;
    size_t n_nodepools;
    hoist_http *http;
    hoist_kube_client client;
    hoist_kube_writer *writer;
    hoist_kube_events *events;
    hoist_kube_sink ksink;
    hoist_sink sink;
    hoist_kube_lease *lease;
    bool lease_released;              /* release answered (or nothing to release) */
    hoist_httpd *httpd;
    hoist_health health;
    hoist_policy_reloader reloader;
    bool reloader_on;
    hoist_host phost;                 /* the pipeline's clock and log */
    hoist_provider wrapped;           /* the provider, answers relayed through us */
    hoist_event_cb ev_cb;             /* the current pipeline's provider-event watcher */
    void *ev_arg;
    bool ev_subscribed;
    hoist_event_source source;
    hoist_object_event_fn deliver;
    void *deliver_arg;
    watch_slot slots[N_RESOURCES];
    bool source_on;
    hoist_pipeline *p;                /* the current pipeline, or NULL */
    bool p_synced;                    /* every reflector synced */
    bool p_adopted;                   /* reconciliation done: steps may run */
    bool adopt_pending;               /* a reconcile should be (re)started */
    uint64_t adopt_retry_at;
    hoist_pipeline **retiring;        /* stopped pipelines waiting for provider answers */
    size_t n_retiring, cap_retiring;
    uv_timer_t step_timer, tick_timer, drain_timer;
    int open_handles;
    uint64_t armed_at;                /* when step_timer fires (pipeline clock), or MAX */
    bool started, leading, shutting_down, finished;
    uint64_t drain_deadline;
    hoist_daemon_done_cb done;
    void *done_arg;
    hoist_daemon_step_cb step_cb;
    void *step_arg;
    unsigned term;                    /* pipelines built so far */
    char run_id[16];
    hoist_daemon_stats stats;
    exported ex;
    bool in_step;
};

/* ---- small helpers ---------------------------------------------------------- */

static uint64_t now_ms(const hoist_daemon *d)
{
    return d->cfg.now_ms ? d->cfg.now_ms(d->cfg.clock_arg) : hoist_kube_real_clock_ms(NULL);
}

#define LOGD(d, level, ...) hoist_log((d)->cfg.log, level, COMPONENT, __VA_ARGS__)

static char *dup_or_null(const char *s, bool *oom)
{
    if (!s)
        return NULL;
    char *c = strdup(s);
    if (!c)
        *oom = true;
    return c;
}

static void phost_log(void *ctx, hoist_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void phost_log(void *ctx, hoist_log_level level, const char *fmt, ...)
{
    hoist_daemon *d = ctx;
    va_list ap;
    va_start(ap, fmt);
    hoist_logv(d->cfg.log, level, "pipeline", fmt, ap);
    va_end(ap);
}

static uint64_t phost_now(void *ctx)
{
    return now_ms(ctx);
}

static void counter_to(hoist_daemon *d, const char *name, const char *help, const hoist_kv *l,
                       size_t n, uint64_t value, uint64_t *last)
{
    /* a delta of 0 still registers the series, so it reads 0 before its first event */
    if (d->cfg.metrics) {
        hoist_err err = {{0}};
        if (hoist_metrics_counter_add(d->cfg.metrics, name, help, l, n,
                                      value > *last ? (double)(value - *last) : 0, &err) < 0)
            LOGD(d, HOIST_LOG_WARN, "metrics: %s", err.msg);
    }
    if (value > *last)
        *last = value;
}

static void gauge(hoist_daemon *d, const char *name, const char *help, const hoist_kv *l,
                  size_t n, double value)
{
    if (!d->cfg.metrics)
        return;
    hoist_err err = {{0}};
    if (hoist_metrics_gauge_set(d->cfg.metrics, name, help, l, n, value, &err) < 0)
        LOGD(d, HOIST_LOG_WARN, "metrics: %s", err.msg);
}

/* ---- stepping ----------------------------------------------------------------- */

static void arm(hoist_daemon *d, uint64_t at);

static void on_step_timer(uv_timer_t *t)
{
    hoist_daemon *d = t->data;
    d->armed_at = UINT64_MAX;
    if (!d->p || !d->p_adopted || d->shutting_down)
        return;
    uint64_t wake = UINT64_MAX;
    hoist_err err = {{0}};
    d->in_step = true;
    int rc = hoist_pipeline_step(d->p, &wake, &err);
    d->in_step = false;
    d->stats.steps++;
    if (rc < 0) {
        d->stats.step_errors++;
        LOGD(d, HOIST_LOG_ERROR, "step: %s", err.msg);
    }
    if (d->step_cb)
        d->step_cb(d->step_arg, d);
    arm(d, wake);
}

/* Make the step timer fire at `at` (pipeline clock) unless it fires sooner. */
static void arm(hoist_daemon *d, uint64_t at)
{
    if (at == UINT64_MAX || at >= d->armed_at || d->shutting_down || d->finished)
        return;
    uint64_t now = now_ms(d);
    d->armed_at = at;
    uv_timer_start(&d->step_timer, on_step_timer, at > now ? at - now : 0, 0);
}

static void step_soon(hoist_daemon *d)
{
    if (d->p && d->p_adopted)
        arm(d, now_ms(d));
}

/* ---- readiness ------------------------------------------------------------------ */

static bool compute_ready(const hoist_daemon *d, const char **why)
{
    const char *r = NULL;
    if (d->shutting_down)
        r = "shutting down";
    else if (!d->started)
        r = "starting";
    else if (d->cfg.leader_election && !d->leading)
        r = "not the leader";
    else if (!d->p || !d->p_synced)
        r = "waiting for the first list of every watched resource";
    else if (!d->p_adopted)
        r = "adopting the provider's machines";
    if (why)
        *why = r ? r : "";
    return r == NULL;
}

static void update_ready(hoist_daemon *d)
{
    const char *why;
    bool ok = compute_ready(d, &why);
    hoist_health_set_ready(&d->health, ok, why);
}

/* ---- the provider, relayed ---------------------------------------------------- */

static relay *relay_new(hoist_daemon *d, void *arg)
{
    relay *r = calloc(1, sizeof *r);
    if (r) {
        r->d = d;
        r->arg = arg;
    }
    return r;
}

static void relay_answered(hoist_daemon *d)
{
    d->stats.provider_answers++;
    step_soon(d);
}

static void w_launch_done(void *arg, const hoist_error *err, const hoist_machine *m,
                          const hoist_launch_offering *ex, size_t n_ex)
{
    relay r = *(relay *)arg;
    free(arg);
    r.cb.launch(r.arg, err, m, ex, n_ex);
    relay_answered(r.d);
}

static hoist_status w_launch(void *state, const hoist_launch_request *req, hoist_launch_cb cb,
                             void *arg, hoist_error *err)
{
    hoist_daemon *d = state;
    relay *r = relay_new(d, arg);
    if (!r)
        return hoist_error_set(err, HOIST_E_INTERNAL, "daemon: out of memory");
    r->cb.launch = cb;
    hoist_status st = d->cfg.provider->launch(d->cfg.provider_state, req, w_launch_done, r, err);
    if (st != HOIST_OK)
        free(r);
    return st;
}

static void w_done(void *arg, const hoist_error *err)
{
    relay r = *(relay *)arg;
    free(arg);
    r.cb.done(r.arg, err);
    relay_answered(r.d);
}

static hoist_status w_terminate(void *state, const char *id, hoist_done_cb cb, void *arg,
                                hoist_error *err)
{
    hoist_daemon *d = state;
    relay *r = relay_new(d, arg);
    if (!r)
        return hoist_error_set(err, HOIST_E_INTERNAL, "daemon: out of memory");
    r->cb.done = cb;
    hoist_status st = d->cfg.provider->terminate(d->cfg.provider_state, id, w_done, r, err);
    if (st != HOIST_OK)
        free(r);
    return st;
}

static void w_list_done(void *arg, const hoist_error *err, const hoist_machine *m, size_t n)
{
    relay r = *(relay *)arg;
    free(arg);
    r.cb.list(r.arg, err, m, n);
    relay_answered(r.d);
}

static hoist_status w_list(void *state, const hoist_kv *filter, size_t n, hoist_list_cb cb,
                           void *arg, hoist_error *err)
{
    hoist_daemon *d = state;
    relay *r = relay_new(d, arg);
    if (!r)
        return hoist_error_set(err, HOIST_E_INTERNAL, "daemon: out of memory");
    r->cb.list = cb;
    hoist_status st = d->cfg.provider->list(d->cfg.provider_state, filter, n, w_list_done, r, err);
    if (st != HOIST_OK)
        free(r);
    return st;
}

static hoist_status w_catalog(void *state, hoist_catalog_cb cb, void *arg, hoist_error *err)
{
    hoist_daemon *d = state;
    return d->cfg.provider->catalog(d->cfg.provider_state, cb, arg, err);
}

/* The provider's events go to whichever pipeline is current: the daemon
 * subscribes once (a provider cannot unsubscribe) and forwards. */
static void w_event(void *arg, const hoist_event *ev)
{
    hoist_daemon *d = arg;
    if (d->ev_cb) {
        d->ev_cb(d->ev_arg, ev);
        step_soon(d);
    }
}

static hoist_status w_watch_events(void *state, hoist_event_cb cb, void *arg, hoist_error *err)
{
    hoist_daemon *d = state;
    if (!d->ev_subscribed) {
        hoist_status st = d->cfg.provider->watch_events(d->cfg.provider_state, w_event, d, err);
        if (st != HOIST_OK)
            return st;
        d->ev_subscribed = true;
    }
    d->ev_cb = cb;
    d->ev_arg = arg;
    return HOIST_OK;
}

static void wrap_provider(hoist_daemon *d)
{
    const hoist_provider *p = d->cfg.provider;
    d->wrapped = *p;
    d->wrapped.size = sizeof d->wrapped;
    d->wrapped.init = NULL;
    d->wrapped.destroy = NULL;
    d->wrapped.control = NULL;
    d->wrapped.catalog = p->catalog ? w_catalog : NULL;
    d->wrapped.launch = w_launch;
    d->wrapped.terminate = w_terminate;
    d->wrapped.list = p->list ? w_list : NULL;
    bool events = HOIST_PROVIDER_HAS(p, watch_events) && p->watch_events &&
                  (p->capabilities & HOIST_CAP_EVENTS);
    d->wrapped.watch_events = events ? w_watch_events : NULL;
    if (!events)
        d->wrapped.capabilities &= ~(uint64_t)HOIST_CAP_EVENTS;
}

/* ---- the event source: reflectors ------------------------------------------ */

static void start_adoption(hoist_daemon *d);

static void on_watch_event(void *arg, const hoist_object_event *ev)
{
    watch_slot *s = arg;
    hoist_daemon *d = s->d;
    if (!d->deliver || !d->source_on)
        return;
    d->stats.events++;
    d->deliver(d->deliver_arg, ev);
    step_soon(d);
}

static void on_watch_synced(void *arg)
{
    watch_slot *s = arg;
    hoist_daemon *d = s->d;
    LOGD(d, HOIST_LOG_INFO, "%s: synced (%zu objects)%s", RESOURCES[s->i].name,
         hoist_reflector_size(s->r), hoist_reflector_absent(s->r) ? " - not served here" : "");
    if (d->p_synced)
        return;
    for (size_t i = 0; i < N_RESOURCES; i++)
        if (!d->slots[i].r || !hoist_reflector_synced(d->slots[i].r))
            return;
    d->p_synced = true;
    LOGD(d, HOIST_LOG_INFO, "every watched resource is synced");
    start_adoption(d);
    update_ready(d);
}

static void flush_watch_metrics(hoist_daemon *d, watch_slot *s);

static void source_stop(void *ctx)
{
    hoist_daemon *d = ctx;
    if (!d->source_on)
        return;
    d->source_on = false;
    for (size_t i = 0; i < N_RESOURCES; i++) {
        if (d->slots[i].r) {
            flush_watch_metrics(d, &d->slots[i]);
            hoist_reflector_close(d->slots[i].r);
            d->slots[i].r = NULL;
        }
    }
    d->deliver = NULL;
    d->deliver_arg = NULL;
}

static int source_start(void *ctx, hoist_object_event_fn deliver, void *arg, hoist_err *err)
{
    hoist_daemon *d = ctx;
    d->deliver = deliver;
    d->deliver_arg = arg;
    d->source_on = true;
    /* NodePools from files first: the watched ones (same names) replace them */
    for (size_t i = 0; i < d->n_nodepools; i++) {
        hoist_object_event ev = {.op = HOIST_OBJECT_ADD, .object = d->nodepools[i]};
        deliver(arg, &ev);
    }
    for (size_t i = 0; i < N_RESOURCES; i++) {
        watch_slot *s = &d->slots[i];
        memset(s, 0, sizeof *s);
        s->d = d;
        s->i = i;
        hoist_reflector_config rc;
        memset(&rc, 0, sizeof rc);
        rc.path = RESOURCES[i].path;
        rc.api_version = RESOURCES[i].api_version;
        rc.kind = RESOURCES[i].kind;
        rc.optional = RESOURCES[i].optional;
        rc.backoff_base_ms = d->cfg.backoff_base_ms;
        rc.backoff_cap_ms = d->cfg.backoff_cap_ms;
        rc.absent_retry_ms = d->cfg.absent_retry_ms;
        rc.watch_timeout_s = d->cfg.watch_timeout_s;
        rc.seed = d->cfg.seed * 0x9e3779b97f4a7c15ull + i + 1;
        rc.on_event = on_watch_event;
        rc.on_synced = on_watch_synced;
        rc.arg = s;
        s->r = hoist_reflector_new(d->loop, d->http, d->cfg.kube, d->cfg.log, &rc, err);
        if (!s->r) {
            source_stop(d);
            return -1;
        }
    }
    for (size_t i = 0; i < N_RESOURCES; i++) {
        hoist_err e = {{0}};
        if (hoist_reflector_start(d->slots[i].r, &e) < 0) /* retried after a backoff */
            LOGD(d, HOIST_LOG_WARN, "%s: %s", RESOURCES[i].name, e.msg);
    }
    return 0;
}

/* ---- pipelines: one per leadership term ------------------------------------ */

static void on_reconciled(void *arg, const hoist_error *err, const hoist_pipeline_adoption *a)
{
    hoist_daemon *d = arg;
    d->stats.adoptions++;
    (void)a;
    if (!d->p || d->shutting_down)
        return;
    if (err) {
        d->stats.adoption_failures++;
        LOGD(d, HOIST_LOG_WARN, "adopting the provider's machines failed (retried in %u ms): %s",
             ADOPT_RETRY_MS, err->message);
        d->adopt_pending = true;
        d->adopt_retry_at = now_ms(d) + ADOPT_RETRY_MS;
        return;
    }
    d->p_adopted = true;
    update_ready(d);
    hoist_daemon_update_metrics(d);
    step_soon(d);
}

static void start_adoption(hoist_daemon *d)
{
    d->adopt_pending = false;
    if (!d->p || d->p_adopted || d->shutting_down)
        return;
    if (d->cfg.no_adoption) {
        d->p_adopted = true;
        update_ready(d);
        hoist_daemon_update_metrics(d);
        step_soon(d);
        return;
    }
    hoist_err err = {{0}};
    if (hoist_pipeline_reconcile(d->p, on_reconciled, d, &err) < 0) {
        d->stats.adoption_failures++;
        LOGD(d, HOIST_LOG_WARN, "%s (retried in %u ms)", err.msg, ADOPT_RETRY_MS);
        d->adopt_pending = true;
        d->adopt_retry_at = now_ms(d) + ADOPT_RETRY_MS;
    }
}

/* A DNS-label-safe token that differs between runs and terms. */
static void new_run_id(hoist_daemon *d)
{
    static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
    uint64_t x = now_ms(d) ^ ((uint64_t)getpid() << 32) ^ ((uint64_t)d->term << 48) ^ d->cfg.seed;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    for (int i = 0; i < 6; i++) {
        d->run_id[i] = digits[x % 36];
        x /= 36;
    }
    d->run_id[6] = '\0';
}

static void become_leader(hoist_daemon *d)
{
    if (d->shutting_down || d->p)
        return;
    d->leading = true;
    d->term++;
    hoist_pipeline_env env;
    memset(&env, 0, sizeof env);
    env.host = &d->phost;
    env.provider = &d->wrapped;
    env.provider_state = d;
    env.sink = &d->sink;
    env.source = &d->source;
    env.catalog = d->cfg.catalog;
    env.metrics = d->cfg.metrics;
    hoist_pipeline_config pc = d->cfg.pipeline;
    if (!pc.run_id) {
        new_run_id(d);
        pc.run_id = d->run_id;
    }
    hoist_err err = {{0}};
    d->p = hoist_pipeline_new(&env, &pc, d->cfg.policy ? *d->cfg.policy : NULL, &err);
    if (!d->p) {
        LOGD(d, HOIST_LOG_ERROR, "cannot build the pipeline: %s", err.msg);
        update_ready(d);
        return;
    }
    d->stats.pipelines++;
    d->p_synced = d->p_adopted = d->adopt_pending = false;
    d->ex.termination_failures = 0;
    LOGD(d, HOIST_LOG_INFO, "leading: pipeline %u started (claims named <nodepool>-%s-<n>)",
         d->term, pc.run_id);
    if (hoist_pipeline_start(d->p, &err) < 0) {
        LOGD(d, HOIST_LOG_ERROR, "cannot start the watches: %s", err.msg);
        /* the reflectors retry on their own once they exist; without them
         * there is nothing to do but wait for the next term */
    }
    update_ready(d);
}

/* Stop the current pipeline: no more events or steps; freed once its
 * provider calls are answered. */
static void stop_pipeline(hoist_daemon *d)
{
    if (!d->p)
        return;
    hoist_daemon_update_metrics(d);
    source_stop(d);
    uv_timer_stop(&d->step_timer);
    d->armed_at = UINT64_MAX;
    d->ev_cb = NULL;
    d->ev_arg = NULL;
    if (d->n_retiring == d->cap_retiring) {
        size_t ncap = d->cap_retiring ? d->cap_retiring * 2 : 4;
        hoist_pipeline **g = realloc(d->retiring, ncap * sizeof *g);
        if (!g) {
            LOGD(d, HOIST_LOG_ERROR, "out of memory retiring a pipeline; it is kept");
            d->p = NULL;
            return;
        }
        d->retiring = g;
        d->cap_retiring = ncap;
    }
    d->retiring[d->n_retiring++] = d->p;
    d->p = NULL;
    d->p_synced = d->p_adopted = d->adopt_pending = false;
    update_ready(d);
}

/* Free retired pipelines that have no provider call in flight. */
static void reap_pipelines(hoist_daemon *d)
{
    for (size_t i = 0; i < d->n_retiring;) {
        if (hoist_pipeline_in_flight(d->retiring[i]) == 0) {
            hoist_pipeline_free(d->retiring[i]);
            d->retiring[i] = d->retiring[--d->n_retiring];
        } else {
            i++;
        }
    }
}

static void on_lease_started(void *arg)
{
    hoist_daemon *d = arg;
    LOGD(d, HOIST_LOG_INFO, "became the leader (%s)", hoist_kube_lease_identity(d->lease));
    become_leader(d);
}

static void on_lease_stopped(void *arg)
{
    hoist_daemon *d = arg;
    d->leading = false;
    if (!d->shutting_down)
        LOGD(d, HOIST_LOG_WARN, "lost the Lease: stopping the pipeline");
    stop_pipeline(d);
    update_ready(d);
}

/* ---- sink lookups ----------------------------------------------------------- */

static bool is_new_node(void *arg, const char *node)
{
    hoist_daemon *d = arg;
    const hoist_nodeclaim *c = d->p ? hoist_pipeline_find_claim(d->p, node) : NULL;
    return c && !c->node;
}

static const char *pod_uid(void *arg, const char *ns, const char *name)
{
    hoist_daemon *d = arg;
    const hoist_pod *pod = d->p ? hoist_cluster_find_pod(hoist_pipeline_cluster(d->p), ns, name)
                                : NULL;
    return pod ? pod->uid : NULL;
}

/* ---- policy reload ------------------------------------------------------------- */

static void on_reload(void *arg, hoist_policy *in_force, bool ok, const hoist_err *err)
{
    hoist_daemon *d = arg;
    if (ok) {
        d->stats.reloads++;
        LOGD(d, HOIST_LOG_INFO, "policy %s reloaded", d->policy_path);
        if (d->p && !d->in_step)
            hoist_pipeline_set_policy(d->p, in_force);
    } else {
        d->stats.reload_failures++;
        LOGD(d, HOIST_LOG_ERROR, "policy %s not reloaded (the previous one stays): %s",
             d->policy_path, err ? err->msg : "?");
    }
}

/* ---- metrics ------------------------------------------------------------------- */

static void flush_watch_metrics(hoist_daemon *d, watch_slot *s)
{
    if (!s->r)
        return;
    const hoist_reflector_stats *st = hoist_reflector_get_stats(s->r);
    hoist_kv l = {"resource", RESOURCES[s->i].name};
    counter_to(d, "hoist_watch_restarts_total", "Watches restarted after the first, by resource",
               &l, 1, st->watch_restarts, &s->exported.watch_restarts);
    counter_to(d, "hoist_watch_relists_total",
               "Lists after the first sync (410 Gone, errors, absence), by resource", &l, 1,
               st->relists, &s->exported.relists);
    counter_to(d, "hoist_watch_events_total", "Object events received, by resource", &l, 1,
               st->events, &s->exported.events);
    counter_to(d, "hoist_watch_malformed_total",
               "Objects or watch lines skipped as malformed, by resource", &l, 1, st->malformed,
               &s->exported.malformed);
    counter_to(d, "hoist_watch_failures_total",
               "Failed list or watch requests (transport, HTTP errors), by resource", &l, 1,
               st->failures, &s->exported.failures);
    counter_to(d, "hoist_watch_throttled_total", "429 answers to lists and watches, by resource",
               &l, 1, st->throttled, &s->exported.throttled);
    gauge(d, "hoist_watch_synced", "1 when the resource's first list was delivered", &l, 1,
          hoist_reflector_synced(s->r) ? 1 : 0);
    gauge(d, "hoist_watch_objects", "Objects held from the resource", &l, 1,
          (double)hoist_reflector_size(s->r));
}

static void write_metric(hoist_daemon *d, const char *kind, const char *outcome, uint64_t v,
                         uint64_t *last)
{
    hoist_kv l[2] = {{"kind", kind}, {"outcome", outcome}};
    counter_to(d, "hoist_kube_writes_total",
               "Writes to the API (evictions, Node taints and cordons, Node deletions), by kind "
               "and outcome",
               l, 2, v, last);
}

static void request_metrics(hoist_daemon *d, const char *who, const hoist_kube_request_stats *s,
                            hoist_kube_request_stats *last)
{
    hoist_kv l = {"client", who};
    counter_to(d, "hoist_kube_requests_total", "HTTP requests sent by the API writers", &l, 1,
               s->requests, &last->requests);
    counter_to(d, "hoist_kube_request_retries_total", "Retried API requests", &l, 1, s->retries,
               &last->retries);
    counter_to(d, "hoist_kube_request_failures_total",
               "API requests given up after their last attempt", &l, 1, s->gave_up,
               &last->gave_up);
}

void hoist_daemon_update_metrics(hoist_daemon *d)
{
    if (!d->cfg.metrics)
        return;
    for (size_t i = 0; i < N_RESOURCES; i++)
        flush_watch_metrics(d, &d->slots[i]);
    if (d->writer) {
        const hoist_kube_writer_stats *w = hoist_kube_writer_get_stats(d->writer);
        hoist_kube_writer_stats *x = &d->ex.writer;
        write_metric(d, "evict", "done", w->evicted, &x->evicted);
        write_metric(d, "evict", "gone", w->eviction_pod_gone, &x->eviction_pod_gone);
        write_metric(d, "evict", "refused", w->evictions_refused, &x->evictions_refused);
        write_metric(d, "evict", "failed", w->eviction_failures, &x->eviction_failures);
        write_metric(d, "node", "done", w->node_patches, &x->node_patches);
        write_metric(d, "node", "unchanged", w->node_unchanged, &x->node_unchanged);
        write_metric(d, "node", "failed", w->node_failures, &x->node_failures);
        write_metric(d, "delete-node", "done", w->nodes_deleted, &x->nodes_deleted);
        write_metric(d, "delete-node", "gone", w->nodes_already_gone, &x->nodes_already_gone);
        write_metric(d, "delete-node", "failed", w->node_delete_failures,
                     &x->node_delete_failures);
        request_metrics(d, "writer", &w->http, &x->http);
    }
    if (d->events) {
        const hoist_kube_events_stats *e = hoist_kube_events_get_stats(d->events);
        hoist_kube_events_stats *x = &d->ex.events;
        static const char help[] = "Events on pods, by outcome";
        hoist_kv l = {"outcome", "created"};
        counter_to(d, "hoist_kube_events_total", help, &l, 1, e->created, &x->created);
        l.value = "aggregated";
        counter_to(d, "hoist_kube_events_total", help, &l, 1, e->aggregated, &x->aggregated);
        l.value = "rate-limited";
        counter_to(d, "hoist_kube_events_total", help, &l, 1, e->rate_limited,
                   &x->rate_limited);
        l.value = "failed";
        counter_to(d, "hoist_kube_events_total", help, &l, 1, e->failures, &x->failures);
        request_metrics(d, "events", &e->http, &x->http);
    }
    if (d->lease) {
        const hoist_kube_lease_stats *s = hoist_kube_lease_get_stats(d->lease);
        counter_to(d, "hoist_leader_acquired_total", "Times this process became the leader",
                   NULL, 0, s->acquired, &d->ex.lease.acquired);
        counter_to(d, "hoist_leader_lost_total", "Times this process lost the Lease", NULL, 0,
                   s->lost, &d->ex.lease.lost);
        request_metrics(d, "lease", &s->http, &d->ex.lease.http);
    }
    gauge(d, "hoist_leader", "1 while this process leads (or runs without election)", NULL, 0,
          d->leading ? 1 : 0);
    const char *why;
    gauge(d, "hoist_ready", "1 while /readyz answers 200", NULL, 0,
          compute_ready(d, &why) ? 1 : 0);
    if (!d->p)
        return;
    const hoist_pipeline_stats *ps = hoist_pipeline_stats_get(d->p);
    /* (the pipeline observes hoist_decision_duration_seconds, a histogram) */
    gauge(d, "hoist_decision_duration_seconds_max",
          "Longest provisioning decision of the current pipeline", NULL, 0,
          (double)ps->decision_ms_max / 1000.0);
    counter_to(d, "hoist_provider_errors_total", "Provider terminate calls that failed", NULL, 0,
               ps->termination_failures, &d->ex.termination_failures);
    hoist_objects *o = hoist_cluster_objects(hoist_pipeline_cluster(d->p));
    gauge(d, "hoist_pending_pods", "Pods waiting for a node that hoist has not placed yet", NULL,
          0, o->usage ? (double)o->usage->n_waiting : 0);
    /* machines by state and their cost per NodePool */
    const hoist_nodeclaim *const *claims;
    size_t n = hoist_pipeline_claims(d->p, &claims);
    double by_state[HOIST_CLAIM_TERMINATING + 1] = {0};
    for (size_t i = 0; i < n; i++)
        by_state[claims[i]->state] += 1;
    for (int s = 0; s <= HOIST_CLAIM_TERMINATING; s++) {
        hoist_kv l = {"state", hoist_nodeclaim_state_name((hoist_nodeclaim_state)s)};
        gauge(d, "hoist_nodeclaims", "Machines hoist launched or adopted, by state", &l, 1,
              by_state[s]);
    }
    double total = 0;
    for (size_t i = 0; i < o->n_nodepools; i++) {
        double cost = 0;
        for (size_t k = 0; k < n; k++)
            if (strcmp(claims[k]->nodepool, o->nodepools[i]->name) == 0 &&
                claims[k]->state != HOIST_CLAIM_TERMINATING)
                cost += claims[k]->price;
        hoist_kv l = {"nodepool", o->nodepools[i]->name};
        gauge(d, "hoist_cost_per_hour", "USD per hour of the machines of each NodePool", &l, 1,
              cost);
        total += cost;
    }
    /* spending efficiency: what a requested vCPU costs on hoist's machines */
    double vcpus = 0;
    for (size_t k = 0; o->usage && k < n; k++) {
        const hoist_node_usage *u =
            claims[k]->node ? hoist_usage_of(o->usage, claims[k]->node) : NULL;
        if (u && claims[k]->state != HOIST_CLAIM_TERMINATING)
            vcpus += (double)u->requested.v[HOIST_RES_CPU] / 1000.0;
    }
    gauge(d, "hoist_spending_efficiency_usd_per_vcpu_hour",
          "USD per hour of hoist's machines divided by the vCPUs their pods request (0 when "
          "none are requested)",
          NULL, 0, vcpus > 0 ? total / vcpus : 0);
}

/* ---- timers: the tick and shutdown ------------------------------------------- */

/* The last timer closed: the memory goes. */
static void on_closed(uv_handle_t *h)
{
    hoist_daemon *d = h->data;
    if (--d->open_handles == 0)
        free(d);
}

static void finish(hoist_daemon *d)
{
    if (d->finished)
        return;
    d->finished = true;
    reap_pipelines(d);
    hoist_daemon_update_metrics(d);
    uv_timer_stop(&d->step_timer);
    uv_timer_stop(&d->tick_timer);
    uv_timer_stop(&d->drain_timer);
    hoist_httpd_close(d->httpd);
    d->httpd = NULL;
    if (d->n_retiring)
        LOGD(d, HOIST_LOG_WARN, "shutdown: %zu provider calls still unanswered",
             (size_t)d->n_retiring);
    LOGD(d, HOIST_LOG_INFO, "stopped");
    if (d->done)
        d->done(d->done_arg);
}

static bool drained(hoist_daemon *d)
{
    reap_pipelines(d);
    return d->n_retiring == 0 && (!d->writer || hoist_kube_writer_pending(d->writer) == 0) &&
           (!d->events || hoist_kube_events_pending(d->events) == 0) &&
           (!d->lease || d->lease_released) &&
           (!d->reloader_on || hoist_policy_reloader_closed(&d->reloader));
}

static void on_drain_timer(uv_timer_t *t)
{
    hoist_daemon *d = t->data;
    if (drained(d) || now_ms(d) >= d->drain_deadline)
        finish(d);
}

static void on_tick(uv_timer_t *t)
{
    hoist_daemon *d = t->data;
    reap_pipelines(d);
    if (d->p && d->p_synced && d->adopt_pending && now_ms(d) >= d->adopt_retry_at &&
        !hoist_pipeline_reconciling(d->p))
        start_adoption(d);
    hoist_daemon_update_metrics(d);
    update_ready(d);
}

static void on_released(void *arg)
{
    hoist_daemon *d = arg;
    d->lease_released = true;
    LOGD(d, HOIST_LOG_INFO, "Lease released");
}

/* ---- public ------------------------------------------------------------------- */

hoist_daemon *hoist_daemon_new(uv_loop_t *loop, const hoist_daemon_config *cfg, hoist_err *err)
{
    if (!loop || !cfg) {
        hoist_errf(err, "daemon: a loop and a configuration are required");
        return NULL;
    }
    if (!cfg->kube || !cfg->kube->server) {
        hoist_errf(err, "daemon: kube: an API server configuration is required");
        return NULL;
    }
    if (!cfg->provider || !cfg->provider->launch || !cfg->provider->terminate) {
        hoist_errf(err, "daemon: provider: a started provider is required");
        return NULL;
    }
    if (!cfg->catalog) {
        hoist_errf(err, "daemon: catalog: required");
        return NULL;
    }
    if (!cfg->pipeline.cluster || !*cfg->pipeline.cluster) {
        hoist_errf(err, "daemon: cluster: a cluster name is required");
        return NULL;
    }
    if (cfg->leader_election && (!cfg->lease_ns || !*cfg->lease_ns || !cfg->lease_name ||
                                 !*cfg->lease_name)) {
        hoist_errf(err, "daemon: leader election needs the Lease's namespace and name");
        return NULL;
    }
    if (cfg->n_nodepools > HOIST_DAEMON_MAX_FILE_NODEPOOLS) {
        hoist_errf(err, "daemon: nodepools: at most %d from files",
                   HOIST_DAEMON_MAX_FILE_NODEPOOLS);
        return NULL;
    }
    hoist_daemon *d = calloc(1, sizeof *d);
    if (!d) {
        hoist_errf(err, "daemon: out of memory");
        return NULL;
    }
    d->loop = loop;
    d->cfg = *cfg;
    bool oom = false;
    d->cluster = dup_or_null(cfg->pipeline.cluster, &oom);
    d->lease_ns = dup_or_null(cfg->lease_ns, &oom);
    d->lease_name = dup_or_null(cfg->lease_name, &oom);
    d->identity = dup_or_null(cfg->identity, &oom);
    d->listen_host = dup_or_null(cfg->listen_host, &oom);
    d->policy_path = dup_or_null(cfg->policy_path, &oom);
    d->cfg.pipeline.cluster = d->cluster;
    d->cfg.lease_ns = d->lease_ns;
    d->cfg.lease_name = d->lease_name;
    d->cfg.identity = d->identity;
    d->cfg.listen_host = d->listen_host;
    d->cfg.policy_path = d->policy_path;
    d->cfg.nodepools = NULL;
    if (!d->cfg.drain_ms)
        d->cfg.drain_ms = HOIST_DAEMON_DRAIN_MS_DEFAULT;
    if (cfg->n_nodepools) {
        d->nodepools = calloc(cfg->n_nodepools, sizeof *d->nodepools);
        oom |= !d->nodepools;
        for (size_t i = 0; d->nodepools && i < cfg->n_nodepools; i++)
            d->nodepools[d->n_nodepools++] = json_incref(cfg->nodepools[i]);
    }
    d->armed_at = UINT64_MAX;
    if (oom) {
        hoist_errf(err, "daemon: out of memory");
        hoist_daemon_free(d);
        return NULL;
    }
    d->phost.abi_version = HOIST_HOST_ABI_VERSION;
    d->phost.size = sizeof d->phost;
    d->phost.ctx = d;
    d->phost.log = phost_log;
    d->phost.now_ms = phost_now;
    wrap_provider(d);
    d->source.ctx = d;
    d->source.start = source_start;
    d->source.stop = source_stop;
    uv_timer_init(loop, &d->step_timer);
    uv_timer_init(loop, &d->tick_timer);
    uv_timer_init(loop, &d->drain_timer);
    d->step_timer.data = d->tick_timer.data = d->drain_timer.data = d;
    d->open_handles = 3;
    d->http = hoist_http_new(loop, cfg->log, err);
    if (!d->http) {
        hoist_daemon_free(d);
        return NULL;
    }
    d->client.loop = loop;
    d->client.http = d->http;
    d->client.kube = cfg->kube;
    d->client.log = cfg->log;
    hoist_kube_writer_config wc;
    memset(&wc, 0, sizeof wc);
    wc.seed = cfg->seed + 101;
    hoist_kube_events_config ec;
    memset(&ec, 0, sizeof ec);
    ec.instance = d->identity;
    ec.seed = cfg->seed + 202;
    ec.pod_uid = pod_uid;
    ec.uid_arg = d;
    if (!(d->writer = hoist_kube_writer_new(&d->client, &wc, err)) ||
        !(d->events = hoist_kube_events_new(&d->client, &ec, err))) {
        hoist_daemon_free(d);
        return NULL;
    }
    d->ksink.writer = d->writer;
    d->ksink.events = d->events;
    d->ksink.is_new_node = is_new_node;
    d->ksink.arg = d;
    d->ksink.log = cfg->log;
    hoist_kube_sink_bind(&d->ksink, &d->sink);
    if (cfg->leader_election) {
        hoist_kube_lease_config lc;
        memset(&lc, 0, sizeof lc);
        lc.ns = d->lease_ns;
        lc.name = d->lease_name;
        lc.identity = d->identity;
        lc.lease_duration_s = cfg->lease_duration_s;
        lc.renew_deadline_ms = cfg->renew_deadline_ms;
        lc.retry_period_ms = cfg->retry_period_ms;
        lc.seed = cfg->seed + 303;
        lc.on_started = on_lease_started;
        lc.on_stopped = on_lease_stopped;
        lc.arg = d;
        if (!(d->lease = hoist_kube_lease_new(&d->client, &lc, err))) {
            hoist_daemon_free(d);
            return NULL;
        }
    }
    hoist_health_init(&d->health, cfg->metrics);
    return d;
}

int hoist_daemon_start(hoist_daemon *d, hoist_err *err)
{
    if (d->started)
        return 0;
    if (d->listen_host) {
        d->httpd = hoist_httpd_start(d->loop, d->listen_host, d->cfg.listen_port, d->cfg.log, err);
        if (!d->httpd)
            return hoist_err_prefix(err, "listen %s:%d", d->listen_host, d->cfg.listen_port);
        if (hoist_health_register(d->httpd, &d->health, err) < 0)
            return -1;
    }
    if (d->policy_path && d->cfg.policy) {
        if (hoist_policy_reloader_start(&d->reloader, d->loop, d->cfg.policy, d->policy_path,
                                        NULL, 0, on_reload, d, err) < 0)
            return -1;
        d->reloader_on = true;
    }
    d->started = true;
    uv_timer_start(&d->tick_timer, on_tick, TICK_MS, TICK_MS);
    if (d->lease) {
        if (hoist_kube_lease_start(d->lease, err) < 0)
            return -1;
        LOGD(d, HOIST_LOG_INFO, "competing for Lease %s/%s as %s", d->lease_ns, d->lease_name,
             hoist_kube_lease_identity(d->lease));
    } else {
        become_leader(d);
    }
    update_ready(d);
    return 0;
}

void hoist_daemon_shutdown(hoist_daemon *d, hoist_daemon_done_cb done, void *arg)
{
    if (d->shutting_down)
        return;
    d->done = done;
    d->done_arg = arg;
    d->shutting_down = true;
    LOGD(d, HOIST_LOG_INFO, "shutting down");
    stop_pipeline(d);
    d->leading = false;
    update_ready(d);
    if (d->reloader_on)
        hoist_policy_reloader_stop(&d->reloader);
    d->lease_released = true;
    if (d->lease && d->started) {
        hoist_err err = {{0}};
        d->lease_released = false;
        if (hoist_kube_lease_release(d->lease, on_released, d, &err) < 0) {
            LOGD(d, HOIST_LOG_WARN, "releasing the Lease: %s", err.msg);
            d->lease_released = true;
        }
    }
    d->drain_deadline = now_ms(d) + d->cfg.drain_ms;
    uv_timer_start(&d->drain_timer, on_drain_timer, 0, DRAIN_POLL_MS);
}

void hoist_daemon_free(hoist_daemon *d)
{
    if (!d)
        return;
    source_stop(d);
    hoist_pipeline_free(d->p);
    for (size_t i = 0; i < d->n_retiring; i++)
        hoist_pipeline_free(d->retiring[i]);
    free(d->retiring);
    hoist_kube_lease_close(d->lease);
    hoist_kube_events_close(d->events);
    hoist_kube_writer_close(d->writer);
    hoist_httpd_close(d->httpd);
    if (d->reloader_on && !hoist_policy_reloader_closed(&d->reloader))
        hoist_policy_reloader_stop(&d->reloader);
    hoist_http_close(d->http);
    for (size_t i = 0; i < d->n_nodepools; i++)
        json_decref(d->nodepools[i]);
    free(d->nodepools);
    free(d->cluster);
    free(d->lease_ns);
    free(d->lease_name);
    free(d->identity);
    free(d->listen_host);
    free(d->policy_path);
    /* the struct goes when the timers have closed (on_closed) */
    uv_close((uv_handle_t *)&d->step_timer, on_closed);
    uv_close((uv_handle_t *)&d->tick_timer, on_closed);
    uv_close((uv_handle_t *)&d->drain_timer, on_closed);
}

hoist_pipeline *hoist_daemon_pipeline(hoist_daemon *d)
{
    return d->p;
}

bool hoist_daemon_leading(const hoist_daemon *d)
{
    return d->leading;
}

bool hoist_daemon_ready(const hoist_daemon *d, const char **why)
{
    return compute_ready(d, why);
}

int hoist_daemon_port(const hoist_daemon *d)
{
    return d->httpd ? hoist_httpd_port(d->httpd) : -1;
}

const hoist_daemon_stats *hoist_daemon_get_stats(const hoist_daemon *d)
{
    return &d->stats;
}

uint64_t hoist_daemon_watch_restarts(const hoist_daemon *d)
{
    uint64_t n = 0;
    for (size_t i = 0; i < N_RESOURCES; i++)
        if (d->slots[i].r)
            n += hoist_reflector_get_stats(d->slots[i].r)->watch_restarts +
                 hoist_reflector_get_stats(d->slots[i].r)->relists;
    return n;
}

void hoist_daemon_on_step(hoist_daemon *d, hoist_daemon_step_cb cb, void *arg)
{
    d->step_cb = cb;
    d->step_arg = arg;
}
