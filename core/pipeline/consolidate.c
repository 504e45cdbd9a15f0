/* pipeline/consolidate.c - which of hoist's machines to remove now, and why; see consolidate.h. */
#include "pipeline/consolidate.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "model/instance.h"
#include "model/pdb_eval.h"
#include "model/usage.h"
#include "sched/plan.h"

/* ---- cron ---------------------------------------------------------------- */

/* One parsed schedule: a bit per allowed value of each field. */
typedef struct cron_spec {
    uint64_t minute, hour, dom, month, dow; /* dom bits 1..31, month 1..12, dow 0..6 */
    bool dom_star, dow_star;                /* field starts with '*' or '?' */
} cron_spec;

typedef struct cron_field {
    const char *name;
    int lo, hi;
    const char *const *names; /* three-letter names for lo.., or NULL */
} cron_field;

static const char *const month_names[] = {"jan", "feb", "mar", "apr", "may", "jun", "jul",
                                          "aug", "sep", "oct", "nov", "dec", NULL};
static const char *const dow_names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL};

static const cron_field cron_fields[5] = {
    {"minute", 0, 59, NULL},      {"hour", 0, 23, NULL},       {"day-of-month", 1, 31, NULL},
    {"month", 1, 12, month_names}, {"day-of-week", 0, 7, dow_names},
};

/* A number or a name of field f at s[0..n): 0 with *v, or -1 with err. */
static int cron_value(const cron_field *f, const char *s, size_t n, int *v, hoist_err *err)
{
    if (n == 0)
        return hoist_errf(err, "%s: missing value", f->name);
    if (isdigit((unsigned char)s[0])) {
        long x = 0;
        for (size_t i = 0; i < n; i++) {
            if (!isdigit((unsigned char)s[i]))
                return hoist_errf(err, "%s: invalid value \"%.*s\"", f->name, (int)n, s);
            x = x * 10 + (s[i] - '0');
            if (x > 1000000)
                break;
        }
        if (x < f->lo || x > f->hi)
            return hoist_errf(err, "%s: value %.*s out of range %d-%d", f->name, (int)n, s, f->lo,
                              f->hi);
        *v = (int)x;
        return 0;
    }
    for (int i = 0; f->names && f->names[i]; i++)
        if (n == 3 && !strncasecmp(s, f->names[i], 3)) {
            *v = f->lo + i;
            return 0;
        }
    return hoist_errf(err, "%s: invalid value \"%.*s\"", f->name, (int)n, s);
}

/* Parse one field (comma-separated items of *, N, N-M, each with /step). */
static int cron_parse_field(const cron_field *f, const char *s, size_t len, uint64_t *bits,
                            hoist_err *err)
{
    *bits = 0;
    const char *end = s + len;
    while (s <= end) {
        size_t n = 0;
        while (s + n < end && s[n] != ',')
            n++;
        if (n == 0)
            return hoist_errf(err, "%s: empty list item", f->name);
        const char *slash = memchr(s, '/', n);
        size_t rn = slash ? (size_t)(slash - s) : n;
        int lo, hi, step = 1;
        if (rn == 1 && (s[0] == '*' || s[0] == '?')) {
            lo = f->lo;
            hi = f->hi == 7 ? 6 : f->hi;
        } else {
            const char *dash = memchr(s, '-', rn);
            size_t an = dash ? (size_t)(dash - s) : rn;
            if (cron_value(f, s, an, &lo, err) < 0)
                return -1;
            if (dash) {
                if (cron_value(f, dash + 1, rn - an - 1, &hi, err) < 0)
                    return -1;
                if (hi < lo)
                    return hoist_errf(err, "%s: range %.*s goes backwards", f->name, (int)rn, s);
            } else {
                hi = slash ? (f->hi == 7 ? 6 : f->hi) : lo; /* "N/step" runs to the end */
            }
        }
        if (slash) {
            const char *st = slash + 1;
            size_t sn = n - rn - 1;
            long x = 0;
            if (sn == 0)
                return hoist_errf(err, "%s: missing step after '/'", f->name);
            for (size_t i = 0; i < sn; i++) {
                if (!isdigit((unsigned char)st[i]))
                    return hoist_errf(err, "%s: invalid step \"%.*s\"", f->name, (int)sn, st);
                x = x * 10 + (st[i] - '0');
                if (x > 1000)
                    break;
            }
            if (x < 1 || x > f->hi - f->lo + 1)
                return hoist_errf(err, "%s: step %.*s out of range 1-%d", f->name, (int)sn, st,
                                  f->hi - f->lo + 1);
            step = (int)x;
        }
        for (int v = lo; v <= hi; v += step)
            *bits |= 1ull << (f->hi == 7 && v == 7 ? 0 : v); /* day-of-week 7 is Sunday */
        s += n + 1;
    }
    return 0;
}

static const struct {
    const char *name, *expr;
} cron_macros[] = {
    {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
    {"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
    {"@hourly", "0 * * * *"},
};

static int cron_parse(const char *expr, cron_spec *c, hoist_err *err)
{
    memset(c, 0, sizeof *c);
    if (!expr)
        return hoist_errf(err, "schedule: missing");
    while (isspace((unsigned char)*expr))
        expr++;
    if (*expr == '@') {
        size_t n = strcspn(expr, " \t\n");
        const char *rest = expr + n;
        while (isspace((unsigned char)*rest))
            rest++;
        for (size_t i = 0; i < sizeof cron_macros / sizeof cron_macros[0]; i++)
            if (!*rest && strlen(cron_macros[i].name) == n &&
                !strncmp(expr, cron_macros[i].name, n))
                return cron_parse(cron_macros[i].expr, c, err);
        return hoist_errf(err, "schedule \"%s\": unknown macro (expected @yearly, @annually, "
                          "@monthly, @weekly, @daily, @midnight or @hourly)", expr);
    }
    const char *start[6];
    size_t len[6];
    int nf = 0;
    const char *p = expr;
    while (*p) {
        if (isspace((unsigned char)*p)) {
            p++;
            continue;
        }
        size_t n = strcspn(p, " \t\n\r\v\f");
        if (nf < 6) {
            start[nf] = p;
            len[nf] = n;
        }
        nf++;
        p += n;
    }
    if (nf != 5)
        return hoist_errf(err, "schedule \"%s\": expected 5 fields (minute hour day-of-month "
                          "month day-of-week), got %d", expr, nf);
    uint64_t *bits[5] = {&c->minute, &c->hour, &c->dom, &c->month, &c->dow};
    for (int i = 0; i < 5; i++)
        if (cron_parse_field(&cron_fields[i], start[i], len[i], bits[i], err) < 0)
            return hoist_err_prefix(err, "schedule \"%s\"", expr);
    c->dom_star = start[2][0] == '*' || start[2][0] == '?';
    c->dow_star = start[4][0] == '*' || start[4][0] == '?';
    return 0;
}

/* Whether the schedule allows the UTC day that contains t (cron's rule: when
 * both day fields are restricted, either may match). */
static bool cron_day_matches(const cron_spec *c, int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm))
        return false;
    if (!(c->month & (1ull << (tm.tm_mon + 1))))
        return false;
    bool dom = c->dom & (1ull << tm.tm_mday), dow = c->dow & (1ull << tm.tm_wday);
    if (c->dom_star || c->dow_star)
        return dom && dow;
    return dom || dow;
}

/* Floor division for times before the epoch. */
static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

int hoist_cron_matches(const char *expr, int64_t t, hoist_err *err)
{
    cron_spec c;
    if (cron_parse(expr, &c, err) < 0)
        return -1;
    int64_t sec = t - floor_div(t, 86400) * 86400;
    int hour = (int)(sec / 3600), minute = (int)(sec % 3600 / 60);
    return cron_day_matches(&c, t) && (c.hour & (1ull << hour)) && (c.minute & (1ull << minute));
}

/* Days of the longest window looked at: a Gregorian cycle repeats every
 * 146097 days, so an older match never changes the answer. */
#define CRON_MAX_DAYS 146097

int hoist_cron_active(const char *expr, int64_t duration_s, int64_t t, hoist_err *err)
{
    cron_spec c;
    if (cron_parse(expr, &c, err) < 0)
        return -1;
    if (duration_s <= 0)
        return 0;
    int64_t day = floor_div(t, 86400);
    int64_t oldest = t - duration_s; /* a match must start after this */
    for (int64_t k = 0; k <= CRON_MAX_DAYS; k++, day--) {
        int64_t d0 = day * 86400;
        if (d0 + 86399 <= oldest)
            return 0;
        if (!cron_day_matches(&c, d0))
            continue;
        /* the latest matching minute of this day at or before t */
        for (int h = 23; h >= 0; h--) {
            if (!(c.hour & (1ull << h)))
                continue;
            for (int m = 59; m >= 0; m--) {
                if (!(c.minute & (1ull << m)))
                    continue;
                int64_t s = d0 + h * 3600 + m * 60;
                if (s > t)
                    continue;
                return s > oldest;
            }
        }
    }
    return 0;
}

/* ---- helpers ------------------------------------------------------------- */

const char *hoist_disruption_reason_name(hoist_disruption_reason r)
{
    switch (r) {
    case HOIST_DISRUPT_EXPIRED:
        return "expired";
    case HOIST_DISRUPT_RECYCLE:
        return "recycle";
    case HOIST_DISRUPT_EMPTY:
        return "empty";
    case HOIST_DISRUPT_UNDERUTILIZED:
        return "underutilized";
    case HOIST_DISRUPT_DRIFTED:
        return "drifted";
    }
    return "unknown";
}

/* The budget reason a disruption counts under. */
static unsigned budget_reason_bit(hoist_disruption_reason r)
{
    switch (r) {
    case HOIST_DISRUPT_EMPTY: return HOIST_REASON_EMPTY;
    case HOIST_DISRUPT_UNDERUTILIZED: return HOIST_REASON_UNDERUTILIZED;
    default: return HOIST_REASON_DRIFTED;
    }
}

static const char *budget_reason_name(hoist_disruption_reason r)
{
    switch (r) {
    case HOIST_DISRUPT_EMPTY: return "Empty";
    case HOIST_DISRUPT_UNDERUTILIZED: return "Underutilized";
    default: return "Drifted";
    }
}

/* A duration as "1d2h3m4s" without zero parts ("0s" for zero). */
static void format_duration(int64_t s, char *buf, size_t cap)
{
    if (s == HOIST_NEVER) {
        snprintf(buf, cap, "Never");
        return;
    }
    if (s <= 0) {
        snprintf(buf, cap, "%llds", (long long)s);
        return;
    }
    static const struct {
        int64_t secs;
        char unit;
    } parts[] = {{86400, 'd'}, {3600, 'h'}, {60, 'm'}, {1, 's'}};
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < 4 && used < cap; i++) {
        int64_t q = s / parts[i].secs;
        s %= parts[i].secs;
        if (q)
            used += (size_t)snprintf(buf + used, cap - used, "%lld%c", (long long)q, parts[i].unit);
    }
}

/* Whether a node carries hoist.dev/do-not-disrupt=true (or the karpenter.sh key). */
static bool node_do_not_disrupt(const hoist_node *n)
{
    const char *v = hoist_labels_get(&n->labels, "hoist.dev/do-not-disrupt");
    if (!v)
        v = hoist_labels_get(&n->labels, "karpenter.sh/do-not-disrupt");
    return v && !strcmp(v, "true");
}

static const char *label_or_empty(const hoist_node *n, const char *key)
{
    const char *v = hoist_labels_get(&n->labels, key);
    return v ? v : "";
}

/* ---- the decision -------------------------------------------------------- */

#define UNLIMITED SIZE_MAX

typedef struct pool_state {
    const hoist_nodepool *np;
    size_t n_nodes;            /* its nodes in the snapshot */
    size_t in_progress;        /* of them listed in opts->disrupting */
    size_t decided;            /* decided now */
    bool allowed_known[HOIST_DISRUPT_N_REASONS];
    size_t allowed[HOIST_DISRUPT_N_REASONS]; /* per reason; UNLIMITED without an active budget */
    const char *schedule_error;/* a budget's schedule that did not parse (taken as active) */
    char template_hash[17];    /* the NodePool's spec.template hash now, as in the label */
    bool want_known, has_want;
    hoist_resources want;      /* headroom */
    hoist_resources spare;     /* allocatable - requested of its Ready nodes, minus removals */
} pool_state;

typedef struct node_info {
    const hoist_node *node;
    int pool;                  /* index into pools; -1 when not hoist's */
    bool disrupting;
    bool drifted;              /* launched from another template of its NodePool */
    bool ready, unschedulable; /* the node's, read once (they change with its version) */
    int64_t created;
    int64_t empty_since;       /* -1 when not (tracked as) empty */
    const hoist_node_usage *u; /* its active pods and their sums (borrowed), or NULL */
    size_t n_work;             /* active pods that are not DaemonSet pods */
} node_info;

typedef struct candidate {
    size_t node;
    hoist_disruption_reason reason;
    const char *detail;
    double price;
} candidate;

/* A PodDisruptionBudget's counts, taken once per round when first needed. */
typedef struct pdb_state {
    bool known;
    int32_t expected, healthy;
    int32_t taken;             /* nodes with its pods decided this round */
} pdb_state;

typedef struct decide_ctx {
    const hoist_objects *o;
    const hoist_consolidate_options *opts;
    hoist_consolidation *out;
    pool_state *pools;
    node_info *nodes;
    pdb_state *pdbs;           /* by position in o->pdbs */
} decide_ctx;

/* Count PDB i's selected and healthy pods (one walk over the pods, the
 * first time a round needs it). */
static pdb_state *pdb_counts(decide_ctx *x, size_t i)
{
    pdb_state *st = &x->pdbs[i];
    if (st->known)
        return st;
    const hoist_pdb *pdb = x->o->pdbs[i];
    for (size_t k = 0; k < x->o->n_pods; k++) {
        const hoist_pod *p = x->o->pods[k];
        if (!hoist_pdb_selects(pdb, p))
            continue;
        st->expected += !p->finished;
        st->healthy += hoist_pdb_pod_healthy(p);
    }
    st->known = true;
    return st;
}

/* Why a PodDisruptionBudget keeps node ni from a voluntary disruption now
 * (one of its healthy pods is selected by a PDB that allows no more
 * disruptions, counting the nodes decided this round), or NULL. With
 * `take`, count the node against every PDB selecting its pods. */
static const char *pdb_blocks(decide_ctx *x, const node_info *ni, bool take, bool *oom)
{
    if (!x->pdbs || !ni->u)
        return NULL;
    for (size_t i = 0; i < x->o->n_pdbs; i++) {
        const hoist_pdb *pdb = x->o->pdbs[i];
        bool selects = false;
        for (size_t k = 0; k < ni->u->n_pods && !selects; k++)
            selects = !ni->u->pods[k]->daemonset_owned &&
                      hoist_pdb_pod_healthy(ni->u->pods[k]) &&
                      hoist_pdb_selects(pdb, ni->u->pods[k]);
        if (!selects)
            continue;
        pdb_state *st = pdb_counts(x, i);
        if (take) {
            st->taken++;
            continue;
        }
        if (hoist_pdb_disruptions_allowed(pdb, st->expected, st->healthy) - st->taken > 0)
            continue;
        char why[200];
        hoist_pdb_refusal(pdb, st->expected, st->healthy - st->taken, why, sizeof why);
        const char *s = hoist_arena_strdup(&x->out->arena, why);
        *oom = !s;
        return s;
    }
    return NULL;
}

static int str_ptr_cmp(const void *pa, const void *pb)
{
    return strcmp(*(const char *const *)pa, *(const char *const *)pb);
}

static int pod_key_cmp(const hoist_pod *a, const hoist_pod *b)
{
    int c = strcmp(a->ns, b->ns);
    return c ? c : strcmp(a->name, b->name);
}

static int pod_ptr_cmp(const void *pa, const void *pb)
{
    return pod_key_cmp(*(const hoist_pod *const *)pa, *(const hoist_pod *const *)pb);
}

/* The do-not-disrupt pod on a node with the smallest ns/name, or NULL. */
static const hoist_pod *dnd_pod(const node_info *ni)
{
    const hoist_pod *best = NULL;
    for (size_t i = 0; ni->u && ni->u->n_do_not_disrupt && i < ni->u->n_pods; i++) {
        const hoist_pod *p = ni->u->pods[i];
        if (p->do_not_disrupt && (!best || pod_key_cmp(p, best) < 0))
            best = p;
    }
    return best;
}

/* Ordering of candidates (qsort with a context via a file-local pointer is
 * avoided: each candidate carries what the comparison needs). */
typedef struct sort_item {
    candidate c;
    size_t n_work;
    int64_t priority_sum, cost_sum;
    int64_t lifetime_left;     /* seconds to expireAfter; INT64_MAX when it never expires */
    const char *name;
} sort_item;

/* Seconds node n has left before its NodePool's expireAfter (INT64_MAX when
 * never): a node about to expire anyway costs less to disrupt now. */
static int64_t lifetime_left(const hoist_node *n, const hoist_nodepool *np, int64_t now)
{
    if (np->expire_after == HOIST_NEVER || n->created <= 0)
        return INT64_MAX;
    int64_t left = n->created + np->expire_after - now;
    return left > 0 ? left : 0;
}

static int candidate_cmp(const void *pa, const void *pb)
{
    const sort_item *a = pa, *b = pb;
    if (a->c.reason != b->c.reason)
        return a->c.reason < b->c.reason ? -1 : 1;
    if (a->n_work != b->n_work)
        return a->n_work < b->n_work ? -1 : 1;
    if (a->priority_sum != b->priority_sum)
        return a->priority_sum < b->priority_sum ? -1 : 1;
    if (a->cost_sum != b->cost_sum)
        return a->cost_sum < b->cost_sum ? -1 : 1;
    if (a->lifetime_left != b->lifetime_left)
        return a->lifetime_left < b->lifetime_left ? -1 : 1;
    return strcmp(a->name, b->name);
}

/* The catalog price of the node's offering (type, zone, capacity type), 0 when unknown. */
static double node_price(const hoist_catalog *cat, const hoist_node *n)
{
    if (!cat)
        return 0;
    const hoist_instance_type *it =
        hoist_catalog_find(cat, label_or_empty(n, HOIST_LABEL_INSTANCE_TYPE));
    if (!it)
        return 0;
    const char *zone = label_or_empty(n, HOIST_LABEL_ZONE);
    const char *ct = label_or_empty(n, HOIST_LABEL_CAPACITY_TYPE);
    for (size_t i = 0; i < it->n_offerings; i++) {
        const hoist_offering *off = &it->offerings[i];
        if (!strcmp(off->zone, zone) && !strcmp(hoist_capacity_type_name(off->capacity_type), ct))
            return off->price;
    }
    return 0;
}

/* The most nodes pool p may have disrupting for reason r now. */
static size_t pool_allowed(pool_state *p, hoist_disruption_reason r, int64_t now)
{
    if (p->allowed_known[r])
        return p->allowed[r];
    size_t allowed = UNLIMITED;
    unsigned bit = budget_reason_bit(r);
    for (size_t i = 0; i < p->np->n_budgets; i++) {
        const hoist_budget *b = &p->np->budgets[i];
        if (!(b->reasons & bit))
            continue;
        if (b->schedule) {
            hoist_err err;
            int active = hoist_cron_active(b->schedule, b->duration, now, &err);
            if (active == 0)
                continue;
            if (active < 0)
                p->schedule_error = b->schedule; /* fail safe: a broken schedule holds */
        }
        size_t n = b->nodes < 0 ? 0 : (size_t)b->nodes;
        if (b->nodes_is_percent)
            n = (n * p->n_nodes + 99) / 100; /* rounded up, as Karpenter does */
        if (n < allowed)
            allowed = n;
    }
    p->allowed_known[r] = true;
    p->allowed[r] = allowed;
    return allowed;
}

/* Record a held-back candidate. */
static void block(decide_ctx *x, const candidate *c, const char *why)
{
    hoist_disruption_blocked *b = &x->out->blocked[x->out->n_blocked++];
    b->node = x->nodes[c->node].node;
    b->reason = c->reason;
    b->why = why;
}

/* Why voluntary candidate c cannot go now, or NULL (headroom is updated when
 * it can). Strings are built in the result arena; *oom on failure. */
static const char *held_back(decide_ctx *x, const candidate *c, bool *oom)
{
    hoist_arena *a = &x->out->arena;
    node_info *ni = &x->nodes[c->node];
    pool_state *p = &x->pools[ni->pool];
    const char *why = NULL;
    *oom = false;
    if ((why = pdb_blocks(x, ni, false, oom)) != NULL || *oom)
        return why;
    const hoist_pod *dnd = dnd_pod(ni);
    if (node_do_not_disrupt(ni->node) || dnd) {
        if (node_do_not_disrupt(ni->node))
            why = hoist_arena_sprintf(a, "node %s has hoist.dev/do-not-disrupt=true",
                                      ni->node->name);
        else
            why = hoist_arena_sprintf(a, "pod %s/%s has do-not-disrupt", dnd->ns, dnd->name);
        *oom = !why;
        return why;
    }

    size_t allowed = pool_allowed(p, c->reason, x->opts->now_s);
    size_t used = p->in_progress + p->decided;
    if (allowed != UNLIMITED && used >= allowed) {
        why = hoist_arena_sprintf(a, "budget of NodePool %s allows %zu node%s for %s now "
                                  "(%zu in progress)%s%s", p->np->name, allowed,
                                  allowed == 1 ? "" : "s", budget_reason_name(c->reason), used,
                                  p->schedule_error ? "; invalid schedule taken as active: " : "",
                                  p->schedule_error ? p->schedule_error : "");
        *oom = !why;
        return why;
    }

    if ((c->reason == HOIST_DISRUPT_EMPTY || c->reason == HOIST_DISRUPT_UNDERUTILIZED) &&
        x->opts->headroom) {
        if (!p->want_known) {
            p->want_known = true;
            hoist_resources want = {{0}};
            if (x->opts->headroom(x->opts->headroom_ctx, p->np, &want) == 0 &&
                (want.v[HOIST_RES_CPU] > 0 || want.v[HOIST_RES_MEMORY] > 0)) {
                p->has_want = true;
                p->want = want;
            }
        }
        if (p->has_want) {
            /* an empty node takes its free room away; an underutilized one
             * all of it, since its pods move onto the NodePool's other nodes */
            hoist_resources after = p->spare, gone = ni->node->allocatable;
            if (ni->u && c->reason == HOIST_DISRUPT_EMPTY)
                hoist_resources_sub(&gone, &ni->u->requested);
            hoist_resources_sub(&after, &gone);
            static const int slots[] = {HOIST_RES_CPU, HOIST_RES_MEMORY};
            for (size_t i = 0; i < 2; i++) {
                int s = slots[i];
                if (p->want.v[s] > 0 && after.v[s] < p->want.v[s]) {
                    char have[64], want[64];
                    hoist_qformat f = s == HOIST_RES_CPU ? HOIST_QFMT_DECIMAL_SI
                                                         : HOIST_QFMT_BINARY_SI;
                    hoist_quantity_format((hoist_quantity){after.v[s], f}, have, sizeof have);
                    hoist_quantity_format((hoist_quantity){p->want.v[s], f}, want, sizeof want);
                    why = hoist_arena_sprintf(a, "headroom of NodePool %s: removing it leaves "
                                              "%s %s spare, the NodePool keeps %s", p->np->name,
                                              have, s == HOIST_RES_CPU ? "cpu" : "memory", want);
                    *oom = !why;
                    return why;
                }
            }
            p->spare = after;
        }
    }
    return NULL;
}

/* Record a decision for c with its pods. */
static int decide(decide_ctx *x, const candidate *c)
{
    node_info *ni = &x->nodes[c->node];
    pool_state *p = &x->pools[ni->pool];
    bool oom = false;
    (void)pdb_blocks(x, ni, true, &oom); /* its pods' PDBs lose a disruption */
    hoist_disruption *d = &x->out->items[x->out->n++];
    d->node = ni->node;
    d->nodepool = p->np;
    d->reason = c->reason;
    d->detail = c->detail;
    d->price = c->price;
    d->n_pods = ni->n_work;
    d->pods = NULL;
    if (ni->n_work) {
        d->pods = hoist_arena_calloc(&x->out->arena, ni->n_work, sizeof *d->pods);
        if (!d->pods)
            return -1;
        size_t k = 0;
        for (size_t i = 0; i < ni->u->n_pods && k < ni->n_work; i++)
            if (!ni->u->pods[i]->daemonset_owned)
                d->pods[k++] = ni->u->pods[i];
        qsort(d->pods, k, sizeof *d->pods, pod_ptr_cmp); /* by ns/name: deterministic */
    }
    p->decided++;
    return 0;
}

/* ---- underutilized nodes ------------------------------------------------ */

/* Why pod p keeps its node from a voluntary removal, as Cluster Autoscaler
 * documents (no controller, local storage; the safe-to-evict annotation
 * decides either way), or NULL. Built in arena a; *oom on failure. */
static const char *pod_blocks(hoist_arena *a, const hoist_pod *p, bool *oom)
{
    const char *why = NULL;
    if (p->daemonset_owned || p->safe_to_evict == 1)
        return NULL;
    if (p->safe_to_evict == 0)
        why = "is annotated cluster-autoscaler.kubernetes.io/safe-to-evict=false";
    else if (!p->owner_kind)
        why = "has no controller";
    else if (p->has_empty_dir || p->has_host_path)
        why = "has local storage (emptyDir or hostPath)";
    if (!why)
        return NULL;
    const char *s = hoist_arena_sprintf(a, "pod %s/%s %s", p->ns, p->name, why);
    *oom = !s;
    return s;
}

/* Why voluntary candidate c cannot go now: a pod that blocks it, or what
 * held_back says (which takes its headroom share when it can go), or NULL.
 * *oom on failure. */
static const char *voluntary_block(decide_ctx *x, const candidate *c, bool *oom)
{
    const node_info *ni = &x->nodes[c->node];
    const char *why = NULL;
    *oom = false;
    for (size_t k = 0; ni->u && k < ni->u->n_pods && !why && !*oom; k++)
        why = pod_blocks(&x->out->arena, ni->u->pods[k], oom);
    return why || *oom ? why : held_back(x, c, oom);
}

/* The resources the room prechecks count: cpu and memory. */
static const int room_slots[2] = {HOIST_RES_CPU, HOIST_RES_MEMORY};

/* Node ni's free room (never below 0) and its pods' requests, per room slot. */
static void room_of(const node_info *ni, hoist_milli free_room[2], hoist_milli requested[2])
{
    for (int k = 0; k < 2; k++) {
        requested[k] = ni->u ? ni->u->requested.v[room_slots[k]] : 0;
        hoist_milli f = ni->node->allocatable.v[room_slots[k]] - requested[k];
        free_room[k] = f > 0 ? f : 0;
    }
}

/* Plan the pods of the nodes named in gone[0..n) as if those were gone:
 * onto the other Ready nodes only (existing_only), or onto them plus new
 * machines. Counts the plan. 0 with *plan filled (the caller frees it), -1
 * with err. */
static int plan_without(decide_ctx *x, const hoist_usage *usage, const char *const *gone,
                        size_t n, bool existing_only, hoist_plan *plan, hoist_err *err)
{
    /* a view of the snapshot with the usage index the planner needs; the
     * planner may intern resource names into its copy of the table */
    hoist_objects view = *x->o;
    view.usage = usage;
    hoist_plan_options po;
    memset(&po, 0, sizeof po);
    po.existing_only = existing_only;
    po.without = gone;
    po.n_without = n;
    int rc = hoist_plan_compute(&view, x->opts->catalog, &po, plan, err);
    for (int i = x->o->names.count; i < view.names.count; i++)
        free(view.names.names[i]);
    if (rc < 0)
        return -1;
    x->out->underutilized_plans++;
    return 0;
}

/* Whether the pods of the nodes named in gone[0..n) all fit on the other
 * Ready nodes now: 1 yes, 0 no, -1 with err. */
static int fits_elsewhere(decide_ctx *x, const hoist_usage *usage, const char *const *gone,
                          size_t n, hoist_err *err)
{
    hoist_plan plan;
    if (plan_without(x, usage, gone, n, true, &plan, err) < 0)
        return -1;
    int fits = plan.n_unschedulable == 0;
    hoist_plan_free(&plan);
    return fits;
}

/* The most nodes one replacement may take (Karpenter looks at up to 100
 * candidates; a larger group rarely fits one machine). */
#define MAX_REPLACE_GROUP 16

/* What planning one group's pods onto the other nodes plus new machines gave. */
typedef struct group_outcome {
    bool ok;                   /* no new machine, or one cheap enough */
    size_t n_claims;           /* new machines the plan needs (0 or 1 when ok) */
    double old_price;          /* USD/h of the group's nodes */
    double new_price;          /* USD/h of the new machine */
    char type[64];             /* its instance type */
    size_t n_pods;             /* the group's workload pods */
} group_outcome;

/* Plan the pods of the first k nodes of group (indexes into cands) on the
 * other nodes plus new machines, and judge it against the churn guard and
 * the spot-to-spot opt-in (see consolidate.h): 0 with *g filled, -1 with err. */
static int plan_group(decide_ctx *x, const hoist_usage *usage, const sort_item *cands,
                      const size_t *group, size_t k, group_outcome *g, hoist_err *err)
{
    memset(g, 0, sizeof *g);
    const char *gone[MAX_REPLACE_GROUP];
    bool spot_no_opt_in = false; /* a spot node whose NodePool keeps spot off spot */
    for (size_t j = 0; j < k; j++) {
        const node_info *ni = &x->nodes[cands[group[j]].c.node];
        gone[j] = ni->node->name;
        g->old_price += cands[group[j]].c.price;
        g->n_pods += ni->n_work;
        if (!strcmp(label_or_empty(ni->node, HOIST_LABEL_CAPACITY_TYPE), "spot") &&
            !x->pools[ni->pool].np->spot_to_spot)
            spot_no_opt_in = true;
    }
    hoist_plan plan;
    if (plan_without(x, usage, gone, k, false, &plan, err) < 0)
        return -1;
    g->n_claims = plan.n_claims;
    g->new_price = plan.cost_per_hour;
    if (plan.n_unschedulable == 0 && plan.n_claims == 0) {
        g->ok = true; /* they fit on the other nodes: a removal */
    } else if (plan.n_unschedulable == 0 && plan.n_claims == 1) {
        const hoist_plan_claim *pc = &plan.claims[0];
        snprintf(g->type, sizeof g->type, "%s", pc->chosen.type->name);
        g->ok = g->new_price <= 0.85 * g->old_price && g->old_price - g->new_price >= 0.002 &&
                !(spot_no_opt_in && pc->chosen.offering->capacity_type == HOIST_CAPACITY_SPOT);
    }
    hoist_plan_free(&plan);
    return 0;
}

/* Replacement consolidation, when no node could simply be removed (see
 * consolidate.h): the candidates that may go together, in order, form a
 * group of at most MAX_REPLACE_GROUP whose requests one machine of the
 * catalog could hold beside the other nodes' free room; the longest prefix
 * of it whose pods fit on the other nodes plus at most one machine cheap
 * enough is replaced by that machine. The whole group is planned first
 * (larger groups save more), then a binary search runs below it, within
 * max_plans plans. free_total: the free cpu and memory of the Ready nodes. */
static int replace_group(decide_ctx *x, const hoist_usage *usage, sort_item *cands,
                         size_t n_cands, const hoist_milli free_total[2], size_t max_plans,
                         hoist_err *err)
{
    const hoist_objects *o = x->o;
    const hoist_catalog *cat = x->opts->catalog;
    hoist_arena *a = &x->out->arena;
    /* the largest machine the catalog has: a bound on what one replacement holds */
    hoist_milli biggest[2] = {0, 0};
    for (size_t i = 0; i < cat->n; i++) {
        hoist_milli cpu = (hoist_milli)cat->types[i].vcpus * 1000;
        hoist_milli mem = hoist_instance_memory(&cat->types[i], NULL);
        biggest[0] = cpu > biggest[0] ? cpu : biggest[0];
        biggest[1] = mem > biggest[1] ? mem : biggest[1];
    }
    /* choosing the group takes budgets and PDBs as if each member were
     * decided; that state is put back before the real decisions */
    size_t n_pools = o->n_nodepools ? o->n_nodepools : 1;
    pool_state *saved_pools = hoist_arena_alloc(a, n_pools * sizeof *saved_pools);
    pdb_state *saved_pdbs = o->n_pdbs ? hoist_arena_alloc(a, o->n_pdbs * sizeof *saved_pdbs)
                                      : NULL;
    if (!saved_pools || (o->n_pdbs && !saved_pdbs))
        return hoist_errf(err, "consolidate: out of memory");
    memcpy(saved_pools, x->pools, n_pools * sizeof *saved_pools);
    if (o->n_pdbs)
        memcpy(saved_pdbs, x->pdbs, o->n_pdbs * sizeof *saved_pdbs);

    size_t group[MAX_REPLACE_GROUP], n_group = 0;
    hoist_milli req[2] = {0, 0}, freed[2] = {0, 0};
    for (size_t i = 0; i < n_cands && n_group < MAX_REPLACE_GROUP; i++) {
        candidate *c = &cands[i].c;
        node_info *ni = &x->nodes[c->node];
        c->price = node_price(cat, ni->node);
        if (c->price <= 0)
            continue; /* an unknown price cannot be beaten knowingly */
        bool oom;
        const char *why = voluntary_block(x, c, &oom);
        if (oom)
            return hoist_errf(err, "consolidate: out of memory");
        if (why)
            continue; /* reported when it was first looked at, or not looked at */
        hoist_milli my_free[2], my_req[2];
        room_of(ni, my_free, my_req);
        bool fits = true;
        for (int k = 0; k < 2; k++)
            fits &= req[k] + my_req[k] - (free_total[k] - freed[k] - my_free[k]) <= biggest[k];
        if (!fits)
            break; /* a longer prefix needs even more */
        for (int k = 0; k < 2; k++) {
            freed[k] += my_free[k];
            req[k] += my_req[k];
        }
        (void)pdb_blocks(x, ni, true, &oom); /* counted as taken, for the next member */
        x->pools[ni->pool].decided++;
        group[n_group++] = i;
    }
    memcpy(x->pools, saved_pools, n_pools * sizeof *saved_pools);
    if (o->n_pdbs)
        memcpy(x->pdbs, saved_pdbs, o->n_pdbs * sizeof *saved_pdbs);
    if (n_group == 0 || max_plans == 0)
        return 0;

    group_outcome best = {0}, g;
    size_t best_k = 0, plans = 0;
    if (plan_group(x, usage, cands, group, n_group, &g, err) < 0)
        return -1;
    plans++;
    if (g.ok) {
        best = g;
        best_k = n_group;
    }
    /* below it, the longest prefix that does: a binary search */
    for (size_t lo = 1, hi = n_group - 1; !g.ok && lo <= hi && plans < max_plans;) {
        size_t mid = lo + (hi - lo) / 2;
        group_outcome m;
        if (plan_group(x, usage, cands, group, mid, &m, err) < 0)
            return -1;
        plans++;
        if (m.ok) {
            best = m;
            best_k = mid;
            lo = mid + 1;
        } else {
            hi = mid - 1;
        }
    }
    if (!best_k)
        return 0;

    for (size_t j = 0; j < best_k; j++) {
        candidate *c = &cands[group[j]].c;
        node_info *ni = &x->nodes[c->node];
        bool oom = false;
        if (held_back(x, c, &oom) || oom) /* as when the group was chosen: cannot happen */
            return oom ? hoist_errf(err, "consolidate: out of memory") : 0;
        if (best.n_claims == 0 && best_k == 1)
            c->detail = hoist_arena_sprintf(a, "its %zu pod%s fit on the other Ready nodes",
                                            ni->n_work, ni->n_work == 1 ? "" : "s");
        else if (best.n_claims == 0)
            c->detail = hoist_arena_sprintf(a, "its %zu pod%s fit on the other Ready nodes "
                                            "with %zu other node%s removed", ni->n_work,
                                            ni->n_work == 1 ? "" : "s", best_k - 1,
                                            best_k == 2 ? "" : "s");
        else if (best_k == 1)
            c->detail = hoist_arena_sprintf(a, "its %zu pod%s fit on the other nodes and one "
                                            "%s at $%.4f/h instead of $%.4f/h", ni->n_work,
                                            ni->n_work == 1 ? "" : "s", best.type,
                                            best.new_price, best.old_price);
        else
            c->detail = hoist_arena_sprintf(a, "replaced together with %zu other node%s by "
                                            "one %s at $%.4f/h instead of $%.4f/h for the %zu "
                                            "(their %zu pod%s fit on it and the other nodes)",
                                            best_k - 1, best_k == 2 ? "" : "s", best.type,
                                            best.new_price, best.old_price, best_k, best.n_pods,
                                            best.n_pods == 1 ? "" : "s");
        if (!c->detail || decide(x, c) < 0)
            return hoist_errf(err, "consolidate: out of memory");
        hoist_disruption *d = &x->out->items[x->out->n - 1];
        d->replace = best.n_claims == 1;
        d->replacement_price = d->replace ? best.new_price : 0;
        d->replaced_together = best_k;
    }
    return 0;
}

/* Choose underutilized nodes (see consolidate.h): greedily, in
 * disruption-cost order, each candidate together with those chosen. */
static int underutilized(decide_ctx *x, const hoist_usage *usage, sort_item *cands,
                         hoist_err *err)
{
    const hoist_objects *o = x->o;
    const int64_t now = x->opts->now_s;
    hoist_arena *a = &x->out->arena;
    size_t n_cands = 0;
    for (size_t i = 0; i < o->n_nodes; i++) {
        node_info *ni = &x->nodes[i];
        if (ni->pool < 0 || ni->disrupting || !ni->u || ni->n_work == 0)
            continue;
        const hoist_node *n = ni->node;
        const hoist_nodepool *np = x->pools[ni->pool].np;
        if (np->consolidation_policy != HOIST_CONSOLIDATE_WHEN_EMPTY_OR_UNDERUTILIZED ||
            np->consolidate_after == HOIST_NEVER || !ni->ready || ni->unschedulable ||
            ni->created <= 0 || now - ni->created < np->consolidate_after)
            continue;
        candidate c = {i, HOIST_DISRUPT_UNDERUTILIZED, NULL, 0};
        cands[n_cands++] = (sort_item){c, ni->n_work, ni->u->priority_sum,
                                       ni->u->deletion_cost_sum, lifetime_left(n, np, now),
                                       n->name};
    }
    qsort(cands, n_cands, sizeof *cands, candidate_cmp);
    size_t max_plans = x->opts->max_underutilized_plans ? x->opts->max_underutilized_plans : 8;
    /* a necessary condition, without a plan: the free cpu and memory of the
     * other Ready nodes cover what the removed nodes' pods request */
    hoist_milli free_total[2] = {0, 0}, gone_free[2] = {0, 0}, gone_req[2] = {0, 0};
    for (size_t i = 0; i < o->n_nodes; i++) {
        const node_info *ni = &x->nodes[i];
        if (!ni->ready || ni->unschedulable || ni->disrupting)
            continue;
        hoist_milli f[2], r[2];
        room_of(ni, f, r);
        free_total[0] += f[0];
        free_total[1] += f[1];
    }
    const char **gone = hoist_arena_calloc(a, n_cands + 1, sizeof *gone);
    if (!gone)
        return hoist_errf(err, "consolidate: out of memory");
    size_t n_gone = 0, plans = 0;
    for (size_t i = 0; i < n_cands && plans < max_plans; i++) {
        candidate *c = &cands[i].c;
        node_info *ni = &x->nodes[c->node];
        bool oom;
        const char *why = voluntary_block(x, c, &oom);
        if (oom)
            return hoist_errf(err, "consolidate: out of memory");
        if (why) {
            block(x, c, why);
            continue;
        }
        hoist_milli my_free[2], my_req[2];
        room_of(ni, my_free, my_req);
        bool room = true;
        for (int k = 0; k < 2; k++)
            room &= free_total[k] - gone_free[k] - my_free[k] >= gone_req[k] + my_req[k];
        int fit = 0;
        if (room) {
            gone[n_gone] = ni->node->name;
            plans++;
            fit = fits_elsewhere(x, usage, gone, n_gone + 1, err);
            if (fit < 0)
                return -1;
        }
        if (!fit)
            continue; /* (its headroom share was taken by held_back: conservative) */
        char d1[48], d2[48];
        format_duration(now - ni->node->created, d1, sizeof d1);
        format_duration(x->pools[ni->pool].np->consolidate_after, d2, sizeof d2);
        c->detail = hoist_arena_sprintf(a, "its %zu pod%s fit on the other Ready nodes%s "
                                        "(age %s, consolidateAfter %s)", ni->n_work,
                                        ni->n_work == 1 ? "" : "s",
                                        n_gone ? " with the nodes removed before it" : "", d1,
                                        d2);
        c->price = node_price(x->opts->catalog, ni->node);
        if (!c->detail || decide(x, c) < 0)
            return hoist_errf(err, "consolidate: out of memory");
        n_gone++;
        for (int k = 0; k < 2; k++) {
            gone_free[k] += my_free[k];
            gone_req[k] += my_req[k];
        }
    }
    if (n_gone > 0)
        return 0;
    size_t max_replace = x->opts->max_replacement_plans ? x->opts->max_replacement_plans : 5;
    return replace_group(x, usage, cands, n_cands, free_total, max_replace, err);
}

void hoist_consolidator_init(hoist_consolidator *s)
{
    memset(s, 0, sizeof *s);
    hoist_strmap_init(&s->empty_since);
}

/* Free the keys a consolidator's map owns, and the map. */
static void free_owned_map(hoist_strmap *m)
{
    for (size_t i = 0; i < m->cap; i++)
        free((char *)m->slots[i].key);
    hoist_strmap_free(m);
}

/* Forget the NodePools the cache was made under, and with them the cache. */
static void cache_forget_pools(hoist_consolidator *s)
{
    for (size_t i = 0; i < s->n_pools; i++)
        free(s->pool_names[i]);
    free(s->pools);
    free(s->pool_names);
    free(s->pool_hashes);
    s->pools = NULL;
    s->pool_names = NULL;
    s->pool_hashes = NULL;
    s->n_pools = 0;
    s->cache_of = NULL;
}

void hoist_consolidator_free(hoist_consolidator *s)
{
    free_owned_map(&s->empty_since);
    cache_forget_pools(s);
    free(s->cache);
    s->cache = NULL;
    s->n_cache = s->cap_cache = 0;
}

/* Make s's per-node cache fit o: voided when o is another snapshot or its
 * NodePools changed (names, order, template hashes), sized to its nodes.
 * 0, or -1 when out of memory (nothing is cached then). */
static int cache_prepare(hoist_consolidator *s, const hoist_objects *o)
{
    bool same = s->cache_of == o && s->n_pools == o->n_nodepools;
    for (size_t i = 0; same && i < o->n_nodepools; i++)
        same = s->pools[i] == o->nodepools[i] &&
               s->pool_hashes[i] == o->nodepools[i]->template_hash &&
               strcmp(s->pool_names[i], o->nodepools[i]->name) == 0;
    if (!same) {
        cache_forget_pools(s);
        size_t n = o->n_nodepools + 1;
        if (!(s->pools = calloc(n, sizeof *s->pools)) ||
            !(s->pool_names = calloc(n, sizeof *s->pool_names)) ||
            !(s->pool_hashes = calloc(n, sizeof *s->pool_hashes)))
            goto oom;
        for (size_t i = 0; i < o->n_nodepools; i++) {
            s->pools[i] = o->nodepools[i];
            s->pool_hashes[i] = o->nodepools[i]->template_hash;
            if (!(s->pool_names[i] = strdup(o->nodepools[i]->name)))
                goto oom;
            s->n_pools = i + 1;
        }
        s->n_pools = o->n_nodepools;
        s->n_cache = 0; /* every entry is made again */
    }
    if (o->n_nodes > s->cap_cache) {
        size_t cap = o->n_nodes + o->n_nodes / 2 + 16;
        hoist_consolidator_node *c = realloc(s->cache, cap * sizeof *c);
        if (!c)
            goto oom;
        s->cache = c;
        s->cap_cache = cap;
    }
    for (size_t i = s->n_cache; i < o->n_nodes; i++)
        s->cache[i].node = NULL; /* new positions: made when read */
    s->n_cache = o->n_nodes;
    s->cache_of = o;
    return 0;
oom:
    cache_forget_pools(s);
    s->n_cache = 0;
    return -1;
}

/* Node o->nodes[i]'s cache entry, made again unless it describes this very
 * node version (pointer and serial; serial 0 is never trusted). */
static hoist_consolidator_node *cache_entry(hoist_consolidator *s, const hoist_objects *o,
                                            size_t i, const hoist_strmap *pool_index,
                                            const pool_state *pools)
{
    const hoist_node *n = o->nodes[i];
    hoist_consolidator_node *c = &s->cache[i];
    if (c->node == n && n->serial != 0 && c->serial == n->serial)
        return c;
    c->node = n;
    c->serial = n->serial;
    c->pool = -1;
    c->drifted = false;
    c->ready = n->ready == 1;
    c->unschedulable = n->unschedulable;
    c->created = n->created;
    c->usage_slot = SIZE_MAX;
    c->usage_gen = 0;
    const char *pool = hoist_labels_get(&n->labels, HOIST_LABEL_NODEPOOL);
    int64_t pi;
    if (pool && hoist_strmap_get(pool_index, pool, &pi)) {
        c->pool = (int)pi;
        const char *launched = hoist_labels_get(&n->labels, HOIST_LABEL_NODEPOOL_HASH);
        c->drifted = launched && strcmp(launched, pools[pi].template_hash) != 0;
    }
    return c;
}

/* Node c's usage in `usage` (borrowed), from its hint when that still
 * holds, else by name (the hint is renewed when the usage is the cached
 * snapshot's own). */
static const hoist_node_usage *cached_usage(hoist_consolidator_node *c, const hoist_usage *usage,
                                            bool own)
{
    if (!own)
        return hoist_usage_of(usage, c->node->name);
    const hoist_node_usage *u = c->usage_slot == SIZE_MAX
                                    ? NULL
                                    : hoist_usage_at(usage, c->usage_slot, c->usage_gen);
    if (u)
        return u;
    c->usage_slot = hoist_usage_slot_of(usage, c->node->name);
    if (c->usage_slot == SIZE_MAX)
        return NULL;
    c->usage_gen = usage->slots[c->usage_slot].gen;
    return &usage->slots[c->usage_slot];
}

void hoist_consolidation_free(hoist_consolidation *c)
{
    hoist_arena_free(&c->arena);
    memset(c, 0, sizeof *c);
}

/* The view of one candidate the recycle hook sees. */
static hoist_recycle_view recycle_view(const hoist_consolidate_options *opts, const node_info *ni,
                                       const hoist_nodepool *np, char *family, size_t cap)
{
    hoist_recycle_view v;
    memset(&v, 0, sizeof v);
    v.node = ni->node;
    v.nodepool = np;
    v.instance_type = label_or_empty(ni->node, HOIST_LABEL_INSTANCE_TYPE);
    const hoist_instance_type *it =
        opts->catalog ? hoist_catalog_find(opts->catalog, v.instance_type) : NULL;
    if (it && it->family) {
        v.family = it->family;
        v.generation = (int)it->generation;
    } else {
        size_t n = strcspn(v.instance_type, ".");
        snprintf(family, cap, "%.*s", (int)n, v.instance_type);
        v.family = family;
    }
    v.zone = label_or_empty(ni->node, HOIST_LABEL_ZONE);
    v.capacity_type = label_or_empty(ni->node, HOIST_LABEL_CAPACITY_TYPE);
    v.age_seconds = ni->node->created > 0 ? opts->now_s - ni->node->created : 0;
    v.price = node_price(opts->catalog, ni->node);
    v.n_pods = ni->n_work;
    return v;
}

int hoist_consolidate_compute(hoist_consolidator *s, const hoist_objects *o,
                              const hoist_consolidate_options *opts, hoist_consolidation *out,
                              hoist_err *err)
{
    memset(out, 0, sizeof *out);
    hoist_arena_init(&out->arena, 0);
    hoist_arena *a = &out->arena;
    hoist_strmap pool_index, empty;
    hoist_strmap_init(&pool_index);
    hoist_strmap_init(&empty);
    int rc = -1;
    const int64_t now = opts->now_s;

    /* a snapshot without its owner's usage index gets one for this round */
    hoist_usage local;
    hoist_usage_init(&local);
    const hoist_usage *usage = o->usage;
    if (!usage) {
        if (hoist_usage_build(&local, o) < 0)
            goto oom;
        usage = &local;
    }

    pool_state *pools = hoist_arena_calloc(a, o->n_nodepools ? o->n_nodepools : 1, sizeof *pools);
    node_info *nodes = hoist_arena_calloc(a, o->n_nodes ? o->n_nodes : 1, sizeof *nodes);
    sort_item *cands = hoist_arena_calloc(a, o->n_nodes ? o->n_nodes : 1, sizeof *cands);
    out->items = hoist_arena_calloc(a, o->n_nodes ? o->n_nodes : 1, sizeof *out->items);
    /* a node may be held back twice: as a first-pass and as an underutilized candidate */
    out->blocked = hoist_arena_calloc(a, o->n_nodes ? 2 * o->n_nodes : 1, sizeof *out->blocked);
    if (!pools || !nodes || !cands || !out->items || !out->blocked)
        goto oom;

    /* NodePools and nodes by name */
    for (size_t i = 0; i < o->n_nodepools; i++) {
        pools[i].np = o->nodepools[i];
        snprintf(pools[i].template_hash, sizeof pools[i].template_hash, "%016llx",
                 (unsigned long long)o->nodepools[i]->template_hash);
        if (hoist_strmap_put(&pool_index, o->nodepools[i]->name, (int64_t)i) < 0)
            goto oom;
    }
    /* disruptions in progress: their names sorted, looked up per node */
    const char **disrupting = NULL;
    size_t n_disrupting = 0;
    if (opts->n_disrupting) {
        if (!(disrupting = hoist_arena_calloc(a, opts->n_disrupting, sizeof *disrupting)))
            goto oom;
        for (size_t i = 0; i < opts->n_disrupting; i++)
            if (opts->disrupting[i])
                disrupting[n_disrupting++] = opts->disrupting[i];
        qsort(disrupting, n_disrupting, sizeof *disrupting, str_ptr_cmp);
    }
    /* each node's NodePool, drift and readiness change only with its version
     * and the NodePools: kept between rounds */
    if (cache_prepare(s, o) < 0)
        goto oom;
    bool own_usage = usage == o->usage;
    for (size_t i = 0; i < o->n_nodes; i++) {
        node_info *ni = &nodes[i];
        hoist_consolidator_node *cn = cache_entry(s, o, i, &pool_index, pools);
        ni->node = o->nodes[i];
        ni->pool = cn->pool;
        ni->drifted = cn->drifted;
        ni->ready = cn->ready;
        ni->unschedulable = cn->unschedulable;
        ni->created = cn->created;
        ni->empty_since = -1;
        ni->u = cached_usage(cn, usage, own_usage);
        ni->n_work = ni->u ? ni->u->n_work : 0;
        ni->disrupting = n_disrupting && bsearch(&ni->node->name, disrupting, n_disrupting,
                                                 sizeof *disrupting, str_ptr_cmp);
        if (ni->pool >= 0) {
            pools[ni->pool].n_nodes++;
            pools[ni->pool].in_progress += ni->disrupting;
        }
    }

    /* spare capacity per NodePool, for headroom */
    if (opts->headroom)
        for (size_t i = 0; i < o->n_nodes; i++) {
            node_info *ni = &nodes[i];
            if (ni->pool < 0 || !ni->ready || ni->disrupting)
                continue;
            hoist_resources_add(&pools[ni->pool].spare, &ni->node->allocatable);
            if (ni->u)
                hoist_resources_sub(&pools[ni->pool].spare, &ni->u->requested);
        }

    /* when each Ready hoist node became empty (the new map owns its keys) */
    for (size_t i = 0; i < o->n_nodes; i++) {
        node_info *ni = &nodes[i];
        if (ni->pool < 0 || ni->n_work || !ni->ready)
            continue;
        int64_t since;
        if (!hoist_strmap_get(&s->empty_since, ni->node->name, &since) || since > now)
            since = now;
        int64_t dup;
        if (hoist_strmap_get(&empty, ni->node->name, &dup)) {
            ni->empty_since = dup;
            continue;
        }
        char *key = strdup(ni->node->name);
        if (!key || hoist_strmap_put(&empty, key, since) < 0) {
            free(key);
            goto oom;
        }
        ni->empty_since = since;
    }

    /* candidates */
    size_t n_cands = 0;
    for (size_t i = 0; i < o->n_nodes; i++) {
        node_info *ni = &nodes[i];
        if (ni->pool < 0 || ni->disrupting)
            continue;
        const hoist_node *n = ni->node;
        const hoist_nodepool *np = pools[ni->pool].np;
        char buf[160], d1[48], d2[48];
        candidate c = {i, HOIST_DISRUPT_EXPIRED, NULL, 0}; /* priced once chosen */
        if (np->expire_after != HOIST_NEVER && ni->created > 0 &&
            now - ni->created >= np->expire_after) {
            format_duration(now - ni->created, d1, sizeof d1);
            format_duration(np->expire_after, d2, sizeof d2);
            snprintf(buf, sizeof buf, "age %s reached expireAfter %s", d1, d2);
        } else if (ni->ready && !ni->unschedulable) {
            bool recycle = false;
            if (opts->recycle) {
                char family[64];
                hoist_recycle_view v = recycle_view(opts, ni, np, family, sizeof family);
                out->hook_calls++;
                buf[0] = '\0';
                if (opts->recycle(opts->recycle_ctx, &v, &recycle, buf, sizeof buf) < 0) {
                    out->hook_errors++;
                    recycle = false;
                }
                if (recycle && !buf[0])
                    snprintf(buf, sizeof buf, "recycled by policy");
            }
            const char *launched =
                ni->drifted ? hoist_labels_get(&n->labels, HOIST_LABEL_NODEPOOL_HASH) : NULL;
            const char *now_hash = pools[ni->pool].template_hash;
            if (recycle) {
                c.reason = HOIST_DISRUPT_RECYCLE;
            } else if (launched) {
                c.reason = HOIST_DISRUPT_DRIFTED;
                snprintf(buf, sizeof buf,
                         "NodePool %s's template changed since launch (hash %s, now %s)",
                         np->name, launched, now_hash);
            } else if (!ni->n_work && ni->empty_since >= 0 &&
                       np->consolidate_after != HOIST_NEVER &&
                       now - ni->empty_since >= np->consolidate_after) {
                c.reason = HOIST_DISRUPT_EMPTY;
                format_duration(now - ni->empty_since, d1, sizeof d1);
                format_duration(np->consolidate_after, d2, sizeof d2);
                snprintf(buf, sizeof buf, "empty for %s (consolidateAfter %s)", d1, d2);
            } else {
                continue;
            }
        } else {
            continue;
        }
        if (!(c.detail = hoist_arena_strdup(a, buf)))
            goto oom;
        c.price = node_price(opts->catalog, n);
        cands[n_cands++] = (sort_item){c, ni->n_work, ni->u ? ni->u->priority_sum : 0,
                                       ni->u ? ni->u->deletion_cost_sum : 0,
                                       lifetime_left(n, np, now), n->name};
    }
    qsort(cands, n_cands, sizeof *cands, candidate_cmp);

    decide_ctx x = {o, opts, out, pools, nodes, NULL};
    if (o->n_pdbs && !(x.pdbs = hoist_arena_calloc(a, o->n_pdbs, sizeof *x.pdbs)))
        goto oom;
    for (size_t i = 0; i < n_cands; i++) {
        const candidate *c = &cands[i].c;
        if (c->reason != HOIST_DISRUPT_EXPIRED) {
            bool oom = false;
            const char *why = held_back(&x, c, &oom);
            if (oom)
                goto oom;
            if (why) {
                block(&x, c, why);
                continue;
            }
        }
        if (decide(&x, c) < 0)
            goto oom;
    }
    if (opts->underutilized && out->n == 0 && opts->n_disrupting == 0 &&
        usage->n_waiting == 0 && opts->catalog && underutilized(&x, usage, cands, err) < 0) {
        hoist_consolidation_free(out);
        goto done;
    }

    /* keep the new empty-since times; nodes gone or busy are forgotten */
    free_owned_map(&s->empty_since);
    s->empty_since = empty;
    hoist_strmap_init(&empty);
    rc = 0;
    goto done;
oom:
    hoist_errf(err, "consolidate: out of memory");
    hoist_consolidation_free(out);
done:
    hoist_usage_free(&local);
    free_owned_map(&empty);
    hoist_strmap_free(&pool_index);
    return rc;
}
