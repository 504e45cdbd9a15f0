/*
 * tests/plugins/testplugin.c - provider plugins for the loader tests, one
 * source built into several shared objects. The macro HOIST_TEST_VARIANT picks
 * what is wrong with each:
 *   GOOD        a small working provider (one instance type, in-memory machines)
 *   BAD_MAJOR   built for provider ABI 2.3
 *   NULL_ENTRY  the entry point returns NULL
 *   NO_SYMBOL   does not export hoist_provider_entry
 *   INIT_FAIL   init fails with a message
 *   SMALL_SIZE  descriptor size smaller than the ABI 1.0 required fields
 *   MISSING_OP  launch is NULL
 *   CAP_MISMATCH declares the events capability without watch_events
 *   MIN_SIZE    an "older" descriptor that ends after list; the optional fields
 *               behind it hold garbage the loader must not read
 * Includes only the public headers, like an out-of-tree plugin.
 */
#include <stdio.h>
#include <string.h>

#include <hoist/provider.h>

#define V_GOOD 1
#define V_BAD_MAJOR 2
#define V_NULL_ENTRY 3
#define V_NO_SYMBOL 4
#define V_INIT_FAIL 5
#define V_SMALL_SIZE 6
#define V_MISSING_OP 7
#define V_CAP_MISMATCH 8
#define V_MIN_SIZE 9

#ifndef HOIST_TEST_VARIANT
#error "define HOIST_TEST_VARIANT"
#endif

#define UNUSED __attribute__((unused))

#define MAX_MACHINES 8
#define MAX_PENDING 8

typedef struct pending {
    hoist_timer *timer;
    struct tp_state *st;
    int kind; /* 1 catalog, 2 launch, 3 terminate, 4 list */
    void *cb;
    void *arg;
    int machine; /* launch/terminate: machine index */
} pending;

typedef struct tp_state {
    const hoist_host *host;
    hoist_machine machines[MAX_MACHINES];
    char ids[MAX_MACHINES][32];
    char provider_ids[MAX_MACHINES][64];
    int n_machines;
    pending ops[MAX_PENDING];
} tp_state;

static UNUSED tp_state the_state; /* one instance at a time in the tests */

static const hoist_offering offerings[] = {
    {.struct_size = sizeof(hoist_offering), .zone = "test-zone-a",
     .capacity_type = HOIST_CAPACITY_ON_DEMAND, .price = 0.1, .available = true},
    {.struct_size = sizeof(hoist_offering), .zone = "test-zone-a",
     .capacity_type = HOIST_CAPACITY_SPOT, .price = 0.03, .available = true, .capacity_score = 5},
};
static const hoist_instance_type types[] = {{
    .struct_size = sizeof(hoist_instance_type), .name = "t.small", .family = "t", .size = "small", .category = "t", .generation = 1,
    .architecture = "amd64", .cpu_manufacturer = "", .hypervisor = "nitro",
    .current_generation = true, .vcpus = 2, .memory_mib = 2048, .gpu = {0, "", "", 0},
    .max_pods = 11, .offerings = offerings, .n_offerings = 2,
}};

static void on_op(void *arg)
{
    pending *op = arg;
    tp_state *st = op->st;
    int kind = op->kind;
    void *cb = op->cb, *cb_arg = op->arg;
    int m = op->machine;
    memset(op, 0, sizeof *op);
    switch (kind) {
    case 1:
        ((hoist_catalog_cb)cb)(cb_arg, NULL, types, 1);
        break;
    case 2:
        ((hoist_launch_cb)cb)(cb_arg, NULL, &st->machines[m], NULL, 0);
        break;
    case 3:
        ((hoist_done_cb)cb)(cb_arg, NULL);
        break;
    case 4:
        ((hoist_list_cb)cb)(cb_arg, NULL, st->machines, (size_t)st->n_machines);
        break;
    }
}

/* Queue a completion on the host's loop. */
static hoist_status defer(tp_state *st, int kind, void *cb, void *arg, int machine,
                          hoist_error *err)
{
    for (int i = 0; i < MAX_PENDING; i++) {
        pending *op = &st->ops[i];
        if (op->kind)
            continue;
        op->st = st;
        op->kind = kind;
        op->cb = cb;
        op->arg = arg;
        op->machine = machine;
        op->timer = st->host->timer_start(st->host->ctx, 0, on_op, op);
        if (!op->timer) {
            memset(op, 0, sizeof *op);
            return hoist_error_set(err, HOIST_E_INTERNAL, "test plugin: timer_start failed");
        }
        return HOIST_OK;
    }
    return hoist_error_set(err, HOIST_E_THROTTLED, "test plugin: too many operations in flight");
}

static hoist_status tp_init(const hoist_host *host, const char *config, void **state,
                            hoist_error *err)
{
#if HOIST_TEST_VARIANT == V_INIT_FAIL
    (void)host;
    (void)config;
    (void)state;
    return hoist_error_set(err, HOIST_E_UNAUTHORIZED,
                           "test plugin: credentials rejected by the fake cloud");
#else
    if (strstr(config, "\"fail\"")) /* lets tests make the good plugin fail too */
        return hoist_error_set(err, HOIST_E_INVALID, "test plugin: config asked to fail");
    memset(&the_state, 0, sizeof the_state);
    the_state.host = host;
    host->log(host->ctx, HOIST_LOG_INFO, "test plugin started with config %s", config);
    hoist_kv label = {"plugin", "test"};
    host->metric_counter_add(host->ctx, "inits_total", "Times the test plugin was initialised.",
                             &label, 1, 1);
    *state = &the_state;
    return HOIST_OK;
#endif
}

static void tp_destroy(void *state)
{
    tp_state *st = state;
    for (int i = 0; i < MAX_PENDING; i++)
        if (st->ops[i].kind)
            st->host->timer_cancel(st->host->ctx, st->ops[i].timer);
    memset(st, 0, sizeof *st);
}

static hoist_status tp_catalog(void *state, hoist_catalog_cb cb, void *arg, hoist_error *err)
{
    return defer(state, 1, (void *)cb, arg, 0, err);
}

static UNUSED hoist_status tp_launch(void *state, const hoist_launch_request *req, hoist_launch_cb cb,
                              void *arg, hoist_error *err)
{
    tp_state *st = state;
    if (!req->n_offerings)
        return hoist_error_set(err, HOIST_E_INVALID, "test plugin: no offerings");
    if (st->n_machines == MAX_MACHINES)
        return hoist_error_set(err, HOIST_E_QUOTA, "test plugin: machine limit reached");
    int m = st->n_machines++;
    hoist_machine *mc = &st->machines[m];
    mc->struct_size = sizeof *mc;
    snprintf(st->ids[m], sizeof st->ids[m], "i-test%d", m);
    snprintf(st->provider_ids[m], sizeof st->provider_ids[m], "test:///%s/i-test%d",
             HOIST_NTH(req->offerings, 0)->zone, m);
    mc->instance_id = st->ids[m];
    mc->provider_id = st->provider_ids[m];
    mc->instance_type = "t.small";
    mc->zone = "test-zone-a";
    mc->capacity_type = HOIST_NTH(req->offerings, 0)->capacity_type;
    mc->price = HOIST_NTH(req->offerings, 0)->price;
    mc->state = HOIST_MACHINE_RUNNING;
    mc->launch_time_ms = st->host->now_ms(st->host->ctx);
    return defer(st, 2, (void *)cb, arg, m, err);
}

static hoist_status tp_terminate(void *state, const char *instance_id, hoist_done_cb cb,
                                 void *arg, hoist_error *err)
{
    (void)instance_id;
    return defer(state, 3, (void *)cb, arg, 0, err);
}

static hoist_status tp_list(void *state, const hoist_kv *filter, size_t n_filter,
                            hoist_list_cb cb, void *arg, hoist_error *err)
{
    (void)filter;
    (void)n_filter;
    return defer(state, 4, (void *)cb, arg, 0, err);
}

static UNUSED hoist_status tp_control(void *state, const char *command, hoist_error *err)
{
    (void)state;
    if (strcmp(command, "{}") != 0)
        return hoist_error_set(err, HOIST_E_UNSUPPORTED, "test plugin: unknown command");
    return HOIST_OK;
}

static UNUSED hoist_status tp_watch(void *state, hoist_event_cb cb, void *arg, hoist_error *err)
{
    (void)state;
    (void)cb;
    (void)arg;
    return hoist_error_set(err, HOIST_E_UNSUPPORTED, "test plugin: no events");
}

static UNUSED const hoist_provider descriptor = {
#if HOIST_TEST_VARIANT == V_BAD_MAJOR
    .abi_version = (2u << 16) | 3u,
#else
    .abi_version = HOIST_PROVIDER_ABI_VERSION,
#endif
#if HOIST_TEST_VARIANT == V_SMALL_SIZE
    .size = 16,
#elif HOIST_TEST_VARIANT == V_MIN_SIZE
    .size = offsetof(hoist_provider, list) + sizeof(void *),
#else
    .size = sizeof(hoist_provider),
#endif
    .name = "testplugin",
    .version = "9.8.7",
    .description = "provider used by hoist's loader tests",
#if HOIST_TEST_VARIANT == V_CAP_MISMATCH
    .capabilities = HOIST_CAP_ON_DEMAND | HOIST_CAP_EVENTS,
#elif HOIST_TEST_VARIANT == V_MIN_SIZE
    .capabilities = HOIST_CAP_ON_DEMAND,
#else
    .capabilities = HOIST_CAP_ON_DEMAND | HOIST_CAP_SPOT | HOIST_CAP_CONTROL,
#endif
    .init = tp_init,
    .destroy = tp_destroy,
    .catalog = tp_catalog,
#if HOIST_TEST_VARIANT == V_MISSING_OP
    .launch = NULL,
#else
    .launch = tp_launch,
#endif
    .terminate = tp_terminate,
    .list = tp_list,
#if HOIST_TEST_VARIANT == V_MIN_SIZE
    .watch_events = tp_watch, /* beyond .size: must be invisible to the core */
#else
    .watch_events = NULL,
#endif
#if HOIST_TEST_VARIANT == V_CAP_MISMATCH || HOIST_TEST_VARIANT == V_MIN_SIZE
    .control = NULL,
#else
    .control = tp_control,
#endif
};

#if HOIST_TEST_VARIANT == V_NO_SYMBOL
/* Exports something, just not the entry point. */
const hoist_provider *not_the_entry(uint32_t core_abi_version);
const hoist_provider *not_the_entry(uint32_t core_abi_version)
{
    (void)core_abi_version;
    return &descriptor;
}
#else
const hoist_provider *hoist_provider_entry(uint32_t core_abi_version)
{
#if HOIST_TEST_VARIANT == V_NULL_ENTRY
    (void)core_abi_version;
    return NULL;
#else
    if (HOIST_ABI_MAJOR_OF(core_abi_version) == 0)
        return NULL;
    return &descriptor;
#endif
}
#endif
