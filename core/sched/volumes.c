/*
 * sched/volumes.c - volume topology: PV node affinity and StorageClass
 * allowedTopologies as node selectors, with the EBS CSI zone key read as
 * the standard zone key.
 */
#include "sched/volumes.h"

#include <stdbool.h>
#include <string.h>

#include "model/labels.h"
#include "model/requirements.h"

static bool same(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

const hoist_pv *hoist_pvc_bound_pv(const hoist_objects *o, const hoist_pvc *pvc)
{
    if (pvc->volume_name)
        return hoist_objects_find_pv(o, pvc->volume_name);
    for (size_t i = 0; i < o->n_pvs; i++) {
        const hoist_pv *pv = o->pvs[i];
        const char *ns = pv->claim_ns ? pv->claim_ns : "default";
        if (same(pv->claim_name, pvc->name) && same(ns, pvc->ns))
            return pv;
    }
    return NULL;
}

const hoist_storage_class *hoist_pvc_storage_class(const hoist_objects *o, const hoist_pvc *pvc)
{
    if (pvc->storage_class)
        return *pvc->storage_class ? hoist_objects_find_storage_class(o, pvc->storage_class)
                                   : NULL;
    const hoist_storage_class *def = NULL;
    for (size_t i = 0; i < o->n_storage_classes; i++)
        if (o->storage_classes[i]->is_default)
            def = o->storage_classes[i];
    return def;
}

static bool mentions_ebs_zone(const hoist_reqs *r)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->items[i].key, HOIST_LABEL_EBS_CSI_ZONE) == 0)
            return true;
    return false;
}

/* Copy `in` into out (arena a): empty terms dropped, the EBS zone key
 * renamed to the standard zone key and merged with it, contradictory terms
 * dropped. out->n may end up 0 (matches no node). Returns 0, or -1 when out
 * of memory. */
static int translate(hoist_arena *a, const hoist_node_selector *in, hoist_node_selector *out,
                     hoist_err *err)
{
    out->n = 0;
    out->terms = hoist_arena_calloc(a, in->n, sizeof *out->terms);
    if (!out->terms)
        return hoist_errf(err, "out of memory");
    static const hoist_reqs none = {0, NULL};
    for (size_t t = 0; t < in->n; t++) {
        const hoist_node_term *term = &in->terms[t];
        if (term->match_expressions.n == 0 && term->match_fields.n == 0)
            continue; /* an empty term matches no node */
        if (!mentions_ebs_zone(&term->match_expressions)) {
            out->terms[out->n++] = *term;
            continue;
        }
        size_t n = term->match_expressions.n;
        hoist_req *renamed = hoist_arena_calloc(a, n, sizeof *renamed);
        if (!renamed)
            return hoist_errf(err, "out of memory");
        memcpy(renamed, term->match_expressions.items, n * sizeof *renamed);
        for (size_t i = 0; i < n; i++)
            if (strcmp(renamed[i].key, HOIST_LABEL_EBS_CSI_ZONE) == 0)
                renamed[i].key = HOIST_LABEL_ZONE;
        hoist_reqs raw = {n, renamed};
        if (!hoist_reqs_compatible(&raw, &none))
            continue; /* e.g. zone In [a] and EBS zone In [b]: no node has both */
        hoist_node_term *dst = &out->terms[out->n];
        dst->match_fields = term->match_fields;
        if (hoist_reqs_intersect(a, &raw, &none, &dst->match_expressions, err) < 0)
            return -1;
        out->n++;
    }
    return 0;
}

int hoist_pod_volume_terms(const hoist_objects *o, const hoist_pod *pod, hoist_arena *a,
                           hoist_node_selector **out, size_t *n_out, hoist_err *err)
{
    *out = NULL;
    *n_out = 0;
    if (pod->claims.n == 0)
        return 0;
    hoist_node_selector *sel = hoist_arena_calloc(a, pod->claims.n, sizeof *sel);
    if (!sel)
        return hoist_errf(err, "Pod %s/%s: out of memory", pod->ns, pod->name);
    size_t n = 0;
    for (size_t c = 0; c < pod->claims.n; c++) {
        const char *claim = pod->claims.items[c];
        bool seen = false;
        for (size_t k = 0; k < c && !seen; k++)
            seen = strcmp(pod->claims.items[k], claim) == 0;
        if (seen)
            continue;
        const hoist_pvc *pvc = hoist_objects_find_pvc(o, pod->ns, claim);
        if (!pvc)
            return hoist_errf(err, "Pod %s/%s: PersistentVolumeClaim %s/%s not found", pod->ns,
                              pod->name, pod->ns, claim);

        const hoist_node_selector *topo = NULL;
        const char *what = NULL, *whose = NULL;
        const hoist_pv *pv = hoist_pvc_bound_pv(o, pvc);
        if (pvc->volume_name && !pv)
            return hoist_errf(err, "Pod %s/%s: PersistentVolumeClaim %s/%s: bound "
                                   "PersistentVolume %s not found",
                              pod->ns, pod->name, pvc->ns, pvc->name, pvc->volume_name);
        if (pv) {
            topo = &pv->node_affinity;
            what = "PersistentVolume";
            whose = pv->name;
        } else {
            const hoist_storage_class *sc = hoist_pvc_storage_class(o, pvc);
            if (!sc && pvc->storage_class && *pvc->storage_class)
                return hoist_errf(err, "Pod %s/%s: PersistentVolumeClaim %s/%s: StorageClass "
                                       "%s not found",
                                  pod->ns, pod->name, pvc->ns, pvc->name, pvc->storage_class);
            if (sc && sc->wait_for_first_consumer) {
                topo = &sc->allowed_topologies;
                what = "StorageClass";
                whose = sc->name;
            }
        }
        if (!topo || topo->n == 0)
            continue;
        if (translate(a, topo, &sel[n], err) < 0)
            return hoist_err_prefix(err, "Pod %s/%s: PersistentVolumeClaim %s/%s", pod->ns,
                                    pod->name, pvc->ns, pvc->name);
        if (sel[n].n == 0)
            return hoist_errf(err, "Pod %s/%s: PersistentVolumeClaim %s/%s: %s %s: %s matches "
                                   "no node",
                              pod->ns, pod->name, pvc->ns, pvc->name, what, whose,
                              pv ? "spec.nodeAffinity.required" : "allowedTopologies");
        n++;
    }
    *out = n ? sel : NULL;
    *n_out = n;
    return 0;
}
