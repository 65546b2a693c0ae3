/*
 * libFuzzer target for src/audit/merkle.c: the verifiers get whatever a
 * hostile log or client could send.
 *
 * Input layout (short inputs are zero-padded to the 81-byte header):
 *   [0]       flags: bit 0 folds the sizes into 0..255 so that small,
 *             mostly well-formed trees are reached often
 *   [1..8]    a   (little-endian u64): the leaf index / old size m
 *   [9..16]   b   (little-endian u64): the tree size n / new size
 *   [17..48]  h1: the leaf hash / old root
 *   [49..80]  h2: the root / new root
 *   [81..]    proof hashes, 32 bytes each (a trailing partial hash is
 *             dropped), copied to an exact-size heap buffer so ASan flags
 *             any read past proof_len; none at all is passed as NULL.
 * Both verifiers run on the same fields, with the arguments as given and
 * swapped. Then an oracle: for a small tree built from the input, the
 * generated inclusion and consistency proofs must verify (abort if not).
 *
 * Seed: head -c 81 /dev/zero; or any bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "audit/merkle.h"

#define HEADER 81
#define ORACLE_MAX 48

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void oracle(uint64_t a, uint64_t b, const uint8_t *seed)
{
	static uint8_t leaves[ORACLE_MAX][MERKLE_HASH_LEN];
	uint8_t proof[MERKLE_MAX_PROOF][MERKLE_HASH_LEN];
	uint8_t root_n[MERKLE_HASH_LEN], root_m[MERKLE_HASH_LEN];
	uint64_t n = b % ORACLE_MAX + 1, index = a % n, m = index + 1;

	for (uint64_t i = 0; i < n; i++) {
		uint8_t data[MERKLE_HASH_LEN + 8];
		memcpy(data, seed, MERKLE_HASH_LEN);
		memcpy(data + MERKLE_HASH_LEN, &i, 8);
		merkle_leaf_hash(data, sizeof(data), leaves[i]);
	}
	merkle_root((const uint8_t(*)[MERKLE_HASH_LEN])leaves, n, root_n);
	merkle_root((const uint8_t(*)[MERKLE_HASH_LEN])leaves, m, root_m);

	int len = merkle_inclusion_proof((const uint8_t(*)[MERKLE_HASH_LEN])leaves, n, index, proof,
					 MERKLE_MAX_PROOF);
	if (len < 0 || merkle_verify_inclusion(leaves[index], index, n,
					       (const uint8_t(*)[MERKLE_HASH_LEN])proof,
					       (size_t)len, root_n) != 0)
		abort();
	len = merkle_consistency_proof((const uint8_t(*)[MERKLE_HASH_LEN])leaves, m, n, proof,
				       MERKLE_MAX_PROOF);
	if (len < 0 || merkle_verify_consistency(m, n, root_m, root_n,
						 (const uint8_t(*)[MERKLE_HASH_LEN])proof,
						 (size_t)len) != 0)
		abort();

	merkle_frontier f;
	merkle_frontier_init(&f);
	for (uint64_t i = 0; i < n; i++)
		merkle_frontier_append(&f, leaves[i]);
	uint8_t fr[MERKLE_HASH_LEN];
	merkle_frontier_root(&f, fr);
	if (memcmp(fr, root_n, MERKLE_HASH_LEN) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t head[HEADER] = {0};
	memcpy(head, data, size < HEADER ? size : HEADER);

	uint64_t a = le64(head + 1), b = le64(head + 9);
	if (head[0] & 1) {
		a &= 0xff;
		b &= 0xff;
	}
	const uint8_t *h1 = head + 17, *h2 = head + 49;

	size_t proof_len = size > HEADER ? (size - HEADER) / MERKLE_HASH_LEN : 0;
	uint8_t(*proof)[MERKLE_HASH_LEN] = NULL;
	if (proof_len > 0) {
		proof = malloc(proof_len * MERKLE_HASH_LEN);
		if (!proof)
			return 0;
		memcpy(proof, data + HEADER, proof_len * MERKLE_HASH_LEN);
	}
	const uint8_t(*cproof)[MERKLE_HASH_LEN] = (const uint8_t(*)[MERKLE_HASH_LEN])proof;

	volatile int sink = 0;
	sink += merkle_verify_inclusion(h1, a, b, cproof, proof_len, h2);
	sink += merkle_verify_inclusion(h2, b, a, cproof, proof_len, h1);
	sink += merkle_verify_consistency(a, b, h1, h2, cproof, proof_len);
	sink += merkle_verify_consistency(b, a, h2, h1, cproof, proof_len);
	(void)sink;

	free(proof);
	oracle(a, b, h1);
	return 0;
}
