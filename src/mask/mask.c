/*
 * mask — the masking engine behind mask.h: the built-in detector table
 * (patterns + validators), profile compilation for Hyperscan and PCRE2, the
 * scan, overlap resolution and the three output styles.
 *
 * How one detector is found (the part both engines share):
 * the reference semantics are PCRE2's: a detector's matches are what a global
 * left-to-right iteration of its PCRE2 pattern over the whole value finds
 * (after a match, the next search starts at its end; a match that fails the
 * validator still consumes its text). The PCRE2 engine does exactly that, per
 * detector, with JIT.
 *
 * The Hyperscan engine runs one block-mode database holding a cheap "hint"
 * pattern per detector, compiled without start-of-match tracking. A hint is
 * chosen so that every real match [s, e) of the detector contains a hint
 * match ending in (s, s + lead], maxlen bounding the length of a real match
 * and lead <= maxlen how far past its start a hint can first end (65 for an
 * email: the local part before "@" is at most 64 bytes). For each hint end h
 * (in increasing order) the engine runs the
 * detector's PCRE2 pattern from max(pos, h - lead) over the subject cut at
 * h + maxlen + LOOKAROUND and accepts the leftmost match only if it starts at
 * or before h (past h, the cut could have created it; a later hint will find
 * it). A search that finds nothing proves no match starts in [pos, h], so pos
 * moves past h: every start position is tried at most once per detector. By
 * induction this yields exactly the PCRE2 iteration's matches, while bytes
 * that hint at nothing are only seen by Hyperscan. Should Hyperscan ever
 * report a detector's ends out of order, that detector is rescanned with
 * plain PCRE2, so the equivalence never rests on delivery order.
 *
 * An email's hint is its "@" alone, and its search one anchored match
 * (email_search: every email holds one "@" and starts where the run of
 * local-part characters before it starts). An email has a lead (its local
 * part is 64 bytes at most) but no maxlen (its labels have no bound): its
 * subject is never cut.
 *
 * Where the time goes: hints with a literal anchor (@, eyJ, AKIA, ==, ://,
 * bearer, PRIVATE KEY) cost Hyperscan ~0.3 ns/byte; the digit-class hints
 * (phone, card, SSN, IPv4, IBAN) have no literal to skip to and cost ~2
 * ns/byte together. So they are not scanned for: num_spans() (a SIMD digit
 * finder walking runs of digits) finds the digit clusters whose shape one of
 * those detectors' patterns allows, and gives each such detector hints of its
 * own over the cluster (ends a maxlen apart, so every start a match can have
 * in the cluster has one), as Hyperscan would. Ordinary text (dates, amounts,
 * street numbers) rarely has such a cluster. Only mask_may_match, over text
 * whose parts it does not know, asks a second database (db_num) over the
 * clusters a looser rule keeps.
 *
 * A message holding many values (a DataRow, or the rows of one read) is
 * scanned once (mask_hints: the (detector, end) pairs); each value that holds
 * a hint end is then confirmed with mask_text_hinted, which runs the same
 * searches from those hints (the ones inside the value) as mask_text would
 * from its own scan. Text around a value only adds hints (and grows its
 * digit clusters), never removes one, so the result is the same.
 *
 * Custom patterns are compiled for Hyperscan in prefilter mode (a superset:
 * it reports every end of a real match); their maxlen comes from
 * hs_expression_info, and their lookaround reach is unknown, so the subject
 * is never cut for them. A custom pattern Hyperscan cannot take at all is
 * scanned by PCRE2 alone.
 *
 * Overlaps: a match's span is its value (for password_in_url and
 * bearer_token, the secret group only). Detectors have tiers: structural
 * secrets (private_key, password_in_url, bearer_token) beat validated
 * numbers (credit_card, iban, us_ssn), which beat the rest (so a card number
 * is never a phone number). Within a tier the earliest start wins, then the
 * longest, then the lower detector index; anything overlapping a chosen span
 * is dropped.
 *
 * A search PCRE2 cannot finish (its match limit, MATCH_LIMIT, or the JIT
 * stack: a custom pattern that backtracks without end) leaves the value
 * undecided, and an undecided value is masked whole, above every tier: what
 * could not be read through is never passed on. Either engine fails closed
 * so; whether both give up on the same pathological text is not promised
 * (their searches start in different places).
 */
#include "mask/mask.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <hs/hs.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "core/util.h"

/* Bytes a built-in pattern may look at past the end of its match (lookaheads
 * are at most 10 bytes, password_in_text's closing braces; generous on purpose). */
#define LOOKAROUND 16
#define UNBOUNDED SIZE_MAX
#define REDACTED "****"
/* PCRE2 match limit per search: a few milliseconds of backtracking at most
 * (PCRE2's default, 10 million, is ~20 ms: a row of such values would hold a
 * worker for seconds). Every built-in pattern needs far fewer. */
#define MATCH_LIMIT 1000000
/* The tier of a whole value that could not be searched through: above all. */
#define TIER_UNDECIDED 3

/* ---- validators ----------------------------------------------------------- */

/* A validator sees the value span [*vs, *ve) of a pattern match and may narrow
 * it (drop a trailing group that the pattern took greedily). */
typedef bool (*validator_fn)(const char *t, size_t *vs, size_t *ve);
typedef bool (*native_fn)(const unsigned char *x, size_t n, size_t i, size_t *e);

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_upper(char c)
{
	return c >= 'A' && c <= 'Z';
}

/* Luhn over the digits of [s, e); separators are skipped. Every second
 * digit from the right counts doubled, less 9 past 9 (a table: no branch
 * on the digit). */
static bool luhn_ok(const char *s, size_t n)
{
	static const unsigned char doubled[10] = {0, 2, 4, 6, 8, 1, 3, 5, 7, 9};
	unsigned sum = 0, k = 0;
	for (size_t i = n; i-- > 0;) {
		unsigned d = (unsigned)(unsigned char)s[i] - '0';
		if (d > 9)
			continue;
		sum += k ? doubled[d] : d;
		k ^= 1;
	}
	return sum % 10 == 0;
}

/*
 * A card: 13-19 digits; if separated, one separator kind throughout, a first
 * group of 4 and groups of 3-7 digits (4-4-4-4, 4-6-5, 4-6-4, 4-4-4-4-3).
 * If the whole run fails, trailing groups are dropped one at a time (a
 * separated number followed by an unrelated short group), and then leading
 * ones, each time with the trailing ones again (`1 4111 1111 1111 1111`: a
 * row number and a card, as `id || ' ' || card` writes them).
 */
static bool card_shape_ok(const char *s, size_t n)
{
	size_t digits = 0, group = 0, ngroups = 0;
	char sep = 0;
	for (size_t i = 0; i < n; i++) {
		if (is_digit(s[i])) {
			digits++;
			group++;
			continue;
		}
		if (sep && s[i] != sep)
			return false;
		sep = s[i];
		if ((ngroups == 0 && group != 4) || group < 3 || group > 7)
			return false;
		ngroups++;
		group = 0;
	}
	if (sep && (group < 3 || group > 7))
		return false;
	return digits >= 13 && digits <= 19 && luhn_ok(s, n);
}

static bool v_card(const char *t, size_t *vs, size_t *ve)
{
	for (size_t b = *vs; b < *ve;) {
		/* (a card starts at the match's start, or after a " ": not after "-") */
		for (size_t e = *ve; b == *vs || t[b - 1] == ' ';) {
			if (e - b < 13)
				break;
			if (card_shape_ok(t + b, e - b)) {
				*vs = b;
				*ve = e;
				return true;
			}
			size_t i = e;
			while (i > b && is_digit(t[i - 1]))
				i--;
			if (i == b)
				break;
			e = i - 1; /* drop the separator and the last group */
		}
		while (b < *ve && is_digit(t[b]))
			b++;
		b++; /* drop the first group and the separator after it */
	}
	return false;
}

static const struct {
	char cc[3];
	unsigned char len;
} iban_lengths[] = {
	{"AD", 24}, {"AE", 23}, {"AL", 28}, {"AT", 20}, {"AZ", 28}, {"BA", 20}, {"BE", 16},
	{"BG", 22}, {"BH", 22}, {"BR", 29}, {"CH", 21}, {"CR", 22}, {"CY", 28}, {"CZ", 24},
	{"DE", 22}, {"DK", 18}, {"DO", 28}, {"EE", 20}, {"ES", 24}, {"FI", 18}, {"FO", 18},
	{"FR", 27}, {"GB", 22}, {"GE", 22}, {"GI", 23}, {"GL", 18}, {"GR", 27}, {"GT", 28},
	{"HR", 21}, {"HU", 28}, {"IE", 22}, {"IL", 23}, {"IS", 26}, {"IT", 27}, {"JO", 30},
	{"KW", 30}, {"KZ", 20}, {"LB", 28}, {"LI", 21}, {"LT", 20}, {"LU", 20}, {"LV", 21},
	{"MC", 27}, {"MD", 24}, {"ME", 22}, {"MK", 19}, {"MR", 27}, {"MT", 31}, {"MU", 30},
	{"NL", 18}, {"NO", 15}, {"PK", 24}, {"PL", 28}, {"PS", 29}, {"PT", 25}, {"QA", 29},
	{"RO", 24}, {"RS", 22}, {"SA", 24}, {"SE", 24}, {"SI", 19}, {"SK", 24}, {"SM", 27},
	{"TN", 24}, {"TR", 26}, {"UA", 29}, {"VG", 24}, {"XK", 20},
};

/*
 * The standard's form is in capitals; people type IBANs in lower case too
 * ("de89 3704 ..."). A lower-case letter anywhere asks for a country the
 * table knows and its length: a run of letters and digits that happens to
 * pass mod 97 (one in 97 does) is not masked for that alone.
 */
static bool iban_ok(const char *s, size_t n)
{
	char c[34];
	size_t k = 0;
	bool lower = false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == ' ')
			continue;
		if (k == sizeof(c))
			return false;
		lower = lower || (s[i] >= 'a' && s[i] <= 'z');
		c[k++] = s[i] >= 'a' && s[i] <= 'z' ? (char)(s[i] - 'a' + 'A') : s[i];
	}
	if (k < 15 || !is_upper(c[0]) || !is_upper(c[1]) || !is_digit(c[2]) || !is_digit(c[3]))
		return false;
	bool known = false;
	for (size_t i = 0; i < sizeof(iban_lengths) / sizeof(iban_lengths[0]) && !known; i++)
		if (iban_lengths[i].cc[0] == c[0] && iban_lengths[i].cc[1] == c[1]) {
			if (k != iban_lengths[i].len)
				return false;
			known = true;
		}
	if (lower && !known)
		return false;
	/* mod 97 of the rearranged number (country + check digits moved to the
	 * end, letters as 10..35), computed digit group by digit group. */
	unsigned rem = 0;
	for (size_t j = 0; j < k; j++) {
		char ch = c[(j + 4) % k];
		if (is_digit(ch))
			rem = (rem * 10 + (unsigned)(ch - '0')) % 97;
		else if (is_upper(ch))
			rem = (rem * 100 + (unsigned)(ch - 'A' + 10)) % 97;
		else
			return false;
	}
	return rem == 1;
}

static bool v_iban(const char *t, size_t *vs, size_t *ve)
{
	size_t e = *ve;
	for (;;) {
		if (iban_ok(t + *vs, e - *vs)) {
			*ve = e;
			return true;
		}
		size_t i = e;
		while (i > *vs && t[i - 1] != ' ')
			i--;
		if (i <= *vs + 4)
			return false;
		e = i - 1;
	}
}

/* HTTP Basic credentials: base64 (padded to a multiple of 4) of printable
 * text holding a ":" (user:password). */
static bool v_basic(const char *t, size_t *vs, size_t *ve)
{
	size_t n = *ve - *vs;
	if (n % 4 != 0 || n > 4096)
		return false;
	unsigned char out[3 * 4096 / 4 + 1];
	int len = EVP_DecodeBlock(out, (const unsigned char *)t + *vs, (int)n);
	if (len < 3)
		return false;
	for (size_t i = n; i > 0 && t[*vs + i - 1] == '='; i--)
		len--; /* EVP_DecodeBlock counts the padding's zero bytes */
	bool colon = false;
	for (int i = 0; i < len; i++) {
		if (out[i] < 0x20 || out[i] == 0x7f)
			return false;
		colon = colon || out[i] == ':';
	}
	return colon;
}

/* AAA-GG-SSSS: one separator kind; area not 000, 666, 9xx; group not 00;
 * serial not 0000 (the SSA's never-issued ranges). */
static bool v_ssn(const char *t, size_t *vs, size_t *ve)
{
	const char *s = t + *vs;
	if (*ve - *vs != 11 || s[3] != s[6])
		return false;
	if (!memcmp(s, "000", 3) || !memcmp(s, "666", 3) || s[0] == '9')
		return false;
	if (!memcmp(s + 4, "00", 2) || !memcmp(s + 7, "0000", 4))
		return false;
	return true;
}

/*
 * E.164 allows at most 15 digits; fewer than 9 is too likely something else.
 * One written with "+" or "(" may run on into a number after a " " (a date,
 * a card: `phone || ' ' || card`): its first part up to a " " holding 10 to
 * 15 digits is the phone.
 */
static bool v_phone(const char *t, size_t *vs, size_t *ve)
{
	size_t digits = 0;
	bool opener = t[*vs] == '+' || t[*vs] == '(';
	for (size_t i = *vs; i < *ve; i++) {
		if (opener && t[i] == ' ' && digits >= 10 && digits <= 15 && i > *vs && is_digit(t[i - 1])) {
			*ve = i;
			return true;
		}
		digits += is_digit(t[i]);
	}
	return digits >= 9 && digits <= 15;
}

/* ---- the built-in table --------------------------------------------------- */

/*
 * A letter of an internationalised email address, as UTF-8 (the engines work
 * on bytes): a character from U+00C0 on, but not the general punctuation and
 * symbols (U+2000-U+2FFF), CJK punctuation (U+3000-U+303F), the forms and
 * specials from U+FE00 (fullwidth punctuation, the BOM) nor emoji
 * (U+1F000-U+1FFFF): "“jane@example.com”" and "写信给 jane@example.com。"
 * keep their quotes and stops. email_utf8_letter() is the same set, for
 * email_search's walk back. (A lookbehind takes the alternatives at its top
 * level: each is of a fixed length.)
 */
#define EMAIL_U_ALTS                                                                       \
	"[\\xC3-\\xDF][\\x80-\\xBF]|[\\xE0\\xE1\\xE4-\\xEE][\\x80-\\xBF]{2}"                  \
	"|\\xE3[\\x81-\\xBF][\\x80-\\xBF]|\\xEF[\\x80-\\xB7][\\x80-\\xBF]"                     \
	"|\\xF0[\\x90-\\x9E][\\x80-\\xBF]{2}|[\\xF1-\\xF4][\\x80-\\xBF]{3}"
#define EMAIL_U "(?:" EMAIL_U_ALTS ")"
/* The email pattern with LB among the lookbehind's alternatives, LOCAL its
 * local part and U among the characters of the domain's parts. The pattern's
 * local part has EMAIL_U letters and is 64 bytes at most (the lookahead: a run
 * of the bytes it is made of up to the "@", no longer a look than the run);
 * its twin for ASCII text (email_ascii) has neither, and matches there exactly
 * as the pattern does. */
/* An apostrophe between two ASCII letters or digits is part of it ("o'brien"),
 * not one before or after it ("'bob@example.com'", SQL's quotes). */
/* (between two letters only: after a digit it is more likely a value glued
 * on, phone || '\'' || email, than a name's) */
#define EMAIL_APOS "(?<=[A-Za-z])'(?=[A-Za-z])"
#define EMAIL_LOCAL_U                                                                      \
	"(?=[A-Za-z0-9._%+'\\x80-\\xFF-]{1,64}+@)(?:[A-Za-z0-9]|" EMAIL_U ")"                 \
	"(?:[A-Za-z0-9._%+-]|" EMAIL_APOS "|" EMAIL_U ")*+"
#define EMAIL_LOCAL_ASCII "[A-Za-z0-9](?:[A-Za-z0-9._%+-]|" EMAIL_APOS "){0,63}+"
#define EMAIL_RE(LB, LOCAL, U)                                                             \
	"(?<![A-Za-z0-9._%+-]|[A-Za-z]'" LB ")" LOCAL "@"                                  \
	"(?:(?:[A-Za-z0-9]" U ")(?:[A-Za-z0-9-]" U ")*+(?<!-)\\.){1,8}"                       \
	"(?:[A-Za-z]" U ")(?:[A-Za-z]" U ")++"                                                \
	"(?![A-Za-z0-9-]" U "|\\.(?:[A-Za-z0-9]" U "))"
/* The pattern's alternations cost: an address in ASCII text (nearly all) is
 * matched by the twin (email_search), in half the time. */
static const char email_ascii[] = EMAIL_RE("", EMAIL_LOCAL_ASCII, "");

/*
 * pcre: the exact pattern (PCRE2, bytes, no UTF); lookarounds give word
 * boundaries that \b cannot express. hint: the Hyperscan pattern; it must
 * match somewhere inside every real match (see the header comment), and is
 * kept short so that Hyperscan reports few ends. maxlen: an upper bound of a
 * real match's length (UNBOUNDED: none; the subject is then never cut).
 * group: the capture holding the value (0 = all). lead: how far past a real
 * match's start the hint first ends, at most (0: maxlen).
 */
typedef struct builtin {
	const char *pcre;
	const char *hint;
	size_t maxlen;
	int tier, group;
	validator_fn validate;
	size_t lead;
} builtin;

static const builtin builtins[MASK_DET_COUNT] = {
	[MASK_DET_EMAIL] = {
		/* possessive where backtracking cannot find another match ("@" and "."
		 * are in no run before them; a label ends before its "."; a shorter
		 * TLD is followed by a letter): the same matches, fewer steps.
		 * Internationalised addresses (RFC 6531: "josé@correo.es",
		 * "hans@müller.de") have UTF-8 letters (EMAIL_U) where ASCII ones go;
		 * the local part is at most 64 bytes (the lookahead), whatever its
		 * characters; labels and TLD have no bound (a repeat of a group
		 * with a bound is compiled as that many copies), so no maxlen:
		 * the subject is never cut, the window starts a lead before the "@". */
		EMAIL_RE("|" EMAIL_U_ALTS, EMAIL_LOCAL_U, "|" EMAIL_U),
		"@", UNBOUNDED, 0, 0, NULL, 64 + 1 /* local part, "@" */},
	[MASK_DET_PHONE] = {
		/* (a "+" or "(" starts one after a number and a separator: `id || ' ' || phone`) */
		"(?<![\\w+])(?:(?=[+(])|(?<!\\d[ .-]))"
		/* one written with "+" or "(" may have a number after a " " (`phone || ' ' || card`,
		 * a date): v_phone takes the phone from it */
		"(?:(?:\\+\\d{1,3}[ .-]?(?:\\(\\d{1,4}\\)[ .-]?)?\\d{1,4}(?:[ .-]?\\d{1,4}){1,5}"
		"|\\(\\d{2,4}\\)[ .-]?\\d{3,4}[ .-]?\\d{3,4})(?![\\w]|[.-]\\d)"
		"|(?:\\d{2,4}[ .-]\\d{3,4}[ .-]\\d{3,4}"
		/* national: a trunk "0" (or "00"), runs joined by one separator, the same each time */
		"|(?<!\\d/)0(?:[1-9]\\d{0,3}|0[1-9]\\d{0,2})([ ./-])\\d{2,8}(?:\\1\\d{2,8}){0,4})"
		"(?![\\w]|[ .-]\\d))",
		"\\+\\d|\\(\\d{2,4}\\)|\\d[ .-]\\d{3,4}[ .-]\\d{3}|0\\d{1,4}[ ./-]\\d{2}", 5 + 5 * 9, 0, 0, v_phone,
		0},
	[MASK_DET_CREDIT_CARD] = {
		"(?<![\\w.-])\\d(?:[ -]?\\d){12,18}(?![\\w]|[.-]?\\d)",
		"\\d(?:[ -]?\\d){12}", 40, 1, 0, v_card, 0},
	[MASK_DET_IBAN] = {
		"(?<!\\w)[A-Za-z]{2}\\d{2}(?:[A-Za-z0-9]{11,30}|(?: [A-Za-z0-9]{4}){2,7}(?: [A-Za-z0-9]{1,4})?)"
		"(?!\\w)",
		"[A-Za-z]{2}\\d{2}(?:[A-Za-z0-9]{11}| [A-Za-z0-9]{4} [A-Za-z0-9]{4})", 48, 1, 0, v_iban, 0},
	[MASK_DET_US_SSN] = {
		"(?<![\\w-])\\d{3}[- ]\\d{2}[- ]\\d{4}(?![\\w]|-\\d)",
		"\\d{3}[- ]\\d{2}[- ]\\d{4}", 16, 1, 0, v_ssn, 0},
	[MASK_DET_IPV4] = {
		"(?<![\\w.])(?:(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)\\.){3}"
		"(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(?![\\w]|\\.\\d)",
		"\\d\\.\\d{1,3}\\.\\d{1,3}\\.\\d", 16, 0, 0, NULL, 0},
	[MASK_DET_JWT] = {
		"(?<![\\w-])eyJ[A-Za-z0-9_-]{7,2048}\\.[A-Za-z0-9_-]{4,8192}\\.[A-Za-z0-9_-]{16,2048}"
		"(?![\\w-]|\\.[\\w-])",
		"eyJ[A-Za-z0-9_-]{7}[A-Za-z0-9_-]*\\.[A-Za-z0-9_-]{4}[A-Za-z0-9_-]*\\.[A-Za-z0-9_-]{16}",
		12300, 0, 0, NULL, 0},
	[MASK_DET_AWS_ACCESS_KEY] = {
		"\\b(?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|APKA)[A-Z0-9]{16}\\b",
		"(?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|APKA)[A-Z0-9]{16}", 20, 0, 0, NULL, 0},
	[MASK_DET_AZURE_STORAGE_KEY] = {
		"(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{86}==(?![A-Za-z0-9+/=])",
		"[A-Za-z0-9+/]{20}==", 88, 0, 0, NULL, 0},
	/* A PEM block to its END line; or, cut short (a column's length, a
	 * truncated log line), the key material after the BEGIN line: its base64
	 * lines (JSON's "\\n" escapes too) up to the last base64 character */
	[MASK_DET_PRIVATE_KEY] = {
		"-----BEGIN (?:[A-Z0-9]{1,16} ){0,3}PRIVATE KEY-----(?:[\\s\\S]{0,16384}?"
		"-----END (?:[A-Z0-9]{1,16} ){0,3}PRIVATE KEY-----"
		"|(?=(?:\\s|\\\\[rn])*[A-Za-z0-9+/]{16})[A-Za-z0-9+/=\\s\\\\]{0,16384}(?<=[A-Za-z0-9+/=]))",
		"PRIVATE KEY-----", 16600, 2, 0, NULL, 11 + 3 * 17 + 16 /* the BEGIN line's */},
	[MASK_DET_PASSWORD_IN_URL] = {
		"(?<=[A-Za-z0-9])://[^\\x00-\\x20:/@]{0,128}:([^\\x00-\\x20/@]{1,256})@",
		"://[^\\x00-\\x20:/@]*:[^\\x00-\\x20/@]+@", 400, 2, 1, NULL, 0},
	[MASK_DET_BEARER_TOKEN] = {
		"\\b[Bb][Ee][Aa][Rr][Ee][Rr][ \\t]{1,8}([A-Za-z0-9._~+/-]{16,4096}={0,8})"
		"(?![A-Za-z0-9._~+/=-])",
		"[Bb][Ee][Aa][Rr][Ee][Rr][ \\t]{1,8}[A-Za-z0-9._~+/-]{16}", 4128, 2, 1, NULL, 6 + 8 + 16},
	/* An AWS secret access key is 40 base64 characters, like much else: it
	 * is known by the name it is given (aws_secret_access_key = ...,
	 * "AwsSecretKey": "..."), and the key alone is masked. */
	[MASK_DET_AWS_SECRET_KEY] = {
		"(?<![A-Za-z0-9])[Aa][Ww][Ss][A-Za-z0-9_.-]{0,20}?[Ss][Ee][Cc][Rr][Ee][Tt][A-Za-z0-9_.-]{0,20}?"
		"[\"']?[ \\t]{0,4}(?:=>|[:=])[ \\t]{0,4}[\"']?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])",
		"[Ss][Ee][Cc][Rr][Ee][Tt]", 3 + 20 + 6 + 20 + 1 + 4 + 2 + 4 + 1 + 40, 2, 1, NULL, 3 + 20 + 6},
	/* GitHub's tokens: ghp_ (personal), gho_ (OAuth), ghu_, ghs_, ghr_ (apps),
	 * github_pat_ (fine-grained) */
	[MASK_DET_GITHUB_TOKEN] = {
		"(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_[A-Za-z0-9_]{22,255})(?![A-Za-z0-9_])",
		"gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{22}", 11 + 255, 2, 0, NULL, 4 + 36},
	/* Slack's tokens: xoxb- (bot), xoxp- (user), xoxa-, xoxo-, xoxr-, xoxs- */
	[MASK_DET_SLACK_TOKEN] = {
		"(?<![A-Za-z0-9-])xox[abposr]-[A-Za-z0-9-]{10,250}(?![A-Za-z0-9-])",
		"xox[abposr]-[A-Za-z0-9-]{10}", 5 + 250, 2, 0, NULL, 5 + 10},
	/* Stripe's secret and restricted keys, live and test (a publishable
	 * pk_ key is meant to be seen) */
	[MASK_DET_STRIPE_KEY] = {
		"(?<![A-Za-z0-9_])[sr]k_(?:live|test)_[A-Za-z0-9]{16,247}(?![A-Za-z0-9])",
		"[sr]k_(?:live|test)_[A-Za-z0-9]{16}", 8 + 247, 2, 0, NULL, 8 + 16},
	/* Google's API keys (Maps, Firebase, Gemini, ...) */
	[MASK_DET_GOOGLE_API_KEY] = {
		"(?<![A-Za-z0-9_-])AIza[0-9A-Za-z_-]{35}(?![A-Za-z0-9_-])",
		"AIza[0-9A-Za-z_-]{35}", 39, 2, 0, NULL, 0},
	/* OpenAI's keys: project, service-account and admin keys (sk-proj-, ...),
	 * and the older sk- keys, which hold "T3BlbkFJ" ("OpenAI" in base64) */
	[MASK_DET_OPENAI_KEY] = {
		"(?<![A-Za-z0-9_-])sk-(?:(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,250}"
		"|[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20})(?![A-Za-z0-9_-])",
		"sk-(?:proj|svcacct|admin)-|T3BlbkFJ", 11 + 250, 2, 0, NULL, 3 + 20 + 8},
	/* Anthropic's keys: sk-ant-api03-..., sk-ant-admin01-... */
	[MASK_DET_ANTHROPIC_KEY] = {
		"(?<![A-Za-z0-9_-])sk-ant-[a-z]{2,8}\\d{2}-[A-Za-z0-9_-]{32,250}(?![A-Za-z0-9_-])",
		"sk-ant-", 7 + 10 + 1 + 250, 2, 0, NULL, 7},
	/* HTTP Basic credentials: "Basic " and base64 that decodes to user:password
	 * (v_basic); the credentials alone are masked */
	[MASK_DET_BASIC_AUTH] = {
		"(?<![A-Za-z0-9])[Bb][Aa][Ss][Ii][Cc][ \\t]{1,8}([A-Za-z0-9+/]{4,4096}={0,2})(?![A-Za-z0-9+/=])",
		"[Bb][Aa][Ss][Ii][Cc][ \\t]", 5 + 8 + 4098, 2, 1, v_basic, 6},
	/* A value given to a key named password, passwd or pwd (or ending so:
	 * DB_PASSWORD, PGPASSWORD): connection strings (libpq's key=value, JDBC,
	 * ODBC, ADO.NET), environment and configuration lines, logs, an XML
	 * element (<password>x</password>: Maven's settings, SOAP); and SQL's
	 * PASSWORD 'x' (CREATE/ALTER ROLE in a statement log). A quoted value to
	 * its closing quote (ODBC's PWD={a;b} to its brace); else to a space,
	 * ";", ",", "&" or a quote, or to "}" and "]" that close (no more of the
	 * value's characters follow them): {"password": 123} keeps its brace,
	 * PWD=a}b is one value. A bare null, true or false is no password
	 * ({"pwd": null} stays JSON), and neither is what starts with "[" or
	 * "{" (a list, an object). */
#define PW_WORD "[Pp][Aa][Ss][Ss][Ww][Oo][Rr][Dd]"
#define PW_CHAR "[^\\s\"';,&}\\]]"
#define PW_HINT "(?:" PW_WORD "|[Pp][Aa][Ss][Ss][Ww][Dd]|[Pp][Ww][Dd])"
/* (OLDPWD, the shell's previous directory, is no key of a password) */
#define PW_KEY "(?:[A-Za-z0-9_]{0,40}?(?:" PW_WORD "|[Pp][Aa][Ss][Ss][Ww][Dd])|(?:[A-Za-z0-9_]{0,39}_)?[Pp][Ww][Dd])"
	[MASK_DET_PASSWORD_IN_TEXT] = {
		"(?<![A-Za-z0-9])(?|" PW_KEY "[\"']?[ \\t]{0,4}[:=][ \\t]{0,4}"
		"(?|\"([^\"\\x00-\\x1f]{1,256})\"|'([^'\\x00-\\x1f]{1,256})'|(?<==)\\{([^}\\x00-\\x1f]{1,254})\\}"
		"|(?![\\[{]|(?:null|true|false)(?!" PW_CHAR "))((?:" PW_CHAR "|[}\\]](?=[}\\]]{0,8}" PW_CHAR ")){1,256}))"
		"|" PW_WORD "[ \\t]{1,4}'([^'\\x00-\\x1f]{1,256})'"
		"|<" PW_KEY ">([^<\\x00-\\x1f]{1,256})</)",
		PW_HINT "[\"']?[ \\t]{0,4}[:=]|" PW_WORD "[ \\t]{1,4}'|" PW_HINT ">",
		40 + 8 + 1 + 4 + 1 + 4 + 258, 2, 1, NULL, 40 + 8 + 1 + 4 + 1},
#undef PW_KEY
#undef PW_CHAR
#undef PW_HINT
#undef PW_WORD
};

#define X(id, name) name,
static const char *const builtin_names[MASK_DET_COUNT] = {MASK_DETECTORS(X)};
#undef X

/*
 * Patterns of a fixed shape, matched without PCRE2 where the Hyperscan engine
 * confirms a hint (search): whether the detector's pattern, as PCRE2 runs it
 * over the whole subject x[0, n), matches at i, and where that match ends.
 * Each says which of the pattern's backtracking paths can succeed (the one
 * PCRE2 takes first is the one kept); the PCRE2 engine, which the fuzzer
 * (fuzz_mask) and the unit tests compare this engine against, still runs
 * the patterns themselves. \w is [A-Za-z0-9_] (PCRE2's default tables, no
 * UCP); a lookbehind reads before i, a lookahead past the end of a cut.
 */
static const bool word[256] = {['0' ... '9'] = true, ['A' ... 'Z'] = true, ['a' ... 'z'] = true, ['_'] = true};

static bool digit_at(const unsigned char *x, size_t n, size_t i)
{
	return i < n && x[i] >= '0' && x[i] <= '9';
}

/* One octet of x[0, l), l its digit run's length (25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d
 * followed by a "." or by the lookahead: only the whole run can be it). */
static bool octet_ok(const unsigned char *x, size_t l)
{
	switch (l) {
	case 1: return true;
	case 2: return x[0] != '0';
	case 3: return x[0] == '1' || (x[0] == '2' && (x[1] <= '4' || (x[1] == '5' && x[2] <= '5')));
	default: return false;
	}
}

/* (?<![\w.])(?:OCTET\.){3}OCTET(?![\w]|\.\d) */
static bool ipv4_at(const unsigned char *x, size_t n, size_t i, size_t *e)
{
	if (i > 0 && (word[x[i - 1]] || x[i - 1] == '.'))
		return false;
	size_t j = i;
	for (int k = 0; k < 4; k++) {
		size_t l = 0;
		while (l < 4 && digit_at(x, n, j + l))
			l++;
		if (!octet_ok(x + j, l))
			return false;
		j += l;
		if (k < 3) {
			if (j >= n || x[j] != '.')
				return false;
			j++;
		}
	}
	if (j < n && (word[x[j]] || (x[j] == '.' && digit_at(x, n, j + 1))))
		return false;
	*e = j;
	return true;
}

/* (?<![\w.-])\d(?:[ -]?\d){12,18}(?![\w]|[.-]?\d): the digits as they come
 * (a separator only before a digit), then the longest count whose end the
 * lookahead lets be one (a shorter count ends before a digit, or before a
 * separator and a digit: only " " lets that through). */
static bool card_at(const unsigned char *x, size_t n, size_t i, size_t *e)
{
	if ((i > 0 && (word[x[i - 1]] || x[i - 1] == '.' || x[i - 1] == '-')) || !digit_at(x, n, i))
		return false;
	size_t ends[19], k = 0, j = i + 1;
	ends[k++] = j;
	while (k < 19) {
		if (digit_at(x, n, j))
			j++;
		else if (j < n && (x[j] == ' ' || x[j] == '-') && digit_at(x, n, j + 1))
			j += 2;
		else
			break;
		ends[k++] = j;
	}
	for (; k >= 13; k--) {
		size_t q = ends[k - 1];
		if (q < n && (word[x[q]] || ((x[q] == '.' || x[q] == '-') && digit_at(x, n, q + 1))))
			continue;
		*e = q;
		return true;
	}
	return false;
}

/* (?<![\w-])\d{3}[- ]\d{2}[- ]\d{4}(?![\w]|-\d) */
static bool ssn_at(const unsigned char *x, size_t n, size_t i, size_t *e)
{
	static const char shape[] = "dddsddsdddd";
	if ((i > 0 && (word[x[i - 1]] || x[i - 1] == '-')) || n - i < 11)
		return false;
	for (size_t k = 0; k < 11; k++) {
		unsigned char c = x[i + k];
		if (shape[k] == 'd' ? !(c >= '0' && c <= '9') : (c != '-' && c != ' '))
			return false;
	}
	size_t q = i + 11;
	if (q < n && (word[x[q]] || (x[q] == '-' && digit_at(x, n, q + 1))))
		return false;
	*e = q;
	return true;
}

static const native_fn natives[MASK_DET_COUNT] = {
	[MASK_DET_CREDIT_CARD] = card_at,
	[MASK_DET_US_SSN] = ssn_at,
	[MASK_DET_IPV4] = ipv4_at,
};

/* ---- profile -------------------------------------------------------------- */

typedef struct det {
	uint32_t slot;          /* counts[] index: built-in id, or MASK_DET_COUNT + custom index */
	pcre2_code *re;
	pcre2_code *re_at;      /* re compiled anchored, JIT-compiled (email_search), or NULL */
	pcre2_code *re_ascii, *re_at_ascii; /* email: the twins for ASCII text (email_ascii), or NULL */
	bool jit_ascii;
	size_t maxlen;          /* UNBOUNDED: the subject is never cut */
	size_t lead;            /* a hint ends at most this far past its match's start
				 * (UNBOUNDED: search from pos) */
	bool cut;               /* the subject may be cut at hint + maxlen + LOOKAROUND */
	bool jit;               /* JIT-compiled: matched with pcre2_jit_match (no per-call checks) */
	bool in_hs;             /* has a hint in a Hyperscan database (id = index in dets) */
	bool numeric;           /* its hint is in db_num, scanned over num_spans() only */
	int tier, group;
	validator_fn validate;
	native_fn native;       /* the pattern's own matcher for hinted searches (NULL: PCRE2) */
} det;

struct mask_profile {
	det *dets;
	size_t n_dets;
	char **custom_names;
	size_t n_custom;
	mask_style style;
	EVP_MAC_CTX *mac;       /* keyed HMAC-SHA256, duplicated per value */
	mask_engine engine;
	hs_database_t *db_lit;  /* hints with literal anchors: cheap, always scanned */
	hs_database_t *db_num;  /* digit-class hints: costly, scanned past the gate */
	uint32_t max_groups;
	int32_t det_of[MASK_DET_COUNT]; /* a built-in's index in dets, -1 when not enabled */
	size_t n_literals;      /* spec->hint_literals in db_lit */
	bool all_in_hs;         /* every detector has its hint in a database */
	bool gate;              /* mask_may_match can answer "no" (see there) */
};

static pcre2_code *compile_pcre(const char *pattern, uint32_t options, char *err, size_t errlen,
				const char *what)
{
	int ec;
	PCRE2_SIZE off;
	/* PCRE2_USE_OFFSET_LIMIT: a hinted search tries no start past its hint (search) */
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
				       PCRE2_NEVER_UTF | PCRE2_USE_OFFSET_LIMIT | options, &ec, &off, NULL);
	if (!re) {
		PCRE2_UCHAR msg[160];
		if (pcre2_get_error_message(ec, msg, sizeof(msg)) < 0)
			msg[0] = '\0';
		util_errf(err, errlen, "mask: %s: bad pattern at offset %zu: %s", what, (size_t)off,
			  (const char *)msg);
		return NULL;
	}
	/* No JIT (e.g. SELinux exec restrictions) only costs speed. MASK_NO_JIT
	 * is for memcheck runs: valgrind cannot see that JIT code's reads of its
	 * own frames are initialised and reports them. */
#ifndef MASK_NO_JIT
	(void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
#endif
	return re;
}

static bool setup_mac(mask_profile *p, const mask_spec *spec, char *err, size_t errlen)
{
	if (!spec->hash_key || spec->hash_key_len == 0) {
		util_errf(err, errlen, "mask: the hash style needs a hash_key");
		return false;
	}
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (!mac) {
		util_errf(err, errlen, "mask: HMAC unavailable in OpenSSL");
		return false;
	}
	p->mac = EVP_MAC_CTX_new(mac);
	EVP_MAC_free(mac);
	char digest[] = "SHA256";
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
		OSSL_PARAM_construct_end(),
	};
	if (!p->mac || !EVP_MAC_init(p->mac, spec->hash_key, spec->hash_key_len, params)) {
		util_errf(err, errlen, "mask: cannot set up HMAC-SHA256");
		return false;
	}
	return true;
}

/* Compiles the hints of the detectors with numeric == num into *db (NULL if none). */
static bool build_db(mask_profile *p, const mask_spec *spec, bool num, hs_database_t **db, char *err,
		     size_t errlen)
{
	size_t cap = p->n_dets + (num ? 0 : spec->n_hint_literals);
	const char **exprs = util_xmalloc((cap + 1) * sizeof(*exprs));
	unsigned *flags = util_xmalloc((cap + 1) * sizeof(*flags));
	unsigned *ids = util_xmalloc((cap + 1) * sizeof(*ids));
	char **lits = util_xmalloc((spec->n_hint_literals + 1) * sizeof(*lits));
	size_t n = 0, n_lits = 0;
	bool ok = true;
	for (size_t i = 0; i < p->n_dets; i++) {
		det *d = &p->dets[i];
		if (d->numeric != num)
			continue;
		if (d->slot < MASK_DET_COUNT) {
			exprs[n] = builtins[d->slot].hint;
			flags[n] = 0;
		} else {
			/* A custom pattern is its own hint, as a superset in prefilter
			 * mode; the width it reports bounds the real match. */
			const char *pat = spec->custom_patterns[d->slot - MASK_DET_COUNT];
			unsigned f = HS_FLAG_PREFILTER | HS_FLAG_ALLOWEMPTY;
			hs_expr_info_t *info = NULL;
			hs_compile_error_t *ce = NULL;
			if (hs_expression_info(pat, f, &info, &ce) != HS_SUCCESS) {
				hs_free_compile_error(ce);
				continue; /* PCRE2 alone for this one */
			}
			d->maxlen = info->max_width == UINT_MAX ? UNBOUNDED : info->max_width;
			d->lead = d->maxlen;
			free(info);
			exprs[n] = pat;
			flags[n] = f;
		}
		ids[n++] = (unsigned)i;
		d->in_hs = true;
	}
	for (size_t i = 0; !num && i < spec->n_hint_literals; i++) {
		/* every byte as \xHH: a literal, whatever it holds */
		const char *l = spec->hint_literals[i];
		size_t ll = strlen(l);
		if (!ll)
			continue;
		char *e = util_xmalloc(4 * ll + 1);
		for (size_t k = 0; k < ll; k++)
			snprintf(e + 4 * k, 5, "\\x%02x", (unsigned char)l[k]);
		lits[n_lits++] = e;
		exprs[n] = e;
		flags[n] = HS_FLAG_CASELESS;
		ids[n++] = MASK_HINT_LITERAL + (unsigned)i;
		p->n_literals++;
	}
	if (n > 0) {
		hs_compile_error_t *ce = NULL;
		if (hs_compile_multi(exprs, flags, ids, (unsigned)n, HS_MODE_BLOCK, NULL, db, &ce) !=
		    HS_SUCCESS) {
			const char *who = "?";
			if (ce->expression >= 0 && (size_t)ce->expression < n)
				who = ids[ce->expression] >= MASK_HINT_LITERAL
					      ? "(json key)"
					      : mask_detector_name(p, p->dets[ids[ce->expression]].slot);
			util_errf(err, errlen, "mask: detector %s: hyperscan: %s", who, ce->message);
			hs_free_compile_error(ce);
			ok = false;
		}
	}
	for (size_t i = 0; i < n_lits; i++)
		free(lits[i]);
	free(lits);
	free(exprs);
	free(flags);
	free(ids);
	return ok;
}

static bool build_hs(mask_profile *p, const mask_spec *spec, char *err, size_t errlen)
{
	return build_db(p, spec, false, &p->db_lit, err, errlen) &&
	       build_db(p, spec, true, &p->db_num, err, errlen);
}

mask_profile *mask_profile_new(const mask_spec *spec, char *err, size_t errlen)
{
	if (spec->n_custom > MASK_MAX_CUSTOM) {
		util_errf(err, errlen, "mask: at most %d custom detectors", MASK_MAX_CUSTOM);
		return NULL;
	}
	mask_profile *p = util_xmalloc(sizeof(*p));
	memset(p, 0, sizeof(*p));
	p->style = spec->style;
	p->dets = util_xmalloc((MASK_DET_COUNT + spec->n_custom + 1) * sizeof(det));
	p->n_custom = spec->n_custom;
	p->custom_names = util_xmalloc((spec->n_custom + 1) * sizeof(char *));
	for (size_t i = 0; i < spec->n_custom; i++)
		p->custom_names[i] = util_strndup(spec->custom_names[i], strlen(spec->custom_names[i]));

	bool enabled[MASK_DET_COUNT] = {false};
	for (size_t k = 0; k < MASK_DET_COUNT; k++)
		p->det_of[k] = -1;
	for (size_t i = 0; i < spec->n_detectors; i++) {
		size_t k = 0;
		while (k < MASK_DET_COUNT && strcmp(spec->detectors[i], builtin_names[k]) != 0)
			k++;
		if (k == MASK_DET_COUNT) {
			util_errf(err, errlen, "mask: unknown detector '%s'", spec->detectors[i]);
			goto fail;
		}
		enabled[k] = true;
	}
	for (uint32_t k = 0; k < MASK_DET_COUNT; k++) {
		if (!enabled[k])
			continue;
		det *d = &p->dets[p->n_dets];
		memset(d, 0, sizeof(*d));
		p->det_of[k] = (int32_t)p->n_dets;
		d->slot = k;
		d->maxlen = builtins[k].maxlen;
		d->lead = builtins[k].lead ? builtins[k].lead : builtins[k].maxlen;
		d->native = natives[k];
		d->cut = true;
		d->tier = builtins[k].tier;
		d->group = builtins[k].group;
		d->validate = builtins[k].validate;
		d->numeric = k == MASK_DET_PHONE || k == MASK_DET_CREDIT_CARD || k == MASK_DET_IBAN ||
			     k == MASK_DET_US_SSN || k == MASK_DET_IPV4;
		d->re = compile_pcre(builtins[k].pcre, 0, err, errlen, builtin_names[k]);
		p->n_dets++;
		if (!d->re)
			goto fail;
		if (k == MASK_DET_EMAIL) {
			/* JIT takes no PCRE2_ANCHORED at match time: a twin compiled so */
			d->re_at = compile_pcre(builtins[k].pcre, PCRE2_ANCHORED, err, errlen, builtin_names[k]);
			size_t jit_size = 0;
			if (!d->re_at)
				goto fail;
			if (pcre2_pattern_info(d->re_at, PCRE2_INFO_JITSIZE, &jit_size) != 0 || jit_size == 0) {
				pcre2_code_free(d->re_at); /* anchored in the interpreter: the plain search is as fast */
				d->re_at = NULL;
			}
			d->re_ascii = compile_pcre(email_ascii, 0, err, errlen, builtin_names[k]);
			if (!d->re_ascii)
				goto fail;
			d->jit_ascii = pcre2_pattern_info(d->re_ascii, PCRE2_INFO_JITSIZE, &jit_size) == 0 &&
				       jit_size > 0;
			if (d->re_at) {
				d->re_at_ascii = compile_pcre(email_ascii, PCRE2_ANCHORED, err, errlen, builtin_names[k]);
				if (!d->re_at_ascii)
					goto fail;
				if (pcre2_pattern_info(d->re_at_ascii, PCRE2_INFO_JITSIZE, &jit_size) != 0 || jit_size == 0) {
					pcre2_code_free(d->re_at_ascii); /* (pcre2_jit_match needs JIT) */
					d->re_at_ascii = NULL;
				}
			}
		}
	}
	for (size_t i = 0; i < spec->n_custom; i++) {
		const char *name = spec->custom_names[i];
		if (!name || !*name || !spec->custom_patterns[i]) {
			util_errf(err, errlen, "mask: custom detector %zu needs a name and a pattern", i);
			goto fail;
		}
		for (size_t k = 0; k < MASK_DET_COUNT + i; k++)
			if (!strcmp(name, k < MASK_DET_COUNT ? builtin_names[k]
							     : spec->custom_names[k - MASK_DET_COUNT])) {
				util_errf(err, errlen, "mask: custom detector name '%s' is taken", name);
				goto fail;
			}
		det *d = &p->dets[p->n_dets];
		memset(d, 0, sizeof(*d));
		d->slot = (uint32_t)(MASK_DET_COUNT + i);
		d->maxlen = d->lead = UNBOUNDED;
		char what[96];
		snprintf(what, sizeof(what), "custom detector '%s'", name);
		d->re = compile_pcre(spec->custom_patterns[i], 0, err, errlen, what);
		p->n_dets++;
		if (!d->re)
			goto fail;
	}
	for (size_t i = 0; i < p->n_dets; i++) {
		uint32_t cc = 0;
		size_t jit_size = 0;
		pcre2_pattern_info(p->dets[i].re, PCRE2_INFO_CAPTURECOUNT, &cc);
		if (cc > p->max_groups)
			p->max_groups = cc;
		p->dets[i].jit = pcre2_pattern_info(p->dets[i].re, PCRE2_INFO_JITSIZE, &jit_size) == 0 &&
				 jit_size > 0;
	}
	if (p->style == MASK_STYLE_HASH && !setup_mac(p, spec, err, errlen))
		goto fail;

	p->engine = spec->engine;
	if (p->engine == MASK_ENGINE_AUTO)
		p->engine = hs_valid_platform() == HS_SUCCESS ? MASK_ENGINE_HYPERSCAN : MASK_ENGINE_PCRE2;
	if (p->engine == MASK_ENGINE_HYPERSCAN) {
		if (hs_valid_platform() != HS_SUCCESS) {
			util_errf(err, errlen, "mask: hyperscan does not support this CPU");
			goto fail;
		}
		if (!build_hs(p, spec, err, errlen))
			goto fail;
		p->gate = true;
		p->all_in_hs = true;
		for (size_t i = 0; i < p->n_dets; i++) {
			if (!p->dets[i].in_hs)
				p->gate = p->all_in_hs = false;
			/* a custom hint whose match depends on where the value starts or ends */
			if (p->dets[i].slot >= MASK_DET_COUNT) {
				const char *pat = spec->custom_patterns[p->dets[i].slot - MASK_DET_COUNT];
				if (strpbrk(pat, "^$") || strstr(pat, "\\A") || strstr(pat, "\\Z") ||
				    strstr(pat, "\\z") || strstr(pat, "\\G") || strstr(pat, "\\b") ||
				    strstr(pat, "\\B") || strstr(pat, "(?"))
					p->gate = false;
			}
		}
	} else if (p->engine != MASK_ENGINE_PCRE2) {
		util_errf(err, errlen, "mask: unknown engine %d", (int)p->engine);
		goto fail;
	}
	return p;
fail:
	mask_profile_free(p);
	return NULL;
}

void mask_profile_free(mask_profile *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n_dets; i++) {
		pcre2_code_free(p->dets[i].re);
		pcre2_code_free(p->dets[i].re_at);
		pcre2_code_free(p->dets[i].re_ascii);
		pcre2_code_free(p->dets[i].re_at_ascii);
	}
	free(p->dets);
	for (size_t i = 0; i < p->n_custom; i++)
		free(p->custom_names[i]);
	free(p->custom_names);
	EVP_MAC_CTX_free(p->mac);
	hs_free_database(p->db_lit);
	hs_free_database(p->db_num);
	free(p);
}

size_t mask_hint_literals(const mask_profile *p)
{
	return p->gate ? p->n_literals : 0;
}

const char *mask_glob_literal(const char *glob, size_t *len)
{
	const char *best = NULL;
	size_t best_len = 0;
	for (const char *g = glob; *g;) {
		size_t l = strcspn(g, "*?[\\");
		if (l > best_len) {
			best = g;
			best_len = l;
		}
		g += l;
		if (*g == '[') {
			/* a bracket expression is one character of a set: skip it whole
			 * ("[]...]" and "[!]...]" hold a literal "]") */
			const char *e = g + 1;
			if (*e == '!' || *e == '^')
				e++;
			if (*e == ']')
				e++;
			e = strchr(e, ']');
			g = e ? e + 1 : g + 1;
		} else if (*g) {
			g++;
		}
	}
	*len = best_len;
	return best;
}

size_t mask_key_literals(const char *const *globs, size_t n, char ***out)
{
	char **l = util_xmalloc((n + 1) * sizeof(*l));
	for (size_t i = 0; i < n; i++) {
		size_t len;
		const char *lit = mask_glob_literal(globs[i], &len);
		if (!lit) {
			mask_literals_free(l, i);
			*out = NULL;
			return 0;
		}
		l[i] = util_strndup(lit, len);
	}
	*out = l;
	return n;
}

void mask_literals_free(char **l, size_t n)
{
	for (size_t i = 0; l && i < n; i++)
		free(l[i]);
	free(l);
}

mask_engine mask_profile_engine(const mask_profile *p)
{
	return p->engine;
}

const char *mask_detector_name(const mask_profile *p, size_t i)
{
	if (i < MASK_DET_COUNT)
		return builtin_names[i];
	if (i - MASK_DET_COUNT < p->n_custom)
		return p->custom_names[i - MASK_DET_COUNT];
	return NULL;
}

size_t mask_detector_total(const mask_profile *p)
{
	return MASK_DET_COUNT + p->n_custom;
}

/* ---- scratch -------------------------------------------------------------- */

typedef struct span {
	size_t s, e;
} span;

typedef struct match {
	size_t s, e;            /* value span */
	uint32_t det;           /* index in p->dets */
	int tier;
} match;

struct mask_scratch {
	const mask_profile *p;
	hs_scratch_t *hs;
	pcre2_match_data *md;
	pcre2_match_context *mctx;
	pcre2_jit_stack *jit;
	size_t *pos;            /* per detector: no match starts before this */
	size_t *last_hint;      /* per detector: last hint end seen */
	bool *rescan;           /* per detector: hints came out of order */
	match *m, *tmp;
	size_t nm, cap, tmp_cap;
	const char *subj;       /* the value being scanned */
	size_t len;
	size_t hl, hh;          /* subj[hl, hh) is ASCII and subj[hh] is not (hh = len: the end);
				 * SIZE_MAX: not looked at yet (next_high) */
	char *pad;              /* the subject as Hyperscan reads it (hs_subject) */
	size_t pad_cap;
	span *spans;            /* where db_num looks (num_spans, not exact) */
	size_t n_spans, spans_cap;
	mask_hint *syn;         /* the numeric detectors' hints (num_spans, exact): id = built-in */
	size_t n_syn, syn_cap;
	size_t hint_base;       /* added to the ends on_hint is given */
	bool any_rescan;        /* some rescan[] is set */
};

/*
 * Hyperscan 5.4's AVX-512 VBMI literal matcher reads past the end of the
 * subject (fuzz_mask: a SEGV at a page boundary, the value at the end of an
 * exact-size allocation; the same out-of-bounds read is vectorscan issue 322,
 * fdr_exec_fat_teddy). A row's last value can end where its buffer does, so
 * Hyperscan only ever reads a copy with HS_PAD zero bytes on either side.
 */
#define HS_PAD 64

static const char *hs_subject(mask_scratch *s, const char *in, size_t len)
{
	if (len + 2 * HS_PAD > s->pad_cap) {
		size_t cap = s->pad_cap ? s->pad_cap : 4096;
		while (cap < len + 2 * HS_PAD)
			cap *= 2;
		free(s->pad);
		s->pad = util_xmalloc(cap);
		s->pad_cap = cap;
		memset(s->pad, 0, HS_PAD);
	}
	if (len)
		memcpy(s->pad + HS_PAD, in, len);
	memset(s->pad + HS_PAD + len, 0, HS_PAD);
	return s->pad + HS_PAD;
}

mask_scratch *mask_scratch_new(const mask_profile *p)
{
	mask_scratch *s = util_xmalloc(sizeof(*s));
	memset(s, 0, sizeof(*s));
	s->p = p;
	/* One scratch serves both databases (hs_alloc_scratch grows it). */
	if (p->db_lit && hs_alloc_scratch(p->db_lit, &s->hs) != HS_SUCCESS)
		goto fail;
	if (p->db_num && hs_alloc_scratch(p->db_num, &s->hs) != HS_SUCCESS)
		goto fail;
	s->md = pcre2_match_data_create(p->max_groups + 1, NULL);
	s->mctx = pcre2_match_context_create(NULL);
	/* The private_key pattern's long lazy repeat wants more than the
	 * default 32 KiB JIT stack. */
	s->jit = pcre2_jit_stack_create(32 * 1024, 4 * 1024 * 1024, NULL);
	if (!s->md || !s->mctx || !s->jit)
		goto fail;
	pcre2_jit_stack_assign(s->mctx, NULL, s->jit);
	pcre2_set_match_limit(s->mctx, MATCH_LIMIT);
	size_t n = p->n_dets ? p->n_dets : 1;
	/* one block, cleared by one memset per scan (scan_reset) */
	s->pos = util_xmalloc(n * (2 * sizeof(size_t) + sizeof(bool)));
	s->last_hint = s->pos + n;
	s->rescan = (bool *)(s->last_hint + n);
	return s;
fail:
	mask_scratch_free(s);
	return NULL;
}

void mask_scratch_free(mask_scratch *s)
{
	if (!s)
		return;
	hs_free_scratch(s->hs);
	pcre2_match_data_free(s->md);
	pcre2_match_context_free(s->mctx);
	pcre2_jit_stack_free(s->jit);
	free(s->pad);
	free(s->spans);
	free(s->syn);
	free(s->pos); /* with last_hint and rescan */
	free(s->m);
	free(s->tmp);
	free(s);
}

/* ---- scanning ------------------------------------------------------------- */

static void push_match_tier(mask_scratch *s, size_t vs, size_t ve, uint32_t di, int tier)
{
	if (s->nm == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 16;
		s->m = util_xrealloc(s->m, s->cap * sizeof(*s->m));
	}
	s->m[s->nm++] = (match){vs, ve, di, tier};
}

static void push_match(mask_scratch *s, size_t vs, size_t ve, uint32_t di)
{
	push_match_tier(s, vs, ve, di, s->p->dets[di].tier);
}

/* Detector di could not search the value through (a PCRE2 limit): all of it
 * is its match, and it searches no more. */
static void undecided(mask_scratch *s, uint32_t di)
{
	push_match_tier(s, 0, s->len, di, TIER_UNDECIDED);
	s->pos[di] = s->len + 1;
}

/* A pattern match [ms, me): take the value group, validate, keep; false when it is not kept. */
static bool record(mask_scratch *s, uint32_t di, const PCRE2_SIZE *ov)
{
	const det *d = &s->p->dets[di];
	size_t vs = ov[2 * d->group], ve = ov[2 * d->group + 1];
	if (vs == PCRE2_UNSET || ve <= vs)
		return false; /* empty values are never masked */
	if (d->validate && !d->validate(s->subj, &vs, &ve))
		return false;
	push_match(s, vs, ve, di);
	return true;
}

/* An email's local part: [A-Za-z0-9._%+-], EMAIL_APOS or EMAIL_U; its first character: [A-Za-z0-9] or EMAIL_U. */
static const bool email_local[256] = {
	['0' ... '9'] = true, ['A' ... 'Z'] = true, ['a' ... 'z'] = true,
	['.'] = true, ['_'] = true, ['%'] = true, ['+'] = true, ['-'] = true,
};
static const bool email_first[256] = {
	['0' ... '9'] = true, ['A' ... 'Z'] = true, ['a' ... 'z'] = true,
};
static const bool email_letter[256] = {
	['A' ... 'Z'] = true, ['a' ... 'z'] = true,
};

/* Whether the k bytes at c (a lead byte, then k - 1 in 0x80-0xBF) are one of EMAIL_U. */
static bool email_utf8_letter(const unsigned char *c, size_t k)
{
	unsigned char b = c[0], b1 = c[1];
	switch (k) {
	case 2: return b >= 0xC3 && b <= 0xDF;
	case 3: return b == 0xE0 || b == 0xE1 || (b >= 0xE4 && b <= 0xEE) || (b == 0xE3 && b1 >= 0x81) ||
		       (b == 0xEF && b1 <= 0xB7);
	case 4: return (b == 0xF0 && b1 >= 0x90 && b1 <= 0x9E) || (b >= 0xF1 && b <= 0xF4);
	default: return false;
	}
}

/* How many bytes the local-part character ending right before x[r] takes
 * (0: none ends there), not reaching before lo. */
static size_t email_char_before(const unsigned char *x, size_t lo, size_t r)
{
	unsigned char b = x[r - 1];
	if (b == '\'') /* EMAIL_APOS: between two ASCII letters */
		return r - lo >= 2 && email_letter[x[r - 2]] && email_letter[x[r]];
	if (b < 0x80)
		return email_local[b];
	if (b > 0xBF)
		return 0; /* a lead byte with nothing after it */
	for (size_t k = 2; k <= 4 && r - lo >= k; k++) {
		unsigned char l = x[r - k];
		if (l >= 0x80 && l <= 0xBF)
			continue;
		return email_utf8_letter(x + r - k, k) ? k : 0;
	}
	return 0;
}

/* The first of s->subj's bytes >= 0x80 at or after lo (s->len: none). What
 * was looked at is kept (s->hl, s->hh), so that the searches of a value, whose
 * starts mostly grow, read each byte about once. */
static size_t next_high(mask_scratch *s, size_t lo)
{
	if (s->hl <= lo && lo <= s->hh)
		return s->hh;
	const unsigned char *x = (const unsigned char *)s->subj;
	bool before = s->hh != SIZE_MAX && lo < s->hl; /* known from s->hl on */
	size_t end = before ? s->hl : s->len, i = lo;
	for (uint64_t w; i + 8 <= end; i += 8) {
		memcpy(&w, x + i, 8);
		if (w & 0x8080808080808080u)
			break;
	}
	while (i < end && x[i] < 0x80)
		i++;
	s->hl = lo;
	if (!(before && i == end))
		s->hh = i;
	return s->hh;
}

/* Whether subj[lo, hi) is ASCII: the email twins for ASCII text match there
 * exactly as the patterns do (lo: 4 bytes before a search's start, for its
 * lookbehind; hi: the end of its subject). Every EMAIL_U letter has a byte
 * >= 0x80. */
static bool ascii_span(mask_scratch *s, size_t lo, size_t hi)
{
	return next_high(s, lo) >= hi;
}

/*
 * The ASCII twin (email_ascii) anchored at r over x[0, t), as PCRE2 runs it:
 * whether it matches, and where the match ends; x[r, at) is a local part's
 * characters, ASCII, at most 64 of them, and x[at] is its "@". Every repeat in it is
 * possessive but the domain's labels, {1,8}: PCRE2 takes the most labels
 * after which a TLD (two letters or more, all the letters there are) passes
 * the lookahead.
 */
static bool email_ascii_at(const unsigned char *x, size_t t, size_t r, size_t at, size_t *end)
{
	static const bool alnum[256] = {['0' ... '9'] = true, ['A' ... 'Z'] = true, ['a' ... 'z'] = true};
	static const bool label[256] = {['0' ... '9'] = true, ['A' ... 'Z'] = true, ['a' ... 'z'] = true,
					['-'] = true};
	/* (?<![A-Za-z0-9._%+-]|[A-Za-z]') */
	if (r >= 1 && email_local[x[r - 1]])
		return false;
	if (r >= 2 && x[r - 1] == '\'' && email_letter[x[r - 2]])
		return false;
	/* [A-Za-z0-9](?:[A-Za-z0-9._%+-]|(?<=[A-Za-z])'(?=[A-Za-z])){0,63}+@ */
	if (r >= t || !email_first[x[r]])
		return false;
	/* (email_search walked it back from the "@" at at: at most 64 bytes of
	 * those characters, all ASCII) */
	size_t j = at;
	/* (?:[A-Za-z0-9][A-Za-z0-9-]*+(?<!-)\.){1,8}: where each label's "." ends */
	size_t ends[8], n = 0, d = j + 1;
	while (n < 8 && d < t && alnum[x[d]]) {
		size_t q = d + 1;
		while (q < t && label[x[q]])
			q++;
		if (x[q - 1] == '-' || q >= t || x[q] != '.')
			break;
		ends[n++] = d = q + 1;
	}
	/* [A-Za-z][A-Za-z]++(?![A-Za-z0-9-]|\.[A-Za-z0-9]) after as many labels as can be */
	while (n > 0) {
		size_t q = ends[--n];
		while (q < t && email_letter[x[q]])
			q++;
		if (q - ends[n] < 2)
			continue;
		if (q < t && (label[x[q]] || (x[q] == '.' && q + 1 < t && alnum[x[q + 1]])))
			continue;
		*end = q;
		return true;
	}
	return false;
}

/*
 * The email hint ending at h, just past its "@", with the subject cut at t:
 * true when decided here. Every email holds one "@" (a local part or a
 * domain holds none) and starts with [A-Za-z0-9] where no local-part
 * character is before it (the lookbehind), so the match holding this "@"
 * can only start at r, where the run of local-part characters before the
 * "@" starts, at most 64 bytes before it: one anchored match at r decides.
 * When the run goes back past pos, or more than 64 bytes, r is where the
 * walk stops, after a local-part character: the lookbehind fails there. A
 * match holding a later "@" starts at h or later, where pos stays, and is
 * that "@"'s hint's to find. As r grows with the "@", the matches come out
 * in the order of the PCRE2 iteration.
 */
static bool email_search(mask_scratch *s, uint32_t di, size_t h, size_t t)
{
	const det *d = &s->p->dets[di];
	const char *x = s->subj;
	size_t pos = s->pos[di];
	if (!d->re_at || h == 0 || x[h - 1] != '@' || h - 1 < pos)
		return false;
	size_t at = h - 1, lo = at - pos > 64 ? at - 64 : pos, r = at, k;
	while (r > lo && (k = email_char_before((const unsigned char *)x, lo, r)) != 0)
		r -= k;
	if (r == at || ((unsigned char)x[r] < 0x80 && !email_first[(unsigned char)x[r]]))
		return true; /* no match holds this "@" (the anchored pattern would say so too) */
	pcre2_set_offset_limit(s->mctx, PCRE2_UNSET);
	const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(s->md);
	int rc;
	if (d->re_at_ascii && ascii_span(s, r > 4 ? r - 4 : 0, at)) {
		/* The ASCII twin over an ASCII local part: its match [r, e) is ASCII
		 * and so the pattern's too, when what its lookahead read is ASCII
		 * (a letter of EMAIL_U there would have made the TLD longer, or a
		 * label of it); no match of it is none of the pattern's when
		 * nothing from the "@" on is beyond ASCII. */
		/* (the twin as PCRE2 would run it: email_ascii_at) */
		size_t e;
		if (email_ascii_at((const unsigned char *)x, t, r, at, &e)) {
			if (e == t || ((unsigned char)x[e] < 0x80 &&
				       (x[e] != '.' || e + 1 == t || (unsigned char)x[e + 1] < 0x80))) {
				PCRE2_SIZE m[2] = {r, e};
				record(s, di, m);
				s->pos[di] = e;
				return true;
			}
		} else if (ascii_span(s, at, t)) {
			return true;
		}
	}
	rc = pcre2_jit_match(d->re_at, (PCRE2_SPTR)x, t, r, 0, s->md, s->mctx);
	if (rc == PCRE2_ERROR_NOMATCH)
		return true;
	if (rc <= 0)
		return false; /* a limit: the plain search meets it, and fails closed */
	record(s, di, ov);
	s->pos[di] = ov[1];
	return true;
}

/*
 * search for a detector with a matcher of its own (natives): every match
 * starting in [w, h], as the PCRE2 loop below finds them on a cut subject
 * (a match the validator refuses: the next start is the one after it).
 */
static void native_search(mask_scratch *s, uint32_t di, size_t h, size_t w)
{
	const native_fn at = s->p->dets[di].native;
	const unsigned char *x = (const unsigned char *)s->subj;
	size_t pos = s->pos[di];
	for (size_t i = w; i <= h && i < s->len;) {
		PCRE2_SIZE ov[2] = {i, 0};
		size_t e;
		/* (each starts with a digit, not right after one: most starts fail here) */
		if (!(x[i] >= '0' && x[i] <= '9') || (i > 0 && word[x[i - 1]]) || !at(x, s->len, i, &e)) {
			i++;
			continue;
		}
		ov[1] = e;
		pos = record(s, di, ov) ? e : i + 1;
		i = pos;
	}
	s->pos[di] = pos > h ? pos : h + 1;
}

/*
 * Runs detector di for a hint ending at h (see the header comment): finds
 * every match starting in [pos, h]. full: h = len and no window or cut (the
 * plain PCRE2 scan).
 */
static void search(mask_scratch *s, uint32_t di, size_t h, bool full)
{
	const det *d = &s->p->dets[di];
	size_t pos = s->pos[di];
	if (h < pos)
		return;
	size_t w = pos, t = s->len;
	if (!full && d->lead != UNBOUNDED) {
		if (h > d->lead && h - d->lead > w)
			w = h - d->lead;
		if (d->cut && d->maxlen != UNBOUNDED && t - h > d->maxlen + LOOKAROUND)
			t = h + d->maxlen + LOOKAROUND;
		if (d->slot == MASK_DET_EMAIL && email_search(s, di, h, t))
			return;
		if (d->native) {
			native_search(s, di, h, w);
			return;
		}
	}
	const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(s->md);
	/* done: the subject is not cut, so a search that runs out of matches
	 * proves there are no more in the value: later hints need no search */
	bool done = t == s->len;
	/* on a cut subject only a start up to h counts (past it, the cut could
	 * have made the match), so PCRE2 tries none past h: a search that finds
	 * nothing costs the window up to its hint, not the whole cut subject
	 * (text full of a hint, such as BEGIN PRIVATE KEY lines, would otherwise
	 * be searched again from every one of them) */
	pcre2_set_offset_limit(s->mctx, done ? PCRE2_UNSET : h);
	const pcre2_code *re = d->re;
	bool jit = d->jit;
	if (d->re_ascii && ascii_span(s, w > 4 ? w - 4 : 0, t)) {
		re = d->re_ascii;
		jit = d->jit_ascii;
	}
	while (w < t) { /* from t only an empty match is left, and none is ever recorded */
		int rc = jit ? pcre2_jit_match(re, (PCRE2_SPTR)s->subj, t, w, 0, s->md, s->mctx)
			     : pcre2_match(re, (PCRE2_SPTR)s->subj, t, w, 0, s->md, s->mctx);
		if (rc == PCRE2_ERROR_NOMATCH)
			break;
		if (rc <= 0) {
			undecided(s, di); /* a limit: fail closed */
			return;
		}
		if (ov[1] < ov[0]) {
			done = false;
			break; /* \K can give end < start: not a span */
		}
		if (ov[0] > h && t < s->len)
			break; /* past the hint on a cut subject: maybe an artefact of the cut */
		/* a match the validator refused may hide one starting inside it (a
		 * date, then a card: `2026-11-28 4532 0000 1005 7130` matches from the
		 * year, up to 19 digits, and fails Luhn): the search goes on from
		 * the next character, not past it */
		bool kept = record(s, di, ov);
		pos = kept && ov[1] > ov[0] ? ov[1] : ov[0] + 1;
		w = pos;
	}
	s->pos[di] = done ? s->len + 1 : pos > h ? pos : h + 1;
}

static int on_hint(unsigned int id, unsigned long long from, unsigned long long to,
		   unsigned int flags, void *ctx)
{
	(void)from;
	(void)flags;
	mask_scratch *s = ctx;
	size_t h = (size_t)to + s->hint_base;
	if (id >= s->p->n_dets)
		return 0; /* a hint literal */
	if (h < s->last_hint[id]) {
		s->rescan[id] = true;
		s->any_rescan = true;
		return 0;
	}
	s->last_hint[id] = h;
	if (!s->rescan[id])
		search(s, id, h, false);
	return 0;
}

/*
 * Where a value phone, credit_card, us_ssn, ipv4 or iban would mask can be
 * in p[0, n). Those need a "digit cluster" (digit runs joined by at most 2
 * characters of " .-/()+") holding at least 9 digits (phone, card, SSN: the
 * validators demand it) in a shape one of them can have (close_cluster), or
 * at least 4 digits and 3 dots (IPv4); such a match lies within its cluster
 * and the one character before it (a phone's "+" or "("). An IBAN starts with
 * two capitals and two digits. exact: hints per detector into s->syn, sorted
 * by end (cluster_hints; an IBAN's at its digits); else the spans db_num
 * scans (the cluster and the character before; an IBAN's as long as one can
 * be). Ordinary text has digits (dates, amounts, street numbers) but rarely
 * such clusters. Soundness matters, not precision: the unit tests and the
 * fuzzer compare against the PCRE2 engine, which has no hints.
 *
 * p must be readable 64 bytes past n (hs_subject's padded copy).
 */
/* What a byte can be to a digit cluster: one of the separators " .-/()+" that
 * join runs (SEP), and which. */
enum {
	C_SEP = 1,      /* " .-/()+" */
	C_DOT = 2,      /* "." */
	C_OPEN = 4,     /* "+" "(": a phone may start here */
	C_LEAD = 8,     /* "(" ")" "/": an opener right after it may start a phone */
	C_JOIN = 16,    /* " .-": between a phone's runs */
	C_CHAIN = 32,   /* " -": between a card's or an SSN's runs */
	C_ALPHA = 64,   /* A-Z, a-z: before an IBAN's digits */
	C_NAT = 128,    /* " .-/": between a national phone number's runs */
};
static const unsigned char cclass[256] = {
	[' '] = C_SEP | C_JOIN | C_CHAIN | C_NAT, ['-'] = C_SEP | C_JOIN | C_CHAIN | C_NAT,
	['.'] = C_SEP | C_DOT | C_JOIN | C_NAT,   ['/'] = C_SEP | C_NAT | C_LEAD,
	['('] = C_SEP | C_OPEN | C_LEAD,          [')'] = C_SEP | C_LEAD,
	['+'] = C_SEP | C_OPEN,                   ['A' ... 'Z'] = C_ALPHA, ['a' ... 'z'] = C_ALPHA,
};

/* Bit k set: p[k] is a digit (k < 64; p readable for 64 bytes). */
static uint64_t digit_mask64(const unsigned char *p)
{
#if defined(__SSE2__)
	uint64_t m = 0;
	for (int k = 0; k < 4; k++) {
		__m128i t = _mm_sub_epi8(_mm_loadu_si128((const __m128i *)(const void *)(p + 16 * k)),
					 _mm_set1_epi8('0'));
		m |= (uint64_t)(unsigned)_mm_movemask_epi8(
			     _mm_cmpeq_epi8(_mm_min_epu8(t, _mm_set1_epi8(9)), t))
		     << (16 * k);
	}
	return m;
#else
	uint64_t m = 0;
	for (unsigned k = 0; k < 64; k++)
		m |= (uint64_t)is_digit((char)p[k]) << k;
	return m;
#endif
}

typedef struct cluster {
	size_t start, end;      /* first digit, one past the last */
	size_t digits, dots;
	size_t chain;           /* digits of the last run chain (runs joined by one " " or "-"),
				 * from its first run where a card may start, if chain_ok */
	bool chain_ok;          /* a card may start in that chain (not after "." or "-": after " ") */
	bool card;              /* a chain of 13+ digits where a card may start */
	bool opener;            /* a "+" or "(" before its first run */
	bool opener_in;         /* one before a later run: "(+" ")+" "/+" "((" ")(" "/(" "+(": a "+"
				 * or "(" right after "(", ")", "/" or one of " .-" may start a
				 * phone (right after a digit or a "+" it may not) */
	size_t r1, r2;          /* the lengths of its last two runs (r2 the last) */
	bool j2_ssn;            /* the last run follows the one before after one " " or "-" */
	size_t jn;              /* runs in the last chain of runs joined by one " ", "." or "-" */
	bool jfit;              /* that chain's first three runs have 2-4, 3-4 and 3-4 digits */
	bool phone3;            /* an earlier chain of exactly three such runs (phone_chain) */
	bool ssn3;              /* runs of 3, 2 and 4 digits, each after one " " or "-" */
	bool later3;            /* a later run of 3+ digits */
	bool zero;              /* a run starting with "0" where a national number may start */
} cluster;

static void add_syn(mask_scratch *s, uint32_t slot, size_t end)
{
	if (s->p->det_of[slot] < 0)
		return;
	if (s->n_syn == s->syn_cap) {
		s->syn_cap = s->syn_cap ? 2 * s->syn_cap : 16;
		s->syn = util_xrealloc(s->syn, s->syn_cap * sizeof(*s->syn));
	}
	s->syn[s->n_syn++] = (mask_hint){end, slot};
}

/*
 * Hints for detector slot over a cluster [cs, ce): a match starts in
 * [cs - 1, ce) (a phone's "+" or "(" before the first run) and ends by ce, so
 * ends ce, ce - maxlen, ... down to cs give every start s a hint h with
 * s < h <= s + maxlen, which is all the confirmation needs (mask.c's header).
 */
static void cluster_hints(mask_scratch *s, uint32_t slot, size_t cs, size_t ce)
{
	size_t m = builtins[slot].maxlen, k = (ce - cs) / m;
	for (;; k--) {
		add_syn(s, slot, ce - k * m);
		if (!k)
			break;
	}
}

static void add_span(mask_scratch *s, size_t a, size_t b)
{
	if (s->n_spans == s->spans_cap) {
		s->spans_cap = s->spans_cap ? 2 * s->spans_cap : 16;
		s->spans = util_xrealloc(s->spans, s->spans_cap * sizeof(*s->spans));
	}
	s->spans[s->n_spans++] = (span){a, b};
}

/* A phone "ddd ddd dddd" with no "+" or "(": a chain of exactly three runs
 * joined by one " ", "." or "-", of 2-4, 3-4 and 3-4 digits (the lookarounds
 * keep a match from starting or ending next to a run its chain goes on to). */
static bool phone_chain(const cluster *c)
{
	return c->phone3 || (c->jn == 3 && c->jfit);
}

/* A run of 2-5 digits that may be a national number's first: the trunk "0"
 * or the international prefix "00", then a digit 1-9. */
static bool trunk(const unsigned char *r, size_t run)
{
	return run >= 2 && run <= 5 && r[0] == '0' && (r[1] != '0' || (run >= 3 && r[2] != '0'));
}

/*
 * A national phone number ("0171 1234567", "030-12345678", "0171/1234567",
 * "01 23 45 67 89", "0049 171 1234567"): a trunk run not right after a digit
 * and one of " ./-", then runs joined by one separator of " ./-", the same
 * each time; 9+ digits. The most digits a chain of such runs has in the
 * cluster p[cs, ce) (from a digit to a digit). exact: only a chain that can
 * start a match counts. Else text around a value may lengthen its first run
 * or join it to a run before, with the same separator or another: a run
 * joined by a separator other than the open chain's (or with none open)
 * starts one with the run before. Walked when a cluster closes, and only
 * when it could hold one: the runs of timestamps and amounts cost nothing.
 */
static size_t national(const unsigned char *p, size_t cs, size_t ce, bool exact)
{
	size_t best = 0, nat = 0, prev = 0;
	unsigned char nat_sep = 0;
	for (size_t i = cs; i < ce;) {
		size_t j = i;
		while (j < ce && is_digit((char)p[j]))
			j++;
		size_t run = j - i;
		unsigned char sep = i > cs && (cclass[p[i - 1]] & C_NAT) && is_digit((char)p[i - 2]) ? p[i - 1] : 0;
		if (sep && nat && (!nat_sep || nat_sep == sep))
			nat += run;
		else if (sep)
			nat = exact ? 0 : prev + run;
		else
			nat = trunk(p + i, run) ? run : 0;
		nat_sep = sep;
		if (nat > best)
			best = nat;
		prev = run;
		for (i = j; i < ce && !is_digit((char)p[i]);)
			i++;
	}
	return best;
}

/*
 * A phone, card or SSN has 9+ digits, and the patterns say which clusters can
 * hold one (the lookarounds make every run of a match a whole run of its
 * cluster, and keep a match from starting right after a run it could join):
 *   - a phone written "+.." or "(..)": an opener before one of its runs;
 *   - a card: a chain of runs joined by one " " or "-" holding 13+ digits,
 *     not right after a "." or "-" (an amount's decimals are no card), from
 *     its first run or one after a " ";
 *   - a phone "ddd ddd dddd" (separators " .-"): a chain of exactly three
 *     runs of 2-4, 3-4 and 3-4 digits joined by single separators (four
 *     groups of four, a card's, are none);
 *   - a national phone number: a chain from a run of 2-5 digits starting
 *     with "0", joined by one separator of " .-/", the same each time, of
 *     9+ digits (national());
 *   - an SSN "ddd-dd-dddd": three runs of 3, 2 and 4 digits joined by single
 *     " " or "-".
 * A date and time ("2025-01-01 00:37", runs 4-2-2-2; "01.02.2025 10:30",
 * no chain with one separator holds 9 digits) or an amount
 * ("792.1900000000000000") has none of these.
 *
 * What is outside the cluster is never looked at: the character before its
 * first run may belong to text around the value (in a DataRow, a length), so
 * a chain starting there may always be a card. That holds when the text is
 * one value, or values apart (exact: see mask_hints). Otherwise text around a
 * value may join its clusters, make a run longer or put a "." before its
 * first card chain, so only what text around can never take away counts: 9+
 * digits with an opener, 13+ digits, a later run of 3+ digits or a chain of
 * 9+ digits a national number could be (national(), not exact).
 */
static void close_cluster(mask_scratch *s, const cluster *c, const unsigned char *p, bool exact)
{
	if (exact) {
		/* the detectors this cluster's shape allows, with hints of their own */
		if (c->digits >= 9 && (c->opener || c->opener_in || phone_chain(c) ||
				       (c->zero && national(p, c->start, c->end, true) >= 9)))
			cluster_hints(s, MASK_DET_PHONE, c->start, c->end);
		if (c->digits >= 9 && c->card)
			cluster_hints(s, MASK_DET_CREDIT_CARD, c->start, c->end);
		if (c->ssn3)
			cluster_hints(s, MASK_DET_US_SSN, c->start, c->end);
		if (c->digits >= 4 && c->dots >= 3)
			cluster_hints(s, MASK_DET_IPV4, c->start, c->end);
		return;
	}
	if ((c->digits >= 9 && (c->opener || c->opener_in || c->digits >= 13 || c->later3 ||
				national(p, c->start, c->end, false) >= 9)) ||
	    (c->digits >= 4 && c->dots >= 3))
		add_span(s, c->start ? c->start - 1 : 0, c->end);
}

/* The digit run p[gs, ge) (maximal). Inlined: it runs for every run of digits. */
/* Whether p[i, n) starts with an IBAN's hint: two letters and two digits (the
 * caller saw them), then 11 letters or digits, or " XXXX XXXX". */
static bool iban_hint(const unsigned char *p, size_t i, size_t n)
{
	static const bool alnum[256] = {['0' ... '9'] = true, ['A' ... 'Z'] = true, ['a' ... 'z'] = true};
	if (n - i < 14)
		return false;
	if (p[i + 4] == ' ') {
		for (size_t k = 5; k < 14; k++)
			if (k == 9 ? p[i + k] != ' ' : !alnum[p[i + k]])
				return false;
		return true;
	}
	if (n - i < 15)
		return false;
	for (size_t k = 4; k < 15; k++)
		if (!alnum[p[i + k]])
			return false;
	return true;
}

static inline __attribute__((always_inline)) void digit_run(mask_scratch *s, cluster *c, const unsigned char *p, size_t n, size_t gs, size_t ge,
		      bool exact)
{
	size_t gap = gs - c->end, run = ge - gs;
	unsigned k1 = gs ? cclass[p[gs - 1]] : 0, k2 = gap == 2 ? cclass[p[gs - 2]] : 0;
	if (c->digits > 0 && gap <= 2 && (k1 & C_SEP) && (gap == 1 || (k2 & C_SEP))) {
		/* joined: one or two separators since the last run */
		c->digits += run;
		c->dots += !!(k1 & C_DOT) + !!(k2 & C_DOT);
		c->end = ge;
		/* a phone starts at a "+" or "(" after "(", ")" or "/" only (exact) */
		c->opener_in = c->opener_in || (exact ? ((k2 & C_LEAD) && (k1 & C_OPEN)) ||
							(gap == 2 && (k1 & C_OPEN) && (k2 & C_JOIN))
						      : ((k1 | k2) & C_OPEN));
		bool j = gap == 1 && (k1 & C_JOIN), j_ssn = gap == 1 && (k1 & C_CHAIN);
		if (j) {
			if (++c->jn == 3)
				c->jfit = c->r1 >= 2 && c->r1 <= 4 && c->r2 >= 3 && c->r2 <= 4 && run >= 3 && run <= 4;
			c->ssn3 = c->ssn3 || (j_ssn && c->j2_ssn && c->r1 == 3 && c->r2 == 2 && run == 4);
		} else {
			c->phone3 = phone_chain(c);
			c->jn = 1;
			/* (a run right after a digit and one of " .-" starts no
			 * national number; after "/", neither, but rarely) */
			c->zero |= p[gs] == '0';
		}
		c->r1 = c->r2;
		c->r2 = run;
		c->j2_ssn = j_ssn;
		c->later3 = c->later3 || run >= 3;
		if (j_ssn && c->chain_ok) {
			c->chain += run;
		} else if (j_ssn) {
			/* a card may start after a digit and one " " (`1 4111 1111 ...`) */
			c->chain = run;
			c->chain_ok = p[gs - 1] == ' ';
		} else {
			c->chain = run;
			c->chain_ok = p[gs - 1] != '.' && p[gs - 1] != '-';
		}
	} else {
		if (c->digits >= 4) /* fewer can be nothing (close_cluster) */
			close_cluster(s, c, p, exact);
		*c = (cluster){.start = gs, .end = ge, .digits = run, .chain = run, .chain_ok = true, .r2 = run,
			       .jn = 1, .opener = (k1 & C_OPEN) != 0, .zero = p[gs] == '0'};
	}
	c->card = c->card || (c->chain_ok && c->chain >= 13);
	if (run >= 2 && (k1 & C_ALPHA) && gs >= 2 && (cclass[p[gs - 2]] & C_ALPHA) && iban_hint(p, gs - 2, n)) {
		if (exact) { /* an IBAN starts at the capitals */
			add_syn(s, MASK_DET_IBAN, gs);
		} else {
			size_t e = gs - 2 + builtins[MASK_DET_IBAN].maxlen;
			add_span(s, gs - 2, e < n ? e : n);
		}
	}
}

/* Insertion sort of a[0, n) by field key: cheap for a nearly sorted array. */
#define NEARLY_SORTED(a, n, key)                                      \
	do {                                                          \
		for (size_t i_ = 1; i_ < (n); i_++) {                 \
			__typeof__((a)[0]) x_ = (a)[i_];              \
			size_t j_ = i_;                               \
			while (j_ > 0 && (a)[j_ - 1].key > x_.key) { \
				(a)[j_] = (a)[j_ - 1];                \
				j_--;                                 \
			}                                             \
			(a)[j_] = x_;                                 \
		}                                                     \
	} while (0)

/* Fills s->spans[0, s->n_spans): sorted, disjoint (spans closer than a few bytes merged). */
static void num_spans(mask_scratch *s, const unsigned char *p, size_t n, bool exact)
{
	s->n_spans = 0;
	s->n_syn = 0;
	cluster c = {0};
	size_t run = SIZE_MAX; /* start of a run of digits still open at a block's end */
	for (size_t base = 0; base < n; base += 64) {
		uint64_t m = digit_mask64(p + base);
		if (n - base < 64)
			m &= ((uint64_t)1 << (n - base)) - 1;
		if (run != SIZE_MAX && !(m & 1)) {
			digit_run(s, &c, p, n, run, base, exact);
			run = SIZE_MAX;
		}
		while (m) {
			unsigned b = (unsigned)__builtin_ctzll(m);
			uint64_t rest = ~(m >> b);
			unsigned l = rest ? (unsigned)__builtin_ctzll(rest) : 64;
			size_t gs = run != SIZE_MAX && b == 0 ? run : base + b;
			run = SIZE_MAX;
			if (b + l >= 64) {
				run = gs;
				break;
			}
			digit_run(s, &c, p, n, gs, base + b + l, exact);
			m &= ~(uint64_t)0 << (b + l);
		}
	}
	if (run != SIZE_MAX)
		digit_run(s, &c, p, n, run, n, exact);
	if (c.digits >= 4)
		close_cluster(s, &c, p, exact);
	/* both nearly sorted (clusters close in order; an IBAN's hint or span
	 * comes before the cluster it sits in closes) */
	if (exact) {
		NEARLY_SORTED(s->syn, s->n_syn, end);
		return;
	}
	if (s->n_spans < 2)
		return;
	NEARLY_SORTED(s->spans, s->n_spans, s);
	size_t k = 0;
	for (size_t i = 1; i < s->n_spans; i++) {
		if (s->spans[i].s <= s->spans[k].e + 8) {
			if (s->spans[i].e > s->spans[k].e)
				s->spans[k].e = s->spans[i].e;
		} else {
			s->spans[++k] = s->spans[i];
		}
	}
	s->n_spans = k + 1;
}

/*
 * The numeric detectors' hints over hs_in[0, len) (hs_subject's copy), given
 * to cb as Hyperscan gives its matches. exact: from the digit clusters' shapes
 * alone; else db_num over the spans that need it (*base holds the span's
 * offset while its matches are reported).
 */
static hs_error_t scan_num(const mask_profile *p, mask_scratch *s, const char *hs_in, size_t len,
			   bool exact, match_event_handler cb, void *ctx, size_t *base)
{
	num_spans(s, (const unsigned char *)hs_in, len, exact);
	*base = 0;
	if (exact) {
		for (size_t i = 0; i < s->n_syn; i++)
			if (cb((unsigned)p->det_of[s->syn[i].id], 0, s->syn[i].end, 0, ctx))
				return HS_SCAN_TERMINATED;
		return HS_SUCCESS;
	}
	hs_error_t e = HS_SUCCESS;
	for (size_t i = 0; i < s->n_spans && e == HS_SUCCESS; i++) {
		*base = s->spans[i].s;
		e = hs_scan(p->db_num, hs_in + s->spans[i].s, (unsigned)(s->spans[i].e - s->spans[i].s), 0,
			    s->hs, cb, ctx);
	}
	*base = 0;
	return e;
}

static void full_scan(mask_scratch *s, uint32_t di)
{
	s->pos[di] = 0;
	search(s, di, s->len, true);
}

static void scan_reset(const mask_profile *p, mask_scratch *s)
{
	memset(s->pos, 0, p->n_dets * (2 * sizeof(size_t) + sizeof(bool))); /* last_hint and rescan too */
	s->any_rescan = false;
}

/* After the hints: detectors Hyperscan has no hint for, or whose hints came out of order. */
static void scan_rest(const mask_profile *p, mask_scratch *s)
{
	if (p->all_in_hs && !s->any_rescan)
		return; /* the hints did it all */
	for (uint32_t i = 0; i < p->n_dets; i++) {
		if (p->dets[i].in_hs && !s->rescan[i])
			continue;
		if (s->rescan[i]) { /* drop what the unordered hints found */
			size_t k = 0;
			for (size_t j = 0; j < s->nm; j++)
				if (s->m[j].det != i)
					s->m[k++] = s->m[j];
			s->nm = k;
		}
		full_scan(s, i);
	}
}

static void scan(const mask_profile *p, mask_scratch *s)
{
	scan_reset(p, s);
	/* hs_scan takes an unsigned length; longer values use the reference scan. */
	if (p->engine != MASK_ENGINE_HYPERSCAN || s->len > UINT_MAX) {
		for (uint32_t i = 0; i < p->n_dets; i++)
			full_scan(s, i);
		return;
	}
	const char *hs_in = hs_subject(s, s->subj, s->len);
	if ((p->db_lit &&
	     hs_scan(p->db_lit, hs_in, (unsigned)s->len, 0, s->hs, on_hint, s) != HS_SUCCESS) ||
	    (p->db_num && scan_num(p, s, hs_in, s->len, true, on_hint, s, &s->hint_base) != HS_SUCCESS)) {
		/* Cannot happen with our callback; fall back to the reference. */
		s->nm = 0;
		for (uint32_t i = 0; i < p->n_dets; i++)
			full_scan(s, i);
		return;
	}
	scan_rest(p, s);
}

static int stop_on_hint(unsigned int id, unsigned long long from, unsigned long long to,
			unsigned int flags, void *ctx)
{
	(void)from;
	(void)to;
	(void)flags;
	const mask_profile *p = ctx;
	return id < p->n_dets; /* hint literals are not detectors */
}

typedef struct hint_list {
	mask_hint **h;
	size_t *cap, n, limit;
	size_t base;            /* added to the ends (db_num's spans) */
	int overflow;
} hint_list;

static int collect_hint(unsigned int id, unsigned long long from, unsigned long long to,
			unsigned int flags, void *ctx)
{
	(void)from;
	(void)flags;
	hint_list *l = ctx;
	to += l->base;
	if (l->n == *l->cap) {
		if (*l->cap >= l->limit) {
			l->overflow = 1;
			return 1;
		}
		*l->cap = *l->cap ? 2 * *l->cap : 64;
		*l->h = util_xrealloc(*l->h, *l->cap * sizeof(**l->h));
	}
	(*l->h)[l->n++] = (mask_hint){(size_t)to, id};
	return 0;
}

int mask_hints(const mask_profile *p, mask_scratch *s, const char *in, size_t len, mask_hint **h,
	       size_t *cap, size_t *n, const mask_range *skip, size_t n_skip)
{
	*n = 0;
	if (!p->gate || len > UINT_MAX)
		return -1;
	hint_list l = {.h = h, .cap = cap, .limit = MASK_HINTS_MAX};
	const char *hs_in = hs_subject(s, in, len);
	for (size_t i = 0; i < n_skip; i++)
		if (skip[i].s < skip[i].e && skip[i].e <= len)
			memset(s->pad + HS_PAD + skip[i].s, 0, skip[i].e - skip[i].s);
	if (p->db_lit && hs_scan(p->db_lit, hs_in, (unsigned)len, 0, s->hs, collect_hint, &l) != HS_SUCCESS)
		return -1;
	if (p->db_num && scan_num(p, s, hs_in, len, true, collect_hint, &l, &l.base) != HS_SUCCESS)
		return -1;
	if (l.overflow)
		return -1;
	*n = l.n;
	return 0;
}

/*
 * The row gate: every real match contains its detector's hint, and hints
 * have no anchors or lookarounds (custom patterns with any make the profile
 * ungated), so a text with no hint holds no match — nor does any part of it.
 * Text added around a value only grows its digit clusters (num_spans, not
 * exact: this text may be values with any separator, a COPY line).
 */
int mask_may_match(const mask_profile *p, mask_scratch *s, const char *in, size_t len)
{
	if (!p->gate || len > UINT_MAX)
		return 1;
	const char *hs_in = hs_subject(s, in, len);
	if (p->db_lit) {
		hs_error_t e = hs_scan(p->db_lit, hs_in, (unsigned)len, 0, s->hs, stop_on_hint, (void *)p);
		if (e != HS_SUCCESS)
			return 1;
	}
	if (p->db_num) {
		size_t base;
		if (scan_num(p, s, hs_in, len, false, stop_on_hint, (void *)p, &base) != HS_SUCCESS)
			return 1;
	}
	return 0;
}

/* ---- overlap resolution --------------------------------------------------- */

static int match_cmp(const void *a, const void *b)
{
	const match *x = a, *y = b;
	if (x->tier != y->tier)
		return x->tier > y->tier ? -1 : 1;
	if (x->s != y->s)
		return x->s < y->s ? -1 : 1;
	if (x->e != y->e)
		return x->e > y->e ? -1 : 1;
	return x->det < y->det ? -1 : x->det > y->det;
}

/* Leaves the chosen, disjoint spans in s->m[0, returned), sorted by start. */
static size_t resolve(mask_scratch *s)
{
	if (s->nm <= 1)
		return s->nm;
	if (s->nm <= 16) { /* a value's few matches: insertion sort, no qsort call */
		for (size_t i = 1; i < s->nm; i++) {
			match x = s->m[i];
			size_t j = i;
			for (; j > 0 && match_cmp(&s->m[j - 1], &x) > 0; j--)
				s->m[j] = s->m[j - 1];
			s->m[j] = x;
		}
	} else {
		qsort(s->m, s->nm, sizeof(*s->m), match_cmp);
	}
	if (s->tmp_cap < 2 * s->nm) {
		s->tmp_cap = 2 * s->nm;
		s->tmp = util_xrealloc(s->tmp, s->tmp_cap * sizeof(*s->tmp));
	}
	match *chosen = s->tmp, *merged = s->tmp + s->nm;
	size_t nc = 0;
	size_t i = 0;
	while (i < s->nm) {
		/* one tier: greedy by start against this tier and the higher ones */
		int tier = s->m[i].tier;
		size_t first_new = nc, j = 0;
		size_t new_start = i;
		size_t nn = 0;
		for (; i < s->nm && s->m[i].tier == tier; i++) {
			const match *c = &s->m[i];
			if (nn > 0 && c->s < s->m[new_start + nn - 1].e)
				continue;
			while (j < first_new && chosen[j].e <= c->s)
				j++;
			if (j < first_new && chosen[j].s < c->e)
				continue;
			s->m[new_start + nn++] = *c; /* compact in place: new_start + nn <= i */
		}
		/* merge chosen[0, first_new) with the new ones */
		size_t a = 0, b = 0, k = 0;
		while (a < first_new || b < nn) {
			if (b == nn || (a < first_new && chosen[a].s < s->m[new_start + b].s))
				merged[k++] = chosen[a++];
			else
				merged[k++] = s->m[new_start + b++];
		}
		memcpy(chosen, merged, k * sizeof(*chosen));
		nc = k;
	}
	memcpy(s->m, chosen, nc * sizeof(*chosen));
	return nc;
}

/* ---- styles --------------------------------------------------------------- */

/*
 * The last 4 digits the partial style keeps, into keep: only of a number
 * (digits and " .-()+/" alone) of 8 digits or more — a card, an SSN, a phone,
 * an account number: the customary last four. false for anything else: the
 * last characters of a password, a key, an address or a name are part of it.
 * number: v is known to be one (a detector's match whose pattern says so).
 */
static bool last_digits(const char *v, size_t n, bool number, char keep[4])
{
	/* 1: a digit, 2: a separator, 0: anything else */
	static const uint8_t cls[256] = {
		['0' ... '9'] = 1, [' '] = 2, ['.'] = 2, ['-'] = 2, ['('] = 2, [')'] = 2, ['+'] = 2, ['/'] = 2,
	};
	if (!number) {
		size_t digits = 0;
		for (size_t i = 0; i < n; i++) {
			uint8_t k = cls[(unsigned char)v[i]];
			if (!k)
				return false;
			digits += k & 1;
		}
		if (digits < 8)
			return false;
	}
	size_t got = 4;
	for (size_t i = n; got && i > 0; i--)
		if (cls[(unsigned char)v[i - 1]] == 1)
			keep[--got] = v[i - 1];
	return got == 0;
}

/* What the partial style may keep of a detector's match: the last digits of
 * a card, a phone, an SSN (KEEP_NUMBER: its pattern makes it a number of 9
 * digits or more) and of a custom detector's match that is a number
 * (KEEP_IF_NUMBER, as a column rule's value); never anything of a secret (a
 * password in a URL, a token, a key may be digits too), an email, an IBAN,
 * nor an IPv4 address (its octets run together are no number). */
enum { KEEP_NONE = 0, KEEP_NUMBER, KEEP_IF_NUMBER };
static int keeps_digits(uint32_t slot)
{
	if (slot == MASK_DET_CREDIT_CARD || slot == MASK_DET_PHONE || slot == MASK_DET_US_SSN)
		return KEEP_NUMBER;
	return slot >= MASK_DET_COUNT ? KEEP_IF_NUMBER : KEEP_NONE;
}

/* The masked form of v[0, n) in the profile's style; keep: what the partial
 * style may keep of it (keeps_digits). */
static void emit(const mask_profile *p, const char *v, size_t n, int keep, buf *out)
{
	switch (p->style) {
	case MASK_STYLE_PARTIAL: {
		char tail[4];
		buf_append(out, REDACTED, 4);
		if (keep != KEEP_NONE && last_digits(v, n, keep == KEEP_NUMBER, tail))
			buf_append(out, tail, 4);
		return;
	}
	case MASK_STYLE_HASH: {
		unsigned char md[EVP_MAX_MD_SIZE];
		size_t mdlen = 0;
		char hex[2 * EVP_MAX_MD_SIZE + 1];
		EVP_MAC_CTX *c = EVP_MAC_CTX_dup(p->mac);
		if (!c || !EVP_MAC_update(c, (const unsigned char *)v, n) ||
		    !EVP_MAC_final(c, md, &mdlen, sizeof(md)) || mdlen < 8) {
			/* Never leak the value: fall back to redaction. */
			EVP_MAC_CTX_free(c);
			buf_append(out, REDACTED, 4);
			return;
		}
		EVP_MAC_CTX_free(c);
		util_hex(md, 8, hex);
		buf_append(out, "h:", 2);
		buf_append(out, hex, 16);
		return;
	}
	case MASK_STYLE_REDACT:
	default:
		buf_append(out, REDACTED, 4);
		return;
	}
}

void mask_whole(const mask_profile *p, const char *in, size_t len, buf *out)
{
	emit(p, in, len, KEEP_IF_NUMBER, out);
}

/* The chosen matches of s->m written over in[0, len) into out. */
static size_t rewrite(const mask_profile *p, mask_scratch *s, const char *in, size_t len, buf *out,
		      uint32_t *counts)
{
	size_t n = resolve(s);
	if (n == 0)
		return 0;
	buf_reserve(out, len + 20 * n);
	size_t prev = 0;
	for (size_t i = 0; i < n; i++) {
		const match *m = &s->m[i];
		buf_append(out, in + prev, m->s - prev);
		emit(p, in + m->s, m->e - m->s, keeps_digits(p->dets[m->det].slot), out);
		prev = m->e;
		if (counts)
			counts[p->dets[m->det].slot]++;
	}
	buf_append(out, in + prev, len - prev);
	return n;
}

/* s set up to scan in[0, len); false when there is nothing to scan. */
static bool subject(const mask_profile *p, mask_scratch *s, const char *in, size_t len)
{
	s->subj = in;
	s->len = len;
	s->nm = 0;
	s->hl = s->hh = SIZE_MAX;
	return len > 0 && p->n_dets > 0;
}

size_t mask_text(const mask_profile *p, mask_scratch *s, const char *in, size_t len, buf *out,
		 uint32_t *counts)
{
	if (!subject(p, s, in, len))
		return 0;
	scan(p, s);
	return rewrite(p, s, in, len, out, counts);
}

size_t mask_text_hinted(const mask_profile *p, mask_scratch *s, const char *in, size_t len,
			const mask_hint *h, size_t nh, size_t off, buf *out, uint32_t *counts)
{
	if (!subject(p, s, in, len))
		return 0;
	scan_reset(p, s);
	for (size_t i = 0; i < nh; i++)
		if (h[i].id < p->n_dets && h[i].end > off && h[i].end - off <= len)
			on_hint(h[i].id, 0, h[i].end - off, 0, s);
	scan_rest(p, s);
	return rewrite(p, s, in, len, out, counts);
}
