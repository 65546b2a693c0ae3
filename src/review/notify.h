/*
 * notify — tells reviewers that a request waits for them (and how reviews
 * end) through the webhooks of `notify.webhooks`. One thread with libcurl
 * posts off the worker loops; a webhook that is down is retried with
 * backoff and never blocks, slows or loses a review (the review itself lives
 * in review.c and the audit trail; a notification is best effort, each
 * delivery attempt's outcome is logged).
 *
 * Each POST carries the body's HMAC-SHA256 under the webhook's secret, hex,
 * in the header `X-Warden-Signature: sha256=<hex>`, with `X-Warden-Event`
 * and `X-Warden-Delivery` (a unique id per event and webhook, the same on
 * every retry). Formats:
 *   json   {"event", "review": {"id", "status", "user", "groups", "agent",
 *           "connection", "rule", "statement", "classification",
 *           "approvals_needed", "approvals", "expires"}, "reviewer",
 *           "comment", "url", "time"}
 *   slack  a Block Kit message: the statement (code block), requester,
 *           agent, connection, rule, expiry, and Approve / Deny buttons
 *           linking to the review's URL, plus the CLI commands.
 */
#ifndef WARDEN_NOTIFY_H
#define WARDEN_NOTIFY_H

#include <stddef.h>
#include <stdint.h>

#include "core/config.h"

typedef struct notify_event {
	const char *event;          /* "review.requested", "review.approved", "review.denied",
				     * "review.expired", "review.withdrawn" */
	const char *review_id;
	const char *status;         /* "pending", "approved", "denied", "expired", "withdrawn" */
	const char *user;
	const char *groups_json;    /* JSON array text, or NULL */
	const char *agent;
	const char *connection;
	const char *rule;
	const char *statement;
	const char *classification; /* JSON text, or NULL */
	int approvals_needed;
	int approvals;              /* approvals so far */
	int64_t expires_us;         /* unix microseconds; 0 = none (json: null) */
	const char *reviewer;       /* who decided (approved/denied), or NULL */
	const char *comment;        /* the reviewer's comment or reason, or NULL */
} notify_event;

/* Starts the delivery thread when cfg has webhooks (a no-op otherwise). */
int notify_start(const warden_config *cfg, char *err, size_t errlen) __attribute__((warn_unused_result));
/* Stops the thread; deliveries still pending get up to NOTIFY_STOP_GRACE_MS, then are dropped (logged). */
void notify_stop(void);
/* Queues the event for every webhook (copies everything; never blocks; thread-safe). */
void notify_post(const notify_event *ev);

#define NOTIFY_STOP_GRACE_MS 2000
#define NOTIFY_MAX_ATTEMPTS 6       /* 1 s, 2 s, 4 s, 8 s, 16 s between attempts */
#define NOTIFY_QUEUE_MAX 10000      /* beyond this, the oldest pending delivery is dropped (logged) */

/* The body and signature header value for one webhook (exposed for tests). Returns malloc'd text. */
char *notify_render(const notify_event *ev, config_webhook_format format, const char *review_url);
/* "sha256=<hex of HMAC-SHA256(secret, body)>" into out (at least 72 bytes). */
void notify_sign(const char *secret, const char *body, size_t len, char *out, size_t outlen);

/* notify_render with the event's "time" given (unix microseconds), so one post's webhooks agree. */
char *notify_render_at(const notify_event *ev, config_webhook_format format, const char *review_url,
		       int64_t time_us);
/* Deliveries queued (pending or in flight); for tests and diagnostics. */
size_t notify_pending(void);

#endif
