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

/* `warden login`, `warden whoami` (login_cli.c): the developer's OIDC sign-in. */
int cli_login_main(int argc, char **argv);
int cli_whoami_main(int argc, char **argv);

/* `warden proxy CONNECTION --gateway HOST:PORT`: a loopback listener that needs no password. */
int cli_proxy_main(int argc, char **argv);

/* `warden apikey create|list|revoke ...`: API keys in the store. */
int cli_apikey_main(int argc, char **argv);

/* `warden audit verify|sth|prove|check-proof|pubkey ...` (audit_verify.c). */
int cli_audit_verify_main(int argc, char **argv);

/* `warden review list|show|approve|deny`, `warden grant list|revoke` (review_cli.c). */
int cli_review_main(int argc, char **argv);
int cli_grant_main(int argc, char **argv);

/* `warden policy check|explain|test ...` (policy_cli.c). */
int cli_policy_main(int argc, char **argv);

/* `warden mask -c FILE [TEXT ...]`: a masking profile tried on values (mask_cli.c). */
int cli_mask_main(int argc, char **argv);

#include <stdint.h>
/*
 * "30s" / "10m" / "2h" / "7d" (before now_us), "YYYY-MM-DD", "YYYY-MM-DD HH:MM[:SS]"
 * or RFC 3339; without an offset: UTC. Returns 0 with unix microseconds, or -1.
 */
int cli_parse_since(const char *s, int64_t now_us, int64_t *out);

struct audit_store;
struct audit_entry;
/* The entry's export object plus its canonical bytes, for check-proof. */
int cli_audit_show_json(struct audit_store *s, const struct audit_entry *e);

#endif
