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
/* The NodePool template hash (hex) a machine was launched with: drift. */
#define HOIST_LABEL_NODEPOOL_HASH "hoist.dev/nodepool-hash"
#define HOIST_LABEL_CAPACITY_TYPE "hoist.dev/capacity-type"
#define HOIST_LABEL_INSTANCE_PREFIX "hoist.dev/instance-" /* category, family, generation, size,
                                  cpu, memory, gpu-name, gpu-count, gpu-memory, local-nvme,
                                  network-bandwidth, hypervisor, cpu-manufacturer */

/* A label set: keys unique, sorted by strcmp, strings owned by an arena. */
typedef struct hoist_labels {
    size_t n;
    hoist_kv *items;
} hoist_labels;

/* The canonical spelling of a label key. Aliases:
 *   karpenter.sh/capacity-type, karpenter.sh/nodepool -> hoist.dev/capacity-type,
 *     hoist.dev/nodepool;
 *   karpenter.k8s.aws/instance-X -> hoist.dev/instance-X;
 *   failure-domain.beta.kubernetes.io/{zone,region} -> topology.kubernetes.io/...;
 *   beta.kubernetes.io/{instance-type,arch,os} -> node.kubernetes.io/instance-type,
 *     kubernetes.io/arch, kubernetes.io/os.
 * Returns a static string, or `key` itself when it has no alias. Without an
 * arena, karpenter.k8s.aws/instance-X is mapped only for the attributes
 * Karpenter's AWS provider publishes (category, family, generation, size,
 * cpu, cpu-manufacturer, memory, gpu-*, accelerator-*, local-nvme,
 * network-bandwidth, ebs-bandwidth, hypervisor, ...); use
 * hoist_label_canonical_arena for every X. */
const char *hoist_label_canonical(const char *key);
/* As hoist_label_canonical, but maps karpenter.k8s.aws/instance-X for every
 * X, building the string in the arena when it is not a static one. NULL
 * only when out of memory. */
const char *hoist_label_canonical_arena(hoist_arena *a, const char *key);

/* Value of `key` (canonicalised, every alias), or NULL. Binary search. */
const char *hoist_labels_get(const hoist_labels *l, const char *key);

/* Decode a JSON object of string values into a sorted label set; keys are
 * checked for Kubernetes syntax, values too, then keys are canonicalised.
 * An alias and its canonical key given with different values is an error.
 * NULL or JSON null gives an empty set. Errors name the key, e.g.
 *   app: invalid label value "a b": may contain only ... */
int hoist_labels_from_json(hoist_arena *a, const json_t *obj, hoist_labels *out, hoist_err *err);

/* Build a sorted label set from n pairs (copied into the arena, keys
 * canonicalised; later duplicates of a key win; a NULL value counts as "").
 * Returns 0, or -1 when out of memory. No syntax checks. */
int hoist_labels_from_pairs(hoist_arena *a, const hoist_kv *pairs, size_t n, hoist_labels *out);

/* Encode as a JSON object (new reference; NULL when out of memory). */
json_t *hoist_labels_to_json(const hoist_labels *l);

/* Kubernetes syntax checks: qualified name with optional DNS-subdomain prefix;
 * label value (<= 63 chars, alphanumeric ends, [-_.] inside, or empty). */
bool hoist_label_key_valid(const char *key);
bool hoist_label_value_valid(const char *value);
/* Why key / value is invalid (a static string), or NULL when it is valid. */
const char *hoist_label_key_problem(const char *key);
const char *hoist_label_value_problem(const char *value);
/* 0, or -1 with `invalid label key "k": why` / `invalid label value "v": why`. */
int hoist_label_key_check(const char *key, hoist_err *err);
int hoist_label_value_check(const char *value, hoist_err *err);

/* "an object", "an array", "a string", "null", ... for error messages
 * (NULL gives "nothing"). */
const char *hoist_json_type_name(const json_t *j);

#endif
