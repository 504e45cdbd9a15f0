/*
 * tests/unit/test_reloader.c - policies reload without a restart: SIGHUP
 * swaps in the new file, a file that fails to load leaves the old policy in
 * force and says why, and a changed file is noticed by polling.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy/reloader.h"

typedef struct fixture {
    char dir[64];
    char path[128];
    uv_loop_t loop;
    hoist_policy *policy;
    hoist_policy_reloader r;
    int callbacks, ok_callbacks;
} fixture;

static void write_file(const char *path, const char *text)
{
    /* write a new file and rename it over the old one, as editors do */
    char tmp[160];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_int_equal(rename(tmp, path), 0);
}

static void on_reload(void *arg, hoist_policy *in_force, bool ok, const hoist_err *err)
{
    fixture *f = arg;
    f->callbacks++;
    f->ok_callbacks += ok;
    assert_ptr_equal(in_force, f->policy);
    assert_true(ok == (err == NULL));
}

static void stop_loop(uv_timer_t *t)
{
    uv_stop(t->loop);
}

/* Run the loop for about ms milliseconds. */
static void spin(fixture *f, uint64_t ms)
{
    uv_timer_t t;
    uv_timer_init(&f->loop, &t);
    uv_timer_start(&t, stop_loop, ms, 0);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(&f->loop, UV_RUN_NOWAIT);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/hoist-reload-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/policy.lua", f->dir);
    write_file(f->path, "return { name = 'first', score_type = function() return 1 end }\n");
    hoist_err err = {{0}};
    f->policy = hoist_policy_load(f->path, NULL, &err);
    assert_non_null(f->policy);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    hoist_policy_reloader_stop(&f->r);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_true(hoist_policy_reloader_closed(&f->r));
    assert_int_equal(uv_loop_close(&f->loop), 0);
    hoist_policy_free(f->policy);
    unlink(f->path);
    rmdir(f->dir);
    free(f);
    return 0;
}

static void test_sighup_reloads(void **state)
{
    fixture *f = *state;
    hoist_err err = {{0}};
    assert_int_equal(hoist_policy_reloader_start(&f->r, &f->loop, &f->policy, f->path, NULL, 0,
                                                 on_reload, f, &err),
                     0);
    write_file(f->path, "return { name = 'second', recycle = function() return nil end }\n");
    hoist_policy *before = f->policy;
    raise(SIGHUP);
    spin(f, 50);
    assert_int_equal(f->callbacks, 1);
    assert_int_equal(f->r.reloads, 1);
    assert_ptr_not_equal(f->policy, before);
    assert_string_equal(hoist_policy_name(f->policy), "second");
    assert_true(hoist_policy_has(f->policy, "recycle"));
    assert_false(hoist_policy_has(f->policy, "score_type"));
}

static void test_broken_file_keeps_old_policy(void **state)
{
    fixture *f = *state;
    hoist_err err = {{0}};
    assert_int_equal(hoist_policy_reloader_start(&f->r, &f->loop, &f->policy, f->path, NULL, 0,
                                                 on_reload, f, &err),
                     0);
    write_file(f->path, "local x = \nreturn {\n");
    hoist_policy *before = f->policy;
    raise(SIGHUP);
    spin(f, 50);
    assert_int_equal(f->callbacks, 1);
    assert_int_equal(f->ok_callbacks, 0);
    assert_int_equal(f->r.failures, 1);
    assert_ptr_equal(f->policy, before);
    assert_string_equal(hoist_policy_name(f->policy), "first");
    /* the reason names the file and line */
    assert_non_null(strstr(f->r.last_error.msg, "policy.lua:"));
    /* the old policy still works */
    json_t *res = NULL;
    assert_int_equal(hoist_policy_call(f->policy, "score_type", NULL, &res, &err), 0);
    assert_int_equal(json_integer_value(res), 1);
    json_decref(res);
}

static void test_file_change_is_polled(void **state)
{
    fixture *f = *state;
    hoist_err err = {{0}};
    assert_int_equal(hoist_policy_reloader_start(&f->r, &f->loop, &f->policy, f->path, NULL, 5,
                                                 on_reload, f, &err),
                     0);
    spin(f, 30);
    assert_int_equal(f->callbacks, 0); /* nothing changed: no reload */
    write_file(f->path, "return { name = 'third' }\n");
    spin(f, 60);
    assert_int_equal(f->r.reloads, 1);
    assert_string_equal(hoist_policy_name(f->policy), "third");
    /* a broken version is tried once, not on every poll */
    write_file(f->path, "return 42\n");
    spin(f, 60);
    assert_int_equal(f->r.failures, 1);
    assert_string_equal(hoist_policy_name(f->policy), "third");
    spin(f, 30);
    assert_int_equal(f->r.failures, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sighup_reloads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_broken_file_keeps_old_policy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_change_is_polled, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
