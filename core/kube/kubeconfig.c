/* kube/kubeconfig.c - kubeconfig and in-cluster configuration; see kubeconfig.h. */
#include "kube/kubeconfig.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "model/load.h"

void hoist_kube_config_free(hoist_kube_config *c)
{
    if (!c)
        return;
    free(c->source);
    free(c->server);
    free(c->context);
    free(c->ns);
    free(c->ca.data);
    free(c->cert.data);
    free(c->key.data);
    free(c->token);
    free(c->token_file);
    memset(c, 0, sizeof *c);
}

/* ---- small helpers ----------------------------------------------------- */

static int b64_value(unsigned char ch)
{
    if (ch >= 'A' && ch <= 'Z')
        return ch - 'A';
    if (ch >= 'a' && ch <= 'z')
        return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9')
        return ch - '0' + 52;
    if (ch == '+')
        return 62;
    if (ch == '/')
        return 63;
    return -1;
}

int hoist_kube_base64_decode(const char *in, size_t len, hoist_kube_bytes *out, hoist_err *err)
{
    out->data = NULL;
    out->len = 0;
    size_t end = len;
    while (end > 0 && in[end - 1] == '=' && len - end < 2)
        end--;
    if (end == 0)
        return hoist_errf(err, "not valid base64 (empty)");
    if ((len - end) && len % 4)
        return hoist_errf(err, "not valid base64 (padding at character %zu)", end + 1);
    char *buf = malloc(end / 4 * 3 + 3 + 1);
    if (!buf)
        return hoist_errf(err, "out of memory");
    size_t n = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < end; i++) {
        int v = b64_value((unsigned char)in[i]);
        if (v < 0) {
            free(buf);
            return hoist_errf(err, "not valid base64 (character %zu)", i + 1);
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf[n++] = (char)((acc >> bits) & 0xff);
        }
    }
    if (end % 4 == 1) {
        free(buf);
        return hoist_errf(err, "not valid base64 (truncated: %zu characters)", end);
    }
    buf[n] = '\0';
    out->data = buf;
    out->len = n;
    return 0;
}

/* Read a whole small file into out (NUL-terminated). -1 with err "cannot read PATH: why". */
static int read_file(const char *path, hoist_kube_bytes *out, hoist_err *err)
{
    out->data = NULL;
    out->len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return hoist_errf(err, "cannot read %s: %s", path, strerror(errno));
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    if (!buf) {
        fclose(f);
        return hoist_errf(err, "%s: out of memory", path);
    }
    for (;;) {
        if (n + 1 >= cap) {
            if (cap >= HOIST_KUBE_MAX_FILE) {
                free(buf);
                fclose(f);
                return hoist_errf(err, "%s: larger than %u bytes", path, HOIST_KUBE_MAX_FILE);
            }
            char *p = realloc(buf, cap * 2);
            if (!p) {
                free(buf);
                fclose(f);
                return hoist_errf(err, "%s: out of memory", path);
            }
            buf = p;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - 1 - n, f);
        n += got;
        if (got == 0)
            break;
    }
    int bad = ferror(f);
    int saved = errno;
    fclose(f);
    if (bad) {
        free(buf);
        return hoist_errf(err, "cannot read %s: %s", path, strerror(saved));
    }
    buf[n] = '\0';
    out->data = buf;
    out->len = n;
    return 0;
}

/* A token file's text without surrounding whitespace; NULL when out of memory. */
static char *trimmed_copy(const char *s, size_t len)
{
    while (len && (s[len - 1] == '\n' || s[len - 1] == '\r' || s[len - 1] == ' ' ||
                   s[len - 1] == '\t'))
        len--;
    while (len && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r'))
        s++, len--;
    return strndup(s, len);
}

/* path joined to dir unless absolute (malloc'd; NULL when out of memory). */
static char *resolve(const char *dir, const char *path)
{
    char *out;
    if (path[0] == '/' || !dir || !*dir)
        return strdup(path);
    if (asprintf(&out, "%s/%s", dir, path) < 0)
        return NULL;
    return out;
}

static int64_t mtime_ns(const struct stat *st)
{
    return (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

/* Read the token file at c->token_file into c->token. */
static int load_token_file(hoist_kube_config *c, uint64_t now_ms, hoist_err *err)
{
    struct stat st;
    if (stat(c->token_file, &st) != 0)
        return hoist_errf(err, "cannot read %s: %s", c->token_file, strerror(errno));
    hoist_kube_bytes b;
    if (read_file(c->token_file, &b, err) < 0)
        return -1;
    char *tok = trimmed_copy(b.data, b.len);
    free(b.data);
    if (!tok)
        return hoist_errf(err, "%s: out of memory", c->token_file);
    if (!*tok) {
        free(tok);
        return hoist_errf(err, "%s: the token file is empty", c->token_file);
    }
    free(c->token);
    c->token = tok;
    c->token_mtime_ns = mtime_ns(&st);
    c->token_read_ms = now_ms;
    return 0;
}

int hoist_kube_config_refresh_token(hoist_kube_config *c, uint64_t now_ms, hoist_err *err)
{
    if (!c->token_file)
        return 0;
    struct stat st;
    if (stat(c->token_file, &st) != 0)
        return hoist_errf(err, "%s: token file %s: %s", c->source ? c->source : "kube",
                          c->token_file, strerror(errno));
    bool stale = now_ms < c->token_read_ms ||
                 now_ms - c->token_read_ms >= HOIST_KUBE_TOKEN_MAX_AGE_MS;
    if (mtime_ns(&st) == c->token_mtime_ns && !stale)
        return 0;
    char *old = c->token ? strdup(c->token) : NULL;
    if (c->token && !old)
        return hoist_errf(err, "out of memory");
    if (load_token_file(c, now_ms, err) < 0) {
        free(old);
        return hoist_err_prefix(err, "%s: token", c->source ? c->source : "kube");
    }
    int changed = !old || strcmp(old, c->token) != 0;
    free(old);
    return changed;
}

const char *hoist_kubeconfig_default_path(const char *kubeconfig_env, const char *home,
                                          char *buf, size_t size)
{
    if (kubeconfig_env && *kubeconfig_env) {
        size_t n = strcspn(kubeconfig_env, ":");
        if (n == 0 || n >= size)
            return NULL;
        memcpy(buf, kubeconfig_env, n);
        buf[n] = '\0';
        return buf;
    }
    if (!home || !*home)
        return NULL;
    int n = snprintf(buf, size, "%s/.kube/config", home);
    return n > 0 && (size_t)n < size ? buf : NULL;
}

/* ---- kubeconfig ---------------------------------------------------------- */

/* Find the entry named `name` in the array `list` of {"name", <inner>}
 * objects; *index gets its position. Errors name the array. */
static const json_t *named_entry(const json_t *root, const char *list, const char *inner,
                                 const char *name, size_t *index, hoist_err *err)
{
    const json_t *arr = json_object_get(root, list);
    if (!arr || json_is_null(arr)) {
        hoist_errf(err, "%s: no %.*s named \"%s\" (the list is empty)", list,
                   (int)strlen(list) - 1, list, name);
        return NULL;
    }
    if (!json_is_array(arr)) {
        hoist_errf(err, "%s: expected a list", list);
        return NULL;
    }
    size_t i;
    const json_t *e;
    json_array_foreach(arr, i, e) {
        if (!json_is_object(e)) {
            hoist_errf(err, "%s[%zu]: expected a mapping", list, i);
            return NULL;
        }
        const json_t *n = json_object_get(e, "name");
        if (!json_is_string(n)) {
            hoist_errf(err, "%s[%zu].name: %s", list, i,
                       n ? "expected a string" : "required");
            return NULL;
        }
        if (strcmp(json_string_value(n), name) != 0)
            continue;
        const json_t *body = json_object_get(e, inner);
        if (!json_is_object(body)) {
            hoist_errf(err, "%s[%zu].%s: %s", list, i, inner,
                       body && !json_is_null(body) ? "expected a mapping" : "required");
            return NULL;
        }
        *index = i;
        return body;
    }
    hoist_errf(err, "%s: no %.*s named \"%s\"", list, (int)strlen(list) - 1, list, name);
    return NULL;
}

/* An optional string field at `where`.`key`: 0 with *out (NULL when absent or
 * empty), -1 on a wrong type. */
static int opt_str(const json_t *obj, const char *where, const char *key, const char **out,
                   hoist_err *err)
{
    const json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return hoist_errf(err, "%s.%s: expected a string", where, key);
    if (*json_string_value(v))
        *out = json_string_value(v);
    return 0;
}

/* PEM bytes from `key` (a file) or `key`-data (base64) of obj at where. */
static int pem_field(const json_t *obj, const char *where, const char *key, const char *dir,
                     hoist_kube_bytes *out, hoist_err *err)
{
    char data_key[96];
    snprintf(data_key, sizeof data_key, "%s-data", key);
    const char *file, *data;
    if (opt_str(obj, where, key, &file, err) < 0 || opt_str(obj, where, data_key, &data, err) < 0)
        return -1;
    if (data) {
        if (hoist_kube_base64_decode(data, strlen(data), out, err) < 0)
            return hoist_err_prefix(err, "%s.%s", where, data_key);
        return 0;
    }
    if (file) {
        char *path = resolve(dir, file);
        if (!path)
            return hoist_errf(err, "%s.%s: out of memory", where, key);
        int rc = read_file(path, out, err);
        free(path);
        if (rc < 0)
            return hoist_err_prefix(err, "%s.%s", where, key);
    }
    return 0;
}

static int parse_root(hoist_kube_config *c, const json_t *root, const char *dir,
                      const char *context, bool allow_insecure, hoist_err *err)
{
    char where[128];
    if (!context) {
        const json_t *cur = json_object_get(root, "current-context");
        if (!cur || json_is_null(cur) || (json_is_string(cur) && !*json_string_value(cur)))
            return hoist_errf(err, "current-context: not set (and no context was given)");
        if (!json_is_string(cur))
            return hoist_errf(err, "current-context: expected a string");
        context = json_string_value(cur);
    }
    size_t ci, ki, ui;
    const json_t *ctx = named_entry(root, "contexts", "context", context, &ci, err);
    if (!ctx)
        return -1;
    snprintf(where, sizeof where, "contexts[%zu].context", ci);
    const char *cluster_name, *user_name, *ns;
    if (opt_str(ctx, where, "cluster", &cluster_name, err) < 0 ||
        opt_str(ctx, where, "user", &user_name, err) < 0 ||
        opt_str(ctx, where, "namespace", &ns, err) < 0)
        return -1;
    if (!cluster_name)
        return hoist_errf(err, "%s.cluster: required", where);
    if (!(c->context = strdup(context)) || !(c->ns = strdup(ns ? ns : "default")))
        return hoist_errf(err, "out of memory");

    const json_t *cl = named_entry(root, "clusters", "cluster", cluster_name, &ki, err);
    if (!cl)
        return hoist_err_prefix(err, "%s.cluster", where);
    snprintf(where, sizeof where, "clusters[%zu].cluster", ki);
    const char *server;
    if (opt_str(cl, where, "server", &server, err) < 0)
        return -1;
    if (!server)
        return hoist_errf(err, "%s.server: required", where);
    if (strncmp(server, "https://", 8) != 0 && strncmp(server, "http://", 7) != 0)
        return hoist_errf(err, "%s.server: \"%s\" is not an http:// or https:// URL", where,
                          server);
    size_t slen = strlen(server);
    while (slen && server[slen - 1] == '/')
        slen--;
    if (!(c->server = strndup(server, slen)))
        return hoist_errf(err, "out of memory");
    const json_t *insecure = json_object_get(cl, "insecure-skip-tls-verify");
    if (insecure && !json_is_null(insecure) && !json_is_boolean(insecure))
        return hoist_errf(err, "%s.insecure-skip-tls-verify: expected true or false", where);
    if (json_is_true(insecure)) {
        if (!allow_insecure)
            return hoist_errf(err, "%s.insecure-skip-tls-verify: refused (the server's "
                              "certificate would not be checked; allow it explicitly)", where);
        c->insecure = true;
    }
    if (pem_field(cl, where, "certificate-authority", dir, &c->ca, err) < 0)
        return -1;

    if (!user_name)
        return 0; /* no credentials: anonymous */
    const json_t *u = named_entry(root, "users", "user", user_name, &ui, err);
    if (!u) {
        snprintf(where, sizeof where, "contexts[%zu].context", ci);
        return hoist_err_prefix(err, "%s.user", where);
    }
    snprintf(where, sizeof where, "users[%zu].user", ui);
    static const char *const unsupported[] = {"exec", "auth-provider", "username", NULL};
    for (size_t i = 0; unsupported[i]; i++) {
        const json_t *v = json_object_get(u, unsupported[i]);
        if (v && !json_is_null(v))
            return hoist_errf(err, "%s.%s: not supported by hoist (use a token, a token file "
                              "or a client certificate)", where, unsupported[i]);
    }
    if (pem_field(u, where, "client-certificate", dir, &c->cert, err) < 0 ||
        pem_field(u, where, "client-key", dir, &c->key, err) < 0)
        return -1;
    if (!c->cert.data != !c->key.data)
        return hoist_errf(err, "%s.%s: required with %s", where,
                          c->cert.data ? "client-key" : "client-certificate",
                          c->cert.data ? "client-certificate" : "client-key");
    const char *token, *token_file;
    if (opt_str(u, where, "token", &token, err) < 0 ||
        opt_str(u, where, "tokenFile", &token_file, err) < 0)
        return -1;
    if (token) {
        if (!(c->token = strdup(token)))
            return hoist_errf(err, "out of memory");
    } else if (token_file) {
        if (!(c->token_file = resolve(dir, token_file)))
            return hoist_errf(err, "out of memory");
        if (load_token_file(c, 0, err) < 0)
            return hoist_err_prefix(err, "%s.tokenFile", where);
    }
    return 0;
}

int hoist_kubeconfig_parse(hoist_kube_config *c, const char *name, const char *text,
                           size_t len, const char *dir, const char *context,
                           bool allow_insecure, hoist_err *err)
{
    memset(c, 0, sizeof *c);
    hoist_docs docs;
    hoist_docs_init(&docs);
    int rc = -1;
    if (hoist_docs_load_buffer(&docs, name, text, len, err) < 0) {
        if (err) {
            char why[sizeof err->msg];
            memcpy(why, err->msg, sizeof why);
            hoist_errf(err, "kubeconfig %.1000s", why);
        }
        goto out;
    }
    if (docs.n != 1) {
        hoist_errf(err, "kubeconfig %s: expected one document, found %zu", name, docs.n);
        goto out;
    }
    if (asprintf(&c->source, "kubeconfig %s", name) < 0) {
        c->source = NULL;
        hoist_errf(err, "out of memory");
        goto out;
    }
    if (parse_root(c, docs.items[0].json, dir, context, allow_insecure, err) < 0) {
        hoist_err_prefix(err, "kubeconfig %s", name);
        goto out;
    }
    rc = 0;
out:
    hoist_docs_free(&docs);
    if (rc < 0)
        hoist_kube_config_free(c);
    return rc;
}

int hoist_kubeconfig_load(hoist_kube_config *c, const char *path, const char *context,
                          bool allow_insecure, hoist_err *err)
{
    char def[4096];
    memset(c, 0, sizeof *c);
    if (!path) {
        path = hoist_kubeconfig_default_path(getenv("KUBECONFIG"), getenv("HOME"), def,
                                             sizeof def);
        if (!path)
            return hoist_errf(err, "kubeconfig: neither $KUBECONFIG nor $HOME is set");
    }
    hoist_kube_bytes text;
    if (read_file(path, &text, err) < 0)
        return hoist_err_prefix(err, "kubeconfig");
    char *dir = strdup(path);
    if (!dir) {
        free(text.data);
        return hoist_errf(err, "out of memory");
    }
    char *slash = strrchr(dir, '/');
    if (slash)
        slash == dir ? (void)(slash[1] = '\0') : (void)(*slash = '\0');
    int rc = hoist_kubeconfig_parse(c, path, text.data, text.len, slash ? dir : NULL, context,
                                    allow_insecure, err);
    free(dir);
    free(text.data);
    return rc;
}

/* ---- in-cluster ---------------------------------------------------------- */

int hoist_kube_incluster_load(hoist_kube_config *c, const char *sa_dir, uint64_t now_ms,
                              hoist_err *err)
{
    memset(c, 0, sizeof *c);
    if (!sa_dir)
        sa_dir = HOIST_KUBE_SA_DIR;
    const char *host = getenv("KUBERNETES_SERVICE_HOST");
    const char *port = getenv("KUBERNETES_SERVICE_PORT");
    if (!host || !*host)
        return hoist_errf(err, "in-cluster: KUBERNETES_SERVICE_HOST is not set (not running "
                          "in a pod?)");
    if (!port || !*port)
        return hoist_errf(err, "in-cluster: KUBERNETES_SERVICE_PORT is not set");
    char *end;
    errno = 0;
    long p = strtol(port, &end, 10);
    if (errno || *end || p <= 0 || p > 65535)
        return hoist_errf(err, "in-cluster: KUBERNETES_SERVICE_PORT: \"%s\" is not a port",
                          port);
    if (strpbrk(host, "/[]@ ?#"))
        return hoist_errf(err, "in-cluster: KUBERNETES_SERVICE_HOST: \"%s\" is not a host",
                          host);
    bool v6 = strchr(host, ':') != NULL;
    int rc = -1;
    char *path = NULL;
    if (asprintf(&c->server, v6 ? "https://[%s]:%ld" : "https://%s:%ld", host, p) < 0) {
        c->server = NULL;
        goto oom;
    }
    if (!(c->source = strdup("in-cluster")))
        goto oom;
    if (asprintf(&path, "%s/ca.crt", sa_dir) < 0) {
        path = NULL;
        goto oom;
    }
    if (read_file(path, &c->ca, err) < 0) {
        hoist_err_prefix(err, "in-cluster: service account CA");
        goto out;
    }
    free(path);
    path = NULL;
    if (asprintf(&c->token_file, "%s/token", sa_dir) < 0) {
        c->token_file = NULL;
        goto oom;
    }
    if (load_token_file(c, now_ms, err) < 0) {
        hoist_err_prefix(err, "in-cluster: service account token");
        goto out;
    }
    if (asprintf(&path, "%s/namespace", sa_dir) < 0) {
        path = NULL;
        goto oom;
    }
    hoist_kube_bytes nsb;
    hoist_err ignored;
    if (read_file(path, &nsb, &ignored) == 0) {
        c->ns = trimmed_copy(nsb.data, nsb.len);
        free(nsb.data);
        if (c->ns && !*c->ns) {
            free(c->ns);
            c->ns = NULL;
        }
    }
    if (!c->ns && !(c->ns = strdup("default")))
        goto oom;
    rc = 0;
    goto out;
oom:
    hoist_errf(err, "in-cluster: out of memory");
out:
    free(path);
    if (rc < 0)
        hoist_kube_config_free(c);
    return rc;
}
