/*
 * pipeline/unavailable.c - the insufficient-capacity cache (see unavailable.h).
 */
#include "pipeline/unavailable.h"

#include <stdlib.h>
#include <string.h>

#define KEY_SEP '\x1f' /* never part of an instance type or zone name */

/* Write the key of (type, zone, ct) into buf (size n) or, when it does not
 * fit, into a malloc'd buffer stored in *heap. NULL when out of memory. */
static char *make_key(char *buf, size_t n, char **heap, const char *type, const char *zone,
                      hoist_capacity_type ct)
{
    size_t lt = strlen(type), lz = strlen(zone);
    size_t need = lt + 1 + lz + 1 + 1 + 1;
    char *k = buf;
    *heap = NULL;
    if (need > n) {
        k = *heap = malloc(need);
        if (!k)
            return NULL;
    }
    memcpy(k, type, lt);
    k[lt] = KEY_SEP;
    memcpy(k + lt + 1, zone, lz);
    k[lt + 1 + lz] = KEY_SEP;
    k[lt + 1 + lz + 1] = (char)('0' + (int)ct);
    k[lt + 1 + lz + 2] = '\0';
    return k;
}

void hoist_unavailable_init(hoist_unavailable *u)
{
    hoist_strmap_init(&u->index);
    u->n = u->cap = 0;
    u->entries = NULL;
}

void hoist_unavailable_free(hoist_unavailable *u)
{
    for (size_t i = 0; i < u->n; i++)
        free(u->entries[i].key);
    free(u->entries);
    hoist_strmap_free(&u->index);
    hoist_unavailable_init(u);
}

static long find(const hoist_unavailable *u, const char *type, const char *zone,
                 hoist_capacity_type ct)
{
    if (!type || !zone || u->n == 0)
        return -1;
    char buf[256], *heap;
    const char *k = make_key(buf, sizeof buf, &heap, type, zone, ct);
    int64_t pos = -1;
    if (!k || !hoist_strmap_get(&u->index, k, &pos))
        pos = -1;
    free(heap);
    return (long)pos;
}

int hoist_unavailable_mark(hoist_unavailable *u, const char *type, const char *zone,
                           hoist_capacity_type ct, uint64_t now_ms, uint64_t ttl_ms)
{
    if (!type || !zone)
        return -1;
    uint64_t until = ttl_ms > UINT64_MAX - now_ms ? UINT64_MAX : now_ms + ttl_ms;
    long pos = find(u, type, zone, ct);
    if (pos >= 0) {
        u->entries[pos].until_ms = until;
        return 0;
    }
    if (u->n == u->cap) {
        size_t cap = u->cap ? u->cap * 2 : 16;
        hoist_unavailable_entry *e = realloc(u->entries, cap * sizeof *e);
        if (!e)
            return -1;
        u->entries = e;
        u->cap = cap;
    }
    char buf[1], *key;
    if (!make_key(buf, 0, &key, type, zone, ct))
        return -1;
    if (hoist_strmap_put(&u->index, key, (int64_t)u->n) != 0) {
        free(key);
        return -1;
    }
    u->entries[u->n].key = key;
    u->entries[u->n].until_ms = until;
    u->n++;
    return 0;
}

bool hoist_unavailable_is_unavailable(const hoist_unavailable *u, const char *type,
                                      const char *zone, hoist_capacity_type ct, uint64_t now_ms)
{
    long pos = find(u, type, zone, ct);
    return pos >= 0 && now_ms < u->entries[pos].until_ms;
}

uint64_t hoist_unavailable_until(const hoist_unavailable *u, const char *type, const char *zone,
                                 hoist_capacity_type ct)
{
    long pos = find(u, type, zone, ct);
    return pos >= 0 ? u->entries[pos].until_ms : 0;
}

size_t hoist_unavailable_prune(hoist_unavailable *u, uint64_t now_ms)
{
    /* Build the new index first, so running out of memory changes nothing. */
    hoist_strmap next;
    hoist_strmap_init(&next);
    size_t kept = 0;
    for (size_t i = 0; i < u->n; i++) {
        if (now_ms >= u->entries[i].until_ms)
            continue;
        if (hoist_strmap_put(&next, u->entries[i].key, (int64_t)kept) != 0) {
            hoist_strmap_free(&next);
            return 0;
        }
        kept++;
    }
    size_t j = 0;
    for (size_t i = 0; i < u->n; i++) {
        if (now_ms >= u->entries[i].until_ms)
            free(u->entries[i].key);
        else
            u->entries[j++] = u->entries[i];
    }
    size_t dropped = u->n - j;
    u->n = j;
    hoist_strmap_free(&u->index);
    u->index = next;
    return dropped;
}

size_t hoist_unavailable_count(const hoist_unavailable *u, uint64_t now_ms)
{
    size_t n = 0;
    for (size_t i = 0; i < u->n; i++)
        n += now_ms < u->entries[i].until_ms;
    return n;
}
