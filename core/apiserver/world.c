/*
 * apiserver/world.c - simulated kubelets and scheduler over the API store
 * (see world.h for what they do and why the world keeps a cluster mirror).
 */
#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/world.h"
#include "model/node_template.h"
#include "sched/plan.h"
#include "state/cluster.h"

typedef enum mstate { M_WAIT_REGISTER, M_REGISTERED, M_READY, M_GONE } mstate;

typedef struct wmachine {
    char *id, *provider_id, *type, *zone, *nodepool;
    hoist_capacity_type ct;
    json_t *labels, *taints;
    mstate state;
} wmachine;

typedef enum akind { A_REGISTER, A_READY, A_DELETE_NODE, A_GC_PODS, A_POD_STOPPED } akind;

typedef struct waction {
    double due;      /* store clock, Unix seconds */
    akind kind;
    char *name;      /* instance id (register, ready), node name, or pod ns/name */
} waction;

struct hoist_world {
    uv_loop_t *loop;
    uv_timer_t *timer;          /* NULL without a loop; freed by its close callback */
    hoist_apistore *store;
    const hoist_catalog *catalog;
    const hoist_logger *log;
    hoist_world_delays d;
    hoist_apiwatch *watch;
    hoist_cluster mirror;
    wmachine **machines;
    size_t n_machines, cap_machines;
    waction *actions;
    size_t n_actions, cap_actions;
    bool sched_dirty;
    bool no_scheduler;
    double sched_last;          /* store clock of the last pass; 0 before the first */
    hoist_world_stats stats;
    const hoist_api_resource *pods, *nodes;
};

#define WLOG(w, level, ...) hoist_log((w)->log, (level), "sim-world", __VA_ARGS__)

static void rearm(hoist_world *w);

/* ---- delays ---- */

int hoist_world_compute_delays(const hoist_world_config *cfg, hoist_world_delays *out,
                               hoist_err *err)
{
    hoist_world_config c;
    if (cfg)
        c = *cfg;
    else
        memset(&c, 0, sizeof c);
    double speed = c.speed == 0 ? 1.0 : c.speed;
    if (!(speed > 0) || !isfinite(speed))
        return hoist_errf(err, "world: speed: %g: expected a finite number > 0", c.speed);
    uint64_t base[5] = {c.register_delay_ms ? c.register_delay_ms : HOIST_WORLD_REGISTER_DELAY_MS,
                        c.ready_delay_ms ? c.ready_delay_ms : HOIST_WORLD_READY_DELAY_MS,
                        c.node_grace_ms ? c.node_grace_ms : HOIST_WORLD_NODE_GRACE_MS,
                        c.schedule_interval_ms ? c.schedule_interval_ms
                                               : HOIST_WORLD_SCHEDULE_INTERVAL_MS,
                        c.pod_shutdown_ms ? c.pod_shutdown_ms : HOIST_WORLD_POD_SHUTDOWN_MS};
    uint64_t v[5];
    for (int i = 0; i < 5; i++) {
        double x = c.immediate ? 0.0 : (double)base[i] / speed;
        v[i] = x > 1e15 ? (uint64_t)1e15 : (uint64_t)llround(x);
    }
    out->register_ms = v[0];
    out->ready_ms = v[1];
    out->node_grace_ms = v[2];
    out->schedule_interval_ms = v[3];
    out->pod_shutdown_ms = v[4];
    out->speed = speed;
    return 0;
}

hoist_world_delays hoist_world_delays_of(const hoist_world *w)
{
    return w->d;
}

hoist_world_stats hoist_world_stats_of(const hoist_world *w)
{
    return w->stats;
}

/* ---- actions ---- */

static int push(hoist_world *w, double due, akind kind, const char *name)
{
    if (w->n_actions == w->cap_actions) {
        size_t cap = w->cap_actions ? w->cap_actions * 2 : 16;
        waction *n = realloc(w->actions, cap * sizeof *n);
        if (!n)
            return -1;
        w->actions = n;
        w->cap_actions = cap;
    }
    char *copy = strdup(name);
    if (!copy)
        return -1;
    w->actions[w->n_actions++] = (waction){due, kind, copy};
    rearm(w);
    return 0;
}

static double now_s(const hoist_world *w)
{
    return hoist_apistore_now(w->store);
}

static wmachine *machine_find(const hoist_world *w, const char *id)
{
    for (size_t i = 0; i < w->n_machines; i++)
        if (strcmp(w->machines[i]->id, id) == 0)
            return w->machines[i];
    return NULL;
}

static void machine_free(wmachine *m)
{
    free(m->id);
    free(m->provider_id);
    free(m->type);
    free(m->zone);
    free(m->nodepool);
    json_decref(m->labels);
    json_decref(m->taints);
    free(m);
}

/* ---- the mirror ---- */

static const char *jstr(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static bool is_default_scheduler(const json_t *pod)
{
    const char *s = json_string_value(json_object_get(json_object_get(pod, "spec"),
                                                      "schedulerName"));
    return !s || !*s || strcmp(s, "default-scheduler") == 0;
}

/* A pod that just began a graceful deletion on a node: its kubelet stops
 * its containers, within the pod's grace period, and deletes it with grace
 * 0 (A_POD_STOPPED). On a node that does not exist, at once (the pod GC). */
static void pod_terminating(hoist_world *w, const hoist_api_event *ev)
{
    const json_t *md = json_object_get(ev->object, "metadata");
    const json_t *old_md = json_object_get(ev->old, "metadata");
    json_t *grace = json_object_get(md, "deletionGracePeriodSeconds");
    if (!json_object_get(md, "deletionTimestamp") || json_integer_value(grace) <= 0)
        return;
    if (json_object_get(old_md, "deletionTimestamp") &&
        json_integer_value(json_object_get(old_md, "deletionGracePeriodSeconds")) <=
            json_integer_value(grace))
        return; /* already stopping, no sooner than before */
    const char *node = jstr(json_object_get(ev->object, "spec"), "nodeName");
    char key[600];
    snprintf(key, sizeof key, "%s/%s", jstr(md, "namespace"), jstr(md, "name"));
    double stop_s = (double)w->d.pod_shutdown_ms / 1000.0;
    double grace_s = (double)json_integer_value(grace) / w->d.speed;
    double after = !node || !hoist_apistore_get(w->store, w->nodes, NULL, node) ? 0
                   : stop_s < grace_s                                           ? stop_s
                                                                                : grace_s;
    if (push(w, now_s(w) + after, A_POD_STOPPED, key) != 0)
        w->stats.errors++;
}

static void on_change(void *arg, hoist_api_event_type type, const hoist_api_event *ev)
{
    hoist_world *w = arg;
    hoist_object_event oe = {type == HOIST_API_ADDED      ? HOIST_OBJECT_ADD
                             : type == HOIST_API_MODIFIED ? HOIST_OBJECT_UPDATE
                                                          : HOIST_OBJECT_DELETE,
                             ev->object, NULL, false};
    hoist_err err = {{0}};
    if (hoist_cluster_apply(&w->mirror, &oe, &err) < 0) {
        w->stats.errors++;
        WLOG(w, HOIST_LOG_WARN, "mirror: %s %s skipped: %s", hoist_api_event_name(type),
             ev->res->plural, err.msg);
    }
    if (ev->res == w->pods || ev->res == w->nodes) {
        if (!w->sched_dirty) {
            w->sched_dirty = true;
            rearm(w);
        }
    }
    if (ev->res == w->pods && type == HOIST_API_MODIFIED)
        pod_terminating(w, ev);
    if (ev->res == w->nodes && type == HOIST_API_DELETED) {
        const char *name = json_string_value(
            json_object_get(json_object_get(ev->object, "metadata"), "name"));
        if (name && push(w, now_s(w), A_GC_PODS, name) != 0)
            w->stats.errors++;
    }
}

/* ---- kubelets ---- */


static void kubelet_register(hoist_world *w, wmachine *m)
{
    if (m->state != M_WAIT_REGISTER)
        return;
    const hoist_instance_type *it = hoist_catalog_find(w->catalog, m->type);
    if (!it) {
        w->stats.errors++;
        WLOG(w, HOIST_LOG_ERROR, "machine %s: type %s is not in the catalog; it never registers",
             m->id, m->type);
        return;
    }
    hoist_node_template t = {
        .name = m->id,
        .nodepool = m->nodepool,
        .type = it,
        .zone = m->zone,
        .capacity_type = m->ct,
        .labels = m->labels,
        .taints = m->taints,
        .provider_id = m->provider_id,
        .ready = false,
        .created_s = (int64_t)now_s(w),
    };
    hoist_err err = {{0}};
    json_t *node = hoist_node_template_json(hoist_cluster_objects(&w->mirror), &t, &err);
    if (!node) {
        w->stats.errors++;
        WLOG(w, HOIST_LOG_ERROR, "machine %s: %s", m->id, err.msg);
        return;
    }
    hoist_apierr e;
    json_t *made = hoist_apistore_create(w->store, w->nodes, NULL, node, true, &e);
    json_decref(node);
    if (!made) {
        w->stats.errors++;
        WLOG(w, HOIST_LOG_ERROR, "machine %s: Node: %s", m->id, e.message);
        return;
    }
    json_decref(made);
    m->state = M_REGISTERED;
    w->stats.nodes_registered++;
    WLOG(w, HOIST_LOG_INFO, "node %s registered (%s %s %s)", m->id, m->type, m->zone,
         hoist_capacity_type_name(m->ct));
    if (push(w, now_s(w) + (double)w->d.ready_ms / 1000.0, A_READY, m->id) != 0)
        w->stats.errors++;
}

/* Set the Node's Ready condition; `ready` false with a reason. Drops the
 * NodePool's startup taints when it turns Ready. */
static int node_set_ready(hoist_world *w, const char *name, bool ready, const char *nodepool)
{
    json_t *cur = hoist_apistore_get(w->store, w->nodes, NULL, name);
    if (!cur)
        return -1;
    json_t *o = json_deep_copy(cur);
    if (!o)
        return -1;
    json_t *status = json_object_get(o, "status");
    if (!json_is_object(status)) {
        status = json_object();
        json_object_set_new(o, "status", status);
    }
    json_t *conds = json_object_get(status, "conditions");
    if (!json_is_array(conds)) {
        conds = json_array();
        json_object_set_new(status, "conditions", conds);
    }
    size_t i;
    json_t *c;
    json_array_foreach(conds, i, c) {
        const char *type = jstr(c, "type");
        if (type && !strcmp(type, "Ready")) {
            json_array_remove(conds, i);
            break;
        }
    }
    char ts[32];
    hoist_api_time(now_s(w), ts, sizeof ts);
    json_array_append_new(
        conds, json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "type", "Ready", "status",
                         ready ? "True" : "False", "reason",
                         ready ? "KubeletReady" : "NodeStatusUnknown", "message",
                         ready ? "kubelet is posting ready status"
                               : "Kubelet stopped posting node status.",
                         "lastHeartbeatTime", ts, "lastTransitionTime", ts));
    const hoist_nodepool *np =
        ready && nodepool ? hoist_objects_find_nodepool(hoist_cluster_objects(&w->mirror), nodepool)
                          : NULL;
    json_t *taints = json_object_get(json_object_get(o, "spec"), "taints");
    if (np && json_is_array(taints)) {
        for (size_t k = json_array_size(taints); k-- > 0;) {
            const char *key = jstr(json_array_get(taints, k), "key");
            for (size_t s = 0; key && s < np->startup_taints.n; s++)
                if (strcmp(np->startup_taints.items[s].key, key) == 0) {
                    json_array_remove(taints, k);
                    break;
                }
        }
    }
    hoist_apierr e;
    json_t *res = hoist_apistore_update(w->store, w->nodes, NULL, name, o, HOIST_API_ALL, &e);
    json_decref(o);
    if (!res) {
        w->stats.errors++;
        WLOG(w, HOIST_LOG_WARN, "node %s: %s", name, e.message);
        return -1;
    }
    json_decref(res);
    return 0;
}

static void kubelet_ready(hoist_world *w, wmachine *m)
{
    if (m->state != M_REGISTERED)
        return;
    if (node_set_ready(w, m->id, true, m->nodepool) == 0) {
        m->state = M_READY;
        w->stats.nodes_ready++;
        WLOG(w, HOIST_LOG_INFO, "node %s Ready", m->id);
    }
}

/* Delete every pod bound to `node`. */
static void delete_pods_on(hoist_world *w, const char *node)
{
    char text[512];
    snprintf(text, sizeof text, "spec.nodeName=%s", node);
    hoist_selector sel;
    hoist_err err = {{0}};
    if (hoist_selector_parse_fields(text, &sel, &err) != 0) {
        w->stats.errors++;
        WLOG(w, HOIST_LOG_WARN, "node %s: %s", node, err.msg);
        return;
    }
    hoist_apierr e;
    json_t *list = hoist_apistore_list(w->store, w->pods, NULL, NULL, &sel, 0, NULL, &e);
    hoist_selector_free(&sel);
    size_t i;
    json_t *pod;
    json_array_foreach(json_object_get(list, "items"), i, pod) {
        const json_t *md = json_object_get(pod, "metadata");
        /* the node is gone: no kubelet will stop them (force, as the pod GC) */
        json_t *gone = hoist_apistore_delete(w->store, w->pods, jstr(md, "namespace"),
                                             jstr(md, "name"), NULL, 0, &e);
        if (gone) {
            w->stats.pods_deleted++;
            json_decref(gone);
        }
    }
    json_decref(list);
}

/* Pod "ns/name"'s containers stopped: its kubelet deletes it with grace 0
 * (it stays while finalizers hold it). */
static void pod_stopped(hoist_world *w, const char *key)
{
    char ns[300];
    const char *slash = strchr(key, '/');
    if (!slash || (size_t)(slash - key) >= sizeof ns)
        return;
    memcpy(ns, key, (size_t)(slash - key));
    ns[slash - key] = '\0';
    json_t *pod = hoist_apistore_get(w->store, w->pods, ns, slash + 1);
    if (!pod || !json_object_get(json_object_get(pod, "metadata"), "deletionTimestamp"))
        return; /* gone already, or a new pod of the same name */
    hoist_apierr e;
    json_t *gone = hoist_apistore_delete(w->store, w->pods, ns, slash + 1, NULL, 0, &e);
    if (gone) {
        w->stats.pods_deleted++;
        json_decref(gone);
    } else {
        w->stats.errors++;
        WLOG(w, HOIST_LOG_WARN, "kubelet: deleting pod %s: %s", key, e.message);
    }
}

static void delete_node(hoist_world *w, const char *name)
{
    if (!hoist_apistore_get(w->store, w->nodes, NULL, name))
        return;
    hoist_apierr e;
    json_t *gone = hoist_apistore_delete(w->store, w->nodes, NULL, name, NULL, 0, &e);
    if (gone) {
        w->stats.nodes_deleted++;
        WLOG(w, HOIST_LOG_INFO, "node %s deleted after the grace period (its machine is gone)",
             name);
        json_decref(gone);
    }
}

void hoist_world_machine_running(hoist_world *w, const hoist_cloud_machine *m)
{
    if (machine_find(w, m->instance_id))
        return;
    if (w->n_machines == w->cap_machines) {
        size_t cap = w->cap_machines ? w->cap_machines * 2 : 16;
        wmachine **n = realloc(w->machines, cap * sizeof *n);
        if (!n)
            goto oom;
        w->machines = n;
        w->cap_machines = cap;
    }
    wmachine *x = calloc(1, sizeof *x);
    if (!x)
        goto oom;
    x->id = strdup(m->instance_id);
    x->provider_id = strdup(m->provider_id);
    x->type = strdup(m->instance_type);
    x->zone = strdup(m->zone);
    x->nodepool = strdup(m->nodepool ? m->nodepool : "");
    x->ct = m->capacity_type;
    x->labels = m->labels ? json_deep_copy(m->labels) : json_object();
    x->taints = m->taints ? json_deep_copy(m->taints) : json_array();
    if (!x->id || !x->provider_id || !x->type || !x->zone || !x->nodepool || !x->labels ||
        !x->taints) {
        machine_free(x);
        goto oom;
    }
    w->machines[w->n_machines++] = x;
    if (push(w, now_s(w) + (double)w->d.register_ms / 1000.0, A_REGISTER, x->id) != 0)
        goto oom;
    return;
oom:
    w->stats.errors++;
    WLOG(w, HOIST_LOG_ERROR, "machine %s: out of memory", m->instance_id);
}

void hoist_world_machine_terminated(hoist_world *w, const char *instance_id)
{
    wmachine *m = machine_find(w, instance_id);
    if (!m || m->state == M_GONE)
        return;
    bool had_node = m->state != M_WAIT_REGISTER;
    m->state = M_GONE;
    if (!had_node || !hoist_apistore_get(w->store, w->nodes, NULL, m->id))
        return;
    if (node_set_ready(w, m->id, false, NULL) == 0)
        w->stats.nodes_not_ready++;
    delete_pods_on(w, m->id);
    if (push(w, now_s(w) + (double)w->d.node_grace_ms / 1000.0, A_DELETE_NODE, m->id) != 0)
        w->stats.errors++;
}

static void listener_running(void *arg, const hoist_cloud_machine *m)
{
    hoist_world_machine_running(arg, m);
}

static void listener_terminated(void *arg, const char *id)
{
    hoist_world_machine_terminated(arg, id);
}

hoist_cloud_listener hoist_world_cloud_listener(hoist_world *w)
{
    hoist_cloud_listener l = {w, listener_running, listener_terminated};
    return l;
}

const char *hoist_world_node_of(const hoist_world *w, const char *instance_id)
{
    const wmachine *m = machine_find(w, instance_id);
    return m ? m->id : NULL;
}

/* ---- the scheduler ---- */

typedef struct bind_target {
    char *ns, *name, *node;
} bind_target;

/* Running with Ready conditions, as the kubelet reports a started pod. */
static void pod_running(hoist_world *w, const char *ns, const char *name)
{
    json_t *cur = hoist_apistore_get(w->store, w->pods, ns, name);
    json_t *o = cur ? json_deep_copy(cur) : NULL;
    if (!o)
        return;
    json_t *status = json_object_get(o, "status");
    if (!json_is_object(status)) {
        status = json_object();
        json_object_set_new(o, "status", status);
    }
    char ts[32];
    hoist_api_time(now_s(w), ts, sizeof ts);
    json_object_set_new(status, "phase", json_string("Running"));
    json_object_set_new(status, "startTime", json_string(ts));
    json_t *conds = json_object_get(status, "conditions");
    if (!json_is_array(conds)) {
        conds = json_array();
        json_object_set_new(status, "conditions", conds);
    }
    static const char *const types[] = {"Initialized", "Ready", "ContainersReady"};
    for (size_t t = 0; t < 3; t++) {
        size_t i;
        json_t *c;
        json_array_foreach(conds, i, c) {
            const char *type = jstr(c, "type");
            if (type && !strcmp(type, types[t])) {
                json_array_remove(conds, i);
                break;
            }
        }
        json_array_append_new(conds, json_pack("{s:s,s:s,s:s}", "type", types[t], "status",
                                               "True", "lastTransitionTime", ts));
    }
    json_t *cs = json_array();
    size_t i;
    json_t *ct;
    json_array_foreach(json_object_get(json_object_get(o, "spec"), "containers"), i, ct) {
        const char *cname = jstr(ct, "name"), *image = jstr(ct, "image");
        json_array_append_new(cs, json_pack("{s:s,s:b,s:b,s:i,s:s,s:s,s:{s:{s:s}}}", "name",
                                            cname ? cname : "", "ready", 1, "started", 1,
                                            "restartCount", 0, "image", image ? image : "",
                                            "imageID", "", "state", "running", "startedAt", ts));
    }
    json_object_set_new(status, "containerStatuses", cs);
    hoist_apierr e;
    json_t *res = hoist_apistore_update(w->store, w->pods, ns, name, o, HOIST_API_ALL, &e);
    json_decref(o);
    if (!res) {
        w->stats.errors++;
        WLOG(w, HOIST_LOG_WARN, "pod %s/%s: status: %s", ns, name, e.message);
    }
    json_decref(res);
}

size_t hoist_world_schedule(hoist_world *w)
{
    w->stats.scheduler_passes++;
    w->sched_last = now_s(w);
    w->sched_dirty = false;
    hoist_objects *o = hoist_cluster_objects(&w->mirror);
    WLOG(w, HOIST_LOG_DEBUG, "scheduler pass: %zu pods, %zu nodes", o->n_pods, o->n_nodes);
    if (o->n_pods == 0 || o->n_nodes == 0)
        return 0;
    hoist_plan_options opts;
    memset(&opts, 0, sizeof opts);
    opts.existing_only = true;
    hoist_plan plan;
    hoist_err err = {{0}};
    if (hoist_plan_compute(o, w->catalog, &opts, &plan, &err) < 0) {
        w->stats.errors++;
        WLOG(w, HOIST_LOG_ERROR, "scheduler: %s", err.msg);
        return 0;
    }
    size_t n = 0;
    for (size_t i = 0; i < plan.n_existing; i++)
        n += plan.existing[i].n_pods;
    bind_target *t = calloc(n + 1, sizeof *t);
    size_t k = 0;
    for (size_t i = 0; t && i < plan.n_existing; i++)
        for (size_t j = 0; j < plan.existing[i].n_pods; j++, k++) {
            const hoist_pod *p = plan.existing[i].pods[j];
            t[k].ns = strdup(p->ns);
            t[k].name = strdup(p->name);
            t[k].node = strdup(plan.existing[i].node->name);
        }
    for (size_t i = 0; i < plan.n_unschedulable; i++)
        WLOG(w, HOIST_LOG_DEBUG, "scheduler: %s: %s", plan.unschedulable[i].name,
             plan.unschedulable[i].reason);
    hoist_plan_free(&plan); /* binding changes the mirror under the plan's pointers */
    if (!t) {
        w->stats.errors++;
        return 0;
    }
    size_t bound = 0;
    for (size_t i = 0; i < n; i++) {
        if (!t[i].ns || !t[i].name || !t[i].node) {
            w->stats.errors++;
            continue;
        }
        const json_t *pod = hoist_apistore_get(w->store, w->pods, t[i].ns, t[i].name);
        if (!pod || !is_default_scheduler(pod))
            continue;
        hoist_apierr e;
        json_t *res = hoist_apistore_bind(w->store, t[i].ns, t[i].name, t[i].node, &e);
        if (!res) {
            WLOG(w, HOIST_LOG_WARN, "bind %s/%s to %s: %s", t[i].ns, t[i].name, t[i].node,
                 e.message);
            continue;
        }
        json_decref(res);
        pod_running(w, t[i].ns, t[i].name);
        bound++;
        WLOG(w, HOIST_LOG_DEBUG, "bound %s/%s to %s", t[i].ns, t[i].name, t[i].node);
    }
    for (size_t i = 0; i < n; i++) {
        free(t[i].ns);
        free(t[i].name);
        free(t[i].node);
    }
    free(t);
    w->stats.pods_bound += bound;
    /* our own writes marked the world dirty; nothing new to place for them */
    w->sched_dirty = false;
    return bound;
}

/* ---- running ---- */

static double sched_due(const hoist_world *w)
{
    if (!w->sched_dirty || w->no_scheduler)
        return -1;
    double due = w->sched_last + (double)w->d.schedule_interval_ms / 1000.0;
    return due;
}

double hoist_world_next_due(const hoist_world *w)
{
    double best = sched_due(w);
    for (size_t i = 0; i < w->n_actions; i++)
        if (best < 0 || w->actions[i].due < best)
            best = w->actions[i].due;
    return best;
}

size_t hoist_world_run_due(hoist_world *w)
{
    size_t ran = 0;
    for (;;) {
        double now = now_s(w);
        size_t pick = SIZE_MAX;
        for (size_t i = 0; i < w->n_actions; i++)
            if (w->actions[i].due <= now &&
                (pick == SIZE_MAX || w->actions[i].due < w->actions[pick].due))
                pick = i;
        if (pick == SIZE_MAX)
            break;
        waction a = w->actions[pick];
        w->actions[pick] = w->actions[--w->n_actions];
        wmachine *m = machine_find(w, a.name);
        switch (a.kind) {
        case A_REGISTER:
            if (m)
                kubelet_register(w, m);
            break;
        case A_READY:
            if (m)
                kubelet_ready(w, m);
            break;
        case A_DELETE_NODE:
            delete_node(w, a.name);
            break;
        case A_GC_PODS:
            delete_pods_on(w, a.name);
            break;
        case A_POD_STOPPED:
            pod_stopped(w, a.name);
            break;
        }
        free(a.name);
        ran++;
    }
    double sd = sched_due(w);
    if (sd >= 0 && sd <= now_s(w)) {
        hoist_world_schedule(w);
        ran++;
    }
    rearm(w);
    return ran;
}

static void on_timer(uv_timer_t *t)
{
    hoist_world_run_due(t->data);
}

static void rearm(hoist_world *w)
{
    if (!w->timer)
        return;
    double due = hoist_world_next_due(w);
    if (due < 0) {
        uv_timer_stop(w->timer);
        return;
    }
    double ms = (due - now_s(w)) * 1000.0;
    uint64_t delay = ms <= 0 ? 0 : ms > 1e12 ? (uint64_t)1e12 : (uint64_t)ceil(ms);
    uv_timer_start(w->timer, on_timer, delay, 0);
}

/* ---- life ---- */

hoist_world *hoist_world_new(uv_loop_t *loop, hoist_apistore *store, const hoist_catalog *catalog,
                             const hoist_world_config *cfg, hoist_err *err)
{
    hoist_world_delays d;
    if (hoist_world_compute_delays(cfg, &d, err) != 0)
        return NULL;
    hoist_world *w = calloc(1, sizeof *w);
    if (!w) {
        hoist_errf(err, "world: out of memory");
        return NULL;
    }
    w->loop = loop;
    w->store = store;
    w->catalog = catalog;
    w->log = cfg ? cfg->log : NULL;
    w->no_scheduler = cfg && cfg->no_scheduler;
    w->d = d;
    w->sched_last = 0; /* the epoch: the first pass is due at once */
    w->pods = hoist_api_resource_find("", "v1", "pods");
    w->nodes = hoist_api_resource_find("", "v1", "nodes");
    hoist_cluster_init(&w->mirror);
    if (loop) {
        w->timer = malloc(sizeof *w->timer);
        if (!w->timer || uv_timer_init(loop, w->timer) != 0) {
            free(w->timer);
            free(w);
            hoist_errf(err, "world: cannot create a timer");
            return NULL;
        }
        w->timer->data = w;
    }
    /* what exists now, as ADDED events, then every change */
    hoist_apierr e;
    w->watch = hoist_apistore_watch(store, NULL, NULL, NULL, NULL, 0, on_change, w, &e);
    if (!w->watch) {
        hoist_errf(err, "world: watch: %s", e.message);
        hoist_world_free(w);
        return NULL;
    }
    for (size_t i = 0; i < hoist_api_resource_count(); i++) {
        const hoist_api_resource *r = hoist_api_resource_at(i);
        json_t *list = hoist_apistore_list(store, r, NULL, NULL, NULL, 0, NULL, &e);
        size_t k;
        json_t *obj;
        json_array_foreach(json_object_get(list, "items"), k, obj) {
            if (!json_object_get(obj, "kind")) {
                json_object_set_new(obj, "apiVersion", json_string(r->group_version));
                json_object_set_new(obj, "kind", json_string(r->kind));
            }
            hoist_api_event ev = {HOIST_API_ADDED, r, 0, obj, NULL};
            on_change(w, HOIST_API_ADDED, &ev);
        }
        json_decref(list);
    }
    rearm(w);
    return w;
}

static void free_timer(uv_handle_t *h)
{
    free(h);
}

void hoist_world_free(hoist_world *w)
{
    if (!w)
        return;
    if (w->watch)
        hoist_apistore_unwatch(w->store, w->watch);
    if (w->timer)
        uv_close((uv_handle_t *)w->timer, free_timer);
    for (size_t i = 0; i < w->n_machines; i++)
        machine_free(w->machines[i]);
    free(w->machines);
    for (size_t i = 0; i < w->n_actions; i++)
        free(w->actions[i].name);
    free(w->actions);
    hoist_cluster_free(&w->mirror);
    free(w);
}
