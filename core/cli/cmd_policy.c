/* cli/cmd_policy.c - `hoist policy check F [--hooks a,b] [-o json|text]`. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "policy/check.h"

static void policy_usage(FILE *out)
{
    fprintf(out,
            "usage: hoist policy check [--hooks NAME,...] [-o text|json] FILE\n"
            "\n"
            "Load a Lua policy in hoist's sandbox, check every hook it defines against\n"
            "the hook API, run each on a built-in fixture and print what it returned.\n"
            "Exit status: 0 when the policy loads and every hook returns the right type,\n"
            "1 otherwise, 2 on a usage error.\n"
            "\n"
            "  -o, --output FORMAT   text (default) or json\n"
            "      --hooks LIST      check only these hooks (comma-separated); a listed\n"
            "                        hook the policy does not define is an error\n"
            "\n"
            "hooks:\n");
    for (size_t i = 0; i < hoist_policy_hook_api_count(); i++) {
        const hoist_policy_hook_api *a = hoist_policy_hook_api_get(i);
        fprintf(out, "  %s(%s)\n      -> %s\n", a->name, a->params, a->returns);
    }
}

/* Split "a,b,,c" into its non-empty names (pointers into s, which is cut). */
static size_t split_hooks(char *s, const char **names, size_t max)
{
    size_t n = 0;
    for (char *tok = strtok(s, ","); tok && n < max; tok = strtok(NULL, ","))
        names[n++] = tok;
    return n;
}

int hoist_cmd_policy(int argc, char **argv)
{
    if (argc < 2) {
        policy_usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        policy_usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "check") != 0) {
        fprintf(stderr, "hoist policy: unknown subcommand '%s'\n", argv[1]);
        policy_usage(stderr);
        return 2;
    }
    const char *file = NULL;
    const char *names[64];
    char *hooks_arg = NULL;
    hoist_policy_check_options o = {NULL, 0, false, NULL};
    int status = 2;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            policy_usage(stdout);
            status = 0;
            goto done;
        } else if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "hoist policy check: %s needs a value\n", a);
                goto usage;
            }
            const char *fmt = argv[++i];
            if (!strcmp(fmt, "json")) {
                o.json = true;
            } else if (!strcmp(fmt, "text")) {
                o.json = false;
            } else {
                fprintf(stderr, "hoist policy check: unknown output format '%s'\n", fmt);
                goto usage;
            }
        } else if (!strcmp(a, "--hooks")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "hoist policy check: --hooks needs a value\n");
                goto usage;
            }
            free(hooks_arg);
            hooks_arg = strdup(argv[++i]);
            if (!hooks_arg) {
                fprintf(stderr, "hoist policy check: out of memory\n");
                status = 1;
                goto done;
            }
            o.n_hooks = split_hooks(hooks_arg, names, sizeof names / sizeof names[0]);
            o.hooks = names;
            if (o.n_hooks == 0) {
                fprintf(stderr, "hoist policy check: --hooks lists no hook\n");
                goto usage;
            }
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "hoist policy check: unknown option '%s'\n", a);
            goto usage;
        } else if (file) {
            fprintf(stderr, "hoist policy check: one policy file at a time ('%s' and '%s')\n",
                    file, a);
            goto usage;
        } else {
            file = a;
        }
    }
    if (!file) {
        fprintf(stderr, "hoist policy check: no policy file given\n");
        goto usage;
    }
    status = hoist_policy_check(file, &o, stdout);
    goto done;
usage:
    policy_usage(stderr);
    status = 2;
done:
    free(hooks_arg);
    return status;
}
