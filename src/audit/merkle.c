/*
 * merkle — RFC 6962 Merkle tree hashing, roots, frontiers and proofs.
 *
 * Owns: the per-thread SHA-256 context and the once-fetched SHA-256 EVP_MD
 * they share; nothing else is global, and every other function works only on
 * what its caller passes in.
 *
 * Why a reused context: the Merkle work is almost all 65-byte node hashes,
 * where OpenSSL 3's per-call costs dominate. Measured on the development
 * machine (OpenSSL 3.0.19, x86-64 with SHA-NI), ns per hash of 65 / 301 bytes:
 *   SHA256()                                 ~285 / ~385
 *   EVP_Digest(.., EVP_sha256(), ..)         ~275 / ~370
 *   EVP_Digest(.., fetched EVP_MD, ..)       ~125 / ~215
 *   reused EVP_MD_CTX, EVP_DigestInit_ex2    ~105 / ~205   <- used
 *   EVP_MD_CTX_copy_ex of a prefixed context ~104 / ~200   (no gain on nodes)
 * (SHA256() and EVP_sha256() look the implementation up on every call.)
 *
 * Invariants:
 *  - sha256_md is set once (pthread_once) before any thread's context is
 *    used, and never freed; each thread's context is created on its first
 *    hash and freed by the pthread key destructor when the thread exits.
 *  - A failed hash aborts: no function here ever returns a hash that is not
 *    the SHA-256 it claims to be.
 *  - Proof generators write `out` only once they know the proof fits.
 *  - Verifiers read proof[i] only for i < proof_len, and each loop turn
 *    shifts sn right at least once, so a hostile proof_len costs at most 64
 *    turns before it is rejected.
 */
#include "audit/merkle.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* ---- SHA-256 ------------------------------------------------------------- */

static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;
static EVP_MD *sha256_md;
static pthread_key_t sha256_ctx_key;
static _Thread_local EVP_MD_CTX *sha256_ctx;

static void sha256_ctx_free(void *ctx)
{
	EVP_MD_CTX_free(ctx);
	sha256_ctx = NULL;
}

static void sha256_init_once(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (!sha256_md || pthread_key_create(&sha256_ctx_key, sha256_ctx_free) != 0)
		abort();
}

static EVP_MD_CTX *sha256_thread_ctx(void)
{
	if (sha256_ctx)
		return sha256_ctx;
	if (pthread_once(&sha256_once, sha256_init_once) != 0)
		abort();
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx || pthread_setspecific(sha256_ctx_key, ctx) != 0)
		abort();
	sha256_ctx = ctx;
	return ctx;
}

/* out = SHA-256(a || b); b may be NULL when blen == 0. */
static void sha256_two(const void *a, size_t alen, const void *b, size_t blen,
		       uint8_t out[MERKLE_HASH_LEN])
{
	EVP_MD_CTX *ctx = sha256_thread_ctx();
	unsigned int outlen = 0;
	if (EVP_DigestInit_ex2(ctx, sha256_md, NULL) != 1 || EVP_DigestUpdate(ctx, a, alen) != 1 ||
	    (blen > 0 && EVP_DigestUpdate(ctx, b, blen) != 1) ||
	    EVP_DigestFinal_ex(ctx, out, &outlen) != 1 || outlen != MERKLE_HASH_LEN)
		abort();
}

void merkle_leaf_hash(const void *data, size_t len, uint8_t out[MERKLE_HASH_LEN])
{
	static const uint8_t prefix = 0x00;
	sha256_two(&prefix, 1, data, len, out);
}

void merkle_node_hash(const uint8_t left[MERKLE_HASH_LEN], const uint8_t right[MERKLE_HASH_LEN],
		      uint8_t out[MERKLE_HASH_LEN])
{
	/* One contiguous buffer: a single update, and out may alias an input. */
	uint8_t buf[1 + 2 * MERKLE_HASH_LEN];
	buf[0] = 0x01;
	memcpy(buf + 1, left, MERKLE_HASH_LEN);
	memcpy(buf + 1 + MERKLE_HASH_LEN, right, MERKLE_HASH_LEN);
	sha256_two(buf, sizeof(buf), NULL, 0, out);
}

void merkle_empty_root(uint8_t out[MERKLE_HASH_LEN])
{
	sha256_two("", 0, NULL, 0, out);
}

/* ---- roots and the frontier ---------------------------------------------- */

/* The largest power of two strictly less than n; n >= 2. */
static uint64_t split_point(uint64_t n)
{
	return UINT64_C(1) << (63 - __builtin_clzll(n - 1));
}

void merkle_frontier_init(merkle_frontier *f)
{
	memset(f, 0, sizeof(*f));
}

void merkle_frontier_append(merkle_frontier *f, const uint8_t leaf[MERKLE_HASH_LEN])
{
	/* With size < 2^64 - 1 some bit below 64 is clear, so the carry stops
	 * at a level <= 63. */
	if (f->size == UINT64_MAX)
		abort();
	uint8_t carry[MERKLE_HASH_LEN];
	memcpy(carry, leaf, MERKLE_HASH_LEN);
	unsigned level = 0;
	while ((f->size >> level) & 1) {
		merkle_node_hash(f->nodes[level], carry, carry);
		level++;
	}
	memcpy(f->nodes[level], carry, MERKLE_HASH_LEN);
	f->size++;
}

void merkle_frontier_root(const merkle_frontier *f, uint8_t out[MERKLE_HASH_LEN])
{
	if (f->size == 0) {
		merkle_empty_root(out);
		return;
	}
	/* Fold right to left: the smallest (rightmost) subtree first, each
	 * larger one to its left joins as the left child. */
	unsigned level = (unsigned)__builtin_ctzll(f->size);
	uint8_t acc[MERKLE_HASH_LEN];
	memcpy(acc, f->nodes[level], MERKLE_HASH_LEN);
	for (level++; level < 64; level++) {
		if ((f->size >> level) & 1)
			merkle_node_hash(f->nodes[level], acc, acc);
	}
	memcpy(out, acc, MERKLE_HASH_LEN);
}

void merkle_root(const uint8_t (*leaves)[MERKLE_HASH_LEN], uint64_t n, uint8_t out[MERKLE_HASH_LEN])
{
	if (n == 1) {
		memcpy(out, leaves[0], MERKLE_HASH_LEN);
		return;
	}
	merkle_frontier f;
	f.size = 0;
	for (uint64_t i = 0; i < n; i++)
		merkle_frontier_append(&f, leaves[i]);
	merkle_frontier_root(&f, out);
}

/* ---- proofs -------------------------------------------------------------- */

int merkle_inclusion_proof(const uint8_t (*leaves)[MERKLE_HASH_LEN], uint64_t n, uint64_t index,
			   uint8_t out[][MERKLE_HASH_LEN], size_t out_cap)
{
	if (!leaves || index >= n)
		return -1;
	/* Walk down from the root (RFC 6962 PATH), collecting the sibling at
	 * each level; the proof lists them bottom-up. */
	uint8_t path[64][MERKLE_HASH_LEN];
	size_t len = 0;
	uint64_t lo = 0, size = n, i = index;
	while (size > 1) {
		uint64_t k = split_point(size);
		if (i < k) {
			merkle_root(leaves + lo + k, size - k, path[len++]);
			size = k;
		} else {
			merkle_root(leaves + lo, k, path[len++]);
			lo += k;
			i -= k;
			size -= k;
		}
	}
	if (len > out_cap)
		return -1;
	for (size_t j = 0; j < len; j++)
		memcpy(out[j], path[len - 1 - j], MERKLE_HASH_LEN);
	return (int)len;
}

int merkle_consistency_proof(const uint8_t (*leaves)[MERKLE_HASH_LEN], uint64_t m, uint64_t n,
			     uint8_t out[][MERKLE_HASH_LEN], size_t out_cap)
{
	if (!leaves || m == 0 || m > n)
		return -1;
	/* RFC 6962 SUBPROOF(m, D[n], true), unrolled: each level appends the
	 * subtree it does not descend into; where the walk ends, the subtree
	 * root is added first unless it is the old tree's root (b still true),
	 * which the verifier already holds. */
	uint8_t tail[64][MERKLE_HASH_LEN];
	uint8_t first[MERKLE_HASH_LEN];
	size_t tail_len = 0;
	bool whole_old_tree = true;
	uint64_t lo = 0, size = n, mm = m;
	while (mm != size) { /* here 1 <= mm < size, so size >= 2 */
		uint64_t k = split_point(size);
		if (mm <= k) {
			merkle_root(leaves + lo + k, size - k, tail[tail_len++]);
			size = k;
		} else {
			merkle_root(leaves + lo, k, tail[tail_len++]);
			lo += k;
			mm -= k;
			size -= k;
			whole_old_tree = false;
		}
	}
	size_t len = tail_len + (whole_old_tree ? 0 : 1);
	if (len > out_cap)
		return -1;
	size_t pos = 0;
	if (!whole_old_tree) {
		merkle_root(leaves + lo, size, first);
		memcpy(out[pos++], first, MERKLE_HASH_LEN);
	}
	for (size_t j = 0; j < tail_len; j++)
		memcpy(out[pos++], tail[tail_len - 1 - j], MERKLE_HASH_LEN);
	return (int)len;
}

/* ---- verification (RFC 9162 §2.1.3.2, §2.1.4.2) ------------------------ */

int merkle_verify_inclusion(const uint8_t leaf[MERKLE_HASH_LEN], uint64_t index, uint64_t n,
			    const uint8_t (*proof)[MERKLE_HASH_LEN], size_t proof_len,
			    const uint8_t root[MERKLE_HASH_LEN])
{
	if (!leaf || !root || (proof_len > 0 && !proof) || index >= n)
		return -1;
	uint64_t fn = index, sn = n - 1;
	uint8_t r[MERKLE_HASH_LEN];
	memcpy(r, leaf, MERKLE_HASH_LEN);
	for (size_t i = 0; i < proof_len; i++) {
		if (sn == 0)
			return -1; /* more hashes than the path has levels */
		if ((fn & 1) || fn == sn) {
			merkle_node_hash(proof[i], r, r);
			/* Levels where this node has no right sibling add nothing. */
			while (!(fn & 1) && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			merkle_node_hash(r, proof[i], r);
		}
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0)
		return -1; /* fewer hashes than the path has levels */
	return memcmp(r, root, MERKLE_HASH_LEN) == 0 ? 0 : -1;
}

int merkle_verify_consistency(uint64_t m, uint64_t n, const uint8_t old_root[MERKLE_HASH_LEN],
			      const uint8_t new_root[MERKLE_HASH_LEN],
			      const uint8_t (*proof)[MERKLE_HASH_LEN], size_t proof_len)
{
	if (!old_root || !new_root || (proof_len > 0 && !proof) || m == 0 || m > n)
		return -1;
	if (m == n) {
		if (proof_len != 0)
			return -1;
		return memcmp(old_root, new_root, MERKLE_HASH_LEN) == 0 ? 0 : -1;
	}
	if (proof_len == 0)
		return -1;
	/* When m is a power of two the old root is itself a node of the new
	 * tree and the proof leaves it out: the path starts from old_root. */
	const uint8_t *start;
	size_t next;
	if ((m & (m - 1)) == 0) {
		start = old_root;
		next = 0;
	} else {
		start = proof[0];
		next = 1;
	}
	uint64_t fn = m - 1, sn = n - 1;
	while (fn & 1) {
		fn >>= 1;
		sn >>= 1;
	}
	uint8_t fr[MERKLE_HASH_LEN], sr[MERKLE_HASH_LEN];
	memcpy(fr, start, MERKLE_HASH_LEN);
	memcpy(sr, start, MERKLE_HASH_LEN);
	for (size_t i = next; i < proof_len; i++) {
		if (sn == 0)
			return -1;
		if ((fn & 1) || fn == sn) {
			merkle_node_hash(proof[i], fr, fr);
			merkle_node_hash(proof[i], sr, sr);
			while (!(fn & 1) && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			merkle_node_hash(sr, proof[i], sr);
		}
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0)
		return -1;
	if (memcmp(fr, old_root, MERKLE_HASH_LEN) != 0 || memcmp(sr, new_root, MERKLE_HASH_LEN) != 0)
		return -1;
	return 0;
}
