/* util/arena.c - bump allocator; see arena.h. */
#include "util/arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_ALIGN 16
#define ARENA_DEFAULT_BLOCK (64 * 1024)

struct hoist_arena_block {
    hoist_arena_block *next;
    size_t size; /* usable bytes in data */
    size_t used;
    _Alignas(16) unsigned char data[];
};

void hoist_arena_init(hoist_arena *a, size_t block_size)
{
    a->head = NULL;
    a->block_size = block_size ? block_size : ARENA_DEFAULT_BLOCK;
    a->allocated = 0;
}

void hoist_arena_free(hoist_arena *a)
{
    hoist_arena_block *b = a->head;
    while (b) {
        hoist_arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
    a->allocated = 0;
}

void *hoist_arena_alloc(hoist_arena *a, size_t n)
{
    if (n == 0)
        n = 1;
    if (n > SIZE_MAX - ARENA_ALIGN)
        return NULL;
    size_t need = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    hoist_arena_block *b = a->head;
    if (!b || b->size - b->used < need) {
        size_t size = need > a->block_size / 4 ? need : a->block_size;
        if (size > SIZE_MAX - sizeof *b)
            return NULL;
        hoist_arena_block *nb = malloc(sizeof *nb + size);
        if (!nb)
            return NULL;
        nb->size = size;
        nb->used = 0;
        if (b && size == need) {
            /* A large one-off allocation: chain it behind the current block
             * so the current block's free space stays usable. */
            nb->next = b->next;
            b->next = nb;
        } else {
            nb->next = b;
            a->head = nb;
        }
        b = nb;
    }
    void *p = b->data + b->used;
    b->used += need;
    a->allocated += need;
    return p;
}

void *hoist_arena_calloc(hoist_arena *a, size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size)
        return NULL;
    void *p = hoist_arena_alloc(a, count * size);
    if (p)
        memset(p, 0, count * size);
    return p;
}

char *hoist_arena_strndup(hoist_arena *a, const char *s, size_t n)
{
    if (!s)
        return NULL;
    char *p = hoist_arena_alloc(a, n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

char *hoist_arena_strdup(hoist_arena *a, const char *s)
{
    return s ? hoist_arena_strndup(a, s, strlen(s)) : NULL;
}

char *hoist_arena_sprintf(hoist_arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    char *p = hoist_arena_alloc(a, (size_t)n + 1);
    if (!p)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}
