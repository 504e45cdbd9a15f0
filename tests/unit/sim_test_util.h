/*
 * tests/unit/sim_test_util.h - what the simulator's tests share: paths in
 * the source tree, object files as JSON arrays, and a run's results.
 * Include after <cmocka.h> (it fails tests) and model/load.h, sim/report.h.
 */
#ifndef HOIST_TESTS_SIM_TEST_UTIL_H
#define HOIST_TESTS_SIM_TEST_UTIL_H

#include <stdio.h>
#include <stdlib.h>

/* rel under $HOIST_SRCDIR (four results may be held at once). */
static inline const char *src_path(const char *rel)
{
    static char buf[4][1024];
    static int next;
    const char *s = getenv("HOIST_SRCDIR");
    char *out = buf[next++ % 4];
    snprintf(out, sizeof buf[0], "%s/%s", s && *s ? s : ".", rel);
    return out;
}

/* The objects of a YAML/JSON file (rel to the source tree) as a JSON array
 * (a new reference); a file that does not load fails the test. */
static inline json_t *objects_of(const char *rel)
{
    hoist_docs docs;
    hoist_docs_init(&docs);
    hoist_err err = {{0}};
    if (hoist_docs_load_file(&docs, src_path(rel), &err) < 0)
        fail_msg("%s", err.msg);
    json_t *a = json_array();
    for (size_t i = 0; i < docs.n; i++)
        json_array_append(a, docs.items[i].json);
    hoist_docs_free(&docs);
    return a;
}

/* One simulation's results. */
typedef struct run {
    hoist_report *report;
    hoist_sim_stats stats;
    hoist_report_summary sum;
    int rc;
    hoist_err err;
} run;

#endif
