/* util/strmap.c - string -> integer hash map; see strmap.h. */
#include "util/strmap.h"

#include <stdlib.h>
#include <string.h>

uint64_t hoist_hash_bytes(const void *p, size_t n)
{
    const unsigned char *s = p;
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 1099511628211ull;
    }
    return h;
}

uint64_t hoist_hash_str(const char *str, size_t *len)
{
    size_t n = strlen(str);
    if (len)
        *len = n;
    /* eight bytes a step (FNV-1a takes one), then a full avalanche, since
     * the maps index by the low bits */
    const unsigned char *s = (const unsigned char *)str;
    uint64_t h = 0x9E3779B97F4A7C15ull ^ (uint64_t)n, w;
    for (; n >= 8; s += 8, n -= 8) {
        memcpy(&w, s, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdull;
        h ^= h >> 32;
    }
    w = 0;
    memcpy(&w, s, n);
    h = (h ^ w) * 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}

void hoist_strmap_init(hoist_strmap *m)
{
    m->n = 0;
    m->cap = 0;
    m->slots = NULL;
}

void hoist_strmap_free(hoist_strmap *m)
{
    free(m->slots);
    hoist_strmap_init(m);
}

void hoist_strmap_clear(hoist_strmap *m)
{
    if (m->cap)
        memset(m->slots, 0, m->cap * sizeof *m->slots);
    m->n = 0;
}

/* Slot holding key, or the empty slot where it would go. */
static hoist_strmap_slot *find_slot(const hoist_strmap *m, const char *key, uint64_t h)
{
    size_t mask = m->cap - 1;
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        hoist_strmap_slot *s = &m->slots[i];
        if (!s->key || (s->hash == h && strcmp(s->key, key) == 0))
            return s;
    }
}

bool hoist_strmap_get(const hoist_strmap *m, const char *key, int64_t *value)
{
    if (m->cap == 0)
        return false;
    const hoist_strmap_slot *s = find_slot(m, key, hoist_hash_str(key, NULL));
    if (!s->key)
        return false;
    if (value)
        *value = s->value;
    return true;
}

static int grow(hoist_strmap *m)
{
    size_t cap = m->cap ? m->cap * 2 : 16;
    hoist_strmap_slot *old = m->slots;
    size_t old_cap = m->cap;
    m->slots = calloc(cap, sizeof *m->slots);
    if (!m->slots) {
        m->slots = old;
        return -1;
    }
    m->cap = cap;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i].key)
            *find_slot(m, old[i].key, old[i].hash) = old[i];
    free(old);
    return 0;
}

int hoist_strmap_put(hoist_strmap *m, const char *key, int64_t value)
{
    if ((m->n + 1) * 4 > m->cap * 3 && grow(m) < 0)
        return -1;
    uint64_t h = hoist_hash_str(key, NULL);
    hoist_strmap_slot *s = find_slot(m, key, h);
    if (!s->key) {
        s->key = key;
        s->hash = h;
        m->n++;
    }
    s->value = value;
    return 0;
}

bool hoist_strmap_del(hoist_strmap *m, const char *key)
{
    if (m->cap == 0)
        return false;
    hoist_strmap_slot *s = find_slot(m, key, hoist_hash_str(key, NULL));
    if (!s->key)
        return false;
    /* backward-shift deletion: move later keys of the same run into the hole
     * unless their home slot lies cyclically in (hole, j] */
    size_t mask = m->cap - 1, i = (size_t)(s - m->slots);
    for (size_t j = (i + 1) & mask; m->slots[j].key; j = (j + 1) & mask) {
        size_t home = (size_t)m->slots[j].hash & mask;
        bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!stays) {
            m->slots[i] = m->slots[j];
            i = j;
        }
    }
    memset(&m->slots[i], 0, sizeof m->slots[i]);
    m->n--;
    return true;
}
