/* tests/unit/test_usage.c - per-node pod usage kept incrementally (model/usage.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "model/usage.h"

/* A pod on node (NULL: waiting) requesting cpu_milli. */
static hoist_pod pod(const char *name, const char *node, int64_t cpu_milli)
{
    hoist_pod p;
    memset(&p, 0, sizeof p);
    p.ns = "default";
    p.name = name;
    p.node_name = node;
    p.phase = node ? "Running" : "Pending";
    p.requests.v[HOIST_RES_CPU] = cpu_milli;
    p.requests.v[HOIST_RES_PODS] = 1000;
    return p;
}

static void test_sums_and_counts(void **state)
{
    (void)state;
    hoist_usage u;
    hoist_usage_init(&u);
    hoist_pod a = pod("a", "n1", 500), b = pod("b", "n1", 250), ds = pod("ds", "n1", 100);
    hoist_pod w = pod("w", NULL, 100), done = pod("done", "n1", 900);
    ds.daemonset_owned = true;
    b.priority = 7;
    b.has_deletion_cost = true;
    b.deletion_cost = 3;
    b.do_not_disrupt = true;
    done.finished = true;
    assert_int_equal(hoist_usage_track(&u, 0, &a), 0);
    assert_int_equal(hoist_usage_track(&u, 1, &b), 0);
    assert_int_equal(hoist_usage_track(&u, 2, &ds), 0);
    assert_int_equal(hoist_usage_track(&u, 3, &w), 0);
    assert_int_equal(hoist_usage_track(&u, 4, &done), 0);
    const hoist_node_usage *n1 = hoist_usage_of(&u, "n1");
    assert_non_null(n1);
    assert_int_equal(n1->n_pods, 3);           /* the finished pod holds nothing */
    assert_int_equal(n1->n_work, 2);           /* the DaemonSet pod is not workload */
    assert_int_equal(n1->requested.v[HOIST_RES_CPU], 850);
    assert_int_equal(n1->requested.v[HOIST_RES_PODS], 3000);
    assert_int_equal(n1->priority_sum, 7);
    assert_int_equal(n1->deletion_cost_sum, 3);
    assert_int_equal(n1->n_do_not_disrupt, 1);
    assert_int_equal(u.n_waiting, 1);
    assert_ptr_equal(hoist_usage_waiting(&u, 0), &w);
    assert_int_equal(u.n_tracked, 5);
    assert_null(hoist_usage_of(&u, "n2"));

    /* b moves to n2: n1 loses exactly its share */
    hoist_pod b2 = b;
    b2.node_name = "n2";
    assert_int_equal(hoist_usage_track(&u, 1, &b2), 0);
    n1 = hoist_usage_of(&u, "n1");
    assert_int_equal(n1->requested.v[HOIST_RES_CPU], 600);
    assert_int_equal(n1->n_work, 1);
    assert_int_equal(n1->priority_sum, 0);
    assert_int_equal(n1->n_do_not_disrupt, 0);
    assert_int_equal(hoist_usage_of(&u, "n2")->requested.v[HOIST_RES_CPU], 250);

    /* the waiting pod is placed: no longer waiting */
    hoist_pod w2 = w;
    w2.node_name = "n2";
    assert_int_equal(hoist_usage_track(&u, 3, &w2), 0);
    assert_int_equal(u.n_waiting, 0);
    assert_int_equal(hoist_usage_of(&u, "n2")->n_pods, 2);

    /* forgetting everything on a node removes it */
    hoist_usage_forget(&u, 0);
    hoist_usage_forget(&u, 2);
    hoist_usage_forget(&u, 2); /* twice: nothing */
    assert_null(hoist_usage_of(&u, "n1"));
    assert_int_equal(u.n_tracked, 3);
    hoist_usage_reset(&u);
    assert_int_equal(u.n_tracked, 0);
    assert_null(hoist_usage_of(&u, "n2"));
    hoist_usage_free(&u);
}

/* Nodes come and go by the thousand: slots are reused, retired names are
 * dropped when the name map is rebuilt, and lookups stay right. */
static void test_node_churn(void **state)
{
    (void)state;
    hoist_usage u;
    hoist_usage_init(&u);
    static char names[3000][16];
    static hoist_pod pods[3000];
    for (size_t i = 0; i < 3000; i++) {
        snprintf(names[i], sizeof names[i], "node-%zu", i);
        pods[i] = pod("p", names[i], 100);
        assert_int_equal(hoist_usage_track(&u, i % 10, &pods[i]), 0); /* 10 ids: moves */
        if (i >= 10)
            assert_null(hoist_usage_of(&u, names[i - 10]));
        assert_non_null(hoist_usage_of(&u, names[i]));
    }
    assert_int_equal(u.n_live_slots, 10);
    assert_true(u.n_slots <= 11);   /* freed slots were reused */
    assert_true(u.n_retired < 64);  /* the map was rebuilt along the way */
    for (size_t i = 2990; i < 3000; i++)
        assert_int_equal(hoist_usage_of(&u, names[i])->n_pods, 1);
    hoist_usage_free(&u);
}

/* Built from a snapshot: ids are positions; a pod nobody holds is waiting. */
static void test_build(void **state)
{
    (void)state;
    hoist_objects o;
    hoist_objects_init(&o);
    hoist_pod a = pod("a", "n1", 100), b = pod("b", NULL, 100), c = pod("c", "n1", 300);
    c.terminating = true;
    hoist_pod *list[] = {&a, &b, &c};
    o.pods = list;
    o.n_pods = 3;
    hoist_usage u;
    hoist_usage_init(&u);
    assert_int_equal(hoist_usage_build(&u, &o), 0);
    assert_int_equal(hoist_usage_of(&u, "n1")->requested.v[HOIST_RES_CPU], 100);
    assert_int_equal(u.n_waiting, 1);
    assert_int_equal(u.n_tracked, 3);
    assert_int_equal(hoist_usage_build(&u, &o), 0); /* again: the same, not doubled */
    assert_int_equal(hoist_usage_of(&u, "n1")->n_pods, 1);
    hoist_usage_free(&u);
    o.pods = NULL;
    o.n_pods = 0;
    hoist_objects_free(&o);
}

/* Room for the smallest waiting request: false only when no schedulable
 * node could take any waiting pod by resources. */
static void test_room_for_waiting(void **state)
{
    (void)state;
    hoist_objects o;
    hoist_objects_init(&o);
    hoist_node full, cordoned, booting;
    memset(&full, 0, sizeof full);
    full.name = "full";
    full.ready = 1;
    full.allocatable.v[HOIST_RES_CPU] = 1000;
    full.allocatable.v[HOIST_RES_PODS] = 110000;
    cordoned = full;
    cordoned.name = "cordoned";
    cordoned.unschedulable = true;
    cordoned.allocatable.v[HOIST_RES_CPU] = 8000;
    booting = cordoned;
    booting.name = "booting";
    booting.unschedulable = false;
    booting.ready = 0;
    hoist_node *nodes[] = {&full, &cordoned, &booting};
    o.nodes = nodes;
    o.n_nodes = 3;
    hoist_pod run = pod("run", "full", 800), big = pod("big", NULL, 500),
              bigger = pod("bigger", NULL, 900);
    hoist_pod *list[] = {&run, &big, &bigger};
    o.pods = list;
    o.n_pods = 3;
    hoist_usage u;
    hoist_usage_init(&u);
    assert_int_equal(hoist_usage_build(&u, &o), 0);
    /* full has 200m left, the smallest waiting pod asks 500m; the others
     * cannot be bound to */
    assert_false(hoist_usage_room_for_waiting(&u, &o));
    /* without a Ready condition a node counts (the scheduler binds to it) */
    booting.ready = -1;
    assert_true(hoist_usage_room_for_waiting(&u, &o));
    booting.ready = 0;
    /* a smaller pod waiting: it fits the room left */
    hoist_pod tiny = pod("tiny", NULL, 200);
    hoist_pod *list2[] = {&run, &big, &bigger, &tiny};
    o.pods = list2;
    o.n_pods = 4;
    assert_int_equal(hoist_usage_build(&u, &o), 0);
    assert_true(hoist_usage_room_for_waiting(&u, &o));
    /* ...unless the node is out of pod slots */
    full.allocatable.v[HOIST_RES_PODS] = 1000;
    assert_false(hoist_usage_room_for_waiting(&u, &o));
    full.allocatable.v[HOIST_RES_PODS] = 110000;
    /* a resource no waiting pod asks for constrains nothing */
    full.allocatable.v[HOIST_RES_MEMORY] = 0;
    assert_true(hoist_usage_room_for_waiting(&u, &o));
    /* nothing waiting: nothing to bind */
    o.n_pods = 1;
    assert_int_equal(hoist_usage_build(&u, &o), 0);
    assert_false(hoist_usage_room_for_waiting(&u, &o));
    hoist_usage_free(&u);
    o.pods = NULL;
    o.n_pods = 0;
    o.nodes = NULL;
    o.n_nodes = 0;
    hoist_objects_free(&o);
}

/* A slot hint (hoist_usage_slot_of + gen) finds the node's usage until the
 * node loses that slot, even when the slot goes to another node. */
static void test_slot_hints(void **state)
{
    (void)state;
    hoist_usage u;
    hoist_usage_init(&u);
    hoist_pod a = pod("a", "n1", 500), b = pod("b", "n2", 250);
    assert_int_equal(hoist_usage_track(&u, 0, &a), 0);
    size_t slot = hoist_usage_slot_of(&u, "n1");
    assert_true(slot != SIZE_MAX);
    assert_int_equal(hoist_usage_slot_of(&u, "nobody"), SIZE_MAX);
    assert_int_equal(hoist_usage_slot_of(&u, NULL), SIZE_MAX);
    uint64_t gen = u.slots[slot].gen;
    assert_ptr_equal(hoist_usage_at(&u, slot, gen), hoist_usage_of(&u, "n1"));
    assert_null(hoist_usage_at(&u, slot, gen + 1));
    assert_null(hoist_usage_at(&u, slot + 100, gen));
    /* n1 empties: its slot is free; n2 takes the slot; the old hint fails */
    hoist_usage_forget(&u, 0);
    assert_null(hoist_usage_at(&u, slot, gen));
    assert_int_equal(hoist_usage_track(&u, 1, &b), 0);
    assert_int_equal(hoist_usage_slot_of(&u, "n2"), slot); /* reused */
    assert_null(hoist_usage_at(&u, slot, gen));
    /* n1 comes back: a new generation, never the old one */
    assert_int_equal(hoist_usage_track(&u, 0, &a), 0);
    size_t again = hoist_usage_slot_of(&u, "n1");
    assert_true(u.slots[again].gen != gen);
    assert_null(hoist_usage_at(&u, again, gen));
    /* after a free, generations go on: no old hint matches a new slot */
    uint64_t last = u.last_gen;
    hoist_usage_free(&u);
    assert_int_equal(hoist_usage_track(&u, 0, &a), 0);
    assert_true(u.slots[hoist_usage_slot_of(&u, "n1")].gen > last);
    hoist_usage_free(&u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sums_and_counts),
        cmocka_unit_test(test_node_churn),
        cmocka_unit_test(test_build),
        cmocka_unit_test(test_room_for_waiting),
        cmocka_unit_test(test_slot_hints),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
