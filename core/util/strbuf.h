/*
 * util/strbuf.h - a growable string built by appending, without printf:
 * for keys built on hot paths (signatures, group keys). An allocation
 * failure is remembered and makes hoist_strbuf_cstr return NULL, so a
 * caller checks once at the end.
 */
#ifndef HOIST_UTIL_STRBUF_H
#define HOIST_UTIL_STRBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct hoist_strbuf {
    char *s;          /* NUL-terminated when not failed (malloc) */
    size_t len, cap;
    bool failed;      /* an append ran out of memory */
} hoist_strbuf;

/* Prepare an empty buffer (allocates nothing). */
void hoist_strbuf_init(hoist_strbuf *b);
/* Free the memory; the buffer is empty and reusable. */
void hoist_strbuf_free(hoist_strbuf *b);
/* Empty the text but keep the memory (and clear a failure). */
void hoist_strbuf_reset(hoist_strbuf *b);

void hoist_strbuf_str(hoist_strbuf *b, const char *s);   /* NULL appends nothing */
void hoist_strbuf_char(hoist_strbuf *b, char c);
void hoist_strbuf_int(hoist_strbuf *b, int64_t v);        /* decimal */
void hoist_strbuf_ptr(hoist_strbuf *b, const void *p);    /* hexadecimal */

/* The text (borrowed, valid until the next append, reset or free), or NULL
 * when an append failed. Never NULL for an empty, healthy buffer. */
const char *hoist_strbuf_cstr(hoist_strbuf *b);

#endif
