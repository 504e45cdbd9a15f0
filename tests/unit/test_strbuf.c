/* tests/unit/test_strbuf.c - appended strings (util/strbuf.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "util/strbuf.h"

static void test_appends(void **state)
{
    (void)state;
    hoist_strbuf b;
    hoist_strbuf_init(&b);
    assert_string_equal(hoist_strbuf_cstr(&b), "");
    hoist_strbuf_str(&b, "k=");
    hoist_strbuf_int(&b, 0);
    hoist_strbuf_char(&b, ',');
    hoist_strbuf_int(&b, -42);
    hoist_strbuf_char(&b, ',');
    hoist_strbuf_int(&b, INT64_MIN);
    hoist_strbuf_char(&b, ',');
    hoist_strbuf_int(&b, INT64_MAX);
    hoist_strbuf_str(&b, NULL);
    assert_string_equal(hoist_strbuf_cstr(&b),
                        "k=0,-42,-9223372036854775808,9223372036854775807");
    hoist_strbuf_reset(&b);
    hoist_strbuf_ptr(&b, (const void *)(uintptr_t)0xbeef);
    hoist_strbuf_char(&b, '|');
    hoist_strbuf_ptr(&b, NULL);
    assert_string_equal(hoist_strbuf_cstr(&b), "beef|0");
    /* long text grows the buffer */
    hoist_strbuf_reset(&b);
    for (int i = 0; i < 1000; i++)
        hoist_strbuf_str(&b, "abcdefghij");
    assert_int_equal(strlen(hoist_strbuf_cstr(&b)), 10000);
    assert_int_equal(b.len, 10000);
    hoist_strbuf_free(&b);
    assert_null(b.s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_appends),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
