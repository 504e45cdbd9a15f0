/*
 * apiserver/apiserver.h - the Kubernetes REST API over a hoist_apistore,
 * served by a hoist_httpd on the loop: what `hoist sim serve` exposes and
 * what kubectl and hoist's own client talk to.
 *
 * Served (see README.md for what is simplified):
 *   /version, /api, /api/v1, /apis, /apis/<group>, /apis/<group>/<version>
 *   /openapi/v3 and its group-version documents (no /openapi/v2)
 *   every type of resources.h: get, list (labelSelector, fieldSelector,
 *   limit, continue), watch (resourceVersion, allowWatchBookmarks,
 *   timeoutSeconds; 410 Expired as an ERROR event), create, update, patch
 *   (merge, JSON, strategic merge), delete, deletecollection; the status
 *   subresources, pods/binding and pods/eviction; Tables (meta.k8s.io/v1)
 *   when the client asks for them, as kubectl get does.
 * Errors are Status objects, as the real API server sends them.
 */
#ifndef HOIST_APISERVER_APISERVER_H
#define HOIST_APISERVER_APISERVER_H

#include <stddef.h>

#include <uv.h>

#include "apiserver/store.h"
#include "host/httpd.h"
#include "host/log.h"
#include "util/error.h"

/* Default interval between watch bookmarks. */
#define HOIST_APISERVER_BOOKMARK_MS 60000u

typedef struct hoist_apiserver hoist_apiserver;

typedef struct hoist_apiserver_config {
    uint64_t bookmark_ms;       /* 0 = HOIST_APISERVER_BOOKMARK_MS */
    const hoist_logger *log;    /* borrowed, may be NULL */
    const char *server_address; /* "127.0.0.1:8080" for /api (copied), may be NULL */
} hoist_apiserver_config;

/* Serve `store` (borrowed) on `d` (borrowed): registers the handlers for
 * /api, /apis, /version and /openapi. Both must outlive the API server until
 * hoist_apiserver_close(). cfg may be NULL. NULL with a message on failure. */
hoist_apiserver *hoist_apiserver_new(uv_loop_t *loop, hoist_httpd *d, hoist_apistore *store,
                                     const hoist_apiserver_config *cfg, hoist_err *err);
/* Number of watches open. */
size_t hoist_apiserver_watches(const hoist_apiserver *a);
/* End every watch (their streams end cleanly) and free the API server once
 * the loop has closed their timers. The handlers stay registered on the
 * httpd: close the httpd next (or answer nothing more). NULL is fine. */
void hoist_apiserver_close(hoist_apiserver *a);

/* Kubernetes' short age of a duration in seconds: "45s", "3m12s", "5h", "12d". */
void hoist_api_age(double seconds, char *buf, size_t n);

#endif
