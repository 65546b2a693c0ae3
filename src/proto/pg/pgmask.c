/*
 * pg mask — DataRow / CopyData rewriting (see pgmask.h for the rules).
 */
#include "proto/pg/pgmask.h"

#include <fnmatch.h>
#include <jansson.h>
#include <pthread.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/util.h"
#include "proto/pg/codec.h"

/* jsmn (header only): a JSON tokenizer that gives each token's byte range */
#define JSMN_STATIC
#define JSMN_STRICT
#define JSMN_PARENT_LINKS
#include <jsmn.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

/* type OIDs (pg_type.dat) */
enum {
	T_BOOL = 16, T_BYTEA = 17, T_CHAR = 18, T_NAME = 19, T_INT8 = 20, T_INT2 = 21, T_INT4 = 23,
	T_TEXT = 25, T_OID = 26, T_XID = 28, T_JSON = 114, T_XML = 142, T_CIDR = 650, T_FLOAT4 = 700,
	T_FLOAT8 = 701, T_UNKNOWN = 705, T_MACADDR8 = 774, T_MONEY = 790, T_MACADDR = 829, T_INET = 869,
	T_BPCHAR = 1042, T_VARCHAR = 1043, T_DATE = 1082, T_TIME = 1083, T_TIMESTAMP = 1114,
	T_TIMESTAMPTZ = 1184, T_INTERVAL = 1186, T_TIMETZ = 1266, T_NUMERIC = 1700, T_UUID = 2950,
	T_JSONB = 3802, T_XID8 = 5069, T_JSON_ARRAY = 199, T_RECORD = 2249, T_JSONB_ARRAY = 3807,
};

static int text_like(uint32_t t)
{
	switch (t) {
	case T_TEXT: case T_VARCHAR: case T_BPCHAR: case T_NAME: case T_CHAR: case T_UNKNOWN:
	case T_XML: case T_JSON: case T_JSONB: case T_BYTEA:
		return 1;
	default:
		return 0;
	}
}

/* 1 when t is a built-in range, 2 a multirange (*sub: its subtype); else 0 (pg_range.dat). */
static int range_kind(uint32_t t, uint32_t *sub)
{
	switch (t) {
	case 3904: case 4451: *sub = T_INT4; break;             /* int4range, int4multirange */
	case 3906: case 4532: *sub = T_NUMERIC; break;          /* numrange */
	case 3908: case 4533: *sub = T_TIMESTAMP; break;        /* tsrange */
	case 3910: case 4534: *sub = T_TIMESTAMPTZ; break;      /* tstzrange */
	case 3912: case 4535: *sub = T_DATE; break;             /* daterange */
	case 3926: case 4536: *sub = T_INT8; break;             /* int8range */
	default: return 0;
	}
	return t < 4000 ? 1 : 2;
}

/*
 * What a built-in container of the types below holds (pg_type.dat): an
 * array's (int2vector's, oidvector's) element type, a range's or a
 * multirange's subtype. 0: t is none of them. (A switch: strict_text asks
 * this of every value of a type it does not list.)
 */
static uint32_t container_of(uint32_t t)
{
	switch (t) {
	case 22: case 1005: return T_INT2;
	case 30: case 1028: return T_OID;
	case 271: return T_XID8;
	case 651: return T_CIDR;
	case 775: return T_MACADDR8;
	case 791: return T_MONEY;
	case 1000: return T_BOOL;
	case 1007: return T_INT4;
	case 1011: return T_XID;
	case 1016: return T_INT8;
	case 1021: return T_FLOAT4;
	case 1022: return T_FLOAT8;
	case 1040: return T_MACADDR;
	case 1041: return T_INET;
	case 1115: return T_TIMESTAMP;
	case 1182: return T_DATE;
	case 1183: return T_TIME;
	case 1185: return T_TIMESTAMPTZ;
	case 1187: return T_INTERVAL;
	case 1231: return T_NUMERIC;
	case 1270: return T_TIMETZ;
	case 2951: return T_UUID;
	/* arrays of the ranges and of the multiranges */
	case 3905: return 3904;
	case 3907: return 3906;
	case 3909: return 3908;
	case 3911: return 3910;
	case 3913: return 3912;
	case 3927: return 3926;
	case 6150: return 4451;
	case 6151: return 4532;
	case 6152: return 4533;
	case 6153: return 4534;
	case 6155: return 4535;
	case 6157: return 4536;
	default: {
		uint32_t sub;
		return range_kind(t, &sub) ? sub : 0;
	}
	}
}

/* Types whose text form clients parse strictly: a masked value would break
 * them; so would one inside an array or a range of them ({****1111} is no
 * int8[]). */
static int strict_text(uint32_t t)
{
	switch (t) {
	case T_BOOL: case T_INT8: case T_INT2: case T_INT4: case T_OID: case T_XID: case T_XID8:
	case T_FLOAT4: case T_FLOAT8: case T_NUMERIC: case T_MONEY: case T_DATE: case T_TIME:
	case T_TIMETZ: case T_TIMESTAMP: case T_TIMESTAMPTZ: case T_INTERVAL: case T_UUID:
	case T_INET: case T_CIDR: case T_MACADDR: case T_MACADDR8:
		return 1;
	default: {
		uint32_t e = container_of(t);
		return e && strict_text(e);
	}
	}
}

/* ---- reading the body ---- */

static int16_t be16(const char *p)
{
	return (int16_t)(((unsigned)(unsigned char)p[0] << 8) | (unsigned char)p[1]);
}

int pgm_row_description(const char *body, size_t len, pgm_desc *d)
{
	d->n = 0;
	d->known = 0;
	if (len < 2)
		return -1;
	int16_t n = be16(body);
	if (n < 0)
		return -1;
	if ((size_t)n > d->cap) {
		d->cols = util_xrealloc(d->cols, (size_t)n * sizeof(*d->cols));
		d->cap = (size_t)n;
	}
	size_t p = 2;
	for (int16_t i = 0; i < n; i++) {
		const char *nul = memchr(body + p, '\0', len - p);
		if (!nul)
			return -1;
		p = (size_t)(nul - body) + 1;
		if (len - p < 18)
			return -1;
		pgm_col *c = &d->cols[i];
		c->table_oid = pg_be32(body + p);
		c->attnum = be16(body + p + 4);
		c->type_oid = pg_be32(body + p + 6);
		c->format = be16(body + p + 16);
		c->action = PGM_SCAN;
		p += 18;
	}
	if (p != len)
		return -1;
	d->n = (size_t)n;
	d->known = 1;
	return 0;
}

void pgm_desc_free(pgm_desc *d)
{
	free(d->cols);
	memset(d, 0, sizeof(*d));
}

void pgm_ctx_release(pgm_ctx *c)
{
	buf_free(&c->tmp);
	buf_free(&c->tmp2);
	buf_free(&c->det);
	buf_free(&c->tp);
	free(c->hints);
	c->hints = NULL;
	c->hints_cap = c->n_hints = 0;
	free(c->bhints);
	c->bhints = NULL;
	c->bhints_cap = c->n_bhints = 0;
	free(c->skip);
	c->skip = NULL;
	c->skip_cap = 0;
	free(c->jtoks);
	c->jtoks = NULL;
	c->jtoks_cap = 0;
	free(c->voff);
	c->voff = NULL;
	c->voff_cap = 0;
	free(c->brow_at);
	free(c->brow_voff);
	c->brow_at = NULL;
	c->brow_voff = NULL;
	c->brows_cap = 0;
	pcre2_match_data_free(c->kv_md);
	c->kv_md = NULL;
	pcre2_match_data_free(c->tp_md);
	c->tp_md = NULL;
	pcre2_match_data_free(c->ep_md);
	c->ep_md = NULL;
	pgm_batch_end(c);
}

/*
 * The detectors over in[0, n): with the row's hints when in is (a suffix of)
 * the value they were kept for, else with a scan of its own.
 */
static size_t detect(pgm_ctx *c, const char *in, size_t n, buf *out)
{
	if (c->vh_subj && in >= c->vh_subj && in + n == c->vh_subj + c->vh_len)
		return mask_text_hinted(c->mp, c->scratch, in, n, c->vh_n ? c->hints + c->vh_lo : NULL, c->vh_n,
					c->vh_off + (size_t)(in - c->vh_subj), out, c->counts);
	return mask_text(c->mp, c->scratch, in, n, out, c->counts);
}

/* ---- JSON: values under json_keys ---- */

static unsigned char fold(unsigned char ch)
{
	return ch >= 'A' && ch <= 'Z' ? (unsigned char)(ch | 0x20) : ch;
}

/* fnmatch(glob, k[0, kl), FNM_CASEFOLD) == 0, k copied to end with a NUL. */
static int glob_key(const char *glob, const char *k, size_t kl)
{
	char kb[256], *key = kl < sizeof(kb) ? kb : util_xmalloc(kl + 1);
	memcpy(key, k, kl);
	key[kl] = '\0';
	int r = fnmatch(glob, key, FNM_CASEFOLD) == 0;
	if (key != kb)
		free(key);
	return r;
}

/*
 * Whether key k[0, kl) (no NUL in it) matches one of the globs (fnmatch,
 * case-insensitive: ASCII, as FNM_CASEFOLD folds in the C locale). A glob's
 * plain characters up to its first wildcard are compared as they come, in
 * one pass: a glob with none, or whose only one is a "*" at its end, is
 * decided there; any other goes to fnmatch once its plain start matched.
 */
static int key_matches(const config_strlist *keys, const char *k, size_t kl)
{
	for (size_t i = 0; i < keys->n; i++) {
		const unsigned char *g = (const unsigned char *)keys->v[i];
		for (size_t j = 0;; j++) {
			unsigned char gc = g[j];
			if (gc == '\0') {
				if (j == kl)
					return 1;
				break;
			}
			if (gc == '*' || gc == '?' || gc == '[' || gc == '\\') {
				if ((gc == '*' && g[j + 1] == '\0') || glob_key(keys->v[i], k, kl))
					return 1;
				break;
			}
			if (j == kl || fold(gc) != fold((unsigned char)k[j]))
				break;
		}
	}
	return 0;
}

/* Whether v[0, n) holds a glob's longest literal run (case-insensitive). */
static int literal_in(const config_strlist *keys, const char *v, size_t n)
{
	for (size_t i = 0; i < keys->n; i++) {
		size_t l;
		const char *lit = mask_glob_literal(keys->v[i], &l);
		if (!lit || util_memcasemem(v, n, lit, l))
			return 1;
	}
	return 0;
}

/* Case-insensitive search of each glob's longest literal run: a cheap "cannot match". */
static int may_hold_key(const config_strlist *keys, const char *v, size_t n)
{
	return memchr(v, '\\', n) /* escapes can spell any key */ || literal_in(keys, v, n);
}

static json_t *masked_string(pgm_ctx *c, const char *v, size_t n)
{
	c->tmp2.len = 0;
	mask_whole(c->mp, v, n, &c->tmp2);
	json_t *s = json_stringn(c->tmp2.data, c->tmp2.len);
	return s ? s : json_string("****");
}

/* A masked value as a JSON string: quoted as is when it is plain ASCII, else
 * through jansson (escapes; "****" when it is not UTF-8), as walk_json has it. */
static void put_json_string(const char *v, size_t n, buf *out)
{
	size_t k = 0;
	while (k < n && v[k] >= 0x20 && v[k] < 0x7f && v[k] != '"' && v[k] != '\\')
		k++;
	if (k == n) {
		buf_append(out, "\"", 1);
		buf_append(out, v, n);
		buf_append(out, "\"", 1);
		return;
	}
	json_t *j = json_stringn(v, n);
	char *t = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;
	json_decref(j);
	buf_append(out, t ? t : "\"****\"", t ? strlen(t) : 6);
	free(t);
}

/* The document in[0, n) masked whole, as a JSON string, into out. */
static void json_whole(pgm_ctx *c, const char *in, size_t n, buf *out)
{
	c->tmp2.len = 0;
	mask_whole(c->mp, in, n, &c->tmp2);
	put_json_string(c->tmp2.data, c->tmp2.len, out);
}

static int json_valid(const char *in, size_t n)
{
	json_error_t err;
	json_t *doc = json_loadb(in, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
	json_decref(doc);
	return doc != NULL;
}

/* The value v under a json_keys key (not null), masked whole: a string's
 * text, anything else's compact JSON text, as a JSON string. */
static json_t *masked_key_value(pgm_ctx *c, json_t *v)
{
	if (json_is_string(v))
		return masked_string(c, json_string_value(v), json_string_length(v));
	char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	json_t *m = masked_string(c, t ? t : "", t ? strlen(t) : 0);
	free(t);
	return m;
}

static int keys_in_text(pgm_ctx *c, const char *v, size_t n, int is_json, buf *out);

/* How deep JSON stored in a JSON string is read (a document in a string in a document ...). */
#define JSON_IN_STRING_DEPTH 4

/*
 * A JSON string value's text s[0, n) (escapes undone) that holds JSON itself
 * — a log line with its payload, a document stored as a string: its values
 * under json_keys masked (a document's, or the pairs' inside other text)
 * into out as text, 1; 0 when there are none. What it reads with gets
 * tokens of its own: the caller's are in use.
 */
static int string_keys(pgm_ctx *c, const char *s, size_t n, buf *out)
{
	/* (no quote and no glob's literal: no key) */
	if (c->jdepth >= JSON_IN_STRING_DEPTH || (!memchr(s, '"', n) && !literal_in(c->json_keys, s, n)))
		return 0;
	void *toks = c->jtoks;
	size_t cap = c->jtoks_cap;
	c->jtoks = NULL;
	c->jtoks_cap = 0;
	/* (the in-place pass whichever way the outer document is read: the
	 * string's text is then the same either way, its spacing kept) */
	int tree = c->json_tree;
	c->json_tree = 0;
	c->jdepth++;
	int r = keys_in_text(c, s, n, 0, out);
	c->jdepth--;
	c->json_tree = tree;
	free(c->jtoks);
	c->jtoks = toks;
	c->jtoks_cap = cap;
	return r != 0;
}

/* A string value j holding JSON (string_keys): the masked string, or NULL. */
static json_t *string_keys_json(pgm_ctx *c, const json_t *j)
{
	buf m = {0};
	json_t *r = NULL;
	if (json_is_string(j) && string_keys(c, json_string_value(j), json_string_length(j), &m)) {
		r = json_stringn(m.data ? m.data : "", m.len);
		if (!r) /* (not UTF-8 any more: it was before, and the masking writes ASCII) */
			r = json_string("****");
	}
	buf_free(&m);
	return r;
}

static int walk_json(pgm_ctx *c, json_t *j, size_t *hits)
{
	int changed = 0;
	if (json_is_object(j)) {
		const char *k;
		json_t *v;
		json_object_foreach(j, k, v) {
			if (key_matches(c->json_keys, k, strlen(k))) {
				if (json_is_null(v))
					continue;
				json_object_set_new(j, k, masked_key_value(c, v));
				(*hits)++;
				changed = 1;
			} else {
				json_t *m = string_keys_json(c, v);
				if (m) { /* (v is freed: a string, nothing in it to walk) */
					json_object_set_new(j, k, m);
					changed = 1;
				} else {
					changed |= walk_json(c, v, hits);
				}
			}
		}
	} else if (json_is_array(j)) {
		size_t i;
		json_t *v;
		json_array_foreach(j, i, v) {
			json_t *m = string_keys_json(c, v);
			if (m) {
				json_array_set_new(j, i, m);
				changed = 1;
			} else {
				changed |= walk_json(c, v, hits);
			}
		}
	}
	return changed;
}

/*
 * The masked form of the value token t of in (a key's value): what walk_json
 * gives for the same value, the string's own text (escapes undone by jansson)
 * or the compact text of anything else. 0, or -1 when jansson cannot read it.
 */
static int json_fast_value(pgm_ctx *c, const char *in, const jsmntok_t *t, int bs, buf *out)
{
	const char *v = in + t->start;
	size_t n = (size_t)(t->end - t->start);
	char *text = NULL;
	json_t *j = NULL;
	if (t->type != JSMN_STRING || (bs && memchr(v, '\\', n))) {
		json_error_t err;
		size_t q = t->type == JSMN_STRING; /* the quotes around a string */
		j = json_loadb(v - q, n + 2 * q, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
		if (!j)
			return -1;
		if (json_is_string(j)) {
			v = json_string_value(j);
			n = json_string_length(j);
		} else {
			text = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
			v = text ? text : "";
			n = text ? strlen(text) : 0;
		}
	}
	c->tmp2.len = 0;
	mask_whole(c->mp, v, n, &c->tmp2);
	free(text);
	json_decref(j);
	put_json_string(c->tmp2.data, c->tmp2.len, out);
	return 0;
}

/*
 * jsmn closes an object or array by walking up the parent links from its
 * last token, so nesting D deep costs it up to D steps per "}" or "]" (a
 * 500 KB document 50,000 deep: 4.5 s). A document of JSON_FAST_SMALL bytes
 * or less is cheap whatever its shape (~0.1 ms at worst); a larger one
 * nested deeper than JSON_FAST_DEPTH goes to jansson, linear and
 * depth-limited.
 */
#define JSON_FAST_SMALL 1024
#define JSON_FAST_DEPTH 64

/* Whether "{" and "[" outside strings nest deeper than max in in[0, n)
 * (only a bound on jsmn's work: jsmn and jansson still judge the text). */
static bool json_deeper_than(const char *in, size_t n, size_t max)
{
	size_t depth = 0;
	bool str = false;
	for (size_t i = 0; i < n; i++) {
		char ch = in[i];
		if (str) {
			if (ch == '\\')
				i++;
			else if (ch == '"')
				str = false;
		} else if (ch == '"') {
			str = true;
		} else if (ch == '{' || ch == '[') {
			if (++depth > max)
				return true;
		} else if ((ch == '}' || ch == ']') && depth) {
			depth--;
		}
	}
	return false;
}

/*
 * The values under json_keys in the JSON document in[0, n), replaced where
 * they stand (jsmn gives each token's bytes): the rest of the document, its
 * spacing, key order and numbers, is copied as it was, and no tree is built
 * or written out. Returns 1 when out holds the rewritten document, 0 when no
 * key matched, -1 when this pass cannot tell (not one well-formed JSON value
 * as jsmn reads it, a NUL byte, a key with escapes, a value jansson cannot
 * read) or should not (a large document nested deep): then the tree walk
 * decides. Every matching key is masked, twice
 * present or not (jansson would keep the last).
 */
static int json_keys_fast(pgm_ctx *c, const char *in, size_t n, buf *out, size_t *hits)
{
	if (n > INT_MAX / 2 || memchr(in, '\0', n))
		return -1;
	if (n > JSON_FAST_SMALL && json_deeper_than(in, n, JSON_FAST_DEPTH))
		return -1;
	jsmn_parser ps;
	int nt;
	if (!c->jtoks) { /* (no tokens: jsmn would only count them) */
		c->jtoks_cap = 64;
		c->jtoks = util_xmalloc(c->jtoks_cap * sizeof(jsmntok_t));
	}
	for (;;) {
		jsmn_init(&ps);
		nt = jsmn_parse(&ps, in, n, c->jtoks, (unsigned)c->jtoks_cap);
		if (nt != JSMN_ERROR_NOMEM)
			break;
		if (c->jtoks_cap >= 1u << 20)
			return -1;
		c->jtoks_cap *= 4;
		c->jtoks = util_xrealloc(c->jtoks, c->jtoks_cap * sizeof(jsmntok_t));
	}
	if (nt < 1)
		return -1;
	const jsmntok_t *tk = c->jtoks;
	/* one value, as JSON has it (jsmn is lenient about where a token goes): an
	 * object's members are keys, strings with exactly one value; no other
	 * string or primitive has any; nothing but the first token at the top */
	for (int i = 0; i < nt; i++) {
		const jsmntok_t *t = &tk[i];
		bool ok;
		if (t->parent < 0)
			ok = i == 0;
		else if (tk[t->parent].type == JSMN_OBJECT)
			ok = t->type == JSMN_STRING && t->size == 1;
		else
			ok = (t->type != JSMN_STRING && t->type != JSMN_PRIMITIVE) || t->size == 0;
		if (!ok)
			return -1;
	}
	size_t start = out->len, last = 0;
	/* bs: a backslash anywhere (without one, no key or value has an escape) */
	int embedded = 0, bs = memchr(in, '\\', n) != NULL;
	int esc = bs && memmem(in, n, "\\\"", 2); /* (an escaped quote: JSON in a string) */
	*hits = 0;
	/* a row's value: the hints of its globs' literals say which strings hold one */
	int by_hints = c->vh_subj == in && c->vh_len == n && c->vh_by_hint;
	size_t lk = c->vh_lo, lend = c->vh_lo + c->vh_n;
	for (int i = 0; i < nt;) {
		const jsmntok_t *t = &tk[i];
		if (t->type != JSMN_STRING || t->parent < 0 || tk[t->parent].type != JSMN_OBJECT) {
			/* a string value holding JSON, its quotes escaped, or a
			 * glob's literal: pairs in text (string_keys) */
			const char *sv = in + t->start;
			size_t sl = (size_t)(t->end - t->start);
			int lit = 0;
			if (t->type == JSMN_STRING && by_hints) {
				while (lk < lend && (c->hints[lk].id < MASK_HINT_LITERAL ||
						     c->hints[lk].end - c->vh_off <= (size_t)t->start))
					lk++;
				lit = lk < lend && c->hints[lk].end - c->vh_off <= (size_t)t->end;
			} else if (t->type == JSMN_STRING) {
				lit = literal_in(c->json_keys, sv, sl);
			}
			if (t->type == JSMN_STRING && sl > 2 && ((esc && memmem(sv, sl, "\\\"", 2)) || lit)) {
				json_error_t err;
				json_t *dec = json_loadb(sv - 1, sl + 2, JSON_DECODE_ANY, &err);
				json_t *m = dec ? string_keys_json(c, dec) : NULL;
				json_decref(dec);
				if (!dec)
					goto cannot;
				if (m) {
					buf_append(out, in + last, (size_t)t->start - 1 - last);
					put_json_string(json_string_value(m), json_string_length(m), out);
					last = (size_t)t->end + 1;
					embedded = 1;
				}
				json_decref(m);
			}
			i++;
			continue;
		}
		/* a key; its value is the next token */
		size_t kl = (size_t)(t->end - t->start);
		if (bs && memchr(in + t->start, '\\', kl))
			goto cannot;
		int match = key_matches(c->json_keys, in + t->start, kl);
		const jsmntok_t *v = &tk[i + 1];
		/* past the value and everything in it */
		int j = i + 1;
		for (int need = 1; need > 0 && j < nt; j++)
			need += tk[j].size - 1;
		if (!match || (v->type == JSMN_PRIMITIVE && in[v->start] == 'n')) {
			i = match ? j : i + 1; /* null stays null (walk_json) */
			continue;
		}
		size_t vs = (size_t)v->start - (v->type == JSMN_STRING);
		size_t ve = (size_t)v->end + (v->type == JSMN_STRING);
		buf_append(out, in + last, vs - last);
		if (json_fast_value(c, in, v, bs, out) != 0)
			goto cannot;
		last = ve;
		(*hits)++;
		i = j;
	}
	if (!*hits && !embedded)
		return 0;
	buf_append(out, in + last, n - last);
	return 1;
cannot:
	out->len = start;
	return -1;
}

static int keys_in_hints(const pgm_ctx *c);

/* Whether one of c->hints[lo, lo + n) is a hint literal (a json_keys key). */
static int literal_among(const pgm_ctx *c, size_t lo, size_t n)
{
	for (size_t k = lo; k < lo + n; k++)
		if (c->hints[k].id >= MASK_HINT_LITERAL)
			return 1;
	return 0;
}

/* Whether in[0, n) holds a glob's literal: a row's value whose hints carry
 * every glob's literal (keys_in_hints) says so by its hints, as the row walk
 * does. */
static int value_has_literal(const pgm_ctx *c, const char *in, size_t n)
{
	if (c->vh_subj == in && c->vh_len == n && (c->vh_nokeys || c->vh_by_hint))
		return !c->vh_nokeys && literal_among(c, c->vh_lo, c->vh_n);
	return literal_in(c->json_keys, in, n);
}

/* Whether in[0, n) may hold a json_keys key (one spelled with an escape has
 * no literal: a backslash counts). */
static int value_may_hold_key(const pgm_ctx *c, const char *in, size_t n)
{
	return value_has_literal(c, in, n) || memchr(in, '\\', n) != NULL;
}

/*
 * The values under json_keys in the JSON document in[0, n), into out.
 * Returns 1 when out holds the rewritten document, 0 when nothing matched or
 * it is not JSON (is_json: the column's type says it is JSON, so a document
 * jansson cannot read, such as one with integers beyond 64 bits, is masked
 * whole rather than passed unread), 2 when out holds that whole masking.
 */
static int json_keys_pass(pgm_ctx *c, const char *in, size_t n, int is_json, buf *out)
{
	if (!c->json_keys || !c->json_keys->n || !value_may_hold_key(c, in, n))
		return 0;
	size_t hits = 0;
	int fast = c->json_tree ? -1 : json_keys_fast(c, in, n, out, &hits);
	if (c->jtoks_cap > 4096) { /* a large document's tokens are not kept for the session */
		free(c->jtoks);
		c->jtoks = NULL;
		c->jtoks_cap = 0;
	}
	if (fast >= 0) {
		if (fast && c->counts)
			c->counts[mask_detector_total(c->mp) + PGM_COUNT_JSON_KEY] += (uint32_t)hits;
		return fast;
	}
	json_error_t err;
	json_t *doc = json_loadb(in, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
	if (!doc) {
		if (!is_json)
			return 0;
		json_whole(c, in, n, out);
		if (c->counts)
			c->counts[mask_detector_total(c->mp) + PGM_COUNT_JSON_KEY]++;
		return 2;
	}
	json_t *top = string_keys_json(c, doc); /* a document that is one string holding JSON */
	if (top) {
		json_decref(doc);
		doc = top;
	}
	int changed = top != NULL || walk_json(c, doc, &hits);
	if (changed) {
		char *t = json_dumps(doc, JSON_ENCODE_ANY);
		if (t) {
			buf_append(out, t, strlen(t));
			free(t);
		} else {
			buf_append(out, "null", 4);
		}
		if (c->counts)
			c->counts[mask_detector_total(c->mp) + PGM_COUNT_JSON_KEY] += (uint32_t)hits;
	}
	json_decref(doc);
	return changed;
}

/*
 * JSON inside other text — a log line's payload, documents one after
 * another, a document cut short by a column's length: a `"key": value` pair
 * (kv_re: the key, then a string's text, a number or literal, or the
 * bracket an object or an array starts with) whose key a json_keys glob
 * matches has its value masked where it stands. The pattern is one for
 * every profile (the keys are read against the globs after it matched), so
 * it is compiled once.
 */
#define KV_RE "\"((?:[^\"\\\\]|\\\\.){0,256}+)\"[ \\t\\r\\n]*+:[ \\t\\r\\n]*+" \
	      "(?:\"((?:[^\"\\\\]|\\\\.)*+)\"?|(-?[0-9][0-9.eE+-]*+|true|false|null)|([\\[{]))"
static pcre2_code *kv_re;
static pthread_once_t kv_once = PTHREAD_ONCE_INIT;

/* One of the constant patterns below, JIT-compiled (without JIT it is interpreted). */
static pcre2_code *constant_pattern(const char *re)
{
	int e;
	PCRE2_SIZE at;
	pcre2_code *code = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, 0, &e, &at, NULL);
	if (!code)
		abort(); /* a constant pattern */
	(void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
	return code;
}

static void kv_compile(void)
{
	kv_re = constant_pattern(KV_RE);
}

/* Whether the quoted JSON string q[0, n) (quotes included) is a key a glob
 * matches: read through jansson when it has escapes; one it cannot read, or
 * with a NUL in it, counts. */
static int kv_key(pgm_ctx *c, const char *q, size_t n)
{
	if (!memchr(q, '\\', n))
		return key_matches(c->json_keys, q + 1, n - 2);
	json_error_t err;
	json_t *k = json_loadb(q, n, JSON_DECODE_ANY, &err);
	int r = !json_is_string(k) || memchr(json_string_value(k), '\0', json_string_length(k)) ||
		key_matches(c->json_keys, json_string_value(k), json_string_length(k));
	json_decref(k);
	return r;
}

/* The end of the object or array starting at in[0] (where jansson stops
 * reading one value), or n when it does not end in in[0, n) (cut short, or
 * not JSON from there on). */
static size_t kv_value_end(const char *in, size_t n)
{
	json_error_t err;
	json_t *v = json_loadb(in, n, JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK | JSON_ALLOW_NUL, &err);
	json_decref(v);
	return v && err.position > 0 && (size_t)err.position <= n ? (size_t)err.position : n;
}

/* The masked text of in[0, n) as the inside of a JSON string (a string value's text: unescaped first). */
static void kv_masked(pgm_ctx *c, const char *in, size_t n, int string, buf *out)
{
	json_t *u = NULL;
	if (string && memchr(in, '\\', n)) { /* (out may be c->tmp: a buffer of its own) */
		buf q = {0};
		buf_append(&q, "\"", 1);
		buf_append(&q, in, n);
		buf_append(&q, "\"", 1);
		json_error_t err;
		u = json_loadb(q.data, q.len, JSON_DECODE_ANY, &err);
		buf_free(&q);
	}
	c->tmp2.len = 0;
	if (json_is_string(u))
		mask_whole(c->mp, json_string_value(u), json_string_length(u), &c->tmp2);
	else
		mask_whole(c->mp, in, n, &c->tmp2);
	json_decref(u);
	size_t at = out->len;
	put_json_string(c->tmp2.data, c->tmp2.len, out);
	memmove(out->data + at, out->data + at + 1, out->len - at - 2); /* without its quotes */
	out->len -= 2;
}

/* The end of a pass over the pairs of text in[0, n) that wrote out from
 * start on up to in[last]: the rest of the text after it, the hits counted
 * as json_key, 1; or, with no hit, out as it was and 0. */
static int pairs_end(pgm_ctx *c, const char *in, size_t n, size_t last, size_t start, size_t hits, buf *out)
{
	if (!hits) {
		out->len = start;
		return 0;
	}
	buf_append(out, in + last, n - last);
	if (c->counts)
		c->counts[mask_detector_total(c->mp) + PGM_COUNT_JSON_KEY] += (uint32_t)hits;
	return 1;
}

/*
 * The values under json_keys in the JSON pairs of text in[0, n), into out:
 * a string's text is replaced inside its quotes, a number, true or false by
 * a masked string, an object or an array (to its end, or to the text's when
 * it is cut short) by a masked string; null stays. Returns 1 when out holds
 * the rewritten text.
 */
static int json_fragments(pgm_ctx *c, const char *in, size_t n, buf *out)
{
	pthread_once(&kv_once, kv_compile);
	if (!c->kv_md)
		c->kv_md = pcre2_match_data_create_from_pattern(kv_re, NULL);
	size_t start = out->len, last = 0, pos = 0, hits = 0;
	while (pos < n) {
		int rc = pcre2_match(kv_re, (PCRE2_SPTR)in, n, pos, 0, c->kv_md, NULL);
		if (rc < 0)
			break;
		const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(c->kv_md);
		size_t ks = ov[2], ke = ov[3], me = ov[1];
		pos = me > ov[0] ? me : ov[0] + 1;
		int g = rc > 4 ? 4 : rc > 3 && ov[6] != PCRE2_UNSET ? 3 : 2;
		size_t vs = ov[2 * g], ve = ov[2 * g + 1];
		if (vs == PCRE2_UNSET || !kv_key(c, in + ks - 1, ke - ks + 2)) {
			if (g == 4)
				pos = vs; /* the keys inside an object or array are read too */
			continue;
		}
		if (g == 3 && in[vs] == 'n')
			continue; /* null stays null */
		if (g == 4)
			pos = ve = vs + kv_value_end(in + vs, n - vs);
		buf_append(out, in + last, vs - last);
		if (g != 2)
			buf_append(out, "\"", 1);
		kv_masked(c, in + vs, ve - vs, g == 2, out);
		if (g != 2)
			buf_append(out, "\"", 1);
		last = ve;
		hits++;
	}
	return pairs_end(c, in, n, last, start, hits, out);
}

/*
 * Pairs in text that is no JSON document: a value given to a key a json_keys
 * glob matches as configuration, logs and programs' printouts write it —
 * `token=abc` (an environment line, logfmt, a query string, a DSN), `token:
 * abc` (YAML, a header), `'token': 'abc'` (Python's repr), `:token =>
 * "abc"` and `'token' => 'abc'` (Ruby, Perl, PHP), `"token"="abc"`,
 * `<token>abc</token>` (XML: what an element holds, elements too, to its
 * closing tag; a namespace prefix and attributes aside; none when it is
 * not closed). The
 * key: quoted in ' (any separator) or " (not ":", JSON's, which
 * json_fragments reads), or a bare name (a whole one: the leftmost match
 * starts where the name does, and so does a search from a value's start;
 * the lookbehind only makes a start inside a name fail at once); "=",
 * "=>" or ":" with up to 4 spaces or tabs around (not "==", "::", "://").
 * The value: a quoted string on its line (a b/r/u prefix too), to its
 * closing quote; an object or a list, to the bracket that closes it (or to
 * the text's end when none does); else a bare run to a space, a quote, ",",
 * ";", "&", a backslash, or a closing "}", "]" or ")" — not null, true,
 * false, None or nil. TP_* are the pattern's groups.
 */
#define TP_BARE "[^\\s\"',;&}\\])\\\\]"
#define TP_NS "(?:[A-Za-z_][\\w.\\-]{0,63}+:)?+" /* an XML namespace prefix */
#define TP_RE                                                                                      \
	"(?:(?|'([^'\\\\\\x00-\\x1f]{1,128}+)'\\]?+[ \\t]{0,4}+(?:=>|=(?!=)|:(?!:))[ \\t]{0,4}+"        \
	"|\"([^\"\\\\\\x00-\\x1f]{1,128}+)\"\\]?+[ \\t]{0,4}+(?:=>|=(?!=))[ \\t]{0,4}+"                \
	"|\\[([A-Za-z0-9_.\\-]{1,128}+)(?::[A-Za-z]{1,16}+)?+\\][ \\t]{0,4}+=>[ \\t]{0,4}+"                   \
	"|(?<![A-Za-z0-9_.\\-])([A-Za-z0-9_.\\-]{1,128}+)[ \\t]{0,4}+(?:=>|=(?!=)|:(?![:/]))[ \\t]{0,4}+)" \
	"(?:[bBrRuU]{0,2}\"((?:[^\"\\\\\\n]|\\\\.)++)\""                                          \
	"|[bBrRuU]{0,2}'((?:[^'\\\\\\n]|\\\\.)++)'"                                               \
	"|(\\{(?:[^{}\"']++|\"(?:[^\"\\\\]|\\\\.)*+\"|'(?:[^'\\\\]|\\\\.)*+'|(?-1))*+\\}"                \
	"|\\[(?:[^\\[\\]\"']++|\"(?:[^\"\\\\]|\\\\.)*+\"|'(?:[^'\\\\]|\\\\.)*+'|(?-1))*+\\])"            \
	"|([{\\[][\\s\\S]*+)"                                                                            \
	"|(?!(?:null|true|false|None|nil)(?!" TP_BARE "))((?:" TP_BARE "|[}\\])](?=[}\\])]{0,8}" TP_BARE "))++))"         \
	"|<" TP_NS "(?<xk>[A-Za-z_][\\w.\\-]{0,127}+)(?:[ \\t\\r\\n][^<>]{0,1024}+)?(?<!/)>"                  \
	"(?<xv>(?:[^<]++|<(?!/" TP_NS "\\k<xk>>))++)</" TP_NS "\\k<xk>>)"
enum { TP_KEY = 1, TP_DQ, TP_SQ, TP_BRACKETS, TP_CUT, TP_BARE_RUN, TP_XML_KEY, TP_XML_VALUE };
static pcre2_code *tp_re;
static pthread_once_t tp_once = PTHREAD_ONCE_INIT;

static void tp_compile(void)
{
	tp_re = constant_pattern(TP_RE);
}

/* Whether v[0, n) is what masking writes ("****", "****1234", "h:" and 16 hex
 * digits): a value a detector masked before the pair was read. */
static int masked_already(const char *v, size_t n)
{
	if (n >= 4 && memcmp(v, "****", 4) == 0)
		return 1;
	if (n != 18 || v[0] != 'h' || v[1] != ':')
		return 0;
	for (size_t i = 2; i < n; i++)
		if (util_hexval(v[i]) < 0)
			return 0;
	return 1;
}

/* Whether a glob matches a pair's key k[0, kl), or the last of its dotted
 * names (auth.token=..., app.secret_key: ..., as properties files and
 * flattened YAML name them). */
static int pair_key_matches(const config_strlist *keys, const char *k, size_t kl)
{
	if (key_matches(keys, k, kl))
		return 1;
	const char *dot = kl ? memrchr(k, '.', kl) : NULL;
	return dot && dot + 1 < k + kl && key_matches(keys, dot + 1, (size_t)(k + kl - dot - 1));
}

/* The pairs of text in[0, n) (TP_RE) whose key a glob matches, their values
 * masked whole, into out. Returns 1 when out holds the rewritten text. */
static int text_pairs(pgm_ctx *c, const char *in, size_t n, buf *out)
{
	pthread_once(&tp_once, tp_compile);
	if (!c->tp_md)
		c->tp_md = pcre2_match_data_create_from_pattern(tp_re, NULL);
	size_t start = out->len, last = 0, pos = 0, hits = 0;
	while (pos < n) {
		int rc = pcre2_match(tp_re, (PCRE2_SPTR)in, n, pos, 0, c->tp_md, NULL);
		if (rc == PCRE2_ERROR_NOMATCH)
			break;
		if (rc < 0) { /* a limit (brackets nested past the JIT's stack): the rest masked whole */
			buf_append(out, in + last, pos - last);
			mask_whole(c->mp, in + pos, n - pos, out);
			last = n;
			hits++;
			break;
		}
		const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(c->tp_md);
		size_t ks = ov[2 * TP_KEY], ke = ov[2 * TP_KEY + 1], vs = ov[1], ve = ov[1];
		if (ks == PCRE2_UNSET) { /* an XML element */
			ks = ov[2 * TP_XML_KEY];
			ke = ov[2 * TP_XML_KEY + 1];
			vs = ov[2 * TP_XML_VALUE];
			ve = ov[2 * TP_XML_VALUE + 1];
		} else {
			for (int g = TP_DQ; g <= TP_BARE_RUN && g < rc; g++)
				if (ov[2 * g] != PCRE2_UNSET) {
					vs = ov[2 * g];
					ve = ov[2 * g + 1];
					break;
				}
		}
		/* past the value; or into it, when the key is none of the globs'
		 * (a=token=x, 'note': 'token=x') */
		pos = ov[1] > ov[0] ? ov[1] : ov[0] + 1;
		if (ks == PCRE2_UNSET || !pair_key_matches(c->json_keys, in + ks, ke - ks)) {
			if (vs > ov[0] && vs < pos)
				pos = vs;
			continue;
		}
		if (ve <= vs || masked_already(in + vs, ve - vs))
			continue;
		buf_append(out, in + last, vs - last);
		mask_whole(c->mp, in + vs, ve - vs, out);
		last = ve;
		hits++;
	}
	return pairs_end(c, in, n, last, start, hits, out);
}

static int looks_json(const char *v, size_t n);

/*
 * JSON pairs escaped once more inside text: a document's text quoted as a
 * JSON string (`to_json(notes)::text`: {\"token\": \"abc\"}) or as a
 * record's or CSV's field (`row(notes)::text`: {""token"": ""abc""}). The
 * key and a string value quoted by the same \" or "", a number, true or
 * false; an object or an array masked to the text's end. EP_* are the groups.
 */
#define EP_RE                                                                                  \
	"(\\\\\"|\"\")([^\"\\\\\\x00-\\x1f]{1,256}+)\\1[ \\t]*+:[ \\t]*+"                         \
	"(?:\\1((?:(?!\\1)[^\\n])*+)\\1|(-?[0-9][0-9.eE+-]*+|true|false)|([\\[{]))"
enum { EP_QUOTE = 1, EP_KEY, EP_STRING, EP_SCALAR, EP_NESTED };
static pcre2_code *ep_re;
static pthread_once_t ep_once = PTHREAD_ONCE_INIT;

static void ep_compile(void)
{
	ep_re = constant_pattern(EP_RE);
}

/* The end of the object or array at in[0] (in[0, n)) whose strings are
 * quoted by q[0, ql) (\" or ""), past its closing bracket; n when it is cut
 * short. */
static size_t escaped_value_end(const char *in, size_t n, const char *q, size_t ql)
{
	size_t depth = 0;
	int quoted = 0;
	for (size_t i = 0; i < n; i++) {
		if (i + ql <= n && memcmp(in + i, q, ql) == 0) {
			if (!(i && in[i - 1] == '\\')) /* (\\\" and \"" are quotes inside a string) */
				quoted = !quoted;
			i += ql - 1;
		} else if (!quoted && (in[i] == '{' || in[i] == '[')) {
			depth++;
		} else if (!quoted && (in[i] == '}' || in[i] == ']') && --depth == 0) {
			return i + 1;
		}
	}
	return n;
}

static int escaped_pairs(pgm_ctx *c, const char *in, size_t n, buf *out)
{
	pthread_once(&ep_once, ep_compile);
	if (!c->ep_md)
		c->ep_md = pcre2_match_data_create_from_pattern(ep_re, NULL);
	pcre2_match_data *md = c->ep_md;
	size_t start = out->len, last = 0, pos = 0, hits = 0;
	while (pos < n) {
		int rc = pcre2_match(ep_re, (PCRE2_SPTR)in, n, pos, 0, md, NULL);
		if (rc < 0)
			break;
		const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
		size_t ks = ov[2 * EP_KEY], ke = ov[2 * EP_KEY + 1];
		int g = rc > EP_NESTED ? EP_NESTED : rc > EP_SCALAR && ov[2 * EP_SCALAR] != PCRE2_UNSET ? EP_SCALAR
														 : EP_STRING;
		size_t vs = ov[2 * g], ve = ov[2 * g + 1];
		pos = ov[1] > ov[0] ? ov[1] : ov[0] + 1;
		if (vs == PCRE2_UNSET || !pair_key_matches(c->json_keys, in + ks, ke - ks)) {
			if (g == EP_NESTED)
				pos = vs; /* the keys inside an object or array are read too */
			continue;
		}
		if (g == EP_NESTED)
			ve = vs + escaped_value_end(in + vs, n - vs, in + ov[2 * EP_QUOTE], ov[2 * EP_QUOTE + 1] -
								    ov[2 * EP_QUOTE]);
		else if (g == EP_STRING && ve > vs && in[ve - 1] == '\\') {
			/* the quote that ended it is one inside the string (\\\" or \""): to the line's end */
			const char *nl = memchr(in + ve, '\n', n - ve);
			ve = nl ? (size_t)(nl - in) : n;
			pos = ve;
		}
		if (ve <= vs || masked_already(in + vs, ve - vs))
			continue;
		buf_append(out, in + last, vs - last);
		if (memchr(in + vs, '\\', ve - vs) || memchr(in + vs, '"', ve - vs))
			buf_append(out, "****", 4); /* (no piece of an escape kept) */
		else
			mask_whole(c->mp, in + vs, ve - vs, out);
		last = ve;
		pos = ve > pos ? ve : pos;
		hits++;
	}
	return pairs_end(c, in, n, last, start, hits, out);
}

/*
 * The pairs of text in[0, n) that is no JSON document (a document's text is
 * its pairs: it is not read so), after its JSON pairs: r says whether out
 * holds in rewritten from start on (json_fragments), where they are read
 * then. Returns r, or 1 when they masked a value.
 */
static int then_text_pairs(pgm_ctx *c, const char *in, size_t n, int r, size_t start, buf *out)
{
	if (looks_json(in, n) && json_valid(in, n))
		return r;
	c->tp.len = 0;
	if (text_pairs(c, r ? out->data + start : in, r ? out->len - start : n, &c->tp)) {
		out->len = start;
		buf_append(out, c->tp.data, c->tp.len);
		r = 1;
	}
	/* ... and the JSON pairs escaped once more */
	const char *t = r ? out->data + start : in;
	size_t tn = r ? out->len - start : n;
	if (!memmem(t, tn, "\\\"", 2) && !memmem(t, tn, "\"\"", 2))
		return r;
	c->tp.len = 0;
	if (!escaped_pairs(c, t, tn, &c->tp))
		return r;
	out->len = start;
	buf_append(out, c->tp.data, c->tp.len);
	return 1;
}

static int looks_json(const char *v, size_t n)
{
	size_t i = 0;
	while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == '\n' || v[i] == '\r'))
		i++;
	return i < n && (v[i] == '{' || v[i] == '[');
}

/* ---- JSON: detectors over a document's values, one by one ---- */

/* text[0, n) after the detectors as a JSON string, or NULL when they find nothing. */
static json_t *detected_string(pgm_ctx *c, const char *text, size_t n)
{
	buf m = {0};
	json_t *s = NULL;
	if (mask_text(c->mp, c->scratch, text, n, &m, c->counts) > 0) {
		s = json_stringn(m.data, m.len);
		if (!s) /* (a custom pattern may cut a UTF-8 sequence) */
			s = json_string("****");
	}
	buf_free(&m);
	return s;
}

/* The detectors that know a value by the name it is given. */
static const int by_name[] = {MASK_DET_PASSWORD_IN_TEXT, MASK_DET_AWS_SECRET_KEY};

/*
 * A member's scalar value v under key k that the detectors find nothing in
 * alone, read with its key as the document's text has it (`"k": v`):
 * password_in_text and aws_secret_key know a secret by its name
 * ({"password": "hunter2"}, {"aws_secret_access_key": "..."}). Only they
 * count there: what another detector finds in the pair and not in the value
 * alone is made of the escapes or the key. The value as they rewrote it (a
 * JSON string when that is no JSON: a number), or NULL when they left it.
 */
static json_t *pair_detect(pgm_ctx *c, const char *k, json_t *v)
{
	json_t *kj = json_string(k);
	char *ks = kj ? json_dumps(kj, JSON_ENCODE_ANY) : NULL;
	char *vs = json_dumps(v, JSON_ENCODE_ANY);
	json_decref(kj);
	json_t *r = NULL;
	size_t total = mask_detector_total(c->mp);
	uint32_t *n = util_xmalloc(2 * total * sizeof(*n)), *nk = n + total;
	memset(n, 0, 2 * total * sizeof(*n));
	buf pair = {0}, m = {0}, junk = {0};
	if (!ks || !vs)
		goto out;
	size_t kl = strlen(ks);
	buf_append(&pair, ks, kl);
	buf_append(&pair, ": ", 2);
	buf_append(&pair, vs, strlen(vs));
	if (mask_text(c->mp, c->scratch, pair.data, pair.len, &m, n) == 0)
		goto out;
	mask_text(c->mp, c->scratch, ks, kl, &junk, nk);
	int found = 0;
	for (size_t i = 0; i < sizeof(by_name) / sizeof(by_name[0]); i++)
		found |= n[by_name[i]] > nk[by_name[i]];
	if (!found)
		goto out;
	if (m.len > kl + 2 && memcmp(m.data, pair.data, kl + 2) == 0) {
		const char *part = m.data + kl + 2;
		size_t pl = m.len - kl - 2;
		json_error_t err;
		r = json_loadb(part, pl, JSON_DECODE_ANY, &err);
		if (!r && !memchr(part, '"', pl) && !memchr(part, '\\', pl))
			r = json_stringn(part, pl); /* a number masked */
	}
	if (!r || !(json_is_string(r) || json_is_number(r))) {
		json_decref(r);
		r = json_string("****"); /* the key's own rewrite or an escape's in the way */
	}
	if (c->counts)
		for (size_t i = 0; i < sizeof(by_name) / sizeof(by_name[0]); i++)
			if (n[by_name[i]] > nk[by_name[i]])
				c->counts[by_name[i]] += n[by_name[i]] - nk[by_name[i]];
out:
	buf_free(&pair);
	buf_free(&m);
	buf_free(&junk);
	free(n);
	free(ks);
	free(vs);
	return r;
}

/*
 * j with the detectors run over each of its strings, numbers (as jansson
 * writes them) and keys, a number with a match becoming the string of its
 * masked form, and over a member's scalar value with its key when the value
 * alone holds no match (pair_detect); the values under json_keys masked
 * whole as walk_json masks them (counted in *key_hits; the strings, numbers
 * and keys the detectors changed in *changed). A new tree.
 */
static json_t *tree_detect(pgm_ctx *c, json_t *j, size_t *key_hits, size_t *changed)
{
	if (json_is_object(j)) {
		json_t *o = json_object();
		const char *k;
		json_t *v;
		json_object_foreach(j, k, v) {
			json_t *nv;
			if (c->json_keys && key_matches(c->json_keys, k, strlen(k)) && !json_is_null(v)) {
				nv = masked_key_value(c, v);
				(*key_hits)++;
			} else {
				nv = tree_detect(c, v, key_hits, changed);
				json_t *pv;
				if (nv == v && (json_is_string(v) || json_is_number(v)) &&
				    (pv = pair_detect(c, k, v)) != NULL) {
					json_decref(nv);
					nv = pv;
					(*changed)++;
				}
			}
			json_t *mk = detected_string(c, k, strlen(k));
			*changed += mk != NULL;
			json_object_set_new(o, mk ? json_string_value(mk) : k, nv);
			json_decref(mk);
		}
		return o;
	}
	if (json_is_array(j)) {
		json_t *a = json_array();
		size_t i;
		json_t *v;
		json_array_foreach(j, i, v)
			json_array_append_new(a, tree_detect(c, v, key_hits, changed));
		return a;
	}
	if (json_is_string(j)) {
		/* the detectors, then json_keys in the string's text (JSON, pairs) */
		json_t *m = detected_string(c, json_string_value(j), json_string_length(j));
		json_t *k = c->json_keys ? string_keys_json(c, m ? m : j) : NULL;
		*changed += m != NULL || k != NULL;
		if (k) {
			json_decref(m);
			return k;
		}
		return m ? m : json_incref(j);
	}
	if (json_is_number(j)) {
		char *t = json_dumps(j, JSON_ENCODE_ANY);
		json_t *m = t ? detected_string(c, t, strlen(t)) : NULL;
		free(t);
		*changed += m != NULL;
		return m ? m : json_incref(j);
	}
	return json_incref(j);
}

/*
 * A JSON document the detectors' rewrite left no JSON ({"card": 4111111111111111}
 * becomes {"card": ****1111}; or a match right after an escape's backslash):
 * its values masked one by one instead (tree_detect), into out, the counts of
 * the rewrite taken back. 1: out holds it; 0: none of its values holds a
 * match (the rewrite's was made of the escapes: "x\n@example.com" holds no
 * address), it goes out as it is; -1 when jansson cannot read it (then it is
 * masked whole).
 */
static int json_tree_detect(pgm_ctx *c, const char *in, size_t n, buf *out)
{
	json_error_t err;
	json_t *doc = json_loadb(in, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
	if (!doc)
		return -1;
	if (c->counts) { /* the whole text's rewrite is not what goes out */
		size_t total = mask_detector_total(c->mp);
		uint32_t *first = util_xmalloc(total * sizeof(*first));
		memset(first, 0, total * sizeof(*first));
		buf junk = {0};
		mask_text(c->mp, c->scratch, in, n, &junk, first);
		buf_free(&junk);
		for (size_t i = 0; i < total; i++)
			c->counts[i] -= first[i];
		free(first);
	}
	size_t key_hits = 0, changed = 0;
	json_t *m = tree_detect(c, doc, &key_hits, &changed);
	json_decref(doc);
	if (!key_hits && !changed) {
		json_decref(m);
		return 0;
	}
	char *t = json_dumps(m, JSON_ENCODE_ANY);
	json_decref(m);
	if (!t)
		return -1;
	buf_append(out, t, strlen(t));
	free(t);
	if (key_hits && c->counts)
		c->counts[mask_detector_total(c->mp) + PGM_COUNT_JSON_KEY] += (uint32_t)key_hits;
	return 1;
}

/* ---- one value ---- */

static void hex_digits(const char *v, size_t n, buf *out)
{
	static const char hx[] = "0123456789abcdef";
	buf_reserve(out, 2 * n);
	for (size_t i = 0; i < n; i++) {
		char two[2] = {hx[(unsigned char)v[i] >> 4], hx[(unsigned char)v[i] & 15]};
		buf_append(out, two, 2);
	}
}

static int mask_string(pgm_ctx *c, const char *in, size_t n, int is_json, buf *out);
static int mask_string_read(pgm_ctx *c, const char *in, size_t n, int is_json, buf *out);

/*
 * A run of encoded bytes in[s, e) inside text, decoded into raw: masked as
 * text is; when that changed it, out gets in[*copied, s) and the masked
 * bytes encoded as the run was (enc), and *copied moves to e.
 */
static void run_masked(pgm_ctx *c, const char *in, size_t s, size_t e, const buf *raw, buf *m,
		       void (*enc)(const char *, size_t, buf *), size_t *copied, buf *out)
{
	m->len = 0;
	if (!mask_string(c, raw->data ? raw->data : "", raw->len, 0, m))
		return;
	buf_append(out, in + *copied, s - *copied);
	enc(m->data ? m->data : "", m->len, out);
	*copied = e;
}

/* The text after the last run rewritten into out: 1, or 0 when none was. */
static int runs_done(const char *in, size_t n, size_t copied, buf *raw, buf *m, buf *out)
{
	buf_free(raw);
	buf_free(m);
	if (!copied)
		return 0;
	buf_append(out, in + copied, n - copied);
	return 1;
}

/*
 * Bytes in hex inside text: "\x" and pairs of hex digits, as
 * PostgreSQL writes a bytea where a cast to text, an array, a record or a
 * JSON document holds one (email::bytea::text is \x616c6963…, to_json of it
 * "\\x616c…"). The detectors see digits and the letters a to f there, so
 * each run is decoded, masked as text is (it may hold a run of its own: a
 * value cast twice, each level half as long) and written back in hex.
 * Returns 1 when out holds in[0, n) with a run rewritten; 0 when no run held
 * anything.
 */
static int hex_runs(pgm_ctx *c, const char *in, size_t n, buf *out)
{
	size_t copied = 0;
	buf raw = {0}, m = {0};
	for (size_t i = 0; i + 3 < n;) {
		const char *bs = memchr(in + i, '\\', n - 3 - i);
		if (!bs)
			break;
		size_t h = (size_t)(bs - in) + 2, e = h;
		i = h - 1;
		if (in[h - 1] != 'x' && in[h - 1] != 'X')
			continue;
		while (e + 1 < n && util_hexval(in[e]) >= 0 && util_hexval(in[e + 1]) >= 0)
			e += 2;
		if (e == h)
			continue;
		raw.len = 0;
		buf_reserve(&raw, (e - h) / 2);
		for (size_t k = h; k < e; k += 2) {
			char b = (char)((util_hexval(in[k]) << 4) | util_hexval(in[k + 1]));
			buf_append(&raw, &b, 1);
		}
		run_masked(c, in, h, e, &raw, &m, hex_digits, &copied, out);
		i = e;
	}
	return runs_done(in, n, copied, &raw, &m, out);
}

/*
 * Bytes in bytea's escape form inside text (bytea_output = escape): printable
 * ASCII as it is, a backslash as two, every other byte as a backslash and
 * three octal digits. email::bytea::text of zoë@müller-bäckerei.de is
 * zo\303\253@m\303\274ller-b…: no address to a detector, which reads UTF-8.
 * A run is a stretch of printable ASCII between spaces, quotes, commas and
 * brackets holding a backslash before three octal digits; it is decoded,
 * masked as text is, and written back in the same form. Inside an array's or
 * a record's quotes, a JSON string or COPY's text each backslash is doubled
 * again (zo\\303\\253): one decoding leaves the escapes of the level below,
 * which the masking of the decoded text decodes in turn. A quote escaped
 * there (\") ends a run, its backslash left out. A run holding a backslash
 * that is no escape (\q) is left as it is.
 */
static int run_char(unsigned char ch)
{
	return ch > ' ' && ch < 0x7f && ch != '"' && ch != ',' && ch != '{' && ch != '}' && ch != '(' &&
	       ch != ')' && ch != '[' && ch != ']';
}

static int octal3(const char *p, size_t left)
{
	return left >= 3 && p[0] >= '0' && p[0] <= '3' && p[1] >= '0' && p[1] <= '7' && p[2] >= '0' && p[2] <= '7';
}

/* in[0, n) decoded (\\ and \ooo) into raw; -1 when a backslash is neither. */
static int octal_decode(const char *in, size_t n, buf *raw)
{
	for (size_t i = 0; i < n; i++) {
		char ch = in[i];
		if (ch == '\\') {
			if (i + 1 < n && in[i + 1] == '\\') {
				i++;
			} else if (octal3(in + i + 1, n - i - 1)) {
				ch = (char)(((in[i + 1] - '0') << 6) | ((in[i + 2] - '0') << 3) | (in[i + 3] - '0'));
				i += 3;
			} else {
				return -1;
			}
		}
		buf_append(raw, &ch, 1);
	}
	return 0;
}

static void octal_encode(const char *v, size_t n, buf *out)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)v[i];
		if (ch == '\\') {
			buf_append(out, "\\\\", 2);
		} else if (ch < ' ' || ch >= 0x7f) {
			char e[4] = {'\\', (char)('0' + (ch >> 6)), (char)('0' + ((ch >> 3) & 7)), (char)('0' + (ch & 7))};
			buf_append(out, e, 4);
		} else {
			buf_append(out, v + i, 1);
		}
	}
}

static int octal_runs(pgm_ctx *c, const char *in, size_t n, buf *out)
{
	size_t copied = 0;
	buf raw = {0}, m = {0};
	for (size_t i = 0; i + 3 < n;) {
		const char *bs = memchr(in + i, '\\', n - 3 - i);
		if (!bs)
			break;
		size_t g = (size_t)(bs - in);
		i = g;
		while (i < n && in[i] == '\\')
			i++;
		if (!octal3(in + i, n - i))
			continue;
		/* the run around it */
		size_t s = g, e = i;
		while (s > copied && run_char((unsigned char)in[s - 1]))
			s--;
		while (e < n && run_char((unsigned char)in[e])) {
			size_t q = 0;
			while (e + q < n && in[e + q] == '\\')
				q++;
			if (q % 2 && (e + q == n || !run_char((unsigned char)in[e + q])))
				break; /* \" (and no escape at the text's end) */
			e += q ? q : 1;
		}
		raw.len = 0;
		if (octal_decode(in + s, e - s, &raw) == 0)
			run_masked(c, in, s, e, &raw, &m, octal_encode, &copied, out);
		i = e;
	}
	return runs_done(in, n, copied, &raw, &m, out);
}

/*
 * Detectors, then JSON keys, over text in[0, n) into out. Returns 1 when out
 * holds the rewritten text.
 */
static __attribute__((noinline)) int mask_string_hex(pgm_ctx *c, const char *in, size_t n, int is_json, buf *out)
{
	buf hex = {0}, oct = {0};
	int r = hex_runs(c, in, n, &hex);
	const char *cur = r ? hex.data : in;
	size_t cur_n = r ? hex.len : n;
	if (octal_runs(c, cur, cur_n, &oct)) {
		r = 1;
		cur = oct.data;
		cur_n = oct.len;
	}
	int w = mask_string_read(c, cur, cur_n, is_json, out);
	if (r && !w)
		buf_append(out, cur, cur_n);
	buf_free(&hex);
	buf_free(&oct);
	return r || w;
}

static int mask_string(pgm_ctx *c, const char *in, size_t n, int is_json, buf *out)
{
	/* bytes in hex first; the text around them is then read as rewritten (a
	 * row's value whose row holds no backslash holds none) */
	if (n >= 4 && !(c->vh_subj == in && c->vh_nobs) && memchr(in, '\\', n - 3))
		return mask_string_hex(c, in, n, is_json, out);
	return mask_string_read(c, in, n, is_json, out);
}

/* mask_string past the bytes in hex. */
static inline __attribute__((always_inline)) int mask_string_read(pgm_ctx *c, const char *in, size_t n,
							       int is_json, buf *out)
{
	/* With no json_keys to look for, or text no key can be in: the
	 * detectors' output is all. A json value's output is checked below:
	 * JSON it must stay. */
	int keys = c->json_keys && c->json_keys->n;
	/* (text pairs need a key's literal; JSON pairs may spell it with escapes) */
	if (!is_json && (!keys || !(value_has_literal(c, in, n) ||
				    (!(c->vh_subj == in && (c->vh_nokeys || c->vh_nobs)) && memchr(in, '\\', n) &&
				     memchr(in, '"', n)))))
		return detect(c, in, n, out) > 0;
	buf *first = &c->det;
	first->len = 0;
	size_t hits = detect(c, in, n, first), start = out->len;
	const char *cur = hits ? first->data : in;
	size_t cur_len = hits ? first->len : n;
	int r = 0, doc = 0;
	/* (the detectors' output jansson cannot read is no JSON column's value: below) */
	if (keys && (is_json || looks_json(cur, cur_len)))
		doc = r = json_keys_pass(c, cur, cur_len, is_json && !hits, out);
	/* JSON inside other text, documents one after another, one cut short */
	if (keys && !r && !is_json && memchr(cur, '"', cur_len))
		r = json_fragments(c, cur, cur_len, out);
	if (keys && !doc && !is_json)
		r = then_text_pairs(c, cur, cur_len, r, start, out);
	if (!r && hits) {
		/* "****" where the JSON held a number, or after an escape's backslash, is
		 * not JSON any more: the column's type says it must be, so its values are
		 * masked one by one (or it is masked whole when jansson cannot read it) */
		if (is_json && !json_valid(first->data, first->len)) {
			int t = json_tree_detect(c, in, n, out);
			if (t < 0)
				json_whole(c, first->data, first->len, out);
			return t != 0;
		}
		buf_append(out, first->data, first->len);
	}
	return r || hits;
}

static int hexval(char ch)
{
	return util_hexval(ch);
}

/* bytea's text form "\x..." decoded into dst; -1 when it is not the hex form. */
static int bytea_unhex(const char *v, size_t n, buf *dst)
{
	if (n < 2 || v[0] != '\\' || v[1] != 'x' || (n - 2) % 2)
		return -1;
	buf_reserve(dst, (n - 2) / 2);
	for (size_t i = 2; i < n; i += 2) {
		int h = hexval(v[i]), l = hexval(v[i + 1]);
		if (h < 0 || l < 0)
			return -1;
		char b = (char)((h << 4) | l);
		buf_append(dst, &b, 1);
	}
	return 0;
}

static void bytea_hex(const char *v, size_t n, buf *out)
{
	buf_append(out, "\\x", 2);
	hex_digits(v, n, out);
}

/* Binary integer / numeric / inet as text in dst; -1 when the bytes are not one. */
static int binary_as_text(uint32_t type, const char *v, size_t n, buf *dst)
{
	char t[64];
	switch (type) {
	case T_INT2:
		if (n != 2)
			return -1;
		buf_printf(dst, "%d", (int)be16(v));
		return 0;
	case T_INT4:
		if (n != 4)
			return -1;
		buf_printf(dst, "%d", (int32_t)pg_be32(v));
		return 0;
	case T_INT8:
		if (n != 8)
			return -1;
		buf_printf(dst, "%lld", (long long)(((uint64_t)pg_be32(v) << 32) | pg_be32(v + 4)));
		return 0;
	case T_NUMERIC: {
		/*
		 * ndigits, weight, sign, dscale, then base-10000 digits, written as
		 * numeric_out writes them (the text format's value): the integer part
		 * ("0" when weight < 0), then dscale fractional digits. Groups not
		 * stored (leading after the point, trailing) are zeros.
		 */
		if (n < 8)
			return -1;
		int nd = be16(v), weight = be16(v + 2), dscale = be16(v + 6);
		uint16_t sign = (uint16_t)be16(v + 4);
		if (nd < 0 || n != 8 + 2 * (size_t)nd || dscale < 0 || (sign != 0 && sign != 0x4000))
			return -1;
		for (int i = 0; i < nd; i++) {
			int dg = be16(v + 8 + 2 * i);
			if (dg < 0 || dg > 9999)
				return -1;
		}
		if (sign == 0x4000)
			buf_append(dst, "-", 1);
		if (weight < 0)
			buf_append(dst, "0", 1);
		for (int i = 0; i <= weight; i++) {
			int dg = i < nd ? be16(v + 8 + 2 * i) : 0;
			if (i == 0)
				buf_printf(dst, "%d", dg);
			else
				buf_printf(dst, "%04d", dg);
		}
		if (dscale > 0)
			buf_append(dst, ".", 1);
		for (int i = weight + 1, left = dscale; left > 0; i++, left -= 4) {
			int dg = i >= 0 && i < nd ? be16(v + 8 + 2 * i) : 0;
			buf_printf(dst, "%04d", dg);
			if (left < 4)
				dst->len -= (size_t)(4 - left);
		}
		return 0;
	}
	case T_INET:
	case T_CIDR:
		if (n == 8 && v[3] == 4) {
			int k = snprintf(t, sizeof(t), "%u.%u.%u.%u", (unsigned char)v[4], (unsigned char)v[5],
					 (unsigned char)v[6], (unsigned char)v[7]);
			buf_append(dst, t, (size_t)k);
			return 0;
		}
		return -1;
	default:
		return -1;
	}
}

typedef enum { V_SAME = 0, V_REWRITTEN, V_NULL } vresult;

/* A value that cannot hold masked text: NULL when anything in it matches. */
static vresult null_if_match(pgm_ctx *c, const char *v, size_t n)
{
	buf junk = {0};
	size_t hits = detect(c, v, n, &junk);
	buf_free(&junk);
	return hits ? V_NULL : V_SAME;
}

static int binary_finds(pgm_ctx *c, uint32_t t, const char *v, size_t n, int depth);

/* Whether json_keys mask something in the document v[0, n) (is_json: it must
 * be JSON, so one that cannot be read counts too). */
/*
 * json_keys over v[0, n) into out: the document's values when it is one
 * (is_json: its type says it is), else the JSON pairs inside the text.
 * Returns json_keys_pass's answer, or json_fragments'.
 */
static int keys_in_text(pgm_ctx *c, const char *v, size_t n, int is_json, buf *out)
{
	int r = is_json || looks_json(v, n) ? json_keys_pass(c, v, n, is_json, out) : 0;
	if (r || is_json)
		return r;
	size_t start = out->len;
	if (memchr(v, '"', n) && may_hold_key(c->json_keys, v, n))
		r = json_fragments(c, v, n, out); /* JSON inside other text */
	return literal_in(c->json_keys, v, n) ? then_text_pairs(c, v, n, r, start, out) : r;
}

static int json_keys_found(pgm_ctx *c, const char *v, size_t n, int is_json)
{
	buf junk = {0};
	int r = keys_in_text(c, v, n, is_json, &junk);
	buf_free(&junk);
	return r != 0;
}

/*
 * A text-format array (array_out's form: "{a,\"b c\",{d}}", braces nesting
 * for dimensions, a "[1:2]=" before them when a lower bound is not 1) or
 * record (record_out's: "(a,\"b \"\"c\"\"\")") in v[0, n): whether one of its
 * elements, unquoted, is a JSON document json_keys mask something in, or an
 * array or record holding one (past 8 deep, one that may be counts).
 * is_json: the elements are JSON (json[], jsonb[]). What cannot be read as
 * either form holds none.
 */
static int text_container_keys(pgm_ctx *c, const char *v, size_t n, int is_json, int depth)
{
	size_t i = 0;
	if (n && v[0] == '[') { /* dimension bounds */
		while (i < n && v[i] != '=')
			i++;
		i++;
	}
	if (i >= n || (v[i] != '{' && v[i] != '('))
		return 0;
	int record = v[i] == '(';
	char close = record ? ')' : '}';
	buf el = {0};
	int hit = 0;
	for (i++; i < n && !hit;) {
		if (!record && v[i] == '{') { /* a dimension: its elements are this array's */
			i++;
			continue;
		}
		if (v[i] == ',' || v[i] == close) {
			i++;
			continue;
		}
		el.len = 0;
		if (v[i] == '"') { /* quoted: \x is x; in a record, "" is " too */
			for (i++; i < n; i++) {
				if (v[i] == '\\' && i + 1 < n) {
					i++;
				} else if (v[i] == '"') {
					if (!(record && i + 1 < n && v[i + 1] == '"'))
						break;
					i++;
				}
				buf_append(&el, v + i, 1);
			}
			i++;
		} else {
			size_t s0 = i;
			while (i < n && v[i] != ',' && v[i] != close)
				i++;
			buf_append(&el, v + s0, i - s0);
		}
		const char *e = el.data ? el.data : "";
		int nested = el.len && (e[0] == '{' || e[0] == '(' || e[0] == '[');
		if ((!nested || looks_json(e, el.len)) && json_keys_found(c, e, el.len, is_json))
			hit = 1; /* a document, or JSON inside an element's text */
		else if (nested)
			hit = depth >= 8 || text_container_keys(c, e, el.len, 0, depth + 1);
	}
	buf_free(&el);
	return hit;
}

/* One element (codec.h's reader): a 4-byte length, -1 for NULL, and its bytes.
 * 0 when it does not fit. */
static int element(pg_reader *r, const char **e, size_t *el)
{
	int32_t l = pg_get_i32(r);
	*el = l > 0 ? (size_t)l : 0;
	*e = l > 0 ? pg_get_bytes(r, (size_t)l) : "";
	return !r->bad && l >= -1;
}

/* range_send's form: flags, then the bounds it has (a length and the bytes). */
static int binary_range_finds(pgm_ctx *c, uint32_t sub, const char *v, size_t n, int depth)
{
	pg_reader r;
	pg_reader_init(&r, v, n);
	unsigned flags = pg_get_u8(&r);
	for (unsigned b = 0; b < 2 && !r.bad; b++) {
		/* a bound is there unless the range is empty or the bound infinite or NULL */
		if (flags & (0x01u | (b ? 0x10u | 0x40u : 0x08u | 0x20u)))
			continue;
		const char *e;
		size_t el;
		if (element(&r, &e, &el) && binary_finds(c, sub, e, el, depth))
			return 1;
	}
	return 0;
}

/* count elements from r's position on, each after its type when typed (a
 * record's fields): 1 when they fill r exactly. (r is a copy.) */
static int elements_fit(pg_reader r, int64_t count, int typed)
{
	const char *e;
	size_t el;
	for (int64_t i = 0; i < count && !r.bad; i++) {
		if (typed)
			pg_get_i32(&r);
		element(&r, &e, &el);
	}
	return !r.bad && r.pos == r.len;
}

/*
 * Whether a binary array, record, range or multirange (array_send's,
 * record_send's, range_send's, multirange_send's forms) holds an element
 * the detectors find, each element read as binary_finds reads a value of
 * its type. An array or a record is recognised by its form, whatever its
 * type (a domain's array or a composite type has an OID of its own); a
 * value that is neither is not looked into.
 */
static int binary_container_finds(pgm_ctx *c, uint32_t t, const char *v, size_t n, int depth)
{
	const char *e;
	size_t el;
	uint32_t sub;
	pg_reader r;
	pg_reader_init(&r, v, n);
	int kind = range_kind(t, &sub);
	if (kind) { /* a multirange: the number of ranges, then each (a length and range_send's form) */
		if (kind == 1)
			return binary_range_finds(c, sub, v, n, depth);
		for (uint32_t i = 0, count = (uint32_t)pg_get_i32(&r); i < count && element(&r, &e, &el); i++)
			if (binary_range_finds(c, sub, e, el, depth))
				return 1;
		return 0;
	}
	/* an array: dimensions (at most 6), a has-NULLs flag, the element type, each
	 * dimension's size and lower bound, then the elements, exactly n bytes */
	int32_t ndim = pg_get_i32(&r), flag = pg_get_i32(&r);
	uint32_t et = (uint32_t)pg_get_i32(&r);
	int64_t count = ndim > 0;
	int ok = !r.bad && ndim >= 0 && ndim <= 6 && (flag == 0 || flag == 1);
	for (int32_t d = 0; ok && d < ndim; d++) {
		int32_t dim = pg_get_i32(&r);
		pg_get_i32(&r); /* its lower bound */
		ok = !r.bad && dim >= 0 && (count *= dim) <= (int64_t)(n / 4);
	}
	if (ok && elements_fit(r, count, 0)) {
		while (r.pos < r.len && element(&r, &e, &el))
			if (binary_finds(c, et, e, el, depth))
				return 1;
		return 0;
	}
	/* a record: the number of fields, then each field's type and value, exactly n bytes */
	pg_reader_init(&r, v, n);
	int32_t nf = pg_get_i32(&r);
	if (r.bad || nf < 0 || !elements_fit(r, nf, 1))
		return 0;
	while (r.pos < r.len && !r.bad) {
		uint32_t ft = (uint32_t)pg_get_i32(&r);
		if (element(&r, &e, &el) && binary_finds(c, ft, e, el, depth))
			return 1;
	}
	return 0;
}

/*
 * Whether the detectors find anything in a binary value of type t: a
 * number or an address as its text, a text-like value as it is, the
 * elements of a container as their own values, and anything else as its
 * bytes. Past 8 containers deep, a value that is neither text nor a number
 * counts as found (what it holds is not read).
 */
static int binary_finds(pgm_ctx *c, uint32_t t, const char *v, size_t n, int depth)
{
	buf txt = {0};
	int hit;
	if (binary_as_text(t, v, n, &txt) == 0)
		hit = null_if_match(c, txt.data ? txt.data : "", txt.len) == V_NULL;
	else if (null_if_match(c, v, n) == V_NULL)
		hit = 1;
	else if (t == T_JSON || t == T_JSONB) { /* an element (at the top, scan_value rewrites it) */
		size_t version = t == T_JSONB && n && v[0] == 1;
		hit = json_keys_found(c, v + version, n - version, 1);
	}
	else if (text_like(t)) /* a document, or JSON inside text (array[notes]) */
		hit = c->json_keys && c->json_keys->n && json_keys_found(c, v, n, 0);
	else
		hit = depth >= 8 || binary_container_finds(c, t, v, n, depth + 1);
	buf_free(&txt);
	return hit;
}

static void count_column(pgm_ctx *c)
{
	if (c->counts)
		c->counts[mask_detector_total(c->mp) + PGM_COUNT_COLUMN]++;
}

/* A column rule: the whole value. */
static vresult whole_value(pgm_ctx *c, const pgm_col *col, const char *v, size_t n, buf *out)
{
	count_column(c);
	uint32_t t = col->type_oid;
	if (!text_like(t) && (col->format != 0 || strict_text(t)))
		return V_NULL;
	if (t == T_JSON || t == T_JSONB) {
		if (t == T_JSONB && col->format == 1) {
			buf_append(out, "\1", 1);
			if (n)
				v++, n--;
		}
		json_whole(c, v, n, out);
		return V_REWRITTEN;
	}
	if (t == T_BYTEA && col->format == 0) {
		buf tmp = {0};
		mask_whole(c->mp, v, n, &tmp);
		bytea_hex(tmp.data ? tmp.data : "", tmp.len, out);
		buf_free(&tmp);
		return V_REWRITTEN;
	}
	mask_whole(c->mp, v, n, out);
	return V_REWRITTEN;
}

static vresult scan_value(pgm_ctx *c, const pgm_col *col, const char *v, size_t n, buf *out)
{
	if (!col) {
		/* no RowDescription: the format is unknown, so a match can only be NULL */
		return null_if_match(c, v, n);
	}
	uint32_t t = col->type_oid;
	if (col->format == 0) {
		if (!text_like(t)) { /* (text, the common case, asks nothing more) */
			if (strict_text(t))
				return null_if_match(c, v, n);
			/* JSON in an array or a record (array_agg(profile), row(id, profile)):
			 * its values are under masked keys where it stands, escaped as elements */
			if (c->json_keys && c->json_keys->n &&
			    text_container_keys(c, v, n, t == T_JSON_ARRAY || t == T_JSONB_ARRAY, 0))
				return V_NULL;
		} else if (t == T_BYTEA && memchr(v, '\\', n)) {
			buf raw = {0}, m = {0};
			vresult r = V_SAME;
			/* its hex, or its escape form (bytea_output = escape) */
			if (bytea_unhex(v, n, &raw) != 0 && (raw.len = 0, octal_decode(v, n, &raw) != 0))
				r = null_if_match(c, v, n);
			else if (mask_string(c, raw.data ? raw.data : "", raw.len, 0, &m)) {
				bytea_hex(m.data, m.len, out);
				r = V_REWRITTEN;
			}
			buf_free(&raw);
			buf_free(&m);
			return r;
		}
		return mask_string(c, v, n, t == T_JSON || t == T_JSONB, out) ? V_REWRITTEN : V_SAME;
	}
	/* binary */
	if (t == T_JSONB) {
		if (n < 1 || v[0] != 1)
			return null_if_match(c, v, n);
		size_t at = out->len;
		buf_append(out, "\1", 1);
		if (mask_string(c, v + 1, n - 1, 1, out))
			return V_REWRITTEN;
		out->len = at;
		return V_SAME;
	}
	if (text_like(t))
		return mask_string(c, v, n, t == T_JSON, out) ? V_REWRITTEN : V_SAME;
	return binary_finds(c, t, v, n, 0) ? V_NULL : V_SAME;
}

int pgm_value(pgm_ctx *c, uint32_t type_oid, int whole, const char *v, size_t n, buf *out)
{
	const pgm_col col = {.type_oid = type_oid, .format = 0, .action = whole ? PGM_WHOLE : PGM_SCAN};
	c->vh_subj = NULL;
	vresult r = whole ? whole_value(c, &col, v, n, out) : scan_value(c, &col, v, n, out);
	return r == V_REWRITTEN ? 1 : r == V_NULL ? 2 : 0;
}

/* ---- messages ---- */

static void put_len(buf *out, size_t at)
{
	uint32_t l = (uint32_t)(out->len - at);
	out->data[at] = (char)(l >> 24);
	out->data[at + 1] = (char)(l >> 16);
	out->data[at + 2] = (char)(l >> 8);
	out->data[at + 3] = (char)l;
}

static void put_i32(buf *out, int32_t v)
{
	char b[4] = {(char)((uint32_t)v >> 24), (char)((uint32_t)v >> 16), (char)((uint32_t)v >> 8), (char)v};
	buf_append(out, b, 4);
}

/*
 * Whether the row's one scan vouches for this column's values: they are in
 * the body as the detectors read them (text format, binary text-like types;
 * not bytea's hex nor a binary number) and no column rule masks them whole.
 * Other columns are handled value by value whatever the scan saw.
 */
static int col_gated(const pgm_col *col)
{
	return col->action != PGM_WHOLE && col->type_oid != T_BYTEA &&
	       (col->format == 0 || text_like(col->type_oid));
}

/* 1: every column is gated; 0: some are; -1: none is (the row scan would serve nothing). */
static int row_gated(const pgm_desc *d)
{
	size_t g = 0;
	for (size_t i = 0; i < d->n; i++)
		g += (size_t)col_gated(&d->cols[i]);
	return g == d->n ? 1 : g ? 0 : -1;
}

static int hint_cmp(const void *a, const void *b)
{
	const mask_hint *x = a, *y = b;
	if (x->end != y->end)
		return x->end < y->end ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/*
 * Where the second of the two sorted runs h[0, n) is made of begins (n: it is
 * one run), sorting h when it is not two: a batch's hints are taken row by row
 * from both runs at once (batch_hints), not merged in a pass of their own.
 */
static size_t hint_runs(mask_hint *h, size_t n)
{
	size_t k = 1;
	while (k < n && h[k - 1].end <= h[k].end)
		k++;
	size_t j = k + 1;
	while (j < n && h[j - 1].end <= h[j].end)
		j++;
	if (j < n) {
		qsort(h, n, sizeof(*h), hint_cmp);
		return n;
	}
	return k < n ? k : n;
}

/*
 * Hints by end, so that each row's and each value's are one run; a
 * detector's own hints keep their order (its ends only grow), which is all
 * its search needs. Hyperscan reports by end: the literal hints, then the
 * digit ones, make two sorted runs (hint_runs), merged here.
 */
static void sort_hints(mask_hint *h, size_t n)
{
	size_t k = hint_runs(h, n);
	if (k == n)
		return;
	mask_hint *m = util_xmalloc(n * sizeof(*m));
	size_t a = 0, b = k, o = 0;
	while (a < k || b < n)
		m[o++] = b == n || (a < k && h[a].end <= h[b].end) ? h[a++] : h[b++];
	memcpy(h, m, n * sizeof(*h));
	free(m);
}

/* The first of the sorted hints h[0, n) that ends past at. */
static size_t hint_lower(const mask_hint *h, size_t n, size_t at)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (h[mid].end <= at)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The profile's hints carry every json_keys glob's literal (mask_glob_literal). */
static int keys_in_hints(const pgm_ctx *c)
{
	return c->json_keys && c->json_keys->n && mask_hint_literals(c->mp) == c->json_keys->n;
}

/*
 * Whether a value's length may hold a byte the digit walk joins to the
 * value's first run, right before its text (a digit or one of " .-/()+": a
 * value of 48 bytes is "\0\0\0" "0" and its text, and "0" "123-45-6789"
 * holds no SSN). Below 16 MiB the first byte is zero, which also keeps the
 * value before apart.
 */
static int len_joins(uint32_t raw)
{
	return raw > 0xffffff ||
	       (raw >= ' ' && (mask_cluster_byte((unsigned char)raw) || mask_cluster_byte((unsigned char)(raw >> 8)) ||
			       mask_cluster_byte((unsigned char)(raw >> 16))));
}

/*
 * A structurally valid DataRow body of n values (what the per-value walk
 * checks); where each value's length is goes to voff[0, n) (so the walk is
 * not a chain of dependent loads a second time).
 * *joins (joins may be NULL: not asked): some value's length is len_joins
 * (the row's scan may miss what that value starts with).
 */
static int row_valid(const char *body, size_t len, int16_t n, uint32_t *voff, int *joins)
{
	size_t p = 2;
	if (joins)
		*joins = 0;
	for (int16_t i = 0; i < n; i++) {
		if (len - p < 4)
			return 0;
		voff[i] = (uint32_t)p;
		uint32_t raw = pg_be32(body + p);
		int32_t vl = (int32_t)raw;
		p += 4;
		if (vl < -1 || (vl >= 0 && (size_t)vl > len - p))
			return 0;
		if (vl > 0) {
			p += (size_t)vl;
			if (joins)
				*joins |= len_joins(raw);
		}
	}
	return p == len;
}

/* c->voff holds n offsets at least. */
static void voff_reserve(pgm_ctx *c, size_t n)
{
	if (n > c->voff_cap) {
		c->voff_cap = n;
		free(c->voff);
		c->voff = util_xmalloc(c->voff_cap * sizeof(*c->voff));
	}
}

/*
 * The values of msgs[0, len) that take no hints from the batch (a column
 * rule's, or one its column confirms on its own: col_gated), into c->skip:
 * the scan reads them as zeros. Only in rows well formed and as d describes
 * them (the others take no hints from the batch).
 */
static void batch_skips(pgm_ctx *c, const pgm_desc *d, const char *msgs, size_t len)
{
	c->n_skip = c->n_brows = c->brow_next = 0;
	if (!d || !d->known || row_gated(d) != 0)
		return; /* every column takes hints, or none does (no batch then) */
	voff_reserve(c, d->n);
	for (size_t q = 0; len - q >= 5 && msgs[q] == 'D';) {
		uint32_t l = pg_be32(msgs + q + 1);
		if (l < 4 || l - 4 > len - q - 5)
			return;
		const char *body = msgs + q + 5;
		size_t blen = l - 4;
		if (blen >= 2 && be16(body) == (int16_t)d->n &&
		    row_valid(body, blen, (int16_t)d->n, c->voff, NULL)) {
			if (c->n_brows == c->brows_cap) {
				c->brows_cap = c->brows_cap ? 2 * c->brows_cap : 256;
				c->brow_at = util_xrealloc(c->brow_at, c->brows_cap * sizeof(*c->brow_at));
				c->brow_voff = util_xrealloc(c->brow_voff, c->brows_cap * d->n * sizeof(*c->brow_voff));
			}
			c->brow_at[c->n_brows] = q + 5;
			memcpy(c->brow_voff + c->n_brows * d->n, c->voff, d->n * sizeof(*c->voff));
			c->n_brows++;
			for (size_t i = 0; i < d->n; i++) {
				int32_t vl = (int32_t)pg_be32(body + c->voff[i]);
				if (vl <= 0 || col_gated(&d->cols[i]))
					continue;
				if (c->n_skip == c->skip_cap) {
					c->skip_cap = c->skip_cap ? 2 * c->skip_cap : 64;
					c->skip = util_xrealloc(c->skip, c->skip_cap * sizeof(*c->skip));
				}
				size_t v = q + 5 + c->voff[i] + 4;
				c->skip[c->n_skip++] = (mask_range){v, v + (size_t)vl};
			}
		}
		q += 1 + (size_t)l;
	}
}

void pgm_batch(pgm_ctx *c, const pgm_desc *d, const char *msgs, size_t len)
{
	pgm_batch_end(c);
	batch_skips(c, d, msgs, len);
	if (mask_hints(c->mp, c->scratch, msgs, len, &c->bhints, &c->bhints_cap, &c->n_bhints, c->skip,
		       c->n_skip) != 0)
		return; /* the rows are scanned one by one */
	c->bh_split = hint_runs(c->bhints, c->n_bhints);
	c->batch = msgs;
	c->batch_len = len;
	c->batch_mp = c->mp;
	c->batch_desc = d;
}

void pgm_batch_end(pgm_ctx *c)
{
	c->batch = NULL;
	c->batch_len = 0;
	c->batch_mp = NULL;
	c->batch_desc = NULL;
	c->n_skip = c->n_brows = c->brow_next = 0;
	c->n_bhints = c->bh_split = 0;
	c->bh_next = c->bh_next2 = 0;
}

int pgm_batch_holds(const pgm_ctx *c, const char *p)
{
	return c->batch && p >= c->batch && (size_t)(p - c->batch) < c->batch_len;
}

/* In the run h[lo, hi) (sorted by end), the first hint ending past off: on
 * from k when the rows come in order (a search per row mispredicts its way
 * through every hint of the read), else by a search. */
static size_t run_from(const mask_hint *h, size_t lo, size_t hi, size_t k, size_t off)
{
	if (k >= lo && k <= hi && (k == lo || h[k - 1].end <= off)) {
		while (k < hi && h[k].end <= off)
			k++;
		return k;
	}
	return lo + hint_lower(h + lo, hi - lo, off);
}

/* In the run h[k, hi), past the last hint ending by end. */
static size_t run_end(const mask_hint *h, size_t k, size_t hi, size_t end)
{
	while (k < hi && h[k].end <= end)
		k++;
	return k;
}

/*
 * The row body[0, len)'s hints from the batch, into c->hints with ends
 * relative to body, sorted. 0 when the batch holds the row, -1 when it does
 * not.
 */
static int batch_hints(pgm_ctx *c, const pgm_desc *d, const char *body, size_t len)
{
	if (!c->batch || c->batch_mp != c->mp || (c->n_skip && d != c->batch_desc) || body < c->batch ||
	    len > c->batch_len ||
	    (size_t)(body - c->batch) > c->batch_len - len)
		return -1;
	size_t off = (size_t)(body - c->batch), end = off + len;
	size_t k = run_from(c->bhints, 0, c->bh_split, c->bh_next, off);
	size_t k2 = run_from(c->bhints, c->bh_split, c->n_bhints, c->bh_next2, off);
	/* the row's hints of both runs, merged (on equal ends the first run's first) */
	size_t e1 = run_end(c->bhints, k, c->bh_split, end), e2 = run_end(c->bhints, k2, c->n_bhints, end);
	c->n_hints = 0;
	if (c->hints_cap < (e1 - k) + (e2 - k2)) {
		c->hints_cap = (e1 - k) + (e2 - k2) + 64;
		c->hints = util_xrealloc(c->hints, c->hints_cap * sizeof(*c->hints));
	}
	while (k < e1 || k2 < e2) {
		const mask_hint *h = k2 == e2 || (k < e1 && c->bhints[k].end <= c->bhints[k2].end) ? &c->bhints[k++]
											  : &c->bhints[k2++];
		c->hints[c->n_hints++] = (mask_hint){h->end - off, h->id};
	}
	c->bh_next = k;
	c->bh_next2 = k2;
	return 0;
}

int pgm_data_row(pgm_ctx *c, const pgm_desc *d, const char *body, size_t len, buf *out)
{
	if (len < 2)
		return -1;
	int16_t n = be16(body);
	if (n < 0 || len > UINT32_MAX)
		return -1;
	voff_reserve(c, (size_t)n);
	int described = d && d->known && d->n == (size_t)n;
	/*
	 * One Hyperscan look at the whole body says where something may match:
	 * a row with nothing to mask in its gated columns and no other column is
	 * done here; otherwise only the gated values holding a hint end are
	 * confirmed, with those hints (no second scan).
	 */
	/* a row of 16 MiB or more may hold a value whose length's first byte is
	 * not zero: its values may not lie apart as mask_hints needs */
	int gated = described && len < ((size_t)1 << 24) ? row_gated(d) : -1;
	int joins = 0; /* (asked only where it counts: every column gated) */
	const uint32_t *voff = c->voff;
	if (gated == 0 && c->batch && c->batch_desc == d && c->brow_next < c->n_brows &&
	    c->batch + c->brow_at[c->brow_next] == body) {
		/* batch_skips walked it (the batch's next row, well formed) */
		voff = c->brow_voff + c->brow_next++ * (size_t)n;
	} else if (!row_valid(body, len, n, c->voff, gated == 1 ? &joins : NULL)) {
		return -1; /* before anything is masked or counted: a malformed row's
			    * digits may run from its last value into what follows */
	}
	int hinted = 0, keys = 0, by_hint = 0, bs = 0;
	c->n_hints = 0;
	int have = 0; /* the row's hints, sorted, are in c->hints */
	if (gated >= 0 && batch_hints(c, d, body, len) == 0) {
		have = 1;
	} else if (gated >= 0 &&
		   mask_hints(c->mp, c->scratch, body, len, &c->hints, &c->hints_cap, &c->n_hints, NULL, 0) == 0) {
		sort_hints(c->hints, c->n_hints);
		have = 1;
	}
	if (have) {
		/* keys: where a json_keys key may be; by_hint: the hints say where;
		 * bs: a backslash, which a bytea's hex starts with (hex_runs: no
		 * detector's hint is in hex) and a key spelled with an escape has */
		by_hint = keys_in_hints(c);
		bs = memchr(body, '\\', len) != NULL;
		keys = c->json_keys && c->json_keys->n &&
		       (by_hint ? literal_among(c, 0, c->n_hints) || bs : may_hold_key(c->json_keys, body, len));
		if (gated == 1 && !c->n_hints && !keys && !bs && !joins)
			return 0;
		hinted = 1;
	}
	c->vh_nokeys = hinted && !keys;
	c->vh_nobs = hinted && !bs;
	c->vh_by_hint = by_hint;
	size_t start = 0;         /* where the rewritten message begins in out */
	size_t copied = 0;        /* body[0, copied) is in out (when changed) */
	size_t hk = 0;            /* c->hints[hk] is the first not yet passed */
	int changed = 0;
	/* only values holding a hint are looked at: the others pass at a glance */
	int by_hints_alone = hinted && gated == 1 && !keys && !bs && !joins;
	for (int16_t i = 0; i < n; i++) { /* row_valid: every length is in bounds */
		size_t vstart = voff[i], p = vstart + 4;
		int32_t vl = (int32_t)pg_be32(body + vstart);
		if (by_hints_alone) {
			while (hk < c->n_hints && c->hints[hk].end <= p)
				hk++;
			if (hk == c->n_hints)
				break; /* nothing after this can change */
			if (vl < 0 || c->hints[hk].end > p + (size_t)vl)
				continue;
		}
		vresult r = V_SAME;
		c->tmp.len = 0;
		const pgm_col *col = described ? &d->cols[i] : NULL;
		/* (a value whose length may join its first digits: its own scan) */
		int use_hints = hinted && col_gated(col) && !(vl > 0 && len_joins((uint32_t)vl));
		int look = vl >= 0;
		size_t lo = 0, cnt = 0;
		if (look && use_hints) {
			/* the hints ending inside this value (values and hints both in order) */
			while (hk < c->n_hints && c->hints[hk].end <= p)
				hk++;
			lo = hk;
			while (hk < c->n_hints && c->hints[hk].end <= p + (size_t)vl)
				hk++;
			cnt = hk - lo;
		}
		if (look && use_hints)
			look = cnt > 0 || (bs && memchr(body + p, '\\', (size_t)vl)) ||
			       (keys && !by_hint && may_hold_key(c->json_keys, body + p, (size_t)vl));
		if (look) {
			if (use_hints) {
				c->vh_subj = body + p;
				c->vh_len = (size_t)vl;
				c->vh_off = p;
				c->vh_lo = lo;
				c->vh_n = cnt;
			}
			if (col && col->action == PGM_WHOLE)
				r = whole_value(c, col, body + p, (size_t)vl, &c->tmp);
			else
				r = scan_value(c, col, body + p, (size_t)vl, &c->tmp);
			c->vh_subj = NULL;
		}
		if (r != V_SAME) {
			if (!changed) {
				changed = 1;
				start = out->len;
				buf_append(out, "D\0\0\0\0", 5);
			}
			/* what is unchanged since the last rewritten value, in one piece */
			buf_append(out, body + copied, vstart - copied);
			if (r == V_NULL) {
				put_i32(out, -1);
			} else {
				put_i32(out, (int32_t)c->tmp.len);
				buf_append(out, c->tmp.data, c->tmp.len);
			}
			copied = p + (vl > 0 ? (size_t)vl : 0);
		}
	}
	if (!changed)
		return 0;
	buf_append(out, body + copied, len - copied);
	put_len(out, start + 1);
	return 1;
}

/* Text format: a field's value, its escapes undone (PostgreSQL writes \b \f \n \r \t \v, \\ and \<delimiter>). */
static void copy_unescape(const char *in, size_t n, buf *dst)
{
	for (size_t k = 0; k < n; k++) {
		char ch = in[k];
		if (ch == '\\' && k + 1 < n) {
			switch ((ch = in[++k])) {
			case 'b': ch = '\b'; break;
			case 'f': ch = '\f'; break;
			case 'n': ch = '\n'; break;
			case 'r': ch = '\r'; break;
			case 't': ch = '\t'; break;
			case 'v': ch = '\v'; break;
			default: break;
			}
		}
		buf_append(dst, &ch, 1);
	}
}

/* ... and escaped again: the result holds no raw delimiter, newline or carriage return. */
static void copy_escape(const char *v, size_t n, char delimiter, buf *dst)
{
	for (size_t k = 0; k < n; k++) {
		char ch = v[k], esc = 0;
		switch (ch) {
		case '\b': esc = 'b'; break;
		case '\f': esc = 'f'; break;
		case '\n': esc = 'n'; break;
		case '\r': esc = 'r'; break;
		case '\t': esc = 't'; break;
		case '\v': esc = 'v'; break;
		case '\\': esc = '\\'; break;
		default: esc = ch == delimiter ? ch : 0; break;
		}
		if (esc) {
			char two[2] = {'\\', esc};
			buf_append(dst, two, 2);
		} else {
			buf_append(dst, &ch, 1);
		}
	}
}

/*
 * Column rules, then detectors, field by field over the rows of one CopyData
 * into dst; 1 when something was masked. Detectors run over each field's
 * value, never over the row: a match across a delimiter or a quote (a URL's
 * password running into the next CSV field, a private key's markers in two
 * fields) would merge fields or leave a quote open.
 */
static int copy_fields(pgm_ctx *c, const pgm_copy *cp, const char *in, size_t n, buf *dst)
{
	const char esc = cp->escape ? cp->escape : cp->quote;
	size_t pos = 0, last = 0, f = 0;
	int changed = 0;
	buf m = {0}, raw = {0};
	for (;;) {
		size_t j = pos, cs = pos, ce;   /* the field is [pos, j); its content [cs, ce) */
		int quoted = 0;
		if (cp->csv && pos < n && in[pos] == cp->quote) {
			/* inside quotes PostgreSQL writes a quote or the escape after the
			 * escape (ESCAPE; by default the quote: a quote doubled) */
			quoted = 1;
			j = pos + 1;
			while (j < n) {
				if (in[j] == esc && j + 1 < n && (in[j + 1] == cp->quote || in[j + 1] == esc)) {
					j += 2;
					continue;
				}
				if (in[j] == cp->quote)
					break;
				j++;
			}
			cs = pos + 1;
			ce = j;
			if (j < n)
				j++;
		}
		while (j < n && in[j] != cp->delimiter && in[j] != '\n') {
			/* text format: a backslash escapes the next byte (the delimiter in data
			 * is written \<delimiter>) */
			if (!cp->csv && in[j] == '\\' && j + 1 < n)
				j++;
			j++;
		}
		if (!quoted)
			ce = j;
		int is_null = cp->csv ? (!quoted && j == pos) : (j - pos == 2 && in[pos] == '\\' && in[pos + 1] == 'N');
		int whole = cp->all_whole || (f < cp->n_whole && cp->whole[f]);
		/* the value: a quoted CSV field's doubled quotes, a text field's escapes
		 * undone (done again on what is written back) */
		const char *v = in + cs;
		size_t vn = ce - cs;
		if (!is_null && (quoted || (!cp->csv && memchr(v, '\\', vn)))) {
			raw.len = 0;
			if (quoted) {
				for (size_t k = cs; k < ce; k++) {
					if (in[k] == esc && k + 1 < ce && (in[k + 1] == cp->quote || in[k + 1] == esc))
						k++;
					buf_append(&raw, in + k, 1);
				}
			} else {
				copy_unescape(v, vn, &raw);
			}
			v = raw.data ? raw.data : "";
			vn = raw.len;
		}
		/* a JSON document that may hold a json_keys key: masked whole */
		m.len = 0;
		int masked = 0;
		if (!is_null && whole) {
			mask_whole(c->mp, v, vn, &m);
			masked = 1;
			count_column(c);
		} else if (!is_null && vn) {
			/* a JSON document (COPY gives no types: one that parses) stays one,
			 * its json_keys values masked as in rows */
			int is_json = looks_json(v, vn) && json_valid(v, vn);
			masked = mask_string(c, v, vn, is_json, &m);
		}
		/* a number, date, uuid, ... cannot hold masked text: NULL, as in rows */
		int null_out = masked && f < cp->n_types && strict_text(cp->types[f]);
		if (null_out) {
			buf_append(dst, in + last, pos - last);
			if (!cp->csv)
				buf_append(dst, "\\N", 2);
			last = j;
			changed = 1;
		} else if (masked) {
			buf_append(dst, in + last, pos - last);
			int special = m.len && (memchr(m.data, cp->delimiter, m.len) || memchr(m.data, cp->quote, m.len) ||
				      memchr(m.data, '\n', m.len) || memchr(m.data, '\r', m.len));
			if (cp->csv && (quoted || whole || special)) {
				buf_append(dst, &cp->quote, 1);
				for (size_t k = 0; k < m.len; k++) {
					if (m.data[k] == cp->quote || m.data[k] == esc)
						buf_append(dst, &esc, 1);
					buf_append(dst, m.data + k, 1);
				}
				buf_append(dst, &cp->quote, 1);
			} else if (!cp->csv) {
				copy_escape(m.data, m.len, cp->delimiter, dst);
			} else {
				buf_append(dst, m.data, m.len); /* unquoted CSV: nothing in it needs quoting */
			}
			last = j;
			changed = 1;
		}
		f++;
		if (j < n && in[j] == cp->delimiter) {
			pos = j + 1;
			continue;
		}
		/* the end of the row (one newline: PostgreSQL quotes or escapes any other);
		 * another may follow in the same message */
		if (j + 1 >= n)
			break;
		pos = j + 1;
		f = 0;
	}
	if (changed)
		buf_append(dst, in + last, n - last);
	buf_free(&m);
	buf_free(&raw);
	return changed;
}

int pgm_copy_data(pgm_ctx *c, const pgm_copy *cp, const char *body, size_t len, buf *out)
{
	/* the gate as for rows, where the raw row is the values (no escapes, no
	 * quotes, no bytes in hex: the gate reads none of them) */
	int plain = !cp || (!cp->all_whole && !memchr(body, '\\', len) && !(cp->csv && memchr(body, cp->quote, len)));
	for (size_t i = 0; cp && plain && i < cp->n_whole; i++)
		plain = !cp->whole[i];
	if (plain && !mask_may_match(c->mp, c->scratch, body, len) &&
	    !(c->json_keys && c->json_keys->n && may_hold_key(c->json_keys, body, len)))
		return 0;
	size_t start = out->len;
	buf_append(out, "d\0\0\0\0", 5);
	int changed = cp ? copy_fields(c, cp, body, len, out)
			 : mask_text(c->mp, c->scratch, body, len, out, c->counts) > 0;
	if (!changed) {
		out->len = start;
		return 0;
	}
	put_len(out, start + 1);
	return 1;
}

/* The SQLSTATE field of an ErrorResponse / NoticeResponse body starts with class. */
static int notice_class(const char *body, size_t len, const char *class)
{
	for (size_t p = 0; p < len && body[p];) {
		const char *nul = memchr(body + p + 1, '\0', len - p - 1);
		if (!nul)
			return 0;
		if (body[p] == 'C' && (size_t)(nul - body) - (p + 1) >= 2 && memcmp(body + p + 1, class, 2) == 0)
			return 1;
		p = (size_t)(nul - body) + 1;
	}
	return 0;
}

#define ROW_DETAIL_MASKED "(the row's values are masked by warden)"
#define PIECE_MASKED "(masked by warden: it may quote a piece of a value)"

int pgm_notice(pgm_ctx *c, char type, const char *body, size_t len, buf *out)
{
	/* a constraint's DETAIL (an integrity constraint's, class 23, a view's
	 * WITH CHECK OPTION's, 44) quotes a row (the failing one, whole, the
	 * view's hidden columns too, or another's key): a column rule's values,
	 * and each value cut to 64 bytes, a piece no detector knows */
	int row_detail = (c->row_details || c->piece_details) &&
			 (notice_class(body, len, "23") || notice_class(body, len, "44"));
	/* a data exception's DETAIL and CONTEXT quote a piece of the value that
	 * failed: ssn::jsonb's "Token "-09" is invalid" and "JSON data, line 1: 219-09..." */
	int piece = c->piece_details && notice_class(body, len, "22");
	/* field by field (a code byte, then a string), so no match runs across fields */
	size_t start = out->len, p = 0;
	char hdr[5] = {type, 0, 0, 0, 0};
	buf_append(out, hdr, 5);
	int changed = 0;
	while (p < len && body[p]) {
		const char *nul = memchr(body + p + 1, '\0', len - p - 1);
		if (!nul) {
			out->len = start;
			return -1;
		}
		size_t s = p + 1, e = (size_t)(nul - body);
		buf_append(out, body + p, 1);
		if (row_detail && body[p] == 'D') {
			buf_append(out, ROW_DETAIL_MASKED, sizeof(ROW_DETAIL_MASKED) - 1);
			changed = 1;
		} else if (piece && (body[p] == 'D' || body[p] == 'W')) {
			buf_append(out, PIECE_MASKED, sizeof(PIECE_MASKED) - 1);
			changed = 1;
		} else if (mask_string(c, body + s, e - s, 0, out)) {
			changed = 1;
		} else {
			buf_append(out, body + s, e - s);
		}
		buf_append(out, "", 1);
		p = e + 1;
	}
	if (!changed || p + 1 != len) {
		out->len = start;
		return changed ? -1 : 0;
	}
	buf_append(out, "", 1);
	put_len(out, start + 1);
	return 1;
}

int pgm_notification(pgm_ctx *c, const char *body, size_t len, buf *out)
{
	/* the sender's process id, then the channel and the payload, each to its NUL */
	if (len < 4 + 2)
		return -1;
	const char *ch_end = memchr(body + 4, '\0', len - 4);
	if (!ch_end || (size_t)(ch_end - body) + 1 >= len)
		return -1;
	size_t ps = (size_t)(ch_end - body) + 1;
	const char *pl_end = memchr(body + ps, '\0', len - ps);
	if (!pl_end || (size_t)(pl_end - body) + 1 != len)
		return -1;
	size_t start = out->len;
	buf_append(out, "A\0\0\0\0", 5);
	buf_append(out, body, 4);
	int changed = 0;
	const char *part[2] = {body + 4, body + ps};
	size_t plen[2] = {(size_t)(ch_end - body) - 4, (size_t)(pl_end - body) - ps};
	for (int i = 0; i < 2; i++) {
		if (mask_string(c, part[i], plen[i], 0, out))
			changed = 1;
		else
			buf_append(out, part[i], plen[i]);
		buf_append(out, "", 1);
	}
	if (!changed) {
		out->len = start;
		return 0;
	}
	put_len(out, start + 1);
	return 1;
}

int pgm_parameter_status(pgm_ctx *c, const char *body, size_t len, buf *out)
{
	/* the parameter's name, then its value, each to its NUL */
	const char *name_end = memchr(body, '\0', len);
	if (!name_end || name_end == body)
		return -1;
	size_t vs = (size_t)(name_end - body) + 1;
	const char *val_end = vs < len ? memchr(body + vs, '\0', len - vs) : NULL;
	if (!val_end || (size_t)(val_end - body) + 1 != len)
		return -1;
	size_t start = out->len;
	buf_append(out, "S\0\0\0\0", 5);
	buf_append(out, body, vs);
	if (!mask_string(c, body + vs, (size_t)(val_end - body) - vs, 0, out)) {
		out->len = start;
		return 0;
	}
	buf_append(out, "", 1);
	put_len(out, start + 1);
	return 1;
}

int pgm_function_result(pgm_ctx *c, const char *body, size_t len, buf *out)
{
	if (len < 4)
		return -1;
	int32_t vl = (int32_t)pg_be32(body);
	if (vl < -1 || (vl >= 0 && (size_t)vl != len - 4) || (vl == -1 && len != 4))
		return -1;
	if (vl <= 0 || null_if_match(c, body + 4, (size_t)vl) == V_SAME)
		return 0;
	buf_append(out, "V\0\0\0\x08", 5);
	put_i32(out, -1);
	return 1;
}

int pgm_row_json(const pgm_desc *d, const char *body, size_t len, buf *cap)
{
	if (len < 2)
		return -1;
	int16_t n = be16(body);
	if (n < 0)
		return -1;
	int described = d && d->known && d->n == (size_t)n;
	json_t *row = json_array();
	if (!row)
		return -1;
	size_t p = 2;
	for (int16_t i = 0; i < n; i++) {
		if (len - p < 4) {
			json_decref(row);
			return -1;
		}
		int32_t vl = (int32_t)pg_be32(body + p);
		p += 4;
		if (vl < -1 || (vl >= 0 && (size_t)vl > len - p)) {
			json_decref(row);
			return -1;
		}
		json_t *v = NULL;
		if (vl < 0) {
			v = json_null();
		} else {
			int text = described && d->cols[i].format == 0;
			if (text)
				v = json_stringn(body + p, (size_t)vl);
			if (!v) {
				char *hex = malloc(2 * (size_t)vl + 1);
				if (!hex)
					abort();
				util_hex((const unsigned char *)body + p, (size_t)vl, hex);
				v = json_pack("{s:s}", "hex", hex);
				free(hex);
			}
			p += (size_t)vl;
		}
		json_array_append_new(row, v);
	}
	char *t = p == len ? json_dumps(row, JSON_COMPACT) : NULL;
	json_decref(row);
	if (!t)
		return -1;
	buf_append(cap, t, strlen(t));
	free(t);
	return 0;
}
