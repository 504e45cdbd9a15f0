/* tests/unit/test_kube_trim.c - trimmed objects are much smaller and decode
 * to the same hoist objects as the originals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "kube/trim.h"
#include "model/load.h"
#include "model/objects.h"

/* Compact JSON size of v. */
static size_t json_size(const json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT);
    assert_non_null(s);
    size_t n = strlen(s);
    free(s);
    return n;
}

/* The first object of a shared data file (deep copy), or NULL when the shared
 * data is missing. */
static json_t *shared_object(const char *rel)
{
    const char *dir = getenv("HOIST_SHARED_DATA");
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir ? dir : "/work/shared/data", rel);
    struct stat st;
    if (stat(path, &st) != 0)
        return NULL;
    hoist_docs docs;
    hoist_docs_init(&docs);
    hoist_err err = {{0}};
    if (hoist_docs_load_file(&docs, path, &err) < 0)
        fail_msg("%s", err.msg);
    assert_true(docs.n >= 1);
    json_t *obj = json_deep_copy(docs.items[0].json);
    hoist_docs_free(&docs);
    return obj;
}

static void decode(hoist_objects *o, const json_t *obj)
{
    hoist_err err = {{0}};
    if (hoist_objects_add_json(o, obj, NULL, &err) < 0)
        fail_msg("decode: %s", err.msg);
}

static void assert_same_resources(const hoist_resources *a, const hoist_resources *b)
{
    assert_memory_equal(a, b, sizeof *a);
}

static void assert_same_labels(const hoist_labels *a, const hoist_labels *b)
{
    assert_int_equal(a->n, b->n);
    for (size_t i = 0; i < a->n; i++) {
        assert_string_equal(a->items[i].key, b->items[i].key);
        assert_string_equal(a->items[i].value, b->items[i].value);
    }
}

static void assert_same_pod(const hoist_pod *a, const hoist_pod *b)
{
    assert_string_equal(a->ns, b->ns);
    assert_string_equal(a->name, b->name);
    assert_true((a->uid == NULL) == (b->uid == NULL));
    if (a->uid)
        assert_string_equal(a->uid, b->uid);
    assert_same_labels(&a->labels, &b->labels);
    assert_int_equal(a->do_not_disrupt, b->do_not_disrupt);
    assert_int_equal(a->safe_to_evict, b->safe_to_evict);
    assert_int_equal(a->has_deletion_cost, b->has_deletion_cost);
    assert_int_equal(a->deletion_cost, b->deletion_cost);
    assert_true((a->node_name == NULL) == (b->node_name == NULL));
    if (a->node_name)
        assert_string_equal(a->node_name, b->node_name);
    assert_string_equal(a->phase, b->phase);
    assert_int_equal(a->terminating, b->terminating);
    assert_int_equal(a->priority, b->priority);
    assert_string_equal(a->scheduler_name, b->scheduler_name);
    assert_true((a->owner_kind == NULL) == (b->owner_kind == NULL));
    if (a->owner_kind) {
        assert_string_equal(a->owner_kind, b->owner_kind);
        assert_string_equal(a->owner_name, b->owner_name);
    }
    assert_same_labels(&a->node_selector, &b->node_selector);
    assert_int_equal(a->node_affinity.n, b->node_affinity.n);
    assert_int_equal(a->n_preferred_node_affinity, b->n_preferred_node_affinity);
    assert_int_equal(a->pod_affinity.n, b->pod_affinity.n);
    assert_int_equal(a->pod_anti_affinity.n, b->pod_anti_affinity.n);
    assert_int_equal(a->pod_anti_affinity_preferred.n, b->pod_anti_affinity_preferred.n);
    assert_int_equal(a->tolerations.n, b->tolerations.n);
    assert_int_equal(a->n_spread, b->n_spread);
    assert_int_equal(a->claims.n, b->claims.n);
    for (size_t i = 0; i < a->claims.n; i++)
        assert_string_equal(a->claims.items[i], b->claims.items[i]);
    assert_int_equal(a->has_empty_dir, b->has_empty_dir);
    assert_int_equal(a->has_host_path, b->has_host_path);
    assert_same_resources(&a->requests, &b->requests);
}

/* Decode original and trimmed copies of a pod; both must agree; the trimmed
 * one must be at most max_percent of the original's size. */
static void check_pod(json_t *pod, int max_percent)
{
    json_t *trimmed = json_deep_copy(pod);
    hoist_kube_trim(trimmed);
    size_t before = json_size(pod), after = json_size(trimmed);
    if (after * 100 > before * (size_t)max_percent)
        fail_msg("trimmed pod is %zu bytes of %zu (more than %d %%)", after, before, max_percent);
    assert_null(json_object_get(json_object_get(trimmed, "metadata"), "managedFields"));
    hoist_objects a, b;
    hoist_objects_init(&a);
    hoist_objects_init(&b);
    decode(&a, pod);
    decode(&b, trimmed);
    assert_int_equal(a.n_pods, 1);
    assert_int_equal(b.n_pods, 1);
    /* resource slots are interned per snapshot; both decode the same names in order */
    assert_int_equal(a.names.count, b.names.count);
    assert_same_pod(a.pods[0], b.pods[0]);
    hoist_objects_free(&a);
    hoist_objects_free(&b);
    json_decref(trimmed);
}

static void test_real_pod(void **state)
{
    (void)state;
    json_t *pod = shared_object("k8s/apimachinery-managedfields-testdata/pod.yaml");
    if (!pod)
        skip();
    check_pod(pod, 50);
    json_decref(pod);
}

static void test_roundtrip_pod_every_field(void **state)
{
    (void)state;
    json_t *pod = shared_object("k8s/kubernetes-api-roundtrip-testdata/core.v1.Pod.json");
    if (!pod)
        skip();
    /* the fixture's placeholder values do not all decode; keep what hoist can
     * read and check the rest is cut */
    json_t *trimmed = json_deep_copy(pod);
    hoist_kube_trim(trimmed);
    assert_true(json_size(trimmed) * 4 < json_size(pod));
    json_t *spec = json_object_get(trimmed, "spec");
    assert_non_null(json_object_get(spec, "containers"));
    assert_null(json_object_get(spec, "dnsConfig"));
    assert_null(json_object_get(spec, "securityContext"));
    json_t *c0 = json_array_get(json_object_get(spec, "containers"), 0);
    assert_non_null(json_object_get(c0, "resources"));
    assert_null(json_object_get(c0, "env"));
    assert_null(json_object_get(c0, "livenessProbe"));
    assert_null(json_object_get(c0, "volumeMounts"));
    json_t *status = json_object_get(trimmed, "status");
    assert_int_equal(json_object_size(status), json_object_get(status, "phase") ? 1 : 0);
    json_decref(trimmed);
    json_decref(pod);
}

static void test_real_node(void **state)
{
    (void)state;
    json_t *node = shared_object("k8s/apimachinery-managedfields-testdata/node.yaml");
    if (!node)
        skip();
    json_t *trimmed = json_deep_copy(node);
    hoist_kube_trim(trimmed);
    assert_true(json_size(trimmed) * 100 < json_size(node) * 50);
    assert_null(json_object_get(json_object_get(trimmed, "status"), "images"));
    hoist_objects a, b;
    hoist_objects_init(&a);
    hoist_objects_init(&b);
    decode(&a, node);
    decode(&b, trimmed);
    const hoist_node *x = a.nodes[0], *y = b.nodes[0];
    assert_string_equal(x->name, y->name);
    assert_same_labels(&x->labels, &y->labels);
    assert_int_equal(x->taints.n, y->taints.n);
    assert_same_resources(&x->capacity, &y->capacity);
    assert_same_resources(&x->allocatable, &y->allocatable);
    assert_int_equal(x->ready, y->ready);
    assert_int_equal(x->created, y->created);
    assert_int_equal(x->unschedulable, y->unschedulable);
    assert_true((x->provider_id == NULL) == (y->provider_id == NULL));
    hoist_objects_free(&a);
    hoist_objects_free(&b);
    json_decref(trimmed);
    json_decref(node);
}

/* A hand-made pod exercising every kept field, independent of shared data. */
static void test_annotations_volumes_containers(void **state)
{
    (void)state;
    json_error_t jerr;
    json_t *pod = json_loads(
        "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"namespace\":\"n\","
        "\"uid\":\"u1\",\"resourceVersion\":\"9\",\"generateName\":\"p-\",\"finalizers\":[\"x\"],"
        "\"managedFields\":[{\"manager\":\"m\",\"fieldsV1\":{\"f:spec\":{}}}],"
        "\"annotations\":{\"kubectl.kubernetes.io/last-applied-configuration\":\"{...big...}\","
        "\"karpenter.sh/do-not-disrupt\":\"true\",\"hoist.dev/x\":\"1\","
        "\"controller.kubernetes.io/pod-deletion-cost\":\"-5\","
        "\"cluster-autoscaler.kubernetes.io/safe-to-evict\":\"false\"},"
        "\"ownerReferences\":[{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"name\":\"rs\","
        "\"uid\":\"u2\",\"controller\":true,\"blockOwnerDeletion\":true}]},"
        "\"spec\":{\"nodeName\":\"node-1\",\"priority\":100,\"dnsPolicy\":\"ClusterFirst\","
        "\"serviceAccountName\":\"sa\",\"tolerations\":[{\"key\":\"k\",\"operator\":\"Exists\"}],"
        "\"initContainers\":[{\"name\":\"side\",\"image\":\"i\",\"restartPolicy\":\"Always\","
        "\"resources\":{\"requests\":{\"cpu\":\"100m\"},\"claims\":[{\"name\":\"gpu\"}]}}],"
        "\"containers\":[{\"name\":\"c\",\"image\":\"i\",\"command\":[\"sh\"],"
        "\"env\":[{\"name\":\"A\",\"value\":\"1\"}],\"ports\":[{\"containerPort\":80}],"
        "\"readinessProbe\":{\"httpGet\":{\"path\":\"/\"}},\"volumeMounts\":[{\"name\":\"v\","
        "\"mountPath\":\"/v\"}],\"resources\":{\"requests\":{\"cpu\":\"1\",\"memory\":\"1Gi\"},"
        "\"limits\":{\"nvidia.com/gpu\":\"1\"}}}],"
        "\"volumes\":[{\"name\":\"v\",\"persistentVolumeClaim\":{\"claimName\":\"data\"}},"
        "{\"name\":\"cfg\",\"configMap\":{\"name\":\"big\",\"items\":[{\"key\":\"a\","
        "\"path\":\"b\"}]}},{\"name\":\"tmp\",\"emptyDir\":{}},"
        "{\"name\":\"e\",\"ephemeral\":{\"volumeClaimTemplate\":{\"spec\":{}}}}]},"
        "\"status\":{\"phase\":\"Running\",\"podIP\":\"10.0.0.1\",\"conditions\":[{\"type\":"
        "\"Ready\"}],\"containerStatuses\":[{\"name\":\"c\"}]}}",
        0, &jerr);
    assert_non_null(pod);
    check_pod(pod, 60);
    json_t *t = json_deep_copy(pod);
    hoist_kube_trim(t);
    json_t *md = json_object_get(t, "metadata");
    json_t *ann = json_object_get(md, "annotations");
    assert_int_equal(json_object_size(ann), 4);
    assert_null(json_object_get(ann, "kubectl.kubernetes.io/last-applied-configuration"));
    assert_null(json_object_get(md, "finalizers"));
    assert_string_equal(json_string_value(json_object_get(md, "resourceVersion")), "9");
    json_t *owner = json_array_get(json_object_get(md, "ownerReferences"), 0);
    assert_null(json_object_get(owner, "blockOwnerDeletion"));
    assert_true(json_is_true(json_object_get(owner, "controller")));
    json_t *vols = json_object_get(json_object_get(t, "spec"), "volumes");
    assert_int_equal(json_array_size(vols), 4);
    assert_int_equal(json_object_size(json_array_get(vols, 1)), 1); /* configMap cut, name kept */
    json_t *init = json_array_get(json_object_get(json_object_get(t, "spec"), "initContainers"), 0);
    assert_string_equal(json_string_value(json_object_get(init, "restartPolicy")), "Always");
    assert_null(json_object_get(json_object_get(init, "resources"), "claims"));
    json_decref(t);
    json_decref(pod);
}

static void test_other_kinds(void **state)
{
    (void)state;
    json_error_t jerr;
    json_t *np = json_loads("{\"apiVersion\":\"karpenter.sh/v1\",\"kind\":\"NodePool\","
                            "\"metadata\":{\"name\":\"d\",\"managedFields\":[]},"
                            "\"spec\":{\"template\":{\"spec\":{\"requirements\":[]}},"
                            "\"unknownFutureField\":1},\"status\":{\"resources\":{\"cpu\":\"4\"}}}",
                            0, &jerr);
    hoist_kube_trim(np);
    assert_null(json_object_get(np, "status"));
    assert_non_null(json_object_get(json_object_get(np, "spec"), "unknownFutureField"));
    json_decref(np);

    json_t *pdb = json_loads("{\"kind\":\"PodDisruptionBudget\",\"metadata\":{\"name\":\"p\"},"
                             "\"spec\":{\"minAvailable\":1,\"selector\":{}},\"status\":{"
                             "\"disruptionsAllowed\":1,\"disruptedPods\":{\"a\":\"t\"},"
                             "\"conditions\":[{}],\"observedGeneration\":3}}",
                             0, &jerr);
    hoist_kube_trim(pdb);
    json_t *st = json_object_get(pdb, "status");
    assert_int_equal(json_object_size(st), 1);
    assert_int_equal(json_integer_value(json_object_get(st, "disruptionsAllowed")), 1);
    json_decref(pdb);

    json_t *ds = json_loads("{\"kind\":\"DaemonSet\",\"metadata\":{\"name\":\"ds\"},\"spec\":"
                            "{\"selector\":{},\"updateStrategy\":{},\"template\":{\"metadata\":"
                            "{\"labels\":{\"a\":\"b\"},\"annotations\":{\"x\":\"y\"}},\"spec\":"
                            "{\"containers\":[{\"name\":\"c\",\"image\":\"i\",\"resources\":{}}]}}},"
                            "\"status\":{\"numberReady\":3}}",
                            0, &jerr);
    hoist_kube_trim(ds);
    assert_null(json_object_get(ds, "status"));
    json_t *tmpl = json_object_get(json_object_get(ds, "spec"), "template");
    assert_null(json_object_get(json_object_get(tmpl, "metadata"), "annotations"));
    json_t *c = json_array_get(json_object_get(json_object_get(tmpl, "spec"), "containers"), 0);
    assert_null(json_object_get(c, "image"));
    assert_non_null(json_object_get(c, "resources"));
    json_decref(ds);

    /* wrong types are left for the decoder to report */
    json_t *bad = json_loads("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"},"
                             "\"spec\":{\"containers\":\"oops\"}}", 0, &jerr);
    hoist_kube_trim(bad);
    assert_string_equal(json_string_value(json_object_get(json_object_get(bad, "spec"),
                                                          "containers")), "oops");
    hoist_objects o;
    hoist_objects_init(&o);
    hoist_err err = {{0}};
    assert_int_equal(hoist_objects_add_json(&o, bad, NULL, &err), -1);
    if (!strstr(err.msg, "spec.containers"))
        fail_msg("message: %s", err.msg);
    hoist_objects_free(&o);
    json_decref(bad);
    hoist_kube_trim(NULL); /* harmless */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_pod),
        cmocka_unit_test(test_roundtrip_pod_every_field),
        cmocka_unit_test(test_real_node),
        cmocka_unit_test(test_annotations_volumes_containers),
        cmocka_unit_test(test_other_kinds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
