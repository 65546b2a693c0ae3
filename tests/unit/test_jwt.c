/*
 * Unit tests for src/identity/jwt.c. Keys are generated here with OpenSSL
 * (RSA 2048, EC P-256, Ed25519), published as a JWKS built with jansson, and
 * tokens are signed by a small test-only signer below, so every case is a
 * real signature over real bytes: valid tokens of each algorithm, then one
 * test per refusal (alg none, the HS256-with-the-RSA-public-key confusion
 * attack, key/alg mismatch, unknown kid, tampering, claims, malformed input),
 * each checking the status and the reason text, and that the reason never
 * echoes the token.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "identity/jwt.h"

#define ISSUER "https://idp.example.com/realms/corp"
#define AUDIENCE "warden"
#define T0 INT64_C(1795636800) /* 2026-11-25T20:00:00Z */
#define NOW (T0 + 313)         /* 2026-11-25T20:05:13Z */

static EVP_PKEY *rsa_key, *ec_key, *ed_key;
static char *jwks;        /* rsa1, ec1, ed1 */
static jwt_keyset *keys;

/* ---- test-only signer --------------------------------------------------- */

static char *b64url(const unsigned char *p, size_t n)
{
	char *out = malloc(4 * ((n + 2) / 3) + 1);
	assert_non_null(out);
	int len = EVP_EncodeBlock((unsigned char *)out, p, (int)n);
	assert_true(len >= 0);
	while (len > 0 && out[len - 1] == '=')
		len--;
	out[len] = '\0';
	for (int i = 0; i < len; i++)
		out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
	return out;
}

static char *b64url_bn(const EVP_PKEY *k, const char *param, int pad)
{
	BIGNUM *bn = NULL;
	assert_int_equal(EVP_PKEY_get_bn_param(k, param, &bn), 1);
	int n = pad ? pad : BN_num_bytes(bn);
	unsigned char buf[1024];
	assert_true(n <= (int)sizeof(buf));
	assert_int_equal(BN_bn2binpad(bn, buf, n), n);
	BN_free(bn);
	return b64url(buf, (size_t)n);
}

/* The JWK of a public key, with kid and optional alg. */
static json_t *jwk_of(EVP_PKEY *k, const char *kid, const char *alg)
{
	json_t *j = NULL;
	char *a, *b;
	if (EVP_PKEY_is_a(k, "RSA")) {
		a = b64url_bn(k, OSSL_PKEY_PARAM_RSA_N, 0);
		b = b64url_bn(k, OSSL_PKEY_PARAM_RSA_E, 0);
		j = json_pack("{s:s, s:s, s:s, s:s, s:s}", "kty", "RSA", "kid", kid, "use", "sig", "n", a,
			      "e", b);
	} else if (EVP_PKEY_is_a(k, "EC")) {
		int coord = (EVP_PKEY_get_bits(k) + 7) / 8;
		a = b64url_bn(k, OSSL_PKEY_PARAM_EC_PUB_X, coord);
		b = b64url_bn(k, OSSL_PKEY_PARAM_EC_PUB_Y, coord);
		j = json_pack("{s:s, s:s, s:s, s:s, s:s}", "kty", "EC", "kid", kid, "crv",
			      coord == 32 ? "P-256" : "P-384", "x", a,
			      "y", b);
	} else {
		unsigned char raw[32];
		size_t rawlen = sizeof(raw);
		assert_int_equal(EVP_PKEY_get_raw_public_key(k, raw, &rawlen), 1);
		a = b64url(raw, rawlen);
		b = NULL;
		j = json_pack("{s:s, s:s, s:s, s:s}", "kty", "OKP", "kid", kid, "crv", "Ed25519", "x", a);
	}
	assert_non_null(j);
	if (alg)
		json_object_set_new(j, "alg", json_string(alg));
	free(a);
	free(b);
	return j;
}

static char *jwks_of(json_t *keys_array)
{
	json_t *doc = json_pack("{s:o}", "keys", keys_array);
	char *s = json_dumps(doc, JSON_COMPACT);
	assert_non_null(s);
	json_decref(doc);
	return s;
}

static unsigned char *digest_sign(EVP_PKEY *k, const EVP_MD *md, const char *msg, size_t *siglen)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	assert_int_equal(EVP_DigestSignInit(ctx, NULL, md, NULL, k), 1);
	assert_int_equal(EVP_DigestSign(ctx, NULL, siglen, (const unsigned char *)msg, strlen(msg)), 1);
	unsigned char *sig = malloc(*siglen);
	assert_int_equal(EVP_DigestSign(ctx, sig, siglen, (const unsigned char *)msg, strlen(msg)), 1);
	EVP_MD_CTX_free(ctx);
	return sig;
}

/* header_json and payload_json as given; signature by sign_alg (RS256, ES256, EdDSA, HS256, none). */
static char *make_token(const char *header_json, const char *payload_json, const char *sign_alg,
			EVP_PKEY *k, const unsigned char *secret, size_t secretlen)
{
	char *h = b64url((const unsigned char *)header_json, strlen(header_json));
	char *p = b64url((const unsigned char *)payload_json, strlen(payload_json));
	size_t inlen = strlen(h) + 1 + strlen(p);
	char *in = malloc(inlen + 1);
	snprintf(in, inlen + 1, "%s.%s", h, p);
	unsigned char *sig = NULL, raw[64], mac[64];
	size_t siglen = 0;
	const unsigned char *s = NULL;
	if (strcmp(sign_alg, "RS256") == 0 || strcmp(sign_alg, "EdDSA") == 0) {
		sig = digest_sign(k, strcmp(sign_alg, "RS256") == 0 ? EVP_sha256() : NULL, in, &siglen);
		s = sig;
	} else if (strcmp(sign_alg, "ES256") == 0) {
		sig = digest_sign(k, EVP_sha256(), in, &siglen);
		const unsigned char *d = sig;
		ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &d, (long)siglen);
		assert_non_null(es);
		assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, 32), 32);
		assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + 32, 32), 32);
		ECDSA_SIG_free(es);
		s = raw;
		siglen = 64;
	} else if (strcmp(sign_alg, "HS256") == 0) {
		assert_non_null(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, secret, secretlen,
					  (const unsigned char *)in, inlen, mac, sizeof(mac), &siglen));
		s = mac;
	}
	char *sb = s ? b64url(s, siglen) : strdup("");
	size_t toklen = inlen + 1 + strlen(sb);
	char *tok = malloc(toklen + 1);
	snprintf(tok, toklen + 1, "%s.%s", in, sb);
	free(h);
	free(p);
	free(in);
	free(sig);
	free(sb);
	return tok;
}

/* A token for claims, header {"alg":alg,"kid":kid,"typ":"JWT"} (no kid when NULL). */
static char *token_for(const char *alg, const char *kid, EVP_PKEY *k, json_t *claims)
{
	json_t *hdr = json_pack("{s:s, s:s}", "alg", alg, "typ", "JWT");
	if (kid)
		json_object_set_new(hdr, "kid", json_string(kid));
	char *h = json_dumps(hdr, JSON_COMPACT);
	char *p = json_dumps(claims, JSON_COMPACT);
	char *tok = make_token(h, p, alg, k, NULL, 0);
	free(h);
	free(p);
	json_decref(hdr);
	return tok;
}

static json_t *claims_base(void)
{
	json_t *c = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:[s,s]}", "iss", ISSUER, "aud",
			      AUDIENCE, "sub", "f3a1-user-42", "preferred_username", "alice", "email",
			      "alice@example.com", "exp", (json_int_t)(NOW + 600), "iat",
			      (json_int_t)(NOW - 10), "nbf", (json_int_t)(NOW - 10), "groups", "dba",
			      "oncall");
	assert_non_null(c);
	return c;
}

static jwt_policy policy(void)
{
	return (jwt_policy){ .issuer = ISSUER, .audience = AUDIENCE, .leeway_s = 30, .now = NOW };
}

/* Verifies with the shared keyset; asserts the status and that err is set but never holds the token. */
static void expect(const char *tok, const jwt_policy *p, jwt_status want, const char *err_has)
{
	char err[512];
	jwt_identity id;
	jwt_status got = jwt_verify(tok, strlen(tok), keys, p, &id, err, sizeof(err));
	if (got != want)
		fail_msg("got %s (%s), want %s", jwt_status_name(got), err, jwt_status_name(want));
	if (want == JWT_OK) {
		jwt_identity_free(&id);
		return;
	}
	assert_null(id.username);
	assert_int_equal(id.n_groups, 0);
	assert_true(err[0] != '\0');
	if (err_has && !strstr(err, err_has))
		fail_msg("reason \"%s\" lacks \"%s\"", err, err_has);
	if (strlen(tok) >= 8)
		assert_null(strstr(err, tok));
	const char *last = strrchr(tok, '.');
	if (last && strlen(last + 1) >= 8)
		assert_null(strstr(err, last + 1));
	const char *first = strchr(tok, '.');
	if (first && last && last - first > 9) {
		char payload[64];
		snprintf(payload, sizeof(payload), "%.*s", (int)(last - first - 1 > 40 ? 40 : last - first - 1),
			 first + 1);
		assert_null(strstr(err, payload));
	}
}

static int setup(void **state)
{
	rsa_key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	ec_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	ed_key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (!rsa_key || !ec_key || !ed_key)
		return -1;
	jwks = jwks_of(json_pack("[o,o,o]", jwk_of(rsa_key, "rsa1", "RS256"), jwk_of(ec_key, "ec1", NULL),
				 jwk_of(ed_key, "ed1", "EdDSA")));
	char err[256];
	keys = jwt_keyset_parse(jwks, strlen(jwks), err, sizeof(err));
	return keys ? 0 : -1;
}

static int teardown(void **state)
{
	jwt_keyset_free(keys);
	free(jwks);
	EVP_PKEY_free(rsa_key);
	EVP_PKEY_free(ec_key);
	EVP_PKEY_free(ed_key);
	return 0;
}

/* ---- accepted tokens ---------------------------------------------------- */

static void check_valid(const char *alg, const char *kid, EVP_PKEY *k)
{
	json_t *c = claims_base();
	char *tok = token_for(alg, kid, k, c);
	jwt_policy p = policy();
	jwt_identity id;
	char err[256];
	assert_int_equal(jwt_verify(tok, strlen(tok), keys, &p, &id, err, sizeof(err)), JWT_OK);
	assert_string_equal(err, "");
	assert_string_equal(id.username, "alice");
	assert_string_equal(id.subject, "f3a1-user-42");
	assert_int_equal(id.n_groups, 2);
	assert_string_equal(id.groups[0], "dba");
	assert_string_equal(id.groups[1], "oncall");
	assert_int_equal(id.expires_at, NOW + 600);
	assert_string_equal(id.kid, kid);
	jwt_identity_free(&id);
	assert_null(id.username);
	assert_null(id.groups);
	free(tok);
	json_decref(c);
}

static void test_valid_rs256(void **state)
{
	check_valid("RS256", "rsa1", rsa_key);
}

static void test_valid_es256(void **state)
{
	check_valid("ES256", "ec1", ec_key);
}

static void test_valid_eddsa(void **state)
{
	check_valid("EdDSA", "ed1", ed_key);
}

/* ---- algorithm and key refusals ----------------------------------------- */

static void test_alg_none(void **state)
{
	jwt_policy p = policy();
	char *tok = make_token("{\"alg\":\"none\",\"typ\":\"JWT\"}",
			       "{\"iss\":\"" ISSUER "\",\"aud\":\"warden\",\"sub\":\"x\",\"exp\":9999999999}",
			       "none", NULL, NULL, 0);
	expect(tok, &p, JWT_ALG_NONE, "signature algorithm \"none\" is not accepted");
	free(tok);
	tok = make_token("{\"alg\":\"nOnE\",\"kid\":\"rsa1\"}", "{\"sub\":\"x\"}", "none", NULL, NULL, 0);
	expect(tok, &p, JWT_ALG_NONE, "\"nOnE\" is not accepted");
	free(tok);
}

/* The classic attack: HS256 keyed with the RSA public key that the verifier publishes. */
static void test_hs256_key_confusion(void **state)
{
	BIO *bio = BIO_new(BIO_s_mem());
	assert_int_equal(PEM_write_bio_PUBKEY(bio, rsa_key), 1);
	char *pem = NULL;
	long pemlen = BIO_get_mem_data(bio, &pem);
	json_t *c = claims_base();
	char *payload = json_dumps(c, JSON_COMPACT);
	char *tok = make_token("{\"alg\":\"HS256\",\"kid\":\"rsa1\",\"typ\":\"JWT\"}", payload, "HS256",
			       NULL, (const unsigned char *)pem, (size_t)pemlen);
	jwt_policy p = policy();
	expect(tok, &p, JWT_ALG_HMAC, "signature algorithm \"HS256\" (HMAC) is not accepted");
	p.allowed_algs = JWT_ALG_ALL;
	expect(tok, &p, JWT_ALG_HMAC, "HMAC");
	free(tok);
	tok = make_token("{\"alg\":\"HS512\"}", payload, "none", NULL, NULL, 0);
	expect(tok, &p, JWT_ALG_HMAC, "\"HS512\"");
	free(tok);
	free(payload);
	json_decref(c);
	BIO_free(bio);
}

static void test_alg_not_allowed(void **state)
{
	json_t *c = claims_base();
	char *tok = token_for("RS256", "rsa1", rsa_key, c);
	jwt_policy p = policy();
	p.allowed_algs = JWT_ALG_ES256 | JWT_ALG_EDDSA;
	expect(tok, &p, JWT_ALG_NOT_ALLOWED, "signature algorithm \"RS256\" is not allowed by policy");
	free(tok);
	char *payload = json_dumps(c, JSON_COMPACT);
	tok = make_token("{\"alg\":\"PS256\",\"kid\":\"rsa1\"}", payload, "RS256", rsa_key, NULL, 0);
	p = policy();
	expect(tok, &p, JWT_ALG_NOT_ALLOWED, "\"PS256\" is not supported");
	free(tok);
	free(payload);
	json_decref(c);
}

static void test_rs256_with_ec_kid(void **state)
{
	json_t *c = claims_base();
	char *tok = token_for("RS256", "ec1", rsa_key, c);
	jwt_policy p = policy();
	expect(tok, &p, JWT_KEY_ALG_MISMATCH,
	       "key \"ec1\" is EC P-256 but the token's alg RS256 needs an RSA key");
	free(tok);
	tok = token_for("ES256", "ed1", ec_key, c);
	expect(tok, &p, JWT_KEY_ALG_MISMATCH, "needs an EC P-256 key");
	free(tok);
	json_decref(c);
}

/* A JWK "alg" member binds the key to that algorithm. */
static void test_jwk_alg_member_mismatch(void **state)
{
	char *set = jwks_of(json_pack("[o]", jwk_of(rsa_key, "rsa1", "RS512")));
	char err[256];
	jwt_keyset *ks = jwt_keyset_parse(set, strlen(set), err, sizeof(err));
	assert_non_null(ks);
	assert_int_equal(jwt_keyset_count(ks), 1);
	json_t *c = claims_base();
	char *tok = token_for("RS256", "rsa1", rsa_key, c);
	jwt_policy p = policy();
	jwt_identity id;
	assert_int_equal(jwt_verify(tok, strlen(tok), ks, &p, &id, err, sizeof(err)),
			 JWT_KEY_ALG_MISMATCH);
	assert_string_equal(err, "key \"rsa1\" is for alg \"RS512\" but the token uses RS256");
	free(tok);
	json_decref(c);
	jwt_keyset_free(ks);
	free(set);
}

static void test_unknown_kid(void **state)
{
	json_t *c = claims_base();
	char *tok = token_for("RS256", "rotated-2027", rsa_key, c);
	jwt_policy p = policy();
	expect(tok, &p, JWT_UNKNOWN_KID, "no key with kid \"rotated-2027\" in the keyset (3 keys)");
	free(tok);
	char *nasty = token_for("EdDSA", "a\"b\n\x1b[31m", ed_key, c);
	expect(nasty, &p, JWT_UNKNOWN_KID, "kid \"a\\x22b\\x0a\\x1b[31m\"");
	free(nasty);
	char err[256];
	jwt_identity id;
	tok = token_for("EdDSA", "ed1", ed_key, c);
	assert_int_equal(jwt_verify(tok, strlen(tok), NULL, &p, &id, err, sizeof(err)), JWT_UNKNOWN_KID);
	free(tok);
	json_decref(c);
}

static void test_kid_rules(void **state)
{
	json_t *c = claims_base();
	jwt_policy p = policy();
	char *tok = token_for("EdDSA", NULL, ed_key, c);
	expect(tok, &p, JWT_MALFORMED, "token header has no \"kid\" and the keyset has 3 keys");

	/* One key: a token without kid uses it. */
	char *set = jwks_of(json_pack("[o]", jwk_of(ed_key, "only", NULL)));
	char err[256];
	jwt_keyset *ks = jwt_keyset_parse(set, strlen(set), err, sizeof(err));
	assert_non_null(ks);
	jwt_identity id;
	assert_int_equal(jwt_verify(tok, strlen(tok), ks, &p, &id, err, sizeof(err)), JWT_OK);
	assert_string_equal(id.kid, "only");
	jwt_identity_free(&id);
	free(tok);
	tok = token_for("EdDSA", "other", ed_key, c);
	assert_int_equal(jwt_verify(tok, strlen(tok), ks, &p, &id, err, sizeof(err)), JWT_UNKNOWN_KID);
	free(tok);
	jwt_keyset_free(ks);
	free(set);
	json_decref(c);
}

/* ---- tampering ---------------------------------------------------------- */

static void check_tampered_payload(const char *alg, const char *kid, EVP_PKEY *k)
{
	json_t *c = claims_base();
	char *tok = token_for(alg, kid, k, c);
	json_object_set_new(c, "preferred_username", json_string("admin"));
	char *forged = token_for(alg, kid, k, c);
	/* header and signature of the original around the forged payload */
	const char *fp = strchr(forged, '.') + 1, *fe = strrchr(forged, '.');
	const char *sig = strrchr(tok, '.');
	size_t hlen = (size_t)(strchr(tok, '.') - tok) + 1;
	size_t n = hlen + (size_t)(fe - fp) + strlen(sig) + 1;
	char *mix = malloc(n);
	snprintf(mix, n, "%.*s%.*s%s", (int)hlen, tok, (int)(fe - fp), fp, sig);
	jwt_policy p = policy();
	char want[64];
	snprintf(want, sizeof(want), "%s signature does not verify with key \"%s\"", alg, kid);
	expect(mix, &p, JWT_BAD_SIGNATURE, want);
	free(mix);
	free(forged);
	free(tok);
	json_decref(c);
}

static void test_tampered_payload(void **state)
{
	check_tampered_payload("RS256", "rsa1", rsa_key);
	check_tampered_payload("ES256", "ec1", ec_key);
	check_tampered_payload("EdDSA", "ed1", ed_key);
}

static void check_tampered_signature(const char *alg, const char *kid, EVP_PKEY *k)
{
	json_t *c = claims_base();
	char *tok = token_for(alg, kid, k, c);
	char *s = strrchr(tok, '.') + 3;
	*s = *s == 'A' ? 'B' : 'A';
	jwt_policy p = policy();
	expect(tok, &p, JWT_BAD_SIGNATURE, "signature does not verify");
	free(tok);
	json_decref(c);
}

static void test_tampered_signature(void **state)
{
	check_tampered_signature("RS256", "rsa1", rsa_key);
	check_tampered_signature("ES256", "ec1", ec_key);
	check_tampered_signature("EdDSA", "ed1", ed_key);
}

static void test_signature_shape(void **state)
{
	json_t *c = claims_base();
	jwt_policy p = policy();
	char *tok = token_for("ES256", "ec1", ec_key, c);
	/* Drop the signature: an unsigned ES256 token. */
	*(strrchr(tok, '.') + 1) = '\0';
	expect(tok, &p, JWT_BAD_SIGNATURE, "token has an empty signature");
	free(tok);
	/* A DER signature where JOSE wants raw r||s. */
	char *h = strdup("{\"alg\":\"ES256\",\"kid\":\"ec1\"}");
	char *pl = json_dumps(c, JSON_COMPACT);
	char *ht = b64url((unsigned char *)h, strlen(h)), *pt = b64url((unsigned char *)pl, strlen(pl));
	size_t inlen = strlen(ht) + strlen(pt) + 2;
	char *in = malloc(inlen);
	snprintf(in, inlen, "%s.%s", ht, pt);
	size_t siglen;
	unsigned char *der = digest_sign(ec_key, EVP_sha256(), in, &siglen);
	char *st = b64url(der, siglen);
	size_t n = inlen + strlen(st) + 1;
	tok = malloc(n);
	snprintf(tok, n, "%s.%s", in, st);
	expect(tok, &p, JWT_BAD_SIGNATURE, "ES256 signature is");
	free(tok);
	free(st);
	free(der);
	free(in);
	free(ht);
	free(pt);
	free(pl);
	free(h);
	json_decref(c);
}

/* ---- claims ------------------------------------------------------------- */

static void check_claims(json_t *c, const jwt_policy *p, jwt_status want, const char *err_has)
{
	char *tok = token_for("EdDSA", "ed1", ed_key, c);
	expect(tok, p, want, err_has);
	free(tok);
	json_decref(c);
}

static void test_wrong_issuer(void **state)
{
	jwt_policy p = policy();
	json_t *c = claims_base();
	json_object_set_new(c, "iss", json_string("https://evil.example.com"));
	check_claims(c, &p, JWT_WRONG_ISSUER,
		     "token issuer \"https://evil.example.com\" is not the configured issuer \"" ISSUER "\"");
	c = claims_base();
	json_object_set_new(c, "iss", json_string(ISSUER "/"));
	check_claims(c, &p, JWT_WRONG_ISSUER, "token issuer");
	c = claims_base();
	json_object_del(c, "iss");
	check_claims(c, &p, JWT_WRONG_ISSUER, "no \"iss\"");
	p.issuer = NULL;
	check_claims(claims_base(), &p, JWT_WRONG_ISSUER, "no issuer is configured");
}

static void test_wrong_audience(void **state)
{
	jwt_policy p = policy();
	json_t *c = claims_base();
	json_object_set_new(c, "aud", json_string("grafana"));
	check_claims(c, &p, JWT_WRONG_AUDIENCE, "token audience \"grafana\" is not \"warden\"");
	c = claims_base();
	json_object_set_new(c, "aud", json_pack("[s,s]", "grafana", "wardens"));
	check_claims(c, &p, JWT_WRONG_AUDIENCE, "token audience list (2 entries) does not include \"warden\"");
	c = claims_base();
	json_object_set_new(c, "aud", json_pack("[s,s]", "grafana", "warden"));
	check_claims(c, &p, JWT_OK, NULL);
	c = claims_base();
	json_object_del(c, "aud");
	check_claims(c, &p, JWT_WRONG_AUDIENCE, "no \"aud\"");
	c = claims_base();
	json_object_set_new(c, "aud", json_pack("[s,i]", "warden", 7));
	check_claims(c, &p, JWT_MALFORMED, "non-string");
}

static void test_expiry(void **state)
{
	jwt_policy p = policy();
	json_t *c = claims_base();
	json_object_set_new(c, "exp", json_integer(T0));
	check_claims(c, &p, JWT_EXPIRED,
		     "token expired at 2026-11-25T20:00:00Z (now 2026-11-25T20:05:13Z, leeway 30 s)");
	/* within leeway: accepted; at exactly exp + leeway: expired */
	c = claims_base();
	json_object_set_new(c, "exp", json_integer(NOW - 29));
	check_claims(c, &p, JWT_OK, NULL);
	c = claims_base();
	json_object_set_new(c, "exp", json_integer(NOW - 30));
	check_claims(c, &p, JWT_EXPIRED, "token expired at");
	p.leeway_s = -1; /* no leeway */
	c = claims_base();
	json_object_set_new(c, "exp", json_integer(NOW - 1));
	check_claims(c, &p, JWT_EXPIRED, "leeway 0 s");
	p = policy();
	c = claims_base();
	json_object_del(c, "exp");
	check_claims(c, &p, JWT_MALFORMED, "token has no \"exp\" claim");
	c = claims_base();
	json_object_set_new(c, "exp", json_string("tomorrow"));
	check_claims(c, &p, JWT_MALFORMED, "\"exp\" is not a number");
	c = claims_base();
	json_object_set_new(c, "exp", json_integer(INT64_MAX));
	check_claims(c, &p, JWT_OK, NULL);
	c = claims_base();
	json_object_set_new(c, "exp", json_integer(INT64_MIN));
	check_claims(c, &p, JWT_EXPIRED, "token expired at @");
	c = claims_base();
	json_object_set_new(c, "exp", json_real((double)(NOW + 60) + 0.5));
	check_claims(c, &p, JWT_OK, NULL);
}

static void test_not_yet_valid(void **state)
{
	jwt_policy p = policy();
	json_t *c = claims_base();
	json_object_set_new(c, "nbf", json_integer(NOW + 60));
	check_claims(c, &p, JWT_NOT_YET_VALID, "token not valid before 2026-11-25T20:06:13Z");
	c = claims_base();
	json_object_set_new(c, "nbf", json_integer(NOW + 30));
	check_claims(c, &p, JWT_OK, NULL);
	c = claims_base();
	json_object_set_new(c, "iat", json_integer(NOW + 120));
	check_claims(c, &p, JWT_NOT_YET_VALID, "token issued in the future at 2026-11-25T20:07:13Z");
	c = claims_base();
	json_object_set_new(c, "nbf", json_integer(INT64_MAX));
	check_claims(c, &p, JWT_NOT_YET_VALID, "not valid before");
}

static void test_username(void **state)
{
	jwt_policy p = policy();
	json_t *c = claims_base();
	json_object_del(c, "preferred_username");
	json_object_del(c, "email");
	json_object_del(c, "sub");
	check_claims(c, &p, JWT_NO_USERNAME, "none of preferred_username, email, sub");

	/* the chain: email, then sub */
	c = claims_base();
	json_object_del(c, "preferred_username");
	char *tok = token_for("ES256", "ec1", ec_key, c);
	jwt_identity id;
	char err[256];
	assert_int_equal(jwt_verify(tok, strlen(tok), keys, &p, &id, err, sizeof(err)), JWT_OK);
	assert_string_equal(id.username, "alice@example.com");
	jwt_identity_free(&id);
	free(tok);
	json_object_del(c, "email");
	tok = token_for("ES256", "ec1", ec_key, c);
	assert_int_equal(jwt_verify(tok, strlen(tok), keys, &p, &id, err, sizeof(err)), JWT_OK);
	assert_string_equal(id.username, "f3a1-user-42");
	jwt_identity_free(&id);
	free(tok);
	json_decref(c);

	/* a configured claim is the only one consulted */
	p.username_claim = "upn";
	check_claims(claims_base(), &p, JWT_NO_USERNAME, "no non-empty string claim \"upn\"");
	c = claims_base();
	json_object_set_new(c, "upn", json_string("alice@corp"));
	tok = token_for("RS256", "rsa1", rsa_key, c);
	assert_int_equal(jwt_verify(tok, strlen(tok), keys, &p, &id, err, sizeof(err)), JWT_OK);
	assert_string_equal(id.username, "alice@corp");
	jwt_identity_free(&id);
	free(tok);
	json_decref(c);

	p = policy();
	c = claims_base();
	json_object_set_new(c, "preferred_username", json_string("alice\nadmin"));
	check_claims(c, &p, JWT_NO_USERNAME, "control characters");
}

static void test_groups(void **state)
{
	jwt_policy p = policy();
	json_t *c = claims_base();
	json_object_set_new(c, "groups", json_string("dba"));
	char *tok = token_for("EdDSA", "ed1", ed_key, c);
	jwt_identity id;
	char err[256];
	assert_int_equal(jwt_verify(tok, strlen(tok), keys, &p, &id, err, sizeof(err)), JWT_OK);
	assert_int_equal(id.n_groups, 1);
	assert_string_equal(id.groups[0], "dba");
	jwt_identity_free(&id);
	free(tok);

	json_object_del(c, "groups");
	tok = token_for("EdDSA", "ed1", ed_key, c);
	assert_int_equal(jwt_verify(tok, strlen(tok), keys, &p, &id, err, sizeof(err)), JWT_OK);
	assert_int_equal(id.n_groups, 0);
	assert_null(id.groups);
	jwt_identity_free(&id);
	free(tok);

	json_object_set_new(c, "roles", json_pack("[s,s,s]", "a", "b", "c"));
	p.groups_claim = "roles";
	tok = token_for("EdDSA", "ed1", ed_key, c);
	assert_int_equal(jwt_verify(tok, strlen(tok), keys, &p, &id, err, sizeof(err)), JWT_OK);
	assert_int_equal(id.n_groups, 3);
	assert_string_equal(id.groups[2], "c");
	jwt_identity_free(&id);
	free(tok);
	json_decref(c);

	p = policy();
	c = claims_base();
	json_object_set_new(c, "groups", json_integer(5));
	check_claims(c, &p, JWT_MALFORMED, "neither a string nor an array");
	c = claims_base();
	json_object_set_new(c, "groups", json_pack("[s,n]", "dba"));
	check_claims(c, &p, JWT_MALFORMED, "non-string element (index 1)");
}

/* ---- malformed input ---------------------------------------------------- */

static void test_malformed(void **state)
{
	jwt_policy p = policy();
	json_t *c = claims_base();
	char *good = token_for("EdDSA", "ed1", ed_key, c);
	char *dot2 = strrchr(good, '.');
	char buf[4096];

	snprintf(buf, sizeof(buf), "%.*s", (int)(dot2 - good), good);
	expect(buf, &p, JWT_MALFORMED, "token has 2 parts, expected 3");
	snprintf(buf, sizeof(buf), "%s.AAAA", good);
	expect(buf, &p, JWT_MALFORMED, "token has 4 parts, expected 3");
	expect("a.b.c.d.e", &p, JWT_MALFORMED, "token has 5 parts");
	expect("", &p, JWT_MALFORMED, "token is empty");

	/* padding: this header is 28 bytes, so plain base64 would end in "==" */
#define HDR28 "{\"alg\":\"EdDSA\",\"kid\":\"ed1\" }"
	char *h = b64url((const unsigned char *)HDR28, 28);
	snprintf(buf, sizeof(buf), "%s==%s", h, strchr(good, '.'));
	expect(buf, &p, JWT_MALFORMED, "token header has base64 padding");
	free(h);
	snprintf(buf, sizeof(buf), "%s==", good);
	expect(buf, &p, JWT_MALFORMED, "token signature has base64 padding");

	/* characters outside base64url: '+' '/' (plain base64), space, NUL-free junk */
	snprintf(buf, sizeof(buf), "%s", good);
	buf[3] = '+';
	expect(buf, &p, JWT_MALFORMED, "not base64url (0x2b at offset 3)");
	snprintf(buf, sizeof(buf), "%s", good);
	*(strrchr(buf, '.') + 2) = '/';
	expect(buf, &p, JWT_MALFORMED, "token signature has a byte that is not base64url");
	snprintf(buf, sizeof(buf), " %s", good);
	expect(buf, &p, JWT_MALFORMED, "0x20 at offset 0");
	/* one char too many: impossible length; non-canonical trailing bits */
	snprintf(buf, sizeof(buf), "%sAAA", good); /* 86 + 3 chars: 1 mod 4 */
	expect(buf, &p, JWT_MALFORMED, "impossible base64url length");
	/* the last char of a 1-byte tail carries 4 unused bits; setting one is a second spelling */
	h = b64url((const unsigned char *)HDR28, 28);
	size_t hl = strlen(h);
	assert_non_null(strchr("AQgw", h[hl - 1]));
	h[hl - 1]++;
	snprintf(buf, sizeof(buf), "%s%s", h, strchr(good, '.'));
	expect(buf, &p, JWT_MALFORMED, "not canonical base64url");
	free(h);

	/* header not an object, not JSON, no alg, alg not a string, crit */
	const char *headers[][2] = {
		{ "[\"EdDSA\"]", "token header is not a JSON object" },
		{ "\"EdDSA\"", "token header is not valid JSON" },
		{ "{\"alg\":\"EdDSA\"", "token header is not valid JSON" },
		{ "{\"kid\":\"ed1\"}", "no \"alg\" string" },
		{ "{\"alg\":7}", "no \"alg\" string" },
		{ "{\"alg\":\"EdDSA\",\"kid\":1}", "\"kid\" is not a string" },
		{ "{\"alg\":\"EdDSA\",\"alg\":\"none\"}", "not valid JSON" },
		{ "{\"alg\":\"EdDSA\",\"kid\":\"ed1\",\"crit\":[\"b64\"],\"b64\":false}", "\"crit\"" },
	};
	for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
		char *t = make_token(headers[i][0], "{}", "EdDSA", ed_key, NULL, 0);
		expect(t, &p, JWT_MALFORMED, headers[i][1]);
		free(t);
	}
	/* well-signed payloads that are not a claims object, or repeat a claim */
	const char *payloads[][2] = {
		{ "[1,2]", "token payload is not a JSON object" },
		{ "{\"iss\":\"" ISSUER "\",\"iss\":\"x\"}", "token payload is not valid JSON" },
	};
	for (size_t i = 0; i < sizeof(payloads) / sizeof(payloads[0]); i++) {
		char *t = make_token("{\"alg\":\"EdDSA\",\"kid\":\"ed1\"}", payloads[i][0], "EdDSA", ed_key,
				     NULL, 0);
		expect(t, &p, JWT_MALFORMED, payloads[i][1]);
		free(t);
	}

	/* 20 KiB token: refused before any decoding */
	char *big = malloc(20 * 1024 + 1);
	memset(big, 'A', 20 * 1024);
	big[20 * 1024] = '\0';
	big[100] = '.';
	big[200] = '.';
	expect(big, &p, JWT_MALFORMED, "token is 20480 bytes, the limit is 16384");
	free(big);
	free(good);
	json_decref(c);
}

/* ---- keyset ------------------------------------------------------------- */

static void test_keyset_parse(void **state)
{
	assert_int_equal(jwt_keyset_count(keys), 3);
	assert_true(jwt_keyset_has_kid(keys, "rsa1"));
	assert_true(jwt_keyset_has_kid(keys, "ec1"));
	assert_true(jwt_keyset_has_kid(keys, "ed1"));
	assert_false(jwt_keyset_has_kid(keys, "ed2"));
	assert_false(jwt_keyset_has_kid(NULL, "ed1"));

	EVP_PKEY *small = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	EVP_PKEY *p384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	assert_non_null(small);
	assert_non_null(p384);
	json_t *enc = jwk_of(rsa_key, "enc1", NULL);
	json_object_set_new(enc, "use", json_string("enc"));
	json_t *priv = jwk_of(ed_key, "priv", NULL);
	json_object_set_new(priv, "d", json_string("AAAA"));
	json_t *ops = jwk_of(ed_key, "wrap", NULL);
	json_object_set_new(ops, "key_ops", json_pack("[s]", "wrapKey"));
	json_t *offcurve = jwk_of(ec_key, "off", NULL);
	json_object_set_new(offcurve, "y", json_string("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
	char *set = jwks_of(json_pack("[o,o,o,o,o,o,o,{s:s,s:s},i,o]", enc, jwk_of(small, "small", NULL),
				      jwk_of(p384, "p384", NULL), priv, ops, offcurve,
				      json_pack("{s:s,s:s}", "kty", "oct", "k", "c2VjcmV0"), "kty",
				      "RSA", "kid", "no-n", 42, jwk_of(ed_key, "good", NULL)));
	char err[256];
	jwt_keyset *ks = jwt_keyset_parse(set, strlen(set), err, sizeof(err));
	assert_non_null(ks);
	assert_int_equal(jwt_keyset_count(ks), 1);
	assert_true(jwt_keyset_has_kid(ks, "good"));
	assert_false(jwt_keyset_has_kid(ks, "enc1"));
	assert_string_equal(err, "skipped key 0 \"enc1\": \"use\" is not \"sig\"");
	jwt_keyset_free(ks);
	free(set);

	/* the reason for each kind of skip */
	struct {
		json_t *jwk;
		const char *why;
	} one[] = {
		{ jwk_of(small, "small", NULL), "RSA modulus is 1024 bits" },
		{ jwk_of(p384, "p384", NULL), "EC curve is not P-256" },
		{ json_pack("{s:s,s:s}", "kty", "oct", "k", "c2VjcmV0"), "kty \"oct\" is not supported" },
		{ json_pack("{s:s,s:s,s:s}", "kty", "OKP", "crv", "Ed25519", "x", "AAAA"),
		  "Ed25519 public key must be 32 bytes" },
	};
	for (size_t i = 0; i < sizeof(one) / sizeof(one[0]); i++) {
		set = jwks_of(json_pack("[o]", one[i].jwk));
		ks = jwt_keyset_parse(set, strlen(set), err, sizeof(err));
		assert_non_null(ks);
		assert_int_equal(jwt_keyset_count(ks), 0);
		if (!strstr(err, one[i].why))
			fail_msg("\"%s\" lacks \"%s\"", err, one[i].why);
		jwt_keyset_free(ks);
		free(set);
	}

	/* private material, key_ops, off-curve point, each alone */
	json_t *again[] = { jwk_of(ed_key, "priv", NULL), jwk_of(ed_key, "wrap", NULL),
			    jwk_of(ec_key, "off", NULL) };
	json_object_set_new(again[0], "d", json_string("AAAA"));
	json_object_set_new(again[1], "key_ops", json_pack("[s]", "wrapKey"));
	json_object_set_new(again[2], "y", json_string("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
	const char *why[] = { "private key material", "\"key_ops\" does not include \"verify\"",
			      "not a point on P-256" };
	for (size_t i = 0; i < 3; i++) {
		set = jwks_of(json_pack("[o]", again[i]));
		ks = jwt_keyset_parse(set, strlen(set), err, sizeof(err));
		assert_non_null(ks);
		assert_int_equal(jwt_keyset_count(ks), 0);
		if (!strstr(err, why[i]))
			fail_msg("\"%s\" lacks \"%s\"", err, why[i]);
		jwt_keyset_free(ks);
		free(set);
	}

	/* malformed documents fail */
	const char *bad[] = { "{\"keys\":[", "[]", "{\"keys\":{}}", "{}", "{\"keys\":[],\"keys\":[]}", "" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ks = jwt_keyset_parse(bad[i], strlen(bad[i]), err, sizeof(err));
		assert_null(ks);
		assert_true(err[0] != '\0');
	}

	/* at most 64 keys */
	json_t *many = json_array();
	for (int i = 0; i < 70; i++) {
		char kid[16];
		snprintf(kid, sizeof(kid), "k%d", i);
		json_array_append_new(many, jwk_of(ed_key, kid, NULL));
	}
	set = jwks_of(many);
	ks = jwt_keyset_parse(set, strlen(set), err, sizeof(err));
	assert_non_null(ks);
	assert_int_equal(jwt_keyset_count(ks), JWT_MAX_KEYS);
	assert_true(jwt_keyset_has_kid(ks, "k63"));
	assert_false(jwt_keyset_has_kid(ks, "k64"));
	assert_string_equal(err, "kept the first 64 usable keys, ignored the rest");
	jwt_keyset_free(ks);
	free(set);
	EVP_PKEY_free(small);
	EVP_PKEY_free(p384);
}

static void test_peek_kid(void **state)
{
	json_t *c = claims_base();
	char *tok = token_for("RS256", "rsa1", rsa_key, c);
	char kid[JWT_KID_MAX];
	assert_int_equal(jwt_peek_kid(tok, strlen(tok), kid, sizeof(kid)), 0);
	assert_string_equal(kid, "rsa1");
	assert_int_equal(jwt_peek_kid(tok, strlen(tok), kid, 4), -1);
	free(tok);
	tok = token_for("RS256", NULL, rsa_key, c);
	assert_int_equal(jwt_peek_kid(tok, strlen(tok), kid, sizeof(kid)), 1);
	assert_string_equal(kid, "");
	free(tok);
	assert_int_equal(jwt_peek_kid("x.y", 3, kid, sizeof(kid)), -1);
	assert_int_equal(jwt_peek_kid("e30.e30.", 8, kid, sizeof(kid)), -1); /* {} has no alg */
	json_decref(c);
}

static void test_status_names(void **state)
{
	assert_string_equal(jwt_status_name(JWT_OK), "ok");
	assert_string_equal(jwt_status_name(JWT_ALG_HMAC), "alg_hmac");
	assert_string_equal(jwt_status_name(JWT_NO_USERNAME), "no_username");
	assert_string_equal(jwt_status_name((jwt_status)99), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_rs256),
		cmocka_unit_test(test_valid_es256),
		cmocka_unit_test(test_valid_eddsa),
		cmocka_unit_test(test_alg_none),
		cmocka_unit_test(test_hs256_key_confusion),
		cmocka_unit_test(test_alg_not_allowed),
		cmocka_unit_test(test_rs256_with_ec_kid),
		cmocka_unit_test(test_jwk_alg_member_mismatch),
		cmocka_unit_test(test_unknown_kid),
		cmocka_unit_test(test_kid_rules),
		cmocka_unit_test(test_tampered_payload),
		cmocka_unit_test(test_tampered_signature),
		cmocka_unit_test(test_signature_shape),
		cmocka_unit_test(test_wrong_issuer),
		cmocka_unit_test(test_wrong_audience),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_not_yet_valid),
		cmocka_unit_test(test_username),
		cmocka_unit_test(test_groups),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_keyset_parse),
		cmocka_unit_test(test_peek_kid),
		cmocka_unit_test(test_status_names),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
