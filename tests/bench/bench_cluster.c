/*
 * tests/bench/bench_cluster.c - cost of the cluster state store
 * (state/cluster.h) at simulator scale.
 *
 * Phases, each timed with CLOCK_MONOTONIC (event JSON is built beforehand and
 * not timed):
 *   add      N pending pods (requests, labels, a toleration, a spread constraint)
 *   nominate every pod to one of N/30 nodes
 *   bind     every pod (rewrites its JSON and decodes it again)
 *   churn    E events on the full cluster: delete one pod, add a new one
 *   delete   every pod
 * and hoist_cluster_objects() + hoist_cluster_find_pod() per call. Prints
 * microseconds per event, the decoded objects' memory and peak RSS. Never fails on a
 * figure; only on an error from the store.
 *
 * Usage: bench_cluster [-n PODS] [-e CHURN_EVENTS]   (defaults 30000, 100000)
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <jansson.h>

#include "state/cluster.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static json_t *make_pod(size_t i)
{
    char name[64], app[32];
    snprintf(name, sizeof name, "pod-%zu", i);
    snprintf(app, sizeof app, "app-%zu", i % 97);
    return json_pack(
        "{s:s, s:s, s:{s:s, s:s, s:{s:s, s:s}}, s:{s:[{s:s, s:{s:{s:s, s:s}}}], "
        "s:[{s:s, s:s, s:s}], s:[{s:i, s:s, s:s, s:{s:{s:s}}}]}, s:{s:s}}",
        "apiVersion", "v1", "kind", "Pod", "metadata", "name", name, "namespace",
        i % 2 ? "team-a" : "team-b", "labels", "app", app, "tier", "web", "spec", "containers",
        "name", "main", "resources", "requests", "cpu", i % 3 ? "250m" : "1", "memory", "512Mi",
        "tolerations", "key", "dedicated", "operator", "Equal", "value", "web",
        "topologySpreadConstraints", "maxSkew", 1, "topologyKey", "topology.kubernetes.io/zone",
        "whenUnsatisfiable", "ScheduleAnyway", "labelSelector", "matchLabels", "app", app,
        "status", "phase", "Pending");
}

static void check(int rc, const hoist_err *err, const char *what)
{
    if (rc < 0) {
        fprintf(stderr, "bench_cluster: %s: %s\n", what, err->msg);
        exit(1);
    }
}

/* The object a delete event of pod needs (a new reference). */
static json_t *pod_ref(const json_t *pod)
{
    const json_t *md = json_object_get(pod, "metadata");
    return hoist_object_ref("v1", "Pod", json_string_value(json_object_get(md, "namespace")),
                            json_string_value(json_object_get(md, "name")));
}

static void report(const char *phase, size_t events, double secs, const hoist_cluster *c)
{
    printf("%-9s %8zu events %8.3f s %7.2f us/event  live %zu  decoded %.1f MiB\n", phase,
           events, secs, events ? secs * 1e6 / (double)events : 0.0, hoist_cluster_size(c),
           (double)c->live_bytes / 1048576.0);
}

int main(int argc, char **argv)
{
    size_t n = 30000, churn = 100000;
    int opt;
    while ((opt = getopt(argc, argv, "n:e:")) != -1) {
        if (opt == 'n')
            n = strtoul(optarg, NULL, 10);
        else if (opt == 'e')
            churn = strtoul(optarg, NULL, 10);
        else {
            fprintf(stderr, "usage: bench_cluster [-n PODS] [-e CHURN_EVENTS]\n");
            return 2;
        }
    }
    if (n == 0)
        n = 1;
    size_t total = n + churn / 2 + 1;
    json_t **pods = malloc(total * sizeof *pods);
    if (!pods)
        return 1;
    for (size_t i = 0; i < total; i++)
        if (!(pods[i] = make_pod(i)))
            return 1;

    hoist_cluster c;
    hoist_err err = {{0}};
    hoist_cluster_init(&c);
    char name[64], node[64];

    double t = now_s();
    for (size_t i = 0; i < n; i++) {
        hoist_object_event ev = {.op = HOIST_OBJECT_ADD, .object = pods[i]};
        check(hoist_cluster_apply(&c, &ev, &err), &err, "add");
    }
    report("add", n, now_s() - t, &c);

    t = now_s();
    for (size_t i = 0; i < n; i++) {
        snprintf(name, sizeof name, "pod-%zu", i);
        snprintf(node, sizeof node, "node-%zu", i / 30);
        if (hoist_cluster_nominate(&c, i % 2 ? "team-a" : "team-b", name, node) != 0)
            check(-1, &(hoist_err){"nominate refused"}, name);
    }
    report("nominate", n, now_s() - t, &c);

    t = now_s();
    size_t lookups = 0;
    for (size_t i = 0; i < n; i++) {
        hoist_objects *o = hoist_cluster_objects(&c);
        snprintf(name, sizeof name, "pod-%zu", i);
        if (o && hoist_cluster_find_pod(&c, i % 2 ? "team-a" : "team-b", name))
            lookups++;
    }
    report("lookup", lookups, now_s() - t, &c);

    t = now_s();
    for (size_t i = 0; i < n; i++) {
        snprintf(name, sizeof name, "pod-%zu", i);
        snprintf(node, sizeof node, "node-%zu", i / 30);
        check(hoist_cluster_bind(&c, i % 2 ? "team-a" : "team-b", name, node), &err, "bind");
    }
    report("bind", n, now_s() - t, &c);

    /* steady churn: delete the oldest pod, add a new one */
    t = now_s();
    size_t oldest = 0, next = n;
    for (size_t e = 0; e + 1 < churn; e += 2) {
        json_t *ref = pod_ref(pods[oldest]);
        hoist_object_event del = {.op = HOIST_OBJECT_DELETE, .object = ref};
        check(hoist_cluster_apply(&c, &del, &err), &err, "churn delete");
        json_decref(ref);
        hoist_object_event add = {.op = HOIST_OBJECT_ADD, .object = pods[next]};
        check(hoist_cluster_apply(&c, &add, &err), &err, "churn add");
        oldest++;
        next++;
    }
    report("churn", churn, now_s() - t, &c);

    t = now_s();
    size_t deleted = 0;
    for (size_t i = oldest; i < next; i++) {
        json_t *ref = pod_ref(pods[i]);
        hoist_object_event del = {.op = HOIST_OBJECT_DELETE, .object = ref};
        int rc = hoist_cluster_apply(&c, &del, &err);
        check(rc, &err, "delete");
        deleted += (size_t)rc;
        json_decref(ref);
    }
    report("delete", deleted, now_s() - t, &c);

    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("peak RSS %.1f MiB (including the %zu prepared event objects)\n",
           (double)ru.ru_maxrss / 1024.0, total);
    hoist_cluster_free(&c);
    for (size_t i = 0; i < total; i++)
        json_decref(pods[i]);
    free(pods);
    return 0;
}
