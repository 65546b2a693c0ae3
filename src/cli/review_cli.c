/*
 * review — `warden review list|show|approve|deny` and `warden grant
 * list|revoke`: the reviewer's side, over the gateway's admin API.
 *
 * The gateway comes from --gateway URL or $WARDEN_GATEWAY; the credential
 * from $WARDEN_TOKEN (a token or an API key) or the sign-in kept by `warden
 * login`. --cacert FILE trusts a private CA; --insecure skips verification
 * (a local gateway with its self-signed certificate).
 */
#include <getopt.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/gateway.h"
#include "core/config.h"

static const char review_usage[] =
	"usage: warden review list    [--status pending|approved|denied|expired|withdrawn|all] [--json]\n"
	"       warden review show    ID\n"
	"       warden review approve ID [--grant once|session|duration] [--duration 30m] [--comment TEXT]\n"
	"       warden review deny    ID --reason TEXT\n"
	"       warden grant list     [--json]\n"
	"       warden grant revoke   ID\n"
	"options: --gateway URL (or $WARDEN_GATEWAY), --cacert FILE, --insecure;\n"
	"         the credential is $WARDEN_TOKEN or the sign-in of `warden login`\n";

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("warden: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fputs(review_usage, stderr);
	return 2;
}

typedef struct opts {
	const char *gateway, *cacert, *status, *grant, *duration, *comment, *reason, *id;
	int insecure, json;
} opts;

enum { O_GATEWAY = 256, O_CACERT, O_INSECURE, O_STATUS, O_GRANT, O_DURATION, O_COMMENT, O_REASON, O_JSON };

static int parse(int argc, char **argv, opts *o)
{
	static const struct option longopts[] = {
		{"gateway", required_argument, NULL, O_GATEWAY},
		{"cacert", required_argument, NULL, O_CACERT},
		{"insecure", no_argument, NULL, O_INSECURE},
		{"status", required_argument, NULL, O_STATUS},
		{"grant", required_argument, NULL, O_GRANT},
		{"duration", required_argument, NULL, O_DURATION},
		{"comment", required_argument, NULL, O_COMMENT},
		{"reason", required_argument, NULL, O_REASON},
		{"json", no_argument, NULL, O_JSON},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	memset(o, 0, sizeof(*o));
	opterr = 0;
	optind = 0;
	int c;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case O_GATEWAY: o->gateway = optarg; break;
		case O_CACERT: o->cacert = optarg; break;
		case O_INSECURE: o->insecure = 1; break;
		case O_STATUS: o->status = optarg; break;
		case O_GRANT: o->grant = optarg; break;
		case O_DURATION: o->duration = optarg; break;
		case O_COMMENT: o->comment = optarg; break;
		case O_REASON: o->reason = optarg; break;
		case O_JSON: o->json = 1; break;
		case 'h':
			fputs(review_usage, stdout);
			return 1;
		case ':':
			return usage_error("option '%s' needs a value", argv[optind - 1]);
		default:
			return usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		o->id = argv[optind++];
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (!o->gateway)
		o->gateway = getenv("WARDEN_GATEWAY");
	if (!o->gateway)
		return usage_error("which gateway? give --gateway URL (e.g. https://warden.internal:8443) or set WARDEN_GATEWAY");
	return 0;
}

/* Calls the API; returns 0 with the parsed answer, or 1 after printing why. */
static int call(const opts *o, const char *method, const char *path, json_t *body, json_t **out)
{
	char cred[8192], err[1024];
	if (cli_credential(cred, sizeof(cred), err, sizeof(err)) != 0) {
		fprintf(stderr, "warden: %s\n", err);
		return 1;
	}
	int rc = cli_gateway_call(o->gateway, method, path, body, cred, o->cacert, o->insecure, out, err,
				  sizeof(err));
	OPENSSL_cleanse(cred, sizeof(cred));
	if (rc != 0) {
		fprintf(stderr, "warden: %s\n", err);
		return 1;
	}
	return 0;
}

static const char *s_or(json_t *o, const char *key, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : dflt;
}

static void one_line(const char *s, char *out, size_t len)
{
	size_t n = 0;
	int space = 0;
	for (; s && *s && n + 4 < len; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '\n' || ch == '\r' || ch == '\t' || ch == ' ') {
			space = n > 0;
			continue;
		}
		if (space)
			out[n++] = ' ';
		space = 0;
		out[n++] = ch < 0x20 ? '?' : (char)ch;
	}
	if (s && *s)
		out[n++] = '.', out[n++] = '.', out[n++] = '.';
	out[n] = '\0';
}

static void print_review(json_t *r, int full)
{
	char stmt[4096];
	one_line(s_or(r, "statement", ""), stmt, full ? sizeof(stmt) : 70);
	if (!full) {
		printf("%-32s  %-9s  %-10s %-14s %-10s %-18s %lld/%lld  %.19s  %s\n", s_or(r, "id", "?"),
		       s_or(r, "status", "?"), s_or(r, "user", "-"), s_or(r, "agent", "-"), s_or(r, "connection", "-"),
		       s_or(r, "rule", "-"), (long long)json_array_size(json_object_get(r, "approvals")),
		       (long long)json_integer_value(json_object_get(r, "approvals_needed")), s_or(r, "expires", "-"),
		       stmt);
		return;
	}
	printf("review      %s (%s)\n", s_or(r, "id", "?"), s_or(r, "status", "?"));
	printf("requested   %s by %s via %s on %s\n", s_or(r, "created", "?"), s_or(r, "user", "?"),
	       s_or(r, "agent", "-"), s_or(r, "connection", "?"));
	printf("rule        %s (needs %lld approval(s); grants up to %s)\n", s_or(r, "rule", "?"),
	       (long long)json_integer_value(json_object_get(r, "approvals_needed")), s_or(r, "max_grant", "once"));
	printf("expires     %s\n", s_or(r, "expires", "-"));
	char *cls = json_dumps(json_object_get(r, "classification"), JSON_COMPACT | JSON_ENCODE_ANY);
	printf("detected    %s\n", cls ? cls : "-");
	free(cls);
	printf("statement   %s\n", stmt);
	size_t i;
	json_t *a;
	json_array_foreach(json_object_get(r, "approvals"), i, a)
		printf("approved    by %s at %s (%s)%s%s\n", s_or(a, "reviewer", "?"), s_or(a, "time", "?"),
		       s_or(a, "grant", "once"), json_string_value(json_object_get(a, "comment")) ? ": " : "",
		       s_or(a, "comment", ""));
	if (json_string_value(json_object_get(r, "decided_by")) || json_string_value(json_object_get(r, "reason")))
		printf("decided     %s by %s%s%s\n", s_or(r, "decided", "-"), s_or(r, "decided_by", "-"),
		       json_string_value(json_object_get(r, "comment")) ? ": " : "", s_or(r, "comment", ""));
}

static int review_main(const char *sub, int argc, char **argv)
{
	opts o;
	int rc = parse(argc, argv, &o);
	if (rc)
		return rc == 1 ? 0 : rc;
	json_t *v = NULL;
	if (strcmp(sub, "list") == 0) {
		char path[128];
		const char *st = o.status ? o.status : "pending";
		if (strcmp(st, "all") == 0)
			snprintf(path, sizeof(path), "/v1/reviews");
		else
			snprintf(path, sizeof(path), "/v1/reviews?status=%s", st);
		if (call(&o, "GET", path, NULL, &v))
			return 1;
		json_t *list = json_object_get(v, "reviews");
		if (o.json) {
			json_dumpf(list, stdout, JSON_INDENT(2));
			putchar('\n');
		} else if (json_array_size(list) == 0) {
			printf("no %s reviews\n", strcmp(st, "all") == 0 ? "" : st);
		} else {
			printf("%-32s  %-9s  %-10s %-14s %-10s %-18s %s  %-19s  %s\n", "ID", "STATUS", "USER", "AGENT",
			       "CONNECTION", "RULE", "OK ", "EXPIRES", "STATEMENT");
			size_t i;
			json_t *r;
			json_array_foreach(list, i, r)
				print_review(r, 0);
		}
	} else if (strcmp(sub, "show") == 0 || strcmp(sub, "approve") == 0 || strcmp(sub, "deny") == 0) {
		if (!o.id)
			return usage_error("which review? give its ID (see warden review list)");
		char path[160];
		if (strcmp(sub, "show") == 0) {
			snprintf(path, sizeof(path), "/v1/reviews/%s", o.id);
			if (call(&o, "GET", path, NULL, &v))
				return 1;
			if (o.json) {
				json_dumpf(v, stdout, JSON_INDENT(2));
				putchar('\n');
			} else {
				print_review(v, 1);
			}
		} else {
			json_t *body = json_object();
			int approve = strcmp(sub, "approve") == 0;
			if (approve) {
				if (o.grant)
					json_object_set_new(body, "grant", json_string(o.grant));
				if (o.duration)
					json_object_set_new(body, "duration", json_string(o.duration));
				if (o.comment)
					json_object_set_new(body, "comment", json_string(o.comment));
			} else {
				if (!o.reason) {
					json_decref(body);
					return usage_error("deny needs --reason TEXT: the requester is told it");
				}
				json_object_set_new(body, "reason", json_string(o.reason));
			}
			snprintf(path, sizeof(path), "/v1/reviews/%s/%s", o.id, sub);
			int bad = call(&o, "POST", path, body, &v);
			json_decref(body);
			if (bad)
				return 1;
			printf("%s: %s\n", o.id, s_or(v, "result", "done"));
		}
	} else {
		return usage_error("unknown subcommand '%s'", sub);
	}
	json_decref(v);
	return 0;
}

static int grant_main(const char *sub, int argc, char **argv)
{
	opts o;
	int rc = parse(argc, argv, &o);
	if (rc)
		return rc == 1 ? 0 : rc;
	json_t *v = NULL;
	if (strcmp(sub, "list") == 0) {
		if (call(&o, "GET", "/v1/grants", NULL, &v))
			return 1;
		json_t *list = json_object_get(v, "grants");
		if (o.json) {
			json_dumpf(list, stdout, JSON_INDENT(2));
			putchar('\n');
		} else if (json_array_size(list) == 0) {
			printf("no live grants\n");
		} else {
			printf("%-32s  %-8s  %-10s %-10s %-18s %-10s %-19s  %s\n", "ID", "KIND", "USER", "CONNECTION",
			       "RULE", "BY", "EXPIRES", "USES");
			size_t i;
			json_t *g;
			json_array_foreach(list, i, g)
				printf("%-32s  %-8s  %-10s %-10s %-18s %-10s %-19.19s  %lld\n", s_or(g, "id", "?"),
				       s_or(g, "kind", "?"), s_or(g, "user", "-"), s_or(g, "connection", "-"),
				       s_or(g, "rule", "-"), s_or(g, "granted_by", "-"),
				       s_or(g, "expires", "end of session"),
				       (long long)json_integer_value(json_object_get(g, "uses")));
		}
	} else if (strcmp(sub, "revoke") == 0) {
		if (!o.id)
			return usage_error("which grant? give its ID (see warden grant list)");
		char path[160];
		snprintf(path, sizeof(path), "/v1/grants/%s", o.id);
		if (call(&o, "DELETE", path, NULL, &v))
			return 1;
		printf("%s\n", s_or(v, "result", "revoked"));
	} else {
		return usage_error("unknown subcommand '%s'", sub);
	}
	json_decref(v);
	return 0;
}

int cli_review_main(int argc, char **argv)
{
	if (argc < 2)
		return usage_error("which subcommand? list, show, approve or deny");
	return review_main(argv[1], argc - 1, argv + 1);
}

int cli_grant_main(int argc, char **argv)
{
	if (argc < 2)
		return usage_error("which subcommand? list or revoke");
	return grant_main(argv[1], argc - 1, argv + 1);
}
