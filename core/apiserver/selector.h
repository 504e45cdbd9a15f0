/*
 * apiserver/selector.h - Kubernetes label and field selectors.
 *
 * Label selectors in the query-string form ("a=b,c!=d,e in (x,y),f notin (z),
 * g,!h") or as a LabelSelector object (matchLabels, matchExpressions); field
 * selectors in their query-string form ("spec.nodeName=n1,metadata.name!=x").
 * A parsed selector owns its strings; an empty selector matches everything.
 */
#ifndef HOIST_APISERVER_SELECTOR_H
#define HOIST_APISERVER_SELECTOR_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "util/error.h"

typedef enum hoist_sel_op {
    HOIST_SEL_EQ,         /* key=value, key==value */
    HOIST_SEL_NEQ,        /* key!=value (also true when the key is absent) */
    HOIST_SEL_IN,         /* key in (a,b) */
    HOIST_SEL_NOTIN,      /* key notin (a,b) (also true when absent) */
    HOIST_SEL_EXISTS,     /* key */
    HOIST_SEL_NOT_EXISTS  /* !key */
} hoist_sel_op;

typedef struct hoist_sel_req {
    char *key;
    hoist_sel_op op;
    char **values;
    size_t n_values;
} hoist_sel_req;

typedef struct hoist_selector {
    hoist_sel_req *reqs;
    size_t n;
    bool nothing; /* matches no object (a null LabelSelector) */
} hoist_selector;

/* Parse a label selector string (NULL or "" = everything) into out (freed
 * with hoist_selector_free even on error). -1 with a message naming the
 * requirement at fault. */
int hoist_selector_parse_labels(const char *text, hoist_selector *out, hoist_err *err);
/* Parse a field selector string: only =, == and != ; -1 with a message. */
int hoist_selector_parse_fields(const char *text, hoist_selector *out, hoist_err *err);
/* A LabelSelector object (matchLabels, matchExpressions with operators In,
 * NotIn, Exists, DoesNotExist). JSON null or absent (NULL) matches nothing;
 * {} matches everything. -1 with a message naming the field at fault. */
int hoist_selector_from_labelselector(const json_t *sel, hoist_selector *out, hoist_err *err);
/* Free what a selector owns and empty it. */
void hoist_selector_free(hoist_selector *s);

/* True when a labels object (NULL = no labels) satisfies s. */
bool hoist_selector_match_labels(const hoist_selector *s, const json_t *labels);
/* True when the object satisfies the field selector s: each key is a dotted
 * path into obj; absent values read as "", booleans as "true"/"false". */
bool hoist_selector_match_fields(const hoist_selector *s, const json_t *obj);
/* The string value of dotted path `path` in obj as a field selector sees it,
 * written into buf (size n). */
void hoist_field_value(const json_t *obj, const char *path, char *buf, size_t n);

#endif
