/* tests/e2e/run_hoist.c - run the built hoist binary; see run_hoist.h. */
#include "run_hoist.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

const char *env_or(const char *name, const char *fallback)
{
    const char *v = getenv(name);
    return v && *v ? v : fallback;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    assert_non_null(buf);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (cap - n - 1 == 0) {
            cap *= 2;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
    }
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* Run "$HOIST_BUILDDIR/hoist ARGS" (ARGS is shell text), capturing both streams. */
run_result run_hoist(const char *fmt, ...)
{
    char args[2048], cmd[4096], out_path[] = "/tmp/hoist-e2e-out-XXXXXX",
                                 err_path[] = "/tmp/hoist-e2e-err-XXXXXX";
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    int fo = mkstemp(out_path), fe = mkstemp(err_path);
    assert_true(fo >= 0 && fe >= 0);
    close(fo);
    close(fe);
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s/hoist' %s >'%s' 2>'%s'",
             env_or("HOIST_SRCDIR", "."), env_or("HOIST_BUILDDIR", "."), args, out_path,
             err_path);
    int rc = system(cmd);
    run_result r;
    r.status = (rc != -1 && WIFEXITED(rc)) ? WEXITSTATUS(rc) : -1;
    r.out = slurp(out_path);
    r.err = slurp(err_path);
    unlink(out_path);
    unlink(err_path);
    return r;
}

void run_free(run_result *r)
{
    free(r->out);
    free(r->err);
}

