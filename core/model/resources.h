/*
 * model/resources.h - resource lists as dense vectors.
 *
 * A resource list is a fixed array of milli-unit amounts indexed by slot.
 * Slots 0-3 are cpu, memory, ephemeral-storage and pods; further slots are
 * extended resources (nvidia.com/gpu, hugepages-2Mi, ...) given out by a
 * hoist_resource_names table that the owner of a snapshot keeps. Dense
 * vectors make "does this fit" a loop of HOIST_RES_MAX compares, with no
 * string work in the packing hot path.
 */
#ifndef HOIST_MODEL_RESOURCES_H
#define HOIST_MODEL_RESOURCES_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include <hoist/types.h>

#include "model/quantity.h"
#include "util/error.h"

enum {
    HOIST_RES_CPU = 0,
    HOIST_RES_MEMORY,
    HOIST_RES_EPHEMERAL_STORAGE,
    HOIST_RES_PODS,
    HOIST_RES_N_STANDARD
};

/* Most distinct resource names one snapshot may use (standard + extended). */
#define HOIST_RES_MAX 16

typedef struct hoist_resources {
    hoist_milli v[HOIST_RES_MAX]; /* amount per slot, milli-units; 0 when absent */
} hoist_resources;

/* The slot table: slot -> resource name. Owns its strings. */
typedef struct hoist_resource_names {
    int count;                    /* slots in use, >= HOIST_RES_N_STANDARD */
    char *names[HOIST_RES_MAX];
} hoist_resource_names;

/* Fill the four standard slots. */
void hoist_resource_names_init(hoist_resource_names *t);
/* Free the extended names. */
void hoist_resource_names_free(hoist_resource_names *t);
/* Slot of `name`, adding it if new. -1 with a message when the table is full
 * or the name is not a valid Kubernetes resource name (see
 * hoist_resource_name_problem). */
int hoist_resource_names_intern(hoist_resource_names *t, const char *name, hoist_err *err);
/* Why `name` is not a valid resource name, or NULL. Valid: a qualified name
 * (as a label key) not starting with "requests."; without a domain only the
 * native names cpu, memory, ephemeral-storage, pods, storage,
 * hugepages-<quantity> and attachable-volumes-<x>; with a domain anything
 * outside kubernetes.io (e.g. nvidia.com/gpu). */
const char *hoist_resource_name_problem(const char *name);
/* Slot of `name`, or -1 if unknown. */
int hoist_resource_names_find(const hoist_resource_names *t, const char *name);

/* a += b, slot by slot (saturating at the int64 limits). */
void hoist_resources_add(hoist_resources *a, const hoist_resources *b);
/* a -= b, slot by slot (may go negative; callers check; saturating). */
void hoist_resources_sub(hoist_resources *a, const hoist_resources *b);
/* a = max(a, b), slot by slot. */
void hoist_resources_max(hoist_resources *a, const hoist_resources *b);
/* True when need[i] <= have[i] for every slot. */
bool hoist_resources_fit(const hoist_resources *need, const hoist_resources *have);
/* True when every slot is zero. */
bool hoist_resources_is_zero(const hoist_resources *r);

/* Decode a Kubernetes ResourceList JSON object ({"cpu": "2", "memory": "4Gi"})
 * into out (added to whatever out holds). Quantities may be strings or JSON
 * numbers (2, 0.5), as Kubernetes accepts both. Interns unknown names. Each
 * field name appears in the error message ("cpu: invalid quantity ...").
 * NULL or JSON null adds nothing. Returns 0, or -1 leaving out unchanged
 * (names interned before the failure stay interned). */
int hoist_resources_from_json(hoist_resource_names *t, const json_t *obj, hoist_resources *out,
                              hoist_err *err);
/* Encode as a ResourceList object with quantity strings (new reference, NULL
 * when out of memory), omitting zero slots (keep_zero_standard keeps
 * cpu/memory/ephemeral-storage/pods even when 0). Formats follow
 * hoist_resource_format. */
json_t *hoist_resources_to_json(const hoist_resource_names *t, const hoist_resources *r,
                                bool keep_zero_standard);

/* Decode one quantity given as a JSON string or number. 0, or -1 with the
 * reason in err (no field name; the caller prefixes it). */
int hoist_quantity_from_json(const json_t *j, hoist_quantity *out, hoist_err *err);
/* The format a resource prints in: binary SI for memory, ephemeral-storage,
 * storage and hugepages-*; decimal SI for cpu, pods and extended resources. */
hoist_qformat hoist_resource_format(const char *name);

#endif
