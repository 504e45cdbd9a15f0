/* Unit tests for policy/policy: the Lua sandbox, its limits and the calls. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "policy/check.h"
#include "policy/policy.h"

/* cli/cmd_policy.c, linked into this test */
int hoist_cmd_policy(int argc, char **argv);

static char fixture_path[4096];

static const char *fixture(const char *name)
{
    const char *src = getenv("HOIST_SRCDIR");
    snprintf(fixture_path, sizeof fixture_path, "%s/tests/data/policy/%s", src ? src : "..", name);
    return fixture_path;
}

static void assert_has(const char *msg, const char *needle)
{
    if (!strstr(msg, needle))
        fail_msg("message \"%s\" lacks \"%s\"", msg, needle);
}

static hoist_policy *load_ok(const char *name, const hoist_policy_limits *limits)
{
    hoist_err err = {{0}};
    hoist_policy *p = hoist_policy_load(fixture(name), limits, &err);
    if (!p)
        fail_msg("%s did not load: %s", name, err.msg);
    return p;
}

/* The policy's `ok` hook still answers 42: the state survived. */
static void assert_still_works(hoist_policy *p)
{
    hoist_err err = {{0}};
    json_t *r = NULL;
    if (hoist_policy_call(p, "ok", NULL, &r, &err) != 0)
        fail_msg("ok hook failed after the error: %s", err.msg);
    assert_true(json_is_integer(r));
    assert_int_equal(json_integer_value(r), 42);
    json_decref(r);
}

/* Call `hook` expecting failure; returns the message in err. */
static void call_fails(hoist_policy *p, const char *hook, const json_t *args, hoist_err *err)
{
    json_t *r = (json_t *)1;
    if (hoist_policy_call(p, hook, args, &r, err) != -1)
        fail_msg("hook %s succeeded but should have failed", hook);
    assert_null(r);
}

static json_t *call_ok(hoist_policy *p, const char *hook, const char *args_json)
{
    hoist_err err = {{0}};
    json_t *args = NULL;
    if (args_json) {
        json_error_t je;
        args = json_loads(args_json, JSON_DECODE_ANY, &je);
        if (!args)
            fail_msg("bad test JSON: %s", je.text);
    }
    json_t *r = NULL;
    int rc = hoist_policy_call(p, hook, args, &r, &err);
    json_decref(args);
    if (rc != 0)
        fail_msg("hook %s failed: %s", hook, err.msg);
    assert_non_null(r);
    return r;
}

/* ---- runaway policies --------------------------------------------------- */

static void test_infinite_loop(void **state)
{
    (void)state;
    hoist_policy *p = load_ok("infinite_loop.lua", NULL);
    hoist_err err = {{0}};
    call_fails(p, "run", NULL, &err);
    assert_has(err.msg, "infinite_loop.lua:4:");
    assert_has(err.msg, "policy exceeded its time budget of 50 ms");
    hoist_policy_stats s = hoist_policy_stats_get(p);
    assert_int_equal(s.calls, 1);
    assert_int_equal(s.errors, 1);
    assert_int_equal(s.timeouts, 1);
    assert_int_equal(s.memory_errors, 0);
    assert_still_works(p);
    s = hoist_policy_stats_get(p);
    assert_int_equal(s.calls, 2);
    assert_int_equal(s.errors, 1);
    hoist_policy_free(p);
}

static void test_pcall_cannot_swallow_the_stop(void **state)
{
    (void)state;
    hoist_policy *p = load_ok("pcall_loop.lua", NULL);
    hoist_err err = {{0}};
    call_fails(p, "run", NULL, &err);
    assert_has(err.msg, "pcall_loop.lua:");
    assert_has(err.msg, "time budget");
    assert_int_equal(hoist_policy_stats_get(p).timeouts, 1);
    assert_still_works(p);
    hoist_policy_free(p);
}

static void test_instruction_limit(void **state)
{
    (void)state;
    hoist_policy_limits l = hoist_policy_limits_default();
    l.max_instructions = 20000;
    l.budget_ms = 0; /* only the count stops it */
    hoist_policy *p = load_ok("infinite_loop.lua", &l);
    hoist_err err = {{0}};
    call_fails(p, "run", NULL, &err);
    assert_has(err.msg, "infinite_loop.lua:4: policy exceeded its instruction limit of 20000");
    assert_int_equal(hoist_policy_stats_get(p).timeouts, 1);
    assert_still_works(p);
    hoist_policy_free(p);
}

static void test_loop_at_load(void **state)
{
    (void)state;
    hoist_err err = {{0}};
    hoist_policy_limits l = hoist_policy_limits_default();
    l.budget_ms = 5;
    hoist_policy *p = hoist_policy_load(fixture("loop_at_load.lua"), &l, &err);
    assert_null(p);
    assert_has(err.msg, "loop_at_load.lua:3: policy exceeded its time budget of 5 ms");
}

static void test_budget_is_configurable(void **state)
{
    (void)state;
    hoist_policy_limits l = hoist_policy_limits_default();
    hoist_err err = {{0}};
    json_t *r = NULL;

    l.budget_ms = 2000; /* ~10 ms of work passes */
    hoist_policy *p = load_ok("slow.lua", &l);
    if (hoist_policy_call(p, "run", NULL, &r, &err) != 0)
        fail_msg("slow hook failed under a 2 s budget: %s", err.msg);
    assert_true(json_is_true(r));
    json_decref(r);
    hoist_policy_free(p);

    l.budget_ms = 1; /* and fails under 1 ms */
    p = load_ok("slow.lua", &l);
    call_fails(p, "run", NULL, &err);
    assert_has(err.msg, "slow.lua:");
    assert_has(err.msg, "time budget of 1 ms");
    hoist_policy_free(p);
}

static void test_memory_bomb(void **state)
{
    (void)state;
    hoist_policy_limits l = hoist_policy_limits_default();
    l.budget_ms = 20000; /* memory, not time, must stop it */
    l.max_instructions = 0;
    l.max_memory = 4u << 20;
    hoist_policy *p = load_ok("memory_bomb.lua", &l);
    hoist_err err = {{0}};
    call_fails(p, "run", NULL, &err);
    assert_has(err.msg, "memory_bomb.lua:8: policy exceeded its memory limit of 4 MiB");
    hoist_policy_stats s = hoist_policy_stats_get(p);
    assert_int_equal(s.memory_errors, 1);
    assert_int_equal(s.timeouts, 0);
    assert_int_equal(s.errors, 1);
    assert_true(s.peak_memory <= l.max_memory);
    assert_true(s.peak_memory > (3u << 20)); /* it really grew to the cap */
    assert_true(s.memory < (1u << 20));       /* and the GC took it back */
    assert_still_works(p);
    hoist_policy_free(p);
}

static void test_memory_limit_is_configurable(void **state)
{
    (void)state;
    hoist_policy_limits l = hoist_policy_limits_default();
    l.budget_ms = 20000;
    l.max_instructions = 0;
    hoist_err err = {{0}};
    json_t *r = NULL;
    json_t *args = json_pack("[s]", "ok");

    /* a 2 MiB string fits under 8 MiB but not under 1 MiB */
    l.max_memory = 8u << 20;
    hoist_policy *p = load_ok("good.lua", &l);
    char *s = malloc((2u << 20) + 1);
    assert_non_null(s);
    memset(s, 'x', 2u << 20);
    s[2u << 20] = '\0';
    json_t *sargs = json_pack("[s]", s);
    free(s);
    assert_int_equal(hoist_policy_call(p, "echo", sargs, &r, &err), 0);
    assert_int_equal(json_string_length(r), 2u << 20);
    json_decref(r);
    hoist_policy_free(p);

    l.max_memory = 1u << 20;
    p = load_ok("good.lua", &l);
    call_fails(p, "echo", sargs, &err);
    assert_has(err.msg, "good.lua: policy exceeded its memory limit of 1 MiB");
    assert_int_equal(hoist_policy_stats_get(p).memory_errors, 1);
    assert_int_equal(hoist_policy_call(p, "echo", args, &r, &err), 0);
    assert_string_equal(json_string_value(r), "ok");
    json_decref(r);
    hoist_policy_free(p);
    json_decref(sargs);
    json_decref(args);

    /* too small for the state itself */
    l.max_memory = 1024;
    assert_null(hoist_policy_load(fixture("good.lua"), &l, &err));
    assert_has(err.msg, "good.lua");
    assert_has(err.msg, "memory limit of 1 KiB");
}

static void test_string_rep_bomb(void **state)
{
    (void)state;
    hoist_policy *p = load_ok("string_rep_bomb.lua", NULL);
    hoist_err err = {{0}};
    call_fails(p, "run", NULL, &err);
    assert_has(err.msg, "string_rep_bomb.lua:4: policy exceeded its memory limit of 64 MiB");
    assert_int_equal(hoist_policy_stats_get(p).memory_errors, 1);
    assert_still_works(p);
    hoist_policy_free(p);
}

/* ---- what the sandbox does not offer ------------------------------------ */

static void test_os_execute(void **state)
{
    (void)state;
    hoist_policy *p = load_ok("os_execute.lua", NULL);
    hoist_err err = {{0}};
    call_fails(p, "run", NULL, &err);
    assert_has(err.msg, "os_execute.lua:4: attempt to call a nil value (field 'execute')");
    assert_int_equal(access("/tmp/hoist-policy-escaped", F_OK), -1);
    assert_int_equal(hoist_policy_stats_get(p).errors, 1);
    assert_still_works(p);
    hoist_policy_free(p);
}

static void test_io_open(void **state)
{
    (void)state;
    hoist_policy *p = load_ok("io_open.lua", NULL);
    hoist_err err = {{0}};
    call_fails(p, "run", NULL, &err);
    assert_has(err.msg, "io_open.lua:4: attempt to index a nil value (global 'io')");
    assert_still_works(p);
    hoist_policy_free(p);
}

static void test_require(void **state)
{
    (void)state;
    hoist_policy *p = load_ok("require.lua", NULL);
    hoist_err err = {{0}};
    call_fails(p, "run", NULL, &err);
    assert_has(err.msg, "require.lua:4: attempt to call a nil value (global 'require')");
    assert_still_works(p);
    hoist_policy_free(p);
}

static void test_load_bytecode(void **state)
{
    (void)state;
    hoist_policy *p = load_ok("load_bytecode.lua", NULL);
    hoist_err err = {{0}};
    call_fails(p, "run", NULL, &err);
    assert_has(err.msg, "load_bytecode.lua:6:");
    assert_has(err.msg, "attempt to load a binary chunk (mode is 't')");
    call_fails(p, "dump", NULL, &err);
    assert_has(err.msg, "load_bytecode.lua:10: attempt to call a nil value (field 'dump')");
    json_t *r = call_ok(p, "text", NULL); /* text chunks still load */
    assert_int_equal(json_integer_value(r), 42);
    json_decref(r);
    assert_int_equal(hoist_policy_stats_get(p).errors, 2);
    hoist_policy_free(p);
}

static void test_bytecode_file_refused(void **state)
{
    (void)state;
    char path[] = "/tmp/hoist-policy-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    static const char bytes[] = "\x1bLuaT\x00\x19\x93\r\n\x1a\n";
    assert_int_equal(write(fd, bytes, sizeof bytes - 1), (ssize_t)(sizeof bytes - 1));
    close(fd);
    hoist_err err = {{0}};
    assert_null(hoist_policy_load(path, NULL, &err));
    assert_has(err.msg, path);
    assert_has(err.msg, "precompiled Lua chunk");
    unlink(path);
}

static void test_sandbox_contents(void **state)
{
    (void)state;
    hoist_policy *p = load_ok("good.lua", NULL);
    json_t *r = call_ok(p, "sandbox", NULL);
    json_t *present = json_object_get(r, "present");
    /* nothing forbidden is present: an empty table converts to {} */
    if (!json_is_object(present) || json_object_size(present) != 0) {
        char *dump = json_dumps(present, 0);
        fail_msg("forbidden names present: %s", dump);
    }
    assert_string_equal(json_string_value(json_object_get(r, "time")), "number");
    assert_string_equal(json_string_value(json_object_get(r, "clock")), "number");
    assert_string_equal(json_string_value(json_object_get(r, "utf8")), "Hi");
    assert_int_equal(json_integer_value(json_object_get(r, "math")), 3);
    assert_string_equal(json_string_value(json_object_get(r, "table")), "a,b");
    json_decref(r);

    hoist_err err = {{0}};
    call_fails(p, "gc_stop", NULL, &err);
    assert_has(err.msg, "good.lua:");
    assert_has(err.msg, "collectgarbage(\"stop\") is not allowed");
    r = call_ok(p, "gc_count", NULL);
    assert_true(json_is_true(r));
    json_decref(r);
    hoist_policy_free(p);
}

static void test_gc_finalizer_refused(void **state)
{
    (void)state;
    hoist_policy_limits l = hoist_policy_limits_default();
    l.budget_ms = 10000; /* slow sanitizer builds: only __gc may fail here */
    hoist_policy *p = load_ok("gc_finalizer.lua", &l);
    hoist_err err = {{0}};
    call_fails(p, "run", NULL, &err);
    assert_has(err.msg, "gc_finalizer.lua:5: __gc metamethods are not allowed in a policy");
    json_t *r = call_ok(p, "later", NULL);
    assert_string_equal(json_string_value(r), "fine");
    json_decref(r);
    assert_still_works(p);
    hoist_policy_free(p); /* returns: no finalizer runs at close either */
}

/* ---- errors and wrong results ------------------------------------------- */

static void test_error_boom(void **state)
{
    (void)state;
    hoist_policy *p = load_ok("error_boom.lua", NULL);
    hoist_err err = {{0}};
    call_fails(p, "run", NULL, &err);
    /* the whole message: the full path, the line, the text */
    char want[4200];
    snprintf(want, sizeof want, "%s:4: boom", fixture("error_boom.lua"));
    assert_string_equal(err.msg, want);

    call_fails(p, "table_error", NULL, &err);
    assert_has(err.msg, "error_boom.lua:7: error object is a table value");

    json_t *args = json_pack("[{}]");
    call_fails(p, "runtime", args, &err);
    json_decref(args);
    assert_has(err.msg, "error_boom.lua:10: attempt to index a nil value (field 'missing')");

    call_fails(p, "no_such_hook", NULL, &err);
    assert_has(err.msg, "error_boom.lua: hook no_such_hook is not defined");

    hoist_policy_stats s = hoist_policy_stats_get(p);
    assert_int_equal(s.errors, 4);
    assert_int_equal(s.timeouts, 0);
    assert_int_equal(s.bad_results, 0);
    assert_still_works(p);
    hoist_policy_free(p);
}

static void test_wrong_result_types(void **state)
{
    (void)state;
    hoist_policy *p = load_ok("wrong_type.lua", NULL);
    hoist_err err = {{0}};
    static const struct {
        const char *hook, *want;
    } cases[] = {
        {"run", "wrong_type.lua: hook run returned a function"},
        {"nested_function", "hook nested_function returned a function at .tags.owner"},
        {"cyclic", "hook cyclic returned a cyclic table at .self"},
        {"deep", "hook deep returned a table nested deeper than 64 levels"},
        {"bad_key", "hook bad_key returned a table with a boolean key"},
        {"nan", "hook nan returned a non-finite number"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        call_fails(p, cases[i].hook, NULL, &err);
        assert_has(err.msg, cases[i].want);
    }
    hoist_policy_stats s = hoist_policy_stats_get(p);
    assert_int_equal(s.bad_results, 6);
    assert_int_equal(s.errors, 6);
    assert_still_works(p);
    hoist_policy_free(p);
}

static void test_load_errors(void **state)
{
    (void)state;
    hoist_err err = {{0}};
    assert_null(hoist_policy_load(fixture("syntax_error.lua"), NULL, &err));
    assert_has(err.msg, "syntax_error.lua:3:");
    assert_has(err.msg, "unexpected symbol near 'end'");

    assert_null(hoist_policy_load(fixture("no_table.lua"), NULL, &err));
    assert_has(err.msg, "no_table.lua: a policy must return a table of hooks, not nothing");

    assert_null(hoist_policy_load(fixture("does_not_exist.lua"), NULL, &err));
    assert_has(err.msg, "does_not_exist.lua: cannot open: No such file or directory");

    const char *src = getenv("HOIST_SRCDIR");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/tests/data/policy", src ? src : "..");
    assert_null(hoist_policy_load(dir, NULL, &err));
    assert_has(err.msg, "not a regular file");
}

/* ---- values both ways --------------------------------------------------- */

static void test_round_trip(void **state)
{
    (void)state;
    hoist_policy *p = load_ok("good.lua", NULL);
    assert_string_equal(hoist_policy_name(p), "good");
    assert_true(hoist_policy_has(p, "echo"));
    assert_false(hoist_policy_has(p, "name"));
    assert_false(hoist_policy_has(p, "score_type"));
    assert_int_equal(hoist_policy_hook_count(p), 9);
    assert_string_equal(hoist_policy_hook_name(p, 0), "echo"); /* sorted */

    const char *in = "{\"pods\": [{\"name\": \"web\", \"cpu\": 0.25, \"replicas\": 3,"
                     " \"labels\": {\"app\": \"web\", \"tier\": \"\"}, \"spot\": true,"
                     " \"ok\": false}], \"big\": 9007199254740993, \"neg\": -7,"
                     " \"nested\": [[1, [2, [3]]], {\"k\": [\"a\", \"b\"]}],"
                     " \"utf8\": \"\\u00e9t\\u00e9\"}";
    char args[2048];
    snprintf(args, sizeof args, "[%s]", in);
    json_t *r = call_ok(p, "echo", args);
    json_t *want = json_loads(in, 0, NULL);
    if (!json_equal(r, want)) {
        char *got = json_dumps(r, JSON_SORT_KEYS);
        fail_msg("round trip changed the value: %s", got);
    }
    /* integers stay integers, floats stay floats */
    assert_true(json_is_integer(json_object_get(r, "big")));
    assert_int_equal(json_integer_value(json_object_get(r, "big")), 9007199254740993LL);
    json_t *pod = json_array_get(json_object_get(r, "pods"), 0);
    assert_true(json_is_real(json_object_get(pod, "cpu")));
    assert_true(json_is_integer(json_object_get(pod, "replicas")));
    json_decref(want);
    json_decref(r);

    r = call_ok(p, "floats", NULL);
    assert_true(json_is_real(json_array_get(r, 0))); /* 2.0 is a float in Lua */
    assert_true(json_real_value(json_array_get(r, 0)) == 2.0);
    assert_true(json_is_integer(json_array_get(r, 1)));
    assert_true(json_is_real(json_array_get(r, 2)));
    assert_int_equal(json_integer_value(json_array_get(r, 3)), INT64_MAX);
    json_decref(r);

    /* null -> nil: a null member is absent, a null argument is nil */
    r = call_ok(p, "echo", "[{\"a\": null, \"b\": 1}]");
    assert_int_equal(json_object_size(r), 1);
    assert_non_null(json_object_get(r, "b"));
    json_decref(r);
    r = call_ok(p, "pair", "[null, 5]");
    assert_true(json_is_true(json_array_get(r, 0)));
    assert_int_equal(json_integer_value(json_array_get(r, 1)), 5);
    json_decref(r);

    /* nil and nothing -> null; {} -> object; sparse -> object */
    r = call_ok(p, "nothing", NULL);
    assert_true(json_is_null(r));
    json_decref(r);
    r = call_ok(p, "echo", "[null]");
    assert_true(json_is_null(r));
    json_decref(r);
    r = call_ok(p, "empty", NULL);
    assert_true(json_is_object(r));
    assert_int_equal(json_object_size(r), 0);
    json_decref(r);
    r = call_ok(p, "sparse", NULL);
    assert_true(json_is_object(r));
    assert_string_equal(json_string_value(json_object_get(r, "1")), "a");
    assert_string_equal(json_string_value(json_object_get(r, "3")), "c");
    json_decref(r);

    /* arguments nested too deeply, and arguments that are no array */
    hoist_err err = {{0}};
    json_t *deep = json_array();
    for (int i = 0; i < 100; i++)
        deep = json_pack("[o]", deep);
    call_fails(p, "echo", deep, &err);
    assert_has(err.msg, "argument nested deeper than 64 levels");
    json_decref(deep);
    json_t *obj = json_object();
    call_fails(p, "echo", obj, &err);
    assert_has(err.msg, "the arguments must be a JSON array");
    json_decref(obj);
    r = call_ok(p, "echo", "[\"still fine\"]");
    assert_string_equal(json_string_value(r), "still fine");
    json_decref(r);
    hoist_policy_free(p);
}

/* ---- reload ------------------------------------------------------------- */

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_reload(void **state)
{
    (void)state;
    char dir[] = "/tmp/hoist-policy-dir-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/p.lua", dir);
    write_file(path, "return { v = function() return 1 end }\n");

    hoist_err err = {{0}};
    hoist_policy *slot = NULL;
    assert_int_equal(hoist_policy_reload(&slot, path, NULL, &err), 0); /* first load */
    assert_non_null(slot);
    assert_false(hoist_policy_file_changed(slot));
    json_t *r = call_ok(slot, "v", NULL);
    assert_int_equal(json_integer_value(r), 1);
    json_decref(r);

    /* a syntax error keeps the old policy in force, and says why */
    write_file(path, "return { v = function() return 2 end\n");
    assert_true(hoist_policy_file_changed(slot));
    hoist_policy *before = slot;
    assert_int_equal(hoist_policy_reload(&slot, path, NULL, &err), -1);
    assert_ptr_equal(slot, before);
    assert_has(err.msg, "p.lua:2:");
    assert_has(err.msg, "'}' expected");
    r = call_ok(slot, "v", NULL);
    assert_int_equal(json_integer_value(r), 1);
    json_decref(r);
    assert_int_equal(hoist_policy_stats_get(slot).reload_failures, 1);

    /* a good file is swapped in; the counters carry over */
    write_file(path, "return { v = function() return 3 end, w = function() end }\n");
    assert_int_equal(hoist_policy_reload(&slot, path, NULL, &err), 0);
    assert_false(hoist_policy_file_changed(slot));
    r = call_ok(slot, "v", NULL);
    assert_int_equal(json_integer_value(r), 3);
    json_decref(r);
    assert_true(hoist_policy_has(slot, "w"));
    hoist_policy_stats s = hoist_policy_stats_get(slot);
    assert_int_equal(s.reloads, 1);
    assert_int_equal(s.reload_failures, 1);
    assert_int_equal(s.calls, 3);

    unlink(path);
    assert_true(hoist_policy_file_changed(slot));
    hoist_policy_free(slot);
    rmdir(dir);
}

/* ---- hoist policy check ------------------------------------------------- */

/* Run the check with a JSON report; returns the exit status, *report the
 * parsed report (caller frees). */
static int run_check(const char *path, const char *const *hooks, size_t n_hooks,
                     const hoist_policy_limits *limits, json_t **report)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    assert_non_null(out);
    hoist_policy_check_options o = {hooks, n_hooks, true, limits};
    int rc = hoist_policy_check(path, &o, out);
    fclose(out);
    json_error_t je;
    *report = json_loads(buf, 0, &je);
    if (!*report)
        fail_msg("check printed no JSON (%s): %s", je.text, buf);
    free(buf);
    return rc;
}

static json_t *report_hook(const json_t *report, const char *hook)
{
    size_t i;
    json_t *h;
    json_array_foreach(json_object_get(report, "hooks"), i, h) {
        if (!strcmp(json_string_value(json_object_get(h, "hook")), hook))
            return h;
    }
    fail_msg("no report entry for hook %s", hook);
    return NULL;
}

static void test_hook_api_table(void **state)
{
    (void)state;
    static const char *const known[] = {"close_batch",     "score_type", "order_offerings",
                                        "decorate_launch", "recycle",    "headroom"};
    assert_int_equal(hoist_policy_hook_api_count(), 6);
    for (size_t i = 0; i < 6; i++) {
        const hoist_policy_hook_api *a = hoist_policy_hook_api_find(known[i]);
        assert_non_null(a);
        assert_string_equal(a->name, known[i]);
    }
    assert_null(hoist_policy_hook_api_find("helper"));
    json_t *f = hoist_policy_check_fixture();
    assert_non_null(f);
    assert_int_equal(json_array_size(json_object_get(f, "offerings")), 3);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(f, "node"), "age_seconds")),
                     864000);
    json_decref(f);
}

static void test_check_good_policy(void **state)
{
    (void)state;
    json_t *r = NULL;
    assert_int_equal(run_check(fixture("check_all.lua"), NULL, 0, NULL, &r), 0);
    assert_true(json_is_true(json_object_get(r, "ok")));
    assert_string_equal(json_string_value(json_object_get(r, "name")), "check-all");
    assert_int_equal(json_array_size(json_object_get(r, "hooks")), 7);
    static const char *const hooks[] = {"close_batch",     "score_type", "order_offerings",
                                        "decorate_launch", "recycle",    "headroom"};
    for (size_t i = 0; i < 6; i++)
        assert_true(json_is_true(json_object_get(report_hook(r, hooks[i]), "ok")));
    /* the fixture reached the hooks: the high-priority pod closes the batch,
     * the 10-day-old g5 node is recycled, the m5.large scores 2*10+5 */
    assert_true(json_is_true(json_object_get(report_hook(r, "close_batch"), "result")));
    assert_has(json_string_value(json_object_get(report_hook(r, "recycle"), "result")), "7 days");
    assert_int_equal(json_integer_value(json_object_get(report_hook(r, "score_type"), "result")), 25);
    json_t *order = json_object_get(report_hook(r, "order_offerings"), "result");
    assert_int_equal(json_integer_value(json_array_get(order, 0)), 3);
    /* an unknown hook is a warning, not an error */
    json_t *helper = report_hook(r, "helper");
    assert_true(json_is_false(json_object_get(helper, "known")));
    assert_has(json_string_value(json_object_get(helper, "warning")), "not a hook of the API");
    json_decref(r);
}

static void test_check_bad_policy(void **state)
{
    (void)state;
    json_t *r = NULL;
    assert_int_equal(run_check(fixture("check_bad.lua"), NULL, 0, NULL, &r), 1);
    assert_true(json_is_false(json_object_get(r, "ok")));
    static const struct {
        const char *hook, *want;
    } cases[] = {
        {"close_batch", "expected a boolean, got a string"},
        {"score_type", "expected a number, false or nil, got a string"},
        {"order_offerings", "element 2: index 1 appears twice"},
        {"decorate_launch", "taints[1].effect: expected NoSchedule"},
        {"recycle", "expected nil or a string (the reason), got true"},
        {"headroom", "cpu: invalid quantity \"12x\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *h = report_hook(r, cases[i].hook);
        assert_true(json_is_false(json_object_get(h, "ok")));
        assert_has(json_string_value(json_object_get(h, "error")), cases[i].want);
    }
    json_decref(r);

    /* score_type returning a string, alone */
    static const char *const only[] = {"score_type"};
    assert_int_equal(run_check(fixture("wrong_type.lua"), only, 1, NULL, &r), 1);
    assert_int_equal(json_array_size(json_object_get(r, "hooks")), 1);
    assert_has(json_string_value(json_object_get(report_hook(r, "score_type"), "error")),
               "got a string");
    assert_string_equal(json_string_value(json_object_get(report_hook(r, "score_type"), "result")),
                        "high");
    json_decref(r);

    /* a listed hook the policy does not define */
    static const char *const missing[] = {"recycle"};
    assert_int_equal(run_check(fixture("good.lua"), missing, 1, NULL, &r), 1);
    assert_has(json_string_value(json_object_get(report_hook(r, "recycle"), "error")),
               "does not define");
    json_decref(r);

    /* a policy that does not load */
    assert_int_equal(run_check(fixture("syntax_error.lua"), NULL, 0, NULL, &r), 1);
    assert_has(json_string_value(json_object_get(r, "error")), "syntax_error.lua:3:");
    json_decref(r);
}

static void test_check_runaway_hook(void **state)
{
    (void)state;
    char path[] = "/tmp/hoist-policy-check-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    static const char text[] = "return {\n  recycle = function(node)\n    while true do end\n"
                               "  end,\n}\n";
    assert_int_equal(write(fd, text, sizeof text - 1), (ssize_t)(sizeof text - 1));
    close(fd);
    hoist_policy_limits l = hoist_policy_limits_default();
    l.budget_ms = 5;
    json_t *r = NULL;
    assert_int_equal(run_check(path, NULL, 0, &l, &r), 1);
    json_t *h = report_hook(r, "recycle");
    assert_has(json_string_value(json_object_get(h, "error")), ":3: policy exceeded its time budget");
    assert_null(json_object_get(h, "result"));
    json_decref(r);
    unlink(path);
}

static int cmd(const char *a1, const char *a2, const char *a3, const char *a4, const char *a5)
{
    char *argv[8] = {(char *)"policy"};
    int argc = 1;
    const char *args[] = {a1, a2, a3, a4, a5};
    for (size_t i = 0; i < 5 && args[i]; i++)
        argv[argc++] = (char *)args[i];
    argv[argc] = NULL;
    return hoist_cmd_policy(argc, argv);
}

static void test_cmd_policy(void **state)
{
    (void)state;
    char good[4096], bad[4096];
    snprintf(good, sizeof good, "%s", fixture("check_all.lua"));
    snprintf(bad, sizeof bad, "%s", fixture("check_bad.lua"));
    /* usage errors: 2 */
    assert_int_equal(cmd(NULL, NULL, NULL, NULL, NULL), 2);
    assert_int_equal(cmd("lint", good, NULL, NULL, NULL), 2);
    assert_int_equal(cmd("check", NULL, NULL, NULL, NULL), 2);
    assert_int_equal(cmd("check", "-o", "yaml", good, NULL), 2);
    assert_int_equal(cmd("check", "-o", NULL, NULL, NULL), 2);
    assert_int_equal(cmd("check", "--frobnicate", good, NULL, NULL), 2);
    assert_int_equal(cmd("check", good, bad, NULL, NULL), 2);
    assert_int_equal(cmd("check", "--hooks", ",", good, NULL), 2);
    /* results: 0 good, 1 bad */
    assert_int_equal(cmd("check", good, NULL, NULL, NULL), 0);
    assert_int_equal(cmd("check", "-o", "json", good, NULL), 0);
    assert_int_equal(cmd("check", "--hooks", "recycle,headroom", good, NULL), 0);
    assert_int_equal(cmd("check", bad, NULL, NULL, NULL), 1);
    assert_int_equal(cmd("check", "--hooks", "close_batch", bad, "-o"), 2);
    assert_int_equal(cmd("check", "--output", "text", "--hooks", "close_batch"), 2);
    assert_int_equal(cmd("check", "--hooks", "close_batch", bad, NULL), 1);
    assert_int_equal(cmd("check", fixture("does_not_exist.lua"), NULL, NULL, NULL), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_infinite_loop),
        cmocka_unit_test(test_pcall_cannot_swallow_the_stop),
        cmocka_unit_test(test_instruction_limit),
        cmocka_unit_test(test_loop_at_load),
        cmocka_unit_test(test_budget_is_configurable),
        cmocka_unit_test(test_memory_bomb),
        cmocka_unit_test(test_memory_limit_is_configurable),
        cmocka_unit_test(test_string_rep_bomb),
        cmocka_unit_test(test_os_execute),
        cmocka_unit_test(test_io_open),
        cmocka_unit_test(test_require),
        cmocka_unit_test(test_load_bytecode),
        cmocka_unit_test(test_bytecode_file_refused),
        cmocka_unit_test(test_sandbox_contents),
        cmocka_unit_test(test_gc_finalizer_refused),
        cmocka_unit_test(test_error_boom),
        cmocka_unit_test(test_wrong_result_types),
        cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_reload),
        cmocka_unit_test(test_hook_api_table),
        cmocka_unit_test(test_check_good_policy),
        cmocka_unit_test(test_check_bad_policy),
        cmocka_unit_test(test_check_runaway_hook),
        cmocka_unit_test(test_cmd_policy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
