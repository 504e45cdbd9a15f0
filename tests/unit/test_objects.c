/* Unit tests for model/objects: typed Kubernetes objects from JSON/YAML. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "model/objects.h"

#define GI(n) ((hoist_milli)(n) * 1024 * 1024 * 1024 * 1000)
#define MI(n) ((hoist_milli)(n) * 1024 * 1024 * 1000)

static void assert_has(const char *msg, const char *needle)
{
    if (!strstr(msg, needle))
        fail_msg("message \"%s\" lacks \"%s\"", msg, needle);
}

static const char *data_path(char *buf, size_t len, const char *file)
{
    const char *src = getenv("HOIST_SRCDIR");
    snprintf(buf, len, "%s/tests/data/objects/%s", src ? src : "..", file);
    return buf;
}

static void load_fixture(hoist_objects *o, const char *file)
{
    char path[4096];
    hoist_err err = {{0}};
    if (hoist_objects_load_file(o, data_path(path, sizeof path, file), &err) != 0)
        fail_msg("%s", err.msg);
}

static bool reqs_have(const hoist_reqs *r, const char *key, hoist_req_op op)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->items[i].key, key) == 0 && r->items[i].op == op)
            return true;
    return false;
}

static const hoist_req *reqs_find(const hoist_reqs *r, const char *key)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->items[i].key, key) == 0)
            return &r->items[i];
    return NULL;
}

/* ---- effective requests and pod fields -------------------------------- */

static void test_pod_requests(void **state)
{
    (void)state;
    hoist_objects o;
    hoist_objects_init(&o);
    load_fixture(&o, "pods.yaml");
    assert_int_equal(o.n_pods, 8);
    int gpu = hoist_resource_names_find(&o.names, "nvidia.com/gpu");
    assert_true(gpu >= HOIST_RES_N_STANDARD);

    const hoist_pod *p = hoist_objects_find_pod(&o, "shop", "plain");
    assert_non_null(p);
    assert_int_equal(p->requests.v[HOIST_RES_CPU], 300);
    assert_int_equal(p->requests.v[HOIST_RES_MEMORY], MI(128));
    assert_int_equal(p->requests.v[HOIST_RES_PODS], 1000);
    assert_int_equal(p->requests.v[gpu], 1000);

    p = hoist_objects_find_pod(&o, NULL, "big-init");
    assert_non_null(p);
    assert_string_equal(p->ns, "default");
    assert_int_equal(p->requests.v[HOIST_RES_CPU], 1000);   /* init 1 > 100m */
    assert_int_equal(p->requests.v[HOIST_RES_MEMORY], GI(1));

    /* sidecar 200m runs beside the 500m init: max(100+200, 200, 500+200) */
    p = hoist_objects_find_pod(&o, "default", "sidecar-before-init");
    assert_int_equal(p->requests.v[HOIST_RES_CPU], 700);
    /* sidecar started after the init: max(100+200, 500, 200) */
    p = hoist_objects_find_pod(&o, "default", "sidecar-after-init");
    assert_int_equal(p->requests.v[HOIST_RES_CPU], 500);

    p = hoist_objects_find_pod(&o, "default", "overhead");
    assert_int_equal(p->requests.v[HOIST_RES_CPU], 350);
    assert_int_equal(p->requests.v[HOIST_RES_MEMORY], MI(120));

    /* requests default to limits per resource, explicit requests win */
    p = hoist_objects_find_pod(&o, "default", "limits-only");
    assert_int_equal(p->requests.v[HOIST_RES_CPU], 1000);
    assert_int_equal(p->requests.v[HOIST_RES_MEMORY], MI(512));

    /* pod-level cpu request and memory limit replace the container sums */
    p = hoist_objects_find_pod(&o, "default", "pod-level");
    assert_int_equal(p->requests.v[HOIST_RES_CPU], 2000);
    assert_int_equal(p->requests.v[HOIST_RES_MEMORY], GI(4));

    p = hoist_objects_find_pod(&o, "default", "constrained");
    assert_int_equal(p->requests.v[HOIST_RES_CPU], 0);
    assert_int_equal(p->requests.v[HOIST_RES_PODS], 1000);
    hoist_objects_free(&o);
}

static void test_pod_fields(void **state)
{
    (void)state;
    hoist_objects o;
    hoist_objects_init(&o);
    load_fixture(&o, "pods.yaml");
    const hoist_pod *p = hoist_objects_find_pod(&o, "shop", "plain");
    assert_int_equal(p->src.line, 2);
    assert_int_equal(p->src.index, 0);
    assert_non_null(strstr(p->src.file, "pods.yaml"));
    assert_string_equal(p->uid, "1234-abcd");
    assert_string_equal(hoist_labels_get(&p->labels, "app"), "web");
    assert_true(p->do_not_disrupt);
    assert_int_equal(p->safe_to_evict, 0);
    assert_true(p->has_deletion_cost);
    assert_int_equal(p->deletion_cost, -50);
    assert_null(p->node_name);
    assert_string_equal(p->phase, "Pending");
    assert_false(p->terminating);
    assert_true(p->has_priority);
    assert_int_equal(p->priority, 1000);
    assert_string_equal(p->priority_class_name, "high");
    assert_string_equal(p->scheduler_name, "default-scheduler");
    assert_string_equal(p->owner_kind, "ReplicaSet");
    assert_string_equal(p->owner_name, "web-abc");
    assert_false(p->daemonset_owned);
    assert_string_equal(hoist_labels_get(&p->node_selector, "hoist.dev/capacity-type"), "spot");
    assert_int_equal(p->tolerations.n, 2);
    assert_int_equal(p->claims.n, 2);
    assert_string_equal(p->claims.items[0], "data-web-0");
    assert_string_equal(p->claims.items[1], "plain-tmp");
    assert_true(p->has_empty_dir);
    assert_false(p->has_host_path);

    p = hoist_objects_find_pod(&o, "default", "constrained");
    assert_string_equal(p->node_name, "node-a");
    assert_string_equal(p->scheduler_name, "my-scheduler");
    assert_string_equal(p->phase, "");
    assert_int_equal(p->safe_to_evict, -1);
    assert_int_equal(p->node_affinity.n, 2);
    assert_true(reqs_have(&p->node_affinity.terms[0].match_expressions,
                          "hoist.dev/instance-family", HOIST_OP_IN));
    assert_int_equal(p->node_affinity.terms[0].match_fields.n, 0);
    assert_true(reqs_have(&p->node_affinity.terms[1].match_fields, "metadata.name",
                          HOIST_OP_IN));
    assert_int_equal(p->n_preferred_node_affinity, 1);
    assert_int_equal(p->preferred_node_affinity[0].weight, 40);
    assert_int_equal(p->pod_affinity.n, 1);
    assert_true(p->pod_affinity.items[0].has_selector);
    assert_string_equal(p->pod_affinity.items[0].topology_key, "topology.kubernetes.io/zone");
    assert_int_equal(p->pod_affinity.items[0].namespaces.n, 2);
    assert_false(p->pod_affinity.items[0].has_namespace_selector);
    assert_int_equal(p->pod_anti_affinity.n, 0);
    assert_int_equal(p->pod_anti_affinity_preferred.n, 1);
    const hoist_pod_affinity_term *t = &p->pod_anti_affinity_preferred.items[0];
    assert_int_equal(t->weight, 100);
    assert_true(t->has_namespace_selector);
    assert_int_equal(t->namespace_selector.n, 0);
    assert_string_equal(t->topology_key, "kubernetes.io/hostname");
    assert_int_equal(t->match_label_keys.n, 1);
    assert_int_equal(p->n_spread, 2);
    assert_int_equal(p->spread[0].max_skew, 1);
    assert_true(p->spread[0].do_not_schedule);
    assert_int_equal(p->spread[0].min_domains, 3);
    assert_true(p->spread[0].has_selector);
    assert_int_equal(p->spread[0].node_affinity_policy, HOIST_SPREAD_HONOR);
    assert_int_equal(p->spread[0].node_taints_policy, HOIST_SPREAD_HONOR);
    assert_false(p->spread[1].do_not_schedule);
    assert_false(p->spread[1].has_selector);
    assert_int_equal(p->spread[1].node_taints_policy, HOIST_SPREAD_IGNORE);
    assert_true(p->has_host_path);
    hoist_objects_free(&o);
}

/* ---- NodePool, NodeClass, skipped kinds -------------------------------- */

static void test_nodepool(void **state)
{
    (void)state;
    hoist_objects o;
    hoist_objects_init(&o);
    load_fixture(&o, "nodepool.yaml");
    assert_int_equal(o.n_nodepools, 1);
    assert_int_equal(o.n_nodeclasses, 1);
    assert_int_equal(o.n_warnings, 1);
    assert_has(o.warnings[0], "Deployment default/inflate");
    assert_has(o.warnings[0], "nodepool.yaml:");

    const hoist_nodepool *np = hoist_objects_find_nodepool(&o, "general");
    assert_non_null(np);
    assert_string_equal(np->api_version, "hoist.dev/v1");
    assert_int_equal(np->weight, 50);
    assert_string_equal(hoist_labels_get(&np->labels, "team"), "platform");
    assert_int_equal(np->requirements.n, 3);
    assert_true(reqs_have(&np->requirements, "hoist.dev/instance-category", HOIST_OP_IN));
    assert_true(reqs_have(&np->requirements, "hoist.dev/capacity-type", HOIST_OP_IN));
    const hoist_req *fam = reqs_find(&np->requirements, "hoist.dev/instance-family");
    assert_non_null(fam);
    assert_int_equal(fam->min_values, 3);
    assert_int_equal(np->taints.n, 1);
    assert_int_equal(np->startup_taints.n, 1);
    assert_int_equal(np->startup_taints.items[0].effect, HOIST_TAINT_NO_EXECUTE);
    assert_int_equal(np->expire_after, 168 * 3600);
    assert_int_equal(np->termination_grace_period, 5400);
    assert_string_equal(np->node_class_group, "karpenter.k8s.aws");
    assert_string_equal(np->node_class_kind, "EC2NodeClass");
    assert_string_equal(np->node_class_name, "default");
    assert_true(np->has_kubelet);
    assert_true(np->kubelet.has_max_pods);
    assert_int_equal(np->kubelet.max_pods, 58);
    assert_int_equal(np->limits.v[HOIST_RES_CPU], 1000000);
    assert_int_equal(np->limits.v[HOIST_RES_MEMORY], GI(1000));
    assert_true(np->limits_set & (1u << HOIST_RES_CPU));
    assert_false(np->limits_set & (1u << HOIST_RES_PODS));
    assert_int_equal(np->consolidation_policy, HOIST_CONSOLIDATE_WHEN_EMPTY);
    assert_int_equal(np->consolidate_after, 30);
    assert_int_equal(np->n_budgets, 2);
    assert_true(np->budgets[0].nodes_is_percent);
    assert_int_equal(np->budgets[0].nodes, 10);
    assert_null(np->budgets[0].schedule);
    assert_int_equal(np->budgets[0].reasons, HOIST_REASON_ALL);
    assert_false(np->budgets[1].nodes_is_percent);
    assert_int_equal(np->budgets[1].nodes, 0);
    assert_string_equal(np->budgets[1].schedule, "0 9 * * mon-fri");
    assert_int_equal(np->budgets[1].duration, 8 * 3600);
    assert_int_equal(np->budgets[1].reasons, HOIST_REASON_DRIFTED | HOIST_REASON_UNDERUTILIZED);
    assert_true(np->spec_hash != 0);

    const hoist_nodeclass *nc = hoist_objects_find_nodeclass(&o, "EC2NodeClass", "default");
    assert_non_null(nc);
    assert_null(hoist_objects_find_nodeclass(&o, "OtherNodeClass", "default"));
    assert_true(nc->has_kubelet);
    assert_true(nc->kubelet.has_pods_per_core);
    assert_int_equal(nc->kubelet.pods_per_core, 2);
    assert_true(nc->kubelet.has_root_volume);
    assert_int_equal(nc->kubelet.root_volume, GI(100)); /* the rootVolume: true entry */
    assert_true(nc->kubelet.instance_store_raid0);
    assert_string_equal(nc->instance_store_policy, "RAID0");
    hoist_objects_free(&o);
}

static void test_nodepool_defaults_and_hash(void **state)
{
    (void)state;
    hoist_objects o;
    hoist_err err = {{0}};
    hoist_objects_init(&o);
    const char *a = "{\"apiVersion\": \"karpenter.sh/v1\", \"kind\": \"NodePool\",\n"
                    " \"metadata\": {\"name\": \"a\"},\n"
                    " \"spec\": {\"template\": {\"spec\": {\"nodeClassRef\": {\"group\": \"g\", "
                    "\"kind\": \"K\", \"name\": \"n\"}, \"requirements\": []}}}}\n";
    const char *b = "apiVersion: karpenter.sh/v1\nkind: NodePool\nmetadata: {name: b}\n"
                    "spec:\n  template:\n    spec:\n      requirements: []\n"
                    "      nodeClassRef: {name: n, kind: K, group: g}\n";
    const char *c = "apiVersion: karpenter.sh/v1\nkind: NodePool\nmetadata: {name: c}\n"
                    "spec:\n  template:\n    spec:\n      expireAfter: Never\n"
                    "      nodeClassRef: {name: n, kind: K, group: g}\n"
                    "  disruption:\n    consolidateAfter: Never\n    budgets: []\n";
    assert_int_equal(hoist_objects_load_buffer(&o, "a.json", a, strlen(a), &err), 0);
    assert_int_equal(hoist_objects_load_buffer(&o, "b.yaml", b, strlen(b), &err), 0);
    assert_int_equal(hoist_objects_load_buffer(&o, "c.yaml", c, strlen(c), &err), 0);
    const hoist_nodepool *pa = hoist_objects_find_nodepool(&o, "a");
    const hoist_nodepool *pb = hoist_objects_find_nodepool(&o, "b");
    const hoist_nodepool *pc = hoist_objects_find_nodepool(&o, "c");
    /* Same spec written in a different key order and format: same hash. */
    assert_true(pa->spec_hash == pb->spec_hash);
    assert_true(pa->spec_hash != pc->spec_hash);
    /* Karpenter's defaults. */
    assert_string_equal(pa->api_version, "karpenter.sh/v1");
    assert_int_equal(pa->weight, 0);
    assert_int_equal(pa->expire_after, 720 * 3600);
    assert_int_equal(pa->termination_grace_period, HOIST_UNSET);
    assert_int_equal(pa->consolidation_policy, HOIST_CONSOLIDATE_WHEN_EMPTY_OR_UNDERUTILIZED);
    assert_int_equal(pa->consolidate_after, 0);
    assert_int_equal(pa->n_budgets, 1);
    assert_true(pa->budgets[0].nodes_is_percent);
    assert_int_equal(pa->budgets[0].nodes, 10);
    assert_false(pa->has_kubelet);
    assert_int_equal(pa->limits_set, 0);
    assert_true(pc->expire_after == HOIST_NEVER);
    assert_true(pc->consolidate_after == HOIST_NEVER);
    assert_int_equal(pc->n_budgets, 0);
    hoist_objects_free(&o);
}

/* ---- Node, storage, DaemonSet, PDB ------------------------------------ */

static void test_cluster_objects(void **state)
{
    (void)state;
    hoist_objects o;
    hoist_objects_init(&o);
    load_fixture(&o, "cluster.yaml");
    assert_int_equal(o.n_nodes, 1);
    assert_int_equal(o.n_pvs, 1);
    assert_int_equal(o.n_pvcs, 1);
    assert_int_equal(o.n_storage_classes, 1);
    assert_int_equal(o.n_daemonsets, 1);
    assert_int_equal(o.n_pdbs, 2);
    assert_int_equal(o.n_warnings, 0);

    const hoist_node *n = hoist_objects_find_node(&o, "node-a");
    assert_non_null(n);
    assert_int_equal(n->src.line, 5); /* the List item's line */
    assert_string_equal(n->provider_id, "aws:///us-east-1a/i-0123456789abcdef0");
    assert_string_equal(hoist_labels_get(&n->labels, "hoist.dev/nodepool"), "general");
    assert_int_equal(n->taints.n, 1);
    assert_int_equal(n->capacity.v[HOIST_RES_CPU], 2000);
    assert_int_equal(n->allocatable.v[HOIST_RES_CPU], 1930);
    assert_int_equal(n->allocatable.v[HOIST_RES_PODS], 29000);
    assert_int_equal(n->ready, 1);
    assert_false(n->unschedulable);
    assert_int_equal(n->created, 1704164645);

    const hoist_pv *pv = hoist_objects_find_pv(&o, "pv-1");
    assert_non_null(pv);
    assert_string_equal(pv->storage_class, "ebs-sc");
    assert_int_equal(pv->capacity, GI(50));
    assert_string_equal(pv->claim_ns, "shop");
    assert_string_equal(pv->claim_name, "data-web-0");
    assert_string_equal(pv->csi_driver, "ebs.csi.aws.com");
    assert_int_equal(pv->node_affinity.n, 1);
    assert_true(reqs_have(&pv->node_affinity.terms[0].match_expressions,
                          "topology.ebs.csi.aws.com/zone", HOIST_OP_IN));

    const hoist_pvc *pvc = hoist_objects_find_pvc(&o, "shop", "data-web-0");
    assert_non_null(pvc);
    assert_null(hoist_objects_find_pvc(&o, "default", "data-web-0"));
    assert_string_equal(pvc->storage_class, "ebs-sc");
    assert_string_equal(pvc->volume_name, "pv-1");
    assert_int_equal(pvc->request, GI(50));
    assert_string_equal(pvc->phase, "Bound");

    const hoist_storage_class *sc = hoist_objects_find_storage_class(&o, "ebs-sc");
    assert_non_null(sc);
    assert_string_equal(sc->provisioner, "ebs.csi.aws.com");
    assert_true(sc->wait_for_first_consumer);
    assert_true(sc->is_default);
    assert_int_equal(sc->allowed_topologies.n, 1);
    const hoist_req *z = reqs_find(&sc->allowed_topologies.terms[0].match_expressions,
                                   "topology.kubernetes.io/zone");
    assert_non_null(z);
    assert_int_equal(z->op, HOIST_OP_IN);
    assert_int_equal(z->n_values, 2);

    const hoist_daemonset *ds = o.daemonsets[0];
    assert_string_equal(ds->ns, "kube-system");
    assert_string_equal(ds->name, "node-agent");
    assert_true(ds->pod.daemonset_owned);
    assert_string_equal(ds->pod.ns, "kube-system");
    assert_int_equal(ds->pod.requests.v[HOIST_RES_CPU], 50);
    assert_int_equal(ds->pod.requests.v[HOIST_RES_MEMORY], MI(64));
    assert_int_equal(ds->pod.tolerations.n, 1);
    assert_string_equal(hoist_labels_get(&ds->pod.labels, "app"), "node-agent");

    const hoist_pdb *pdb = o.pdbs[0];
    assert_string_equal(pdb->name, "web-pdb");
    assert_true(pdb->has_selector);
    assert_false(pdb->min_available.set);
    assert_true(pdb->max_unavailable.set);
    assert_true(pdb->max_unavailable.percent);
    assert_int_equal(pdb->max_unavailable.value, 25);
    assert_true(pdb->has_status);
    assert_int_equal(pdb->current_healthy, 3);
    assert_int_equal(pdb->desired_healthy, 2);
    assert_int_equal(pdb->disruptions_allowed, 1);
    assert_int_equal(pdb->expected_pods, 4);
    pdb = o.pdbs[1];
    assert_false(pdb->has_selector);
    assert_true(pdb->min_available.set);
    assert_false(pdb->min_available.percent);
    assert_int_equal(pdb->min_available.value, 2);
    assert_false(pdb->has_status);
    hoist_objects_free(&o);
}

/* ---- modes and entry points -------------------------------------------- */

static const char *mixed = "apiVersion: v1\nkind: Pod\nmetadata: {name: good}\n"
                           "spec: {containers: [{name: c}]}\n"
                           "---\n"
                           "apiVersion: v1\nkind: Pod\nmetadata: {name: bad}\n"
                           "spec:\n  nodeName: 7\n"
                           "---\n"
                           "apiVersion: v1\nkind: Node\nmetadata: {name: n1}\n";

static void test_strict_and_keep_going(void **state)
{
    (void)state;
    hoist_objects o;
    hoist_err err = {{0}};
    hoist_objects_init(&o);
    assert_int_equal(hoist_objects_load_buffer(&o, "mixed.yaml", mixed, strlen(mixed), &err), -1);
    assert_has(err.msg, "mixed.yaml:6: Pod default/bad: spec.nodeName: expected a string");
    assert_int_equal(o.n_pods, 0); /* nothing kept from the file */
    assert_int_equal(o.n_nodes, 0);
    hoist_objects_free(&o);

    hoist_objects_init(&o);
    o.keep_going = true;
    err.msg[0] = '\0';
    assert_int_equal(hoist_objects_load_buffer(&o, "mixed.yaml", mixed, strlen(mixed), &err), 0);
    assert_int_equal(o.n_pods, 1);
    assert_string_equal(o.pods[0]->name, "good");
    assert_int_equal(o.n_nodes, 1);
    assert_int_equal(o.n_errors, 1);
    assert_has(o.errors[0], "mixed.yaml:6: Pod default/bad: spec.nodeName");
    /* A malformed file still fails as a whole. */
    assert_int_equal(hoist_objects_load_buffer(&o, "broken.yaml", "a: [\n", 5, &err), -1);
    assert_has(err.msg, "broken.yaml:");
    hoist_objects_free(&o);
}

static void test_stream_and_add_json(void **state)
{
    (void)state;
    hoist_objects o;
    hoist_err err = {{0}};
    hoist_objects_init(&o);
    char text[] = "{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"s\", "
                  "\"namespace\": \"ns1\", \"deletionTimestamp\": \"2024-01-01T00:00:00Z\"}, "
                  "\"spec\": {\"containers\": [{\"name\": \"c\", \"resources\": {\"requests\": "
                  "{\"cpu\": 0.5}}}]}}";
    FILE *f = fmemopen(text, strlen(text), "r");
    assert_non_null(f);
    assert_int_equal(hoist_objects_load_stream(&o, "-", f, &err), 0);
    fclose(f);
    assert_int_equal(o.n_pods, 1);
    assert_string_equal(o.pods[0]->src.file, "-");
    assert_true(o.pods[0]->terminating);
    assert_int_equal(o.pods[0]->requests.v[HOIST_RES_CPU], 500);

    json_t *j = json_pack("{s:s, s:s, s:{s:s}, s:{s:[{s:s}]}}", "apiVersion", "v1", "kind",
                          "Pod", "metadata", "name", "t", "spec", "containers", "name", "c");
    hoist_source src = {"trace.jsonl", 7, 0};
    assert_int_equal(hoist_objects_add_json(&o, j, &src, &err), 0);
    assert_int_equal(o.n_pods, 2);
    assert_int_equal(o.pods[1]->src.line, 7);
    json_object_set_new(json_object_get(j, "spec"), "priority", json_string("high"));
    assert_int_equal(hoist_objects_add_json(&o, j, &src, &err), -1);
    assert_has(err.msg, "trace.jsonl:7: Pod default/t: spec.priority: expected an integer");
    assert_int_equal(hoist_objects_add_json(&o, j, NULL, &err), -1);
    assert_has(err.msg, "Pod default/t: spec.priority");
    assert_int_equal(o.n_pods, 2);
    json_decref(j);

    assert_int_equal(hoist_objects_load_file(&o, "/nonexistent/p.yaml", &err), -1);
    assert_has(err.msg, "/nonexistent/p.yaml: cannot open");
    hoist_objects_free(&o);
}

/* ---- bad input, per kind ----------------------------------------------- */

typedef struct bad_case {
    const char *text;
    const char *needles[4];
} bad_case;

#define POD "apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: shop}\nspec:\n"
#define NODE "apiVersion: v1\nkind: Node\nmetadata: {name: node-a}\n"
#define NP "apiVersion: karpenter.sh/v1\nkind: NodePool\nmetadata: {name: np}\n"
#define NPT NP "spec:\n  template:\n    spec:\n      nodeClassRef: {group: g, kind: K, name: n}\n"

static const bad_case bad_cases[] = {
    {POD "  containers:\n  - name: c\n    resources: {requests: {cpu: 12x}}\n",
     {"bad.yaml:1: Pod shop/web: spec.containers[0].resources.requests", "cpu", "12x"}},
    {POD "  containers:\n  - name: c\n    resources: {limits: {memory: -1Gi}}\n",
     {"bad.yaml:1: Pod shop/web: spec.containers[0].resources.limits", "memory"}},
    {POD "  containers: []\n  initContainers:\n  - name: c\n    resources: {requests: {cpu: abc}}\n",
     {"Pod shop/web: spec.initContainers[0].resources.requests", "cpu"}},
    {POD "  initContainers: {a: 1}\n", {"Pod shop/web: spec.initContainers: expected an array"}},
    {POD "  initContainers:\n  - {name: c, restartPolicy: 5}\n",
     {"spec.initContainers[0].restartPolicy: expected a string"}},
    {POD "  overhead: {cpu: lots}\n", {"Pod shop/web: spec.overhead", "cpu"}},
    {POD "  nodeName: [a]\n", {"Pod shop/web: spec.nodeName: expected a string, got an array"}},
    {POD "  priority: 1.5\n", {"spec.priority: expected an integer"}},
    {POD "  priority: 99999999999\n", {"spec.priority", "out of range"}},
    {POD "  priority: 1e20\n", {"spec.priority: expected an integer"}},
    {POD "  tolerations:\n  - {key: a, operator: Maybe}\n", {"Pod shop/web: spec.tolerations"}},
    {POD "  nodeSelector: {\"bad key!\": x}\n", {"Pod shop/web: spec.nodeSelector"}},
    {POD "  affinity:\n    nodeAffinity:\n      requiredDuringSchedulingIgnoredDuringExecution:\n"
         "        nodeSelectorTerms:\n        - matchExpressions:\n"
         "          - {key: a, operator: Inn, values: [b]}\n",
     {"spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution."
      "nodeSelectorTerms[0].matchExpressions", "Inn"}},
    {POD "  affinity:\n    nodeAffinity:\n      requiredDuringSchedulingIgnoredDuringExecution:\n"
         "        nodeSelectorTerms:\n        - matchFields:\n"
         "          - {key: spec.x, operator: In, values: [b]}\n",
     {"nodeSelectorTerms[0].matchFields[0].key", "metadata.name"}},
    {POD "  affinity:\n    nodeAffinity:\n      preferredDuringSchedulingIgnoredDuringExecution:\n"
         "      - {weight: 101, preference: {}}\n",
     {"preferredDuringSchedulingIgnoredDuringExecution[0].weight", "out of range"}},
    {POD "  affinity:\n    podAntiAffinity:\n      requiredDuringSchedulingIgnoredDuringExecution:\n"
         "      - labelSelector: {matchLabels: {app: x}}\n",
     {"spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0]."
      "topologyKey: required"}},
    {POD "  affinity:\n    podAffinity:\n      preferredDuringSchedulingIgnoredDuringExecution:\n"
         "      - weight: 5\n",
     {"preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm: required"}},
    {POD "  topologySpreadConstraints:\n  - {topologyKey: zone, whenUnsatisfiable: DoNotSchedule}\n",
     {"Pod shop/web: spec.topologySpreadConstraints[0].maxSkew: required"}},
    {POD "  topologySpreadConstraints:\n  - {maxSkew: 1, topologyKey: zone, whenUnsatisfiable: Never}\n",
     {"spec.topologySpreadConstraints[0].whenUnsatisfiable: unknown value \"Never\""}},
    {POD "  volumes:\n  - name: v\n    persistentVolumeClaim: {}\n",
     {"spec.volumes[0].persistentVolumeClaim.claimName: required"}},
    {"apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  annotations:\n"
     "    controller.kubernetes.io/pod-deletion-cost: lots\nspec: {}\n",
     {"Pod default/web: metadata.annotations.controller.kubernetes.io/pod-deletion-cost"}},
    {"apiVersion: v1\nkind: Pod\nmetadata: {name: web}\n", {"Pod default/web: spec: required"}},
    {"apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: 5}\nspec: {}\n",
     {"metadata.namespace: expected a string"}},
    {NODE "spec:\n  taints:\n  - {key: a, effect: Sometimes}\n",
     {"bad.yaml:1: Node node-a: spec.taints"}},
    {NODE "status:\n  capacity: {cpu: 2x}\n", {"Node node-a: status.capacity", "cpu"}},
    {NODE "status:\n  allocatable: []\n", {"Node node-a: status.allocatable: expected an object"}},
    {"apiVersion: v1\nkind: Node\nmetadata: {name: n, creationTimestamp: yesterday}\n",
     {"Node n: metadata.creationTimestamp", "invalid timestamp"}},
    {NODE "spec: {unschedulable: \"yes\"}\n", {"spec.unschedulable: expected a boolean"}},
    {NP "spec:\n  template:\n    spec:\n      expireAfter: 7 days\n",
     {"bad.yaml:1: NodePool np: spec.template.spec.expireAfter", "invalid duration"}},
    {"apiVersion: karpenter.sh/v1beta1\nkind: NodePool\nmetadata: {name: np}\nspec: {}\n",
     {"NodePool np: apiVersion", "v1beta1"}},
    {NP "spec: {}\n", {"NodePool np: spec.template.spec: required"}},
    {NPT "  weight: 500\n", {"NodePool np: spec.weight", "out of range"}},
    {NPT "      requirements:\n      - {key: a, operator: Inn, values: [b]}\n",
     {"NodePool np: spec.template.spec.requirements", "Inn"}},
    {NPT "      terminationGracePeriod: Never\n",
     {"spec.template.spec.terminationGracePeriod", "Never"}},
    {NP "spec:\n  template:\n    spec:\n      nodeClassRef: {group: g, kind: K}\n",
     {"NodePool np: spec.template.spec.nodeClassRef.name: required"}},
    {NPT "      kubelet: {maxPods: many}\n", {"NodePool np: spec.template.spec.kubelet"}},
    {NPT "      taints: {a: b}\n", {"spec.template.spec.taints: expected an array"}},
    {NPT "  limits: {cpu: 1z}\n", {"NodePool np: spec.limits", "cpu"}},
    {NPT "  disruption: {consolidationPolicy: Sometimes}\n",
     {"spec.disruption.consolidationPolicy: unknown value \"Sometimes\""}},
    {NPT "  disruption: {consolidateAfter: 5 minutes}\n",
     {"spec.disruption.consolidateAfter", "invalid duration"}},
    {NPT "  disruption:\n    budgets:\n    - nodes: 150%\n",
     {"spec.disruption.budgets[0].nodes: invalid value \"150%\""}},
    {NPT "  disruption:\n    budgets:\n    - {nodes: \"1\", schedule: \"@daily\"}\n",
     {"spec.disruption.budgets[0]: schedule and duration"}},
    {NPT "  disruption:\n    budgets:\n    - {nodes: \"1\", reasons: [Bored]}\n",
     {"spec.disruption.budgets[0].reasons[0]: unknown reason \"Bored\""}},
    {NPT "  disruption:\n    budgets:\n    - {schedule: x}\n",
     {"spec.disruption.budgets[0].nodes: required"}},
    {"apiVersion: karpenter.k8s.aws/v1\nkind: EC2NodeClass\nmetadata: {name: nc}\nspec:\n"
     "  blockDeviceMappings:\n  - ebs: {volumeSize: lots}\n",
     {"bad.yaml:1: EC2NodeClass nc: spec.blockDeviceMappings[0].ebs.volumeSize"}},
    {"apiVersion: karpenter.k8s.aws/v1\nkind: EC2NodeClass\nmetadata: {name: nc}\nspec:\n"
     "  kubelet: {kubeReserved: {cpu: x}}\n",
     {"EC2NodeClass nc: spec.kubelet"}},
    {"apiVersion: v1\nkind: PersistentVolume\nmetadata: {name: pv}\nspec:\n"
     "  capacity: {storage: 10Q}\n",
     {"PersistentVolume pv: spec.capacity.storage"}},
    {"apiVersion: v1\nkind: PersistentVolume\nmetadata: {name: pv}\nspec:\n  nodeAffinity:\n"
     "    required: {nodeSelectorTerms: [{matchExpressions: [{key: z, operator: Gt}]}]}\n",
     {"PersistentVolume pv: spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions"}},
    {"apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: c}\nspec:\n"
     "  resources: {requests: {storage: true}}\n",
     {"PersistentVolumeClaim default/c: spec.resources.requests.storage", "quantity"}},
    {"apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: c}\nspec: {volumeName: 3}\n",
     {"PersistentVolumeClaim default/c: spec.volumeName: expected a string"}},
    {"apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: sc}\n"
     "provisioner: x\nvolumeBindingMode: Later\n",
     {"StorageClass sc: volumeBindingMode: unknown value \"Later\""}},
    {"apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: sc}\n",
     {"StorageClass sc: provisioner: required"}},
    {"apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: sc}\nprovisioner: x\n"
     "allowedTopologies:\n- matchLabelExpressions:\n  - {key: zone}\n",
     {"StorageClass sc: allowedTopologies[0].matchLabelExpressions"}},
    {"apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: agent, namespace: kube-system}\n"
     "spec:\n  template:\n    spec:\n      containers:\n"
     "      - {name: c, resources: {requests: {cpu: x}}}\n",
     {"DaemonSet kube-system/agent: spec.template.spec.containers[0].resources.requests"}},
    {"apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: agent}\nspec: {}\n",
     {"DaemonSet default/agent: spec.template: required"}},
    {"apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: p}\n"
     "spec: {minAvailable: half}\n",
     {"PodDisruptionBudget default/p: spec.minAvailable: invalid value \"half\""}},
    {"apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: p}\n"
     "spec: {minAvailable: 1, maxUnavailable: 1}\n",
     {"PodDisruptionBudget default/p: spec: minAvailable and maxUnavailable"}},
    {"apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: p}\n"
     "spec: {selector: {matchExpressions: [{key: a, operator: Gt, values: [\"1\"]}]}}\n",
     {"PodDisruptionBudget default/p: spec.selector"}},
    {"apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: p}\n"
     "status: {currentHealthy: many}\n",
     {"status.currentHealthy: expected an integer"}},
    {"kind: Pod\nmetadata: {name: web}\n", {"bad.yaml:1: Pod (document 0): apiVersion: required"}},
    {"apiVersion: v1\nmetadata: {name: web}\n", {"bad.yaml:1: document 0: kind: required"}},
    {"apiVersion: v1\nkind: Pod\nmetadata: {}\n", {"Pod (document 0): metadata.name: required"}},
    {"apiVersion: v1\nkind: Pod\nmetadata: {name: 5}\n",
     {"metadata.name: expected a string"}},
    {"apiVersion: v1\nkind: Pod\n", {"Pod (document 0): metadata: required"}},
    {"kind: Pod\napiVersion: v1\nmetadata: {name: a}\nspec: {}\n---\n\n"
     "kind: Pod\napiVersion: v1\nmetadata: {name: b}\nspec: {nodeName: 1}\n",
     {"bad.yaml:7: Pod default/b: spec.nodeName"}},
};

static void test_bad_input(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        hoist_objects o;
        hoist_err err = {{0}};
        hoist_objects_init(&o);
        const char *t = bad_cases[i].text;
        int rc = hoist_objects_load_buffer(&o, "bad.yaml", t, strlen(t), &err);
        if (rc != -1)
            fail_msg("case %zu loaded without error:\n%s", i, t);
        for (size_t k = 0; k < 4 && bad_cases[i].needles[k]; k++)
            if (!strstr(err.msg, bad_cases[i].needles[k]))
                fail_msg("case %zu: message \"%s\" lacks \"%s\"", i, err.msg,
                         bad_cases[i].needles[k]);
        assert_int_equal(o.n_pods + o.n_nodes + o.n_nodepools + o.n_nodeclasses + o.n_pvs +
                             o.n_pvcs + o.n_storage_classes + o.n_daemonsets + o.n_pdbs,
                         0);
        hoist_objects_free(&o);
    }
}

/* ---- Namespaces ---------------------------------------------------------- */

static void selector(hoist_arena *a, const char *json, hoist_reqs *out)
{
    hoist_err err = {{0}};
    json_error_t jerr;
    json_t *j = json_loads(json, 0, &jerr);
    if (!j)
        fail_msg("%s: %s", json, jerr.text);
    if (hoist_selector_from_json(a, j, out, &err) != 0)
        fail_msg("%s", err.msg);
    json_decref(j);
}

static void test_namespaces(void **state)
{
    (void)state;
    hoist_objects o;
    hoist_err err = {{0}};
    hoist_objects_init(&o);
    const char *text = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-a\n"
                       "  labels: {team: devops, tier: gold}\n"
                       "---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-b\n"
                       "  namespace: ignored\n"
                       "  labels: {team: web, kubernetes.io/metadata.name: spoofed}\n"
                       "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: bare}\n";
    assert_int_equal(hoist_objects_load_buffer(&o, "ns.yaml", text, strlen(text), &err), 0);
    assert_int_equal(o.n_namespaces, 3);
    assert_int_equal(o.n_warnings, 0);

    const hoist_namespace *a = hoist_objects_find_namespace(&o, "team-a");
    assert_non_null(a);
    assert_string_equal(a->name, "team-a");
    assert_string_equal(a->src.file, "ns.yaml");
    assert_int_equal(a->src.line, 1);
    assert_int_equal(a->labels.n, 3);
    assert_string_equal(hoist_labels_get(&a->labels, "team"), "devops");
    assert_string_equal(hoist_labels_get(&a->labels, "tier"), "gold");
    assert_string_equal(hoist_labels_get(&a->labels, HOIST_LABEL_NAMESPACE_NAME), "team-a");
    /* The API server's label wins over a written one. */
    const hoist_namespace *b = hoist_objects_find_namespace(&o, "team-b");
    assert_non_null(b);
    assert_int_equal(b->src.index, 1);
    assert_string_equal(hoist_labels_get(&b->labels, HOIST_LABEL_NAMESPACE_NAME), "team-b");
    const hoist_namespace *bare = hoist_objects_find_namespace(&o, "bare");
    assert_non_null(bare);
    assert_int_equal(bare->labels.n, 1);
    assert_null(hoist_objects_find_namespace(&o, "team-c"));
    assert_null(hoist_objects_find_namespace(&o, NULL));

    hoist_arena ar;
    hoist_arena_init(&ar, 0);
    hoist_reqs devops, any, by_name, not_devops;
    selector(&ar, "{\"matchLabels\": {\"team\": \"devops\"}}", &devops);
    selector(&ar, "{}", &any);
    selector(&ar, "{\"matchLabels\": {\"kubernetes.io/metadata.name\": \"default\"}}", &by_name);
    selector(&ar, "{\"matchExpressions\": [{\"key\": \"team\", \"operator\": \"NotIn\", "
                  "\"values\": [\"devops\"]}]}", &not_devops);
    assert_true(hoist_objects_namespace_matches(&o, "team-a", &devops));
    assert_false(hoist_objects_namespace_matches(&o, "team-b", &devops));
    assert_false(hoist_objects_namespace_matches(&o, "bare", &devops));
    assert_true(hoist_objects_namespace_matches(&o, "team-b", &not_devops));
    assert_false(hoist_objects_namespace_matches(&o, "team-a", &not_devops));
    /* {} matches every namespace, loaded or not. */
    assert_true(hoist_objects_namespace_matches(&o, "team-a", &any));
    assert_true(hoist_objects_namespace_matches(&o, "nowhere", &any));
    /* A namespace not in the snapshot carries only its name label. */
    assert_true(hoist_objects_namespace_matches(&o, NULL, &by_name));
    assert_true(hoist_objects_namespace_matches(&o, "default", &by_name));
    assert_false(hoist_objects_namespace_matches(&o, "kube-system", &by_name));
    assert_false(hoist_objects_namespace_matches(&o, "nowhere", &devops));
    assert_true(hoist_objects_namespace_matches(&o, "nowhere", &not_devops));
    hoist_arena_free(&ar);

    /* Strict mode: a bad object later in the file drops its namespaces too. */
    const char *two = "apiVersion: v1\nkind: Namespace\nmetadata: {name: team-z}\n---\n"
                        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {nodeName: 1}\n";
    assert_int_equal(hoist_objects_load_buffer(&o, "mixed.yaml", two, strlen(two), &err), -1);
    assert_has(err.msg, "mixed.yaml:5: Pod default/p: spec.nodeName");
    assert_int_equal(o.n_namespaces, 3);
    assert_null(hoist_objects_find_namespace(&o, "team-z"));
    hoist_objects_free(&o);
}

static void test_namespace_bad_input(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        const char *needle;
    } cases[] = {
        {"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: t\n  labels: {\"bad key!\": x}\n",
         "bad.yaml:1: Namespace t: metadata.labels"},
        {"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: t\n  labels: {team: \"a b\"}\n",
         "Namespace t: metadata.labels: team: invalid label value"},
        {"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: t\n  labels: [team]\n",
         "Namespace t: metadata.labels: expected an object"},
        {"apiVersion: v1\nkind: Namespace\nmetadata:\n  labels: {team: devops}\n",
         "Namespace (document 0): metadata.name: required"},
        {"apiVersion: v1\nkind: Namespace\nmetadata: {name: [x]}\n",
         "Namespace (document 0): metadata.name: expected a string"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hoist_objects o;
        hoist_err err = {{0}};
        hoist_objects_init(&o);
        const char *t = cases[i].text;
        if (hoist_objects_load_buffer(&o, "bad.yaml", t, strlen(t), &err) != -1)
            fail_msg("case %zu loaded without error", i);
        if (!strstr(err.msg, cases[i].needle))
            fail_msg("case %zu: message \"%s\" lacks \"%s\"", i, err.msg, cases[i].needle);
        assert_int_equal(o.n_namespaces, 0);
        hoist_objects_free(&o);
    }
}

/* ---- durations and timestamps ------------------------------------------ */

static void test_durations(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        int64_t want;
    } good[] = {{"720h", 2592000}, {"30s", 30}, {"1h30m", 5400}, {"1.5h", 5400},
                {"0s", 0},         {"0", 0},    {"500ms", 1},    {"2m3s", 123},
                {"90m", 5400},     {"1h0m0s", 3600}};
    hoist_err err = {{0}};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        int64_t v = -7;
        if (hoist_duration_parse(good[i].s, false, &v, &err) != 0)
            fail_msg("%s: %s", good[i].s, err.msg);
        assert_int_equal(v, good[i].want);
    }
    int64_t v;
    assert_int_equal(hoist_duration_parse("Never", true, &v, &err), 0);
    assert_true(v == HOIST_NEVER);
    static const char *const bad[] = {"",   "Never", "10",  "h",     "5d",   "-5m",
                                      "1.h5", "5 m", "1e3s", "99999999999999999h", ".s"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err.msg[0] = '\0';
        if (hoist_duration_parse(bad[i], false, &v, &err) != -1)
            fail_msg("\"%s\" parsed as %lld", bad[i], (long long)v);
        assert_has(err.msg, "invalid duration");
    }
}

static void test_timestamps(void **state)
{
    (void)state;
    hoist_err err = {{0}};
    int64_t t;
    assert_int_equal(hoist_timestamp_parse("1970-01-01T00:00:00Z", &t, &err), 0);
    assert_int_equal(t, 0);
    assert_int_equal(hoist_timestamp_parse("2024-01-02T03:04:05Z", &t, &err), 0);
    assert_int_equal(t, 1704164645);
    assert_int_equal(hoist_timestamp_parse("2024-01-02T03:04:05.123456Z", &t, &err), 0);
    assert_int_equal(t, 1704164645);
    assert_int_equal(hoist_timestamp_parse("2024-01-02T05:04:05+02:00", &t, &err), 0);
    assert_int_equal(t, 1704164645);
    static const char *const bad[] = {"", "2024-01-02", "2024-13-02T03:04:05Z",
                                      "2024-01-02T03:04:05", "2024-01-02T03:04:05Zjunk",
                                      "2024-01-02T03:04:05+2"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err.msg[0] = '\0';
        if (hoist_timestamp_parse(bad[i], &t, &err) != -1)
            fail_msg("\"%s\" parsed", bad[i]);
        assert_has(err.msg, "invalid timestamp");
    }
}

/* ---- shared reference data --------------------------------------------- */

static const char *shared_dir(void)
{
    const char *d = getenv("HOIST_SHARED_DATA");
    struct stat st;
    if (!d || stat(d, &st) != 0 || !S_ISDIR(st.st_mode))
        return NULL;
    return d;
}

/* What loading each shared example should give: NULL = loads, else a needle
 * of the expected error (the round-trip fixtures carry placeholder values). */
static const struct {
    const char *file;
    const char *error;
} shared_expect[] = {
    {"kubernetes-api-roundtrip-testdata/core.v1.Pod.json",
     "Pod namespaceValue/nameValue: spec.affinity.nodeAffinity."},
    {"kubernetes-api-roundtrip-testdata/core.v1.Node.json", "Node nameValue: spec.taints"},
    {"kubernetes-api-roundtrip-testdata/core.v1.PersistentVolume.json",
     "PersistentVolume nameValue: spec.nodeAffinity.required"},
    {"kubernetes-api-roundtrip-testdata/policy.v1.PodDisruptionBudget.json",
     "PodDisruptionBudget namespaceValue/nameValue: spec.selector"},
};

static void check_shared_file(const char *dir, const char *rel, size_t *loaded, size_t *failed)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/k8s/%s", dir, rel);
    hoist_objects o;
    hoist_err err = {{0}};
    hoist_objects_init(&o);
    int rc = hoist_objects_load_file(&o, path, &err);
    const char *expect = NULL;
    bool listed = false;
    for (size_t i = 0; i < sizeof shared_expect / sizeof shared_expect[0]; i++)
        if (strcmp(shared_expect[i].file, rel) == 0)
            expect = shared_expect[i].error, listed = true;
    if (listed && expect) {
        if (rc != -1)
            fail_msg("%s: expected a failure naming \"%s\"", rel, expect);
        assert_has(err.msg, path);
        assert_has(err.msg, expect);
        (*failed)++;
    } else if (rc != 0) {
        fail_msg("%s: %s", rel, err.msg);
    } else {
        (*loaded)++;
    }
    hoist_objects_free(&o);
}

static void walk(const char *dir, const char *root, const char *rel, size_t *loaded,
                 size_t *failed)
{
    char full[4096];
    snprintf(full, sizeof full, "%s/k8s%s%s", root, *rel ? "/" : "", rel);
    DIR *dp = opendir(full);
    assert_non_null(dp);
    struct dirent *e;
    while ((e = readdir(dp))) {
        if (e->d_name[0] == '.')
            continue;
        char sub[2048];
        assert_true(snprintf(sub, sizeof sub, "%s%s%s", rel, *rel ? "/" : "", e->d_name) > 0);
        char subfull[4096 + 512];
        assert_true(snprintf(subfull, sizeof subfull, "%s/%s", full, e->d_name) > 0);
        struct stat st;
        assert_int_equal(stat(subfull, &st), 0);
        size_t len = strlen(e->d_name);
        if (S_ISDIR(st.st_mode))
            walk(dir, root, sub, loaded, failed);
        else if ((len > 5 && strcmp(e->d_name + len - 5, ".yaml") == 0) ||
                 (len > 5 && strcmp(e->d_name + len - 5, ".json") == 0))
            check_shared_file(root, sub, loaded, failed);
    }
    closedir(dp);
}

static void test_shared_examples(void **state)
{
    (void)state;
    const char *dir = shared_dir();
    if (!dir) {
        printf("HOIST_SHARED_DATA not set or missing: shared example tests skipped\n");
        skip();
    }
    size_t loaded = 0, failed = 0;
    walk(dir, dir, "", &loaded, &failed);
    assert_int_equal(failed, sizeof shared_expect / sizeof shared_expect[0]);
    assert_true(loaded >= 40);
}

/* The round-trip fixtures with their placeholder enum values replaced by
 * valid ones, so every field they fill goes through the decoders. */
static json_t *repair(const json_t *v, const char *key)
{
    static const char *const res_lists[] = {"capacity", "allocatable", "requests", "limits",
                                            "overhead", NULL};
    static const char *const swaps[][2] = {
        {"operatorValue", "In"},          {"effectValue", "NoSchedule"},
        {"minAvailableValue", "50%"},     {"whenUnsatisfiableValue", "DoNotSchedule"},
        {"nodeAffinityPolicyValue", "Honor"}, {"nodeTaintsPolicyValue", "Honor"}};
    if (json_is_object(v)) {
        bool res_list = false;
        for (int i = 0; key && res_lists[i]; i++)
            res_list = res_list || strcmp(key, res_lists[i]) == 0;
        json_t *out = json_object();
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)v, k, x) {
            if (strcmp(k, "maxUnavailable") == 0) /* exclusive with minAvailable */
                continue;
            char nk[256];
            size_t len = strlen(k);
            snprintf(nk, sizeof nk, "%s%s",
                     res_list && len > 3 && strcmp(k + len - 3, "Key") == 0 ? "example.com/"
                                                                            : "", k);
            json_object_set_new(out, nk, repair(x, k));
        }
        if (key && strcmp(key, "matchFields") == 0)
            json_object_set_new(out, "key", json_string("metadata.name"));
        if (key && strcmp(key, "tolerations") == 0) {
            json_object_set_new(out, "operator", json_string("Equal"));
            json_object_set_new(out, "effect", json_string("NoExecute"));
        }
        return out;
    }
    if (json_is_array(v)) {
        json_t *out = json_array();
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) json_array_append_new(out, repair(x, key));
        return out;
    }
    for (size_t i = 0; json_is_string(v) && i < sizeof swaps / sizeof swaps[0]; i++)
        if (strcmp(json_string_value(v), swaps[i][0]) == 0)
            return json_string(swaps[i][1]);
    return json_deep_copy(v);
}

static void test_roundtrip_fixtures_repaired(void **state)
{
    (void)state;
    const char *dir = shared_dir();
    if (!dir) {
        printf("HOIST_SHARED_DATA not set or missing: round-trip fixture tests skipped\n");
        skip();
    }
    static const char *const files[] = {"core.v1.Pod", "core.v1.Node", "core.v1.PersistentVolume",
                                        "policy.v1.PodDisruptionBudget"};
    hoist_objects o;
    hoist_objects_init(&o);
    for (size_t i = 0; i < 4; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/k8s/kubernetes-api-roundtrip-testdata/%s.json", dir,
                 files[i]);
        json_error_t je;
        json_t *raw = json_load_file(path, 0, &je);
        assert_non_null(raw);
        json_t *fixed = repair(raw, NULL);
        hoist_source src = {files[i], 1, 0};
        hoist_err err = {{0}};
        if (hoist_objects_add_json(&o, fixed, &src, &err) != 0)
            fail_msg("%s", err.msg);
        json_decref(fixed);
        json_decref(raw);
    }
    assert_int_equal(o.n_pods, 1);
    const hoist_pod *p = o.pods[0];
    assert_string_equal(p->ns, "namespaceValue");
    assert_string_equal(p->node_name, "nodeNameValue");
    assert_true(p->terminating);
    assert_string_equal(p->owner_kind, "kindValue");
    assert_true(p->node_affinity.n >= 1);
    assert_true(p->n_preferred_node_affinity >= 1);
    assert_true(p->pod_affinity.n >= 1 && p->pod_anti_affinity_preferred.n >= 1);
    assert_true(p->n_spread >= 1);
    assert_true(p->tolerations.n >= 1);
    assert_true(p->claims.n >= 1);
    assert_true(p->has_empty_dir && p->has_host_path);
    assert_int_equal(p->requests.v[HOIST_RES_PODS], 1000);
    assert_int_equal(o.n_nodes, 1);
    assert_string_equal(o.nodes[0]->provider_id, "providerIDValue");
    assert_true(o.nodes[0]->unschedulable);
    assert_int_equal(o.nodes[0]->ready, -1); /* its one condition is "typeValue" */
    assert_int_equal(o.n_pvs, 1);
    assert_int_equal(o.n_pdbs, 1);
    assert_true(o.pdbs[0]->min_available.percent);
    assert_int_equal(o.pdbs[0]->min_available.value, 50);
    assert_int_equal(o.pdbs[0]->expected_pods, 6);
    hoist_objects_free(&o);
}

static void test_karpenter_examples(void **state)
{
    (void)state;
    const char *dir = shared_dir();
    if (!dir) {
        printf("HOIST_SHARED_DATA not set or missing: Karpenter example tests skipped\n");
        skip();
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/k8s/karpenter-examples/v1", dir);
    DIR *dp = opendir(path);
    assert_non_null(dp);
    hoist_objects o;
    hoist_objects_init(&o);
    struct dirent *e;
    size_t files = 0;
    while ((e = readdir(dp))) {
        if (!strstr(e->d_name, ".yaml"))
            continue;
        char f[4096 + 256];
        hoist_err err = {{0}};
        snprintf(f, sizeof f, "%s/%s", path, e->d_name);
        if (hoist_objects_load_file(&o, f, &err) != 0)
            fail_msg("%s", err.msg);
        files++;
    }
    closedir(dp);
    assert_true(files >= 20);
    assert_true(o.n_nodepools >= files);
    assert_true(o.n_nodeclasses >= files);
    for (size_t i = 0; i < o.n_nodepools; i++) {
        const hoist_nodepool *np = o.nodepools[i];
        assert_string_equal(np->api_version, "karpenter.sh/v1");
        assert_string_equal(np->node_class_kind, "EC2NodeClass");
        for (size_t k = 0; k < np->requirements.n; k++) {
            const char *key = np->requirements.items[k].key;
            if (strncmp(key, "karpenter.", 10) == 0)
                fail_msg("NodePool %s: key %s not canonical", np->name, key);
        }
    }
    /* general-purpose.yaml: categories c, m, r and generation > 2 */
    const hoist_nodepool *gp = hoist_objects_find_nodepool(&o, "general-purpose");
    assert_non_null(gp);
    const hoist_req *cat = reqs_find(&gp->requirements, "hoist.dev/instance-category");
    assert_non_null(cat);
    assert_int_equal(cat->op, HOIST_OP_IN);
    assert_int_equal(cat->n_values, 3);
    const hoist_req *gen = reqs_find(&gp->requirements, "hoist.dev/instance-generation");
    assert_non_null(gen);
    assert_int_equal(gen->op, HOIST_OP_GT);
    assert_non_null(reqs_find(&gp->requirements, "hoist.dev/capacity-type"));
    hoist_objects_free(&o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pod_requests),
        cmocka_unit_test(test_pod_fields),
        cmocka_unit_test(test_nodepool),
        cmocka_unit_test(test_nodepool_defaults_and_hash),
        cmocka_unit_test(test_cluster_objects),
        cmocka_unit_test(test_strict_and_keep_going),
        cmocka_unit_test(test_stream_and_add_json),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_namespaces),
        cmocka_unit_test(test_namespace_bad_input),
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_timestamps),
        cmocka_unit_test(test_shared_examples),
        cmocka_unit_test(test_roundtrip_fixtures_repaired),
        cmocka_unit_test(test_karpenter_examples),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
