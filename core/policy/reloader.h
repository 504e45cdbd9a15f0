/*
 * policy/reloader.h - reload a policy without a restart: on SIGHUP, and when
 * its file changes (checked every poll_ms by stat(): device, inode, size and
 * modification time, so an editor's write-and-rename is noticed too; cheaper
 * and sturdier than an inotify watch that dies with the old inode).
 *
 * A reload loads the file into a fresh Lua state and swaps it into *slot
 * only if it loads (hoist_policy_reload); otherwise the policy in force stays
 * and the reason is logged, kept in last_error and counted. After every
 * attempt the callback runs, so the owner (the pipeline) can attach the new
 * policy to its stages.
 *
 * Driven by the caller's libuv loop; one reloader per policy file. The
 * signal handler is libuv's (the work happens on the loop thread, not in the
 * signal context).
 */
#ifndef HOIST_POLICY_RELOADER_H
#define HOIST_POLICY_RELOADER_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "policy/policy.h"
#include "util/error.h"

/* After a reload attempt: ok tells whether *slot changed; err is the reason
 * when not (borrowed for the call). */
typedef void (*hoist_reload_cb)(void *arg, hoist_policy *in_force, bool ok, const hoist_err *err);

/* What identifies a version of a file. */
typedef struct hoist_file_sig {
    uint64_t dev, ino;
    int64_t size, mtime_ns;
} hoist_file_sig;

typedef struct hoist_policy_reloader {
    uv_signal_t sighup;
    uv_timer_t poll;
    hoist_policy **slot;          /* borrowed; *slot is replaced on success */
    char *path;                   /* owned copy */
    hoist_policy_limits limits;
    hoist_reload_cb cb;
    void *arg;
    uint64_t reloads;             /* successful reloads */
    uint64_t failures;            /* failed ones (the old policy stayed) */
    hoist_err last_error;         /* the last failure's reason, "" when none */
    int open_handles;             /* handles not yet closed */
    hoist_file_sig last_try;      /* the file as it was at the last load attempt */
} hoist_policy_reloader;

/* Watch *slot's file (path copied; limits NULL = defaults) on loop: SIGHUP
 * always, file changes every poll_ms (0 = no polling). 0, or -1 with err. */
int hoist_policy_reloader_start(hoist_policy_reloader *r, uv_loop_t *loop, hoist_policy **slot,
                                const char *path, const hoist_policy_limits *limits,
                                uint64_t poll_ms, hoist_reload_cb cb, void *arg, hoist_err *err);
/* Reload now (what SIGHUP does). 0 when swapped, -1 when the old one stays. */
int hoist_policy_reloader_reload(hoist_policy_reloader *r);
/* Stop watching and close the handles; r may be freed once the loop has run
 * the close callbacks (hoist_policy_reloader_closed() turns true). */
void hoist_policy_reloader_stop(hoist_policy_reloader *r);
bool hoist_policy_reloader_closed(const hoist_policy_reloader *r);

#endif
