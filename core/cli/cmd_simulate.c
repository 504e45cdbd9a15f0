/*
 * cli/cmd_simulate.c - `hoist simulate`: replay a workload trace through
 * hoist's pipeline (and, with --compare, through the baselines) in the
 * simulated cluster, print a summary, write the JSON and HTML reports.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/commands.h"
#include "cli/runtime.h"
#include "model/load.h"
#include "policy/policy.h"
#include "sim/report.h"
#include "sim/sim.h"

#define MAX_RUNS 3

static void usage(FILE *out)
{
    fprintf(out,
            "usage: hoist simulate --trace F -f F... [--catalog F | --provider P.so]\n"
            "                      [--policy F.lua] [--report out.json] [--html out.html]\n"
            "                      [--seed N] [--compare cluster-autoscaler,clusterman]\n"
            "                      [--hours H] [--spot-interruptions R] [--step S]\n"
            "                      [--check-invariants] [-v]\n"
            "\n"
            "Replays the trace (JSON Lines: {\"at\": s, \"op\": \"add|update|delete\",\n"
            "\"object\": {...}}) through hoist's pipeline in a simulated cluster on virtual\n"
            "time and prints what it cost and how long pods waited.\n"
            "  -f F                  NodePools and any other objects present from the start\n"
            "  --policy F            a Lua policy for hoist's run\n"
            "  --report F            the report as JSON (all runs with --compare)\n"
            "  --html F              the report as one HTML page with plots\n"
            "  --seed N              seed of the world and the mock provider (default 1)\n"
            "  --compare LIST        also run cluster-autoscaler and/or clusterman\n"
            "  --hours H             simulate H hours (default: to the last event + 30 min)\n"
            "  --spot-interruptions R  interruptions per spot machine-hour (default 0)\n"
            "  --step S              time series step in seconds (default 300)\n"
            "  --check-invariants    check after every event that no PodDisruptionBudget\n"
            "                        was broken by an eviction, no disruption budget was\n"
            "                        exceeded and no machine was removed by hoist within\n"
            "                        its consolidateAfter (exit 1 when one was)\n"
            "  -v, --verbose         log the world's and the autoscaler's events to stderr\n");
}

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-')
        return -1;
    *out = v;
    return 0;
}

static int parse_pos_double(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= 0) || v > 1e9)
        return -1;
    *out = v;
    return 0;
}

/* The -f objects as one JSON array, each checked by the decoder first so a
 * bad object is reported with its file and line before anything runs. */
static json_t *load_objects(const hoist_cli_inputs *in, hoist_err *err)
{
    hoist_objects check;
    hoist_objects_init(&check);
    int rc = hoist_cli_load_objects(&check, in->files, in->n_files, err);
    hoist_objects_free(&check);
    if (rc < 0)
        return NULL;
    hoist_docs docs;
    hoist_docs_init(&docs);
    json_t *all = json_array();
    for (size_t i = 0; all && i < in->n_files; i++) {
        int r = strcmp(in->files[i], "-") == 0
                    ? hoist_docs_load_stream(&docs, "-", stdin, err)
                    : hoist_docs_load_file(&docs, in->files[i], err);
        if (r < 0) {
            json_decref(all);
            all = NULL;
        }
    }
    for (size_t i = 0; all && i < docs.n; i++)
        if (json_array_append(all, docs.items[i].json) < 0) {
            json_decref(all);
            all = NULL;
        }
    hoist_docs_free(&docs);
    if (!all && !err->msg[0])
        hoist_errf(err, "out of memory");
    return all;
}

/* The mock's configuration for a run: the user's, with the seed and a 2 s
 * launch latency unless given. */
static char *mock_config(const hoist_provider *d, const hoist_cli_inputs *in, uint64_t seed,
                         hoist_err *err)
{
    char *base = hoist_cli_provider_config(d, in->catalog, in->provider_config, err);
    if (!base)
        return NULL;
    json_t *cfg = json_loads(base, 0, NULL);
    free(base);
    if (!cfg) {
        hoist_errf(err, "out of memory");
        return NULL;
    }
    if (strcmp(d->name, "mock") == 0) {
        if (!json_object_get(cfg, "seed"))
            json_object_set_new(cfg, "seed", json_integer((json_int_t)(seed & 0x7fffffff)));
        if (!json_object_get(cfg, "launch_latency_ms"))
            json_object_set_new(cfg, "launch_latency_ms", json_integer(2000));
    }
    char *text = json_dumps(cfg, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(cfg);
    if (!text)
        hoist_errf(err, "out of memory");
    return text;
}

static int write_json_file(const char *path, json_t *j, hoist_err *err)
{
    if (!j)
        return hoist_errf(err, "out of memory building the report");
    FILE *f = fopen(path, "w");
    if (!f) {
        json_decref(j);
        return hoist_errf(err, "%s: cannot write: %s", path, strerror(errno));
    }
    int rc = hoist_report_write_json(f, j, err);
    json_decref(j);
    if (fclose(f) != 0 && rc == 0)
        rc = hoist_errf(err, "%s: cannot write: %s", path, strerror(errno));
    return rc;
}

static double wall_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int hoist_cmd_simulate(int argc, char **argv)
{
    enum { OPT_TRACE = 1000, OPT_POLICY, OPT_REPORT, OPT_HTML, OPT_SEED, OPT_COMPARE, OPT_HOURS,
           OPT_SPOT, OPT_STEP, OPT_INVARIANTS };
    static const struct option longopts[] = {
        HOIST_CLI_SHARED_LONGOPTS,
        {"trace", required_argument, NULL, OPT_TRACE},
        {"policy", required_argument, NULL, OPT_POLICY},
        {"report", required_argument, NULL, OPT_REPORT},
        {"html", required_argument, NULL, OPT_HTML},
        {"seed", required_argument, NULL, OPT_SEED},
        {"compare", required_argument, NULL, OPT_COMPARE},
        {"hours", required_argument, NULL, OPT_HOURS},
        {"spot-interruptions", required_argument, NULL, OPT_SPOT},
        {"step", required_argument, NULL, OPT_STEP},
        {"check-invariants", no_argument, NULL, OPT_INVARIANTS},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    hoist_cli_inputs in;
    hoist_cli_inputs_init(&in, false);
    const char *trace = NULL, *policy_path = NULL, *report_path = NULL, *html_path = NULL;
    hoist_sim_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.seed = 1;
    hoist_sim_autoscaler_kind kinds[MAX_RUNS] = {HOIST_SIM_HOIST};
    size_t n_runs = 1;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "f:o:vh", longopts, NULL)) != -1) {
        int shared = hoist_cli_shared_option(&in, c, optarg, "simulate");
        if (shared == 1)
            continue;
        if (shared == 2)
            return 2;
        switch (c) {
        case OPT_TRACE: trace = optarg; break;
        case OPT_POLICY: policy_path = optarg; break;
        case OPT_REPORT: report_path = optarg; break;
        case OPT_HTML: html_path = optarg; break;
        case 'v': cfg.verbose = true; break;
        case OPT_INVARIANTS: cfg.check_invariants = true; break;
        case 'h': usage(stdout); return 0;
        case OPT_SEED:
            if (parse_u64(optarg, &cfg.seed) < 0) {
                fprintf(stderr, "hoist simulate: --seed: expected a non-negative integer\n");
                return 2;
            }
            break;
        case OPT_HOURS: {
            double h;
            if (parse_pos_double(optarg, &h) < 0 || h <= 0) {
                fprintf(stderr, "hoist simulate: --hours: expected a positive number\n");
                return 2;
            }
            cfg.end_after_ms = (uint64_t)(h * 3600000.0);
            break;
        }
        case OPT_SPOT:
            if (parse_pos_double(optarg, &cfg.spot_interruptions_per_hour) < 0) {
                fprintf(stderr, "hoist simulate: --spot-interruptions: expected a number >= 0\n");
                return 2;
            }
            break;
        case OPT_STEP: {
            uint64_t sec;
            if (parse_u64(optarg, &sec) < 0 || sec == 0) {
                fprintf(stderr, "hoist simulate: --step: expected seconds > 0\n");
                return 2;
            }
            cfg.report_step_ms = sec * 1000;
            break;
        }
        case OPT_COMPARE: {
            char *list = strdup(optarg), *save = NULL;
            if (!list)
                return 1;
            for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
                hoist_sim_autoscaler_kind k;
                if (hoist_sim_autoscaler_parse(tok, &k) < 0 || k == HOIST_SIM_HOIST) {
                    fprintf(stderr,
                            "hoist simulate: --compare: unknown baseline '%s' (expected "
                            "cluster-autoscaler or clusterman)\n",
                            tok);
                    free(list);
                    return 2;
                }
                bool dup = false;
                for (size_t i = 0; i < n_runs; i++)
                    dup |= kinds[i] == k;
                if (!dup && n_runs < MAX_RUNS)
                    kinds[n_runs++] = k;
            }
            free(list);
            break;
        }
        default:
            fprintf(stderr, "hoist simulate: unknown option or missing argument: %s\n",
                    argv[optind - 1]);
            usage(stderr);
            return 2;
        }
    }
    if (!trace) {
        fprintf(stderr, "hoist simulate: --trace is required\n");
        usage(stderr);
        return 2;
    }
    if (hoist_cli_inputs_check(&in, argc, argv, "simulate") != 0)
        return 2;

    int status = 1;
    hoist_err err = {{0}};
    json_t *objects = NULL;
    hoist_policy *policy = NULL;
    hoist_plugin *plugin = NULL;
    char *pcfg = NULL;
    hoist_report *runs[MAX_RUNS] = {NULL};
    hoist_sim_stats stats[MAX_RUNS];
    double took[MAX_RUNS] = {0};

    if (!(objects = load_objects(&in, &err)))
        goto fail;
    if (policy_path && !(policy = hoist_policy_load(policy_path, NULL, &err)))
        goto fail;
    char *path = hoist_cli_plugin_path(in.provider ? in.provider : "mock", &err);
    if (!path)
        goto fail;
    plugin = hoist_plugin_open(path, &err);
    free(path);
    if (!plugin)
        goto fail;
    const hoist_provider *d = hoist_plugin_descriptor(plugin);
    if (!(pcfg = mock_config(d, &in, cfg.seed, &err)))
        goto fail;
    for (size_t i = 0; i < n_runs; i++) {
        hoist_sim_inputs si;
        memset(&si, 0, sizeof si);
        si.trace_path = trace;
        si.objects = objects;
        si.provider = d;
        si.provider_config = pcfg;
        si.kind = kinds[i];
        si.policy = kinds[i] == HOIST_SIM_HOIST ? policy : NULL;
        double t0 = wall_seconds();
        if (hoist_sim_run(&cfg, &si, &runs[i], &stats[i], &err) < 0) {
            hoist_err_prefix(&err, "%s", hoist_sim_autoscaler_name(kinds[i]));
            goto fail;
        }
        took[i] = wall_seconds() - t0;
    }
    hoist_report_print_summary(stdout, (const hoist_report *const *)runs, n_runs);
    bool violated = false;
    for (size_t i = 0; i < n_runs; i++) {
        printf("%s: %.1f simulated hours in %.2f s of wall time (%llu events)\n",
               hoist_sim_autoscaler_name(kinds[i]),
               (double)(stats[i].end_ms - HOIST_SIM_EPOCH_MS) / 3600000.0, took[i],
               (unsigned long long)stats[i].events);
        if (!cfg.check_invariants)
            continue;
        const hoist_sim_stats *st = &stats[i];
        printf("%s invariants: %llu checks; PDB violations %llu, budget violations %llu, "
               "churn %llu (most nodes disrupted at once %llu, evictions refused %llu)\n",
               hoist_sim_autoscaler_name(kinds[i]), (unsigned long long)st->invariant_checks,
               (unsigned long long)st->pdb_violations, (unsigned long long)st->budget_violations,
               (unsigned long long)st->churn, (unsigned long long)st->peak_disrupting,
               (unsigned long long)st->evictions_refused);
        for (size_t k = 0; k < st->n_violations; k++)
            printf("  at %.1f s: %s: %s\n",
                   (double)(st->violations[k].at_ms - HOIST_SIM_EPOCH_MS) / 1000.0,
                   st->violations[k].object, st->violations[k].detail);
        /* the baselines are not held to hoist's rules */
        violated |= kinds[i] == HOIST_SIM_HOIST &&
                    st->pdb_violations + st->budget_violations + st->churn > 0;
    }
    if (report_path) {
        json_t *j = n_runs == 1
                        ? hoist_report_json(runs[0])
                        : hoist_report_compare_json((const hoist_report *const *)runs, n_runs);
        if (write_json_file(report_path, j, &err) < 0)
            goto fail;
    }
    if (html_path) {
        FILE *f = fopen(html_path, "w");
        if (!f) {
            hoist_errf(&err, "%s: cannot write: %s", html_path, strerror(errno));
            goto fail;
        }
        int rc = hoist_report_write_html(f, (const hoist_report *const *)runs, n_runs, trace,
                                         &err);
        if (fclose(f) != 0 && rc == 0)
            rc = hoist_errf(&err, "%s: cannot write: %s", html_path, strerror(errno));
        if (rc < 0)
            goto fail;
    }
    status = violated ? 1 : 0;
    goto done;
fail:
    fprintf(stderr, "hoist simulate: %s\n", err.msg);
done:
    for (size_t i = 0; i < n_runs; i++)
        hoist_report_free(runs[i]);
    free(pcfg);
    hoist_plugin_close(plugin);
    hoist_policy_free(policy);
    json_decref(objects);
    return status;
}
