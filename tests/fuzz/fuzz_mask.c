/*
 * libFuzzer target for src/mask/mask.c. The input is one value (arbitrary
 * bytes, copied to an exact-size heap buffer so ASan flags any read past
 * len), masked with every built-in detector plus two custom patterns, in the
 * redact style, by both engines. Invariants: the Hyperscan engine (hint
 * databases, numeric gate, windowed PCRE2 confirmation) gives exactly the
 * PCRE2 engine's output and counts; a second run gives the same bytes; a
 * return of 0 leaves out untouched; n replacements of "****" over spans of
 * at least one byte bound the output length; counts add up to the return.
 * And the gate over a line of several fields (COPY): with the input's first
 * byte as the delimiter, when mask_may_match (built-in detectors, Hyperscan)
 * says the rest holds nothing, PCRE2 finds nothing in any of its fields.
 *
 * Seeds in tests/fuzz/corpus/fuzz_mask/ hold values of every detector in
 * free text, so mutations start near the interesting boundaries.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mask/mask.h"

#define X(id, name) name,
static const char *const all_names[] = {MASK_DETECTORS(X)};
#undef X
static const char *const custom_names[] = {"employee_id", "ticket"};
static const char *const custom_patterns[] = {"EMP-[0-9]{6}", "(?<![A-Z])TCK[0-9]{4,}"};

static mask_profile *prof[2];
static mask_scratch *scr[2];
static mask_profile *gate_prof[2]; /* built-in detectors only: Hyperscan (gated), PCRE2 */
static mask_scratch *gate_scr[2];

/* The profile spec gives and its scratch; aborts when either cannot be made. */
static mask_profile *make(const mask_spec *spec, mask_scratch **scratch)
{
	char err[256];
	mask_profile *p = mask_profile_new(spec, err, sizeof(err));
	if (!p || !(*scratch = mask_scratch_new(p)))
		abort();
	return p;
}

static void init(void)
{
	static const mask_engine eng[2] = {MASK_ENGINE_HYPERSCAN, MASK_ENGINE_PCRE2};
	for (int i = 0; i < 2; i++) {
		mask_spec spec = {
			.detectors = all_names,
			.n_detectors = MASK_DET_COUNT,
			.custom_names = custom_names,
			.custom_patterns = custom_patterns,
			.n_custom = 2,
			.style = MASK_STYLE_REDACT,
			.engine = eng[i],
		};
		prof[i] = make(&spec, &scr[i]);
		spec.n_custom = 0;
		gate_prof[i] = make(&spec, &gate_scr[i]);
	}
}

static size_t run(int e, const char *in, size_t len, buf *out, uint32_t *counts)
{
	buf_append(out, "#", 1); /* mask_text appends: the prefix must survive */
	size_t n = mask_text(prof[e], scr[e], in, len, out, counts);
	if (out->len < 1 || out->data[0] != '#')
		abort();
	if (n == 0 && out->len != 1)
		abort();
	if (n > 0 && (out->len - 1 < 4 * n || out->len - 1 > len + 3 * n))
		abort();
	uint32_t total = 0;
	for (size_t i = 0; i < MASK_DET_COUNT + 2; i++)
		total += counts[i];
	if (total != n)
		abort();
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!prof[0])
		init();
	char *in = malloc(size ? size : 1);
	if (!in)
		return 0;
	if (size)
		memcpy(in, data, size);

	buf out[3] = {{0}};
	uint32_t counts[3][MASK_DET_COUNT + 2];
	memset(counts, 0, sizeof(counts));
	size_t n0 = run(0, in, size, &out[0], counts[0]);
	size_t n1 = run(1, in, size, &out[1], counts[1]);
	size_t n2 = run(0, in, size, &out[2], counts[2]); /* deterministic */
	if (n0 != n1 || n0 != n2 || out[0].len != out[1].len || out[0].len != out[2].len ||
	    memcmp(out[0].data, out[1].data, out[0].len) != 0 ||
	    memcmp(out[0].data, out[2].data, out[0].len) != 0 ||
	    memcmp(counts[0], counts[1], sizeof(counts[0])) != 0 ||
	    memcmp(counts[0], counts[2], sizeof(counts[0])) != 0)
		abort();

	if (size > 1 && !mask_may_match(gate_prof[0], gate_scr[0], in + 1, size - 1)) {
		const char *f = in + 1, *end = in + size;
		while (f <= end) {
			const char *d = memchr(f, in[0], (size_t)(end - f));
			size_t fl = (size_t)((d ? d : end) - f);
			buf o = {0};
			if (mask_text(gate_prof[1], gate_scr[1], f, fl, &o, NULL) != 0)
				abort(); /* the gate passed over a field holding a match */
			buf_free(&o);
			f += fl + 1;
		}
	}

	buf whole = {0};
	mask_whole(prof[0], in, size, &whole);
	if (whole.len != 4)
		abort();
	buf_free(&whole);
	for (int i = 0; i < 3; i++)
		buf_free(&out[i]);
	free(in);
	return 0;
}
