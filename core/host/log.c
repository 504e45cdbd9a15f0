/* host/log.c - structured leveled logging; see log.h. */
#include "host/log.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

void hoist_logger_init(hoist_logger *lg, FILE *out, hoist_log_level level)
{
    lg->out = out;
    lg->level = level;
    lg->timestamps = true;
}

bool hoist_log_enabled(const hoist_logger *lg, hoist_log_level level)
{
    return lg && lg->out && level <= lg->level;
}

const char *hoist_log_level_name(hoist_log_level level)
{
    switch (level) {
    case HOIST_LOG_ERROR: return "error";
    case HOIST_LOG_WARN: return "warn";
    case HOIST_LOG_INFO: return "info";
    case HOIST_LOG_DEBUG: return "debug";
    }
    return "unknown";
}

int hoist_log_level_parse(const char *name, hoist_log_level *out)
{
    static const struct {
        const char *name;
        hoist_log_level level;
    } names[] = {
        {"error", HOIST_LOG_ERROR}, {"warn", HOIST_LOG_WARN}, {"warning", HOIST_LOG_WARN},
        {"info", HOIST_LOG_INFO},   {"debug", HOIST_LOG_DEBUG},
    };
    if (!name)
        return -1;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (!strcasecmp(name, names[i].name)) {
            *out = names[i].level;
            return 0;
        }
    }
    return -1;
}

/* Write s as a logfmt value: bare when it has no space, quote, '=' or control
 * character, else double-quoted with \" \\ \n \r \t escaped. */
static void put_value(FILE *out, const char *s)
{
    bool bare = *s != '\0';
    for (const char *p = s; *p && bare; p++)
        if ((unsigned char)*p <= ' ' || *p == '"' || *p == '=' || *p == '\\' || *p == 0x7f)
            bare = false;
    if (bare) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", out); break;
        case '\\': fputs("\\\\", out); break;
        case '\n': fputs("\\n", out); break;
        case '\r': fputs("\\r", out); break;
        case '\t': fputs("\\t", out); break;
        default:
            if (*p < ' ' || *p == 0x7f)
                fprintf(out, "\\x%02x", *p);
            else
                fputc(*p, out);
        }
    }
    fputc('"', out);
}

void hoist_logv(const hoist_logger *lg, hoist_log_level level, const char *component,
                const char *fmt, va_list ap)
{
    if (!hoist_log_enabled(lg, level))
        return;
    char stack[512];
    char *heap = NULL;
    const char *msg = stack;
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(stack, sizeof stack, fmt, copy);
    va_end(copy);
    if (n < 0) {
        msg = "(unformattable log message)";
    } else if ((size_t)n >= sizeof stack) {
        heap = malloc((size_t)n + 1);
        if (heap) {
            vsnprintf(heap, (size_t)n + 1, fmt, ap);
            msg = heap;
        } /* else: log the truncated stack copy */
    }

    FILE *out = lg->out;
    if (lg->timestamps) {
        struct timespec ts;
        struct tm tm;
        char when[80] = "unknown";
        if (clock_gettime(CLOCK_REALTIME, &ts) == 0 && gmtime_r(&ts.tv_sec, &tm))
            snprintf(when, sizeof when, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, ts.tv_nsec / 1000000L);
        fprintf(out, "ts=%s ", when);
    }
    fprintf(out, "level=%s", hoist_log_level_name(level));
    if (component && *component) {
        fputs(" component=", out);
        put_value(out, component);
    }
    fputs(" msg=", out);
    put_value(out, msg);
    fputc('\n', out);
    fflush(out);
    free(heap);
}

void hoist_log(const hoist_logger *lg, hoist_log_level level, const char *component,
               const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    hoist_logv(lg, level, component, fmt, ap);
    va_end(ap);
}
