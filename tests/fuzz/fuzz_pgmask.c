/*
 * libFuzzer target for src/proto/pg/pgmask.c (the mask stage on the pg wire).
 *
 * Input layout:
 *   byte 0         bits 0-3: column count of the description (mod 9);
 *                  bit 4: no RowDescription (d.known = 0); bit 5: partial
 *                  style instead of redact; bit 6: no json_keys; bit 7: COPY
 *                  rows as CSV instead of text
 *   next n bytes   per column: bits 0-3 type (index into types[]), bit 4
 *                  binary format, bit 5 column rule (PGM_WHOLE); in the first
 *                  one, bit 6: COPY masks every field, bit 7: another
 *                  delimiter ('|' or ';')
 *   the rest       a DataRow body; then the same bytes as a CopyData body,
 *                  and as a RowDescription body
 * The body is copied into an exact-size heap buffer, so ASan flags any read
 * past its end.
 *
 * Invariants (abort on violation), for every profile run by both engines
 * (Hyperscan and PCRE2) plus a second Hyperscan run:
 *   - the engines and the repeat give identical returns, bytes and counts,
 *     and so does the row scanned with others around it (pgm_batch);
 *   - pgm_data_row returns -1 exactly when the body is not a well-formed
 *     DataRow (checked by an independent parser here), and so does
 *     pgm_row_json; 0 and -1 leave out untouched, 0 with every count 0;
 *   - 1: out holds one DataRow (type 'D', length field = its size - 1, the
 *     input's column count, every value -1 or within bounds, no trailing
 *     bytes) and some count is > 0; a described row with a non-NULL value
 *     under a column rule always returns 1;
 *   - NULL stays NULL; a value warden cannot rewrite (no description, a
 *     strictly parsed type in text, a non-text type in binary) is either
 *     byte-identical or NULL; a text-like value in text format is never
 *     NULL (a type warden does not know may be: a record or an array holding
 *     JSON with a masked key); a column rule gives exactly the masked form
 *     (redact: "****", "\"****\"" for JSON, "\\x2a2a2a2a" for text bytea) or
 *     NULL for types that cannot hold it; a JSON value that jansson reads
 *     stays one jansson reads (binary jsonb: version byte 1 kept); a bytea
 *     "\x" hex value stays "\x" hex;
 *   - pgm_copy_data returns 0 or 1; 0 leaves out untouched and counts 0; 1
 *     gives one CopyData (type 'd', length field right) whose rows have the
 *     input's shape (with a pgm_copy: as many rows, as many fields in each,
 *     split the way pgmask.c splits them: quotes, escapes, delimiters);
 *   - pgm_row_description accepts only bodies of at least 2 + 19 bytes per
 *     column;
 *   - pgm_notification returns -1 exactly when the body is not a process id
 *     and two NUL-terminated strings; 1 gives one NotificationResponse of the
 *     same process id and two strings, its length right; both engines alike;
 *   - pgm_parameter_status returns -1 exactly when the body is not a
 *     non-empty name and a value, each NUL-terminated; 1 gives one
 *     ParameterStatus of the same name and one value, its length right;
 *     both engines alike;
 *   - pgm_notice (column rules and transforms: refuse on: row_details,
 *     piece_details) returns -1 only when the body is not NUL-terminated
 *     fields then a NUL, 1 only when it is (0 leaves out untouched: a
 *     malformed body nothing matched in is relayed); 1 gives one message of
 *     the type, its length right, the same field codes in the same order,
 *     and no DETAIL of a class-23 error left as it was; both engines alike.
 */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/pg/codec.h"
#include "proto/pg/pgmask.h"

#define X(id, name) name,
static const char *const all_names[] = {MASK_DETECTORS(X)};
#undef X

enum { T_BOOL = 16, T_BYTEA = 17, T_INT8 = 20, T_INT2 = 21, T_INT4 = 23, T_TEXT = 25, T_JSON = 114,
       T_FLOAT8 = 701, T_INET = 869, T_VARCHAR = 1043, T_TIMESTAMP = 1114, T_NUMERIC = 1700, T_JSONB = 3802,
       T_INT8_ARRAY = 1016, T_INT8_RANGE = 3926 };
/* 0: a type warden does not know (in binary, an array or a record is taken apart by its form) */
static const uint32_t types[16] = {T_TEXT, T_VARCHAR, T_JSON, T_JSONB, T_BYTEA, T_INT8, T_INT4, T_NUMERIC,
				   T_INET, T_BOOL, 0, T_INT2, T_FLOAT8, T_TIMESTAMP, T_INT8_ARRAY, T_INT8_RANGE};

#define N_COUNTS (MASK_DET_COUNT + PGM_COUNT_EXTRA)

static mask_profile *prof[2][2];   /* [partial][engine] */
static mask_scratch *scr[2][2];
static char *key_globs[] = {"secret*", "token", "pass?ord"};
static const config_strlist keys = {key_globs, 3};

static void init(void)
{
	static const mask_engine eng[2] = {MASK_ENGINE_HYPERSCAN, MASK_ENGINE_PCRE2};
	char err[256];
	char **lits;
	size_t n_lits = mask_key_literals((const char *const *)key_globs, 3, &lits);
	for (int s = 0; s < 2; s++)
		for (int e = 0; e < 2; e++) {
			mask_spec spec = {
				.detectors = all_names,
				.n_detectors = MASK_DET_COUNT,
				.hint_literals = (const char *const *)lits,
				.n_hint_literals = n_lits,
				.style = s ? MASK_STYLE_PARTIAL : MASK_STYLE_REDACT,
				.engine = eng[e],
			};
			prof[s][e] = mask_profile_new(&spec, err, sizeof(err));
			if (!prof[s][e])
				abort();
			scr[s][e] = mask_scratch_new(prof[s][e]);
			if (!scr[s][e])
				abort();
		}
	mask_literals_free(lits, n_lits);
}

/* ---- helpers ---- */

static int32_t be32(const char *p)
{
	return (int32_t)(((uint32_t)(unsigned char)p[0] << 24) | ((uint32_t)(unsigned char)p[1] << 16) |
			 ((uint32_t)(unsigned char)p[2] << 8) | (unsigned char)p[3]);
}

typedef struct rowv {
	const char *p;
	int32_t n;      /* -1: NULL */
} rowv;

/* An independent DataRow parser: the values, or -1 when malformed. *v is malloc'd. */
static int parse_row(const char *b, size_t len, rowv **v, int *count)
{
	*v = NULL;
	*count = 0;
	if (len < 2)
		return -1;
	int n = (int16_t)(((unsigned)(unsigned char)b[0] << 8) | (unsigned char)b[1]);
	if (n < 0)
		return -1;
	*v = calloc((size_t)n + 1, sizeof(**v));
	if (!*v)
		abort();
	size_t p = 2;
	for (int i = 0; i < n; i++) {
		if (len - p < 4)
			return -1;
		int32_t l = be32(b + p);
		p += 4;
		if (l < -1 || (l > 0 && (size_t)l > len - p))
			return -1;
		(*v)[i].n = l;
		(*v)[i].p = b + p;
		if (l > 0)
			p += (size_t)l;
	}
	if (p != len)
		return -1;
	*count = n;
	return 0;
}

static int same(rowv a, rowv b)
{
	return a.n == b.n && (a.n <= 0 || memcmp(a.p, b.p, (size_t)a.n) == 0);
}

static int is_json_text(const char *p, size_t n)
{
	json_error_t err;
	json_t *j = json_loadb(p, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
	json_decref(j);
	return j != NULL;
}

static int hexdig(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int is_bytea_hex(const char *p, int32_t n)
{
	if (n < 2 || p[0] != '\\' || p[1] != 'x' || (n - 2) % 2)
		return 0;
	for (int32_t i = 2; i < n; i++)
		if (!hexdig(p[i]))
			return 0;
	return 1;
}

static int text_like(uint32_t t)
{
	return t == T_TEXT || t == T_VARCHAR || t == T_JSON || t == T_JSONB || t == T_BYTEA;
}

/* Of the types in types[]: strictly parsed in text (pgmask.c's strict_text). */
static int strict_text(uint32_t t)
{
	return t == T_BOOL || t == T_INT8 || t == T_INT2 || t == T_INT4 || t == T_NUMERIC || t == T_INET ||
	       t == T_FLOAT8 || t == T_TIMESTAMP || t == T_INT8_ARRAY || t == T_INT8_RANGE;
}

static void check_counts(const uint32_t *counts, int rc)
{
	uint64_t total = 0;
	for (size_t i = 0; i < N_COUNTS; i++)
		total += counts[i];
	if (rc == 0 && total != 0)
		abort();
	if (rc == 1 && total == 0)
		abort();
}

/* ---- DataRow ---- */

typedef struct result {
	int rc;
	buf out;
	uint32_t counts[N_COUNTS];
} result;

static void run_row(int style, int e, const config_strlist *jk, const pgm_desc *d, const char *body, size_t len,
		    result *r)
{
	pgm_ctx c = {.mp = prof[style][e], .scratch = scr[style][e], .json_keys = jk, .counts = r->counts};
	memset(r->counts, 0, sizeof(r->counts));
	r->out.len = 0;
	buf_append(&r->out, "#", 1);
	r->rc = pgm_data_row(&c, d, body, len, &r->out);
	pgm_ctx_release(&c);
	if (r->rc < -1 || r->rc > 1)
		abort();
	if (r->out.len < 1 || r->out.data[0] != '#')
		abort();
	if (r->rc != 1 && r->out.len != 1)
		abort();
	if (r->rc != -1)
		check_counts(r->counts, r->rc);
}

static void check_row(int style, const pgm_desc *d, const char *body, size_t len, const result *r)
{
	rowv *in = NULL, *outv = NULL;
	int n_in, n_out;
	int ok = parse_row(body, len, &in, &n_in) == 0;
	if (!ok != (r->rc == -1))
		abort();
	int described = d && d->known && d->n == (size_t)n_in;
	if (ok && described && r->rc != 1)
		for (int i = 0; i < n_in; i++)
			if (d->cols[i].action == PGM_WHOLE && in[i].n >= 0)
				abort(); /* a column rule always masks */
	if (r->rc == 1) {
		const char *m = r->out.data + 1;
		size_t mlen = r->out.len - 1;
		if (mlen < 7 || m[0] != 'D' || be32(m + 1) != (int32_t)(mlen - 1))
			abort();
		if (parse_row(m + 5, mlen - 5, &outv, &n_out) != 0 || n_out != n_in)
			abort();
		for (int i = 0; i < n_in; i++) {
			rowv a = in[i], b = outv[i];
			if (a.n < 0) {
				if (b.n != -1)
					abort();
				continue;
			}
			if (!described) {
				if (!same(a, b) && b.n != -1)
					abort();
				continue;
			}
			const pgm_col *col = &d->cols[i];
			uint32_t t = col->type_oid;
			int binary = col->format != 0;
			if (col->action == PGM_WHOLE) {
				int nullable = !text_like(t) && (binary || strict_text(t));
				if (nullable != (b.n == -1))
					abort();
				if (nullable || style != 0)
					continue;
				const char *want = "****";
				if (t == T_JSON || (t == T_JSONB && !binary))
					want = "\"****\"";
				else if (t == T_JSONB)
					want = "\1\"****\"";
				else if (t == T_BYTEA && !binary)
					want = "\\x2a2a2a2a";
				if (b.n != (int32_t)strlen(want) || memcmp(b.p, want, strlen(want)) != 0)
					abort();
				continue;
			}
			if ((!binary && strict_text(t)) || (binary && !text_like(t))) {
				if (!same(a, b) && b.n != -1)
					abort();
				continue;
			}
			/* text is rewritten, never NULL (but an array or a record holding JSON
			 * under a masked key: a type neither text-like nor strict) */
			if (b.n == -1 && !(t == T_JSONB && binary) && !(t == T_BYTEA && !binary) && text_like(t))
				abort();
			/* JSON stays JSON */
			if ((t == T_JSON || (t == T_JSONB && !binary)) && is_json_text(a.p, (size_t)a.n) &&
			    !is_json_text(b.p, (size_t)b.n))
				abort();
			if (t == T_JSONB && binary && a.n >= 1 && a.p[0] == 1 &&
			    is_json_text(a.p + 1, (size_t)a.n - 1) &&
			    (b.n < 1 || b.p[0] != 1 || !is_json_text(b.p + 1, (size_t)b.n - 1)))
				abort();
			if (t == T_BYTEA && !binary && is_bytea_hex(a.p, a.n) && b.n != -1 && !is_bytea_hex(b.p, b.n))
				abort();
		}
	}
	free(in);
	free(outv);
}

static void same_result(const result *a, const result *b)
{
	if (a->rc != b->rc || a->out.len != b->out.len || memcmp(a->out.data, b->out.data, a->out.len) != 0 ||
	    memcmp(a->counts, b->counts, sizeof(a->counts)) != 0)
		abort();
}

/* ---- CopyData ---- */

/* The field count of each row of a COPY message, into sh; 0 when a quoted
 * field is never closed (not something PostgreSQL sends). */
static int copy_shape(const pgm_copy *cp, const char *in, size_t n, buf *sh)
{
	size_t pos = 0;
	uint32_t f = 0;
	for (;;) {
		size_t j = pos;
		if (cp->csv && pos < n && in[pos] == cp->quote) {
			const char esc = cp->escape ? cp->escape : cp->quote;
			for (j = pos + 1; j < n; j++) {
				if (in[j] == esc && j + 1 < n && (in[j + 1] == cp->quote || in[j + 1] == esc)) {
					j++;
					continue;
				}
				if (in[j] == cp->quote)
					break;
			}
			if (j >= n)
				return 0;
			j++;
		}
		while (j < n && in[j] != cp->delimiter && in[j] != '\n')
			j += !cp->csv && in[j] == '\\' && j + 1 < n ? 2 : 1;
		f++;
		if (j < n && in[j] == cp->delimiter) {
			pos = j + 1;
			continue;
		}
		buf_append(sh, &f, sizeof(f));
		f = 0;
		if (j + 1 >= n)
			break; /* one row ends at one newline */
		pos = j + 1;
	}
	return 1;
}

static void check_copy_shape(const pgm_copy *cp, const char *body, size_t len, const result *r)
{
	/* PostgreSQL ends every row with a newline; an unterminated last row that
	 * became empty would not count as a row */
	if (r->rc != 1 || !len || body[len - 1] != '\n')
		return;
	buf a = {0}, b = {0};
	if (!copy_shape(cp, body, len, &a)) {
		buf_free(&a);
		return;
	}
	copy_shape(cp, r->out.data + 6, r->out.len - 6, &b);
	if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0)
		abort();
	buf_free(&a);
	buf_free(&b);
}

static void run_copy(int style, int e, const config_strlist *jk, const pgm_copy *cp, const char *body, size_t len,
		     result *r)
{
	pgm_ctx c = {.mp = prof[style][e], .scratch = scr[style][e], .json_keys = jk, .counts = r->counts};
	memset(r->counts, 0, sizeof(r->counts));
	r->out.len = 0;
	buf_append(&r->out, "#", 1);
	r->rc = pgm_copy_data(&c, cp, body, len, &r->out);
	pgm_ctx_release(&c);
	if (r->rc != 0 && r->rc != 1)
		abort();
	if (r->out.len < 1 || r->out.data[0] != '#')
		abort();
	if (r->rc == 0 && r->out.len != 1)
		abort();
	if (r->rc == 1 && (r->out.len < 6 || r->out.data[1] != 'd' || be32(r->out.data + 2) != (int32_t)(r->out.len - 2)))
		abort();
	check_counts(r->counts, r->rc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!prof[0][0])
		init();
	uint8_t flags = size ? data[0] : 0;
	size_t ncols = (size_t)(flags & 15) % 9, hdr = 1 + ncols;
	if (hdr > size)
		hdr = size;

	pgm_col cols[8];
	uint8_t whole[8];
	uint32_t ftypes[8];     /* COPY: the same columns' types (a masked number is NULL) */
	memset(cols, 0, sizeof(cols));
	memset(whole, 0, sizeof(whole));
	for (size_t i = 0; i < ncols; i++) {
		uint8_t b = 1 + i < size ? data[1 + i] : 0;
		cols[i].table_oid = 16384;
		cols[i].attnum = (int16_t)(i + 1);
		cols[i].type_oid = types[b & 15];
		cols[i].format = (b >> 4) & 1;
		cols[i].action = (b >> 5) & 1 ? PGM_WHOLE : PGM_SCAN;
		whole[i] = cols[i].action == PGM_WHOLE;
		ftypes[i] = cols[i].type_oid;
	}
	pgm_desc d = {.cols = cols, .n = ncols, .cap = 8, .known = !(flags & 16)};
	int style = (flags >> 5) & 1;
	const config_strlist *jk = flags & 64 ? NULL : &keys;

	size_t len = size - hdr;
	char *body = malloc(len ? len : 1);
	if (!body)
		abort();
	if (len)
		memcpy(body, data + hdr, len);

	/* DataRow */
	result r[3];
	memset(r, 0, sizeof(r));
	run_row(style, 0, jk, &d, body, len, &r[0]);
	run_row(style, 1, jk, &d, body, len, &r[1]);
	run_row(style, 0, jk, &d, body, len, &r[2]);
	same_result(&r[0], &r[1]);
	same_result(&r[0], &r[2]);
	check_row(style, &d, body, len, &r[0]);

	/* the same row between other bytes (its reverse) as a read holds them,
	 * scanned at once (pgm_batch): the same result as its own scan */
	{
		size_t ml = 5 + len, tl = 3 * ml;
		char *msgs = malloc(tl);
		if (!msgs)
			abort();
		for (int k = 0; k < 3; k++) {
			char *m = msgs + (size_t)k * ml;
			uint32_t l = (uint32_t)(len + 4);
			m[0] = 'D';
			m[1] = (char)(l >> 24), m[2] = (char)(l >> 16), m[3] = (char)(l >> 8), m[4] = (char)l;
			for (size_t i = 0; i < len; i++)
				m[5 + i] = k == 1 ? body[len - 1 - i] : body[i];
		}
		/* rows taken in order (the first, then past the second to the
		 * third), then out of order (the first again), from one batch */
		static const int order[] = {0, 2, 0};
		pgm_ctx c = {.mp = prof[style][0], .scratch = scr[style][0], .json_keys = jk};
		pgm_batch(&c, &d, msgs, tl);
		for (size_t o = 0; o < sizeof(order) / sizeof(*order); o++) {
			result b;
			memset(&b, 0, sizeof(b));
			c.counts = b.counts;
			buf_append(&b.out, "#", 1);
			b.rc = pgm_data_row(&c, &d, msgs + (size_t)order[o] * ml + 5, len, &b.out);
			same_result(&r[0], &b);
			buf_free(&b.out);
		}
		pgm_batch_end(&c);
		pgm_ctx_release(&c);
		free(msgs);
	}

	/* without any description: the same checks */
	run_row(style, 1, jk, NULL, body, len, &r[1]);
	check_row(style, NULL, body, len, &r[1]);

	/* the captured-row JSON */
	buf cap = {0};
	buf_append(&cap, "[", 1);
	int jrc = pgm_row_json(&d, body, len, &cap);
	if ((jrc == -1) != (r[0].rc == -1))
		abort();
	if (jrc == 0) {
		json_error_t err;
		json_t *a = json_loadb(cap.data + 1, cap.len - 1, JSON_ALLOW_NUL, &err);
		rowv *v;
		int n;
		if (!json_is_array(a) || parse_row(body, len, &v, &n) != 0 || json_array_size(a) != (size_t)n)
			abort();
		free(v);
		json_decref(a);
	} else if (cap.len != 1) {
		abort();
	}
	buf_free(&cap);

	/* CopyData */
	uint8_t c0 = ncols && size > 1 ? data[1] : 0;
	pgm_copy cp = {
		.csv = (flags >> 7) & 1,
		.quote = '"',
		.escape = (c0 >> 4) & 1 ? '\\' : 0,
		.whole = whole,
		.n_whole = ncols,
		.types = ftypes,
		.n_types = (c0 >> 5) & 1 ? ncols : 0,
		.all_whole = (c0 >> 6) & 1,
	};
	cp.delimiter = cp.csv ? ((c0 >> 7) ? ';' : ',') : ((c0 >> 7) ? '|' : '\t');
	for (int k = 0; k < 2; k++) {
		const pgm_copy *cpp = k ? &cp : NULL;
		run_copy(style, 0, jk, cpp, body, len, &r[0]);
		run_copy(style, 1, jk, cpp, body, len, &r[1]);
		run_copy(style, 0, jk, cpp, body, len, &r[2]);
		same_result(&r[0], &r[1]);
		same_result(&r[0], &r[2]);
		if (cpp)
			check_copy_shape(cpp, body, len, &r[0]);
	}

	/* RowDescription */
	pgm_desc rd = {0};
	int drc = pgm_row_description(body, len, &rd);
	if (drc != 0 && drc != -1)
		abort();
	if (drc == 0 && (!rd.known || 2 + 19 * rd.n > len))
		abort();
	if (drc == -1 && (rd.known || rd.n))
		abort();
	pgm_desc_free(&rd);

	/* NotificationResponse: -1 exactly when the body is not a process id and
	 * two NUL-terminated strings; 1: the same process id, two strings, the
	 * length right; both engines alike */
	{
		const char *e1 = len > 4 ? memchr(body + 4, '\0', len - 4) : NULL;
		const char *e2 = e1 && (size_t)(e1 - body) + 1 < len ? memchr(e1 + 1, '\0', len - (size_t)(e1 - body) - 1) : NULL;
		int well = e2 && (size_t)(e2 - body) + 1 == len;
		result nr[2];
		memset(nr, 0, sizeof(nr));
		for (int e = 0; e < 2; e++) {
			pgm_ctx c = {.mp = prof[style][e], .scratch = scr[style][e], .counts = nr[e].counts};
			buf_append(&nr[e].out, "#", 1);
			nr[e].rc = pgm_notification(&c, body, len, &nr[e].out);
			pgm_ctx_release(&c);
		}
		same_result(&nr[0], &nr[1]);
		if ((nr[0].rc == -1) == well || nr[0].rc < -1 || nr[0].rc > 1)
			abort();
		if (nr[0].rc != 1 && nr[0].out.len != 1)
			abort();
		if (nr[0].rc == 1) {
			const char *m = nr[0].out.data + 1;
			size_t ml = nr[0].out.len - 1;
			if (ml < 5 + 4 + 2 || m[0] != 'A' || pg_be32(m + 1) != ml - 1 || memcmp(m + 5, body, 4) != 0 ||
			    m[ml - 1] != '\0')
				abort();
			const char *n1 = memchr(m + 9, '\0', ml - 9);
			if (!n1 || memchr(n1 + 1, '\0', (size_t)(m + ml - 1 - n1 - 1)) != NULL)
				abort();
		}
		buf_free(&nr[0].out);
		buf_free(&nr[1].out);
	}

	/* ParameterStatus: -1 exactly when the body is not a non-empty name and a
	 * value, each NUL-terminated; 1: the same name, one value, the length
	 * right; both engines alike */
	{
		const char *e1 = len ? memchr(body, '\0', len) : NULL;
		const char *e2 = e1 && e1 != body && (size_t)(e1 - body) + 1 < len
					 ? memchr(e1 + 1, '\0', len - (size_t)(e1 - body) - 1)
					 : NULL;
		int well = e2 && (size_t)(e2 - body) + 1 == len;
		result sr[2];
		memset(sr, 0, sizeof(sr));
		for (int e = 0; e < 2; e++) {
			pgm_ctx c = {.mp = prof[style][e], .scratch = scr[style][e], .counts = sr[e].counts};
			buf_append(&sr[e].out, "#", 1);
			sr[e].rc = pgm_parameter_status(&c, body, len, &sr[e].out);
			pgm_ctx_release(&c);
		}
		same_result(&sr[0], &sr[1]);
		if ((sr[0].rc == -1) == well || sr[0].rc < -1 || sr[0].rc > 1)
			abort();
		if (sr[0].rc != 1 && sr[0].out.len != 1)
			abort();
		if (sr[0].rc == 1) {
			const char *m = sr[0].out.data + 1;
			size_t ml = sr[0].out.len - 1, nl = (size_t)(e1 - body) + 1;
			if (ml < 5 + nl + 1 || m[0] != 'S' || pg_be32(m + 1) != ml - 1 || memcmp(m + 5, body, nl) != 0 ||
			    m[ml - 1] != '\0' || memchr(m + 5 + nl, '\0', ml - 5 - nl - 1) != NULL)
				abort();
		}
		buf_free(&sr[0].out);
		buf_free(&sr[1].out);
	}

	/* ErrorResponse (with column rules: a constraint's DETAIL replaced whole) */
	{
		int well = 0, class23 = 0;
		size_t fields = 0;
		const char *detail = NULL;
		for (size_t p = 0; p < len;) {
			if (body[p] == '\0') { /* the terminator: the last byte */
				well = p == len - 1;
				break;
			}
			const char *nul = memchr(body + p, '\0', len - p);
			if (!nul)
				break;
			if (body[p] == 'C' && nul - (body + p) >= 3 && body[p + 1] == '2' && body[p + 2] == '3')
				class23 = 1;
			if (body[p] == 'D' && !detail)
				detail = body + p + 1;
			fields++;
			p = (size_t)(nul - body) + 1;
		}
		result er[2];
		memset(er, 0, sizeof(er));
		for (int e = 0; e < 2; e++) {
			pgm_ctx c = {.mp = prof[style][e], .scratch = scr[style][e], .counts = er[e].counts, .row_details = 1,
				    .piece_details = 1};
			buf_append(&er[e].out, "#", 1);
			er[e].rc = pgm_notice(&c, 'E', body, len, &er[e].out);
			pgm_ctx_release(&c);
		}
		same_result(&er[0], &er[1]);
		if ((er[0].rc == -1 && well) || (er[0].rc == 1 && !well) || er[0].rc < -1 || er[0].rc > 1)
			abort();
		if (er[0].rc != 1 && er[0].out.len != 1)
			abort();
		if (well && class23 && detail && er[0].rc != 1)
			abort(); /* a constraint's DETAIL went out as it came */
		if (er[0].rc == 1) {
			const char *m = er[0].out.data + 1;
			size_t ml = er[0].out.len - 1, k = 0;
			if (ml < 6 || m[0] != 'E' || pg_be32(m + 1) != ml - 1 || m[ml - 1] != '\0')
				abort();
			for (size_t p = 5, q = 0; p < ml - 1; k++) {
				const char *nul = memchr(m + p, '\0', ml - p);
				if (!nul || nul == m + p || m[p] != body[q])
					abort(); /* fields end at their NUL, codes as they came */
				if (class23 && m[p] == 'D' && detail && strcmp(m + p + 1, detail) == 0 && *detail)
					abort();
				p = (size_t)(nul - m) + 1;
				q += strlen(body + q) + 1;
			}
			if (k != fields)
				abort();
		}
		buf_free(&er[0].out);
		buf_free(&er[1].out);
	}

	for (int i = 0; i < 3; i++)
		buf_free(&r[i].out);
	free(body);
	return 0;
}
