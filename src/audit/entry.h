/*
 * audit entry — one append-only record of the audit trail.
 *
 * An entry is created on a worker, handed to the audit writer (which owns it
 * from then on) and never changed after it is committed. The same fields are
 * the JSON Lines export, so an outside tool sees exactly what is stored.
 *
 * Strings are heap-allocated and may be NULL (absent). `groups` and `params`
 * hold JSON text (an array), so the store and the export need not re-encode.
 */
#ifndef WARDEN_AUDIT_ENTRY_H
#define WARDEN_AUDIT_ENTRY_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
	AUDIT_SESSION_START = 0,
	AUDIT_REQUEST,
	AUDIT_RESULT,
	AUDIT_SESSION_END,
	AUDIT_AUTH_FAILURE,
	AUDIT_REVIEW,           /* one event of a review: requested, approval, approved, denied, ... */
} audit_kind;
#define AUDIT_KIND_LAST AUDIT_REVIEW

typedef struct audit_entry {
	int64_t id;             /* global, assigned by audit_submit() in commit order */
	int64_t time_us;        /* unix time, microseconds */
	char *session;          /* session id: 32 hex chars */
	int64_t seq;            /* per-session sequence number, from 0 */
	audit_kind kind;

	char *user;             /* identity name (from the credential) */
	char *groups;           /* JSON array text, e.g. ["dev"] */
	char *agent;            /* application_name / User-Agent / MCP clientInfo */
	char *client_addr;      /* "ip:port" */
	char *connection;       /* target connection name */
	char *protocol;         /* "postgres" */
	char *startup_user;     /* what the client claimed (recorded, not trusted) */

	/* request */
	char *statement;        /* SQL text */
	char *params;           /* JSON array text; strings, null, or {"hex":"..."} for binary */
	char *decision;         /* "allow" | "deny" | ... */
	char *rule;             /* the rule that decided */
	char *classification;   /* JSON text: what the statement does (kinds, objects, ...) */

	/* result */
	int64_t request_id;     /* id of the request this result belongs to */
	char *command_tag;      /* e.g. "SELECT 3"; several joined with "; " */
	int64_t rows;           /* -1 when unknown */
	char *error_code;       /* SQLSTATE */
	char *error_message;
	int64_t duration_us;    /* from forward to completion */

	/* session_end / auth_failure; review: the reviewer's comment or the reason */
	char *reason;

	/* review: `decision` holds the event ("requested", "approval", "approved", "denied",
	 * "expired", "withdrawn", "grant_used", "grant_revoked", "refused"), `user` who acted,
	 * `request_id` the held request, `rule` the rule */
	char *review;           /* the review's id */
	char *grant;            /* JSON text: {"id", "kind", "expires"} of the grant given or used */

	/* result: what the mask stage did and, with audit.capture_results masked, the rows */
	char *masked;           /* JSON text: {"profile": "pii", "email": 3, "column": 1, ...} values masked
				 * per detector; on a request, {"profile": ...}: its results go out masked */
	char *result;           /* JSON text: {"columns": [...], "rows": [[...]], "truncated": bool} */
} audit_entry;

const char *audit_kind_name(audit_kind k);
int audit_kind_parse(const char *s, audit_kind *out);

audit_entry *audit_entry_new(audit_kind kind);  /* zeroed; rows = -1; time = now */
void audit_entry_free(audit_entry *e);

/*
 * The export object (one line of `warden audit export`): id, time, session,
 * seq, kind, user, groups, agent, client_addr, connection, protocol,
 * startup_user, then per kind — request: statement, params, decision, rule,
 * classification;
 * result: request_id, command_tag, rows, error_code, error_message,
 * duration_us, then masked and result when present; session_end / auth_failure: reason. Keys in that order; absent
 * strings (and rows = -1) are null; groups and params are embedded as JSON.
 * Returns a new reference, or NULL when out of memory.
 */
json_t *audit_entry_to_json(const audit_entry *e) __attribute__((warn_unused_result));

/* RFC 3339 UTC with microseconds: "2026-11-25T20:22:27.123456Z". */
#define AUDIT_TIME_LEN 32
/* Writes time_us into buf (AUDIT_TIME_LEN bytes suffice); returns 0, or -1 if it does not fit. */
int audit_time_format(int64_t time_us, char *buf, size_t len) __attribute__((warn_unused_result));

#endif
