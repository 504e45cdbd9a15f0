/* Unit tests for sched/volumes: the node selectors a pod's volumes impose. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "model/labels.h"
#include "sched/volumes.h"

static void assert_has(const char *msg, const char *needle)
{
    if (!strstr(msg, needle))
        fail_msg("message \"%s\" lacks \"%s\"", msg, needle);
}

static void load(hoist_objects *o, const char *path)
{
    hoist_err err = {{0}};
    if (hoist_objects_load_file(o, path, &err) != 0)
        fail_msg("%s", err.msg);
}

static void load_fixture(hoist_objects *o, const char *file)
{
    char path[4096];
    const char *src = getenv("HOIST_SRCDIR");
    snprintf(path, sizeof path, "%s/tests/data/volumes/%s", src ? src : "..", file);
    load(o, path);
}

/* The volume selectors of pod ns/name; fails the test on an error. */
static size_t terms_of(const hoist_objects *o, hoist_arena *a, const char *ns, const char *name,
                       hoist_node_selector **out)
{
    const hoist_pod *p = hoist_objects_find_pod(o, ns, name);
    if (!p)
        fail_msg("pod %s/%s not loaded", ns, name);
    size_t n = 99;
    hoist_err err = {{0}};
    if (hoist_pod_volume_terms(o, p, a, out, &n, &err) != 0)
        fail_msg("%s/%s: %s", ns, name, err.msg);
    return n;
}

/* The message for pod ns/name, which must fail. */
static const char *error_of(const hoist_objects *o, hoist_arena *a, const char *ns,
                            const char *name, hoist_err *err)
{
    const hoist_pod *p = hoist_objects_find_pod(o, ns, name);
    if (!p)
        fail_msg("pod %s/%s not loaded", ns, name);
    hoist_node_selector *sel = (hoist_node_selector *)1;
    size_t n = 99;
    if (hoist_pod_volume_terms(o, p, a, &sel, &n, err) != -1)
        fail_msg("%s/%s: no error", ns, name);
    return err->msg;
}

/* Term t holds exactly one requirement on key, an In with these values. */
static void assert_in(const hoist_node_term *t, const char *key, size_t n, const char *const *vals)
{
    const hoist_req *r = NULL;
    for (size_t i = 0; i < t->match_expressions.n; i++) {
        if (strcmp(t->match_expressions.items[i].key, key) != 0)
            continue;
        if (r)
            fail_msg("two requirements on %s", key);
        r = &t->match_expressions.items[i];
    }
    if (!r)
        fail_msg("no requirement on %s", key);
    assert_int_equal(r->op, HOIST_OP_IN);
    assert_int_equal(r->n_values, n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(r->values[i], vals[i]);
}

/* No term mentions the EBS CSI key. */
static void assert_no_ebs_key(const hoist_node_selector *s)
{
    for (size_t t = 0; t < s->n; t++)
        for (size_t i = 0; i < s->terms[t].match_expressions.n; i++)
            assert_string_not_equal(s->terms[t].match_expressions.items[i].key,
                                    HOIST_LABEL_EBS_CSI_ZONE);
}

/* True when a node with these labels satisfies some term of s. */
static bool node_in(const hoist_node_selector *s, const char *zone, const char *arch,
                    const char *host)
{
    hoist_kv kv[3];
    size_t n = 0;
    if (arch)
        kv[n++] = (hoist_kv){HOIST_LABEL_ARCH, arch};
    if (host)
        kv[n++] = (hoist_kv){HOIST_LABEL_HOSTNAME, host};
    if (zone)
        kv[n++] = (hoist_kv){HOIST_LABEL_ZONE, zone};
    hoist_labels l = {n, kv};
    for (size_t t = 0; t < s->n; t++)
        if (hoist_reqs_match_labels(&s->terms[t].match_expressions, &l))
            return true;
    return false;
}

#define VALS(...) (sizeof((const char *[]){__VA_ARGS__}) / sizeof(const char *)), \
                  ((const char *const[]){__VA_ARGS__})

/* ---- bound volumes -------------------------------------------------------- */

static void test_bound_ebs_key(void **state)
{
    (void)state;
    hoist_objects o;
    hoist_arena a;
    hoist_objects_init(&o);
    hoist_arena_init(&a, 0);
    load_fixture(&o, "cluster.yaml");
    hoist_node_selector *s;
    assert_int_equal(terms_of(&o, &a, "shop", "ebs", &s), 1);
    assert_int_equal(s[0].n, 1);
    assert_int_equal(s[0].terms[0].match_expressions.n, 1);
    assert_int_equal(s[0].terms[0].match_fields.n, 0);
    assert_in(&s[0].terms[0], HOIST_LABEL_ZONE, VALS("us-east-1b"));
    assert_true(node_in(&s[0], "us-east-1b", NULL, NULL));
    assert_false(node_in(&s[0], "us-east-1a", NULL, NULL));
    assert_false(node_in(&s[0], NULL, NULL, NULL));
    /* The snapshot's PV is untouched: it still says the EBS key. */
    const hoist_pv *pv = hoist_objects_find_pv(&o, "pv-ebs-key");
    assert_string_equal(pv->node_affinity.terms[0].match_expressions.items[0].key,
                        HOIST_LABEL_EBS_CSI_ZONE);

    /* The same claim name in another namespace is a different, unbound claim. */
    assert_int_equal(terms_of(&o, &a, "default", "ebs-default-ns", &s), 0);
    assert_null(s);
    hoist_arena_free(&a);
    hoist_objects_free(&o);
}

static void test_bound_both_keys_merge(void **state)
{
    (void)state;
    hoist_objects o;
    hoist_arena a;
    hoist_objects_init(&o);
    hoist_arena_init(&a, 0);
    load_fixture(&o, "cluster.yaml");
    hoist_node_selector *s;
    assert_int_equal(terms_of(&o, &a, "shop", "both", &s), 1);
    assert_int_equal(s[0].n, 1);
    assert_int_equal(s[0].terms[0].match_expressions.n, 2);
    assert_in(&s[0].terms[0], HOIST_LABEL_ZONE, VALS("us-east-1c"));
    assert_in(&s[0].terms[0], HOIST_LABEL_ARCH, VALS("arm64"));
    assert_no_ebs_key(&s[0]);
    assert_true(node_in(&s[0], "us-east-1c", "arm64", NULL));
    assert_false(node_in(&s[0], "us-east-1a", "arm64", NULL));
    assert_false(node_in(&s[0], "us-east-1d", "arm64", NULL));
    assert_false(node_in(&s[0], "us-east-1c", "amd64", NULL));
    hoist_arena_free(&a);
    hoist_objects_free(&o);
}

static void test_bound_or_of_terms(void **state)
{
    (void)state;
    hoist_objects o;
    hoist_arena a;
    hoist_objects_init(&o);
    hoist_arena_init(&a, 0);
    load_fixture(&o, "cluster.yaml");
    hoist_node_selector *s;
    /* Three terms: the empty one is dropped, the OR of the other two stays. */
    assert_int_equal(hoist_objects_find_pv(&o, "pv-local")->node_affinity.n, 3);
    assert_int_equal(terms_of(&o, &a, "shop", "local", &s), 1);
    assert_int_equal(s[0].n, 2);
    assert_in(&s[0].terms[0], HOIST_LABEL_HOSTNAME, VALS("node-1"));
    assert_in(&s[0].terms[1], HOIST_LABEL_ZONE, VALS("us-east-1a"));
    assert_no_ebs_key(&s[0]);
    assert_true(node_in(&s[0], "us-east-1c", NULL, "node-1"));
    assert_true(node_in(&s[0], "us-east-1a", NULL, "node-2"));
    assert_false(node_in(&s[0], "us-east-1c", NULL, "node-2"));

    /* Pre-bound by claimRef: the PV's zone, not the claim's Immediate class. */
    assert_int_equal(terms_of(&o, &a, "shop", "prebound", &s), 1);
    assert_int_equal(s[0].n, 1);
    assert_in(&s[0].terms[0], HOIST_LABEL_ZONE, VALS("us-east-1e"));
    hoist_arena_free(&a);
    hoist_objects_free(&o);
}

/* ---- unbound volumes -------------------------------------------------------- */

static void test_unbound_wait_for_first_consumer(void **state)
{
    (void)state;
    hoist_objects o;
    hoist_arena a;
    hoist_objects_init(&o);
    hoist_arena_init(&a, 0);
    load_fixture(&o, "cluster.yaml");
    hoist_node_selector *s;
    /* allowedTopologies: an OR of two terms, the first under the EBS key. */
    assert_int_equal(terms_of(&o, &a, "shop", "wait", &s), 1);
    assert_int_equal(s[0].n, 2);
    assert_in(&s[0].terms[0], HOIST_LABEL_ZONE, VALS("us-east-1a", "us-east-1b"));
    assert_in(&s[0].terms[1], HOIST_LABEL_ZONE, VALS("us-east-1d"));
    assert_no_ebs_key(&s[0]);
    assert_true(node_in(&s[0], "us-east-1a", NULL, NULL));
    assert_true(node_in(&s[0], "us-east-1d", NULL, NULL));
    assert_false(node_in(&s[0], "us-east-1c", NULL, NULL));

    /* No storageClassName: the default class (WaitForFirstConsumer, 1f). */
    assert_int_equal(terms_of(&o, &a, "shop", "default-class", &s), 1);
    assert_int_equal(s[0].n, 1);
    assert_in(&s[0].terms[0], HOIST_LABEL_ZONE, VALS("us-east-1f"));
    hoist_arena_free(&a);
    hoist_objects_free(&o);
}

static void test_unconstrained(void **state)
{
    (void)state;
    hoist_objects o;
    hoist_arena a;
    hoist_objects_init(&o);
    hoist_arena_init(&a, 0);
    load_fixture(&o, "cluster.yaml");
    hoist_node_selector *s = (hoist_node_selector *)1;
    /* A PV without affinity, an Immediate class (its allowedTopologies do not
     * apply), no class, a WaitForFirstConsumer class without topology. */
    assert_int_equal(terms_of(&o, &a, "shop", "unconstrained", &s), 0);
    assert_null(s);
    assert_int_equal(terms_of(&o, &a, "shop", "no-volumes", &s), 0);
    assert_null(s);
    hoist_arena_free(&a);
    hoist_objects_free(&o);
}

static void test_many_volumes(void **state)
{
    (void)state;
    hoist_objects o;
    hoist_arena a;
    hoist_objects_init(&o);
    hoist_arena_init(&a, 0);
    load_fixture(&o, "cluster.yaml");
    hoist_node_selector *s;
    /* data-ebs (twice), data-nfs, data-wait: two selectors, in claim order. */
    assert_int_equal(terms_of(&o, &a, "shop", "many", &s), 2);
    assert_int_equal(s[0].n, 1);
    assert_in(&s[0].terms[0], HOIST_LABEL_ZONE, VALS("us-east-1b"));
    assert_int_equal(s[1].n, 2);
    assert_in(&s[1].terms[0], HOIST_LABEL_ZONE, VALS("us-east-1a", "us-east-1b"));
    /* Together only us-east-1b satisfies both. */
    const char *zones[] = {"us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d"};
    for (size_t z = 0; z < 4; z++)
        assert_int_equal(node_in(&s[0], zones[z], NULL, NULL) &&
                             node_in(&s[1], zones[z], NULL, NULL),
                         z == 1);
    hoist_arena_free(&a);
    hoist_objects_free(&o);
}

static void test_claim_lookups(void **state)
{
    (void)state;
    hoist_objects o;
    hoist_objects_init(&o);
    load_fixture(&o, "cluster.yaml");
    const hoist_pvc *c = hoist_objects_find_pvc(&o, "shop", "data-prebound");
    assert_non_null(c);
    assert_null(c->volume_name);
    assert_string_equal(hoist_pvc_bound_pv(&o, c)->name, "pv-prebound");
    assert_string_equal(hoist_pvc_storage_class(&o, c)->name, "zonal-immediate");
    c = hoist_objects_find_pvc(&o, "shop", "data-default");
    assert_null(hoist_pvc_bound_pv(&o, c));
    assert_string_equal(hoist_pvc_storage_class(&o, c)->name, "gp3-default");
    c = hoist_objects_find_pvc(&o, "shop", "data-noclass");
    assert_null(hoist_pvc_storage_class(&o, c));
    c = hoist_objects_find_pvc(&o, "default", "data-ebs");
    assert_null(hoist_pvc_bound_pv(&o, c)); /* pv-ebs-key's claimRef is shop/data-ebs */
    c = hoist_objects_find_pvc(&o, "shop", "data-ebs");
    assert_string_equal(hoist_pvc_bound_pv(&o, c)->name, "pv-ebs-key");
    hoist_objects_free(&o);

    /* Without any default class, a claim with no class has none. */
    hoist_objects_init(&o);
    const char *text = "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: c}\n"
                       "spec: {}\n---\napiVersion: storage.k8s.io/v1\nkind: StorageClass\n"
                       "metadata: {name: plain}\nprovisioner: x\n"
                       "volumeBindingMode: WaitForFirstConsumer\n"
                       "allowedTopologies: [{matchLabelExpressions: "
                       "[{key: topology.kubernetes.io/zone, values: [z1]}]}]\n"
                       "---\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\n"
                       "spec:\n  volumes: [{name: v, persistentVolumeClaim: {claimName: c}}]\n";
    hoist_err err = {{0}};
    assert_int_equal(hoist_objects_load_buffer(&o, "t.yaml", text, strlen(text), &err), 0);
    assert_null(hoist_pvc_storage_class(&o, o.pvcs[0]));
    hoist_arena a;
    hoist_arena_init(&a, 0);
    hoist_node_selector *s;
    assert_int_equal(terms_of(&o, &a, "default", "p", &s), 0);
    hoist_arena_free(&a);
    hoist_objects_free(&o);
}

/* ---- errors ----------------------------------------------------------------- */

static void test_errors(void **state)
{
    (void)state;
    hoist_objects o;
    hoist_arena a;
    hoist_err err = {{0}};
    hoist_objects_init(&o);
    hoist_arena_init(&a, 0);
    load_fixture(&o, "errors.yaml");
    assert_has(error_of(&o, &a, "jobs", "no-claim", &err),
               "Pod jobs/no-claim: PersistentVolumeClaim jobs/missing not found");
    assert_has(error_of(&o, &a, "jobs", "no-pv", &err),
               "Pod jobs/no-pv: PersistentVolumeClaim jobs/gone-pv: bound PersistentVolume "
               "pv-deleted not found");
    assert_has(error_of(&o, &a, "jobs", "no-class", &err),
               "Pod jobs/no-class: PersistentVolumeClaim jobs/bad-class: StorageClass fast-ssd "
               "not found");
    assert_has(error_of(&o, &a, "jobs", "nowhere", &err),
               "Pod jobs/nowhere: PersistentVolumeClaim jobs/conflict: PersistentVolume "
               "pv-conflict: spec.nodeAffinity.required matches no node");
    assert_has(error_of(&o, &a, "jobs", "sc-nowhere", &err),
               "Pod jobs/sc-nowhere: PersistentVolumeClaim jobs/never: StorageClass "
               "wait-nowhere: allowedTopologies matches no node");
    assert_has(error_of(&o, &a, "default", "wrong-ns", &err),
               "Pod default/wrong-ns: PersistentVolumeClaim default/fine not found");
    /* A generic ephemeral volume's claim is "<pod>-<volume>". */
    assert_has(error_of(&o, &a, "jobs", "scratch", &err),
               "Pod jobs/scratch: PersistentVolumeClaim jobs/scratch-tmp not found");
    hoist_arena_free(&a);
    hoist_objects_free(&o);
}

/* ---- the AWS EBS CSI driver's examples -------------------------------------- */

static const char *shared_dir(char *buf, size_t len, const char *sub)
{
    const char *shared = getenv("HOIST_SHARED_DATA");
    struct stat st;
    if (!shared || !*shared)
        return NULL;
    snprintf(buf, len, "%s/k8s/aws-ebs-csi-driver-examples/%s", shared, sub);
    if (stat(buf, &st) != 0 || !S_ISDIR(st.st_mode))
        return NULL;
    return buf;
}

static void skip_without_shared(void)
{
    printf("HOIST_SHARED_DATA not set or missing: AWS EBS CSI example tests skipped\n");
    skip();
}

static void load_example(hoist_objects *o, const char *dir, const char *file)
{
    char path[8192];
    int len = snprintf(path, sizeof path, "%s/%s", dir, file);
    assert_true(len > 0 && (size_t)len < sizeof path);
    load(o, path);
}

static void test_ebs_static_provisioning(void **state)
{
    (void)state;
    char dir[4096];
    if (!shared_dir(dir, sizeof dir, "static-provisioning"))
        skip_without_shared();
    hoist_objects o;
    hoist_arena a;
    hoist_objects_init(&o);
    hoist_arena_init(&a, 0);
    load_example(&o, dir, "pv.yaml");
    load_example(&o, dir, "claim.yaml");
    load_example(&o, dir, "pod.yaml");
    /* claim.yaml: storageClassName "" and volumeName test-pv; pv.yaml pins
     * the volume to us-east-2c. */
    const hoist_pvc *c = hoist_objects_find_pvc(&o, "default", "ebs-claim");
    assert_non_null(c);
    assert_string_equal(hoist_pvc_bound_pv(&o, c)->name, "test-pv");
    hoist_node_selector *s;
    assert_int_equal(terms_of(&o, &a, "default", "app", &s), 1);
    assert_int_equal(s[0].n, 1);
    assert_int_equal(s[0].terms[0].match_expressions.n, 1);
    assert_in(&s[0].terms[0], HOIST_LABEL_ZONE, VALS("us-east-2c"));
    assert_true(node_in(&s[0], "us-east-2c", NULL, NULL));
    assert_false(node_in(&s[0], "us-east-2a", NULL, NULL));

    /* Without the PV the pod cannot run: its claim names a missing volume. */
    hoist_objects_free(&o);
    hoist_objects_init(&o);
    load_example(&o, dir, "claim.yaml");
    load_example(&o, dir, "pod.yaml");
    hoist_err err = {{0}};
    assert_has(error_of(&o, &a, "default", "app", &err),
               "Pod default/app: PersistentVolumeClaim default/ebs-claim: bound "
               "PersistentVolume test-pv not found");
    hoist_arena_free(&a);
    hoist_objects_free(&o);
}

static void test_ebs_dynamic_provisioning(void **state)
{
    (void)state;
    char dir[4096];
    if (!shared_dir(dir, sizeof dir, "dynamic-provisioning"))
        skip_without_shared();
    hoist_objects o;
    hoist_arena a;
    hoist_err err = {{0}};
    hoist_objects_init(&o);
    hoist_arena_init(&a, 0);
    load_example(&o, dir, "claim.yaml");
    load_example(&o, dir, "pod.yaml");
    /* The class ebs-sc is not loaded yet: the claim names a missing class. */
    assert_has(error_of(&o, &a, "default", "app", &err),
               "Pod default/app: PersistentVolumeClaim default/ebs-claim: StorageClass ebs-sc "
               "not found");
    /* storageclass.yaml: WaitForFirstConsumer without allowedTopologies, so
     * the volume follows the pod anywhere: no constraint. */
    load_example(&o, dir, "storageclass.yaml");
    const hoist_storage_class *sc =
        hoist_pvc_storage_class(&o, hoist_objects_find_pvc(&o, "default", "ebs-claim"));
    assert_non_null(sc);
    assert_string_equal(sc->name, "ebs-sc");
    assert_true(sc->wait_for_first_consumer);
    hoist_node_selector *s = (hoist_node_selector *)1;
    assert_int_equal(terms_of(&o, &a, "default", "app", &s), 0);
    assert_null(s);

    /* The same class restricted to two zones under the EBS key constrains it. */
    const char *zonal = "apiVersion: storage.k8s.io/v1\nkind: StorageClass\n"
                        "metadata: {name: ebs-sc}\nprovisioner: ebs.csi.aws.com\n"
                        "volumeBindingMode: WaitForFirstConsumer\nallowedTopologies:\n"
                        "- matchLabelExpressions:\n"
                        "  - {key: topology.ebs.csi.aws.com/zone, values: [us-east-2b, us-east-2a]}\n";
    hoist_objects_free(&o);
    hoist_objects_init(&o);
    load_example(&o, dir, "claim.yaml");
    load_example(&o, dir, "pod.yaml");
    assert_int_equal(hoist_objects_load_buffer(&o, "zonal.yaml", zonal, strlen(zonal), &err), 0);
    assert_int_equal(terms_of(&o, &a, "default", "app", &s), 1);
    assert_int_equal(s[0].n, 1);
    assert_in(&s[0].terms[0], HOIST_LABEL_ZONE, VALS("us-east-2a", "us-east-2b"));
    hoist_arena_free(&a);
    hoist_objects_free(&o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bound_ebs_key),
        cmocka_unit_test(test_bound_both_keys_merge),
        cmocka_unit_test(test_bound_or_of_terms),
        cmocka_unit_test(test_unbound_wait_for_first_consumer),
        cmocka_unit_test(test_unconstrained),
        cmocka_unit_test(test_many_volumes),
        cmocka_unit_test(test_claim_lookups),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_ebs_static_provisioning),
        cmocka_unit_test(test_ebs_dynamic_provisioning),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
