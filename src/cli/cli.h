/*
 * cli — the `warden` subcommands. main.c dispatches argv[1] to one of these;
 * each gets argv shifted so that argv[0] is the subcommand family ("audit")
 * and returns the process exit status (0 ok, 1 failure, 2 usage error).
 */
#ifndef WARDEN_CLI_H
#define WARDEN_CLI_H

/* `warden serve -c FILE [--check]`: the gateway. */
int cli_serve_main(int argc, char **argv);

/* `warden audit list|show|export ...`: reads the audit store (read-only). */
int cli_audit_main(int argc, char **argv);

#endif
