/*
 * tests/bench/bench_plan.c - issue 3's scheduling benchmarks.
 *
 *   (a) Karpenter's own benchmark: 400 fake instance types, diverse pods in
 *       five kinds, sizes 100 .. 20,000 (workloads.h);
 *   (b) the bundled us-east-1 catalog (read by the mock provider's loader)
 *       with 10,000 pods from the upstream kube-scheduler scheduler_perf
 *       templates over two NodePools;
 *   (c) the whole `hoist plan` process on 20,000 pods of (a), parsing
 *       included: fork/exec of the built binary, wall time and its peak RSS.
 *
 * Each (a)/(b) run happens in its own forked child so its peak RSS
 * (getrusage ru_maxrss) is its own. Decision time is CLOCK_MONOTONIC around
 * hoist_plan_compute() only. Targets are printed next to the figures; the
 * program never fails because a target is missed, only when a run itself
 * fails (an error, a crash, pods unexpectedly unschedulable).
 *
 * Usage: bench_plan [-w a,b,c] [-n 100,500,...] [-p PODS_B] [-c PODS_C] [-r REPEAT]
 *                   [-s SEED] [-k DIR] [-v]
 *   -w  workloads to run (default a,b,c)
 *   -n  sizes of (a) (default 100,500,1000,2000,5000,10000,20000)
 *   -p  pods of (b) (default 10000); -c pods of (c) (default 20000)
 *   -r  decide each snapshot REPEAT times and report the fastest (default 1)
 *   -s  seed of the pod sizes (default 42)
 *   -k  keep (c)'s generated files in DIR instead of a temporary directory
 *   -v  list the unschedulable pods of each run with their reasons
 * Environment: HOIST_SRCDIR, HOIST_BUILDDIR, HOIST_SHARED_DATA (defaults:
 * the tree this program was built from).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "../../plugins/mock/mock_catalog.h"
#include "model/catalog.h"
#include "model/objects.h"
#include "sched/plan.h"
#include "policy/plan_hooks.h"
#include "policy/policy.h"
#include "workloads.h"

/* Targets of issue 3 (one core). */
#define TARGET_A_MS 1000.0      /* 20,000 diverse pods decided under 1 s */
#define GOAL_A_MS 200.0         /* ... goal 0.2 s */
#define TARGET_A_RSS_MB 200.0   /* ... peak memory under 200 MB */
#define TARGET_B_MS 1000.0      /* 10,000 pods on the real catalog under 1 s */
#define TARGET_C_MS 2000.0      /* the whole `hoist plan` process, 20,000 pods, under 2 s */
#define TARGET_A_PODS 20000
/* Issue 4: pods of (a) decided with and without a Lua scoring hook. */
#define TARGET_P_PODS 10000
#define TARGET_B_PODS 10000

#define MAX_SIZES 32

static const char *env_or(const char *name, const char *fallback)
{
    const char *v = getenv(name);
    return v && *v ? v : fallback;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Format a message into dst (cap bytes), truncating as needed. */
static void set_error(char *dst, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_error(char *dst, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(dst, cap, fmt, ap);
    va_end(ap);
}

/* ru_maxrss is in KiB on Linux. */
static double maxrss_mb(const struct rusage *ru)
{
    return (double)ru->ru_maxrss / 1024.0;
}

/* What one child reports to the parent through a pipe. */
typedef struct run_result {
    int ok;                /* 1 when the run completed */
    size_t pods;           /* pending pods decided */
    double setup_ms;       /* building catalog and snapshot */
    double decide_ms;      /* hoist_plan_compute, fastest of the repeats */
    size_t claims;         /* new nodes */
    size_t existing;       /* existing nodes receiving pods */
    double cost;           /* per hour */
    double bound;          /* lower bound per hour */
    size_t unschedulable;
    size_t expect_unschedulable;
    double rss_mb;         /* peak RSS of the child */
    double policy_ms;      /* (p): the same decision with the Lua scoring hook */
    size_t policy_calls;   /* (p): hook calls the policy served */
    char error[512];
} run_result;

typedef struct bench_opts {
    size_t sizes[MAX_SIZES];
    size_t n_sizes;
    size_t pods_b;
    size_t pods_c;
    int repeat;
    uint64_t seed;
    const char *keep_dir;
    bool run_a, run_b, run_c, run_p;
    bool verbose;          /* list unschedulable pods and their reasons */
    bool policy_pass;      /* run_karpenter: decide again with the Lua scoring hook */
} bench_opts;

/* Decide o over c `repeat` times; fill r from the fastest run. With verbose,
 * print the unschedulable pods of the last run. */
static int decide(hoist_objects *o, const hoist_catalog *c, int repeat, bool verbose,
                  const hoist_plan_hooks *hooks, run_result *r)
{
    hoist_plan_options popts = {.hooks = hooks};
    hoist_err err = {{0}};
    r->decide_ms = -1;
    for (int i = 0; i < repeat; i++) {
        hoist_plan plan;
        memset(&plan, 0, sizeof plan);
        double t0 = now_ms();
        int rc = hoist_plan_compute(o, c, &popts, &plan, &err);
        double dt = now_ms() - t0;
        if (rc < 0) {
            set_error(r->error, sizeof r->error, "hoist_plan_compute: %s", err.msg);
            return -1;
        }
        if (r->decide_ms < 0 || dt < r->decide_ms)
            r->decide_ms = dt;
        r->pods = plan.n_pending;
        r->claims = plan.n_claims;
        r->existing = plan.n_existing;
        r->cost = plan.cost_per_hour;
        r->bound = plan.lower_bound_per_hour;
        r->unschedulable = plan.n_unschedulable;
        for (size_t u = 0; verbose && i == repeat - 1 && u < plan.n_unschedulable; u++)
            printf("  unschedulable %s: %s\n", plan.unschedulable[u].name,
                   plan.unschedulable[u].reason);
        hoist_plan_free(&plan);
    }
    return 0;
}

/* (a) in the current process: fake catalog + n diverse pods. */
static int run_karpenter(size_t n, const bench_opts *opt, run_result *r)
{
    hoist_err err = {{0}};
    bench_fake_catalog fc;
    hoist_catalog c;
    hoist_objects o;
    hoist_catalog_init(&c);
    hoist_objects_init(&o);
    int rc = -1;
    double t0 = now_ms();
    if (bench_fake_catalog_init(&fc, BENCH_KARPENTER_TYPES, &err) < 0) {
        set_error(r->error, sizeof r->error, "%s", err.msg);
        goto out;
    }
    rc = hoist_catalog_copy(&c, fc.types, fc.n, &err);
    bench_fake_catalog_free(&fc);
    if (rc < 0) {
        set_error(r->error, sizeof r->error, "%s", err.msg);
        goto out;
    }
    json_t *np = bench_karpenter_nodepool();
    json_t *pods = bench_karpenter_pods(n, opt->seed);
    rc = -1;
    if (!np || !pods)
        set_error(r->error, sizeof r->error, "building the workload: out of memory");
    else if (hoist_objects_add_json(&o, np, NULL, &err) < 0 ||
             bench_add_objects(&o, pods, &err) < 0)
        set_error(r->error, sizeof r->error, "%s", err.msg);
    else
        rc = 0;
    json_decref(np);
    json_decref(pods);
    if (rc < 0)
        goto out;
    r->setup_ms = now_ms() - t0;
    rc = decide(&o, &c, opt->repeat, opt->verbose, NULL, r);
    if (rc == 0 && opt->policy_pass) {
        /* the same snapshot again, with a per-instance-type Lua scoring hook */
        char path[4096];
        snprintf(path, sizeof path, "%s/tests/bench/score-policy.lua",
                 env_or("HOIST_SRCDIR", HOIST_BENCH_SRCDIR));
        hoist_policy_limits limits = hoist_policy_limits_default();
        hoist_policy *pol = hoist_policy_load(path, &limits, &err);
        if (!pol) {
            set_error(r->error, sizeof r->error, "%s", err.msg);
            rc = -1;
            goto out;
        }
        hoist_policy_plan pp;
        hoist_policy_plan_init(&pp, pol);
        run_result c_only = *r;
        rc = decide(&o, &c, opt->repeat, false, &pp.hooks, r);
        r->policy_ms = r->decide_ms;
        r->policy_calls = (size_t)hoist_policy_stats_get(pol).calls;
        r->decide_ms = c_only.decide_ms;
        if (rc == 0 && pp.errors) {
            set_error(r->error, sizeof r->error, "the scoring hook failed: %s",
                      pp.last_error.msg);
            rc = -1;
        }
        hoist_policy_free(pol);
    }
out:
    hoist_objects_free(&o);
    hoist_catalog_free(&c);
    return rc;
}

/* Load the bundled catalog through the mock provider's loader, as `hoist plan`
 * sees it by default: six zones, seed 42, default spot model, time 0. */
static int load_bundled_catalog(hoist_catalog *c, char *errbuf, size_t errlen)
{
    static const char *const zones[] = {"us-east-1a", "us-east-1b", "us-east-1c",
                                        "us-east-1d", "us-east-1e", "us-east-1f"};
    char path[4096];
    snprintf(path, sizeof path, "%s/contrib/catalog/us-east-1.json",
             env_or("HOIST_SRCDIR", HOIST_BENCH_SRCDIR));
    mock_catalog mc;
    memset(&mc, 0, sizeof mc);
    mock_spot_params sp;
    mock_spot_params_default(&sp);
    hoist_error e;
    memset(&e, 0, sizeof e);
    if (mock_catalog_load(&mc, path, zones, 6, 42, &sp, &e) < 0) {
        set_error(errbuf, errlen, "%s", e.message);
        mock_catalog_free(&mc);
        return -1;
    }
    const hoist_instance_type *view = mock_catalog_snapshot(&mc, 42, &sp, 0);
    hoist_err err = {{0}};
    int rc = hoist_catalog_copy(c, view, mc.n_types, &err);
    if (rc < 0)
        set_error(errbuf, errlen, "%s", err.msg);
    mock_catalog_free(&mc);
    return rc;
}

/* (b) in the current process: bundled catalog + scheduler_perf pods. */
static int run_perf(size_t n, const bench_opts *opt, run_result *r)
{
    hoist_err err = {{0}};
    hoist_catalog c;
    hoist_objects o;
    hoist_catalog_init(&c);
    hoist_objects_init(&o);
    int rc = -1;
    double t0 = now_ms();
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/workloads/k8s-scheduler-perf/templates",
             env_or("HOIST_SHARED_DATA", HOIST_BENCH_SHARED_DATA));
    if (load_bundled_catalog(&c, r->error, sizeof r->error) < 0)
        goto out;
    json_t *pools = bench_perf_nodepools();
    json_t *pods = bench_perf_pods(dir, n, &r->expect_unschedulable, &err);
    if (!pools || !pods)
        set_error(r->error, sizeof r->error, "%s", pods ? "out of memory" : err.msg);
    else if (bench_add_objects(&o, pools, &err) < 0 || bench_add_objects(&o, pods, &err) < 0)
        set_error(r->error, sizeof r->error, "%s", err.msg);
    else
        rc = 0;
    json_decref(pools);
    json_decref(pods);
    if (rc < 0)
        goto out;
    r->setup_ms = now_ms() - t0;
    rc = decide(&o, &c, opt->repeat, opt->verbose, NULL, r);
out:
    hoist_objects_free(&o);
    hoist_catalog_free(&c);
    return rc;
}

/* Run fn(n) in a forked child; its result comes back through a pipe. */
static int run_in_child(int (*fn)(size_t, const bench_opts *, run_result *), size_t n,
                        const bench_opts *opt, run_result *out)
{
    memset(out, 0, sizeof *out);
    int fds[2];
    if (pipe(fds) < 0) {
        set_error(out->error, sizeof out->error, "pipe: %s", strerror(errno));
        return -1;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        set_error(out->error, sizeof out->error, "fork: %s", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        close(fds[0]);
        run_result r;
        memset(&r, 0, sizeof r);
        r.ok = fn(n, opt, &r) == 0;
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        r.rss_mb = maxrss_mb(&ru);
        fflush(stdout);
        ssize_t w = write(fds[1], &r, sizeof r);
        _exit(w == (ssize_t)sizeof r ? 0 : 1);
    }
    close(fds[1]);
    size_t got = 0;
    while (got < sizeof *out) {
        ssize_t k = read(fds[0], (char *)out + got, sizeof *out - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        got += (size_t)k;
    }
    close(fds[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (got != sizeof *out) {
        memset(out, 0, sizeof *out);
        if (WIFSIGNALED(status))
            set_error(out->error, sizeof out->error, "the run died of signal %d (%s)",
                     WTERMSIG(status), strsignal(WTERMSIG(status)));
        else
            set_error(out->error, sizeof out->error, "the run exited with status %d",
                     WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        return -1;
    }
    return out->ok ? 0 : -1;
}

static void print_header(void)
{
    printf("%-22s %6s %9s %9s %10s %6s %10s %10s %6s %7s %7s\n", "workload", "pods",
           "setup_ms", "decide_ms", "pods/s", "nodes", "cost/h", "bound/h", "ratio",
           "unsched", "rss_mb");
}

static void print_run(const char *name, const run_result *r)
{
    double pps = r->decide_ms > 0 ? (double)r->pods / (r->decide_ms / 1e3) : 0;
    double ratio = r->bound > 0 ? r->cost / r->bound : 0;
    printf("%-22s %6zu %9.1f %9.1f %10.0f %6zu %10.2f %10.2f %6.3f %7zu %7.1f\n", name, r->pods,
           r->setup_ms, r->decide_ms, pps, r->claims, r->cost, r->bound, ratio, r->unschedulable,
           r->rss_mb);
    fflush(stdout);
}

static const char *verdict(bool met)
{
    return met ? "met" : "NOT met";
}

/* ---- (c) the whole hoist plan process ---- */

typedef struct cli_result {
    bool ok;
    double wall_ms;
    double rss_mb;
    size_t claims;
    size_t unschedulable;
    double cost;
    char error[1024];
} cli_result;

static int write_json(const char *path, json_t *v, char *errbuf, size_t errlen)
{
    if (!v) {
        set_error(errbuf, errlen, "%s: out of memory building it", path);
        return -1;
    }
    int rc = json_dump_file(v, path, JSON_COMPACT);
    json_decref(v);
    if (rc < 0)
        set_error(errbuf, errlen, "%s: cannot write it", path);
    return rc;
}

/* Write the (c) input files into dir: snapshot.json (a List holding the
 * NodePool and the pods) and catalog.json (the 400 fake types in the mock's
 * schema). */
static int write_cli_inputs(const char *dir, size_t n, uint64_t seed, char *errbuf,
                            size_t errlen)
{
    char path[4096];
    hoist_err err = {{0}};
    bench_fake_catalog fc;
    if (bench_fake_catalog_init(&fc, BENCH_KARPENTER_TYPES, &err) < 0) {
        set_error(errbuf, errlen, "%s", err.msg);
        return -1;
    }
    snprintf(path, sizeof path, "%s/catalog.json", dir);
    int rc = write_json(path, bench_fake_catalog_mock_json(&fc), errbuf, errlen);
    bench_fake_catalog_free(&fc);
    if (rc < 0)
        return -1;
    json_t *items = bench_karpenter_pods(n, seed);
    json_t *np = bench_karpenter_nodepool();
    if (!items || !np || json_array_insert_new(items, 0, np) < 0) {
        json_decref(items);
        set_error(errbuf, errlen, "building the snapshot: out of memory");
        return -1;
    }
    json_t *list = json_pack("{s:s, s:s, s:o}", "apiVersion", "v1", "kind", "List", "items",
                             items);
    snprintf(path, sizeof path, "%s/snapshot.json", dir);
    return write_json(path, list, errbuf, errlen);
}

/* Fork/exec `hoist plan -f snapshot.json --catalog catalog.json -o json`,
 * stdout to plan.json, stderr to plan.err; time it and read its rusage. */
static int run_cli(const char *dir, cli_result *r)
{
    char hoist[4096], snap[4096], cat[4096], out[4096], errp[4096];
    snprintf(hoist, sizeof hoist, "%s/hoist", env_or("HOIST_BUILDDIR", HOIST_BENCH_BUILDDIR));
    snprintf(snap, sizeof snap, "%s/snapshot.json", dir);
    snprintf(cat, sizeof cat, "%s/catalog.json", dir);
    snprintf(out, sizeof out, "%s/plan.json", dir);
    snprintf(errp, sizeof errp, "%s/plan.err", dir);
    if (access(hoist, X_OK) != 0) {
        set_error(r->error, sizeof r->error, "%s is not built (make hoist)", hoist);
        return -1;
    }
    fflush(stdout);
    fflush(stderr);
    double t0 = now_ms();
    pid_t pid = fork();
    if (pid < 0) {
        set_error(r->error, sizeof r->error, "fork: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        int fo = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int fe = open(errp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fo < 0 || fe < 0 || dup2(fo, 1) < 0 || dup2(fe, 2) < 0)
            _exit(126);
        execl(hoist, hoist, "plan", "-f", snap, "--catalog", cat, "-o", "json", (char *)NULL);
        _exit(127);
    }
    int status = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    while (wait4(pid, &status, 0, &ru) < 0 && errno == EINTR)
        ;
    r->wall_ms = now_ms() - t0;
    r->rss_mb = maxrss_mb(&ru);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        char msg[512] = "";
        FILE *f = fopen(errp, "r");
        if (f) {
            size_t k = fread(msg, 1, sizeof msg - 1, f);
            msg[k] = '\0';
            fclose(f);
        }
        set_error(r->error, sizeof r->error, "hoist plan %s %d: %s",
                 WIFEXITED(status) ? "exited with status" : "died of signal",
                 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), msg);
        return -1;
    }
    json_error_t je;
    json_t *plan = json_load_file(out, 0, &je);
    if (!plan) {
        set_error(r->error, sizeof r->error, "%s:%d: %s", out, je.line, je.text);
        return -1;
    }
    r->claims = json_array_size(json_object_get(plan, "nodeClaims"));
    r->unschedulable = json_array_size(json_object_get(plan, "unschedulable"));
    r->cost = json_number_value(json_object_get(plan, "costPerHour"));
    json_decref(plan);
    r->ok = true;
    return 0;
}

/* Remove the files (c) wrote and the directory. */
static void remove_cli_files(const char *dir)
{
    static const char *const files[] = {"snapshot.json", "catalog.json", "plan.json",
                                        "plan.err"};
    char path[4096];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
}

/* ---- main ---- */

static int parse_sizes(const char *s, bench_opts *opt)
{
    opt->n_sizes = 0;
    while (*s) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno || end == s || v == 0 || v > 10000000 || opt->n_sizes == MAX_SIZES)
            return -1;
        opt->sizes[opt->n_sizes++] = (size_t)v;
        s = *end == ',' ? end + 1 : end;
        if (*end && *end != ',')
            return -1;
    }
    return opt->n_sizes ? 0 : -1;
}

static int parse_count(const char *s, size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || v == 0 || v > 10000000)
        return -1;
    *out = (size_t)v;
    return 0;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: bench_plan [-w a,b,c,p] [-n SIZES] [-p PODS_B] [-c PODS_C] [-r REPEAT] "
               "[-s SEED] [-k DIR] [-v]\n");
}

int main(int argc, char **argv)
{
    static const size_t default_sizes[] = {100, 500, 1000, 2000, 5000, 10000, 20000};
    bench_opts opt;
    memset(&opt, 0, sizeof opt);
    memcpy(opt.sizes, default_sizes, sizeof default_sizes);
    opt.n_sizes = sizeof default_sizes / sizeof default_sizes[0];
    opt.pods_b = TARGET_B_PODS;
    opt.pods_c = TARGET_A_PODS;
    opt.repeat = 1;
    opt.seed = BENCH_DEFAULT_SEED;
    opt.run_a = opt.run_b = opt.run_c = opt.run_p = true;
    int ch;
    while ((ch = getopt(argc, argv, "w:n:p:c:r:s:k:vh")) != -1) {
        size_t v;
        switch (ch) {
        case 'w':
            opt.run_a = strchr(optarg, 'a') != NULL;
            opt.run_b = strchr(optarg, 'b') != NULL;
            opt.run_c = strchr(optarg, 'c') != NULL;
            opt.run_p = strchr(optarg, 'p') != NULL;
            break;
        case 'n':
            if (parse_sizes(optarg, &opt) < 0) {
                fprintf(stderr, "bench_plan: -n: expected sizes like 100,500,1000\n");
                return 2;
            }
            break;
        case 'p':
        case 'c':
        case 'r':
        case 's':
            if (parse_count(optarg, &v) < 0) {
                fprintf(stderr, "bench_plan: -%c: expected a positive integer\n", ch);
                return 2;
            }
            if (ch == 'p')
                opt.pods_b = v;
            else if (ch == 'c')
                opt.pods_c = v;
            else if (ch == 'r')
                opt.repeat = v > 1000 ? 1000 : (int)v;
            else
                opt.seed = v;
            break;
        case 'k':
            opt.keep_dir = optarg;
            break;
        case 'v':
            opt.verbose = true;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 2;
    }

    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    printf("hoist scheduling benchmark (issue 3): %ld cpu(s) online, the planner is "
           "single-threaded; seed %llu; fastest of %d decision(s) per snapshot\n",
           cpus, (unsigned long long)opt.seed, opt.repeat);
    int failures = 0;
    bool have_a = false, have_b = false, have_c = false;
    run_result a_target, b_target;
    cli_result c_res;
    memset(&a_target, 0, sizeof a_target);
    memset(&b_target, 0, sizeof b_target);
    memset(&c_res, 0, sizeof c_res);

    if (opt.run_a || opt.run_b) {
        printf("\n");
        print_header();
    }
    if (opt.run_a) {
        for (size_t i = 0; i < opt.n_sizes; i++) {
            run_result r;
            char name[64];
            snprintf(name, sizeof name, "a:karpenter-400");
            if (run_in_child(run_karpenter, opt.sizes[i], &opt, &r) < 0) {
                printf("%-22s %6zu FAILED: %s\n", name, opt.sizes[i], r.error);
                failures++;
                continue;
            }
            print_run(name, &r);
            if (r.unschedulable) {
                printf("  FAILED: %zu pods unschedulable; every pod of (a) fits\n",
                       r.unschedulable);
                failures++;
            }
            if (opt.sizes[i] == TARGET_A_PODS) {
                a_target = r;
                have_a = true;
            }
        }
    }
    if (opt.run_p) {
        run_result r;
        bench_opts popt = opt;
        popt.policy_pass = true;
        popt.verbose = false;
        if (run_in_child(run_karpenter, TARGET_P_PODS, &popt, &r) < 0) {
            printf("(p) Lua scoring hook, %d pods of (a): FAILED: %s\n", TARGET_P_PODS, r.error);
            failures++;
        } else {
            double ratio = r.decide_ms > 0 ? r.policy_ms / r.decide_ms : 0;
            printf("\n(p) %zu pods of (a), a per-instance-type Lua scoring hook (score_type, "
                   "%zu calls):\n    C only %.1f ms, with the Lua hook %.1f ms: %.2fx "
                   "(issue 4 target <= 2x) -> %s\n",
                   r.pods, r.policy_calls, r.decide_ms, r.policy_ms, ratio,
                   ratio <= 2.0 ? "met" : "NOT met");
        }
    }
    if (opt.run_b) {
        run_result r;
        if (run_in_child(run_perf, opt.pods_b, &opt, &r) < 0) {
            printf("%-22s %6zu FAILED: %s\n", "b:sched-perf-us-east-1", opt.pods_b, r.error);
            failures++;
        } else {
            print_run("b:sched-perf-us-east-1", &r);
            if (r.unschedulable != r.expect_unschedulable) {
                printf("  FAILED: %zu pods unschedulable, expected %zu (the deliberately "
                       "unschedulable templates)\n", r.unschedulable, r.expect_unschedulable);
                failures++;
            }
            if (opt.pods_b == TARGET_B_PODS) {
                b_target = r;
                have_b = true;
            }
        }
    }
    if (opt.run_c) {
        char tmpl[] = "/tmp/hoist-bench-XXXXXX";
        const char *dir = opt.keep_dir;
        if (dir) {
            if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
                fprintf(stderr, "bench_plan: %s: %s\n", dir, strerror(errno));
                return 1;
            }
        } else if (!(dir = mkdtemp(tmpl))) {
            fprintf(stderr, "bench_plan: mkdtemp: %s\n", strerror(errno));
            return 1;
        }
        printf("\n(c) hoist plan -f %s/snapshot.json --catalog %s/catalog.json -o json "
               "(%zu pods of (a), %d types)\n", dir, dir, opt.pods_c, BENCH_KARPENTER_TYPES);
        double t0 = now_ms();
        int rc = write_cli_inputs(dir, opt.pods_c, opt.seed, c_res.error, sizeof c_res.error);
        if (rc == 0) {
            printf("    inputs written in %.0f ms\n", now_ms() - t0);
            rc = run_cli(dir, &c_res);
        }
        if (rc < 0) {
            printf("    FAILED: %s\n", c_res.error);
            failures++;
        } else {
            printf("    wall %.1f ms, peak RSS %.1f MB, %zu nodes, cost/h %.2f, "
                   "%zu unschedulable\n", c_res.wall_ms, c_res.rss_mb, c_res.claims, c_res.cost,
                   c_res.unschedulable);
            have_c = opt.pods_c == TARGET_A_PODS;
        }
        if (!opt.keep_dir)
            remove_cli_files(dir);
    }

    printf("\nTargets (issue 3, one core):\n");
    if (have_a) {
        printf("  (a) 20,000 diverse pods decided < %.0f ms (goal %.0f ms): %.1f ms -> %s "
               "(goal %s)\n", TARGET_A_MS, GOAL_A_MS, a_target.decide_ms,
               verdict(a_target.decide_ms < TARGET_A_MS), verdict(a_target.decide_ms < GOAL_A_MS));
        printf("  (a) 20,000 pods peak memory < %.0f MB: %.1f MB -> %s\n", TARGET_A_RSS_MB,
               a_target.rss_mb, verdict(a_target.rss_mb < TARGET_A_RSS_MB));
    } else {
        printf("  (a) 20,000 pods: not run\n");
    }
    if (have_b)
        printf("  (b) 10,000 pods on the real catalog decided < %.0f ms: %.1f ms -> %s\n",
               TARGET_B_MS, b_target.decide_ms, verdict(b_target.decide_ms < TARGET_B_MS));
    else
        printf("  (b) 10,000 pods on the real catalog: not run\n");
    if (have_c)
        printf("  (c) whole hoist plan process, 20,000 pods < %.0f ms: %.1f ms -> %s "
               "(peak RSS %.1f MB)\n", TARGET_C_MS, c_res.wall_ms,
               verdict(c_res.wall_ms < TARGET_C_MS), c_res.rss_mb);
    else
        printf("  (c) whole hoist plan process, 20,000 pods: not run\n");
    if (failures)
        printf("\n%d run(s) FAILED (errors, not timing)\n", failures);
    return failures ? 1 : 0;
}
