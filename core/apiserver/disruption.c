/* apiserver/disruption.c - pods/eviction under PodDisruptionBudgets, and pods/binding. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/store.h"

static const char *str_at(const json_t *obj, const char *a, const char *b)
{
    return json_string_value(json_object_get(json_object_get(obj, a), b));
}

static bool pod_finished(const json_t *pod)
{
    const char *phase = str_at(pod, "status", "phase");
    return phase && (!strcmp(phase, "Succeeded") || !strcmp(phase, "Failed"));
}

static bool pod_bound(const json_t *pod)
{
    const char *node = str_at(pod, "spec", "nodeName");
    return node && *node;
}

static bool pod_terminating(const json_t *pod)
{
    return json_object_get(json_object_get(pod, "metadata"), "deletionTimestamp") != NULL;
}

static bool pod_healthy(const json_t *pod)
{
    if (!pod_bound(pod) || pod_finished(pod) || pod_terminating(pod))
        return false;
    json_t *conds = json_object_get(json_object_get(pod, "status"), "conditions");
    size_t i;
    json_t *c;
    json_array_foreach(conds, i, c) {
        const char *type = json_string_value(json_object_get(c, "type"));
        if (type && !strcmp(type, "Ready")) {
            const char *st = json_string_value(json_object_get(c, "status"));
            return st && !strcmp(st, "True");
        }
    }
    const char *phase = str_at(pod, "status", "phase");
    return phase && !strcmp(phase, "Running");
}

/* An IntOrString: an integer, or "N%" of total rounded up. -1 when malformed. */
static long int_or_percent(const json_t *v, long total)
{
    if (json_is_integer(v))
        return json_integer_value(v) < 0 ? -1 : (long)json_integer_value(v);
    const char *s = json_string_value(v);
    if (!s)
        return -1;
    char *end = NULL;
    errno = 0;
    long pct = strtol(s, &end, 10);
    if (errno || end == s || strcmp(end, "%") != 0 || pct < 0 || pct > 100)
        return -1;
    return (long)ceil((double)total * (double)pct / 100.0);
}

int hoist_apistore_evict(hoist_apistore *s, const char *ns, const char *name, hoist_apierr *err)
{
    const hoist_api_resource *pods = hoist_api_resource_find("", "v1", "pods");
    const hoist_api_resource *pdbs = hoist_api_resource_find("policy", "v1",
                                                             "poddisruptionbudgets");
    json_t *pod = hoist_apistore_get(s, pods, ns, name);
    if (!pod) {
        hoist_apierr_set(err, 404, "NotFound", "pods \"%s\" not found", name);
        snprintf(err->name, sizeof err->name, "%s", name);
        snprintf(err->kind, sizeof err->kind, "pods");
        return -1;
    }
    json_t *labels = json_object_get(json_object_get(pod, "metadata"), "labels");
    /* a pod already terminating is not held back again (as the API does) */
    bool check = pod_bound(pod) && !pod_finished(pod) && !pod_terminating(pod);
    json_t *budget = NULL;
    hoist_selector budget_sel = {0};
    if (check) {
        json_t *list = hoist_apistore_list(s, pdbs, ns, NULL, NULL, 0, NULL, err);
        if (!list)
            return -1;
        size_t i;
        json_t *pdb;
        json_array_foreach(json_object_get(list, "items"), i, pdb) {
            hoist_selector sel;
            if (hoist_selector_from_labelselector(json_object_get(json_object_get(pdb, "spec"),
                                                         "selector"), &sel, NULL) != 0) {
                hoist_selector_free(&sel);
                continue; /* a budget with a broken selector selects nothing */
            }
            if (hoist_selector_match_labels(&sel, labels)) {
                if (budget) {
                    hoist_selector_free(&sel);
                    hoist_selector_free(&budget_sel);
                    json_decref(budget);
                    json_decref(list);
                    hoist_apierr_set(err, 500, "InternalError",
                                     "This pod has more than one PodDisruptionBudget, which the "
                                     "eviction subresource does not support.");
                    return -1;
                }
                budget = json_incref(pdb);
                budget_sel = sel;
            } else {
                hoist_selector_free(&sel);
            }
        }
        json_decref(list);
    }
    if (budget) {
        json_t *matching = hoist_apistore_list(s, pods, ns, &budget_sel, NULL, 0, NULL, err);
        hoist_selector_free(&budget_sel);
        if (!matching) {
            json_decref(budget);
            return -1;
        }
        long expected = 0, healthy = 0;
        size_t i;
        json_t *p;
        json_array_foreach(json_object_get(matching, "items"), i, p) {
            if (pod_finished(p))
                continue;
            expected++;
            healthy += pod_healthy(p) ? 1 : 0;
        }
        json_decref(matching);
        /* Without controllers, the pods that should exist are what the
         * budget's status says (a simulated workload controller writes it),
         * else the pods that match now. */
        json_t *exp = json_object_get(json_object_get(budget, "status"), "expectedPods");
        if (json_is_integer(exp) && json_integer_value(exp) > expected)
            expected = (long)json_integer_value(exp);
        json_t *spec = json_object_get(budget, "spec");
        json_t *min = json_object_get(spec, "minAvailable");
        json_t *max = json_object_get(spec, "maxUnavailable");
        long desired = 0;
        if (min && !json_is_null(min)) {
            desired = int_or_percent(min, expected);
        } else if (max && !json_is_null(max)) {
            long m = int_or_percent(max, expected);
            desired = m < 0 ? -1 : (expected - m > 0 ? expected - m : 0);
        }
        const char *bname = str_at(budget, "metadata", "name");
        if (desired < 0) {
            hoist_apierr_set(err, 500, "InternalError",
                             "PodDisruptionBudget %s: minAvailable/maxUnavailable is not an "
                             "integer or a percentage", bname ? bname : "");
            json_decref(budget);
            return -1;
        }
        bool ok = pod_healthy(pod) ? healthy - desired >= 1 : healthy >= desired;
        if (!ok) {
            hoist_apierr_set(err, 429, "TooManyRequests",
                             "Cannot evict pod as it would violate the pod's disruption budget.");
            snprintf(err->cause_reason, sizeof err->cause_reason, "DisruptionBudget");
            snprintf(err->cause, sizeof err->cause,
                     "The disruption budget %s needs %ld healthy pods and has %ld currently",
                     bname ? bname : "", desired, healthy);
            json_decref(budget);
            return -1;
        }
        json_decref(budget);
    }
    /* an eviction is a graceful deletion: the pod terminates, then goes */
    json_t *gone = hoist_apistore_delete(s, pods, ns, name, NULL, HOIST_APISTORE_GRACE_DEFAULT,
                                         err);
    if (!gone)
        return -1;
    json_decref(gone);
    return 0;
}

json_t *hoist_apistore_bind(hoist_apistore *s, const char *ns, const char *name,
                            const char *node, hoist_apierr *err)
{
    const hoist_api_resource *pods = hoist_api_resource_find("", "v1", "pods");
    json_t *pod = hoist_apistore_get(s, pods, ns, name);
    if (!pod) {
        hoist_apierr_set(err, 404, "NotFound", "pods \"%s\" not found", name);
        snprintf(err->name, sizeof err->name, "%s", name);
        snprintf(err->kind, sizeof err->kind, "pods");
        return NULL;
    }
    if (!node || !*node)
        return hoist_apierr_set(err, 400, "BadRequest", "target.name: Required value");
    const char *cur = str_at(pod, "spec", "nodeName");
    if (cur && *cur)
        return hoist_apierr_set(err, 409, "Conflict", "pod %s is already assigned to node \"%s\"",
                                name, cur);
    json_t *o = json_deep_copy(pod);
    json_t *spec = json_object_get(o, "spec");
    if (!json_is_object(spec)) {
        spec = json_object();
        json_object_set_new(o, "spec", spec);
    }
    json_object_set_new(spec, "nodeName", json_string(node));
    json_t *status = json_object_get(o, "status");
    if (!json_is_object(status)) {
        status = json_object();
        json_object_set_new(o, "status", status);
    }
    json_t *conds = json_object_get(status, "conditions");
    if (!json_is_array(conds)) {
        conds = json_array();
        json_object_set_new(status, "conditions", conds);
    }
    size_t i;
    json_t *c;
    json_array_foreach(conds, i, c) {
        const char *type = json_string_value(json_object_get(c, "type"));
        if (type && !strcmp(type, "PodScheduled")) {
            json_array_remove(conds, i);
            break;
        }
    }
    json_array_append_new(conds, json_pack("{s:s, s:s}", "type", "PodScheduled", "status",
                                           "True"));
    json_t *res = hoist_apistore_update(s, pods, ns, name, o, HOIST_API_ALL, err);
    json_decref(o);
    return res;
}
