/*
 * cli/runtime.h - what the subcommands share: finding bundled files, loading
 * the objects named by -f, and opening a provider plugin on a libuv loop to
 * fetch its catalog.
 */
#ifndef HOIST_CLI_RUNTIME_H
#define HOIST_CLI_RUNTIME_H

#include <stddef.h>

#include <uv.h>

#include "host/host.h"
#include "host/log.h"
#include "host/metrics.h"
#include "model/catalog.h"
#include "model/objects.h"
#include "plugin/loader.h"
#include "util/error.h"

/* Most -f files one command takes. */
#define HOIST_CLI_MAX_FILES 256

/* The options every snapshot command (plan, catalog, ...) shares. */
typedef struct hoist_cli_inputs {
    const char *files[HOIST_CLI_MAX_FILES]; /* -f, in order ("-" = standard input) */
    size_t n_files;
    const char *catalog;          /* --catalog: the mock provider's catalog */
    const char *provider;         /* --provider: plugin path or name */
    const char *provider_config;  /* --provider-config: JSON file */
    bool json;                    /* -o json (else text) */
    hoist_log_level log_level;    /* --log-level, default warn */
} hoist_cli_inputs;

/* getopt_long entries of the shared options; a command's own table starts
 * with these (short options "f:o:", long ones as listed). */
#define HOIST_CLI_SHARED_LONGOPTS                               \
    {"filename", required_argument, NULL, 'f'},                 \
    {"output", required_argument, NULL, 'o'},                   \
    {"catalog", required_argument, NULL, 'c'},                  \
    {"provider", required_argument, NULL, 'p'},                 \
    {"provider-config", required_argument, NULL, 'P'},          \
    {"log-level", required_argument, NULL, 'l'}

/* Set defaults (json as given, log level warn, no files). */
void hoist_cli_inputs_init(hoist_cli_inputs *in, bool json);
/* Apply shared option `opt` with argument `arg`. Returns 1 when it was a
 * shared option, 0 when it is not one, 2 (after a message naming `cmd`) when
 * its argument is bad. */
int hoist_cli_shared_option(hoist_cli_inputs *in, int opt, const char *arg, const char *cmd);
/* After getopt: refuse stray arguments and a missing -f. Returns 0 or 2. */
int hoist_cli_inputs_check(const hoist_cli_inputs *in, int argc, char **argv, const char *cmd);

/* A provider plugin running on its own loop for one CLI invocation. */
typedef struct hoist_cli_provider {
    uv_loop_t loop;
    hoist_logger log;
    hoist_metrics *metrics;
    hoist_services *services;
    hoist_plugin *plugin;
    bool loop_ready;
} hoist_cli_provider;

/* Path of the bundled file `rel` (e.g. "catalog/us-east-1.json"): from the
 * source tree when this binary runs from its build tree, else from the
 * installed data directory. Writes into buf; returns buf, or NULL when the
 * file exists in neither place. */
const char *hoist_cli_data_path(const char *rel, char *buf, size_t len);

/* The build tree this binary runs from uninstalled, or NULL when installed. */
const char *hoist_cli_build_dir(void);

/* Resolve a provider plugin name or path (see hoist_plugin_resolve) against
 * $HOIST_PLUGIN_PATH, the build tree when uninstalled, and the installed
 * plugin directory. malloc'd path, or NULL with a message. */
char *hoist_cli_plugin_path(const char *name, hoist_err *err);

/* Load every file in files (n of them; "-" is standard input) into o, which
 * the caller has initialised. Warnings about skipped kinds go to stderr.
 * Returns 0, or -1 with the file, line, object and field in err. */
int hoist_cli_load_objects(hoist_objects *o, const char *const *files, size_t n, hoist_err *err);

/* Open and start a provider. `provider` is a path or a bare plugin name
 * (NULL means "mock"); `catalog` is the mock's catalog (NULL means the
 * bundled one; only used for the mock); `config_file` is a JSON file with
 * the provider's configuration (NULL for none; --catalog overrides its
 * "catalog"). Logs at `level` to stderr. Returns 0, or -1 with a message;
 * hoist_cli_provider_close() is safe either way. */
int hoist_cli_provider_open(hoist_cli_provider *p, const char *provider, const char *catalog,
                            const char *config_file, hoist_log_level level, hoist_err *err);
/* The init configuration (JSON text, malloc'd) for provider d: config_file's
 * object (NULL = {}) with "catalog" set to `catalog`; for the mock without
 * either, the bundled catalog. NULL with a message. */
char *hoist_cli_provider_config(const hoist_provider *d, const char *catalog,
                                const char *config_file, hoist_err *err);
/* Ask the provider for its catalog and wait for the answer; copy it into c
 * (initialised by the caller). Returns 0 or -1 with a message. */
int hoist_cli_provider_catalog(hoist_cli_provider *p, hoist_catalog *c, hoist_err *err);
/* Stop the plugin, close the services and the loop. */
void hoist_cli_provider_close(hoist_cli_provider *p);

#endif
