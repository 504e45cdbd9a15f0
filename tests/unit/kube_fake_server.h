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
 *
 * For the write tests, before the queues above are consulted:
 *   - routes: a scripted reply for one method and exact path (no query),
 *     used a given number of times, in the order they were added;
 *   - stores: a collection path (e.g. ".../namespaces/ns/leases") holding
 *     objects: GET/DELETE prefix/NAME, POST prefix (409 AlreadyExists when
 *     taken), PUT prefix/NAME (409 Conflict when metadata.resourceVersion is
 *     given and is not the stored one). Every write gets a fresh
 *     resourceVersion, counting up from "100".
 * Every request (any method) is also recorded with its path, Content-Type
 * and body (kfs_seen_*).
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
/* One received request. */
typedef struct kfs_seen {
    char method[16];
    char path[1024];          /* without the query */
    char content_type[128];   /* "" when absent */
    char *body;               /* "" when none; owned by the copy kfs_seen_get made */
} kfs_seen;

/* Answer `method path` with r, `times` times (-1 = always); r's strings are copied. */
void kfs_route(kfs *s, const char *method, const char *path, const kfs_reply *r, int times);
/* Serve the collection at `prefix` from an object store. */
void kfs_store(kfs *s, const char *prefix);
/* The stored object `name` under `prefix` as JSON text (malloc'd), or NULL. */
char *kfs_store_get(kfs *s, const char *prefix, const char *name);
/* Put an object (JSON text with metadata.name) into the store under
 * `prefix`, as another client would; it gets a fresh resourceVersion. 0 or -1. */
int kfs_store_put(kfs *s, const char *prefix, const char *json);
/* Requests received with this method and path (either NULL = any). */
int kfs_seen_count(kfs *s, const char *method, const char *path);
/* Copy the nth (from 0) such request into out (free with kfs_seen_free). */
bool kfs_seen_get(kfs *s, const char *method, const char *path, int nth, kfs_seen *out);
/* Free the body of a copy. */
void kfs_seen_free(kfs_seen *sn);

/* Stop: end held streams, join every thread, free. */
void kfs_stop(kfs *s);

/* Read a whole file into a malloc'd NUL-terminated string (NULL on failure). */
char *kfs_read_file(const char *path);

#endif
