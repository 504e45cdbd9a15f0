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

#include <microhttpd.h>

#define KFS_MAX_QUEUE 64
#define KFS_MAX_REQS 256

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

struct kfs {
    struct MHD_Daemon *d;
    int port;
    pthread_mutex_t mu;
    bool stopping;
    klass lists, watches;
    char *last_auth;
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

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)version;
    (void)upload_data;
    kfs *s = cls;
    if (!*con_cls) { /* first call: headers only */
        *con_cls = s;
        return MHD_YES;
    }
    if (*upload_data_size) {
        *upload_data_size = 0;
        return MHD_YES;
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
    (void)method;
    return ret;
}

kfs *kfs_start(const char *cert_pem, const char *key_pem)
{
    kfs *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    pthread_mutex_init(&s->mu, NULL);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD;
    if (cert_pem && key_pem) {
        flags |= MHD_USE_TLS;
        s->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, &sa,
                                MHD_OPTION_HTTPS_MEM_CERT, cert_pem, MHD_OPTION_HTTPS_MEM_KEY,
                                key_pem, MHD_OPTION_END);
    } else {
        s->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, &sa,
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
    pthread_mutex_destroy(&s->mu);
    free(s);
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
