/*
 * tests/bench/workloads.h - the benchmark workloads of issue 3, built in
 * memory: instance catalogs as hoist_instance_type arrays and Kubernetes
 * objects (NodePools, Pods) as jansson values ready for
 * hoist_objects_add_json() or for writing to a file `hoist plan -f` reads.
 *
 * (a) Karpenter's scheduling benchmark, rebuilt from its public definition
 *     (kubernetes-sigs/karpenter pkg/controllers/provisioning/scheduling/
 *     scheduling_benchmark_test.go and pkg/cloudprovider/fake/instancetype.go):
 *     n fake instance types, type i (from 0) with i+1 vCPU, 2(i+1) GiB and
 *     10(i+1) pods, priced 0.1 per vCPU + 0.1 per GB (10^9 bytes) an hour,
 *     offered spot in us-east-1a/b and on-demand in us-east-1a/b/c; pods split
 *     evenly in five kinds (bench_kind) with cpu and memory drawn by a seeded
 *     splitmix64 generator.
 * (b) The upstream kube-scheduler scheduler_perf pod templates
 *     (shared data workloads/k8s-scheduler-perf/templates), mixed, adapted so
 *     that hoist's node labels can satisfy them (see bench_perf_mix).
 *
 * Everything returned as json_t is a new reference the caller owns.
 */
#ifndef HOIST_BENCH_WORKLOADS_H
#define HOIST_BENCH_WORKLOADS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include <hoist/types.h>

#include "model/objects.h"
#include "util/error.h"

/* ---- a seeded pseudo-random generator (splitmix64) ---- */

typedef struct bench_rng {
    uint64_t state;
} bench_rng;

/* Start a generator at `seed`. */
void bench_rng_seed(bench_rng *r, uint64_t seed);
/* The next 64 random bits. */
uint64_t bench_rng_next(bench_rng *r);
/* A uniform draw in [0, n) (n > 0). */
uint32_t bench_rng_below(bench_rng *r, uint32_t n);

/* ---- (a) Karpenter's benchmark ---- */

/* Instance types in Karpenter's benchmark. */
#define BENCH_KARPENTER_TYPES 400
/* Seed the workload generator uses unless told otherwise (Karpenter's is 42 too). */
#define BENCH_DEFAULT_SEED 42

/* Label key every generated pod carries; its value is the pod's kind name. */
#define BENCH_KIND_LABEL "bench.hoist.dev/kind"

/* The five kinds of pods, in the order the generator emits them. */
typedef enum bench_kind {
    BENCH_KIND_GENERIC = 0,        /* no constraint */
    BENCH_KIND_ZONE_SPREAD,        /* zone spread, maxSkew 1, DoNotSchedule, own kind */
    BENCH_KIND_HOST_SPREAD,        /* hostname spread, maxSkew 1, DoNotSchedule, own kind */
    BENCH_KIND_ZONE_AFFINITY,      /* required pod affinity to its own kind, zone */
    BENCH_KIND_HOST_ANTI_AFFINITY, /* required pod anti-affinity to its own kind, hostname */
    BENCH_KIND_COUNT
} bench_kind;

/* The kind's name, also the value of its BENCH_KIND_LABEL label. */
const char *bench_kind_name(bench_kind k);
/* Kind of pod i of a workload of `count` pods: count/5 of each kind in order,
 * the remainder (count mod 5) generic, as Karpenter fills its remainder. */
bench_kind bench_karpenter_kind_of(size_t count, size_t i);

/* Hourly price of fake type i: 0.1 * vCPU + 0.1 * memory in GB (10^9 bytes). */
double bench_fake_price(size_t i);

/* Karpenter's fake instance types. Owns every array and string. */
typedef struct bench_fake_catalog {
    size_t n;
    hoist_instance_type *types;   /* n types, struct_size set */
    hoist_offering *offerings;    /* 5 per type: spot a/b, on-demand a/b/c */
    char *names;                  /* n names of BENCH_FAKE_NAME_MAX bytes */
    char *sizes;                  /* n size strings of BENCH_FAKE_NAME_MAX bytes */
} bench_fake_catalog;

#define BENCH_FAKE_NAME_MAX 32
#define BENCH_FAKE_OFFERINGS 5

/* Build n fake types ("fake-it-<i>", family "fake", size "<i+1>x"). Returns 0 or -1. */
int bench_fake_catalog_init(bench_fake_catalog *fc, size_t n, hoist_err *err);
/* Free it (safe on a zeroed catalog). */
void bench_fake_catalog_free(bench_fake_catalog *fc);
/* The same types as a catalog file in the mock provider's schema, each entry
 * with an explicit "offerings" list (plugins/mock/README.md), so `hoist plan
 * --catalog FILE` sees exactly these types and prices. */
json_t *bench_fake_catalog_mock_json(const bench_fake_catalog *fc);

/* Karpenter's benchmark NodePool: any instance type, spot or on-demand. */
json_t *bench_karpenter_nodepool(void);
/* `count` pods of the benchmark workload drawn with `seed`, named
 * "<kind>-<i>" in namespace "bench", as an array of Pod objects. */
json_t *bench_karpenter_pods(size_t count, uint64_t seed);

/* A pod with no constraint in namespace ns named name, requesting cpu and
 * memory given in milli-cores and MiB, labelled BENCH_KIND_LABEL=generic. */
json_t *bench_simple_pod(const char *ns, const char *name, int64_t cpu_milli, int64_t mem_mib);

/* ---- (b) kube-scheduler scheduler_perf templates ---- */

/* One template's share of the mixed scheduler_perf workload. */
typedef struct bench_perf_share {
    const char *template_file;  /* file under templates/ */
    const char *name_prefix;    /* pod names: "<prefix><i>" */
    const char *ns;             /* namespace; "sched" alternates sched-0 / sched-1 */
    unsigned weight;            /* share of the pods, in 1/10000 */
    unsigned fixed;             /* when > 0: exactly this many pods, whatever the total */
    unsigned expect_unschedulable; /* pods of this share hoist must report unschedulable */
} bench_perf_share;

/* The mix (NULL-terminated by template_file) and its length. */
const bench_perf_share *bench_perf_mix(size_t *n);

/* `total` pods from the scheduler_perf templates in directory templates_dir,
 * mixed by bench_perf_mix() and adapted to hoist's node labels (zone1/zone2 ->
 * us-east-1a/us-east-1b). *unschedulable receives how many of them no
 * NodePool can fit by construction. Returns an array of Pods or NULL with
 * a message naming the template. */
json_t *bench_perf_pods(const char *templates_dir, size_t total, size_t *unschedulable,
                        hoist_err *err);
/* The NodePools for (b): "general" (weight 10: amd64, spot or on-demand,
 * categories c/m/r, generation > 4) and "fallback" (on-demand, any type). */
json_t *bench_perf_nodepools(void);

/* ---- helpers ---- */

/* Add every object of `array` to o. Returns 0 or -1 with the message. */
int bench_add_objects(hoist_objects *o, const json_t *array, hoist_err *err);

#endif
