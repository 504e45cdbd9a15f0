/*
 * pipeline/unavailable.h - the insufficient-capacity cache: offerings
 * (instance type, zone, capacity type) a launch found without capacity stay
 * unavailable for a while, so the next launches skip them instead of asking
 * the cloud again. Karpenter keeps such offerings for 3 minutes; so does
 * hoist by default (HOIST_UNAVAILABLE_TTL_MS).
 *
 * No clock is read here: every call that needs the time takes it (`now_ms`,
 * the host's now_ms(): wall clock in the daemon, virtual in the simulator).
 * An entry is unavailable while now_ms < its expiry. Expired entries are
 * ignored by lookups and dropped by hoist_unavailable_prune().
 *
 * Keys are copied (malloc'd) and freed by the cache. Not thread-safe: use it
 * from the core's loop thread.
 */
#ifndef HOIST_PIPELINE_UNAVAILABLE_H
#define HOIST_PIPELINE_UNAVAILABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hoist/types.h>

#include "util/strmap.h"

/* Default time an offering stays unavailable after insufficient capacity (3 min). */
#define HOIST_UNAVAILABLE_TTL_MS 180000u

/* One cached offering. */
typedef struct hoist_unavailable_entry {
    char *key;           /* "type\x1fzone\x1fcapacity", malloc'd, owned by the cache */
    uint64_t until_ms;   /* unavailable while now_ms < until_ms */
} hoist_unavailable_entry;

typedef struct hoist_unavailable {
    hoist_strmap index;                /* key -> position in entries (keys borrowed from entries) */
    size_t n, cap;
    hoist_unavailable_entry *entries;
} hoist_unavailable;

/* Prepare an empty cache (allocates nothing). */
void hoist_unavailable_init(hoist_unavailable *u);
/* Free every entry and key; the cache is empty and reusable afterwards. */
void hoist_unavailable_free(hoist_unavailable *u);
/* Mark (type, zone, ct) unavailable until now_ms + ttl_ms (a later mark of the
 * same offering replaces the expiry). Strings are borrowed and copied.
 * Returns 0, or -1 when out of memory or type/zone is NULL. */
int hoist_unavailable_mark(hoist_unavailable *u, const char *type, const char *zone,
                           hoist_capacity_type ct, uint64_t now_ms, uint64_t ttl_ms);
/* True when (type, zone, ct) was marked and has not expired at now_ms. */
bool hoist_unavailable_is_unavailable(const hoist_unavailable *u, const char *type,
                                      const char *zone, hoist_capacity_type ct, uint64_t now_ms);
/* Expiry of (type, zone, ct), or 0 when it was never marked (expired or not). */
uint64_t hoist_unavailable_until(const hoist_unavailable *u, const char *type, const char *zone,
                                 hoist_capacity_type ct);
/* Drop the entries expired at now_ms; returns how many were dropped. Returns 0
 * without change when out of memory (the entries stay, still ignored once expired). */
size_t hoist_unavailable_prune(hoist_unavailable *u, uint64_t now_ms);
/* Number of offerings unavailable at now_ms (expired entries not counted). */
size_t hoist_unavailable_count(const hoist_unavailable *u, uint64_t now_ms);

#endif
