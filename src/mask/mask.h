/*
 * mask — finds sensitive values in text and rewrites them, in process, at
 * memory speed (the mask stage). Protocol-neutral: it sees byte strings
 * (one column value, one JSON string), never a wire format.
 *
 * A profile is compiled once at config load from detector names (built-in,
 * with validators where a pattern alone is wrong: Luhn for cards, the IBAN
 * checksum, SSN area rules), custom patterns and a style; it is immutable and
 * shared by every thread. Each thread scans with its own scratch.
 *
 * Engines: Hyperscan (multi-pattern, one pass, start-of-match only where
 * something matched) where available, else PCRE2 with JIT; both give the same
 * results (the unit tests run one corpus through both).
 */
#ifndef WARDEN_MASK_H
#define WARDEN_MASK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

typedef enum { MASK_ENGINE_AUTO = 0, MASK_ENGINE_HYPERSCAN, MASK_ENGINE_PCRE2 } mask_engine;
typedef enum { MASK_STYLE_REDACT = 0, MASK_STYLE_PARTIAL, MASK_STYLE_HASH } mask_style;

#include "mask/detectors.h"

#define X(id, name) MASK_DET_##id,
enum { MASK_DETECTORS(X) MASK_DET_COUNT };
#undef X
#define MASK_MAX_CUSTOM 64

typedef struct mask_spec {
	const char *const *detectors;   /* built-in names to enable */
	size_t n_detectors;
	const char *const *custom_names;    /* custom detectors: name + regex (PCRE syntax) */
	const char *const *custom_patterns;
	size_t n_custom;
	mask_style style;
	const char *const *hint_literals;   /* reported by mask_hints as MASK_HINT_LITERAL + i */
	size_t n_hint_literals;             /* (case-insensitive; the caller's own cues) */
	const unsigned char *hash_key;  /* HMAC-SHA256 key for MASK_STYLE_HASH */
	size_t hash_key_len;
	mask_engine engine;
} mask_spec;

typedef struct mask_profile mask_profile;
typedef struct mask_scratch mask_scratch;

/* NULL with a precise message in err (unknown detector, bad custom pattern, no engine). */
mask_profile *mask_profile_new(const mask_spec *spec, char *err, size_t errlen);
void mask_profile_free(mask_profile *p);
mask_engine mask_profile_engine(const mask_profile *p);   /* the engine actually used */

/* One per thread. */
mask_scratch *mask_scratch_new(const mask_profile *p);
void mask_scratch_free(mask_scratch *s);

/*
 * Scans in[0, len). Returns the number of values masked; when > 0, out holds
 * the rewritten text (out is appended to; untouched when 0). counts (may be
 * NULL) has MASK_DET_COUNT + n_custom slots and is incremented per detector.
 */
size_t mask_text(const mask_profile *p, mask_scratch *s, const char *in, size_t len, buf *out,
		 uint32_t *counts);

/*
 * 0 only when mask_text would find nothing in in[0, len) nor in any part of
 * it (a message holding several values: one call instead of one per value);
 * 1 when it may. Hyperscan only; otherwise always 1.
 */
int mask_may_match(const mask_profile *p, mask_scratch *s, const char *in, size_t len);

/*
 * A hint: Hyperscan saw, ending at end, what every match of detector id
 * contains (its literal part or a superset of it). A part of a text that holds
 * no hint end holds no match.
 */
typedef struct mask_hint {
	size_t end;
	uint32_t id;
} mask_hint;
#define MASK_HINTS_MAX 65536
/* Hints with id >= this are the spec's hint_literals, not detectors. */
#define MASK_HINT_LITERAL 0x40000000u

/* The hint literals the profile reports (0 with PCRE2: mask_hints then says -1). */
size_t mask_hint_literals(const mask_profile *p);

/*
 * The longest run of a glob (fnmatch syntax) with no wildcard: every string
 * the glob matches contains it. NULL when the glob has none (e.g. "*").
 */
const char *mask_glob_literal(const char *glob, size_t *len);

/*
 * hint_literals for a list of globs (json_keys): each glob's literal, in
 * order, into *out (free with mask_literals_free). Returns how many: n, or 0
 * when a glob has none (then only a look at every value can tell).
 */
size_t mask_key_literals(const char *const *globs, size_t n, char ***out);
void mask_literals_free(char **l, size_t n);

/* Whether the digit walk (mask_hints) reads byte b as part of a cluster of
 * digits: a digit or one of " .-/()+". A byte that is not is a part's bound. */
static inline bool mask_cluster_byte(unsigned char b)
{
	return (b >= '0' && b <= '9') || b == ' ' || b == '.' || b == '-' || b == '/' || b == '(' || b == ')' || b == '+';
}

/*
 * The hints in in[0, len), into (*h)[0, *n) in the order Hyperscan reported
 * them (*h grows; *cap is its size). One scan of a whole message (a DataRow
 * with all its values) tells which parts may hold a match; mask_text_hinted
 * then confirms each part with these hints instead of scanning it again.
 * 0 when done; -1 when the profile cannot tell (PCRE2, anchored custom
 * patterns) or more than MASK_HINTS_MAX hints were seen: then every part may
 * match and mask_text must scan it.
 * The parts must lie apart: right before each, and right after, a byte that
 * is neither a digit nor one of " .-/()+", so that no digit cluster reaches
 * into a part from outside it (num_spans judges a cluster by its shape: a
 * run made longer or joined to another may hold no SSN where the part does).
 * In a DataRow, the zero byte a value's length starts with (below 16 MiB)
 * ends the value before it, but the length's other bytes may be such bytes
 * ("0" when it is 48): pgm_data_row scans that value on its own.
 * skip[0, n_skip) (sorted, disjoint, inside in) are parts no hint is wanted
 * for (values masked whole, or confirmed on their own): they are read as
 * zero bytes, so what is in them costs nothing and hints nothing, and the
 * other parts' hints are what they would be (a match in a part is in it).
 */
typedef struct mask_range {
	size_t s, e;
} mask_range;
int mask_hints(const mask_profile *p, mask_scratch *s, const char *in, size_t len, mask_hint **h,
	       size_t *cap, size_t *n, const mask_range *skip, size_t n_skip);

/*
 * mask_text for in[0, len), a part of a text that mask_hints scanned and that
 * starts at offset off in it: h[0, nh) are that text's hints (those outside
 * the part are skipped). Same result as mask_text, without a second scan.
 */
size_t mask_text_hinted(const mask_profile *p, mask_scratch *s, const char *in, size_t len,
			const mask_hint *h, size_t nh, size_t off, buf *out, uint32_t *counts);

/* The whole value masked in the profile's style (column rules). */
void mask_whole(const mask_profile *p, const char *in, size_t len, buf *out);

const char *mask_detector_name(const mask_profile *p, size_t i);  /* built-in then custom */
size_t mask_detector_total(const mask_profile *p);

#endif
