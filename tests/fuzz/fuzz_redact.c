/*
 * libFuzzer target for what is recorded of a statement and its parameters
 * (policy/redact.c): any bytes as a query text (PostgreSQL's scanner, the
 * credential walk over its tokens, the detectors) and, after a first byte of
 * 'P', as a parameter array (jansson, the detectors over each string). No
 * crash, leak or read past len; a replaced text is as long as it says, holds
 * no NUL before its end when the text held none, and invents nothing: less
 * its stars, quotes and blanks it is a subsequence of the text sent (a
 * credential is only ever taken out). A text the scanner reads is recorded
 * as the same token kinds, so it parses and classifies as the text sent. The
 * replaced text is read again too (what the detectors leave can be another
 * shape to them: no fixed point is promised).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <pg_query.h>
#include <pg_query/pg_query.pb-c.h>

#include "policy/redact.h"

static int filler(char c)
{
	return c == '*' || c == '\'' || c == ' ';
}

/* The token kinds of a NUL-terminated text (a literal of either kind as one
 * kind): how many into *n, the kinds into k (up to cap); -1 when it does not scan. */
static int kinds(const char *z, int *k, size_t cap, size_t *n)
{
	PgQueryScanResult r = pg_query_scan(z);
	PgQuery__ScanResult *res =
		r.error ? NULL : pg_query__scan_result__unpack(NULL, r.pbuf.len, (const uint8_t *)r.pbuf.data);
	int rc = res ? 0 : -1;
	if (res) {
		*n = res->n_tokens;
		for (size_t i = 0; i < res->n_tokens && i < cap; i++)
			k[i] = res->tokens[i]->token == PG_QUERY__TOKEN__USCONST ? PG_QUERY__TOKEN__SCONST
										: (int)res->tokens[i]->token;
		pg_query__scan_result__free_unpacked(res, NULL);
	}
	pg_query_free_scan_result(r);
	return rc;
}

/* out less filler is a subsequence of in less filler */
static int taken_out_only(const char *in, size_t n, const char *out, size_t m)
{
	size_t i = 0;
	for (size_t k = 0; k < m; k++) {
		if (filler(out[k]))
			continue;
		while (i < n && (filler(in[i]) || in[i] != out[k]))
			i++;
		if (i == n)
			return 0;
		i++;
	}
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size && data[0] == 'P') {
		char *j = malloc(size);
		if (!j)
			return 0;
		memcpy(j, data + 1, size - 1);
		j[size - 1] = '\0';
		char *r = redact_params(j);
		free(redact_params(r));
		free(r);
		free(j);
		return 0;
	}
	char *text = malloc(size ? size : 1); /* exactly size bytes: ASan sees a read past len */
	if (!text)
		return 0;
	memcpy(text, data, size);
	size_t len = 0;
	char *r = redact_statement(text, size, &len);
	if (r) {
		if (r[len] != '\0' || (!memchr(text, 0, size) && strlen(r) != len) || !taken_out_only(text, size, r, len))
			abort();
		/* a text the scanner reads is recorded as the same tokens: the same
		 * statements, classified alike (a literal or a comment holds less) */
		if (!memchr(text, 0, size)) {
			char *z = malloc(size + 1);
			if (z) {
				memcpy(z, text, size);
				z[size] = '\0';
				static int ka[4096], kb[4096];
				size_t na = 0, nb = 0;
				if (kinds(z, ka, 4096, &na) == 0 && na <= 4096 &&
				    (kinds(r, kb, 4096, &nb) != 0 || na != nb || memcmp(ka, kb, na * sizeof(int)) != 0))
					abort();
				free(z);
			}
		}
		size_t len2 = 0;
		char *again = redact_statement(r, len, &len2);
		if (again && (again[len2] != '\0' || !taken_out_only(r, len, again, len2)))
			abort();
		free(again);
	}
	free(r);
	free(text);
	return 0;
}
