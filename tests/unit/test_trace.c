/* tests/unit/test_trace.c - traces (sim/trace.h): the reader, the writer, the
 * generators, the CSV importer, `hoist trace` and the bundled traces. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "model/objects.h"
#include "sim/trace.h"

/* cli/cmd_trace.c, linked into this test */
int hoist_cmd_trace(int argc, char **argv);

static char path_buf[4096];

static const char *src_path(const char *rel)
{
    const char *src = getenv("HOIST_SRCDIR");
    snprintf(path_buf, sizeof path_buf, "%s/%s", src ? src : "..", rel);
    return path_buf;
}

static void assert_has(const char *s, const char *part)
{
    if (!strstr(s, part))
        fail_msg("\"%s\" does not contain \"%s\"", s, part);
}

/* A growing in-memory output. */
typedef struct membuf {
    char *data;
    size_t len;
    FILE *f;
} membuf;

static void mb_open(membuf *m)
{
    m->data = NULL;
    m->len = 0;
    m->f = open_memstream(&m->data, &m->len);
    assert_non_null(m->f);
}

static void mb_close(membuf *m)
{
    fclose(m->f);
    m->f = NULL;
}

static hoist_trace *open_text(const char *text, FILE **f)
{
    *f = fmemopen((void *)text, strlen(text), "r");
    assert_non_null(*f);
    hoist_err err = {{0}};
    hoist_trace *t = hoist_trace_open_stream(*f, "t.jsonl", &err);
    assert_non_null(t);
    return t;
}

/* ---- reader ------------------------------------------------------------------- */

static void test_read_good(void **state)
{
    (void)state;
    hoist_err err = {{0}};
    hoist_trace *t = hoist_trace_open(src_path("tests/data/trace/good.jsonl"), &err);
    assert_non_null(t);
    static const struct {
        uint64_t at_ms;
        hoist_object_op op;
        size_t line;
        const char *kind, *name;
    } want[] = {
        {0, HOIST_OBJECT_ADD, 4, "Pod", "web-1"},
        {1500, HOIST_OBJECT_ADD, 5, "Pod", "web-2"},
        {1500, HOIST_OBJECT_UPDATE, 7, "Pod", "web-2"},
        {2250, HOIST_OBJECT_ADD, 8, "StorageClass", "gp3"},
        {60000, HOIST_OBJECT_DELETE, 10, "Pod", "web-1"},
        {3600001, HOIST_OBJECT_DELETE, 11, "Pod", "web-2"},
    };
    hoist_trace_event ev;
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        assert_int_equal(hoist_trace_next(t, &ev, &err), 1);
        assert_int_equal(ev.at_ms, want[i].at_ms);
        assert_int_equal(ev.op, want[i].op);
        assert_int_equal(ev.line, want[i].line);
        assert_string_equal(json_string_value(json_object_get(ev.object, "kind")), want[i].kind);
        assert_string_equal(
            json_string_value(json_object_get(json_object_get(ev.object, "metadata"), "name")),
            want[i].name);
    }
    /* the kind-less delete stub got kind Pod and apiVersion v1 (line 10 was checked above) */
    assert_int_equal(hoist_trace_next(t, &ev, &err), 0);
    assert_int_equal(hoist_trace_next(t, &ev, &err), 0);
    hoist_trace_close(t);
}

static void test_read_default_kind(void **state)
{
    (void)state;
    FILE *f;
    hoist_trace *t = open_text(
        "{\"at\": 3, \"op\": \"delete\", \"object\": {\"metadata\": {\"name\": \"p\"}}}\n", &f);
    hoist_err err = {{0}};
    hoist_trace_event ev;
    assert_int_equal(hoist_trace_next(t, &ev, &err), 1);
    assert_string_equal(json_string_value(json_object_get(ev.object, "kind")), "Pod");
    assert_string_equal(json_string_value(json_object_get(ev.object, "apiVersion")), "v1");
    hoist_trace_close(t);
    fclose(f);
}

/* Every bad line: the message names the file, the line and what is wrong. */
static void test_read_bad(void **state)
{
    (void)state;
    static const struct {
        const char *text;   /* the trace */
        const char *where;  /* "t.jsonl:N:" */
        const char *what;
    } cases[] = {
        {"this is not json\n", "t.jsonl:1:", "invalid JSON"},
        {"{\"at\": 1, \"op\": \"add\"\n", "t.jsonl:1:", "invalid JSON"},
        {"# c\n[1, 2, 3]\n", "t.jsonl:2:", "must be a JSON object"},
        {"[1, 2, 3]\n", "t.jsonl:1:", "got an array"},
        {"42\n", "t.jsonl:1:", "got a number"},
        {"{\"op\": \"add\", \"object\": {\"metadata\": {\"name\": \"a\"}}}\n", "t.jsonl:1:",
         "at: missing"},
        {"{\"at\": -1, \"op\": \"add\", \"object\": {\"metadata\": {\"name\": \"a\"}}}\n",
         "t.jsonl:1:", "at: must be a number >= 0, got -1"},
        {"{\"at\": -0.5, \"op\": \"add\", \"object\": {\"metadata\": {\"name\": \"a\"}}}\n",
         "t.jsonl:1:", "at: must be a number >= 0"},
        {"{\"at\": \"5\", \"op\": \"add\", \"object\": {\"metadata\": {\"name\": \"a\"}}}\n",
         "t.jsonl:1:", "at: must be a number >= 0, got a string"},
        {"{\"at\": 1e300, \"op\": \"add\", \"object\": {\"metadata\": {\"name\": \"a\"}}}\n",
         "t.jsonl:1:", "at: 1e+300 s is too large"},
        {"{\"at\": 99999999999999, \"op\": \"add\", \"object\": {\"metadata\": {\"name\": "
         "\"a\"}}}\n",
         "t.jsonl:1:", "is too large"},
        {"{\"at\": 1, \"op\": \"patch\", \"object\": {\"metadata\": {\"name\": \"a\"}}}\n",
         "t.jsonl:1:", "op: unknown op \"patch\""},
        {"{\"at\": 1, \"object\": {\"metadata\": {\"name\": \"a\"}}}\n", "t.jsonl:1:",
         "op: missing"},
        {"{\"at\": 1, \"op\": 3, \"object\": {\"metadata\": {\"name\": \"a\"}}}\n", "t.jsonl:1:",
         "op: must be a string"},
        {"{\"at\": 1, \"op\": \"add\"}\n", "t.jsonl:1:", "object: missing"},
        {"{\"at\": 1, \"op\": \"add\", \"object\": [1]}\n", "t.jsonl:1:",
         "object: must be an object, got an array"},
        {"{\"at\": 1, \"op\": \"delete\", \"object\": {\"kind\": \"Pod\", \"metadata\": "
         "{\"namespace\": \"x\"}}}\n",
         "t.jsonl:1:", "object: metadata.name: missing (a delete names"},
        {"{\"at\": 1, \"op\": \"delete\", \"object\": {\"kind\": \"Pod\"}}\n", "t.jsonl:1:",
         "object: metadata.name: missing"},
        {"{\"at\": 1, \"op\": \"delete\", \"object\": {\"metadata\": {\"name\": 7}}}\n",
         "t.jsonl:1:", "metadata.name: must be a non-empty string"},
        {"{\"at\": 1, \"op\": \"add\", \"object\": {\"kind\": 5, \"metadata\": {\"name\": "
         "\"a\"}}}\n",
         "t.jsonl:1:", "object: kind: must be a string"},
        {"{\"at\": 1, \"op\": \"add\", \"object\": {\"metadata\": {\"name\": \"a\", "
         "\"namespace\": 1}}}\n",
         "t.jsonl:1:", "metadata.namespace: must be a string"},
        {"{\"at\": 7, \"op\": \"add\", \"object\": {\"metadata\": {\"name\": \"a\"}}}\n\n"
         "{\"at\": 5, \"op\": \"delete\", \"object\": {\"metadata\": {\"name\": \"a\"}}}\n",
         "t.jsonl:3:", "event at 5 s is before the previous one at 7 s (line 1)"},
        {"{\"at\": 7.25, \"op\": \"add\", \"object\": {\"metadata\": {\"name\": \"a\"}}}\n"
         "{\"at\": 7.2, \"op\": \"delete\", \"object\": {\"metadata\": {\"name\": \"a\"}}}\n",
         "t.jsonl:2:", "event at 7.2 s is before the previous one at 7.25 s"},
        {"{\"at\": 1, \"at\": 2, \"op\": \"add\", \"object\": {\"metadata\": {\"name\": "
         "\"a\"}}}\n",
         "t.jsonl:1:", "duplicate"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        FILE *f;
        hoist_trace *t = open_text(cases[i].text, &f);
        hoist_err err = {{0}};
        hoist_trace_event ev;
        int rc;
        while ((rc = hoist_trace_next(t, &ev, &err)) == 1)
            ;
        if (rc != -1)
            fail_msg("case %zu (%s): no error", i, cases[i].text);
        if (strncmp(err.msg, cases[i].where, strlen(cases[i].where)) != 0)
            fail_msg("case %zu: \"%s\" does not start with %s", i, err.msg, cases[i].where);
        assert_has(err.msg, cases[i].what);
        hoist_trace_close(t);
        fclose(f);
    }
}

/* After an error the reader moves on; a refused line does not move the clock. */
static void test_read_continue_after_error(void **state)
{
    (void)state;
    FILE *f;
    hoist_trace *t = open_text(
        "{\"at\": 10, \"op\": \"add\", \"object\": {\"metadata\": {\"name\": \"a\"}}}\n"
        "{\"at\": 99, \"op\": \"frob\", \"object\": {\"metadata\": {\"name\": \"b\"}}}\n"
        "{\"at\": 5, \"op\": \"add\", \"object\": {\"metadata\": {\"name\": \"c\"}}}\n"
        "{\"at\": 11, \"op\": \"add\", \"object\": {\"metadata\": {\"name\": \"d\"}}}\n",
        &f);
    hoist_err err = {{0}};
    hoist_trace_event ev;
    assert_int_equal(hoist_trace_next(t, &ev, &err), 1);
    assert_int_equal(hoist_trace_next(t, &ev, &err), -1);
    assert_has(err.msg, "t.jsonl:2:");
    assert_int_equal(hoist_trace_next(t, &ev, &err), -1);
    assert_has(err.msg, "t.jsonl:3: event at 5 s is before the previous one at 10 s (line 1)");
    assert_int_equal(hoist_trace_next(t, &ev, &err), 1);
    assert_int_equal(ev.at_ms, 11000);
    assert_int_equal(ev.line, 4);
    assert_int_equal(hoist_trace_next(t, &ev, &err), 0);
    hoist_trace_close(t);
    fclose(f);
}

static void test_read_open_missing(void **state)
{
    (void)state;
    hoist_err err = {{0}};
    assert_null(hoist_trace_open("/nonexistent/trace.jsonl", &err));
    assert_has(err.msg, "/nonexistent/trace.jsonl: cannot open");
}

/* ---- writer -------------------------------------------------------------------- */

static void test_format_seconds(void **state)
{
    (void)state;
    static const struct {
        uint64_t ms;
        const char *s;
    } cases[] = {{0, "0"}, {5, "0.005"}, {12000, "12"}, {12500, "12.5"}, {12340, "12.34"},
                 {1234567, "1234.567"}, {86400000, "86400"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[32];
        hoist_trace_format_seconds(cases[i].ms, buf, sizeof buf);
        assert_string_equal(buf, cases[i].s);
    }
    assert_string_equal(hoist_trace_op_name(HOIST_OBJECT_UPDATE), "update");
}

static void test_write_round_trip(void **state)
{
    (void)state;
    json_t *pod = json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:[]}}", "apiVersion", "v1", "kind",
                            "Pod", "metadata", "namespace", "n", "name", "p", "spec",
                            "containers");
    json_t *stub = json_pack("{s:{s:s}}", "metadata", "name", "p");
    membuf m;
    mb_open(&m);
    assert_int_equal(hoist_trace_write(m.f, 12500, HOIST_OBJECT_ADD, pod), 0);
    assert_int_equal(hoist_trace_write(m.f, 12500, HOIST_OBJECT_UPDATE, pod), 0);
    assert_int_equal(hoist_trace_write(m.f, 86400005, HOIST_OBJECT_DELETE, stub), 0);
    mb_close(&m);
    const char *first_line = "{\"at\":12.5,\"op\":\"add\",\"object\":{\"apiVersion\":\"v1\","
                             "\"kind\":\"Pod\",\"metadata\":{\"namespace\":\"n\",\"name\":\"p\"},"
                             "\"spec\":{\"containers\":[]}}}\n";
    assert_memory_equal(m.data, first_line, strlen(first_line));
    assert_has(m.data, "{\"at\":86400.005,\"op\":\"delete\",\"object\":{\"metadata\":{\"name\":\"p\"}}}\n");

    FILE *f;
    hoist_trace *t = open_text(m.data, &f);
    hoist_err err = {{0}};
    hoist_trace_event ev;
    assert_int_equal(hoist_trace_next(t, &ev, &err), 1);
    assert_int_equal(ev.at_ms, 12500);
    assert_int_equal(ev.op, HOIST_OBJECT_ADD);
    assert_true(json_equal(ev.object, pod));
    assert_int_equal(hoist_trace_next(t, &ev, &err), 1);
    assert_int_equal(ev.op, HOIST_OBJECT_UPDATE);
    assert_true(json_equal(ev.object, pod));
    assert_int_equal(hoist_trace_next(t, &ev, &err), 1);
    assert_int_equal(ev.at_ms, 86400005);
    assert_int_equal(ev.op, HOIST_OBJECT_DELETE);
    assert_int_equal(hoist_trace_next(t, &ev, &err), 0);
    hoist_trace_close(t);
    fclose(f);
    free(m.data);
    json_decref(pod);
    json_decref(stub);
}

/* ---- generators ------------------------------------------------------------------ */

static char *generate(hoist_tracegen_kind kind, uint64_t seed, double hours, double scale,
                      size_t *len)
{
    hoist_tracegen_config cfg = {kind, seed, hours, scale, NULL};
    membuf m;
    mb_open(&m);
    hoist_err err = {{0}};
    if (hoist_tracegen(&cfg, m.f, &err) < 0)
        fail_msg("tracegen %s: %s", hoist_tracegen_kind_name(kind), err.msg);
    mb_close(&m);
    if (len)
        *len = m.len;
    return m.data;
}

/* What a pass over a trace learned. */
typedef struct trace_facts {
    size_t events, adds, deletes, updates;
    size_t live_pods, peak_pods, min_pods_after_warmup;
    uint64_t last_ms;
    size_t decode_errors, warnings;
    json_t *live;      /* "Kind/ns/name" -> the object as added */
    json_t *added_at;  /* "ns/name" -> at_ms of the last add (Pods) */
    json_t *lifetimes; /* array of seconds each deleted pod lived */
    json_t *pods;      /* every added Pod (in order) */
} trace_facts;

static void facts_free(trace_facts *f)
{
    json_decref(f->live);
    json_decref(f->added_at);
    json_decref(f->lifetimes);
    json_decref(f->pods);
}

static const char *meta_str(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(json_object_get(obj, "metadata"), key));
}

/* Read text through the reader (so order and syntax are checked), check that
 * every delete names a live object and no add repeats a live one, decode every
 * added object with hoist's decoder, and collect facts. */
static void read_facts(const char *text, const char *name, uint64_t warmup_ms, trace_facts *out)
{
    memset(out, 0, sizeof *out);
    out->min_pods_after_warmup = SIZE_MAX;
    out->live = json_object();
    out->added_at = json_object();
    out->lifetimes = json_array();
    out->pods = json_array();
    FILE *f = fmemopen((void *)text, strlen(text), "r");
    assert_non_null(f);
    hoist_err err = {{0}};
    hoist_trace *t = hoist_trace_open_stream(f, name, &err);
    assert_non_null(t);
    hoist_objects scratch;
    hoist_objects_init(&scratch);
    hoist_trace_event ev;
    int rc;
    uint64_t prev = 0;
    while ((rc = hoist_trace_next(t, &ev, &err)) == 1) {
        /* the pod count between time steps, after the warm-up */
        if (ev.at_ms != prev && prev >= warmup_ms && out->live_pods < out->min_pods_after_warmup)
            out->min_pods_after_warmup = out->live_pods;
        prev = ev.at_ms;
        out->events++;
        out->last_ms = ev.at_ms;
        const char *kind = json_string_value(json_object_get(ev.object, "kind"));
        const char *ns = meta_str(ev.object, "namespace");
        const char *nm = meta_str(ev.object, "name");
        char key[512], podkey[256];
        snprintf(key, sizeof key, "%s/%s/%s", kind, ns ? ns : "", nm);
        snprintf(podkey, sizeof podkey, "%s/%s", ns ? ns : "", nm);
        bool is_pod = !strcmp(kind, "Pod");
        if (ev.op == HOIST_OBJECT_DELETE) {
            out->deletes++;
            if (!json_object_get(out->live, key))
                fail_msg("%s:%zu: delete of %s, which is not live", name, ev.line, key);
            json_object_del(out->live, key);
            if (is_pod) {
                out->live_pods--;
                uint64_t born = (uint64_t)json_integer_value(json_object_get(out->added_at, podkey));
                json_array_append_new(out->lifetimes,
                                      json_real((double)(ev.at_ms - born) / 1000.0));
            }
            continue;
        }
        if (ev.op == HOIST_OBJECT_UPDATE)
            out->updates++;
        else
            out->adds++;
        if (ev.op == HOIST_OBJECT_ADD && json_object_get(out->live, key))
            fail_msg("%s:%zu: add of %s, which is already live", name, ev.line, key);
        json_object_set(out->live, key, ev.object);
        hoist_source src = {name, (int)ev.line, 0};
        size_t w = scratch.n_warnings;
        if (hoist_objects_add_json(&scratch, ev.object, &src, &err) < 0) {
            out->decode_errors++;
            print_message("decode error: %s\n", err.msg);
        }
        out->warnings += scratch.n_warnings - w;
        if (is_pod) {
            json_object_set_new(out->added_at, podkey, json_integer((json_int_t)ev.at_ms));
            json_array_append(out->pods, ev.object);
            if (++out->live_pods > out->peak_pods)
                out->peak_pods = out->live_pods;
        }
    }
    if (rc < 0)
        fail_msg("%s", err.msg);
    hoist_objects_free(&scratch);
    hoist_trace_close(t);
    fclose(f);
}

static void test_gen_determinism(void **state)
{
    (void)state;
    for (int k = HOIST_TRACEGEN_WEB; k <= HOIST_TRACEGEN_STATEFUL; k++) {
        size_t la, lb, lc;
        char *a = generate((hoist_tracegen_kind)k, 7, 12, 1, &la);
        char *b = generate((hoist_tracegen_kind)k, 7, 12, 1, &lb);
        char *c = generate((hoist_tracegen_kind)k, 8, 12, 1, &lc);
        assert_true(la > 0);
        assert_int_equal(la, lb);
        assert_memory_equal(a, b, la);
        assert_true(la != lc || memcmp(a, c, la) != 0);
        free(a);
        free(b);
        free(c);
    }
}

static void test_gen_kind_names(void **state)
{
    (void)state;
    const char *names[] = {"web", "batch", "ml", "stateful"};
    for (int k = 0; k < 4; k++) {
        hoist_tracegen_kind got;
        assert_string_equal(hoist_tracegen_kind_name((hoist_tracegen_kind)k), names[k]);
        assert_int_equal(hoist_tracegen_kind_parse(names[k], &got), 0);
        assert_int_equal(got, k);
    }
    hoist_tracegen_kind got;
    assert_int_equal(hoist_tracegen_kind_parse("Web", &got), -1);
    assert_int_equal(hoist_tracegen_kind_parse("", &got), -1);
}

static void test_gen_bad_config(void **state)
{
    (void)state;
    static const struct {
        double hours, scale;
        const char *what;
    } cases[] = {{-1, 1, "hours"}, {NAN, 1, "hours"}, {9000, 1, "hours"}, {24, -2, "scale"},
                 {24, 5000, "scale"}, {24, INFINITY, "scale"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hoist_tracegen_config cfg = {HOIST_TRACEGEN_WEB, 1, cases[i].hours, cases[i].scale, NULL};
        membuf m;
        mb_open(&m);
        hoist_err err = {{0}};
        assert_int_equal(hoist_tracegen(&cfg, m.f, &err), -1);
        mb_close(&m);
        assert_has(err.msg, cases[i].what);
        assert_int_equal(m.len, 0);
        free(m.data);
    }
    /* zero hours and scale mean the defaults: 24 h, scale 1 */
    char *d = generate(HOIST_TRACEGEN_WEB, 3, 0, 0, NULL);
    char *e = generate(HOIST_TRACEGEN_WEB, 3, 24, 1, NULL);
    assert_string_equal(d, e);
    free(d);
    free(e);
}

static int64_t int_at(const json_t *pod, const char *path1, const char *path2)
{
    return json_integer_value(json_object_get(json_object_get(pod, path1), path2));
}

static const json_t *container0(const json_t *pod)
{
    return json_array_get(json_object_get(json_object_get(pod, "spec"), "containers"), 0);
}

static const char *request(const json_t *pod, const char *res)
{
    return json_string_value(json_object_get(
        json_object_get(json_object_get(container0(pod), "resources"), "requests"), res));
}

static void test_gen_web(void **state)
{
    (void)state;
    char *text = generate(HOIST_TRACEGEN_WEB, 1, 24, 1, NULL);
    trace_facts f;
    read_facts(text, "web", 0, &f);
    assert_int_equal(f.decode_errors, 0);
    assert_int_equal(f.warnings, 0);
    /* peak about 300 pods, trough about 20% of it */
    assert_true(f.peak_pods >= 270 && f.peak_pods <= 330);
    double ratio = (double)f.peak_pods / (double)f.min_pods_after_warmup;
    if (ratio < 3.8 || ratio > 6.2)
        fail_msg("peak %zu / trough %zu = %.2f", f.peak_pods, f.min_pods_after_warmup, ratio);
    assert_true(f.deletes > 100);
    assert_true(f.last_ms < 24 * 3600 * 1000ull);
    /* changes only every 5 minutes; pods are owned by ReplicaSets; the frontend
     * spreads over zones with ScheduleAnyway */
    size_t spread = 0, big = 0;
    for (size_t i = 0; i < json_array_size(f.pods); i++) {
        const json_t *pod = json_array_get(f.pods, i);
        const json_t *owner = json_array_get(
            json_object_get(json_object_get(pod, "metadata"), "ownerReferences"), 0);
        assert_string_equal(json_string_value(json_object_get(owner, "kind")), "ReplicaSet");
        assert_true(json_is_true(json_object_get(owner, "controller")));
        assert_int_equal(int_at(pod, "spec", "priority"), 1000);
        const json_t *tsc = json_array_get(
            json_object_get(json_object_get(pod, "spec"), "topologySpreadConstraints"), 0);
        if (tsc) {
            spread++;
            assert_string_equal(json_string_value(json_object_get(tsc, "whenUnsatisfiable")),
                                "ScheduleAnyway");
            assert_string_equal(json_string_value(json_object_get(tsc, "topologyKey")),
                                "topology.kubernetes.io/zone");
            assert_string_equal(request(pod, "cpu"), "250m");
        }
        if (!strcmp(request(pod, "cpu"), "1")) {
            big++;
            assert_string_equal(request(pod, "memory"), "2Gi");
        }
    }
    assert_true(spread > 0 && big > 0 && spread + big < json_array_size(f.pods));
    /* scale 2 doubles the peak; a 2-hour trace ends within 2 hours */
    char *text2 = generate(HOIST_TRACEGEN_WEB, 1, 24, 2, NULL);
    trace_facts f2;
    read_facts(text2, "web2", 0, &f2);
    assert_true(f2.peak_pods >= 2 * f.peak_pods - 20 && f2.peak_pods <= 2 * f.peak_pods + 20);
    char *text3 = generate(HOIST_TRACEGEN_WEB, 1, 2, 1, NULL);
    trace_facts f3;
    read_facts(text3, "web3", 0, &f3);
    assert_true(f3.last_ms < 2 * 3600 * 1000ull && f3.last_ms >= 3600 * 1000ull);
    facts_free(&f);
    facts_free(&f2);
    facts_free(&f3);
    free(text);
    free(text2);
    free(text3);
}

/* Every line's `at` is a multiple of 5 minutes. */
static void test_gen_web_steps(void **state)
{
    (void)state;
    char *text = generate(HOIST_TRACEGEN_WEB, 4, 6, 1, NULL);
    for (const char *p = text; *p; p = strchr(p, '\n') + 1) {
        unsigned long at = strtoul(p + strlen("{\"at\":"), NULL, 10);
        assert_int_equal(at % 300, 0);
    }
    free(text);
}

static void test_gen_batch(void **state)
{
    (void)state;
    char *text = generate(HOIST_TRACEGEN_BATCH, 2, 24, 1, NULL);
    trace_facts f;
    read_facts(text, "batch", 0, &f);
    assert_int_equal(f.decode_errors, 0);
    assert_int_equal(f.warnings, 0);
    assert_true(f.adds >= 24 * 20 / 2);
    json_t *jobs = json_object();
    for (size_t i = 0; i < json_array_size(f.pods); i++) {
        const json_t *pod = json_array_get(f.pods, i);
        const json_t *owner = json_array_get(
            json_object_get(json_object_get(pod, "metadata"), "ownerReferences"), 0);
        assert_string_equal(json_string_value(json_object_get(owner, "kind")), "Job");
        const char *job = json_string_value(json_object_get(owner, "name"));
        json_t *n = json_object_get(jobs, job);
        json_object_set_new(jobs, job, json_integer(n ? json_integer_value(n) + 1 : 1));
        int cpu = atoi(request(pod, "cpu"));
        int mem = atoi(request(pod, "memory"));
        assert_true(cpu >= 1 && cpu <= 4);
        assert_true(mem >= 2 && mem <= 8);
        assert_has(request(pod, "memory"), "Gi");
        assert_string_equal(json_string_value(json_object_get(json_object_get(pod, "spec"),
                                                              "restartPolicy")),
                            "Never");
    }
    /* jobs of 20-200 tasks (the last job may be cut by the end), every 30-90 min */
    assert_true(json_object_size(jobs) >= 24 * 60 / 90 - 1 && json_object_size(jobs) <= 24 * 2 + 1);
    const char *job;
    json_t *n;
    json_object_foreach(jobs, job, n) assert_true(json_integer_value(n) >= 20 &&
                                                  json_integer_value(n) <= 200);
    /* tasks run 5-40 minutes */
    assert_true(json_array_size(f.lifetimes) > 0);
    for (size_t i = 0; i < json_array_size(f.lifetimes); i++) {
        double s = json_real_value(json_array_get(f.lifetimes, i));
        assert_true(s >= 300 && s <= 2400);
    }
    json_decref(jobs);
    facts_free(&f);
    free(text);
}

static void test_gen_ml(void **state)
{
    (void)state;
    char *text = generate(HOIST_TRACEGEN_ML, 3, 96, 1, NULL);
    trace_facts f;
    read_facts(text, "ml", 0, &f);
    assert_int_equal(f.decode_errors, 0);
    assert_int_equal(f.warnings, 0);
    assert_true(f.adds >= 4);
    for (size_t i = 0; i < json_array_size(f.pods); i++) {
        const json_t *pod = json_array_get(f.pods, i);
        const json_t *res = json_object_get(container0(pod), "resources");
        json_int_t req = json_integer_value(
            json_object_get(json_object_get(res, "requests"), "nvidia.com/gpu"));
        json_int_t lim = json_integer_value(
            json_object_get(json_object_get(res, "limits"), "nvidia.com/gpu"));
        assert_true(req == 1 || req == 4 || req == 8);
        assert_int_equal(req, lim);
        const json_t *spec = json_object_get(pod, "spec");
        const json_t *tol = json_array_get(json_object_get(spec, "tolerations"), 0);
        assert_string_equal(json_string_value(json_object_get(tol, "key")), "nvidia.com/gpu");
        assert_string_equal(json_string_value(json_object_get(tol, "effect")), "NoSchedule");
        assert_string_equal(json_string_value(json_object_get(
                                json_object_get(spec, "nodeSelector"), "hoist.dev/nodepool")),
                            "gpu");
    }
    for (size_t i = 0; i < json_array_size(f.lifetimes); i++) {
        double s = json_real_value(json_array_get(f.lifetimes, i));
        assert_true(s >= 3600 && s <= 6 * 3600);
    }
    facts_free(&f);
    free(text);
}

static void test_gen_stateful(void **state)
{
    (void)state;
    char *text = generate(HOIST_TRACEGEN_STATEFUL, 5, 48, 1, NULL);
    trace_facts f;
    read_facts(text, "stateful", 0, &f);
    assert_int_equal(f.decode_errors, 0);
    assert_int_equal(f.warnings, 0);
    /* every pod's claim is a PVC added before it, bound to a PV added before
     * it, pinned to one zone and claimed by that PVC */
    json_t *zones = json_object();
    size_t pods = json_array_size(f.pods);
    assert_true(pods > 0);
    for (size_t i = 0; i < pods; i++) {
        const json_t *pod = json_array_get(f.pods, i);
        const char *ns = meta_str(pod, "namespace");
        const json_t *vol = json_array_get(json_object_get(json_object_get(pod, "spec"), "volumes"), 0);
        const char *claim = json_string_value(
            json_object_get(json_object_get(vol, "persistentVolumeClaim"), "claimName"));
        assert_non_null(claim);
        char key[256];
        snprintf(key, sizeof key, "PersistentVolumeClaim/%s/%s", ns, claim);
        const json_t *pvc = json_object_get(f.live, key);
        if (!pvc)
            fail_msg("no PVC %s", key);
        const char *pvname =
            json_string_value(json_object_get(json_object_get(pvc, "spec"), "volumeName"));
        snprintf(key, sizeof key, "PersistentVolume//%s", pvname);
        const json_t *pv = json_object_get(f.live, key);
        if (!pv)
            fail_msg("no PV %s", key);
        const json_t *ref = json_object_get(json_object_get(pv, "spec"), "claimRef");
        assert_string_equal(json_string_value(json_object_get(ref, "name")), claim);
        assert_string_equal(json_string_value(json_object_get(ref, "namespace")), ns);
        const json_t *expr = json_array_get(
            json_object_get(
                json_array_get(json_object_get(json_object_get(json_object_get(json_object_get(
                                                                   pv, "spec"),
                                                                   "nodeAffinity"),
                                                               "required"),
                                               "nodeSelectorTerms"),
                               0),
                "matchExpressions"),
            0);
        assert_string_equal(json_string_value(json_object_get(expr, "key")),
                            "topology.kubernetes.io/zone");
        assert_string_equal(json_string_value(json_object_get(expr, "operator")), "In");
        const char *zone = json_string_value(json_array_get(json_object_get(expr, "values"), 0));
        assert_int_equal(strncmp(zone, "us-east-1", 9), 0);
        json_object_set_new(zones, zone, json_true());
        /* the PV of a pod never changes zone across restarts */
        const char *pod_name = meta_str(pod, "name");
        json_t *seen = json_object_get(zones, pod_name);
        if (seen)
            assert_string_equal(json_string_value(seen), pvname);
        else
            json_object_set_new(zones, pod_name, json_string(pvname));
    }
    assert_true(json_object_get(zones, "us-east-1a") && json_object_get(zones, "us-east-1b") &&
                json_object_get(zones, "us-east-1c"));
    /* pods live the whole trace: one rolling restart a day (48 h: two) */
    size_t sets_pods = f.live_pods;
    assert_int_equal(f.deletes, 2 * sets_pods);
    assert_int_equal(pods, 3 * sets_pods);
    json_decref(zones);
    facts_free(&f);
    free(text);
}

static void test_gen_merge(void **state)
{
    (void)state;
    hoist_tracegen_config cfgs[2] = {{HOIST_TRACEGEN_BATCH, 9, 12, 1, NULL},
                                     {HOIST_TRACEGEN_ML, 9, 12, 1, NULL}};
    membuf m;
    mb_open(&m);
    hoist_err err = {{0}};
    assert_int_equal(hoist_tracegen_merge(cfgs, 2, m.f, &err), 0);
    mb_close(&m);
    char *a = generate(HOIST_TRACEGEN_BATCH, 9, 12, 1, NULL);
    char *b = generate(HOIST_TRACEGEN_ML, 9, 12, 1, NULL);
    trace_facts fm, fa, fb;
    read_facts(m.data, "merged", 0, &fm);
    read_facts(a, "a", 0, &fa);
    read_facts(b, "b", 0, &fb);
    assert_int_equal(fm.events, fa.events + fb.events);
    assert_int_equal(fm.adds, fa.adds + fb.adds);
    assert_int_equal(strlen(m.data), strlen(a) + strlen(b));
    assert_int_equal(hoist_tracegen_merge(cfgs, 0, m.f, &err), -1);
    facts_free(&fm);
    facts_free(&fa);
    facts_free(&fb);
    free(a);
    free(b);
    free(m.data);
}

/* ---- CSV import -------------------------------------------------------------------- */

static void test_csv_good(void **state)
{
    (void)state;
    FILE *in = fopen(src_path("tests/data/trace/tasks.csv"), "r");
    assert_non_null(in);
    membuf m;
    mb_open(&m);
    hoist_err err = {{0}};
    if (hoist_trace_import_csv(in, "tasks.csv", "jobs", m.f, &err) < 0)
        fail_msg("%s", err.msg);
    fclose(in);
    mb_close(&m);
    static const struct {
        const char *at, *op, *name;
    } want[] = {
        {"0", "add", "task-a"},         {"0", "add", "job-two-part-1"},
        {"10.5", "add", "task-a-2"},    {"600", "delete", "task-a"},
        {"600", "add", "late-starter"}, {"600", "add", "task-a-3"},
        {"700", "add", "task"},
        {"700", "add", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
        {"800", "delete", "task"},      {"1200.25", "delete", "late-starter"},
        {"7200", "delete", "task-a-3"},
    };
    trace_facts f;
    read_facts(m.data, "csv", 0, &f);
    assert_int_equal(f.events, sizeof want / sizeof want[0]);
    assert_int_equal(f.decode_errors, 0);
    assert_int_equal(f.warnings, 0);
    const char *line = m.data;
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        char prefix[128];
        snprintf(prefix, sizeof prefix, "{\"at\":%s,\"op\":\"%s\"", want[i].at, want[i].op);
        if (strncmp(line, prefix, strlen(prefix)) != 0)
            fail_msg("line %zu: %.80s, want %s", i + 1, line, prefix);
        char name[128];
        snprintf(name, sizeof name, "\"name\":\"%s\"", want[i].name);
        const char *eol = strchr(line, '\n');
        char *one = strndup(line, (size_t)(eol - line));
        assert_has(one, name);
        assert_has(one, "\"namespace\":\"jobs\"");
        free(one);
        line = eol + 1;
    }
    /* resources: m and Mi; GPUs in requests and limits with the toleration; the
     * original name kept in an annotation when it changed */
    const json_t *two = json_array_get(f.pods, 1);
    assert_string_equal(request(two, "cpu"), "4000m");
    assert_string_equal(request(two, "memory"), "16384Mi");
    const json_t *res = json_object_get(container0(two), "resources");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(res, "limits"),
                                                        "nvidia.com/gpu")),
                     1);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(res, "requests"),
                                                        "nvidia.com/gpu")),
                     1);
    assert_string_equal(
        json_string_value(json_object_get(
            json_array_get(json_object_get(json_object_get(two, "spec"), "tolerations"), 0),
            "key")),
        "nvidia.com/gpu");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_object_get(two, "metadata"), "annotations"),
                            "hoist.dev/task-name")),
                        "Job.Two, part 1");
    /* zero resources: no requests at all */
    const json_t *empty = json_array_get(f.pods, 5);
    assert_string_equal(meta_str(empty, "name"), "task");
    assert_null(json_object_get(json_object_get(container0(empty), "resources"), "requests"));
    facts_free(&f);
    free(m.data);
}

static void test_csv_bad(void **state)
{
    (void)state;
    static const char header[] = "name,cpu_milli,memory_mib,num_gpu,creation_time,deletion_time\n";
    static const struct {
        const char *body;   /* after the header unless it starts with '!' (then whole) */
        const char *where, *what;
    } cases[] = {
        {"!", "tasks.csv:", "no header line"},
        {"!\n\n", "tasks.csv:", "no header line"},
        {"!name,cpu_milli,memory_mib,creation_time,deletion_time\n", "tasks.csv:1:",
         "header: missing column num_gpu"},
        {"!name,cpu_milli,memory_mib,num_gpu,creation_time,deletion_time,zone\n", "tasks.csv:1:",
         "header: unknown column \"zone\""},
        {"!name,cpu_milli,cpu_milli,memory_mib,num_gpu,creation_time,deletion_time\n",
         "tasks.csv:1:", "header: column cpu_milli given twice"},
        {"a,100,200,0,5\n", "tasks.csv:2:", "5 fields, the header has 6"},
        {"a,100,200,0,5,10\nb,1x,200,0,5,10\n", "tasks.csv:3:",
         "column cpu_milli: must be a non-negative integer, got \"1x\""},
        {"a,100,-5,0,5,10\n", "tasks.csv:2:", "column memory_mib: must be a non-negative integer"},
        {"a,100,5,99999999999999999999,5,10\n", "tasks.csv:2:", "column num_gpu: 9999"},
        {"a,,5,0,5,10\n", "tasks.csv:2:", "column cpu_milli: empty"},
        {"a,1,5,0,soon,10\n", "tasks.csv:2:", "column creation_time: must be a number"},
        {"a,1,5,0,,10\n", "tasks.csv:2:", "column creation_time: empty"},
        {"a,1,5,0,-3,10\n", "tasks.csv:2:", "column creation_time: must be a number of seconds >= 0"},
        {"a,1,5,0,3,nan\n", "tasks.csv:2:", "column deletion_time: must be a number"},
        {"a,1,5,0,3,1e20\n", "tasks.csv:2:", "column deletion_time: 1e20 s is too large"},
        {"\"a,1,5,0,3,4\n", "tasks.csv:2:", "field 1: unterminated quote"},
        {"\"a\"x,1,5,0,3,4\n", "tasks.csv:2:", "field 1: text after the closing quote"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[512];
        if (cases[i].body[0] == '!')
            snprintf(text, sizeof text, "%s", cases[i].body + 1);
        else
            snprintf(text, sizeof text, "%s%s", header, cases[i].body);
        /* fmemopen of 0 bytes is not portable: an empty file is /dev/null */
        FILE *in = *text ? fmemopen(text, strlen(text), "r") : fopen("/dev/null", "r");
        assert_non_null(in);
        membuf m;
        mb_open(&m);
        hoist_err err = {{0}};
        int rc = hoist_trace_import_csv(in, "tasks.csv", NULL, m.f, &err);
        fclose(in);
        mb_close(&m);
        if (rc != -1)
            fail_msg("case %zu: no error", i);
        if (strncmp(err.msg, cases[i].where, strlen(cases[i].where)) != 0)
            fail_msg("case %zu: \"%s\" does not start with %s", i, err.msg, cases[i].where);
        assert_has(err.msg, cases[i].what);
        assert_int_equal(m.len, 0); /* nothing written */
        free(m.data);
    }
}

/* Names: 63 characters at most, unique even when a suffix meets a given name. */
static void test_csv_names(void **state)
{
    (void)state;
    char text[4096];
    size_t n = (size_t)snprintf(text, sizeof text,
                                "name,cpu_milli,memory_mib,num_gpu,creation_time,deletion_time\n"
                                "web-2,1,1,0,0,\nweb,1,1,0,0,\nweb,1,1,0,0,\nWEB,1,1,0,0,\n");
    char long_name[80];
    memset(long_name, 'x', 70);
    long_name[70] = '\0';
    for (int i = 0; i < 3; i++)
        n += (size_t)snprintf(text + n, sizeof text - n, "%s,1,1,0,1,\n", long_name);
    FILE *in = fmemopen(text, n, "r");
    membuf m;
    mb_open(&m);
    hoist_err err = {{0}};
    assert_int_equal(hoist_trace_import_csv(in, "n.csv", "ns", m.f, &err), 0);
    fclose(in);
    mb_close(&m);
    trace_facts f;
    read_facts(m.data, "names", 0, &f); /* fails on a repeated name */
    assert_int_equal(f.adds, 7);
    const char *want[] = {"web-2", "web", "web-3", "web-4"};
    for (size_t i = 0; i < 4; i++)
        assert_string_equal(meta_str(json_array_get(f.pods, i), "name"), want[i]);
    for (size_t i = 4; i < 7; i++)
        assert_true(strlen(meta_str(json_array_get(f.pods, i), "name")) <= 63);
    assert_string_equal(meta_str(json_array_get(f.pods, 5), "name") + 61, "-2");
    facts_free(&f);
    free(m.data);
}

/* ---- the bundled traces --------------------------------------------------------------- */

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("cannot open %s", path);
    membuf m;
    mb_open(&m);
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        fwrite(buf, 1, n, m.f);
    fclose(f);
    mb_close(&m);
    return m.data;
}

static void test_bundled_traces(void **state)
{
    (void)state;
    static const struct {
        const char *file;
        size_t min_peak;
        double min_last_hours; /* the stateful trace's last event is the day's restart */
    } traces[] = {{"contrib/traces/web-diurnal.jsonl", 250, 20},
                  {"contrib/traces/batch-and-ml.jsonl", 40, 20},
                  {"contrib/traces/stateful.jsonl", 10, 2}};
    for (size_t i = 0; i < sizeof traces / sizeof traces[0]; i++) {
        char *text = slurp(src_path(traces[i].file));
        trace_facts f;
        read_facts(text, traces[i].file, 0, &f);
        if (f.decode_errors || f.warnings)
            fail_msg("%s: %zu decode errors, %zu warnings", traces[i].file, f.decode_errors,
                     f.warnings);
        assert_true(f.peak_pods >= traces[i].min_peak);
        assert_true(f.last_ms > traces[i].min_last_hours * 3600 * 1000.0 &&
                    f.last_ms < 24 * 3600 * 1000ull);
        assert_true(strlen(text) < 2300000);
        facts_free(&f);
        free(text);
    }
    /* batch-and-ml holds both */
    char *text = slurp(src_path("contrib/traces/batch-and-ml.jsonl"));
    assert_has(text, "\"nvidia.com/gpu\":");
    assert_has(text, "\"kind\":\"Job\"");
    free(text);

    hoist_objects o;
    hoist_objects_init(&o);
    hoist_err err = {{0}};
    if (hoist_objects_load_file(&o, src_path("contrib/traces/nodepools.yaml"), &err) < 0)
        fail_msg("%s", err.msg);
    assert_int_equal(o.n_nodepools, 2);
    assert_int_equal(o.n_warnings, 0);
    const hoist_nodepool *gpu = hoist_objects_find_nodepool(&o, "gpu");
    const hoist_nodepool *general = hoist_objects_find_nodepool(&o, "general");
    assert_non_null(gpu);
    assert_non_null(general);
    assert_int_equal(gpu->taints.n, 1);
    assert_int_equal(general->consolidation_policy, HOIST_CONSOLIDATE_WHEN_EMPTY_OR_UNDERUTILIZED);
    assert_int_equal(general->consolidate_after, 60);
    hoist_objects_free(&o);
}

/* ---- hoist trace --------------------------------------------------------------------- */

/* Run `hoist trace ARGS...`; the arguments end at the first NULL. */
static int cmd(const char *first, ...)
{
    char *argv[16];
    argv[0] = (char *)"trace";
    int argc = 1;
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a && argc < 15; a = va_arg(ap, const char *))
        argv[argc++] = (char *)a;
    va_end(ap);
    argv[argc] = NULL;
    return hoist_cmd_trace(argc, argv);
}

static void test_cmd_trace(void **state)
{
    (void)state;
    char dir[] = "/tmp/hoist-test-trace-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char out[4200], out2[4200], bad[4200], csv[4200], csvout[4200];
    snprintf(out, sizeof out, "%s/web.jsonl", dir);
    snprintf(out2, sizeof out2, "%s/bm.jsonl", dir);
    snprintf(bad, sizeof bad, "%s/bad.jsonl", dir);
    snprintf(csv, sizeof csv, "%s", src_path("tests/data/trace/tasks.csv"));
    snprintf(csvout, sizeof csvout, "%s/csv.jsonl", dir);
    /* usage errors: 2 */
    assert_int_equal(cmd(NULL, NULL, NULL, NULL, NULL, NULL), 2);
    assert_int_equal(cmd("frobnicate", NULL, NULL, NULL, NULL, NULL), 2);
    assert_int_equal(cmd("generate", NULL, NULL, NULL, NULL, NULL), 2);
    assert_int_equal(cmd("generate", "--kind", "cron", NULL, NULL, NULL), 2);
    assert_int_equal(cmd("generate", "--kind", "web,web", NULL, NULL, NULL), 2);
    assert_int_equal(cmd("generate", "--kind", ",", NULL, NULL, NULL), 2);
    assert_int_equal(cmd("generate", "--kind", "web", "--hours", "-3", NULL), 2);
    assert_int_equal(cmd("generate", "--kind", "web", "--hours", "2h", NULL), 2);
    assert_int_equal(cmd("generate", "--kind", "web", "--scale", "0", NULL), 2);
    assert_int_equal(cmd("generate", "--kind", "web", "--seed", "-1", NULL), 2);
    assert_int_equal(cmd("generate", "--kind", "web", "--seed", NULL, NULL), 2);
    assert_int_equal(cmd("generate", "--kind", "web", "extra", NULL, NULL), 2);
    assert_int_equal(cmd("import-csv", NULL, NULL, NULL, NULL, NULL), 2);
    assert_int_equal(cmd("import-csv", csv, "--namespace", "Bad_NS", NULL), 2);
    assert_int_equal(cmd("generate", "--kind", "web", "--namespace", "a\nb", NULL), 2);
    assert_int_equal(cmd("import-csv", csv, csv, NULL, NULL, NULL), 2);
    assert_int_equal(cmd("import-csv", csv, "--frob", NULL, NULL, NULL), 2);
    assert_int_equal(cmd("check", NULL, NULL, NULL, NULL, NULL), 2);
    assert_int_equal(cmd("check", out, out, NULL, NULL, NULL), 2);
    assert_int_equal(cmd("check", "-x", NULL, NULL, NULL, NULL), 2);
    assert_int_equal(cmd("--help", NULL, NULL, NULL, NULL, NULL), 0);
    assert_int_equal(cmd("generate", "--help", NULL, NULL, NULL, NULL), 0);
    /* a generated trace checks; a merged one too */
    assert_int_equal(cmd("generate", "--kind", "web", "--hours", "3", "-o", out, NULL), 0);
    assert_int_equal(cmd("check", out, NULL, NULL, NULL, NULL), 0);
    assert_int_equal(cmd("generate", "--kind", "batch,ml", "--seed", "3", "-o", out2, NULL), 0);
    assert_int_equal(cmd("check", out2, NULL, NULL, NULL, NULL), 0);
    char *text = slurp(out2);
    assert_has(text, "\"namespace\":\"batch\"");
    free(text);
    /* the generator's namespace option */
    assert_int_equal(cmd("generate", "--kind", "ml", "--namespace", "team-a", "-o", out2, NULL), 0);
    text = slurp(out2);
    assert_has(text, "\"namespace\":\"team-a\"");
    free(text);
    /* an unwritable output: 1 */
    assert_int_equal(cmd("generate", "--kind", "web", "-o", "/nonexistent/dir/x.jsonl", NULL), 1);
    /* check: a bad or missing trace is 1 */
    FILE *f = fopen(bad, "w");
    assert_non_null(f);
    fputs("{\"at\": 5, \"op\": \"add\", \"object\": {\"apiVersion\": \"v1\", \"kind\": \"Pod\", "
          "\"metadata\": {\"name\": \"a\"}, \"spec\": {\"containers\": []}}}\n"
          "{\"at\": 1, \"op\": \"delete\", \"object\": {\"metadata\": {\"name\": \"a\"}}}\n",
          f);
    fclose(f);
    assert_int_equal(cmd("check", bad, NULL, NULL, NULL, NULL), 1);
    /* a pod hoist cannot decode (a bad quantity) fails the check too */
    f = fopen(bad, "w");
    assert_non_null(f);
    fputs("{\"at\": 5, \"op\": \"add\", \"object\": {\"apiVersion\": \"v1\", \"kind\": \"Pod\", "
          "\"metadata\": {\"name\": \"a\"}, \"spec\": {\"containers\": [{\"name\": \"c\", "
          "\"resources\": {\"requests\": {\"cpu\": \"12x\"}}}]}}}\n",
          f);
    fclose(f);
    assert_int_equal(cmd("check", bad, NULL, NULL, NULL, NULL), 1);
    assert_int_equal(cmd("check", "/nonexistent.jsonl", NULL, NULL, NULL, NULL), 1);
    /* import-csv: good is 0 and writes a trace that checks; bad is 1 and leaves no file */
    assert_int_equal(cmd("import-csv", csv, "--namespace", "jobs", "-o", csvout, NULL), 0);
    assert_int_equal(cmd("check", csvout, NULL, NULL, NULL, NULL), 0);
    assert_int_equal(cmd("import-csv", "/nonexistent.csv", NULL, NULL, NULL, NULL), 1);
    assert_int_equal(cmd("import-csv", bad, "-o", csvout, NULL, NULL), 1);
    assert_int_equal(access(csvout, F_OK), -1);
    remove(out);
    remove(out2);
    remove(bad);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_good),
        cmocka_unit_test(test_read_default_kind),
        cmocka_unit_test(test_read_bad),
        cmocka_unit_test(test_read_continue_after_error),
        cmocka_unit_test(test_read_open_missing),
        cmocka_unit_test(test_format_seconds),
        cmocka_unit_test(test_write_round_trip),
        cmocka_unit_test(test_gen_determinism),
        cmocka_unit_test(test_gen_kind_names),
        cmocka_unit_test(test_gen_bad_config),
        cmocka_unit_test(test_gen_web),
        cmocka_unit_test(test_gen_web_steps),
        cmocka_unit_test(test_gen_batch),
        cmocka_unit_test(test_gen_ml),
        cmocka_unit_test(test_gen_stateful),
        cmocka_unit_test(test_gen_merge),
        cmocka_unit_test(test_csv_good),
        cmocka_unit_test(test_csv_bad),
        cmocka_unit_test(test_csv_names),
        cmocka_unit_test(test_bundled_traces),
        cmocka_unit_test(test_cmd_trace),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
