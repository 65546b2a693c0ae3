/*
 * libFuzzer target for the PostgreSQL message codec: the startup packet
 * parser, message framing, and the decoders warden applies to messages from
 * clients (Bind, FunctionCall, Query text) and targets (ErrorResponse,
 * CommandComplete).
 * The input is treated as a startup packet and then as a stream of regular
 * messages, the way the proxy sees bytes from a peer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/pg/codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	pg_startup st;
	char err[200];
	if (pg_parse_startup(p, size, &st, err, sizeof(err)) == 0) {
		for (size_t i = 0; i < st.n_params; i++)
			if (strlen(st.params[i].name) + strlen(st.params[i].value) > size)
				abort();
	}
	size_t pos = 0;
	while (pos < size) {
		char type;
		size_t total;
		int rc = pg_frame(p + pos, size - pos, 1 << 20, &type, &total);
		if (rc <= 0 || total > size - pos)
			break;
		const char *body = p + pos + 5;
		size_t blen = total - 5;
		switch (type) {
		case 'B': {
			const char *portal, *stmt;
			char *params = NULL;
			if (pg_parse_bind(body, blen, &portal, &stmt, &params) == 0) {
				if (!params || params[0] != '[')
					abort();
				free(params);
			}
			break;
		}
		case 'F': {
			uint32_t oid;
			char *args = NULL;
			if (pg_parse_function_call(body, blen, &oid, &args) == 0) {
				if (!args || args[0] != '[')
					abort();
				free(args);
			} else if (args) {
				abort();
			}
			break;
		}
		case 'E':
		case 'N': {
			pg_error_fields f;
			(void)pg_parse_error_fields(body, blen, &f);
			break;
		}
		case 'C': {
			char *tag = malloc(blen + 1);
			memcpy(tag, body, blen);
			tag[blen] = '\0';
			(void)pg_tag_rows(tag);
			free(tag);
			break;
		}
		default: {
			pg_reader r;
			pg_reader_init(&r, body, blen);
			while (!r.bad && r.pos < r.len)
				(void)pg_get_str(&r, NULL);
			break;
		}
		}
		pos += total;
	}
	return 0;
}
