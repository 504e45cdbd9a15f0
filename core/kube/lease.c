/* kube/lease.c - leader election on a coordination.k8s.io/v1 Lease; see lease.h. */
#include "kube/lease.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>


/* What the request in flight is. */
typedef enum lease_call { CALL_NONE, CALL_GET, CALL_CREATE, CALL_UPDATE, CALL_RENEW,
                          CALL_RELEASE } lease_call;

struct hoist_kube_lease {
    hoist_kube_client client;
    hoist_kube_lease_config cfg;
    char *ns, *name, *identity;
    char *coll_path, *item_path;
    uv_timer_t timer;
    uint64_t rng;
    hoist_kube_request *req;
    lease_call call;
    json_t *observed;           /* the Lease as last read or written, or NULL */
    char *observed_rv;
    uint64_t observed_ms;       /* our clock when the record last changed */
    uint64_t last_renew_ms;     /* our clock at the last successful acquire/renew */
    char holder[256];
    char last_error[512];       /* the last failure, for callers and tests */
    bool leader, started, released;
    hoist_kube_lease_cb release_done;
    void *release_arg;
    hoist_kube_lease_stats stats;
};

static const char component[] = "kube/lease";

static uint64_t now_ms(const hoist_kube_lease *l)
{
    return l->cfg.now_ms(l->cfg.clock_arg);
}

/* ---- the record -------------------------------------------------------------------- */

/* Check a Lease answer; NULL when usable, else what is wrong. */
static const char *check_lease(const json_t *o)
{
    if (!json_is_object(o))
        return "not a JSON object";
    const json_t *md = json_object_get(o, "metadata");
    if (!json_is_object(md))
        return "metadata: missing or not an object";
    const json_t *rv = json_object_get(md, "resourceVersion");
    if (!json_is_string(rv) || !*json_string_value(rv))
        return "metadata.resourceVersion: missing or not a string";
    const json_t *spec = json_object_get(o, "spec");
    if (spec && !json_is_null(spec) && !json_is_object(spec))
        return "spec: not an object";
    const json_t *h = json_object_get(spec, "holderIdentity");
    if (h && !json_is_null(h) && !json_is_string(h))
        return "spec.holderIdentity: not a string";
    const json_t *d = json_object_get(spec, "leaseDurationSeconds");
    if (d && !json_is_null(d) && (!json_is_integer(d) || json_integer_value(d) < 0))
        return "spec.leaseDurationSeconds: not a non-negative integer";
    const json_t *t = json_object_get(spec, "leaseTransitions");
    if (t && !json_is_null(t) && !json_is_integer(t))
        return "spec.leaseTransitions: not an integer";
    return NULL;
}

/* Parse and remember a Lease answer; false (logged, counted) when malformed. */
static bool observe(hoist_kube_lease *l, const hoist_kube_result *res)
{
    json_error_t jerr;
    json_t *o = json_loadb(res->body, res->body_len, 0, &jerr);
    const char *bad = o ? check_lease(o) : jerr.text;
    if (bad) {
        l->stats.malformed++;
        snprintf(l->last_error, sizeof l->last_error,
                 "Lease %s/%s: malformed answer (HTTP %ld): %s%s", l->ns, l->name, res->status,
                 o ? "" : "not JSON: ", bad);
        hoist_log(l->client.log, HOIST_LOG_WARN, component, "%s", l->last_error);
        json_decref(o);
        return false;
    }
    const char *rv =
        json_string_value(json_object_get(json_object_get(o, "metadata"), "resourceVersion"));
    if (!l->observed_rv || strcmp(rv, l->observed_rv) != 0) {
        char *copy = strdup(rv);
        if (!copy) {
            json_decref(o);
            return false;
        }
        free(l->observed_rv);
        l->observed_rv = copy;
        l->observed_ms = now_ms(l);
    }
    json_decref(l->observed);
    l->observed = o;
    const char *h = json_string_value(json_object_get(json_object_get(o, "spec"),
                                                      "holderIdentity"));
    snprintf(l->holder, sizeof l->holder, "%s", h ? h : "");
    return true;
}

static int64_t spec_int(const json_t *o, const char *field, int64_t dflt)
{
    const json_t *v = json_object_get(json_object_get(o, "spec"), field);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : dflt;
}

/* ---- leadership -------------------------------------------------------------------- */

static void become_leader(hoist_kube_lease *l)
{
    l->last_renew_ms = now_ms(l);
    if (l->leader)
        return;
    l->leader = true;
    l->stats.acquired++;
    hoist_log(l->client.log, HOIST_LOG_INFO, component, "%s acquired Lease %s/%s", l->identity,
              l->ns, l->name);
    if (l->cfg.on_started)
        l->cfg.on_started(l->cfg.arg);
}

static void stop_leading(hoist_kube_lease *l, const char *why)
{
    if (!l->leader)
        return;
    l->leader = false;
    hoist_log(l->client.log, HOIST_LOG_WARN, component, "%s stopped leading Lease %s/%s: %s",
              l->identity, l->ns, l->name, why);
    if (l->cfg.on_stopped)
        l->cfg.on_stopped(l->cfg.arg);
}

static void lost(hoist_kube_lease *l, const char *why)
{
    if (!l->leader)
        return;
    l->stats.lost++;
    stop_leading(l, why);
}

/* ---- requests ------------------------------------------------------------------------ */

static void on_answer(void *arg, const hoist_kube_result *res);

static void send_call(hoist_kube_lease *l, lease_call call, const char *method, const char *path,
                      json_t *body)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    hoist_kube_retry retry = {.max_attempts = 1,
                              .timeout_ms = l->cfg.renew_deadline_ms < l->cfg.retry_period_ms * 2
                                                ? l->cfg.retry_period_ms
                                                : l->cfg.renew_deadline_ms / 2};
    hoist_err err = {{0}};
    if (!body || text)
        l->req = hoist_kube_request_start(&l->client, method, path,
                                          body ? "application/json" : NULL, text, &retry,
                                          &l->rng, &l->stats.http, on_answer, l, &err);
    free(text);
    if (!l->req) {
        hoist_log(l->client.log, HOIST_LOG_WARN, component, "Lease %s/%s: %s", l->ns, l->name,
                  err.msg[0] ? err.msg : "out of memory");
        l->call = CALL_NONE;
        return;
    }
    l->call = call;
}

/* The spec we write: holder, duration, times, transitions. */
static json_t *spec_for(hoist_kube_lease *l, const char *holder, uint32_t duration_s,
                        bool new_holder, const json_t *old_spec)
{
    char now[40];
    hoist_kube_time(now_ms(l), true, now, sizeof now);
    json_t *spec = json_is_object(old_spec) ? json_deep_copy(old_spec) : json_object();
    if (!spec)
        return NULL;
    int64_t transitions = spec_int(l->observed, "leaseTransitions", 0);
    json_object_set_new(spec, "holderIdentity", json_string(holder));
    json_object_set_new(spec, "leaseDurationSeconds", json_integer(duration_s));
    json_object_set_new(spec, "renewTime", json_string(now));
    if (new_holder || !json_object_get(spec, "acquireTime"))
        json_object_set_new(spec, "acquireTime", json_string(now));
    if (new_holder && old_spec)
        transitions++;
    json_object_set_new(spec, "leaseTransitions", json_integer(transitions));
    return spec;
}

/* PUT the observed Lease with a new spec. */
static void put_lease(hoist_kube_lease *l, lease_call call, const char *holder,
                      uint32_t duration_s, bool new_holder)
{
    json_t *obj = json_deep_copy(l->observed);
    json_t *spec = obj ? spec_for(l, holder, duration_s, new_holder,
                                  json_object_get(l->observed, "spec"))
                       : NULL;
    if (!spec || json_object_set_new(obj, "spec", spec) < 0) {
        json_decref(obj);
        hoist_log(l->client.log, HOIST_LOG_ERROR, component, "Lease %s/%s: out of memory",
                  l->ns, l->name);
        return;
    }
    send_call(l, call, "PUT", l->item_path, obj);
    json_decref(obj);
}

static void create_lease(hoist_kube_lease *l)
{
    json_t *spec = spec_for(l, l->identity, l->cfg.lease_duration_s, true, NULL);
    json_t *obj = spec ? json_pack("{s:s, s:s, s:{s:s, s:s}, s:o}", "apiVersion",
                                   "coordination.k8s.io/v1", "kind", "Lease", "metadata", "name",
                                   l->name, "namespace", l->ns, "spec", spec)
                       : NULL;
    if (!obj) {
        hoist_log(l->client.log, HOIST_LOG_ERROR, component, "Lease %s/%s: out of memory",
                  l->ns, l->name);
        return;
    }
    send_call(l, CALL_CREATE, "POST", l->coll_path, obj);
    json_decref(obj);
}

/* After a GET: take the Lease if it is free, expired or ours. */
static void consider(hoist_kube_lease *l)
{
    uint64_t now = now_ms(l);
    int64_t dur = spec_int(l->observed, "leaseDurationSeconds", l->cfg.lease_duration_s);
    bool ours = !strcmp(l->holder, l->identity);
    bool fresh = now < l->observed_ms + (uint64_t)dur * 1000u;
    if (*l->holder && !ours && fresh) {
        hoist_log(l->client.log, HOIST_LOG_DEBUG, component, "Lease %s/%s is held by %s",
                  l->ns, l->name, l->holder);
        return;
    }
    put_lease(l, CALL_UPDATE, l->identity, l->cfg.lease_duration_s, !ours);
}

static void on_answer(void *arg, const hoist_kube_result *res)
{
    hoist_kube_lease *l = arg;
    lease_call call = l->call;
    l->req = NULL;
    l->call = CALL_NONE;
    bool ok = res->status >= 200 && res->status < 300;
    switch (call) {
    case CALL_GET:
        if (res->status == 404) {
            create_lease(l);
        } else if (ok && observe(l, res)) {
            consider(l);
        } else if (!ok) {
            hoist_log(l->client.log, HOIST_LOG_WARN, component, "GET Lease %s/%s: HTTP %ld%s%s",
                      l->ns, l->name, res->status, *res->message ? ": " : "", res->message);
        }
        break;
    case CALL_CREATE:
    case CALL_UPDATE:
        if (ok && observe(l, res)) {
            become_leader(l);
        } else if (res->status == 409) {
            l->stats.conflicts++;
            hoist_log(l->client.log, HOIST_LOG_DEBUG, component,
                      "Lease %s/%s: another candidate was first", l->ns, l->name);
        } else if (!ok) {
            hoist_log(l->client.log, HOIST_LOG_WARN, component, "%s Lease %s/%s: HTTP %ld%s%s",
                      call == CALL_CREATE ? "POST" : "PUT", l->ns, l->name, res->status,
                      *res->message ? ": " : "", res->message);
        }
        break;
    case CALL_RENEW:
        if (ok && observe(l, res)) {
            l->stats.renewals++;
            l->last_renew_ms = now_ms(l);
        } else if (res->status == 409) {
            l->stats.conflicts++;
            lost(l, "the Lease was changed by someone else (409 on renewal)");
        } else {
            l->stats.renew_failures++;
            if (!ok)
                hoist_log(l->client.log, HOIST_LOG_WARN, component,
                          "renewing Lease %s/%s: %s%ld%s%s", l->ns, l->name,
                          res->status ? "HTTP " : "", res->status, *res->message ? ": " : "",
                          res->message);
        }
        break;
    case CALL_RELEASE:
        if (ok) {
            l->stats.released++;
            observe(l, res);
        } else {
            hoist_log(l->client.log, HOIST_LOG_WARN, component,
                      "releasing Lease %s/%s: %s%ld%s%s (it expires by itself)", l->ns, l->name,
                      res->status ? "HTTP " : "", res->status, *res->message ? ": " : "",
                      res->message);
        }
        if (l->release_done) {
            hoist_kube_lease_cb done = l->release_done;
            l->release_done = NULL;
            done(l->release_arg);
        }
        break;
    case CALL_NONE:
        break;
    }
}

/* ---- driving -------------------------------------------------------------------------- */

void hoist_kube_lease_tick(hoist_kube_lease *l)
{
    if (!l || l->req || l->released || !l->started)
        return;
    uint64_t now = now_ms(l);
    if (l->leader) {
        if (now - l->last_renew_ms >= l->cfg.renew_deadline_ms) {
            lost(l, "no renewal succeeded within the renew deadline");
        } else {
            put_lease(l, CALL_RENEW, l->identity, l->cfg.lease_duration_s, false);
            return;
        }
    }
    l->stats.attempts++;
    send_call(l, CALL_GET, "GET", l->item_path, NULL);
}

static void on_timer(uv_timer_t *t);

/* The next tick: the retry period, jittered up to x2.2 while a candidate (client-go). */
static void arm(hoist_kube_lease *l)
{
    if (l->cfg.manual || l->released)
        return;
    uint64_t d = l->cfg.retry_period_ms;
    if (!l->leader) {
        uint64_t r = l->rng = l->rng * 6364136223846793005ull + 1442695040888963407ull;
        d += (uint64_t)((double)(r >> 11) / 9007199254740992.0 * 1.2 * (double)d);
    }
    uv_timer_start(&l->timer, on_timer, d, 0);
}

static void on_timer(uv_timer_t *t)
{
    hoist_kube_lease *l = t->data;
    hoist_kube_lease_tick(l);
    arm(l);
}

int hoist_kube_lease_start(hoist_kube_lease *l, hoist_err *err)
{
    if (l->started)
        return 0;
    if (l->released)
        return hoist_errf(err, "Lease %s/%s: already released", l->ns, l->name);
    l->started = true;
    if (l->cfg.manual) {
        hoist_kube_lease_tick(l);
        return 0;
    }
    if (uv_timer_start(&l->timer, on_timer, 0, 0) != 0)
        return hoist_errf(err, "Lease %s/%s: cannot arm the timer", l->ns, l->name);
    return 0;
}

static void on_nothing_released(uv_timer_t *t)
{
    hoist_kube_lease *l = t->data;
    if (l->release_done) {
        hoist_kube_lease_cb done = l->release_done;
        l->release_done = NULL;
        done(l->release_arg);
    }
}

int hoist_kube_lease_release(hoist_kube_lease *l, hoist_kube_lease_cb done, void *arg,
                             hoist_err *err)
{
    if (l->released)
        return hoist_errf(err, "Lease %s/%s: already released", l->ns, l->name);
    l->released = true;
    uv_timer_stop(&l->timer);
    bool was_leader = l->leader && l->observed;
    if (l->req) {
        hoist_kube_request_cancel(l->req);
        l->req = NULL;
        l->call = CALL_NONE;
    }
    stop_leading(l, "released");
    l->release_done = done;
    l->release_arg = arg;
    if (was_leader) {
        /* client-go's ReleaseOnCancel: no holder, a one-second lease */
        put_lease(l, CALL_RELEASE, "", 1, false);
        if (l->req)
            return 0;
    }
    if (uv_timer_start(&l->timer, on_nothing_released, 0, 0) != 0)
        return hoist_errf(err, "Lease %s/%s: cannot arm the timer", l->ns, l->name);
    return 0;
}

/* ---- the lease ------------------------------------------------------------------------- */

hoist_kube_lease *hoist_kube_lease_new(const hoist_kube_client *client,
                                       const hoist_kube_lease_config *cfg, hoist_err *err)
{
    if (!client || !client->loop || !client->http || !client->kube) {
        hoist_errf(err, "lease: missing loop, HTTP client or kubeconfig");
        return NULL;
    }
    if (!cfg || !cfg->ns || !*cfg->ns) {
        hoist_errf(err, "lease: namespace: missing");
        return NULL;
    }
    if (!cfg->name || !*cfg->name) {
        hoist_errf(err, "lease: name: missing");
        return NULL;
    }
    if (cfg->identity && !*cfg->identity) {
        hoist_errf(err, "lease: identity: empty");
        return NULL;
    }
    hoist_kube_lease *l = calloc(1, sizeof *l);
    if (!l) {
        hoist_errf(err, "lease: out of memory");
        return NULL;
    }
    l->client = *client;
    l->cfg = *cfg;
    hoist_kube_lease_config *c = &l->cfg;
    if (!c->lease_duration_s)
        c->lease_duration_s = HOIST_KUBE_LEASE_DURATION_S;
    if (!c->renew_deadline_ms)
        c->renew_deadline_ms = HOIST_KUBE_LEASE_RENEW_DEADLINE_MS;
    if (!c->retry_period_ms)
        c->retry_period_ms = HOIST_KUBE_LEASE_RETRY_PERIOD_MS;
    if (!c->now_ms)
        c->now_ms = hoist_kube_real_clock_ms;
    l->rng = c->seed;
    char ident[300];
    if (cfg->identity) {
        snprintf(ident, sizeof ident, "%s", cfg->identity);
    } else {
        char host[256] = "";
        if (gethostname(host, sizeof host) != 0 || !*host)
            snprintf(host, sizeof host, "unknown");
        host[sizeof host - 1] = '\0';
        snprintf(ident, sizeof ident, "%s_%ld", host, (long)getpid());
    }
    l->ns = strdup(cfg->ns);
    l->name = strdup(cfg->name);
    l->identity = strdup(ident);
    char *ens = l->ns ? hoist_kube_escape(l->ns) : NULL;
    char *ename = l->name ? hoist_kube_escape(l->name) : NULL;
    if (ens && asprintf(&l->coll_path, "/apis/coordination.k8s.io/v1/namespaces/%s/leases",
                        ens) < 0)
        l->coll_path = NULL;
    if (l->coll_path && ename && asprintf(&l->item_path, "%s/%s", l->coll_path, ename) < 0)
        l->item_path = NULL;
    free(ens);
    free(ename);
    c->ns = c->name = c->identity = NULL;
    if (!l->ns || !l->name || !l->identity || !l->item_path ||
        uv_timer_init(client->loop, &l->timer) != 0) {
        free(l->ns);
        free(l->name);
        free(l->identity);
        free(l->coll_path);
        free(l->item_path);
        free(l);
        hoist_errf(err, "lease: out of memory");
        return NULL;
    }
    l->timer.data = l;
    return l;
}

bool hoist_kube_lease_is_leader(const hoist_kube_lease *l)
{
    return l && l->leader;
}

const char *hoist_kube_lease_holder(const hoist_kube_lease *l)
{
    return l->holder;
}

const char *hoist_kube_lease_identity(const hoist_kube_lease *l)
{
    return l->identity;
}

bool hoist_kube_lease_busy(const hoist_kube_lease *l)
{
    return l && l->req;
}

const char *hoist_kube_lease_last_error(const hoist_kube_lease *l)
{
    return l->last_error;
}

const hoist_kube_lease_stats *hoist_kube_lease_get_stats(const hoist_kube_lease *l)
{
    return &l->stats;
}

static void on_closed(uv_handle_t *h)
{
    hoist_kube_lease *l = h->data;
    json_decref(l->observed);
    free(l->observed_rv);
    free(l->ns);
    free(l->name);
    free(l->identity);
    free(l->coll_path);
    free(l->item_path);
    free(l);
}

void hoist_kube_lease_close(hoist_kube_lease *l)
{
    if (!l)
        return;
    hoist_kube_request_cancel(l->req);
    l->req = NULL;
    l->released = true;
    l->release_done = NULL;
    uv_close((uv_handle_t *)&l->timer, on_closed);
}
