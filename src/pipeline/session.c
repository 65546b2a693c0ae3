/* session — see session.h. */
#include "pipeline/session.h"

#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "policy/policy.h"
#include "policy/redact.h"

void session_init(session *s, const char *protocol)
{
	memset(s, 0, sizeof(*s));
	unsigned char raw[16];
	util_random(raw, sizeof(raw));
	util_hex(raw, sizeof(raw), s->id);
	s->protocol = protocol;
	s->started_us = util_now_us();
	s->policy = policy_session_new();
}

void session_release(session *s)
{
	free(s->user);
	free(s->groups_json);
	free(s->agent);
	free(s->client_addr);
	free(s->connection);
	free(s->startup_user);
	free(s->target_user);
	policy_session_free(s->policy);
	memset(s, 0, sizeof(*s));
}

audit_entry *session_entry(session *s, audit_kind kind)
{
	audit_entry *e = audit_entry_new(kind);
	e->session = util_strndup(s->id, strlen(s->id));
	e->seq = s->next_seq++;
	/* who and where are recorded once per session (see audit/store_sqlite.c) */
	if (kind != AUDIT_SESSION_START && kind != AUDIT_AUTH_FAILURE)
		return e;
	e->user = util_strdup_or_null(s->user);
	e->groups = util_strdup_or_null(s->groups_json);
	e->agent = util_strdup_or_null(s->agent);
	e->client_addr = util_strdup_or_null(s->client_addr);
	e->connection = util_strdup_or_null(s->connection);
	e->protocol = util_strdup_or_null(s->protocol);
	e->startup_user = util_strdup_or_null(s->startup_user);
	return e;
}

audit_entry *session_request_entry(session *s, const request_desc *r, const char *decision,
				   const char *rule, const char *classification)
{
	audit_entry *e = session_entry(s, AUDIT_REQUEST);
	if (r->statement)
		e->statement = util_strndup(r->statement, r->statement_len);
	e->params = util_strdup_or_null(r->params_json);
	e->decision = util_strdup_or_null(decision);
	e->rule = util_strdup_or_null(rule);
	e->classification = util_strdup_or_null(classification);
	return e;
}

audit_entry *session_result_entry(session *s, int64_t request_id, const request_result *res)
{
	audit_entry *e = session_entry(s, AUDIT_RESULT);
	e->request_id = request_id;
	e->command_tag = util_strdup_or_null(res->command_tag);
	e->rows = res->rows;
	e->error_code = util_strdup_or_null(res->error_code);
	/* "invalid input syntax for type integer: \"<what was sent>\"": a key typed in goes no further */
	char *msg = res->error_message ? redact_text(res->error_message, strlen(res->error_message)) : NULL;
	e->error_message = msg ? msg : util_strdup_or_null(res->error_message);
	e->duration_us = res->duration_us;
	e->masked = util_strdup_or_null(res->masked);
	e->result = util_strdup_or_null(res->result);
	return e;
}

audit_entry *session_end_entry(session *s, const char *reason)
{
	audit_entry *e = session_entry(s, AUDIT_SESSION_END);
	e->reason = util_strdup_or_null(reason);
	return e;
}
