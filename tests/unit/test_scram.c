/*
 * Unit tests for src/proto/pg/scram.c: the RFC 7677 SCRAM-SHA-256 vector,
 * PostgreSQL's empty-username client-first, rejection of hostile or malformed
 * server messages, and the PostgreSQL MD5 password hash.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto/pg/scram.h"

#define RFC_NONCE "rOprNGfwEbeRWgbNEkqO"
#define RFC_SERVER_NONCE RFC_NONCE "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
#define RFC_SALT "W22ZaJ0SNY7soEsUEjb6gQ=="
#define RFC_SERVER_FIRST "r=" RFC_SERVER_NONCE ",s=" RFC_SALT ",i=4096"
#define RFC_CLIENT_FINAL \
	"c=biws,r=" RFC_SERVER_NONCE ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
#define RFC_SERVER_FINAL "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="

/* A heap copy of exactly len bytes, no NUL: ASan catches any read past len. */
static char *exact(const char *s, size_t len)
{
	char *p = malloc(len ? len : 1);
	assert_non_null(p);
	memcpy(p, s, len);
	return p;
}

/* init + client-first with the RFC nonce (and RFC username if rfc_user). */
static void start(scram_client *c, int rfc_user)
{
	char out[256];
	assert_int_equal(scram_client_init(c, "pencil", RFC_NONCE), 0);
	if (rfc_user)
		assert_int_equal(scram_client_set_username(c, "user"), 0);
	assert_true(scram_client_first(c, out, sizeof out) > 0);
}

/* Feeds server-first (as an exact-length buffer); returns scram_client_final's result. */
static int feed_first(scram_client *c, const char *msg, size_t len, char *err, size_t errlen)
{
	char out[512];
	char *buf = exact(msg, len);
	int n = scram_client_final(c, buf, len, out, sizeof out, err, errlen);
	free(buf);
	return n;
}

static void test_rfc7677_vector(void **state)
{
	scram_client c;
	char out[512], err[256] = "";
	assert_int_equal(scram_client_init(&c, "pencil", RFC_NONCE), 0);
	assert_int_equal(scram_client_set_username(&c, "user"), 0);
	int n = scram_client_first(&c, out, sizeof out);
	assert_int_equal(n, (int)strlen("n,,n=user,r=" RFC_NONCE));
	assert_string_equal(out, "n,,n=user,r=" RFC_NONCE);

	char *sf = exact(RFC_SERVER_FIRST, strlen(RFC_SERVER_FIRST));
	n = scram_client_final(&c, sf, strlen(RFC_SERVER_FIRST), out, sizeof out, err, sizeof err);
	free(sf);
	assert_int_equal(n, (int)strlen(RFC_CLIENT_FINAL));
	assert_memory_equal(out, RFC_CLIENT_FINAL, (size_t)n);

	char *sv = exact(RFC_SERVER_FINAL, strlen(RFC_SERVER_FINAL));
	int rc = scram_client_verify(&c, sv, strlen(RFC_SERVER_FINAL), err, sizeof err);
	free(sv);
	assert_int_equal(rc, 0);
	assert_int_equal(c.state, 3);
	scram_client_free(&c);
	assert_null(c.password);
}

static void test_pg_client_first_empty_user(void **state)
{
	scram_client c;
	char out[128];
	assert_int_equal(scram_client_init(&c, "pencil", RFC_NONCE), 0);
	int n = scram_client_first(&c, out, sizeof out);
	assert_string_equal(out, "n,,n=,r=" RFC_NONCE);
	assert_int_equal(n, (int)strlen(out));
	/* a second client-first is out of sequence */
	assert_int_equal(scram_client_first(&c, out, sizeof out), -1);
	scram_client_free(&c);
}

static void test_random_nonce(void **state)
{
	scram_client a, b;
	assert_int_equal(scram_client_init(&a, "pw", NULL), 0);
	assert_int_equal(scram_client_init(&b, "pw", NULL), 0);
	assert_int_equal(strlen(a.client_nonce), 24);
	for (size_t i = 0; i < 24; i++)
		assert_true(a.client_nonce[i] > 0x20 && a.client_nonce[i] < 0x7f &&
			    a.client_nonce[i] != ',');
	assert_string_not_equal(a.client_nonce, b.client_nonce);
	scram_client_free(&a);
	scram_client_free(&b);
}

static void test_bad_init_nonce(void **state)
{
	scram_client c;
	assert_int_equal(scram_client_init(&c, "pw", "a,b"), -1);
	scram_client_free(&c);
	assert_int_equal(scram_client_init(&c, "pw", ""), -1);
	scram_client_free(&c);
	assert_int_equal(scram_client_init(&c, "pw", "0123456789012345678901234567890123"), -1);
	scram_client_free(&c);
	assert_int_equal(scram_client_init(&c, NULL, "abc"), -1);
	scram_client_free(&c);
}

static void test_username_escaped(void **state)
{
	scram_client c;
	char out[128];
	assert_int_equal(scram_client_init(&c, "pw", "abc"), 0);
	assert_int_equal(scram_client_set_username(&c, "a,b=c"), 0);
	assert_true(scram_client_first(&c, out, sizeof out) > 0);
	assert_string_equal(out, "n,,n=a=2Cb=3Dc,r=abc");
	/* too late to change it */
	assert_int_equal(scram_client_set_username(&c, "x"), -1);
	scram_client_free(&c);
}

static void test_wrong_server_signature(void **state)
{
	scram_client c;
	char err[256] = "";
	start(&c, 1);
	assert_true(feed_first(&c, RFC_SERVER_FIRST, strlen(RFC_SERVER_FIRST), err, sizeof err) >
		    0);
	/* same length, valid base64, one byte differs */
	const char *bad = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95H4=";
	char *b = exact(bad, strlen(bad));
	assert_int_equal(scram_client_verify(&c, b, strlen(bad), err, sizeof err), -1);
	free(b);
	assert_non_null(strstr(err, "mismatch"));
	/* a failed client refuses to go on */
	b = exact(RFC_SERVER_FINAL, strlen(RFC_SERVER_FINAL));
	assert_int_equal(scram_client_verify(&c, b, strlen(RFC_SERVER_FINAL), err, sizeof err),
			 -1);
	free(b);
	scram_client_free(&c);

	/* the right signature for a different password is wrong too */
	assert_int_equal(scram_client_init(&c, "pencil2", RFC_NONCE), 0);
	assert_int_equal(scram_client_set_username(&c, "user"), 0);
	char out[128];
	assert_true(scram_client_first(&c, out, sizeof out) > 0);
	assert_true(feed_first(&c, RFC_SERVER_FIRST, strlen(RFC_SERVER_FIRST), err, sizeof err) >
		    0);
	b = exact(RFC_SERVER_FINAL, strlen(RFC_SERVER_FINAL));
	assert_int_equal(scram_client_verify(&c, b, strlen(RFC_SERVER_FINAL), err, sizeof err),
			 -1);
	free(b);
	scram_client_free(&c);
}

static void test_malformed_server_final(void **state)
{
	static const char *const bad[] = {
		"",
		"v=",
		"v",
		"x=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",
		"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4",   /* truncated */
		"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4==", /* too long */
		"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G*=",  /* bad char */
		"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G5=",  /* non-canonical */
		"v= rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",  /* whitespace */
		"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=,", /* trailing comma */
		"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=,,",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		scram_client c;
		char err[256] = "";
		start(&c, 1);
		assert_true(feed_first(&c, RFC_SERVER_FIRST, strlen(RFC_SERVER_FIRST), err,
				       sizeof err) > 0);
		char *b = exact(bad[i], strlen(bad[i]));
		int rc = scram_client_verify(&c, b, strlen(bad[i]), err, sizeof err);
		free(b);
		if (rc != -1)
			fail_msg("accepted server-final %zu: %s", i, bad[i]);
		assert_true(err[0] != '\0');
		scram_client_free(&c);
	}
	/* an embedded NUL before a valid signature's end */
	scram_client c;
	char err[256] = "";
	start(&c, 1);
	assert_true(feed_first(&c, RFC_SERVER_FIRST, strlen(RFC_SERVER_FIRST), err, sizeof err) >
		    0);
	char nul[sizeof RFC_SERVER_FINAL];
	memcpy(nul, RFC_SERVER_FINAL, sizeof nul);
	nul[10] = '\0';
	assert_int_equal(scram_client_verify(&c, nul, strlen(RFC_SERVER_FINAL), err, sizeof err),
			 -1);
	scram_client_free(&c);
}

static void test_server_final_extension_ignored(void **state)
{
	scram_client c;
	char err[256] = "";
	start(&c, 1);
	assert_true(feed_first(&c, RFC_SERVER_FIRST, strlen(RFC_SERVER_FIRST), err, sizeof err) >
		    0);
	const char *m = RFC_SERVER_FINAL ",x=whatever";
	char *b = exact(m, strlen(m));
	assert_int_equal(scram_client_verify(&c, b, strlen(m), err, sizeof err), 0);
	free(b);
	scram_client_free(&c);
}

static void test_server_error_surfaced(void **state)
{
	scram_client c;
	char err[256] = "";
	start(&c, 1);
	assert_true(feed_first(&c, RFC_SERVER_FIRST, strlen(RFC_SERVER_FIRST), err, sizeof err) >
		    0);
	const char *m = "e=invalid-proof";
	char *b = exact(m, strlen(m));
	assert_int_equal(scram_client_verify(&c, b, strlen(m), err, sizeof err), -1);
	free(b);
	assert_non_null(strstr(err, "invalid-proof"));
	scram_client_free(&c);

	/* control bytes in the server's text are not echoed raw */
	start(&c, 1);
	assert_true(feed_first(&c, RFC_SERVER_FIRST, strlen(RFC_SERVER_FIRST), err, sizeof err) >
		    0);
	const char ctl[] = "e=bad\x1b[2Jthing";
	b = exact(ctl, sizeof ctl - 1);
	assert_int_equal(scram_client_verify(&c, b, sizeof ctl - 1, err, sizeof err), -1);
	free(b);
	assert_null(strchr(err, '\x1b'));
	assert_non_null(strstr(err, "bad?[2Jthing"));
	scram_client_free(&c);

	/* e= in place of server-first is surfaced too */
	start(&c, 1);
	assert_int_equal(feed_first(&c, "e=other-error", 13, err, sizeof err), -1);
	assert_non_null(strstr(err, "other-error"));
	scram_client_free(&c);
}

static void test_nonce_must_extend_client_nonce(void **state)
{
	static const char *const bad[] = {
		/* unrelated nonce */
		"r=XOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=" RFC_SALT ",i=4096",
		/* exactly the client nonce: no server part */
		"r=" RFC_NONCE ",s=" RFC_SALT ",i=4096",
		/* a prefix of the client nonce */
		"r=rOprNGfwEb,s=" RFC_SALT ",i=4096",
		/* empty nonce */
		"r=,s=" RFC_SALT ",i=4096",
		/* client nonce in the middle */
		"r=xx" RFC_NONCE "yy,s=" RFC_SALT ",i=4096",
		/* unprintable server part */
		"r=" RFC_NONCE "ab\x7f,s=" RFC_SALT ",i=4096",
		"r=" RFC_NONCE "a b,s=" RFC_SALT ",i=4096",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		scram_client c;
		char err[256] = "";
		start(&c, 1);
		if (feed_first(&c, bad[i], strlen(bad[i]), err, sizeof err) != -1)
			fail_msg("accepted server-first %zu: %s", i, bad[i]);
		assert_non_null(strstr(err, "nonce"));
		scram_client_free(&c);
	}
}

static void test_malformed_server_first(void **state)
{
	static const char *const bad[] = {
		"",
		"r=" RFC_SERVER_NONCE ",i=4096",                         /* missing s= */
		"r=" RFC_SERVER_NONCE ",s=" RFC_SALT,                    /* missing i= */
		"r=" RFC_SERVER_NONCE ",i=4096,s=" RFC_SALT,             /* order */
		"s=" RFC_SALT ",r=" RFC_SERVER_NONCE ",i=4096",          /* order */
		"r=" RFC_SERVER_NONCE ",s=" RFC_SALT ",i=0",             /* i=0 */
		"r=" RFC_SERVER_NONCE ",s=" RFC_SALT ",i=",              /* empty i */
		"r=" RFC_SERVER_NONCE ",s=" RFC_SALT ",i=-1",
		"r=" RFC_SERVER_NONCE ",s=" RFC_SALT ",i=+4096",
		"r=" RFC_SERVER_NONCE ",s=" RFC_SALT ",i= 4096",
		"r=" RFC_SERVER_NONCE ",s=" RFC_SALT ",i=4096x",
		"r=" RFC_SERVER_NONCE ",s=" RFC_SALT ",i=abc",
		"r=" RFC_SERVER_NONCE ",s=" RFC_SALT ",i=10000001",      /* > 10M */
		"r=" RFC_SERVER_NONCE ",s=" RFC_SALT ",i=99999999999999999999999999",
		"r=" RFC_SERVER_NONCE ",s=W22ZaJ0SNY7soEsUEjb6gQ=,i=4096",  /* bad b64 len */
		"r=" RFC_SERVER_NONCE ",s=W22ZaJ0SNY7s*EsUEjb6gQ==,i=4096", /* bad b64 char */
		"r=" RFC_SERVER_NONCE ",s=W22ZaJ0SNY7s EsUEjb6gQ==,i=4096", /* whitespace */
		"r=" RFC_SERVER_NONCE ",s=W22ZaJ0S=Y7soEsUEjb6gQ==,i=4096", /* inner pad */
		"r=" RFC_SERVER_NONCE ",s=,i=4096",                      /* empty salt */
		"r=" RFC_SERVER_NONCE ",s====,i=4096",
		"r=" RFC_SERVER_NONCE ",s=A===,i=4096",
		"r=" RFC_SERVER_NONCE ",s=" RFC_SALT ",i=4096,",         /* trailing comma */
		"r=" RFC_SERVER_NONCE ",s=" RFC_SALT ",i=4096,,x=1",
		"r=" RFC_SERVER_NONCE ",s=" RFC_SALT ",i=4096,1=x",
		"m=ext,r=" RFC_SERVER_NONCE ",s=" RFC_SALT ",i=4096",    /* mandatory ext */
		"r" RFC_SERVER_NONCE ",s=" RFC_SALT ",i=4096",
		",r=" RFC_SERVER_NONCE ",s=" RFC_SALT ",i=4096",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		scram_client c;
		char err[256] = "";
		start(&c, 1);
		if (feed_first(&c, bad[i], strlen(bad[i]), err, sizeof err) != -1)
			fail_msg("accepted server-first %zu: %s", i, bad[i]);
		assert_true(err[0] != '\0');
		scram_client_free(&c);
	}

	/* specific messages for the cases an operator would want to tell apart */
	scram_client c;
	char err[256] = "";
	start(&c, 1);
	const char *big = "r=" RFC_SERVER_NONCE ",s=" RFC_SALT ",i=10000001";
	assert_int_equal(feed_first(&c, big, strlen(big), err, sizeof err), -1);
	assert_non_null(strstr(err, "iteration"));
	scram_client_free(&c);
	start(&c, 1);
	const char *mext = "m=ext,r=" RFC_SERVER_NONCE ",s=" RFC_SALT ",i=4096";
	assert_int_equal(feed_first(&c, mext, strlen(mext), err, sizeof err), -1);
	assert_non_null(strstr(err, "m="));
	scram_client_free(&c);

	/* an embedded NUL */
	start(&c, 1);
	char nul[sizeof RFC_SERVER_FIRST];
	memcpy(nul, RFC_SERVER_FIRST, sizeof nul);
	nul[sizeof nul - 4] = '\0';
	assert_int_equal(feed_first(&c, nul, sizeof nul - 1, err, sizeof err), -1);
	scram_client_free(&c);
}

/* Every truncation of the RFC server-first up to and including "i=" is rejected. */
static void test_truncated_server_first(void **state)
{
	size_t full = strlen(RFC_SERVER_FIRST);
	size_t last = full - strlen("4096"); /* prefixes shorter than this lack a count */
	for (size_t len = 0; len < last; len++) {
		scram_client c;
		char err[256] = "";
		start(&c, 1);
		if (feed_first(&c, RFC_SERVER_FIRST, len, err, sizeof err) != -1)
			fail_msg("accepted truncated server-first of %zu bytes", len);
		scram_client_free(&c);
	}
}

static void test_server_first_extension_ignored(void **state)
{
	scram_client c;
	char err[256] = "", out[512];
	start(&c, 1);
	const char *m = RFC_SERVER_FIRST ",x=ignored";
	char *b = exact(m, strlen(m));
	int n = scram_client_final(&c, b, strlen(m), out, sizeof out, err, sizeof err);
	free(b);
	assert_true(n > 0);
	scram_client_free(&c);
}

static void test_max_iterations_setting(void **state)
{
	scram_client c;
	char err[256] = "";
	start(&c, 1);
	scram_client_set_max_iterations(&c, 4095);
	assert_int_equal(feed_first(&c, RFC_SERVER_FIRST, strlen(RFC_SERVER_FIRST), err, sizeof err),
			 -1);
	assert_non_null(strstr(err, "4095"));
	scram_client_free(&c);

	start(&c, 1);
	scram_client_set_max_iterations(&c, 4096);
	assert_true(feed_first(&c, RFC_SERVER_FIRST, strlen(RFC_SERVER_FIRST), err, sizeof err) >
		    0);
	scram_client_free(&c);

	start(&c, 1);
	scram_client_set_max_iterations(&c, 4000000000u); /* clamped to the hard ceiling */
	assert_int_equal(c.max_iterations, SCRAM_MAX_ITERATIONS);
	scram_client_free(&c);
}

static void test_sequence_and_buffers(void **state)
{
	scram_client c;
	char out[512], err[256] = "";
	/* final before first */
	assert_int_equal(scram_client_init(&c, "pencil", RFC_NONCE), 0);
	assert_int_equal(scram_client_final(&c, RFC_SERVER_FIRST, strlen(RFC_SERVER_FIRST), out,
					    sizeof out, err, sizeof err),
			 -1);
	/* verify before final */
	assert_int_equal(scram_client_verify(&c, RFC_SERVER_FINAL, strlen(RFC_SERVER_FINAL), err,
					     sizeof err),
			 -1);
	/* client-first buffer too small, then big enough */
	assert_int_equal(scram_client_first(&c, out, 10), -1);
	assert_true(scram_client_first(&c, out, sizeof out) > 0);
	/* client-final buffer one byte short of the NUL */
	assert_int_equal(scram_client_final(&c, RFC_SERVER_FIRST, strlen(RFC_SERVER_FIRST), out,
					    strlen(RFC_CLIENT_FINAL), err, sizeof err),
			 -1);
	scram_client_free(&c);

	/* exact fit; NULL err is allowed */
	start(&c, 1);
	assert_int_equal(scram_client_final(&c, RFC_SERVER_FIRST, strlen(RFC_SERVER_FIRST), out,
					    strlen(RFC_CLIENT_FINAL) + 1, NULL, 0),
			 (int)strlen(RFC_CLIENT_FINAL));
	assert_string_equal(out, RFC_CLIENT_FINAL);
	assert_int_equal(scram_client_verify(&c, "e=x", 3, NULL, 0), -1);
	scram_client_free(&c);
	scram_client_free(NULL);
}

static void test_free_wipes(void **state)
{
	scram_client c;
	char err[256] = "";
	start(&c, 1);
	assert_true(feed_first(&c, RFC_SERVER_FIRST, strlen(RFC_SERVER_FIRST), err, sizeof err) >
		    0);
	scram_client_free(&c);
	static const unsigned char zero[32];
	assert_memory_equal(c.salted_password, zero, 32);
	assert_memory_equal(c.server_signature, zero, 32);
	assert_null(c.password);
	assert_null(c.server_first);
	assert_int_equal(c.client_nonce[0], 0);
}

static void test_md5_known_value(void **state)
{
	/*
	 * Derived independently with python3:
	 *   import hashlib
	 *   inner = hashlib.md5(b"secret" + b"app").hexdigest()
	 *   "md5" + hashlib.md5(inner.encode() + bytes([1, 2, 3, 4])).hexdigest()
	 *   -> 'md5911f527656472583a006e7727877b33e'
	 */
	static const unsigned char salt[4] = {1, 2, 3, 4};
	char out[36];
	assert_int_equal(pg_md5_password("app", "secret", salt, out), 0);
	assert_string_equal(out, "md5911f527656472583a006e7727877b33e");
	assert_int_equal(pg_md5_password(NULL, "secret", salt, out), -1);
	assert_int_equal(pg_md5_password("app", NULL, salt, out), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc7677_vector),
		cmocka_unit_test(test_pg_client_first_empty_user),
		cmocka_unit_test(test_random_nonce),
		cmocka_unit_test(test_bad_init_nonce),
		cmocka_unit_test(test_username_escaped),
		cmocka_unit_test(test_wrong_server_signature),
		cmocka_unit_test(test_malformed_server_final),
		cmocka_unit_test(test_server_final_extension_ignored),
		cmocka_unit_test(test_server_error_surfaced),
		cmocka_unit_test(test_nonce_must_extend_client_nonce),
		cmocka_unit_test(test_malformed_server_first),
		cmocka_unit_test(test_truncated_server_first),
		cmocka_unit_test(test_server_first_extension_ignored),
		cmocka_unit_test(test_max_iterations_setting),
		cmocka_unit_test(test_sequence_and_buffers),
		cmocka_unit_test(test_free_wipes),
		cmocka_unit_test(test_md5_known_value),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
