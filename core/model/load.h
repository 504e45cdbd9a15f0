/*
 * model/load.h - Kubernetes documents from JSON or YAML text.
 *
 * A file given with `-f` holds one object, a List (a kind ending in "List"
 * with an "items" array), a multi-document YAML stream ("---" separated) or
 * a sequence of concatenated JSON values. Loading turns it into a flat array
 * of JSON objects, one per Kubernetes object, each remembering the file name,
 * the document index and the line it starts on, so later errors can read
 *   "pods.yaml:12: Pod default/web: spec.nodeName: expected a string".
 *
 * Text whose first non-blank character is '{' or '[' is parsed as JSON by
 * jansson; anything else as YAML by libyaml, converted into jansson values
 * with the YAML 1.2 core schema: unquoted true/false (True, TRUE, ...) ->
 * bool, null/~/empty -> null, integers (decimal, 0o octal, 0x hex) and floats
 * -> numbers, everything else and quoted or block scalars -> strings. Unlike
 * YAML 1.1, yes/no/on/off/y/n stay strings. .inf and .nan are errors (JSON
 * cannot hold them); explicit !!str/!!int/!!float/!!bool/!!null tags apply. Anchors and aliases are
 * resolved (at most HOIST_YAML_MAX_ALIAS_NODES nodes copied by aliases per
 * document, against expansion bombs), merge keys "<<" are applied, duplicate
 * keys are an error. Empty documents are skipped.
 */
#ifndef HOIST_MODEL_LOAD_H
#define HOIST_MODEL_LOAD_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "util/arena.h"
#include "util/error.h"

/* Most JSON nodes that alias expansion may create in one YAML document. */
#define HOIST_YAML_MAX_ALIAS_NODES 100000
/* Largest input read from a file or stream (bytes). */
#define HOIST_LOAD_MAX_BYTES (256u * 1024 * 1024)

/* One Kubernetes object as read from a file. */
typedef struct hoist_doc {
    json_t *json;     /* the object (a JSON object); a reference owned by the doc set */
    const char *file; /* file name as given ("-" for standard input); owned by the doc set */
    int index;        /* 0-based document index within the file */
    int item;         /* 0-based index within a List's items, or -1 when not from a List */
    int line;         /* 1-based line where the object starts */
} hoist_doc;

/* A growing array of documents. */
typedef struct hoist_docs {
    size_t n;          /* documents loaded */
    size_t cap;        /* allocated slots */
    hoist_doc *items;  /* malloc'd array */
    hoist_arena names; /* file name copies */
} hoist_docs;

/* Prepare an empty set. */
void hoist_docs_init(hoist_docs *d);
/* Drop every document's JSON reference and free the set. */
void hoist_docs_free(hoist_docs *d);

/* Parse len bytes of JSON or YAML named `name` (used in messages) and append
 * its objects. On error nothing is appended and err reads "name:line: ...".
 * Returns 0 or -1. */
int hoist_docs_load_buffer(hoist_docs *d, const char *name, const char *buf, size_t len,
                           hoist_err *err);
/* Read the whole stream (not closed) and load it as hoist_docs_load_buffer does. */
int hoist_docs_load_stream(hoist_docs *d, const char *name, FILE *f, hoist_err *err);
/* Load a file; "-" reads standard input. */
int hoist_docs_load_file(hoist_docs *d, const char *path, hoist_err *err);

#endif
