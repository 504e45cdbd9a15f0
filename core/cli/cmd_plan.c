/*
 * cli/cmd_plan.c - `hoist plan`: one provisioning decision on a snapshot.
 *
 * Exit status: 0 the plan was made from every object; 3 the plan was made
 * but some objects were rejected (each named on stderr and listed in the
 * JSON "unschedulable" array with a reason starting "invalid:"); 1 no plan
 * (unreadable or malformed file, provider failure); 2 usage error.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/commands.h"
#include "cli/runtime.h"
#include "model/catalog.h"
#include "model/objects.h"
#include "policy/plan_hooks.h"
#include "policy/policy.h"
#include "sched/plan.h"

/* hoist plan's options: the shared ones and its own. */
typedef struct plan_opts {
    hoist_cli_inputs in;
    bool offerings;      /* --offerings: launch offerings in the JSON */
    const char *policy;  /* --policy: a Lua policy file */
} plan_opts;

static void plan_usage(FILE *out)
{
    fprintf(out,
            "usage: hoist plan -f FILE... [--catalog F | --provider P.so]\n"
            "                  [--provider-config F] [--policy F.lua] [-o json|text]\n"
            "                  [--offerings] [--log-level L]\n"
            "\n"
            "Decides where the pending pods in the files go: onto existing or in-flight\n"
            "nodes, or onto new machines (claims) bought from the NodePools, at the lowest\n"
            "price. -f is repeatable; '-f -' reads standard input. --offerings adds each\n"
            "new machine's launch request (its cheapest compatible offerings) to the JSON.\n"
            "--policy runs a Lua policy's score_type and order_offerings hooks (see\n"
            "policies/README.md); a hook that fails leaves hoist's default in force.\n"
            "Exit status: 0 planned; 3 planned, but some objects were rejected;\n"
            "1 no plan; 2 usage error.\n");
}

/* Parse argv into o. Returns 0, -1 after --help, or the exit status to stop with. */
static int parse_args(int argc, char **argv, plan_opts *o)
{
    static const struct option longopts[] = {
        HOIST_CLI_SHARED_LONGOPTS,
        {"policy", required_argument, NULL, 'y'},
        {"offerings", no_argument, NULL, 'O'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    memset(o, 0, sizeof *o);
    hoist_cli_inputs_init(&o->in, true);
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "f:o:h", longopts, NULL)) != -1) {
        int rc = hoist_cli_shared_option(&o->in, c, optarg, "plan");
        if (rc == 1)
            continue;
        if (rc == 2)
            return 2;
        switch (c) {
        case 'O': o->offerings = true; break;
        case 'y': o->policy = optarg; break;
        case 'h': plan_usage(stdout); return -1;
        default: plan_usage(stderr); return 2;
        }
    }
    if (hoist_cli_inputs_check(&o->in, argc, argv, "plan") != 0) {
        plan_usage(stderr);
        return 2;
    }
    return 0;
}

/* The "ns/name" a load error names ("file:line: Pod ns/name: ..."), into buf. */
static const char *rejected_name(const char *msg, char *buf, size_t len)
{
    const char *p = strstr(msg, ": Pod ");
    buf[0] = '\0';
    if (p) {
        p += strlen(": Pod ");
        size_t n = strcspn(p, ": ");
        snprintf(buf, len, "%.*s", (int)n, p);
    }
    return buf;
}

/* Add the objects that failed to decode to the JSON's unschedulable list. */
static int add_rejected(json_t *out, const hoist_objects *o)
{
    json_t *arr = json_object_get(out, "unschedulable");
    for (size_t i = 0; i < o->n_errors; i++) {
        char *reason = NULL;
        char name[512];
        if (asprintf(&reason, "invalid: %s", o->errors[i]) < 0)
            return -1;
        json_t *e = json_pack("{s:s, s:s}", "pod", rejected_name(o->errors[i], name, sizeof name),
                              "reason", reason);
        free(reason);
        if (!e || json_array_append_new(arr, e) < 0)
            return -1;
    }
    return 0;
}

static void print_text(const hoist_plan *plan, const hoist_objects *o)
{
    printf("%zu pending pods: %zu new nodes at $%.4f/h (lower bound $%.4f/h), "
           "%zu existing nodes used, %zu unschedulable\n",
           plan->n_pending, plan->n_claims, plan->cost_per_hour, plan->lower_bound_per_hour,
           plan->n_existing, plan->n_unschedulable);
    for (size_t i = 0; i < plan->n_claims; i++) {
        const hoist_plan_claim *c = &plan->claims[i];
        printf("  new  %-16s %-11s %-9s $%.4f/h  NodePool %-16s %3zu pods, %zu type options\n",
               c->chosen.type->name, c->chosen.offering->zone,
               hoist_capacity_type_name(c->chosen.offering->capacity_type),
               c->chosen.offering->price, c->nodepool->name, c->n_pods, c->n_types);
    }
    for (size_t i = 0; i < plan->n_existing; i++)
        printf("  node %-40s %3zu pods%s\n", plan->existing[i].node->name,
               plan->existing[i].n_pods, plan->existing[i].in_flight ? " (in flight)" : "");
    for (size_t i = 0; i < plan->n_unschedulable; i++)
        printf("  unschedulable %s: %s\n", plan->unschedulable[i].name,
               plan->unschedulable[i].reason);
    for (size_t i = 0; i < o->n_errors; i++)
        printf("  invalid: %s\n", o->errors[i]);
}

int hoist_cmd_plan(int argc, char **argv)
{
    plan_opts opts;
    int rc = parse_args(argc, argv, &opts);
    if (rc)
        return rc < 0 ? 0 : rc;

    hoist_err err = {{0}};
    hoist_objects objs;
    hoist_objects_init(&objs);
    objs.keep_going = true; /* a bad pod is reported; the rest is still decided */
    hoist_catalog cat;
    hoist_catalog_init(&cat);
    hoist_cli_provider prov;
    hoist_plan plan;
    memset(&plan, 0, sizeof plan);
    hoist_policy *policy = NULL;
    hoist_policy_plan policy_hooks;
    memset(&policy_hooks, 0, sizeof policy_hooks);
    hoist_plan_options popts = {0};
    json_t *out = NULL;
    rc = 1;

    if (hoist_cli_load_objects(&objs, opts.in.files, opts.in.n_files, &err) < 0)
        goto fail;
    for (size_t i = 0; i < objs.n_errors; i++)
        fprintf(stderr, "hoist plan: rejected: %s\n", objs.errors[i]);
    if (hoist_cli_provider_open(&prov, opts.in.provider, opts.in.catalog,
                                opts.in.provider_config, opts.in.log_level, &err) < 0 ||
        hoist_cli_provider_catalog(&prov, &cat, &err) < 0) {
        hoist_cli_provider_close(&prov);
        goto fail;
    }
    hoist_cli_provider_close(&prov);

    if (opts.policy) {
        hoist_policy_limits limits = hoist_policy_limits_default();
        if (!(policy = hoist_policy_load(opts.policy, &limits, &err)))
            goto fail;
        hoist_policy_plan_init(&policy_hooks, policy);
        popts.hooks = &policy_hooks.hooks;
    }
    if (hoist_plan_compute(&objs, &cat, &popts, &plan, &err) < 0)
        goto fail;
    if (policy_hooks.errors)
        fprintf(stderr,
                "hoist plan: policy %s: %zu hook call(s) failed and hoist's default decided "
                "them; the last: %s\n",
                opts.policy, policy_hooks.errors, policy_hooks.last_error.msg);
    if (opts.in.json) {
        out = hoist_plan_to_json(&plan, &objs.names, opts.offerings);
        if (!out || add_rejected(out, &objs) < 0) {
            hoist_errf(&err, "out of memory");
            goto fail;
        }
        if (json_dumpf(out, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(10)) < 0) {
            hoist_errf(&err, "cannot write the output");
            goto fail;
        }
        putchar('\n');
    } else {
        print_text(&plan, &objs);
    }
    rc = objs.n_errors ? 3 : 0;
fail:
    if (rc == 1)
        fprintf(stderr, "hoist plan: %s\n", err.msg);
    json_decref(out);
    hoist_plan_free(&plan);
    hoist_policy_free(policy);
    hoist_catalog_free(&cat);
    hoist_objects_free(&objs);
    return rc;
}
