/* util/error.c - error message buffer; see error.h. */
#include "util/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int hoist_errf(hoist_err *e, const char *fmt, ...)
{
    if (!e)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    return -1;
}

int hoist_err_prefix(hoist_err *e, const char *fmt, ...)
{
    if (!e)
        return -1;
    char prefix[512];
    va_list ap;
    va_start(ap, fmt);
    int plen = vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    if (plen < 0)
        return -1;
    size_t p = (size_t)plen < sizeof prefix ? (size_t)plen : sizeof prefix - 1;
    size_t cap = sizeof e->msg - 1;
    size_t old = strnlen(e->msg, cap);
    size_t sep = old ? 2 : 0;
    if (p + sep > cap)
        p = cap - sep;
    size_t keep = old < cap - p - sep ? old : cap - p - sep;
    memmove(e->msg + p + sep, e->msg, keep);
    memcpy(e->msg, prefix, p);
    if (sep)
        memcpy(e->msg + p, ": ", 2);
    e->msg[p + sep + keep] = '\0';
    return -1;
}

void hoist_err_clear(hoist_err *e)
{
    if (e)
        e->msg[0] = '\0';
}
