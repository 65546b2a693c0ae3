/* redact — see redact.h. */
#include "policy/redact.h"

#include <jansson.h>
#include <pg_query.h>
#include <pg_query/pg_query.pb-c.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/util.h"
#include "mask/mask.h"

/* ---- the credential detectors ---------------------------------------------- */

/* Secrets, not personal data: what no record needs to hold to be complete. */
static const char *const credential_detectors[] = {
	"password_in_text", "password_in_url", "private_key", "jwt", "bearer_token", "basic_auth",
	"aws_access_key", "aws_secret_key", "azure_storage_key", "github_token", "slack_token",
	"stripe_key", "google_api_key", "openai_key", "anthropic_key",
};

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static mask_profile *detectors;
static char init_err[256];
static pthread_key_t scratch_key;

static void scratch_free(void *s)
{
	mask_scratch_free(s);
}

static void compile(void)
{
	mask_spec spec = {
		.detectors = credential_detectors,
		.n_detectors = sizeof(credential_detectors) / sizeof(credential_detectors[0]),
		.style = MASK_STYLE_REDACT,
	};
	detectors = mask_profile_new(&spec, init_err, sizeof(init_err));
	if (pthread_key_create(&scratch_key, scratch_free) != 0)
		abort();
}

int redact_init(char *err, size_t errlen)
{
	pthread_once(&init_once, compile);
	if (!detectors) {
		util_errf(err, errlen, "the credential detectors: %s", init_err);
		return -1;
	}
	return 0;
}

void redact_free(void)
{
	/* (the threads that scanned are gone: their scratches went with them) */
	mask_profile_free(detectors);
	detectors = NULL;
}

/* This thread's scratch for the detectors, compiled first if they are not yet
 * (serve compiles them at start-up: built-in patterns, never failing after). */
static mask_scratch *scratch(void)
{
	if (redact_init(NULL, 0) != 0) {
		log_error("redact: %s", init_err);
		abort();
	}
	mask_scratch *s = pthread_getspecific(scratch_key);
	if (!s) {
		if (!(s = mask_scratch_new(detectors)))
			abort();
		pthread_setspecific(scratch_key, s);
	}
	return s;
}

/* Whether the detectors may find something in in[0, n) (Hyperscan's one look). */
static int may_detect(const char *in, size_t n)
{
	mask_scratch *s = scratch(); /* first: it compiles the detectors */
	return mask_may_match(detectors, s, in, n);
}

/* The detectors over in[0, n): how many values they replaced, the text in out when any. */
static size_t detect(const char *in, size_t n, buf *out)
{
	if (!may_detect(in, n))
		return 0;
	mask_scratch *s = scratch();
	return mask_text(detectors, s, in, n, out, NULL);
}

/* ---- SQL: string literals in credential positions ----------------------- */

/* A name holding one of these (ASCII case ignored) names a credential. */
static const char *const credential_words[] = {
	"password", "passwd", "passphrase", "pwd", "secret", "token", "credential",
	"apikey", "api_key", "private_key", "access_key",
};

/* Every credential word holds one of these: a text holding none has no name of a credential. */
static const char *const cues[] = {"pass", "pwd", "secret", "token", "credential", "key"};

/* Settings whose value is not a credential though the name says password. */
static const char *const not_credentials[] = {"password_encryption", "\"password_encryption\""};

static int names_credential(const char *t, size_t n)
{
	for (size_t i = 0; i < sizeof(not_credentials) / sizeof(not_credentials[0]); i++)
		if (strlen(not_credentials[i]) == n && strncasecmp(t, not_credentials[i], n) == 0)
			return 0;
	for (size_t i = 0; i < sizeof(credential_words) / sizeof(credential_words[0]); i++)
		if (util_memcasemem(t, n, credential_words[i], strlen(credential_words[i])))
			return 1;
	return 0;
}

typedef struct scan {
	const char *text;
	PgQuery__ScanToken **tok;
	size_t n;
} scan;

static int is_comment(const PgQuery__ScanToken *t)
{
	return t->token == PG_QUERY__TOKEN__SQL_COMMENT || t->token == PG_QUERY__TOKEN__C_COMMENT;
}

/* The significant token before j (comments are not), or -1. */
static long before(const scan *sc, long j)
{
	while (--j >= 0 && is_comment(sc->tok[j]))
		;
	return j;
}

static int is_literal(const PgQuery__ScanToken *t)
{
	return t->token == PG_QUERY__TOKEN__SCONST || t->token == PG_QUERY__TOKEN__USCONST;
}

/* A name: an identifier, quoted or not, or a keyword (PASSWORD is one). */
static int is_name(const PgQuery__ScanToken *t)
{
	return t->token == PG_QUERY__TOKEN__IDENT || t->token == PG_QUERY__TOKEN__UIDENT ||
	       t->keyword_kind != PG_QUERY__KEYWORD_KIND__NO_KEYWORD;
}

static int tok_is(const scan *sc, long j, PgQuery__Token token)
{
	return j >= 0 && sc->tok[j]->token == token;
}

static int names_credential_tok(const scan *sc, long j)
{
	const PgQuery__ScanToken *t = sc->tok[j];
	return t->end > t->start && names_credential(sc->text + t->start, (size_t)(t->end - t->start));
}

/*
 * Whether the literal at j is a credential by where it is:
 *   PASSWORD 'x'                (roles; options of servers and user mappings)
 *   sslpassword 'x'             (any option named for a credential)
 *   SET [a.]api_token = 'x'     (SET, ALTER ROLE/DATABASE/SYSTEM ... SET, UPDATE ... SET)
 *   set_config('app.secret', 'x', ...)
 */
static int credential_literal(const scan *sc, long j)
{
	long p = before(sc, j);
	if (p < 0)
		return 0;
	if (tok_is(sc, p, PG_QUERY__TOKEN__ASCII_61) || tok_is(sc, p, PG_QUERY__TOKEN__TO)) {
		long q = before(sc, p);
		if (q < 0 || !is_name(sc->tok[q]) || !names_credential_tok(sc, q))
			return 0;
		/* back over a dotted name (app.secret) to what is before it */
		long k = before(sc, q);
		while (tok_is(sc, k, PG_QUERY__TOKEN__ASCII_46) && before(sc, k) >= 0 && is_name(sc->tok[before(sc, k)]))
			k = before(sc, before(sc, k));
		/* UPDATE t SET a = f(1, 2), token = 'x': an assignment after others,
		 * back to their SET, not into nor out of parentheses (f(a, token = 'x')
		 * and IN (1, token = 'x') are comparisons) */
		if (tok_is(sc, k, PG_QUERY__TOKEN__ASCII_44)) {
			int depth = 0;
			do {
				k = before(sc, k);
				if (k < 0 || tok_is(sc, k, PG_QUERY__TOKEN__ASCII_59) ||
				    (depth == 0 && (tok_is(sc, k, PG_QUERY__TOKEN__ASCII_40) || tok_is(sc, k, PG_QUERY__TOKEN__WHERE))))
					return 0;
				depth += tok_is(sc, k, PG_QUERY__TOKEN__ASCII_41) - tok_is(sc, k, PG_QUERY__TOKEN__ASCII_40);
			} while (depth > 0 || !tok_is(sc, k, PG_QUERY__TOKEN__SET));
		}
		return tok_is(sc, k, PG_QUERY__TOKEN__SET) || tok_is(sc, k, PG_QUERY__TOKEN__SESSION) ||
		       tok_is(sc, k, PG_QUERY__TOKEN__LOCAL);
	}
	if (is_name(sc->tok[p]))
		return names_credential_tok(sc, p);
	if (tok_is(sc, p, PG_QUERY__TOKEN__ASCII_44)) {
		/* set_config('name', 'value', is_local) */
		long name = before(sc, p), open = before(sc, name), fn = before(sc, open);
		if (name < 0 || !is_literal(sc->tok[name]) || !tok_is(sc, open, PG_QUERY__TOKEN__ASCII_40) ||
		    fn < 0 || !is_name(sc->tok[fn]))
			return 0;
		const PgQuery__ScanToken *f = sc->tok[fn];
		return f->end - f->start == 10 && strncasecmp(sc->text + f->start, "set_config", 10) == 0 &&
		       names_credential_tok(sc, name);
	}
	return 0;
}

/* Where the literal at j ends (a U&'...' token's end is not reported: up to
 * the next token, less the blanks before it). */
static size_t literal_end(const scan *sc, long j, size_t len)
{
	const PgQuery__ScanToken *t = sc->tok[j];
	if (t->end > t->start)
		return (size_t)t->end;
	size_t e = (size_t)j + 1 < sc->n ? (size_t)sc->tok[j + 1]->start : len;
	while (e > (size_t)t->start && strchr(" \t\r\n\f\v", sc->text[e - 1]))
		e--;
	return e;
}

/* The first credential word in text, where it ends (0: none). */
static size_t first_word_end(const char *text, size_t len)
{
	size_t best = 0;
	for (size_t i = 0; i < sizeof(credential_words) / sizeof(credential_words[0]); i++) {
		size_t m = strlen(credential_words[i]);
		for (size_t k = 0; k + m <= len; k++) {
			if (strncasecmp(text + k, credential_words[i], m) == 0) {
				if (!best || k + m < best)
					best = k + m;
				break;
			}
		}
	}
	return best;
}

/*
 * What replaces the literal token at t[0, n), into out: **** quoted as the
 * token was ($$..$$, E'..', U&'..' or '..', the prefix as written), so that
 * it lexes with what is around it as the token did ('a'$$pw$$ is two
 * literals, 'a''****' would be one, and a newline between two quoted
 * literals joins them).
 */
static void literal_stars(const char *t, size_t n, buf *out)
{
	if (n && t[0] == '$') {
		buf_append(out, "$$****$$", 8);
		return;
	}
	if (n >= 2 && (t[0] == 'E' || t[0] == 'e'))
		buf_append(out, t, 1);
	else if (n >= 3 && (t[0] == 'U' || t[0] == 'u') && t[1] == '&')
		buf_append(out, t, 2);
	buf_append(out, "'****'", 6);
}

/* Whether part reads as one token of the kind token (a literal: either kind). */
static int one_token(const buf *part, PgQuery__Token token)
{
	char *z = util_strndup(part->data, part->len);
	PgQueryScanResult r = pg_query_scan(z);
	PgQuery__ScanResult *res =
		r.error ? NULL : pg_query__scan_result__unpack(NULL, r.pbuf.len, (const uint8_t *)r.pbuf.data);
	int one = res && res->n_tokens == 1 &&
		  (res->tokens[0]->token == token || (is_literal(res->tokens[0]) && (token == PG_QUERY__TOKEN__SCONST ||
										      token == PG_QUERY__TOKEN__USCONST)));
	if (res)
		pg_query__scan_result__free_unpacked(res, NULL);
	pg_query_free_scan_result(r);
	free(z);
	return one;
}

/*
 * The text with each credential literal replaced by **** (literal_stars) and, with look,
 * what the detectors find inside the other string literals and
 * comments (never in names or operators: `password::text` is a cast), into
 * out; how many parts were replaced. A text the scanner cannot read (an
 * unterminated literal or comment) is kept up to its first credential word,
 * the rest replaced, or else through the detectors whole.
 */
static size_t sql_pass(const char *text, size_t len, int look, buf *out)
{
	char *z = util_strndup(text, len); /* the scanner reads up to a NUL */
	PgQueryScanResult r = pg_query_scan(z);
	size_t n = 0;
	PgQuery__ScanResult *res = NULL;
	if (!r.error)
		res = pg_query__scan_result__unpack(NULL, r.pbuf.len, (const uint8_t *)r.pbuf.data);
	if (!res) {
		size_t w = first_word_end(z, strlen(z));
		if (w) {
			buf_append(out, text, w);
			buf_append(out, " ****", 5);
			n = 1;
		} else if (look) {
			n = detect(text, len, out);
		}
	} else {
		scan sc = {z, res->tokens, res->n_tokens};
		size_t copied = 0;
		buf part = {0};
		for (size_t j = 0; j < sc.n; j++) {
			const PgQuery__ScanToken *t = sc.tok[j];
			if ((!is_literal(t) && !is_comment(t)) || t->start < 0 || (size_t)t->start < copied ||
			    (size_t)t->start >= len)
				continue;
			size_t e = is_literal(t) ? literal_end(&sc, (long)j, len) : (size_t)t->end;
			e = e > len ? len : e;
			part.len = 0;
			if (is_literal(t) && credential_literal(&sc, (long)j))
				literal_stars(text + t->start, e - (size_t)t->start, &part);
			else if (!look || e <= (size_t)t->start || !detect(text + t->start, e - (size_t)t->start, &part))
				continue;
			else if (!one_token(&part, t->token)) {
				/* what the detectors left reads otherwise (E'password=a\'b' cut at its
				 * escape, a comment's end in a value): the whole token goes */
				part.len = 0;
				if (is_literal(t))
					literal_stars(text + t->start, e - (size_t)t->start, &part);
				else if (t->token == PG_QUERY__TOKEN__C_COMMENT)
					buf_append(&part, "/* **** */", 10);
				else
					buf_append(&part, "-- ****", 7);
			}
			buf_append(out, text + copied, (size_t)t->start - copied);
			buf_append(out, part.data, part.len);
			copied = e;
			n++;
		}
		buf_free(&part);
		if (n)
			buf_append(out, text + copied, len - copied);
		pg_query__scan_result__free_unpacked(res, NULL);
	}
	pg_query_free_scan_result(r);
	free(z);
	return n;
}

char *redact_statement(const char *text, size_t len, size_t *out_len)
{
	if (!text || !len)
		return NULL;
	int cue = 0;
	for (size_t i = 0; i < sizeof(cues) / sizeof(cues[0]) && !cue; i++)
		cue = util_memcasemem(text, len, cues[i], strlen(cues[i]));
	/* one Hyperscan look says whether the detectors need the literals read */
	int look = may_detect(text, len);
	if (!cue && !look)
		return NULL; /* no credential's name, nothing a detector could find */
	buf out = {0};
	if (!sql_pass(text, len, look, &out)) {
		buf_free(&out);
		return NULL;
	}
	buf_append(&out, "", 1);
	*out_len = out.len - 1;
	return out.data;
}

char *redact_text(const char *text, size_t len)
{
	buf out = {0};
	if (!text || !detect(text, len, &out))
		return NULL;
	buf_append(&out, "", 1);
	return out.data;
}

char *redact_params(const char *params_json)
{
	if (!params_json)
		return NULL;
	/* one look at the whole array first: most parameters hold nothing */
	if (!may_detect(params_json, strlen(params_json)))
		return NULL;
	json_t *a = json_loads(params_json, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	if (!json_is_array(a)) {
		json_decref(a);
		return NULL;
	}
	size_t i, n = 0;
	json_t *v;
	json_array_foreach(a, i, v) {
		if (!json_is_string(v))
			continue;
		buf out = {0};
		size_t m = detect(json_string_value(v), json_string_length(v), &out);
		if (m) {
			json_array_set_new(a, i, json_stringn(out.data, out.len));
			n += m;
		}
		buf_free(&out);
	}
	char *s = n ? json_dumps(a, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
	json_decref(a);
	return s;
}
