/* model/quantity.c - Kubernetes resource quantities; see quantity.h.
 *
 * Parsing is exact: the digits are kept as a decimal digit string, binary
 * suffixes multiply that string by 1024 the right number of times, and the
 * decimal point is then moved by the decimal exponent plus three (to reach
 * milli-units). The integer part is the result; any non-zero digit after
 * the point rounds it up by one milli-unit.
 */
#include "model/quantity.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Decimal SI suffixes and their powers of ten. */
static const struct {
    const char *suffix;
    int exp10;
} decimal_suffixes[] = {
    {"n", -9}, {"u", -6}, {"m", -3}, {"", 0}, {"k", 3},
    {"M", 6},  {"G", 9},  {"T", 12}, {"P", 15}, {"E", 18},
};

/* Binary SI suffixes, index i meaning 1024^(i+1). */
static const char *const binary_suffixes[] = {"Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};

#define N_DECIMAL (sizeof decimal_suffixes / sizeof decimal_suffixes[0])
#define N_BINARY (sizeof binary_suffixes / sizeof binary_suffixes[0])

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Interpret the suffix: sets *format, *exp10 and *pow1024. Returns 0 or -1
 * with a message (the caller adds the quoted input). */
static int parse_suffix(const char *suf, hoist_qformat *format, long *exp10, int *pow1024,
                        hoist_err *err)
{
    *exp10 = 0;
    *pow1024 = 0;
    for (size_t i = 0; i < N_DECIMAL; i++) {
        if (strcmp(suf, decimal_suffixes[i].suffix) == 0) {
            *format = HOIST_QFMT_DECIMAL_SI;
            *exp10 = decimal_suffixes[i].exp10;
            return 0;
        }
    }
    for (size_t i = 0; i < N_BINARY; i++) {
        if (strcmp(suf, binary_suffixes[i]) == 0) {
            *format = HOIST_QFMT_BINARY_SI;
            *pow1024 = (int)i + 1;
            return 0;
        }
    }
    if (suf[0] == 'e' || suf[0] == 'E') {
        /* A decimal exponent: e or E, an optional sign, at least one digit. */
        const char *p = suf + 1;
        int negative = 0;
        if (*p == '+' || *p == '-')
            negative = *p++ == '-';
        if (!is_digit(*p))
            return hoist_errf(err, "invalid exponent \"%s\"", suf);
        long v = 0;
        for (; is_digit(*p); p++) {
            v = v * 10 + (*p - '0');
            if (v > INT32_MAX)
                return hoist_errf(err, "exponent \"%s\" out of range", suf);
        }
        if (*p)
            return hoist_errf(err, "invalid exponent \"%s\"", suf);
        *format = HOIST_QFMT_DECIMAL_EXPONENT;
        *exp10 = negative ? -v : v;
        return 0;
    }
    return hoist_errf(err, "unknown suffix \"%s\"", suf);
}

/* Multiply the decimal digits in buf[*start .. end) by 1024, growing to the
 * left. The buffer has room for the growth (4 digits per multiplication). */
static void digits_mul1024(char *buf, size_t *start, size_t end)
{
    unsigned carry = 0;
    for (size_t i = end; i > *start; i--) {
        unsigned d = (unsigned)(buf[i - 1] - '0') * 1024u + carry;
        buf[i - 1] = (char)('0' + d % 10);
        carry = d / 10;
    }
    while (carry) {
        buf[--*start] = (char)('0' + carry % 10);
        carry /= 10;
    }
}

/* The value digits[0..n) with the decimal point after `point` digits (point
 * may be <= 0 or > n), in milli-units rounded up. -1 when it exceeds
 * INT64_MAX. digits has no leading zero and n > 0. */
static int digits_to_milli(const char *digits, size_t n, int64_t point, hoist_milli *out)
{
    if (point > 19)
        return -1; /* at least 10^19 > INT64_MAX */
    uint64_t v = 0;
    size_t whole = point > 0 ? (size_t)point : 0;
    for (size_t i = 0; i < whole; i++) {
        unsigned d = i < n ? (unsigned)(digits[i] - '0') : 0;
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    bool fraction = false;
    for (size_t i = whole; i < n; i++) {
        if (digits[i] != '0') {
            fraction = true;
            break;
        }
    }
    if (fraction)
        v++; /* finer than 1m: round up, as Kubernetes does */
    if (v > (uint64_t)INT64_MAX)
        return -1;
    *out = (hoist_milli)v;
    return 0;
}

int hoist_quantity_parse(const char *s, hoist_quantity *out, hoist_err *err)
{
    if (!s || !*s)
        return hoist_errf(err, "invalid quantity \"\": empty string");

    const char *p = s;
    bool negative = false;
    if (*p == '+' || *p == '-')
        negative = *p++ == '-';

    /* The number: digits, optionally '.', optionally more digits. */
    const char *int_start = p;
    while (is_digit(*p))
        p++;
    size_t int_len = (size_t)(p - int_start);
    const char *frac_start = p;
    size_t frac_len = 0;
    if (*p == '.') {
        frac_start = ++p;
        while (is_digit(*p))
            p++;
        frac_len = (size_t)(p - frac_start);
    }
    if (int_len == 0 && frac_len == 0)
        return hoist_errf(err, "invalid quantity \"%s\": expected a number", s);

    hoist_qformat format = HOIST_QFMT_DECIMAL_SI;
    long exp10 = 0;
    int pow1024 = 0;
    if (parse_suffix(p, &format, &exp10, &pow1024, err) < 0)
        return hoist_err_prefix(err, "invalid quantity \"%s\"", s);

    /* Significant digits, right-aligned in a buffer with room for the
     * binary multiplications to grow leftwards. */
    size_t room = (size_t)pow1024 * 4 + 1;
    size_t cap = room + int_len + frac_len;
    char *buf = malloc(cap);
    if (!buf)
        return hoist_errf(err, "invalid quantity \"%s\": out of memory", s);
    size_t start = room, end = room;
    memcpy(buf + end, int_start, int_len);
    end += int_len;
    memcpy(buf + end, frac_start, frac_len);
    end += frac_len;
    /* point counts digits before the decimal point, relative to start. */
    int64_t point = (int64_t)int_len;
    while (start < end && buf[start] == '0') {
        start++;
        point--;
    }
    while (end > start && buf[end - 1] == '0')
        end--;

    hoist_milli milli = 0;
    if (start < end) {
        for (int i = 0; i < pow1024; i++) {
            size_t before = start;
            digits_mul1024(buf, &start, end);
            point += (int64_t)(before - start);
        }
        point += (int64_t)exp10 + 3;
        if (digits_to_milli(buf + start, end - start, point, &milli) < 0) {
            free(buf);
            return hoist_errf(err, "invalid quantity \"%s\": too large (at most %lldm)", s,
                              (long long)INT64_MAX);
        }
    }
    free(buf);

    if (negative && milli != 0)
        return hoist_errf(err, "invalid quantity \"%s\": negative amounts are not allowed", s);

    /* As in Kubernetes, a binary quantity below one unit is decimal. */
    if (format == HOIST_QFMT_BINARY_SI && milli > 0 && milli < 1000)
        format = HOIST_QFMT_DECIMAL_SI;
    out->milli = milli;
    out->format = format;
    return 0;
}

/* Copy str into buf like snprintf and return its length. */
static size_t emit(const char *str, char *buf, size_t len)
{
    size_t n = strlen(str);
    if (len > 0) {
        size_t c = n < len - 1 ? n : len - 1;
        memcpy(buf, str, c);
        buf[c] = '\0';
    }
    return n;
}

size_t hoist_quantity_format(hoist_quantity q, char *buf, size_t len)
{
    char tmp[64];
    hoist_milli m = q.milli;
    if (m == 0)
        return emit("0", buf, len);

    bool neg = m < 0;
    /* Work on the magnitude; INT64_MIN's magnitude still fits in uint64. */
    uint64_t mag = neg ? (uint64_t)0 - (uint64_t)m : (uint64_t)m;
    const char *sign = neg ? "-" : "";

    if (q.format == HOIST_QFMT_BINARY_SI && mag >= 1024u * 1000u && mag % 1000 == 0) {
        /* Whole units of at least 1Ki: the largest power of 1024 that divides. */
        uint64_t v = mag / 1000;
        int k = 0;
        while (k < (int)N_BINARY && v % 1024 == 0) {
            v /= 1024;
            k++;
        }
        snprintf(tmp, sizeof tmp, "%s%llu%s", sign, (unsigned long long)v,
                 k ? binary_suffixes[k - 1] : "");
        return emit(tmp, buf, len);
    }

    /* Decimal: mantissa x 10^exp with trailing zeros removed, then the
     * exponent lowered to a multiple of three. */
    uint64_t v = mag;
    int exp = -3;
    while (v % 10 == 0) {
        v /= 10;
        exp++;
    }
    while (exp % 3 != 0) {
        v *= 10;
        exp--;
    }
    if (q.format == HOIST_QFMT_DECIMAL_EXPONENT) {
        if (exp == 0)
            snprintf(tmp, sizeof tmp, "%s%llu", sign, (unsigned long long)v);
        else
            snprintf(tmp, sizeof tmp, "%s%llue%d", sign, (unsigned long long)v, exp);
        return emit(tmp, buf, len);
    }
    const char *suffix = "";
    for (size_t i = 0; i < N_DECIMAL; i++) {
        if (decimal_suffixes[i].exp10 == exp) {
            suffix = decimal_suffixes[i].suffix;
            break;
        }
    }
    snprintf(tmp, sizeof tmp, "%s%llu%s", sign, (unsigned long long)v, suffix);
    return emit(tmp, buf, len);
}
