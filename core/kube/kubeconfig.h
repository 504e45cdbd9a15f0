/*
 * kube/kubeconfig.h - where the Kubernetes API is and how to authenticate to it.
 *
 * Two sources, as client-go has them:
 *   - a kubeconfig file (YAML or JSON, read with model/load.h): the current
 *     context (or a named one), its cluster (server, CA as a file or as
 *     base64 certificate-authority-data, insecure-skip-tls-verify) and its
 *     user (bearer token, tokenFile, client certificate and key as files or
 *     as base64 -data). Relative file names are relative to the kubeconfig's
 *     own directory, as kubectl reads them. $KUBECONFIG may be a colon list:
 *     only its first file is read (kubectl merges them all; hoist does not).
 *   - in-cluster: KUBERNETES_SERVICE_HOST/KUBERNETES_SERVICE_PORT and the
 *     service account's token, ca.crt and namespace files.
 *
 * Exec credential plugins, auth-provider and basic auth are refused with a
 * message naming the field. insecure-skip-tls-verify is refused unless the
 * caller allows it.
 *
 * A token read from a file (tokenFile, or the service account's token) is
 * rotated by the kubelet: hoist_kube_config_refresh_token() re-reads it when
 * the file's mtime changed or 60 s passed; the client calls it before each
 * request.
 *
 * Every error names the source and the field, e.g.
 *   "kubeconfig /home/me/.kube/config: users[0].user.client-key-data: not
 *    valid base64 (character 17)".
 */
#ifndef HOIST_KUBE_KUBECONFIG_H
#define HOIST_KUBE_KUBECONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

/* Where a pod finds its service account. */
#define HOIST_KUBE_SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"
/* A token file is re-read at least this often even when its mtime did not change. */
#define HOIST_KUBE_TOKEN_MAX_AGE_MS 60000u
/* Largest credential file read (token, certificate, key, CA bundle). */
#define HOIST_KUBE_MAX_FILE (4u << 20)

/* A byte buffer (PEM text); data is NUL-terminated, len excludes the NUL. */
typedef struct hoist_kube_bytes {
    char *data; /* malloc'd, or NULL when absent */
    size_t len;
} hoist_kube_bytes;

/* How to reach and authenticate to one API server. Every pointer is owned
 * (malloc'd) and released by hoist_kube_config_free(). */
typedef struct hoist_kube_config {
    char *source;            /* "kubeconfig PATH" or "in-cluster", for messages */
    char *server;            /* base URL, no trailing '/', e.g. "https://[fd00::1]:443" */
    char *context;           /* context used (kubeconfig), NULL in-cluster */
    char *ns;                /* namespace of the context / service account ("default") */
    hoist_kube_bytes ca;     /* CA bundle to trust (PEM); absent = the system's CAs */
    hoist_kube_bytes cert;   /* client certificate (PEM), or absent */
    hoist_kube_bytes key;    /* its private key (PEM), or absent */
    bool insecure;           /* skip server certificate checks (only when allowed) */
    char *token;             /* bearer token, or NULL */
    char *token_file;        /* file the token is read from (rotation), or NULL */
    int64_t token_mtime_ns;  /* mtime of token_file when last read */
    uint64_t token_read_ms;  /* caller's clock (ms) at the last read */
} hoist_kube_config;

/* Release everything a config owns and zero it. NULL is fine. */
void hoist_kube_config_free(hoist_kube_config *c);

/* The kubeconfig path kubectl would use: the first entry of `kubeconfig_env`
 * (the value of $KUBECONFIG; NULL or "" = unset), else HOME/.kube/config.
 * Written into buf; NULL when neither is available or buf is too small. */
const char *hoist_kubeconfig_default_path(const char *kubeconfig_env, const char *home,
                                          char *buf, size_t size);

/* Read kubeconfig text (JSON or YAML) named `name` into c (zeroed first; on
 * error c holds nothing). `dir` is the directory relative file names are
 * resolved against (NULL = the working directory). `context` NULL uses
 * current-context. Returns 0 or -1 with err naming the field. */
int hoist_kubeconfig_parse(hoist_kube_config *c, const char *name, const char *text,
                           size_t len, const char *dir, const char *context,
                           bool allow_insecure, hoist_err *err);

/* Read the kubeconfig file at `path` (NULL = hoist_kubeconfig_default_path
 * from the environment) as hoist_kubeconfig_parse does. */
int hoist_kubeconfig_load(hoist_kube_config *c, const char *path, const char *context,
                          bool allow_insecure, hoist_err *err);

/* In-cluster configuration: server from KUBERNETES_SERVICE_HOST and
 * KUBERNETES_SERVICE_PORT (an IPv6 host is bracketed), CA from
 * sa_dir/ca.crt, token from sa_dir/token (kept as token_file for rotation),
 * namespace from sa_dir/namespace when present. sa_dir NULL =
 * HOIST_KUBE_SA_DIR. now_ms stamps the token's read time. */
int hoist_kube_incluster_load(hoist_kube_config *c, const char *sa_dir, uint64_t now_ms,
                              hoist_err *err);

/* Re-read token_file when its mtime changed or HOIST_KUBE_TOKEN_MAX_AGE_MS
 * passed since the last read (now_ms on the caller's clock). Returns 1 when
 * the token changed, 0 when not (or there is no token file), -1 with err
 * when the file cannot be read (the previous token stays). */
int hoist_kube_config_refresh_token(hoist_kube_config *c, uint64_t now_ms, hoist_err *err);

/* Decode standard base64 (padding optional, no whitespace) into a
 * NUL-terminated malloc'd buffer. -1 with err "not valid base64 (character N)"
 * or out of memory. */
int hoist_kube_base64_decode(const char *in, size_t len, hoist_kube_bytes *out, hoist_err *err);

#endif
