/*
 * pg codec — framing and field access for the PostgreSQL v3 protocol.
 *
 * Pure functions over byte ranges: nothing here owns a socket or a session,
 * so the same code serves the proxy, the unit tests and the fuzzer. Every
 * reader is bounds-checked and reports malformed input instead of reading
 * past the end: the bytes come from untrusted peers.
 *
 *   regular message:  type(1) | length(4, includes itself) | body(length-4)
 *   startup message:  length(4) | code(4) | body
 */
#ifndef WARDEN_PG_CODEC_H
#define WARDEN_PG_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

#define PG_PROTOCOL_V3 196608u
#define PG_SSL_REQUEST 80877103u
#define PG_GSSENC_REQUEST 80877104u
#define PG_CANCEL_REQUEST 80877102u

/* ---- reading ---- */

typedef struct pg_reader {
	const char *p;
	size_t len, pos;
	int bad;                /* set once any read ran past the end */
} pg_reader;

void pg_reader_init(pg_reader *r, const char *p, size_t len);
uint8_t pg_get_u8(pg_reader *r);
int16_t pg_get_i16(pg_reader *r);
int32_t pg_get_i32(pg_reader *r);
/* A NUL-terminated string inside the range; returns NULL (and sets bad) if unterminated. */
const char *pg_get_str(pg_reader *r, size_t *len_out);
const char *pg_get_bytes(pg_reader *r, size_t n);

/* Inline: the mask stage reads every value's length of every row with it. */
static inline uint32_t pg_be32(const char *p)
{
	const unsigned char *u = (const unsigned char *)p;
	return (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 | (uint32_t)u[2] << 8 | u[3];
}

/*
 * Regular message header at p (avail bytes). Returns 1 with type and total
 * length (1 + length field) when the 5-byte header is there, 0 when more bytes
 * are needed, -1 when the length field is < 4 or the total exceeds max.
 */
int pg_frame(const char *p, size_t avail, size_t max, char *type, size_t *total);

/* ---- startup packet ---- */

typedef struct pg_startup_param {
	const char *name, *value;   /* point into the packet */
} pg_startup_param;

#define PG_MAX_STARTUP_PARAMS 64

typedef struct pg_startup {
	uint32_t code;              /* protocol version or a special request code */
	uint32_t cancel_pid, cancel_key;
	pg_startup_param params[PG_MAX_STARTUP_PARAMS];
	size_t n_params;
	const char *user, *database, *application_name;
} pg_startup;

/*
 * Parses a whole startup packet (including its length word). Returns 0, or -1
 * with a reason in err (malformed, unsupported protocol version, ...).
 */
int pg_parse_startup(const char *p, size_t len, pg_startup *out, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* ---- building ---- */

/* Returns where the length goes; type 0 begins a startup packet (no type byte). */
size_t pg_msg_begin(buf *b, char type);
void pg_put_u8(buf *b, uint8_t v);
void pg_put_i16(buf *b, int16_t v);
void pg_put_i32(buf *b, int32_t v);
void pg_put_str(buf *b, const char *s);     /* with its NUL */
void pg_put_bytes(buf *b, const void *p, size_t n);
void pg_msg_end(buf *b, size_t at);         /* fills in the length at `at` */

/* ErrorResponse with S/V/C/M and optional D/H fields. */
void pg_put_error(buf *b, const char *severity, const char *sqlstate, const char *message,
		  const char *detail, const char *hint);
void pg_put_ready(buf *b, char tx_status);
void pg_put_query(buf *b, const char *sql);
void pg_put_execute(buf *b, const char *portal);   /* all rows */
void pg_put_parse(buf *b, const char *name, const char *sql);  /* no parameter types */

/* ---- decoding messages warden looks into ---- */

typedef struct pg_error_fields {
	const char *severity, *code, *message;
} pg_error_fields;

/* ErrorResponse / NoticeResponse body. Returns 0 or -1. */
int pg_parse_error_fields(const char *body, size_t len, pg_error_fields *out);

/*
 * Bind body -> portal name, statement name and the parameter values as a
 * JSON array text (text values as strings, NULL as null, binary values as
 * {"hex":"..."}). Returns 0 or -1; *params_json is malloc'd.
 */
int pg_parse_bind(const char *body, size_t len, const char **portal, const char **stmt,
		  char **params_json) __attribute__((warn_unused_result));

/*
 * FunctionCall body -> the function's OID and its arguments as a JSON array
 * text, as pg_parse_bind gives parameters. Returns 0 or -1 (malformed: a
 * length past the end, a result format other than 0 or 1, bytes left over);
 * *args_json is malloc'd.
 */
int pg_parse_function_call(const char *body, size_t len, uint32_t *oid, char **args_json);

/* Rows affected/returned from a CommandComplete tag ("INSERT 0 5" -> 5), or -1. */
int64_t pg_tag_rows(const char *tag);

#endif
