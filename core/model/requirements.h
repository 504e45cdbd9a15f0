/*
 * model/requirements.h - label requirements (node selector terms, NodePool
 * requirements, label selectors) with matching, intersection and
 * compatibility.
 *
 * A hoist_reqs is a conjunction (AND) of requirements. Keys are canonical
 * (see hoist_label_canonical). Gt and Lt compare label values as integers; a
 * value that is not an integer does not satisfy them, as in Kubernetes.
 */
#ifndef HOIST_MODEL_REQUIREMENTS_H
#define HOIST_MODEL_REQUIREMENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include <hoist/types.h>

#include "model/labels.h"
#include "util/arena.h"
#include "util/error.h"

typedef struct hoist_req {
    const char *key;       /* canonical label key */
    hoist_req_op op;
    const char **values;   /* In/NotIn: sorted, unique; Gt/Lt: exactly one integer */
    size_t n_values;
    int32_t min_values;    /* NodePool minValues (distinct values a claim must keep); 0 = none */
} hoist_req;

typedef struct hoist_reqs {
    size_t n;
    hoist_req *items;
} hoist_reqs;

/* True when a node whose label `key` has `value` (NULL when absent) satisfies r. */
bool hoist_req_match_value(const hoist_req *r, const char *value);
/* True when the label set satisfies every requirement. */
bool hoist_reqs_match_labels(const hoist_reqs *rs, const hoist_labels *labels);
/* True when some label set satisfies both a and b. */
bool hoist_reqs_compatible(const hoist_reqs *a, const hoist_reqs *b);
/* out = a AND b, simplified to at most one In/NotIn/Exists/DoesNotExist entry
 * per key plus Gt/Lt bounds. Returns 0, or -1 when the result is
 * unsatisfiable (with the key in err) or out of memory. */
int hoist_reqs_intersect(hoist_arena *a, const hoist_reqs *x, const hoist_reqs *y, hoist_reqs *out,
                         hoist_err *err);

/* Decode a node selector requirement list:
 *   [{"key": k, "operator": "In", "values": [...], "minValues": n}, ...]
 * minValues is accepted only when allow_min_values (NodePool requirements). */
int hoist_reqs_from_json(hoist_arena *a, const json_t *array, bool allow_min_values,
                         hoist_reqs *out, hoist_err *err);
/* Decode a metav1.LabelSelector ({"matchLabels": {...}, "matchExpressions": [...]})
 * into requirements. A NULL or JSON-null selector gives zero requirements
 * (matches everything); callers that need "matches nothing" for a null
 * selector handle that themselves. */
int hoist_selector_from_json(hoist_arena *a, const json_t *selector, hoist_reqs *out,
                             hoist_err *err);
/* Encode as a node selector requirement list. */
json_t *hoist_reqs_to_json(const hoist_reqs *rs);
/* Name of an operator, e.g. "NotIn". */
const char *hoist_req_op_name(hoist_req_op op);

#endif
