/*
 * pg codec — see codec.h. Every length from the wire is checked against what
 * is actually there before it is used; nothing here allocates except the
 * JSON text of bind parameters and the message builder.
 */
#include "proto/pg/codec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

static void put_be32(char *p, uint32_t v);

void pg_reader_init(pg_reader *r, const char *p, size_t len)
{
	r->p = p;
	r->len = len;
	r->pos = 0;
	r->bad = 0;
}

const char *pg_get_bytes(pg_reader *r, size_t n)
{
	if (r->bad || n > r->len - r->pos) {
		r->bad = 1;
		return NULL;
	}
	const char *p = r->p + r->pos;
	r->pos += n;
	return p;
}

uint8_t pg_get_u8(pg_reader *r)
{
	const char *p = pg_get_bytes(r, 1);
	return p ? (uint8_t)p[0] : 0;
}

int16_t pg_get_i16(pg_reader *r)
{
	const unsigned char *p = (const unsigned char *)pg_get_bytes(r, 2);
	return p ? (int16_t)((uint16_t)p[0] << 8 | p[1]) : 0;
}

int32_t pg_get_i32(pg_reader *r)
{
	const char *p = pg_get_bytes(r, 4);
	return p ? (int32_t)pg_be32(p) : 0;
}

const char *pg_get_str(pg_reader *r, size_t *len_out)
{
	if (r->bad)
		return NULL;
	const char *start = r->p + r->pos;
	const char *nul = memchr(start, '\0', r->len - r->pos);
	if (!nul) {
		r->bad = 1;
		return NULL;
	}
	if (len_out)
		*len_out = (size_t)(nul - start);
	r->pos += (size_t)(nul - start) + 1;
	return start;
}

int pg_frame(const char *p, size_t avail, size_t max, char *type, size_t *total)
{
	if (avail < 5)
		return 0;
	uint32_t len = pg_be32(p + 1);
	if (len < 4 || (size_t)len + 1 > max)
		return -1;
	*type = p[0];
	*total = (size_t)len + 1;
	return 1;
}

int pg_parse_startup(const char *p, size_t len, pg_startup *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (len < 8 || pg_be32(p) != len) {
		snprintf(err, errlen, "invalid startup packet length");
		return -1;
	}
	out->code = pg_be32(p + 4);
	switch (out->code) {
	case PG_SSL_REQUEST:
	case PG_GSSENC_REQUEST:
		if (len != 8) {
			snprintf(err, errlen, "invalid length of SSL/GSS request");
			return -1;
		}
		return 0;
	case PG_CANCEL_REQUEST:
		if (len != 16) {
			snprintf(err, errlen, "invalid length of cancel request");
			return -1;
		}
		out->cancel_pid = pg_be32(p + 8);
		out->cancel_key = pg_be32(p + 12);
		return 0;
	default:
		break;
	}
	if (out->code >> 16 != 3) {
		snprintf(err, errlen, "unsupported frontend protocol %u.%u: warden speaks 3.0",
			 out->code >> 16, out->code & 0xffff);
		return -1;
	}
	pg_reader r;
	pg_reader_init(&r, p + 8, len - 8);
	for (;;) {
		size_t nlen;
		const char *name = pg_get_str(&r, &nlen);
		if (!name)
			break;
		if (nlen == 0) {
			if (r.pos != r.len) {
				snprintf(err, errlen, "invalid startup packet layout: bytes after the terminator");
				return -1;
			}
			if (!out->user) {
				snprintf(err, errlen, "no PostgreSQL user name specified in startup packet");
				return -1;
			}
			if (!out->database || !*out->database)
				out->database = out->user;
			return 0;
		}
		const char *value = pg_get_str(&r, NULL);
		if (!value)
			break;
		if (out->n_params == PG_MAX_STARTUP_PARAMS) {
			snprintf(err, errlen, "too many startup parameters (at most %d)", PG_MAX_STARTUP_PARAMS);
			return -1;
		}
		out->params[out->n_params].name = name;
		out->params[out->n_params].value = value;
		out->n_params++;
		if (strcmp(name, "user") == 0)
			out->user = value;
		else if (strcmp(name, "database") == 0)
			out->database = value;
		else if (strcmp(name, "application_name") == 0)
			out->application_name = value;
	}
	snprintf(err, errlen, "invalid startup packet layout: expected terminator as last byte");
	return -1;
}

/* ---- building ---- */

size_t pg_msg_begin(buf *b, char type)
{
	buf_reserve(b, 5);
	if (type)
		b->data[b->len++] = type;
	size_t at = b->len;
	b->len += 4;
	return at;
}

static void put_be32(char *p, uint32_t v)
{
	p[0] = (char)(v >> 24);
	p[1] = (char)(v >> 16);
	p[2] = (char)(v >> 8);
	p[3] = (char)v;
}

void pg_put_u8(buf *b, uint8_t v)
{
	buf_append(b, &v, 1);
}

void pg_put_i16(buf *b, int16_t v)
{
	char p[2] = {(char)((uint16_t)v >> 8), (char)v};
	buf_append(b, p, 2);
}

void pg_put_i32(buf *b, int32_t v)
{
	char p[4];
	put_be32(p, (uint32_t)v);
	buf_append(b, p, 4);
}

void pg_put_str(buf *b, const char *s)
{
	buf_append(b, s, strlen(s) + 1);
}

void pg_put_bytes(buf *b, const void *p, size_t n)
{
	buf_append(b, p, n);
}

void pg_msg_end(buf *b, size_t at)
{
	put_be32(b->data + at, (uint32_t)(b->len - at));
}

void pg_put_error(buf *b, const char *severity, const char *sqlstate, const char *message,
		  const char *detail, const char *hint)
{
	size_t at = pg_msg_begin(b, 'E');
	pg_put_u8(b, 'S');
	pg_put_str(b, severity);
	pg_put_u8(b, 'V');
	pg_put_str(b, severity);
	pg_put_u8(b, 'C');
	pg_put_str(b, sqlstate);
	pg_put_u8(b, 'M');
	pg_put_str(b, message);
	if (detail) {
		pg_put_u8(b, 'D');
		pg_put_str(b, detail);
	}
	if (hint) {
		pg_put_u8(b, 'H');
		pg_put_str(b, hint);
	}
	pg_put_u8(b, 0);
	pg_msg_end(b, at);
}

void pg_put_ready(buf *b, char tx_status)
{
	size_t at = pg_msg_begin(b, 'Z');
	pg_put_u8(b, (uint8_t)tx_status);
	pg_msg_end(b, at);
}

void pg_put_query(buf *b, const char *sql)
{
	size_t at = pg_msg_begin(b, 'Q');
	pg_put_str(b, sql);
	pg_msg_end(b, at);
}

void pg_put_parse(buf *b, const char *name, const char *sql)
{
	size_t at = pg_msg_begin(b, 'P');
	pg_put_str(b, name);
	pg_put_str(b, sql);
	pg_put_i16(b, 0);
	pg_msg_end(b, at);
}

void pg_put_execute(buf *b, const char *portal)
{
	size_t at = pg_msg_begin(b, 'E');
	pg_put_str(b, portal);
	pg_put_i32(b, 0);
	pg_msg_end(b, at);
}

/* ---- decoding ---- */

int pg_parse_error_fields(const char *body, size_t len, pg_error_fields *out)
{
	memset(out, 0, sizeof(*out));
	pg_reader r;
	pg_reader_init(&r, body, len);
	for (;;) {
		uint8_t field = pg_get_u8(&r);
		if (r.bad)
			return -1;
		if (field == 0)
			return 0;
		const char *v = pg_get_str(&r, NULL);
		if (!v)
			return -1;
		switch (field) {
		case 'V':
			out->severity = v;
			break;
		case 'S':
			if (!out->severity)
				out->severity = v;
			break;
		case 'C':
			out->code = v;
			break;
		case 'M':
			out->message = v;
			break;
		default:
			break;
		}
	}
}

static void json_append_str(buf *b, const char *s, size_t n)
{
	char *j = util_json_string(s, n);
	buf_append(b, j, strlen(j));
	free(j);
}

/*
 * Format codes, then the values (Bind's parameters, FunctionCall's
 * arguments), from r as a JSON array text into *json: text values as
 * strings, NULL as null, binary values as {"hex":"..."}. 0, or -1 when
 * malformed (then *json is NULL).
 */
static int values_json(pg_reader *r, char **json)
{
	*json = NULL;
	int16_t n_formats = pg_get_i16(r);
	if (r->bad || n_formats < 0)
		return -1;
	const char *formats = pg_get_bytes(r, (size_t)n_formats * 2);
	int16_t n_values = pg_get_i16(r);
	if (r->bad || n_values < 0 || (n_formats > 1 && n_formats != n_values))
		return -1;
	buf out = {0};
	buf_append(&out, "[", 1);
	for (int i = 0; i < n_values; i++) {
		int32_t vlen = pg_get_i32(r);
		if (r->bad || vlen < -1)
			goto bad;
		if (i)
			buf_append(&out, ",", 1);
		if (vlen == -1) {
			buf_append(&out, "null", 4);
			continue;
		}
		const char *v = pg_get_bytes(r, (size_t)vlen);
		if (!v)
			goto bad;
		int binary = 0;
		if (n_formats == 1)
			binary = formats[1] == 1;
		else if (n_formats > 1)
			binary = formats[2 * i + 1] == 1;
		if (binary) {
			char *hex = util_xmalloc((size_t)vlen * 2 + 1);
			util_hex((const unsigned char *)v, (size_t)vlen, hex);
			buf_append(&out, "{\"hex\":\"", 8);
			buf_append(&out, hex, (size_t)vlen * 2);
			buf_append(&out, "\"}", 2);
			free(hex);
		} else {
			json_append_str(&out, v, (size_t)vlen);
		}
	}
	buf_append(&out, "]", 2); /* includes the NUL */
	*json = out.data;
	return 0;
bad:
	buf_free(&out);
	return -1;
}

int pg_parse_bind(const char *body, size_t len, const char **portal, const char **stmt,
		  char **params_json)
{
	pg_reader r;
	pg_reader_init(&r, body, len);
	*params_json = NULL;
	*portal = pg_get_str(&r, NULL);
	*stmt = pg_get_str(&r, NULL);
	if (r.bad || values_json(&r, params_json) != 0)
		return -1;
	int16_t n_result_formats = pg_get_i16(&r);
	if (r.bad || n_result_formats < 0 || !pg_get_bytes(&r, (size_t)n_result_formats * 2) ||
	    r.pos != r.len) {
		free(*params_json);
		*params_json = NULL;
		return -1;
	}
	return 0;
}

int pg_parse_function_call(const char *body, size_t len, uint32_t *oid, char **args_json)
{
	pg_reader r;
	pg_reader_init(&r, body, len);
	*args_json = NULL;
	*oid = (uint32_t)pg_get_i32(&r);
	if (r.bad || values_json(&r, args_json) != 0)
		return -1;
	int16_t result_format = pg_get_i16(&r);
	if (r.bad || (result_format != 0 && result_format != 1) || r.pos != r.len) {
		free(*args_json);
		*args_json = NULL;
		return -1;
	}
	return 0;
}

int64_t pg_tag_rows(const char *tag)
{
	const char *sp = strrchr(tag, ' ');
	if (!sp || !sp[1])
		return -1;
	static const char *const counted[] = {"SELECT", "INSERT", "UPDATE", "DELETE", "MERGE",
					      "COPY",   "FETCH",  "MOVE"};
	size_t word = strcspn(tag, " ");
	int known = 0;
	for (size_t i = 0; i < sizeof(counted) / sizeof(counted[0]); i++)
		if (strlen(counted[i]) == word && memcmp(tag, counted[i], word) == 0)
			known = 1;
	if (!known)
		return -1;
	char *end;
	long long v = strtoll(sp + 1, &end, 10);
	return *end == '\0' && v >= 0 ? v : -1;
}
