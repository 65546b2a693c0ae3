/*
 * redact: credentials written into statements and parameters are replaced in
 * what is recorded; everything else is recorded as sent; the recorded text
 * still parses, and classifies as the statement sent did.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pg_query.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/redact.h"
#include "policy/sqlclass.h"

typedef struct {
	const char *in;
	const char *out;   /* NULL: recorded as sent */
} case_t;

static const case_t cases[] = {
	/* roles */
	{"ALTER ROLE app PASSWORD 'hunter2'", "ALTER ROLE app PASSWORD '****'"},
	{"create user bob with login encrypted password 'Tr0ub4dor&3' valid until '2030-01-01'",
	 "create user bob with login encrypted password '****' valid until '2030-01-01'"},
	{"alter role x password\n  'multi\nline'", "alter role x password\n  '****'"},
	{"ALTER ROLE x PASSWORD E'it\\'s secret'", "ALTER ROLE x PASSWORD E'****'"},
	{"ALTER ROLE x PASSWORD $pw$dollar quoted$pw$ LOGIN", "ALTER ROLE x PASSWORD $$****$$ LOGIN"},
	{"ALTER ROLE x PASSWORD /* set by the agent */ 'c0mment'", "ALTER ROLE x PASSWORD /* set by the agent */ '****'"},
	{"ALTER ROLE x PASSWORD 'con'\n'tinued'", "ALTER ROLE x PASSWORD '****'"},
	{"ALTER ROLE x PASSWORD U&'d\\0061t\\+000061' LOGIN", "ALTER ROLE x PASSWORD U&'****' LOGIN"},
	{"ALTER ROLE x PASSWORD NULL", NULL},
	{"create role a password 'one'; create role b password 'two'",
	 "create role a password '****'; create role b password '****'"},
	/* options of servers, user mappings, foreign data wrappers */
	{"CREATE USER MAPPING FOR app SERVER films OPTIONS (user 'app', password 'fdw-pass-1')",
	 "CREATE USER MAPPING FOR app SERVER films OPTIONS (user 'app', password '****')"},
	{"ALTER USER MAPPING FOR app SERVER films OPTIONS (SET password 'p2', ADD sslpassword 'p3')",
	 "ALTER USER MAPPING FOR app SERVER films OPTIONS (SET password '****', ADD sslpassword '****')"},
	{"CREATE SERVER s FOREIGN DATA WRAPPER x OPTIONS (host 'db', \"api_token\" 'tk-991')",
	 "CREATE SERVER s FOREIGN DATA WRAPPER x OPTIONS (host 'db', \"api_token\" '****')"},
	/* settings */
	{"SET app.api_token = 'tok-123'", "SET app.api_token = '****'"},
	{"set session myapp.client_secret to 'cs-55'", "set session myapp.client_secret to '****'"},
	{"ALTER ROLE app SET app.secret_key = 'k-77'", "ALTER ROLE app SET app.secret_key = '****'"},
	{"ALTER SYSTEM SET password_encryption = 'scram-sha-256'", NULL},
	{"select set_config('app.db_password', 'sc-1', false)", "select set_config('app.db_password', '****', false)"},
	{"select set_config('app.user', 'bob', false)", NULL},
	/* columns set */
	{"UPDATE users SET password = 'newpass!' WHERE id = 1", "UPDATE users SET password = '****' WHERE id = 1"},
	{"UPDATE users SET name = upper('x', 2), api_token = 'tk-2' WHERE id = 1",
	 "UPDATE users SET name = upper('x', 2), api_token = '****' WHERE id = 1"},
	{"UPDATE t SET a = (SELECT b FROM c WHERE d = 1), token = 'tk-3'",
	 "UPDATE t SET a = (SELECT b FROM c WHERE d = 1), token = '****'"},
	{"INSERT INTO t VALUES (1) ON CONFLICT (id) DO UPDATE SET n = 2, secret = 'ss-4'",
	 "INSERT INTO t VALUES (1) ON CONFLICT (id) DO UPDATE SET n = 2, secret = '****'"},
	/* what stays as sent: comparisons, names, values that are not credentials */
	{"SELECT * FROM sessions WHERE token = 'abc123'", NULL},
	{"SELECT password_hint FROM users WHERE name = 'bob'", NULL},
	{"SELECT 'password' AS label, 'x' AS v", NULL},
	{"UPDATE t SET a = 1 WHERE token = 'q'", NULL},
	{"UPDATE t SET a = 1 WHERE b IN (1, 2) AND token = 'q'", NULL},
	{"SELECT f(a, token = 'q') FROM t", NULL},
	{"UPDATE t SET a = f(1, token = 'q')", NULL},
	{"SET search_path = a; SELECT g(b, token = 'q')", NULL},
	{"SELECT * FROM api_keys WHERE owner = 'bob'", NULL},
	{"select 1", NULL},
	/* the detectors read literals and comments, not names and operators */
	{"select password::text from accounts where id = 1", NULL},
	{"select * from accounts natural join (select 'a-guessed-password'::text as password) g", NULL},
	{"select token:=1", NULL},
	{"select AKIAIOSFODNN7EXAMPLE from t, \"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlc2ln\"", NULL},
	{"select 1 -- rotated: password=S3cretPw2 in the vault", "select 1 -- rotated: password=**** in the vault"},
	{"CREATE FUNCTION f() RETURNS text LANGUAGE sql AS $$ select 'postgres://a:pw9876@h/d' $$",
	 "CREATE FUNCTION f() RETURNS text LANGUAGE sql AS $$ select 'postgres://a:****@h/d' $$"},
	{"select 'x' /* unterminated comment with password=abc", "select 'x' /* unterminated comment with password ****"},
	{"select 'no word here, AKIAIOSFODNN7EXAMPLE", "select 'no word here, ****"},
	/* the detectors: credentials anywhere in the text */
	{"SELECT dblink_connect('host=db.internal dbname=app user=admin password=S3cretPw')",
	 "SELECT dblink_connect('host=db.internal dbname=app user=admin password=****')"},
	{"CREATE SUBSCRIPTION s CONNECTION 'postgresql://rep:replpw99@primary:5432/app' PUBLICATION p",
	 "CREATE SUBSCRIPTION s CONNECTION 'postgresql://rep:****@primary:5432/app' PUBLICATION p"},
	{"INSERT INTO keys VALUES ('AKIAIOSFODNN7EXAMPLE')", "INSERT INTO keys VALUES ('****')"},
	{"insert into notes values ('use sk-ant-api03-abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUV-ABCDEFAA today')",
	 "insert into notes values ('use **** today')"},
	/* a replaced literal stays a token of its own */
	{"select 'a'$$pw=secret1$$, x FROM t WHERE p = ''", NULL},
	{"ALTER ROLE x PASSWORD $$pw$$'b'", "ALTER ROLE x PASSWORD $$****$$'b'"},
	{"ALTER ROLE x PASSWORD $$pw$$\n'b'", "ALTER ROLE x PASSWORD $$****$$\n'b'"},
	{"select 'b'\n, 'a' || E'password=x\\'y'\n'c'", "select 'b'\n, 'a' || E'****'"}, /* one token, continued */
	{"select 'b'\n, $$password=x$$\n'c'", "select 'b'\n, $$****$$\n'c'"},
	{"select 'a'$$password=abc$$", "select 'a'$$****$$"},
	{"select U&$$password=abc$$", "select U&$$****$$"},
	{"select 'x'E'password=abc\\'d'", "select 'x'E'****'"},
	{"alter role a password e'x\\'y' valid until 'infinity'; alter role b password u&'x'",
	 "alter role a password e'****' valid until 'infinity'; alter role b password u&'****'"},
	{"select n'password=abc'", "select n'password=****'"},
	/* what the detectors leave must read as the token it was */
	{"select E'password=abc\\'def' as x", "select E'****' as x"},
	{"select 1 /* password=abc*/ + 2", "select 1 /* **** */ + 2"},
	/* unreadable by the scanner: kept up to the credential word */
	{"ALTER ROLE x PASSWORD 'unterminated", "ALTER ROLE x PASSWORD ****"},
};

static void test_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const case_t *c = &cases[i];
		size_t len = 0;
		char *r = redact_statement(c->in, strlen(c->in), &len);
		if ((c->out == NULL) != (r == NULL) || (r && (strcmp(r, c->out) != 0 || len != strlen(r)))) {
			fprintf(stderr, "case %zu: %s\n  got [%s]\n  want [%s]\n", i, c->in, r ? r : "(as sent)",
				c->out ? c->out : "(as sent)");
			fail();
		}
		free(r);
	}
}

/* What is recorded parses, and decides as what was sent: `warden policy test` replays it. */
static void test_recorded_classifies_alike(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const case_t *c = &cases[i];
		if (!c->out || strstr(c->in, "unterminated"))
			continue;
		sql_class *a = sqlclass_classify(c->in, strlen(c->in));
		sql_class *b = sqlclass_classify(c->out, strlen(c->out));
		assert_non_null(a);
		assert_non_null(b);
		if (a->n != b->n || a->kinds != b->kinds || a->flags != b->flags) {
			fprintf(stderr, "case %zu: %s classifies apart from what is recorded\n", i, c->in);
			fail();
		}
		for (size_t k = 0; k < a->n; k++) {
			assert_string_equal(a->stmts[k].command ? a->stmts[k].command : "",
					    b->stmts[k].command ? b->stmts[k].command : "");
			assert_int_equal(a->stmts[k].n_objects, b->stmts[k].n_objects);
			assert_int_equal(a->stmts[k].n_functions, b->stmts[k].n_functions);
		}
		sqlclass_free(a);
		sqlclass_free(b);
	}
}

/* Not NUL-terminated: what is read is text[0, len) alone. */
static void test_length_bound(void **state)
{
	(void)state;
	const char full[] = "ALTER ROLE x PASSWORD 'abc'; ALTER ROLE y PASSWORD 'def'";
	size_t cut = strlen("ALTER ROLE x PASSWORD 'abc'");
	char *buf = malloc(cut); /* no NUL: ASan sees a read past it */
	memcpy(buf, full, cut);
	size_t len = 0;
	char *r = redact_statement(buf, cut, &len);
	assert_non_null(r);
	assert_string_equal(r, "ALTER ROLE x PASSWORD '****'");
	free(r);
	free(buf);
	assert_null(redact_statement("", 0, &len));
	assert_null(redact_statement(NULL, 0, &len));
}

static void test_params(void **state)
{
	(void)state;
	assert_null(redact_params("[\"bob\",null,{\"hex\":\"0001\"},\"42\"]"));
	char *r = redact_params("[\"bob\",\"postgres://u:pw12345@h/db\",null,\"Bearer abcdef0123456789abcdef\"]");
	assert_non_null(r);
	assert_string_equal(r, "[\"bob\",\"postgres://u:****@h/db\",null,\"Bearer ****\"]");
	free(r);
	/* a key split over an escape is read as the value it is */
	r = redact_params("[\"-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\\n-----END PRIVATE KEY-----\"]");
	assert_non_null(r);
	assert_null(strstr(r, "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7"));
	free(r);
	assert_null(redact_params("not json"));
	assert_null(redact_params(NULL));
}

static void test_text(void **state)
{
	(void)state;
	const char *m = "invalid input syntax for type integer: \"AKIAIOSFODNN7EXAMPLE\"";
	char *r = redact_text(m, strlen(m));
	assert_non_null(r);
	assert_string_equal(r, "invalid input syntax for type integer: \"****\"");
	free(r);
	m = "invalid input syntax for type integer: \"twelve\"";
	assert_null(redact_text(m, strlen(m)));
	assert_null(redact_text(NULL, 0));
}

static void *thread_main(void *arg)
{
	(void)arg;
	for (int k = 0; k < 200; k++) {
		size_t len;
		char *r = redact_statement("ALTER ROLE x PASSWORD 'pw' -- token=abc", 39, &len);
		if (!r || strstr(r, "'pw'")) {
			free(r);
			return (void *)1;
		}
		free(r);
	}
	return NULL; /* (libpg_query frees this thread's memory as it ends) */
}

/* Threads scan with their own scratches (ASan/TSan-clean under `make asan`). */
static void test_threads(void **state)
{
	(void)state;
	pthread_t t[4];
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, thread_main, NULL), 0);
	for (int i = 0; i < 4; i++) {
		void *rv;
		assert_int_equal(pthread_join(t[i], &rv), 0);
		assert_null(rv);
	}
}

int main(void)
{
	char err[256];
	if (redact_init(err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_recorded_classifies_alike),
		cmocka_unit_test(test_length_bound),
		cmocka_unit_test(test_params),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_threads),
	};
	int failed = cmocka_run_group_tests_name("redact", tests, NULL, NULL);
	redact_free();
	pg_query_exit();
	return failed;
}
