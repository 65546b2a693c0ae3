/*
 * scram.c — owns the client side of SCRAM-SHA-256 (RFC 5802 / RFC 7677) as
 * PostgreSQL speaks it, and PostgreSQL's legacy MD5 password hash.
 *
 * It builds client-first / client-final messages, parses the server-first and
 * server-final messages a target sends (hostile input: bounded by len, not
 * NUL-terminated, strictly validated), and checks the server signature in
 * constant time. It owns the secrets it derives and wipes them on free.
 * All crypto and base64 is OpenSSL 3: PKCS5_PBKDF2_HMAC, HMAC, EVP_Digest,
 * RAND_bytes, EVP_EncodeBlock / EVP_DecodeBlock, CRYPTO_memcmp,
 * OPENSSL_cleanse. It does no I/O and knows nothing of the wire protocol
 * framing (AuthenticationSASL* messages are unpacked by the caller).
 */
#include "proto/pg/scram.h"
#include "core/util.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#define KEY_LEN 32               /* SHA-256 output */
#define KEY_B64_LEN 44           /* base64 of 32 bytes, without NUL */
#define NONCE_RAW_LEN 18         /* -> 24 base64 chars, no padding */
#define MAX_SERVER_MSG 8192      /* real ones are ~100 bytes */
#define MAX_ERR_SHOWN 128        /* bytes of a server "e=" value we echo */

enum { ST_NEW = 0, ST_FIRST = 1, ST_FINAL = 2, ST_VERIFIED = 3, ST_FAILED = -1 };


/* Printable ASCII except ',' — what RFC 5802 allows in a nonce. */
static int nonce_char_ok(unsigned char ch)
{
	return ch >= 0x21 && ch <= 0x7e && ch != ',';
}

static int b64_char_ok(unsigned char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
	       (ch >= '0' && ch <= '9') || ch == '+' || ch == '/';
}

/*
 * Strict base64 (padded, no whitespace) of src[0..len) into dst, which must
 * hold len / 4 * 3 bytes (EVP_DecodeBlock writes whole groups). The validation
 * is ours because EVP_DecodeBlock skips whitespace, counts padding as output
 * bytes and ignores the unused bits before padding. Returns the decoded
 * length or -1.
 */
static int b64_decode(const char *src, size_t len, unsigned char *dst, size_t dstcap)
{
	if (len == 0 || len % 4 != 0 || len > MAX_SERVER_MSG)
		return -1;
	size_t pad = 0;
	if (src[len - 1] == '=') {
		pad++;
		if (src[len - 2] == '=')
			pad++;
	}
	for (size_t i = 0; i < len - pad; i++)
		if (!b64_char_ok((unsigned char)src[i]))
			return -1;
	size_t full = len / 4 * 3;
	if (full > dstcap)
		return -1;
	int n = EVP_DecodeBlock(dst, (const unsigned char *)src, (int)len);
	if (n < 0 || (size_t)n != full)
		return -1;
	/* Canonical only: re-encoding must give the input back (non-zero pad bits do not). */
	char *re = malloc(len + 1);
	if (!re)
		return -1;
	int m = EVP_EncodeBlock((unsigned char *)re, dst, (int)(full - pad));
	int same = m >= 0 && (size_t)m == len && memcmp(re, src, len) == 0;
	free(re);
	return same ? (int)(full - pad) : -1;
}

/* base64 of src[0..n) into dst (4 * ((n + 2) / 3) + 1 bytes, NUL-terminated). */
static int b64_encode(const unsigned char *src, size_t n, char *dst)
{
	return EVP_EncodeBlock((unsigned char *)dst, src, (int)n);
}

/*
 * One "<letter>=<value>" attribute of msg[*pos..len), advancing *pos past the
 * value and its trailing comma. Returns 1 with the attribute, 0 at the end of
 * the message, -1 if malformed (no letter, no '=', empty trailing attribute).
 */
static int next_attr(const char *msg, size_t len, size_t *pos, char *name, const char **val,
		     size_t *vlen)
{
	size_t p = *pos;
	if (p >= len)
		return 0;
	if (len - p < 2)
		return -1;
	unsigned char ch = (unsigned char)msg[p];
	if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')) || msg[p + 1] != '=')
		return -1;
	*name = (char)ch;
	p += 2;
	const char *comma = memchr(msg + p, ',', len - p);
	size_t end = comma ? (size_t)(comma - msg) : len;
	*val = msg + p;
	*vlen = end - p;
	if (comma) {
		if (end + 1 >= len)
			return -1; /* trailing comma */
		*pos = end + 1;
	} else {
		*pos = len;
	}
	return 1;
}

/* A server "e=" value, made printable and bounded, into err. */
static void server_error(char *err, size_t errlen, const char *val, size_t vlen)
{
	char shown[MAX_ERR_SHOWN + 1];
	size_t n = vlen < MAX_ERR_SHOWN ? vlen : MAX_ERR_SHOWN;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)val[i];
		shown[i] = (ch >= 0x20 && ch <= 0x7e) ? (char)ch : '?';
	}
	shown[n] = '\0';
	util_errf(err, errlen, "SCRAM server error: %s%s", shown, vlen > n ? "..." : "");
}

static char *dup_bytes(const char *s, size_t n)
{
	char *d = malloc(n + 1);
	if (!d)
		return NULL;
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

static void free_secret_str(char **s)
{
	if (*s) {
		OPENSSL_cleanse(*s, strlen(*s));
		free(*s);
		*s = NULL;
	}
}

int scram_client_init(scram_client *c, const char *password, const char *nonce)
{
	if (!c)
		return -1;
	memset(c, 0, sizeof *c);
	if (!password)
		return -1;
	if (strlen(password) > INT_MAX)
		return -1;
	if (nonce) {
		size_t n = strlen(nonce);
		if (n == 0 || n >= sizeof c->client_nonce)
			return -1;
		for (size_t i = 0; i < n; i++)
			if (!nonce_char_ok((unsigned char)nonce[i]))
				return -1;
		memcpy(c->client_nonce, nonce, n + 1);
	} else {
		unsigned char raw[NONCE_RAW_LEN];
		_Static_assert(4 * ((NONCE_RAW_LEN + 2) / 3) + 1 <= sizeof c->client_nonce,
			       "nonce buffer too small");
		if (RAND_bytes(raw, sizeof raw) != 1)
			return -1;
		b64_encode(raw, sizeof raw, c->client_nonce);
		OPENSSL_cleanse(raw, sizeof raw);
	}
	c->password = strdup(password);
	if (!c->password) {
		OPENSSL_cleanse(c->client_nonce, sizeof c->client_nonce);
		return -1;
	}
	c->state = ST_NEW;
	return 0;
}

int scram_client_set_username(scram_client *c, const char *user)
{
	if (!c || c->state != ST_NEW)
		return -1;
	free(c->username);
	c->username = NULL;
	if (!user || !*user)
		return 0;
	size_t n = strlen(user);
	if (n > MAX_SERVER_MSG)
		return -1;
	char *esc = malloc(3 * n + 1);
	if (!esc)
		return -1;
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		if (user[i] == ',') {
			memcpy(esc + o, "=2C", 3);
			o += 3;
		} else if (user[i] == '=') {
			memcpy(esc + o, "=3D", 3);
			o += 3;
		} else {
			esc[o++] = user[i];
		}
	}
	esc[o] = '\0';
	c->username = esc;
	return 0;
}

void scram_client_set_max_iterations(scram_client *c, unsigned max_iterations)
{
	if (!c)
		return;
	c->max_iterations =
		max_iterations > SCRAM_MAX_ITERATIONS ? SCRAM_MAX_ITERATIONS : max_iterations;
}

int scram_client_first(scram_client *c, char *out, size_t outlen)
{
	if (!c || !out || c->state != ST_NEW)
		return -1;
	const char *user = c->username ? c->username : "";
	size_t ulen = strlen(user), nlen = strlen(c->client_nonce);
	/* "n=" user ",r=" nonce */
	size_t bare_len = 2 + ulen + 3 + nlen;
	if (outlen < 3 + bare_len + 1 || 3 + bare_len > INT_MAX)
		return -1;
	char *bare = malloc(bare_len + 1);
	if (!bare)
		return -1;
	size_t o = 0;
	memcpy(bare + o, "n=", 2);
	o += 2;
	memcpy(bare + o, user, ulen);
	o += ulen;
	memcpy(bare + o, ",r=", 3);
	o += 3;
	memcpy(bare + o, c->client_nonce, nlen);
	o += nlen;
	bare[o] = '\0';

	memcpy(out, "n,,", 3);
	memcpy(out + 3, bare, bare_len + 1);
	free(c->client_first_bare);
	c->client_first_bare = bare;
	c->state = ST_FIRST;
	return (int)(3 + bare_len);
}

/* Digits only, 1..max; returns the count or 0 if invalid / out of range. */
static unsigned long parse_iterations(const char *v, size_t n, unsigned long max, int *too_big)
{
	*too_big = 0;
	if (n == 0)
		return 0;
	unsigned long val = 0;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return 0;
		val = val * 10 + (unsigned long)(v[i] - '0');
		if (val > max) {
			*too_big = 1;
			return 0;
		}
	}
	return val;
}

/*
 * The proof and signatures for the stored messages and salted password:
 * fills proof[] and c->server_signature. Returns 0 or -1.
 */
static int compute_proof(scram_client *c, unsigned char proof[KEY_LEN])
{
	int rc = -1;
	unsigned char client_key[KEY_LEN], stored_key[KEY_LEN], client_sig[KEY_LEN],
		server_key[KEY_LEN];
	unsigned int mdlen = 0;
	size_t l1 = strlen(c->client_first_bare), l2 = strlen(c->server_first),
	       l3 = strlen(c->client_final_without_proof);
	size_t auth_len = l1 + 1 + l2 + 1 + l3;
	char *auth = malloc(auth_len + 1);
	if (!auth)
		return -1;
	memcpy(auth, c->client_first_bare, l1);
	auth[l1] = ',';
	memcpy(auth + l1 + 1, c->server_first, l2);
	auth[l1 + 1 + l2] = ',';
	memcpy(auth + l1 + 1 + l2 + 1, c->client_final_without_proof, l3);
	auth[auth_len] = '\0';

	static const char ck[] = "Client Key", sk[] = "Server Key";
	if (!HMAC(EVP_sha256(), c->salted_password, KEY_LEN, (const unsigned char *)ck,
		  sizeof ck - 1, client_key, &mdlen) || mdlen != KEY_LEN)
		goto out;
	if (EVP_Digest(client_key, KEY_LEN, stored_key, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != KEY_LEN)
		goto out;
	if (!HMAC(EVP_sha256(), stored_key, KEY_LEN, (const unsigned char *)auth, auth_len,
		  client_sig, &mdlen) || mdlen != KEY_LEN)
		goto out;
	for (size_t i = 0; i < KEY_LEN; i++)
		proof[i] = client_key[i] ^ client_sig[i];
	if (!HMAC(EVP_sha256(), c->salted_password, KEY_LEN, (const unsigned char *)sk,
		  sizeof sk - 1, server_key, &mdlen) || mdlen != KEY_LEN)
		goto out;
	if (!HMAC(EVP_sha256(), server_key, KEY_LEN, (const unsigned char *)auth, auth_len,
		  c->server_signature, &mdlen) || mdlen != KEY_LEN)
		goto out;
	rc = 0;
out:
	OPENSSL_cleanse(client_key, sizeof client_key);
	OPENSSL_cleanse(stored_key, sizeof stored_key);
	OPENSSL_cleanse(client_sig, sizeof client_sig);
	OPENSSL_cleanse(server_key, sizeof server_key);
	free(auth);
	return rc;
}

int scram_client_final(scram_client *c, const char *server_first, size_t len, char *out,
		       size_t outlen, char *err, size_t errlen)
{
	if (!c || c->state != ST_FIRST) {
		util_errf(err, errlen, "SCRAM: server-first-message out of sequence");
		return -1;
	}
	c->state = ST_FAILED; /* until we succeed */
	if (!server_first || !out) {
		util_errf(err, errlen, "SCRAM: missing buffer");
		return -1;
	}
	if (len == 0 || len > MAX_SERVER_MSG || memchr(server_first, '\0', len)) {
		util_errf(err, errlen, "SCRAM: malformed server-first-message");
		return -1;
	}

	size_t pos = 0, vlen = 0;
	const char *val = NULL;
	char name = 0;
	int r = next_attr(server_first, len, &pos, &name, &val, &vlen);
	if (r == 1 && name == 'e') {
		server_error(err, errlen, val, vlen);
		return -1;
	}
	if (r == 1 && name == 'm') {
		util_errf(err, errlen, "SCRAM: server requires an unsupported extension (m=)");
		return -1;
	}
	if (r != 1 || name != 'r') {
		util_errf(err, errlen, "SCRAM: malformed server-first-message (expected r=)");
		return -1;
	}
	const char *nonce = val;
	size_t nonce_len = vlen, cn_len = strlen(c->client_nonce);
	if (nonce_len <= cn_len || memcmp(nonce, c->client_nonce, cn_len) != 0) {
		util_errf(err, errlen, "SCRAM: server nonce does not extend the client nonce");
		return -1;
	}
	for (size_t i = 0; i < nonce_len; i++)
		if (!nonce_char_ok((unsigned char)nonce[i])) {
			util_errf(err, errlen, "SCRAM: invalid character in server nonce");
			return -1;
		}

	r = next_attr(server_first, len, &pos, &name, &val, &vlen);
	if (r != 1 || name != 's') {
		util_errf(err, errlen, "SCRAM: malformed server-first-message (expected s=)");
		return -1;
	}
	size_t salt_cap = vlen / 4 * 3;
	unsigned char *salt = malloc(salt_cap ? salt_cap : 1);
	if (!salt) {
		util_errf(err, errlen, "SCRAM: out of memory");
		return -1;
	}
	int salt_len = b64_decode(val, vlen, salt, salt_cap);
	if (salt_len <= 0) {
		free(salt);
		util_errf(err, errlen, "SCRAM: invalid salt (bad base64)");
		return -1;
	}

	r = next_attr(server_first, len, &pos, &name, &val, &vlen);
	if (r != 1 || name != 'i') {
		free(salt);
		util_errf(err, errlen, "SCRAM: malformed server-first-message (expected i=)");
		return -1;
	}
	unsigned long max = c->max_iterations ? c->max_iterations : SCRAM_MAX_ITERATIONS;
	int too_big = 0;
	unsigned long iters = parse_iterations(val, vlen, max, &too_big);
	if (iters == 0) {
		free(salt);
		if (too_big)
			util_errf(err, errlen, "SCRAM: iteration count exceeds the limit of %lu", max);
		else
			util_errf(err, errlen, "SCRAM: invalid iteration count");
		return -1;
	}
	/* Optional extensions follow; they must be well-formed, their content is ignored. */
	while ((r = next_attr(server_first, len, &pos, &name, &val, &vlen)) == 1)
		;
	if (r < 0) {
		free(salt);
		util_errf(err, errlen, "SCRAM: malformed server-first-message");
		return -1;
	}

	/* "c=biws,r=" nonce ",p=" base64(proof) */
	size_t cfwp_len = 9 + nonce_len;
	size_t total = cfwp_len + 3 + KEY_B64_LEN;
	if (outlen < total + 1) {
		free(salt);
		util_errf(err, errlen, "SCRAM: output buffer too small");
		return -1;
	}
	free(c->server_first);
	free(c->client_final_without_proof);
	c->server_first = dup_bytes(server_first, len);
	c->client_final_without_proof = malloc(cfwp_len + 1);
	if (!c->server_first || !c->client_final_without_proof) {
		free(salt);
		util_errf(err, errlen, "SCRAM: out of memory");
		return -1;
	}
	memcpy(c->client_final_without_proof, "c=biws,r=", 9);
	memcpy(c->client_final_without_proof + 9, nonce, nonce_len);
	c->client_final_without_proof[cfwp_len] = '\0';

	int ok = PKCS5_PBKDF2_HMAC(c->password, (int)strlen(c->password), salt, salt_len,
				   (int)iters, EVP_sha256(), KEY_LEN, c->salted_password);
	free(salt);
	if (ok != 1) {
		util_errf(err, errlen, "SCRAM: PBKDF2 failed");
		return -1;
	}
	unsigned char proof[KEY_LEN];
	if (compute_proof(c, proof) != 0) {
		OPENSSL_cleanse(proof, sizeof proof);
		util_errf(err, errlen, "SCRAM: HMAC failed");
		return -1;
	}
	memcpy(out, c->client_final_without_proof, cfwp_len);
	memcpy(out + cfwp_len, ",p=", 3);
	char b64[KEY_B64_LEN + 1];
	b64_encode(proof, KEY_LEN, b64);
	memcpy(out + cfwp_len + 3, b64, KEY_B64_LEN);
	out[total] = '\0';
	OPENSSL_cleanse(proof, sizeof proof);
	OPENSSL_cleanse(b64, sizeof b64);
	c->state = ST_FINAL;
	return (int)total;
}

int scram_client_verify(scram_client *c, const char *server_final, size_t len, char *err,
			size_t errlen)
{
	if (!c || c->state != ST_FINAL) {
		util_errf(err, errlen, "SCRAM: server-final-message out of sequence");
		return -1;
	}
	c->state = ST_FAILED;
	if (!server_final || len == 0 || len > MAX_SERVER_MSG ||
	    memchr(server_final, '\0', len)) {
		util_errf(err, errlen, "SCRAM: malformed server-final-message");
		return -1;
	}
	size_t pos = 0, vlen = 0;
	const char *val = NULL;
	char name = 0;
	int r = next_attr(server_final, len, &pos, &name, &val, &vlen);
	if (r == 1 && name == 'e') {
		server_error(err, errlen, val, vlen);
		return -1;
	}
	if (r != 1 || name != 'v') {
		util_errf(err, errlen, "SCRAM: malformed server-final-message (expected v=)");
		return -1;
	}
	unsigned char sig[KEY_LEN + 1]; /* 44 base64 chars decode to 33 with padding */
	int n = vlen == KEY_B64_LEN ? b64_decode(val, vlen, sig, sizeof sig) : -1;
	if (n != KEY_LEN) {
		util_errf(err, errlen, "SCRAM: malformed server signature");
		return -1;
	}
	while ((r = next_attr(server_final, len, &pos, &name, &val, &vlen)) == 1)
		;
	if (r < 0) {
		util_errf(err, errlen, "SCRAM: malformed server-final-message");
		return -1;
	}
	if (CRYPTO_memcmp(sig, c->server_signature, KEY_LEN) != 0) {
		util_errf(err, errlen, "SCRAM: server signature mismatch (server did not prove "
				     "knowledge of the password)");
		return -1;
	}
	c->state = ST_VERIFIED;
	return 0;
}

void scram_client_free(scram_client *c)
{
	if (!c)
		return;
	free_secret_str(&c->password);
	free_secret_str(&c->client_first_bare);
	free_secret_str(&c->server_first);
	free_secret_str(&c->client_final_without_proof);
	free_secret_str(&c->username);
	OPENSSL_cleanse(c, sizeof *c);
}

static void hex32(const unsigned char md[16], char out[33])
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < 16; i++) {
		out[2 * i] = digits[md[i] >> 4];
		out[2 * i + 1] = digits[md[i] & 0x0f];
	}
	out[32] = '\0';
}

int pg_md5_password(const char *user, const char *password, const unsigned char salt[4],
		    char out[36])
{
	if (!out)
		return -1;
	out[0] = '\0';
	if (!user || !password || !salt)
		return -1;
	int rc = -1;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char inner_hex[33];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx)
		return -1;
	if (EVP_DigestInit_ex(ctx, EVP_md5(), NULL) != 1 ||
	    EVP_DigestUpdate(ctx, password, strlen(password)) != 1 ||
	    EVP_DigestUpdate(ctx, user, strlen(user)) != 1 ||
	    EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != 16)
		goto out;
	hex32(md, inner_hex);
	if (EVP_DigestInit_ex(ctx, EVP_md5(), NULL) != 1 ||
	    EVP_DigestUpdate(ctx, inner_hex, 32) != 1 || EVP_DigestUpdate(ctx, salt, 4) != 1 ||
	    EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != 16)
		goto out;
	memcpy(out, "md5", 3);
	hex32(md, out + 3);
	rc = 0;
out:
	OPENSSL_cleanse(md, sizeof md);
	OPENSSL_cleanse(inner_hex, sizeof inner_hex);
	EVP_MD_CTX_free(ctx);
	return rc;
}
