/*
 * util/arena.h - bump allocator for memory that dies together.
 *
 * A snapshot's decoded objects, or one decision's scratch data, come from one
 * arena and are released by one hoist_arena_free(). Allocation is a pointer
 * bump inside a block; blocks are chained. Not thread-safe.
 */
#ifndef HOIST_UTIL_ARENA_H
#define HOIST_UTIL_ARENA_H

#include <stddef.h>

typedef struct hoist_arena_block hoist_arena_block;

typedef struct hoist_arena {
    hoist_arena_block *head;  /* current block; older blocks chained behind it */
    size_t block_size;        /* default size of new blocks */
    size_t allocated;         /* bytes handed out, for reporting */
} hoist_arena;

/* Prepare an empty arena; block_size 0 means 64 KiB. Allocates nothing yet. */
void hoist_arena_init(hoist_arena *a, size_t block_size);
/* Release every block; the arena is empty and reusable afterwards. */
void hoist_arena_free(hoist_arena *a);
/* n bytes aligned to 16, uninitialised; NULL when out of memory. */
void *hoist_arena_alloc(hoist_arena *a, size_t n);
/* n zeroed bytes aligned to 16; NULL when out of memory. */
void *hoist_arena_calloc(hoist_arena *a, size_t count, size_t size);
/* Copy of s (NULL gives NULL) owned by the arena. */
char *hoist_arena_strdup(hoist_arena *a, const char *s);
/* Copy of the first n bytes of s, NUL-terminated, owned by the arena. */
char *hoist_arena_strndup(hoist_arena *a, const char *s, size_t n);
/* printf into the arena. */
char *hoist_arena_sprintf(hoist_arena *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
