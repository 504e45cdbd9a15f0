/* util/strbuf.c - appended strings; see strbuf.h. */
#include "util/strbuf.h"

#include <stdlib.h>
#include <string.h>

void hoist_strbuf_init(hoist_strbuf *b)
{
    memset(b, 0, sizeof *b);
}

void hoist_strbuf_free(hoist_strbuf *b)
{
    free(b->s);
    hoist_strbuf_init(b);
}

void hoist_strbuf_reset(hoist_strbuf *b)
{
    b->len = 0;
    b->failed = false;
    if (b->s)
        b->s[0] = '\0';
}

/* Room for n more bytes and the NUL. */
static bool reserve(hoist_strbuf *b, size_t n)
{
    if (b->failed)
        return false;
    if (n > SIZE_MAX / 2 - b->len) {
        b->failed = true;
        return false;
    }
    if (b->len + n + 1 <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + n + 1)
        cap *= 2;
    char *s = realloc(b->s, cap);
    if (!s) {
        b->failed = true;
        return false;
    }
    b->s = s;
    b->cap = cap;
    return true;
}

static void append(hoist_strbuf *b, const char *p, size_t n)
{
    if (!reserve(b, n))
        return;
    memcpy(b->s + b->len, p, n);
    b->len += n;
    b->s[b->len] = '\0';
}

void hoist_strbuf_str(hoist_strbuf *b, const char *s)
{
    if (s)
        append(b, s, strlen(s));
}

void hoist_strbuf_char(hoist_strbuf *b, char c)
{
    append(b, &c, 1);
}

void hoist_strbuf_int(hoist_strbuf *b, int64_t v)
{
    char tmp[24];
    size_t i = sizeof tmp;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        tmp[--i] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        tmp[--i] = '-';
    append(b, tmp + i, sizeof tmp - i);
}

void hoist_strbuf_ptr(hoist_strbuf *b, const void *p)
{
    static const char hex[] = "0123456789abcdef";
    char tmp[2 * sizeof(uintptr_t)];
    uintptr_t u = (uintptr_t)p;
    size_t i = sizeof tmp;
    do {
        tmp[--i] = hex[u & 15];
        u >>= 4;
    } while (u);
    append(b, tmp + i, sizeof tmp - i);
}

const char *hoist_strbuf_cstr(hoist_strbuf *b)
{
    if (b->failed)
        return NULL;
    return b->s ? b->s : "";
}
