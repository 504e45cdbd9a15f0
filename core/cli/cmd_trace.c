/*
 * cli/cmd_trace.c - `hoist trace generate|import-csv|check`: make workload
 * traces for `hoist simulate` and check them.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/objects.h"
#include "sim/trace.h"
#include "util/arena.h"
#include "util/strmap.h"

/* Declared in cli/commands.h once main.c dispatches to it. */
int hoist_cmd_trace(int argc, char **argv);

/* Objects decoded per scratch snapshot in `check` before it is reset. */
#define CHECK_BATCH 4096
/* Kinds counted by name in `check`; more are counted as "(other kinds)". */
#define CHECK_MAX_KINDS 32

static void trace_usage(FILE *out)
{
    fprintf(out,
            "usage: hoist trace generate --kind KIND[,KIND...] [--hours H] [--scale S]\n"
            "                            [--seed N] [--namespace NS] [-o FILE]\n"
            "       hoist trace import-csv FILE [--namespace NS] [-o FILE]\n"
            "       hoist trace check FILE\n"
            "\n"
            "Make workload traces for `hoist simulate` (JSON Lines: one\n"
            "{\"at\": SECONDS, \"op\": \"add|update|delete\", \"object\": {...}} a line).\n"
            "\n"
            "generate    a synthetic trace; several kinds are merged in time order\n"
            "  --kind      web (a diurnal service, ~300 pods at peak), batch (bursts of\n"
            "              Job pods), ml (GPU training jobs), stateful (StatefulSets with\n"
            "              zone-pinned volumes)\n"
            "  --hours H   length (default 24)        --scale S  size factor (default 1)\n"
            "  --seed N    randomness (default 1)     --namespace NS  (default per kind)\n"
            "import-csv  a CSV task list with the columns name,cpu_milli,memory_mib,\n"
            "            num_gpu,creation_time,deletion_time (times in seconds) as Pods\n"
            "            in --namespace (default \"default\")\n"
            "check       read a trace, decode every object, print counts\n"
            "  -o FILE     write to FILE instead of standard output\n"
            "\n"
            "Exit status: 0 success, 1 bad input or failure, 2 usage error.\n");
}

/* A whole-string number; false when s has anything else. */
static bool parse_double(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || errno == ERANGE || !isfinite(v))
        return false;
    *out = v;
    return true;
}

static bool parse_u64(const char *s, uint64_t *out)
{
    if (*s < '0' || *s > '9')
        return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end != '\0' || errno == ERANGE)
        return false;
    *out = v;
    return true;
}

/* A namespace name: a DNS-1123 label. */
static bool valid_namespace(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
            return false;
    return true;
}

/* Open the output: "-" or NULL is standard output. */
static FILE *open_output(const char *path, const char *cmd)
{
    if (!path || !strcmp(path, "-"))
        return stdout;
    FILE *f = fopen(path, "w");
    if (!f)
        fprintf(stderr, "hoist trace %s: %s: cannot open: %s\n", cmd, path, strerror(errno));
    return f;
}

/* Close the output; on failure (ok false, or a write error) remove the file. */
static int close_output(FILE *f, const char *path, bool ok, const char *cmd)
{
    if (f == stdout) {
        if (fflush(stdout) != 0 && ok) {
            fprintf(stderr, "hoist trace %s: cannot write: %s\n", cmd, strerror(errno));
            return 1;
        }
        return ok ? 0 : 1;
    }
    if (fclose(f) != 0 && ok) {
        fprintf(stderr, "hoist trace %s: %s: cannot write: %s\n", cmd, path, strerror(errno));
        ok = false;
    }
    if (!ok)
        remove(path);
    return ok ? 0 : 1;
}

/* The value of option argv[*i], advancing *i; NULL (message printed) when missing. */
static const char *option_value(int argc, char **argv, int *i, const char *cmd)
{
    if (*i + 1 >= argc) {
        fprintf(stderr, "hoist trace %s: %s needs a value\n", cmd, argv[*i]);
        return NULL;
    }
    return argv[++*i];
}

static int cmd_generate(int argc, char **argv)
{
    const char *kinds = NULL, *output = NULL, *ns = NULL;
    double hours = 24, scale = 1;
    uint64_t seed = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (!strcmp(a, "--kind") || !strcmp(a, "--hours") || !strcmp(a, "--scale") ||
            !strcmp(a, "--seed") || !strcmp(a, "--namespace") || !strcmp(a, "-o") ||
            !strcmp(a, "--output")) {
            if (!(v = option_value(argc, argv, &i, "generate")))
                return 2;
        } else {
            fprintf(stderr, "hoist trace generate: unknown argument '%s'\n", a);
            return 2;
        }
        if (!strcmp(a, "--kind")) {
            kinds = v;
        } else if (!strcmp(a, "--hours")) {
            if (!parse_double(v, &hours) || !(hours > 0)) {
                fprintf(stderr, "hoist trace generate: --hours: want a number > 0, got '%s'\n", v);
                return 2;
            }
        } else if (!strcmp(a, "--scale")) {
            if (!parse_double(v, &scale) || !(scale > 0)) {
                fprintf(stderr, "hoist trace generate: --scale: want a number > 0, got '%s'\n", v);
                return 2;
            }
        } else if (!strcmp(a, "--seed")) {
            if (!parse_u64(v, &seed)) {
                fprintf(stderr, "hoist trace generate: --seed: want a non-negative integer, "
                                "got '%s'\n", v);
                return 2;
            }
        } else if (!strcmp(a, "--namespace")) {
            if (!valid_namespace(v)) {
                fprintf(stderr, "hoist trace generate: --namespace: '%s' is not a namespace "
                                "name (lowercase letters, digits, '-'; at most 63)\n", v);
                return 2;
            }
            ns = v;
        } else {
            output = v;
        }
    }
    if (!kinds) {
        fprintf(stderr, "hoist trace generate: --kind is required (web, batch, ml, stateful)\n");
        return 2;
    }
    hoist_tracegen_config cfgs[8];
    size_t n = 0;
    char *list = strdup(kinds);
    if (!list) {
        fprintf(stderr, "hoist trace generate: out of memory\n");
        return 1;
    }
    int status = 2;
    char *save = NULL;
    for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        hoist_tracegen_kind k;
        if (hoist_tracegen_kind_parse(tok, &k) < 0) {
            fprintf(stderr, "hoist trace generate: --kind: unknown kind '%s' (web, batch, ml, "
                            "stateful)\n", tok);
            goto done;
        }
        for (size_t j = 0; j < n; j++) {
            if (cfgs[j].kind == k) {
                fprintf(stderr, "hoist trace generate: --kind: '%s' given twice\n", tok);
                goto done;
            }
        }
        cfgs[n++] = (hoist_tracegen_config){k, seed, hours, scale, ns};
    }
    if (n == 0) {
        fprintf(stderr, "hoist trace generate: --kind lists no kind\n");
        goto done;
    }
    FILE *out = open_output(output, "generate");
    if (!out) {
        status = 1;
        goto done;
    }
    hoist_err err = {{0}};
    /* provenance: the command that makes this trace again */
    fprintf(out, "# hoist trace generate --kind %s --hours %g --scale %g --seed %llu%s%s\n",
            kinds, hours, scale, (unsigned long long)seed, ns ? " --namespace " : "",
            ns ? ns : "");
    int rc = n == 1 ? hoist_tracegen(&cfgs[0], out, &err) : hoist_tracegen_merge(cfgs, n, out, &err);
    if (rc < 0)
        fprintf(stderr, "hoist trace generate: %s\n", err.msg);
    status = close_output(out, output, rc == 0, "generate");
done:
    free(list);
    return status;
}

static int cmd_import_csv(int argc, char **argv)
{
    const char *input = NULL, *output = NULL, *ns = "default";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--namespace") || !strcmp(a, "-o") || !strcmp(a, "--output")) {
            const char *v = option_value(argc, argv, &i, "import-csv");
            if (!v)
                return 2;
            if (!strcmp(a, "--namespace") && !valid_namespace(v)) {
                fprintf(stderr, "hoist trace import-csv: --namespace: '%s' is not a namespace "
                                "name (lowercase letters, digits, '-'; at most 63)\n", v);
                return 2;
            }
            if (!strcmp(a, "--namespace"))
                ns = v;
            else
                output = v;
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "hoist trace import-csv: unknown option '%s'\n", a);
            return 2;
        } else if (input) {
            fprintf(stderr, "hoist trace import-csv: one CSV file at a time ('%s' and '%s')\n",
                    input, a);
            return 2;
        } else {
            input = a;
        }
    }
    if (!input) {
        fprintf(stderr, "hoist trace import-csv: no CSV file given\n");
        return 2;
    }
    FILE *in = strcmp(input, "-") ? fopen(input, "r") : stdin;
    if (!in) {
        fprintf(stderr, "hoist trace import-csv: %s: cannot open: %s\n", input, strerror(errno));
        return 1;
    }
    FILE *out = open_output(output, "import-csv");
    if (!out) {
        if (in != stdin)
            fclose(in);
        return 1;
    }
    hoist_err err = {{0}};
    int rc = hoist_trace_import_csv(in, input, ns, out, &err);
    if (rc < 0)
        fprintf(stderr, "hoist trace import-csv: %s\n", err.msg);
    if (in != stdin)
        fclose(in);
    return close_output(out, output, rc == 0, "import-csv");
}

/* What `check` counts. */
typedef struct check_stats {
    uint64_t events, by_op[3];
    uint64_t first_ms, last_ms;
    size_t n_kinds;
    char kinds[CHECK_MAX_KINDS][64];
    uint64_t kind_count[CHECK_MAX_KINDS + 1];  /* the last: other kinds */
    uint64_t live_pods, peak_pods, peak_ms;
    uint64_t unknown_deletes;                  /* deletes of objects not live */
    uint64_t undecoded;                        /* objects of kinds hoist skips */
} check_stats;

static void count_kind(check_stats *s, const char *kind)
{
    for (size_t i = 0; i < s->n_kinds; i++) {
        if (!strcmp(s->kinds[i], kind)) {
            s->kind_count[i]++;
            return;
        }
    }
    if (s->n_kinds < CHECK_MAX_KINDS && strlen(kind) < sizeof s->kinds[0]) {
        snprintf(s->kinds[s->n_kinds], sizeof s->kinds[0], "%s", kind);
        s->kind_count[s->n_kinds++]++;
        return;
    }
    s->kind_count[CHECK_MAX_KINDS]++;
}

/* Track which objects are live ("Kind/ns/name" -> 1 live, 0 deleted). */
static int track(check_stats *s, hoist_strmap *live, hoist_arena *keys,
                 const hoist_trace_event *ev, const char *kind)
{
    const json_t *meta = json_object_get(ev->object, "metadata");
    const char *ns = json_string_value(json_object_get(meta, "namespace"));
    const char *name = json_string_value(json_object_get(meta, "name"));
    char key[512];
    snprintf(key, sizeof key, "%s/%s/%s", kind, ns ? ns : "", name ? name : "");
    int64_t was = 0;
    bool known = hoist_strmap_get(live, key, &was);
    bool is_pod = !strcmp(kind, "Pod");
    if (ev->op == HOIST_OBJECT_DELETE) {
        if (!known || was == 0) {
            s->unknown_deletes++;
            return 0;
        }
        if (is_pod)
            s->live_pods--;
        return hoist_strmap_put(live, key, 0);
    }
    if (known && was == 1)
        return 0; /* an update, or an add of a live object: the simulator replaces it */
    if (is_pod && ++s->live_pods > s->peak_pods) {
        s->peak_pods = s->live_pods;
        s->peak_ms = ev->at_ms;
    }
    if (known) /* the key string is already in the map */
        return hoist_strmap_put(live, key, 1);
    char *k = hoist_arena_strdup(keys, key);
    return k ? hoist_strmap_put(live, k, 1) : -1;
}

static int cmd_check(int argc, char **argv)
{
    const char *input = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "hoist trace check: unknown option '%s'\n", a);
            return 2;
        }
        if (input) {
            fprintf(stderr, "hoist trace check: one trace at a time ('%s' and '%s')\n", input, a);
            return 2;
        }
        input = a;
    }
    if (!input) {
        fprintf(stderr, "hoist trace check: no trace given\n");
        return 2;
    }
    hoist_err err = {{0}};
    hoist_trace *t = hoist_trace_open(input, &err);
    if (!t) {
        fprintf(stderr, "hoist trace check: %s\n", err.msg);
        return 1;
    }
    check_stats *s = calloc(1, sizeof *s);
    hoist_objects scratch;
    hoist_objects_init(&scratch);
    hoist_strmap live;
    hoist_strmap_init(&live);
    hoist_arena keys;
    hoist_arena_init(&keys, 0);
    size_t decoded = 0;
    int status = 1;
    if (!s) {
        fprintf(stderr, "hoist trace check: out of memory\n");
        goto done;
    }
    hoist_trace_event ev;
    int rc;
    while ((rc = hoist_trace_next(t, &ev, &err)) == 1) {
        const char *kind = json_string_value(json_object_get(ev.object, "kind"));
        if (s->events == 0)
            s->first_ms = ev.at_ms;
        s->last_ms = ev.at_ms;
        s->events++;
        s->by_op[ev.op]++;
        count_kind(s, kind);
        if (ev.op != HOIST_OBJECT_DELETE) {
            if (decoded == CHECK_BATCH) {
                hoist_objects_free(&scratch);
                hoist_objects_init(&scratch);
                decoded = 0;
            }
            size_t warnings = scratch.n_warnings;
            hoist_source src = {input, (int)ev.line, 0};
            if (hoist_objects_add_json(&scratch, ev.object, &src, &err) < 0) {
                rc = -1;
                break;
            }
            decoded++;
            s->undecoded += scratch.n_warnings - warnings;
        }
        if (track(s, &live, &keys, &ev, kind) < 0) {
            hoist_errf(&err, "out of memory");
            rc = -1;
            break;
        }
    }
    if (rc < 0) {
        fprintf(stderr, "hoist trace check: %s\n", err.msg);
        goto done;
    }
    char first[32], last[32];
    hoist_trace_format_seconds(s->first_ms, first, sizeof first);
    hoist_trace_format_seconds(s->last_ms, last, sizeof last);
    printf("%s: %llu events from %s s to %s s (%.2f h)\n", input,
           (unsigned long long)s->events, first, last,
           (double)(s->last_ms - s->first_ms) / 3600000.0);
    for (int op = 0; op < 3; op++)
        printf("  %-8s %10llu\n", hoist_trace_op_name((hoist_object_op)op),
               (unsigned long long)s->by_op[op]);
    for (size_t i = 0; i < s->n_kinds; i++)
        printf("  %-24s %10llu\n", s->kinds[i], (unsigned long long)s->kind_count[i]);
    if (s->kind_count[CHECK_MAX_KINDS])
        printf("  %-24s %10llu\n", "(other kinds)",
               (unsigned long long)s->kind_count[CHECK_MAX_KINDS]);
    char peak[32];
    hoist_trace_format_seconds(s->peak_ms, peak, sizeof peak);
    printf("  pods live at the peak: %llu (at %s s), at the end: %llu\n",
           (unsigned long long)s->peak_pods, peak, (unsigned long long)s->live_pods);
    if (s->unknown_deletes)
        printf("  warning: %llu deletes of objects that were not live\n",
               (unsigned long long)s->unknown_deletes);
    if (s->undecoded)
        printf("  note: %llu objects of kinds hoist does not decode (the simulator skips "
               "them)\n", (unsigned long long)s->undecoded);
    status = 0;
done:
    free(s);
    hoist_objects_free(&scratch);
    hoist_strmap_free(&live);
    hoist_arena_free(&keys);
    hoist_trace_close(t);
    return status;
}

int hoist_cmd_trace(int argc, char **argv)
{
    if (argc < 2) {
        trace_usage(stderr);
        return 2;
    }
    const char *sub = argv[1];
    if (!strcmp(sub, "--help") || !strcmp(sub, "-h") || !strcmp(sub, "help")) {
        trace_usage(stdout);
        return 0;
    }
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            trace_usage(stdout);
            return 0;
        }
    }
    int status;
    if (!strcmp(sub, "generate"))
        status = cmd_generate(argc - 1, argv + 1);
    else if (!strcmp(sub, "import-csv"))
        status = cmd_import_csv(argc - 1, argv + 1);
    else if (!strcmp(sub, "check"))
        status = cmd_check(argc - 1, argv + 1);
    else {
        fprintf(stderr, "hoist trace: unknown subcommand '%s'\n", sub);
        status = 2;
    }
    if (status == 2)
        trace_usage(stderr);
    return status;
}
