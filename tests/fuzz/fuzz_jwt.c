/*
 * libFuzzer target for src/identity/jwt.c. The input is a token and a JWKS,
 * split at the first 0x00 byte (no 0x00: all token, no keyset). The JWKS is
 * parsed, then the token is peeked and verified against it with a fixed
 * policy (issuer https://idp.example.com, audience warden, now 1795636800).
 * Both halves are copied to exact-size heap buffers (no NUL) so ASan flags any
 * read past len.
 *
 * Seeds in tests/fuzz/corpus/fuzz_jwt/ are valid EdDSA, ES256 and RS256 tokens
 * followed by 0x00 and their JWKS, so mutations start from the full path
 * (signature verified, claims checked).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "identity/jwt.h"

static char *exact(const uint8_t *p, size_t n)
{
	char *b = malloc(n ? n : 1);
	if (b && n)
		memcpy(b, p, n);
	return b;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t toklen = nul ? (size_t)(nul - data) : size;
	char *token = exact(data, toklen);
	char *jwks = nul ? exact(nul + 1, size - toklen - 1) : NULL;
	if (!token || (nul && !jwks))
		goto out;

	char err[256];
	jwt_keyset *ks = NULL;
	if (jwks) {
		ks = jwt_keyset_parse(jwks, size - toklen - 1, err, sizeof(err));
		if (ks)
			(void)jwt_keyset_has_kid(ks, "ed1");
	}

	char kid[JWT_KID_MAX];
	if (jwt_peek_kid(token, toklen, kid, sizeof(kid)) == 0)
		(void)jwt_keyset_has_kid(ks, kid);

	const jwt_policy policy = {
		.issuer = "https://idp.example.com",
		.audience = "warden",
		.leeway_s = 30,
		.now = INT64_C(1795636800),
	};
	jwt_identity id;
	jwt_status st = jwt_verify(token, toklen, ks, &policy, &id, err, sizeof(err));
	if (st == JWT_OK) {
		/* touch everything handed back */
		size_t total = strlen(id.username);
		for (size_t i = 0; i < id.n_groups; i++)
			total += strlen(id.groups[i]);
		if (id.subject)
			total += strlen(id.subject);
		if (total == SIZE_MAX)
			abort();
		jwt_identity_free(&id);
	}
	(void)jwt_status_name(st);
	jwt_keyset_free(ks);
out:
	free(token);
	free(jwks);
	return 0;
}
