/*
 * sqlclass — the kinds, command word, relations, functions and flags of each
 * statement of a SQL text, read off libpg_query's parse tree (see sqlclass.h).
 *
 * Owns nothing global: every call parses, walks and frees on its own, so it
 * is safe from any thread (libpg_query keeps its memory per thread).
 *
 * Why the JSON tree and a generic walk: libpg_query gives its tree as JSON,
 * and the policy must see *everything* a statement does, however deeply it is
 * nested (a DELETE in a CTE in a subquery in a CTE). A walker that knows only
 * the places a statement is expected to be would miss the places nobody
 * thought of, so the walk visits every node and recognises what matters by
 * shape: an object with "relname" is a RangeVar (bare RangeVar-typed fields,
 * such as InsertStmt.relation, carry no "RangeVar" wrapper), a "FuncCall" key
 * is a call, an "InsertStmt" key is a write, and so on. Only the top-level
 * statement, and the few statements that wrap another one (EXPLAIN, PREPARE,
 * COPY (query), DECLARE, CREATE TABLE AS, CREATE SCHEMA), are classified by
 * node type.
 *
 * Fail closed: this feeds allow/deny decisions, so wherever the meaning is
 * uncertain the result says more, never less. `unknown` is added for: a node
 * type not mapped here; an EXECUTE nested in another statement (CREATE TABLE
 * AS EXECUTE, EXPLAIN ANALYZE EXECUTE), whose prepared statement is not known
 * here; SET/RESET of standard_conforming_strings or client_encoding, after
 * which the server may lex later text differently from libpg_query; a parse
 * tree deeper than the walk goes; a NUL byte inside the text.
 *
 * What `read` means for a data-modifying statement: as in PostgreSQL's
 * privilege checks, an UPDATE/DELETE that looks at existing values (a WHERE,
 * a SET a = a + 1, RETURNING), a MERGE (its join condition), and an INSERT
 * with RETURNING or ON CONFLICT DO UPDATE all read; so does any statement
 * that reads some relation. A write-only role must not be an oracle for the
 * data it cannot select.
 *
 * Three ways a nested statement is met:
 *   RUN     it runs now (the statement itself, a CTE, EXPLAIN ANALYZE's
 *           statement, COPY's query, CREATE TABLE AS's query);
 *   PLAN    it is planned but never run (EXPLAIN without ANALYZE): its
 *           relations are reported read, it adds no kinds and no flags;
 *   DEFINE  it is stored to run later (a view, a rule's actions, a SQL
 *           function body): relations it would write are reported written
 *           (code that will write them is being installed), no kinds.
 *
 * Invariants:
 *  - Every statement has a non-NULL static command word.
 *  - Every object has a non-NULL name; each (schema, name) is listed once,
 *    written if any mention of it writes.
 *  - CTE names hide unqualified relations of the same name only where
 *    PostgreSQL's scoping does (later siblings, the statement body, and with
 *    RECURSIVE every sibling); the target of INSERT/UPDATE/DELETE/MERGE is
 *    never a CTE and is never hidden.
 */
#include "policy/sqlclass.h"
#include "policy/exposure.h"
#include "policy/reshape.h"
#include "policy/pgtree.h"

#include <jansson.h>
#include <libpq-fe.h>
#include <pg_query.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/util.h"

/*
 * Deeper parse trees are `unknown`. This bounds the walk's stack: measured
 * about 220 kB at the limit (gcc -O2, x86-64), far below a thread's default
 * 8 MB. Real SQL stays far below it (a nested subquery is about seven
 * levels; 140 of them fit), and jansson refuses JSON deeper than 2048 anyway.
 */
#define MAX_DEPTH 1000

/* ---- names --------------------------------------------------------------- */

static const char *const kind_names[SQLK_COUNT] = {
	"read", "write", "ddl", "dcl", "copy_in", "copy_out", "copy_program", "call",
	"procedural", "transaction", "set", "lock", "maintenance", "utility", "unknown",
};

static const char *const flag_names[SQLF_COUNT] = {
	"multi_statement", "writes_in_cte", "no_where", "explain_analyze", "prepared",
	"dangerous_function",
};

static const char *bit_name(uint32_t bit, const char *const *names, int count)
{
	if (bit == 0 || (bit & (bit - 1)) != 0)
		return NULL;
	int i = __builtin_ctz(bit);
	return i < count ? names[i] : NULL;
}

static uint32_t name_bit(const char *name, const char *const *names, int count)
{
	if (!name)
		return 0;
	for (int i = 0; i < count; i++)
		if (strcmp(name, names[i]) == 0)
			return 1u << i;
	return 0;
}

const char *sqlclass_kind_name(uint32_t kind_bit)
{
	return bit_name(kind_bit, kind_names, SQLK_COUNT);
}

const char *sqlclass_flag_name(uint32_t flag_bit)
{
	return bit_name(flag_bit, flag_names, SQLF_COUNT);
}

uint32_t sqlclass_kind_parse(const char *name)
{
	return name_bit(name, kind_names, SQLK_COUNT);
}

uint32_t sqlclass_flag_parse(const char *name)
{
	return name_bit(name, flag_names, SQLF_COUNT);
}

/* ---- the walk's state ---------------------------------------------------- */

typedef enum { RUN, PLAN, DEFINE } mode;

/* The CTEs of one WITH that are visible here: the first `visible` of `ctes`. */
typedef struct scope {
	json_t *ctes;
	size_t visible;
	const struct scope *up;
} scope;

typedef struct walk {
	mode m;
	int target;             /* RangeVars met are what the statement alters */
	const scope *sc;
	unsigned depth;
} walk;

typedef struct acc {
	sql_stmt *st;
	size_t cap_objects, cap_functions;
} acc;

static void kind(acc *a, const walk *w, uint32_t k)
{
	if (w->m == RUN)
		a->st->kinds |= k;
}

static void flag(acc *a, const walk *w, uint32_t f)
{
	if (w->m == RUN)
		a->st->flags |= f;
}

/* ---- small JSON helpers -------------------------------------------------- */


static int streq(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

static int nonempty_array(const json_t *o, const char *key)
{
	return json_array_size(json_object_get(o, key)) > 0;
}


/* Whether `key` occurs anywhere in the subtree. */
static int has_key(json_t *j, const char *key, unsigned depth)
{
	if (depth > MAX_DEPTH)
		return 1;
	if (json_is_object(j)) {
		const char *k;
		json_t *v;
		json_object_foreach(j, k, v) {
			if (strcmp(k, key) == 0 || has_key(v, key, depth + 1))
				return 1;
		}
	} else if (json_is_array(j)) {
		size_t i;
		json_t *v;
		json_array_foreach(j, i, v) {
			if (has_key(v, key, depth + 1))
				return 1;
		}
	}
	return 0;
}

/* ---- results ------------------------------------------------------------- */

static int same_schema(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void add_object(acc *a, const char *schema, const char *name, int written)
{
	sql_stmt *st = a->st;
	if (!name)
		return;
	for (size_t i = 0; i < st->n_objects; i++) {
		sql_object *o = &st->objects[i];
		if (strcmp(o->name, name) == 0 && same_schema(o->schema, schema)) {
			o->written |= written;
			return;
		}
	}
	if (st->n_objects == a->cap_objects) {
		a->cap_objects = a->cap_objects ? 2 * a->cap_objects : 4;
		st->objects = util_xrealloc(st->objects, a->cap_objects * sizeof(*st->objects));
	}
	sql_object *o = &st->objects[st->n_objects++];
	o->schema = schema ? util_strndup(schema, strlen(schema)) : NULL;
	o->name = util_strndup(name, strlen(name));
	o->written = written;
}

static int cte_in_scope(const scope *sc, const char *name)
{
	for (; sc; sc = sc->up) {
		for (size_t i = 0; i < sc->visible; i++) {
			json_t *cte = json_object_get(json_array_get(sc->ctes, i), "CommonTableExpr");
			if (streq(pgtree_str(cte, "ctename"), name))
				return 1;
		}
	}
	return 0;
}

/*
 * A RangeVar body. A target is what the statement writes or alters: it is
 * never hidden by a CTE name and is written unless the statement only plans.
 * Anything else is read, and reading a relation now is a read.
 */
static void add_rangevar(acc *a, const json_t *rv, const walk *w, int is_target)
{
	const char *schema = pgtree_str(rv, "schemaname");
	const char *name = pgtree_str(rv, "relname");
	if (!name)
		return;
	if (is_target) {
		add_object(a, schema, name, w->m != PLAN);
		return;
	}
	if (!schema && cte_in_scope(w->sc, name))
		return;
	add_object(a, schema, name, 0);
	kind(a, w, SQLK_READ);
}

/* A name given as a list of String nodes: "a.b.c". */
static char *join_names(const json_t *list)
{
	size_t n = json_array_size(list), len = 0;
	for (size_t i = 0; i < n; i++) {
		const char *s = pgtree_string(json_array_get(list, i));
		if (!s)
			return NULL;
		len += strlen(s) + 1;
	}
	if (len == 0)
		return NULL;
	char *out = util_xmalloc(len), *p = out;
	for (size_t i = 0; i < n; i++) {
		const char *s = pgtree_string(json_array_get(list, i));
		size_t l = strlen(s);
		if (i)
			*p++ = '.';
		memcpy(p, s, l);
		p += l;
	}
	*p = '\0';
	return out;
}

static void add_function(acc *a, const json_t *funcname)
{
	sql_stmt *st = a->st;
	char *name = join_names(funcname);
	if (!name)
		return;
	for (size_t i = 0; i < st->n_functions; i++) {
		if (strcmp(st->functions[i], name) == 0) {
			free(name);
			return;
		}
	}
	if (st->n_functions == a->cap_functions) {
		a->cap_functions = a->cap_functions ? 2 * a->cap_functions : 4;
		st->functions = util_xrealloc(st->functions, a->cap_functions * sizeof(*st->functions));
	}
	st->functions[st->n_functions++] = name;
}

/*
 * A relation named by a list of String nodes (DROP TABLE, COMMENT ON TABLE):
 * [catalog.]schema.name; with drop_last the last element is not part of it
 * (a column, or a trigger/rule/policy on the table).
 */
static void add_name_list(acc *a, const json_t *node, int drop_last, int written)
{
	const json_t *items = json_object_get(json_object_get(node, "List"), "items");
	size_t n = json_array_size(items);
	if (drop_last && n > 0)
		n--;
	if (n == 0)
		return;
	const char *name = pgtree_string(json_array_get(items, n - 1));
	const char *schema = n >= 2 ? pgtree_string(json_array_get(items, n - 2)) : NULL;
	add_object(a, schema, name, written);
}

static char *dup_str(const char *s)
{
	return util_strndup(s, strlen(s));
}

/* ---- the walk ------------------------------------------------------------ */

static void walk_node(acc *a, json_t *j, walk w);
static void walk_obj(acc *a, json_t *o, walk w, const char *skip);
static const char *classify_stmt(acc *a, const char *key, json_t *body, walk w, int top);

static int is_dml(const char *key)
{
	return strcmp(key, "InsertStmt") == 0 || strcmp(key, "UpdateStmt") == 0 ||
	       strcmp(key, "DeleteStmt") == 0 || strcmp(key, "MergeStmt") == 0;
}

/* A node type name that is a statement: "FooStmt". */
static int is_stmt_key(const char *key)
{
	size_t n = strlen(key);
	return key[0] >= 'A' && key[0] <= 'Z' && n > 4 && strcmp(key + n - 4, "Stmt") == 0;
}

/* INSERT/UPDATE/DELETE/MERGE, at the top of a statement or nested (in_cte). */
static void dml(acc *a, const char *key, json_t *body, walk w, int in_cte)
{
	const json_t *rel = json_object_get(body, "relation");
	if (json_is_object(rel))
		add_rangevar(a, rel, &w, 1);
	uint32_t k = SQLK_WRITE;
	if (nonempty_array(body, "returningList"))
		k |= SQLK_READ;
	if (strcmp(key, "MergeStmt") == 0)
		k |= SQLK_READ;
	if (strcmp(key, "UpdateStmt") == 0 || strcmp(key, "DeleteStmt") == 0) {
		if (json_object_get(body, "whereClause"))
			k |= SQLK_READ;
		else
			flag(a, &w, SQLF_NO_WHERE);
	}
	if (strcmp(key, "UpdateStmt") == 0 && has_key(json_object_get(body, "targetList"), "ColumnRef", 0))
		k |= SQLK_READ;
	if (strcmp(key, "InsertStmt") == 0 &&
	    streq(pgtree_str(json_object_get(body, "onConflictClause"), "action"), "ONCONFLICT_UPDATE"))
		k |= SQLK_READ;
	kind(a, &w, k);
	if (in_cte)
		flag(a, &w, SQLF_WRITES_IN_CTE);
	w.target = 0;
	walk_obj(a, body, w, "relation");
}

/* SELECT ... INTO: creates and fills a table. */
static void into_clause(acc *a, json_t *into, walk w)
{
	const json_t *rel = json_object_get(into, "rel");
	if (json_is_object(rel))
		add_rangevar(a, rel, &w, 1);
	kind(a, &w, SQLK_WRITE | SQLK_DDL);
	w.target = 0;
	walk_obj(a, into, w, "rel");
}

static void set_config_call(acc *a, const json_t *fc);

static void walk_key(acc *a, const char *key, json_t *v, walk w)
{
	if (strcmp(key, "FuncCall") == 0) {
		add_function(a, json_object_get(v, "funcname"));
		set_config_call(a, v);
		walk_node(a, v, w);
	} else if (strcmp(key, "SelectStmt") == 0 || strcmp(key, "TableLikeClause") == 0) {
		w.target = 0;
		walk_node(a, v, w);
	} else if (is_dml(key)) {
		w.target = 0;
		dml(a, key, v, w, 1);
	} else if (strcmp(key, "intoClause") == 0 && json_is_object(v)) {
		into_clause(a, v, w);
	} else if (strcmp(key, "lockingClause") == 0) {
		if (json_array_size(v) > 0)
			kind(a, &w, SQLK_LOCK);
		walk_node(a, v, w);
	} else if (strcmp(key, "ExecuteStmt") == 0) {
		/* the prepared statement it runs is not known here */
		kind(a, &w, SQLK_UNKNOWN);
		flag(a, &w, SQLF_PREPARED);
		walk_node(a, v, w);
	} else {
		/* A statement nowhere expected to run inside another: fail closed. */
		if (is_stmt_key(key))
			kind(a, &w, SQLK_UNKNOWN);
		walk_node(a, v, w);
	}
}

static void walk_obj(acc *a, json_t *o, walk w, const char *skip)
{
	if (!json_is_object(o))
		return;
	if (++w.depth > MAX_DEPTH) {
		a->st->kinds |= SQLK_UNKNOWN;   /* in any mode: what lies below is not seen */
		return;
	}
	if (json_is_string(json_object_get(o, "relname"))) {
		add_rangevar(a, o, &w, w.target);
		return;
	}
	/*
	 * WITH: a CTE sees the earlier siblings (all of them when RECURSIVE);
	 * the rest of the statement sees all of them.
	 */
	scope body_scope;
	json_t *with = json_object_get(o, "withClause");
	json_t *ctes = json_object_get(with, "ctes");
	int with_done = json_is_array(ctes);
	if (with_done) {
		size_t n = json_array_size(ctes);
		int recursive = json_is_true(json_object_get(with, "recursive"));
		walk cw = w;
		cw.target = 0;
		for (size_t i = 0; i < n; i++) {
			scope cs = {ctes, recursive ? n : i, w.sc};
			cw.sc = &cs;
			walk_node(a, json_array_get(ctes, i), cw);
		}
		body_scope = (scope){ctes, n, w.sc};
		w.sc = &body_scope;
	}
	const char *key;
	json_t *v;
	json_object_foreach(o, key, v) {
		if ((skip && strcmp(key, skip) == 0) || (with_done && strcmp(key, "withClause") == 0))
			continue;
		walk_key(a, key, v, w);
	}
}

static void walk_node(acc *a, json_t *j, walk w)
{
	if (json_is_object(j)) {
		walk_obj(a, j, w, NULL);
	} else if (json_is_array(j)) {
		if (++w.depth > MAX_DEPTH) {
			a->st->kinds |= SQLK_UNKNOWN;
			return;
		}
		size_t i;
		json_t *v;
		json_array_foreach(j, i, v) {
			walk_node(a, v, w);
		}
	}
}

/* A statement held by another ({"DeleteStmt": {...}}), e.g. EXPLAIN's. */
static void sub_stmt(acc *a, json_t *wrapped, walk w)
{
	if (!wrapped)
		return;
	void *it = json_object_iter(wrapped);
	if (!it || json_object_size(wrapped) != 1) {
		kind(a, &w, SQLK_UNKNOWN);
		return;
	}
	classify_stmt(a, json_object_iter_key(it), json_object_iter_value(it), w, 0);
}

/* ---- statements ---------------------------------------------------------- */

enum handler {
	H_GENERIC, H_SELECT, H_DML, H_CTAS, H_COPY, H_EXPLAIN, H_PREPARE, H_EXECUTE,
	H_DECLARE, H_SET, H_TRANSACTION, H_CALL, H_DO, H_SCHEMA, H_DROP, H_COMMENT,
	H_GRANT, H_ALTER_TABLE, H_VACUUM, H_FETCH, H_DISCARD, H_DEALLOCATE,
};

typedef struct rule {
	const char *node;
	const char *command;
	uint32_t kinds;
	unsigned target : 1;    /* its RangeVars outside queries are what it alters */
	unsigned handler : 7;
} rule;

#define DDL SQLK_DDL
#define DCL SQLK_DCL

static const rule rules[] = {
	/* queries */
	{"SelectStmt", "select", SQLK_READ, 0, H_SELECT},
	{"InsertStmt", "insert", 0, 0, H_DML},
	{"UpdateStmt", "update", 0, 0, H_DML},
	{"DeleteStmt", "delete", 0, 0, H_DML},
	{"MergeStmt", "merge", 0, 0, H_DML},
	{"CreateTableAsStmt", "create", DDL | SQLK_WRITE, 0, H_CTAS},
	{"CopyStmt", "copy", 0, 0, H_COPY},
	{"ExplainStmt", "explain", SQLK_READ, 0, H_EXPLAIN},
	{"PrepareStmt", "prepare", 0, 0, H_PREPARE},
	{"ExecuteStmt", "execute", 0, 0, H_EXECUTE},
	{"DeclareCursorStmt", "declare", SQLK_READ, 0, H_DECLARE},
	{"FetchStmt", "fetch", SQLK_READ, 0, H_FETCH},
	{"VariableShowStmt", "show", SQLK_READ, 0, H_GENERIC},
	{"RefreshMatViewStmt", "refresh", SQLK_WRITE, 1, H_GENERIC},
	/* session and transaction */
	{"VariableSetStmt", "set", 0, 0, H_SET},
	{"TransactionStmt", "begin", SQLK_TRANSACTION, 0, H_TRANSACTION},
	{"ConstraintsSetStmt", "set", SQLK_TRANSACTION, 0, H_GENERIC},
	{"CallStmt", "call", SQLK_CALL, 0, H_CALL},
	{"DoStmt", "do", SQLK_PROCEDURAL, 0, H_DO},
	{"LockStmt", "lock", SQLK_LOCK, 1, H_GENERIC},
	/* maintenance */
	{"VacuumStmt", "vacuum", SQLK_MAINTENANCE, 1, H_VACUUM},
	{"ClusterStmt", "cluster", SQLK_MAINTENANCE, 1, H_GENERIC},
	{"ReindexStmt", "reindex", SQLK_MAINTENANCE, 1, H_GENERIC},
	{"CheckPointStmt", "checkpoint", SQLK_MAINTENANCE, 1, H_GENERIC},
	/* utility */
	{"ListenStmt", "listen", SQLK_UTILITY, 0, H_GENERIC},
	{"UnlistenStmt", "unlisten", SQLK_UTILITY, 0, H_GENERIC},
	{"NotifyStmt", "notify", SQLK_UTILITY, 0, H_GENERIC},
	{"DiscardStmt", "discard", SQLK_UTILITY, 0, H_DISCARD},
	{"DeallocateStmt", "deallocate", SQLK_UTILITY, 0, H_DEALLOCATE},
	{"ClosePortalStmt", "close", SQLK_UTILITY, 0, H_GENERIC},
	/* LOAD puts a shared library into the backend: code, like DO */
	{"LoadStmt", "load", SQLK_UTILITY | SQLK_PROCEDURAL, 0, H_GENERIC},
	/* access control */
	{"GrantStmt", "grant", DCL, 1, H_GRANT},
	{"GrantRoleStmt", "grant", DCL, 1, H_GRANT},
	{"CreateRoleStmt", "create", DCL, 1, H_GENERIC},
	{"AlterRoleStmt", "alter", DCL, 1, H_GENERIC},
	{"AlterRoleSetStmt", "alter", DCL, 1, H_GENERIC},
	{"DropRoleStmt", "drop", DCL, 1, H_GENERIC},
	{"AlterDefaultPrivilegesStmt", "alter", DCL, 1, H_GENERIC},
	{"ReassignOwnedStmt", "reassign", DCL | DDL, 1, H_GENERIC},
	{"DropOwnedStmt", "drop", DCL | DDL, 1, H_GENERIC},
	{"AlterSystemStmt", "alter system", DCL | DDL, 1, H_GENERIC},
	{"AlterOwnerStmt", "alter", DDL | DCL, 1, H_GENERIC},
	{"CreatePolicyStmt", "create", DDL | DCL, 1, H_GENERIC},
	{"AlterPolicyStmt", "alter", DDL | DCL, 1, H_GENERIC},
	{"SecLabelStmt", "security label", DDL | DCL, 1, H_COMMENT},
	/* DDL */
	{"TruncateStmt", "truncate", DDL | SQLK_WRITE, 1, H_GENERIC},
	{"DropStmt", "drop", DDL, 1, H_DROP},
	{"CommentStmt", "comment", DDL, 1, H_COMMENT},
	{"AlterTableStmt", "alter", DDL, 1, H_ALTER_TABLE},
	{"CreateSchemaStmt", "create", DDL, 1, H_SCHEMA},
	{"CreateStmt", "create", DDL, 1, H_GENERIC},
	{"ViewStmt", "create", DDL, 1, H_GENERIC},
	{"IndexStmt", "create", DDL, 1, H_GENERIC},
	{"CreateSeqStmt", "create", DDL, 1, H_GENERIC},
	{"CreateFunctionStmt", "create", DDL, 1, H_GENERIC},
	{"CreateTrigStmt", "create", DDL, 1, H_GENERIC},
	{"RuleStmt", "create", DDL, 1, H_GENERIC},
	{"CreateDomainStmt", "create", DDL, 1, H_GENERIC},
	{"CreatedbStmt", "create", DDL, 1, H_GENERIC},
	{"CreatePLangStmt", "create", DDL, 1, H_GENERIC},
	{"CreateConversionStmt", "create", DDL, 1, H_GENERIC},
	{"CreateCastStmt", "create", DDL, 1, H_GENERIC},
	{"CreateOpClassStmt", "create", DDL, 1, H_GENERIC},
	{"CreateOpFamilyStmt", "create", DDL, 1, H_GENERIC},
	{"CreateTableSpaceStmt", "create", DDL, 1, H_GENERIC},
	{"CompositeTypeStmt", "create", DDL, 1, H_GENERIC},
	{"CreateEnumStmt", "create", DDL, 1, H_GENERIC},
	{"CreateRangeStmt", "create", DDL, 1, H_GENERIC},
	{"CreateFdwStmt", "create", DDL, 1, H_GENERIC},
	{"CreateForeignServerStmt", "create", DDL, 1, H_GENERIC},
	{"CreateUserMappingStmt", "create", DDL, 1, H_GENERIC},
	{"CreateForeignTableStmt", "create", DDL, 1, H_GENERIC},
	{"CreateExtensionStmt", "create", DDL, 1, H_GENERIC},
	{"CreateEventTrigStmt", "create", DDL, 1, H_GENERIC},
	{"CreateTransformStmt", "create", DDL, 1, H_GENERIC},
	{"CreateAmStmt", "create", DDL, 1, H_GENERIC},
	{"CreatePublicationStmt", "create", DDL, 1, H_GENERIC},
	{"CreateSubscriptionStmt", "create", DDL, 1, H_GENERIC},
	{"CreateStatsStmt", "create", DDL, 1, H_GENERIC},
	{"DefineStmt", "create", DDL, 1, H_GENERIC},
	{"ImportForeignSchemaStmt", "import", DDL, 1, H_GENERIC},
	{"AlterDomainStmt", "alter", DDL, 1, H_GENERIC},
	{"AlterFunctionStmt", "alter", DDL, 1, H_GENERIC},
	{"AlterSeqStmt", "alter", DDL, 1, H_GENERIC},
	{"AlterDatabaseStmt", "alter", DDL, 1, H_GENERIC},
	{"AlterDatabaseRefreshCollStmt", "alter", DDL, 1, H_GENERIC},
	{"AlterDatabaseSetStmt", "alter", DDL, 1, H_GENERIC},
	{"AlterOpFamilyStmt", "alter", DDL, 1, H_GENERIC},
	{"AlterObjectDependsStmt", "alter", DDL, 1, H_GENERIC},
	{"AlterObjectSchemaStmt", "alter", DDL, 1, H_GENERIC},
	{"AlterOperatorStmt", "alter", DDL, 1, H_GENERIC},
	{"AlterTypeStmt", "alter", DDL, 1, H_GENERIC},
	{"AlterEnumStmt", "alter", DDL, 1, H_GENERIC},
	{"AlterTSDictionaryStmt", "alter", DDL, 1, H_GENERIC},
	{"AlterTSConfigurationStmt", "alter", DDL, 1, H_GENERIC},
	{"AlterFdwStmt", "alter", DDL, 1, H_GENERIC},
	{"AlterForeignServerStmt", "alter", DDL, 1, H_GENERIC},
	{"AlterUserMappingStmt", "alter", DDL, 1, H_GENERIC},
	{"AlterTableSpaceOptionsStmt", "alter", DDL, 1, H_GENERIC},
	{"AlterTableMoveAllStmt", "alter", DDL, 1, H_GENERIC},
	{"AlterExtensionStmt", "alter", DDL, 1, H_GENERIC},
	{"AlterExtensionContentsStmt", "alter", DDL, 1, H_GENERIC},
	{"AlterEventTrigStmt", "alter", DDL, 1, H_GENERIC},
	{"AlterPublicationStmt", "alter", DDL, 1, H_GENERIC},
	{"AlterSubscriptionStmt", "alter", DDL, 1, H_GENERIC},
	{"AlterCollationStmt", "alter", DDL, 1, H_GENERIC},
	{"AlterStatsStmt", "alter", DDL, 1, H_GENERIC},
	{"ReplicaIdentityStmt", "alter", DDL, 1, H_GENERIC},
	{"RenameStmt", "alter", DDL, 1, H_GENERIC},
	{"DropdbStmt", "drop", DDL, 1, H_GENERIC},
	{"DropTableSpaceStmt", "drop", DDL, 1, H_GENERIC},
	{"DropUserMappingStmt", "drop", DDL, 1, H_GENERIC},
	{"DropSubscriptionStmt", "drop", DDL, 1, H_GENERIC},
};

/* Everything not above (ReturnStmt, PLAssignStmt, node types of a later parser). */
static const rule unknown_rule = {"", "unknown", SQLK_UNKNOWN, 1, H_GENERIC};

static const rule *find_rule(const char *node)
{
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (strcmp(rules[i].node, node) == 0)
			return &rules[i];
	return &unknown_rule;
}

/*
 * EXPLAIN's ANALYZE option: on unless its value is one PostgreSQL reads as
 * false. A value it would reject counts as on; the statement then fails on
 * the server, and nothing here under-reports.
 */
static int option_true(const json_t *defelem)
{
	const json_t *arg = json_object_get(defelem, "arg");
	if (!arg)
		return 1;
	const char *s = pgtree_string(arg);
	if (s) {
		size_t n = strlen(s);
		if (n == 0)
			return 1;
		if (strncasecmp(s, "false", n) == 0 || strncasecmp(s, "no", n) == 0 ||
		    (n >= 2 && strncasecmp(s, "off", n) == 0) || strcmp(s, "0") == 0)
			return 0;
		return 1;
	}
	const json_t *i = json_object_get(arg, "Integer");
	if (json_is_object(i))
		return json_integer_value(json_object_get(i, "ival")) != 0;
	const json_t *b = json_object_get(arg, "Boolean");
	if (json_is_object(b))
		return json_is_true(json_object_get(b, "boolval"));
	return 1;
}

static int explain_analyze(const json_t *body)
{
	const json_t *opts = json_object_get(body, "options");
	int on = 0;
	for (size_t i = 0; i < json_array_size(opts); i++) {
		const json_t *d = json_object_get(json_array_get(opts, i), "DefElem");
		if (streq(pgtree_str(d, "defname"), "analyze") && option_true(d))
			on = 1;
	}
	return on;
}

/* One search_path element: an A_Const as PostgreSQL flattens it. */
static char *const_text(const json_t *arg)
{
	const json_t *c = json_object_get(arg, "A_Const");
	if (!json_is_object(c))
		return NULL;
	const json_t *v;
	if ((v = json_object_get(c, "sval")))
		return dup_str(pgtree_str(v, "sval") ? pgtree_str(v, "sval") : "");
	if ((v = json_object_get(c, "fval")))
		return dup_str(pgtree_str(v, "fval") ? pgtree_str(v, "fval") : "0");
	if ((v = json_object_get(c, "ival"))) {
		char num[32];
		snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(json_object_get(v, "ival")));
		return dup_str(num);
	}
	if ((v = json_object_get(c, "boolval")))
		return dup_str(json_is_true(json_object_get(v, "boolval")) ? "true" : "false");
	return NULL;
}

int sqlclass_encoding_utf8(const char *v)
{
	char n[16];
	size_t k = 0;
	for (; *v && k + 1 < sizeof(n); v++)
		if (isalnum((unsigned char)*v))
			n[k++] = (char)tolower((unsigned char)*v);
	n[k] = '\0';
	return !*v && (!strcmp(n, "utf8") || !strcmp(n, "unicode"));
}

/*
 * The schemas of search_path's text v ("a, \"B\", $user": a list of
 * identifiers, unquoted ones folded to lower case), appended to
 * st->search_path; a value not read so (an empty element, an unclosed quote)
 * makes the path unknown.
 */
static void path_schemas(sql_stmt *st, const char *v)
{
	for (const char *p = v;;) {
		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
			p++;
		buf id = {0};
		if (*p == '"') {
			for (p++; *p && !(*p == '"' && p[1] != '"'); p++) {
				if (*p == '"')
					p++; /* "" */
				buf_append(&id, p, 1);
			}
			if (*p != '"') {
				st->search_path_unknown = 1;
				buf_free(&id);
				return;
			}
			p++;
		} else {
			for (; *p && *p != ',' && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r'; p++) {
				char c = (char)tolower((unsigned char)*p);
				buf_append(&id, &c, 1);
			}
		}
		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
			p++;
		if (!id.len || (*p && *p != ',')) {
			if (id.len || *p || st->n_search_path) /* ('' is an empty path) */
				st->search_path_unknown = 1;
			buf_free(&id);
			return;
		}
		buf_append(&id, "", 1);
		st->search_path = util_xrealloc(st->search_path, (st->n_search_path + 1) * sizeof(*st->search_path));
		st->search_path[st->n_search_path++] = id.data;
		if (!*p)
			return;
		p++;
	}
}

/*
 * set_config(name, value, is_local): a statement calling it is classified by
 * its arguments (never cached by normalized text), and may leave UTF-8 when
 * the name is client_encoding or not a constant, unless the value is a
 * constant that is UTF8 or names no encoding (pg_dump's set_config(name,
 * 'view, foreign-table', false) from pg_settings).
 */
static void set_config_call(acc *a, const json_t *fc)
{
	const char *fn = NULL;
	const json_t *names = json_object_get(fc, "funcname");
	size_t nn = json_array_size(names);
	if (nn)
		fn = pgtree_string(json_array_get(names, nn - 1));
	if (!fn || strcasecmp(fn, "set_config") != 0)
		return;
	const json_t *args = json_object_get(fc, "args");
	char *name = const_text(json_array_get(args, 0)), *value = const_text(json_array_get(args, 1));
	a->st->sets_lexing = 1;
	if (!name || strcasecmp(name, "search_path") == 0) {
		/* (a name not a constant may be search_path: pg_dump's set_config(name,
		 * 'view, foreign-table', false) from pg_settings is read as a path) */
		if (value)
			path_schemas(a->st, value);
		else
			a->st->search_path_unknown = 1;
	}
	if ((!name || strcasecmp(name, "client_encoding") == 0) &&
	    !(value && (sqlclass_encoding_utf8(value) || pg_char_to_encoding(value) < 0)))
		a->st->leaves_utf8 = 1;
	free(name);
	free(value);
}

/* COPY's ENCODING option: its rows in that encoding, whatever the session's
 * (classified by its value, so never cached by normalized text). */
static void copy_encoding(acc *a, const json_t *options)
{
	for (size_t i = 0; i < json_array_size(options); i++) {
		const json_t *d = json_object_get(json_array_get(options, i), "DefElem");
		const char *name = pgtree_str(d, "defname");
		if (!name || strcasecmp(name, "encoding") != 0)
			continue;
		const char *v = pgtree_string(json_object_get(d, "arg"));
		a->st->sets_lexing = 1;
		if (!v || !sqlclass_encoding_utf8(v))
			a->st->leaves_utf8 = 1;
	}
}

static const char *set_stmt(acc *a, json_t *body, walk w, int top)
{
	const char *vkind = pgtree_str(body, "kind");
	const char *name = pgtree_str(body, "name");
	const char *cmd = streq(vkind, "VAR_RESET") || streq(vkind, "VAR_RESET_ALL") ? "reset" : "set";
	if (streq(vkind, "VAR_SET_MULTI")) {
		/* SET TRANSACTION ..., SET SESSION CHARACTERISTICS AS TRANSACTION ... */
		kind(a, &w, SQLK_TRANSACTION);
		return cmd;
	}
	if (streq(vkind, "VAR_RESET_ALL")) {
		/* resets every parameter, search_path among them (client_encoding to
		 * the one the session started with: the PostgreSQL adapter refuses
		 * masked requests of a session started in another than UTF8) */
		kind(a, &w, SQLK_DCL | SQLK_SET);
		if (top)
			a->st->sets_search_path = 1;
		return cmd;
	}
	/* GUC names are case-insensitive: SET "Role" = x is SET ROLE x */
	if (name && (strcasecmp(name, "role") == 0 || strcasecmp(name, "session_authorization") == 0)) {
		kind(a, &w, SQLK_DCL);
		return cmd;
	}
	/*
	 * These change how the server lexes the text that follows it (a backslash
	 * in '...' when standard_conforming_strings is off; a multibyte client
	 * encoding whose second bytes include ' and \), while libpg_query always
	 * lexes as standard_conforming_strings = on over ASCII-compatible bytes:
	 * after a value other than those, what is classified here may not be what
	 * runs, so it is unknown. The statement is marked so the policy never
	 * answers it from its cache (normalization hides the value). RESET and
	 * DEFAULT go back to the server's or the startup value: the PostgreSQL
	 * adapter watches the ParameterStatus the server reports for those.
	 */
	if (name && (strcasecmp(name, "standard_conforming_strings") == 0 ||
		     strcasecmp(name, "client_encoding") == 0)) {
		int safe = !streq(vkind, "VAR_SET_VALUE");
		const json_t *args = json_object_get(body, "args");
		int utf8 = 0;
		if (!safe && json_array_size(args) == 1) {
			char *v = const_text(json_array_get(args, 0));
			safe = v && (strcasecmp(name, "client_encoding") == 0 ? sqlclass_encoding_safe(v)
									      : sqlclass_bool_on(v));
			utf8 = v && sqlclass_encoding_utf8(v);
			free(v);
		}
		/* (RESET and DEFAULT: back to the start-up value, see RESET ALL) */
		if (strcasecmp(name, "client_encoding") == 0 && !utf8 && streq(vkind, "VAR_SET_VALUE"))
			a->st->leaves_utf8 = 1;
		if (top)
			a->st->sets_lexing = 1;
		kind(a, &w, safe ? SQLK_SET : SQLK_SET | SQLK_UNKNOWN);
		return cmd;
	}
	kind(a, &w, SQLK_SET);
	if (!top || !name || strcasecmp(name, "search_path") != 0)
		return cmd;
	sql_stmt *st = a->st;
	st->sets_search_path = 1;
	if (!streq(vkind, "VAR_SET_VALUE"))
		return cmd;     /* DEFAULT, RESET, FROM CURRENT: no list of its own */
	const json_t *args = json_object_get(body, "args");
	size_t n = json_array_size(args);
	if (n == 0)
		return cmd;
	st->search_path = util_xmalloc(n * sizeof(*st->search_path));
	for (size_t i = 0; i < n; i++) {
		char *s = const_text(json_array_get(args, i));
		if (!s) {
			/* the grammar allows only constants here; anything else is not understood */
			kind(a, &w, SQLK_UNKNOWN);
			continue;
		}
		st->search_path[st->n_search_path++] = s;
	}
	return cmd;
}

static const char *transaction_stmt(acc *a, const json_t *body, int top)
{
	static const struct {
		const char *kind, *command;
		int ends;
	} tx[] = {
		{"TRANS_STMT_BEGIN", "begin", 0},
		{"TRANS_STMT_START", "begin", 0},
		{"TRANS_STMT_COMMIT", "commit", 1},
		{"TRANS_STMT_ROLLBACK", "rollback", 1},
		{"TRANS_STMT_SAVEPOINT", "savepoint", 0},
		{"TRANS_STMT_RELEASE", "release", 0},
		{"TRANS_STMT_ROLLBACK_TO", "rollback to savepoint", 0},
		{"TRANS_STMT_PREPARE", "prepare transaction", 1},
		{"TRANS_STMT_COMMIT_PREPARED", "commit prepared", 0},
		{"TRANS_STMT_ROLLBACK_PREPARED", "rollback prepared", 0},
	};
	const char *k = pgtree_str(body, "kind");
	for (size_t i = 0; i < sizeof(tx) / sizeof(tx[0]); i++) {
		if (streq(k, tx[i].kind)) {
			if (top)
				a->st->tx_end = tx[i].ends;
			return tx[i].command;
		}
	}
	a->st->kinds |= SQLK_UNKNOWN;
	return "unknown";
}

static int drop_is_relation(const char *t)
{
	static const char *const rel[] = {
		"OBJECT_TABLE", "OBJECT_VIEW", "OBJECT_MATVIEW", "OBJECT_SEQUENCE",
		"OBJECT_FOREIGN_TABLE", "OBJECT_INDEX",
	};
	for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++)
		if (streq(t, rel[i]))
			return 1;
	return 0;
}

/* Objects that live on a table: naming them names the table, then them. */
static int drop_is_on_table(const char *t)
{
	return streq(t, "OBJECT_TRIGGER") || streq(t, "OBJECT_RULE") || streq(t, "OBJECT_POLICY") ||
	       streq(t, "OBJECT_COLUMN") || streq(t, "OBJECT_TABCONSTRAINT");
}

static void named_relations(acc *a, const char *objtype, const json_t *node, const walk *w)
{
	if (drop_is_relation(objtype))
		add_name_list(a, node, 0, w->m != PLAN);
	else if (drop_is_on_table(objtype))
		add_name_list(a, node, 1, w->m != PLAN);
}

/*
 * CREATE SCHEMA s CREATE TABLE t ...: PostgreSQL puts the objects created by
 * the elements into s (transformCreateSchemaStmt), so they are named s.t.
 */
static void schema_elements(acc *a, json_t *body, walk w)
{
	const char *schema = pgtree_str(body, "schemaname");
	const json_t *auth = json_object_get(body, "authrole");
	if (!schema && streq(pgtree_str(auth, "roletype"), "ROLESPEC_CSTRING"))
		schema = pgtree_str(auth, "rolename");
	static const struct {
		const char *node, *field;
	} created[] = {
		{"CreateStmt", "relation"}, {"ViewStmt", "view"}, {"IndexStmt", "relation"},
		{"CreateTrigStmt", "relation"}, {"CreateSeqStmt", "sequence"},
	};
	json_t *elts = json_object_get(body, "schemaElts");
	for (size_t i = 0; i < json_array_size(elts); i++) {
		json_t *elt = json_array_get(elts, i);
		void *it = json_object_iter(elt);
		for (size_t c = 0; schema && it && c < sizeof(created) / sizeof(created[0]); c++) {
			if (strcmp(json_object_iter_key(it), created[c].node) != 0)
				continue;
			json_t *rv = json_object_get(json_object_iter_value(it), created[c].field);
			if (json_is_object(rv) && !json_object_get(rv, "schemaname"))
				json_object_set_new(rv, "schemaname", json_string(schema));
		}
		sub_stmt(a, elt, w);
	}
}

static int alter_table_dcl(const json_t *body)
{
	static const char *const dcl[] = {
		"AT_ChangeOwner", "AT_EnableRowSecurity", "AT_DisableRowSecurity",
		"AT_ForceRowSecurity", "AT_NoForceRowSecurity",
	};
	const json_t *cmds = json_object_get(body, "cmds");
	for (size_t i = 0; i < json_array_size(cmds); i++) {
		const char *sub = pgtree_str(json_object_get(json_array_get(cmds, i), "AlterTableCmd"), "subtype");
		for (size_t k = 0; k < sizeof(dcl) / sizeof(dcl[0]); k++)
			if (streq(sub, dcl[k]))
				return 1;
	}
	return 0;
}

/*
 * Classifies one statement node into a->st; returns its command word. top: the
 * statement of the text itself, not one held by another (only a top statement
 * names prepared statements or ends a transaction).
 */
static const char *classify_stmt(acc *a, const char *key, json_t *body, walk w, int top)
{
	const rule *r = find_rule(key);
	const char *cmd = r->command;
	sql_stmt *st = a->st;
	kind(a, &w, r->kinds);
	w.target = r->target;
	/* what a DDL statement holds (a view's query, a function body) is stored, not run */
	walk inner = w;
	if ((r->kinds & (SQLK_DDL | SQLK_DCL)) && w.m == RUN)
		inner.m = DEFINE;

	switch ((enum handler)r->handler) {
	case H_SELECT:
		walk_obj(a, body, w, NULL);
		break;
	case H_DML:
		dml(a, key, body, w, 0);
		break;
	case H_CTAS: {
		/* the query runs now (even WITH NO DATA, to be safe) and fills the new table */
		const json_t *rel = json_object_get(json_object_get(body, "into"), "rel");
		if (json_is_object(rel))
			add_rangevar(a, rel, &w, 1);
		w.target = 0;
		sub_stmt(a, json_object_get(body, "query"), w);
		break;
	}
	case H_COPY: {
		const json_t *rel = json_object_get(body, "relation");
		int from = json_is_true(json_object_get(body, "is_from"));
		kind(a, &w, from ? SQLK_COPY_IN | SQLK_WRITE : SQLK_COPY_OUT | SQLK_READ);
		if (json_is_true(json_object_get(body, "is_program")))
			kind(a, &w, SQLK_COPY_PROGRAM);
		if (json_is_object(rel))
			add_rangevar(a, rel, &w, from);
		w.target = 0;
		sub_stmt(a, json_object_get(body, "query"), w);
		walk_node(a, json_object_get(body, "whereClause"), w);
		copy_encoding(a, json_object_get(body, "options"));
		break;
	}
	case H_EXPLAIN: {
		walk q = w;
		if (explain_analyze(body))
			flag(a, &w, SQLF_EXPLAIN_ANALYZE);
		else if (q.m == RUN)
			q.m = PLAN;
		sub_stmt(a, json_object_get(body, "query"), q);
		break;
	}
	case H_PREPARE: {
		if (top)
			st->prepare_name = dup_str(pgtree_str(body, "name") ? pgtree_str(body, "name") : "");
		flag(a, &w, SQLF_PREPARED);
		json_t *q = json_object_get(body, "query");
		void *qi = q ? json_object_iter(q) : NULL;
		if (top && qi)
			st->inner_command = find_rule(json_object_iter_key(qi))->command;
		sub_stmt(a, q, w);
		break;
	}
	case H_EXECUTE:
		if (!top) {
			kind(a, &w, SQLK_UNKNOWN);
		} else {
			st->execute_name = dup_str(pgtree_str(body, "name") ? pgtree_str(body, "name") : "");
		}
		flag(a, &w, SQLF_PREPARED);
		walk_obj(a, body, w, NULL);
		break;
	case H_DECLARE:
		sub_stmt(a, json_object_get(body, "query"), w);
		break;
	case H_SET:
		cmd = set_stmt(a, body, w, top);
		break;
	case H_TRANSACTION:
		cmd = transaction_stmt(a, body, top);
		break;
	case H_CALL: {
		json_t *fc = json_object_get(body, "funccall");
		add_function(a, json_object_get(fc, "funcname"));
		walk_obj(a, fc, w, NULL);
		break;
	}
	case H_DO:
		break;      /* the body is opaque text in some language */
	case H_SCHEMA:
		schema_elements(a, body, w);
		break;
	case H_DROP: {
		const char *t = pgtree_str(body, "removeType");
		json_t *objs = json_object_get(body, "objects");
		if (streq(t, "OBJECT_POLICY"))
			kind(a, &w, SQLK_DCL);
		for (size_t i = 0; i < json_array_size(objs); i++)
			named_relations(a, t, json_array_get(objs, i), &w);
		walk_obj(a, body, inner, "objects");
		break;
	}
	case H_COMMENT:
		named_relations(a, pgtree_str(body, "objtype"), json_object_get(body, "object"), &w);
		walk_obj(a, body, inner, "object");
		break;
	case H_GRANT:
		if (!json_is_true(json_object_get(body, "is_grant")))
			cmd = "revoke";
		walk_obj(a, body, inner, NULL);
		break;
	case H_ALTER_TABLE:
		if (alter_table_dcl(body))
			kind(a, &w, SQLK_DCL);
		walk_obj(a, body, inner, NULL);
		break;
	case H_VACUUM:
		if (!json_is_true(json_object_get(body, "is_vacuumcmd")))
			cmd = "analyze";
		walk_obj(a, body, inner, NULL);
		break;
	case H_FETCH:
		if (json_is_true(json_object_get(body, "ismove")))
			cmd = "move";
		break;
	case H_DISCARD:
		/* DISCARD ALL = RESET ALL + SET SESSION AUTHORIZATION DEFAULT + DEALLOCATE ALL + ... */
		if (streq(pgtree_str(body, "target"), "DISCARD_ALL")) {
			kind(a, &w, SQLK_DCL | SQLK_SET);
			if (top) {
				st->deallocate_name = dup_str("");
				st->sets_search_path = 1;
			}
		}
		break;
	case H_DEALLOCATE:
		if (top)
			st->deallocate_name = dup_str(pgtree_str(body, "name") ? pgtree_str(body, "name") : "");
		break;
	case H_GENERIC:
	default:
		walk_obj(a, body, inner, NULL);
		break;
	}
	return cmd;
}

/* Command words given outside the rules table (the handlers pick them). */
static const char *const other_commands[] = {
	"revoke", "reset", "analyze", "move", "commit", "rollback", "savepoint", "release",
	"rollback to savepoint", "prepare transaction", "commit prepared", "rollback prepared",
	"unknown",
};

int sqlclass_encoding_safe(const char *encoding)
{
	/* PostgreSQL's own matching: case-insensitive, non-alphanumerics ignored */
	static const char *const safe[] = {
		"utf8", "unicode", "sqlascii", "latin1", "latin2", "latin3", "latin4", "latin5", "latin6",
		"latin7", "latin8", "latin9", "latin10", "iso88591", "iso88592", "iso88593", "iso88594",
		"iso88595", "iso88596", "iso88597", "iso88598", "iso88599", "iso885910", "iso885913",
		"iso885914", "iso885915", "iso885916", "win866", "win874", "win1250", "win1251",
		"win1252", "win1253", "win1254", "win1255", "win1256", "win1257", "win1258",
		"windows866", "windows874", "windows1250", "windows1251", "windows1252", "windows1253",
		"windows1254", "windows1255", "windows1256", "windows1257", "windows1258", "koi8",
		"koi8r", "koi8u", "eucjp", "euccn", "euckr", "euctw", "eucjis2004", "muleinternal",
		"alt", "tcvn", "tcvn5712", "vscii", "abc", "cp866", "cp874", "cp1250", "cp1251",
		"cp1252", "cp1253", "cp1254", "cp1255", "cp1256", "cp1257", "cp1258",
	};
	char norm[40];
	size_t n = 0;
	for (const char *p = encoding; *p; p++) {
		if (n + 1 >= sizeof(norm))
			return 0;
		unsigned char ch = (unsigned char)*p;
		if (ch >= 'A' && ch <= 'Z')
			norm[n++] = (char)(ch - 'A' + 'a');
		else if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9'))
			norm[n++] = (char)ch;
	}
	norm[n] = '\0';
	for (size_t i = 0; i < sizeof(safe) / sizeof(safe[0]); i++)
		if (strcmp(norm, safe[i]) == 0)
			return 1;
	return 0;
}

int sqlclass_bool_on(const char *value)
{
	/* PostgreSQL's parse_bool: unique prefixes of on/true/yes, and 1 */
	static const char *const on[] = { "on", "true", "yes", "1", "tru", "tr", "t", "ye", "y" };
	for (size_t i = 0; i < sizeof(on) / sizeof(on[0]); i++)
		if (strcasecmp(value, on[i]) == 0)
			return 1;
	return 0;
}

int sqlclass_command_known(const char *name)
{
	if (!name)
		return 0;
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (strcmp(rules[i].command, name) == 0)
			return 1;
	for (size_t i = 0; i < sizeof(other_commands) / sizeof(other_commands[0]); i++)
		if (strcmp(other_commands[i], name) == 0)
			return 1;
	return 0;
}

/* ---- entry points -------------------------------------------------------- */

static void set_unknown(sql_class *c, const char *error)
{
	c->stmts = util_xmalloc(sizeof(*c->stmts));
	memset(c->stmts, 0, sizeof(*c->stmts));
	c->n = 1;
	c->stmts[0].kinds = SQLK_UNKNOWN;
	c->stmts[0].command = "unknown";
	c->stmts[0].unparsed = 1;
	c->kinds = SQLK_UNKNOWN;
	c->error = dup_str(error ? error : "unknown parse error");
}

static int int_at(const json_t *o, const char *key)
{
	json_int_t v = json_integer_value(json_object_get(o, key));
	return v < 0 || v > 0x7fffffff ? 0 : (int)v;
}

static void classify_tree(sql_class *c, json_t *root)
{
	json_t *stmts = json_object_get(root, "stmts");
	size_t n = json_array_size(stmts);
	if (n == 0)
		return;
	c->stmts = util_xmalloc(n * sizeof(*c->stmts));
	memset(c->stmts, 0, n * sizeof(*c->stmts));
	c->n = n;
	for (size_t i = 0; i < n; i++) {
		json_t *raw = json_array_get(stmts, i);
		sql_stmt *st = &c->stmts[i];
		st->location = int_at(raw, "stmt_location");
		st->length = int_at(raw, "stmt_len");
		acc a = {.st = st};
		walk w = {.m = RUN};
		json_t *node = json_object_get(raw, "stmt");
		void *it = json_object_iter(node);
		if (!it || json_object_size(node) != 1) {
			st->kinds = SQLK_UNKNOWN;
			st->command = "unknown";
		} else {
			st->command = classify_stmt(&a, json_object_iter_key(it), json_object_iter_value(it), w, 1);
			exposure_of(json_object_iter_key(it), json_object_iter_value(it), st);
			reshape_of(json_object_iter_key(it), json_object_iter_value(it), st);
		}
		if (n > 1)
			st->flags |= SQLF_MULTI_STATEMENT;
		c->kinds |= st->kinds;
		c->flags |= st->flags;
	}
}

sql_class *sqlclass_classify(const char *text, size_t len)
{
	sql_class *c = util_xmalloc(sizeof(*c));
	memset(c, 0, sizeof(*c));
	if (!text)
		len = 0;
	/* A trailing terminator counted in len is harmless; a NUL inside is not SQL. */
	while (len > 0 && text[len - 1] == '\0')
		len--;
	if (len > 0 && memchr(text, '\0', len)) {
		set_unknown(c, "NUL byte inside the SQL text");
		return c;
	}
	char *z = util_strndup(len ? text : "", len);
	PgQueryParseResult r = pg_query_parse(z);
	free(z);
	if (r.error) {
		set_unknown(c, r.error->message);
	} else {
		json_error_t jerr;
		json_t *root = json_loads(r.parse_tree ? r.parse_tree : "", 0, &jerr);
		if (!root) {
			char msg[256];
			snprintf(msg, sizeof(msg), "parse tree not readable: %s", jerr.text);
			set_unknown(c, msg);
		} else {
			classify_tree(c, root);
			json_decref(root);
		}
	}
	pg_query_free_parse_result(r);
	return c;
}

static const char *jstr(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static char *jdup(json_t *o, const char *k)
{
	const char *s = jstr(o, k);
	return s ? util_strndup(s, strlen(s)) : NULL;
}

/* One CopyStmt cs: 0 and out filled when it is a COPY ... TO STDOUT. */
static int copy_out_of(const json_t *cs, sql_copy_out *out)
{
	memset(out, 0, sizeof(*out));
	if (!cs || json_is_true(json_object_get(cs, "is_from")) || json_object_get(cs, "filename") ||
	    json_is_true(json_object_get(cs, "is_program")))
		return -1;
	json_t *rel = json_object_get(cs, "relation");
	if (rel) {
		out->schema = jdup(rel, "schemaname");
		out->table = jdup(rel, "relname");
	}
	json_t *cols = json_object_get(cs, "attlist");
	if (json_array_size(cols)) {
		out->columns = util_xmalloc(json_array_size(cols) * sizeof(char *));
		size_t i;
		json_t *c;
		json_array_foreach(cols, i, c) {
			const char *s = jstr(json_object_get(c, "String"), "sval");
			out->columns[out->n_columns++] = util_strndup(s ? s : "", s ? strlen(s) : 0);
		}
	}
	const char *delim = NULL, *quote = NULL, *escape = NULL;
	size_t i;
	json_t *o;
	json_array_foreach(json_object_get(cs, "options"), i, o) {
		json_t *d = json_object_get(o, "DefElem");
		const char *name = jstr(d, "defname");
		const char *val = jstr(json_object_get(json_object_get(d, "arg"), "String"), "sval");
		if (!name)
			continue;
		if (strcmp(name, "format") == 0 && val) {
			out->csv = strcasecmp(val, "csv") == 0;
			out->binary = strcasecmp(val, "binary") == 0;
		} else if (strcmp(name, "delimiter") == 0) {
			delim = val;
		} else if (strcmp(name, "quote") == 0) {
			quote = val;
		} else if (strcmp(name, "escape") == 0) {
			escape = val;
		} else if (strcmp(name, "header") == 0) {
			/* HEADER, HEADER true|on|1|match; false|off|0 */
			json_t *arg = json_object_get(d, "arg");
			json_t *b = json_object_get(arg, "Boolean"), *iv = json_object_get(arg, "Integer");
			out->header = 1;
			if (b)
				out->header = json_is_true(json_object_get(b, "boolval"));
			else if (iv)
				out->header = json_integer_value(json_object_get(iv, "ival")) != 0;
			else if (val)
				out->header = strcasecmp(val, "false") != 0 && strcasecmp(val, "off") != 0 &&
					      strcmp(val, "0") != 0;
		}
	}
	out->delimiter = delim && delim[0] ? delim[0] : out->csv ? ',' : '\t';
	out->quote = quote && quote[0] ? quote[0] : '"';
	out->escape = escape && escape[0] ? escape[0] : out->quote;
	return 0;
}

int sqlclass_copy_outs(const char *text, size_t len, sql_copy_out **out)
{
	*out = NULL;
	if (!text || (len && memchr(text, '\0', len)))
		return -1;
	char *z = util_strndup(text, len);
	PgQueryParseResult r = pg_query_parse(z);
	free(z);
	json_t *root = r.error ? NULL : json_loads(r.parse_tree ? r.parse_tree : "", 0, NULL);
	pg_query_free_parse_result(r);
	if (!root)
		return -1;
	json_t *stmts = json_object_get(root, "stmts");
	int n = 0;
	for (size_t i = 0; i < json_array_size(stmts); i++) {
		const json_t *cs = json_object_get(json_object_get(json_array_get(stmts, i), "stmt"), "CopyStmt");
		sql_copy_out one;
		if (copy_out_of(cs, &one) != 0)
			continue;
		*out = util_xrealloc(*out, (size_t)(n + 1) * sizeof(**out));
		(*out)[n++] = one;
	}
	json_decref(root);
	return n;
}

void sqlclass_copy_out_free(sql_copy_out *c)
{
	free(c->schema);
	free(c->table);
	for (size_t i = 0; i < c->n_columns; i++)
		free(c->columns[i]);
	free(c->columns);
	memset(c, 0, sizeof(*c));
}

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

sql_rename *sqlclass_renames_dup(const sql_rename *r, size_t n)
{
	if (!n)
		return NULL;
	sql_rename *o = util_xmalloc(n * sizeof(*o));
	for (size_t i = 0; i < n; i++)
		o[i] = (sql_rename){util_strdup_or_null(r[i].schema), util_strdup_or_null(r[i].relation),
				    util_strdup_or_null(r[i].column), util_strdup_or_null(r[i].to_schema),
				    util_strdup_or_null(r[i].to), r[i].same_schema, r[i].detaches};
	return o;
}

void sqlclass_renames_free(sql_rename *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(r[i].schema);
		free(r[i].relation);
		free(r[i].column);
		free(r[i].to_schema);
		free(r[i].to);
	}
	free(r);
}

void sqlclass_free(sql_class *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++) {
		sql_stmt *st = &c->stmts[i];
		for (size_t k = 0; k < st->n_objects; k++) {
			free(st->objects[k].schema);
			free(st->objects[k].name);
		}
		free(st->objects);
		free_strv(st->functions, st->n_functions);
		free(st->prepare_name);
		free(st->execute_name);
		free(st->deallocate_name);
		free_strv(st->search_path, st->n_search_path);
		free_strv(st->computed, st->n_computed);
		free_strv(st->json_keys, st->n_json_keys);
		free_strv(st->doc_computed, st->n_doc_computed);
		free_strv(st->doc_texted, st->n_doc_texted);
		free_strv(st->doc_stored, st->n_doc_stored);
		free_strv(st->doc_stored_from, st->n_doc_stored);
		free_strv(st->written, st->n_written);
		sqlclass_renames_free(st->renames, st->n_renames);
		free(st->reshaped);
		free(st->reshaped_by);
		free_strv(st->number_casts, st->n_number_casts);
	}
	free(c->stmts);
	free(c->error);
	free(c);
}
