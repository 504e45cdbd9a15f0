/*
 * tests/scenario/run_scenarios.c - runs every `hoist plan` scenario.
 *
 * A scenario is a file NAME.expect (assertions, one a line) next to NAME.yaml
 * (the Kubernetes objects); tests/scenario/README.md describes the format.
 * For each scenario the runner executes
 *     $HOIST_BUILDDIR/hoist plan -f NAME.yaml [-f INPUT]... [--catalog F] -o json --offerings
 * in $HOIST_SRCDIR, loads the same inputs itself (to know pod labels, bound
 * pods and node labels), checks invariants every plan must satisfy, then
 * every assertion, and prints one TAP-style line per scenario:
 *     ok 3 - topology/zone-spread
 *     not ok 4 - affinity/anti-hostname
 *     #   tests/scenario/affinity/anti-hostname.expect:7: ...: expected ..., got ...
 * A scenario with an `xfail REASON` line that fails counts as XFAIL (the
 * suite stays green, the failure is printed); one that passes is an XPASS and
 * fails the suite, so the xfail line gets removed once hoist is fixed.
 *
 * Files named *.bad under the directories searched are parser self-tests:
 * their first line is "# expect-error: LINE: TEXT" and parsing them must fail
 * with a message naming FILE:LINE and containing TEXT.
 *
 * Usage: run_scenarios [-v] [PATH...]  (files or directories; default
 * $HOIST_SRCDIR/tests/scenario). Exit 0 when nothing failed, 1 otherwise.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "model/labels.h"
#include "model/objects.h"
#include "model/resources.h"

/* A child gets this many seconds before SIGALRM ends it (a hung planner is a
 * failure, not a hung test suite). */
#define HOIST_TIMEOUT_SECONDS 120
#define MAX_TOKENS 64
#define MAX_INPUTS 16

/* ------------------------------------------------------------------ */
/* small helpers                                                        */

static const char *env_or(const char *name, const char *fallback)
{
    const char *v = getenv(name);
    return v && *v ? v : fallback;
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "run_scenarios: out of memory\n");
        exit(99);
    }
    return p;
}

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = xmalloc(n);
    memcpy(p, s, n);
    return p;
}

static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0) {
        fprintf(stderr, "run_scenarios: out of memory\n");
        exit(99);
    }
    return s;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

static bool file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Whole file as a NUL-terminated string, or NULL. */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = xmalloc(cap);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (cap - n - 1 == 0) {
            cap *= 2;
            char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
        }
    }
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* A growing list of owned strings. */
typedef struct strlist {
    size_t n, cap;
    char **items;
} strlist;

static void strlist_push(strlist *l, char *owned)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 16;
        char **ni = realloc(l->items, l->cap * sizeof *ni);
        if (!ni) {
            fprintf(stderr, "run_scenarios: out of memory\n");
            exit(99);
        }
        l->items = ni;
    }
    l->items[l->n++] = owned;
}

static void strlist_free(strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->items[i]);
    free(l->items);
    memset(l, 0, sizeof *l);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ------------------------------------------------------------------ */
/* the .expect language                                                 */

typedef enum cmp_op { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE } cmp_op;

static const char *const op_names[] = {"==", "!=", "<", "<=", ">", ">="};

/* Parse an operator token; "=" is accepted for "==". -1 when not one. */
static int op_parse(const char *s)
{
    if (strcmp(s, "=") == 0)
        return OP_EQ;
    for (int i = 0; i < 6; i++)
        if (strcmp(s, op_names[i]) == 0)
            return i;
    return -1;
}

static bool op_holds(cmp_op op, double got, double want)
{
    const double eps = 1e-9;
    switch (op) {
    case OP_EQ: return fabs(got - want) <= eps;
    case OP_NE: return fabs(got - want) > eps;
    case OP_LT: return got < want - eps;
    case OP_LE: return got <= want + eps;
    case OP_GT: return got > want + eps;
    case OP_GE: return got >= want - eps;
    }
    return false;
}

/* One line of a .expect file, tokenized. */
typedef struct line_toks {
    int line;
    int n;
    char *tok[MAX_TOKENS];
} line_toks;

typedef struct scenario {
    char *expect_path;   /* as found (absolute or relative to cwd) */
    char *display;       /* path shown in messages: relative to the source tree when possible */
    char *name;          /* short name: area/name */
    char *dir;           /* directory of the .expect file */
    char *catalog;       /* --catalog argument (absolute), or NULL = the bundled catalog */
    char *policy;        /* --policy argument (absolute), or NULL = none */
    char *xfail;         /* reason, or NULL */
    char *skip;          /* reason to skip (missing shared data), or NULL */
    int n_inputs;
    char *inputs[MAX_INPUTS]; /* -f files (absolute) */
    size_t n_lines;
    line_toks *lines;    /* assertions (headers removed) */
} scenario;

static void scenario_free(scenario *s)
{
    free(s->expect_path);
    free(s->display);
    free(s->name);
    free(s->dir);
    free(s->catalog);
    free(s->policy);
    free(s->xfail);
    free(s->skip);
    for (int i = 0; i < s->n_inputs; i++)
        free(s->inputs[i]);
    for (size_t i = 0; i < s->n_lines; i++)
        for (int j = 0; j < s->lines[i].n; j++)
            free(s->lines[i].tok[j]);
    free(s->lines);
    memset(s, 0, sizeof *s);
}

static int tokenize_into(const char *text, char **tok, int *n_out, const char **why);

/* Split one line into tokens: whitespace separates, double quotes group
 * (the quotes are dropped, so ~"a b" is the token ~a b), '#' at the start
 * of a token begins a comment. Returns the count, or -1 with *why set (and
 * nothing left allocated). */
static int tokenize(const char *text, char **tok, const char **why)
{
    int n = 0;
    if (tokenize_into(text, tok, &n, why) < 0) {
        for (int i = 0; i < n; i++)
            free(tok[i]);
        return -1;
    }
    return n;
}

static int tokenize_into(const char *text, char **tok, int *n_out, const char **why)
{
    const char *p = text;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
            p++;
        if (!*p || *p == '#')
            return 0;
        if (*n_out == MAX_TOKENS) {
            *why = "too many tokens";
            return -1;
        }
        char buf[1024];
        size_t len = 0;
        bool quoted = false;
        while (*p && (quoted || !(*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))) {
            if (*p == '"') {
                quoted = !quoted;
                p++;
                continue;
            }
            if (len + 1 >= sizeof buf) {
                *why = "token too long";
                return -1;
            }
            buf[len++] = *p++;
        }
        if (quoted) {
            *why = "unterminated quote";
            return -1;
        }
        buf[len] = '\0';
        tok[(*n_out)++] = xstrdup(buf);
    }
}

static bool parse_number(const char *s, double *out)
{
    if (!s || !*s)
        return false;
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || !isfinite(v))
        return false;
    *out = v;
    return true;
}

/* A count condition: "[OP] NUMBER" from tok[*i]; advances *i. */
static bool parse_cond(const line_toks *l, int *i, cmp_op *op, double *v)
{
    *op = OP_EQ;
    if (*i < l->n) {
        int o = op_parse(l->tok[*i]);
        if (o >= 0) {
            *op = (cmp_op)o;
            (*i)++;
        }
    }
    if (*i >= l->n || !parse_number(l->tok[*i], v))
        return false;
    (*i)++;
    return true;
}

static bool valid_pod_ref(const char *s)
{
    const char *slash = strchr(s, '/');
    return slash && slash != s && slash[1] && !strchr(slash + 1, '/');
}

/* A text match token: "~TEXT" / "!~TEXT", or "~" / "!~" followed by TEXT.
 * Sets *negate and *text (borrowed). Advances *i. */
static bool parse_match(const line_toks *l, int *i, bool *negate, const char **text)
{
    if (*i >= l->n)
        return false;
    const char *t = l->tok[*i];
    *negate = false;
    if (t[0] == '!' && t[1] == '~') {
        *negate = true;
        t += 2;
    } else if (t[0] == '~') {
        t += 1;
    } else {
        return false;
    }
    (*i)++;
    if (!*t) {
        if (*i >= l->n)
            return false;
        t = l->tok[(*i)++];
    }
    *text = t;
    return true;
}

static const char *const claim_fields[] = {"zone", "capacityType", "instanceType", "nodePool",
                                           NULL};

static bool is_claim_field(const char *s)
{
    for (int i = 0; claim_fields[i]; i++)
        if (strcmp(s, claim_fields[i]) == 0)
            return true;
    return false;
}

/* Check one assertion line's syntax. Returns NULL when valid, else why. The
 * same walk is done by evaluate(); keeping the checks here means a bad line
 * is reported before hoist runs, naming file:line. */
static const char *check_line(const line_toks *l)
{
    const char *verb = l->tok[0];
    int i = 1;
    cmp_op op;
    double v;
    bool neg;
    const char *text;
    if (strcmp(verb, "exit") == 0) {
        if (l->n != 2 || !parse_number(l->tok[1], &v))
            return "usage: exit STATUS";
        return NULL;
    }
    if (strcmp(verb, "claims") == 0) {
        while (i < l->n && strchr(l->tok[i], '=') && op_parse(l->tok[i]) < 0) {
            char *eq = strchr(l->tok[i], '=');
            char field[64];
            size_t fl = (size_t)(eq - l->tok[i]);
            if (fl == 0 || fl >= sizeof field)
                return "claims: a filter is FIELD=VALUE";
            memcpy(field, l->tok[i], fl);
            field[fl] = '\0';
            if (!is_claim_field(field) && strncmp(field, "label:", 6) != 0)
                return "claims: filter field must be zone, capacityType, instanceType, nodePool "
                       "or label:KEY";
            i++;
        }
        if (!parse_cond(l, &i, &op, &v) || i != l->n)
            return "usage: claims [FIELD=VALUE...] [OP] N";
        return NULL;
    }
    if (strcmp(verb, "vcpus") == 0) {
        while (i < l->n && strchr(l->tok[i], '=') && op_parse(l->tok[i]) < 0)
            i++;
        if (!parse_cond(l, &i, &op, &v) || i != l->n)
            return "usage: vcpus [FIELD=VALUE...] [OP] N";
        return NULL;
    }
    if (strcmp(verb, "cost") == 0 || strcmp(verb, "lower-bound") == 0 ||
        strcmp(verb, "pending") == 0 || strcmp(verb, "unschedulable") == 0 ||
        strcmp(verb, "existing") == 0) {
        if (!parse_cond(l, &i, &op, &v) || i != l->n)
            return "usage: VERB [OP] NUMBER (OP one of = == != < <= > >=)";
        return NULL;
    }
    if (strcmp(verb, "stderr") == 0 || strcmp(verb, "stdout") == 0) {
        if (!parse_match(l, &i, &neg, &text) || i != l->n)
            return "usage: stderr ~TEXT | stderr !~TEXT";
        return NULL;
    }
    if (strcmp(verb, "pod") == 0) {
        if (l->n < 3 || !valid_pod_ref(l->tok[1]))
            return "usage: pod NAMESPACE/NAME new|existing|in-flight|!in-flight|placed|absent|"
                   "node NODE|unschedulable [~TEXT]";
        const char *st = l->tok[2];
        if ((strcmp(st, "new") == 0 || strcmp(st, "existing") == 0 ||
             strcmp(st, "in-flight") == 0 || strcmp(st, "!in-flight") == 0 ||
             strcmp(st, "placed") == 0 || strcmp(st, "absent") == 0) && l->n == 3)
            return NULL;
        if (strcmp(st, "node") == 0 && l->n == 4)
            return NULL;
        if (strcmp(st, "unschedulable") == 0) {
            i = 3;
            if (l->n == 3)
                return NULL;
            if (parse_match(l, &i, &neg, &text) && i == l->n)
                return NULL;
        }
        return "usage: pod NAMESPACE/NAME new|existing|in-flight|!in-flight|placed|absent|"
               "node NODE|unschedulable [~TEXT]";
    }
    if (strcmp(verb, "same-claim") == 0 || strcmp(verb, "different-claim") == 0 ||
        strcmp(verb, "same-node") == 0 || strcmp(verb, "different-node") == 0) {
        if (l->n < 3)
            return "usage: VERB POD POD [POD...]";
        for (i = 1; i < l->n; i++)
            if (!valid_pod_ref(l->tok[i]))
                return "a pod is written NAMESPACE/NAME";
        return NULL;
    }
    if (strcmp(verb, "claim-of") == 0) {
        if (l->n < 4 || !valid_pod_ref(l->tok[1]))
            return "usage: claim-of NAMESPACE/NAME PROPERTY ...";
        const char *prop = l->tok[2];
        if (is_claim_field(prop)) {
            if (l->n == 4)
                return NULL;
            if (l->n == 5 && (op_parse(l->tok[3]) == OP_EQ || op_parse(l->tok[3]) == OP_NE))
                return NULL;
            if (l->n == 5 && (strcmp(l->tok[3], "in") == 0 || strcmp(l->tok[3], "not-in") == 0))
                return NULL;
            return "usage: claim-of POD FIELD [==|!=] VALUE | claim-of POD FIELD in|not-in A,B";
        }
        if (strcmp(prop, "type-in") == 0 || strcmp(prop, "options-include") == 0 ||
            strcmp(prop, "options-exclude") == 0 || strcmp(prop, "no-label") == 0 ||
            strcmp(prop, "no-taint") == 0)
            return l->n == 4 ? NULL : "usage: claim-of POD PROPERTY VALUE";
        if (strcmp(prop, "label") == 0) {
            const char *eq = strchr(l->tok[3], '=');
            return l->n == 4 && eq && eq != l->tok[3] ? NULL
                                                     : "usage: claim-of POD label KEY=VALUE";
        }
        if (strcmp(prop, "taint") == 0) {
            const char *colon = strrchr(l->tok[3], ':');
            if (l->n != 4 || !colon || colon == l->tok[3] ||
                !(strcmp(colon + 1, "NoSchedule") == 0 || strcmp(colon + 1, "NoExecute") == 0 ||
                  strcmp(colon + 1, "PreferNoSchedule") == 0))
                return "usage: claim-of POD taint KEY[=VALUE]:EFFECT";
            return NULL;
        }
        if (strcmp(prop, "options") == 0 || strcmp(prop, "families") == 0 ||
            strcmp(prop, "offerings") == 0 || strcmp(prop, "pods") == 0 ||
            strcmp(prop, "price") == 0) {
            i = 3;
            if (!parse_cond(l, &i, &op, &v) || i != l->n)
                return "usage: claim-of POD options|families|offerings|pods|price [OP] N";
            return NULL;
        }
        return "claim-of: unknown property (zone, capacityType, instanceType, nodePool, type-in, "
               "label, no-label, taint, no-taint, options, options-include, options-exclude, "
               "families, offerings, pods, price)";
    }
    if (strcmp(verb, "skew") == 0 || strcmp(verb, "domains") == 0) {
        if (l->n < 4)
            return "usage: skew|domains KEY SELECTOR [OP] N [over D1,D2,...]";
        i = 3;
        if (!parse_cond(l, &i, &op, &v))
            return "usage: skew|domains KEY SELECTOR [OP] N [over D1,D2,...]";
        if (i == l->n)
            return NULL;
        if (strcmp(verb, "skew") == 0 && i + 2 == l->n && strcmp(l->tok[i], "over") == 0)
            return NULL;
        return "usage: skew|domains KEY SELECTOR [OP] N [over D1,D2,...]";
    }
    return "unknown assertion (exit, claims, cost, lower-bound, pending, unschedulable, "
           "existing, vcpus, stderr, stdout, pod, same-claim, different-claim, same-node, "
           "different-node, claim-of, skew, domains)";
}

/* Resolve a path written in a .expect file: "shared:REL" is below
 * $HOIST_SHARED_DATA; other relative paths are relative to `base`. Sets
 * *missing_shared when the shared data is absent. */
static char *resolve_path(const char *base, const char *p, bool *missing_shared)
{
    *missing_shared = false;
    if (strncmp(p, "shared:", 7) == 0) {
        const char *root = env_or("HOIST_SHARED_DATA", "");
        char *full = xasprintf("%s/%s", root, p + 7);
        if (!*root || !file_exists(full))
            *missing_shared = true;
        return full;
    }
    if (p[0] == '/')
        return xstrdup(p);
    return xasprintf("%s/%s", base, p);
}

/* Parse a .expect file. Returns 0, or -1 with "FILE:LINE: why" in err. */
static int scenario_load(scenario *s, const char *expect_path, const char *display,
                         const char *scenario_root, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    s->expect_path = xstrdup(expect_path);
    s->display = xstrdup(display);
    const char *slash = strrchr(expect_path, '/');
    s->dir = slash ? xasprintf("%.*s", (int)(slash - expect_path), expect_path) : xstrdup(".");
    /* short name: path below the scenario root, without the extension */
    const char *rel = expect_path;
    size_t rl = strlen(scenario_root);
    if (strncmp(expect_path, scenario_root, rl) == 0 && expect_path[rl] == '/')
        rel = expect_path + rl + 1;
    const char *dot = strrchr(rel, '.');
    s->name = xasprintf("%.*s", (int)(dot ? dot - rel : (int)strlen(rel)), rel);

    char *text = slurp(expect_path);
    if (!text) {
        snprintf(err, errlen, "%s: cannot read: %s", display, strerror(errno));
        return -1;
    }
    size_t cap = 0;
    int lineno = 0;
    bool explicit_catalog = false;
    /* walk line by line (strtok would merge empty lines and break numbering) */
    char *p = text;
    while (p && *p) {
        char *nl = strchr(p, '\n');
        if (nl)
            *nl = '\0';
        lineno++;
        line_toks lt;
        memset(&lt, 0, sizeof lt);
        lt.line = lineno;
        const char *why = NULL;
        lt.n = tokenize(p, lt.tok, &why);
        p = nl ? nl + 1 : NULL;
        if (lt.n < 0) {
            snprintf(err, errlen, "%s:%d: %s", display, lineno, why);
            free(text);
            return -1;
        }
        if (lt.n == 0)
            continue;
        const char *verb = lt.tok[0];
        const char *bad = NULL;
        if (strcmp(verb, "catalog") == 0) {
            if (lt.n != 2 || explicit_catalog) {
                bad = explicit_catalog ? "catalog given twice" : "usage: catalog PATH|bundled";
            } else {
                explicit_catalog = true;
                if (strcmp(lt.tok[1], "bundled") != 0) {
                    bool missing;
                    s->catalog = resolve_path(scenario_root, lt.tok[1], &missing);
                    if (missing && !s->skip)
                        s->skip = xasprintf("shared data missing: %s", s->catalog);
                    else if (!missing && !file_exists(s->catalog))
                        bad = "catalog file not found (paths are relative to tests/scenario)";
                }
            }
        } else if (strcmp(verb, "policy") == 0) {
            if (lt.n != 2 || s->policy) {
                bad = s->policy ? "policy given twice" : "usage: policy PATH";
            } else {
                bool missing;
                s->policy = resolve_path(scenario_root, lt.tok[1], &missing);
                if (!missing && !file_exists(s->policy))
                    bad = "policy file not found (paths are relative to tests/scenario)";
            }
        } else if (strcmp(verb, "input") == 0) {
            if (lt.n != 2) {
                bad = "usage: input PATH | input shared:PATH";
            } else if (s->n_inputs == MAX_INPUTS) {
                bad = "too many inputs";
            } else {
                bool missing;
                char *full = resolve_path(s->dir, lt.tok[1], &missing);
                if (missing && !s->skip)
                    s->skip = xasprintf("shared data missing: %s (set HOIST_SHARED_DATA)", full);
                else if (!missing && !file_exists(full))
                    bad = "input file not found (paths are relative to the .expect file)";
                s->inputs[s->n_inputs++] = full;
            }
        } else if (strcmp(verb, "xfail") == 0) {
            if (lt.n < 2 || s->xfail) {
                bad = s->xfail ? "xfail given twice" : "usage: xfail REASON";
            } else {
                size_t len = 0;
                for (int j = 1; j < lt.n; j++)
                    len += strlen(lt.tok[j]) + 1;
                s->xfail = xmalloc(len + 1);
                s->xfail[0] = '\0';
                for (int j = 1; j < lt.n; j++) {
                    if (j > 1)
                        strcat(s->xfail, " ");
                    strcat(s->xfail, lt.tok[j]);
                }
            }
        } else {
            bad = check_line(&lt);
            if (!bad) {
                if (s->n_lines == cap) {
                    cap = cap ? 2 * cap : 16;
                    line_toks *nl2 = realloc(s->lines, cap * sizeof *nl2);
                    if (!nl2) {
                        fprintf(stderr, "run_scenarios: out of memory\n");
                        exit(99);
                    }
                    s->lines = nl2;
                }
                s->lines[s->n_lines++] = lt;
                continue;
            }
        }
        for (int j = 0; j < lt.n; j++)
            free(lt.tok[j]);
        if (bad) {
            snprintf(err, errlen, "%s:%d: %s", display, lineno, bad);
            free(text);
            return -1;
        }
    }
    free(text);

    /* the sibling .yaml comes first */
    const char *ext = strrchr(expect_path, '.');
    char *yaml = xasprintf("%.*s.yaml", (int)(ext ? ext - expect_path : (long)strlen(expect_path)),
                           expect_path);
    if (file_exists(yaml)) {
        if (s->n_inputs == MAX_INPUTS) {
            free(yaml);
            snprintf(err, errlen, "%s: too many inputs", display);
            return -1;
        }
        memmove(s->inputs + 1, s->inputs, (size_t)s->n_inputs * sizeof s->inputs[0]);
        s->inputs[0] = yaml;
        s->n_inputs++;
    } else {
        free(yaml);
    }
    if (s->n_inputs == 0) {
        snprintf(err, errlen, "%s: no NAME.yaml next to it and no input line", display);
        return -1;
    }
    if (s->n_lines == 0) {
        snprintf(err, errlen, "%s: no assertions", display);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* running hoist                                                        */

typedef struct run_result {
    char *out;
    char *err;
    int status;      /* exit status, or -1 */
    int signal;      /* terminating signal, or 0 */
} run_result;

static void run_result_free(run_result *r)
{
    free(r->out);
    free(r->err);
}

/* Run argv (argv[0] a path) in directory `cwd`, capturing both streams. */
static int run_capture(const char *cwd, char *const argv[], run_result *r)
{
    char out_path[] = "/tmp/hoist-scenario-out-XXXXXX";
    char err_path[] = "/tmp/hoist-scenario-err-XXXXXX";
    memset(r, 0, sizeof *r);
    int fo = mkstemp(out_path);
    if (fo < 0)
        return -1;
    int fe = mkstemp(err_path);
    if (fe < 0) {
        close(fo);
        unlink(out_path);
        return -1;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(fo);
        close(fe);
        unlink(out_path);
        unlink(err_path);
        return -1;
    }
    if (pid == 0) {
        if (chdir(cwd) != 0)
            _exit(126);
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0)
            dup2(devnull, 0);
        dup2(fo, 1);
        dup2(fe, 2);
        alarm(HOIST_TIMEOUT_SECONDS);
        execv(argv[0], argv);
        fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(fo);
    close(fe);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0) {
        if (errno != EINTR) {
            st = -1;
            break;
        }
    }
    r->status = (st != -1 && WIFEXITED(st)) ? WEXITSTATUS(st) : -1;
    r->signal = (st != -1 && WIFSIGNALED(st)) ? WTERMSIG(st) : 0;
    r->out = slurp(out_path);
    r->err = slurp(err_path);
    unlink(out_path);
    unlink(err_path);
    if (!r->out)
        r->out = xstrdup("");
    if (!r->err)
        r->err = xstrdup("");
    return 0;
}

/* ------------------------------------------------------------------ */
/* evaluation                                                           */

/* Where a pod ended up in the plan. */
typedef enum where_kind { W_NONE, W_CLAIM, W_EXISTING, W_UNSCHED } where_kind;
typedef struct where {
    where_kind kind;
    size_t index;       /* into nodeClaims / existingNodes / unschedulable */
    int count;          /* how many times the pod is listed */
} where;

typedef struct eval_ctx {
    const scenario *s;
    const run_result *r;
    json_t *plan;              /* NULL when stdout is not JSON */
    json_t *claims, *existing, *unsched;
    hoist_objects objects;     /* the inputs as the runner reads them (keep_going) */
    bool objects_ok;
    const char *srcdir;
    json_t *catalog;           /* the catalog file, loaded on first use by vcpus */
    int failures;
    strlist messages;          /* one per failed assertion */
} eval_ctx;

static void fail(eval_ctx *c, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail(eval_ctx *c, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = NULL;
    if (vasprintf(&msg, fmt, ap) < 0)
        msg = NULL;
    va_end(ap);
    if (line > 0)
        strlist_push(&c->messages, xasprintf("%s:%d: %s", c->s->display, line, msg ? msg : "?"));
    else
        strlist_push(&c->messages, xasprintf("%s: invariant: %s", c->s->display, msg ? msg : "?"));
    free(msg);
    c->failures++;
}

static const char *jstr(json_t *obj, const char *key)
{
    const char *v = json_string_value(json_object_get(obj, key));
    return v ? v : "";
}

static bool json_array_has_string(json_t *arr, const char *s)
{
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e)
    {
        if (json_is_string(e) && strcmp(json_string_value(e), s) == 0)
            return true;
    }
    return false;
}

static where locate(eval_ctx *c, const char *pod)
{
    where w = {W_NONE, 0, 0};
    size_t i;
    json_t *e;
    json_array_foreach(c->claims, i, e)
    {
        if (json_array_has_string(json_object_get(e, "pods"), pod)) {
            if (!w.count)
                w.kind = W_CLAIM, w.index = i;
            w.count++;
        }
    }
    json_array_foreach(c->existing, i, e)
    {
        if (json_array_has_string(json_object_get(e, "pods"), pod)) {
            if (!w.count)
                w.kind = W_EXISTING, w.index = i;
            w.count++;
        }
    }
    json_array_foreach(c->unsched, i, e)
    {
        if (strcmp(jstr(e, "pod"), pod) == 0) {
            if (!w.count)
                w.kind = W_UNSCHED, w.index = i;
            w.count++;
        }
    }
    return w;
}

/* "where it went", for messages. Returns a malloc'd string. */
static char *describe(eval_ctx *c, where w)
{
    switch (w.kind) {
    case W_NONE: return xstrdup("not in the plan");
    case W_CLAIM: {
        json_t *cl = json_array_get(c->claims, w.index);
        return xasprintf("new claim #%zu (%s %s %s, nodePool %s)", w.index, jstr(cl, "instanceType"),
                         jstr(cl, "zone"), jstr(cl, "capacityType"), jstr(cl, "nodePool"));
    }
    case W_EXISTING:
        return xasprintf("existing node %s", jstr(json_array_get(c->existing, w.index), "node"));
    case W_UNSCHED:
        return xasprintf("unschedulable: \"%s\"", jstr(json_array_get(c->unsched, w.index), "reason"));
    }
    return xstrdup("?");
}

static const hoist_pod *find_pod(eval_ctx *c, const char *ref)
{
    if (!c->objects_ok)
        return NULL;
    const char *slash = strchr(ref, '/');
    char ns[256];
    size_t nl = (size_t)(slash - ref);
    if (nl >= sizeof ns)
        return NULL;
    memcpy(ns, ref, nl);
    ns[nl] = '\0';
    return hoist_objects_find_pod(&c->objects, ns, slash + 1);
}

/* Canonical label key for the short names used in skew/domains. */
static const char *domain_key(const char *k)
{
    if (strcmp(k, "zone") == 0)
        return HOIST_LABEL_ZONE;
    if (strcmp(k, "hostname") == 0)
        return HOIST_LABEL_HOSTNAME;
    if (strcmp(k, "capacity-type") == 0 || strcmp(k, "capacityType") == 0)
        return HOIST_LABEL_CAPACITY_TYPE;
    if (strcmp(k, "instance-type") == 0 || strcmp(k, "instanceType") == 0)
        return HOIST_LABEL_INSTANCE_TYPE;
    if (strcmp(k, "nodepool") == 0 || strcmp(k, "nodePool") == 0)
        return HOIST_LABEL_NODEPOOL;
    return hoist_label_canonical(k);
}

/* A claim's value for label `key` (canonical). Malloc'd, or NULL. */
static char *claim_label(json_t *claim, size_t index, const char *key)
{
    if (strcmp(key, HOIST_LABEL_ZONE) == 0)
        return xstrdup(jstr(claim, "zone"));
    if (strcmp(key, HOIST_LABEL_CAPACITY_TYPE) == 0)
        return xstrdup(jstr(claim, "capacityType"));
    if (strcmp(key, HOIST_LABEL_INSTANCE_TYPE) == 0)
        return xstrdup(jstr(claim, "instanceType"));
    if (strcmp(key, HOIST_LABEL_NODEPOOL) == 0)
        return xstrdup(jstr(claim, "nodePool"));
    if (strcmp(key, HOIST_LABEL_HOSTNAME) == 0)
        return xasprintf("<claim #%zu>", index);
    json_t *labels = json_object_get(claim, "labels");
    const char *k;
    json_t *v;
    json_object_foreach(labels, k, v)
    {
        if (json_is_string(v) && strcmp(hoist_label_canonical(k), key) == 0)
            return xstrdup(json_string_value(v));
    }
    return NULL;
}

static char *node_label(const hoist_node *n, const char *key)
{
    const char *v = hoist_labels_get(&n->labels, key);
    if (v)
        return xstrdup(v);
    if (strcmp(key, HOIST_LABEL_HOSTNAME) == 0)
        return xstrdup(n->name);
    return NULL;
}

/* The domain value (key canonical) of the place a pod runs or will run:
 * bound pods from the snapshot, placed pods from the plan. Malloc'd or NULL. */
static char *pod_domain(eval_ctx *c, const hoist_pod *p, const char *key)
{
    if (p->node_name) {
        const hoist_node *n = hoist_objects_find_node(&c->objects, p->node_name);
        if (!n)
            return strcmp(key, HOIST_LABEL_HOSTNAME) == 0 ? xstrdup(p->node_name) : NULL;
        return node_label(n, key);
    }
    char *ref = xasprintf("%s/%s", p->ns, p->name);
    where w = locate(c, ref);
    free(ref);
    if (w.kind == W_CLAIM)
        return claim_label(json_array_get(c->claims, w.index), w.index, key);
    if (w.kind == W_EXISTING) {
        const hoist_node *n =
            hoist_objects_find_node(&c->objects, jstr(json_array_get(c->existing, w.index), "node"));
        return n ? node_label(n, key) : NULL;
    }
    return NULL;
}

/* Does pod p match "k=v,k2=v2" (or "*")? */
static bool selector_matches(const hoist_pod *p, const char *sel)
{
    if (strcmp(sel, "*") == 0)
        return true;
    char *copy = xstrdup(sel);
    bool ok = true;
    char *save = NULL;
    for (char *t = strtok_r(copy, ",", &save); t && ok; t = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(t, '=');
        if (!eq) {
            ok = hoist_labels_get(&p->labels, t) != NULL;
            continue;
        }
        *eq = '\0';
        const char *v = hoist_labels_get(&p->labels, t);
        ok = v && strcmp(v, eq + 1) == 0;
    }
    free(copy);
    return ok;
}

static bool pod_is_live_bound(const hoist_pod *p)
{
    return p->node_name && !p->terminating && strcmp(p->phase, "Succeeded") != 0 &&
           strcmp(p->phase, "Failed") != 0;
}

static bool pod_is_pending(const hoist_pod *p)
{
    return !p->node_name && !p->terminating && !p->daemonset_owned &&
           strcmp(p->phase, "Succeeded") != 0 && strcmp(p->phase, "Failed") != 0;
}

/* Count matching pods per domain for skew/domains. */
typedef struct domain_count {
    char *value;
    int count;
} domain_count;

static void count_domains(eval_ctx *c, const char *key, const char *sel, domain_count **out,
                          size_t *n_out)
{
    domain_count *d = NULL;
    size_t n = 0;
    for (size_t i = 0; c->objects_ok && i < c->objects.n_pods; i++) {
        const hoist_pod *p = c->objects.pods[i];
        if (p->terminating || !selector_matches(p, sel))
            continue;
        if (p->node_name && !pod_is_live_bound(p))
            continue;
        char *v = pod_domain(c, p, key);
        if (!v)
            continue;
        size_t j;
        for (j = 0; j < n; j++)
            if (strcmp(d[j].value, v) == 0)
                break;
        if (j == n) {
            domain_count *nd = realloc(d, (n + 1) * sizeof *nd);
            if (!nd) {
                fprintf(stderr, "run_scenarios: out of memory\n");
                exit(99);
            }
            d = nd;
            d[n].value = v;
            d[n].count = 0;
            n++;
        } else {
            free(v);
        }
        d[j].count++;
    }
    *out = d;
    *n_out = n;
}

static char *format_domains(const domain_count *d, size_t n)
{
    char *s = xstrdup("{");
    for (size_t i = 0; i < n; i++) {
        char *t = xasprintf("%s%s%s=%d", s, i ? " " : "", d[i].value, d[i].count);
        free(s);
        s = t;
    }
    char *t = xasprintf("%s}", s);
    free(s);
    return t;
}

static void free_domains(domain_count *d, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(d[i].value);
    free(d);
}

/* Is `item` one of the comma-separated values in `list`? */
static bool in_list(const char *list, const char *item)
{
    size_t il = strlen(item);
    const char *p = list;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == il && strncmp(p, item, il) == 0)
            return true;
        if (!comma)
            break;
        p = comma + 1;
    }
    return false;
}

static bool claim_has_label(json_t *claim, const char *key, const char *value)
{
    const char *canon = hoist_label_canonical(key);
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(claim, "labels"), k, v)
    {
        if (strcmp(hoist_label_canonical(k), canon) == 0 &&
            (!value || (json_is_string(v) && strcmp(json_string_value(v), value) == 0)))
            return true;
    }
    return false;
}

/* Does the claim carry taint "KEY[=VALUE]:EFFECT" (spec NULL effect = any)? */
static bool claim_has_taint(json_t *claim, const char *spec)
{
    char *copy = xstrdup(spec);
    char *effect = NULL;
    char *colon = strrchr(copy, ':');
    if (colon) {
        *colon = '\0';
        effect = colon + 1;
    }
    char *value = strchr(copy, '=');
    if (value)
        *value++ = '\0';
    bool found = false;
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(claim, "taints"), i, t)
    {
        if (strcmp(jstr(t, "key"), copy) != 0)
            continue;
        if (value && strcmp(jstr(t, "value"), value) != 0)
            continue;
        if (effect && strcmp(jstr(t, "effect"), effect) != 0)
            continue;
        found = true;
    }
    free(copy);
    return found;
}

static size_t count_families(json_t *options)
{
    size_t n = 0;
    size_t i, j;
    json_t *e;
    json_array_foreach(options, i, e)
    {
        const char *name = json_string_value(e);
        if (!name)
            continue;
        size_t fl = strcspn(name, ".");
        bool seen = false;
        for (j = 0; j < i && !seen; j++) {
            const char *other = json_string_value(json_array_get(options, j));
            seen = other && strcspn(other, ".") == fl && strncmp(other, name, fl) == 0;
        }
        if (!seen)
            n++;
    }
    return n;
}

/* vCPUs of an instance type in the scenario's catalog file (0 when unknown). */
static size_t catalog_vcpus(eval_ctx *c, const char *type)
{
    if (!c->catalog) {
        char *path = c->s->catalog ? xstrdup(c->s->catalog)
                                   : xasprintf("%s/contrib/catalog/us-east-1.json", c->srcdir);
        json_error_t jerr;
        c->catalog = json_load_file(path, 0, &jerr);
        if (!c->catalog)
            c->catalog = json_array();
        free(path);
    }
    size_t i;
    json_t *e;
    json_array_foreach(c->catalog, i, e)
    {
        if (strcmp(jstr(e, "instance_type"), type) == 0)
            return (size_t)json_integer_value(json_object_get(e, "vcpus"));
    }
    return 0;
}

/* The claim of a pod for claim-of, or NULL after reporting a failure. */
static json_t *claim_of(eval_ctx *c, int line, const char *pod, size_t *index)
{
    where w = locate(c, pod);
    if (w.kind != W_CLAIM) {
        char *d = describe(c, w);
        fail(c, line, "%s: expected on a new claim, got %s", pod, d);
        free(d);
        return NULL;
    }
    *index = w.index;
    return json_array_get(c->claims, w.index);
}

static void eval_claim_of(eval_ctx *c, const line_toks *l)
{
    size_t idx;
    const char *pod = l->tok[1], *prop = l->tok[2];
    json_t *cl = claim_of(c, l->line, pod, &idx);
    if (!cl)
        return;
    if (is_claim_field(prop)) {
        const char *got = jstr(cl, prop);
        if (l->n == 4 || op_parse(l->tok[3]) >= 0) {
            bool negate = l->n == 5 && op_parse(l->tok[3]) == OP_NE;
            const char *want = l->tok[l->n - 1];
            if ((strcmp(got, want) == 0) == negate)
                fail(c, l->line, "claim #%zu of %s: expected %s %s %s, got %s", idx, pod, prop,
                     negate ? "!=" : "==", want, got);
        } else {
            bool negate = strcmp(l->tok[3], "not-in") == 0;
            if (in_list(l->tok[4], got) == negate)
                fail(c, l->line, "claim #%zu of %s: expected %s %s {%s}, got %s", idx, pod, prop,
                     l->tok[3], l->tok[4], got);
        }
        return;
    }
    if (strcmp(prop, "type-in") == 0) {
        const char *got = jstr(cl, "instanceType");
        if (!in_list(l->tok[3], got))
            fail(c, l->line, "claim #%zu of %s: expected instanceType in {%s}, got %s", idx, pod,
                 l->tok[3], got);
        return;
    }
    json_t *options = json_object_get(cl, "instanceTypeOptions");
    if (strcmp(prop, "options-include") == 0 || strcmp(prop, "options-exclude") == 0) {
        bool include = strcmp(prop, "options-include") == 0;
        char *copy = xstrdup(l->tok[3]);
        char *save = NULL;
        for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
            if (json_array_has_string(options, t) != include)
                fail(c, l->line, "claim #%zu of %s: instanceTypeOptions %s %s", idx, pod,
                     include ? "lack" : "contain", t);
        free(copy);
        return;
    }
    if (strcmp(prop, "label") == 0 || strcmp(prop, "no-label") == 0) {
        char *copy = xstrdup(l->tok[3]);
        char *eq = strchr(copy, '=');
        if (eq)
            *eq++ = '\0';
        bool want = strcmp(prop, "label") == 0;
        if (claim_has_label(cl, copy, want ? eq : NULL) != want) {
            char *labels = json_dumps(json_object_get(cl, "labels"), JSON_COMPACT | JSON_SORT_KEYS);
            fail(c, l->line, "claim #%zu of %s: expected %s %s, labels are %s", idx, pod,
                 want ? "label" : "no label", l->tok[3], labels ? labels : "(none)");
            free(labels);
        }
        free(copy);
        return;
    }
    if (strcmp(prop, "taint") == 0 || strcmp(prop, "no-taint") == 0) {
        bool want = strcmp(prop, "taint") == 0;
        if (claim_has_taint(cl, l->tok[3]) != want) {
            char *taints = json_dumps(json_object_get(cl, "taints"), JSON_COMPACT);
            fail(c, l->line, "claim #%zu of %s: expected %s %s, taints are %s", idx, pod,
                 want ? "taint" : "no taint", l->tok[3], taints ? taints : "(none)");
            free(taints);
        }
        return;
    }
    int i = 3;
    cmp_op op;
    double want, got;
    parse_cond(l, &i, &op, &want);
    if (strcmp(prop, "options") == 0)
        got = (double)json_array_size(options);
    else if (strcmp(prop, "families") == 0)
        got = (double)count_families(options);
    else if (strcmp(prop, "offerings") == 0)
        got = (double)json_array_size(json_object_get(cl, "offerings"));
    else if (strcmp(prop, "pods") == 0)
        got = (double)json_array_size(json_object_get(cl, "pods"));
    else
        got = json_number_value(json_object_get(cl, "price"));
    if (!op_holds(op, got, want)) {
        char *opts = json_dumps(options, JSON_COMPACT);
        fail(c, l->line, "claim #%zu of %s: expected %s %s %g, got %g (options %s)", idx, pod, prop,
             op_names[op], want, got, opts ? opts : "[]");
        free(opts);
    }
}

static void eval_pairs(eval_ctx *c, const line_toks *l)
{
    const char *verb = l->tok[0];
    bool claim_only = strstr(verb, "claim") != NULL;
    bool same = strncmp(verb, "same", 4) == 0;
    where ws[MAX_TOKENS];
    for (int i = 1; i < l->n; i++) {
        ws[i] = locate(c, l->tok[i]);
        bool ok = claim_only ? ws[i].kind == W_CLAIM
                             : (ws[i].kind == W_CLAIM || ws[i].kind == W_EXISTING);
        if (!ok) {
            char *d = describe(c, ws[i]);
            fail(c, l->line, "%s: %s needs it on %s, got %s", l->tok[i], verb,
                 claim_only ? "a new claim" : "a node or claim", d);
            free(d);
            return;
        }
    }
    for (int i = 1; i < l->n; i++) {
        for (int j = i + 1; j < l->n; j++) {
            bool eq = ws[i].kind == ws[j].kind && ws[i].index == ws[j].index;
            if (same ? !eq : eq) {
                char *a = describe(c, ws[i]), *b = describe(c, ws[j]);
                fail(c, l->line, "%s: %s is on %s, %s is on %s", verb, l->tok[i], a, l->tok[j], b);
                free(a);
                free(b);
                return;
            }
        }
    }
}

static void eval_pod(eval_ctx *c, const line_toks *l)
{
    const char *pod = l->tok[1], *st = l->tok[2];
    where w = locate(c, pod);
    bool ok;
    if (strcmp(st, "unschedulable") != 0 && strcmp(st, "absent") != 0 && c->objects_ok &&
        !find_pod(c, pod)) {
        fail(c, l->line, "%s: no such pod in the scenario's inputs (typo?)", pod);
        return;
    }
    if (strcmp(st, "new") == 0)
        ok = w.kind == W_CLAIM;
    else if (strcmp(st, "existing") == 0)
        ok = w.kind == W_EXISTING;
    else if (strcmp(st, "in-flight") == 0 || strcmp(st, "!in-flight") == 0)
        ok = w.kind == W_EXISTING &&
             json_is_true(json_object_get(json_array_get(c->existing, w.index), "inFlight")) ==
                 (st[0] != '!');
    else if (strcmp(st, "placed") == 0)
        ok = w.kind == W_CLAIM || w.kind == W_EXISTING;
    else if (strcmp(st, "absent") == 0)
        ok = w.kind == W_NONE;
    else if (strcmp(st, "node") == 0)
        ok = w.kind == W_EXISTING &&
             strcmp(jstr(json_array_get(c->existing, w.index), "node"), l->tok[3]) == 0;
    else {
        ok = w.kind == W_UNSCHED;
        if (ok && l->n > 3) {
            int i = 3;
            bool neg;
            const char *text;
            parse_match(l, &i, &neg, &text);
            const char *reason = jstr(json_array_get(c->unsched, w.index), "reason");
            ok = (strstr(reason, text) != NULL) != neg;
        }
    }
    if (!ok) {
        char *d = describe(c, w);
        size_t len = 0;
        for (int i = 2; i < l->n; i++)
            len += strlen(l->tok[i]) + 1;
        char *want = xmalloc(len + 1);
        want[0] = '\0';
        for (int i = 2; i < l->n; i++) {
            if (i > 2)
                strcat(want, " ");
            strcat(want, l->tok[i]);
        }
        fail(c, l->line, "%s: expected %s, got %s", pod, want, d);
        free(want);
        free(d);
    }
}

static void eval_domains(eval_ctx *c, const line_toks *l)
{
    const char *key = domain_key(l->tok[1]);
    int i = 3;
    cmp_op op;
    double want;
    parse_cond(l, &i, &op, &want);
    domain_count *d;
    size_t n;
    count_domains(c, key, l->tok[2], &d, &n);
    /* domains named after "over" count even when empty */
    if (i + 2 == l->n) {
        char *copy = xstrdup(l->tok[i + 1]);
        char *save = NULL;
        for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            size_t j;
            for (j = 0; j < n; j++)
                if (strcmp(d[j].value, t) == 0)
                    break;
            if (j == n) {
                domain_count *nd = realloc(d, (n + 1) * sizeof *nd);
                if (!nd) {
                    fprintf(stderr, "run_scenarios: out of memory\n");
                    exit(99);
                }
                d = nd;
                d[n].value = xstrdup(t);
                d[n].count = 0;
                n++;
            }
        }
        free(copy);
    }
    double got;
    if (strcmp(l->tok[0], "domains") == 0) {
        got = (double)n;
    } else {
        int lo = n ? d[0].count : 0, hi = lo;
        for (size_t j = 0; j < n; j++) {
            if (d[j].count < lo)
                lo = d[j].count;
            if (d[j].count > hi)
                hi = d[j].count;
        }
        got = hi - lo;
    }
    if (!op_holds(op, got, want)) {
        char *f = format_domains(d, n);
        fail(c, l->line, "%s %s %s: expected %s %g, got %g; pods per domain %s", l->tok[0], key,
             l->tok[2], op_names[op], want, got, f);
        free(f);
    }
    free_domains(d, n);
}

static void eval_line(eval_ctx *c, const line_toks *l)
{
    const char *verb = l->tok[0];
    int i = 1;
    cmp_op op;
    double want;
    if (strcmp(verb, "exit") == 0) {
        parse_number(l->tok[1], &want);
        if (c->r->status != (int)want)
            fail(c, l->line, "expected exit status %d, got %d%s", (int)want, c->r->status,
                 c->r->signal ? " (killed by a signal)" : "");
        return;
    }
    if (strcmp(verb, "stderr") == 0 || strcmp(verb, "stdout") == 0) {
        bool neg;
        const char *text;
        parse_match(l, &i, &neg, &text);
        const char *hay = verb[3] == 'e' ? c->r->err : c->r->out;
        if ((strstr(hay, text) != NULL) == neg)
            fail(c, l->line, "expected %s %s \"%s\"", verb, neg ? "not to contain" : "to contain",
                 text);
        return;
    }
    if (!c->plan) {
        fail(c, l->line, "%s: no JSON plan on stdout", verb);
        return;
    }
    if (strcmp(verb, "pod") == 0) {
        eval_pod(c, l);
    } else if (strcmp(verb, "claim-of") == 0) {
        eval_claim_of(c, l);
    } else if (strncmp(verb, "same-", 5) == 0 || strncmp(verb, "different-", 10) == 0) {
        eval_pairs(c, l);
    } else if (strcmp(verb, "skew") == 0 || strcmp(verb, "domains") == 0) {
        eval_domains(c, l);
    } else if (strcmp(verb, "claims") == 0 || strcmp(verb, "vcpus") == 0) {
        bool vcpus = verb[0] == 'v';
        /* filters first */
        int first_cond = 1;
        while (first_cond < l->n && strchr(l->tok[first_cond], '=') &&
               op_parse(l->tok[first_cond]) < 0)
            first_cond++;
        i = first_cond;
        parse_cond(l, &i, &op, &want);
        size_t got = 0, k;
        json_t *cl;
        json_array_foreach(c->claims, k, cl)
        {
            bool match = true;
            for (int f = 1; f < first_cond && match; f++) {
                char *copy = xstrdup(l->tok[f]);
                char *eq = strchr(copy, '=');
                *eq = '\0';
                if (strncmp(copy, "label:", 6) == 0)
                    match = claim_has_label(cl, copy + 6, eq + 1);
                else
                    match = strcmp(jstr(cl, copy), eq + 1) == 0;
                free(copy);
            }
            if (match)
                got += vcpus ? catalog_vcpus(c, jstr(cl, "instanceType")) : 1;
        }
        if (!op_holds(op, (double)got, want)) {
            char *summary = xstrdup("");
            json_array_foreach(c->claims, k, cl)
            {
                char *t = xasprintf("%s%s%s/%s/%s/%s(%zu pods)", summary, k ? ", " : "",
                                    jstr(cl, "nodePool"), jstr(cl, "instanceType"), jstr(cl, "zone"),
                                    jstr(cl, "capacityType"),
                                    json_array_size(json_object_get(cl, "pods")));
                free(summary);
                summary = t;
            }
            fail(c, l->line, "expected %s %s %g, got %zu [%s]", verb, op_names[op], want, got,
                 summary);
            free(summary);
        }
    } else {
        double got;
        parse_cond(l, &i, &op, &want);
        if (strcmp(verb, "cost") == 0)
            got = json_number_value(json_object_get(c->plan, "costPerHour"));
        else if (strcmp(verb, "lower-bound") == 0)
            got = json_number_value(json_object_get(c->plan, "lowerBoundPerHour"));
        else if (strcmp(verb, "pending") == 0)
            got = json_number_value(json_object_get(c->plan, "pendingPods"));
        else if (strcmp(verb, "unschedulable") == 0)
            got = (double)json_array_size(c->unsched);
        else
            got = (double)json_array_size(c->existing);
        if (!op_holds(op, got, want))
            fail(c, l->line, "expected %s %s %g, got %g", verb, op_names[op], want, got);
    }
}

/* Checks every plan must pass, whatever the scenario. */
static void check_invariants(eval_ctx *c)
{
    if (!json_is_array(c->claims) || !json_is_array(c->existing) || !json_is_array(c->unsched) ||
        !json_is_number(json_object_get(c->plan, "costPerHour"))) {
        fail(c, 0, "the plan lacks nodeClaims, existingNodes, unschedulable or costPerHour");
        return;
    }
    /* every listed pod once; every claim consistent */
    double sum = 0;
    size_t i, j;
    json_t *cl, *p;
    json_array_foreach(c->claims, i, cl)
    {
        sum += json_number_value(json_object_get(cl, "price"));
        json_t *opts = json_object_get(cl, "instanceTypeOptions");
        if (!json_array_has_string(opts, jstr(cl, "instanceType")))
            fail(c, 0, "claim #%zu: instanceType %s not among its instanceTypeOptions", i,
                 jstr(cl, "instanceType"));
        if (json_array_size(json_object_get(cl, "pods")) == 0)
            fail(c, 0, "claim #%zu has no pods", i);
        json_array_foreach(json_object_get(cl, "pods"), j, p)
        {
            where w = locate(c, json_string_value(p) ? json_string_value(p) : "");
            if (w.count != 1)
                fail(c, 0, "pod %s is listed %d times", json_string_value(p), w.count);
        }
    }
    double cost = json_number_value(json_object_get(c->plan, "costPerHour"));
    if (fabs(cost - sum) > 1e-6 * (1 + fabs(sum)))
        fail(c, 0, "costPerHour %g is not the sum of the claims' prices %g", cost, sum);
    json_t *lb = json_object_get(c->plan, "lowerBoundPerHour");
    if (json_is_number(lb) && json_number_value(lb) > cost + 1e-9)
        fail(c, 0, "lowerBoundPerHour %g exceeds costPerHour %g", json_number_value(lb), cost);
    if (!c->objects_ok)
        return;
    /* pending pods are decided exactly once; bound pods are not pending */
    for (i = 0; i < c->objects.n_pods; i++) {
        const hoist_pod *pod = c->objects.pods[i];
        char *ref = xasprintf("%s/%s", pod->ns, pod->name);
        where w = locate(c, ref);
        if (pod_is_pending(pod) && w.count != 1)
            fail(c, 0, "pending pod %s is listed %d times in the plan", ref, w.count);
        if (!pod_is_pending(pod) && w.count != 0)
            fail(c, 0, "pod %s is not pending (nodeName %s, phase \"%s\") but is in the plan",
                 ref, pod->node_name ? pod->node_name : "-", pod->phase);
        free(ref);
    }
    /* existing nodes are never overcommitted */
    json_t *en;
    json_array_foreach(c->existing, i, en)
    {
        const hoist_node *node = hoist_objects_find_node(&c->objects, jstr(en, "node"));
        if (!node) {
            fail(c, 0, "existingNodes names %s, which is not in the inputs", jstr(en, "node"));
            continue;
        }
        if (node->unschedulable)
            fail(c, 0, "pods placed on cordoned node %s", node->name);
        hoist_resources used;
        memset(&used, 0, sizeof used);
        for (j = 0; j < c->objects.n_pods; j++) {
            const hoist_pod *pod = c->objects.pods[j];
            if (pod_is_live_bound(pod) && strcmp(pod->node_name, node->name) == 0)
                hoist_resources_add(&used, &pod->requests);
        }
        json_array_foreach(json_object_get(en, "pods"), j, p)
        {
            const hoist_pod *pod = find_pod(c, json_string_value(p) ? json_string_value(p) : "");
            if (pod)
                hoist_resources_add(&used, &pod->requests);
        }
        for (int r = 0; r < c->objects.names.count; r++)
            if (used.v[r] > node->allocatable.v[r])
                fail(c, 0, "node %s overcommitted: %s requested %lld milli, allocatable %lld milli",
                     node->name, c->objects.names.names[r], (long long)used.v[r],
                     (long long)node->allocatable.v[r]);
    }
}

/* ------------------------------------------------------------------ */
/* driver                                                               */

typedef struct totals {
    int n, pass, fail, xfail, xpass, skip;
} totals;

static void print_indented(const char *text, int max_lines)
{
    int lines = 0;
    const char *p = text;
    while (*p && lines < max_lines) {
        const char *nl = strchr(p, '\n');
        int len = nl ? (int)(nl - p) : (int)strlen(p);
        printf("#     %.*s\n", len, p);
        lines++;
        p = nl ? nl + 1 : p + len;
    }
    if (*p)
        printf("#     ...\n");
}

static void run_one(const scenario *s, const char *srcdir, const char *builddir, bool verbose,
                    totals *t)
{
    t->n++;
    if (s->skip) {
        t->skip++;
        printf("ok %d - %s # SKIP %s\n", t->n, s->name, s->skip);
        return;
    }
    char *argv[10 + 2 * MAX_INPUTS];
    int a = 0;
    char *hoist = xasprintf("%s/hoist", builddir);
    argv[a++] = hoist;
    argv[a++] = (char *)"plan";
    for (int i = 0; i < s->n_inputs; i++) {
        argv[a++] = (char *)"-f";
        argv[a++] = s->inputs[i];
    }
    if (s->catalog) {
        argv[a++] = (char *)"--catalog";
        argv[a++] = s->catalog;
    }
    if (s->policy) {
        argv[a++] = (char *)"--policy";
        argv[a++] = s->policy;
    }
    argv[a++] = (char *)"-o";
    argv[a++] = (char *)"json";
    argv[a++] = (char *)"--offerings";
    argv[a] = NULL;

    eval_ctx c;
    memset(&c, 0, sizeof c);
    c.s = s;
    c.srcdir = srcdir;
    run_result r;
    if (run_capture(srcdir, argv, &r) != 0) {
        fprintf(stderr, "run_scenarios: cannot run %s: %s\n", hoist, strerror(errno));
        exit(99);
    }
    c.r = &r;
    if (r.signal)
        fail(&c, 0, "hoist was killed by signal %d%s", r.signal,
             r.signal == SIGALRM ? " (timeout)" : "");
    json_error_t jerr;
    c.plan = *r.out ? json_loads(r.out, 0, &jerr) : NULL;
    c.claims = json_object_get(c.plan, "nodeClaims");
    c.existing = json_object_get(c.plan, "existingNodes");
    c.unsched = json_object_get(c.plan, "unschedulable");

    hoist_objects_init(&c.objects);
    c.objects.keep_going = true;
    c.objects_ok = true;
    for (int i = 0; i < s->n_inputs; i++) {
        hoist_err e;
        if (hoist_objects_load_file(&c.objects, s->inputs[i], &e) != 0) {
            fail(&c, 0, "the runner cannot read %s: %s", s->inputs[i], e.msg);
            c.objects_ok = false;
        }
    }

    bool expects_exit = false;
    for (size_t i = 0; i < s->n_lines; i++)
        if (strcmp(s->lines[i].tok[0], "exit") == 0)
            expects_exit = true;
    if (!expects_exit && r.status != 0)
        fail(&c, 0, "hoist exited with status %d (add an `exit N` line if that is expected)",
             r.status);
    if (c.plan)
        check_invariants(&c);
    for (size_t i = 0; i < s->n_lines; i++)
        eval_line(&c, &s->lines[i]);

    bool failed = c.failures > 0;
    if (failed && s->xfail) {
        t->xfail++;
        printf("ok %d - %s # XFAIL %s\n", t->n, s->name, s->xfail);
    } else if (failed) {
        t->fail++;
        printf("not ok %d - %s\n", t->n, s->name);
    } else if (s->xfail) {
        t->xpass++;
        printf("not ok %d - %s # XPASS (remove the xfail line: %s)\n", t->n, s->name, s->xfail);
    } else {
        t->pass++;
        printf("ok %d - %s\n", t->n, s->name);
    }
    if (failed) {
        for (size_t i = 0; i < c.messages.n; i++)
            printf("#   %s\n", c.messages.items[i]);
    }
    if ((failed && !s->xfail) || verbose) {
        printf("#   command: cd %s &&", srcdir);
        for (int i = 0; argv[i]; i++)
            printf(" %s", argv[i]);
        printf("\n#   exit status %d; stderr:\n", r.status);
        print_indented(r.err, 20);
        if (verbose || !c.plan) {
            printf("#   stdout:\n");
            print_indented(r.out, verbose ? 400 : 20);
        }
    }
    strlist_free(&c.messages);
    hoist_objects_free(&c.objects);
    json_decref(c.plan);
    json_decref(c.catalog);
    run_result_free(&r);
    free(hoist);
}

/* Collect *.expect and *.bad files under path (recursively). */
static void collect(const char *path, strlist *expects, strlist *bads)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "run_scenarios: %s: %s\n", path, strerror(errno));
        exit(99);
    }
    if (S_ISREG(st.st_mode)) {
        if (ends_with(path, ".expect"))
            strlist_push(expects, xstrdup(path));
        else if (ends_with(path, ".bad"))
            strlist_push(bads, xstrdup(path));
        return;
    }
    DIR *d = opendir(path);
    if (!d) {
        fprintf(stderr, "run_scenarios: %s: %s\n", path, strerror(errno));
        exit(99);
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char *child = xasprintf("%s/%s", path, de->d_name);
        if (stat(child, &st) == 0 && (S_ISDIR(st.st_mode) || ends_with(child, ".expect") ||
                                      ends_with(child, ".bad")))
            collect(child, expects, bads);
        free(child);
    }
    closedir(d);
}

static const char *display_of(const char *path, const char *srcdir)
{
    size_t n = strlen(srcdir);
    if (strncmp(path, srcdir, n) == 0 && path[n] == '/')
        return path + n + 1;
    return path;
}

/* A parser self-test: FILE.bad must fail to parse at the line and with the
 * text its first line announces ("# expect-error: LINE: TEXT"). */
static bool run_bad(const char *path, const char *srcdir, const char *root, char *why,
                    size_t whylen)
{
    char *text = slurp(path);
    if (!text) {
        snprintf(why, whylen, "cannot read %s", path);
        return false;
    }
    int line = 0;
    char want[512] = "";
    const char *tag = "# expect-error: ";
    bool ok = strncmp(text, tag, strlen(tag)) == 0 &&
              sscanf(text + strlen(tag), "%d: %511[^\n]", &line, want) == 2;
    free(text);
    if (!ok) {
        snprintf(why, whylen, "first line must be \"# expect-error: LINE: TEXT\"");
        return false;
    }
    /* parse it as if it were a .expect file */
    scenario s;
    char err[2048] = "";
    const char *disp = display_of(path, srcdir);
    int rc = scenario_load(&s, path, disp, root, err, sizeof err);
    scenario_free(&s);
    char place[1024];
    snprintf(place, sizeof place, "%s:%d: ", disp, line);
    if (rc == 0) {
        snprintf(why, whylen, "parsed without error; expected \"%s%s\"", place, want);
        return false;
    }
    if (strncmp(err, place, strlen(place)) != 0 || !strstr(err, want)) {
        snprintf(why, whylen, "expected \"%s...%s...\", got \"%s\"", place, want, err);
        return false;
    }
    return true;
}

int main(int argc, char **argv)
{
    const char *srcdir = env_or("HOIST_SRCDIR", ".");
    const char *builddir = env_or("HOIST_BUILDDIR", ".");
    bool verbose = false;
    strlist paths = {0}, expects = {0}, bads = {0};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-v") == 0)
            verbose = true;
        else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            printf("usage: run_scenarios [-v] [PATH...]\n"
                   "Runs every tests/scenario *.expect (or those under PATH).\n");
            return 0;
        } else
            strlist_push(&paths, xstrdup(argv[i]));
    }
    char *real_src = realpath(srcdir, NULL);
    if (real_src)
        srcdir = real_src;
    char *root = xasprintf("%s/tests/scenario", srcdir);
    if (paths.n == 0)
        strlist_push(&paths, xstrdup(root));
    for (size_t i = 0; i < paths.n; i++) {
        /* absolute paths, so names and messages read the same however given */
        char *abs = realpath(paths.items[i], NULL);
        collect(abs ? abs : paths.items[i], &expects, &bads);
        free(abs);
    }
    if (expects.n)
        qsort(expects.items, expects.n, sizeof *expects.items, cmp_str);
    if (bads.n)
        qsort(bads.items, bads.n, sizeof *bads.items, cmp_str);

    if (expects.n == 0) {
        printf("# no scenarios found under %s (set HOIST_SRCDIR)\n", root);
        return 99;
    }
    char *hoist = xasprintf("%s/hoist", builddir);
    if (access(hoist, X_OK) != 0) {
        printf("# hoist binary not found at %s (set HOIST_BUILDDIR)\n", hoist);
        free(hoist);
        return 99;
    }
    free(hoist);

    printf("1..%zu\n", expects.n + bads.n);
    totals t = {0};
    int parse_errors = 0;
    for (size_t i = 0; i < bads.n; i++) {
        char why[4096];
        t.n++;
        if (run_bad(bads.items[i], srcdir, root, why, sizeof why)) {
            t.pass++;
            printf("ok %d - parser rejects %s\n", t.n, display_of(bads.items[i], srcdir));
        } else {
            t.fail++;
            printf("not ok %d - parser rejects %s\n#   %s\n", t.n,
                   display_of(bads.items[i], srcdir), why);
        }
    }
    for (size_t i = 0; i < expects.n; i++) {
        scenario s;
        char err[2048];
        if (scenario_load(&s, expects.items[i], display_of(expects.items[i], srcdir), root, err,
                          sizeof err) != 0) {
            t.n++;
            t.fail++;
            parse_errors++;
            printf("not ok %d - %s\n#   %s\n", t.n, display_of(expects.items[i], srcdir), err);
            scenario_free(&s);
            continue;
        }
        run_one(&s, srcdir, builddir, verbose, &t);
        scenario_free(&s);
    }
    printf("# scenarios %d: pass %d, xfail %d, skip %d, fail %d (%d bad files), xpass %d\n", t.n,
           t.pass, t.xfail, t.skip, t.fail, parse_errors, t.xpass);
    strlist_free(&paths);
    strlist_free(&expects);
    strlist_free(&bads);
    free(root);
    free(real_src);
    return t.fail || t.xpass ? 1 : 0;
}
