/* util/jsontext.c - compact JSON text; see jsontext.h. */
#include "util/jsontext.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct out {
    char *s;
    size_t len, cap;
    bool failed;   /* out of memory */
    bool foreign;  /* met a value jansson must write */
} out;

static bool reserve(out *o, size_t more)
{
    if (o->len + more + 1 <= o->cap)
        return true;
    size_t cap = o->cap ? o->cap : 1024; /* a pod's text fits */
    while (cap < o->len + more + 1)
        cap *= 2;
    char *s = realloc(o->s, cap);
    if (!s) {
        o->failed = true;
        return false;
    }
    o->s = s;
    o->cap = cap;
    return true;
}

static void put(out *o, const char *p, size_t n)
{
    if (!reserve(o, n))
        return;
    memcpy(o->s + o->len, p, n);
    o->len += n;
}

static void put_char(out *o, char c)
{
    if (!reserve(o, 1))
        return;
    o->s[o->len++] = c;
}

/* A string as jansson writes it without JSON_ENSURE_ASCII or
 * JSON_ESCAPE_SLASH: ", \ and the control characters escaped (\b \f \n \r
 * \t, else \u00XX in upper-case hex), everything else as is. Bytes >= 0x80
 * are left to jansson (it checks UTF-8 as it writes). */
static void put_string(out *o, const char *str, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    put_char(o, '"');
    size_t run = 0; /* start of the pending run of plain bytes */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)str[i];
        if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80)
            continue;
        if (c >= 0x80) {
            o->foreign = true;
            return;
        }
        put(o, str + run, i - run);
        run = i + 1;
        char esc[6] = {'\\', 0, 0, 0, 0, 0};
        size_t n = 2;
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            n = 6;
        }
        put(o, esc, n);
    }
    put(o, str + run, len - run);
    put_char(o, '"');
}

static void put_integer(out *o, json_int_t v)
{
    char buf[24];
    size_t d = sizeof buf;
    /* negative: digits of the magnitude, computed without overflow */
    uint64_t m = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do
        buf[--d] = (char)('0' + m % 10);
    while ((m /= 10) > 0);
    if (v < 0)
        buf[--d] = '-';
    put(o, buf + d, sizeof buf - d);
}

/* Deeper than this (or a cycle) is left to json_dumps (which refuses a
 * cycle). */
#define MAX_DEPTH 512

static void put_value(out *o, const json_t *j, int depth)
{
    if (o->failed || o->foreign)
        return;
    if (depth > MAX_DEPTH) {
        o->foreign = true;
        return;
    }
    switch (json_typeof(j)) {
    case JSON_OBJECT: {
        put_char(o, '{');
        bool first = true;
        for (void *it = json_object_iter((json_t *)j); it && !o->failed && !o->foreign;
             it = json_object_iter_next((json_t *)j, it)) {
            if (!first)
                put_char(o, ',');
            first = false;
            put_string(o, json_object_iter_key(it), json_object_iter_key_len(it));
            put_char(o, ':');
            put_value(o, json_object_iter_value(it), depth + 1);
        }
        put_char(o, '}');
        break;
    }
    case JSON_ARRAY: {
        put_char(o, '[');
        size_t n = json_array_size(j);
        for (size_t i = 0; i < n && !o->failed && !o->foreign; i++) {
            if (i)
                put_char(o, ',');
            put_value(o, json_array_get(j, i), depth + 1);
        }
        put_char(o, ']');
        break;
    }
    case JSON_STRING:
        put_string(o, json_string_value(j), json_string_length(j));
        break;
    case JSON_INTEGER:
        put_integer(o, json_integer_value(j));
        break;
    case JSON_TRUE:
        put(o, "true", 4);
        break;
    case JSON_FALSE:
        put(o, "false", 5);
        break;
    case JSON_NULL:
        put(o, "null", 4);
        break;
    default: /* JSON_REAL: jansson's own number formatting */
        o->foreign = true;
    }
}

char *hoist_json_compact(const json_t *j)
{
    if (!j)
        return NULL;
    out o = {0};
    put_value(&o, j, 0);
    if (o.foreign || o.failed) {
        free(o.s);
        return o.failed ? NULL : json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    }
    if (!reserve(&o, 0)) {
        free(o.s);
        return NULL;
    }
    o.s[o.len] = '\0';
    return o.s;
}
