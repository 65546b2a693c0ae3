/*
 * review — holding a request until people decide (the review stage).
 *
 * A process-wide registry of reviews and grants behind one mutex. The
 * protocol adapter that holds a request opens a review and is told how it
 * ends through its worker's mailbox (review_event_fn runs on that loop);
 * reviewers decide through the admin API (any thread). Every step is
 * written to the audit trail from here: requested, each approval, approved,
 * denied, expired, withdrawn, grant used, grant revoked, and refused
 * attempts (self-approval, not a reviewer).
 *
 * Rules the registry enforces, whoever calls:
 *   - four eyes: a requester never decides their own request;
 *   - only members of the rule's `reviewers` groups decide;
 *   - `approvals` distinct reviewers approve before the request goes on; one
 *     denial ends it;
 *   - a grant is never wider than the rule allows (once < session <
 *     duration, duration <= max_duration) nor than any approver gave, and
 *     it covers only the same user, connection and rule (and, for
 *     `session`, the same client session).
 * Reviews live in memory: a restart ends held requests with their sessions
 * (session_end gateway_restart); nothing held is ever forwarded later.
 */
#ifndef WARDEN_REVIEW_H
#define WARDEN_REVIEW_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/mailbox.h"

#define REVIEW_ID_LEN 33            /* 32 hex + NUL */
#define REVIEW_HISTORY 1000         /* finished reviews kept for listing */

typedef enum {
	REVIEW_PENDING = 0,
	REVIEW_APPROVED,
	REVIEW_DENIED,
	REVIEW_EXPIRED,
	REVIEW_WITHDRAWN,
} review_status;

/* How a held request's review ended, delivered to its owner. */
typedef struct review_outcome {
	review_status status;
	char review_id[REVIEW_ID_LEN];
	char *reviewer;         /* the deciding reviewer (approved: the last approver), or NULL */
	char *comment;          /* denial reason / approval comment, or NULL */
	char *reason;           /* withdrawn: "client_cancel" ... */
} review_outcome;

typedef void (*review_done_fn)(void *owner, review_outcome *o);
void review_outcome_free(review_outcome *o);

/* What is held. Strings are copied. */
typedef struct review_ticket {
	const config_rule *rule;
	const char *session_id;
	const char *user;
	const char *groups_json;
	const char *agent;
	const char *connection;
	const char *statement;
	const char *classification;
	int64_t request_id;     /* the held request's audit entry */
} review_ticket;

/* Resets the registry for a new server (tests may call it again after review_stop). */
void review_start(const warden_config *cfg);
/* Frees everything; pending reviews are left to their owners (sessions end first). */
void review_stop(void);

/*
 * Opens a review; done(owner, outcome) will run on mb's loop exactly once
 * unless the owner withdraws first. Records `requested` and notifies.
 */
void review_open(const review_ticket *t, mailbox *mb, review_done_fn done, void *owner,
		 char id_out[REVIEW_ID_LEN]);
/*
 * The owner gives up (client gone, session closing): 1 when the review was
 * pending (it is withdrawn, recorded with reason, and done will not run),
 * 0 when an outcome is already on its way to done.
 */
int review_withdraw(const char *id, const char *reason);
/* The owner's timer fired: 1 when the review expired now (recorded; done will not run), else 0. */
int review_expire(const char *id);
/* A CancelRequest for the held session (any thread): withdraws with reason client_cancel and tells the owner. */
int review_cancel(const char *id);   /* 1 when a pending review was withdrawn */

/*
 * A reviewer decides (admin API). grant: "once" | "session" | "duration"
 * (NULL = once); duration_s for "duration" (0 = the rule's max_duration).
 * Returns an HTTP status (200 done, 403 four-eyes / not a reviewer, 404 no
 * such review, 409 not pending or already approved by this reviewer, 400
 * bad grant) with a message in err; refused attempts are recorded.
 */
int review_decide(const char *id, const char *reviewer, const char *reviewer_groups_json, int approve,
		  const char *grant, long duration_s, const char *comment, char *err, size_t errlen);

/* JSON views for the admin API (new references). status: NULL = all. */
json_t *review_list_json(const char *status);
json_t *review_get_json(const char *id);    /* NULL when unknown */

/*
 * A grant for this user/connection/rule (and session) still valid? 1 with
 * its id and JSON (for the audit entry) filled, recording `grant_used`; 0.
 */
int review_grant_use(const char *user, const char *connection, const char *rule, const char *session_id,
		     int64_t request_id, char *grant_json, size_t grant_json_len);
/* The client session ended: its session grants end with it. */
void review_session_end(const char *session_id);
json_t *review_grants_json(void);
/* 200 revoked (recorded), 404 unknown or already ended. */
int review_grant_revoke(const char *id, const char *by, char *err, size_t errlen);

const char *review_status_name(review_status s);

#endif
