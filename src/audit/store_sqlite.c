/*
 * audit store, SQLite implementation (see store.h).
 *
 * Owns: the database file, its schema, and every SQL statement that touches
 * it. Each entry is stored as its canonical bytes (audit/canon.h) with its
 * Merkle leaf hash, plus the few columns that queries filter on (time, kind,
 * session, seq, request_id, and user and connection where the entry has them:
 * on session_start and auth_failure entries).
 * The writer keeps one prepared INSERT (and BEGIN/COMMIT/ROLLBACK) and one
 * encoding buffer for its lifetime: writing an entry is an encode, a hash
 * and one bind + step + reset.
 *
 * Invariants:
 *  - append-only: this file contains INSERT and SELECT on `entries` and
 *    `tree_heads` and nothing else; triggers make the database itself refuse
 *    UPDATE and DELETE.
 *  - the filter columns repeat what the canonical bytes say; `warden audit
 *    verify` checks that they agree, and readers decode the bytes.
 *  - WAL journal; the writer runs synchronous=FULL in both modes (the WAL
 *    is fsync'd by every COMMIT).
 *  - one writer process per file, enforced by flock() on "<path>.lock",
 *    because the audit writer assigns ids from MAX(id)+1 at start.
 */
#include "audit/store.h"

#include "audit/canon.h"
#include "audit/merkle.h"
#include "core/buf.h"
#include "core/util.h"

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

#define SCHEMA_VERSION 2

struct audit_store {
	sqlite3 *db;
	audit_store_mode mode;
	int lock_fd;
	sqlite3_stmt *insert, *begin, *commit, *rollback; /* writer */
	sqlite3_stmt *insert_head;                        /* writer */
	sqlite3_stmt *get, *get_result;                   /* reader, prepared on first use */
	buf enc;                                          /* writer: canonical bytes */
	char err[512];
};

struct audit_store_iter {
	audit_store *store;
	sqlite3_stmt *stmt;
};

/*
 * Reads return the entry's bytes and, for entries of a session, the bytes of
 * the session's session_start entry: who and where are recorded once per
 * session and shown on each of its entries.
 */
#define READ_SELECT                                                                        \
	"SELECT e.entry, s.entry FROM entries e LEFT JOIN entries s"                       \
	" ON s.kind = 'session_start' AND s.session = e.session"                          \
	" AND e.kind NOT IN ('session_start', 'auth_failure')"

static const char schema_sql[] =
	"CREATE TABLE IF NOT EXISTS entries (\n"
	"  id          INTEGER PRIMARY KEY,\n"
	"  time_us     INTEGER NOT NULL,\n"
	"  kind        TEXT NOT NULL,\n"
	"  session     TEXT,\n"
	"  seq         INTEGER NOT NULL,\n"
	"  request_id  INTEGER,\n"
	"  \"user\"      TEXT,\n"
	"  connection  TEXT,\n"
	"  leaf        BLOB NOT NULL,\n"
	"  entry       BLOB NOT NULL\n"
	");\n"
	/*
	 * Few indexes: every index is another page written and fsync'd by each
	 * strict-mode commit (measured: five full indexes cost a quarter of the
	 * 8-client throughput). Filters by user, connection and time scan in id
	 * order; the partial indexes touch only results and session starts.
	 */
	"CREATE INDEX IF NOT EXISTS entries_request ON entries(request_id)"
	" WHERE request_id IS NOT NULL;\n"
	"CREATE INDEX IF NOT EXISTS entries_session_start ON entries(session)"
	" WHERE kind = 'session_start';\n"
	"CREATE INDEX IF NOT EXISTS entries_session_end ON entries(session)"
	" WHERE kind = 'session_end';\n"
	"CREATE TABLE IF NOT EXISTS tree_heads (\n"
	"  tree_size     INTEGER PRIMARY KEY,\n"
	"  timestamp_ms  INTEGER NOT NULL,\n"
	"  root_hash     BLOB NOT NULL,\n"
	"  signature     BLOB NOT NULL,\n"
	"  key_id        TEXT NOT NULL\n"
	");\n"
	/* defence in depth: the log is append-only even for someone with the sqlite3 shell */
	"CREATE TRIGGER IF NOT EXISTS entries_append_only_u BEFORE UPDATE ON entries"
	" BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;\n"
	"CREATE TRIGGER IF NOT EXISTS entries_append_only_d BEFORE DELETE ON entries"
	" BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;\n"
	"CREATE TRIGGER IF NOT EXISTS tree_heads_append_only_u BEFORE UPDATE ON tree_heads"
	" BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;\n"
	"CREATE TRIGGER IF NOT EXISTS tree_heads_append_only_d BEFORE DELETE ON tree_heads"
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
	const char *slash = strrchr(path, '/');
	if (!slash || slash == path)
		return 0; /* relative to cwd, or directly under / */
	char *dir = strndup(path, (size_t)(slash - path));
	if (!dir) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	int rc = util_mkdir_p(dir, err, errlen);
	free(dir);
	return rc;
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
	if (version != 0 && version < SCHEMA_VERSION) {
		snprintf(s->err, sizeof(s->err),
			 "schema version %lld predates the Merkle log (version %d): move the file aside",
			 (long long)version, SCHEMA_VERSION);
		return -1;
	}
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

	static const char insert_sql[] =
		"INSERT INTO entries (id, time_us, kind, session, seq, request_id, \"user\", connection,"
		" leaf, entry) VALUES (?,?,?,?,?,?,?,?,?,?)";
	static const char head_sql[] = "INSERT INTO tree_heads (tree_size, timestamp_ms, root_hash,"
				       " signature, key_id) VALUES (?,?,?,?,?)";
	if (prepare(s, insert_sql, &s->insert) != 0 || prepare(s, head_sql, &s->insert_head) != 0 ||
	    prepare(s, "BEGIN IMMEDIATE", &s->begin) != 0 ||
	    prepare(s, "COMMIT", &s->commit) != 0 || prepare(s, "ROLLBACK", &s->rollback) != 0)
		return -1;
	return 0;
}

static int check_reader(audit_store *s)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, "SELECT id, leaf, entry FROM entries LIMIT 0", -1, &st, NULL) !=
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
	sqlite3_finalize(s->insert_head);
	buf_free(&s->enc);
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

int audit_store_insert(audit_store *s, const audit_entry *e, uint8_t leaf[32])
{
	sqlite3_stmt *st = s->insert;
	s->enc.len = 0;
	audit_canon_encode(e, &s->enc);
	merkle_leaf_hash(s->enc.data, s->enc.len, leaf);
	int rc = SQLITE_OK;
	rc |= sqlite3_bind_int64(st, 1, e->id);
	rc |= sqlite3_bind_int64(st, 2, e->time_us);
	rc |= sqlite3_bind_text(st, 3, audit_kind_name(e->kind), -1, SQLITE_STATIC);
	rc |= bind_text(st, 4, e->session);
	rc |= sqlite3_bind_int64(st, 5, e->seq);
	rc |= e->kind == AUDIT_RESULT ? sqlite3_bind_int64(st, 6, e->request_id)
				       : sqlite3_bind_null(st, 6);
	rc |= bind_text(st, 7, e->user);
	rc |= bind_text(st, 8, e->connection);
	rc |= sqlite3_bind_blob(st, 9, leaf, 32, SQLITE_STATIC);
	rc |= sqlite3_bind_blob(st, 10, s->enc.data, (int)s->enc.len, SQLITE_STATIC);
	if (rc != SQLITE_OK) {
		set_err(s, "bind entry %lld", (long long)e->id);
		sqlite3_reset(st);
		return -1;
	}
	return step_done(s, st, "insert");
}

int audit_store_insert_head(audit_store *s, const audit_store_head *h)
{
	sqlite3_stmt *st = s->insert_head;
	int rc = SQLITE_OK;
	rc |= sqlite3_bind_int64(st, 1, (int64_t)h->tree_size);
	rc |= sqlite3_bind_int64(st, 2, h->timestamp_ms);
	rc |= sqlite3_bind_blob(st, 3, h->root_hash, 32, SQLITE_STATIC);
	rc |= sqlite3_bind_blob(st, 4, h->signature, 64, SQLITE_STATIC);
	rc |= sqlite3_bind_text(st, 5, h->key_id, -1, SQLITE_STATIC);
	if (rc != SQLITE_OK) {
		set_err(s, "bind tree head");
		sqlite3_reset(st);
		return -1;
	}
	return step_done(s, st, "insert tree head");
}

/* --- read side --------------------------------------------------------- */

static char *dup_or_null(const char *v)
{
	return v ? strdup(v) : NULL;
}

/* Column 0: the entry's bytes; column 1: its session_start's bytes, or NULL. */
static int row_to_entry(audit_store *s, sqlite3_stmt *st, audit_entry **out)
{
	char why[160];
	audit_entry *e, *start = NULL;
	if (audit_canon_decode(sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0), &e,
			       why, sizeof(why)) != 0) {
		snprintf(s->err, sizeof(s->err), "undecodable entry: %s (run warden audit verify)", why);
		return -1;
	}
	if (sqlite3_column_type(st, 1) != SQLITE_NULL &&
	    audit_canon_decode(sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1),
			       &start, why, sizeof(why)) == 0) {
#define FILL(f) if (!e->f) e->f = dup_or_null(start->f)
		FILL(user);
		FILL(groups);
		FILL(agent);
		FILL(client_addr);
		FILL(connection);
		FILL(protocol);
		FILL(startup_user);
#undef FILL
		audit_entry_free(start);
	}
	*out = e;
	return 0;
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
	APPEND(READ_SELECT " WHERE 1");
	if (f->user)
		APPEND(" AND COALESCE(e.\"user\", s.\"user\") = ?");
	if (f->connection)
		APPEND(" AND COALESCE(e.connection, s.connection) = ?");
	if (f->since_us != INT64_MIN)
		APPEND(" AND e.time_us >= ?");
	unsigned kinds = f->kinds & ((1u << (AUDIT_KIND_LAST + 1)) - 1);
	if (kinds) {
		APPEND(" AND e.kind IN (");
		const char *sep = "";
		for (unsigned k = 0; k <= AUDIT_KIND_LAST; k++) {
			if (kinds & (1u << k)) {
				APPEND("%s?", sep);
				sep = ",";
			}
		}
		APPEND(")");
	}
	APPEND(" ORDER BY e.id %s", f->newest_first ? "DESC" : "ASC");
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
	for (unsigned k = 0; k <= AUDIT_KIND_LAST; k++)
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
	return get_one(s, &s->get, READ_SELECT " WHERE e.id = ?", id, out);
}

int audit_store_get_result(audit_store *s, int64_t request_id, audit_entry **out)
{
	return get_one(s, &s->get_result,
		       READ_SELECT " WHERE e.request_id = ? AND e.kind = 'result' ORDER BY e.id LIMIT 1",
		       request_id, out);
}

/* --- verification and proofs ------------------------------------------ */

int audit_store_raw_open(audit_store *s, audit_store_iter **out)
{
	audit_store_iter *it = calloc(1, sizeof(*it));
	if (!it) {
		snprintf(s->err, sizeof(s->err), "out of memory");
		return -1;
	}
	it->store = s;
	if (sqlite3_prepare_v2(s->db,
			       "SELECT id, time_us, request_id, kind, session, \"user\", connection,"
			       " leaf, entry, seq FROM entries ORDER BY id",
			       -1, &it->stmt, NULL) != SQLITE_OK) {
		set_err(s, "query");
		free(it);
		return -1;
	}
	*out = it;
	return 0;
}

int audit_store_raw_next(audit_store_iter *it, audit_store_raw *row)
{
	sqlite3_stmt *st = it->stmt;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW) {
		set_err(it->store, "read");
		return -1;
	}
	row->id = sqlite3_column_int64(st, 0);
	row->time_us = sqlite3_column_int64(st, 1);
	row->request_id = sqlite3_column_int64(st, 2);
	row->kind = (const char *)sqlite3_column_text(st, 3);
	row->session = (const char *)sqlite3_column_text(st, 4);
	row->user = (const char *)sqlite3_column_text(st, 5);
	row->connection = (const char *)sqlite3_column_text(st, 6);
	row->leaf = sqlite3_column_blob(st, 7);
	row->leaf_len = (size_t)sqlite3_column_bytes(st, 7);
	row->entry = sqlite3_column_blob(st, 8);
	row->entry_len = (size_t)sqlite3_column_bytes(st, 8);
	row->seq = sqlite3_column_int64(st, 9);
	return 1;
}

int audit_store_heads(audit_store *s, audit_store_head **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db,
			       "SELECT tree_size, timestamp_ms, root_hash, signature, key_id"
			       " FROM tree_heads ORDER BY tree_size",
			       -1, &st, NULL) != SQLITE_OK) {
		set_err(s, "query tree heads");
		return -1;
	}
	size_t cap = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			audit_store_head *grown = realloc(*out, cap * sizeof(**out));
			if (!grown) {
				rc = SQLITE_NOMEM;
				break;
			}
			*out = grown;
		}
		audit_store_head *h = &(*out)[(*n)++];
		memset(h, 0, sizeof(*h));
		h->tree_size = (uint64_t)sqlite3_column_int64(st, 0);
		h->timestamp_ms = sqlite3_column_int64(st, 1);
		/* a wrong-sized hash or signature is kept zeroed: verification then fails on it */
		if (sqlite3_column_bytes(st, 2) == 32)
			memcpy(h->root_hash, sqlite3_column_blob(st, 2), 32);
		if (sqlite3_column_bytes(st, 3) == 64)
			memcpy(h->signature, sqlite3_column_blob(st, 3), 64);
		const unsigned char *kid = sqlite3_column_text(st, 4);
		snprintf(h->key_id, sizeof(h->key_id), "%s", kid ? (const char *)kid : "");
	}
	if (rc != SQLITE_DONE) {
		set_err(s, "read tree heads");
		sqlite3_finalize(st);
		free(*out);
		*out = NULL;
		*n = 0;
		return -1;
	}
	sqlite3_finalize(st);
	return 0;
}

int audit_store_each_leaf(audit_store *s, void (*fn)(void *ctx, const uint8_t leaf[32]), void *ctx,
			  uint64_t *n)
{
	static const uint8_t none[32]; /* (a row without a 32-byte leaf: as audit_store_leaves has it) */
	*n = 0;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, "SELECT leaf FROM entries ORDER BY id", -1, &st, NULL) != SQLITE_OK) {
		set_err(s, "query leaves");
		return -1;
	}
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		fn(ctx, sqlite3_column_bytes(st, 0) == 32 ? sqlite3_column_blob(st, 0) : none);
		(*n)++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		set_err(s, "read leaves");
		return -1;
	}
	return 0;
}

int audit_store_leaves(audit_store *s, uint8_t (**out)[32], uint64_t *n)
{
	*out = NULL;
	*n = 0;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, "SELECT leaf FROM entries ORDER BY id", -1, &st, NULL) !=
	    SQLITE_OK) {
		set_err(s, "query leaves");
		return -1;
	}
	uint64_t cap = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 1024;
			uint8_t(*grown)[32] = realloc(*out, cap * 32);
			if (!grown) {
				rc = SQLITE_NOMEM;
				break;
			}
			*out = grown;
		}
		if (sqlite3_column_bytes(st, 0) == 32)
			memcpy((*out)[*n], sqlite3_column_blob(st, 0), 32);
		else
			memset((*out)[*n], 0, 32);
		(*n)++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		set_err(s, "read leaves");
		free(*out);
		*out = NULL;
		*n = 0;
		return -1;
	}
	return 0;
}

int audit_store_index_of(audit_store *s, int64_t id, uint64_t *index)
{
	int64_t exists = 0, before = 0;
	char sql[96];
	snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM entries WHERE id = %lld", (long long)id);
	if (pragma_int(s, sql, &exists) != 0)
		return -1;
	if (!exists)
		return 0;
	snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM entries WHERE id < %lld", (long long)id);
	if (pragma_int(s, sql, &before) != 0)
		return -1;
	*index = (uint64_t)before;
	return 1;
}

int audit_store_open_sessions(audit_store *s, audit_store_open_session **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	sqlite3_stmt *st;
	/* the partial indexes find the unfinished sessions; one scan finds their last seq */
	if (sqlite3_prepare_v2(s->db,
			       "SELECT session, MAX(seq) FROM entries WHERE session IN"
			       " (SELECT b.session FROM entries b WHERE b.kind = 'session_start'"
			       "  AND NOT EXISTS (SELECT 1 FROM entries x WHERE x.kind = 'session_end'"
			       "  AND x.session = b.session))"
			       " GROUP BY session ORDER BY MIN(id)",
			       -1, &st, NULL) != SQLITE_OK) {
		set_err(s, "query open sessions");
		return -1;
	}
	size_t cap = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			audit_store_open_session *grown = realloc(*out, cap * sizeof(**out));
			if (!grown) {
				rc = SQLITE_NOMEM;
				break;
			}
			*out = grown;
		}
		audit_store_open_session *o = &(*out)[(*n)++];
		snprintf(o->session, sizeof(o->session), "%s", (const char *)sqlite3_column_text(st, 0));
		o->last_seq = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		set_err(s, "read open sessions");
		free(*out);
		*out = NULL;
		*n = 0;
		return -1;
	}
	return 0;
}

int audit_store_get_canonical(audit_store *s, int64_t id, void **bytes, size_t *len)
{
	*bytes = NULL;
	*len = 0;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, "SELECT entry FROM entries WHERE id = ?", -1, &st, NULL) !=
	    SQLITE_OK) {
		set_err(s, "query entry");
		return -1;
	}
	int ret = 0;
	if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK) {
		set_err(s, "bind");
		ret = -1;
	} else {
		int rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			size_t n = (size_t)sqlite3_column_bytes(st, 0);
			*bytes = malloc(n ? n : 1);
			if (*bytes) {
				memcpy(*bytes, sqlite3_column_blob(st, 0), n);
				*len = n;
				ret = 1;
			} else {
				ret = -1;
			}
		} else if (rc != SQLITE_DONE) {
			set_err(s, "read entry");
			ret = -1;
		}
	}
	sqlite3_finalize(st);
	return ret;
}
