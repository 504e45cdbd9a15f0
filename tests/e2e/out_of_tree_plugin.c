/*
 * tests/e2e/out_of_tree_plugin.c - a provider plugin built the way a vendor
 * would: against the installed headers only,
 *     cc $(pkg-config --cflags hoist-provider) -shared -fPIC -o oot.so out_of_tree_plugin.c
 * It has no machines; its catalog is empty and launches find no capacity.
 */
#include <stdlib.h>
#include <string.h>

#include <hoist/provider.h>

typedef struct oot {
    const hoist_host *host;
} oot;

static hoist_status oot_init(const hoist_host *host, const char *config, void **state,
                             hoist_error *err)
{
    if (!HOIST_HOST_HAS(host, metric_gauge_set))
        return hoist_error_set(err, HOIST_E_UNSUPPORTED, "oot: host too old");
    oot *o = calloc(1, sizeof *o);
    if (!o)
        return hoist_error_set(err, HOIST_E_INTERNAL, "oot: out of memory");
    o->host = host;
    host->log(host->ctx, HOIST_LOG_INFO, "oot started, config %zu bytes", strlen(config));
    host->metric_gauge_set(host->ctx, "oot_up", "1 while the oot plugin runs.", NULL, 0, 1);
    *state = o;
    return HOIST_OK;
}

static void oot_destroy(void *state)
{
    free(state);
}

static hoist_status oot_catalog(void *state, hoist_catalog_cb cb, void *arg, hoist_error *err)
{
    (void)state; (void)cb; (void)arg;
    return hoist_error_set(err, HOIST_E_UNAVAILABLE, "oot: no cloud behind this plugin");
}

static hoist_status oot_launch(void *state, const hoist_launch_request *req, hoist_launch_cb cb,
                               void *arg, hoist_error *err)
{
    (void)state; (void)req; (void)cb; (void)arg;
    return hoist_error_set(err, HOIST_E_INSUFFICIENT_CAPACITY, "oot: no capacity anywhere");
}

static hoist_status oot_terminate(void *state, const char *id, hoist_done_cb cb, void *arg,
                                  hoist_error *err)
{
    (void)state; (void)cb; (void)arg;
    return hoist_error_set(err, HOIST_E_NOT_FOUND, id);
}

static hoist_status oot_list(void *state, const hoist_kv *filter, size_t n, hoist_list_cb cb,
                             void *arg, hoist_error *err)
{
    (void)state; (void)filter; (void)n; (void)cb; (void)arg;
    return hoist_error_set(err, HOIST_E_UNAVAILABLE, "oot: no cloud behind this plugin");
}

static const hoist_provider descriptor = {
    .abi_version = HOIST_PROVIDER_ABI_VERSION,
    .size = sizeof(hoist_provider),
    .name = "oot-example",
    .version = "0.0.1",
    .description = "built out of tree against the installed headers",
    .capabilities = HOIST_CAP_ON_DEMAND,
    .init = oot_init,
    .destroy = oot_destroy,
    .catalog = oot_catalog,
    .launch = oot_launch,
    .terminate = oot_terminate,
    .list = oot_list,
};

const hoist_provider *hoist_provider_entry(uint32_t core_abi_version)
{
    return HOIST_ABI_MAJOR_OF(core_abi_version) == HOIST_PROVIDER_ABI_MAJOR ? &descriptor : NULL;
}
