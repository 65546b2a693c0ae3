/*
 * libFuzzer target for src/proto/pg/scram.c: the input is what a hostile
 * target could send. Up to the first '\n' it is the server-first-message,
 * the rest the server-final-message, fed to a fresh client with a fixed
 * nonce ("fuzznonce") so inputs can extend it and reach the later stages.
 * Iterations are capped low through scram_client_set_max_iterations so PBKDF2
 * does not dominate. Each message is copied to an exact-size heap buffer (no
 * NUL) so ASan flags any read past len. The input also drives pg_md5_password.
 *
 * Seed: printf 'r=fuzznonceXYZ,s=QUJDRA==,i=1\nv=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/pg/scram.h"

#define FUZZ_NONCE "fuzznonce"
#define FUZZ_MAX_ITERATIONS 512

static char *exact(const uint8_t *p, size_t n)
{
	char *b = malloc(n ? n : 1);
	if (b && n)
		memcpy(b, p, n);
	return b;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t first_len = nl ? (size_t)(nl - data) : size;
	const uint8_t *final = nl ? nl + 1 : NULL;
	size_t final_len = nl ? size - first_len - 1 : 0;

	scram_client c;
	char out[1024], err[256];
	if (scram_client_init(&c, "pencil", FUZZ_NONCE) != 0)
		abort();
	scram_client_set_max_iterations(&c, FUZZ_MAX_ITERATIONS);
	if (scram_client_first(&c, out, sizeof out) <= 0)
		abort();

	char *sf = exact(data, first_len);
	if (!sf)
		goto done;
	memset(err, 'X', sizeof err);
	int n = scram_client_final(&c, sf, first_len, out, sizeof out, err, sizeof err);
	free(sf);
	if (n > 0) {
		if ((size_t)n >= sizeof out || out[n] != '\0' ||
		    memcmp(out, "c=biws,r=" FUZZ_NONCE, 18) != 0)
			abort();
		if (final) {
			char *sv = exact(final, final_len);
			if (sv) {
				int rc = scram_client_verify(&c, sv, final_len, err, sizeof err);
				/* the signature is an HMAC: a fuzzer cannot guess it */
				if (rc == 0 && c.state != 3)
					abort();
				free(sv);
			}
		}
	} else if (memchr(err, '\0', sizeof err) == NULL || err[0] == '\0') {
		abort(); /* a failure always explains itself, NUL-terminated */
	}
done:
	scram_client_free(&c);

	/* MD5: first 63 bytes as user, next 63 as password (each ends at any NUL). */
	char user[64], pw[64];
	size_t ul = size < sizeof user - 1 ? size : sizeof user - 1;
	memcpy(user, data, ul);
	user[ul] = '\0';
	size_t rest = size - ul;
	size_t pl = rest < sizeof pw - 1 ? rest : sizeof pw - 1;
	memcpy(pw, data + ul, pl);
	pw[pl] = '\0';
	static const unsigned char salt[4] = {1, 2, 3, 4};
	char md5[36];
	if (pg_md5_password(user, pw, salt, md5) == 0 &&
	    (strlen(md5) != 35 || memcmp(md5, "md5", 3) != 0))
		abort();
	return 0;
}
