/*
 * host/host.h - the core side of <hoist/host.h>: builds the hoist_host a
 * provider plugin receives, backed by a libuv loop.
 *
 * Services lent: log lines (to a hoist_logger, attributed to the plugin),
 * wall-clock now_ms, one-shot timers (uv_timer), asynchronous HTTP
 * (host/http.h) and metric hooks that feed a hoist_metrics registry under the
 * "hoist_provider_" prefix. One hoist_services per plugin instance; it must
 * outlive the plugin (close it after the plugin's destroy()).
 */
#ifndef HOIST_HOST_HOST_H
#define HOIST_HOST_HOST_H

#include <stddef.h>

#include <uv.h>

#include <hoist/host.h>

#include "host/http.h"
#include "host/log.h"
#include "host/metrics.h"
#include "util/error.h"

/* Prefix of every metric a plugin registers through the host. */
#define HOIST_PROVIDER_METRIC_PREFIX "hoist_provider_"

typedef struct hoist_services hoist_services;

/* Services on `loop` for the plugin named `name` (copied; used as log
 * component "provider/<name>"). `log` and `metrics` are borrowed and may be
 * NULL (lines or metrics are then dropped); all borrowed objects must outlive
 * the services. NULL with a message on failure. */
hoist_services *hoist_services_new(uv_loop_t *loop, const hoist_logger *log,
                                   hoist_metrics *metrics, const char *name, hoist_err *err);

/* The table to pass to the plugin's init(); valid until hoist_services_close(). */
const hoist_host *hoist_services_host(const hoist_services *s);

/* The HTTP client behind the host's http_request (borrowed). */
hoist_http *hoist_services_http(hoist_services *s);

/* Number of timers started and neither fired nor cancelled. */
size_t hoist_services_timers_active(const hoist_services *s);

/* Cancel every pending timer (without calling it) and every HTTP call (its
 * callback runs with HOIST_E_CANCELLED), then close. Memory is released once
 * the loop has run the handles' close callbacks: run the loop before
 * uv_loop_close(). Call after the plugin's destroy(). NULL is fine. */
void hoist_services_close(hoist_services *s);

#endif
