/*
 * pg catalog — against a real PostgreSQL: names come back as
 * "schema.table.column" for live columns, dropped columns and missing tables
 * answer -1, nothing answers before a fetch, a wrong password caches nothing,
 * a partition's or an inheritance child's columns match the column rules
 * written for the tables it comes from, the idle pool stays within two connections, a pooled connection killed by
 * the server is replaced (one retry), and the cache stays bounded.
 *
 * Needs WARDEN_TEST_PGHOST / WARDEN_TEST_PGPORT / WARDEN_TEST_PGPASSWORD
 * (optional: WARDEN_TEST_PGUSER, default app_scram; WARDEN_TEST_PGDATABASE,
 * default app; WARDEN_TEST_PGSSLROOTCERT: then verify-full). A role that may
 * create a schema in that database. tests/integration/t_94a_catalog.sh runs it
 * against the integration cluster; without those variables every test skips.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <libpq-fe.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto/pg/catalog.h"

static config_connection cc;
static PGconn *admin;
static uint32_t t_oid, gone_oid;

static const char *env_or(const char *name, const char *dflt)
{
	const char *v = getenv(name);
	return v && *v ? v : dflt;
}

static int have_server(void)
{
	return getenv("WARDEN_TEST_PGPORT") && *getenv("WARDEN_TEST_PGPORT");
}

static PGresult *admin_sql(const char *sql)
{
	PGresult *res = PQexec(admin, sql);
	ExecStatusType st = PQresultStatus(res);
	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK)
		fail_msg("%s: %s", sql, PQerrorMessage(admin));
	return res;
}

static uint32_t admin_oid(const char *sql)
{
	PGresult *res = admin_sql(sql);
	uint32_t oid = (uint32_t)strtoul(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return oid;
}

static int setup(void **state)
{
	if (!have_server()) {
		fprintf(stderr, "test_catalog: WARDEN_TEST_PGPORT is unset: skipping the real-server "
				"tests (tests/integration/t_94a_catalog.sh runs them)\n");
		return 0;
	}
	cc.name = (char *)"cat_test";
	cc.host = (char *)env_or("WARDEN_TEST_PGHOST", "127.0.0.1");
	cc.port = atoi(getenv("WARDEN_TEST_PGPORT"));
	cc.database = (char *)env_or("WARDEN_TEST_PGDATABASE", "app");
	cc.user = (char *)env_or("WARDEN_TEST_PGUSER", "app_scram");
	cc.password = getenv("WARDEN_TEST_PGPASSWORD");
	cc.sslrootcert = getenv("WARDEN_TEST_PGSSLROOTCERT");
	cc.sslmode = cc.sslrootcert ? SSLMODE_VERIFY_FULL : SSLMODE_PREFER;

	char port[16];
	snprintf(port, sizeof(port), "%d", cc.port);
	const char *keys[] = {"host", "port", "dbname", "user", "password", NULL};
	const char *vals[] = {cc.host, port, cc.database, cc.user, cc.password, NULL};
	admin = PQconnectdbParams(keys, vals, 0);
	if (PQstatus(admin) != CONNECTION_OK) {
		fprintf(stderr, "test_catalog: cannot connect: %s", PQerrorMessage(admin));
		return -1;
	}
	PQclear(admin_sql("SET client_min_messages = warning"));
	PQclear(admin_sql("DROP SCHEMA IF EXISTS s CASCADE; CREATE SCHEMA s;"
			  " CREATE TABLE s.t (a int, x int, b text); ALTER TABLE s.t DROP COLUMN x;"
			  " CREATE TABLE s.gone (a int)"));
	t_oid = admin_oid("SELECT 's.t'::regclass::oid");
	gone_oid = admin_oid("SELECT 's.gone'::regclass::oid");
	PQclear(admin_sql("DROP TABLE s.gone"));
	return 0;
}

static int teardown(void **state)
{
	if (admin) {
		PQclear(PQexec(admin, "DROP SCHEMA IF EXISTS s CASCADE"));
		PQfinish(admin);
	}
	pg_catalog_shutdown();
	return 0;
}

#define NEED_SERVER()                                                                              \
	do {                                                                                       \
		if (!have_server())                                                                \
			skip();                                                                    \
	} while (0)

typedef struct fetch_result {
	int calls, ok;
} fetch_result;

static void on_done(void *arg, int ok)
{
	fetch_result *r = arg;
	r->calls++;
	r->ok = ok;
}

/* Runs n fetches of the same tables concurrently; returns how many succeeded. */
static int fetch_many(const config_connection *c, int cc_index, const uint32_t *tables, size_t n,
		      int times)
{
	uv_loop_t loop;
	assert_int_equal(uv_loop_init(&loop), 0);
	fetch_result r[8] = {0};
	assert_true(times <= 8);
	for (int i = 0; i < times; i++)
		assert_int_equal(pg_catalog_fetch(&loop, c, cc_index, tables, n, on_done, &r[i]), 0);
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(uv_loop_close(&loop), 0);
	int oks = 0;
	for (int i = 0; i < times; i++) {
		assert_int_equal(r[i].calls, 1);
		oks += r[i].ok;
	}
	return oks;
}

static void test_unfetched_answers_zero(void **state)
{
	NEED_SERVER();
	char name[64] = "";
	assert_int_equal(pg_catalog_column(0, t_oid, 1, name, sizeof(name)), 0);
	assert_int_equal(pg_catalog_column(0, gone_oid, 1, name, sizeof(name)), 0);
	assert_int_equal(pg_catalog_column(0, 0, 1, name, sizeof(name)), -1); /* no table */
}

static void test_wrong_password_caches_nothing(void **state)
{
	NEED_SERVER();
	config_connection bad = cc;
	bad.password = (char *)"wrong_pw_cat7q";
	uint32_t tables[] = {t_oid};
	assert_int_equal(fetch_many(&bad, 0, tables, 1, 1), 0);
	char name[64] = "";
	assert_int_equal(pg_catalog_column(0, t_oid, 1, name, sizeof(name)), 0);
}

static void test_names_dropped_and_missing(void **state)
{
	NEED_SERVER();
	uint32_t tables[] = {t_oid, gone_oid, t_oid}; /* a duplicate on purpose */
	assert_int_equal(fetch_many(&cc, 0, tables, 3, 1), 1);
	char name[64];
	assert_int_equal(pg_catalog_column(0, t_oid, 1, name, sizeof(name)), 1);
	assert_string_equal(name, "s.t.a");
	assert_int_equal(pg_catalog_column(0, t_oid, 3, name, sizeof(name)), 1);
	assert_string_equal(name, "s.t.b");
	assert_int_equal(pg_catalog_column(0, t_oid, 2, name, sizeof(name)), -1); /* dropped */
	assert_int_equal(pg_catalog_column(0, t_oid, 4, name, sizeof(name)), -1);
	assert_int_equal(pg_catalog_column(0, t_oid, 0, name, sizeof(name)), -1);
	assert_int_equal(pg_catalog_column(0, t_oid, -1, name, sizeof(name)), -1); /* ctid */
	assert_int_equal(pg_catalog_column(0, gone_oid, 1, name, sizeof(name)), -1);
	assert_int_equal(pg_catalog_column(1, t_oid, 1, name, sizeof(name)), 0); /* other cc */
	char small[4];
	assert_int_equal(pg_catalog_column(0, t_oid, 3, small, sizeof(small)), 1);
	assert_string_equal(small, "s.t");
}

/* One families fetch for cc_index over c, run to its end: its done's calls and ok. */
static fetch_result fetch_families(const config_connection *c, int cc_index)
{
	uv_loop_t loop;
	assert_int_equal(uv_loop_init(&loop), 0);
	fetch_result r = {0};
	assert_int_equal(pg_catalog_fetch_families(&loop, c, cc_index, on_done, &r), 0);
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(uv_loop_close(&loop), 0);
	return r;
}

/* pg_catalog_parents (unique 0), pg_catalog_unique (1), pg_catalog_json_columns (2) or
 * pg_catalog_number_columns (3: -1 when not listed) of schema.table is want
 * (comma-separated), listed or not. */
static void expect_family(int cc_index, const char *schema, const char *table, int unique, const char *want,
			  int want_listed)
{
	char **par;
	int listed;
	int n = unique == 3 ? pg_catalog_number_columns(cc_index, schema, table, &par, &listed)
		: unique == 2 ? pg_catalog_json_columns(cc_index, schema, table, &par, &listed)
		: unique    ? pg_catalog_unique(cc_index, schema, table, &par, &listed)
			    : pg_catalog_parents(cc_index, schema, table, &par, &listed);
	if (unique == 3 && !want_listed) {
		assert_int_equal(n, -1);
		assert_int_equal(listed, 0);
		return;
	}
	assert_true(n >= 0);
	char got[512] = "";
	size_t at = 0;
	for (int i = 0; i < n; i++) {
		at += (size_t)snprintf(got + at, sizeof(got) - at, "%s%s", i ? "," : "", par[i]);
		free(par[i]);
	}
	free(par);
	if (strcmp(got, want) != 0 || listed != want_listed)
		fail_msg("%s.%s: %s [%s] listed %d, want [%s] listed %d", schema, table,
			 unique == 2 ? "json" : unique ? "unique" : "parents",
			 got, listed, want, want_listed);
}

static void expect_parents(int cc_index, const char *schema, const char *table, const char *want, int want_listed)
{
	expect_family(cc_index, schema, table, 0, want, want_listed);
}

/*
 * A partition (at any depth) or an inheritance child: its columns by its own
 * name, and a column rule written for the table it comes from matches them
 * too; a same-named column of an unrelated table, or another column, does not.
 */
static void test_parents_rules(void **state)
{
	NEED_SERVER();
	PQclear(admin_sql("CREATE TABLE s.ledger (id int, secret text, note text) PARTITION BY RANGE (id);"
			  " CREATE TABLE s.\"ledger.2025\" PARTITION OF s.ledger FOR VALUES FROM (0) TO (100)"
			  "   PARTITION BY RANGE (id);"
			  " CREATE TABLE s.ledger_q1 PARTITION OF s.\"ledger.2025\" FOR VALUES FROM (0) TO (50);"
			  " CREATE TABLE s.base (secret text); CREATE TABLE s.kid (extra int) INHERITS (s.base);"
			  " CREATE TABLE s.other (secret text)"));
	uint32_t tables[] = {admin_oid("SELECT 's.ledger_q1'::regclass::oid"),
			     admin_oid("SELECT 's.\"ledger.2025\"'::regclass::oid"),
			     admin_oid("SELECT 's.kid'::regclass::oid"), admin_oid("SELECT 's.other'::regclass::oid"),
			     admin_oid("SELECT 's.ledger'::regclass::oid")};
	assert_int_equal(fetch_many(&cc, 0, tables, 5, 1), 1);
	char *rules[] = {(char *)"s.ledger.secret", (char *)"s.base.secret"};
	config_strlist globs = {.v = rules, .n = 2};
	char name[64];
	uint32_t type;
	int masked;
	struct {
		uint32_t oid;
		int16_t att;
		const char *name;
		int masked;
	} want[] = {
		{tables[0], 2, "s.ledger_q1.secret", 1}, /* a partition's partition */
		{tables[0], 3, "s.ledger_q1.note", 0},
		{tables[1], 2, "s.ledger.2025.secret", 1},
		{tables[2], 1, "s.kid.secret", 1},       /* an inheritance child */
		{tables[2], 2, "s.kid.extra", 0},
		{tables[3], 1, "s.other.secret", 0},     /* the same name, no parent */
		{tables[4], 2, "s.ledger.secret", 1},    /* the table itself */
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(*want); i++) {
		assert_int_equal(pg_catalog_column_rule(0, want[i].oid, want[i].att, &globs, name, sizeof(name), &type,
							&masked), 1);
		assert_string_equal(name, want[i].name);
		if (masked != want[i].masked)
			fail_msg("%s: masked %d, want %d", want[i].name, masked, want[i].masked);
	}
	/* no globs: names only */
	assert_int_equal(pg_catalog_column_rule(0, tables[0], 2, NULL, name, sizeof(name), &type, &masked), 1);
	assert_int_equal(masked, 0);
	assert_int_equal(type, 25);
	/* the parent's name alone, as a glob would read it through a parent */
	char *parent_only[] = {(char *)"s.ledger.*"};
	config_strlist pg = {.v = parent_only, .n = 1};
	assert_int_equal(pg_catalog_column_rule(0, tables[0], 3, &pg, name, sizeof(name), &type, &masked), 1);
	assert_int_equal(masked, 1);

	/* by name, for the policy: every relation of the connection with its parents, fetched whole */
	int listed;
	char **par;
	assert_int_equal(pg_catalog_families(0), 0);
	assert_int_equal(pg_catalog_parents(0, "s", "ledger_q1", &par, &listed), -1); /* not fetched */
	fetch_result r = fetch_families(&cc, 0);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.ok, 1);
	assert_int_equal(pg_catalog_families(0), 1);
	expect_parents(0, "s", "ledger_q1", "s.ledger,s.ledger.2025", 1);
	expect_parents(0, "s", "ledger.2025", "s.ledger", 1);
	expect_parents(0, "s", "kid", "s.base", 1);
	expect_parents(0, "s", "other", "", 1);          /* listed, no parent */
	expect_parents(0, "s", "ledger", "", 1);         /* the parent itself */
	expect_parents(0, "public", "ledger_q1", "", 0); /* no such relation */
	assert_int_equal(pg_catalog_parents(1, "s", "ledger_q1", &par, &listed), -1); /* other cc */
	/* a partition created since the fetch: not listed until the next one */
	PQclear(admin_sql("CREATE TABLE s.ledger_q2 PARTITION OF s.\"ledger.2025\" FOR VALUES FROM (50) TO (100)"));
	expect_parents(0, "s", "ledger_q2", "", 0);
	usleep(60000);
	assert_int_equal(pg_catalog_families_recent(0), 0); /* fetched more than a moment ago */
	assert_int_equal(fetch_families(&cc, 0).ok, 1);
	expect_parents(0, "s", "ledger_q2", "s.ledger,s.ledger.2025", 1);
	/* a target that does not answer: unknown, and not asked again for CATALOG_TTL_S */
	config_connection bad = cc;
	bad.password = (char *)"wrong_pw_cat7q";
	assert_int_equal(fetch_families(&bad, 3).ok, 0);
	assert_int_equal(pg_catalog_families(3), 1);
	assert_int_equal(pg_catalog_parents(3, "s", "ledger_q1", &par, &listed), -1);
}

/*
 * The columns a unique index or an exclusion constraint decides on, for the
 * policy (a write to one answers whether a value is there): key columns
 * only (not INCLUDE's), every column for an index on an expression or with a
 * predicate, and a partition's own for its parent too.
 */
static void test_unique_columns(void **state)
{
	NEED_SERVER();
	PQclear(admin_sql("CREATE TABLE s.u1 (id int PRIMARY KEY, email text UNIQUE, note text, code text);"
			  " CREATE UNIQUE INDEX ON s.u1 (code) INCLUDE (note);"
			  " CREATE TABLE s.u2 (a int, b text, c text); CREATE UNIQUE INDEX ON s.u2 (lower(b));"
			  " CREATE TABLE s.u3 (a int, b text); CREATE UNIQUE INDEX ON s.u3 (a) WHERE b IS NOT NULL;"
			  " CREATE TABLE s.u4 (r int4range, n text, EXCLUDE USING gist (r WITH &&));"
			  " CREATE TABLE s.up (id int, k text, m text) PARTITION BY LIST (id);"
			  " CREATE TABLE s.up1 PARTITION OF s.up FOR VALUES IN (1); CREATE UNIQUE INDEX ON s.up1 (k);"
			  " CREATE TABLE s.plain (a int);"
			  " CREATE TABLE s.fkc (id int, pid int REFERENCES s.u1 (id), mail text REFERENCES s.u1 (email))"));
	/* (on connection 0: a pooled catalog connection per index, which test_pool counts) */
	assert_int_equal(fetch_families(&cc, 0).ok, 1);
	expect_family(0, "s", "u1", 1, "code,email,id", 1);
	expect_family(0, "s", "u2", 1, "a,b,c", 1);   /* lower(b): which columns, the index's expression says */
	expect_family(0, "s", "u3", 1, "a,b", 1);     /* a predicate */
	expect_family(0, "s", "u4", 1, "r", 1);       /* an exclusion constraint */
	expect_family(0, "s", "up1", 1, "k", 1);
	expect_family(0, "s", "up", 1, "k", 1);       /* its partition's */
	expect_family(0, "s", "plain", 1, "", 1);
	expect_family(0, "s", "nosuch", 1, "", 0);
	expect_family(0, "s", "up1", 0, "s.up", 1);   /* the parents still */
	/* foreign keys: each column with the one it references (in pairs, in no set order) */
	char **fk;
	int fl;
	int nf = pg_catalog_references(0, "s", "fkc", &fk, &fl);
	assert_int_equal(nf, 4);
	assert_int_equal(fl, 1);
	int pid = 0, mail = 0;
	for (int i = 0; i + 1 < nf; i += 2) {
		pid |= strcmp(fk[i], "pid") == 0 && strcmp(fk[i + 1], "s.u1.id") == 0;
		mail |= strcmp(fk[i], "mail") == 0 && strcmp(fk[i + 1], "s.u1.email") == 0;
	}
	for (int i = 0; i < nf; i++)
		free(fk[i]);
	free(fk);
	assert_true(pid && mail);
	expect_family(0, "s", "fkc", 1, "", 1);       /* no unique column of its own */
	assert_int_equal(pg_catalog_references(0, "s", "u1", &fk, &fl), 0);
	char **out;
	int listed;
	assert_int_equal(pg_catalog_unique(6, "s", "u1", &out, &listed), -1); /* not fetched */
}

/*
 * The JSON columns (json_keys mask values inside their documents): json,
 * jsonb, arrays of them ("name[]"), domains over them and over their
 * arrays, a view's and a partition's; a unique index on one is a unique
 * column still.
 */
static void test_json_columns(void **state)
{
	NEED_SERVER();
	PQclear(admin_sql("CREATE DOMAIN s.doc AS jsonb; CREATE DOMAIN s.docs AS jsonb[];"
			  " CREATE TABLE s.j (id int, a json, b jsonb UNIQUE, c jsonb[], d s.doc, e s.docs, f s.doc[],"
			  "   g text, h json[]);"
			  " CREATE VIEW s.jv AS SELECT id, b AS bee, g FROM s.j;"
			  " CREATE TABLE s.jp (id int, p jsonb) PARTITION BY LIST (id);"
			  " CREATE TABLE s.jp1 PARTITION OF s.jp FOR VALUES IN (1);"
			  " ALTER TABLE s.j ADD COLUMN gone jsonb; ALTER TABLE s.j DROP COLUMN gone"));
	assert_int_equal(fetch_families(&cc, 0).ok, 1);
	expect_family(0, "s", "j", 2, "a,b,c[],d,e[],f[],h[]", 1);
	expect_family(0, "s", "j", 1, "b", 1);
	expect_family(0, "s", "jv", 2, "bee", 1);
	expect_family(0, "s", "jp1", 2, "p", 1);
	expect_family(0, "s", "jp", 2, "p", 1);
	expect_family(0, "s", "plain", 2, "", 1);
	expect_family(0, "s", "nosuch", 2, "", 0);
	char **out;
	int listed;
	assert_int_equal(pg_catalog_json_columns(6, "s", "j", &out, &listed), -1); /* not fetched */
}

/*
 * The number columns (transforms: refuse lets a cast of one to another number
 * through): int2 to numeric, money and a domain over one, a view's; and as
 * "!name" a column of another type named as a number column is somewhere.
 * A relation the families do not list: -1.
 */
static void test_number_columns(void **state)
{
	NEED_SERVER();
	PQclear(admin_sql("CREATE DOMAIN s.amt AS numeric(10, 2);"
			  " CREATE TABLE s.n (amount numeric, price float8, qty int2, n4 int4, n8 int8, r real, m money,"
			  "   d s.amt, label text, at timestamptz);"
			  " CREATE TABLE s.t2 (amount text, other text);"
			  " CREATE VIEW s.nv AS SELECT amount AS total, label FROM s.n;"
			  " ALTER TABLE s.n ADD COLUMN gone int; ALTER TABLE s.n DROP COLUMN gone"));
	assert_int_equal(fetch_families(&cc, 0).ok, 1);
	expect_family(0, "s", "n", 3, "amount,d,m,n4,n8,price,qty,r", 1);
	expect_family(0, "s", "t2", 3, "!amount", 1);
	expect_family(0, "s", "nv", 3, "total", 1);
	expect_family(0, "s", "nosuch", 3, "", 0);
	/* the JSON columns are as they were */
	expect_family(0, "s", "n", 2, "", 1);
	char **out;
	int listed;
	assert_int_equal(pg_catalog_number_columns(6, "s", "n", &out, &listed), -1); /* not fetched */
}

/* One function lookup; its done's ok. */
static int fetch_function(const config_connection *c, int cc_index, uint32_t oid)
{
	uv_loop_t loop;
	assert_int_equal(uv_loop_init(&loop), 0);
	fetch_result r = {0};
	assert_int_equal(pg_catalog_fetch_function(&loop, c, cc_index, oid, on_done, &r), 0);
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(uv_loop_close(&loop), 0);
	assert_int_equal(r.calls, 1);
	return r.ok;
}

/* A FunctionCall's OID: its function's name, quoted, from the catalog; none for an OID of no function. */
static void test_function_names(void **state)
{
	NEED_SERVER();
	PQclear(admin_sql("CREATE FUNCTION s.\"we\"\"ird fn\"() RETURNS int LANGUAGE sql AS 'select 1'"));
	uint32_t lo_open = admin_oid("SELECT 'pg_catalog.lo_open'::regproc::oid");
	uint32_t weird = admin_oid("SELECT 's.\"we\"\"ird fn\"'::regproc::oid");
	char name[300];
	assert_int_equal(pg_catalog_function(0, lo_open, name, sizeof(name)), 0); /* not fetched yet */
	config_connection bad = cc;
	bad.password = (char *)"wrong_pw_cat7q";
	/* (a connection index of its own: no pooled connection logged in already) */
	assert_int_equal(fetch_function(&bad, 7, lo_open), 0);
	assert_int_equal(pg_catalog_function(7, lo_open, name, sizeof(name)), 0); /* a failure caches nothing */
	assert_int_equal(fetch_function(&cc, 0, lo_open), 1);
	assert_int_equal(pg_catalog_function(0, lo_open, name, sizeof(name)), 1);
	assert_string_equal(name, "\"pg_catalog\".\"lo_open\"");
	assert_int_equal(pg_catalog_function(1, lo_open, name, sizeof(name)), 0); /* other cc */
	assert_int_equal(fetch_function(&cc, 0, weird), 1);
	assert_int_equal(pg_catalog_function(0, weird, name, sizeof(name)), 1);
	assert_string_equal(name, "\"s\".\"we\"\"ird fn\"");
	assert_int_equal(fetch_function(&cc, 0, t_oid), 1); /* a table's OID: no function */
	assert_int_equal(pg_catalog_function(0, t_oid, name, sizeof(name)), -1);
	uv_loop_t loop;
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(pg_catalog_fetch_function(&loop, &cc, 0, 0, on_done, NULL), -1); /* OID 0 */
	assert_int_equal(uv_loop_close(&loop), 0);
}

static int catalog_backends(void)
{
	PGresult *res = admin_sql("SELECT count(*) FROM pg_catalog.pg_stat_activity"
				  " WHERE application_name = 'warden catalog'");
	int n = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	return n;
}

static atomic_int readers_stop, readers_bad;

/* A worker thread's view while the pool threads insert: 1 with the right
 * name, or 0 when the entry is momentarily missing; never anything else. */
static void *reader(void *arg)
{
	char name[64];
	while (!atomic_load(&readers_stop)) {
		int rc = pg_catalog_column(0, t_oid, 3, name, sizeof(name));
		if (rc < 0 || (rc == 1 && strcmp(name, "s.t.b") != 0))
			atomic_fetch_add(&readers_bad, 1);
		usleep(50); /* leave the CPU to the fetches (valgrind runs one thread at a time) */
	}
	return NULL;
}

static void test_pool_bounded_and_reconnects(void **state)
{
	NEED_SERVER();
	uint32_t tables[] = {t_oid};
	pthread_t th[2];
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&th[i], NULL, reader, NULL), 0);
	int oks = fetch_many(&cc, 0, tables, 1, 8);
	atomic_store(&readers_stop, 1);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	assert_int_equal(oks, 8);
	assert_int_equal(atomic_load(&readers_bad), 0);
	/* surplus connections are closed; their backends exit shortly after */
	int n = 0;
	for (int i = 0; i < 50 && (n = catalog_backends()) > 2; i++)
		usleep(100000);
	assert_in_range(n, 1, 2);

	/* the server kills the idle ones: the next fetch retries on a new one */
	PQclear(admin_sql("SELECT pg_catalog.pg_terminate_backend(pid) FROM pg_catalog.pg_stat_activity"
			  " WHERE application_name = 'warden catalog'"));
	for (int i = 0; i < 50 && catalog_backends() > 0; i++)
		usleep(100000);
	assert_int_equal(fetch_many(&cc, 0, tables, 1, 1), 1);
	char name[64];
	assert_int_equal(pg_catalog_column(0, t_oid, 3, name, sizeof(name)), 1);
	assert_string_equal(name, "s.t.b");
}

static void test_cache_bounded(void **state)
{
	NEED_SERVER();
	enum { N = 5000 };
	uint32_t *tables = malloc(N * sizeof(uint32_t));
	assert_non_null(tables);
	for (uint32_t i = 0; i < N; i++)
		tables[i] = 4000000000u + i; /* no such tables */
	assert_int_equal(fetch_many(&cc, 2, tables, N, 1), 1);
	char name[8];
	/* inserted in OID order; the 4097th insert emptied the cache */
	assert_int_equal(pg_catalog_column(2, tables[0], 1, name, sizeof(name)), 0);
	assert_int_equal(pg_catalog_column(2, tables[N - 1], 1, name, sizeof(name)), -1);
	assert_int_equal(pg_catalog_column(0, t_oid, 1, name, sizeof(name)), 0);
	free(tables);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unfetched_answers_zero),
		cmocka_unit_test(test_wrong_password_caches_nothing),
		cmocka_unit_test(test_names_dropped_and_missing),
		cmocka_unit_test(test_parents_rules),
		cmocka_unit_test(test_unique_columns),
		cmocka_unit_test(test_json_columns),
		cmocka_unit_test(test_number_columns),
		cmocka_unit_test(test_function_names),
		cmocka_unit_test(test_pool_bounded_and_reconnects),
		cmocka_unit_test(test_cache_bounded),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
