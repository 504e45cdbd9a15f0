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

/* True when toleration t tolerates taint x (Kubernetes ToleratesTaint). */
bool hoist_toleration_tolerates(const hoist_toleration *t, const hoist_taint *x);
/* True when every NoSchedule and NoExecute taint in `taints` is tolerated
 * (PreferNoSchedule taints never block). */
bool hoist_tolerations_tolerate_all(const hoist_tolerations *tols, const hoist_taints *taints);
/* The first NoSchedule/NoExecute taint not tolerated, or NULL. */
const hoist_taint *hoist_tolerations_first_untolerated(const hoist_tolerations *tols,
                                                       const hoist_taints *taints);

/* Decode [{"key", "value", "effect"}] (effect required). */
int hoist_taints_from_json(hoist_arena *a, const json_t *array, hoist_taints *out, hoist_err *err);
/* Decode [{"key", "operator", "value", "effect", "tolerationSeconds"}]. */
int hoist_tolerations_from_json(hoist_arena *a, const json_t *array, hoist_tolerations *out,
                                hoist_err *err);
json_t *hoist_taints_to_json(const hoist_taints *taints);
/* "NoSchedule" etc.; parse returns -1 for unknown. */
const char *hoist_taint_effect_name(hoist_taint_effect e);
int hoist_taint_effect_parse(const char *s);

#endif
