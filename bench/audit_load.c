/*
 * audit_load — load driver for the audit writer (bench/audit.sh builds and runs it).
 *
 *   audit_load -m strict|batch -t SUBMITTERS -s SECONDS -d DATA_DIR [-n ENTRIES]
 *
 * Links against the project's objects and drives src/audit/audit.c the way
 * the workers do: audit_start() with a hand-filled warden_config (no YAML),
 * then SUBMITTERS threads, each with its own uv_loop_t and mailbox, each
 * building one realistic request entry at a time, submitting it with
 * audit_record() — the call the gateway makes — and running its loop until
 * the completion arrives before building the next one (one request in flight
 * per submitter, like a session). In strict mode the completion comes after
 * the fsync'd commit; in batch mode the submitter goes ahead at once unless
 * the writer has fallen behind (backpressure), then it waits for the commit.
 *
 * Without -n it runs for SECONDS and prints, on one line of key=value pairs:
 *   acked        completions with status 0 that arrived before the deadline
 *   acked_per_s  acked / SECONDS
 *   committed    entries committed by the deadline (MAX(id) read by a
 *                separate read-only connection at the deadline, minus the
 *                MAX(id) the store started with: ids are consecutive)
 *   committed_per_s  committed / SECONDS
 *   late         completions that arrived after the deadline (in-flight ones)
 *   refused      submissions or completions that failed (should be 0)
 *   stop_s       how long audit_stop() took (the writer draining its queue)
 *   db_entries   COUNT(*) of the store after audit_stop(), the cross-check:
 *                db_entries = start_entries + acked + late
 *   drained_per_s  (db_entries - start_entries) / (time from the start until
 *                audit_stop() returned): every acknowledged entry committed,
 *                per second of the whole run.
 *                In batch mode acks do not wait for the commit, so the queue
 *                can grow past what the writer commits; this (and committed)
 *                is the writer's rate, acked_per_s only the submission rate.
 * With -n ENTRIES it submits exactly ENTRIES entries (as fast as the mode
 * allows, SECONDS is then only a safety limit) and reports the same fields,
 * with elapsed_s the time until the last submitter finished.
 */
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "audit/audit.h"
#include "audit/entry.h"
#include "core/config.h"
#include "core/log.h"
#include "core/mailbox.h"

typedef struct submitter {
	pthread_t thread;
	int index;
	uv_loop_t loop;
	mailbox mb;
	char session[33];
	int64_t seq;
	int pending;          /* a submission awaits its completion */
	uint64_t acked;       /* completions (status 0) before the deadline */
	uint64_t late;        /* completions (status 0) after it */
	uint64_t refused;     /* refused submissions and failed completions */
} submitter;

static pthread_barrier_t start_barrier;
static atomic_int stop_flag;
static atomic_uint_fast64_t submitted;
static uint64_t limit_entries;  /* 0 = run for the duration */
static uint64_t deadline_ns;
static atomic_int finished_threads;

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void sleep_until(uint64_t t)
{
	for (;;) {
		uint64_t n = now_ns();
		if (n >= t)
			return;
		uint64_t d = t - n;
		struct timespec ts = {.tv_sec = (time_t)(d / 1000000000ull),
				      .tv_nsec = (long)(d % 1000000000ull)};
		nanosleep(&ts, NULL);
	}
}

static char *xstrdup(const char *s)
{
	char *p = strdup(s);
	if (!p) {
		fprintf(stderr, "audit_load: out of memory\n");
		abort();
	}
	return p;
}

/* A request entry as session_request_entry() builds one (statement ~60 chars). */
static audit_entry *make_request(submitter *s)
{
	audit_entry *e = audit_entry_new(AUDIT_REQUEST);
	if (!e) {
		fprintf(stderr, "audit_load: out of memory\n");
		abort();
	}
	char stmt[96];
	snprintf(stmt, sizeof(stmt), "SELECT id, name, email FROM customers WHERE id = $1 LIMIT %d",
		 (int)(s->seq % 90) + 10);
	e->session = xstrdup(s->session);
	e->seq = s->seq++;
	e->statement = xstrdup(stmt);
	e->params = xstrdup("[\"42\"]");
	e->decision = xstrdup("allow");
	e->rule = xstrdup("default-allow");
	return e;
}

static void on_done(void *arg, int status)
{
	submitter *s = arg;
	s->pending = 0;
	if (status != 0)
		s->refused++;
	else if (limit_entries || now_ns() < deadline_ns)
		s->acked++;
	else
		s->late++;
}

static void *submitter_main(void *arg)
{
	submitter *s = arg;
	snprintf(s->session, sizeof(s->session), "%08x%08x%08x%08x", 0xbe4c0000u + (unsigned)s->index,
		 (unsigned)getpid(), (unsigned)rand(), (unsigned)s->index * 2654435761u);
	if (uv_loop_init(&s->loop) != 0 || mailbox_init(&s->mb, &s->loop) != 0) {
		fprintf(stderr, "audit_load: cannot set up submitter %d's loop\n", s->index);
		abort();
	}
	pthread_barrier_wait(&start_barrier);
	while (!atomic_load_explicit(&stop_flag, memory_order_relaxed)) {
		if (limit_entries && atomic_fetch_add(&submitted, 1) >= limit_entries)
			break;
		audit_entry *e = make_request(s);
		int64_t id;
		s->pending = 1;
		int rc = audit_record(&e, 1, &id, &s->mb, on_done, s);
		if (rc < 0) {
			s->pending = 0;
			s->refused++;
			continue;
		}
		if (rc == 0) {
			on_done(s, 0); /* batch mode, writer keeping up: the session goes ahead */
			continue;
		}
		while (s->pending)
			uv_run(&s->loop, UV_RUN_ONCE);
	}
	mailbox_close(&s->mb);
	uv_run(&s->loop, UV_RUN_DEFAULT);
	if (uv_loop_close(&s->loop) != 0)
		fprintf(stderr, "audit_load: submitter %d's loop did not close\n", s->index);
	atomic_fetch_add(&finished_threads, 1);
	return NULL;
}

/* One integer from the store, through a connection of our own (never the writer's). */
static int64_t query_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	int64_t v = -1;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "audit_load: %s: %s\n", sql, sqlite3_errmsg(db));
		return -1;
	}
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	else
		fprintf(stderr, "audit_load: %s: %s\n", sql, sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return v;
}

static sqlite3 *open_reader(const char *path)
{
	sqlite3 *db = NULL;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		fprintf(stderr, "audit_load: cannot open %s: %s\n", path, db ? sqlite3_errmsg(db) : "?");
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, 5000);
	return db;
}

static void usage(void)
{
	fprintf(stderr, "usage: audit_load -m strict|batch -t SUBMITTERS -s SECONDS -d DATA_DIR "
			"[-n ENTRIES] [-w BATCH_WINDOW_MS]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *mode = NULL, *dir = NULL;
	int threads = 0, window_ms = 5;
	double seconds = 0;
	int opt;
	while ((opt = getopt(argc, argv, "m:t:s:d:n:w:")) != -1) {
		switch (opt) {
		case 'm': mode = optarg; break;
		case 't': threads = atoi(optarg); break;
		case 's': seconds = atof(optarg); break;
		case 'd': dir = optarg; break;
		case 'n': limit_entries = strtoull(optarg, NULL, 10); break;
		case 'w': window_ms = atoi(optarg); break;
		default: usage();
		}
	}
	if (!mode || !dir || threads < 1 || threads > 4096 || seconds <= 0 ||
	    (strcmp(mode, "strict") != 0 && strcmp(mode, "batch") != 0))
		usage();
	log_level = LOG_WARN;

	char audit_path[4096], key_path[4096];
	snprintf(audit_path, sizeof(audit_path), "%s/audit.db", dir);
	snprintf(key_path, sizeof(key_path), "%s/audit.key", dir);
	warden_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.data_dir = (char *)dir;
	cfg.audit_path = audit_path;
	cfg.signing_key = key_path;
	cfg.durability = strcmp(mode, "batch") == 0 ? DURABILITY_BATCH : DURABILITY_STRICT;
	cfg.batch_window_ms = window_ms;
	cfg.sth_interval_ms = 10000; /* the default audit.sth_interval */
	cfg.workers = threads;
	cfg.log_level = LOG_WARN;

	if (audit_start(&cfg) != 0) {
		fprintf(stderr, "audit_load: audit_start failed\n");
		return 1;
	}
	sqlite3 *reader = open_reader(audit_path);
	if (!reader)
		return 1;
	int64_t start_max = query_int(reader, "SELECT COALESCE(MAX(id), 0) FROM entries");
	int64_t start_count = query_int(reader, "SELECT COUNT(*) FROM entries");

	submitter *subs = calloc((size_t)threads, sizeof(*subs));
	if (!subs || pthread_barrier_init(&start_barrier, NULL, (unsigned)threads + 1) != 0) {
		fprintf(stderr, "audit_load: out of memory\n");
		return 1;
	}
	srand((unsigned)now_ns());
	/* the deadline is far away until every submitter is ready */
	deadline_ns = UINT64_MAX;
	for (int i = 0; i < threads; i++) {
		subs[i].index = i;
		int rc = pthread_create(&subs[i].thread, NULL, submitter_main, &subs[i]);
		if (rc != 0) {
			fprintf(stderr, "audit_load: pthread_create: %s\n", strerror(rc));
			return 1;
		}
	}
	uint64_t t0 = now_ns();
	uint64_t span = (uint64_t)(seconds * 1e9);
	deadline_ns = t0 + span; /* published to the submitters by the barrier */
	pthread_barrier_wait(&start_barrier);

	int64_t deadline_max = -1;
	if (limit_entries) {
		while (atomic_load(&finished_threads) < threads && now_ns() < deadline_ns) {
			struct timespec ts = {0, 5 * 1000 * 1000};
			nanosleep(&ts, NULL);
		}
	} else {
		sleep_until(deadline_ns);
		deadline_max = query_int(reader, "SELECT COALESCE(MAX(id), 0) FROM entries");
	}
	atomic_store(&stop_flag, 1);
	uint64_t acked = 0, late = 0, refused = 0;
	for (int i = 0; i < threads; i++) {
		pthread_join(subs[i].thread, NULL);
		acked += subs[i].acked;
		late += subs[i].late;
		refused += subs[i].refused;
	}
	uint64_t t_joined = now_ns();
	/* no reader while the writer closes: SQLite then checkpoints and removes the WAL */
	sqlite3_close(reader);
	audit_stop();
	uint64_t t_stopped = now_ns();

	if (!(reader = open_reader(audit_path)))
		return 1;
	int64_t final_count = query_int(reader, "SELECT COUNT(*) FROM entries");
	int64_t heads = query_int(reader, "SELECT COUNT(*) FROM tree_heads");
	sqlite3_close(reader);

	double elapsed = limit_entries ? (double)(t_joined - t0) / 1e9 : seconds;
	int64_t committed = limit_entries ? final_count - start_count : deadline_max - start_max;
	double committed_span = limit_entries ? (double)(t_stopped - t0) / 1e9 : seconds;
	double drained_per_s = (double)(final_count - start_count) / ((double)(t_stopped - t0) / 1e9);
	int consistent = final_count == start_count + (int64_t)(acked + late);
	printf("mode=%s submitters=%d seconds=%.3f elapsed_s=%.3f acked=%llu acked_per_s=%.0f "
	       "committed=%lld committed_per_s=%.0f late=%llu refused=%llu stop_s=%.3f "
	       "drained_per_s=%.0f start_entries=%lld db_entries=%lld tree_heads=%lld consistent=%s\n",
	       mode, threads, seconds, elapsed, (unsigned long long)acked, (double)acked / elapsed,
	       (long long)committed, (double)committed / committed_span, (unsigned long long)late,
	       (unsigned long long)refused, (double)(t_stopped - t_joined) / 1e9, drained_per_s,
	       (long long)start_count, (long long)final_count, (long long)heads,
	       consistent ? "yes" : "NO");
	pthread_barrier_destroy(&start_barrier);
	free(subs);
	return refused == 0 && consistent ? 0 : 1;
}
