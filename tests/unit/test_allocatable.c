/* test_allocatable.c - node capacity, labels and allocatable (model/instance.h,
 * model/allocatable.h).
 *
 * The acceptance test compares hoist's allocatable, with no kubelet settings,
 * against the Resources tables Karpenter publishes per instance type
 * (tests/data/allocatable/karpenter-published.tsv), for types built from the
 * shared EC2 catalog (HOIST_SHARED_DATA/aws-us-east-1/instance-types.json).
 * The override tests use hand-built types and hand-computed figures.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/allocatable.h"
#include "model/instance.h"
#include "model/quantity.h"

#define MIB 1048576LL
#define MI (MIB * 1000)
#define GI (1024 * MI)

/* ---- hand-built types ---------------------------------------------------- */

static hoist_instance_type m5_large(void)
{
    hoist_instance_type it = {
        .name = "m5.large", .family = "m5", .size = "large", .category = "m",
        .generation = 5, .architecture = "amd64", .cpu_manufacturer = "intel",
        .hypervisor = "nitro", .current_generation = true, .vcpus = 2, .memory_mib = 8192,
        .network_bandwidth_mbps = 750, .max_pods = 29,
    };
    return it;
}

static void capacity_and_allocatable(const hoist_instance_type *it, const hoist_kubelet_config *kc,
                                     hoist_resources *cap, hoist_resources *alloc)
{
    hoist_resource_names names;
    hoist_resource_names_init(&names);
    hoist_err err;
    assert_int_equal(hoist_instance_capacity(it, kc, &names, cap, &err), 0);
    hoist_allocatable(it, kc, cap, NULL, alloc);
    hoist_resource_names_free(&names);
}

static void kubelet(const char *text, hoist_kubelet_config *kc)
{
    json_t *obj = json_loads(text, 0, NULL);
    assert_non_null(obj);
    hoist_resource_names names;
    hoist_resource_names_init(&names);
    memset(kc, 0, sizeof *kc);
    hoist_err err;
    if (hoist_kubelet_from_json(&names, obj, kc, &err) != 0)
        fail_msg("kubelet %s: %s", text, err.msg);
    hoist_resource_names_free(&names);
    json_decref(obj);
}

/* ---- defaults ------------------------------------------------------------ */

static void test_kube_reserved_cpu_bands(void **state)
{
    (void)state;
    assert_int_equal(hoist_kube_reserved_cpu_default(0), 0);
    assert_int_equal(hoist_kube_reserved_cpu_default(1000), 60);
    assert_int_equal(hoist_kube_reserved_cpu_default(2000), 70);
    assert_int_equal(hoist_kube_reserved_cpu_default(3000), 75);
    assert_int_equal(hoist_kube_reserved_cpu_default(4000), 80);
    assert_int_equal(hoist_kube_reserved_cpu_default(8000), 90);
    assert_int_equal(hoist_kube_reserved_cpu_default(96000), 310);
    assert_int_equal(hoist_kube_reserved_cpu_default(500), 30);
}

static void test_m5_large_defaults(void **state)
{
    (void)state;
    hoist_instance_type it = m5_large();
    hoist_resources cap, alloc;
    capacity_and_allocatable(&it, NULL, &cap, &alloc);
    /* 8192 MiB less ceil(8192 * 7.5 %) = 615 MiB */
    assert_int_equal(cap.v[HOIST_RES_CPU], 2000);
    assert_int_equal(cap.v[HOIST_RES_MEMORY], 7577 * MI);
    assert_int_equal(cap.v[HOIST_RES_EPHEMERAL_STORAGE], 20 * GI);
    assert_int_equal(cap.v[HOIST_RES_PODS], 29000);
    /* kube-reserved 70m, 11*29+255 = 574Mi, 1Gi; eviction 100Mi, 2Gi */
    assert_int_equal(alloc.v[HOIST_RES_CPU], 1930);
    assert_int_equal(alloc.v[HOIST_RES_MEMORY], (7577 - 574 - 100) * MI);
    assert_int_equal(alloc.v[HOIST_RES_EPHEMERAL_STORAGE], 17 * GI);
    assert_int_equal(alloc.v[HOIST_RES_PODS], 29000);

    hoist_node_overhead oh;
    hoist_allocatable(&it, NULL, &cap, &oh, &alloc);
    assert_int_equal(oh.kube_reserved.v[HOIST_RES_CPU], 70);
    assert_int_equal(oh.kube_reserved.v[HOIST_RES_MEMORY], 574 * MI);
    assert_int_equal(oh.kube_reserved.v[HOIST_RES_EPHEMERAL_STORAGE], GI);
    assert_true(hoist_resources_is_zero(&oh.system_reserved));
    assert_int_equal(oh.eviction.v[HOIST_RES_MEMORY], 100 * MI);
    assert_int_equal(oh.eviction.v[HOIST_RES_EPHEMERAL_STORAGE], 2 * GI);
}

static void test_graviton_cma_adjustment(void **state)
{
    (void)state;
    hoist_instance_type it = m5_large();
    it.name = "m6g.large";
    it.architecture = "arm64";
    hoist_resources cap, alloc;
    capacity_and_allocatable(&it, NULL, &cap, &alloc);
    /* (8192 - 64) = 8128 MiB less ceil(609.6) = 610 MiB */
    assert_int_equal(cap.v[HOIST_RES_MEMORY], 7518 * MI);
}

static void test_unknown_eni_limit_uses_110(void **state)
{
    (void)state;
    hoist_instance_type it = m5_large();
    it.max_pods = 0;
    hoist_resources cap, alloc;
    capacity_and_allocatable(&it, NULL, &cap, &alloc);
    assert_int_equal(cap.v[HOIST_RES_PODS], 110000);
    /* kube-reserved memory then follows the node's pods: 11*110+255 = 1465Mi */
    assert_int_equal(alloc.v[HOIST_RES_MEMORY], (7577 - 1465 - 100) * MI);
}

static void test_gpu_and_extended_capacity(void **state)
{
    (void)state;
    static const hoist_resource ext[] = {{"aws.amazon.com/neuron", 2000}};
    hoist_instance_type it = m5_large();
    it.gpu.count = 4;
    it.gpu.name = "a10g";
    it.gpu.manufacturer = "NVIDIA";
    it.gpu.memory_mib = 4 * 24576;
    it.extended = ext;
    it.n_extended = 1;
    hoist_resource_names names;
    hoist_resource_names_init(&names);
    hoist_resources cap, alloc;
    hoist_err err;
    assert_int_equal(hoist_instance_capacity(&it, NULL, &names, &cap, &err), 0);
    int gpu = hoist_resource_names_find(&names, "nvidia.com/gpu");
    int neuron = hoist_resource_names_find(&names, "aws.amazon.com/neuron");
    assert_true(gpu >= HOIST_RES_N_STANDARD);
    assert_true(neuron >= HOIST_RES_N_STANDARD);
    assert_int_equal(cap.v[gpu], 4000);
    assert_int_equal(cap.v[neuron], 2000);
    hoist_allocatable(&it, NULL, &cap, NULL, &alloc);
    assert_int_equal(alloc.v[gpu], 4000); /* nothing reserved from GPUs */
    it.gpu.manufacturer = "amd";
    assert_int_equal(hoist_instance_capacity(&it, NULL, &names, &cap, &err), 0);
    assert_int_equal(cap.v[hoist_resource_names_find(&names, "amd.com/gpu")], 4000);
    assert_int_equal(cap.v[gpu], 0);
    hoist_resource_names_free(&names);
}

/* ---- overrides ----------------------------------------------------------- */

static void test_max_pods_override(void **state)
{
    (void)state;
    hoist_instance_type it = m5_large();
    hoist_kubelet_config kc;
    hoist_resources cap, alloc;
    kubelet("{\"maxPods\": 110}", &kc);
    capacity_and_allocatable(&it, &kc, &cap, &alloc);
    assert_int_equal(cap.v[HOIST_RES_PODS], 110000);
    assert_int_equal(alloc.v[HOIST_RES_PODS], 110000);
    /* AL2023: kube-reserved memory stays sized by the ENI-limited 29 pods */
    assert_int_equal(alloc.v[HOIST_RES_MEMORY], (7577 - 574 - 100) * MI);
    kubelet("{\"maxPods\": 0}", &kc);
    capacity_and_allocatable(&it, &kc, &cap, &alloc);
    assert_int_equal(cap.v[HOIST_RES_PODS], 0);
}

static void test_pods_per_core(void **state)
{
    (void)state;
    hoist_instance_type it = m5_large();
    hoist_kubelet_config kc;
    hoist_resources cap, alloc;
    kubelet("{\"podsPerCore\": 4}", &kc);
    capacity_and_allocatable(&it, &kc, &cap, &alloc);
    assert_int_equal(cap.v[HOIST_RES_PODS], 8000);
    kubelet("{\"podsPerCore\": 40}", &kc); /* 80 > 29: ENI limit stays */
    capacity_and_allocatable(&it, &kc, &cap, &alloc);
    assert_int_equal(cap.v[HOIST_RES_PODS], 29000);
    kubelet("{\"podsPerCore\": 0}", &kc); /* 0 disables the per-core cap */
    capacity_and_allocatable(&it, &kc, &cap, &alloc);
    assert_int_equal(cap.v[HOIST_RES_PODS], 29000);
    kubelet("{\"podsPerCore\": 10, \"maxPods\": 15}", &kc);
    capacity_and_allocatable(&it, &kc, &cap, &alloc);
    assert_int_equal(cap.v[HOIST_RES_PODS], 15000);
}

static void test_kube_reserved_overrides_and_zeros(void **state)
{
    (void)state;
    hoist_instance_type it = m5_large();
    hoist_kubelet_config kc;
    hoist_resources cap, alloc;
    kubelet("{\"kubeReserved\": {\"memory\": \"0\"}}", &kc);
    capacity_and_allocatable(&it, &kc, &cap, &alloc);
    assert_int_equal(alloc.v[HOIST_RES_MEMORY], (7577 - 100) * MI); /* zero, not the default */
    assert_int_equal(alloc.v[HOIST_RES_CPU], 1930);                 /* cpu keeps its default */
    kubelet("{\"kubeReserved\": {\"cpu\": \"500m\", \"ephemeral-storage\": \"0\"}}", &kc);
    capacity_and_allocatable(&it, &kc, &cap, &alloc);
    assert_int_equal(alloc.v[HOIST_RES_CPU], 1500);
    assert_int_equal(alloc.v[HOIST_RES_EPHEMERAL_STORAGE], 18 * GI);
    assert_int_equal(alloc.v[HOIST_RES_MEMORY], (7577 - 574 - 100) * MI);
    kubelet("{\"kubeReserved\": {\"memory\": \"1Ti\", \"cpu\": \"3\"}}", &kc);
    capacity_and_allocatable(&it, &kc, &cap, &alloc);
    assert_int_equal(alloc.v[HOIST_RES_MEMORY], 0); /* never below zero */
    assert_int_equal(alloc.v[HOIST_RES_CPU], 0);
}

static void test_system_reserved(void **state)
{
    (void)state;
    hoist_instance_type it = m5_large();
    hoist_kubelet_config kc;
    hoist_resources cap, alloc;
    kubelet("{\"systemReserved\": {\"memory\": \"1Gi\", \"cpu\": \"100m\"}}", &kc);
    capacity_and_allocatable(&it, &kc, &cap, &alloc);
    assert_int_equal(alloc.v[HOIST_RES_MEMORY], (7577 - 574 - 100 - 1024) * MI);
    assert_int_equal(alloc.v[HOIST_RES_CPU], 1830);
}

static void test_eviction_hard_absolute_and_percent(void **state)
{
    (void)state;
    hoist_instance_type it = m5_large();
    hoist_kubelet_config kc;
    hoist_resources cap, alloc;
    kubelet("{\"evictionHard\": {\"memory.available\": \"500Mi\"}}", &kc);
    capacity_and_allocatable(&it, &kc, &cap, &alloc);
    assert_int_equal(alloc.v[HOIST_RES_MEMORY], (7577 - 574 - 500) * MI);
    assert_int_equal(alloc.v[HOIST_RES_EPHEMERAL_STORAGE], 17 * GI); /* nodefs keeps 10 % */
    /* 5 % of the 7577Mi capacity, rounded up to a byte */
    kubelet("{\"evictionHard\": {\"memory.available\": \"5%\"}}", &kc);
    capacity_and_allocatable(&it, &kc, &cap, &alloc);
    assert_int_equal(alloc.v[HOIST_RES_MEMORY], ((7577 - 574) * MIB - 397253018LL) * 1000);
    kubelet("{\"evictionHard\": {\"nodefs.available\": \"50%\"}}", &kc);
    capacity_and_allocatable(&it, &kc, &cap, &alloc);
    assert_int_equal(alloc.v[HOIST_RES_EPHEMERAL_STORAGE], 9 * GI);
    kubelet("{\"evictionHard\": {\"nodefs.available\": \"100%\", \"memory.available\": \"0\"}}",
            &kc);
    capacity_and_allocatable(&it, &kc, &cap, &alloc);
    assert_int_equal(alloc.v[HOIST_RES_EPHEMERAL_STORAGE], 19 * GI); /* 100% disables */
    assert_int_equal(alloc.v[HOIST_RES_MEMORY], (7577 - 574) * MI);
}

static void test_eviction_soft_takes_the_larger(void **state)
{
    (void)state;
    hoist_instance_type it = m5_large();
    hoist_kubelet_config kc;
    hoist_resources cap, alloc;
    kubelet("{\"evictionHard\": {\"memory.available\": \"500Mi\"},"
            " \"evictionSoft\": {\"memory.available\": \"1Gi\"}}", &kc);
    capacity_and_allocatable(&it, &kc, &cap, &alloc);
    assert_int_equal(alloc.v[HOIST_RES_MEMORY], (7577 - 574 - 1024) * MI);
    kubelet("{\"evictionHard\": {\"memory.available\": \"500Mi\"},"
            " \"evictionSoft\": {\"memory.available\": \"200Mi\"}}", &kc);
    capacity_and_allocatable(&it, &kc, &cap, &alloc);
    assert_int_equal(alloc.v[HOIST_RES_MEMORY], (7577 - 574 - 500) * MI);
    kubelet("{\"evictionSoft\": {\"memory.available\": \"50Mi\"}}", &kc);
    capacity_and_allocatable(&it, &kc, &cap, &alloc);
    /* a soft threshold alone replaces the 100Mi default, as Karpenter does */
    assert_int_equal(alloc.v[HOIST_RES_MEMORY], (7577 - 574 - 50) * MI);
}

static void test_vm_memory_overhead_percent(void **state)
{
    (void)state;
    hoist_instance_type it = m5_large();
    hoist_kubelet_config kc;
    hoist_resources cap, alloc;
    kubelet("{\"vmMemoryOverheadPercent\": 0}", &kc);
    capacity_and_allocatable(&it, &kc, &cap, &alloc);
    assert_int_equal(cap.v[HOIST_RES_MEMORY], 8192 * MI);
    assert_int_equal(alloc.v[HOIST_RES_MEMORY], (8192 - 574 - 100) * MI);
    kubelet("{\"vmMemoryOverheadPercent\": \"10\"}", &kc);
    capacity_and_allocatable(&it, &kc, &cap, &alloc);
    assert_int_equal(cap.v[HOIST_RES_MEMORY], (8192 - 820) * MI);
}

static void test_root_volume_and_raid0(void **state)
{
    (void)state;
    hoist_instance_type it = m5_large();
    it.local_nvme_gb = 75;
    hoist_kubelet_config kc;
    memset(&kc, 0, sizeof kc);
    hoist_resources cap, alloc;
    kc.has_root_volume = true;
    kc.root_volume = 100 * GI;
    capacity_and_allocatable(&it, &kc, &cap, &alloc);
    assert_int_equal(cap.v[HOIST_RES_EPHEMERAL_STORAGE], 100 * GI);
    assert_int_equal(alloc.v[HOIST_RES_EPHEMERAL_STORAGE], 89 * GI); /* - 1Gi - 10Gi */
    kc.instance_store_raid0 = true;
    capacity_and_allocatable(&it, &kc, &cap, &alloc);
    assert_int_equal(cap.v[HOIST_RES_EPHEMERAL_STORAGE], 75000000000LL * 1000);
    assert_int_equal(alloc.v[HOIST_RES_EPHEMERAL_STORAGE],
                     (75000000000LL - 1073741824LL - 7500000000LL) * 1000);
    it.local_nvme_gb = 0; /* no instance store: RAID0 falls back to the root volume */
    capacity_and_allocatable(&it, &kc, &cap, &alloc);
    assert_int_equal(cap.v[HOIST_RES_EPHEMERAL_STORAGE], 100 * GI);
}

/* ---- labels ---------------------------------------------------------------- */

static const char *label(const hoist_labels *l, const char *key)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->items[i].key, key) == 0)
            return l->items[i].value;
    return NULL;
}

static void test_labels(void **state)
{
    (void)state;
    hoist_arena a;
    hoist_arena_init(&a, 0);
    hoist_instance_type it = m5_large();
    hoist_labels l;
    assert_int_equal(hoist_instance_labels(&a, &it, &l), 0);
    assert_string_equal(label(&l, "node.kubernetes.io/instance-type"), "m5.large");
    assert_string_equal(label(&l, "kubernetes.io/arch"), "amd64");
    assert_string_equal(label(&l, "kubernetes.io/os"), "linux");
    assert_string_equal(label(&l, "hoist.dev/instance-category"), "m");
    assert_string_equal(label(&l, "hoist.dev/instance-family"), "m5");
    assert_string_equal(label(&l, "hoist.dev/instance-generation"), "5");
    assert_string_equal(label(&l, "hoist.dev/instance-size"), "large");
    assert_string_equal(label(&l, "hoist.dev/instance-cpu"), "2");
    assert_string_equal(label(&l, "hoist.dev/instance-memory"), "8192");
    assert_string_equal(label(&l, "hoist.dev/instance-hypervisor"), "nitro");
    assert_string_equal(label(&l, "hoist.dev/instance-cpu-manufacturer"), "intel");
    assert_string_equal(label(&l, "hoist.dev/instance-network-bandwidth"), "750");
    assert_null(label(&l, "hoist.dev/instance-local-nvme"));
    assert_null(label(&l, "hoist.dev/instance-gpu-count"));
    for (size_t i = 1; i < l.n; i++)
        assert_true(strcmp(l.items[i - 1].key, l.items[i].key) < 0);

    it.name = "p4d.24xlarge";
    it.hypervisor = "";
    it.local_nvme_gb = 8000;
    it.gpu.count = 8;
    it.gpu.name = "A100";
    it.gpu.manufacturer = "NVIDIA";
    it.gpu.memory_mib = 8 * 40960;
    assert_int_equal(hoist_instance_labels(&a, &it, &l), 0);
    assert_string_equal(label(&l, "hoist.dev/instance-hypervisor"), "");
    assert_string_equal(label(&l, "hoist.dev/instance-local-nvme"), "8000");
    assert_string_equal(label(&l, "hoist.dev/instance-gpu-name"), "a100");
    assert_string_equal(label(&l, "hoist.dev/instance-gpu-manufacturer"), "nvidia");
    assert_string_equal(label(&l, "hoist.dev/instance-gpu-count"), "8");
    assert_string_equal(label(&l, "hoist.dev/instance-gpu-memory"), "40960");
    hoist_arena_free(&a);
}

/* ---- Karpenter's published figures ----------------------------------------- */

/* Test-only catalog reader: the fields of the shared catalog that capacity
 * needs, in hoist_instance_type form, owned by `a`. Returns the count. */
static size_t load_catalog(hoist_arena *a, const char *path, hoist_instance_type **out)
{
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    if (!root)
        fail_msg("%s:%d: %s", path, jerr.line, jerr.text);
    assert_true(json_is_array(root));
    size_t n = json_array_size(root);
    hoist_instance_type *v = hoist_arena_calloc(a, n, sizeof *v);
    assert_non_null(v);
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_array_get(root, i);
        hoist_instance_type *it = &v[i];
        it->name = hoist_arena_strdup(a, json_string_value(json_object_get(o, "instance_type")));
        const char *arch = json_string_value(json_object_get(o, "architecture"));
        it->architecture = hoist_arena_strdup(a, arch ? arch : "");
        it->vcpus = (uint32_t)json_integer_value(json_object_get(o, "vcpus"));
        it->memory_mib = (uint64_t)json_integer_value(json_object_get(o, "memory_mib"));
        it->max_pods = (uint32_t)json_integer_value(json_object_get(o, "eks_max_pods"));
        json_t *gpu = json_object_get(o, "gpu");
        if (json_is_object(gpu)) {
            it->gpu.count = (uint32_t)json_integer_value(json_object_get(gpu, "count"));
            it->gpu.manufacturer =
                hoist_arena_strdup(a, json_string_value(json_object_get(gpu, "manufacturer")));
        }
        /* extended resources a provider reports: AWS accelerators and branch ENIs */
        hoist_resource *ext = hoist_arena_calloc(a, 2, sizeof *ext);
        assert_non_null(ext);
        size_t next = 0;
        json_t *acc = json_object_get(o, "accelerator");
        const char *maker = json_string_value(json_object_get(acc, "manufacturer"));
        if (maker && strcmp(maker, "aws") == 0)
            ext[next++] = (hoist_resource){"aws.amazon.com/neuron",
                                           HOIST_MILLI(json_integer_value(json_object_get(acc, "count")))};
        json_t *net = json_object_get(o, "network");
        if (json_is_true(json_object_get(net, "trunking_compatible")))
            ext[next++] = (hoist_resource){"vpc.amazonaws.com/pod-eni",
                                           HOIST_MILLI(json_integer_value(json_object_get(net, "branch_enis")))};
        it->extended = ext;
        it->n_extended = next;
    }
    json_decref(root);
    *out = v;
    return n;
}

static const hoist_instance_type *find_type(const hoist_instance_type *v, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (v[i].name && strcmp(v[i].name, name) == 0)
            return &v[i];
    return NULL;
}

static hoist_milli qty(const char *s, const char *row)
{
    hoist_quantity q;
    hoist_err err;
    if (hoist_quantity_parse(s, &q, &err) != 0)
        fail_msg("fixture row %s: %s", row, err.msg);
    return q.milli;
}

static void test_karpenter_published_allocatable(void **state)
{
    (void)state;
    const char *shared = getenv("HOIST_SHARED_DATA");
    const char *src = getenv("HOIST_SRCDIR");
    char catalog[4096], fixture[4096];
    snprintf(catalog, sizeof catalog, "%s/aws-us-east-1/instance-types.json",
             shared ? shared : "../shared/data");
    snprintf(fixture, sizeof fixture, "%s/tests/data/allocatable/karpenter-published.tsv",
             src ? src : ".");
    FILE *probe = fopen(catalog, "r");
    if (!probe) {
        print_message("skipped: shared catalog %s not found (set HOIST_SHARED_DATA)\n", catalog);
        skip();
    }
    fclose(probe);

    hoist_arena a;
    hoist_arena_init(&a, 0);
    hoist_instance_type *types;
    size_t ntypes = load_catalog(&a, catalog, &types);
    FILE *f = fopen(fixture, "r");
    if (!f)
        fail_msg("cannot open %s", fixture);

    hoist_resource_names names;
    hoist_resource_names_init(&names);
    char line[1024];
    size_t rows = 0, matched = 0, absent = 0, mismatched = 0, extras = 0, no_eni = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '#' || line[0] == '\0')
            continue;
        char row[1024];
        snprintf(row, sizeof row, "%s", line);
        char *save = NULL;
        char *name = strtok_r(line, "\t", &save);
        char *cpu = strtok_r(NULL, "\t", &save);
        char *eph = strtok_r(NULL, "\t", &save);
        char *mem = strtok_r(NULL, "\t", &save);
        char *pods = strtok_r(NULL, "\t", &save);
        char *ext = strtok_r(NULL, "\t", &save);
        if (!name || !cpu || !eph || !mem || !pods || !ext)
            fail_msg("malformed fixture row: %s", row);
        rows++;
        const hoist_instance_type *it = find_type(types, ntypes, name);
        if (!it) {
            absent++;
            continue;
        }
        if (it->max_pods == 0) {
            /* the catalog has no ENI-limited pod count for this type, so hoist
             * falls back to 110 pods where Karpenter computed the ENI limit */
            no_eni++;
            print_message("not compared: %s (catalog has no eks_max_pods)\n", name);
            continue;
        }
        hoist_resources cap, alloc;
        hoist_err err;
        if (hoist_instance_capacity(it, NULL, &names, &cap, &err) != 0)
            fail_msg("%s: %s", name, err.msg);
        hoist_allocatable(it, NULL, &cap, NULL, &alloc);
        hoist_resources want;
        memset(&want, 0, sizeof want);
        want.v[HOIST_RES_CPU] = qty(cpu, row);
        want.v[HOIST_RES_EPHEMERAL_STORAGE] = qty(eph, row);
        want.v[HOIST_RES_MEMORY] = qty(mem, row);
        want.v[HOIST_RES_PODS] = qty(pods, row);
        bool ok = memcmp(want.v, alloc.v, sizeof(hoist_milli) * HOIST_RES_N_STANDARD) == 0;
        /* extended resources: name=qty pairs; vpc.amazonaws.com/efa is not in
         * the catalog (it gives no EFA count), so it is not compared */
        if (strcmp(ext, "-") != 0) {
            char *s2 = NULL;
            for (char *kv = strtok_r(ext, ",", &s2); kv; kv = strtok_r(NULL, ",", &s2)) {
                char *eq = strchr(kv, '=');
                if (!eq)
                    fail_msg("malformed extended resource in row: %s", row);
                *eq = '\0';
                if (strcmp(kv, "vpc.amazonaws.com/efa") == 0)
                    continue;
                int slot = hoist_resource_names_find(&names, kv);
                hoist_milli have = slot >= 0 ? alloc.v[slot] : 0;
                if (have != qty(eq + 1, row))
                    ok = false;
                extras++;
            }
        }
        if (ok) {
            matched++;
        } else {
            mismatched++;
            print_message("MISMATCH %s: published [%s] hoist cpu=%lldm eph=%lld mem=%lld "
                          "pods=%lld (milli)\n", name, row, (long long)alloc.v[0],
                          (long long)alloc.v[2], (long long)alloc.v[1], (long long)alloc.v[3]);
        }
    }
    fclose(f);
    hoist_resource_names_free(&names);
    hoist_arena_free(&a);
    print_message("karpenter-published: %zu rows, %zu matched, %zu mismatched, %zu not in the "
                  "catalog, %zu without an ENI limit in the catalog; %zu extended-resource "
                  "figures compared\n", rows, matched, mismatched, absent, no_eni, extras);
    assert_int_equal(mismatched, 0);
    assert_true(matched >= 180);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kube_reserved_cpu_bands),
        cmocka_unit_test(test_m5_large_defaults),
        cmocka_unit_test(test_graviton_cma_adjustment),
        cmocka_unit_test(test_unknown_eni_limit_uses_110),
        cmocka_unit_test(test_gpu_and_extended_capacity),
        cmocka_unit_test(test_max_pods_override),
        cmocka_unit_test(test_pods_per_core),
        cmocka_unit_test(test_kube_reserved_overrides_and_zeros),
        cmocka_unit_test(test_system_reserved),
        cmocka_unit_test(test_eviction_hard_absolute_and_percent),
        cmocka_unit_test(test_eviction_soft_takes_the_larger),
        cmocka_unit_test(test_vm_memory_overhead_percent),
        cmocka_unit_test(test_root_volume_and_raid0),
        cmocka_unit_test(test_labels),
        cmocka_unit_test(test_karpenter_published_allocatable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
