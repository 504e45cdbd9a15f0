/*
 * model/quantity.h - Kubernetes resource quantities, parsed and printed as
 * Kubernetes (k8s.io/apimachinery/pkg/api/resource) does.
 *
 * Grammar: <signedNumber><suffix>, suffix one of the binary SI suffixes
 * (Ki Mi Gi Ti Pi Ei), the decimal SI suffixes (n u m "" k M G T P E) or a
 * decimal exponent (e<int> / E<int>). Values are held in milli-units and, as
 * in Kubernetes, anything finer than 1m is rounded up to the next milli-unit.
 * Printing gives Kubernetes' canonical form in the quantity's own format
 * (e.g. "1.5Gi" prints "1536Mi", "0.1" prints "100m", "1000k" prints "1M").
 *
 * hoist refuses, with a message saying why: empty strings, garbage, unknown
 * suffixes, negative amounts (no request, capacity or limit can be negative;
 * "-0" is 0), and values whose milli-units do not fit in 63 bits. A number
 * with no digits at all ("." or "+") is refused too, although Kubernetes
 * reads it as 0. Error messages read: invalid quantity "12x": unknown suffix "x".
 *
 * Canonical printing: zero is "0"; binary quantities of whole units and at
 * least 1Ki print with the largest binary suffix that keeps them whole
 * ("1536Mi"), anything else in decimal; decimal forms use the largest
 * exponent that is a multiple of three and keeps the mantissa whole ("1080m",
 * "1M", "100e12"). As in Kubernetes, a binary amount below one unit parses as
 * decimal SI.
 */
#ifndef HOIST_MODEL_QUANTITY_H
#define HOIST_MODEL_QUANTITY_H

#include <stddef.h>

#include <hoist/types.h>

#include "util/error.h"

/* Which suffix family the quantity was written in; printing keeps it. */
typedef enum hoist_qformat {
    HOIST_QFMT_DECIMAL_SI = 0,    /* m, "", k, M, G, ... */
    HOIST_QFMT_BINARY_SI,         /* Ki, Mi, Gi, ... */
    HOIST_QFMT_DECIMAL_EXPONENT   /* e3, E6, ... */
} hoist_qformat;

typedef struct hoist_quantity {
    hoist_milli milli;     /* value in milli-units, >= 0 */
    hoist_qformat format;  /* format to print it in */
} hoist_quantity;

/* Parse s into *out. Returns 0, or -1 with the reason in err. */
int hoist_quantity_parse(const char *s, hoist_quantity *out, hoist_err *err);

/* Print q in Kubernetes canonical form into buf (always NUL-terminated when
 * len > 0). Returns the length the full string needs, like snprintf. 64 bytes
 * always suffice. A negative milli (a difference of quantities) prints with
 * a leading "-". */
size_t hoist_quantity_format(hoist_quantity q, char *buf, size_t len);

#endif
