/*
 * hoist/provider.h - the provider plugin ABI.
 *
 * A provider plugin is a shared object that exports one symbol,
 *
 *     const hoist_provider *hoist_provider_entry(uint32_t core_abi_version);
 *
 * returning a descriptor that lives as long as the object is loaded. The
 * descriptor begins with the ABI version the plugin was built against and the
 * struct's size; fields are only ever appended, so a newer core loads an older
 * plugin and knows which fields exist. The core refuses a plugin whose ABI
 * major version differs from its own.
 *
 * Operations that talk to a cloud are asynchronous. Each returns HOIST_OK when
 * the operation was started, and then calls its completion callback exactly
 * once, later, from the core's loop (never before the operation returns). If
 * it returns anything else, it fills *err and never calls the callback.
 * Everything a callback receives is borrowed for the duration of the callback.
 * Arrays of sized structs are walked with HOIST_NTH() (see hoist/types.h).
 *
 * Tags: the core asks the provider to attach, to every machine it launches,
 * the tags in the launch request. They always include
 *     hoist.dev/cluster, hoist.dev/nodepool, hoist.dev/claim
 * and list() must return them, so a restarted core can adopt or clean up
 * every machine it ever started.
 *
 * Build against these headers only: `pkg-config --cflags hoist-provider`.
 */
#ifndef HOIST_PROVIDER_H
#define HOIST_PROVIDER_H

#include <stddef.h>
#include <stdint.h>

#include <hoist/host.h>
#include <hoist/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HOIST_PROVIDER_ABI_MAJOR 1
#define HOIST_PROVIDER_ABI_MINOR 0
/* ABI version: major in the high 16 bits, minor in the low 16 bits. */
#define HOIST_PROVIDER_ABI_VERSION \
    (((uint32_t)HOIST_PROVIDER_ABI_MAJOR << 16) | (uint32_t)HOIST_PROVIDER_ABI_MINOR)
#define HOIST_ABI_MAJOR_OF(v) ((uint32_t)(v) >> 16)
#define HOIST_ABI_MINOR_OF(v) ((uint32_t)(v) & 0xffffu)

/* The exported entry point's name, as a string for dlsym(). */
#define HOIST_PROVIDER_ENTRY_SYMBOL "hoist_provider_entry"

/* Well-known tag keys the core puts on every machine. */
#define HOIST_TAG_CLUSTER  "hoist.dev/cluster"
#define HOIST_TAG_NODEPOOL "hoist.dev/nodepool"
#define HOIST_TAG_CLAIM    "hoist.dev/claim"

/* Capability bits in hoist_provider.capabilities. */
#define HOIST_CAP_ON_DEMAND  (1u << 0) /* can launch on-demand capacity */
#define HOIST_CAP_SPOT       (1u << 1) /* can launch spot capacity */
#define HOIST_CAP_RESERVED   (1u << 2) /* can launch into reservations */
#define HOIST_CAP_EVENTS     (1u << 3) /* watch_events: interruption and state events */
#define HOIST_CAP_CONTROL    (1u << 4) /* control: provider-specific commands (the mock's fault injection) */

/* How a provider chooses among the acceptable offerings of one capacity type. */
typedef enum hoist_alloc_strategy {
    HOIST_ALLOC_LOWEST_PRICE = 0,            /* cheapest available offering */
    HOIST_ALLOC_PRICE_CAPACITY_OPTIMIZED,    /* deepest pools among the cheap ones (spot default) */
    HOIST_ALLOC_CAPACITY_OPTIMIZED,          /* deepest pool, price ignored */
    HOIST_ALLOC_PRIORITIZED                  /* the order given in the request */
} hoist_alloc_strategy;

/* One acceptable offering in a launch request. */
typedef struct hoist_launch_offering {
    uint32_t struct_size;                /* sizeof(hoist_launch_offering) of the filler */
    const char *instance_type;          /* e.g. "m5.large" */
    const char *zone;                   /* e.g. "us-east-1a" */
    hoist_capacity_type capacity_type;  /* on-demand, spot or reserved */
    double price;                       /* the price the core expects, USD/h */
} hoist_launch_offering;

/* Ask for one machine. Offerings of several capacity types may be mixed: the
 * provider tries reserved offerings first, then spot, then on-demand, choosing
 * within a capacity type by that type's strategy, and returns the first
 * machine it gets. */
typedef struct hoist_launch_request {
    uint32_t struct_size;                   /* sizeof(hoist_launch_request) of the filler */
    const char *claim;                     /* unique claim name; an idempotency token */
    const char *cluster;                   /* cluster name (also in tags) */
    const char *nodepool;                  /* NodePool name (also in tags) */
    const hoist_launch_offering *offerings;/* acceptable offerings, the core's preferred order */
    size_t n_offerings;
    hoist_alloc_strategy spot_strategy;    /* usually PRICE_CAPACITY_OPTIMIZED */
    hoist_alloc_strategy on_demand_strategy; /* usually LOWEST_PRICE */
    const hoist_kv *tags;                  /* tags to attach to the machine */
    size_t n_tags;
    const hoist_kv *labels;                /* node labels the machine registers with */
    size_t n_labels;
    const hoist_taint *taints;             /* taints the machine registers with (incl. startup) */
    size_t n_taints;
    const char *user_data;                 /* bootstrap data; may be NULL */
} hoist_launch_request;

/* Lifecycle state of a machine as the provider sees it. */
typedef enum hoist_machine_state {
    HOIST_MACHINE_PENDING = 0,   /* launched, not yet running */
    HOIST_MACHINE_RUNNING,
    HOIST_MACHINE_SHUTTING_DOWN,
    HOIST_MACHINE_TERMINATED
} hoist_machine_state;

/* A machine the provider launched. */
typedef struct hoist_machine {
    uint32_t struct_size;                /* sizeof(hoist_machine) of the filler */
    const char *instance_id;            /* the cloud's id, e.g. "i-0123456789abcdef0" */
    const char *provider_id;            /* the Node's spec.providerID, e.g. "aws:///us-east-1a/i-0123..." */
    const char *instance_type;
    const char *zone;
    hoist_capacity_type capacity_type;
    double price;                       /* USD per hour at launch */
    hoist_machine_state state;
    uint64_t launch_time_ms;            /* host now_ms() when launched */
    const hoist_kv *tags;
    size_t n_tags;
} hoist_machine;

/* Kinds of asynchronous machine events (watch_events). */
typedef enum hoist_event_kind {
    HOIST_EVENT_SPOT_INTERRUPTION = 0, /* the machine will be reclaimed at deadline_ms */
    HOIST_EVENT_REBALANCE,             /* elevated interruption risk (advisory) */
    HOIST_EVENT_SCHEDULED_MAINTENANCE, /* the cloud will stop or retire it at deadline_ms */
    HOIST_EVENT_STATE_CHANGE           /* state changed (e.g. terminated outside hoist) */
} hoist_event_kind;

/* A machine event. */
typedef struct hoist_event {
    uint32_t struct_size;        /* sizeof(hoist_event) of the filler */
    hoist_event_kind kind;
    const char *instance_id;
    hoist_machine_state state;  /* the new state (STATE_CHANGE), else current */
    uint64_t deadline_ms;       /* when the machine goes away; 0 if not applicable */
} hoist_event;

/* Completion callbacks. `err` is NULL on success. */
typedef void (*hoist_catalog_cb)(void *arg, const hoist_error *err,
                                 const hoist_instance_type *types, size_t n_types);
/* On failure `machine` is NULL. In both cases `exhausted` lists the offerings
 * found without capacity while serving this request, so the core can mark
 * them unavailable for a while. */
typedef void (*hoist_launch_cb)(void *arg, const hoist_error *err, const hoist_machine *machine,
                                const hoist_launch_offering *exhausted, size_t n_exhausted);
typedef void (*hoist_done_cb)(void *arg, const hoist_error *err);
typedef void (*hoist_list_cb)(void *arg, const hoist_error *err,
                              const hoist_machine *machines, size_t n_machines);
/* Called for every event until destroy(); never called after destroy() returns. */
typedef void (*hoist_event_cb)(void *arg, const hoist_event *event);

/* The descriptor a plugin returns from hoist_provider_entry(). */
typedef struct hoist_provider {
    uint32_t abi_version;     /* HOIST_PROVIDER_ABI_VERSION the plugin was built with */
    uint32_t size;            /* sizeof(hoist_provider) the plugin was built with */
    const char *name;         /* short name, e.g. "mock" */
    const char *version;      /* the plugin's own version, e.g. "1.2.0" */
    const char *description;  /* one line */
    uint64_t capabilities;    /* HOIST_CAP_* bits */

    /* Create an instance. `config` is a JSON object as text (provider-specific;
     * "{}" when none was given). `host` outlives the instance. On success
     * stores the instance in *state and returns HOIST_OK; else fills *err. */
    hoist_status (*init)(const hoist_host *host, const char *config, void **state,
                         hoist_error *err);
    /* Destroy an instance. Pending operations are abandoned: their callbacks
     * are not called. */
    void (*destroy)(void *state);

    /* Describe every instance type with its offerings and current availability. */
    hoist_status (*catalog)(void *state, hoist_catalog_cb cb, void *arg, hoist_error *err);
    /* Launch one machine for a claim (see hoist_launch_request). Launching the
     * same claim twice returns the machine already launched for it. */
    hoist_status (*launch)(void *state, const hoist_launch_request *req, hoist_launch_cb cb,
                           void *arg, hoist_error *err);
    /* Terminate a machine. Terminating one already gone succeeds; an id the
     * provider never issued completes with HOIST_E_NOT_FOUND. */
    hoist_status (*terminate)(void *state, const char *instance_id, hoist_done_cb cb, void *arg,
                              hoist_error *err);
    /* List machines not yet terminated whose tags include every pair in filter. */
    hoist_status (*list)(void *state, const hoist_kv *filter, size_t n_filter, hoist_list_cb cb,
                         void *arg, hoist_error *err);

    /* Optional (HOIST_CAP_EVENTS; else NULL): deliver machine events to cb. */
    hoist_status (*watch_events)(void *state, hoist_event_cb cb, void *arg, hoist_error *err);
    /* Optional (HOIST_CAP_CONTROL; else NULL): run a provider-specific command
     * given as a JSON object text, synchronously. */
    hoist_status (*control)(void *state, const char *command, hoist_error *err);
} hoist_provider;

/* True when descriptor `p` has field `field`. */
#define HOIST_PROVIDER_HAS(p, field) \
    ((p)->size >= offsetof(hoist_provider, field) + sizeof((p)->field))

/* The entry point every plugin exports. `core_abi_version` is the core's
 * HOIST_PROVIDER_ABI_VERSION; a plugin may return NULL to refuse it. */
#if defined(__GNUC__)
__attribute__((visibility("default")))
#endif
const hoist_provider *hoist_provider_entry(uint32_t core_abi_version);

#ifdef __cplusplus
}
#endif
#endif /* HOIST_PROVIDER_H */
