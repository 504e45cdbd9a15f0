/* cli/main.c - the hoist command: dispatch to subcommands. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <hoist/provider.h>

#include "cli/commands.h"

int hoist_cmd_version(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("hoist %s (provider ABI %u.%u)\n", PACKAGE_VERSION, HOIST_PROVIDER_ABI_MAJOR,
           HOIST_PROVIDER_ABI_MINOR);
    return 0;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: hoist <command> [options]\n"
            "\n"
            "commands:\n"
            "  run [--kubeconfig F]         the autoscaler daemon against a Kubernetes API\n"
            "  plan -f FILE...              decide where pending pods go and which machines\n"
            "                               to buy\n"
            "  catalog -f FILE...           instance types each NodePool may launch, with\n"
            "                               capacity, allocatable and offerings\n"
            "  simulate --trace F -f F...   replay a workload trace through hoist in a\n"
            "                               simulated cluster and report cost and waits\n"
            "  sim serve [-f FILE]...       serve a simulated cluster over the Kubernetes API\n"
            "  trace generate|import-csv|check\n"
            "                               make, convert or check workload traces\n"
            "  policy check F.lua           load a Lua policy, run its hooks on a fixture\n"
            "  plugin info P.so             describe a provider plugin\n"
            "  version                      print the version\n"
            "\n"
            "Run 'hoist <command> --help' for a command's options.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version"))
        return hoist_cmd_version(argc - 1, argv + 1);
    if (!strcmp(cmd, "run"))
        return hoist_cmd_run(argc - 1, argv + 1);
    if (!strcmp(cmd, "plan"))
        return hoist_cmd_plan(argc - 1, argv + 1);
    if (!strcmp(cmd, "catalog"))
        return hoist_cmd_catalog(argc - 1, argv + 1);
    if (!strcmp(cmd, "policy"))
        return hoist_cmd_policy(argc - 1, argv + 1);
    if (!strcmp(cmd, "plugin"))
        return hoist_cmd_plugin(argc - 1, argv + 1);
    if (!strcmp(cmd, "simulate"))
        return hoist_cmd_simulate(argc - 1, argv + 1);
    if (!strcmp(cmd, "sim"))
        return hoist_cmd_sim(argc - 1, argv + 1);
    if (!strcmp(cmd, "trace"))
        return hoist_cmd_trace(argc - 1, argv + 1);
    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "hoist: unknown command '%s'\n", cmd);
    usage(stderr);
    return 2;
}
