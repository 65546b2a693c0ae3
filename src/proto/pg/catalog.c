/*
 * pg catalog — see catalog.h. Two structures, each behind its own mutex:
 *
 *   - the cache: a hash of (cc_index, table OID) -> the table's columns by
 *     attnum ("schema.table.column", NULL for a dropped or missing attnum), or
 *     "unknown"; stamped with uv_hrtime() (monotonic) when fetched. It holds at
 *     most CATALOG_MAX_TABLES tables; when an insert would pass that, it is
 *     emptied (entries are cheap to fetch again, and an attacker who touches
 *     many tables gains nothing but refetches).
 *   - the pool: at most CATALOG_POOL_IDLE idle PGconn per cc_index. A
 *     connection is used by one thread-pool thread at a time: taken out of the
 *     pool, used, put back (or closed when broken).
 *
 * Entries are built outside the cache lock and inserted whole, so a reader
 * sees either the old entry or the new one. The query names every operator
 * with OPERATOR(pg_catalog.x): a role that can create objects on the target
 * must not be able to shadow them through its search_path and so rename (and
 * unmask) columns.
 */
#include <libpq-fe.h>
#include <openssl/crypto.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/util.h"
#include "proto/pg/catalog.h"

#define CATALOG_MAX_TABLES 4096
#define CATALOG_BUCKETS 1024
#define CATALOG_POOL_IDLE 2

/*
 * The columns of the tables WHERE picks, each as its table names it (depth
 * 0) and again under the name of each table it inherits from, a partitioned
 * table's partitions included (depth 1 and up: pg_inherits, up to 64 levels;
 * a column of a child has its parent's name): column rules written for a
 * table also mask what is read from its partitions or children.
 */
#define CATALOG_COLUMNS_SQL(WHERE)                                                                         \
	"WITH RECURSIVE up(child, rel, depth) AS ("                                                         \
	" SELECT c.oid, c.oid, 0 FROM pg_catalog.pg_class c WHERE " WHERE                                   \
	" UNION ALL SELECT up.child, i.inhparent, up.depth OPERATOR(pg_catalog.+) 1"                         \
	" FROM up JOIN pg_catalog.pg_inherits i ON i.inhrelid OPERATOR(pg_catalog.=) up.rel"                \
	" WHERE up.depth OPERATOR(pg_catalog.<) 64)"                                                         \
	" SELECT up.child, a.attnum, n.nspname, c.relname, a.attname, a.atttypid, up.depth"                  \
	" FROM up JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) up.child"             \
	" JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) up.rel"                                \
	" JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace"                    \
	" WHERE a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped"                                   \
	" ORDER BY up.child, a.attnum, up.depth"

static const char catalog_sql[] = CATALOG_COLUMNS_SQL("c.oid OPERATOR(pg_catalog.=) ANY ($1::pg_catalog.oid[])");

/* The same for one table named as text (COPY without a column list). */
static const char catalog_named_sql[] = CATALOG_COLUMNS_SQL("c.oid OPERATOR(pg_catalog.=) pg_catalog.to_regclass($1)");

/*
 * Every relation a statement can read (tables, partitioned tables, views,
 * materialized views, foreign tables), once with no parent (NULLs) or once
 * per table it inherits from, at any depth (partitions included): what the
 * policy reads a statement's relation names against. A name missing from it
 * is one created since (or none such). Then, in the fifth column (NULL in
 * the rows before), each column a unique index or an exclusion constraint
 * of the relation, or of a partition or child of it, decides on: a write to
 * it answers whether a value is there. An index on an expression or with a
 * predicate counts every column of its table. Then each column a foreign
 * key of the relation holds, with the column it references in the sixth
 * ("schema.table.column"): a write to it answers whether a value is in the
 * referenced one. Then, with 'json' in the seventh ('json[]' for an array
 * of documents), each column whose type is json or jsonb, an array of them
 * or a domain over one: json_keys mask values inside such a column's
 * documents, so computing on them is refused. Then, with 'num' in the
 * seventh, each column whose type is a number (int2, int4, int8, float4,
 * float8, numeric, money, a domain over one), and with 'txt' each column of
 * another type named as some relation's number column is: transforms:
 * refuse lets a statement cast a column that holds numbers to another
 * number, or format it with to_char (policy.c numbers_held).
 * Bounded: past FAMILIES_MAX rows the answer is taken as unknown.
 */
#define FAMILIES_MAX 200000
static const char catalog_families_sql[] =
	"WITH RECURSIVE up(child, rel, depth) AS ("
	" SELECT i.inhrelid, i.inhparent, 1 FROM pg_catalog.pg_inherits i"
	" UNION ALL SELECT up.child, i.inhparent, up.depth OPERATOR(pg_catalog.+) 1"
	" FROM up JOIN pg_catalog.pg_inherits i ON i.inhrelid OPERATOR(pg_catalog.=) up.rel"
	" WHERE up.depth OPERATOR(pg_catalog.<) 64),"
	" uq(relid, col) AS ("
	" SELECT x.indrelid, a.attname FROM pg_catalog.pg_index x"
	" CROSS JOIN LATERAL pg_catalog.unnest(x.indkey::pg_catalog.int2[]) WITH ORDINALITY k(n, i)"
	" JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) x.indrelid"
	" AND a.attnum OPERATOR(pg_catalog.=) k.n"
	" WHERE (x.indisunique OR x.indisexclusion) AND k.i OPERATOR(pg_catalog.<=) x.indnkeyatts"
	" UNION SELECT x.indrelid, a.attname FROM pg_catalog.pg_index x"
	" JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) x.indrelid"
	" AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped"
	" WHERE (x.indisunique OR x.indisexclusion) AND (x.indexprs IS NOT NULL OR x.indpred IS NOT NULL)),"
	" uqa(relid, col) AS (SELECT relid, col FROM uq"
	" UNION SELECT up.rel, uq.col FROM uq JOIN up ON up.child OPERATOR(pg_catalog.=) uq.relid),"
	" fk(relid, col, ref) AS ("
	" SELECT k.conrelid, a.attname, rn.nspname OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||) r.relname"
	" OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||) ra.attname FROM pg_catalog.pg_constraint k"
	" CROSS JOIN LATERAL ROWS FROM (pg_catalog.unnest(k.conkey), pg_catalog.unnest(k.confkey)) u(att, refatt)"
	" JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) k.conrelid"
	" AND a.attnum OPERATOR(pg_catalog.=) u.att"
	" JOIN pg_catalog.pg_class r ON r.oid OPERATOR(pg_catalog.=) k.confrelid"
	" JOIN pg_catalog.pg_namespace rn ON rn.oid OPERATOR(pg_catalog.=) r.relnamespace"
	" JOIN pg_catalog.pg_attribute ra ON ra.attrelid OPERATOR(pg_catalog.=) k.confrelid"
	" AND ra.attnum OPERATOR(pg_catalog.=) u.refatt"
	" WHERE k.contype OPERATOR(pg_catalog.=) 'f'),"
	" jt(oid, arr) AS (SELECT t.oid, false FROM pg_catalog.pg_type t"
	" WHERE t.oid OPERATOR(pg_catalog.=) ANY ('{114,3802}'::pg_catalog.oid[])"
	" UNION SELECT t.oid, jt.arr OR t.typbasetype OPERATOR(pg_catalog.<>) jt.oid"
	" FROM pg_catalog.pg_type t JOIN jt ON t.typbasetype OPERATOR(pg_catalog.=) jt.oid"
	" OR (t.typelem OPERATOR(pg_catalog.=) jt.oid AND t.typcategory OPERATOR(pg_catalog.=) 'A')),"
	" nt(oid) AS (SELECT t.oid FROM pg_catalog.pg_type t"
	" WHERE t.oid OPERATOR(pg_catalog.=) ANY ('{20,21,23,700,701,790,1700}'::pg_catalog.oid[])"
	" UNION SELECT t.oid FROM pg_catalog.pg_type t JOIN nt ON t.typbasetype OPERATOR(pg_catalog.=) nt.oid),"
	" nc(relid, col, num) AS (SELECT a.attrelid, a.attname, a.atttypid OPERATOR(pg_catalog.=) ANY"
	" (SELECT nt.oid FROM nt) FROM pg_catalog.pg_attribute a"
	" JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) a.attrelid"
	" WHERE a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped"
	" AND c.relkind OPERATOR(pg_catalog.=) ANY ('{r,p,v,m,f}'::pg_catalog.\"char\"[]))"
	" SELECT cn.nspname, c.relname, pn.nspname, p.relname, NULL::pg_catalog.name, NULL::pg_catalog.text,"
	" NULL::pg_catalog.text"
	" FROM pg_catalog.pg_class c"
	" JOIN pg_catalog.pg_namespace cn ON cn.oid OPERATOR(pg_catalog.=) c.relnamespace"
	" LEFT JOIN up ON up.child OPERATOR(pg_catalog.=) c.oid"
	" LEFT JOIN pg_catalog.pg_class p ON p.oid OPERATOR(pg_catalog.=) up.rel"
	" LEFT JOIN pg_catalog.pg_namespace pn ON pn.oid OPERATOR(pg_catalog.=) p.relnamespace"
	" WHERE c.relkind OPERATOR(pg_catalog.=) ANY ('{r,p,v,m,f}'::pg_catalog.\"char\"[])"
	" UNION ALL SELECT n.nspname, c.relname, NULL, NULL, uqa.col, NULL, NULL FROM uqa"
	" JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) uqa.relid"
	" JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace"
	" UNION ALL SELECT n.nspname, c.relname, NULL, NULL, fk.col, fk.ref, NULL FROM fk"
	" JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) fk.relid"
	" JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace"
	" UNION ALL SELECT n.nspname, c.relname, NULL, NULL, a.attname, NULL,"
	" CASE WHEN pg_catalog.bool_or(jt.arr) THEN 'json[]' ELSE 'json' END"
	" FROM pg_catalog.pg_attribute a JOIN jt ON jt.oid OPERATOR(pg_catalog.=) a.atttypid"
	" JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) a.attrelid"
	" JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace"
	" WHERE a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped"
	" AND c.relkind OPERATOR(pg_catalog.=) ANY ('{r,p,v,m,f}'::pg_catalog.\"char\"[])"
	" GROUP BY n.nspname, c.relname, a.attname"
	" UNION ALL SELECT n.nspname, c.relname, NULL, NULL, nc.col, NULL, CASE WHEN nc.num THEN 'num' ELSE 'txt' END"
	" FROM nc JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) nc.relid"
	" JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace"
	" WHERE nc.num OR nc.col OPERATOR(pg_catalog.=) ANY (SELECT x.col FROM nc x WHERE x.num)"
	" LIMIT $1::pg_catalog.int4";
/* Families fetched this recently are not fetched again for a relation they miss. */
#define FAMILIES_RECHECK_NS 50000000ull

/* A function by OID (FunctionCall names it so), as schema and name. */
static const char catalog_function_sql[] =
	"SELECT n.nspname, p.proname FROM pg_catalog.pg_proc p"
	" JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) p.pronamespace"
	" WHERE p.oid OPERATOR(pg_catalog.=) $1::pg_catalog.oid";

/* OID -> function name, for FunctionCall (name NULL: no such function) */
typedef struct cat_fn {
	struct cat_fn *next;
	int cc_index;
	uint32_t oid;
	char *name;         /* "schema"."function", quoted as an identifier */
	uint64_t fetched_ns;
} cat_fn;

/* name -> OID, for COPY (0: not visible) */
typedef struct cat_name {
	struct cat_name *next;
	int cc_index;
	char *name;         /* quoted: "schema"."table" or "table" */
	uint32_t oid;
	uint64_t fetched_ns;
} cat_name;

typedef struct cat_table {
	struct cat_table *next;
	int cc_index;
	uint32_t oid;
	uint64_t fetched_ns;
	int ncols;   /* 0 with cols NULL: the table is unknown */
	char **cols; /* [attnum - 1] */
	char **attnames;     /* [attnum - 1]: the column's own name, as the parents name it too */
	uint32_t *types;     /* [attnum - 1] */
	char **parents;      /* "schema.table" of each table it inherits from, at any depth */
	int n_parents;
} cat_table;

/* One table's parent or unique column (catalog_families_sql's rows), names raw. */
typedef struct cat_edge {
	char *cs, *ct;  /* the relation */
	char *ps, *pt;  /* a table it inherits from, or NULL (none) */
	char *u;        /* a column a unique index decides on (ps, pt NULL), or NULL */
	char *r;        /* with u: the column u's foreign key references ("schema.table.column"), or NULL */
	int json;       /* u is a column of a JSON type (r NULL): 1, or 2 for an array of documents;
			 * 3 a number's, 4 another type's named as a number column is */
} cat_edge;

/* A connection's families: its edges sorted by table; replaced whole. */
typedef struct cat_families {
	struct cat_families *next;
	int cc_index;
	uint64_t fetched_ns;
	cat_edge *edges;
	size_t n;
	int unknown;            /* the target could not tell (too many, or never answered) */
} cat_families;

typedef struct cat_idle {
	struct cat_idle *next;
	int cc_index;
	PGconn *conn;
} cat_idle;

typedef struct cat_work {
	uv_work_t req;
	const config_connection *cc;
	int cc_index;
	uint32_t *tables;
	size_t n;
	pg_catalog_done done;
	void *arg;
	int ok;
	char *name;     /* pg_catalog_fetch_table: the quoted name instead of tables */
	uint32_t fn_oid;        /* pg_catalog_fetch_function: the function instead */
	int families;           /* pg_catalog_fetch_families: the families instead */
} cat_work;

static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
static cat_table *cache[CATALOG_BUCKETS];
static size_t cache_count;

static cat_name *names;        /* under cache_mu; bounded with the tables */
static size_t names_count;
static cat_fn *fns;            /* under cache_mu; bounded as the names are */
static size_t fns_count;
static cat_families *families; /* under cache_mu; one per cc_index */

static pthread_mutex_t pool_mu = PTHREAD_MUTEX_INITIALIZER;
static cat_idle *pool;

static size_t bucket_of(int cc_index, uint32_t oid)
{
	return ((oid * 2654435761u) ^ (uint32_t)cc_index) % CATALOG_BUCKETS;
}

static void table_free(cat_table *t)
{
	for (int i = 0; i < t->ncols; i++) {
		free(t->cols[i]);
		free(t->attnames[i]);
	}
	for (int i = 0; i < t->n_parents; i++)
		free(t->parents[i]);
	free(t->parents);
	free(t->cols);
	free(t->attnames);
	free(t->types);
	free(t);
}

/* Caller holds cache_mu. */
static void cache_clear_locked(void)
{
	for (size_t b = 0; b < CATALOG_BUCKETS; b++) {
		while (cache[b]) {
			cat_table *t = cache[b];
			cache[b] = t->next;
			table_free(t);
		}
	}
	cache_count = 0;
	while (names) {
		cat_name *n = names;
		names = n->next;
		free(n->name);
		free(n);
	}
	names_count = 0;
	while (fns) {
		cat_fn *f = fns;
		fns = f->next;
		free(f->name);
		free(f);
	}
	fns_count = 0;
}

static void families_free(cat_families *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->edges[i].cs);
		free(f->edges[i].ct);
		free(f->edges[i].ps);
		free(f->edges[i].pt);
		free(f->edges[i].u);
		free(f->edges[i].r);
	}
	free(f->edges);
	free(f);
}

/* Takes ownership of t, replacing an older entry for the same table. */
static void cache_insert(cat_table *t)
{
	size_t b = bucket_of(t->cc_index, t->oid);
	pthread_mutex_lock(&cache_mu);
	for (cat_table **p = &cache[b]; *p; p = &(*p)->next) {
		if ((*p)->cc_index == t->cc_index && (*p)->oid == t->oid) {
			cat_table *old = *p;
			*p = old->next;
			table_free(old);
			cache_count--;
			break;
		}
	}
	if (cache_count >= CATALOG_MAX_TABLES)
		cache_clear_locked();
	t->next = cache[b];
	cache[b] = t;
	cache_count++;
	pthread_mutex_unlock(&cache_mu);
}

int pg_catalog_column(int cc_index, uint32_t table_oid, int16_t attnum, char *name, size_t cap)
{
	uint32_t type;
	return pg_catalog_column_type(cc_index, table_oid, attnum, name, cap, &type);
}

int pg_catalog_column_type(int cc_index, uint32_t table_oid, int16_t attnum, char *name, size_t cap,
			   uint32_t *type)
{
	return pg_catalog_column_rule(cc_index, table_oid, attnum, NULL, name, cap, type, NULL);
}

/* Whether globs match column i of t, under t's name or a parent's. Under cache_mu. */
static int column_masked(const cat_table *t, int i, const config_strlist *globs)
{
	if (config_globs_match(globs, t->cols[i]))
		return 1;
	for (int k = 0; k < t->n_parents; k++) {
		buf b = {0};
		buf_printf(&b, "%s.%s", t->parents[k], t->attnames[i]);
		int hit = config_globs_match(globs, b.data);
		buf_free(&b);
		if (hit)
			return 1;
	}
	return 0;
}

int pg_catalog_column_rule(int cc_index, uint32_t table_oid, int16_t attnum, const config_strlist *globs,
			   char *name, size_t cap, uint32_t *type, int *masked)
{
	*type = 0;
	if (masked)
		*masked = 0;
	if (table_oid == 0)
		return -1; /* not a table column (an expression, a constant) */
	int rc = 0;
	uint64_t now = uv_hrtime();
	pthread_mutex_lock(&cache_mu);
	for (cat_table *t = cache[bucket_of(cc_index, table_oid)]; t; t = t->next) {
		if (t->cc_index != cc_index || t->oid != table_oid)
			continue;
		if (now - t->fetched_ns > (uint64_t)CATALOG_TTL_S * 1000000000u)
			break; /* stale: refetch */
		rc = -1;
		if (attnum > 0 && attnum <= t->ncols && t->cols[attnum - 1]) {
			rc = 1;
			if (cap > 0)
				snprintf(name, cap, "%s", t->cols[attnum - 1]);
			*type = t->types ? t->types[attnum - 1] : 0;
			if (masked && globs)
				*masked = column_masked(t, attnum - 1, globs);
		}
		break;
	}
	pthread_mutex_unlock(&cache_mu);
	return rc;
}

static PGconn *pool_take(int cc_index)
{
	PGconn *conn = NULL;
	pthread_mutex_lock(&pool_mu);
	for (cat_idle **p = &pool; *p; p = &(*p)->next) {
		if ((*p)->cc_index == cc_index) {
			cat_idle *e = *p;
			*p = e->next;
			conn = e->conn;
			free(e);
			break;
		}
	}
	pthread_mutex_unlock(&pool_mu);
	return conn;
}

static void pool_put(int cc_index, PGconn *conn)
{
	int idle = 0;
	pthread_mutex_lock(&pool_mu);
	for (cat_idle *e = pool; e; e = e->next)
		idle += e->cc_index == cc_index;
	if (idle < CATALOG_POOL_IDLE) {
		cat_idle *e = util_xmalloc(sizeof(*e));
		*e = (cat_idle){.next = pool, .cc_index = cc_index, .conn = conn};
		pool = e;
		conn = NULL;
	}
	pthread_mutex_unlock(&pool_mu);
	PQfinish(conn); /* NULL-safe */
}

/* libpq's message (which never holds the password) on one line. */
static void log_pq_error(const config_connection *cc, const char *what, const PGconn *conn)
{
	char *msg = util_strndup(PQerrorMessage(conn), strlen(PQerrorMessage(conn)));
	size_t len = strlen(msg);
	while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == ' '))
		msg[--len] = '\0';
	for (char *p = msg; (p = strchr(p, '\n')) != NULL;)
		*p = ' ';
	log_warn("catalog: connection %s: %s failed: %s", cc->name, what, msg);
	free(msg);
}

static PGconn *catalog_connect(const config_connection *cc)
{
	static const char *const sslmodes[] = {"disable", "prefer", "require", "verify-full"};
	char port[16];
	snprintf(port, sizeof(port), "%d", cc->port);
	const char *keys[12], *vals[12];
	int k = 0;
#define KV(key, val) (keys[k] = (key), vals[k++] = (val))
	KV("host", cc->host);
	KV("port", port);
	KV("dbname", cc->database);
	KV("user", cc->user);
	if (cc->password)
		KV("password", cc->password);
	KV("sslmode", sslmodes[cc->sslmode]);
	/* NULL means the system store, as backend.c's TLS does; libpq < 16 only
	 * knows a file for it ("system" is new in 16). */
	if (cc->sslrootcert)
		KV("sslrootcert", cc->sslrootcert);
	else if (cc->sslmode == SSLMODE_VERIFY_FULL)
		KV("sslrootcert", PQlibVersion() >= 160000 ? "system" : X509_get_default_cert_file());
	KV("application_name", "warden catalog");
	KV("connect_timeout", "5");
	KV(NULL, NULL);
#undef KV
	/* expand_dbname 0: a database name is never read as a conninfo string */
	PGconn *conn = PQconnectdbParams(keys, vals, 0);
	if (!conn) {
		log_warn("catalog: connection %s: out of memory", cc->name);
		return NULL;
	}
	if (PQstatus(conn) != CONNECTION_OK) {
		log_pq_error(cc, "connecting", conn);
		PQfinish(conn);
		return NULL;
	}
	return conn;
}

static int cmp_oid(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

/* Adds "schema.table" to t's parents, once. */
static void add_parent(cat_table *t, const char *schema, const char *table)
{
	buf b = {0};
	buf_printf(&b, "%s.%s", schema, table);
	for (int k = 0; k < t->n_parents; k++) {
		if (strcmp(t->parents[k], b.data) == 0) {
			buf_free(&b);
			return;
		}
	}
	t->parents = util_xrealloc(t->parents, (size_t)(t->n_parents + 1) * sizeof(*t->parents));
	t->parents[t->n_parents++] = util_strndup(b.data, b.len);
	buf_free(&b);
}

/* Caches one entry per requested table (sorted, unique) from rows ordered by
 * table, attnum, depth (CATALOG_COLUMNS_SQL). */
static void cache_result(const cat_work *w, PGresult *res)
{
	int rows = PQntuples(res), r = 0;
	uint64_t now = uv_hrtime();
	for (size_t i = 0; i < w->n; i++) {
		cat_table *t = util_xmalloc(sizeof(*t));
		*t = (cat_table){.cc_index = w->cc_index, .oid = w->tables[i], .fetched_ns = now};
		while (r < rows && strtoul(PQgetvalue(res, r, 0), NULL, 10) < w->tables[i])
			r++;
		int first = r;
		for (; r < rows && strtoul(PQgetvalue(res, r, 0), NULL, 10) == w->tables[i]; r++) {
			long attnum = strtol(PQgetvalue(res, r, 1), NULL, 10);
			if (attnum > t->ncols && attnum <= INT16_MAX)
				t->ncols = (int)attnum;
		}
		if (t->ncols == 0) {
			cache_insert(t); /* unknown */
			continue;
		}
		t->cols = calloc((size_t)t->ncols, sizeof(char *));
		t->attnames = calloc((size_t)t->ncols, sizeof(char *));
		t->types = calloc((size_t)t->ncols, sizeof(uint32_t));
		if (!t->cols || !t->attnames || !t->types)
			abort();
		for (int j = first; j < r; j++) {
			long attnum = strtol(PQgetvalue(res, j, 1), NULL, 10);
			if (strtol(PQgetvalue(res, j, 6), NULL, 10) > 0) {
				add_parent(t, PQgetvalue(res, j, 2), PQgetvalue(res, j, 3));
				continue;
			}
			if (attnum < 1 || attnum > t->ncols || t->cols[attnum - 1])
				continue; /* not what the query returns; never trusted as an index */
			buf name = {0};
			buf_printf(&name, "%s.%s.%s", PQgetvalue(res, j, 2), PQgetvalue(res, j, 3),
				   PQgetvalue(res, j, 4));
			t->cols[attnum - 1] = util_strndup(name.data, name.len);
			t->attnames[attnum - 1] = util_strndup(PQgetvalue(res, j, 4), strlen(PQgetvalue(res, j, 4)));
			t->types[attnum - 1] = (uint32_t)strtoul(PQgetvalue(res, j, 5), NULL, 10);
			buf_free(&name);
		}
		cache_insert(t);
	}
}

/* The name as to_regclass reads it: each part double-quoted, quotes doubled. */
static char *quoted_name(const char *schema, const char *table)
{
	buf b = {0};
	const char *parts[2] = {schema, table};
	for (int i = 0; i < 2; i++) {
		if (!parts[i])
			continue;
		if (b.len)
			buf_append(&b, ".", 1);
		buf_append(&b, "\"", 1);
		for (const char *p = parts[i]; *p; p++) {
			if (*p == '"')
				buf_append(&b, "\"", 1);
			buf_append(&b, p, 1);
		}
		buf_append(&b, "\"", 1);
	}
	char *s = util_strndup(b.data ? b.data : "", b.len);
	buf_free(&b);
	return s;
}

int pg_catalog_table(int cc_index, const char *schema, const char *table, uint32_t *oid)
{
	char *q = quoted_name(schema, table);
	int rc = 0;
	uint64_t now = uv_hrtime();
	pthread_mutex_lock(&cache_mu);
	for (cat_name *n = names; n; n = n->next) {
		if (n->cc_index != cc_index || strcmp(n->name, q) != 0)
			continue;
		if (now - n->fetched_ns <= (uint64_t)CATALOG_TTL_S * 1000000000u) {
			rc = n->oid ? 1 : -1;
			*oid = n->oid;
		}
		break;
	}
	pthread_mutex_unlock(&cache_mu);
	free(q);
	return rc;
}

static void name_insert(int cc_index, const char *q, uint32_t oid)
{
	cat_name *n = util_xmalloc(sizeof(*n));
	*n = (cat_name){.cc_index = cc_index, .name = util_strndup(q, strlen(q)), .oid = oid,
			.fetched_ns = uv_hrtime()};
	pthread_mutex_lock(&cache_mu);
	for (cat_name **p = &names; *p; p = &(*p)->next) {
		if ((*p)->cc_index == cc_index && strcmp((*p)->name, q) == 0) {
			cat_name *old = *p;
			*p = old->next;
			free(old->name);
			free(old);
			names_count--;
			break;
		}
	}
	if (names_count >= CATALOG_MAX_TABLES)
		cache_clear_locked();
	n->next = names;
	names = n;
	names_count++;
	pthread_mutex_unlock(&cache_mu);
}

int pg_catalog_function(int cc_index, uint32_t oid, char *name, size_t cap)
{
	int rc = 0;
	uint64_t now = uv_hrtime();
	pthread_mutex_lock(&cache_mu);
	for (cat_fn *f = fns; f; f = f->next) {
		if (f->cc_index != cc_index || f->oid != oid)
			continue;
		if (now - f->fetched_ns <= (uint64_t)CATALOG_TTL_S * 1000000000u) {
			rc = f->name ? 1 : -1;
			if (f->name && cap)
				snprintf(name, cap, "%s", f->name);
		}
		break;
	}
	pthread_mutex_unlock(&cache_mu);
	return rc;
}

/* pg_catalog_fetch_function's row (none: no such function). */
static void function_rows(cat_work *w, PGresult *res)
{
	cat_fn *f = util_xmalloc(sizeof(*f));
	*f = (cat_fn){.cc_index = w->cc_index, .oid = w->fn_oid, .fetched_ns = uv_hrtime()};
	if (PQntuples(res) == 1 && PQnfields(res) == 2)
		f->name = quoted_name(PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1));
	pthread_mutex_lock(&cache_mu);
	for (cat_fn **p = &fns; *p; p = &(*p)->next) {
		if ((*p)->cc_index == f->cc_index && (*p)->oid == f->oid) {
			cat_fn *old = *p;
			*p = old->next;
			free(old->name);
			free(old);
			fns_count--;
			break;
		}
	}
	if (fns_count >= CATALOG_MAX_TABLES)
		cache_clear_locked();
	f->next = fns;
	fns = f;
	fns_count++;
	pthread_mutex_unlock(&cache_mu);
}

static void cache_result_rows(cat_work *w, PGresult *res)
{
	cache_result(w, res);
}

/*
 * Runs sql with its one parameter and hands the rows to on_rows. A pooled
 * connection may have died while idle (so may its siblings): one retry, on a
 * new connection; an error the server answered is not retried.
 */
static void run_query(cat_work *w, const char *sql, const char *param, void (*on_rows)(cat_work *, PGresult *))
{
	const char *params[1] = {param};
	for (int attempt = 0; attempt < 2 && !w->ok; attempt++) {
		PGconn *conn = attempt == 0 ? pool_take(w->cc_index) : NULL;
		if (!conn && !(conn = catalog_connect(w->cc)))
			break;
		PGresult *res = PQexecParams(conn, sql, 1, NULL, params, NULL, NULL, 0);
		if (PQresultStatus(res) == PGRES_TUPLES_OK) {
			on_rows(w, res);
			w->ok = 1;
		} else {
			log_pq_error(w->cc, "catalog query", conn);
		}
		PQclear(res);
		if (PQstatus(conn) == CONNECTION_OK) {
			pool_put(w->cc_index, conn);
			if (!w->ok)
				break;
		} else {
			PQfinish(conn);
		}
	}
}

/* pg_catalog_fetch_table's rows: the OID, then the columns as by OID. */
static void named_rows(cat_work *w, PGresult *res)
{
	uint32_t oid = PQntuples(res) ? (uint32_t)strtoul(PQgetvalue(res, 0, 0), NULL, 10) : 0;
	name_insert(w->cc_index, w->name, oid);
	if (oid) {
		free(w->tables);
		w->tables = util_xmalloc(sizeof(uint32_t));
		w->tables[0] = oid;
		w->n = 1;
		cache_result(w, res);
	}
}

static void families_rows(cat_work *w, PGresult *res);
static void families_unanswered(int cc_index);

static void catalog_work(uv_work_t *req)
{
	cat_work *w = req->data;
	if (w->families) {
		char limit[16];
		snprintf(limit, sizeof(limit), "%d", FAMILIES_MAX);
		run_query(w, catalog_families_sql, limit, families_rows);
		if (!w->ok)
			families_unanswered(w->cc_index);
	} else if (w->fn_oid) {
		char oid[16];
		snprintf(oid, sizeof(oid), "%u", (unsigned)w->fn_oid);
		run_query(w, catalog_function_sql, oid, function_rows);
	} else if (w->name) {
		run_query(w, catalog_named_sql, w->name, named_rows);
	} else {
		qsort(w->tables, w->n, sizeof(uint32_t), cmp_oid);
		size_t u = 0;
		for (size_t i = 0; i < w->n; i++)
			if (u == 0 || w->tables[i] != w->tables[u - 1])
				w->tables[u++] = w->tables[i];
		w->n = u;
		buf arr = {0};
		buf_append(&arr, "{", 1);
		for (size_t i = 0; i < w->n; i++)
			buf_printf(&arr, "%s%u", i ? "," : "", (unsigned)w->tables[i]);
		buf_append(&arr, "}", 2); /* with the NUL */
		if (w->n == 0)
			w->ok = 1;
		else
			run_query(w, catalog_sql, arr.data, cache_result_rows);
		buf_free(&arr);
	}
	/* libuv joins its pool threads in a destructor that runs after OpenSSL's
	 * atexit cleanup, so their per-thread OpenSSL state (error queue, DRBGs)
	 * would never be freed (LeakSanitizer reports it); lookups are rare. */
	OPENSSL_thread_stop();
}

static void catalog_after(uv_work_t *req, int status)
{
	cat_work *w = req->data;
	w->done(w->arg, status == 0 && w->ok);
	free(w->tables);
	free(w->name);
	free(w);
}

/* Queues w on loop's thread pool; frees it when it cannot be. */
static int queue(uv_loop_t *loop, cat_work *w)
{
	w->req.data = w;
	if (uv_queue_work(loop, &w->req, catalog_work, catalog_after) != 0) {
		free(w->tables);
		free(w->name);
		free(w);
		return -1;
	}
	return 0;
}

int pg_catalog_fetch(uv_loop_t *loop, const config_connection *cc, int cc_index,
		     const uint32_t *tables, size_t n, pg_catalog_done done, void *arg)
{
	cat_work *w = util_xmalloc(sizeof(*w));
	*w = (cat_work){.cc = cc, .cc_index = cc_index, .n = n, .done = done, .arg = arg};
	w->tables = util_xmalloc(n ? n * sizeof(uint32_t) : 1);
	if (n)
		memcpy(w->tables, tables, n * sizeof(uint32_t));
	return queue(loop, w);
}

int pg_catalog_fetch_table(uv_loop_t *loop, const config_connection *cc, int cc_index,
			   const char *schema, const char *table, pg_catalog_done done, void *arg)
{
	cat_work *w = util_xmalloc(sizeof(*w));
	*w = (cat_work){.cc = cc, .cc_index = cc_index, .done = done, .arg = arg,
			.name = quoted_name(schema, table)};
	return queue(loop, w);
}

int pg_catalog_fetch_function(uv_loop_t *loop, const config_connection *cc, int cc_index, uint32_t oid,
			      pg_catalog_done done, void *arg)
{
	if (!oid)
		return -1;
	cat_work *w = util_xmalloc(sizeof(*w));
	*w = (cat_work){.cc = cc, .cc_index = cc_index, .done = done, .arg = arg, .fn_oid = oid};
	return queue(loop, w);
}

static int edge_cmp(const void *a, const void *b)
{
	const cat_edge *x = a, *y = b;
	int c = strcmp(x->cs, y->cs);
	return c ? c : strcmp(x->ct, y->ct);
}

static void families_put(cat_families *f);

static void families_rows(cat_work *w, PGresult *res)
{
	int rows = PQntuples(res);
	cat_families *f = util_xmalloc(sizeof(*f));
	*f = (cat_families){.cc_index = w->cc_index, .fetched_ns = uv_hrtime()};
	if (rows >= FAMILIES_MAX) {
		log_warn("catalog: connection %s: more than %d rows of relations, parents and unique columns, too "
			 "many to tell partitions and unique indexes by: a masked identity's statement computing on "
			 "a column, or writing a masked one, is refused", w->cc->name, FAMILIES_MAX - 1);
		f->unknown = 1;
		rows = 0;
	}
	f->n = (size_t)rows;
	f->edges = util_xmalloc((rows ? (size_t)rows : 1) * sizeof(*f->edges));
	for (int r = 0; r < rows; r++) {
		cat_edge *e = &f->edges[r];
		e->cs = util_strndup(PQgetvalue(res, r, 0), strlen(PQgetvalue(res, r, 0)));
		e->ct = util_strndup(PQgetvalue(res, r, 1), strlen(PQgetvalue(res, r, 1)));
		e->ps = PQgetisnull(res, r, 2) ? NULL : util_strndup(PQgetvalue(res, r, 2), strlen(PQgetvalue(res, r, 2)));
		e->pt = PQgetisnull(res, r, 3) ? NULL : util_strndup(PQgetvalue(res, r, 3), strlen(PQgetvalue(res, r, 3)));
		e->u = PQgetisnull(res, r, 4) ? NULL : util_strndup(PQgetvalue(res, r, 4), strlen(PQgetvalue(res, r, 4)));
		e->r = PQgetisnull(res, r, 5) ? NULL : util_strndup(PQgetvalue(res, r, 5), strlen(PQgetvalue(res, r, 5)));
		const char *k = PQgetisnull(res, r, 6) ? NULL : PQgetvalue(res, r, 6);
		e->json = !k ? 0 : !strcmp(k, "json[]") ? 2 : !strcmp(k, "num") ? 3 : !strcmp(k, "txt") ? 4 : 1;
	}
	qsort(f->edges, f->n, sizeof(*f->edges), edge_cmp);
	families_put(f);
}

/* Takes ownership of f, replacing the connection's older families. */
static void families_put(cat_families *f)
{
	pthread_mutex_lock(&cache_mu);
	for (cat_families **p = &families; *p; p = &(*p)->next) {
		if ((*p)->cc_index == f->cc_index) {
			cat_families *old = *p;
			*p = old->next;
			families_free(old);
			break;
		}
	}
	f->next = families;
	families = f;
	pthread_mutex_unlock(&cache_mu);
}

/*
 * The target did not answer: the last families known are kept for another
 * CATALOG_TTL_S (a partition created meanwhile is found at the next fetch);
 * with none, they are unknown until then. Either way the next fetch waits.
 */
static void families_unanswered(int cc_index)
{
	pthread_mutex_lock(&cache_mu);
	for (cat_families *f = families; f; f = f->next) {
		if (f->cc_index == cc_index) {
			f->fetched_ns = uv_hrtime();
			pthread_mutex_unlock(&cache_mu);
			return;
		}
	}
	pthread_mutex_unlock(&cache_mu);
	cat_families *f = util_xmalloc(sizeof(*f));
	*f = (cat_families){.cc_index = cc_index, .fetched_ns = uv_hrtime(), .unknown = 1};
	f->edges = util_xmalloc(1);
	families_put(f);
}

/* Under cache_mu. */
static cat_families *families_of(int cc_index)
{
	for (cat_families *f = families; f; f = f->next)
		if (f->cc_index == cc_index)
			return f;
	return NULL;
}

int pg_catalog_families(int cc_index)
{
	pthread_mutex_lock(&cache_mu);
	cat_families *f = families_of(cc_index);
	int fresh = f && uv_hrtime() - f->fetched_ns <= (uint64_t)CATALOG_TTL_S * 1000000000u;
	pthread_mutex_unlock(&cache_mu);
	return fresh;
}

int pg_catalog_families_recent(int cc_index)
{
	pthread_mutex_lock(&cache_mu);
	cat_families *f = families_of(cc_index);
	int recent = f && uv_hrtime() - f->fetched_ns <= FAMILIES_RECHECK_NS;
	pthread_mutex_unlock(&cache_mu);
	return recent;
}

enum { FAM_PARENTS, FAM_UNIQUE, FAM_REFERENCES, FAM_JSON, FAM_NUMBER };

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The parents (FAM_PARENTS), the unique columns (FAM_UNIQUE) or the foreign
 * key pairs (FAM_REFERENCES) of schema.table, as pg_catalog_parents,
 * pg_catalog_unique and pg_catalog_references say.
 */
static int family_lookup(int cc_index, const char *schema, const char *table, int kind, char ***out, int *listed)
{
	int rc = -1;
	*listed = 0;
	*out = NULL;
	pthread_mutex_lock(&cache_mu);
	cat_families *f = families_of(cc_index);
	if (f && !f->unknown) {
		rc = 0;
		cat_edge key = {.cs = (char *)schema, .ct = (char *)table};
		size_t lo = 0, hi = f->n;
		while (lo < hi) { /* the first edge of the table */
			size_t mid = lo + (hi - lo) / 2;
			if (edge_cmp(&f->edges[mid], &key) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		*listed = lo < f->n && edge_cmp(&f->edges[lo], &key) == 0;
		size_t hi2 = lo;
		while (hi2 < f->n && edge_cmp(&f->edges[hi2], &key) == 0)
			hi2++;
		for (size_t i = lo; i < hi2; i++) {
			const cat_edge *e = &f->edges[i];
			int other = kind == FAM_PARENTS ? !e->ps || !e->pt
				    : kind == FAM_UNIQUE ? !e->u || e->r || e->json
				    : kind == FAM_REFERENCES ? !e->r
				    : kind == FAM_JSON ? e->json != 1 && e->json != 2
						       : e->json != 3 && e->json != 4;
			if (other)
				continue; /* another kind of row, or no parent */
			if (!*out)
				*out = util_xmalloc(2 * (hi2 - lo) * sizeof(**out));
			if (kind == FAM_PARENTS) {
				buf b = {0};
				buf_printf(&b, "%s.%s", e->ps, e->pt);
				(*out)[rc++] = util_strndup(b.data, b.len);
				buf_free(&b);
			} else if ((kind == FAM_JSON && e->json == 2) || e->json == 4) {
				buf b = {0};
				buf_printf(&b, e->json == 2 ? "%s[]" : "!%s", e->u);
				(*out)[rc++] = util_strndup(b.data, b.len);
				buf_free(&b);
			} else {
				(*out)[rc++] = util_strndup(e->u, strlen(e->u));
				if (kind == FAM_REFERENCES)
					(*out)[rc++] = util_strndup(e->r, strlen(e->r));
			}
		}
		if (rc > 1 && kind != FAM_REFERENCES) /* (pairs stay in the catalog's order) */
			qsort(*out, (size_t)rc, sizeof(**out), str_cmp);
	}
	pthread_mutex_unlock(&cache_mu);
	return rc;
}

int pg_catalog_parents(int cc_index, const char *schema, const char *table, char ***out, int *listed)
{
	return family_lookup(cc_index, schema, table, FAM_PARENTS, out, listed);
}

int pg_catalog_unique(int cc_index, const char *schema, const char *table, char ***out, int *listed)
{
	return family_lookup(cc_index, schema, table, FAM_UNIQUE, out, listed);
}

int pg_catalog_references(int cc_index, const char *schema, const char *table, char ***out, int *listed)
{
	return family_lookup(cc_index, schema, table, FAM_REFERENCES, out, listed);
}

int pg_catalog_json_columns(int cc_index, const char *schema, const char *table, char ***out, int *listed)
{
	return family_lookup(cc_index, schema, table, FAM_JSON, out, listed);
}

int pg_catalog_number_columns(int cc_index, const char *schema, const char *table, char ***out, int *listed)
{
	int rc = family_lookup(cc_index, schema, table, FAM_NUMBER, out, listed);
	return rc >= 0 && !*listed ? -1 : rc;
}

int pg_catalog_fetch_families(uv_loop_t *loop, const config_connection *cc, int cc_index, pg_catalog_done done,
			      void *arg)
{
	cat_work *w = util_xmalloc(sizeof(*w));
	*w = (cat_work){.cc = cc, .cc_index = cc_index, .done = done, .arg = arg, .families = 1};
	return queue(loop, w);
}

void pg_catalog_shutdown(void)
{
	pthread_mutex_lock(&pool_mu);
	while (pool) {
		cat_idle *e = pool;
		pool = e->next;
		PQfinish(e->conn);
		free(e);
	}
	pthread_mutex_unlock(&pool_mu);
	pthread_mutex_lock(&cache_mu);
	cache_clear_locked();
	while (families) {
		cat_families *f = families;
		families = f->next;
		families_free(f);
	}
	pthread_mutex_unlock(&cache_mu);
}
