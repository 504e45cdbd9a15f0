/*
 * cli/cmd_run.c - `hoist run`: the daemon (daemon/daemon.h) until SIGTERM or
 * SIGINT.
 *
 * Exit status: 0 stopped by a signal after a clean shutdown; 1 runtime
 * error (unreadable or broken kubeconfig, NodePool file, policy, provider,
 * busy address); 2 usage error.
 */
#include "config.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <uv.h>

#include "cli/commands.h"
#include "cli/runtime.h"
#include "daemon/daemon.h"
#include "kube/kubeconfig.h"
#include "model/load.h"
#include "model/objects.h"
#include "policy/policy.h"

typedef struct run_opts {
    const char *kubeconfig;
    bool in_cluster;
    const char *context;
    bool allow_insecure;
    const char *provider;
    const char *provider_config;   /* JSON text, @file or a file name */
    const char *catalog;
    const char *files[HOIST_CLI_MAX_FILES];
    size_t n_files;
    const char *policy;
    char listen_host[128];
    int listen_port;
    bool listen;
    const char *cluster;
    const char *lease_ns, *lease_name, *identity;
    bool no_election;
    hoist_log_level log_level;
    double drain_s;
} run_opts;

typedef struct run_ctx {
    hoist_daemon *d;
    uv_signal_t sigint, sigterm;
    bool signals_on;
    int signals;
    bool done;
} run_ctx;

static void run_usage(FILE *out)
{
    fprintf(out,
            "usage: hoist run [--kubeconfig F | --in-cluster] [--context C]\n"
            "                 [--provider P.so | mock] [--provider-config JSON|@F]\n"
            "                 [--catalog F] [-f nodepools.yaml]... [--policy F.lua]\n"
            "                 [--listen ADDR:PORT] [--cluster NAME]\n"
            "                 [--lease-namespace NS] [--lease-name N] [--identity ID]\n"
            "                 [--no-leader-election] [--log-level L]\n"
            "\n"
            "Runs the autoscaler against a Kubernetes API server until SIGTERM or SIGINT:\n"
            "watches pods, nodes, volumes, PDBs, DaemonSets and NodePools (hoist.dev/v1,\n"
            "karpenter.sh/v1, and those in the -f files), buys machines through the\n"
            "provider, and removes the ones no longer worth their price.\n"
            "\n"
            "  --kubeconfig F          kubeconfig (default $KUBECONFIG, then ~/.kube/config)\n"
            "  --in-cluster            use the pod's service account\n"
            "  --context C             kubeconfig context (default: current-context)\n"
            "  --insecure-skip-tls-verify-allowed\n"
            "                          accept a kubeconfig that skips TLS verification\n"
            "  --provider P            provider plugin path or name (default mock)\n"
            "  --provider-config C     its configuration: JSON text, @FILE, or a file name\n"
            "  --catalog F             the mock provider's catalog\n"
            "  -f F                    NodePools from a file (repeatable)\n"
            "  --policy F              Lua policy; reloaded on SIGHUP and when it changes\n"
            "  --listen ADDR:PORT      serve /metrics, /healthz, /readyz (port 0: any free)\n"
            "  --cluster NAME          cluster name tagged on machines (default \"hoist\")\n"
            "  --lease-namespace NS    Lease namespace (default: the context's namespace)\n"
            "  --lease-name N          Lease name (default \"hoist\")\n"
            "  --identity ID           leader identity (default <hostname>_<pid>)\n"
            "  --no-leader-election    run the pipeline without a Lease (one replica only)\n"
            "  --drain-timeout S       seconds to wait for calls in flight at shutdown (30)\n"
            "  --log-level L           error, warn, info (default) or debug\n"
            "\n"
            "Exit status: 0 stopped by a signal; 1 runtime error; 2 usage error.\n");
}

static int parse_listen(const char *arg, run_opts *o)
{
    const char *colon = strrchr(arg, ':');
    char *end = NULL;
    long port = colon ? strtol(colon + 1, &end, 10) : -1;
    const char *h = arg;
    size_t hl = colon ? (size_t)(colon - arg) : 0;
    if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    if (!colon || !colon[1] || *end || port < 0 || port > 65535 || hl == 0 ||
        hl >= sizeof o->listen_host) {
        fprintf(stderr, "hoist run: --listen \"%s\": expected ADDR:PORT with a port in "
                        "0..65535\n", arg);
        return -1;
    }
    memcpy(o->listen_host, h, hl);
    o->listen_host[hl] = '\0';
    o->listen_port = (int)port;
    o->listen = true;
    return 0;
}

/* Returns 0, -1 after --help, or the exit status to stop with. */
static int parse_args(int argc, char **argv, run_opts *o)
{
    static const struct option longopts[] = {
        {"kubeconfig", required_argument, NULL, 'k'},
        {"in-cluster", no_argument, NULL, 'I'},
        {"context", required_argument, NULL, 'x'},
        {"insecure-skip-tls-verify-allowed", no_argument, NULL, 'S'},
        {"provider", required_argument, NULL, 'p'},
        {"provider-config", required_argument, NULL, 'P'},
        {"catalog", required_argument, NULL, 'c'},
        {"filename", required_argument, NULL, 'f'},
        {"policy", required_argument, NULL, 'y'},
        {"listen", required_argument, NULL, 'L'},
        {"cluster", required_argument, NULL, 'C'},
        {"lease-namespace", required_argument, NULL, 'n'},
        {"lease-name", required_argument, NULL, 'N'},
        {"identity", required_argument, NULL, 'i'},
        {"no-leader-election", no_argument, NULL, 'E'},
        {"drain-timeout", required_argument, NULL, 'D'},
        {"log-level", required_argument, NULL, 'l'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    memset(o, 0, sizeof *o);
    o->log_level = HOIST_LOG_INFO;
    o->cluster = "hoist";
    o->lease_name = "hoist";
    o->drain_s = HOIST_DAEMON_DRAIN_MS_DEFAULT / 1000.0;
    optind = 1;
    int c;
    char *end;
    while ((c = getopt_long(argc, argv, "f:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'k': o->kubeconfig = optarg; break;
        case 'I': o->in_cluster = true; break;
        case 'x': o->context = optarg; break;
        case 'S': o->allow_insecure = true; break;
        case 'p': o->provider = optarg; break;
        case 'P': o->provider_config = optarg; break;
        case 'c': o->catalog = optarg; break;
        case 'f':
            if (o->n_files == HOIST_CLI_MAX_FILES) {
                fprintf(stderr, "hoist run: at most %d -f files\n", HOIST_CLI_MAX_FILES);
                return 2;
            }
            o->files[o->n_files++] = optarg;
            break;
        case 'y': o->policy = optarg; break;
        case 'L':
            if (parse_listen(optarg, o) < 0)
                return 2;
            break;
        case 'C':
            if (!*optarg || strlen(optarg) > 63) {
                fprintf(stderr, "hoist run: --cluster \"%s\": expected 1 to 63 characters\n",
                        optarg);
                return 2;
            }
            o->cluster = optarg;
            break;
        case 'n': o->lease_ns = optarg; break;
        case 'N': o->lease_name = optarg; break;
        case 'i': o->identity = optarg; break;
        case 'E': o->no_election = true; break;
        case 'D':
            o->drain_s = strtod(optarg, &end);
            if (end == optarg || *end || o->drain_s < 0 || o->drain_s > 3600) {
                fprintf(stderr, "hoist run: --drain-timeout \"%s\": expected seconds in "
                                "[0, 3600]\n", optarg);
                return 2;
            }
            break;
        case 'l':
            if (hoist_log_level_parse(optarg, &o->log_level) < 0) {
                fprintf(stderr, "hoist run: --log-level \"%s\": expected error, warn, info or "
                                "debug\n", optarg);
                return 2;
            }
            break;
        case 'h': run_usage(stdout); return -1;
        default: run_usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "hoist run: unexpected argument \"%s\"\n", argv[optind]);
        run_usage(stderr);
        return 2;
    }
    if (o->kubeconfig && o->in_cluster) {
        fprintf(stderr, "hoist run: --kubeconfig and --in-cluster exclude each other\n");
        return 2;
    }
    if (o->in_cluster && o->context) {
        fprintf(stderr, "hoist run: --context names a kubeconfig context; not with --in-cluster\n");
        return 2;
    }
    if (o->no_election && (o->lease_ns || strcmp(o->lease_name, "hoist") != 0)) {
        fprintf(stderr, "hoist run: --lease-namespace/--lease-name with --no-leader-election\n");
        return 2;
    }
    if (!*o->lease_name || (o->lease_ns && !*o->lease_ns)) {
        fprintf(stderr, "hoist run: --lease-namespace and --lease-name must not be empty\n");
        return 2;
    }
    return 0;
}

/* The provider configuration as a file for hoist_cli_provider_open: inline
 * JSON goes through a temporary file (*tmp set, removed by the caller). */
static const char *provider_config_file(const char *arg, char *tmp, size_t len, hoist_err *err)
{
    tmp[0] = '\0';
    if (!arg)
        return NULL;
    if (arg[0] == '@')
        return arg + 1;
    if (arg[0] != '{')
        return arg;
    json_error_t je;
    json_t *j = json_loads(arg, JSON_REJECT_DUPLICATES, &je);
    if (!j || !json_is_object(j)) {
        json_decref(j);
        hoist_errf(err, "--provider-config: %s", j ? "expected a JSON object" : je.text);
        return NULL;
    }
    snprintf(tmp, len, "%s/hoist-provider-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    int fd = mkstemp(tmp);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    int rc = f ? json_dumpf(j, f, JSON_COMPACT) : -1;
    if (f && fclose(f) != 0)
        rc = -1;
    json_decref(j);
    if (rc < 0) {
        if (fd >= 0)
            remove(tmp);
        tmp[0] = '\0';
        hoist_errf(err, "--provider-config: cannot write a temporary file");
        return NULL;
    }
    return tmp;
}

/* NodePools from the -f files (new references into *out). Other kinds are
 * refused: the daemon watches everything else. -1 with the file, line and
 * field in err. */
static int load_nodepools(const run_opts *o, json_t ***out, size_t *n, hoist_err *err)
{
    *out = NULL;
    *n = 0;
    if (o->n_files == 0)
        return 0;
    hoist_docs docs;
    hoist_docs_init(&docs);
    int rc = 0;
    for (size_t i = 0; i < o->n_files && rc == 0; i++)
        rc = hoist_docs_load_file(&docs, o->files[i], err);
    if (rc == 0 && docs.n > HOIST_DAEMON_MAX_FILE_NODEPOOLS)
        rc = hoist_errf(err, "-f: %zu objects; at most %d NodePools", docs.n,
                        HOIST_DAEMON_MAX_FILE_NODEPOOLS);
    json_t **v = rc == 0 ? calloc(docs.n + 1, sizeof *v) : NULL;
    if (rc == 0 && !v)
        rc = hoist_errf(err, "out of memory");
    for (size_t i = 0; rc == 0 && i < docs.n; i++) {
        const hoist_doc *doc = &docs.items[i];
        const char *kind = json_string_value(json_object_get(doc->json, "kind"));
        const char *name = json_string_value(
            json_object_get(json_object_get(doc->json, "metadata"), "name"));
        if (!kind || strcmp(kind, "NodePool") != 0) {
            rc = hoist_errf(err, "%s:%d: %s %s: only NodePools are read from files (the rest "
                            "comes from the API server)", doc->file, doc->line,
                            kind ? kind : "object without kind", name ? name : "");
            break;
        }
        /* decode it once, so a broken NodePool is named now, not skipped later */
        hoist_objects check;
        hoist_objects_init(&check);
        hoist_source src = {0};
        src.file = doc->file;
        src.line = doc->line;
        if (hoist_objects_add_json(&check, doc->json, &src, err) < 0)
            rc = -1;
        hoist_objects_free(&check);
        if (rc == 0)
            v[(*n)++] = json_incref(doc->json);
    }
    hoist_docs_free(&docs);
    if (rc < 0) {
        for (size_t i = 0; v && i < *n; i++)
            json_decref(v[i]);
        free(v);
        *n = 0;
        return -1;
    }
    *out = v;
    return 0;
}

static void on_signal_closed(uv_handle_t *h)
{
    (void)h;
}

static void on_shutdown_done(void *arg)
{
    run_ctx *x = arg;
    x->done = true;
}

static void on_signal(uv_signal_t *s, int signum)
{
    run_ctx *x = s->data;
    if (x->signals++ == 0) {
        fprintf(stderr, "hoist run: signal %d: shutting down\n", signum);
        hoist_daemon_shutdown(x->d, on_shutdown_done, x);
    }
}

int hoist_cmd_run(int argc, char **argv)
{
    run_opts o;
    int prc = parse_args(argc, argv, &o);
    if (prc)
        return prc < 0 ? 0 : prc;

    hoist_err err = {{0}};
    hoist_kube_config kube;
    memset(&kube, 0, sizeof kube);
    hoist_cli_provider prov;
    memset(&prov, 0, sizeof prov);
    bool prov_open = false;
    hoist_catalog cat;
    hoist_catalog_init(&cat);
    hoist_policy *policy = NULL;
    json_t **nodepools = NULL;
    size_t n_nodepools = 0;
    run_ctx x;
    memset(&x, 0, sizeof x);
    char tmp[512] = "";
    int rc = 1;

    if (o.in_cluster) {
        if (hoist_kube_incluster_load(&kube, NULL, hoist_kube_real_clock_ms(NULL), &err) < 0)
            goto out;
    } else if (hoist_kubeconfig_load(&kube, o.kubeconfig, o.context, o.allow_insecure, &err) <
               0) {
        goto out;
    }
    if (load_nodepools(&o, &nodepools, &n_nodepools, &err) < 0)
        goto out;
    if (o.policy) {
        hoist_policy_limits limits = hoist_policy_limits_default();
        if (!(policy = hoist_policy_load(o.policy, &limits, &err)))
            goto out;
    }
    const char *pcfg = provider_config_file(o.provider_config, tmp, sizeof tmp, &err);
    if (o.provider_config && !pcfg)
        goto out;
    prov_open = true;
    int orc = hoist_cli_provider_open(&prov, o.provider, o.catalog, pcfg, o.log_level, &err);
    if (tmp[0])
        remove(tmp);
    if (orc < 0 || hoist_cli_provider_catalog(&prov, &cat, &err) < 0)
        goto out;

    hoist_daemon_config dc;
    memset(&dc, 0, sizeof dc);
    dc.kube = &kube;
    dc.provider = hoist_plugin_descriptor(prov.plugin);
    dc.provider_state = hoist_plugin_state(prov.plugin);
    dc.catalog = &cat;
    dc.policy = &policy;
    dc.policy_path = o.policy;
    dc.nodepools = nodepools;
    dc.n_nodepools = n_nodepools;
    dc.pipeline.cluster = o.cluster;
    dc.listen_host = o.listen ? o.listen_host : NULL;
    dc.listen_port = o.listen_port;
    dc.leader_election = !o.no_election;
    dc.lease_ns = o.lease_ns ? o.lease_ns : (kube.ns ? kube.ns : "default");
    dc.lease_name = o.lease_name;
    dc.identity = o.identity;
    dc.drain_ms = (uint64_t)(o.drain_s * 1000.0);
    if (dc.drain_ms == 0)
        dc.drain_ms = 1;
    dc.log = &prov.log;
    dc.metrics = prov.metrics;
    dc.seed = hoist_kube_real_clock_ms(NULL) ^ (uint64_t)getpid();
    prov.log.level = o.log_level;
    x.d = hoist_daemon_new(&prov.loop, &dc, &err);
    if (!x.d || hoist_daemon_start(x.d, &err) < 0)
        goto out;
    uv_signal_init(&prov.loop, &x.sigint);
    uv_signal_init(&prov.loop, &x.sigterm);
    x.sigint.data = x.sigterm.data = &x;
    uv_signal_start(&x.sigint, on_signal, SIGINT);
    uv_signal_start(&x.sigterm, on_signal, SIGTERM);
    x.signals_on = true;
    if (o.listen)
        printf("hoist run: serving /metrics /healthz /readyz on %s:%d\n", o.listen_host,
               hoist_daemon_port(x.d));
    printf("hoist run: API server %s (%s), cluster %s, %s\n", kube.server, kube.source, o.cluster,
           dc.leader_election ? "leader election on" : "no leader election");
    fflush(stdout);
    /* the provider keeps timers of its own: run until the shutdown is over */
    while (!x.done)
        uv_run(&prov.loop, UV_RUN_ONCE);
    rc = 0;
out:
    if (rc != 0)
        fprintf(stderr, "hoist run: %s\n", err.msg);
    if (x.signals_on) {
        uv_close((uv_handle_t *)&x.sigint, on_signal_closed);
        uv_close((uv_handle_t *)&x.sigterm, on_signal_closed);
    }
    if (prov_open) {
        /* the provider goes first: its unanswered calls are abandoned */
        hoist_plugin_stop(prov.plugin);
        hoist_daemon_free(x.d);
        hoist_cli_provider_close(&prov);
    }
    for (size_t i = 0; i < n_nodepools; i++)
        json_decref(nodepools[i]);
    free(nodepools);
    hoist_policy_free(policy);
    hoist_catalog_free(&cat);
    hoist_kube_config_free(&kube);
    return rc;
}
