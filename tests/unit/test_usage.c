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
    assert_int_equal(u.n_node_indexed, 10); /* left nodes left the index */
    for (size_t i = 2990; i < 3000; i++)
        assert_int_equal(hoist_usage_of(&u, names[i])->n_pods, 1);
    hoist_usage_free(&u);
}

/* A node name that left while its slot went to another name, then came
 * back: the map still has the old name as a key, pointing at the reused
 * slot; lookups must tell the names apart. */
static void test_name_comes_back(void **state)
{
    (void)state;
    hoist_usage u;
    hoist_usage_init(&u);
    hoist_pod a = pod("a", "n-a", 100), b = pod("b", "n-b", 200), c = pod("c", "n-c", 300),
              a2 = pod("a2", "n-a", 400);
    assert_int_equal(hoist_usage_track(&u, 0, &a), 0);
    assert_int_equal(hoist_usage_track(&u, 1, &b), 0);
    hoist_usage_forget(&u, 0);
    assert_null(hoist_usage_of(&u, "n-a"));
    assert_int_equal(hoist_usage_track(&u, 2, &c), 0); /* takes n-a's slot */
    assert_null(hoist_usage_of(&u, "n-a"));
    assert_int_equal(hoist_usage_of(&u, "n-c")->requested.v[HOIST_RES_CPU], 300);
    assert_int_equal(hoist_usage_track(&u, 3, &a2), 0);
    const hoist_node_usage *na = hoist_usage_of(&u, "n-a");
    assert_non_null(na);
    assert_string_equal(na->node, "n-a");
    assert_int_equal(na->requested.v[HOIST_RES_CPU], 400);
    assert_int_equal(hoist_usage_of(&u, "n-c")->requested.v[HOIST_RES_CPU], 300);
    assert_int_equal(hoist_usage_of(&u, "n-b")->requested.v[HOIST_RES_CPU], 200);
    hoist_usage_free(&u);
}

/* Random pods over many node names, short and too long for the inline
 * copy, against a reference count: every node with pods is found with its
 * own name and sum (through slot reallocation and index removals), every
 * other is not. */
static void test_nodes_random(void **state)
{
    (void)state;
    enum { PODS = 400, NAMES = 300, STEPS = 20000 };
    static char names[NAMES][96];
    static hoist_pod pods[PODS][2];
    static int cur[PODS], where[PODS];
    for (size_t i = 0; i < NAMES; i++) {
        if (i % 7 == 0) /* longer than name_inline */
            snprintf(names[i], sizeof names[i], "ip-10-0-%zu-1.eu-west-1.compute.internal-with-a-long-suffix", i);
        else
            snprintf(names[i], sizeof names[i], "node-%zu", i);
    }
    for (size_t i = 0; i < PODS; i++)
        where[i] = -1;
    uint64_t seed = 3;
    hoist_usage u;
    hoist_usage_init(&u);
    for (int step = 0; step < STEPS; step++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        unsigned r = (unsigned)(seed >> 33);
        size_t id = r % PODS;
        /* few names in use early (slots grow later), all of them later */
        size_t span = step < STEPS / 4 ? 20 : NAMES;
        if ((r >> 9) % 4 == 0) {
            hoist_usage_forget(&u, id);
            where[id] = -1;
        } else {
            int next = cur[id] ^ 1, n = (int)((r >> 12) % span);
            pods[id][next] = pod("p", names[n], 1 + (int64_t)(id % 5));
            assert_int_equal(hoist_usage_track(&u, id, &pods[id][next]), 0);
            cur[id] = next;
            where[id] = n;
        }
        if (step % 97 != 0 && step != STEPS - 1)
            continue;
        size_t live = 0;
        for (int n = 0; n < NAMES; n++) {
            int64_t cpu = 0;
            size_t count = 0;
            for (size_t i = 0; i < PODS; i++)
                if (where[i] == n) {
                    cpu += 1 + (int64_t)(i % 5);
                    count++;
                }
            const hoist_node_usage *nu = hoist_usage_of(&u, names[n]);
            if (!count) {
                assert_null(nu);
                continue;
            }
            live++;
            assert_non_null(nu);
            assert_string_equal(nu->node, names[n]);
            assert_int_equal(nu->n_pods, count);
            assert_int_equal(nu->requested.v[HOIST_RES_CPU], cpu);
        }
        assert_int_equal(u.n_live_slots, live);
        assert_int_equal(u.n_node_indexed, live);
    }
    assert_true(u.n_slots > 64); /* the slots were reallocated at least once */
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

/* Label variants: namespace and labels, with the labels_hash the test
 * gives them (they collide on purpose, so the class lookup
 * must compare text, and removals shift colliding entries). */
static hoist_kv kv_app_a[] = {{"app", "a"}};
static hoist_kv kv_app_b[] = {{"app", "b"}};
static hoist_kv kv_app_a_tier[] = {{"app", "a"}, {"tier", "web"}};
static hoist_kv kv_ap_pa[] = {{"ap", "pa"}}; /* same bytes as app=a when joined badly */
static const struct {
    const char *ns;
    hoist_kv *kv;
    size_t n;
    uint64_t hash;
} variants[] = {
    {"default", kv_app_a, 1, 11}, {"default", kv_app_b, 1, 11}, {"other", kv_app_a, 1, 12},
    {"default", kv_app_a_tier, 2, 12}, {"default", NULL, 0, 13}, {"default", kv_ap_pa, 1, 11},
};
#define N_VARIANTS (sizeof variants / sizeof variants[0])

static hoist_pod labelled(const char *name, const char *node, size_t variant)
{
    hoist_pod p = pod(name, node, 100);
    p.ns = variants[variant].ns;
    p.labels.items = variants[variant].kv;
    p.labels.n = variants[variant].n;
    p.labels_hash = variants[variant].hash;
    return p;
}

/* Every live label set's id is right: two sets share an id exactly when
 * their pods have the same namespace and labels, and each id's refs count
 * its sets. */
static void check_classes(const hoist_usage *u)
{
    size_t refs[256] = {0};
    const hoist_label_set *first[256] = {0};
    size_t live = 0;
    assert_true(u->n_classes <= 256);
    for (size_t i = 0; i < u->n_slots; i++) {
        const hoist_node_usage *s = &u->slots[i];
        if (!s->node)
            continue;
        for (size_t k = 0; k < s->n_sets; k++) {
            const hoist_label_set *ls = &s->sets[k];
            assert_true(ls->id < u->n_classes);
            assert_non_null(u->classes[ls->id].text);
            if (!refs[ls->id]++) {
                first[ls->id] = ls;
                live++;
            } else {
                assert_true(hoist_pod_same_labels(first[ls->id]->rep, ls->rep));
            }
        }
    }
    for (size_t a = 0; a < u->n_classes; a++) {
        assert_int_equal(u->classes[a].text ? u->classes[a].refs : 0, refs[a]);
        if (!u->classes[a].text)
            continue;
        for (size_t b = a + 1; b < u->n_classes; b++)
            if (refs[a] && refs[b])
                assert_false(hoist_pod_same_labels(first[a]->rep, first[b]->rep));
    }
    assert_int_equal(u->n_indexed, live);
    /* each live class is reached by probing from its hash without an empty
     * slot on the way (else the lookup would miss it) */
    for (size_t a = 0; a < u->n_classes; a++) {
        if (!refs[a])
            continue;
        size_t mask = u->cap_index - 1, i = (size_t)u->classes[a].hash & mask;
        while (u->class_index[i] != a + 1) {
            assert_int_not_equal(u->class_index[i], 0);
            i = (i + 1) & mask;
        }
    }
}

static void test_label_classes(void **state)
{
    (void)state;
    hoist_usage u;
    hoist_usage_init(&u);
    hoist_pod a1 = labelled("a1", "n1", 0), a2 = labelled("a2", "n2", 0), a3 = labelled("a3", "n2", 0);
    hoist_pod b1 = labelled("b1", "n1", 1), o1 = labelled("o1", "n2", 2), p1 = labelled("p1", "n1", 5);
    assert_int_equal(hoist_usage_track(&u, 0, &a1), 0);
    assert_int_equal(hoist_usage_track(&u, 1, &a2), 0);
    assert_int_equal(hoist_usage_track(&u, 2, &a3), 0);
    assert_int_equal(hoist_usage_track(&u, 3, &b1), 0);
    assert_int_equal(hoist_usage_track(&u, 4, &o1), 0);
    assert_int_equal(hoist_usage_track(&u, 5, &p1), 0);
    const hoist_node_usage *n1 = hoist_usage_of(&u, "n1"), *n2 = hoist_usage_of(&u, "n2");
    assert_int_equal(n1->n_sets, 3);
    assert_int_equal(n2->n_sets, 2); /* a2 and a3 share one set */
    /* app=a in default: one id on both nodes; the others each their own */
    uint32_t id_a = n1->sets[0].id;
    assert_ptr_equal(n1->sets[0].rep, &a1);
    assert_int_equal(n2->sets[0].id, id_a);
    assert_int_equal(n2->sets[0].count, 2);
    assert_int_not_equal(n1->sets[1].id, id_a);       /* app=b */
    assert_int_not_equal(n2->sets[1].id, id_a);       /* other namespace */
    assert_int_not_equal(n1->sets[2].id, id_a);       /* ap=pa */
    assert_int_not_equal(n1->sets[2].id, n1->sets[1].id);
    assert_int_equal(u.classes[id_a].refs, 2);
    check_classes(&u);

    /* a1 goes: the class stays (n2 holds it) and keeps its id */
    hoist_usage_forget(&u, 0);
    check_classes(&u);
    n2 = hoist_usage_of(&u, "n2");
    assert_int_equal(n2->sets[0].id, id_a);
    assert_int_equal(u.classes[id_a].refs, 1);
    /* a new app=a pod on n1 finds the same id through the lookup */
    hoist_pod a4 = labelled("a4", "n1", 0);
    assert_int_equal(hoist_usage_track(&u, 6, &a4), 0);
    n1 = hoist_usage_of(&u, "n1");
    bool found = false;
    for (size_t k = 0; k < n1->n_sets; k++)
        found |= n1->sets[k].rep == &a4 && n1->sets[k].id == id_a;
    assert_true(found);
    check_classes(&u);
    /* every app=a pod gone: the id is free and taken again by the next class */
    hoist_usage_forget(&u, 1);
    hoist_usage_forget(&u, 2);
    hoist_usage_forget(&u, 6);
    assert_null(u.classes[id_a].text);
    check_classes(&u);
    hoist_pod t1 = labelled("t1", "n3", 3);
    assert_int_equal(hoist_usage_track(&u, 7, &t1), 0);
    assert_int_equal(hoist_usage_of(&u, "n3")->sets[0].id, id_a);
    check_classes(&u);
    hoist_usage_free(&u);
}

/* Random moves of pods with colliding label variants over a few nodes:
 * the ids stay right after every step. */
static void test_label_classes_random(void **state)
{
    (void)state;
    enum { PODS = 8, NODES = 5, STEPS = 4000 };
    static const char *nodes[NODES] = {"n0", "n1", "n2", "n3", "n4"};
    hoist_pod pods[PODS][2];
    int cur[PODS] = {0};
    char names[PODS][8];
    uint64_t seed = 7;
    hoist_usage u;
    hoist_usage_init(&u);
    for (int step = 0; step < STEPS; step++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        unsigned r = (unsigned)(seed >> 33);
        size_t id = r % PODS;
        if ((r >> 8) % 5 == 0) {
            hoist_usage_forget(&u, id);
        } else {
            /* the owner re-tracks a new object (the old one stays readable
             * until then, as usage.h asks) */
            int next = cur[id] ^ 1;
            snprintf(names[id], sizeof names[id], "p%zu", id);
            pods[id][next] = labelled(names[id], nodes[(r >> 12) % NODES], (r >> 16) % N_VARIANTS);
            assert_int_equal(hoist_usage_track(&u, id, &pods[id][next]), 0);
            cur[id] = next;
        }
        check_classes(&u);
    }
    hoist_usage_reset(&u);
    for (size_t i = 0; i < u.n_classes; i++)
        assert_null(u.classes[i].text);
    assert_int_equal(u.n_indexed, 0);
    hoist_usage_free(&u);
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
        cmocka_unit_test(test_name_comes_back),
        cmocka_unit_test(test_nodes_random),
        cmocka_unit_test(test_build),
        cmocka_unit_test(test_room_for_waiting),
        cmocka_unit_test(test_label_classes),
        cmocka_unit_test(test_label_classes_random),
        cmocka_unit_test(test_slot_hints),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
