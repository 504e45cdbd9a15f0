/* test_labels.c - label key aliases, sorted label sets, label syntax. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "model/labels.h"

#include "test_json.h"

static void test_canonical_aliases(void **state)
{
    (void)state;
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"karpenter.sh/capacity-type", "hoist.dev/capacity-type"},
        {"karpenter.sh/nodepool", "hoist.dev/nodepool"},
        {"karpenter.k8s.aws/instance-family", "hoist.dev/instance-family"},
        {"karpenter.k8s.aws/instance-category", "hoist.dev/instance-category"},
        {"karpenter.k8s.aws/instance-cpu", "hoist.dev/instance-cpu"},
        {"karpenter.k8s.aws/instance-memory", "hoist.dev/instance-memory"},
        {"karpenter.k8s.aws/instance-generation", "hoist.dev/instance-generation"},
        {"karpenter.k8s.aws/instance-size", "hoist.dev/instance-size"},
        {"karpenter.k8s.aws/instance-gpu-name", "hoist.dev/instance-gpu-name"},
        {"karpenter.k8s.aws/instance-gpu-count", "hoist.dev/instance-gpu-count"},
        {"karpenter.k8s.aws/instance-gpu-memory", "hoist.dev/instance-gpu-memory"},
        {"karpenter.k8s.aws/instance-local-nvme", "hoist.dev/instance-local-nvme"},
        {"karpenter.k8s.aws/instance-network-bandwidth", "hoist.dev/instance-network-bandwidth"},
        {"karpenter.k8s.aws/instance-hypervisor", "hoist.dev/instance-hypervisor"},
        {"karpenter.k8s.aws/instance-cpu-manufacturer", "hoist.dev/instance-cpu-manufacturer"},
        {"failure-domain.beta.kubernetes.io/zone", "topology.kubernetes.io/zone"},
        {"failure-domain.beta.kubernetes.io/region", "topology.kubernetes.io/region"},
        {"beta.kubernetes.io/instance-type", "node.kubernetes.io/instance-type"},
        {"beta.kubernetes.io/arch", "kubernetes.io/arch"},
        {"beta.kubernetes.io/os", "kubernetes.io/os"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *got = hoist_label_canonical(cases[i].in);
        if (!got || strcmp(got, cases[i].want) != 0)
            fail_msg("%s -> %s, want %s", cases[i].in, got ? got : "(null)", cases[i].want);
    }
    /* Keys without aliases come back as the very same pointer. */
    const char *plain[] = {"app", "topology.kubernetes.io/zone", "hoist.dev/nodepool",
                           "karpenter.sh/initialized", "karpenter.k8s.aws/instance-",
                           "karpenter.k8s.aws/ec2nodeclass", "example.com/x",
                           "kubernetes.io/hostname", "kubernetes.io/arch", "k", "f", "b",
                           "karpenter", "failure-domain", "beta", "beta.example.com/x",
                           "failure-domain.example.com/zone", "builder.io/x", "fx/zone"};
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
        assert_ptr_equal(hoist_label_canonical(plain[i]), plain[i]);
    assert_null(hoist_label_canonical(NULL));
}

static void test_canonical_arena_every_attribute(void **state)
{
    (void)state;
    hoist_arena a;
    hoist_arena_init(&a, 0);
    const char *k = hoist_label_canonical_arena(&a, "karpenter.k8s.aws/instance-made-up-thing");
    assert_string_equal(k, "hoist.dev/instance-made-up-thing");
    /* Static aliases stay static; plain keys stay the same pointer. */
    assert_string_equal(hoist_label_canonical_arena(&a, "karpenter.sh/nodepool"),
                        "hoist.dev/nodepool");
    const char *app = "app";
    assert_ptr_equal(hoist_label_canonical_arena(&a, app), app);
    /* Lookup canonicalises unknown instance attributes too, without an arena. */
    hoist_kv pairs[] = {{"karpenter.k8s.aws/instance-made-up-thing", "yes"}};
    hoist_labels l;
    assert_int_equal(hoist_labels_from_pairs(&a, pairs, 1, &l), 0);
    assert_string_equal(l.items[0].key, "hoist.dev/instance-made-up-thing");
    assert_string_equal(hoist_labels_get(&l, "karpenter.k8s.aws/instance-made-up-thing"), "yes");
    assert_string_equal(hoist_labels_get(&l, "hoist.dev/instance-made-up-thing"), "yes");
    hoist_arena_free(&a);
}

static void test_from_pairs_sorted_and_dedup(void **state)
{
    (void)state;
    hoist_arena a;
    hoist_arena_init(&a, 0);
    hoist_kv pairs[] = {
        {"zeta", "1"},
        {"app", "web"},
        {"karpenter.sh/nodepool", "default"},
        {"mid", "x"},
        {"app", "api"},                   /* later duplicate wins */
        {"hoist.dev/nodepool", "gpu"},    /* canonical key after alias: wins */
        {"empty", NULL},
    };
    hoist_labels l;
    assert_int_equal(hoist_labels_from_pairs(&a, pairs, 7, &l), 0);
    assert_int_equal(l.n, 5);
    for (size_t i = 1; i < l.n; i++)
        assert_true(strcmp(l.items[i - 1].key, l.items[i].key) < 0);
    assert_string_equal(hoist_labels_get(&l, "app"), "api");
    assert_string_equal(hoist_labels_get(&l, "hoist.dev/nodepool"), "gpu");
    assert_string_equal(hoist_labels_get(&l, "karpenter.sh/nodepool"), "gpu");
    assert_string_equal(hoist_labels_get(&l, "empty"), "");
    assert_string_equal(hoist_labels_get(&l, "zeta"), "1");
    assert_string_equal(hoist_labels_get(&l, "mid"), "x");
    assert_null(hoist_labels_get(&l, "nope"));
    assert_null(hoist_labels_get(&l, "a"));
    assert_null(hoist_labels_get(&l, "zz"));
    assert_null(hoist_labels_get(&l, NULL));
    assert_null(hoist_labels_get(NULL, "app"));
    /* Strings are copies owned by the arena. */
    assert_true(l.items[0].key != pairs[1].key);
    hoist_labels e;
    assert_int_equal(hoist_labels_from_pairs(&a, NULL, 0, &e), 0);
    assert_int_equal(e.n, 0);
    assert_null(hoist_labels_get(&e, "app"));
    hoist_arena_free(&a);
}

static void test_lookup_many(void **state)
{
    (void)state;
    hoist_arena a;
    hoist_arena_init(&a, 0);
    enum { N = 200 };
    hoist_kv pairs[N];
    for (int i = 0; i < N; i++) {
        /* Insert in a scrambled order. */
        int k = (i * 73) % N;
        pairs[i].key = hoist_arena_sprintf(&a, "example.com/k%03d", k);
        pairs[i].value = hoist_arena_sprintf(&a, "v%d", k);
    }
    hoist_labels l;
    assert_int_equal(hoist_labels_from_pairs(&a, pairs, N, &l), 0);
    assert_int_equal(l.n, N);
    for (int k = 0; k < N; k++) {
        char key[32], want[16];
        snprintf(key, sizeof key, "example.com/k%03d", k);
        snprintf(want, sizeof want, "v%d", k);
        const char *got = hoist_labels_get(&l, key);
        if (!got || strcmp(got, want) != 0)
            fail_msg("%s -> %s", key, got ? got : "(null)");
    }
    hoist_arena_free(&a);
}

static void test_key_value_syntax(void **state)
{
    (void)state;
    static const char *const good_keys[] = {
        "app", "a", "A", "app.kubernetes.io/name", "example.com/Foo_Bar.9", "x/y",
        "kubernetes.io/hostname", "a-b.c-d/e",
        "123456789012345678901234567890123456789012345678901234567890123",
    };
    static const char *const bad_keys[] = {
        "", "-app", "app-", "a b", "app!", "/app", "example.com/", "Example.com/app",
        "example..com/app", "-example.com/app", "example.com-/app", "a/b/c", "ex_ample.com/app",
        "1234567890123456789012345678901234567890123456789012345678901234",
    };
    for (size_t i = 0; i < sizeof good_keys / sizeof good_keys[0]; i++)
        if (!hoist_label_key_valid(good_keys[i]))
            fail_msg("key \"%s\" rejected: %s", good_keys[i], hoist_label_key_problem(good_keys[i]));
    for (size_t i = 0; i < sizeof bad_keys / sizeof bad_keys[0]; i++)
        if (hoist_label_key_valid(bad_keys[i]))
            fail_msg("key \"%s\" accepted", bad_keys[i]);
    assert_false(hoist_label_key_valid(NULL));
    /* 253-character prefix is fine, 254 is not. */
    char key[300];
    memset(key, 'a', 253);
    strcpy(key + 253, "/n");
    assert_true(hoist_label_key_valid(key));
    memset(key, 'a', 254);
    strcpy(key + 254, "/n");
    assert_false(hoist_label_key_valid(key));
    assert_non_null(strstr(hoist_label_key_problem(key), "253"));

    static const char *const good_values[] = {"", "a", "web", "v1.2.3", "a_b-c.d", "0",
                                              "123456789012345678901234567890123456789012345678901234567890123"};
    static const char *const bad_values[] = {"-a", "a-", ".a", "a b", "a/b", "a:b", "é",
                                             "1234567890123456789012345678901234567890123456789012345678901234"};
    for (size_t i = 0; i < sizeof good_values / sizeof good_values[0]; i++)
        assert_true(hoist_label_value_valid(good_values[i]));
    for (size_t i = 0; i < sizeof bad_values / sizeof bad_values[0]; i++)
        if (hoist_label_value_valid(bad_values[i]))
            fail_msg("value \"%s\" accepted", bad_values[i]);
    assert_false(hoist_label_value_valid(NULL));

    hoist_err err = {{0}};
    assert_int_equal(hoist_label_key_check("a b", &err), -1);
    assert_string_equal(err.msg,
                        "invalid label key \"a b\": may contain only alphanumerics, '-', '_' and '.'");
    assert_int_equal(hoist_label_value_check("-x", &err), -1);
    assert_string_equal(err.msg,
                        "invalid label value \"-x\": must begin and end with an alphanumeric character");
    assert_int_equal(hoist_label_key_check("ok", &err), 0);
}

static void test_from_json(void **state)
{
    (void)state;
    hoist_arena a;
    hoist_arena_init(&a, 0);
    hoist_err err = {{0}};
    json_t *j = parse("{\"karpenter.sh/capacity-type\": \"spot\", \"app\": \"web\","
                      " \"failure-domain.beta.kubernetes.io/zone\": \"us-east-1a\","
                      " \"topology.kubernetes.io/zone\": \"us-east-1a\", \"empty\": \"\"}");
    hoist_labels l;
    assert_int_equal(hoist_labels_from_json(&a, j, &l, &err), 0);
    assert_int_equal(l.n, 4);
    assert_string_equal(hoist_labels_get(&l, HOIST_LABEL_CAPACITY_TYPE), "spot");
    assert_string_equal(hoist_labels_get(&l, "karpenter.sh/capacity-type"), "spot");
    assert_string_equal(hoist_labels_get(&l, HOIST_LABEL_ZONE), "us-east-1a");
    assert_string_equal(hoist_labels_get(&l, "empty"), "");
    json_decref(j);

    json_t *out = hoist_labels_to_json(&l);
    assert_string_equal(json_string_value(json_object_get(out, "hoist.dev/capacity-type")), "spot");
    assert_int_equal(json_object_size(out), 4);
    json_decref(out);

    assert_int_equal(hoist_labels_from_json(&a, NULL, &l, &err), 0);
    assert_int_equal(l.n, 0);
    j = parse("{}");
    assert_int_equal(hoist_labels_from_json(&a, j, &l, &err), 0);
    assert_int_equal(l.n, 0);
    json_decref(j);
    hoist_arena_free(&a);
}

static void test_from_json_bad(void **state)
{
    (void)state;
    static const struct {
        const char *json, *want;
    } cases[] = {
        {"[]", "expected an object of labels, got an array"},
        {"\"app\"", "expected an object of labels, got a string"},
        {"{\"app\": 1}", "app: label value must be a string, got an integer"},
        {"{\"app\": null}", "app: label value must be a string, got null"},
        {"{\"app\": \"a b\"}", "app: invalid label value \"a b\""},
        {"{\"a b\": \"x\"}", "invalid label key \"a b\""},
        {"{\"\": \"x\"}", "invalid label key \"\": must not be empty"},
        {"{\"karpenter.sh/nodepool\": \"a\", \"hoist.dev/nodepool\": \"b\"}",
         "karpenter.sh/nodepool: value \"a\" conflicts with \"b\" given for hoist.dev/nodepool"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hoist_arena a;
        hoist_arena_init(&a, 0);
        hoist_err err = {{0}};
        json_t *j = parse(cases[i].json);
        hoist_labels l;
        assert_int_equal(hoist_labels_from_json(&a, j, &l, &err), -1);
        if (!strstr(err.msg, cases[i].want))
            fail_msg("%s: message \"%s\" lacks \"%s\"", cases[i].json, err.msg, cases[i].want);
        json_decref(j);
        hoist_arena_free(&a);
    }
}

static void test_json_type_names(void **state)
{
    (void)state;
    json_t *t = json_true(), *n = json_null(), *r = json_real(1.5);
    assert_string_equal(hoist_json_type_name(t), "a boolean");
    assert_string_equal(hoist_json_type_name(n), "null");
    assert_string_equal(hoist_json_type_name(r), "a number");
    assert_string_equal(hoist_json_type_name(NULL), "nothing");
    json_decref(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_canonical_aliases),
        cmocka_unit_test(test_canonical_arena_every_attribute),
        cmocka_unit_test(test_from_pairs_sorted_and_dedup),
        cmocka_unit_test(test_lookup_many),
        cmocka_unit_test(test_key_value_syntax),
        cmocka_unit_test(test_from_json),
        cmocka_unit_test(test_from_json_bad),
        cmocka_unit_test(test_json_type_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
