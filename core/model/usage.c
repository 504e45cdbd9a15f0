/* model/usage.c - per-node pod usage, kept incrementally; see usage.h. */
#include "model/usage.h"

#include <stdlib.h>
#include <string.h>

#include "model/resources.h"

#define NO_SLOT SIZE_MAX
#define NO_CLASS UINT32_MAX

void hoist_usage_init(hoist_usage *u)
{
    memset(u, 0, sizeof *u);
    u->free_slot = NO_SLOT;
    u->free_class = NO_CLASS;
}

void hoist_usage_free(hoist_usage *u)
{
    for (size_t i = 0; i < u->n_slots; i++) {
        if (u->slots[i].long_name)
            free(u->slots[i].node);
        free(u->slots[i].pods);
        free(u->slots[i].ids);
        free(u->slots[i].sets);
    }
    free(u->node_index);
    free(u->slots);
    free(u->links);
    free(u->waiting);
    for (size_t i = 0; i < u->n_classes; i++)
        free(u->classes[i].text);
    free(u->classes);
    free(u->class_index);
    uint64_t gen = u->last_gen; /* hints kept by callers never match a reused slot */
    hoist_usage_init(u);
    u->last_gen = gen;
}

/* The node index: open addressing over live slots by name_hash, linear
 * probing, backward-shift removal (no tombstones). */
static void node_index_insert(hoist_usage *u, size_t at)
{
    size_t mask = u->cap_node_index - 1;
    size_t i = (size_t)u->slots[at].name_hash & mask;
    while (u->node_index[i])
        i = (i + 1) & mask;
    u->node_index[i] = (uint32_t)at + 1;
    u->n_node_indexed++;
}

/* Room in the node index for one more slot. 0 or -1. */
static int node_index_reserve(hoist_usage *u)
{
    if ((u->n_node_indexed + 1) * 2 <= u->cap_node_index)
        return 0;
    size_t cap = u->cap_node_index ? u->cap_node_index * 2 : 64;
    uint32_t *fresh = calloc(cap, sizeof *fresh);
    if (!fresh)
        return -1;
    uint32_t *old = u->node_index;
    size_t old_cap = u->cap_node_index;
    u->node_index = fresh;
    u->cap_node_index = cap;
    u->n_node_indexed = 0;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i])
            node_index_insert(u, old[i] - 1);
    free(old);
    return 0;
}

static void node_index_remove(hoist_usage *u, size_t at)
{
    size_t mask = u->cap_node_index - 1;
    size_t i = (size_t)u->slots[at].name_hash & mask;
    while (u->node_index[i] != at + 1)
        i = (i + 1) & mask;
    for (size_t j = i;;) {
        j = (j + 1) & mask;
        if (!u->node_index[j])
            break;
        size_t home = (size_t)u->slots[u->node_index[j] - 1].name_hash & mask;
        /* the entry at j may stay unless its home is outside (i, j] */
        bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
        if (stays)
            continue;
        u->node_index[i] = u->node_index[j];
        i = j;
    }
    u->node_index[i] = 0;
    u->n_node_indexed--;
}

/* Slot of node `name` with hash h, or NO_SLOT. */
static size_t slot_find_hashed(const hoist_usage *u, const char *name, uint64_t h)
{
    if (!u->cap_node_index)
        return NO_SLOT;
    size_t mask = u->cap_node_index - 1;
    for (size_t i = (size_t)h & mask; u->node_index[i]; i = (i + 1) & mask) {
        const hoist_node_usage *s = &u->slots[u->node_index[i] - 1];
        if (s->name_hash == h && strcmp(s->node, name) == 0)
            return u->node_index[i] - 1;
    }
    return NO_SLOT;
}

/* Slot of node `name`, made when missing. NO_SLOT when out of memory. */
static size_t slot_get(hoist_usage *u, const char *name)
{
    size_t len;
    uint64_t h = hoist_hash_str(name, &len);
    size_t at = slot_find_hashed(u, name, h);
    if (at != NO_SLOT)
        return at;
    if (node_index_reserve(u) < 0)
        return NO_SLOT;
    char *copy = NULL;
    if (len >= sizeof u->slots[0].name_inline && !(copy = strdup(name)))
        return NO_SLOT;
    if (u->free_slot != NO_SLOT) {
        at = u->free_slot;
        u->free_slot = u->slots[at].next_free;
    } else {
        if (u->n_slots == u->cap_slots) {
            size_t cap = u->cap_slots ? u->cap_slots * 2 : 64;
            hoist_node_usage *s = cap < UINT32_MAX ? realloc(u->slots, cap * sizeof *s) : NULL;
            if (!s) {
                free(copy);
                return NO_SLOT;
            }
            /* names kept inline moved with their slots */
            for (size_t i = 0; i < u->n_slots; i++)
                if (s[i].node && !s[i].long_name)
                    s[i].node = s[i].name_inline;
            u->slots = s;
            u->cap_slots = cap;
        }
        at = u->n_slots++;
        memset(&u->slots[at], 0, sizeof u->slots[at]);
    }
    hoist_node_usage *s = &u->slots[at];
    s->long_name = copy != NULL;
    if (copy) {
        s->node = copy;
    } else {
        memcpy(s->name_inline, name, len + 1);
        s->node = s->name_inline;
    }
    s->gen = ++u->last_gen;
    s->name_hash = h;
    s->next_free = NO_SLOT;
    node_index_insert(u, at);
    u->n_live_slots++;
    return at;
}

/* Give slot `at` (now without pods) back. */
static void slot_release(hoist_usage *u, size_t at)
{
    hoist_node_usage *s = &u->slots[at];
    node_index_remove(u, at);
    if (s->long_name)
        free(s->node);
    s->node = NULL;
    s->long_name = false;
    memset(&s->requested, 0, sizeof s->requested);
    s->n_sets = 0;
    s->next_free = u->free_slot;
    u->free_slot = at;
    u->n_live_slots--;
}

static int links_reserve(hoist_usage *u, size_t id)
{
    if (id < u->cap_links)
        return 0;
    size_t cap = u->cap_links ? u->cap_links : 256;
    while (cap <= id)
        cap *= 2;
    hoist_usage_link *l = realloc(u->links, cap * sizeof *l);
    if (!l)
        return -1;
    memset(l + u->cap_links, 0, (cap - u->cap_links) * sizeof *l);
    u->links = l;
    u->cap_links = cap;
    return 0;
}

static uint64_t labels_hash_of(const hoist_pod *p)
{
    return p->labels_hash ? p->labels_hash : hoist_pod_labels_hash(p);
}

/* The label set of slot s that pod p belongs to, or NULL. */
static hoist_label_set *set_find(hoist_node_usage *s, const hoist_pod *p, uint64_t h)
{
    for (size_t i = 0; i < s->n_sets; i++)
        if (s->sets[i].hash == h && (s->sets[i].rep == p || hoist_pod_same_labels(s->sets[i].rep, p)))
            return &s->sets[i];
    return NULL;
}

/* Put class id in the lookup; the index has room. */
static void index_insert(hoist_usage *u, uint32_t id)
{
    size_t mask = u->cap_index - 1;
    size_t i = (size_t)u->classes[id].hash & mask;
    while (u->class_index[i])
        i = (i + 1) & mask;
    u->class_index[i] = id + 1;
    u->n_indexed++;
}

/* Make room in the lookup for one more class. 0 or -1. */
static int index_reserve(hoist_usage *u)
{
    if ((u->n_indexed + 1) * 2 <= u->cap_index)
        return 0;
    size_t cap = u->cap_index ? u->cap_index * 2 : 64;
    uint32_t *fresh = calloc(cap, sizeof *fresh);
    if (!fresh)
        return -1;
    uint32_t *old = u->class_index;
    size_t old_cap = u->cap_index;
    u->class_index = fresh;
    u->cap_index = cap;
    u->n_indexed = 0;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i])
            index_insert(u, old[i] - 1);
    free(old);
    return 0;
}

/* Take class id out of the lookup (linear probing, backward shift). */
static void index_remove(hoist_usage *u, uint32_t id)
{
    size_t mask = u->cap_index - 1;
    size_t i = (size_t)u->classes[id].hash & mask;
    while (u->class_index[i] != id + 1)
        i = (i + 1) & mask;
    for (size_t j = i;;) {
        j = (j + 1) & mask;
        if (!u->class_index[j])
            break;
        size_t home = (size_t)u->classes[u->class_index[j] - 1].hash & mask;
        /* the entry at j may stay unless its home is outside (i, j] */
        bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
        if (stays)
            continue;
        u->class_index[i] = u->class_index[j];
        i = j;
    }
    u->class_index[i] = 0;
    u->n_indexed--;
}

/* Whether class c holds pod p's namespace and labels (as hoist_pod_same_labels). */
static bool class_is(const hoist_label_class *c, const hoist_pod *p)
{
    if (c->n_labels != p->labels.n)
        return false;
    const char *t = c->text;
    if (strcmp(t, p->ns ? p->ns : "") != 0)
        return false;
    t += strlen(t) + 1;
    for (size_t i = 0; i < p->labels.n; i++) {
        if (strcmp(t, p->labels.items[i].key) != 0)
            return false;
        t += strlen(t) + 1;
        if (strcmp(t, p->labels.items[i].value) != 0)
            return false;
        t += strlen(t) + 1;
    }
    return true;
}

/* Pod p's namespace and labels as a class's text (malloc'd), or NULL. */
static char *class_text(const hoist_pod *p)
{
    const char *ns = p->ns ? p->ns : "";
    size_t n = strlen(ns) + 1;
    for (size_t i = 0; i < p->labels.n; i++)
        n += strlen(p->labels.items[i].key) + strlen(p->labels.items[i].value) + 2;
    char *text = malloc(n), *t = text;
    if (!text)
        return NULL;
    t = stpcpy(t, ns) + 1;
    for (size_t i = 0; i < p->labels.n; i++) {
        t = stpcpy(t, p->labels.items[i].key) + 1;
        t = stpcpy(t, p->labels.items[i].value) + 1;
    }
    return text;
}

/* The id of p's label class (made when missing), counting one more set
 * in it. NO_CLASS when out of memory. */
static uint32_t class_ref(hoist_usage *u, const hoist_pod *p, uint64_t h)
{
    if (u->cap_index) {
        size_t mask = u->cap_index - 1;
        for (size_t i = (size_t)h & mask; u->class_index[i]; i = (i + 1) & mask) {
            hoist_label_class *c = &u->classes[u->class_index[i] - 1];
            if (c->hash == h && class_is(c, p)) {
                c->refs++;
                return u->class_index[i] - 1;
            }
        }
    }
    if (index_reserve(u) < 0)
        return NO_CLASS;
    if (u->free_class == NO_CLASS && u->n_classes == u->cap_classes) {
        size_t cap = u->cap_classes ? u->cap_classes * 2 : 64;
        if (cap >= NO_CLASS)
            return NO_CLASS;
        hoist_label_class *c = realloc(u->classes, cap * sizeof *c);
        if (!c)
            return NO_CLASS;
        u->classes = c;
        u->cap_classes = cap;
    }
    char *text = class_text(p);
    if (!text)
        return NO_CLASS;
    uint32_t id;
    if (u->free_class != NO_CLASS) {
        id = u->free_class;
        u->free_class = u->classes[id].next_free;
    } else {
        id = (uint32_t)u->n_classes++;
    }
    u->classes[id] = (hoist_label_class){text, p->labels.n, h, 1, NO_CLASS};
    index_insert(u, id);
    return id;
}

/* One set of class id less; with none left the id is free. */
static void class_unref(hoist_usage *u, uint32_t id)
{
    hoist_label_class *c = &u->classes[id];
    if (--c->refs)
        return;
    index_remove(u, id);
    free(c->text);
    c->text = NULL;
    c->next_free = u->free_class;
    u->free_class = id;
}

/* Count p in its label set on slot s. 0 or -1. */
static int set_add(hoist_usage *u, hoist_node_usage *s, const hoist_pod *p)
{
    uint64_t h = labels_hash_of(p);
    hoist_label_set *ls = set_find(s, p, h);
    if (ls) {
        ls->count++;
        return 0;
    }
    if (s->n_sets == s->cap_sets) {
        size_t cap = s->cap_sets ? s->cap_sets * 2 : 4;
        hoist_label_set *v = realloc(s->sets, cap * sizeof *v);
        if (!v)
            return -1;
        s->sets = v;
        s->cap_sets = cap;
    }
    uint32_t id = class_ref(u, p, h);
    if (id == NO_CLASS)
        return -1;
    s->sets[s->n_sets++] = (hoist_label_set){p, h, 1, id};
    return 0;
}

/* Uncount p (already removed from s->pods) from its label set; a set that
 * loses its representative takes another of its pods. */
static void set_remove(hoist_usage *u, hoist_node_usage *s, const hoist_pod *p)
{
    uint64_t h = labels_hash_of(p);
    hoist_label_set *ls = set_find(s, p, h);
    if (!ls)
        return;
    if (--ls->count == 0) {
        class_unref(u, ls->id);
        *ls = s->sets[--s->n_sets];
        return;
    }
    if (ls->rep != p)
        return;
    for (size_t i = 0; i < s->n_pods; i++)
        if (s->pods[i] != p && labels_hash_of(s->pods[i]) == h &&
            hoist_pod_same_labels(s->pods[i], p)) {
            ls->rep = s->pods[i];
            return;
        }
}

void hoist_usage_forget(hoist_usage *u, size_t id)
{
    if (id >= u->cap_links || !u->links[id].pod)
        return;
    hoist_usage_link *l = &u->links[id];
    const hoist_pod *p = l->pod;
    if (l->waiting) {
        size_t last = --u->n_waiting;
        if (l->wpos != last) {
            u->waiting[l->wpos] = u->waiting[last];
            u->links[u->waiting[l->wpos]].wpos = l->wpos;
        }
    }
    if (l->slot) {
        size_t at = l->slot - 1;
        hoist_node_usage *s = &u->slots[at];
        hoist_resources_sub(&s->requested, &p->requests);
        if (!p->daemonset_owned) {
            s->n_work--;
            s->priority_sum -= p->priority;
            s->deletion_cost_sum -= p->has_deletion_cost ? p->deletion_cost : 0;
        }
        s->n_do_not_disrupt -= p->do_not_disrupt;
        if (p->pod_anti_affinity.n) {
            u->n_anti_affinity--;
            s->n_anti_affinity--;
        }
        size_t last = --s->n_pods;
        if (l->at != last) {
            s->pods[l->at] = s->pods[last];
            s->ids[l->at] = s->ids[last];
            u->links[s->ids[l->at]].at = l->at;
        }
        set_remove(u, s, p);
        if (s->n_pods == 0)
            slot_release(u, at);
    }
    memset(l, 0, sizeof *l);
    u->n_tracked--;
}

int hoist_usage_track(hoist_usage *u, size_t id, const hoist_pod *p)
{
    hoist_usage_forget(u, id);
    if (!p)
        return 0;
    if (links_reserve(u, id) < 0)
        return -1;
    hoist_usage_link *l = &u->links[id];
    if (hoist_pod_holds_node(p)) {
        size_t at = slot_get(u, p->node_name);
        if (at == NO_SLOT)
            return -1;
        hoist_node_usage *s = &u->slots[at];
        if (s->n_pods == s->cap_pods) {
            size_t cap = s->cap_pods ? s->cap_pods * 2 : 8;
            const hoist_pod **pods = realloc(s->pods, cap * sizeof *pods);
            if (pods)
                s->pods = pods;
            size_t *ids = pods ? realloc(s->ids, cap * sizeof *ids) : NULL;
            if (ids)
                s->ids = ids;
            if (!pods || !ids) {
                if (s->n_pods == 0)
                    slot_release(u, at);
                return -1;
            }
            s->cap_pods = cap;
        }
        if (set_add(u, s, p) < 0) {
            if (s->n_pods == 0)
                slot_release(u, at);
            return -1;
        }
        hoist_resources_add(&s->requested, &p->requests);
        if (!p->daemonset_owned) {
            s->n_work++;
            s->priority_sum += p->priority;
            s->deletion_cost_sum += p->has_deletion_cost ? p->deletion_cost : 0;
        }
        s->n_do_not_disrupt += p->do_not_disrupt;
        if (p->pod_anti_affinity.n) {
            u->n_anti_affinity++;
            s->n_anti_affinity++;
        }
        l->slot = at + 1;
        l->at = s->n_pods;
        s->pods[s->n_pods] = p;
        s->ids[s->n_pods] = id;
        s->n_pods++;
    }
    if (hoist_pod_waits(p)) {
        if (u->n_waiting == u->cap_waiting) {
            size_t cap = u->cap_waiting ? u->cap_waiting * 2 : 64;
            size_t *w = realloc(u->waiting, cap * sizeof *w);
            if (!w) /* a waiting pod is on no node: nothing else to undo */
                return -1;
            u->waiting = w;
            u->cap_waiting = cap;
        }
        l->waiting = true;
        l->wpos = u->n_waiting;
        u->waiting[u->n_waiting++] = id;
    }
    l->pod = p;
    u->n_tracked++;
    return 0;
}

void hoist_usage_reset(hoist_usage *u)
{
    for (size_t id = 0; id < u->cap_links && u->n_tracked; id++)
        hoist_usage_forget(u, id);
}

int hoist_usage_build(hoist_usage *u, const hoist_objects *o)
{
    hoist_usage_reset(u);
    if (o->n_pods && links_reserve(u, o->n_pods - 1) < 0)
        return -1;
    for (size_t i = 0; i < o->n_pods; i++)
        if (hoist_usage_track(u, i, o->pods[i]) < 0)
            return -1;
    return 0;
}

size_t hoist_usage_slot_of(const hoist_usage *u, const char *name)
{
    size_t at = name ? slot_find_hashed(u, name, hoist_hash_str(name, NULL)) : NO_SLOT;
    return at == NO_SLOT ? SIZE_MAX : at;
}

const hoist_node_usage *hoist_usage_at(const hoist_usage *u, size_t slot, uint64_t gen)
{
    if (slot >= u->n_slots || !u->slots[slot].node || u->slots[slot].gen != gen)
        return NULL;
    return &u->slots[slot];
}

const hoist_node_usage *hoist_usage_of(const hoist_usage *u, const char *name)
{
    size_t at = name ? slot_find_hashed(u, name, hoist_hash_str(name, NULL)) : NO_SLOT;
    return at == NO_SLOT ? NULL : &u->slots[at];
}

bool hoist_usage_room_for_waiting(const hoist_usage *u, const hoist_objects *o)
{
    if (u->n_waiting == 0)
        return false;
    /* the smallest request of each resource over the waiting pods (0 when
     * some pod does not ask for it: then it constrains nothing) */
    hoist_resources least = hoist_usage_waiting(u, 0)->requests;
    for (size_t i = 1; i < u->n_waiting; i++) {
        const hoist_resources *r = &hoist_usage_waiting(u, i)->requests;
        for (int k = 0; k < HOIST_RES_MAX; k++)
            if (r->v[k] < least.v[k])
                least.v[k] = r->v[k];
    }
    for (size_t i = 0; i < o->n_nodes; i++) {
        const hoist_node *n = o->nodes[i];
        if (n->ready == 0 || n->unschedulable)
            continue;
        const hoist_node_usage *nu = hoist_usage_of(u, n->name);
        bool room = true;
        for (int k = 0; k < HOIST_RES_MAX && room; k++)
            if (least.v[k] > 0 &&
                (nu ? nu->requested.v[k] : 0) + least.v[k] > n->allocatable.v[k])
                room = false;
        if (room)
            return true;
    }
    return false;
}
