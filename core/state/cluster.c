/* state/cluster.c - the cluster state store; see cluster.h. */
#include "state/cluster.h"

#include <stdlib.h>
#include <string.h>

#include "util/jsontext.h"
#include "util/strmap.h"

/* The kinds, one snapshot array each. */
enum {
    K_POD = 0,
    K_NODE,
    K_NODEPOOL,
    K_NODECLASS,
    K_PV,
    K_PVC,
    K_STORAGE_CLASS,
    K_DAEMONSET,
    K_PDB,
    K_NAMESPACE
};

_Static_assert(K_NAMESPACE + 1 == HOIST_CLUSTER_N_KINDS, "one owners array per kind");

#define NO_ENTRY SIZE_MAX

/* The source name every decoded object carries. */
#define SOURCE_NAME "event"

struct hoist_cluster_entry {
    char *key;          /* "Kind\x1fns/name" (malloc); NULL = free slot */
    uint64_t hash;      /* of key */
    char *text;         /* compact JSON of the current version (malloc) */
    int kind;           /* K_* */
    size_t pos;         /* position in the snapshot's array of that kind */
    hoist_arena arena;  /* the decoded object's memory (its own, so a delete or
                           an update frees it at once) */
    bool bound;         /* the pod's spec.nodeName is set */
    char *nominated;    /* node the pod is nominated to (malloc), or NULL */
    size_t nom_pos;     /* position in c->nominated while nominated */
    json_t *pending;    /* a pending pod's object as applied (a reference), when its
                           event let the store keep it: a bind copies it instead of
                           parsing the text; NULL otherwise */
    size_t next_free;   /* free slots: the next one */
};

/* ---- kinds ------------------------------------------------------------- */

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* K_* of a kind name, or -1 for kinds hoist does not decode. */
static int kind_of(const char *kind)
{
    static const struct {
        const char *name;
        int kind;
    } kinds[] = {
        {"Pod", K_POD},
        {"Node", K_NODE},
        {"NodePool", K_NODEPOOL},
        {"PersistentVolume", K_PV},
        {"PersistentVolumeClaim", K_PVC},
        {"StorageClass", K_STORAGE_CLASS},
        {"DaemonSet", K_DAEMONSET},
        {"PodDisruptionBudget", K_PDB},
        {"Namespace", K_NAMESPACE},
    };
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(kind, kinds[i].name) == 0)
            return kinds[i].kind;
    return ends_with(kind, "NodeClass") ? K_NODECLASS : -1;
}

static bool is_namespaced(int k)
{
    return k == K_POD || k == K_PVC || k == K_DAEMONSET || k == K_PDB;
}

/* Number of objects in the snapshot's array of kind k. */
static size_t *kind_count(hoist_objects *o, int k)
{
    switch (k) {
    case K_POD: return &o->n_pods;
    case K_NODE: return &o->n_nodes;
    case K_NODEPOOL: return &o->n_nodepools;
    case K_NODECLASS: return &o->n_nodeclasses;
    case K_PV: return &o->n_pvs;
    case K_PVC: return &o->n_pvcs;
    case K_STORAGE_CLASS: return &o->n_storage_classes;
    case K_DAEMONSET: return &o->n_daemonsets;
    case K_PDB: return &o->n_pdbs;
    default: return &o->n_namespaces;
    }
}

/* Move the last element of kind k's array to pos and shrink it by one. */
static void array_swap_remove(hoist_objects *o, int k, size_t pos)
{
#define SWAP_REMOVE(field) (o->field[pos] = o->field[--o->n_##field])
    switch (k) {
    case K_POD: SWAP_REMOVE(pods); break;
    case K_NODE: SWAP_REMOVE(nodes); break;
    case K_NODEPOOL: SWAP_REMOVE(nodepools); break;
    case K_NODECLASS: SWAP_REMOVE(nodeclasses); break;
    case K_PV: SWAP_REMOVE(pvs); break;
    case K_PVC: SWAP_REMOVE(pvcs); break;
    case K_STORAGE_CLASS: SWAP_REMOVE(storage_classes); break;
    case K_DAEMONSET: SWAP_REMOVE(daemonsets); break;
    case K_PDB: SWAP_REMOVE(pdbs); break;
    default: SWAP_REMOVE(namespaces); break;
    }
#undef SWAP_REMOVE
}

/* ---- keys and the index ------------------------------------------------ */

/* Build "kind\x1fns/name" (ns NULL: "kind\x1fname") into buf when it fits,
 * else into malloc'd memory. NULL when out of memory; free the result when
 * it is not buf. */
static char *key_build(char *buf, size_t cap, const char *kind, const char *ns, const char *name)
{
    size_t kl = strlen(kind), nsl = ns ? strlen(ns) + 1 : 0, nl = strlen(name);
    size_t len = kl + 1 + nsl + nl + 1;
    char *k = len <= cap ? buf : malloc(len);
    if (!k)
        return NULL;
    char *w = k;
    memcpy(w, kind, kl);
    w += kl;
    *w++ = '\x1f';
    if (ns) {
        memcpy(w, ns, nsl - 1);
        w += nsl - 1;
        *w++ = '/';
    }
    memcpy(w, name, nl + 1);
    return k;
}

static void key_release(char *key, const char *buf)
{
    if (key != buf)
        free(key);
}

/* Entry position of key, or NO_ENTRY. */
static size_t index_find(const hoist_cluster *c, const char *key, uint64_t h)
{
    if (c->index_cap == 0)
        return NO_ENTRY;
    size_t mask = c->index_cap - 1;
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        size_t v = c->index[i];
        if (v == 0)
            return NO_ENTRY;
        const hoist_cluster_entry *e = &c->entries[v - 1];
        if (e->hash == h && strcmp(e->key, key) == 0)
            return v - 1;
    }
}

/* Put entry pos (not yet in the index) into a table with room. */
static void index_place(size_t *slots, size_t cap, uint64_t h, size_t pos)
{
    size_t mask = cap - 1, i = (size_t)h & mask;
    while (slots[i])
        i = (i + 1) & mask;
    slots[i] = pos + 1;
}

/* Room for one more key (load at most 3/4). 0 or -1. */
static int index_reserve(hoist_cluster *c)
{
    if ((c->n_live + 1) * 4 <= c->index_cap * 3)
        return 0;
    size_t cap = c->index_cap ? c->index_cap * 2 : 64;
    size_t *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t i = 0; i < c->index_cap; i++)
        if (c->index[i])
            index_place(slots, cap, c->entries[c->index[i] - 1].hash, c->index[i] - 1);
    free(c->index);
    c->index = slots;
    c->index_cap = cap;
    return 0;
}

/* Remove entry pos from the index, shifting back the entries after it. */
static void index_remove(hoist_cluster *c, size_t pos)
{
    size_t mask = c->index_cap - 1;
    size_t i = (size_t)c->entries[pos].hash & mask;
    while (c->index[i] != pos + 1)
        i = (i + 1) & mask;
    for (size_t j = (i + 1) & mask; c->index[j]; j = (j + 1) & mask) {
        size_t home = (size_t)c->entries[c->index[j] - 1].hash & mask;
        /* Move j into the hole at i unless its home lies cyclically in (i, j]. */
        bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!stays) {
            c->index[i] = c->index[j];
            i = j;
        }
    }
    c->index[i] = 0;
}

/* ---- entries ----------------------------------------------------------- */

/* A free entry slot (zeroed), or NO_ENTRY when out of memory. */
static size_t entry_new(hoist_cluster *c)
{
    size_t pos;
    if (c->free_entry != NO_ENTRY) {
        pos = c->free_entry;
        c->free_entry = c->entries[pos].next_free;
    } else {
        if (c->n_entries == c->cap_entries) {
            size_t cap = c->cap_entries ? c->cap_entries * 2 : 64;
            hoist_cluster_entry *e = realloc(c->entries, cap * sizeof *e);
            if (!e)
                return NO_ENTRY;
            c->entries = e;
            c->cap_entries = cap;
        }
        pos = c->n_entries++;
    }
    memset(&c->entries[pos], 0, sizeof c->entries[pos]);
    return pos;
}

static void entry_release(hoist_cluster *c, size_t pos)
{
    hoist_cluster_entry *e = &c->entries[pos];
    hoist_arena_free(&e->arena);
    free(e->key);
    free(e->text);
    free(e->nominated);
    json_decref(e->pending);
    memset(e, 0, sizeof *e);
    e->next_free = c->free_entry;
    c->free_entry = pos;
}

/* Room for one more element in owners[k]. 0 or -1. */
static int owners_reserve(hoist_cluster *c, int k)
{
    size_t n = *kind_count(&c->objects, k);
    if (n < c->cap_owners[k])
        return 0;
    size_t cap = c->cap_owners[k] ? c->cap_owners[k] * 2 : 16;
    size_t *p = realloc(c->owners[k], cap * sizeof *p);
    if (!p)
        return -1;
    c->owners[k] = p;
    c->cap_owners[k] = cap;
    return 0;
}

/* Drop the snapshot object of entry pos from its array and free its memory
 * (the entry stays). Its pod, if any, must no longer be in the usage index. */
static void drop_object(hoist_cluster *c, size_t pos)
{
    hoist_cluster_entry *e = &c->entries[pos];
    int k = e->kind;
    size_t at = e->pos, last = *kind_count(&c->objects, k) - 1;
    array_swap_remove(&c->objects, k, at);
    c->owners[k][at] = c->owners[k][last];
    c->entries[c->owners[k][at]].pos = at;
    c->live_bytes -= e->arena.allocated;
    hoist_arena_free(&e->arena);
}

/* ---- nominations ------------------------------------------------------- */

static hoist_pod *entry_pod(hoist_cluster *c, size_t pos)
{
    return c->objects.pods[c->entries[pos].pos];
}

/* Count entry pos's pod (live, kind Pod) as it now is in the usage index. */
static void usage_sync(hoist_cluster *c, size_t pos)
{
    if (!c->usage_stale && hoist_usage_track(&c->usage, pos, entry_pod(c, pos)) < 0)
        c->usage_stale = true;
}

/* Rebuild the usage index from every live pod. False when out of memory. */
static bool usage_rebuild(hoist_cluster *c)
{
    hoist_usage_reset(&c->usage);
    for (size_t i = 0; i < c->objects.n_pods; i++)
        if (hoist_usage_track(&c->usage, c->owners[K_POD][i], c->objects.pods[i]) < 0) {
            hoist_usage_reset(&c->usage);
            return false;
        }
    return true;
}

/* Record entry pos (a pending pod whose nominated string is set) in the list
 * and show it in the snapshot. 0 or -1. */
static int nomination_list(hoist_cluster *c, size_t pos)
{
    if (c->n_nominated == c->cap_nominated) {
        size_t cap = c->cap_nominated ? c->cap_nominated * 2 : 64;
        size_t *p = realloc(c->nominated, cap * sizeof *p);
        if (!p)
            return -1;
        c->nominated = p;
        c->cap_nominated = cap;
    }
    c->entries[pos].nom_pos = c->n_nominated;
    c->nominated[c->n_nominated++] = pos;
    return 0;
}

/* End entry pos's nomination (if any): the pod shows pending again. */
static bool nomination_end(hoist_cluster *c, size_t pos)
{
    hoist_cluster_entry *e = &c->entries[pos];
    if (!e->nominated)
        return false;
    size_t at = e->nom_pos;
    c->nominated[at] = c->nominated[--c->n_nominated];
    c->entries[c->nominated[at]].nom_pos = at;
    if (e->kind == K_POD && !e->bound && e->key) {
        entry_pod(c, pos)->node_name = NULL;
        usage_sync(c, pos);
    }
    free(e->nominated);
    e->nominated = NULL;
    return true;
}

/* ---- decoding ---------------------------------------------------------- */

/* Remove the "event: " prefix hoist_objects_add_json puts before messages. */
static void strip_source(hoist_err *err)
{
    static const char prefix[] = SOURCE_NAME ": ";
    if (err && strncmp(err->msg, prefix, sizeof prefix - 1) == 0)
        memmove(err->msg, err->msg + sizeof prefix - 1,
                strlen(err->msg + sizeof prefix - 1) + 1);
}

/* Small blocks: one object's decode takes a few KiB. */
#define OBJECT_ARENA_BLOCK 1024

/* Decode obj into objects (in which owners[k] has room) as the last element
 * of kind k's array, in an arena of its own (*arena; nothing to free when
 * refused). 0 or -1 with err. */
static int decode(hoist_objects *o, const json_t *obj, int k, hoist_arena *arena, hoist_err *err)
{
    hoist_source src = {SOURCE_NAME, 0, 0};
    size_t n = *kind_count(o, k);
    /* the decoder allocates in o->arena: lend it the object's own */
    hoist_arena shared = o->arena;
    hoist_arena_init(&o->arena, OBJECT_ARENA_BLOCK);
    int rc = hoist_objects_add_json(o, obj, &src, err);
    *arena = o->arena;
    o->arena = shared;
    if (rc == 0 && *kind_count(o, k) != n + 1) {
        /* cannot happen: the kind was checked before */
        *kind_count(o, k) = n;
        hoist_errf(err, "internal error: object not decoded as its kind");
        rc = -1;
    }
    if (rc < 0) {
        strip_source(err);
        hoist_arena_free(arena);
        return -1;
    }
    return 0;
}

/* The compact JSON text of obj (malloc'd), or NULL when out of memory:
 * json_dumps' bytes, written faster (util/jsontext.h). */
static char *dump(const json_t *obj)
{
    return hoist_json_compact(obj);
}

static int oom(hoist_cluster *c, hoist_err *err)
{
    c->stats.rejected++;
    return hoist_errf(err, "out of memory");
}

/* Kind, namespace and name of an event's object. A missing kind gives
 * default_kind (NULL: required). 0, or -1 with err naming the field. */
static int identify(const json_t *obj, const char *default_kind, const char **kind,
                    const char **ns, const char **name, hoist_err *err)
{
    if (!json_is_object(obj))
        return hoist_errf(err, "object: expected an object");
    json_t *jk = json_object_get(obj, "kind"), *meta = json_object_get(obj, "metadata");
    json_t *jn = json_is_object(meta) ? json_object_get(meta, "name") : NULL;
    json_t *jns = json_is_object(meta) ? json_object_get(meta, "namespace") : NULL;
    *name = json_is_string(jn) && *json_string_value(jn) ? json_string_value(jn) : NULL;
    *ns = json_is_string(jns) && *json_string_value(jns) ? json_string_value(jns) : NULL;
    const char *who = *name ? *name : "(unnamed)";
    if (jk && !json_is_null(jk) && !json_is_string(jk))
        return hoist_errf(err, "object %s: kind: expected a string", who);
    *kind = json_is_string(jk) && *json_string_value(jk) ? json_string_value(jk) : default_kind;
    if (!*kind)
        return hoist_errf(err, "object %s: kind: required", who);
    if (!json_is_object(meta))
        return hoist_errf(err, "%s: metadata: %s", *kind,
                          meta && !json_is_null(meta) ? "expected an object" : "required");
    if (!*name)
        return hoist_errf(err, "%s: metadata.name: %s", *kind,
                          jn && !json_is_null(jn) && !json_is_string(jn) ? "expected a string"
                                                                         : "required");
    return 0;
}

/* ---- the store --------------------------------------------------------- */

void hoist_cluster_init(hoist_cluster *c)
{
    memset(c, 0, sizeof *c);
    hoist_objects_init(&c->objects);
    hoist_usage_init(&c->usage);
    c->objects.usage = &c->usage;
    c->free_entry = NO_ENTRY;
}

void hoist_cluster_free(hoist_cluster *c)
{
    for (size_t i = 0; i < c->n_entries; i++) {
        hoist_arena_free(&c->entries[i].arena);
        free(c->entries[i].key);
        free(c->entries[i].text);
        free(c->entries[i].nominated);
        json_decref(c->entries[i].pending);
    }
    free(c->entries);
    free(c->index);
    free(c->nominated);
    for (int k = 0; k < HOIST_CLUSTER_N_KINDS; k++)
        free(c->owners[k]);
    hoist_usage_free(&c->usage);
    hoist_objects_free(&c->objects);
    uint64_t serial = c->last_node_serial; /* serials are never reused */
    hoist_cluster_init(c);
    c->last_node_serial = serial;
}

/* Entry of kind k's key, or NO_ENTRY. */
static size_t lookup(const hoist_cluster *c, const char *kind, int k, const char *ns,
                     const char *name)
{
    if (!name)
        return NO_ENTRY;
    if (is_namespaced(k))
        ns = ns && *ns ? ns : "default";
    else
        ns = NULL;
    char buf[512];
    char *key = key_build(buf, sizeof buf, kind, ns, name);
    if (!key)
        return NO_ENTRY;
    size_t pos = index_find(c, key, hoist_hash_str(key, NULL));
    key_release(key, buf);
    return pos;
}

static int apply_delete(hoist_cluster *c, const json_t *obj, hoist_err *err)
{
    const char *kind, *ns, *name;
    if (identify(obj, "Pod", &kind, &ns, &name, err) < 0) {
        c->stats.rejected++;
        return hoist_err_prefix(err, "delete");
    }
    int k = kind_of(kind);
    if (k < 0) {
        c->stats.ignored++;
        c->stats.applied++;
        return 0;
    }
    size_t pos = lookup(c, kind, k, ns, name);
    c->stats.applied++;
    if (pos == NO_ENTRY)
        return 0;
    nomination_end(c, pos);
    if (k == K_POD)
        hoist_usage_forget(&c->usage, pos);
    drop_object(c, pos);
    index_remove(c, pos);
    c->n_live--;
    entry_release(c, pos);
    return 1;
}

/* Add or replace an object whose kind k, key and text are known. Takes text.
 * keep: the caller never changes obj afterwards (a pending pod's object may
 * be kept). */
static int put(hoist_cluster *c, const json_t *obj, int k, const char *kind, const char *ns,
               const char *name, char *text, bool keep, hoist_err *err)
{
    char buf[512];
    char *key = key_build(buf, sizeof buf, kind, is_namespaced(k) ? (ns ? ns : "default") : NULL,
                          name);
    if (!key) {
        free(text);
        return oom(c, err);
    }
    uint64_t h = hoist_hash_str(key, NULL);
    size_t pos = index_find(c, key, h);
    if (pos != NO_ENTRY && strcmp(c->entries[pos].text, text) == 0) {
        /* the same version again (a resync): nothing changes */
        key_release(key, buf);
        free(text);
        c->stats.applied++;
        return 0;
    }
    /* A new object's key is kept by its entry. */
    char *owned_key = NULL;
    if (pos == NO_ENTRY)
        owned_key = key == buf ? strdup(key) : key;
    else
        key_release(key, buf);
    key = NULL;
    hoist_arena arena;
    if ((pos == NO_ENTRY && !owned_key) || owners_reserve(c, k) < 0 ||
        (pos == NO_ENTRY && index_reserve(c) < 0)) {
        free(owned_key);
        free(text);
        return oom(c, err);
    }
    if (decode(&c->objects, obj, k, &arena, err) < 0) {
        free(owned_key);
        free(text);
        c->stats.rejected++;
        return -1;
    }
    size_t at = *kind_count(&c->objects, k) - 1;
    hoist_pod *pod = k == K_POD ? c->objects.pods[at] : NULL;
    if (k == K_NODE)
        c->objects.nodes[at]->serial = ++c->last_node_serial;
    if (pos == NO_ENTRY) {
        pos = entry_new(c);
        if (pos == NO_ENTRY) {
            (*kind_count(&c->objects, k))--;
            hoist_arena_free(&arena);
            free(owned_key);
            free(text);
            return oom(c, err);
        }
        hoist_cluster_entry *e = &c->entries[pos];
        e->key = owned_key;
        e->hash = h;
        e->kind = k;
        e->pos = at;
        c->owners[k][at] = pos;
        index_place(c->index, c->index_cap, h, pos);
        c->n_live++;
    } else {
        free(c->entries[pos].text);
        c->entries[pos].text = NULL;
        /* The new version is the last element: dropping the old one moves it
         * into the old one's place, and drop_object points the entry there. */
        c->owners[k][at] = pos;
        if (k == K_POD) /* the index reads the old pod: before it is freed */
            hoist_usage_forget(&c->usage, pos);
        drop_object(c, pos);
    }
    hoist_cluster_entry *e = &c->entries[pos];
    e->text = text;
    e->arena = arena;
    json_decref(e->pending);
    e->pending = NULL;
    c->live_bytes += arena.allocated;
    e->bound = pod && pod->node_name;
    if (e->nominated) {
        if (e->bound)
            nomination_end(c, pos);
        else
            pod->node_name = e->nominated;
    }
    if (pod)
        usage_sync(c, pos);
    if (pod && keep && !e->bound)
        e->pending = json_incref((json_t *)obj); /* never changed: see hoist_object_event */
    c->stats.applied++;
    return 1;
}

int hoist_cluster_apply(hoist_cluster *c, const hoist_object_event *ev, hoist_err *err)
{
    if (!ev || !ev->object) {
        c->stats.rejected++;
        return hoist_errf(err, "event: no object");
    }
    if (ev->op == HOIST_OBJECT_DELETE)
        return apply_delete(c, ev->object, err);
    if (ev->op != HOIST_OBJECT_ADD && ev->op != HOIST_OBJECT_UPDATE) {
        c->stats.rejected++;
        return hoist_errf(err, "event: unknown operation %d", (int)ev->op);
    }
    const char *kind, *ns, *name;
    if (identify(ev->object, NULL, &kind, &ns, &name, err) < 0) {
        c->stats.rejected++;
        return -1;
    }
    int k = kind_of(kind);
    if (k < 0) {
        c->stats.ignored++;
        c->stats.applied++;
        return 0;
    }
    char *text = ev->text ? strdup(ev->text) : dump(ev->object);
    if (!text)
        return oom(c, err);
    return put(c, ev->object, k, kind, ns, name, text, ev->keep, err);
}

hoist_objects *hoist_cluster_objects(hoist_cluster *c)
{
    if (c->usage_stale)
        c->usage_stale = !usage_rebuild(c);
    c->objects.usage = c->usage_stale ? NULL : &c->usage;
    return &c->objects;
}

size_t hoist_cluster_size(const hoist_cluster *c)
{
    return c->n_live;
}

/* ---- nominations and binding ------------------------------------------- */

int hoist_cluster_nominate(hoist_cluster *c, const char *ns, const char *name, const char *node)
{
    size_t pos = lookup(c, "Pod", K_POD, ns, name);
    if (pos == NO_ENTRY || c->entries[pos].bound || !node)
        return 1;
    hoist_cluster_entry *e = &c->entries[pos];
    if (e->nominated && strcmp(e->nominated, node) == 0)
        return 0;
    char *copy = strdup(node);
    if (!copy)
        return -1;
    if (e->nominated) {
        free(e->nominated);
    } else if (nomination_list(c, pos) < 0) {
        free(copy);
        return -1;
    }
    e->nominated = copy;
    entry_pod(c, pos)->node_name = copy;
    usage_sync(c, pos);
    return 0;
}

bool hoist_cluster_clear_nomination(hoist_cluster *c, const char *ns, const char *name)
{
    size_t pos = lookup(c, "Pod", K_POD, ns, name);
    return pos != NO_ENTRY && nomination_end(c, pos);
}

const char *hoist_cluster_nominated(const hoist_cluster *c, const char *ns, const char *name)
{
    size_t pos = lookup(c, "Pod", K_POD, ns, name);
    return pos == NO_ENTRY ? NULL : c->entries[pos].nominated;
}

size_t hoist_cluster_clear_nominations_to(hoist_cluster *c, const char *node)
{
    size_t n = 0;
    for (size_t i = 0; node && i < c->n_nominated;) {
        size_t pos = c->nominated[i];
        if (strcmp(c->entries[pos].nominated, node) == 0) {
            nomination_end(c, pos); /* moves the last one to i */
            n++;
        } else {
            i++;
        }
    }
    return n;
}

/* obj[field] as an object, created when absent or not an object. NULL when
 * out of memory. */
static json_t *child_object(json_t *obj, const char *field)
{
    json_t *v = json_object_get(obj, field);
    if (json_is_object(v))
        return v;
    v = json_object();
    if (!v || json_object_set_new(obj, field, v) < 0)
        return NULL;
    return v;
}

/* A kept pending pod's object, ready for child_object to set spec.nodeName
 * and status.phase without touching the kept one: the top level, spec and
 * status are copied (shallow: the rest is shared, and nobody changes it),
 * each in its place, so the copy dumps as json_loads of the stored text
 * would. NULL when out of memory. */
static json_t *copy_for_bind(const json_t *kept)
{
    json_t *obj = json_copy((json_t *)kept);
    if (!obj)
        return NULL;
    static const char *const fields[] = {"spec", "status"};
    for (size_t i = 0; i < 2; i++) {
        json_t *v = json_object_get(obj, fields[i]);
        if (!json_is_object(v))
            continue; /* child_object replaces it */
        json_t *copy = json_copy(v);
        if (!copy || json_object_set_new(obj, fields[i], copy) < 0) {
            json_decref(obj);
            return NULL;
        }
    }
    return obj;
}

int hoist_cluster_bind(hoist_cluster *c, const char *ns, const char *name, const char *node)
{
    return hoist_cluster_bind_object(c, ns, name, node, NULL);
}

int hoist_cluster_bind_object(hoist_cluster *c, const char *ns, const char *name,
                              const char *node, json_t **bound)
{
    if (bound)
        *bound = NULL;
    size_t pos = lookup(c, "Pod", K_POD, ns, name);
    if (pos == NO_ENTRY || c->entries[pos].bound || !node)
        return 1;
    json_t *kept = c->entries[pos].pending;
    json_t *obj = kept ? copy_for_bind(kept) : json_loads(c->entries[pos].text, 0, NULL);
    if (!obj)
        return -1;
    json_t *spec = child_object(obj, "spec"), *status = child_object(obj, "status");
    if (!spec || !status || json_object_set_new(spec, "nodeName", json_string(node)) < 0 ||
        json_object_set_new(status, "phase", json_string("Running")) < 0) {
        json_decref(obj);
        return -1;
    }
    char *text = dump(obj);
    if (!text) {
        json_decref(obj);
        return -1;
    }
    const char *kind, *jns, *jname;
    hoist_err err;
    int rc = identify(obj, NULL, &kind, &jns, &jname, &err);
    if (rc == 0)
        rc = put(c, obj, K_POD, "Pod", jns, jname, text, false, &err);
    else
        free(text);
    if (rc >= 0 && bound)
        *bound = obj; /* the caller's now: it need not parse the text again */
    else
        json_decref(obj);
    return rc < 0 ? -1 : 0;
}

const char *hoist_cluster_text(const hoist_cluster *c, const char *kind, const char *ns,
                               const char *name)
{
    int k = kind ? kind_of(kind) : -1;
    if (k < 0)
        return NULL;
    size_t pos = lookup(c, kind, k, ns, name);
    return pos == NO_ENTRY ? NULL : c->entries[pos].text;
}

const hoist_pod *hoist_cluster_find_pod(const hoist_cluster *c, const char *ns, const char *name)
{
    size_t pos = lookup(c, "Pod", K_POD, ns, name);
    return pos == NO_ENTRY ? NULL : c->objects.pods[c->entries[pos].pos];
}

const hoist_node *hoist_cluster_find_node(const hoist_cluster *c, const char *name)
{
    size_t pos = lookup(c, "Node", K_NODE, NULL, name);
    return pos == NO_ENTRY ? NULL : c->objects.nodes[c->entries[pos].pos];
}

json_t *hoist_object_ref(const char *api_version, const char *kind, const char *ns,
                         const char *name)
{
    const char *api = api_version ? api_version : "v1";
    if (ns)
        return json_pack("{s:s, s:s, s:{s:s, s:s}}", "apiVersion", api, "kind", kind, "metadata",
                         "namespace", ns, "name", name);
    return json_pack("{s:s, s:s, s:{s:s}}", "apiVersion", api, "kind", kind, "metadata", "name",
                     name);
}
