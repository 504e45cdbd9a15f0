/*
 * host/status.h - the daemon's observability endpoints on a hoist_httpd:
 *
 *   GET /metrics  the metrics registry in Prometheus text format 0.0.4
 *   GET /healthz  200 "ok" while the process serves requests
 *   GET /readyz   200 "ok" when the caller said it is ready, else 503 with
 *                 the reason it gave
 */
#ifndef HOIST_HOST_STATUS_H
#define HOIST_HOST_STATUS_H

#include <stdbool.h>

#include "host/httpd.h"
#include "host/metrics.h"
#include "util/error.h"

/* Content type of /metrics. */
#define HOIST_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* The endpoints' state; a plain value the caller owns (it must outlive the
 * server it is registered on). */
typedef struct hoist_health {
    const hoist_metrics *metrics; /* borrowed; NULL serves an empty /metrics */
    bool ready;
    char reason[256];             /* why not ready */
} hoist_health;

/* Set up: not ready ("starting"), rendering `metrics` (borrowed, may be NULL). */
void hoist_health_init(hoist_health *h, const hoist_metrics *metrics);
/* Mark ready, or not ready for `reason` (copied; NULL reads "not ready"). */
void hoist_health_set_ready(hoist_health *h, bool ready, const char *reason);
/* Serve /metrics, /healthz and /readyz on d from h (borrowed). -1 with a message
 * when the handlers cannot be added. */
int hoist_health_register(hoist_httpd *d, hoist_health *h, hoist_err *err);

#endif
