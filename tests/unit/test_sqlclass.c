/*
 * sqlclass — what each statement of a SQL text does, from libpg_query.
 *
 * The evidence is a corpus of statements, each with everything the policy
 * matches on pinned exactly: the kinds and flags (whole bit sets, so a stray
 * extra bit fails as surely as a missing one), the command word, the
 * relations named (each with read/written) and the functions called. The
 * corpus leans on the texts a gateway gets wrong when it looks at words
 * instead of the grammar: keywords split by comments, statements hidden in
 * strings, dollar quotes and comments, U& identifiers, quoted identifiers
 * that spell keywords, writes hidden in CTEs, EXPLAIN ANALYZE, COPY (query),
 * PREPARE, and CTE names that do or do not hide a real table.
 *
 * Then the parts the corpus does not show: several statements in one text
 * (locations, the multi_statement flag, unions), session facts (search_path,
 * prepared names, transaction end), parse errors, empty texts, text that is
 * not NUL-terminated or holds a NUL, the name tables, and threads.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pg_query.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/sqlclass.h"

#define K(x) SQLK_##x
#define F(x) SQLF_##x

static sql_class *classify(const char *sql)
{
	sql_class *c = sqlclass_classify(sql, strlen(sql));
	assert_non_null(c);
	return c;
}

/* ---- checking a statement against a compact expectation ------------------ */

/*
 * objects: space-separated "w:schema.name" / "r:name" (written / read); the
 * statement must name exactly these. functions: space-separated names, exactly
 * these. NULL: none.
 */
static int object_matches(const sql_object *o, const char *spec, size_t len)
{
	if (len < 3 || spec[1] != ':')
		fail_msg("bad object spec %.*s", (int)len, spec);
	int written = spec[0] == 'w';
	const char *name = spec + 2;
	size_t nlen = len - 2;
	const char *dot = memchr(name, '.', nlen);
	if (o->written != written)
		return 0;
	if (dot) {
		size_t slen = (size_t)(dot - name);
		if (!o->schema || strlen(o->schema) != slen || memcmp(o->schema, name, slen) != 0)
			return 0;
		name = dot + 1;
		nlen -= slen + 1;
	} else if (o->schema) {
		return 0;
	}
	return strlen(o->name) == nlen && memcmp(o->name, name, nlen) == 0;
}

static size_t count_tokens(const char *s)
{
	size_t n = 0;
	for (const char *p = s; p && *p;) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		n++;
		while (*p && *p != ' ')
			p++;
	}
	return n;
}

static void describe(const char *sql, const sql_stmt *st)
{
	print_message("  for: %s\n  got: command=%s kinds=0x%x flags=0x%x objects:", sql,
		      st->command ? st->command : "(null)", st->kinds, st->flags);
	for (size_t i = 0; i < st->n_objects; i++)
		print_message(" %s:%s%s%s", st->objects[i].written ? "w" : "r",
			      st->objects[i].schema ? st->objects[i].schema : "",
			      st->objects[i].schema ? "." : "", st->objects[i].name);
	print_message(" functions:");
	for (size_t i = 0; i < st->n_functions; i++)
		print_message(" %s", st->functions[i]);
	print_message("\n");
}

static void check_objects(const char *sql, const sql_stmt *st, const char *spec)
{
	size_t want = count_tokens(spec);
	if (st->n_objects != want) {
		describe(sql, st);
		fail_msg("%zu objects, want %zu (%s)", st->n_objects, want, spec ? spec : "none");
	}
	for (const char *p = spec; p && *p;) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		const char *e = strchr(p, ' ');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		int found = 0;
		for (size_t i = 0; i < st->n_objects && !found; i++)
			found = object_matches(&st->objects[i], p, len);
		if (!found) {
			describe(sql, st);
			fail_msg("object %.*s missing", (int)len, p);
		}
		p += len;
	}
}

static void check_functions(const char *sql, const sql_stmt *st, const char *spec)
{
	size_t want = count_tokens(spec);
	if (st->n_functions != want) {
		describe(sql, st);
		fail_msg("%zu functions, want %zu (%s)", st->n_functions, want, spec ? spec : "none");
	}
	for (const char *p = spec; p && *p;) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		const char *e = strchr(p, ' ');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		int found = 0;
		for (size_t i = 0; i < st->n_functions && !found; i++)
			found = strlen(st->functions[i]) == len && memcmp(st->functions[i], p, len) == 0;
		if (!found) {
			describe(sql, st);
			fail_msg("function %.*s missing", (int)len, p);
		}
		p += len;
	}
}

static void check_stmt(const char *sql, const sql_stmt *st, uint32_t kinds, uint32_t flags,
		       const char *command, const char *objects, const char *functions)
{
	if (st->kinds != kinds || st->flags != flags || !st->command || strcmp(st->command, command) != 0) {
		describe(sql, st);
		fail_msg("want command=%s kinds=0x%x flags=0x%x", command, kinds, flags);
	}
	check_objects(sql, st, objects);
	check_functions(sql, st, functions);
}

/* Invariants of any result: unions, commands, names present. */
static void check_invariants(const sql_class *c)
{
	uint32_t kinds = 0, flags = 0;
	for (size_t i = 0; i < c->n; i++) {
		const sql_stmt *st = &c->stmts[i];
		assert_non_null(st->command);
		assert_true(sqlclass_command_known(st->command));
		for (size_t k = 0; k < st->n_objects; k++)
			assert_non_null(st->objects[k].name);
		for (size_t k = 0; k < st->n_functions; k++)
			assert_non_null(st->functions[k]);
		assert_int_equal(!!(st->flags & SQLF_MULTI_STATEMENT), c->n > 1);
		kinds |= st->kinds;
		flags |= st->flags;
	}
	assert_int_equal(c->kinds, kinds);
	assert_int_equal(c->flags, flags);
}

/* ---- the corpus ----------------------------------------------------------- */

typedef struct tcase {
	const char *sql;
	size_t n;               /* statements in the text */
	uint32_t kinds, flags;  /* of the first statement, exactly */
	const char *command;
	const char *objects;
	const char *functions;
} tcase;

#define MS F(MULTI_STATEMENT)

static const tcase corpus[] = {
	/* words are the grammar's, not a scanner's */
	{"DEL/**/ETE FROM t", 1, K(UNKNOWN), 0, "unknown", NULL, NULL},
	{"DELETE/**/FROM t", 1, K(WRITE), F(NO_WHERE), "delete", "w:t", NULL},
	{"dElEtE fRoM T WHERE Id = 1", 1, K(READ) | K(WRITE), 0, "delete", "w:t", NULL},
	{"SeLeCt * FrOm \"MixedCase\"", 1, K(READ), 0, "select", "r:MixedCase", NULL},
	{"SELECT * FROM U&\"d\\0061t\\+000061\"", 1, K(READ), 0, "select", "r:data", NULL},
	{"SELECT * FROM \"delete\"", 1, K(READ), 0, "select", "r:delete", NULL},
	{"SELECT * FROM \"drop;table\"", 1, K(READ), 0, "select", "r:drop;table", NULL},
	{"DO $$ BEGIN DELETE FROM t; END $$", 1, K(PROCEDURAL), 0, "do", NULL, NULL},
	{"DO $body$ BEGIN DROP TABLE t; END $body$ LANGUAGE plpgsql", 1, K(PROCEDURAL), 0, "do", NULL,
	 NULL},
	{"SELECT $$DROP TABLE x$$", 1, K(READ), 0, "select", NULL, NULL},
	{"SELECT $q$ '; DELETE FROM t; -- $q$", 1, K(READ), 0, "select", NULL, NULL},
	{"SELECT 'a;DROP TABLE t'", 1, K(READ), 0, "select", NULL, NULL},
	{"SELECT 'it''s; DROP TABLE t'", 1, K(READ), 0, "select", NULL, NULL},
	{"SELECT E'\\'; DROP TABLE t; --'", 1, K(READ), 0, "select", NULL, NULL},
	/* standard_conforming_strings = on: the backslash is just a character */
	{"SELECT 'a\\'; DROP TABLE t", 2, K(READ), MS, "select", NULL, NULL},
	{"SELECT 1 -- ; DROP TABLE t", 1, K(READ), 0, "select", NULL, NULL},
	{"SELECT 1 /* ; DROP TABLE t */", 1, K(READ), 0, "select", NULL, NULL},
	{"/* a /* nested */ DROP TABLE t; */ SELECT 1", 1, K(READ), 0, "select", NULL, NULL},
	{"SELECT 1; DROP TABLE t", 2, K(READ), MS, "select", NULL, NULL},
	/* psql's \; is a plain ; on the wire; the backslash itself is no SQL */
	{"SELECT 1\\; DROP TABLE t", 1, K(UNKNOWN), 0, "unknown", NULL, NULL},

	/* reads */
	{"SELECT * FROM a JOIN s.b ON true", 1, K(READ), 0, "select", "r:a r:s.b", NULL},
	{"TABLE t", 1, K(READ), 0, "select", "r:t", NULL},
	{"VALUES (1), (2)", 1, K(READ), 0, "select", NULL, NULL},
	{"SELECT * FROM t FOR UPDATE", 1, K(READ) | K(LOCK), 0, "select", "r:t", NULL},
	{"SELECT * FROM t FOR KEY SHARE SKIP LOCKED", 1, K(READ) | K(LOCK), 0, "select", "r:t", NULL},
	{"SELECT * FROM (SELECT * FROM t FOR SHARE) s", 1, K(READ) | K(LOCK), 0, "select", "r:t", NULL},
	{"SELECT * FROM a UNION SELECT * FROM b", 1, K(READ), 0, "select", "r:a r:b", NULL},
	{"SELECT (SELECT max(x) FROM t2) FROM t1 WHERE EXISTS (SELECT 1 FROM t3)", 1, K(READ), 0,
	 "select", "r:t1 r:t2 r:t3", "max"},
	{"SELECT * FROM t, t AS u, public.t", 1, K(READ), 0, "select", "r:t r:public.t", NULL},
	{"WITH c AS (SELECT * FROM t) SELECT * FROM c", 1, K(READ), 0, "select", "r:t", NULL},
	/* without RECURSIVE a CTE does not see later siblings: that b is a table */
	{"WITH a AS (SELECT * FROM b), b AS (SELECT 1) SELECT * FROM a, b", 1, K(READ), 0, "select",
	 "r:b", NULL},
	{"WITH RECURSIVE a AS (SELECT * FROM b), b AS (SELECT 1) SELECT * FROM a", 1, K(READ), 0,
	 "select", NULL, NULL},
	{"WITH RECURSIVE r AS (SELECT 1 AS n UNION ALL SELECT n + 1 FROM r) SELECT * FROM r", 1,
	 K(READ), 0, "select", NULL, NULL},
	/* a CTE name in a subquery does not hide the outer query's table */
	{"SELECT * FROM secret, (WITH secret AS (SELECT 1) SELECT * FROM secret) s", 1, K(READ), 0,
	 "select", "r:secret", NULL},
	{"WITH t AS (SELECT 1) SELECT * FROM public.t, t", 1, K(READ), 0, "select", "r:public.t",
	 NULL},
	{"SHOW search_path", 1, K(READ), 0, "show", NULL, NULL},
	{"SELECT pg_read_file('/etc/passwd')", 1, K(READ), 0, "select", NULL, "pg_read_file"},
	{"SELECT pg_catalog.pg_read_file('x')", 1, K(READ), 0, "select", NULL,
	 "pg_catalog.pg_read_file"},
	{"SELECT lo_import('/etc/passwd')", 1, K(READ), 0, "select", NULL, "lo_import"},
	{"SELECT * FROM dblink('', 'DELETE FROM t') AS x(a int)", 1, K(READ), 0, "select", NULL,
	 "dblink"},
	{"SELECT lower(upper(name)), lower(x) FROM t", 1, K(READ), 0, "select", "r:t", "lower upper"},
	{"SELECT set_config('role', 'admin', false)", 1, K(READ), 0, "select", NULL, "set_config"},
	{"SELECT \"PG_READ_FILE\"('x')", 1, K(READ), 0, "select", NULL, "PG_READ_FILE"},

	/* writes */
	{"INSERT INTO t VALUES (1)", 1, K(WRITE), 0, "insert", "w:t", NULL},
	{"INSERT INTO s.t (a) VALUES (now())", 1, K(WRITE), 0, "insert", "w:s.t", "now"},
	{"INSERT INTO a SELECT * FROM b", 1, K(READ) | K(WRITE), 0, "insert", "w:a r:b", NULL},
	{"INSERT INTO t SELECT * FROM t", 1, K(READ) | K(WRITE), 0, "insert", "w:t", NULL},
	{"INSERT INTO t (id) VALUES (1) ON CONFLICT (id) DO UPDATE SET n = t.n + 1", 1,
	 K(READ) | K(WRITE), 0, "insert", "w:t", NULL},
	{"INSERT INTO t VALUES (1) ON CONFLICT DO NOTHING", 1, K(WRITE), 0, "insert", "w:t", NULL},
	{"INSERT INTO t VALUES (1) RETURNING id", 1, K(READ) | K(WRITE), 0, "insert", "w:t", NULL},
	{"UPDATE v SET a = 1 WHERE id = 1 RETURNING *", 1, K(READ) | K(WRITE), 0, "update", "w:v",
	 NULL},
	{"UPDATE t SET a = 1", 1, K(WRITE), F(NO_WHERE), "update", "w:t", NULL},
	{"UPDATE t SET a = a + 1", 1, K(READ) | K(WRITE), F(NO_WHERE), "update", "w:t", NULL},
	{"UPDATE t SET a = u.b FROM u WHERE t.id = u.id", 1, K(READ) | K(WRITE), 0, "update",
	 "w:t r:u", NULL},
	{"DELETE FROM t", 1, K(WRITE), F(NO_WHERE), "delete", "w:t", NULL},
	{"DELETE FROM t WHERE CURRENT OF c", 1, K(READ) | K(WRITE), 0, "delete", "w:t", NULL},
	{"DELETE FROM t USING u WHERE t.id = u.id", 1, K(READ) | K(WRITE), 0, "delete", "w:t r:u",
	 NULL},
	{"MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN UPDATE SET a = s.a "
	 "WHEN NOT MATCHED THEN INSERT VALUES (s.id, s.a)",
	 1, K(READ) | K(WRITE), 0, "merge", "w:t r:s", NULL},
	{"WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d", 1, K(READ) | K(WRITE),
	 F(WRITES_IN_CTE) | F(NO_WHERE), "select", "w:t", NULL},
	{"SELECT * FROM (SELECT * FROM (WITH x AS (UPDATE u SET a = 1 WHERE b = 2 RETURNING *) "
	 "SELECT * FROM x) q) r",
	 1, K(READ) | K(WRITE), F(WRITES_IN_CTE), "select", "w:u", NULL},
	{"SELECT (SELECT n FROM (WITH i AS (INSERT INTO log VALUES (1) RETURNING 1 AS n) "
	 "SELECT n FROM i) q)",
	 1, K(READ) | K(WRITE), F(WRITES_IN_CTE), "select", "w:log", NULL},
	/* the target of a DELETE is never a CTE, whatever the WITH names */
	{"WITH t AS (SELECT 1) DELETE FROM t WHERE true", 1, K(READ) | K(WRITE), 0, "delete", "w:t",
	 NULL},
	{"WITH ins AS (INSERT INTO log VALUES (1) RETURNING id) "
	 "UPDATE t SET a = 1 WHERE id IN (SELECT id FROM ins)",
	 1, K(READ) | K(WRITE), F(WRITES_IN_CTE), "update", "w:log w:t", NULL},
	{"SELECT * INTO x FROM y", 1, K(READ) | K(WRITE) | K(DDL), 0, "select", "w:x r:y", NULL},
	{"CREATE TABLE x AS SELECT * FROM y", 1, K(READ) | K(WRITE) | K(DDL), 0, "create", "w:x r:y",
	 NULL},
	{"CREATE MATERIALIZED VIEW m AS SELECT 1", 1, K(READ) | K(WRITE) | K(DDL), 0, "create", "w:m",
	 NULL},
	{"REFRESH MATERIALIZED VIEW m", 1, K(WRITE), 0, "refresh", "w:m", NULL},

	/* EXPLAIN runs its statement only with ANALYZE */
	{"EXPLAIN SELECT * FROM t", 1, K(READ), 0, "explain", "r:t", NULL},
	{"EXPLAIN DELETE FROM t", 1, K(READ), 0, "explain", "r:t", NULL},
	{"EXPLAIN ANALYZE DELETE FROM t", 1, K(READ) | K(WRITE), F(EXPLAIN_ANALYZE) | F(NO_WHERE),
	 "explain", "w:t", NULL},
	{"EXPLAIN ANALYSE VERBOSE DELETE FROM t", 1, K(READ) | K(WRITE),
	 F(EXPLAIN_ANALYZE) | F(NO_WHERE), "explain", "w:t", NULL},
	{"EXPLAIN (ANALYZE, BUFFERS) UPDATE t SET a = 1 WHERE id = 1", 1, K(READ) | K(WRITE),
	 F(EXPLAIN_ANALYZE), "explain", "w:t", NULL},
	{"EXPLAIN (ANALYZE false) DELETE FROM t", 1, K(READ), 0, "explain", "r:t", NULL},
	{"EXPLAIN (ANALYZE off, VERBOSE) DELETE FROM t", 1, K(READ), 0, "explain", "r:t", NULL},
	{"EXPLAIN (ANALYZE 0) DELETE FROM t", 1, K(READ), 0, "explain", "r:t", NULL},
	{"EXPLAIN (ANALYZE 1) DELETE FROM t", 1, K(READ) | K(WRITE), F(EXPLAIN_ANALYZE) | F(NO_WHERE),
	 "explain", "w:t", NULL},
	{"EXPLAIN (ANALYZE yes) DELETE FROM t", 1, K(READ) | K(WRITE),
	 F(EXPLAIN_ANALYZE) | F(NO_WHERE), "explain", "w:t", NULL},
	{"EXPLAIN (ANALYZE false, ANALYZE true) DELETE FROM t", 1, K(READ) | K(WRITE),
	 F(EXPLAIN_ANALYZE) | F(NO_WHERE), "explain", "w:t", NULL},
	{"EXPLAIN WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d", 1, K(READ), 0, "explain",
	 "r:t", NULL},
	{"EXPLAIN ANALYZE SELECT * INTO x FROM y", 1, K(READ) | K(WRITE) | K(DDL), F(EXPLAIN_ANALYZE),
	 "explain", "w:x r:y", NULL},
	{"EXPLAIN SELECT pg_sleep(1)", 1, K(READ), 0, "explain", NULL, "pg_sleep"},
	/* an EXECUTE inside another statement runs what this module cannot see */
	{"EXPLAIN ANALYZE EXECUTE p", 1, K(READ) | K(UNKNOWN), F(EXPLAIN_ANALYZE) | F(PREPARED),
	 "explain", NULL, NULL},
	{"CREATE TABLE x AS EXECUTE p", 1, K(WRITE) | K(DDL) | K(UNKNOWN), F(PREPARED), "create",
	 "w:x", NULL},

	/* COPY */
	{"COPY (SELECT * FROM t) TO STDOUT", 1, K(READ) | K(COPY_OUT), 0, "copy", "r:t", NULL},
	{"COPY t FROM STDIN", 1, K(WRITE) | K(COPY_IN), 0, "copy", "w:t", NULL},
	{"COPY s.t TO STDOUT", 1, K(READ) | K(COPY_OUT), 0, "copy", "r:s.t", NULL},
	{"COPY t TO PROGRAM 'gzip > /tmp/t.gz'", 1, K(READ) | K(COPY_OUT) | K(COPY_PROGRAM), 0,
	 "copy", "r:t", NULL},
	{"COPY t FROM PROGRAM 'curl http://x'", 1, K(WRITE) | K(COPY_IN) | K(COPY_PROGRAM), 0, "copy",
	 "w:t", NULL},
	{"COPY (DELETE FROM t RETURNING *) TO STDOUT", 1, K(READ) | K(WRITE) | K(COPY_OUT),
	 F(NO_WHERE), "copy", "w:t", NULL},
	{"COPY t (a, b) FROM '/tmp/x' WITH (FORMAT csv)", 1, K(WRITE) | K(COPY_IN), 0, "copy", "w:t",
	 NULL},

	/* DDL */
	{"DROP TABLE a.b, c", 1, K(DDL), 0, "drop", "w:a.b w:c", NULL},
	{"DROP TABLE db.s.t", 1, K(DDL), 0, "drop", "w:s.t", NULL},
	{"DROP VIEW IF EXISTS v CASCADE", 1, K(DDL), 0, "drop", "w:v", NULL},
	{"DROP INDEX CONCURRENTLY s.i", 1, K(DDL), 0, "drop", "w:s.i", NULL},
	{"DROP FUNCTION f(int)", 1, K(DDL), 0, "drop", NULL, NULL},
	{"DROP SCHEMA s CASCADE", 1, K(DDL), 0, "drop", NULL, NULL},
	{"DROP TRIGGER tr ON s.t", 1, K(DDL), 0, "drop", "w:s.t", NULL},
	{"DROP POLICY p ON t", 1, K(DDL) | K(DCL), 0, "drop", "w:t", NULL},
	{"TRUNCATE a, s.b", 1, K(DDL) | K(WRITE), 0, "truncate", "w:a w:s.b", NULL},
	{"ALTER TABLE t ADD COLUMN c int", 1, K(DDL), 0, "alter", "w:t", NULL},
	{"ALTER TABLE t ADD COLUMN c timestamptz DEFAULT now()", 1, K(DDL), 0, "alter", "w:t", "now"},
	{"ALTER TABLE t OWNER TO x", 1, K(DDL) | K(DCL), 0, "alter", "w:t", NULL},
	{"ALTER TABLE t DISABLE ROW LEVEL SECURITY", 1, K(DDL) | K(DCL), 0, "alter", "w:t", NULL},
	{"ALTER TABLE t RENAME TO u", 1, K(DDL), 0, "alter", "w:t", NULL},
	{"ALTER TABLE p ATTACH PARTITION c FOR VALUES IN (1)", 1, K(DDL), 0, "alter", "w:p w:c", NULL},
	{"ALTER TABLE t ADD FOREIGN KEY (a) REFERENCES s.p (id)", 1, K(DDL), 0, "alter", "w:t w:s.p",
	 NULL},
	{"CREATE INDEX i ON t (lower(a))", 1, K(DDL), 0, "create", "w:t", "lower"},
	{"CREATE TABLE c (a int REFERENCES p (id), LIKE q)", 1, K(DDL), 0, "create", "w:c w:p r:q",
	 NULL},
	{"CREATE VIEW v AS SELECT * FROM t", 1, K(DDL), 0, "create", "w:v r:t", NULL},
	{"CREATE RULE r AS ON INSERT TO a DO ALSO DELETE FROM b", 1, K(DDL), 0, "create", "w:a w:b",
	 NULL},
	{"CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ DELETE FROM t RETURNING 1 $$", 1, K(DDL),
	 0, "create", NULL, NULL},
	{"CREATE FUNCTION f() RETURNS void LANGUAGE sql BEGIN ATOMIC DELETE FROM t; END", 1, K(DDL), 0,
	 "create", "w:t", NULL},
	{"CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION f()", 1, K(DDL), 0,
	 "create", "w:t", NULL},
	{"CREATE POLICY p ON t USING (owner = current_user)", 1, K(DDL) | K(DCL), 0, "create", "w:t",
	 NULL},
	{"CREATE EXTENSION dblink", 1, K(DDL), 0, "create", NULL, NULL},
	{"CREATE SEQUENCE s.q", 1, K(DDL), 0, "create", "w:s.q", NULL},
	{"ALTER SEQUENCE q RESTART", 1, K(DDL), 0, "alter", "w:q", NULL},
	{"CREATE SCHEMA s CREATE TABLE t (a int)", 1, K(DDL), 0, "create", "w:s.t", NULL},
	{"CREATE SCHEMA s CREATE TABLE t (a int) GRANT SELECT ON t TO u", 1, K(DDL) | K(DCL), 0,
	 "create", "w:s.t w:t", NULL},
	{"COMMENT ON TABLE t IS 'x'", 1, K(DDL), 0, "comment", "w:t", NULL},
	{"COMMENT ON COLUMN s.t.c IS 'x'", 1, K(DDL), 0, "comment", "w:s.t", NULL},
	{"IMPORT FOREIGN SCHEMA r FROM SERVER s INTO l", 1, K(DDL), 0, "import", NULL, NULL},
	{"CREATE TYPE mood AS ENUM ('a', 'b')", 1, K(DDL), 0, "create", NULL, NULL},

	/* access control */
	{"GRANT SELECT ON s.t TO u", 1, K(DCL), 0, "grant", "w:s.t", NULL},
	{"REVOKE ALL ON t FROM u", 1, K(DCL), 0, "revoke", "w:t", NULL},
	{"GRANT admin TO u", 1, K(DCL), 0, "grant", NULL, NULL},
	{"REVOKE admin FROM u", 1, K(DCL), 0, "revoke", NULL, NULL},
	{"CREATE ROLE x LOGIN SUPERUSER", 1, K(DCL), 0, "create", NULL, NULL},
	{"ALTER ROLE x SUPERUSER", 1, K(DCL), 0, "alter", NULL, NULL},
	{"DROP ROLE x", 1, K(DCL), 0, "drop", NULL, NULL},
	{"ALTER ROLE x SET search_path = a", 1, K(DCL), 0, "alter", NULL, NULL},
	{"ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO u", 1, K(DCL), 0, "alter", NULL, NULL},
	{"REASSIGN OWNED BY a TO b", 1, K(DCL) | K(DDL), 0, "reassign", NULL, NULL},
	{"DROP OWNED BY a", 1, K(DCL) | K(DDL), 0, "drop", NULL, NULL},
	{"ALTER SYSTEM SET work_mem = '1GB'", 1, K(DCL) | K(DDL), 0, "alter system", NULL, NULL},
	{"ALTER FUNCTION f() OWNER TO x", 1, K(DDL) | K(DCL), 0, "alter", NULL, NULL},

	/* SET and RESET */
	{"SET ROLE admin", 1, K(DCL), 0, "set", NULL, NULL},
	{"SET LOCAL ROLE admin", 1, K(DCL), 0, "set", NULL, NULL},
	{"SET \"Role\" = admin", 1, K(DCL), 0, "set", NULL, NULL},
	{"SET SESSION AUTHORIZATION x", 1, K(DCL), 0, "set", NULL, NULL},
	{"SET SESSION AUTHORIZATION DEFAULT", 1, K(DCL), 0, "set", NULL, NULL},
	{"RESET ROLE", 1, K(DCL), 0, "reset", NULL, NULL},
	{"RESET SESSION AUTHORIZATION", 1, K(DCL), 0, "reset", NULL, NULL},
	{"RESET ALL", 1, K(DCL) | K(SET), 0, "reset", NULL, NULL},
	{"SET search_path = billing, public", 1, K(SET), 0, "set", NULL, NULL},
	{"SET LOCAL statement_timeout = 0", 1, K(SET), 0, "set", NULL, NULL},
	{"RESET statement_timeout", 1, K(SET), 0, "reset", NULL, NULL},
	{"SET TIME ZONE 'UTC'", 1, K(SET), 0, "set", NULL, NULL},
	{"SET TRANSACTION ISOLATION LEVEL SERIALIZABLE", 1, K(TRANSACTION), 0, "set", NULL, NULL},
	{"SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY", 1, K(TRANSACTION), 0, "set", NULL,
	 NULL},
	{"SET CONSTRAINTS ALL DEFERRED", 1, K(TRANSACTION), 0, "set", NULL, NULL},
	/*
	 * They change how the server lexes what follows: any value but the ones
	 * libpg_query lexes as is unknown (the policy never caches these). With
	 * standard_conforming_strings off the server reads the next text as
	 * SELECT 'a'' , ' followed by a DELETE; libpg_query reads one SELECT.
	 * RESET / DEFAULT go back to the startup value, which the PostgreSQL
	 * adapter watches through ParameterStatus.
	 */
	{"SELECT 'a\\' , ' ; DELETE FROM t; --'", 1, K(READ), 0, "select", NULL, NULL},
	{"SET standard_conforming_strings = off", 1, K(SET) | K(UNKNOWN), 0, "set", NULL, NULL},
	{"SET standard_conforming_strings TO false", 1, K(SET) | K(UNKNOWN), 0, "set", NULL, NULL},
	{"SET standard_conforming_strings = on", 1, K(SET), 0, "set", NULL, NULL},
	{"SET standard_conforming_strings = 'true'", 1, K(SET), 0, "set", NULL, NULL},
	{"SET NAMES 'SJIS'", 1, K(SET) | K(UNKNOWN), 0, "set", NULL, NULL},
	{"SET client_encoding TO 'big5'", 1, K(SET) | K(UNKNOWN), 0, "set", NULL, NULL},
	{"SET client_encoding = 'UTF-8'", 1, K(SET), 0, "set", NULL, NULL},
	{"SET client_encoding = 'LATIN1'", 1, K(SET), 0, "set", NULL, NULL},
	{"RESET client_encoding", 1, K(SET), 0, "reset", NULL, NULL},

	/* transactions */
	{"BEGIN", 1, K(TRANSACTION), 0, "begin", NULL, NULL},
	{"START TRANSACTION READ ONLY", 1, K(TRANSACTION), 0, "begin", NULL, NULL},
	{"COMMIT", 1, K(TRANSACTION), 0, "commit", NULL, NULL},
	{"END", 1, K(TRANSACTION), 0, "commit", NULL, NULL},
	{"ROLLBACK", 1, K(TRANSACTION), 0, "rollback", NULL, NULL},
	{"ABORT", 1, K(TRANSACTION), 0, "rollback", NULL, NULL},
	{"ROLLBACK TO SAVEPOINT s", 1, K(TRANSACTION), 0, "rollback to savepoint", NULL, NULL},
	{"SAVEPOINT s", 1, K(TRANSACTION), 0, "savepoint", NULL, NULL},
	{"RELEASE SAVEPOINT s", 1, K(TRANSACTION), 0, "release", NULL, NULL},
	{"PREPARE TRANSACTION 'x'", 1, K(TRANSACTION), 0, "prepare transaction", NULL, NULL},
	{"COMMIT PREPARED 'x'", 1, K(TRANSACTION), 0, "commit prepared", NULL, NULL},
	{"ROLLBACK PREPARED 'x'", 1, K(TRANSACTION), 0, "rollback prepared", NULL, NULL},

	/* prepared statements and cursors */
	{"PREPARE p AS DELETE FROM t WHERE id = $1", 1, K(READ) | K(WRITE), F(PREPARED), "prepare",
	 "w:t", NULL},
	{"PREPARE q (int) AS SELECT * FROM t WHERE id = $1", 1, K(READ), F(PREPARED), "prepare",
	 "r:t", NULL},
	{"PREPARE d AS DELETE FROM t", 1, K(WRITE), F(PREPARED) | F(NO_WHERE), "prepare", "w:t", NULL},
	{"EXECUTE p(1)", 1, 0, F(PREPARED), "execute", NULL, NULL},
	{"EXECUTE p(pg_read_file('x'))", 1, 0, F(PREPARED), "execute", NULL, "pg_read_file"},
	{"DEALLOCATE ALL", 1, K(UTILITY), 0, "deallocate", NULL, NULL},
	{"DEALLOCATE p", 1, K(UTILITY), 0, "deallocate", NULL, NULL},
	{"DECLARE c CURSOR FOR SELECT * FROM t", 1, K(READ), 0, "declare", "r:t", NULL},
	{"DECLARE c CURSOR WITH HOLD FOR SELECT * FROM t FOR UPDATE", 1, K(READ) | K(LOCK), 0,
	 "declare", "r:t", NULL},
	{"FETCH 10 FROM c", 1, K(READ), 0, "fetch", NULL, NULL},
	{"MOVE NEXT IN c", 1, K(READ), 0, "move", NULL, NULL},
	{"CLOSE c", 1, K(UTILITY), 0, "close", NULL, NULL},
	{"CLOSE ALL", 1, K(UTILITY), 0, "close", NULL, NULL},

	/* code */
	{"CALL p(1)", 1, K(CALL), 0, "call", NULL, "p"},
	{"CALL s.p((SELECT x FROM t))", 1, K(CALL) | K(READ), 0, "call", "r:t", "s.p"},
	{"LOAD 'x'", 1, K(UTILITY) | K(PROCEDURAL), 0, "load", NULL, NULL},

	/* maintenance and utility */
	{"VACUUM", 1, K(MAINTENANCE), 0, "vacuum", NULL, NULL},
	{"VACUUM (FULL, ANALYZE) t", 1, K(MAINTENANCE), 0, "vacuum", "w:t", NULL},
	{"ANALYZE s.t", 1, K(MAINTENANCE), 0, "analyze", "w:s.t", NULL},
	{"CLUSTER t USING i", 1, K(MAINTENANCE), 0, "cluster", "w:t", NULL},
	{"REINDEX TABLE t", 1, K(MAINTENANCE), 0, "reindex", "w:t", NULL},
	{"CHECKPOINT", 1, K(MAINTENANCE), 0, "checkpoint", NULL, NULL},
	{"LOCK TABLE t IN ACCESS EXCLUSIVE MODE", 1, K(LOCK), 0, "lock", "w:t", NULL},
	{"LOCK a, s.b", 1, K(LOCK), 0, "lock", "w:a w:s.b", NULL},
	{"LISTEN ch", 1, K(UTILITY), 0, "listen", NULL, NULL},
	{"NOTIFY ch, 'x'", 1, K(UTILITY), 0, "notify", NULL, NULL},
	{"UNLISTEN *", 1, K(UTILITY), 0, "unlisten", NULL, NULL},
	{"DISCARD ALL", 1, K(UTILITY) | K(DCL) | K(SET), 0, "discard", NULL, NULL},
	{"DISCARD PLANS", 1, K(UTILITY), 0, "discard", NULL, NULL},

	/* not SQL */
	{"SELEKT 1", 1, K(UNKNOWN), 0, "unknown", NULL, NULL},
	{"SELECT 'abc", 1, K(UNKNOWN), 0, "unknown", NULL, NULL},
	{"SELECT * FROM", 1, K(UNKNOWN), 0, "unknown", NULL, NULL},
	{"DROP TABLE", 1, K(UNKNOWN), 0, "unknown", NULL, NULL},
	{"SELECT 1; SELEKT 2", 1, K(UNKNOWN), 0, "unknown", NULL, NULL},
};

static void test_corpus(void **state)
{
	(void)state;
	size_t n = sizeof(corpus) / sizeof(corpus[0]);
	assert_true(n >= 90);
	for (size_t i = 0; i < n; i++) {
		const tcase *t = &corpus[i];
		sql_class *c = classify(t->sql);
		if (c->n != t->n)
			fail_msg("%s: %zu statements, want %zu", t->sql, c->n, t->n);
		check_stmt(t->sql, &c->stmts[0], t->kinds, t->flags, t->command, t->objects, t->functions);
		check_invariants(c);
		/* the parser's message, exactly when the parser refused the text */
		int parse_error = strcmp(t->command, "unknown") == 0;
		if (parse_error != (c->error != NULL))
			fail_msg("%s: error %s", t->sql, c->error ? c->error : "(none)");
		sqlclass_free(c);
	}
}

/* ---- several statements --------------------------------------------------- */

static void test_multi_statement(void **state)
{
	(void)state;
	/* psql's `SELECT 1\; DROP TABLE t` reaches the server as exactly this */
	const char *sql = "SELECT 1; DROP TABLE t";
	sql_class *c = classify(sql);
	assert_int_equal(c->n, 2);
	check_stmt(sql, &c->stmts[0], K(READ), MS, "select", NULL, NULL);
	check_stmt(sql, &c->stmts[1], K(DDL), MS, "drop", "w:t", NULL);
	assert_int_equal(c->stmts[0].location, 0);
	assert_int_equal(c->stmts[0].length, 8);
	assert_int_equal(c->stmts[1].location, 9);
	assert_int_equal(c->stmts[1].length, 0);   /* to the end */
	assert_int_equal(c->kinds, K(READ) | K(DDL));
	assert_int_equal(c->flags, MS);
	assert_null(c->error);
	check_invariants(c);
	sqlclass_free(c);

	sql = "BEGIN; UPDATE t SET a = 1 WHERE id = 1;; WITH d AS (DELETE FROM u) SELECT 1; COMMIT;";
	c = classify(sql);
	assert_int_equal(c->n, 4);
	check_stmt(sql, &c->stmts[0], K(TRANSACTION), MS, "begin", NULL, NULL);
	check_stmt(sql, &c->stmts[1], K(READ) | K(WRITE), MS, "update", "w:t", NULL);
	check_stmt(sql, &c->stmts[2], K(READ) | K(WRITE), MS | F(WRITES_IN_CTE) | F(NO_WHERE), "select",
		   "w:u", NULL);
	check_stmt(sql, &c->stmts[3], K(TRANSACTION), MS, "commit", NULL, NULL);
	assert_int_equal(c->stmts[0].tx_end, 0);
	assert_int_equal(c->stmts[3].tx_end, 1);
	/* each range is the statement's own text */
	const char *want[] = {"BEGIN", " UPDATE t SET a = 1 WHERE id = 1",
			      " WITH d AS (DELETE FROM u) SELECT 1", " COMMIT"};
	for (size_t i = 0; i < 4; i++) {
		const sql_stmt *st = &c->stmts[i];
		size_t len = st->length ? (size_t)st->length : strlen(sql) - (size_t)st->location;
		assert_int_equal(len, strlen(want[i]));
		assert_memory_equal(sql + st->location, want[i], len);
	}
	assert_int_equal(c->kinds, K(TRANSACTION) | K(READ) | K(WRITE));
	assert_int_equal(c->flags, MS | F(WRITES_IN_CTE) | F(NO_WHERE));
	check_invariants(c);
	sqlclass_free(c);

	/* flags of one statement do not leak into another */
	sql = "DELETE FROM t; SELECT 1";
	c = classify(sql);
	assert_int_equal(c->n, 2);
	check_stmt(sql, &c->stmts[0], K(WRITE), MS | F(NO_WHERE), "delete", "w:t", NULL);
	check_stmt(sql, &c->stmts[1], K(READ), MS, "select", NULL, NULL);
	sqlclass_free(c);
}

/* ---- session facts -------------------------------------------------------- */

static void test_search_path(void **state)
{
	(void)state;
	static const struct {
		const char *sql;
		int sets;
		const char *path[4];    /* NULL-terminated */
	} cases[] = {
		{"SET search_path = billing, public", 1, {"billing", "public"}},
		{"SET search_path TO 'x'", 1, {"x"}},
		{"SET search_path = a, \"B\", public", 1, {"a", "B", "public"}},
		{"SET search_path = \"$user\", public", 1, {"$user", "public"}},
		/* one string is one schema, as PostgreSQL quotes it */
		{"SET search_path = 'a, b'", 1, {"a, b"}},
		{"SET LOCAL search_path = a, 1, 2.5", 1, {"a", "1", "2.5"}},
		{"SET SCHEMA 'x'", 1, {"x"}},
		{"SET \"SEARCH_PATH\" = y", 1, {"y"}},
		{"RESET search_path", 1, {NULL}},
		{"SET search_path TO DEFAULT", 1, {NULL}},
		{"SET search_path FROM CURRENT", 1, {NULL}},
		{"RESET ALL", 1, {NULL}},
		{"DISCARD ALL", 1, {NULL}},
		{"SET statement_timeout = 0", 0, {NULL}},
		{"SHOW search_path", 0, {NULL}},
		{"ALTER ROLE x SET search_path = a", 0, {NULL}},
		{"ALTER SYSTEM SET search_path = a", 0, {NULL}},
		/* set_config's value is a list of identifiers, as search_path's text is */
		{"SELECT set_config('search_path', 'a', false)", 0, {"a"}},
		{"SELECT pg_catalog.set_config('Search_Path', ' A ,\"B c\", $user', true)", 0, {"a", "B c", "$user"}},
		{"SELECT set_config('search_path', '\"x\"\"y\"', false)", 0, {"x\"y"}},
		/* pg_dump's: a name not a constant, read as search_path */
		{"SELECT set_config(name, 'view, foreign-table', false) FROM pg_settings WHERE name = "
		 "'restrict_nonsystem_relation_kind'", 0, {"view", "foreign-table"}},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sql_class *c = classify(cases[i].sql);
		assert_int_equal(c->n, 1);
		const sql_stmt *st = &c->stmts[0];
		if (st->sets_search_path != cases[i].sets)
			fail_msg("%s: sets_search_path %d", cases[i].sql, st->sets_search_path);
		size_t n = 0;
		while (n < 4 && cases[i].path[n])
			n++;
		if (st->n_search_path != n)
			fail_msg("%s: %zu schemas, want %zu", cases[i].sql, st->n_search_path, n);
		for (size_t k = 0; k < n; k++)
			assert_string_equal(st->search_path[k], cases[i].path[k]);
		assert_int_equal(st->search_path_unknown, 0);
		sqlclass_free(c);
	}
	/* what set_config() sets the path to, when its text does not say */
	static const char *const unknown[] = {
		"SELECT set_config('search_path', current_setting('x.y'), false)",
		"SELECT set_config(name, v, false) FROM t",
		"SELECT 1 FROM t WHERE set_config(n, v, true) IS NOT NULL",
		"SELECT set_config('search_path', 'a,,b', false)",
		"SELECT set_config('search_path', '\"a', false)",
		"SELECT set_config('search_path', 'a b', false)",
	};
	for (size_t i = 0; i < sizeof(unknown) / sizeof(*unknown); i++) {
		sql_class *c = classify(unknown[i]);
		if (!c->stmts[0].search_path_unknown)
			fail_msg("%s: a search path known", unknown[i]);
		sqlclass_free(c);
	}
	sql_class *c = classify("SELECT set_config('statement_timeout', x, false) FROM t");
	assert_int_equal(c->stmts[0].search_path_unknown, 0);
	sqlclass_free(c);
}

static void test_prepared_names(void **state)
{
	(void)state;
	static const struct {
		const char *sql;
		const char *prepare, *execute, *deallocate;
	} cases[] = {
		{"PREPARE p AS DELETE FROM t WHERE id = $1", "p", NULL, NULL},
		{"PREPARE \"MyPlan\" AS SELECT 1", "MyPlan", NULL, NULL},
		{"EXECUTE p(1)", NULL, "p", NULL},
		{"EXECUTE \"MyPlan\"", NULL, "MyPlan", NULL},
		{"DEALLOCATE ALL", NULL, NULL, ""},
		{"DEALLOCATE PREPARE ALL", NULL, NULL, ""},
		{"DEALLOCATE p", NULL, NULL, "p"},
		{"DISCARD ALL", NULL, NULL, ""},
		{"DISCARD PLANS", NULL, NULL, NULL},
		/* not SQL-level names: the prepared statement it runs is unknown here */
		{"EXPLAIN ANALYZE EXECUTE p", NULL, NULL, NULL},
		{"CREATE TABLE x AS EXECUTE p", NULL, NULL, NULL},
		{"PREPARE TRANSACTION 'p'", NULL, NULL, NULL},
		{"SELECT 1", NULL, NULL, NULL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sql_class *c = classify(cases[i].sql);
		assert_int_equal(c->n, 1);
		const sql_stmt *st = &c->stmts[0];
		const char *got[3] = {st->prepare_name, st->execute_name, st->deallocate_name};
		const char *want[3] = {cases[i].prepare, cases[i].execute, cases[i].deallocate};
		for (int k = 0; k < 3; k++) {
			if (!want[k] != !got[k] || (want[k] && strcmp(want[k], got[k]) != 0))
				fail_msg("%s: name %d is %s", cases[i].sql, k, got[k] ? got[k] : "(null)");
		}
		sqlclass_free(c);
	}
}

static void test_tx_end(void **state)
{
	(void)state;
	static const struct {
		const char *sql;
		int ends;
	} cases[] = {
		{"COMMIT", 1}, {"COMMIT AND CHAIN", 1}, {"END", 1}, {"END TRANSACTION", 1},
		{"ROLLBACK", 1}, {"ABORT", 1}, {"PREPARE TRANSACTION 'x'", 1},
		{"ROLLBACK TO SAVEPOINT s", 0}, {"ROLLBACK TO s", 0}, {"BEGIN", 0},
		{"START TRANSACTION", 0}, {"SAVEPOINT s", 0}, {"RELEASE s", 0},
		{"COMMIT PREPARED 'x'", 0}, {"ROLLBACK PREPARED 'x'", 0}, {"SELECT 1", 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sql_class *c = classify(cases[i].sql);
		assert_int_equal(c->n, 1);
		if (c->stmts[0].tx_end != cases[i].ends)
			fail_msg("%s: tx_end %d", cases[i].sql, c->stmts[0].tx_end);
		sqlclass_free(c);
	}
}

/* Statements that may set client_encoding to another encoding than UTF8 (the
 * detectors read UTF-8), and set_config() calls, never cached by normalized text. */
static void test_leaves_utf8(void **state)
{
	(void)state;
	static const struct {
		const char *sql;
		int leaves, no_cache;
	} cases[] = {
		{"SET client_encoding = 'LATIN1'", 1, 1}, {"SET client_encoding TO win1252", 1, 1},
		{"SET NAMES 'latin1'", 1, 1}, {"SET LOCAL client_encoding = 'EUC_JP'", 1, 1},
		{"SET client_encoding = 'UTF8'", 0, 1}, {"SET client_encoding = 'utf-8'", 0, 1},
		{"SET client_encoding = 'Unicode'", 0, 1}, {"SET NAMES 'UTF8'", 0, 1},
		/* RESET, DEFAULT, RESET ALL, DISCARD ALL: back to the start-up value (the adapter's) */
		{"RESET client_encoding", 0, 1}, {"SET client_encoding TO DEFAULT", 0, 1}, {"RESET ALL", 0, 1},
		{"DISCARD ALL", 0, 1},
		{"SELECT set_config('client_encoding', 'LATIN1', false)", 1, 1},
		{"SELECT 1 FROM t WHERE set_config('Client_Encoding', 'sql_ascii', true) IS NOT NULL", 1, 1},
		{"SELECT pg_catalog.set_config('client_encoding', x, false) FROM t", 1, 1},
		{"SELECT set_config(name, 'LATIN1', false) FROM t", 1, 1},
		{"SELECT set_config(name, x, false) FROM t", 1, 1},
		/* pg_dump's: a value that names no encoding */
		{"SELECT set_config(name, 'view, foreign-table', false) FROM pg_settings "
		 "WHERE name = 'restrict_nonsystem_relation_kind'", 0, 1},
		{"SELECT set_config('client_encoding', 'UTF8', false)", 0, 1},
		{"SELECT set_config('search_path', 'public', false)", 0, 1},
		{"SET search_path = public", 0, 1}, {"SELECT 1", 0, 0}, {"SET work_mem = '64MB'", 0, 0},
		/* COPY's rows in the encoding it names */
		{"COPY (SELECT notes FROM t) TO STDOUT WITH (ENCODING 'LATIN1')", 1, 1},
		{"COPY t TO STDOUT WITH (FORMAT csv, ENCODING 'win1252')", 1, 1},
		{"COPY t TO STDOUT WITH (ENCODING 'UTF8')", 0, 1}, {"COPY t TO STDOUT", 0, 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sql_class *c = classify(cases[i].sql);
		assert_int_equal(c->n, 1);
		const sql_stmt *st = &c->stmts[0];
		if (st->leaves_utf8 != cases[i].leaves)
			fail_msg("%s: leaves_utf8 %d", cases[i].sql, st->leaves_utf8);
		if ((st->sets_lexing || st->sets_search_path) != cases[i].no_cache)
			fail_msg("%s: sets_lexing %d", cases[i].sql, st->sets_lexing);
		sqlclass_free(c);
	}
}

/* ---- texts that are not one plain statement -------------------------------- */

static void test_errors(void **state)
{
	(void)state;
	sql_class *c = classify("SELEKT 1");
	assert_int_equal(c->n, 1);
	assert_int_equal(c->kinds, K(UNKNOWN));
	assert_int_equal(c->flags, 0);
	assert_string_equal(c->stmts[0].command, "unknown");
	assert_string_equal(c->error, "syntax error at or near \"SELEKT\"");
	assert_int_equal(c->stmts[0].n_objects, 0);
	sqlclass_free(c);

	c = classify("SELECT 'abc");
	assert_string_equal(c->error, "unterminated quoted string at or near \"'abc\"");
	sqlclass_free(c);

	c = classify("SELECT $$abc");
	assert_string_equal(c->error, "unterminated dollar-quoted string at or near \"$$abc\"");
	sqlclass_free(c);

	c = classify("SELECT /* abc");
	assert_string_equal(c->error, "unterminated /* comment at or near \"/* abc\"");
	sqlclass_free(c);

	/* one bad statement makes the whole text unknown: nothing of it is trusted */
	c = classify("SELECT 1; DELETE FROM t WHERE; SELECT 2");
	assert_int_equal(c->n, 1);
	assert_int_equal(c->kinds, K(UNKNOWN));
	assert_non_null(c->error);
	sqlclass_free(c);
}

static void test_empty(void **state)
{
	(void)state;
	const char *texts[] = {"", "   \n\t ", "-- only a comment", "/* c */", ";", " ; ; ",
			       "/* a */ -- b\n;"};
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		sql_class *c = classify(texts[i]);
		if (c->n != 0 || c->kinds || c->flags || c->error)
			fail_msg("\"%s\": n=%zu kinds=0x%x", texts[i], c->n, c->kinds);
		sqlclass_free(c);
	}
	sql_class *c = sqlclass_classify(NULL, 0);
	assert_non_null(c);
	assert_int_equal(c->n, 0);
	sqlclass_free(c);
	sqlclass_free(NULL);
}

static void test_not_nul_terminated(void **state)
{
	(void)state;
	/* only [0, len) counts: the rest of the buffer is not looked at */
	const char *sql = "SELECT 1; DROP TABLE t";
	sql_class *c = sqlclass_classify(sql, 8);
	assert_int_equal(c->n, 1);
	check_stmt(sql, &c->stmts[0], K(READ), 0, "select", NULL, NULL);
	sqlclass_free(c);

	/* exactly len bytes, no terminator (valgrind/ASan see any over-read) */
	const char text[] = "DELETE FROM t";
	size_t len = sizeof(text) - 1;
	char *exact = malloc(len);
	assert_non_null(exact);
	memcpy(exact, text, len);
	c = sqlclass_classify(exact, len);
	assert_int_equal(c->n, 1);
	check_stmt(text, &c->stmts[0], K(WRITE), F(NO_WHERE), "delete", "w:t", NULL);
	sqlclass_free(c);
	free(exact);
}

static void test_nul_bytes(void **state)
{
	(void)state;
	/* a terminator counted in len is tolerated */
	const char with_nul[] = "SELECT 1";
	sql_class *c = sqlclass_classify(with_nul, sizeof(with_nul));
	assert_int_equal(c->n, 1);
	assert_int_equal(c->kinds, K(READ));
	sqlclass_free(c);

	/* a NUL inside is not SQL: the server would stop there, a parser might not */
	const char hidden[] = "SELECT 1\0; DROP TABLE t";
	c = sqlclass_classify(hidden, sizeof(hidden) - 1);
	assert_int_equal(c->n, 1);
	assert_int_equal(c->kinds, K(UNKNOWN));
	assert_string_equal(c->stmts[0].command, "unknown");
	assert_non_null(c->error);
	sqlclass_free(c);
}

/* n nested scalar subqueries around a read of t: SELECT (SELECT (... t ...)) */
static char *nested(int n)
{
	const char *inner = "SELECT a FROM t";
	size_t len = 8 * (size_t)n + strlen(inner) + (size_t)n + 1;
	char *s = malloc(len), *p = s;
	assert_non_null(s);
	for (int i = 0; i < n; i++) {
		memcpy(p, "SELECT (", 8);
		p += 8;
	}
	memcpy(p, inner, strlen(inner));
	p += strlen(inner);
	memset(p, ')', (size_t)n);
	p[n] = '\0';
	return s;
}

static void test_depth(void **state)
{
	(void)state;
	/* deep but ordinary: everything is seen */
	char *sql = nested(100);
	sql_class *c = classify(sql);
	assert_int_equal(c->n, 1);
	check_stmt("100 nested subqueries", &c->stmts[0], K(READ), 0, "select", "r:t", NULL);
	sqlclass_free(c);
	free(sql);

	/* past the walk's depth: what lies below is not seen, so unknown */
	sql = nested(200);
	c = classify(sql);
	assert_int_equal(c->n, 1);
	assert_true(c->stmts[0].kinds & K(UNKNOWN));
	assert_null(c->error);
	sqlclass_free(c);
	free(sql);

	/* past jansson's depth, or the parser's own limit: unknown, with a message */
	const int deeper[] = {400, 5000};
	for (size_t i = 0; i < 2; i++) {
		sql = nested(deeper[i]);
		c = classify(sql);
		assert_int_equal(c->n, 1);
		assert_int_equal(c->kinds, K(UNKNOWN));
		assert_non_null(c->error);
		sqlclass_free(c);
		free(sql);
	}
}

/* ---- names ---------------------------------------------------------------- */

static void test_names(void **state)
{
	(void)state;
	static const char *const kinds[SQLK_COUNT] = {
		"read", "write", "ddl", "dcl", "copy_in", "copy_out", "copy_program", "call",
		"procedural", "transaction", "set", "lock", "maintenance", "utility", "unknown",
	};
	static const char *const flags[SQLF_COUNT] = {
		"multi_statement", "writes_in_cte", "no_where", "explain_analyze", "prepared",
		"dangerous_function",
	};
	for (int i = 0; i < SQLK_COUNT; i++) {
		assert_string_equal(sqlclass_kind_name(1u << i), kinds[i]);
		assert_int_equal(sqlclass_kind_parse(kinds[i]), 1u << i);
	}
	for (int i = 0; i < SQLF_COUNT; i++) {
		assert_string_equal(sqlclass_flag_name(1u << i), flags[i]);
		assert_int_equal(sqlclass_flag_parse(flags[i]), 1u << i);
	}
	assert_int_equal(SQLK_READ, 1u << 0);
	assert_int_equal(SQLK_UNKNOWN, 1u << 14);
	assert_int_equal(SQLF_DANGEROUS_FUNCTION, 1u << 5);

	/* not one bit, or past the table */
	assert_null(sqlclass_kind_name(0));
	assert_null(sqlclass_kind_name(SQLK_READ | SQLK_WRITE));
	assert_null(sqlclass_kind_name(1u << SQLK_COUNT));
	assert_null(sqlclass_kind_name(1u << 31));
	assert_null(sqlclass_flag_name(0));
	assert_null(sqlclass_flag_name(SQLF_PREPARED | SQLF_NO_WHERE));
	assert_null(sqlclass_flag_name(1u << SQLF_COUNT));

	/* names are exact */
	assert_int_equal(sqlclass_kind_parse(NULL), 0);
	assert_int_equal(sqlclass_kind_parse(""), 0);
	assert_int_equal(sqlclass_kind_parse("READ"), 0);
	assert_int_equal(sqlclass_kind_parse("rea"), 0);
	assert_int_equal(sqlclass_kind_parse("reads"), 0);
	assert_int_equal(sqlclass_kind_parse("multi_statement"), 0);
	assert_int_equal(sqlclass_flag_parse(NULL), 0);
	assert_int_equal(sqlclass_flag_parse("read"), 0);
	assert_int_equal(sqlclass_flag_parse("No_Where"), 0);
}

static void test_command_known(void **state)
{
	(void)state;
	static const char *const known[] = {
		"select", "insert", "update", "delete", "merge", "create", "alter", "drop",
		"truncate", "comment", "security label", "import", "grant", "revoke", "reassign",
		"alter system", "copy", "explain", "prepare", "execute", "deallocate", "declare",
		"fetch", "move", "close", "show", "set", "reset", "begin", "commit", "rollback",
		"savepoint", "release", "rollback to savepoint", "prepare transaction",
		"commit prepared", "rollback prepared", "call", "do", "load", "lock", "vacuum",
		"analyze", "cluster", "reindex", "checkpoint", "listen", "unlisten", "notify",
		"discard", "refresh", "unknown",
	};
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (!sqlclass_command_known(known[i]))
			fail_msg("%s not known", known[i]);
	static const char *const not_known[] = {
		"", "SELECT", "Select", "selec", "selects", " select", "select ", "rename",
		"start", "end", "abort", "values", "table", "with", "vacuum full", "DeleteStmt",
	};
	for (size_t i = 0; i < sizeof(not_known) / sizeof(not_known[0]); i++)
		if (sqlclass_command_known(not_known[i]))
			fail_msg("\"%s\" known", not_known[i]);
	assert_int_equal(sqlclass_command_known(NULL), 0);
}

/* ---- threads --------------------------------------------------------------- */

#define THREADS 4

static void *thread_classify(void *arg)
{
	int *bad = arg;
	for (int rep = 0; rep < 200; rep++) {
		const tcase *t = &corpus[rep % (sizeof(corpus) / sizeof(corpus[0]))];
		sql_class *c = sqlclass_classify(t->sql, strlen(t->sql));
		if (!c || c->n != t->n || c->stmts[0].kinds != t->kinds || c->stmts[0].flags != t->flags)
			*bad = 1;
		sqlclass_free(c);
	}
	return NULL;
}

static void test_threads(void **state)
{
	(void)state;
	pthread_t t[THREADS];
	int bad[THREADS] = {0};
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, thread_classify, &bad[i]), 0);
	for (int i = 0; i < THREADS; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(bad[i], 0);
	}
}

/* ---- column rules: what a statement computes on (exposure.h) ------------ */

typedef struct expo_case {
	const char *sql;
	const char *computed;   /* the column names computed on, space-separated, any order */
	int whole;
} expo_case;

static const expo_case expo_cases[] = {
	{"select password, api_key from accounts", "", 0},
	/* whether a value is NULL, which a masked value shows too */
	{"select count(*) from accounts where password is null or a.api_key is not null", "", 0},
	{"select password is null, count(api_key), pg_catalog.count(password) from accounts group by 1", "", 0},
	{"select x is null from (select password as x from accounts) s", "", 0},
	{"select count(password) filter (where api_key = 'k') over (partition by id order by owner) from accounts",
	 "api_key id owner", 0},
	{"select count(distinct password), count(api_key order by api_key) from accounts", "password api_key", 0},
	{"select (password || '') is null, coalesce(api_key, 'none'), count(password, id) from accounts",
	 "password api_key id", 0},
	{"select other.count(password), count(variadic array[api_key]) from accounts", "password api_key", 0},
	{"select count(a.*), accounts is null from accounts a", "accounts", 1}, /* (rows: whole) */
	/* at or after a star a position names a column the text does not */
	{"select * from accounts order by 1", "", 1},
	{"select * from accounts order by 2 desc", "", 1},
	{"select id, * from accounts order by 1", "id", 0},
	{"select * from accounts group by 1, 2", "", 1},
	{"select distinct on (3) * from accounts", "", 1},
	{"select id from accounts order by 3", "", 0}, /* (no third column: PostgreSQL refuses it) */
	/* plain DISTINCT compares the columns it returns, a star's too (in the order a
	 * subquery chooses: whole) */
	{"select distinct password, a.id from accounts a", "password id", 0},
	{"select distinct * from accounts", "", 1},
	{"select distinct * from (select password, id from accounts) s", "", 1},
	{"select distinct a.* from accounts a", "", 1},
	/* a target table's name: its whole row (sent as it is: whole, not computed on) */
	{"update accounts set id = id returning accounts", "id", 1},
	{"update customers c set id = id returning c::text", "id c", 1},
	{"delete from accounts a where id = 2 returning a", "id", 1},
	{"insert into accounts (id) values (1) on conflict (id) do update set id = excluded.id returning accounts",
	 "id", 1},
	/* RETURNING columns as they are, a star's: output, as a SELECT's */
	{"update accounts set id = id returning *, password", "id", 0},
	{"delete from accounts returning id, upper(password)", "password", 0},
	{"merge into accounts a using (select 1 x) s on a::text like '%(1,C%' when matched then update set id = a.id",
	 "a id", 1},
	{"update accounts set id = id returning id", "id", 0},
	{"select distinct x from (select password as x from accounts) s", "password x", 0},
	{"select id, password as p from accounts order by 2 desc, 1", "id password", 0},
	{"select password, count(*) from accounts group by 1", "password", 0},
	{"select distinct on (2) id, password from accounts", "password", 0},
	{"select upper(name), password from accounts order by 1", "name", 0},
	{"select upper(password) from accounts", "password", 0},
	{"select password || '' as p, password::int from accounts", "password", 0},
	{"select id from accounts where password = 'x' order by name", "password name", 0},
	{"select max(password) from accounts group by kind", "password kind", 0},
	{"select (select password from accounts limit 1)", "password", 0},
	/* a plain column under another name is computed on when that name is */
	{"select x from (select password as x from accounts) s", "", 0},
	{"select upper(x) from (select password as x from accounts) s", "password x", 0},
	{"select x from (select password as x from accounts) s order by x", "password x", 0},
	{"with c(y) as (select password from accounts) select upper(y) from c", "password y", 0},
	{"with c(y) as (select password from accounts) select y from c", "", 0},
	{"select upper(y) from (select id, password from accounts) s(i, y)", "password y", 0},
	/* rows and stars the text does not spell out */
	{"select a from accounts a", "", 1},
	{"select row_to_json(a) from accounts a", "a", 1},
	{"select password(a) from accounts a", "a", 1},
	{"select t.* from (select * from accounts) t", "", 0},
	{"select array_agg(t.*) from accounts t", "", 1},
	{"select upper(p) from accounts a(i, p)", "p", 1},
	{"select p from accounts a(i, p)", "", 0},
	{"select upper(x) from (select * from accounts) t(i, x)", "x", 1},
	{"select s + 1 from generate_series(1, 3) s", "s", 0}, /* a function's alias: its column */
	{"select upper(s::text) from (select 1) s", "s", 1},
	/* set operations name no column; EXISTS reads nothing */
	{"select password from accounts union select api_key from accounts", "api_key password", 0},
	{"select count(*) from accounts where exists (select password from accounts where id = 1)", "id", 0},
	{"select * from a join b using (k) join c on c.j = b.j", "j k", 0},
	{"select * from accounts natural join guesses", "", 1}, /* compares the columns both have */
	{"select a.id from accounts a natural left join guesses g", "", 1},
	/* indexes and constraints sort, compare or look up their columns */
	{"create index on accounts (password)", "password", 0},
	{"create index on accounts (id) include (api_key)", "id api_key", 0},
	{"alter table accounts add constraint u unique (password)", "password", 0},
	{"alter table accounts add foreign key (password) references guesses (pw)", "password pw", 0},
	{"alter table accounts add exclude using btree (password with =)", "password", 0},
	{"alter table accounts alter column password type varchar(3), alter api_key set not null", "password api_key", 0},
	{"alter table accounts alter column password set default 'x', alter api_key drop not null", "", 0},
	{"create table g (pw text references accounts (password))", "password", 0},
	{"create table g (password text, unique (password))", "", 0}, /* a new table's: empty */
	{"insert into accounts (id, password) values (9, 'x') on conflict (password) do nothing", "password", 0},
	/* statements that store or show what they read */
	{"insert into t select password from accounts", "password", 0},
	{"create table t as select password from accounts", "password", 0},
	{"create view v as select password as secret from accounts", "password", 0},
	{"select password into t from accounts", "password", 0},
	{"update accounts set name = password where id = 1", "id password", 0},
	{"delete from accounts where id = 1 returning password", "id", 0}, /* (sent as it is, its column in RowDescription) */
	{"copy (select password from accounts where id > 1) to stdout", "id", 0},
	{"declare c cursor for select password from accounts", "", 0},
	{"prepare p as select password from accounts where id = $1", "id", 0},
	{"explain select upper(password) from accounts", "password", 0},
};

typedef struct rename_case {
	const char *sql;
	const char *schema, *relation, *column, *to_schema, *to;
	int same_schema;
	int detaches;
} rename_case;

/* Statements giving columns, relations' columns or schemas other names. */
static const rename_case rename_cases[] = {
	{"alter table s.accounts rename column password to pw", "s", "accounts", "password", NULL, "pw", 1, 0},
	{"alter table accounts rename password to pw", NULL, "accounts", "password", NULL, "pw", 1, 0},
	{"alter view v rename column secret to x", NULL, "v", "secret", NULL, "x", 1, 0},
	{"alter table accounts rename to acc", NULL, "accounts", NULL, NULL, "acc", 1, 0},
	{"alter materialized view s.mv rename to mv2", "s", "mv", NULL, "s", "mv2", 1, 0},
	{"alter table public.customers set schema archive", "public", "customers", NULL, "archive", "customers", 0, 0},
	{"alter view v set schema x", NULL, "v", NULL, "x", "v", 0, 0},
	{"alter schema public rename to p2", "public", NULL, NULL, NULL, "p2", 0, 0},
	{"alter table customers inherit s.p", NULL, "customers", NULL, "s", "p", 0, 0},
	{"alter table p attach partition s.customers for values in (1)", "s", "customers", NULL, NULL, "p", 0, 0},
	/* a partition or child leaves the parent's rules (which cover it): rows of p, now under c's name */
	{"alter table p detach partition c", NULL, "p", NULL, NULL, "c", 0, 1},
	{"alter table s.p detach partition s.c concurrently", "s", "p", NULL, "s", "c", 0, 1},
	{"alter table p detach partition c finalize", NULL, "p", NULL, NULL, "c", 0, 1},
	{"alter table t no inherit s.p", "s", "p", NULL, NULL, "t", 0, 1},
	/* PostgreSQL takes ALTER INDEX for a table's rename and ALTER TYPE ... ATTRIBUTE for its column's */
	{"alter index customers rename to c2", NULL, "customers", NULL, NULL, "c2", 1, 0},
	{"alter type s.accounts rename attribute password to pw", "s", "accounts", "password", NULL, "pw", 1, 0},
};

static int same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void test_exposure_renames(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rename_cases) / sizeof(*rename_cases); i++) {
		const rename_case *t = &rename_cases[i];
		sql_class *c = classify(t->sql);
		assert_int_equal(c->n, 1);
		const sql_stmt *st = &c->stmts[0];
		if (st->n_renames != 1)
			fail_msg("[%s]: %zu renames", t->sql, st->n_renames);
		const sql_rename *r = &st->renames[0];
		if (!same_str(r->schema, t->schema) || !same_str(r->relation, t->relation) ||
		    !same_str(r->column, t->column) || !same_str(r->to_schema, t->to_schema) || !same_str(r->to, t->to) ||
		    r->same_schema != t->same_schema || r->detaches != t->detaches)
			fail_msg("[%s]: got %s.%s.%s -> %s.%s (%d)", t->sql, r->schema ? r->schema : "-",
				 r->relation ? r->relation : "-", r->column ? r->column : "-",
				 r->to_schema ? r->to_schema : "-", r->to ? r->to : "-", r->same_schema);
		assert_int_equal(st->defines_code, 0);
		sqlclass_free(c);
	}
	/* other renames (a constraint, a function) change no column's name */
	static const char *const none[] = {"alter table t rename constraint c to d",
					   "alter function f() rename to g", "alter table t add column c int",
					   "alter function f() set schema s"};
	for (size_t i = 0; i < sizeof(none) / sizeof(*none); i++) {
		sql_class *c = classify(none[i]);
		if (c->stmts[0].n_renames != 0)
			fail_msg("[%s]: a rename", none[i]);
		sqlclass_free(c);
	}
}

/* DO blocks, functions, procedures, triggers and rules: code the walk cannot read. */
static void test_exposure_code(void **state)
{
	(void)state;
	static const char *const code[] = {
		"do $$ begin raise notice '%', (select password from accounts limit 1); end $$",
		"create function f() returns text language sql as 'select password from accounts'",
		"create or replace procedure p() language plpgsql as $$ begin null; end $$",
		"create function f() returns int language sql begin atomic select 1; end",
		"create trigger t after insert on accounts for each row execute function audit()",
		"create rule r as on insert to accounts do also insert into log select password from accounts",
		"create event trigger e on ddl_command_start execute function f()",
		"create schema s create table t (a int) create trigger x before insert on t execute function f()",
		/* a built-in function under a name of its own, or a built-in's */
		"create operator pg_temp.= (leftarg = bytea, rightarg = text, function = pg_catalog.encode)",
		("create aggregate public.max(text) (sfunc = pg_catalog.text_larger, stype = text, "
		 "finalfunc = pg_catalog.reverse)"),
		"create aggregate a (int) (sfunc = int4pl, stype = int)",
		"create cast (text as t) with function f(text)",
		"alter function f(text) rename to btrim",
		"alter aggregate a(int) set schema public",
		"alter routine r() rename to lower",
	};
	for (size_t i = 0; i < sizeof(code) / sizeof(*code); i++) {
		sql_class *c = classify(code[i]);
		assert_int_equal(c->n, 1);
		if (!c->stmts[0].defines_code)
			fail_msg("[%s]: no code", code[i]);
		sqlclass_free(c);
	}
	/* foreign tables and servers: tables read under names of their own */
	static const char *const foreign[] = {
		"create foreign table ft (pw text options (column_name 'password')) server loop options (table_name 'accounts')",
		"create server loop foreign data wrapper postgres_fdw options (dbname 'app')",
		"create user mapping for current_user server loop options (user 'app', password 'x')",
		"import foreign schema public from server loop into s",
		"alter server loop options (set dbname 'x')",
		"alter foreign table ft alter column pw options (set column_name 'password')",
	};
	for (size_t i = 0; i < sizeof(foreign) / sizeof(*foreign); i++) {
		sql_class *c = classify(foreign[i]);
		if (!c->stmts[0].links_foreign || c->stmts[0].defines_code)
			fail_msg("[%s]: links_foreign %d", foreign[i], c->stmts[0].links_foreign);
		sqlclass_free(c);
	}
	sql_class *lf = classify("alter table t add column x int");
	assert_int_equal(lf->stmts[0].links_foreign, 0);
	sqlclass_free(lf);
	/* functions running SQL given as text or reading whole tables */
	static const struct {
		const char *sql, *fn;
	} qf[] = {
		{"select query_to_xml('select password from accounts', true, false, '')", "query_to_xml"},
		{"select x from pg_catalog.table_to_xml('accounts', true, false, '') x", "table_to_xml"},
		{"select * from ts_stat('select v from docs')", "ts_stat"},
		{"select 1 where exists (select cursor_to_xml('c', 1, false, false, ''))", "cursor_to_xml"},
		{"select * from dblink('dbname=app', 'select password from accounts') as t(p text)", "dblink"},
		{"select pid, query from pg_stat_get_activity(null)", "pg_stat_get_activity"},
		{"select pg_stat_get_backend_activity(b) from pg_stat_get_backend_idset() b", "pg_stat_get_backend_activity"},
		{"select query from public.pg_stat_statements(true)", "pg_stat_statements"},
		{"select query from pg_stat_statements", NULL},   /* the view: its column is masked whole */
		{"select query_to_xmlschema('select 1', true, false, '')", NULL},
		{"select xmlelement(name x, password) from accounts", NULL},
	};
	for (size_t i = 0; i < sizeof(qf) / sizeof(*qf); i++) {
		sql_class *c = classify(qf[i].sql);
		const char *got = c->stmts[0].query_function;
		if (!((!got && !qf[i].fn) || (got && qf[i].fn && strcmp(got, qf[i].fn) == 0)))
			fail_msg("[%s]: query function %s, want %s", qf[i].sql, got ? got : "none", qf[i].fn ? qf[i].fn : "none");
		sqlclass_free(c);
	}
	static const char *const plain[] = {"call p()", "select f()", "create view v as select 1",
					    "alter function f() owner to x", "drop function f()",
					    "alter table t rename to u", "create type t as (a int)"};
	for (size_t i = 0; i < sizeof(plain) / sizeof(*plain); i++) {
		sql_class *c = classify(plain[i]);
		if (c->stmts[0].defines_code)
			fail_msg("[%s]: code", plain[i]);
		sqlclass_free(c);
	}
}

/*
 * t's statement gives names[0, n) (any order) and whole, as t wants them
 * (t->computed, space-separated; t->whole); what: which list, for the message.
 */
static void expect_names(const expo_case *t, char *const *names, size_t n, int whole, const char *what)
{
	size_t want = 0;
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", t->computed);
	for (char *save = NULL, *tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		want++;
		int found = 0;
		for (size_t k = 0; k < n; k++)
			found |= strcmp(names[k], tok) == 0;
		if (!found)
			fail_msg("[%s]: %s is not %s", t->sql, tok, what);
	}
	if (n != want || whole != t->whole) {
		char got[512] = "";
		size_t gl = 0;
		for (size_t k = 0; k < n && gl < sizeof(got); k++)
			gl += (size_t)snprintf(got + gl, sizeof(got) - gl, "%s ", names[k]);
		fail_msg("[%s]: %s [%s] whole %d, want [%s] whole %d", t->sql, what, got, whole, t->computed, t->whole);
	}
}

static void test_exposure(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(expo_cases) / sizeof(*expo_cases); i++) {
		const expo_case *t = &expo_cases[i];
		sql_class *c = classify(t->sql);
		assert_int_equal(c->n, 1);
		const sql_stmt *st = &c->stmts[0];
		expect_names(t, st->computed, st->n_computed, st->computed_whole, "computed on");
		sqlclass_free(c);
	}
}

/* JSON read by key: the keys each statement reads values at (space-separated, any
 * order; "|" separates a key holding a space), and what reads at keys it does not give. */
typedef struct json_case {
	const char *sql;
	const char *keys;
	const char *any;        /* NULL: none */
	int reads;
} json_case;

static const json_case json_cases[] = {
	{"select doc from t", "", NULL, 0},
	{"select doc->>'a', doc->'b', doc #>> '{c,d}', doc #> array['e','f'] from t", "a b c d e f", NULL, 1},
	{"select doc->0, doc->'g'->>1, doc->(i::int) from t", "g", NULL, 1},
	{"select doc['h'], arr[1], arr[2:3] from t", "h", NULL, 1},
	{"select doc #>> '{ nested , \"secret pin\" }' from t", "nested secret|pin", NULL, 1},
	{"select doc->>'' from t", "|", NULL, 1},
	{"select jsonb_extract_path_text(doc, 'a', 'b'), json_extract_path(doc, variadic array['c']) from t",
	 "a b c", NULL, 1},
	{"select jsonb_path_query(doc, '$.a.\"b c\" ? (@.d > 1)') from t", "a b|c d", NULL, 1},
	{"select jsonb_path_exists(path => '$.k', target => doc) from t", "k", NULL, 1},
	{"select x.a from t, jsonb_to_record(t.doc) as x(a text, b int)", "a b", NULL, 1},
	{"select * from rows from (jsonb_to_record(doc) as (c text)) r, t", "c", NULL, 1},
	{"select 1 from t where doc @> '{\"k\": {\"m\": 1}}' or '[{\"n\": 2}]' <@ doc", "k m n", NULL, 1},
	{"select 1 from t where tags @> '{a,b}'", "", NULL, 1},
	{"select 1 from t where jsonb_contains(doc, '{\"o\": 1}')", "o", NULL, 1},
	{"select doc->>$1 from t", "", "->>", 1},
	{"select doc->k, doc[k], prattrs[s] from t, keys", "", NULL, 1},
	{"select doc->lower(k) from t, keys", "", "->", 1},
	{"select doc[$1] from t", "", "a subscript", 1},
	/* arithmetic is a number, a position (pgJDBC's getIndexInfo: indoption[n - 1]); a concatenation is text */
	{"select o[n - 1], doc[(i * 2) % 3] from t", "", NULL, 1},
	{"select doc[k || ''] from t, keys", "", "a subscript", 1},
	{"select doc->(select k from keys limit 1) from t", "", "->", 1},
	{"select doc #>> p from t", "", "#>>", 1},
	{"select doc #>> '{a,\\\"b\\\"}' from t", "", "#>>", 1},
	{"select jsonb_each_text(doc) from t", "", "jsonb_each_text", 1},
	{"select * from t, jsonb_each(t.doc)", "", "jsonb_each", 1},
	{"select jsonb_populate_record(null::t, doc) from t", "", "jsonb_populate_record", 1},
	{"select jsonb_path_query(doc, '$.*') from t", "", "jsonb_path_query", 1},
	{"select jsonb_path_query(doc, 'strict $.keyvalue()') from t", "", "jsonb_path_query", 1},
	{"select jsonb_path_query(doc, '$.\"\\u0074oken\"') from t", "", "jsonb_path_query", 1},
	{"select jsonb_path_query(doc, p) from t", "", "jsonb_path_query", 1},
	{"select 1 from t where doc @? '$.a'", "a", NULL, 1},
	{"select 1 from t where doc @@ '$.b == 1' and to_tsvector(x) @@ 'token & c'", "b", NULL, 1},
	{"select jsonb_to_tsvector(doc, '[\"string\"]') from t", "", "jsonb_to_tsvector", 1},
	{"select jsonb_object_keys(doc), doc ? 'k', jsonb_array_length(doc->'l') from t", "l", NULL, 1},
	{"select upper(name) from t", "", NULL, 0},
};

static void test_exposure_json(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(json_cases) / sizeof(*json_cases); i++) {
		const json_case *t = &json_cases[i];
		sql_class *c = classify(t->sql);
		if (c->n != 1 || c->error)
			fail_msg("[%s]: does not parse: %s", t->sql, c->error ? c->error : "");
		const sql_stmt *st = &c->stmts[0];
		char want[256], got[512] = "";
		snprintf(want, sizeof(want), "%s", t->keys);
		size_t n_want = 0;
		for (char *save = NULL, *tok = strtok_r(want, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
			for (char *x = tok; *x; x++)
				if (*x == '|')
					*x = ' ';
			if (strcmp(tok, " ") == 0)
				*tok = '\0';   /* "|" alone: the empty key */
			n_want++;
			int found = 0;
			for (size_t k = 0; k < st->n_json_keys; k++)
				found |= strcmp(st->json_keys[k], tok) == 0;
			if (!found)
				fail_msg("[%s]: key [%s] not read", t->sql, tok);
		}
		size_t gl = 0;
		for (size_t k = 0; k < st->n_json_keys && gl < sizeof(got); k++)
			gl += (size_t)snprintf(got + gl, sizeof(got) - gl, "[%s]", st->json_keys[k]);
		if (st->n_json_keys != n_want)
			fail_msg("[%s]: keys %s, want [%s]", t->sql, got, t->keys);
		if ((st->json_any == NULL) != (t->any == NULL) || (t->any && strcmp(st->json_any, t->any) != 0))
			fail_msg("[%s]: any %s, want %s", t->sql, st->json_any ? st->json_any : "none",
				 t->any ? t->any : "none");
		if (st->json_reads != t->reads)
			fail_msg("[%s]: reads %d, want %d", t->sql, st->json_reads, t->reads);
		sqlclass_free(c);
	}
	/* a text that does not parse says so */
	sql_class *c = classify("selec doc->>'a' from t");
	assert_int_equal(c->stmts[0].unparsed, 1);
	sqlclass_free(c);
	c = classify("select 1");
	assert_int_equal(c->stmts[0].unparsed, 0);
	sqlclass_free(c);
}

/* JSON documents computed on (json_keys): the column names a statement computes
 * on other than as documents read by key or sent whole, space-separated. */
static const expo_case doc_cases[] = {
	/* sent whole: a column, casts that keep it whole, rows, arrays, aggregates */
	{"select profile, profile::text, profile::jsonb::text, profile::pg_catalog.json from customers", "", 0},
	{"select row(id, profile), array[profile], coalesce(profile, '{}') from customers", "", 0},
	{"select array_agg(profile order by id), jsonb_agg(profile) filter (where id > 1) from customers", "id", 0},
	{"select to_jsonb(profile), jsonb_pretty(profile), jsonb_build_object('p', profile) from customers", "", 0},
	/* text keeps a document whole at the top only: inside a JSON value or an array it is a string */
	{"select to_json(profile::text) from customers", "profile", 0},
	{"select array[profile::text], jsonb_build_array(docs::text) from customers", "profile docs", 0},
	{"select array_agg(jsonb_pretty(profile)) from customers", "profile", 0},
	{"select array_agg(profile)::text, row(id, docs)::text from customers", "profile id docs", 0},
	/* read by a key or path the text gives, or by what it is */
	{"select profile->>'plan', profile->'nested'->>'level', profile #>> '{nested,level}' from customers", "", 0},
	{"select id from customers where profile->>'plan' = 'basic' order by profile->>'plan'", "", 0},
	{"select profile['plan'], c.profile::jsonb #> array['a','b'] from customers c", "", 0},
	{"select id from customers where profile ? 'token' and profile is not null and profile @> '{\"plan\": 1}'", "", 0},
	{"select jsonb_typeof(profile), jsonb_object_keys(profile), jsonb_extract_path_text(profile, 'plan') from customers", "", 0},
	{"select jsonb_path_query(target => profile, path => '$.plan') from customers", "", 0},
	{"select id from customers where profile @? '$.plan' and jsonb_contains(profile, '{}')", "", 0},
	/* computed on: string functions, comparisons, cuts, computed keys, positions */
	{"select replace(profile::text, 'a', 'b') from customers", "profile", 0},
	{"select left(profile::text, 40) from customers", "profile", 0},
	{"select profile::varchar(40) from customers", "profile", 0},
	{"select profile::char, id from customers", "profile", 0},
	{"select profile::text[] from customers", "profile", 0},
	{"select id from customers where profile::text like '%tk9%'", "profile", 0},
	{"select id from customers where profile = '{}'", "profile", 0},
	{"select id from customers where profile @> jsonb_build_object('token', 'x')", "profile", 0},
	{"select profile->lower('Plan'), profile->0, docs[1] from customers", "profile docs", 0},
	{"select md5(profile::text), public.to_jsonb(profile) from customers", "profile", 0},
	{"select jsonb_build_object(profile::text, 1) from customers", "profile", 0},
	{"select distinct profile from customers", "profile", 0},
	{"select to_jsonb(profile) from customers order by 1", "profile", 0},
	{"select jsonb_agg(profile) from customers group by profile", "profile", 0},
	/* under another name, in a subquery, a CTE, a union */
	{"select upper(p::text) from (select profile as p from customers) s", "p profile", 0},
	{"select p->>'plan' from (select profile as p from customers) s", "", 0},
	{"select x from (select profile::text as x from customers) s", "profile", 0},
	{"with c as (select profile from customers) select replace(profile::text, 'a', 'b') from c", "profile", 0},
	{"select profile from customers union all select profile from archive", "profile", 0},
	{"insert into t select profile from customers", "profile", 0},
	/* edited: jsonb_set and its kind, - and #- (jsonb's only), || where its result is jsonb */
	{"select jsonb_set(profile, '{a}', docs[1]), jsonb_insert(profile, '{a}', profile, true) from customers",
	 "docs", 0},
	{"select jsonb_set_lax(profile, '{a}', null, create_if_missing => true) from customers", "", 0},
	{"select jsonb_set(profile, path => '{a}', new_value => '1', target => profile) from customers", "profile", 0},
	{"select pg_catalog.jsonb_set(profile, '{a}', '1'), public.jsonb_set(docs, '{a}', '1') from customers", "docs", 0},
	{"select profile - 'a', profile - 0, profile #- '{a,b}', -profile from customers", "profile", 0},
	{"select profile - (profile->>'plan') from customers", "", 0},
	{"select profile - notes from customers", "notes", 0},
	{"select profile || '{}'::jsonb, to_jsonb(1) || profile, (profile || '[1]'::jsonb) - 0 from customers", "", 0},
	{"select profile || '{}'::pg_catalog.jsonb, profile || '{}'::json from customers", "profile", 0},
	{"select profile || docs from customers", "profile docs", 0},
	{"select jsonb_set(profile || docs, '{a}', profile || '{}') - 'b' from customers", "", 0},
	{"select '{}'::jsonb || (profile || notes), notes || '{}'::jsonb from customers", "profile notes", 0},
	{"select profile operator(pg_catalog.||) '{}'::jsonb from customers", "profile", 0},
	{"select case when profile ? 'a' then profile - 'a' when id > 1 then docs[1] else profile end from customers",
	 "id docs", 0},
	{"select case profile when '{}' then 1 end from customers", "profile", 0},
	{"select case when true then profile::text end from customers", "profile", 0},
	{"select id from customers where profile - 'a' = '{}'", "profile", 0},
	/* stored by a SET (exposure's doc_stored: policy.c holds it against the JSON columns) */
	{"update customers set profile = jsonb_set(profile, '{a}', '1'), notes = coalesce(notes, name)", "", 0},
	{"update customers set profile = profile || docs[1], notes = profile::text", "docs profile", 0},
	{"update customers set profile['a']['b'] = profile returning profile, docs::text", "", 0},
	{"update customers set name = 'x' returning left(profile::text, 3), profile - 'a'", "profile", 0},
	{"insert into customers values (1) on conflict (id) do update set profile = excluded.profile || customers.profile",
	 "id", 0},
	{"with u as (update customers set name = 'x' returning profile) select profile from u", "profile", 0},
	{"select profile->>'a', profile->'b', profile - 'c', profile from customers group by 1, 2 order by 3, 4",
	 "profile", 0},
	{"insert into archive (doc, n) select profile - 'a', profile->>'b' from customers order by 2", "", 0},
	{"insert into archive (doc) select distinct profile from customers", "profile", 0},
	/* whole rows */
	{"select to_jsonb(c) from customers c", "", 1},
	{"select c from customers c", "", 1},
};

static void test_exposure_docs(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(doc_cases) / sizeof(*doc_cases); i++) {
		const expo_case *t = &doc_cases[i];
		sql_class *c = classify(t->sql);
		if (c->n != 1 || c->error)
			fail_msg("[%s]: does not parse: %s", t->sql, c->error ? c->error : "");
		const sql_stmt *st = &c->stmts[0];
		expect_names(t, st->doc_computed, st->n_doc_computed, st->doc_whole, "computed on as a document");
		sqlclass_free(c);
	}
}

/* A statement's text and the list it gives, joined by a lister. */
typedef struct list_case {
	const char *sql, *want;
} list_case;

/* Classifies each case's text and checks what list writes of its statement into got. */
static void expect_lists(const list_case *cases, size_t n, void (*list)(const sql_stmt *, char *, size_t),
			 const char *what)
{
	for (size_t i = 0; i < n; i++) {
		sql_class *c = classify(cases[i].sql);
		if (c->n != 1 || c->error)
			fail_msg("[%s]: does not parse: %s", cases[i].sql, c->error ? c->error : "");
		char got[256] = "";
		list(&c->stmts[0], got, sizeof(got));
		if (strcmp(got, cases[i].want) != 0)
			fail_msg("[%s]: %s [%s], want [%s]", cases[i].sql, what, got, cases[i].want);
		sqlclass_free(c);
	}
}

/* doc_texted, space-separated. */
static void texted_list(const sql_stmt *st, char *got, size_t size)
{
	size_t gl = 0;
	for (size_t k = 0; k < st->n_doc_texted && gl < size; k++)
		gl += (size_t)snprintf(got + gl, size - gl, "%s%s", k ? " " : "", st->doc_texted[k]);
}

/* doc_stored and doc_stored_from: "to=from" pairs, space-separated, in order. */
static void stored_list(const sql_stmt *st, char *got, size_t size)
{
	size_t gl = 0;
	for (size_t k = 0; k < st->n_doc_stored && gl < size; k++)
		gl += (size_t)snprintf(got + gl, size - gl, "%s%s=%s", k ? " " : "", st->doc_stored[k],
				       st->doc_stored_from[k]);
}

/* The columns sent whole as text (doc_texted: an array of documents' text is none). */
static void test_exposure_docs_texted(void **state)
{
	(void)state;
	static const list_case cases[] = {
		{"select profile::text, docs from customers", "profile"},
		{"select profile::jsonb::text, jsonb_pretty(profile) from customers", "profile"},
		{"select p::text from (select docs as p from customers) s", "p docs"},
		{"select profile, to_jsonb(profile) from customers", ""},
	};
	expect_lists(cases, sizeof(cases) / sizeof(*cases), texted_list, "sent as text");
}

/* The documents a SET or an INSERT's SELECT stores (doc_stored, doc_stored_from). */
static void test_exposure_docs_stored(void **state)
{
	(void)state;
	static const list_case cases[] = {
		{"update customers set profile = jsonb_set(profile, '{a}', docs[1]) - 'b'", "profile=profile"},
		{"update customers set notes = profile - 'a', name = notes, id = id + 1", "notes=profile name=notes"},
		{"update customers c set profile = o.profile || c.profile from archive o", "profile=profile"},
		{"update customers set profile['a'] = docs, profile = coalesce(profile, '{}')", "profile=docs profile=profile"},
		{"update customers set notes = profile::text, name = upper(notes)", ""},
		{"insert into customers values (1) on conflict (id) do update set notes = excluded.profile", "notes=profile"},
		{"with s as (select profile as p from customers), u as (update customers set notes = s.p from s returning 1) select * from u",
		 "notes=p notes=profile"},
		{"with s as (select docs as d, profile as p from customers) update customers set notes = s.p from s", "notes=p"},
		{"delete from customers returning profile", ""},
		{"update customers set profile = case when id = 1 then jsonb_set(profile, '{a}', '1') else docs[1] end",
		 "profile=profile"},
		{"insert into archive (id, doc, note) select id, profile || docs[1], coalesce(profile, '{}') from customers",
		 "id=id doc=profile note=profile"},
		{"insert into archive (id, doc) select * from customers", ""},
		{"insert into archive (doc['a']) select profile from customers", ""},
		{"insert into archive (doc) select profile from customers union select profile from customers", ""},
		{"insert into archive (doc) values ('{}')", ""},
	};
	expect_lists(cases, sizeof(cases) / sizeof(*cases), stored_list, "stored");
}

/* The columns a statement writes (a unique index on one answers whether a value is there). */
static void test_written(void **state)
{
	(void)state;
	static const struct {
		const char *sql, *written; /* space-separated, any order */
		int all;
	} cases[] = {
		{"insert into t (a, b) values (1, 2)", "a b", 0},
		{"insert into t values (1, 2)", "", 1},
		{"insert into t select * from u", "", 1},
		{"insert into t (a) values (1) on conflict (a) do update set c = 3", "a c", 0},
		{"update t set a = 1, (b, c) = (2, 3), d[1] = 4 where e = 5", "a b c d", 0},
		{"merge into t using s on t.id = s.id when matched then update set p = s.p "
		 "when not matched then insert (id, q) values (s.id, s.q)", "p id q", 0},
		{"merge into t using s on t.id = s.id when not matched then insert values (s.id)", "", 1},
		{"copy t (a, b) from stdin", "a b", 0},
		{"copy t from stdin", "", 1},
		{"copy t (a) to stdout", "", 0},
		{"with x as (insert into t (a) values (1) returning 1) select 1", "a", 0},
		{"delete from t where a = 1", "", 0},
		{"select a from t", "", 0},
		/* DEFAULT and NULL are not values the statement chooses */
		{"insert into t default values", "", 0},
		{"insert into t (a, b, c) values (1, default, null), (2, default, default)", "a", 0},
		{"insert into t (a, b, c) values (1, null, null), (2, 'x', null::text)", "a b", 0},
		{"insert into t (a, b) values (1, default), (2, 'x')", "a b", 0},
		{"update t set a = null, b = default, c = 1, d = null::text, e = cast(null as int), f = 'null'", "c f", 0},
		{"update t set (a, b) = (null, null)", "a b", 0},
		{"insert into t (a) values (1) on conflict (a) do update set b = default, c = null", "a", 0},
		{"merge into t using s on t.id = s.id when matched then update set p = null "
		 "when not matched then insert (id, q, r) values (s.id, null, 'x')", "id r", 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		sql_class *c = classify(cases[i].sql);
		const sql_stmt *st = &c->stmts[0];
		char want[128];
		snprintf(want, sizeof(want), "%s", cases[i].written);
		size_t n = 0;
		for (char *save = NULL, *tok = strtok_r(want, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
			n++;
			int found = 0;
			for (size_t k = 0; k < st->n_written; k++)
				found |= strcmp(st->written[k], tok) == 0;
			if (!found)
				fail_msg("[%s]: %s not written", cases[i].sql, tok);
		}
		if (st->n_written != n || st->writes_all != cases[i].all)
			fail_msg("[%s]: %zu written (want %zu), all %d (want %d)", cases[i].sql, st->n_written, n,
				 st->writes_all, cases[i].all);
		sqlclass_free(c);
	}
}

/* Whether a constant is written (NULL or a value: normalization gives both one text). */
static void test_writes_const(void **state)
{
	(void)state;
	static const struct {
		const char *sql;
		int consts;
	} cases[] = {
		{"update t set a = null", 1},
		{"update t set a = 'guess'", 1},
		{"update t set a = 'guess'::text", 1},
		{"insert into t (a, b) values (f(), null)", 1},
		{"insert into t (a, b) values (f(), g()), (h(), 2)", 1},
		{"merge into t using s on t.id = s.id when not matched then insert (id, q) values (s.id, null)", 1},
		{"insert into t (a) values (1) on conflict (a) do update set b = null", 1},
		{"update t set a = b, c = default where d = 1", 0},
		{"update t set a = $1", 0},
		{"insert into t (a) select 1", 0},
		{"insert into t (a) values (default)", 0},
		{"delete from t where a = 'x'", 0},
		{"select 1", 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		sql_class *c = classify(cases[i].sql);
		if (c->stmts[0].writes_const != cases[i].consts)
			fail_msg("[%s]: writes_const %d, want %d", cases[i].sql, c->stmts[0].writes_const, cases[i].consts);
		sqlclass_free(c);
	}
}

/* More names than the walk keeps: the statement computes on columns it does not name. */
static void test_exposure_limits(void **state)
{
	(void)state;
	size_t cap = 64 * 1100;
	char *sql = malloc(cap);
	assert_non_null(sql);
	size_t n = (size_t)snprintf(sql, cap, "select 1 from t where c0 = 1");
	for (int i = 1; i < 1100; i++)
		n += (size_t)snprintf(sql + n, cap - n, " and c%d = 1", i);
	sql_class *c = classify(sql);
	assert_int_equal(c->stmts[0].n_computed, 1024);
	assert_int_equal(c->stmts[0].computed_whole, 1);
	sqlclass_free(c);
	n = (size_t)snprintf(sql, cap, "select 1 from t where c0 = 1");
	for (int i = 1; i < 1000; i++)
		n += (size_t)snprintf(sql + n, cap - n, " and c%d = 1", i);
	c = classify(sql);
	assert_int_equal(c->stmts[0].n_computed, 1000);
	assert_int_equal(c->stmts[0].computed_whole, 0);
	sqlclass_free(c);
	n = (size_t)snprintf(sql, cap, "select upper(a0) from (select x0 as a0");
	for (int i = 1; i < 300; i++)
		n += (size_t)snprintf(sql + n, cap - n, ", x%d as a%d", i, i);
	snprintf(sql + n, cap - n, " from t) s");
	c = classify(sql);
	assert_int_equal(c->stmts[0].computed_whole, 1);
	sqlclass_free(c);
	free(sql);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_corpus),
		cmocka_unit_test(test_multi_statement),
		cmocka_unit_test(test_search_path),
		cmocka_unit_test(test_prepared_names),
		cmocka_unit_test(test_tx_end),
		cmocka_unit_test(test_leaves_utf8),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_not_nul_terminated),
		cmocka_unit_test(test_nul_bytes),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_command_known),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_exposure),
		cmocka_unit_test(test_exposure_limits),
		cmocka_unit_test(test_exposure_json),
		cmocka_unit_test(test_exposure_docs),
		cmocka_unit_test(test_exposure_docs_texted),
		cmocka_unit_test(test_exposure_docs_stored),
		cmocka_unit_test(test_written),
		cmocka_unit_test(test_writes_const),
		cmocka_unit_test(test_exposure_renames),
		cmocka_unit_test(test_exposure_code),
	};
	int failed = cmocka_run_group_tests_name("sqlclass", tests, NULL, NULL);
	/* libpg_query keeps a per-thread memory context; free this thread's */
	pg_query_exit();
	return failed;
}
