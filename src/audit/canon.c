/*
 * canon — see canon.h. The decoder accepts exactly what the encoder can
 * produce: one version, known tags in ascending order, 8-byte integers, text
 * without NUL, the required fields (id, time_us, seq, kind; request_id and
 * duration_us on results only) and nothing after the last field. So whatever
 * decodes re-encodes to the same bytes; anything else is a tampered or
 * foreign record.
 */
#include "audit/canon.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

enum {
	T_ID = 1, T_TIME, T_SESSION, T_SEQ, T_KIND, T_USER, T_GROUPS, T_AGENT, T_CLIENT_ADDR,
	T_CONNECTION, T_PROTOCOL, T_STARTUP_USER, T_STATEMENT, T_PARAMS, T_DECISION, T_RULE,
	T_REQUEST_ID, T_COMMAND_TAG, T_ROWS, T_ERROR_CODE, T_ERROR_MESSAGE, T_DURATION, T_REASON,
	T_CLASSIFICATION, T_REVIEW, T_GRANT, T_MASKED, T_RESULT, T_LAST = T_RESULT
};

static void put_u32(buf *b, uint32_t v)
{
	char p[4] = {(char)(v >> 24), (char)(v >> 16), (char)(v >> 8), (char)v};
	buf_append(b, p, 4);
}

static void put_int(buf *b, uint8_t tag, int64_t v)
{
	char p[8];
	uint64_t u = (uint64_t)v;
	for (int i = 7; i >= 0; i--, u >>= 8)
		p[i] = (char)(u & 0xff);
	buf_append(b, &tag, 1);
	put_u32(b, 8);
	buf_append(b, p, 8);
}

static void put_text(buf *b, uint8_t tag, const char *s)
{
	if (!s)
		return;
	size_t n = strlen(s);
	buf_append(b, &tag, 1);
	put_u32(b, (uint32_t)n);
	buf_append(b, s, n);
}

void audit_canon_encode(const audit_entry *e, buf *out)
{
	uint8_t version = AUDIT_CANON_VERSION;
	buf_append(out, &version, 1);
	put_int(out, T_ID, e->id);
	put_int(out, T_TIME, e->time_us);
	put_text(out, T_SESSION, e->session);
	put_int(out, T_SEQ, e->seq);
	put_text(out, T_KIND, audit_kind_name(e->kind));
	put_text(out, T_USER, e->user);
	put_text(out, T_GROUPS, e->groups);
	put_text(out, T_AGENT, e->agent);
	put_text(out, T_CLIENT_ADDR, e->client_addr);
	put_text(out, T_CONNECTION, e->connection);
	put_text(out, T_PROTOCOL, e->protocol);
	put_text(out, T_STARTUP_USER, e->startup_user);
	put_text(out, T_STATEMENT, e->statement);
	put_text(out, T_PARAMS, e->params);
	put_text(out, T_DECISION, e->decision);
	put_text(out, T_RULE, e->rule);
	int result = e->kind == AUDIT_RESULT;
	if (result || (e->kind == AUDIT_REVIEW && e->request_id > 0))
		put_int(out, T_REQUEST_ID, e->request_id);
	put_text(out, T_COMMAND_TAG, e->command_tag);
	if (e->rows >= 0)
		put_int(out, T_ROWS, e->rows);
	put_text(out, T_ERROR_CODE, e->error_code);
	put_text(out, T_ERROR_MESSAGE, e->error_message);
	if (result)
		put_int(out, T_DURATION, e->duration_us);
	put_text(out, T_REASON, e->reason);
	put_text(out, T_CLASSIFICATION, e->classification);
	put_text(out, T_REVIEW, e->review);
	put_text(out, T_GRANT, e->grant);
	put_text(out, T_MASKED, e->masked);
	put_text(out, T_RESULT, e->result);
}

void audit_canon_set_id(char *bytes, int64_t id)
{
	uint64_t u = (uint64_t)id;
	for (int i = 7; i >= 0; i--, u >>= 8)
		bytes[AUDIT_CANON_ID_OFFSET + i] = (char)(u & 0xff);
}

static int64_t get_int(const unsigned char *p)
{
	uint64_t u = 0;
	for (int i = 0; i < 8; i++)
		u = u << 8 | p[i];
	return (int64_t)u;
}

static int is_int_tag(unsigned tag)
{
	return tag == T_ID || tag == T_TIME || tag == T_SEQ || tag == T_REQUEST_ID ||
	       tag == T_ROWS || tag == T_DURATION;
}

static char **text_slot(audit_entry *e, unsigned tag)
{
	switch (tag) {
	case T_SESSION: return &e->session;
	case T_USER: return &e->user;
	case T_GROUPS: return &e->groups;
	case T_AGENT: return &e->agent;
	case T_CLIENT_ADDR: return &e->client_addr;
	case T_CONNECTION: return &e->connection;
	case T_PROTOCOL: return &e->protocol;
	case T_STARTUP_USER: return &e->startup_user;
	case T_STATEMENT: return &e->statement;
	case T_PARAMS: return &e->params;
	case T_DECISION: return &e->decision;
	case T_RULE: return &e->rule;
	case T_COMMAND_TAG: return &e->command_tag;
	case T_ERROR_CODE: return &e->error_code;
	case T_ERROR_MESSAGE: return &e->error_message;
	case T_REASON: return &e->reason;
	case T_CLASSIFICATION: return &e->classification;
	case T_REVIEW: return &e->review;
	case T_GRANT: return &e->grant;
	case T_MASKED: return &e->masked;
	case T_RESULT: return &e->result;
	default: return NULL;
	}
}

#define FAIL(...)                                    \
	do {                                         \
		snprintf(err, errlen, __VA_ARGS__);  \
		audit_entry_free(e);                 \
		return -1;                           \
	} while (0)

int audit_canon_decode(const void *bytes, size_t len, audit_entry **out, char *err, size_t errlen)
{
	const unsigned char *p = bytes;
	*out = NULL;
	audit_entry *e = audit_entry_new(AUDIT_REQUEST);
	if (!e) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	uint32_t seen = 0;
	if (len < 1 || p[0] != AUDIT_CANON_VERSION)
		FAIL("unknown entry encoding version %d", len ? p[0] : -1);
	size_t pos = 1;
	unsigned last = 0;
	int have_kind = 0;
	while (pos < len) {
		if (len - pos < 5)
			FAIL("truncated field header at byte %zu", pos);
		unsigned tag = p[pos];
		uint32_t n = (uint32_t)p[pos + 1] << 24 | (uint32_t)p[pos + 2] << 16 |
			     (uint32_t)p[pos + 3] << 8 | p[pos + 4];
		pos += 5;
		if (tag <= last || tag > T_LAST)
			FAIL("field tag %u out of order or unknown at byte %zu", tag, pos - 5);
		last = tag;
		seen |= 1u << tag;
		if (n > len - pos)
			FAIL("field %u runs past the end", tag);
		const unsigned char *v = p + pos;
		pos += n;
		if (is_int_tag(tag)) {
			if (n != 8)
				FAIL("integer field %u has length %u", tag, n);
			int64_t x = get_int(v);
			switch (tag) {
			case T_ID: e->id = x; break;
			case T_TIME: e->time_us = x; break;
			case T_SEQ: e->seq = x; break;
			case T_REQUEST_ID: e->request_id = x; break;
			case T_ROWS:
				if (x < 0)
					FAIL("negative rows");
				e->rows = x;
				break;
			default: e->duration_us = x; break;
			}
			continue;
		}
		if (memchr(v, '\0', n))
			FAIL("text field %u contains NUL", tag);
		if (tag == T_KIND) {
			char name[32];
			if (n >= sizeof(name))
				FAIL("unknown kind");
			memcpy(name, v, n);
			name[n] = '\0';
			if (audit_kind_parse(name, &e->kind) != 0)
				FAIL("unknown kind \"%s\"", name);
			have_kind = 1;
			continue;
		}
		*text_slot(e, tag) = util_strndup((const char *)v, n);
	}
	uint32_t required = 1u << T_ID | 1u << T_TIME | 1u << T_SEQ | 1u << T_KIND;
	if ((seen & required) != required || !have_kind)
		FAIL("required field missing (id, time_us, seq and kind are required)");
	/* request_id and duration_us belong to results, and results have both; a review may name its request */
	uint32_t result_only = 1u << T_REQUEST_ID | 1u << T_DURATION;
	uint32_t allowed = e->kind == AUDIT_REVIEW ? 1u << T_REQUEST_ID : 0;
	if (e->kind == AUDIT_RESULT ? (seen & result_only) != result_only
				    : (seen & result_only & ~allowed) != 0)
		FAIL("request_id and duration_us must appear on results (a review may name its request_id)");
	if (e->kind == AUDIT_REVIEW && (seen & 1u << T_REQUEST_ID) && e->request_id <= 0)
		FAIL("a review's request_id must be positive");
	*out = e;
	return 0;
}
