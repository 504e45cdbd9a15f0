/*
 * policy/policy.h - the Lua policy host: one sandboxed Lua 5.4 state per
 * policy file, and calls into its hooks with JSON arguments and results.
 *
 * A policy file is Lua source that returns a table of hooks:
 *
 *     return {
 *       name = "prefer-graviton",              -- optional, default: the file name
 *       score_type = function(type, nodepool)  -- every function field is a hook
 *         if type.arch == "arm64" then return 10 end
 *       end,
 *     }
 *
 * Sandbox. The state sees only:
 *   - base: assert error getmetatable ipairs next pairs rawequal rawget
 *     rawlen rawset select tonumber tostring type _G _VERSION, plus
 *       load            text chunks only (mode is forced to "t"; a binary
 *                       chunk is refused with "attempt to load a binary chunk")
 *       collectgarbage  only collectgarbage("count")
 *       pcall, xpcall   as usual, but a time or instruction stop passes through
 *       print           writes "policy PATH: ..." to standard error
 *       setmetatable    refuses a metatable with a __gc field (Lua runs
 *                       finalizers with debug hooks off, so a finalizer
 *                       could escape the limits)
 *     (dofile, loadfile and warn are absent);
 *   - string (without string.dump), table, math, utf8;
 *   - os.time and os.clock (no other os function).
 * No io, package/require, debug or coroutine. The file itself must be Lua
 * source: a precompiled chunk is refused.
 *
 * Limits (hoist_policy_limits). The top-level chunk at load and every hook
 * call run under:
 *   - a count hook every HOIST_POLICY_HOOK_EVERY VM instructions that stops
 *     the call once it has run max_instructions instructions, or once
 *     budget_ms of wall-clock (monotonic) time has passed since it started;
 *   - a counting allocator that refuses to grow the state past max_memory
 *     bytes (Lua then raises a memory error).
 * A stopped call cannot be rescued by the policy: pcall/xpcall re-raise a
 * time, instruction or memory stop. Time spent inside one C library function
 * (a pathological string pattern, a sort of a huge table) is only noticed
 * when control returns to Lua, so the budget can be overrun by that much.
 *
 * Errors. Every failure returns -1 and a message that starts with the file
 * and line where it happened, e.g.
 *     "policies/x.lua:3: boom"
 *     "policies/x.lua:7: policy exceeded its time budget of 50 ms"
 *     "policies/x.lua:2: policy exceeded its memory limit of 64 MiB"
 *     "policies/x.lua: hook score_type returned a function"
 * The caller then uses its built-in default. The state stays usable: the
 * next call starts with a fresh clock and instruction count, and a memory
 * stop is followed by a full garbage collection.
 *
 * Values. Arguments are a JSON array; each element becomes one Lua argument:
 * object -> table with string keys, array -> sequence (1-based), string,
 * integer -> Lua integer, real -> Lua float, true/false, null -> nil (a null
 * object member is an absent key). The hook's first return value comes back
 * as JSON: a table whose keys are exactly 1..n -> array, any other table ->
 * object (integer keys become decimal strings; an empty table is {}),
 * integers, floats, strings (must be UTF-8), booleans, nil -> null. A
 * function, userdata, thread, cyclic table, a table nested deeper than
 * HOIST_POLICY_MAX_DEPTH, a non-finite number or a key that is neither a
 * string nor a number is refused with an error naming the hook.
 *
 * A hoist_policy is not thread-safe: call it from one thread at a time.
 */
#ifndef HOIST_POLICY_POLICY_H
#define HOIST_POLICY_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "util/error.h"

#define HOIST_POLICY_HOOK_EVERY 1000 /* VM instructions between two limit checks */
#define HOIST_POLICY_MAX_DEPTH 64    /* deepest table nesting converted either way */

typedef struct hoist_policy_limits {
    uint64_t max_instructions; /* per call (and for the chunk at load); 0 = no count limit */
    double budget_ms;          /* wall-clock budget per call; <= 0 = none */
    size_t max_memory;         /* bytes the whole Lua state may hold; 0 = no cap */
} hoist_policy_limits;

typedef struct hoist_policy_stats {
    uint64_t calls;           /* hook calls made (successful or not) */
    uint64_t errors;          /* calls that failed, whatever the reason */
    uint64_t timeouts;        /* calls stopped by the time budget or instruction limit */
    uint64_t memory_errors;   /* calls stopped by the memory limit */
    uint64_t bad_results;     /* calls whose result could not be converted (wrong type) */
    uint64_t reloads;         /* successful hoist_policy_reload()s that led to this state */
    uint64_t reload_failures; /* failed reloads while this state stayed in force */
    size_t memory;            /* bytes the state holds now */
    size_t peak_memory;       /* most bytes the state ever held */
} hoist_policy_stats;

typedef struct hoist_policy hoist_policy;

/* The default limits: 100,000,000 instructions, 50 ms, 64 MiB. */
hoist_policy_limits hoist_policy_limits_default(void);

/* Load and run the policy file at `path` under `limits` (NULL = defaults);
 * NULL with a "file:line: message" in err when it cannot be read, is not Lua
 * source, fails, exceeds a limit or does not return a table of hooks. The
 * caller owns the result (hoist_policy_free). */
hoist_policy *hoist_policy_load(const char *path, const hoist_policy_limits *limits, hoist_err *err);
/* Close the Lua state and free everything; NULL is fine. */
void hoist_policy_free(hoist_policy *p);

/* Atomically replace *slot by a fresh load of `path`: on success free the
 * old policy (its counters carry over, reloads + 1) and return 0; on failure
 * keep *slot in force (reload_failures + 1) and return -1 with the reason.
 * *slot may be NULL (then this is a load). */
int hoist_policy_reload(hoist_policy **slot, const char *path, const hoist_policy_limits *limits,
                        hoist_err *err);
/* True when the file at the policy's path no longer has the device, inode,
 * size and modification time it had when loaded, or cannot be stat()ed. */
bool hoist_policy_file_changed(const hoist_policy *p);

/* True when the policy defines a hook (a function field) named `hook`. */
bool hoist_policy_has(const hoist_policy *p, const char *hook);
/* Number of hooks the policy defined at load, and the i-th name (sorted);
 * the name is owned by the policy. */
size_t hoist_policy_hook_count(const hoist_policy *p);
const char *hoist_policy_hook_name(const hoist_policy *p, size_t i);
/* The policy's name (its `name` field, else the file's base name), and the
 * path it was loaded from; both owned by the policy. */
const char *hoist_policy_name(const hoist_policy *p);
const char *hoist_policy_path(const hoist_policy *p);

/* Call `hook` with the elements of the JSON array `args` (borrowed; NULL =
 * no arguments) as arguments. 0 with *result set to a new reference the
 * caller owns (json null when the hook returned nothing or nil), or -1 with
 * "file:line: message" in err and *result NULL. An undefined hook is an
 * error too (check with hoist_policy_has first to skip it quietly). */
int hoist_policy_call(hoist_policy *p, const char *hook, const json_t *args, json_t **result,
                      hoist_err *err);

/* The counters and memory figures of this policy (a copy). */
hoist_policy_stats hoist_policy_stats_get(const hoist_policy *p);

#endif
