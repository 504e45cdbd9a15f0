/* sched/topology.c - topology groups and domain counts; see topology.h. */
#include "sched/topology.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/labels.h"

void hoist_topology_init(hoist_topology *t, hoist_arena *a, const hoist_objects *o)
{
    memset(t, 0, sizeof *t);
    t->arena = a;
    t->objects = o;
    hoist_strmap_init(&t->group_ids);
    hoist_strmap_init(&t->by_label);
    hoist_strbuf_init(&t->keybuf);
}

void hoist_topology_free(hoist_topology *t)
{
    for (size_t i = 0; i < t->n_keys; i++) {
        hoist_strmap_free(&t->keys[i]->ids);
        free(t->keys[i]->values);
    }
    for (size_t i = 0; i < t->n_groups; i++) {
        free(t->groups[i]->count.v);
        free(t->groups[i]->owners.v);
    }
    for (size_t i = 0; i < t->n_lists; i++)
        free(t->lists[i].items);
    free(t->lists);
    hoist_strbuf_free(&t->keybuf);
    free(t->scan_always.items);
    free(t->keys);
    free(t->groups);
    hoist_strmap_free(&t->group_ids);
    hoist_strmap_free(&t->by_label);
    memset(t, 0, sizeof *t);
}

int hoist_counts_add(hoist_counts *c, long d, int32_t delta)
{
    if (d < 0)
        return 0;
    if ((size_t)d >= c->n) {
        size_t n = c->n ? c->n : 8;
        while (n <= (size_t)d)
            n *= 2;
        int32_t *v = realloc(c->v, n * sizeof *v);
        if (!v)
            return -1;
        memset(v + c->n, 0, (n - c->n) * sizeof *v);
        c->v = v;
        c->n = n;
    }
    c->v[d] += delta;
    return 0;
}

/* Append x to a malloc'd array of pointers. */
static int push_ptr(void ***arr, size_t *n, void *x)
{
    void **v = realloc(*arr, (*n + 1) * sizeof *v);
    if (!v)
        return -1;
    v[(*n)++] = x;
    *arr = v;
    return 0;
}

hoist_topo_key *hoist_topology_key(hoist_topology *t, const char *key)
{
    for (size_t i = 0; i < t->n_keys; i++)
        if (strcmp(t->keys[i]->key, key) == 0)
            return t->keys[i];
    hoist_topo_key *k = hoist_arena_calloc(t->arena, 1, sizeof *k);
    if (!k)
        return NULL;
    k->key = hoist_arena_strdup(t->arena, key);
    k->hostname = strcmp(key, HOIST_LABEL_HOSTNAME) == 0;
    k->index = t->n_keys;
    hoist_strmap_init(&k->ids);
    if (!k->key || push_ptr((void ***)&t->keys, &t->n_keys, k) < 0)
        return NULL;
    return k;
}

int hoist_topo_value_id(hoist_topo_key *k, const char *value)
{
    int64_t id;
    if (hoist_strmap_get(&k->ids, value, &id))
        return (int)id;
    if (k->n_values >= HOIST_TOPO_MAX_VALUES)
        return -1;
    if (k->n_values == k->cap_values) {
        size_t cap = k->cap_values ? k->cap_values * 2 : 8;
        const char **v = realloc(k->values, cap * sizeof *v);
        if (!v)
            return -1;
        k->values = v;
        k->cap_values = cap;
    }
    k->values[k->n_values] = value;
    if (hoist_strmap_put(&k->ids, value, (int64_t)k->n_values) < 0)
        return -1;
    return (int)k->n_values++;
}

/* Selector of a term with matchLabelKeys (In the pod's value) and
 * mismatchLabelKeys (NotIn the pod's value) folded in. */
static int fold_label_keys(hoist_arena *a, const hoist_pod *p, const hoist_reqs *sel,
                           const hoist_strings *match, const hoist_strings *mismatch,
                           hoist_reqs *out)
{
    size_t extra = (match ? match->n : 0) + (mismatch ? mismatch->n : 0);
    *out = *sel;
    if (extra == 0)
        return 0;
    hoist_req *items = hoist_arena_calloc(a, sel->n + extra, sizeof *items);
    if (!items)
        return -1;
    memcpy(items, sel->items, sel->n * sizeof *items);
    size_t n = sel->n;
    for (int pass = 0; pass < 2; pass++) {
        const hoist_strings *keys = pass == 0 ? match : mismatch;
        for (size_t i = 0; keys && i < keys->n; i++) {
            const char *v = hoist_labels_get(&p->labels, keys->items[i]);
            if (!v)
                continue; /* Kubernetes ignores keys the pod does not carry */
            const char **vals = hoist_arena_calloc(a, 1, sizeof *vals);
            if (!vals)
                return -1;
            vals[0] = v;
            items[n].key = keys->items[i];
            items[n].op = pass == 0 ? HOIST_OP_IN : HOIST_OP_NOT_IN;
            items[n].values = vals;
            items[n].n_values = 1;
            n++;
        }
    }
    out->items = items;
    out->n = n;
    return 0;
}

/* Canonical text of a requirement list, for group signatures. */
static char *reqs_text(const hoist_reqs *rs)
{
    json_t *j = hoist_reqs_to_json(rs);
    char *s = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(j);
    return s;
}

/* Find or create the group with this signature. */
/* Append requirements rs to a group key: every field, separated by bytes
 * that cannot appear in label keys or values. */
static void key_reqs(hoist_strbuf *b, const hoist_reqs *rs)
{
    for (size_t i = 0; i < rs->n; i++) {
        const hoist_req *r = &rs->items[i];
        hoist_strbuf_str(b, r->key);
        hoist_strbuf_char(b, '\x1f');
        hoist_strbuf_int(b, (int64_t)r->op);
        for (size_t v = 0; v < r->n_values; v++) {
            hoist_strbuf_char(b, '\x1e');
            hoist_strbuf_str(b, r->values[v]);
        }
        hoist_strbuf_char(b, '\x1f');
        hoist_strbuf_int(b, r->min_values);
        hoist_strbuf_char(b, '\x1d');
    }
}

/* Find or create the group with this signature. */
static hoist_group *intern_group(hoist_topology *t, hoist_group *proto, hoist_err *err)
{
    /* the key: built without printf, copied into the arena only when new */
    hoist_strbuf *b = &t->keybuf;
    hoist_strbuf_reset(b);
    hoist_strbuf_int(b, (int64_t)proto->kind);
    hoist_strbuf_char(b, '|');
    hoist_strbuf_str(b, proto->key->key);
    hoist_strbuf_char(b, '|');
    hoist_strbuf_int(b, proto->max_skew);
    hoist_strbuf_char(b, '|');
    hoist_strbuf_int(b, proto->min_domains);
    hoist_strbuf_char(b, proto->all_namespaces ? 'A' : '-');
    hoist_strbuf_char(b, proto->matches_nothing ? 'N' : '-');
    for (size_t i = 0; i < proto->namespaces.n; i++) {
        hoist_strbuf_str(b, proto->namespaces.items[i]);
        hoist_strbuf_char(b, ',');
    }
    hoist_strbuf_char(b, '|');
    key_reqs(b, &proto->selector);
    hoist_strbuf_char(b, '|');
    if (proto->has_ns_selector)
        key_reqs(b, &proto->ns_selector);
    else
        hoist_strbuf_char(b, '-');
    const char *key = hoist_strbuf_cstr(b);
    if (!key) {
        hoist_errf(err, "out of memory");
        return NULL;
    }
    int64_t id;
    if (hoist_strmap_get(&t->group_ids, key, &id))
        return t->groups[id];
    char *sig = hoist_arena_strdup(t->arena, key);
    char *sel = reqs_text(&proto->selector);
    if (!sig || !sel) {
        free(sel);
        hoist_errf(err, "out of memory");
        return NULL;
    }
    hoist_group *g = hoist_arena_calloc(t->arena, 1, sizeof *g);
    if (!g) {
        free(sel);
        hoist_errf(err, "out of memory");
        return NULL;
    }
    *g = *proto;
    static const char *const kinds[] = {"topology spread", "pod affinity", "pod anti-affinity"};
    g->describe = hoist_arena_sprintf(t->arena, "%s on %s (selector %s)", kinds[g->kind],
                                      g->key->key, g->matches_nothing ? "null" : sel);
    free(sel);
    if (!g->describe ||
        hoist_strmap_put(&t->group_ids, sig, (int64_t)t->n_groups) < 0 ||
        push_ptr((void ***)&t->groups, &t->n_groups, g) < 0) {
        hoist_errf(err, "out of memory");
        return NULL;
    }
    return g;
}

hoist_group *hoist_topology_spread_group(hoist_topology *t, const hoist_pod *p,
                                         const hoist_topology_spread *c, hoist_err *err)
{
    hoist_group g = {0};
    g.kind = HOIST_GROUP_SPREAD;
    g.key = hoist_topology_key(t, c->topology_key);
    g.max_skew = c->max_skew;
    g.min_domains = c->min_domains;
    g.matches_nothing = !c->has_selector;
    const char **ns = hoist_arena_calloc(t->arena, 1, sizeof *ns);
    if (!g.key || !ns ||
        fold_label_keys(t->arena, p, &c->selector, &c->match_label_keys, NULL, &g.selector) < 0) {
        hoist_errf(err, "out of memory");
        return NULL;
    }
    ns[0] = p->ns;
    g.namespaces.items = ns;
    g.namespaces.n = 1;
    return intern_group(t, &g, err);
}

hoist_group *hoist_topology_term_group(hoist_topology *t, const hoist_pod *p,
                                       const hoist_pod_affinity_term *term, bool anti,
                                       hoist_err *err)
{
    hoist_group g = {0};
    g.kind = anti ? HOIST_GROUP_ANTI_AFFINITY : HOIST_GROUP_AFFINITY;
    g.key = hoist_topology_key(t, term->topology_key);
    g.matches_nothing = !term->has_selector;
    if (!g.key || fold_label_keys(t->arena, p, &term->selector, &term->match_label_keys,
                                  &term->mismatch_label_keys, &g.selector) < 0) {
        hoist_errf(err, "out of memory");
        return NULL;
    }
    /* The namespace set: listed namespaces, plus those a namespaceSelector
     * picks ({} = all); neither given = the pod's own namespace. */
    const char **ns = hoist_arena_calloc(t->arena, term->namespaces.n + 1, sizeof *ns);
    if (!ns) {
        hoist_errf(err, "out of memory");
        return NULL;
    }
    size_t n = 0;
    for (size_t i = 0; i < term->namespaces.n; i++)
        ns[n++] = term->namespaces.items[i];
    if (term->has_namespace_selector) {
        if (term->namespace_selector.n == 0) {
            g.all_namespaces = true;
        } else {
            g.has_ns_selector = true;
            g.ns_selector = term->namespace_selector;
        }
    } else if (term->namespaces.n == 0) {
        ns[n++] = p->ns;
    }
    g.namespaces.items = ns;
    g.namespaces.n = n;
    return intern_group(t, &g, err);
}

/* The label "key=value" a selector requires (an In with one value), or NULL. */
static char *required_label(hoist_arena *a, const hoist_reqs *sel)
{
    for (size_t i = 0; i < sel->n; i++)
        if (sel->items[i].op == HOIST_OP_IN && sel->items[i].n_values == 1)
            return hoist_arena_sprintf(a, "%s=%s", sel->items[i].key, sel->items[i].values[0]);
    return NULL;
}

static int list_push(struct hoist_group_list *l, int32_t x)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 4;
        int32_t *v = realloc(l->items, cap * sizeof *v);
        if (!v)
            return -1;
        l->items = v;
        l->cap = cap;
    }
    l->items[l->n++] = x;
    return 0;
}

int hoist_topology_index(hoist_topology *t)
{
    for (size_t i = 0; i < t->n_groups; i++) {
        hoist_group *g = t->groups[i];
        if (g->matches_nothing)
            continue;
        char *kv = required_label(t->arena, &g->selector);
        if (!kv) {
            if (list_push(&t->scan_always, (int32_t)i) < 0)
                return -1;
            continue;
        }
        int64_t li;
        if (!hoist_strmap_get(&t->by_label, kv, &li)) {
            struct hoist_group_list *v = realloc(t->lists, (t->n_lists + 1) * sizeof *v);
            if (!v)
                return -1;
            t->lists = v;
            memset(&t->lists[t->n_lists], 0, sizeof *v);
            li = (int64_t)t->n_lists++;
            if (hoist_strmap_put(&t->by_label, kv, li) < 0)
                return -1;
        }
        if (list_push(&t->lists[li], (int32_t)i) < 0)
            return -1;
    }
    return 0;
}

/* True when group g counts pod p. */
static bool group_matches(const hoist_topology *t, const hoist_group *g, const hoist_pod *p)
{
    if (g->matches_nothing)
        return false;
    if (!g->all_namespaces) {
        bool in = false;
        for (size_t i = 0; i < g->namespaces.n && !in; i++)
            in = strcmp(g->namespaces.items[i], p->ns) == 0;
        if (!in && g->has_ns_selector && t->objects)
            in = hoist_objects_namespace_matches(t->objects, p->ns, &g->ns_selector);
        if (!in)
            return false;
    }
    return hoist_reqs_match_labels(&g->selector, &p->labels);
}

long hoist_topology_matching(const hoist_topology *t, const hoist_pod *p, int32_t **out)
{
    size_t n = 0, cap = 0;
    int32_t *v = NULL;
    char buf[512];
#define PUSH_IF_MATCH(gi)                                                                \
    do {                                                                                 \
        if (group_matches(t, t->groups[gi], p)) {                                        \
            if (n == cap) {                                                              \
                cap = cap ? cap * 2 : 8;                                                 \
                int32_t *nv = realloc(v, cap * sizeof *nv);                              \
                if (!nv) {                                                               \
                    free(v);                                                             \
                    return -1;                                                           \
                }                                                                        \
                v = nv;                                                                  \
            }                                                                            \
            v[n++] = (gi);                                                               \
        }                                                                                \
    } while (0)
    for (size_t i = 0; i < t->scan_always.n; i++)
        PUSH_IF_MATCH(t->scan_always.items[i]);
    for (size_t l = 0; t->n_lists && l < p->labels.n; l++) {
        /* "key=value", built without printf: this runs for every bound pod */
        const char *k = p->labels.items[l].key, *val = p->labels.items[l].value;
        size_t kl = strlen(k), vl = strlen(val);
        if (kl + vl + 2 > sizeof buf)
            continue;
        memcpy(buf, k, kl);
        buf[kl] = '=';
        memcpy(buf + kl + 1, val, vl + 1);
        int64_t li;
        if (!hoist_strmap_get(&t->by_label, buf, &li))
            continue;
        for (size_t i = 0; i < t->lists[li].n; i++)
            PUSH_IF_MATCH(t->lists[li].items[i]);
    }
#undef PUSH_IF_MATCH
    *out = v;
    return (long)n;
}
