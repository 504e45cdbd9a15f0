/* tests/unit/test_kube_reflector.c - the HTTP client's streaming and TLS
 * options, and the list+watch reflector against a canned API server. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/http.h"
#include "kube/reflector.h"
#include "kube_fake_server.h"

/* ---- loop helpers -------------------------------------------------------- */

typedef bool (*predicate)(void *arg);

typedef struct ticker {
    predicate pred;
    void *arg;
    long ticks;
} ticker;

static void on_tick(uv_timer_t *t)
{
    ticker *k = t->data;
    if (k->pred(k->arg) || ++k->ticks > 5000) /* 5000 ticks: a hang guard, not a timing check */
        uv_stop(t->loop);
}

/* Run the loop until pred holds; fail if it never does. */
static void run_until(uv_loop_t *loop, predicate pred, void *arg)
{
    if (pred(arg))
        return;
    ticker k = {pred, arg, 0};
    uv_timer_t t;
    assert_int_equal(uv_timer_init(loop, &t), 0);
    t.data = &k;
    assert_int_equal(uv_timer_start(&t, on_tick, 2, 2), 0);
    uv_run(loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
    assert_true(pred(arg));
}

static char *data_file(const char *name)
{
    const char *src = getenv("HOIST_SRCDIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/data/kube/%s", src ? src : "..", name);
    char *text = kfs_read_file(path);
    if (!text)
        fail_msg("cannot read %s", path);
    return text;
}

/* ---- HTTP: streaming ------------------------------------------------------- */

typedef struct streamed {
    char data[4096];
    size_t len;
    int chunks;
    int abort_after; /* abort when this many chunks were seen (0 = never) */
    int done;
    hoist_status code;
    char message[256];
    long status;
    char body[256];
} streamed;

static int on_stream_data(void *arg, const char *data, size_t len)
{
    streamed *s = arg;
    assert_true(s->len + len < sizeof s->data);
    memcpy(s->data + s->len, data, len);
    s->len += len;
    s->chunks++;
    return s->abort_after && s->chunks >= s->abort_after ? -1 : 0;
}

static void on_stream_done(void *arg, const hoist_error *err, const hoist_http_response *resp)
{
    streamed *s = arg;
    s->done++;
    if (err) {
        s->code = err->code;
        snprintf(s->message, sizeof s->message, "%s", err->message);
        return;
    }
    s->code = HOIST_OK;
    s->status = resp->status;
    snprintf(s->body, sizeof s->body, "%.*s", (int)resp->body_len, resp->body);
}

static bool stream_done(void *arg)
{
    return ((streamed *)arg)->done > 0;
}

static void test_http_streaming(void **state)
{
    (void)state;
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    kfs *srv = kfs_start(NULL, NULL);
    assert_non_null(srv);
    hoist_http *http = hoist_http_new(&loop, NULL, NULL);
    assert_non_null(http);
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/api/v1/pods?watch=1", kfs_port(srv));
    hoist_http_request req = {"GET", url, NULL, 0, NULL, 0, 10000};

    /* a 2xx body arrives through on_data, in two parts, and is not buffered */
    kfs_push(srv, true, &(kfs_reply){.body = "{\"a\":1}\n{\"b\"", .body2 = ":2}\n"});
    streamed s = {0};
    hoist_http_options o = {.on_data = on_stream_data, .bearer_token = "tok-1"};
    assert_non_null(hoist_http_start_opts(http, &req, &o, on_stream_done, &s, NULL));
    run_until(&loop, stream_done, &s);
    assert_int_equal(s.code, HOIST_OK);
    assert_int_equal(s.status, 200);
    assert_string_equal(s.data, "{\"a\":1}\n{\"b\":2}\n");
    assert_true(s.chunks >= 1);
    assert_string_equal(s.body, ""); /* streamed, not kept */
    char auth[128];
    assert_string_equal(kfs_last_auth(srv, auth, sizeof auth), "Bearer tok-1");

    /* an error status is buffered and given to the completion, not to on_data */
    kfs_push(srv, true, &(kfs_reply){.status = 410, .body = "{\"code\":410}"});
    streamed g = {0};
    assert_non_null(hoist_http_start_opts(http, &req, &o, on_stream_done, &g, NULL));
    run_until(&loop, stream_done, &g);
    assert_int_equal(g.status, 410);
    assert_string_equal(g.body, "{\"code\":410}");
    assert_int_equal(g.chunks, 0);

    /* the data callback aborts: the call completes as cancelled */
    kfs_push(srv, true, &(kfs_reply){.body = "{\"a\":1}\n", .hold = true});
    streamed a = {.abort_after = 1};
    assert_non_null(hoist_http_start_opts(http, &req, &o, on_stream_done, &a, NULL));
    run_until(&loop, stream_done, &a);
    assert_int_equal(a.code, HOIST_E_CANCELLED);
    assert_non_null(strstr(a.message, "aborted by the data callback"));
    assert_int_equal(a.done, 1);
    assert_int_equal(hoist_http_active(http), 0);

    hoist_http_close(http);
    kfs_stop(srv);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* ---- HTTP: TLS ------------------------------------------------------------- */

static void tls_get(uv_loop_t *loop, hoist_http *http, const char *url,
                    const hoist_http_options *o, streamed *s)
{
    memset(s, 0, sizeof *s);
    hoist_http_request req = {"GET", url, NULL, 0, NULL, 0, 10000};
    assert_non_null(hoist_http_start_opts(http, &req, o, on_stream_done, s, NULL));
    run_until(loop, stream_done, s);
}

static void test_http_tls(void **state)
{
    (void)state;
    char *ca = data_file("ca.pem"), *scert = data_file("server.pem"),
         *skey = data_file("server.key"), *ccert = data_file("client.pem"),
         *ckey = data_file("client.key");
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    kfs *srv = kfs_start(scert, skey);
    assert_non_null(srv);
    hoist_http *http = hoist_http_new(&loop, NULL, NULL);
    assert_non_null(http);
    char url[128];
    snprintf(url, sizeof url, "https://127.0.0.1:%d/api/v1/nodes", kfs_port(srv));
    streamed s;

    hoist_http_options o = {.ca_pem = ca, .ca_len = strlen(ca), .cert_pem = ccert,
                            .cert_len = strlen(ccert), .key_pem = ckey, .key_len = strlen(ckey),
                            .bearer_token = "tls-token"};
    /* a broken client key is refused by the client (first: curl may reuse a
     * connection across client keys, so this must not follow a success) */
    hoist_http_options badkey = o;
    badkey.key_pem = "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n";
    badkey.key_len = strlen(badkey.key_pem);
    tls_get(&loop, http, url, &badkey, &s);
    assert_int_not_equal(s.code, HOIST_OK);
    assert_int_equal(kfs_count(srv, false), 0);

    /* trusted through the CA given as bytes, with a client certificate */
    kfs_push(srv, false, &(kfs_reply){.body = "{\"items\":[]}"});
    tls_get(&loop, http, url, &o, &s);
    assert_int_equal(s.code, HOIST_OK);
    assert_int_equal(s.status, 200);
    assert_string_equal(s.body, "{\"items\":[]}");
    char auth[128];
    assert_string_equal(kfs_last_auth(srv, auth, sizeof auth), "Bearer tls-token");

    /* without the CA the server is not trusted */
    hoist_http_options none = {0};
    tls_get(&loop, http, url, &none, &s);
    assert_int_equal(s.code, HOIST_E_UNAVAILABLE);
    assert_int_equal(kfs_count(srv, false), 1);

    /* insecure skips the check */
    kfs_push(srv, false, &(kfs_reply){.body = "{}"});
    hoist_http_options insecure = {.insecure = true};
    tls_get(&loop, http, url, &insecure, &s);
    assert_int_equal(s.code, HOIST_OK);
    assert_int_equal(s.status, 200);

    hoist_http_close(http);
    kfs_stop(srv);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    free(ca);
    free(scert);
    free(skey);
    free(ccert);
    free(ckey);
}

/* ---- reflector ------------------------------------------------------------- */

typedef struct recorder {
    char log[64][96]; /* "ADD default/a 5" ... */
    int n;
    int synced;
    bool saw_managed_fields;
    bool kinds_ok;
    hoist_reflector *close_on; /* close this reflector when an event names close_key */
    const char *close_key;
    uint64_t malformed_at_close;
} recorder;

static void on_event(void *arg, const hoist_object_event *ev)
{
    recorder *rc = arg;
    static const char *const ops[] = {"ADD", "UPDATE", "DELETE"};
    const json_t *md = json_object_get(ev->object, "metadata");
    const char *ns = json_string_value(json_object_get(md, "namespace"));
    const char *name = json_string_value(json_object_get(md, "name"));
    const char *rv = json_string_value(json_object_get(md, "resourceVersion"));
    if (json_object_get(md, "managedFields"))
        rc->saw_managed_fields = true;
    const char *kind = json_string_value(json_object_get(ev->object, "kind"));
    const char *av = json_string_value(json_object_get(ev->object, "apiVersion"));
    if (!kind || !av)
        rc->kinds_ok = false;
    assert_true(rc->n < 64);
    snprintf(rc->log[rc->n++], sizeof rc->log[0], "%s %s%s%s%s%s", ops[ev->op], ns ? ns : "",
             ns ? "/" : "", name ? name : "?", ev->op == HOIST_OBJECT_DELETE ? "" : " ",
             ev->op == HOIST_OBJECT_DELETE ? "" : (rv ? rv : "-"));
    if (rc->close_key && ev->op == HOIST_OBJECT_DELETE && name && !strcmp(name, rc->close_key)) {
        rc->malformed_at_close = hoist_reflector_get_stats(rc->close_on)->malformed;
        hoist_reflector_close(rc->close_on);
    }
}

static void on_synced(void *arg)
{
    ((recorder *)arg)->synced++;
}

typedef struct fixture {
    uv_loop_t loop;
    kfs *srv;
    hoist_http *http;
    hoist_kube_config kube;
    hoist_reflector *r;
    recorder rec;
} fixture;

static void fx_init(fixture *f, const char *path, const char *kind, const char *api_version,
                    bool optional)
{
    memset(f, 0, sizeof *f);
    f->rec.kinds_ok = true;
    assert_int_equal(uv_loop_init(&f->loop), 0);
    f->srv = kfs_start(NULL, NULL);
    assert_non_null(f->srv);
    f->http = hoist_http_new(&f->loop, NULL, NULL);
    assert_non_null(f->http);
    assert_int_not_equal(asprintf(&f->kube.server, "http://127.0.0.1:%d", kfs_port(f->srv)), -1);
    f->kube.token = strdup("t0");
    hoist_reflector_config cfg = {
        .path = path, .kind = kind, .api_version = api_version, .optional = optional,
        .page_size = 2, .watch_timeout_s = 60, .backoff_base_ms = 10, .backoff_cap_ms = 100,
        .absent_retry_ms = 30, .seed = 42, .on_event = on_event, .on_synced = on_synced,
        .arg = &f->rec};
    hoist_err err = {{0}};
    f->r = hoist_reflector_new(&f->loop, f->http, &f->kube, NULL, &cfg, &err);
    assert_non_null(f->r);
}

static void fx_free(fixture *f, bool reflector_closed)
{
    if (!reflector_closed)
        hoist_reflector_close(f->r);
    hoist_http_close(f->http);
    kfs_stop(f->srv);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    hoist_kube_config_free(&f->kube);
}

static void assert_log(const recorder *rc, const char *const *want)
{
    int n = 0;
    for (; want[n]; n++) {
        if (n >= rc->n)
            fail_msg("event %d missing: want \"%s\"", n, want[n]);
        if (strcmp(rc->log[n], want[n]) != 0)
            fail_msg("event %d: got \"%s\", want \"%s\"", n, rc->log[n], want[n]);
    }
    assert_int_equal(rc->n, n);
}

#define POD(ns, name, rv) \
    "{\"metadata\":{\"namespace\":\"" ns "\",\"name\":\"" name "\",\"resourceVersion\":\"" rv \
    "\",\"managedFields\":[{\"manager\":\"kubectl\"}]},\"spec\":{\"containers\":[{\"name\":\"c\"," \
    "\"image\":\"nginx\",\"env\":[{\"name\":\"A\",\"value\":\"1\"}]}]}}"
#define EVENT(type, obj) "{\"type\":\"" type "\",\"object\":" obj "}\n"
#define WPOD(ns, name, rv) \
    "{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"namespace\":\"" ns \
    "\",\"name\":\"" name "\",\"resourceVersion\":\"" rv "\"}}"

typedef struct waiter {
    fixture *f;
    int events;
    int watches;
} waiter;

static bool reached(void *arg)
{
    waiter *w = arg;
    return w->f->rec.n >= w->events && kfs_count(w->f->srv, true) >= w->watches;
}

static void test_list_watch_bookmark_gone_relist(void **state)
{
    (void)state;
    fixture f;
    fx_init(&f, "/api/v1/pods", "Pod", "v1", false);
    kfs_push(f.srv, false, &(kfs_reply){.body =
        "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"10\","
        "\"continue\":\"tok/1 +\"},\"items\":[" POD("default", "a", "5") ","
        POD("default", "b", "6") "]}"});
    kfs_push(f.srv, false, &(kfs_reply){.body =
        "{\"kind\":\"PodList\",\"metadata\":{\"resourceVersion\":\"10\"},\"items\":["
        POD("kube-system", "c", "7") "]}"});
    kfs_push(f.srv, true, &(kfs_reply){
        .body = EVENT("ADDED", WPOD("default", "d", "11")) EVENT("MODIFIED", WPOD("default", "a",
                "12")) "{\"type\":\"BOOKM",
        .body2 = "ARK\",\"object\":{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":"
                 "{\"resourceVersion\":\"15\"}}}\n"
                 EVENT("ERROR", "{\"kind\":\"Status\",\"code\":410,\"reason\":\"Expired\"}")
                 EVENT("ADDED", WPOD("default", "never", "99")),
        .hold = true});
    /* the relist: a unchanged, c changed, d unchanged, e new, b gone */
    kfs_push(f.srv, false, &(kfs_reply){.body =
        "{\"metadata\":{\"resourceVersion\":\"20\"},\"items\":[" POD("default", "a", "12") ","
        POD("kube-system", "c", "18") "," POD("default", "d", "11") ","
        POD("default", "e", "19") "]}"});

    assert_int_equal(hoist_reflector_start(f.r, NULL), 0);
    waiter w = {&f, 8, 2};
    run_until(&f.loop, reached, &w);

    static const char *const want[] = {
        "ADD default/a 5", "ADD default/b 6", "ADD kube-system/c 7", /* first list, 2 pages */
        "ADD default/d 11", "UPDATE default/a 12",                    /* watch */
        "UPDATE kube-system/c 18", "ADD default/e 19", "DELETE default/b", /* relist diff */
        NULL};
    assert_log(&f.rec, want);
    assert_int_equal(f.rec.synced, 1);
    assert_false(f.rec.saw_managed_fields); /* trimmed */
    assert_true(f.rec.kinds_ok);            /* list items got kind and apiVersion */
    assert_int_equal(hoist_reflector_size(f.r), 4);
    assert_string_equal(hoist_reflector_resource_version(f.r), "20");

    const hoist_reflector_stats *st = hoist_reflector_get_stats(f.r);
    assert_int_equal(st->lists, 3);
    assert_int_equal(st->relists, 1);
    assert_int_equal(st->watch_restarts, 1);
    assert_int_equal(st->bookmarks, 1);
    assert_int_equal(st->malformed, 0);
    assert_int_equal(st->events, 8);

    char url[512];
    assert_string_equal(kfs_url(f.srv, false, 0, url, sizeof url), "/api/v1/pods?limit=2");
    assert_string_equal(kfs_url(f.srv, false, 1, url, sizeof url),
                        "/api/v1/pods?limit=2&continue=tok/1 +"); /* escaped, decoded back */
    kfs_url(f.srv, true, 0, url, sizeof url);
    assert_non_null(strstr(url, "resourceVersion=10"));
    assert_non_null(strstr(url, "allowWatchBookmarks=true"));
    assert_non_null(strstr(url, "timeoutSeconds=60"));
    assert_non_null(strstr(url, "watch=1"));
    kfs_url(f.srv, true, 1, url, sizeof url);
    assert_non_null(strstr(url, "resourceVersion=20"));
    char auth[64];
    assert_string_equal(kfs_last_auth(f.srv, auth, sizeof auth), "Bearer t0");
    fx_free(&f, false);
}

static void test_watch_410_status_deletes_vanished(void **state)
{
    (void)state;
    fixture f;
    fx_init(&f, "/api/v1/pods", "Pod", "v1", false);
    kfs_push(f.srv, false, &(kfs_reply){.body =
        "{\"metadata\":{\"resourceVersion\":\"3\"},\"items\":[" POD("default", "a", "1") ","
        POD("default", "b", "2") "]}"});
    kfs_push(f.srv, true, &(kfs_reply){.status = 410, .body = "{\"kind\":\"Status\","
                                       "\"code\":410,\"message\":\"too old resource version\"}"});
    kfs_push(f.srv, false, &(kfs_reply){.body =
        "{\"metadata\":{\"resourceVersion\":\"9\"},\"items\":[" POD("default", "b", "2") "]}"});
    assert_int_equal(hoist_reflector_start(f.r, NULL), 0);
    waiter w = {&f, 3, 2};
    run_until(&f.loop, reached, &w);
    static const char *const want[] = {"ADD default/a 1", "ADD default/b 2", "DELETE default/a",
                                       NULL};
    assert_log(&f.rec, want);
    assert_int_equal(hoist_reflector_get_stats(f.r)->relists, 1);
    assert_int_equal(hoist_reflector_size(f.r), 1);
    fx_free(&f, false);
}

static void test_malformed_skipped_and_counted(void **state)
{
    (void)state;
    fixture f;
    fx_init(&f, "/api/v1/pods", "Pod", "v1", false);
    kfs_push(f.srv, false, &(kfs_reply){.body =
        "{\"metadata\":{\"resourceVersion\":\"3\"},\"items\":[{\"metadata\":{\"namespace\":"
        "\"default\"}}, 7, " POD("default", "a", "1") "]}"});
    kfs_push(f.srv, true, &(kfs_reply){
        .body = "this is not json\n"
                EVENT("ADDED", "{\"metadata\":{\"name\":5}}")
                EVENT("ADDED", "{\"metadata\":{\"name\":\"x\",\"namespace\":[]}}")
                EVENT("EXPLODED", WPOD("default", "y", "4"))
                "{\"object\":{}}\n"
                "\n"
                EVENT("ADDED", WPOD("default", "good", "5"))
                EVENT("DELETED", WPOD("default", "a", "6"))
                EVENT("ADDED", WPOD("default", "after-close", "7")),
        .hold = true});
    f.rec.close_on = f.r;
    f.rec.close_key = "a"; /* the DELETE of a closes the reflector from its own callback */
    hoist_reflector_start(f.r, NULL);
    waiter w = {&f, 3, 1};
    run_until(&f.loop, reached, &w);
    static const char *const want[] = {"ADD default/a 1", "ADD default/good 5",
                                       "DELETE default/a", NULL};
    assert_log(&f.rec, want); /* nothing after the close */
    assert_int_equal(f.rec.malformed_at_close, 2 + 5);
    fx_free(&f, true); /* closed by the callback */
}

static void test_retry_after_and_backoff(void **state)
{
    (void)state;
    fixture f;
    fx_init(&f, "/api/v1/nodes", "Node", "v1", false);
    kfs_push(f.srv, false, &(kfs_reply){.status = 500, .body = "{\"message\":\"etcd down\"}"});
    kfs_push(f.srv, false, &(kfs_reply){.status = 429, .retry_after = "1",
                                        .body = "{\"message\":\"slow down\"}"});
    kfs_push(f.srv, false, &(kfs_reply){.body = "{\"metadata\":{\"resourceVersion\":\"1\"},"
                                        "\"items\":[{\"metadata\":{\"name\":\"n1\"}}]}"});
    assert_int_equal(hoist_reflector_start(f.r, NULL), 0);

    /* after the 500: a jittered backoff drawn from the seeded generator */
    uint64_t rng = 42;
    uint64_t first = hoist_kube_backoff_ms(1, 10, 100, &rng);
    while (kfs_count(f.srv, false) < 2)
        uv_run(&f.loop, UV_RUN_ONCE);
    assert_int_equal(hoist_reflector_get_stats(f.r)->failures, 1);

    /* the 429 asks for 1 s: the next list is scheduled no sooner */
    waiter w = {&f, 1, 1};
    run_until(&f.loop, reached, &w);
    assert_int_equal(hoist_reflector_last_delay_ms(f.r), 1000);
    assert_int_equal(hoist_reflector_get_stats(f.r)->throttled, 1);
    assert_true(first >= 5 && first <= 10);
    assert_string_equal(f.rec.log[0], "ADD n1 -");
    assert_int_equal(f.rec.synced, 1);
    fx_free(&f, false);
}

static void test_optional_absent(void **state)
{
    (void)state;
    fixture f;
    fx_init(&f, "/apis/karpenter.sh/v1/nodepools", "NodePool", "karpenter.sh/v1", true);
    kfs_push(f.srv, false, &(kfs_reply){.status = 404, .body = "{\"kind\":\"Status\","
                                        "\"code\":404,\"reason\":\"NotFound\"}"});
    kfs_push(f.srv, false, &(kfs_reply){.body = "{\"metadata\":{\"resourceVersion\":\"5\"},"
                                        "\"items\":[{\"metadata\":{\"name\":\"default\","
                                        "\"resourceVersion\":\"4\"},\"spec\":{}}]}"});
    assert_int_equal(hoist_reflector_start(f.r, NULL), 0);
    while (kfs_count(f.srv, false) < 1 || !hoist_reflector_synced(f.r))
        uv_run(&f.loop, UV_RUN_ONCE);
    assert_true(hoist_reflector_absent(f.r));
    assert_int_equal(f.rec.synced, 1); /* absence counts as synced, with no objects */
    assert_int_equal(f.rec.n, 0);
    assert_int_equal(hoist_reflector_last_delay_ms(f.r), 30); /* the slow retry */
    assert_int_equal(hoist_reflector_get_stats(f.r)->failures, 0); /* not an error */

    waiter w = {&f, 1, 1};
    run_until(&f.loop, reached, &w);
    assert_false(hoist_reflector_absent(f.r));
    assert_string_equal(f.rec.log[0], "ADD default 4");
    assert_int_equal(f.rec.synced, 1);
    fx_free(&f, false);
}

static void test_backoff_and_retry_after_values(void **state)
{
    (void)state;
    uint64_t a = 7, b = 7;
    for (unsigned i = 1; i <= 12; i++) {
        uint64_t d = hoist_kube_backoff_ms(i, 500, 30000, &a);
        uint64_t full = 500ull << (i - 1);
        if (full > 30000)
            full = 30000;
        assert_true(d >= full / 2 && d <= full);
        assert_int_equal(d, hoist_kube_backoff_ms(i, 500, 30000, &b)); /* same seed, same */
    }
    uint64_t c = 8;
    bool differs = false;
    a = 7;
    for (int i = 0; i < 8; i++)
        differs |= hoist_kube_backoff_ms(10, 500, 30000, &a) !=
                   hoist_kube_backoff_ms(10, 500, 30000, &c);
    assert_true(differs);
    assert_int_equal(hoist_kube_retry_after_ms("3", 0), 3000);
    assert_int_equal(hoist_kube_retry_after_ms(" 0 ", 0), 0);
    assert_int_equal(hoist_kube_retry_after_ms("soon", 0), 0);
    assert_int_equal(hoist_kube_retry_after_ms("5x", 0), 0);
    assert_int_equal(hoist_kube_retry_after_ms(NULL, 0), 0);
    assert_int_equal(hoist_kube_retry_after_ms("99999999", 0), HOIST_REFLECTOR_RETRY_AFTER_MAX_MS);
    /* Wed, 21 Oct 2015 07:28:00 GMT = 1445412480 */
    assert_int_equal(hoist_kube_retry_after_ms("Wed, 21 Oct 2015 07:28:00 GMT", 1445412470),
                     10000);
    assert_int_equal(hoist_kube_retry_after_ms("Wed, 21 Oct 2015 07:28:00 GMT", 1445412490), 0);
}

static void test_reflector_bad_config(void **state)
{
    (void)state;
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    hoist_kube_config kube = {.server = "http://127.0.0.1:1"};
    hoist_err err = {{0}};
    hoist_reflector_config cfg = {.path = "api/v1/pods", .kind = "Pod", .api_version = "v1",
                                  .on_event = on_event};
    assert_null(hoist_reflector_new(&loop, NULL, &kube, NULL, &cfg, &err));
    assert_non_null(strstr(err.msg, "path starting with '/'"));
    cfg.path = "/api/v1/pods";
    hoist_kube_config none = {0};
    assert_null(hoist_reflector_new(&loop, NULL, &none, NULL, &cfg, &err));
    assert_non_null(strstr(err.msg, "no API server"));
    assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_http_streaming),
        cmocka_unit_test(test_http_tls),
        cmocka_unit_test(test_list_watch_bookmark_gone_relist),
        cmocka_unit_test(test_watch_410_status_deletes_vanished),
        cmocka_unit_test(test_malformed_skipped_and_counted),
        cmocka_unit_test(test_retry_after_and_backoff),
        cmocka_unit_test(test_optional_absent),
        cmocka_unit_test(test_backoff_and_retry_after_values),
        cmocka_unit_test(test_reflector_bad_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
