/*
 * libFuzzer target for the canonical audit entry decoder: arbitrary bytes
 * (a tampered store) must be rejected or decoded, never crash; whatever
 * decodes must re-encode to exactly the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "audit/canon.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	audit_entry *e = NULL;
	char err[200];
	if (audit_canon_decode(data, size, &e, err, sizeof(err)) != 0)
		return 0;
	buf b = {0};
	audit_canon_encode(e, &b);
	/* decoding is strict enough that the encoding is unique */
	if (b.len != size || memcmp(b.data, data, size) != 0)
		abort();
	buf_free(&b);
	audit_entry_free(e);
	return 0;
}
