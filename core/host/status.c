/* host/status.c - /metrics, /healthz and /readyz. */
#include "host/status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void hoist_health_init(hoist_health *h, const hoist_metrics *metrics)
{
    memset(h, 0, sizeof *h);
    h->metrics = metrics;
    snprintf(h->reason, sizeof h->reason, "starting");
}

void hoist_health_set_ready(hoist_health *h, bool ready, const char *reason)
{
    h->ready = ready;
    snprintf(h->reason, sizeof h->reason, "%s", ready ? "" : (reason ? reason : "not ready"));
}

static void text(hoist_httpd_req *req, int status, const char *body)
{
    hoist_httpd_respond(req, status, "text/plain; charset=utf-8", body, strlen(body));
}

/* Only the exact path is served; /healthzfoo is someone else's. */
static bool exact(hoist_httpd_req *req, const char *path)
{
    if (strcmp(hoist_httpd_path(req), path) == 0)
        return true;
    text(req, 404, "not found\n");
    return false;
}

static void serve_metrics(void *arg, hoist_httpd_req *req)
{
    hoist_health *h = arg;
    if (!exact(req, "/metrics"))
        return;
    if (!h->metrics) {
        hoist_httpd_respond(req, 200, HOIST_METRICS_CONTENT_TYPE, "", 0);
        return;
    }
    size_t len = 0;
    char *body = hoist_metrics_render(h->metrics, &len);
    if (!body) {
        text(req, 500, "out of memory\n");
        return;
    }
    hoist_httpd_respond(req, 200, HOIST_METRICS_CONTENT_TYPE, body, len);
    free(body);
}

static void serve_healthz(void *arg, hoist_httpd_req *req)
{
    (void)arg;
    if (exact(req, "/healthz"))
        text(req, 200, "ok\n");
}

static void serve_readyz(void *arg, hoist_httpd_req *req)
{
    hoist_health *h = arg;
    if (!exact(req, "/readyz"))
        return;
    if (h->ready) {
        text(req, 200, "ok\n");
        return;
    }
    char body[300];
    snprintf(body, sizeof body, "not ready: %s\n", h->reason);
    text(req, 503, body);
}

int hoist_health_register(hoist_httpd *d, hoist_health *h, hoist_err *err)
{
    if (hoist_httpd_handle(d, "GET", "/metrics", serve_metrics, h, err) != 0 ||
        hoist_httpd_handle(d, "GET", "/healthz", serve_healthz, h, err) != 0 ||
        hoist_httpd_handle(d, "GET", "/readyz", serve_readyz, h, err) != 0)
        return -1;
    return 0;
}
