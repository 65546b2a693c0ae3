/*
 * notify — owns the webhook delivery thread, its queue of deliveries and the
 * two message formats (see notify.h).
 *
 * One delivery is one event for one webhook: its body and signature are
 * fixed when it is posted, so every retry sends the same bytes under the
 * same X-Warden-Delivery id. The thread always attempts the earliest-due
 * delivery (ties in post order) and only a review's oldest pending event per
 * webhook is eligible, so a review's events reach a webhook in order even
 * across retries, while a webhook that is down delays the others by at most
 * the one attempt in flight (bounded by curl's timeouts).
 *
 * The queue is a plain list scanned linearly: reviews are human-paced and it
 * is short in practice; NOTIFY_QUEUE_MAX bounds the worst case.
 */
#include "review/notify.h"

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit/entry.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/util.h"

#define CONNECT_TIMEOUT_MS 5000L
#define TOTAL_TIMEOUT_MS 10000L

/* Slack Block Kit limits (characters); ours stay below them with room for labels. */
#define SLACK_HEADER_MAX 150
#define SLACK_STATEMENT_MAX 2800
#define SLACK_FIELD_MAX 1900
#define SLACK_FALLBACK_MAX 1000

typedef struct hook {
	char *url;
	char *host;      /* for log lines: the URL itself may carry a token (Slack's do) */
	char *secret;    /* NULL = deliveries are unsigned */
	config_webhook_format format;
	CURL *curl;      /* kept across attempts so connections and DNS answers are reused */
	char curl_err[CURL_ERROR_SIZE];
} hook;

typedef struct delivery {
	struct delivery *prev, *next;           /* the queue, in post order */
	struct delivery *prev_same, *next_same; /* the same review's neighbours for the same hook */
	size_t hook;
	char *event;
	char *review_id;                        /* NULL: not ordered against anything */
	char id[33];                            /* X-Warden-Delivery */
	char sig[80];                           /* X-Warden-Signature value, "" = unsigned */
	char *body;
	size_t body_len;
	int attempts;
	int inflight;
	int64_t due_us;                         /* monotonic */
} delivery;

static struct {
	pthread_mutex_t lock;    /* guards everything below except what the comments exempt */
	pthread_cond_t wake;
	pthread_t thread;
	int running;             /* started and not yet stopped */
	int stopping;
	int64_t deadline_us;     /* monotonic end of the stop grace, when stopping */
	atomic_llong abort_at_us; /* read without the lock by the attempt in flight; 0 = never */
	hook *hooks;             /* immutable while running (the thread reads it unlocked) */
	size_t n_hooks;
	char *review_url;
	delivery *head, *tail;
	size_t n_queued;
} N = {.lock = PTHREAD_MUTEX_INITIALIZER};

static int64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- signing --------------------------------------------------------------- */

void notify_sign(const char *secret, const char *body, size_t len, char *out, size_t outlen)
{
	if (!out || outlen == 0)
		return;
	out[0] = '\0';
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	if (!secret || outlen < 7 + 2 * 32 + 1)
		return;
	if (!HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)body, len, md,
		  &mdlen) ||
	    mdlen != 32)
		return;
	memcpy(out, "sha256=", 7);
	util_hex(md, mdlen, out + 7);
	OPENSSL_cleanse(md, sizeof(md));
}

/* ---- rendering ------------------------------------------------------------- */

/* A JSON string of s (NULL -> null); invalid UTF-8 becomes U+FFFD rather than failing. */
static json_t *jtext(const char *s)
{
	if (!s)
		return json_null();
	json_t *j = json_string(s);
	if (j)
		return j;
	char *lit = util_json_string(s, strlen(s)); /* sanitizes */
	j = json_loads(lit, JSON_DECODE_ANY, NULL);
	free(lit);
	return j;
}

static json_t *jtextn(const char *s, size_t n)
{
	json_t *j = json_stringn(s, n);
	if (j)
		return j;
	char *lit = util_json_string(s, n);
	j = json_loads(lit, JSON_DECODE_ANY, NULL);
	free(lit);
	return j;
}

/* groups / classification: JSON text embedded as JSON, or kept as a string when malformed. */
static json_t *jembedded(const char *text)
{
	if (!text)
		return json_null();
	json_t *j = json_loads(text, JSON_DECODE_ANY, NULL);
	return j ? j : jtext(text);
}

static json_t *jtime(int64_t us)
{
	char when[40];
	return audit_time_format(us, when, sizeof(when)) == 0 ? json_string(when) : json_null();
}

static int put(json_t *obj, const char *key, json_t *value)
{
	/* json_object_set_new steals value even on failure */
	return (obj && value) ? json_object_set_new(obj, key, value) : (json_decref(value), -1);
}

static int append(json_t *arr, json_t *value)
{
	return (arr && value) ? json_array_append_new(arr, value) : (json_decref(value), -1);
}

static char *dump(json_t *j)
{
	char *out = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(j);
	return out;
}

/* The review's link: the template with every "{id}" replaced (the id percent-encoded). */
static char *review_link(const char *tmpl, const char *id)
{
	if (!tmpl)
		return NULL;
	if (!id)
		id = "";
	buf b = {0};
	for (const char *p = tmpl; *p;) {
		const char *at = strstr(p, "{id}");
		size_t n = at ? (size_t)(at - p) : strlen(p);
		buf_append(&b, p, n);
		if (!at)
			break;
		for (const unsigned char *c = (const unsigned char *)id; *c; c++) {
			if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
			    (*c >= '0' && *c <= '9') || strchr("-._~", *c))
				buf_append(&b, c, 1);
			else
				buf_printf(&b, "%%%02X", *c);
		}
		p = at + 4;
	}
	buf_append(&b, "", 1);
	return b.data;
}

static char *render_json(const notify_event *ev, const char *url, int64_t time_us)
{
	json_t *o = json_object(), *r = json_object();
	int bad = !o || !r;
	bad |= put(r, "id", jtext(ev->review_id));
	bad |= put(r, "status", jtext(ev->status));
	bad |= put(r, "user", jtext(ev->user));
	bad |= put(r, "groups", jembedded(ev->groups_json));
	bad |= put(r, "agent", jtext(ev->agent));
	bad |= put(r, "connection", jtext(ev->connection));
	bad |= put(r, "rule", jtext(ev->rule));
	bad |= put(r, "statement", jtext(ev->statement));
	bad |= put(r, "classification", jembedded(ev->classification));
	bad |= put(r, "approvals_needed", json_integer(ev->approvals_needed));
	bad |= put(r, "approvals", json_integer(ev->approvals));
	bad |= put(r, "expires", ev->expires_us > 0 ? jtime(ev->expires_us) : json_null());
	bad |= put(o, "event", jtext(ev->event));
	bad |= put(o, "review", r);
	bad |= put(o, "reviewer", jtext(ev->reviewer));
	bad |= put(o, "comment", jtext(ev->comment));
	bad |= put(o, "url", jtext(url));
	bad |= put(o, "time", jtime(time_us));
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return dump(o);
}

/*
 * Appends s escaped for Slack mrkdwn (&, <, > as entities), at most max_chars
 * characters of output; returns 1 when s did not fit. In a code block (code)
 * a run of backticks is broken with zero-width spaces, since Slack has no
 * escape for ``` and it would end the block early.
 */
static int slack_escape(buf *b, const char *s, size_t max_chars, int code)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t chars = 0;
	for (size_t i = 0; p[i];) {
		size_t n = 1;
		while ((p[i + n] & 0xc0) == 0x80)
			n++; /* a character's continuation bytes: never cut one in half */
		const char *rep = NULL;
		size_t cost = 1;
		if (p[i] == '&')
			rep = "&amp;";
		else if (p[i] == '<')
			rep = "&lt;";
		else if (p[i] == '>')
			rep = "&gt;";
		if (rep)
			cost = strlen(rep);
		int zw = code && p[i] == '`' && i > 0 && p[i - 1] == '`';
		if (zw)
			cost++;
		if (chars + cost > max_chars)
			return 1;
		if (zw)
			buf_append(b, "\xe2\x80\x8b", 3);
		if (rep)
			buf_append(b, rep, strlen(rep));
		else
			buf_append(b, p + i, n);
		chars += cost;
		i += n;
	}
	return 0;
}

static size_t utf8_chars(const char *s)
{
	size_t n = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		n += (*p & 0xc0) != 0x80;
	return n;
}

/* Byte length of s's first max_chars characters. */
static size_t utf8_prefix(const char *s, size_t max_chars)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, chars = 0;
	while (p[i]) {
		if ((p[i] & 0xc0) != 0x80 && chars++ == max_chars)
			break;
		i++;
	}
	return i;
}

static json_t *slack_text(const char *type, json_t *text)
{
	json_t *o = json_object();
	int bad = put(o, "type", json_string(type));
	bad |= put(o, "text", text);
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* A buffer's text as a JSON string; frees the buffer. */
static json_t *jbuf(buf *b)
{
	json_t *j = jtextn(b->data ? b->data : "", b->len);
	buf_free(b);
	return j;
}

static json_t *slack_field(const char *label, const char *value)
{
	buf b = {0};
	buf_printf(&b, "*%s*\n", label);
	if (!value || !*value)
		buf_append(&b, "\xe2\x80\x94", 3); /* an em dash for "none" */
	else if (slack_escape(&b, value, SLACK_FIELD_MAX, 0))
		buf_append(&b, "\xe2\x80\xa6", 3);
	return slack_text("mrkdwn", jbuf(&b));
}

static json_t *slack_block(const char *type)
{
	json_t *o = json_object();
	if (put(o, "type", json_string(type))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static const char *event_title(const char *event)
{
	static const struct {
		const char *event, *title;
	} titles[] = {
		{"review.requested", "Review requested"}, {"review.approved", "Review approved"},
		{"review.denied", "Review denied"},       {"review.expired", "Review expired"},
		{"review.withdrawn", "Review withdrawn"},
	};
	for (size_t i = 0; i < sizeof(titles) / sizeof(titles[0]); i++)
		if (event && strcmp(event, titles[i].event) == 0)
			return titles[i].title;
	return event ? event : "Review";
}

static json_t *slack_button(const char *label, const char *style, const char *action,
			    const char *link)
{
	json_t *o = slack_block("button");
	buf u = {0};
	buf_printf(&u, "%s%saction=%s", link, strchr(link, '?') ? "&" : "?", action);
	int bad = put(o, "text", slack_text("plain_text", json_string(label)));
	bad |= put(o, "style", json_string(style));
	bad |= put(o, "url", jbuf(&u));
	bad |= put(o, "action_id", json_string(action));
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* The statement as a code block, truncated (with a note) to stay within Slack's 3,000. */
static json_t *slack_statement(const char *statement)
{
	buf b = {0};
	buf_append(&b, "```\n", 4);
	int cut = slack_escape(&b, statement, SLACK_STATEMENT_MAX, 1);
	buf_append(&b, "\n```", 4);
	if (cut)
		buf_printf(&b, "\n_The statement is truncated (%zu characters in all); "
			       "the review shows it whole._",
			   utf8_chars(statement));
	json_t *o = slack_block("section");
	if (put(o, "text", slack_text("mrkdwn", jbuf(&b)))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *slack_decision(const notify_event *ev)
{
	buf b = {0};
	const char *ev_name = ev->event ? ev->event : "";
	if (strcmp(ev_name, "review.expired") == 0) {
		buf_printf(&b, "*Expired:* no decision came in time.");
	} else if (strcmp(ev_name, "review.withdrawn") == 0) {
		buf_printf(&b, "*Withdrawn* by the requester.");
	} else {
		int denied = strcmp(ev_name, "review.denied") == 0;
		buf_printf(&b, "*%s*", denied ? "Denied" : "Approved");
		if (ev->reviewer) {
			buf_printf(&b, " by ");
			slack_escape(&b, ev->reviewer, SLACK_FIELD_MAX / 4, 0);
		}
	}
	if (ev->comment && *ev->comment) {
		buf_printf(&b, "\n*%s:* ",
			   strcmp(ev_name, "review.denied") == 0 ? "Reason" : "Comment");
		if (slack_escape(&b, ev->comment, SLACK_FIELD_MAX, 0))
			buf_append(&b, "\xe2\x80\xa6", 3);
	}
	json_t *o = slack_block("section");
	if (put(o, "text", slack_text("mrkdwn", jbuf(&b)))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static char *render_slack(const notify_event *ev, const char *link)
{
	int requested = ev->event && strcmp(ev->event, "review.requested") == 0;
	const char *title = event_title(ev->event);
	int bad = 0;

	/* header: plain text, so no escaping, but at most 150 characters */
	buf h = {0};
	buf_printf(&h, "%s", title);
	if (ev->rule && *ev->rule)
		buf_printf(&h, ": %s", ev->rule);
	buf_append(&h, "", 1);
	size_t hn = utf8_prefix(h.data, SLACK_HEADER_MAX);
	if (h.data[hn]) {
		hn = utf8_prefix(h.data, SLACK_HEADER_MAX - 1);
		h.len = hn;
		buf_append(&h, "\xe2\x80\xa6", 3);
	} else {
		h.len = hn;
	}

	/* the notification's fallback text */
	buf t = {0};
	slack_escape(&t, title, SLACK_FALLBACK_MAX, 0);
	if (ev->rule && *ev->rule) {
		buf_append(&t, ": ", 2);
		slack_escape(&t, ev->rule, SLACK_FALLBACK_MAX, 0);
	}
	if (ev->user) {
		buf_append(&t, " (", 2);
		slack_escape(&t, ev->user, SLACK_FALLBACK_MAX, 0);
		if (ev->connection) {
			buf_append(&t, " on ", 4);
			slack_escape(&t, ev->connection, SLACK_FALLBACK_MAX, 0);
		}
		buf_append(&t, ")", 1);
	}

	json_t *blocks = json_array();
	json_t *header = slack_block("header");
	bad |= put(header, "text", slack_text("plain_text", jbuf(&h)));
	bad |= append(blocks, header);

	json_t *facts = slack_block("section"), *fields = json_array();
	char expires[128] = "";
	if (ev->expires_us > 0) {
		char when[40];
		if (audit_time_format(ev->expires_us, when, sizeof(when)) == 0)
			/* Slack shows the reader's local time; the fallback is UTC */
			snprintf(expires, sizeof(expires),
				 "<!date^%lld^{date_short_pretty} {time_secs}|%s>",
				 (long long)(ev->expires_us / 1000000), when);
	}
	char approvals[48];
	snprintf(approvals, sizeof(approvals), "%d/%d", ev->approvals, ev->approvals_needed);
	bad |= append(fields, slack_field("Requester", ev->user));
	bad |= append(fields, slack_field("Agent", ev->agent));
	bad |= append(fields, slack_field("Connection", ev->connection));
	bad |= append(fields, slack_field("Rule", ev->rule));
	{
		/* already mrkdwn (the date token): not escaped */
		buf e = {0};
		buf_printf(&e, "*Expires*\n%s", expires[0] ? expires : "\xe2\x80\x94");
		bad |= append(fields, slack_text("mrkdwn", jbuf(&e)));
	}
	bad |= append(fields, slack_field("Approvals", approvals));
	bad |= put(facts, "fields", fields);
	bad |= append(blocks, facts);

	if (ev->statement)
		bad |= append(blocks, slack_statement(ev->statement));

	if (requested) {
		if (link) {
			json_t *actions = slack_block("actions"), *buttons = json_array();
			bad |= append(buttons, slack_button("Approve", "primary", "approve", link));
			bad |= append(buttons, slack_button("Deny", "danger", "deny", link));
			bad |= put(actions, "elements", buttons);
			bad |= append(blocks, actions);
		}
		buf c = {0};
		buf_printf(&c, "From the CLI: `warden review approve ");
		slack_escape(&c, ev->review_id, 200, 1);
		buf_printf(&c, "` or `warden review deny ");
		slack_escape(&c, ev->review_id, 200, 1);
		buf_printf(&c, " --reason ...`");
		json_t *context = slack_block("context"), *elements = json_array();
		bad |= append(elements, slack_text("mrkdwn", jbuf(&c)));
		bad |= put(context, "elements", elements);
		bad |= append(blocks, context);
	} else {
		bad |= append(blocks, slack_decision(ev));
		if (link) {
			buf c = {0};
			buf_printf(&c, "<");
			slack_escape(&c, link, 3000, 0);
			buf_printf(&c, "|Open the review>");
			json_t *context = slack_block("context"), *elements = json_array();
			bad |= append(elements, slack_text("mrkdwn", jbuf(&c)));
			bad |= put(context, "elements", elements);
			bad |= append(blocks, context);
		}
	}

	json_t *o = json_object();
	bad |= put(o, "text", jbuf(&t));
	bad |= put(o, "blocks", blocks);
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return dump(o);
}

char *notify_render_at(const notify_event *ev, config_webhook_format format,
		       const char *review_url, int64_t time_us)
{
	if (!ev)
		return NULL;
	char *link = review_link(review_url, ev->review_id);
	char *out = format == CONFIG_WEBHOOK_SLACK ? render_slack(ev, link)
						   : render_json(ev, link, time_us);
	free(link);
	return out;
}

char *notify_render(const notify_event *ev, config_webhook_format format, const char *review_url)
{
	return notify_render_at(ev, format, review_url, util_now_us());
}

static char *dup_str(const char *s)
{
	return s ? util_strndup(s, strlen(s)) : NULL;
}

/* ---- the queue (N.lock held) ----------------------------------------------- */

static void delivery_free(delivery *d)
{
	free(d->event);
	free(d->review_id);
	free(d->body);
	free(d);
}

static void q_unlink(delivery *d)
{
	if (d->prev)
		d->prev->next = d->next;
	else
		N.head = d->next;
	if (d->next)
		d->next->prev = d->prev;
	else
		N.tail = d->prev;
	if (d->prev_same)
		d->prev_same->next_same = d->next_same;
	if (d->next_same)
		d->next_same->prev_same = d->prev_same;
	N.n_queued--;
}

static void q_append(delivery *d)
{
	if (d->review_id) {
		/* the latest queued event of the same review for the same hook goes first */
		for (delivery *p = N.tail; p; p = p->prev) {
			if (p->hook == d->hook && p->review_id &&
			    strcmp(p->review_id, d->review_id) == 0) {
				p->next_same = d;
				d->prev_same = p;
				break;
			}
		}
	}
	d->prev = N.tail;
	if (N.tail)
		N.tail->next = d;
	else
		N.head = d;
	N.tail = d;
	N.n_queued++;
}

/* Beyond the bound, the oldest delivery not in flight goes. */
static void q_trim(void)
{
	while (N.n_queued >= NOTIFY_QUEUE_MAX) {
		delivery *d = N.head;
		while (d && d->inflight)
			d = d->next;
		if (!d)
			return;
		log_warn("notify: more than %d deliveries queued; dropped %s %s to %s",
			 NOTIFY_QUEUE_MAX, d->event, d->id, N.hooks[d->hook].host);
		q_unlink(d);
		delivery_free(d);
	}
}

/* The earliest-due eligible delivery (ties: the first posted), or NULL. */
static delivery *q_next(void)
{
	delivery *best = NULL;
	for (delivery *d = N.head; d; d = d->next)
		if (!d->inflight && !d->prev_same && (!best || d->due_us < best->due_us))
			best = d;
	return best;
}

/* ---- posting --------------------------------------------------------------- */

/* Header values must be one printable line. */
static int header_safe(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p >= 0x7f)
			return 0;
	return *s != '\0';
}

void notify_post(const notify_event *ev)
{
	if (!ev || !ev->event || !header_safe(ev->event)) {
		log_warn("notify: an event without a valid name was not posted");
		return;
	}
	pthread_mutex_lock(&N.lock);
	if (!N.running || N.stopping) {
		pthread_mutex_unlock(&N.lock);
		return;
	}
	/* one time and one rendering per format, so every webhook gets the same event */
	int64_t now = util_now_us(), due = mono_us();
	char *bodies[2] = {NULL, NULL};
	int posted = 0;
	for (size_t i = 0; i < N.n_hooks; i++) {
		hook *h = &N.hooks[i];
		int f = h->format == CONFIG_WEBHOOK_SLACK;
		if (!bodies[f])
			bodies[f] = notify_render_at(ev, h->format, N.review_url, now);
		if (!bodies[f]) {
			log_warn("notify: cannot render %s for %s", ev->event, h->host);
			continue;
		}
		q_trim();
		delivery *d = util_xmalloc(sizeof(*d));
		memset(d, 0, sizeof(*d));
		d->hook = i;
		d->event = dup_str(ev->event);
		d->review_id = dup_str(ev->review_id);
		d->body_len = strlen(bodies[f]);
		d->body = util_strndup(bodies[f], d->body_len);
		unsigned char rnd[16];
		util_random(rnd, sizeof(rnd));
		util_hex(rnd, sizeof(rnd), d->id);
		if (h->secret)
			notify_sign(h->secret, d->body, d->body_len, d->sig, sizeof(d->sig));
		d->due_us = due;
		q_append(d);
		posted++;
	}
	if (posted)
		pthread_cond_signal(&N.wake);
	pthread_mutex_unlock(&N.lock);
	free(bodies[0]);
	free(bodies[1]);
}

size_t notify_pending(void)
{
	pthread_mutex_lock(&N.lock);
	size_t n = N.n_queued;
	pthread_mutex_unlock(&N.lock);
	return n;
}

/* ---- the delivery thread --------------------------------------------------- */

static size_t discard(char *data, size_t size, size_t n, void *userp)
{
	(void)data;
	(void)userp;
	return size * n; /* the receiver's answer is not read, only its status */
}

/* Lets notify_stop cut short an attempt in flight once the grace is over. */
static int progress(void *p, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		    curl_off_t ulnow)
{
	(void)p;
	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	long long at = atomic_load(&N.abort_at_us);
	return at && mono_us() >= at;
}

static struct curl_slist *add_header(struct curl_slist *l, int *bad, const char *name,
				     const char *value)
{
	char line[256];
	snprintf(line, sizeof(line), "%s: %s", name, value);
	struct curl_slist *n = curl_slist_append(l, line);
	if (!n)
		*bad = 1;
	return n ? n : l;
}

/* One POST (without the lock). 1 when delivered (2xx); else why in why. */
static int attempt(const delivery *d, long timeout_ms, long *status, char *why, size_t whylen)
{
	hook *h = &N.hooks[d->hook];
	*status = 0;
	int bad = 0;
	struct curl_slist *hdrs = NULL;
	hdrs = add_header(hdrs, &bad, "Content-Type", "application/json");
	hdrs = add_header(hdrs, &bad, "X-Warden-Event", d->event);
	hdrs = add_header(hdrs, &bad, "X-Warden-Delivery", d->id);
	if (d->sig[0])
		hdrs = add_header(hdrs, &bad, "X-Warden-Signature", d->sig);
	hdrs = add_header(hdrs, &bad, "Expect", ""); /* "Expect:" — no 100-continue round trip */
	if (bad) {
		curl_slist_free_all(hdrs);
		snprintf(why, whylen, "out of memory");
		return 0;
	}
	CURL *c = h->curl;
	h->curl_err[0] = '\0';
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)d->body_len);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, d->body);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
			 timeout_ms < CONNECT_TIMEOUT_MS ? timeout_ms : CONNECT_TIMEOUT_MS);
	CURLcode rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	/* the handle outlives these: leave no pointer to them in it */
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, NULL);
	curl_slist_free_all(hdrs);
	if (rc == CURLE_ABORTED_BY_CALLBACK) {
		snprintf(why, whylen, "cut short: the stop grace is over");
		return 0;
	}
	if (rc != CURLE_OK) {
		snprintf(why, whylen, "%s", h->curl_err[0] ? h->curl_err : curl_easy_strerror(rc));
		return 0;
	}
	if (*status < 200 || *status > 299) {
		snprintf(why, whylen, "HTTP %ld", *status);
		return 0;
	}
	return 1;
}

/* After an attempt (lock held): done, given up, or due again after the backoff. */
static void settle(delivery *d, int ok, long status, const char *why)
{
	const char *host = N.hooks[d->hook].host;
	d->inflight = 0;
	d->attempts++;
	if (ok) {
		log_info("notify: %s delivered to %s (HTTP %ld, delivery %s, attempt %d)", d->event,
			 host, status, d->id, d->attempts);
	} else if (d->attempts >= NOTIFY_MAX_ATTEMPTS) {
		log_warn("notify: %s to %s failed (%s); gave up after %d attempts (delivery %s)",
			 d->event, host, why, d->attempts, d->id);
	} else {
		int delay_s = 1 << (d->attempts - 1); /* 1, 2, 4, 8, 16 */
		log_warn("notify: %s to %s failed (%s), attempt %d of %d; retrying in %d s "
			 "(delivery %s)",
			 d->event, host, why, d->attempts, NOTIFY_MAX_ATTEMPTS, delay_s, d->id);
		d->due_us = mono_us() + (int64_t)delay_s * 1000000;
		return;
	}
	q_unlink(d);
	delivery_free(d);
}

static void wait_until(int64_t mono_deadline_us)
{
	struct timespec ts = {.tv_sec = mono_deadline_us / 1000000,
			      .tv_nsec = (long)(mono_deadline_us % 1000000) * 1000};
	pthread_cond_timedwait(&N.wake, &N.lock, &ts);
}

static void *deliver_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&N.lock);
	for (;;) {
		delivery *d = q_next();
		if (N.stopping) {
			if (!d || d->due_us >= N.deadline_us)
				break; /* nothing else can go within the grace */
		} else if (!d) {
			pthread_cond_wait(&N.wake, &N.lock);
			continue;
		}
		int64_t now = mono_us();
		if (d->due_us > now) {
			wait_until(d->due_us); /* or a post / stop wakes us to look again */
			continue;
		}
		long timeout_ms = TOTAL_TIMEOUT_MS;
		if (N.stopping && (N.deadline_us - now) / 1000 < timeout_ms)
			timeout_ms = (long)((N.deadline_us - now) / 1000) + 1;
		d->inflight = 1;
		pthread_mutex_unlock(&N.lock);
		long status;
		char why[CURL_ERROR_SIZE + 32];
		int ok = attempt(d, timeout_ms, &status, why, sizeof(why));
		pthread_mutex_lock(&N.lock);
		settle(d, ok, status, why);
	}
	size_t dropped = 0;
	while (N.head) {
		delivery *d = N.head;
		q_unlink(d);
		delivery_free(d);
		dropped++;
	}
	if (dropped)
		log_warn("notify: stopping; %zu undelivered webhook deliveries dropped", dropped);
	pthread_mutex_unlock(&N.lock);
	return NULL;
}

/* ---- start / stop ------------------------------------------------------------ */

static void free_secret(char *s)
{
	if (s) {
		OPENSSL_cleanse(s, strlen(s));
		free(s);
	}
}

static void hooks_free(void)
{
	for (size_t i = 0; i < N.n_hooks; i++) {
		hook *h = &N.hooks[i];
		if (h->curl)
			curl_easy_cleanup(h->curl);
		free(h->url);
		free(h->host);
		free_secret(h->secret);
	}
	free(N.hooks);
	N.hooks = NULL;
	N.n_hooks = 0;
	free(N.review_url);
	N.review_url = NULL;
}

/* "host" or "host:port" of an http(s) URL, or NULL when it is not one. */
static char *url_host(const char *url)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *out = NULL;
	if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    (strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0) &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
		buf b = {0};
		buf_printf(&b, "%s", host);
		if (curl_url_get(u, CURLUPART_PORT, &port, 0) == CURLUE_OK)
			buf_printf(&b, ":%s", port);
		buf_append(&b, "", 1);
		out = b.data;
	}
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return out;
}

static int hook_init(hook *h, const config_webhook *w, size_t i, char *err, size_t errlen)
{
	h->format = w->format;
	h->host = w->url ? url_host(w->url) : NULL;
	if (!h->host) {
		/* not echoed: the URL may hold a token */
		util_errf(err, errlen, "notify.webhooks[%zu]: the url is not an http(s) URL", i);
		return -1;
	}
	h->url = dup_str(w->url);
	h->secret = w->secret && *w->secret ? dup_str(w->secret) : NULL;
	h->curl = curl_easy_init();
	if (!h->curl) {
		util_errf(err, errlen, "notify: cannot create an HTTP client");
		return -1;
	}
	CURL *c = h->curl;
	curl_easy_setopt(c, CURLOPT_URL, h->url);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "warden");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->curl_err);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, progress);
	return 0;
}

int notify_start(const warden_config *cfg, char *err, size_t errlen)
{
	if (!cfg || cfg->n_webhooks == 0)
		return 0;
	pthread_mutex_lock(&N.lock);
	if (N.running) {
		pthread_mutex_unlock(&N.lock);
		util_errf(err, errlen, "notify: already started");
		return -1;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		pthread_mutex_unlock(&N.lock);
		util_errf(err, errlen, "notify: cannot initialize libcurl");
		return -1;
	}
	N.hooks = util_xmalloc(cfg->n_webhooks * sizeof(*N.hooks));
	memset(N.hooks, 0, cfg->n_webhooks * sizeof(*N.hooks));
	N.n_hooks = cfg->n_webhooks;
	N.review_url = dup_str(cfg->review_url);
	for (size_t i = 0; i < cfg->n_webhooks; i++)
		if (hook_init(&N.hooks[i], &cfg->webhooks[i], i, err, errlen) != 0)
			goto fail;
	pthread_condattr_t attr;
	if (pthread_condattr_init(&attr) != 0) {
		util_errf(err, errlen, "notify: cannot create a condition variable");
		goto fail;
	}
	/* due times are monotonic: a wall clock step must not delay or rush retries */
	int rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	if (rc == 0)
		rc = pthread_cond_init(&N.wake, &attr);
	pthread_condattr_destroy(&attr);
	if (rc != 0) {
		util_errf(err, errlen, "notify: cannot create a condition variable");
		goto fail;
	}
	N.stopping = 0;
	atomic_store(&N.abort_at_us, 0);
	if (pthread_create(&N.thread, NULL, deliver_main, NULL) != 0) {
		pthread_cond_destroy(&N.wake);
		util_errf(err, errlen, "notify: cannot start the delivery thread");
		goto fail;
	}
	N.running = 1;
	pthread_mutex_unlock(&N.lock);
	return 0;
fail:
	hooks_free();
	pthread_mutex_unlock(&N.lock);
	curl_global_cleanup();
	return -1;
}

void notify_stop(void)
{
	pthread_mutex_lock(&N.lock);
	if (!N.running || N.stopping) {
		pthread_mutex_unlock(&N.lock);
		return;
	}
	N.stopping = 1;
	N.deadline_us = mono_us() + (int64_t)NOTIFY_STOP_GRACE_MS * 1000;
	atomic_store(&N.abort_at_us, N.deadline_us);
	pthread_cond_signal(&N.wake);
	pthread_mutex_unlock(&N.lock);
	pthread_join(N.thread, NULL);
	pthread_mutex_lock(&N.lock);
	hooks_free();
	pthread_cond_destroy(&N.wake);
	N.running = 0;
	N.stopping = 0;
	atomic_store(&N.abort_at_us, 0);
	pthread_mutex_unlock(&N.lock);
	curl_global_cleanup();
}
