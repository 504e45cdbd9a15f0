/*
 * util/error.h - an error message buffer passed down by the caller.
 *
 * Functions that can fail on bad input take a `hoist_err *` and return -1
 * after writing what went wrong into it; callers prepend context (file,
 * object, field) with hoist_err_prefix(), so the final message reads
 *   "pods.yaml: Pod default/web: spec.containers[0].resources.requests.cpu:
 *    invalid quantity \"12x\": unknown suffix \"x\""
 * A NULL `hoist_err *` is allowed and discards the message.
 */
#ifndef HOIST_UTIL_ERROR_H
#define HOIST_UTIL_ERROR_H

#include <stddef.h>

typedef struct hoist_err {
    char msg[1024];
} hoist_err;

/* Set the message (printf-style). Always returns -1, so `return hoist_errf(...)`. */
int hoist_errf(hoist_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prepend "prefix: " (printf-style) to the message. Always returns -1. */
int hoist_err_prefix(hoist_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Clear the message. */
void hoist_err_clear(hoist_err *e);

#endif
