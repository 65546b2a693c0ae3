/*
 * apikey — `warden apikey create|list|revoke -c FILE ...`: API keys kept in
 * the store. create prints the key once; only its SHA-256 is stored.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/config.h"
#include "identity/keystore.h"

static int usage(const char *msg)
{
	fprintf(stderr, "warden apikey: %s\n"
			"usage: warden apikey create -c FILE NAME [--groups a,b]\n"
			"       warden apikey list   -c FILE\n"
			"       warden apikey revoke -c FILE NAME\n",
		msg);
	return 2;
}

int cli_apikey_main(int argc, char **argv)
{
	if (argc < 2)
		return usage("which subcommand? create, list or revoke");
	const char *sub = argv[1], *config = NULL, *groups = NULL, *name = NULL;
	for (int i = 2; i < argc; i++) {
		if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) && i + 1 < argc)
			config = argv[++i];
		else if (strcmp(argv[i], "--groups") == 0 && i + 1 < argc)
			groups = argv[++i];
		else if (argv[i][0] == '-')
			return usage("unknown option");
		else if (!name)
			name = argv[i];
		else
			return usage("too many arguments");
	}
	if (!config)
		return usage("-c FILE (the warden configuration) is required");
	int needs_name = strcmp(sub, "create") == 0 || strcmp(sub, "revoke") == 0;
	if (needs_name != (name != NULL))
		return usage(needs_name ? "which key? give its NAME" : "unexpected argument");
	warden_config cfg;
	char err[512];
	if (config_load_ex(config, &cfg, err, sizeof(err), CONFIG_NO_SECRETS) != 0) {
		fprintf(stderr, "warden apikey: %s\n", err);
		return 1;
	}
	int rc = 1;
	if (!cfg.audit_path) {
		fprintf(stderr, "warden apikey: %s names no store (data_dir or audit.path)\n", config);
	} else if (strcmp(sub, "create") == 0) {
		char key[96];
		if (keystore_cli_create(cfg.audit_path, name, groups, key, sizeof(key), err, sizeof(err)) == 0) {
			printf("%s\n", key);
			fprintf(stderr, "warden apikey: created key \"%s\"; it is shown only this once\n", name);
			rc = 0;
		}
	} else if (strcmp(sub, "revoke") == 0) {
		if (keystore_cli_revoke(cfg.audit_path, name, err, sizeof(err)) == 0) {
			printf("revoked \"%s\"; open sessions using it end at their next request\n", name);
			rc = 0;
		}
	} else if (strcmp(sub, "list") == 0) {
		rc = keystore_cli_list(cfg.audit_path, err, sizeof(err)) == 0 ? 0 : 1;
	} else {
		config_free(&cfg);
		return usage("unknown subcommand");
	}
	if (rc != 0 && err[0])
		fprintf(stderr, "warden apikey: %s\n", err);
	config_free(&cfg);
	return rc;
}
