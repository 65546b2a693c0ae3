/*
 * reshape — whether a statement reshapes column values (see reshape.h).
 *
 * The walk goes down libpg_query's JSON parse tree carrying `by`: the
 * nearest node above that reshapes what it is given (NULL: none). A column
 * reference met while `by` is set is reshaped. What a node does to `by` for
 * its children:
 *   - keeps it: what passes its input on whole, or as a number or a date
 *     (btrim, coalesce, CASE's results, greatest, casts to text,
 *     json, bytea, numbers and dates, min, max, array_agg, JSON builders,
 *     arithmetic, date_trunc, round, sum, a row, an array, a subscript);
 *   - sets it to ANSWERED: what answers a question about its input and
 *     returns none of it (comparisons, LIKE, IN, IS NULL, AND/OR/NOT,
 *     EXISTS, count, length, position), or only orders or groups rows by it
 *     (ORDER BY, GROUP BY, DISTINCT ON, PARTITION BY): a built-in function
 *     reshaping a column there answers as LIKE does (see ANSWERED);
 *   - sets it: everything else, a function warden does not list first of
 *     all (encode, replace, translate, reverse, substr, split_part,
 *     regexp_replace, string_to_array, md5, to_hex, format, lower and upper
 *     (case_folding), a function of the database's own), an operator not
 *     listed, a cast to a type not
 *     listed or one that cuts (`::varchar(5)`, `::tsvector`), XMLTABLE, an
 *     XML element's content and attributes (a bytea there is base64).
 * A large object's bytes (lo_get, loread) are read as a column's value is.
 * A cast to bytea keeps a value whole: PostgreSQL writes it in hex wherever
 * it goes (a cast to text, an array, a record, JSON), or in its escape form
 * under bytea_output = escape, and the mask stage reads both (pgmask.c's
 * hex_runs and octal_runs).
 * A column cast to a number keeps its digits only where the number goes out
 * as it is (the statement's output columns, through what returns or collects
 * it: mark_direct, before the walk) or under a comparison, an ORDER BY or a
 * GROUP BY; anywhere else it is computed on, and reshaped. A cast
 * to a float, money or a number with a scale rewrites the digits wherever
 * it stands; to_char with a number's format too. What such a cast reads is
 * walked under NUMBER: a column reached through whatever passes a value on
 * (a field, an element, a subquery, unnest, ->>) is a number cast's, which
 * the policy lets through where the catalog says the column holds numbers;
 * arithmetic and sum or round take numbers only, so nothing under them is.
 * Concatenation (`||`, concat, concat_ws, string_agg, array_to_string) keeps
 * a value whole only where what is glued to it starts or ends with a
 * character that separates (a space, a comma, a colon, a bracket, a quote):
 * `ssn || '0'` or `a || b` make a longer value no detector recognises, while
 * `first || ' ' || last` and `string_agg(email, ', ')` do not.
 * A SELECT's output columns carry `by` from where the SELECT's value goes
 * (a scalar subquery's into its expression, a UNION's arms into the
 * statement's); its WHERE, FROM, HAVING and the rest start afresh, and a
 * subquery in FROM or a CTE is read by the column references made to it.
 * Every other node passes `by` on to what it holds (ANSWERED only where it
 * cannot fail on its input: a failure's message would quote it).
 */
#include "policy/reshape.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/util.h"
#include "policy/pgtree.h"

#define MAX_DEPTH 1000

typedef struct rs {
	char *col, *by;
	int consts;
	int deep;               /* past MAX_DEPTH: fails closed */
	char qname[200];        /* a function of the database's own, schema.name */
	const json_t **direct;  /* casts whose value goes out as it is (mark_direct) */
	size_t n_direct, cap_direct;
	/* columns cast to a number or formatted as one where nothing else
	 * reshapes them (number_cast): the first as reshaped() names it, with
	 * what reshapes it, and every one's name (its last field) */
	char *ncol, *nby;
	char **num;
	size_t n_num, cap_num;
	const char *numby;      /* under NUMBER: what casts (or formats) what it reads */
	int overlap;            /* under an operand of &&: a text search query made there is computed on */
} rs;

/* Functions making or computing text search queries and vectors. */
static const char *const ts_makers[] = {"to_tsquery", "plainto_tsquery", "phraseto_tsquery",
					"websearch_to_tsquery", "tsquery_phrase", "to_tsvector",
					"array_to_tsvector", "setweight", "strip", "ts_rewrite", "numnode",
					"querytree", "ts_delete", "ts_filter", "json_to_tsvector", "jsonb_to_tsvector"};

static void walk(rs *r, const json_t *j, const char *by, unsigned depth);

/*
 * `by` for what a comparison, a test or a count reads: a yes or a no, a
 * number. A built-in function reshaping what it is given there answers a
 * question about it, as a LIKE would (substr(ssn, 1, 3) = '123' asks what
 * ssn LIKE '123%' asks; to_tsvector(notes) @@ 'refund'), so its arguments may
 * be columns as they are; not a reshaped value, nor one cast (the cast's
 * error would quote it), nor one given to a function of the database's own.
 * ANSWERED passes only through what cannot fail on its input (lower,
 * coalesce, CASE's results, a row); any other node reads on with NULL.
 */
static const char ANSWERED[] = "";

/*
 * `by` for what a cast to a number reads (or to_char with a number's
 * format) where its digits are computed on or rewritten: a column met
 * there is a number cast's (number_cast: reshaped unless the catalog says
 * it holds numbers), through whatever passes a value on — a subquery, an
 * array's element, unnest, a JSON builder and ->>, coalesce — as `by`
 * passes; what reshapes on the way reshapes (split_part(card, …)::bigint),
 * and arithmetic computes on numbers already (price * qty).
 */
static const char NUMBER[] = "";

#define LISTED(s, l) (PGTREE_LISTED(s, l) != NULL)

/* Functions that pass their arguments on whole, or compute numbers and dates. */
static const char *const keeping[] = {
	"btrim", "ltrim", "rtrim", "min", "max", "any_value", "array_agg",
	"json_agg", "jsonb_agg", "json_object_agg", "jsonb_object_agg", "to_json", "to_jsonb", "array_to_json",
	"row_to_json", "json_build_array", "jsonb_build_array", "json_build_object", "jsonb_build_object",
	"json_object", "jsonb_object", "jsonb_pretty", "json_strip_nulls", "jsonb_strip_nulls", "jsonb_set",
	"jsonb_set_lax", "jsonb_insert", "json_array_elements", "jsonb_array_elements", "json_array_elements_text",
	"jsonb_array_elements_text", "lag", "lead", "first_value", "last_value", "nth_value", "unnest",
	"array_append", "array_prepend", "array_cat",
	"date_trunc", "date_part", "extract", "date_bin", "age", "to_char", "make_date", "make_time",
	"make_timestamp", "make_timestamptz", "make_interval", "justify_days", "justify_hours",
	"justify_interval", "timezone", "round", "floor", "ceil", "ceiling", "trunc", "abs", "sign", "sqrt",
	"cbrt", "power", "pow", "exp", "ln", "log", "log10", "mod", "div", "sum", "avg", "stddev", "stddev_pop",
	"stddev_samp", "variance", "var_pop", "var_samp", "percentile_cont", "percentile_disc", "mode", "corr",
	"covar_pop", "covar_samp", "regr_avgx", "regr_avgy", "regr_count", "regr_intercept", "regr_r2",
	"regr_slope", "regr_sxx", "regr_sxy", "regr_syy", "width_bucket", "generate_series", "now",
	"clock_timestamp", "statement_timestamp", "transaction_timestamp", "random", "overlaps",
};

/*
 * ... of them, those that take numbers, dates and times only (no text:
 * sum(text) does not exist), so that what a number cast reads through them
 * is a number already, as arithmetic's operands are (NUMBER).
 */
static const char *const numeric_only[] = {
	"round", "floor", "ceil", "ceiling", "trunc", "abs", "sign", "sqrt", "cbrt", "power", "pow", "exp", "ln",
	"log", "log10", "mod", "div", "sum", "avg", "stddev", "stddev_pop", "stddev_samp", "variance", "var_pop",
	"var_samp", "percentile_cont", "corr", "covar_pop", "covar_samp", "regr_avgx", "regr_avgy", "regr_count",
	"regr_intercept", "regr_r2", "regr_slope", "regr_sxx", "regr_sxy", "regr_syy", "width_bucket", "date_trunc",
	"date_part", "extract", "date_bin", "age", "make_date", "make_time", "make_timestamp", "make_timestamptz",
	"make_interval", "justify_days", "justify_hours", "justify_interval",
};

/*
 * Functions changing letters' case: a detector that knows a token by its
 * case (AKIA..., ghp_..., xoxb-..., a custom EMP-[0-9]{6}) no longer sees
 * it, and an all-upper or all-lower token comes back whole when the case is
 * changed back (a mixed-case one up to its case, which a checksum such as
 * GitHub's settles). Under a comparison they answer as it does.
 */
static const char *const case_folding[] = {"lower", "upper", "initcap"};

/* Functions whose result carries none of their arguments' text. */
static const char *const answering[] = {
	"count", "length", "char_length", "character_length", "octet_length", "bit_length", "pg_column_size",
	"num_nulls", "num_nonnulls", "position", "strpos", "starts_with", "bool_and", "bool_or", "every",
	"json_typeof", "jsonb_typeof", "json_array_length", "jsonb_array_length", "array_length", "array_ndims",
	"cardinality", "row_number", "rank", "dense_rank", "percent_rank", "cume_dist", "ntile", "pg_typeof",
	"isfinite", "regexp_like", "regexp_count", "jsonb_exists", "jsonb_exists_any", "jsonb_exists_all",
};

/* Operators comparing (a yes or a no), and those computing numbers, dates or JSON by key. */
static const char *const comparing[] = {
	"=", "<>", "!=", "<", ">", "<=", ">=", "~~", "~~*", "!~~", "!~~*", "~", "~*", "!~", "!~*", "@>", "<@",
	"&&", "?", "?|", "?&", "@@", "@?", "^@", "-|-",
};
static const char *const computing[] = {
	"+", "-", "*", "/", "%", "^", "->", "->>", "#>", "#>>", "#-", "<<", ">>", "<<=", ">>=", "|/", "||/", "@",
};
static const char *const arithmetic[] = {"+", "-", "*", "/", "%", "^", "|/", "||/", "@"};

/* Casts that keep a value whole (or fail quoting it whole); a length given to a string type cuts.
 * Not interval, macaddr and macaddr8, which write digits anew ('+4915123456789'::interval is
 * 1365312071:19:49, a card's digits as 41:11:11:...), nor the reg* types, whose errors quote
 * the value folded to lower case, nor pg_lsn, which writes it in upper case. */
static const char *const cast_keeping[] = {
	"text", "varchar", "bpchar", "citext", "json", "jsonb", "bytea", "xml", "int2", "int4", "int8", "smallint",
	"integer", "int", "bigint", "numeric", "decimal", "float4", "float8", "real", "bool", "boolean", "date",
	"time", "timetz", "timestamp", "timestamptz", "uuid", "inet", "cidr", "money", "oid",
};

/*
 * Numbers read from a column's text. A cast to a number keeps the digits
 * (4111111111111111 is still a card) where the number goes out as it is or
 * is compared, grouped or ordered by; computed on it is reshaped
 * (card::bigint * 3, round(card::numeric, -4), avg(card::bigint), a CTE's
 * card::bigint that the statement computes on, one stored by INSERT or
 * CREATE TABLE AS to be computed on later). The text of a float, a scale
 * or money rewrites the digits wherever it goes (4.111111111111111e+15,
 * 4111111111111111.00, $4,111,111,111,111,111.00), and so does to_char with
 * a number's format ('9G9G9'). What already is a number in the table is
 * computed on freely: a column rule covers such a column.
 */
static const char *const number_types[] = {
	"int2", "int4", "int8", "smallint", "integer", "int", "bigint", "numeric", "decimal",
	"float4", "float8", "real", "money",
};
static const char *const number_rewriting[] = {"float4", "float8", "real", "money"};
/* Functions returning one of their arguments as it is. */
static const char *const passing[] = {
	"lower", "upper", "initcap", "btrim", "ltrim", "rtrim", "min", "max", "any_value", "first_value",
	"last_value", "nth_value", "lag", "lead",
};
/* ... and those that collect values as they are (into an array, JSON, rows). */
static const char *const collecting[] = {
	"array_agg", "json_agg", "jsonb_agg", "to_json", "to_jsonb", "array_to_json", "json_build_array",
	"jsonb_build_array", "json_build_object", "jsonb_build_object", "json_object_agg", "jsonb_object_agg",
	"unnest", "mode",
};

/* The last String of a name list (funcname, an operator's name, a type's names). */
static const char *last_name(const json_t *names, const char **schema)
{
	size_t n = json_array_size(names);
	if (schema)
		*schema = n > 1 ? pgtree_string(json_array_get(names, 0)) : NULL;
	return n ? pgtree_string(json_array_get(names, n - 1)) : NULL;
}

/* A column reference as written ("t.x", "x"; "*" for a star), malloc'd. */
static char *column_name(const json_t *colref)
{
	buf b = {0};
	const json_t *f = json_object_get(colref, "fields");
	for (size_t i = 0; i < json_array_size(f); i++) {
		const char *s = pgtree_string(json_array_get(f, i));
		buf_printf(&b, "%s%s", i ? "." : "", s ? s : "*");
	}
	buf_append(&b, "", 1);
	return b.data;
}

static void reshaped(rs *r, const json_t *colref, const char *by)
{
	if (r->col)
		return;
	r->col = column_name(colref);
	r->by = util_strndup(by, strlen(by));
}

/*
 * Functions that return values stored apart from any table's columns: a large
 * object's bytes (a document an application stored, lo_import's file).
 * Reshaped, they are as a column is: encode(lo_get(o), 'base64').
 */
static const char *const storing[] = {"lo_get", "loread"};

/* A value fn returns, reshaped by by: named "fn()". */
static void reshaped_call(rs *r, const char *fn, const char *by)
{
	if (r->col)
		return;
	buf b = {0};
	buf_printf(&b, "%s()", fn);
	buf_append(&b, "", 1);
	r->col = b.data;
	r->by = util_strndup(by, strlen(by));
}

/*
 * A column given to a cast to a number or to to_char with a number's format
 * (by): reshaped, unless the catalog says it holds numbers already, which
 * the policy asks (sql_stmt's number_casts). A column whose name has no last
 * field (t.*) is named "*", which no column is.
 */
static void number_cast(rs *r, const json_t *colref, const char *by)
{
	const json_t *f = json_object_get(colref, "fields");
	const char *last = pgtree_string(json_array_get(f, json_array_size(f) ? json_array_size(f) - 1 : 0));
	if (r->n_num == r->cap_num) {
		r->cap_num = r->cap_num ? 2 * r->cap_num : 4;
		r->num = util_xrealloc(r->num, r->cap_num * sizeof(*r->num));
	}
	r->num[r->n_num++] = util_strndup(last ? last : "*", strlen(last ? last : "*"));
	if (!r->ncol) {
		r->ncol = column_name(colref);
		r->nby = util_strndup(by, strlen(by));
	}
}

/* The single typed node j holds ({"Type": body}), or NULL. */
static const char *typed(const json_t *j, const json_t **body)
{
	if (!json_is_object(j) || json_object_size(j) != 1)
		return NULL;
	const char *k = json_object_iter_key(json_object_iter((json_t *)j));
	if (k[0] < 'A' || k[0] > 'Z')
		return NULL;
	*body = json_object_iter_value(json_object_iter((json_t *)j));
	return k;
}

/*
 * The casts whose value j returns as it is, into r->direct: j itself, then
 * in turn a cast's, a collation's or an output column's argument, NULLIF's
 * first, CASE's results, COALESCE's and GREATEST's arguments, a row's and an
 * array's elements, and the arguments of a function returning one of them
 * (max, lower) or collecting them (to_json, array_agg).
 */
static void mark_direct(rs *r, const json_t *j, unsigned depth)
{
	const json_t *b, *args = NULL;
	const char *t = typed(j, &b);
	if (!t || depth > MAX_DEPTH)
		return;
	if (!strcmp(t, "TypeCast")) {
		if (r->n_direct == r->cap_direct) {
			r->cap_direct = r->cap_direct ? 2 * r->cap_direct : 16;
			r->direct = util_xrealloc(r->direct, r->cap_direct * sizeof(*r->direct));
		}
		r->direct[r->n_direct++] = b;
	}
	if (!strcmp(t, "TypeCast") || !strcmp(t, "CollateClause")) {
		mark_direct(r, json_object_get(b, "arg"), depth + 1);
	} else if (!strcmp(t, "ResTarget")) {
		mark_direct(r, json_object_get(b, "val"), depth + 1);
	} else if (!strcmp(t, "A_Expr")) {
		const char *kind = pgtree_str(b, "kind");
		if (kind && !strcmp(kind, "AEXPR_NULLIF"))
			mark_direct(r, json_object_get(b, "lexpr"), depth + 1);
	} else if (!strcmp(t, "CaseExpr")) {
		const json_t *whens = json_object_get(b, "args"), *w;
		for (size_t i = 0; i < json_array_size(whens); i++)
			if (typed(json_array_get(whens, i), &w))
				mark_direct(r, json_object_get(w, "result"), depth + 1);
		mark_direct(r, json_object_get(b, "defresult"), depth + 1);
	} else if (!strcmp(t, "CoalesceExpr") || !strcmp(t, "MinMaxExpr") || !strcmp(t, "RowExpr")) {
		args = json_object_get(b, "args");
	} else if (!strcmp(t, "A_ArrayExpr")) {
		args = json_object_get(b, "elements");
	} else if (!strcmp(t, "FuncCall")) {
		const char *schema, *fn = last_name(json_object_get(b, "funcname"), &schema);
		if (fn && (!schema || !strcmp(schema, "pg_catalog")) && (LISTED(fn, passing) || LISTED(fn, collecting)))
			args = json_object_get(b, "args");
	}
	for (size_t i = 0; i < json_array_size(args); i++)
		mark_direct(r, json_array_get(args, i), depth + 1);
}

static void mark_direct_list(rs *r, const json_t *l)
{
	for (size_t i = 0; i < json_array_size(l); i++)
		mark_direct(r, json_array_get(l, i), 0);
}

/* The statement's own output columns: a SELECT's, its set operation's arms'
 * (a VALUES list names no column). */
static void mark_output(rs *r, const json_t *sel, unsigned depth)
{
	const json_t *b;
	if (!sel || depth > MAX_DEPTH)
		return;
	mark_direct_list(r, json_object_get(sel, "targetList"));
	const char *arms[] = {"larg", "rarg"};
	for (size_t i = 0; i < 2; i++) {
		const json_t *arm = json_object_get(sel, arms[i]);
		mark_output(r, typed(arm, &b) ? b : arm, depth + 1);
	}
}

static int ptr_cmp(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)*(const json_t *const *)a, y = (uintptr_t)*(const json_t *const *)b;
	return x < y ? -1 : x > y;
}

/* (r->direct is sorted once marked: reshape_of) */
static int is_direct(const rs *r, const json_t *cast)
{
	return r->n_direct && bsearch(&cast, r->direct, r->n_direct, sizeof(*r->direct), ptr_cmp) != NULL;
}

/* A constant's text when j is one (a string, or one cast), else NULL; *number: a number's. */
static const char *constant(const json_t *j, int *number)
{
	const json_t *b;
	const char *t = typed(j, &b);
	*number = 0;
	if (t && strcmp(t, "TypeCast") == 0) {
		/* a constant as text only: ' '::char is '' (bpchar drops trailing
		 * spaces), ' 1'::int is 1 */
		const json_t *tn = json_object_get(b, "typeName"), *nm = json_object_get(tn, "names");
		const char *ty = pgtree_string(json_array_get(nm, json_array_size(nm) - 1));
		if (!ty || (strcmp(ty, "text") != 0 && strcmp(ty, "varchar") != 0) ||
		    json_array_size(json_object_get(tn, "typmods")) || json_object_get(tn, "arrayBounds"))
			return NULL;
		t = typed(json_object_get(b, "arg"), &b);
	}
	if (!t || strcmp(t, "A_Const") != 0)
		return NULL;
	const json_t *sv = json_object_get(b, "sval");
	if (sv)
		return pgtree_str(sv, "sval") ? pgtree_str(sv, "sval") : "";
	if (json_is_true(json_object_get(b, "isnull")))
		return ""; /* NULL: concat() skips it, string_agg(x, NULL) glues with nothing */
	*number = 1;
	return "0";
}

/* Whether c separates a value from what is glued to it: no detector's match runs across it. */
static int separating(unsigned char c)
{
	return c && strchr(" \t\r\n,;:|[]{}<>\"'=!?*&#~^`", c) != NULL;
}

/* Whether the constant s, glued before (end) or after (!end) a value, separates at that side. */
static int separates(const char *s, int number, int end)
{
	size_t n = strlen(s);
	if (number || !n)
		return 0;
	return separating((unsigned char)(end ? s[n - 1] : s[0]));
}

/* Pieces of a || chain (a || b || c parses as (a || b) || c). */
typedef struct pieces {
	const json_t *v[64];
	size_t n;
	int over;
} pieces;

static void concat_pieces(pieces *p, const json_t *j, unsigned depth)
{
	const json_t *b;
	const char *t = typed(j, &b);
	const char *kind = t && strcmp(t, "A_Expr") == 0 ? pgtree_str(b, "kind") : NULL;
	if (depth < 64 && kind && strcmp(kind, "AEXPR_OP") == 0) {
		const char *op = last_name(json_object_get(b, "name"), NULL);
		if (op && strcmp(op, "||") == 0 && json_object_get(b, "lexpr") && json_object_get(b, "rexpr")) {
			concat_pieces(p, json_object_get(b, "lexpr"), depth + 1);
			concat_pieces(p, json_object_get(b, "rexpr"), depth + 1);
			return;
		}
	}
	if (p->n == sizeof(p->v) / sizeof(p->v[0])) {
		p->over = 1;
		return;
	}
	p->v[p->n++] = j;
}

/* Whether every piece that is no constant has separating constants (or the ends) on both sides. */
static int glued_apart(rs *r, const pieces *p)
{
	if (p->over)
		return 0;
	r->consts = 1;
	for (size_t i = 0; i < p->n; i++) {
		int num;
		if (constant(p->v[i], &num))
			continue;
		const char *c;
		if (i > 0 && (!(c = constant(p->v[i - 1], &num)) || !separates(c, num, 1)))
			return 0;
		if (i + 1 < p->n && (!(c = constant(p->v[i + 1], &num)) || !separates(c, num, 0)))
			return 0;
	}
	return 1;
}

static void walk_pieces(rs *r, const pieces *p, const char *by, const char *glue, unsigned depth)
{
	const char *b = glued_apart(r, p) ? by : glue;
	for (size_t i = 0; i < p->n; i++)
		walk(r, p->v[i], b, depth + 1);
}

/* A separator argument: a constant that separates at both ends. */
static int separator(rs *r, const json_t *j)
{
	int num;
	const char *s = constant(j, &num);
	r->consts = 1;
	return s && separates(s, num, 0) && separates(s, num, 1);
}

/* Built-in functions that reshape text and run no code of the database's own. */
static const char *const builtin_reshaping[] = {
	"substr", "substring", "left", "right", "split_part", "replace", "translate", "reverse", "regexp_replace",
	"regexp_substr", "regexp_match", "regexp_matches", "regexp_instr", "regexp_split_to_array",
	"regexp_split_to_table", "string_to_array", "string_to_table", "to_tsvector", "to_tsquery",
	"plainto_tsquery", "phraseto_tsquery", "websearch_to_tsquery", "md5", "sha224", "sha256", "sha384",
	"sha512", "encode", "convert_to", "lpad", "rpad", "ltrim", "rtrim", "btrim", "overlay", "repeat",
	"to_hex", "ascii", "chr", "format", "concat", "concat_ws", "string_agg", "array_to_string", "unaccent",
	"soundex", "metaphone", "dmetaphone", "levenshtein", "similarity", "word_similarity", "normalize",
	"xmltable", "xmlelement", "xmlforest", "xmlconcat", "to_char", "similar_to_escape", "like_escape",
};

/* What a node reshaping its input (what) gives its arguments under by: a
 * built-in function where a comparison reads its answer, nothing. */
static const char *reshaping(const char *by, const char *what)
{
	return by == ANSWERED && LISTED(what, builtin_reshaping) ? NULL : what;
}

static void walk_list(rs *r, const json_t *l, const char *by, unsigned depth)
{
	for (size_t i = 0; i < json_array_size(l); i++)
		walk(r, json_array_get(l, i), by, depth + 1);
}

/*
 * Whether to_char's format j is a constant formatting a date or a time: no
 * digit placeholder (9, 0), group or decimal mark (G, D is also a day),
 * roman numerals, an exponent or a shift (V). Another formats a number's
 * digits as it says ('9G9G9' puts a separator between each).
 */
static int date_format(rs *r, const json_t *j)
{
	int num;
	const char *f = constant(j, &num);
	r->consts = 1;
	if (!f || num)
		return 0;
	return !strpbrk(f, "90GgVv") && !strstr(f, "RN") && !strstr(f, "rn") && !strstr(f, "EEEE") &&
	       !strstr(f, "eeee");
}

static void func_call(rs *r, const json_t *b, const char *by, unsigned depth)
{
	const char *schema, *fn = last_name(json_object_get(b, "funcname"), &schema);
	const json_t *args = json_object_get(b, "args");
	size_t na = json_array_size(args);
	/* its ordering, filter and window compare; but the ordering of an
	 * ordered-set aggregate (WITHIN GROUP) is its input: mode() and
	 * percentile_disc() return one of its values, as min() does, and what
	 * reshapes it there reshapes what they return */
	const json_t *order = json_object_get(b, "agg_order");
	if (json_is_true(json_object_get(b, "agg_within_group"))) {
		const char *fn0 = last_name(json_object_get(b, "funcname"), NULL);
		int values = fn0 && (!strcmp(fn0, "mode") || !strcmp(fn0, "percentile_disc"));
		for (size_t i = 0; i < json_array_size(order); i++) {
			const json_t *sb = json_object_get(json_array_get(order, i), "SortBy");
			walk(r, sb ? json_object_get(sb, "node") : json_array_get(order, i),
			     values ? (by == ANSWERED ? NULL : by) : ANSWERED, depth + 1);
		}
		order = NULL;
	}
	walk(r, order, ANSWERED, depth + 1);
	walk(r, json_object_get(b, "agg_filter"), NULL, depth + 1);
	walk(r, json_object_get(b, "over"), ANSWERED, depth + 1);
	if (r->overlap && fn && LISTED(fn, ts_makers)) {
		walk_list(r, args, fn, depth); /* (&& of its query and another's: a query holding both) */
		return;
	}
	if (!fn || (schema && strcmp(schema, "pg_catalog") != 0)) { /* even where it answers */
		snprintf(r->qname, sizeof(r->qname), "%s%s%s", fn && schema ? schema : "", fn && schema ? "." : "",
			 fn ? fn : "a function");
		walk_list(r, args, r->qname, depth);
		return;
	}
	if (by != ANSWERED && LISTED(fn, storing)) {
		/* lo_get(o, offset, length) and loread(fd, length) cut the object
		 * (loread from where an earlier lo_lseek left it) */
		int cut = !strcmp(fn, "loread") || na >= 3;
		if (by || cut)
			reshaped_call(r, fn, by == NUMBER ? r->numby : by ? by : "its offset and length");
	}
	int trim = !strcmp(fn, "btrim") || !strcmp(fn, "ltrim") || !strcmp(fn, "rtrim");
	if (!strcmp(fn, "to_char") && na >= 2 && !date_format(r, json_array_get(args, 1))) {
		/* a number's digits, formatted; its format's text goes out too */
		if (!by) {
			const char *was = r->numby;
			r->numby = fn;
			walk(r, json_array_get(args, 0), NUMBER, depth + 1);
			r->numby = was;
			for (size_t i = 1; i < na; i++)
				walk(r, json_array_get(args, i), fn, depth + 1);
		} else {
			walk_list(r, args, reshaping(by, fn), depth);
		}
	} else if (((!strcmp(fn, "position") || !strcmp(fn, "strpos")) && na == 2) ||
		   (!strcmp(fn, "regexp_count") && na >= 2)) {
		/* where (or how often) the second string is in the first: as a
		 * comparison for the first, but a reshaped value as the second is
		 * found character by character (strpos(alphabet, substr(ssn, i, 1))
		 * is each one's code, so is regexp_count of it in an alphabet whose
		 * k-th character comes k times); a start and flags answer */
		for (size_t i = 0; i < na; i++)
			walk(r, json_array_get(args, i), i == 1 ? (by == ANSWERED ? NULL : by) : ANSWERED, depth + 1);
	} else if (LISTED(fn, answering)) {
		walk_list(r, args, ANSWERED, depth);
	} else if (LISTED(fn, case_folding)) {
		walk_list(r, args, by ? by : fn, depth); /* (ANSWERED passes: it cannot fail) */
	} else if (by == NUMBER && LISTED(fn, numeric_only)) {
		walk_list(r, args, NULL, depth); /* (numbers already) */
	} else if (LISTED(fn, keeping) && !(na > 1 && trim)) {
		walk_list(r, args, by == ANSWERED && !trim ? NULL : by, depth);
	} else if (!strcmp(fn, "concat")) {
		pieces p = {.n = 0};
		for (size_t i = 0; i < na; i++)
			concat_pieces(&p, json_array_get(args, i), 0);
		walk_pieces(r, &p, by, reshaping(by, fn), depth);
	} else if (!strcmp(fn, "concat_ws") && na >= 1) {
		const char *b2 = separator(r, json_array_get(args, 0)) ? by : reshaping(by, fn);
		walk_list(r, args, b2, depth);
	} else if ((!strcmp(fn, "string_agg") || !strcmp(fn, "array_to_string")) && na >= 2) {
		const char *b2 = separator(r, json_array_get(args, 1)) ? by : reshaping(by, fn);
		walk(r, json_array_get(args, 0), b2, depth + 1);
		for (size_t i = 1; i < na; i++)
			walk(r, json_array_get(args, i), reshaping(by, fn), depth + 1);
	} else {
		walk_list(r, args, reshaping(by, fn), depth);
	}
}

/* Whether n makes or holds a text search query or vector: a function
 * returning one, a cast to one, or an operator of them. */
static int text_search(const json_t *n, unsigned depth)
{
	if (!n || depth > 64)
		return 0;
	if (json_is_array(n)) {
		for (size_t i = 0; i < json_array_size(n); i++)
			if (text_search(json_array_get(n, i), depth + 1))
				return 1;
		return 0;
	}
	const json_t *b;
	const char *t = typed(n, &b);
	if (!t)
		return 0;
	if (!strcmp(t, "FuncCall"))
		return LISTED(last_name(json_object_get(b, "funcname"), NULL), ts_makers);
	if (!strcmp(t, "TypeCast")) {
		const char *ty = last_name(json_object_get(json_object_get(b, "typeName"), "names"), NULL);
		return (ty && (!strcmp(ty, "tsquery") || !strcmp(ty, "tsvector"))) ||
		       text_search(json_object_get(b, "arg"), depth + 1);
	}
	if (!strcmp(t, "A_Expr")) {
		const char *op = last_name(json_object_get(b, "name"), NULL);
		return (op && (!strcmp(op, "&&") || !strcmp(op, "||") || !strcmp(op, "!!") || !strcmp(op, "<->"))) &&
		       (text_search(json_object_get(b, "lexpr"), depth + 1) ||
			text_search(json_object_get(b, "rexpr"), depth + 1));
	}
	return !strcmp(t, "CoalesceExpr") && text_search(json_object_get(b, "args"), depth + 1);
}

static void a_expr(rs *r, const json_t *b, const char *by, unsigned depth)
{
	const char *kind = pgtree_str(b, "kind");
	const json_t *l = json_object_get(b, "lexpr"), *rx = json_object_get(b, "rexpr");
	if (!kind)
		kind = "";
	if (!strcmp(kind, "AEXPR_OP")) {
		const char *osch, *op = last_name(json_object_get(b, "name"), &osch);
		if (!op)
			op = "an operator";
		if (osch && strcmp(osch, "pg_catalog") != 0) {
			/* OPERATOR(pg_temp.=): one of the database's own, whatever its name */
			snprintf(r->qname, sizeof(r->qname), "the operator %s.%s", osch, op);
			walk(r, l, r->qname, depth + 1);
			walk(r, rx, r->qname, depth + 1);
			return;
		}
		/* prefix ~ is bitwise NOT, arithmetic (~ card::bigint is -card - 1) */
		int prefix_not = !l && !strcmp(op, "~");
		/* && of two text search queries is a query holding both ('078' & '-05' ...) */
		int tsq_and = !strcmp(op, "&&") && (text_search(l, 0) || text_search(rx, 0));
		if (!strcmp(op, "||") && l && rx) {
			pieces p = {.n = 0};
			concat_pieces(&p, l, 1);
			concat_pieces(&p, rx, 1);
			walk_pieces(r, &p, by, "||", depth);
			return;
		}
		/* (an operator not listed may run code of the database's own;
		 * arithmetic fails quoting no value, so under a comparison it answers
		 * as the comparison does, while a JSON path's error quotes the path:
		 * #- string_to_array(notes, ' ') gives "path element at position 1
		 * is not an integer: "Customer"") */
		const char *b2 = tsq_and ? op
				 : LISTED(op, comparing) && !prefix_not ? ANSWERED
				 : LISTED(op, arithmetic) || prefix_not ? (by == NUMBER ? NULL : by)
				 : LISTED(op, computing)  ? (by == ANSWERED ? NULL : by)
							  : op;
		/* (a query made under a wrapper, CASE, greatest(), a subquery, is
		 * a query all the same: && of two is one holding both) */
		int overlap = !strcmp(op, "&&");
		r->overlap += overlap;
		walk(r, l, b2, depth + 1);
		walk(r, rx, b2, depth + 1);
		r->overlap -= overlap;
		return;
	}
	if (!strcmp(kind, "AEXPR_NULLIF")) {
		walk(r, l, by, depth + 1);
		walk(r, rx, ANSWERED, depth + 1);
		return;
	}
	/* ANY/ALL, LIKE, ILIKE, SIMILAR, BETWEEN, IN, IS DISTINCT FROM: a yes or a no */
	walk(r, l, ANSWERED, depth + 1);
	walk(r, rx, ANSWERED, depth + 1);
}

static void type_cast(rs *r, const json_t *b, const char *by, unsigned depth)
{
	const json_t *tn = json_object_get(b, "typeName");
	const char *schema, *t = last_name(json_object_get(tn, "names"), &schema);
	static const char *const strings[] = {"varchar", "bpchar", "char", "character", "text", "citext"};
	static const char *const searching[] = {"tsvector", "tsquery"};
	int builtin = t && (!schema || !strcmp(schema, "pg_catalog"));
	int cuts = builtin && json_array_size(json_object_get(tn, "typmods")) && LISTED(t, strings);
	/* a float's, a scale's or money's text rewrites the digits of a column's
	 * number; another number is computed on unless it goes out as it is (or
	 * is compared, ordered or grouped by: ANSWERED) */
	int number = builtin && LISTED(t, number_types);
	int rewrites = number && (LISTED(t, number_rewriting) || json_array_size(json_object_get(tn, "typmods")));
	if (!by && number && (rewrites || !is_direct(r, b))) {
		char what[64];
		snprintf(what, sizeof(what), "a cast to %s%s", t, rewrites ? "" : " computed on");
		const char *was = r->numby;
		r->numby = what;
		walk(r, json_object_get(b, "arg"), NUMBER, depth + 1);
		r->numby = was;
		return;
	}
	const char *b2;
	if (builtin && LISTED(t, cast_keeping) && !cuts)
		b2 = by == ANSWERED ? NULL : by; /* (its error would quote its input: no longer ANSWERED) */
	else if (by == ANSWERED && (cuts || (builtin && LISTED(t, searching) && !r->overlap)))
		b2 = NULL;
	else
		b2 = "a cast"; /* (a type of the database's own has input code of its own) */
	walk(r, json_object_get(b, "arg"), b2, depth + 1);
}

static void case_expr(rs *r, const json_t *b, const char *by, unsigned depth)
{
	walk(r, json_object_get(b, "arg"), ANSWERED, depth + 1);
	const json_t *whens = json_object_get(b, "args");
	for (size_t i = 0; i < json_array_size(whens); i++) {
		const json_t *w;
		if (typed(json_array_get(whens, i), &w)) {
			walk(r, json_object_get(w, "expr"), ANSWERED, depth + 1);
			walk(r, json_object_get(w, "result"), by, depth + 1);
		}
	}
	walk(r, json_object_get(b, "defresult"), by, depth + 1);
}

/* A SELECT whose output columns go where `by` says. */
static void select_stmt(rs *r, const json_t *b, const char *by, unsigned depth)
{
	const char *k;
	const json_t *v, *arm;
	if (depth > MAX_DEPTH) {
		r->deep = 1;
		return;
	}
	json_object_foreach((json_t *)b, k, v) {
		if (!strcmp(k, "targetList") || !strcmp(k, "valuesLists"))
			walk(r, v, by, depth + 1);
		else if (!strcmp(k, "larg") || !strcmp(k, "rarg")) /* (a SelectStmt's body) */
			select_stmt(r, typed(v, &arm) ? arm : v, by, depth + 1);
		else if (!strcmp(k, "groupClause") || !strcmp(k, "distinctClause") || !strcmp(k, "sortClause"))
			walk(r, v, ANSWERED, depth + 1);
		else
			walk(r, v, NULL, depth + 1);
	}
}

static void sublink(rs *r, const json_t *b, const char *by, unsigned depth)
{
	const char *t = pgtree_str(b, "subLinkType");
	int value = t && (!strcmp(t, "EXPR_SUBLINK") || !strcmp(t, "ARRAY_SUBLINK") || !strcmp(t, "MULTIEXPR_SUBLINK"));
	walk(r, json_object_get(b, "testexpr"), ANSWERED, depth + 1);
	const json_t *sb;
	const char *st = typed(json_object_get(b, "subselect"), &sb);
	if (st && !strcmp(st, "SelectStmt"))
		select_stmt(r, sb, value ? by : ANSWERED, depth + 1);
	else
		walk(r, json_object_get(b, "subselect"), value ? by : ANSWERED, depth + 1);
}

static int xml_op(const json_t *b, const char *op)
{
	const char *o = pgtree_str(b, "op");
	return o && !strcmp(o, op);
}

static void walk(rs *r, const json_t *j, const char *by, unsigned depth)
{
	if (!j || r->col)
		return;
	if (depth > MAX_DEPTH) {
		r->deep = 1;
		return;
	}
	if (json_is_array(j)) {
		walk_list(r, j, by, depth);
		return;
	}
	if (!json_is_object(j))
		return;
	const json_t *b;
	const char *t = typed(j, &b);
	if (!t) {
		const char *k;
		const json_t *v;
		json_object_foreach((json_t *)j, k, v)
			walk(r, v, by, depth + 1);
		return;
	}
	if (!strcmp(t, "ColumnRef")) {
		const char *fn = pgtree_field_function(json_object_get(b, "fields"));
		if (fn && by != ANSWERED)
			reshaped(r, b, fn); /* c.to_json: to_json(c), its row's text */
		else if (by == NUMBER)
			number_cast(r, b, r->numby);
		else if (by && by != ANSWERED)
			reshaped(r, b, by);
	} else if (!strcmp(t, "FuncCall")) {
		func_call(r, b, by, depth);
	} else if (!strcmp(t, "A_Expr")) {
		a_expr(r, b, by, depth);
	} else if (!strcmp(t, "TypeCast")) {
		type_cast(r, b, by, depth);
	} else if (!strcmp(t, "CaseExpr")) {
		case_expr(r, b, by, depth);
	} else if (!strcmp(t, "SelectStmt")) {
		select_stmt(r, b, by, depth);
	} else if (!strcmp(t, "SubLink")) {
		sublink(r, b, by, depth);
	} else if (!strcmp(t, "BoolExpr") || !strcmp(t, "NullTest") || !strcmp(t, "BooleanTest")) {
		walk(r, b, ANSWERED, depth + 1);
	} else if (!strcmp(t, "GroupingFunc") || !strcmp(t, "SortBy") || !strcmp(t, "WindowDef")) {
		walk(r, b, ANSWERED, depth + 1); /* orders, groups: as a comparison */
	} else if (!strcmp(t, "RangeTableFunc")) {
		walk(r, b, reshaping(by, "xmltable"), depth + 1);
	} else if (!strcmp(t, "XmlExpr") && (xml_op(b, "IS_XMLELEMENT") || xml_op(b, "IS_XMLFOREST") ||
					     xml_op(b, "IS_XMLCONCAT"))) {
		/* an element's content and attributes: a bytea in base64 (or, with
		 * xmlbinary = hex, in hex without "\x"), a string with its <, > and &
		 * written as entities; xmlconcat glues its arguments with nothing
		 * between (xmlconcat(ssn::xml, ssn::xml)) */
		walk(r, b, reshaping(by, xml_op(b, "IS_XMLELEMENT") ? "xmlelement"
					 : xml_op(b, "IS_XMLFOREST") ? "xmlforest" : "xmlconcat"), depth + 1);
	} else if (!strcmp(t, "CoalesceExpr") || !strcmp(t, "MinMaxExpr") || !strcmp(t, "CollateClause") ||
		   !strcmp(t, "RowExpr") || !strcmp(t, "A_ArrayExpr") || !strcmp(t, "A_Indirection") ||
		   !strcmp(t, "NamedArgExpr") || !strcmp(t, "List") || !strcmp(t, "ResTarget")) {
		walk(r, b, by, depth + 1); /* (none fails on its input: ANSWERED passes) */
	} else {
		walk(r, b, by == ANSWERED ? NULL : by, depth + 1);
	}
}

/*
 * The names j gives columns other than its relations' own: a CTE's and a
 * subquery's in FROM (its output columns, as PostgreSQL names them, every
 * arm of a UNION's; VALUES' column1, ...), an alias list's (`t AS x(a, b)`,
 * a CTE's `t(a, b)`, a join's). A function or XMLTABLE in FROM, `*` in such
 * a body or a name not worked out: any name (any). A number cast's column
 * of one of these names may be one of those columns, whatever the catalog
 * says of a relation's column of that name.
 */
typedef struct col_names {
	const char **v;
	size_t n, cap;
	int any;
} col_names;

static void name_add(col_names *s, const char *name)
{
	if (!name) {
		s->any = 1;
		return;
	}
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 16;
		s->v = util_xrealloc(s->v, s->cap * sizeof(*s->v));
	}
	s->v[s->n++] = name;
}

static void names_list(const json_t *l, col_names *s)
{
	for (size_t i = 0; i < json_array_size(l); i++)
		name_add(s, pgtree_string(json_array_get(l, i)));
}

static void output_names(const json_t *sel, col_names *s, unsigned depth);

/* What PostgreSQL names an output column computing val, or names it may (FigureColname). */
static void figure(const json_t *val, col_names *s, unsigned depth)
{
	const json_t *b;
	const char *t = typed(val, &b);
	if (!t || depth > MAX_DEPTH) {
		s->any = 1;
		return;
	}
	if (!strcmp(t, "ColumnRef") || !strcmp(t, "A_Indirection")) {
		const json_t *f = json_object_get(b, !strcmp(t, "ColumnRef") ? "fields" : "indirection");
		const json_t *last = json_array_get(f, json_array_size(f) ? json_array_size(f) - 1 : 0), *lb;
		const char *lt = typed(last, &lb);
		if (lt && !strcmp(lt, "String"))
			name_add(s, pgtree_string(last));
		else if (lt && !strcmp(lt, "A_Indices"))
			figure(json_object_get(b, "arg"), s, depth + 1);
		else
			s->any = 1; /* (* and the like) */
	} else if (!strcmp(t, "FuncCall")) {
		name_add(s, last_name(json_object_get(b, "funcname"), NULL));
	} else if (!strcmp(t, "TypeCast")) {
		figure(json_object_get(b, "arg"), s, depth + 1);
		name_add(s, last_name(json_object_get(json_object_get(b, "typeName"), "names"), NULL));
	} else if (!strcmp(t, "CollateClause")) {
		figure(json_object_get(b, "arg"), s, depth + 1);
	} else if (!strcmp(t, "SubLink")) {
		const json_t *sb;
		name_add(s, "exists");
		name_add(s, "array");
		if (typed(json_object_get(b, "subselect"), &sb))
			output_names(sb, s, depth + 1);
	} else {
		static const char *const fixed[] = {
			"?column?", "case", "coalesce", "greatest", "least", "array", "row", "nullif", "grouping",
			"current_date", "current_time", "current_timestamp", "localtime", "localtimestamp",
			"current_role", "current_user", "user", "session_user", "current_catalog", "current_schema",
			"xmlconcat", "xmlelement", "xmlexists", "xmlforest", "xmlparse", "xmlpi", "xmlroot", "xmlserialize",
		};
		for (size_t i = 0; i < sizeof(fixed) / sizeof(*fixed); i++)
			name_add(s, fixed[i]);
	}
}

/* The output columns' names of sel (a SELECT's body, or a write's RETURNING). */
static void output_names(const json_t *sel, col_names *s, unsigned depth)
{
	const json_t *b;
	if (depth > MAX_DEPTH) {
		s->any = 1;
		return;
	}
	const json_t *rows = json_object_get(sel, "valuesLists");
	if (json_array_size(rows)) {
		static const char *const column[] = {"column1", "column2", "column3", "column4", "column5",
						     "column6", "column7", "column8"};
		const json_t *first = json_array_get(rows, 0), *l;
		size_t n = json_array_size(typed(first, &l) ? json_object_get(l, "items") : first);
		if (n > sizeof(column) / sizeof(*column))
			s->any = 1;
		for (size_t i = 0; i < n && i < sizeof(column) / sizeof(*column); i++)
			name_add(s, column[i]);
	}
	const char *lists[] = {"targetList", "returningList"};
	for (size_t k = 0; k < 2; k++) {
		const json_t *l = json_object_get(sel, lists[k]);
		for (size_t i = 0; i < json_array_size(l); i++) {
			const json_t *rt;
			if (!typed(json_array_get(l, i), &rt)) {
				s->any = 1;
				continue;
			}
			const char *name = pgtree_str(rt, "name");
			if (name)
				name_add(s, name);
			else
				figure(json_object_get(rt, "val"), s, depth + 1);
		}
	}
	const char *arms[] = {"larg", "rarg"};
	for (size_t i = 0; i < 2; i++) {
		const json_t *arm = json_object_get(sel, arms[i]);
		if (arm)
			output_names(typed(arm, &b) ? b : arm, s, depth + 1);
	}
}

static void renamed_names(const json_t *j, col_names *s, unsigned depth)
{
	if (depth > MAX_DEPTH) {
		s->any = 1;
		return;
	}
	if (json_is_array(j)) {
		for (size_t i = 0; i < json_array_size(j); i++)
			renamed_names(json_array_get(j, i), s, depth + 1);
		return;
	}
	if (!json_is_object(j))
		return;
	const json_t *b, *q;
	if ((b = json_object_get(j, "CommonTableExpr")) != NULL) {
		names_list(json_object_get(b, "aliascolnames"), s);
		if (typed(json_object_get(b, "ctequery"), &q))
			output_names(q, s, depth + 1);
		else
			s->any = 1;
	} else if ((b = json_object_get(j, "RangeSubselect")) != NULL) {
		if (typed(json_object_get(b, "subquery"), &q))
			output_names(q, s, depth + 1);
		else
			s->any = 1;
	} else if (json_object_get(j, "RangeFunction") || json_object_get(j, "RangeTableFunc")) {
		s->any = 1;
	} else if (json_object_get(j, "aliasname")) {
		names_list(json_object_get(j, "colnames"), s);
	}
	const char *k;
	const json_t *v;
	json_object_foreach((json_t *)j, k, v)
		renamed_names(v, s, depth + 1);
}

/* Whether one of the number casts' names may be a column j gives a name (renamed_names). */
static int renamed(const json_t *j, char *const *num, size_t n_num)
{
	col_names s = {0};
	renamed_names(j, &s, 0);
	int hit = s.any;
	for (size_t i = 0; i < s.n && !hit; i++)
		for (size_t k = 0; k < n_num && !hit; k++)
			hit = !strcmp(s.v[i], num[k]);
	free(s.v);
	return hit;
}

void reshape_of(const char *kind, json_t *body, sql_stmt *st)
{
	rs r = {0};
	const json_t *q;
	const char *qt = typed(json_object_get(body, "query"), &q);
	/* the statement's own output columns: a SELECT's; a cursor's rows and COPY
	 * (query) TO STDOUT's go to the client too (psql's FETCH_COUNT reads every
	 * result through a cursor), and so does a RETURNING list */
	if (!strcmp(kind, "SelectStmt"))
		mark_output(&r, body, 0);
	else if ((!strcmp(kind, "DeclareCursorStmt") || !strcmp(kind, "CopyStmt")) && qt && !strcmp(qt, "SelectStmt"))
		mark_output(&r, q, 0);
	mark_direct_list(&r, json_object_get(body, "returningList")); /* INSERT, UPDATE, DELETE */
	if (r.n_direct)
		qsort(r.direct, r.n_direct, sizeof(*r.direct), ptr_cmp);
	if (!strcmp(kind, "SelectStmt"))
		select_stmt(&r, body, NULL, 0);
	else
		walk(&r, body, NULL, 0);
	free(r.direct);
	if (r.deep && !r.col) {
		r.col = util_strndup("*", 1);
		r.by = util_strndup("an expression nested too deep to read", 37);
	}
	if (!r.col && r.ncol) {
		/* only number casts: named as reshaped, and let through by the
		 * policy where the columns hold numbers */
		r.col = r.ncol;
		r.by = r.nby;
		r.ncol = r.nby = NULL;
		if (!renamed(body, r.num, r.n_num)) {
			st->number_casts = r.num;
			st->n_number_casts = r.n_num;
			r.num = NULL;
			r.n_num = 0;
		}
	}
	free(r.ncol);
	free(r.nby);
	for (size_t i = 0; i < r.n_num; i++)
		free(r.num[i]);
	free(r.num);
	st->reshaped = r.col;
	st->reshaped_by = r.by;
	st->reshape_consts = r.consts;
}
