/*
 * test_sim_invariants.c - PodDisruptionBudgets in the simulated world and
 * the simulator's safety invariants:
 *   - model/pdb_eval.h: the Kubernetes arithmetic (counts, percentages
 *     rounded up, maxUnavailable 0, unhealthy pods, selectors);
 *   - sim/pdb.h: the incremental counts agree with the reference evaluator
 *     over a random walk of pod and PDB changes;
 *   - sim/invariants.h: the checker reports the violations it is fed (so it
 *     is not a no-op), budgets per reason, expiry and interruptions exempt,
 *     churn;
 *   - whole runs: a drain held back by a PDB waits and loses no pod, the
 *     same run with the refusal switched off breaks the PDB and the checker
 *     says so, a budget of one node removes eight empty nodes one at a time,
 *     and the bundled web trace does not churn.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hoist/provider.h>

#include "model/load.h"
#include "model/objects.h"
#include "model/pdb_eval.h"
#include "sim/invariants.h"
#include "sim/pdb.h"
#include "sim/report.h"
#include "sim/sim.h"
#include "sim_test_util.h"
#include "state/cluster.h"

/* ---- model/pdb_eval ------------------------------------------------------- */

/* A pod of namespace shop: labels app=<app>, bound to n1 and Running
 * (phase "Running"), pending (phase "Pending", no node) or terminating. */
static void pod_yaml(char *out, size_t cap, const char *name, const char *app, const char *how)
{
    const char *spec = strcmp(how, "pending") == 0 ? "{containers: [{name: c, image: x}]}"
                                                   : "{nodeName: n1, containers: [{name: c, "
                                                     "image: x}]}";
    const char *phase = strcmp(how, "pending") == 0 ? "Pending" : "Running";
    const char *del = strcmp(how, "terminating") == 0
                          ? ", deletionTimestamp: \"2026-01-05T00:00:00Z\"" : "";
    snprintf(out, cap,
             "---\napiVersion: v1\nkind: Pod\nmetadata: {name: %s, namespace: shop, labels: "
             "{app: %s}%s}\nspec: %s\nstatus: {phase: %s}\n",
             name, app, del, spec, phase);
}

/* Load text into o (fails the test on error). */
static void load(hoist_objects *o, const char *text)
{
    hoist_err err = {{0}};
    hoist_objects_init(o);
    if (hoist_objects_load_buffer(o, "test.yaml", text, strlen(text), &err) < 0)
        fail_msg("%s", err.msg);
}

/* Three web pods (web-0 and web-1 running, web-2 as `third`) and a PDB with
 * spec `pdb_spec` (YAML flow mapping body, e.g. "minAvailable: 2"). */
static void shop(hoist_objects *o, const char *pdb_spec, const char *third)
{
    char text[4096], p[600];
    text[0] = '\0';
    pod_yaml(p, sizeof p, "web-0", "web", "running");
    strcat(text, p);
    pod_yaml(p, sizeof p, "web-1", "web", "running");
    strcat(text, p);
    pod_yaml(p, sizeof p, "web-2", "web", third);
    strcat(text, p);
    pod_yaml(p, sizeof p, "db-0", "db", "running");
    strcat(text, p);
    if (pdb_spec) {
        snprintf(p, sizeof p,
                 "---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: "
                 "web-pdb, namespace: shop}\nspec: {%s}\n",
                 pdb_spec);
        strcat(text, p);
    }
    load(o, text);
}

static int check(const hoist_objects *o, const char *name, char *why, size_t cap)
{
    const hoist_pod *p = hoist_objects_find_pod(o, "shop", name);
    assert_non_null(p);
    return hoist_pdb_check_eviction(o, p, why, cap);
}

static void test_pdb_min_available_count(void **state)
{
    (void)state;
    hoist_objects o;
    char why[300];
    /* 3 healthy, minAvailable 3: nothing may go; the message names it */
    shop(&o, "minAvailable: 3, selector: {matchLabels: {app: web}}", "running");
    assert_int_equal(check(&o, "web-0", why, sizeof why), 1);
    assert_string_equal(why, "would violate PodDisruptionBudget shop/web-pdb: 3 of 3 healthy, "
                             "minAvailable 3");
    /* db-0 is not selected */
    assert_int_equal(check(&o, "db-0", why, sizeof why), 0);
    assert_string_equal(why, "");
    hoist_objects_free(&o);
    /* minAvailable 2 of 3 healthy: one may go */
    shop(&o, "minAvailable: 2, selector: {matchLabels: {app: web}}", "running");
    assert_int_equal(check(&o, "web-1", why, sizeof why), 0);
    hoist_objects_free(&o);
    /* web-2 pending: 2 of 3 healthy, minAvailable 2: refused for the
     * healthy ones, allowed for the pending one (it takes nothing) */
    shop(&o, "minAvailable: 2, selector: {matchLabels: {app: web}}", "pending");
    assert_int_equal(check(&o, "web-0", why, sizeof why), 1);
    assert_string_equal(why, "would violate PodDisruptionBudget shop/web-pdb: 2 of 3 healthy, "
                             "minAvailable 2");
    assert_int_equal(check(&o, "web-2", why, sizeof why), 0);
    hoist_objects_free(&o);
    /* a terminating pod is not healthy: 2 of 3 again */
    shop(&o, "minAvailable: 2, selector: {matchLabels: {app: web}}", "terminating");
    assert_int_equal(check(&o, "web-1", why, sizeof why), 1);
    assert_int_equal(check(&o, "web-2", why, sizeof why), 0);
    hoist_objects_free(&o);
}

static void test_pdb_percent_and_max_unavailable(void **state)
{
    (void)state;
    hoist_objects o;
    char why[300];
    /* minAvailable 50% of 3 rounds up to 2: one of 3 healthy may go */
    shop(&o, "minAvailable: \"50%\", selector: {matchLabels: {app: web}}", "running");
    assert_int_equal(check(&o, "web-0", why, sizeof why), 0);
    hoist_objects_free(&o);
    /* ... and with 2 healthy none */
    shop(&o, "minAvailable: \"50%\", selector: {matchLabels: {app: web}}", "pending");
    assert_int_equal(check(&o, "web-0", why, sizeof why), 1);
    assert_string_equal(why, "would violate PodDisruptionBudget shop/web-pdb: 2 of 3 healthy, "
                             "minAvailable 50% = 2");
    hoist_objects_free(&o);
    /* maxUnavailable 0: never */
    shop(&o, "maxUnavailable: 0, selector: {matchLabels: {app: web}}", "running");
    assert_int_equal(check(&o, "web-2", why, sizeof why), 1);
    assert_string_equal(why, "would violate PodDisruptionBudget shop/web-pdb: 3 of 3 healthy, "
                             "maxUnavailable 0");
    hoist_objects_free(&o);
    /* maxUnavailable 1% of 3 rounds UP to 1 pod: one may go */
    shop(&o, "maxUnavailable: \"1%\", selector: {matchLabels: {app: web}}", "running");
    assert_int_equal(check(&o, "web-2", why, sizeof why), 0);
    hoist_objects_free(&o);
    /* ... but not while one is already down */
    shop(&o, "maxUnavailable: \"1%\", selector: {matchLabels: {app: web}}", "pending");
    assert_int_equal(check(&o, "web-0", why, sizeof why), 1);
    assert_string_equal(why, "would violate PodDisruptionBudget shop/web-pdb: 2 of 3 healthy, "
                             "maxUnavailable 1% = 1");
    hoist_objects_free(&o);
}

static void test_pdb_selectors_and_arithmetic(void **state)
{
    (void)state;
    hoist_objects o;
    char why[300];
    /* no PDB at all */
    shop(&o, NULL, "running");
    assert_int_equal(check(&o, "web-0", why, sizeof why), 0);
    hoist_objects_free(&o);
    /* a selector that matches nothing */
    shop(&o, "maxUnavailable: 0, selector: {matchLabels: {app: nothing}}", "running");
    assert_int_equal(check(&o, "web-0", why, sizeof why), 0);
    hoist_objects_free(&o);
    /* no selector (null): selects no pod */
    shop(&o, "maxUnavailable: 0", "running");
    assert_int_equal(check(&o, "web-0", why, sizeof why), 0);
    hoist_objects_free(&o);
    /* {} selects every pod of the namespace, db-0 included */
    shop(&o, "maxUnavailable: 0, selector: {}", "running");
    assert_int_equal(check(&o, "db-0", why, sizeof why), 1);
    assert_non_null(strstr(why, "4 of 4 healthy"));
    hoist_objects_free(&o);
    /* the same pod names in another namespace are not selected */
    load(&o, "apiVersion: v1\nkind: Pod\nmetadata: {name: web-0, namespace: other, labels: "
             "{app: web}}\nspec: {nodeName: n1, containers: [{name: c, image: x}]}\nstatus: "
             "{phase: Running}\n---\napiVersion: policy/v1\nkind: PodDisruptionBudget\n"
             "metadata: {name: web-pdb, namespace: shop}\nspec: {maxUnavailable: 0, selector: "
             "{matchLabels: {app: web}}}\n");
    const hoist_pod *p = hoist_objects_find_pod(&o, "other", "web-0");
    assert_non_null(p);
    assert_int_equal(hoist_pdb_check_eviction(&o, p, why, sizeof why), 0);
    hoist_objects_free(&o);
    /* the rounding itself, on a hand-made PDB */
    hoist_pdb pdb;
    memset(&pdb, 0, sizeof pdb);
    pdb.min_available = (hoist_int_or_percent){true, true, 50};
    assert_int_equal(hoist_pdb_desired_healthy(&pdb, 7), 4); /* the docs' example */
    assert_int_equal(hoist_pdb_desired_healthy(&pdb, 0), 0);
    pdb.min_available = (hoist_int_or_percent){true, false, 5};
    assert_int_equal(hoist_pdb_disruptions_allowed(&pdb, 3, 3), 0); /* never negative */
    pdb.min_available = (hoist_int_or_percent){0};
    pdb.max_unavailable = (hoist_int_or_percent){true, true, 30};
    assert_int_equal(hoist_pdb_desired_healthy(&pdb, 10), 7);
    assert_int_equal(hoist_pdb_desired_healthy(&pdb, 11), 7); /* 3.3 rounds up to 4 */
    pdb.max_unavailable = (hoist_int_or_percent){true, false, 5};
    assert_int_equal(hoist_pdb_desired_healthy(&pdb, 3), 0); /* never below 0 */
    pdb.max_unavailable = (hoist_int_or_percent){0};
    assert_int_equal(hoist_pdb_disruptions_allowed(&pdb, 3, 2), 2); /* neither field */
}

/* Bad PDBs are refused by the decoder with the field named, so the
 * evaluator only ever sees well-formed ones. */
static void test_pdb_bad_input(void **state)
{
    (void)state;
    static const struct {
        const char *spec, *field;
    } cases[] = {
        {"minAvailable: 1, maxUnavailable: 1, selector: {}", "maxUnavailable"},
        {"minAvailable: \"abc%\", selector: {}", "minAvailable"},
        {"maxUnavailable: [1], selector: {}", "maxUnavailable"},
        {"minAvailable: 99999999999, selector: {}", "minAvailable"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[600];
        snprintf(text, sizeof text,
                 "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: bad, "
                 "namespace: shop}\nspec: {%s}\n",
                 cases[i].spec);
        hoist_objects o;
        hoist_objects_init(&o);
        hoist_err err = {{0}};
        int rc = hoist_objects_load_buffer(&o, "bad.yaml", text, strlen(text), &err);
        if (rc == 0)
            fail_msg("case %zu accepted: %s", i, cases[i].spec);
        if (!strstr(err.msg, cases[i].field))
            fail_msg("case %zu: \"%s\" does not name %s", i, err.msg, cases[i].field);
        hoist_objects_free(&o);
    }
}

/* ---- sim/pdb: incremental counts against the reference ------------------- */

static uint64_t rng_state = 42;
static uint32_t rnd(uint32_t n)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(rng_state >> 33) % n;
}

static int apply_json(hoist_cluster *c, hoist_object_op op, json_t *obj)
{
    hoist_object_event ev = {.op = op, .object = obj};
    hoist_err err = {{0}};
    int rc = hoist_cluster_apply(c, &ev, &err);
    json_decref(obj);
    if (rc < 0)
        fail_msg("%s", err.msg);
    return rc;
}

/* Every pod's verdict and message from the tracker equal the reference's. */
static void compare_all(hoist_sim_pdbs *t, hoist_cluster *c)
{
    hoist_objects *o = hoist_cluster_objects(c);
    for (size_t i = 0; i < o->n_pods; i++) {
        char a[300], b[300];
        int ra = hoist_sim_pdbs_check(t, o->pods[i], a, sizeof a);
        int rb = hoist_pdb_check_eviction(o, o->pods[i], b, sizeof b);
        if (ra != rb || strcmp(a, b) != 0)
            fail_msg("pod %s/%s: tracker %d \"%s\", reference %d \"%s\"", o->pods[i]->ns,
                     o->pods[i]->name, ra, a, rb, b);
    }
}

static void test_tracker_matches_reference(void **state)
{
    (void)state;
    static const char *nss[] = {"a", "b"};
    static const char *apps[] = {"web", "api", "db"};
    static const char *phases[] = {"Running", "Running", "Pending", "Succeeded"};
    static const char *pdb_specs[] = {
        "{\"minAvailable\": 2, \"selector\": {\"matchLabels\": {\"app\": \"web\"}}}",
        "{\"minAvailable\": \"60%\", \"selector\": {\"matchLabels\": {\"app\": \"api\"}}}",
        "{\"maxUnavailable\": 1, \"selector\": {\"matchExpressions\": [{\"key\": \"app\", "
        "\"operator\": \"In\", \"values\": [\"web\", \"db\"]}]}}",
        "{\"maxUnavailable\": \"25%\", \"selector\": {}}",
        "{\"maxUnavailable\": 0}",
    };
    hoist_cluster c;
    hoist_cluster_init(&c);
    hoist_sim_pdbs t;
    hoist_sim_pdbs_init(&t);
    size_t refusals = 0, checks = 0;
    for (int step = 0; step < 1500; step++) {
        const char *ns = nss[rnd(2)];
        char name[32];
        uint32_t what = rnd(20);
        if (what == 0) { /* a PDB changes or goes */
            snprintf(name, sizeof name, "pdb-%u", rnd(3));
            if (rnd(4) == 0) {
                apply_json(&c, HOIST_OBJECT_DELETE,
                           hoist_object_ref("policy/v1", "PodDisruptionBudget", ns, name));
            } else {
                char text[512];
                snprintf(text, sizeof text,
                         "{\"apiVersion\": \"policy/v1\", \"kind\": \"PodDisruptionBudget\", "
                         "\"metadata\": {\"name\": \"%s\", \"namespace\": \"%s\"}, \"spec\": %s}",
                         name, ns, pdb_specs[rnd(5)]);
                apply_json(&c, HOIST_OBJECT_UPDATE, json_loads(text, 0, NULL));
            }
            assert_int_equal(hoist_sim_pdbs_changed(&t, &c, "PodDisruptionBudget", ns, name), 0);
        } else {
            snprintf(name, sizeof name, "p%u", rnd(25));
            if (what < 4) {
                apply_json(&c, HOIST_OBJECT_DELETE, hoist_object_ref(NULL, "Pod", ns, name));
            } else if (what < 7) {
                hoist_cluster_bind(&c, ns, name, "n1");
            } else {
                const char *phase = phases[rnd(4)];
                bool bound = strcmp(phase, "Pending") != 0 && rnd(3) != 0;
                char text[512];
                snprintf(text, sizeof text,
                         "{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": "
                         "\"%s\", \"namespace\": \"%s\", \"labels\": {\"app\": \"%s\"}%s}, "
                         "\"spec\": {%s\"containers\": [{\"name\": \"c\", \"image\": \"x\"}]}, "
                         "\"status\": {\"phase\": \"%s\"}}",
                         name, ns, apps[rnd(3)],
                         rnd(8) == 0 ? ", \"deletionTimestamp\": \"2026-01-05T00:00:00Z\"" : "",
                         bound ? "\"nodeName\": \"n1\", " : "", phase);
                apply_json(&c, HOIST_OBJECT_UPDATE, json_loads(text, 0, NULL));
            }
            assert_int_equal(hoist_sim_pdbs_changed(&t, &c, "Pod", ns, name), 0);
        }
        if (step % 10 == 0) {
            compare_all(&t, &c);
            hoist_objects *o = hoist_cluster_objects(&c);
            for (size_t i = 0; i < o->n_pods; i++) {
                char why[300];
                checks++;
                refusals += hoist_sim_pdbs_check(&t, o->pods[i], why, sizeof why);
            }
        }
    }
    compare_all(&t, &c);
    /* the walk exercised both answers */
    assert_true(refusals > 0);
    assert_true(refusals < checks);
    hoist_sim_pdbs_free(&t);
    hoist_cluster_free(&c);
}

/* ---- sim/invariants: the checker catches what it is fed ------------------- */

static void add_text(hoist_cluster *c, hoist_sim_pdbs *t, const char *text)
{
    json_t *obj = json_loads(text, 0, NULL);
    assert_non_null(obj);
    const json_t *md = json_object_get(obj, "metadata");
    char kind[64], ns[64], name[64];
    snprintf(kind, sizeof kind, "%s", json_string_value(json_object_get(obj, "kind")));
    snprintf(ns, sizeof ns, "%s", json_string_value(json_object_get(md, "namespace")));
    snprintf(name, sizeof name, "%s", json_string_value(json_object_get(md, "name")));
    apply_json(c, HOIST_OBJECT_UPDATE, obj);
    assert_int_equal(hoist_sim_pdbs_changed(t, c, kind, ns, name), 0);
}

static void running_pod(hoist_cluster *c, hoist_sim_pdbs *t, const char *name, bool running)
{
    char text[512];
    snprintf(text, sizeof text,
             "{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"%s\", "
             "\"namespace\": \"shop\", \"labels\": {\"app\": \"web\"}}, \"spec\": {%s"
             "\"containers\": [{\"name\": \"c\", \"image\": \"x\"}]}, \"status\": {\"phase\": "
             "\"%s\"}}",
             name, running ? "\"nodeName\": \"n1\", " : "", running ? "Running" : "Pending");
    add_text(c, t, text);
}

/* Evict pod `name` as the simulator does with the refusal switched off. */
static void evict_unchecked(hoist_cluster *c, hoist_sim_pdbs *t, hoist_invariants *v,
                            const char *name)
{
    const hoist_pod *p = hoist_cluster_find_pod(c, "shop", name);
    assert_non_null(p);
    assert_int_equal(hoist_invariants_evicting(v, t, p), 0);
    running_pod(c, t, name, false); /* pending again */
}

static void test_checker_detects_pdb_violation(void **state)
{
    (void)state;
    hoist_cluster c;
    hoist_cluster_init(&c);
    hoist_sim_pdbs t;
    hoist_sim_pdbs_init(&t);
    hoist_invariants v;
    hoist_invariants_init(&v, 0, false);
    add_text(&c, &t, "{\"apiVersion\": \"policy/v1\", \"kind\": \"PodDisruptionBudget\", "
                     "\"metadata\": {\"name\": \"web-pdb\", \"namespace\": \"shop\"}, \"spec\": "
                     "{\"minAvailable\": 2, \"selector\": {\"matchLabels\": {\"app\": "
                     "\"web\"}}}}");
    running_pod(&c, &t, "web-0", true);
    running_pod(&c, &t, "web-1", true);
    running_pod(&c, &t, "web-2", true);
    /* one eviction: 2 of 3 left, fine */
    evict_unchecked(&c, &t, &v, "web-0");
    hoist_invariants_after_event(&v, &t, 1000);
    assert_int_equal(v.pdb_violations, 0);
    assert_int_equal(v.checks, 1);
    /* the refusal would stop the next one; without it, one violation */
    char why[300];
    assert_int_equal(hoist_sim_pdbs_check(&t, hoist_cluster_find_pod(&c, "shop", "web-1"), why,
                                          sizeof why),
                     1);
    evict_unchecked(&c, &t, &v, "web-1");
    /* the already pending pod counts for nothing */
    evict_unchecked(&c, &t, &v, "web-0");
    hoist_invariants_after_event(&v, &t, 2000);
    assert_int_equal(v.pdb_violations, 1);
    assert_int_equal(v.n_listed, 1);
    assert_int_equal(v.listed[0].kind, HOIST_INVARIANT_PDB);
    assert_int_equal(v.listed[0].at_ms, 2000);
    assert_string_equal(v.listed[0].object, "PodDisruptionBudget shop/web-pdb");
    assert_non_null(strstr(v.listed[0].detail, "1 of 3 healthy"));
    /* an event without evictions judges nothing */
    hoist_invariants_after_event(&v, &t, 3000);
    assert_int_equal(v.pdb_violations, 1);
    hoist_invariants_free(&v);
    hoist_sim_pdbs_free(&t);
    hoist_cluster_free(&c);
}

/* A NodePool decoded from YAML (o owns it). */
static const hoist_nodepool *nodepool(hoist_objects *o, const char *disruption,
                                      const char *expire)
{
    char text[1500];
    snprintf(text, sizeof text,
             "apiVersion: hoist.dev/v1\nkind: NodePool\nmetadata: {name: np}\nspec:\n"
             "  template:\n    spec:\n      expireAfter: %s\n  disruption:\n%s",
             expire, disruption);
    load(o, text);
    assert_int_equal(o->n_nodepools, 1);
    return o->nodepools[0];
}

/* 2026-01-05 (a Monday) 00:00:00 UTC */
#define MONDAY_S 1767571200

static void test_budget_allows(void **state)
{
    (void)state;
    hoist_objects o;
    const hoist_nodepool *np =
        nodepool(&o,
                 "    consolidateAfter: 1m\n    budgets:\n    - nodes: \"20%\"\n"
                 "    - nodes: \"0\"\n      reasons: [Drifted]\n"
                 "    - nodes: \"1\"\n      reasons: [Underutilized]\n"
                 "      schedule: \"0 9 * * 1-5\"\n      duration: 8h\n",
                 "720h");
    /* Empty: only 20% of 7 = 1.4, rounded up to 2 */
    assert_int_equal(hoist_invariants_budget_allows(np, HOIST_REASON_EMPTY, 7, MONDAY_S), 2);
    /* Drifted: 0 */
    assert_int_equal(hoist_invariants_budget_allows(np, HOIST_REASON_DRIFTED, 7, MONDAY_S), 0);
    /* Underutilized at midnight: the scheduled budget is inactive: 2 */
    assert_int_equal(hoist_invariants_budget_allows(np, HOIST_REASON_UNDERUTILIZED, 7, MONDAY_S),
                     2);
    /* ... at 10:00 it is: 1 */
    assert_int_equal(hoist_invariants_budget_allows(np, HOIST_REASON_UNDERUTILIZED, 7,
                                                    MONDAY_S + 10 * 3600),
                     1);
    /* either of Drifted and Underutilized at 10:00: the more permissive, 1 */
    assert_int_equal(hoist_invariants_budget_allows(np,
                                                    HOIST_REASON_DRIFTED |
                                                        HOIST_REASON_UNDERUTILIZED,
                                                    7, MONDAY_S + 10 * 3600),
                     1);
    hoist_objects_free(&o);
    /* no budget for a reason: unlimited */
    np = nodepool(&o, "    budgets:\n    - nodes: \"3\"\n      reasons: [Empty]\n", "720h");
    assert_int_equal(hoist_invariants_budget_allows(np, HOIST_REASON_DRIFTED, 7, MONDAY_S),
                     SIZE_MAX);
    assert_int_equal(hoist_invariants_budget_allows(np, HOIST_REASON_EMPTY, 7, MONDAY_S), 3);
    hoist_objects_free(&o);
}

static void test_checker_budget_and_churn(void **state)
{
    (void)state;
    hoist_objects o;
    const hoist_nodepool *np = nodepool(
        &o, "    consolidateAfter: 5m\n    budgets:\n    - nodes: \"1\"\n", "1h");
    hoist_invariants v;
    hoist_invariants_init(&v, 0, false);
    uint64_t t0 = (uint64_t)MONDAY_S * 1000;
    hoist_invariant_node a = {"a", np, t0, 4, false, false};
    hoist_invariant_node b = {"b", np, t0, 4, false, true};
    /* one at a time: fine, also when its taint and then its termination
     * are both reported */
    assert_int_equal(hoist_invariants_disrupt_start(&v, &a, t0 + 600000), 0);
    assert_int_equal(hoist_invariants_disrupt_start(&v, &a, t0 + 601000), 0);
    assert_true(hoist_invariants_disrupting(&v, "a"));
    assert_int_equal(v.budget_violations, 0);
    hoist_invariants_disrupt_end(&v, "a");
    assert_false(hoist_invariants_disrupting(&v, "a"));
    assert_int_equal(hoist_invariants_disrupt_start(&v, &b, t0 + 620000), 0);
    assert_int_equal(v.budget_violations, 0);
    /* a second one while b is in progress: over the budget of 1 */
    hoist_invariant_node c = {"c", np, t0, 4, false, true};
    assert_int_equal(hoist_invariants_disrupt_start(&v, &c, t0 + 630000), 0);
    assert_int_equal(v.budget_violations, 1);
    assert_int_equal(v.n_listed, 1);
    assert_int_equal(v.listed[0].kind, HOIST_INVARIANT_BUDGET);
    assert_string_equal(v.listed[0].object, "Node c");
    assert_non_null(strstr(v.listed[0].detail, "2 nodes disrupted at once, its budgets allow 1"));
    /* a noticed (interrupted) node is involuntary: not counted, not judged */
    hoist_invariant_node d = {"d", np, t0, 4, true, true};
    assert_int_equal(hoist_invariants_disrupt_start(&v, &d, t0 + 640000), 0);
    assert_int_equal(v.budget_violations, 1);
    /* an expired node (older than 1h) is not judged... */
    hoist_invariant_node e = {"e", np, t0, 4, false, true};
    assert_int_equal(hoist_invariants_disrupt_start(&v, &e, t0 + 3600000), 0);
    assert_int_equal(v.budget_violations, 1);
    /* ... but counts: with b, c and e in progress, f is the fourth */
    hoist_invariants_disrupt_end(&v, "d");
    hoist_invariant_node f = {"f", np, t0 + 3000000, 4, false, false};
    uint64_t churn_before = v.churn;
    assert_int_equal(hoist_invariants_disrupt_start(&v, &f, t0 + 3100000), 0);
    assert_int_equal(v.budget_violations, 2);
    assert_int_equal(v.listed[v.n_listed - 2].kind, HOIST_INVARIANT_BUDGET);
    assert_non_null(strstr(v.listed[v.n_listed - 2].detail, "4 nodes disrupted at once"));
    /* f went 100 s after its launch, within consolidateAfter 5m: churn */
    assert_int_equal(v.churn, churn_before + 1);
    assert_int_equal(v.listed[v.n_listed - 1].kind, HOIST_INVARIANT_CHURN);
    assert_non_null(strstr(v.listed[v.n_listed - 1].detail, "100.0 s after its launch"));
    /* a, b and c went 600+ s after launch: no churn for them */
    assert_int_equal(v.churn, 1);
    hoist_invariants_free(&v);
    hoist_objects_free(&o);
}

/* ---- whole runs ----------------------------------------------------------- */

static void simulate(run *r, const char *trace, const char *objects, const char *catalog,
                     double hours, bool ignore_pdbs)
{
    memset(r, 0, sizeof *r);
    json_t *objs = objects_of(objects);
    char pcfg[1200];
    snprintf(pcfg, sizeof pcfg, "{\"catalog\": \"%s\", \"launch_latency_ms\": 0, \"seed\": 1}",
             src_path(catalog));
    hoist_sim_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.seed = 1;
    cfg.end_after_ms = (uint64_t)(hours * 3600000.0);
    cfg.check_invariants = true;
    cfg.evictions_ignore_pdbs = ignore_pdbs;
    hoist_sim_inputs in;
    memset(&in, 0, sizeof in);
    in.trace_path = src_path(trace);
    in.objects = objs;
    in.provider = hoist_provider_entry(HOIST_PROVIDER_ABI_VERSION);
    in.provider_config = pcfg;
    in.kind = HOIST_SIM_HOIST;
    r->rc = hoist_sim_run(&cfg, &in, &r->report, &r->stats, &r->err);
    if (r->rc < 0)
        fail_msg("%s", r->err.msg);
    hoist_report_get_summary(r->report, &r->sum);
    json_decref(objs);
}

static void print_violations(const run *r)
{
    for (size_t i = 0; i < r->stats.n_violations; i++)
        print_message("  %s at %.1f s: %s: %s\n",
                      hoist_invariant_kind_name(r->stats.violations[i].kind),
                      (double)(r->stats.violations[i].at_ms - 1767571200000ull) / 1000.0,
                      r->stats.violations[i].object, r->stats.violations[i].detail);
}

/* The machine holding shop/web expires after 10 min; its PDB (minAvailable
 * 2 of 3) lets one pod go at a time: the drain waits for each evicted pod
 * to run elsewhere before the next may go. No PDB violation, every pod runs
 * at the end, and the expired machines were all replaced. */
static void test_run_pdb_holds_drain(void **state)
{
    (void)state;
    run r;
    simulate(&r, "tests/data/sim/pdb-web.jsonl", "tests/data/sim/nodepool-pdb-expire.yaml",
             "tests/data/sim/catalog.json", 0.5, false);
    print_violations(&r);
    assert_true(r.stats.evictions_refused > 0);
    assert_true(r.stats.pods_evicted >= 3); /* the first machine was drained */
    assert_int_equal(r.stats.pdb_violations, 0);
    assert_true(r.stats.invariant_checks > 0);
    assert_int_equal(r.stats.pods_pending_at_end, 0);
    assert_int_equal(r.stats.pods_bound_at_end, 3);
    assert_true(r.stats.machines_terminated >= 1); /* the expired one went */
    assert_int_equal(r.stats.churn, 0);             /* expiry is not hoist's choice */
    hoist_report_free(r.report);
}

/* The same run with the refusal switched off (test only): the drain evicts
 * all three at once, the PDB is broken, and the checker reports it. */
static void test_run_checker_sees_broken_pdb(void **state)
{
    (void)state;
    run r;
    simulate(&r, "tests/data/sim/pdb-web.jsonl", "tests/data/sim/nodepool-pdb-expire.yaml",
             "tests/data/sim/catalog.json", 0.5, true);
    assert_int_equal(r.stats.evictions_refused, 0);
    assert_true(r.stats.pdb_violations >= 1);
    assert_true(r.stats.n_violations >= 1);
    assert_int_equal(r.stats.violations[0].kind, HOIST_INVARIANT_PDB);
    assert_string_equal(r.stats.violations[0].object, "PodDisruptionBudget shop/web-pdb");
    /* the first expiry: created 20-40 s after launch, + 10 min */
    assert_true(r.stats.violations[0].at_ms >= 1767571200000ull + 600000);
    hoist_report_free(r.report);
}

/* Eight empty nodes under a budget of one node: removed one at a time (the
 * checker judged each start), all gone by the end, no churn. */
static void test_run_budget_one_at_a_time(void **state)
{
    (void)state;
    run r;
    simulate(&r, "tests/data/sim/empty-eight.jsonl", "tests/data/sim/nodepool-budget-one.yaml",
             "tests/data/sim/catalog.json", 1, false);
    print_violations(&r);
    assert_int_equal(r.stats.machines_launched, 8);
    assert_int_equal(r.stats.machines_terminated, 8);
    assert_int_equal(r.stats.machines_alive_at_end, 0);
    assert_true(r.stats.invariant_checks >= 8);
    assert_int_equal(r.stats.budget_violations, 0);
    assert_int_equal(r.stats.peak_disrupting, 1);
    assert_int_equal(r.stats.churn, 0);
    /* one at a time took longer than all at once (budget 100%; the default,
     * 10% of 8 rounded up, would be 1 again) */
    run all;
    simulate(&all, "tests/data/sim/empty-eight.jsonl", "tests/data/sim/nodepool-budget-all.yaml", "tests/data/sim/catalog.json", 1,
             false);
    assert_int_equal(all.stats.machines_terminated, 8);
    assert_int_equal(all.stats.budget_violations, 0);
    assert_true(all.sum.cost < r.sum.cost);
    hoist_report_free(all.report);
    hoist_report_free(r.report);
}

/* Eight half-used nodes that four could hold: with a budget of 100% hoist
 * drains several at once (the checker sees them together); with a budget
 * of one node never more than one, and the checker agrees. */
static void test_run_budget_underutilized(void **state)
{
    (void)state;
    run all, one;
    simulate(&all, "tests/data/sim/half-empty.jsonl",
             "tests/data/sim/nodepool-under-budget-all.yaml", "tests/data/sim/catalog.json", 1,
             false);
    print_violations(&all);
    assert_true(all.stats.machines_terminated >= 2);
    assert_true(all.stats.peak_disrupting >= 2); /* the checker counts concurrency */
    assert_int_equal(all.stats.budget_violations, 0);
    assert_int_equal(all.stats.churn, 0);
    assert_int_equal(all.stats.pods_pending_at_end, 0);
    simulate(&one, "tests/data/sim/half-empty.jsonl",
             "tests/data/sim/nodepool-under-budget-one.yaml", "tests/data/sim/catalog.json", 1,
             false);
    print_violations(&one);
    assert_true(one.stats.machines_terminated >= 1);
    assert_int_equal(one.stats.peak_disrupting, 1);
    assert_int_equal(one.stats.budget_violations, 0);
    assert_int_equal(one.stats.churn, 0);
    assert_int_equal(one.stats.pods_pending_at_end, 0);
    hoist_report_free(all.report);
    hoist_report_free(one.report);
}

/* The bundled web trace over the bundled catalog and NodePools: no machine
 * is removed within consolidateAfter of its launch, no budget exceeded. */
static void test_run_web_trace_no_churn(void **state)
{
    (void)state;
    run r;
    simulate(&r, "contrib/traces/web-diurnal.jsonl", "contrib/traces/nodepools.yaml",
             "contrib/catalog/us-east-1.json", 0, false);
    print_violations(&r);
    print_message("web-diurnal: %llu machines launched, %llu terminated, %llu evictions "
                  "refused, %llu checks, churn %llu, budget violations %llu, pdb %llu\n",
                  (unsigned long long)r.stats.machines_launched,
                  (unsigned long long)r.stats.machines_terminated,
                  (unsigned long long)r.stats.evictions_refused,
                  (unsigned long long)r.stats.invariant_checks,
                  (unsigned long long)r.stats.churn,
                  (unsigned long long)r.stats.budget_violations,
                  (unsigned long long)r.stats.pdb_violations);
    assert_true(r.stats.machines_terminated > 0); /* hoist did remove machines */
    assert_true(r.stats.invariant_checks > 0);
    assert_int_equal(r.stats.churn, 0);
    assert_int_equal(r.stats.budget_violations, 0);
    assert_int_equal(r.stats.pdb_violations, 0);
    hoist_report_free(r.report);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pdb_min_available_count),
        cmocka_unit_test(test_pdb_percent_and_max_unavailable),
        cmocka_unit_test(test_pdb_selectors_and_arithmetic),
        cmocka_unit_test(test_pdb_bad_input),
        cmocka_unit_test(test_tracker_matches_reference),
        cmocka_unit_test(test_checker_detects_pdb_violation),
        cmocka_unit_test(test_budget_allows),
        cmocka_unit_test(test_checker_budget_and_churn),
        cmocka_unit_test(test_run_pdb_holds_drain),
        cmocka_unit_test(test_run_checker_sees_broken_pdb),
        cmocka_unit_test(test_run_budget_one_at_a_time),
        cmocka_unit_test(test_run_budget_underutilized),
        cmocka_unit_test(test_run_web_trace_no_churn),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
