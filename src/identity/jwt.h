/*
 * jwt — the identify stage for OIDC bearer tokens: verification of a JWT in
 * JWS compact serialization (header.payload.signature, base64url without
 * padding) against a JWKS fetched from the identity provider.
 *
 * Only three asymmetric algorithms are implemented, each bound to one key
 * shape: RS256 <-> RSA (2048..8192-bit modulus), ES256 <-> EC P-256,
 * EdDSA <-> OKP Ed25519. "none" and HS* are recognised only to be refused by
 * name; a key is never used with an algorithm other than its own, so the
 * RS256->HS256 key-confusion attack has nothing to work with. Keys embedded in
 * the token (jwk, jku, x5u, x5c) are ignored: only the configured JWKS counts.
 *
 * Checked in this order, first failure wins: size and shape, header,
 * algorithm, key choice, signature, then the claims (iss, aud, exp, nbf, iat,
 * username). The payload is parsed only after the signature has verified.
 *
 * A keyset is immutable once parsed: any number of threads may call
 * jwt_verify on the same keyset at once.
 */
#ifndef WARDEN_JWT_H
#define WARDEN_JWT_H

#include <stddef.h>
#include <stdint.h>

#define JWT_MAX_TOKEN_BYTES 16384   /* longer tokens are refused unread */
#define JWT_MAX_JWKS_BYTES (1 << 20)
#define JWT_MAX_KEYS 64             /* keys past this many are ignored */
#define JWT_KID_MAX 128             /* including the NUL */

#define JWT_ALG_RS256 (1u << 0)
#define JWT_ALG_ES256 (1u << 1)
#define JWT_ALG_EDDSA (1u << 2)
#define JWT_ALG_ALL (JWT_ALG_RS256 | JWT_ALG_ES256 | JWT_ALG_EDDSA)

#define JWT_DEFAULT_LEEWAY_S 30
#define JWT_MAX_LEEWAY_S 3600

typedef struct jwt_keyset jwt_keyset;

/*
 * Parses a JWKS ({"keys":[...]}). Keys that cannot be used for verification
 * are skipped, not fatal: "use" other than "sig", "key_ops" without "verify",
 * unknown kty or crv, RSA moduli under 2048 or over 8192 bits, points not on
 * the curve, keys carrying private material ("d"), a kid longer than 127
 * bytes. At most JWT_MAX_KEYS usable keys are kept.
 * Returns NULL (with the reason in err) on malformed JSON, a document that is
 * not an object with a "keys" array, more than JWT_MAX_JWKS_BYTES, or out of
 * memory. On success err holds "" or a note on the first skipped key; the
 * returned set may be empty (see jwt_keyset_count).
 * err may be NULL when errlen is 0.
 */
__attribute__((warn_unused_result)) jwt_keyset *jwt_keyset_parse(const char *jwks_json, size_t len,
								 char *err, size_t errlen);
void jwt_keyset_free(jwt_keyset *ks);
size_t jwt_keyset_count(const jwt_keyset *ks);
/* 1 when some kept key has exactly this kid, else 0. */
int jwt_keyset_has_kid(const jwt_keyset *ks, const char *kid);

typedef struct jwt_policy {
	const char *issuer;         /* required exact match of "iss"; NULL refuses every token */
	const char *audience;       /* "aud" (string or array) must contain it; NULL refuses every token */
	const char *username_claim; /* NULL: preferred_username, then email, then sub */
	const char *groups_claim;   /* NULL: "groups"; value: array of strings or one string */
	unsigned allowed_algs;      /* JWT_ALG_* bits; 0 means JWT_ALG_ALL */
	int leeway_s;               /* skew for exp/nbf/iat: 0 means 30, negative means none,
				       capped at JWT_MAX_LEEWAY_S */
	int64_t now;                /* unix seconds; 0 means time(NULL) */
} jwt_policy;

typedef struct jwt_identity {
	char *username;
	char **groups;
	size_t n_groups;
	char *subject;      /* "sub", or NULL when absent */
	int64_t expires_at; /* "exp" */
	char kid[JWT_KID_MAX]; /* kid of the key that verified the token ("" if it had none) */
} jwt_identity;

typedef enum {
	JWT_OK = 0,
	JWT_MALFORMED,
	JWT_ALG_NONE,
	JWT_ALG_HMAC,
	JWT_ALG_NOT_ALLOWED,
	JWT_UNKNOWN_KID,
	JWT_KEY_ALG_MISMATCH,
	JWT_BAD_SIGNATURE,
	JWT_WRONG_ISSUER,
	JWT_WRONG_AUDIENCE,
	JWT_EXPIRED,
	JWT_NOT_YET_VALID,
	JWT_NO_USERNAME
} jwt_status;

/*
 * Decodes the header only and copies its "kid", verifying nothing: for
 * choosing a keyset or refreshing a JWKS when the kid is new.
 * Returns 0 with the kid copied, 1 when the header is well-formed but has no
 * kid (kid set to ""), -1 when the token or header is malformed or the kid does
 * not fit in kidlen.
 */
__attribute__((warn_unused_result)) int jwt_peek_kid(const char *token, size_t len, char *kid,
						     size_t kidlen);

/*
 * Full verification. token need not be NUL-terminated. ks may be NULL (no
 * keys: every signed token is JWT_UNKNOWN_KID). On JWT_OK *out owns copies of
 * the identity (release with jwt_identity_free); on failure *out is zeroed and
 * err holds the reason. Reasons quote header fields and claims (escaped,
 * truncated to 64 bytes) but never the token or signature.
 */
__attribute__((warn_unused_result)) jwt_status jwt_verify(const char *token, size_t len,
							  const jwt_keyset *ks, const jwt_policy *p,
							  jwt_identity *out, char *err,
							  size_t errlen);
void jwt_identity_free(jwt_identity *id);
const char *jwt_status_name(jwt_status s);

#endif
