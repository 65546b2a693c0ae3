/*
 * audit — the record stage end to end: entries submitted from a libuv loop
 * through a mailbox, committed by the writer thread, read back through the
 * store; batch durability; the JSON export object; fail-closed behaviour.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "audit/audit.h"
#include "audit/entry.h"
#include "audit/store.h"
#include "core/mailbox.h"

/* ---- fixtures ------------------------------------------------------------ */

typedef struct fixture {
	char dir[64];   /* mkdtemp */
	char data[128]; /* <dir>/var/data — does not exist before audit_start */
	char db[192];
	warden_config cfg;
	uv_loop_t loop;
	mailbox mb;
} fixture;

static fixture *fixture_new(config_durability d, int window_ms)
{
	fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/warden-test-audit-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->data, sizeof(f->data), "%s/var/data", f->dir);
	snprintf(f->db, sizeof(f->db), "%s/audit.db", f->data);
	f->cfg.data_dir = f->data;
	f->cfg.audit_path = f->db;
	f->cfg.durability = d;
	f->cfg.batch_window_ms = window_ms;
	assert_int_equal(uv_loop_init(&f->loop), 0);
	assert_int_equal(mailbox_init(&f->mb, &f->loop), 0);
	return f;
}

static void fixture_free(fixture *f)
{
	mailbox_close(&f->mb);
	uv_run(&f->loop, UV_RUN_DEFAULT); /* let the close finish */
	assert_int_equal(uv_loop_close(&f->loop), 0);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
}

typedef struct completion {
	int called;
	int status;
	int order;
} completion;

static int completion_counter;

static void on_done(void *arg, int status)
{
	completion *c = arg;
	c->called++;
	c->status = status;
	c->order = ++completion_counter;
}

static int timed_out;
static void on_timeout(uv_timer_t *t)
{
	timed_out = 1;
}

/* Runs the loop until every completion in cs[0..n) was called (or 5 s pass). */
static void run_until_done(fixture *f, completion *cs, size_t n)
{
	uv_timer_t timer;
	timed_out = 0;
	uv_timer_init(&f->loop, &timer);
	uv_timer_start(&timer, on_timeout, 5000, 0);
	for (;;) {
		size_t done = 0;
		for (size_t i = 0; i < n; i++)
			done += cs[i].called > 0;
		if (done == n || timed_out)
			break;
		uv_run(&f->loop, UV_RUN_ONCE);
	}
	uv_close((uv_handle_t *)&timer, NULL);
	uv_run(&f->loop, UV_RUN_NOWAIT);
	assert_false(timed_out);
}

static void sleep_ms(int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
	nanosleep(&ts, NULL);
}

/* ---- entries with every field set, reproducible for comparison ----------- */

static char *sdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

static const char SESSION[] = "0123456789abcdef0123456789abcdef";

static audit_entry *make_entry(audit_kind kind, int n)
{
	audit_entry *e = audit_entry_new(kind);
	assert_non_null(e);
	char buf[256];
	e->time_us = 1795638147123456LL + n; /* 2026-11-25T20:22:27.123456Z + n us */
	e->session = sdup(SESSION);
	e->seq = n;
	e->user = sdup(n % 2 ? "alice" : "bob");
	e->groups = sdup("[\"dev\",\"ops\"]");
	e->agent = sdup("psql");
	e->client_addr = sdup("127.0.0.1:54321");
	e->connection = sdup(n % 3 ? "prod" : "staging");
	e->protocol = sdup("postgres");
	e->startup_user = sdup("postgres");
	switch (kind) {
	case AUDIT_REQUEST:
		snprintf(buf, sizeof(buf), "SELECT %d,\n  'héllo' -- n=%d", n, n);
		e->statement = sdup(buf);
		e->params = sdup("[\"1\",null,{\"hex\":\"00ff\"}]");
		e->decision = sdup("allow");
		e->rule = sdup("devs-read");
		break;
	case AUDIT_RESULT:
		e->request_id = 1000 + n;
		e->command_tag = sdup("SELECT 3");
		e->rows = n % 2 ? 3 : -1;
		e->error_code = n % 2 ? NULL : sdup("42P01");
		e->error_message = n % 2 ? NULL : sdup("relation \"nope\" does not exist");
		e->duration_us = 1234 + n;
		break;
	case AUDIT_SESSION_END:
	case AUDIT_AUTH_FAILURE:
		e->reason = sdup("client closed the connection");
		break;
	case AUDIT_SESSION_START:
		e->agent = (free(e->agent), NULL); /* an absent string survives as absent */
		break;
	case AUDIT_REVIEW:
		e->decision = sdup("approved");
		e->rule = sdup("orders-delete");
		e->request_id = 2000 + n;
		e->reason = sdup("ticket OPS-1");
		e->review = sdup("00112233445566778899aabbccddeeff");
		e->grant = sdup("{\"id\":\"ab\",\"kind\":\"duration\",\"expires\":null}");
		break;
	}
	return e;
}

static void assert_str_eq(const char *a, const char *b)
{
	if (!a || !b)
		assert_ptr_equal(a, b);
	else
		assert_string_equal(a, b);
}

static void assert_entry_equal(const audit_entry *a, const audit_entry *b)
{
	assert_int_equal(a->id, b->id);
	assert_int_equal(a->time_us, b->time_us);
	assert_str_eq(a->session, b->session);
	assert_int_equal(a->seq, b->seq);
	assert_int_equal(a->kind, b->kind);
	assert_str_eq(a->user, b->user);
	assert_str_eq(a->groups, b->groups);
	assert_str_eq(a->agent, b->agent);
	assert_str_eq(a->client_addr, b->client_addr);
	assert_str_eq(a->connection, b->connection);
	assert_str_eq(a->protocol, b->protocol);
	assert_str_eq(a->startup_user, b->startup_user);
	assert_str_eq(a->statement, b->statement);
	assert_str_eq(a->params, b->params);
	assert_str_eq(a->decision, b->decision);
	assert_str_eq(a->rule, b->rule);
	assert_int_equal(a->request_id, b->request_id);
	assert_str_eq(a->command_tag, b->command_tag);
	assert_int_equal(a->rows, b->rows);
	assert_str_eq(a->error_code, b->error_code);
	assert_str_eq(a->error_message, b->error_message);
	assert_int_equal(a->duration_us, b->duration_us);
	assert_str_eq(a->reason, b->reason);
	assert_str_eq(a->classification, b->classification);
	assert_str_eq(a->review, b->review);
	assert_str_eq(a->grant, b->grant);
}

/* Every entry of the store, in id order. */
static size_t read_all(const char *db, audit_entry **out, size_t max)
{
	char err[512];
	audit_store *s = audit_store_open(db, AUDIT_STORE_READ, err, sizeof(err));
	assert_non_null(s);
	audit_store_filter f;
	audit_store_filter_init(&f);
	audit_store_iter *it;
	assert_int_equal(audit_store_iter_open(s, &f, &it), 0);
	size_t n = 0;
	audit_entry *e;
	int rc;
	while ((rc = audit_store_iter_next(it, &e)) == 1) {
		assert_true(n < max);
		out[n++] = e;
	}
	assert_int_equal(rc, 0);
	audit_store_iter_close(it);
	audit_store_close(s);
	return n;
}

static void free_all(audit_entry **es, size_t n)
{
	for (size_t i = 0; i < n; i++)
		audit_entry_free(es[i]);
}

/* ---- tests --------------------------------------------------------------- */

static const audit_kind kinds[] = {AUDIT_SESSION_START, AUDIT_REQUEST, AUDIT_RESULT,
				   AUDIT_REQUEST, AUDIT_RESULT, AUDIT_REVIEW, AUDIT_SESSION_END,
				   AUDIT_AUTH_FAILURE};
#define N_KINDS (sizeof(kinds) / sizeof(kinds[0]))

typedef struct leaf_walk {
	const uint8_t (*want)[32];
	uint64_t seen, differ;
} leaf_walk;

static void check_leaf(void *ctx, const uint8_t leaf[32])
{
	leaf_walk *w = ctx;
	w->differ += memcmp(leaf, w->want[w->seen], 32) != 0;
	w->seen++;
}

static void test_strict_round_trip(void **state)
{
	fixture *f = fixture_new(DURABILITY_STRICT, 5);
	assert_int_equal(audit_start(&f->cfg), 0);
	assert_true(audit_healthy());

	/* three batches of different sizes, as three sessions might submit them */
	size_t sizes[] = {2, 3, 3};
	completion cs[3] = {0};
	int64_t ids[N_KINDS];
	size_t k = 0;
	for (size_t b = 0; b < 3; b++) {
		audit_entry *batch[3];
		for (size_t i = 0; i < sizes[b]; i++, k++)
			batch[i] = make_entry(kinds[k], (int)k);
		/* the entries may be freed already: the ids come back through ids[] */
		assert_int_equal(audit_submit_ids(batch, sizes[b], ids + k - sizes[b], &f->mb,
						  on_done, &cs[b]),
				 0);
	}
	assert_int_equal(k, N_KINDS);
	for (size_t i = 0; i < N_KINDS; i++)
		assert_int_equal(ids[i], (int64_t)i + 1); /* empty store: ids from 1, increasing */

	run_until_done(f, cs, 3);
	for (size_t b = 0; b < 3; b++) {
		assert_int_equal(cs[b].called, 1);
		assert_int_equal(cs[b].status, 0);
	}
	/* completions arrive in submission (= commit) order */
	assert_true(cs[0].order < cs[1].order && cs[1].order < cs[2].order);
	audit_stop();

	/* files: the data directory was created 0700, the database is 0600 */
	struct stat st;
	assert_int_equal(stat(f->data, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(stat(f->db, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	audit_entry *got[16];
	size_t n = read_all(f->db, got, 16);
	assert_int_equal(n, N_KINDS);
	for (size_t i = 0; i < n; i++) {
		audit_entry *want = make_entry(kinds[i], (int)i);
		want->id = ids[i];
		assert_entry_equal(want, got[i]);
		audit_entry_free(want);
	}
	free_all(got, n);

	/* point reads and filters */
	char err[512];
	audit_store *s = audit_store_open(f->db, AUDIT_STORE_READ, err, sizeof(err));
	assert_non_null(s);
	audit_entry *e = NULL;
	assert_int_equal(audit_store_get(s, 2, &e), 1);
	assert_int_equal(e->kind, AUDIT_REQUEST);
	audit_entry_free(e);
	assert_int_equal(audit_store_get(s, 999, &e), 0);
	assert_int_equal(audit_store_get_result(s, 1002, &e), 1); /* make_entry(RESULT, 2) */
	assert_int_equal(e->id, 3);
	audit_entry_free(e);
	assert_int_equal(audit_store_get_result(s, 77, &e), 0);

	audit_store_filter flt;
	audit_store_filter_init(&flt);
	flt.user = "alice";
	flt.kinds = 1u << AUDIT_REQUEST | 1u << AUDIT_RESULT;
	audit_store_iter *it;
	assert_int_equal(audit_store_iter_open(s, &flt, &it), 0);
	int64_t seen[8];
	size_t m = 0;
	while (audit_store_iter_next(it, &e) == 1) {
		seen[m++] = e->id;
		assert_string_equal(e->user, "alice");
		audit_entry_free(e);
	}
	audit_store_iter_close(it);
	assert_int_equal(m, 2); /* n = 1 (request) and n = 3 (request) */
	assert_int_equal(seen[0], 2);
	assert_int_equal(seen[1], 4);

	audit_store_filter_init(&flt);
	flt.since_us = 1795638147123456LL + 5;
	flt.limit = 1;
	flt.newest_first = 1;
	assert_int_equal(audit_store_iter_open(s, &flt, &it), 0);
	assert_int_equal(audit_store_iter_next(it, &e), 1);
	assert_int_equal(e->id, (int64_t)N_KINDS);
	audit_entry_free(e);
	assert_int_equal(audit_store_iter_next(it, &e), 0);
	audit_store_iter_close(it);

	/* the leaves one at a time (the writer's start) are the leaves read at once (verify) */
	uint8_t (*leaves)[32];
	uint64_t n_leaves, n_each;
	assert_int_equal(audit_store_leaves(s, &leaves, &n_leaves), 0);
	assert_int_equal(n_leaves, N_KINDS);
	leaf_walk lw = {.want = leaves};
	assert_int_equal(audit_store_each_leaf(s, check_leaf, &lw, &n_each), 0);
	assert_int_equal(n_each, n_leaves);
	assert_int_equal(lw.seen, n_leaves);
	assert_int_equal(lw.differ, 0);
	free(leaves);
	audit_store_close(s);

	/* a restart continues the ids after the highest stored one */
	assert_int_equal(audit_start(&f->cfg), 0);
	audit_entry *one = make_entry(AUDIT_SESSION_START, 0);
	completion c = {0};
	int64_t id = 0;
	assert_int_equal(audit_submit_ids(&one, 1, &id, &f->mb, on_done, &c), 0);
	assert_int_equal(id, (int64_t)N_KINDS + 1);
	run_until_done(f, &c, 1);
	assert_int_equal(c.status, 0);
	audit_stop();

	/* after stop nothing is accepted */
	one = make_entry(AUDIT_SESSION_START, 0);
	assert_int_equal(audit_submit(&one, 1, NULL, NULL, NULL), -1);
	fixture_free(f);
}

/* One writer per database: a second process (here: a second open) is refused. */
static void test_single_writer(void **state)
{
	fixture *f = fixture_new(DURABILITY_STRICT, 5);
	assert_int_equal(audit_start(&f->cfg), 0);
	char err[512];
	audit_store *s = audit_store_open(f->db, AUDIT_STORE_WRITE_STRICT, err, sizeof(err));
	assert_null(s);
	assert_non_null(strstr(err, "in use"));
	audit_stop();
	fixture_free(f);
}

/* The database refuses to change what was written. */
static void test_append_only(void **state)
{
	fixture *f = fixture_new(DURABILITY_STRICT, 5);
	assert_int_equal(audit_start(&f->cfg), 0);
	audit_entry *e = make_entry(AUDIT_SESSION_START, 0);
	completion c = {0};
	assert_int_equal(audit_submit(&e, 1, &f->mb, on_done, &c), 0);
	run_until_done(f, &c, 1);
	audit_stop();

	sqlite3 *db;
	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	/* the only UPDATE/DELETE in the tree: proving the triggers refuse them */
	assert_int_not_equal(sqlite3_exec(db, "UPDATE entries SET \"user\" = 'x'", NULL, NULL, NULL),
			     SQLITE_OK);
	assert_int_not_equal(sqlite3_exec(db, "DELETE FROM entries", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	audit_entry *got[4];
	size_t n = read_all(f->db, got, 4);
	assert_int_equal(n, 1);
	assert_string_equal(got[0]->user, "bob");
	free_all(got, n);
	fixture_free(f);
}

static void test_batch_mode(void **state)
{
	fixture *f = fixture_new(DURABILITY_BATCH, 50);
	assert_int_equal(audit_start(&f->cfg), 0);
	completion cs[4] = {0};
	for (int b = 0; b < 4; b++) {
		audit_entry *e[2] = {make_entry(AUDIT_REQUEST, 2 * b), make_entry(AUDIT_RESULT, 2 * b + 1)};
		int64_t got_ids[2] = {0};
		assert_int_equal(audit_submit_ids(e, 2, got_ids, &f->mb, on_done, &cs[b]), 0);
		assert_int_equal(got_ids[0], 2 * b + 1);
		assert_int_equal(got_ids[1], 2 * b + 2);
	}
	/* acknowledged at once: the completions are already posted */
	uv_run(&f->loop, UV_RUN_NOWAIT);
	for (int b = 0; b < 4; b++) {
		assert_int_equal(cs[b].called, 1);
		assert_int_equal(cs[b].status, 0);
	}
	/* and committed within the window (generous slack for a loaded machine) */
	audit_entry *got[16];
	size_t n = 0;
	for (int tries = 0; tries < 100 && n < 8; tries++) {
		sleep_ms(20);
		free_all(got, n);
		n = read_all(f->db, got, 16);
	}
	assert_int_equal(n, 8);
	for (size_t i = 0; i < n; i++) {
		audit_entry *want = make_entry(i % 2 ? AUDIT_RESULT : AUDIT_REQUEST, (int)i);
		want->id = (int64_t)i + 1;
		assert_entry_equal(want, got[i]);
		audit_entry_free(want);
	}
	free_all(got, n);

	/* what is queued at stop is committed by stop */
	audit_entry *last = make_entry(AUDIT_SESSION_END, 9);
	assert_int_equal(audit_submit(&last, 1, NULL, NULL, NULL), 0);
	audit_stop();
	n = read_all(f->db, got, 16);
	assert_int_equal(n, 9);
	assert_int_equal(got[8]->kind, AUDIT_SESSION_END);
	free_all(got, n);
	fixture_free(f);
}

/*
 * Batch mode forwards before the commit; when the writer falls behind (here:
 * a backlog of AUDIT_BATCH_BACKLOG entries under a window long enough that
 * nothing commits on its own), audit_record makes the caller wait for the
 * commit instead, so what a crash can lose stays bounded.
 */
static void test_batch_backpressure(void **state)
{
	fixture *f = fixture_new(DURABILITY_BATCH, 10000);
	assert_int_equal(audit_start(&f->cfg), 0);
	completion c0 = {0}, c1 = {0};
	audit_entry *e = make_entry(AUDIT_REQUEST, 0);
	int64_t id;
	assert_int_equal(audit_record(&e, 1, &id, &f->mb, on_done, &c0), 0); /* go ahead */
	enum { BACKLOG = 65536 };
	audit_entry **many = calloc(BACKLOG, sizeof(*many));
	assert_non_null(many);
	for (int i = 0; i < BACKLOG; i++) {
		many[i] = audit_entry_new(AUDIT_RESULT);
		many[i]->session = strdup("0123456789abcdef0123456789abcdef");
		many[i]->seq = i + 1;
	}
	assert_int_equal(audit_submit(many, BACKLOG, NULL, NULL, NULL), 0);
	free(many);
	e = make_entry(AUDIT_REQUEST, 1);
	assert_int_equal(audit_record(&e, 1, &id, &f->mb, on_done, &c1), 1); /* wait */
	assert_int_equal(id, BACKLOG + 2);
	run_until_done(f, &c1, 1);
	assert_int_equal(c1.status, 0);
	assert_int_equal(c0.called, 0); /* the first one never waited */
	/* c1 was told only after its commit: everything up to it is stored */
	audit_store *s;
	char err[256];
	assert_non_null(s = audit_store_open(f->db, AUDIT_STORE_READ, err, sizeof(err)));
	int64_t max_id = 0;
	assert_int_equal(audit_store_max_id(s, &max_id), 0);
	assert_true(max_id >= BACKLOG + 2);
	audit_store_close(s);
	audit_stop();
	fixture_free(f);
}

static void test_entry_json(void **state)
{
	audit_entry *e = make_entry(AUDIT_REQUEST, 0);
	e->id = 42;
	free(e->statement);
	e->statement = strdup("SELECT 'caf\xe9'"); /* Latin-1 byte: not UTF-8 */
	e->classification = strdup("{\"kinds\":[\"read\"],\"statements\":[\"select\"]}");
	json_t *o = audit_entry_to_json(e);
	assert_non_null(o);
	char *text = json_dumps(o, JSON_COMPACT);
	assert_string_equal(
		text,
		"{\"id\":42,\"time\":\"2026-11-25T20:22:27.123456Z\","
		"\"session\":\"0123456789abcdef0123456789abcdef\",\"seq\":0,\"kind\":\"request\","
		"\"user\":\"bob\",\"groups\":[\"dev\",\"ops\"],\"agent\":\"psql\","
		"\"client_addr\":\"127.0.0.1:54321\",\"connection\":\"staging\","
		"\"protocol\":\"postgres\",\"startup_user\":\"postgres\","
		"\"statement\":\"SELECT 'caf\xef\xbf\xbd'\","
		"\"params\":[\"1\",null,{\"hex\":\"00ff\"}],\"decision\":\"allow\","
		"\"rule\":\"devs-read\",\"classification\":{\"kinds\":[\"read\"],\"statements\":[\"select\"]}}");
	free(text);
	json_decref(o);
	audit_entry_free(e);

	/* result: rows unknown -> null; absent strings -> null; malformed groups kept as text */
	e = make_entry(AUDIT_RESULT, 1);
	e->id = 43;
	free(e->command_tag);
	e->command_tag = NULL;
	e->rows = -1;
	free(e->groups);
	e->groups = strdup("not json");
	o = audit_entry_to_json(e);
	text = json_dumps(o, JSON_COMPACT);
	assert_string_equal(
		text,
		"{\"id\":43,\"time\":\"2026-11-25T20:22:27.123457Z\","
		"\"session\":\"0123456789abcdef0123456789abcdef\",\"seq\":1,\"kind\":\"result\","
		"\"user\":\"alice\",\"groups\":\"not json\",\"agent\":\"psql\","
		"\"client_addr\":\"127.0.0.1:54321\",\"connection\":\"prod\","
		"\"protocol\":\"postgres\",\"startup_user\":\"postgres\",\"request_id\":1001,"
		"\"command_tag\":null,\"rows\":null,\"error_code\":null,\"error_message\":null,"
		"\"duration_us\":1235}");
	free(text);
	json_decref(o);
	audit_entry_free(e);

	e = make_entry(AUDIT_AUTH_FAILURE, 2);
	o = audit_entry_to_json(e);
	assert_string_equal(json_string_value(json_object_get(o, "reason")),
			    "client closed the connection");
	assert_null(json_object_get(o, "statement"));
	json_decref(o);
	audit_entry_free(e);

	audit_kind k;
	for (int i = AUDIT_SESSION_START; i <= AUDIT_KIND_LAST; i++) {
		assert_int_equal(audit_kind_parse(audit_kind_name((audit_kind)i), &k), 0);
		assert_int_equal(k, i);
	}
	assert_int_equal(audit_kind_parse("nope", &k), -1);

	char when[AUDIT_TIME_LEN];
	assert_int_equal(audit_time_format(-1, when, sizeof(when)), 0);
	assert_string_equal(when, "1969-12-31T23:59:59.999999Z");
}

/* Waits (running the loop) until audit_healthy() == want, at most 5 s. */
static void wait_healthy(fixture *f, int want)
{
	for (int i = 0; i < 500 && audit_healthy() != want; i++) {
		uv_run(&f->loop, UV_RUN_NOWAIT);
		sleep_ms(10);
	}
	assert_int_equal(audit_healthy(), want);
}

static void test_fail_closed(void **state)
{
	fixture *f = fixture_new(DURABILITY_STRICT, 5);
	assert_int_equal(audit_start(&f->cfg), 0);

	audit_entry *e = make_entry(AUDIT_SESSION_START, 0); /* id 1: committed */
	completion ok = {0};
	assert_int_equal(audit_submit(&e, 1, &f->mb, on_done, &ok), 0);
	run_until_done(f, &ok, 1);
	assert_int_equal(ok.status, 0);

	audit_test_fail_commits(1);
	e = make_entry(AUDIT_REQUEST, 1); /* id 2: its request is refused */
	completion refused = {0};
	assert_int_equal(audit_submit(&e, 1, &f->mb, on_done, &refused), 0);
	run_until_done(f, &refused, 1);
	assert_int_equal(refused.status, -1);
	assert_int_equal(audit_healthy(), 0);

	/* while unhealthy: a waiter is turned away at once, no id used, nothing posted */
	e = make_entry(AUDIT_REQUEST, 2);
	completion never = {0};
	assert_int_equal(audit_submit(&e, 1, &f->mb, on_done, &never), -1);

	/* entries nobody waits for are kept (ids 3, 4) and survive the retries */
	audit_entry *kept[2] = {make_entry(AUDIT_RESULT, 3), make_entry(AUDIT_SESSION_END, 4)};
	int64_t got_ids[2] = {0};
	assert_int_equal(audit_submit_ids(kept, 2, got_ids, NULL, NULL, NULL), 0);
	assert_int_equal(got_ids[0], 3);
	assert_int_equal(got_ids[1], 4);
	sleep_ms(1200); /* at least two failed retries */
	assert_int_equal(audit_healthy(), 0);

	audit_test_fail_commits(0);
	wait_healthy(f, 1);

	e = make_entry(AUDIT_REQUEST, 5); /* id 5: accepted again */
	completion again = {0};
	assert_int_equal(audit_submit_ids(&e, 1, got_ids, &f->mb, on_done, &again), 0);
	assert_int_equal(got_ids[0], 5);
	run_until_done(f, &again, 1);
	assert_int_equal(again.status, 0);
	audit_stop();
	uv_run(&f->loop, UV_RUN_NOWAIT);
	assert_int_equal(never.called, 0);

	audit_entry *got[8];
	size_t n = read_all(f->db, got, 8);
	assert_int_equal(n, 4); /* 1, 3, 4, 5 — the refused request 2 never happened */
	int64_t want_ids[] = {1, 3, 4, 5};
	int want_n[] = {0, 3, 4, 5};
	audit_kind want_kind[] = {AUDIT_SESSION_START, AUDIT_RESULT, AUDIT_SESSION_END,
				  AUDIT_REQUEST};
	for (size_t i = 0; i < n; i++) {
		audit_entry *want = make_entry(want_kind[i], want_n[i]);
		want->id = want_ids[i];
		assert_entry_equal(want, got[i]);
		audit_entry_free(want);
	}
	free_all(got, n);
	fixture_free(f);
}

/* Batch mode acknowledged the requests already: on failure every entry is kept. */
static void test_batch_fail_keeps(void **state)
{
	fixture *f = fixture_new(DURABILITY_BATCH, 20);
	assert_int_equal(audit_start(&f->cfg), 0);
	audit_test_fail_commits(1);
	audit_entry *e = make_entry(AUDIT_REQUEST, 0);
	completion c = {0};
	assert_int_equal(audit_submit(&e, 1, &f->mb, on_done, &c), 0);
	run_until_done(f, &c, 1);
	assert_int_equal(c.status, 0);
	wait_healthy(f, 0);
	e = make_entry(AUDIT_REQUEST, 1);
	assert_int_equal(audit_submit(&e, 1, &f->mb, on_done, &c), -1);
	audit_test_fail_commits(0);
	wait_healthy(f, 1);
	audit_stop();
	audit_entry *got[4];
	size_t n = read_all(f->db, got, 4);
	assert_int_equal(n, 1);
	assert_int_equal(got[0]->id, 1);
	assert_int_equal(got[0]->kind, AUDIT_REQUEST);
	free_all(got, n);
	fixture_free(f);
}

/* Stopping while the store fails: one last attempt, then stop returns anyway. */
static void test_stop_while_failing(void **state)
{
	fixture *f = fixture_new(DURABILITY_STRICT, 5);
	assert_int_equal(audit_start(&f->cfg), 0);
	audit_test_fail_commits(1);
	audit_entry *e = make_entry(AUDIT_SESSION_END, 0);
	assert_int_equal(audit_submit(&e, 1, NULL, NULL, NULL), 0);
	wait_healthy(f, 0);
	audit_stop();
	audit_test_fail_commits(0);
	audit_entry *got[2];
	assert_int_equal(read_all(f->db, got, 2), 0);
	fixture_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_entry_json),
		cmocka_unit_test(test_strict_round_trip),
		cmocka_unit_test(test_single_writer),
		cmocka_unit_test(test_append_only),
		cmocka_unit_test(test_batch_mode),
		cmocka_unit_test(test_batch_backpressure),
		cmocka_unit_test(test_fail_closed),
		cmocka_unit_test(test_batch_fail_keeps),
		cmocka_unit_test(test_stop_while_failing),
	};
	return cmocka_run_group_tests_name("audit", tests, NULL, NULL);
}
