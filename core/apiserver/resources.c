/* apiserver/resources.c - the served resource types, discovery and OpenAPI. */
#include "apiserver/resources.h"

#include <stdio.h>
#include <string.h>

static const char *const pod_fields[] = {
    "spec.nodeName", "spec.schedulerName", "spec.restartPolicy", "spec.serviceAccountName",
    "status.phase", "status.podIP", "status.nominatedNodeName", NULL};
static const char *const node_fields[] = {"spec.unschedulable", NULL};
static const char *const ns_fields[] = {"status.phase", NULL};
static const char *const event_fields[] = {
    "involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
    "involvedObject.uid", "involvedObject.apiVersion", "involvedObject.resourceVersion",
    "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type", NULL};
static const char *const pvc_fields[] = {NULL};

#define R(idx, g, v, gv, pl, sing, kind, nsd, status, fields, ...)                       \
    {idx, g, v, gv, pl, sing, kind, nsd, status, {__VA_ARGS__}, fields}

static const hoist_api_resource resources[] = {
    R(0, "", "v1", "v1", "pods", "pod", "Pod", true, true, pod_fields, "po"),
    R(1, "", "v1", "v1", "nodes", "node", "Node", false, true, node_fields, "no"),
    R(2, "", "v1", "v1", "namespaces", "namespace", "Namespace", false, true, ns_fields, "ns"),
    R(3, "", "v1", "v1", "persistentvolumes", "persistentvolume", "PersistentVolume", false, true,
      pvc_fields, "pv"),
    R(4, "", "v1", "v1", "persistentvolumeclaims", "persistentvolumeclaim",
      "PersistentVolumeClaim", true, true, pvc_fields, "pvc"),
    R(5, "", "v1", "v1", "events", "event", "Event", true, false, event_fields, "ev"),
    R(6, "policy", "v1", "policy/v1", "poddisruptionbudgets", "poddisruptionbudget",
      "PodDisruptionBudget", true, true, pvc_fields, "pdb"),
    R(7, "coordination.k8s.io", "v1", "coordination.k8s.io/v1", "leases", "lease", "Lease",
      true, false, pvc_fields, NULL),
    R(8, "storage.k8s.io", "v1", "storage.k8s.io/v1", "storageclasses", "storageclass",
      "StorageClass", false, false, pvc_fields, "sc"),
    R(9, "apps", "v1", "apps/v1", "daemonsets", "daemonset", "DaemonSet", true, true, pvc_fields,
      "ds"),
    R(10, "hoist.dev", "v1", "hoist.dev/v1", "nodepools", "nodepool", "NodePool", false, true,
      pvc_fields, NULL),
};
#define N_RESOURCES (sizeof resources / sizeof resources[0])

/* Groups in discovery order (the core group is served under /api). */
static const char *const groups[] = {"apps", "policy", "coordination.k8s.io", "storage.k8s.io",
                                     "hoist.dev"};
#define N_GROUPS (sizeof groups / sizeof groups[0])

size_t hoist_api_resource_count(void)
{
    return N_RESOURCES;
}

const hoist_api_resource *hoist_api_resource_at(size_t i)
{
    return i < N_RESOURCES ? &resources[i] : NULL;
}

const hoist_api_resource *hoist_api_resource_find(const char *group, const char *version,
                                                  const char *plural)
{
    for (size_t i = 0; i < N_RESOURCES; i++) {
        const hoist_api_resource *r = &resources[i];
        if (!strcmp(r->group, group) && !strcmp(r->version, version) &&
            !strcmp(r->plural, plural))
            return r;
    }
    return NULL;
}

const hoist_api_resource *hoist_api_resource_by_kind(const char *api_version, const char *kind)
{
    for (size_t i = 0; i < N_RESOURCES; i++)
        if (!strcmp(resources[i].group_version, api_version) && !strcmp(resources[i].kind, kind))
            return &resources[i];
    return NULL;
}

bool hoist_api_field_supported(const hoist_api_resource *r, const char *field)
{
    if (!strcmp(field, "metadata.name") || (r->namespaced && !strcmp(field, "metadata.namespace")))
        return true;
    for (const char *const *f = r->fields; f && *f; f++)
        if (!strcmp(*f, field))
            return true;
    return false;
}

/* --- discovery ----------------------------------------------------------------- */

json_t *hoist_api_version_doc(void)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "major", HOIST_API_MAJOR,
                     "minor", HOIST_API_MINOR, "gitVersion", HOIST_API_GIT_VERSION, "gitCommit",
                     "0000000000000000000000000000000000000000", "gitTreeState", "clean",
                     "buildDate", "1970-01-01T00:00:00Z", "goVersion", "n/a", "compiler", "hoist",
                     "platform", "linux/amd64");
}

json_t *hoist_api_versions_doc(const char *server_address)
{
    return json_pack("{s:s, s:[s], s:[{s:s, s:s}]}", "kind", "APIVersions", "versions", "v1",
                     "serverAddressByClientCIDRs", "clientCIDR", "0.0.0.0/0", "serverAddress",
                     server_address ? server_address : "");
}

static json_t *group_entry(const char *group)
{
    char gv[128];
    snprintf(gv, sizeof gv, "%s/v1", group);
    return json_pack("{s:s, s:[{s:s, s:s}], s:{s:s, s:s}}", "name", group, "versions",
                     "groupVersion", gv, "version", "v1", "preferredVersion", "groupVersion", gv,
                     "version", "v1");
}

json_t *hoist_api_group_list_doc(void)
{
    json_t *list = json_array();
    for (size_t i = 0; i < N_GROUPS; i++)
        json_array_append_new(list, group_entry(groups[i]));
    return json_pack("{s:s, s:s, s:o}", "kind", "APIGroupList", "apiVersion", "v1", "groups",
                     list);
}

json_t *hoist_api_group_doc(const char *group)
{
    for (size_t i = 0; i < N_GROUPS; i++) {
        if (!strcmp(groups[i], group)) {
            json_t *g = group_entry(group);
            json_object_set_new(g, "kind", json_string("APIGroup"));
            json_object_set_new(g, "apiVersion", json_string("v1"));
            return g;
        }
    }
    return NULL;
}

static json_t *verbs(bool full)
{
    if (!full)
        return json_pack("[s,s,s]", "get", "patch", "update");
    return json_pack("[s,s,s,s,s,s,s,s]", "create", "delete", "deletecollection", "get", "list",
                     "patch", "update", "watch");
}

json_t *hoist_api_resource_list_doc(const char *group, const char *version)
{
    if (strcmp(version, "v1") != 0)
        return NULL;
    json_t *list = json_array();
    const char *gv = NULL;
    for (size_t i = 0; i < N_RESOURCES; i++) {
        const hoist_api_resource *r = &resources[i];
        if (strcmp(r->group, group) != 0)
            continue;
        gv = r->group_version;
        json_t *e = json_pack("{s:s, s:s, s:b, s:s, s:o}", "name", r->plural, "singularName",
                              r->singular, "namespaced", r->namespaced, "kind", r->kind, "verbs",
                              verbs(true));
        if (r->short_names[0]) {
            json_t *sn = json_array();
            for (size_t k = 0; k < 3 && r->short_names[k]; k++)
                json_array_append_new(sn, json_string(r->short_names[k]));
            json_object_set_new(e, "shortNames", sn);
        }
        if (i == 0 || i == 9)
            json_object_set_new(e, "categories", json_pack("[s]", "all"));
        json_array_append_new(list, e);
        char sub[128];
        if (r->has_status) {
            snprintf(sub, sizeof sub, "%s/status", r->plural);
            json_array_append_new(list, json_pack("{s:s, s:s, s:b, s:s, s:o}", "name", sub,
                                                  "singularName", "", "namespaced", r->namespaced,
                                                  "kind", r->kind, "verbs", verbs(false)));
        }
        if (i == 0) {
            json_array_append_new(list, json_pack("{s:s, s:s, s:b, s:s, s:[s]}", "name",
                                                  "pods/binding", "singularName", "",
                                                  "namespaced", true, "kind", "Binding", "verbs",
                                                  "create"));
            json_array_append_new(list, json_pack("{s:s, s:s, s:b, s:s, s:s, s:s, s:[s]}", "name",
                                                  "pods/eviction", "singularName", "",
                                                  "namespaced", true, "group", "policy",
                                                  "version", "v1", "kind", "Eviction", "verbs",
                                                  "create"));
        }
    }
    if (!gv) {
        json_decref(list);
        return NULL;
    }
    return json_pack("{s:s, s:s, s:s, s:o}", "kind", "APIResourceList", "apiVersion", "v1",
                     "groupVersion", gv, "resources", list);
}

/* --- OpenAPI v3 -------------------------------------------------------------- */

static void gv_path(const char *group, char *buf, size_t n)
{
    if (!*group)
        snprintf(buf, n, "api/v1");
    else
        snprintf(buf, n, "apis/%s/v1", group);
}

json_t *hoist_api_openapi_v3_index(void)
{
    json_t *paths = json_object();
    for (size_t i = 0; i < N_RESOURCES; i++) {
        char p[128], url[192];
        gv_path(resources[i].group, p, sizeof p);
        snprintf(url, sizeof url, "/openapi/v3/%s?hash=%s", p, HOIST_API_GIT_VERSION);
        json_object_set_new(paths, p, json_pack("{s:s}", "serverRelativeURL", url));
    }
    return json_pack("{s:o}", "paths", paths);
}

static json_t *operation(const hoist_api_resource *r, const char *id, bool patch)
{
    json_t *params = json_pack("[{s:s, s:s, s:{s:s}}, {s:s, s:s, s:{s:s}}]", "name",
                               "fieldValidation", "in", "query", "schema", "type", "string",
                               "name", "fieldManager", "in", "query", "schema", "type", "string");
    json_t *op = json_pack("{s:s, s:{s:s, s:s, s:s}, s:o, s:{s:{s:s}}}", "operationId", id,
                           "x-kubernetes-group-version-kind", "group", r->group, "version",
                           r->version, "kind", r->kind, "parameters", params, "responses", "200",
                           "description", "OK");
    if (patch) {
        /* Built-in kinds omit strategic-merge-patch+json here on purpose: kubectl
         * then computes its patches from the types compiled into it, which
         * know every list's merge key; for the NodePool CRD it uses a merge
         * patch, as it does against a real server. */
        json_object_set_new(op, "requestBody",
                            json_pack("{s:{s:{s:{s:s}}, s:{s:{s:s}}}}", "content",
                                      "application/merge-patch+json", "schema", "type", "object",
                                      "application/json-patch+json", "schema", "type", "object"));
    }
    return op;
}

json_t *hoist_api_openapi_v3_doc(const char *path)
{
    json_t *paths = json_object();
    bool any = false;
    for (size_t i = 0; i < N_RESOURCES; i++) {
        const hoist_api_resource *r = &resources[i];
        char p[128];
        gv_path(r->group, p, sizeof p);
        if (strcmp(p, path) != 0)
            continue;
        any = true;
        char coll[256], item[300], id[128];
        if (r->namespaced)
            snprintf(coll, sizeof coll, "/%s/namespaces/{namespace}/%s", p, r->plural);
        else
            snprintf(coll, sizeof coll, "/%s/%s", p, r->plural);
        snprintf(item, sizeof item, "%s/{name}", coll);
        snprintf(id, sizeof id, "create%s", r->kind);
        json_object_set_new(paths, coll, json_pack("{s:o}", "post", operation(r, id, false)));
        json_t *it = json_object();
        snprintf(id, sizeof id, "replace%s", r->kind);
        json_object_set_new(it, "put", operation(r, id, false));
        snprintf(id, sizeof id, "patch%s", r->kind);
        json_object_set_new(it, "patch", operation(r, id, true));
        json_object_set_new(paths, item, it);
    }
    if (!any) {
        json_decref(paths);
        return NULL;
    }
    return json_pack("{s:s, s:{s:s, s:s}, s:o, s:{s:{}}}", "openapi", "3.0.0", "info", "title",
                     "Kubernetes (hoist simulated API server)", "version", HOIST_API_GIT_VERSION,
                     "paths", paths, "components", "schemas");
}
