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
/* True when some label set satisfies both a and b: for every key either the
 * label may be absent under both (only NotIn/DoesNotExist on it) or some
 * value passes every requirement on it (Karpenter's per-key intersection,
 * exact about absence and about empty Gt/Lt ranges such as Gt 5, Lt 6).
 * A key constrained in only one list must be satisfiable on its own. No
 * allocation. */
bool hoist_reqs_compatible(const hoist_reqs *a, const hoist_reqs *b);
/* out = x AND y, keys sorted, simplified per key to one of: In (the values
 * that pass everything), DoesNotExist, NotIn (label may be absent), Exists
 * [+ NotIn] (label must exist), or [NotIn +] Gt and/or Lt with the tightest
 * bounds. The first entry of a key carries the largest minValues. Returns 0,
 * or -1 when some key is unsatisfiable ("<key>: requirements cannot all be
 * met") or out of memory. Arrays are new in the arena; key and value strings
 * are shared with x and y, which must outlive out. */
int hoist_reqs_intersect(hoist_arena *a, const hoist_reqs *x, const hoist_reqs *y, hoist_reqs *out,
                         hoist_err *err);

/* Decode a node selector requirement list:
 *   [{"key": k, "operator": "In", "values": [...], "minValues": n}, ...]
 * minValues is accepted only when allow_min_values (NodePool requirements;
 * 1..50, and for In no more than the distinct values). Checks: key a valid
 * label key (then canonicalised), operator one of the six, In/NotIn at least
 * one value, Exists/DoesNotExist none, Gt/Lt exactly one integer. Values are
 * sorted and de-duplicated. NULL or JSON null gives zero requirements.
 * Errors name the path, e.g. `[2].operator: unknown operator "Inn" (...)`.
 * Everything is copied into the arena. */
int hoist_reqs_from_json(hoist_arena *a, const json_t *array, bool allow_min_values,
                         hoist_reqs *out, hoist_err *err);
/* Decode a metav1.LabelSelector ({"matchLabels": {...}, "matchExpressions": [...]})
 * into requirements: each matchLabels pair becomes `key In [value]`, then the
 * expressions (In, NotIn, Exists, DoesNotExist only; values must be valid
 * label values). Keys are canonicalised. A NULL or JSON-null selector gives
 * zero requirements (matches everything); callers that need "matches
 * nothing" for a null selector handle that themselves. Errors name the path,
 * e.g. `matchExpressions[0].values: operator In needs at least one value`. */
int hoist_selector_from_json(hoist_arena *a, const json_t *selector, hoist_reqs *out,
                             hoist_err *err);
/* Encode as a node selector requirement list (new reference; NULL when out
 * of memory). values is omitted when empty, minValues when 0. */
json_t *hoist_reqs_to_json(const hoist_reqs *rs);
/* Name of an operator, e.g. "NotIn" ("?" when out of range). */
const char *hoist_req_op_name(hoist_req_op op);
/* The operator named s (a hoist_req_op), or -1. */
int hoist_req_op_parse(const char *s);
/* Read s as Go's strconv.ParseInt(s, 10, 64) does (optional sign, digits
 * only, in range), as Kubernetes does for Gt/Lt. */
bool hoist_parse_int64(const char *s, int64_t *out);

#endif
