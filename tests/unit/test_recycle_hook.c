/*
 * tests/unit/test_recycle_hook.c - the Lua recycle hook (policy/recycle_hook.h)
 * through the consolidate stage: the shipped recycle-family and expire-ttl
 * policies change which nodes of the same snapshot are replaced; the node
 * table the hook sees; failures (wrong result types, error(), a loop) keep
 * the node and are counted with file:line.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pipeline/consolidate.h"
#include "policy/policy.h"
#include "policy/recycle_hook.h"

#define NOW 1704067200LL /* 2024-01-01T00:00:00Z */
#define DAY 86400LL

static char path_buf[4096];

/* A file of the source tree. */
static const char *src_path(const char *rel)
{
    const char *src = getenv("HOIST_SRCDIR");
    snprintf(path_buf, sizeof path_buf, "%s/%s", src ? src : "..", rel);
    return path_buf;
}

static hoist_policy *load_policy(const char *rel, const hoist_policy_limits *limits)
{
    hoist_err err = {{0}};
    hoist_policy *p = hoist_policy_load(src_path(rel), limits, &err);
    if (!p)
        fail_msg("load %s: %s", rel, err.msg);
    return p;
}

typedef struct text {
    char buf[16384];
    size_t len;
} text;

static void add(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(text *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->buf + t->len, sizeof t->buf - t->len, fmt, ap);
    va_end(ap);
    assert_true(n >= 0 && (size_t)n < sizeof t->buf - t->len);
    t->len += (size_t)n;
}

static void add_pools(text *t)
{
    for (int i = 0; i < 2; i++)
        add(t, "---\napiVersion: karpenter.sh/v1\nkind: NodePool\nmetadata: {name: %s}\n"
               "spec:\n  template:\n    spec:\n      expireAfter: Never\n"
               "      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, "
               "name: default}\n"
               "  disruption:\n    consolidateAfter: 0s\n    budgets: [{nodes: \"100%%\"}]\n",
            i ? "general" : "gpu");
}

/* A Ready node `age` seconds old; with a pod on it when busy. */
static void add_node(text *t, const char *name, const char *pool, const char *type, int64_t age,
                     bool busy)
{
    char ts[32];
    time_t tt = (time_t)(NOW - age);
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
    add(t, "---\napiVersion: v1\nkind: Node\nmetadata:\n  name: %s\n  creationTimestamp: \"%s\"\n"
           "  labels:\n    karpenter.sh/nodepool: %s\n    node.kubernetes.io/instance-type: %s\n"
           "    topology.kubernetes.io/zone: us-east-1a\n"
           "    karpenter.sh/capacity-type: on-demand\n"
           "status:\n  allocatable: {cpu: \"4\", memory: 16Gi, pods: \"58\"}\n"
           "  conditions: [{type: Ready, status: \"True\"}]\n",
        name, ts, pool, type);
    if (busy)
        add(t, "---\napiVersion: v1\nkind: Pod\nmetadata: {name: %s-pod, namespace: default}\n"
               "spec:\n  nodeName: %s\n  containers: [{name: c, resources: {requests: "
               "{cpu: \"1\"}}}]\nstatus: {phase: Running}\n",
            name, name);
}

/* The same five nodes for every policy. */
static void fleet(hoist_objects *o)
{
    text t = {.len = 0};
    add_pools(&t);
    add_node(&t, "g5-20d", "gpu", "g5.xlarge", 20 * DAY, true);
    add_node(&t, "g5-3d", "gpu", "g5.xlarge", 3 * DAY, true);
    add_node(&t, "g5-8d", "gpu", "g5.2xlarge", 8 * DAY, true);
    add_node(&t, "m5-8d", "general", "m5.large", 8 * DAY, true);
    add_node(&t, "m5-3d", "general", "m5.large", 3 * DAY, true);
    hoist_err err = {{0}};
    hoist_objects_init(o);
    if (hoist_objects_load_buffer(o, "fleet.yaml", t.buf, t.len, &err) != 0)
        fail_msg("load: %s", err.msg);
}

/* Run the stage on o with policy p (NULL: the C defaults only). */
static void consolidate(const hoist_objects *o, hoist_policy *p, const hoist_catalog *cat,
                        hoist_policy_recycle *pr, hoist_consolidation *out)
{
    hoist_consolidator s;
    hoist_consolidator_init(&s);
    hoist_consolidate_options opts = {0};
    opts.now_s = NOW;
    opts.catalog = cat;
    hoist_policy_recycle_init(pr, p);
    hoist_policy_recycle_attach(pr, &opts);
    hoist_err err = {{0}};
    if (hoist_consolidate_compute(&s, o, &opts, out, &err) != 0)
        fail_msg("compute: %s", err.msg);
    hoist_consolidator_free(&s);
}

static void test_without_policy(void **state)
{
    (void)state;
    hoist_objects o;
    fleet(&o);
    hoist_policy_recycle pr;
    hoist_consolidation c;
    consolidate(&o, NULL, NULL, &pr, &c);
    assert_int_equal(c.n, 0);
    assert_int_equal(c.n_blocked, 0);
    assert_int_equal(c.hook_calls, 0);
    hoist_consolidation_free(&c);
    hoist_objects_free(&o);
}

static void test_recycle_family(void **state)
{
    (void)state;
    hoist_objects o;
    fleet(&o);
    hoist_policy *p = load_policy("policies/recycle-family.lua", NULL);
    hoist_policy_recycle pr;
    hoist_consolidation c;
    consolidate(&o, p, NULL, &pr, &c);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.items[0].node->name, "g5-20d");
    assert_int_equal(c.items[0].reason, HOIST_DISRUPT_RECYCLE);
    assert_string_equal(c.items[0].nodepool->name, "gpu");
    assert_string_equal(c.items[0].detail,
                        "family g5 is recycled after 14 days (node is 20.0 days old)");
    assert_int_equal(c.items[0].n_pods, 1);
    assert_string_equal(c.items[0].pods[0]->name, "g5-20d-pod");
    assert_int_equal(c.n_blocked, 0);
    assert_int_equal(c.hook_calls, 5);
    assert_int_equal(c.hook_errors, 0);
    assert_int_equal(pr.calls, 5);
    assert_int_equal(pr.errors, 0);
    assert_string_equal(pr.last_error.msg, "");
    hoist_consolidation_free(&c);
    hoist_policy_free(p);
    hoist_objects_free(&o);
}

static void test_expire_ttl(void **state)
{
    (void)state;
    hoist_objects o;
    fleet(&o);
    hoist_policy *p = load_policy("policies/expire-ttl.lua", NULL);
    hoist_policy_recycle pr;
    hoist_consolidation c;
    consolidate(&o, p, NULL, &pr, &c);
    /* the 8-day-old m5 goes; the 8-day-old g5 (a GPU family) and the young m5 stay */
    assert_int_equal(c.n, 1);
    assert_string_equal(c.items[0].node->name, "m5-8d");
    assert_int_equal(c.items[0].reason, HOIST_DISRUPT_RECYCLE);
    assert_string_equal(c.items[0].detail, "expired: older than 7 days");
    assert_int_equal(c.hook_calls, 5);
    assert_int_equal(c.hook_errors, 0);
    hoist_consolidation_free(&c);
    hoist_policy_free(p);
    hoist_objects_free(&o);
}

/* The node table the hook sees, with and without a catalog. */
static void test_node_table(void **state)
{
    (void)state;
    hoist_offering off = {sizeof(hoist_offering), "us-east-1a", HOIST_CAPACITY_ON_DEMAND, 1.006,
                          true, 0};
    hoist_instance_type it;
    memset(&it, 0, sizeof it);
    it.struct_size = sizeof it;
    it.name = "g5.xlarge";
    it.family = "g5";
    it.generation = 5;
    it.offerings = &off;
    it.n_offerings = 1;
    hoist_catalog cat;
    hoist_catalog_init(&cat);
    hoist_err err = {{0}};
    if (hoist_catalog_copy(&cat, &it, 1, &err) != 0)
        fail_msg("catalog: %s", err.msg);

    hoist_objects o;
    fleet(&o);
    hoist_policy *p = load_policy("tests/data/consolidate/recycle-echo.lua", NULL);
    hoist_policy_recycle pr;
    hoist_consolidation c;
    consolidate(&o, p, &cat, &pr, &c);
    assert_int_equal(c.n, 5);
    const hoist_disruption *d = NULL;
    for (size_t i = 0; i < c.n; i++)
        if (!strcmp(c.items[i].node->name, "g5-20d"))
            d = &c.items[i];
    assert_non_null(d);
    assert_string_equal(d->detail, "g5-20d|gpu|g5.xlarge|g5|integer|5|us-east-1a|on-demand|"
                                   "integer|1728000|1.006|1|gpu");
    assert_float_equal(d->price, 1.006, 1e-12);
    hoist_consolidation_free(&c);

    /* without a catalog: family from the type's name, generation and price 0 */
    consolidate(&o, p, NULL, &pr, &c);
    for (size_t i = 0; i < c.n; i++)
        if (!strcmp(c.items[i].node->name, "m5-3d"))
            assert_string_equal(c.items[i].detail, "m5-3d|general|m5.large|m5|integer|0|"
                                                   "us-east-1a|on-demand|integer|259200|0.000|1|"
                                                   "general");
    hoist_consolidation_free(&c);
    hoist_policy_free(p);
    hoist_objects_free(&o);
    hoist_catalog_free(&cat);
}

/* One node called `name` (busy or empty), with the failing policy. */
static void run_bad(hoist_policy *p, const char *name, bool busy, hoist_policy_recycle *pr,
                    hoist_consolidation *c)
{
    text t = {.len = 0};
    add_pools(&t);
    add_node(&t, name, "general", "m5.large", 30 * DAY, busy);
    hoist_objects o;
    hoist_err err = {{0}};
    hoist_objects_init(&o);
    if (hoist_objects_load_buffer(&o, "bad.yaml", t.buf, t.len, &err) != 0)
        fail_msg("load: %s", err.msg);
    consolidate(&o, p, NULL, pr, c);
    /* the decision borrows nodes from o: keep only what the caller checks */
    for (size_t i = 0; i < c->n; i++) {
        c->items[i].node = NULL;
        c->items[i].nodepool = NULL;
        c->items[i].pods = NULL;
    }
    hoist_objects_free(&o);
}

static void expect_failure(hoist_policy *p, const char *node, const char *want)
{
    hoist_policy_recycle pr;
    hoist_consolidation c;
    run_bad(p, node, true, &pr, &c);
    assert_int_equal(c.n, 0); /* kept */
    assert_int_equal(c.n_blocked, 0);
    assert_int_equal(c.hook_calls, 1);
    assert_int_equal(c.hook_errors, 1);
    assert_int_equal(pr.calls, 1);
    assert_int_equal(pr.errors, 1);
    if (!strstr(pr.last_error.msg, want))
        fail_msg("%s: last_error \"%s\" lacks \"%s\"", node, pr.last_error.msg, want);
    hoist_consolidation_free(&c);
}

static void test_failures(void **state)
{
    (void)state;
    hoist_policy_limits lim = hoist_policy_limits_default();
    lim.max_instructions = 200000;
    lim.budget_ms = 5000; /* the instruction limit stops the loop first */
    hoist_policy *p = load_policy("tests/data/consolidate/recycle-bad.lua", &lim);
    expect_failure(p, "n-number", "recycle-bad.lua: recycle returned a number for node n-number; "
                                  "expected nil or a non-empty string");
    expect_failure(p, "n-empty", "recycle-bad.lua: recycle returned an empty string for node "
                                 "n-empty");
    expect_failure(p, "n-table", "recycle-bad.lua: recycle returned a table");
    expect_failure(p, "n-bool", "recycle-bad.lua: recycle returned a boolean");
    expect_failure(p, "n-error", "recycle-bad.lua:15: cannot decide about n-error");
    expect_failure(p, "n-loop", "recycle-bad.lua:17:");

    /* a node it returns nil for is kept without a failure */
    hoist_policy_recycle pr;
    hoist_consolidation c;
    run_bad(p, "n-fine", true, &pr, &c);
    assert_int_equal(c.n, 0);
    assert_int_equal(c.hook_calls, 1);
    assert_int_equal(c.hook_errors, 0);
    hoist_consolidation_free(&c);

    /* a failed hook leaves the decision to the C defaults: an empty node still goes */
    run_bad(p, "n-error", false, &pr, &c);
    assert_int_equal(c.n, 1);
    assert_int_equal(c.items[0].reason, HOIST_DISRUPT_EMPTY);
    assert_int_equal(c.hook_errors, 1);
    hoist_consolidation_free(&c);

    hoist_policy_stats st = hoist_policy_stats_get(p);
    assert_int_equal(st.calls, 8);
    /* the host counts the calls that failed in Lua (two error()s and the loop); wrong
     * result types are this hook's failures, counted above */
    assert_int_equal(st.errors, 3);
    assert_int_equal(st.timeouts, 1);
    hoist_policy_free(p);
}

static void test_attach(void **state)
{
    (void)state;
    hoist_consolidate_options opts = {0};
    hoist_policy_recycle pr;
    hoist_policy_recycle_init(&pr, NULL);
    hoist_policy_recycle_attach(&pr, &opts);
    assert_null(opts.recycle);
    hoist_policy *p = load_policy("tests/data/consolidate/no-recycle.lua", NULL);
    hoist_policy_recycle_init(&pr, p);
    hoist_policy_recycle_attach(&pr, &opts);
    assert_null(opts.recycle);
    assert_null(opts.recycle_ctx);
    hoist_policy_free(p);
    p = load_policy("policies/expire-ttl.lua", NULL);
    hoist_policy_recycle_init(&pr, p);
    hoist_policy_recycle_attach(&pr, &opts);
    assert_ptr_equal(opts.recycle, hoist_policy_recycle_decide);
    assert_ptr_equal(opts.recycle_ctx, &pr);
    hoist_policy_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_without_policy), cmocka_unit_test(test_recycle_family),
        cmocka_unit_test(test_expire_ttl),     cmocka_unit_test(test_node_table),
        cmocka_unit_test(test_failures),       cmocka_unit_test(test_attach),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
