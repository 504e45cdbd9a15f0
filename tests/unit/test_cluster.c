/* tests/unit/test_cluster.c - the cluster state store (state/cluster.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "state/cluster.h"
#include "test_json.h"

/* Apply one event given as JSON text; returns apply's result. */
static int apply(hoist_cluster *c, hoist_object_op op, const char *text, hoist_err *err)
{
    json_t *j = parse(text);
    hoist_object_event ev = {.op = op, .object = j};
    int rc = hoist_cluster_apply(c, &ev, err);
    json_decref(j);
    return rc;
}

static void assert_has(const char *s, const char *part)
{
    if (!strstr(s, part))
        fail_msg("\"%s\" does not contain \"%s\"", s, part);
}

/* A pending pod (or bound when node is given) requesting cpu, with label app=app. */
static char *pod_text(char *buf, size_t cap, const char *ns, const char *name, const char *cpu,
                      const char *app, const char *node)
{
    char nodefield[128] = "";
    if (node)
        snprintf(nodefield, sizeof nodefield, "\"nodeName\": \"%s\", ", node);
    snprintf(buf, cap,
             "{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"%s\", "
             "\"namespace\": \"%s\", \"labels\": {\"app\": \"%s\"}}, \"spec\": {%s"
             "\"containers\": [{\"name\": \"c\", \"resources\": {\"requests\": "
             "{\"cpu\": \"%s\", \"memory\": \"64Mi\"}}}]}, \"status\": {\"phase\": \"%s\"}}",
             name, ns, app, nodefield, cpu, node ? "Running" : "Pending");
    return buf;
}

static int add_pod(hoist_cluster *c, const char *ns, const char *name, const char *cpu,
                   const char *app, const char *node)
{
    char buf[1024];
    hoist_err err = {{0}};
    int rc = apply(c, HOIST_OBJECT_ADD, pod_text(buf, sizeof buf, ns, name, cpu, app, node), &err);
    if (rc < 0)
        fail_msg("add pod %s/%s: %s", ns, name, err.msg);
    return rc;
}

static int delete_pod(hoist_cluster *c, const char *ns, const char *name)
{
    char buf[256];
    hoist_err err = {{0}};
    snprintf(buf, sizeof buf, "{\"metadata\": {\"namespace\": \"%s\", \"name\": \"%s\"}}", ns,
             name);
    int rc = apply(c, HOIST_OBJECT_DELETE, buf, &err);
    if (rc < 0)
        fail_msg("delete pod %s/%s: %s", ns, name, err.msg);
    return rc;
}

/* ---- every kind: add, update, delete ------------------------------------ */

/* One kind: its object in version 1 and 2, a delete stub, and a check that
 * the snapshot holds version v (0 = absent). */
typedef struct kind_case {
    const char *v1, *v2, *stub;
    void (*check)(const hoist_objects *o, int v);
} kind_case;

static void check_pod(const hoist_objects *o, int v)
{
    const hoist_pod *p = hoist_objects_find_pod(o, "shop", "web");
    if (!v) {
        assert_null(p);
        return;
    }
    assert_non_null(p);
    assert_int_equal(o->n_pods, 1);
    assert_int_equal(p->requests.v[HOIST_RES_CPU], v == 1 ? 1000 : 2000);
}

static void check_node(const hoist_objects *o, int v)
{
    const hoist_node *n = hoist_objects_find_node(o, "n1");
    if (!v) {
        assert_null(n);
        return;
    }
    assert_non_null(n);
    assert_int_equal(o->n_nodes, 1);
    assert_int_equal(n->unschedulable, v == 2);
    assert_string_equal(hoist_labels_get(&n->labels, "zone"), v == 1 ? "a" : "b");
}

static void check_nodepool(const hoist_objects *o, int v)
{
    const hoist_nodepool *np = hoist_objects_find_nodepool(o, "np");
    if (!v) {
        assert_null(np);
        return;
    }
    assert_non_null(np);
    assert_int_equal(o->n_nodepools, 1);
    assert_int_equal(np->weight, v == 1 ? 10 : 20);
}

static void check_nodeclass(const hoist_objects *o, int v)
{
    const hoist_nodeclass *nc = hoist_objects_find_nodeclass(o, "EC2NodeClass", "nc");
    if (!v) {
        assert_null(nc);
        return;
    }
    assert_non_null(nc);
    assert_int_equal(o->n_nodeclasses, 1);
    if (v == 1)
        assert_string_equal(nc->instance_store_policy, "RAID0");
    else
        assert_null(nc->instance_store_policy);
}

static void check_pv(const hoist_objects *o, int v)
{
    const hoist_pv *pv = hoist_objects_find_pv(o, "pv1");
    if (!v) {
        assert_null(pv);
        return;
    }
    assert_non_null(pv);
    assert_int_equal(o->n_pvs, 1);
    assert_true(pv->capacity == (hoist_milli)(v == 1 ? 10 : 20) * 1024 * 1024 * 1024 * 1000);
}

static void check_pvc(const hoist_objects *o, int v)
{
    const hoist_pvc *pvc = hoist_objects_find_pvc(o, "shop", "data");
    if (!v) {
        assert_null(pvc);
        return;
    }
    assert_non_null(pvc);
    assert_int_equal(o->n_pvcs, 1);
    assert_string_equal(pvc->volume_name, v == 1 ? "pv1" : "pv2");
}

static void check_storage_class(const hoist_objects *o, int v)
{
    const hoist_storage_class *sc = hoist_objects_find_storage_class(o, "fast");
    if (!v) {
        assert_null(sc);
        return;
    }
    assert_non_null(sc);
    assert_int_equal(o->n_storage_classes, 1);
    assert_string_equal(sc->provisioner, v == 1 ? "ebs.csi.aws.com" : "other.example.com");
}

static void check_daemonset(const hoist_objects *o, int v)
{
    if (!v) {
        assert_int_equal(o->n_daemonsets, 0);
        return;
    }
    assert_int_equal(o->n_daemonsets, 1);
    const hoist_daemonset *ds = o->daemonsets[0];
    assert_string_equal(ds->ns, "kube-system");
    assert_string_equal(ds->name, "agent");
    assert_int_equal(ds->pod.requests.v[HOIST_RES_CPU], v == 1 ? 100 : 200);
}

static void check_pdb(const hoist_objects *o, int v)
{
    if (!v) {
        assert_int_equal(o->n_pdbs, 0);
        return;
    }
    assert_int_equal(o->n_pdbs, 1);
    assert_string_equal(o->pdbs[0]->ns, "default");
    assert_string_equal(o->pdbs[0]->name, "pdb");
    assert_true(o->pdbs[0]->min_available.set);
    assert_int_equal(o->pdbs[0]->min_available.value, v);
}

static void check_namespace(const hoist_objects *o, int v)
{
    const hoist_namespace *ns = hoist_objects_find_namespace(o, "team");
    if (!v) {
        assert_null(ns);
        return;
    }
    assert_non_null(ns);
    assert_int_equal(o->n_namespaces, 1);
    assert_string_equal(hoist_labels_get(&ns->labels, "tier"), v == 1 ? "gold" : "silver");
}

#define POD_JSON(cpu)                                                                          \
    "{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"web\", "           \
    "\"namespace\": \"shop\"}, \"spec\": {\"containers\": [{\"name\": \"c\", \"resources\": " \
    "{\"requests\": {\"cpu\": \"" cpu "\"}}}]}}"
#define NODE_JSON(zone, unsched)                                                                \
    "{\"apiVersion\": \"v1\", \"kind\": \"Node\", \"metadata\": {\"name\": \"n1\", "            \
    "\"labels\": {\"zone\": \"" zone "\"}}, \"spec\": {\"unschedulable\": " unsched "}}"
#define NODEPOOL_JSON(weight)                                                                   \
    "{\"apiVersion\": \"karpenter.sh/v1\", \"kind\": \"NodePool\", \"metadata\": {\"name\": "   \
    "\"np\"}, \"spec\": {\"weight\": " weight ", \"template\": {\"spec\": {\"nodeClassRef\": " \
    "{\"group\": \"g\", \"kind\": \"EC2NodeClass\", \"name\": \"nc\"}}}}}"
#define PV_JSON(size)                                                                           \
    "{\"apiVersion\": \"v1\", \"kind\": \"PersistentVolume\", \"metadata\": {\"name\": "        \
    "\"pv1\"}, \"spec\": {\"capacity\": {\"storage\": \"" size "\"}}}"
#define PVC_JSON(volume)                                                                        \
    "{\"apiVersion\": \"v1\", \"kind\": \"PersistentVolumeClaim\", \"metadata\": {\"name\": "   \
    "\"data\", \"namespace\": \"shop\"}, \"spec\": {\"volumeName\": \"" volume "\"}}"
#define SC_JSON(prov)                                                                           \
    "{\"apiVersion\": \"storage.k8s.io/v1\", \"kind\": \"StorageClass\", \"metadata\": "        \
    "{\"name\": \"fast\"}, \"provisioner\": \"" prov "\"}"
#define DS_JSON(cpu)                                                                            \
    "{\"apiVersion\": \"apps/v1\", \"kind\": \"DaemonSet\", \"metadata\": {\"name\": "          \
    "\"agent\", \"namespace\": \"kube-system\"}, \"spec\": {\"template\": {\"spec\": "          \
    "{\"containers\": [{\"name\": \"c\", \"resources\": {\"requests\": {\"cpu\": \"" cpu       \
    "\"}}}]}}}}"
#define PDB_JSON(min)                                                                           \
    "{\"apiVersion\": \"policy/v1\", \"kind\": \"PodDisruptionBudget\", \"metadata\": "         \
    "{\"name\": \"pdb\"}, \"spec\": {\"minAvailable\": " min "}}"
#define NS_JSON(tier)                                                                           \
    "{\"apiVersion\": \"v1\", \"kind\": \"Namespace\", \"metadata\": {\"name\": \"team\", "     \
    "\"labels\": {\"tier\": \"" tier "\"}}}"

static const kind_case kind_cases[] = {
    {POD_JSON("1"), POD_JSON("2"), "{\"metadata\": {\"namespace\": \"shop\", \"name\": \"web\"}}",
     check_pod},
    {NODE_JSON("a", "false"), NODE_JSON("b", "true"),
     "{\"kind\": \"Node\", \"metadata\": {\"name\": \"n1\"}}", check_node},
    {NODEPOOL_JSON("10"), NODEPOOL_JSON("20"),
     "{\"kind\": \"NodePool\", \"metadata\": {\"name\": \"np\"}}", check_nodepool},
    {"{\"apiVersion\": \"karpenter.k8s.aws/v1\", \"kind\": \"EC2NodeClass\", \"metadata\": "
     "{\"name\": \"nc\"}, \"spec\": {\"instanceStorePolicy\": \"RAID0\"}}",
     "{\"apiVersion\": \"karpenter.k8s.aws/v1\", \"kind\": \"EC2NodeClass\", \"metadata\": "
     "{\"name\": \"nc\"}, \"spec\": {}}",
     "{\"kind\": \"EC2NodeClass\", \"metadata\": {\"name\": \"nc\"}}", check_nodeclass},
    {PV_JSON("10Gi"), PV_JSON("20Gi"),
     "{\"kind\": \"PersistentVolume\", \"metadata\": {\"name\": \"pv1\"}}", check_pv},
    {PVC_JSON("pv1"), PVC_JSON("pv2"),
     "{\"kind\": \"PersistentVolumeClaim\", \"metadata\": {\"name\": \"data\", "
     "\"namespace\": \"shop\"}}",
     check_pvc},
    {SC_JSON("ebs.csi.aws.com"), SC_JSON("other.example.com"),
     "{\"kind\": \"StorageClass\", \"metadata\": {\"name\": \"fast\"}}", check_storage_class},
    {DS_JSON("100m"), DS_JSON("200m"),
     "{\"kind\": \"DaemonSet\", \"metadata\": {\"name\": \"agent\", "
     "\"namespace\": \"kube-system\"}}",
     check_daemonset},
    /* a PDB without a namespace lives in "default"; its stub names it explicitly */
    {PDB_JSON("1"), PDB_JSON("2"),
     "{\"kind\": \"PodDisruptionBudget\", \"metadata\": {\"name\": \"pdb\", "
     "\"namespace\": \"default\"}}",
     check_pdb},
    {NS_JSON("gold"), NS_JSON("silver"),
     "{\"kind\": \"Namespace\", \"metadata\": {\"name\": \"team\"}}", check_namespace},
};

static void test_each_kind(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof kind_cases / sizeof kind_cases[0]; i++) {
        const kind_case *k = &kind_cases[i];
        hoist_cluster c;
        hoist_err err = {{0}};
        hoist_cluster_init(&c);
        k->check(hoist_cluster_objects(&c), 0);
        if (apply(&c, HOIST_OBJECT_ADD, k->v1, &err) != 1)
            fail_msg("case %zu add: %s", i, err.msg);
        assert_int_equal(hoist_cluster_size(&c), 1);
        k->check(hoist_cluster_objects(&c), 1);
        if (apply(&c, HOIST_OBJECT_UPDATE, k->v2, &err) != 1)
            fail_msg("case %zu update: %s", i, err.msg);
        assert_int_equal(hoist_cluster_size(&c), 1);
        k->check(hoist_cluster_objects(&c), 2);
        /* an ADD of a known key replaces too (a relist) */
        assert_int_equal(apply(&c, HOIST_OBJECT_ADD, k->v1, &err), 1);
        k->check(hoist_cluster_objects(&c), 1);
        assert_int_equal(apply(&c, HOIST_OBJECT_DELETE, k->stub, &err), 1);
        assert_int_equal(hoist_cluster_size(&c), 0);
        k->check(hoist_cluster_objects(&c), 0);
        /* gone means gone: a second delete changes nothing */
        assert_int_equal(apply(&c, HOIST_OBJECT_DELETE, k->stub, &err), 0);
        assert_int_equal(c.stats.applied, 5);
        assert_int_equal(c.stats.rejected, 0);
        hoist_cluster_free(&c);
    }
}

static void test_update_of_unknown_is_add(void **state)
{
    (void)state;
    hoist_cluster c;
    hoist_err err = {{0}};
    hoist_cluster_init(&c);
    assert_int_equal(apply(&c, HOIST_OBJECT_UPDATE, POD_JSON("1"), &err), 1);
    assert_non_null(hoist_cluster_find_pod(&c, "shop", "web"));
    assert_int_equal(hoist_cluster_size(&c), 1);
    hoist_cluster_free(&c);
}

static void test_update_replaces(void **state)
{
    (void)state;
    hoist_cluster c;
    hoist_err err = {{0}};
    hoist_cluster_init(&c);
    const char *v1 = "{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"p\", "
                     "\"labels\": {\"app\": \"a\"}}, \"spec\": {\"nodeSelector\": {\"disk\": "
                     "\"ssd\"}, \"tolerations\": [{\"key\": \"k\", \"operator\": \"Exists\"}], "
                     "\"containers\": [{\"name\": \"c\", \"resources\": {\"requests\": "
                     "{\"cpu\": \"1\"}}}]}}";
    const char *v2 = "{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"p\"}, "
                     "\"spec\": {\"containers\": [{\"name\": \"c\"}]}}";
    assert_int_equal(apply(&c, HOIST_OBJECT_ADD, v1, &err), 1);
    const hoist_pod *p = hoist_objects_find_pod(hoist_cluster_objects(&c), NULL, "p");
    assert_non_null(p);
    assert_string_equal(hoist_labels_get(&p->labels, "app"), "a");
    assert_int_equal(p->node_selector.n, 1);
    assert_int_equal(p->tolerations.n, 1);
    assert_int_equal(apply(&c, HOIST_OBJECT_UPDATE, v2, &err), 1);
    p = hoist_objects_find_pod(hoist_cluster_objects(&c), NULL, "p");
    assert_non_null(p);
    assert_null(hoist_labels_get(&p->labels, "app"));
    assert_int_equal(p->node_selector.n, 0);
    assert_int_equal(p->tolerations.n, 0);
    assert_int_equal(p->requests.v[HOIST_RES_CPU], 0);
    assert_int_equal(hoist_cluster_objects(&c)->n_pods, 1);
    const char *text = hoist_cluster_text(&c, "Pod", NULL, "p");
    assert_non_null(text);
    assert_null(strstr(text, "nodeSelector"));
    hoist_cluster_free(&c);
}

static void test_same_version_changes_nothing(void **state)
{
    (void)state;
    hoist_cluster c;
    hoist_err err = {{0}};
    hoist_cluster_init(&c);
    assert_int_equal(apply(&c, HOIST_OBJECT_ADD, POD_JSON("1"), &err), 1);
    const hoist_pod *first = hoist_cluster_find_pod(&c, "shop", "web");
    size_t live = c.live_bytes;
    assert_int_equal(apply(&c, HOIST_OBJECT_UPDATE, POD_JSON("1"), &err), 0);
    assert_int_equal(c.live_bytes, live);
    assert_ptr_equal(hoist_cluster_find_pod(&c, "shop", "web"), first); /* not decoded again */
    assert_int_equal(c.stats.applied, 2);
    assert_int_equal(apply(&c, HOIST_OBJECT_UPDATE, POD_JSON("2"), &err), 1);
    assert_int_equal(hoist_cluster_find_pod(&c, "shop", "web")->requests.v[HOIST_RES_CPU], 2000);
    hoist_cluster_free(&c);
}

/* ---- deletes ------------------------------------------------------------- */

static void test_delete_stub(void **state)
{
    (void)state;
    hoist_cluster c;
    hoist_err err = {{0}};
    hoist_cluster_init(&c);
    add_pod(&c, "shop", "web", "1", "a", NULL);
    add_pod(&c, "default", "web", "1", "a", NULL);
    add_pod(&c, "shop", "api", "1", "a", NULL);
    /* a trace's stub: no apiVersion, no kind */
    assert_int_equal(delete_pod(&c, "shop", "web"), 1);
    const hoist_objects *o = hoist_cluster_objects(&c);
    assert_null(hoist_objects_find_pod(o, "shop", "web"));
    assert_non_null(hoist_objects_find_pod(o, "default", "web"));
    assert_non_null(hoist_objects_find_pod(o, "shop", "api"));
    /* no namespace means "default" */
    assert_int_equal(apply(&c, HOIST_OBJECT_DELETE, "{\"metadata\": {\"name\": \"web\"}}", &err),
                     1);
    assert_null(hoist_cluster_find_pod(&c, "default", "web"));
    assert_int_equal(hoist_cluster_size(&c), 1);
    /* a Node stub deletes a Node, not a pod of the same name */
    assert_int_equal(apply(&c, HOIST_OBJECT_ADD, NODE_JSON("a", "false"), &err), 1);
    add_pod(&c, "default", "n1", "1", "a", NULL);
    assert_int_equal(
        apply(&c, HOIST_OBJECT_DELETE, "{\"kind\": \"Node\", \"metadata\": {\"name\": \"n1\"}}",
              &err),
        1);
    assert_null(hoist_cluster_find_node(&c, "n1"));
    assert_non_null(hoist_cluster_find_pod(&c, NULL, "n1"));
    hoist_cluster_free(&c);
}

static void test_unknown_delete(void **state)
{
    (void)state;
    hoist_cluster c;
    hoist_err err = {{0}};
    hoist_cluster_init(&c);
    add_pod(&c, "shop", "web", "1", "a", NULL);
    assert_int_equal(delete_pod(&c, "shop", "nope"), 0);
    assert_int_equal(delete_pod(&c, "other", "web"), 0);
    assert_int_equal(hoist_cluster_size(&c), 1);
    assert_int_equal(c.stats.rejected, 0);
    /* a stub without a name is refused, naming the field */
    assert_int_equal(apply(&c, HOIST_OBJECT_DELETE, "{\"metadata\": {\"namespace\": \"shop\"}}",
                           &err),
                     -1);
    assert_has(err.msg, "metadata.name: required");
    assert_int_equal(apply(&c, HOIST_OBJECT_DELETE, "{\"metadata\": {\"name\": 7}}", &err), -1);
    assert_has(err.msg, "metadata.name: expected a string");
    assert_int_equal(apply(&c, HOIST_OBJECT_DELETE, "{\"kind\": \"Pod\"}", &err), -1);
    assert_has(err.msg, "metadata: required");
    assert_int_equal(c.stats.rejected, 3);
    assert_int_equal(hoist_cluster_size(&c), 1);
    hoist_cluster_free(&c);
}

static void test_ignored_kind(void **state)
{
    (void)state;
    hoist_cluster c;
    hoist_err err = {{0}};
    hoist_cluster_init(&c);
    const char *dep = "{\"apiVersion\": \"apps/v1\", \"kind\": \"Deployment\", \"metadata\": "
                      "{\"name\": \"web\"}, \"spec\": {\"replicas\": 3}}";
    assert_int_equal(apply(&c, HOIST_OBJECT_ADD, dep, &err), 0);
    assert_int_equal(apply(&c, HOIST_OBJECT_DELETE, dep, &err), 0);
    assert_int_equal(c.stats.ignored, 2);
    assert_int_equal(hoist_cluster_size(&c), 0);
    assert_int_equal(hoist_cluster_objects(&c)->n_warnings, 0);
    assert_null(hoist_cluster_text(&c, "Deployment", "default", "web"));
    hoist_cluster_free(&c);
}

/* ---- bad objects --------------------------------------------------------- */

static void test_bad_object_keeps_previous(void **state)
{
    (void)state;
    hoist_cluster c;
    hoist_err err = {{0}};
    hoist_cluster_init(&c);
    assert_int_equal(apply(&c, HOIST_OBJECT_ADD, POD_JSON("1"), &err), 1);
    const char *before = hoist_cluster_text(&c, "Pod", "shop", "web");
    assert_non_null(before);
    char *saved = strdup(before);
    size_t live = c.live_bytes;
    assert_int_equal(apply(&c, HOIST_OBJECT_UPDATE, POD_JSON("12x"), &err), -1);
    assert_has(err.msg, "Pod shop/web: spec.containers[0].resources.requests");
    assert_has(err.msg, "cpu");
    assert_has(err.msg, "12x");
    assert_int_equal(strncmp(err.msg, "Pod shop/web", 12), 0);
    assert_int_equal(c.stats.rejected, 1);
    /* the previous version stays, text and decode */
    const hoist_pod *p = hoist_cluster_find_pod(&c, "shop", "web");
    assert_non_null(p);
    assert_int_equal(p->requests.v[HOIST_RES_CPU], 1000);
    assert_int_equal(hoist_cluster_objects(&c)->n_pods, 1);
    assert_string_equal(hoist_cluster_text(&c, "Pod", "shop", "web"), saved);
    free(saved);
    /* a refused decode keeps nothing */
    assert_int_equal(c.live_bytes, live);
    /* a bad new object is not added */
    assert_int_equal(apply(&c, HOIST_OBJECT_ADD,
                           "{\"apiVersion\": \"v1\", \"kind\": \"Node\", \"metadata\": {\"name\": "
                           "\"n\"}, \"spec\": {\"unschedulable\": \"yes\"}}",
                           &err),
                     -1);
    assert_has(err.msg, "Node n: spec.unschedulable: expected a boolean");
    assert_null(hoist_cluster_find_node(&c, "n"));
    assert_int_equal(hoist_cluster_size(&c), 1);
    assert_int_equal(c.stats.rejected, 2);
    hoist_cluster_free(&c);
}

static void test_bad_envelopes(void **state)
{
    (void)state;
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"[1, 2]", "expected an object"},
        {"{\"apiVersion\": \"v1\", \"metadata\": {\"name\": \"x\"}}", "object x: kind: required"},
        {"{\"apiVersion\": \"v1\", \"kind\": 3, \"metadata\": {\"name\": \"x\"}}",
         "object x: kind: expected a string"},
        {"{\"apiVersion\": \"v1\", \"kind\": \"Pod\"}", "Pod: metadata: required"},
        {"{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": []}",
         "Pod: metadata: expected an object"},
        {"{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {}}",
         "Pod: metadata.name: required"},
        {"{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": [\"x\"]}}",
         "Pod: metadata.name: expected a string"},
        {"{\"kind\": \"Pod\", \"metadata\": {\"name\": \"x\"}}", "apiVersion: required"},
        {"{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"x\", "
         "\"namespace\": 5}, \"spec\": {}}",
         "Pod x: metadata.namespace: expected a string"},
        {"{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"x\"}, "
         "\"spec\": {\"containers\": [{\"name\": \"c\", \"resources\": {\"requests\": "
         "{\"memory\": \"99999999999999999999999Ei\"}}}]}}",
         "Pod default/x: spec.containers[0].resources.requests"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hoist_cluster c;
        hoist_err err = {{0}};
        hoist_cluster_init(&c);
        if (apply(&c, HOIST_OBJECT_ADD, cases[i].text, &err) != -1)
            fail_msg("case %zu accepted", i);
        if (!strstr(err.msg, cases[i].want))
            fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err.msg, cases[i].want);
        assert_int_equal(hoist_cluster_size(&c), 0);
        assert_int_equal(c.stats.rejected, 1);
        hoist_cluster_free(&c);
    }
    hoist_cluster c;
    hoist_err err = {{0}};
    hoist_cluster_init(&c);
    hoist_object_event ev = {.op = HOIST_OBJECT_ADD, .object = NULL};
    assert_int_equal(hoist_cluster_apply(&c, &ev, &err), -1);
    assert_has(err.msg, "no object");
    hoist_cluster_free(&c);
}

/* ---- nominations and binding ------------------------------------------- */

static void test_nomination(void **state)
{
    (void)state;
    hoist_cluster c;
    hoist_cluster_init(&c);
    add_pod(&c, "shop", "web", "1", "a", NULL);
    add_pod(&c, "shop", "bound", "1", "a", "node-9");
    assert_null(hoist_cluster_find_pod(&c, "shop", "web")->node_name);
    assert_int_equal(hoist_cluster_nominate(&c, "shop", "web", "node-1"), 0);
    assert_string_equal(hoist_cluster_find_pod(&c, "shop", "web")->node_name, "node-1");
    assert_string_equal(hoist_cluster_nominated(&c, "shop", "web"), "node-1");
    /* bound and unknown pods are not nominated */
    assert_int_equal(hoist_cluster_nominate(&c, "shop", "bound", "node-1"), 1);
    assert_string_equal(hoist_cluster_find_pod(&c, "shop", "bound")->node_name, "node-9");
    assert_null(hoist_cluster_nominated(&c, "shop", "bound"));
    assert_int_equal(hoist_cluster_nominate(&c, "shop", "ghost", "node-1"), 1);
    /* the nomination is hoist's, not the API's: the text does not show it */
    assert_null(strstr(hoist_cluster_text(&c, "Pod", "shop", "web"), "node-1"));
    /* an update of the still-pending pod keeps it */
    add_pod(&c, "shop", "web", "2", "b", NULL);
    const hoist_pod *p = hoist_cluster_find_pod(&c, "shop", "web");
    assert_int_equal(p->requests.v[HOIST_RES_CPU], 2000);
    assert_string_equal(p->node_name, "node-1");
    /* re-nominating elsewhere moves it */
    assert_int_equal(hoist_cluster_nominate(&c, "shop", "web", "node-2"), 0);
    assert_string_equal(hoist_cluster_find_pod(&c, "shop", "web")->node_name, "node-2");
    p = hoist_objects_find_pod(hoist_cluster_objects(&c), "shop", "web");
    assert_non_null(p);
    assert_string_equal(p->node_name, "node-2");
    assert_string_equal(hoist_cluster_nominated(&c, "shop", "web"), "node-2");
    assert_string_equal(hoist_cluster_find_pod(&c, "shop", "bound")->node_name, "node-9");
    /* clearing makes it pending again */
    assert_true(hoist_cluster_clear_nomination(&c, "shop", "web"));
    assert_false(hoist_cluster_clear_nomination(&c, "shop", "web"));
    assert_null(hoist_cluster_find_pod(&c, "shop", "web")->node_name);
    assert_null(hoist_cluster_nominated(&c, "shop", "web"));
    /* a delete ends it: a new pod of the same name starts pending */
    assert_int_equal(hoist_cluster_nominate(&c, "shop", "web", "node-1"), 0);
    assert_int_equal(delete_pod(&c, "shop", "web"), 1);
    assert_null(hoist_cluster_nominated(&c, "shop", "web"));
    add_pod(&c, "shop", "web", "1", "a", NULL);
    assert_null(hoist_cluster_find_pod(&c, "shop", "web")->node_name);
    assert_int_equal(hoist_cluster_clear_nominations_to(&c, "node-1"), 0);
    hoist_cluster_free(&c);
}

static void test_bind_ends_nomination(void **state)
{
    (void)state;
    hoist_cluster c;
    hoist_cluster_init(&c);
    add_pod(&c, "shop", "web", "1", "a", NULL);
    add_pod(&c, "shop", "api", "1", "a", NULL);
    assert_int_equal(hoist_cluster_nominate(&c, "shop", "web", "node-1"), 0);
    assert_int_equal(hoist_cluster_nominate(&c, "shop", "api", "node-1"), 0);
    /* the simulator's binding */
    assert_int_equal(hoist_cluster_bind(&c, "shop", "web", "node-2"), 0);
    const hoist_pod *p = hoist_cluster_find_pod(&c, "shop", "web");
    assert_string_equal(p->node_name, "node-2");
    assert_string_equal(p->phase, "Running");
    assert_int_equal(p->requests.v[HOIST_RES_CPU], 1000);
    assert_null(hoist_cluster_nominated(&c, "shop", "web"));
    const char *text = hoist_cluster_text(&c, "Pod", "shop", "web");
    assert_has(text, "\"nodeName\":\"node-2\"");
    assert_has(text, "\"phase\":\"Running\"");
    assert_int_equal(hoist_cluster_bind(&c, "shop", "web", "node-3"), 1);
    assert_int_equal(hoist_cluster_bind(&c, "shop", "ghost", "node-3"), 1);
    assert_int_equal(hoist_cluster_nominate(&c, "shop", "web", "node-1"), 1);
    /* the watch's binding: an update with spec.nodeName */
    add_pod(&c, "shop", "api", "1", "a", "node-4");
    assert_null(hoist_cluster_nominated(&c, "shop", "api"));
    assert_string_equal(hoist_cluster_find_pod(&c, "shop", "api")->node_name, "node-4");
    assert_int_equal(hoist_cluster_clear_nominations_to(&c, "node-1"), 0);
    /* the pod can go back to pending (recreated) and be nominated again */
    add_pod(&c, "shop", "api", "1", "a", NULL);
    assert_null(hoist_cluster_find_pod(&c, "shop", "api")->node_name);
    assert_int_equal(hoist_cluster_nominate(&c, "shop", "api", "node-5"), 0);
    assert_int_equal(c.n_nominated, 1);
    hoist_cluster_free(&c);
}

static void test_bind_object_hands_back_the_bound_pod(void **state)
{
    (void)state;
    hoist_cluster c;
    hoist_cluster_init(&c);
    add_pod(&c, "shop", "web", "1", "a", NULL);
    json_t *bound = (json_t *)1;
    assert_int_equal(hoist_cluster_bind_object(&c, "shop", "web", "node-2", &bound), 0);
    assert_non_null(bound);
    assert_string_equal(json_string_value(json_object_get(json_object_get(bound, "spec"),
                                                          "nodeName")),
                        "node-2");
    assert_string_equal(json_string_value(json_object_get(json_object_get(bound, "status"),
                                                          "phase")),
                        "Running");
    /* the object handed back is exactly the stored text */
    char *dumped = json_dumps(bound, JSON_COMPACT);
    assert_non_null(dumped);
    assert_string_equal(dumped, hoist_cluster_text(&c, "Pod", "shop", "web"));
    free(dumped);
    json_decref(bound);
    /* already bound, unknown: nothing handed back */
    bound = (json_t *)1;
    assert_int_equal(hoist_cluster_bind_object(&c, "shop", "web", "node-3", &bound), 1);
    assert_null(bound);
    bound = (json_t *)1;
    assert_int_equal(hoist_cluster_bind_object(&c, "shop", "ghost", "node-3", &bound), 1);
    assert_null(bound);
    assert_string_equal(hoist_cluster_find_pod(&c, "shop", "web")->node_name, "node-2");
    hoist_cluster_free(&c);
}

/* A pending pod applied with keep: the store binds its kept object (copied,
 * never changed) and stores exactly the text a bind that parses the stored
 * text gives, whatever shape spec and status have. */
static void test_bind_kept_object_same_text(void **state)
{
    (void)state;
    static const char *const pods[] = {
        "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\","
        "\"namespace\":\"ns\",\"labels\":{\"app\":\"x\"}},\"spec\":{\"containers\":[{"
        "\"name\":\"c\",\"resources\":{\"requests\":{\"cpu\":\"1\"}}}],\"priority\":5},"
        "\"status\":{\"phase\":\"Pending\",\"conditions\":[]}}",
        /* no status */
        "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\","
        "\"namespace\":\"ns\"},\"spec\":{\"containers\":[]}}",
        /* status before spec, status not an object, a real number */
        "{\"kind\":\"Pod\",\"status\":null,\"apiVersion\":\"v1\",\"metadata\":{\"name\":"
        "\"p\",\"namespace\":\"ns\",\"annotations\":{\"w\":\"0.1\"}},\"spec\":{"
        "\"overhead\":null,\"containers\":[]},\"x\":0.1}",
    };
    for (size_t i = 0; i < sizeof pods / sizeof pods[0]; i++) {
        hoist_cluster kept, parsed;
        hoist_cluster_init(&kept);
        hoist_cluster_init(&parsed);
        hoist_err err = {{0}};
        json_t *obj = parse(pods[i]);
        char *before = json_dumps(obj, JSON_COMPACT);
        hoist_object_event ev = {.op = HOIST_OBJECT_ADD, .object = obj, .keep = true};
        assert_int_equal(hoist_cluster_apply(&kept, &ev, &err), 1);
        ev.keep = false;
        assert_int_equal(hoist_cluster_apply(&parsed, &ev, &err), 1);
        json_t *b1 = NULL, *b2 = NULL;
        assert_int_equal(hoist_cluster_bind_object(&kept, "ns", "p", "node-1", &b1), 0);
        assert_int_equal(hoist_cluster_bind_object(&parsed, "ns", "p", "node-1", &b2), 0);
        const char *t1 = hoist_cluster_text(&kept, "Pod", "ns", "p");
        assert_string_equal(t1, hoist_cluster_text(&parsed, "Pod", "ns", "p"));
        assert_has(t1, "\"nodeName\":\"node-1\"");
        char *d1 = json_dumps(b1, JSON_COMPACT), *d2 = json_dumps(b2, JSON_COMPACT);
        assert_string_equal(d1, t1);
        assert_string_equal(d2, t1);
        /* the applied object was not changed */
        char *after = json_dumps(obj, JSON_COMPACT);
        assert_string_equal(before, after);
        assert_string_equal(hoist_cluster_find_pod(&kept, "ns", "p")->node_name, "node-1");
        free(before);
        free(after);
        free(d1);
        free(d2);
        json_decref(b1);
        json_decref(b2);
        json_decref(obj);
        hoist_cluster_free(&kept);
        hoist_cluster_free(&parsed);
    }
}

/* A kept object goes with a newer version or a delete: the next bind binds
 * the current version. */
static void test_kept_object_follows_updates(void **state)
{
    (void)state;
    hoist_cluster c;
    hoist_cluster_init(&c);
    hoist_err err = {{0}};
    const char *v1 = "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\","
                     "\"namespace\":\"ns\",\"labels\":{\"v\":\"1\"}},\"spec\":{}}";
    const char *v2 = "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\","
                     "\"namespace\":\"ns\",\"labels\":{\"v\":\"2\"}},\"spec\":{}}";
    json_t *o1 = parse(v1), *o2 = parse(v2);
    hoist_object_event ev = {.op = HOIST_OBJECT_ADD, .object = o1, .keep = true};
    assert_int_equal(hoist_cluster_apply(&c, &ev, &err), 1);
    ev.op = HOIST_OBJECT_UPDATE;
    ev.object = o2;
    ev.keep = false; /* this version may not be kept: the text is parsed */
    assert_int_equal(hoist_cluster_apply(&c, &ev, &err), 1);
    json_decref(o1);
    json_decref(o2);
    assert_int_equal(hoist_cluster_bind(&c, "ns", "p", "n"), 0);
    assert_has(hoist_cluster_text(&c, "Pod", "ns", "p"), "\"v\":\"2\"");
    /* deleted and re-added with keep, then bound */
    json_t *ref = hoist_object_ref(NULL, "Pod", "ns", "p");
    ev.op = HOIST_OBJECT_DELETE;
    ev.object = ref;
    assert_int_equal(hoist_cluster_apply(&c, &ev, &err), 1);
    json_decref(ref);
    o1 = parse(v1);
    ev.op = HOIST_OBJECT_ADD;
    ev.object = o1;
    ev.keep = true;
    assert_int_equal(hoist_cluster_apply(&c, &ev, &err), 1);
    json_decref(o1); /* the store holds its own reference */
    assert_int_equal(hoist_cluster_bind(&c, "ns", "p", "m"), 0);
    const char *t = hoist_cluster_text(&c, "Pod", "ns", "p");
    assert_has(t, "\"v\":\"1\"");
    assert_has(t, "\"nodeName\":\"m\"");
    hoist_cluster_free(&c);
}

static void test_bind_without_status(void **state)
{
    (void)state;
    hoist_cluster c;
    hoist_err err = {{0}};
    hoist_cluster_init(&c);
    assert_int_equal(apply(&c, HOIST_OBJECT_ADD,
                           "{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": "
                           "\"p\"}, \"spec\": {}}",
                           &err),
                     1);
    assert_int_equal(hoist_cluster_bind(&c, NULL, "p", "n"), 0);
    const hoist_pod *p = hoist_cluster_find_pod(&c, "default", "p");
    assert_string_equal(p->node_name, "n");
    assert_string_equal(p->phase, "Running");
    hoist_cluster_free(&c);
}

static void test_clear_nominations_to(void **state)
{
    (void)state;
    hoist_cluster c;
    hoist_cluster_init(&c);
    char name[32];
    for (int i = 0; i < 6; i++) {
        snprintf(name, sizeof name, "p%d", i);
        add_pod(&c, "default", name, "1", "a", NULL);
        assert_int_equal(hoist_cluster_nominate(&c, NULL, name, i % 2 ? "node-b" : "node-a"), 0);
    }
    add_pod(&c, "default", "bound", "1", "a", "node-a");
    assert_int_equal(hoist_cluster_clear_nominations_to(&c, "node-a"), 3);
    for (int i = 0; i < 6; i++) {
        snprintf(name, sizeof name, "p%d", i);
        const hoist_pod *p = hoist_cluster_find_pod(&c, NULL, name);
        if (i % 2) {
            assert_string_equal(p->node_name, "node-b");
            assert_string_equal(hoist_cluster_nominated(&c, NULL, name), "node-b");
        } else {
            assert_null(p->node_name);
            assert_null(hoist_cluster_nominated(&c, NULL, name));
        }
    }
    /* bound pods keep their node */
    assert_string_equal(hoist_cluster_find_pod(&c, NULL, "bound")->node_name, "node-a");
    assert_int_equal(hoist_cluster_clear_nominations_to(&c, "node-a"), 0);
    assert_int_equal(hoist_cluster_clear_nominations_to(&c, "node-b"), 3);
    assert_int_equal(c.n_nominated, 0);
    hoist_cluster_free(&c);
}

/* ---- storage ------------------------------------------------------------- */

static void test_swap_remove_keeps_index(void **state)
{
    (void)state;
    hoist_cluster c;
    hoist_cluster_init(&c);
    char name[32], cpu[16];
    for (int i = 0; i < 10; i++) {
        snprintf(name, sizeof name, "p%d", i);
        snprintf(cpu, sizeof cpu, "%d", i + 1);
        add_pod(&c, "default", name, cpu, "a", NULL);
    }
    const hoist_objects *o = hoist_cluster_objects(&c);
    assert_string_equal(o->pods[9]->name, "p9");
    assert_int_equal(delete_pod(&c, "default", "p3"), 1);
    assert_int_equal(o->n_pods, 9);
    assert_string_equal(o->pods[3]->name, "p9"); /* the last one took its place */
    const hoist_pod *p9 = hoist_cluster_find_pod(&c, NULL, "p9");
    assert_ptr_equal(p9, o->pods[3]);
    assert_int_equal(p9->requests.v[HOIST_RES_CPU], 10000);
    /* the moved one updates and deletes in place */
    add_pod(&c, "default", "p9", "20", "b", NULL);
    assert_int_equal(o->n_pods, 9);
    assert_int_equal(hoist_cluster_find_pod(&c, NULL, "p9")->requests.v[HOIST_RES_CPU], 20000);
    assert_int_equal(hoist_objects_find_pod(o, NULL, "p9")->requests.v[HOIST_RES_CPU], 20000);
    assert_int_equal(delete_pod(&c, "default", "p9"), 1);
    assert_int_equal(o->n_pods, 8);
    assert_null(hoist_objects_find_pod(o, NULL, "p9"));
    assert_null(hoist_cluster_text(&c, "Pod", NULL, "p9"));
    for (int i = 0; i < 9; i++) {
        if (i == 3)
            continue;
        snprintf(name, sizeof name, "p%d", i);
        const hoist_pod *p = hoist_cluster_find_pod(&c, NULL, name);
        assert_non_null(p);
        assert_ptr_equal(p, hoist_objects_find_pod(o, NULL, name));
        assert_int_equal(p->requests.v[HOIST_RES_CPU], (i + 1) * 1000);
    }
    /* deleting the last element moves nothing */
    const char *last = o->pods[o->n_pods - 1]->name;
    snprintf(name, sizeof name, "%s", last);
    assert_int_equal(delete_pod(&c, "default", name), 1);
    assert_int_equal(o->n_pods, 7);
    assert_null(hoist_cluster_find_pod(&c, NULL, name));
    hoist_cluster_free(&c);
}

/* Many keys: deleting every other one (backward shifts in the index) leaves
 * the rest findable; freed entry slots are reused. */
static void test_index_many_keys(void **state)
{
    (void)state;
    hoist_cluster c;
    hoist_cluster_init(&c);
    char name[32];
    enum { N = 3000 };
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof name, "pod-%d", i);
        add_pod(&c, i % 3 ? "a" : "b", name, "100m", "x", NULL);
    }
    assert_int_equal(hoist_cluster_size(&c), N);
    for (int i = 0; i < N; i += 2) {
        snprintf(name, sizeof name, "pod-%d", i);
        assert_int_equal(delete_pod(&c, i % 3 ? "a" : "b", name), 1);
    }
    assert_int_equal(hoist_cluster_size(&c), N / 2);
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof name, "pod-%d", i);
        const hoist_pod *p = hoist_cluster_find_pod(&c, i % 3 ? "a" : "b", name);
        if (i % 2 == 0) {
            assert_null(p);
        } else {
            assert_non_null(p);
            assert_string_equal(p->name, name);
        }
    }
    size_t slots = c.n_entries;
    for (int i = 0; i < N; i += 2) {
        snprintf(name, sizeof name, "pod-%d", i);
        add_pod(&c, "c", name, "100m", "x", NULL);
    }
    assert_int_equal(c.n_entries, slots); /* reused */
    assert_int_equal(hoist_cluster_size(&c), N);
    assert_int_equal(hoist_cluster_objects(&c)->n_pods, N);
    hoist_cluster_free(&c);
}

static void test_churn_frees_memory(void **state)
{
    (void)state;
    hoist_cluster c;
    hoist_err err = {{0}};
    hoist_cluster_init(&c);
    char name[32], cpu[16];
    enum { KEEP = 200 };
    for (int i = 0; i < KEEP; i++) {
        snprintf(name, sizeof name, "keep-%d", i);
        snprintf(cpu, sizeof cpu, "%dm", 100 + i);
        add_pod(&c, "team", name, cpu, i % 2 ? "odd" : "even", i % 4 == 0 ? "node-x" : NULL);
    }
    assert_int_equal(apply(&c, HOIST_OBJECT_ADD, NODE_JSON("a", "false"), &err), 1);
    assert_int_equal(apply(&c, HOIST_OBJECT_ADD, NODEPOOL_JSON("10"), &err), 1);
    assert_int_equal(hoist_cluster_nominate(&c, "team", "keep-1", "node-y"), 0);
    /* churn: every deleted or replaced object's memory goes at once */
    size_t live = c.live_bytes;
    assert_true(live > 0);
    for (int cycle = 0; cycle < 5000; cycle++) {
        snprintf(name, sizeof name, "churn-%d", cycle % 50);
        add_pod(&c, "batch", name, "1", "job", NULL);
        add_pod(&c, "batch", name, "2", "job", NULL); /* an update */
        assert_int_equal(delete_pod(&c, "batch", name), 1);
    }
    assert_int_equal(c.live_bytes, live);
    const hoist_objects *o = hoist_cluster_objects(&c);
    assert_int_equal(o->n_pods, KEEP);
    assert_int_equal(hoist_cluster_size(&c), KEEP + 2);
    for (int i = 0; i < KEEP; i++) {
        snprintf(name, sizeof name, "keep-%d", i);
        const hoist_pod *p = hoist_objects_find_pod(o, "team", name);
        assert_non_null(p);
        assert_ptr_equal(p, hoist_cluster_find_pod(&c, "team", name));
        assert_string_equal(p->ns, "team");
        assert_int_equal(p->requests.v[HOIST_RES_CPU], 100 + i);
        assert_int_equal(p->requests.v[HOIST_RES_MEMORY], (hoist_milli)64 * 1024 * 1024 * 1000);
        assert_string_equal(hoist_labels_get(&p->labels, "app"), i % 2 ? "odd" : "even");
        if (i % 4 == 0)
            assert_string_equal(p->node_name, "node-x");
        else if (i == 1)
            assert_string_equal(p->node_name, "node-y");
        else
            assert_null(p->node_name);
    }
    assert_non_null(hoist_objects_find_node(o, "n1"));
    assert_string_equal(hoist_labels_get(&hoist_objects_find_node(o, "n1")->labels, "zone"), "a");
    assert_int_equal(hoist_objects_find_nodepool(o, "np")->weight, 10);
    /* the store keeps working after the churn */
    add_pod(&c, "team", "keep-0", "5", "new", NULL);
    assert_int_equal(hoist_cluster_find_pod(&c, "team", "keep-0")->requests.v[HOIST_RES_CPU],
                     5000);
    assert_int_equal(delete_pod(&c, "team", "keep-2"), 1);
    assert_int_equal(hoist_cluster_objects(&c)->n_pods, KEEP - 1);
    hoist_cluster_free(&c);
}

/* Objects come and go; the resource name table only grows, so slot numbers stay. */
static void test_resource_slots_stay(void **state)
{
    (void)state;
    hoist_cluster c;
    hoist_err err = {{0}};
    hoist_cluster_init(&c);
    const char *gpu_pod = "{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": "
                          "\"g\"}, \"spec\": {\"containers\": [{\"name\": \"c\", \"resources\": "
                          "{\"requests\": {\"example.com/fpga\": \"1\", \"nvidia.com/gpu\": "
                          "\"2\"}}}]}}";
    assert_int_equal(apply(&c, HOIST_OBJECT_ADD, gpu_pod, &err), 1);
    hoist_objects *o = hoist_cluster_objects(&c);
    /* a name the planner interned, which no object uses */
    assert_true(hoist_resource_names_intern(&o->names, "vendor.io/thing", &err) >= 0);
    int gpu = hoist_resource_names_find(&o->names, "nvidia.com/gpu");
    int thing = hoist_resource_names_find(&o->names, "vendor.io/thing");
    assert_true(gpu >= 0);
    assert_int_equal(delete_pod(&c, "default", "g"), 1);
    assert_int_equal(c.live_bytes, 0);
    assert_int_equal(apply(&c, HOIST_OBJECT_ADD, gpu_pod, &err), 1);
    o = hoist_cluster_objects(&c);
    assert_int_equal(hoist_resource_names_find(&o->names, "nvidia.com/gpu"), gpu);
    assert_int_equal(hoist_resource_names_find(&o->names, "vendor.io/thing"), thing);
    assert_int_equal(hoist_cluster_find_pod(&c, NULL, "g")->requests.v[gpu], 2000);
    hoist_cluster_free(&c);
}

static void test_text_accessor(void **state)
{
    (void)state;
    hoist_cluster c;
    hoist_err err = {{0}};
    hoist_cluster_init(&c);
    assert_int_equal(apply(&c, HOIST_OBJECT_ADD,
                           "{ \"apiVersion\" : \"v1\",\n \"kind\": \"Pod\", \"metadata\": "
                           "{\"name\": \"p\"},\n \"spec\": {} }",
                           &err),
                     1);
    const char *t = hoist_cluster_text(&c, "Pod", NULL, "p");
    assert_non_null(t);
    assert_ptr_equal(t, hoist_cluster_text(&c, "Pod", "default", "p"));
    json_t *j = parse(t);
    assert_string_equal(json_string_value(json_object_get(j, "kind")), "Pod");
    json_decref(j);
    assert_null(strchr(t, '\n'));
    assert_null(strstr(t, ": "));
    assert_null(hoist_cluster_text(&c, "Pod", "other", "p"));
    assert_null(hoist_cluster_text(&c, "Node", NULL, "p"));
    assert_null(hoist_cluster_text(&c, "Pod", NULL, "q"));
    assert_null(hoist_cluster_text(&c, NULL, NULL, "p"));
    /* cluster-scoped kinds ignore a namespace */
    assert_int_equal(apply(&c, HOIST_OBJECT_ADD, NODE_JSON("a", "false"), &err), 1);
    assert_non_null(hoist_cluster_text(&c, "Node", NULL, "n1"));
    assert_ptr_equal(hoist_cluster_text(&c, "Node", "x", "n1"),
                     hoist_cluster_text(&c, "Node", NULL, "n1"));
    /* NodeClass kinds are told apart by kind */
    assert_int_equal(apply(&c, HOIST_OBJECT_ADD,
                           "{\"apiVersion\": \"karpenter.k8s.aws/v1\", \"kind\": \"EC2NodeClass\", "
                           "\"metadata\": {\"name\": \"d\"}, \"spec\": {}}",
                           &err),
                     1);
    assert_int_equal(apply(&c, HOIST_OBJECT_ADD,
                           "{\"apiVersion\": \"x.dev/v1\", \"kind\": \"FooNodeClass\", "
                           "\"metadata\": {\"name\": \"d\"}, \"spec\": {}}",
                           &err),
                     1);
    assert_int_equal(hoist_cluster_objects(&c)->n_nodeclasses, 2);
    assert_has(hoist_cluster_text(&c, "FooNodeClass", NULL, "d"), "x.dev/v1");
    assert_has(hoist_cluster_text(&c, "EC2NodeClass", NULL, "d"), "karpenter.k8s.aws/v1");
    hoist_cluster_free(&c);
}

/* free then reuse: the store is empty and works again */
static void test_free_and_reuse(void **state)
{
    (void)state;
    hoist_cluster c;
    hoist_cluster_init(&c);
    add_pod(&c, "a", "p", "1", "x", NULL);
    assert_int_equal(hoist_cluster_nominate(&c, "a", "p", "n"), 0);
    hoist_cluster_free(&c);
    assert_int_equal(hoist_cluster_size(&c), 0);
    assert_null(hoist_cluster_find_pod(&c, "a", "p"));
    add_pod(&c, "a", "p", "1", "x", NULL);
    assert_null(hoist_cluster_find_pod(&c, "a", "p")->node_name);
    assert_non_null(hoist_cluster_find_pod(&c, "a", "p"));
    hoist_cluster_free(&c);
}

/* hoist_object_ref builds the object a DELETE needs, namespaced or not. */
static void test_object_ref(void **state)
{
    (void)state;
    hoist_cluster c;
    hoist_cluster_init(&c);
    hoist_err err = {{0}};
    assert_int_equal(apply(&c, HOIST_OBJECT_ADD,
                           "{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": "
                           "{\"name\": \"a\", \"namespace\": \"shop\"}, \"spec\": "
                           "{\"containers\": [{\"name\": \"c\"}]}}",
                           &err),
                     1);
    assert_int_equal(apply(&c, HOIST_OBJECT_ADD,
                           "{\"apiVersion\": \"v1\", \"kind\": \"Node\", \"metadata\": "
                           "{\"name\": \"a\"}}",
                           &err),
                     1);
    json_t *pod = hoist_object_ref(NULL, "Pod", "shop", "a");
    assert_string_equal(json_string_value(json_object_get(pod, "apiVersion")), "v1");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(pod, "metadata"), "namespace")), "shop");
    hoist_object_event ev = {.op = HOIST_OBJECT_DELETE, .object = pod};
    assert_int_equal(hoist_cluster_apply(&c, &ev, &err), 1);
    assert_null(hoist_cluster_find_pod(&c, "shop", "a"));
    assert_non_null(hoist_cluster_find_node(&c, "a")); /* same name, other kind: kept */
    json_decref(pod);
    json_t *node = hoist_object_ref("v1", "Node", NULL, "a");
    assert_null(json_object_get(json_object_get(node, "metadata"), "namespace"));
    ev.object = node;
    assert_int_equal(hoist_cluster_apply(&c, &ev, &err), 1);
    assert_null(hoist_cluster_find_node(&c, "a"));
    json_decref(node);
    hoist_cluster_free(&c);
}

/* The store's usage index equals one built from scratch over its snapshot:
 * same nodes, sums, counts and pods. */
static void assert_usage_consistent(hoist_cluster *c)
{
    hoist_objects *o = hoist_cluster_objects(c);
    assert_ptr_equal(o->usage, &c->usage);
    hoist_usage fresh;
    hoist_usage_init(&fresh);
    assert_int_equal(hoist_usage_build(&fresh, o), 0);
    assert_int_equal(c->usage.n_waiting, fresh.n_waiting);
    assert_int_equal(c->usage.n_live_slots, fresh.n_live_slots);
    assert_int_equal(c->usage.n_tracked, o->n_pods);
    /* the waiting list holds exactly the snapshot's waiting pods */
    for (size_t i = 0; i < c->usage.n_waiting; i++) {
        const hoist_pod *w = hoist_usage_waiting(&c->usage, i);
        assert_true(hoist_pod_waits(w));
        assert_ptr_equal(hoist_cluster_find_pod(c, w->ns, w->name), w);
    }
    for (size_t i = 0; i < fresh.n_slots; i++) {
        const hoist_node_usage *want = &fresh.slots[i];
        if (!want->node)
            continue;
        const hoist_node_usage *got = hoist_usage_of(&c->usage, want->node);
        if (!got)
            fail_msg("node %s: missing from the store's usage", want->node);
        assert_int_equal(got->n_pods, want->n_pods);
        assert_int_equal(got->n_work, want->n_work);
        assert_int_equal(got->priority_sum, want->priority_sum);
        assert_memory_equal(&got->requested, &want->requested, sizeof got->requested);
        for (size_t k = 0; k < want->n_pods; k++) {
            bool found = false;
            for (size_t j = 0; j < got->n_pods && !found; j++)
                found = got->pods[j] == want->pods[k];
            if (!found)
                fail_msg("node %s: pod %s/%s not listed", want->node, want->pods[k]->ns,
                         want->pods[k]->name);
        }
    }
    hoist_usage_free(&fresh);
}

/* A long random walk of adds, updates, deletes, nominations and binds
 * keeps the usage index exact. */
static void test_usage_follows_every_change(void **state)
{
    (void)state;
    hoist_cluster c;
    hoist_cluster_init(&c);
    unsigned seed = 12345;
    char name[32], node[32], cpu[16];
    for (int step = 0; step < 4000; step++) {
        seed = seed * 1103515245u + 12345u;
        unsigned r = seed >> 8;
        snprintf(name, sizeof name, "p%u", r % 60);
        snprintf(node, sizeof node, "n%u", (r >> 6) % 7);
        snprintf(cpu, sizeof cpu, "%um", 100 + (r >> 9) % 5 * 100);
        switch ((r >> 12) % 7) {
        case 0:
        case 1: add_pod(&c, "ns", name, cpu, (r >> 15) % 2 ? "web" : "db", NULL); break;
        case 2: add_pod(&c, "ns", name, cpu, "web", node); break;
        case 3: delete_pod(&c, "ns", name); break;
        case 4: assert_true(hoist_cluster_nominate(&c, "ns", name, node) >= 0); break;
        case 5: assert_true(hoist_cluster_bind(&c, "ns", name, node) >= 0); break;
        default:
            if ((r >> 15) % 2)
                hoist_cluster_clear_nominations_to(&c, node);
            else
                hoist_cluster_clear_nomination(&c, "ns", name);
        }
        if (step % 97 == 0)
            assert_usage_consistent(&c);
    }
    assert_usage_consistent(&c);
    hoist_cluster_free(&c);
}

/* A producer that has the object's text already hands it over: the store
 * keeps that text (no dump of its own), and a resync with it changes nothing. */
static void test_event_with_text(void **state)
{
    (void)state;
    hoist_cluster c;
    hoist_err err = {{0}};
    hoist_cluster_init(&c);
    char buf[1024];
    json_t *pod = parse(pod_text(buf, sizeof buf, "ns", "p", "1", "web", NULL));
    char *text = json_dumps(pod, JSON_COMPACT);
    hoist_object_event ev = {HOIST_OBJECT_ADD, pod, text, false};
    assert_int_equal(hoist_cluster_apply(&c, &ev, &err), 1);
    assert_string_equal(hoist_cluster_text(&c, "Pod", "ns", "p"), text);
    assert_ptr_not_equal(hoist_cluster_text(&c, "Pod", "ns", "p"), text); /* copied */
    assert_int_equal(hoist_cluster_find_pod(&c, "ns", "p")->requests.v[HOIST_RES_CPU], 1000);
    ev.op = HOIST_OBJECT_UPDATE;
    assert_int_equal(hoist_cluster_apply(&c, &ev, &err), 0);
    ev.text = NULL; /* dumped by the store: the same text, so also a resync */
    assert_int_equal(hoist_cluster_apply(&c, &ev, &err), 0);
    free(text);
    json_decref(pod);
    hoist_cluster_free(&c);
}

static uint64_t serial_of(hoist_cluster *c, const char *node)
{
    const hoist_node *n = hoist_cluster_find_node(c, node);
    assert_non_null(n);
    return n->serial;
}

/* Every decoded version of every node gets a serial of its own, never
 * reused, even after the store is freed and filled again. */
static void test_node_serials(void **state)
{
    (void)state;
    hoist_cluster c;
    hoist_cluster_init(&c);
    hoist_err err = {{0}};
    const char *n1 = "{\"apiVersion\": \"v1\", \"kind\": \"Node\", \"metadata\": {\"name\": "
                     "\"n1\", \"labels\": {\"a\": \"1\"}}}";
    const char *n1b = "{\"apiVersion\": \"v1\", \"kind\": \"Node\", \"metadata\": {\"name\": "
                      "\"n1\", \"labels\": {\"a\": \"2\"}}}";
    const char *n2 = "{\"apiVersion\": \"v1\", \"kind\": \"Node\", \"metadata\": {\"name\": "
                     "\"n2\"}}";
    assert_true(apply(&c, HOIST_OBJECT_ADD, n1, &err) >= 0);
    assert_true(apply(&c, HOIST_OBJECT_ADD, n2, &err) >= 0);
    uint64_t s1 = serial_of(&c, "n1"), s2 = serial_of(&c, "n2");
    assert_true(s1 > 0 && s2 > 0 && s1 != s2);
    /* a pod, or the same version again: the node object stays */
    add_pod(&c, "default", "p1", "100m", "web", "n1");
    assert_true(apply(&c, HOIST_OBJECT_UPDATE, n1, &err) >= 0);
    assert_int_equal(serial_of(&c, "n1"), s1);
    /* a changed node is a new version */
    assert_true(apply(&c, HOIST_OBJECT_UPDATE, n1b, &err) >= 0);
    uint64_t s1b = serial_of(&c, "n1");
    assert_true(s1b != s1 && s1b != s2);
    /* deleted and added again: new */
    assert_true(apply(&c, HOIST_OBJECT_DELETE, n2, &err) >= 0);
    assert_true(apply(&c, HOIST_OBJECT_ADD, n2, &err) >= 0);
    assert_true(serial_of(&c, "n2") > s1b);
    uint64_t last = serial_of(&c, "n2");
    hoist_cluster_free(&c);
    assert_true(apply(&c, HOIST_OBJECT_ADD, n1, &err) >= 0);
    assert_true(serial_of(&c, "n1") > last);
    hoist_cluster_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_kind),
        cmocka_unit_test(test_object_ref),
        cmocka_unit_test(test_update_of_unknown_is_add),
        cmocka_unit_test(test_update_replaces),
        cmocka_unit_test(test_same_version_changes_nothing),
        cmocka_unit_test(test_delete_stub),
        cmocka_unit_test(test_unknown_delete),
        cmocka_unit_test(test_ignored_kind),
        cmocka_unit_test(test_bad_object_keeps_previous),
        cmocka_unit_test(test_bad_envelopes),
        cmocka_unit_test(test_nomination),
        cmocka_unit_test(test_bind_ends_nomination),
        cmocka_unit_test(test_bind_object_hands_back_the_bound_pod),
        cmocka_unit_test(test_bind_kept_object_same_text),
        cmocka_unit_test(test_kept_object_follows_updates),
        cmocka_unit_test(test_bind_without_status),
        cmocka_unit_test(test_clear_nominations_to),
        cmocka_unit_test(test_swap_remove_keeps_index),
        cmocka_unit_test(test_index_many_keys),
        cmocka_unit_test(test_churn_frees_memory),
        cmocka_unit_test(test_resource_slots_stay),
        cmocka_unit_test(test_text_accessor),
        cmocka_unit_test(test_free_and_reuse),
        cmocka_unit_test(test_usage_follows_every_change),
        cmocka_unit_test(test_event_with_text),
        cmocka_unit_test(test_node_serials),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
