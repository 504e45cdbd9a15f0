/* sched/plan.c - the provisioning decision; see plan.h. */
#include "sched/plan.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/instance.h"
#include "model/labels.h"
#include "model/quantity.h"
#include "model/usage.h"
#include "sched/bound.h"
#include "sched/topology.h"
#include "sched/volumes.h"
#include "util/strbuf.h"
#include "util/strmap.h"

/* ---------------------------------------------------------------------- */
/* State                                                                   */

typedef struct bin bin;

/* A NodePool as the planner sees it. */
typedef struct pool {
    const hoist_nodepool *np;
    hoist_reqs reqs;              /* the NodePool's requirements plus defaults */
    hoist_pool_types pt;          /* its instance types (with available offerings) */
    size_t words;                 /* bitset words for pt */
    uint64_t *all_types;          /* every type */
    hoist_resources ds;           /* DaemonSet pods that would run on its nodes */
    hoist_resources *avail;       /* per type: allocatable - ds */
    hoist_labels labels;          /* template labels + hoist.dev/nodepool */
    hoist_resources usage;        /* capacity of its nodes and claims (limits) */
    int n_claims;
    uint64_t (*zones_by_ct)[3];   /* per type: zone ids offered, per capacity type */
    bin *full;                    /* a claim template holding every type (its bounds) */
    bin *capped;                  /* the same for the types within the pass's size cap */
    uint64_t *efficient;          /* types priced within HOIST_PLAN_EFFICIENCY of the cheapest
                                     fractional cover of their own capacity */
    double *price;                /* per type: cheapest available offering */
    int dims;                     /* resources the efficiency rules look at ... */
    int slots[HOIST_COVER_MAX_DIMS]; /* ... and their slots */
    size_t n_eff;                 /* the efficient types as cover items */
    hoist_cover_item *eff;
    size_t *by_price;             /* type indices, cheapest first */
    double *score;                /* per type: score_type's score (0 without the hook) */
} pool;

/* A place pods can go: an existing node or a new claim. */
struct bin {
    int id;                       /* index in s->bins; the hostname domain id */
    const hoist_node *node;       /* existing node, or NULL for a claim */
    bool in_flight;               /* node not Ready yet */
    pool *pool;                   /* claims */
    const char *name;             /* node name or claim hostname */
    hoist_resources used;         /* requests placed (nodes: bound pods too) */
    hoist_resources cap;          /* nodes: allocatable; claims: max over types of avail */
    hoist_resources maxcap;       /* claims: max capacity over types (limits) */
    uint64_t *types;              /* claims: remaining types */
    size_t n_types;               /* claims: how many */
    bool efficient;               /* claims: some remaining type is efficient */
    double price;                 /* claims: cheapest price among remaining types */
    size_t cheapest;              /* claims: the type with that price */
    size_t cheapest_pos;          /* claims: its position in the pool's by_price order */
    uint64_t open_zones;          /* claims: bin_open_values of zone and capacity type for */
    uint64_t open_cts;            /* b->types and b->reqs, valid while open_valid */
    bool open_valid;
    uint64_t growth_key;          /* claims: growth_ok's last question (pods, request) ... */
    bool growth_answer;           /* ... and its answer */
    hoist_reqs reqs;              /* claims: narrowed requirements */
    size_t n_pods, cap_pods;
    int32_t *pods;                /* pending pods placed here */
    bool has_real;                /* some real (not placeholder) pod is placed here */
    const int *dom;               /* nodes: the domain id under each topology key known
                                     when the pass began (DOM_UNKNOWN: look it up) */
    size_t n_dom;
};

/* bin.dom's "not recorded": bin_domain looks the label up. */
#define DOM_UNKNOWN INT_MIN

/* One constraint of a pending pod on a topology group. */
typedef struct pod_constraint {
    hoist_group *g;
    int pref;                     /* index in the pod's preference order, -1 = required */
} pod_constraint;

/* A pending pod with everything decided once. */
typedef struct spod {
    const hoist_pod *pod;
    const char *name;             /* ns/name */
    int32_t *matches;             /* groups whose selector counts this pod */
    long n_matches;
    size_t n_cons;
    pod_constraint *cons;
    size_t n_alts;                /* required node-affinity alternatives (OR) */
    hoist_reqs *alts;             /* nodeSelector AND term AND volume terms */
    size_t n_pref_terms;
    const hoist_preferred_node_term **pref_terms; /* by weight, lightest first */
    int n_prefs;                  /* relaxable preferences, in drop order */
    int pref_node_first;          /* index of the first preferred node term in that order */
    int pref_taints;              /* index of "PreferNoSchedule taints block" */
    const char *invalid;          /* volume errors etc.: unschedulable with this reason */
    int cached_level;             /* alternatives() memo: level, or -1 */
    hoist_reqs *cached_alts;
    size_t cached_n;
    int placed;                   /* bin id, or -1 */
} spod;

/* Cursor of a signature: bins before it reject such pods for good. */
typedef struct cursor {
    int32_t next;
} cursor;

/* The groups a label set matches, computed once per decision for every
 * running pod with the same namespace and labels. */
typedef struct match_memo {
    bool done;                    /* false = not computed yet */
    long n;
    int32_t *m;                   /* malloc'd group ids */
} match_memo;

typedef struct sched {
    hoist_arena *a;
    hoist_objects *o;
    const hoist_catalog *c;
    hoist_err *err;
    size_t max_offerings;
    size_t n_pools;
    pool *pools;                  /* weight order */
    size_t n_bins, cap_bins;
    bin **bins;
    size_t n_pods;
    spod *pods;
    hoist_topology topo;
    hoist_topo_key *zone_key;     /* topology key entries for offering keys */
    hoist_topo_key *ct_key;
    int ct_ids[3];                /* value id of each capacity type under ct_key */
    hoist_strmap sigs;            /* signature -> cursor index */
    size_t n_cursors, cap_cursors;
    cursor *cursors;
    const char *why;              /* last rejection reason (points into why_buf or the arena) */
    int why_code;                 /* its kind: WHY_* */
    char why_buf[512];
    uint64_t *scratch_types;      /* candidate type set of the check in progress */
    uint64_t *scratch_explain;    /* type set used while explaining a rejection */
    uint32_t cap_vcpus;           /* new claims start from types this small (0: any) */
    const hoist_plan_hooks *hooks;/* borrowed; may be NULL */
    bool existing_only;           /* place on Ready nodes only, no claims */
    hoist_plan_cache *cache;      /* efficient-type sets; may be NULL */
    size_t hook_errors;
    bool why_permanent;           /* the last rejection cannot change later */
    hoist_strbuf sigbuf;          /* scratch for cursor signatures */
    const char *const *without;   /* nodes planned as gone (opts->without) */
    size_t n_without;
    const char *const *avoid;     /* nodes that take no pod (opts->avoid) */
    size_t n_avoid;
    match_memo *memo;             /* by label class (hoist_label_set.id) */
    size_t cap_memo;
    int *node_dom;                /* per node of o (in order), per topology key known at
                                     intern_domains: its domain id (see bin.dom) */
    size_t node_dom_keys;
} sched;

#define WORD_BITS 64
#define BIT_SET(b, i) ((b)[(i) / WORD_BITS] |= (uint64_t)1 << ((i) % WORD_BITS))
#define BIT_CLEAR(b, i) ((b)[(i) / WORD_BITS] &= ~((uint64_t)1 << ((i) % WORD_BITS)))
#define BIT_TEST(b, i) (((b)[(i) / WORD_BITS] >> ((i) % WORD_BITS)) & 1)

static int oom(sched *s)
{
    return hoist_errf(s->err, "out of memory");
}

/* Kinds of rejection, so a NodePool-level reason can say the right thing. */
enum { WHY_OTHER = 0, WHY_RESOURCES, WHY_REQUIREMENTS, WHY_MIN_VALUES, WHY_TOPOLOGY, WHY_TAINT };

/* Record why the last check failed; permanent when it can never pass later. */
static bool reject(sched *s, bool permanent, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static bool reject(sched *s, bool permanent, const char *fmt, ...)
{
    if (s->existing_only) {
        /* a scheduler's pass explains nothing ("no Ready node fits"): a
         * reason per node tried would be formatted for nobody */
        s->why = "rejected";
        s->why_permanent = permanent;
        s->why_code = WHY_OTHER;
        return false;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->why_buf, sizeof s->why_buf, fmt, ap);
    va_end(ap);
    s->why = s->why_buf;
    s->why_permanent = permanent;
    s->why_code = WHY_OTHER;
    return false;
}

/* ---------------------------------------------------------------------- */
/* Requirements and labels                                                 */

/* True when `key` is carried by every node of a type because of the type. */
static bool is_type_label(const char *key)
{
    return strcmp(key, HOIST_LABEL_INSTANCE_TYPE) == 0 || strcmp(key, HOIST_LABEL_ARCH) == 0 ||
           strcmp(key, HOIST_LABEL_OS) == 0 ||
           strncmp(key, HOIST_LABEL_INSTANCE_PREFIX, strlen(HOIST_LABEL_INSTANCE_PREFIX)) == 0;
}

static bool is_offering_label(const char *key)
{
    return strcmp(key, HOIST_LABEL_ZONE) == 0 || strcmp(key, HOIST_LABEL_CAPACITY_TYPE) == 0;
}

/* Requirements equivalent to a label set (key In [value] each). */
static int labels_to_reqs(hoist_arena *a, const hoist_labels *l, hoist_reqs *out)
{
    out->n = l->n;
    out->items = l->n ? hoist_arena_calloc(a, l->n, sizeof *out->items) : NULL;
    if (l->n && !out->items)
        return -1;
    for (size_t i = 0; i < l->n; i++) {
        const char **v = hoist_arena_calloc(a, 1, sizeof *v);
        if (!v)
            return -1;
        v[0] = l->items[i].value;
        out->items[i].key = l->items[i].key;
        out->items[i].op = HOIST_OP_IN;
        out->items[i].values = v;
        out->items[i].n_values = 1;
    }
    return 0;
}

/* The single value `key` is narrowed to in rs (an In with one value), or NULL. */
static const char *reqs_single(const hoist_reqs *rs, const char *key)
{
    const char *v = NULL;
    for (size_t i = 0; i < rs->n; i++)
        if (strcmp(rs->items[i].key, key) == 0 && rs->items[i].op == HOIST_OP_IN) {
            if (rs->items[i].n_values != 1)
                return NULL;
            v = rs->items[i].values[0];
        }
    return v;
}

/* True when a label `key`=`value` (value NULL: absent) satisfies every requirement on key. */
static bool reqs_allow(const hoist_reqs *rs, const char *key, const char *value)
{
    for (size_t i = 0; i < rs->n; i++)
        if (strcmp(rs->items[i].key, key) == 0 && !hoist_req_match_value(&rs->items[i], value))
            return false;
    return true;
}


/* True when r (from the request) fits into avail - used, looking only at
 * the slots the request uses. */
static bool fits(const hoist_resources *req, const hoist_resources *used,
                 const hoist_resources *avail)
{
    for (int i = 0; i < HOIST_RES_MAX; i++)
        if (req->v[i] && used->v[i] + req->v[i] > avail->v[i])
            return false;
    return true;
}

/* The slots where req does not fit, for reasons ("cpu, nvidia.com/gpu"),
 * written into buf (size MISFIT_LEN); returns buf. */
#define MISFIT_LEN 256
static const char *misfit(const sched *s, const hoist_resources *req,
                          const hoist_resources *used, const hoist_resources *avail, char *buf)
{
    const hoist_objects *o = s->o;
    size_t len = 0;
    if (s->existing_only) /* unexplained: see reject() */
        return "resources";
    snprintf(buf, MISFIT_LEN, "resources");
    for (int i = 0; i < HOIST_RES_MAX && len < MISFIT_LEN; i++)
        if (req->v[i] && used->v[i] + req->v[i] > avail->v[i])
            len += (size_t)snprintf(buf + len, MISFIT_LEN - len, "%s%s", len ? ", " : "",
                                    o->names.names[i]);
    return buf;
}

/* ---------------------------------------------------------------------- */
/* Pools                                                                   */

static int compare_pools(const void *pa, const void *pb)
{
    const pool *a = pa, *b = pb;
    if (a->np->weight != b->np->weight)
        return a->np->weight > b->np->weight ? -1 : 1;
    return strcmp(a->np->name, b->np->name);
}

/* True when a DaemonSet pod would run on pool pl's nodes. */
static bool daemonset_runs_on(sched *s, const hoist_pod *dp, const pool *pl)
{
    hoist_taints all = pl->np->taints;
    if (!hoist_tolerations_tolerate_all(&dp->tolerations, &all))
        return false;
    hoist_reqs sel;
    if (labels_to_reqs(s->a, &dp->node_selector, &sel) < 0 ||
        !hoist_reqs_compatible(&sel, &pl->reqs))
        return false;
    if (dp->node_affinity.n == 0)
        return true;
    for (size_t i = 0; i < dp->node_affinity.n; i++)
        if (hoist_reqs_compatible(&dp->node_affinity.terms[i].match_expressions, &pl->reqs))
            return true;
    return false;
}

/* Label `value` of the node of an existing NodePool member, or NULL. */
static const char *node_pool_name(const hoist_node *n)
{
    return hoist_labels_get(&n->labels, HOIST_LABEL_NODEPOOL);
}

static void claim_bounds(bin *b);

/* Ask the score_type hook about one type of pool pl; its score goes to
 * *score. True when the type stays. A failing hook keeps the type. */
static bool keep_type(sched *s, const pool *pl, const hoist_pool_type *pt, double *score_out)
{
    *score_out = 0.0;
    if (!s->hooks || !s->hooks->score_type)
        return true;
    bool keep = true;
    double score = 0.0;
    if (s->hooks->score_type(s->hooks->ctx, pl->np, pt->type, &keep, &score) < 0) {
        s->hook_errors++;
        return true;
    }
    *score_out = isfinite(score) ? score : 0.0;
    return keep;
}

/* How much dearer than the cheapest mix of types holding the same capacity a
 * type may be and still count as efficient. A claim that holds an efficient
 * type does not grow past the efficient types: it stops where buying more
 * capacity in one machine costs more per unit than buying it in two. */
#define HOIST_PLAN_EFFICIENCY 0.10


/* ---- the efficient-type cache ------------------------------------------ */

/* Which types of a pool are efficient depends only on their capacities and
 * prices, which rarely change between decisions: the answer is kept under a
 * hash of them (a collision would only change which types count as
 * efficient, never feasibility). */
#define PLAN_CACHE_SLOTS 32

/* Prices drift (the spot market): an answer stays good while every price is
 * within this fraction of the one it was computed with. The efficiency
 * margin is 10 %, so a 1 % drift cannot turn a clearly efficient type into
 * a wasteful one. */
#define PLAN_CACHE_PRICE_TOLERANCE 0.01

struct hoist_plan_cache {
    struct {
        uint64_t key;      /* hash of the types' capacities */
        size_t words, n;
        uint64_t *bits;    /* NULL = empty slot */
        double *prices;    /* the n prices the answer was computed with */
    } slot[PLAN_CACHE_SLOTS];
    size_t next;           /* the slot the next new key replaces */
    uint64_t hits, misses;
    /* each NodePool's instance types (hoist_nodepool_types), which depend on
     * the catalog, the snapshot's name table, the NodePool and its kubelet
     * settings; kept in the slot's own arena */
    struct {
        uint64_t key;
        bool used;
        hoist_arena arena;
        hoist_pool_types pt;
    } pools[PLAN_CACHE_SLOTS];
    size_t next_pool;
};

hoist_plan_cache *hoist_plan_cache_new(void)
{
    return calloc(1, sizeof(hoist_plan_cache));
}

void hoist_plan_cache_free(hoist_plan_cache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < PLAN_CACHE_SLOTS; i++) {
        free(c->slot[i].bits);
        free(c->slot[i].prices);
        if (c->pools[i].used)
            hoist_arena_free(&c->pools[i].arena);
    }
    free(c);
}

void hoist_plan_cache_stats(const hoist_plan_cache *c, uint64_t *hits, uint64_t *misses)
{
    *hits = c ? c->hits : 0;
    *misses = c ? c->misses : 0;
}

static bool prices_close(const double *a, const double *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (fabs(a[i] - b[i]) > PLAN_CACHE_PRICE_TOLERANCE * b[i])
            return false;
    return true;
}

/* The slot holding key for n types, or -1. */
static int plan_cache_find(const hoist_plan_cache *c, uint64_t key, size_t n, size_t words)
{
    for (int i = 0; i < PLAN_CACHE_SLOTS; i++)
        if (c->slot[i].bits && c->slot[i].key == key && c->slot[i].words == words &&
            c->slot[i].n == n)
            return i;
    return -1;
}

static const uint64_t *plan_cache_get(hoist_plan_cache *c, uint64_t key, const double *prices,
                                      size_t n, size_t words)
{
    if (!c)
        return NULL;
    int i = plan_cache_find(c, key, n, words);
    if (i >= 0 && prices_close(prices, c->slot[i].prices, n)) {
        c->hits++;
        return c->slot[i].bits;
    }
    c->misses++;
    return NULL;
}

static int plan_cache_put(hoist_plan_cache *c, uint64_t key, const double *prices, size_t n,
                          const uint64_t *bits, size_t words)
{
    if (!c)
        return 0;
    uint64_t *copy = malloc(words * sizeof *copy);
    double *pcopy = malloc((n ? n : 1) * sizeof *pcopy);
    if (!copy || !pcopy) {
        free(copy);
        free(pcopy);
        return -1;
    }
    memcpy(copy, bits, words * sizeof *copy);
    memcpy(pcopy, prices, n * sizeof *pcopy);
    int i = plan_cache_find(c, key, n, words); /* prices moved: replace that answer */
    if (i < 0) {
        i = (int)c->next;
        c->next = (c->next + 1) % PLAN_CACHE_SLOTS;
    }
    free(c->slot[i].bits);
    free(c->slot[i].prices);
    c->slot[i].key = key;
    c->slot[i].words = words;
    c->slot[i].n = n;
    c->slot[i].bits = copy;
    c->slot[i].prices = pcopy;
    return 0;
}

/* NodePool np's instance types into out, allocated in s->a (the caller
 * filters the offering arrays in place): from the cache when the catalog,
 * the snapshot's names, the NodePool's spec and its kubelet settings are
 * those of a cached answer. */
static int pool_types(sched *s, const hoist_nodepool *np, hoist_pool_types *out)
{
    hoist_plan_cache *c = s->cache;
    if (!c)
        return hoist_nodepool_types(s->a, s->c, s->o, np, out, s->err);
    hoist_kubelet_config kc;
    memset(&kc, 0, sizeof kc);
    hoist_nodepool_kubelet(s->o, np, &kc);
    uint64_t key = np->spec_hash ^ hoist_hash_bytes(np->name, strlen(np->name));
    uint64_t parts[4] = {(uint64_t)(uintptr_t)s->c, (uint64_t)s->c->n,
                         (uint64_t)(uintptr_t)s->o, (uint64_t)s->o->names.count};
    key = key * 31 + hoist_hash_bytes(parts, sizeof parts);
    key = key * 31 + hoist_hash_bytes(&kc, sizeof kc);
    const hoist_pool_types *src = NULL;
    for (size_t i = 0; i < PLAN_CACHE_SLOTS; i++)
        if (c->pools[i].used && c->pools[i].key == key)
            src = &c->pools[i].pt;
    if (!src) {
        size_t i = c->next_pool;
        c->next_pool = (c->next_pool + 1) % PLAN_CACHE_SLOTS;
        if (c->pools[i].used)
            hoist_arena_free(&c->pools[i].arena);
        hoist_arena_init(&c->pools[i].arena, 0);
        c->pools[i].used = true;
        c->pools[i].key = key;
        if (hoist_nodepool_types(&c->pools[i].arena, s->c, s->o, np, &c->pools[i].pt, s->err) <
            0) {
            hoist_arena_free(&c->pools[i].arena);
            c->pools[i].used = false;
            return -1;
        }
        src = &c->pools[i].pt;
    }
    /* a copy the caller may filter: the items and their offering arrays */
    out->n = src->n;
    out->items = hoist_arena_calloc(s->a, src->n ? src->n : 1, sizeof *out->items);
    if (!out->items)
        return oom(s);
    for (size_t t = 0; t < src->n; t++) {
        out->items[t] = src->items[t];
        size_t k = src->items[t].n_offerings;
        const hoist_offering **offs = hoist_arena_calloc(s->a, k ? k : 1, sizeof *offs);
        if (!offs)
            return oom(s);
        memcpy(offs, src->items[t].offerings, k * sizeof *offs);
        out->items[t].offerings = offs;
    }
    return 0;
}

/* Cheapest available offering of a pool type. */
static double cheapest_price(const hoist_pool_type *pt)
{
    double best = pt->offerings[0]->price;
    for (size_t j = 1; j < pt->n_offerings; j++)
        if (pt->offerings[j]->price < best)
            best = pt->offerings[j]->price;
    return best;
}

/* Mark pool pl's efficient types: judged on cpu, memory and the first two
 * extended resources any type has (GPUs), with the DaemonSets deducted. */
typedef struct price_index {
    double price;
    size_t index;
} price_index;

static int compare_price_index(const void *pa, const void *pb)
{
    const price_index *a = pa, *b = pb;
    if (a->price < b->price)
        return -1;
    if (b->price < a->price)
        return 1;
    return a->index < b->index ? -1 : a->index > b->index;
}

static int mark_efficient(sched *s, pool *pl)
{
    size_t n = pl->pt.n;
    if (n == 0)
        return 0;
    int slots[HOIST_COVER_MAX_DIMS] = {HOIST_RES_CPU, HOIST_RES_MEMORY, -1, -1};
    int dims = 2;
    for (int r = HOIST_RES_N_STANDARD; r < HOIST_RES_MAX && dims < HOIST_COVER_MAX_DIMS; r++)
        for (size_t t = 0; t < n; t++)
            if (pl->avail[t].v[r] > 0) {
                slots[dims++] = r;
                break;
            }
    hoist_cover_item *items = calloc(n, sizeof *items);
    pl->efficient = hoist_arena_calloc(s->a, pl->words, sizeof *pl->efficient);
    pl->price = hoist_arena_calloc(s->a, n, sizeof *pl->price);
    pl->eff = hoist_arena_calloc(s->a, n, sizeof *pl->eff);
    if (!items || !pl->efficient || !pl->price || !pl->eff) {
        free(items);
        return oom(s);
    }
    pl->dims = dims;
    memcpy(pl->slots, slots, sizeof slots);
    for (size_t t = 0; t < n; t++) {
        for (int d = 0; d < dims; d++)
            items[t].cap[d] = pl->avail[t].v[slots[d]] > 0 ? pl->avail[t].v[slots[d]] : 0;
        items[t].price = pl->price[t] = cheapest_price(&pl->pt.items[t]);
    }
    /* the answer depends only on the items: reuse it when seen before */
    uint64_t key = (uint64_t)n * 0x9e3779b97f4a7c15ull;
    for (size_t t = 0; t < n; t++)
        key = key * 31 + hoist_hash_bytes(items[t].cap, sizeof items[t].cap);
    const uint64_t *cached = plan_cache_get(s->cache, key, pl->price, n, pl->words);
    if (cached) {
        memcpy(pl->efficient, cached, pl->words * sizeof *pl->efficient);
        for (size_t t = 0; t < n; t++)
            if (BIT_TEST(pl->efficient, t))
                pl->eff[pl->n_eff++] = items[t];
        free(items);
        goto sort;
    }
    for (size_t t = 0; t < n; t++) {
        double bound;
        if (hoist_cover_lower_bound(items, n, items[t].cap, dims, &bound, NULL) < 0) {
            free(items);
            return oom(s);
        }
        if (items[t].price <= bound * (1.0 + HOIST_PLAN_EFFICIENCY) + 1e-12) {
            BIT_SET(pl->efficient, t);
            pl->eff[pl->n_eff++] = items[t];
        }
    }
    free(items);
    if (plan_cache_put(s->cache, key, pl->price, n, pl->efficient, pl->words) < 0)
        return oom(s);
sort:
    pl->by_price = hoist_arena_calloc(s->a, n, sizeof *pl->by_price);
    if (!pl->by_price)
        return oom(s);
    /* by price, then index (a total order: any sort gives the same list) */
    price_index *pi = malloc(n * sizeof *pi);
    if (!pi)
        return oom(s);
    for (size_t t = 0; t < n; t++)
        pi[t] = (price_index){pl->price[t], t};
    qsort(pi, n, sizeof *pi, compare_price_index);
    for (size_t t = 0; t < n; t++)
        pl->by_price[t] = pi[t].index;
    free(pi);
    return 0;
}

static int setup_pools(sched *s)
{
    s->n_pools = s->o->n_nodepools;
    s->pools = s->n_pools ? hoist_arena_calloc(s->a, s->n_pools, sizeof *s->pools) : NULL;
    if (s->n_pools && !s->pools)
        return oom(s);
    for (size_t i = 0; i < s->n_pools; i++)
        s->pools[i].np = s->o->nodepools[i];
    if (s->n_pools > 1)
        qsort(s->pools, s->n_pools, sizeof *s->pools, compare_pools);
    for (size_t i = 0; i < s->n_pools; i++) {
        pool *pl = &s->pools[i];
        if (hoist_nodepool_requirements(s->a, pl->np, &pl->reqs, s->err) < 0 ||
            pool_types(s, pl->np, &pl->pt) < 0)
            return -1;
        /* keep only available offerings; drop types left with none, and those
         * the score_type hook refuses */
        pl->score = hoist_arena_calloc(s->a, pl->pt.n ? pl->pt.n : 1, sizeof *pl->score);
        if (!pl->score)
            return oom(s);
        size_t n = 0;
        for (size_t t = 0; t < pl->pt.n; t++) {
            hoist_pool_type *pt = &pl->pt.items[t];
            size_t k = 0;
            for (size_t j = 0; j < pt->n_offerings; j++)
                if (pt->offerings[j]->available)
                    pt->offerings[k++] = pt->offerings[j];
            pt->n_offerings = k;
            double score;
            if (k && keep_type(s, pl, pt, &score)) {
                pl->score[n] = score;
                pl->pt.items[n++] = *pt;
            }
        }
        pl->pt.n = n;
        pl->words = (n + WORD_BITS - 1) / WORD_BITS;
        pl->all_types = hoist_arena_calloc(s->a, pl->words ? pl->words : 1, sizeof(uint64_t));
        pl->avail = hoist_arena_calloc(s->a, n ? n : 1, sizeof *pl->avail);
        if (!pl->all_types || !pl->avail)
            return oom(s);
        for (size_t d = 0; d < s->o->n_daemonsets; d++) {
            const hoist_pod *dp = &s->o->daemonsets[d]->pod;
            if (daemonset_runs_on(s, dp, pl))
                hoist_resources_add(&pl->ds, &dp->requests);
        }
        for (size_t t = 0; t < n; t++) {
            BIT_SET(pl->all_types, t);
            pl->avail[t] = pl->pt.items[t].allocatable;
            hoist_resources_sub(&pl->avail[t], &pl->ds);
        }
        pl->full = hoist_arena_calloc(s->a, 1, sizeof *pl->full);
        if (!pl->full)
            return oom(s);
        if (mark_efficient(s, pl) < 0)
            return -1;
        pl->full->pool = pl;
        pl->full->types = pl->all_types;
        claim_bounds(pl->full);
        /* labels every node of the pool carries */
        size_t nl = pl->np->labels.n;
        hoist_kv *kv = hoist_arena_calloc(s->a, nl + 1, sizeof *kv);
        if (!kv)
            return oom(s);
        for (size_t k = 0; k < nl; k++)
            kv[k] = pl->np->labels.items[k];
        kv[nl] = (hoist_kv){HOIST_LABEL_NODEPOOL, pl->np->name};
        if (hoist_labels_from_pairs(s->a, kv, nl + 1, &pl->labels) < 0)
            return oom(s);
        /* the pool's own labels narrow its requirements */
        hoist_reqs lr, merged;
        if (labels_to_reqs(s->a, &pl->labels, &lr) < 0)
            return oom(s);
        if (hoist_reqs_intersect(s->a, &pl->reqs, &lr, &merged, NULL) == 0)
            pl->reqs = merged;
    }
    /* each pool's nodes' capacity (limits): one label lookup per node */
    for (size_t nd = 0; s->n_pools && nd < s->o->n_nodes; nd++) {
        const char *np = node_pool_name(s->o->nodes[nd]);
        for (size_t i = 0; np && i < s->n_pools; i++)
            if (strcmp(np, s->pools[i].np->name) == 0)
                hoist_resources_add(&s->pools[i].usage, &s->o->nodes[nd]->capacity);
    }
    return 0;
}

/* True when adding `extra` capacity keeps pool pl within its limits. */
static bool within_limits(const pool *pl, const hoist_resources *extra)
{
    for (int i = 0; i < HOIST_RES_MAX; i++)
        if ((pl->np->limits_set >> i) & 1u)
            if (pl->usage.v[i] + extra->v[i] > pl->np->limits.v[i])
                return false;
    return true;
}

/* ---------------------------------------------------------------------- */
/* Bins                                                                    */

static bin *new_bin(sched *s)
{
    if (s->n_bins == s->cap_bins) {
        size_t cap = s->cap_bins ? s->cap_bins * 2 : 64;
        bin **v = realloc(s->bins, cap * sizeof *v);
        if (!v)
            return NULL;
        s->bins = v;
        s->cap_bins = cap;
    }
    bin *b = hoist_arena_calloc(s->a, 1, sizeof *b);
    if (!b)
        return NULL;
    b->id = (int)s->n_bins;
    s->bins[s->n_bins++] = b;
    return b;
}

/* Recompute a claim's resource bounds from its remaining types. */
static void claim_bounds(bin *b)
{
    const pool *pl = b->pool;
    memset(&b->cap, 0, sizeof b->cap);
    memset(&b->maxcap, 0, sizeof b->maxcap);
    size_t n = 0;
    b->price = INFINITY;
    for (size_t w = 0; w < pl->words; w++)
        for (uint64_t bits = b->types[w]; bits; bits &= bits - 1) {
            size_t t = w * WORD_BITS + (size_t)__builtin_ctzll(bits);
            hoist_resources_max(&b->cap, &pl->avail[t]);
            hoist_resources_max(&b->maxcap, &pl->pt.items[t].capacity);
            if (pl->price && pl->price[t] < b->price) {
                b->price = pl->price[t];
                b->cheapest = t;
            }
            n++;
        }
    b->n_types = n;
    b->open_valid = false;
    b->cheapest_pos = 0;
    if (pl->by_price && n)
        for (size_t i = 0; i < pl->pt.n; i++)
            if (pl->by_price[i] == b->cheapest) {
                b->cheapest_pos = i;
                break;
            }
    b->efficient = false;
    if (pl->efficient)
        for (size_t w = 0; w < pl->words && !b->efficient; w++)
            b->efficient = (b->types[w] & pl->efficient[w]) != 0;
}

/* Count the distinct values of `key` among a claim's types. */
static int distinct_values(const pool *pl, const uint64_t *types, const char *key)
{
    const char *seen[64];
    int n = 0;
    for (size_t t = 0; t < pl->pt.n && n < 64; t++) {
        if (!BIT_TEST(types, t))
            continue;
        const char *v = hoist_labels_get(&pl->pt.items[t].labels, key);
        if (!v)
            continue;
        bool dup = false;
        for (int i = 0; i < n && !dup; i++)
            dup = strcmp(seen[i], v) == 0;
        if (!dup)
            seen[n++] = v;
    }
    return n;
}

/* True when the types satisfy every minValues of the pool. */
static bool min_values_ok(const pool *pl, const uint64_t *types)
{
    for (size_t i = 0; i < pl->np->requirements.n; i++) {
        const hoist_req *r = &pl->np->requirements.items[i];
        if (r->min_values > 0 && distinct_values(pl, types, r->key) < r->min_values)
            return false;
    }
    return true;
}

/* The value id of key k a bin is already committed to, -1 when open (a
 * claim that may still go several ways), -2 when the bin has no value. */
static int bin_domain(const bin *b, hoist_topo_key *k)
{
    if (k->hostname)
        return b->id;
    const char *v;
    if (b->node && k->index < b->n_dom && b->dom[k->index] != DOM_UNKNOWN)
        return b->dom[k->index]; /* what the lookup below gave in intern_domains */
    if (b->node) {
        v = hoist_labels_get(&b->node->labels, k->key);
        return v ? hoist_topo_value_id(k, v) : -2;
    }
    v = reqs_single(&b->reqs, k->key);
    if (!v)
        v = hoist_labels_get(&b->pool->labels, k->key);
    if (v)
        return hoist_topo_value_id(k, v);
    /* a type label all remaining types share */
    if (is_type_label(k->key)) {
        const char *common = NULL;
        for (size_t t = 0; t < b->pool->pt.n; t++) {
            if (!BIT_TEST(b->types, t))
                continue;
            const char *tv = hoist_labels_get(&b->pool->pt.items[t].labels, k->key);
            if (!tv)
                return -2;
            if (common && strcmp(common, tv) != 0)
                return -1;
            common = tv;
        }
        return common ? hoist_topo_value_id(k, common) : -2;
    }
    return -1;
}

/* Zone ids (of s->zone_key) allowed by rs, as a bit set. */
static uint64_t allowed_zones(const sched *s, const hoist_reqs *rs)
{
    uint64_t set = 0;
    for (size_t v = 0; v < s->zone_key->n_values; v++)
        if (reqs_allow(rs, HOIST_LABEL_ZONE, s->zone_key->values[v]))
            set |= (uint64_t)1 << v;
    return set;
}

/* Capacity types allowed by rs, as a bit set over hoist_capacity_type. */
static unsigned allowed_cts(const hoist_reqs *rs)
{
    unsigned set = 0;
    for (int c = 0; c < 3; c++)
        if (reqs_allow(rs, HOIST_LABEL_CAPACITY_TYPE,
                       hoist_capacity_type_name((hoist_capacity_type)c)))
            set |= 1u << c;
    return set;
}

/* The values of key k an open claim could still take, as a bit set. */
static uint64_t bin_open_values(const sched *s, const bin *b, hoist_topo_key *k,
                                const uint64_t *types)
{
    uint64_t set = 0;
    const pool *pl = b->pool;
    bool zone = k == s->zone_key;
    bool ct = k == s->ct_key;
    if ((zone || ct) && types == b->types && b->open_valid)
        return zone ? b->open_zones : b->open_cts;
    if (zone || ct) {
        uint64_t zones = allowed_zones(s, &b->reqs);
        unsigned cts = allowed_cts(&b->reqs);
        for (size_t t = 0; t < pl->pt.n; t++) {
            if (!BIT_TEST(types, t))
                continue;
            for (int c = 0; c < 3; c++) {
                if (!((cts >> c) & 1))
                    continue;
                uint64_t z = pl->zones_by_ct[t][c] & zones;
                if (!z)
                    continue;
                if (zone)
                    set |= z;
                else if (s->ct_ids[c] >= 0)
                    set |= (uint64_t)1 << s->ct_ids[c];
            }
        }
        return set;
    }
    if (is_type_label(k->key)) {
        for (size_t t = 0; t < pl->pt.n; t++) {
            if (!BIT_TEST(types, t))
                continue;
            const char *v = hoist_labels_get(&pl->pt.items[t].labels, k->key);
            int id = v ? hoist_topo_value_id(k, v) : -1;
            if (id >= 0 && reqs_allow(&b->reqs, k->key, v))
                set |= (uint64_t)1 << id;
        }
        return set;
    }
    /* a free label: the In values of the claim's requirements */
    for (size_t i = 0; i < b->reqs.n; i++)
        if (strcmp(b->reqs.items[i].key, k->key) == 0 && b->reqs.items[i].op == HOIST_OP_IN)
            for (size_t j = 0; j < b->reqs.items[i].n_values; j++) {
                int id = hoist_topo_value_id(k, b->reqs.items[i].values[j]);
                if (id >= 0)
                    set |= (uint64_t)1 << id;
            }
    return set;
}

/* Cache the zone and capacity-type values an open claim could still take. */
static void refresh_open_values(const sched *s, bin *b)
{
    b->open_valid = false;
    b->open_zones = bin_open_values(s, b, s->zone_key, b->types);
    b->open_cts = bin_open_values(s, b, s->ct_key, b->types);
    b->open_valid = true;
}

/* ---------------------------------------------------------------------- */
/* Topology checks                                                         */

/* The smallest count among the domains of key k eligible for pod sp (the
 * values its requirements allow), with minDomains: 0 when fewer domains. */
static int32_t spread_min(const hoist_group *g, const hoist_reqs *alt)
{
    hoist_topo_key *k = g->key;
    if (k->hostname)
        return 0; /* a new node is always a domain with no pods */
    int32_t min = INT32_MAX;
    int eligible = 0;
    for (size_t v = 0; v < k->n_values; v++) {
        if (!reqs_allow(alt, k->key, k->values[v]))
            continue;
        eligible++;
        int32_t c = hoist_counts_get(&g->count, (long)v);
        if (c < min)
            min = c;
    }
    if (eligible == 0 || (g->min_domains > 0 && eligible < g->min_domains))
        return 0;
    return min;
}

/* One key a pod's topology constraints restrict, and the values allowed. */
typedef struct key_choice {
    hoist_topo_key *key;
    int fixed;                    /* committed value id, or -1 when open */
    uint64_t allowed;             /* open: the values still allowed */
    const hoist_group *spread;    /* first spread constraint on the key (to pick the emptiest) */
} key_choice;

#define MAX_KEYS 8

/* Check pod sp's active topology constraints against bin b (whose candidate
 * types are `types`). Fills the keys to narrow. */
static bool topology_ok(sched *s, spod *sp, int level, const bin *b, const uint64_t *types,
                        const hoist_reqs *alt, key_choice *keys, int *n_keys)
{
    *n_keys = 0;
    /* every key the pod's constraints or its inverse anti-affinity touch */
    for (size_t i = 0; i < sp->n_cons + (size_t)sp->n_matches; i++) {
        const hoist_group *g;
        bool inverse = i >= sp->n_cons;
        if (inverse) {
            g = s->topo.groups[sp->matches[i - sp->n_cons]];
            if (g->kind != HOIST_GROUP_ANTI_AFFINITY || g->owners_total == 0)
                continue;
        } else {
            if (sp->cons[i].pref >= 0 && sp->cons[i].pref < level)
                continue;
            g = sp->cons[i].g;
        }
        hoist_topo_key *k = g->key;
        key_choice *kc = NULL;
        for (int j = 0; j < *n_keys; j++)
            if (keys[j].key == k)
                kc = &keys[j];
        if (!kc) {
            if (*n_keys == MAX_KEYS)
                return reject(s, true, "too many topology keys");
            kc = &keys[(*n_keys)++];
            kc->key = k;
            kc->spread = NULL;
            int d = bin_domain(b, k);
            if (d == -2)
                return reject(s, true, "node has no %s label (%s)", k->key, g->describe);
            kc->fixed = d;
            kc->allowed = d >= 0 ? 0 : bin_open_values(s, b, k, types);
            if (d < 0) {
                /* open values must also satisfy the pod's own requirements */
                for (size_t v = 0; v < k->n_values; v++)
                    if (!reqs_allow(alt, k->key, k->values[v]))
                        kc->allowed &= ~((uint64_t)1 << v);
            }
        }
        if (g->kind == HOIST_GROUP_SPREAD && !kc->spread)
            kc->spread = g;
        /* the values of this key the constraint accepts */
        long n_dom = k->hostname ? 1 : (long)k->n_values;
        for (long v = 0; v < n_dom; v++) {
            long d = k->hostname ? b->id : v;
            if (kc->fixed >= 0 && !k->hostname && v != kc->fixed)
                continue;
            if (kc->fixed < 0 && !((kc->allowed >> v) & 1))
                continue;
            bool ok;
            if (inverse)
                ok = hoist_counts_get(&g->owners, d) == 0;
            else if (g->kind == HOIST_GROUP_SPREAD)
                ok = hoist_counts_get(&g->count, d) + 1 - spread_min(g, alt) <= g->max_skew;
            else if (g->kind == HOIST_GROUP_ANTI_AFFINITY)
                ok = hoist_counts_get(&g->count, d) == 0;
            else /* affinity: where matching pods are, or anywhere for the first self-match */
                ok = hoist_counts_get(&g->count, d) > 0 ||
                     (g->total == 0 && hoist_reqs_match_labels(&g->selector, &sp->pod->labels));
            if (!ok) {
                if (kc->fixed >= 0 || k->hostname) {
                    /* anti-affinity and resource-like failures only get worse */
                    bool permanent = inverse || g->kind == HOIST_GROUP_ANTI_AFFINITY ||
                                     (g->kind == HOIST_GROUP_SPREAD && k->hostname);
                    return reject(s, permanent, "%s%s", inverse ? "held against it: " : "",
                                  g->describe);
                }
                kc->allowed &= ~((uint64_t)1 << v);
            }
        }
        if (kc->fixed < 0 && !k->hostname && kc->allowed == 0)
            return reject(s, false, "%s%s", inverse ? "held against it: " : "", g->describe);
    }
    return true;
}

/* Pick one value of an open key: the emptiest domain of its spread
 * constraint, then the lowest id. */
static int choose_value(const key_choice *kc)
{
    int best = -1;
    int32_t best_count = INT32_MAX;
    for (int v = 0; v < 64; v++) {
        if (!((kc->allowed >> v) & 1))
            continue;
        int32_t c = kc->spread ? hoist_counts_get(&kc->spread->count, v) : 0;
        if (c < best_count) {
            best = v;
            best_count = c;
        }
    }
    return best;
}

/* ---------------------------------------------------------------------- */
/* Placing                                                                 */

/* Requirement alternatives of pod sp at relaxation `level`: its required
 * alternatives AND the preferred node terms still active. */
static int alternatives(sched *s, spod *sp, int level, hoist_reqs **out, size_t *n_out)
{
    *out = sp->alts;
    *n_out = sp->n_alts;
    if (sp->cached_level == level) {
        *out = sp->cached_alts;
        *n_out = sp->cached_n;
        return 0;
    }
    size_t active = 0;
    for (size_t i = 0; i < sp->n_pref_terms; i++)
        if (sp->pref_node_first + (int)i >= level)
            active++;
    if (active == 0)
        return 0;
    hoist_reqs *v = hoist_arena_calloc(s->a, sp->n_alts, sizeof *v);
    if (!v)
        return oom(s);
    size_t n = 0;
    for (size_t a = 0; a < sp->n_alts; a++) {
        hoist_reqs cur = sp->alts[a];
        bool ok = true;
        for (size_t i = sp->n_pref_terms; i-- > 0 && ok;) {
            if (sp->pref_node_first + (int)i < level)
                continue;
            hoist_reqs next;
            ok = hoist_reqs_intersect(s->a, &cur, &sp->pref_terms[i]->term.match_expressions,
                                      &next, NULL) == 0;
            cur = next;
        }
        if (ok)
            v[n++] = cur;
    }
    *out = v;
    *n_out = n;
    sp->cached_level = level;
    sp->cached_alts = v;
    sp->cached_n = n;
    return 0;
}

/* Taint check of pod sp against taints, PreferNoSchedule counted while
 * that preference is active. */
static bool taints_ok(sched *s, spod *sp, int level, const hoist_taints *taints,
                      bool permanent_reason)
{
    const hoist_taint *t = hoist_tolerations_first_untolerated(&sp->pod->tolerations, taints);
    if (t) {
        reject(s, permanent_reason, "taint %s=%s:%s not tolerated", t->key, t->value,
               hoist_taint_effect_name(t->effect));
        s->why_code = WHY_TAINT;
        return false;
    }
    if (level <= sp->pref_taints) {
        for (size_t i = 0; i < taints->n; i++) {
            const hoist_taint *x = &taints->items[i];
            if (x->effect != HOIST_TAINT_PREFER_NO_SCHEDULE)
                continue;
            bool tol = false;
            for (size_t j = 0; j < sp->pod->tolerations.n && !tol; j++)
                tol = hoist_toleration_tolerates(&sp->pod->tolerations.items[j], x);
            if (!tol)
                return reject(s, false, "taint %s:PreferNoSchedule not tolerated (preferred)",
                              x->key);
        }
    }
    return true;
}

/* What a successful check decided, to apply on placement. */
typedef struct placement {
    bin *b;
    double price;                 /* claims: cheapest price of the remaining types */
    hoist_reqs reqs;              /* claims: the narrowed requirements */
    uint64_t *types;              /* claims: the remaining types (arena) */
    key_choice keys[MAX_KEYS];
    int n_keys;
} placement;

/* Can pod sp go on existing node b? */
/* An existing node's own rejection (cordoned, full, wrong labels): nobody
 * reads its text (try_place asks only whether it is permanent, and explain()
 * speaks of NodePools), so none is formatted; this runs for every node a
 * pending pod is tried on. */
static bool reject_node(sched *s)
{
    s->why = "node rejected";
    s->why_permanent = true;
    s->why_code = WHY_OTHER;
    return false;
}

static bool node_ok(sched *s, spod *sp, int level, bin *b, placement *pl)
{
    const hoist_node *n = b->node;
    if (n->unschedulable)
        return reject_node(s);
    if (!fits(&sp->pod->requests, &b->used, &b->cap))
        return reject_node(s);
    if (!taints_ok(s, sp, level, &n->taints, true))
        return false;
    hoist_reqs *alts;
    size_t n_alts;
    if (alternatives(s, sp, level, &alts, &n_alts) < 0)
        return false;
    for (size_t a = 0; a < n_alts; a++) {
        if (!hoist_reqs_match_labels(&alts[a], &n->labels))
            continue;
        if (!topology_ok(s, sp, level, b, NULL, &alts[a], pl->keys, &pl->n_keys))
            return false;
        pl->b = b;
        return true;
    }
    return reject_node(s);
}

/* How much of a requirement list filter_types must check. */
enum { CHECK_NONE = 0, CHECK_OFFERINGS, CHECK_ALL };

/* True when type t's labels satisfy every requirement of rs on type labels. */
static bool type_labels_ok(const pool *pl, size_t t, const hoist_reqs *rs)
{
    const hoist_pool_type *pt = &pl->pt.items[t];
    for (size_t i = 0; i < rs->n; i++) {
        const hoist_req *r = &rs->items[i];
        if (is_type_label(r->key) &&
            !hoist_req_match_value(r, hoist_labels_get(&pt->labels, r->key)))
            return false;
    }
    return true;
}

/* Filter types `from` into out: fitting used + req and, as `check` says,
 * allowed by rs (offerings through the zone bit sets, type labels by name).
 * Returns how many are left. */
static size_t filter_types(const sched *s, const pool *pl, const uint64_t *from,
                           const hoist_reqs *rs, int check, const hoist_resources *used,
                           const hoist_resources *req, uint64_t *out)
{
    uint64_t zones = check ? allowed_zones(s, rs) : 0;
    unsigned cts = check ? allowed_cts(rs) : 0;
    /* fits(req, used, avail) for every type: only the slots req asks for,
     * their used + req summed once */
    int slot[HOIST_RES_MAX];
    hoist_milli need[HOIST_RES_MAX];
    int n_slots = 0;
    for (int i = 0; i < HOIST_RES_MAX; i++)
        if (req->v[i]) {
            slot[n_slots] = i;
            need[n_slots++] = used->v[i] + req->v[i];
        }
    size_t n = 0;
    for (size_t w = 0; w < pl->words; w++) {
        uint64_t bits = from[w];
        out[w] = 0;
        while (bits) {
            int bit = __builtin_ctzll(bits);
            bits &= bits - 1;
            size_t t = w * WORD_BITS + (size_t)bit;
            bool fit = true;
            for (int k = 0; k < n_slots && fit; k++)
                fit = need[k] <= pl->avail[t].v[slot[k]];
            if (!fit)
                continue;
            if (check) {
                bool offered = false;
                for (int c = 0; c < 3 && !offered; c++)
                    offered = ((cts >> c) & 1) && (pl->zones_by_ct[t][c] & zones);
                if (!offered || (check == CHECK_ALL && !type_labels_ok(pl, t, rs)))
                    continue;
            }
            out[w] |= (uint64_t)1 << bit;
            n++;
        }
    }
    return n;
}

/* What filter_types must check for requirements rs. */
static int check_for(const hoist_reqs *rs)
{
    int check = CHECK_NONE;
    for (size_t i = 0; i < rs->n; i++) {
        if (is_type_label(rs->items[i].key))
            return CHECK_ALL;
        if (is_offering_label(rs->items[i].key))
            check = CHECK_OFFERINGS;
    }
    return check;
}


/* Cheapest price among the types in `types`; its type index in *which. */
static double types_price_of(const pool *p, const uint64_t *types, size_t *which)
{
    double price = INFINITY;
    for (size_t w = 0; w < p->words; w++)
        for (uint64_t bits = types[w]; bits; bits &= bits - 1) {
            size_t t = w * WORD_BITS + (size_t)__builtin_ctzll(bits);
            if (p->price[t] < price) {
                price = p->price[t];
                *which = t;
            }
        }
    return price;
}

/* How much dearer than splitting its contents over two to four machines a
 * claim's cheapest machine may become when a pod makes it grow. */
#define HOIST_PLAN_SPLIT_SLACK 0.10

/* Cheapest price of a pool type whose allocatable (less DaemonSets) holds r. */
static double cheapest_fit(const pool *p, const hoist_resources *r)
{
    static const hoist_resources zero;
    if (!fits(r, &zero, &p->full->cap))
        return INFINITY;
    for (size_t i = 0; i < p->pt.n; i++) {
        size_t t = p->by_price[i];
        if (fits(r, &zero, &p->avail[t]))
            return p->price[t];
    }
    return INFINITY;
}

/* True when claim b may grow to hold `req`: its cheapest machine that
 * holds everything keeps the price or the family of its cheapest machine
 * now, or costs no more than (1 + HOIST_PLAN_SPLIT_SLACK) x the cheapest way
 * to split the claim's contents evenly over two, three or four machines.
 * This stops a cpu-heavy claim growing into a huge memory-rich machine when
 * two cpu-shaped machines would be cheaper, while small claims still grow.
 * Requirements are not looked at here: claim_ok filters by them after. */
static bool growth_answer(const pool *p, const bin *b, const hoist_resources *req);

static bool growth_ok(const pool *p, bin *b, const hoist_resources *req)
{
    /* splitting needs more machines; under limits growing may be the only way */
    if (b->n_pods == 0 || p->np->limits_set)
        return true;
    /* the same request asked of an unchanged claim gets the same answer */
    uint64_t key = (uint64_t)b->n_pods * 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < HOIST_RES_MAX; i++)
        key = (key ^ (uint64_t)req->v[i]) * 0xff51afd7ed558ccdull;
    if (key == 0)
        key = 1;
    if (b->growth_key != key) {
        b->growth_key = key;
        b->growth_answer = growth_answer(p, b, req);
    }
    return b->growth_answer;
}

static bool growth_answer(const pool *p, const bin *b, const hoist_resources *req)
{
    size_t t = SIZE_MAX;
    /* nothing cheaper than its cheapest type is left in the claim */
    for (size_t i = b->cheapest_pos; i < p->pt.n; i++) {
        size_t x = p->by_price[i];
        if (BIT_TEST(b->types, x) && fits(req, &b->used, &p->avail[x])) {
            t = x;
            break;
        }
    }
    if (t == SIZE_MAX || p->price[t] <= b->price * (1.0 + 1e-9))
        return true;
    if (strcmp(p->pt.items[t].type->family, p->pt.items[b->cheapest].type->family) == 0)
        return true;
    hoist_resources content = b->used;
    hoist_resources_add(&content, req);
    for (int k = 2; k <= 4; k++) {
        hoist_resources part;
        for (int i = 0; i < HOIST_RES_MAX; i++)
            part.v[i] = (content.v[i] + k - 1) / k;
        if (p->price[t] > k * cheapest_fit(p, &part) * (1.0 + HOIST_PLAN_SPLIT_SLACK))
            return false;
    }
    return true;
}

/* Can pod sp go on claim b? On success fills pl with the narrowed state. */
/* True when a claim of pool p can carry label `key` with a value the
 * requirement r accepts: the key is an instance, offering or NodePool label,
 * or the NodePool defines it. As in Karpenter, a pod cannot ask for a label
 * no NodePool defines (NotIn and DoesNotExist ask for nothing). */
static bool key_defined(const pool *p, const hoist_req *r)
{
    if (r->op == HOIST_OP_NOT_IN || r->op == HOIST_OP_DOES_NOT_EXIST)
        return true;
    if (strcmp(r->key, HOIST_LABEL_HOSTNAME) == 0)
        return r->op == HOIST_OP_EXISTS; /* a new machine's name is not known yet */
    if (is_type_label(r->key) || is_offering_label(r->key) ||
        strcmp(r->key, HOIST_LABEL_NODEPOOL) == 0 || strcmp(r->key, HOIST_LABEL_REGION) == 0)
        return true;
    if (hoist_labels_get(&p->labels, r->key))
        return true;
    for (size_t i = 0; i < p->reqs.n; i++)
        if (strcmp(p->reqs.items[i].key, r->key) == 0)
            return true;
    return false;
}

/* Record why no type of claim b is left for a pod asking `req` under
 * requirements `alt` (merged into b's as `merged`): the requirement that
 * matches no instance type offering, minValues, or the resource short. */
static bool explain_no_type(sched *s, const bin *b, const hoist_reqs *alt,
                            const hoist_reqs *merged, const hoist_resources *req, size_t n_fit)
{
    const pool *p = b->pool;
    static const hoist_resources zero;
    if (n_fit > 0) {
        reject(s, true, "minValues of the NodePool's requirements cannot be met with the "
               "instance types left for the pod");
        s->why_code = WHY_MIN_VALUES;
        return false;
    }
    if (filter_types(s, p, b->types, merged, CHECK_ALL, &zero, &zero, s->scratch_explain) == 0) {
        for (size_t i = 0; i < alt->n; i++) {
            hoist_reqs one = {1, (hoist_req *)&alt->items[i]}, m1;
            if (hoist_reqs_intersect(s->a, &b->reqs, &one, &m1, NULL) < 0 ||
                filter_types(s, p, b->types, &m1, CHECK_ALL, &zero, &zero, s->scratch_explain) ==
                    0) {
                const hoist_req *r = &alt->items[i];
                reject(s, true, "node selector, affinity or volume requirement %s %s%s%s "
                       "matches no instance type it offers",
                       r->key, hoist_req_op_name(r->op), r->n_values ? " " : "",
                       r->n_values ? r->values[0] : "");
                s->why_code = WHY_REQUIREMENTS;
                return false;
            }
        }
        reject(s, true, "the pod's node requirements together match no instance type it offers");
        s->why_code = WHY_REQUIREMENTS;
        return false;
    }
    char short_of[MISFIT_LEN];
    reject(s, true, "not enough %s", misfit(s, req, &b->used, &b->cap, short_of));
    s->why_code = WHY_RESOURCES;
    return false;
}

/* Can pod sp go on claim b? On success fills pl with the narrowed state. */
static bool claim_ok(sched *s, spod *sp, int level, bin *b, placement *pl)
{
    pool *p = b->pool;
    if (!fits(&sp->pod->requests, &b->used, &b->cap)) {
        char short_of[MISFIT_LEN];
        reject(s, true, "not enough %s",
               misfit(s, &sp->pod->requests, &b->used, &b->cap, short_of));
        s->why_code = WHY_RESOURCES;
        return false;
    }
    hoist_taints taints = p->np->taints;
    if (!taints_ok(s, sp, level, &taints, true))
        return false;
    hoist_reqs *alts;
    size_t n_alts;
    if (alternatives(s, sp, level, &alts, &n_alts) < 0)
        return false;
    /* topology first, on the current types: hostname and committed domains
     * decide most rejections without touching the type set */
    key_choice pre[MAX_KEYS];
    int n_pre;
    if (!topology_ok(s, sp, level, b, b->types, n_alts ? &alts[0] : &b->reqs, pre, &n_pre)) {
        s->why_code = WHY_TOPOLOGY;
        return false;
    }
    if (!growth_ok(p, b, &sp->pod->requests)) {
        reject(s, true, "would need a machine dearer than splitting what it holds");
        s->why_code = WHY_RESOURCES;
        return false;
    }
    uint64_t *types = s->scratch_types;
    bool permanent = true;
    s->why = NULL;
    for (size_t a = 0; a < n_alts; a++) {
        hoist_reqs merged = b->reqs;
        const hoist_req *undefined = NULL;
        for (size_t i = 0; i < alts[a].n && !undefined; i++)
            if (!key_defined(p, &alts[a].items[i]))
                undefined = &alts[a].items[i];
        if (undefined) {
            reject(s, true, "label %s is not defined by the NodePool, so no new node would "
                   "carry it", undefined->key);
            s->why_code = WHY_REQUIREMENTS;
            continue;
        }
        if (alts[a].n > 0 && (!hoist_reqs_compatible(&alts[a], &b->reqs) ||
                              hoist_reqs_intersect(s->a, &b->reqs, &alts[a], &merged, NULL) < 0)) {
            reject(s, true, "the pod's node requirements conflict with the NodePool's "
                   "requirements");
            s->why_code = WHY_REQUIREMENTS;
            continue;
        }
        size_t n = filter_types(s, p, b->types, &merged, check_for(&alts[a]), &b->used,
                                &sp->pod->requests, types);
        if (n == 0 || !min_values_ok(p, types)) {
            explain_no_type(s, b, &alts[a], &merged, &sp->pod->requests, n);
            continue;
        }
        if (b->efficient && b->n_pods > 0) {
            bool any = false;
            for (size_t w = 0; w < p->words && !any; w++)
                any = (types[w] & p->efficient[w]) != 0;
            if (!any) {
                reject(s, true, "would outgrow the efficient instance types");
                s->why_code = WHY_RESOURCES;
                continue;
            }
        }
        hoist_reqs save = b->reqs;
        b->reqs = merged;
        bool ok = topology_ok(s, sp, level, b, types, &alts[a], pl->keys, &pl->n_keys);
        b->reqs = save;
        if (!ok) {
            s->why_code = WHY_TOPOLOGY;
            permanent = permanent && s->why_permanent;
            continue;
        }
        pl->b = b;
        pl->reqs = merged;
        pl->types = types;
        pl->price = types_price_of(p, types, &(size_t){0});
        return true;
    }
    if (!s->why) {
        reject(s, true, "no requirement alternative of the pod can be met");
        s->why_code = WHY_REQUIREMENTS;
    }
    s->why_permanent = s->why_permanent && permanent;
    return false;
}

/* Narrow a claim's requirements so `key` has the single value `value`. */
static int narrow(sched *s, bin *b, hoist_reqs *rs, const char *key, const char *value)
{
    if (reqs_single(rs, key))
        return 0;
    hoist_req r = {.key = key, .op = HOIST_OP_IN, .n_values = 1};
    const char **v = hoist_arena_calloc(s->a, 1, sizeof *v);
    if (!v)
        return oom(s);
    v[0] = value;
    r.values = v;
    hoist_reqs one = {1, &r}, out;
    if (hoist_reqs_intersect(s->a, rs, &one, &out, s->err) < 0)
        return -1;
    *rs = out;
    (void)b;
    return 0;
}

/* True when every key the placement chose a value for is zone or capacity type. */
static bool narrowed_offerings_only(const placement *pl)
{
    for (int k = 0; k < pl->n_keys; k++)
        if (pl->keys[k].fixed < 0 && !pl->keys[k].key->hostname &&
            !is_offering_label(pl->keys[k].key->key))
            return false;
    return true;
}

/* Keep in `types` only the types with an offering in the zones and capacity
 * types rs allows (bit sets, no strings). Returns how many are left. */
static size_t filter_by_offerings(const sched *s, const pool *p, uint64_t *types,
                                  const hoist_reqs *rs)
{
    uint64_t zones = allowed_zones(s, rs);
    unsigned cts = allowed_cts(rs);
    size_t n = 0;
    for (size_t w = 0; w < p->words; w++)
        for (uint64_t bits = types[w]; bits; bits &= bits - 1) {
            int bit = __builtin_ctzll(bits);
            size_t t = w * WORD_BITS + (size_t)bit;
            bool ok = false;
            for (int c = 0; c < 3 && !ok; c++)
                ok = ((cts >> c) & 1) && (p->zones_by_ct[t][c] & zones);
            if (ok)
                n++;
            else
                types[w] &= ~((uint64_t)1 << bit);
        }
    return n;
}

/* Commit pod index pi at placement pl: resources, requirements, counts. */
static int place(sched *s, int32_t pi, placement *pl)
{
    spod *sp = &s->pods[pi];
    bin *b = pl->b;
    if (!sp->pod->placeholder)
        b->has_real = true;
    const hoist_req *old_reqs = b->reqs.items;
    size_t old_types = b->n_types;
    if (!b->node) {
        /* choose a value for every open key the constraints touched */
        bool narrowed = false;
        for (int k = 0; k < pl->n_keys; k++) {
            key_choice *kc = &pl->keys[k];
            if (kc->fixed >= 0 || kc->key->hostname)
                continue;
            int v = choose_value(kc);
            if (v < 0)
                return hoist_errf(s->err, "internal: no value to choose for %s", kc->key->key);
            if (narrow(s, b, &pl->reqs, kc->key->key, kc->key->values[v]) < 0)
                return -1;
            narrowed = true;
        }
        size_t n;
        if (narrowed && narrowed_offerings_only(pl)) {
            /* zone or capacity type chosen: drop types without such an offering */
            n = filter_by_offerings(s, b->pool, pl->types, &pl->reqs);
        } else {
            n = filter_types(s, b->pool, pl->types, &pl->reqs, narrowed ? CHECK_ALL : CHECK_NONE,
                             &b->used, &sp->pod->requests, pl->types);
        }
        if (n == 0)
            return hoist_errf(s->err, "internal: claim %s lost every type", b->name);
        b->reqs = pl->reqs;
        if (n != b->n_types) {
            hoist_resources_sub(&b->pool->usage, &b->maxcap);
            memcpy(b->types, pl->types, b->pool->words * sizeof *b->types);
            claim_bounds(b);
            hoist_resources_add(&b->pool->usage, &b->maxcap);
        }
    }
    hoist_resources_add(&b->used, &sp->pod->requests);
    if (b->n_pods == b->cap_pods) {
        size_t cap = b->cap_pods ? b->cap_pods * 2 : 4;
        int32_t *v = realloc(b->pods, cap * sizeof *v);
        if (!v)
            return oom(s);
        b->pods = v;
        b->cap_pods = cap;
    }
    b->pods[b->n_pods++] = pi;
    sp->placed = b->id;
    /* counts: every group counting this pod, and the anti terms it holds */
    for (long m = 0; m < sp->n_matches; m++) {
        hoist_group *g = s->topo.groups[sp->matches[m]];
        int d = bin_domain(b, g->key);
        if (d == -1) {
            /* an open claim gets a value so the pod can be counted */
            key_choice kc = {g->key, -1, bin_open_values(s, b, g->key, b->types),
                             g->kind == HOIST_GROUP_SPREAD ? g : NULL};
            int v = choose_value(&kc);
            if (v >= 0) {
                if (narrow(s, b, &b->reqs, g->key->key, g->key->values[v]) < 0)
                    return -1;
                size_t nt = filter_types(s, b->pool, b->types, &b->reqs,
                                         is_offering_label(g->key->key) ? CHECK_OFFERINGS
                                                                        : CHECK_ALL,
                                         &b->used, &(hoist_resources){{0}}, b->types);
                if (nt != b->n_types) {
                    hoist_resources_sub(&b->pool->usage, &b->maxcap);
                    claim_bounds(b);
                    hoist_resources_add(&b->pool->usage, &b->maxcap);
                }
                d = v;
            }
        }
        if (d >= 0) {
            if (hoist_counts_add(&g->count, d, 1) < 0)
                return oom(s);
            g->total++;
        }
    }
    for (size_t c = 0; c < sp->n_cons; c++) {
        /* only required anti-affinity keeps other pods away (preferred is a wish) */
        hoist_group *g = sp->cons[c].g;
        if (g->kind != HOIST_GROUP_ANTI_AFFINITY || sp->cons[c].pref >= 0)
            continue;
        int d = bin_domain(b, g->key);
        if (d >= 0) {
            if (hoist_counts_add(&g->owners, d, 1) < 0)
                return oom(s);
            g->owners_total++;
        }
    }
    if (!b->node && (b->reqs.items != old_reqs || b->n_types != old_types || !b->open_valid))
        refresh_open_values(s, b);
    return 0;
}

/* Could a fresh claim from pool p take pod sp? Fills *tmp (the claim to
 * add) and pl without touching the bins; on failure s->why says why. */
static bool fresh_claim_ok(sched *s, spod *sp, int level, pool *p, bin *tmp, placement *pl)
{
    if (p->pt.n == 0)
        return reject(s, true, "NodePool %s: no instance type in the catalog satisfies its "
                      "requirements", p->np->name);
    hoist_taints taints = p->np->taints;
    if (!taints_ok(s, sp, level, &taints, true)) {
        char why[sizeof s->why_buf];
        snprintf(why, sizeof why, "%s", s->why);
        return reject(s, true, "NodePool %s: %s", p->np->name, why);
    }
    memset(tmp, 0, sizeof *tmp);
    tmp->id = (int)s->n_bins;
    tmp->pool = p;
    tmp->reqs = p->reqs;
    tmp->types = hoist_arena_calloc(s->a, p->words ? p->words : 1, sizeof *tmp->types);
    if (!tmp->types)
        return oom(s), false;
    /* every type within the pool's limits */
    bool limited = false;
    if (p->np->limits_set == 0) {
        const bin *from = p->full;
        memcpy(tmp->types, from->types, p->words * sizeof *tmp->types);
        tmp->cap = from->cap;
        tmp->maxcap = from->maxcap;
        tmp->n_types = from->n_types;
        tmp->efficient = from->efficient;
        tmp->price = from->price;
        tmp->cheapest = from->cheapest;
        tmp->cheapest_pos = from->cheapest_pos;
        tmp->open_zones = from->open_zones;
        tmp->open_cts = from->open_cts;
        tmp->open_valid = from->open_valid;
    } else {
        for (size_t t = 0; t < p->pt.n; t++) {
            if (within_limits(p, &p->pt.items[t].capacity))
                BIT_SET(tmp->types, t);
            else
                limited = true;
        }
        claim_bounds(tmp);
        refresh_open_values(s, tmp);
    }
    tmp->name = p->np->name;
    if (limited && tmp->n_types == 0)
        return reject(s, true, "NodePool %s: its limits are reached", p->np->name);
    if (p->capped && p->capped->n_types) {
        /* this pass starts claims small; a pod that needs more gets every type */
        bin saved = *tmp;
        const bin *c = p->capped;
        uint64_t *types = hoist_arena_alloc(s->a, (p->words ? p->words : 1) * sizeof *types);
        if (!types)
            return oom(s), false;
        for (size_t w = 0; w < p->words; w++)
            types[w] = c->types[w] & saved.types[w];
        tmp->types = types;
        if (limited) {
            claim_bounds(tmp);
            refresh_open_values(s, tmp);
        } else {
            tmp->cap = c->cap;
            tmp->maxcap = c->maxcap;
            tmp->n_types = c->n_types;
            tmp->efficient = c->efficient;
            tmp->price = c->price;
            tmp->cheapest = c->cheapest;
            tmp->cheapest_pos = c->cheapest_pos;
            tmp->open_zones = c->open_zones;
            tmp->open_cts = c->open_cts;
            tmp->open_valid = c->open_valid;
        }
        if (tmp->n_types && claim_ok(s, sp, level, tmp, pl))
            return true;
        *tmp = saved;
    }
    if (claim_ok(s, sp, level, tmp, pl))
        return true;
    char why[sizeof s->why_buf];
    int code = s->why_code;
    bool permanent = s->why_permanent;
    if (code == WHY_RESOURCES && limited)
        snprintf(why, sizeof why, "its limits leave no instance type with room for the pod (%s)",
                 s->why);
    else if (code == WHY_RESOURCES && !hoist_resources_is_zero(&p->ds))
        snprintf(why, sizeof why, "no instance type has room for the pod's requests plus the "
                 "DaemonSet pods (%s)", s->why);
    else if (code == WHY_RESOURCES)
        snprintf(why, sizeof why, "no instance type has room for the pod's requests (%s)",
                 s->why);
    else
        snprintf(why, sizeof why, "%s", s->why);
    reject(s, permanent, "NodePool %s: %s", p->np->name, why);
    s->why_code = code;
    return false;
}

/* Add the checked fresh claim tmp as a bin. */
static bin *add_claim(sched *s, const bin *tmp, placement *pl)
{
    bin *b = new_bin(s);
    if (!b)
        return oom(s), NULL;
    int id = b->id;
    *b = *tmp;
    b->id = id;
    pool *p = b->pool;
    p->n_claims++;
    b->name = hoist_arena_sprintf(s->a, "%s-%05d", p->np->name, p->n_claims);
    if (!b->name)
        return oom(s), NULL;
    hoist_resources_add(&p->usage, &b->maxcap);
    pl->b = b;
    return b;
}

/* ---------------------------------------------------------------------- */
/* Pods                                                                    */

static bool is_running_on_node(const hoist_pod *p)
{
    return hoist_pod_holds_node(p);
}

static int compare_pods(const void *pa, const void *pb)
{
    const spod *a = pa, *b = pb;
    const hoist_pod *x = a->pod, *y = b->pod;
    if (x->placeholder != y->placeholder) /* placeholders after every real pod */
        return x->placeholder ? 1 : -1;
    if (x->priority != y->priority)
        return x->priority > y->priority ? -1 : 1;
    hoist_milli xc = x->requests.v[HOIST_RES_CPU], yc = y->requests.v[HOIST_RES_CPU];
    if (xc != yc)
        return xc > yc ? -1 : 1;
    hoist_milli xm = x->requests.v[HOIST_RES_MEMORY], ym = y->requests.v[HOIST_RES_MEMORY];
    if (xm != ym)
        return xm > ym ? -1 : 1;
    return strcmp(a->name, b->name);
}

static int compare_pref_weight(const void *pa, const void *pb)
{
    const hoist_preferred_node_term *a = *(const hoist_preferred_node_term *const *)pa;
    const hoist_preferred_node_term *b = *(const hoist_preferred_node_term *const *)pb;
    return (a->weight > b->weight) - (a->weight < b->weight);
}

/* Build sp's required requirement alternatives: nodeSelector AND one node
 * affinity term AND one term of each volume's selector. */
static int build_alternatives(sched *s, spod *sp)
{
    const hoist_pod *p = sp->pod;
    hoist_reqs base;
    if (labels_to_reqs(s->a, &p->node_selector, &base) < 0)
        return oom(s);
    size_t n_terms = p->node_affinity.n ? p->node_affinity.n : 1;
    hoist_reqs *cur = hoist_arena_calloc(s->a, n_terms, sizeof *cur);
    if (!cur)
        return oom(s);
    size_t n = 0;
    for (size_t i = 0; i < n_terms; i++) {
        if (p->node_affinity.n == 0) {
            cur[n++] = base;
            continue;
        }
        const hoist_node_term *t = &p->node_affinity.terms[i];
        if (t->match_expressions.n == 0 && t->match_fields.n == 0)
            continue; /* an empty term matches no node */
        if (t->match_fields.n)
            continue; /* metadata.name terms name existing nodes only; not for new claims */
        if (hoist_reqs_intersect(s->a, &base, &t->match_expressions, &cur[n], NULL) == 0)
            n++;
    }
    /* volumes: each constrained volume is an OR that must hold too */
    hoist_node_selector *vols = NULL;
    size_t n_vols = 0;
    hoist_err verr = {{0}};
    if (hoist_pod_volume_terms(s->o, p, s->a, &vols, &n_vols, &verr) < 0) {
        sp->invalid = hoist_arena_strdup(s->a, verr.msg);
        n = 0;
    }
    for (size_t v = 0; v < n_vols && n > 0; v++) {
        hoist_reqs *next = hoist_arena_calloc(s->a, n * vols[v].n, sizeof *next);
        if (!next)
            return oom(s);
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < vols[v].n; j++)
                if (hoist_reqs_intersect(s->a, &cur[i], &vols[v].terms[j].match_expressions,
                                         &next[m], NULL) == 0)
                    m++;
        cur = next;
        n = m;
        if (n == 0 && !sp->invalid)
            sp->invalid = "volume topology: the zones of its volumes conflict with its node "
                          "requirements";
    }
    sp->alts = cur;
    sp->n_alts = n;
    if (n == 0 && !sp->invalid)
        sp->invalid = "node affinity: no required term can be satisfied";
    return 0;
}

/* Append a constraint to sp. */
static int add_constraint(sched *s, spod *sp, hoist_group *g, int pref)
{
    pod_constraint *v = hoist_arena_alloc(s->a, (sp->n_cons + 1) * sizeof *v);
    if (!v)
        return oom(s);
    if (sp->n_cons)
        memcpy(v, sp->cons, sp->n_cons * sizeof *v);
    v[sp->n_cons].g = g;
    v[sp->n_cons].pref = pref;
    sp->cons = v;
    sp->n_cons++;
    return 0;
}

/* Add the groups of a term list as constraints; preferred ones get
 * preference slots in drop order, lightest first. */
static int add_terms(sched *s, spod *sp, const hoist_pod_affinity_terms *terms, bool anti,
                     bool preferred)
{
    /* lightest preferred term is dropped first */
    size_t order[64];
    size_t n = terms->n < 64 ? terms->n : 64;
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    if (preferred)
        for (size_t i = 1; i < n; i++)
            for (size_t j = i; j > 0 && terms->items[order[j]].weight <
                                            terms->items[order[j - 1]].weight;
                 j--) {
                size_t t = order[j];
                order[j] = order[j - 1];
                order[j - 1] = t;
            }
    for (size_t i = 0; i < n; i++) {
        hoist_group *g =
            hoist_topology_term_group(&s->topo, sp->pod, &terms->items[order[i]], anti, s->err);
        if (!g || add_constraint(s, sp, g, preferred ? sp->n_prefs++ : -1) < 0)
            return -1;
    }
    return 0;
}

static int setup_pod(sched *s, spod *sp)
{
    const hoist_pod *p = sp->pod;
    sp->placed = -1;
    sp->cached_level = -1;
    sp->name = hoist_arena_sprintf(s->a, "%s/%s", p->ns, p->name);
    if (!sp->name)
        return oom(s);
    if (build_alternatives(s, sp) < 0)
        return -1;
    /* preference drop order: preferred pod affinity, preferred anti-affinity,
     * preferred node affinity (lightest first), ScheduleAnyway spreads, then
     * PreferNoSchedule taints stop blocking */
    if (add_terms(s, sp, &p->pod_affinity, false, false) < 0 ||
        add_terms(s, sp, &p->pod_anti_affinity, true, false) < 0 ||
        add_terms(s, sp, &p->pod_affinity_preferred, false, true) < 0 ||
        add_terms(s, sp, &p->pod_anti_affinity_preferred, true, true) < 0)
        return -1;
    sp->n_pref_terms = p->n_preferred_node_affinity;
    sp->pref_terms = hoist_arena_calloc(s->a, sp->n_pref_terms + 1, sizeof *sp->pref_terms);
    if (!sp->pref_terms)
        return oom(s);
    for (size_t i = 0; i < sp->n_pref_terms; i++)
        sp->pref_terms[i] = &p->preferred_node_affinity[i];
    qsort(sp->pref_terms, sp->n_pref_terms, sizeof *sp->pref_terms, compare_pref_weight);
    sp->pref_node_first = sp->n_prefs;
    sp->n_prefs += (int)sp->n_pref_terms;
    for (size_t i = 0; i < p->n_spread; i++)
        if (p->spread[i].do_not_schedule) {
            hoist_group *g = hoist_topology_spread_group(&s->topo, p, &p->spread[i], s->err);
            if (!g || add_constraint(s, sp, g, -1) < 0)
                return -1;
        }
    for (size_t i = 0; i < p->n_spread; i++)
        if (!p->spread[i].do_not_schedule) {
            hoist_group *g = hoist_topology_spread_group(&s->topo, p, &p->spread[i], s->err);
            if (!g || add_constraint(s, sp, g, sp->n_prefs++) < 0)
                return -1;
        }
    sp->pref_taints = sp->n_prefs++;
    return 0;
}

/* The groups the running pods of label set ls match (memoized by its
 * label class: same namespace and labels); NULL when out of memory. */
static const match_memo *matching_memo(sched *s, const hoist_label_set *ls)
{
    if (ls->id >= s->cap_memo) {
        size_t cap = s->cap_memo ? s->cap_memo : 256;
        while (cap <= ls->id)
            cap *= 2;
        match_memo *m = realloc(s->memo, cap * sizeof *m);
        if (!m)
            return NULL;
        memset(m + s->cap_memo, 0, (cap - s->cap_memo) * sizeof *m);
        s->memo = m;
        s->cap_memo = cap;
    }
    match_memo *mm = &s->memo[ls->id];
    if (mm->done)
        return mm;
    int32_t *m = NULL;
    long n = hoist_topology_matching(&s->topo, ls->rep, &m);
    if (n < 0)
        return NULL;
    *mm = (match_memo){true, n, m};
    return mm;
}

/* Count the running pods of label set ls (on bin b) in the groups whose
 * selector matches them. */
static int count_bound(sched *s, const hoist_label_set *ls, bin *b)
{
    uint32_t n = ls->count;
    const match_memo *mm = matching_memo(s, ls);
    if (!mm)
        return oom(s);
    for (long i = 0; i < mm->n; i++) {
        hoist_group *g = s->topo.groups[mm->m[i]];
        int d = bin_domain(b, g->key);
        if (d >= 0) {
            if (hoist_counts_add(&g->count, d, (int32_t)n) < 0)
                return oom(s);
            g->total += n;
        }
    }
    return 0;
}

/* Record the anti-affinity terms running pod p on bin b holds. */
static int count_owner(sched *s, const hoist_pod *p, bin *b)
{
    /* anti-affinity a running pod holds keeps matching new pods away */
    for (size_t i = 0; i < p->pod_anti_affinity.n; i++) {
        hoist_group *g = hoist_topology_term_group(&s->topo, p, &p->pod_anti_affinity.items[i],
                                                   true, s->err);
        if (!g)
            return -1;
        int d = bin_domain(b, g->key);
        if (d >= 0) {
            if (hoist_counts_add(&g->owners, d, 1) < 0)
                return oom(s);
            g->owners_total++;
        }
    }
    return 0;
}

/* Signature of a pod for the first-fit cursors: everything that decides
 * where it may go. Requirement alternatives and preferred node terms are
 * shared between identical pods (dedupe_requirements), so their pointers
 * stand for their contents. */
static const char *signature(sched *s, const spod *sp, int level)
{
    const hoist_pod *p = sp->pod;
    hoist_strbuf *b = &s->sigbuf;
    hoist_strbuf_reset(b);
    hoist_strbuf_int(b, level);
    hoist_strbuf_char(b, '|');
    hoist_strbuf_str(b, p->ns);
    hoist_strbuf_char(b, '|');
    hoist_strbuf_ptr(b, sp->alts);
    hoist_strbuf_char(b, '|');
    hoist_strbuf_ptr(b, sp->pref_terms);
    hoist_strbuf_char(b, '|');
    for (int i = 0; i < HOIST_RES_MAX; i++)
        if (p->requests.v[i]) {
            hoist_strbuf_char(b, 'r');
            hoist_strbuf_int(b, i);
            hoist_strbuf_char(b, '=');
            hoist_strbuf_int(b, p->requests.v[i]);
            hoist_strbuf_char(b, ',');
        }
    for (size_t i = 0; i < p->tolerations.n; i++) {
        const hoist_toleration *t = &p->tolerations.items[i];
        hoist_strbuf_char(b, 't');
        hoist_strbuf_str(b, t->key);
        hoist_strbuf_char(b, '\x1f');
        hoist_strbuf_int(b, (int64_t)t->op);
        hoist_strbuf_char(b, '\x1f');
        hoist_strbuf_str(b, t->value);
        hoist_strbuf_char(b, '\x1f');
        hoist_strbuf_int(b, (int64_t)t->effect);
        hoist_strbuf_char(b, ',');
    }
    for (long i = 0; i < sp->n_matches; i++) {
        hoist_strbuf_char(b, 'm');
        hoist_strbuf_int(b, sp->matches[i]);
        hoist_strbuf_char(b, ',');
    }
    for (size_t i = 0; i < sp->n_cons; i++) {
        hoist_strbuf_char(b, 'c');
        hoist_strbuf_ptr(b, sp->cons[i].g);
        hoist_strbuf_char(b, ':');
        hoist_strbuf_int(b, sp->cons[i].pref);
        hoist_strbuf_char(b, ',');
    }
    return hoist_strbuf_cstr(b);
}

static cursor *cursor_for(sched *s, const spod *sp, int level)
{
    const char *sig = signature(s, sp, level);
    if (!sig)
        return NULL;
    int64_t id;
    if (hoist_strmap_get(&s->sigs, sig, &id))
        return &s->cursors[id];
    if (s->n_cursors == s->cap_cursors) {
        size_t cap = s->cap_cursors ? s->cap_cursors * 2 : 64;
        cursor *v = realloc(s->cursors, cap * sizeof *v);
        if (!v)
            return NULL;
        s->cursors = v;
        s->cap_cursors = cap;
    }
    s->cursors[s->n_cursors].next = 0;
    const char *key = hoist_arena_strdup(s->a, sig); /* the scratch text is reused */
    if (!key || hoist_strmap_put(&s->sigs, key, (int64_t)s->n_cursors) < 0)
        return NULL;
    return &s->cursors[s->n_cursors++];
}

/* Append the canonical text of rs to a growing arena string. */
static char *append_reqs(sched *s, char *text, const hoist_reqs *rs)
{
    json_t *j = hoist_reqs_to_json(rs);
    char *t = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(j);
    if (!t)
        return NULL;
    char *joined = hoist_arena_sprintf(s->a, "%s|%s", text ? text : "", t);
    free(t);
    return joined;
}

/* Let pods with identical requirement alternatives and preferred node terms
 * share the same arrays, so their signatures compare equal. */
static int dedupe_requirements(sched *s)
{
    hoist_strmap seen;
    hoist_strmap_init(&seen);
    for (size_t i = 0; i < s->n_pods; i++) {
        spod *sp = &s->pods[i];
        if (sp->invalid)
            continue; /* never placed: its arrays are never compared */
        char *text = hoist_arena_sprintf(s->a, "%zu/%zu", sp->n_alts, sp->n_pref_terms);
        for (size_t a = 0; text && a < sp->n_alts; a++)
            text = append_reqs(s, text, &sp->alts[a]);
        for (size_t a = 0; text && a < sp->n_pref_terms; a++) {
            text = hoist_arena_sprintf(s->a, "%s|w%d", text, (int)sp->pref_terms[a]->weight);
            if (text)
                text = append_reqs(s, text, &sp->pref_terms[a]->term.match_expressions);
        }
        if (!text)
            goto fail;
        int64_t owner;
        if (hoist_strmap_get(&seen, text, &owner)) {
            sp->alts = s->pods[owner].alts;
            sp->pref_terms = s->pods[owner].pref_terms;
        } else if (hoist_strmap_put(&seen, text, (int64_t)i) < 0) {
            goto fail;
        }
    }
    hoist_strmap_free(&seen);
    return 0;
fail:
    hoist_strmap_free(&seen);
    return oom(s);
}

/* Try to place pod pi at relaxation level; true when placed. */
static bool try_place(sched *s, int32_t pi, int level, int *failed)
{
    spod *sp = &s->pods[pi];
    cursor *cur = cursor_for(s, sp, level);
    if (!cur) {
        *failed = oom(s);
        return false;
    }
    placement pl;
    bool advancing = true;
    for (size_t i = (size_t)cur->next; i < s->n_bins; i++) {
        bin *b = s->bins[i];
        if (s->existing_only && (!b->node || b->in_flight))
            continue; /* a scheduler binds to Ready nodes only */
        /* headroom is new capacity only: not an existing node, nor the free
         * room of a claim real pods opened (that room already counts as spare) */
        if (sp->pod->placeholder && (b->node || b->has_real)) {
            advancing = false;
            continue;
        }
        memset(&pl, 0, sizeof pl);
        s->why = NULL;
        s->why_permanent = false;
        bool ok = b->node ? node_ok(s, sp, level, b, &pl) : claim_ok(s, sp, level, b, &pl);
        if (ok) {
            if (place(s, pi, &pl) < 0)
                *failed = -1;
            return !*failed;
        }
        if (advancing && s->why_permanent)
            cur->next = (int32_t)i + 1;
        else
            advancing = false;
    }
    for (size_t i = 0; i < s->n_pools; i++) {
        bin tmp;
        memset(&pl, 0, sizeof pl);
        s->why = NULL;
        if (fresh_claim_ok(s, sp, level, &s->pools[i], &tmp, &pl)) {
            if (!add_claim(s, &tmp, &pl) || place(s, pi, &pl) < 0)
                *failed = -1;
            return !*failed;
        }
    }
    return false;
}

/* Why pod sp fits nowhere: each NodePool's reason, preferences relaxed. */
static const char *explain(sched *s, spod *sp)
{
    (void)sp;
    if (s->existing_only)
        return "no Ready node fits";
    if (s->n_pools == 0)
        return "no NodePool exists and no existing node can take it";
    char *why = NULL;
    for (size_t i = 0; i < s->n_pools; i++) {
        placement pl;
        bin tmp;
        memset(&pl, 0, sizeof pl);
        s->why = NULL;
        const char *r;
        if (fresh_claim_ok(s, sp, sp->n_prefs, &s->pools[i], &tmp, &pl))
            r = "a new node would fit, but the topology constraints of the pods placed in "
                "this decision keep it out";
        else
            r = s->why ? s->why : "unknown";
        why = hoist_arena_sprintf(s->a, "%s%s%s", why ? why : "", why ? "; " : "", r);
        if (!why)
            return NULL;
    }
    return why;
}

/* ---------------------------------------------------------------------- */
/* Output                                                                  */

static int compare_plan_offerings(const void *pa, const void *pb)
{
    const hoist_plan_offering *a = pa, *b = pb;
    if (a->offering->price != b->offering->price)
        return a->offering->price < b->offering->price ? -1 : 1;
    int c = strcmp(a->type->name, b->type->name);
    if (c)
        return c;
    c = strcmp(a->offering->zone, b->offering->zone);
    if (c)
        return c;
    return (int)a->offering->capacity_type - (int)b->offering->capacity_type;
}

static int finish_claim(sched *s, bin *b, hoist_plan *plan, hoist_plan_claim *out)
{
    pool *p = b->pool;
    out->nodepool = p->np;
    out->requirements = b->reqs;
    out->requests = b->used;
    hoist_resources_add(&out->requests, &p->ds);
    out->taints = p->np->taints;
    /* the cheapest allowed offerings of the remaining types, kept sorted in a
     * bounded array (each type's offerings are already sorted by price) */
    bool hooked = s->hooks && s->hooks->order_offerings;
    size_t want = hooked ? 4 * s->max_offerings : s->max_offerings;
    hoist_plan_offering *all = hoist_arena_calloc(&plan->arena, want + 1, sizeof *all);
    if (!all)
        return oom(s);
    size_t k = 0;
    for (size_t t = 0; t < p->pt.n; t++) {
        if (!BIT_TEST(b->types, t))
            continue;
        const hoist_pool_type *pt = &p->pt.items[t];
        for (size_t j = 0; j < pt->n_offerings; j++) {
            const hoist_offering *off = pt->offerings[j];
            if (k == want && off->price > all[k - 1].offering->price)
                break; /* this type's remaining offerings cost more still */
            if (!reqs_allow(&b->reqs, HOIST_LABEL_ZONE, off->zone) ||
                !reqs_allow(&b->reqs, HOIST_LABEL_CAPACITY_TYPE,
                            hoist_capacity_type_name(off->capacity_type)))
                continue;
            hoist_plan_offering x = {pt->type, off, p->score[t]};
            if (k == want && compare_plan_offerings(&x, &all[k - 1]) >= 0)
                continue;
            size_t at = k < want ? k++ : want - 1;
            while (at > 0 && compare_plan_offerings(&x, &all[at - 1]) < 0) {
                all[at] = all[at - 1];
                at--;
            }
            all[at] = x;
        }
    }
    if (k == 0)
        return hoist_errf(s->err, "internal: claim %s has no offering", b->name);
    out->n_offerings = k;
    out->offerings = all;
    if (hooked) {
        /* the hook sees the claim as it stands, its offerings cheapest first */
        out->n_pods = b->n_pods;
        out->pods = hoist_arena_calloc(&plan->arena, b->n_pods + 1, sizeof *out->pods);
        if (!out->pods)
            return oom(s);
        for (size_t i = 0; i < b->n_pods; i++)
            out->pods[i] = s->pods[b->pods[i]].pod;
        hoist_plan_offering *copy = hoist_arena_calloc(&plan->arena, k, sizeof *copy);
        if (!copy)
            return oom(s);
        memcpy(copy, all, k * sizeof *copy);
        if (s->hooks->order_offerings(s->hooks->ctx, out, copy, k) < 0)
            s->hook_errors++;
        else
            memcpy(all, copy, k * sizeof *all);
        if (k > s->max_offerings)
            out->n_offerings = s->max_offerings;
    }
    out->chosen = all[0];
    /* instance type options: distinct types of the launch offerings, in order */
    out->types = hoist_arena_calloc(&plan->arena, out->n_offerings, sizeof *out->types);
    if (!out->types)
        return oom(s);
    for (size_t i = 0; i < out->n_offerings; i++) {
        bool dup = false;
        for (size_t j = 0; j < out->n_types && !dup; j++)
            dup = out->types[j] == all[i].type;
        if (!dup)
            out->types[out->n_types++] = all[i].type;
    }
    /* labels: the pool's, plus every requirement narrowed to one value */
    size_t nl = p->labels.n + b->reqs.n;
    hoist_kv *kv = hoist_arena_calloc(&plan->arena, nl + 1, sizeof *kv);
    if (!kv)
        return oom(s);
    size_t m = 0;
    for (size_t i = 0; i < b->reqs.n; i++) {
        const char *v = reqs_single(&b->reqs, b->reqs.items[i].key);
        if (v)
            kv[m++] = (hoist_kv){b->reqs.items[i].key, v};
    }
    for (size_t i = 0; i < p->labels.n; i++)
        kv[m++] = p->labels.items[i];
    if (hoist_labels_from_pairs(&plan->arena, kv, m, &out->labels) < 0)
        return oom(s);
    out->n_pods = b->n_pods;
    out->pods = hoist_arena_calloc(&plan->arena, b->n_pods + 1, sizeof *out->pods);
    if (!out->pods)
        return oom(s);
    for (size_t i = 0; i < b->n_pods; i++)
        out->pods[i] = s->pods[b->pods[i]].pod;
    return 0;
}

/* The cheapest fractional cover of what the new claims hold: cpu, memory
 * and up to two extended resources (GPUs) they ask for, over every type of
 * every NodePool at its cheapest offering. */
static double lower_bound(sched *s, const hoist_plan *plan)
{
    int slots[HOIST_COVER_MAX_DIMS] = {HOIST_RES_CPU, HOIST_RES_MEMORY, -1, -1};
    int dims = 2;
    hoist_resources total = {{0}};
    for (size_t i = 0; i < plan->n_claims; i++)
        hoist_resources_add(&total, &plan->claims[i].requests);
    for (int r = HOIST_RES_N_STANDARD; r < HOIST_RES_MAX && dims < HOIST_COVER_MAX_DIMS; r++)
        if (total.v[r] > 0)
            slots[dims++] = r;
    hoist_milli demand[HOIST_COVER_MAX_DIMS] = {0};
    for (int d = 0; d < dims; d++)
        demand[d] = total.v[slots[d]];
    size_t n = 0;
    for (size_t i = 0; i < s->n_pools; i++)
        n += s->pools[i].pt.n;
    hoist_cover_item *items = calloc(n ? n : 1, sizeof *items);
    if (!items)
        return NAN;
    size_t k = 0;
    for (size_t i = 0; i < s->n_pools; i++)
        for (size_t t = 0; t < s->pools[i].pt.n; t++) {
            const hoist_pool_type *pt = &s->pools[i].pt.items[t];
            for (int d = 0; d < dims; d++)
                items[k].cap[d] = pt->allocatable.v[slots[d]] > 0 ? pt->allocatable.v[slots[d]] : 0;
            items[k].price = cheapest_price(pt);
            k++;
        }
    double lb = NAN;
    if (hoist_cover_lower_bound(items, k, demand, dims, &lb, NULL) < 0)
        lb = NAN;
    free(items);
    return lb;
}

static int build_plan(sched *s, hoist_plan *plan)
{
    size_t n_claims = 0, n_existing = 0, n_unsched = 0;
    for (size_t i = 0; i < s->n_bins; i++) {
        if (s->bins[i]->n_pods == 0)
            continue;
        if (s->bins[i]->node)
            n_existing++;
        else
            n_claims++;
    }
    for (size_t i = 0; i < s->n_pods; i++)
        if (s->pods[i].placed < 0)
            n_unsched++;
    plan->claims = hoist_arena_calloc(&plan->arena, n_claims + 1, sizeof *plan->claims);
    plan->existing = hoist_arena_calloc(&plan->arena, n_existing + 1, sizeof *plan->existing);
    plan->unschedulable =
        hoist_arena_calloc(&plan->arena, n_unsched + 1, sizeof *plan->unschedulable);
    if (!plan->claims || !plan->existing || !plan->unschedulable)
        return oom(s);
    for (size_t i = 0; i < s->n_bins; i++) {
        bin *b = s->bins[i];
        if (b->n_pods == 0)
            continue;
        if (b->node) {
            hoist_plan_existing *e = &plan->existing[plan->n_existing++];
            e->node = b->node;
            e->in_flight = b->in_flight;
            e->n_pods = b->n_pods;
            e->pods = hoist_arena_calloc(&plan->arena, b->n_pods, sizeof *e->pods);
            if (!e->pods)
                return oom(s);
            for (size_t j = 0; j < b->n_pods; j++)
                e->pods[j] = s->pods[b->pods[j]].pod;
        } else {
            hoist_plan_claim *c = &plan->claims[plan->n_claims++];
            if (finish_claim(s, b, plan, c) < 0)
                return -1;
            plan->cost_per_hour += c->chosen.offering->price;
        }
    }
    plan->lower_bound_per_hour = lower_bound(s, plan);
    return 0;
}

/* ---------------------------------------------------------------------- */
/* The decision                                                            */

static bool planned_gone(const sched *s, const char *name)
{
    for (size_t i = 0; i < s->n_without; i++)
        if (strcmp(s->without[i], name) == 0)
            return true;
    for (size_t i = 0; i < s->n_avoid; i++)
        if (strcmp(s->avoid[i], name) == 0)
            return true;
    return false;
}

static int setup_bins(sched *s)
{
    /* Ready nodes first, then in-flight ones; each by name */
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < s->o->n_nodes; i++) {
            const hoist_node *n = s->o->nodes[i];
            bool ready = n->ready != 0;
            if ((pass == 0) != ready ||
                ((s->n_without || s->n_avoid) && planned_gone(s, n->name)))
                continue;
            bin *b = new_bin(s);
            if (!b)
                return oom(s);
            b->node = n;
            b->dom = s->node_dom ? &s->node_dom[i * s->node_dom_keys] : NULL;
            b->n_dom = s->node_dom ? s->node_dom_keys : 0;
            b->in_flight = !ready;
            b->name = n->name;
            b->cap = n->allocatable;
        }
    /* what runs on each node, from the usage index; the pods themselves only
     * when some topology group counts them */
    bool count = s->topo.n_groups > 0;
    for (size_t i = 0; i < s->n_bins; i++) {
        bin *b = s->bins[i];
        const hoist_node_usage *u = hoist_usage_of(s->o->usage, b->name);
        if (!u)
            continue;
        b->used = u->requested;
        /* pods with the same labels count once per node, by their label set */
        for (size_t k = 0; count && k < u->n_sets; k++)
            if (count_bound(s, &u->sets[k], b) < 0)
                return -1;
        for (size_t k = 0; count && u->n_anti_affinity && k < u->n_pods; k++)
            if (u->pods[k]->pod_anti_affinity.n && count_owner(s, u->pods[k], b) < 0)
                return -1;
    }
    return 0;
}

/* A scheduler's pass (existing_only) places pods on Ready nodes only (the
 * bins of nodes not in flight; cordoned ones refuse every pod); a pod fits
 * a node only with room for every request, and placing pods only takes
 * room. So a pending pod without room on any such bin at the start is never
 * placed: mark it left out now with the reason explain() would give and
 * spare it the placement work (most pending pods while machines boot).
 * Pods of one shape are checked once. Runs after setup_bins. */
#define LEAVE_OUT_SHAPES 32
static void leave_out_unfittable(sched *s)
{
    struct {
        const hoist_resources *req;
        bool fits;
    } shapes[LEAVE_OUT_SHAPES];
    size_t n_shapes = 0;
    for (size_t i = 0; i < s->n_pods; i++) {
        spod *sp = &s->pods[i];
        if (sp->invalid || sp->pod->placeholder)
            continue;
        const hoist_resources *req = &sp->pod->requests;
        size_t k = 0;
        while (k < n_shapes && memcmp(shapes[k].req, req, sizeof *req) != 0)
            k++;
        bool fits_some;
        if (k < n_shapes) {
            fits_some = shapes[k].fits;
        } else {
            fits_some = false;
            for (size_t j = 0; j < s->n_bins && !fits_some; j++) {
                const bin *b = s->bins[j];
                fits_some = b->node && !b->in_flight && !b->node->unschedulable &&
                            fits(req, &b->used, &b->cap);
            }
            if (n_shapes < LEAVE_OUT_SHAPES) {
                shapes[n_shapes].req = req;
                shapes[n_shapes++].fits = fits_some;
            }
        }
        if (!fits_some)
            sp->invalid = explain(s, sp);
    }
}

/* Intern the domain values known up front: zones and capacity types of
 * every offering, and each topology key's values on existing nodes. */
static int intern_domains(sched *s)
{
    for (size_t i = 0; i < s->n_pools; i++)
        for (size_t t = 0; t < s->pools[i].pt.n; t++) {
            const hoist_pool_type *pt = &s->pools[i].pt.items[t];
            for (size_t j = 0; j < pt->n_offerings; j++) {
                hoist_topo_value_id(s->zone_key, pt->offerings[j]->zone);
                hoist_topo_value_id(s->ct_key,
                                    hoist_capacity_type_name(pt->offerings[j]->capacity_type));
            }
        }
    for (size_t i = 0; i < s->n_pools; i++) {
        pool *pl = &s->pools[i];
        pl->zones_by_ct = hoist_arena_calloc(s->a, pl->pt.n + 1, sizeof *pl->zones_by_ct);
        if (!pl->zones_by_ct)
            return oom(s);
        for (size_t t = 0; t < pl->pt.n; t++)
            for (size_t j = 0; j < pl->pt.items[t].n_offerings; j++) {
                const hoist_offering *off = pl->pt.items[t].offerings[j];
                int z = hoist_topo_value_id(s->zone_key, off->zone);
                if (z >= 0 && off->capacity_type <= HOIST_CAPACITY_RESERVED)
                    pl->zones_by_ct[t][off->capacity_type] |= (uint64_t)1 << z;
            }
    }
    /* the claim templates' open zones and capacity types */
    for (size_t i = 0; i < s->n_pools; i++) {
        pool *pl = &s->pools[i];
        pl->full->reqs = pl->reqs;
        refresh_open_values(s, pl->full);
        if (!s->cap_vcpus)
            continue;
        pl->capped = hoist_arena_calloc(s->a, 1, sizeof *pl->capped);
        uint64_t *types = hoist_arena_calloc(s->a, pl->words ? pl->words : 1, sizeof *types);
        if (!pl->capped || !types)
            return oom(s);
        for (size_t t = 0; t < pl->pt.n; t++)
            if (pl->pt.items[t].type->vcpus <= s->cap_vcpus)
                BIT_SET(types, t);
        pl->capped->pool = pl;
        pl->capped->types = types;
        pl->capped->reqs = pl->reqs;
        claim_bounds(pl->capped);
        refresh_open_values(s, pl->capped);
    }
    /* each node's domain under each key, recorded for bin_domain */
    size_t nk = s->topo.n_keys;
    s->node_dom = hoist_arena_alloc(s->a, (s->o->n_nodes * nk + 1) * sizeof *s->node_dom);
    if (!s->node_dom)
        return oom(s);
    for (size_t i = 0; i < s->o->n_nodes * nk; i++)
        s->node_dom[i] = DOM_UNKNOWN;
    s->node_dom_keys = nk;
    for (size_t k = 0; k < nk; k++) {
        hoist_topo_key *key = s->topo.keys[k];
        if (key->hostname)
            continue;
        for (size_t i = 0; i < s->o->n_nodes; i++) {
            const char *v = hoist_labels_get(&s->o->nodes[i]->labels, key->key);
            int id = v ? hoist_topo_value_id(key, v) : -2;
            if (id >= 0 || id == -2)
                s->node_dom[i * nk + key->index] = id;
        }
        for (size_t i = 0; i < s->n_pools; i++) {
            const char *v = hoist_labels_get(&s->pools[i].labels, key->key);
            if (v)
                hoist_topo_value_id(key, v);
            if (!is_type_label(key->key))
                continue;
            for (size_t t = 0; t < s->pools[i].pt.n; t++) {
                v = hoist_labels_get(&s->pools[i].pt.items[t].labels, key->key);
                if (v)
                    hoist_topo_value_id(key, v);
            }
        }
    }
    return 0;
}

/* One packing pass: new claims start from the types with at most cap_vcpus
 * vCPUs (0: no cap) unless the pod needs a bigger one. *max_vcpus gets the
 * most vCPUs of any efficient type, to pick the next caps from. */
static int plan_pass(hoist_objects *o, const hoist_catalog *c, const hoist_plan_options *opts,
                     hoist_plan_cache *cache, uint32_t cap_vcpus, uint32_t *max_vcpus,
                     hoist_plan *plan, hoist_err *err)
{
    memset(plan, 0, sizeof *plan);
    hoist_arena_init(&plan->arena, 256 * 1024);
    /* nothing pending: nothing to decide (the simulator's scheduler and the
     * pipeline ask often; this keeps an idle decision O(pods)) */
    size_t n_without = opts && opts->without ? opts->n_without : 0;
    bool any = (opts && opts->placeholders && opts->n_placeholders > 0) ||
               o->usage->n_waiting > 0 || n_without > 0;
    if (!any)
        return 0;
    hoist_arena scratch;
    hoist_arena_init(&scratch, 1024 * 1024);
    sched s = {0};
    s.a = &scratch;
    s.o = o;
    s.c = c;
    s.err = err;
    s.max_offerings = opts && opts->max_offerings ? opts->max_offerings : HOIST_PLAN_MAX_OFFERINGS;
    s.cap_vcpus = cap_vcpus;
    s.hooks = opts ? opts->hooks : NULL;
    hoist_strmap_init(&s.sigs);
    hoist_topology_init(&s.topo, &scratch, o);
    int rc = -1;

    s.zone_key = hoist_topology_key(&s.topo, HOIST_LABEL_ZONE);
    s.ct_key = hoist_topology_key(&s.topo, HOIST_LABEL_CAPACITY_TYPE);
    if (!s.zone_key || !s.ct_key) {
        oom(&s);
        goto done;
    }
    for (int ct = 0; ct < 3; ct++)
        s.ct_ids[ct] =
            hoist_topo_value_id(s.ct_key, hoist_capacity_type_name((hoist_capacity_type)ct));
    s.existing_only = opts && opts->existing_only;
    s.cache = cache;
    if (!s.existing_only && setup_pools(&s) < 0)
        goto done;
    *max_vcpus = 0;
    for (size_t i = 0; i < s.n_pools; i++)
        for (size_t t = 0; t < s.pools[i].pt.n; t++)
            if (BIT_TEST(s.pools[i].efficient, t) &&
                s.pools[i].pt.items[t].type->vcpus > *max_vcpus)
                *max_vcpus = s.pools[i].pt.items[t].type->vcpus;
    size_t max_words = 1;
    for (size_t i = 0; i < s.n_pools; i++)
        if (s.pools[i].words > max_words)
            max_words = s.pools[i].words;
    s.scratch_types = calloc(max_words, sizeof *s.scratch_types);
    s.scratch_explain = calloc(max_words, sizeof *s.scratch_explain);
    if (!s.scratch_types || !s.scratch_explain) {
        oom(&s);
        goto done;
    }

    /* pending pods with their constraints */
    size_t n = o->usage->n_waiting;
    for (size_t i = 0; i < n_without; i++) {
        const hoist_node_usage *u = hoist_usage_of(o->usage, opts->without[i]);
        n += u ? u->n_pods : 0;
    }
    size_t n_holders = opts && opts->placeholders ? opts->n_placeholders : 0;
    s.pods = calloc(n + n_holders ? n + n_holders : 1, sizeof *s.pods);
    if (!s.pods) {
        oom(&s);
        goto done;
    }
    for (size_t i = 0; i < o->usage->n_waiting; i++) /* listed: no walk over every pod */
        s.pods[s.n_pods++].pod = hoist_usage_waiting(o->usage, i);
    for (size_t i = 0; i < n_without; i++) { /* the pods of the nodes taken away */
        const hoist_node_usage *u = hoist_usage_of(o->usage, opts->without[i]);
        for (size_t k = 0; u && k < u->n_pods; k++)
            if (!u->pods[k]->daemonset_owned)
                s.pods[s.n_pods++].pod = u->pods[k];
    }
    s.without = opts ? opts->without : NULL;
    s.n_without = n_without;
    s.avoid = opts ? opts->avoid : NULL;
    s.n_avoid = opts && opts->avoid ? opts->n_avoid : 0;
    plan->n_pending = s.n_pods;
    for (size_t i = 0; i < n_holders; i++)
        if (opts->placeholders[i] && opts->placeholders[i]->placeholder)
            s.pods[s.n_pods++].pod = opts->placeholders[i];
    for (size_t i = 0; i < s.n_pods; i++)
        if (setup_pod(&s, &s.pods[i]) < 0)
            goto done;
    /* groups of anti-affinity that running pods hold exist before the index */
    for (size_t i = 0; o->usage->n_anti_affinity && i < o->n_pods; i++) {
        const hoist_pod *p = o->pods[i];
        if (!is_running_on_node(p))
            continue;
        for (size_t t = 0; t < p->pod_anti_affinity.n; t++)
            if (!hoist_topology_term_group(&s.topo, p, &p->pod_anti_affinity.items[t], true, err))
                goto done;
    }
    if (hoist_topology_index(&s.topo) < 0) {
        oom(&s);
        goto done;
    }
    if (intern_domains(&s) < 0 || setup_bins(&s) < 0)
        goto done;
    if (s.existing_only)
        leave_out_unfittable(&s);
    for (size_t i = 0; i < s.n_pods; i++) {
        if (s.pods[i].invalid)
            continue; /* never placed: the groups it matches do not matter */
        s.pods[i].n_matches = hoist_topology_matching(&s.topo, s.pods[i].pod, &s.pods[i].matches);
        if (s.pods[i].n_matches < 0) {
            oom(&s);
            goto done;
        }
    }
    if (dedupe_requirements(&s) < 0)
        goto done;

    qsort(s.pods, s.n_pods, sizeof *s.pods, compare_pods);
    for (size_t i = 0; i < s.n_pods; i++) {
        spod *sp = &s.pods[i];
        if (sp->invalid)
            continue;
        int failed = 0;
        bool placed = false;
        for (int level = 0; level <= sp->n_prefs && !placed && !failed; level++)
            placed = try_place(&s, (int32_t)i, level, &failed);
        if (failed)
            goto done;
        if (!placed) {
            sp->invalid = explain(&s, sp);
            if (!sp->invalid) {
                oom(&s);
                goto done;
            }
        }
    }
    if (build_plan(&s, plan) < 0)
        goto done;
    plan->hook_errors = s.hook_errors;
    for (size_t i = 0; i < s.n_pods; i++) {
        spod *sp = &s.pods[i];
        if (sp->placed >= 0)
            continue;
        if (sp->pod->placeholder) {
            plan->n_placeholders_unplaced++;
            continue;
        }
        hoist_plan_unschedulable *u = &plan->unschedulable[plan->n_unschedulable++];
        u->pod = sp->pod;
        u->name = hoist_arena_strdup(&plan->arena, sp->name);
        u->reason = hoist_arena_strdup(&plan->arena, sp->invalid);
        if (!u->name || !u->reason) {
            oom(&s);
            goto done;
        }
    }
    rc = 0;
done:
    for (size_t i = 0; i < s.n_bins; i++)
        free(s.bins[i]->pods);
    free(s.bins);
    for (size_t i = 0; i < s.n_pods; i++)
        free(s.pods[i].matches);
    free(s.pods);
    free(s.cursors);
    for (size_t i = 0; i < s.cap_memo; i++)
        free(s.memo[i].m);
    free(s.memo);
    hoist_strbuf_free(&s.sigbuf);
    free(s.scratch_types);
    free(s.scratch_explain);
    hoist_strmap_free(&s.sigs);
    hoist_topology_free(&s.topo);
    hoist_arena_free(&scratch);
    if (rc < 0)
        hoist_plan_free(plan);
    return rc;
}

/* Plans with at most this many pending pods get extra packing passes. */
#define HOIST_PLAN_MULTIPASS_PODS 4000

/* True when plan a is better than plan b: fewer pods left out, then cheaper
 * (by more than rounding), then fewer machines. */
static bool better_plan(const hoist_plan *a, const hoist_plan *b)
{
    if (a->n_unschedulable != b->n_unschedulable)
        return a->n_unschedulable < b->n_unschedulable;
    if (a->cost_per_hour < b->cost_per_hour - 1e-9)
        return true;
    if (a->cost_per_hour > b->cost_per_hour + 1e-9)
        return false;
    return a->n_claims < b->n_claims;
}

/* The first pass, then the capped passes; the best plan wins. */
static int plan_passes(hoist_objects *o, const hoist_catalog *c, const hoist_plan_options *opts,
                       hoist_plan_cache *cache, hoist_plan *plan, hoist_err *err)
{
    uint32_t max_vcpus = 0, ignored;
    if (plan_pass(o, c, opts, cache, 0, &max_vcpus, plan, err) < 0)
        return -1;
    if (plan->n_pending > HOIST_PLAN_MULTIPASS_PODS || plan->n_claims == 0)
        return 0;
    /* First-fit lets claims grow to the largest machines, which can leave a
     * big machine half used or of the wrong shape. Packing again with new
     * claims capped at half, a quarter, ... of the largest efficient size
     * gives the cost a chance to come down; the best plan wins. */
    for (uint32_t cap = max_vcpus / 2; cap >= 4; cap /= 2) {
        hoist_plan alt;
        if (plan_pass(o, c, opts, cache, cap, &ignored, &alt, err) < 0) {
            hoist_plan_free(plan);
            return -1;
        }
        if (better_plan(&alt, plan)) {
            hoist_plan_free(plan);
            *plan = alt;
        } else {
            hoist_plan_free(&alt);
        }
    }
    return 0;
}

int hoist_plan_compute(hoist_objects *o, const hoist_catalog *c, const hoist_plan_options *opts,
                       hoist_plan *plan, hoist_err *err)
{
    /* without the caller's cache, one for the passes of this decision */
    hoist_plan_cache *own = NULL, *cache = opts ? opts->cache : NULL;
    if (!cache && !(cache = own = hoist_plan_cache_new())) {
        memset(plan, 0, sizeof *plan);
        return hoist_errf(err, "plan: out of memory");
    }
    /* a snapshot without an owner's usage index gets one for this decision */
    hoist_usage local;
    bool own_usage = !o->usage;
    if (own_usage) {
        hoist_usage_init(&local);
        if (hoist_usage_build(&local, o) < 0) {
            hoist_usage_free(&local);
            hoist_plan_cache_free(own);
            memset(plan, 0, sizeof *plan);
            return hoist_errf(err, "plan: out of memory");
        }
        o->usage = &local;
    }
    int rc = plan_passes(o, c, opts, cache, plan, err);
    if (own_usage) {
        o->usage = NULL;
        hoist_usage_free(&local);
    }
    hoist_plan_cache_free(own);
    return rc;
}

void hoist_plan_free(hoist_plan *plan)
{
    hoist_arena_free(&plan->arena);
    memset(plan, 0, sizeof *plan);
}

/* ---------------------------------------------------------------------- */
/* JSON                                                                    */

static json_t *pod_names(const hoist_pod *const *pods, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++) {
        if (pods[i]->placeholder)
            continue;
        char buf[512];
        snprintf(buf, sizeof buf, "%s/%s", pods[i]->ns, pods[i]->name);
        if (json_array_append_new(a, json_string(buf)) < 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

json_t *hoist_plan_to_json(const hoist_plan *plan, const hoist_resource_names *names,
                           bool with_offerings)
{
    json_t *claims = json_array(), *existing = json_array(), *unsched = json_array();
    for (size_t i = 0; claims && i < plan->n_claims; i++) {
        const hoist_plan_claim *c = &plan->claims[i];
        json_t *types = json_array(), *offs = json_array();
        for (size_t t = 0; types && t < c->n_types; t++)
            json_array_append_new(types, json_string(c->types[t]->name));
        for (size_t k = 0; with_offerings && offs && k < c->n_offerings; k++)
            json_array_append_new(
                offs, json_pack("{s:s, s:s, s:s, s:f}", "instanceType", c->offerings[k].type->name,
                                "zone", c->offerings[k].offering->zone, "capacityType",
                                hoist_capacity_type_name(c->offerings[k].offering->capacity_type),
                                "price", c->offerings[k].offering->price));
        json_t *e = json_pack(
            "{s:s, s:s, s:s, s:s, s:f, s:o, s:o, s:o, s:o, s:o, s:o}", "nodePool",
            c->nodepool->name, "instanceType", c->chosen.type->name, "zone",
            c->chosen.offering->zone, "capacityType",
            hoist_capacity_type_name(c->chosen.offering->capacity_type), "price",
            c->chosen.offering->price, "instanceTypeOptions", types, "offerings", offs, "labels",
            hoist_labels_to_json(&c->labels), "taints", hoist_taints_to_json(&c->taints),
            "requests", hoist_resources_to_json(names, &c->requests, false), "pods",
            pod_names(c->pods, c->n_pods));
        if (e && !with_offerings)
            json_object_del(e, "offerings");
        size_t n_holders = 0;
        for (size_t k = 0; k < c->n_pods; k++)
            n_holders += c->pods[k]->placeholder;
        if (e && n_holders && json_object_set_new(e, "headroomPlaceholders",
                                                  json_integer((json_int_t)n_holders)) < 0)
            goto fail;
        if (!e || json_array_append_new(claims, e) < 0)
            goto fail;
    }
    for (size_t i = 0; existing && i < plan->n_existing; i++) {
        const hoist_plan_existing *x = &plan->existing[i];
        json_t *e = json_pack("{s:s, s:b, s:o}", "node", x->node->name, "inFlight", x->in_flight,
                              "pods", pod_names(x->pods, x->n_pods));
        if (!e || json_array_append_new(existing, e) < 0)
            goto fail;
    }
    for (size_t i = 0; unsched && i < plan->n_unschedulable; i++) {
        const hoist_plan_unschedulable *u = &plan->unschedulable[i];
        json_t *e = json_pack("{s:s, s:s}", "pod", u->name, "reason", u->reason);
        if (!e || json_array_append_new(unsched, e) < 0)
            goto fail;
    }
    if (!claims || !existing || !unsched)
        goto fail;
    return json_pack("{s:o, s:o, s:o, s:f, s:f, s:I}", "nodeClaims", claims, "existingNodes",
                     existing, "unschedulable", unsched, "costPerHour", plan->cost_per_hour,
                     "lowerBoundPerHour",
                     isfinite(plan->lower_bound_per_hour) ? plan->lower_bound_per_hour : -1.0,
                     "pendingPods", (json_int_t)plan->n_pending);
fail:
    json_decref(claims);
    json_decref(existing);
    json_decref(unsched);
    return NULL;
}
