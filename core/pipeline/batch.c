/* pipeline/batch.c - the batch stage's window; see batch.h. */
#include "pipeline/batch.h"

#include <stdlib.h>
#include <string.h>

hoist_batch_config hoist_batch_config_default(void)
{
    hoist_batch_config c = {HOIST_BATCH_IDLE_MS_DEFAULT, HOIST_BATCH_MAX_MS_DEFAULT, 0, NULL, NULL};
    return c;
}

/* Back to empty, keeping the configuration and the hook counters. */
static void reset(hoist_batch *b)
{
    for (size_t i = 0; i < b->n_slots; i++)
        free(b->keys[i]);
    free(b->keys);
    free(b->priorities);
    free(b->live);
    hoist_strmap_free(&b->index);
    b->keys = NULL;
    b->priorities = NULL;
    b->live = NULL;
    b->n_slots = b->cap = b->n_pods = 0;
    b->first_ms = b->last_new_ms = 0;
    b->max_priority = INT32_MIN;
    b->max_stale = false;
    b->closed = HOIST_BATCH_OPEN;
}

void hoist_batch_init(hoist_batch *b, const hoist_batch_config *cfg)
{
    memset(b, 0, sizeof *b);
    b->cfg = cfg ? *cfg : hoist_batch_config_default();
    hoist_strmap_init(&b->index);
    b->max_priority = INT32_MIN;
}

void hoist_batch_free(hoist_batch *b)
{
    reset(b);
}

/* Drop removed slots: move live ones down in order, free the removed keys
 * and re-index. The index is cleared and refilled in place with fewer keys
 * than it held, so this never allocates (and cannot fail). */
static void compact(hoist_batch *b)
{
    if (b->n_slots == b->n_pods)
        return;
    hoist_strmap_clear(&b->index);
    size_t k = 0;
    for (size_t i = 0; i < b->n_slots; i++) {
        if (!b->live[i]) {
            free(b->keys[i]);
            continue;
        }
        b->keys[k] = b->keys[i];
        b->priorities[k] = b->priorities[i];
        b->live[k] = true;
        /* cannot fail: fewer keys than the table held before */
        (void)hoist_strmap_put(&b->index, b->keys[k], (int64_t)k);
        k++;
    }
    b->n_slots = k;
}

/* Room for one more slot; -1 when out of memory (nothing changed that matters). */
static int reserve(hoist_batch *b)
{
    if (b->n_slots < b->cap)
        return 0;
    size_t cap = b->cap ? b->cap * 2 : 16;
    char **keys = realloc(b->keys, cap * sizeof *keys);
    if (!keys)
        return -1;
    b->keys = keys;
    int32_t *prio = realloc(b->priorities, cap * sizeof *prio);
    if (!prio)
        return -1;
    b->priorities = prio;
    bool *live = realloc(b->live, cap * sizeof *live);
    if (!live)
        return -1;
    b->live = live;
    b->cap = cap;
    return 0;
}

int hoist_batch_add(hoist_batch *b, const char *pod_key, int32_t priority, uint64_t now_ms)
{
    if (!pod_key || !*pod_key)
        return -1;
    int64_t slot;
    if (hoist_strmap_get(&b->index, pod_key, &slot) && slot >= 0 && b->live[slot]) {
        if (priority > b->max_priority)
            b->max_priority = priority;
        else if (b->priorities[slot] == b->max_priority && priority < b->max_priority)
            b->max_stale = true;
        b->priorities[slot] = priority;
        return 0;
    }
    if (reserve(b) < 0)
        return -1;
    char *key = strdup(pod_key);
    if (!key)
        return -1;
    size_t i = b->n_slots;
    /* a key removed earlier is still indexed (-> its dead slot); put replaces the value */
    if (hoist_strmap_put(&b->index, key, (int64_t)i) < 0) {
        free(key);
        return -1;
    }
    b->keys[i] = key;
    b->priorities[i] = priority;
    b->live[i] = true;
    b->n_slots++;
    if (b->n_pods++ == 0)
        b->first_ms = now_ms;
    b->last_new_ms = now_ms;
    if (priority > b->max_priority)
        b->max_priority = priority;
    return 1;
}

bool hoist_batch_remove(hoist_batch *b, const char *pod_key)
{
    int64_t slot;
    if (!pod_key || !hoist_strmap_get(&b->index, pod_key, &slot) || slot < 0 || !b->live[slot])
        return false;
    b->live[slot] = false;
    if (b->priorities[slot] == b->max_priority)
        b->max_stale = true;
    /* the index keeps pointing at the dead slot (and its key string) until
     * compact() or a re-add replaces it; live[] is what counts */
    if (--b->n_pods == 0) {
        reset(b);
        return true;
    }
    if (b->n_slots - b->n_pods > 32 && b->n_slots - b->n_pods > b->n_pods)
        compact(b);
    return true;
}

bool hoist_batch_contains(const hoist_batch *b, const char *pod_key)
{
    int64_t slot;
    return pod_key && hoist_strmap_get(&b->index, pod_key, &slot) && slot >= 0 && b->live[slot];
}

size_t hoist_batch_size(const hoist_batch *b)
{
    return b->n_pods;
}

static uint64_t since(uint64_t now, uint64_t then)
{
    return now > then ? now - then : 0;
}

static uint64_t add_sat(uint64_t a, uint64_t d)
{
    return a > UINT64_MAX - d ? UINT64_MAX : a + d;
}

/* The highest live priority, recomputed after a removal or lowering. */
static int32_t max_priority(hoist_batch *b)
{
    if (b->max_stale) {
        int32_t m = INT32_MIN;
        for (size_t i = 0; i < b->n_slots; i++)
            if (b->live[i] && b->priorities[i] > m)
                m = b->priorities[i];
        b->max_priority = m;
        b->max_stale = false;
    }
    return b->max_priority;
}

hoist_batch_state hoist_batch_poll(hoist_batch *b, uint64_t now_ms, uint64_t *wake_at_ms)
{
    uint64_t wake_dummy;
    if (!wake_at_ms)
        wake_at_ms = &wake_dummy;
    if (b->n_pods == 0) {
        *wake_at_ms = HOIST_BATCH_NEVER;
        return HOIST_BATCH_OPEN;
    }
    *wake_at_ms = now_ms;
    if (b->closed != HOIST_BATCH_OPEN)
        return b->closed;
    uint64_t age = since(now_ms, b->first_ms), idle = since(now_ms, b->last_new_ms);
    if (b->cfg.max_pods && b->n_pods >= b->cfg.max_pods)
        return b->closed = HOIST_BATCH_CLOSE_MAX_PODS;
    if (age >= b->cfg.max_ms)
        return b->closed = HOIST_BATCH_CLOSE_MAX_AGE;
    if (idle >= b->cfg.idle_ms)
        return b->closed = HOIST_BATCH_CLOSE_IDLE;
    if (b->cfg.close_now) {
        compact(b);
        hoist_batch_view v = {b->n_pods, age, idle, max_priority(b), (const char *const *)b->keys};
        bool close = false;
        b->hook_calls++;
        if (b->cfg.close_now(b->cfg.hook_ctx, &v, &close) < 0)
            b->hook_errors++;
        else if (close)
            return b->closed = HOIST_BATCH_CLOSE_HOOK;
    }
    uint64_t by_idle = add_sat(b->last_new_ms, b->cfg.idle_ms);
    uint64_t by_age = add_sat(b->first_ms, b->cfg.max_ms);
    *wake_at_ms = by_idle < by_age ? by_idle : by_age;
    return HOIST_BATCH_OPEN;
}

size_t hoist_batch_take(hoist_batch *b, char ***keys)
{
    compact(b);
    size_t n = b->n_pods;
    *keys = n ? b->keys : NULL;
    if (n) {
        b->keys = NULL; /* handed over: reset() must not free them */
        b->n_slots = 0;
    }
    reset(b);
    return n;
}

void hoist_batch_keys_free(char **keys, size_t n)
{
    if (!keys)
        return;
    for (size_t i = 0; i < n; i++)
        free(keys[i]);
    free(keys);
}

const char *hoist_batch_state_name(hoist_batch_state s)
{
    switch (s) {
    case HOIST_BATCH_OPEN: return "open";
    case HOIST_BATCH_CLOSE_IDLE: return "idle";
    case HOIST_BATCH_CLOSE_MAX_AGE: return "max-age";
    case HOIST_BATCH_CLOSE_MAX_PODS: return "max-pods";
    case HOIST_BATCH_CLOSE_HOOK: return "hook";
    }
    return "unknown";
}
