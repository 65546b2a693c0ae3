/*
 * login — `warden login` (OIDC device flow, tokens kept for the developer)
 * and `warden whoami` (who those tokens say you are). The tokens themselves
 * are identity/tokens.c's; this file parses arguments and prints.
 *
 * What is printed about a token is read from its payload without verifying
 * it: the gateway is what verifies tokens, and says so when it refuses one.
 */
#include <jansson.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/gateway.h"
#include "identity/jwt.h"
#include "identity/tokens.h"

static int login_usage(FILE *f, const char *msg)
{
	if (msg)
		fprintf(f, "warden login: %s\n", msg);
	fprintf(f, "usage: warden login --gateway URL [--cacert FILE | --insecure]\n"
		   "  asks the gateway's admin API which identity provider and client to use, then\n"
		   "       warden login --issuer URL --client-id ID [--resource URI]\n"
		   "  signs in with the identity provider (OAuth 2.0 device flow: open the URL shown,\n"
		   "  enter the code) and keeps the tokens in $WARDEN_CONFIG_HOME/tokens.json\n"
		   "  (default ~/.config/warden/tokens.json, mode 0600). Then use `warden whoami`.\n"
		   "       warden login --print-token\n"
		   "  (for scripts) prints a valid access token on stdout, refreshing it first when it\n"
		   "  has less than 30 s left; e.g. PGPASSWORD=$(warden login --print-token) psql ...\n");
	return f == stdout ? 0 : 2;
}

/* "dev, oncall" from a groups claim (array of strings, or one string). */
static void groups_text(const json_t *g, char *out, size_t outlen)
{
	out[0] = '\0';
	size_t used = 0;
	if (json_is_string(g)) {
		snprintf(out, outlen, "%s", json_string_value(g));
		return;
	}
	size_t i;
	json_t *v;
	json_array_foreach(g, i, v)
	{
		if (!json_is_string(v))
			continue;
		int n = snprintf(out + used, outlen - used, "%s%s", used ? ", " : "", json_string_value(v));
		if (n < 0 || (size_t)n >= outlen - used)
			break;
		used += (size_t)n;
	}
}

static const char *username_of(const json_t *claims)
{
	static const char *const names[] = {"preferred_username", "email", "sub"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *s = json_string_value(json_object_get(claims, names[i]));
		if (s && s[0])
			return s;
	}
	return "(unknown)";
}

/* The stored access token's claims, or NULL with the message printed as "warden CMD: ...". */
static json_t *stored_claims(const char *cmd)
{
	char err[1024];
	char *text = tokens_describe(err, sizeof(err));
	if (!text) {
		fprintf(stderr, "warden %s: %s\n", cmd, err);
		return NULL;
	}
	json_error_t jerr;
	json_t *claims = json_loads(text, 0, &jerr);
	free(text);
	if (!json_is_object(claims)) {
		json_decref(claims);
		fprintf(stderr, "warden %s: the stored token has no readable claims: run warden login\n", cmd);
		return NULL;
	}
	return claims;
}

int cli_login_main(int argc, char **argv)
{
	const char *issuer = NULL, *client_id = NULL, *resource = NULL, *gateway = NULL, *cacert = NULL;
	int print_token = 0, insecure = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--gateway") == 0 && i + 1 < argc)
			gateway = argv[++i];
		else if (strcmp(argv[i], "--cacert") == 0 && i + 1 < argc)
			cacert = argv[++i];
		else if (strcmp(argv[i], "--insecure") == 0)
			insecure = 1;
		else if (strcmp(argv[i], "--issuer") == 0 && i + 1 < argc)
			issuer = argv[++i];
		else if (strcmp(argv[i], "--client-id") == 0 && i + 1 < argc)
			client_id = argv[++i];
		else if (strcmp(argv[i], "--resource") == 0 && i + 1 < argc)
			resource = argv[++i];
		else if (strcmp(argv[i], "--print-token") == 0)
			print_token = 1;
		else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return login_usage(stdout, NULL);
		else
			return login_usage(stderr, argv[i][0] == '-' ? "unknown option or missing value"
								    : "unexpected argument");
	}
	char err[1024];
	if (print_token) {
		if (issuer || client_id || resource)
			return login_usage(stderr, "--print-token takes no other option");
		static char token[JWT_MAX_TOKEN_BYTES + 1];
		if (tokens_current(token, sizeof(token), err, sizeof(err)) != 0) {
			fprintf(stderr, "warden login: %s\n", err);
			return 1;
		}
		printf("%s\n", token);
		return fflush(stdout) == 0 ? 0 : 1;
	}
	json_t *disc = NULL;
	if (gateway) {
		if (issuer || client_id || resource)
			return login_usage(stderr, "--gateway asks the gateway for --issuer/--client-id/--resource: give one or the other");
		if (cli_gateway_call(gateway, "GET", "/v1/login", NULL, NULL, cacert, insecure, &disc, err, sizeof(err)) != 0) {
			fprintf(stderr, "warden login: %s\n", err);
			return 1;
		}
		issuer = json_string_value(json_object_get(disc, "issuer"));
		client_id = json_string_value(json_object_get(disc, "client_id"));
		resource = json_string_value(json_object_get(disc, "resource"));
		if (!issuer || !client_id) {
			json_decref(disc);
			fprintf(stderr, "warden login: the gateway's /v1/login answer names no issuer or client\n");
			return 1;
		}
	}
	if (!issuer || !client_id)
		return login_usage(stderr, "--gateway URL, or --issuer URL and --client-id ID, are required");
	int lrc = tokens_login(issuer, client_id, resource, err, sizeof(err));
	json_decref(disc);
	if (lrc != 0) {
		fprintf(stderr, "warden login: %s\n", err);
		return 1;
	}
	json_t *claims = stored_claims("login");
	if (!claims)
		return 1;
	char groups[1024];
	groups_text(json_object_get(claims, "groups"), groups, sizeof(groups));
	printf("signed in as %s (groups: %s)\n", username_of(claims), groups[0] ? groups : "none");
	json_decref(claims);
	return 0;
}

int cli_whoami_main(int argc, char **argv)
{
	const char *gateway = getenv("WARDEN_GATEWAY"), *cacert = NULL;
	int insecure = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--gateway") == 0 && i + 1 < argc) {
			gateway = argv[++i];
			continue;
		}
		if (strcmp(argv[i], "--cacert") == 0 && i + 1 < argc) {
			cacert = argv[++i];
			continue;
		}
		if (strcmp(argv[i], "--insecure") == 0) {
			insecure = 1;
			continue;
		}
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			printf("usage: warden whoami [--gateway URL [--cacert FILE | --insecure]]\n"
			       "  with a gateway (or $WARDEN_GATEWAY): the identity and groups the gateway sees for\n"
			       "  your credential ($WARDEN_TOKEN, or the sign-in of `warden login`); without one:\n"
			       "  what the stored token says (read from the token, not verified)\n");
			return 0;
		}
		fprintf(stderr, "warden whoami: unexpected argument \"%s\"\nusage: warden whoami\n", argv[i]);
		return 2;
	}
	if (gateway) {
		static char cred[JWT_MAX_TOKEN_BYTES + 1];
		char err[1024];
		if (cli_credential(cred, sizeof(cred), err, sizeof(err)) != 0) {
			fprintf(stderr, "warden whoami: %s\n", err);
			return 1;
		}
		json_t *v = NULL;
		int rc = cli_gateway_call(gateway, "GET", "/v1/whoami", NULL, cred, cacert, insecure, &v, err,
					  sizeof(err));
		OPENSSL_cleanse(cred, sizeof(cred));
		if (rc != 0) {
			fprintf(stderr, "warden whoami: %s\n", err);
			return 1;
		}
		char groups[1024];
		groups_text(json_object_get(v, "groups"), groups, sizeof(groups));
		printf("the gateway sees you as %s (groups: %s; by %s)\n",
		       json_string_value(json_object_get(v, "user")) ? json_string_value(json_object_get(v, "user")) : "?",
		       groups[0] ? groups : "none",
		       json_string_value(json_object_get(v, "via")) ? json_string_value(json_object_get(v, "via")) : "?");
		json_decref(v);
		return 0;
	}
	json_t *claims = stored_claims("whoami");
	if (!claims)
		return 1;
	const char *iss = json_string_value(json_object_get(claims, "iss"));
	char groups[1024];
	groups_text(json_object_get(claims, "groups"), groups, sizeof(groups));
	printf("issuer:   %s\n", iss ? iss : "(none)");
	printf("username: %s\n", username_of(claims));
	printf("groups:   %s\n", groups[0] ? groups : "(none)");
	json_t *exp = json_object_get(claims, "exp");
	if (json_is_integer(exp)) {
		time_t t = (time_t)json_integer_value(exp);
		struct tm tm;
		char when[64] = "?";
		if (gmtime_r(&t, &tm))
			strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		long long left = (long long)(t - time(NULL));
		if (left > 0)
			printf("expires:  %s (in %lld min %lld s)\n", when, left / 60, left % 60);
		else
			printf("expires:  %s (expired; the refresh token renews it at the next use)\n", when);
	} else {
		printf("expires:  (no exp claim)\n");
	}
	printf("(read from the stored access token without checking it: the gateway verifies it)\n");
	json_decref(claims);
	return 0;
}
