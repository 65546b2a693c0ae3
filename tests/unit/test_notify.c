/*
 * notify — the webhook notifier: the signature (an RFC 4231 vector), both
 * message formats field by field, and delivery end to end against a real
 * HTTP receiver (tests/node/webhook_receiver.js): retries keep their
 * delivery id, signatures verify, events arrive in order; a dead webhook
 * blocks neither notify_post nor notify_stop; the queue stays bounded.
 *
 * Run from the repository root (the receiver is found by its relative path);
 * the end-to-end test needs `node` in PATH.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "review/notify.h"

#define RECEIVER "tests/node/webhook_receiver.js"
#define LINK "https://warden.example/reviews/{id}"
#define LINK_R42 "https://warden.example/reviews/r-42"

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
	}
}

static notify_event sample_event(void)
{
	notify_event ev = {
		.event = "review.requested",
		.review_id = "r-42",
		.status = "pending",
		.user = "alice@example.com",
		.groups_json = "[\"dba\",\"oncall\"]",
		.agent = "claude-code",
		.connection = "prod",
		.rule = "ddl-needs-review",
		.statement = "DROP TABLE public.users",
		.classification = "{\"kinds\":[\"ddl\"],\"objects\":[\"public.users\"]}",
		.approvals_needed = 2,
		.approvals = 0,
		.expires_us = INT64_C(1700000000123456), /* 2023-11-14T22:13:20.123456Z */
	};
	return ev;
}

static const char *str_at(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	assert_non_null(v);
	assert_true(json_is_string(v));
	return json_string_value(v);
}

/* ---- (1) signature -------------------------------------------------------- */

static void test_sign_rfc4231(void **state)
{
	(void)state;
	/* RFC 4231, test case 2 */
	const char *data = "what do ya want for nothing?";
	char sig[80];
	notify_sign("Jefe", data, strlen(data), sig, sizeof(sig));
	assert_string_equal(sig, "sha256=5bdcc146bf60754e6a042426089575c75a003f08"
				 "9d2739839dec58b964ec3843");
	assert_int_equal(strlen(sig), 71);

	/* exactly 72 bytes is enough; less is refused rather than cut */
	char exact[72];
	notify_sign("Jefe", data, strlen(data), exact, sizeof(exact));
	assert_string_equal(exact, sig);
	char small[71];
	notify_sign("Jefe", data, strlen(data), small, sizeof(small));
	assert_string_equal(small, "");
	notify_sign(NULL, data, strlen(data), sig, sizeof(sig));
	assert_string_equal(sig, "");
}

/* ---- (2) json format ------------------------------------------------------ */

static void test_render_json(void **state)
{
	(void)state;
	notify_event ev = sample_event();
	char *body = notify_render_at(&ev, CONFIG_WEBHOOK_JSON, LINK, INT64_C(1700000001000000));
	assert_non_null(body);
	assert_null(strchr(body, '\n')); /* compact */
	json_error_t jerr;
	json_t *o = json_loads(body, 0, &jerr);
	assert_non_null(o);

	/* the documented key order */
	const char *top[] = {"event", "review", "reviewer", "comment", "url", "time"};
	const char *rkeys[] = {"id",	     "status",	   "user",	 "groups",
			       "agent",	     "connection", "rule",	 "statement",
			       "classification", "approvals_needed", "approvals", "expires"};
	assert_int_equal(json_object_size(o), 6);
	const char *key;
	json_t *val;
	size_t i = 0;
	char *again = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	assert_string_equal(again, body); /* what we parsed is exactly what was sent */
	free(again);
	json_object_foreach(o, key, val) {
		(void)val;
		assert_string_equal(key, top[i]);
		i++;
	}

	assert_string_equal(str_at(o, "event"), "review.requested");
	assert_true(json_is_null(json_object_get(o, "reviewer")));
	assert_true(json_is_null(json_object_get(o, "comment")));
	assert_string_equal(str_at(o, "url"), "https://warden.example/reviews/r-42");
	assert_string_equal(str_at(o, "time"), "2023-11-14T22:13:21.000000Z");

	json_t *r = json_object_get(o, "review");
	assert_true(json_is_object(r));
	assert_int_equal(json_object_size(r), 12);
	i = 0;
	json_object_foreach(r, key, val) {
		(void)val;
		assert_string_equal(key, rkeys[i]);
		i++;
	}
	assert_string_equal(str_at(r, "id"), "r-42");
	assert_string_equal(str_at(r, "status"), "pending");
	assert_string_equal(str_at(r, "user"), "alice@example.com");
	json_t *groups = json_object_get(r, "groups");
	assert_true(json_is_array(groups));
	assert_int_equal(json_array_size(groups), 2);
	assert_string_equal(json_string_value(json_array_get(groups, 0)), "dba");
	assert_string_equal(json_string_value(json_array_get(groups, 1)), "oncall");
	assert_string_equal(str_at(r, "agent"), "claude-code");
	assert_string_equal(str_at(r, "connection"), "prod");
	assert_string_equal(str_at(r, "rule"), "ddl-needs-review");
	assert_string_equal(str_at(r, "statement"), "DROP TABLE public.users");
	json_t *cls = json_object_get(r, "classification");
	assert_true(json_is_object(cls));
	assert_string_equal(json_string_value(json_array_get(json_object_get(cls, "objects"), 0)),
			    "public.users");
	assert_int_equal(json_integer_value(json_object_get(r, "approvals_needed")), 2);
	assert_int_equal(json_integer_value(json_object_get(r, "approvals")), 0);
	assert_string_equal(str_at(r, "expires"), "2023-11-14T22:13:20.123456Z");
	json_decref(o);
	free(body);
}

static void test_render_json_edges(void **state)
{
	(void)state;
	/* a decision; malformed embedded JSON stays a string; no link template; odd bytes */
	notify_event ev = sample_event();
	ev.event = "review.denied";
	ev.status = "denied";
	ev.reviewer = "bob";
	ev.comment = "not on a Friday";
	ev.groups_json = "[\"dba\",";
	ev.classification = NULL;
	ev.statement = "SELECT '\xff\xfe'";
	ev.expires_us = 0;
	char *body = notify_render(&ev, CONFIG_WEBHOOK_JSON, NULL);
	assert_non_null(body);
	json_t *o = json_loads(body, 0, NULL);
	assert_non_null(o);
	json_t *r = json_object_get(o, "review");
	assert_string_equal(str_at(o, "event"), "review.denied");
	assert_string_equal(str_at(o, "reviewer"), "bob");
	assert_string_equal(str_at(o, "comment"), "not on a Friday");
	assert_true(json_is_null(json_object_get(o, "url")));
	assert_string_equal(str_at(r, "groups"), "[\"dba\",");
	assert_true(json_is_null(json_object_get(r, "classification")));
	assert_true(json_is_null(json_object_get(r, "expires")));
	assert_string_equal(str_at(r, "statement"), "SELECT '\xef\xbf\xbd\xef\xbf\xbd'");
	/* "time" is now, RFC 3339 UTC */
	const char *t = str_at(o, "time");
	assert_int_equal(strlen(t), strlen("2023-11-14T22:13:21.000000Z"));
	assert_int_equal(t[10], 'T');
	assert_int_equal(t[strlen(t) - 1], 'Z');
	json_decref(o);
	free(body);

	/* every {id} is replaced, the id percent-encoded */
	ev.review_id = "a b/c";
	body = notify_render(&ev, CONFIG_WEBHOOK_JSON, "https://w.example/r/{id}?again={id}");
	o = json_loads(body, 0, NULL);
	assert_non_null(o);
	assert_string_equal(str_at(o, "url"), "https://w.example/r/a%20b%2Fc?again=a%20b%2Fc");
	json_decref(o);
	free(body);
}

/* ---- (3) slack format ----------------------------------------------------- */

static json_t *find_block(json_t *blocks, const char *type, int nth)
{
	size_t i;
	json_t *b;
	json_array_foreach(blocks, i, b) {
		const char *t = json_string_value(json_object_get(b, "type"));
		if (t && strcmp(t, type) == 0 && nth-- == 0)
			return b;
	}
	return NULL;
}

static const char *block_text(json_t *block)
{
	json_t *text = json_object_get(block, "text");
	assert_non_null(text);
	return str_at(text, "text");
}

/* The section holding the code block. */
static json_t *statement_block(json_t *blocks)
{
	json_t *b;
	for (int i = 0; (b = find_block(blocks, "section", i)); i++) {
		json_t *text = json_object_get(b, "text");
		const char *s = text ? json_string_value(json_object_get(text, "text")) : NULL;
		if (s && strncmp(s, "```", 3) == 0)
			return b;
	}
	return NULL;
}

static void test_render_slack(void **state)
{
	(void)state;
	notify_event ev = sample_event();
	ev.statement = "SELECT '<script>' & ``` FROM t";
	char *body = notify_render(&ev, CONFIG_WEBHOOK_SLACK, LINK);
	assert_non_null(body);
	json_t *o = json_loads(body, 0, NULL);
	assert_non_null(o);
	assert_non_null(strstr(str_at(o, "text"), "Review requested: ddl-needs-review"));
	json_t *blocks = json_object_get(o, "blocks");
	assert_true(json_is_array(blocks));

	json_t *header = find_block(blocks, "header", 0);
	assert_non_null(header);
	assert_string_equal(str_at(json_object_get(header, "text"), "type"), "plain_text");
	assert_string_equal(block_text(header), "Review requested: ddl-needs-review");
	assert_ptr_equal(json_array_get(blocks, 0), header);

	/* the facts */
	json_t *fields = json_object_get(find_block(blocks, "section", 0), "fields");
	assert_true(json_is_array(fields));
	assert_int_equal(json_array_size(fields), 6);
	const char *want[] = {"*Requester*\nalice@example.com", "*Agent*\nclaude-code",
			      "*Connection*\nprod", "*Rule*\nddl-needs-review", NULL,
			      "*Approvals*\n0/2"};
	for (size_t i = 0; i < 6; i++) {
		json_t *f = json_array_get(fields, i);
		assert_string_equal(str_at(f, "type"), "mrkdwn");
		if (want[i])
			assert_string_equal(str_at(f, "text"), want[i]);
	}
	const char *expires = str_at(json_array_get(fields, 4), "text");
	assert_non_null(strstr(expires, "*Expires*\n<!date^1700000000^"));
	assert_non_null(strstr(expires, "|2023-11-14T22:13:20.123456Z>"));

	/* the statement: escaped, and its ``` cannot end the code block */
	json_t *st = statement_block(blocks);
	assert_non_null(st);
	assert_string_equal(block_text(st), "```\nSELECT '&lt;script&gt;' &amp; "
					    "`\xe2\x80\x8b`\xe2\x80\x8b` FROM t\n```");
	assert_null(strstr(body, "<script>"));

	/* the buttons */
	json_t *actions = find_block(blocks, "actions", 0);
	assert_non_null(actions);
	json_t *buttons = json_object_get(actions, "elements");
	assert_int_equal(json_array_size(buttons), 2);
	json_t *approve = json_array_get(buttons, 0), *deny = json_array_get(buttons, 1);
	assert_string_equal(str_at(approve, "type"), "button");
	assert_string_equal(block_text(approve), "Approve");
	assert_string_equal(str_at(approve, "style"), "primary");
	assert_string_equal(str_at(approve, "url"), LINK_R42 "?action=approve");
	assert_string_equal(block_text(deny), "Deny");
	assert_string_equal(str_at(deny, "style"), "danger");
	assert_string_equal(str_at(deny, "url"), LINK_R42 "?action=deny");

	/* the CLI */
	json_t *context = find_block(blocks, "context", 0);
	assert_non_null(context);
	const char *cli = str_at(json_array_get(json_object_get(context, "elements"), 0), "text");
	assert_non_null(strstr(cli, "`warden review approve r-42`"));
	assert_non_null(strstr(cli, "`warden review deny r-42 --reason ...`"));
	json_decref(o);
	free(body);

	/* without a link template: no buttons, still the CLI */
	body = notify_render(&ev, CONFIG_WEBHOOK_SLACK, NULL);
	o = json_loads(body, 0, NULL);
	assert_non_null(o);
	blocks = json_object_get(o, "blocks");
	assert_null(find_block(blocks, "actions", 0));
	assert_non_null(find_block(blocks, "context", 0));
	json_decref(o);
	free(body);

	/* a template with a query string gets &action= */
	body = notify_render(&ev, CONFIG_WEBHOOK_SLACK, "https://w.example/r?id={id}");
	o = json_loads(body, 0, NULL);
	assert_non_null(o);
	blocks = json_object_get(o, "blocks");
	buttons = json_object_get(find_block(blocks, "actions", 0), "elements");
	assert_string_equal(str_at(json_array_get(buttons, 0), "url"),
			    "https://w.example/r?id=r-42&action=approve");
	json_decref(o);
	free(body);
}

static size_t utf8_len(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

static void test_render_slack_long_and_decision(void **state)
{
	(void)state;
	notify_event ev = sample_event();
	char *stmt = malloc(5001);
	assert_non_null(stmt);
	memset(stmt, 'x', 5000);
	stmt[5000] = '\0';
	ev.statement = stmt;
	char *long_rule = malloc(301);
	assert_non_null(long_rule);
	memset(long_rule, 'r', 300);
	long_rule[300] = '\0';
	ev.rule = long_rule;
	char *body = notify_render(&ev, CONFIG_WEBHOOK_SLACK, NULL);
	assert_non_null(body);
	json_t *o = json_loads(body, 0, NULL);
	assert_non_null(o);
	json_t *blocks = json_object_get(o, "blocks");
	const char *text = block_text(statement_block(blocks));
	assert_true(utf8_len(text) <= 3000); /* Slack's limit for a section's text */
	assert_int_equal(strncmp(text + 4, stmt, 2800), 0);
	assert_int_equal(text[4 + 2800], '\n');
	assert_non_null(strstr(text, "truncated (5000 characters in all)"));
	assert_true(utf8_len(block_text(find_block(blocks, "header", 0))) <= 150);
	json_decref(o);
	free(body);
	free(stmt);
	free(long_rule);

	/* a decision names the reviewer and the comment, offers no buttons */
	ev = sample_event();
	ev.event = "review.approved";
	ev.status = "approved";
	ev.approvals = 2;
	ev.reviewer = "bob";
	ev.comment = "ok <b>";
	body = notify_render(&ev, CONFIG_WEBHOOK_SLACK, LINK);
	o = json_loads(body, 0, NULL);
	assert_non_null(o);
	blocks = json_object_get(o, "blocks");
	assert_string_equal(block_text(find_block(blocks, "header", 0)),
			    "Review approved: ddl-needs-review");
	assert_null(find_block(blocks, "actions", 0));
	int found = 0;
	json_t *b;
	for (int i = 0; (b = find_block(blocks, "section", i)); i++) {
		json_t *t = json_object_get(b, "text");
		const char *s = t ? json_string_value(json_object_get(t, "text")) : NULL;
		if (s && strstr(s, "*Approved* by bob") && strstr(s, "*Comment:* ok &lt;b&gt;"))
			found = 1;
	}
	assert_true(found);
	json_t *fields = json_object_get(find_block(blocks, "section", 0), "fields");
	assert_string_equal(str_at(json_array_get(fields, 5), "text"), "*Approvals*\n2/2");
	json_decref(o);
	free(body);
}

/* ---- the receiver --------------------------------------------------------- */

static pid_t receiver_pid = -1;
static char out_path[64];

static int in_path(const char *name)
{
	const char *path = getenv("PATH");
	if (!path)
		return 0;
	char *copy = strdup(path), *save = NULL;
	assert_non_null(copy);
	int found = 0;
	for (char *dir = strtok_r(copy, ":", &save); dir && !found;
	     dir = strtok_r(NULL, ":", &save)) {
		char full[4096];
		snprintf(full, sizeof(full), "%s/%s", *dir ? dir : ".", name);
		found = access(full, X_OK) == 0;
	}
	free(copy);
	return found;
}

/* Starts the receiver writing to out_path; returns its port. */
static int spawn_receiver(const char *secret, int fail_first)
{
	if (!in_path("node"))
		fail_msg("`node` is not in PATH: the end-to-end notify test needs Node.js 20");
	if (access(RECEIVER, R_OK) != 0)
		fail_msg("%s: %s (run the test from the repository root)", RECEIVER,
			 strerror(errno));
	snprintf(out_path, sizeof(out_path), "/tmp/warden-test-notify-XXXXXX");
	int tmp = mkstemp(out_path);
	assert_true(tmp >= 0);
	close(tmp);
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	char ff[16];
	snprintf(ff, sizeof(ff), "%d", fail_first);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fds[1], STDOUT_FILENO);
		close(fds[0]);
		close(fds[1]);
		execlp("node", "node", RECEIVER, "--port", "0", "--out", out_path, "--secret",
		       secret, "--fail-first", ff, (char *)NULL);
		_exit(127);
	}
	receiver_pid = pid;
	close(fds[1]);
	char line[256];
	size_t n = 0;
	int64_t until = mono_ms() + 10000;
	while (n < sizeof(line) - 1 && !memchr(line, '\n', n)) {
		struct pollfd p = {.fd = fds[0], .events = POLLIN};
		int left = (int)(until - mono_ms());
		if (left <= 0 || poll(&p, 1, left) <= 0)
			break;
		ssize_t r = read(fds[0], line + n, sizeof(line) - 1 - n);
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fds[0]);
	line[n] = '\0';
	json_t *j = json_loads(line, JSON_DISABLE_EOF_CHECK, NULL);
	int port = j ? (int)json_integer_value(json_object_get(j, "port")) : 0;
	json_decref(j);
	if (port <= 0)
		fail_msg("%s did not report its port within 10 s (stdout: \"%s\")", RECEIVER, line);
	return port;
}

/* Every complete line of the receiver's file, parsed, as an array. */
static json_t *read_records(void)
{
	json_t *all = json_array();
	FILE *f = fopen(out_path, "r");
	if (!f)
		return all;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	while ((n = getline(&line, &cap, f)) > 0) {
		if (line[n - 1] != '\n')
			break; /* still being written */
		json_t *r = json_loads(line, 0, NULL);
		assert_non_null(r);
		json_array_append_new(all, r);
	}
	free(line);
	fclose(f);
	return all;
}

/* The records of one format: json bodies carry "event", slack bodies "blocks". */
static json_t *records_of(json_t *all, const char *marker)
{
	json_t *out = json_array();
	size_t i;
	json_t *r;
	json_array_foreach(all, i, r) {
		json_t *body = json_object_get(r, "body");
		if (json_is_object(body) && json_object_get(body, marker))
			json_array_append(out, r);
	}
	return out;
}

static int teardown(void **state)
{
	(void)state;
	notify_stop(); /* a no-op unless a test failed halfway */
	if (receiver_pid > 0) {
		kill(receiver_pid, SIGTERM);
		waitpid(receiver_pid, NULL, 0);
		receiver_pid = -1;
	}
	if (out_path[0]) {
		unlink(out_path);
		out_path[0] = '\0';
	}
	return 0;
}

/* ---- (4) end to end ------------------------------------------------------- */

static void test_end_to_end(void **state)
{
	(void)state;
	int port = spawn_receiver("s3cret", 1);
	char url_json[64], url_slack[64];
	snprintf(url_json, sizeof(url_json), "http://127.0.0.1:%d/hooks/json", port);
	snprintf(url_slack, sizeof(url_slack), "http://127.0.0.1:%d/hooks/slack", port);
	config_webhook hooks[2] = {
		{.url = url_json, .format = CONFIG_WEBHOOK_JSON, .secret_env = "S",
		 .secret = "s3cret"},
		{.url = url_slack, .format = CONFIG_WEBHOOK_SLACK},
	};
	warden_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.webhooks = hooks;
	cfg.n_webhooks = 2;
	cfg.review_url = LINK;
	char err[256] = "";
	assert_int_equal(notify_start(&cfg, err, sizeof(err)), 0);

	notify_event ev = sample_event();
	notify_post(&ev);
	ev.event = "review.approved";
	ev.status = "approved";
	ev.approvals = 2;
	ev.reviewer = "bob";
	ev.comment = "fine";
	notify_post(&ev);

	/* the first POST (json, requested) gets a 500 and is retried after 1 s */
	json_t *all = NULL, *js = NULL, *sl = NULL;
	int64_t until = mono_ms() + 15000;
	for (;;) {
		json_decref(all);
		json_decref(js);
		json_decref(sl);
		all = read_records();
		js = records_of(all, "event");
		sl = records_of(all, "blocks");
		if ((json_array_size(js) >= 3 && json_array_size(sl) >= 2) || mono_ms() > until)
			break;
		sleep_ms(50);
	}
	if (json_array_size(js) < 3 || json_array_size(sl) < 2)
		fail_msg("after 15 s the receiver had %zu json and %zu slack POSTs (want 3 and 2)",
			 json_array_size(js), json_array_size(sl));
	notify_stop();
	assert_int_equal(notify_pending(), 0);
	assert_int_equal(json_array_size(js), 3);
	assert_int_equal(json_array_size(sl), 2);

	const int want_status[] = {500, 200, 200};
	const char *want_event[] = {"review.requested", "review.requested", "review.approved"};
	for (size_t i = 0; i < 3; i++) {
		json_t *r = json_array_get(js, i), *h = json_object_get(r, "headers");
		assert_int_equal(json_integer_value(json_object_get(r, "status")), want_status[i]);
		assert_string_equal(str_at(r, "path"), "/hooks/json");
		assert_true(json_is_true(json_object_get(r, "signature_ok")));
		assert_int_equal(strncmp(str_at(h, "x-warden-signature"), "sha256=", 7), 0);
		assert_string_equal(str_at(h, "x-warden-event"), want_event[i]);
		assert_string_equal(str_at(json_object_get(r, "body"), "event"), want_event[i]);
		assert_string_equal(str_at(h, "content-type"), "application/json");
		assert_string_equal(str_at(h, "user-agent"), "warden");
		assert_int_equal(strlen(str_at(h, "x-warden-delivery")), 32);
	}
	/* the retry is the same delivery, byte for byte; the next event is another */
	json_t *h0 = json_object_get(json_array_get(js, 0), "headers");
	json_t *h1 = json_object_get(json_array_get(js, 1), "headers");
	json_t *h2 = json_object_get(json_array_get(js, 2), "headers");
	assert_string_equal(str_at(h0, "x-warden-delivery"), str_at(h1, "x-warden-delivery"));
	assert_string_equal(str_at(json_array_get(js, 0), "raw"),
			    str_at(json_array_get(js, 1), "raw"));
	assert_string_not_equal(str_at(h1, "x-warden-delivery"), str_at(h2, "x-warden-delivery"));

	/* slack: unsigned, in order, and each has its own delivery id */
	const char *want_header[] = {"Review requested: ddl-needs-review",
				     "Review approved: ddl-needs-review"};
	for (size_t i = 0; i < 2; i++) {
		json_t *r = json_array_get(sl, i), *h = json_object_get(r, "headers");
		assert_int_equal(json_integer_value(json_object_get(r, "status")), 200);
		assert_string_equal(str_at(r, "path"), "/hooks/slack");
		assert_null(json_object_get(h, "x-warden-signature"));
		assert_true(json_is_false(json_object_get(r, "signature_ok")));
		assert_string_equal(str_at(h, "x-warden-event"), want_event[i + 1]);
		json_t *blocks = json_object_get(json_object_get(r, "body"), "blocks");
		assert_string_equal(block_text(find_block(blocks, "header", 0)), want_header[i]);
		assert_string_not_equal(str_at(h, "x-warden-delivery"),
					str_at(h0, "x-warden-delivery"));
	}
	json_t *s0 = json_object_get(json_array_get(sl, 0), "headers");
	json_t *s1 = json_object_get(json_array_get(sl, 1), "headers");
	assert_string_not_equal(str_at(s0, "x-warden-delivery"), str_at(s1, "x-warden-delivery"));
	json_decref(all);
	json_decref(js);
	json_decref(sl);
}

/* ---- (5) a dead webhook --------------------------------------------------- */

/* A local port nothing listens on (bound and released). */
static int closed_port(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(s >= 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	socklen_t len = sizeof(a);
	assert_int_equal(getsockname(s, (struct sockaddr *)&a, &len), 0);
	close(s);
	return ntohs(a.sin_port);
}

static void start_dead(char *url, size_t urllen, config_webhook *hook, warden_config *cfg)
{
	snprintf(url, urllen, "http://127.0.0.1:%d/", closed_port());
	memset(hook, 0, sizeof(*hook));
	hook->url = url;
	hook->format = CONFIG_WEBHOOK_JSON;
	hook->secret = "k";
	memset(cfg, 0, sizeof(*cfg));
	cfg->webhooks = hook;
	cfg->n_webhooks = 1;
	char err[256] = "";
	assert_int_equal(notify_start(cfg, err, sizeof(err)), 0);
}

static void test_dead_webhook(void **state)
{
	(void)state;
	char url[64];
	config_webhook hook;
	warden_config cfg;
	start_dead(url, sizeof(url), &hook, &cfg);
	notify_event ev = sample_event();
	int64_t t0 = mono_ms();
	notify_post(&ev);
	int64_t posted = mono_ms() - t0;
	assert_true(posted < 500);
	sleep_ms(300); /* the first attempt fails; the retry is due in 1 s */
	assert_int_equal(notify_pending(), 1);
	t0 = mono_ms();
	notify_stop();
	int64_t stopped = mono_ms() - t0;
	print_message("notify_post took %lld ms, notify_stop %lld ms\n", (long long)posted,
		      (long long)stopped);
	assert_true(stopped < 5000);
	assert_int_equal(notify_pending(), 0);
}

static void test_queue_bound(void **state)
{
	(void)state;
	char url[64];
	config_webhook hook;
	warden_config cfg;
	start_dead(url, sizeof(url), &hook, &cfg);
	notify_event ev = sample_event();
	ev.statement = "DELETE FROM t";
	ev.groups_json = NULL;
	ev.classification = NULL;
	for (int i = 0; i < NOTIFY_QUEUE_MAX + 10; i++)
		notify_post(&ev);
	assert_int_equal(notify_pending(), NOTIFY_QUEUE_MAX);
	int64_t t0 = mono_ms();
	notify_stop();
	assert_true(mono_ms() - t0 < 5000);
	assert_int_equal(notify_pending(), 0);
}

static void test_no_webhooks(void **state)
{
	(void)state;
	warden_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	char err[64] = "";
	assert_int_equal(notify_start(&cfg, err, sizeof(err)), 0);
	notify_event ev = sample_event();
	notify_post(&ev); /* nothing to post to: dropped quietly */
	assert_int_equal(notify_pending(), 0);
	notify_stop();

	/* a URL that is not http(s) is refused at start, without echoing it */
	config_webhook bad = {.url = "ftp://example.com/secret-token",
			      .format = CONFIG_WEBHOOK_JSON};
	cfg.webhooks = &bad;
	cfg.n_webhooks = 1;
	assert_int_not_equal(notify_start(&cfg, err, sizeof(err)), 0);
	assert_null(strstr(err, "secret-token"));
	assert_non_null(strstr(err, "webhooks[0]"));
	notify_post(&ev);
	assert_int_equal(notify_pending(), 0);
	notify_stop();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sign_rfc4231),
		cmocka_unit_test(test_render_json),
		cmocka_unit_test(test_render_json_edges),
		cmocka_unit_test(test_render_slack),
		cmocka_unit_test(test_render_slack_long_and_decision),
		cmocka_unit_test(test_no_webhooks),
		cmocka_unit_test_teardown(test_end_to_end, teardown),
		cmocka_unit_test_teardown(test_dead_webhook, teardown),
		cmocka_unit_test_teardown(test_queue_bound, teardown),
	};
	return cmocka_run_group_tests_name("notify", tests, NULL, NULL);
}
