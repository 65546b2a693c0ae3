/*
 * sth — signed tree heads: the key file (creation mode, reload, refusal of a
 * group/other-readable or unusable file), the signed byte layout byte for
 * byte, a known-answer signature made with the openssl tool, sign/verify and
 * tamper detection, the JSON form and its strict parser, and interoperability
 * with the `openssl` command line (skipped when the tool is not installed).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "audit/sth.h"

/* ---- fixtures ------------------------------------------------------------ */

static char tmpdir[64];

static int group_setup(void **state)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/warden-sth-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int group_teardown(void **state)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void path_in(char *out, size_t n, const char *name)
{
	int w = snprintf(out, n, "%s/%s", tmpdir, name);
	assert_true(w > 0 && (size_t)w < n);
}

static void write_file(const char *path, const void *data, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(close(fd), 0);
}

/* malloc'd NUL-terminated contents of path. */
static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	char *buf = malloc(65536);
	assert_non_null(buf);
	size_t n = fread(buf, 1, 65535, f);
	buf[n] = '\0';
	fclose(f);
	if (len)
		*len = n;
	return buf;
}

static sth_key *new_key(const char *name)
{
	char path[256], err[256] = "";
	path_in(path, sizeof(path), name);
	sth_key *k = sth_key_load_or_create(path, err, sizeof(err));
	if (!k)
		fail_msg("%s: %s", path, err);
	return k;
}

static sth sample_head(void)
{
	sth h;
	memset(&h, 0, sizeof(h));
	h.tree_size = 12345;
	h.timestamp_ms = 1700000000123;
	for (size_t i = 0; i < sizeof(h.root_hash); i++)
		h.root_hash[i] = (uint8_t)(0x11 * i + 7);
	return h;
}

static int is_lower_hex64(const char *s)
{
	if (strlen(s) != 64)
		return 0;
	for (const char *p = s; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return 0;
	return 1;
}

/* ---- the fixed format ---------------------------------------------------- */

/* The head every fixed-value test uses: each field's bytes are distinct and
 * in order, so a swapped field or a little-endian write shows at once. */
static sth fixed_head(void)
{
	sth h;
	memset(&h, 0, sizeof(h));
	h.tree_size = 0x0102030405060708u;
	h.timestamp_ms = 0x1112131415161718;
	for (size_t i = 0; i < 32; i++)
		h.root_hash[i] = (uint8_t)(0xa0 + i);
	return h;
}

static void test_signed_bytes_layout(void **state)
{
	static const uint8_t expected[61] = {
		/* "warden-sth-v1" */
		'w', 'a', 'r', 'd', 'e', 'n', '-', 's', 't', 'h', '-', 'v', '1',
		/* tree_size, big-endian */
		0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
		/* timestamp, big-endian */
		0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18,
		/* root_hash */
		0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad,
		0xae, 0xaf, 0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xbb,
		0xbc, 0xbd, 0xbe, 0xbf};
	sth h = fixed_head();
	memset(h.signature, 0x5a, sizeof(h.signature)); /* not part of the signed bytes */
	uint8_t out[61];
	memset(out, 0, sizeof(out));
	sth_signed_bytes(&h, out);
	assert_memory_equal(out, expected, sizeof(expected));

	/* A timestamp before 1970 is two's complement, big-endian. */
	h.timestamp_ms = -2;
	h.tree_size = 0;
	sth_signed_bytes(&h, out);
	static const uint8_t zero8[8] = {0};
	static const uint8_t minus2[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe};
	assert_memory_equal(out + 13, zero8, 8);
	assert_memory_equal(out + 21, minus2, 8);
}

/* The RFC 8032 §7.1 TEST 1 key (secret 9d61b1…7f60, public d75a98…511a) as
 * PKCS#8 PEM. The expected signature and key_id below were produced by the
 * openssl tool alone, not by this module:
 *   openssl pkeyutl -sign -inkey priv.pem -rawin -in msg.bin   (msg.bin = the
 *     61 bytes of test_signed_bytes_layout)
 *   openssl pkey -pubin -in pub.pem -outform DER | tail -c 32 | sha256sum */
static const char rfc8032_key_pem[] = "-----BEGIN PRIVATE KEY-----\n"
				      "MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n"
				      "-----END PRIVATE KEY-----\n";
static const char rfc8032_pub_pem[] = "-----BEGIN PUBLIC KEY-----\n"
				      "MCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n"
				      "-----END PUBLIC KEY-----\n";
#define RFC8032_KEY_ID "21fe31dfa154a261626bf854046fd2271b7bed4b6abe45aa58877ef47f9721b9"
#define FIXED_SIG_B64                                                                    \
	"XmVpXhn3JkVKs5fyRbdeQmE4IuSL8d8ZfT8BWgCTL+bgOXtWMJ8o1ANiL4dCAg1r14BsJFzwGwMsY3RlIp/" \
	"QCw=="

static void test_known_answer(void **state)
{
	static const uint8_t expected_sig[64] = {
		0x5e, 0x65, 0x69, 0x5e, 0x19, 0xf7, 0x26, 0x45, 0x4a, 0xb3, 0x97, 0xf2, 0x45,
		0xb7, 0x5e, 0x42, 0x61, 0x38, 0x22, 0xe4, 0x8b, 0xf1, 0xdf, 0x19, 0x7d, 0x3f,
		0x01, 0x5a, 0x00, 0x93, 0x2f, 0xe6, 0xe0, 0x39, 0x7b, 0x56, 0x30, 0x9f, 0x28,
		0xd4, 0x03, 0x62, 0x2f, 0x87, 0x42, 0x02, 0x0d, 0x6b, 0xd7, 0x80, 0x6c, 0x24,
		0x5c, 0xf0, 0x1b, 0x03, 0x2c, 0x63, 0x74, 0x65, 0x22, 0x9f, 0xd0, 0x0b};
	char path[256], err[256] = "", id[65];
	path_in(path, sizeof(path), "rfc8032.pem");
	write_file(path, rfc8032_key_pem, strlen(rfc8032_key_pem), 0600);
	sth_key *k = sth_key_load_or_create(path, err, sizeof(err));
	if (!k)
		fail_msg("%s", err);
	sth_key_id(k, id);
	assert_string_equal(id, RFC8032_KEY_ID);

	sth h = fixed_head();
	assert_int_equal(sth_sign(k, &h), 0);
	assert_memory_equal(h.signature, expected_sig, 64);
	assert_int_equal(sth_verify(k, &h), 0);

	char *json = sth_to_json(&h, k);
	assert_non_null(json);
	assert_string_equal(json, "{\"tree_size\":72623859790382856,"
				  "\"timestamp\":1230066625199609624,"
				  "\"root_hash\":\"a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9"
				  "babbbcbdbebf\","
				  "\"signature\":\"" FIXED_SIG_B64 "\","
				  "\"key_id\":\"" RFC8032_KEY_ID "\"}");
	free(json);

	char *pub = sth_key_public_pem(k);
	assert_non_null(pub);
	assert_string_equal(pub, rfc8032_pub_pem);
	free(pub);

	/* And the public key alone, as an outside verifier holds it. */
	sth_key *pk = sth_key_load_public(rfc8032_pub_pem, err, sizeof(err));
	if (!pk)
		fail_msg("%s", err);
	sth_key_id(pk, id);
	assert_string_equal(id, RFC8032_KEY_ID);
	assert_int_equal(sth_verify(pk, &h), 0);
	sth_key_free(pk);
	sth_key_free(k);
}

/* ---- key file ------------------------------------------------------------ */

static void test_key_create_mode_and_reload(void **state)
{
	char dir1[256], dir2[256], path[256], err[256] = "";
	path_in(dir1, sizeof(dir1), "created");
	path_in(dir2, sizeof(dir2), "created/keys");
	path_in(path, sizeof(path), "created/keys/sth.pem");

	/* umask 0 would give 0777/0666 to anything that trusts it. */
	mode_t old = umask(0);
	sth_key *k = sth_key_load_or_create(path, err, sizeof(err));
	umask(old);
	if (!k)
		fail_msg("%s", err);

	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(stat(dir1, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(stat(dir2, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);

	/* PKCS#8 PEM, and no temporary file left next to it. */
	char *text = read_file(path, NULL);
	assert_int_equal(strncmp(text, "-----BEGIN PRIVATE KEY-----\n", 28), 0);
	free(text);
	DIR *d = opendir(dir2);
	assert_non_null(d);
	int entries = 0;
	for (struct dirent *e; (e = readdir(d));)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			entries++;
	closedir(d);
	assert_int_equal(entries, 1);

	char id1[65], id2[65];
	sth_key_id(k, id1);
	assert_true(is_lower_hex64(id1));

	/* key_id is SHA-256 of the raw public key, computed here independently. */
	char *pem = sth_key_public_pem(k);
	assert_non_null(pem);
	BIO *bio = BIO_new_mem_buf(pem, -1);
	EVP_PKEY *pub = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	assert_non_null(pub);
	uint8_t raw[32], md[32];
	size_t rawlen = sizeof(raw);
	unsigned int mdlen = 0;
	assert_int_equal(EVP_PKEY_get_raw_public_key(pub, raw, &rawlen), 1);
	assert_int_equal(rawlen, 32);
	assert_int_equal(EVP_Digest(raw, 32, md, &mdlen, EVP_sha256(), NULL), 1);
	char want[65];
	for (int i = 0; i < 32; i++)
		snprintf(want + 2 * i, 3, "%02x", md[i]);
	assert_string_equal(id1, want);
	EVP_PKEY_free(pub);
	BIO_free(bio);
	free(pem);

	/* Reload: same key, and it signs what the first instance verifies. */
	sth_key *again = sth_key_load_or_create(path, err, sizeof(err));
	if (!again)
		fail_msg("%s", err);
	sth_key_id(again, id2);
	assert_string_equal(id1, id2);
	sth h = sample_head();
	assert_int_equal(sth_sign(again, &h), 0);
	assert_int_equal(sth_verify(k, &h), 0);
	sth_key_free(again);
	sth_key_free(k);
}

static void test_key_refuses_group_or_other_access(void **state)
{
	char path[256], err[512];
	path_in(path, sizeof(path), "loose.pem");
	sth_key *k = new_key("loose.pem");
	char id[65];
	sth_key_id(k, id);
	sth_key_free(k);
	size_t before_len;
	char *before = read_file(path, &before_len);

	static const mode_t bad[] = {0644, 0640, 0604, 0620, 0660};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(chmod(path, bad[i]), 0);
		err[0] = '\0';
		assert_null(sth_key_load_or_create(path, err, sizeof(err)));
		assert_non_null(strstr(err, path));
		assert_non_null(strstr(err, "group/others"));
		assert_non_null(strstr(err, "chmod 600"));
		if (bad[i] & 044)
			assert_non_null(strstr(err, "readable"));
	}
	assert_int_equal(chmod(path, 0644), 0);
	assert_null(sth_key_load_or_create(path, err, sizeof(err)));
	assert_non_null(strstr(err, "(mode 0644)"));

	/* Refusal leaves the file as it was: no new key, no mode change. */
	size_t after_len;
	char *after = read_file(path, &after_len);
	assert_int_equal(before_len, after_len);
	assert_memory_equal(before, after, before_len);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	free(before);
	free(after);

	/* Following the advice fixes it, with the same key. */
	assert_int_equal(chmod(path, 0600), 0);
	k = sth_key_load_or_create(path, err, sizeof(err));
	if (!k)
		fail_msg("%s", err);
	char id2[65];
	sth_key_id(k, id2);
	assert_string_equal(id, id2);
	sth_key_free(k);
}

static void test_key_rejects_unusable_file(void **state)
{
	char path[256], err[512];

	/* Not PEM: refused, and never replaced by a fresh key. */
	path_in(path, sizeof(path), "garbage.pem");
	write_file(path, "not a key\n", 10, 0600);
	err[0] = '\0';
	assert_null(sth_key_load_or_create(path, err, sizeof(err)));
	assert_non_null(strstr(err, "no usable PEM private key"));
	char *text = read_file(path, NULL);
	assert_string_equal(text, "not a key\n");
	free(text);

	/* Empty file (e.g. a crash of some other writer): refused too. */
	path_in(path, sizeof(path), "empty.pem");
	write_file(path, "", 0, 0600);
	assert_null(sth_key_load_or_create(path, err, sizeof(err)));

	/* A valid PEM key of another type. */
	EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	assert_non_null(ec);
	BIO *bio = BIO_new(BIO_s_mem());
	assert_int_equal(PEM_write_bio_PrivateKey(bio, ec, NULL, NULL, 0, NULL, NULL), 1);
	char *data;
	long n = BIO_get_mem_data(bio, &data);
	path_in(path, sizeof(path), "ec.pem");
	write_file(path, data, (size_t)n, 0600);
	err[0] = '\0';
	assert_null(sth_key_load_or_create(path, err, sizeof(err)));
	assert_non_null(strstr(err, "not Ed25519"));

	/* Its public half is refused as a public key as well. */
	BIO *pbio = BIO_new(BIO_s_mem());
	assert_int_equal(PEM_write_bio_PUBKEY(pbio, ec), 1);
	char *pdata;
	long pn = BIO_get_mem_data(pbio, &pdata);
	char *ptext = strndup(pdata, (size_t)pn);
	assert_null(sth_key_load_public(ptext, err, sizeof(err)));
	assert_non_null(strstr(err, "not Ed25519"));
	free(ptext);
	BIO_free(pbio);
	BIO_free(bio);
	EVP_PKEY_free(ec);

	/* A directory where the key should be. */
	path_in(path, sizeof(path), "adir");
	assert_int_equal(mkdir(path, 0700), 0);
	assert_null(sth_key_load_or_create(path, err, sizeof(err)));
	assert_non_null(strstr(err, "not a regular file"));

	/* Parent path blocked by a regular file. */
	path_in(path, sizeof(path), "garbage.pem/sth.pem");
	assert_null(sth_key_load_or_create(path, err, sizeof(err)));
	assert_true(err[0] != '\0');

	assert_null(sth_key_load_or_create("", err, sizeof(err)));
}

/* ---- sign / verify ------------------------------------------------------- */

static void test_sign_verify_roundtrip(void **state)
{
	sth_key *k = new_key("rt.pem");
	sth h = sample_head();
	assert_int_equal(sth_sign(k, &h), 0);
	assert_int_equal(sth_verify(k, &h), 0);

	/* Ed25519 is deterministic: the same head gives the same signature. */
	sth h2 = sample_head();
	assert_int_equal(sth_sign(k, &h2), 0);
	assert_memory_equal(h.signature, h2.signature, 64);

	/* Edge values sign and verify. */
	sth e;
	memset(&e, 0, sizeof(e));
	assert_int_equal(sth_sign(k, &e), 0);
	assert_int_equal(sth_verify(k, &e), 0);
	e.tree_size = UINT64_MAX;
	e.timestamp_ms = INT64_MIN;
	memset(e.root_hash, 0xff, 32);
	assert_int_equal(sth_sign(k, &e), 0);
	assert_int_equal(sth_verify(k, &e), 0);
	sth_key_free(k);
}

static void flip(uint8_t *p, size_t bit)
{
	p[bit / 8] ^= (uint8_t)(1u << (bit % 8));
}

static void test_single_bit_flips_fail(void **state)
{
	sth_key *k = new_key("flip.pem");
	sth good = sample_head();
	assert_int_equal(sth_sign(k, &good), 0);

	for (size_t b = 0; b < 64; b++) {
		sth h = good;
		h.tree_size ^= (uint64_t)1 << b;
		assert_int_not_equal(sth_verify(k, &h), 0);
		h = good;
		h.timestamp_ms = (int64_t)((uint64_t)h.timestamp_ms ^ ((uint64_t)1 << b));
		assert_int_not_equal(sth_verify(k, &h), 0);
	}
	for (size_t b = 0; b < 256; b++) {
		sth h = good;
		flip(h.root_hash, b);
		assert_int_not_equal(sth_verify(k, &h), 0);
	}
	for (size_t b = 0; b < 512; b++) {
		sth h = good;
		flip(h.signature, b);
		assert_int_not_equal(sth_verify(k, &h), 0);
	}
	assert_int_equal(sth_verify(k, &good), 0);
	sth_key_free(k);
}

static void test_other_key_fails(void **state)
{
	sth_key *a = new_key("a.pem");
	sth_key *b = new_key("b.pem");
	char ida[65], idb[65];
	sth_key_id(a, ida);
	sth_key_id(b, idb);
	assert_string_not_equal(ida, idb);

	sth h = sample_head();
	assert_int_equal(sth_sign(a, &h), 0);
	assert_int_not_equal(sth_verify(b, &h), 0);
	assert_int_not_equal(sth_verify(NULL, &h), 0);

	/* A public-only key verifies but cannot sign. */
	char *pem = sth_key_public_pem(a);
	assert_non_null(pem);
	char err[256];
	sth_key *pa = sth_key_load_public(pem, err, sizeof(err));
	if (!pa)
		fail_msg("%s", err);
	assert_int_equal(sth_verify(pa, &h), 0);
	sth h2 = sample_head();
	assert_int_not_equal(sth_sign(pa, &h2), 0);
	static const uint8_t zero[64] = {0};
	assert_memory_equal(h2.signature, zero, 64);
	free(pem);
	sth_key_free(pa);
	sth_key_free(a);
	sth_key_free(b);
}

static void test_public_key_load(void **state)
{
	sth_key *k = new_key("pub-src.pem");
	char id[65], id2[65], err[512];
	sth_key_id(k, id);
	char *pem = sth_key_public_pem(k);
	assert_non_null(pem);
	assert_int_equal(strncmp(pem, "-----BEGIN PUBLIC KEY-----\n", 27), 0);

	/* From a file. */
	char path[256];
	path_in(path, sizeof(path), "pub.pem");
	write_file(path, pem, strlen(pem), 0644); /* a public key may be world-readable */
	sth_key *p = sth_key_load_public(path, err, sizeof(err));
	if (!p)
		fail_msg("%s", err);
	sth_key_id(p, id2);
	assert_string_equal(id, id2);
	sth_key_free(p);

	/* From text, with leading whitespace. */
	size_t n = strlen(pem);
	char *padded = malloc(n + 3);
	assert_non_null(padded);
	memcpy(padded, "\n  ", 3);
	memcpy(padded + 3, pem, n);
	padded[n + 2] = '\0'; /* drops the final newline too */
	p = sth_key_load_public(padded, err, sizeof(err));
	if (!p)
		fail_msg("%s", err);
	sth_key_id(p, id2);
	assert_string_equal(id, id2);
	sth_key_free(p);
	free(padded);

	/* Not a public key. */
	assert_null(sth_key_load_public(rfc8032_key_pem, err, sizeof(err)));
	assert_non_null(strstr(err, "no PEM public key"));
	path_in(path, sizeof(path), "no-such-file.pem");
	assert_null(sth_key_load_public(path, err, sizeof(err)));
	assert_non_null(strstr(err, "cannot open"));
	assert_null(sth_key_load_public("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
					err, sizeof(err)));
	assert_null(sth_key_load_public(NULL, err, sizeof(err)));

	char empty[65];
	sth_key_id(NULL, empty);
	assert_string_equal(empty, "");
	free(pem);
	sth_key_free(k);
}

/* ---- JSON ---------------------------------------------------------------- */

static void test_json_roundtrip(void **state)
{
	sth_key *k = new_key("json.pem");
	char id[65], parsed_id[65], err[256] = "";
	sth_key_id(k, id);

	sth h = sample_head();
	assert_int_equal(sth_sign(k, &h), 0);
	char *json = sth_to_json(&h, k);
	assert_non_null(json);

	/* Exact text: compact, documented key order. */
	char root[65], sig[89], want[512];
	for (int i = 0; i < 32; i++)
		snprintf(root + 2 * i, 3, "%02x", h.root_hash[i]);
	assert_int_equal(EVP_EncodeBlock((unsigned char *)sig, h.signature, 64), 88);
	snprintf(want, sizeof(want),
		 "{\"tree_size\":12345,\"timestamp\":1700000000123,\"root_hash\":\"%s\","
		 "\"signature\":\"%s\",\"key_id\":\"%s\"}",
		 root, sig, id);
	assert_string_equal(json, want);

	sth back;
	memset(&back, 0xee, sizeof(back));
	if (sth_from_json(json, strlen(json), &back, parsed_id, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_memory_equal(&back, &h, sizeof(h));
	assert_string_equal(parsed_id, id);
	assert_int_equal(sth_verify(k, &back), 0);
	char *again = sth_to_json(&back, k);
	assert_string_equal(again, json);
	free(again);

	/* key_id is optional for the caller; whitespace between tokens is fine. */
	assert_int_equal(sth_from_json(json, strlen(json), &back, NULL, err, sizeof(err)), 0);
	char spaced[600];
	snprintf(spaced, sizeof(spaced),
		 " {\n \"key_id\" : \"%s\",\n \"signature\":\"%s\",\"root_hash\":\"%s\", "
		 "\"timestamp\":1700000000123,\"tree_size\":12345}\n",
		 id, sig, root);
	memset(&back, 0, sizeof(back));
	assert_int_equal(sth_from_json(spaced, strlen(spaced), &back, parsed_id, err, sizeof(err)),
			 0);
	assert_memory_equal(&back, &h, sizeof(h));
	free(json);

	/* Extremes the JSON form carries. */
	sth e;
	memset(&e, 0, sizeof(e));
	e.tree_size = (uint64_t)INT64_MAX;
	e.timestamp_ms = INT64_MIN;
	assert_int_equal(sth_sign(k, &e), 0);
	json = sth_to_json(&e, k);
	assert_non_null(json);
	assert_non_null(strstr(json, "\"tree_size\":9223372036854775807,"));
	assert_non_null(strstr(json, "\"timestamp\":-9223372036854775808,"));
	assert_int_equal(sth_from_json(json, strlen(json), &back, NULL, err, sizeof(err)), 0);
	assert_memory_equal(&back, &e, sizeof(e));
	free(json);

	/* ...and the one it cannot: jansson integers are signed 64-bit. */
	e.tree_size = (uint64_t)INT64_MAX + 1;
	assert_null(sth_to_json(&e, k));
	assert_null(sth_to_json(&h, NULL));
	sth_key_free(k);
}

/* Valid pieces; the values need not verify, parsing does not check them. */
#define HEX64 "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define B64_64                                                                           \
	"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+" \
	"Pw=="
#define J_SIZE "\"tree_size\":5"
#define J_TS "\"timestamp\":1700000000000"
#define J_ROOT "\"root_hash\":\"" HEX64 "\""
#define J_SIG "\"signature\":\"" B64_64 "\""
#define J_KID "\"key_id\":\"" HEX64 "\""
#define J_VALID "{" J_SIZE "," J_TS "," J_ROOT "," J_SIG "," J_KID "}"

static void test_json_malformed(void **state)
{
	static const struct {
		const char *name, *json, *msg;
	} cases[] = {
		{"missing tree_size", "{" J_TS "," J_ROOT "," J_SIG "," J_KID "}", "missing \"tree_size\""},
		{"missing timestamp", "{" J_SIZE "," J_ROOT "," J_SIG "," J_KID "}", "missing \"timestamp\""},
		{"missing root_hash", "{" J_SIZE "," J_TS "," J_SIG "," J_KID "}", "missing \"root_hash\""},
		{"missing signature", "{" J_SIZE "," J_TS "," J_ROOT "," J_KID "}", "missing \"signature\""},
		{"missing key_id", "{" J_SIZE "," J_TS "," J_ROOT "," J_SIG "}", "missing \"key_id\""},
		{"bad hex root", "{" J_SIZE "," J_TS ",\"root_hash\":\"g0112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\"," J_SIG "," J_KID "}", "\"root_hash\" must be 64 lowercase hex"},
		{"uppercase hex root", "{" J_SIZE "," J_TS ",\"root_hash\":\"00112233445566778899AABBCCDDEEFF00112233445566778899aabbccddeeff\"," J_SIG "," J_KID "}", "\"root_hash\" must be 64 lowercase hex"},
		{"short hex root", "{" J_SIZE "," J_TS ",\"root_hash\":\"112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\"," J_SIG "," J_KID "}", "\"root_hash\" must be 64 lowercase hex"},
		{"long hex root", "{" J_SIZE "," J_TS ",\"root_hash\":\"" HEX64 "00\"," J_SIG "," J_KID "}", "\"root_hash\" must be 64 lowercase hex"},
		{"root not a string", "{" J_SIZE "," J_TS ",\"root_hash\":1," J_SIG "," J_KID "}", "\"root_hash\" must be a string"},
		{"bad hex key_id", "{" J_SIZE "," J_TS "," J_ROOT "," J_SIG ",\"key_id\":\"0x112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\"}", "\"key_id\" must be 64 lowercase hex"},
		{"key_id null", "{" J_SIZE "," J_TS "," J_ROOT "," J_SIG ",\"key_id\":null}", "\"key_id\" must be a string"},
		{"bad base64 char", "{" J_SIZE "," J_TS "," J_ROOT ",\"signature\":\"!AECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw==\"," J_KID "}", "\"signature\" is not base64"},
		{"base64url alphabet", "{" J_SIZE "," J_TS "," J_ROOT ",\"signature\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0-Pw==\"," J_KID "}", "\"signature\" is not base64"},
		{"base64 with newline", "{" J_SIZE "," J_TS "," J_ROOT ",\"signature\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEy\\nMzQ1Njc4OTo7PD0+Pw==\"," J_KID "}", "\"signature\" is not base64"},
		{"base64 '=' inside", "{" J_SIZE "," J_TS "," J_ROOT ",\"signature\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0=Pw==\"," J_KID "}", "\"signature\" is not base64"},
		{"base64 unpadded", "{" J_SIZE "," J_TS "," J_ROOT ",\"signature\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw\"," J_KID "}", "\"signature\" is not padded base64"},
		{"base64 padding bits set", "{" J_SIZE "," J_TS "," J_ROOT ",\"signature\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Px==\"," J_KID "}", "\"signature\" is not canonical base64"},
		{"signature 63 bytes", "{" J_SIZE "," J_TS "," J_ROOT ",\"signature\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+\"," J_KID "}", "\"signature\" is 63 bytes, expected 64"},
		{"signature 65 bytes", "{" J_SIZE "," J_TS "," J_ROOT ",\"signature\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0A=\"," J_KID "}", "\"signature\" is 65 bytes, expected 64"},
		{"signature empty", "{" J_SIZE "," J_TS "," J_ROOT ",\"signature\":\"\"," J_KID "}", "\"signature\" is not padded base64"},
		{"signature hex", "{" J_SIZE "," J_TS "," J_ROOT ",\"signature\":\"" HEX64 HEX64 "\"," J_KID "}", "\"signature\" is 96 bytes, expected 64"},
		{"negative tree_size", "{\"tree_size\":-1," J_TS "," J_ROOT "," J_SIG "," J_KID "}", "\"tree_size\" must not be negative"},
		{"fractional tree_size", "{\"tree_size\":1.5," J_TS "," J_ROOT "," J_SIG "," J_KID "}", "\"tree_size\" must be an integer"},
		{"tree_size as string", "{\"tree_size\":\"5\"," J_TS "," J_ROOT "," J_SIG "," J_KID "}", "\"tree_size\" must be an integer"},
		{"tree_size 2^64", "{\"tree_size\":18446744073709551616," J_TS "," J_ROOT "," J_SIG "," J_KID "}", "not valid JSON"},
		{"tree_size 2^63", "{\"tree_size\":9223372036854775808," J_TS "," J_ROOT "," J_SIG "," J_KID "}", "not valid JSON"},
		{"timestamp real", "{" J_SIZE ",\"timestamp\":1.7e12," J_ROOT "," J_SIG "," J_KID "}", "\"timestamp\" must be an integer"},
		{"timestamp bool", "{" J_SIZE ",\"timestamp\":true," J_ROOT "," J_SIG "," J_KID "}", "\"timestamp\" must be an integer"},
		{"extra key", "{" J_SIZE "," J_TS "," J_ROOT "," J_SIG "," J_KID ",\"extra\":1}", "unexpected key \"extra\""},
		{"extra key first", "{\"v\":1," J_SIZE "," J_TS "," J_ROOT "," J_SIG "," J_KID "}", "unexpected key \"v\""},
		{"duplicate key", "{" J_SIZE "," J_SIZE "," J_TS "," J_ROOT "," J_SIG "," J_KID "}", "not valid JSON"},
		{"trailing data", J_VALID "x", "not valid JSON"},
		{"two objects", J_VALID J_VALID, "not valid JSON"},
		{"truncated", "{" J_SIZE "," J_TS "," J_ROOT "," J_SIG ",\"key_id\":\"00", "not valid JSON"},
		{"array", "[" J_VALID "]", "not a JSON object"},
		{"null", "null", "not valid JSON"},
		{"empty object", "{}", "missing \"tree_size\""},
		{"empty", "", "empty"},
	};

	sth h;
	char id[65], err[256];
	assert_int_equal(sth_from_json(J_VALID, strlen(J_VALID), &h, id, err, sizeof(err)), 0);
	assert_int_equal(h.tree_size, 5);
	assert_int_equal(h.timestamp_ms, 1700000000000);
	assert_string_equal(id, HEX64);

	sth sentinel;
	memset(&sentinel, 0xa5, sizeof(sentinel));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		h = sentinel;
		memset(err, 0, sizeof(err));
		int rc = sth_from_json(cases[i].json, strlen(cases[i].json), &h, id, err, sizeof(err));
		if (rc != -1)
			fail_msg("case \"%s\" was accepted", cases[i].name);
		if (!strstr(err, cases[i].msg))
			fail_msg("case \"%s\": message \"%s\" lacks \"%s\"", cases[i].name, err,
				 cases[i].msg);
		if (memcmp(&h, &sentinel, sizeof(h)) != 0)
			fail_msg("case \"%s\" changed the output", cases[i].name);
	}

	/* len is honoured: a NUL inside the given length is not an end. */
	char withnul[sizeof(J_VALID) + 1];
	memcpy(withnul, J_VALID, sizeof(J_VALID)); /* includes the NUL */
	withnul[sizeof(J_VALID)] = '}';
	assert_int_equal(sth_from_json(withnul, sizeof(withnul), &h, id, err, sizeof(err)), -1);
	/* and bytes past len are not read. */
	assert_int_equal(sth_from_json(J_VALID "garbage", strlen(J_VALID), &h, id, err, sizeof(err)),
			 0);

	/* An escaped NUL in a string, and an oversized input. */
	const char *esc = "{\"tree_size\\u0000\":5}";
	assert_int_equal(sth_from_json(esc, strlen(esc), &h, id, err, sizeof(err)), -1);
	size_t big = 8192;
	char *huge = malloc(big);
	assert_non_null(huge);
	memset(huge, ' ', big);
	memcpy(huge, J_VALID, strlen(J_VALID));
	assert_int_equal(sth_from_json(huge, big, &h, id, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "allowed"));
	free(huge);

	/* err may be absent. */
	assert_int_equal(sth_from_json("{}", 2, &h, NULL, NULL, 0), -1);
}

/* ---- interoperability with the openssl tool ------------------------------ */

static int run(const char *cmd)
{
	int st = system(cmd);
	return (st != -1 && WIFEXITED(st)) ? WEXITSTATUS(st) : -1;
}

static void test_openssl_cli_interop(void **state)
{
	if (run("command -v openssl >/dev/null 2>&1") != 0)
		skip();

	char key[256], pub[256], msg[256], sig[256], sig2[256], cmd[1400];
	path_in(key, sizeof(key), "interop/sth.pem");
	path_in(pub, sizeof(pub), "interop/pub.pem");
	path_in(msg, sizeof(msg), "interop/msg.bin");
	path_in(sig, sizeof(sig), "interop/sig.bin");
	path_in(sig2, sizeof(sig2), "interop/sig2.bin");

	sth_key *k = new_key("interop/sth.pem");
	char *pem = sth_key_public_pem(k);
	assert_non_null(pem);
	write_file(pub, pem, strlen(pem), 0644);
	free(pem);

	sth h = sample_head();
	assert_int_equal(sth_sign(k, &h), 0);
	uint8_t tbs[61];
	sth_signed_bytes(&h, tbs);
	write_file(msg, tbs, sizeof(tbs), 0644);
	write_file(sig, h.signature, sizeof(h.signature), 0644);

	/* Our signature, checked by openssl. */
	snprintf(cmd, sizeof(cmd),
		 "openssl pkeyutl -verify -pubin -inkey '%s' -rawin -in '%s' -sigfile '%s' "
		 ">/dev/null 2>&1",
		 pub, msg, sig);
	assert_int_equal(run(cmd), 0);

	/* A changed message fails there too (so the check above is not vacuous). */
	tbs[20] ^= 1;
	write_file(msg, tbs, sizeof(tbs), 0644);
	assert_int_not_equal(run(cmd), 0);
	tbs[20] ^= 1;
	write_file(msg, tbs, sizeof(tbs), 0644);

	/* Our key file is plain PKCS#8 that openssl signs with, and Ed25519 being
	 * deterministic, it produces our signature byte for byte. */
	snprintf(cmd, sizeof(cmd),
		 "openssl pkeyutl -sign -inkey '%s' -rawin -in '%s' -out '%s' >/dev/null 2>&1", key,
		 msg, sig2);
	assert_int_equal(run(cmd), 0);
	size_t n;
	char *theirs = read_file(sig2, &n);
	assert_int_equal(n, 64);
	assert_memory_equal(theirs, h.signature, 64);
	free(theirs);

	/* key_id as an outside tool computes it. */
	char idfile[256];
	path_in(idfile, sizeof(idfile), "interop/key_id.txt");
	snprintf(cmd, sizeof(cmd),
		 "openssl pkey -pubin -in '%s' -outform DER | tail -c 32 | openssl dgst -sha256 -r "
		 "| cut -c1-64 > '%s'",
		 pub, idfile);
	assert_int_equal(run(cmd), 0);
	char *cli_id = read_file(idfile, NULL);
	char id[65];
	sth_key_id(k, id);
	assert_int_equal(strncmp(cli_id, id, 64), 0);
	free(cli_id);
	sth_key_free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_signed_bytes_layout),
		cmocka_unit_test(test_known_answer),
		cmocka_unit_test(test_key_create_mode_and_reload),
		cmocka_unit_test(test_key_refuses_group_or_other_access),
		cmocka_unit_test(test_key_rejects_unusable_file),
		cmocka_unit_test(test_sign_verify_roundtrip),
		cmocka_unit_test(test_single_bit_flips_fail),
		cmocka_unit_test(test_other_key_fails),
		cmocka_unit_test(test_public_key_load),
		cmocka_unit_test(test_json_roundtrip),
		cmocka_unit_test(test_json_malformed),
		cmocka_unit_test(test_openssl_cli_interop),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
