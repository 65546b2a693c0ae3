/*
 * jwt — owns JWKS parsing into EVP_PKEYs and the verification of JWS-compact
 * OIDC tokens against them (see jwt.h for the contract).
 *
 * What this file owns:
 *  - base64url decoding: the alphabet and the no-padding / canonical-encoding
 *    rules are checked here, the decoding itself is OpenSSL's EVP_DecodeBlock,
 *    and the result is re-encoded with EVP_EncodeBlock and compared, so one
 *    signature has exactly one accepted spelling;
 *  - building public keys from JWK members with OSSL_PARAM_BLD +
 *    EVP_PKEY_fromdata, then EVP_PKEY_public_check;
 *  - the algorithm/key binding (RS256-RSA, ES256-P-256, EdDSA-Ed25519) and the
 *    JOSE r||s -> DER conversion for ECDSA;
 *  - claim checks (iss, aud, exp, nbf, iat) and the username/groups extraction.
 *
 * Invariants: a keyset never changes after jwt_keyset_parse returns; every
 * JSON document is parsed by jansson with duplicate keys rejected (two "iss"
 * members must not mean different things to different parsers); the payload
 * is parsed only after its signature verified; error text quotes untrusted
 * strings escaped and cut to 64 bytes and never includes the token itself.
 */
#include "identity/jwt.h"
#include "core/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#define RSA_MIN_BITS 2048
#define RSA_MAX_BITS 8192
#define RSA_MAX_EXPONENT_BITS 64
#define QUOTE_MAX_INPUT 64
#define QUOTE_BUF (QUOTE_MAX_INPUT * 4 + 8)
#define ALG_NAME_MAX 32

typedef enum { KEY_RSA, KEY_EC_P256, KEY_ED25519 } key_type;

typedef struct jwt_key {
	char kid[JWT_KID_MAX];
	int has_kid;
	char alg[ALG_NAME_MAX]; /* the JWK "alg" member, "" when absent */
	key_type type;
	int bits;
	EVP_PKEY *pkey;
} jwt_key;

struct jwt_keyset {
	size_t n;
	EVP_MD *sha256; /* fetched once: an implicit fetch per verification is measurable */
	jwt_key keys[JWT_MAX_KEYS];
};

typedef struct span {
	const char *p;
	size_t n;
} span;

/* ---- error text ------------------------------------------------------- */


/*
 * Writes "<escaped>" for an untrusted string: printable ASCII other than '"'
 * and '\' as is, every other byte as \xNN, at most QUOTE_MAX_INPUT input bytes
 * then "...". dst must hold QUOTE_BUF bytes.
 */
static void quote(char dst[QUOTE_BUF], const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	dst[o++] = '"';
	for (size_t i = 0; i < n && i < QUOTE_MAX_INPUT; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
			dst[o++] = (char)c;
		} else {
			dst[o++] = '\\';
			dst[o++] = 'x';
			dst[o++] = hex[c >> 4];
			dst[o++] = hex[c & 15];
		}
	}
	dst[o++] = '"';
	if (n > QUOTE_MAX_INPUT) {
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	dst[o] = '\0';
}

static void quote_json_string(char dst[QUOTE_BUF], const json_t *s)
{
	quote(dst, json_string_value(s), json_string_length(s));
}

/* ISO 8601 UTC, or "@<seconds>" when the value is outside what gmtime handles. */
static void format_time(char *buf, size_t n, int64_t t)
{
	struct tm tm;
	time_t tt = (time_t)t;
	if ((int64_t)tt == t && gmtime_r(&tt, &tm) && strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm) > 0)
		return;
	snprintf(buf, n, "@%lld", (long long)t);
}

/* ---- base64url -------------------------------------------------------- */

static int is_b64url(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

/*
 * Decodes unpadded base64url into a fresh heap buffer (never NULL on success,
 * even for empty input). Refuses '=', any byte outside the alphabet, a length
 * of 1 mod 4, and non-canonical trailing bits. what names the input in err.
 */
__attribute__((warn_unused_result)) static int b64url_decode(const char *in, size_t n, const char *what,
							     unsigned char **out, size_t *outlen,
							     char *err, size_t errlen)
{
	*out = NULL;
	*outlen = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c == '=') {
			util_errf(err, errlen, "%s has base64 padding ('='), which base64url here does not allow",
				what);
			return -1;
		}
		if (!is_b64url(c)) {
			util_errf(err, errlen, "%s has a byte that is not base64url (0x%02x at offset %zu)", what, c,
				i);
			return -1;
		}
	}
	if (n % 4 == 1) {
		util_errf(err, errlen, "%s has an impossible base64url length (%zu)", what, n);
		return -1;
	}
	if (n > JWT_MAX_JWKS_BYTES) {
		util_errf(err, errlen, "%s is too long (%zu bytes)", what, n);
		return -1;
	}
	size_t padded = (n + 3) / 4 * 4;
	size_t pad = padded - n;
	size_t decoded_max = padded / 4 * 3;
	unsigned char *std = malloc(padded + 1);
	unsigned char *again = malloc(padded + 1);
	unsigned char *dec = malloc(decoded_max + 1);
	int rc = -1;
	if (!std || !again || !dec) {
		util_errf(err, errlen, "out of memory decoding %s", what);
		goto done;
	}
	for (size_t i = 0; i < n; i++)
		std[i] = in[i] == '-' ? '+' : in[i] == '_' ? '/' : (unsigned char)in[i];
	for (size_t i = n; i < padded; i++)
		std[i] = '=';
	std[padded] = '\0';
	int got = EVP_DecodeBlock(dec, std, (int)padded);
	if (got < 0 || (size_t)got != decoded_max) {
		util_errf(err, errlen, "%s is not valid base64url", what);
		goto done;
	}
	size_t len = decoded_max - pad;
	int back = EVP_EncodeBlock(again, dec, (int)len);
	if (back < 0 || (size_t)back != padded || memcmp(again, std, padded) != 0) {
		util_errf(err, errlen, "%s is not canonical base64url (unused trailing bits are set)", what);
		goto done;
	}
	*out = dec;
	*outlen = len;
	dec = NULL;
	rc = 0;
done:
	free(std);
	free(again);
	free(dec);
	return rc;
}

/* ---- JWKS ------------------------------------------------------------- */

/* Decodes the base64url string member name of jwk; 0 ok, -1 with why. */
__attribute__((warn_unused_result)) static int jwk_bytes(const json_t *jwk, const char *name,
							 unsigned char **out, size_t *len, char *why,
							 size_t whylen)
{
	const json_t *v = json_object_get(jwk, name);
	if (!json_is_string(v)) {
		util_errf(why, whylen, "member \"%s\" is missing or not a string", name);
		*out = NULL;
		return -1;
	}
	char what[48];
	snprintf(what, sizeof(what), "member \"%s\"", name);
	return b64url_decode(json_string_value(v), json_string_length(v), what, out, len, why, whylen);
}

/* EVP_PKEY_fromdata for a public key of the given OpenSSL key type. */
static EVP_PKEY *pkey_from_params(const char *type, OSSL_PARAM_BLD *bld)
{
	EVP_PKEY *pkey = NULL;
	OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
	if (params && ctx && EVP_PKEY_fromdata_init(ctx) == 1 &&
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
		pkey = NULL;
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	if (!pkey)
		return NULL;
	/* RSA: n odd, composite, no small factors, sane e; EC: point on the curve. */
	EVP_PKEY_CTX *check = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
	int ok = check && EVP_PKEY_public_check(check) == 1;
	EVP_PKEY_CTX_free(check);
	if (!ok) {
		EVP_PKEY_free(pkey);
		return NULL;
	}
	return pkey;
}

static int load_rsa(const json_t *jwk, jwt_key *k, char *why, size_t whylen)
{
	unsigned char *nb = NULL, *eb = NULL;
	size_t nlen = 0, elen = 0;
	BIGNUM *n = NULL, *e = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	int rc = -1;
	if (jwk_bytes(jwk, "n", &nb, &nlen, why, whylen) != 0 ||
	    jwk_bytes(jwk, "e", &eb, &elen, why, whylen) != 0)
		goto done;
	n = BN_bin2bn(nb, (int)nlen, NULL);
	e = BN_bin2bn(eb, (int)elen, NULL);
	if (!n || !e) {
		util_errf(why, whylen, "out of memory");
		goto done;
	}
	k->bits = BN_num_bits(n);
	if (k->bits < RSA_MIN_BITS || k->bits > RSA_MAX_BITS) {
		util_errf(why, whylen, "RSA modulus is %d bits (%d to %d accepted)", k->bits, RSA_MIN_BITS,
			RSA_MAX_BITS);
		goto done;
	}
	if (BN_num_bits(e) > RSA_MAX_EXPONENT_BITS) {
		util_errf(why, whylen, "RSA exponent is longer than %d bits", RSA_MAX_EXPONENT_BITS);
		goto done;
	}
	bld = OSSL_PARAM_BLD_new();
	if (!bld || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e)) {
		util_errf(why, whylen, "out of memory");
		goto done;
	}
	k->pkey = pkey_from_params("RSA", bld);
	if (!k->pkey) {
		util_errf(why, whylen, "not a valid RSA public key");
		goto done;
	}
	k->type = KEY_RSA;
	rc = 0;
done:
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
	free(nb);
	free(eb);
	return rc;
}

static int load_ec(const json_t *jwk, jwt_key *k, char *why, size_t whylen)
{
	unsigned char *x = NULL, *y = NULL;
	size_t xlen = 0, ylen = 0;
	OSSL_PARAM_BLD *bld = NULL;
	int rc = -1;
	if (jwk_bytes(jwk, "x", &x, &xlen, why, whylen) != 0 ||
	    jwk_bytes(jwk, "y", &y, &ylen, why, whylen) != 0)
		goto done;
	if (xlen != 32 || ylen != 32) {
		util_errf(why, whylen, "P-256 coordinates must be 32 bytes each (x %zu, y %zu)", xlen, ylen);
		goto done;
	}
	unsigned char point[65];
	point[0] = 0x04; /* SEC 1 uncompressed */
	memcpy(point + 1, x, 32);
	memcpy(point + 33, y, 32);
	bld = OSSL_PARAM_BLD_new();
	if (!bld || !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "P-256", 0) ||
	    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point))) {
		util_errf(why, whylen, "out of memory");
		goto done;
	}
	k->pkey = pkey_from_params("EC", bld);
	if (!k->pkey) {
		util_errf(why, whylen, "not a point on P-256");
		goto done;
	}
	k->type = KEY_EC_P256;
	k->bits = 256;
	rc = 0;
done:
	OSSL_PARAM_BLD_free(bld);
	free(x);
	free(y);
	return rc;
}

static int load_ed25519(const json_t *jwk, jwt_key *k, char *why, size_t whylen)
{
	unsigned char *x = NULL;
	size_t xlen = 0;
	OSSL_PARAM_BLD *bld = NULL;
	int rc = -1;
	if (jwk_bytes(jwk, "x", &x, &xlen, why, whylen) != 0)
		goto done;
	if (xlen != 32) {
		util_errf(why, whylen, "Ed25519 public key must be 32 bytes, not %zu", xlen);
		goto done;
	}
	bld = OSSL_PARAM_BLD_new();
	if (!bld || !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, x, xlen)) {
		util_errf(why, whylen, "out of memory");
		goto done;
	}
	k->pkey = pkey_from_params("ED25519", bld);
	if (!k->pkey) {
		util_errf(why, whylen, "not a valid Ed25519 public key");
		goto done;
	}
	k->type = KEY_ED25519;
	k->bits = 256;
	rc = 0;
done:
	OSSL_PARAM_BLD_free(bld);
	free(x);
	return rc;
}

static int string_member_is(const json_t *obj, const char *name, const char *want)
{
	const json_t *v = json_object_get(obj, name);
	return json_is_string(v) && strcmp(json_string_value(v), want) == 0;
}

/* Fills k from one JWK; 0 when usable, -1 (skip it) with the reason in why. */
static int load_key(const json_t *jwk, jwt_key *k, char *why, size_t whylen)
{
	memset(k, 0, sizeof(*k));
	if (!json_is_object(jwk)) {
		util_errf(why, whylen, "not a JSON object");
		return -1;
	}
	const json_t *kid = json_object_get(jwk, "kid");
	if (kid) {
		if (!json_is_string(kid)) {
			util_errf(why, whylen, "\"kid\" is not a string");
			return -1;
		}
		if (json_string_length(kid) >= JWT_KID_MAX) {
			util_errf(why, whylen, "\"kid\" is longer than %d bytes", JWT_KID_MAX - 1);
			return -1;
		}
		memcpy(k->kid, json_string_value(kid), json_string_length(kid) + 1);
		k->has_kid = 1;
	}
	if (json_object_get(jwk, "d")) {
		util_errf(why, whylen, "it carries private key material (\"d\"); publish public keys only");
		return -1;
	}
	const json_t *use = json_object_get(jwk, "use");
	if (use && !string_member_is(jwk, "use", "sig")) {
		util_errf(why, whylen, "\"use\" is not \"sig\"");
		return -1;
	}
	const json_t *ops = json_object_get(jwk, "key_ops");
	if (ops) {
		int verify = 0;
		size_t i;
		const json_t *op;
		if (json_is_array(ops))
			json_array_foreach (ops, i, op)
				if (json_is_string(op) && strcmp(json_string_value(op), "verify") == 0)
					verify = 1;
		if (!verify) {
			util_errf(why, whylen, "\"key_ops\" does not include \"verify\"");
			return -1;
		}
	}
	const json_t *alg = json_object_get(jwk, "alg");
	if (alg) {
		if (!json_is_string(alg) || json_string_length(alg) >= ALG_NAME_MAX ||
		    json_string_length(alg) == 0) {
			util_errf(why, whylen, "\"alg\" is not a short non-empty string");
			return -1;
		}
		memcpy(k->alg, json_string_value(alg), json_string_length(alg) + 1);
	}
	const json_t *kty = json_object_get(jwk, "kty");
	if (!json_is_string(kty)) {
		util_errf(why, whylen, "\"kty\" is missing or not a string");
		return -1;
	}
	const char *t = json_string_value(kty);
	if (strcmp(t, "RSA") == 0)
		return load_rsa(jwk, k, why, whylen);
	if (strcmp(t, "EC") == 0) {
		if (!string_member_is(jwk, "crv", "P-256")) {
			util_errf(why, whylen, "EC curve is not P-256");
			return -1;
		}
		return load_ec(jwk, k, why, whylen);
	}
	if (strcmp(t, "OKP") == 0) {
		if (!string_member_is(jwk, "crv", "Ed25519")) {
			util_errf(why, whylen, "OKP curve is not Ed25519");
			return -1;
		}
		return load_ed25519(jwk, k, why, whylen);
	}
	char q[QUOTE_BUF];
	quote_json_string(q, kty);
	util_errf(why, whylen, "kty %s is not supported (RSA, EC, OKP are)", q);
	return -1;
}

jwt_keyset *jwt_keyset_parse(const char *jwks_json, size_t len, char *err, size_t errlen)
{
	util_errf(err, errlen, "%s", "");
	if (!jwks_json) {
		util_errf(err, errlen, "no JWKS given");
		return NULL;
	}
	if (len > JWT_MAX_JWKS_BYTES) {
		util_errf(err, errlen, "JWKS is %zu bytes, the limit is %d", len, JWT_MAX_JWKS_BYTES);
		return NULL;
	}
	json_error_t jerr;
	json_t *doc = json_loadb(jwks_json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc) {
		util_errf(err, errlen, "JWKS is not valid JSON: %s (line %d, column %d)", jerr.text, jerr.line,
			jerr.column);
		return NULL;
	}
	jwt_keyset *ks = NULL;
	const json_t *keys = json_object_get(doc, "keys");
	if (!json_is_object(doc) || !json_is_array(keys)) {
		util_errf(err, errlen, "JWKS is not an object with a \"keys\" array");
		goto fail;
	}
	ks = calloc(1, sizeof(*ks));
	if (!ks || !(ks->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL))) {
		util_errf(err, errlen, "out of memory (or no SHA256 in the OpenSSL provider)");
		goto fail;
	}
	size_t total = json_array_size(keys), skipped = 0;
	for (size_t i = 0; i < total; i++) {
		if (ks->n == JWT_MAX_KEYS) {
			if (!skipped)
				util_errf(err, errlen, "kept the first %d usable keys, ignored the rest",
					JWT_MAX_KEYS);
			skipped += total - i;
			break;
		}
		char why[256];
		if (load_key(json_array_get(keys, i), &ks->keys[ks->n], why, sizeof(why)) == 0) {
			ks->n++;
			continue;
		}
		if (!skipped++) {
			char q[QUOTE_BUF] = "(no kid)";
			if (ks->keys[ks->n].has_kid)
				quote(q, ks->keys[ks->n].kid, strlen(ks->keys[ks->n].kid));
			util_errf(err, errlen, "skipped key %zu %s: %s", i, q, why);
		}
		memset(&ks->keys[ks->n], 0, sizeof(ks->keys[ks->n]));
	}
	ERR_clear_error();
	json_decref(doc);
	return ks;
fail:
	ERR_clear_error();
	jwt_keyset_free(ks);
	json_decref(doc);
	return NULL;
}

void jwt_keyset_free(jwt_keyset *ks)
{
	if (!ks)
		return;
	for (size_t i = 0; i < ks->n; i++)
		EVP_PKEY_free(ks->keys[i].pkey);
	EVP_MD_free(ks->sha256);
	free(ks);
}

size_t jwt_keyset_count(const jwt_keyset *ks)
{
	return ks ? ks->n : 0;
}

int jwt_keyset_has_kid(const jwt_keyset *ks, const char *kid)
{
	if (!ks || !kid)
		return 0;
	for (size_t i = 0; i < ks->n; i++)
		if (ks->keys[i].has_kid && strcmp(ks->keys[i].kid, kid) == 0)
			return 1;
	return 0;
}

/* ---- token structure -------------------------------------------------- */

/* Decodes one token part and parses it as a JSON object. */
static jwt_status part_object(span part, const char *what, json_t **obj, char *err, size_t errlen)
{
	unsigned char *raw = NULL;
	size_t rawlen = 0;
	*obj = NULL;
	if (part.n == 0) {
		util_errf(err, errlen, "token %s is empty", what);
		return JWT_MALFORMED;
	}
	char label[32];
	snprintf(label, sizeof(label), "token %s", what);
	if (b64url_decode(part.p, part.n, label, &raw, &rawlen, err, errlen) != 0)
		return JWT_MALFORMED;
	json_error_t jerr;
	/* The parser's own message quotes the input near the error: report the position only. */
	json_t *v = json_loadb((const char *)raw, rawlen, JSON_REJECT_DUPLICATES, &jerr);
	free(raw);
	if (!v) {
		util_errf(err, errlen, "token %s is not valid JSON (error at byte %d)", what, jerr.position);
		return JWT_MALFORMED;
	}
	if (!json_is_object(v)) {
		json_decref(v);
		util_errf(err, errlen, "token %s is not a JSON object", what);
		return JWT_MALFORMED;
	}
	*obj = v;
	return JWT_OK;
}

/*
 * Size, three parts, header decoded into an object with a string "alg", a
 * string "kid" if any, and no "crit" (no extension is understood, and RFC 7515
 * says to refuse a token naming one).
 */
static jwt_status parse_header(const char *token, size_t len, span parts[3], json_t **hdr, char *err,
			       size_t errlen)
{
	*hdr = NULL;
	if (!token || len == 0) {
		util_errf(err, errlen, "token is empty");
		return JWT_MALFORMED;
	}
	if (len > JWT_MAX_TOKEN_BYTES) {
		util_errf(err, errlen, "token is %zu bytes, the limit is %d", len, JWT_MAX_TOKEN_BYTES);
		return JWT_MALFORMED;
	}
	size_t n = 0, start = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && token[i] != '.')
			continue;
		if (n < 3)
			parts[n] = (span){ token + start, i - start };
		n++;
		start = i + 1;
	}
	if (n != 3) {
		util_errf(err, errlen, "token has %zu parts, expected 3 (header.payload.signature)", n);
		return JWT_MALFORMED;
	}
	json_t *h = NULL;
	jwt_status st = part_object(parts[0], "header", &h, err, errlen);
	if (st != JWT_OK)
		return st;
	const json_t *alg = json_object_get(h, "alg");
	const json_t *kid = json_object_get(h, "kid");
	if (!json_is_string(alg)) {
		util_errf(err, errlen, "token header has no \"alg\" string");
		st = JWT_MALFORMED;
	} else if (kid && !json_is_string(kid)) {
		util_errf(err, errlen, "token header \"kid\" is not a string");
		st = JWT_MALFORMED;
	} else if (kid && json_string_length(kid) >= JWT_KID_MAX) {
		util_errf(err, errlen, "token header \"kid\" is longer than %d bytes", JWT_KID_MAX - 1);
		st = JWT_MALFORMED;
	} else if (json_object_get(h, "crit")) {
		util_errf(err, errlen, "token header has \"crit\" extensions, none are supported");
		st = JWT_MALFORMED;
	}
	if (st != JWT_OK) {
		json_decref(h);
		return st;
	}
	*hdr = h;
	return JWT_OK;
}

int jwt_peek_kid(const char *token, size_t len, char *kid, size_t kidlen)
{
	span parts[3];
	json_t *hdr = NULL;
	if (kid && kidlen)
		kid[0] = '\0';
	if (parse_header(token, len, parts, &hdr, NULL, 0) != JWT_OK)
		return -1;
	const json_t *k = json_object_get(hdr, "kid");
	int rc = 1;
	if (k) {
		size_t n = json_string_length(k);
		if (!kid || n >= kidlen) {
			rc = -1;
		} else {
			memcpy(kid, json_string_value(k), n + 1);
			rc = 0;
		}
	}
	json_decref(hdr);
	return rc;
}

/* ---- algorithm, key and signature -------------------------------------- */

static const struct {
	const char *name;
	unsigned bit;
	key_type type;
	const char *needs;
} algs[] = {
	{ "RS256", JWT_ALG_RS256, KEY_RSA, "an RSA key" },
	{ "ES256", JWT_ALG_ES256, KEY_EC_P256, "an EC P-256 key" },
	{ "EdDSA", JWT_ALG_EDDSA, KEY_ED25519, "an OKP Ed25519 key" },
};

static const char *key_type_name(key_type t)
{
	switch (t) {
	case KEY_RSA:
		return "RSA";
	case KEY_EC_P256:
		return "EC P-256";
	case KEY_ED25519:
		return "OKP Ed25519";
	}
	return "?";
}

/* Index into algs[] of the header's alg, or a refusal. */
static jwt_status choose_alg(const json_t *alg, unsigned allowed, size_t *which, char *err, size_t errlen)
{
	const char *name = json_string_value(alg);
	char q[QUOTE_BUF];
	quote_json_string(q, alg);
	if (strcasecmp(name, "none") == 0) {
		util_errf(err, errlen, "signature algorithm %s is not accepted (unsigned token)", q);
		return JWT_ALG_NONE;
	}
	if (strncasecmp(name, "HS", 2) == 0) {
		util_errf(err, errlen,
			"signature algorithm %s (HMAC) is not accepted: only RS256, ES256 and EdDSA with "
			"JWKS keys are",
			q);
		return JWT_ALG_HMAC;
	}
	for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
		if (strcmp(name, algs[i].name) != 0)
			continue;
		if (!(allowed & algs[i].bit)) {
			util_errf(err, errlen, "signature algorithm %s is not allowed by policy", q);
			return JWT_ALG_NOT_ALLOWED;
		}
		*which = i;
		return JWT_OK;
	}
	util_errf(err, errlen, "signature algorithm %s is not supported (RS256, ES256, EdDSA are)", q);
	return JWT_ALG_NOT_ALLOWED;
}

static int key_fits(const jwt_key *k, size_t alg)
{
	return k->type == algs[alg].type && (k->alg[0] == '\0' || strcmp(k->alg, algs[alg].name) == 0);
}

static jwt_status choose_key(const jwt_keyset *ks, const json_t *kid, size_t alg, const jwt_key **key,
			     char *err, size_t errlen)
{
	size_t n = ks ? ks->n : 0;
	const jwt_key *first = NULL;
	char q[QUOTE_BUF] = "(no kid)";
	if (kid)
		quote_json_string(q, kid);
	if (n == 0) {
		util_errf(err, errlen, "the keyset has no usable keys (token kid %s)", q);
		return JWT_UNKNOWN_KID;
	}
	if (!kid) {
		if (n > 1) {
			util_errf(err, errlen, "token header has no \"kid\" and the keyset has %zu keys", n);
			return JWT_MALFORMED;
		}
		first = &ks->keys[0];
		if (key_fits(first, alg)) {
			*key = first;
			return JWT_OK;
		}
	} else {
		for (size_t i = 0; i < n; i++) {
			const jwt_key *k = &ks->keys[i];
			if (!k->has_kid || strcmp(k->kid, json_string_value(kid)) != 0)
				continue;
			if (key_fits(k, alg)) {
				*key = k;
				return JWT_OK;
			}
			if (!first)
				first = k;
		}
		if (!first) {
			util_errf(err, errlen, "no key with kid %s in the keyset (%zu keys)", q, n);
			return JWT_UNKNOWN_KID;
		}
	}
	if (first->type != algs[alg].type)
		util_errf(err, errlen, "key %s is %s but the token's alg %s needs %s", q,
			key_type_name(first->type), algs[alg].name, algs[alg].needs);
	else
		util_errf(err, errlen, "key %s is for alg \"%s\" but the token uses %s", q, first->alg,
			algs[alg].name);
	return JWT_KEY_ALG_MISMATCH;
}

/* JOSE ECDSA signatures are r||s, 32 bytes each; OpenSSL wants DER. */
static int ecdsa_raw_to_der(const unsigned char *sig, unsigned char **der, size_t *derlen)
{
	ECDSA_SIG *es = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(sig, 32, NULL);
	BIGNUM *s = BN_bin2bn(sig + 32, 32, NULL);
	int rc = -1;
	if (!es || !r || !s || !ECDSA_SIG_set0(es, r, s)) {
		BN_free(r);
		BN_free(s);
		goto done;
	}
	*der = NULL;
	int n = i2d_ECDSA_SIG(es, der);
	if (n > 0) {
		*derlen = (size_t)n;
		rc = 0;
	}
done:
	ECDSA_SIG_free(es);
	return rc;
}

static jwt_status verify_signature(const jwt_keyset *ks, const jwt_key *key, size_t alg, span signed_part,
				   const unsigned char *sig, size_t siglen, char *err, size_t errlen)
{
	char q[QUOTE_BUF] = "(no kid)";
	if (key->has_kid)
		quote(q, key->kid, strlen(key->kid));
	size_t want = key->type == KEY_RSA ? (size_t)EVP_PKEY_get_size(key->pkey) : 64;
	if (siglen != want) {
		util_errf(err, errlen, "%s signature is %zu bytes, key %s needs %zu", algs[alg].name, siglen,
			q, want);
		return JWT_BAD_SIGNATURE;
	}
	unsigned char *der = NULL;
	size_t derlen = 0;
	if (key->type == KEY_EC_P256) {
		if (ecdsa_raw_to_der(sig, &der, &derlen) != 0) {
			util_errf(err, errlen, "out of memory converting the ES256 signature");
			return JWT_BAD_SIGNATURE;
		}
		sig = der;
		siglen = derlen;
	}
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	const EVP_MD *md = key->type == KEY_ED25519 ? NULL : ks->sha256;
	int ok = ctx && EVP_DigestVerifyInit(ctx, NULL, md, NULL, key->pkey) == 1 &&
		 EVP_DigestVerify(ctx, sig, siglen, (const unsigned char *)signed_part.p,
				  signed_part.n) == 1;
	EVP_MD_CTX_free(ctx);
	OPENSSL_free(der);
	if (!ok) {
		ERR_clear_error();
		util_errf(err, errlen, "%s signature does not verify with key %s", algs[alg].name, q);
		return JWT_BAD_SIGNATURE;
	}
	return JWT_OK;
}

/* ---- claims ----------------------------------------------------------- */

static int64_t sat_add(int64_t a, int64_t b)
{
	int64_t r;
	if (__builtin_add_overflow(a, b, &r))
		return b > 0 ? INT64_MAX : INT64_MIN;
	return r;
}

/* A NumericDate: an integer, or a real cut to whole seconds. 0 ok, -1 not a number. */
static int numeric_date(const json_t *v, int64_t *out)
{
	if (json_is_integer(v)) {
		*out = (int64_t)json_integer_value(v);
		return 0;
	}
	if (json_is_real(v)) {
		double d = json_real_value(v);
		if (!(d > -4.0e18 && d < 4.0e18))
			return -1;
		*out = (int64_t)d;
		return 0;
	}
	return -1;
}

static int has_control(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 1;
	return 0;
}

static jwt_status check_issuer_audience(const json_t *claims, const jwt_policy *p, char *err,
					size_t errlen)
{
	char q[QUOTE_BUF];
	const json_t *iss = json_object_get(claims, "iss");
	if (!p->issuer) {
		util_errf(err, errlen, "no issuer is configured, every token is refused");
		return JWT_WRONG_ISSUER;
	}
	if (!json_is_string(iss)) {
		util_errf(err, errlen, "token has no \"iss\" string claim");
		return JWT_WRONG_ISSUER;
	}
	if (strcmp(json_string_value(iss), p->issuer) != 0) {
		quote_json_string(q, iss);
		util_errf(err, errlen, "token issuer %s is not the configured issuer \"%s\"", q, p->issuer);
		return JWT_WRONG_ISSUER;
	}
	if (!p->audience) {
		util_errf(err, errlen, "no audience is configured, every token is refused");
		return JWT_WRONG_AUDIENCE;
	}
	const json_t *aud = json_object_get(claims, "aud");
	if (json_is_string(aud)) {
		if (strcmp(json_string_value(aud), p->audience) == 0)
			return JWT_OK;
		quote_json_string(q, aud);
		util_errf(err, errlen, "token audience %s is not \"%s\"", q, p->audience);
		return JWT_WRONG_AUDIENCE;
	}
	if (json_is_array(aud)) {
		size_t i;
		const json_t *a;
		int found = 0;
		json_array_foreach (aud, i, a) {
			if (!json_is_string(a)) {
				util_errf(err, errlen, "token \"aud\" array has a non-string element");
				return JWT_MALFORMED;
			}
			if (strcmp(json_string_value(a), p->audience) == 0)
				found = 1;
		}
		if (found)
			return JWT_OK;
		util_errf(err, errlen, "token audience list (%zu entries) does not include \"%s\"",
			json_array_size(aud), p->audience);
		return JWT_WRONG_AUDIENCE;
	}
	util_errf(err, errlen, aud ? "token \"aud\" is neither a string nor an array" :
				   "token has no \"aud\" claim");
	return aud ? JWT_MALFORMED : JWT_WRONG_AUDIENCE;
}

static jwt_status check_times(const json_t *claims, const jwt_policy *p, int64_t *exp_out, char *err,
			      size_t errlen)
{
	int64_t now = p->now ? p->now : (int64_t)time(NULL);
	int64_t leeway = p->leeway_s == 0 ? JWT_DEFAULT_LEEWAY_S : p->leeway_s < 0 ? 0 : p->leeway_s;
	if (leeway > JWT_MAX_LEEWAY_S)
		leeway = JWT_MAX_LEEWAY_S;
	char at[40], nowtxt[40];
	format_time(nowtxt, sizeof(nowtxt), now);

	const json_t *v = json_object_get(claims, "exp");
	int64_t exp, t;
	if (!v) {
		util_errf(err, errlen, "token has no \"exp\" claim");
		return JWT_MALFORMED;
	}
	if (numeric_date(v, &exp) != 0) {
		util_errf(err, errlen, "token \"exp\" is not a number");
		return JWT_MALFORMED;
	}
	/* now < exp + leeway, without overflow */
	if (sat_add(now, -leeway) >= exp) {
		format_time(at, sizeof(at), exp);
		util_errf(err, errlen, "token expired at %s (now %s, leeway %lld s)", at, nowtxt,
			(long long)leeway);
		return JWT_EXPIRED;
	}
	if ((v = json_object_get(claims, "nbf"))) {
		if (numeric_date(v, &t) != 0) {
			util_errf(err, errlen, "token \"nbf\" is not a number");
			return JWT_MALFORMED;
		}
		if (sat_add(now, leeway) < t) {
			format_time(at, sizeof(at), t);
			util_errf(err, errlen, "token not valid before %s (now %s, leeway %lld s)", at, nowtxt,
				(long long)leeway);
			return JWT_NOT_YET_VALID;
		}
	}
	if ((v = json_object_get(claims, "iat"))) {
		if (numeric_date(v, &t) != 0) {
			util_errf(err, errlen, "token \"iat\" is not a number");
			return JWT_MALFORMED;
		}
		if (sat_add(now, leeway) < t) {
			format_time(at, sizeof(at), t);
			util_errf(err, errlen, "token issued in the future at %s (now %s, leeway %lld s)", at,
				nowtxt, (long long)leeway);
			return JWT_NOT_YET_VALID;
		}
	}
	*exp_out = exp;
	return JWT_OK;
}

static jwt_status find_username(const json_t *claims, const jwt_policy *p, const json_t **user,
				const char **from, char *err, size_t errlen)
{
	static const char *const chain[] = { "preferred_username", "email", "sub" };
	const char *const *names = p->username_claim ? &p->username_claim : chain;
	size_t n = p->username_claim ? 1 : sizeof(chain) / sizeof(chain[0]);
	for (size_t i = 0; i < n; i++) {
		const json_t *v = json_object_get(claims, names[i]);
		if (!json_is_string(v) || json_string_length(v) == 0)
			continue;
		if (has_control(json_string_value(v), json_string_length(v))) {
			util_errf(err, errlen, "username claim \"%s\" contains control characters", names[i]);
			return JWT_NO_USERNAME;
		}
		*user = v;
		*from = names[i];
		return JWT_OK;
	}
	if (p->username_claim)
		util_errf(err, errlen, "token has no non-empty string claim \"%s\" (the username claim)",
			p->username_claim);
	else
		util_errf(err, errlen,
			"token has no username: none of preferred_username, email, sub is a non-empty "
			"string");
	return JWT_NO_USERNAME;
}

static jwt_status copy_groups(const json_t *claims, const jwt_policy *p, jwt_identity *id, char *err,
			      size_t errlen)
{
	const char *name = p->groups_claim ? p->groups_claim : "groups";
	const json_t *g = json_object_get(claims, name);
	if (!g || json_is_null(g))
		return JWT_OK;
	size_t n = json_is_array(g) ? json_array_size(g) : 1;
	if (!json_is_array(g) && !json_is_string(g)) {
		util_errf(err, errlen, "claim \"%s\" is neither a string nor an array of strings", name);
		return JWT_MALFORMED;
	}
	for (size_t i = 0; i < n; i++) {
		const json_t *e = json_is_array(g) ? json_array_get(g, i) : g;
		if (!json_is_string(e)) {
			util_errf(err, errlen, "claim \"%s\" has a non-string element (index %zu)", name, i);
			return JWT_MALFORMED;
		}
		if (has_control(json_string_value(e), json_string_length(e))) {
			util_errf(err, errlen, "claim \"%s\" has a group name with control characters", name);
			return JWT_MALFORMED;
		}
	}
	if (!id || n == 0)
		return JWT_OK;
	id->groups = calloc(n, sizeof(char *));
	if (!id->groups) {
		util_errf(err, errlen, "out of memory");
		return JWT_MALFORMED;
	}
	for (size_t i = 0; i < n; i++) {
		const json_t *e = json_is_array(g) ? json_array_get(g, i) : g;
		id->groups[i] = strdup(json_string_value(e));
		if (!id->groups[i]) {
			util_errf(err, errlen, "out of memory");
			return JWT_MALFORMED;
		}
		id->n_groups = i + 1;
	}
	return JWT_OK;
}

static jwt_status check_claims(const json_t *claims, const jwt_policy *p, jwt_identity *id, char *err,
			       size_t errlen)
{
	int64_t exp = 0;
	const json_t *user = NULL;
	const char *from = NULL;
	jwt_status st = check_issuer_audience(claims, p, err, errlen);
	if (st == JWT_OK)
		st = check_times(claims, p, &exp, err, errlen);
	if (st == JWT_OK)
		st = find_username(claims, p, &user, &from, err, errlen);
	if (st == JWT_OK)
		st = copy_groups(claims, p, id, err, errlen);
	if (st != JWT_OK || !id)
		return st;
	const json_t *sub = json_object_get(claims, "sub");
	id->expires_at = exp;
	id->username = strdup(json_string_value(user));
	if (json_is_string(sub))
		id->subject = strdup(json_string_value(sub));
	if (!id->username || (json_is_string(sub) && !id->subject)) {
		util_errf(err, errlen, "out of memory");
		return JWT_MALFORMED;
	}
	return JWT_OK;
}

/* ---- verify ----------------------------------------------------------- */

jwt_status jwt_verify(const char *token, size_t len, const jwt_keyset *ks, const jwt_policy *p,
		      jwt_identity *out, char *err, size_t errlen)
{
	static const jwt_policy refuse_all = { 0 };
	span parts[3];
	json_t *hdr = NULL, *claims = NULL;
	unsigned char *sig = NULL;
	size_t siglen = 0, alg = 0;
	const jwt_key *key = NULL;
	if (out)
		memset(out, 0, sizeof(*out));
	util_errf(err, errlen, "%s", "");
	if (!p)
		p = &refuse_all;

	jwt_status st = parse_header(token, len, parts, &hdr, err, errlen);
	if (st != JWT_OK)
		goto done;
	st = choose_alg(json_object_get(hdr, "alg"), p->allowed_algs ? p->allowed_algs : JWT_ALG_ALL, &alg,
			err, errlen);
	if (st != JWT_OK)
		goto done;
	st = choose_key(ks, json_object_get(hdr, "kid"), alg, &key, err, errlen);
	if (st != JWT_OK)
		goto done;
	if (parts[1].n == 0) {
		util_errf(err, errlen, "token payload is empty");
		st = JWT_MALFORMED;
		goto done;
	}
	if (parts[2].n == 0) {
		util_errf(err, errlen, "token has an empty signature");
		st = JWT_BAD_SIGNATURE;
		goto done;
	}
	if (b64url_decode(parts[2].p, parts[2].n, "token signature", &sig, &siglen, err, errlen) != 0) {
		st = JWT_MALFORMED;
		goto done;
	}
	/* The signed bytes are the ASCII header '.' payload, exactly as sent. */
	span signed_part = { token, (size_t)(parts[1].p + parts[1].n - token) };
	st = verify_signature(ks, key, alg, signed_part, sig, siglen, err, errlen);
	if (st != JWT_OK)
		goto done;
	st = part_object(parts[1], "payload", &claims, err, errlen);
	if (st != JWT_OK)
		goto done;
	st = check_claims(claims, p, out, err, errlen);
	if (st == JWT_OK && out) {
		if (key->has_kid)
			memcpy(out->kid, key->kid, strlen(key->kid) + 1);
	}
done:
	if (st != JWT_OK)
		jwt_identity_free(out);
	free(sig);
	json_decref(hdr);
	json_decref(claims);
	return st;
}

void jwt_identity_free(jwt_identity *id)
{
	if (!id)
		return;
	free(id->username);
	for (size_t i = 0; i < id->n_groups; i++)
		free(id->groups[i]);
	free(id->groups);
	free(id->subject);
	memset(id, 0, sizeof(*id));
}

const char *jwt_status_name(jwt_status s)
{
	switch (s) {
	case JWT_OK:
		return "ok";
	case JWT_MALFORMED:
		return "malformed";
	case JWT_ALG_NONE:
		return "alg_none";
	case JWT_ALG_HMAC:
		return "alg_hmac";
	case JWT_ALG_NOT_ALLOWED:
		return "alg_not_allowed";
	case JWT_UNKNOWN_KID:
		return "unknown_kid";
	case JWT_KEY_ALG_MISMATCH:
		return "key_alg_mismatch";
	case JWT_BAD_SIGNATURE:
		return "bad_signature";
	case JWT_WRONG_ISSUER:
		return "wrong_issuer";
	case JWT_WRONG_AUDIENCE:
		return "wrong_audience";
	case JWT_EXPIRED:
		return "expired";
	case JWT_NOT_YET_VALID:
		return "not_yet_valid";
	case JWT_NO_USERNAME:
		return "no_username";
	}
	return "unknown";
}
