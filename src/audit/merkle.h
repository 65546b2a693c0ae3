/*
 * merkle — RFC 6962 (Certificate Transparency) Merkle tree hashing and proofs.
 *
 * The tree over leaves d[0..n) is the one of RFC 6962 §2.1:
 *   MTH({})      = SHA-256("")                      (merkle_empty_root)
 *   MTH({d0})    = SHA-256(0x00 || d0)              (merkle_leaf_hash)
 *   MTH(D[n])    = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n])),
 *                  k = the largest power of two < n (merkle_node_hash)
 * so roots and proofs here are byte-for-byte those of any other RFC 6962 /
 * RFC 9162 implementation (Trillian, transparency-dev/merkle, CT logs).
 *
 * Every function below except the leaf hash takes leaf *hashes*, not leaf
 * data: hash each record once with merkle_leaf_hash and keep the 32 bytes.
 *
 * Proof hashes are ordered as in RFC 6962 (the sibling nearest the leaf
 * first). The verifiers follow RFC 9162 §2.1.3.2 and §2.1.4.2; they accept
 * any input, however hostile, and answer 0 (proved) or -1 (anything else).
 *
 * Note on what an inclusion proof binds: as in every RFC 6962 verifier, a
 * proof checks the path shape that (index, n) implies, not n itself, so a
 * proof for leaf i in a tree of size n also verifies for a size n' whose
 * path from leaf i has the same shape (e.g. leaf 0 in sizes 3 and 4). The
 * tree size must come from the signed/committed tree head, never from the
 * party presenting the proof.
 *
 * Hashing uses OpenSSL 3 (a fetched SHA-256 EVP_MD and one reused EVP_MD_CTX
 * per thread); all functions are thread-safe. OpenSSL failing to hash
 * (memory exhaustion allocating a thread's context) aborts the process: a
 * tamper-evident log has no safe way to continue without its hash.
 */
#ifndef WARDEN_AUDIT_MERKLE_H
#define WARDEN_AUDIT_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#define MERKLE_HASH_LEN 32
/* Longest proof either generator can produce: a tree has at most 2^64 - 1
 * leaves, so at most 64 levels; an inclusion proof has one hash per level
 * (<= 64), a consistency proof at most one more (<= 65). Size proof buffers
 * with it. */
#define MERKLE_MAX_PROOF 65

/* SHA-256(0x00 || data[0..len)). data may be NULL when len == 0. */
void merkle_leaf_hash(const void *data, size_t len, uint8_t out[MERKLE_HASH_LEN]);
/* SHA-256(0x01 || left || right). out may alias left or right. */
void merkle_node_hash(const uint8_t left[MERKLE_HASH_LEN], const uint8_t right[MERKLE_HASH_LEN],
		      uint8_t out[MERKLE_HASH_LEN]);
/* SHA-256("") = e3b0c442...b855, the root of the tree of no leaves. */
void merkle_empty_root(uint8_t out[MERKLE_HASH_LEN]);

/*
 * Root of the tree of leaf hashes leaves[0..n); n == 0 gives the empty root
 * (leaves may then be NULL). O(n) hashing, a fixed 2 KiB of stack.
 */
void merkle_root(const uint8_t (*leaves)[MERKLE_HASH_LEN], uint64_t n, uint8_t out[MERKLE_HASH_LEN]);

/*
 * Compact range ("frontier") of a growing log: appending a leaf is amortised
 * O(1) hashes, the root of everything appended so far O(log n).
 * Invariant: nodes[h] is the root of a perfect subtree of 2^h leaves exactly
 * when bit h of size is set; the subtrees lie left to right from the highest
 * set bit to the lowest. Other entries are unspecified. The struct is plain
 * data: it may be copied, stored and restored as it is.
 */
typedef struct merkle_frontier {
	uint64_t size;
	uint8_t nodes[64][MERKLE_HASH_LEN];
} merkle_frontier;

void merkle_frontier_init(merkle_frontier *f);
/* Appends one leaf hash. Aborts if f already holds 2^64 - 1 leaves. */
void merkle_frontier_append(merkle_frontier *f, const uint8_t leaf[MERKLE_HASH_LEN]);
/* Root of the f->size leaves appended so far (the empty root for none). */
void merkle_frontier_root(const merkle_frontier *f, uint8_t out[MERKLE_HASH_LEN]);

/*
 * Inclusion proof (RFC 6962 §2.1.1 PATH) of leaf `index` in the tree of the
 * first n leaf hashes. Writes the proof to out[0..len) and returns len (at
 * most 64; 0 for n == 1), or -1 when index >= n, leaves is
 * NULL or the proof would not fit in out_cap hashes (out is then unchanged).
 * O(n) hashing.
 */
int merkle_inclusion_proof(const uint8_t (*leaves)[MERKLE_HASH_LEN], uint64_t n, uint64_t index,
			   uint8_t out[][MERKLE_HASH_LEN], size_t out_cap)
	__attribute__((warn_unused_result));

/* 0 when proof[0..proof_len) shows leaf hash `leaf` at `index` in a tree of
 * size n whose root is `root`; -1 otherwise (including index >= n, NULL
 * pointers, a proof too short or too long). */
int merkle_verify_inclusion(const uint8_t leaf[MERKLE_HASH_LEN], uint64_t index, uint64_t n,
			    const uint8_t (*proof)[MERKLE_HASH_LEN], size_t proof_len,
			    const uint8_t root[MERKLE_HASH_LEN]) __attribute__((warn_unused_result));

/*
 * Consistency proof (RFC 6962 §2.1.2 PROOF / SUBPROOF) between the tree of
 * the first m leaf hashes and the tree of the first n, 0 < m <= n. Writes it
 * to out[0..len) and returns len (0 when m == n), or -1 when m == 0, m > n,
 * leaves is NULL or the proof would not fit in out_cap hashes. O(n) hashing.
 */
int merkle_consistency_proof(const uint8_t (*leaves)[MERKLE_HASH_LEN], uint64_t m, uint64_t n,
			     uint8_t out[][MERKLE_HASH_LEN], size_t out_cap)
	__attribute__((warn_unused_result));

/* 0 when proof[0..proof_len) shows the tree of size m with root old_root is
 * a prefix of the tree of size n with root new_root; -1 otherwise (including
 * m == 0, m > n, NULL pointers, a proof too short or too long). For m == n
 * the proof must be empty and the roots equal. */
int merkle_verify_consistency(uint64_t m, uint64_t n, const uint8_t old_root[MERKLE_HASH_LEN],
			      const uint8_t new_root[MERKLE_HASH_LEN],
			      const uint8_t (*proof)[MERKLE_HASH_LEN], size_t proof_len)
	__attribute__((warn_unused_result));

#endif
