/*
 * session — the protocol-neutral session and request model every adapter
 * fills in, and the audit entries built from it. A protocol adapter embeds a
 * `session`, sets who/what/where once (identify), describes each request in a
 * `request_desc` (classify), and calls the stages in order:
 *
 *   policy_decide() -> session_request_entry() -> audit_submit() -> forward
 *   -> session_result_entry() -> audit_submit()
 *
 * Nothing here knows a wire format.
 */
#ifndef WARDEN_SESSION_H
#define WARDEN_SESSION_H

#include <stdint.h>

#include "audit/entry.h"

typedef struct session {
	char id[33];            /* 128 random bits, hex */
	int64_t next_seq;
	int64_t started_us;
	const char *protocol;   /* static: "postgres" */
	char *user;             /* identity name; NULL until identified */
	char *groups_json;      /* JSON array text */
	char *agent;
	char *client_addr;
	char *connection;
	char *startup_user;
	char *target_user;      /* the role warden logs in to the target as ("$user" in search_path) */
	struct policy_session *policy;  /* the decide stage's per-session state */
	/*
	 * The tables schema.table inherits from, at any depth (a partition's
	 * parent and its parent's, an inheritance child's), as "schema.table"
	 * into *out (malloc'd, each string too); returns how many, or -1 when the
	 * target's catalog cannot say (the policy then fails closed). NULL: no
	 * table has any (an adapter that cannot ask its target).
	 */
	int (*parents)(void *ctx, const char *schema, const char *table, char ***out);
	void *parents_ctx;
	/*
	 * The columns of schema.table a unique index or an exclusion constraint
	 * decides on (its own, a partition's or a child's), as parents gives
	 * parents: a write to one answers whether a value is there. NULL: none.
	 */
	int (*uniques)(void *ctx, const char *schema, const char *table, char ***out);
	void *uniques_ctx;
	/*
	 * The columns of schema.table a foreign key holds, each followed by the
	 * column it references ("schema.table.column"), as pairs into *out (an
	 * even count; -1: not known): a write to one answers whether a value
	 * is in the referenced column. NULL: none.
	 */
	int (*references)(void *ctx, const char *schema, const char *table, char ***out);
	void *references_ctx;
	/*
	 * The columns of schema.table whose type is JSON (json, jsonb, an array
	 * of one, a domain over one), as parents gives parents: json_keys mask
	 * values inside their documents, so computing on one is refused. NULL:
	 * none.
	 */
	int (*json_columns)(void *ctx, const char *schema, const char *table, char ***out);
	void *json_columns_ctx;
	/*
	 * The columns of schema.table whose type is a number, and as "!name"
	 * each of another type named as a number column is somewhere; -1 when
	 * the catalog does not list schema.table (or cannot say): transforms:
	 * refuse lets a statement cast a number column to another number.
	 * NULL: none known.
	 */
	int (*number_columns)(void *ctx, const char *schema, const char *table, char ***out);
	void *number_columns_ctx;
	int recorded;           /* session_start was submitted */
} session;

/* What a request asks for, in protocol-neutral terms. */
typedef struct request_desc {
	const char *statement;  /* SQL text; may be NULL */
	size_t statement_len;
	const char *params_json;/* JSON array text or NULL */
	int function_call;      /* PostgreSQL's FunctionCall: a function by OID, no SQL text to read */
	const char *function_name; /* its function, quoted ("pg_catalog"."lo_open"), when the target's
				    * catalog named it; NULL: unknown */
} request_desc;

/* Result of a forwarded request, accumulated by the adapter. */
typedef struct request_result {
	const char *command_tag;
	int64_t rows;
	const char *error_code, *error_message;
	int64_t duration_us;
	const char *masked;     /* JSON text: values masked per detector, or NULL */
	const char *result;     /* JSON text: the captured (masked) rows, or NULL */
} request_result;

void session_init(session *s, const char *protocol);
void session_release(session *s);

/*
 * Each returns a new entry with the session id and the next seq. Who and
 * where (user, groups, agent, addresses, connection) go on session_start and
 * auth_failure entries only: the store shows them on every entry of the
 * session from there.
 */
audit_entry *session_entry(session *s, audit_kind kind);
audit_entry *session_request_entry(session *s, const request_desc *r, const char *decision,
				   const char *rule, const char *classification);
audit_entry *session_result_entry(session *s, int64_t request_id, const request_result *res);
audit_entry *session_end_entry(session *s, const char *reason);

#endif
