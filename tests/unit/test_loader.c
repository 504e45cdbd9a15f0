/* tests/unit/test_loader.c - loading provider plugins, good and broken (tests/plugins). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host/host.h"
#include "plugin/loader.h"

static char plugin_dir[4096];

/* Path of test plugin `name` (built by libtool into tests/plugins/.libs). */
static const char *plugin(const char *name)
{
    static char path[4200];
    snprintf(path, sizeof path, "%s/.libs/%s.so", plugin_dir, name);
    return path;
}

/* Open `name` expecting failure; the message must name the file and contain `want`. */
static void expect_open_error(const char *path, const char *want)
{
    hoist_err err = {{0}};
    hoist_plugin *p = hoist_plugin_open(path, &err);
    if (p)
        hoist_plugin_close(p);
    assert_null(p);
    if (!strstr(err.msg, want) || !strstr(err.msg, path))
        fail_msg("message \"%s\" lacks \"%s\" or the path", err.msg, want);
}

static void test_missing_file(void **state)
{
    (void)state;
    expect_open_error("/nonexistent/dir/nothing.so", "no such file");
}

static void test_directory(void **state)
{
    (void)state;
    expect_open_error(plugin_dir, "not a regular file");
}

static void test_not_a_shared_object(void **state)
{
    (void)state;
    char path[] = "/tmp/hoist-test-fakeXXXXXX.so";
    int fd = mkstemps(path, 3);
    assert_true(fd >= 0);
    const char text[] = "this is a text file, not an ELF object\n";
    assert_int_equal(write(fd, text, sizeof text - 1), (ssize_t)(sizeof text - 1));
    close(fd);
    expect_open_error(path, "cannot load shared object");
    unlink(path);
}

static void test_missing_symbol(void **state)
{
    (void)state;
    expect_open_error(plugin("no_symbol"), "missing symbol hoist_provider_entry");
}

static void test_entry_returns_null(void **state)
{
    (void)state;
    expect_open_error(plugin("null_entry"), "returned NULL");
    expect_open_error(plugin("null_entry"), "refused this core's provider ABI 1.0");
}

static void test_wrong_major(void **state)
{
    (void)state;
    expect_open_error(plugin("bad_major"), "built for provider ABI 2.3, but this hoist supports ABI 1.0");
}

static void test_too_small(void **state)
{
    (void)state;
    expect_open_error(plugin("small_size"), "descriptor size 16 is smaller than");
}

static void test_missing_required_op(void **state)
{
    (void)state;
    expect_open_error(plugin("missing_op"), "missing required operation 'launch'");
}

static void test_capability_mismatch(void **state)
{
    (void)state;
    expect_open_error(plugin("cap_mismatch"),
                      "declares capability 'events' but has no watch_events operation");
}

static void test_older_minimal_descriptor(void **state)
{
    (void)state;
    hoist_err err = {{0}};
    hoist_plugin *p = hoist_plugin_open(plugin("min_size"), &err);
    assert_non_null(p);
    const hoist_provider *d = hoist_plugin_descriptor(p);
    assert_int_equal(d->size, HOIST_PROVIDER_MIN_SIZE);
    assert_false(HOIST_PROVIDER_HAS(d, watch_events));
    /* the plugin's struct has a pointer there, beyond its size: not copied */
    assert_null(d->watch_events);
    assert_null(d->control);
    hoist_plugin_close(p);
}

/* A loop, services and metrics for starting plugins. */
typedef struct env {
    uv_loop_t loop;
    hoist_logger log;
    char *log_text;
    size_t log_len;
    FILE *log_out;
    hoist_metrics *metrics;
    hoist_services *svc;
} env;

static void env_init(env *e)
{
    memset(e, 0, sizeof *e);
    assert_int_equal(uv_loop_init(&e->loop), 0);
    e->log_out = open_memstream(&e->log_text, &e->log_len);
    hoist_logger_init(&e->log, e->log_out, HOIST_LOG_DEBUG);
    e->log.timestamps = false;
    e->metrics = hoist_metrics_new();
    e->svc = hoist_services_new(&e->loop, &e->log, e->metrics, "testplugin", NULL);
    assert_non_null(e->svc);
}

static void env_free(env *e)
{
    hoist_services_close(e->svc);
    uv_run(&e->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&e->loop), 0);
    fclose(e->log_out);
    free(e->log_text);
    hoist_metrics_free(e->metrics);
}

static void test_init_failure(void **state)
{
    (void)state;
    env e;
    env_init(&e);
    hoist_err err = {{0}};
    hoist_plugin *p = hoist_plugin_open(plugin("init_fail"), &err);
    assert_non_null(p);
    assert_int_equal(hoist_plugin_start(p, hoist_services_host(e.svc), NULL, &err), -1);
    assert_non_null(strstr(err.msg, "plugin testplugin: init failed (unauthorized): "
                                    "test plugin: credentials rejected by the fake cloud"));
    assert_null(hoist_plugin_state(p));
    hoist_plugin_close(p); /* never started: destroy is not called */
    env_free(&e);
}

typedef struct results {
    int catalogs, launches, lists;
    char type[32];
    char instance[32];
    size_t n_machines;
} results;

static void on_catalog(void *arg, const hoist_error *err, const hoist_instance_type *types,
                       size_t n)
{
    results *r = arg;
    assert_null(err);
    assert_int_equal(n, 1);
    r->catalogs++;
    snprintf(r->type, sizeof r->type, "%s", types[0].name);
}

static void on_launch(void *arg, const hoist_error *err, const hoist_machine *m,
                      const hoist_launch_offering *exhausted, size_t n_exhausted)
{
    (void)exhausted;
    results *r = arg;
    assert_null(err);
    assert_int_equal(n_exhausted, 0);
    r->launches++;
    snprintf(r->instance, sizeof r->instance, "%s", m->instance_id);
}

static void on_list(void *arg, const hoist_error *err, const hoist_machine *m, size_t n)
{
    (void)m;
    results *r = arg;
    assert_null(err);
    r->lists++;
    r->n_machines = n;
}

static void test_good_plugin_lifecycle(void **state)
{
    (void)state;
    env e;
    env_init(&e);
    hoist_err err = {{0}};
    hoist_plugin *p = hoist_plugin_open(plugin("good"), &err);
    if (!p)
        fail_msg("%s", err.msg);
    const hoist_provider *d = hoist_plugin_descriptor(p);
    assert_string_equal(d->name, "testplugin");
    assert_string_equal(d->version, "9.8.7");
    assert_int_equal(d->abi_version, HOIST_PROVIDER_ABI_VERSION);
    assert_int_equal(d->size, sizeof(hoist_provider));
    assert_int_equal(d->capabilities, HOIST_CAP_ON_DEMAND | HOIST_CAP_SPOT | HOIST_CAP_CONTROL);
    assert_string_equal(hoist_plugin_path(p), plugin("good"));

    assert_int_equal(hoist_plugin_start(p, hoist_services_host(e.svc), "{\"zones\": 1}", &err), 0);
    void *st = hoist_plugin_state(p);
    assert_non_null(st);
    assert_int_equal(hoist_plugin_start(p, hoist_services_host(e.svc), NULL, &err), -1);
    assert_non_null(strstr(err.msg, "already started"));
    /* init used the host: a log line and a prefixed metric */
    fflush(e.log_out);
    assert_non_null(strstr(e.log_text, "component=provider/testplugin msg=\"test plugin started "
                                       "with config {\\\"zones\\\": 1}\""));
    hoist_kv label = {"plugin", "test"};
    double v = 0;
    assert_int_equal(hoist_metrics_get(e.metrics, "hoist_provider_inits_total", &label, 1, &v), 0);
    assert_true(v == 1);

    /* asynchronous operations complete on the loop, never inline */
    results r = {0};
    hoist_error perr;
    assert_int_equal(d->catalog(st, on_catalog, &r, &perr), HOIST_OK);
    hoist_launch_offering off = {.struct_size = sizeof off, .instance_type = "t.small",
                                 .zone = "test-zone-a", .capacity_type = HOIST_CAPACITY_SPOT,
                                 .price = 0.03};
    hoist_launch_request req = {.struct_size = sizeof req, .claim = "c1", .cluster = "k", .nodepool = "np",
                                .offerings = &off, .n_offerings = 1};
    assert_int_equal(d->launch(st, &req, on_launch, &r, &perr), HOIST_OK);
    assert_int_equal(d->list(st, NULL, 0, on_list, &r, &perr), HOIST_OK);
    assert_int_equal(r.catalogs + r.launches + r.lists, 0);
    uv_run(&e.loop, UV_RUN_DEFAULT);
    assert_int_equal(r.catalogs, 1);
    assert_string_equal(r.type, "t.small");
    assert_int_equal(r.launches, 1);
    assert_string_equal(r.instance, "i-test0");
    assert_int_equal(r.lists, 1);
    assert_int_equal(r.n_machines, 1);
    assert_int_equal(d->control(st, "{}", &perr), HOIST_OK);

    /* a pending operation is abandoned by stop (destroy cancels its timer) */
    results late = {0};
    assert_int_equal(d->catalog(st, on_catalog, &late, &perr), HOIST_OK);
    hoist_plugin_stop(p);
    assert_null(hoist_plugin_state(p));
    uv_run(&e.loop, UV_RUN_DEFAULT);
    assert_int_equal(late.catalogs, 0);

    /* it can be started again, here with a config it rejects */
    assert_int_equal(hoist_plugin_start(p, hoist_services_host(e.svc), "{\"fail\": true}", &err), -1);
    assert_non_null(strstr(err.msg, "init failed (invalid): test plugin: config asked to fail"));
    hoist_plugin_close(p);
    env_free(&e);
}

static void test_resolve(void **state)
{
    (void)state;
    hoist_err err = {{0}};
    /* paths pass through untouched */
    char *path = hoist_plugin_resolve("./x/y.so", NULL, 0, &err);
    assert_string_equal(path, "./x/y.so");
    free(path);
    path = hoist_plugin_resolve("relative.so", NULL, 0, &err);
    assert_string_equal(path, "relative.so");
    free(path);
    /* a bare name: D/.libs/N.so in the second directory */
    const char *dirs[] = {"/nonexistent", plugin_dir};
    path = hoist_plugin_resolve("good", dirs, 2, &err);
    assert_non_null(path);
    assert_string_equal(path, plugin("good"));
    free(path);
    /* D/N/.libs/N.so, as plugins/<name>/ in a build tree */
    char parent[4200];
    snprintf(parent, sizeof parent, "%s/..", plugin_dir);
    const char *dirs2[] = {parent};
    path = hoist_plugin_resolve("plugins", dirs2, 1, &err);
    assert_null(path); /* tests/plugins/.libs/plugins.so does not exist */
    path = hoist_plugin_resolve("nosuch", dirs, 2, &err);
    assert_null(path);
    assert_non_null(strstr(err.msg, "plugin nosuch: nosuch.so not found in /nonexistent, "));
    assert_non_null(strstr(err.msg, plugin_dir));
    assert_null(hoist_plugin_resolve("", dirs, 2, &err));
    assert_non_null(strstr(err.msg, "empty name"));

    char tmp[] = "/tmp/hoist-test-dirsXXXXXX";
    assert_non_null(mkdtemp(tmp));
    char sub[4200], file[4300];
    snprintf(sub, sizeof sub, "%s/foo", tmp);
    assert_int_equal(mkdir(sub, 0700), 0);
    snprintf(sub, sizeof sub, "%s/foo/.libs", tmp);
    assert_int_equal(mkdir(sub, 0700), 0);
    snprintf(file, sizeof file, "%s/foo.so", sub);
    FILE *fp = fopen(file, "w");
    assert_non_null(fp);
    fclose(fp);
    const char *dirs3[] = {tmp};
    path = hoist_plugin_resolve("foo", dirs3, 1, &err);
    assert_non_null(path);
    assert_string_equal(path, file);
    free(path);
    unlink(file);
    rmdir(sub);
    snprintf(sub, sizeof sub, "%s/foo", tmp);
    rmdir(sub);
    rmdir(tmp);
}

static void test_default_dirs(void **state)
{
    (void)state;
    setenv("HOIST_PLUGIN_PATH", "/a::/b/c:", 1);
    size_t n = 0;
    char **dirs = hoist_plugin_default_dirs("/build/plugins", &n);
    assert_non_null(dirs);
    assert_int_equal(n, 4);
    assert_string_equal(dirs[0], "/a");
    assert_string_equal(dirs[1], "/b/c");
    assert_string_equal(dirs[2], "/build/plugins");
    assert_string_equal(dirs[3], HOIST_PKGLIBDIR);
    assert_null(dirs[4]);
    hoist_plugin_dirs_free(dirs);
    unsetenv("HOIST_PLUGIN_PATH");
    dirs = hoist_plugin_default_dirs(NULL, &n);
    assert_int_equal(n, 1);
    assert_string_equal(dirs[0], HOIST_PKGLIBDIR);
    hoist_plugin_dirs_free(dirs);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(hoist_capability_name(HOIST_CAP_SPOT), "spot");
    assert_string_equal(hoist_capability_name(HOIST_CAP_CONTROL), "control");
    assert_null(hoist_capability_name(1u << 30));
    char buf[16];
    assert_string_equal(hoist_abi_format((3u << 16) | 12u, buf, sizeof buf), "3.12");
}

int main(void)
{
    const char *build = getenv("HOIST_BUILDDIR");
    snprintf(plugin_dir, sizeof plugin_dir, "%s/tests/plugins", build ? build : ".");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_directory),
        cmocka_unit_test(test_not_a_shared_object),
        cmocka_unit_test(test_missing_symbol),
        cmocka_unit_test(test_entry_returns_null),
        cmocka_unit_test(test_wrong_major),
        cmocka_unit_test(test_too_small),
        cmocka_unit_test(test_missing_required_op),
        cmocka_unit_test(test_capability_mismatch),
        cmocka_unit_test(test_older_minimal_descriptor),
        cmocka_unit_test(test_init_failure),
        cmocka_unit_test(test_good_plugin_lifecycle),
        cmocka_unit_test(test_resolve),
        cmocka_unit_test(test_default_dirs),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
