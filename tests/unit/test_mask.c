/*
 * Unit tests for src/mask/mask.c. Every expectation goes through both engines
 * (Hyperscan and PCRE2) and the two outputs and counts must be identical;
 * then, per detector, real values are masked and near misses (bad Luhn, bad
 * IBAN checksum, forbidden SSN areas, version strings, unbounded keys) are
 * left alone. Styles, overlaps, counts, custom patterns and profile errors
 * follow, and a generated corpus (fragments glued at random, plus a long
 * text) is run through both engines for equality.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mask/mask.h"

#define X(id, name) name,
static const char *const all_names[] = {MASK_DETECTORS(X)};
#undef X
static const char *const custom_names[] = {"employee_id", "ticket"};
static const char *const custom_patterns[] = {"EMP-[0-9]{6}", "(?<![A-Z])TCK[0-9]{4,}"};
static const unsigned char key1[] = "test-key-1", key2[] = "test-key-2";

#define N_ENGINES 2
static const mask_engine engines[N_ENGINES] = {MASK_ENGINE_HYPERSCAN, MASK_ENGINE_PCRE2};

static mask_profile *profile(mask_engine eng, mask_style st, const unsigned char *key)
{
	mask_spec spec = {
		.detectors = all_names,
		.n_detectors = MASK_DET_COUNT,
		.custom_names = custom_names,
		.custom_patterns = custom_patterns,
		.n_custom = 2,
		.style = st,
		.hash_key = key,
		.hash_key_len = key ? strlen((const char *)key) : 0,
		.engine = eng,
	};
	char err[256] = "";
	mask_profile *p = mask_profile_new(&spec, err, sizeof(err));
	if (!p)
		fail_msg("mask_profile_new: %s", err);
	assert_int_equal(mask_profile_engine(p), eng);
	return p;
}

/* All detectors, redact style, per engine; built once. */
static mask_profile *redact[N_ENGINES];
static mask_scratch *redact_s[N_ENGINES];

static int setup(void **state)
{
	(void)state;
	for (int i = 0; i < N_ENGINES; i++) {
		redact[i] = profile(engines[i], MASK_STYLE_REDACT, NULL);
		redact_s[i] = mask_scratch_new(redact[i]);
		assert_non_null(redact_s[i]);
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (int i = 0; i < N_ENGINES; i++) {
		mask_scratch_free(redact_s[i]);
		mask_profile_free(redact[i]);
	}
	return 0;
}

/*
 * Masks in with each profile (one per engine) and asserts the engines agree
 * on the output, the return value and the counts. Returns the output
 * (malloc'd, NUL-terminated; "" and *n = 0 when nothing was masked).
 */
static char *run_profiles(mask_profile *const *ps, mask_scratch *const *ss, const char *in,
			  size_t len, size_t *n_out, uint32_t *counts_out)
{
	char *res = NULL;
	size_t res_n = 0;
	uint32_t res_counts[MASK_DET_COUNT + MASK_MAX_CUSTOM];
	for (int e = 0; e < N_ENGINES; e++) {
		buf out = {0};
		buf_append(&out, "PFX", 3); /* mask_text appends */
		uint32_t counts[MASK_DET_COUNT + MASK_MAX_CUSTOM] = {0};
		size_t n = mask_text(ps[e], ss[e], in, len, &out, counts);
		assert_true(out.len >= 3);
		assert_memory_equal(out.data, "PFX", 3);
		if (n == 0)
			assert_int_equal(out.len, 3);
		uint32_t total = 0;
		for (size_t i = 0; i < mask_detector_total(ps[e]); i++)
			total += counts[i];
		assert_int_equal(total, n);
		char *s = calloc(1, out.len - 3 + 1);
		assert_non_null(s);
		memcpy(s, out.data + 3, out.len - 3);
		buf_free(&out);
		if (e == 0) {
			res = s;
			res_n = n;
			memcpy(res_counts, counts, sizeof(counts));
			continue;
		}
		if (strcmp(res, s) != 0 || res_n != n || memcmp(res_counts, counts, sizeof(counts)))
			fail_msg("engines differ on [%.*s]:\n hyperscan (%zu): [%s]\n pcre2     (%zu): [%s]",
				 (int)len, in, res_n, res, n, s);
		free(s);
	}
	if (n_out)
		*n_out = res_n;
	if (counts_out)
		memcpy(counts_out, res_counts, sizeof(res_counts));
	return res;
}

/* spec's profile once per engine (spec.engine set here), with a scratch each. */
static void engine_pair(mask_spec spec, mask_profile **ps, mask_scratch **ss)
{
	for (int e = 0; e < N_ENGINES; e++) {
		spec.engine = engines[e];
		char err[256] = "";
		ps[e] = mask_profile_new(&spec, err, sizeof(err));
		if (!ps[e])
			fail_msg("mask_profile_new: %s", err);
		ss[e] = mask_scratch_new(ps[e]);
	}
}

static void engine_pair_free(mask_profile **ps, mask_scratch **ss)
{
	for (int e = 0; e < N_ENGINES; e++) {
		mask_scratch_free(ss[e]);
		mask_profile_free(ps[e]);
	}
}

static char *run(const char *in, size_t *n, uint32_t *counts)
{
	return run_profiles(redact, redact_s, in, strlen(in), n, counts);
}

/* in must become want (want NULL: left alone). */
static void expect(const char *in, const char *want)
{
	size_t n;
	char *got = run(in, &n, NULL);
	if (!want) {
		if (n != 0)
			fail_msg("[%s] should be left alone, got [%s]", in, got);
	} else if (n == 0 || strcmp(got, want) != 0) {
		fail_msg("[%s]:\n want [%s]\n got  [%s] (%zu masked)", in, want, got, n);
	}
	free(got);
}

/* in must have exactly one value, by detector det. */
static void expect_det(const char *in, const char *want, int det)
{
	uint32_t counts[MASK_DET_COUNT + MASK_MAX_CUSTOM];
	size_t n;
	char *got = run(in, &n, counts);
	if (n != 1 || counts[det] != 1 || strcmp(got, want) != 0)
		fail_msg("[%s]: want [%s] by %s, got [%s] (%zu masked, %u by it)", in, want,
			 all_names[det], got, n, counts[det]);
	free(got);
}

/* ---- detectors ------------------------------------------------------------ */

static void test_email(void **state)
{
	(void)state;
	expect_det("contact john.doe+tag@example.co.uk today", "contact **** today", MASK_DET_EMAIL);
	expect_det("a@b.io", "****", MASK_DET_EMAIL);
	expect_det("(mail: Jane_O'Neil.x@mail-1.example.com.)", "(mail: ****.)", MASK_DET_EMAIL);
	expect("two: a.b@c.de, x@y.org", "two: ****, ****");
	expect("user@localhost", NULL);
	expect("not an email: @example.com or user@ or a@b", NULL);
	expect("a@b.c", NULL);
	expect("x@example.c0m", NULL);
	/* one "@" per email, found from the start of the local-part run before it */
	expect("a@b@example.com", "a@****");
	expect("a@b.co_x@example.com", "****_x@example.com"); /* the second "@"'s run starts in the first match */
	expect(".a@example.com; -b@example.com", NULL);         /* no local part starts with . or - */
	expect("a.@example.com", "****");
	expect("@@a@example.com", "@@****");
	expect("to:a@example.com,b@example.org", "to:****,****");
	expect("a@example.com@b.example.org", "****@b.example.org");
	/* the longest local part (64), far into a value: the search starts where its hint allows */
	char in[300], want[300];
	snprintf(in, sizeof(in), "%s %.64s@example.com!", "a long note about the refund, then",
		 "j123456789012345678901234567890123456789012345678901234567890123456789");
	snprintf(want, sizeof(want), "%s ****!", "a long note about the refund, then");
	expect_det(in, want, MASK_DET_EMAIL);
	snprintf(in, sizeof(in), "then %.65s@example.com", /* 65: none */
		 "j123456789012345678901234567890123456789012345678901234567890123456789");
	expect(in, NULL);
	/* a domain label starts and ends with a letter or digit; labels and TLDs
	 * longer than DNS allows are still shaped like an address: masked */
	char label[80];
	memset(label, 'd', 70);
	label[70] = '\0';
	snprintf(in, sizeof(in), "x@%s.com", label);
	expect(in, "****");
	expect("x@-a.com x@a-.com", NULL);
	expect("x@a-b.com", "****");
	expect("x@a.abcdefghijklmnopqrstuvwxyz", "****");
	expect("x@a.c", NULL);          /* a TLD has two letters at least */
	expect("x@a.co2", NULL);        /* and no digit */
	/* internationalised addresses (RFC 6531): UTF-8 letters in the local part, the labels, the TLD */
	expect_det("mail hans@müller.de", "mail ****", MASK_DET_EMAIL);
	expect_det("josé@correo.es", "****", MASK_DET_EMAIL);
	expect_det("hans.müller@gmail.com!", "****!", MASK_DET_EMAIL);  /* all of it, not from "ller" */
	expect_det("Ünal@example.com", "****", MASK_DET_EMAIL);
	expect_det("用户@例子.广告", "****", MASK_DET_EMAIL);
	expect_det("почта: иван@пример.рф.", "почта: ****.", MASK_DET_EMAIL);
	expect_det("κώστας@παράδειγμα.ελ", "****", MASK_DET_EMAIL);
	expect_det("\xF0\x90\x8C\xB0x@example.com", "****", MASK_DET_EMAIL);  /* a 4-byte letter (U+10330) */
	/* punctuation, spaces and symbols beyond ASCII are no part of an address */
	expect_det("“jane@example.com”", "“****”", MASK_DET_EMAIL);
	expect_det("«jane@example.com»", "«****»", MASK_DET_EMAIL);
	expect_det("写信给：jane@example.com。谢谢", "写信给：****。谢谢", MASK_DET_EMAIL);
	expect_det("\xC2\xA0jane@example.com\xC2\xA0", "\xC2\xA0****\xC2\xA0", MASK_DET_EMAIL); /* NBSP */
	expect_det("\xEF\xBB\xBFjane@example.com", "\xEF\xBB\xBF****", MASK_DET_EMAIL); /* BOM */
	expect_det("\xF0\x9F\x93\xA7jane@example.com\xF0\x9F\x98\x80", "\xF0\x9F\x93\xA7****\xF0\x9F\x98\x80",
		   MASK_DET_EMAIL); /* emoji */
	expect("x€@example.com", NULL);  /* € is no letter: no local part before the "@" */
	/* ASCII up to a TLD that a letter beyond ASCII continues, or a label after a dot */
	expect_det("mail a@b.comé!", "mail ****!", MASK_DET_EMAIL);
	expect_det("mail a@b.com.éx!", "mail ****!", MASK_DET_EMAIL);
	expect_det("mail a@b.com。", "mail ****。", MASK_DET_EMAIL);
	/* the local part is 64 bytes at most, whatever its characters */
	buf lp = {0};
	for (int i = 0; i < 32; i++)
		buf_append(&lp, "\xC3\xA9", 2);   /* 32 x "é": 64 bytes */
	snprintf(in, sizeof(in), "%.*s@example.com", (int)lp.len, lp.data);
	expect(in, "****");
	snprintf(in, sizeof(in), "a%.*s@example.com", (int)lp.len, lp.data);   /* 65 */
	expect(in, NULL);
	/* 2 + 64: the walk back stops 64 bytes before the "@", after a letter of
	 * two bytes, in ASCII: what is looked at for the choice of the ASCII
	 * twin starts before the search does (its lookbehind reads that letter) */
	snprintf(in, sizeof(in), "\xC3\xA9%.64s@example.com",
		 "j123456789012345678901234567890123456789012345678901234567890123456789");
	expect(in, NULL);
	buf_free(&lp);
	/* bytes that are no UTF-8 letter (a lone continuation, a lead without its rest) end a run */
	expect("\x80@example.com \xC3@example.com", NULL);
	expect_det("a\x80" "b@example.com", "a\x80" "****", MASK_DET_EMAIL);
	expect_det("\xC3\xA9\xA9x@example.com", "\xC3\xA9\xA9****", MASK_DET_EMAIL);
}

/* An apostrophe between letters or digits is part of a local part (RFC 5322
 * atext: O'Brien's address), never a quote around an address. */
static void test_email_apostrophe(void **state)
{
	(void)state;
	expect_det("write to o'brien@example.ie today", "write to **** today", MASK_DET_EMAIL);
	expect_det("d'artagnan@musketeers.fr", "****", MASK_DET_EMAIL);
	expect_det("mary-o'neil.2@example.com", "****", MASK_DET_EMAIL);
	expect_det("values ('bob@example.com')", "values ('****')", MASK_DET_EMAIL);
	expect_det("it's bob@example.com", "it's ****", MASK_DET_EMAIL);
	expect_det("l'adresse:jean@example.fr", "l'adresse:****", MASK_DET_EMAIL);
	expect_det("''bob@example.com''", "''****''", MASK_DET_EMAIL);
	/* not between two ASCII letters: a quote, the address after it */
	expect_det("\xC3\xA9'x@example.com", "\xC3\xA9'****", MASK_DET_EMAIL);
	expect_det("a''b@example.com", "a''****", MASK_DET_EMAIL);
	expect("bob'@example.com", NULL);
	expect("x'.y@example.com", NULL);
	/* ... nor after a digit: a value glued on (phone || '\'' || email), the address after it */
	expect("+1 415-555-0100'alice.martin@example.org", "****'****");
	expect_det("+1'bulk00127.user@example.com", "+1'****", MASK_DET_EMAIL);
	expect_det("007'bond@example.com", "007'****", MASK_DET_EMAIL);
	/* 64 bytes at most, the apostrophe counted */
	expect_det("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'b@example.com", "****",
		   MASK_DET_EMAIL);
	expect("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'b@example.com", NULL);
}

static void test_phone(void **state)
{
	(void)state;
	expect_det("call +1 415-555-0100 now", "call **** now", MASK_DET_PHONE);
	expect_det("call (415) 555-0100.", "call ****.", MASK_DET_PHONE);
	expect_det("office: +44 20 7946 0958", "office: ****", MASK_DET_PHONE);
	expect_det("tel 415.555.0100", "tel ****", MASK_DET_PHONE);
	expect_det("+33 1 23 45 67 89", "****", MASK_DET_PHONE);
	expect_det("+4915123456789", "****", MASK_DET_PHONE);
	expect("ext 555-0100", NULL);        /* 7 digits */
	expect("order 4155550100", NULL);    /* a plain number */
	expect("+1 555", NULL);
	expect("v 2024-01-15", NULL);        /* a date */
	expect("id 415-555-0100-77", NULL);  /* part of a longer dashed number */
	/* national numbers: a trunk "0" (or "00"), runs joined by one separator throughout */
	expect_det("mobil 0171 1234567", "mobil ****", MASK_DET_PHONE);
	expect_det("Tel. 030-12345678.", "Tel. ****.", MASK_DET_PHONE);
	expect_det("Fax 0171/1234567", "Fax ****", MASK_DET_PHONE);
	expect_det("tél 01 23 45 67 89, bureau", "tél ****, bureau", MASK_DET_PHONE);
	expect_det("port 06.12.34.56.78", "port ****", MASK_DET_PHONE);
	expect_det("0049 171 1234567", "****", MASK_DET_PHONE);
	expect_det("uk 07700 900123", "uk ****", MASK_DET_PHONE);
	expect_det("nl 06-12345678", "nl ****", MASK_DET_PHONE);
	expect_det("(0171 1234567)", "(****)", MASK_DET_PHONE);
	expect("am 01.02.2025 10:30", NULL);  /* a date and time: no one separator joins 9 digits */
	expect("01.02.2025 12 45", NULL);
	expect("0 12345678 9", NULL);         /* a lone 0 is no trunk */
	expect("000-12-3456", NULL);          /* nor is 000 */
	expect("0171 1234", NULL);            /* 9 digits at least */
	expect("0171-123-456-7 x", NULL);     /* mixed separators: one run too many for the three-run shape */
	expect("x0171 1234567", NULL);        /* glued to a word */
	expect("12/0171 1234567", NULL);      /* a run that continues a number */
	expect("1 0171 1234567", NULL);
	expect("01 23 45 67 89 12 34", NULL); /* seven runs: no number we know */
	expect("0171 1234567-1", NULL);
	/* a "+" or "(" starts a phone after a number and a separator (`id || ' ' || phone`) */
	expect_det("1 +44 20 7946 0958", "1 ****", MASK_DET_PHONE);
	expect_det("12-+1 415 555 0100", "12-****", MASK_DET_PHONE);
	expect_det("3 (415) 555-0100", "3 ****", MASK_DET_PHONE);
	/* ... and runs on into a number after a " " (a date, a card): the phone is its first part */
	expect_det("+1 212-555-0127 2026-11-28", "**** 2026-11-28", MASK_DET_PHONE);
	expect_det("(415) 555-0100 2026-11-28", "**** 2026-11-28", MASK_DET_PHONE);
	expect("+1 212-555-0127 4532 0000 1005 7130", "**** ****");
	expect_det("+44 20 7946 0958", "****", MASK_DET_PHONE);
	expect_det("+86 138 0013 8000", "****", MASK_DET_PHONE);
	expect("7 (415) 555", NULL);
}

static void test_credit_card(void **state)
{
	(void)state;
	expect_det("card 4111 1111 1111 1111 exp 12/27", "card **** exp 12/27", MASK_DET_CREDIT_CARD);
	expect_det("card 4111-1111-1111-1111", "card ****", MASK_DET_CREDIT_CARD);
	expect_det("card=4111111111111111;", "card=****;", MASK_DET_CREDIT_CARD);
	expect_det("amex 3782 822463 10005", "amex ****", MASK_DET_CREDIT_CARD);
	expect_det("mc:5555555555554444", "mc:****", MASK_DET_CREDIT_CARD);
	expect_det("visa: 4222222222222", "visa: ****", MASK_DET_CREDIT_CARD);
	/* Luhn failures */
	expect("card 4111 1111 1111 1112", NULL);
	expect("card 4111-1111-1111-1112", NULL);
	expect("card 4111111111111112", NULL);
	/* shape: mixed separators, a run too long, digits glued to letters */
	expect("4111 1111-1111 1111", NULL);
	expect("41111111111111111111111", NULL);
	expect("x4111111111111111", NULL);
	expect("12345", NULL);
	/* after a number and one " " (`id || ' ' || card`, string_agg(card, ' ')); not after "-" or "." */
	expect_det("9 4111111111111111", "9 ****", MASK_DET_CREDIT_CARD);
	expect_det("1 4111 1111 1111 1111", "1 ****", MASK_DET_CREDIT_CARD);
	expect_det("12 4111 1111 1111 1111 99", "12 **** 99", MASK_DET_CREDIT_CARD);
	expect("4111111111111111 4242424242424242 5555555555554444", "**** **** ****");
	expect("4111 1111 1111 1111 4242 4242 4242 4242", "**** ****");
	expect_det("1 4111-1111-1111-1111", "1 ****", MASK_DET_CREDIT_CARD);
	expect("3-4111111111111111", NULL);
	/* ... after a date, an SSN or a dashed number and a " " (the first match, from the date, fails Luhn) */
	expect_det("2026-11-28 4532 0000 1005 7130", "2026-11-28 ****", MASK_DET_CREDIT_CARD);
	expect_det("1-2 4532-0000-1322-4737", "1-2 ****", MASK_DET_CREDIT_CARD);
	expect("123-45-6789 4111 1111 1111 1111", "**** ****");
	expect("1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6", NULL); /* groups of one: no card's shape */
}

static void test_iban(void **state)
{
	(void)state;
	expect_det("IBAN DE89 3704 0044 0532 0130 00 EUR", "IBAN **** EUR", MASK_DET_IBAN);
	expect_det("to GB82 WEST 1234 5698 7654 32.", "to ****.", MASK_DET_IBAN);
	expect_det("FR14 2004 1010 0505 0001 3M02 606", "****", MASK_DET_IBAN);
	expect_det("iban=NL91ABNA0417164300", "iban=****", MASK_DET_IBAN);
	expect_det("CH9300762011623852957", "****", MASK_DET_IBAN);
	expect_det("BE68 5390 0754 7034 CODE", "**** CODE", MASK_DET_IBAN); /* trailing group dropped */
	expect("DE89 3704 0044 0532 0130 01", NULL);  /* checksum */
	expect("DE89370400440532013000123", NULL);    /* wrong length for DE */
	expect("NL91ABNA041716430", NULL);
	expect("XX00 hello world", NULL);
	/* typed in lower case: a country the table knows, at its length */
	expect_det("iban de89 3704 0044 0532 0130 00 eur", "iban **** eur", MASK_DET_IBAN);
	expect_det("to gb82west12345698765432.", "to ****.", MASK_DET_IBAN);
	expect_det("gb82 west 1234 5698 7654 32", "****", MASK_DET_IBAN);
	expect_det("De89370400440532013000", "****", MASK_DET_IBAN);
	expect("de89 3704 0044 0532 0130 01", NULL);    /* checksum */
	expect("de89370400440532013000123", NULL);      /* wrong length for DE */
	expect_det("XY2212345678901234567", "****", MASK_DET_IBAN); /* a country not in the table, in capitals */
	expect("xy2212345678901234567", NULL);          /* ... in lower case: one run in 97 passes mod 97 */
	expect("bulk12.user@example", NULL);
}

static void test_ssn(void **state)
{
	(void)state;
	expect_det("ssn 123-45-6789 on file", "ssn **** on file", MASK_DET_US_SSN);
	expect_det("ssn 078 05 1120", "ssn ****", MASK_DET_US_SSN);
	expect("000-12-3456", NULL);
	expect("666-12-3456", NULL);
	expect("900-12-3456", NULL);
	expect("999-12-3456", NULL);
	expect("123-00-4567", NULL);
	expect("123-45-0000", NULL);
	expect("123-45 6789", NULL);   /* mixed separators */
	expect("1123-45-6789", NULL);
	expect("123-45-67890", NULL);
	/* next to a number and one " " (string_agg(ssn, ' '), `ssn || ' 0'`) */
	expect("078-05-1120 219-09-9999", "**** ****");
	expect_det("123-45-6789 9", "**** 9", MASK_DET_US_SSN);
	expect_det("4 078-05-1120", "4 ****", MASK_DET_US_SSN);
	expect("5-123-45-6789", NULL);
	expect("123-45-6789-1", NULL);
}

static void test_ipv4(void **state)
{
	(void)state;
	expect_det("from 10.0.0.1 port", "from **** port", MASK_DET_IPV4);
	expect_det("host=192.168.1.254.", "host=****.", MASK_DET_IPV4);
	expect_det("255.255.255.255", "****", MASK_DET_IPV4);
	expect("version 1.2.3.4.5", NULL);
	expect("999.1.1.1", NULL);
	expect("10.0.0.256", NULL);
	expect("v1.2.3.4", NULL);
	expect("1.2.3", NULL);
}

#define JWT "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"

static void test_jwt(void **state)
{
	(void)state;
	expect_det("2024-05-01T10:00:00Z INFO auth token=" JWT " user=bob",
		   "2024-05-01T10:00:00Z INFO auth token=**** user=bob", MASK_DET_JWT);
	expect_det("\"" JWT "\"", "\"****\"", MASK_DET_JWT);
	expect("eyJhbGciOi.eyJzdWIi.short", NULL);
	expect("abceyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3.SflKxwRJSMeKKF2QT4fwpM", NULL);
	expect("header eyJhbGciOiJIUzI1NiJ9 only", NULL);
}

static void test_aws(void **state)
{
	(void)state;
	expect_det("aws_access_key_id = AKIAIOSFODNN7EXAMPLE", "aws_access_key_id = ****",
		   MASK_DET_AWS_ACCESS_KEY);
	expect_det("ASIAY34FZKBOKMUTVV7A,", "****,", MASK_DET_AWS_ACCESS_KEY);
	expect("AKIAIOSFODNN7EXAMPLEX", NULL);
	expect("XAKIAIOSFODNN7EXAMPLE", NULL);
	expect("AKIAIOSFODNN7EXAMPL", NULL);
	expect("ABCDIOSFODNN7EXAMPLE", NULL);
}

#define AZKEY "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

static void test_azure(void **state)
{
	(void)state;
	expect_det("DefaultEndpointsProtocol=https;AccountName=dev;AccountKey=" AZKEY ";",
		   "DefaultEndpointsProtocol=https;AccountName=dev;AccountKey=****;",
		   MASK_DET_AZURE_STORAGE_KEY);
	expect("AccountKey=x" AZKEY, NULL);        /* 89 characters */
	expect("AccountKey=" AZKEY "=", NULL);
	expect("AccountKey=Eby8vdM02xNOcqFlqUw==", NULL);
}

static void test_private_key(void **state)
{
	(void)state;
	expect_det("key: -----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\nKUpRKfFLfRYC9AIKjbJTWit+CqvjWYzvQwECAwEAAQ==\n-----END RSA PRIVATE KEY-----\nnext",
		   "key: ****\nnext", MASK_DET_PRIVATE_KEY);
	expect_det("{\"k\":\"-----BEGIN PRIVATE KEY-----\\nMC4CAQAwBQYDK2VwBCIEIK\\n-----END PRIVATE KEY-----\\n\"}",
		   "{\"k\":\"****\\n\"}", MASK_DET_PRIVATE_KEY);
	expect_det("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----",
		   "****", MASK_DET_PRIVATE_KEY);
	expect("-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----", NULL);
	/* cut short: the key material is masked, what follows it is not */
	expect_det("-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIK (truncated)", "**** (truncated)",
		   MASK_DET_PRIVATE_KEY);
	expect_det("key=-----BEGIN RSA PRIVATE KEY-----\r\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4\r\nWGeKLs1P",
		   "key=****", MASK_DET_PRIVATE_KEY);
	expect_det("{\"k\":\"-----BEGIN PRIVATE KEY-----\\nMC4CAQAwBQYDK2VwBCIEIKxyz\\nabc\"}", "{\"k\":\"****\"}",
		   MASK_DET_PRIVATE_KEY);
	/* a BEGIN line with no key material after it (documentation, a placeholder) */
	expect("paste it after -----BEGIN PRIVATE KEY----- and before the END line", NULL);
	expect("-----BEGIN PRIVATE KEY-----\n<your key here>", NULL);
	expect("-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2V", NULL); /* 15 characters */
}

static void test_password_in_url(void **state)
{
	(void)state;
	/* The e-mail-looking "s3cr3t@db.example.com" must not win over it. */
	expect_det("dsn=postgres://admin:s3cr3t@db.example.com:5432/app?sslmode=require",
		   "dsn=postgres://admin:****@db.example.com:5432/app?sslmode=require",
		   MASK_DET_PASSWORD_IN_URL);
	expect("redis://:hunter2@10.0.0.5", "redis://:****@****");
	expect("https://example.com:8443/path@x", NULL);
	expect("postgres://db.example.com:5432/app", NULL);
	expect("://:x@y", NULL);
}

static void test_bearer(void **state)
{
	(void)state;
	expect_det("Authorization: Bearer abcdefghijklmnop0123456789\r\n",
		   "Authorization: Bearer ****\r\n", MASK_DET_BEARER_TOKEN);
	expect_det("authorization: bearer   mF_9.B5f-4.1JqM+/x==", "authorization: bearer   ****",
		   MASK_DET_BEARER_TOKEN);
	/* A JWT bearer token counts as the bearer token (higher tier). */
	expect_det("Authorization: BEARER " JWT, "Authorization: BEARER ****", MASK_DET_BEARER_TOKEN);
	expect("Bearer short", NULL);
	expect("Bearerabcdefghijklmnop0123456789", NULL);
	expect("the bearer of this letter", NULL);
}

/* Cloud and SaaS keys an agent finds in configuration tables and logs. */
static void test_service_keys(void **state)
{
	(void)state;
	/* an AWS secret access key by its name (only the key is masked) */
	expect_det("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
		   "aws_secret_access_key = ****\n", MASK_DET_AWS_SECRET_KEY);
	expect_det("export AWS_SECRET_ACCESS_KEY=\"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\"",
		   "export AWS_SECRET_ACCESS_KEY=\"****\"", MASK_DET_AWS_SECRET_KEY);
	expect_det("{\"AwsSecretKey\": \"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\"}",
		   "{\"AwsSecretKey\": \"****\"}", MASK_DET_AWS_SECRET_KEY);
	expect_det(":aws_secret => 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'", ":aws_secret => '****'",
		   MASK_DET_AWS_SECRET_KEY);
	/* twenty characters between "aws" and "secret": the furthest a hint ends past the start */
	expect_det("config: AWS_PRODUCTION_ACCOUNT_SECRET=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		   "config: AWS_PRODUCTION_ACCOUNT_SECRET=****", MASK_DET_AWS_SECRET_KEY);
	expect("config: AWS_PRODUCTION_ACCOUNT1_SECRET=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", NULL);
	expect("the secret = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", NULL);        /* no aws in its name */
	expect("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKE", NULL); /* 39 */
	expect("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEYX", NULL); /* 41 */
	expect("laws of secrets: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", NULL);
	/* GitHub */
	expect_det("token ghp_16C7e42F292c6912E7710c838347Ae178B4a.", "token ****.", MASK_DET_GITHUB_TOKEN);
	expect_det("gho_16C7e42F292c6912E7710c838347Ae178B4a", "****", MASK_DET_GITHUB_TOKEN);
	expect_det("github_pat_11ABCDEFG0123456789abc_defghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
		   "****", MASK_DET_GITHUB_TOKEN);
	expect("ghp_16C7e42F292c6912E7710c838347Ae178B4", NULL);   /* 35 after the prefix */
	expect("xghp_16C7e42F292c6912E7710c838347Ae178B4a", NULL);
	expect("ghx_16C7e42F292c6912E7710c838347Ae178B4a", NULL);
	/* Slack */
	expect_det("SLACK_BOT_TOKEN=xoxb-123456789012-1234567890123-abcdefghijklmnopqrstuvwx",
		   "SLACK_BOT_TOKEN=****", MASK_DET_SLACK_TOKEN);
	expect_det("xoxp-1234567890-1234567890-1234567890-abcdef", "****", MASK_DET_SLACK_TOKEN);
	expect("xoxb-short", NULL);
	expect("xoxz-123456789012-1234567890123", NULL);
	/* Stripe: secret and restricted keys; a publishable key is left */
	expect_det("sk_live_4eC39HqLyjWDarjtT1zdp7dc pk_test_TYooMQauvdEDq54NiTphI7jx",
		   "**** pk_test_TYooMQauvdEDq54NiTphI7jx", MASK_DET_STRIPE_KEY);
	expect_det("rk_test_51HqLyjWDarjtT1zdp7dcABCD", "****", MASK_DET_STRIPE_KEY);
	expect("sk_live_4eC39HqLyjWDarj", NULL);    /* 15 after the prefix */
	expect("ask_live_4eC39HqLyjWDarjtT1zdp7dc", NULL);
	/* Google */
	expect_det("key=AIzaSyA-1234567890abcdefghijklmnopqrstu&q=x", "key=****&q=x", MASK_DET_GOOGLE_API_KEY);
	expect("AIzaSyA-1234567890abcdefghijklmnopqrst", NULL);    /* 34 after AIza */
	expect("AIzaSyA-1234567890abcdefghijklmnopqrstuv", NULL);  /* 36 */
}

/* Keys of the model providers an agent itself talks to. */
static void test_ai_keys(void **state)
{
	(void)state;
	static const char proj[] = "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAb7cDe0fGh3iJk6lMn9oPq2rSt5uVw8xYz1a";
	char in[256], want[256];
	snprintf(in, sizeof(in), "OPENAI_API_KEY=%s\n", proj);
	expect_det(in, "OPENAI_API_KEY=****\n", MASK_DET_OPENAI_KEY);
	expect_det("{\"key\": \"sk-svcacct-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAb7cDe0fGh3i_-x\"}", "{\"key\": \"****\"}",
		   MASK_DET_OPENAI_KEY);
	/* the older keys: 20, "T3BlbkFJ", 20 */
	expect_det("key 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 end", "key **** end",
		   MASK_DET_OPENAI_KEY);
	expect("key sk-Ab3dEf6hIj9kLm2nOp5T3BlbkFJRs8tUv1wXy4zAb7cDe0f end", NULL); /* 19 before */
	expect("sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAb7cDe0", NULL);     /* 39 after the prefix */
	snprintf(in, sizeof(in), "x%s", proj);
	expect(in, NULL);
	expect("the sk-learn library, risk-proj-42", NULL);
	expect_det("ANTHROPIC_API_KEY=sk-ant-api03-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAb7cDe0fGh3iJk6lMn9oPq2r-AbCdAA",
		   "ANTHROPIC_API_KEY=****", MASK_DET_ANTHROPIC_KEY);
	expect_det("sk-ant-admin01-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAb7cDe0f", "****", MASK_DET_ANTHROPIC_KEY);
	expect("sk-ant-api03-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4", NULL); /* 31 after the prefix */
	expect("sk-ant-api-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAb7cDe0f", NULL);
	snprintf(want, sizeof(want), "%s", "the sk-ant- prefix");
	expect(want, NULL);
}

/* HTTP Basic credentials: the base64 must decode to printable user:password. */
static void test_basic_auth(void **state)
{
	(void)state;
	expect_det("Authorization: Basic dXNlcjpwYXNzd29yZA==\r\n", "Authorization: Basic ****\r\n",
		   MASK_DET_BASIC_AUTH);
	expect_det("curl -H 'authorization: basic YWxhZGRpbjpvcGVuc2VzYW1l' x", "curl -H 'authorization: basic ****' x",
		   MASK_DET_BASIC_AUTH);
	expect_det("BASIC OnBhc3M=", "BASIC ****", MASK_DET_BASIC_AUTH); /* ":pass" */
	expect("Basic plan includes support for 10 seats", NULL);
	expect("Basic SupportPackageForSmallTeams", NULL);       /* not a multiple of 4 */
	expect("Basic dXNlcnBhc3N3b3Jk", NULL);                  /* "userpassword": no ":" */
	expect("Basic AAECAwQFBgc6", NULL);                      /* control bytes */
	expect("Basic dXNlcjpwYXNzd29yZA==x", NULL);
	expect("xBasic dXNlcjpwYXNzd29yZA==", NULL);
}

/* A value given to a key named for a password, or SQL's PASSWORD '...'. */
static void test_password_in_text(void **state)
{
	(void)state;
	expect_det("host=db port=5432 user=app password=hunter2 dbname=app",
		   "host=db port=5432 user=app password=**** dbname=app", MASK_DET_PASSWORD_IN_TEXT);
	expect_det("Server=tcp:x.example.net;Database=db;User ID=app;Password=Hunter2!;Encrypt=True",
		   "Server=tcp:x.example.net;Database=db;User ID=app;Password=****;Encrypt=True", MASK_DET_PASSWORD_IN_TEXT);
	expect_det("Driver={ODBC};UID=app;PWD=p4ss;", "Driver={ODBC};UID=app;PWD=****;", MASK_DET_PASSWORD_IN_TEXT);
	expect_det("{\"password\": \"hunter 2\", \"user\": \"x\"}", "{\"password\": \"****\", \"user\": \"x\"}",
		   MASK_DET_PASSWORD_IN_TEXT);
	expect_det("DB_PASSWORD='s3cr3t value'", "DB_PASSWORD='****'", MASK_DET_PASSWORD_IN_TEXT);
	expect_det("MYSQL_ROOT_PASSWORD=rootpw", "MYSQL_ROOT_PASSWORD=****", MASK_DET_PASSWORD_IN_TEXT);
	expect_det("PGPASSWORD=x1 psql", "PGPASSWORD=**** psql", MASK_DET_PASSWORD_IN_TEXT);
	expect_det("login?user=bob&passwd=s3cret&next=/", "login?user=bob&passwd=****&next=/",
		   MASK_DET_PASSWORD_IN_TEXT);
	expect_det("alter role app with login password 'Sup3r S3cret'", "alter role app with login password '****'",
		   MASK_DET_PASSWORD_IN_TEXT);
	/* a bare value ends before a "}" or "]" that closes; null, true and false are none */
	expect_det("{\"password\": 12345}", "{\"password\": ****}", MASK_DET_PASSWORD_IN_TEXT);
	expect("{\"db\": {\"password\": 123}}, [pwd=abc]", "{\"db\": {\"password\": ****}}, [pwd=****]");
	expect_det("PWD=a}b]c;UID=x", "PWD=****;UID=x", MASK_DET_PASSWORD_IN_TEXT);
	expect_det("Driver={x};PWD={p;w0rd};UID=x", "Driver={x};PWD={****};UID=x", MASK_DET_PASSWORD_IN_TEXT);
	expect_det("password=nullable", "password=****", MASK_DET_PASSWORD_IN_TEXT);
	expect("{\"pwd\": null, \"password\": true, \"db_password\": false}", NULL);
	expect("password=null;", NULL);
	expect_det("<server><id>x</id><password>s3cr3t pw</password></server>", "<server><id>x</id><password>****</password></server>",
		   MASK_DET_PASSWORD_IN_TEXT);
	expect_det("<DbPassword>p</DbPassword>", "<DbPassword>****</DbPassword>", MASK_DET_PASSWORD_IN_TEXT);
	expect("<password></password><password/><passwordHint>x</passwordHint>", NULL);
	expect("{\"password\": [\"x\"], \"pwd\": {\"a\": 1}}", NULL); /* a list, an object: no password */
	expect("password_hint=my dog", NULL);
	expect("OLDPWD=/home/x", NULL);
	expect("reset your password today", NULL);
	expect("password=", NULL);
	expect("xpassword= not a key", "xpassword= **** a key");    /* a key ending so */
	expect("the password is required", NULL);
}

static void test_custom(void **state)
{
	(void)state;
	uint32_t counts[MASK_DET_COUNT + MASK_MAX_CUSTOM];
	size_t n;
	char *got = run("emp EMP-123456 and EMP-654321, not EMP-12345; TCK00042 XTCK1234", &n, counts);
	assert_string_equal(got, "emp **** and ****, not EMP-12345; **** XTCK1234");
	assert_int_equal(n, 3);
	assert_int_equal(counts[MASK_DET_COUNT + 0], 2);
	assert_int_equal(counts[MASK_DET_COUNT + 1], 1);
	free(got);
	assert_int_equal(mask_detector_total(redact[0]), MASK_DET_COUNT + 2);
	assert_string_equal(mask_detector_name(redact[0], MASK_DET_COUNT + 1), "ticket");
	assert_string_equal(mask_detector_name(redact[0], MASK_DET_IBAN), "iban");
	assert_null(mask_detector_name(redact[0], MASK_DET_COUNT + 2));
}

/* ---- profile errors ------------------------------------------------------- */

/*
 * A custom pattern that backtracks without end gives up at PCRE2's match
 * limit: the value it could not search through is masked whole (above every
 * tier, so a card found in it does not leave the rest out), never passed on.
 */
static void test_limit_fails_closed(void **state)
{
	(void)state;
	static const char *const dets[] = {"credit_card"};
	static const char *const names[] = {"backtracker"};
	static const char *const pats[] = {"(a|aa)+c|secret[0-9]+"};
	mask_profile *ps[N_ENGINES];
	mask_scratch *ss[N_ENGINES];
	engine_pair((mask_spec){.detectors = dets, .n_detectors = 1, .custom_names = names,
				.custom_patterns = pats, .n_custom = 1, .style = MASK_STYLE_REDACT},
		    ps, ss);
	uint32_t counts[MASK_DET_COUNT + MASK_MAX_CUSTOM];
	size_t n;
	/* short: searched through, the secret alone is masked */
	char *got = run_profiles(ps, ss, "aaaaaaaaaa secret123", 20, &n, counts);
	assert_string_equal(got, "aaaaaaaaaa ****");
	free(got);
	/* 62 a's: 2^31 ways to split them before the missing "c" */
	char in[200];
	memset(in, 'a', 62);
	int len = 62 + snprintf(in + 62, sizeof(in) - 62, " card 4111 1111 1111 1111 secret123");
	got = run_profiles(ps, ss, in, (size_t)len, &n, counts);
	assert_string_equal(got, "****");
	assert_int_equal(n, 1);
	assert_int_equal(counts[MASK_DET_COUNT], 1);
	free(got);
	engine_pair_free(ps, ss);
}

/* Text made of one hint over and over (a private key's BEGIN line, 64 KiB
 * of them, no END): nothing to mask, the same in both engines — each
 * hint's search stops at its hint instead of running its whole window. */
static void test_repeated_hint(void **state)
{
	(void)state;
	static const char line[] = "-----BEGIN PRIVATE KEY-----\n";
	size_t ll = sizeof(line) - 1, len = 0;
	char *in = malloc(65536);
	assert_non_null(in);
	while (len + ll <= 65536) {
		memcpy(in + len, line, ll);
		len += ll;
	}
	size_t n;
	char *got = run_profiles(redact, redact_s, in, len, &n, NULL);
	assert_int_equal(n, 0);
	free(got);
	/* and an END at the very end: one key, from the last BEGIN 16 KiB before it at most */
	memcpy(in + len - ll, "-----END PRIVATE KEY-----\n", ll - 2);
	got = run_profiles(redact, redact_s, in, len - 2, &n, NULL);
	assert_int_equal(n, 1);
	free(got);
	free(in);
}

static void test_errors(void **state)
{
	(void)state;
	char err[256];
	for (int e = 0; e < N_ENGINES; e++) {
		const char *bad_names[] = {"emp"};
		const char *bad_pats[] = {"EMP-[0-9"};
		mask_spec spec = {.custom_names = bad_names, .custom_patterns = bad_pats,
				  .n_custom = 1, .engine = engines[e]};
		err[0] = '\0';
		assert_null(mask_profile_new(&spec, err, sizeof(err)));
		assert_non_null(strstr(err, "'emp'"));
		assert_non_null(strstr(err, "offset 8"));

		const char *names[] = {"email", "ssn"};
		mask_spec spec2 = {.detectors = names, .n_detectors = 2, .engine = engines[e]};
		assert_null(mask_profile_new(&spec2, err, sizeof(err)));
		assert_non_null(strstr(err, "'ssn'"));

		mask_spec spec3 = {.detectors = names, .n_detectors = 1, .style = MASK_STYLE_HASH,
				   .engine = engines[e]};
		assert_null(mask_profile_new(&spec3, err, sizeof(err)));
		assert_non_null(strstr(err, "hash_key"));

		const char *dup_names[] = {"email"};
		const char *dup_pats[] = {"x"};
		mask_spec spec4 = {.custom_names = dup_names, .custom_patterns = dup_pats,
				   .n_custom = 1, .engine = engines[e]};
		assert_null(mask_profile_new(&spec4, err, sizeof(err)));
		assert_non_null(strstr(err, "'email'"));
	}
}

/* ---- styles --------------------------------------------------------------- */

static char *mask_with(mask_style st, const unsigned char *key, const char *in)
{
	mask_profile *ps[N_ENGINES];
	mask_scratch *ss[N_ENGINES];
	for (int e = 0; e < N_ENGINES; e++) {
		ps[e] = profile(engines[e], st, key);
		ss[e] = mask_scratch_new(ps[e]);
	}
	char *got = run_profiles(ps, ss, in, strlen(in), NULL, NULL);
	for (int e = 0; e < N_ENGINES; e++) {
		mask_scratch_free(ss[e]);
		mask_profile_free(ps[e]);
	}
	return got;
}

static void test_style_partial(void **state)
{
	(void)state;
	/* the last four digits of a card, a phone, an SSN; nothing of anything else */
	char *got = mask_with(MASK_STYLE_PARTIAL, NULL,
			      "card 4111 1111 1111 1111, mail a@b.io, key AKIAIOSFODNN7EXAMPLE, ssn 078-05-1120, "
			      "call +33 6 12 34 56 78, from 10.20.30.40, iban DE89 3704 0044 0532 0130 00");
	assert_string_equal(got, "card ****1111, mail ****, key ****, ssn ****1120, call ****5678, from ****, "
				 "iban ****");
	free(got);
	got = mask_with(MASK_STYLE_PARTIAL, NULL, "postgres://u:abc@h postgres://u:1234567890@h");
	assert_string_equal(got, "postgres://u:****@h postgres://u:****@h"); /* a password, digits or not */
	free(got);
	got = mask_with(MASK_STYLE_PARTIAL, NULL, "Authorization: Bearer 12345678901234567890");
	assert_string_equal(got, "Authorization: Bearer ****");
	free(got);
}

static int is_hash_token(const char *s)
{
	if (strncmp(s, "h:", 2) != 0)
		return 0;
	for (int i = 2; i < 18; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

static void test_style_hash(void **state)
{
	(void)state;
	char *got = mask_with(MASK_STYLE_HASH, key1, "a@b.io a@b.io c@d.io");
	/* "h:" + 16 hex = 18 bytes each */
	assert_int_equal(strlen(got), 18 * 3 + 2);
	assert_true(is_hash_token(got) && is_hash_token(got + 19) && is_hash_token(got + 38));
	assert_memory_equal(got, got + 19, 18);        /* equal values, equal tokens */
	assert_memory_not_equal(got, got + 38, 18);    /* different values differ */
	char *other = mask_with(MASK_STYLE_HASH, key2, "a@b.io");
	assert_memory_not_equal(got, other, 18);       /* the key matters */
	char *again = mask_with(MASK_STYLE_HASH, key1, "x a@b.io");
	assert_memory_equal(got, again + 2, 18);       /* stable across profiles */
	free(got);
	free(other);
	free(again);
}

static void test_mask_whole(void **state)
{
	(void)state;
	buf out = {0};
	mask_whole(redact[0], "secret value", 12, &out);
	assert_int_equal(out.len, 4);
	assert_memory_equal(out.data, "****", 4);
	buf_free(&out);

	/* partial, a column rule's value: a number's last four digits, nothing of anything else */
	mask_profile *p = profile(MASK_ENGINE_PCRE2, MASK_STYLE_PARTIAL, NULL);
	static const struct {
		const char *in, *want;
	} whole[] = {
		{"123-45-6789", "****6789"},            {"(415) 555-0132", "****0132"},
		{"4111 1111 1111 1111", "****1111"},    {"+33 6 12 34 56 78", "****5678"},
		{"0041/2345.678", "****5678"},          {"12345678", "****5678"},
		{"1234567", "****"},                    /* fewer than 8 digits: a PIN, a short code */
		{"secret value", "****"},               {"CorrectHorseBatteryStaple", "****"},
		{"pass12345678", "****"},               {"12345678a", "****"},
		{"1234 5678\n", "****"},                {"1234\x00" "5678 9012", "****"},
		{"ab\xc3\xa9\xc3\xa9", "****"},         {"", "****"},
	};
	for (size_t i = 0; i < sizeof(whole) / sizeof(whole[0]); i++) {
		out.len = 0;
		size_t n = strlen(whole[i].in);
		if (i == 12)
			n = 14; /* (the NUL is in the value) */
		mask_whole(p, whole[i].in, n, &out);
		if (out.len != strlen(whole[i].want) || memcmp(out.data, whole[i].want, out.len) != 0)
			fail_msg("mask_whole partial [%s]: want [%s], got [%.*s]", whole[i].in, whole[i].want,
				 (int)out.len, out.data);
	}
	mask_profile_free(p);
	buf_free(&out);

	p = profile(MASK_ENGINE_HYPERSCAN, MASK_STYLE_HASH, key1);
	mask_whole(p, "a@b.io", 6, &out);
	char *viatext = mask_with(MASK_STYLE_HASH, key1, "a@b.io");
	assert_int_equal(out.len, 18);
	assert_memory_equal(out.data, viatext, 18);
	free(viatext);
	mask_profile_free(p);
	buf_free(&out);
}

/* ---- overlaps, counts, edges ---------------------------------------------- */

static void test_overlaps(void **state)
{
	(void)state;
	/* "+4222222222222" is a phone and contains a valid card: the card wins. */
	expect_det("call +4222222222222 now", "call +**** now", MASK_DET_CREDIT_CARD);

	const char *names[] = {"emp", "num", "k1", "k2"};
	const char *pats[] = {"EMP-[0-9]{6}", "[0-9]{6}-[A-Z]{2}", "ABC", "ABCDEF"};
	mask_profile *ps[N_ENGINES];
	mask_scratch *ss[N_ENGINES];
	engine_pair((mask_spec){.custom_names = names, .custom_patterns = pats, .n_custom = 4}, ps, ss);
	uint32_t counts[MASK_DET_COUNT + MASK_MAX_CUSTOM];
	size_t n;
	/* earliest start wins over a later overlapping one */
	char *got = run_profiles(ps, ss, "EMP-123456-AB", 13, &n, counts);
	assert_string_equal(got, "****-AB");
	assert_int_equal(counts[MASK_DET_COUNT + 0], 1);
	assert_int_equal(counts[MASK_DET_COUNT + 1], 0);
	free(got);
	/* same start: the longest; the one inside it is dropped */
	got = run_profiles(ps, ss, "xABCDEFy ABC", 12, &n, counts);
	assert_string_equal(got, "x****y ****");
	assert_int_equal(counts[MASK_DET_COUNT + 2], 1);
	assert_int_equal(counts[MASK_DET_COUNT + 3], 1);
	free(got);
	engine_pair_free(ps, ss);
}

static void test_counts(void **state)
{
	(void)state;
	uint32_t counts[MASK_DET_COUNT + MASK_MAX_CUSTOM];
	size_t n;
	char *got = run("a@b.io, 123-45-6789, c@d.io, 10.1.2.3, 4111111111111111", &n, counts);
	assert_string_equal(got, "****, ****, ****, ****, ****");
	assert_int_equal(n, 5);
	assert_int_equal(counts[MASK_DET_EMAIL], 2);
	assert_int_equal(counts[MASK_DET_US_SSN], 1);
	assert_int_equal(counts[MASK_DET_IPV4], 1);
	assert_int_equal(counts[MASK_DET_CREDIT_CARD], 1);
	assert_int_equal(counts[MASK_DET_PHONE], 0);
	free(got);
	/* counts may be NULL */
	buf out = {0};
	assert_int_equal(mask_text(redact[0], redact_s[0], "a@b.io", 6, &out, NULL), 1);
	buf_free(&out);
}

static void test_empty_and_no_match(void **state)
{
	(void)state;
	for (int e = 0; e < N_ENGINES; e++) {
		buf out = {0};
		buf_append(&out, "keep", 4);
		uint32_t counts[MASK_DET_COUNT + MASK_MAX_CUSTOM] = {0};
		assert_int_equal(mask_text(redact[e], redact_s[e], "", 0, &out, counts), 0);
		assert_int_equal(mask_text(redact[e], redact_s[e], NULL, 0, &out, counts), 0);
		const char *plain = "Jane Doe, 12 Rue de la Paix, 75002 Paris. Order 7781 shipped v1.2.3.";
		assert_int_equal(mask_text(redact[e], redact_s[e], plain, strlen(plain), &out, counts), 0);
		assert_int_equal(out.len, 4);
		assert_memory_equal(out.data, "keep", 4);
		for (size_t i = 0; i < MASK_DET_COUNT + 2; i++)
			assert_int_equal(counts[i], 0);
		buf_free(&out);
	}
	/* A profile with no detectors masks nothing. */
	mask_spec spec = {.engine = MASK_ENGINE_AUTO};
	char err[128];
	mask_profile *p = mask_profile_new(&spec, err, sizeof(err));
	assert_non_null(p);
	mask_scratch *s = mask_scratch_new(p);
	buf out = {0};
	assert_int_equal(mask_text(p, s, "a@b.io", 6, &out, NULL), 0);
	assert_int_equal(out.len, 0);
	mask_scratch_free(s);
	mask_profile_free(p);
}

static void test_embedded_nul(void **state)
{
	(void)state;
	static const char in[] = "a\0b@c.io\0x 10.0.0.1";
	size_t n;
	char *got = run_profiles(redact, redact_s, in, sizeof(in) - 1, &n, NULL);
	assert_int_equal(n, 2);
	assert_memory_equal(got, "a\0****\0x ****", 13);
	free(got);
}

/* The Hyperscan engine skips its digit database unless a cheap gate sees a
 * digit cluster; values right at the gate's limits must still be found. */
static void test_numeric_gate(void **state)
{
	(void)state;
	expect_det("+44 (0) 20 7946 0958", "****", MASK_DET_PHONE);    /* 2-byte gaps */
	expect_det("(415)555-0100", "****", MASK_DET_PHONE);
	expect_det("x 1.2.3.4 y", "x **** y", MASK_DET_IPV4);          /* 4 digits, 3 dots */
	expect_det("DE89370400440532013000", "****", MASK_DET_IBAN);   /* capitals, digits */
	expect_det("GB82WEST12345698765432", "****", MASK_DET_IBAN);
	expect_det("123 45 6789", "****", MASK_DET_US_SSN);            /* 9 digits */
	expect_det("9.9.9.9", "****", MASK_DET_IPV4);
	expect("12 345 678", NULL);                                    /* 8 digits */
	expect("1.2.3", NULL);
	expect("1. 2. 3. 4", NULL);
}

/* db_num looks only at the spans around digit clusters: clusters that cross
 * the digit finder's 64-byte blocks, several per text, at either end. */
static void test_numeric_spans(void **state)
{
	(void)state;
	char in[512], want[512];
	/* a card whose digits straddle offsets 64 and 128, at every shift */
	for (int pad = 40; pad < 140; pad += 3) {
		snprintf(in, sizeof(in), "%.*s 4111 1111 1111 1111 and (415) 555-0100", pad,
			 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
			 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
		snprintf(want, sizeof(want), "%.*s **** and ****", pad, in);
		expect(in, want);
	}
	/* a long digit run (not a value) ahead of a real one in the same cluster's reach */
	expect("0000000000000000000000000000000000000000000000000000000000000000000000, 123-45-6789",
	       "0000000000000000000000000000000000000000000000000000000000000000000000, ****");
	/* short clusters around a long one; an IBAN right at the end and the start */
	expect_det("v1.2 on 2026-01-02: 10.20.30.40 ok", "v1.2 on 2026-01-02: **** ok", MASK_DET_IPV4);
	expect_det("NL91ABNA0417164300", "****", MASK_DET_IBAN);
	expect_det("iban NL91ABNA0417164300", "iban ****", MASK_DET_IBAN);
	expect("+1 415-555-0100", "****");
	expect("1234567890123456789012345678901234567890123456789012345678901234", NULL);
	/* what makes a cluster of 9+ digits worth a look: an opener, 13+ digits, a later run of 3+ */
	expect_det("call +33 1 23 45 67 89 now", "call **** now", MASK_DET_PHONE);  /* runs of 1-2 */
	expect_det("card 4111111111111111.", "card ****.", MASK_DET_CREDIT_CARD); /* one run */
	expect_det("415.555.0100", "****", MASK_DET_PHONE);
	expect_det("ssn 078 05 1120", "ssn ****", MASK_DET_US_SSN);
	expect("at 2025-01-01 00:37:00+00 and 2024-12-31 23:59", NULL);             /* runs 4-2-2-2 */
	/* a card chain after a separator that is neither "." nor "-"; after one of those, none */
	expect_det("1. 4111 1111 1111 1111", "1. ****", MASK_DET_CREDIT_CARD);
	expect_det("12 (4111-1111-1111-1111)", "12 (****)", MASK_DET_CREDIT_CARD);
	expect("12.4111111111111111 and 3-4111111111111111", NULL);
	expect_det("415 555 0100", "****", MASK_DET_PHONE);                    /* later runs of 3 and 4 */
	expect_det("+1.415.555.0100", "****", MASK_DET_PHONE);
	expect_det("415 555 010", "****", MASK_DET_PHONE);                     /* later runs of 3 */
	expect_det("12 345 6789", "****", MASK_DET_PHONE);                     /* a first run of 2 */
	expect_det("tel 9999(-415.555.0100", "tel 9999(-****", MASK_DET_PHONE); /* the last three runs */
	expect_det("9(+33 1 23 45 67 89)", "9(****)", MASK_DET_PHONE);         /* "+" after "(" */
	/* one cluster longer than a value can be: each detector's hints span all of it */
	expect("4111-1111-1111-1111 (5555-5555-5555-4444) 378282246310005 (4111 1111 1111 1111)",
	       "**** (****) **** (****)");
	expect_det("1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20)+1 415 555 0100",
		   "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20)****", MASK_DET_PHONE);
	expect_det("1 2 3 4 5 6 7 8 9 10(078-05-1120) 1 2", "1 2 3 4 5 6 7 8 9 10(****) 1 2", MASK_DET_US_SSN);
	expect_det("1.1.1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 (10.20.30.40)",
		   "1.1.1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 (****)", MASK_DET_IPV4);
}

/* The built-in detectors alone, Hyperscan (a custom pattern with a
 * lookbehind makes mask_hints and mask_may_match decline). */
static mask_profile *builtin_profile(mask_scratch **sc)
{
	mask_spec spec = {.detectors = all_names, .n_detectors = MASK_DET_COUNT,
			  .engine = MASK_ENGINE_HYPERSCAN};
	char err[256] = "";
	mask_profile *p = mask_profile_new(&spec, err, sizeof(err));
	assert_non_null(p);
	*sc = mask_scratch_new(p);
	return p;
}

/* The hints of detector det in in. */
static size_t det_hints(const char *in, uint32_t det)
{
	mask_scratch *sc;
	mask_profile *p = builtin_profile(&sc);
	mask_hint *h = NULL;
	size_t cap = 0, n = 0, hits = 0;
	assert_int_equal(mask_hints(p, sc, in, strlen(in), &h, &cap, &n, NULL, 0), 0);
	for (size_t i = 0; i < n; i++)
		hits += h[i].id == det;   /* the profile's detector i is built-in i */
	free(h);
	mask_scratch_free(sc);
	mask_profile_free(p);
	return hits;
}

static int may_match(const char *in)
{
	mask_scratch *sc;
	mask_profile *p = builtin_profile(&sc);
	int r = mask_may_match(p, sc, in, strlen(in));
	mask_scratch_free(sc);
	mask_profile_free(p);
	return r;
}

/*
 * mask_cluster_byte's bounds: a part of a text that mask_hints scanned, with
 * any byte it says the walk does not take right before and right after (and
 * a digit past that), masks as on its own; with a byte it does take, it may
 * not ("0" before "123-45-6789" makes a run of four, no SSN's; so does "9-").
 */
static void test_cluster_bounds(void **state)
{
	(void)state;
	mask_scratch *sc;
	mask_profile *p = builtin_profile(&sc);
	static const char *const parts[] = {"123-45-6789", "(415) 555-0132", "1234 345 6789", "+1 415-555-0100",
					    "4111 1111 1111 1111", "10.0.0.1", "DE89 3704 0044 0532 0130 00",
					    "0171 1234567", "01 23 45 67 89", "0171/1234567"};
	size_t taken = 0;
	for (int b = 0; b < 256; b++) {
		for (size_t k = 0; k < sizeof(parts) / sizeof(*parts); k++) {
			size_t n = strlen(parts[k]);
			char text[64] = {'9', (char)b};
			memcpy(text + 2, parts[k], n);
			text[2 + n] = (char)b;
			text[3 + n] = '9';
			buf alone = {0}, hinted = {0};
			uint32_t counts[MASK_DET_COUNT] = {0};
			size_t ha = mask_text(p, sc, parts[k], n, &alone, counts);
			mask_hint *h = NULL;
			size_t cap = 0, nh = 0;
			assert_int_equal(mask_hints(p, sc, text, n + 4, &h, &cap, &nh, NULL, 0), 0);
			size_t hh = mask_text_hinted(p, sc, text + 2, n, h, nh, 2, &hinted, counts);
			bool same = ha == hh && alone.len == hinted.len && memcmp(alone.data, hinted.data, alone.len) == 0;
			assert_int_equal(ha, 1);
			if (!mask_cluster_byte((unsigned char)b) && !same)
				fail_msg("byte 0x%02x around [%s]: %zu [%.*s] on its own, %zu [%.*s] in the text", b,
					 parts[k], ha, (int)alone.len, alone.data, hh, (int)hinted.len, hinted.data);
			taken += !same;
			free(h);
			buf_free(&alone);
			buf_free(&hinted);
		}
	}
	assert_true(taken > 0); /* (bytes the walk does take make a difference somewhere) */
	mask_scratch_free(sc);
	mask_profile_free(p);
}

/*
 * Which digit clusters are worth a look (num_spans): the numeric database is
 * not even run over an amount's long decimals or a timestamp, but is over
 * anything a card, phone or SSN could be; text of several values joined by
 * any separator (a COPY line, for mask_may_match) keeps the looser rule that
 * text around a value cannot fool.
 */
static void test_cluster_shapes(void **state)
{
	(void)state;
	/* precision: no card hint from the 16 decimals of an amount, none from a date */
	assert_int_equal(det_hints("total 792.1900000000000000 EUR", MASK_DET_CREDIT_CARD), 0);
	assert_int_equal(det_hints("-792.1900000000000000", MASK_DET_CREDIT_CARD), 0);
	assert_int_equal(det_hints("at 2025-01-01 00:37:00.123456+00", MASK_DET_PHONE), 0);
	/* the same digits where a card can start are looked at */
	assert_true(det_hints("total 792 1900000000000000 EUR", MASK_DET_CREDIT_CARD) > 0);
	assert_true(det_hints("x4111111111111111", MASK_DET_CREDIT_CARD) > 0);
	assert_true(det_hints("078-05-1120", MASK_DET_US_SSN) > 0);
	/* a phone number is no SSN's shape (runs 3-2-4), "12 345 67 89" no phone's (2-4, 3-4, 3-4) */
	assert_int_equal(det_hints("+1 415-555-0042", MASK_DET_US_SSN), 0);
	assert_int_equal(det_hints("12 345 67 89", MASK_DET_PHONE), 0);
	assert_true(det_hints("12 345 6789", MASK_DET_PHONE) > 0);
	/* ... in a chain of exactly three runs: a card's four groups are no phone's, nor
	 * three runs with one more joined by one separator before or after */
	assert_int_equal(det_hints("4111 1111 1111 1111", MASK_DET_PHONE), 0);
	assert_int_equal(det_hints("1 12 345 6789", MASK_DET_PHONE), 0);
	assert_int_equal(det_hints("12 345 6789-1", MASK_DET_PHONE), 0);
	assert_true(det_hints("1, 12 345 6789", MASK_DET_PHONE) > 0);
	assert_true(det_hints("1 -12 345 6789 (x)", MASK_DET_PHONE) > 0);
	assert_true(det_hints("1 2 3 -12 345 6789", MASK_DET_PHONE) > 0); /* a chain ends at "  " or " -" */
	assert_true(det_hints("9 123 4567 | 12 345 6789 --1", MASK_DET_PHONE) > 0);
	assert_true(det_hints("1 22 333 4444 5555 | 12 345 6789", MASK_DET_PHONE) > 0);
	/* a COPY line with "-" between its fields "1." and a card: the line must not
	 * be passed over (the card's chain starts after ".-" only in the line) */
	assert_int_equal(may_match("1.-4111111111111111"), 1);
	assert_int_equal(may_match("078-05-11205"), 1); /* an SSN, then delimiter "5": its last run grew */
	assert_int_equal(may_match("1 +33 1 23 45 67 89"), 1); /* "1", delimiter " ", a phone */
	assert_int_equal(may_match("415 555 010"), 1);
	assert_int_equal(may_match("at 2025-01-01 00:37, 10 items"), 0);
	/* national numbers: a chain from a trunk, one separator throughout */
	assert_true(det_hints("0171 1234567", MASK_DET_PHONE) > 0);
	assert_true(det_hints("7 (01 23 45 67 89", MASK_DET_PHONE) > 0);
	assert_true(det_hints("01-23 (0171/1234567", MASK_DET_PHONE) > 0); /* a chain starts after a break */
	assert_int_equal(det_hints("01-23 0171/1234567", MASK_DET_PHONE), 0); /* but not at "3 0171" */
	assert_int_equal(det_hints("am 01.02.2025 10:30", MASK_DET_PHONE), 0);
	assert_int_equal(det_hints("1 0171 1234567", MASK_DET_PHONE), 0);   /* not at a run a match can start at */
	assert_int_equal(det_hints("000-12-3456", MASK_DET_PHONE), 0);
	assert_int_equal(det_hints("171 1234567", MASK_DET_PHONE), 0);
	/* a COPY line: text around may lengthen the first run or join it, with another separator */
	assert_int_equal(may_match("5.01 23 45 67 89"), 1);
	assert_int_equal(may_match("501 23 45 67 89"), 1);
	assert_int_equal(may_match("v 01.02 03.04 05"), 0); /* 10 digits, no chain of 9 with one separator */
}

static void test_glob_literal(void **state)
{
	(void)state;
	size_t l;
	const char *g = mask_glob_literal("secret*", &l);
	assert_non_null(g);
	assert_memory_equal(g, "secret", 6);
	assert_int_equal(l, 6);
	g = mask_glob_literal("a[xyzw]bc", &l);   /* a bracket is one character, not a literal */
	assert_int_equal(l, 2);
	assert_memory_equal(g, "bc", 2);
	g = mask_glob_literal("*[]abcdef]x", &l); /* "]" first in a bracket is in the set */
	assert_int_equal(l, 1);
	assert_memory_equal(g, "x", 1);
	g = mask_glob_literal("pass?ord", &l);
	assert_int_equal(l, 4);
	assert_memory_equal(g, "pass", 4);
	assert_null(mask_glob_literal("*", &l));
	assert_null(mask_glob_literal("[abc]", &l));
	char **lits;
	const char *const globs[] = {"token", "api_*key"}, *const star[] = {"token", "*"};
	size_t n = mask_key_literals(globs, 2, &lits);
	assert_int_equal(n, 2);
	assert_string_equal(lits[0], "token");
	assert_string_equal(lits[1], "api_");
	mask_literals_free(lits, n);
	assert_int_equal(mask_key_literals(star, 2, &lits), 0);
	assert_null(lits);
}

/* ---- the shared corpus through both engines ------------------------------ */

static const char *const fragments[] = {
	"a@b.io", "john.doe+tag@example.co.uk", "@", "x@", ".", "-", " ", "\n", "=", ":", "/",
	"4111 1111 1111 1111", "4111-1111-1111-1112", "4111111111111111", "3782 822463 10005",
	"4222222222222", "+", "+1 415-555-0100", "(415) 555-0100", "+44 20 7946 0958",
	"DE89 3704 0044 0532 0130 00", "GB82 WEST 1234 5698 7654 32", "NL91ABNA0417164300",
	"123-45-6789", "666-12-3456", "10.0.0.1", "1.2.3.4.5", "256.1.1.1", JWT, "eyJ",
	"AKIAIOSFODNN7EXAMPLE", AZKEY, "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n",
	"-----END RSA PRIVATE KEY-----", "postgres://", "admin:s3cr3t@", "db.example.com",
	"Bearer ", "abcdefghijklmnop0123456789", "EMP-123456", "TCK0042", "0", "12", "123",
	"1234", "Jane", "Rue de la Paix", "ABCD", "==", "\xc3\xa9",
	"sk-proj-", "Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAb7cDe0fGh3iJk6lMn9oPq2r", "T3BlbkFJ", "sk-ant-api03-",
	"Basic ", "dXNlcjpwYXNzd29yZA==", "YWxh", "password=", "PASSWORD '", "pwd:", "'", "\"", ";", "DB_",
};

static void test_corpus_engines_agree(void **state)
{
	(void)state;
	const size_t nf = sizeof(fragments) / sizeof(fragments[0]);
	uint64_t seed = 0x9e3779b97f4a7c15u;
	char text[4096];
	size_t masked = 0;
	for (int iter = 0; iter < 3000; iter++) {
		size_t len = 0;
		int parts = 1 + iter % 12;
		for (int k = 0; k < parts; k++) {
			seed ^= seed << 13;
			seed ^= seed >> 7;
			seed ^= seed << 17;
			const char *f = fragments[seed % nf];
			size_t fl = strlen(f);
			if (len + fl >= sizeof(text))
				break;
			memcpy(text + len, f, fl);
			len += fl;
			if (seed & 0x100)
				text[len++] = ' ';
		}
		size_t n;
		char *got = run_profiles(redact, redact_s, text, len, &n, NULL);
		masked += n;
		free(got);
	}
	assert_true(masked > 1000);
}

/* Text made of what an address is made of ("@" runs, dots, dashes, long local
 * parts and labels): each "@"'s anchored match against the PCRE2 iteration. */
static void test_email_shapes_engines_agree(void **state)
{
	(void)state;
	/* and bytes beyond ASCII: letters of 2, 3 and 4 bytes, punctuation, NBSP,
	 * emoji, and broken UTF-8 (a lone continuation, a lead cut short) */
	static const char *const tok[] = {"a", "b", "Z", "x1", "9", "@", "@", ".", ".", "-", "-", "_", "%", "'", "a'b",
					  "+", " ", "com", "ex", "co", ".io", "..", "-.", ".-", "@@", "://", ":",
					  "\xC3\xA9", "\xC3\xBC", "\xD0\xB8", "\xE4\xBE\x8B", "\xE3\x81\x82",
					  "\xF0\x90\x8C\xB0", "\xE3\x80\x82", "\xE2\x80\x9C", "\xE2\x82\xAC",
					  "\xC2\xA0", "\xF0\x9F\x98\x80", "\xEF\xBC\x8C", "\xEF\xBB\xBF", "\x80",
					  "\xBF", "\xC3", "\xE4\xBE", "\xF0\x90\x8C", "\xFF"};
	const size_t nt = sizeof(tok) / sizeof(tok[0]);
	uint64_t seed = 0x2545f4914f6cdd1du;
	char text[1024];
	size_t masked = 0, masked_utf8 = 0;
	for (int iter = 0; iter < 20000; iter++) {
		size_t len = 0, want = 1 + (size_t)iter % 300;
		while (len < want) {
			seed ^= seed << 13;
			seed ^= seed >> 7;
			seed ^= seed << 17;
			if (seed % 30 == 0) { /* a run of 20-69 local-part or label characters */
				size_t r = 20 + (seed >> 8) % 50;
				while (r-- && len < sizeof(text) - 4) {
					if (((seed >> (r % 50)) & 7) == 5) { /* a letter of 2 or 3 bytes */
						const char *u = r & 1 ? "\xC3\xA9" : "\xE4\xBE\x8B";
						memcpy(text + len, u, strlen(u));
						len += strlen(u);
						continue;
					}
					text[len++] = (seed >> (r % 40)) & 3 ? (char)('a' + r % 3) : "a-1."[(seed >> 20) % 4];
				}
				continue;
			}
			const char *t = tok[(seed >> 5) % nt];
			size_t tl = strlen(t);
			if (len + tl >= sizeof(text))
				break;
			memcpy(text + len, t, tl);
			len += tl;
		}
		size_t n;
		char *got = run_profiles(redact, redact_s, text, len, &n, NULL);
		masked += n;
		for (size_t k = 0; n && k < len; k++)
			if ((unsigned char)text[k] >= 0x80) {
				masked_utf8 += n; /* (some of them may be ASCII) */
				break;
			}
		free(got);
	}
	assert_true(masked > 400);
	assert_true(masked_utf8 > 200);
}

/*
 * Text made of what numbers are made of (runs of digits, trunks "0" and "00",
 * the separators " .-/()+", letters): the digit walk's hints against the
 * PCRE2 iteration, for every numeric detector. And the gate: a line of such
 * fields (mask_may_match, with the delimiters a COPY line or text around a
 * value can have) is passed over only when no field holds a match.
 */
/* IBANs with their check digits computed, in any case, grouped by four or not,
 * among letters, digits and separators: the engines (the cluster walk's
 * IBAN hints against the PCRE2 iteration) agree, and most are found. */
static void test_iban_shapes_engines_agree(void **state)
{
	(void)state;
	static const struct {
		const char *cc;
		size_t len;
	} countries[] = {{"DE", 22}, {"GB", 22}, {"FR", 27}, {"NL", 18}, {"CH", 21}, {"NO", 15}, {"MT", 31}};
	static const char *const tok[] = {"a", "B", "7", "42", " ", ".", "-", "ab", "XY", "x1", "\n", "de", "GB"};
	uint64_t seed = 0x6a09e667f3bcc909u;
	char text[512];
	size_t masked = 0, ibans = 0, lower = 0;
	for (int iter = 0; iter < 20000; iter++) {
#define NEXT() (seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17, seed)
		size_t len = 0;
		for (int k = (int)(NEXT() % 4); k > 0; k--) {
			const char *t = tok[NEXT() % (sizeof(tok) / sizeof(*tok))];
			memcpy(text + len, t, strlen(t));
			len += strlen(t);
		}
		if (NEXT() % 8) /* mostly apart from what is around (else glued to it: no IBAN) */
			text[len++] = " .,\n"[NEXT() % 4];
		/* an IBAN: country, check digits, the rest letters and digits */
		size_t c = NEXT() % (sizeof(countries) / sizeof(*countries)), n = countries[c].len;
		char v[40];
		memcpy(v, countries[c].cc, 2);
		v[2] = v[3] = '0';
		for (size_t i = 4; i < n; i++)
			v[i] = NEXT() % 4 ? (char)('0' + NEXT() % 10) : (char)('A' + NEXT() % 26);
		unsigned rem = 0; /* mod 97 of the rearranged number, check digits 00 */
		for (size_t j = 0; j < n; j++) {
			char ch = v[(j + 4) % n];
			rem = ch <= '9' ? (rem * 10 + (unsigned)(ch - '0')) % 97 : (rem * 100 + (unsigned)(ch - 'A' + 10)) % 97;
		}
		unsigned check = 98 - rem;
		if (NEXT() % 8 == 0)
			check = (check + 1) % 100; /* and some that fail the checksum */
		v[2] = (char)('0' + check / 10);
		v[3] = (char)('0' + check % 10);
		int mode = (int)(NEXT() % 3); /* 0 capitals, 1 lower case, 2 mixed */
		lower += mode > 0;
		bool spaced = NEXT() % 2;
		for (size_t i = 0; i < n; i++) {
			if (spaced && i && i % 4 == 0)
				text[len++] = ' ';
			char ch = v[i];
			if (ch >= 'A' && ch <= 'Z' && (mode == 1 || (mode == 2 && NEXT() % 2)))
				ch = (char)(ch - 'A' + 'a');
			text[len++] = ch;
		}
		ibans++;
		if (NEXT() % 8)
			text[len++] = " .,\n"[NEXT() % 4];
		for (int k = (int)(NEXT() % 4); k > 0; k--) {
			const char *t = tok[NEXT() % (sizeof(tok) / sizeof(*tok))];
			memcpy(text + len, t, strlen(t));
			len += strlen(t);
		}
#undef NEXT
		size_t nm;
		uint32_t counts[MASK_DET_COUNT + MASK_MAX_CUSTOM];
		char *got = run_profiles(redact, redact_s, text, len, &nm, counts);
		masked += counts[MASK_DET_IBAN];
		free(got);
	}
	/* the engines agreed on every text (run_profiles); a fair share were IBANs as typed */
	assert_true(lower > ibans / 2);
	assert_true(masked > ibans * 2 / 5);
}

static void test_digit_shapes_engines_agree(void **state)
{
	(void)state;
	static const char *const tok[] = {"0", "00", "01", "06", "030", "0171", "0049", "000", "1", "12", "123",
					  "415", "1234", "4111", "12345", "123456", "1234567", "12345678", " ",
					  " ", " ", ".", ".", "-", "-", "/", "/", "(", ")", "+", "x", ":", "  ", "A"};
	static const char delims[] = {'\t', ',', ' ', '5', '-', '.', '/', '0'};
	const size_t nt = sizeof(tok) / sizeof(tok[0]);
	mask_scratch *gs;
	mask_profile *gp = builtin_profile(&gs);
	uint64_t seed = 0x853c49e6748fea9bu;
	char text[512];
	size_t masked = 0, national = 0, gated = 0;
	for (int iter = 0; iter < 20000; iter++) {
		size_t len = 0, want = 1 + (size_t)iter % 60;
		while (len < want) {
			seed ^= seed << 13;
			seed ^= seed >> 7;
			seed ^= seed << 17;
			const char *t = tok[(seed >> 5) % nt];
			size_t tl = strlen(t);
			if (len + tl >= sizeof(text))
				break;
			memcpy(text + len, t, tl);
			len += tl;
		}
		size_t n;
		uint32_t counts[MASK_DET_COUNT + MASK_MAX_CUSTOM];
		char *got = run_profiles(redact, redact_s, text, len, &n, counts);
		masked += n;
		national += counts[MASK_DET_PHONE];
		free(got);
		/* the same text as a line of fields */
		char d = delims[(seed >> 40) % sizeof(delims)];
		if (mask_may_match(gp, gs, text, len))
			continue;
		gated++;
		for (size_t f = 0; f <= len;) {
			const char *e = memchr(text + f, d, len - f);
			size_t fl = e ? (size_t)(e - text) - f : len - f;
			buf o = {0};
			if (mask_text(redact[1], redact_s[1], text + f, fl, &o, NULL) != 0)
				fail_msg("the gate passed over [%.*s] in [%.*s]", (int)fl, text + f, (int)len, text);
			buf_free(&o);
			f += fl + 1;
		}
	}
	assert_true(masked > 800); /* (962 phones, cards, SSNs, IPv4 addresses: 700 phones) */
	assert_true(national > 500);
	assert_true(gated > 5000);
	mask_scratch_free(gs);
	mask_profile_free(gp);
}

/*
 * The shapes of the detectors the Hyperscan engine confirms with matchers of
 * their own (mask.c's natives: IPv4, card, SSN): octets valid and not (255,
 * 256, leading zeros), cards with the Luhn digit right and wrong, grouped by
 * " " and "-" and not, SSNs, next to word characters, dots and dashes that
 * the lookarounds refuse. Each text through both engines: the natives must
 * find what the patterns find.
 */
static void test_native_shapes_engines_agree(void **state)
{
	(void)state;
	static const char *const tok[] = {"255", "256", "25", "249", "250", "199", "100", "10", "1", "0", "01",
					  "001", "9", "123", "45", "6789", "078", "05", "1120", ".", ".", ".",
					  "-", "-", " ", " ", "_", "a", "Z", "..", "1.2.3.4", "10.0.0.255",
					  "192.168.001.1", "123-45-6789", "123 45 6789", "1234"};
	const size_t nt = sizeof(tok) / sizeof(tok[0]);
	uint64_t seed = 0x3c6ef372fe94f82bu;
	char text[512];
	size_t cards = 0, ips = 0, ssns = 0;
	for (int iter = 0; iter < 20000; iter++) {
#define NEXT() (seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17, seed)
		size_t len = 0, want = 1 + (size_t)iter % 40;
		while (len < want) {
			if (NEXT() % 9 == 0) { /* a card number of 13 to 19 digits, its Luhn digit mostly right */
				char d[20];
				size_t n = 13 + NEXT() % 7;
				unsigned sum = 0;
				for (size_t i = 0; i + 1 < n; i++)
					d[i] = (char)('0' + NEXT() % 10);
				for (size_t i = 0; i + 1 < n; i++) { /* doubled from the second to last */
					unsigned v = (unsigned)(d[n - 2 - i] - '0');
					sum += i % 2 == 0 ? (v * 2 > 9 ? v * 2 - 9 : v * 2) : v;
				}
				d[n - 1] = (char)('0' + (10 - sum % 10) % 10 + (NEXT() % 6 == 0));
				if (d[n - 1] > '9')
					d[n - 1] = '0';
				char sep = " -x"[NEXT() % 3];
				for (size_t i = 0; i < n && len < sizeof(text) - 2; i++) {
					if (sep != 'x' && i && i % 4 == 0)
						text[len++] = sep;
					text[len++] = d[i];
				}
				continue;
			}
			const char *t = tok[NEXT() % nt];
			size_t tl = strlen(t);
			if (len + tl >= sizeof(text))
				break;
			memcpy(text + len, t, tl);
			len += tl;
		}
#undef NEXT
		uint32_t counts[MASK_DET_COUNT + MASK_MAX_CUSTOM];
		free(run_profiles(redact, redact_s, text, len, NULL, counts));
		cards += counts[MASK_DET_CREDIT_CARD];
		ips += counts[MASK_DET_IPV4];
		ssns += counts[MASK_DET_US_SSN];
	}
	assert_true(cards > 600); /* (944 cards, 593 addresses, 801 SSNs) */
	assert_true(ips > 400);
	assert_true(ssns > 500);
}

static void test_long_text(void **state)
{
	(void)state;
	buf in = {0};
	for (int i = 0; i < 2000; i++)
		buf_printf(&in, "row %d: a%d@example.com paid with 4111 1111 1111 1111 from 10.0.%d.%d; "
				"lorem ipsum dolor sit amet %d\n",
			   i, i, i / 256, i % 256, i * 7919);
	uint32_t counts[MASK_DET_COUNT + MASK_MAX_CUSTOM];
	size_t n;
	char *got = run_profiles(redact, redact_s, in.data, in.len, &n, counts);
	assert_int_equal(counts[MASK_DET_EMAIL], 2000);
	assert_int_equal(counts[MASK_DET_CREDIT_CARD], 2000);
	assert_int_equal(counts[MASK_DET_IPV4], 2000);
	assert_int_equal(n, 6000);
	free(got);
	buf_free(&in);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_email),
		cmocka_unit_test(test_email_apostrophe),
		cmocka_unit_test(test_phone),
		cmocka_unit_test(test_credit_card),
		cmocka_unit_test(test_iban),
		cmocka_unit_test(test_ssn),
		cmocka_unit_test(test_ipv4),
		cmocka_unit_test(test_jwt),
		cmocka_unit_test(test_aws),
		cmocka_unit_test(test_azure),
		cmocka_unit_test(test_private_key),
		cmocka_unit_test(test_password_in_url),
		cmocka_unit_test(test_bearer),
		cmocka_unit_test(test_service_keys),
		cmocka_unit_test(test_ai_keys),
		cmocka_unit_test(test_basic_auth),
		cmocka_unit_test(test_password_in_text),
		cmocka_unit_test(test_custom),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_style_partial),
		cmocka_unit_test(test_style_hash),
		cmocka_unit_test(test_mask_whole),
		cmocka_unit_test(test_overlaps),
		cmocka_unit_test(test_counts),
		cmocka_unit_test(test_empty_and_no_match),
		cmocka_unit_test(test_embedded_nul),
		cmocka_unit_test(test_numeric_gate),
		cmocka_unit_test(test_numeric_spans),
		cmocka_unit_test(test_cluster_bounds),
		cmocka_unit_test(test_cluster_shapes),
		cmocka_unit_test(test_glob_literal),
		cmocka_unit_test(test_corpus_engines_agree),
		cmocka_unit_test(test_email_shapes_engines_agree),
		cmocka_unit_test(test_digit_shapes_engines_agree),
		cmocka_unit_test(test_iban_shapes_engines_agree),
		cmocka_unit_test(test_native_shapes_engines_agree),
		cmocka_unit_test(test_limit_fails_closed),
		cmocka_unit_test(test_repeated_hint),
		cmocka_unit_test(test_long_text),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
