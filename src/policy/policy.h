/*
 * policy — the decide stage. Given who asks (the neutral session) and what
 * (the neutral request: SQL text), classifies every statement with sqlclass,
 * runs the ordered rules of `policy:` (first match decides, per statement)
 * and returns the request's decision: the strictest over its statements.
 * Knows nothing about wire formats.
 *
 * Matching, per statement (keys AND, lists OR, fnmatch globs for names):
 *   users, groups, agents (case-insensitive), connections — who and where;
 *   kinds, statements (command words), flags — what the statement does;
 *   objects ("schema.table"; an unqualified name matches through the
 *   session's search_path, pg_catalog only for pg_* names), functions
 *   (a pattern without a dot matches the bare name).
 * An allow rule that matches on kinds or statements does not cover a
 * statement calling one of policy.dangerous_functions unless it names the
 * function or the dangerous_function flag: "reads are allowed" never means
 * "pg_read_file is allowed". No rule matched: policy.default (deny when a
 * policy section exists, allow without one).
 *
 * Per-session state (policy_session): SQL-level PREPARE name -> the prepared
 * statement's classification, so `EXECUTE name` is decided as what it runs;
 * the search_path set by SET statements. Classifications are cached per
 * thread by normalized text (pg_query_normalize), so a repeated statement
 * costs a normalization and a lookup, not a parse.
 */
#ifndef WARDEN_POLICY_H
#define WARDEN_POLICY_H

#include <stdio.h>

#include "core/config.h"
#include "pipeline/session.h"

/* Ordered by strictness: the request takes the largest over its statements. */
typedef enum { POLICY_ALLOW = 0, POLICY_REVIEW, POLICY_DENY } policy_action;

typedef struct policy_decision {
	policy_action action;
	const char *rule;       /* deciding rule's name (owned by the config) or "default" */
	int stmt;               /* index of the deciding statement, -1 when none */
	char *message;          /* deny/review: ErrorResponse message (what was detected) */
	char *detail;           /* the rule's own message, or NULL */
	char *hint;             /* what the user can do instead */
	char *classification;   /* compact JSON summary for the audit entry; NULL for no statement */
	int mask_profile;       /* allowed: masking.profiles index its results are masked with, -1 none */
	int capture_unmaskable; /* allowed in clear, and it computes on a column the profile the audit
				 * captures clear results with masks whole: capture none of its rows */
	uint32_t kinds;         /* what its statements do, together (sqlclass.h's SQLK_*) */
} policy_decision;

typedef struct policy_session policy_session;

policy_session *policy_session_new(void);
void policy_session_free(policy_session *st);

/*
 * Decides request r for session s under policy p and updates st (prepared
 * names, search_path) when the request is allowed. The decision's strings are
 * owned by out; release them with policy_decision_release().
 */
void policy_decide(const config_policy *p, policy_session *st, const session *s,
		   const request_desc *r, policy_decision *out);
void policy_decision_release(policy_decision *d);

/*
 * `warden policy explain`: prints each statement's classification and the
 * rule that decides it (and the rules skipped on the way, with why) to out.
 * Returns the request's action.
 */
policy_action policy_explain(const config_policy *p, policy_session *st, const session *s,
			     const char *sql, FILE *out);

const char *policy_action_name(policy_action a);

#endif
