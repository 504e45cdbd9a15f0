/* tests/unit/test_kubeconfig.c - kubeconfig and in-cluster configuration, good and bad. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "kube/kubeconfig.h"

/* "-----BEGIN CERTIFICATE-----\nCA\n" in base64 */
#define CA_B64 "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCkNBCg=="
#define CA_TEXT "-----BEGIN CERTIFICATE-----\nCA\n"

/* A temporary directory removed (with its files) by rm_tmpdir. */
static void make_tmpdir(char *dir, size_t size)
{
    snprintf(dir, size, "/tmp/hoist-kubecfg-XXXXXX");
    assert_non_null(mkdtemp(dir));
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void rm_tmpdir(const char *dir, const char *const *names)
{
    char path[512];
    for (size_t i = 0; names[i]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
}

static int parse(hoist_kube_config *c, const char *text, const char *context, bool insecure,
                 hoist_err *err)
{
    return hoist_kubeconfig_parse(c, "test.yaml", text, strlen(text), NULL, context, insecure,
                                  err);
}

/* Parse text, expect failure and a message containing want. */
static void expect_error(const char *text, const char *context, bool insecure, const char *want)
{
    hoist_kube_config c;
    hoist_err err = {{0}};
    assert_int_equal(parse(&c, text, context, insecure, &err), -1);
    if (!strstr(err.msg, want))
        fail_msg("message \"%s\" lacks \"%s\"", err.msg, want);
    assert_null(c.server); /* nothing kept */
    assert_null(c.source);
}

static const char good[] =
    "apiVersion: v1\n"
    "kind: Config\n"
    "current-context: prod\n"
    "clusters:\n"
    "- name: dev-cluster\n"
    "  cluster: {server: 'http://127.0.0.1:8080'}\n"
    "- name: prod-cluster\n"
    "  cluster:\n"
    "    server: https://api.example.com:6443/\n"
    "    certificate-authority-data: " CA_B64 "\n"
    "contexts:\n"
    "- name: dev\n"
    "  context: {cluster: dev-cluster}\n"
    "- name: prod\n"
    "  context: {cluster: prod-cluster, user: admin, namespace: team-a}\n"
    "users:\n"
    "- name: admin\n"
    "  user:\n"
    "    client-certificate-data: Q0VSVA==\n"
    "    client-key-data: S0VZ\n"
    "    token: s3cret\n";

static void test_current_context(void **state)
{
    (void)state;
    hoist_kube_config c;
    hoist_err err = {{0}};
    assert_int_equal(parse(&c, good, NULL, false, &err), 0);
    assert_string_equal(c.server, "https://api.example.com:6443"); /* trailing / dropped */
    assert_string_equal(c.context, "prod");
    assert_string_equal(c.ns, "team-a");
    assert_string_equal(c.ca.data, CA_TEXT);
    assert_int_equal(c.ca.len, strlen(CA_TEXT));
    assert_string_equal(c.cert.data, "CERT");
    assert_string_equal(c.key.data, "KEY");
    assert_string_equal(c.token, "s3cret");
    assert_null(c.token_file);
    assert_false(c.insecure);
    assert_string_equal(c.source, "kubeconfig test.yaml");
    hoist_kube_config_free(&c);
    assert_null(c.server);
}

static void test_named_context_anonymous(void **state)
{
    (void)state;
    hoist_kube_config c;
    hoist_err err = {{0}};
    assert_int_equal(parse(&c, good, "dev", false, &err), 0);
    assert_string_equal(c.server, "http://127.0.0.1:8080");
    assert_string_equal(c.ns, "default");
    assert_null(c.token);
    assert_null(c.cert.data);
    assert_null(c.ca.data);
    hoist_kube_config_free(&c);
}

static void test_json_kubeconfig(void **state)
{
    (void)state;
    const char *text =
        "{\"current-context\":\"x\",\"clusters\":[{\"name\":\"c\",\"cluster\":"
        "{\"server\":\"https://10.0.0.1\"}}],\"contexts\":[{\"name\":\"x\",\"context\":"
        "{\"cluster\":\"c\",\"user\":\"u\"}}],\"users\":[{\"name\":\"u\",\"user\":"
        "{\"token\":\"t\"}}]}";
    hoist_kube_config c;
    hoist_err err = {{0}};
    assert_int_equal(parse(&c, text, NULL, false, &err), 0);
    assert_string_equal(c.server, "https://10.0.0.1");
    assert_string_equal(c.token, "t");
    hoist_kube_config_free(&c);
}

static void test_files_relative_to_kubeconfig(void **state)
{
    (void)state;
    char dir[64];
    make_tmpdir(dir, sizeof dir);
    write_file(dir, "ca.pem", "CA-PEM\n");
    write_file(dir, "client.crt", "CRT-PEM\n");
    write_file(dir, "client.key", "KEY-PEM\n");
    write_file(dir, "tok", "  file-token\n\n");
    write_file(dir, "config",
               "current-context: c\n"
               "clusters: [{name: k, cluster: {server: 'https://h:1', "
               "certificate-authority: ca.pem}}]\n"
               "contexts: [{name: c, context: {cluster: k, user: u}}]\n"
               "users: [{name: u, user: {client-certificate: client.crt, "
               "client-key: client.key, tokenFile: tok}}]\n");
    char path[256];
    snprintf(path, sizeof path, "%s/config", dir);
    hoist_kube_config c;
    hoist_err err = {{0}};
    assert_int_equal(hoist_kubeconfig_load(&c, path, NULL, false, &err), 0);
    assert_string_equal(c.ca.data, "CA-PEM\n");
    assert_string_equal(c.cert.data, "CRT-PEM\n");
    assert_string_equal(c.key.data, "KEY-PEM\n");
    assert_string_equal(c.token, "file-token"); /* whitespace trimmed */
    assert_non_null(c.token_file);
    assert_non_null(strstr(c.token_file, "/tok"));

    /* rotation: a new mtime makes the next refresh re-read it */
    assert_int_equal(hoist_kube_config_refresh_token(&c, 1000, &err), 0);
    write_file(dir, "tok", "rotated\n");
    char tok[256];
    snprintf(tok, sizeof tok, "%s/tok", dir);
    struct timeval tv[2] = {{1000000, 0}, {1000000, 0}};
    assert_int_equal(utimes(tok, tv), 0);
    assert_int_equal(hoist_kube_config_refresh_token(&c, 2000, &err), 1);
    assert_string_equal(c.token, "rotated");
    /* same mtime, younger than 60 s: not re-read even if the bytes changed */
    write_file(dir, "tok", "sneaky\n");
    assert_int_equal(utimes(tok, tv), 0);
    assert_int_equal(hoist_kube_config_refresh_token(&c, 3000, &err), 0);
    assert_string_equal(c.token, "rotated");
    /* 60 s later it is re-read anyway */
    assert_int_equal(hoist_kube_config_refresh_token(&c, 2000 + HOIST_KUBE_TOKEN_MAX_AGE_MS,
                                                     &err), 1);
    assert_string_equal(c.token, "sneaky");
    /* file gone: an error naming it, the old token stays */
    unlink(tok);
    assert_int_equal(hoist_kube_config_refresh_token(&c, 999999, &err), -1);
    assert_non_null(strstr(err.msg, "/tok"));
    assert_string_equal(c.token, "sneaky");
    hoist_kube_config_free(&c);
    rm_tmpdir(dir, (const char *const[]){"ca.pem", "client.crt", "client.key", "config", NULL});
}

static void test_default_path(void **state)
{
    (void)state;
    char buf[128];
    assert_string_equal(hoist_kubeconfig_default_path("/a/one:/b/two", "/home/x", buf,
                                                      sizeof buf), "/a/one");
    assert_string_equal(hoist_kubeconfig_default_path("", "/home/x", buf, sizeof buf),
                        "/home/x/.kube/config");
    assert_string_equal(hoist_kubeconfig_default_path(NULL, "/home/x", buf, sizeof buf),
                        "/home/x/.kube/config");
    assert_null(hoist_kubeconfig_default_path(NULL, NULL, buf, sizeof buf));
    assert_null(hoist_kubeconfig_default_path(":/b", NULL, buf, sizeof buf));
    assert_null(hoist_kubeconfig_default_path("/a/very/long/path", NULL, buf, 4));
}

static void test_base64(void **state)
{
    (void)state;
    hoist_kube_bytes b;
    hoist_err err = {{0}};
    assert_int_equal(hoist_kube_base64_decode("aGVsbG8=", 8, &b, &err), 0);
    assert_string_equal(b.data, "hello");
    free(b.data);
    assert_int_equal(hoist_kube_base64_decode("aGVsbG8", 7, &b, &err), 0); /* unpadded */
    assert_string_equal(b.data, "hello");
    free(b.data);
    assert_int_equal(hoist_kube_base64_decode("aGV*bG8=", 8, &b, &err), -1);
    assert_string_equal(err.msg, "not valid base64 (character 4)");
    assert_null(b.data);
    assert_int_equal(hoist_kube_base64_decode("aGVsb", 5, &b, &err), -1);
    assert_non_null(strstr(err.msg, "truncated"));
    assert_int_equal(hoist_kube_base64_decode("", 0, &b, &err), -1);
    assert_int_equal(hoist_kube_base64_decode("aGVsbA=", 7, &b, &err), -1);
    assert_non_null(strstr(err.msg, "padding"));
}

/* ---- bad input ----------------------------------------------------------- */

#define CLUSTERS "clusters: [{name: k, cluster: {server: 'https://h'}}]\n"
#define CONTEXTS "contexts: [{name: c, context: {cluster: k, user: u}}]\n"
#define USERS "users: [{name: u, user: {token: t}}]\n"

static void test_bad_garbage(void **state)
{
    (void)state;
    expect_error("current-context: [unclosed\n", NULL, false, "kubeconfig test.yaml:");
    expect_error("{\"a\": }", NULL, false, "kubeconfig test.yaml");
    expect_error("- just\n- a list\n", NULL, false, "expected a Kubernetes object");
    expect_error("a: 1\n---\nb: 2\n", NULL, false, "expected one document, found 2");
}

static void test_bad_current_context(void **state)
{
    (void)state;
    expect_error(CLUSTERS CONTEXTS USERS, NULL, false,
                 "kubeconfig test.yaml: current-context: not set");
    expect_error("current-context: 7\n" CLUSTERS CONTEXTS USERS, NULL, false,
                 "current-context: expected a string");
    expect_error("current-context: nope\n" CLUSTERS CONTEXTS USERS, NULL, false,
                 "contexts: no context named \"nope\"");
    expect_error("current-context: c\n" CLUSTERS CONTEXTS USERS, "x", false,
                 "contexts: no context named \"x\"");
    expect_error("current-context: c\n" CLUSTERS USERS, NULL, false,
                 "contexts: no context named \"c\" (the list is empty)");
    expect_error("current-context: c\n" CLUSTERS "contexts: [{name: c}]\n" USERS, NULL, false,
                 "contexts[0].context: required");
    expect_error("current-context: c\n" CLUSTERS "contexts: [{context: {}}]\n" USERS, NULL,
                 false, "contexts[0].name: required");
    expect_error("current-context: c\n" CLUSTERS "contexts: {c: 1}\n" USERS, NULL, false,
                 "contexts: expected a list");
    expect_error("current-context: c\n" CLUSTERS "contexts: [{name: c, context: {user: u}}]\n"
                 USERS, NULL, false, "contexts[0].context.cluster: required");
}

static void test_bad_references(void **state)
{
    (void)state;
    expect_error("current-context: c\n"
                 "clusters: [{name: other, cluster: {server: 'https://h'}}]\n" CONTEXTS USERS,
                 NULL, false, "contexts[0].context.cluster: clusters: no cluster named \"k\"");
    expect_error("current-context: c\n" CLUSTERS CONTEXTS
                 "users: [{name: someone, user: {token: t}}]\n",
                 NULL, false, "contexts[0].context.user: users: no user named \"u\"");
}

static void test_bad_base64(void **state)
{
    (void)state;
    expect_error("current-context: c\n" CLUSTERS CONTEXTS
                 "users: [{name: u, user: {client-certificate-data: Q0VSVA==, "
                 "client-key-data: 'S0V!Z'}}]\n",
                 NULL, false,
                 "kubeconfig test.yaml: users[0].user.client-key-data: not valid base64 "
                 "(character 4)");
    expect_error("current-context: c\n"
                 "clusters: [{name: k, cluster: {server: 'https://h', "
                 "certificate-authority-data: '%%%'}}]\n" CONTEXTS USERS,
                 NULL, false, "clusters[0].cluster.certificate-authority-data: not valid base64");
    expect_error("current-context: c\n" CLUSTERS CONTEXTS
                 "users: [{name: u, user: {client-certificate-data: Q0VSVA==}}]\n",
                 NULL, false, "users[0].user.client-key: required with client-certificate");
}

static void test_bad_insecure_and_server(void **state)
{
    (void)state;
    const char *insecure = "current-context: c\n"
                           "clusters: [{name: k, cluster: {server: 'https://h', "
                           "insecure-skip-tls-verify: true}}]\n" CONTEXTS USERS;
    expect_error(insecure, NULL, false,
                 "clusters[0].cluster.insecure-skip-tls-verify: refused");
    hoist_kube_config c;
    hoist_err err = {{0}};
    assert_int_equal(parse(&c, insecure, NULL, true, &err), 0);
    assert_true(c.insecure);
    hoist_kube_config_free(&c);
    expect_error("current-context: c\n"
                 "clusters: [{name: k, cluster: {server: 'https://h', "
                 "insecure-skip-tls-verify: 'yes'}}]\n" CONTEXTS USERS,
                 NULL, true, "insecure-skip-tls-verify: expected true or false");
    expect_error("current-context: c\nclusters: [{name: k, cluster: {}}]\n" CONTEXTS USERS,
                 NULL, false, "clusters[0].cluster.server: required");
    expect_error("current-context: c\nclusters: [{name: k, cluster: {server: 12}}]\n"
                 CONTEXTS USERS, NULL, false, "clusters[0].cluster.server: expected a string");
    expect_error("current-context: c\nclusters: [{name: k, cluster: {server: 'ftp://h'}}]\n"
                 CONTEXTS USERS, NULL, false,
                 "clusters[0].cluster.server: \"ftp://h\" is not an http");
}

static void test_bad_user_fields(void **state)
{
    (void)state;
    expect_error("current-context: c\n" CLUSTERS CONTEXTS
                 "users: [{name: u, user: {tokenFile: /nonexistent/hoist/token}}]\n",
                 NULL, false,
                 "users[0].user.tokenFile: cannot read /nonexistent/hoist/token: No such file");
    expect_error("current-context: c\n" CLUSTERS CONTEXTS
                 "users: [{name: u, user: {exec: {command: aws}}}]\n",
                 NULL, false, "users[0].user.exec: not supported");
    expect_error("current-context: c\n" CLUSTERS CONTEXTS
                 "users: [{name: u, user: {token: [1]}}]\n",
                 NULL, false, "users[0].user.token: expected a string");
    expect_error("current-context: c\n" CLUSTERS CONTEXTS
                 "users: [{name: u, user: {client-certificate: /nonexistent/c.crt, "
                 "client-key: /nonexistent/c.key}}]\n",
                 NULL, false, "users[0].user.client-certificate: cannot read /nonexistent/c.crt");
    hoist_kube_config c;
    hoist_err err = {{0}};
    assert_int_equal(hoist_kubeconfig_load(&c, "/nonexistent/hoist/config", NULL, false, &err),
                     -1);
    assert_non_null(strstr(err.msg, "kubeconfig: cannot read /nonexistent/hoist/config"));
}

/* ---- in-cluster ---------------------------------------------------------- */

static void test_incluster(void **state)
{
    (void)state;
    char dir[64];
    make_tmpdir(dir, sizeof dir);
    write_file(dir, "ca.crt", "SA-CA\n");
    write_file(dir, "token", "sa-token\n");
    write_file(dir, "namespace", "kube-system\n");
    hoist_kube_config c;
    hoist_err err = {{0}};

    setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
    setenv("KUBERNETES_SERVICE_PORT", "443", 1);
    assert_int_equal(hoist_kube_incluster_load(&c, dir, 5, &err), 0);
    assert_string_equal(c.server, "https://10.96.0.1:443");
    assert_string_equal(c.ca.data, "SA-CA\n");
    assert_string_equal(c.token, "sa-token");
    assert_string_equal(c.ns, "kube-system");
    assert_string_equal(c.source, "in-cluster");
    assert_int_equal(c.token_read_ms, 5);
    hoist_kube_config_free(&c);

    /* IPv6 service host is bracketed */
    setenv("KUBERNETES_SERVICE_HOST", "fd00:10:96::1", 1);
    assert_int_equal(hoist_kube_incluster_load(&c, dir, 0, &err), 0);
    assert_string_equal(c.server, "https://[fd00:10:96::1]:443");
    hoist_kube_config_free(&c);

    setenv("KUBERNETES_SERVICE_PORT", "99999", 1);
    assert_int_equal(hoist_kube_incluster_load(&c, dir, 0, &err), -1);
    assert_non_null(strstr(err.msg, "KUBERNETES_SERVICE_PORT: \"99999\" is not a port"));
    assert_null(c.server);
    setenv("KUBERNETES_SERVICE_PORT", "443", 1);

    unsetenv("KUBERNETES_SERVICE_HOST");
    assert_int_equal(hoist_kube_incluster_load(&c, dir, 0, &err), -1);
    assert_non_null(strstr(err.msg, "KUBERNETES_SERVICE_HOST is not set"));

    setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
    char tok[128];
    snprintf(tok, sizeof tok, "%s/token", dir);
    unlink(tok);
    assert_int_equal(hoist_kube_incluster_load(&c, dir, 0, &err), -1);
    assert_non_null(strstr(err.msg, "in-cluster: service account token: cannot read"));
    assert_null(c.token);
    unsetenv("KUBERNETES_SERVICE_HOST");
    unsetenv("KUBERNETES_SERVICE_PORT");
    rm_tmpdir(dir, (const char *const[]){"ca.crt", "namespace", NULL});
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_current_context),
        cmocka_unit_test(test_named_context_anonymous),
        cmocka_unit_test(test_json_kubeconfig),
        cmocka_unit_test(test_files_relative_to_kubeconfig),
        cmocka_unit_test(test_default_path),
        cmocka_unit_test(test_base64),
        cmocka_unit_test(test_bad_garbage),
        cmocka_unit_test(test_bad_current_context),
        cmocka_unit_test(test_bad_references),
        cmocka_unit_test(test_bad_base64),
        cmocka_unit_test(test_bad_insecure_and_server),
        cmocka_unit_test(test_bad_user_fields),
        cmocka_unit_test(test_incluster),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
