/*
 * exposure — which columns a statement computes on, rather than reads as
 * themselves (see exposure.h).
 *
 * The walk goes over libpg_query's JSON parse tree. A column reference is
 * "plain" when it is the whole expression of an output column of a SELECT
 * whose rows are what the statement returns: the statement's own SELECT and
 * the subqueries in its FROM and CTEs (PostgreSQL's RowDescription names the
 * table and column a value comes from through them; not through a UNION,
 * INTERSECT or EXCEPT, whose arms count as computed). Everywhere else — an
 * expression, a WHERE, an ORDER BY, a GROUP BY, a JOIN's condition, a scalar
 * subquery, an INSERT's SELECT, a CREATE TABLE AS or VIEW, a RETURNING — the
 * value is computed on, compared or stored, and its column name is
 * "computed". The one exception: what EXISTS (SELECT ...) selects is never
 * read.
 *
 * A plain column given another name (`password AS x` in a subquery, a CTE or
 * a FROM alias list) is computed on when that name is: the names are joined
 * after the walk, by name across the whole statement (a scope finer than the
 * statement would only ever refuse less). A whole row (`select a from
 * accounts a`, `row_to_json(a)`, `a.*` or `*` inside an expression) and a
 * FROM alias list over a table (its names stand for columns in an order the
 * text does not tell), a NATURAL JOIN (it compares the columns both sides
 * have), a DISTINCT `*` and an ORDER BY, GROUP BY or DISTINCT ON position at
 * or after a `*` carry columns the text does not name: `whole`. A target
 * table's name is a whole row as a FROM's is (`update accounts ... returning
 * accounts`).
 *
 * DDL: an index's and an ALTER TABLE constraint's columns, those a
 * REFERENCES names, and a column whose type changes or that is set NOT NULL
 * are computed on (ddl_node); renames, SET SCHEMA, INHERIT
 * and ATTACH PARTITION are listed for the policy to read against the rules'
 * globs; DO, functions, procedures, triggers and rules set defines_code.
 */
#include "policy/exposure.h"

#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "policy/pgtree.h"

#define MAX_DEPTH 1000
/* Names kept per statement (the sets are searched linearly, the flows joined
 * to a fixpoint): more than a statement has in practice; past them the
 * statement counts as computing on columns it does not name (fail closed). */
#define MAX_NAMES 1024
#define MAX_FLOWS 256

typedef struct names {
	char **v;
	size_t n, cap;
	int overflow;
} names;

typedef struct flow {
	char *alias, *source;   /* an output column named alias reads column source as itself */
} flow;

typedef struct expo {
	names ranges;           /* relation names, aliases and CTE names: whole-row references */
	names computed;
	names unknown;          /* names standing for columns the text does not name */
	flow *flows;
	size_t n_flows, cap_flows;
	sql_rename *renames;
	size_t n_renames, cap_renames;
	int whole, overflow, defines_code, links_foreign, reorders;
	const char *query_function;
	names json_keys;        /* keys JSON values are read at by name */
	const char *json_any;   /* what reads JSON values at keys the text does not give */
	int json_reads;
	names written;          /* columns written */
	int writes_all;         /* every column of a relation written (no column list) */
	int writes_const;       /* a constant written (unchosen): NULL or a value */
	int altering;           /* inside ALTER TABLE: a constraint's columns are the table's existing ones */
	names doc_computed;     /* computed on other than as a JSON document (doc_read) */
	names doc_texted;       /* sent whole as text (doc_output) */
	names doc_stored, doc_stored_from; /* SET targets given a column's documents, and the columns (doc_stores) */
	struct doc_ref {
		const json_t *colref;   /* a ColumnRef node read as a JSON document (doc_mark) */
		int keyed;              /* by key or by what it is; else sent or stored as it is */
	} *docs;
	size_t n_docs, cap_docs;
	const json_t *top;      /* the statement's own SELECT, whose output columns reach the client */
} expo;

static int has(const names *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return 1;
	return 0;
}

/* Appends s (not NULL) to l; 0 when l is full. */
static int push(names *l, const char *s)
{
	if (l->n == MAX_NAMES) {
		l->overflow = 1;
		return 0;
	}
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 8;
		l->v = util_xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	l->v[l->n++] = util_strndup(s, strlen(s));
	return 1;
}

static int add(names *l, const char *s)
{
	return s && !has(l, s) && push(l, s);
}

/* A column name computed on: under column rules, and as a JSON document. */
static void computed_name(expo *e, const char *s)
{
	add(&e->computed, s);
	add(&e->doc_computed, s);
}

/* Appends the pair (to, from) to doc_stored and doc_stored_from, unless
 * there; 1 when it was not. */
static int add_stored(expo *e, const char *to, const char *from)
{
	if (!to || !from)
		return 0;
	for (size_t i = 0; i < e->doc_stored.n; i++)
		if (strcmp(e->doc_stored.v[i], to) == 0 && strcmp(e->doc_stored_from.v[i], from) == 0)
			return 0;
	return push(&e->doc_stored, to) && push(&e->doc_stored_from, from);
}

static void names_free(names *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

static void add_flow(expo *e, const char *alias, const char *source)
{
	if (!alias || !source || strcmp(alias, source) == 0)
		return;
	if (e->n_flows == MAX_FLOWS) {
		e->overflow = 1;
		return;
	}
	if (e->n_flows == e->cap_flows) {
		e->cap_flows = e->cap_flows ? 2 * e->cap_flows : 8;
		e->flows = util_xrealloc(e->flows, e->cap_flows * sizeof(*e->flows));
	}
	e->flows[e->n_flows++] = (flow){util_strndup(alias, strlen(alias)), util_strndup(source, strlen(source))};
}


/* The rename added, or NULL (nothing to rename, or too many: the statement fails closed). */
static sql_rename *add_rename(expo *e, const char *schema, const char *relation, const char *column,
			      const char *to_schema, const char *to, int same_schema)
{
	if (!to || (!relation && !schema))
		return NULL;
	if (e->n_renames == MAX_FLOWS) {
		e->overflow = 1;
		return NULL;
	}
	if (e->n_renames == e->cap_renames) {
		e->cap_renames = e->cap_renames ? 2 * e->cap_renames : 4;
		e->renames = util_xrealloc(e->renames, e->cap_renames * sizeof(*e->renames));
	}
	e->renames[e->n_renames++] = (sql_rename){util_strdup_or_null(schema), util_strdup_or_null(relation),
						  util_strdup_or_null(column), util_strdup_or_null(to_schema),
						  util_strdup_or_null(to), same_schema, 0};
	return &e->renames[e->n_renames - 1];
}

static int is_setop(const json_t *sel)
{
	const char *op = pgtree_str(sel, "op");
	return op && strcmp(op, "SETOP_NONE") != 0;
}

/* ---- names of relations ------------------------------------------------ */

static void collect_ranges(expo *e, json_t *j, unsigned depth)
{
	if (depth > MAX_DEPTH)
		return;
	if (json_is_object(j)) {
		const char *k;
		json_t *v;
		/* a relation, wrapped as RangeVar in a FROM, or bare where the
		 * grammar allows nothing else: an UPDATE's, DELETE's, INSERT's or
		 * MERGE's target (`returning accounts` is its whole row), an
		 * ALTER TABLE's or an index's table */
		if (json_is_string(json_object_get(j, "relname"))) {
			add(&e->ranges, pgtree_str(j, "relname"));
			add(&e->ranges, pgtree_str(json_object_get(j, "alias"), "aliasname"));
		}
		json_object_foreach(j, k, v) {
			/* (a function's alias in FROM names its column, when it has one) */
			if (strcmp(k, "RangeSubselect") == 0 || strcmp(k, "JoinExpr") == 0)
				add(&e->ranges, pgtree_str(json_object_get(v, "alias"), "aliasname"));
			if (strcmp(k, "CommonTableExpr") == 0)
				add(&e->ranges, pgtree_str(v, "ctename"));
			collect_ranges(e, v, depth + 1);
		}
	} else if (json_is_array(j)) {
		size_t i;
		json_t *v;
		json_array_foreach(j, i, v)
			collect_ranges(e, v, depth + 1);
	}
}

/* ---- the walk ------------------------------------------------------------ */

static void expr(expo *e, json_t *j, unsigned depth);
static void member(expo *e, const char *k, json_t *v, unsigned depth);
static void select_stmt(expo *e, json_t *sel, int plain, unsigned depth);
/* Where doc_output reads an expression: a part of an output column, the whole
 * of one (DOC_TOP), or where its value must be json or jsonb or the statement
 * fails before it reads a row (DOC_JSONB: a SET's value, an edited document). */
enum { DOC_NESTED, DOC_TOP, DOC_JSONB };
static void doc_output(expo *e, const json_t *n, unsigned depth, int mode);
static void doc_names(expo *e, const json_t *n, unsigned depth);

/* Each String of list (column names) is computed on. */
static void names_computed(expo *e, const json_t *list)
{
	for (size_t i = 0; i < json_array_size(list); i++)
		computed_name(e, pgtree_string(json_array_get(list, i)));
}

static int is_star(const json_t *fields)
{
	size_t n = json_array_size(fields);
	return n && json_object_get(json_array_get(fields, n - 1), "A_Star");
}

/* Whether output column val stands for several: `*`, `t.*`, or `(expr).*`
 * (an A_Indirection ending in a star: a composite's fields, one column each). */
static int target_star(const json_t *val)
{
	const json_t *ind = json_object_get(val, "A_Indirection");
	if (ind) {
		const json_t *l = json_object_get(ind, "indirection");
		size_t n = json_array_size(l);
		return n && json_object_get(json_array_get(l, n - 1), "A_Star");
	}
	return is_star(json_object_get(json_object_get(val, "ColumnRef"), "fields"));
}

/* Whether colref is read as a document (keyed: by key or by what it is). */
static int doc_read(const expo *e, const json_t *colref, int keyed)
{
	for (size_t i = 0; i < e->n_docs; i++)
		if (e->docs[i].colref == colref && (!keyed || e->docs[i].keyed))
			return 1;
	return 0;
}

/* A column reference computed on: its column, or a whole row. colref: the
 * ColumnRef node, when one the walk may have found read as a document. */
static void colref_computed(expo *e, const json_t *fields, const json_t *colref)
{
	size_t n = json_array_size(fields);
	if (!n)
		return;
	const json_t *last = json_array_get(fields, n - 1);
	if (json_object_get(last, "A_Star") || pgtree_field_function(fields)) {
		e->whole = 1;
		return;
	}
	const char *name = pgtree_string(last);
	if (!name)
		return;
	add(&e->computed, name);
	if (!colref || !doc_read(e, colref, 0))
		add(&e->doc_computed, name);
	if (n == 1 && has(&e->ranges, name)) /* a table's name alone (or a column named like one) */
		e->whole = 1;
}

/* An output column that is a column reference (alias: its name, or NULL). */
static void colref_plain(expo *e, const json_t *fields, const char *alias)
{
	size_t n = json_array_size(fields);
	if (!n)
		return;
	const json_t *last = json_array_get(fields, n - 1);
	if (json_object_get(last, "A_Star"))
		return; /* `*`, `a.*`: PostgreSQL sends the columns one by one */
	const char *name = pgtree_string(last);
	if (!name)
		return;
	if ((n == 1 && has(&e->ranges, name)) || pgtree_field_function(fields)) {
		/* `select a from accounts a`: the row as one value; `a.to_json`: to_json(a)
		 * (`r.r` is r's column r: no function of that name takes r's row) */
		e->whole = 1;
		return;
	}
	add_flow(e, alias, name);
}

/*
 * A FROM or CTE alias list: names[k] is output column k of sel (a SELECT),
 * or of a table (sel NULL: which column is not written here).
 */
static void alias_list(expo *e, const json_t *colnames, json_t *sel, unsigned depth)
{
	size_t n = json_array_size(colnames);
	for (size_t k = 0; k < n; k++) {
		const char *alias = pgtree_string(json_array_get(colnames, k));
		if (!alias)
			continue;
		if (!sel || depth > MAX_DEPTH) {
			add(&e->unknown, alias);
			continue;
		}
		if (is_setop(sel))
			continue; /* its arms' columns are computed on (select_stmt) */
		json_t *targets = json_object_get(sel, "targetList");
		for (size_t t = 0; t < json_array_size(targets); t++) {
			json_t *val = json_object_get(json_object_get(json_array_get(targets, t), "ResTarget"), "val");
			const json_t *fields = json_object_get(json_object_get(val, "ColumnRef"), "fields");
			size_t nf = json_array_size(fields);
			if (target_star(val)) {
				add(&e->unknown, alias); /* a star before or at k: which column is k? */
				break;
			}
			if (t == k) {
				if (nf)
					add_flow(e, alias, pgtree_string(json_array_get(fields, nf - 1)));
				break;
			}
		}
	}
}

static void from_item(expo *e, json_t *item, unsigned depth)
{
	if (depth > MAX_DEPTH)
		return;
	json_t *v;
	if ((v = json_object_get(item, "RangeVar"))) {
		alias_list(e, json_object_get(json_object_get(v, "alias"), "colnames"),
			   NULL, depth);
	} else if ((v = json_object_get(item, "RangeSubselect"))) {
		json_t *sel = json_object_get(json_object_get(v, "subquery"), "SelectStmt");
		select_stmt(e, sel, 1, depth + 1);
		alias_list(e, json_object_get(json_object_get(v, "alias"), "colnames"), sel,
			   depth);
	} else if ((v = json_object_get(item, "JoinExpr"))) {
		from_item(e, json_object_get(v, "larg"), depth + 1);
		from_item(e, json_object_get(v, "rarg"), depth + 1);
		expr(e, json_object_get(v, "quals"), depth + 1);
		if (json_is_true(json_object_get(v, "isNatural")))
			e->whole = 1; /* compares the columns the two sides share: which, the text does not say */
		names_computed(e, json_object_get(v, "usingClause")); /* compared */
		alias_list(e, json_object_get(json_object_get(v, "alias"), "colnames"), NULL,
			   depth);
	} else {
		expr(e, item, depth + 1); /* functions, table functions, samples: arguments */
	}
}

/*
 * ORDER BY, GROUP BY or DISTINCT ON an output column's position (`order by
 * 2`) sorts or groups by that column: a column reference there is computed
 * on. At or after a `*` the position's column is not in the text: whole.
 */
static void ordinals(expo *e, json_t *items, json_t *targets)
{
	for (size_t i = 0; i < json_array_size(items); i++) {
		json_t *it = json_array_get(items, i), *by = json_object_get(json_object_get(it, "SortBy"), "node");
		json_t *gs = json_object_get(it, "GroupingSet");
		if (gs) { /* GROUPING SETS, ROLLUP, CUBE: their lists' positions */
			ordinals(e, json_object_get(gs, "content"), targets);
			continue;
		}
		json_t *row = json_object_get(it, "RowExpr");
		if (row) { /* (1, 2) in a grouping set */
			ordinals(e, json_object_get(row, "args"), targets);
			continue;
		}
		json_t *ival = json_object_get(json_object_get(json_object_get(by ? by : it, "A_Const"), "ival"), "ival");
		json_int_t k = json_integer_value(ival);
		if (!json_is_integer(ival) || k < 1)
			continue;
		for (size_t t = 0; t < (size_t)k && t < json_array_size(targets); t++) {
			json_t *val = json_object_get(json_object_get(json_array_get(targets, t), "ResTarget"), "val");
			const json_t *fields = json_object_get(json_object_get(val, "ColumnRef"), "fields");
			size_t nf = json_array_size(fields);
			if (target_star(val)) {
				e->whole = 1;
				break;
			}
			if (t + 1 == (size_t)k && nf)
				computed_name(e, pgtree_string(json_array_get(fields, nf - 1)));
			else if (t + 1 == (size_t)k)
				doc_names(e, val, 0); /* (under column rules its columns are computed on already) */
		}
	}
}

/* A SELECT body. plain: its output columns are what the statement returns. */
static void select_stmt(expo *e, json_t *sel, int plain, unsigned depth)
{
	if (!json_is_object(sel) || depth > MAX_DEPTH)
		return;
	if (json_object_get(sel, "intoClause"))
		plain = 0; /* SELECT INTO: stored */
	json_t *ctes = json_object_get(json_object_get(sel, "withClause"), "ctes");
	for (size_t i = 0; i < json_array_size(ctes); i++) {
		json_t *cte = json_object_get(json_array_get(ctes, i), "CommonTableExpr");
		json_t *q = json_object_get(cte, "ctequery"), *inner = json_object_get(q, "SelectStmt");
		if (inner) {
			select_stmt(e, inner, plain, depth + 1);
			alias_list(e, json_object_get(cte, "aliascolnames"), inner, depth);
		} else {
			expr(e, q, depth + 1); /* a data-modifying WITH: stored */
		}
	}
	if (is_setop(sel)) {
		/* the rows of a UNION, INTERSECT or EXCEPT come with no column names */
		select_stmt(e, json_object_get(sel, "larg"), 0, depth + 1);
		select_stmt(e, json_object_get(sel, "rarg"), 0, depth + 1);
	}
	json_t *from = json_object_get(sel, "fromClause");
	for (size_t i = 0; i < json_array_size(from); i++)
		from_item(e, json_array_get(from, i), depth + 1);
	json_t *targets = json_object_get(sel, "targetList");
	/* plain DISTINCT compares the output columns it names, as GROUP BY would,
	 * and a star's: sorted, they come back in the order of the first one,
	 * which a subquery chooses (`select distinct * from (select password,
	 * id from accounts) s`), and a row of one's own that matches one is gone */
	json_t *d0 = json_array_get(json_object_get(sel, "distinctClause"), 0);
	int distinct = json_is_object(d0) && json_object_size(d0) == 0;
	for (size_t i = 0; i < json_array_size(targets); i++) {
		json_t *rt = json_object_get(json_array_get(targets, i), "ResTarget");
		json_t *val = json_object_get(rt, "val");
		json_t *cr = json_object_get(val, "ColumnRef");
		if (plain && cr) {
			colref_plain(e, json_object_get(cr, "fields"), pgtree_str(rt, "name"));
		} else {
			if (sel == e->top && !distinct)
				doc_output(e, val, depth + 1, DOC_TOP);
			expr(e, val, depth + 1);
		}
		if (distinct && cr)
			colref_computed(e, json_object_get(cr, "fields"), NULL);
	}
	/* filters, groupings, orderings, windows, limits, VALUES: computed on */
	static const char *const computed[] = {"whereClause", "havingClause", "groupClause", "sortClause",
					       "distinctClause", "windowClause", "limitCount", "limitOffset",
					       "valuesLists"};
	for (size_t i = 0; i < sizeof(computed) / sizeof(*computed); i++)
		expr(e, json_object_get(sel, computed[i]), depth + 1);
	ordinals(e, json_object_get(sel, "sortClause"), targets);
	ordinals(e, json_object_get(sel, "groupClause"), targets);
	ordinals(e, json_object_get(sel, "distinctClause"), targets);
}

static int exists_sublink(const json_t *sublink)
{
	const char *t = pgtree_str(sublink, "subLinkType");
	return t && strcmp(t, "EXISTS_SUBLINK") == 0;
}

static int is_relation_kind(const char *t)
{
	return t && (strcmp(t, "OBJECT_TABLE") == 0 || strcmp(t, "OBJECT_VIEW") == 0 ||
		     strcmp(t, "OBJECT_MATVIEW") == 0 || strcmp(t, "OBJECT_FOREIGN_TABLE") == 0);
}

/*
 * Functions that run SQL given as text, or read whole tables, on the server:
 * their results carry columns the statement does not name, none of them with
 * a column behind it in RowDescription (query_to_xml('select password from
 * accounts', ...) is the column in clear, as XML). The *_xmlschema ones give
 * a result's shape only, no values. Reading whole tables includes reading
 * what they are stored in: their pages (pageinspect: a heap page's tuples, a
 * B-tree's, BRIN's and GiST's keys), the changes logical decoding gives as
 * text, the WAL's block images (pg_walinspect, 16+) and their files
 * (pg_read_binary_file(pg_relation_filepath('accounts')), or lo_import then
 * lo_get): each holds every column's values as they are stored. So does
 * what other sessions run: pg_stat_get_activity and
 * pg_stat_get_backend_activity are pg_stat_activity.query (every session's
 * statement, the dba's UPDATE with its literals) without the view's column,
 * and pg_stat_statements(), the extension's view's.
 */
static const char *const query_functions[] = {
	"query_to_xml", "query_to_xml_and_xmlschema", "cursor_to_xml", "table_to_xml", "table_to_xml_and_xmlschema",
	"schema_to_xml", "schema_to_xml_and_xmlschema", "database_to_xml", "database_to_xml_and_xmlschema",
	"ts_stat", "ts_rewrite",                                            /* ts_stat('select ...') */
	"dblink", "dblink_exec", "dblink_open", "dblink_fetch", "dblink_send_query", "dblink_get_result",
	"crosstab", "crosstab2", "crosstab3", "crosstab4", "connectby",    /* tablefunc */
	"xpath_table",                                                     /* xml2: a query from its text arguments */
	"pg_logical_slot_get_changes", "pg_logical_slot_peek_changes",      /* logical decoding */
	"pg_logical_slot_get_binary_changes", "pg_logical_slot_peek_binary_changes",
	"get_raw_page", "heap_page_items", "heap_page_item_attrs", "tuple_data_split", /* pageinspect */
	"bt_page_items", "brin_page_items", "gist_page_items", "gist_page_items_bytea", "hash_page_items",
	"pg_get_wal_block_info",                                            /* pg_walinspect */
	"pg_read_file", "pg_read_binary_file", "lo_import",                 /* a table's files */
	"pg_stat_get_activity", "pg_stat_get_backend_activity", "pg_stat_statements", /* sessions' statements */
};

#define LISTED(fn, l) PGTREE_LISTED(fn, l)

/* A FuncCall's function name, without its schema. */
static const char *func_name(const json_t *call)
{
	const json_t *name = json_object_get(call, "funcname");
	return pgtree_string(json_array_get(name, json_array_size(name) - 1));
}

static void func_call(expo *e, const json_t *v)
{
	if (!e->query_function)
		e->query_function = LISTED(func_name(v), query_functions);
}

/* ---- JSON read by key (json_keys) -------------------------------------- */

/* n without the casts around it (`'a'::text`). */
static const json_t *uncast(const json_t *n)
{
	for (int i = 0; i < 64 && json_object_get(n, "TypeCast"); i++)
		n = json_object_get(json_object_get(n, "TypeCast"), "arg");
	return n;
}

/*
 * Whether a cast keeps a JSON document whole: to json or jsonb, or with
 * text set to text (as written or pg_catalog's), with no type modifier and
 * not to an array. varchar(n) and char cut a document short, and what is
 * left of it is no document json_keys can read; text keeps a document
 * whole, but inside an array, a row or a JSON value it is a string, no
 * document (to_json(profile::text)).
 */
static int doc_cast(const json_t *tc, int *text)
{
	const json_t *tn = json_object_get(tc, "typeName"), *nm = json_object_get(tn, "names");
	size_t n = json_array_size(nm);
	if (n < 1 || n > 2 || json_array_size(json_object_get(tn, "typmods")) || json_object_get(tn, "arrayBounds"))
		return 0;
	const char *sch = n == 2 ? pgtree_string(json_array_get(nm, 0)) : "pg_catalog";
	const char *t = pgtree_string(json_array_get(nm, n - 1));
	if (!sch || !t || strcmp(sch, "pg_catalog") != 0)
		return 0;
	if (text && strcmp(t, "text") == 0)
		return *text = 1;
	return strcmp(t, "json") == 0 || strcmp(t, "jsonb") == 0;
}

/* n without the casts around it that keep a document whole (doc_cast;
 * text: casts to text too, and *text set when there is one). */
static const json_t *doc_uncast(const json_t *n, int *text)
{
	for (int i = 0; i < 64; i++) {
		const json_t *tc = json_object_get(n, "TypeCast");
		if (!tc || !doc_cast(tc, text))
			break;
		n = json_object_get(tc, "arg");
	}
	return n;
}

/*
 * n is read as a JSON document — by key or by what it is (keyed), or sent
 * to the client or stored as it is, where json_keys mask its values: a
 * column reference there (under casts doc_cast allows) is not computing on
 * the document. Past MAX_NAMES such references the rest count as computed
 * on (fail closed).
 */
static void doc_mark(expo *e, const json_t *n, int keyed)
{
	int text = 0;
	const json_t *cr = json_object_get(doc_uncast(n, &text), "ColumnRef");
	if (!cr || e->n_docs == MAX_NAMES)
		return;
	if (e->n_docs == e->cap_docs) {
		e->cap_docs = e->cap_docs ? 2 * e->cap_docs : 8;
		e->docs = util_xrealloc(e->docs, e->cap_docs * sizeof(*e->docs));
	}
	e->docs[e->n_docs++] = (struct doc_ref){cr, keyed};
}

/* A FuncCall of a function named as written or as pg_catalog's. */
static int catalog_function(const json_t *call)
{
	const json_t *name = json_object_get(call, "funcname");
	size_t n = json_array_size(name);
	const char *sch = n == 2 ? pgtree_string(json_array_get(name, 0)) : NULL;
	return n == 1 || (n == 2 && sch && strcmp(sch, "pg_catalog") == 0);
}

/* Functions whose result holds their arguments' documents whole (the
 * *_build_object and *_object_agg ones: their values, not their keys). */
static const char *const doc_keeping[] = {"to_json", "to_jsonb", "json_agg", "jsonb_agg", "array_agg",
					  "json_strip_nulls", "jsonb_strip_nulls", "json_build_array",
					  "jsonb_build_array", "json_build_object", "jsonb_build_object",
					  "json_object_agg", "jsonb_object_agg"};

/* Functions returning jsonb: an operand of || that is one (or a cast to
 * jsonb) makes it jsonb's, whose result is a document, or no operator. */
static const char *const jsonb_making[] = {"to_jsonb", "jsonb_build_object", "jsonb_build_array", "jsonb_object",
					   "jsonb_agg", "jsonb_object_agg", "jsonb_strip_nulls", "jsonb_set",
					   "jsonb_set_lax", "jsonb_insert"};

/* Functions editing the document that is their first argument at the path
 * that is their second, with the jsonb value that is their third. */
static const char *const doc_editing[] = {"jsonb_set", "jsonb_set_lax", "jsonb_insert"};

static void json_path_edit(expo *e, const json_t *n, const char *what);

/* Whether n is jsonb as written: a cast to it, or a call of jsonb_making. */
static int jsonb_typed(const json_t *n)
{
	const json_t *tc = json_object_get(n, "TypeCast"), *fc = json_object_get(n, "FuncCall");
	if (tc) {
		int text = 0;
		const json_t *nm = json_object_get(json_object_get(tc, "typeName"), "names");
		return doc_cast(tc, &text) && !text &&
		       strcmp(pgtree_string(json_array_get(nm, json_array_size(nm) - 1)), "jsonb") == 0;
	}
	return fc && catalog_function(fc) && LISTED(func_name(fc), jsonb_making);
}

/* Whether the first n of args are given by position (no `name => value`). */
static int positional(const json_t *args, size_t n)
{
	if (json_array_size(args) < n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (json_object_get(json_array_get(args, i), "NamedArgExpr"))
			return 0;
	return 1;
}

/*
 * An output column of the statement's own SELECT (DOC_TOP), a part of one
 * (DOC_NESTED), or a value that must be json or jsonb (DOC_JSONB): the
 * documents it holds whole reach the client, or a JSON column, where
 * json_keys mask them by key. The column as it is, cast to json or jsonb,
 * or at the top to text (a JSON column's text is one document; an array of
 * documents' is not, so the column goes into doc_texted for the policy to
 * tell) or through jsonb_pretty; a row, an array, a COALESCE, a CASE's
 * results or a doc_keeping function of such parts (array_agg(profile),
 * row(id, profile)); and a document edited: jsonb_set, jsonb_set_lax, jsonb_insert
 * (a path's keys before its last are read: json_path_edit), `- key`, `#-
 * path`, and `||` — the one operator of these whose result can be text:
 * `profile || notes`, or a json column's `profile || '{"a": 1}'`, is the
 * text of the two side by side, and with a string before it (`'"x' ||
 * profile`) the document's pairs no longer read as pairs. So `||` keeps its
 * documents where its result must be jsonb (DOC_JSONB: jsonb || jsonb is
 * the one || giving jsonb, so its operands must be too), or where an
 * operand is jsonb as written (jsonb_typed), beside which another is jsonb,
 * an array of it, or no operator.
 */
static void doc_output(expo *e, const json_t *n, unsigned depth, int mode)
{
	if (depth > MAX_DEPTH)
		return;
	int text = 0, sub = mode == DOC_JSONB ? DOC_JSONB : DOC_NESTED;
	n = doc_uncast(n, mode == DOC_TOP ? &text : NULL);
	const json_t *v, *cr = json_object_get(n, "ColumnRef"), *args = NULL;
	size_t first = 0, step = 1;
	if (cr) {
		const json_t *f = json_object_get(cr, "fields");
		if (text && json_array_size(f))
			add(&e->doc_texted, pgtree_string(json_array_get(f, json_array_size(f) - 1)));
		doc_mark(e, n, 0);
		return;
	}
	if (text)
		return; /* a row's or an array's text: no document */
	if ((v = json_object_get(n, "FuncCall")) && mode == DOC_TOP && catalog_function(v) && func_name(v) &&
	    strcmp(func_name(v), "jsonb_pretty") == 0 && json_array_size(json_object_get(v, "args")) == 1) {
		const json_t *a = doc_uncast(json_array_get(json_object_get(v, "args"), 0), NULL);
		if (json_object_get(a, "ColumnRef"))
			doc_mark(e, a, 0); /* (jsonb only: one document's text) */
	} else if ((v = json_object_get(n, "RowExpr")) || (v = json_object_get(n, "CoalesceExpr"))) {
		args = json_object_get(v, "args");
	} else if ((v = json_object_get(n, "A_ArrayExpr"))) {
		args = json_object_get(v, "elements");
	} else if ((v = json_object_get(n, "CaseExpr"))) {
		/* its results (its conditions compare: computed) */
		const json_t *whens = json_object_get(v, "args");
		for (size_t i = 0; i < json_array_size(whens); i++)
			doc_output(e, json_object_get(json_object_get(json_array_get(whens, i), "CaseWhen"), "result"),
				   depth + 1, sub);
		doc_output(e, json_object_get(v, "defresult"), depth + 1, sub);
		return;
	} else if ((v = json_object_get(n, "FuncCall")) && catalog_function(v) && LISTED(func_name(v), doc_keeping)) {
		args = json_object_get(v, "args");
		if (strstr(func_name(v), "_object")) /* values after keys */
			first = 1, step = 2;
	} else if ((v = json_object_get(n, "FuncCall")) && catalog_function(v) && LISTED(func_name(v), doc_editing) &&
		   positional(json_object_get(v, "args"), 3)) {
		args = json_object_get(v, "args");
		doc_output(e, json_array_get(args, 0), depth + 1, DOC_JSONB);
		json_path_edit(e, json_array_get(args, 1), LISTED(func_name(v), doc_editing)); /* (static: json_any) */
		doc_output(e, json_array_get(args, 2), depth + 1, DOC_JSONB);
		return;
	} else if ((v = json_object_get(n, "A_Expr")) && pgtree_str(v, "kind") &&
		   strcmp(pgtree_str(v, "kind"), "AEXPR_OP") == 0 && json_array_size(json_object_get(v, "name")) == 1) {
		const char *op = pgtree_string(json_array_get(json_object_get(v, "name"), 0));
		const json_t *l = json_object_get(v, "lexpr"), *r = json_object_get(v, "rexpr");
		if (op && strcmp(op, "||") == 0 && (mode == DOC_JSONB || jsonb_typed(l) || jsonb_typed(r))) {
			doc_output(e, l, depth + 1, sub);
			doc_output(e, r, depth + 1, sub);
		} else if (op && strcmp(op, "-") == 0 && l) {
			doc_output(e, l, depth + 1, DOC_JSONB); /* (text has no -: a document's text fails) */
		} else if (op && strcmp(op, "#-") == 0) {
			doc_output(e, l, depth + 1, DOC_JSONB);
			json_path_edit(e, r, "#-");
		}
	}
	for (size_t i = first; i < json_array_size(args); i += step)
		doc_output(e, json_array_get(args, i), depth + 1, DOC_NESTED);
}

/* Each column reference in n is computed on as a document (an output
 * column an ORDER BY, GROUP BY or DISTINCT ON position sorts or groups by),
 * but one read by key or by what it is: `group by 1` over `profile->>'plan'`
 * sorts what `group by profile->>'plan'` does. */
static void doc_names(expo *e, const json_t *n, unsigned depth)
{
	if (depth > MAX_DEPTH)
		return;
	const char *k;
	json_t *v;
	size_t i;
	if (json_is_object(n)) {
		json_object_foreach((json_t *)n, k, v) {
			const json_t *f = strcmp(k, "ColumnRef") == 0 ? json_object_get(v, "fields") : NULL;
			if (f && json_array_size(f) && !doc_read(e, v, 1))
				add(&e->doc_computed, pgtree_string(json_array_get(f, json_array_size(f) - 1)));
			else if (!f)
				doc_names(e, v, depth + 1);
		}
	} else if (json_is_array(n)) {
		json_array_foreach((json_t *)n, i, v)
			doc_names(e, v, depth + 1);
	}
}

/* A string constant's value, or NULL. */
static const char *const_string(const json_t *n)
{
	const json_t *sv = json_object_get(json_object_get(uncast(n), "A_Const"), "sval");
	if (!json_is_object(sv))
		return NULL;
	const char *v = pgtree_str(sv, "sval");
	return v ? v : ""; /* (the tree leaves an empty string's value out) */
}

/* Whether n is a number, a NULL, an integer cast or arithmetic (`o[n - 1]`: a
 * number, or an error, whatever its operands hold): an array position, no key. */
static int position(const json_t *n)
{
	const json_t *c = json_object_get(n, "A_Const");
	if (c)
		return json_object_get(c, "ival") || json_object_get(c, "isnull") || json_object_get(c, "fval");
	const json_t *ax = json_object_get(n, "A_Expr");
	if (ax) {
		static const char *const arithmetic[] = {"+", "-", "*", "/", "%"};
		const json_t *name = json_object_get(ax, "name");
		const char *op = pgtree_string(json_array_get(name, json_array_size(name) - 1));
		const char *kind = pgtree_str(ax, "kind");
		return json_array_size(name) == 1 && kind && !strcmp(kind, "AEXPR_OP") &&
		       PGTREE_LISTED(op, arithmetic) != NULL;
	}
	const json_t *tc = json_object_get(n, "TypeCast");
	const json_t *tnames = json_object_get(json_object_get(tc, "typeName"), "names");
	const char *t = pgtree_string(json_array_get(tnames, json_array_size(tnames) - 1));
	return t && (strcmp(t, "int2") == 0 || strcmp(t, "int4") == 0 || strcmp(t, "int8") == 0);
}

/*
 * One key (`->` and `->>`'s right side, a subscript, a path element): a
 * string constant is read, a position is none. A column reference is taken
 * for a position too: that is how an array's are written (`prattrs[s]` in
 * pg_dump's queries, `doc->i` over generate_series), and which it is the
 * text does not say. Anything else — a parameter, a function, a subquery —
 * is a key the text does not give.
 */
static void json_key(expo *e, const json_t *n, const char *what)
{
	const char *k = const_string(n);
	if (k)
		add(&e->json_keys, k);
	else if (!position(n) && !json_object_get(n, "ColumnRef"))
		e->json_any = what;
}

/*
 * A text[] constant ('{nested,"secret pin"}'): each element is a key. Its
 * elements are split as PostgreSQL's array input does for the simple forms
 * (commas, double quotes); a backslash or a nested brace could spell a key
 * otherwise, so such a path counts as one the text does not give.
 */
static void json_path_literal(expo *e, const char *s, const char *what, int skip_last)
{
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n'))
		n--;
	while (n && (*s == ' ' || *s == '\t' || *s == '\n'))
		s++, n--;
	if (n < 2 || s[0] != '{' || s[n - 1] != '}' || memchr(s, '\\', n) || memchr(s + 1, '{', n - 2) ||
	    memchr(s + 1, '}', n - 2)) {
		e->json_any = what;
		return;
	}
	char *el = util_xmalloc(n), *pending = NULL;
	for (size_t i = 1; i < n - 1;) {
		while (i < n - 1 && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n'))
			i++;
		size_t len = 0;
		if (i < n - 1 && s[i] == '"') {
			for (i++; i < n - 1 && s[i] != '"'; i++)
				el[len++] = s[i];
			if (i == n - 1) { /* an unterminated quote: PostgreSQL refuses it, so is it */
				e->json_any = what;
				break;
			}
			i++;
		} else {
			for (; i < n - 1 && s[i] != ','; i++)
				el[len++] = s[i];
			while (len && (el[len - 1] == ' ' || el[len - 1] == '\t' || el[len - 1] == '\n'))
				len--;
		}
		el[len] = '\0';
		if (pending) /* (an element is read once another follows it, with skip_last) */
			add(&e->json_keys, pending);
		free(pending);
		pending = util_strndup(el, len);
		while (i < n - 1 && s[i] != ',')
			i++;
		i++;
	}
	if (pending && !skip_last)
		add(&e->json_keys, pending);
	free(pending);
	free(el);
}

/* A text[] path: an ARRAY[...] of keys or a constant; anything else is not
 * given. skip_last: its last element is not read. */
static void json_path_keys(expo *e, const json_t *n, const char *what, int skip_last)
{
	const json_t *arr = json_object_get(uncast(n), "A_ArrayExpr");
	const char *lit = const_string(n);
	if (arr) {
		const json_t *els = json_object_get(arr, "elements");
		size_t k = json_array_size(els);
		for (size_t i = 0; i + (skip_last && k) < k; i++)
			json_key(e, json_array_get(els, i), what);
	} else if (lit) {
		json_path_literal(e, lit, what, skip_last);
	} else {
		e->json_any = what;
	}
}

static void json_path(expo *e, const json_t *n, const char *what)
{
	json_path_keys(e, n, what, 0);
}

/*
 * The path an edit writes at (jsonb_set's, jsonb_insert's, #-'s): the keys
 * before its last are read, for an edit through a value answers what the
 * value is ("path element at position 2 is not an integer": an array;
 * jsonb_insert's "cannot replace existing key": an object holding the key).
 * The last is written at, which shows nothing of what was there.
 */
static void json_path_edit(expo *e, const json_t *n, const char *what)
{
	e->json_reads = 1;
	json_path_keys(e, n, what, 1);
}

static int ident_start(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

/*
 * A jsonpath constant ('$.nested.secret_pin', '$.* ? (@.kind == "x")'): its
 * words and quoted strings are taken as keys (more than its keys: a method's
 * name, a string compared to, which can only refuse more). A wildcard (`*`,
 * `**`) or .keyvalue() reads values at keys the path does not give; a
 * backslash can spell a key (\u0074oken): such a path is one not given.
 */
static void json_jsonpath(expo *e, const char *p, const char *what)
{
	if (strchr(p, '*') || strchr(p, '\\') || util_memcasemem(p, strlen(p), "keyvalue", 8)) {
		e->json_any = what;
		return;
	}
	size_t n = strlen(p);
	char *w = util_xmalloc(n + 1);
	for (size_t i = 0; i < n;) {
		size_t len = 0;
		if (p[i] == '"') {
			for (i++; i < n && p[i] != '"'; i++)
				w[len++] = p[i];
			i++;
		} else if (ident_start((unsigned char)p[i]) && (i == 0 || p[i - 1] != '$')) {
			for (; i < n && (ident_start((unsigned char)p[i]) || (p[i] >= '0' && p[i] <= '9')); i++)
				w[len++] = p[i];
		} else {
			i++;
			continue;
		}
		w[len] = '\0';
		add(&e->json_keys, w);
	}
	free(w);
}

/* Every object key in a JSON document, at any depth. */
static void doc_keys(expo *e, const json_t *doc, unsigned depth)
{
	if (depth > MAX_DEPTH)
		return;
	const char *k;
	const json_t *v;
	size_t i;
	if (json_is_object(doc)) {
		json_object_foreach((json_t *)doc, k, v) {
			add(&e->json_keys, k);
			doc_keys(e, v, depth + 1);
		}
	} else if (json_is_array(doc)) {
		json_array_foreach(doc, i, v)
			doc_keys(e, v, depth + 1);
	}
}

/* A containment's constant (`doc @> '{"secret_token": "x"}'`): a WHERE
 * asking whether a value is there. Not JSON: another type's @> (arrays, ranges). */
static void json_contains(expo *e, const json_t *n)
{
	const char *lit = const_string(n);
	json_t *doc = lit ? json_loads(lit, JSON_DECODE_ANY, NULL) : NULL;
	e->json_reads = 1; /* (whatever its constant: the class depends on it) */
	if (doc) {
		doc_keys(e, doc, 0);
		json_decref(doc);
	}
}

/* Functions reading JSON values at keys their arguments give (from the second on). */
static const char *const json_by_keys[] = {"json_extract_path", "json_extract_path_text", "jsonb_extract_path",
					   "jsonb_extract_path_text"};
/* ... at a jsonpath (their second argument, or `path =>`) */
static const char *const json_by_path[] = {"jsonb_path_query", "jsonb_path_query_array", "jsonb_path_query_first",
					   "jsonb_path_exists", "jsonb_path_match", "jsonb_path_query_tz",
					   "jsonb_path_query_array_tz", "jsonb_path_query_first_tz",
					   "jsonb_path_exists_tz", "jsonb_path_match_tz", "json_value", "json_query",
					   "json_exists"};
/* ... at every key, each value apart from its key (or keys a type's columns give) */
static const char *const json_by_any[] = {"json_each", "json_each_text", "jsonb_each", "jsonb_each_text",
					  "json_populate_record", "json_populate_recordset", "jsonb_populate_record",
					  "jsonb_populate_recordset", "json_to_tsvector", "jsonb_to_tsvector"};
/* ... at the keys a column definition list names (FROM jsonb_to_record(doc) AS x(k text)) */
static const char *const json_by_coldef[] = {"json_to_record", "json_to_recordset", "jsonb_to_record",
					     "jsonb_to_recordset"};

/* ... or at none: what a document is, not what it holds */
static const char *const json_shape[] = {"json_typeof", "jsonb_typeof", "json_array_length", "jsonb_array_length",
					 "json_object_keys", "jsonb_object_keys"};

static void json_call(expo *e, const json_t *v)
{
	const char *fn = func_name(v), *hit;
	const json_t *args = json_object_get(v, "args");
	size_t n = json_array_size(args);
	/* the document read, not computed on (doc_mark): the first argument,
	 * or the one named target (`path => '$.k', target => doc`) */
	if (catalog_function(v) && (LISTED(fn, json_by_keys) || LISTED(fn, json_by_path) || LISTED(fn, json_shape))) {
		for (size_t i = 0; i < n; i++) {
			const json_t *a = json_array_get(args, i), *na = json_object_get(a, "NamedArgExpr");
			const char *an = pgtree_str(na, "name");
			if (i == 0 && !na)
				doc_mark(e, a, 1);
			else if (an && strcmp(an, "target") == 0)
				doc_mark(e, json_object_get(na, "arg"), 1);
		}
	}
	if ((hit = LISTED(fn, json_by_keys))) {
		e->json_reads = 1;
		int variadic = json_is_true(json_object_get(v, "func_variadic"));
		for (size_t i = 1; i < n; i++) {
			const json_t *a = json_array_get(args, i);
			if (json_object_get(a, "NamedArgExpr"))
				e->json_any = hit;
			else if (variadic && i + 1 == n)
				json_path(e, a, hit);
			else
				json_key(e, a, hit);
		}
	} else if ((hit = LISTED(fn, json_by_path))) {
		e->json_reads = 1;
		/* the second argument, or the one named path (`path => '$.k', target => doc`) */
		const json_t *path = n > 1 && !json_object_get(json_array_get(args, 1), "NamedArgExpr")
			? json_array_get(args, 1) : NULL;
		for (size_t i = 0; i < n; i++) {
			const json_t *na = json_object_get(json_array_get(args, i), "NamedArgExpr");
			const char *an = pgtree_str(na, "name");
			if (an && strcmp(an, "path") == 0)
				path = json_object_get(na, "arg");
		}
		const char *p = const_string(path);
		if (p)
			json_jsonpath(e, p, hit);
		else
			e->json_any = hit;
	} else if ((hit = LISTED(fn, json_by_any))) {
		e->json_reads = 1;
		e->json_any = hit;
	} else if (fn && (strcmp(fn, "jsonb_contains") == 0 || strcmp(fn, "jsonb_contained") == 0)) {
		for (size_t i = 0; i < n; i++)
			json_contains(e, json_array_get(args, i));
		if (n == 2 && catalog_function(v) && const_string(json_array_get(args, 1)))
			doc_mark(e, json_array_get(args, 0), 1);
		if (n == 2 && catalog_function(v) && const_string(json_array_get(args, 0)))
			doc_mark(e, json_array_get(args, 1), 1);
	}
}

/* FROM jsonb_to_record(doc) AS x(k text), ROWS FROM (jsonb_to_record(doc) AS (k text)) */
static void json_range_function(expo *e, const json_t *v)
{
	const json_t *fns = json_object_get(v, "functions");
	for (size_t i = 0; i < json_array_size(fns); i++) {
		const json_t *items = json_object_get(json_object_get(json_array_get(fns, i), "List"), "items");
		const char *fn = func_name(json_object_get(json_array_get(items, 0), "FuncCall"));
		const char *hit = LISTED(fn, json_by_coldef);
		if (!hit)
			continue;
		e->json_reads = 1;
		const json_t *defs = json_array_size(fns) == 1 && json_array_size(json_object_get(v, "coldeflist"))
			? json_object_get(v, "coldeflist")
			: json_object_get(json_object_get(json_array_get(items, 1), "List"), "items");
		if (!json_array_size(defs))
			e->json_any = hit;
		for (size_t k = 0; k < json_array_size(defs); k++) {
			const char *col = pgtree_str(json_object_get(json_array_get(defs, k), "ColumnDef"), "colname");
			if (col)
				add(&e->json_keys, col);
			else
				e->json_any = hit;
		}
	}
}

/*
 * JSON values read by key: `->`, `->>` (a key or a position), `#>`, `#>>`
 * (a path), a subscript (`doc['k']`), the functions above, a jsonpath
 * (`@?`, `@@` with a constant), a containment's constant (`@>`, `<@`).
 * json_keys masks a value inside its document, by its key; read apart from
 * it, the value arrives with no key to mask it by (policy.c refuses that
 * when the key is one the profile names, or one the text does not give).
 */
static void json_node(expo *e, const char *k, const json_t *v)
{
	if (strcmp(k, "A_Expr") == 0) {
		const char *kind = pgtree_str(v, "kind");
		const json_t *name = json_object_get(v, "name");
		const char *op = pgtree_string(json_array_get(name, json_array_size(name) - 1));
		if (!kind || strcmp(kind, "AEXPR_OP") != 0 || !op)
			return;
		const json_t *l = json_object_get(v, "lexpr"), *r = json_object_get(v, "rexpr");
		/* (the document on the left is read by a key or path the text gives,
		 * not computed on: doc_mark; by a position, it may be a document too) */
		if (strcmp(op, "->") == 0 || strcmp(op, "->>") == 0) {
			e->json_reads = 1;
			json_key(e, r, op[2] ? "->>" : "->");
			if (const_string(r))
				doc_mark(e, l, 1);
		} else if (strcmp(op, "#>") == 0 || strcmp(op, "#>>") == 0) {
			e->json_reads = 1;
			json_path(e, r, op[2] ? "#>>" : "#>");
			if (const_string(r) || json_object_get(uncast(r), "A_ArrayExpr"))
				doc_mark(e, l, 1);
		} else if (strcmp(op, "@?") == 0 || strcmp(op, "@@") == 0) {
			/* @@ is text search's too ('cat & dog'): a path reads from its
			 * root, $, so a constant without one reads no document */
			const char *p = const_string(r);
			e->json_reads = 1;
			if (p && strchr(p, '$')) {
				json_jsonpath(e, p, op[1] == '?' ? "@?" : "@@");
				doc_mark(e, l, 1);
			} else if (!p && op[1] == '?') {
				e->json_any = "@?";
			}
		} else if (strcmp(op, "@>") == 0 || strcmp(op, "<@") == 0) {
			json_contains(e, l);
			json_contains(e, r);
			if (const_string(r))
				doc_mark(e, l, 1);
			if (const_string(l))
				doc_mark(e, r, 1);
		} else if (strcmp(op, "?") == 0 || strcmp(op, "?|") == 0 || strcmp(op, "?&") == 0) {
			doc_mark(e, l, 1); /* whether keys are there: no value */
		}
	} else if (strcmp(k, "A_Indirection") == 0) {
		const json_t *ind = json_object_get(v, "indirection");
		for (size_t i = 0; i < json_array_size(ind); i++) {
			const json_t *ix = json_object_get(json_array_get(ind, i), "A_Indices");
			if (!ix || json_is_true(json_object_get(ix, "is_slice")))
				continue;
			e->json_reads = 1;
			json_key(e, json_object_get(ix, "uidx"), "a subscript");
			if (i == 0 && const_string(json_object_get(ix, "uidx")))
				doc_mark(e, json_object_get(v, "arg"), 1); /* doc['k']... */
		}
	} else if (strcmp(k, "NullTest") == 0) {
		doc_mark(e, json_object_get(v, "arg"), 1);
	} else if (strcmp(k, "FuncCall") == 0) {
		json_call(e, v);
	} else if (strcmp(k, "RangeFunction") == 0) {
		json_range_function(e, v);
	}
}

/* ---- columns written ------------------------------------------------------ */

/*
 * Whether a value written is one the statement does not choose: the column's
 * DEFAULT, or NULL (cast or not), which no unique index, exclusion constraint
 * or foreign key compares with anything. A NULL is a constant, and
 * normalization gives `SET k = NULL` and `SET k = 'guess'` one text: a
 * constant written sets writes_const, and policy.c caches such a statement
 * under its own text only where column rules apply.
 */
static int unchosen(expo *e, const json_t *v)
{
	if (json_object_get(v, "SetToDefault"))
		return 1;
	const json_t *cast = json_object_get(v, "TypeCast");
	const json_t *k = json_object_get(cast ? json_object_get(cast, "arg") : v, "A_Const");
	if (!k)
		return 0;
	e->writes_const = 1;
	return json_is_true(json_object_get(k, "isnull"));
}

/* The columns of a SET list (UPDATE, ON CONFLICT DO UPDATE, MERGE), or of a
 * MERGE's INSERT with its values, but those given DEFAULT or NULL. */
static void names_written(expo *e, const json_t *list, const json_t *values)
{
	for (size_t i = 0; i < json_array_size(list); i++) {
		const json_t *rt = json_object_get(json_array_get(list, i), "ResTarget");
		if (!unchosen(e, values ? json_array_get(values, i) : json_object_get(rt, "val")))
			add(&e->written, pgtree_str(rt, "name"));
	}
}

/* An INSERT's columns, but those every row of its VALUES sets to DEFAULT or NULL. */
static void insert_written(expo *e, const json_t *cols, const json_t *select)
{
	const json_t *rows = json_object_get(json_object_get(select, "SelectStmt"), "valuesLists");
	for (size_t i = 0; i < json_array_size(cols); i++) {
		int chosen = !json_array_size(rows);
		for (size_t r = 0; r < json_array_size(rows); r++) /* (every row: writes_const) */
			chosen |= !unchosen(e, json_array_get(json_object_get(json_object_get(json_array_get(rows, r), "List"), "items"), i));
		if (chosen)
			add(&e->written, pgtree_str(json_object_get(json_array_get(cols, i), "ResTarget"), "name"));
	}
}

/*
 * The columns a statement writes: a unique index or an exclusion constraint
 * on one of them answers, by refusing the write, whether a value is there
 * (policy.c reads them against the column rules and the target's indexes).
 */
static void write_node(expo *e, const char *k, const json_t *v)
{
	if (strcmp(k, "InsertStmt") == 0) {
		const json_t *cols = json_object_get(v, "cols"), *select = json_object_get(v, "selectStmt");
		insert_written(e, cols, select);
		if (!json_array_size(cols) && select) /* (DEFAULT VALUES: no select, nothing chosen) */
			e->writes_all = 1;
		names_written(e, json_object_get(json_object_get(v, "onConflictClause"), "targetList"), NULL);
	} else if (strcmp(k, "UpdateStmt") == 0) {
		names_written(e, json_object_get(v, "targetList"), NULL);
	} else if (strcmp(k, "MergeWhenClause") == 0) {
		const char *cmd = pgtree_str(v, "commandType");
		const json_t *t = json_object_get(v, "targetList");
		names_written(e, t, json_object_get(v, "values"));
		if (cmd && strcmp(cmd, "CMD_INSERT") == 0 && !json_array_size(t))
			e->writes_all = 1;
	} else if (strcmp(k, "CopyStmt") == 0 && json_is_true(json_object_get(v, "is_from"))) {
		const json_t *cols = json_object_get(v, "attlist");
		for (size_t i = 0; i < json_array_size(cols); i++)
			add(&e->written, pgtree_string(json_array_get(cols, i)));
		if (!json_array_size(cols))
			e->writes_all = 1;
	}
}

/*
 * DDL the column rules see: an index or a constraint sorts, compares or
 * looks up its columns (CLUSTER then orders the table by them; a foreign key
 * or ON CONFLICT answers whether a value is there); a rename, SET SCHEMA,
 * INHERIT, NO INHERIT, ATTACH or DETACH PARTITION gives columns other names
 * (the rules of a table cover its partitions and children); DO, a function, a
 * procedure, a trigger or a rule is code whose reads the walk cannot see;
 * a foreign table or server reads tables under names of its own; a call
 * of one of query_functions runs what the walk cannot read; CLUSTER (and
 * ALTER TABLE ... CLUSTER ON, which names the index a later bare CLUSTER
 * takes) stores a table's rows in the order of an index whose columns the
 * text does not name: reading them back in that order is an ORDER BY.
 */
/* CREATE OPERATOR or AGGREGATE; a function's, an aggregate's or a procedure's rename or SET SCHEMA. */
static int code_object(const char *k, const json_t *v)
{
	static const char *const kinds[] = {"OBJECT_FUNCTION", "OBJECT_AGGREGATE", "OBJECT_PROCEDURE",
					    "OBJECT_ROUTINE", "OBJECT_OPERATOR"};
	const char *kind = strcmp(k, "DefineStmt") == 0 ? pgtree_str(v, "kind")
			   : strcmp(k, "RenameStmt") == 0 ? pgtree_str(v, "renameType")
			   : strcmp(k, "AlterObjectSchemaStmt") == 0 ? pgtree_str(v, "objectType") : NULL;
	if (strcmp(k, "DefineStmt") == 0)
		return kind && (strcmp(kind, "OBJECT_OPERATOR") == 0 || strcmp(kind, "OBJECT_AGGREGATE") == 0);
	return kind && PGTREE_LISTED(kind, kinds) != NULL;
}

static void ddl_node(expo *e, const char *k, const json_t *v)
{
	if (strcmp(k, "FuncCall") == 0) {
		func_call(e, v);
	} else if (strcmp(k, "IndexElem") == 0) {
		computed_name(e, pgtree_str(v, "name"));
	} else if (strcmp(k, "Constraint") == 0) {
		names_computed(e, json_object_get(v, "pk_attrs")); /* an existing table's (REFERENCES) */
		if (e->altering) {
			names_computed(e, json_object_get(v, "keys"));
			names_computed(e, json_object_get(v, "fk_attrs"));
			names_computed(e, json_object_get(v, "including"));
		}
	} else if (strcmp(k, "DoStmt") == 0 || strcmp(k, "CreateFunctionStmt") == 0 || strcmp(k, "RuleStmt") == 0 ||
		   strcmp(k, "CreateTrigStmt") == 0 || strcmp(k, "CreateEventTrigStmt") == 0 ||
		   strcmp(k, "CreateCastStmt") == 0 || strcmp(k, "CreateTransformStmt") == 0 || code_object(k, v)) {
		/* (an operator, an aggregate or a cast runs a function under a name
		 * of its own, or one a built-in's: OPERATOR(pg_temp.=) over encode(),
		 * max() over textcat; so does a function renamed or moved into a
		 * schema the search path reads first) */
		e->defines_code = 1;
	} else if (strcmp(k, "CreateForeignTableStmt") == 0 || strcmp(k, "CreateForeignServerStmt") == 0 ||
		   strcmp(k, "AlterForeignServerStmt") == 0 || strcmp(k, "CreateUserMappingStmt") == 0 ||
		   strcmp(k, "AlterUserMappingStmt") == 0 || strcmp(k, "ImportForeignSchemaStmt") == 0 ||
		   strcmp(k, "CreateFdwStmt") == 0 || strcmp(k, "AlterFdwStmt") == 0 ||
		   (strcmp(k, "AlterTableStmt") == 0 && pgtree_str(v, "objtype") &&
		    strcmp(pgtree_str(v, "objtype"), "OBJECT_FOREIGN_TABLE") == 0)) {
		/* a foreign table reads a table (this database's too: postgres_fdw, a
		 * column_name option) under names of its own */
		e->links_foreign = 1;
	} else if (strcmp(k, "ClusterStmt") == 0) {
		e->reorders = 1;
	} else if (strcmp(k, "RenameStmt") == 0) {
		const char *t = pgtree_str(v, "renameType");
		const json_t *rel = json_object_get(v, "relation");
		const char *sch = pgtree_str(rel, "schemaname"), *name = pgtree_str(rel, "relname");
		const char *to = pgtree_str(v, "newname");
		/* (ALTER TYPE t RENAME ATTRIBUTE renames a table's column too, and
		 * ALTER INDEX t RENAME a table: PostgreSQL takes either) */
		if (t && (strcmp(t, "OBJECT_COLUMN") == 0 || strcmp(t, "OBJECT_ATTRIBUTE") == 0))
			add_rename(e, sch, name, pgtree_str(v, "subname"), NULL, to, 1);
		else if (is_relation_kind(t) || (t && strcmp(t, "OBJECT_INDEX") == 0))
			add_rename(e, sch, name, NULL, sch, to, 1);
		else if (t && strcmp(t, "OBJECT_SCHEMA") == 0)
			add_rename(e, pgtree_str(v, "subname"), NULL, NULL, NULL, to, 0);
	} else if (strcmp(k, "AlterObjectSchemaStmt") == 0) {
		const json_t *rel = json_object_get(v, "relation");
		if (is_relation_kind(pgtree_str(v, "objectType")))
			add_rename(e, pgtree_str(rel, "schemaname"), pgtree_str(rel, "relname"), NULL,
				   pgtree_str(v, "newschema"), pgtree_str(rel, "relname"), 0);
	} else if (strcmp(k, "AlterTableStmt") == 0) {
		const json_t *rel = json_object_get(v, "relation"), *cmds = json_object_get(v, "cmds");
		for (size_t i = 0; i < json_array_size(cmds); i++) {
			const json_t *cmd = json_object_get(json_array_get(cmds, i), "AlterTableCmd");
			const char *sub = pgtree_str(cmd, "subtype");
			const json_t *def = json_object_get(cmd, "def");
			if (sub && strcmp(sub, "AT_ClusterOn") == 0) {
				e->reorders = 1;
			} else if (sub && (strcmp(sub, "AT_AlterColumnType") == 0 || strcmp(sub, "AT_SetNotNull") == 0)) {
				/* every value cast, or compared with NULL: its error answers
				 * questions about them (a varchar(3) too short for one) */
				computed_name(e, pgtree_str(cmd, "name"));
			} else if (sub && strcmp(sub, "AT_AddInherit") == 0) { /* rel's rows in the parent's scans */
				const json_t *parent = json_object_get(def, "RangeVar");
				add_rename(e, pgtree_str(rel, "schemaname"), pgtree_str(rel, "relname"), NULL,
					   pgtree_str(parent, "schemaname"), pgtree_str(parent, "relname"), 0);
			} else if (sub && strcmp(sub, "AT_AttachPartition") == 0) { /* the partition's rows in rel's */
				const json_t *part = json_object_get(json_object_get(def, "PartitionCmd"), "name");
				add_rename(e, pgtree_str(part, "schemaname"), pgtree_str(part, "relname"), NULL,
					   pgtree_str(rel, "schemaname"), pgtree_str(rel, "relname"), 0);
			} else if (sub && (strcmp(sub, "AT_DetachPartition") == 0 ||
					   strcmp(sub, "AT_DetachPartitionFinalize") == 0)) {
				/* the partition's rows, read under rel's rules until now, under its own name only */
				const json_t *part = json_object_get(json_object_get(def, "PartitionCmd"), "name");
				sql_rename *r = add_rename(e, pgtree_str(rel, "schemaname"), pgtree_str(rel, "relname"),
							   NULL, pgtree_str(part, "schemaname"), pgtree_str(part, "relname"), 0);
				if (r)
					r->detaches = 1;
			} else if (sub && strcmp(sub, "AT_DropInherit") == 0) { /* NO INHERIT: rel's rows, the same */
				const json_t *parent = json_object_get(def, "RangeVar");
				sql_rename *r = add_rename(e, pgtree_str(parent, "schemaname"), pgtree_str(parent, "relname"),
							   NULL, pgtree_str(rel, "schemaname"), pgtree_str(rel, "relname"), 0);
				if (r)
					r->detaches = 1;
			}
		}
	}
}

/* The value val stored into column name: its documents are doc_output's
 * (DOC_JSONB) and the pairs go into doc_stored. */
static void doc_store(expo *e, const char *name, const json_t *val, unsigned depth)
{
	size_t before = e->n_docs;
	doc_output(e, val, depth + 1, DOC_JSONB);
	for (size_t d = before; d < e->n_docs; d++) {
		const json_t *f = json_object_get(e->docs[d].colref, "fields");
		if (!is_star(f))
			add_stored(e, name, pgtree_string(json_array_get(f, json_array_size(f) - 1)));
	}
}

/*
 * The documents a SET gives a column (UPDATE's, ON CONFLICT DO UPDATE's),
 * or an INSERT's SELECT under a column list, are stored, not computed on,
 * when the column is a JSON column, where json_keys mask them when they are
 * read: `profile = jsonb_set(profile, '{plan}', '"pro"')`, `profile =
 * profile || '{"plan": "pro"}'`, `profile = profile - 'plan'`,
 * `profile['plan'] = '"pro"'`, `insert into archive (id, doc) select id,
 * profile from customers`. The value's documents are doc_output's
 * (DOC_JSONB: a text value is no json's or jsonb's, and PostgreSQL refuses
 * to store it there before it reads a row) and the column goes into
 * doc_stored, which policy.c holds against the written relations' JSON
 * columns. A subscript's keys before its last are read, as an edit's
 * path's are (json_path_edit). (An INSERT's SELECT is read as a store when
 * it is one SELECT, not a UNION's, with a column without a subscript for
 * each of its outputs: otherwise which value goes where the text does not
 * say. A `*` stores columns the text does not name: whole.)
 */
static void doc_stores(expo *e, const char *k, const json_t *v, unsigned depth)
{
	const json_t *list = NULL;
	if (strcmp(k, "UpdateStmt") == 0) {
		list = json_object_get(v, "targetList");
	} else if (strcmp(k, "InsertStmt") == 0) {
		list = json_object_get(json_object_get(v, "onConflictClause"), "targetList");
		const json_t *cols = json_object_get(v, "cols");
		const json_t *sel = json_object_get(json_object_get(v, "selectStmt"), "SelectStmt");
		const json_t *targets = json_object_get(sel, "targetList");
		size_t n = json_array_size(targets);
		int plain = n == json_array_size(cols); /* (a UNION's targets are its arms') */
		for (size_t i = 0; i < n && plain; i++)
			plain = !json_array_size(json_object_get(json_object_get(json_array_get(cols, i), "ResTarget"),
								 "indirection"));
		for (size_t i = 0; i < n && plain; i++)
			doc_store(e, pgtree_str(json_object_get(json_array_get(cols, i), "ResTarget"), "name"),
				  json_object_get(json_object_get(json_array_get(targets, i), "ResTarget"), "val"), depth);
	}
	for (size_t i = 0; i < json_array_size(list); i++) {
		const json_t *rt = json_object_get(json_array_get(list, i), "ResTarget");
		const json_t *ind = json_object_get(rt, "indirection");
		size_t n = json_array_size(ind);
		for (size_t j = 0; j + 1 < n; j++) {
			const json_t *ix = json_object_get(json_array_get(ind, j), "A_Indices");
			if (ix && !json_is_true(json_object_get(ix, "is_slice"))) {
				e->json_reads = 1;
				json_key(e, json_object_get(ix, "uidx"), "a subscript");
			}
		}
		if (n && json_object_get(json_array_get(ind, n - 1), "A_Indices"))
			e->json_reads = 1; /* (the key written at: another one, another class) */
		doc_store(e, pgtree_str(rt, "name"), json_object_get(rt, "val"), depth);
	}
}

/* Whether n is a column reference to a column (not `*`, not a row by its table's name). */
static int column_itself(const expo *e, const json_t *n)
{
	const json_t *fields = json_object_get(json_object_get(n, "ColumnRef"), "fields");
	size_t nf = json_array_size(fields);
	if (!nf || is_star(fields))
		return 0;
	const char *name = pgtree_string(json_array_get(fields, nf - 1));
	return name && !has(&e->ranges, name);
}

/*
 * Whether node k (v) reads nothing of a column but whether it is NULL, which a
 * masked value shows as well (NULL stays NULL): `col IS [NOT] NULL`, and
 * `count(col)` without DISTINCT or an ORDER BY (its FILTER and window are
 * walked as usual, from *rest).
 */
static int nullness_read(const expo *e, const char *k, const json_t *v, const json_t **rest)
{
	*rest = NULL;
	if (strcmp(k, "NullTest") == 0)
		return column_itself(e, json_object_get(v, "arg"));
	if (strcmp(k, "FuncCall") != 0)
		return 0;
	const json_t *name = json_object_get(v, "funcname"), *args = json_object_get(v, "args");
	size_t nn = json_array_size(name);
	const char *fn = pgtree_string(json_array_get(name, nn - 1));
	const char *schema = nn == 2 ? pgtree_string(json_array_get(name, 0)) : NULL;
	if (!fn || strcmp(fn, "count") != 0 || nn > 2 || (nn == 2 && (!schema || strcmp(schema, "pg_catalog") != 0)) ||
	    json_array_size(args) != 1 || !column_itself(e, json_array_get(args, 0)) ||
	    json_is_true(json_object_get(v, "agg_distinct")) || json_array_size(json_object_get(v, "agg_order")))
		return 0;
	*rest = v;
	return 1;
}

/* Any other node: every column reference in it is computed on. */
static void expr(expo *e, json_t *j, unsigned depth)
{
	if (!j || depth > MAX_DEPTH) {
		if (j)
			e->whole = 1; /* too deep to read: fail closed */
		return;
	}
	if (json_is_array(j)) {
		size_t i;
		json_t *v;
		json_array_foreach(j, i, v)
			expr(e, v, depth + 1);
		return;
	}
	if (!json_is_object(j))
		return;
	const char *k;
	json_t *v;
	json_object_foreach(j, k, v) {
		const json_t *rest;
		if (strcmp(k, "ColumnRef") == 0) {
			colref_computed(e, json_object_get(v, "fields"), v);
		} else if (nullness_read(e, k, v, &rest)) {
			if (rest) { /* count(col): its FILTER and its window */
				expr(e, json_object_get(rest, "agg_filter"), depth + 1);
				expr(e, json_object_get(rest, "over"), depth + 1);
			}
		} else if (strcmp(k, "SelectStmt") == 0) {
			select_stmt(e, v, 0, depth + 1);
		} else if (strcmp(k, "SubLink") == 0 && exists_sublink(v)) {
			/* EXISTS (SELECT ...): its output is never read */
			select_stmt(e, json_object_get(json_object_get(v, "subselect"), "SelectStmt"), 1, depth + 1);
		} else {
			member(e, k, v, depth);
		}
	}
}

/* A member k of another node, or a statement of key k (not a SELECT). */
static void member(expo *e, const char *k, json_t *v, unsigned depth)
{
	ddl_node(e, k, v);
	json_node(e, k, v);
	write_node(e, k, v);
	doc_stores(e, k, v, depth);
	int altering = strcmp(k, "AlterTableStmt") == 0;
	e->altering += altering;
	expr(e, v, depth + 1);
	e->altering -= altering;
}

/* A statement: key is its node's name ("SelectStmt", ...), body the node. */
static void statement(expo *e, const char *key, json_t *body, unsigned depth)
{
	if (depth > MAX_DEPTH) {
		e->whole = 1;
		return;
	}
	if (strcmp(key, "SelectStmt") == 0) {
		if (!e->top)
			e->top = body;
		select_stmt(e, body, 1, depth + 1);
		return;
	}
	/* what a cursor fetches, a prepared statement runs, a plan shows, a
	 * COPY (query) sends (its columns all masked whole under column rules) */
	if (strcmp(key, "DeclareCursorStmt") == 0 || strcmp(key, "PrepareStmt") == 0 ||
	    strcmp(key, "ExplainStmt") == 0 || (strcmp(key, "CopyStmt") == 0 && json_object_get(body, "query"))) {
		json_t *q = json_object_get(body, "query");
		void *it = json_object_iter(q);
		if (it)
			statement(e, json_object_iter_key(it), json_object_iter_value(it), depth + 1);
		return;
	}
	/* what an INSERT, UPDATE or DELETE RETURNING sends reaches the client as
	 * the rows of a SELECT (column rules: with no column behind it in
	 * RowDescription, computed) */
	if (strcmp(key, "InsertStmt") == 0 || strcmp(key, "UpdateStmt") == 0 || strcmp(key, "DeleteStmt") == 0) {
		json_t *ret = json_object_get(body, "returningList");
		for (size_t i = 0; i < json_array_size(ret); i++) {
			json_t *rt = json_object_get(json_array_get(ret, i), "ResTarget");
			json_t *val = json_object_get(rt, "val"), *cr = json_object_get(val, "ColumnRef");
			doc_output(e, val, depth + 1, DOC_TOP);
			/* a column as it is, or a star's (one by one, each with its
			 * column in RowDescription), as a SELECT's output; the target's
			 * name alone is its whole row */
			if (cr)
				colref_plain(e, json_object_get(cr, "fields"), pgtree_str(rt, "name"));
			else
				expr(e, val, depth + 1);
		}
		if (ret) {
			json_incref(ret);
			json_object_del(body, "returningList");
			member(e, key, body, depth);
			json_object_set_new(body, "returningList", ret);
			return;
		}
	}
	member(e, key, body, depth); /* INSERT, UPDATE, CREATE TABLE AS, VIEW, DDL, ...: stored or computed */
}

void exposure_of(const char *key, json_t *body, sql_stmt *st)
{
	expo e = {0};
	collect_ranges(&e, body, 0);
	statement(&e, key, body, 0);
	/* a name computed on computes on what it reads as itself */
	for (int grew = 1; grew;) {
		grew = 0;
		for (size_t i = 0; i < e.n_flows; i++)
			if (has(&e.computed, e.flows[i].alias))
				grew |= add(&e.computed, e.flows[i].source);
	}
	for (int grew = 1; grew;) {
		grew = 0;
		for (size_t i = 0; i < e.n_flows; i++)
			if (has(&e.doc_computed, e.flows[i].alias))
				grew |= add(&e.doc_computed, e.flows[i].source);
	}
	for (int grew = 1; grew;) {
		grew = 0;
		for (size_t i = 0; i < e.n_flows; i++)
			if (has(&e.doc_texted, e.flows[i].alias))
				grew |= add(&e.doc_texted, e.flows[i].source);
	}
	for (int grew = 1; grew;) { /* (a document stored from a name stores what it reads as itself) */
		grew = 0;
		for (size_t i = 0; i < e.n_flows; i++)
			for (size_t k = 0; k < e.doc_stored.n; k++)
				if (strcmp(e.doc_stored_from.v[k], e.flows[i].alias) == 0)
					grew |= add_stored(&e, e.doc_stored.v[k], e.flows[i].source);
	}
	int doc_whole = e.whole;
	for (size_t i = 0; i < e.unknown.n && !e.whole; i++)
		e.whole = has(&e.computed, e.unknown.v[i]);
	for (size_t i = 0; i < e.unknown.n && !doc_whole; i++)
		doc_whole = has(&e.doc_computed, e.unknown.v[i]);
	if (e.overflow || e.ranges.overflow || e.computed.overflow || e.unknown.overflow)
		e.whole = 1;
	if (e.overflow || e.ranges.overflow || e.doc_computed.overflow || e.doc_texted.overflow ||
	    e.doc_stored.overflow || e.unknown.overflow)
		doc_whole = 1;
	st->computed = e.computed.v;
	st->n_computed = e.computed.n;
	st->computed_whole = e.whole;
	st->renames = e.renames;
	st->n_renames = e.n_renames;
	st->defines_code = e.defines_code;
	st->query_function = e.query_function;
	st->links_foreign = e.links_foreign;
	st->reorders = e.reorders;
	st->json_keys = e.json_keys.v;
	st->n_json_keys = e.json_keys.n;
	st->json_any = e.json_keys.overflow ? "json" : e.json_any;
	st->json_reads = e.json_reads;
	st->doc_computed = e.doc_computed.v;
	st->n_doc_computed = e.doc_computed.n;
	st->doc_whole = doc_whole;
	st->doc_texted = e.doc_texted.v;
	st->n_doc_texted = e.doc_texted.n;
	st->doc_stored = e.doc_stored.v;
	st->doc_stored_from = e.doc_stored_from.v;
	st->n_doc_stored = e.doc_stored.n;
	st->written = e.written.v;
	st->n_written = e.written.n;
	st->writes_all = e.writes_all || e.written.overflow;
	st->writes_const = e.writes_const;
	names_free(&e.ranges);
	names_free(&e.unknown);
	free(e.docs);
	for (size_t i = 0; i < e.n_flows; i++) {
		free(e.flows[i].alias);
		free(e.flows[i].source);
	}
	free(e.flows);
}
