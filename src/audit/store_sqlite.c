/*
 * audit store, SQLite implementation (see store.h).
 *
 * Owns: the database file, its schema, and every SQL statement that touches
 * it. The writer keeps one prepared INSERT (and BEGIN/COMMIT/ROLLBACK) for
 * its lifetime, so writing an entry costs one bind + step + reset; strings
 * are bound SQLITE_STATIC (the entry outlives the step), so nothing is
 * copied or allocated per entry.
 *
 * Invariants:
 *  - append-only: this file contains INSERT and SELECT on `entries` and
 *    nothing else; triggers make the database itself refuse UPDATE/DELETE.
 *  - WAL journal; the writer runs synchronous=FULL in both modes (the WAL
 *    is fsync'd by every COMMIT).
 *  - one writer process per file, enforced by flock() on "<path>.lock",
 *    because the audit writer assigns ids from MAX(id)+1 at start.
 *  - result-only integers (request_id, rows, duration_us) are NULL on other
 *    kinds, and rows is NULL when unknown (-1 in memory).
 */
#include "audit/store.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define SCHEMA_VERSION 1

struct audit_store {
	sqlite3 *db;
	audit_store_mode mode;
	int lock_fd;
	sqlite3_stmt *insert, *begin, *commit, *rollback; /* writer */
	sqlite3_stmt *get, *get_result;                   /* reader, prepared on first use */
	char err[512];
};

struct audit_store_iter {
	audit_store *store;
	sqlite3_stmt *stmt;
};

/* Column order shared by INSERT and every SELECT (see row_to_entry). */
#define COLUMNS                                                                                   \
	"id, time_us, session, seq, kind, \"user\", groups, agent, client_addr, connection, "     \
	"protocol, startup_user, statement, params, decision, \"rule\", request_id, command_tag, " \
	"\"rows\", error_code, error_message, duration_us, reason"

static const char schema_sql[] =
	"CREATE TABLE IF NOT EXISTS entries (\n"
	"  id            INTEGER PRIMARY KEY,\n"
	"  time_us       INTEGER NOT NULL,\n"
	"  session       TEXT,\n"
	"  seq           INTEGER NOT NULL,\n"
	"  kind          TEXT NOT NULL,\n"
	"  \"user\"        TEXT,\n"
	"  groups        TEXT,\n"
	"  agent         TEXT,\n"
	"  client_addr   TEXT,\n"
	"  connection    TEXT,\n"
	"  protocol      TEXT,\n"
	"  startup_user  TEXT,\n"
	"  statement     TEXT,\n"
	"  params        TEXT,\n"
	"  decision      TEXT,\n"
	"  \"rule\"        TEXT,\n"
	"  request_id    INTEGER,\n"
	"  command_tag   TEXT,\n"
	"  \"rows\"        INTEGER,\n"
	"  error_code    TEXT,\n"
	"  error_message TEXT,\n"
	"  duration_us   INTEGER,\n"
	"  reason        TEXT\n"
	");\n"
	/*
	 * One index only: every index is another page written and fsync'd by each
	 * strict-mode commit (measured: five indexes cost a quarter of the 8-client
	 * throughput). Filters by user, connection and time scan in id order.
	 */
	"CREATE INDEX IF NOT EXISTS entries_request ON entries(request_id)"
	" WHERE request_id IS NOT NULL;\n"
	/*
	 * Who and where (user, groups, agent, client_addr, connection, protocol,
	 * startup_user) are stored once, on the session's session_start entry (and
	 * on auth_failure entries, which have no session); the other entries of a
	 * session name it by `session`. `audit_log` shows every entry with them
	 * filled in. Storing them once keeps each strict-mode commit small.
	 */
	"CREATE INDEX IF NOT EXISTS entries_session_start ON entries(session)"
	" WHERE kind = 'session_start';\n"
	"CREATE VIEW IF NOT EXISTS audit_log AS SELECT e.id AS id, e.time_us AS time_us,"
	" e.session AS session, e.seq AS seq, e.kind AS kind,"
	" COALESCE(e.\"user\", s.\"user\") AS \"user\", COALESCE(e.groups, s.groups) AS groups,"
	" COALESCE(e.agent, s.agent) AS agent, COALESCE(e.client_addr, s.client_addr) AS client_addr,"
	" COALESCE(e.connection, s.connection) AS connection,"
	" COALESCE(e.protocol, s.protocol) AS protocol,"
	" COALESCE(e.startup_user, s.startup_user) AS startup_user,"
	" e.statement AS statement, e.params AS params, e.decision AS decision, e.\"rule\" AS \"rule\","
	" e.request_id AS request_id, e.command_tag AS command_tag, e.\"rows\" AS \"rows\","
	" e.error_code AS error_code, e.error_message AS error_message,"
	" e.duration_us AS duration_us, e.reason AS reason"
	" FROM entries e LEFT JOIN entries s ON s.kind = 'session_start' AND s.session = e.session"
	" AND e.kind NOT IN ('session_start', 'auth_failure');\n"
	/* defence in depth: the log is append-only even for someone with the sqlite3 shell */
	"CREATE TRIGGER IF NOT EXISTS entries_append_only_u BEFORE UPDATE ON entries"
	" BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;\n"
	"CREATE TRIGGER IF NOT EXISTS entries_append_only_d BEFORE DELETE ON entries"
	" BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;\n";

static void set_err(audit_store *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void set_err(audit_store *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(s->err, sizeof(s->err), fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < sizeof(s->err) && s->db) {
		snprintf(s->err + n, sizeof(s->err) - (size_t)n, ": %s (%s)", sqlite3_errmsg(s->db),
			 sqlite3_errstr(sqlite3_extended_errcode(s->db)));
	}
}

const char *audit_store_errmsg(const audit_store *s)
{
	return s->err;
}

/* mkdir -p of path's parent directory; new directories get mode 0700. */
static int make_parent_dirs(const char *path, char *err, size_t errlen)
{
	size_t n = strlen(path);
	char *dir = malloc(n + 1);
	if (!dir) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memcpy(dir, path, n + 1);
	char *slash = strrchr(dir, '/');
	if (!slash || slash == dir) {
		free(dir);
		return 0; /* relative to cwd, or directly under / */
	}
	*slash = '\0';
	for (char *p = dir + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;
		*p = '\0';
		if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
			snprintf(err, errlen, "cannot create directory %s: %s", dir, strerror(errno));
			free(dir);
			return -1;
		}
		*p = saved;
		if (saved == '\0')
			break;
	}
	struct stat st;
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s is not a directory", dir);
		free(dir);
		return -1;
	}
	free(dir);
	return 0;
}

static int take_writer_lock(audit_store *s, const char *path, char *err, size_t errlen)
{
	char lock_path[PATH_MAX];
	int n = snprintf(lock_path, sizeof(lock_path), "%s.lock", path);
	if (n < 0 || (size_t)n >= sizeof(lock_path)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	s->lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (s->lock_fd < 0) {
		snprintf(err, errlen, "cannot open %s: %s", lock_path, strerror(errno));
		return -1;
	}
	if (flock(s->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno == EWOULDBLOCK)
			snprintf(err, errlen, "audit store %s is in use by another warden process",
				 path);
		else
			snprintf(err, errlen, "cannot lock %s: %s", lock_path, strerror(errno));
		return -1;
	}
	return 0;
}

/* SQLite creates files 0644 (less umask); create ours 0600 first. WAL/SHM files copy its mode. */
static int create_db_file(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0) {
		close(fd);
		return 0;
	}
	if (errno == EEXIST)
		return 0;
	snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
	return -1;
}

static int prepare(audit_store *s, const char *sql, sqlite3_stmt **out)
{
	if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, out, NULL) != SQLITE_OK) {
		set_err(s, "prepare");
		return -1;
	}
	return 0;
}

/* Steps a statement that returns no rows (or whose rows are ignored) and resets it. */
static int step_done(audit_store *s, sqlite3_stmt *st, const char *what)
{
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		;
	if (rc != SQLITE_DONE) {
		set_err(s, "%s", what);
		sqlite3_reset(st);
		return -1;
	}
	sqlite3_reset(st);
	return 0;
}

static int pragma_int(audit_store *s, const char *sql, int64_t *out)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		set_err(s, "%s", sql);
		return -1;
	}
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	else
		set_err(s, "%s", sql);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

static int setup_writer(audit_store *s)
{
	/* journal_mode answers with the mode now in force; anything but "wal" is a failure */
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, "PRAGMA journal_mode=WAL", -1, &st, NULL) != SQLITE_OK) {
		set_err(s, "journal_mode");
		return -1;
	}
	int ok = sqlite3_step(st) == SQLITE_ROW &&
		 sqlite3_stricmp((const char *)sqlite3_column_text(st, 0), "wal") == 0;
	if (!ok)
		set_err(s, "cannot switch to WAL journal mode");
	sqlite3_finalize(st);
	if (!ok)
		return -1;

	/* FULL in both modes: batch mode's window bounds what a crash may lose only if each commit is durable */
	const char *sync = "PRAGMA synchronous=FULL";
	if (sqlite3_exec(s->db, sync, NULL, NULL, NULL) != SQLITE_OK) {
		set_err(s, "synchronous");
		return -1;
	}

	int64_t version;
	if (pragma_int(s, "PRAGMA user_version", &version) != 0)
		return -1;
	if (version > SCHEMA_VERSION) {
		snprintf(s->err, sizeof(s->err),
			 "schema version %lld is newer than this warden understands (%d)",
			 (long long)version, SCHEMA_VERSION);
		return -1;
	}
	if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		set_err(s, "begin");
		return -1;
	}
	char sql[sizeof(schema_sql) + 64];
	snprintf(sql, sizeof(sql), "%sPRAGMA user_version=%d;\n", schema_sql, SCHEMA_VERSION);
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		set_err(s, "create schema");
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}

	static const char insert_sql[] = "INSERT INTO entries (" COLUMNS ") VALUES "
					 "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
	if (prepare(s, insert_sql, &s->insert) != 0 || prepare(s, "BEGIN IMMEDIATE", &s->begin) != 0 ||
	    prepare(s, "COMMIT", &s->commit) != 0 || prepare(s, "ROLLBACK", &s->rollback) != 0)
		return -1;
	return 0;
}

static int check_reader(audit_store *s)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, "SELECT " COLUMNS " FROM entries LIMIT 0", -1, &st, NULL) !=
	    SQLITE_OK) {
		set_err(s, "not an audit store");
		return -1;
	}
	sqlite3_finalize(st);
	return 0;
}

audit_store *audit_store_open(const char *path, audit_store_mode mode, char *err, size_t errlen)
{
	audit_store *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->mode = mode;
	s->lock_fd = -1;
	int flags = SQLITE_OPEN_NOMUTEX;
	if (mode == AUDIT_STORE_READ) {
		struct stat st;
		if (stat(path, &st) != 0) {
			snprintf(err, errlen, "cannot open audit store %s: %s", path,
				 strerror(errno));
			goto fail;
		}
		flags |= SQLITE_OPEN_READONLY;
	} else {
		if (make_parent_dirs(path, err, errlen) != 0 ||
		    take_writer_lock(s, path, err, errlen) != 0 ||
		    create_db_file(path, err, errlen) != 0)
			goto fail;
		flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	}
	if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot open audit store %s: %s", path,
			 s->db ? sqlite3_errmsg(s->db) : "out of memory");
		goto fail;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, 5000);
	if ((mode == AUDIT_STORE_READ ? check_reader(s) : setup_writer(s)) != 0) {
		snprintf(err, errlen, "audit store %s: %s", path, s->err);
		goto fail;
	}
	s->err[0] = '\0';
	return s;
fail:
	audit_store_close(s);
	return NULL;
}

void audit_store_close(audit_store *s)
{
	if (!s)
		return;
	sqlite3_finalize(s->insert);
	sqlite3_finalize(s->begin);
	sqlite3_finalize(s->commit);
	sqlite3_finalize(s->rollback);
	sqlite3_finalize(s->get);
	sqlite3_finalize(s->get_result);
	if (s->db)
		sqlite3_close(s->db);
	if (s->lock_fd >= 0)
		close(s->lock_fd); /* releases the flock */
	free(s);
}

int audit_store_max_id(audit_store *s, int64_t *out)
{
	return pragma_int(s, "SELECT COALESCE(MAX(id), 0) FROM entries", out);
}

int audit_store_begin(audit_store *s)
{
	return step_done(s, s->begin, "begin");
}

int audit_store_commit(audit_store *s)
{
	return step_done(s, s->commit, "commit");
}

void audit_store_rollback(audit_store *s)
{
	sqlite3_reset(s->insert);
	/* an I/O or disk-full error may already have rolled the transaction back */
	if (!sqlite3_get_autocommit(s->db)) {
		char keep[sizeof(s->err)];
		memcpy(keep, s->err, sizeof(keep)); /* the first cause is the one worth logging */
		(void)step_done(s, s->rollback, "rollback");
		memcpy(s->err, keep, sizeof(keep));
	}
}

static int bind_text(sqlite3_stmt *st, int i, const char *v)
{
	return v ? sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC) : sqlite3_bind_null(st, i);
}

int audit_store_insert(audit_store *s, const audit_entry *e)
{
	sqlite3_stmt *st = s->insert;
	int result = e->kind == AUDIT_RESULT;
	int rc = SQLITE_OK;
	rc |= sqlite3_bind_int64(st, 1, e->id);
	rc |= sqlite3_bind_int64(st, 2, e->time_us);
	rc |= bind_text(st, 3, e->session);
	rc |= sqlite3_bind_int64(st, 4, e->seq);
	rc |= sqlite3_bind_text(st, 5, audit_kind_name(e->kind), -1, SQLITE_STATIC);
	rc |= bind_text(st, 6, e->user);
	rc |= bind_text(st, 7, e->groups);
	rc |= bind_text(st, 8, e->agent);
	rc |= bind_text(st, 9, e->client_addr);
	rc |= bind_text(st, 10, e->connection);
	rc |= bind_text(st, 11, e->protocol);
	rc |= bind_text(st, 12, e->startup_user);
	rc |= bind_text(st, 13, e->statement);
	rc |= bind_text(st, 14, e->params);
	rc |= bind_text(st, 15, e->decision);
	rc |= bind_text(st, 16, e->rule);
	rc |= result ? sqlite3_bind_int64(st, 17, e->request_id) : sqlite3_bind_null(st, 17);
	rc |= bind_text(st, 18, e->command_tag);
	rc |= result && e->rows >= 0 ? sqlite3_bind_int64(st, 19, e->rows)
				     : sqlite3_bind_null(st, 19);
	rc |= bind_text(st, 20, e->error_code);
	rc |= bind_text(st, 21, e->error_message);
	rc |= result ? sqlite3_bind_int64(st, 22, e->duration_us) : sqlite3_bind_null(st, 22);
	rc |= bind_text(st, 23, e->reason);
	if (rc != SQLITE_OK) {
		set_err(s, "bind entry %lld", (long long)e->id);
		sqlite3_reset(st);
		return -1;
	}
	return step_done(s, st, "insert");
}

/* --- read side --------------------------------------------------------- */

static int dup_col(sqlite3_stmt *st, int i, char **out)
{
	*out = NULL;
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return 0;
	const unsigned char *v = sqlite3_column_text(st, i);
	int n = sqlite3_column_bytes(st, i);
	if (!v)
		return -1; /* out of memory */
	char *p = malloc((size_t)n + 1);
	if (!p)
		return -1;
	memcpy(p, v, (size_t)n);
	p[n] = '\0';
	*out = p;
	return 0;
}

static int64_t int_col(sqlite3_stmt *st, int i, int64_t if_null)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? if_null : sqlite3_column_int64(st, i);
}

static int row_to_entry(audit_store *s, sqlite3_stmt *st, audit_entry **out)
{
	audit_kind kind;
	if (audit_kind_parse((const char *)sqlite3_column_text(st, 4), &kind) != 0) {
		snprintf(s->err, sizeof(s->err), "entry %lld: unknown kind '%s'",
			 (long long)sqlite3_column_int64(st, 0),
			 (const char *)sqlite3_column_text(st, 4));
		return -1;
	}
	audit_entry *e = audit_entry_new(kind);
	if (!e)
		goto oom;
	e->id = sqlite3_column_int64(st, 0);
	e->time_us = sqlite3_column_int64(st, 1);
	e->seq = sqlite3_column_int64(st, 3);
	e->request_id = int_col(st, 16, 0);
	e->rows = int_col(st, 18, -1);
	e->duration_us = int_col(st, 21, 0);
	if (dup_col(st, 2, &e->session) || dup_col(st, 5, &e->user) ||
	    dup_col(st, 6, &e->groups) || dup_col(st, 7, &e->agent) ||
	    dup_col(st, 8, &e->client_addr) || dup_col(st, 9, &e->connection) ||
	    dup_col(st, 10, &e->protocol) || dup_col(st, 11, &e->startup_user) ||
	    dup_col(st, 12, &e->statement) || dup_col(st, 13, &e->params) ||
	    dup_col(st, 14, &e->decision) || dup_col(st, 15, &e->rule) ||
	    dup_col(st, 17, &e->command_tag) || dup_col(st, 19, &e->error_code) ||
	    dup_col(st, 20, &e->error_message) || dup_col(st, 22, &e->reason))
		goto oom;
	*out = e;
	return 0;
oom:
	audit_entry_free(e);
	snprintf(s->err, sizeof(s->err), "out of memory");
	return -1;
}

void audit_store_filter_init(audit_store_filter *f)
{
	memset(f, 0, sizeof(*f));
	f->since_us = INT64_MIN;
}

int audit_store_iter_open(audit_store *s, const audit_store_filter *f, audit_store_iter **out)
{
	char sql[1024];
	size_t n = 0;
#define APPEND(...)                                                                  \
	do {                                                                         \
		int m_ = snprintf(sql + n, sizeof(sql) - n, __VA_ARGS__);            \
		if (m_ < 0 || (size_t)m_ >= sizeof(sql) - n)                         \
			return -1;                                                   \
		n += (size_t)m_;                                                     \
	} while (0)
	APPEND("SELECT " COLUMNS " FROM audit_log WHERE 1");
	if (f->user)
		APPEND(" AND \"user\" = ?");
	if (f->connection)
		APPEND(" AND connection = ?");
	if (f->since_us != INT64_MIN)
		APPEND(" AND time_us >= ?");
	unsigned kinds = f->kinds & ((1u << (AUDIT_AUTH_FAILURE + 1)) - 1);
	if (kinds) {
		APPEND(" AND kind IN (");
		const char *sep = "";
		for (unsigned k = 0; k <= AUDIT_AUTH_FAILURE; k++) {
			if (kinds & (1u << k)) {
				APPEND("%s?", sep);
				sep = ",";
			}
		}
		APPEND(")");
	}
	APPEND(" ORDER BY id %s", f->newest_first ? "DESC" : "ASC");
	if (f->limit > 0)
		APPEND(" LIMIT ?");
#undef APPEND

	audit_store_iter *it = calloc(1, sizeof(*it));
	if (!it) {
		snprintf(s->err, sizeof(s->err), "out of memory");
		return -1;
	}
	it->store = s;
	if (sqlite3_prepare_v2(s->db, sql, -1, &it->stmt, NULL) != SQLITE_OK) {
		set_err(s, "query");
		free(it);
		return -1;
	}
	int i = 1, rc = SQLITE_OK;
	if (f->user)
		rc |= sqlite3_bind_text(it->stmt, i++, f->user, -1, SQLITE_TRANSIENT);
	if (f->connection)
		rc |= sqlite3_bind_text(it->stmt, i++, f->connection, -1, SQLITE_TRANSIENT);
	if (f->since_us != INT64_MIN)
		rc |= sqlite3_bind_int64(it->stmt, i++, f->since_us);
	for (unsigned k = 0; k <= AUDIT_AUTH_FAILURE; k++)
		if (kinds & (1u << k))
			rc |= sqlite3_bind_text(it->stmt, i++, audit_kind_name((audit_kind)k), -1,
						SQLITE_STATIC);
	if (f->limit > 0)
		rc |= sqlite3_bind_int64(it->stmt, i++, f->limit);
	if (rc != SQLITE_OK) {
		set_err(s, "bind");
		audit_store_iter_close(it);
		return -1;
	}
	*out = it;
	return 0;
}

int audit_store_iter_next(audit_store_iter *it, audit_entry **out)
{
	int rc = sqlite3_step(it->stmt);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW) {
		set_err(it->store, "read");
		return -1;
	}
	return row_to_entry(it->store, it->stmt, out) == 0 ? 1 : -1;
}

void audit_store_iter_close(audit_store_iter *it)
{
	if (!it)
		return;
	sqlite3_finalize(it->stmt);
	free(it);
}

static int get_one(audit_store *s, sqlite3_stmt **cached, const char *sql, int64_t key,
		   audit_entry **out)
{
	if (!*cached && prepare(s, sql, cached) != 0)
		return -1;
	sqlite3_stmt *st = *cached;
	if (sqlite3_bind_int64(st, 1, key) != SQLITE_OK) {
		set_err(s, "bind");
		sqlite3_reset(st);
		return -1;
	}
	int rc = sqlite3_step(st), ret;
	if (rc == SQLITE_ROW) {
		ret = row_to_entry(s, st, out) == 0 ? 1 : -1;
	} else if (rc == SQLITE_DONE) {
		ret = 0;
	} else {
		set_err(s, "read");
		ret = -1;
	}
	sqlite3_reset(st);
	return ret;
}

int audit_store_get(audit_store *s, int64_t id, audit_entry **out)
{
	return get_one(s, &s->get, "SELECT " COLUMNS " FROM audit_log WHERE id = ?", id, out);
}

int audit_store_get_result(audit_store *s, int64_t request_id, audit_entry **out)
{
	return get_one(s, &s->get_result,
		       "SELECT " COLUMNS " FROM audit_log WHERE request_id = ? AND kind = 'result'"
		       " ORDER BY id LIMIT 1",
		       request_id, out);
}
