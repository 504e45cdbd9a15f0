/*
 * cli/cmd_sim_serve.c - `hoist sim serve`: the simulated world over the
 * Kubernetes REST API (apiserver/apiserver.h), with /healthz, /readyz and
 * /metrics, until SIGINT or SIGTERM.
 */
#include "config.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "apiserver/apiserver.h"
#include "apiserver/cloud.h"
#include "apiserver/store.h"
#include "apiserver/world.h"
#include "cli/commands.h"
#include "cli/runtime.h"
#include "host/host.h"
#include "host/httpd.h"
#include "host/log.h"
#include "host/metrics.h"
#include "host/status.h"
#include "model/catalog.h"
#include "model/load.h"
#include "plugin/loader.h"

#define MAX_FILES 256

typedef struct serve_opts {
    const char *files[MAX_FILES];
    size_t n_files;
    char host[128];
    int port;
    const char *port_file;
    const char *kubeconfig_out;
    uint64_t bookmark_ms;
    size_t history;
    hoist_log_level log_level;
    const char *catalog;            /* the cloud's catalog; NULL = bundled */
    const char *cloud_endpoint_out;
    const char *cluster;            /* default cluster tag of launches */
    double speed;
    double register_delay_s, ready_delay_s, launch_latency_s; /* < 0 = default */
    bool no_cloud;
    bool no_scheduler;
} serve_opts;

typedef struct serve_ctx {
    uv_loop_t loop;
    hoist_apistore *store;
    hoist_httpd *httpd;
    hoist_apiserver *api;
    hoist_metrics *metrics;
    hoist_health health;
    hoist_logger log;
    uv_signal_t sigint, sigterm;
    hoist_apiwatch *counter;
    int signal_seen;
    hoist_plugin *mock;
    hoist_services *services;
    hoist_cloud *cloud;
    hoist_world *world;
    hoist_catalog catalog;
} serve_ctx;

static void serve_usage(FILE *out)
{
    fprintf(out,
            "usage: hoist sim serve [--listen HOST:PORT] [-f FILE]... [--port-file F]\n"
            "                       [--kubeconfig-out F] [--bookmark-interval SECONDS]\n"
            "                       [--history N] [--log-level L]\n"
            "\n"
            "Serves a simulated cluster over the Kubernetes API (plain HTTP, no\n"
            "authentication) until SIGINT or SIGTERM. Objects in the -f files (JSON or\n"
            "YAML; Pods, Nodes, Namespaces, PVs, PVCs, StorageClasses, DaemonSets,\n"
            "PodDisruptionBudgets, Leases, Events, NodePools) are loaded first, their\n"
            "namespaces created as needed.\n"
            "\n"
            "  --listen HOST:PORT      address to listen on (default 127.0.0.1:8080;\n"
            "                          port 0 picks a free one)\n"
            "  --port-file F           write the port to F once listening\n"
            "  --kubeconfig-out F      write a kubeconfig for the server to F\n"
            "  --bookmark-interval S   seconds between watch bookmarks (default 60)\n"
            "  --history N             watch events kept for resuming (default %d)\n"
            "\n"
            "The world: a mock cloud on the same listener under " HOIST_CLOUD_PREFIX "\n"
            "(hand it to `hoist run` as the mock's \"endpoint\"), simulated kubelets that\n"
            "register a Node for each machine it launches, and a scheduler binding\n"
            "pending pods to Ready nodes.\n"
            "  --catalog F             the cloud's catalog (default: the bundled us-east-1)\n"
            "  --cluster NAME          cluster tag of launches that name none\n"
            "  --speed F               divide every world delay by F (default 1)\n"
            "  --register-delay S      machine running -> Node registered (default %g s)\n"
            "  --ready-delay S         Node registered -> Ready (default %g s)\n"
            "  --launch-latency S      the cloud's launch latency (default 0 s)\n"
            "  --cloud-endpoint-out F  write the cloud's endpoint URL to F\n"
            "  --no-scheduler          leave pending pods pending (no simulated scheduler)\n"
            "  --no-cloud              serve the API only (no cloud, kubelets or scheduler)\n",
            HOIST_APISTORE_DEFAULT_HISTORY, HOIST_WORLD_REGISTER_DELAY_MS / 1000.0,
            HOIST_WORLD_READY_DELAY_MS / 1000.0);
}

/* "HOST:PORT" or "[V6]:PORT" into o. -1 with a message. */
static int parse_listen(const char *arg, serve_opts *o)
{
    const char *colon = strrchr(arg, ':');
    if (!colon || colon == arg) {
        fprintf(stderr, "hoist sim serve: --listen \"%s\": expected HOST:PORT\n", arg);
        return -1;
    }
    const char *h = arg;
    size_t hl = (size_t)(colon - arg);
    if (h[0] == '[' && hl >= 2 && h[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    char *end = NULL;
    long port = strtol(colon + 1, &end, 10);
    if (!*(colon + 1) || *end || port < 0 || port > 65535 || hl == 0 || hl >= sizeof o->host) {
        fprintf(stderr, "hoist sim serve: --listen \"%s\": expected HOST:PORT with a port in "
                        "0..65535\n", arg);
        return -1;
    }
    memcpy(o->host, h, hl);
    o->host[hl] = '\0';
    o->port = (int)port;
    return 0;
}

/* Returns 0, -1 after --help, or the exit status to stop with. */
static int parse_args(int argc, char **argv, serve_opts *o)
{
    static const struct option longopts[] = {
        {"filename", required_argument, NULL, 'f'},
        {"listen", required_argument, NULL, 'L'},
        {"port-file", required_argument, NULL, 'P'},
        {"kubeconfig-out", required_argument, NULL, 'K'},
        {"bookmark-interval", required_argument, NULL, 'B'},
        {"history", required_argument, NULL, 'H'},
        {"log-level", required_argument, NULL, 'l'},
        {"catalog", required_argument, NULL, 'c'},
        {"cluster", required_argument, NULL, 'C'},
        {"speed", required_argument, NULL, 'S'},
        {"register-delay", required_argument, NULL, 'R'},
        {"ready-delay", required_argument, NULL, 'Y'},
        {"launch-latency", required_argument, NULL, 'T'},
        {"cloud-endpoint-out", required_argument, NULL, 'E'},
        {"no-cloud", no_argument, NULL, 'N'},
        {"no-scheduler", no_argument, NULL, 'D'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    memset(o, 0, sizeof *o);
    snprintf(o->host, sizeof o->host, "127.0.0.1");
    o->port = 8080;
    o->log_level = HOIST_LOG_INFO;
    o->speed = 1;
    o->register_delay_s = o->ready_delay_s = o->launch_latency_s = -1;
    optind = 1;
    int c;
    char *end;
    while ((c = getopt_long(argc, argv, "f:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'f':
            if (o->n_files == MAX_FILES) {
                fprintf(stderr, "hoist sim serve: at most %d -f files\n", MAX_FILES);
                return 2;
            }
            o->files[o->n_files++] = optarg;
            break;
        case 'L':
            if (parse_listen(optarg, o) != 0)
                return 2;
            break;
        case 'P':
            o->port_file = optarg;
            break;
        case 'K':
            o->kubeconfig_out = optarg;
            break;
        case 'B': {
            double s = strtod(optarg, &end);
            if (end == optarg || *end || s <= 0 || s > 86400) {
                fprintf(stderr, "hoist sim serve: --bookmark-interval \"%s\": expected seconds "
                                "in (0, 86400]\n", optarg);
                return 2;
            }
            o->bookmark_ms = (uint64_t)(s * 1000);
            if (o->bookmark_ms == 0)
                o->bookmark_ms = 1;
            break;
        }
        case 'H': {
            long n = strtol(optarg, &end, 10);
            if (end == optarg || *end || n < 1 || n > 10000000) {
                fprintf(stderr, "hoist sim serve: --history \"%s\": expected 1..10000000\n",
                        optarg);
                return 2;
            }
            o->history = (size_t)n;
            break;
        }
        case 'l':
            if (hoist_log_level_parse(optarg, &o->log_level) != 0) {
                fprintf(stderr, "hoist sim serve: --log-level \"%s\": expected error, warn, "
                                "info or debug\n", optarg);
                return 2;
            }
            break;
        case 'c':
            o->catalog = optarg;
            break;
        case 'C':
            if (!*optarg) {
                fprintf(stderr, "hoist sim serve: --cluster: expected a name\n");
                return 2;
            }
            o->cluster = optarg;
            break;
        case 'E':
            o->cloud_endpoint_out = optarg;
            break;
        case 'N':
            o->no_cloud = true;
            break;
        case 'D':
            o->no_scheduler = true;
            break;
        case 'S': {
            double v = strtod(optarg, &end);
            if (end == optarg || *end || !(v > 0) || v > 1e6) {
                fprintf(stderr, "hoist sim serve: --speed \"%s\": expected a factor in "
                                "(0, 1000000]\n", optarg);
                return 2;
            }
            o->speed = v;
            break;
        }
        case 'R':
        case 'Y':
        case 'T': {
            const char *name = c == 'R' ? "--register-delay" : c == 'Y' ? "--ready-delay"
                                                                      : "--launch-latency";
            double v = strtod(optarg, &end);
            if (end == optarg || *end || !(v >= 0) || v > 86400) {
                fprintf(stderr, "hoist sim serve: %s \"%s\": expected seconds in [0, 86400]\n",
                        name, optarg);
                return 2;
            }
            if (c == 'R')
                o->register_delay_s = v;
            else if (c == 'Y')
                o->ready_delay_s = v;
            else
                o->launch_latency_s = v;
            break;
        }
        case 'h':
            serve_usage(stdout);
            return -1;
        default:
            serve_usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "hoist sim serve: unexpected argument \"%s\"\n", argv[optind]);
        serve_usage(stderr);
        return 2;
    }
    return 0;
}

/* Load every -f file into the store. -1 after a message naming the file,
 * line and object. */
static int preload(serve_ctx *x, const serve_opts *o)
{
    hoist_docs docs;
    hoist_docs_init(&docs);
    hoist_err err = {{0}};
    for (size_t i = 0; i < o->n_files; i++) {
        if (hoist_docs_load_file(&docs, o->files[i], &err) != 0) {
            fprintf(stderr, "hoist sim serve: %s\n", err.msg);
            hoist_docs_free(&docs);
            return -1;
        }
    }
    const hoist_api_resource *nsr = hoist_api_resource_find("", "v1", "namespaces");
    int rc = 0;
    for (size_t i = 0; i < docs.n && rc == 0; i++) {
        const hoist_doc *d = &docs.items[i];
        const char *av = json_string_value(json_object_get(d->json, "apiVersion"));
        const char *kind = json_string_value(json_object_get(d->json, "kind"));
        const char *name = json_string_value(
            json_object_get(json_object_get(d->json, "metadata"), "name"));
        const hoist_api_resource *r = av && kind ? hoist_api_resource_by_kind(av, kind) : NULL;
        if (!r) {
            fprintf(stderr, "hoist sim serve: %s:%d: %s %s: apiVersion/kind: not served (%s)\n",
                    d->file, d->line, kind ? kind : "object", name ? name : "",
                    av ? av : "no apiVersion");
            rc = -1;
            break;
        }
        const char *ns = json_string_value(
            json_object_get(json_object_get(d->json, "metadata"), "namespace"));
        if (r->namespaced && !ns)
            ns = "default";
        hoist_apierr e;
        if (r->namespaced && !hoist_apistore_get(x->store, nsr, NULL, ns)) {
            json_t *nso = json_pack("{s:{s:s}}", "metadata", "name", ns);
            json_t *made = hoist_apistore_create(x->store, nsr, NULL, nso, true, &e);
            json_decref(nso);
            if (!made) {
                fprintf(stderr, "hoist sim serve: %s:%d: Namespace %s: %s\n", d->file, d->line,
                        ns, e.message);
                rc = -1;
                break;
            }
            json_decref(made);
        }
        json_t *made = hoist_apistore_create(x->store, r, r->namespaced ? ns : NULL, d->json,
                                             true, &e);
        if (!made) {
            fprintf(stderr, "hoist sim serve: %s:%d: %s %s%s%s: %s\n", d->file, d->line, kind,
                    r->namespaced ? ns : "", r->namespaced ? "/" : "", name ? name : "",
                    e.message);
            rc = -1;
        }
        json_decref(made);
    }
    hoist_docs_free(&docs);
    return rc;
}

/* Write text to path through a temporary file and a rename, so a reader
 * never sees half of it. */
static int write_file(const char *path, const char *text)
{
    size_t n = strlen(path) + 8;
    char *tmp = malloc(n);
    if (!tmp)
        return -1;
    snprintf(tmp, n, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    int rc = -1;
    if (f) {
        rc = fputs(text, f) < 0 ? -1 : 0;
        if (fclose(f) != 0)
            rc = -1;
        if (rc == 0 && rename(tmp, path) != 0)
            rc = -1;
        if (rc != 0)
            remove(tmp);
    }
    if (rc != 0)
        fprintf(stderr, "hoist sim serve: cannot write %s: %m\n", path);
    free(tmp);
    return rc;
}

static void count_change(void *arg, hoist_api_event_type type, const hoist_api_event *ev)
{
    serve_ctx *x = arg;
    hoist_kv labels[] = {{"resource", ev->res->plural}, {"type", hoist_api_event_name(type)}};
    hoist_metrics_counter_add(x->metrics, "hoist_sim_api_changes_total",
                              "Changes to objects of the simulated API server.", labels, 2, 1,
                              NULL);
    hoist_metrics_gauge_set(x->metrics, "hoist_sim_api_resource_version",
                            "Current resourceVersion of the simulated API server.", NULL, 0,
                            (double)ev->rv, NULL);
}

static void on_closed(uv_handle_t *h)
{
    (void)h;
}

static void on_signal(uv_signal_t *s, int signum)
{
    serve_ctx *x = s->data;
    if (x->signal_seen++)
        return;
    hoist_log(&x->log, HOIST_LOG_INFO, "sim-serve", "signal %d: shutting down", signum);
    hoist_world_free(x->world);
    x->world = NULL;
    hoist_cloud_free(x->cloud);
    x->cloud = NULL;
    hoist_services_close(x->services);
    x->services = NULL;
    hoist_apistore_unwatch(x->store, x->counter);
    x->counter = NULL;
    hoist_apiserver_close(x->api);
    x->api = NULL;
    hoist_httpd_close(x->httpd);
    x->httpd = NULL;
    uv_close((uv_handle_t *)&x->sigint, on_closed);
    uv_close((uv_handle_t *)&x->sigterm, on_closed);
}

typedef struct catalog_wait {
    hoist_catalog *out;
    hoist_err *err;
    int done, rc;
} catalog_wait;

static void on_catalog(void *arg, const hoist_error *err, const hoist_instance_type *types,
                       size_t n)
{
    catalog_wait *cw = arg;
    cw->done = 1;
    if (err)
        cw->rc = hoist_errf(cw->err, "cloud catalog: %s", err->message);
    else
        cw->rc = hoist_catalog_copy(cw->out, types, n, cw->err);
}

/* The mock cloud on the listener, its catalog, and the world. -1 with a message. */
static int start_world(serve_ctx *x, const serve_opts *o, hoist_err *err)
{
    char *path = hoist_cli_plugin_path("mock", err);
    if (!path)
        return -1;
    x->mock = hoist_plugin_open(path, err);
    free(path);
    if (!x->mock)
        return -1;
    x->services = hoist_services_new(&x->loop, &x->log, x->metrics, "mock", err);
    if (!x->services)
        return -1;
    char buf[4096];
    const char *catalog = o->catalog;
    if (!catalog && !(catalog = hoist_cli_data_path("catalog/us-east-1.json", buf, sizeof buf)))
        return hoist_errf(err, "--catalog: the bundled catalog is not installed; name one");
    hoist_world_config wcfg = {
        .speed = o->speed,
        .register_delay_ms = o->register_delay_s >= 0 ? (uint64_t)(o->register_delay_s * 1000) : 0,
        .ready_delay_ms = o->ready_delay_s >= 0 ? (uint64_t)(o->ready_delay_s * 1000) : 0,
        .log = &x->log,
        .no_scheduler = o->no_scheduler,
    };
    /* an explicit 0 means no delay: the world's 0 means "default", so use 1 ms */
    if (o->register_delay_s == 0)
        wcfg.register_delay_ms = 1;
    if (o->ready_delay_s == 0)
        wcfg.ready_delay_ms = 1;
    double latency_ms = o->launch_latency_s > 0 ? o->launch_latency_s * 1000 / o->speed : 0;
    json_t *cfg = json_pack("{s:s,s:I}", "catalog", catalog, "launch_latency_ms",
                            (json_int_t)latency_ms);
    char *text = cfg ? json_dumps(cfg, JSON_COMPACT) : NULL;
    json_decref(cfg);
    if (!text)
        return hoist_errf(err, "out of memory");
    x->cloud = hoist_cloud_new(x->httpd, hoist_plugin_descriptor(x->mock),
                               hoist_services_host(x->services), text, &x->log, err);
    free(text);
    if (!x->cloud || hoist_cloud_set_cluster(x->cloud, o->cluster, err) != 0)
        return -1;
    catalog_wait cw = {&x->catalog, err, 0, 0};
    if (hoist_cloud_catalog(x->cloud, on_catalog, &cw, err) != 0)
        return -1;
    while (!cw.done)
        uv_run(&x->loop, UV_RUN_ONCE);
    if (cw.rc != 0)
        return -1;
    x->world = hoist_world_new(&x->loop, x->store, &x->catalog, &wcfg, err);
    if (!x->world)
        return -1;
    hoist_cloud_listener l = hoist_world_cloud_listener(x->world);
    hoist_cloud_set_listener(x->cloud, &l);
    return 0;
}

static int sim_serve(int argc, char **argv)
{
    serve_opts o;
    int prc = parse_args(argc, argv, &o);
    if (prc != 0)
        return prc < 0 ? 0 : prc;
    serve_ctx x;
    memset(&x, 0, sizeof x);
    hoist_catalog_init(&x.catalog);
    hoist_logger_init(&x.log, stderr, o.log_level);
    if (uv_loop_init(&x.loop) != 0) {
        fprintf(stderr, "hoist sim serve: cannot create the event loop\n");
        return 1;
    }
    int rc = 1;
    hoist_err err = {{0}};
    x.store = hoist_apistore_new(o.history, NULL, NULL);
    x.metrics = hoist_metrics_new();
    if (!x.store || !x.metrics) {
        fprintf(stderr, "hoist sim serve: out of memory\n");
        goto done;
    }
    if (preload(&x, &o) != 0)
        goto done;
    x.counter = hoist_apistore_watch(x.store, NULL, NULL, NULL, NULL, 0, count_change, &x, NULL);
    x.httpd = hoist_httpd_start(&x.loop, o.host, o.port, &x.log, &err);
    if (!x.httpd) {
        fprintf(stderr, "hoist sim serve: %s\n", err.msg);
        goto done;
    }
    int port = hoist_httpd_port(x.httpd);
    char addr[200], url[220];
    if (strchr(o.host, ':'))
        snprintf(addr, sizeof addr, "[%s]:%d", o.host, port);
    else
        snprintf(addr, sizeof addr, "%s:%d", o.host, port);
    snprintf(url, sizeof url, "http://%s", addr);
    hoist_apiserver_config cfg = {o.bookmark_ms, &x.log, addr};
    x.api = hoist_apiserver_new(&x.loop, x.httpd, x.store, &cfg, &err);
    hoist_health_init(&x.health, x.metrics);
    if (!x.api || hoist_health_register(x.httpd, &x.health, &err) != 0) {
        fprintf(stderr, "hoist sim serve: %s\n", err.msg);
        goto done;
    }
    char cloud_url[300] = "";
    if (!o.no_cloud) {
        if (start_world(&x, &o, &err) != 0) {
            fprintf(stderr, "hoist sim serve: %s\n", err.msg);
            goto done;
        }
        snprintf(cloud_url, sizeof cloud_url, "%s%s", url, HOIST_CLOUD_PREFIX);
    }
    hoist_health_set_ready(&x.health, true, NULL);
    if (o.kubeconfig_out) {
        char kc[1024];
        snprintf(kc, sizeof kc,
                 "apiVersion: v1\n"
                 "kind: Config\n"
                 "clusters:\n"
                 "- name: hoist-sim\n"
                 "  cluster:\n"
                 "    server: %s\n"
                 "contexts:\n"
                 "- name: hoist-sim\n"
                 "  context:\n"
                 "    cluster: hoist-sim\n"
                 "    user: hoist-sim\n"
                 "    namespace: default\n"
                 "current-context: hoist-sim\n"
                 "users:\n"
                 "- name: hoist-sim\n"
                 "  user: {}\n"
                 "preferences: {}\n",
                 url);
        if (write_file(o.kubeconfig_out, kc) != 0)
            goto done;
    }
    if (o.cloud_endpoint_out) {
        char line[320];
        snprintf(line, sizeof line, "%s\n", cloud_url);
        if (o.no_cloud) {
            fprintf(stderr, "hoist sim serve: --cloud-endpoint-out with --no-cloud\n");
            goto done;
        }
        if (write_file(o.cloud_endpoint_out, line) != 0)
            goto done;
    }
    if (o.port_file) {
        char p[32];
        snprintf(p, sizeof p, "%d\n", port);
        if (write_file(o.port_file, p) != 0)
            goto done;
    }
    uv_signal_init(&x.loop, &x.sigint);
    uv_signal_init(&x.loop, &x.sigterm);
    x.sigint.data = x.sigterm.data = &x;
    uv_signal_start(&x.sigint, on_signal, SIGINT);
    uv_signal_start(&x.sigterm, on_signal, SIGTERM);
    size_t objects = 0;
    for (size_t i = 0; i < hoist_api_resource_count(); i++)
        objects += hoist_apistore_count(x.store, hoist_api_resource_at(i));
    printf("hoist sim serve: listening on %s (%zu objects)\n", url, objects);
    if (cloud_url[0]) {
        hoist_world_delays d = hoist_world_delays_of(x.world);
        printf("hoist sim serve: cloud endpoint %s (%zu instance types; speed %g: register "
               "%.3f s, ready %.3f s)\n", cloud_url, x.catalog.n, o.speed,
               d.register_ms / 1000.0, d.ready_ms / 1000.0);
    }
    fflush(stdout);
    uv_run(&x.loop, UV_RUN_DEFAULT);
    rc = 0;
done:
    hoist_world_free(x.world);
    hoist_cloud_free(x.cloud);
    hoist_services_close(x.services);
    hoist_apistore_unwatch(x.store, x.counter);
    hoist_apiserver_close(x.api);
    hoist_httpd_close(x.httpd);
    uv_run(&x.loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&x.loop) != 0)
        fprintf(stderr, "hoist sim serve: event loop still busy at exit\n");
    hoist_plugin_close(x.mock);
    hoist_apistore_free(x.store);
    hoist_catalog_free(&x.catalog);
    hoist_metrics_free(x.metrics);
    return rc;
}

int hoist_cmd_sim(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "serve"))
        return sim_serve(argc - 1, argv + 1);
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        printf("usage: hoist sim serve [options]   (hoist sim serve --help for options)\n");
        return 0;
    }
    fprintf(stderr, "usage: hoist sim serve [options]   (hoist sim serve --help for options)\n");
    return 2;
}
