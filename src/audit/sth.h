/*
 * sth — signed tree heads for the audit log's Merkle tree.
 *
 * This header is the public format; outside verifiers rely on it byte for
 * byte, so nothing here changes without a new version string.
 *
 * - A tree head is {tree_size (uint64), timestamp (int64, milliseconds since
 *   the Unix epoch, UTC), root_hash (32 bytes)}.
 * - Signed bytes: the 13 ASCII bytes "warden-sth-v1" || tree_size as 8-byte
 *   big-endian || timestamp as 8-byte big-endian || root_hash (32 bytes) —
 *   61 bytes. Signature: Ed25519 (pure, RFC 8032) over those bytes, 64 bytes.
 * - key_id: lowercase hex SHA-256 of the 32-byte raw Ed25519 public key.
 * - JSON form (compact, keys in this order):
 *   {"tree_size":N,"timestamp":MS,"root_hash":"<64 hex>",
 *    "signature":"<base64>","key_id":"<64 hex>"}
 *
 * In the JSON form hex is lowercase and the signature is standard base64
 * (RFC 4648 §4, padded: 88 characters). JSON integers are signed 64-bit in
 * jansson, so the JSON form carries tree_size 0 .. 2^63-1 only: sth_to_json
 * returns NULL for a larger tree_size and sth_from_json rejects one. (2^63
 * entries is not a size an audit log reaches.)
 *
 * Checking an STH with the openssl tool: write sth_signed_bytes() to msg.bin
 * and the 64 signature bytes to sig.bin, then
 *   openssl pkeyutl -verify -pubin -inkey pub.pem -rawin -in msg.bin -sigfile sig.bin
 */
#ifndef WARDEN_AUDIT_STH_H
#define WARDEN_AUDIT_STH_H

#include <stddef.h>
#include <stdint.h>

#define STH_SIGNED_BYTES_LEN 61
#define STH_SIGNATURE_LEN 64
#define STH_KEY_ID_LEN 64 /* hex characters, without the NUL */

typedef struct sth {
	uint64_t tree_size;
	int64_t timestamp_ms;
	uint8_t root_hash[32];
	uint8_t signature[64];
} sth;

/* Wraps an Ed25519 EVP_PKEY, private (can sign and verify) or public (can
 * only verify). Safe to share between threads once loaded. */
typedef struct sth_key sth_key;

/* Loads the Ed25519 private key at path (PEM, PKCS#8), or creates it (and its
 * parent directory, 0700) with mode 0600 when missing. Refuses a key file
 * readable by group/others (message says so and how to fix: chmod 600).
 * Creation is atomic: the key is written to a temporary file and linked into
 * place, so a crash never leaves a partial key, and of two processes racing to
 * create it both end up with the one that won. NULL with err set on failure. */
sth_key *sth_key_load_or_create(const char *path, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* A PEM public key file (SubjectPublicKeyInfo), or PEM text: an argument that
 * starts with "-----BEGIN" (after optional whitespace) is taken as the text.
 * Only Ed25519 keys are accepted. NULL with err set on failure. */
sth_key *sth_key_load_public(const char *path_or_pem, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* malloc'd PEM text of the public key ("-----BEGIN PUBLIC KEY-----"), NULL on
 * allocation failure. */
char *sth_key_public_pem(const sth_key *k) __attribute__((warn_unused_result));

/* key_id of k into out (64 hex characters and a NUL); "" if k is NULL. */
void sth_key_id(const sth_key *k, char out[65]);

void sth_key_free(sth_key *k);

/* The 61 signed bytes of h (its signature field is not read). */
void sth_signed_bytes(const sth *h, uint8_t out[61]);

/* Fills h->signature. 0 on success; -1 if k holds no private key or OpenSSL
 * fails (h->signature is then zeroed). */
int sth_sign(const sth_key *k, sth *h) __attribute__((warn_unused_result));

/* 0 = valid signature of h by k; -1 otherwise. */
int sth_verify(const sth_key *k, const sth *h) __attribute__((warn_unused_result));

/* The JSON form of h, key_id taken from k; malloc'd, NUL-terminated, no
 * trailing newline. NULL if k is NULL, tree_size > 2^63-1, or on OOM. */
char *sth_to_json(const sth *h, const sth_key *k) __attribute__((warn_unused_result));

/* Parses the JSON form of [json, json+len). Strict: every field present with
 * the right type and length, tree_size >= 0 and fitting uint64, hex lowercase,
 * base64 canonical, no extra or duplicate keys, nothing after the object.
 * On success fills *h and key_id (NUL-terminated; key_id may be NULL) and
 * returns 0; on failure returns -1, leaves *h untouched and explains in err.
 * Parsing does not verify: call sth_verify with the key named by key_id. */
int sth_from_json(const char *json, size_t len, sth *h, char key_id[65], char *err,
		  size_t errlen) __attribute__((warn_unused_result));

#endif
