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
#include "apiserver/store.h"
#include "cli/commands.h"
#include "host/httpd.h"
#include "host/log.h"
#include "host/metrics.h"
#include "host/status.h"
#include "model/load.h"

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
            "  --history N             watch events kept for resuming (default %d)\n",
            HOIST_APISTORE_DEFAULT_HISTORY);
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
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    memset(o, 0, sizeof *o);
    snprintf(o->host, sizeof o->host, "127.0.0.1");
    o->port = 8080;
    o->log_level = HOIST_LOG_INFO;
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
    hoist_apistore_unwatch(x->store, x->counter);
    x->counter = NULL;
    hoist_apiserver_close(x->api);
    x->api = NULL;
    hoist_httpd_close(x->httpd);
    x->httpd = NULL;
    uv_close((uv_handle_t *)&x->sigint, on_closed);
    uv_close((uv_handle_t *)&x->sigterm, on_closed);
}

static int sim_serve(int argc, char **argv)
{
    serve_opts o;
    int prc = parse_args(argc, argv, &o);
    if (prc != 0)
        return prc < 0 ? 0 : prc;
    serve_ctx x;
    memset(&x, 0, sizeof x);
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
    fflush(stdout);
    uv_run(&x.loop, UV_RUN_DEFAULT);
    rc = 0;
done:
    hoist_apistore_unwatch(x.store, x.counter);
    hoist_apiserver_close(x.api);
    hoist_httpd_close(x.httpd);
    uv_run(&x.loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&x.loop) != 0)
        fprintf(stderr, "hoist sim serve: event loop still busy at exit\n");
    hoist_apistore_free(x.store);
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
