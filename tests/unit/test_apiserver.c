/* tests/unit/test_apiserver.c - the simulated API server: selectors, patches,
 * the store (versions, conflicts, history, watches, eviction, binding) and the
 * HTTP front (discovery, CRUD, Status errors, Tables, watch streams). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "apiserver/apiserver.h"
#include "apiserver/patch.h"
#include "apiserver/resources.h"
#include "apiserver/selector.h"
#include "apiserver/store.h"
#include "host/http.h"
#include "host/httpd.h"

#include "test_json.h"

static const hoist_api_resource *res(const char *group, const char *plural)
{
    const hoist_api_resource *r = hoist_api_resource_find(group, "v1", plural);
    assert_non_null(r);
    return r;
}

static double fixed_clock(void *arg)
{
    return *(double *)arg;
}

/* --- selectors ------------------------------------------------------------------- */

static void test_label_selectors(void **state)
{
    (void)state;
    hoist_selector s;
    json_t *labels = parse("{\"app\": \"web\", \"tier\": \"gold\", \"zone\": \"a\"}");
    assert_int_equal(hoist_selector_parse_labels("app=web,tier!=bronze", &s, NULL), 0);
    assert_int_equal(s.n, 2);
    assert_true(hoist_selector_match_labels(&s, labels));
    hoist_selector_free(&s);
    assert_int_equal(hoist_selector_parse_labels("app==web, zone in (a, b), x notin (y)", &s, NULL),
                     0);
    assert_true(hoist_selector_match_labels(&s, labels));
    hoist_selector_free(&s);
    assert_int_equal(hoist_selector_parse_labels("tier,!missing", &s, NULL), 0);
    assert_true(hoist_selector_match_labels(&s, labels));
    hoist_selector_free(&s);
    assert_int_equal(hoist_selector_parse_labels("tier=bronze", &s, NULL), 0);
    assert_false(hoist_selector_match_labels(&s, labels));
    assert_false(hoist_selector_match_labels(&s, NULL));
    hoist_selector_free(&s);
    assert_int_equal(hoist_selector_parse_labels("!app", &s, NULL), 0);
    assert_false(hoist_selector_match_labels(&s, labels));
    hoist_selector_free(&s);
    assert_int_equal(hoist_selector_parse_labels("", &s, NULL), 0);
    assert_true(hoist_selector_match_labels(&s, labels));
    hoist_selector_free(&s);
    json_decref(labels);
}

static void test_label_selector_errors(void **state)
{
    (void)state;
    static const struct {
        const char *text, *want;
    } bad[] = {
        {"app=web,", "empty requirement"},
        {"app>3", "expected =, ==, !=, in, notin"},
        {"a/b/c=1", "invalid label key"},
        {"Bad Key=1", "expected =, ==, !=, in, notin"},
        {"a=b c", "invalid label value \"b c\""},
        {"zone in (a,b", "unbalanced parentheses"},
        {"zone in a,b", "expected a parenthesised value list"},
        {"x=(", "unbalanced parentheses"},
        {"-a=b", "invalid label key"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hoist_selector s;
        hoist_err err = {{0}};
        assert_int_equal(hoist_selector_parse_labels(bad[i].text, &s, &err), -1);
        hoist_selector_free(&s);
        if (!strstr(err.msg, bad[i].want))
            fail_msg("%s: message \"%s\" lacks \"%s\"", bad[i].text, err.msg, bad[i].want);
        assert_non_null(strstr(err.msg, "label selector"));
    }
}

static void test_field_selectors(void **state)
{
    (void)state;
    json_t *pending = parse("{\"metadata\": {\"name\": \"p\"}, \"spec\": {}}");
    json_t *bound = parse("{\"metadata\": {\"name\": \"q\"}, \"spec\": {\"nodeName\": \"n1\", "
                          "\"unschedulable\": true}}");
    hoist_selector s;
    assert_int_equal(hoist_selector_parse_fields("spec.nodeName=", &s, NULL), 0);
    assert_true(hoist_selector_match_fields(&s, pending));
    assert_false(hoist_selector_match_fields(&s, bound));
    hoist_selector_free(&s);
    assert_int_equal(hoist_selector_parse_fields("spec.nodeName==n1,metadata.name!=p", &s, NULL),
                     0);
    assert_true(hoist_selector_match_fields(&s, bound));
    assert_false(hoist_selector_match_fields(&s, pending));
    hoist_selector_free(&s);
    assert_int_equal(hoist_selector_parse_fields("spec.unschedulable=true", &s, NULL), 0);
    assert_true(hoist_selector_match_fields(&s, bound));
    hoist_selector_free(&s);
    hoist_err err = {{0}};
    assert_int_equal(hoist_selector_parse_fields("spec.nodeName", &s, &err), -1);
    hoist_selector_free(&s);
    assert_non_null(strstr(err.msg, "expected =, == or != after the field name"));
    assert_int_equal(hoist_selector_parse_fields("=x", &s, &err), -1);
    hoist_selector_free(&s);
    assert_non_null(strstr(err.msg, "expected a field name"));
    json_decref(pending);
    json_decref(bound);
}

static void test_labelselector_objects(void **state)
{
    (void)state;
    json_t *labels = parse("{\"app\": \"shop\", \"tier\": \"gold\"}");
    hoist_selector s;
    json_t *sel = parse("{\"matchLabels\": {\"app\": \"shop\"}, \"matchExpressions\": "
                        "[{\"key\": \"tier\", \"operator\": \"In\", \"values\": [\"gold\"]},"
                        " {\"key\": \"x\", \"operator\": \"DoesNotExist\"}]}");
    assert_int_equal(hoist_selector_from_labelselector(sel, &s, NULL), 0);
    assert_true(hoist_selector_match_labels(&s, labels));
    hoist_selector_free(&s);
    json_decref(sel);
    assert_int_equal(hoist_selector_from_labelselector(NULL, &s, NULL), 0); /* null: nothing */
    assert_false(hoist_selector_match_labels(&s, labels));
    hoist_selector_free(&s);
    static const struct {
        const char *json, *want;
    } bad[] = {
        {"[]", "selector: expected an object"},
        {"{\"matchLabels\": {\"a\": 1}}", "selector.matchLabels.a: expected a string"},
        {"{\"matchLabels\": []}", "selector.matchLabels: expected an object"},
        {"{\"matchExpressions\": [{\"key\": \"a\", \"operator\": \"Near\"}]}",
         "selector.matchExpressions[0].operator"},
        {"{\"matchExpressions\": [{\"key\": \"a\", \"operator\": \"In\"}]}",
         "selector.matchExpressions[0].values: must be a non-empty array"},
        {"{\"matchExpressions\": [{\"operator\": \"Exists\"}]}",
         "selector.matchExpressions[0].key"},
        {"{\"matchExpressions\": [{\"key\": \"a\", \"operator\": \"In\", \"values\": [1]}]}",
         "selector.matchExpressions[0].values[0]: expected a string"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *j = parse(bad[i].json);
        hoist_err err = {{0}};
        assert_int_equal(hoist_selector_from_labelselector(j, &s, &err), -1);
        hoist_selector_free(&s);
        if (!strstr(err.msg, bad[i].want))
            fail_msg("%s: message \"%s\" lacks \"%s\"", bad[i].json, err.msg, bad[i].want);
        json_decref(j);
    }
    json_decref(labels);
}

/* --- patches --------------------------------------------------------------------- */

static void expect_patch(hoist_patch_type type, const char *target, const char *patch,
                         const char *want)
{
    json_t *t = parse(target), *w = parse(want);
    hoist_err err = {{0}};
    json_t *got = hoist_patch_apply(type, t, patch, strlen(patch), &err);
    if (!got)
        fail_msg("patch %s failed: %s", patch, err.msg);
    if (!json_equal(got, w)) {
        char *g = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS);
        fail_msg("patch %s gave %s", patch, g);
    }
    json_t *again = parse(target);
    assert_true(json_equal(t, again)); /* the target is untouched */
    json_decref(again);
    json_decref(got);
    json_decref(t);
    json_decref(w);
}

static void test_merge_and_json_patch(void **state)
{
    (void)state;
    expect_patch(HOIST_PATCH_MERGE, "{\"a\": {\"b\": 1, \"c\": 2}, \"l\": [1, 2]}",
                 "{\"a\": {\"b\": null, \"d\": 3}, \"l\": [3]}",
                 "{\"a\": {\"c\": 2, \"d\": 3}, \"l\": [3]}");
    expect_patch(HOIST_PATCH_JSON, "{\"a\": [1, 2], \"b\": {\"c\": 1}}",
                 "[{\"op\": \"add\", \"path\": \"/a/1\", \"value\": 9},"
                 " {\"op\": \"add\", \"path\": \"/a/-\", \"value\": 7},"
                 " {\"op\": \"replace\", \"path\": \"/b/c\", \"value\": 2},"
                 " {\"op\": \"copy\", \"from\": \"/b\", \"path\": \"/d\"},"
                 " {\"op\": \"move\", \"from\": \"/b/c\", \"path\": \"/e\"},"
                 " {\"op\": \"remove\", \"path\": \"/a/0\"},"
                 " {\"op\": \"test\", \"path\": \"/e\", \"value\": 2},"
                 " {\"op\": \"add\", \"path\": \"/x~1y\", \"value\": true}]",
                 "{\"a\": [9, 2, 7], \"b\": {}, \"d\": {\"c\": 2}, \"e\": 2, \"x/y\": true}");
}

static void test_strategic_merge_patch(void **state)
{
    (void)state;
    const char *pod = "{\"metadata\": {\"labels\": {\"a\": \"1\"}, \"finalizers\": [\"f1\"]},"
                      " \"spec\": {\"containers\": [{\"name\": \"app\", \"image\": \"v1\"},"
                      "                              {\"name\": \"side\", \"image\": \"s1\"}],"
                      "            \"tolerations\": [{\"key\": \"t1\"}]}}";
    /* containers merge by name; tolerations (no strategy) are replaced; finalizers are a set */
    expect_patch(HOIST_PATCH_STRATEGIC, pod,
                 "{\"metadata\": {\"labels\": {\"b\": \"2\"}, \"finalizers\": [\"f2\", \"f1\"]},"
                 " \"spec\": {\"containers\": [{\"name\": \"app\", \"image\": \"v2\"}],"
                 "            \"tolerations\": [{\"key\": \"t2\"}]}}",
                 "{\"metadata\": {\"labels\": {\"a\": \"1\", \"b\": \"2\"}, \"finalizers\": "
                 "[\"f1\", \"f2\"]}, \"spec\": {\"containers\": [{\"name\": \"app\", \"image\": "
                 "\"v2\"}, {\"name\": \"side\", \"image\": \"s1\"}], \"tolerations\": [{\"key\": "
                 "\"t2\"}]}}");
    /* directives: delete an item, reorder, drop from a primitive list, replace a map */
    expect_patch(HOIST_PATCH_STRATEGIC, pod,
                 "{\"metadata\": {\"$deleteFromPrimitiveList/finalizers\": [\"f1\"],"
                 "  \"labels\": {\"$patch\": \"replace\", \"z\": \"9\"}},"
                 " \"spec\": {\"$setElementOrder/containers\": [{\"name\": \"side\"}, "
                 "{\"name\": \"new\"}], \"containers\": [{\"name\": \"app\", \"$patch\": "
                 "\"delete\"}, {\"name\": \"new\", \"image\": \"n\"}]}}",
                 "{\"metadata\": {\"labels\": {\"z\": \"9\"}, \"finalizers\": []},"
                 " \"spec\": {\"containers\": [{\"name\": \"side\", \"image\": \"s1\"},"
                 " {\"name\": \"new\", \"image\": \"n\"}], \"tolerations\": [{\"key\": \"t1\"}]}}");
}

static void test_patch_errors(void **state)
{
    (void)state;
    json_t *t = parse("{\"a\": [1], \"spec\": {}}");
    static const struct {
        hoist_patch_type type;
        const char *patch, *want;
    } bad[] = {
        {HOIST_PATCH_MERGE, "{not json", "the patch is not valid JSON"},
        {HOIST_PATCH_MERGE, "[1]", "merge patch: expected a JSON object"},
        {HOIST_PATCH_JSON, "{}", "expected an array of operations"},
        {HOIST_PATCH_JSON, "[{\"path\": \"/a\"}]", "json patch operation 0: op"},
        {HOIST_PATCH_JSON, "[{\"op\": \"add\"}]", "operation 0 (add): path"},
        {HOIST_PATCH_JSON, "[{\"op\": \"add\", \"path\": \"/a/0\"}]", "value: missing"},
        {HOIST_PATCH_JSON, "[{\"op\": \"remove\", \"path\": \"/nope\"}]",
         "operation 0 (remove /nope): path not found"},
        {HOIST_PATCH_JSON, "[{\"op\": \"replace\", \"path\": \"/a/5\", \"value\": 1}]",
         "path not found"},
        {HOIST_PATCH_JSON, "[{\"op\": \"test\", \"path\": \"/a/0\", \"value\": 2}]",
         "test failed"},
        {HOIST_PATCH_JSON, "[{\"op\": \"jump\", \"path\": \"/a\"}]", "unknown operation \"jump\""},
        {HOIST_PATCH_JSON, "[{\"op\": \"add\", \"path\": \"/a/01\", \"value\": 1}]",
         "path not found"},
        {HOIST_PATCH_JSON, "[{\"op\": \"move\", \"path\": \"/b\"}]", "from: expected a string"},
        {HOIST_PATCH_STRATEGIC, "[]", "strategic merge patch: expected an object"},
        {HOIST_PATCH_STRATEGIC, "{\"spec\": {\"containers\": [{\"image\": \"x\"}]}}",
         "containers[0]: missing merge key \"name\""},
        {HOIST_PATCH_STRATEGIC, "{\"spec\": {\"containers\": [3]}}",
         "containers[0]: expected an object"},
        {HOIST_PATCH_STRATEGIC, "{\"spec\": {\"$patch\": \"explode\"}}",
         "$patch: unknown directive \"explode\""},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hoist_err err = {{0}};
        assert_null(hoist_patch_apply(bad[i].type, t, bad[i].patch, strlen(bad[i].patch), &err));
        if (!strstr(err.msg, bad[i].want))
            fail_msg("%s: message \"%s\" lacks \"%s\"", bad[i].patch, err.msg, bad[i].want);
    }
    hoist_patch_type pt;
    assert_int_equal(hoist_patch_type_parse("application/merge-patch+json; charset=utf-8", &pt), 0);
    assert_int_equal(pt, HOIST_PATCH_MERGE);
    assert_int_equal(hoist_patch_type_parse("application/apply-patch+yaml", &pt), -1);
    assert_int_equal(hoist_patch_type_parse(NULL, &pt), -1);
    json_decref(t);
}

/* --- store ----------------------------------------------------------------------- */

static json_t *mkpod(hoist_apistore *s, const char *ns, const char *json)
{
    json_t *o = parse(json);
    hoist_apierr e;
    json_t *made = hoist_apistore_create(s, res("", "pods"), ns, o, true, &e);
    if (!made)
        fail_msg("create %s: %s", json, e.message);
    json_decref(o);
    return made;
}

static const char *rv_of(const json_t *o)
{
    return json_string_value(json_object_get(json_object_get(o, "metadata"), "resourceVersion"));
}

static void test_store_crud_and_versions(void **state)
{
    (void)state;
    double now = 1700000000;
    hoist_apistore *s = hoist_apistore_new(0, fixed_clock, &now);
    assert_non_null(s);
    uint64_t rv0 = hoist_apistore_rv(s);
    assert_int_equal(rv0, 4); /* the four built-in namespaces */
    json_t *p = mkpod(s, "default", "{\"metadata\": {\"name\": \"a\", \"labels\": {\"x\": \"1\"}},"
                                    " \"spec\": {\"containers\": []}}");
    json_t *m = json_object_get(p, "metadata");
    assert_string_equal(json_string_value(json_object_get(m, "creationTimestamp")),
                        "2023-11-14T22:13:20Z");
    assert_int_equal(strlen(json_string_value(json_object_get(m, "uid"))), 36);
    assert_string_equal(rv_of(p), "5");
    assert_int_equal(json_integer_value(json_object_get(m, "generation")), 1);
    assert_string_equal(json_string_value(json_object_get(p, "kind")), "Pod");
    assert_string_equal(json_string_value(json_object_get(m, "namespace")), "default");

    hoist_apierr e;
    json_t *dup = parse("{\"metadata\": {\"name\": \"a\"}}");
    assert_null(hoist_apistore_create(s, res("", "pods"), "default", dup, true, &e));
    assert_int_equal(e.code, 409);
    assert_string_equal(e.reason, "AlreadyExists");
    assert_string_equal(e.message, "pods \"a\" already exists");
    json_decref(dup);

    /* update: stale version conflicts; spec change bumps generation; status kept */
    json_t *upd = json_deep_copy(p);
    json_object_set_new(json_object_get(upd, "metadata"), "resourceVersion", json_string("1"));
    assert_null(hoist_apistore_update(s, res("", "pods"), "default", "a", upd, HOIST_API_MAIN, &e));
    assert_int_equal(e.code, 409);
    assert_string_equal(e.reason, "Conflict");
    assert_non_null(strstr(e.message, "the object has been modified"));
    json_object_set_new(json_object_get(upd, "metadata"), "resourceVersion", json_string("5"));
    json_object_set_new(json_object_get(upd, "spec"), "nodeName", json_string("n1"));
    json_object_set_new(upd, "status", json_pack("{s:s}", "phase", "Running"));
    json_t *u = hoist_apistore_update(s, res("", "pods"), "default", "a", upd, HOIST_API_MAIN, &e);
    assert_non_null(u);
    assert_string_equal(rv_of(u), "6");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(u, "metadata"),
                                                        "generation")), 2);
    assert_null(json_object_get(u, "status")); /* an update of the main resource keeps status */
    json_t *st = parse("{\"status\": {\"phase\": \"Succeeded\"}, \"spec\": {\"nodeName\": \"zz\"}}");
    json_t *u2 = hoist_apistore_update(s, res("", "pods"), "default", "a", st, HOIST_API_STATUS, &e);
    assert_non_null(u2);
    assert_string_equal(json_string_value(json_object_get(json_object_get(u2, "spec"), "nodeName")),
                        "n1"); /* a status update leaves spec alone */
    assert_string_equal(json_string_value(json_object_get(json_object_get(u2, "status"), "phase")),
                        "Succeeded");
    /* the same object again: no new version */
    json_t *u3 = hoist_apistore_update(s, res("", "pods"), "default", "a", u2, HOIST_API_ALL, &e);
    assert_ptr_equal(u3, u2);
    assert_int_equal(hoist_apistore_rv(s), 7);
    json_decref(u3);

    /* patch */
    const char *mp = "{\"metadata\": {\"labels\": {\"y\": \"2\"}}}";
    json_t *pp = hoist_apistore_patch(s, res("", "pods"), "default", "a", HOIST_PATCH_MERGE, mp,
                                      strlen(mp), HOIST_API_MAIN, &e);
    assert_non_null(pp);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_object_get(pp, "metadata"), "labels"), "x")),
                        "1");
    const char *rename = "{\"metadata\": {\"name\": \"b\"}}";
    assert_null(hoist_apistore_patch(s, res("", "pods"), "default", "a", HOIST_PATCH_MERGE,
                                     rename, strlen(rename), HOIST_API_MAIN, &e));
    assert_int_equal(e.code, 422);
    assert_null(hoist_apistore_patch(s, res("", "pods"), "default", "a", HOIST_PATCH_MERGE, "{",
                                     1, HOIST_API_MAIN, &e));
    assert_int_equal(e.code, 400);

    /* delete: precondition, then gone */
    assert_null(hoist_apistore_delete(s, res("", "pods"), "default", "a", "3",
                                      HOIST_APISTORE_GRACE_DEFAULT, &e));
    assert_int_equal(e.code, 409);
    json_t *gone = hoist_apistore_delete(s, res("", "pods"), "default", "a", NULL,
                                         HOIST_APISTORE_GRACE_DEFAULT, &e);
    assert_non_null(gone);
    assert_null(hoist_apistore_get(s, res("", "pods"), "default", "a"));
    assert_null(hoist_apistore_delete(s, res("", "pods"), "default", "a", NULL,
                                      HOIST_APISTORE_GRACE_DEFAULT, &e));
    assert_int_equal(e.code, 404);
    assert_string_equal(e.message, "pods \"a\" not found");
    json_decref(gone);
    json_decref(pp);
    json_decref(st);
    json_decref(u2);
    json_decref(u);
    json_decref(upd);
    json_decref(p);
    hoist_apistore_free(s);
}

static void test_store_create_errors(void **state)
{
    (void)state;
    hoist_apistore *s = hoist_apistore_new(0, NULL, NULL);
    static const struct {
        const char *ns, *json;
        int code;
        const char *want;
    } bad[] = {
        {"default", "{\"metadata\": {}}", 422, "metadata.name: Required value"},
        {"default", "{\"metadata\": {\"name\": \"Bad_Name\"}}", 422, "RFC 1123 subdomain"},
        {"default", "{\"metadata\": {\"name\": 7}}", 400, "metadata.name: expected a string"},
        {"default", "{\"kind\": \"Node\", \"metadata\": {\"name\": \"x\"}}", 400,
         "must be of type Pod"},
        {"default", "{\"apiVersion\": \"apps/v1\", \"metadata\": {\"name\": \"x\"}}", 400,
         "does not match the expected API version (v1)"},
        {"default", "{\"metadata\": {\"name\": \"x\", \"namespace\": \"other\"}}", 400,
         "does not match the namespace sent on the request"},
        {"nowhere", "{\"metadata\": {\"name\": \"x\"}}", 404, "namespaces \"nowhere\" not found"},
        {"default", "{\"metadata\": {\"name\": \"x\", \"labels\": {\"a\": 1}}}", 400,
         "metadata.labels.a: expected a string"},
        {"default", "{\"metadata\": []}", 400, "metadata: expected an object"},
        {"default", "[]", 400, "must be a JSON object"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *o = parse(bad[i].json);
        hoist_apierr e;
        assert_null(hoist_apistore_create(s, res("", "pods"), bad[i].ns, o, false, &e));
        if (e.code != bad[i].code || !strstr(e.message, bad[i].want))
            fail_msg("%s: %d %s", bad[i].json, e.code, e.message);
        json_decref(o);
    }
    /* generateName makes a name; a Pod's status is reset by API creates */
    json_t *o = parse("{\"metadata\": {\"generateName\": \"web-\"}, \"status\": {\"phase\": "
                      "\"Running\"}}");
    hoist_apierr e;
    json_t *made = hoist_apistore_create(s, res("", "pods"), "default", o, false, &e);
    assert_non_null(made);
    const char *name = json_string_value(json_object_get(json_object_get(made, "metadata"),
                                                         "name"));
    assert_int_equal(strlen(name), 9);
    assert_memory_equal(name, "web-", 4);
    assert_string_equal(json_string_value(json_object_get(json_object_get(made, "status"),
                                                          "phase")), "Pending");
    json_decref(made);
    json_decref(o);
    hoist_apistore_free(s);
}

static void test_store_list_selectors_and_pages(void **state)
{
    (void)state;
    hoist_apistore *s = hoist_apistore_new(0, NULL, NULL);
    json_t *ns = parse("{\"metadata\": {\"name\": \"b\"}}");
    json_decref(hoist_apistore_create(s, res("", "namespaces"), NULL, ns, false, NULL));
    json_decref(ns);
    json_decref(mkpod(s, "default", "{\"metadata\": {\"name\": \"p2\", \"labels\": {\"app\": "
                                    "\"web\"}}, \"spec\": {\"nodeName\": \"n1\"}}"));
    json_decref(mkpod(s, "default", "{\"metadata\": {\"name\": \"p1\", \"labels\": {\"app\": "
                                    "\"db\"}}, \"spec\": {}}"));
    json_decref(mkpod(s, "b", "{\"metadata\": {\"name\": \"p0\", \"labels\": {\"app\": "
                              "\"web\"}}, \"spec\": {}}"));
    hoist_apierr e;
    json_t *all = hoist_apistore_list(s, res("", "pods"), NULL, NULL, NULL, 0, NULL, &e);
    json_t *items = json_object_get(all, "items");
    assert_int_equal(json_array_size(items), 3);
    /* sorted by namespace, then name */
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_array_get(items, 0), "metadata"), "name")),
                        "p0");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_array_get(items, 1), "metadata"), "name")),
                        "p1");
    assert_string_equal(json_string_value(json_object_get(all, "kind")), "PodList");
    json_decref(all);
    hoist_selector ls, fs;
    hoist_selector_parse_labels("app=web", &ls, NULL);
    hoist_selector_parse_fields("spec.nodeName=", &fs, NULL);
    json_t *l = hoist_apistore_list(s, res("", "pods"), NULL, &ls, &fs, 0, NULL, &e);
    assert_int_equal(json_array_size(json_object_get(l, "items")), 1); /* b/p0 */
    json_decref(l);
    l = hoist_apistore_list(s, res("", "pods"), "default", &ls, NULL, 0, NULL, &e);
    assert_int_equal(json_array_size(json_object_get(l, "items")), 1); /* default/p2 */
    json_decref(l);
    hoist_selector_free(&ls);
    hoist_selector_free(&fs);
    /* pages of 2 */
    json_t *page1 = hoist_apistore_list(s, res("", "pods"), NULL, NULL, NULL, 2, NULL, &e);
    assert_int_equal(json_array_size(json_object_get(page1, "items")), 2);
    json_t *meta = json_object_get(page1, "metadata");
    const char *cont = json_string_value(json_object_get(meta, "continue"));
    assert_non_null(cont);
    assert_int_equal(json_integer_value(json_object_get(meta, "remainingItemCount")), 1);
    json_t *page2 = hoist_apistore_list(s, res("", "pods"), NULL, NULL, NULL, 2, cont, &e);
    assert_int_equal(json_array_size(json_object_get(page2, "items")), 1);
    assert_null(json_object_get(json_object_get(page2, "metadata"), "continue"));
    json_decref(page1);
    json_decref(page2);
    assert_null(hoist_apistore_list(s, res("", "pods"), NULL, NULL, NULL, 2, "garbage", &e));
    assert_int_equal(e.code, 400);
    assert_non_null(strstr(e.message, "continue"));
    /* deleting a namespace deletes what is in it */
    json_decref(hoist_apistore_delete(s, res("", "namespaces"), NULL, "b", NULL,
                                      HOIST_APISTORE_GRACE_DEFAULT, &e));
    assert_null(hoist_apistore_get(s, res("", "pods"), "b", "p0"));
    assert_int_equal(hoist_apistore_count(s, res("", "pods")), 2);
    hoist_apistore_free(s);
}

typedef struct seen {
    char log[2048];
    int n;
    hoist_apistore *s;
    bool write_back;
} seen;

static void record_event(void *arg, hoist_api_event_type type, const hoist_api_event *ev)
{
    seen *x = arg;
    size_t len = strlen(x->log);
    snprintf(x->log + len, sizeof x->log - len, "%s %s %llu;", hoist_api_event_name(type),
             json_string_value(json_object_get(json_object_get(ev->object, "metadata"), "name")),
             (unsigned long long)ev->rv);
    x->n++;
    if (x->write_back && type == HOIST_API_ADDED) { /* a scheduler binding what appears */
        x->write_back = false;
        hoist_apierr e;
        json_decref(hoist_apistore_bind(x->s, "default", "w1", "node-1", &e));
    }
}

static void test_store_watch_history_and_410(void **state)
{
    (void)state;
    hoist_apistore *s = hoist_apistore_new(3, NULL, NULL); /* a history of 3 events */
    seen a = {.s = s, .write_back = true};
    seen b = {.s = s};
    hoist_apiwatch *wa = hoist_apistore_watch(s, res("", "pods"), NULL, NULL, NULL, 0,
                                              record_event, &a, NULL);
    hoist_apiwatch *wb = hoist_apistore_watch(s, res("", "pods"), "default", "app=web", NULL, 0,
                                              record_event, &b, NULL);
    assert_non_null(wa);
    assert_non_null(wb);
    json_decref(mkpod(s, "default", "{\"metadata\": {\"name\": \"w1\", \"labels\": {\"app\": "
                                    "\"db\"}}, \"spec\": {}}"));
    /* both watchers saw ADDED (5) before the MODIFIED (6) the first one caused */
    assert_string_equal(a.log, "ADDED w1 5;MODIFIED w1 6;");
    assert_string_equal(b.log, ""); /* app=db does not match */
    const char *lp = "{\"metadata\": {\"labels\": {\"app\": \"web\"}}}";
    hoist_apierr e;
    json_decref(hoist_apistore_patch(s, res("", "pods"), "default", "w1", HOIST_PATCH_MERGE, lp,
                                     strlen(lp), HOIST_API_MAIN, &e));
    assert_string_equal(b.log, "ADDED w1 7;"); /* moved into the selector */
    lp = "{\"metadata\": {\"labels\": {\"app\": \"gone\"}}}";
    json_decref(hoist_apistore_patch(s, res("", "pods"), "default", "w1", HOIST_PATCH_MERGE, lp,
                                     strlen(lp), HOIST_API_MAIN, &e));
    assert_string_equal(b.log, "ADDED w1 7;DELETED w1 8;"); /* and out of it */
    hoist_apistore_unwatch(s, wb);
    /* resume from rv 6: events 7, 8 are in the history of 3 (6, 7, 8) */
    seen c = {.s = s};
    hoist_apiwatch *wc = hoist_apistore_watch(s, res("", "pods"), NULL, NULL, NULL, 6,
                                              record_event, &c, &e);
    assert_non_null(wc);
    assert_string_equal(c.log, "MODIFIED w1 7;MODIFIED w1 8;");
    assert_int_equal(hoist_apistore_oldest_rv(s), 5);
    /* rv 4 is older than the history: 410 */
    seen d = {.s = s};
    assert_null(hoist_apistore_watch(s, res("", "pods"), NULL, NULL, NULL, 4, record_event, &d,
                                     &e));
    assert_int_equal(e.code, 410);
    assert_string_equal(e.reason, "Expired");
    assert_string_equal(e.message, "too old resource version: 4 (5)");
    /* a version never issued (a client of a restarted server): 410 too */
    assert_null(hoist_apistore_watch(s, res("", "pods"), NULL, NULL, NULL, 99, record_event, &d,
                                     &e));
    assert_int_equal(e.code, 410);
    assert_string_equal(e.message, "too large resource version: 99 (current 8): list again");
    json_t *gone = hoist_apistore_delete(s, res("", "pods"), "default", "w1", NULL, 0, &e);
    assert_string_equal(rv_of(gone), "9"); /* the delete's version */
    json_decref(gone);
    assert_non_null(strstr(c.log, "DELETED w1 9;"));
    /* bad selectors in a watch are 400s */
    assert_null(hoist_apistore_watch(s, res("", "pods"), NULL, "a=(", NULL, 0, record_event, &d,
                                     &e));
    assert_int_equal(e.code, 400);
    assert_null(hoist_apistore_watch(s, res("", "pods"), NULL, NULL, "spec.image=x", 0,
                                     record_event, &d, &e));
    assert_string_equal(e.message, "field label not supported: spec.image");
    hoist_apistore_unwatch(s, wa);
    hoist_apistore_unwatch(s, wc);
    hoist_apistore_free(s);
}

static int64_t grace_of(const json_t *o)
{
    return (int64_t)json_integer_value(
        json_object_get(json_object_get(o, "metadata"), "deletionGracePeriodSeconds"));
}

static const char *deleting_at(const json_t *o)
{
    return json_string_value(
        json_object_get(json_object_get(o, "metadata"), "deletionTimestamp"));
}

/* Graceful deletion of pods on nodes, and finalizers on any object. */
static void test_graceful_deletion_and_finalizers(void **state)
{
    (void)state;
    double now = 1704067200.0; /* 2024-01-01T00:00:00Z */
    hoist_apistore *s = hoist_apistore_new(0, fixed_clock, &now);
    hoist_apierr e;
    const hoist_api_resource *pods = res("", "pods");
    json_decref(mkpod(s, "default", "{\"metadata\": {\"name\": \"on-node\"}, \"spec\": "
                                    "{\"nodeName\": \"n1\", \"terminationGracePeriodSeconds\": 10},"
                                    " \"status\": {\"phase\": \"Running\"}}"));
    json_decref(mkpod(s, "default", "{\"metadata\": {\"name\": \"unbound\"}, \"spec\": {}}"));
    json_decref(mkpod(s, "default", "{\"metadata\": {\"name\": \"done\"}, \"spec\": "
                                    "{\"nodeName\": \"n1\"}, \"status\": {\"phase\": "
                                    "\"Succeeded\"}}"));
    seen w = {.s = s};
    hoist_apiwatch *watch = hoist_apistore_watch(s, pods, NULL, NULL, NULL, 0, record_event, &w,
                                                 &e);
    assert_non_null(watch);

    /* a running pod on a node terminates for its own grace period */
    json_t *t = hoist_apistore_delete(s, pods, "default", "on-node", NULL,
                                      HOIST_APISTORE_GRACE_DEFAULT, &e);
    assert_non_null(t);
    assert_string_equal(deleting_at(t), "2024-01-01T00:00:10Z");
    assert_int_equal(grace_of(t), 10);
    json_decref(t);
    assert_non_null(hoist_apistore_get(s, pods, "default", "on-node"));
    assert_string_equal(w.log, "MODIFIED on-node 8;");
    /* asked again for longer: nothing changes; for shorter: shortened */
    json_decref(hoist_apistore_delete(s, pods, "default", "on-node", NULL, 20, &e));
    assert_int_equal(grace_of(hoist_apistore_get(s, pods, "default", "on-node")), 10);
    json_decref(hoist_apistore_delete(s, pods, "default", "on-node", NULL, 3, &e));
    assert_int_equal(grace_of(hoist_apistore_get(s, pods, "default", "on-node")), 3);
    /* its kubelet's delete with grace 0 removes it */
    json_decref(hoist_apistore_delete(s, pods, "default", "on-node", NULL, 0, &e));
    assert_null(hoist_apistore_get(s, pods, "default", "on-node"));
    assert_string_equal(w.log, "MODIFIED on-node 8;MODIFIED on-node 9;DELETED on-node 10;");
    /* nothing to stop: unbound and finished pods go at once */
    json_decref(hoist_apistore_delete(s, pods, "default", "unbound", NULL,
                                      HOIST_APISTORE_GRACE_DEFAULT, &e));
    assert_null(hoist_apistore_get(s, pods, "default", "unbound"));
    json_decref(hoist_apistore_delete(s, pods, "default", "done", NULL,
                                      HOIST_APISTORE_GRACE_DEFAULT, &e));
    assert_null(hoist_apistore_get(s, pods, "default", "done"));

    /* finalizers hold any object until an update empties them */
    const hoist_api_resource *pvcs = res("", "persistentvolumeclaims");
    json_t *pvc = parse("{\"metadata\": {\"name\": \"data\", \"finalizers\": "
                        "[\"kubernetes.io/pvc-protection\"]}, \"spec\": {}}");
    json_decref(hoist_apistore_create(s, pvcs, "default", pvc, false, &e));
    json_decref(pvc);
    json_decref(hoist_apistore_delete(s, pvcs, "default", "data", NULL,
                                      HOIST_APISTORE_GRACE_DEFAULT, &e));
    json_t *held = hoist_apistore_get(s, pvcs, "default", "data");
    assert_non_null(held);
    assert_string_equal(deleting_at(held), "2024-01-01T00:00:00Z");
    assert_int_equal(grace_of(held), 0);
    const char *mp = "{\"metadata\": {\"finalizers\": null}}";
    /* (an update that keeps the finalizer keeps the object) */
    const char *lp = "{\"metadata\": {\"labels\": {\"a\": \"b\"}}}";
    json_decref(hoist_apistore_patch(s, pvcs, "default", "data", HOIST_PATCH_MERGE, lp,
                                     strlen(lp), HOIST_API_MAIN, &e));
    assert_non_null(hoist_apistore_get(s, pvcs, "default", "data"));
    json_t *last = hoist_apistore_patch(s, pvcs, "default", "data", HOIST_PATCH_MERGE, mp,
                                        strlen(mp), HOIST_API_MAIN, &e);
    assert_non_null(last);
    json_decref(last);
    assert_null(hoist_apistore_get(s, pvcs, "default", "data"));

    /* a pod with a finalizer: terminating, then held after grace 0 too */
    json_decref(mkpod(s, "default", "{\"metadata\": {\"name\": \"fin\", \"finalizers\": "
                                    "[\"example.com/hold\"]}, \"spec\": {\"nodeName\": \"n1\"}, "
                                    "\"status\": {\"phase\": \"Running\"}}"));
    json_decref(hoist_apistore_delete(s, pods, "default", "fin", NULL,
                                      HOIST_APISTORE_GRACE_DEFAULT, &e));
    assert_int_equal(grace_of(hoist_apistore_get(s, pods, "default", "fin")), 30);
    json_decref(hoist_apistore_delete(s, pods, "default", "fin", NULL, 0, &e));
    assert_int_equal(grace_of(hoist_apistore_get(s, pods, "default", "fin")), 0);
    json_decref(hoist_apistore_patch(s, pods, "default", "fin", HOIST_PATCH_MERGE, mp,
                                     strlen(mp), HOIST_API_MAIN, &e));
    assert_null(hoist_apistore_get(s, pods, "default", "fin"));
    hoist_apistore_unwatch(s, watch);
    hoist_apistore_free(s);
}

static void test_eviction_and_binding(void **state)
{
    (void)state;
    hoist_apistore *s = hoist_apistore_new(0, NULL, NULL);
    const char *ready = "\"status\": {\"phase\": \"Running\", \"conditions\": [{\"type\": "
                        "\"Ready\", \"status\": \"True\"}]}";
    char buf[512];
    for (int i = 0; i < 3; i++) {
        snprintf(buf, sizeof buf, "{\"metadata\": {\"name\": \"s%d\", \"labels\": {\"app\": "
                                  "\"shop\"}}, \"spec\": {\"nodeName\": \"n1\"}, %s}", i, ready);
        json_decref(mkpod(s, "default", buf));
    }
    json_decref(mkpod(s, "default", "{\"metadata\": {\"name\": \"unbound\", \"labels\": "
                                    "{\"app\": \"shop\"}}, \"spec\": {}}"));
    json_t *pdb = parse("{\"metadata\": {\"name\": \"shop\"}, \"spec\": {\"minAvailable\": 2,"
                        " \"selector\": {\"matchLabels\": {\"app\": \"shop\"}}}}");
    hoist_apierr e;
    json_decref(hoist_apistore_create(s, res("policy", "poddisruptionbudgets"), "default", pdb,
                                      false, &e));
    json_decref(pdb);
    /* an unbound pod goes at once */
    assert_int_equal(hoist_apistore_evict(s, "default", "unbound", &e), 0);
    assert_null(hoist_apistore_get(s, res("", "pods"), "default", "unbound"));
    /* 3 healthy, 2 needed: one may go, the next may not */
    assert_int_equal(hoist_apistore_evict(s, "default", "s0", &e), 0);
    assert_int_equal(hoist_apistore_evict(s, "default", "s1", &e), -1);
    assert_int_equal(e.code, 429);
    assert_string_equal(e.reason, "TooManyRequests");
    assert_non_null(strstr(e.cause, "The disruption budget shop needs 2 healthy pods and has 2"));
    json_t *st = hoist_apierr_status(&e);
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(
                            json_object_get(st, "details"), "causes"), 0), "reason")),
                        "DisruptionBudget");
    json_decref(st);
    assert_non_null(hoist_apistore_get(s, res("", "pods"), "default", "s1"));
    /* maxUnavailable 34 % of the 3 pods the status expects: 2 may be down, 1 must stay */
    json_decref(hoist_apistore_delete(s, res("policy", "poddisruptionbudgets"), "default", "shop",
                                      NULL, HOIST_APISTORE_GRACE_DEFAULT, &e));
    pdb = parse("{\"metadata\": {\"name\": \"shop\"}, \"spec\": {\"maxUnavailable\": \"34%\","
                " \"selector\": {\"matchLabels\": {\"app\": \"shop\"}}}, \"status\": "
                "{\"expectedPods\": 3}}");
    json_decref(hoist_apistore_create(s, res("policy", "poddisruptionbudgets"), "default", pdb,
                                      true, &e));
    json_decref(pdb);
    assert_int_equal(hoist_apistore_evict(s, "default", "s1", &e), 0);
    assert_int_equal(hoist_apistore_evict(s, "default", "s2", &e), -1);
    assert_int_equal(e.code, 429);
    assert_non_null(strstr(e.cause, "needs 1 healthy pods and has 1"));
    assert_int_equal(hoist_apistore_evict(s, "default", "nope", &e), -1);
    assert_int_equal(e.code, 404);
    /* two budgets: not supported, as in the API */
    json_t *pdb2 = parse("{\"metadata\": {\"name\": \"all\"}, \"spec\": {\"minAvailable\": 0, "
                         "\"selector\": {}}}");
    json_decref(hoist_apistore_create(s, res("policy", "poddisruptionbudgets"), "default", pdb2,
                                      false, &e));
    json_decref(pdb2);
    assert_int_equal(hoist_apistore_evict(s, "default", "s2", &e), -1);
    assert_int_equal(e.code, 500);
    assert_non_null(strstr(e.message, "more than one PodDisruptionBudget"));
    /* binding */
    json_decref(mkpod(s, "default", "{\"metadata\": {\"name\": \"b1\"}, \"spec\": {}}"));
    json_t *bound = hoist_apistore_bind(s, "default", "b1", "n7", &e);
    assert_non_null(bound);
    assert_string_equal(json_string_value(json_object_get(json_object_get(bound, "spec"),
                                                          "nodeName")), "n7");
    json_decref(bound);
    assert_null(hoist_apistore_bind(s, "default", "b1", "n8", &e));
    assert_int_equal(e.code, 409);
    assert_null(hoist_apistore_bind(s, "default", "zz", "n8", &e));
    assert_int_equal(e.code, 404);
    hoist_apistore_free(s);
}

/* --- HTTP ------------------------------------------------------------------------ */

typedef struct outcome {
    int calls;
    long status;
    char *body;
    char ctype[128];
} outcome;

static void record(void *arg, const hoist_error *err, const hoist_http_response *resp)
{
    outcome *o = arg;
    o->calls++;
    if (err) {
        o->status = -1;
        o->body = strdup(err->message);
        return;
    }
    o->status = resp->status;
    o->body = strdup(resp->body);
    for (size_t i = 0; i < resp->n_headers; i++)
        if (!strncasecmp(resp->headers[i], "Content-Type: ", 14))
            snprintf(o->ctype, sizeof o->ctype, "%s", resp->headers[i] + 14);
}

typedef struct fixture {
    uv_loop_t loop;
    hoist_apistore *store;
    hoist_httpd *d;
    hoist_apiserver *api;
    hoist_http *http;
    char base[64];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    f->store = hoist_apistore_new(0, NULL, NULL);
    hoist_err err = {{0}};
    f->d = hoist_httpd_start(&f->loop, "127.0.0.1", 0, NULL, &err);
    assert_non_null(f->d);
    hoist_apiserver_config cfg = {20, NULL, "127.0.0.1:1"};
    f->api = hoist_apiserver_new(&f->loop, f->d, f->store, &cfg, &err);
    assert_non_null(f->api);
    f->http = hoist_http_new(&f->loop, NULL, &err);
    snprintf(f->base, sizeof f->base, "http://127.0.0.1:%d", hoist_httpd_port(f->d));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    hoist_http_close(f->http);
    hoist_apiserver_close(f->api);
    hoist_httpd_close(f->d);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    hoist_apistore_free(f->store);
    free(f);
    return 0;
}

static void on_tick(uv_timer_t *t)
{
    outcome *o = t->data;
    if (o->calls > 0)
        uv_stop(t->loop);
}

static void run_until_done(fixture *f, outcome *o)
{
    uv_timer_t tick;
    uv_timer_init(&f->loop, &tick);
    tick.data = o;
    uv_timer_start(&tick, on_tick, 1, 1);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&tick, NULL);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_int_equal(o->calls, 1);
}

static void start(fixture *f, const char *method, const char *path, const char *ctype,
                  const char *accept, const char *body, outcome *o)
{
    char url[512], h1[160], h2[200];
    snprintf(url, sizeof url, "%s%s", f->base, path);
    const char *headers[2];
    size_t nh = 0;
    if (ctype) {
        snprintf(h1, sizeof h1, "Content-Type: %s", ctype);
        headers[nh++] = h1;
    }
    if (accept) {
        snprintf(h2, sizeof h2, "Accept: %s", accept);
        headers[nh++] = h2;
    }
    hoist_http_request req = {method, url, headers, nh, body, body ? strlen(body) : 0, 10000};
    assert_non_null(hoist_http_start(f->http, &req, record, o, NULL));
}

/* One request to completion; returns the parsed body (the caller frees). */
static json_t *call(fixture *f, const char *method, const char *path, const char *ctype,
                    const char *body, long want_status)
{
    outcome o = {0};
    start(f, method, path, ctype, NULL, body, &o);
    run_until_done(f, &o);
    if (o.status != want_status)
        fail_msg("%s %s: status %ld, wanted %ld: %s", method, path, o.status, want_status, o.body);
    assert_string_equal(o.ctype, "application/json");
    json_t *j = json_loads(o.body, 0, NULL);
    if (!j)
        fail_msg("%s %s: body is not JSON: %s", method, path, o.body);
    free(o.body);
    return j;
}

static const char *jstr(const json_t *o, const char *a, const char *b)
{
    const json_t *v = json_object_get(o, a);
    return json_string_value(b ? json_object_get(v, b) : v);
}

static void expect_status(json_t *st, int code, const char *reason, const char *msg_part)
{
    assert_string_equal(jstr(st, "kind", NULL), "Status");
    assert_string_equal(jstr(st, "apiVersion", NULL), "v1");
    assert_string_equal(jstr(st, "status", NULL), "Failure");
    assert_int_equal(json_integer_value(json_object_get(st, "code")), code);
    assert_string_equal(jstr(st, "reason", NULL), reason);
    if (!strstr(jstr(st, "message", NULL), msg_part))
        fail_msg("message \"%s\" lacks \"%s\"", jstr(st, "message", NULL), msg_part);
    json_decref(st);
}

static void test_http_discovery(void **state)
{
    fixture *f = *state;
    json_t *v = call(f, "GET", "/version", NULL, NULL, 200);
    assert_string_equal(jstr(v, "gitVersion", NULL), HOIST_API_GIT_VERSION);
    json_decref(v);
    json_t *api = call(f, "GET", "/api", NULL, NULL, 200);
    assert_string_equal(jstr(api, "kind", NULL), "APIVersions");
    json_decref(api);
    json_t *v1 = call(f, "GET", "/api/v1", NULL, NULL, 200);
    json_t *rs = json_object_get(v1, "resources");
    bool pods = false, eviction = false;
    size_t i;
    json_t *r;
    json_array_foreach(rs, i, r) {
        if (!strcmp(jstr(r, "name", NULL), "pods")) {
            pods = true;
            assert_string_equal(json_string_value(json_array_get(json_object_get(r, "shortNames"),
                                                                 0)), "po");
            assert_true(json_is_true(json_object_get(r, "namespaced")));
        }
        if (!strcmp(jstr(r, "name", NULL), "pods/eviction")) {
            eviction = true;
            assert_string_equal(jstr(r, "group", NULL), "policy");
        }
    }
    assert_true(pods && eviction);
    json_decref(v1);
    json_t *apis = call(f, "GET", "/apis", NULL, NULL, 200);
    assert_int_equal(json_array_size(json_object_get(apis, "groups")), 5);
    json_decref(apis);
    json_t *hd = call(f, "GET", "/apis/hoist.dev/v1", NULL, NULL, 200);
    json_t *np = json_array_get(json_object_get(hd, "resources"), 0);
    assert_string_equal(jstr(np, "kind", NULL), "NodePool");
    assert_false(json_is_true(json_object_get(np, "namespaced")));
    json_decref(hd);
    json_t *g = call(f, "GET", "/apis/apps", NULL, NULL, 200);
    assert_string_equal(jstr(g, "preferredVersion", "groupVersion"), "apps/v1");
    json_decref(g);
    json_t *oa = call(f, "GET", "/openapi/v3", NULL, NULL, 200);
    assert_non_null(json_object_get(json_object_get(oa, "paths"), "apis/policy/v1"));
    json_decref(oa);
    json_t *doc = call(f, "GET", "/openapi/v3/api/v1", NULL, NULL, 200);
    json_t *patch = json_object_get(json_object_get(json_object_get(doc, "paths"),
                                                    "/api/v1/namespaces/{namespace}/pods/{name}"),
                                    "patch");
    assert_string_equal(jstr(patch, "x-kubernetes-group-version-kind", "kind"), "Pod");
    assert_string_equal(jstr(json_array_get(json_object_get(patch, "parameters"), 0), "name",
                             NULL), "fieldValidation");
    json_decref(doc);
    expect_status(call(f, "GET", "/apis/nothing.io/v1", NULL, NULL, 404), 404, "NotFound",
                  "the server could not find the requested resource");
    expect_status(call(f, "GET", "/api/v1/widgets", NULL, NULL, 404), 404, "NotFound",
                  "could not find the requested resource");
    expect_status(call(f, "GET", "/openapi/v2", NULL, NULL, 404), 404, "NotFound", "could not");
    expect_status(call(f, "POST", "/api/v1", NULL, "{}", 405), 405, "MethodNotAllowed",
                  "does not allow this method");
}

static void test_http_crud_and_errors(void **state)
{
    fixture *f = *state;
    const char *js = "application/json";
    json_t *p = call(f, "POST", "/api/v1/namespaces/default/pods", js,
                     "{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": "
                     "\"web\", \"labels\": {\"app\": \"web\"}}, \"spec\": {\"containers\": "
                     "[{\"name\": \"a\", \"image\": \"x\"}]}}", 201);
    assert_string_equal(jstr(p, "metadata", "resourceVersion"), "5");
    assert_string_equal(jstr(p, "status", "phase"), "Pending");
    json_decref(p);
    expect_status(call(f, "POST", "/api/v1/namespaces/default/pods", js,
                       "{\"metadata\": {\"name\": \"web\"}}", 409), 409, "AlreadyExists",
                  "pods \"web\" already exists");
    expect_status(call(f, "POST", "/api/v1/namespaces/default/pods", js, "{not json", 400), 400,
                  "BadRequest", "not valid JSON");
    expect_status(call(f, "POST", "/api/v1/namespaces/default/pods", js, "[1]", 400), 400,
                  "BadRequest", "must be a JSON object");
    expect_status(call(f, "POST", "/api/v1/namespaces/default/pods", js, "{\"spec\": {}}", 422),
                  422, "Invalid", "metadata.name: Required value");
    expect_status(call(f, "POST", "/api/v1/namespaces/default/pods", "application/yaml",
                       "metadata: {}", 415), 415, "UnsupportedMediaType", "unknown format");
    expect_status(call(f, "GET", "/api/v1/namespaces/default/pods/nope", NULL, NULL, 404), 404,
                  "NotFound", "pods \"nope\" not found");
    expect_status(call(f, "POST", "/api/v1/namespaces/default/pods/web", js, "{}", 405), 405,
                  "MethodNotAllowed", "does not allow");
    expect_status(call(f, "POST", "/api/v1/pods", js, "{}", 405), 405, "MethodNotAllowed",
                  "does not allow");
    expect_status(call(f, "GET", "/api/v1/namespaces/default/pods?labelSelector=a%3D(", NULL,
                       NULL, 400), 400, "BadRequest", "label selector");
    expect_status(call(f, "GET", "/api/v1/pods?fieldSelector=spec.image%3Dx", NULL, NULL, 400),
                  400, "BadRequest", "field label not supported: spec.image");
    expect_status(call(f, "GET", "/api/v1/pods?limit=x", NULL, NULL, 400), 400, "BadRequest",
                  "limit");
    expect_status(call(f, "GET", "/api/v1/namespaces/default/pods/web/exec", NULL, NULL, 404),
                  404, "NotFound", "could not find");
    expect_status(call(f, "POST", "/api/v1/namespaces/default/pods?dryRun=All", js, "{}", 400),
                  400, "BadRequest", "dryRun");

    /* list with selectors, all namespaces */
    json_t *l = call(f, "GET", "/api/v1/pods?labelSelector=app%3Dweb&fieldSelector=spec.nodeName%3D",
                     NULL, NULL, 200);
    assert_string_equal(jstr(l, "kind", NULL), "PodList");
    assert_int_equal(json_array_size(json_object_get(l, "items")), 1);
    json_decref(l);

    /* PUT with a stale version, then right */
    expect_status(call(f, "PUT", "/api/v1/namespaces/default/pods/web", js,
                       "{\"metadata\": {\"name\": \"web\", \"resourceVersion\": \"2\"}, "
                       "\"spec\": {}}", 409), 409, "Conflict", "has been modified");
    expect_status(call(f, "PUT", "/api/v1/namespaces/default/pods/web", js,
                       "{\"metadata\": {\"name\": \"other\"}, \"spec\": {}}", 400), 400,
                  "BadRequest", "does not match the name on the URL");
    /* patches of the three kinds */
    json_t *m = call(f, "PATCH", "/api/v1/namespaces/default/pods/web",
                     "application/merge-patch+json", "{\"metadata\": {\"labels\": {\"x\": "
                     "\"1\"}}}", 200);
    assert_string_equal(jstr(m, "metadata", "resourceVersion"), "6");
    json_decref(m);
    json_t *sm = call(f, "PATCH", "/api/v1/namespaces/default/pods/web",
                      "application/strategic-merge-patch+json",
                      "{\"spec\": {\"containers\": [{\"name\": \"b\", \"image\": \"y\"}]}}", 200);
    assert_int_equal(json_array_size(json_object_get(json_object_get(sm, "spec"), "containers")),
                     2);
    json_decref(sm);
    json_t *jp = call(f, "PATCH", "/api/v1/namespaces/default/pods/web",
                      "application/json-patch+json",
                      "[{\"op\": \"remove\", \"path\": \"/metadata/labels/x\"}]", 200);
    assert_null(json_object_get(json_object_get(json_object_get(jp, "metadata"), "labels"), "x"));
    json_decref(jp);
    expect_status(call(f, "PATCH", "/api/v1/namespaces/default/pods/web",
                       "application/json-patch+json", "[{\"op\": \"remove\", \"path\": \"/zz\"}]",
                       400), 400, "BadRequest", "operation 0 (remove /zz): path not found");
    expect_status(call(f, "PATCH", "/api/v1/namespaces/default/pods/web", "text/plain", "x", 415),
                  415, "UnsupportedMediaType", "text/plain");
    /* status subresource */
    json_t *st = call(f, "PUT", "/api/v1/namespaces/default/pods/web/status", js,
                      "{\"metadata\": {\"name\": \"web\"}, \"status\": {\"phase\": \"Running\"}}",
                      200);
    assert_string_equal(jstr(st, "status", "phase"), "Running");
    json_decref(st);
    /* binding, then eviction */
    json_t *b = call(f, "POST", "/api/v1/namespaces/default/pods/web/binding", js,
                     "{\"apiVersion\": \"v1\", \"kind\": \"Binding\", \"metadata\": {\"name\": "
                     "\"web\"}, \"target\": {\"kind\": \"Node\", \"name\": \"n1\"}}", 201);
    assert_string_equal(jstr(b, "status", NULL), "Success");
    json_decref(b);
    json_t *g = call(f, "GET", "/api/v1/namespaces/default/pods/web", NULL, NULL, 200);
    assert_string_equal(jstr(g, "spec", "nodeName"), "n1");
    json_decref(g);
    expect_status(call(f, "POST", "/api/v1/namespaces/default/pods/web/eviction", js,
                       "{\"metadata\": {\"name\": \"other\"}}", 400), 400, "BadRequest",
                  "does not match");
    json_t *ev = call(f, "POST", "/api/v1/namespaces/default/pods/web/eviction", js,
                      "{\"apiVersion\": \"policy/v1\", \"kind\": \"Eviction\", \"metadata\": "
                      "{\"name\": \"web\", \"namespace\": \"default\"}}", 201);
    json_decref(ev);
    /* the eviction began a graceful deletion: the pod terminates, for its
     * default 30 s, until its kubelet (or anyone) deletes it with grace 0 */
    g = call(f, "GET", "/api/v1/namespaces/default/pods/web", NULL, NULL, 200);
    assert_non_null(jstr(g, "metadata", "deletionTimestamp"));
    assert_int_equal(json_integer_value(json_object_get(json_object_get(g, "metadata"),
                                                        "deletionGracePeriodSeconds")),
                     30);
    json_decref(g);
    expect_status(call(f, "DELETE", "/api/v1/namespaces/default/pods/web?gracePeriodSeconds=x",
                       NULL, NULL, 400),
                  400, "BadRequest", "gracePeriodSeconds");
    g = call(f, "DELETE", "/api/v1/namespaces/default/pods/web", js, "{\"gracePeriodSeconds\": 0}",
             200);
    json_decref(g);
    expect_status(call(f, "DELETE", "/api/v1/namespaces/default/pods/web", NULL, NULL, 404), 404,
                  "NotFound", "pods \"web\" not found");
    /* cluster-scoped CRD and delete with preconditions */
    json_t *np = call(f, "POST", "/apis/hoist.dev/v1/nodepools", js,
                      "{\"apiVersion\": \"hoist.dev/v1\", \"kind\": \"NodePool\", \"metadata\": "
                      "{\"name\": \"gp\"}, \"spec\": {\"weight\": 1}}", 201);
    assert_null(json_object_get(json_object_get(np, "metadata"), "namespace"));
    json_decref(np);
    expect_status(call(f, "DELETE", "/apis/hoist.dev/v1/nodepools/gp", js,
                       "{\"preconditions\": {\"resourceVersion\": \"1\"}}", 409), 409, "Conflict",
                  "nodepools.hoist.dev \"gp\"");
    json_t *d = call(f, "DELETE", "/apis/hoist.dev/v1/nodepools/gp", js, "{}", 200);
    assert_string_equal(jstr(d, "metadata", "name"), "gp");
    json_decref(d);
    expect_status(call(f, "DELETE", "/apis/hoist.dev/v1/nodepools/gp", js, "{oops", 400), 400,
                  "BadRequest", "not valid JSON");
}

static void test_http_tables(void **state)
{
    fixture *f = *state;
    const char *tab = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";
    json_decref(mkpod(f->store, "default",
                      "{\"metadata\": {\"name\": \"t1\"}, \"spec\": {\"nodeName\": \"n1\", "
                      "\"containers\": [{\"name\": \"a\"}]}, \"status\": {\"phase\": "
                      "\"Running\", \"containerStatuses\": [{\"ready\": true, \"restartCount\": "
                      "2}]}}"));
    outcome o = {0};
    start(f, "GET", "/api/v1/namespaces/default/pods", NULL, tab, NULL, &o);
    run_until_done(f, &o);
    assert_int_equal(o.status, 200);
    json_t *t = json_loads(o.body, 0, NULL);
    free(o.body);
    assert_string_equal(jstr(t, "kind", NULL), "Table");
    assert_string_equal(jstr(t, "apiVersion", NULL), "meta.k8s.io/v1");
    json_t *cols = json_object_get(t, "columnDefinitions");
    assert_string_equal(jstr(json_array_get(cols, 1), "name", NULL), "Ready");
    json_t *cells = json_object_get(json_array_get(json_object_get(t, "rows"), 0), "cells");
    assert_string_equal(json_string_value(json_array_get(cells, 0)), "t1");
    assert_string_equal(json_string_value(json_array_get(cells, 1)), "1/1");
    assert_string_equal(json_string_value(json_array_get(cells, 2)), "Running");
    assert_string_equal(json_string_value(json_array_get(cells, 3)), "2");
    assert_string_equal(json_string_value(json_array_get(cells, 6)), "n1");
    json_t *obj = json_object_get(json_array_get(json_object_get(t, "rows"), 0), "object");
    assert_string_equal(jstr(obj, "kind", NULL), "PartialObjectMetadata");
    json_decref(t);
    char age[32];
    hoist_api_age(45, age, sizeof age);
    assert_string_equal(age, "45s");
    hoist_api_age(192, age, sizeof age);
    assert_string_equal(age, "3m12s");
    hoist_api_age(5 * 3600, age, sizeof age);
    assert_string_equal(age, "5h");
    hoist_api_age(12 * 86400, age, sizeof age);
    assert_string_equal(age, "12d");
}

/* --- watches over HTTP --------------------------------------------------------------- */

typedef struct changer {
    fixture *f;
    int step;
} changer;

static void change_later(uv_timer_t *t)
{
    changer *c = t->data;
    if (hoist_apiserver_watches(c->f->api) == 0)
        return; /* the watch is not in yet */
    hoist_apierr e;
    if (c->step++ == 0) {
        json_decref(mkpod(c->f->store, "default", "{\"metadata\": {\"name\": \"late\"}}"));
        json_decref(hoist_apistore_delete(c->f->store, res("", "pods"), "default", "early", NULL,
                                          HOIST_APISTORE_GRACE_DEFAULT,
                                          &e));
    } else {
        uv_timer_stop(t);
    }
}

static void test_http_watch_stream(void **state)
{
    fixture *f = *state;
    json_decref(mkpod(f->store, "default", "{\"metadata\": {\"name\": \"early\"}}"));
    outcome o = {0};
    /* bookmarks every 20 ms (the fixture's setting); the watch ends after 1 s */
    start(f, "GET", "/api/v1/namespaces/default/pods?watch=1&allowWatchBookmarks=true"
                    "&timeoutSeconds=1", NULL, NULL, NULL, &o);
    changer c = {f, 0};
    uv_timer_t t;
    uv_timer_init(&f->loop, &t);
    t.data = &c;
    uv_timer_start(&t, change_later, 5, 5);
    run_until_done(f, &o);
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_int_equal(o.status, 200);
    /* line by line: ADDED early (synthetic), ADDED late, DELETED early, bookmarks */
    int added = 0, deleted = 0, bookmarks = 0;
    char *save = NULL;
    for (char *line = strtok_r(o.body, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        json_t *ev = json_loads(line, 0, NULL);
        assert_non_null(ev);
        const char *type = jstr(ev, "type", NULL);
        const char *name = jstr(json_object_get(ev, "object"), "metadata", "name");
        if (!strcmp(type, "ADDED")) {
            assert_string_equal(name, added == 0 ? "early" : "late");
            added++;
        } else if (!strcmp(type, "DELETED")) {
            assert_string_equal(name, "early");
            deleted++;
        } else if (!strcmp(type, "BOOKMARK")) {
            assert_string_equal(jstr(json_object_get(ev, "object"), "kind", NULL), "Pod");
            assert_non_null(jstr(json_object_get(ev, "object"), "metadata", "resourceVersion"));
            bookmarks++;
        } else {
            fail_msg("unexpected event %s", line);
        }
        json_decref(ev);
    }
    free(o.body);
    assert_int_equal(added, 2);
    assert_int_equal(deleted, 1);
    assert_true(bookmarks >= 1);
    assert_int_equal(hoist_apiserver_watches(f->api), 0); /* the timeout ended it */
}

static void test_http_watch_gone_and_resume(void **state)
{
    fixture *f = *state;
    hoist_apiserver_close(f->api); /* a store with a history of 2 */
    hoist_apistore_free(f->store);
    f->store = hoist_apistore_new(2, NULL, NULL);
    hoist_apiserver_config cfg = {0, NULL, NULL};
    f->api = hoist_apiserver_new(&f->loop, f->d, f->store, &cfg, NULL);
    for (int i = 0; i < 4; i++) {
        char b[128];
        snprintf(b, sizeof b, "{\"metadata\": {\"name\": \"g%d\"}}", i);
        json_decref(mkpod(f->store, "default", b));
    }
    /* rv 8 is current; the history holds 7 and 8: from 3, 410 as an ERROR event */
    outcome o = {0};
    start(f, "GET", "/api/v1/pods?watch=true&resourceVersion=3", NULL, NULL, NULL, &o);
    run_until_done(f, &o);
    assert_int_equal(o.status, 200);
    json_t *ev = json_loads(o.body, 0, NULL);
    free(o.body);
    assert_string_equal(jstr(ev, "type", NULL), "ERROR");
    json_t *st = json_object_get(ev, "object");
    assert_int_equal(json_integer_value(json_object_get(st, "code")), 410);
    assert_string_equal(jstr(st, "reason", NULL), "Expired");
    assert_non_null(strstr(jstr(st, "message", NULL), "too old resource version: 3"));
    json_decref(ev);
    /* from 7: event 8 replays, then the 1 s timeout ends it */
    outcome o2 = {0};
    start(f, "GET", "/api/v1/pods?watch=true&resourceVersion=7&timeoutSeconds=1", NULL, NULL, NULL,
          &o2);
    run_until_done(f, &o2);
    json_t *ev2 = json_loads(o2.body, JSON_DISABLE_EOF_CHECK, NULL);
    free(o2.body);
    assert_string_equal(jstr(ev2, "type", NULL), "ADDED");
    assert_string_equal(jstr(json_object_get(ev2, "object"), "metadata", "name"), "g3");
    json_decref(ev2);
    expect_status(call(f, "GET", "/api/v1/pods?watch=true&resourceVersion=abc", NULL, NULL, 400),
                  400, "BadRequest", "resourceVersion");
    expect_status(call(f, "GET", "/api/v1/pods?watch=true&timeoutSeconds=-1", NULL, NULL, 400),
                  400, "BadRequest", "timeoutSeconds");
}

static void close_api(uv_timer_t *t)
{
    fixture *f = t->data;
    if (hoist_apiserver_watches(f->api) > 0) {
        hoist_apiserver_close(f->api);
        f->api = NULL;
        uv_timer_stop(t);
    }
}

static void test_http_close_ends_watches(void **state)
{
    fixture *f = *state;
    outcome o = {0};
    start(f, "GET", "/api/v1/nodes?watch=1", NULL, NULL, NULL, &o);
    uv_timer_t t;
    uv_timer_init(&f->loop, &t);
    t.data = f;
    uv_timer_start(&t, close_api, 5, 5);
    run_until_done(f, &o);
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_int_equal(o.status, 200);
    assert_string_equal(o.body, ""); /* no nodes; the stream ended cleanly */
    free(o.body);
    /* the routes went with it */
    outcome o2 = {0};
    start(f, "GET", "/api", NULL, NULL, NULL, &o2);
    run_until_done(f, &o2);
    assert_int_equal(o2.status, 404);
    free(o2.body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_label_selectors),
        cmocka_unit_test(test_label_selector_errors),
        cmocka_unit_test(test_field_selectors),
        cmocka_unit_test(test_labelselector_objects),
        cmocka_unit_test(test_merge_and_json_patch),
        cmocka_unit_test(test_strategic_merge_patch),
        cmocka_unit_test(test_patch_errors),
        cmocka_unit_test(test_store_crud_and_versions),
        cmocka_unit_test(test_store_create_errors),
        cmocka_unit_test(test_store_list_selectors_and_pages),
        cmocka_unit_test(test_store_watch_history_and_410),
        cmocka_unit_test(test_graceful_deletion_and_finalizers),
        cmocka_unit_test(test_eviction_and_binding),
        cmocka_unit_test_setup_teardown(test_http_discovery, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_crud_and_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_tables, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_watch_stream, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_watch_gone_and_resume, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_close_ends_watches, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
