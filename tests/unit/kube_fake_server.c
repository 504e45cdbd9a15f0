/* tests/unit/kube_fake_server.c - canned Kubernetes API server; see kube_fake_server.h. */
#include "kube_fake_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include <jansson.h>
#include <microhttpd.h>

#define KFS_MAX_QUEUE 64
#define KFS_MAX_REQS 256
#define KFS_MAX_SEEN 1024
#define KFS_MAX_ROUTES 64
#define KFS_MAX_STORES 8

typedef struct queued {
    int status;
    char *retry_after, *body, *body2;
    bool hold;
} queued;

typedef struct klass {
    queued q[KFS_MAX_QUEUE];
    int head, tail;          /* queue [head, tail) */
    char *urls[KFS_MAX_REQS];
    int n_urls;
} klass;

/* A scripted reply for one method and path, used `times` times (-1 = always). */
typedef struct route {
    char *method, *path;
    queued r;
    int times;
} route;

/* A tiny object store under a collection path. */
typedef struct store {
    char *prefix;
    json_t *objects; /* name -> object */
} store;

/* Per-request state: the uploaded body. */
typedef struct reqctx {
    char *body;
    size_t len, cap;
} reqctx;

struct kfs {
    struct MHD_Daemon *d;
    int port;
    pthread_mutex_t mu;
    bool stopping;
    klass lists, watches;
    char *last_auth;
    kfs_seen seen[KFS_MAX_SEEN];
    int n_seen;
    route routes[KFS_MAX_ROUTES];
    int n_routes;
    store stores[KFS_MAX_STORES];
    int n_stores;
    unsigned long next_rv;
};

/* A streamed watch reply. */
typedef struct stream {
    kfs *s;
    char *data;
    size_t len, split, off;
    bool paused, hold;
} stream;

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static bool stopping(kfs *s)
{
    pthread_mutex_lock(&s->mu);
    bool st = s->stopping;
    pthread_mutex_unlock(&s->mu);
    return st;
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    stream *st = cls;
    if (st->off < st->len) {
        if (st->off == st->split && st->split > 0 && !st->paused) {
            sleep_ms(20); /* let the client read the first part on its own */
            st->paused = true;
        }
        size_t end = st->off < st->split ? st->split : st->len;
        size_t n = end - st->off < max ? end - st->off : max;
        memcpy(buf, st->data + st->off, n);
        st->off += n;
        return (ssize_t)n;
    }
    if (!st->hold)
        return MHD_CONTENT_READER_END_OF_STREAM;
    while (!stopping(st->s))
        sleep_ms(5);
    return MHD_CONTENT_READER_END_WITH_ERROR;
}

static void stream_free(void *cls)
{
    stream *st = cls;
    free(st->data);
    free(st);
}

typedef struct url_buf {
    char s[4096];
    size_t n;
    bool first;
} url_buf;

static enum MHD_Result add_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                               const char *value)
{
    (void)kind;
    url_buf *u = cls;
    int w = snprintf(u->s + u->n, sizeof u->s - u->n, "%s%s=%s", u->first ? "?" : "&", key,
                     value ? value : "");
    if (w > 0 && (size_t)w < sizeof u->s - u->n)
        u->n += (size_t)w;
    u->first = false;
    return MHD_YES;
}

static struct MHD_Response *text_response(const char *body)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(r, "Content-Type", "application/json");
    return r;
}

static struct MHD_Response *status_response(int code, const char *reason, const char *msg)
{
    char buf[512];
    snprintf(buf, sizeof buf,
             "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\","
             "\"reason\":\"%s\",\"message\":\"%s\",\"code\":%d}",
             reason, msg, code);
    return text_response(buf);
}

/* Set metadata.resourceVersion to a fresh one (locked). */
static void bump_rv(kfs *s, json_t *obj)
{
    json_t *md = json_object_get(obj, "metadata");
    if (!json_is_object(md)) {
        md = json_object();
        json_object_set_new(obj, "metadata", md);
    }
    char rv[32];
    snprintf(rv, sizeof rv, "%lu", s->next_rv++);
    json_object_set_new(md, "resourceVersion", json_string(rv));
}

/* Answer from the object store (locked); false when no store covers url. */
static bool store_answer(kfs *s, const char *method, const char *url, const char *body,
                         struct MHD_Response **resp, int *status)
{
    for (int i = 0; i < s->n_stores; i++) {
        store *st = &s->stores[i];
        size_t n = strlen(st->prefix);
        if (strncmp(url, st->prefix, n) != 0 || (url[n] && url[n] != '/'))
            continue;
        const char *name = url[n] == '/' ? url + n + 1 : "";
        json_t *cur = *name ? json_object_get(st->objects, name) : NULL;
        if (!strcmp(method, "GET") && *name) {
            if (!cur) {
                *status = 404;
                *resp = status_response(404, "NotFound", "not found");
            } else {
                char *text = json_dumps(cur, JSON_COMPACT);
                *status = 200;
                *resp = text_response(text);
                free(text);
            }
            return true;
        }
        if (!strcmp(method, "DELETE") && *name) {
            *status = cur ? 200 : 404;
            *resp = cur ? text_response("{\"kind\":\"Status\",\"status\":\"Success\"}")
                        : status_response(404, "NotFound", "not found");
            if (cur)
                json_object_del(st->objects, name);
            return true;
        }
        json_t *obj = json_loads(body ? body : "", 0, NULL);
        const char *oname = json_string_value(
            json_object_get(json_object_get(obj, "metadata"), "name"));
        if (!json_is_object(obj) || !oname) {
            json_decref(obj);
            *status = 400;
            *resp = status_response(400, "BadRequest", "not an object with metadata.name");
            return true;
        }
        if (!strcmp(method, "POST") && !*name) {
            if (json_object_get(st->objects, oname)) {
                json_decref(obj);
                *status = 409;
                *resp = status_response(409, "AlreadyExists", "already exists");
                return true;
            }
        } else if (!strcmp(method, "PUT") && *name) {
            const char *want = json_string_value(
                json_object_get(json_object_get(obj, "metadata"), "resourceVersion"));
            const char *have = json_string_value(
                json_object_get(json_object_get(cur, "metadata"), "resourceVersion"));
            if (!cur || strcmp(oname, name) != 0) {
                json_decref(obj);
                *status = 404;
                *resp = status_response(404, "NotFound", "not found");
                return true;
            }
            if (want && *want && (!have || strcmp(want, have) != 0)) {
                json_decref(obj);
                *status = 409;
                *resp = status_response(409, "Conflict",
                                        "the object has been modified; please apply your "
                                        "changes to the latest version and try again");
                return true;
            }
        } else {
            json_decref(obj);
            *status = 405;
            *resp = status_response(405, "MethodNotAllowed", "not supported by the store");
            return true;
        }
        bump_rv(s, obj);
        json_object_set(st->objects, oname, obj);
        char *text = json_dumps(obj, JSON_COMPACT);
        json_decref(obj);
        *status = !strcmp(method, "POST") ? 201 : 200;
        *resp = text_response(text);
        free(text);
        return true;
    }
    return false;
}

/* A route or store answer for this request; false to fall back to the queues. */
static bool scripted(kfs *s, const char *method, const char *url, const char *body,
                     struct MHD_Response **resp, int *status)
{
    pthread_mutex_lock(&s->mu);
    for (int i = 0; i < s->n_routes; i++) {
        route *rt = &s->routes[i];
        if (rt->times == 0 || strcmp(rt->method, method) != 0 || strcmp(rt->path, url) != 0)
            continue;
        if (rt->times > 0)
            rt->times--;
        *status = rt->r.status ? rt->r.status : 200;
        *resp = text_response(rt->r.body ? rt->r.body : "");
        if (rt->r.retry_after)
            MHD_add_response_header(*resp, "Retry-After", rt->r.retry_after);
        pthread_mutex_unlock(&s->mu);
        return true;
    }
    bool done = store_answer(s, method, url, body, resp, status);
    pthread_mutex_unlock(&s->mu);
    return done;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)version;
    kfs *s = cls;
    if (!*con_cls) { /* first call: headers only */
        reqctx *rc = calloc(1, sizeof *rc);
        if (!rc)
            return MHD_NO;
        *con_cls = rc;
        return MHD_YES;
    }
    reqctx *rc = *con_cls;
    if (*upload_data_size) {
        if (rc->len + *upload_data_size + 1 > rc->cap) {
            size_t cap = (rc->len + *upload_data_size + 1) * 2;
            char *b = realloc(rc->body, cap);
            if (!b)
                return MHD_NO;
            rc->body = b;
            rc->cap = cap;
        }
        memcpy(rc->body + rc->len, upload_data, *upload_data_size);
        rc->len += *upload_data_size;
        rc->body[rc->len] = '\0';
        *upload_data_size = 0;
        return MHD_YES;
    }
    const char *ctype = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
    pthread_mutex_lock(&s->mu);
    if (s->n_seen < KFS_MAX_SEEN) {
        kfs_seen *sn = &s->seen[s->n_seen++];
        snprintf(sn->method, sizeof sn->method, "%s", method);
        snprintf(sn->path, sizeof sn->path, "%s", url);
        snprintf(sn->content_type, sizeof sn->content_type, "%s", ctype ? ctype : "");
        sn->body = strdup(rc->body ? rc->body : "");
    }
    const char *sauth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
    free(s->last_auth);
    s->last_auth = strdup(sauth ? sauth : "");
    pthread_mutex_unlock(&s->mu);
    struct MHD_Response *sresp = NULL;
    int sstatus = 0;
    if (scripted(s, method, url, rc->body, &sresp, &sstatus)) {
        enum MHD_Result sret = MHD_queue_response(conn, (unsigned)sstatus, sresp);
        MHD_destroy_response(sresp);
        return sret;
    }
    const char *w = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "watch");
    bool watch = w && (!strcmp(w, "1") || !strcmp(w, "true"));
    url_buf u = {.first = true};
    u.n = (size_t)snprintf(u.s, sizeof u.s, "%s", url);
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, add_arg, &u);
    const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");

    pthread_mutex_lock(&s->mu);
    klass *k = watch ? &s->watches : &s->lists;
    if (k->n_urls < KFS_MAX_REQS)
        k->urls[k->n_urls++] = strdup(u.s);
    free(s->last_auth);
    s->last_auth = strdup(auth ? auth : "");
    queued r = {0};
    bool have = k->head < k->tail;
    if (have)
        r = k->q[k->head++];
    pthread_mutex_unlock(&s->mu);

    struct MHD_Response *resp;
    int status;
    if (!have && !watch) {
        static const char msg[] = "{\"kind\":\"Status\",\"code\":500,\"message\":\"no canned "
                                  "reply\"}";
        status = 500;
        resp = MHD_create_response_from_buffer(sizeof msg - 1, (void *)msg,
                                               MHD_RESPMEM_PERSISTENT);
    } else if (!have || (watch && (r.status == 0 || r.status / 100 == 2))) {
        stream *st = calloc(1, sizeof *st);
        st->s = s;
        size_t l1 = r.body ? strlen(r.body) : 0, l2 = r.body2 ? strlen(r.body2) : 0;
        st->data = malloc(l1 + l2 + 1);
        memcpy(st->data, r.body ? r.body : "", l1);
        memcpy(st->data + l1, r.body2 ? r.body2 : "", l2 + 1);
        st->len = l1 + l2;
        st->split = r.body2 ? l1 : 0;
        st->hold = !have || r.hold;
        status = have && r.status ? r.status : 200;
        resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 1024, stream_read, st,
                                                 stream_free);
    } else {
        status = r.status ? r.status : 200;
        const char *b = r.body ? r.body : "";
        resp = MHD_create_response_from_buffer(strlen(b), (void *)b, MHD_RESPMEM_MUST_COPY);
    }
    MHD_add_response_header(resp, "Content-Type", "application/json");
    if (r.retry_after)
        MHD_add_response_header(resp, "Retry-After", r.retry_after);
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)status, resp);
    MHD_destroy_response(resp);
    free(r.retry_after);
    free(r.body);
    free(r.body2);
    return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    reqctx *rc = *con_cls;
    if (rc) {
        free(rc->body);
        free(rc);
        *con_cls = NULL;
    }
}

kfs *kfs_start(const char *cert_pem, const char *key_pem)
{
    kfs *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    pthread_mutex_init(&s->mu, NULL);
    s->next_rv = 100;
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD;
    if (cert_pem && key_pem) {
        flags |= MHD_USE_TLS;
        s->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, &sa,
                                MHD_OPTION_HTTPS_MEM_CERT, cert_pem, MHD_OPTION_HTTPS_MEM_KEY,
                                key_pem, MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
                                MHD_OPTION_END);
    } else {
        s->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, &sa,
                                MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
                                MHD_OPTION_END);
    }
    if (!s->d) {
        pthread_mutex_destroy(&s->mu);
        free(s);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : 0;
    return s;
}

int kfs_port(const kfs *s)
{
    return s->port;
}

void kfs_push(kfs *s, bool watch, const kfs_reply *r)
{
    pthread_mutex_lock(&s->mu);
    klass *k = watch ? &s->watches : &s->lists;
    if (k->tail < KFS_MAX_QUEUE) {
        queued *q = &k->q[k->tail++];
        q->status = r->status;
        q->retry_after = r->retry_after ? strdup(r->retry_after) : NULL;
        q->body = r->body ? strdup(r->body) : NULL;
        q->body2 = r->body2 ? strdup(r->body2) : NULL;
        q->hold = r->hold;
    }
    pthread_mutex_unlock(&s->mu);
}

int kfs_count(kfs *s, bool watch)
{
    pthread_mutex_lock(&s->mu);
    int n = watch ? s->watches.n_urls : s->lists.n_urls;
    pthread_mutex_unlock(&s->mu);
    return n;
}

const char *kfs_url(kfs *s, bool watch, int i, char *buf, size_t size)
{
    pthread_mutex_lock(&s->mu);
    klass *k = watch ? &s->watches : &s->lists;
    snprintf(buf, size, "%s", i >= 0 && i < k->n_urls ? k->urls[i] : "");
    pthread_mutex_unlock(&s->mu);
    return buf;
}

const char *kfs_last_auth(kfs *s, char *buf, size_t size)
{
    pthread_mutex_lock(&s->mu);
    snprintf(buf, size, "%s", s->last_auth ? s->last_auth : "");
    pthread_mutex_unlock(&s->mu);
    return buf;
}

static void klass_free(klass *k)
{
    for (int i = k->head; i < k->tail; i++) {
        free(k->q[i].retry_after);
        free(k->q[i].body);
        free(k->q[i].body2);
    }
    for (int i = 0; i < k->n_urls; i++)
        free(k->urls[i]);
}

void kfs_stop(kfs *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    s->stopping = true;
    pthread_mutex_unlock(&s->mu);
    MHD_stop_daemon(s->d);
    klass_free(&s->lists);
    klass_free(&s->watches);
    free(s->last_auth);
    for (int i = 0; i < s->n_seen; i++)
        free(s->seen[i].body);
    for (int i = 0; i < s->n_routes; i++) {
        free(s->routes[i].method);
        free(s->routes[i].path);
        free(s->routes[i].r.retry_after);
        free(s->routes[i].r.body);
    }
    for (int i = 0; i < s->n_stores; i++) {
        free(s->stores[i].prefix);
        json_decref(s->stores[i].objects);
    }
    pthread_mutex_destroy(&s->mu);
    free(s);
}

void kfs_route(kfs *s, const char *method, const char *path, const kfs_reply *r, int times)
{
    pthread_mutex_lock(&s->mu);
    if (s->n_routes < KFS_MAX_ROUTES) {
        route *rt = &s->routes[s->n_routes++];
        rt->method = strdup(method);
        rt->path = strdup(path);
        rt->r.status = r->status;
        rt->r.retry_after = r->retry_after ? strdup(r->retry_after) : NULL;
        rt->r.body = r->body ? strdup(r->body) : NULL;
        rt->times = times;
    }
    pthread_mutex_unlock(&s->mu);
}

void kfs_store(kfs *s, const char *prefix)
{
    pthread_mutex_lock(&s->mu);
    if (s->n_stores < KFS_MAX_STORES) {
        s->stores[s->n_stores].prefix = strdup(prefix);
        s->stores[s->n_stores].objects = json_object();
        s->n_stores++;
    }
    pthread_mutex_unlock(&s->mu);
}

static store *find_store(kfs *s, const char *prefix)
{
    for (int i = 0; i < s->n_stores; i++)
        if (!strcmp(s->stores[i].prefix, prefix))
            return &s->stores[i];
    return NULL;
}

char *kfs_store_get(kfs *s, const char *prefix, const char *name)
{
    pthread_mutex_lock(&s->mu);
    store *st = find_store(s, prefix);
    json_t *obj = st ? json_object_get(st->objects, name) : NULL;
    char *text = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
    pthread_mutex_unlock(&s->mu);
    return text;
}

int kfs_store_put(kfs *s, const char *prefix, const char *json)
{
    json_t *obj = json_loads(json, 0, NULL);
    const char *name =
        json_string_value(json_object_get(json_object_get(obj, "metadata"), "name"));
    pthread_mutex_lock(&s->mu);
    store *st = find_store(s, prefix);
    int rc = -1;
    if (st && name) {
        bump_rv(s, obj);
        json_object_set(st->objects, name, obj);
        rc = 0;
    }
    pthread_mutex_unlock(&s->mu);
    json_decref(obj);
    return rc;
}

int kfs_seen_count(kfs *s, const char *method, const char *path)
{
    pthread_mutex_lock(&s->mu);
    int n = 0;
    for (int i = 0; i < s->n_seen; i++)
        if ((!method || !strcmp(s->seen[i].method, method)) &&
            (!path || !strcmp(s->seen[i].path, path)))
            n++;
    pthread_mutex_unlock(&s->mu);
    return n;
}

bool kfs_seen_get(kfs *s, const char *method, const char *path, int nth, kfs_seen *out)
{
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&s->mu);
    int n = 0;
    bool found = false;
    for (int i = 0; i < s->n_seen && !found; i++) {
        if ((method && strcmp(s->seen[i].method, method) != 0) ||
            (path && strcmp(s->seen[i].path, path) != 0))
            continue;
        if (n++ == nth) {
            *out = s->seen[i];
            out->body = strdup(s->seen[i].body ? s->seen[i].body : "");
            found = true;
        }
    }
    pthread_mutex_unlock(&s->mu);
    return found;
}

void kfs_seen_free(kfs_seen *sn)
{
    free(sn->body);
    sn->body = NULL;
}

char *kfs_read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    char chunk[4096];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (len + got + 1 > cap) {
            cap = (len + got + 1) * 2;
            char *p = realloc(buf, cap);
            if (!p) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = p;
        }
        memcpy(buf + len, chunk, got);
        len += got;
    }
    fclose(f);
    if (!buf)
        buf = calloc(1, 1);
    else
        buf[len] = '\0';
    return buf;
}
