/*
 * util/strmap.h - a hash map from strings to integers (open addressing,
 * linear probing). Keys are borrowed: they must outlive the map (keep them
 * in an arena). Used to intern names into dense ids.
 */
#ifndef HOIST_UTIL_STRMAP_H
#define HOIST_UTIL_STRMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct hoist_strmap_slot {
    const char *key;   /* NULL = empty */
    uint64_t hash;
    int64_t value;
} hoist_strmap_slot;

typedef struct hoist_strmap {
    size_t n;          /* keys stored */
    size_t cap;        /* slots; a power of two, or 0 */
    hoist_strmap_slot *slots;
} hoist_strmap;

/* FNV-1a 64 of n bytes. */
uint64_t hoist_hash_bytes(const void *p, size_t n);
/* A fast hash of a string's bytes (not hoist_hash_bytes' value: nothing
 * may keep it beyond the process); *len (when not NULL) gets strlen(s).
 * The maps here and the cluster store's index use it. */
uint64_t hoist_hash_str(const char *s, size_t *len);

/* Prepare an empty map (allocates nothing). */
void hoist_strmap_init(hoist_strmap *m);
/* Free the slots (not the keys). */
void hoist_strmap_free(hoist_strmap *m);
/* Forget every key but keep the slots: refilling up to the old count
 * cannot fail afterwards. */
void hoist_strmap_clear(hoist_strmap *m);
/* Look up key: true and *value when present. */
bool hoist_strmap_get(const hoist_strmap *m, const char *key, int64_t *value);
/* Insert or replace key -> value. Returns 0, or -1 when out of memory. */
int hoist_strmap_put(hoist_strmap *m, const char *key, int64_t value);
/* Remove key; true when it was there. The other keys stay where get finds them. */
bool hoist_strmap_del(hoist_strmap *m, const char *key);

#endif
