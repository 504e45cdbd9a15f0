/*
 * tests/unit/test_consolidate.c - the consolidate stage (pipeline/consolidate.h)
 * on snapshots built from YAML text: consolidateAfter on a caller-given clock,
 * expiry, do-not-disrupt, NodePool disruption budgets (counts, percents,
 * reasons, cron schedules, disruptions in progress), headroom, non-hoist
 * nodes, ordering, and the cron parser.
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

#include <jansson.h>

#include "pipeline/consolidate.h"
#include "state/cluster.h"

/* Monday 2024-01-01 00:00:00 UTC. */
#define MONDAY 1704067200LL
#define HOUR 3600LL
#define DAY 86400LL

/* ---- snapshot text ---- */

typedef struct text {
    char buf[32768];
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

/* A NodePool expiring nodes after `expire` (NULL: the default 720h);
 * `disruption` is the YAML under spec.disruption (indented 4). */
static void add_pool_ex(text *t, const char *name, const char *expire, const char *disruption)
{
    add(t, "---\napiVersion: hoist.dev/v1\nkind: NodePool\nmetadata: {name: %s}\n"
           "spec:\n  template:\n    spec:\n      expireAfter: %s\n"
           "      nodeClassRef: {group: hoist.dev, kind: MockNodeClass, name: default}\n"
           "  disruption:\n%s",
        name, expire ? expire : "720h", disruption ? disruption : "    consolidateAfter: 0s\n");
}

static void add_pool(text *t, const char *name, const char *disruption)
{
    add_pool_ex(t, name, NULL, disruption);
}

/* A node of `pool` (NULL: no nodepool label), created at `created`. */
static void add_node_ex(text *t, const char *name, const char *pool, const char *type,
                        int64_t created, const char *ready, const char *extra_labels,
                        const char *cpu, const char *mem)
{
    char ts[32];
    time_t tt = (time_t)created;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
    add(t, "---\napiVersion: v1\nkind: Node\nmetadata:\n  name: %s\n  creationTimestamp: \"%s\"\n"
           "  labels:\n    node.kubernetes.io/instance-type: %s\n"
           "    topology.kubernetes.io/zone: us-east-1a\n",
        name, ts, type);
    if (pool)
        add(t, "    hoist.dev/nodepool: %s\n", pool);
    if (extra_labels)
        add(t, "%s", extra_labels);
    add(t, "status:\n  allocatable: {cpu: \"%s\", memory: %s, pods: \"110\"}\n"
           "  conditions:\n  - {type: Ready, status: \"%s\"}\n",
        cpu, mem, ready);
}

static void add_node(text *t, const char *name, const char *pool, int64_t created)
{
    add_node_ex(t, name, pool, "m5.large", created, "True", NULL, "2", "8Gi");
}

/* A pod bound to `node`; `extra_meta` is YAML under metadata (indented 2). */
static void add_pod_ex(text *t, const char *name, const char *node, const char *extra_meta,
                       int priority, const char *cpu, const char *phase)
{
    add(t, "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: %s\n  namespace: default\n%s"
           "spec:\n  nodeName: %s\n  priority: %d\n  containers:\n  - name: c\n"
           "    resources: {requests: {cpu: \"%s\", memory: 1Gi}}\nstatus: {phase: %s}\n",
        name, extra_meta ? extra_meta : "", node, priority, cpu, phase);
}

static void add_pod(text *t, const char *name, const char *node)
{
    add_pod_ex(t, name, node, NULL, 0, "100m", "Running");
}

static void add_ds_pod(text *t, const char *name, const char *node)
{
    add_pod_ex(t, name, node,
               "  ownerReferences: [{apiVersion: apps/v1, kind: DaemonSet, name: agent, "
               "uid: u1, controller: true}]\n",
               0, "50m", "Running");
}

static void load(hoist_objects *o, const text *t)
{
    hoist_err err = {{0}};
    hoist_objects_init(o);
    if (hoist_objects_load_buffer(o, "test.yaml", t->buf, t->len, &err) != 0)
        fail_msg("load: %s\n%s", err.msg, t->buf);
}

/* Run the stage at `now` with the given options (now is set here). */
static void run(hoist_consolidator *s, const hoist_objects *o, hoist_consolidate_options *opts,
                int64_t now, hoist_consolidation *out)
{
    hoist_err err = {{0}};
    opts->now_s = now;
    if (hoist_consolidate_compute(s, o, opts, out, &err) != 0)
        fail_msg("compute: %s", err.msg);
}

static const hoist_disruption *find_decided(const hoist_consolidation *c, const char *node)
{
    for (size_t i = 0; i < c->n; i++)
        if (!strcmp(c->items[i].node->name, node))
            return &c->items[i];
    return NULL;
}

static const hoist_disruption_blocked *find_blocked(const hoist_consolidation *c,
                                                    const char *node)
{
    for (size_t i = 0; i < c->n_blocked; i++)
        if (!strcmp(c->blocked[i].node->name, node))
            return &c->blocked[i];
    return NULL;
}

/* A C recycle callback: recycles nodes whose name starts with "r-". */
static int recycle_r(void *ctx, const hoist_recycle_view *v, bool *recycle, char *reason,
                     size_t cap)
{
    (void)ctx;
    *recycle = !strncmp(v->node->name, "r-", 2);
    if (*recycle)
        snprintf(reason, cap, "test recycles %s", v->node->name);
    return 0;
}

/* ---- consolidateAfter and emptiness ---- */

static void test_empty_after_window(void **state)
{
    (void)state;
    text t = {.len = 0};
    add_pool(&t, "default", "    consolidateAfter: 30s\n    budgets: [{nodes: \"100%\"}]\n");
    add_node(&t, "n1", "default", MONDAY - DAY);
    add_ds_pod(&t, "agent-n1", "n1");               /* DaemonSet pods don't count */
    add_pod_ex(&t, "job-done", "n1", NULL, 0, "1", "Succeeded"); /* nor finished ones */
    hoist_objects o;
    load(&o, &t);
    hoist_consolidator s;
    hoist_consolidator_init(&s);
    hoist_consolidate_options opts = {0};
    hoist_consolidation c;

    run(&s, &o, &opts, MONDAY, &c); /* first sight: records the time */
    assert_int_equal(c.n, 0);
    assert_int_equal(c.n_blocked, 0);
    hoist_consolidation_free(&c);
    run(&s, &o, &opts, MONDAY + 29, &c);
    assert_int_equal(c.n, 0);
    hoist_consolidation_free(&c);
    run(&s, &o, &opts, MONDAY + 30, &c);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.items[0].node->name, "n1");
    assert_int_equal(c.items[0].reason, HOIST_DISRUPT_EMPTY);
    assert_string_equal(c.items[0].nodepool->name, "default");
    assert_int_equal(c.items[0].n_pods, 0);
    assert_string_equal(c.items[0].detail, "empty for 30s (consolidateAfter 30s)");
    assert_string_equal(hoist_disruption_reason_name(c.items[0].reason), "empty");
    hoist_consolidation_free(&c);
    hoist_objects_free(&o);

    /* a workload pod arrives at +40: the node forgets when it became empty */
    text busy = {.len = 0};
    memcpy(busy.buf, t.buf, t.len);
    busy.len = t.len;
    add_pod(&busy, "web-0", "n1");
    load(&o, &busy);
    run(&s, &o, &opts, MONDAY + 40, &c);
    assert_int_equal(c.n, 0);
    assert_int_equal(s.empty_since.n, 0);
    hoist_consolidation_free(&c);
    hoist_objects_free(&o);

    /* it leaves at +50: empty again from +50, decided only from +80 */
    load(&o, &t);
    run(&s, &o, &opts, MONDAY + 50, &c);
    assert_int_equal(c.n, 0);
    hoist_consolidation_free(&c);
    run(&s, &o, &opts, MONDAY + 79, &c);
    assert_int_equal(c.n, 0);
    hoist_consolidation_free(&c);
    run(&s, &o, &opts, MONDAY + 80, &c);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.items[0].detail, "empty for 30s (consolidateAfter 30s)");
    hoist_consolidation_free(&c);

    hoist_consolidator_free(&s);
    hoist_objects_free(&o);
}

/* Not Ready, unschedulable, consolidateAfter Never and gone nodes. */
static void test_empty_skips(void **state)
{
    (void)state;
    text t = {.len = 0};
    add_pool(&t, "default", "    consolidateAfter: 0s\n    budgets: [{nodes: \"100%\"}]\n");
    add_pool(&t, "never", "    consolidateAfter: Never\n");
    add_node_ex(&t, "notready", "default", "m5.large", MONDAY, "False", NULL, "2", "8Gi");
    add_node(&t, "cordoned", "default", MONDAY);
    add(&t, "spec: {unschedulable: true}\n");
    add_node(&t, "kept", "never", MONDAY);
    add_node(&t, "ok", "default", MONDAY);
    hoist_objects o;
    load(&o, &t);
    hoist_consolidator s;
    hoist_consolidator_init(&s);
    hoist_consolidate_options opts = {0};
    hoist_consolidation c;
    run(&s, &o, &opts, MONDAY + HOUR, &c);
    assert_int_equal(c.n, 1); /* consolidateAfter 0s: at once */
    assert_string_equal(c.items[0].node->name, "ok");
    assert_int_equal(c.n_blocked, 0);
    hoist_consolidation_free(&c);
    run(&s, &o, &opts, MONDAY + 10 * DAY, &c);
    assert_null(find_decided(&c, "notready"));
    assert_null(find_decided(&c, "cordoned"));
    assert_null(find_decided(&c, "kept"));
    hoist_consolidation_free(&c);
    hoist_objects_free(&o);

    /* a snapshot without those nodes: the stage forgets them */
    assert_true(s.empty_since.n >= 2);
    text none = {.len = 0};
    add_pool(&none, "default", NULL);
    load(&o, &none);
    run(&s, &o, &opts, MONDAY + 11 * DAY, &c);
    assert_int_equal(c.n, 0);
    assert_int_equal(s.empty_since.n, 0);
    hoist_consolidation_free(&c);
    hoist_consolidator_free(&s);
    hoist_objects_free(&o);
}

/* ---- expiry and do-not-disrupt ---- */

static void test_expired_forceful(void **state)
{
    (void)state;
    text t = {.len = 0};
    add_pool_ex(&t, "default", "24h", "    consolidateAfter: 0s\n    budgets: [{nodes: \"0\"}]\n");
    add_node(&t, "old", "default", MONDAY - 2 * DAY);
    add_pod_ex(&t, "db-0", "old",
               "  annotations: {karpenter.sh/do-not-disrupt: \"true\"}\n", 0, "1", "Running");
    add_ds_pod(&t, "agent-old", "old");
    add_node(&t, "young", "default", MONDAY - HOUR);
    add_pod(&t, "web-0", "young");
    hoist_objects o;
    load(&o, &t);
    hoist_consolidator s;
    hoist_consolidator_init(&s);
    hoist_consolidate_options opts = {0};
    hoist_consolidation c;
    run(&s, &o, &opts, MONDAY, &c);
    assert_int_equal(c.n, 1);
    const hoist_disruption *d = &c.items[0];
    assert_string_equal(d->node->name, "old");
    assert_int_equal(d->reason, HOIST_DISRUPT_EXPIRED);
    assert_string_equal(d->detail, "age 2d reached expireAfter 1d");
    assert_int_equal(d->n_pods, 1); /* the DaemonSet pod is not evicted */
    assert_string_equal(d->pods[0]->name, "db-0");
    assert_int_equal(c.n_blocked, 0);
    hoist_consolidation_free(&c);
    hoist_consolidator_free(&s);
    hoist_objects_free(&o);
}

static void test_do_not_disrupt_blocks(void **state)
{
    (void)state;
    text t = {.len = 0};
    add_pool(&t, "default", "    consolidateAfter: 0s\n    budgets: [{nodes: \"100%\"}]\n");
    add_node_ex(&t, "pinned", "default", "m5.large", MONDAY, "True",
                "    hoist.dev/do-not-disrupt: \"true\"\n", "2", "8Gi");
    add_node(&t, "r-db", "default", MONDAY);
    add_pod_ex(&t, "db-0", "r-db", "  annotations: {hoist.dev/do-not-disrupt: \"true\"}\n", 0,
               "1", "Running");
    add_node(&t, "r-web", "default", MONDAY);
    add_pod(&t, "web-0", "r-web");
    add_node(&t, "free", "default", MONDAY);
    hoist_objects o;
    load(&o, &t);
    hoist_consolidator s;
    hoist_consolidator_init(&s);
    hoist_consolidate_options opts = {0};
    opts.recycle = recycle_r;
    hoist_consolidation c;
    run(&s, &o, &opts, MONDAY + HOUR, &c);
    assert_int_equal(c.n, 2);
    assert_non_null(find_decided(&c, "free"));
    const hoist_disruption *r = find_decided(&c, "r-web");
    assert_non_null(r);
    assert_int_equal(r->reason, HOIST_DISRUPT_RECYCLE);
    assert_string_equal(r->detail, "test recycles r-web");
    assert_int_equal(c.n_blocked, 2);
    const hoist_disruption_blocked *b = find_blocked(&c, "pinned");
    assert_non_null(b);
    assert_int_equal(b->reason, HOIST_DISRUPT_EMPTY);
    assert_string_equal(b->why, "node pinned has hoist.dev/do-not-disrupt=true");
    b = find_blocked(&c, "r-db");
    assert_non_null(b);
    assert_int_equal(b->reason, HOIST_DISRUPT_RECYCLE);
    assert_string_equal(b->why, "pod default/db-0 has do-not-disrupt");
    assert_int_equal(c.hook_calls, 4);
    assert_int_equal(c.hook_errors, 0);
    hoist_consolidation_free(&c);
    hoist_consolidator_free(&s);
    hoist_objects_free(&o);
}

/* ---- budgets ---- */

/* n empty nodes "e1".."en" in NodePool default with `disruption`; runs at `now`. */
static void run_empty_pool(int n, const char *disruption, const char *const *disrupting,
                           size_t n_disrupting, int64_t now, hoist_consolidation *c,
                           hoist_objects *o, hoist_consolidator *s)
{
    text t = {.len = 0};
    add_pool(&t, "default", disruption);
    add_pool(&t, "other", NULL);
    for (int i = 1; i <= n; i++) {
        char name[16];
        snprintf(name, sizeof name, "e%d", i);
        add_node(&t, name, "default", now - HOUR);
    }
    add_node(&t, "busy", "default", now - HOUR);
    add_pod(&t, "web-0", "busy");
    add_node(&t, "o1", "other", now - HOUR);
    add_pod(&t, "web-1", "o1");
    load(o, &t);
    hoist_consolidator_init(s);
    hoist_consolidate_options opts = {0};
    opts.disrupting = disrupting;
    opts.n_disrupting = n_disrupting;
    run(s, o, &opts, now, c);
}

static void free_run(hoist_consolidation *c, hoist_objects *o, hoist_consolidator *s)
{
    hoist_consolidation_free(c);
    hoist_consolidator_free(s);
    hoist_objects_free(o);
}

static void test_budget_count(void **state)
{
    (void)state;
    hoist_consolidation c;
    hoist_objects o;
    hoist_consolidator s;
    run_empty_pool(3, "    consolidateAfter: 0s\n    budgets: [{nodes: \"1\"}]\n", NULL, 0,
                   MONDAY, &c, &o, &s);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.items[0].node->name, "e1");
    assert_int_equal(c.n_blocked, 2);
    assert_string_equal(c.blocked[0].node->name, "e2");
    assert_string_equal(c.blocked[1].node->name, "e3");
    assert_string_equal(c.blocked[0].why,
                        "budget of NodePool default allows 1 node for Empty now (1 in progress)");
    free_run(&c, &o, &s);
}

static void test_budget_percent_rounds_up(void **state)
{
    (void)state;
    hoist_consolidation c;
    hoist_objects o;
    hoist_consolidator s;
    /* 4 nodes in the pool (3 empty + busy): 50% = 2 */
    run_empty_pool(3, "    consolidateAfter: 0s\n    budgets: [{nodes: \"50%\"}]\n", NULL, 0,
                   MONDAY, &c, &o, &s);
    assert_int_equal(c.n, 2);
    assert_int_equal(c.n_blocked, 1);
    free_run(&c, &o, &s);
    /* 3 nodes: 50% of 3 = 1.5, rounded up to 2 */
    text t = {.len = 0};
    add_pool(&t, "default", "    consolidateAfter: 0s\n    budgets: [{nodes: \"50%\"}]\n");
    add_node(&t, "a", "default", MONDAY);
    add_node(&t, "b", "default", MONDAY);
    add_node(&t, "c", "default", MONDAY);
    load(&o, &t);
    hoist_consolidator_init(&s);
    hoist_consolidate_options opts = {0};
    run(&s, &o, &opts, MONDAY, &c);
    assert_int_equal(c.n, 2);
    assert_string_equal(c.items[0].node->name, "a");
    assert_string_equal(c.items[1].node->name, "b");
    assert_int_equal(c.n_blocked, 1);
    assert_string_equal(c.blocked[0].node->name, "c");
    assert_string_equal(c.blocked[0].why,
                        "budget of NodePool default allows 2 nodes for Empty now (2 in progress)");
    free_run(&c, &o, &s);
    /* the default budget (10%) of 4 nodes rounds up to 1 */
    run_empty_pool(3, "    consolidateAfter: 0s\n", NULL, 0, MONDAY, &c, &o, &s);
    assert_int_equal(c.n, 1);
    assert_int_equal(c.n_blocked, 2);
    free_run(&c, &o, &s);
}

static void test_budget_counts_disrupting(void **state)
{
    (void)state;
    hoist_consolidation c;
    hoist_objects o;
    hoist_consolidator s;
    /* budget 2; e1 is already being disrupted, o1 (another pool) too, and an
     * unknown name: one more may go */
    const char *const disrupting[] = {"e1", "o1", "gone-node", "e1"};
    run_empty_pool(4, "    consolidateAfter: 0s\n    budgets: [{nodes: \"2\"}]\n", disrupting, 4,
                   MONDAY, &c, &o, &s);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.items[0].node->name, "e2");
    assert_null(find_decided(&c, "e1")); /* in progress: not decided again */
    assert_null(find_blocked(&c, "e1"));
    assert_int_equal(c.n_blocked, 2);
    free_run(&c, &o, &s);
    /* the same without the list: two go */
    run_empty_pool(4, "    consolidateAfter: 0s\n    budgets: [{nodes: \"2\"}]\n", NULL, 0, MONDAY,
                   &c, &o, &s);
    assert_int_equal(c.n, 2);
    free_run(&c, &o, &s);
}

static void test_budget_reasons(void **state)
{
    (void)state;
    text t = {.len = 0};
    add_pool(&t, "default", "    consolidateAfter: 0s\n    budgets:\n"
                            "    - {nodes: \"0\", reasons: [Drifted]}\n"
                            "    - {nodes: \"5\", reasons: [Empty, Underutilized]}\n");
    add_node(&t, "e1", "default", MONDAY);
    add_node(&t, "e2", "default", MONDAY);
    add_node(&t, "e3", "default", MONDAY);
    add_node(&t, "r-1", "default", MONDAY);
    add_pod(&t, "web-0", "r-1");
    hoist_objects o;
    load(&o, &t);
    hoist_consolidator s;
    hoist_consolidator_init(&s);
    hoist_consolidate_options opts = {0};
    opts.recycle = recycle_r;
    hoist_consolidation c;
    run(&s, &o, &opts, MONDAY, &c);
    /* the Drifted budget holds the recycle back but not the empty nodes */
    assert_int_equal(c.n, 3);
    for (size_t i = 0; i < c.n; i++)
        assert_int_equal(c.items[i].reason, HOIST_DISRUPT_EMPTY);
    assert_int_equal(c.n_blocked, 1);
    assert_string_equal(c.blocked[0].node->name, "r-1");
    assert_int_equal(c.blocked[0].reason, HOIST_DISRUPT_RECYCLE);
    assert_string_equal(c.blocked[0].why,
                        "budget of NodePool default allows 0 nodes for Drifted now "
                        "(0 in progress)");
    free_run(&c, &o, &s);
}

static void test_budget_schedule(void **state)
{
    (void)state;
    const char *dis = "    consolidateAfter: 0s\n    budgets:\n"
                      "    - {nodes: \"0\", schedule: \"0 9 * * 1-5\", duration: 8h}\n";
    hoist_consolidation c;
    hoist_objects o;
    hoist_consolidator s;
    /* Monday 10:00 UTC: inside the window */
    run_empty_pool(2, dis, NULL, 0, MONDAY + 10 * HOUR, &c, &o, &s);
    assert_int_equal(c.n, 0);
    assert_int_equal(c.n_blocked, 2);
    free_run(&c, &o, &s);
    /* Saturday 10:00 UTC: no active budget, nothing limits */
    run_empty_pool(2, dis, NULL, 0, MONDAY + 5 * DAY + 10 * HOUR, &c, &o, &s);
    assert_int_equal(c.n, 2);
    assert_int_equal(c.n_blocked, 0);
    free_run(&c, &o, &s);
    /* Monday 17:00: the 8h window that opened at 09:00 has just closed */
    run_empty_pool(2, dis, NULL, 0, MONDAY + 17 * HOUR, &c, &o, &s);
    assert_int_equal(c.n, 2);
    free_run(&c, &o, &s);
    /* a schedule that does not parse is taken as active and said so */
    run_empty_pool(1, "    consolidateAfter: 0s\n    budgets:\n"
                      "    - {nodes: \"0\", schedule: \"0 9 * *\", duration: 8h}\n",
                   NULL, 0, MONDAY, &c, &o, &s);
    assert_int_equal(c.n, 0);
    assert_int_equal(c.n_blocked, 1);
    assert_non_null(strstr(c.blocked[0].why, "invalid schedule taken as active: 0 9 * *"));
    free_run(&c, &o, &s);
}

/* ---- cron ---- */

static void expect_match(const char *expr, int64_t t, int want)
{
    hoist_err err = {{0}};
    int got = hoist_cron_matches(expr, t, &err);
    if (got != want)
        fail_msg("cron \"%s\" at %lld: %d, expected %d (%s)", expr, (long long)t, got, want,
                 err.msg);
}

static void test_cron_matches(void **state)
{
    (void)state;
    expect_match("* * * * *", MONDAY + 12345, 1);
    expect_match("*/15 * * * *", MONDAY + 30 * 60 + 59, 1);
    expect_match("*/15 * * * *", MONDAY + 31 * 60, 0);
    expect_match("5-20/5 * * * *", MONDAY + 20 * 60, 1);
    expect_match("5-20/5 * * * *", MONDAY + 25 * 60, 0);
    expect_match("10/20 * * * *", MONDAY + 50 * 60, 1);
    expect_match("10/20 * * * *", MONDAY + 40 * 60, 0);
    expect_match("0 9,17 * * *", MONDAY + 17 * HOUR, 1);
    expect_match("0 9,17 * * *", MONDAY + 12 * HOUR, 0);
    expect_match("0 9 * * 1-5", MONDAY + 9 * HOUR, 1);             /* Monday */
    expect_match("0 9 * * 1-5", MONDAY + 5 * DAY + 9 * HOUR, 0);   /* Saturday */
    expect_match("0 9 * * mon-fri", MONDAY + 4 * DAY + 9 * HOUR, 1);
    expect_match("0 0 * * 7", MONDAY + 6 * DAY, 1);                /* 7 = Sunday */
    expect_match("0 0 * * 0", MONDAY + 6 * DAY, 1);
    expect_match("0 0 * * SUN", MONDAY + 5 * DAY, 0);
    expect_match("0 0 * feb *", MONDAY + 31 * DAY, 1);             /* Feb 1 */
    expect_match("0 0 * jan-mar/2 *", MONDAY + 31 * DAY, 0);       /* jan, mar only */
    /* both day fields restricted: either matches */
    expect_match("0 0 15 * 1", MONDAY + 7 * DAY, 1);               /* Monday the 8th */
    expect_match("0 0 15 * 1", MONDAY + 14 * DAY, 1);              /* Monday the 15th */
    expect_match("0 0 15 * 1", MONDAY + 10 * DAY, 0);              /* Thursday the 11th */
    /* one of them a star: both must */
    expect_match("0 0 15 * *", MONDAY + 7 * DAY, 0);
    expect_match("0 0 */2 * 1", MONDAY + 7 * DAY, 0);              /* Mon 8th, even day */
    expect_match("0 0 */2 * 1", MONDAY + 8 * DAY, 0);              /* Tue 9th */
    expect_match("0 0 */2 * 1", MONDAY + 14 * DAY, 1);             /* Mon 15th, odd */
    /* macros */
    expect_match("@hourly", MONDAY + 5 * HOUR, 1);
    expect_match("@hourly", MONDAY + 5 * HOUR + 60, 0);
    expect_match("@daily", MONDAY + DAY, 1);
    expect_match("@midnight", MONDAY + DAY + HOUR, 0);
    expect_match("@weekly", MONDAY + 6 * DAY, 1);
    expect_match("@weekly", MONDAY, 0);
    expect_match("@monthly", MONDAY + 31 * DAY, 1);
    expect_match("@yearly", MONDAY, 1);
    expect_match("@annually", MONDAY + 31 * DAY, 0);
}

static void test_cron_active(void **state)
{
    (void)state;
    hoist_err err = {{0}};
    const char *bh = "0 9 * * 1-5";
    assert_int_equal(hoist_cron_active(bh, 8 * HOUR, MONDAY + 9 * HOUR, &err), 1);
    assert_int_equal(hoist_cron_active(bh, 8 * HOUR, MONDAY + 10 * HOUR, &err), 1);
    assert_int_equal(hoist_cron_active(bh, 8 * HOUR, MONDAY + 17 * HOUR - 1, &err), 1);
    assert_int_equal(hoist_cron_active(bh, 8 * HOUR, MONDAY + 17 * HOUR, &err), 0);
    assert_int_equal(hoist_cron_active(bh, 8 * HOUR, MONDAY + 9 * HOUR - 1, &err), 0);
    assert_int_equal(hoist_cron_active(bh, 8 * HOUR, MONDAY + 5 * DAY + 10 * HOUR, &err), 0);
    /* Friday 09:00 + 2 days reaches into Sunday morning, across the weekend */
    assert_int_equal(hoist_cron_active(bh, 2 * DAY, MONDAY + 6 * DAY + 9 * HOUR - 1, &err), 1);
    assert_int_equal(hoist_cron_active(bh, 2 * DAY, MONDAY + 6 * DAY + 9 * HOUR, &err), 0);
    /* a yearly window found across most of a year */
    assert_int_equal(hoist_cron_active("@yearly", 300 * DAY, MONDAY + 299 * DAY, &err), 1);
    assert_int_equal(hoist_cron_active("@yearly", 300 * DAY, MONDAY + 301 * DAY, &err), 0);
    assert_int_equal(hoist_cron_active(bh, 0, MONDAY + 9 * HOUR, &err), 0);
    assert_int_equal(hoist_cron_active("0 9 *", 8 * HOUR, MONDAY, &err), -1);
    assert_non_null(strstr(err.msg, "expected 5 fields"));
}

static void expect_cron_error(const char *expr, const char *want)
{
    hoist_err err = {{0}};
    assert_int_equal(hoist_cron_matches(expr, MONDAY, &err), -1);
    if (!strstr(err.msg, want))
        fail_msg("cron \"%s\": message \"%s\" lacks \"%s\"", expr, err.msg, want);
}

static void test_cron_bad(void **state)
{
    (void)state;
    expect_cron_error("0 9 * *", "expected 5 fields (minute hour day-of-month month "
                                 "day-of-week), got 4");
    expect_cron_error("0 9 * * * *", "got 6");
    expect_cron_error("", "got 0");
    expect_cron_error("60 * * * *", "minute: value 60 out of range 0-59");
    expect_cron_error("0 24 * * *", "hour: value 24 out of range 0-23");
    expect_cron_error("0 0 0 * *", "day-of-month: value 0 out of range 1-31");
    expect_cron_error("0 0 32 * *", "day-of-month: value 32 out of range 1-31");
    expect_cron_error("0 0 * 13 *", "month: value 13 out of range 1-12");
    expect_cron_error("0 0 * * 8", "day-of-week: value 8 out of range 0-7");
    expect_cron_error("x * * * *", "minute: invalid value \"x\"");
    expect_cron_error("0 0 * * funday", "day-of-week: invalid value \"funday\"");
    expect_cron_error("0 0 * foo *", "month: invalid value \"foo\"");
    expect_cron_error("1a * * * *", "minute: invalid value \"1a\"");
    expect_cron_error("*/0 * * * *", "minute: step 0 out of range");
    expect_cron_error("* */x * * *", "hour: invalid step \"x\"");
    expect_cron_error("* */ * * *", "hour: missing step");
    expect_cron_error("20-10 * * * *", "minute: range 20-10 goes backwards");
    expect_cron_error("1,,2 * * * *", "minute: empty list item");
    expect_cron_error("1, * * * *", "minute: empty list item");
    expect_cron_error("0 0 1- * *", "day-of-month: missing value");
    expect_cron_error("99999999999999999999 * * * *", "minute: value 99999999999999999999 out");
    expect_cron_error("@every 5m", "unknown macro");
    expect_cron_error("@daily 5", "unknown macro");
    expect_cron_error("0 9 * * 1-5\xff", "day-of-week: invalid value");
    hoist_err err = {{0}};
    assert_int_equal(hoist_cron_matches(NULL, MONDAY, &err), -1);
    assert_non_null(strstr(err.msg, "schedule"));
}

/* ---- headroom ---- */

static int want_4cpu(void *ctx, const hoist_nodepool *np, hoist_resources *want)
{
    int *calls = ctx;
    (*calls)++;
    memset(want, 0, sizeof *want);
    if (!strcmp(np->name, "default"))
        want->v[HOIST_RES_CPU] = 4000;
    return 0;
}

static int want_fails(void *ctx, const hoist_nodepool *np, hoist_resources *want)
{
    (void)ctx;
    (void)np;
    want->v[HOIST_RES_CPU] = 1000000;
    return -1;
}

static void test_headroom(void **state)
{
    (void)state;
    text t = {.len = 0};
    add_pool(&t, "default", "    consolidateAfter: 0s\n    budgets: [{nodes: \"100%\"}]\n");
    add_node_ex(&t, "e1", "default", "m5.xlarge", MONDAY, "True", NULL, "4", "16Gi");
    add_node_ex(&t, "e2", "default", "m5.xlarge", MONDAY, "True", NULL, "4", "16Gi");
    add_node_ex(&t, "busy", "default", "m5.xlarge", MONDAY, "True", NULL, "4", "16Gi");
    add_pod_ex(&t, "web-0", "busy", NULL, 0, "3", "Running");
    /* a node that is not Ready brings no spare */
    add_node_ex(&t, "sick", "default", "m5.xlarge", MONDAY, "False", NULL, "64", "256Gi");
    hoist_objects o;
    load(&o, &t);
    hoist_consolidator s;
    hoist_consolidator_init(&s);
    int calls = 0;
    hoist_consolidate_options opts = {0};
    opts.headroom = want_4cpu;
    opts.headroom_ctx = &calls;
    hoist_consolidation c;
    /* spare 4 + 4 + 1 = 9 cpu; e1 goes (5 left), e2 would leave 1 < 4 */
    run(&s, &o, &opts, MONDAY, &c);
    assert_int_equal(calls, 1);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.items[0].node->name, "e1");
    assert_int_equal(c.n_blocked, 1);
    assert_string_equal(c.blocked[0].node->name, "e2");
    assert_string_equal(c.blocked[0].why, "headroom of NodePool default: removing it leaves 1 "
                                          "cpu spare, the NodePool keeps 4");
    hoist_consolidation_free(&c);
    /* without headroom, or when the hook fails, both go */
    opts.headroom = NULL;
    run(&s, &o, &opts, MONDAY, &c);
    assert_int_equal(c.n, 2);
    hoist_consolidation_free(&c);
    opts.headroom = want_fails;
    run(&s, &o, &opts, MONDAY, &c);
    assert_int_equal(c.n, 2);
    hoist_consolidation_free(&c);
    hoist_consolidator_free(&s);
    hoist_objects_free(&o);
}

/* ---- whose nodes ---- */

static void test_non_hoist_nodes(void **state)
{
    (void)state;
    text t = {.len = 0};
    add_pool_ex(&t, "default", "1h",
                "    consolidateAfter: 0s\n    budgets: [{nodes: \"100%\"}]\n");
    add_node(&t, "unmanaged", NULL, MONDAY - 30 * DAY);
    add_node(&t, "r-unmanaged", NULL, MONDAY - 30 * DAY);
    add_node(&t, "orphan", "deleted-pool", MONDAY - 30 * DAY);
    add_node_ex(&t, "karp", NULL, "m5.large", MONDAY, "True",
                "    karpenter.sh/nodepool: default\n",
                "2", "8Gi");
    hoist_objects o;
    load(&o, &t);
    hoist_consolidator s;
    hoist_consolidator_init(&s);
    hoist_consolidate_options opts = {0};
    opts.recycle = recycle_r;
    hoist_consolidation c;
    run(&s, &o, &opts, MONDAY + 60, &c);
    /* only the node labelled with the alias karpenter.sh/nodepool is hoist's */
    assert_int_equal(c.n, 1);
    assert_string_equal(c.items[0].node->name, "karp");
    assert_int_equal(c.items[0].reason, HOIST_DISRUPT_EMPTY);
    assert_int_equal(c.n_blocked, 0);
    assert_int_equal(c.hook_calls, 1);
    assert_int_equal(s.empty_since.n, 1);
    hoist_consolidation_free(&c);
    hoist_consolidator_free(&s);
    hoist_objects_free(&o);
}

/* ---- order ---- */

static void build_mixed(text *t, bool reversed)
{
    add_pool_ex(t, "default", "240h",
                "    consolidateAfter: 0s\n    budgets: [{nodes: \"100%\"}]\n");
    const char *names[] = {"e-b", "r-hi", "x-old", "e-a", "r-lo", "r-none", "r-cost"};
    for (size_t k = 0; k < 7; k++) {
        const char *n = names[reversed ? 6 - k : k];
        add_node(t, n, "default", n[0] == 'x' ? MONDAY - 20 * DAY : MONDAY - DAY);
    }
    add_pod_ex(t, "hi", "r-hi", NULL, 1000, "1", "Running");
    add_pod_ex(t, "lo", "r-lo", NULL, 10, "1", "Running");
    add_pod_ex(t, "cost", "r-cost", "  annotations: {controller.kubernetes.io/pod-deletion-cost: "
                                    "\"5\"}\n", 10, "1", "Running");
    add_pod(t, "old-0", "x-old");
    add_pod(t, "old-1", "x-old");
}

static void test_order_deterministic(void **state)
{
    (void)state;
    const char *want[] = {"x-old", "r-none", "r-lo", "r-cost", "r-hi", "e-a", "e-b"};
    const hoist_disruption_reason reasons[] = {
        HOIST_DISRUPT_EXPIRED, HOIST_DISRUPT_RECYCLE, HOIST_DISRUPT_RECYCLE, HOIST_DISRUPT_RECYCLE,
        HOIST_DISRUPT_RECYCLE, HOIST_DISRUPT_EMPTY,   HOIST_DISRUPT_EMPTY};
    for (int rev = 0; rev < 2; rev++) {
        text t = {.len = 0};
        build_mixed(&t, rev);
        hoist_objects o;
        load(&o, &t);
        hoist_consolidator s;
        hoist_consolidator_init(&s);
        hoist_consolidate_options opts = {0};
        opts.recycle = recycle_r;
        hoist_consolidation c;
        run(&s, &o, &opts, MONDAY, &c);
        assert_int_equal(c.n, 7);
        for (size_t i = 0; i < 7; i++) {
            if (strcmp(c.items[i].node->name, want[i]) != 0)
                fail_msg("%s order: item %zu is %s, expected %s", rev ? "reversed" : "forward",
                         i, c.items[i].node->name, want[i]);
            assert_int_equal(c.items[i].reason, reasons[i]);
        }
        assert_int_equal(c.items[0].n_pods, 2);
        assert_string_equal(c.items[0].pods[0]->name, "old-0");
        assert_string_equal(c.items[0].pods[1]->name, "old-1");
        assert_string_equal(c.items[0].detail, "age 20d reached expireAfter 10d");
        hoist_consolidation_free(&c);
        hoist_consolidator_free(&s);
        hoist_objects_free(&o);
    }
}

/* Price from the catalog by type, zone and capacity type. */
static void test_price(void **state)
{
    (void)state;
    hoist_offering offs[2] = {
        {sizeof(hoist_offering), "us-east-1a", HOIST_CAPACITY_SPOT, 0.04, true, 5},
        {sizeof(hoist_offering), "us-east-1a", HOIST_CAPACITY_ON_DEMAND, 0.096, true, 0},
    };
    hoist_instance_type it;
    memset(&it, 0, sizeof it);
    it.struct_size = sizeof it;
    it.name = "m5.large";
    it.family = "m5";
    it.generation = 5;
    it.offerings = offs;
    it.n_offerings = 2;
    hoist_catalog cat;
    hoist_catalog_init(&cat);
    hoist_err err = {{0}};
    if (hoist_catalog_copy(&cat, &it, 1, &err) != 0)
        fail_msg("catalog: %s", err.msg);
    text t = {.len = 0};
    add_pool(&t, "default", "    consolidateAfter: 0s\n    budgets: [{nodes: \"100%\"}]\n");
    add_node_ex(&t, "spot", "default", "m5.large", MONDAY, "True",
                "    karpenter.sh/capacity-type: spot\n", "2", "8Gi");
    add_node_ex(&t, "od", "default", "m5.large", MONDAY, "True",
                "    hoist.dev/capacity-type: on-demand\n", "2", "8Gi");
    add_node_ex(&t, "unknown", "default", "x9.huge", MONDAY, "True", NULL, "2", "8Gi");
    hoist_objects o;
    load(&o, &t);
    hoist_consolidator s;
    hoist_consolidator_init(&s);
    hoist_consolidate_options opts = {0};
    opts.catalog = &cat;
    hoist_consolidation c;
    run(&s, &o, &opts, MONDAY, &c);
    assert_int_equal(c.n, 3);
    assert_float_equal(find_decided(&c, "spot")->price, 0.04, 1e-12);
    assert_float_equal(find_decided(&c, "od")->price, 0.096, 1e-12);
    assert_float_equal(find_decided(&c, "unknown")->price, 0, 0);
    hoist_consolidation_free(&c);
    hoist_consolidator_free(&s);
    hoist_objects_free(&o);
    hoist_catalog_free(&cat);
}

/* ---- underutilized nodes ---- */

#define RS_OWNER "  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web, " \
                 "uid: u2, controller: true}]\n"

/* A one-type catalog (m5.large), enough for prices. */
static void small_catalog(hoist_catalog *cat)
{
    static hoist_offering offs[1] = {
        {sizeof(hoist_offering), "us-east-1a", HOIST_CAPACITY_ON_DEMAND, 0.096, true, 0},
    };
    hoist_instance_type it;
    memset(&it, 0, sizeof it);
    it.struct_size = sizeof it;
    it.name = "m5.large";
    it.family = "m5";
    it.generation = 5;
    it.offerings = offs;
    it.n_offerings = 1;
    hoist_catalog_init(cat);
    hoist_err err = {{0}};
    if (hoist_catalog_copy(cat, &it, 1, &err) != 0)
        fail_msg("catalog: %s", err.msg);
}

/* One round at MONDAY+1h with a new consolidator and catalog cat, looking
 * for underutilized nodes when `look` (max_replacement_plans 0: the default). */
static void run_once(const hoist_objects *o, const hoist_catalog *cat, bool look,
                     size_t max_replacement_plans, hoist_consolidation *c)
{
    hoist_consolidator s;
    hoist_consolidator_init(&s);
    hoist_consolidate_options opts = {0};
    opts.catalog = cat;
    opts.underutilized = look;
    opts.max_replacement_plans = max_replacement_plans;
    run(&s, o, &opts, MONDAY + HOUR, c);
    hoist_consolidator_free(&s);
}

/* Three 2-CPU nodes: a holds 1.5 CPU, b 0.5, c 1.5. Only b's pods fit on
 * the others; `b_meta` is b's pod's metadata extra. Decides at MONDAY+1h. */
static void underutilized_case(const char *disruption, const char *b_meta, bool look,
                               int64_t created, hoist_consolidation *c, hoist_objects *o,
                               hoist_catalog *cat)
{
    text t = {.len = 0};
    add_pool(&t, "default", disruption);
    const char *od = "    hoist.dev/capacity-type: on-demand\n";
    add_node_ex(&t, "a", "default", "m5.large", created, "True", od, "2", "8Gi");
    add_node_ex(&t, "b", "default", "m5.large", created, "True", od, "2", "8Gi");
    add_node_ex(&t, "c", "default", "m5.large", created, "True", od, "2", "8Gi");
    for (int i = 0; i < 3; i++) {
        char name[16];
        snprintf(name, sizeof name, "a-%d", i);
        add_pod_ex(&t, name, "a", RS_OWNER, 0, "500m", "Running");
    }
    add_pod_ex(&t, "b-0", "b", b_meta, 0, "500m", "Running");
    add_pod_ex(&t, "c-0", "c", RS_OWNER, 0, "1500m", "Running");
    load(o, &t);
    small_catalog(cat);
    run_once(o, cat, look, 0, c);
}

static void underutilized_done(hoist_consolidation *c, hoist_objects *o, hoist_catalog *cat)
{
    hoist_consolidation_free(c);
    hoist_objects_free(o);
    hoist_catalog_free(cat);
}

static void test_underutilized_fits_elsewhere(void **state)
{
    (void)state;
    hoist_consolidation c;
    hoist_objects o;
    hoist_catalog cat;
    const char *pool = "    consolidateAfter: 10m\n    budgets: [{nodes: \"100%\"}]\n";
    underutilized_case(pool, RS_OWNER, true, MONDAY, &c, &o, &cat);
    assert_int_equal(c.n, 1);
    const hoist_disruption *d = find_decided(&c, "b");
    assert_non_null(d);
    assert_int_equal(d->reason, HOIST_DISRUPT_UNDERUTILIZED);
    assert_int_equal(d->n_pods, 1);
    assert_string_equal(d->pods[0]->name, "b-0");
    assert_float_equal(d->price, 0.096, 1e-12);
    assert_non_null(strstr(d->detail, "fit on the other Ready nodes"));
    /* only b needed a plan: with b gone, the free room left (0.5 CPU on a,
     * c) cannot hold c's or a's pods, which rules them out without one */
    assert_int_equal(c.underutilized_plans, 1);
    underutilized_done(&c, &o, &cat);

    /* not asked this round: nothing */
    underutilized_case(pool, RS_OWNER, false, MONDAY, &c, &o, &cat);
    assert_int_equal(c.n, 0);
    assert_int_equal(c.underutilized_plans, 0);
    underutilized_done(&c, &o, &cat);

    /* younger than consolidateAfter: hoist never removes what it just bought */
    underutilized_case(pool, RS_OWNER, true, MONDAY + HOUR - 300, &c, &o, &cat);
    assert_int_equal(c.n, 0);
    underutilized_done(&c, &o, &cat);

    /* WhenEmpty: only empty nodes */
    underutilized_case("    consolidationPolicy: WhenEmpty\n    consolidateAfter: 0s\n", RS_OWNER,
                       true, MONDAY, &c, &o, &cat);
    assert_int_equal(c.n, 0);
    underutilized_done(&c, &o, &cat);

    /* the Underutilized budget reason holds it */
    underutilized_case("    consolidateAfter: 0s\n    budgets: [{nodes: \"0\", reasons: "
                       "[Underutilized]}]\n",
                       RS_OWNER, true, MONDAY, &c, &o, &cat);
    assert_int_equal(c.n, 0);
    assert_non_null(find_blocked(&c, "b"));
    assert_non_null(strstr(find_blocked(&c, "b")->why, "for Underutilized"));
    underutilized_done(&c, &o, &cat);
}

/* Pods that block a voluntary removal, as Cluster Autoscaler documents. */
static void test_underutilized_blocking_pods(void **state)
{
    (void)state;
    hoist_consolidation c;
    hoist_objects o;
    hoist_catalog cat;
    const char *pool = "    consolidateAfter: 0s\n    budgets: [{nodes: \"100%\"}]\n";
    underutilized_case(pool, NULL, true, MONDAY, &c, &o, &cat); /* a bare pod */
    assert_null(find_decided(&c, "b"));
    assert_non_null(find_blocked(&c, "b"));
    assert_non_null(strstr(find_blocked(&c, "b")->why, "pod default/b-0 has no controller"));
    underutilized_done(&c, &o, &cat);

    underutilized_case(pool,
                       "  annotations: {cluster-autoscaler.kubernetes.io/safe-to-evict: \"true\"}\n",
                       true, MONDAY, &c, &o, &cat); /* bare, but opted in */
    assert_non_null(find_decided(&c, "b"));
    underutilized_done(&c, &o, &cat);

    underutilized_case(pool,
                       RS_OWNER "  annotations: {cluster-autoscaler.kubernetes.io/safe-to-evict: "
                                "\"false\"}\n",
                       true, MONDAY, &c, &o, &cat);
    assert_null(find_decided(&c, "b"));
    assert_non_null(strstr(find_blocked(&c, "b")->why, "safe-to-evict=false"));
    underutilized_done(&c, &o, &cat);
}

/* Several nodes at once: d and e (0.2 CPU each) both fit on f (1.2 used). */
static void test_underutilized_multi_node(void **state)
{
    (void)state;
    text t = {.len = 0};
    /* (the default budget, 10% of 3 nodes rounded up, would allow one) */
    add_pool(&t, "default", "    consolidateAfter: 0s\n    budgets: [{nodes: \"100%\"}]\n");
    add_node(&t, "d", "default", MONDAY);
    add_node(&t, "e", "default", MONDAY);
    add_node(&t, "f", "default", MONDAY);
    add_pod_ex(&t, "d-0", "d", RS_OWNER, 0, "200m", "Running");
    add_pod_ex(&t, "e-0", "e", RS_OWNER, 0, "200m", "Running");
    add_pod_ex(&t, "f-0", "f", RS_OWNER, 0, "600m", "Running");
    add_pod_ex(&t, "f-1", "f", RS_OWNER, 0, "600m", "Running");
    hoist_objects o;
    load(&o, &t);
    hoist_catalog cat;
    small_catalog(&cat);
    hoist_consolidator s;
    hoist_consolidator_init(&s);
    hoist_consolidate_options opts = {0};
    opts.catalog = &cat;
    opts.underutilized = true;
    hoist_consolidation c;
    run(&s, &o, &opts, MONDAY + HOUR, &c);
    assert_int_equal(c.n, 2);
    assert_non_null(find_decided(&c, "d"));
    assert_non_null(find_decided(&c, "e"));
    assert_non_null(strstr(find_decided(&c, "e")->detail, "with the nodes removed before it"));
    assert_null(find_decided(&c, "f"));
    hoist_consolidation_free(&c);
    /* a plan budget of one: only d */
    opts.max_underutilized_plans = 1;
    run(&s, &o, &opts, MONDAY + HOUR, &c);
    assert_int_equal(c.n, 1);
    assert_int_equal(c.underutilized_plans, 1);
    hoist_consolidation_free(&c);
    hoist_consolidator_free(&s);
    hoist_objects_free(&o);
    hoist_catalog_free(&cat);
}

/* ---- drift ---- */

/* A node launched from another version of the NodePool's template drifts;
 * one launched from this version, or without the label, does not. */
static void test_drift(void **state)
{
    (void)state;
    text t = {.len = 0};
    add_pool(&t, "default", "    consolidateAfter: 0s\n    budgets: [{nodes: \"100%\"}]\n");
    hoist_objects first;
    load(&first, &t); /* to learn the template hash */
    char label[96];
    snprintf(label, sizeof label, "    hoist.dev/nodepool-hash: \"%016llx\"\n",
             (unsigned long long)first.nodepools[0]->template_hash);
    hoist_objects_free(&first);
    add_node_ex(&t, "old", "default", "m5.large", MONDAY, "True",
                "    hoist.dev/nodepool-hash: \"0000000000000001\"\n", "2", "8Gi");
    add_node_ex(&t, "current", "default", "m5.large", MONDAY, "True", label, "2", "8Gi");
    add_node(&t, "unlabelled", "default", MONDAY);
    add_pod_ex(&t, "p-old", "old", RS_OWNER, 0, "100m", "Running");
    add_pod_ex(&t, "p-current", "current", RS_OWNER, 0, "100m", "Running");
    add_pod_ex(&t, "p-unlabelled", "unlabelled", RS_OWNER, 0, "100m", "Running");
    hoist_objects o;
    load(&o, &t);
    hoist_consolidator s;
    hoist_consolidator_init(&s);
    hoist_consolidate_options opts = {0};
    hoist_consolidation c;
    run(&s, &o, &opts, MONDAY + HOUR, &c);
    assert_int_equal(c.n, 1);
    const hoist_disruption *d = find_decided(&c, "old");
    assert_non_null(d);
    assert_int_equal(d->reason, HOIST_DISRUPT_DRIFTED);
    assert_non_null(strstr(d->detail, "template changed"));
    assert_int_equal(d->n_pods, 1);
    assert_string_equal(hoist_disruption_reason_name(d->reason), "drifted");
    hoist_consolidation_free(&c);
    hoist_consolidator_free(&s);
    hoist_objects_free(&o);

    /* a budget for Drifted holds it; limits or disruption changes would not drift */
    text u = {.len = 0};
    add_pool(&u, "default",
             "    consolidateAfter: 0s\n    budgets: [{nodes: \"0\", reasons: [Drifted]}]\n");
    add_node_ex(&u, "old", "default", "m5.large", MONDAY, "True",
                "    hoist.dev/nodepool-hash: \"0000000000000001\"\n", "2", "8Gi");
    load(&o, &u);
    hoist_consolidator_init(&s);
    run(&s, &o, &opts, MONDAY + HOUR, &c);
    assert_int_equal(c.n, 0);
    assert_non_null(find_blocked(&c, "old"));
    assert_non_null(strstr(find_blocked(&c, "old")->why, "for Drifted"));
    uint64_t h = o.nodepools[0]->template_hash;
    hoist_consolidation_free(&c);
    hoist_consolidator_free(&s);
    hoist_objects_free(&o);
    text v = {.len = 0};
    add_pool(&v, "default", "    consolidateAfter: 5m\n");
    load(&o, &v);
    assert_true(o.nodepools[0]->template_hash == h);
    hoist_objects_free(&o);
}

/* ---- replace with one cheaper machine ---- */

/* m5.large ($0.096 on-demand, $0.03 spot) and m5.2xlarge ($0.384, $0.12). */
static void two_type_catalog(hoist_catalog *cat)
{
    static hoist_offering small[2] = {
        {sizeof(hoist_offering), "us-east-1a", HOIST_CAPACITY_ON_DEMAND, 0.096, true, 0},
        {sizeof(hoist_offering), "us-east-1a", HOIST_CAPACITY_SPOT, 0.03, true, 5},
    };
    static hoist_offering big[2] = {
        {sizeof(hoist_offering), "us-east-1a", HOIST_CAPACITY_ON_DEMAND, 0.384, true, 0},
        {sizeof(hoist_offering), "us-east-1a", HOIST_CAPACITY_SPOT, 0.12, true, 5},
    };
    hoist_instance_type it[2];
    memset(it, 0, sizeof it);
    for (int i = 0; i < 2; i++) {
        it[i].struct_size = sizeof it[i];
        it[i].family = "m5";
        it[i].category = "m";
        it[i].generation = 5;
        it[i].architecture = "amd64";
        it[i].current_generation = true;
        it[i].max_pods = 58;
        it[i].n_offerings = 2;
    }
    it[0].name = "m5.large";
    it[0].size = "large";
    it[0].vcpus = 2;
    it[0].memory_mib = 8192;
    it[0].offerings = small;
    it[1].name = "m5.2xlarge";
    it[1].size = "2xlarge";
    it[1].vcpus = 8;
    it[1].memory_mib = 32768;
    it[1].offerings = big;
    hoist_catalog_init(cat);
    hoist_err err = {{0}};
    if (hoist_catalog_copy(cat, it, 2, &err) != 0)
        fail_msg("catalog: %s", err.msg);
}

/* One m5.2xlarge holding a single 500m pod: nothing else can take it, one
 * m5.large can, for a quarter of the price. `ct` is the node's capacity
 * type; `annotation` YAML under the NodePool's metadata. */
static void replace_case(const char *ct, const char *annotation, hoist_consolidation *c,
                         hoist_objects *o, hoist_catalog *cat)
{
    text t = {.len = 0};
    /* spot nodes come from a NodePool that allows spot (the default is
     * on-demand only) */
    add(&t, "---\napiVersion: hoist.dev/v1\nkind: NodePool\nmetadata:\n  name: default\n%s"
            "spec:\n  template:\n    spec:\n%s"
            "      nodeClassRef: {group: hoist.dev, kind: MockNodeClass, name: default}\n"
            "  disruption:\n    consolidateAfter: 0s\n",
        annotation ? annotation : "",
        strcmp(ct, "spot") == 0 ? "      requirements:\n      - {key: hoist.dev/capacity-type, "
                                  "operator: In, values: [spot, on-demand]}\n"
                                : "");
    char labels[128];
    snprintf(labels, sizeof labels, "    hoist.dev/capacity-type: %s\n", ct);
    add_node_ex(&t, "big", "default", "m5.2xlarge", MONDAY, "True", labels, "7910m", "30Gi");
    add_pod_ex(&t, "p-0", "big", RS_OWNER, 0, "500m", "Running");
    load(o, &t);
    two_type_catalog(cat);
    run_once(o, cat, true, 0, c);
}

static void test_replace_cheaper(void **state)
{
    (void)state;
    hoist_consolidation c;
    hoist_objects o;
    hoist_catalog cat;
    replace_case("on-demand", NULL, &c, &o, &cat);
    assert_int_equal(c.n, 1);
    const hoist_disruption *d = find_decided(&c, "big");
    assert_non_null(d);
    assert_int_equal(d->reason, HOIST_DISRUPT_UNDERUTILIZED);
    assert_true(d->replace);
    assert_float_equal(d->price, 0.384, 1e-12);
    assert_true(d->replacement_price <= 0.85 * 0.384);
    assert_non_null(strstr(d->detail, "one m5.large"));
    underutilized_done(&c, &o, &cat);

    /* a spot node is not replaced by spot without the NodePool's opt-in */
    replace_case("spot", NULL, &c, &o, &cat);
    assert_int_equal(c.n, 0);
    underutilized_done(&c, &o, &cat);
    replace_case("spot",
                 "  annotations: {hoist.dev/spot-to-spot-consolidation: \"true\"}\n", &c, &o,
                 &cat);
    assert_int_equal(c.n, 1);
    assert_true(c.items[0].replace);
    assert_float_equal(c.items[0].replacement_price, 0.03, 1e-12);
    underutilized_done(&c, &o, &cat);
}

/* ---- several nodes into one machine ---- */

/* n on-demand m5.large ($0.096), each holding one 1200m pod: no pod fits
 * on another node (800m free on each), and one m5.2xlarge ($0.384, 7910m
 * allocatable) holds up to six. `disruption` is the NodePool's; node k-1 of
 * those named in dnd_node (or none) carries a do-not-disrupt pod. */
static void multi_case(size_t n, const char *disruption, size_t dnd_node, hoist_consolidation *c,
                       hoist_objects *o, hoist_catalog *cat, size_t max_replacement_plans)
{
    text t = {.len = 0};
    add_pool(&t, "default", disruption);
    for (size_t i = 1; i <= n; i++) {
        char node[16], pod[16];
        snprintf(node, sizeof node, "n%zu", i);
        snprintf(pod, sizeof pod, "p%zu", i);
        add_node_ex(&t, node, "default", "m5.large", MONDAY, "True",
                    "    hoist.dev/capacity-type: on-demand\n", "2", "8Gi");
        add_pod_ex(&t, pod, node,
                   i == dnd_node ? RS_OWNER "  annotations: {hoist.dev/do-not-disrupt: \"true\"}\n"
                                 : RS_OWNER,
                   0, "1200m", "Running");
    }
    load(o, &t);
    two_type_catalog(cat);
    run_once(o, cat, true, max_replacement_plans, c);
}

/* Every decision of c is a replacement of `together` nodes by one m5.2xlarge. */
static void assert_one_replacement(const hoist_consolidation *c, size_t together)
{
    assert_int_equal(c->n, together);
    for (size_t i = 0; i < c->n; i++) {
        const hoist_disruption *d = &c->items[i];
        assert_int_equal(d->reason, HOIST_DISRUPT_UNDERUTILIZED);
        assert_true(d->replace);
        assert_int_equal(d->replaced_together, together);
        assert_float_equal(d->replacement_price, 0.384, 1e-12);
        assert_int_equal(d->n_pods, 1);
        assert_non_null(strstr(d->detail, "one m5.2xlarge at $0.3840/h"));
    }
}

static void test_multi_node_replace(void **state)
{
    (void)state;
    const char *all = "    consolidateAfter: 0s\n    budgets: [{nodes: \"100%\"}]\n";
    hoist_consolidation c;
    hoist_objects o;
    hoist_catalog cat;
    /* five ($0.48/h) into one m5.2xlarge ($0.384/h, 80 %) */
    multi_case(5, all, 0, &c, &o, &cat, 0);
    assert_one_replacement(&c, 5);
    assert_non_null(strstr(c.items[0].detail, "replaced together with 4 other nodes"));
    assert_non_null(strstr(c.items[0].detail, "instead of $0.4800/h for the 5"));
    /* the removal plans came first: each node alone, none fit elsewhere */
    assert_int_equal(c.underutilized_plans, 5 + 1);
    underutilized_done(&c, &o, &cat);

    /* four cost what the big machine costs: the churn guard keeps them, and
     * neither three, two nor one do better (the binary search looked) */
    multi_case(4, all, 0, &c, &o, &cat, 0);
    assert_int_equal(c.n, 0);
    assert_int_equal(c.underutilized_plans, 4 + 3);
    underutilized_done(&c, &o, &cat);

    /* seven need 8400m, more than the biggest type: the group stops at six */
    multi_case(7, all, 0, &c, &o, &cat, 0);
    assert_one_replacement(&c, 6);
    assert_null(find_decided(&c, "n7"));
    underutilized_done(&c, &o, &cat);

    /* a budget of five nodes: the group is the first five */
    multi_case(7, "    consolidateAfter: 0s\n    budgets: [{nodes: \"5\"}]\n", 0, &c, &o, &cat,
               0);
    assert_one_replacement(&c, 5);
    assert_null(find_decided(&c, "n6"));
    underutilized_done(&c, &o, &cat);

    /* a do-not-disrupt pod keeps its node out; the others still go */
    multi_case(6, all, 3, &c, &o, &cat, 0);
    assert_one_replacement(&c, 5);
    assert_null(find_decided(&c, "n3"));
    assert_non_null(find_decided(&c, "n6"));
    underutilized_done(&c, &o, &cat);

    /* seven with a budget of three nodes: 3.6 cpu needs the big machine
     * ($0.384 > $0.288), and smaller prefixes save nothing */
    multi_case(7, "    consolidateAfter: 0s\n    budgets: [{nodes: \"3\"}]\n", 0, &c, &o, &cat,
               0);
    assert_int_equal(c.n, 0);
    underutilized_done(&c, &o, &cat);

    /* one replacement plan a round: only the whole group is tried */
    multi_case(4, all, 0, &c, &o, &cat, 1);
    assert_int_equal(c.n, 0);
    assert_int_equal(c.underutilized_plans, 4 + 1);
    underutilized_done(&c, &o, &cat);
}

/* ---- PodDisruptionBudgets ---- */

/* Two drifted nodes, each with one pod of app web; a PDB over web. */
static void pdb_case(const char *app, const char *pdb_spec, hoist_consolidation *c,
                     hoist_objects *o)
{
    text t = {.len = 0};
    add_pool(&t, "default", "    consolidateAfter: 0s\n    budgets: [{nodes: \"100%\"}]\n");
    const char *old = "    hoist.dev/nodepool-hash: \"0000000000000001\"\n";
    add_node_ex(&t, "n1", "default", "m5.large", MONDAY, "True", old, "2", "8Gi");
    add_node_ex(&t, "n2", "default", "m5.large", MONDAY, "True", old, "2", "8Gi");
    add_pod_ex(&t, "web-1", "n1", "  labels: {app: web}\n" RS_OWNER, 0, "100m", "Running");
    add_pod_ex(&t, "web-2", "n2", "  labels: {app: web}\n" RS_OWNER, 0, "100m", "Running");
    add(&t, "---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: web, "
            "namespace: default}\nspec:\n  selector: {matchLabels: {app: %s}}\n  %s\n",
        app, pdb_spec);
    load(o, &t);
    hoist_consolidator s;
    hoist_consolidator_init(&s);
    hoist_consolidate_options opts = {0};
    run(&s, o, &opts, MONDAY + HOUR, c);
    hoist_consolidator_free(&s);
}

static void test_pdb_holds_candidates(void **state)
{
    (void)state;
    hoist_consolidation c;
    hoist_objects o;
    /* minAvailable 2 of 2: neither may go */
    pdb_case("web", "minAvailable: 2", &c, &o);
    assert_int_equal(c.n, 0);
    assert_int_equal(c.n_blocked, 2);
    assert_non_null(strstr(c.blocked[0].why, "would violate PodDisruptionBudget default/web"));
    hoist_consolidation_free(&c);
    hoist_objects_free(&o);
    /* maxUnavailable 1: one goes this round, the other waits */
    pdb_case("web", "maxUnavailable: 1", &c, &o);
    assert_int_equal(c.n, 1);
    assert_int_equal(c.n_blocked, 1);
    assert_non_null(strstr(c.blocked[0].why, "PodDisruptionBudget default/web"));
    hoist_consolidation_free(&c);
    hoist_objects_free(&o);
    /* a PDB that selects other pods does not matter */
    pdb_case("db", "minAvailable: 5", &c, &o);
    assert_int_equal(c.n, 2);
    hoist_consolidation_free(&c);
    hoist_objects_free(&o);
}

/* Equal in pods and priorities, the node with less lifetime left before
 * expireAfter goes first (it would be disrupted soon anyway). */
static void test_order_by_lifetime_left(void **state)
{
    (void)state;
    text t = {.len = 0};
    add_pool(&t, "default", "    consolidateAfter: 0s\n    budgets: [{nodes: \"1\"}]\n");
    const char *old = "    hoist.dev/nodepool-hash: \"0000000000000001\"\n";
    add_node_ex(&t, "a-young", "default", "m5.large", MONDAY, "True", old, "2", "8Gi");
    add_node_ex(&t, "z-old", "default", "m5.large", MONDAY - 20 * DAY, "True", old, "2", "8Gi");
    add_pod_ex(&t, "p1", "a-young", RS_OWNER, 0, "100m", "Running");
    add_pod_ex(&t, "p2", "z-old", RS_OWNER, 0, "100m", "Running");
    hoist_objects o;
    load(&o, &t);
    hoist_consolidator s;
    hoist_consolidator_init(&s);
    hoist_consolidate_options opts = {0};
    hoist_consolidation c;
    run(&s, &o, &opts, MONDAY + HOUR, &c);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.items[0].node->name, "z-old");
    assert_non_null(find_blocked(&c, "a-young"));
    hoist_consolidation_free(&c);
    hoist_consolidator_free(&s);
    hoist_objects_free(&o);
}

/* ---- the stage's memory across rounds on a live cluster state ---- */

static void cluster_apply(hoist_cluster *c, hoist_object_op op, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void cluster_apply(hoist_cluster *c, hoist_object_op op, const char *fmt, ...)
{
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    json_error_t jerr;
    json_t *j = json_loads(buf, 0, &jerr);
    if (!j)
        fail_msg("bad JSON %s: %s", buf, jerr.text);
    hoist_object_event ev = {.op = op, .object = j};
    hoist_err err = {{0}};
    if (hoist_cluster_apply(c, &ev, &err) < 0)
        fail_msg("apply %s: %s", buf, err.msg);
    json_decref(j);
}

static void cluster_node(hoist_cluster *c, hoist_object_op op, const char *name,
                         const char *hash_label)
{
    cluster_apply(c, op,
                  "{\"apiVersion\": \"v1\", \"kind\": \"Node\", \"metadata\": {\"name\": \"%s\", "
                  "\"creationTimestamp\": \"2024-01-01T00:00:00Z\", \"labels\": "
                  "{\"hoist.dev/nodepool\": \"default\"%s%s%s}}, \"status\": {\"allocatable\": "
                  "{\"cpu\": \"2\", \"memory\": \"8Gi\", \"pods\": \"110\"}, \"conditions\": "
                  "[{\"type\": \"Ready\", \"status\": \"True\"}]}}",
                  name, hash_label ? ", \"hoist.dev/nodepool-hash\": \"" : "",
                  hash_label ? hash_label : "", hash_label ? "\"" : "");
}

static void cluster_pod(hoist_cluster *c, hoist_object_op op, const char *name, const char *node)
{
    cluster_apply(c, op,
                  "{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"%s\", "
                  "\"namespace\": \"default\", \"ownerReferences\": [{\"apiVersion\": "
                  "\"apps/v1\", \"kind\": \"ReplicaSet\", \"name\": \"web\", \"uid\": \"u1\", "
                  "\"controller\": true}]}, \"spec\": {\"nodeName\": \"%s\", \"containers\": "
                  "[{\"name\": \"c\", \"resources\": {\"requests\": {\"cpu\": \"100m\"}}}]}, "
                  "\"status\": {\"phase\": \"Running\"}}",
                  name, node);
}

/* "node:reason " for each decision of a round, sorted (a comparable text). */
static void decisions_text(const hoist_consolidation *c, char *out, size_t cap)
{
    char items[16][64];
    size_t n = c->n < 16 ? c->n : 16;
    for (size_t i = 0; i < n; i++)
        snprintf(items[i], sizeof items[i], "%s:%s ", c->items[i].node->name,
                 hoist_disruption_reason_name(c->items[i].reason));
    qsort(items, n, sizeof items[0], (int (*)(const void *, const void *))strcmp);
    out[0] = '\0';
    for (size_t i = 0; i < n; i++)
        strncat(out, items[i], cap - strlen(out) - 1);
}

/* One round with the long-lived consolidator `kept` and one with a new
 * one: the same decisions (consolidateAfter is 0, so the empty-since
 * memory does not matter); returns them as text. */
static void round_both(hoist_consolidator *kept, hoist_cluster *c, char *out, size_t cap)
{
    hoist_consolidate_options opts = {0};
    hoist_consolidation a, b;
    run(kept, hoist_cluster_objects(c), &opts, MONDAY + HOUR, &a);
    hoist_consolidator fresh;
    hoist_consolidator_init(&fresh);
    run(&fresh, hoist_cluster_objects(c), &opts, MONDAY + HOUR, &b);
    char tb[512];
    decisions_text(&a, out, cap);
    decisions_text(&b, tb, sizeof tb);
    assert_string_equal(out, tb);
    hoist_consolidation_free(&a);
    hoist_consolidation_free(&b);
    hoist_consolidator_free(&fresh);
}

/* The consolidator keeps each node's NodePool, drift and usage slot while
 * the nodes do not change; its decisions stay those of a new one through
 * pod churn, node updates, additions and deletions. */
static void test_cache_follows_the_cluster(void **state)
{
    (void)state;
    hoist_cluster c;
    hoist_cluster_init(&c);
    cluster_apply(&c, HOIST_OBJECT_ADD,
                  "{\"apiVersion\": \"hoist.dev/v1\", \"kind\": \"NodePool\", \"metadata\": "
                  "{\"name\": \"default\"}, \"spec\": {\"template\": {\"spec\": "
                  "{\"nodeClassRef\": {\"group\": \"hoist.dev\", \"kind\": \"MockNodeClass\", "
                  "\"name\": \"default\"}}}, \"disruption\": {\"consolidationPolicy\": "
                  "\"WhenEmpty\", \"consolidateAfter\": \"0s\", \"budgets\": [{\"nodes\": "
                  "\"100%%\"}]}}}");
    for (int i = 1; i <= 4; i++) {
        char name[8];
        snprintf(name, sizeof name, "n%d", i);
        cluster_node(&c, HOIST_OBJECT_ADD, name, NULL);
    }
    cluster_pod(&c, HOIST_OBJECT_ADD, "p1", "n1");
    cluster_pod(&c, HOIST_OBJECT_ADD, "p2", "n2");
    cluster_pod(&c, HOIST_OBJECT_ADD, "p3", "n3");
    hoist_consolidator s;
    hoist_consolidator_init(&s);
    char got[512];
    round_both(&s, &c, got, sizeof got);
    assert_string_equal(got, "n4:empty ");
    const hoist_objects *o = hoist_cluster_objects(&c);
    assert_ptr_equal(s.cache_of, o);
    uint64_t serials[4];
    for (size_t i = 0; i < 4; i++)
        serials[i] = s.cache[i].serial;

    /* pods only: the cache stays and the usage follows. n2 empties and n4
     * takes n2's usage slot before the next round: n2's old hint must not
     * find n4's pods */
    cluster_apply(&c, HOIST_OBJECT_DELETE,
                  "{\"kind\": \"Pod\", \"metadata\": {\"namespace\": \"default\", "
                  "\"name\": \"p2\"}}");
    cluster_pod(&c, HOIST_OBJECT_ADD, "p4", "n4");
    round_both(&s, &c, got, sizeof got);
    assert_string_equal(got, "n2:empty ");
    for (size_t i = 0; i < 4; i++) /* no node changed: every entry kept */
        assert_int_equal(s.cache[i].serial, serials[i]);
    cluster_pod(&c, HOIST_OBJECT_ADD, "p2", "n2");
    round_both(&s, &c, got, sizeof got);
    assert_string_equal(got, "");

    /* a node update: n3 from another template drifts */
    cluster_node(&c, HOIST_OBJECT_UPDATE, "n3", "0000000000000001");
    round_both(&s, &c, got, sizeof got);
    assert_string_equal(got, "n3:drifted ");
    /* a deletion moves the last node into its place; an addition appends */
    cluster_apply(&c, HOIST_OBJECT_DELETE, "{\"kind\": \"Node\", \"metadata\": {\"name\": "
                                           "\"n1\"}}");
    cluster_node(&c, HOIST_OBJECT_ADD, "n5", NULL);
    round_both(&s, &c, got, sizeof got);
    assert_string_equal(got, "n3:drifted n5:empty ");
    assert_int_equal(s.n_cache, o->n_nodes);
    hoist_consolidator_free(&s);
    hoist_cluster_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_after_window),
        cmocka_unit_test(test_empty_skips),
        cmocka_unit_test(test_expired_forceful),
        cmocka_unit_test(test_do_not_disrupt_blocks),
        cmocka_unit_test(test_budget_count),
        cmocka_unit_test(test_budget_percent_rounds_up),
        cmocka_unit_test(test_budget_counts_disrupting),
        cmocka_unit_test(test_budget_reasons),
        cmocka_unit_test(test_budget_schedule),
        cmocka_unit_test(test_cron_matches),
        cmocka_unit_test(test_cron_active),
        cmocka_unit_test(test_cron_bad),
        cmocka_unit_test(test_headroom),
        cmocka_unit_test(test_non_hoist_nodes),
        cmocka_unit_test(test_order_deterministic),
        cmocka_unit_test(test_price),
        cmocka_unit_test(test_underutilized_fits_elsewhere),
        cmocka_unit_test(test_underutilized_blocking_pods),
        cmocka_unit_test(test_underutilized_multi_node),
        cmocka_unit_test(test_drift),
        cmocka_unit_test(test_replace_cheaper),
        cmocka_unit_test(test_multi_node_replace),
        cmocka_unit_test(test_pdb_holds_candidates),
        cmocka_unit_test(test_order_by_lifetime_left),
        cmocka_unit_test(test_cache_follows_the_cluster),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
