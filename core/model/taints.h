/*
 * model/taints.h - taints and tolerations, with Kubernetes' toleration rules.
 */
#ifndef HOIST_MODEL_TAINTS_H
#define HOIST_MODEL_TAINTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include <hoist/types.h>

#include "util/arena.h"
#include "util/error.h"

typedef struct hoist_taints {
    size_t n;
    hoist_taint *items;  /* strings owned by an arena */
} hoist_taints;

typedef enum hoist_toleration_op {
    HOIST_TOLERATE_EQUAL = 0,  /* key and value must match (the default) */
    HOIST_TOLERATE_EXISTS      /* key must match; empty key with Exists matches every taint */
} hoist_toleration_op;

typedef struct hoist_toleration {
    const char *key;            /* "" = any key (only with Exists) */
    hoist_toleration_op op;
    const char *value;          /* "" for Exists */
    int effect;                 /* a hoist_taint_effect, or -1 for all effects */
    int64_t toleration_seconds; /* NoExecute grace; -1 = tolerate forever */
} hoist_toleration;

typedef struct hoist_tolerations {
    size_t n;
    hoist_toleration *items;
} hoist_tolerations;

/* True when toleration t tolerates taint x (Kubernetes ToleratesTaint): the
 * effect matches unless t's is -1 (all), the key matches unless t's is ""
 * (any; NULL counts as ""), and for Equal the values are equal. */
bool hoist_toleration_tolerates(const hoist_toleration *t, const hoist_taint *x);
/* True when every NoSchedule and NoExecute taint in `taints` is tolerated
 * (PreferNoSchedule taints never block). */
bool hoist_tolerations_tolerate_all(const hoist_tolerations *tols, const hoist_taints *taints);
/* The first NoSchedule/NoExecute taint not tolerated, or NULL. */
const hoist_taint *hoist_tolerations_first_untolerated(const hoist_tolerations *tols,
                                                       const hoist_taints *taints);

/* Decode [{"key", "value", "effect"}]: key required (a qualified name),
 * value optional (label value syntax), effect required (NoSchedule,
 * PreferNoSchedule, NoExecute); other fields ignored. NULL or JSON null gives
 * none. Strings are copied into the arena. Errors name the path, e.g.
 * `[1].effect: unknown effect "NoScheduled" (...)`. */
int hoist_taints_from_json(hoist_arena *a, const json_t *array, hoist_taints *out, hoist_err *err);
/* Decode [{"key", "operator", "value", "effect", "tolerationSeconds"}] with
 * Kubernetes' validation: operator Equal (default) or Exists; an empty key
 * needs Exists; Exists needs an empty value; effect empty (all) or one of
 * the three; tolerationSeconds an integer and only with NoExecute (negative
 * stored as 0, "evict at once"; absent stored as -1). NULL or JSON null
 * gives none. Errors name the path, e.g. `[0].operator: unknown operator "Equals" (...)`. */
int hoist_tolerations_from_json(hoist_arena *a, const json_t *array, hoist_tolerations *out,
                                hoist_err *err);
/* Encode as Kubernetes JSON (new references; NULL when out of memory); empty
 * values and keys, effect -1 and tolerationSeconds -1 are omitted. */
json_t *hoist_taints_to_json(const hoist_taints *taints);
json_t *hoist_tolerations_to_json(const hoist_tolerations *tols);
/* "NoSchedule" etc.; parse returns -1 for unknown. */
const char *hoist_taint_effect_name(hoist_taint_effect e);
int hoist_taint_effect_parse(const char *s);

#endif
