/*
 * pipeline/batch.h - the batch stage: collect pending pods into one batch
 * until the window closes, then hand the batch to the next stage (pack).
 *
 * The window (Karpenter's batching semantics, BATCH_IDLE_DURATION and
 * BATCH_MAX_DURATION):
 *   - it opens when the first pod joins an empty batch (first_ms);
 *   - every NEW pod restarts the idle timer (last_new_ms);
 *   - it closes when no new pod arrived for idle_ms (default 1 s), or when
 *     max_ms (default 10 s) has passed since it opened, or at once when it
 *     holds max_pods pods (default 0 = no cap), or at once when the
 *     close_now hook says so.
 * Pods arriving faster than idle_ms keep extending the window up to max_ms;
 * pods arriving slower are batched separately.
 *
 * Time. Nothing here reads a clock: every call that needs the time takes
 * now_ms from the caller (the daemon's monotonic clock or the simulator's
 * virtual clock), so the stage is deterministic. Times are milliseconds on
 * one caller-chosen monotonic scale; a now_ms earlier than a recorded time
 * counts as "no time has passed".
 *
 * Duplicates. A pod already in the batch is not counted twice and does NOT
 * restart the idle timer, whatever changed about it: only a new pending pod
 * does (as in Karpenter, where a re-seen pod does not extend the window).
 * Re-adding it only updates its priority. A pod removed and later added
 * again is new.
 *
 * Use by the driver (daemon or simulator):
 *     hoist_batch_add(...) for each pending pod seen, hoist_batch_remove(...)
 *     for a pod bound or deleted; then hoist_batch_poll(b, now, &wake);
 *     on HOIST_BATCH_OPEN sleep until wake (or the next event) and poll
 *     again; on any CLOSE reason hoist_batch_take() and pass the keys on.
 * Poll after every add: max_pods and the hook close "at once" only when
 * polled.
 *
 * Closing is sticky: once hoist_batch_poll() returned a CLOSE reason, every
 * later poll returns that reason until hoist_batch_take() (or until removals
 * empty the batch). That is why poll takes a non-const batch; it also calls
 * the hook and counts its failures. Pods added to a closed batch before the
 * take still join it (the cap is a trigger, not a hard limit).
 *
 * Membership is a hash index (util/strmap.h): add, remove and duplicate
 * checks are O(1) (amortised); keys keep arrival order. Not thread-safe.
 */
#ifndef HOIST_PIPELINE_BATCH_H
#define HOIST_PIPELINE_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/strmap.h"

#define HOIST_BATCH_IDLE_MS_DEFAULT 1000
#define HOIST_BATCH_MAX_MS_DEFAULT 10000
#define HOIST_BATCH_NEVER UINT64_MAX /* wake_at_ms of an empty batch: wait for a pod */

/* What a poll decided: open, or closed and why. */
typedef enum hoist_batch_state {
    HOIST_BATCH_OPEN = 0,        /* keep collecting; poll again at *wake_at_ms */
    HOIST_BATCH_CLOSE_IDLE,      /* no new pod for idle_ms */
    HOIST_BATCH_CLOSE_MAX_AGE,   /* max_ms since the window opened */
    HOIST_BATCH_CLOSE_MAX_PODS,  /* max_pods pods in the batch */
    HOIST_BATCH_CLOSE_HOOK,      /* the close_now hook said so */
} hoist_batch_state;

/* What the close_now hook sees of an open, non-empty batch. */
typedef struct hoist_batch_view {
    size_t n_pods;              /* pods in the batch */
    uint64_t age_ms;            /* now - when the window opened */
    uint64_t idle_ms;           /* now - when the last new pod joined */
    int32_t max_priority;       /* highest pod priority in the batch */
    const char *const *keys;    /* n_pods "namespace/name" keys in arrival order; borrowed,
                                 * valid only during the call */
} hoist_batch_view;

/* A hook deciding to close the batch early: 0 with *close set, or -1 on
 * failure (then the default rules alone decide). */
typedef int (*hoist_batch_close_fn)(void *ctx, const hoist_batch_view *view, bool *close);

typedef struct hoist_batch_config {
    uint64_t idle_ms;               /* close after this long without a new pod (0 = at first poll) */
    uint64_t max_ms;                /* close this long after the window opened */
    size_t max_pods;                /* close once this many pods are in; 0 = no cap */
    hoist_batch_close_fn close_now; /* optional hook, NULL = none */
    void *hook_ctx;                 /* passed to close_now */
} hoist_batch_config;

typedef struct hoist_batch {
    hoist_batch_config cfg;
    char **keys;              /* owned copies, arrival order; removed ones stay until compacted */
    int32_t *priorities;      /* per slot */
    bool *live;               /* per slot: false once removed */
    size_t n_slots, cap;      /* slots used (live + removed) and allocated */
    size_t n_pods;            /* live pods */
    hoist_strmap index;       /* key -> slot (possibly a removed one); borrows keys[] */
    uint64_t first_ms;        /* when the window opened (valid when n_pods > 0) */
    uint64_t last_new_ms;     /* when the last new pod joined */
    int32_t max_priority;     /* valid unless max_stale */
    bool max_stale;           /* a removal or update may have lowered it */
    hoist_batch_state closed; /* sticky close reason, HOIST_BATCH_OPEN while open */
    uint64_t hook_calls;      /* close_now calls made */
    uint64_t hook_errors;     /* close_now calls that returned -1 */
} hoist_batch;

/* The defaults: idle 1 s, max 10 s, no pod cap, no hook. */
hoist_batch_config hoist_batch_config_default(void);
/* Prepare an empty batch with cfg (copied; NULL = defaults). Allocates nothing. */
void hoist_batch_init(hoist_batch *b, const hoist_batch_config *cfg);
/* Free the keys and the index; the batch is empty (and reusable) afterwards. */
void hoist_batch_free(hoist_batch *b);

/* A pending pod "namespace/name" (copied) with its priority was seen at now_ms.
 * 1 when it joined the batch (opening the window if empty, restarting the
 * idle timer), 0 when it was already in (only its priority is updated), -1
 * when pod_key is NULL or empty or memory ran out (the batch is unchanged). */
int hoist_batch_add(hoist_batch *b, const char *pod_key, int32_t priority, uint64_t now_ms);
/* The pod was bound or deleted before the batch closed: drop it. True when
 * it was in the batch. A batch emptied this way resets: its window and any
 * close decision are gone, and the next add opens a new window. */
bool hoist_batch_remove(hoist_batch *b, const char *pod_key);
/* True when pod_key is in the batch. */
bool hoist_batch_contains(const hoist_batch *b, const char *pod_key);
/* Pods in the batch. */
size_t hoist_batch_size(const hoist_batch *b);

/* Decide at now_ms. Order: a sticky close, then max_pods, max age, idle,
 * then the hook (only for an open, non-empty batch; a failing hook counts in
 * hook_errors and leaves the default rules' answer). On OPEN, *wake_at_ms
 * (may be NULL) is when the default rules will close the batch
 * (min(last_new + idle, first + max)), or HOIST_BATCH_NEVER when empty; on
 * a close it is now_ms. */
hoist_batch_state hoist_batch_poll(hoist_batch *b, uint64_t now_ms, uint64_t *wake_at_ms);
/* Hand over the pods' keys in arrival order and reset the batch to empty.
 * Returns the count; *keys is a malloc'd array of malloc'd strings the
 * caller owns (free with hoist_batch_keys_free), NULL when the count is 0. */
size_t hoist_batch_take(hoist_batch *b, char ***keys);
/* Free n keys returned by hoist_batch_take and the array; NULL is fine. */
void hoist_batch_keys_free(char **keys, size_t n);

/* "open", "idle", "max-age", "max-pods" or "hook". */
const char *hoist_batch_state_name(hoist_batch_state s);

#endif
