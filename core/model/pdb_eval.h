/*
 * model/pdb_eval.h - would evicting a pod now violate a PodDisruptionBudget?
 *
 * The arithmetic of the Kubernetes disruption controller and Eviction API,
 * on decoded objects (model/objects.h):
 *   - a PDB selects the pods of its own namespace whose labels match its
 *     selector ({} matches every pod of the namespace, a null selector none);
 *   - a selected pod is healthy when it is bound to a node (node_name set and
 *     phase Running) and not terminating; hoist does not model the Ready
 *     condition of pods, so Running stands for Ready;
 *   - expected pods: the selected pods that are not finished (Kubernetes
 *     reads the controllers' scale for percentages and maxUnavailable; the
 *     simulator recreates an evicted pod at once under the same name, so the
 *     selected pods are the replicas);
 *   - desired healthy: minAvailable N -> N; minAvailable P% -> ceil(P% x
 *     expected); maxUnavailable N -> expected - N; maxUnavailable P% ->
 *     expected - ceil(P% x expected) (never below 0). Both percentages round
 *     up, as documented at
 *     https://kubernetes.io/docs/tasks/run-application/configure-pdb/
 *     ("Kubernetes rounds up to the nearest integer"; for maxUnavailable it
 *     "rounds up the number of Pods that may be disrupted"). Neither field
 *     set: desired 0;
 *   - disruptions allowed = max(0, healthy - desired);
 *   - an eviction of a pod that is not healthy (pending, finished,
 *     terminating) never consumes a budget and is allowed (the Eviction API
 *     lets such pods go without checking; an unhealthy Running pod under
 *     the default unhealthyPodEvictionPolicy IfHealthyBudget has no analogue
 *     here since Running counts as healthy);
 *   - an eviction of a healthy pod is allowed only when every PDB selecting
 *     it allows at least one disruption. (The Eviction API refuses outright a
 *     pod selected by more than one PDB; hoist checks each instead, which is
 *     stricter than a single budget and never looser.)
 */
#ifndef HOIST_MODEL_PDB_EVAL_H
#define HOIST_MODEL_PDB_EVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/objects.h"

/* Whether pod p counts as healthy for PodDisruptionBudgets (see above). */
bool hoist_pdb_pod_healthy(const hoist_pod *p);

/* Whether pdb selects pod p (same namespace, selector matches its labels). */
bool hoist_pdb_selects(const hoist_pdb *pdb, const hoist_pod *p);

/* The healthy pods pdb requires when `expected` pods are selected (>= 0). */
int32_t hoist_pdb_desired_healthy(const hoist_pdb *pdb, int32_t expected);

/* Disruptions pdb allows with `expected` selected and `healthy` healthy pods. */
int32_t hoist_pdb_disruptions_allowed(const hoist_pdb *pdb, int32_t expected, int32_t healthy);

/* Write why an eviction is refused under pdb into why[0..cap), e.g.
 * "would violate PodDisruptionBudget shop/web-pdb: 2 of 3 healthy,
 * minAvailable 3" (percentages show what they come to: "minAvailable 50% =
 * 2"). Truncated, always NUL-terminated when cap > 0. */
void hoist_pdb_refusal(const hoist_pdb *pdb, int32_t expected, int32_t healthy, char *why,
                       size_t cap);

/* The reference evaluator over a whole snapshot: 0 when evicting pod p
 * (borrowed, of o) is allowed now, 1 when a PDB of o refuses it, with the
 * reason in why (the refusing PDB first by name). Counts by walking o's pods:
 * O(PDBs + pods); the simulator keeps the counts incrementally instead
 * (sim/pdb.h). */
int hoist_pdb_check_eviction(const hoist_objects *o, const hoist_pod *p, char *why, size_t cap);

#endif
