/*
 * libFuzzer target for the values under json_keys in src/proto/pg/pgmask.c:
 * the in-place pass (jsmn token ranges, the document copied around the
 * replaced values) against the jansson tree walk it stands in for.
 *
 * Input: byte 0 bits 0-1 the column type (text, json, jsonb, text), bit 2
 * partial style instead of redact; the rest is the value (a JSON document, or
 * not), sent as a one-column text-format DataRow. Both ways (pgm_ctx
 * json_tree 0 and 1) mask it with every detector and the keys "secret*",
 * "token", "pass?ord" (Hyperscan, the keys' literals as hints).
 * Invariants (abort on violation):
 *   - both return 0 or 1 and out is one DataRow of one value;
 *   - the detectors count the same; when jansson reads the value, the
 *     in-place pass counts at least the keys the walk counts (a key present
 *     twice is masked twice; a value jansson cannot read but jsmn can, say
 *     with a 30-digit number, has its keys masked rather than all of it);
 *   - when jansson reads the value: both results are the same bytes, or
 *     both read as JSON and are equal as JSON (numbers, spacing and repeated
 *     keys are the only freedom the in-place pass has).
 */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/pg/pgmask.h"

#define X(id, name) name,
static const char *const all_names[] = {MASK_DETECTORS(X)};
#undef X

#define N_COUNTS (MASK_DET_COUNT + PGM_COUNT_EXTRA)
static const uint32_t types[4] = {25, 114, 3802, 25};

static mask_profile *prof[2];
static mask_scratch *scr[2];
static char *key_globs[] = {"secret*", "token", "pass?ord"};
static const config_strlist keys = {key_globs, 3};

static void init(void)
{
	char err[256];
	char **lits;
	size_t n_lits = mask_key_literals((const char *const *)key_globs, 3, &lits);
	for (int s = 0; s < 2; s++) {
		mask_spec spec = {
			.detectors = all_names,
			.n_detectors = MASK_DET_COUNT,
			.hint_literals = (const char *const *)lits,
			.n_hint_literals = n_lits,
			.style = s ? MASK_STYLE_PARTIAL : MASK_STYLE_REDACT,
			.engine = MASK_ENGINE_AUTO,
		};
		prof[s] = mask_profile_new(&spec, err, sizeof(err));
		if (!prof[s])
			abort();
		scr[s] = mask_scratch_new(prof[s]);
		if (!scr[s])
			abort();
	}
	mask_literals_free(lits, n_lits);
}

static uint32_t be32(const char *p)
{
	return ((uint32_t)(unsigned char)p[0] << 24) | ((uint32_t)(unsigned char)p[1] << 16) |
	       ((uint32_t)(unsigned char)p[2] << 8) | (unsigned char)p[3];
}

/* The value of a one-column DataRow message (type byte and length first). */
static void row_value(const buf *out, const char **v, size_t *n)
{
	if (out->len < 11 || out->data[0] != 'D' || be32(out->data + 1) != out->len - 1 ||
	    out->data[5] != 0 || out->data[6] != 1)
		abort();
	uint32_t l = be32(out->data + 7);
	if (l != out->len - 11)
		abort();
	*v = out->data + 11;
	*n = l;
}

static json_t *load(const char *v, size_t n)
{
	json_error_t err;
	return json_loadb(v, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!prof[0])
		init();
	if (size < 1 || size > 65536)
		return 0;
	int style = (data[0] >> 2) & 1;
	pgm_col col = {.type_oid = types[data[0] & 3], .action = PGM_SCAN};
	pgm_desc d = {.cols = &col, .n = 1, .cap = 1, .known = 1};
	const char *doc = (const char *)data + 1;
	size_t dn = size - 1;

	/* exact-size heap copy of the row body, so ASan sees any read past it */
	size_t len = 2 + 4 + dn;
	char *body = malloc(len);
	if (!body)
		abort();
	body[0] = 0;
	body[1] = 1;
	body[2] = (char)(dn >> 24);
	body[3] = (char)(dn >> 16);
	body[4] = (char)(dn >> 8);
	body[5] = (char)dn;
	memcpy(body + 6, doc, dn);

	buf out[2] = {{0}};
	uint32_t counts[2][N_COUNTS];
	int rc[2];
	const char *v[2];
	size_t vn[2];
	memset(counts, 0, sizeof(counts));
	for (int t = 0; t < 2; t++) {
		pgm_ctx c = {.mp = prof[style], .scratch = scr[style], .json_keys = &keys, .counts = counts[t],
			     .json_tree = t};
		rc[t] = pgm_data_row(&c, &d, body, len, &out[t]);
		pgm_ctx_release(&c);
		if (rc[t] != 0 && rc[t] != 1)
			abort();
		if (rc[t] == 0) {
			if (out[t].len)
				abort();
			v[t] = doc;
			vn[t] = dn;
		} else {
			row_value(&out[t], &v[t], &vn[t]);
		}
	}
	json_t *in = load(doc, dn);
	size_t total = mask_detector_total(prof[style]);
	if (memcmp(counts[0], counts[1], total * sizeof(uint32_t)) != 0 ||
	    counts[0][total + PGM_COUNT_COLUMN] != counts[1][total + PGM_COUNT_COLUMN] ||
	    (in && counts[0][total + PGM_COUNT_JSON_KEY] < counts[1][total + PGM_COUNT_JSON_KEY]))
		abort();

	if (in && (vn[0] != vn[1] || memcmp(v[0], v[1], vn[0]) != 0)) {
		json_t *a = load(v[0], vn[0]), *b = load(v[1], vn[1]);
		if (!a || !b || !json_equal(a, b))
			abort();
		json_decref(a);
		json_decref(b);
	}
	json_decref(in);
	buf_free(&out[0]);
	buf_free(&out[1]);
	free(body);
	return 0;
}
