/*
 * apiserver/patch.h - the three PATCH formats of the Kubernetes API:
 *
 *   application/merge-patch+json           RFC 7386 JSON merge patch
 *   application/json-patch+json            RFC 6902 JSON patch (add, remove,
 *                                          replace, move, copy, test)
 *   application/strategic-merge-patch+json strategic merge patch: a merge
 *       patch in which the lists Kubernetes types declare "merge" are merged
 *       by their key (containers by name, conditions by type, ...; the table
 *       is in patch.c) and the directives $patch (replace, delete, merge),
 *       $setElementOrder/<list>, $deleteFromPrimitiveList/<list> and
 *       $retainKeys are applied. Every other list is replaced, as the API does
 *       for lists without a patch strategy (taints and tolerations among them).
 *
 * Each function returns a new value (the caller owns it) and never changes
 * the target.
 */
#ifndef HOIST_APISERVER_PATCH_H
#define HOIST_APISERVER_PATCH_H

#include <jansson.h>

#include "util/error.h"

typedef enum hoist_patch_type {
    HOIST_PATCH_MERGE,
    HOIST_PATCH_JSON,
    HOIST_PATCH_STRATEGIC
} hoist_patch_type;

/* The patch type named by a Content-Type (parameters after ';' ignored);
 * -1 when it is none of the three. */
int hoist_patch_type_parse(const char *content_type, hoist_patch_type *out);

/* RFC 7386: target with patch merged in. NULL only when out of memory. */
json_t *hoist_merge_patch(const json_t *target, const json_t *patch);
/* RFC 6902: target with the operations applied. NULL with a message naming
 * the operation (by index) and path at fault. */
json_t *hoist_json_patch(const json_t *target, const json_t *ops, hoist_err *err);
/* Strategic merge patch (see above). NULL with a message naming the field. */
json_t *hoist_strategic_merge_patch(const json_t *target, const json_t *patch, hoist_err *err);
/* Apply len bytes of a patch of `type` to target. NULL with a message when
 * the patch is not JSON, has the wrong shape or fails. */
json_t *hoist_patch_apply(hoist_patch_type type, const json_t *target, const char *patch,
                          size_t len, hoist_err *err);

#endif
