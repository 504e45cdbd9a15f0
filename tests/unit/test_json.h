/*
 * tests/unit/test_json.h - JSON literals for unit tests. Include after
 * <cmocka.h> and <jansson.h>.
 */
#ifndef HOIST_TESTS_TEST_JSON_H
#define HOIST_TESTS_TEST_JSON_H

/* Parse a JSON literal of the test (any value); a bad literal fails the test. */
static inline json_t *parse(const char *text)
{
    json_error_t jerr;
    json_t *j = json_loads(text, JSON_DECODE_ANY, &jerr);
    if (!j)
        fail_msg("bad test JSON %s: %s", text, jerr.text);
    return j;
}

#endif
