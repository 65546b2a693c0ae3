/* Unit tests for the canonical entry encoding (audit/canon.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "audit/canon.h"
#include "core/util.h"

static audit_entry *sample_result(void)
{
	audit_entry *e = audit_entry_new(AUDIT_RESULT);
	e->id = 42;
	e->time_us = 1795641427632123;
	e->session = util_strndup("f33bfcc9a3566dc3f2014c9f236e65ac", 32);
	e->seq = 7;
	e->request_id = 41;
	e->command_tag = util_strndup("SELECT 3", 8);
	e->rows = 3;
	e->duration_us = 250;
	return e;
}

static void test_layout(void **state)
{
	(void)state;
	audit_entry *e = audit_entry_new(AUDIT_SESSION_END);
	e->id = 1;
	e->time_us = 2;
	e->seq = 3;
	e->reason = util_strndup("x", 1);
	e->classification = util_strndup("{}", 2);
	buf b = {0};
	audit_canon_encode(e, &b);
	/* version, then (tag, u32 length, value) in ascending tag order */
	static const unsigned char want[] = {
		0x01,
		1, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 1,                              /* id */
		2, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 2,                              /* time_us */
		4, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 3,                              /* seq */
		5, 0, 0, 0, 11, 's', 'e', 's', 's', 'i', 'o', 'n', '_', 'e', 'n', 'd', /* kind */
		23, 0, 0, 0, 1, 'x',                                                /* reason */
		24, 0, 0, 0, 2, '{', '}',                                           /* classification */
	};
	assert_int_equal(b.len, sizeof(want));
	assert_memory_equal(b.data, want, sizeof(want));
	audit_canon_set_id(b.data, 0x0102030405060708LL);
	assert_memory_equal(b.data + AUDIT_CANON_ID_OFFSET, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	buf_free(&b);
	audit_entry_free(e);
}

static void test_round_trip(void **state)
{
	(void)state;
	audit_entry *e = sample_result(), *d = NULL;
	buf b = {0};
	audit_canon_encode(e, &b);
	char err[200];
	assert_int_equal(audit_canon_decode(b.data, b.len, &d, err, sizeof(err)), 0);
	assert_int_equal(d->id, 42);
	assert_int_equal(d->time_us, 1795641427632123);
	assert_string_equal(d->session, e->session);
	assert_int_equal(d->seq, 7);
	assert_int_equal(d->kind, AUDIT_RESULT);
	assert_int_equal(d->request_id, 41);
	assert_string_equal(d->command_tag, "SELECT 3");
	assert_int_equal(d->rows, 3);
	assert_int_equal(d->duration_us, 250);
	assert_null(d->statement);
	/* re-encoding the decoded entry gives the same bytes */
	buf again = {0};
	audit_canon_encode(d, &again);
	assert_int_equal(again.len, b.len);
	assert_memory_equal(again.data, b.data, b.len);
	buf_free(&again);
	buf_free(&b);
	audit_entry_free(d);
	audit_entry_free(e);
}

static void expect_reject(const void *p, size_t n, const char *why_part)
{
	audit_entry *d = NULL;
	char err[200];
	assert_int_equal(audit_canon_decode(p, n, &d, err, sizeof(err)), -1);
	assert_null(d);
	if (!strstr(err, why_part))
		print_error("decoder said \"%s\", expected \"%s\"\n", err, why_part);
	assert_non_null(strstr(err, why_part));
}

static void test_rejects(void **state)
{
	(void)state;
	audit_entry *e = sample_result();
	buf b = {0};
	audit_canon_encode(e, &b);
	char *p = util_xmalloc(b.len + 8);
	/*
	 * Every truncation is rejected, except at a field boundary after the
	 * required fields: that is a shorter, different entry (which the Merkle
	 * leaf tells apart), and it re-encodes to exactly the shorter bytes.
	 */
	int cut_inside = 0;
	for (size_t n = 0; n < b.len; n++) {
		audit_entry *d = NULL;
		char err[200];
		if (audit_canon_decode(b.data, n, &d, err, sizeof(err)) != 0) {
			cut_inside++;
			continue;
		}
		buf again = {0};
		audit_canon_encode(d, &again);
		assert_int_equal(again.len, n);
		assert_memory_equal(again.data, b.data, n);
		buf_free(&again);
		audit_entry_free(d);
	}
	assert_true(cut_inside > (int)b.len - 6);
	/* bad version */
	memcpy(p, b.data, b.len);
	p[0] = 2;
	expect_reject(p, b.len, "version");
	/* trailing garbage is a truncated field */
	memcpy(p, b.data, b.len);
	p[b.len] = 30;
	expect_reject(p, b.len + 1, "truncated");
	/* tags out of order: the time field's tag made equal to the id's */
	memcpy(p, b.data, b.len);
	p[AUDIT_CANON_ID_OFFSET + 8] = 1;
	expect_reject(p, b.len, "out of order");
	/* an integer of the wrong length */
	static const unsigned char short_int[] = {1, 1, 0, 0, 0, 4, 0, 0, 0, 1};
	expect_reject(short_int, sizeof(short_int), "integer field 1");
	/* a NUL inside text, and a missing kind */
	static const unsigned char nul[] = {1, 1, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 1,
					    2, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 1,
					    3, 0, 0, 0, 2, 'a', 0};
	expect_reject(nul, sizeof(nul), "NUL");
	static const unsigned char no_kind[] = {1, 1, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 1,
						2, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 1,
						4, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 1};
	expect_reject(no_kind, sizeof(no_kind), "required");
	free(p);
	buf_free(&b);
	audit_entry_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_rejects),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
