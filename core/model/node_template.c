/*
 * model/node_template.c - the Node object of a machine (see node_template.h).
 */
#include "model/node_template.h"

#include <string.h>
#include <time.h>

#include "model/allocatable.h"
#include "model/catalog.h"
#include "model/instance.h"
#include "model/labels.h"

static int set_label(json_t *labels, const char *key, const char *value)
{
    return value ? json_object_set_new(labels, key, json_string(value)) : 0;
}

json_t *hoist_node_template_json(hoist_objects *o, const hoist_node_template *t, hoist_err *err)
{
    const hoist_nodepool *np = t->nodepool ? hoist_objects_find_nodepool(o, t->nodepool) : NULL;
    hoist_kubelet_config kc;
    memset(&kc, 0, sizeof kc);
    if (np)
        hoist_nodepool_kubelet(o, np, &kc);
    hoist_resources capacity, allocatable;
    if (hoist_instance_capacity(t->type, &kc, &o->names, &capacity, err) < 0)
        return NULL;
    hoist_allocatable(t->type, &kc, &capacity, NULL, &allocatable);

    json_t *labels = t->labels ? json_deep_copy(t->labels) : json_object();
    hoist_arena a;
    hoist_arena_init(&a, 0);
    hoist_labels il;
    json_t *ilj = NULL;
    if (!labels || hoist_instance_labels(&a, t->type, &il) < 0 ||
        !(ilj = hoist_labels_to_json(&il)) || json_object_update(labels, ilj) < 0 ||
        set_label(labels, HOIST_LABEL_ZONE, t->zone) < 0 ||
        set_label(labels, HOIST_LABEL_CAPACITY_TYPE, hoist_capacity_type_name(t->capacity_type)) <
            0 ||
        set_label(labels, HOIST_LABEL_INSTANCE_TYPE, t->type->name) < 0 ||
        set_label(labels, HOIST_LABEL_NODEPOOL, t->nodepool) < 0 ||
        set_label(labels, "kubernetes.io/hostname", t->name) < 0) {
        json_decref(ilj);
        json_decref(labels);
        hoist_arena_free(&a);
        hoist_errf(err, "node template: out of memory");
        return NULL;
    }
    json_decref(ilj);
    hoist_arena_free(&a);

    json_t *md = json_pack("{s:s, s:o}", "name", t->name, "labels", labels);
    json_t *spec = json_object();
    json_t *status = json_pack(
        "{s:o, s:o, s:[{s:s, s:s}]}", "capacity",
        hoist_resources_to_json(&o->names, &capacity, false), "allocatable",
        hoist_resources_to_json(&o->names, &allocatable, false), "conditions", "type", "Ready",
        "status", t->ready ? "True" : "False");
    json_t *node = json_pack("{s:s, s:s, s:o, s:o, s:o}", "apiVersion", "v1", "kind", "Node",
                             "metadata", md, "spec", spec, "status", status);
    if (!node)
        goto oom;
    if (t->annotations && json_object_set(md, "annotations", (json_t *)t->annotations) < 0)
        goto oom;
    if (t->created_s > 0) {
        char ts[32];
        time_t secs = (time_t)t->created_s;
        struct tm tm;
        gmtime_r(&secs, &tm);
        strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
        if (json_object_set_new(md, "creationTimestamp", json_string(ts)) < 0)
            goto oom;
    }
    if (t->taints && json_array_size(t->taints) > 0 &&
        json_object_set(spec, "taints", (json_t *)t->taints) < 0)
        goto oom;
    if (t->provider_id && json_object_set_new(spec, "providerID", json_string(t->provider_id)) < 0)
        goto oom;
    return node;
oom:
    json_decref(node);
    hoist_errf(err, "node template: out of memory");
    return NULL;
}
