/*
 * warden audit — read the audit trail: list, show, export.
 *
 * Owns: argument parsing and the human and JSON renderings of the trail. It
 * reads the store directly, read-only (SQLite WAL lets it run alongside a
 * live `warden serve`); it never writes, so it cannot disturb the log.
 *
 * Every JSON it prints is built from audit_entry_to_json(), so `show`,
 * `list --json` and `export` agree with each other and with the store.
 * Exit status: 0 ok, 1 failure (config, store, missing entry), 2 usage.
 */
#include "cli/cli.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit/entry.h"
#include "audit/store.h"
#include "core/config.h"
#include "core/util.h"

#define LIST_DEFAULT_LIMIT 100
#define STATEMENT_WIDTH 80

static const char usage_text[] =
	"usage: warden audit list   -c FILE [--user U] [--connection C] [--since T] [--limit N] "
	"[--json]\n"
	"       warden audit show   -c FILE ID [--json]\n"
	"       warden audit export -c FILE --format jsonl [--since T]\n"
	"       warden audit verify -c FILE [--sth SAVED.json]\n"
	"       warden audit sth    -c FILE\n"
	"       warden audit prove  -c FILE ID\n"
	"       warden audit check-proof --pubkey KEY PROOF.json ENTRY.json\n"
	"       warden audit pubkey -c FILE\n"
	"\n"
	"  list     requests (with their outcome) and authentication failures, oldest first;\n"
	"           the most recent N (default " "100" ", 0 = all)\n"
	"  show     every field of one entry, and its request or result\n"
	"  export   every entry in id order, one JSON object per line\n"
	"  verify   recompute every leaf, the Merkle tree and every signed tree head;\n"
	"           with --sth, prove the log extends a tree head saved earlier\n"
	"  sth      the latest signed tree head, as JSON (keep it: verify --sth uses it)\n"
	"  prove    an inclusion proof for one entry (check it with check-proof and the\n"
	"           ENTRY.json printed by show --json)\n"
	"  pubkey   the tree-head signing key's public half (PEM)\n"
	"\n"
	"  T is a UTC time (2026-11-25, \"2026-11-25 20:22:27\", 2026-11-25T20:22:27Z, RFC 3339\n"
	"  with an offset) or an age: 30s, 10m, 2h, 7d.\n";

static int usage_error(const char *sub, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int usage_error(const char *sub, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "warden audit%s%s: ", sub ? " " : "", sub ? sub : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n%s", usage_text);
	return 2;
}

/* ---- time arguments ---------------------------------------------------- */

static int digits(const char **p, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

/*
 * "30s" / "10m" / "2h" / "7d" (before now), "YYYY-MM-DD", "YYYY-MM-DD HH:MM[:SS]"
 * or RFC 3339 "YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)". Without an offset: UTC.
 */
int cli_parse_since(const char *s, int64_t now_us, int64_t *out)
{
	size_t n = strlen(s);
	if (n >= 2 && strchr("smhd", s[n - 1])) {
		int64_t v = 0;
		size_t i;
		for (i = 0; i + 1 < n; i++) {
			if (!isdigit((unsigned char)s[i]) || v > INT64_MAX / 100)
				return -1;
			v = v * 10 + (s[i] - '0');
		}
		int64_t unit = s[n - 1] == 's' ? 1 : s[n - 1] == 'm' ? 60 : s[n - 1] == 'h' ? 3600
											  : 86400;
		if (v > INT64_MAX / 1000000 / unit)
			return -1;
		*out = now_us - v * unit * 1000000;
		return 0;
	}

	const char *p = s;
	struct tm tm = {0};
	int y, mo, d, h = 0, mi = 0, sec = 0;
	int64_t frac_us = 0, offset_s = 0;
	if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' ||
	    digits(&p, 2, &d))
		return -1;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		p++;
		if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi))
			return -1;
		if (*p == ':') {
			p++;
			if (digits(&p, 2, &sec))
				return -1;
			if (*p == '.') {
				p++;
				int64_t scale = 100000;
				if (!isdigit((unsigned char)*p))
					return -1;
				for (; isdigit((unsigned char)*p); p++) {
					frac_us += (*p - '0') * scale;
					scale /= 10;
				}
			}
		}
		if (*p == 'Z' || *p == 'z') {
			p++;
		} else if (*p == '+' || *p == '-') {
			int sign = *p++ == '-' ? -1 : 1, oh, om;
			if (digits(&p, 2, &oh) || *p++ != ':' || digits(&p, 2, &om) || oh > 23 ||
			    om > 59)
				return -1;
			offset_s = sign * (oh * 3600 + om * 60);
		}
	}
	if (*p != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	time_t t = timegm(&tm);
	if (tm.tm_mday != d || tm.tm_mon != mo - 1) /* timegm normalised e.g. Feb 30 */
		return -1;
	*out = ((int64_t)t - offset_s) * 1000000 + frac_us;
	return 0;
}

/* ---- opening the store ------------------------------------------------- */

static audit_store *open_store(const char *config_path)
{
	warden_config cfg;
	char err[1024];
	memset(&cfg, 0, sizeof(cfg));
	if (config_load_ex(config_path, &cfg, err, sizeof(err), CONFIG_NO_SECRETS) != 0) {
		fprintf(stderr, "warden audit: %s\n", err);
		config_free(&cfg);
		return NULL;
	}
	audit_store *s = NULL;
	if (!cfg.audit_path)
		fprintf(stderr, "warden audit: %s names no audit store\n", config_path);
	else if (!(s = audit_store_open(cfg.audit_path, AUDIT_STORE_READ, err, sizeof(err))))
		fprintf(stderr, "warden audit: %s\n", err);
	config_free(&cfg);
	return s;
}

/* ---- text helpers ------------------------------------------------------- */

static size_t utf8_len(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* Length of the valid UTF-8 sequence at s, 0 if invalid (s is NUL-terminated). */
static size_t utf8_seq(const unsigned char *s)
{
	unsigned char c = s[0];
	size_t len = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3
		   : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
	for (size_t i = 1; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return len;
}

/*
 * What reaches the terminal. Agents choose application_name, statements and
 * more, so nothing they send may act on the operator's terminal: control
 * characters (C0, DEL, C1) and bytes that are not UTF-8 are shown as \xNN or
 * \uNNNN. Newlines are kept when keep_newlines, tabs become spaces. malloc'd.
 */
static char *term_safe(const char *s, int keep_newlines)
{
	size_t n = strlen(s), o = 0;
	char *out = util_xmalloc(n * 6 + 1);
	const unsigned char *u = (const unsigned char *)s;
	for (size_t i = 0; i < n;) {
		size_t len = utf8_seq(u + i);
		if (len == 1 && u[i] == '\n' && keep_newlines) {
			out[o++] = '\n';
		} else if (len == 1 && u[i] == '\t') {
			out[o++] = ' ';
		} else if (len == 0 || (len == 1 && (u[i] < 0x20 || u[i] == 0x7f))) {
			o += (size_t)snprintf(out + o, 5, "\\x%02x", u[i]);
			len = 1;
		} else if (len == 2 && u[i] == 0xc2 && u[i + 1] < 0xa0) {
			o += (size_t)snprintf(out + o, 7, "\\u%04x", u[i + 1]);
		} else {
			memcpy(out + o, s + i, len);
			o += len;
		}
		i += len;
	}
	out[o] = '\0';
	return out;
}

static size_t cell_len(const char *s)
{
	char *safe = term_safe(s, 0);
	size_t n = utf8_len(safe);
	free(safe);
	return n;
}

/* Prints s in exactly `width` columns (code points): truncated with "…", or padded. */
static void print_cell(const char *raw, size_t width, int pad)
{
	char *s = term_safe(raw, 0);
	size_t len = utf8_len(s);
	if (len <= width) {
		fputs(s, stdout);
		if (pad)
			printf("%*s", (int)(width - len), "");
		free(s);
		return;
	}
	size_t cols = 0;
	const char *p = s;
	for (; *p; p++) {
		if (((unsigned char)*p & 0xc0) != 0x80 && ++cols == width)
			break; /* room for width-1 code points, then the ellipsis */
	}
	fwrite(s, 1, (size_t)(p - s), stdout);
	fputs("\xe2\x80\xa6", stdout);
	free(s);
}

/* The statement's first non-blank line, control characters as spaces; malloc'd. */
static char *first_line(const char *stmt, int *more)
{
	*more = 0;
	if (!stmt)
		return util_strndup("", 0);
	while (*stmt && isspace((unsigned char)*stmt))
		stmt++;
	size_t n = strcspn(stmt, "\r\n");
	const char *rest = stmt + n;
	while (*rest && isspace((unsigned char)*rest))
		rest++;
	*more = *rest != '\0';
	char *line = util_strndup(stmt, n);
	for (char *c = line; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = ' ';
	while (n && line[n - 1] == ' ')
		line[--n] = '\0';
	return line;
}

static void time_short(int64_t time_us, char *buf, size_t len)
{
	char full[AUDIT_TIME_LEN];
	if (audit_time_format(time_us, full, sizeof(full)) != 0) {
		snprintf(buf, len, "?");
		return;
	}
	/* "2026-11-25T20:22:27.123456Z" -> "2026-11-25 20:22:27" */
	full[10] = ' ';
	full[19] = '\0';
	snprintf(buf, len, "%s", full);
}

/* ---- list ----------------------------------------------------------------- */

typedef struct list_row {
	audit_entry *entry;
	audit_entry *result; /* for a request: its result, if recorded */
} list_row;

static const char *or_dash(const char *s)
{
	return s && *s ? s : "-";
}

static void outcome_of(const list_row *r, char *buf, size_t len)
{
	const audit_entry *e = r->entry, *res = r->result;
	if (e->kind == AUDIT_AUTH_FAILURE) {
		snprintf(buf, len, "AUTH FAILED");
	} else if (res && res->error_code) {
		snprintf(buf, len, "ERROR %s", res->error_code);
	} else if (res) {
		snprintf(buf, len, "%s", res->command_tag ? res->command_tag : "OK");
	} else if (e->decision && strcmp(e->decision, "allow") != 0) {
		snprintf(buf, len, "%s", strcmp(e->decision, "deny") == 0 ? "DENIED" : e->decision);
		for (char *c = buf; *c; c++)
			*c = (char)toupper((unsigned char)*c);
	} else {
		snprintf(buf, len, "no result");
	}
}

static const char *user_of(const audit_entry *e)
{
	return or_dash(e->user ? e->user : e->startup_user);
}

static void print_list_text(const list_row *rows, size_t n)
{
	size_t w_id = 2, w_user = 4, w_agent = 5, w_conn = 10, w_out = 7;
	char buf[64];
	for (size_t i = 0; i < n; i++) {
		const audit_entry *e = rows[i].entry;
		int len = snprintf(buf, sizeof(buf), "%" PRId64, e->id);
		if ((size_t)len > w_id)
			w_id = (size_t)len;
		size_t l;
		if ((l = cell_len(user_of(e))) > w_user)
			w_user = l;
		if ((l = cell_len(or_dash(e->agent))) > w_agent)
			w_agent = l;
		if ((l = cell_len(or_dash(e->connection))) > w_conn)
			w_conn = l;
		outcome_of(&rows[i], buf, sizeof(buf));
		if ((l = cell_len(buf)) > w_out)
			w_out = l;
	}
	if (w_user > 24)
		w_user = 24;
	if (w_agent > 20)
		w_agent = 20;
	if (w_conn > 20)
		w_conn = 20;
	if (w_out > 24)
		w_out = 24;

	printf("%*s  %-19s  ", (int)w_id, "ID", "TIME (UTC)");
	print_cell("USER", w_user, 1);
	fputs("  ", stdout);
	print_cell("AGENT", w_agent, 1);
	fputs("  ", stdout);
	print_cell("CONNECTION", w_conn, 1);
	fputs("  ", stdout);
	print_cell("OUTCOME", w_out, 1);
	printf("  %9s  STATEMENT\n", "MS");

	for (size_t i = 0; i < n; i++) {
		const audit_entry *e = rows[i].entry, *res = rows[i].result;
		char when[32], outcome[64], ms[32];
		time_short(e->time_us, when, sizeof(when));
		outcome_of(&rows[i], outcome, sizeof(outcome));
		if (res)
			snprintf(ms, sizeof(ms), "%.1f", (double)res->duration_us / 1000.0);
		else
			snprintf(ms, sizeof(ms), "-");
		printf("%*" PRId64 "  %-19s  ", (int)w_id, e->id, when);
		print_cell(user_of(e), w_user, 1);
		fputs("  ", stdout);
		print_cell(or_dash(e->agent), w_agent, 1);
		fputs("  ", stdout);
		print_cell(or_dash(e->connection), w_conn, 1);
		fputs("  ", stdout);
		print_cell(outcome, w_out, 1);
		printf("  %9s  ", ms);
		int more;
		char *line;
		if (e->kind == AUDIT_AUTH_FAILURE) {
			size_t rl = strlen(or_dash(e->reason)) + sizeof("authentication failed: ");
			char *msg = util_xmalloc(rl);
			snprintf(msg, rl, "authentication failed: %s", or_dash(e->reason));
			line = first_line(msg, &more);
			free(msg);
		} else {
			line = first_line(e->statement, &more);
		}
		if (more && cell_len(line) < STATEMENT_WIDTH) {
			print_cell(line, STATEMENT_WIDTH, 0);
			fputs(" \xe2\x80\xa6", stdout);
		} else {
			print_cell(line, STATEMENT_WIDTH, 0);
		}
		free(line);
		fputc('\n', stdout);
	}
}

static int print_list_json(const list_row *rows, size_t n)
{
	json_t *arr = json_array();
	if (!arr)
		return -1;
	for (size_t i = 0; i < n; i++) {
		json_t *o = audit_entry_to_json(rows[i].entry);
		if (!o || json_array_append_new(arr, o) != 0) {
			json_decref(arr);
			return -1;
		}
		if (rows[i].entry->kind == AUDIT_REQUEST) {
			json_t *r = rows[i].result ? audit_entry_to_json(rows[i].result) : json_null();
			if (!r || json_object_set_new(o, "result", r) != 0) {
				json_decref(arr);
				return -1;
			}
		}
	}
	int rc = json_dumpf(arr, stdout, JSON_INDENT(2));
	fputc('\n', stdout);
	json_decref(arr);
	return rc;
}

static int parse_count(const char *s, int64_t *out)
{
	char *end;
	if (!*s || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || *end || v < 0)
		return -1;
	*out = v;
	return 0;
}

/* Shared option parsing: fills what the subcommand allows, or returns 2. */
typedef struct audit_args {
	const char *config;
	const char *user, *connection, *since, *format;
	int64_t limit;
	int json;
	const char *positional;
} audit_args;

enum { OPT_USER = 256, OPT_CONNECTION, OPT_SINCE, OPT_LIMIT, OPT_JSON, OPT_FORMAT };

static int parse_args(const char *sub, int argc, char **argv, const struct option *longopts,
		      audit_args *a)
{
	memset(a, 0, sizeof(*a));
	a->limit = LIST_DEFAULT_LIMIT;
	opterr = 0;
	optind = 0; /* glibc: full re-initialisation */
	int c;
	while ((c = getopt_long(argc, argv, ":c:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			a->config = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 1;
		case OPT_USER:
			a->user = optarg;
			break;
		case OPT_CONNECTION:
			a->connection = optarg;
			break;
		case OPT_SINCE:
			a->since = optarg;
			break;
		case OPT_FORMAT:
			a->format = optarg;
			break;
		case OPT_JSON:
			a->json = 1;
			break;
		case OPT_LIMIT:
			if (parse_count(optarg, &a->limit) != 0)
				return usage_error(sub, "--limit wants a number, not '%s'", optarg);
			break;
		case ':':
			return usage_error(sub, "option '%s' needs a value", argv[optind - 1]);
		default:
			return usage_error(sub, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		a->positional = argv[optind++];
	if (optind < argc)
		return usage_error(sub, "unexpected argument '%s'", argv[optind]);
	if (!a->config)
		return usage_error(sub, "-c FILE (the warden configuration) is required");
	return 0;
}

static int since_arg(const char *sub, const char *since, int64_t *out)
{
	*out = INT64_MIN;
	if (since && cli_parse_since(since, util_now_us(), out) != 0)
		return usage_error(sub, "--since: cannot read '%s' as a time or an age", since);
	return 0;
}

static int cmd_list(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"user", required_argument, NULL, OPT_USER},
		{"connection", required_argument, NULL, OPT_CONNECTION},
		{"since", required_argument, NULL, OPT_SINCE},
		{"limit", required_argument, NULL, OPT_LIMIT},
		{"json", no_argument, NULL, OPT_JSON},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	audit_args a;
	int rc = parse_args("list", argc, argv, opts, &a);
	if (rc)
		return rc == 1 ? 0 : rc;
	if (a.positional)
		return usage_error("list", "unexpected argument '%s'", a.positional);
	audit_store_filter f;
	audit_store_filter_init(&f);
	if ((rc = since_arg("list", a.since, &f.since_us)) != 0)
		return rc;
	f.user = a.user;
	f.connection = a.connection;
	f.kinds = 1u << AUDIT_REQUEST | 1u << AUDIT_AUTH_FAILURE;
	f.limit = a.limit;
	f.newest_first = 1; /* the most recent `limit`, printed oldest first */

	audit_store *s = open_store(a.config);
	if (!s)
		return 1;
	audit_store_iter *it;
	list_row *rows = NULL;
	size_t n = 0, cap = 0;
	int status = 0;
	if (audit_store_iter_open(s, &f, &it) != 0) {
		fprintf(stderr, "warden audit: %s\n", audit_store_errmsg(s));
		audit_store_close(s);
		return 1;
	}
	audit_entry *e;
	while ((rc = audit_store_iter_next(it, &e)) == 1) {
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			rows = util_xrealloc(rows, cap * sizeof(*rows));
		}
		rows[n].entry = e;
		rows[n].result = NULL;
		if (e->kind == AUDIT_REQUEST &&
		    audit_store_get_result(s, e->id, &rows[n].result) < 0) {
			rc = -1;
			n++;
			break;
		}
		n++;
	}
	audit_store_iter_close(it);
	if (rc < 0) {
		fprintf(stderr, "warden audit: %s\n", audit_store_errmsg(s));
		status = 1;
	} else {
		/* fetched newest first; show oldest first */
		for (size_t i = 0; i < n / 2; i++) {
			list_row t = rows[i];
			rows[i] = rows[n - 1 - i];
			rows[n - 1 - i] = t;
		}
		if (a.json) {
			if (print_list_json(rows, n) != 0) {
				fprintf(stderr, "warden audit: cannot write JSON\n");
				status = 1;
			}
		} else if (n == 0) {
			fprintf(stderr, "no matching audit entries\n");
		} else {
			print_list_text(rows, n);
		}
	}
	for (size_t i = 0; i < n; i++) {
		audit_entry_free(rows[i].entry);
		audit_entry_free(rows[i].result);
	}
	free(rows);
	audit_store_close(s);
	return status;
}

/* ---- show ------------------------------------------------------------------ */

#define KEY_WIDTH 15

static void print_fields(const audit_entry *e, const char *indent)
{
	json_t *o = audit_entry_to_json(e);
	if (!o) {
		printf("%s(out of memory)\n", indent);
		return;
	}
	const char *key;
	json_t *v;
	json_object_foreach(o, key, v)
	{
		printf("%s%s:%*s", indent, key, (int)(KEY_WIDTH - strlen(key)), "");
		if (json_is_string(v)) {
			/* multi-line text (statements, messages): continuation lines line up */
			char *safe = term_safe(json_string_value(v), 1);
			for (const char *p = safe; *p; p++) {
				fputc(*p, stdout);
				if (*p == '\n')
					printf("%s%*s", indent, KEY_WIDTH + 1, "");
			}
			free(safe);
		} else if (json_is_null(v)) {
			fputs("-", stdout);
		} else if (json_is_integer(v)) {
			printf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
			if (strcmp(key, "duration_us") == 0)
				printf(" (%.3f ms)", (double)json_integer_value(v) / 1000.0);
		} else {
			char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
			char *safe = term_safe(text ? text : "?", 0);
			fputs(safe, stdout);
			free(safe);
			free(text);
		}
		fputc('\n', stdout);
	}
	json_decref(o);
}

static int cmd_show(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{"json", no_argument, NULL, OPT_JSON},
		{0},
	};
	audit_args a;
	int rc = parse_args("show", argc, argv, opts, &a);
	if (rc)
		return rc == 1 ? 0 : rc;
	int64_t id;
	if (!a.positional)
		return usage_error("show", "which entry? give its ID");
	if (parse_count(a.positional, &id) != 0)
		return usage_error("show", "'%s' is not an entry id", a.positional);

	audit_store *s = open_store(a.config);
	if (!s)
		return 1;
	audit_entry *e = NULL, *other = NULL;
	int status = 0;
	rc = audit_store_get(s, id, &e);
	if (rc == 0) {
		fprintf(stderr, "no audit entry with id %" PRId64 "\n", id);
		status = 1;
	} else if (rc > 0 && e->kind == AUDIT_REQUEST) {
		rc = audit_store_get_result(s, e->id, &other);
	} else if (rc > 0 && e->kind == AUDIT_RESULT) {
		rc = audit_store_get(s, e->request_id, &other);
	}
	if (rc < 0) {
		fprintf(stderr, "warden audit: %s\n", audit_store_errmsg(s));
		status = 1;
	} else if (e && a.json) {
		if (cli_audit_show_json(s, e) != 0) {
			fprintf(stderr, "warden audit: %s\n", audit_store_errmsg(s));
			status = 1;
		}
	} else if (e) {
		print_fields(e, "");
		if (e->kind == AUDIT_REQUEST || e->kind == AUDIT_RESULT) {
			const char *what = e->kind == AUDIT_REQUEST ? "result" : "request";
			if (other) {
				printf("\n%s:\n", what);
				print_fields(other, "  ");
			} else {
				printf("\n%s: none recorded\n", what);
			}
		}
	}
	audit_entry_free(e);
	audit_entry_free(other);
	audit_store_close(s);
	return status;
}

/* ---- export ---------------------------------------------------------------- */

static int cmd_export(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"format", required_argument, NULL, OPT_FORMAT},
		{"since", required_argument, NULL, OPT_SINCE},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	audit_args a;
	int rc = parse_args("export", argc, argv, opts, &a);
	if (rc)
		return rc == 1 ? 0 : rc;
	if (a.positional)
		return usage_error("export", "unexpected argument '%s'", a.positional);
	if (a.format && strcmp(a.format, "jsonl") != 0)
		return usage_error("export", "unknown format '%s' (known: jsonl)", a.format);
	audit_store_filter f;
	audit_store_filter_init(&f);
	if ((rc = since_arg("export", a.since, &f.since_us)) != 0)
		return rc;

	audit_store *s = open_store(a.config);
	if (!s)
		return 1;
	audit_store_iter *it;
	if (audit_store_iter_open(s, &f, &it) != 0) {
		fprintf(stderr, "warden audit: %s\n", audit_store_errmsg(s));
		audit_store_close(s);
		return 1;
	}
	audit_entry *e;
	int status = 0;
	while ((rc = audit_store_iter_next(it, &e)) == 1) {
		json_t *o = audit_entry_to_json(e);
		audit_entry_free(e);
		if (!o || json_dumpf(o, stdout, JSON_COMPACT) != 0 || fputc('\n', stdout) == EOF) {
			json_decref(o);
			fprintf(stderr, "warden audit: cannot write the export\n");
			status = 1;
			break;
		}
		json_decref(o);
	}
	if (rc < 0) {
		fprintf(stderr, "warden audit: %s\n", audit_store_errmsg(s));
		status = 1;
	}
	audit_store_iter_close(it);
	audit_store_close(s);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "warden audit: cannot write the export\n");
		status = 1;
	}
	return status;
}

int cli_audit_main(int argc, char **argv)
{
	if (argc < 2)
		return usage_error(NULL, "which subcommand? list, show, export, verify, sth, prove, "
					 "check-proof or pubkey");
	const char *sub = argv[1];
	if (strcmp(sub, "-h") == 0 || strcmp(sub, "--help") == 0 || strcmp(sub, "help") == 0) {
		fputs(usage_text, stdout);
		return 0;
	}
	/* getopt sees the subcommand as its argv[0] */
	if (strcmp(sub, "list") == 0)
		return cmd_list(argc - 1, argv + 1);
	if (strcmp(sub, "show") == 0)
		return cmd_show(argc - 1, argv + 1);
	if (strcmp(sub, "export") == 0)
		return cmd_export(argc - 1, argv + 1);
	if (strcmp(sub, "verify") == 0 || strcmp(sub, "sth") == 0 || strcmp(sub, "prove") == 0 ||
	    strcmp(sub, "check-proof") == 0 || strcmp(sub, "pubkey") == 0)
		return cli_audit_verify_main(argc, argv);
	return usage_error(NULL, "unknown subcommand '%s'", sub);
}
