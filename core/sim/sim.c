/*
 * sim/sim.c - the discrete-event simulator (see sim.h).
 *
 * One struct `sim` holds the world: the event heap, the virtual clock and
 * the host lent to the provider, the world's own cluster state (the truth,
 * separate from the autoscaler's view, which only learns through events),
 * the machines, the report and the autoscaler. The provider the autoscaler
 * is given is a copy of the real descriptor whose launch and terminate go
 * through this file first, so the world sees every machine.
 */
#include "sim/sim.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/catalog.h"
#include "model/labels.h"
#include "model/node_template.h"
#include "model/usage.h"
#include "sched/plan.h"
#include "sim/pdb.h"
#include "sim/trace.h"
#include "state/cluster.h"
#include "util/strmap.h"

/* ---- events ---------------------------------------------------------------- */

typedef enum ev_kind {
    EV_TRACE = 0,   /* apply the pending trace event */
    EV_TIMER,       /* a provider timer fires */
    EV_REGISTER,    /* machine id registers its Node */
    EV_READY,       /* machine id's Node turns Ready */
    EV_NOTICE,      /* machine id gets a spot interruption notice */
    EV_LOST,        /* machine id is reclaimed */
    EV_SCHEDULE,    /* the scheduler runs */
    EV_WAKE,        /* the autoscaler asked to be stepped */
    EV_END          /* the run ends */
} ev_kind;

typedef struct ev {
    uint64_t t;
    uint64_t seq;   /* FIFO among equal times */
    ev_kind kind;
    uint64_t id;    /* machine id */
    void *ptr;      /* EV_TIMER: the sim_timer */
} ev;

typedef struct sim_timer {
    hoist_timer_cb cb;
    void *arg;
    bool cancelled;
} sim_timer;

/* ---- machines ---------------------------------------------------------------- */

typedef enum machine_state { M_RUNNING = 0, M_REGISTERED, M_READY, M_GONE } machine_state;

typedef struct machine {
    uint64_t id;
    char *instance_id, *provider_id, *node, *nodepool, *instance_type, *zone;
    hoist_capacity_type capacity_type;
    double price;
    json_t *labels;          /* the request's labels (object) */
    json_t *taints;          /* the request's taints (array) */
    uint64_t launched_ms;
    machine_state state;
    bool interrupted;
    bool noticed;            /* a spot interruption notice came: its evictions are involuntary */
} machine;

/* A launch the world watches: the autoscaler's callback and what the
 * request said the Node must carry. */
typedef struct launch_watch {
    struct sim *s;
    hoist_launch_cb cb;
    void *arg;
    char *nodepool;
    json_t *labels, *taints;
} launch_watch;

typedef struct terminate_watch {
    struct sim *s;
    hoist_done_cb cb;
    void *arg;
    char *instance_id;
} terminate_watch;

typedef struct sim {
    const hoist_sim_config *cfg;
    hoist_sim_config conf;          /* with defaults applied */
    uint64_t now;
    uint64_t seq;
    ev *heap;
    size_t n_heap, cap_heap;
    uint64_t rng;
    hoist_host host;
    /* the provider */
    const hoist_provider *real;
    void *real_state;
    hoist_provider wrapped;         /* launch / terminate interposed */
    hoist_catalog catalog;
    /* the world */
    hoist_cluster world;
    size_t n_machines, cap_machines;
    machine **machines;             /* index = id - 1 (ids are never reused) */
    hoist_strmap by_instance;       /* instance id -> id */
    hoist_strmap by_node;           /* node name -> id */
    hoist_sink sink;
    hoist_event_cb watcher;         /* the autoscaler's provider-event callback */
    void *watcher_arg;
    /* the trace */
    hoist_trace *trace;
    hoist_trace_event pending_trace;
    bool have_trace, trace_done;
    uint64_t last_trace_ms;
    uint64_t end_ms;
    bool ended;
    /* the autoscaler */
    hoist_autoscaler as;
    bool as_ready;
    bool as_dirty;
    uint64_t as_wake;               /* its requested wake time */
    uint64_t wake_queued;           /* the EV_WAKE in the heap, UINT64_MAX when none */
    /* the scheduler */
    bool sched_dirty;
    bool sched_queued;
    uint64_t sched_last;
    /* PodDisruptionBudgets and invariants */
    hoist_sim_pdbs pdbs;            /* the world's PDB counts (sim/pdb.h) */
    hoist_invariants inv;           /* conf.check_invariants (sim/invariants.h) */
    hoist_report *report;
    hoist_sim_stats *stats;
    hoist_err *err;
    int failed;                     /* a fatal error (bad trace) stops the run */
} sim;

/* ---- small helpers --------------------------------------------------------- */

static uint64_t splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in [lo, hi]. */
static uint64_t draw(sim *s, uint64_t lo, uint64_t hi)
{
    if (hi <= lo)
        return lo;
    return lo + splitmix(&s->rng) % (hi - lo + 1);
}

/* Uniform in (0, 1]. */
static double draw_unit(sim *s)
{
    return ((double)(splitmix(&s->rng) >> 11) + 1.0) / 9007199254740993.0;
}

static void slog(sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void slog(sim *s, const char *fmt, ...)
{
    if (!s->conf.verbose)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "[%10.3f] ", (double)(s->now - s->conf.start_ms) / 1000.0);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static const char *jstr(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* ---- the heap ---------------------------------------------------------------- */

static bool ev_before(const ev *a, const ev *b)
{
    return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

static int push(sim *s, uint64_t t, ev_kind kind, uint64_t id, void *ptr)
{
    if (s->n_heap == s->cap_heap) {
        size_t ncap = s->cap_heap ? s->cap_heap * 2 : 1024;
        ev *g = realloc(s->heap, ncap * sizeof *g);
        if (!g)
            return -1;
        s->heap = g;
        s->cap_heap = ncap;
    }
    ev e = {t < s->now ? s->now : t, s->seq++, kind, id, ptr};
    size_t i = s->n_heap++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!ev_before(&e, &s->heap[parent]))
            break;
        s->heap[i] = s->heap[parent];
        i = parent;
    }
    s->heap[i] = e;
    return 0;
}

static ev pop(sim *s)
{
    ev top = s->heap[0];
    ev last = s->heap[--s->n_heap];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        const ev *best = &last;
        if (l < s->n_heap && ev_before(&s->heap[l], best))
            m = l, best = &s->heap[l];
        if (r < s->n_heap && ev_before(&s->heap[r], best))
            m = r;
        if (m == i)
            break;
        s->heap[i] = s->heap[m];
        i = m;
    }
    if (s->n_heap > 0)
        s->heap[i] = last;
    return top;
}

static void fail_oom(sim *s)
{
    if (!s->failed)
        hoist_errf(s->err, "simulator: out of memory");
    s->failed = 1;
}

/* ---- the host lent to the provider and the autoscaler ------------------------- */

static uint64_t host_now(void *ctx)
{
    return ((sim *)ctx)->now;
}

static void host_log(void *ctx, hoist_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void host_log(void *ctx, hoist_log_level level, const char *fmt, ...)
{
    sim *s = ctx;
    if (!s->conf.verbose && level > HOIST_LOG_ERROR)
        return;
    if (!s->conf.verbose)
        return; /* errors are counted by the callers; keep runs quiet */
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "[%10.3f] ", (double)(s->now - s->conf.start_ms) / 1000.0);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static hoist_timer *host_timer_start(void *ctx, uint64_t delay_ms, hoist_timer_cb cb, void *arg)
{
    sim *s = ctx;
    sim_timer *t = malloc(sizeof *t);
    if (!t)
        return NULL;
    t->cb = cb;
    t->arg = arg;
    t->cancelled = false;
    if (push(s, s->now + delay_ms, EV_TIMER, 0, t) < 0) {
        free(t);
        return NULL;
    }
    return (hoist_timer *)t;
}

static void host_timer_cancel(void *ctx, hoist_timer *timer)
{
    (void)ctx;
    if (timer)
        ((sim_timer *)timer)->cancelled = true;
}

static hoist_http_call *host_http(void *ctx, const hoist_http_request *req, hoist_http_cb cb,
                                  void *arg)
{
    (void)ctx, (void)req, (void)cb, (void)arg;
    return NULL; /* no network in a simulation */
}

static void host_http_cancel(void *ctx, hoist_http_call *call)
{
    (void)ctx, (void)call;
}

static void host_counter(void *ctx, const char *name, const char *help, const hoist_kv *labels,
                         size_t n_labels, double delta)
{
    (void)ctx, (void)name, (void)help, (void)labels, (void)n_labels, (void)delta;
}

static void host_gauge(void *ctx, const char *name, const char *help, const hoist_kv *labels,
                       size_t n_labels, double value)
{
    (void)ctx, (void)name, (void)help, (void)labels, (void)n_labels, (void)value;
}

static void host_init(sim *s)
{
    memset(&s->host, 0, sizeof s->host);
    s->host.abi_version = HOIST_HOST_ABI_VERSION;
    s->host.size = sizeof s->host;
    s->host.ctx = s;
    s->host.log = host_log;
    s->host.now_ms = host_now;
    s->host.timer_start = host_timer_start;
    s->host.timer_cancel = host_timer_cancel;
    s->host.http_request = host_http;
    s->host.http_cancel = host_http_cancel;
    s->host.metric_counter_add = host_counter;
    s->host.metric_gauge_set = host_gauge;
}

/* ---- the world's objects and the autoscaler's view ----------------------------- */

/* Tell the autoscaler an object change (text: obj as the world stored it,
 * or NULL). */
static void deliver(sim *s, hoist_object_op op, const json_t *obj, const char *text)
{
    if (!s->as_ready)
        return;
    hoist_object_event oe = {op, obj, text, false};
    s->as.observe(s->as.ctx, &oe);
    s->as_dirty = true;
}

/* The world's current object as JSON (a new reference), or NULL. */
static json_t *world_json(sim *s, const char *kind, const char *ns, const char *name)
{
    const char *text = hoist_cluster_text(&s->world, kind, ns, name);
    return text ? json_loads(text, 0, NULL) : NULL;
}

/* Apply obj to the world and pass it on. */
static int world_apply(sim *s, hoist_object_op op, const json_t *obj)
{
    /* keep: no caller changes obj after applying it (trace objects, the
     * rebuilt pods of unbind, nodes), so the world may keep pending pods'
     * objects and bind them without parsing their text */
    hoist_object_event oe = {.op = op, .object = obj, .keep = true};
    hoist_err err = {{0}};
    if (hoist_cluster_apply(&s->world, &oe, &err) < 0) {
        slog(s, "world refused an object: %s", err.msg);
        return -1;
    }
    const json_t *md = json_object_get(obj, "metadata");
    if (hoist_sim_pdbs_changed(&s->pdbs, &s->world, jstr(obj, "kind"), jstr(md, "namespace"),
                               jstr(md, "name")) < 0)
        slog(s, "PodDisruptionBudget counts: out of memory (rebuilt at the next change)");
    /* the world's compact text of it, so the autoscaler's store need not
     * dump it again */
    const char *text = NULL;
    if (op != HOIST_OBJECT_DELETE)
        text = hoist_cluster_text(&s->world, jstr(obj, "kind"), jstr(md, "namespace"),
                                  jstr(md, "name"));
    deliver(s, op, obj, text);
    return 0;
}

static double cpu_cores(const hoist_pod *p)
{
    return (double)p->requests.v[HOIST_RES_CPU] / 1000.0;
}

static double memory_bytes(const hoist_pod *p)
{
    return (double)p->requests.v[HOIST_RES_MEMORY] / 1000.0;
}

/* Make pod ns/name pending again (its node went away or it was evicted). */
static void unbind(sim *s, const char *ns, const char *name)
{
    json_t *pod = world_json(s, "Pod", ns, name);
    if (!pod)
        return;
    json_t *spec = json_object_get(pod, "spec");
    json_object_del(spec, "nodeName");
    json_t *status = json_object_get(pod, "status");
    if (!json_is_object(status)) {
        status = json_object();
        json_object_set_new(pod, "status", status);
    }
    json_object_set_new(status, "phase", json_string("Pending"));
    if (world_apply(s, HOIST_OBJECT_UPDATE, pod) == 0) {
        char key[512];
        snprintf(key, sizeof key, "%s/%s", ns, name);
        hoist_report_pod_evicted(s->report, s->now, key);
        s->stats->pods_evicted++;
        s->sched_dirty = true;
    }
    json_decref(pod);
}

/* Evict every pod bound to node (it is going away). */
static void evict_all_on(sim *s, const char *node)
{
    hoist_objects *o = hoist_cluster_objects(&s->world);
    if (!o->usage) {
        fail_oom(s);
        return;
    }
    const hoist_node_usage *u = hoist_usage_of(o->usage, node);
    size_t n = 0;
    char (*keys)[2][256] = NULL;
    for (size_t i = 0; u && i < u->n_pods; i++) {
        const hoist_pod *p = u->pods[i];
        if (!p->daemonset_owned) {
            void *g = realloc(keys, (n + 1) * sizeof *keys);
            if (!g) {
                fail_oom(s);
                break;
            }
            keys = g;
            snprintf(keys[n][0], 256, "%s", p->ns);
            snprintf(keys[n][1], 256, "%s", p->name);
            n++;
        }
    }
    for (size_t i = 0; i < n; i++)
        unbind(s, keys[i][0], keys[i][1]);
    free(keys);
}

static void delete_node_object(sim *s, const char *node)
{
    if (!hoist_cluster_find_node(&s->world, node))
        return;
    evict_all_on(s, node);
    json_t *ref = hoist_object_ref(NULL, "Node", NULL, node);
    if (!ref) {
        fail_oom(s);
        return;
    }
    world_apply(s, HOIST_OBJECT_DELETE, ref);
    json_decref(ref);
}

/* ---- machines ------------------------------------------------------------------ */

static machine *machine_by_id(sim *s, uint64_t id)
{
    return id >= 1 && id <= s->n_machines ? s->machines[id - 1] : NULL;
}

static machine *machine_by(sim *s, const hoist_strmap *m, const char *key)
{
    int64_t id;
    return key && hoist_strmap_get(m, key, &id) ? machine_by_id(s, (uint64_t)id) : NULL;
}

static void invariants_disrupting(sim *s, const machine *m, bool tainted);

/* Workload pods bound to node now. */
static uint64_t count_bound_on(sim *s, const char *node)
{
    hoist_objects *o = hoist_cluster_objects(&s->world);
    uint64_t n = 0;
    for (size_t i = 0; i < o->n_pods; i++)
        if (o->pods[i]->node_name && strcmp(o->pods[i]->node_name, node) == 0 &&
            !o->pods[i]->daemonset_owned)
            n++;
    return n;
}

/* The machine is gone (terminated or reclaimed): bill it, drop its Node. */
static void machine_gone(sim *s, machine *m, bool interrupted)
{
    if (m->state == M_GONE)
        return;
    m->state = M_GONE;
    m->interrupted = interrupted;
    s->stats->machine_cost += m->price * (double)(s->now - m->launched_ms) / 3600000.0;
    if (interrupted)
        s->stats->machines_interrupted++;
    else
        s->stats->machines_terminated++;
    hoist_report_node_terminated(s->report, s->now, m->node, interrupted);
    if (s->conf.check_invariants)
        hoist_invariants_disrupt_end(&s->inv, m->node);
    if (interrupted)
        s->stats->pods_lost += count_bound_on(s, m->node);
    delete_node_object(s, m->node);
    slog(s, "machine %s (%s) %s", m->node, m->instance_type,
         interrupted ? "reclaimed (spot interruption)" : "terminated");
}

static void on_launch_done(void *arg, const hoist_error *err, const hoist_machine *hm,
                           const hoist_launch_offering *exhausted, size_t n_exhausted)
{
    launch_watch *w = arg;
    sim *s = w->s;
    if (!err && hm && !s->ended) {
        if (s->n_machines == s->cap_machines) {
            size_t ncap = s->cap_machines ? s->cap_machines * 2 : 64;
            machine **g = realloc(s->machines, ncap * sizeof *g);
            if (!g) {
                fail_oom(s);
                goto answer;
            }
            s->machines = g;
            s->cap_machines = ncap;
        }
        machine *m = calloc(1, sizeof *m);
        if (!m) {
            fail_oom(s);
            goto answer;
        }
        char node[200];
        snprintf(node, sizeof node, "ip-%s", hm->instance_id);
        m->id = s->n_machines + 1;
        m->instance_id = strdup(hm->instance_id);
        m->provider_id = strdup(hm->provider_id);
        m->node = strdup(node);
        m->nodepool = strdup(w->nodepool);
        m->instance_type = strdup(hm->instance_type);
        m->zone = strdup(hm->zone);
        m->capacity_type = hm->capacity_type;
        m->price = hm->price;
        m->labels = json_incref(w->labels);
        m->taints = json_incref(w->taints);
        m->launched_ms = s->now;
        s->machines[s->n_machines++] = m;
        if (!m->instance_id || !m->provider_id || !m->node || !m->nodepool ||
            !m->instance_type || !m->zone ||
            hoist_strmap_put(&s->by_instance, m->instance_id, (int64_t)m->id) < 0 ||
            hoist_strmap_put(&s->by_node, m->node, (int64_t)m->id) < 0) {
            fail_oom(s);
            goto answer;
        }
        s->stats->machines_launched++;
        const hoist_instance_type *it = hoist_catalog_find(&s->catalog, m->instance_type);
        double cpu = 0, mem = 0;
        if (it) {
            cpu = it->vcpus;
            mem = (double)it->memory_mib * 1048576.0;
        }
        hoist_report_node_launched(s->report, s->now, m->node, m->nodepool, m->instance_type,
                                   hoist_capacity_type_name(m->capacity_type), m->price, cpu,
                                   mem);
        push(s, s->now + draw(s, s->conf.register_min_ms, s->conf.register_max_ms), EV_REGISTER,
             m->id, NULL);
        if (m->capacity_type == HOIST_CAPACITY_SPOT && s->conf.spot_interruptions_per_hour > 0) {
            double hours = -log(draw_unit(s)) / s->conf.spot_interruptions_per_hour;
            uint64_t at = s->now + (uint64_t)(hours * 3600000.0);
            push(s, at, EV_NOTICE, m->id, NULL);
        }
        slog(s, "launched %s: %s %s %s $%.4f/h for %s", m->node, m->instance_type, m->zone,
             hoist_capacity_type_name(m->capacity_type), m->price, m->nodepool);
    } else if (!s->ended) {
        s->stats->launch_failures++;
    }
answer:
    w->cb(w->arg, err, hm, exhausted, n_exhausted);
    json_decref(w->labels);
    json_decref(w->taints);
    free(w->nodepool);
    free(w);
}

static hoist_status wrapped_launch(void *state, const hoist_launch_request *req,
                                   hoist_launch_cb cb, void *arg, hoist_error *err)
{
    sim *s = state;
    launch_watch *w = calloc(1, sizeof *w);
    if (!w)
        return hoist_error_set(err, HOIST_E_INTERNAL, "simulator: out of memory");
    w->s = s;
    w->cb = cb;
    w->arg = arg;
    w->nodepool = strdup(req->nodepool ? req->nodepool : "");
    w->labels = json_object();
    w->taints = json_array();
    for (size_t i = 0; w->labels && i < req->n_labels; i++)
        json_object_set_new(w->labels, req->labels[i].key, json_string(req->labels[i].value));
    for (size_t i = 0; w->taints && i < req->n_taints; i++) {
        const hoist_taint *t = &req->taints[i];
        json_t *tj = json_pack("{s:s, s:s}", "key", t->key, "effect",
                               hoist_taint_effect_name(t->effect));
        if (tj && t->value && *t->value)
            json_object_set_new(tj, "value", json_string(t->value));
        json_array_append_new(w->taints, tj);
    }
    if (!w->nodepool || !w->labels || !w->taints) {
        json_decref(w->labels);
        json_decref(w->taints);
        free(w->nodepool);
        free(w);
        return hoist_error_set(err, HOIST_E_INTERNAL, "simulator: out of memory");
    }
    hoist_status st = s->real->launch(s->real_state, req, on_launch_done, w, err);
    if (st != HOIST_OK) {
        json_decref(w->labels);
        json_decref(w->taints);
        free(w->nodepool);
        free(w);
    }
    return st;
}

static void on_terminate_done(void *arg, const hoist_error *err)
{
    terminate_watch *w = arg;
    sim *s = w->s;
    if ((!err || err->code == HOIST_E_NOT_FOUND) && !s->ended) {
        machine *m = machine_by(s, &s->by_instance, w->instance_id);
        if (m)
            machine_gone(s, m, false);
    }
    if (w->cb)
        w->cb(w->arg, err);
    free(w->instance_id);
    free(w);
}

static hoist_status wrapped_terminate(void *state, const char *instance_id, hoist_done_cb cb,
                                      void *arg, hoist_error *err)
{
    sim *s = state;
    terminate_watch *w = calloc(1, sizeof *w);
    if (!w || !(w->instance_id = strdup(instance_id ? instance_id : ""))) {
        free(w);
        return hoist_error_set(err, HOIST_E_INTERNAL, "simulator: out of memory");
    }
    w->s = s;
    w->cb = cb;
    w->arg = arg;
    if (s->conf.check_invariants)
        invariants_disrupting(s, machine_by(s, &s->by_instance, instance_id), false);
    hoist_status st = s->real->terminate(s->real_state, instance_id, on_terminate_done, w, err);
    if (st != HOIST_OK) {
        free(w->instance_id);
        free(w);
    }
    return st;
}

/* The autoscaler subscribes to machine events: the world's interruption
 * notices reach it through here. */
static hoist_status wrapped_watch_events(void *state, hoist_event_cb cb, void *arg,
                                         hoist_error *err)
{
    sim *s = state;
    if (!cb)
        return hoist_error_set(err, HOIST_E_INVALID, "watch_events: a callback is required");
    s->watcher = cb;
    s->watcher_arg = arg;
    return HOIST_OK;
}

/* Pass-throughs for the rest of the descriptor. */
static hoist_status wrapped_catalog(void *state, hoist_catalog_cb cb, void *arg, hoist_error *err)
{
    sim *s = state;
    return s->real->catalog(s->real_state, cb, arg, err);
}

static hoist_status wrapped_list(void *state, const hoist_kv *filter, size_t n_filter,
                                 hoist_list_cb cb, void *arg, hoist_error *err)
{
    sim *s = state;
    return s->real->list(s->real_state, filter, n_filter, cb, arg, err);
}

static void world_register(sim *s, machine *m)
{
    if (m->state != M_RUNNING)
        return;
    const hoist_instance_type *it = hoist_catalog_find(&s->catalog, m->instance_type);
    if (!it) {
        slog(s, "machine %s: type %s not in the catalog; it never registers", m->node,
             m->instance_type);
        return;
    }
    hoist_node_template t = {
        .name = m->node,
        .nodepool = m->nodepool,
        .type = it,
        .zone = m->zone,
        .capacity_type = m->capacity_type,
        .labels = m->labels,
        .taints = m->taints,
        .provider_id = m->provider_id,
        .ready = false,
        .created_s = (int64_t)(s->now / 1000),
    };
    hoist_err err = {{0}};
    json_t *node = hoist_node_template_json(hoist_cluster_objects(&s->world), &t, &err);
    if (!node) {
        slog(s, "machine %s: %s", m->node, err.msg);
        return;
    }
    if (world_apply(s, HOIST_OBJECT_ADD, node) == 0) {
        m->state = M_REGISTERED;
        push(s, s->now + draw(s, s->conf.ready_min_ms, s->conf.ready_max_ms), EV_READY, m->id,
             NULL);
    }
    json_decref(node);
}

/* Ready: the condition turns True and the NodePool's startup taints go. */
static void world_ready(sim *s, machine *m)
{
    if (m->state != M_REGISTERED)
        return;
    json_t *node = world_json(s, "Node", NULL, m->node);
    if (!node)
        return;
    json_t *cond = json_array_get(json_object_get(json_object_get(node, "status"), "conditions"),
                                  0);
    json_object_set_new(cond, "status", json_string("True"));
    const hoist_nodepool *np =
        hoist_objects_find_nodepool(hoist_cluster_objects(&s->world), m->nodepool);
    json_t *taints = json_object_get(json_object_get(node, "spec"), "taints");
    if (np && json_is_array(taints)) {
        for (size_t i = json_array_size(taints); i-- > 0;) {
            const char *key = jstr(json_array_get(taints, i), "key");
            for (size_t k = 0; key && k < np->startup_taints.n; k++)
                if (strcmp(np->startup_taints.items[k].key, key) == 0) {
                    json_array_remove(taints, i);
                    break;
                }
        }
    }
    if (world_apply(s, HOIST_OBJECT_UPDATE, node) == 0) {
        m->state = M_READY;
        hoist_report_node_ready(s->report, s->now, m->node);
        s->sched_dirty = true;
    }
    json_decref(node);
}

/* ---- invariants ------------------------------------------------------------------ */

/* Machine m's node starts being disrupted (tainted: by the disrupted taint,
 * else by its termination): tell the checker (sim/invariants.h). Machines
 * whose Node never registered are not nodes being disrupted. Walks the
 * machines once to size percent budgets: only when a disruption starts. */
static void invariants_disrupting(sim *s, const machine *m, bool tainted)
{
    if (!m || (m->state != M_REGISTERED && m->state != M_READY))
        return;
    size_t alive = 0;
    for (size_t i = 0; i < s->n_machines; i++)
        alive += s->machines[i]->state != M_GONE &&
                 strcmp(s->machines[i]->nodepool, m->nodepool) == 0;
    hoist_invariant_node n = {
        .name = m->node,
        .nodepool = hoist_objects_find_nodepool(hoist_cluster_objects(&s->world), m->nodepool),
        .launched_ms = m->launched_ms,
        .pool_machines = alive,
        .noticed = m->noticed,
        .tainted = tainted,
    };
    if (hoist_invariants_disrupt_start(&s->inv, &n, s->now) < 0)
        fail_oom(s);
}

/* ---- the sink: the autoscaler's writes ----------------------------------------- */

static int sink_taint(void *ctx, const char *node_name, const char *key, const char *value,
                      hoist_taint_effect effect, bool add)
{
    sim *s = ctx;
    json_t *node = world_json(s, "Node", NULL, node_name);
    if (!node)
        return -1;
    json_t *spec = json_object_get(node, "spec");
    json_t *taints = json_object_get(spec, "taints");
    if (!json_is_array(taints)) {
        taints = json_array();
        json_object_set_new(spec, "taints", taints);
    }
    const char *eff = hoist_taint_effect_name(effect);
    bool found = false;
    for (size_t i = json_array_size(taints); i-- > 0;) {
        const json_t *t = json_array_get(taints, i);
        const char *k = jstr(t, "key"), *e = jstr(t, "effect");
        if (k && e && strcmp(k, key) == 0 && strcmp(e, eff) == 0) {
            found = true;
            if (!add)
                json_array_remove(taints, i);
        }
    }
    if (add && !found) {
        json_t *t = json_pack("{s:s, s:s}", "key", key, "effect", eff);
        if (t && value && *value)
            json_object_set_new(t, "value", json_string(value));
        json_array_append_new(taints, t);
    }
    int rc = 0;
    if (add != found)
        rc = world_apply(s, HOIST_OBJECT_UPDATE, node);
    if (!add && found)
        s->sched_dirty = true;
    json_decref(node);
    if (rc == 0 && s->conf.check_invariants && strcmp(key, HOIST_TAINT_DISRUPTED) == 0) {
        if (add)
            invariants_disrupting(s, machine_by(s, &s->by_node, node_name), true);
        else
            hoist_invariants_disrupt_end(&s->inv, node_name);
    }
    return rc;
}

/* Evict pod ns/name as the Eviction API does: refused (1) while a
 * PodDisruptionBudget allows no disruption, unless the pod's machine is
 * being reclaimed (an interruption is involuntary). */
static int sink_evict(void *ctx, const char *ns, const char *name)
{
    sim *s = ctx;
    const hoist_pod *p = hoist_cluster_find_pod(&s->world, ns, name);
    if (!p || !p->node_name)
        return 0; /* gone already, or not running: nothing to evict */
    const machine *m = machine_by(s, &s->by_node, p->node_name);
    bool voluntary = !(m && m->noticed);
    if (voluntary && !s->conf.evictions_ignore_pdbs) {
        char why[300];
        if (hoist_sim_pdbs_check(&s->pdbs, p, why, sizeof why) == 1) {
            s->stats->evictions_refused++;
            slog(s, "eviction of %s/%s refused: %s", ns, name, why);
            return 1;
        }
    }
    if (voluntary && s->conf.check_invariants &&
        hoist_invariants_evicting(&s->inv, &s->pdbs, p) < 0)
        fail_oom(s);
    unbind(s, ns, name);
    return 0;
}

static int sink_delete_node(void *ctx, const char *node)
{
    sim *s = ctx;
    machine *m = machine_by(s, &s->by_node, node);
    if (m && m->state != M_GONE) {
        /* the Node object goes; the machine stays billed until terminated */
        delete_node_object(s, node);
        return 0;
    }
    delete_node_object(s, node);
    if (!m && s->conf.check_invariants)
        hoist_invariants_disrupt_end(&s->inv, node);
    return 0;
}

static void sink_nominated(void *ctx, const char *ns, const char *name, const char *node)
{
    sim *s = ctx;
    slog(s, "nominated %s/%s for %s", ns, name, node);
}

static void sink_unschedulable(void *ctx, const char *ns, const char *name, const char *reason)
{
    sim *s = ctx;
    slog(s, "cannot help %s/%s: %s", ns, name, reason);
}

/* ---- the scheduler ------------------------------------------------------------- */

typedef struct pending_bind {
    char ns[256], name[256], node[256];
} pending_bind;

static void run_scheduler(sim *s)
{
    s->stats->scheduler_runs++;
    s->sched_last = s->now;
    s->sched_dirty = false;
    hoist_objects *o = hoist_cluster_objects(&s->world);
    if (o->usage && !hoist_usage_room_for_waiting(o->usage, o)) {
        /* no Ready node has room for even the smallest pending request:
         * the pass would bind nothing (most runs while pods wait for new
         * machines) */
        s->stats->scheduler_skipped++;
        return;
    }
    hoist_plan_options opts;
    memset(&opts, 0, sizeof opts);
    opts.existing_only = true;
    hoist_plan plan;
    hoist_err err = {{0}};
    if (hoist_plan_compute(o, &s->catalog, &opts, &plan, &err) < 0) {
        slog(s, "scheduler: %s", err.msg);
        return;
    }
    size_t n = 0;
    for (size_t i = 0; i < plan.n_existing; i++)
        n += plan.existing[i].n_pods;
    pending_bind *binds = calloc(n + 1, sizeof *binds);
    if (!binds) {
        hoist_plan_free(&plan);
        fail_oom(s);
        return;
    }
    n = 0;
    for (size_t i = 0; i < plan.n_existing; i++)
        for (size_t j = 0; j < plan.existing[i].n_pods; j++) {
            const hoist_pod *p = plan.existing[i].pods[j];
            snprintf(binds[n].ns, sizeof binds[n].ns, "%s", p->ns);
            snprintf(binds[n].name, sizeof binds[n].name, "%s", p->name);
            snprintf(binds[n].node, sizeof binds[n].node, "%s", plan.existing[i].node->name);
            n++;
        }
    hoist_plan_free(&plan);
    for (size_t i = 0; i < n; i++) {
        json_t *pod = NULL;
        if (hoist_cluster_bind_object(&s->world, binds[i].ns, binds[i].name, binds[i].node,
                                      &pod) != 0)
            continue;
        if (hoist_sim_pdbs_changed(&s->pdbs, &s->world, "Pod", binds[i].ns, binds[i].name) < 0)
            slog(s, "PodDisruptionBudget counts: out of memory (rebuilt at the next change)");
        if (pod) {
            deliver(s, HOIST_OBJECT_UPDATE, pod,
                    hoist_cluster_text(&s->world, "Pod", binds[i].ns, binds[i].name));
            json_decref(pod);
        }
        char key[520];
        snprintf(key, sizeof key, "%s/%s", binds[i].ns, binds[i].name);
        hoist_report_pod_bound(s->report, s->now, key, binds[i].node);
        slog(s, "bound %s to %s", key, binds[i].node);
        s->stats->binds++;
    }
    free(binds);
}

/* ---- the trace ------------------------------------------------------------------ */

/* Read the next trace event and queue it (or the end of the run). */
static void queue_trace(sim *s)
{
    int rc = hoist_trace_next(s->trace, &s->pending_trace, s->err);
    if (rc < 0) {
        s->failed = 1;
        return;
    }
    if (rc == 0) {
        s->trace_done = true;
        s->have_trace = false;
        if (s->conf.end_after_ms == 0) {
            s->end_ms = s->last_trace_ms + s->conf.tail_ms;
            push(s, s->end_ms, EV_END, 0, NULL);
        }
        return;
    }
    s->have_trace = true;
    uint64_t at = s->conf.start_ms + s->pending_trace.at_ms;
    s->last_trace_ms = at;
    push(s, at, EV_TRACE, 0, NULL);
}

static void apply_trace(sim *s)
{
    hoist_trace_event *te = &s->pending_trace;
    s->stats->trace_events++;
    const json_t *obj = te->object;
    const char *kind = jstr(obj, "kind");
    bool is_pod = !kind || strcmp(kind, "Pod") == 0;
    const json_t *md = json_object_get(obj, "metadata");
    const char *ns = jstr(md, "namespace"), *name = jstr(md, "name");
    ns = ns && *ns ? ns : "default";
    char key[520];
    snprintf(key, sizeof key, "%s/%s", ns, name ? name : "");
    if (te->op == HOIST_OBJECT_DELETE) {
        if (is_pod) {
            const hoist_pod *p = hoist_cluster_find_pod(&s->world, ns, name);
            if (!p) {
                slog(s, "trace line %zu deletes %s, which does not exist", te->line, key);
                return;
            }
        }
        if (world_apply(s, HOIST_OBJECT_DELETE, obj) == 0 && is_pod) {
            hoist_report_pod_deleted(s->report, s->now, key);
            s->stats->pods_deleted++;
            s->sched_dirty = true;
        }
        return;
    }
    bool existed = is_pod && hoist_cluster_find_pod(&s->world, ns, name);
    if (world_apply(s, te->op, obj) < 0) {
        slog(s, "trace line %zu: object refused", te->line);
        return;
    }
    if (is_pod) {
        const hoist_pod *p = hoist_cluster_find_pod(&s->world, ns, name);
        if (p && !existed) {
            hoist_report_pod_added(s->report, s->now, key, cpu_cores(p), memory_bytes(p));
            s->stats->pods_added++;
            if (p->node_name)
                hoist_report_pod_bound(s->report, s->now, key, p->node_name);
        }
        s->sched_dirty = true;
    }
}

/* ---- the loop ------------------------------------------------------------------ */

/* Make sure an EV_WAKE is queued no later than the autoscaler's wake time. */
static void queue_wake(sim *s)
{
    uint64_t wake = s->as_wake;
    if (wake != UINT64_MAX && wake < s->wake_queued) {
        s->wake_queued = wake <= s->now ? s->now + 1 : wake;
        if (push(s, s->wake_queued, EV_WAKE, 0, NULL) < 0)
            fail_oom(s);
    }
}

static void step_autoscaler(sim *s)
{
    if (!s->as_dirty && s->now < s->as_wake) {
        /* not due yet: an earlier wake may have fired and taken the
         * queued one, so queue the one it asked for */
        queue_wake(s);
        return;
    }
    s->as_dirty = false;
    uint64_t wake = UINT64_MAX;
    hoist_err err = {{0}};
    s->stats->autoscaler_steps++;
    if (s->as.step(s->as.ctx, &wake, &err) < 0) {
        s->stats->autoscaler_errors++;
        slog(s, "%s: %s", s->as.name, err.msg);
    }
    s->as_wake = wake;
    queue_wake(s);
}

static void ignore_done(void *arg, const hoist_error *err)
{
    (void)arg, (void)err;
}

static void handle(sim *s, const ev *e)
{
    machine *m = machine_by_id(s, e->id);
    switch (e->kind) {
    case EV_TRACE:
        apply_trace(s);
        queue_trace(s);
        break;
    case EV_TIMER: {
        sim_timer *t = e->ptr;
        if (!t->cancelled)
            t->cb(t->arg);
        free(t);
        break;
    }
    case EV_REGISTER:
        if (m)
            world_register(s, m);
        break;
    case EV_READY:
        if (m)
            world_ready(s, m);
        break;
    case EV_NOTICE:
        if (m && m->state != M_GONE) {
            slog(s, "spot interruption notice for %s", m->node);
            s->stats->interruption_notices++;
            m->noticed = true;
            uint64_t deadline = s->now + s->conf.interruption_notice_ms;
            push(s, deadline, EV_LOST, m->id, NULL);
            if (s->watcher && s->as_ready) {
                hoist_event note = {sizeof note, HOIST_EVENT_SPOT_INTERRUPTION, m->instance_id,
                                  HOIST_MACHINE_RUNNING, deadline};
                s->watcher(s->watcher_arg, &note);
                s->as_dirty = true;
            }
        }
        break;
    case EV_LOST:
        if (m && m->state != M_GONE) {
            /* the cloud takes it back: tell the provider, then the world */
            hoist_error perr;
            memset(&perr, 0, sizeof perr);
            s->real->terminate(s->real_state, m->instance_id, ignore_done, NULL, &perr);
            machine_gone(s, m, true);
        }
        break;
    case EV_SCHEDULE:
        s->sched_queued = false;
        run_scheduler(s);
        break;
    case EV_WAKE:
        if (e->t == s->wake_queued)
            s->wake_queued = UINT64_MAX;
        break;
    case EV_END:
        s->ended = true;
        break;
    }
}

static void apply_defaults(hoist_sim_config *c)
{
    if (!c->start_ms)
        c->start_ms = HOIST_SIM_EPOCH_MS;
    if (!c->tail_ms)
        c->tail_ms = 30u * 60u * 1000u;
    if (!c->register_min_ms && !c->register_max_ms) {
        c->register_min_ms = 20000;
        c->register_max_ms = 40000;
    }
    if (!c->ready_min_ms && !c->ready_max_ms) {
        c->ready_min_ms = 5000;
        c->ready_max_ms = 15000;
    }
    if (!c->interruption_notice_ms)
        c->interruption_notice_ms = 120000;
    if (!c->schedule_interval_ms)
        c->schedule_interval_ms = 1000;
    if (!c->report_step_ms)
        c->report_step_ms = HOIST_REPORT_STEP_MS_DEFAULT;
}

typedef struct catalog_wait {
    hoist_catalog *out;
    int rc;
    bool done;
    hoist_err *err;
} catalog_wait;

static void on_catalog(void *arg, const hoist_error *e, const hoist_instance_type *types,
                       size_t n)
{
    catalog_wait *w = arg;
    w->done = true;
    w->rc = e ? hoist_errf(w->err, "provider catalog: %s", e->message)
              : hoist_catalog_copy(w->out, types, n, w->err);
}

/* Run timers until the catalog arrives (the provider answers on its host). */
static int fetch_catalog(sim *s)
{
    catalog_wait w = {&s->catalog, 0, false, s->err};
    hoist_error e;
    memset(&e, 0, sizeof e);
    if (s->real->catalog(s->real_state, on_catalog, &w, &e) != HOIST_OK)
        return hoist_errf(s->err, "provider catalog: %s", e.message);
    while (!w.done && s->n_heap > 0) {
        ev x = pop(s);
        s->now = x.t > s->now ? x.t : s->now;
        handle(s, &x);
    }
    if (!w.done)
        return hoist_errf(s->err, "the provider never answered the catalog request");
    return w.rc;
}

static int start_autoscaler(sim *s, const hoist_sim_inputs *in)
{
    hoist_pipeline_env env;
    memset(&env, 0, sizeof env);
    env.host = &s->host;
    env.provider = &s->wrapped;
    env.provider_state = s;
    env.sink = &s->sink;
    env.catalog = &s->catalog;
    int rc;
    switch (in->kind) {
    case HOIST_SIM_CLUSTER_AUTOSCALER: {
        hoist_ca_config ca;
        memset(&ca, 0, sizeof ca);
        if (in->ca)
            ca = *in->ca;
        if (!ca.cluster)
            ca.cluster = "sim";
        rc = hoist_autoscaler_cluster_autoscaler(&env, &ca, &s->as, s->err);
        break;
    }
    case HOIST_SIM_CLUSTERMAN: {
        hoist_clusterman_config cm;
        memset(&cm, 0, sizeof cm);
        if (in->clusterman)
            cm = *in->clusterman;
        if (!cm.cluster)
            cm.cluster = "sim";
        rc = hoist_autoscaler_clusterman(&env, &cm, &s->as, s->err);
        break;
    }
    default: {
        hoist_pipeline_config pc;
        memset(&pc, 0, sizeof pc);
        if (in->pipeline)
            pc = *in->pipeline;
        if (!pc.cluster)
            pc.cluster = "sim";
        rc = hoist_autoscaler_hoist(&env, &pc, in->policy, &s->as, s->err);
        break;
    }
    }
    if (rc < 0)
        return -1;
    s->as_ready = true;
    return 0;
}

static void sim_free(sim *s)
{
    s->watcher = NULL; /* the autoscaler goes: no event may reach it */
    if (s->as_ready && s->as.destroy)
        s->as.destroy(s->as.ctx);
    s->as_ready = false;
    if (s->real_state)
        s->real->destroy(s->real_state);
    for (size_t i = 0; i < s->n_heap; i++)
        if (s->heap[i].kind == EV_TIMER)
            free(s->heap[i].ptr);
    free(s->heap);
    for (size_t i = 0; i < s->n_machines; i++) {
        machine *m = s->machines[i];
        free(m->instance_id);
        free(m->provider_id);
        free(m->node);
        free(m->nodepool);
        free(m->instance_type);
        free(m->zone);
        json_decref(m->labels);
        json_decref(m->taints);
        free(m);
    }
    free(s->machines);
    hoist_strmap_free(&s->by_instance);
    hoist_strmap_free(&s->by_node);
    hoist_sim_pdbs_free(&s->pdbs);
    hoist_invariants_free(&s->inv);
    hoist_cluster_free(&s->world);
    hoist_catalog_free(&s->catalog);
    if (s->trace)
        hoist_trace_close(s->trace);
}

int hoist_sim_run(const hoist_sim_config *cfg, const hoist_sim_inputs *in, hoist_report **report,
                  hoist_sim_stats *stats, hoist_err *err)
{
    *report = NULL;
    memset(stats, 0, sizeof *stats);
    sim s;
    memset(&s, 0, sizeof s);
    s.cfg = cfg;
    if (cfg)
        s.conf = *cfg;
    apply_defaults(&s.conf);
    s.now = s.conf.start_ms;
    s.rng = s.conf.seed ^ 0x5deece66dull;
    s.stats = stats;
    s.err = err;
    s.as_wake = UINT64_MAX;
    s.wake_queued = UINT64_MAX;
    host_init(&s);
    hoist_cluster_init(&s.world);
    hoist_catalog_init(&s.catalog);
    hoist_strmap_init(&s.by_instance);
    hoist_strmap_init(&s.by_node);
    hoist_sim_pdbs_init(&s.pdbs);
    hoist_invariants_init(&s.inv, s.conf.start_ms, s.conf.verbose);
    s.sink = (hoist_sink){&s, sink_nominated, sink_unschedulable, sink_taint, sink_evict,
                          sink_delete_node};
    hoist_report_config rc = {s.conf.start_ms, s.conf.report_step_ms,
                              hoist_sim_autoscaler_name(in->kind)};
    s.report = hoist_report_new(&rc);
    int result = -1;
    if (!s.report) {
        hoist_errf(err, "simulator: out of memory");
        goto done;
    }
    if (!in->provider || !in->trace_path) {
        hoist_errf(err, "simulator: a provider and a trace are required");
        goto done;
    }
    s.real = in->provider;
    s.wrapped = *in->provider;
    s.wrapped.launch = wrapped_launch;
    s.wrapped.terminate = wrapped_terminate;
    s.wrapped.catalog = wrapped_catalog;
    s.wrapped.list = wrapped_list;
    /* interruptions come from the world (sim.h), as provider events */
    s.wrapped.watch_events = wrapped_watch_events;
    s.wrapped.control = NULL;
    s.wrapped.capabilities |= HOIST_CAP_EVENTS;
    s.wrapped.capabilities &= ~(uint64_t)HOIST_CAP_CONTROL;
    hoist_error perr;
    memset(&perr, 0, sizeof perr);
    if (s.real->init(&s.host, in->provider_config ? in->provider_config : "{}", &s.real_state,
                     &perr) != HOIST_OK) {
        s.real_state = NULL;
        hoist_errf(err, "provider %s: %s", s.real->name, perr.message);
        goto done;
    }
    if (fetch_catalog(&s) < 0)
        goto done;
    s.trace = hoist_trace_open(in->trace_path, err);
    if (!s.trace)
        goto done;
    if (start_autoscaler(&s, in) < 0)
        goto done;
    /* the -f objects exist from the start */
    size_t i;
    const json_t *obj;
    json_array_foreach(in->objects, i, obj)
    {
        if (world_apply(&s, HOIST_OBJECT_ADD, obj) < 0)
            continue;
        const char *kind = jstr(obj, "kind");
        if (kind && strcmp(kind, "Pod") == 0) {
            const json_t *md = json_object_get(obj, "metadata");
            const char *ns = jstr(md, "namespace"), *name = jstr(md, "name");
            ns = ns && *ns ? ns : "default";
            const hoist_pod *p = hoist_cluster_find_pod(&s.world, ns, name);
            char key[520];
            snprintf(key, sizeof key, "%s/%s", ns, name);
            if (p) {
                hoist_report_pod_added(s.report, s.now, key, cpu_cores(p), memory_bytes(p));
                stats->pods_added++;
            }
        }
    }
    if (s.conf.end_after_ms) {
        s.end_ms = s.conf.start_ms + s.conf.end_after_ms;
        push(&s, s.end_ms, EV_END, 0, NULL);
    }
    queue_trace(&s);
    s.sched_dirty = true;
    while (!s.failed && !s.ended && s.n_heap > 0) {
        ev e = pop(&s);
        if (e.t > s.now)
            s.now = e.t;
        stats->events++;
        handle(&s, &e);
        if (s.failed || s.ended)
            break;
        /* the scheduler, when pods may be placeable */
        if (s.sched_dirty && !s.sched_queued) {
            uint64_t at = s.sched_last + s.conf.schedule_interval_ms;
            if (push(&s, at > s.now ? at : s.now, EV_SCHEDULE, 0, NULL) < 0)
                fail_oom(&s);
            s.sched_queued = true;
        }
        step_autoscaler(&s);
        if (s.conf.check_invariants)
            hoist_invariants_after_event(&s.inv, &s.pdbs, s.now);
    }
    if (s.failed)
        goto done;
    /* close the books */
    for (size_t k = 0; k < s.n_machines; k++) {
        machine *m = s.machines[k];
        if (m->state != M_GONE) {
            stats->machines_alive_at_end++;
            stats->machine_cost += m->price * (double)(s.now - m->launched_ms) / 3600000.0;
        }
    }
    hoist_objects *o = hoist_cluster_objects(&s.world);
    for (size_t k = 0; k < o->n_pods; k++) {
        if (o->pods[k]->node_name)
            stats->pods_bound_at_end++;
        else
            stats->pods_pending_at_end++;
    }
    stats->end_ms = s.now;
    stats->invariant_checks = s.inv.checks;
    stats->pdb_violations = s.inv.pdb_violations;
    stats->budget_violations = s.inv.budget_violations;
    stats->churn = s.inv.churn;
    stats->peak_disrupting = s.inv.peak_disrupting;
    stats->n_violations = s.inv.n_listed;
    memcpy(stats->violations, s.inv.listed, sizeof s.inv.listed);
    hoist_report_finish(s.report, s.now);
    /* let provider calls still in flight complete, so every callback runs
     * and frees what it holds; the world no longer changes */
    s.ended = true;
    while (!s.failed && s.n_heap > 0) {
        ev e = pop(&s);
        if (e.kind != EV_TIMER)
            continue;
        if (e.t > s.now)
            s.now = e.t;
        handle(&s, &e);
    }
    *report = s.report;
    s.report = NULL;
    result = 0;
done:
    sim_free(&s);
    hoist_report_free(s.report);
    return result;
}

const char *hoist_sim_autoscaler_name(hoist_sim_autoscaler_kind k)
{
    switch (k) {
    case HOIST_SIM_CLUSTER_AUTOSCALER: return "cluster-autoscaler";
    case HOIST_SIM_CLUSTERMAN: return "clusterman";
    default: return "hoist";
    }
}

int hoist_sim_autoscaler_parse(const char *name, hoist_sim_autoscaler_kind *out)
{
    static const hoist_sim_autoscaler_kind kinds[] = {HOIST_SIM_HOIST,
                                                      HOIST_SIM_CLUSTER_AUTOSCALER,
                                                      HOIST_SIM_CLUSTERMAN};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (name && strcmp(name, hoist_sim_autoscaler_name(kinds[i])) == 0) {
            *out = kinds[i];
            return 0;
        }
    return -1;
}
