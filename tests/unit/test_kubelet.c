/* test_kubelet.c - decoding and merging kubelet settings (model/kubelet.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "model/kubelet.h"

#define MI (1048576LL * 1000)
#define GI (1024 * MI)

/* Decode `text` into *cfg (zeroed first); returns the decoder's result. */
static int decode(const char *text, hoist_kubelet_config *cfg, hoist_err *err)
{
    json_error_t jerr;
    json_t *obj = json_loads(text, 0, &jerr);
    assert_non_null(obj);
    hoist_resource_names names;
    hoist_resource_names_init(&names);
    memset(cfg, 0, sizeof *cfg);
    hoist_err_clear(err);
    int rc = hoist_kubelet_from_json(&names, obj, cfg, err);
    hoist_resource_names_free(&names);
    json_decref(obj);
    return rc;
}

static void test_empty_object_sets_nothing(void **state)
{
    (void)state;
    hoist_kubelet_config c, zero;
    hoist_err err;
    memset(&zero, 0, sizeof zero);
    assert_int_equal(decode("{}", &c, &err), 0);
    assert_memory_equal(&c, &zero, sizeof c);
}

static void test_full_object(void **state)
{
    (void)state;
    hoist_kubelet_config c;
    hoist_err err;
    int rc = decode("{\"maxPods\": 110, \"podsPerCore\": 10,"
                    " \"kubeReserved\": {\"cpu\": \"200m\", \"memory\": \"1Gi\","
                    "   \"ephemeral-storage\": \"3Gi\", \"pid\": \"1000\"},"
                    " \"systemReserved\": {\"memory\": \"512Mi\"},"
                    " \"evictionHard\": {\"memory.available\": \"5%\", \"nodefs.available\": \"2Gi\","
                    "   \"imagefs.available\": \"15%\"},"
                    " \"evictionSoft\": {\"memory.available\": \"300Mi\"},"
                    " \"evictionSoftGracePeriod\": {\"memory.available\": \"1m\"},"
                    " \"clusterDNS\": [\"10.0.0.10\"],"
                    " \"vmMemoryOverheadPercent\": 5}",
                    &c, &err);
    assert_int_equal(rc, 0);
    assert_true(c.has_max_pods);
    assert_int_equal(c.max_pods, 110);
    assert_true(c.has_pods_per_core);
    assert_int_equal(c.pods_per_core, 10);
    assert_int_equal(c.kube_reserved_set, (1u << HOIST_RES_CPU) | (1u << HOIST_RES_MEMORY) |
                                              (1u << HOIST_RES_EPHEMERAL_STORAGE));
    assert_int_equal(c.kube_reserved.v[HOIST_RES_CPU], 200);
    assert_int_equal(c.kube_reserved.v[HOIST_RES_MEMORY], GI);
    assert_int_equal(c.kube_reserved.v[HOIST_RES_EPHEMERAL_STORAGE], 3 * GI);
    assert_int_equal(c.system_reserved_set, 1u << HOIST_RES_MEMORY);
    assert_int_equal(c.system_reserved.v[HOIST_RES_MEMORY], 512 * MI);
    const hoist_eviction_threshold *mem = &c.eviction_hard[HOIST_EVICT_MEMORY_AVAILABLE];
    assert_true(mem->set);
    assert_true(mem->is_percent);
    assert_true(mem->percent == 5.0);
    const hoist_eviction_threshold *fs = &c.eviction_hard[HOIST_EVICT_NODEFS_AVAILABLE];
    assert_true(fs->set);
    assert_false(fs->is_percent);
    assert_int_equal(fs->amount, 2 * GI);
    assert_true(c.eviction_soft[HOIST_EVICT_MEMORY_AVAILABLE].set);
    assert_int_equal(c.eviction_soft[HOIST_EVICT_MEMORY_AVAILABLE].amount, 300 * MI);
    assert_false(c.eviction_soft[HOIST_EVICT_NODEFS_AVAILABLE].set);
    assert_true(c.has_vm_memory_overhead_percent);
    assert_true(c.vm_memory_overhead_percent == 5.0);
}

static void test_explicit_zeros_are_set(void **state)
{
    (void)state;
    hoist_kubelet_config c;
    hoist_err err;
    assert_int_equal(decode("{\"maxPods\": 0, \"podsPerCore\": 0,"
                            " \"kubeReserved\": {\"memory\": \"0\", \"cpu\": \"0m\"},"
                            " \"systemReserved\": {\"cpu\": \"0\"},"
                            " \"evictionHard\": {\"memory.available\": \"0%\"},"
                            " \"vmMemoryOverheadPercent\": \"0\"}",
                            &c, &err),
                     0);
    assert_true(c.has_max_pods);
    assert_int_equal(c.max_pods, 0);
    assert_true(c.has_pods_per_core);
    assert_true(c.kube_reserved_set & (1u << HOIST_RES_MEMORY));
    assert_true(c.kube_reserved_set & (1u << HOIST_RES_CPU));
    assert_int_equal(c.kube_reserved.v[HOIST_RES_MEMORY], 0);
    assert_true(c.system_reserved_set & (1u << HOIST_RES_CPU));
    assert_true(c.eviction_hard[HOIST_EVICT_MEMORY_AVAILABLE].set);
    assert_true(c.has_vm_memory_overhead_percent);
    assert_true(c.vm_memory_overhead_percent == 0.0);
}

static void test_overhead_percent_spellings(void **state)
{
    (void)state;
    hoist_kubelet_config c;
    hoist_err err;
    assert_int_equal(decode("{\"vmMemoryOverheadPercent\": \"7.5\"}", &c, &err), 0);
    assert_true(c.vm_memory_overhead_percent == 7.5);
    assert_int_equal(decode("{\"vmMemoryOverheadPercent\": \"12.5%\"}", &c, &err), 0);
    assert_true(c.vm_memory_overhead_percent == 12.5);
    assert_int_equal(decode("{\"vmMemoryOverheadPercent\": 3}", &c, &err), 0);
    assert_true(c.vm_memory_overhead_percent == 3.0);
}

static void test_decode_adds_to_existing(void **state)
{
    (void)state;
    hoist_resource_names names;
    hoist_resource_names_init(&names);
    hoist_kubelet_config c;
    memset(&c, 0, sizeof c);
    hoist_err err;
    json_t *a = json_loads("{\"maxPods\": 50}", 0, NULL);
    json_t *b = json_loads("{\"podsPerCore\": 4}", 0, NULL);
    assert_int_equal(hoist_kubelet_from_json(&names, a, &c, &err), 0);
    assert_int_equal(hoist_kubelet_from_json(&names, b, &c, &err), 0);
    assert_true(c.has_max_pods && c.max_pods == 50);
    assert_true(c.has_pods_per_core && c.pods_per_core == 4);
    /* a failing decode leaves cfg as it was */
    json_t *bad = json_loads("{\"maxPods\": 7, \"podsPerCore\": -1}", 0, NULL);
    assert_int_equal(hoist_kubelet_from_json(&names, bad, &c, &err), -1);
    assert_int_equal(c.max_pods, 50);
    json_decref(a);
    json_decref(b);
    json_decref(bad);
    hoist_resource_names_free(&names);
}

/* Bad input: every message names the field at fault. */
typedef struct bad_case {
    const char *json;
    const char *needle1;
    const char *needle2;
} bad_case;

static const bad_case bad_cases[] = {
    {"[]", "kubelet", "expected an object"},
    {"{\"maxPods\": \"110\"}", "maxPods", "integer"},
    {"{\"maxPods\": -1}", "maxPods", "negative"},
    {"{\"maxPods\": 1.5}", "maxPods", "integer"},
    {"{\"maxPods\": 99999999999}", "maxPods", "too large"},
    {"{\"podsPerCore\": true}", "podsPerCore", "integer"},
    {"{\"podsPerCore\": -3}", "podsPerCore", "negative"},
    {"{\"kubeReserved\": \"1Gi\"}", "kubeReserved", "object"},
    {"{\"kubeReserved\": {\"memory\": \"lots\"}}", "kubeReserved.memory", "lots"},
    {"{\"kubeReserved\": {\"memory\": 5}}", "kubeReserved.memory", "quantity string"},
    {"{\"kubeReserved\": {\"memory\": \"-1Gi\"}}", "kubeReserved.memory", "-1Gi"},
    {"{\"kubeReserved\": {\"gpu\": \"1\"}}", "kubeReserved.gpu", "unknown resource"},
    {"{\"systemReserved\": {\"cpu\": \"1x\"}}", "systemReserved.cpu", "1x"},
    {"{\"systemReserved\": {\"cpu\": \"99999999999999999999\"}}", "systemReserved.cpu", ""},
    {"{\"evictionHard\": {\"memory.available\": \"101%\"}}", "evictionHard.memory.available",
     "outside"},
    {"{\"evictionHard\": {\"memory.available\": \"-5%\"}}", "evictionHard.memory.available",
     "outside"},
    {"{\"evictionHard\": {\"memory.available\": \"abc%\"}}", "evictionHard.memory.available",
     "invalid percentage"},
    {"{\"evictionHard\": {\"memory.available\": \"%\"}}", "evictionHard.memory.available",
     "invalid percentage"},
    {"{\"evictionHard\": {\"memory.available\": \"100Zi\"}}", "evictionHard.memory.available",
     "100Zi"},
    {"{\"evictionHard\": {\"memory.available\": 100}}", "evictionHard.memory.available",
     "string"},
    {"{\"evictionHard\": {\"memory.free\": \"1Gi\"}}", "evictionHard.memory.free",
     "unknown eviction signal"},
    {"{\"evictionSoft\": {\"nodefs.available\": \"\"}}", "evictionSoft.nodefs.available", ""},
    {"{\"evictionSoft\": []}", "evictionSoft", "object"},
    {"{\"vmMemoryOverheadPercent\": \"seven\"}", "vmMemoryOverheadPercent", "seven"},
    {"{\"vmMemoryOverheadPercent\": 100}", "vmMemoryOverheadPercent", "outside"},
    {"{\"vmMemoryOverheadPercent\": -1}", "vmMemoryOverheadPercent", "outside"},
    {"{\"vmMemoryOverheadPercent\": \"7.5x\"}", "vmMemoryOverheadPercent", "7.5x"},
    {"{\"vmMemoryOverheadPercent\": null}", "vmMemoryOverheadPercent", "number"},
    {"{\"maxpods\": 10}", "maxpods", "unknown kubelet field"},
};

static void test_bad_input_names_field(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        hoist_kubelet_config c;
        hoist_err err;
        int rc = decode(bad_cases[i].json, &c, &err);
        if (rc != -1 || !strstr(err.msg, bad_cases[i].needle1) ||
            !strstr(err.msg, bad_cases[i].needle2) || strncmp(err.msg, "kubelet", 7) != 0)
            fail_msg("case %zu %s: rc %d, message \"%s\"", i, bad_cases[i].json, rc, err.msg);
    }
}

static void test_overlay_field_by_field(void **state)
{
    (void)state;
    hoist_kubelet_config base, over;
    hoist_err err;
    assert_int_equal(decode("{\"maxPods\": 30, \"podsPerCore\": 5,"
                            " \"kubeReserved\": {\"cpu\": \"100m\", \"memory\": \"1Gi\"},"
                            " \"evictionHard\": {\"memory.available\": \"200Mi\"},"
                            " \"vmMemoryOverheadPercent\": 5}",
                            &base, &err),
                     0);
    assert_int_equal(decode("{\"maxPods\": 0,"
                            " \"kubeReserved\": {\"memory\": \"0\"},"
                            " \"systemReserved\": {\"cpu\": \"50m\"},"
                            " \"evictionHard\": {\"nodefs.available\": \"5%\"}}",
                            &over, &err),
                     0);
    over.has_root_volume = true;
    over.root_volume = 100 * GI;
    over.instance_store_raid0 = true;
    hoist_kubelet_overlay(&base, &over);
    assert_true(base.has_max_pods);
    assert_int_equal(base.max_pods, 0); /* explicit zero wins */
    assert_int_equal(base.pods_per_core, 5);
    assert_int_equal(base.kube_reserved.v[HOIST_RES_CPU], 100);
    assert_int_equal(base.kube_reserved.v[HOIST_RES_MEMORY], 0);
    assert_true(base.kube_reserved_set & (1u << HOIST_RES_MEMORY));
    assert_int_equal(base.system_reserved.v[HOIST_RES_CPU], 50);
    assert_int_equal(base.eviction_hard[HOIST_EVICT_MEMORY_AVAILABLE].amount, 200 * MI);
    assert_true(base.eviction_hard[HOIST_EVICT_NODEFS_AVAILABLE].is_percent);
    assert_true(base.vm_memory_overhead_percent == 5.0);
    assert_true(base.has_root_volume);
    assert_int_equal(base.root_volume, 100 * GI);
    assert_true(base.instance_store_raid0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_object_sets_nothing),
        cmocka_unit_test(test_full_object),
        cmocka_unit_test(test_explicit_zeros_are_set),
        cmocka_unit_test(test_overhead_percent_spellings),
        cmocka_unit_test(test_decode_adds_to_existing),
        cmocka_unit_test(test_bad_input_names_field),
        cmocka_unit_test(test_overlay_field_by_field),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
