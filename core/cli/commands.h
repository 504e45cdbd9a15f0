/*
 * cli/commands.h - the subcommands of the hoist binary. Each takes the
 * arguments after the command name (argv[0] is the command name itself) and
 * returns the process exit status: 0 success, 1 failure, 2 usage error.
 */
#ifndef HOIST_CLI_COMMANDS_H
#define HOIST_CLI_COMMANDS_H

int hoist_cmd_version(int argc, char **argv);
int hoist_cmd_plugin(int argc, char **argv);   /* hoist plugin info P.so */
int hoist_cmd_catalog(int argc, char **argv);  /* hoist catalog -f F... */
int hoist_cmd_plan(int argc, char **argv);     /* hoist plan -f F... */
int hoist_cmd_policy(int argc, char **argv);   /* hoist policy check F */
int hoist_cmd_simulate(int argc, char **argv); /* hoist simulate --trace F -f F... */
int hoist_cmd_sim(int argc, char **argv);      /* hoist sim serve [-f F...] */
int hoist_cmd_trace(int argc, char **argv);    /* hoist trace generate|import-csv|check */
int hoist_cmd_run(int argc, char **argv);      /* hoist run: the daemon */

#endif
