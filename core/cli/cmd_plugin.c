/* cli/cmd_plugin.c - `hoist plugin info [-o json|text] [--check] [--config JSON] PLUGIN`. */
#include "config.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <uv.h>

#include "cli/commands.h"
#include "cli/runtime.h"
#include "host/host.h"
#include "host/log.h"
#include "host/metrics.h"
#include "plugin/loader.h"

static void plugin_usage(FILE *out)
{
    fprintf(out,
            "usage: hoist plugin info [-o text|json] [--check] [--config JSON] PLUGIN\n"
            "\n"
            "Print a provider plugin's name, version, ABI version, descriptor size and\n"
            "capabilities. PLUGIN is a path to a .so or a bare name searched in\n"
            "$HOIST_PLUGIN_PATH, the build tree and %s.\n"
            "\n"
            "  -o, --output FORMAT   text (default) or json\n"
            "      --check           also start the plugin (init with host services) and stop it\n"
            "      --config JSON     configuration for --check (default \"{}\"); implies --check\n",
            HOIST_PKGLIBDIR);
}

/* Start and stop the plugin on a private loop; -1 with a message. */
static int check_plugin(hoist_plugin *p, const char *config, hoist_err *err)
{
    uv_loop_t loop;
    if (uv_loop_init(&loop) != 0)
        return hoist_errf(err, "cannot create an event loop");
    hoist_logger log;
    hoist_logger_init(&log, stderr, HOIST_LOG_WARN);
    hoist_metrics *metrics = hoist_metrics_new();
    hoist_services *svc =
        metrics ? hoist_services_new(&loop, &log, metrics, hoist_plugin_descriptor(p)->name, err)
                : NULL;
    int rc = -1;
    if (!metrics)
        hoist_errf(err, "out of memory");
    else if (svc)
        rc = hoist_plugin_start(p, hoist_services_host(svc), config, err);
    hoist_plugin_stop(p); /* destroy the instance while the host it borrows is alive */
    hoist_services_close(svc);
    uv_run(&loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&loop) != 0 && rc == 0)
        rc = hoist_errf(err, "the plugin left handles open on the event loop");
    hoist_metrics_free(metrics);
    return rc;
}

static int print_text(const hoist_provider *d, const char *path, bool checked)
{
    char abi[16], core[16];
    printf("name:         %s\n", d->name);
    printf("version:      %s\n", d->version ? d->version : "(none)");
    printf("description:  %s\n", d->description ? d->description : "");
    printf("path:         %s\n", path);
    printf("abi:          %s (this hoist: %s)\n", hoist_abi_format(d->abi_version, abi, sizeof abi),
           hoist_abi_format(HOIST_PROVIDER_ABI_VERSION, core, sizeof core));
    printf("struct size:  %u bytes (this hoist: %zu)\n", d->size, sizeof(hoist_provider));
    printf("capabilities:");
    bool any = false;
    for (int bit = 0; bit < 64; bit++) {
        uint64_t b = (uint64_t)1 << bit;
        if (!(d->capabilities & b))
            continue;
        const char *name = hoist_capability_name(b);
        if (name)
            printf("%s %s", any ? "," : "", name);
        else
            printf("%s unknown(bit %d)", any ? "," : "", bit);
        any = true;
    }
    printf("%s\n", any ? "" : " none");
    if (checked)
        printf("check:        init and destroy succeeded\n");
    return fflush(stdout) == 0 ? 0 : 1;
}

static int print_json(const hoist_provider *d, const char *path, bool checked)
{
    char abi[16], core[16];
    json_t *caps = json_array();
    json_t *o = json_object();
    if (!caps || !o) {
        json_decref(caps);
        json_decref(o);
        fprintf(stderr, "hoist plugin info: out of memory\n");
        return 1;
    }
    for (int bit = 0; bit < 64; bit++) {
        uint64_t b = (uint64_t)1 << bit;
        if (!(d->capabilities & b))
            continue;
        const char *name = hoist_capability_name(b);
        char unknown[32];
        snprintf(unknown, sizeof unknown, "unknown(bit %d)", bit);
        json_array_append_new(caps, json_string(name ? name : unknown));
    }
    int bad = 0;
    bad |= json_object_set_new(o, "name", json_string(d->name));
    bad |= json_object_set_new(o, "version", d->version ? json_string(d->version) : json_null());
    bad |= json_object_set_new(o, "description",
                               json_string(d->description ? d->description : ""));
    bad |= json_object_set_new(o, "path", json_string(path));
    bad |= json_object_set_new(o, "abiVersion",
                               json_string(hoist_abi_format(d->abi_version, abi, sizeof abi)));
    bad |= json_object_set_new(o, "abiMajor", json_integer(HOIST_ABI_MAJOR_OF(d->abi_version)));
    bad |= json_object_set_new(o, "abiMinor", json_integer(HOIST_ABI_MINOR_OF(d->abi_version)));
    bad |= json_object_set_new(
        o, "coreAbiVersion",
        json_string(hoist_abi_format(HOIST_PROVIDER_ABI_VERSION, core, sizeof core)));
    bad |= json_object_set_new(o, "structSize", json_integer(d->size));
    bad |= json_object_set_new(o, "coreStructSize", json_integer((json_int_t)sizeof(hoist_provider)));
    bad |= json_object_set_new(o, "capabilities", caps);
    if (checked)
        bad |= json_object_set_new(o, "check", json_string("ok"));
    char *text = bad ? NULL : json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (!text) {
        fprintf(stderr, "hoist plugin info: cannot encode JSON\n");
        return 1;
    }
    printf("%s\n", text);
    free(text);
    return fflush(stdout) == 0 ? 0 : 1;
}

static int cmd_info(int argc, char **argv)
{
    const char *format = "text", *config = NULL, *target = NULL;
    bool check = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
            if (++i >= argc) {
                fprintf(stderr, "hoist plugin info: %s needs an argument (text or json)\n", a);
                return 2;
            }
            format = argv[i];
        } else if (!strncmp(a, "--output=", 9)) {
            format = a + 9;
        } else if (!strcmp(a, "--check")) {
            check = true;
        } else if (!strcmp(a, "--config")) {
            if (++i >= argc) {
                fprintf(stderr, "hoist plugin info: --config needs a JSON argument\n");
                return 2;
            }
            config = argv[i];
            check = true;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            plugin_usage(stdout);
            return 0;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "hoist plugin info: unknown option '%s'\n", a);
            plugin_usage(stderr);
            return 2;
        } else if (target) {
            fprintf(stderr, "hoist plugin info: one plugin at a time ('%s' and '%s')\n", target,
                    a);
            return 2;
        } else {
            target = a;
        }
    }
    if (strcmp(format, "text") != 0 && strcmp(format, "json") != 0) {
        fprintf(stderr, "hoist plugin info: unknown output format '%s' (text or json)\n", format);
        return 2;
    }
    if (!target) {
        fprintf(stderr, "hoist plugin info: which plugin? (a path to a .so or a name)\n");
        plugin_usage(stderr);
        return 2;
    }

    hoist_err err = {{0}};
    char *path = hoist_cli_plugin_path(target, &err);
    if (!path) {
        fprintf(stderr, "hoist: %s\n", err.msg);
        return 1;
    }
    hoist_plugin *p = hoist_plugin_open(path, &err);
    if (!p) {
        fprintf(stderr, "hoist: %s\n", err.msg);
        free(path);
        return 1;
    }
    int rc = 0;
    if (check && check_plugin(p, config, &err) != 0) {
        fprintf(stderr, "hoist: %s\n", err.msg);
        rc = 1;
    }
    if (rc == 0) {
        const hoist_provider *d = hoist_plugin_descriptor(p);
        rc = !strcmp(format, "json") ? print_json(d, path, check) : print_text(d, path, check);
    }
    hoist_plugin_close(p);
    free(path);
    return rc;
}

int hoist_cmd_plugin(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        plugin_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "info"))
        return cmd_info(argc - 1, argv + 1);
    fprintf(stderr, "hoist plugin: unknown subcommand '%s' (try: hoist plugin info P.so)\n",
            argv[1]);
    return 2;
}
