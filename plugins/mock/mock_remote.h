/*
 * mock_remote.h - the mock provider's remote mode: every operation is an
 * HTTP call, through the host's asynchronous client, to a simulated cloud
 * (`hoist sim serve`, contract in core/apiserver/cloud.h) instead of the
 * in-memory cloud. Machines then live in the serve process and survive a
 * restart of the daemon.
 */
#ifndef HOIST_MOCK_REMOTE_H
#define HOIST_MOCK_REMOTE_H

#include <stdint.h>

#include <jansson.h>

#include <hoist/provider.h>

typedef struct mock_remote mock_remote;

/* Remote-mode settings (README.md, "Remote mode"). */
typedef struct mock_remote_config {
    const char *endpoint;          /* "http://127.0.0.1:PORT/hoist-sim/cloud/v1" (borrowed) */
    uint64_t timeout_ms;           /* catalog, list, terminate (default 30000) */
    uint64_t launch_timeout_ms;    /* launch: the answer waits for the launch latency (default 900000) */
    uint64_t events_poll_ms;       /* GET /events interval while someone watches (default 1000) */
} mock_remote_config;

/* A remote cloud client on `host` (borrowed, must have http_request and
 * http_cancel). The endpoint is copied. HOIST_OK, or an error naming the key. */
hoist_status mock_remote_new(const hoist_host *host, const mock_remote_config *cfg,
                             mock_remote **out, hoist_error *err);
/* Abandon every call in flight (their callbacks never run) and free; safe
 * from inside one of this client's callbacks. NULL is fine. */
void mock_remote_free(mock_remote *r);

/* The provider operations, as in <hoist/provider.h>. */
hoist_status mock_remote_catalog(mock_remote *r, hoist_catalog_cb cb, void *arg,
                                 hoist_error *err);
hoist_status mock_remote_launch(mock_remote *r, const hoist_launch_request *req,
                                hoist_launch_cb cb, void *arg, hoist_error *err);
hoist_status mock_remote_terminate(mock_remote *r, const char *instance_id, hoist_done_cb cb,
                                   void *arg, hoist_error *err);
hoist_status mock_remote_list(mock_remote *r, const hoist_kv *filter, size_t n_filter,
                              hoist_list_cb cb, void *arg, hoist_error *err);
/* Poll the cloud's events every events_poll_ms and deliver them to cb. */
hoist_status mock_remote_watch_events(mock_remote *r, hoist_event_cb cb, void *arg,
                                      hoist_error *err);

#endif
