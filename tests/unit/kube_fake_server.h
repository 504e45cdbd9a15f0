/*
 * tests/unit/kube_fake_server.h - a canned Kubernetes API server for the kube
 * client tests: libmicrohttpd on 127.0.0.1 (ephemeral port), one thread per
 * connection, plain HTTP or HTTPS.
 *
 * Each GET is a list or, when its query has watch=1/true, a watch. The test
 * queues replies for each; a request takes the next reply of its class. With
 * none queued, a list gets 500 and a watch stays open, silent, until the
 * server stops. A 2xx watch reply is streamed chunked: `body`, then (after a
 * short pause, to split the stream) `body2`, then it ends or, with `hold`,
 * stays open until the server stops. Every request's path and query (decoded,
 * "path?k=v&k=v") and its Authorization header are recorded.
 */
#ifndef HOIST_TEST_KUBE_FAKE_SERVER_H
#define HOIST_TEST_KUBE_FAKE_SERVER_H

#include <stdbool.h>
#include <stddef.h>

typedef struct kfs kfs;

/* One canned reply; strings are copied by kfs_push. */
typedef struct kfs_reply {
    int status;               /* 0 = 200 */
    const char *retry_after;  /* Retry-After header value, or NULL */
    const char *body;         /* may be NULL */
    const char *body2;        /* watch only: sent after a pause, may be NULL */
    bool hold;                /* watch only: stay open after the body */
} kfs_reply;

/* Listen on 127.0.0.1:0; HTTPS when cert_pem and key_pem are given. NULL on failure. */
kfs *kfs_start(const char *cert_pem, const char *key_pem);
/* The port. */
int kfs_port(const kfs *s);
/* Queue a reply for the next list (watch false) or watch (watch true) request. */
void kfs_push(kfs *s, bool watch, const kfs_reply *r);
/* Requests of a class received so far. */
int kfs_count(kfs *s, bool watch);
/* Copy the i-th request of a class ("path?query") into buf; "" when there is none. */
const char *kfs_url(kfs *s, bool watch, int i, char *buf, size_t size);
/* Copy the Authorization header of the last request into buf ("" when absent). */
const char *kfs_last_auth(kfs *s, char *buf, size_t size);
/* Stop: end held streams, join every thread, free. */
void kfs_stop(kfs *s);

/* Read a whole file into a malloc'd NUL-terminated string (NULL on failure). */
char *kfs_read_file(const char *path);

#endif
