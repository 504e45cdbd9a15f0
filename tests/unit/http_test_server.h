/*
 * tests/unit/http_test_server.h - a tiny canned HTTP/1.1 server on 127.0.0.1
 * (ephemeral port) for the HTTP client tests, on the test's libuv loop.
 *
 * Paths:  /hello    200, header "X-Test: yes", body "hello world"
 *         /echo     200, body "<METHOD> <request body>", header
 *                   "X-Echo-Custom: <value of the request's X-Custom header>"
 *         /hang     never answers (the connection stays open)
 *         anything else: 404, body "not found"
 * Every answer carries "Connection: close".
 */
#ifndef HOIST_TEST_HTTP_SERVER_H
#define HOIST_TEST_HTTP_SERVER_H

#include <uv.h>

typedef struct test_server test_server;

/* Called for every complete request the server parses, before answering. */
typedef void (*test_server_hook)(void *arg, const char *method, const char *path);

/* Listen on 127.0.0.1:0; NULL on failure. */
test_server *test_server_start(uv_loop_t *loop);
/* The port it listens on. */
int test_server_port(const test_server *s);
/* Complete requests parsed so far. */
int test_server_requests(const test_server *s);
/* Install a hook (NULL removes it). */
void test_server_set_hook(test_server *s, test_server_hook hook, void *arg);
/* Close the listener and every connection; freed after the loop runs the close callbacks. */
void test_server_stop(test_server *s);
/* A port on 127.0.0.1 that nothing listens on (bound, then closed); -1 on failure. */
int test_closed_port(uv_loop_t *loop);

#endif
