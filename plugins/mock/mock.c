/*
 * mock.c - the mock provider: an in-memory cloud behind the hoist plugin ABI.
 *
 * Every operation decides at call time and delivers its result later through
 * a host timer (the launch latency, or 0 ms), so callbacks never run inside
 * the call. Faults are injected per offering with control() commands or the
 * "faults" config key; README.md documents the config, the spot model, the
 * launch rule and every command.
 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <hoist/provider.h>

#include "mock_catalog.h"
#include "mock_remote.h"

#define MOCK_VERSION "0.1.0"
#define MOCK_MAX_ZONES 64

typedef struct mock_machine {
    char id[24];
    char provider_id[160];
    char *claim;
    size_t offer;               /* index into cat.offers */
    double price;               /* USD/h at launch */
    hoist_machine_state state;
    uint64_t launch_ms;
    uint64_t ready_ms;          /* when the launch completes */
    hoist_kv *tags;
    size_t n_tags;
    uint64_t seq;               /* launch sequence number (drives its id) */
    uint64_t draws;             /* random interruption draws so far */
    bool interrupted;           /* an interruption notice was given */
} mock_machine;

typedef enum op_kind {
    OP_CATALOG,
    OP_LAUNCH,
    OP_TERMINATE,
    OP_LIST,
    OP_EVENT,            /* deliver `event` to the watchers */
    OP_RECLAIM,          /* interruption deadline: terminate the machine */
    OP_RANDOM_INTERRUPT  /* a random interruption notice is due */
} op_kind;

typedef struct mock_state mock_state;

/* A pending timer-driven operation. */
typedef struct mock_op {
    struct mock_op *prev, *next;
    mock_state *st;
    hoist_timer *timer;
    op_kind kind;
    union {
        hoist_catalog_cb catalog;
        hoist_launch_cb launch;
        hoist_done_cb done;
        hoist_list_cb list;
    } cb;
    void *arg;
    mock_machine *machine;
    bool failed;
    hoist_error err;
    hoist_launch_offering *exhausted;
    size_t n_exhausted;
    mock_machine **matches;     /* OP_LIST */
    size_t n_matches;
    hoist_event_kind event_kind;/* OP_EVENT */
    uint64_t deadline_ms;
} mock_op;

typedef struct mock_watcher {
    hoist_event_cb cb;
    void *arg;
} mock_watcher;

struct mock_state {
    const hoist_host *host;
    mock_catalog cat;
    mock_spot_params sp;
    uint64_t seed;
    uint64_t default_latency_ms;
    mock_machine **machines;
    size_t n_machines, cap_machines;
    uint64_t launch_seq;
    mock_op *ops;               /* pending operations (doubly linked) */
    mock_watcher *watchers;
    size_t n_watchers;
    mock_remote *remote;        /* remote mode ("endpoint"): every operation goes there */
    int depth;                  /* > 0 while a timer callback runs */
    bool dead;                  /* destroy() was called inside a callback */
};

/* ---- small helpers ---- */

#define MLOG(st, level, ...) \
    do { \
        if ((st)->host->log) \
            (st)->host->log((st)->host->ctx, (level), __VA_ARGS__); \
    } while (0)

static uint64_t now_ms(const mock_state *st)
{
    return st->host->now_ms ? st->host->now_ms(st->host->ctx) : 0;
}

static const mock_offer *machine_offer(const mock_state *st, const mock_machine *m)
{
    return &st->cat.offers[m->offer];
}

static const char *offer_type(const mock_state *st, const mock_offer *o)
{
    return st->cat.types[o->type_index].info.name;
}

static void count_metric(mock_state *st, const char *name, const char *help, const char *ct,
                         const char *outcome)
{
    if (!HOIST_HOST_HAS(st->host, metric_counter_add) || !st->host->metric_counter_add)
        return;
    hoist_kv labels[2] = {{"capacity_type", ct}, {"outcome", outcome}};
    st->host->metric_counter_add(st->host->ctx, name, help, labels, 2, 1.0);
}

/* ---- pending operations ---- */

static void op_unlink(mock_state *st, mock_op *op)
{
    if (op->prev)
        op->prev->next = op->next;
    else if (st->ops == op)
        st->ops = op->next;
    if (op->next)
        op->next->prev = op->prev;
    op->prev = op->next = NULL;
}

static void op_free(mock_op *op)
{
    free(op->exhausted);
    free(op->matches);
    free(op);
}

static mock_op *op_new(mock_state *st, op_kind kind)
{
    mock_op *op = calloc(1, sizeof *op);
    if (op) {
        op->st = st;
        op->kind = kind;
    }
    return op;
}

static void op_fire(void *arg);

/* Arm op's timer and link it; on failure frees op and fills err. */
static hoist_status op_start(mock_state *st, mock_op *op, uint64_t delay_ms, hoist_error *err)
{
    op->timer = st->host->timer_start(st->host->ctx, delay_ms, op_fire, op);
    if (!op->timer) {
        op_free(op);
        return mock_errf(err, HOIST_E_INTERNAL, "mock: host timer_start failed");
    }
    op->next = st->ops;
    if (st->ops)
        st->ops->prev = op;
    st->ops = op;
    return HOIST_OK;
}

static void op_cancel(mock_state *st, mock_op *op)
{
    op_unlink(st, op);
    if (op->timer)
        st->host->timer_cancel(st->host->ctx, op->timer);
    op_free(op);
}

/* Cancel the machine's pending reclaim and random-interruption timers. */
static void cancel_machine_timers(mock_state *st, const mock_machine *m)
{
    mock_op *op = st->ops;
    while (op) {
        mock_op *next = op->next;
        if (op->machine == m && (op->kind == OP_RECLAIM || op->kind == OP_RANDOM_INTERRUPT))
            op_cancel(st, op);
        op = next;
    }
}

/* ---- machines and events ---- */

static void machine_view(const mock_state *st, const mock_machine *m, hoist_machine *v)
{
    const mock_offer *o = machine_offer(st, m);
    v->struct_size = sizeof *v;
    v->instance_id = m->id;
    v->provider_id = m->provider_id;
    v->instance_type = offer_type(st, o);
    v->zone = o->zone;
    v->capacity_type = o->capacity_type;
    v->price = m->price;
    v->state = m->state;
    v->launch_time_ms = m->launch_ms;
    v->tags = m->tags;
    v->n_tags = m->n_tags;
}

static void machine_free(mock_machine *m)
{
    for (size_t i = 0; i < m->n_tags; i++) {
        free((char *)m->tags[i].key);
        free((char *)m->tags[i].value);
    }
    free(m->tags);
    free(m->claim);
    free(m);
}

static mock_machine *find_machine(const mock_state *st, const char *id)
{
    for (size_t i = 0; i < st->n_machines; i++)
        if (strcmp(st->machines[i]->id, id) == 0)
            return st->machines[i];
    return NULL;
}

/* Deliver an event to every watcher; stops if a watcher destroyed the instance. */
static void deliver_event(mock_state *st, hoist_event_kind kind, const mock_machine *m,
                          uint64_t deadline_ms)
{
    hoist_event ev = {sizeof ev, kind, m->id, m->state, deadline_ms};
    for (size_t i = 0; i < st->n_watchers && !st->dead; i++)
        st->watchers[i].cb(st->watchers[i].arg, &ev);
}

static hoist_status queue_event(mock_state *st, hoist_event_kind kind, mock_machine *m,
                                uint64_t deadline_ms, hoist_error *err)
{
    mock_op *op = op_new(st, OP_EVENT);
    if (!op)
        return mock_errf(err, HOIST_E_INTERNAL, "mock: out of memory");
    op->machine = m;
    op->event_kind = kind;
    op->deadline_ms = deadline_ms;
    return op_start(st, op, 0, err);
}

/* Give machine m an interruption notice; it is reclaimed notice_ms later. */
static hoist_status start_interruption(mock_state *st, mock_machine *m, uint64_t notice_ms,
                                       hoist_error *err)
{
    if (m->state == HOIST_MACHINE_TERMINATED || m->state == HOIST_MACHINE_SHUTTING_DOWN)
        return mock_errf(err, HOIST_E_INVALID, "instance %s is already %s", m->id,
                    m->state == HOIST_MACHINE_TERMINATED ? "terminated" : "shutting down");
    if (m->interrupted)
        return mock_errf(err, HOIST_E_INVALID, "instance %s already has an interruption notice",
                    m->id);
    cancel_machine_timers(st, m);
    uint64_t deadline = now_ms(st) + notice_ms;
    mock_op *reclaim = op_new(st, OP_RECLAIM);
    if (!reclaim)
        return mock_errf(err, HOIST_E_INTERNAL, "mock: out of memory");
    reclaim->machine = m;
    hoist_status s = op_start(st, reclaim, notice_ms, err);
    if (s != HOIST_OK)
        return s;
    s = queue_event(st, HOIST_EVENT_SPOT_INTERRUPTION, m, deadline, err);
    if (s != HOIST_OK)
        return s;
    m->interrupted = true;
    MLOG(st, HOIST_LOG_INFO, "mock: spot interruption notice for %s, reclaimed at %" PRIu64,
         m->id, deadline);
    count_metric(st, "mock_interruptions_total", "Spot interruptions the mock issued",
                 mock_capacity_name(machine_offer(st, m)->capacity_type), "notice");
    return HOIST_OK;
}

/* Arm a random interruption for a running spot machine whose offering has a rate. */
static void arm_random_interruption(mock_state *st, mock_machine *m)
{
    const mock_offer *o = machine_offer(st, m);
    if (o->capacity_type != HOIST_CAPACITY_SPOT || m->state != HOIST_MACHINE_RUNNING ||
        m->interrupted || !(o->interrupt_rate_per_hour > 0.0))
        return;
    uint64_t h = mock_mix64(mock_mix64(st->seed ^ 0x5851f42d4c957f2dull) ^
                            mock_mix64(m->seq * 1000003ull + m->draws++));
    double u = mock_unit(h);
    double hours = -log1p(-u) / o->interrupt_rate_per_hour;
    double ms = hours * 3600000.0;
    uint64_t delay = ms > 1e15 ? (uint64_t)1e15 : (uint64_t)ms;
    mock_op *op = op_new(st, OP_RANDOM_INTERRUPT);
    if (!op) {
        MLOG(st, HOIST_LOG_ERROR, "mock: out of memory arming an interruption for %s", m->id);
        return;
    }
    op->machine = m;
    hoist_error e;
    if (op_start(st, op, delay, &e) != HOIST_OK)
        MLOG(st, HOIST_LOG_ERROR, "mock: %s", e.message);
}

/* ---- the timer callback ---- */

static void state_free(mock_state *st);

static void fire_launch(mock_state *st, mock_op *op)
{
    if (op->failed) {
        op->cb.launch(op->arg, &op->err, NULL, op->exhausted, op->n_exhausted);
        return;
    }
    mock_machine *m = op->machine;
    if (m->state == HOIST_MACHINE_PENDING) {
        m->state = HOIST_MACHINE_RUNNING;
        arm_random_interruption(st, m);
    }
    hoist_machine v;
    machine_view(st, m, &v);
    op->cb.launch(op->arg, NULL, &v, op->exhausted, op->n_exhausted);
}

static void fire_list(mock_state *st, mock_op *op)
{
    hoist_machine *views = calloc(op->n_matches ? op->n_matches : 1, sizeof *views);
    if (!views) {
        hoist_error e;
        mock_errf(&e, HOIST_E_INTERNAL, "mock: out of memory listing machines");
        op->cb.list(op->arg, &e, NULL, 0);
        return;
    }
    size_t n = 0;
    for (size_t i = 0; i < op->n_matches; i++)
        if (op->matches[i]->state != HOIST_MACHINE_TERMINATED)
            machine_view(st, op->matches[i], &views[n++]);
    op->cb.list(op->arg, NULL, views, n);
    free(views);
}

static void op_fire(void *arg)
{
    mock_op *op = arg;
    mock_state *st = op->st;
    op_unlink(st, op);
    op->timer = NULL;
    st->depth++;
    switch (op->kind) {
    case OP_CATALOG: {
        const hoist_instance_type *v = mock_catalog_snapshot(&st->cat, st->seed, &st->sp,
                                                             now_ms(st));
        op->cb.catalog(op->arg, NULL, v, st->cat.n_types);
        break;
    }
    case OP_LAUNCH:
        fire_launch(st, op);
        break;
    case OP_TERMINATE:
        if (!op->failed && op->machine->state != HOIST_MACHINE_TERMINATED)
            op->machine->state = HOIST_MACHINE_TERMINATED;
        op->cb.done(op->arg, op->failed ? &op->err : NULL);
        break;
    case OP_LIST:
        fire_list(st, op);
        break;
    case OP_EVENT:
        deliver_event(st, op->event_kind, op->machine, op->deadline_ms);
        break;
    case OP_RECLAIM:
        if (op->machine->state != HOIST_MACHINE_TERMINATED) {
            op->machine->state = HOIST_MACHINE_TERMINATED;
            MLOG(st, HOIST_LOG_INFO, "mock: %s reclaimed (spot interruption)", op->machine->id);
            deliver_event(st, HOIST_EVENT_STATE_CHANGE, op->machine, 0);
        }
        break;
    case OP_RANDOM_INTERRUPT: {
        hoist_error e;
        if (start_interruption(st, op->machine, st->sp.interruption_notice_ms, &e) != HOIST_OK)
            MLOG(st, HOIST_LOG_WARN, "mock: random interruption: %s", e.message);
        break;
    }
    }
    st->depth--;
    op_free(op);
    if (st->dead && st->depth == 0)
        state_free(st);
}

/* ---- launch ---- */

/* Choose among available offerings (cat.offers indices, request order). */
static size_t pick_offer(const mock_state *st, const size_t *idx, size_t n,
                         hoist_alloc_strategy strategy, uint64_t now)
{
    double *price = malloc(n * sizeof *price);
    size_t best = 0;
    if (!price)
        return 0; /* degrade to the request order */
    for (size_t i = 0; i < n; i++)
        price[i] = mock_offer_price(&st->cat, &st->cat.offers[idx[i]], st->seed, &st->sp, now);
    double pmin = price[0];
    for (size_t i = 1; i < n; i++)
        if (price[i] < pmin)
            pmin = price[i];
    double limit = pmin * (1.0 + st->sp.pco_price_band) + 1e-12;
    for (size_t i = 1; i < n; i++) {
        const mock_offer *a = &st->cat.offers[idx[i]], *b = &st->cat.offers[idx[best]];
        switch (strategy) {
        case HOIST_ALLOC_PRIORITIZED:
            break;
        case HOIST_ALLOC_LOWEST_PRICE:
            if (price[i] < price[best])
                best = i;
            break;
        case HOIST_ALLOC_CAPACITY_OPTIMIZED:
            if (a->pool_depth > b->pool_depth ||
                (a->pool_depth == b->pool_depth && price[i] < price[best]))
                best = i;
            break;
        case HOIST_ALLOC_PRICE_CAPACITY_OPTIMIZED:
            if (price[i] > limit)
                break;
            if (price[best] > limit || a->pool_depth > b->pool_depth ||
                (a->pool_depth == b->pool_depth && price[i] < price[best]))
                best = i;
            break;
        }
    }
    free(price);
    return best;
}

static hoist_status launch_existing(mock_state *st, mock_machine *m, hoist_launch_cb cb,
                                    void *arg, hoist_error *err)
{
    mock_op *op = op_new(st, OP_LAUNCH);
    if (!op)
        return mock_errf(err, HOIST_E_INTERNAL, "mock: out of memory");
    op->cb.launch = cb;
    op->arg = arg;
    op->machine = m;
    uint64_t now = now_ms(st);
    return op_start(st, op, m->ready_ms > now ? m->ready_ms - now : 0, err);
}

static int add_tag(mock_machine *m, const char *key, const char *value)
{
    hoist_kv *t = realloc(m->tags, (m->n_tags + 1) * sizeof *t);
    if (!t)
        return -1;
    m->tags = t;
    char *k = strdup(key), *v = strdup(value);
    if (!k || !v) {
        free(k);
        free(v);
        return -1;
    }
    t[m->n_tags].key = k;
    t[m->n_tags].value = v;
    m->n_tags++;
    return 0;
}

static bool has_tag_key(const mock_machine *m, const char *key)
{
    for (size_t i = 0; i < m->n_tags; i++)
        if (strcmp(m->tags[i].key, key) == 0)
            return true;
    return false;
}

static mock_machine *machine_new(mock_state *st, const hoist_launch_request *req, size_t offer,
                                 uint64_t seq, uint64_t now, uint64_t latency)
{
    if (st->n_machines == st->cap_machines) {
        size_t cap = st->cap_machines ? st->cap_machines * 2 : 16;
        mock_machine **n = realloc(st->machines, cap * sizeof *n);
        if (!n)
            return NULL;
        st->machines = n;
        st->cap_machines = cap;
    }
    mock_machine *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    const mock_offer *o = &st->cat.offers[offer];
    m->seq = seq;
    snprintf(m->id, sizeof m->id, "i-0%016" PRIx64, mock_mix64(st->seed * 0x9e3779b97f4a7c15ull + seq));
    snprintf(m->provider_id, sizeof m->provider_id, "aws:///%s/%s", o->zone, m->id);
    m->claim = strdup(req->claim);
    m->offer = offer;
    m->price = mock_offer_price(&st->cat, o, st->seed, &st->sp, now);
    m->state = HOIST_MACHINE_PENDING;
    m->launch_ms = now;
    m->ready_ms = now + latency;
    bool ok = m->claim != NULL;
    for (size_t i = 0; ok && i < req->n_tags; i++)
        ok = add_tag(m, req->tags[i].key, req->tags[i].value) == 0;
    if (ok && !has_tag_key(m, HOIST_TAG_CLAIM))
        ok = add_tag(m, HOIST_TAG_CLAIM, req->claim) == 0;
    if (ok && req->cluster && !has_tag_key(m, HOIST_TAG_CLUSTER))
        ok = add_tag(m, HOIST_TAG_CLUSTER, req->cluster) == 0;
    if (ok && req->nodepool && !has_tag_key(m, HOIST_TAG_NODEPOOL))
        ok = add_tag(m, HOIST_TAG_NODEPOOL, req->nodepool) == 0;
    if (!ok) {
        machine_free(m);
        return NULL;
    }
    st->machines[st->n_machines++] = m;
    return m;
}

static bool valid_strategy(hoist_alloc_strategy s)
{
    return s == HOIST_ALLOC_LOWEST_PRICE || s == HOIST_ALLOC_PRICE_CAPACITY_OPTIMIZED ||
           s == HOIST_ALLOC_CAPACITY_OPTIMIZED || s == HOIST_ALLOC_PRIORITIZED;
}

static hoist_status mock_launch(void *state, const hoist_launch_request *req, hoist_launch_cb cb,
                                void *arg, hoist_error *err)
{
    mock_state *st = state;
    if (st->remote)
        return mock_remote_launch(st->remote, req, cb, arg, err);
    if (!req || !cb)
        return mock_errf(err, HOIST_E_INVALID, "launch: request and callback are required");
    if (!req->claim || !*req->claim)
        return mock_errf(err, HOIST_E_INVALID, "launch: claim: a non-empty claim name is required");
    if (req->n_offerings == 0 || !req->offerings)
        return mock_errf(err, HOIST_E_INVALID, "launch %s: offerings: at least one is required",
                    req->claim);
    if (req->offerings->struct_size < offsetof(hoist_launch_offering, price) + sizeof(double))
        return mock_errf(err, HOIST_E_INVALID, "launch %s: offerings: element size %u is too small",
                    req->claim, (unsigned)req->offerings->struct_size);
    if (!valid_strategy(req->spot_strategy) || !valid_strategy(req->on_demand_strategy))
        return mock_errf(err, HOIST_E_INVALID, "launch %s: unknown allocation strategy", req->claim);
    for (size_t i = 0; i < req->n_tags; i++)
        if (!req->tags || !req->tags[i].key || !req->tags[i].value)
            return mock_errf(err, HOIST_E_INVALID, "launch %s: tags[%zu]: key and value are required",
                        req->claim, i);
    for (size_t i = 0; i < req->n_offerings; i++)
        if (!HOIST_NTH(req->offerings, i)->instance_type || !HOIST_NTH(req->offerings, i)->zone)
            return mock_errf(err, HOIST_E_INVALID,
                        "launch %s: offerings[%zu]: instance_type and zone are required",
                        req->claim, i);

    for (size_t i = st->n_machines; i-- > 0;)
        if (strcmp(st->machines[i]->claim, req->claim) == 0)
            return launch_existing(st, st->machines[i], cb, arg, err);

    uint64_t now = now_ms(st);
    size_t *known = malloc(req->n_offerings * sizeof *known);
    size_t *avail = malloc(req->n_offerings * sizeof *avail);
    mock_op *op = op_new(st, OP_LAUNCH);
    if (op)
        op->exhausted = calloc(req->n_offerings, sizeof *op->exhausted);
    if (!known || !avail || !op || !op->exhausted) {
        free(known);
        free(avail);
        if (op)
            op_free(op);
        return mock_errf(err, HOIST_E_INTERNAL, "mock: out of memory");
    }
    op->cb.launch = cb;
    op->arg = arg;
    size_t n_known = 0;
    long first_unknown = -1;
    for (size_t i = 0; i < req->n_offerings; i++) {
        const hoist_launch_offering *ro = HOIST_NTH(req->offerings, i);
        long o = mock_catalog_find_offer(&st->cat, ro->instance_type, ro->zone, ro->capacity_type);
        if (o < 0) {
            if (first_unknown < 0)
                first_unknown = (long)i;
            continue;
        }
        bool dup = false;
        for (size_t k = 0; k < n_known && !dup; k++)
            dup = known[k] == (size_t)o;
        if (!dup)
            known[n_known++] = (size_t)o;
    }
    if (n_known == 0) {
        const hoist_launch_offering *ro = HOIST_NTH(req->offerings, first_unknown);
        mock_errf(err, HOIST_E_INVALID, "launch %s: no requested offering exists (offerings[%ld]: %s %s %s)",
             req->claim, first_unknown, ro->instance_type, ro->zone,
             mock_capacity_name(ro->capacity_type));
        free(known);
        free(avail);
        op_free(op);
        return HOIST_E_INVALID;
    }

    static const hoist_capacity_type order[3] = {HOIST_CAPACITY_RESERVED, HOIST_CAPACITY_SPOT,
                                                 HOIST_CAPACITY_ON_DEMAND};
    long chosen = -1;
    for (int c = 0; c < 3 && chosen < 0; c++) {
        size_t n_avail = 0;
        for (size_t k = 0; k < n_known; k++) {
            const mock_offer *o = &st->cat.offers[known[k]];
            if (o->capacity_type != order[c])
                continue;
            if (mock_offer_available(o, now)) {
                avail[n_avail++] = known[k];
            } else {
                hoist_launch_offering *x = &op->exhausted[op->n_exhausted++];
                x->struct_size = sizeof *x;
                x->instance_type = offer_type(st, o);
                x->zone = o->zone;
                x->capacity_type = o->capacity_type;
                x->price = mock_offer_price(&st->cat, o, st->seed, &st->sp, now);
            }
        }
        if (n_avail > 0) {
            hoist_alloc_strategy s = order[c] == HOIST_CAPACITY_SPOT ? req->spot_strategy
                                                                     : req->on_demand_strategy;
            chosen = (long)avail[pick_offer(st, avail, n_avail, s, now)];
        }
    }
    free(known);
    free(avail);

    if (chosen < 0) {
        op->failed = true;
        mock_errf(&op->err, HOIST_E_INSUFFICIENT_CAPACITY,
             "launch %s: insufficient capacity in all %zu requested offerings", req->claim,
             op->n_exhausted);
        count_metric(st, "mock_launches_total", "Launches the mock served", "none",
                     "insufficient-capacity");
        MLOG(st, HOIST_LOG_DEBUG, "mock: launch %s: insufficient capacity", req->claim);
        return op_start(st, op, 0, err);
    }

    mock_offer *o = &st->cat.offers[chosen];
    uint64_t latency = o->latency_ms >= 0 ? (uint64_t)o->latency_ms : st->default_latency_ms;
    uint64_t seq = ++st->launch_seq;
    const char *ctname = mock_capacity_name(o->capacity_type);
    if (o->fail_launches != 0) {
        if (o->fail_launches > 0)
            o->fail_launches--;
        op->failed = true;
        mock_errf(&op->err, HOIST_E_LAUNCH_FAILED,
             "launch %s: instance i-0%016" PRIx64 " (%s %s %s) failed to start (injected)",
             req->claim, mock_mix64(st->seed * 0x9e3779b97f4a7c15ull + seq), offer_type(st, o),
             o->zone, ctname);
        count_metric(st, "mock_launches_total", "Launches the mock served", ctname,
                     "launch-failed");
        return op_start(st, op, latency, err);
    }
    mock_machine *m = machine_new(st, req, (size_t)chosen, seq, now, latency);
    if (!m) {
        op_free(op);
        return mock_errf(err, HOIST_E_INTERNAL, "mock: out of memory");
    }
    op->machine = m;
    count_metric(st, "mock_launches_total", "Launches the mock served", ctname, "ok");
    MLOG(st, HOIST_LOG_DEBUG, "mock: launch %s -> %s %s %s %s $%.4f", req->claim, m->id,
         offer_type(st, o), o->zone, ctname, m->price);
    return op_start(st, op, latency, err);
}

/* ---- catalog, terminate, list, events ---- */

static hoist_status mock_catalog_op(void *state, hoist_catalog_cb cb, void *arg, hoist_error *err)
{
    mock_state *st = state;
    if (st->remote)
        return mock_remote_catalog(st->remote, cb, arg, err);
    if (!cb)
        return mock_errf(err, HOIST_E_INVALID, "catalog: a callback is required");
    mock_op *op = op_new(st, OP_CATALOG);
    if (!op)
        return mock_errf(err, HOIST_E_INTERNAL, "mock: out of memory");
    op->cb.catalog = cb;
    op->arg = arg;
    return op_start(st, op, 0, err);
}

static hoist_status mock_terminate(void *state, const char *instance_id, hoist_done_cb cb,
                                   void *arg, hoist_error *err)
{
    mock_state *st = state;
    if (st->remote)
        return mock_remote_terminate(st->remote, instance_id, cb, arg, err);
    if (!instance_id || !cb)
        return mock_errf(err, HOIST_E_INVALID, "terminate: instance id and callback are required");
    mock_op *op = op_new(st, OP_TERMINATE);
    if (!op)
        return mock_errf(err, HOIST_E_INTERNAL, "mock: out of memory");
    op->cb.done = cb;
    op->arg = arg;
    mock_machine *m = find_machine(st, instance_id);
    if (!m) {
        op->failed = true;
        mock_errf(&op->err, HOIST_E_NOT_FOUND, "terminate: instance %s does not exist", instance_id);
    } else {
        op->machine = m;
        if (m->state != HOIST_MACHINE_TERMINATED) {
            m->state = HOIST_MACHINE_SHUTTING_DOWN;
            cancel_machine_timers(st, m);
        }
    }
    return op_start(st, op, 0, err);
}

static bool tags_match(const mock_machine *m, const hoist_kv *filter, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        bool found = false;
        for (size_t k = 0; k < m->n_tags && !found; k++)
            found = strcmp(m->tags[k].key, filter[i].key) == 0 &&
                    strcmp(m->tags[k].value, filter[i].value) == 0;
        if (!found)
            return false;
    }
    return true;
}

static hoist_status mock_list(void *state, const hoist_kv *filter, size_t n_filter,
                              hoist_list_cb cb, void *arg, hoist_error *err)
{
    mock_state *st = state;
    if (st->remote)
        return mock_remote_list(st->remote, filter, n_filter, cb, arg, err);
    if (!cb)
        return mock_errf(err, HOIST_E_INVALID, "list: a callback is required");
    for (size_t i = 0; i < n_filter; i++)
        if (!filter || !filter[i].key || !filter[i].value)
            return mock_errf(err, HOIST_E_INVALID, "list: filter[%zu]: key and value are required", i);
    mock_op *op = op_new(st, OP_LIST);
    if (!op || !(op->matches = calloc(st->n_machines ? st->n_machines : 1, sizeof *op->matches))) {
        if (op)
            op_free(op);
        return mock_errf(err, HOIST_E_INTERNAL, "mock: out of memory");
    }
    op->cb.list = cb;
    op->arg = arg;
    for (size_t i = 0; i < st->n_machines; i++) {
        mock_machine *m = st->machines[i];
        if (m->state != HOIST_MACHINE_TERMINATED && tags_match(m, filter, n_filter))
            op->matches[op->n_matches++] = m;
    }
    return op_start(st, op, 0, err);
}

static hoist_status mock_watch_events(void *state, hoist_event_cb cb, void *arg, hoist_error *err)
{
    mock_state *st = state;
    if (st->remote)
        return mock_remote_watch_events(st->remote, cb, arg, err);
    if (!cb)
        return mock_errf(err, HOIST_E_INVALID, "watch_events: a callback is required");
    mock_watcher *w = realloc(st->watchers, (st->n_watchers + 1) * sizeof *w);
    if (!w)
        return mock_errf(err, HOIST_E_INTERNAL, "mock: out of memory");
    st->watchers = w;
    w[st->n_watchers].cb = cb;
    w[st->n_watchers].arg = arg;
    st->n_watchers++;
    return HOIST_OK;
}

/* ---- control commands ---- */

/* Which offerings a command addresses: each field NULL or "*" means any. */
typedef struct offer_match {
    const char *type;
    const char *zone;
    bool any_ct;
    hoist_capacity_type ct;
} offer_match;

static bool offer_matches(const mock_state *st, const mock_offer *o, const offer_match *mt)
{
    return (!mt->type || strcmp(offer_type(st, o), mt->type) == 0) &&
           (!mt->zone || strcmp(o->zone, mt->zone) == 0) &&
           (mt->any_ct || o->capacity_type == mt->ct);
}

static bool field_allowed(const char *key, const char *const *allowed)
{
    for (; *allowed; allowed++)
        if (strcmp(key, *allowed) == 0)
            return true;
    return false;
}

/* A non-negative integer field; *present false when absent. */
static hoist_status cmd_uint(const char *op, const json_t *cmd, const char *key, uint64_t *out,
                             bool *present, hoist_error *err)
{
    json_t *v = json_object_get(cmd, key);
    *present = v != NULL;
    if (!v)
        return HOIST_OK;
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return mock_errf(err, HOIST_E_INVALID, "%s: %s: expected an integer >= 0", op, key);
    *out = (uint64_t)json_integer_value(v);
    return HOIST_OK;
}

static hoist_status cmd_string(const char *op, const json_t *cmd, const char *key,
                               const char **out, hoist_error *err)
{
    json_t *v = json_object_get(cmd, key);
    *out = NULL;
    if (!v)
        return HOIST_OK;
    if (!json_is_string(v) || !*json_string_value(v))
        return mock_errf(err, HOIST_E_INVALID, "%s: %s: expected a non-empty string", op, key);
    *out = json_string_value(v);
    return HOIST_OK;
}

static hoist_status parse_match(const mock_state *st, const char *op, const json_t *cmd,
                                offer_match *mt, hoist_error *err)
{
    const char *ct;
    memset(mt, 0, sizeof *mt);
    mt->any_ct = true;
    if (cmd_string(op, cmd, "instance_type", &mt->type, err) != HOIST_OK ||
        cmd_string(op, cmd, "zone", &mt->zone, err) != HOIST_OK ||
        cmd_string(op, cmd, "capacity_type", &ct, err) != HOIST_OK)
        return HOIST_E_INVALID;
    if (mt->type && strcmp(mt->type, "*") == 0)
        mt->type = NULL;
    if (mt->zone && strcmp(mt->zone, "*") == 0)
        mt->zone = NULL;
    if (ct && strcmp(ct, "*") != 0) {
        if (mock_capacity_parse(ct, &mt->ct) < 0)
            return mock_errf(err, HOIST_E_INVALID,
                        "%s: capacity_type: \"%s\" is not on-demand, spot or reserved", op, ct);
        mt->any_ct = false;
    }
    if (mt->type && mock_catalog_find_type(&st->cat, mt->type) < 0)
        return mock_errf(err, HOIST_E_INVALID, "%s: instance_type: no instance type \"%s\"", op,
                    mt->type);
    size_t n = 0;
    for (size_t i = 0; i < st->cat.n_offers; i++)
        n += offer_matches(st, &st->cat.offers[i], mt);
    if (n == 0)
        return mock_errf(err, HOIST_E_INVALID, "%s: no offering matches %s %s %s", op,
                    mt->type ? mt->type : "*", mt->zone ? mt->zone : "*", ct ? ct : "*");
    return HOIST_OK;
}

static hoist_status apply_command(mock_state *st, const json_t *cmd, hoist_error *err)
{
    static const char *const f_ice[] = {"op", "instance_type", "zone", "capacity_type",
                                        "duration_ms", NULL};
    static const char *const f_match[] = {"op", "instance_type", "zone", "capacity_type", NULL};
    static const char *const f_latency[] = {"op", "instance_type", "zone", "capacity_type", "ms",
                                            NULL};
    static const char *const f_fail[] = {"op", "instance_type", "zone", "capacity_type", "count",
                                         NULL};
    static const char *const f_rate[] = {"op", "instance_type", "zone", "capacity_type",
                                         "per_hour", NULL};
    static const char *const f_interrupt[] = {"op", "instance_id", "notice_ms", NULL};
    static const char *const f_lose[] = {"op", "instance_id", NULL};
    static const char *const f_reset[] = {"op", NULL};
    static const struct {
        const char *name;
        const char *const *fields;
    } ops[] = {{"ice", f_ice},
               {"clear_ice", f_match},
               {"latency", f_latency},
               {"launch_failure", f_fail},
               {"interruption_rate", f_rate},
               {"interrupt", f_interrupt},
               {"lose", f_lose},
               {"reset", f_reset}};

    if (!json_is_object(cmd))
        return mock_errf(err, HOIST_E_INVALID, "expected a JSON object command");
    json_t *opv = json_object_get(cmd, "op");
    if (!opv || !json_is_string(opv))
        return mock_errf(err, HOIST_E_INVALID, "op: missing (a string naming the command)");
    const char *op = json_string_value(opv);
    const char *const *fields = NULL;
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (strcmp(op, ops[i].name) == 0)
            fields = ops[i].fields;
    if (!fields)
        return mock_errf(err, HOIST_E_INVALID, "op: unknown command \"%s\"", op);
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)cmd, key, val) {
        if (!field_allowed(key, fields))
            return mock_errf(err, HOIST_E_INVALID, "%s: unknown field \"%s\"", op, key);
    }
    uint64_t now = now_ms(st);
    offer_match mt;
    bool present;

    if (strcmp(op, "reset") == 0) {
        for (size_t i = 0; i < st->cat.n_offers; i++) {
            mock_offer *o = &st->cat.offers[i];
            o->ice = false;
            o->ice_until_ms = 0;
            o->latency_ms = -1;
            o->fail_launches = 0;
            o->interrupt_rate_per_hour = 0.0;
        }
        for (size_t i = 0; i < st->n_machines; i++)
            if (!st->machines[i]->interrupted) {
                mock_op *p = st->ops;
                while (p) {
                    mock_op *next = p->next;
                    if (p->machine == st->machines[i] && p->kind == OP_RANDOM_INTERRUPT)
                        op_cancel(st, p);
                    p = next;
                }
            }
        return HOIST_OK;
    }
    if (strcmp(op, "interrupt") == 0 || strcmp(op, "lose") == 0) {
        const char *id;
        if (cmd_string(op, cmd, "instance_id", &id, err) != HOIST_OK)
            return HOIST_E_INVALID;
        if (!id)
            return mock_errf(err, HOIST_E_INVALID, "%s: instance_id: missing", op);
        mock_machine *m = find_machine(st, id);
        if (!m)
            return mock_errf(err, HOIST_E_NOT_FOUND, "%s: instance_id: no instance \"%s\"", op, id);
        if (strcmp(op, "lose") == 0) {
            if (m->state == HOIST_MACHINE_TERMINATED)
                return mock_errf(err, HOIST_E_INVALID, "lose: instance %s is already terminated", id);
            cancel_machine_timers(st, m);
            m->state = HOIST_MACHINE_TERMINATED;
            return queue_event(st, HOIST_EVENT_STATE_CHANGE, m, 0, err);
        }
        uint64_t notice = st->sp.interruption_notice_ms;
        if (cmd_uint(op, cmd, "notice_ms", &notice, &present, err) != HOIST_OK)
            return HOIST_E_INVALID;
        if (machine_offer(st, m)->capacity_type != HOIST_CAPACITY_SPOT)
            return mock_errf(err, HOIST_E_INVALID, "interrupt: instance %s is not spot (use lose)", id);
        hoist_status s = start_interruption(st, m, notice, err);
        if (s != HOIST_OK)
            mock_error_prefix(err, "interrupt: ");
        return s;
    }
    if (parse_match(st, op, cmd, &mt, err) != HOIST_OK)
        return HOIST_E_INVALID;

    if (strcmp(op, "ice") == 0 || strcmp(op, "clear_ice") == 0) {
        uint64_t duration = 0;
        if (cmd_uint(op, cmd, "duration_ms", &duration, &present, err) != HOIST_OK)
            return HOIST_E_INVALID;
        for (size_t i = 0; i < st->cat.n_offers; i++) {
            mock_offer *o = &st->cat.offers[i];
            if (!offer_matches(st, o, &mt))
                continue;
            o->ice = op[0] == 'i';
            o->ice_until_ms = (o->ice && duration > 0) ? now + duration : 0;
        }
        return HOIST_OK;
    }
    if (strcmp(op, "latency") == 0) {
        uint64_t ms = 0;
        if (cmd_uint(op, cmd, "ms", &ms, &present, err) != HOIST_OK)
            return HOIST_E_INVALID;
        if (!present)
            return mock_errf(err, HOIST_E_INVALID, "latency: ms: missing");
        if (ms > INT64_MAX)
            return mock_errf(err, HOIST_E_INVALID, "latency: ms: too large");
        for (size_t i = 0; i < st->cat.n_offers; i++)
            if (offer_matches(st, &st->cat.offers[i], &mt))
                st->cat.offers[i].latency_ms = (int64_t)ms;
        return HOIST_OK;
    }
    if (strcmp(op, "launch_failure") == 0) {
        uint64_t count = 0;
        if (cmd_uint(op, cmd, "count", &count, &present, err) != HOIST_OK)
            return HOIST_E_INVALID;
        if (present && count > INT64_MAX)
            return mock_errf(err, HOIST_E_INVALID, "launch_failure: count: too large");
        for (size_t i = 0; i < st->cat.n_offers; i++)
            if (offer_matches(st, &st->cat.offers[i], &mt))
                st->cat.offers[i].fail_launches = present ? (int64_t)count : -1;
        return HOIST_OK;
    }
    /* interruption_rate */
    json_t *rv = json_object_get(cmd, "per_hour");
    if (!rv || !json_is_number(rv) || !(json_number_value(rv) >= 0.0) ||
        !isfinite(json_number_value(rv)))
        return mock_errf(err, HOIST_E_INVALID, "interruption_rate: per_hour: expected a number >= 0");
    double rate = json_number_value(rv);
    for (size_t i = 0; i < st->cat.n_offers; i++)
        if (offer_matches(st, &st->cat.offers[i], &mt))
            st->cat.offers[i].interrupt_rate_per_hour = rate;
    for (size_t i = 0; i < st->n_machines; i++) {
        mock_machine *m = st->machines[i];
        if (m->interrupted || !offer_matches(st, machine_offer(st, m), &mt))
            continue;
        cancel_machine_timers(st, m);
        arm_random_interruption(st, m);
    }
    return HOIST_OK;
}

static hoist_status mock_control(void *state, const char *command, hoist_error *err)
{
    mock_state *st = state;
    if (st->remote)
        return mock_errf(err, HOIST_E_UNSUPPORTED, "control: not in remote mode (POST the command to "
                    "the cloud's /control)");
    if (!command)
        return mock_errf(err, HOIST_E_INVALID, "control: a command is required");
    json_error_t jerr;
    json_t *cmd = json_loads(command, JSON_REJECT_DUPLICATES, &jerr);
    if (!cmd)
        return mock_errf(err, HOIST_E_INVALID, "control: not valid JSON: %s (column %d)", jerr.text,
                    jerr.column);
    hoist_status s = apply_command(st, cmd, err);
    json_decref(cmd);
    if (s != HOIST_OK)
        mock_error_prefix(err, "control: ");
    return s;
}

/* ---- init and destroy ---- */

static void state_free(mock_state *st)
{
    mock_remote_free(st->remote);
    while (st->ops)
        op_cancel(st, st->ops);
    for (size_t i = 0; i < st->n_machines; i++)
        machine_free(st->machines[i]);
    free(st->machines);
    free(st->watchers);
    mock_catalog_free(&st->cat);
    free(st);
}

static void mock_destroy(void *state)
{
    mock_state *st = state;
    if (!st)
        return;
    if (st->remote) {
        mock_remote_free(st->remote); /* safe inside its own callbacks */
        st->remote = NULL;
        state_free(st);
        return;
    }
    if (st->depth > 0) {
        /* Inside one of our callbacks: stop everything now, free on the way out. */
        while (st->ops)
            op_cancel(st, st->ops);
        free(st->watchers);
        st->watchers = NULL;
        st->n_watchers = 0;
        st->dead = true;
        return;
    }
    state_free(st);
}

static hoist_status cfg_number(const char *key, const json_t *v, double min, double max,
                               double *out, hoist_error *err)
{
    if (!json_is_number(v))
        return mock_errf(err, HOIST_E_INVALID, "config: %s: expected a number", key);
    double x = json_number_value(v);
    if (!(x >= min && x <= max))
        return mock_errf(err, HOIST_E_INVALID, "config: %s: %g out of range [%g, %g]", key, x, min, max);
    *out = x;
    return HOIST_OK;
}

static hoist_status cfg_uint(const char *key, const json_t *v, uint64_t *out, hoist_error *err)
{
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return mock_errf(err, HOIST_E_INVALID, "config: %s: expected an integer >= 0", key);
    *out = (uint64_t)json_integer_value(v);
    return HOIST_OK;
}

static hoist_status parse_spot(mock_spot_params *sp, const json_t *obj, hoist_error *err)
{
    if (!json_is_object(obj))
        return mock_errf(err, HOIST_E_INVALID, "config: spot: expected an object");
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v) {
        hoist_status s;
        char label[64];
        snprintf(label, sizeof label, "spot.%s", key);
        if (strcmp(key, "min_ratio") == 0)
            s = cfg_number(label, v, 0.0001, 1.0, &sp->min_ratio, err);
        else if (strcmp(key, "max_ratio") == 0)
            s = cfg_number(label, v, 0.0001, 1.0, &sp->max_ratio, err);
        else if (strcmp(key, "zone_spread") == 0)
            s = cfg_number(label, v, 0.0, 0.9, &sp->zone_spread, err);
        else if (strcmp(key, "drift_amplitude") == 0)
            s = cfg_number(label, v, 0.0, 0.9, &sp->drift_amplitude, err);
        else if (strcmp(key, "pco_price_band") == 0)
            s = cfg_number(label, v, 0.0, 100.0, &sp->pco_price_band, err);
        else if (strcmp(key, "drift_period_ms") == 0) {
            s = cfg_uint(label, v, &sp->drift_period_ms, err);
            if (s == HOIST_OK && sp->drift_period_ms == 0)
                s = mock_errf(err, HOIST_E_INVALID, "config: spot.drift_period_ms: must be > 0");
        } else if (strcmp(key, "interruption_notice_ms") == 0)
            s = cfg_uint(label, v, &sp->interruption_notice_ms, err);
        else
            s = mock_errf(err, HOIST_E_INVALID, "config: spot: unknown key \"%s\"", key);
        if (s != HOIST_OK)
            return s;
    }
    if (sp->min_ratio > sp->max_ratio)
        return mock_errf(err, HOIST_E_INVALID, "config: spot.min_ratio: %g is above max_ratio %g",
                    sp->min_ratio, sp->max_ratio);
    return HOIST_OK;
}

static hoist_status parse_config(mock_state *st, const json_t *cfg, const json_t **faults,
                                 hoist_error *err)
{
    static const char *const letters = "abcdef";
    const char *catalog = NULL, *region = "us-east-1";
    const char *zones[MOCK_MAX_ZONES];
    char default_zones[6][80];
    size_t n_zones = 0;
    bool zones_given = false;
    const char *key;
    json_t *v;
    *faults = NULL;
    json_object_foreach((json_t *)cfg, key, v) {
        hoist_status s = HOIST_OK;
        if (strcmp(key, "catalog") == 0) {
            if (!json_is_string(v) || !*json_string_value(v))
                s = mock_errf(err, HOIST_E_INVALID, "config: catalog: expected a file path string");
            else
                catalog = json_string_value(v);
        } else if (strcmp(key, "region") == 0) {
            if (!json_is_string(v) || !*json_string_value(v) || strlen(json_string_value(v)) > 64)
                s = mock_errf(err, HOIST_E_INVALID, "config: region: expected a region name string");
            else
                region = json_string_value(v);
        } else if (strcmp(key, "zones") == 0) {
            zones_given = true;
            if (!json_is_array(v) || json_array_size(v) == 0 ||
                json_array_size(v) > MOCK_MAX_ZONES) {
                s = mock_errf(err, HOIST_E_INVALID,
                         "config: zones: expected an array of 1 to %d zone names", MOCK_MAX_ZONES);
            } else {
                size_t i;
                json_t *z;
                json_array_foreach(v, i, z) {
                    if (!json_is_string(z) || !*json_string_value(z)) {
                        s = mock_errf(err, HOIST_E_INVALID, "config: zones[%zu]: expected a zone name",
                                 i);
                        break;
                    }
                    for (size_t k = 0; k < n_zones; k++)
                        if (strcmp(zones[k], json_string_value(z)) == 0)
                            s = mock_errf(err, HOIST_E_INVALID, "config: zones[%zu]: duplicate \"%s\"",
                                     i, zones[k]);
                    if (s != HOIST_OK)
                        break;
                    zones[n_zones++] = json_string_value(z);
                }
            }
        } else if (strcmp(key, "seed") == 0) {
            s = cfg_uint("seed", v, &st->seed, err);
        } else if (strcmp(key, "launch_latency_ms") == 0) {
            s = cfg_uint("launch_latency_ms", v, &st->default_latency_ms, err);
        } else if (strcmp(key, "spot") == 0) {
            s = parse_spot(&st->sp, v, err);
        } else if (strcmp(key, "faults") == 0) {
            if (!json_is_array(v))
                s = mock_errf(err, HOIST_E_INVALID, "config: faults: expected an array of commands");
            else
                *faults = v;
        } else {
            s = mock_errf(err, HOIST_E_INVALID, "config: unknown key \"%s\"", key);
        }
        if (s != HOIST_OK)
            return s;
    }
    if (!zones_given) {
        for (size_t i = 0; i < 6; i++) {
            snprintf(default_zones[i], sizeof default_zones[i], "%s%c", region, letters[i]);
            zones[n_zones++] = default_zones[i];
        }
    }
#ifdef HOIST_PKGDATADIR
    if (!catalog)
        catalog = HOIST_PKGDATADIR "/catalog/us-east-1.json";
#endif
    if (!catalog)
        return mock_errf(err, HOIST_E_INVALID, "config: catalog: missing (a file path is required)");
    hoist_error cerr;
    if (mock_catalog_load(&st->cat, catalog, zones, n_zones, st->seed, &st->sp, &cerr) < 0) {
        mock_error_prefix(&cerr, "config: ");
        if (err)
            *err = cerr;
        return cerr.code;
    }
    return HOIST_OK;
}

/* Remote mode: "endpoint" and its timeouts; the in-memory cloud's keys are
 * the cloud's business and ignored (checked for type only by the cloud). */
static hoist_status parse_remote(mock_state *st, const json_t *cfg, hoist_error *err)
{
    mock_remote_config rc = {NULL, 0, 0, 0};
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)cfg, key, v) {
        hoist_status s = HOIST_OK;
        if (strcmp(key, "endpoint") == 0) {
            if (!json_is_string(v) || !*json_string_value(v))
                s = mock_errf(err, HOIST_E_INVALID, "config: endpoint: expected a URL string");
            else
                rc.endpoint = json_string_value(v);
        } else if (strcmp(key, "timeout_ms") == 0) {
            s = cfg_uint(key, v, &rc.timeout_ms, err);
        } else if (strcmp(key, "launch_timeout_ms") == 0) {
            s = cfg_uint(key, v, &rc.launch_timeout_ms, err);
        } else if (strcmp(key, "events_poll_ms") == 0) {
            s = cfg_uint(key, v, &rc.events_poll_ms, err);
        } else if (strcmp(key, "faults") == 0) {
            s = mock_errf(err, HOIST_E_INVALID, "config: faults: not with endpoint (POST commands to "
                                           "the cloud's /control)");
        } else if (strcmp(key, "catalog") != 0 && strcmp(key, "region") != 0 &&
                   strcmp(key, "zones") != 0 && strcmp(key, "seed") != 0 &&
                   strcmp(key, "launch_latency_ms") != 0 && strcmp(key, "spot") != 0) {
            s = mock_errf(err, HOIST_E_INVALID, "config: unknown key \"%s\"", key);
        }
        if (s != HOIST_OK)
            return s;
    }
    if (rc.timeout_ms > UINT32_MAX || rc.launch_timeout_ms > UINT32_MAX)
        return mock_errf(err, HOIST_E_INVALID, "config: timeout_ms, launch_timeout_ms: at most %u",
                    UINT32_MAX);
    hoist_status s = mock_remote_new(st->host, &rc, &st->remote, err);
    if (s == HOIST_OK)
        MLOG(st, HOIST_LOG_INFO, "mock: remote mode, cloud at %s", rc.endpoint);
    return s;
}

static hoist_status mock_init(const hoist_host *host, const char *config, void **state,
                              hoist_error *err)
{
    if (!host || !state)
        return mock_errf(err, HOIST_E_INVALID, "mock: init needs a host and a state pointer");
    if (HOIST_ABI_MAJOR_OF(host->abi_version) != HOIST_ABI_MAJOR_OF(HOIST_HOST_ABI_VERSION) ||
        !HOIST_HOST_HAS(host, timer_cancel) || !host->timer_start || !host->timer_cancel ||
        !host->now_ms)
        return mock_errf(err, HOIST_E_INVALID,
                    "mock: the host lacks timers or a clock (host ABI %u.%u, size %u)",
                    HOIST_ABI_MAJOR_OF(host->abi_version), HOIST_ABI_MINOR_OF(host->abi_version),
                    host->size);
    json_error_t jerr;
    json_t *cfg = json_loads(config && *config ? config : "{}", JSON_REJECT_DUPLICATES, &jerr);
    if (!cfg)
        return mock_errf(err, HOIST_E_INVALID, "config: not valid JSON: %s (line %d, column %d)",
                    jerr.text, jerr.line, jerr.column);
    if (!json_is_object(cfg)) {
        json_decref(cfg);
        return mock_errf(err, HOIST_E_INVALID, "config: expected a JSON object");
    }
    mock_state *st = calloc(1, sizeof *st);
    if (!st) {
        json_decref(cfg);
        return mock_errf(err, HOIST_E_INTERNAL, "mock: out of memory");
    }
    st->host = host;
    st->seed = 42;
    mock_spot_params_default(&st->sp);
    if (json_object_get(cfg, "endpoint")) {
        hoist_status rs = parse_remote(st, cfg, err);
        json_decref(cfg);
        if (rs != HOIST_OK) {
            state_free(st);
            return rs;
        }
        *state = st;
        return HOIST_OK;
    }
    const json_t *faults;
    hoist_status s = parse_config(st, cfg, &faults, err);
    if (s == HOIST_OK && faults) {
        size_t i;
        json_t *cmd;
        json_array_foreach(faults, i, cmd) {
            s = apply_command(st, cmd, err);
            if (s != HOIST_OK) {
                char prefix[48];
                snprintf(prefix, sizeof prefix, "config: faults[%zu]: ", i);
                mock_error_prefix(err, prefix);
                break;
            }
        }
    }
    json_decref(cfg);
    if (s != HOIST_OK) {
        state_free(st);
        return s;
    }
    MLOG(st, HOIST_LOG_INFO, "mock: %zu instance types, %zu offerings, seed %" PRIu64,
         st->cat.n_types, st->cat.n_offers, st->seed);
    *state = st;
    return HOIST_OK;
}

static const hoist_provider mock_provider = {
    .abi_version = HOIST_PROVIDER_ABI_VERSION,
    .size = sizeof(hoist_provider),
    .name = "mock",
    .version = MOCK_VERSION,
    .description = "in-memory cloud: catalog file, seeded spot prices, injectable faults",
    .capabilities = HOIST_CAP_ON_DEMAND | HOIST_CAP_SPOT | HOIST_CAP_EVENTS | HOIST_CAP_CONTROL,
    .init = mock_init,
    .destroy = mock_destroy,
    .catalog = mock_catalog_op,
    .launch = mock_launch,
    .terminate = mock_terminate,
    .list = mock_list,
    .watch_events = mock_watch_events,
    .control = mock_control,
};

const hoist_provider *hoist_provider_entry(uint32_t core_abi_version)
{
    if (HOIST_ABI_MAJOR_OF(core_abi_version) != HOIST_PROVIDER_ABI_MAJOR)
        return NULL;
    return &mock_provider;
}
