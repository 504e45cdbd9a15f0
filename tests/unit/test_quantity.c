/* test_quantity.c - Kubernetes quantity parsing and canonical printing.
 *
 * The good-input table follows the examples and edge cases Kubernetes
 * documents for resource.Quantity (apimachinery's quantity_test.go tables),
 * with hoist's milli-unit rounding: anything finer than 1m rounds up to 1m
 * where Kubernetes would keep nano-units.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "model/quantity.h"

typedef struct good_case {
    const char *in;
    hoist_milli milli;
    hoist_qformat format;
    const char *canonical;
} good_case;

#define DEC HOIST_QFMT_DECIMAL_SI
#define BIN HOIST_QFMT_BINARY_SI
#define EXP HOIST_QFMT_DECIMAL_EXPONENT

static const good_case good[] = {
    /* zeros in every spelling */
    {"0", 0, DEC, "0"},
    {"0n", 0, DEC, "0"},
    {"0u", 0, DEC, "0"},
    {"0m", 0, DEC, "0"},
    {"0Ki", 0, BIN, "0"},
    {"0k", 0, DEC, "0"},
    {"0Mi", 0, BIN, "0"},
    {"0M", 0, DEC, "0"},
    {"0Gi", 0, BIN, "0"},
    {"0T", 0, DEC, "0"},
    {"0.0", 0, DEC, "0"},
    {"-0", 0, DEC, "0"},
    {"-0.000", 0, DEC, "0"},
    {"+0", 0, DEC, "0"},
    {"0e99999", 0, EXP, "0"},
    {"000", 0, DEC, "0"},
    /* plain numbers */
    {"1", 1000, DEC, "1"},
    {"+1", 1000, DEC, "1"},
    {"9", 9000, DEC, "9"},
    {"000000000000000000000000000001", 1000, DEC, "1"},
    /* binary suffixes */
    {"1Ki", 1024000, BIN, "1Ki"},
    {"8Ki", 8192000, BIN, "8Ki"},
    {"1023Ki", 1047552000, BIN, "1023Ki"},
    {"7Mi", INT64_C(7340032000), BIN, "7Mi"},
    {"6Gi", INT64_C(6442450944000), BIN, "6Gi"},
    {"5Ti", INT64_C(5497558138880000), BIN, "5Ti"},
    {"10Ti", INT64_C(10995116277760000), BIN, "10Ti"},
    {"4Pi", INT64_C(4503599627370496000), BIN, "4Pi"},
    {"8Pi", INT64_C(9007199254740992000), BIN, "8Pi"},
    {"100Mi", INT64_C(104857600000), BIN, "100Mi"},
    {"300Mi", INT64_C(314572800000), BIN, "300Mi"},
    {"307200Ki", INT64_C(314572800000), BIN, "300Mi"},
    {"1024Mi", INT64_C(1073741824000), BIN, "1Gi"},
    {"1025024Mi", INT64_C(1074815565824000), BIN, "1001Gi"},
    {"1024Gi", INT64_C(1099511627776000), BIN, "1Ti"},
    {"1.5Gi", INT64_C(1610612736000), BIN, "1536Mi"},
    {"0.5Mi", 524288000, BIN, "512Ki"},
    /* fractional binary amounts that are not whole units print in decimal */
    {"100.035Ki", 102435840, BIN, "102435840m"},
    {"0.05Gi", INT64_C(53687091200), BIN, "53687091200m"},
    {"0.025Ti", INT64_C(27487790694400), BIN, "27487790694400m"},
    {".001Ki", 1024, BIN, "1024m"},
    /* binary amounts below one unit become decimal, as in Kubernetes */
    {".000001Ki", 2, DEC, "2m"},
    {"0.000000000001Ki", 1, DEC, "1m"},
    /* decimal suffixes */
    {"3m", 3, DEC, "3m"},
    {"8k", 8000000, DEC, "8k"},
    {"50k", 50000000, DEC, "50k"},
    {"7M", INT64_C(7000000000), DEC, "7M"},
    {"6G", INT64_C(6000000000000), DEC, "6G"},
    {"5T", INT64_C(5000000000000000), DEC, "5T"},
    {"40T", INT64_C(40000000000000000), DEC, "40T"},
    {"300T", INT64_C(300000000000000000), DEC, "300T"},
    {"2P", INT64_C(2000000000000000000), DEC, "2P"},
    {"9P", INT64_C(9000000000000000000), DEC, "9P"},
    {"1000k", 1000000000, DEC, "1M"},
    {"1000M", INT64_C(1000000000000), DEC, "1G"},
    {"0.001T", INT64_C(1000000000000), DEC, "1G"},
    {"1000000k", INT64_C(1000000000000), DEC, "1G"},
    {"1234567M", INT64_C(1234567000000000), DEC, "1234567M"},
    {"1080m", 1080, DEC, "1080m"},
    {"1.08", 1080, DEC, "1080m"},
    {"80m", 80, DEC, "80m"},
    {"100m", 100, DEC, "100m"},
    {"12345678901m", INT64_C(12345678901), DEC, "12345678901m"},
    {"9223372036854775807m", INT64_MAX, DEC, "9223372036854775807m"},
    {"9223372036854775.807", INT64_MAX, DEC, "9223372036854775807m"},
    /* things that look like floating point */
    {"0.1", 100, DEC, "100m"},
    {"0.001", 1, DEC, "1m"},
    {"0.0005k", 500, DEC, "500m"},
    {"0.005", 5, DEC, "5m"},
    {"0.05", 50, DEC, "50m"},
    {"0.5", 500, DEC, "500m"},
    {"0.00050k", 500, DEC, "500m"},
    {"0.50000", 500, DEC, "500m"},
    {"1.5", 1500, DEC, "1500m"},
    {"9.01", 9010, DEC, "9010m"},
    {"8.1k", 8100000, DEC, "8100"},
    {"100.035k", 100035000, DEC, "100035"},
    {"10.035M", INT64_C(10035000000), DEC, "10035k"},
    {"7.123456M", INT64_C(7123456000), DEC, "7123456"},
    {"6.987654321G", INT64_C(6987654321000), DEC, "6987654321"},
    {"5.444T", INT64_C(5444000000000000), DEC, "5444G"},
    {"2.5P", INT64_C(2500000000000000000), DEC, "2500T"},
    /* decimal exponents */
    {"1E-3", 1, EXP, "1e-3"},
    {"1e3", 1000000, EXP, "1e3"},
    {"1E6", INT64_C(1000000000), EXP, "1e6"},
    {"1e9", INT64_C(1000000000000), EXP, "1e9"},
    {"1E12", INT64_C(1000000000000000), EXP, "1e12"},
    {"1e15", INT64_C(1000000000000000000), EXP, "1e15"},
    {"1e13", INT64_C(10000000000000000), EXP, "10e12"},
    {"1e14", INT64_C(100000000000000000), EXP, "100e12"},
    {"129e6", INT64_C(129000000000), EXP, "129e6"},
    {"300e6", INT64_C(300000000000), EXP, "300e6"},
    {"3e3", 3000000, EXP, "3e3"},
    {"80e-3", 80, EXP, "80e-3"},
    {"0.5e0", 500, EXP, "500e-3"},
    {"0.5e-1", 50, EXP, "50e-3"},
    {"0.5e-2", 5, EXP, "5e-3"},
    {"1.2e3", 1200000, EXP, "1200"},
    {"1.3E+6", INT64_C(1300000000), EXP, "1300e3"},
    {"1.40e9", INT64_C(1400000000000), EXP, "1400e6"},
    {"1.53E12", INT64_C(1530000000000000), EXP, "1530e9"},
    {"1.6e15", INT64_C(1600000000000000000), EXP, "1600e12"},
    {".001e3", 1000, EXP, "1"},
    {"1e-1000000", 1, EXP, "1e-3"},
    /* finer than 1m rounds up */
    {"0.1m", 1, DEC, "1m"},
    {"5n", 1, DEC, "1m"},
    {"4u", 1, DEC, "1m"},
    {"3.001n", 1, DEC, "1m"},
    {"1.1E-9", 1, EXP, "1e-3"},
    {"0.0000000001", 1, DEC, "1m"},
    {"0.00000012345", 1, DEC, "1m"},
    {"1.0001", 1001, DEC, "1001m"},
    {"1.0000001", 1001, DEC, "1001m"},
    {"2.5m", 3, DEC, "3m"},
    {"0.0000000000000000000000000000000001", 1, DEC, "1m"},
    /* things written by trolls */
    {".001", 1, DEC, "1m"},
    {".0001k", 100, DEC, "100m"},
    {"1.", 1000, DEC, "1"},
    {"1.G", INT64_C(1000000000000), DEC, "1G"},
};

static void test_parse_good_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        const good_case *c = &good[i];
        hoist_quantity q = {-1, EXP};
        hoist_err err = {{0}};
        int rc = hoist_quantity_parse(c->in, &q, &err);
        if (rc != 0)
            fail_msg("\"%s\": unexpected error: %s", c->in, err.msg);
        if (q.milli != c->milli)
            fail_msg("\"%s\": milli %lld, want %lld", c->in, (long long)q.milli,
                     (long long)c->milli);
        if (q.format != c->format)
            fail_msg("\"%s\": format %d, want %d", c->in, (int)q.format, (int)c->format);
        char buf[64];
        size_t n = hoist_quantity_format(q, buf, sizeof buf);
        if (strcmp(buf, c->canonical) != 0)
            fail_msg("\"%s\": prints \"%s\", want \"%s\"", c->in, buf, c->canonical);
        assert_int_equal(n, strlen(c->canonical));
        /* The canonical form parses back to the same amount. */
        hoist_quantity back;
        assert_int_equal(hoist_quantity_parse(buf, &back, &err), 0);
        if (back.milli != q.milli)
            fail_msg("\"%s\": canonical \"%s\" reparses to %lld", c->in, buf,
                     (long long)back.milli);
    }
}

typedef struct bad_case {
    const char *in;
    const char *reason; /* substring the message must contain */
} bad_case;

static const bad_case bad[] = {
    {"", "empty"},
    {"aoeu", "expected a number"},
    {".", "expected a number"},
    {"+", "expected a number"},
    {"-", "expected a number"},
    {"Mi", "expected a number"},
    {" 1", "expected a number"},
    {"1 ", "unknown suffix \" \""},
    {"1.1.M", "unknown suffix \".M\""},
    {"1+1.0M", "unknown suffix \"+1.0M\""},
    {"0.1mi", "unknown suffix \"mi\""},
    {"0.1am", "unknown suffix \"am\""},
    {".5i", "unknown suffix \"i\""},
    {"1i", "unknown suffix \"i\""},
    {"-3.01i", "unknown suffix \"i\""},
    {"12x", "unknown suffix \"x\""},
    {"1K", "unknown suffix \"K\""},
    {"1KI", "unknown suffix \"KI\""},
    {"1kb", "unknown suffix \"kb\""},
    {"1Mb", "unknown suffix \"Mb\""},
    {"0x10", "unknown suffix \"x10\""},
    {"1_000", "unknown suffix \"_000\""},
    {"-3.01e-", "invalid exponent \"e-\""},
    {"1e", "invalid exponent \"e\""},
    {"1e+", "invalid exponent \"e+\""},
    {"1e1.5", "invalid exponent \"e1.5\""},
    {"1e3m", "invalid exponent \"e3m\""},
    {"1e2147483648", "out of range"},
    {"-1", "negative"},
    {"-1m", "negative"},
    {"-0.001", "negative"},
    {"-0.0000001", "negative"},
    {"-1Gi", "negative"},
    {"10E", "too large"},
    {"1E", "too large"},
    {"12E", "too large"},
    {"10P", "too large"},
    {"1E18", "too large"},
    {"1.7E18", "too large"},
    {"9Pi", "too large"},
    {"1Ei", "too large"},
    {"9Ei", "too large"},
    {"9223372036854775807", "too large"},
    {"9223372036854775807Ki", "too large"},
    {"9223372036854775808m", "too large"},
    {"9223372036854775.8071", "too large"},
    {"1e2147483647", "too large"},
    {"100000000000000000000000000000000000000000", "too large"},
};

static void test_parse_bad_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const bad_case *c = &bad[i];
        hoist_quantity q = {12345, BIN};
        hoist_err err = {{0}};
        if (hoist_quantity_parse(c->in, &q, &err) != -1)
            fail_msg("\"%s\" parsed unexpectedly as %lld", c->in, (long long)q.milli);
        char quoted[256];
        snprintf(quoted, sizeof quoted, "invalid quantity \"%s\"", c->in);
        if (!strstr(err.msg, quoted))
            fail_msg("\"%s\": message \"%s\" does not quote the input", c->in, err.msg);
        if (!strstr(err.msg, c->reason))
            fail_msg("\"%s\": message \"%s\" lacks \"%s\"", c->in, err.msg, c->reason);
        /* A failed parse leaves the output untouched. */
        assert_int_equal(q.milli, 12345);
    }
}

static void test_parse_null_and_null_err(void **state)
{
    (void)state;
    hoist_quantity q;
    assert_int_equal(hoist_quantity_parse(NULL, &q, NULL), -1);
    assert_int_equal(hoist_quantity_parse("garbage", &q, NULL), -1);
    assert_int_equal(hoist_quantity_parse("2", &q, NULL), 0);
    assert_int_equal(q.milli, 2000);
}

static void test_format_direct(void **state)
{
    (void)state;
    static const struct {
        hoist_quantity q;
        const char *want;
    } cases[] = {
        {{1025000, BIN}, "1025"},       /* not a multiple of 1024 */
        {{5000, BIN}, "5"},             /* below 1Ki prints decimal */
        {{500, BIN}, "500m"},
        {{1234567, BIN}, "1234567m"},
        {{1023000, BIN}, "1023"},
        {{6144000, BIN}, "6Ki"},
        {{1, DEC}, "1m"},
        {{1000, DEC}, "1"},
        {{1234000, DEC}, "1234"},
        {{1024, BIN}, "1024m"},
        {{1048576, BIN}, "1048576m"},
        {{1000000, EXP}, "1e3"},
        {{1000, EXP}, "1"},
        {{0, EXP}, "0"},
        {{0, BIN}, "0"},
        {{3000000, DEC}, "3k"},
        {{INT64_C(1073741824000), DEC}, "1073741824"}, /* 1Gi held as decimal */
        {{INT64_C(1073741824000), BIN}, "1Gi"},
        {{-1500, DEC}, "-1500m"},                      /* results of subtraction */
        {{-INT64_C(2147483648000), BIN}, "-2Gi"},
        {{INT64_MIN, DEC}, "-9223372036854775808m"},
        {{INT64_MAX, BIN}, "9223372036854775807m"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[64];
        hoist_quantity_format(cases[i].q, buf, sizeof buf);
        if (strcmp(buf, cases[i].want) != 0)
            fail_msg("%lld/%d: prints \"%s\", want \"%s\"", (long long)cases[i].q.milli,
                     (int)cases[i].q.format, buf, cases[i].want);
    }
}

static void test_format_truncates_like_snprintf(void **state)
{
    (void)state;
    hoist_quantity q = {INT64_C(1610612736000), BIN}; /* "1536Mi" */
    char small[4] = "zzz";
    assert_int_equal(hoist_quantity_format(q, small, sizeof small), 6);
    assert_string_equal(small, "153");
    char one[1] = {'z'};
    assert_int_equal(hoist_quantity_format(q, one, 1), 6);
    assert_int_equal(one[0], '\0');
    assert_int_equal(hoist_quantity_format(q, NULL, 0), 6);
}

static void test_round_trip_every_format(void **state)
{
    (void)state;
    /* Printing then parsing keeps the amount, for a spread of values. */
    hoist_milli v = 1;
    for (int i = 0; i < 60; i++, v = v * 2 + (i % 3)) {
        for (int f = DEC; f <= EXP; f++) {
            hoist_quantity q = {v, (hoist_qformat)f}, back;
            char buf[64];
            hoist_quantity_format(q, buf, sizeof buf);
            hoist_err err = {{0}};
            if (hoist_quantity_parse(buf, &back, &err) != 0)
                fail_msg("%lld as \"%s\": %s", (long long)v, buf, err.msg);
            if (back.milli != v)
                fail_msg("%lld as \"%s\" reparses to %lld", (long long)v, buf,
                         (long long)back.milli);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_good_table),
        cmocka_unit_test(test_parse_bad_table),
        cmocka_unit_test(test_parse_null_and_null_err),
        cmocka_unit_test(test_format_direct),
        cmocka_unit_test(test_format_truncates_like_snprintf),
        cmocka_unit_test(test_round_trip_every_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
