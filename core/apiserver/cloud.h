/*
 * apiserver/cloud.h - the simulated cloud `hoist sim serve` hosts next to the
 * Kubernetes API: an instance of the mock provider (plugins/mock) running in
 * the serve process, exposed over HTTP so that `hoist run`, configured with
 * the mock in remote mode ({"endpoint": ".../hoist-sim/cloud/v1"}), launches
 * machines that outlive the daemon, and the simulated kubelets (world.h) turn
 * them into Nodes. Because the cloud IS the mock, instance ids, provider ids
 * ("aws:///<zone>/<instance id>"), launch choice, idempotency by claim,
 * latency and faults are exactly the in-process mock's (plugins/mock/README.md).
 *
 * ===================== HTTP contract (version 1) =====================
 *
 * Base: http://HOST:PORT/hoist-sim/cloud/v1 (same listener as the API server).
 * Bodies are JSON (Content-Type: application/json). Strings use the mock's
 * spellings: capacity types "on-demand" | "spot" | "reserved"; machine states
 * "pending" | "running" | "shutting-down" | "terminated"; allocation
 * strategies "lowest-price" | "price-capacity-optimized" |
 * "capacity-optimized" | "prioritized"; error codes are hoist_status_name()
 * of <hoist/host.h>: "invalid", "not-found", "insufficient-capacity",
 * "launch-failed", "unavailable", "internal", ...
 *
 * ERRORS. Any answer whose body has an "error" member is a failure, whatever
 * the HTTP status:
 *     {"error": {"code": "insufficient-capacity", "message": "...",
 *                "retry_after_ms": 0},
 *      "exhausted": [OFFERING...]}            (launch only; may be empty)
 * A request refused before the operation starts gets a 4xx/5xx status
 * (400 invalid, 404 not-found or unknown path, 405 wrong method, 500
 * internal). Operations that complete later (launch, terminate, list,
 * catalog) are answered 200 with a body written when the mock's callback
 * runs (a chunked response held open for the launch latency), so their
 * failures arrive as 200 + "error". A client must treat a body that is not
 * JSON, or has neither "error" nor the documented result, as a failure.
 *
 * OFFERING (request):  {"instance_type": "m5.large", "zone": "us-east-1a",
 *                       "capacity_type": "spot", "price": 0.04}   (price optional)
 * MACHINE:  {"instance_id": "i-0...", "provider_id": "aws:///us-east-1a/i-0...",
 *            "instance_type": "m5.large", "zone": "us-east-1a",
 *            "capacity_type": "spot", "price": 0.0412, "state": "running",
 *            "launch_time_ms": 1714560000000, "tags": {"hoist.dev/cluster": "c", ...}}
 *
 * GET  /catalog
 *      200 {"items": [TYPE...]}: every instance type in the mock's catalog
 *      file schema (plugins/mock/README.md, "Catalog") with an explicit
 *      "offerings" list [{"zone", "capacity_type", "price", "available",
 *      "pool_depth"}] holding the prices and availability of this moment
 *      (an offering short of capacity reads "available": false). A mock in
 *      remote mode loads this body as its catalog.
 * POST /machines
 *      body {"claim": "np-abc12", "cluster": "c", "nodepool": "np",
 *            (cluster optional: `hoist sim serve --cluster` names the default)
 *            "offerings": [OFFERING...],                       (required, >= 1)
 *            "spot_strategy": "price-capacity-optimized",      (optional)
 *            "on_demand_strategy": "lowest-price",             (optional)
 *            "tags": {"k": "v"}, "labels": {"k": "v"},         (optional)
 *            "taints": [{"key", "value", "effect"}],           (optional)
 *            "user_data": "..."}                                (optional)
 *      200 after the launch latency: {"machine": MACHINE, "exhausted": [OFFERING...]}
 *      or 200 {"error": {...}, "exhausted": [...]} (insufficient-capacity at
 *      once, launch-failed after the latency). Launching a claim that has a
 *      machine answers with that machine (idempotent: a restarted daemon
 *      never launches twice). labels and taints are what the simulated
 *      kubelet registers the Node with; send the startup taint
 *      hoist.dev/unregistered here if the Node should carry it.
 * GET  /machines[?cluster=C][&nodepool=N][&claim=K][&tags=k1=v1,k2=v2]
 *      200 {"items": [MACHINE...]}: machines not terminated whose tags include
 *      every pair given (cluster, nodepool and claim are the hoist.dev/ tags).
 * GET  /machines/<instance id>
 *      200 MACHINE for a machine whose launch has completed (its state as
 *      the cloud last saw it, terminated too), 404 {"error": not-found}
 *      otherwise (also while its launch is pending).
 * DELETE /machines/<instance id>
 *      200 {} once terminated (terminating a terminated machine succeeds),
 *      200 {"error": {"code": "not-found"}} for an id never issued.
 * POST /control
 *      body: one mock control command ({"op": "ice", ...}, README "Control
 *      commands"); 200 {} or 400 {"error": {"code": "invalid", ...}}.
 * GET  /events?after=N
 *      200 {"events": [{"seq": 7, "kind": "spot-interruption" | "rebalance" |
 *            "scheduled-maintenance" | "state-change", "instance_id": "i-0...",
 *            "state": "terminated", "deadline_ms": 0}], "next": 8}
 *      the mock's machine events with seq > N (N default 0) still kept (the
 *      last 4096); "next" is the seq to ask after next time. A poller starts
 *      with after=0 or with the "next" of a first call.
 * ===================================================================
 *
 * In process, the cloud also tells a listener (the world's kubelets) when a
 * machine starts running (with the labels and taints its launch asked for)
 * and when it is terminated.
 */
#ifndef HOIST_APISERVER_CLOUD_H
#define HOIST_APISERVER_CLOUD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include <hoist/provider.h>

#include "host/httpd.h"
#include "host/log.h"
#include "util/error.h"

/* Path prefix of the cloud on the serve listener. */
#define HOIST_CLOUD_PREFIX "/hoist-sim/cloud/v1"
/* Machine events kept for GET /events. */
#define HOIST_CLOUD_EVENT_LOG 4096

typedef struct hoist_cloud hoist_cloud;

/* A machine as the listener sees it (borrowed for the callback). */
typedef struct hoist_cloud_machine {
    const char *instance_id;
    const char *provider_id;
    const char *instance_type;
    const char *zone;
    hoist_capacity_type capacity_type;
    const char *nodepool;        /* hoist.dev/nodepool tag, "" when absent */
    const char *claim;           /* hoist.dev/claim tag, "" when absent */
    const json_t *labels;        /* object: the labels the launch asked for */
    const json_t *taints;        /* array: the taints the launch asked for */
} hoist_cloud_machine;

/* Told about machines: running (launch completed), terminated (by terminate
 * or by the mock: interruption reclaim, lose). Called on the loop. */
typedef struct hoist_cloud_listener {
    void *arg;
    void (*running)(void *arg, const hoist_cloud_machine *m);
    void (*terminated)(void *arg, const char *instance_id);
} hoist_cloud_listener;

/* Serve the mock provider `mock` (descriptor borrowed; the mock's own or a
 * loaded mock.so) on `d` (borrowed) under HOIST_CLOUD_PREFIX. The cloud
 * creates the mock's instance with `config_json` (mock config, "{}" = the
 * defaults) on `host` (borrowed; must outlive the cloud). `log` may be NULL.
 * NULL with a message (the mock's own for a bad config). */
hoist_cloud *hoist_cloud_new(hoist_httpd *d, const hoist_provider *mock, const hoist_host *host,
                             const char *config_json, const hoist_logger *log, hoist_err *err);
/* Cluster name (copied) a launch without "cluster" is tagged with; NULL = none. */
int hoist_cloud_set_cluster(hoist_cloud *c, const char *cluster, hoist_err *err);
/* Set (or clear, NULL) the machine listener (copied). */
void hoist_cloud_set_listener(hoist_cloud *c, const hoist_cloud_listener *l);
/* Number of machines the cloud knows that are not terminated. */
size_t hoist_cloud_machines_alive(const hoist_cloud *c);
/* Number of launch requests that started a new machine (idempotent repeats
 * not counted). */
size_t hoist_cloud_launches(const hoist_cloud *c);
/* Ask the mock for its catalog; cb(arg, err, types, n) runs later on the loop
 * (the provider's catalog callback, passed through). -1 with a message. */
int hoist_cloud_catalog(hoist_cloud *c, hoist_catalog_cb cb, void *arg, hoist_err *err);
/* The instance type `t` in the catalog file schema with an explicit
 * "offerings" list (a new reference; NULL when out of memory): what
 * GET /catalog answers, and what a remote mock loads. */
json_t *hoist_cloud_type_json(const hoist_instance_type *t);
/* Stop serving (routes removed from the httpd), end held answers, destroy the
 * mock instance and free the cloud. NULL is fine. */
void hoist_cloud_free(hoist_cloud *c);

#endif
