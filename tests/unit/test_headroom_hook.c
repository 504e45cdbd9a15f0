/*
 * tests/unit/test_headroom_hook.c - policy/headroom_hook: a Lua policy's
 * headroom(nodepool) as the pack stage's hoist_headroom_fn and the
 * consolidate stage's hoist_headroom_want_fn. The shipped
 * policies/headroom.lua asks 10 % of capacity; numbers and quantity strings
 * are read; every bad result is a counted failure whose message names the
 * problem, and leaves *want untouched.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/objects.h"
#include "pipeline/consolidate.h"
#include "pipeline/headroom.h"
#include "policy/headroom_hook.h"
#include "policy/policy.h"

#define GI (1024LL * 1024 * 1024)
#define MILLI_GI (GI * 1000)

/* One policy whose headroom answers by NodePool name, so one file covers
 * every good and bad result. */
static const char VARIED[] =
    "local p = {}\n"
    "function p.headroom(np)\n"
    "  local n = np.name\n"
    "  if n == 'strings' then return {cpu = '500m', memory = '8Gi'} end\n"
    "  if n == 'numbers' then return {cpu = 1.5, memory = 1073741824} end\n"
    "  if n == 'fraction' then return {cpu = 0.0001, memory = 0.5} end\n"
    "  if n == 'empty' then return {} end\n"
    "  if n == 'partial' then return {memory = '1Mi'} end\n"
    "  if n == 'echo' then\n"
    "    return {cpu = np.requested.cpu, memory = np.capacity.memory}\n"
    "  end\n"
    "  if n == 'shape' then\n"
    "    assert(np.weight == 7 and np.labels.team == 'web' and np.nodes == 3)\n"
    "    assert(np.capacity.pods == '30' and np.requested.pods == '2')\n"
    "    return {cpu = np.nodes}\n"
    "  end\n"
    "  if n == 'abc' then return {cpu = 'abc'} end\n"
    "  if n == 'negative' then return {memory = -1} end\n"
    "  if n == 'negstring' then return {cpu = '-2'} end\n"
    "  if n == 'nested' then return {cpu = {4}} end\n"
    "  if n == 'boolean' then return {memory = true} end\n"
    "  if n == 'unknown' then return {cpu = 1, gpu = 1} end\n"
    "  if n == 'nan' then return {cpu = 0/0} end\n"
    "  if n == 'huge' then return {cpu = 1e300} end\n"
    "  if n == 'string' then return 'lots' end\n"
    "  if n == 'list' then return {1, 2} end\n"
    "  if n == 'boom' then error('boom') end\n"
    "  return nil\n"
    "end\n"
    "return p\n";

static const char NO_HOOK[] = "return { close_batch = function() return true end }\n";

static const char SNAPSHOT[] =
    "apiVersion: hoist.dev/v1\nkind: NodePool\nmetadata: {name: web}\n"
    "spec: {template: {spec: {requirements: []}}}\n"
    "---\napiVersion: v1\nkind: Node\nmetadata:\n  name: w1\n"
    "  labels: {hoist.dev/nodepool: web}\n"
    "status:\n  allocatable: {cpu: '20', memory: 80Gi, pods: '110'}\n"
    "---\napiVersion: v1\nkind: Pod\nmetadata: {name: x, namespace: default}\n"
    "spec:\n  nodeName: w1\n"
    "  containers: [{name: c, image: x, resources: {requests: {cpu: '3', memory: 1Gi}}}]\n";

typedef struct fixture {
    char dir[256];
    char varied[300], no_hook[300];
    hoist_resource_names names;
    hoist_policy *shipped, *varied_p;
} fixture;

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f)
        fail_msg("cannot write %s", path);
    fputs(text, f);
    fclose(f);
}

static hoist_policy *load(const char *path)
{
    hoist_policy_limits limits = hoist_policy_limits_default();
    hoist_err err = {{0}};
    hoist_policy *p = hoist_policy_load(path, &limits, &err);
    if (!p)
        fail_msg("%s", err.msg);
    return p;
}

static int setup(void **state)
{
    static fixture f;
    memset(&f, 0, sizeof f);
    const char *tmp = getenv("TMPDIR");
    snprintf(f.dir, sizeof f.dir, "%s/test_headroom_hook.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(f.dir))
        fail_msg("mkdtemp %s failed", f.dir);
    snprintf(f.varied, sizeof f.varied, "%s/varied.lua", f.dir);
    snprintf(f.no_hook, sizeof f.no_hook, "%s/no_hook.lua", f.dir);
    write_file(f.varied, VARIED);
    write_file(f.no_hook, NO_HOOK);
    char shipped[4096];
    const char *src = getenv("HOIST_SRCDIR");
    snprintf(shipped, sizeof shipped, "%s/policies/headroom.lua", src && *src ? src : "..");
    f.shipped = load(shipped);
    f.varied_p = load(f.varied);
    hoist_resource_names_init(&f.names);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    hoist_policy_free(f->shipped);
    hoist_policy_free(f->varied_p);
    hoist_resource_names_free(&f->names);
    unlink(f->varied);
    unlink(f->no_hook);
    rmdir(f->dir);
    return 0;
}

/* A NodePool called name with usage cpu / memory (milli) over `nodes` nodes. */
static void pool_and_usage(hoist_nodepool *np, const char *name, hoist_headroom_usage *u,
                           hoist_milli cpu, hoist_milli mem)
{
    memset(np, 0, sizeof *np);
    np->name = name;
    memset(u, 0, sizeof *u);
    u->n_nodes = 2;
    u->allocatable.v[HOIST_RES_CPU] = cpu;
    u->allocatable.v[HOIST_RES_MEMORY] = mem;
    u->requested.v[HOIST_RES_CPU] = cpu / 4;
    u->requested.v[HOIST_RES_MEMORY] = mem / 8;
}

static void test_shipped_policy_ten_percent(void **state)
{
    fixture *f = *state;
    hoist_policy_headroom ph;
    hoist_policy_headroom_init(&ph, f->shipped, &f->names);
    assert_true(hoist_policy_headroom_defined(&ph));
    hoist_nodepool np;
    hoist_headroom_usage u;
    pool_and_usage(&np, "default", &u, HOIST_MILLI(64), 256 * MILLI_GI);
    hoist_resources want;
    memset(&want, 0x5a, sizeof want);
    assert_int_equal(hoist_policy_headroom_want(&ph, &np, &u, &want), 0);
    assert_int_equal(want.v[HOIST_RES_CPU], 6400);
    /* floor(256Gi / 10) bytes */
    assert_int_equal(want.v[HOIST_RES_MEMORY], 27487790694LL * 1000);
    for (int i = HOIST_RES_MEMORY + 1; i < HOIST_RES_MAX; i++)
        assert_int_equal(want.v[i], 0);
    /* 500m cpu and 3Gi: 50m and floor(3Gi / 10) */
    pool_and_usage(&np, "default", &u, 500, 3 * MILLI_GI);
    assert_int_equal(hoist_policy_headroom_want(&ph, &np, &u, &want), 0);
    assert_int_equal(want.v[HOIST_RES_CPU], 50);
    assert_int_equal(want.v[HOIST_RES_MEMORY], (3 * GI / 10) * 1000);
    /* an empty NodePool asks nothing */
    pool_and_usage(&np, "default", &u, 0, 0);
    assert_int_equal(hoist_policy_headroom_want(&ph, &np, &u, &want), 0);
    assert_true(hoist_resources_is_zero(&want));
    assert_int_equal(ph.calls, 3);
    assert_int_equal(ph.errors, 0);
    assert_string_equal(ph.last_error.msg, "");
}

/* Call the varied policy for NodePool `name`; returns the callback's rc. */
static int ask(fixture *f, hoist_policy_headroom *ph, const char *name, hoist_resources *want)
{
    hoist_nodepool np;
    hoist_headroom_usage u;
    pool_and_usage(&np, name, &u, HOIST_MILLI(8), 32 * MILLI_GI);
    (void)f;
    return hoist_policy_headroom_want(ph, &np, &u, want);
}

static void test_numbers_and_quantities(void **state)
{
    fixture *f = *state;
    hoist_policy_headroom ph;
    hoist_policy_headroom_init(&ph, f->varied_p, &f->names);
    hoist_resources want;
    assert_int_equal(ask(f, &ph, "strings", &want), 0);
    assert_int_equal(want.v[HOIST_RES_CPU], 500);
    assert_int_equal(want.v[HOIST_RES_MEMORY], 8 * MILLI_GI);
    assert_int_equal(ask(f, &ph, "numbers", &want), 0);
    assert_int_equal(want.v[HOIST_RES_CPU], 1500);
    assert_int_equal(want.v[HOIST_RES_MEMORY], MILLI_GI);
    /* finer than a milli-unit rounds up */
    assert_int_equal(ask(f, &ph, "fraction", &want), 0);
    assert_int_equal(want.v[HOIST_RES_CPU], 1);
    assert_int_equal(want.v[HOIST_RES_MEMORY], 500);
    memset(&want, 0x5a, sizeof want);
    assert_int_equal(ask(f, &ph, "empty", &want), 0);
    assert_true(hoist_resources_is_zero(&want));
    memset(&want, 0x5a, sizeof want);
    assert_int_equal(ask(f, &ph, "partial", &want), 0);
    assert_int_equal(want.v[HOIST_RES_CPU], 0);
    assert_int_equal(want.v[HOIST_RES_MEMORY], 1024LL * 1024 * 1000);
    /* the argument's quantities read back: requested cpu 2, capacity 32Gi */
    assert_int_equal(ask(f, &ph, "echo", &want), 0);
    assert_int_equal(want.v[HOIST_RES_CPU], 2000);
    assert_int_equal(want.v[HOIST_RES_MEMORY], 32 * MILLI_GI);
    assert_int_equal(ph.errors, 0);
}

/* The nodepool table: name, weight, labels, nodes, capacity, requested. */
static void test_nodepool_shape(void **state)
{
    fixture *f = *state;
    hoist_objects o;
    hoist_objects_init(&o);
    hoist_err err = {{0}};
    static const char np_yaml[] =
        "apiVersion: hoist.dev/v1\nkind: NodePool\nmetadata: {name: shape}\n"
        "spec:\n  weight: 7\n  template:\n    metadata: {labels: {team: web}}\n"
        "    spec: {requirements: []}\n";
    if (hoist_objects_load_buffer(&o, "np.yaml", np_yaml, sizeof np_yaml - 1, &err) < 0)
        fail_msg("%s", err.msg);
    hoist_policy_headroom ph;
    hoist_policy_headroom_init(&ph, f->varied_p, &o.names);
    hoist_headroom_usage u;
    memset(&u, 0, sizeof u);
    u.n_nodes = 3;
    u.allocatable.v[HOIST_RES_PODS] = HOIST_MILLI(30);
    u.requested.v[HOIST_RES_PODS] = HOIST_MILLI(2);
    hoist_resources want;
    int rc = hoist_policy_headroom_want(&ph, o.nodepools[0], &u, &want);
    if (rc < 0)
        fail_msg("%s", ph.last_error.msg);
    assert_int_equal(want.v[HOIST_RES_CPU], HOIST_MILLI(3));
    hoist_objects_free(&o);
}

/* Each bad result: -1, counted, *want untouched, the message names it. */
static void expect_failure(fixture *f, hoist_policy_headroom *ph, const char *name,
                           const char *why)
{
    hoist_resources want;
    memset(&want, 0x5a, sizeof want);
    hoist_resources before = want;
    size_t errors = ph->errors;
    if (ask(f, ph, name, &want) != -1)
        fail_msg("%s: expected a failure", name);
    assert_int_equal(ph->errors, errors + 1);
    assert_memory_equal(&want, &before, sizeof want);
    if (!strstr(ph->last_error.msg, why))
        fail_msg("%s: message \"%s\" lacks \"%s\"", name, ph->last_error.msg, why);
    assert_non_null(strstr(ph->last_error.msg, "varied.lua"));
}

static void test_bad_results(void **state)
{
    fixture *f = *state;
    hoist_policy_headroom ph;
    hoist_policy_headroom_init(&ph, f->varied_p, &f->names);
    expect_failure(f, &ph, "abc", "headroom: cpu: invalid quantity \"abc\"");
    expect_failure(f, &ph, "negative", "headroom: memory: expected a number >= 0, got -1");
    expect_failure(f, &ph, "negstring", "headroom: cpu: invalid quantity \"-2\"");
    expect_failure(f, &ph, "nested",
                   "headroom: cpu: expected a number or a quantity string, got an array");
    expect_failure(f, &ph, "boolean",
                   "headroom: memory: expected a number or a quantity string, got a boolean");
    expect_failure(f, &ph, "unknown", "headroom: unknown field gpu (expected cpu or memory)");
    expect_failure(f, &ph, "nan", "hook headroom returned a non-finite number at .cpu");
    expect_failure(f, &ph, "huge", "headroom: cpu: 1e+300 is too large");
    expect_failure(f, &ph, "string", "headroom: returned a string; expected a table {cpu, memory}");
    expect_failure(f, &ph, "list", "headroom: returned an array; expected a table");
    expect_failure(f, &ph, "boom", "varied.lua:27: boom");
    expect_failure(f, &ph, "nothing", "headroom: returned nil; expected a table");
    assert_int_equal(ph.calls, 12);
    assert_int_equal(ph.errors, 12);
    /* the state stays usable */
    hoist_resources want;
    assert_int_equal(ask(f, &ph, "strings", &want), 0);
    assert_int_equal(want.v[HOIST_RES_CPU], 500);
    assert_int_equal(ph.errors, 12);
}

/* The consolidate stage's callback measures the NodePool on the snapshot
 * itself; attach wires it only when the policy defines headroom. */
static void test_want_now_and_attach(void **state)
{
    fixture *f = *state;
    hoist_objects o;
    hoist_objects_init(&o);
    hoist_err err = {{0}};
    if (hoist_objects_load_buffer(&o, "snap.yaml", SNAPSHOT, sizeof SNAPSHOT - 1, &err) < 0)
        fail_msg("%s", err.msg);
    hoist_policy_headroom ph;
    hoist_policy_headroom_init(&ph, f->shipped, NULL);
    hoist_resources want;
    memset(&want, 0x5a, sizeof want);
    hoist_resources before = want;
    /* no snapshot yet: a failure */
    assert_int_equal(hoist_policy_headroom_want_now(&ph, o.nodepools[0], &want), -1);
    assert_non_null(strstr(ph.last_error.msg, "no snapshot"));
    assert_memory_equal(&want, &before, sizeof want);
    assert_int_equal(ph.errors, 1);
    ph.objects = &o;
    assert_int_equal(hoist_policy_headroom_want_now(&ph, o.nodepools[0], &want), 0);
    assert_int_equal(want.v[HOIST_RES_CPU], 2000);              /* 10 % of 20 */
    assert_int_equal(want.v[HOIST_RES_MEMORY], 8 * GI * 1000);  /* 10 % of 80Gi */
    assert_int_equal(ph.calls, 2);

    hoist_consolidate_options opts;
    memset(&opts, 0, sizeof opts);
    hoist_policy_headroom_attach_consolidate(&ph, &opts);
    assert_true(opts.headroom == hoist_policy_headroom_want_now);
    assert_ptr_equal(opts.headroom_ctx, &ph);
    /* the stage's call goes through the pointer it was given */
    assert_int_equal(opts.headroom(opts.headroom_ctx, o.nodepools[0], &want), 0);
    assert_int_equal(want.v[HOIST_RES_CPU], 2000);

    hoist_policy *none = load(f->no_hook);
    hoist_policy_headroom bare;
    hoist_policy_headroom_init(&bare, none, NULL);
    assert_false(hoist_policy_headroom_defined(&bare));
    memset(&opts, 0, sizeof opts);
    hoist_policy_headroom_attach_consolidate(&bare, &opts);
    assert_null(opts.headroom);
    assert_null(opts.headroom_ctx);
    hoist_policy_free(none);
    hoist_objects_free(&o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped_policy_ten_percent),
        cmocka_unit_test(test_numbers_and_quantities),
        cmocka_unit_test(test_nodepool_shape),
        cmocka_unit_test(test_bad_results),
        cmocka_unit_test(test_want_now_and_attach),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
