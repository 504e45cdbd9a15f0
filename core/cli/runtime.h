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
/* Ask the provider for its catalog and wait for the answer; copy it into c
 * (initialised by the caller). Returns 0 or -1 with a message. */
int hoist_cli_provider_catalog(hoist_cli_provider *p, hoist_catalog *c, hoist_err *err);
/* Stop the plugin, close the services and the loop. */
void hoist_cli_provider_close(hoist_cli_provider *p);

#endif
