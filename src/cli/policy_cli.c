/*
 * policy — `warden policy check|explain|test`.
 *
 *   check    loads the configuration the way `serve` does (unknown keys,
 *            unknown kinds/flags/statements, unreachable rules are errors) and
 *            summarises the policy.
 *   explain  classifies a SQL text and shows, statement by statement, which
 *            rule decides it for a given user/groups/agent/connection.
 *   test     what-if: replays the requests recorded in the audit store, each
 *            session in order with its own PREPARE names and search_path,
 *            under a candidate policy, and lists every request whose decision
 *            would change.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/store.h"
#include "cli/cli.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/util.h"
#include "policy/policy.h"
#include "policy/sqlclass.h"

static const char usage_text[] =
	"usage: warden policy check   -c FILE\n"
	"       warden policy explain -c FILE --user U [--groups a,b] [--agent A] --connection C \"SQL\"\n"
	"       warden policy test    -c FILE --candidate NEW.yaml [--since 7d] [--json]\n";

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("warden policy: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fputs(usage_text, stderr);
	return 2;
}

static int load(const char *path, warden_config *cfg)
{
	char err[1024];
	if (config_load_ex(path, cfg, err, sizeof(err), CONFIG_NO_SECRETS) != 0) {
		fprintf(stderr, "warden policy: %s\n", err);
		return -1;
	}
	return 0;
}

static const char *action_word(config_action a)
{
	return a == CONFIG_ACTION_ALLOW ? "allow" : a == CONFIG_ACTION_REVIEW ? "review" : "deny";
}

static void print_list(const char *key, const config_strlist *l)
{
	if (!l->n)
		return;
	printf(" %s=", key);
	for (size_t i = 0; i < l->n; i++)
		printf("%s%s", i ? "," : "", l->v[i]);
}

static void print_bits(const char *key, uint32_t bits, const char *(*name)(uint32_t), int count)
{
	if (!bits)
		return;
	printf(" %s=", key);
	const char *sep = "";
	for (int b = 0; b < count; b++) {
		if (bits & (1u << b)) {
			printf("%s%s", sep, name(1u << b));
			sep = ",";
		}
	}
}

static int cmd_check(const char *config)
{
	warden_config cfg;
	if (load(config, &cfg) != 0)
		return 1;
	const config_policy *p = &cfg.policy;
	if (!p->present) {
		printf("%s: no policy section: every statement is allowed and none is classified\n", config);
		config_free(&cfg);
		return 0;
	}
	printf("%s: policy OK: %zu rule%s, default %s, %zu dangerous function pattern%s\n", config,
	       p->n_rules, p->n_rules == 1 ? "" : "s", action_word(p->default_action),
	       p->dangerous_functions.n, p->dangerous_functions.n == 1 ? "" : "s");
	for (size_t i = 0; i < p->n_rules; i++) {
		const config_rule *r = &p->rules[i];
		printf("  %2zu. %-24s %-6s line %zu:", i + 1, r->name, action_word(r->action), r->line);
		if (r->catch_all)
			printf(" every statement");
		print_list("users", &r->users);
		print_list("groups", &r->groups);
		print_list("agents", &r->agents);
		print_list("connections", &r->connections);
		print_bits("kinds", r->kinds, sqlclass_kind_name, SQLK_COUNT);
		print_list("statements", &r->statements);
		print_list("objects", &r->objects);
		print_list("functions", &r->functions);
		print_bits("flags", r->flags, sqlclass_flag_name, SQLF_COUNT);
		putchar('\n');
	}
	config_free(&cfg);
	return 0;
}

static char *groups_json_of(const char *csv)
{
	json_t *a = json_array();
	if (csv) {
		char *copy = util_strndup(csv, strlen(csv)), *save = NULL;
		for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
			if (*t)
				json_array_append_new(a, json_string(t));
		free(copy);
	}
	char *s = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	return s;
}

static int cmd_explain(const char *config, const char *user, const char *groups, const char *agent,
		       const char *connection, const char *sql)
{
	if (!user)
		return usage_error("explain needs --user U");
	if (!connection)
		return usage_error("explain needs --connection C");
	if (!sql)
		return usage_error("explain needs the SQL text as its argument");
	warden_config cfg;
	if (load(config, &cfg) != 0)
		return 1;
	session s;
	session_init(&s, "postgres");
	s.user = util_strndup(user, strlen(user));
	s.groups_json = groups_json_of(groups);
	s.agent = agent ? util_strndup(agent, strlen(agent)) : NULL;
	s.connection = util_strndup(connection, strlen(connection));
	const config_connection *cc = config_find_connection(&cfg, connection);
	if (cc && cc->user)
		s.target_user = util_strndup(cc->user, strlen(cc->user));
	else if (!cc)
		fprintf(stderr, "warden policy: note: %s has no connection named \"%s\"\n", config, connection);
	printf("as %s, groups %s, agent %s, connection %s:\n", user, s.groups_json, agent ? agent : "(none)",
	       connection);
	if (!cfg.policy.present)
		printf("(no policy section: warden allows every statement without classifying it; "
		       "shown as the rules would see it)\n");
	policy_explain(&cfg.policy, s.policy, &s, sql, stdout);
	session_release(&s);
	config_free(&cfg);
	return 0;
}

/* ---- test: per-session replay ---- */

typedef struct replay_session {
	struct replay_session *next;
	char id[40];
	session s;
} replay_session;

#define REPLAY_BUCKETS 1024

static replay_session *replay_get(replay_session **table, const audit_entry *e,
				  const warden_config *cfg)
{
	uint64_t h = 1469598103934665603ull;
	for (const char *p = e->session ? e->session : ""; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	replay_session **slot = &table[h % REPLAY_BUCKETS];
	for (replay_session *r = *slot; r; r = r->next)
		if (strcmp(r->id, e->session ? e->session : "") == 0)
			return r;
	replay_session *r = calloc(1, sizeof(*r));
	if (!r)
		abort();
	snprintf(r->id, sizeof(r->id), "%s", e->session ? e->session : "");
	session_init(&r->s, e->protocol ? "postgres" : "postgres");
	r->s.user = e->user ? util_strndup(e->user, strlen(e->user)) : NULL;
	r->s.groups_json = e->groups ? util_strndup(e->groups, strlen(e->groups)) : NULL;
	r->s.agent = e->agent ? util_strndup(e->agent, strlen(e->agent)) : NULL;
	r->s.connection = e->connection ? util_strndup(e->connection, strlen(e->connection)) : NULL;
	const config_connection *cc = e->connection ? config_find_connection(cfg, e->connection) : NULL;
	if (cc && cc->user)
		r->s.target_user = util_strndup(cc->user, strlen(cc->user));
	r->next = *slot;
	*slot = r;
	return r;
}

static void replay_free(replay_session **table)
{
	for (size_t i = 0; i < REPLAY_BUCKETS; i++) {
		while (table[i]) {
			replay_session *r = table[i];
			table[i] = r->next;
			session_release(&r->s);
			free(r);
		}
	}
}

static char *one_line(const char *s, size_t max)
{
	buf b = {0};
	int space = 0;
	for (const char *p = s ? s : ""; *p && b.len < max; p++) {
		unsigned char ch = (unsigned char)*p;
		if (ch == '\n' || ch == '\r' || ch == '\t' || ch == ' ') {
			space = b.len > 0;
			continue;
		}
		if (space)
			buf_append(&b, " ", 1);
		space = 0;
		if (ch < 0x20 || ch == 0x7f)
			ch = '?';
		buf_append(&b, &ch, 1);
	}
	if (s && strlen(s) > max)
		buf_append(&b, "...", 3);
	buf_append(&b, "", 1);
	return b.data;
}

/*
 * session.h's parents and uniques in a replay: what the request's
 * classification recorded ("inherits": {"schema.table": ["parent", ...] or
 * null}, "unique": {"schema.table": ["column", ...] or null}, "references":
 * {"schema.table": ["column", "referenced", ...] or null}, "json_columns"
 * and "number_columns": {"schema.table": ["column", ...] or null}); a
 * relation it does not name had none (or was not asked about).
 */
static int replay_recorded(void *ctx, const char *schema, const char *table, char ***out)
{
	*out = NULL;
	buf key = {0};
	buf_printf(&key, "%s.%s", schema, table);
	json_t *v = ctx ? json_object_get(ctx, key.data) : NULL;
	buf_free(&key);
	if (!v)
		return 0;
	if (!json_is_array(v))
		return -1; /* null: the catalog could not say */
	size_t n = json_array_size(v), k = 0;
	if (!n)
		return 0;
	*out = util_xmalloc(n * sizeof(**out));
	for (size_t i = 0; i < n; i++) {
		const char *p = json_string_value(json_array_get(v, i));
		if (p)
			(*out)[k++] = util_strndup(p, strlen(p));
	}
	return (int)k;
}

static int cmd_test(const char *config, const char *candidate, const char *since, int as_json)
{
	if (!candidate)
		return usage_error("test needs --candidate NEW.yaml (a configuration with the policy to try)");
	int64_t since_us = INT64_MIN;
	if (since && cli_parse_since(since, util_now_us(), &since_us) != 0)
		return usage_error("--since: cannot read '%s' as a time or an age", since);
	warden_config cfg, cand;
	if (load(config, &cfg) != 0)
		return 1;
	if (load(candidate, &cand) != 0) {
		config_free(&cfg);
		return 1;
	}
	if (!cand.policy.present)
		fprintf(stderr, "warden policy: note: %s has no policy section: it allows everything\n", candidate);
	char err[512];
	audit_store *st = cfg.audit_path ? audit_store_open(cfg.audit_path, AUDIT_STORE_READ, err, sizeof(err)) : NULL;
	if (!st) {
		fprintf(stderr, "warden policy: %s\n", cfg.audit_path ? err : "the configuration names no audit store");
		config_free(&cfg);
		config_free(&cand);
		return 1;
	}
	audit_store_filter f;
	audit_store_filter_init(&f);
	f.since_us = since_us;
	f.kinds = 1u << AUDIT_REQUEST;
	audit_store_iter *it;
	if (audit_store_iter_open(st, &f, &it) != 0) {
		fprintf(stderr, "warden policy: %s\n", audit_store_errmsg(st));
		audit_store_close(st);
		config_free(&cfg);
		config_free(&cand);
		return 1;
	}
	replay_session **table = calloc(REPLAY_BUCKETS, sizeof(*table));
	if (!table)
		abort();
	int64_t total = 0, changed = 0, to_deny = 0, to_allow = 0, skipped = 0;
	int rc;
	audit_entry *e;
	json_t *changes = as_json ? json_array() : NULL;
	while ((rc = audit_store_iter_next(it, &e)) == 1) {
		if (e->rule && strcmp(e->rule, "unsafe-lexing") == 0) {
			/* denied for the session's lexing state, not by a rule: nothing to re-decide */
			skipped++;
			audit_entry_free(e);
			continue;
		}
		replay_session *r = replay_get(table, e, &cand);
		request_desc d = {.statement = e->statement, .statement_len = e->statement ? strlen(e->statement) : 0};
		json_t *cls = e->classification ? json_loads(e->classification, 0, NULL) : NULL;
		d.function_call = json_is_true(json_object_get(cls, "function_call")); /* a FunctionCall, by OID */
		/* its function as the catalog named it: "-- FunctionCall oid 764: "pg_catalog"."lo_open"" */
		static const char fc[] = "-- FunctionCall oid ";
		const char *named = d.function_call && e->statement && strncmp(e->statement, fc, sizeof(fc) - 1) == 0
					    ? strstr(e->statement, ": ") : NULL;
		d.function_name = named ? named + 2 : NULL;
		/* the parents the target's catalog named for its relations, as recorded */
		r->s.parents = replay_recorded;
		r->s.parents_ctx = json_object_get(cls, "inherits");
		r->s.uniques = replay_recorded;
		r->s.uniques_ctx = json_object_get(cls, "unique");
		r->s.references = replay_recorded;
		r->s.references_ctx = json_object_get(cls, "references");
		r->s.json_columns = replay_recorded;
		r->s.json_columns_ctx = json_object_get(cls, "json_columns");
		r->s.number_columns = replay_recorded;
		r->s.number_columns_ctx = json_object_get(cls, "number_columns");
		policy_decision dec;
		policy_decide(&cand.policy, r->s.policy, &r->s, &d, &dec);
		r->s.parents_ctx = NULL;
		r->s.uniques_ctx = NULL;
		r->s.references_ctx = NULL;
		r->s.json_columns_ctx = NULL;
		r->s.number_columns_ctx = NULL;
		json_decref(cls);
		const char *now = policy_action_name(dec.action);
		const char *was = e->decision ? e->decision : "allow";
		/* an allowed (or held) request's masking is part of its decision: "allow" vs "allow, masked (pii)" */
		char was_buf[96], now_buf[96];
		const char *was_mask = NULL, *now_mask = NULL;
		json_t *wm = e->masked ? json_loads(e->masked, 0, NULL) : NULL;
		was_mask = json_string_value(json_object_get(wm, "profile"));
		if (dec.action != POLICY_DENY && dec.mask_profile >= 0)
			now_mask = cand.mask_profiles[dec.mask_profile].name;
		int mask_change = strcmp(now, was) == 0 && strcmp(now, "deny") != 0 &&
				  !(was_mask && now_mask ? strcmp(was_mask, now_mask) == 0 : was_mask == now_mask);
		if (was_mask) {
			snprintf(was_buf, sizeof(was_buf), "%s, masked (%s)", was, was_mask);
			was = was_buf;
		}
		if (now_mask) {
			snprintf(now_buf, sizeof(now_buf), "%s, masked (%s)", now, now_mask);
			now = now_buf;
		}
		total++;
		if (mask_change) {
			changed++;
			if (!now_mask)
				to_allow++;     /* the results would go out in clear */
			else if (!was_mask)
				to_deny++;
		}
		if (!mask_change && strcmp(policy_action_name(dec.action), e->decision ? e->decision : "allow") != 0) {
			changed++;
			static const char *const order[] = { "allow", "review", "deny" };
			int a = 0, b = 0;
			const char *was_action = e->decision ? e->decision : "allow";
			for (int k = 0; k < 3; k++) {
				if (strcmp(was_action, order[k]) == 0)
					a = k;
				if (strcmp(policy_action_name(dec.action), order[k]) == 0)
					b = k;
			}
			if (b > a)
				to_deny++;
			else
				to_allow++;
		}
		if (mask_change || strcmp(policy_action_name(dec.action), e->decision ? e->decision : "allow") != 0) {
			char when[AUDIT_TIME_LEN];
			if (audit_time_format(e->time_us, when, sizeof(when)) != 0)
				when[0] = '\0';
			if (as_json) {
				json_t *o = json_object();
				json_object_set_new(o, "id", json_integer(e->id));
				json_object_set_new(o, "time", json_string(when));
				json_object_set_new(o, "session", json_string(e->session ? e->session : ""));
				json_object_set_new(o, "user", e->user ? json_string(e->user) : json_null());
				json_object_set_new(o, "agent", e->agent ? json_string(e->agent) : json_null());
				json_object_set_new(o, "connection", e->connection ? json_string(e->connection) : json_null());
				json_object_set_new(o, "old", json_string(was));
				json_object_set_new(o, "old_rule", e->rule ? json_string(e->rule) : json_null());
				json_object_set_new(o, "new", json_string(policy_action_name(dec.action)));
				json_object_set_new(o, "old_masked", was_mask ? json_string(was_mask) : json_null());
				json_object_set_new(o, "new_masked", now_mask ? json_string(now_mask) : json_null());
				json_object_set_new(o, "new_rule", json_string(dec.rule));
				json_object_set_new(o, "statement", e->statement ? json_string(e->statement) : json_null());
				if (dec.message)
					json_object_set_new(o, "message", json_string(dec.message));
				json_array_append_new(changes, o);
			} else {
				char *stmt = one_line(e->statement, 100);
				printf("#%-6lld %.19s  %-12s %-14s %s -> %s  rule %s (was %s)\n    %s\n",
				       (long long)e->id, when, e->user ? e->user : "-", e->agent ? e->agent : "-",
				       was, now, dec.rule, e->rule ? e->rule : "-", stmt);
				free(stmt);
			}
		}
		json_decref(wm);
		policy_decision_release(&dec);
		audit_entry_free(e);
	}
	int status = 0;
	if (rc < 0) {
		fprintf(stderr, "warden policy: %s\n", audit_store_errmsg(st));
		status = 1;
	}
	if (as_json) {
		json_t *o = json_object();
		json_object_set_new(o, "requests", json_integer(total));
		json_object_set_new(o, "changed", json_integer(changed));
		json_object_set_new(o, "stricter", json_integer(to_deny));
		json_object_set_new(o, "looser", json_integer(to_allow));
		json_object_set_new(o, "not_redecided", json_integer(skipped));
		json_object_set_new(o, "changes", changes);
		json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
		json_decref(o);
	} else {
		printf("%lld request%s re-decided under %s: %lld would change (%lld stricter, %lld looser)\n",
		       (long long)total, total == 1 ? "" : "s", candidate, (long long)changed, (long long)to_deny,
		       (long long)to_allow);
		if (skipped)
			printf("%lld request%s denied for an unsafe standard_conforming_strings / client_encoding "
			       "not re-decided\n", (long long)skipped, skipped == 1 ? "" : "s");
	}
	replay_free(table);
	free(table);
	audit_store_iter_close(it);
	audit_store_close(st);
	config_free(&cfg);
	config_free(&cand);
	return status;
}

enum { OPT_USER = 256, OPT_GROUPS, OPT_AGENT, OPT_CONNECTION, OPT_CANDIDATE, OPT_SINCE, OPT_JSON };

int cli_policy_main(int argc, char **argv)
{
	if (argc < 2)
		return usage_error("which subcommand? check, explain or test");
	const char *sub = argv[1];
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"user", required_argument, NULL, OPT_USER},
		{"groups", required_argument, NULL, OPT_GROUPS},
		{"agent", required_argument, NULL, OPT_AGENT},
		{"connection", required_argument, NULL, OPT_CONNECTION},
		{"candidate", required_argument, NULL, OPT_CANDIDATE},
		{"since", required_argument, NULL, OPT_SINCE},
		{"json", no_argument, NULL, OPT_JSON},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	const char *config = NULL, *user = NULL, *groups = NULL, *agent = NULL, *connection = NULL,
		   *candidate = NULL, *since = NULL, *sql = NULL;
	int json = 0, c;
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc - 1, argv + 1, ":c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case OPT_USER: user = optarg; break;
		case OPT_GROUPS: groups = optarg; break;
		case OPT_AGENT: agent = optarg; break;
		case OPT_CONNECTION: connection = optarg; break;
		case OPT_CANDIDATE: candidate = optarg; break;
		case OPT_SINCE: since = optarg; break;
		case OPT_JSON: json = 1; break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		case ':':
			return usage_error("option '%s' needs a value", argv[optind]);
		default:
			return usage_error("unknown option '%s'", argv[optind]);
		}
	}
	if (optind < argc - 1)
		sql = argv[1 + optind++];
	if (optind < argc - 1)
		return usage_error("unexpected argument '%s'", argv[1 + optind]);
	if (!config)
		return usage_error("-c FILE (the warden configuration) is required");
	if (strcmp(sub, "check") == 0)
		return sql ? usage_error("unexpected argument '%s'", sql) : cmd_check(config);
	if (strcmp(sub, "explain") == 0)
		return cmd_explain(config, user, groups, agent, connection, sql);
	if (strcmp(sub, "test") == 0)
		return sql ? usage_error("unexpected argument '%s'", sql) : cmd_test(config, candidate, since, json);
	return usage_error("unknown subcommand '%s' (check, explain or test)", sub);
}
