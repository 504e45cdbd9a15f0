/*
 * model/labels.h - label sets, label key aliases and label syntax.
 */
#ifndef HOIST_MODEL_LABELS_H
#define HOIST_MODEL_LABELS_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include <hoist/types.h>

#include "util/arena.h"
#include "util/error.h"

/* Well-known label keys. */
#define HOIST_LABEL_ZONE          "topology.kubernetes.io/zone"
#define HOIST_LABEL_REGION        "topology.kubernetes.io/region"
#define HOIST_LABEL_HOSTNAME      "kubernetes.io/hostname"
#define HOIST_LABEL_INSTANCE_TYPE "node.kubernetes.io/instance-type"
#define HOIST_LABEL_ARCH          "kubernetes.io/arch"
#define HOIST_LABEL_OS            "kubernetes.io/os"
#define HOIST_LABEL_NODEPOOL      "hoist.dev/nodepool"
#define HOIST_LABEL_CAPACITY_TYPE "hoist.dev/capacity-type"
#define HOIST_LABEL_INSTANCE_PREFIX "hoist.dev/instance-" /* category, family, generation, size,
                                  cpu, memory, gpu-name, gpu-count, gpu-memory, local-nvme,
                                  network-bandwidth, hypervisor, cpu-manufacturer */

/* A label set: keys unique, sorted by strcmp, strings owned by an arena. */
typedef struct hoist_labels {
    size_t n;
    hoist_kv *items;
} hoist_labels;

/* The canonical spelling of a label key: karpenter.sh/X and
 * karpenter.k8s.aws/instance-X map to hoist.dev/X and hoist.dev/instance-X,
 * and the deprecated beta/failure-domain keys map to their GA names.
 * Returns a static string, or `key` itself when it has no alias. */
const char *hoist_label_canonical(const char *key);

/* Value of `key` (canonicalised), or NULL. Binary search. */
const char *hoist_labels_get(const hoist_labels *l, const char *key);

/* Decode a JSON object of string values into a sorted label set; keys are
 * canonicalised and checked for Kubernetes syntax, values too. */
int hoist_labels_from_json(hoist_arena *a, const json_t *obj, hoist_labels *out, hoist_err *err);

/* Build a sorted label set from n pairs (copied into the arena; later
 * duplicates of a key win). */
int hoist_labels_from_pairs(hoist_arena *a, const hoist_kv *pairs, size_t n, hoist_labels *out);

/* Kubernetes syntax checks: qualified name with optional DNS-subdomain prefix;
 * label value (<= 63 chars, alphanumeric ends, [-_.] inside, or empty). */
bool hoist_label_key_valid(const char *key);
bool hoist_label_value_valid(const char *value);

#endif
