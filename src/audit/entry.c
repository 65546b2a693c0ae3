/*
 * audit entry — construction, kind names and the JSON export object.
 *
 * Owns: the mapping between audit_kind and its stored/exported name, and the
 * export layout. The export is the contract with outside tools, so its key
 * order is fixed here and nowhere else: the CLI's `show` and `list --json`
 * print this same object.
 *
 * Invariants: audit_entry_to_json never fails on content — text that is not
 * valid UTF-8 (a client may use another client_encoding) is exported with
 * U+FFFD in place of each bad byte, and groups/params text that is not JSON
 * is exported as a JSON string, so one odd entry cannot break an export.
 */
#include "audit/entry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/util.h"

static const char *const kind_names[] = {
	[AUDIT_SESSION_START] = "session_start",
	[AUDIT_REQUEST] = "request",
	[AUDIT_RESULT] = "result",
	[AUDIT_SESSION_END] = "session_end",
	[AUDIT_AUTH_FAILURE] = "auth_failure",
	[AUDIT_REVIEW] = "review",
};

#define KIND_COUNT (sizeof(kind_names) / sizeof(kind_names[0]))

const char *audit_kind_name(audit_kind k)
{
	if ((unsigned)k >= KIND_COUNT)
		return "unknown";
	return kind_names[k];
}

int audit_kind_parse(const char *s, audit_kind *out)
{
	if (!s)
		return -1;
	for (size_t i = 0; i < KIND_COUNT; i++) {
		if (strcmp(s, kind_names[i]) == 0) {
			*out = (audit_kind)i;
			return 0;
		}
	}
	return -1;
}

audit_entry *audit_entry_new(audit_kind kind)
{
	audit_entry *e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->kind = kind;
	e->rows = -1;
	e->time_us = util_now_us();
	return e;
}

void audit_entry_free(audit_entry *e)
{
	if (!e)
		return;
	free(e->session);
	free(e->user);
	free(e->groups);
	free(e->agent);
	free(e->client_addr);
	free(e->connection);
	free(e->protocol);
	free(e->startup_user);
	free(e->statement);
	free(e->params);
	free(e->decision);
	free(e->rule);
	free(e->classification);
	free(e->command_tag);
	free(e->error_code);
	free(e->error_message);
	free(e->reason);
	free(e->review);
	free(e->grant);
	free(e->masked);
	free(e->result);
	free(e);
}

int audit_time_format(int64_t time_us, char *buf, size_t len)
{
	/* floor division, so times before 1970 still print a valid fraction */
	int64_t secs = time_us / 1000000, frac = time_us % 1000000;
	if (frac < 0) {
		frac += 1000000;
		secs -= 1;
	}
	time_t t = (time_t)secs;
	struct tm tm;
	if (!gmtime_r(&t, &tm))
		return -1;
	int n = snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900,
			 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)frac);
	return (n < 0 || (size_t)n >= len) ? -1 : 0;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0 if invalid. */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	if (c < 0x80)
		return 1;
	size_t len;
	unsigned lo = 0x80, hi = 0xbf; /* allowed range of the second byte */
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		if (c == 0xe0)
			lo = 0xa0; /* overlong */
		else if (c == 0xed)
			hi = 0x9f; /* surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		if (c == 0xf0)
			lo = 0x90; /* overlong */
		else if (c == 0xf4)
			hi = 0x8f; /* above U+10FFFF */
	} else {
		return 0;
	}
	if (len > n || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return len;
}

/* A JSON string of s; invalid UTF-8 bytes become U+FFFD. NULL s -> null. */
static json_t *json_text(const char *s)
{
	if (!s)
		return json_null();
	json_t *j = json_string(s);
	if (j)
		return j;
	size_t n = strlen(s), o = 0;
	char *clean = malloc(n * 3 + 1);
	if (!clean)
		return NULL;
	const unsigned char *u = (const unsigned char *)s;
	for (size_t i = 0; i < n;) {
		size_t len = utf8_seq_len(u + i, n - i);
		if (len) {
			memcpy(clean + o, s + i, len);
			o += len;
			i += len;
		} else {
			memcpy(clean + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		}
	}
	j = json_stringn(clean, o);
	free(clean);
	return j;
}

/* groups / params: stored as JSON text; embedded as JSON, or kept as a string if malformed. */
static json_t *json_embedded(const char *text)
{
	if (!text)
		return json_null();
	json_t *j = json_loads(text, JSON_DECODE_ANY, NULL);
	return j ? j : json_text(text);
}

static int put(json_t *obj, const char *key, json_t *value)
{
	/* json_object_set_new steals value even on failure */
	return value ? json_object_set_new(obj, key, value) : -1;
}

json_t *audit_entry_to_json(const audit_entry *e)
{
	json_t *o = json_object();
	if (!o)
		return NULL;
	char when[AUDIT_TIME_LEN];
	int bad = 0;
	bad |= put(o, "id", json_integer(e->id));
	bad |= put(o, "time",
		   audit_time_format(e->time_us, when, sizeof(when)) == 0 ? json_string(when)
									   : json_null());
	bad |= put(o, "session", json_text(e->session));
	bad |= put(o, "seq", json_integer(e->seq));
	bad |= put(o, "kind", json_string(audit_kind_name(e->kind)));
	bad |= put(o, "user", json_text(e->user));
	bad |= put(o, "groups", json_embedded(e->groups));
	bad |= put(o, "agent", json_text(e->agent));
	bad |= put(o, "client_addr", json_text(e->client_addr));
	bad |= put(o, "connection", json_text(e->connection));
	bad |= put(o, "protocol", json_text(e->protocol));
	bad |= put(o, "startup_user", json_text(e->startup_user));
	switch (e->kind) {
	case AUDIT_REQUEST:
		bad |= put(o, "statement", json_text(e->statement));
		bad |= put(o, "params", json_embedded(e->params));
		bad |= put(o, "decision", json_text(e->decision));
		bad |= put(o, "rule", json_text(e->rule));
		bad |= put(o, "classification", json_embedded(e->classification));
		if (e->grant)
			bad |= put(o, "grant", json_embedded(e->grant));
		if (e->masked)
			bad |= put(o, "masked", json_embedded(e->masked));
		break;
	case AUDIT_RESULT:
		bad |= put(o, "request_id", json_integer(e->request_id));
		bad |= put(o, "command_tag", json_text(e->command_tag));
		bad |= put(o, "rows", e->rows >= 0 ? json_integer(e->rows) : json_null());
		bad |= put(o, "error_code", json_text(e->error_code));
		bad |= put(o, "error_message", json_text(e->error_message));
		bad |= put(o, "duration_us", json_integer(e->duration_us));
		if (e->masked)
			bad |= put(o, "masked", json_embedded(e->masked));
		if (e->result)
			bad |= put(o, "result", json_embedded(e->result));
		break;
	case AUDIT_SESSION_END:
	case AUDIT_AUTH_FAILURE:
		bad |= put(o, "reason", json_text(e->reason));
		break;
	case AUDIT_REVIEW:
		bad |= put(o, "review", json_text(e->review));
		bad |= put(o, "event", json_text(e->decision));
		bad |= put(o, "request_id", e->request_id > 0 ? json_integer(e->request_id) : json_null());
		bad |= put(o, "rule", json_text(e->rule));
		bad |= put(o, "comment", json_text(e->reason));
		bad |= put(o, "grant", json_embedded(e->grant));
		break;
	case AUDIT_SESSION_START:
		break;
	}
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}
