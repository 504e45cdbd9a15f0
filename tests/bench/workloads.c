/*
 * tests/bench/workloads.c - the benchmark workloads (see workloads.h).
 */
#include "workloads.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/load.h"

/* ---- splitmix64 ---- */

void bench_rng_seed(bench_rng *r, uint64_t seed)
{
    r->state = seed;
}

uint64_t bench_rng_next(bench_rng *r)
{
    uint64_t z = (r->state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint32_t bench_rng_below(bench_rng *r, uint32_t n)
{
    /* The high 32 bits scaled to [0, n): no modulo bias worth measuring. */
    return (uint32_t)(((bench_rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* ---- (a) Karpenter's benchmark ---- */

static const char *const kind_names[BENCH_KIND_COUNT] = {
    "generic", "zone-spread", "host-spread", "zone-affinity", "host-anti-affinity",
};

const char *bench_kind_name(bench_kind k)
{
    return (unsigned)k < BENCH_KIND_COUNT ? kind_names[k] : "unknown";
}

bench_kind bench_karpenter_kind_of(size_t count, size_t i)
{
    size_t per = count / BENCH_KIND_COUNT;
    if (per == 0 || i >= per * BENCH_KIND_COUNT)
        return BENCH_KIND_GENERIC;
    return (bench_kind)(i / per);
}

double bench_fake_price(size_t i)
{
    double vcpu = (double)(i + 1);
    double gb = 2.0 * (double)(i + 1) * 1073741824.0 / 1e9;
    return 0.1 * vcpu + 0.1 * gb;
}

/* Offerings of every fake type: spot in two zones, on-demand in three. */
static const struct {
    const char *zone;
    hoist_capacity_type ct;
} fake_offers[BENCH_FAKE_OFFERINGS] = {
    {"us-east-1a", HOIST_CAPACITY_SPOT},      {"us-east-1b", HOIST_CAPACITY_SPOT},
    {"us-east-1a", HOIST_CAPACITY_ON_DEMAND}, {"us-east-1b", HOIST_CAPACITY_ON_DEMAND},
    {"us-east-1c", HOIST_CAPACITY_ON_DEMAND},
};

/* Capacity score of the fake spot offerings (the mock's pool_depth). */
#define FAKE_POOL_DEPTH 5

int bench_fake_catalog_init(bench_fake_catalog *fc, size_t n, hoist_err *err)
{
    memset(fc, 0, sizeof *fc);
    if (n == 0)
        return hoist_errf(err, "fake catalog: at least one instance type is needed");
    fc->types = calloc(n, sizeof *fc->types);
    fc->offerings = calloc(n * BENCH_FAKE_OFFERINGS, sizeof *fc->offerings);
    fc->names = calloc(n, BENCH_FAKE_NAME_MAX);
    fc->sizes = calloc(n, BENCH_FAKE_NAME_MAX);
    if (!fc->types || !fc->offerings || !fc->names || !fc->sizes) {
        bench_fake_catalog_free(fc);
        return hoist_errf(err, "fake catalog: out of memory");
    }
    fc->n = n;
    for (size_t i = 0; i < n; i++) {
        char *name = fc->names + i * BENCH_FAKE_NAME_MAX;
        char *size = fc->sizes + i * BENCH_FAKE_NAME_MAX;
        snprintf(name, BENCH_FAKE_NAME_MAX, "fake-it-%zu", i);
        snprintf(size, BENCH_FAKE_NAME_MAX, "%zux", i + 1);
        hoist_offering *offs = fc->offerings + i * BENCH_FAKE_OFFERINGS;
        for (size_t k = 0; k < BENCH_FAKE_OFFERINGS; k++) {
            offs[k].struct_size = sizeof offs[k];
            offs[k].zone = fake_offers[k].zone;
            offs[k].capacity_type = fake_offers[k].ct;
            offs[k].price = bench_fake_price(i);
            offs[k].available = true;
            offs[k].capacity_score = fake_offers[k].ct == HOIST_CAPACITY_SPOT ? FAKE_POOL_DEPTH : 0;
        }
        hoist_instance_type *t = &fc->types[i];
        t->struct_size = sizeof *t;
        t->name = name;
        t->family = "fake";
        t->size = size;
        t->category = "fake";
        t->generation = 1;
        t->architecture = "amd64";
        t->cpu_manufacturer = "";
        t->hypervisor = "nitro";
        t->current_generation = true;
        t->vcpus = (uint32_t)(i + 1);
        t->memory_mib = 2048u * (uint64_t)(i + 1);
        t->gpu.name = "";
        t->gpu.manufacturer = "";
        t->max_pods = (uint32_t)(10 * (i + 1));
        t->offerings = offs;
        t->n_offerings = BENCH_FAKE_OFFERINGS;
    }
    return 0;
}

void bench_fake_catalog_free(bench_fake_catalog *fc)
{
    free(fc->types);
    free(fc->offerings);
    free(fc->names);
    free(fc->sizes);
    memset(fc, 0, sizeof *fc);
}

json_t *bench_fake_catalog_mock_json(const bench_fake_catalog *fc)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < fc->n; i++) {
        const hoist_instance_type *t = &fc->types[i];
        json_t *offs = json_array();
        for (size_t k = 0; offs && k < t->n_offerings; k++) {
            const hoist_offering *o = &t->offerings[k];
            json_t *jo = json_pack("{s:s, s:s, s:f, s:b}", "zone", o->zone, "capacity_type",
                                   o->capacity_type == HOIST_CAPACITY_SPOT ? "spot" : "on-demand",
                                   "price", o->price, "available", o->available);
            if (o->capacity_type == HOIST_CAPACITY_SPOT && jo)
                json_object_set_new(jo, "pool_depth", json_integer(FAKE_POOL_DEPTH));
            if (!jo || json_array_append_new(offs, jo) < 0) {
                json_decref(offs);
                offs = NULL;
            }
        }
        json_t *e = offs ? json_pack("{s:s, s:s, s:s, s:s, s:i, s:I, s:I, s:s, s:s, s:s, s:b,"
                                     " s:b, s:b, s:[ss], s:I, s:{s:s, s:f}, s:o}",
                                     "instance_type", t->name, "family", t->family, "size",
                                     t->size, "category", t->category, "generation",
                                     (int)t->generation, "vcpus", (json_int_t)t->vcpus,
                                     "memory_mib", (json_int_t)t->memory_mib, "architecture",
                                     t->architecture, "cpu_manufacturer", "intel", "hypervisor",
                                     t->hypervisor, "bare_metal", 0, "burstable_performance", 0,
                                     "current_generation", 1, "supported_usage_classes",
                                     "on-demand", "spot", "eks_max_pods",
                                     (json_int_t)t->max_pods, "pricing", "region", "us-east-1",
                                     "on_demand_usd_per_hour", bench_fake_price(i), "offerings",
                                     offs)
                         : NULL;
        if (!e || json_array_append_new(arr, e) < 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

json_t *bench_karpenter_nodepool(void)
{
    return json_pack("{s:s, s:s, s:{s:s}, s:{s:{s:{s:[{s:s, s:s, s:[ss]}],"
                     " s:{s:s, s:s, s:s}}}}}",
                     "apiVersion", "karpenter.sh/v1", "kind", "NodePool", "metadata", "name",
                     "default", "spec", "template", "spec", "requirements", "key",
                     "karpenter.sh/capacity-type", "operator", "In", "values", "spot",
                     "on-demand", "nodeClassRef", "group", "karpenter.k8s.aws", "kind",
                     "EC2NodeClass", "name", "default");
}

/* A Pod object with one container requesting cpu and memory (quantity strings). */
static json_t *make_pod(const char *ns, const char *name, const char *kind, const char *cpu,
                        const char *mem)
{
    return json_pack("{s:s, s:s, s:{s:s, s:s, s:{s:s}}, s:{s:[{s:s, s:s, s:{s:{s:s, s:s}}}]}}",
                     "apiVersion", "v1", "kind", "Pod", "metadata", "name", name, "namespace",
                     ns, "labels", BENCH_KIND_LABEL, kind, "spec", "containers", "name", "app",
                     "image", "registry.k8s.io/pause:3.10", "resources", "requests", "cpu", cpu,
                     "memory", mem);
}

json_t *bench_simple_pod(const char *ns, const char *name, int64_t cpu_milli, int64_t mem_mib)
{
    char cpu[32], mem[32];
    snprintf(cpu, sizeof cpu, "%lldm", (long long)cpu_milli);
    snprintf(mem, sizeof mem, "%lldMi", (long long)mem_mib);
    return make_pod(ns, name, bench_kind_name(BENCH_KIND_GENERIC), cpu, mem);
}

/* {"matchLabels": {BENCH_KIND_LABEL: kind}} */
static json_t *kind_selector(const char *kind)
{
    return json_pack("{s:{s:s}}", "matchLabels", BENCH_KIND_LABEL, kind);
}

/* Add kind k's constraint to pod spec `spec`. Returns 0 or -1. */
static int add_constraint(json_t *spec, bench_kind k)
{
    const char *kind = bench_kind_name(k);
    const char *zone = "topology.kubernetes.io/zone", *host = "kubernetes.io/hostname";
    json_t *c = NULL;
    switch (k) {
    case BENCH_KIND_GENERIC:
    case BENCH_KIND_COUNT:
        return 0;
    case BENCH_KIND_ZONE_SPREAD:
    case BENCH_KIND_HOST_SPREAD:
        c = json_pack("[{s:i, s:s, s:s, s:o}]", "maxSkew", 1, "topologyKey",
                      k == BENCH_KIND_ZONE_SPREAD ? zone : host, "whenUnsatisfiable",
                      "DoNotSchedule", "labelSelector", kind_selector(kind));
        return c ? json_object_set_new(spec, "topologySpreadConstraints", c) : -1;
    case BENCH_KIND_ZONE_AFFINITY:
    case BENCH_KIND_HOST_ANTI_AFFINITY:
        c = json_pack("{s:{s:[{s:o, s:s}]}}",
                      k == BENCH_KIND_ZONE_AFFINITY ? "podAffinity" : "podAntiAffinity",
                      "requiredDuringSchedulingIgnoredDuringExecution", "labelSelector",
                      kind_selector(kind), "topologyKey",
                      k == BENCH_KIND_ZONE_AFFINITY ? zone : host);
        return c ? json_object_set_new(spec, "affinity", c) : -1;
    }
    return -1;
}

json_t *bench_karpenter_pods(size_t count, uint64_t seed)
{
    static const int cpus[] = {100, 250, 500, 1000, 1500};
    static const int mems[] = {100, 256, 512, 1024, 2048, 4096};
    bench_rng rng;
    bench_rng_seed(&rng, seed);
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < count; i++) {
        bench_kind k = bench_karpenter_kind_of(count, i);
        char name[64], cpu[16], mem[16];
        snprintf(name, sizeof name, "%s-%zu", bench_kind_name(k), i);
        snprintf(cpu, sizeof cpu, "%dm", cpus[bench_rng_below(&rng, 5)]);
        snprintf(mem, sizeof mem, "%dMi", mems[bench_rng_below(&rng, 6)]);
        json_t *pod = make_pod("bench", name, bench_kind_name(k), cpu, mem);
        if (!pod || add_constraint(json_object_get(pod, "spec"), k) < 0 ||
            json_array_append_new(arr, pod) < 0) {
            json_decref(pod);
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

/* ---- (b) scheduler_perf templates ---- */

/* Weights sum to 10000 over the pods left after the fixed ones. */
static const bench_perf_share perf_mix[] = {
    {"pod-default.yaml", "default-", "perf-default", 2600, 0, 0},
    {"pod-with-label.yaml", "labelled-", "perf-service", 1000, 0, 0},
    {"pod-low-priority.yaml", "low-priority-", "perf-priority", 1000, 0, 0},
    {"pod-high-priority.yaml", "high-priority-", "perf-priority", 500, 0, 0},
    {"pod-large-cpu.yaml", "large-cpu-", "perf-large", 200, 0, 0},
    {"pod-with-node-affinity.yaml", "node-affinity-", "perf-node-affinity", 1000, 0, 0},
    {"pod-with-topology-spreading.yaml", "spreading-", "perf-spread", 1000, 0, 0},
    {"pod-with-preferred-topology-spreading.yaml", "preferred-spreading-",
     "perf-preferred-spread", 1000, 0, 0},
    {"pod-with-pod-affinity.yaml", "affinity-", "sched", 800, 0, 0},
    {"pod-with-pod-anti-affinity.yaml", "anti-affinity-", "sched", 200, 0, 0},
    {"pod-with-preferred-pod-affinity.yaml", "preferred-affinity-", "sched", 500, 0, 0},
    {"pod-with-preferred-pod-anti-affinity.yaml", "preferred-anti-affinity-", "sched", 200, 0, 0},
    {"unschedulable-pod-taint-toleration.yaml", "tolerating-", "perf-unsched", 0, 1, 0},
    {"unschedulable-pod-interpod-affinity.yaml", "unsched-affinity-", "perf-unsched", 0, 1, 1},
    {"unschedulable-pod-node-affinity.yaml", "unsched-node-affinity-", "perf-unsched", 0, 1, 1},
    {"unschedulable-pod-node-resourcesfit.yaml", "unsched-resources-", "perf-unsched", 0, 1, 1},
};

const bench_perf_share *bench_perf_mix(size_t *n)
{
    *n = sizeof perf_mix / sizeof perf_mix[0];
    return perf_mix;
}

/* Rewrite the zone values "zone1"/"zone2" of the node-affinity template (the
 * names scheduler_perf gives its fake nodes) to real us-east-1 zones. */
static void adapt_zone_values(json_t *v)
{
    size_t i;
    json_t *x;
    const char *key;
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        if (strcmp(s, "zone1") == 0)
            json_string_set(v, "us-east-1a");
        else if (strcmp(s, "zone2") == 0)
            json_string_set(v, "us-east-1b");
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, x) adapt_zone_values(x);
    } else if (json_is_object(v)) {
        json_object_foreach(v, key, x) adapt_zone_values(x);
    }
}

/* Load the one Pod of a template file. Returns a new reference or NULL. */
static json_t *load_template(const char *dir, const char *file, hoist_err *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    hoist_docs docs;
    hoist_docs_init(&docs);
    if (hoist_docs_load_file(&docs, path, err) < 0) {
        hoist_docs_free(&docs);
        return NULL;
    }
    json_t *pod = NULL;
    if (docs.n != 1 || !json_is_object(docs.items[0].json))
        hoist_errf(err, "%s: expected one Pod, found %zu documents", path, docs.n);
    else
        pod = json_incref(docs.items[0].json);
    hoist_docs_free(&docs);
    return pod;
}

json_t *bench_perf_pods(const char *templates_dir, size_t total, size_t *unschedulable,
                        hoist_err *err)
{
    size_t n_mix, fixed = 0, weights = 0;
    const bench_perf_share *mix = bench_perf_mix(&n_mix);
    for (size_t s = 0; s < n_mix; s++) {
        fixed += mix[s].fixed;
        weights += mix[s].weight;
    }
    if (total < fixed) {
        hoist_errf(err, "scheduler_perf mix: at least %zu pods are needed", fixed);
        return NULL;
    }
    /* Pods per weighted share; the rounding residue goes to the first one. */
    size_t counts[sizeof perf_mix / sizeof perf_mix[0]], given = 0;
    for (size_t s = 0; s < n_mix; s++) {
        counts[s] = mix[s].fixed ? mix[s].fixed : (total - fixed) * mix[s].weight / weights;
        given += counts[s];
    }
    counts[0] += total - given;
    *unschedulable = 0;
    json_t *arr = json_array();
    for (size_t s = 0; arr && s < n_mix; s++) {
        json_t *tpl = load_template(templates_dir, mix[s].template_file, err);
        if (!tpl) {
            json_decref(arr);
            return NULL;
        }
        json_t *meta = json_object_get(tpl, "metadata");
        if (!json_is_object(meta)) {
            hoist_errf(err, "%s: metadata is missing", mix[s].template_file);
            json_decref(tpl);
            json_decref(arr);
            return NULL;
        }
        json_object_del(meta, "generateName");
        adapt_zone_values(json_object_get(tpl, "spec"));
        for (size_t i = 0; i < counts[s]; i++) {
            json_t *pod = json_deep_copy(tpl);
            char name[128];
            snprintf(name, sizeof name, "%s%zu", mix[s].name_prefix, i);
            const char *ns = strcmp(mix[s].ns, "sched") == 0 ? (i % 2 ? "sched-1" : "sched-0")
                                                             : mix[s].ns;
            json_t *m = pod ? json_object_get(pod, "metadata") : NULL;
            if (!m || json_object_set_new(m, "name", json_string(name)) < 0 ||
                json_object_set_new(m, "namespace", json_string(ns)) < 0 ||
                json_array_append_new(arr, pod) < 0) {
                json_decref(pod);
                json_decref(tpl);
                json_decref(arr);
                hoist_errf(err, "%s: out of memory", mix[s].template_file);
                return NULL;
            }
        }
        *unschedulable += mix[s].expect_unschedulable * counts[s];
        json_decref(tpl);
    }
    if (!arr)
        hoist_errf(err, "scheduler_perf mix: out of memory");
    return arr;
}

json_t *bench_perf_nodepools(void)
{
    return json_pack(
        "[{s:s, s:s, s:{s:s}, s:{s:i, s:{s:{s:[{s:s, s:s, s:[s]}, {s:s, s:s, s:[ss]},"
        " {s:s, s:s, s:[sss]}, {s:s, s:s, s:[s]}], s:{s:s, s:s, s:s}}}}},"
        " {s:s, s:s, s:{s:s}, s:{s:{s:{s:[{s:s, s:s, s:[s]}], s:{s:s, s:s, s:s}}}}}]",
        "apiVersion", "karpenter.sh/v1", "kind", "NodePool", "metadata", "name", "general",
        "spec", "weight", 10, "template", "spec", "requirements",
        "key", "kubernetes.io/arch", "operator", "In", "values", "amd64",
        "key", "karpenter.sh/capacity-type", "operator", "In", "values", "spot", "on-demand",
        "key", "karpenter.k8s.aws/instance-category", "operator", "In", "values", "c", "m", "r",
        "key", "karpenter.k8s.aws/instance-generation", "operator", "Gt", "values", "4",
        "nodeClassRef", "group", "karpenter.k8s.aws", "kind", "EC2NodeClass", "name", "default",
        "apiVersion", "karpenter.sh/v1", "kind", "NodePool", "metadata", "name", "fallback",
        "spec", "template", "spec", "requirements",
        "key", "karpenter.sh/capacity-type", "operator", "In", "values", "on-demand",
        "nodeClassRef", "group", "karpenter.k8s.aws", "kind", "EC2NodeClass", "name", "default");
}

/* ---- helpers ---- */

int bench_add_objects(hoist_objects *o, const json_t *array, hoist_err *err)
{
    size_t i;
    json_t *obj;
    json_array_foreach(array, i, obj) {
        if (hoist_objects_add_json(o, obj, NULL, err) < 0)
            return hoist_err_prefix(err, "object %zu", i);
    }
    return 0;
}
