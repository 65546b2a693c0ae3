/*
 * canon — the canonical bytes of an audit entry: what the Merkle leaf hash
 * covers, what the store keeps, and what an outside tool recomputes.
 *
 *   entry = 0x01 field*                    (version 1)
 *   field = tag:u8 length:u32be value      (tags strictly ascending, each at most once)
 *
 * Integers are 8 bytes, big-endian two's complement; text is its bytes as
 * recorded (no terminator, no NUL inside). Absent fields are left out.
 * Tag 1 (id) always comes first, so its value sits at a fixed offset.
 *
 *   1 id          int      9 client_addr  text   17 request_id     int
 *   2 time_us     int     10 connection   text   18 command_tag    text
 *   3 session     text    11 protocol     text   19 rows           int
 *   4 seq         int     12 startup_user text   20 error_code     text
 *   5 kind        text    13 statement    text   21 error_message  text
 *   6 user        text    14 params       text   22 duration_us    int
 *   7 groups      text    15 decision     text   23 reason         text
 *   8 agent       text    16 rule         text
 *
 * kind is one of session_start, request, result, session_end, auth_failure;
 * request_id and duration_us appear on results only, rows when known.
 */
#ifndef WARDEN_AUDIT_CANON_H
#define WARDEN_AUDIT_CANON_H

#include <stddef.h>
#include <stdint.h>

#include "audit/entry.h"
#include "core/buf.h"

#define AUDIT_CANON_VERSION 1
#define AUDIT_CANON_ID_OFFSET 6   /* version, tag, length: then the id's 8 bytes */

/* Appends the canonical bytes of e to out. */
void audit_canon_encode(const audit_entry *e, buf *out);
/* Overwrites the id inside canonical bytes produced by audit_canon_encode. */
void audit_canon_set_id(char *bytes, int64_t id);
/* Strict decoder: 0 and a new entry, or -1 with the reason in err. */
int audit_canon_decode(const void *bytes, size_t len, audit_entry **out, char *err, size_t errlen)
	__attribute__((warn_unused_result));

#endif
