/*
 * sth — signed tree heads: the signing key on disk, the signed byte layout,
 * Ed25519 signing and verification, and the JSON form. The format itself is
 * defined in sth.h.
 *
 * Owns: the STH signing key file. It is created once (0600, parent 0700 when
 * this module creates it) and only ever read afterwards; an existing file that
 * cannot be used — wrong mode, not PEM, encrypted, not Ed25519 — is an error,
 * never a reason to make a new key, because a silently replaced key would
 * split the log's history between two key_ids.
 *
 * Invariants:
 * - sth_signed_bytes is the only place the signed layout is built; sign and
 *   verify both go through it.
 * - An sth_key always holds an Ed25519 key, and its key_id is computed once
 *   when it is loaded, so sth_key_id cannot fail later.
 * - sth_from_json accepts exactly one spelling of each value (lowercase hex,
 *   canonical padded base64), so equal heads have equal JSON and a parsed
 *   head re-serialises to the same text.
 * - Private key bytes read from disk are cleansed before their buffer is
 *   freed; nothing here prompts for a passphrase.
 *
 * No symbol here depends on another warden module, so the unit test and the
 * fuzz target can link this file alone.
 */
#include "audit/sth.h"

#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#define STH_DOMAIN "warden-sth-v1"
#define STH_DOMAIN_LEN 13
#define STH_B64_LEN 88            /* base64 of 64 bytes, padded */
#define STH_B64_DECODE_MAX 256    /* longer is not worth decoding to say so */
#define STH_KEY_FILE_MAX 65536    /* a PEM Ed25519 key is ~120 bytes */
#define STH_JSON_MAX 4096         /* a compact STH is ~300 bytes */

_Static_assert(sizeof(STH_DOMAIN) - 1 == STH_DOMAIN_LEN, "domain string length");
_Static_assert(STH_DOMAIN_LEN + 8 + 8 + 32 == STH_SIGNED_BYTES_LEN, "signed bytes length");

struct sth_key {
	EVP_PKEY *pkey;
	bool has_private;
	char key_id[STH_KEY_ID_LEN + 1];
};

/* ---- small helpers ------------------------------------------------------- */


/* The reason of the most recent OpenSSL error, and the queue cleared so the
 * next caller on this thread starts clean. */
static const char *ossl_reason(void)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;
	ERR_clear_error();
	return r ? r : "unknown OpenSSL error";
}

static int lower_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Exactly 2n lowercase hex characters into n bytes. */
__attribute__((warn_unused_result)) static int hex_decode_lower(const char *s, size_t slen,
								uint8_t *out, size_t n)
{
	if (slen != 2 * n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int hi = lower_hex_digit(s[2 * i]);
		int lo = lower_hex_digit(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

static bool is_b64_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/';
}

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)(v & 0xff);
		v >>= 8;
	}
}

/* Reads the whole of fd (at most STH_KEY_FILE_MAX bytes) into a malloc'd
 * buffer. The caller cleanses and frees it. */
__attribute__((warn_unused_result)) static int read_fd_all(int fd, char **out, size_t *outlen)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	if (!buf)
		return -1;
	for (;;) {
		if (len == cap) {
			if (cap >= STH_KEY_FILE_MAX) {
				OPENSSL_cleanse(buf, len);
				free(buf);
				errno = EFBIG;
				return -1;
			}
			char *nb = malloc(cap * 2);
			if (!nb) {
				OPENSSL_cleanse(buf, len);
				free(buf);
				return -1;
			}
			memcpy(nb, buf, len);
			OPENSSL_cleanse(buf, len);
			free(buf);
			buf = nb;
			cap *= 2;
		}
		ssize_t r = read(fd, buf + len, cap - len);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			int saved = errno;
			OPENSSL_cleanse(buf, len);
			free(buf);
			errno = saved;
			return -1;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	*out = buf;
	*outlen = len;
	return 0;
}

/* Never prompt for a passphrase: an encrypted key is refused. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	return -1;
}

/* Takes ownership of pkey; refuses anything but Ed25519. */
static sth_key *key_wrap(EVP_PKEY *pkey, bool has_private, char *err, size_t errlen)
{
	if (!EVP_PKEY_is_a(pkey, "ED25519")) {
		util_errf(err, errlen, "key is %s, not Ed25519", EVP_PKEY_get0_type_name(pkey)
									  ? EVP_PKEY_get0_type_name(pkey)
									  : "of an unknown type");
		EVP_PKEY_free(pkey);
		return NULL;
	}
	uint8_t raw[32], digest[32];
	size_t rawlen = sizeof(raw);
	unsigned int dlen = 0;
	if (EVP_PKEY_get_raw_public_key(pkey, raw, &rawlen) != 1 || rawlen != sizeof(raw) ||
	    EVP_Digest(raw, sizeof(raw), digest, &dlen, EVP_sha256(), NULL) != 1 ||
	    dlen != sizeof(digest)) {
		util_errf(err, errlen, "cannot read the Ed25519 public key: %s", ossl_reason());
		EVP_PKEY_free(pkey);
		return NULL;
	}
	sth_key *k = calloc(1, sizeof(*k));
	if (!k) {
		util_errf(err, errlen, "out of memory");
		EVP_PKEY_free(pkey);
		return NULL;
	}
	k->pkey = pkey;
	k->has_private = has_private;
	util_hex(digest, sizeof(digest), k->key_id);
	return k;
}

/* ---- key file ------------------------------------------------------------ */

/* Creates the missing directories above path's last component, each 0700
 * (chmod'ed, so the umask cannot widen or narrow them). */
__attribute__((warn_unused_result)) static int make_parent_dirs(const char *path, char *err,
								size_t errlen)
{
	const char *slash = strrchr(path, '/');
	if (!slash || slash == path)
		return 0;
	size_t n = (size_t)(slash - path);
	char *dir = malloc(n + 1);
	if (!dir) {
		util_errf(err, errlen, "out of memory");
		return -1;
	}
	memcpy(dir, path, n);
	dir[n] = '\0';
	int rc = 0;
	for (size_t i = 1; i <= n && rc == 0; i++) {
		if (dir[i] != '/' && dir[i] != '\0')
			continue;
		char saved = dir[i];
		dir[i] = '\0';
		if (mkdir(dir, 0700) == 0) {
			if (chmod(dir, 0700) != 0) {
				util_errf(err, errlen, "cannot chmod 0700 %s: %s", dir, strerror(errno));
				rc = -1;
			}
		} else if (errno != EEXIST) {
			util_errf(err, errlen, "cannot create directory %s: %s", dir, strerror(errno));
			rc = -1;
		}
		dir[i] = saved;
	}
	free(dir);
	return rc;
}

/* Opens and parses an existing private key file. Sets *missing (and returns
 * NULL without an error) when path does not exist. */
static sth_key *key_read_private(const char *path, bool *missing, char *err, size_t errlen)
{
	*missing = false;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		if (errno == ENOENT) {
			*missing = true;
			return NULL;
		}
		util_errf(err, errlen, "cannot open key file %s: %s", path, strerror(errno));
		return NULL;
	}
	/* fstat of the open file, not stat of the name: what is checked is what
	 * is read. */
	struct stat st;
	if (fstat(fd, &st) != 0) {
		util_errf(err, errlen, "cannot stat key file %s: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		util_errf(err, errlen, "key file %s is not a regular file", path);
		close(fd);
		return NULL;
	}
	if (st.st_mode & 077) {
		const char *how = (st.st_mode & 044) ? "readable" : (st.st_mode & 022) ? "writable"
										       : "accessible";
		util_errf(err, errlen,
			"key file %s is %s by group/others (mode %04o); a signing key must be "
			"private to its owner: chmod 600 %s",
			path, how, (unsigned)(st.st_mode & 07777), path);
		close(fd);
		return NULL;
	}
	char *text = NULL;
	size_t len = 0;
	int rrc = read_fd_all(fd, &text, &len);
	int saved = errno;
	close(fd);
	if (rrc != 0) {
		util_errf(err, errlen, "cannot read key file %s: %s", path, strerror(saved));
		return NULL;
	}
	EVP_PKEY *pkey = NULL;
	BIO *bio = len <= INT_MAX ? BIO_new_mem_buf(text, (int)len) : NULL;
	if (bio) {
		pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
		BIO_free(bio);
	}
	OPENSSL_cleanse(text, len);
	free(text);
	if (!pkey) {
		util_errf(err, errlen,
			"key file %s holds no usable PEM private key (%s); an encrypted key is not "
			"supported",
			path, ossl_reason());
		return NULL;
	}
	char why[192];
	sth_key *k = key_wrap(pkey, true, why, sizeof(why));
	if (!k)
		util_errf(err, errlen, "key file %s: %s", path, why);
	return k;
}

/* Generates a key and publishes it at path without ever exposing a partial
 * file: write + fsync a temporary in the same directory, then link(2), which
 * (unlike rename) fails rather than replaces when path appeared meanwhile.
 * Returns 0 when this call created path, 1 when another creator won the race
 * (the caller reads theirs), -1 on error. */
__attribute__((warn_unused_result)) static int key_create(const char *path, char *err,
							  size_t errlen)
{
	if (make_parent_dirs(path, err, errlen) != 0)
		return -1;

	size_t plen = strlen(path);
	char *tmp = malloc(plen + sizeof(".XXXXXX"));
	if (!tmp) {
		util_errf(err, errlen, "out of memory");
		return -1;
	}
	memcpy(tmp, path, plen);
	memcpy(tmp + plen, ".XXXXXX", sizeof(".XXXXXX"));

	EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (!pkey) {
		util_errf(err, errlen, "cannot generate an Ed25519 key: %s", ossl_reason());
		free(tmp);
		return -1;
	}

	int rc = -1;
	int fd = mkstemp(tmp);
	if (fd < 0) {
		util_errf(err, errlen, "cannot create key file next to %s: %s", path, strerror(errno));
		goto out;
	}
	FILE *f = NULL;
	if (fchmod(fd, 0600) != 0 || !(f = fdopen(fd, "w"))) {
		util_errf(err, errlen, "cannot prepare key file %s: %s", tmp, strerror(errno));
		close(fd);
		goto out_unlink;
	}
	/* PEM_write_PrivateKey writes PKCS#8 ("BEGIN PRIVATE KEY"), unencrypted. */
	int wrote = PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL) == 1;
	int flushed = fflush(f) == 0 && fsync(fileno(f)) == 0;
	int saved = errno;
	int closed = fclose(f) == 0;
	if (!wrote) {
		util_errf(err, errlen, "cannot write key file %s: %s", tmp, ossl_reason());
		goto out_unlink;
	}
	if (!flushed || !closed) {
		util_errf(err, errlen, "cannot write key file %s: %s", tmp,
			strerror(flushed ? errno : saved));
		goto out_unlink;
	}
	if (link(tmp, path) != 0) {
		if (errno == EEXIST) {
			rc = 1;
		} else {
			util_errf(err, errlen, "cannot create key file %s: %s", path, strerror(errno));
		}
		goto out_unlink;
	}
	rc = 0;
	/* Make the new name durable too; failure here is not worth refusing a
	 * key that is already in place. */
	const char *slash = strrchr(path, '/');
	char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
	if (dir) {
		int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0) {
			(void)fsync(dfd);
			close(dfd);
		}
		free(dir);
	}
out_unlink:
	unlink(tmp);
out:
	EVP_PKEY_free(pkey);
	free(tmp);
	return rc;
}

sth_key *sth_key_load_or_create(const char *path, char *err, size_t errlen)
{
	if (!path || !*path) {
		util_errf(err, errlen, "no key file path");
		return NULL;
	}
	/* Read; if missing, create (or lose the race to another creator) and
	 * read again. Only a file deleted as fast as it appears loops twice. */
	for (int round = 0;; round++) {
		bool missing = false;
		sth_key *k = key_read_private(path, &missing, err, errlen);
		if (k || !missing)
			return k;
		if (round == 2)
			break;
		if (key_create(path, err, errlen) < 0)
			return NULL;
	}
	util_errf(err, errlen, "key file %s disappeared while it was being created", path);
	return NULL;
}

sth_key *sth_key_load_public(const char *path_or_pem, char *err, size_t errlen)
{
	if (!path_or_pem) {
		util_errf(err, errlen, "no public key given");
		return NULL;
	}
	const char *p = path_or_pem;
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	bool is_text = strncmp(p, "-----BEGIN", 10) == 0;

	char *text = NULL;
	size_t len = 0;
	if (is_text) {
		/* OpenSSL's PEM reader wants "-----BEGIN" at the start of a line
		 * and a newline after the END line; text pasted into a config value
		 * is often indented or lacks the final newline. */
		len = strlen(p);
		text = malloc(len + 2);
		if (!text) {
			util_errf(err, errlen, "out of memory");
			return NULL;
		}
		memcpy(text, p, len);
		if (p[len - 1] != '\n')
			text[len++] = '\n';
		text[len] = '\0';
	} else {
		int fd = open(path_or_pem, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (fd < 0) {
			util_errf(err, errlen, "cannot open public key file %s: %s", path_or_pem,
				strerror(errno));
			return NULL;
		}
		int rrc = read_fd_all(fd, &text, &len);
		int saved = errno;
		close(fd);
		if (rrc != 0) {
			util_errf(err, errlen, "cannot read public key file %s: %s", path_or_pem,
				strerror(saved));
			return NULL;
		}
	}
	EVP_PKEY *pkey = NULL;
	BIO *bio = len <= INT_MAX ? BIO_new_mem_buf(text, (int)len) : NULL;
	if (bio) {
		pkey = PEM_read_bio_PUBKEY(bio, NULL, no_passphrase, NULL);
		BIO_free(bio);
	}
	free(text);
	if (!pkey) {
		util_errf(err, errlen, "%s%s holds no PEM public key (-----BEGIN PUBLIC KEY-----): %s",
			is_text ? "the text" : "public key file ", is_text ? "" : path_or_pem,
			ossl_reason());
		return NULL;
	}
	return key_wrap(pkey, false, err, errlen);
}

char *sth_key_public_pem(const sth_key *k)
{
	if (!k)
		return NULL;
	BIO *bio = BIO_new(BIO_s_mem());
	if (!bio)
		return NULL;
	char *out = NULL;
	char *data = NULL;
	if (PEM_write_bio_PUBKEY(bio, k->pkey) == 1) {
		long n = BIO_get_mem_data(bio, &data);
		if (n > 0 && (out = malloc((size_t)n + 1))) {
			memcpy(out, data, (size_t)n);
			out[n] = '\0';
		}
	}
	BIO_free(bio);
	ERR_clear_error();
	return out;
}

void sth_key_id(const sth_key *k, char out[65])
{
	if (!k) {
		out[0] = '\0';
		return;
	}
	memcpy(out, k->key_id, STH_KEY_ID_LEN + 1);
}

void sth_key_free(sth_key *k)
{
	if (!k)
		return;
	EVP_PKEY_free(k->pkey); /* cleanses the private key */
	free(k);
}

/* ---- signing ------------------------------------------------------------- */

void sth_signed_bytes(const sth *h, uint8_t out[61])
{
	memcpy(out, STH_DOMAIN, STH_DOMAIN_LEN);
	put_be64(out + STH_DOMAIN_LEN, h->tree_size);
	put_be64(out + STH_DOMAIN_LEN + 8, (uint64_t)h->timestamp_ms);
	memcpy(out + STH_DOMAIN_LEN + 16, h->root_hash, sizeof(h->root_hash));
}

int sth_sign(const sth_key *k, sth *h)
{
	memset(h->signature, 0, sizeof(h->signature));
	if (!k || !k->has_private)
		return -1;
	uint8_t tbs[STH_SIGNED_BYTES_LEN];
	sth_signed_bytes(h, tbs);
	uint8_t sig[STH_SIGNATURE_LEN];
	size_t siglen = sizeof(sig);
	int rc = -1;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	/* NULL digest: pure Ed25519 (RFC 8032), no prehash, no context. */
	if (ctx && EVP_DigestSignInit(ctx, NULL, NULL, NULL, k->pkey) == 1 &&
	    EVP_DigestSign(ctx, sig, &siglen, tbs, sizeof(tbs)) == 1 && siglen == sizeof(sig)) {
		memcpy(h->signature, sig, sizeof(sig));
		rc = 0;
	}
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	return rc;
}

int sth_verify(const sth_key *k, const sth *h)
{
	if (!k)
		return -1;
	uint8_t tbs[STH_SIGNED_BYTES_LEN];
	sth_signed_bytes(h, tbs);
	int rc = -1;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (ctx && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, k->pkey) == 1 &&
	    EVP_DigestVerify(ctx, h->signature, sizeof(h->signature), tbs, sizeof(tbs)) == 1)
		rc = 0;
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	return rc;
}

/* ---- JSON ---------------------------------------------------------------- */

char *sth_to_json(const sth *h, const sth_key *k)
{
	if (!k || h->tree_size > (uint64_t)INT64_MAX)
		return NULL;
	char root[65], sig[STH_B64_LEN + 1];
	util_hex(h->root_hash, sizeof(h->root_hash), root);
	if (EVP_EncodeBlock((unsigned char *)sig, h->signature, sizeof(h->signature)) !=
	    STH_B64_LEN)
		return NULL;
	/* jansson keeps insertion order, so this is the documented key order. */
	json_t *o = json_pack("{s:I,s:I,s:s,s:s,s:s}", "tree_size", (json_int_t)h->tree_size,
			      "timestamp", (json_int_t)h->timestamp_ms, "root_hash", root,
			      "signature", sig, "key_id", k->key_id);
	if (!o)
		return NULL;
	char *out = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return out;
}

/* A key from the input, made safe to quote in a message. */
static void printable_key(const char *key, char *out, size_t outlen)
{
	size_t i = 0;
	for (; key[i] && i + 1 < outlen; i++)
		out[i] = (key[i] >= 0x20 && key[i] < 0x7f && key[i] != '"') ? key[i] : '?';
	out[i] = '\0';
}

static const char *const sth_json_keys[] = {"tree_size", "timestamp", "root_hash", "signature",
					    "key_id"};

/* Strict standard base64 of exactly 64 bytes: 86 alphabet characters, "==",
 * and zero padding bits (EVP_DecodeBlock alone skips whitespace, accepts '='
 * anywhere and ignores padding bits, so the checks are done here). */
__attribute__((warn_unused_result)) static int b64_decode_signature(const char *s, size_t len,
								    uint8_t out[64], char *err,
								    size_t errlen)
{
	size_t pad = 0;
	while (pad < 2 && pad < len && s[len - 1 - pad] == '=')
		pad++;
	for (size_t i = 0; i < len - pad; i++) {
		if (!is_b64_char(s[i])) {
			util_errf(err, errlen,
				"\"signature\" is not base64 (character %zu is not in the "
				"base64 alphabet)",
				i);
			return -1;
		}
	}
	if (len == 0 || len % 4 != 0) {
		util_errf(err, errlen, "\"signature\" is not padded base64 (length %zu)", len);
		return -1;
	}
	if (len > STH_B64_DECODE_MAX) {
		util_errf(err, errlen, "\"signature\" is too long (%zu base64 characters), expected %d",
			len, STH_B64_LEN);
		return -1;
	}
	uint8_t buf[STH_B64_DECODE_MAX / 4 * 3];
	int n = EVP_DecodeBlock(buf, (const unsigned char *)s, (int)len);
	if (n < 0 || (size_t)n < pad) {
		util_errf(err, errlen, "\"signature\" is not valid base64");
		return -1;
	}
	size_t bytes = (size_t)n - pad;
	if (bytes != STH_SIGNATURE_LEN) {
		util_errf(err, errlen, "\"signature\" is %zu bytes, expected %d", bytes,
			STH_SIGNATURE_LEN);
		return -1;
	}
	char again[STH_B64_LEN + 1];
	if (EVP_EncodeBlock((unsigned char *)again, buf, STH_SIGNATURE_LEN) != STH_B64_LEN ||
	    len != STH_B64_LEN || memcmp(again, s, STH_B64_LEN) != 0) {
		util_errf(err, errlen, "\"signature\" is not canonical base64");
		return -1;
	}
	memcpy(out, buf, STH_SIGNATURE_LEN);
	return 0;
}

__attribute__((warn_unused_result)) static int get_hex32(json_t *root, const char *key,
							 uint8_t out[32], char *err,
							 size_t errlen)
{
	json_t *v = json_object_get(root, key);
	if (!v) {
		util_errf(err, errlen, "missing \"%s\"", key);
		return -1;
	}
	if (!json_is_string(v)) {
		util_errf(err, errlen, "\"%s\" must be a string", key);
		return -1;
	}
	if (hex_decode_lower(json_string_value(v), json_string_length(v), out, 32) != 0) {
		util_errf(err, errlen, "\"%s\" must be 64 lowercase hex characters", key);
		return -1;
	}
	return 0;
}

__attribute__((warn_unused_result)) static int get_int(json_t *root, const char *key,
						       json_int_t *out, char *err, size_t errlen)
{
	json_t *v = json_object_get(root, key);
	if (!v) {
		util_errf(err, errlen, "missing \"%s\"", key);
		return -1;
	}
	if (!json_is_integer(v)) {
		util_errf(err, errlen, "\"%s\" must be an integer", key);
		return -1;
	}
	*out = json_integer_value(v);
	return 0;
}

int sth_from_json(const char *json, size_t len, sth *h, char key_id[65], char *err,
		  size_t errlen)
{
	if (!json || len == 0) {
		util_errf(err, errlen, "empty STH");
		return -1;
	}
	if (len > STH_JSON_MAX) {
		util_errf(err, errlen, "STH is %zu bytes, more than the %d allowed", len, STH_JSON_MAX);
		return -1;
	}
	json_error_t jerr;
	json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		util_errf(err, errlen, "STH is not valid JSON: %s (line %d, column %d)", jerr.text,
			jerr.line, jerr.column);
		return -1;
	}
	int rc = -1;
	if (!json_is_object(root)) {
		util_errf(err, errlen, "STH is not a JSON object");
		goto out;
	}
	const char *key;
	json_t *value;
	json_object_foreach(root, key, value) {
		bool known = false;
		for (size_t i = 0; i < sizeof(sth_json_keys) / sizeof(sth_json_keys[0]); i++)
			known = known || strcmp(key, sth_json_keys[i]) == 0;
		if (!known) {
			char shown[40];
			printable_key(key, shown, sizeof(shown));
			util_errf(err, errlen, "unexpected key \"%s\" in STH", shown);
			goto out;
		}
	}

	sth tmp;
	memset(&tmp, 0, sizeof(tmp));
	json_int_t size, ts;
	if (get_int(root, "tree_size", &size, err, errlen) != 0)
		goto out;
	if (size < 0) {
		util_errf(err, errlen, "\"tree_size\" must not be negative");
		goto out;
	}
	if (get_int(root, "timestamp", &ts, err, errlen) != 0)
		goto out;
	tmp.tree_size = (uint64_t)size;
	tmp.timestamp_ms = (int64_t)ts;
	if (get_hex32(root, "root_hash", tmp.root_hash, err, errlen) != 0)
		goto out;

	json_t *sig = json_object_get(root, "signature");
	if (!sig) {
		util_errf(err, errlen, "missing \"signature\"");
		goto out;
	}
	if (!json_is_string(sig)) {
		util_errf(err, errlen, "\"signature\" must be a string");
		goto out;
	}
	if (b64_decode_signature(json_string_value(sig), json_string_length(sig), tmp.signature,
				 err, errlen) != 0)
		goto out;

	uint8_t id[32];
	if (get_hex32(root, "key_id", id, err, errlen) != 0)
		goto out;

	*h = tmp;
	if (key_id)
		util_hex(id, sizeof(id), key_id);
	rc = 0;
out:
	json_decref(root);
	return rc;
}
