/* Unit tests for model/load: JSON and YAML documents. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/load.h"

static int load(hoist_docs *d, const char *name, const char *text, hoist_err *err)
{
    return hoist_docs_load_buffer(d, name, text, strlen(text), err);
}

static void assert_has(const char *msg, const char *needle)
{
    if (!strstr(msg, needle))
        fail_msg("message \"%s\" lacks \"%s\"", msg, needle);
}

static void test_yaml_scalars(void **state)
{
    (void)state;
    hoist_docs d;
    hoist_err err = {{0}};
    hoist_docs_init(&d);
    const char *text = "# leading comment\n"
                       "apiVersion: v1\n"
                       "kind: Pod\n"
                       "metadata: {name: web}\n"
                       "t: true\n"
                       "f: False\n"
                       "yes1: yes\n"
                       "off1: off\n"
                       "n1: null\n"
                       "n2: ~\n"
                       "n3:\n"
                       "i: 42\n"
                       "neg: -7\n"
                       "hex: 0x1F\n"
                       "oct: 0o17\n"
                       "under: 1_000\n"
                       "lead: 010\n"
                       "n: n\n"
                       "fl: 1.5\n"
                       "exp: 1e3\n"
                       "qs: \"true\"\n"
                       "sq: '42'\n"
                       "tagged: !!str 12\n"
                       "plain: 12Gi\n"
                       "big: 99999999999999999999\n"
                       "block: |\n"
                       "  line one\n"
                       "  line two\n";
    assert_int_equal(load(&d, "s.yaml", text, &err), 0);
    assert_int_equal(d.n, 1);
    json_t *o = d.items[0].json;
    assert_int_equal(d.items[0].line, 2);
    assert_int_equal(d.items[0].index, 0);
    assert_int_equal(d.items[0].item, -1);
    assert_string_equal(d.items[0].file, "s.yaml");
    assert_true(json_is_true(json_object_get(o, "t")));
    assert_true(json_is_false(json_object_get(o, "f")));
    /* YAML 1.2 core schema: the 1.1 words stay strings. */
    assert_string_equal(json_string_value(json_object_get(o, "yes1")), "yes");
    assert_string_equal(json_string_value(json_object_get(o, "off1")), "off");
    assert_string_equal(json_string_value(json_object_get(o, "n")), "n");
    assert_int_equal(json_integer_value(json_object_get(o, "lead")), 10);
    assert_true(json_is_null(json_object_get(o, "n1")));
    assert_true(json_is_null(json_object_get(o, "n2")));
    assert_true(json_is_null(json_object_get(o, "n3")));
    assert_int_equal(json_integer_value(json_object_get(o, "i")), 42);
    assert_int_equal(json_integer_value(json_object_get(o, "neg")), -7);
    assert_int_equal(json_integer_value(json_object_get(o, "hex")), 31);
    assert_int_equal(json_integer_value(json_object_get(o, "oct")), 15);
    assert_string_equal(json_string_value(json_object_get(o, "under")), "1_000");
    assert_true(json_is_real(json_object_get(o, "fl")));
    assert_true(json_real_value(json_object_get(o, "fl")) == 1.5);
    assert_true(json_real_value(json_object_get(o, "exp")) == 1000.0);
    assert_string_equal(json_string_value(json_object_get(o, "qs")), "true");
    assert_string_equal(json_string_value(json_object_get(o, "sq")), "42");
    assert_string_equal(json_string_value(json_object_get(o, "tagged")), "12");
    assert_string_equal(json_string_value(json_object_get(o, "plain")), "12Gi");
    assert_true(json_is_real(json_object_get(o, "big")));
    assert_string_equal(json_string_value(json_object_get(o, "block")), "line one\nline two\n");
    hoist_docs_free(&d);
}

static void test_yaml_multi_document(void **state)
{
    (void)state;
    hoist_docs d;
    hoist_err err = {{0}};
    hoist_docs_init(&d);
    const char *text = "# only a comment\n"
                       "---\n"
                       "kind: A\n"
                       "---\n"
                       "---\n"
                       "# empty above\n"
                       "---\n"
                       "kind: B\n"
                       "x: 1\n"
                       "...\n";
    assert_int_equal(load(&d, "m.yaml", text, &err), 0);
    assert_int_equal(d.n, 2);
    assert_string_equal(json_string_value(json_object_get(d.items[0].json, "kind")), "A");
    assert_int_equal(d.items[0].line, 3);
    assert_string_equal(json_string_value(json_object_get(d.items[1].json, "kind")), "B");
    assert_int_equal(d.items[1].line, 8);
    assert_true(d.items[1].index > d.items[0].index);
    /* A second load appends. */
    assert_int_equal(load(&d, "n.yaml", "kind: C\n", &err), 0);
    assert_int_equal(d.n, 3);
    assert_string_equal(d.items[2].file, "n.yaml");
    hoist_docs_free(&d);
}

static void test_yaml_list(void **state)
{
    (void)state;
    hoist_docs d;
    hoist_err err = {{0}};
    hoist_docs_init(&d);
    const char *text = "apiVersion: v1\n"
                       "kind: PodList\n"
                       "items:\n"
                       "- kind: Pod\n"
                       "  metadata: {name: a}\n"
                       "- kind: Pod\n"
                       "  metadata:\n"
                       "    name: b\n";
    assert_int_equal(load(&d, "l.yaml", text, &err), 0);
    assert_int_equal(d.n, 2);
    assert_int_equal(d.items[0].item, 0);
    assert_int_equal(d.items[0].line, 4);
    assert_int_equal(d.items[1].item, 1);
    assert_int_equal(d.items[1].line, 6);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(d.items[1].json, "metadata"), "name")),
        "b");
    hoist_docs_free(&d);
}

static void test_yaml_anchors_and_merge(void **state)
{
    (void)state;
    hoist_docs d;
    hoist_err err = {{0}};
    hoist_docs_init(&d);
    const char *text = "kind: X\n"
                       "base: &b\n"
                       "  cpu: 1\n"
                       "  memory: 1Gi\n"
                       "copy: *b\n"
                       "merged:\n"
                       "  <<: *b\n"
                       "  cpu: 2\n"
                       "quoted:\n"
                       "  \"<<\": 3\n"
                       "s: &s hello\n"
                       "t: *s\n";
    assert_int_equal(load(&d, "a.yaml", text, &err), 0);
    json_t *o = d.items[0].json;
    json_t *copy = json_object_get(o, "copy");
    assert_int_equal(json_integer_value(json_object_get(copy, "cpu")), 1);
    assert_string_equal(json_string_value(json_object_get(copy, "memory")), "1Gi");
    json_t *m = json_object_get(o, "merged");
    assert_int_equal(json_integer_value(json_object_get(m, "cpu")), 2); /* explicit key wins */
    assert_string_equal(json_string_value(json_object_get(m, "memory")), "1Gi");
    assert_null(json_object_get(m, "<<"));
    assert_int_equal(json_integer_value(json_object_get(json_object_get(o, "quoted"), "<<")), 3);
    assert_string_equal(json_string_value(json_object_get(o, "t")), "hello");
    hoist_docs_free(&d);
}

static void test_yaml_alias_bomb(void **state)
{
    (void)state;
    hoist_docs d;
    hoist_err err = {{0}};
    hoist_docs_init(&d);
    const char *text = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
                       "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                       "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
                       "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                       "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
                       "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
                       "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n";
    assert_int_equal(load(&d, "bomb.yaml", text, &err), -1);
    assert_has(err.msg, "bomb.yaml:");
    assert_has(err.msg, "alias expansion");
    assert_int_equal(d.n, 0);
    hoist_docs_free(&d);
}

static void test_yaml_errors(void **state)
{
    (void)state;
    hoist_docs d;
    hoist_err err = {{0}};
    hoist_docs_init(&d);

    assert_int_equal(load(&d, "bad.yaml", "kind: A\nmetadata:\n  name: [x\n  y: 1\n", &err), -1);
    assert_has(err.msg, "bad.yaml:");
    assert_has(err.msg, "invalid YAML");

    assert_int_equal(load(&d, "bad2.yaml", "kind: A\nx: 1\n  y: 2\n", &err), -1);
    assert_has(err.msg, "bad2.yaml:3: invalid YAML");

    assert_int_equal(load(&d, "dup.yaml", "kind: A\nx: 1\nx: 2\n", &err), -1);
    assert_has(err.msg, "dup.yaml:3: duplicate mapping key \"x\"");

    assert_int_equal(load(&d, "alias.yaml", "kind: A\nx: *nope\n", &err), -1);
    assert_has(err.msg, "alias.yaml:2:");
    assert_has(err.msg, "nope");

    assert_int_equal(load(&d, "seq.yaml", "- a\n- b\n", &err), -1);
    assert_has(err.msg, "seq.yaml:1: expected a Kubernetes object");

    assert_int_equal(load(&d, "scalar.yaml", "hello\n", &err), -1);
    assert_has(err.msg, "scalar.yaml:1: expected a Kubernetes object");

    assert_int_equal(load(&d, "inf.yaml", "kind: A\nx: .inf\n", &err), -1);
    assert_has(err.msg, "inf.yaml:2:");

    assert_int_equal(load(&d, "ckey.yaml", "kind: A\n? [a, b]\n: 1\n", &err), -1);
    assert_has(err.msg, "complex mapping keys");

    assert_int_equal(load(&d, "merge.yaml", "kind: A\nx:\n  <<: 5\n", &err), -1);
    assert_has(err.msg, "merge.yaml:3:");

    assert_int_equal(load(&d, "listitem.yaml", "kind: PodList\nitems:\n- 1\n", &err), -1);
    assert_has(err.msg, "listitem.yaml:3: PodList: items[0]: expected an object");

    /* A failure in the second document leaves nothing from the first. */
    assert_int_equal(load(&d, "two.yaml", "kind: A\n---\n- 1\n", &err), -1);
    assert_int_equal(d.n, 0);
    hoist_docs_free(&d);
}

static void test_json(void **state)
{
    (void)state;
    hoist_docs d;
    hoist_err err = {{0}};
    hoist_docs_init(&d);
    const char *text = "\n\n{\"kind\": \"Pod\", \"metadata\": {\"name\": \"a\"},\n"
                       " \"spec\": {\"x\": true}}\n"
                       "{\"kind\": \"List\", \"items\": [\n"
                       "  {\"kind\": \"Node\", \"items\": \"[not, the, list]\"},\n"
                       "\n"
                       "  {\"kind\": \"Pod\", \"x\": {\"items\": [1, 2]}}\n"
                       "]}\n";
    assert_int_equal(load(&d, "p.json", text, &err), 0);
    assert_int_equal(d.n, 3);
    assert_int_equal(d.items[0].line, 3);
    assert_int_equal(d.items[0].index, 0);
    assert_string_equal(json_string_value(json_object_get(d.items[1].json, "kind")), "Node");
    assert_int_equal(d.items[1].line, 6);
    assert_int_equal(d.items[1].index, 1);
    assert_int_equal(d.items[1].item, 0);
    assert_int_equal(d.items[2].line, 8);
    assert_int_equal(d.items[2].item, 1);
    hoist_docs_free(&d);
}

static void test_json_errors(void **state)
{
    (void)state;
    hoist_docs d;
    hoist_err err = {{0}};
    hoist_docs_init(&d);
    assert_int_equal(load(&d, "bad.json", "{\"kind\": \"Pod\",\n \"x\": tru}\n", &err), -1);
    assert_has(err.msg, "bad.json:2: invalid JSON");
    assert_int_equal(load(&d, "dup.json", "{\"a\": 1, \"a\": 2}", &err), -1);
    assert_has(err.msg, "dup.json:1: invalid JSON");
    assert_has(err.msg, "duplicate");
    assert_int_equal(load(&d, "arr.json", "[1, 2]", &err), -1);
    assert_has(err.msg, "arr.json:1: expected a Kubernetes object");
    assert_int_equal(load(&d, "second.json", "{\"kind\": \"A\"}\n\n{\"kind\": }", &err), -1);
    assert_has(err.msg, "second.json:3: invalid JSON");
    assert_int_equal(d.n, 0);
    hoist_docs_free(&d);
}

static void test_stream_and_files(void **state)
{
    (void)state;
    hoist_docs d;
    hoist_err err = {{0}};
    hoist_docs_init(&d);
    char text[] = "kind: Pod\nmetadata:\n  name: from-stream\n";
    FILE *f = fmemopen(text, strlen(text), "r");
    assert_non_null(f);
    assert_int_equal(hoist_docs_load_stream(&d, "-", f, &err), 0);
    fclose(f);
    assert_int_equal(d.n, 1);
    assert_string_equal(d.items[0].file, "-");

    assert_int_equal(hoist_docs_load_file(&d, "/nonexistent/x.yaml", &err), -1);
    assert_has(err.msg, "/nonexistent/x.yaml: cannot open");

    /* Empty and whitespace-only inputs hold no documents. */
    assert_int_equal(load(&d, "empty.yaml", "", &err), 0);
    assert_int_equal(load(&d, "blank.yaml", "  \n\n# c\n", &err), 0);
    assert_int_equal(d.n, 1);

    /* A byte order mark is skipped. */
    assert_int_equal(load(&d, "bom.json", "\xEF\xBB\xBF{\"kind\": \"X\"}", &err), 0);
    assert_int_equal(d.n, 2);

    const char *src = getenv("HOIST_SRCDIR");
    if (src) {
        char path[4096];
        snprintf(path, sizeof path, "%s/tests/data/objects/list.json", src);
        assert_int_equal(hoist_docs_load_file(&d, path, &err), 0);
        assert_true(d.n > 2);
        assert_string_equal(d.items[2].file, path);
    }
    hoist_docs_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_yaml_scalars),        cmocka_unit_test(test_yaml_multi_document),
        cmocka_unit_test(test_yaml_list),           cmocka_unit_test(test_yaml_anchors_and_merge),
        cmocka_unit_test(test_yaml_alias_bomb),     cmocka_unit_test(test_yaml_errors),
        cmocka_unit_test(test_json),                cmocka_unit_test(test_json_errors),
        cmocka_unit_test(test_stream_and_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
