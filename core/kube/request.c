/* kube/request.c - one API call with bounded retries; see request.h. */
#include "kube/request.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "kube/reflector.h"

struct hoist_kube_request {
    hoist_kube_client client;
    hoist_kube_retry retry;
    char *method, *url, *ctype, *body;
    uint64_t *rng;
    hoist_kube_request_stats *stats;
    hoist_kube_done_cb done;
    void *arg;
    uv_timer_t timer;
    hoist_http_call *call;
    unsigned attempts;
    uint64_t last_delay_ms;
    bool finished;              /* done ran or cancelled: the timer is closing */
};

static const char component[] = "kube";

const char *hoist_kube_header(const hoist_http_response *resp, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < resp->n_headers; i++) {
        const char *h = resp->headers[i];
        if (!strncasecmp(h, name, n) && h[n] == ':') {
            h += n + 1;
            while (*h == ' ' || *h == '\t')
                h++;
            return h;
        }
    }
    return NULL;
}

char *hoist_kube_escape(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    char *out = malloc(strlen(s) * 3 + 1), *o = out;
    if (!out)
        return NULL;
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~') {
            *o++ = (char)ch;
        } else {
            *o++ = '%';
            *o++ = hex[ch >> 4];
            *o++ = hex[ch & 15];
        }
    }
    *o = '\0';
    return out;
}

const char *hoist_kube_time(uint64_t unix_ms, bool micro, char *buf, size_t size)
{
    time_t secs = (time_t)(unix_ms / 1000);
    struct tm tm;
    if (!gmtime_r(&secs, &tm)) {
        snprintf(buf, size, "1970-01-01T00:00:00Z");
        return buf;
    }
    char base[24];
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    if (micro)
        snprintf(buf, size, "%s.%06uZ", base, (unsigned)(unix_ms % 1000) * 1000u);
    else
        snprintf(buf, size, "%sZ", base);
    return buf;
}

uint64_t hoist_kube_real_clock_ms(void *arg)
{
    (void)arg;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void on_closed(uv_handle_t *h)
{
    hoist_kube_request *r = h->data;
    free(r->method);
    free(r->url);
    free(r->ctype);
    free(r->body);
    free(r);
}

static void release(hoist_kube_request *r)
{
    r->finished = true;
    uv_close((uv_handle_t *)&r->timer, on_closed);
}

static void finish(hoist_kube_request *r, long status, const char *body, size_t body_len,
                   const char *retry_after, const char *message)
{
    hoist_kube_result res = {status, body ? body : "", body ? body_len : 0, retry_after,
                             message ? message : "", r->attempts};
    r->finished = true;
    r->done(r->arg, &res);
    release(r);
}

static void send_attempt(hoist_kube_request *r);

static void on_timer(uv_timer_t *t)
{
    hoist_kube_request *r = t->data;
    if (!r->finished)
        send_attempt(r);
}

/* Another attempt after a backoff (floor: Retry-After). False when the attempts are used up. */
static bool retry_later(hoist_kube_request *r, uint64_t floor_ms)
{
    if (r->attempts >= r->retry.max_attempts)
        return false;
    uint64_t d = hoist_kube_backoff_ms(r->attempts, r->retry.base_ms, r->retry.cap_ms, r->rng);
    if (d < floor_ms)
        d = floor_ms;
    r->last_delay_ms = d;
    if (uv_timer_start(&r->timer, on_timer, d, 0) != 0)
        return false;
    return true;
}

/* The "message" of a Status body into buf ("" when none). */
static void status_message(const char *body, size_t len, char *buf, size_t size)
{
    buf[0] = '\0';
    json_t *st = json_loadb(body, len, 0, NULL);
    const char *m = json_string_value(json_object_get(st, "message"));
    if (m)
        snprintf(buf, size, "%s", m);
    json_decref(st);
}

static void on_http(void *arg, const hoist_error *err, const hoist_http_response *resp)
{
    hoist_kube_request *r = arg;
    r->call = NULL;
    if (r->finished)
        return; /* cancelled */
    hoist_kube_request_stats dummy = {0};
    hoist_kube_request_stats *st = r->stats ? r->stats : &dummy;
    if (err) {
        st->transport_errors++;
        hoist_log(r->client.log, HOIST_LOG_DEBUG, component, "%s %s: attempt %u: %s", r->method,
                  r->url, r->attempts, err->message[0] ? err->message : "transport error");
        if (err->code != HOIST_E_CANCELLED && retry_later(r, 0))
            return;
        st->gave_up++;
        finish(r, 0, NULL, 0, NULL, err->message[0] ? err->message : "transport error");
        return;
    }
    const char *ra = hoist_kube_header(resp, "Retry-After");
    char msg[512] = "";
    if (resp->status >= 400)
        status_message(resp->body, resp->body_len, msg, sizeof msg);
    if (resp->status >= 500 || (resp->status == 429 && r->retry.retry_429)) {
        if (resp->status == 429)
            st->throttled++;
        else
            st->server_errors++;
        uint64_t floor_ms =
            resp->status == 429 || resp->status == 503
                ? hoist_kube_retry_after_ms(ra, (int64_t)time(NULL))
                : 0;
        hoist_log(r->client.log, HOIST_LOG_DEBUG, component, "%s %s: attempt %u: HTTP %ld %s",
                  r->method, r->url, r->attempts, resp->status, msg);
        if (retry_later(r, floor_ms))
            return;
        st->gave_up++;
    } else if (resp->status == 429) {
        st->throttled++;
    }
    finish(r, resp->status, resp->body, resp->body_len, ra, msg);
}

static void send_attempt(hoist_kube_request *r)
{
    hoist_kube_request_stats dummy = {0};
    hoist_kube_request_stats *st = r->stats ? r->stats : &dummy;
    hoist_err e = {{0}};
    if (hoist_kube_config_refresh_token(r->client.kube, uv_now(r->client.loop), &e) < 0)
        hoist_log(r->client.log, HOIST_LOG_WARN, component, "%s (keeping the previous token)",
                  e.msg);
    const hoist_kube_config *k = r->client.kube;
    hoist_http_options o = {
        .ca_pem = k->ca.data, .ca_len = k->ca.len,
        .cert_pem = k->cert.data, .cert_len = k->cert.len,
        .key_pem = k->key.data, .key_len = k->key.len,
        .insecure = k->insecure, .bearer_token = k->token,
    };
    char ctype_h[160];
    const char *headers[2] = {"Accept: application/json", ctype_h};
    size_t n_headers = 1;
    if (r->ctype) {
        snprintf(ctype_h, sizeof ctype_h, "Content-Type: %s", r->ctype);
        n_headers = 2;
    }
    hoist_http_request req = {r->method, r->url, headers, n_headers, r->body,
                              r->body ? strlen(r->body) : 0, r->retry.timeout_ms};
    r->attempts++;
    st->requests++;
    if (r->attempts > 1)
        st->retries++;
    e.msg[0] = '\0';
    r->call = hoist_http_start_opts(r->client.http, &req, &o, on_http, r, &e);
    if (!r->call) {
        st->transport_errors++;
        st->gave_up++;
        finish(r, 0, NULL, 0, NULL, e.msg[0] ? e.msg : "cannot start the request");
    }
}

/* Start the first attempt from the loop, so done never runs inside start. */
static void on_first(uv_timer_t *t)
{
    hoist_kube_request *r = t->data;
    if (!r->finished)
        send_attempt(r);
}

hoist_kube_request *hoist_kube_request_start(const hoist_kube_client *c, const char *method,
                                             const char *path, const char *ctype,
                                             const char *body, const hoist_kube_retry *retry,
                                             uint64_t *rng, hoist_kube_request_stats *stats,
                                             hoist_kube_done_cb done, void *arg, hoist_err *err)
{
    if (!c || !c->loop || !c->http || !c->kube || !c->kube->server || !method || !path ||
        !rng || !done) {
        hoist_errf(err, "kube request: missing client, method, path or callback");
        return NULL;
    }
    hoist_kube_request *r = calloc(1, sizeof *r);
    if (!r) {
        hoist_errf(err, "kube request: out of memory");
        return NULL;
    }
    r->client = *c;
    if (retry)
        r->retry = *retry;
    if (!r->retry.max_attempts)
        r->retry.max_attempts = HOIST_KUBE_RETRY_ATTEMPTS;
    if (!r->retry.base_ms)
        r->retry.base_ms = HOIST_KUBE_RETRY_BASE_MS;
    if (!r->retry.cap_ms)
        r->retry.cap_ms = HOIST_KUBE_RETRY_CAP_MS;
    if (!r->retry.timeout_ms)
        r->retry.timeout_ms = HOIST_KUBE_REQUEST_TIMEOUT_MS;
    r->rng = rng;
    r->stats = stats;
    r->done = done;
    r->arg = arg;
    r->method = strdup(method);
    r->ctype = ctype ? strdup(ctype) : NULL;
    r->body = body ? strdup(body) : NULL;
    if (asprintf(&r->url, "%s%s", c->kube->server, path) < 0)
        r->url = NULL;
    if (!r->method || !r->url || (ctype && !r->ctype) || (body && !r->body) ||
        uv_timer_init(c->loop, &r->timer) != 0) {
        free(r->method);
        free(r->url);
        free(r->ctype);
        free(r->body);
        free(r);
        hoist_errf(err, "kube request: out of memory");
        return NULL;
    }
    r->timer.data = r;
    if (uv_timer_start(&r->timer, on_first, 0, 0) != 0) {
        release(r);
        hoist_errf(err, "kube request: cannot arm a timer");
        return NULL;
    }
    return r;
}

void hoist_kube_request_cancel(hoist_kube_request *r)
{
    if (!r || r->finished)
        return;
    r->finished = true;
    uv_timer_stop(&r->timer);
    if (r->call) {
        hoist_http_call *call = r->call;
        r->call = NULL;
        hoist_http_cancel(r->client.http, call); /* on_http sees finished and returns */
    }
    release(r);
}

uint64_t hoist_kube_request_last_delay_ms(const hoist_kube_request *r)
{
    return r ? r->last_delay_ms : 0;
}
