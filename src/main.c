/*
 * warden — an access gateway between AI coding agents and production
 * resources. main dispatches subcommands to cli/.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static int usage(FILE *f)
{
	fprintf(f, "usage: warden <command> [options]\n\n"
		   "commands:\n"
		   "  serve -c FILE [--check]        run the gateway (or only validate the configuration)\n"
		   "  audit list -c FILE [filters]   requests with their results\n"
		   "  audit show -c FILE ID          one entry in full\n"
		   "  audit export -c FILE --format jsonl\n"
		   "  audit verify|sth|prove|check-proof|pubkey ...   the tamper-evident log\n"
		   "  policy check -c FILE | explain -c FILE --user U ... \"SQL\" | test -c FILE --candidate NEW\n"
		   "  mask -c FILE [--profile P] [--type T] [--column S.T.C] [--explain] [TEXT ...]   a profile tried\n"
		   "  review list|show|approve|deny ... --gateway URL   decide held requests (admin API)\n"
		   "  grant list|revoke ... --gateway URL               standing approvals\n"
		   "  apikey create -c FILE NAME [--groups a,b] | list -c FILE | revoke -c FILE NAME\n"
		   "  login --issuer URL --client-id ID [--resource URI]   OIDC sign-in (device flow)\n"
		   "  whoami                         the identity of the stored sign-in\n"
		   "  proxy CONNECTION --gateway HOST:PORT [--port 5433]   a local listener, no password\n"
		   "  version\n");
	return f == stdout ? 0 : 2;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage(stderr);
	if (strcmp(argv[1], "serve") == 0)
		return cli_serve_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "audit") == 0)
		return cli_audit_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "review") == 0)
		return cli_review_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "grant") == 0)
		return cli_grant_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "policy") == 0)
		return cli_policy_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "mask") == 0)
		return cli_mask_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "apikey") == 0)
		return cli_apikey_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "login") == 0)
		return cli_login_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "whoami") == 0)
		return cli_whoami_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "proxy") == 0)
		return cli_proxy_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
		printf("warden 0.1.0\n");
		return 0;
	}
	if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return usage(stdout);
	fprintf(stderr, "warden: unknown command \"%s\"\n", argv[1]);
	return usage(stderr);
}
