/*
 * libFuzzer target for what is recorded of a statement and its parameters
 * (policy/redact.c): any bytes as a query text (PostgreSQL's scanner, the
 * credential walk over its tokens, the detectors) and, after a first byte of
 * 'P', as a parameter array (jansson, the detectors over each string). No
 * crash, leak or read past len; a replaced text is as long as it says, holds
 * no NUL before its end when the text held none, and is recorded alike when
 * read again (nothing a second reading would still replace).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy/redact.h"

static int filler(char c)
{
	return c == '*' || c == '\'' || c == ' ';
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
