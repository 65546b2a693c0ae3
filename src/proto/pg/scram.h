/*
 * scram — the client side of SCRAM-SHA-256 (RFC 5802, RFC 7677) as PostgreSQL
 * speaks it, plus the legacy MD5 password hash. warden uses these to log in to
 * targets with the credentials it keeps; clients never see them.
 *
 * Channel binding is not used (gs2 header "n,,"), which PostgreSQL accepts
 * for SCRAM-SHA-256 (not -PLUS) over plain and TLS connections alike.
 * All crypto is OpenSSL (PBKDF2-HMAC-SHA256, HMAC, SHA-256, RAND_bytes).
 */
#ifndef WARDEN_PG_SCRAM_H
#define WARDEN_PG_SCRAM_H

#include <stddef.h>

typedef struct scram_client {
	char *password;         /* SASLprep is not applied: ASCII passwords as-is */
	char client_nonce[32];  /* base64 of 18 random bytes, NUL-terminated */
	char *client_first_bare;
	char *server_first;
	char *client_final_without_proof;
	unsigned char salted_password[32];
	unsigned char server_signature[32];
	int state;              /* 0 new, 1 first sent, 2 final sent, 3 verified,
				   -1 failed (any later call is refused) */
	char *username;         /* saslname-escaped; NULL means empty (PostgreSQL) */
	unsigned max_iterations; /* 0 means SCRAM_MAX_ITERATIONS */
} scram_client;

/* Refuse server-first iteration counts above this (CPU DoS from a hostile target). */
#define SCRAM_MAX_ITERATIONS 10000000u

/*
 * Returns 0 or -1. nonce may be NULL (random) or a fixed string for tests
 * (1..31 printable ASCII characters, no ','). c is zeroed first, so
 * scram_client_free is safe after a failed init.
 */
int scram_client_init(scram_client *c, const char *password, const char *nonce)
	__attribute__((warn_unused_result));

/*
 * Optional, after init and before scram_client_first: the username sent in
 * client-first ("n=<user>", ',' and '=' escaped as RFC 5802 requires).
 * PostgreSQL ignores it, so warden leaves it empty; tests use it to reproduce
 * the RFC 7677 vector. Returns 0 or -1.
 */
int scram_client_set_username(scram_client *c, const char *user)
	__attribute__((warn_unused_result));

/*
 * Optional, before scram_client_final: lower the iteration-count ceiling
 * (0 restores SCRAM_MAX_ITERATIONS; values above it are clamped to it).
 */
void scram_client_set_max_iterations(scram_client *c, unsigned max_iterations);

/* client-first-message ("n,,n=,r=<nonce>") into out; returns its length or -1. */
int scram_client_first(scram_client *c, char *out, size_t outlen)
	__attribute__((warn_unused_result));

/*
 * Consumes server-first-message (r=...,s=...,i=...), writes client-final-message.
 * Returns its length, or -1 with a reason in err (bad nonce, bad iteration
 * count, malformed message).
 */
int scram_client_final(scram_client *c, const char *server_first, size_t len,
		       char *out, size_t outlen, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/*
 * Checks server-final-message (v=...). Returns 0 if the server proved itself;
 * otherwise -1 with a reason in err (signature mismatch, malformed message,
 * or "SCRAM server error: <text>" for an e= reply).
 */
int scram_client_verify(scram_client *c, const char *server_final, size_t len,
			char *err, size_t errlen) __attribute__((warn_unused_result));

void scram_client_free(scram_client *c);

/*
 * PostgreSQL MD5 password: "md5" + hex(md5(hex(md5(password || user)) || salt)).
 * out must hold 36 bytes (35 + NUL).
 */
int pg_md5_password(const char *user, const char *password, const unsigned char salt[4],
		    char out[36]) __attribute__((warn_unused_result));

#endif
