/* cli/runtime.c - shared plumbing of the subcommands; see runtime.h. */
#include "config.h"

#include "cli/runtime.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

/* Directory of the running executable into buf, or "" when unknown. */
static void exe_dir(char *buf, size_t len)
{
    char path[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
    buf[0] = '\0';
    if (n <= 0)
        return;
    path[n] = '\0';
    char *slash = strrchr(path, '/');
    if (!slash)
        return;
    *slash = '\0';
    snprintf(buf, len, "%s", path);
}

/* True when this binary is the one in the build tree (running uninstalled). */
static bool running_uninstalled(void)
{
    char dir[PATH_MAX];
    char build[PATH_MAX];
    exe_dir(dir, sizeof dir);
    if (!realpath(HOIST_BUILD_DIR, build))
        return false;
    return strcmp(dir, build) == 0;
}

void hoist_cli_inputs_init(hoist_cli_inputs *in, bool json)
{
    memset(in, 0, sizeof *in);
    in->json = json;
    in->log_level = HOIST_LOG_WARN;
}

int hoist_cli_shared_option(hoist_cli_inputs *in, int opt, const char *arg, const char *cmd)
{
    switch (opt) {
    case 'f':
        if (in->n_files == HOIST_CLI_MAX_FILES) {
            fprintf(stderr, "hoist %s: at most %d -f files\n", cmd, HOIST_CLI_MAX_FILES);
            return 2;
        }
        in->files[in->n_files++] = arg;
        return 1;
    case 'o':
        if (strcmp(arg, "json") == 0) {
            in->json = true;
        } else if (strcmp(arg, "text") == 0) {
            in->json = false;
        } else {
            fprintf(stderr, "hoist %s: -o: expected json or text, got \"%s\"\n", cmd, arg);
            return 2;
        }
        return 1;
    case 'c': in->catalog = arg; return 1;
    case 'p': in->provider = arg; return 1;
    case 'P': in->provider_config = arg; return 1;
    case 'l':
        if (hoist_log_level_parse(arg, &in->log_level) < 0) {
            fprintf(stderr, "hoist %s: --log-level: unknown level \"%s\"\n", cmd, arg);
            return 2;
        }
        return 1;
    default:
        return 0;
    }
}

int hoist_cli_inputs_check(const hoist_cli_inputs *in, int argc, char **argv, const char *cmd)
{
    if (optind < argc) {
        fprintf(stderr, "hoist %s: unexpected argument \"%s\"\n", cmd, argv[optind]);
        return 2;
    }
    if (in->n_files == 0) {
        fprintf(stderr, "hoist %s: give the objects with -f FILE\n", cmd);
        return 2;
    }
    return 0;
}

const char *hoist_cli_build_dir(void)
{
    return running_uninstalled() ? HOIST_BUILD_DIR : NULL;
}

char *hoist_cli_plugin_path(const char *name, hoist_err *err)
{
    size_t n_dirs = 0;
    char **dirs = hoist_plugin_default_dirs(hoist_cli_build_dir(), &n_dirs);
    if (!dirs) {
        hoist_errf(err, "out of memory");
        return NULL;
    }
    char *path = hoist_plugin_resolve(name, (const char *const *)dirs, n_dirs, err);
    hoist_plugin_dirs_free(dirs);
    return path;
}

const char *hoist_cli_data_path(const char *rel, char *buf, size_t len)
{
    if (running_uninstalled()) {
        snprintf(buf, len, "%s/contrib/%s", HOIST_SOURCE_DIR, rel);
        if (access(buf, R_OK) == 0)
            return buf;
    }
    snprintf(buf, len, "%s/%s", HOIST_PKGDATADIR, rel);
    if (access(buf, R_OK) == 0)
        return buf;
    return NULL;
}

int hoist_cli_load_objects(hoist_objects *o, const char *const *files, size_t n, hoist_err *err)
{
    for (size_t i = 0; i < n; i++)
        if (hoist_objects_load_file(o, files[i], err) < 0)
            return -1;
    for (size_t i = 0; i < o->n_warnings; i++)
        fprintf(stderr, "hoist: warning: %s\n", o->warnings[i]);
    return 0;
}

/* The provider configuration as JSON text (malloc'd): config_file's object,
 * with "catalog" set when catalog is given. NULL with a message on error. */
static char *provider_config(const char *config_file, const char *catalog, hoist_err *err)
{
    json_t *cfg;
    if (config_file) {
        json_error_t jerr;
        cfg = json_load_file(config_file, JSON_REJECT_DUPLICATES, &jerr);
        if (!cfg) {
            hoist_errf(err, "%s:%d: %s", config_file, jerr.line, jerr.text);
            return NULL;
        }
        if (!json_is_object(cfg)) {
            json_decref(cfg);
            hoist_errf(err, "%s: the provider configuration must be a JSON object", config_file);
            return NULL;
        }
    } else {
        cfg = json_object();
    }
    if (!cfg || (catalog && json_object_set_new(cfg, "catalog", json_string(catalog)) < 0)) {
        json_decref(cfg);
        hoist_errf(err, "out of memory");
        return NULL;
    }
    char *text = json_dumps(cfg, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(cfg);
    if (!text)
        hoist_errf(err, "out of memory");
    return text;
}

char *hoist_cli_provider_config(const hoist_provider *d, const char *catalog,
                                const char *config_file, hoist_err *err)
{
    bool is_mock = strcmp(d->name, "mock") == 0;
    char catalog_buf[PATH_MAX];
    if (catalog && !is_mock) {
        hoist_errf(err, "--catalog names the mock provider's catalog; provider %s takes "
                   "its configuration from --provider-config", d->name);
        return NULL;
    }
    if (is_mock && !catalog) {
        json_error_t jerr;
        json_t *cfg = config_file ? json_load_file(config_file, 0, &jerr) : NULL;
        bool configured = cfg && json_object_get(cfg, "catalog");
        json_decref(cfg);
        if (!configured) {
            catalog = hoist_cli_data_path("catalog/us-east-1.json", catalog_buf,
                                          sizeof catalog_buf);
            if (!catalog) {
                hoist_errf(err, "the bundled catalog catalog/us-east-1.json is not "
                           "installed in %s; give one with --catalog", HOIST_PKGDATADIR);
                return NULL;
            }
        }
    }
    return provider_config(config_file, catalog, err);
}

int hoist_cli_provider_open(hoist_cli_provider *p, const char *provider, const char *catalog,
                            const char *config_file, hoist_log_level level, hoist_err *err)
{
    memset(p, 0, sizeof *p);
    hoist_logger_init(&p->log, stderr, level);
    if (uv_loop_init(&p->loop) != 0)
        return hoist_errf(err, "cannot create the event loop");
    p->loop_ready = true;
    if (!(p->metrics = hoist_metrics_new()))
        return hoist_errf(err, "out of memory");

    char *path = hoist_cli_plugin_path(provider ? provider : "mock", err);
    if (!path)
        return -1;
    p->plugin = hoist_plugin_open(path, err);
    free(path);
    if (!p->plugin)
        return -1;

    const hoist_provider *d = hoist_plugin_descriptor(p->plugin);
    char *config = hoist_cli_provider_config(d, catalog, config_file, err);
    if (!config)
        return -1;
    p->services = hoist_services_new(&p->loop, &p->log, p->metrics, d->name, err);
    if (!p->services) {
        free(config);
        return -1;
    }
    int rc = hoist_plugin_start(p->plugin, hoist_services_host(p->services), config, err);
    free(config);
    return rc;
}

/* Completion state of one catalog request. */
typedef struct catalog_wait {
    bool done;
    int rc;
    hoist_catalog *out;
    hoist_err *err;
} catalog_wait;

static void on_catalog(void *arg, const hoist_error *e, const hoist_instance_type *types,
                       size_t n)
{
    catalog_wait *w = arg;
    w->done = true;
    if (e) {
        w->rc = hoist_errf(w->err, "provider catalog: %s: %s", hoist_status_name(e->code),
                           e->message);
        return;
    }
    w->rc = hoist_catalog_copy(w->out, types, n, w->err);
}

int hoist_cli_provider_catalog(hoist_cli_provider *p, hoist_catalog *c, hoist_err *err)
{
    const hoist_provider *d = hoist_plugin_descriptor(p->plugin);
    catalog_wait w = {false, 0, c, err};
    hoist_error e = {0};
    if (d->catalog(hoist_plugin_state(p->plugin), on_catalog, &w, &e) != HOIST_OK)
        return hoist_errf(err, "provider catalog: %s: %s", hoist_status_name(e.code), e.message);
    while (!w.done)
        if (uv_run(&p->loop, UV_RUN_ONCE) == 0 && !w.done)
            return hoist_errf(err, "provider %s never answered the catalog request", d->name);
    return w.rc;
}

void hoist_cli_provider_close(hoist_cli_provider *p)
{
    hoist_plugin_close(p->plugin);
    p->plugin = NULL;
    hoist_services_close(p->services);
    p->services = NULL;
    if (p->loop_ready) {
        uv_run(&p->loop, UV_RUN_DEFAULT);
        if (uv_loop_close(&p->loop) != 0)
            fprintf(stderr, "hoist: warning: event loop closed with handles still open\n");
        p->loop_ready = false;
    }
    hoist_metrics_free(p->metrics);
    p->metrics = NULL;
}
