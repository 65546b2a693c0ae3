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

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

typedef enum { MASK_ENGINE_AUTO = 0, MASK_ENGINE_HYPERSCAN, MASK_ENGINE_PCRE2 } mask_engine;
typedef enum { MASK_STYLE_REDACT = 0, MASK_STYLE_PARTIAL, MASK_STYLE_HASH } mask_style;

/* The built-in detectors, in this order (index = bit in counts[]). */
#define MASK_DETECTORS(X)                                                                 \
	X(EMAIL, "email") X(PHONE, "phone") X(CREDIT_CARD, "credit_card") X(IBAN, "iban")    \
	X(US_SSN, "us_ssn") X(IPV4, "ipv4") X(JWT, "jwt") X(AWS_ACCESS_KEY, "aws_access_key") \
	X(AZURE_STORAGE_KEY, "azure_storage_key") X(PRIVATE_KEY, "private_key")              \
	X(PASSWORD_IN_URL, "password_in_url") X(BEARER_TOKEN, "bearer_token")
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
 * Where mask_text could find something in in[0, len): ends[0, *n) gets the
 * end offset of every hint (every match of any detector contains one, so a
 * part of in that holds no hint end holds no match). 0 when done; -1 when the
 * profile cannot tell (PCRE2, anchored custom patterns) or more than cap
 * hints were seen: then every part may match.
 */
int mask_hints(const mask_profile *p, mask_scratch *s, const char *in, size_t len, size_t *ends,
	       size_t cap, size_t *n);

/* The whole value masked in the profile's style (column rules). */
void mask_whole(const mask_profile *p, const char *in, size_t len, buf *out);

const char *mask_detector_name(const mask_profile *p, size_t i);  /* built-in then custom */
size_t mask_detector_total(const mask_profile *p);

#endif
