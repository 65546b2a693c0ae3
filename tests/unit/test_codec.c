/* Unit tests for the PostgreSQL codec (proto/pg/codec.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto/pg/codec.h"

static void build_startup(buf *b, const char *const *kv, size_t n)
{
	size_t at = pg_msg_begin(b, 0);
	pg_put_i32(b, (int32_t)PG_PROTOCOL_V3);
	for (size_t i = 0; i < n; i++)
		pg_put_str(b, kv[i]);
	pg_put_u8(b, 0);
	pg_msg_end(b, at);
}

static void test_startup_ok(void **state)
{
	(void)state;
	buf b = {0};
	const char *kv[] = {"user", "bob", "database", "appdb", "application_name", "psql"};
	build_startup(&b, kv, 6);
	pg_startup st;
	char err[128];
	assert_int_equal(pg_parse_startup(b.data, b.len, &st, err, sizeof(err)), 0);
	assert_int_equal(st.code, PG_PROTOCOL_V3);
	assert_string_equal(st.user, "bob");
	assert_string_equal(st.database, "appdb");
	assert_string_equal(st.application_name, "psql");
	assert_int_equal(st.n_params, 3);
	buf_free(&b);
}

static void test_startup_database_defaults_to_user(void **state)
{
	(void)state;
	buf b = {0};
	const char *kv[] = {"user", "carol"};
	build_startup(&b, kv, 2);
	pg_startup st;
	char err[128];
	assert_int_equal(pg_parse_startup(b.data, b.len, &st, err, sizeof(err)), 0);
	assert_string_equal(st.database, "carol");
	buf_free(&b);
}

static void test_startup_errors(void **state)
{
	(void)state;
	pg_startup st;
	char err[128];
	buf b = {0};
	/* no user */
	const char *kv[] = {"database", "x"};
	build_startup(&b, kv, 2);
	assert_int_equal(pg_parse_startup(b.data, b.len, &st, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no PostgreSQL user name"));
	/* missing terminator: drop the last byte and fix the length */
	b.len--;
	b.data[3] = (char)b.len;
	assert_int_equal(pg_parse_startup(b.data, b.len, &st, err, sizeof(err)), -1);
	/* length word disagrees with the packet */
	b.len = 0;
	const char *kv2[] = {"user", "u"};
	build_startup(&b, kv2, 2);
	assert_int_equal(pg_parse_startup(b.data, b.len - 1, &st, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "length"));
	/* protocol 2 */
	b.data[4] = 0;
	b.data[5] = 2;
	assert_int_equal(pg_parse_startup(b.data, b.len, &st, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unsupported frontend protocol 2.0"));
	buf_free(&b);
}

static void test_special_requests(void **state)
{
	(void)state;
	pg_startup st;
	char err[128];
	const char ssl[8] = {0, 0, 0, 8, 0x04, (char)0xd2, 0x16, 0x2f};
	assert_int_equal(pg_parse_startup(ssl, 8, &st, err, sizeof(err)), 0);
	assert_int_equal(st.code, PG_SSL_REQUEST);
	const char cancel[16] = {0, 0, 0, 16, 0x04, (char)0xd2, 0x16, 0x2e, 0, 0, 0, 42, 1, 2, 3, 4};
	assert_int_equal(pg_parse_startup(cancel, 16, &st, err, sizeof(err)), 0);
	assert_int_equal(st.code, PG_CANCEL_REQUEST);
	assert_int_equal(st.cancel_pid, 42);
	assert_int_equal(st.cancel_key, 0x01020304);
	/* a cancel request of the wrong size */
	char bad[12] = {0, 0, 0, 12, 0x04, (char)0xd2, 0x16, 0x2e, 0, 0, 0, 42};
	assert_int_equal(pg_parse_startup(bad, 12, &st, err, sizeof(err)), -1);
}

static void test_frame(void **state)
{
	(void)state;
	char type;
	size_t total;
	const char q[] = {'Q', 0, 0, 0, 9, 's', 'e', 'l', 0};
	assert_int_equal(pg_frame(q, 3, 100, &type, &total), 0);
	assert_int_equal(pg_frame(q, sizeof(q), 100, &type, &total), 1);
	assert_int_equal(type, 'Q');
	assert_int_equal(total, 10);
	const char short_len[] = {'Q', 0, 0, 0, 3};
	assert_int_equal(pg_frame(short_len, 5, 100, &type, &total), -1);
	const char huge[] = {'d', 0x7f, 0, 0, 0};
	assert_int_equal(pg_frame(huge, 5, 1 << 20, &type, &total), -1);
}

static void test_error_roundtrip(void **state)
{
	(void)state;
	buf b = {0};
	pg_put_error(&b, "FATAL", "28P01", "password authentication failed", NULL, "use a key");
	char type;
	size_t total;
	assert_int_equal(pg_frame(b.data, b.len, 1 << 20, &type, &total), 1);
	assert_int_equal(type, 'E');
	assert_int_equal(total, b.len);
	pg_error_fields f;
	assert_int_equal(pg_parse_error_fields(b.data + 5, b.len - 5, &f), 0);
	assert_string_equal(f.severity, "FATAL");
	assert_string_equal(f.code, "28P01");
	assert_string_equal(f.message, "password authentication failed");
	/* truncated: no final terminator */
	assert_int_equal(pg_parse_error_fields(b.data + 5, b.len - 6, &f), -1);
	buf_free(&b);
}

static void put_bind(buf *b, int n_formats, const int16_t *formats, int n_params,
		     const char *const *vals, const int32_t *lens)
{
	size_t at = pg_msg_begin(b, 'B');
	pg_put_str(b, "p1");
	pg_put_str(b, "s1");
	pg_put_i16(b, (int16_t)n_formats);
	for (int i = 0; i < n_formats; i++)
		pg_put_i16(b, formats[i]);
	pg_put_i16(b, (int16_t)n_params);
	for (int i = 0; i < n_params; i++) {
		pg_put_i32(b, lens[i]);
		if (lens[i] > 0)
			pg_put_bytes(b, vals[i], (size_t)lens[i]);
	}
	pg_put_i16(b, 0);
	pg_msg_end(b, at);
}

static void test_bind_params(void **state)
{
	(void)state;
	buf b = {0};
	const int16_t formats[] = {0, 1, 0};
	const char *vals[] = {"hello \"x\"", "\x01\xff", NULL};
	const int32_t lens[] = {9, 2, -1};
	put_bind(&b, 3, formats, 3, vals, lens);
	const char *portal, *stmt;
	char *params;
	assert_int_equal(pg_parse_bind(b.data + 5, b.len - 5, &portal, &stmt, &params), 0);
	assert_string_equal(portal, "p1");
	assert_string_equal(stmt, "s1");
	assert_string_equal(params, "[\"hello \\\"x\\\"\",{\"hex\":\"01ff\"},null]");
	free(params);
	/* one format code applies to every parameter */
	b.len = 0;
	const int16_t all_binary[] = {1};
	const char *v2[] = {"\x00\x00\x00\x2a"};
	const int32_t l2[] = {4};
	put_bind(&b, 1, all_binary, 1, v2, l2);
	assert_int_equal(pg_parse_bind(b.data + 5, b.len - 5, &portal, &stmt, &params), 0);
	assert_string_equal(params, "[{\"hex\":\"0000002a\"}]");
	free(params);
	/* a value length pointing past the end */
	b.len = 0;
	put_bind(&b, 0, NULL, 1, v2, l2);
	memcpy(b.data + b.len - 2 - 4 - 4, "\0\0\x01\x90", 4); /* the value's length becomes 400 */
	assert_int_equal(pg_parse_bind(b.data + 5, b.len - 5, &portal, &stmt, &params), -1);
	assert_null(params);
	buf_free(&b);
}

/* A FunctionCall message: oid, format codes, arguments, result format. */
static void put_fcall(buf *b, uint32_t oid, int n_formats, const int16_t *formats, int n_args, const char **vals,
		      const int32_t *lens, int16_t result_format)
{
	size_t at = pg_msg_begin(b, 'F');
	pg_put_i32(b, (int32_t)oid);
	pg_put_i16(b, (int16_t)n_formats);
	for (int i = 0; i < n_formats; i++)
		pg_put_i16(b, formats[i]);
	pg_put_i16(b, (int16_t)n_args);
	for (int i = 0; i < n_args; i++) {
		pg_put_i32(b, lens[i]);
		if (lens[i] > 0)
			pg_put_bytes(b, vals[i], (size_t)lens[i]);
	}
	pg_put_i16(b, result_format);
	pg_msg_end(b, at);
}

static void test_function_call_args(void **state)
{
	(void)state;
	buf b = {0};
	const int16_t formats[] = {1};
	const char *vals[] = {"\x00\x00\x00\x01", "\x00\x00\x00\x00\x00\x00\x00\x00"};
	const int32_t lens[] = {4, 8};
	put_fcall(&b, 2096, 1, formats, 2, vals, lens, 1);
	uint32_t oid = 0;
	char *args;
	assert_int_equal(pg_parse_function_call(b.data + 5, b.len - 5, &oid, &args), 0);
	assert_int_equal(oid, 2096);
	assert_string_equal(args, "[{\"hex\":\"00000001\"},{\"hex\":\"0000000000000000\"}]");
	free(args);
	/* text arguments, a NULL, no format codes (all text) */
	b.len = 0;
	const char *tv[] = {"it's \"x\"", NULL};
	const int32_t tl[] = {8, -1};
	put_fcall(&b, 764, 0, NULL, 2, tv, tl, 0);
	assert_int_equal(pg_parse_function_call(b.data + 5, b.len - 5, &oid, &args), 0);
	assert_string_equal(args, "[\"it's \\\"x\\\"\",null]");
	free(args);
	/* malformed: a result format of 2, an argument past the end, bytes left over, cut short */
	b.len = 0;
	put_fcall(&b, 764, 0, NULL, 2, tv, tl, 2);
	assert_int_equal(pg_parse_function_call(b.data + 5, b.len - 5, &oid, &args), -1);
	assert_null(args);
	b.len = 0;
	put_fcall(&b, 764, 0, NULL, 1, tv, tl, 0);
	memcpy(b.data + 5 + 4 + 2 + 2, "\0\0\x01\x90", 4); /* the argument's length becomes 400 */
	assert_int_equal(pg_parse_function_call(b.data + 5, b.len - 5, &oid, &args), -1);
	b.len = 0;
	put_fcall(&b, 764, 0, NULL, 1, tv, tl, 0);
	buf_append(&b, "x", 1);
	assert_int_equal(pg_parse_function_call(b.data + 5, b.len - 5, &oid, &args), -1);
	assert_int_equal(pg_parse_function_call(b.data + 5, 3, &oid, &args), -1);
	/* two format codes for three arguments */
	b.len = 0;
	const int16_t two[] = {0, 1};
	const char *three[] = {"a", "b", "c"};
	const int32_t l3[] = {1, 1, 1};
	put_fcall(&b, 764, 2, two, 3, three, l3, 0);
	assert_int_equal(pg_parse_function_call(b.data + 5, b.len - 5, &oid, &args), -1);
	buf_free(&b);
}

static void test_tag_rows(void **state)
{
	(void)state;
	assert_int_equal(pg_tag_rows("SELECT 3"), 3);
	assert_int_equal(pg_tag_rows("INSERT 0 5"), 5);
	assert_int_equal(pg_tag_rows("UPDATE 0"), 0);
	assert_int_equal(pg_tag_rows("COPY 100000"), 100000);
	assert_int_equal(pg_tag_rows("CREATE TABLE"), -1);
	assert_int_equal(pg_tag_rows("BEGIN"), -1);
	assert_int_equal(pg_tag_rows("SELECT x"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_startup_ok),
		cmocka_unit_test(test_startup_database_defaults_to_user),
		cmocka_unit_test(test_startup_errors),
		cmocka_unit_test(test_special_requests),
		cmocka_unit_test(test_frame),
		cmocka_unit_test(test_error_roundtrip),
		cmocka_unit_test(test_bind_params),
		cmocka_unit_test(test_function_call_args),
		cmocka_unit_test(test_tag_rows),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
