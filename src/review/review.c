/* review — see review.h. One mutex guards every review and grant. */
#include "review/review.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "audit/audit.h"
#include "audit/entry.h"
#include "core/log.h"
#include "core/util.h"
#include "review/notify.h"

typedef struct approval {
	char *reviewer;
	char *comment;
	int64_t time_us;
	config_grant grant;
	long duration_s;
} approval;

typedef struct review {
	struct review *next;
	char id[REVIEW_ID_LEN];
	review_status status;
	const config_rule *rule;
	char *rule_name;
	char *session_id, *user, *groups_json, *agent, *connection, *statement, *classification;
	int64_t request_id;
	int64_t created_us, expires_us, decided_us;
	approval *approvals;
	size_t n_approvals;
	char *decided_by, *comment, *reason;
	int64_t events;         /* the review's own event counter: the seq of its audit entries */
	/* the owner, while it waits */
	mailbox *mb;
	review_done_fn done;
	void *owner;
} review;

typedef struct grant {
	struct grant *next;
	char id[REVIEW_ID_LEN];
	config_grant kind;
	char *user, *connection, *rule, *session_id, *granted_by, *review_id;
	int64_t created_us, expires_us;     /* expires 0: session grant */
	int64_t uses;
	int ended;
} grant;

static uv_mutex_t lock;
static uv_once_t lock_once = UV_ONCE_INIT;
static review *reviews;         /* newest first; finished ones kept up to REVIEW_HISTORY */
static grant *grants;
static const warden_config *config;

static void init_lock(void)
{
	if (uv_mutex_init(&lock) != 0)
		abort();
}

const char *review_status_name(review_status s)
{
	static const char *const names[] = { "pending", "approved", "denied", "expired", "withdrawn" };
	return (unsigned)s < 5 ? names[s] : "unknown";
}

static const char *grant_name(config_grant g)
{
	return g == CONFIG_GRANT_SESSION ? "session" : g == CONFIG_GRANT_DURATION ? "duration" : "once";
}

static void review_free(review *r)
{
	free(r->rule_name);
	free(r->session_id);
	free(r->user);
	free(r->groups_json);
	free(r->agent);
	free(r->connection);
	free(r->statement);
	free(r->classification);
	for (size_t i = 0; i < r->n_approvals; i++) {
		free(r->approvals[i].reviewer);
		free(r->approvals[i].comment);
	}
	free(r->approvals);
	free(r->decided_by);
	free(r->comment);
	free(r->reason);
	free(r);
}

static void grant_free(grant *g)
{
	free(g->user);
	free(g->connection);
	free(g->rule);
	free(g->session_id);
	free(g->granted_by);
	free(g->review_id);
	free(g);
}

void review_outcome_free(review_outcome *o)
{
	if (!o)
		return;
	free(o->reviewer);
	free(o->comment);
	free(o->reason);
	free(o);
}

void review_start(const warden_config *cfg)
{
	uv_once(&lock_once, init_lock);
	config = cfg;
}

void review_stop(void)
{
	uv_once(&lock_once, init_lock);
	uv_mutex_lock(&lock);
	while (reviews) {
		review *r = reviews;
		reviews = r->next;
		review_free(r);
	}
	while (grants) {
		grant *g = grants;
		grants = g->next;
		grant_free(g);
	}
	config = NULL;
	uv_mutex_unlock(&lock);
}

/* ---- audit and notification (called with the lock held) ---- */

static void record(review *r, const char *event, const char *actor, const char *comment,
		   const char *grant_json)
{
	audit_entry *e = audit_entry_new(AUDIT_REVIEW);
	e->session = util_strdup_or_null(r->session_id);
	e->seq = r->events++;
	e->user = util_strdup_or_null(actor);
	e->decision = util_strdup_or_null(event);
	e->rule = util_strdup_or_null(r->rule_name);
	e->request_id = r->request_id;
	e->reason = util_strdup_or_null(comment);
	e->review = util_strdup_or_null(r->id);
	e->grant = util_strdup_or_null(grant_json);
	audit_entry *one[1] = {e};
	/* queued for the next commit; a store failure is logged by the writer and retried */
	if (audit_submit(one, 1, NULL, NULL, NULL) != 0)
		log_error("review %s: the %s event could not be recorded", r->id, event);
}

static void announce(review *r, const char *event, const char *actor, const char *comment)
{
	notify_event ev = {
		.event = event,
		.review_id = r->id,
		.status = review_status_name(r->status),
		.user = r->user,
		.groups_json = r->groups_json,
		.agent = r->agent,
		.connection = r->connection,
		.rule = r->rule_name,
		.statement = r->statement,
		.classification = r->classification,
		.approvals_needed = r->rule ? r->rule->approvals : 1,
		.approvals = (int)r->n_approvals,
		.expires_us = r->expires_us,
		.reviewer = actor,
		.comment = comment,
	};
	notify_post(&ev);
}

/* Drops the oldest finished reviews beyond REVIEW_HISTORY. */
static void trim_history(void)
{
	size_t n = 0;
	for (review **p = &reviews; *p;) {
		review *r = *p;
		if (r->status != REVIEW_PENDING && ++n > REVIEW_HISTORY) {
			*p = r->next;
			review_free(r);
			continue;
		}
		p = &r->next;
	}
}

static review *find(const char *id)
{
	for (review *r = reviews; r; r = r->next)
		if (strcmp(r->id, id) == 0)
			return r;
	return NULL;
}

/* ---- the owner side ---- */

void review_open(const review_ticket *t, mailbox *mb, review_done_fn done, void *owner,
		 char id_out[REVIEW_ID_LEN])
{
	uv_once(&lock_once, init_lock);
	review *r = calloc(1, sizeof(*r));
	if (!r)
		abort();
	unsigned char raw[16];
	util_random(raw, sizeof(raw));
	util_hex(raw, sizeof(raw), r->id);
	r->rule = t->rule;
	r->rule_name = util_strdup_or_null(t->rule ? t->rule->name : NULL);
	r->session_id = util_strdup_or_null(t->session_id);
	r->user = util_strdup_or_null(t->user);
	r->groups_json = util_strdup_or_null(t->groups_json);
	r->agent = util_strdup_or_null(t->agent);
	r->connection = util_strdup_or_null(t->connection);
	r->statement = util_strdup_or_null(t->statement);
	r->classification = util_strdup_or_null(t->classification);
	r->request_id = t->request_id;
	r->created_us = util_now_us();
	r->expires_us = r->created_us + (int64_t)(t->rule ? t->rule->timeout_s : 600) * 1000000;
	r->mb = mb;
	r->done = done;
	r->owner = owner;
	memcpy(id_out, r->id, REVIEW_ID_LEN);
	uv_mutex_lock(&lock);
	r->next = reviews;
	reviews = r;
	record(r, "requested", r->user, NULL, NULL);
	announce(r, "review.requested", NULL, NULL);
	uv_mutex_unlock(&lock);
	log_info("review %s: %s via %s on %s held for rule \"%s\"", r->id, r->user ? r->user : "?",
		 r->agent ? r->agent : "-", r->connection ? r->connection : "?", r->rule_name ? r->rule_name : "?");
}

/* Ends a pending review (lock held). */
static void finish(review *r, review_status st, const char *by, const char *comment, const char *reason)
{
	r->status = st;
	r->decided_us = util_now_us();
	r->decided_by = util_strdup_or_null(by);
	r->comment = util_strdup_or_null(comment);
	r->reason = util_strdup_or_null(reason);
}

typedef struct delivery {
	review_done_fn done;
	void *owner;
	review_outcome *o;
} delivery;

static void deliver_on_loop(void *arg, int status)
{
	(void)status;
	delivery *d = arg;
	d->done(d->owner, d->o);
	free(d);
}

/* Tells the owner (lock held); the owner will not be told again. */
static void tell_owner(review *r)
{
	if (!r->done)
		return;
	review_outcome *o = calloc(1, sizeof(*o));
	delivery *d = calloc(1, sizeof(*d));
	if (!o || !d)
		abort();
	o->status = r->status;
	memcpy(o->review_id, r->id, REVIEW_ID_LEN);
	o->reviewer = util_strdup_or_null(r->decided_by);
	o->comment = util_strdup_or_null(r->comment);
	o->reason = util_strdup_or_null(r->reason);
	d->done = r->done;
	d->owner = r->owner;
	d->o = o;
	r->done = NULL;
	r->owner = NULL;
	mailbox_post(r->mb, deliver_on_loop, d, 0);
}

int review_withdraw(const char *id, const char *reason)
{
	uv_once(&lock_once, init_lock);
	int rc = 0;
	uv_mutex_lock(&lock);
	review *r = find(id);
	if (r && r->status == REVIEW_PENDING) {
		finish(r, REVIEW_WITHDRAWN, NULL, NULL, reason);
		r->done = NULL;
		r->owner = NULL;
		record(r, "withdrawn", r->user, reason, NULL);
		announce(r, "review.withdrawn", NULL, reason);
		trim_history();
		rc = 1;
	}
	uv_mutex_unlock(&lock);
	return rc;
}

int review_expire(const char *id)
{
	uv_once(&lock_once, init_lock);
	int rc = 0;
	uv_mutex_lock(&lock);
	review *r = find(id);
	if (r && r->status == REVIEW_PENDING) {
		finish(r, REVIEW_EXPIRED, NULL, NULL, "timeout");
		r->done = NULL;
		r->owner = NULL;
		record(r, "expired", NULL, NULL, NULL);
		announce(r, "review.expired", NULL, NULL);
		trim_history();
		rc = 1;
	}
	uv_mutex_unlock(&lock);
	return rc;
}

int review_cancel(const char *id)
{
	uv_once(&lock_once, init_lock);
	uv_mutex_lock(&lock);
	review *r = find(id);
	int withdrawn = r && r->status == REVIEW_PENDING;
	if (withdrawn) {
		finish(r, REVIEW_WITHDRAWN, NULL, NULL, "client_cancel");
		record(r, "withdrawn", r->user, "client_cancel", NULL);
		announce(r, "review.withdrawn", NULL, "client_cancel");
		tell_owner(r);
		trim_history();
	}
	uv_mutex_unlock(&lock);
	return withdrawn;
}

/* ---- the reviewer side ---- */

static int is_reviewer(const review *r, const char *groups_json)
{
	if (!r->rule || !groups_json)
		return 0;
	json_t *a = json_loads(groups_json, 0, NULL);
	int ok = 0;
	size_t i;
	json_t *v;
	json_array_foreach(a, i, v) {
		if (!json_is_string(v))
			continue;
		for (size_t k = 0; k < r->rule->reviewers.n && !ok; k++)
			ok = fnmatch(r->rule->reviewers.v[k], json_string_value(v), 0) == 0;
	}
	json_decref(a);
	return ok;
}

static void grant_json(const grant *g, char *out, size_t len)
{
	char when[AUDIT_TIME_LEN] = "";
	if (g->expires_us && audit_time_format(g->expires_us, when, sizeof(when)) != 0)
		when[0] = '\0';
	snprintf(out, len, "{\"id\":\"%s\",\"kind\":\"%s\",\"expires\":%s%s%s}", g->id, grant_name(g->kind),
		 g->expires_us ? "\"" : "", g->expires_us ? when : "null", g->expires_us ? "\"" : "");
}

/* The grant the approvals allow together: the narrowest of what each gave, within the rule. */
static grant *grant_for(review *r)
{
	config_grant kind = r->rule->grant;
	long duration = r->rule->max_duration_s;
	for (size_t i = 0; i < r->n_approvals; i++) {
		if (r->approvals[i].grant < kind)
			kind = r->approvals[i].grant;
		if (r->approvals[i].grant == CONFIG_GRANT_DURATION && r->approvals[i].duration_s < duration)
			duration = r->approvals[i].duration_s;
	}
	if (kind == CONFIG_GRANT_ONCE)
		return NULL;
	grant *g = calloc(1, sizeof(*g));
	if (!g)
		abort();
	unsigned char raw[16];
	util_random(raw, sizeof(raw));
	util_hex(raw, sizeof(raw), g->id);
	g->kind = kind;
	g->user = util_strdup_or_null(r->user);
	g->connection = util_strdup_or_null(r->connection);
	g->rule = util_strdup_or_null(r->rule_name);
	g->session_id = kind == CONFIG_GRANT_SESSION ? util_strdup_or_null(r->session_id) : NULL;
	g->granted_by = util_strdup_or_null(r->decided_by);
	g->review_id = util_strdup_or_null(r->id);
	g->created_us = util_now_us();
	g->expires_us = kind == CONFIG_GRANT_DURATION ? g->created_us + (int64_t)duration * 1000000 : 0;
	return g;
}

int review_decide(const char *id, const char *reviewer, const char *reviewer_groups_json, int approve,
		  const char *grant_name_in, long duration_s, const char *comment, char *err, size_t errlen)
{
	uv_once(&lock_once, init_lock);
	config_grant want = CONFIG_GRANT_ONCE;
	if (grant_name_in && strcmp(grant_name_in, "session") == 0)
		want = CONFIG_GRANT_SESSION;
	else if (grant_name_in && strcmp(grant_name_in, "duration") == 0)
		want = CONFIG_GRANT_DURATION;
	else if (grant_name_in && strcmp(grant_name_in, "once") != 0) {
		util_errf(err, errlen, "grant must be once, session or duration");
		return 400;
	}
	uv_mutex_lock(&lock);
	int status = 200;
	review *r = find(id);
	if (!r) {
		util_errf(err, errlen, "no review with id %s", id);
		status = 404;
	} else if (r->status != REVIEW_PENDING) {
		util_errf(err, errlen, "review %s is %s, not pending", id, review_status_name(r->status));
		status = 409;
	} else if (r->user && reviewer && strcmp(r->user, reviewer) == 0) {
		util_errf(err, errlen, "four eyes: %s cannot decide their own request", reviewer);
		record(r, "refused", reviewer, "self-approval", NULL);
		status = 403;
	} else if (!is_reviewer(r, reviewer_groups_json)) {
		util_errf(err, errlen, "%s is not in a reviewer group of rule \"%s\"", reviewer ? reviewer : "?",
			  r->rule_name ? r->rule_name : "?");
		record(r, "refused", reviewer, "not a reviewer", NULL);
		status = 403;
	} else if (approve && want > r->rule->grant) {
		util_errf(err, errlen, "rule \"%s\" allows grants up to %s", r->rule_name, grant_name(r->rule->grant));
		status = 400;
	} else if (approve && want == CONFIG_GRANT_DURATION &&
		   (duration_s < 0 || duration_s > r->rule->max_duration_s)) {
		util_errf(err, errlen, "duration must be at most %ds (max_duration of rule \"%s\")",
			  r->rule->max_duration_s, r->rule_name);
		status = 400;
	} else if (!approve) {
		finish(r, REVIEW_DENIED, reviewer, comment, NULL);
		record(r, "denied", reviewer, comment, NULL);
		announce(r, "review.denied", reviewer, comment);
		tell_owner(r);
		util_errf(err, errlen, "denied");
	} else {
		for (size_t i = 0; i < r->n_approvals; i++) {
			if (strcmp(r->approvals[i].reviewer, reviewer) == 0) {
				util_errf(err, errlen, "%s has already approved review %s", reviewer, id);
				uv_mutex_unlock(&lock);
				return 409;
			}
		}
		r->approvals = util_xrealloc(r->approvals, (r->n_approvals + 1) * sizeof(approval));
		approval *a = &r->approvals[r->n_approvals++];
		a->reviewer = util_strdup_or_null(reviewer);
		a->comment = util_strdup_or_null(comment);
		a->time_us = util_now_us();
		a->grant = want;
		a->duration_s = want == CONFIG_GRANT_DURATION ? (duration_s ? duration_s : r->rule->max_duration_s) : 0;
		if ((int)r->n_approvals < r->rule->approvals) {
			record(r, "approval", reviewer, comment, NULL);
			util_errf(err, errlen, "approval %zu of %d recorded", r->n_approvals, r->rule->approvals);
		} else {
			finish(r, REVIEW_APPROVED, reviewer, comment, NULL);
			grant *g = grant_for(r);
			char gj[200] = "";
			if (g) {
				grant_json(g, gj, sizeof(gj));
				g->next = grants;
				grants = g;
			}
			record(r, "approved", reviewer, comment, g ? gj : NULL);
			announce(r, "review.approved", reviewer, comment);
			tell_owner(r);
			util_errf(err, errlen, "approved");
		}
	}
	if (r)
		trim_history();
	uv_mutex_unlock(&lock);
	return status;
}

/* ---- views ---- */

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *time_json(int64_t us)
{
	char t[AUDIT_TIME_LEN];
	if (!us || audit_time_format(us, t, sizeof(t)) != 0)
		return json_null();
	return json_string(t);
}

static json_t *embedded(const char *text)
{
	json_t *v = text ? json_loads(text, 0, NULL) : NULL;
	return v ? v : str_or_null(text);
}

static json_t *review_json(const review *r)
{
	json_t *o = json_object();
	json_object_set_new(o, "id", json_string(r->id));
	json_object_set_new(o, "status", json_string(review_status_name(r->status)));
	json_object_set_new(o, "user", str_or_null(r->user));
	json_object_set_new(o, "groups", embedded(r->groups_json));
	json_object_set_new(o, "agent", str_or_null(r->agent));
	json_object_set_new(o, "connection", str_or_null(r->connection));
	json_object_set_new(o, "session", str_or_null(r->session_id));
	json_object_set_new(o, "request_id", json_integer(r->request_id));
	json_object_set_new(o, "rule", str_or_null(r->rule_name));
	json_object_set_new(o, "statement", str_or_null(r->statement));
	json_object_set_new(o, "classification", embedded(r->classification));
	json_object_set_new(o, "created", time_json(r->created_us));
	json_object_set_new(o, "expires", time_json(r->expires_us));
	json_object_set_new(o, "approvals_needed", json_integer(r->rule ? r->rule->approvals : 1));
	json_t *a = json_array();
	for (size_t i = 0; i < r->n_approvals; i++) {
		json_t *x = json_object();
		json_object_set_new(x, "reviewer", str_or_null(r->approvals[i].reviewer));
		json_object_set_new(x, "time", time_json(r->approvals[i].time_us));
		json_object_set_new(x, "comment", str_or_null(r->approvals[i].comment));
		json_object_set_new(x, "grant", json_string(grant_name(r->approvals[i].grant)));
		json_array_append_new(a, x);
	}
	json_object_set_new(o, "approvals", a);
	json_object_set_new(o, "decided", time_json(r->decided_us));
	json_object_set_new(o, "decided_by", str_or_null(r->decided_by));
	json_object_set_new(o, "comment", str_or_null(r->comment));
	json_object_set_new(o, "reason", str_or_null(r->reason));
	json_object_set_new(o, "max_grant", json_string(r->rule ? grant_name(r->rule->grant) : "once"));
	json_t *rv = json_array();
	for (size_t i = 0; r->rule && i < r->rule->reviewers.n; i++)
		json_array_append_new(rv, json_string(r->rule->reviewers.v[i]));
	json_object_set_new(o, "reviewers", rv);
	return o;
}

json_t *review_list_json(const char *status)
{
	uv_once(&lock_once, init_lock);
	json_t *a = json_array();
	uv_mutex_lock(&lock);
	for (review *r = reviews; r; r = r->next)
		if (!status || strcmp(status, review_status_name(r->status)) == 0)
			json_array_append_new(a, review_json(r));
	uv_mutex_unlock(&lock);
	return a;
}

json_t *review_get_json(const char *id)
{
	uv_once(&lock_once, init_lock);
	uv_mutex_lock(&lock);
	review *r = find(id);
	json_t *o = r ? review_json(r) : NULL;
	uv_mutex_unlock(&lock);
	return o;
}

/* ---- grants ---- */

static int grant_live(const grant *g, int64_t now)
{
	return !g->ended && (g->kind == CONFIG_GRANT_SESSION || g->expires_us > now);
}

int review_grant_use(const char *user, const char *connection, const char *rule, const char *session_id,
		     int64_t request_id, char *grant_json_out, size_t grant_json_len)
{
	uv_once(&lock_once, init_lock);
	int64_t now = util_now_us();
	int found = 0;
	uv_mutex_lock(&lock);
	for (grant *g = grants; g && !found; g = g->next) {
		if (!grant_live(g, now) || !g->user || !user || strcmp(g->user, user) != 0 ||
		    !g->connection || !connection || strcmp(g->connection, connection) != 0 ||
		    !g->rule || !rule || strcmp(g->rule, rule) != 0)
			continue;
		if (g->kind == CONFIG_GRANT_SESSION &&
		    (!session_id || !g->session_id || strcmp(g->session_id, session_id) != 0))
			continue;
		found = 1;
		g->uses++;
		grant_json(g, grant_json_out, grant_json_len);
		audit_entry *e = audit_entry_new(AUDIT_REVIEW);
		e->session = util_strdup_or_null(session_id);
		e->seq = g->uses;
		e->user = util_strdup_or_null(user);
		e->decision = util_strdup_or_null("grant_used");
		e->rule = util_strdup_or_null(rule);
		e->request_id = request_id > 0 ? request_id : 0;
		e->review = util_strdup_or_null(g->review_id);
		e->grant = util_strdup_or_null(grant_json_out);
		audit_entry *one[1] = {e};
		if (audit_submit(one, 1, NULL, NULL, NULL) != 0)
			log_error("grant %s: its use could not be recorded", g->id);
	}
	uv_mutex_unlock(&lock);
	return found;
}

void review_session_end(const char *session_id)
{
	uv_once(&lock_once, init_lock);
	uv_mutex_lock(&lock);
	for (grant **p = &grants; *p;) {
		grant *g = *p;
		if (g->kind == CONFIG_GRANT_SESSION && g->session_id && strcmp(g->session_id, session_id) == 0) {
			*p = g->next;
			grant_free(g);
			continue;
		}
		p = &g->next;
	}
	uv_mutex_unlock(&lock);
}

json_t *review_grants_json(void)
{
	uv_once(&lock_once, init_lock);
	json_t *a = json_array();
	int64_t now = util_now_us();
	uv_mutex_lock(&lock);
	for (grant *g = grants; g; g = g->next) {
		if (!grant_live(g, now))
			continue;
		json_t *o = json_object();
		json_object_set_new(o, "id", json_string(g->id));
		json_object_set_new(o, "kind", json_string(grant_name(g->kind)));
		json_object_set_new(o, "user", str_or_null(g->user));
		json_object_set_new(o, "connection", str_or_null(g->connection));
		json_object_set_new(o, "rule", str_or_null(g->rule));
		json_object_set_new(o, "session", str_or_null(g->session_id));
		json_object_set_new(o, "granted_by", str_or_null(g->granted_by));
		json_object_set_new(o, "review", str_or_null(g->review_id));
		json_object_set_new(o, "created", time_json(g->created_us));
		json_object_set_new(o, "expires", time_json(g->expires_us));
		json_object_set_new(o, "uses", json_integer(g->uses));
		json_array_append_new(a, o);
	}
	uv_mutex_unlock(&lock);
	return a;
}

int review_grant_revoke(const char *id, const char *by, char *err, size_t errlen)
{
	uv_once(&lock_once, init_lock);
	int status = 404;
	int64_t now = util_now_us();
	uv_mutex_lock(&lock);
	for (grant *g = grants; g; g = g->next) {
		if (strcmp(g->id, id) != 0 || !grant_live(g, now))
			continue;
		g->ended = 1;
		char gj[200];
		grant_json(g, gj, sizeof(gj));
		audit_entry *e = audit_entry_new(AUDIT_REVIEW);
		e->session = util_strdup_or_null(g->session_id);
		e->user = util_strdup_or_null(by);
		e->decision = util_strdup_or_null("grant_revoked");
		e->rule = util_strdup_or_null(g->rule);
		e->review = util_strdup_or_null(g->review_id);
		e->grant = util_strdup_or_null(gj);
		audit_entry *one[1] = {e};
		if (audit_submit(one, 1, NULL, NULL, NULL) != 0)
			log_error("grant %s: its revocation could not be recorded", g->id);
		util_errf(err, errlen, "grant %s revoked", id);
		status = 200;
		break;
	}
	if (status == 404)
		util_errf(err, errlen, "no live grant with id %s", id);
	uv_mutex_unlock(&lock);
	return status;
}
