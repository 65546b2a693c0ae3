/*
 * Unit tests for src/proto/pg/pgmask.c: RowDescription, DataRow and CopyData
 * bodies built byte by byte, run through the mask stage with a profile of
 * four detectors (email, credit_card, us_ssn, ipv4) and the json_keys
 * "secret*" and "token". The rewriting tests run once per engine (Hyperscan
 * and PCRE2) and assert exact bytes: every rewritten message is parsed back
 * (type, length, column count, each value's length, no trailing bytes), the
 * values that must not change are compared byte for byte, and the counters
 * (per detector, column rules, JSON keys) are checked after each row.
 * COPY rows are checked field by field: column rules, escaped delimiters,
 * CSV quoting, and detectors that never match across a field's bounds.
 */
#include <fnmatch.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto/pg/codec.h"
#include "proto/pg/pgmask.h"

#define N_ENGINES 2
static const mask_engine engines[N_ENGINES] = {MASK_ENGINE_HYPERSCAN, MASK_ENGINE_PCRE2};
static const char *const det_names[] = {"email", "credit_card", "us_ssn", "ipv4", "password_in_text", "aws_secret_key"};
enum { ST_REDACT = 0, ST_PARTIAL, N_STYLES };
static mask_profile *profiles[N_STYLES][N_ENGINES];
static mask_scratch *scratches[N_STYLES][N_ENGINES];

static char *key_globs[] = {"secret*", "token"};
static const config_strlist json_keys = {key_globs, 2};

#define N_COUNTS (MASK_DET_COUNT + PGM_COUNT_EXTRA)
#define C_COLUMN (MASK_DET_COUNT + PGM_COUNT_COLUMN)
#define C_JSON (MASK_DET_COUNT + PGM_COUNT_JSON_KEY)

static int setup(void **state)
{
	(void)state;
	char **lits;
	size_t n_lits = mask_key_literals((const char *const *)key_globs, 2, &lits);
	assert_int_equal(n_lits, 2);
	for (int s = 0; s < N_STYLES; s++)
		for (int e = 0; e < N_ENGINES; e++) {
			mask_spec spec = {
				.detectors = det_names,
				.n_detectors = 6,
				.hint_literals = (const char *const *)lits,
				.n_hint_literals = n_lits,
				.style = s == ST_REDACT ? MASK_STYLE_REDACT : MASK_STYLE_PARTIAL,
				.engine = engines[e],
			};
			char err[256] = "";
			profiles[s][e] = mask_profile_new(&spec, err, sizeof(err));
			if (!profiles[s][e])
				fail_msg("mask_profile_new: %s", err);
			assert_int_equal(mask_profile_engine(profiles[s][e]), engines[e]);
			assert_int_equal(mask_detector_total(profiles[s][e]), MASK_DET_COUNT);
			scratches[s][e] = mask_scratch_new(profiles[s][e]);
			assert_non_null(scratches[s][e]);
			assert_int_equal(mask_hint_literals(profiles[s][e]), engines[e] == MASK_ENGINE_HYPERSCAN ? 2 : 0);
		}
	mask_literals_free(lits, n_lits);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (int s = 0; s < N_STYLES; s++)
		for (int e = 0; e < N_ENGINES; e++) {
			mask_scratch_free(scratches[s][e]);
			mask_profile_free(profiles[s][e]);
		}
	return 0;
}

/* One engine's context: the ctx, its counters, a reusable output. */
typedef struct fx {
	pgm_ctx c;
	uint32_t counts[N_COUNTS];
	buf out;
} fx;

static void fx_init(fx *f, int style, int e)
{
	memset(f, 0, sizeof(*f));
	f->c.mp = profiles[style][e];
	f->c.scratch = scratches[style][e];
	f->c.json_keys = &json_keys;
	f->c.counts = f->counts;
}

static void fx_free(fx *f)
{
	pgm_ctx_release(&f->c);
	buf_free(&f->out);
}

/* Asserts the counters, then clears them: want[] lists (slot, value) pairs ending with -1. */
static void expect_counts(fx *f, const int *want)
{
	uint32_t exp[N_COUNTS] = {0};
	for (size_t i = 0; want[i] >= 0; i += 2)
		exp[want[i]] = (uint32_t)want[i + 1];
	for (size_t i = 0; i < N_COUNTS; i++)
		if (f->counts[i] != exp[i])
			fail_msg("counts[%zu] = %u, want %u", i, f->counts[i], exp[i]);
	memset(f->counts, 0, sizeof(f->counts));
}
#define COUNTS(f, ...) expect_counts(f, (const int[]){__VA_ARGS__, -1})
#define NO_COUNTS(f) expect_counts(f, (const int[]){-1})

/* Runs body(fx) once per engine (redact style) or per engine in a given style. */
#define PER_ENGINE(name, style)                            \
	static void name##_one(fx *f);                     \
	static void name(void **state)                     \
	{                                                  \
		(void)state;                               \
		for (int e = 0; e < N_ENGINES; e++) {      \
			fx f;                              \
			fx_init(&f, style, e);             \
			name##_one(&f);                    \
			fx_free(&f);                       \
		}                                          \
	}                                                  \
	static void name##_one(fx *f)

/* ---- building messages ---- */

static void p16(buf *b, int v)
{
	char x[2] = {(char)((unsigned)v >> 8), (char)v};
	buf_append(b, x, 2);
}

static void p32(buf *b, int32_t v)
{
	uint32_t u = (uint32_t)v;
	char x[4] = {(char)(u >> 24), (char)(u >> 16), (char)(u >> 8), (char)u};
	buf_append(b, x, 4);
}

static int32_t g32(const char *p)
{
	return (int32_t)(((uint32_t)(unsigned char)p[0] << 24) | ((uint32_t)(unsigned char)p[1] << 16) |
			 ((uint32_t)(unsigned char)p[2] << 8) | (unsigned char)p[3]);
}

typedef struct val {
	const char *p;
	int32_t n;      /* -1: NULL */
} val;
#define S(s) ((val){(s), (int32_t)(sizeof(s) - 1)})
#define SNULL ((val){NULL, -1})
#define NV(...) (sizeof((val[]){__VA_ARGS__}) / sizeof(val))
#define ROW(b, ...) mkrow((b), NV(__VA_ARGS__), (const val[]){__VA_ARGS__})
#define EXPECT_ROW(out, at, ...) expect_row((out), (at), NV(__VA_ARGS__), (const val[]){__VA_ARGS__})

/* A DataRow body: column count, then per value its length (-1: NULL) and bytes. */
static void mkrow(buf *b, size_t n, const val *v)
{
	b->len = 0;
	p16(b, (int)n);
	for (size_t i = 0; i < n; i++) {
		p32(b, v[i].n);
		if (v[i].n > 0)
			buf_append(b, v[i].p, (size_t)v[i].n);
	}
}

typedef struct colspec {
	const char *name;
	uint32_t table;
	int16_t attnum;
	uint32_t type;
	int16_t format;
	uint8_t action;
} colspec;

/* A RowDescription body. */
static void mkdesc_body(buf *b, size_t n, const colspec *cs)
{
	b->len = 0;
	p16(b, (int)n);
	for (size_t i = 0; i < n; i++) {
		buf_append(b, cs[i].name, strlen(cs[i].name) + 1);
		p32(b, (int32_t)cs[i].table);
		p16(b, cs[i].attnum);
		p32(b, (int32_t)cs[i].type);
		p16(b, -1);     /* typlen */
		p32(b, -1);     /* typmod */
		p16(b, cs[i].format);
	}
}

/* d described by a real RowDescription, then the column rules applied. */
static void mkdesc(pgm_desc *d, size_t n, const colspec *cs)
{
	buf b = {0};
	mkdesc_body(&b, n, cs);
	assert_int_equal(pgm_row_description(b.data, b.len, d), 0);
	assert_int_equal(d->n, n);
	assert_true(d->known);
	for (size_t i = 0; i < n; i++)
		d->cols[i].action = cs[i].action;
	buf_free(&b);
}
#define DESC(d, ...) mkdesc((d), sizeof((colspec[]){__VA_ARGS__}) / sizeof(colspec), (const colspec[]){__VA_ARGS__})

/* Parses the message at out[at..]: a whole DataRow, exactly the wanted values. */
static void expect_row(const buf *out, size_t at, size_t n, const val *want)
{
	assert_true(out->len >= at + 7);
	const char *m = out->data + at;
	size_t len = out->len - at;
	assert_int_equal(m[0], 'D');
	assert_int_equal(g32(m + 1), (int32_t)(len - 1));
	size_t p = 5;
	assert_int_equal(((unsigned char)m[p] << 8) | (unsigned char)m[p + 1], n);
	p += 2;
	for (size_t i = 0; i < n; i++) {
		assert_true(p + 4 <= len);
		int32_t vl = g32(m + p);
		p += 4;
		if (vl != want[i].n)
			fail_msg("column %zu: length %d, want %d [%.*s]", i, vl, want[i].n,
				 vl > 0 && (size_t)vl <= len - p ? (int)vl : 0, m + p);
		if (vl > 0) {
			assert_true((size_t)vl <= len - p);
			if (memcmp(m + p, want[i].p, (size_t)vl) != 0)
				fail_msg("column %zu: [%.*s], want [%.*s]", i, (int)vl, m + p, (int)vl, want[i].p);
			p += (size_t)vl;
		}
	}
	assert_int_equal(p, len); /* no trailing bytes */
}

/* pgm_data_row into a buffer holding "PFX": the prefix must stay, the message follow it. */
static int data_row(fx *f, const pgm_desc *d, const buf *body)
{
	f->out.len = 0;
	buf_append(&f->out, "PFX", 3);
	int rc = pgm_data_row(&f->c, d, body->data, body->len, &f->out);
	assert_true(f->out.len >= 3);
	assert_memory_equal(f->out.data, "PFX", 3);
	if (rc != 1)
		assert_int_equal(f->out.len, 3); /* untouched */
	return rc;
}

/* Big-endian integers and PostgreSQL's binary numeric. */
static val be_int(char *b, int size, int64_t v)
{
	for (int i = 0; i < size; i++)
		b[i] = (char)((uint64_t)v >> (8 * (size - 1 - i)));
	return (val){b, size};
}

static val numeric(buf *b, int sign, int weight, int dscale, size_t nd, const int *digits)
{
	b->len = 0;
	p16(b, (int)nd);
	p16(b, weight);
	p16(b, sign);
	p16(b, dscale);
	for (size_t i = 0; i < nd; i++)
		p16(b, digits[i]);
	return (val){b->data, (int32_t)b->len};
}

/* ---- DataRow: text columns ---- */

/* {"token":{"token":...1}}, depth objects deep, into b. */
static void nested_tokens(buf *b, int depth)
{
	for (int k = 0; k < depth; k++)
		buf_append(b, "{\"token\":", 9);
	buf_append(b, "1", 1);
	for (int k = 0; k < depth; k++)
		buf_append(b, "}", 1);
}

PER_ENGINE(test_text_email, ST_REDACT)
{
	pgm_desc d = {0};
	DESC(&d, {"id", 16384, 1, 23, 0, PGM_SCAN}, {"note", 16384, 2, 25, 0, PGM_SCAN},
	     {"name", 16384, 3, 1043, 0, PGM_SCAN});
	buf body = {0};
	ROW(&body, S("42"), S("mail john.doe@example.com now"), S("alice"));
	assert_int_equal(data_row(f, &d, &body), 1);
	EXPECT_ROW(&f->out, 3, S("42"), S("mail **** now"), S("alice"));
	COUNTS(f, MASK_DET_EMAIL, 1);

	/* two matches in one value, another in the last column */
	ROW(&body, S("7"), S("a@b.io, c@d.org"), S("10.0.0.1"));
	assert_int_equal(data_row(f, &d, &body), 1);
	EXPECT_ROW(&f->out, 3, S("7"), S("****, ****"), S("****"));
	COUNTS(f, MASK_DET_EMAIL, 2, MASK_DET_IPV4, 1);

	/* nothing to mask: 0, out untouched, NULL included */
	ROW(&body, S("8"), S("hello world"), SNULL);
	assert_int_equal(data_row(f, &d, &body), 0);
	NO_COUNTS(f);

	/* an empty value and a NULL around a rewritten one */
	ROW(&body, S(""), S("ssn 078-05-1120"), SNULL);
	assert_int_equal(data_row(f, &d, &body), 1);
	EXPECT_ROW(&f->out, 3, S(""), S("ssn ****"), SNULL);
	COUNTS(f, MASK_DET_US_SSN, 1);

	/* a text column holding JSON: its json_keys values too, replaced where they
	 * stand (spacing and numbers as written; a key present twice, masked twice) */
	ROW(&body, S("9"), S("{\"token\":\"abc\",\"x\":1.50}"), S("bob"));
	assert_int_equal(data_row(f, &d, &body), 1);
	EXPECT_ROW(&f->out, 3, S("9"), S("{\"token\":\"****\",\"x\":1.50}"), S("bob"));
	COUNTS(f, C_JSON, 1);
	ROW(&body, S("9"), S("[{\"token\": \"a\", \"token\": [1, {\"token\": 2}]}, \"token\"]"), S("bob"));
	assert_int_equal(data_row(f, &d, &body), 1);
	EXPECT_ROW(&f->out, 3, S("9"), S("[{\"token\": \"****\", \"token\": \"****\"}, \"token\"]"), S("bob"));
	COUNTS(f, C_JSON, 2);
	/* a document of 3000 objects (9001 tokens): all its keys found, its tokens not kept */
	{
		buf big = {0}, want = {0};
		buf_append(&big, "[", 1);
		buf_append(&want, "[", 1);
		for (int k = 0; k < 3000; k++) {
			buf_append(&big, k ? ", {\"token\": \"v\"}" : "{\"token\": \"v\"}", k ? 16 : 14);
			buf_append(&want, k ? ", {\"token\": \"****\"}" : "{\"token\": \"****\"}", k ? 19 : 17);
		}
		buf_append(&big, "]", 1);
		buf_append(&want, "]", 1);
		mkrow(&body, 3, (const val[]){S("9"), {big.data, (int32_t)big.len}, S("bob")});
		assert_int_equal(data_row(f, &d, &body), 1);
		expect_row(&f->out, 3, 3, (const val[]){S("9"), {want.data, (int32_t)want.len}, S("bob")});
		COUNTS(f, C_JSON, 3000);
		assert_null(f->c.jtoks);
		buf_free(&big);
		buf_free(&want);
	}
	/* nested deep (150 objects in 1.4 KB): past jsmn's bound, the jansson tree decides */
	{
		buf deep = {0};
		nested_tokens(&deep, 150);
		mkrow(&body, 3, (const val[]){S("9"), {deep.data, (int32_t)deep.len}, S("bob")});
		assert_int_equal(data_row(f, &d, &body), 1);
		EXPECT_ROW(&f->out, 3, S("9"), S("{\"token\": \"****\"}"), S("bob"));
		COUNTS(f, C_JSON, 1);
		buf_free(&deep);
	}
	/* a key spelled with an escape: the jansson tree decides (and writes the document anew) */
	ROW(&body, S("9"), S("{\"to\\u006ben\":  \"abc\"}"), S("bob"));
	assert_int_equal(data_row(f, &d, &body), 1);
	EXPECT_ROW(&f->out, 3, S("9"), S("{\"token\": \"****\"}"), S("bob"));
	COUNTS(f, C_JSON, 1);

	/* a text column that merely contains the key, not JSON: left alone */
	ROW(&body, S("10"), S("the token is here"), S("bob"));
	assert_int_equal(data_row(f, &d, &body), 0);
	NO_COUNTS(f);

	buf_free(&body);
	pgm_desc_free(&d);
}

PER_ENGINE(test_null_and_whole, ST_REDACT)
{
	pgm_desc d = {0};
	DESC(&d, {"a", 1, 1, 25, 0, PGM_WHOLE}, {"b", 1, 2, 23, 0, PGM_WHOLE}, {"c", 1, 3, 114, 0, PGM_WHOLE},
	     {"d", 1, 4, 3802, 1, PGM_WHOLE}, {"e", 1, 5, 25, 0, PGM_SCAN}, {"f", 1, 6, 17, 0, PGM_WHOLE},
	     {"g", 1, 7, 23, 1, PGM_WHOLE}, {"h", 1, 8, 0, 0, PGM_WHOLE});
	buf body = {0};
	ROW(&body, S("secret stuff"), S("123"), S("{\"a\":1}"), S("\1{\"a\": 1}"), SNULL, S("\\x6869"),
	    S("\0\0\0\5"), S("other"));
	assert_int_equal(data_row(f, &d, &body), 1);
	/* text: masked whole; int4 text: NULL; json: a JSON string; jsonb binary: version byte kept;
	 * bytea text: still hex; int4 binary: NULL; an unknown type in text: masked whole */
	EXPECT_ROW(&f->out, 3, S("****"), SNULL, S("\"****\""), S("\1\"****\""), SNULL, S("\\x2a2a2a2a"), SNULL,
		   S("****"));
	COUNTS(f, C_COLUMN, 7);

	/* NULL stays NULL under a column rule; whole columns are masked even when empty */
	ROW(&body, SNULL, SNULL, SNULL, SNULL, S("a@b.io"), SNULL, SNULL, S(""));
	assert_int_equal(data_row(f, &d, &body), 1);
	EXPECT_ROW(&f->out, 3, SNULL, SNULL, SNULL, SNULL, S("****"), SNULL, SNULL, S("****"));
	COUNTS(f, MASK_DET_EMAIL, 1, C_COLUMN, 1);

	ROW(&body, SNULL, SNULL, SNULL, SNULL, S("plain"), SNULL, SNULL, SNULL);
	assert_int_equal(data_row(f, &d, &body), 0);
	NO_COUNTS(f);

	buf_free(&body);
	pgm_desc_free(&d);
}

/*
 * Rows scanned at once (pgm_batch): the values of columns that take no hints
 * (column rules, bytea in text) are read as zeros, so the text in them hints
 * nothing; the values around them are masked as when each row is scanned on
 * its own, right up to their first and last bytes.
 */
PER_ENGINE(test_batch_skips, ST_REDACT)
{
	pgm_desc d = {0};
	DESC(&d, {"id", 1, 1, 23, 0, PGM_SCAN}, {"secret", 1, 2, 25, 0, PGM_WHOLE}, {"note", 1, 3, 25, 0, PGM_SCAN},
	     {"blob", 1, 4, 17, 0, PGM_SCAN}, {"key", 1, 5, 25, 0, PGM_WHOLE});
	static const char busy[] = "zz@example.com card 4111 1111 1111 1111 ip 10.0.0.1 ssn 078-05-1120 {\"token\": 1}";
	buf body = {0}, msgs = {0};
	size_t at[3], rlen[3];
	for (int k = 0; k < 3; k++) {
		at[k] = msgs.len;
		ROW(&body, S("7"), S(busy), S("a@b.io mid 10.1.2.3"), S("\\x7a7a406578616d706c652e636f6d"),
		    k == 1 ? SNULL : S(busy));
		rlen[k] = body.len;
		buf_append(&msgs, "D", 1);
		p32(&msgs, (int32_t)(body.len + 4));
		buf_append(&msgs, body.data, body.len);
	}
	pgm_batch(&f->c, &d, msgs.data, msgs.len);
	if (mask_profile_engine(f->c.mp) == MASK_ENGINE_HYPERSCAN) {
		/* the batch's hints: none inside the skipped values (busy is full of them) */
		assert_true(f->c.n_bhints > 0);
		for (size_t i = 0; i < f->c.n_bhints; i++) {
			const char *e = msgs.data + f->c.bhints[i].end - 1; /* the hint's last byte */
			for (int k = 0; k < 3; k++)
				for (size_t v = 0; v + sizeof(busy) - 1 <= msgs.len - at[k]; v++)
					if (memcmp(msgs.data + at[k] + v, busy, sizeof(busy) - 1) == 0 &&
					    e >= msgs.data + at[k] + v && e < msgs.data + at[k] + v + sizeof(busy) - 1)
						fail_msg("row %d: a hint ends at %zu, inside a column rule's value", k,
							 (size_t)(e - msgs.data));
		}
	}
	for (int k = 0; k < 3; k++) {
		/* (PCRE2 gives no hints: no batch, each row its own scan) */
		assert_int_equal(pgm_batch_holds(&f->c, msgs.data + at[k] + 5),
				 mask_profile_engine(f->c.mp) == MASK_ENGINE_HYPERSCAN);
		f->out.len = 0;
		assert_int_equal(pgm_data_row(&f->c, &d, msgs.data + at[k] + 5, rlen[k], &f->out), 1);
		if (k == 1)
			EXPECT_ROW(&f->out, 0, S("7"), S("****"), S("**** mid ****"), S("\\x2a2a2a2a"), SNULL);
		else
			EXPECT_ROW(&f->out, 0, S("7"), S("****"), S("**** mid ****"), S("\\x2a2a2a2a"), S("****"));
		COUNTS(f, MASK_DET_EMAIL, 2, MASK_DET_IPV4, 1, C_COLUMN, k == 1 ? 1 : 2);
	}
	/* a row read with another description (the rule's column scanned): its own
	 * scan, not the batch's hints, which know nothing of that column */
	pgm_desc d2 = {0};
	DESC(&d2, {"id", 1, 1, 23, 0, PGM_SCAN}, {"secret", 1, 2, 25, 0, PGM_SCAN}, {"note", 1, 3, 25, 0, PGM_SCAN},
	     {"blob", 1, 4, 17, 0, PGM_SCAN}, {"key", 1, 5, 25, 0, PGM_WHOLE});
	f->out.len = 0;
	assert_int_equal(pgm_data_row(&f->c, &d2, msgs.data + at[0] + 5, rlen[0], &f->out), 1);
	EXPECT_ROW(&f->out, 0, S("7"), S("**** card **** ip **** ssn **** {\"token\": \"****\"}"), S("**** mid ****"),
		   S("\\x2a2a2a2a"), S("****"));
	COUNTS(f, MASK_DET_EMAIL, 3, MASK_DET_CREDIT_CARD, 1, MASK_DET_IPV4, 2, MASK_DET_US_SSN, 1, C_COLUMN, 1,
	       C_JSON, 1);
	pgm_batch_end(&f->c);
	buf_free(&body);
	buf_free(&msgs);
	pgm_desc_free(&d);
	pgm_desc_free(&d2);
}

/*
 * A value's length may end in digits or " .-()+" (48 bytes: "\0\0\0" "0";
 * 12,336: "\0\0" "00"): the digits of a value starting right after it are
 * the value's alone, in a row scanned on its own and in a batch. (Read as
 * one text, "0" "123-45-6789" holds no SSN.)
 */
PER_ENGINE(test_length_bytes, ST_REDACT)
{
	pgm_desc d = {0};
	DESC(&d, {"id", 1, 1, 23, 0, PGM_SCAN}, {"note", 1, 2, 25, 0, PGM_SCAN});
	static const size_t lens[] = {32, 40, 41, 43, 45, 46, 48, 49, 53, 57, 0x3030, 0x3939, 0x2d3031};
	buf body = {0}, msgs = {0}, v = {0}, want = {0};
	for (size_t i = 0; i < sizeof(lens) / sizeof(*lens); i++) {
		v.len = want.len = 0;
		buf_append(&v, "123-45-6789", 11);
		buf_append(&want, "****", 4);
		while (v.len < lens[i]) {
			buf_append(&v, " x", 2);
			buf_append(&want, " x", 2);
		}
		v.len = lens[i];
		want.len = lens[i] - 7;
		ROW(&body, S("1"), ((val){v.data, (int32_t)v.len}));
		/* on its own */
		f->out.len = 0;
		assert_int_equal(pgm_data_row(&f->c, &d, body.data, body.len, &f->out), 1);
		EXPECT_ROW(&f->out, 0, S("1"), ((val){want.data, (int32_t)want.len}));
		COUNTS(f, MASK_DET_US_SSN, 1);
		/* in a batch, after another row */
		msgs.len = 0;
		for (int k = 0; k < 2; k++) {
			buf_append(&msgs, "D", 1);
			p32(&msgs, (int32_t)(body.len + 4));
			buf_append(&msgs, body.data, body.len);
		}
		pgm_batch(&f->c, &d, msgs.data, msgs.len);
		f->out.len = 0;
		assert_int_equal(pgm_data_row(&f->c, &d, msgs.data + 5 + body.len + 5, body.len, &f->out), 1);
		EXPECT_ROW(&f->out, 0, S("1"), ((val){want.data, (int32_t)want.len}));
		COUNTS(f, MASK_DET_US_SSN, 1);
		pgm_batch_end(&f->c);
	}
	buf_free(&body);
	buf_free(&msgs);
	buf_free(&v);
	buf_free(&want);
	pgm_desc_free(&d);
}

/*
 * Rows of generated values (digit runs, separators, SSNs, cards, phones,
 * IBANs, addresses, tokens and JSON, most 28 to 61 bytes long: lengths whose
 * bytes are digits or separators) in ten columns of every kind the row walk
 * treats apart (text, varchar, json and jsonb in text, text and jsonb in
 * binary, bytea, int4, bpchar in binary, a column rule), with all detectors, a
 * custom one and json_keys: the Hyperscan engine, each row on its own and in
 * a batch, masks them as PCRE2 alone does, byte for byte, counts included.
 */
static uint64_t next_rand(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static void test_rows_engines_agree(void **state)
{
	(void)state;
	static const char *const tok[] = {"123-45-6789", "078-05-1120", "4111 1111 1111 1111", "4111-1111-1111-1111",
					  "378282246310005", "10.0.0.1", "1", "23", "456", "7890", " ", " ", "-", ".",
					  "(", ")", "+", "+1 ", "(415) ", "555-0132", "x", "Z", "DE", "89", "GB82 WEST ",
					  "a@b.io", "@", "{\"token\": 1}", "\"", "EMP-", "EMP-123456", "AKIAIOSFODNN7EXAMPLE",
					  "Bearer ", "abcdefghijklmnop1234", "://u:p@h", "\n", "\xc3\xa9"};
	const size_t nt = sizeof(tok) / sizeof(tok[0]);
	static const char *const all[] = {"email", "phone", "credit_card", "iban", "us_ssn", "ipv4", "jwt",
					  "aws_access_key", "azure_storage_key", "private_key", "password_in_url",
					  "bearer_token"};
	static const char *const cnames[] = {"employee_id"}, *const cpats[] = {"EMP-[0-9]{6}"};
	char **lits;
	size_t n_lits = mask_key_literals((const char *const *)key_globs, 2, &lits);
	mask_profile *mp[N_ENGINES];
	pgm_ctx c[N_ENGINES];
	uint32_t counts[N_ENGINES][MASK_DET_COUNT + 1 + PGM_COUNT_EXTRA] = {{0}};
	buf out[N_ENGINES] = {{0}};
	for (int e = 0; e < N_ENGINES; e++) {
		mask_spec spec = {.detectors = all, .n_detectors = 12, .custom_names = cnames, .custom_patterns = cpats,
				  .n_custom = 1, .hint_literals = (const char *const *)lits, .n_hint_literals = n_lits,
				  .style = MASK_STYLE_PARTIAL, .engine = engines[e]};
		char err[256] = "";
		mp[e] = mask_profile_new(&spec, err, sizeof(err));
		if (!mp[e])
			fail_msg("mask_profile_new: %s", err);
		c[e] = (pgm_ctx){.mp = mp[e], .scratch = mask_scratch_new(mp[e]), .json_keys = &json_keys,
				 .counts = counts[e]};
	}
	mask_literals_free(lits, n_lits);
	enum { NC = 10 };
	pgm_desc d = {0};
	DESC(&d, {"a", 1, 1, 25, 0, PGM_SCAN}, {"b", 1, 2, 1043, 0, PGM_SCAN}, {"c", 1, 3, 3802, 0, PGM_SCAN},
	     {"d", 1, 4, 25, 0, PGM_WHOLE}, {"e", 1, 5, 114, 0, PGM_SCAN}, {"f", 1, 6, 25, 1, PGM_SCAN},
	     {"g", 1, 7, 3802, 1, PGM_SCAN}, {"h", 1, 8, 17, 0, PGM_SCAN}, {"i", 1, 9, 23, 0, PGM_SCAN},
	     {"j", 1, 10, 1042, 1, PGM_SCAN});
	uint64_t seed = 0x9e3779b97f4a7c15u;
	buf body = {0}, msgs = {0};
	char v[NC][200];
	size_t masked = 0;
	for (int iter = 0; iter < 20000; iter++) {
		val vals[NC];
		for (int k = 0; k < NC; k++) {
			char text[100];
			size_t want = next_rand(&seed) % 4 ? 28 + next_rand(&seed) % 34 : next_rand(&seed) % 90, len = 0;
			if (k == 2 || k == 4 || k == 6) /* JSON columns: a document half the time */
				if (next_rand(&seed) % 2)
					want = len = (size_t)snprintf(text, sizeof(text), "{\"token\": \"v\", \"n\": %u}",
								      (unsigned)(next_rand(&seed) % 100000));
			while (len < want) {
				const char *t = tok[next_rand(&seed) % nt];
				size_t tl = strlen(t);
				if (len + tl > sizeof(text))
					break;
				memcpy(text + len, t, tl);
				len += tl;
			}
			if (len > want)
				len = want;
			size_t n = 0;
			if (k == 7) { /* bytea, hex */
				v[k][n++] = '\\';
				v[k][n++] = 'x';
				for (size_t b = 0; b < len; b++) {
					v[k][n++] = "0123456789abcdef"[(unsigned char)text[b] >> 4];
					v[k][n++] = "0123456789abcdef"[text[b] & 15];
				}
			} else if (k == 8) { /* int4, text */
				n = (size_t)snprintf(v[k], sizeof(v[k]), "%d", (int)(next_rand(&seed) % 2000000000u));
			} else {
				if (k == 6) /* jsonb, binary: the version byte */
					v[k][n++] = 1;
				memcpy(v[k] + n, text, len);
				n += len;
			}
			vals[k] = next_rand(&seed) % 12 ? (val){v[k], (int32_t)n} : SNULL;
		}
		mkrow(&body, NC, vals);
		out[1].len = 0;
		int rc = pgm_data_row(&c[1], &d, body.data, body.len, &out[1]);
		masked += rc == 1;
		for (int batched = 0; batched < 2; batched++) {
			const char *row = body.data;
			if (batched) {
				msgs.len = 0;
				for (int k = 0; k < 2; k++) {
					buf_append(&msgs, "D", 1);
					p32(&msgs, (int32_t)(body.len + 4));
					buf_append(&msgs, body.data, body.len);
				}
				pgm_batch(&c[0], &d, msgs.data, msgs.len);
				row = msgs.data + 5 + body.len + 5;
			}
			out[0].len = 0;
			int rh = pgm_data_row(&c[0], &d, row, body.len, &out[0]);
			if (batched)
				pgm_batch_end(&c[0]);
			if (rh != rc || (rc == 1 && (out[0].len != out[1].len ||
						    memcmp(out[0].data, out[1].data, out[1].len) != 0)))
				fail_msg("row %d (%s): engines differ; column a [%.*s]", iter, batched ? "batch" : "alone",
					 vals[0].n > 0 ? (int)vals[0].n : 0, vals[0].p ? vals[0].p : "");
		}
	}
	assert_true(masked > 10000);
	for (size_t i = 0; i < MASK_DET_COUNT + 1 + PGM_COUNT_EXTRA; i++) /* (Hyperscan's saw each row twice) */
		if (counts[0][i] != 2 * counts[1][i])
			fail_msg("counts[%zu]: %u with Hyperscan, %u with PCRE2", i, counts[0][i] / 2, counts[1][i]);
	for (int e = 0; e < N_ENGINES; e++) {
		pgm_ctx_release(&c[e]);
		mask_scratch_free(c[e].scratch);
		mask_profile_free(mp[e]);
		buf_free(&out[e]);
	}
	buf_free(&body);
	buf_free(&msgs);
	pgm_desc_free(&d);
}

PER_ENGINE(test_whole_partial, ST_PARTIAL)
{
	pgm_desc d = {0};
	DESC(&d, {"a", 1, 1, 25, 0, PGM_WHOLE}, {"b", 1, 2, 3802, 0, PGM_WHOLE}, {"c", 1, 3, 25, 0, PGM_SCAN});
	buf body = {0};
	ROW(&body, S("secret stuff"), S("{\"k\": \"v\"}"), S("mail john.doe@example.com"));
	assert_int_equal(data_row(f, &d, &body), 1);
	EXPECT_ROW(&f->out, 3, S("****"), S("\"****\""), S("mail ****"));
	COUNTS(f, MASK_DET_EMAIL, 1, C_COLUMN, 2);
	f->out.len = 0;
	/* a number's last four digits, in text and as a JSON string */
	body.len = 0;
	ROW(&body, S("219-09-9999"), S("4111111111111111"), S("card 4111-1111-1111-1111 from 10.1.2.3"));
	assert_int_equal(data_row(f, &d, &body), 1);
	EXPECT_ROW(&f->out, 3, S("****9999"), S("\"****1111\""), S("card ****1111 from ****"));
	COUNTS(f, MASK_DET_CREDIT_CARD, 1, MASK_DET_IPV4, 1, C_COLUMN, 2);
	buf_free(&body);
	pgm_desc_free(&d);
}

/* ---- DataRow: numbers ---- */

PER_ENGINE(test_numbers, ST_REDACT)
{
	pgm_desc d = {0};
	DESC(&d, {"t8", 1, 1, 20, 0, PGM_SCAN}, {"b8", 1, 2, 20, 1, PGM_SCAN}, {"b4", 1, 3, 23, 1, PGM_SCAN},
	     {"n1", 1, 4, 1700, 1, PGM_SCAN}, {"n2", 1, 5, 1700, 1, PGM_SCAN}, {"b2", 1, 6, 21, 1, PGM_SCAN});
	char i8[8], i4[4], i2[2];
	buf n1 = {0}, n2 = {0}, body = {0};
	/* 4111111111111111: base-10000 groups 4111 1111 1111 1111, weight 3 */
	val card = numeric(&n1, 0, 3, 0, 4, (const int[]){4111, 1111, 1111, 1111});
	/* 4111111111170000 (Luhn-valid): the trailing 0000 group is not stored */
	val card0 = numeric(&n2, 0, 3, 0, 3, (const int[]){4111, 1111, 1117});
	ROW(&body, S("4111111111111111"), be_int(i8, 8, 4111111111111111LL), be_int(i4, 4, 1234), card, card0,
	    be_int(i2, 2, 7));
	assert_int_equal(data_row(f, &d, &body), 1);
	EXPECT_ROW(&f->out, 3, SNULL, SNULL, be_int(i4, 4, 1234), SNULL, SNULL, be_int(i2, 2, 7));
	COUNTS(f, MASK_DET_CREDIT_CARD, 4);

	/* 4111111111110000 fails Luhn; negative, fractional and small values: nothing */
	val nocard = numeric(&n1, 0, 3, 0, 3, (const int[]){4111, 1111, 1111});
	val frac = numeric(&n2, 0x4000, 0, 4, 2, (const int[]){1234, 5678}); /* -1234.5678 */
	ROW(&body, S("12345"), be_int(i8, 8, -4111111111111111LL), be_int(i4, 4, -1), nocard, frac,
	    be_int(i2, 2, -32768));
	assert_int_equal(data_row(f, &d, &body), 0);
	NO_COUNTS(f);

	DESC(&d, {"t8", 1, 1, 20, 0, PGM_SCAN}, {"n1", 1, 2, 1700, 1, PGM_SCAN}, {"n2", 1, 3, 1700, 0, PGM_SCAN});
	/* 0.00004111111111111111: weight -2, the leading zero group not stored; in
	 * text the card number follows "0.0000" and is not one */
	val tiny = numeric(&n1, 0, -2, 20, 4, (const int[]){4111, 1111, 1111, 1111});
	ROW(&body, S("4111111111111111"), tiny, S("0.00004111111111111111"));
	assert_int_equal(data_row(f, &d, &body), 1);
	EXPECT_ROW(&f->out, 3, SNULL, tiny, S("0.00004111111111111111"));
	COUNTS(f, MASK_DET_CREDIT_CARD, 1);

	/* a malformed binary numeric (digit > 9999) is scanned as bytes: nothing */
	val bad = numeric(&n1, 0, 0, 0, 1, (const int[]){10000});
	ROW(&body, S("1"), bad, S("2"));
	assert_int_equal(data_row(f, &d, &body), 0);

	buf_free(&n1);
	buf_free(&n2);
	buf_free(&body);
	pgm_desc_free(&d);
}

/* ---- DataRow: binary text, jsonb, bytea, inet ---- */

PER_ENGINE(test_binary_text_jsonb, ST_REDACT)
{
	pgm_desc d = {0};
	DESC(&d, {"t", 1, 1, 25, 1, PGM_SCAN}, {"j", 1, 2, 3802, 1, PGM_SCAN}, {"b", 1, 3, 17, 1, PGM_SCAN},
	     {"js", 1, 4, 114, 1, PGM_SCAN});
	buf body = {0};
	ROW(&body, S("to: a@b.io"), S("\1{\"secret_token\": \"plain\", \"mail\": \"x@y.org\"}"), S("raw\0a@b.io"),
	    S("{\"Secret\": [1, 2]}"));
	assert_int_equal(data_row(f, &d, &body), 1);
	EXPECT_ROW(&f->out, 3, S("to: ****"), S("\1{\"secret_token\": \"****\", \"mail\": \"****\"}"),
		   S("raw\0****"), S("{\"Secret\": \"****\"}"));
	COUNTS(f, MASK_DET_EMAIL, 3, C_JSON, 2);

	/* jsonb without a key or a match: untouched; a wrong version byte is NULL when it matches */
	ROW(&body, S("x"), S("\1{\"a\": \"b\"}"), S(""), S("[]"));
	assert_int_equal(data_row(f, &d, &body), 0);
	ROW(&body, S("x"), S("\2{\"a\": \"c@d.io\"}"), S(""), S("[]"));
	assert_int_equal(data_row(f, &d, &body), 1);
	EXPECT_ROW(&f->out, 3, S("x"), SNULL, S(""), S("[]"));
	COUNTS(f, MASK_DET_EMAIL, 1);

	buf_free(&body);
	pgm_desc_free(&d);
}

PER_ENGINE(test_jsonb_text, ST_REDACT)
{
	pgm_desc d = {0};
	DESC(&d, {"j", 1, 1, 3802, 0, PGM_SCAN}, {"k", 1, 2, 114, 0, PGM_SCAN});
	buf body = {0};
	ROW(&body, S("{\"a\": [{\"token\": 5}]}"), S("{\"TOKEN\": {\"x\": [1, true]}, \"token2\": 1}"));
	assert_int_equal(data_row(f, &d, &body), 1);
	EXPECT_ROW(&f->out, 3, S("{\"a\": [{\"token\": \"****\"}]}"),
		   S("{\"TOKEN\": \"****\", \"token2\": 1}"));
	COUNTS(f, C_JSON, 2);

	/* invalid JSON with a key in a JSON column: masked whole, as a JSON string */
	ROW(&body, S("{\"token\": 5"), S("{}"));
	assert_int_equal(data_row(f, &d, &body), 1);
	EXPECT_ROW(&f->out, 3, S("\"****\""), S("{}"));
	COUNTS(f, C_JSON, 1);

	/* null under a key, a key only in a value, no key: untouched */
	ROW(&body, S("{\"token\": null}"), S("{\"a\": \"token\"}"));
	assert_int_equal(data_row(f, &d, &body), 0);
	NO_COUNTS(f);

	/* a detector inside a JSON string and a key: both */
	ROW(&body, S("{\"mail\": \"a@b.io\", \"secret\": \"s\"}"), S("[\"10.1.2.3\"]"));
	assert_int_equal(data_row(f, &d, &body), 1);
	EXPECT_ROW(&f->out, 3, S("{\"mail\": \"****\", \"secret\": \"****\"}"), S("[\"****\"]"));
	COUNTS(f, MASK_DET_EMAIL, 1, MASK_DET_IPV4, 1, C_JSON, 1);

	/* a card number as a JSON number: "****" in its place would not be JSON, so the
	 * document's values are masked one by one, the number becoming a string; the
	 * rest stays (numbers as jansson writes them), keys and json_keys too */
	ROW(&body, S("{\"id\": 7, \"card\": 4111111111111111, \"n\": 1.5, \"token\": \"t\"}"),
	    S("[1, 4111111111111111, {\"a@b.io\": \"x\"}, null, true]"));
	assert_int_equal(data_row(f, &d, &body), 1);
	EXPECT_ROW(&f->out, 3, S("{\"id\": 7, \"card\": \"****\", \"n\": 1.5, \"token\": \"****\"}"),
		   S("[1, \"****\", {\"****\": \"x\"}, null, true]"));
	COUNTS(f, MASK_DET_CREDIT_CARD, 2, MASK_DET_EMAIL, 1, C_JSON, 1);
	/* a match right after an escape's backslash ("\n" then a@b.io: the "n" joins
	 * the local part): one by one too, the escape kept */
	ROW(&body, S("{\"m\": \"x\\na@b.io\"}"), S("{}"));
	assert_int_equal(data_row(f, &d, &body), 1);
	EXPECT_ROW(&f->out, 3, S("{\"m\": \"x\\n****\"}"), S("{}"));
	COUNTS(f, MASK_DET_EMAIL, 1);
	/* a number beyond what jansson reads, in a document the rewrite breaks: masked whole */
	ROW(&body, S("[123456789012345678901234567890, 4111111111111111]"), S("{}"));
	assert_int_equal(data_row(f, &d, &body), 1);
	EXPECT_ROW(&f->out, 3, S("\"****\""), S("{}"));
	COUNTS(f, MASK_DET_CREDIT_CARD, 1);

	/* 3000 deep: more than jansson reads, so the json document is masked whole */
	{
		buf deep = {0};
		nested_tokens(&deep, 3000);
		mkrow(&body, 2, (const val[]){{deep.data, (int32_t)deep.len}, S("{}")});
		assert_int_equal(data_row(f, &d, &body), 1);
		EXPECT_ROW(&f->out, 3, S("\"****\""), S("{}"));
		COUNTS(f, C_JSON, 1);
		buf_free(&deep);
	}

	/* a match right after an escape's backslash ("\n" then an email), a key too */
	ROW(&body, S("{\"a\": \"x\\nfoo@b.io\", \"token\": 3}"), S("{}"));
	assert_int_equal(data_row(f, &d, &body), 1);
	EXPECT_ROW(&f->out, 3, S("{\"a\": \"x\\n****\", \"token\": \"****\"}"), S("{}"));
	COUNTS(f, MASK_DET_EMAIL, 1, C_JSON, 1);

	/* one by one, a value known by its key ({"password": ...}) is read with its
	 * key, as the document's text has it: a string, a number; the same value
	 * under another key, a null and a key holding an address stay as they are */
	ROW(&body, S("{\"card\": 4111111111111111, \"password\": \"hunter2\", \"x\": \"hunter2\"}"),
	    S("{\"pwd\": 1234, \"a\": [4111111111111111], \"db_password\": null, \"a@b.io\": \"v\"}"));
	assert_int_equal(data_row(f, &d, &body), 1);
	EXPECT_ROW(&f->out, 3, S("{\"card\": \"****\", \"password\": \"****\", \"x\": \"hunter2\"}"),
		   S("{\"pwd\": \"****\", \"a\": [\"****\"], \"db_password\": null, \"****\": \"v\"}"));
	COUNTS(f, MASK_DET_CREDIT_CARD, 2, MASK_DET_PASSWORD_IN_TEXT, 2, MASK_DET_EMAIL, 1);
	ROW(&body, S("{\"n\": 4111111111111111, \"aws_secret_access_key\": \"vK7mQ2pX9rT4wY8zB3nC6dF1gH5jL0sA2eR7uI9o\"}"),
	    S("{}"));
	assert_int_equal(data_row(f, &d, &body), 1);
	EXPECT_ROW(&f->out, 3, S("{\"n\": \"****\", \"aws_secret_access_key\": \"****\"}"), S("{}"));
	COUNTS(f, MASK_DET_CREDIT_CARD, 1, MASK_DET_AWS_SECRET_KEY, 1);
	/* ... and a string's text read for json_keys there too: JSON in it, pairs in it */
	ROW(&body, S("{\"n\": 4111111111111111, \"log\": \"body: {\\\"token\\\": \\\"t1\\\"}\", \"url\": \"x?token=t2\"}"),
	    S("{}"));
	assert_int_equal(data_row(f, &d, &body), 1);
	EXPECT_ROW(&f->out, 3,
		   S("{\"n\": \"****\", \"log\": \"body: {\\\"token\\\": \\\"****\\\"}\", \"url\": \"x?token=****\"}"), S("{}"));
	COUNTS(f, MASK_DET_CREDIT_CARD, 1, C_JSON, 2);

	buf_free(&body);
	pgm_desc_free(&d);
}

/* A "\x..." bytea text value decoded. */
static size_t unhex(const char *v, size_t n, char *dst)
{
	assert_true(n >= 2 && v[0] == '\\' && v[1] == 'x' && n % 2 == 0);
	for (size_t i = 2; i < n; i += 2) {
		unsigned int b;
		char two[3] = {v[i], v[i + 1], 0};
		assert_int_equal(sscanf(two, "%2x", &b), 1);
		dst[(i - 2) / 2] = (char)b;
	}
	return (n - 2) / 2;
}

PER_ENGINE(test_bytea_text, ST_REDACT)
{
	pgm_desc d = {0};
	DESC(&d, {"b", 1, 1, 17, 0, PGM_SCAN}, {"c", 1, 2, 17, 0, PGM_SCAN});
	buf body = {0};
	/* "mail a@b.io!\0" in hex */
	ROW(&body, S("\\x6d61696c20614062" "2e696f2100"), S("\\x00ff"));
	assert_int_equal(data_row(f, &d, &body), 1);
	EXPECT_ROW(&f->out, 3, S("\\x6d61696c202a2a2a2a2100"), S("\\x00ff"));
	/* decoding the output: the email masked */
	char raw[64];
	size_t n = unhex(f->out.data + 3 + 7 + 4, 24, raw);
	assert_int_equal(n, 11);
	assert_memory_equal(raw, "mail ****!\0", 11);
	COUNTS(f, MASK_DET_EMAIL, 1);

	/* the escape form (bytea_output = escape): decoded, masked, written back in hex */
	ROW(&body, S("x\\\\y a@b.io\\001"), S("\\x00ff"));
	assert_int_equal(data_row(f, &d, &body), 1);
	EXPECT_ROW(&f->out, 3, S("\\x785c79202a2a2a2a01"), S("\\x00ff"));
	COUNTS(f, MASK_DET_EMAIL, 1);

	/* not the hex form: a value with a match becomes NULL */
	ROW(&body, S("\\xa@b.io"), S("mail a@b.io"));
	assert_int_equal(data_row(f, &d, &body), 1);
	EXPECT_ROW(&f->out, 3, SNULL, S("mail ****"));
	COUNTS(f, MASK_DET_EMAIL, 2);

	buf_free(&body);
	pgm_desc_free(&d);
}

PER_ENGINE(test_inet, ST_REDACT)
{
	pgm_desc d = {0};
	DESC(&d, {"i", 1, 1, 869, 1, PGM_SCAN}, {"t", 1, 2, 869, 0, PGM_SCAN}, {"v6", 1, 3, 869, 1, PGM_SCAN});
	buf body = {0};
	static const char v4[] = {2, 32, 0, 4, 10, 1, 2, 3};
	static const char v6[] = {3, (char)128, 0, 16, 0x20, 0x01, 0x0d, (char)0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
	ROW(&body, ((val){v4, 8}), S("10.1.2.3/32"), ((val){v6, 20}));
	assert_int_equal(data_row(f, &d, &body), 1);
	EXPECT_ROW(&f->out, 3, SNULL, SNULL, ((val){v6, 20}));
	COUNTS(f, MASK_DET_IPV4, 2);
	buf_free(&body);
	pgm_desc_free(&d);
}

/* ---- DataRow: arrays, ranges, records ---- */

/* An element as the binary containers hold it: its length (-1: NULL), then its bytes. */
static void put_elem(buf *b, val v)
{
	p32(b, v.n);
	if (v.n > 0)
		buf_append(b, v.p, (size_t)v.n);
}

/* array_send's form: ndim dimensions of dims[], lower bounds 1, the elements (row-major). */
static val bin_array(buf *b, uint32_t et, int ndim, const int *dims, size_t n, const val *elems)
{
	b->len = 0;
	int nulls = 0;
	for (size_t i = 0; i < n; i++)
		nulls |= elems[i].n < 0;
	p32(b, ndim);
	p32(b, nulls);
	p32(b, (int32_t)et);
	for (int d = 0; d < ndim; d++) {
		p32(b, dims[d]);
		p32(b, 1);
	}
	for (size_t i = 0; i < n; i++)
		put_elem(b, elems[i]);
	return (val){b->data, (int32_t)b->len};
}

/* range_send's form: [lo, hi) with both bounds, or [lo, infinity) when hi.n == 0. */
static val bin_range(buf *b, val lo, val hi)
{
	b->len = 0;
	char flags = (char)(0x02 | (hi.n ? 0 : 0x10));
	buf_append(b, &flags, 1);
	put_elem(b, lo);
	if (hi.n)
		put_elem(b, hi);
	return (val){b->data, (int32_t)b->len};
}

/* record_send's form: n fields, each its type and value. */
static val bin_record(buf *b, size_t n, const uint32_t *types, const val *fields)
{
	b->len = 0;
	p32(b, (int32_t)n);
	for (size_t i = 0; i < n; i++) {
		p32(b, (int32_t)types[i]);
		put_elem(b, fields[i]);
	}
	return (val){b->data, (int32_t)b->len};
}

/*
 * A number or an address inside an array, a range, a multirange or a record
 * is read as its text: binary containers are taken apart (an array or a
 * record by its form, whatever its type's OID), and a match makes the value
 * NULL, in text format too when the elements are of a type clients parse
 * strictly ({****1111} is no int8[]); an array of text is rewritten.
 */
PER_ENGINE(test_containers, ST_REDACT)
{
	pgm_desc d = {0};
	DESC(&d, {"a1", 1, 1, 1016, 1, PGM_SCAN}, {"a2", 1, 2, 1016, 1, PGM_SCAN}, {"a3", 1, 3, 1041, 1, PGM_SCAN},
	     {"r4", 1, 4, 3926, 1, PGM_SCAN}, {"m5", 1, 5, 4536, 1, PGM_SCAN}, {"c6", 1, 6, 2249, 1, PGM_SCAN},
	     {"c7", 1, 7, 2287, 1, PGM_SCAN}, {"a8", 1, 8, 1231, 1, PGM_SCAN}, {"t9", 1, 9, 1016, 0, PGM_SCAN},
	     {"t10", 1, 10, 3926, 0, PGM_SCAN}, {"t11", 1, 11, 1009, 0, PGM_SCAN}, {"a12", 1, 12, 1016, 1, PGM_SCAN},
	     {"a13", 1, 13, 1016, 1, PGM_SCAN}, {"a14", 1, 14, 1016, 1, PGM_SCAN}, {"a15", 1, 15, 16500, 1, PGM_SCAN},
	     {"t16", 1, 16, 1016, 0, PGM_SCAN}, {"t17", 1, 17, 3904, 0, PGM_SCAN});
	char card[8], one[8], two[8], small[4], addr[8] = {2, 32, 0, 4, 10, 1, 2, 3};
	val vcard = be_int(card, 8, 4111111111111111LL), vone = be_int(one, 8, 1), vtwo = be_int(two, 8, 2);
	buf b[15] = {{0}}, n1 = {0}, body = {0};
	val a1 = bin_array(&b[0], 20, 1, (const int[]){2}, 2, (const val[]){vcard, vone});
	val a2 = bin_array(&b[1], 20, 1, (const int[]){3}, 3, (const val[]){vone, vtwo, vone});
	val a3 = bin_array(&b[2], 869, 1, (const int[]){1}, 1, (const val[]){{addr, 8}});
	val r4 = bin_range(&b[3], vcard, (val){NULL, 0});
	val range = bin_range(&b[4], vone, vcard);
	b[5].len = 0;
	p32(&b[5], 1);
	put_elem(&b[5], range);
	val m5 = {b[5].data, (int32_t)b[5].len};
	val c6 = bin_record(&b[6], 2, (const uint32_t[]){20, 25}, (const val[]){vcard, S("x")});
	val inner = bin_record(&b[7], 1, (const uint32_t[]){20}, (const val[]){vcard});
	val outer = bin_record(&b[8], 2, (const uint32_t[]){23, 2249},
			       (const val[]){be_int(small, 4, 1), inner});
	val c7 = bin_array(&b[9], 2249, 1, (const int[]){1}, 1, (const val[]){outer});
	val num = numeric(&n1, 0, 3, 0, 4, (const int[]){4111, 1111, 1111, 1111});
	val a8 = bin_array(&b[10], 1700, 2, (const int[]){2, 2}, 4, (const val[]){vone, vtwo, vone, num});
	/* a12: one byte more than the elements; a13: no dimensions; a14: a NULL element */
	bin_array(&b[11], 20, 1, (const int[]){1}, 1, (const val[]){vcard});
	buf_append(&b[11], "", 1);
	val a12 = {b[11].data, (int32_t)b[11].len};
	val a13 = bin_array(&b[12], 20, 0, NULL, 0, NULL);
	val a14 = bin_array(&b[13], 20, 1, (const int[]){2}, 2, (const val[]){SNULL, vtwo});
	/* a15: an array type warden does not know (a domain's), its elements int8 */
	val a15 = bin_array(&b[14], 20, 1, (const int[]){1}, 1, (const val[]){vcard});
	ROW(&body, a1, a2, a3, r4, m5, c6, c7, a8, S("{4111111111111111,1}"), S("[4111111111111111,4111111111111112)"),
	    S("{x@y.org,plain}"), a12, a13, a14, a15, S("{1,2}"), S("[1,5)"));
	assert_int_equal(data_row(f, &d, &body), 1);
	EXPECT_ROW(&f->out, 3, SNULL, a2, SNULL, SNULL, SNULL, SNULL, SNULL, SNULL, SNULL, SNULL, S("{****,plain}"),
		   a12, a13, a14, SNULL, S("{1,2}"), S("[1,5)"));
	COUNTS(f, MASK_DET_EMAIL, 1, MASK_DET_CREDIT_CARD, 9, MASK_DET_IPV4, 1);

	/* nested deeper than 8: not read, and so NULL, whatever it holds */
	val deep = vcard;
	uint32_t et = 20;
	buf nest[10] = {{0}};
	for (int i = 0; i < 10; i++) {
		deep = bin_array(&nest[i], et, 1, (const int[]){1}, 1, (const val[]){deep});
		et = 1016;
	}
	DESC(&d, {"deep", 1, 1, 1016, 1, PGM_SCAN}, {"shallow", 1, 2, 1016, 1, PGM_SCAN});
	ROW(&body, deep, bin_array(&n1, 1016, 1, (const int[]){1}, 1, (const val[]){a1}));
	assert_int_equal(data_row(f, &d, &body), 1);
	EXPECT_ROW(&f->out, 3, SNULL, SNULL);
	COUNTS(f, MASK_DET_CREDIT_CARD, 1);
	ROW(&body, bin_array(&n1, 20, 1, (const int[]){2}, 2, (const val[]){vone, vtwo}), a13);
	assert_int_equal(data_row(f, &d, &body), 0);
	NO_COUNTS(f);

	/* JSON in an array or a record: its values under json_keys are NULL with it, in text
	 * (array_agg(profile), row(id, profile), escaped as elements) and in binary */
	DESC(&d, {"ja", 1, 1, 3807, 0, PGM_SCAN}, {"rec", 1, 2, 2249, 0, PGM_SCAN}, {"nest", 1, 3, 2287, 0, PGM_SCAN},
	     {"dims", 1, 4, 199, 0, PGM_SCAN}, {"plain", 1, 5, 3807, 0, PGM_SCAN}, {"bja", 1, 6, 3807, 1, PGM_SCAN},
	     {"brec", 1, 7, 2249, 1, PGM_SCAN}, {"bplain", 1, 8, 3807, 1, PGM_SCAN});
	static const char jdoc[] = "\1{\"token\": \"tk-1\"}", jplain[] = "\1{\"theme\": \"dark\"}";
	val bja = bin_array(&nest[0], 3802, 1, (const int[]){1}, 1, (const val[]){{jdoc, 18}});
	val brec = bin_record(&nest[1], 2, (const uint32_t[]){23, 3802}, (const val[]){be_int(small, 4, 1), {jdoc, 18}});
	val bplain = bin_array(&nest[2], 3802, 1, (const int[]){1}, 1, (const val[]){{jplain, 18}});
	ROW(&body, S("{\"{\\\"tags\\\": [1], \\\"token\\\": \\\"tk-1\\\"}\",NULL}"),
	    S("(1,\"{\"\"secret_pin\"\": \"\"p-7\"\"}\")"),
	    S("{\"(1,\\\"{\\\"\\\"token\\\"\\\": 2}\\\")\"}"),
	    S("[0:1]={{\"{\\\"a\\\": 1}\"},{\"{\\\"secret\\\": 1}\"}}"),
	    S("{\"{\\\"theme\\\": \\\"dark\\\"}\"}"), bja, brec, bplain);
	assert_int_equal(data_row(f, &d, &body), 1);
	EXPECT_ROW(&f->out, 3, SNULL, SNULL, SNULL, SNULL, S("{\"{\\\"theme\\\": \\\"dark\\\"}\"}"), SNULL, SNULL,
		   bplain);
	COUNTS(f, C_JSON, 6);
	/* records nested deeper than 8 are not read, and so NULL; shallower ones with no JSON
	 * under a masked key stay (a key's name among the values: the row is looked at) */
	DESC(&d, {"deep", 1, 1, 2249, 0, PGM_SCAN}, {"shallow", 1, 2, 2249, 0, PGM_SCAN});
	ROW(&body, S("(((((((((((token)))))))))))"), S("((token,\"{\"\"theme\"\": 1}\"))"));
	assert_int_equal(data_row(f, &d, &body), 1);
	EXPECT_ROW(&f->out, 3, SNULL, S("((token,\"{\"\"theme\"\": 1}\"))"));
	NO_COUNTS(f);

	for (int i = 0; i < 10; i++)
		buf_free(&nest[i]);
	for (int i = 0; i < 15; i++)
		buf_free(&b[i]);
	buf_free(&n1);
	buf_free(&body);
	pgm_desc_free(&d);
}

/* ---- DataRow: no RowDescription, malformed bodies ---- */

PER_ENGINE(test_undescribed, ST_REDACT)
{
	buf body = {0};
	ROW(&body, S("x@y.org"), S("plain"), SNULL, S("{\"token\": 1}"));
	/* no description at all */
	assert_int_equal(data_row(f, NULL, &body), 1);
	EXPECT_ROW(&f->out, 3, SNULL, S("plain"), SNULL, S("{\"token\": 1}"));
	COUNTS(f, MASK_DET_EMAIL, 1);

	/* a description that is not known, or has another column count: the same */
	pgm_desc d = {0};
	DESC(&d, {"a", 1, 1, 25, 0, PGM_WHOLE}, {"b", 1, 2, 25, 0, PGM_WHOLE}, {"c", 1, 3, 25, 0, PGM_WHOLE},
	     {"d", 1, 4, 25, 0, PGM_WHOLE});
	d.known = 0;
	assert_int_equal(data_row(f, &d, &body), 1);
	EXPECT_ROW(&f->out, 3, SNULL, S("plain"), SNULL, S("{\"token\": 1}"));
	COUNTS(f, MASK_DET_EMAIL, 1);

	DESC(&d, {"a", 1, 1, 25, 0, PGM_WHOLE}, {"b", 1, 2, 25, 0, PGM_WHOLE});
	assert_int_equal(data_row(f, &d, &body), 1);
	EXPECT_ROW(&f->out, 3, SNULL, S("plain"), SNULL, S("{\"token\": 1}"));
	COUNTS(f, MASK_DET_EMAIL, 1);

	ROW(&body, S("plain"));
	assert_int_equal(data_row(f, NULL, &body), 0);
	NO_COUNTS(f);

	buf_free(&body);
	pgm_desc_free(&d);
}

static void expect_malformed(fx *f, const pgm_desc *d, const char *b, size_t n)
{
	buf body = {0};
	buf_append(&body, b, n);
	/* exactly n bytes on the heap: ASan / valgrind see any read past the end */
	char *exact = malloc(n ? n : 1);
	assert_non_null(exact);
	memcpy(exact, b, n);
	f->out.len = 0;
	buf_append(&f->out, "PFX", 3);
	assert_int_equal(pgm_data_row(&f->c, d, exact, n, &f->out), -1);
	assert_int_equal(f->out.len, 3);
	buf cap = {0};
	buf_append(&cap, "[", 1);
	assert_int_equal(pgm_row_json(d, exact, n, &cap), -1);
	assert_int_equal(cap.len, 1);
	buf_free(&cap);
	free(exact);
	buf_free(&body);
}
#define MALFORMED(f, d, lit) expect_malformed((f), (d), (lit), sizeof(lit) - 1)

PER_ENGINE(test_malformed, ST_REDACT)
{
	pgm_desc d = {0};
	DESC(&d, {"a", 1, 1, 25, 0, PGM_SCAN}, {"b", 1, 2, 25, 0, PGM_WHOLE});
	for (int k = 0; k < 2; k++) {
		const pgm_desc *dd = k ? &d : NULL;
		MALFORMED(f, dd, "");
		MALFORMED(f, dd, "\0");
		MALFORMED(f, dd, "\xff\xff");                           /* column count -1 */
		MALFORMED(f, dd, "\x80\x00");                           /* column count -32768 */
		MALFORMED(f, dd, "\0\1\0\0");                           /* truncated length */
		MALFORMED(f, dd, "\0\1\0\0\0\5abcd");                   /* value past the end */
		MALFORMED(f, dd, "\0\1\xff\xff\xff\xfe");               /* length -2 */
		MALFORMED(f, dd, "\0\1\x80\0\0\0");                     /* length INT32_MIN */
		MALFORMED(f, dd, "\0\1\0\0\0\1ax");                     /* a trailing byte */
		MALFORMED(f, dd, "\0\0x");                              /* no columns, a trailing byte */
		MALFORMED(f, dd, "\0\2\xff\xff\xff\xff");               /* the second value missing */
		/* a first value that is rewritten, then a malformed second one: still -1, out as it was */
		MALFORMED(f, dd, "\0\2\0\0\0\6a@b.io\0\0");
		MALFORMED(f, dd, "\0\2\0\0\0\6a@b.io\xff\xff\xff\xfe");
		MALFORMED(f, dd, "\0\2\0\0\0\6a@b.io\0\0\0\5abc");
		MALFORMED(f, dd, "\0\2\0\0\0\6a@b.io\0\0\0\1bc");
	}
	memset(f->counts, 0, sizeof(f->counts));
	/* well formed: no columns at all */
	buf body = {0};
	buf_append(&body, "\0\0", 2);
	assert_int_equal(data_row(f, NULL, &body), 0);
	buf_free(&body);
	pgm_desc_free(&d);
}

/* ---- RowDescription ---- */

static void test_row_description(void **state)
{
	(void)state;
	buf b = {0};
	pgm_desc d = {0};
	const colspec cs[2] = {{"id", 16384, 1, 23, 0, 0}, {"payload", 0, 0, 3802, 1, 0}};
	mkdesc_body(&b, 2, cs);
	static const char want[] = "\0\2"
				   "id\0" "\0\0\x40\0" "\0\1" "\0\0\0\x17" "\xff\xff" "\xff\xff\xff\xff" "\0\0"
				   "payload\0" "\0\0\0\0" "\0\0" "\0\0\x0e\xda" "\xff\xff" "\xff\xff\xff\xff" "\0\1";
	assert_int_equal(b.len, sizeof(want) - 1);
	assert_memory_equal(b.data, want, b.len);
	assert_int_equal(pgm_row_description(b.data, b.len, &d), 0);
	assert_int_equal(d.n, 2);
	assert_true(d.known);
	assert_int_equal(d.cols[0].table_oid, 16384);
	assert_int_equal(d.cols[0].attnum, 1);
	assert_int_equal(d.cols[0].type_oid, 23);
	assert_int_equal(d.cols[0].format, 0);
	assert_int_equal(d.cols[0].action, PGM_SCAN);
	assert_int_equal(d.cols[1].table_oid, 0);
	assert_int_equal(d.cols[1].attnum, 0);
	assert_int_equal(d.cols[1].type_oid, 3802);
	assert_int_equal(d.cols[1].format, 1);
	assert_int_equal(d.cols[1].action, PGM_SCAN);

	/* a table OID above 2^31 and a negative attnum (system column) */
	const colspec big[1] = {{"ctid", 0xfffffff0u, -1, 27, 1, 0}};
	mkdesc_body(&b, 1, big);
	assert_int_equal(pgm_row_description(b.data, b.len, &d), 0);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.cols[0].table_oid, 0xfffffff0u);
	assert_int_equal(d.cols[0].attnum, -1);

	/* no columns */
	assert_int_equal(pgm_row_description("\0\0", 2, &d), 0);
	assert_int_equal(d.n, 0);
	assert_true(d.known);

	/* malformed: every prefix of the good one, a trailing byte, a negative count, no NUL */
	mkdesc_body(&b, 2, cs);
	for (size_t n = 0; n < b.len; n++) {
		char *exact = malloc(n ? n : 1);
		memcpy(exact, b.data, n);
		d.known = 1;
		if (pgm_row_description(exact, n, &d) != -1)
			fail_msg("prefix of %zu bytes accepted", n);
		assert_int_equal(d.known, 0);
		assert_int_equal(d.n, 0);
		free(exact);
	}
	buf_append(&b, "x", 1);
	assert_int_equal(pgm_row_description(b.data, b.len, &d), -1);
	assert_int_equal(pgm_row_description("\xff\xff", 2, &d), -1);
	assert_int_equal(pgm_row_description("\0\1abc", 5, &d), -1);
	assert_int_equal(pgm_row_description("\0\1abc\0", 6, &d), -1);
	assert_false(d.known);

	/* parsed again after a failure */
	mkdesc_body(&b, 2, cs);
	assert_int_equal(pgm_row_description(b.data, b.len, &d), 0);
	assert_int_equal(d.n, 2);
	pgm_desc_free(&d);
	assert_null(d.cols);
	buf_free(&b);
}

/* ---- CopyData ---- */

/* pgm_copy_data after "PFX": returns the rewritten row (type 'd', length checked), NULL for 0. */
static char *copy_row(fx *f, const pgm_copy *cp, const char *in)
{
	size_t n = strlen(in);
	char *exact = malloc(n ? n : 1);
	assert_non_null(exact);
	memcpy(exact, in, n);
	f->out.len = 0;
	buf_append(&f->out, "PFX", 3);
	int rc = pgm_copy_data(&f->c, cp, exact, n, &f->out);
	free(exact);
	assert_memory_equal(f->out.data, "PFX", 3);
	if (rc == 0) {
		assert_int_equal(f->out.len, 3);
		return NULL;
	}
	assert_int_equal(rc, 1);
	assert_true(f->out.len >= 8);
	assert_int_equal(f->out.data[3], 'd');
	assert_int_equal(g32(f->out.data + 4), (int32_t)(f->out.len - 4));
	char *s = calloc(1, f->out.len - 8 + 1);
	memcpy(s, f->out.data + 8, f->out.len - 8);
	return s;
}

static void expect_copy(fx *f, const pgm_copy *cp, const char *in, const char *want)
{
	char *got = copy_row(f, cp, in);
	if (!want) {
		if (got)
			fail_msg("[%s] should be left alone, got [%s]", in, got);
		return;
	}
	if (!got)
		fail_msg("[%s] left alone, want [%s]", in, want);
	if (strcmp(got, want) != 0)
		fail_msg("[%s]:\n want [%s]\n got  [%s]", in, want, got);
	free(got);
}

PER_ENGINE(test_copy_text, ST_REDACT)
{
	static const uint8_t w2[] = {0, 0, 1};
	pgm_copy cp = {.delimiter = '\t', .quote = '"', .whole = w2, .n_whole = 3};
	expect_copy(f, &cp, "1\tjohn\t078-05-1120\n", "1\tjohn\t****\n");
	COUNTS(f, C_COLUMN, 1);
	expect_copy(f, &cp, "2\tmary\t\\N\n", NULL); /* NULL is not masked */
	NO_COUNTS(f);
	expect_copy(f, &cp, "3\tjane a@b.io\tx\n", "3\tjane ****\t****\n");
	COUNTS(f, MASK_DET_EMAIL, 1, C_COLUMN, 1);
	expect_copy(f, &cp, "4\tx\t\n", "4\tx\t****\n"); /* an empty string is not NULL in text */
	COUNTS(f, C_COLUMN, 1);
	expect_copy(f, &cp, "5\tx\n", NULL); /* fewer fields than the rules */
	NO_COUNTS(f);
	expect_copy(f, &cp, "6\ta\tb\tc\n", "6\ta\t****\tc\n"); /* more */
	COUNTS(f, C_COLUMN, 1);

	/* field 1: the SSN there is masked whole, not by the detector */
	static const uint8_t w1[] = {0, 1};
	cp.whole = w1;
	cp.n_whole = 2;
	expect_copy(f, &cp, "1\t078-05-1120\t078-05-1120\n", "1\t****\t****\n");
	COUNTS(f, MASK_DET_US_SSN, 1, C_COLUMN, 1);
	expect_copy(f, &cp, "1\t\\N\tx\n", NULL);

	/* no column rules: detectors over the row */
	expect_copy(f, NULL, "1\ta@b.io\t10.1.2.3\n", "1\t****\t****\n");
	COUNTS(f, MASK_DET_EMAIL, 1, MASK_DET_IPV4, 1);
	expect_copy(f, NULL, "1\tplain\n", NULL);
	NO_COUNTS(f);

	/* two rows in one message: each row's fields counted from 0 */
	expect_copy(f, &cp, "1\tx\n2\ty\n", "1\t****\n2\t****\n");
	COUNTS(f, C_COLUMN, 2);
	expect_copy(f, NULL, "1\tx\n2\ta@b.io\n", "1\tx\n2\t****\n");
	COUNTS(f, MASK_DET_EMAIL, 1);
	expect_copy(f, &cp, "1\t\\N\n2\ta@b.io\n", "1\t\\N\n2\t****\n");
	COUNTS(f, C_COLUMN, 1);

	/* detectors per field: a private key's markers in two fields are not a key */
	static const char two_markers[] = "1\t-----BEGIN PRIVATE KEY-----\tx\t-----END PRIVATE KEY-----\n";
	expect_copy(f, NULL, two_markers, NULL); /* no rules: over the row (the profile has no private_key) */
	pgm_copy none0 = {.delimiter = '\t', .quote = '"'};
	expect_copy(f, &none0, "a@b.io\tc 10.0.0.1\n", "****\tc ****\n");
	COUNTS(f, MASK_DET_EMAIL, 1, MASK_DET_IPV4, 1);
	/* over the value, escapes undone: an email after an escaped newline */
	expect_copy(f, &none0, "line1\\na@b.io\t\\\\x@y.org\n", "line1\\n****\t\\\\****\n");
	COUNTS(f, MASK_DET_EMAIL, 2);

	/* every field */
	pgm_copy all = {.delimiter = '\t', .quote = '"', .all_whole = 1};
	expect_copy(f, &all, "1\t\\N\tx y\n", "****\t\\N\t****\n");
	COUNTS(f, C_COLUMN, 2);
	expect_copy(f, &all, "\\N\n", NULL);
	NO_COUNTS(f);

	/* another delimiter; no newline at the end */
	pgm_copy bar = {.delimiter = '|', .quote = '"', .whole = w1, .n_whole = 2};
	expect_copy(f, &bar, "a|b\\|c|d", "a|****|d");
	COUNTS(f, C_COLUMN, 1);

	/* a JSON field: the values under json_keys masked, the document re-serialized; without a key, untouched */
	pgm_copy none = {.delimiter = '\t', .quote = '"'};
	expect_copy(f, &none, "1\t{\"secret_x\": 1}\t[1]\n", "1\t{\"secret_x\": \"****\"}\t[1]\n");
	COUNTS(f, C_JSON, 1);
	expect_copy(f, &none, "1\t{\"a\": 1}\t[\"tok\"]\n", NULL);
	NO_COUNTS(f);
	/* detectors inside free text next to a whole-masked JSON field */
	expect_copy(f, &none, "mail x@y.org\t [{\"Token\": 2}]\n", "mail ****\t [{\"Token\": \"****\"}]\n");
	COUNTS(f, MASK_DET_EMAIL, 1, C_JSON, 1);
}

PER_ENGINE(test_copy_csv, ST_REDACT)
{
	static const uint8_t w1[] = {0, 1, 0};
	pgm_copy cp = {.csv = 1, .delimiter = ',', .quote = '"', .whole = w1, .n_whole = 3};
	expect_copy(f, &cp, "1,\"Doe, \"\"JD\"\" John\",x@y.org\n", "1,\"****\",****\n");
	COUNTS(f, MASK_DET_EMAIL, 1, C_COLUMN, 1);
	expect_copy(f, &cp, "1,plain,2\r\n", "1,\"****\",2\r\n");
	COUNTS(f, C_COLUMN, 1);
	expect_copy(f, &cp, "1,,2\n", NULL); /* unquoted empty: NULL */
	NO_COUNTS(f);
	expect_copy(f, &cp, "1,\"\",2\n", "1,\"****\",2\n"); /* quoted empty: a string */
	COUNTS(f, C_COLUMN, 1);
	/* a quoted field holding newlines and the delimiter, then one after it */
	static const uint8_t w2[] = {0, 0, 1};
	cp.whole = w2;
	expect_copy(f, &cp, "\"a\nb,c\",\"x,\"\"y\",z\n", "\"a\nb,c\",\"x,\"\"y\",\"****\"\n");
	COUNTS(f, C_COLUMN, 1);
	/* a quote character of its own */
	pgm_copy q = {.csv = 1, .delimiter = ';', .quote = '\'', .whole = w1, .n_whole = 3};
	expect_copy(f, &q, "'a;b';'it''s';c\n", "'a;b';'****';c\n");
	COUNTS(f, C_COLUMN, 1);
	/* every field; NULLs stay */
	pgm_copy all = {.csv = 1, .delimiter = ',', .quote = '"', .all_whole = 1};
	expect_copy(f, &all, "1,,\"a,b\"\n", "\"****\",,\"****\"\n");
	COUNTS(f, C_COLUMN, 2);
	/* a JSON field with a key, CSV-quoted */
	pgm_copy none = {.csv = 1, .delimiter = ',', .quote = '"'};
	expect_copy(f, &none, "1,\"{\"\"token\"\": 1}\"\n", "1,\"{\"\"token\"\": \"\"****\"\"}\"\n");
	COUNTS(f, C_JSON, 1);
	/* detectors run per field: a quoted value masked and re-quoted */
	expect_copy(f, &none, "1,\"say \"\"a@b.io\"\", ok\",2\n", "1,\"say \"\"****\"\", ok\",2\n");
	COUNTS(f, MASK_DET_EMAIL, 1);
	/* ... never across fields: over the row, "x,\"y" would be a URL's password */
	expect_copy(f, &none, "1,http://u:x,\"y@h.io\"\n", "1,http://u:x,\"****\"\n");
	COUNTS(f, MASK_DET_EMAIL, 1);
	expect_copy(f, &none, "1,http://u:x,\"y@h\"\n", NULL);
	NO_COUNTS(f);
	/* ESCAPE '\\': inside quotes a quote or a backslash follows one; the field goes on past \" */
	pgm_copy bs = {.csv = 1, .delimiter = ',', .quote = '"', .escape = '\\'};
	expect_copy(f, &bs, "1,\"{\\\"token\\\": \\\"tk1\\\", \\\"n\\\": 2}\",x@y.org\n",
		    "1,\"{\\\"token\\\": \\\"****\\\", \\\"n\\\": 2}\",****\n");
	COUNTS(f, MASK_DET_EMAIL, 1, C_JSON, 1);
	expect_copy(f, &bs, "1,\"a\\\\\",\"say \\\"a@b.io\\\"\"\n", "1,\"a\\\\\",\"say \\\"****\\\"\"\n");
	COUNTS(f, MASK_DET_EMAIL, 1);
	static const uint8_t w0[] = {1, 0};
	pgm_copy bsw = {.csv = 1, .delimiter = ',', .quote = '"', .escape = '\\', .whole = w0, .n_whole = 2};
	expect_copy(f, &bsw, "\"a\\\"b,c\",d\n", "\"****\",d\n");
	COUNTS(f, C_COLUMN, 1);
}

/*
 * Bytes in hex inside text, where PostgreSQL writes a bytea: a cast to text
 * (\x...), an array's or a record's element and a JSON string ("\\x..."). Each
 * run is decoded, masked and written back in hex; the row's one scan must
 * visit a value whose only cue is the run (no detector's hint is in hex).
 */
PER_ENGINE(test_hex_runs, ST_REDACT)
{
	pgm_desc d = {0};
	DESC(&d, {"t", 1, 1, 25, 0, PGM_SCAN}, {"a", 1, 2, 1009, 0, PGM_SCAN}, {"j", 1, 3, 114, 0, PGM_SCAN},
	     {"plain", 1, 4, 25, 0, PGM_SCAN});
	buf body = {0};
	/* "mail a@b.io!": the cast to text, an array's element, a JSON string */
	ROW(&body, S("\\x6d61696c206140622e696f21"), S("{\"\\\\x6140622e696f\",ok}"),
	    S("{\"e\": \"\\\\x6140622e696f\", \"n\": 1}"), S("nothing here"));
	assert_int_equal(data_row(f, &d, &body), 1);
	EXPECT_ROW(&f->out, 3, S("\\x6d61696c202a2a2a2a21"), S("{\"\\\\x2a2a2a2a\",ok}"),
		   S("{\"e\": \"\\\\x2a2a2a2a\", \"n\": 1}"), S("nothing here"));
	COUNTS(f, MASK_DET_EMAIL, 3);
	/* with no json_keys, no backslash draws a look: the row's scan finds the runs */
	f->c.json_keys = NULL;
	assert_int_equal(data_row(f, &d, &body), 1);
	EXPECT_ROW(&f->out, 3, S("\\x6d61696c202a2a2a2a21"), S("{\"\\\\x2a2a2a2a\",ok}"),
		   S("{\"e\": \"\\\\x2a2a2a2a\", \"n\": 1}"), S("nothing here"));
	COUNTS(f, MASK_DET_EMAIL, 3);
	f->c.json_keys = &json_keys;

	/* upper-case (upper() of the text), a run cast twice (the hex of "\x6140..."),
	 * an odd digit after the run, and the text around it read as well */
	ROW(&body, S("\\X6D61696C206140622E696F21"), S("{\"\\\\x5c78363134303632326536393666\"}"),
	    S("\"\\\\x6140622e696fa\""), S("to x@y.org: \\x6140622e696f"));
	assert_int_equal(data_row(f, &d, &body), 1);
	EXPECT_ROW(&f->out, 3, S("\\X6d61696c202a2a2a2a21"), S("{\"\\\\x5c783261326132613261\"}"),
		   S("\"\\\\x2a2a2a2aa\""), S("to ****: \\x2a2a2a2a"));
	COUNTS(f, MASK_DET_EMAIL, 5);

	/* hex holding nothing, too short, no digits, a Windows path: left alone */
	ROW(&body, S("\\x68656c6c6f20776f726c64"), S("{\"\\\\x01\",\"\\\\x\"}"), S("\"C:\\\\xampp\""),
	    S("\\x6"));
	assert_int_equal(data_row(f, &d, &body), 0);
	NO_COUNTS(f);

	/* an SSN: the style's digits kept in the hex too (redact here) */
	ROW(&body, S("\\x73736e203037382d30352d31313230"), SNULL, SNULL, SNULL);
	assert_int_equal(data_row(f, &d, &body), 1);
	EXPECT_ROW(&f->out, 3, S("\\x73736e202a2a2a2a"), SNULL, SNULL, SNULL);
	COUNTS(f, MASK_DET_US_SSN, 1);

	/* COPY: CSV leaves the backslash as it is, text escapes it */
	pgm_copy csv = {.csv = 1, .delimiter = ',', .quote = '"'};
	expect_copy(f, &csv, "1,\\x6140622e696f\n", "1,\\x2a2a2a2a\n");
	COUNTS(f, MASK_DET_EMAIL, 1);
	pgm_copy text = {.delimiter = '\t'};
	expect_copy(f, &text, "1\t\\\\x6140622e696f\n", "1\t\\\\x2a2a2a2a\n");
	COUNTS(f, MASK_DET_EMAIL, 1);
	expect_copy(f, &csv, "1,\\x68656c6c6f\n", NULL);
	NO_COUNTS(f);

	/* an error quoting a value cast to bytea and back to text */
	static const char err[] = "SERROR\0C22P02\0Minvalid input syntax for type integer: "
				  "\"\\x6140622e696f\"\0";
	f->out.len = 0;
	assert_int_equal(pgm_notice(&f->c, 'E', err, sizeof(err), &f->out), 1);
	assert_non_null(memmem(f->out.data, f->out.len, "\"\\x2a2a2a2a\"", 12));
	assert_null(memmem(f->out.data, f->out.len, "6140622e696f", 12));
	COUNTS(f, MASK_DET_EMAIL, 1);

	buf_free(&body);
	pgm_desc_free(&d);
}

PER_ENGINE(test_octal_runs, ST_REDACT)
{
	pgm_desc d = {0};
	/* text columns all: an array's and a JSON document's text as array[x::bytea]::text
	 * and to_json(x::bytea)::text give them (typed ones are taken apart first) */
	DESC(&d, {"t", 1, 1, 25, 0, PGM_SCAN}, {"a", 1, 2, 25, 0, PGM_SCAN}, {"j", 1, 3, 25, 0, PGM_SCAN},
	     {"plain", 1, 4, 25, 0, PGM_SCAN});
	buf body = {0};
	/* zoë@müller-bäckerei.de under bytea_output = escape: the cast to text (level 1), an
	 * array's element and a JSON string (level 2: each backslash doubled) */
	ROW(&body, S("Post an zo\\303\\253@m\\303\\274ller-b\\303\\244ckerei.de, R\\303\\274ckruf"),
	    S("{\"zo\\\\303\\\\253@m\\\\303\\\\274ller.de\",ok}"), S("{\"e\": \"<zo\\\\303\\\\253@x.de>\", \"n\": 1}"),
	    S("Gr\\303\\274\\303\\237e"));
	assert_int_equal(data_row(f, &d, &body), 1);
	EXPECT_ROW(&f->out, 3, S("Post an ****, R\\303\\274ckruf"), S("{\"****\",ok}"),
		   S("{\"e\": \"<****>\", \"n\": 1}"), S("Gr\\303\\274\\303\\237e"));
	COUNTS(f, MASK_DET_EMAIL, 3);
	/* with no json_keys, the row's backslash draws the look as well */
	f->c.json_keys = NULL;
	assert_int_equal(data_row(f, &d, &body), 1);
	EXPECT_ROW(&f->out, 3, S("Post an ****, R\\303\\274ckruf"), S("{\"****\",ok}"),
		   S("{\"e\": \"<****>\", \"n\": 1}"), S("Gr\\303\\274\\303\\237e"));
	COUNTS(f, MASK_DET_EMAIL, 3);
	f->c.json_keys = &json_keys;

	/* a quote escaped inside the element, a backslash (\\ at level 1, \\\\ at level 2)
	 * next to the run, a control character kept as its escape */
	ROW(&body, S("C:\\\\dir\\012zo\\303\\253@x.de"), S("{\"a\\\"zo\\\\303\\\\253@x.de\",\"b\\\\\\\\\"}"),
	    S("[\"x\\\\\\\\\", \"zo\\\\303\\\\253@x.de\\\\011\"]"), SNULL);
	assert_int_equal(data_row(f, &d, &body), 1);
	EXPECT_ROW(&f->out, 3, S("C:\\\\dir\\012****"), S("{\"a\\\"****\",\"b\\\\\\\\\"}"),
		   S("[\"x\\\\\\\\\", \"****\\\\011\"]"), SNULL);
	COUNTS(f, MASK_DET_EMAIL, 3);

	/* the same as an array and a JSON document, which are taken apart first */
	pgm_desc typed_d = {0};
	DESC(&typed_d, {"a", 1, 1, 1009, 0, PGM_SCAN}, {"j", 1, 2, 114, 0, PGM_SCAN});
	ROW(&body, S("{\"zo\\\\303\\\\253@m\\\\303\\\\274ller.de\",ok}"),
	    S("{\"e\": \"<zo\\\\303\\\\253@x.de>\", \"n\": 1}"));
	assert_int_equal(data_row(f, &typed_d, &body), 1);
	EXPECT_ROW(&f->out, 3, S("{\"****\",ok}"), S("{\"e\": \"<****>\", \"n\": 1}"));
	COUNTS(f, MASK_DET_EMAIL, 2);
	pgm_desc_free(&typed_d);

	/* an escaped quote right after the run (its backslash is no part of it), and
	 * level 4 (an array of records: each backslash doubled twice) */
	ROW(&body, S("{\"zo\\\\303\\\\253@m\\\\303\\\\274ller.de\\\" x\"}"),
	    S("{\"(\\\"zo\\\\\\\\303\\\\\\\\253@m\\\\\\\\303\\\\\\\\274ller.de\\\",1)\"}"),
	    S("zo\\\\\\\\303\\\\\\\\253@m\\\\\\\\303\\\\\\\\274ller.de"), SNULL);
	assert_int_equal(data_row(f, &d, &body), 1);
	EXPECT_ROW(&f->out, 3, S("{\"****\\\" x\"}"), S("{\"(\\\"****\\\",1)\"}"), S("****"), SNULL);
	COUNTS(f, MASK_DET_EMAIL, 3);

	/* a literal backslash ending the run before the element's closing quote, a comma
	 * ending it before what is no escape */
	ROW(&body, S("{\"zo\\\\303\\\\253@m\\\\303\\\\274ller.de\\\\\\\\\",x}"), S("zo\\303\\253@m\\303\\274ller.de,\\q"), SNULL, SNULL);
	assert_int_equal(data_row(f, &d, &body), 1);
	EXPECT_ROW(&f->out, 3, S("{\"****\\\\\\\\\",x}"), S("****,\\q"), SNULL, SNULL);
	COUNTS(f, MASK_DET_EMAIL, 2);

	/* not bytea's escape form, or nothing in it: left alone */
	ROW(&body, S("zo\\303\\253@m\\303\\274ller.de\\q"), S("{\"\\\\\\\\303 a\"}"),
	    S("\"\\\\303\\\\274\""), S("\\400 \\08"));
	assert_int_equal(data_row(f, &d, &body), 0);
	NO_COUNTS(f);

	/* COPY: text format doubles the backslash, CSV does not */
	pgm_copy csv = {.csv = 1, .delimiter = ',', .quote = '"'};
	expect_copy(f, &csv, "1,zo\\303\\253@x.de\n", "1,****\n");
	COUNTS(f, MASK_DET_EMAIL, 1);
	pgm_copy text = {.delimiter = '\t'};
	expect_copy(f, &text, "1\tzo\\\\303\\\\253@x.de\n", "1\t****\n");
	COUNTS(f, MASK_DET_EMAIL, 1);

	/* an error quoting it */
	static const char err[] = "SERROR\0C22P02\0Minvalid input syntax for type integer: "
				  "\"zo\\303\\253@x.de\"\0";
	f->out.len = 0;
	assert_int_equal(pgm_notice(&f->c, 'E', err, sizeof(err), &f->out), 1);
	assert_non_null(memmem(f->out.data, f->out.len, "\"****\"", 6));
	COUNTS(f, MASK_DET_EMAIL, 1);

	buf_free(&body);
	pgm_desc_free(&d);
}

PER_ENGINE(test_copy_partial, ST_PARTIAL)
{
	/* a column rule's field: a number's last four digits, nothing of anything else */
	static const uint8_t w0[] = {1};
	pgm_copy cp = {.csv = 1, .delimiter = ',', .quote = '"', .whole = w0, .n_whole = 1};
	expect_copy(f, &cp, "\"say \"\"hi\"\"\",1\n", "\"****\",1\n");
	COUNTS(f, C_COLUMN, 1);
	expect_copy(f, &cp, "\"4111,1111 1111 1111\",1\n", "\"****\",1\n"); /* "," is no separator of a number */
	COUNTS(f, C_COLUMN, 1);
	expect_copy(f, &cp, "\"(415) 555-0132\",1\n", "\"****0132\",1\n");
	COUNTS(f, C_COLUMN, 1);

	/* text format: the value's escapes undone first */
	static const uint8_t w1[] = {0, 1};
	pgm_copy bar = {.delimiter = '|', .quote = '"', .whole = w1, .n_whole = 2};
	expect_copy(f, &bar, "a|b\\|cde|d\n", "a|****|d\n");
	COUNTS(f, C_COLUMN, 1);
	expect_copy(f, &bar, "a|219-09-9999|d\n", "a|****9999|d\n");
	COUNTS(f, C_COLUMN, 1);
	expect_copy(f, &bar, "a|1234\\t5678 9012|d\n", "a|****|d\n"); /* a tab is no separator of a number */
	COUNTS(f, C_COLUMN, 1);
	/* a detector's match */
	pgm_copy none = {.delimiter = '\t', .quote = '"'};
	expect_copy(f, &none, "1\tto:\\tjohn.doe@example.com\n", "1\tto:\\t****\n");
	COUNTS(f, MASK_DET_EMAIL, 1);
	expect_copy(f, &none, "1\tssn 078-05-1120\n", "1\tssn ****1120\n");
	COUNTS(f, MASK_DET_US_SSN, 1);
}

/* ---- NotificationResponse ---- */

PER_ENGINE(test_notification, ST_REDACT)
{
	/* process id 12345, channel, payload: the detectors over both strings */
	static const char body[] = "\0\0\x30\x39" "ch a@b.io\0" "card 4111 1111 1111 1111, from 10.1.2.3";
	assert_int_equal(pgm_notification(&f->c, body, sizeof(body), &f->out), 1);
	static const char want[] = "A\0\0\0\x25" "\0\0\x30\x39" "ch ****\0" "card ****, from ****";
	assert_int_equal(f->out.len, sizeof(want));
	assert_memory_equal(f->out.data, want, sizeof(want));
	COUNTS(f, MASK_DET_EMAIL, 1, MASK_DET_CREDIT_CARD, 1, MASK_DET_IPV4, 1);
	/* nothing to mask: 0, out untouched */
	f->out.len = 0;
	static const char plain[] = "\0\0\0\1" "ch\0" "hello";
	assert_int_equal(pgm_notification(&f->c, plain, sizeof(plain), &f->out), 0);
	assert_int_equal(f->out.len, 0);
	NO_COUNTS(f);
	/* a trigger's pg_notify(ch, row_to_json(NEW)::text): json_keys over the document */
	static const char doc[] = "\0\0\0\1" "ch\0" "{\"id\": 7, \"token\": \"tk9\", \"note\": \"x\"}";
	assert_int_equal(pgm_notification(&f->c, doc, sizeof(doc), &f->out), 1);
	static const char doc_want[] = "A\0\0\0\x33" "\0\0\0\1" "ch\0" "{\"id\": 7, \"token\": \"****\", \"note\": \"x\"}";
	assert_int_equal(f->out.len, sizeof(doc_want));
	assert_memory_equal(f->out.data, doc_want, sizeof(doc_want));
	COUNTS(f, C_JSON, 1);
	f->out.len = 0;
	/* malformed: too short, a string without its NUL, bytes after the payload */
	assert_int_equal(pgm_notification(&f->c, "\0\0\0\1\0", 5, &f->out), -1);
	assert_int_equal(pgm_notification(&f->c, "\0\0\0\1" "ch", 6, &f->out), -1);
	assert_int_equal(pgm_notification(&f->c, "\0\0\0\1" "ch\0" "a@b.io", 13, &f->out), -1);
	assert_int_equal(pgm_notification(&f->c, "\0\0\0\1" "ch\0" "a@b.io\0x", 15, &f->out), -1);
	assert_int_equal(f->out.len, 0);
	NO_COUNTS(f);
}

/* ---- ParameterStatus ---- */

PER_ENGINE(test_parameter_status, ST_REDACT)
{
	/* set_config('application_name', email, false): the value masked, the name kept */
	static const char body[] = "application_name\0" "to john.doe@example.com";
	assert_int_equal(pgm_parameter_status(&f->c, body, sizeof(body), &f->out), 1);
	static const char want[] = "S\0\0\0\x1d" "application_name\0" "to ****";
	assert_int_equal(f->out.len, sizeof(want));
	assert_memory_equal(f->out.data, want, sizeof(want));
	COUNTS(f, MASK_DET_EMAIL, 1);
	/* a parameter's usual value: 0, out untouched */
	f->out.len = 0;
	static const char plain[] = "TimeZone\0" "Europe/Paris";
	assert_int_equal(pgm_parameter_status(&f->c, plain, sizeof(plain), &f->out), 0);
	static const char empty[] = "application_name\0";
	assert_int_equal(pgm_parameter_status(&f->c, empty, sizeof(empty), &f->out), 0);
	assert_int_equal(f->out.len, 0);
	NO_COUNTS(f);
	/* malformed: no name, no value, a value without its NUL, bytes after it */
	assert_int_equal(pgm_parameter_status(&f->c, "\0x\0", 3, &f->out), -1);
	assert_int_equal(pgm_parameter_status(&f->c, "name\0", 5, &f->out), -1);
	assert_int_equal(pgm_parameter_status(&f->c, "name\0" "a@b.io", 11, &f->out), -1);
	assert_int_equal(pgm_parameter_status(&f->c, "name\0" "a@b.io\0x", 13, &f->out), -1);
	assert_int_equal(pgm_parameter_status(&f->c, "", 0, &f->out), -1);
	assert_int_equal(f->out.len, 0);
	NO_COUNTS(f);
}

/* ---- captured rows as JSON ---- */

static void expect_json(const pgm_desc *d, const buf *body, const char *want)
{
	buf cap = {0};
	buf_append(&cap, "[", 1);
	assert_int_equal(pgm_row_json(d, body->data, body->len, &cap), 0);
	buf_append(&cap, "", 1);
	assert_string_equal(cap.data + 1, want);
	buf_free(&cap);
}

static void test_row_json(void **state)
{
	(void)state;
	pgm_desc d = {0};
	DESC(&d, {"t", 1, 1, 25, 0, 0}, {"i", 1, 2, 23, 1, 0}, {"n", 1, 3, 25, 0, 0}, {"j", 1, 4, 3802, 0, 0});
	buf body = {0};
	ROW(&body, S("h\xc3\xa9llo \"q\"\n"), S("\0\0\0\7"), SNULL, S("{\"a\": 1}"));
	expect_json(&d, &body, "[\"h\xc3\xa9llo \\\"q\\\"\\n\",{\"hex\":\"00000007\"},null,\"{\\\"a\\\": 1}\"]");
	/* not UTF-8 in a text column: hex; empty values */
	ROW(&body, S("\xff\xfe"), S(""), S(""), SNULL);
	expect_json(&d, &body, "[{\"hex\":\"fffe\"},{\"hex\":\"\"},\"\",null]");
	/* undescribed (no description, another count): every value as hex */
	ROW(&body, S("ab"), SNULL);
	expect_json(&d, &body, "[{\"hex\":\"6162\"},null]");
	expect_json(NULL, &body, "[{\"hex\":\"6162\"},null]");
	ROW(&body, S("ab"), SNULL, S("c"), S("d"));
	d.known = 0;
	expect_json(&d, &body, "[{\"hex\":\"6162\"},null,{\"hex\":\"63\"},{\"hex\":\"64\"}]");
	body.len = 2;
	body.data[0] = body.data[1] = 0;
	expect_json(NULL, &body, "[]");
	buf_free(&body);
	pgm_desc_free(&d);
}

/* ---- counters over several rows, both paths ---- */

PER_ENGINE(test_counts_add_up, ST_REDACT)
{
	pgm_desc d = {0};
	DESC(&d, {"a", 1, 1, 25, 0, PGM_SCAN}, {"b", 1, 2, 25, 0, PGM_WHOLE}, {"j", 1, 3, 3802, 0, PGM_SCAN},
	     {"n", 1, 4, 20, 1, PGM_SCAN});
	buf body = {0};
	char i8[8];
	for (int i = 0; i < 5; i++) {
		ROW(&body, S("a@b.io 078-05-1120, 10.0.0.1 c@d.io"), S("x"), S("{\"token\": 1, \"secret\": [2]}"),
		    be_int(i8, 8, 4111111111111111LL));
		assert_int_equal(data_row(f, &d, &body), 1);
		EXPECT_ROW(&f->out, 3, S("**** ****, **** ****"), S("****"), S("{\"token\": \"****\", \"secret\": \"****\"}"),
			   SNULL);
	}
	static const uint8_t w[] = {1};
	pgm_copy cp = {.delimiter = '\t', .quote = '"', .whole = w, .n_whole = 1};
	for (int i = 0; i < 3; i++)
		expect_copy(f, &cp, "x\t4111 1111 1111 1111\t{\"token\": 1}\n", "****\t****\t{\"token\": \"****\"}\n");
	COUNTS(f, MASK_DET_EMAIL, 10, MASK_DET_US_SSN, 5, MASK_DET_IPV4, 5, MASK_DET_CREDIT_CARD, 5 + 3,
	       C_COLUMN, 5 + 3, C_JSON, 10 + 3);

	/* counters are optional */
	f->c.counts = NULL;
	assert_int_equal(data_row(f, &d, &body), 1);
	expect_copy(f, &cp, "x\t4111 1111 1111 1111\t{\"token\": 1}\n", "****\t****\t{\"token\": \"****\"}\n");
	buf_free(&body);
	pgm_desc_free(&d);
}

/*
 * JSON inside other text — a log line's payload, documents one after
 * another, one cut short — has the values of its pairs under json_keys masked
 * where they stand; the rest of the text is as it came.
 */
/* A text value in, masked to want (NULL: unchanged), hits of them json_key's. */
typedef struct pair_case {
	const char *in, *want;
	int hits;
} pair_case;

/* Each case as the one text column of d's rows. */
static void expect_pairs(fx *f, const pgm_desc *d, const pair_case *cases, size_t n)
{
	buf body = {0};
	for (size_t i = 0; i < n; i++) {
		mkrow(&body, 1, (const val[]){{cases[i].in, (int32_t)strlen(cases[i].in)}});
		int r = data_row(f, d, &body);
		if (r != (cases[i].want != NULL))
			fail_msg("[%s]: data_row %d", cases[i].in, r);
		if (cases[i].want)
			expect_row(&f->out, 3, 1, (const val[]){{cases[i].want, (int32_t)strlen(cases[i].want)}});
		if (f->counts[C_JSON] != (uint32_t)cases[i].hits)
			fail_msg("[%s]: %u JSON values, want %d", cases[i].in, f->counts[C_JSON], cases[i].hits);
		memset(f->counts, 0, sizeof(f->counts));
	}
	buf_free(&body);
}

/* Pairs in text that is no JSON: the value given to a key a glob matches,
 * as configuration, logs and printouts write it. */
PER_ENGINE(test_text_pairs, ST_PARTIAL)
{
	pgm_desc d = {0};
	DESC(&d, {"t", 1, 1, 25, 0, PGM_SCAN});
	buf body = {0};
	static const pair_case cases[] = {
		{"GET /cb?token=qs4567&x=1 200", "GET /cb?token=****&x=1 200", 1},
		{"level=info token=envtok55 user=bob", "level=info token=**** user=bob", 1},
		{"secret_pin: yaml9876\nother: 1", "secret_pin: ****\nother: 1", 1},
		{"{'token': 'py123', 'user': 'x', 'secret': b'by7'}", "{'token': '****', 'user': 'x', 'secret': b'****'}", 2},
		{":token => \"rb99\", 'Secret_A' => 'php 77'", ":token => \"****\", 'Secret_A' => '****'", 2},
		{"export TOKEN=\"tk 123\" && run", "export TOKEN=\"****\" && run", 1},
		{"f(token=abc) [token=x]", "f(token=****) [token=****]", 2},
		/* PHP's print_r and array subscripts (PHP, JavaScript, Python) */
		{"Array\n(\n    [token] => pr7788\n    [user] => bob\n)", "Array\n(\n    [token] => ****\n    [user] => bob\n)", 1},
		{"[secret_key:protected] => sk9", "[secret_key:protected] => ****", 1},
		{"$cfg['token'] = 'php55'; cfg[\"secret\"] = \"js66\"", "$cfg['token'] = '****'; cfg[\"secret\"] = \"****\"", 2},
		/* a dotted name by its last part, as properties files and flattened YAML write them */
		{"auth.token=dt1 app.secret_key: dt2 my.tokens=3 token.type=x", "auth.token=**** app.secret_key: **** my.tokens=3 token.type=x", 2},
		/* what an XML element holds, to its closing tag: a namespace prefix and attributes
		 * aside, elements in it too */
		{"<s:Body><ns1:Token a=\"1\">x1</ns1:Token><user>bob</user><tokens>5</tokens></s:Body>",
		 "<s:Body><ns1:Token a=\"1\">****</ns1:Token><user>bob</user><tokens>5</tokens></s:Body>", 1},
		{"<secret><pin>1</pin><x>2</x></secret> <user>u</user>", "<secret>****</secret> <user>u</user>", 1},
		{"<token/><token x=\"y\"/><token></token><Token>x</token> <token>never closed", NULL, 0},
		/* a key the globs do not match: pairs inside its value are read */
		{"a=token=n1 'note': 'token=n2'", "a=token=**** 'note': 'token=****'", 2},
		/* an object or a list to the bracket that closes it, or to the end */
		{"{'secret': {'pin': '1}2', 'x': [1, {'y': 2}]}, 'z': 3}", "{'secret': ****, 'z': 3}", 1},
		{"cfg secret=[1, 2] tail", "cfg secret=**** tail", 1},
		{"{'secret': {'pin': '1234', 'x': [1", "{'secret': ****", 1},
		/* the partial style keeps a number's last 4 digits, as for a document's value */
		{"secret_pin=12345678;", "secret_pin=****5678;", 1},
		/* JSON pairs first, then the others */
		{"b: {\"token\": \"j1\"} and token=p2", "b: {\"token\": \"****\"} and token=****", 2},
		/* JSON pairs escaped once more: to_json(text)::text, a record's or CSV's field */
		{"\"body: {\\\"token\\\": \\\"whfragtok6612\\\", \\\"n\\\": 1}\"",
		 "\"body: {\\\"token\\\": \\\"****\\\", \\\"n\\\": 1}\"", 1},
		{"(\"{\"\"secret\"\": {\"\"pin\"\": \"\"w}h\"\"}, \"\"token\"\": 42, \"\"n\"\": 2}\")",
		 "(\"{\"\"secret\"\": ****, \"\"token\"\": ****, \"\"n\"\": 2}\")", 2},
		/* a quote inside the string (\\\"): the value is masked to the line's end, none of it kept */
		{"{\\\"token\\\": \\\"a\\\\\\\"b-tail\\\", \\\"n\\\": 1}\nnext", "{\\\"token\\\": \\\"****\nnext", 1},
		/* none of these */
		{"token == x; token::Token; token://x", NULL, 0},
		{"token = null, secret: None, token=nil, 'token': true", NULL, 0},
		{"tokens=5 mytoken=7 token_type=bearer", NULL, 0},
		{"token=", NULL, 0},
		{"the token is gone", NULL, 0},
		{"[token]: x [token] = y [token]=>", NULL, 0},
	};
	expect_pairs(f, &d, cases, sizeof(cases) / sizeof(*cases));
	/* a value a detector masked first is not counted again */
	ROW(&body, S("mail token=a.b@example.com ok"));
	assert_int_equal(data_row(f, &d, &body), 1);
	EXPECT_ROW(&f->out, 3, S("mail token=**** ok"));
	COUNTS(f, MASK_DET_EMAIL, 1);
	/* brackets nested past what the pattern's stack holds: the rest of the text masked
	 * whole (or the value, cut short, to the text's end) — never relayed as it was */
	{
		buf deep = {0};
		buf_append(&deep, "a token=", 8);
		for (int k = 0; k < 200000; k++)
			buf_append(&deep, "{", 1);
		buf_append(&deep, " secret=abc", 11);
		mkrow(&body, 1, (const val[]){{deep.data, (int32_t)deep.len}});
		assert_int_equal(data_row(f, &d, &body), 1);
		const char *got = f->out.data + 3 + 11; /* (after out's 3 bytes) 'D', length, count, the value's length */
		size_t gl = f->out.len - 3 - 11;
		if (!(gl == 4 && memcmp(got, "****", 4) == 0) && !(gl == 12 && memcmp(got, "a token=****", 12) == 0))
			fail_msg("deep brackets: [%.*s]", (int)(gl > 40 ? 40 : gl), got);
		memset(f->counts, 0, sizeof(f->counts));
		buf_free(&deep);
	}
	/* a document's text is its pairs: the text is not read so... */
	ROW(&body, S("{\"a\": \"token=\", \"b\": \"x\"}"));
	assert_int_equal(data_row(f, &d, &body), 0);
	/* ... its strings are, one by one, by the in-place pass and by the tree walk alike
	 * (a JSON string's text, its escapes undone and written back) */
	pgm_desc dj = {0};
	DESC(&dj, {"j", 1, 1, 3802, 0, PGM_SCAN}, {"t", 1, 2, 25, 0, PGM_SCAN});
	for (int tree = 0; tree < 2; tree++) {
		f->c.json_tree = tree;
		ROW(&body, S("{\"url\": \"https://x/cb?token=u1&y=2\", \"l\": [\"say \\\"hi\\\" secret: s2\", 3]}"),
		    S("{\"cmd\": \"TOKEN=t3 run\", \"n\": \"token\"}"));
		assert_int_equal(data_row(f, &dj, &body), 1);
		EXPECT_ROW(&f->out, 3, S("{\"url\": \"https://x/cb?token=****&y=2\", \"l\": [\"say \\\"hi\\\" secret: ****\", 3]}"),
			   S("{\"cmd\": \"TOKEN=**** run\", \"n\": \"token\"}"));
		COUNTS(f, C_JSON, 3);
		ROW(&body, S("{\"token_type\": \"token\", \"x\": \"a=b\"}"), S("x"));
		assert_int_equal(data_row(f, &dj, &body), 0);
	}
	f->c.json_tree = 0;
	pgm_desc_free(&dj);
	/* without json_keys: as it came */
	f->c.json_keys = NULL;
	ROW(&body, S("token=abc"));
	assert_int_equal(data_row(f, &d, &body), 0);
	buf_free(&body);
	pgm_desc_free(&d);
}

PER_ENGINE(test_json_fragments, ST_REDACT)
{
	pgm_desc d = {0};
	DESC(&d, {"t", 1, 1, 25, 0, PGM_SCAN});
	buf body = {0};
	static const pair_case cases[] = {
		{"payload={\"token\": \"abc123\", \"user\": \"bob\"} sent", "payload={\"token\": \"****\", \"user\": \"bob\"} sent", 1},
		{"{\"token\":\"a\"}\n{\"token\":\"b\"}", "{\"token\":\"****\"}\n{\"token\":\"****\"}", 2},
		{"log {\"secret_pin\": \"12", "log {\"secret_pin\": \"****", 1},
		{"x {\"secret_cfg\": {\"pin\": 7, \"n\": [1]}, \"k\": 2} y", "x {\"secret_cfg\": \"****\", \"k\": 2} y", 1},
		{"x {\"secret_cfg\": {\"pin\": 7", "x {\"secret_cfg\": \"****\"", 1},
		{"x \"Secrets\" :\n[1, \"b\"] y", "x \"Secrets\" :\n\"****\" y", 1},
		{"a \"\\u0074oken\": \"v\" b", "a \"\\u0074oken\": \"****\" b", 1},
		{"a \"token\": null, \"Token\": 42, \"TOKEN\": true", "a \"token\": null, \"Token\": \"****\", \"TOKEN\": \"****\"", 2},
		{"a {\"token_type\": \"refresh\", \"x\": {\"token\": \"t\"}}", "a {\"token_type\": \"refresh\", \"x\": {\"token\": \"****\"}}", 1},
		{"a \"secret\": \"x\\\"y\" b", "a \"secret\": \"****\" b", 1},
		{"a \"note\": \"he said \\\"token\\\": x\" b", NULL, 0},
		/* (a bare name's pair is text_pairs': see test_text_pairs) */
		{"a \"token_type\": \"x\", token: y, \"token\" is", "a \"token_type\": \"x\", token: ****, \"token\" is", 1},
	};
	expect_pairs(f, &d, cases, sizeof(cases) / sizeof(*cases));
	/* a detector's match and a pair in one text */
	ROW(&body, S("to a@b.io: {\"token\": \"t1\"}"));
	assert_int_equal(data_row(f, &d, &body), 1);
	EXPECT_ROW(&f->out, 3, S("to ****: {\"token\": \"****\"}"));
	COUNTS(f, MASK_DET_EMAIL, 1, C_JSON, 1);
	/* ... inside a JSON document's string (a log line stored in a document, a document
	 * stored as a string), by the in-place pass and by the tree walk alike */
	pgm_desc dj = {0};
	DESC(&dj, {"j", 1, 1, 3802, 0, PGM_SCAN}, {"s", 1, 2, 3802, 0, PGM_SCAN});
	for (int tree = 0; tree < 2; tree++) {
		f->c.json_tree = tree;
		ROW(&body, S("{\"log\": \"body: {\\\"token\\\": \\\"t1\\\"}\", \"x\": [\"{\\\"secret\\\": 2}\", \"k\"]}"),
		    S("\"{\\\"token\\\": \\\"t2\\\", \\\"n\\\": 1}\""));
		assert_int_equal(data_row(f, &dj, &body), 1);
		EXPECT_ROW(&f->out, 3,
			   S("{\"log\": \"body: {\\\"token\\\": \\\"****\\\"}\", \"x\": [\"{\\\"secret\\\": \\\"****\\\"}\", \"k\"]}"),
			   S("\"{\\\"token\\\": \\\"****\\\", \\\"n\\\": 1}\""));
		COUNTS(f, C_JSON, 3);
		/* an escaped quote with no key under it: as it came */
		ROW(&body, S("{\"log\": \"say \\\"hi\\\": token\"}"), S("x"));
		assert_int_equal(data_row(f, &dj, &body), 0);
	}
	f->c.json_tree = 0;
	pgm_desc_free(&dj);
	/* ... inside an array's or a record's element, in text and binary: NULL with it */
	pgm_desc d2 = {0};
	DESC(&d2, {"ta", 1, 1, 1009, 0, PGM_SCAN}, {"rec", 1, 2, 2249, 0, PGM_SCAN}, {"bta", 1, 3, 1009, 1, PGM_SCAN},
	     {"plain", 1, 4, 1009, 0, PGM_SCAN}, {"bplain", 1, 5, 1009, 1, PGM_SCAN});
	buf b1 = {0}, b2 = {0};
	val bta = bin_array(&b1, 25, 1, (const int[]){1}, 1, (const val[]){S("body: {\"token\": \"t9\"}")});
	val bplain = bin_array(&b2, 25, 1, (const int[]){1}, 1, (const val[]){S("body: {\"theme\": \"t9\"}")});
	ROW(&body, S("{\"body: {\\\"token\\\": \\\"t9\\\"}\"}"), S("(1,\"body: {\"\"token\"\": \"\"t9\"\"}\")"), bta,
	    S("{\"body: {\\\"theme\\\": \\\"t9\\\"}\"}"), bplain);
	assert_int_equal(data_row(f, &d2, &body), 1);
	EXPECT_ROW(&f->out, 3, SNULL, SNULL, SNULL, S("{\"body: {\\\"theme\\\": \\\"t9\\\"}\"}"), bplain);
	COUNTS(f, C_JSON, 3);
	buf_free(&b1);
	buf_free(&b2);
	pgm_desc_free(&d2);
	/* without json_keys: as it came */
	f->c.json_keys = NULL;
	ROW(&body, S("payload={\"token\": \"abc123\"}"));
	assert_int_equal(data_row(f, &d, &body), 0);
	f->c.json_keys = &json_keys;
	buf_free(&body);
	pgm_desc_free(&d);
}

/* without json_keys: JSON is only scanned by the detectors */
PER_ENGINE(test_no_json_keys, ST_REDACT)
{
	f->c.json_keys = NULL;
	pgm_desc d = {0};
	DESC(&d, {"j", 1, 1, 3802, 0, PGM_SCAN}, {"t", 1, 2, 25, 0, PGM_SCAN});
	buf body = {0};
	ROW(&body, S("{\"token\": \"a@b.io\"}"), S("{\"token\": 1}"));
	assert_int_equal(data_row(f, &d, &body), 1);
	EXPECT_ROW(&f->out, 3, S("{\"token\": \"****\"}"), S("{\"token\": 1}"));
	COUNTS(f, MASK_DET_EMAIL, 1);
	/* a card as a JSON number in a jsonb column, an email after an escape's backslash:
	 * "****" there is no JSON, so the document's values are masked one by one; text
	 * stays as masked */
	ROW(&body, S("{\"card\": 4111111111111111}"), S("{\"card\": 4111111111111111}"));
	assert_int_equal(data_row(f, &d, &body), 1);
	EXPECT_ROW(&f->out, 3, S("{\"card\": \"****\"}"), S("{\"card\": ****}"));
	COUNTS(f, MASK_DET_CREDIT_CARD, 2);
	ROW(&body, S("{\"a\": \"x\\nfoo@b.io\"}"), S("{\"a\": \"x\\nfoo@b.io\"}"));
	assert_int_equal(data_row(f, &d, &body), 1);
	EXPECT_ROW(&f->out, 3, S("{\"a\": \"x\\n****\"}"), S("{\"a\": \"x\\****\"}"));
	COUNTS(f, MASK_DET_EMAIL, 2);
	/* ... where the escape made the address ("x\n" then "@b.io": the document's
	 * string holds none), the document goes out as it came, and counts nothing */
	ROW(&body, S("{\"a\": \"x\\n@b.io\"}"), S("{\"a\": \"x\\n@b.io\"}"));
	assert_int_equal(data_row(f, &d, &body), 1);
	EXPECT_ROW(&f->out, 3, S("{\"a\": \"x\\n@b.io\"}"), S("{\"a\": \"x\\****\"}"));
	COUNTS(f, MASK_DET_EMAIL, 1);
	ROW(&body, S("{\"a\": \"x\\n@b.io\"}"), S("{}"));
	assert_int_equal(data_row(f, &d, &body), 0);
	NO_COUNTS(f);
	pgm_copy none = {.delimiter = '\t', .quote = '"'};
	expect_copy(f, &none, "{\"token\": 1}\n", NULL);
	buf_free(&body);
	pgm_desc_free(&d);
}

/* An ErrorResponse body: its fields, each "code byte + text", then the final NUL. */
static size_t error_body(char *b, size_t cap, const char *code, const char *detail)
{
	int n = snprintf(b, cap, "SERROR%cC%s%cMnew row violates a constraint%cD%s%c", 0, code, 0, 0, detail, 0);
	assert_true(n > 0 && (size_t)n < cap);
	b[n] = '\0';
	return (size_t)n + 1;
}

/* The text of field f of the ErrorResponse message m[0, n) (type and length first). */
static const char *error_field(const buf *m, char f)
{
	for (size_t p = 5; p < m->len && m->data[p]; p += strlen(m->data + p) + 1)
		if (m->data[p] == f)
			return m->data + p + 1;
	return NULL;
}

/*
 * Errors and notices: detectors over every field; under column rules
 * (row_details) a constraint's DETAIL, which quotes the failing row's every
 * column (a column rule's, no detector's), is replaced whole.
 */
PER_ENGINE(test_notice, ST_REDACT)
{
	char b[256];
	static const char row[] = "Failing row contains (null, CorrectHorseBatteryStaple, a@b.io).";
	size_t n = error_body(b, sizeof(b), "23502", row);
	assert_int_equal(pgm_notice(&f->c, 'E', b, n, &f->out), 1);
	assert_int_equal(f->out.data[0], 'E');
	assert_int_equal(pg_be32(f->out.data + 1), f->out.len - 1);
	assert_string_equal(error_field(&f->out, 'D'), "Failing row contains (null, CorrectHorseBatteryStaple, ****).");
	assert_string_equal(error_field(&f->out, 'C'), "23502");
	COUNTS(f, MASK_DET_EMAIL, 1);
	f->c.row_details = 1;
	f->out.len = 0;
	assert_int_equal(pgm_notice(&f->c, 'E', b, n, &f->out), 1);
	assert_null(strstr(error_field(&f->out, 'D'), "CorrectHorse"));
	assert_string_equal(error_field(&f->out, 'M'), "new row violates a constraint");
	assert_int_equal(pg_be32(f->out.data + 1), f->out.len - 1);
	NO_COUNTS(f);
	n = error_body(b, sizeof(b), "23505", "Key (api_key)=(ak_9Z8Y7X6W5V4U3T2S1R0Q) already exists.");
	f->out.len = 0;
	assert_int_equal(pgm_notice(&f->c, 'E', b, n, &f->out), 1);
	assert_null(strstr(error_field(&f->out, 'D'), "ak_9Z8Y"));
	/* a view's WITH CHECK OPTION quotes the base table's row, the view's hidden columns too */
	n = error_body(b, sizeof(b), "44000", "Failing row contains (-1, CorrectHorseBatteryStaple, ak_9Z8Y).");
	f->out.len = 0;
	assert_int_equal(pgm_notice(&f->c, 'E', b, n, &f->out), 1);
	assert_string_equal(error_field(&f->out, 'D'), "(the row's values are masked by warden)");
	/* with transforms: refuse and no column rules: each value is cut to 64 bytes, a piece */
	f->c.row_details = 0;
	f->c.piece_details = 1;
	n = error_body(b, sizeof(b), "23514", "Failing row contains (7, Post an zoë@müller-bäckerei...).");
	f->out.len = 0;
	assert_int_equal(pgm_notice(&f->c, 'E', b, n, &f->out), 1);
	assert_string_equal(error_field(&f->out, 'D'), "(the row's values are masked by warden)");
	f->c.piece_details = 0;
	f->c.row_details = 1;
	/* other classes' details: the detectors only */
	n = error_body(b, sizeof(b), "22P02", "the value CorrectHorse");
	f->out.len = 0;
	assert_int_equal(pgm_notice(&f->c, 'E', b, n, &f->out), 0);
	assert_int_equal(f->out.len, 0);
	/* with transforms: refuse, a data exception's DETAIL and CONTEXT quote a piece of a
	 * value (ssn::jsonb: Token "-09" is invalid; JSON data, line 1: 219-09...) */
	static const char json_err[] = "SERROR\0C22P02\0Minvalid input syntax for type json\0"
				       "DToken \"-09\" is invalid.\0WJSON data, line 1: 219-09...\0";
	f->c.piece_details = 1;
	f->out.len = 0;
	assert_int_equal(pgm_notice(&f->c, 'E', json_err, sizeof(json_err), &f->out), 1);
	assert_int_equal(pg_be32(f->out.data + 1), f->out.len - 1);
	assert_string_equal(error_field(&f->out, 'D'), "(masked by warden: it may quote a piece of a value)");
	assert_string_equal(error_field(&f->out, 'W'), "(masked by warden: it may quote a piece of a value)");
	assert_string_equal(error_field(&f->out, 'M'), "invalid input syntax for type json");
	NO_COUNTS(f);
	f->out.len = 0; /* not a data exception: as it was */
	assert_int_equal(pgm_notice(&f->c, 'E', b, error_body(b, sizeof(b), "42P01", "Token x"), &f->out), 0);
	f->c.piece_details = 0;
	f->out.len = 0;
	assert_int_equal(pgm_notice(&f->c, 'E', json_err, sizeof(json_err), &f->out), 0);
	/* a failed cast quotes a document's text, a JSON error's CONTEXT a document cut
	 * short: json_keys over every field, as over a row's text */
	f->c.row_details = 0;
	static const char cast[] = "SERROR\0C22P02\0Minvalid input syntax for type integer: "
				   "\"{\"level\": 3, \"secret_pin\": \"pinalpha7731\"}\"\0"
				   "WJSON data, line 1: {\"a\": 1, \"token\": \"tkvalue9876\0";
	f->out.len = 0;
	assert_int_equal(pgm_notice(&f->c, 'N', cast, sizeof(cast), &f->out), 1);
	assert_int_equal(f->out.data[0], 'N');
	assert_int_equal(pg_be32(f->out.data + 1), f->out.len - 1);
	assert_string_equal(error_field(&f->out, 'M'),
			    "invalid input syntax for type integer: \"{\"level\": 3, \"secret_pin\": \"****\"}\"");
	assert_string_equal(error_field(&f->out, 'W'), "JSON data, line 1: {\"a\": 1, \"token\": \"****");
	assert_string_equal(error_field(&f->out, 'C'), "22P02");
	COUNTS(f, C_JSON, 2);
	/* malformed: a field without its NUL */
	f->out.len = 0;
	assert_int_equal(pgm_notice(&f->c, 'E', "C23502\0DFailing row", 19, &f->out), -1);
	assert_int_equal(f->out.len, 0);
}

/* json_keys globs: a key's value is masked exactly when fnmatch (case-insensitive) says the key matches */
PER_ENGINE(test_key_globs, ST_REDACT)
{
	static const char *const globs[] = {"token", "secret*", "*key", "pa?s", "[Aa]pi*", "\\*x", "Nested", "",
					    "*", "t*n", "@x", "`x", "{a"};
	static const char *const keys[] = {"token", "TOKEN", "tokens", "toke", "secret", "Secret_p", "sec", "api_key",
					   "KEY", "pass", "PAss", "pa", "api", "Apiary", "*x", "ax", "nested",
					   "xnested", "t", "", "tin", "@x", "`x", "@X", "[a", "{a", "{A"};
	pgm_desc d = {0};
	DESC(&d, {"j", 1, 1, 3802, 0, PGM_SCAN});
	buf body = {0}, doc = {0}, want = {0};
	for (size_t g = 0; g < sizeof(globs) / sizeof(*globs); g++) {
		char *one[] = {(char *)globs[g]};
		config_strlist keyset = {one, 1};
		f->c.json_keys = &keyset;
		for (size_t k = 0; k < sizeof(keys) / sizeof(*keys); k++) {
			doc.len = want.len = 0;
			buf_printf(&doc, "{\"%s\": 1}", keys[k]);
			buf_printf(&want, "{\"%s\": \"****\"}", keys[k]);
			ROW(&body, ((val){doc.data, (int32_t)doc.len}));
			bool match = fnmatch(globs[g], keys[k], FNM_CASEFOLD) == 0;
			int rc = data_row(f, &d, &body);
			if (rc != (match ? 1 : 0))
				fail_msg("glob \"%s\", key \"%s\": rc %d, fnmatch %s", globs[g], keys[k], rc,
					 match ? "matches" : "does not");
			if (match) {
				EXPECT_ROW(&f->out, 3, ((val){want.data, (int32_t)want.len}));
				COUNTS(f, C_JSON, 1);
			}
		}
	}
	f->c.json_keys = &json_keys;
	buf_free(&body);
	buf_free(&doc);
	buf_free(&want);
	pgm_desc_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_email),
		cmocka_unit_test(test_null_and_whole),
		cmocka_unit_test(test_whole_partial),
		cmocka_unit_test(test_batch_skips),
		cmocka_unit_test(test_length_bytes),
		cmocka_unit_test(test_rows_engines_agree),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_binary_text_jsonb),
		cmocka_unit_test(test_jsonb_text),
		cmocka_unit_test(test_bytea_text),
		cmocka_unit_test(test_hex_runs),
		cmocka_unit_test(test_octal_runs),
		cmocka_unit_test(test_inet),
		cmocka_unit_test(test_containers),
		cmocka_unit_test(test_undescribed),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_row_description),
		cmocka_unit_test(test_copy_text),
		cmocka_unit_test(test_copy_csv),
		cmocka_unit_test(test_copy_partial),
		cmocka_unit_test(test_notification),
		cmocka_unit_test(test_parameter_status),
		cmocka_unit_test(test_row_json),
		cmocka_unit_test(test_counts_add_up),
		cmocka_unit_test(test_no_json_keys),
		cmocka_unit_test(test_json_fragments),
		cmocka_unit_test(test_text_pairs),
		cmocka_unit_test(test_notice),
		cmocka_unit_test(test_key_globs),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
