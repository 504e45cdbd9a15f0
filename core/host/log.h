/*
 * host/log.h - structured, leveled logging to a stdio stream.
 *
 * A logger is a plain value the caller owns and passes to whoever logs; there
 * is no global logger. Each line is logfmt:
 *
 *     ts=2024-05-01T12:00:00.123Z level=info component=provider/mock msg="launched i-01"
 *
 * (ts only when the logger has timestamps on). Lines below the logger's level
 * are dropped before formatting.
 */
#ifndef HOIST_HOST_LOG_H
#define HOIST_HOST_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

#include <hoist/host.h>

typedef struct hoist_logger {
    FILE *out;              /* borrowed; NULL discards everything */
    hoist_log_level level;  /* most verbose level written */
    bool timestamps;        /* prefix each line with ts=<UTC RFC 3339, ms> */
} hoist_logger;

/* Set up a logger writing to `out` (borrowed) at `level`, with timestamps. */
void hoist_logger_init(hoist_logger *lg, FILE *out, hoist_log_level level);
/* True when a line at `level` would be written (lg may be NULL: false). */
bool hoist_log_enabled(const hoist_logger *lg, hoist_log_level level);
/* Write one line at `level` from `component` (may be NULL). lg may be NULL. */
void hoist_log(const hoist_logger *lg, hoist_log_level level, const char *component,
               const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* hoist_log with a va_list. */
void hoist_logv(const hoist_logger *lg, hoist_log_level level, const char *component,
                const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));
/* Lower-case name of a level: "error", "warn", "info", "debug". */
const char *hoist_log_level_name(hoist_log_level level);
/* Parse a level name (as above, case-insensitive, "warning" too); -1 if unknown. */
int hoist_log_level_parse(const char *name, hoist_log_level *out);

#endif
