/*
 * plugin/loader.h - load a provider plugin (a shared object) and check its
 * descriptor against the ABI in <hoist/provider.h>.
 *
 * hoist_plugin_open() dlopens the file (RTLD_NOW | RTLD_LOCAL), calls its
 * entry point with the core's ABI version and refuses, with a message naming
 * the file, a descriptor that is NULL, built for another ABI major version,
 * smaller than the ABI 1.0 required fields, missing a required operation, or
 * whose optional operations disagree with its capability bits.
 * hoist_plugin_start() then creates the plugin's instance (init).
 */
#ifndef HOIST_PLUGIN_LOADER_H
#define HOIST_PLUGIN_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include <hoist/host.h>
#include <hoist/provider.h>

#include "util/error.h"

/* Smallest descriptor this core accepts: ABI 1.0 up to and including list. */
#define HOIST_PROVIDER_MIN_SIZE (offsetof(hoist_provider, list) + sizeof(void (*)(void)))

typedef struct hoist_plugin hoist_plugin;

/* Load and check the plugin at `path`. NULL with a message on any failure;
 * nothing stays loaded then. */
hoist_plugin *hoist_plugin_open(const char *path, hoist_err *err);

/* The checked descriptor: a copy padded with zeros (NULL operations) up to
 * this core's sizeof(hoist_provider), so every field may be read; its `size`
 * is the plugin's own. Owned by the plugin handle. */
const hoist_provider *hoist_plugin_descriptor(const hoist_plugin *p);

/* The path the plugin was loaded from (owned by the handle). */
const char *hoist_plugin_path(const hoist_plugin *p);

/* Create the plugin's instance: init(host, config_json or "{}"). `host` is
 * borrowed and must outlive the instance. -1 with a message (including the
 * plugin's own) when init fails or the plugin was already started. */
int hoist_plugin_start(hoist_plugin *p, const hoist_host *host, const char *config_json,
                       hoist_err *err);

/* The instance state to pass to the descriptor's operations; NULL before start. */
void *hoist_plugin_state(const hoist_plugin *p);

/* Destroy the instance (if started) but keep the object loaded; the plugin
 * may be started again. Call before closing the host services it borrowed. */
void hoist_plugin_stop(hoist_plugin *p);

/* Destroy the instance (if started), unload the object and free the handle. NULL is fine. */
void hoist_plugin_close(hoist_plugin *p);

/* Resolve a plugin name to a file. Anything containing '/' or ending in ".so"
 * is a path and is returned as is. A bare name N is searched in each of dirs,
 * in order, as D/N.so, D/.libs/N.so, D/N/N.so and D/N/.libs/N.so (the last
 * ones for uninstalled libtool builds). Returns a malloc'd path the caller
 * frees, or NULL with a message listing the directories searched. */
char *hoist_plugin_resolve(const char *name, const char *const *dirs, size_t n_dirs,
                           hoist_err *err);

/* The default plugin directories, in search order: each entry of
 * $HOIST_PLUGIN_PATH (':'-separated), then `build_plugins_dir` if not NULL
 * (the CLI passes the build tree's plugins directory when it runs
 * uninstalled), then HOIST_PKGLIBDIR. A malloc'd NULL-terminated vector, *n
 * entries; free with hoist_plugin_dirs_free(). NULL when out of memory. */
char **hoist_plugin_default_dirs(const char *build_plugins_dir, size_t *n);
/* Free a vector from hoist_plugin_default_dirs() (NULL is fine). */
void hoist_plugin_dirs_free(char **dirs);

/* Name of one capability bit ("on-demand", "spot", "reserved", "events",
 * "control"), or NULL for a bit this core does not know. */
const char *hoist_capability_name(uint64_t bit);

/* Format an ABI version as "major.minor" into buf; returns buf. */
char *hoist_abi_format(uint32_t version, char *buf, size_t size);

#endif
