/*
 * tests/e2e/run_hoist.h - run the built hoist binary from an end-to-end test
 * (cwd $HOIST_SRCDIR, binary $HOIST_BUILDDIR/hoist) and capture its output.
 */
#ifndef HOIST_TESTS_RUN_HOIST_H
#define HOIST_TESTS_RUN_HOIST_H

/* Output and exit status of one hoist run. */
typedef struct run_result {
    char *out;   /* stdout (malloc'd) */
    char *err;   /* stderr (malloc'd) */
    int status;  /* exit status, or -1 when it did not exit normally */
} run_result;

/* Value of environment variable `name`, or fallback when unset or empty. */
const char *env_or(const char *name, const char *fallback);
/* Run "$HOIST_BUILDDIR/hoist ARGS" (ARGS is shell text, printf-style). */
run_result run_hoist(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Free a result's buffers. */
void run_free(run_result *r);

#endif
