/*
 * apiserver/resources.h - the resource types the simulated API server serves,
 * and the discovery and OpenAPI documents that describe them.
 *
 * The table is static and const: core/v1 pods, nodes, namespaces,
 * persistentvolumes, persistentvolumeclaims, events; policy/v1
 * poddisruptionbudgets; coordination.k8s.io/v1 leases; storage.k8s.io/v1
 * storageclasses; apps/v1 daemonsets; hoist.dev/v1 nodepools.
 */
#ifndef HOIST_APISERVER_RESOURCES_H
#define HOIST_APISERVER_RESOURCES_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

/* The Kubernetes version the server reports. */
#define HOIST_API_MAJOR "1"
#define HOIST_API_MINOR "32"
#define HOIST_API_GIT_VERSION "v1.32.0-hoist-sim"

typedef struct hoist_api_resource {
    int index;                 /* position in the table */
    const char *group;         /* "" for the core group */
    const char *version;       /* "v1" */
    const char *group_version; /* "v1", "apps/v1" */
    const char *plural;        /* "pods" */
    const char *singular;      /* "pod" */
    const char *kind;          /* "Pod" */
    bool namespaced;
    bool has_status;           /* a status subresource */
    const char *short_names[3];
    const char *const *fields; /* field selector keys beyond metadata.name/namespace */
} hoist_api_resource;

/* Number of resource types served. */
size_t hoist_api_resource_count(void);
/* Resource type i (0 <= i < count). */
const hoist_api_resource *hoist_api_resource_at(size_t i);
/* The type served at group/version/plural; NULL when there is none. */
const hoist_api_resource *hoist_api_resource_find(const char *group, const char *version,
                                                  const char *plural);
/* The type of a kind ("Pod") in an apiVersion ("v1", "apps/v1"); NULL if none. */
const hoist_api_resource *hoist_api_resource_by_kind(const char *api_version, const char *kind);
/* True when `field` may appear in a field selector on r. */
bool hoist_api_field_supported(const hoist_api_resource *r, const char *field);

/* Discovery documents (new references, the caller owns them):
 * /version; /api; /apis; /apis/<group>; /api/v1 or /apis/<group>/<version>.
 * The two last return NULL for an unknown group or version. */
json_t *hoist_api_version_doc(void);
json_t *hoist_api_versions_doc(const char *server_address);
json_t *hoist_api_group_list_doc(void);
json_t *hoist_api_group_doc(const char *group);
json_t *hoist_api_resource_list_doc(const char *group, const char *version);

/* OpenAPI v3: the index of group-version documents (/openapi/v3), and one
 * group-version's document (gv_path "api/v1" or "apis/apps/v1"; NULL when
 * unknown). Each declares, per kind, the paths and operations with their
 * x-kubernetes-group-version-kind and the fieldValidation parameter, so
 * kubectl leaves field validation to the server; schemas are open objects. */
json_t *hoist_api_openapi_v3_index(void);
json_t *hoist_api_openapi_v3_doc(const char *gv_path);

#endif
