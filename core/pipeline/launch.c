/*
 * pipeline/launch.c - the launch stage (see launch.h).
 */
#include "pipeline/launch.h"

#include <stdlib.h>
#include <string.h>

#include "model/labels.h"

/* ---- decoration ---- */

/* Make room for one more element in an arena-backed array. */
static void *grow(hoist_arena *a, void *items, size_t n, size_t *cap, size_t size)
{
    if (n < *cap)
        return items;
    size_t ncap = *cap ? *cap * 2 : 4;
    void *p = hoist_arena_alloc(a, ncap * size);
    if (!p)
        return NULL;
    if (n)
        memcpy(p, items, n * size);
    *cap = ncap;
    return p;
}

static int add_kv(hoist_arena *a, hoist_kv **items, size_t *n, size_t *cap, const char *key,
                  const char *value)
{
    if (!a || !key || !*key || !value)
        return -1;
    hoist_kv *p = grow(a, *items, *n, cap, sizeof *p);
    if (!p)
        return -1;
    *items = p;
    p[*n].key = hoist_arena_strdup(a, key);
    p[*n].value = hoist_arena_strdup(a, value);
    if (!p[*n].key || !p[*n].value)
        return -1;
    (*n)++;
    return 0;
}

int hoist_launch_decoration_add_tag(hoist_launch_decoration *d, const char *key, const char *value)
{
    return add_kv(d->arena, &d->tags, &d->n_tags, &d->cap_tags, key, value);
}

int hoist_launch_decoration_add_label(hoist_launch_decoration *d, const char *key,
                                      const char *value)
{
    return add_kv(d->arena, &d->labels, &d->n_labels, &d->cap_labels, key, value);
}

int hoist_launch_decoration_add_taint(hoist_launch_decoration *d, const char *key,
                                      const char *value, hoist_taint_effect effect)
{
    if (!d->arena || !key || !*key || effect < HOIST_TAINT_NO_SCHEDULE ||
        effect > HOIST_TAINT_NO_EXECUTE)
        return -1;
    hoist_taint *p = grow(d->arena, d->taints, d->n_taints, &d->cap_taints, sizeof *p);
    if (!p)
        return -1;
    d->taints = p;
    p[d->n_taints].key = hoist_arena_strdup(d->arena, key);
    p[d->n_taints].value = hoist_arena_strdup(d->arena, value ? value : "");
    p[d->n_taints].effect = effect;
    if (!p[d->n_taints].key || !p[d->n_taints].value)
        return -1;
    d->n_taints++;
    return 0;
}

static bool kv_has(const hoist_kv *items, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(items[i].key, key) == 0)
            return true;
    return false;
}

/* Check a decoration against the defaults; a message in *why when it is refused. */
static bool decoration_ok(const hoist_launch_decoration *d, const hoist_plan_claim *claim,
                          const char **why, const char **key)
{
    static const char *const reserved[] = {HOIST_TAG_CLUSTER, HOIST_TAG_NODEPOOL, HOIST_TAG_CLAIM};
    for (size_t i = 0; i < d->n_tags; i++) {
        *key = d->tags[i].key;
        for (size_t r = 0; r < 3; r++)
            if (strcmp(d->tags[i].key, reserved[r]) == 0) {
                *why = "tag would replace a hoist.dev tag";
                return false;
            }
        if (kv_has(d->tags, i, d->tags[i].key)) {
            *why = "tag given twice";
            return false;
        }
    }
    for (size_t i = 0; i < d->n_labels; i++) {
        *key = d->labels[i].key;
        if (kv_has(claim->labels.items, claim->labels.n, d->labels[i].key) ||
            strcmp(d->labels[i].key, HOIST_LABEL_NODEPOOL_HASH) == 0) {
            *why = "label would replace a label of the claim";
            return false;
        }
        if (kv_has(d->labels, i, d->labels[i].key)) {
            *why = "label given twice";
            return false;
        }
    }
    return true;
}

/* ---- the request ---- */

static void add_taint_once(hoist_taint *out, size_t *n, const hoist_taint *t)
{
    for (size_t i = 0; i < *n; i++)
        if (out[i].effect == t->effect && strcmp(out[i].key, t->key) == 0)
            return;
    out[*n] = *t;
    if (!out[*n].value)
        out[*n].value = "";
    (*n)++;
}

static void logf_host(const hoist_host *h, hoist_log_level level, const char *what,
                      const char *claim, const char *detail, const char *key)
{
    if (HOIST_HOST_HAS(h, log) && h->log)
        h->log(h->ctx, level, "launch %s: %s%s%s%s", claim, what, detail ? detail : "",
               key ? " " : "", key ? key : "");
}

/* What the completion needs; malloc'd, freed by on_launch. */
typedef struct launch_op {
    hoist_launch_done_cb done;
    void *arg;
    hoist_unavailable *unavailable;
    const hoist_host *host;
    uint64_t ttl_ms;
    char claim[];
} launch_op;

void hoist_launched_free(hoist_launched *m)
{
    free(m);
}

static hoist_launched *launched_new(const char *claim, const hoist_machine *mc)
{
    const char *s[5] = {claim, mc->instance_id ? mc->instance_id : "",
                        mc->provider_id ? mc->provider_id : "",
                        mc->instance_type ? mc->instance_type : "", mc->zone ? mc->zone : ""};
    size_t len[5], total = sizeof(hoist_launched);
    for (int i = 0; i < 5; i++) {
        len[i] = strlen(s[i]) + 1;
        total += len[i];
    }
    hoist_launched *m = malloc(total);
    if (!m)
        return NULL;
    char *p = (char *)(m + 1);
    char **dst[5] = {&m->claim, &m->instance_id, &m->provider_id, &m->instance_type, &m->zone};
    for (int i = 0; i < 5; i++) {
        memcpy(p, s[i], len[i]);
        *dst[i] = p;
        p += len[i];
    }
    m->capacity_type = mc->capacity_type;
    m->price = mc->price;
    m->launch_time_ms = HOIST_HAS(mc, hoist_machine, launch_time_ms) ? mc->launch_time_ms : 0;
    return m;
}

static void on_launch(void *arg, const hoist_error *err, const hoist_machine *machine,
                      const hoist_launch_offering *exhausted, size_t n_exhausted)
{
    launch_op *op = arg;
    uint64_t now = op->host->now_ms(op->host->ctx);
    for (size_t i = 0; i < n_exhausted; i++) {
        const hoist_launch_offering *x = HOIST_NTH(exhausted, i);
        if (hoist_unavailable_mark(op->unavailable, x->instance_type, x->zone, x->capacity_type,
                                   now, op->ttl_ms) != 0)
            logf_host(op->host, HOIST_LOG_WARN, "cannot cache an exhausted offering: ", op->claim,
                      "out of memory", NULL);
    }
    if (err || !machine) {
        hoist_error e;
        if (err)
            e = *err;
        else
            hoist_error_set(&e, HOIST_E_INTERNAL, "the provider reported neither error nor machine");
        op->done(op->arg, &e, NULL);
    } else {
        hoist_launched *m = launched_new(op->claim, machine);
        if (m) {
            op->done(op->arg, NULL, m);
        } else {
            hoist_error e;
            hoist_error_set(&e, HOIST_E_INTERNAL, "out of memory copying the launched machine");
            op->done(op->arg, &e, NULL);
        }
    }
    free(op);
}

static int fail(hoist_err *err, int code, const char *claim, const char *msg)
{
    hoist_errf(err, "launch %s: %s", claim ? claim : "(unnamed)", msg);
    return code;
}

int hoist_launch_claim(const hoist_launch_ctx *ctx, const hoist_plan_claim *claim,
                       const char *claim_name, hoist_launch_done_cb done, void *arg,
                       hoist_err *err)
{
    if (!claim_name || !*claim_name)
        return fail(err, HOIST_E_INVALID, NULL, "a non-empty claim name is required");
    if (!ctx || !ctx->provider || !ctx->provider->launch || !ctx->host || !ctx->host->now_ms ||
        !ctx->unavailable || !ctx->cluster || !*ctx->cluster || !done)
        return fail(err, HOIST_E_INVALID, claim_name,
                    "provider, host, cluster, unavailable cache and callback are required");
    if (!claim || !claim->nodepool || !claim->nodepool->name)
        return fail(err, HOIST_E_INVALID, claim_name, "the claim has no NodePool");

    const hoist_plan_offering *offs = claim->offerings;
    size_t n_offs = claim->n_offerings;
    if (n_offs == 0 || !offs) {
        offs = &claim->chosen;
        n_offs = 1;
    }
    for (size_t i = 0; i < n_offs; i++)
        if (!offs[i].type || !offs[i].offering || !offs[i].type->name || !offs[i].offering->zone)
            return fail(err, HOIST_E_INVALID, claim_name, "an offering without type or zone");

    uint64_t now = ctx->host->now_ms(ctx->host->ctx);
    hoist_arena a;
    hoist_arena_init(&a, 0);
    hoist_launch_request req;
    memset(&req, 0, sizeof req);
    req.struct_size = sizeof req;
    req.claim = claim_name;
    req.cluster = ctx->cluster;
    req.nodepool = claim->nodepool->name;
    req.user_data = NULL;
    req.spot_strategy = ctx->prioritized ? HOIST_ALLOC_PRIORITIZED
                                         : HOIST_ALLOC_PRICE_CAPACITY_OPTIMIZED;
    req.on_demand_strategy = ctx->prioritized ? HOIST_ALLOC_PRIORITIZED : HOIST_ALLOC_LOWEST_PRICE;

    hoist_launch_offering *lo = hoist_arena_calloc(&a, n_offs, sizeof *lo);
    if (!lo)
        goto oom;
    size_t n_lo = 0;
    for (size_t i = 0; i < n_offs; i++) {
        const hoist_offering *o = offs[i].offering;
        if (hoist_unavailable_is_unavailable(ctx->unavailable, offs[i].type->name, o->zone,
                                             o->capacity_type, now))
            continue;
        lo[n_lo].struct_size = sizeof *lo;
        lo[n_lo].instance_type = offs[i].type->name;
        lo[n_lo].zone = o->zone;
        lo[n_lo].capacity_type = o->capacity_type;
        lo[n_lo].price = o->price;
        n_lo++;
    }
    if (n_lo == 0) {
        hoist_arena_free(&a);
        hoist_errf(err, "launch %s: insufficient capacity: all %zu offerings are unavailable "
                   "(cached for up to %llu ms after the cloud ran out)",
                   claim_name, n_offs,
                   (unsigned long long)(ctx->ice_ttl_ms ? ctx->ice_ttl_ms
                                                        : HOIST_UNAVAILABLE_TTL_MS));
        return HOIST_E_INSUFFICIENT_CAPACITY;
    }
    req.offerings = lo;
    req.n_offerings = n_lo;

    hoist_launch_decoration dec;
    memset(&dec, 0, sizeof dec);
    dec.arena = &a;
    if (ctx->decorate) {
        const char *why = NULL, *key = NULL;
        if (ctx->decorate(ctx->decorate_ctx, claim, &dec) != 0)
            why = "the decorate hook failed";
        else
            (void)decoration_ok(&dec, claim, &why, &key); /* sets why when refused */
        if (why) {
            logf_host(ctx->host, HOIST_LOG_WARN, "decoration dropped, defaults used: ",
                      claim_name, why, key);
            memset(&dec, 0, sizeof dec);
        }
    }

    /* tags */
    hoist_kv *tags = hoist_arena_calloc(&a, 3 + dec.n_tags, sizeof *tags);
    if (!tags)
        goto oom;
    tags[0] = (hoist_kv){HOIST_TAG_CLUSTER, ctx->cluster};
    tags[1] = (hoist_kv){HOIST_TAG_NODEPOOL, claim->nodepool->name};
    tags[2] = (hoist_kv){HOIST_TAG_CLAIM, claim_name};
    for (size_t i = 0; i < dec.n_tags; i++)
        tags[3 + i] = dec.tags[i];
    req.tags = tags;
    req.n_tags = 3 + dec.n_tags;

    /* labels, and the NodePool template hash the machine is launched with (drift) */
    size_t n_labels = claim->labels.n + dec.n_labels + 1;
    hoist_kv *labels = hoist_arena_calloc(&a, n_labels, sizeof *labels);
    char *hash = hoist_arena_sprintf(&a, "%016llx",
                                     (unsigned long long)claim->nodepool->template_hash);
    if (!labels || !hash)
        goto oom;
    for (size_t i = 0; i < claim->labels.n; i++)
        labels[i] = claim->labels.items[i];
    for (size_t i = 0; i < dec.n_labels; i++)
        labels[claim->labels.n + i] = dec.labels[i];
    labels[n_labels - 1] = (hoist_kv){HOIST_LABEL_NODEPOOL_HASH, hash};
    req.labels = labels;
    req.n_labels = n_labels;

    /* taints */
    const hoist_taints *startup = &claim->nodepool->startup_taints;
    size_t max_taints = claim->taints.n + startup->n + 1 + dec.n_taints;
    hoist_taint *taints = hoist_arena_calloc(&a, max_taints, sizeof *taints);
    if (!taints)
        goto oom;
    size_t n_taints = 0;
    for (size_t i = 0; i < claim->taints.n; i++)
        add_taint_once(taints, &n_taints, &claim->taints.items[i]);
    for (size_t i = 0; i < startup->n; i++)
        add_taint_once(taints, &n_taints, &startup->items[i]);
    const hoist_taint reg = {HOIST_TAINT_UNREGISTERED, "", HOIST_TAINT_NO_EXECUTE};
    add_taint_once(taints, &n_taints, &reg);
    for (size_t i = 0; i < dec.n_taints; i++)
        add_taint_once(taints, &n_taints, &dec.taints[i]);
    req.taints = taints;
    req.n_taints = n_taints;

    size_t name_len = strlen(claim_name) + 1;
    launch_op *op = malloc(sizeof *op + name_len);
    if (!op)
        goto oom;
    op->done = done;
    op->arg = arg;
    op->unavailable = ctx->unavailable;
    op->host = ctx->host;
    op->ttl_ms = ctx->ice_ttl_ms ? ctx->ice_ttl_ms : HOIST_UNAVAILABLE_TTL_MS;
    memcpy(op->claim, claim_name, name_len);

    hoist_error perr;
    memset(&perr, 0, sizeof perr);
    hoist_status s = ctx->provider->launch(ctx->state, &req, on_launch, op, &perr);
    hoist_arena_free(&a); /* the provider copied what it keeps */
    if (s != HOIST_OK) {
        free(op);
        hoist_errf(err, "launch %s: %s", claim_name,
                   perr.message[0] ? perr.message : hoist_status_name(s));
        return s;
    }
    return HOIST_OK;

oom:
    hoist_arena_free(&a);
    return fail(err, HOIST_E_INTERNAL, claim_name, "out of memory");
}
