/*
 * util/jsontext.h - compact JSON text, fast: the same bytes as jansson's
 * json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY), written without jansson's
 * per-piece callbacks for the values whose text is plain (objects in their
 * key order, arrays, integers, true, false, null, strings of ASCII). A
 * value it does not write itself (a real, a string with a byte >= 0x80)
 * sends the whole value to json_dumps, so the text is always jansson's.
 */
#ifndef HOIST_UTIL_JSONTEXT_H
#define HOIST_UTIL_JSONTEXT_H

#include <jansson.h>

/* j as compact JSON text (malloc'd; the caller frees it), byte for byte
 * what json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY) returns. NULL when out
 * of memory or when json_dumps would fail. */
char *hoist_json_compact(const json_t *j);

#endif
