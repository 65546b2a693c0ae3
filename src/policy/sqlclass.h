/*
 * sqlclass — what a SQL text really does, from PostgreSQL's own grammar
 * (libpg_query), in protocol-neutral terms the policy matches on.
 *
 * For each statement of a text: its kinds (a bit set: an EXPLAIN ANALYZE of a
 * DELETE is both read and write), its command word ("select", "drop", ...),
 * the relations it names (schema as written, NULL when unqualified; read or
 * written), the functions it calls, and flags. Text the parser rejects is one
 * statement of kind `unknown` carrying the parser's message.
 *
 * Nothing here is cached or depends on a session: the same text always gives
 * the same result. The cache and per-session state (SQL-level PREPARE names,
 * search_path) live in policy.c.
 */
#ifndef WARDEN_SQLCLASS_H
#define WARDEN_SQLCLASS_H

#include <stddef.h>
#include <stdint.h>

/* kinds: bits */
enum {
	SQLK_READ = 1u << 0,          /* SELECT, SHOW, EXPLAIN (no ANALYZE), FETCH, TABLE, VALUES */
	SQLK_WRITE = 1u << 1,         /* INSERT/UPDATE/DELETE/MERGE, SELECT INTO, CREATE TABLE AS,
				       * REFRESH MATERIALIZED VIEW, SELECT ... FOR UPDATE/SHARE is read+lock */
	SQLK_DDL = 1u << 2,           /* CREATE/ALTER/DROP/TRUNCATE/COMMENT/RENAME/... */
	SQLK_DCL = 1u << 3,           /* GRANT/REVOKE, CREATE/ALTER/DROP ROLE, SET ROLE,
				       * SET SESSION AUTHORIZATION, RESET ROLE, ALTER DEFAULT PRIVILEGES */
	SQLK_COPY_IN = 1u << 4,       /* COPY ... FROM STDIN / file */
	SQLK_COPY_OUT = 1u << 5,      /* COPY ... TO STDOUT / file */
	SQLK_COPY_PROGRAM = 1u << 6,  /* COPY ... TO/FROM PROGRAM */
	SQLK_CALL = 1u << 7,          /* CALL procedure */
	SQLK_PROCEDURAL = 1u << 8,    /* DO blocks: opaque code */
	SQLK_TRANSACTION = 1u << 9,   /* BEGIN/COMMIT/ROLLBACK/SAVEPOINT/... */
	SQLK_SET = 1u << 10,          /* SET/RESET/SET LOCAL of ordinary parameters */
	SQLK_LOCK = 1u << 11,         /* LOCK TABLE; SELECT ... FOR UPDATE/SHARE */
	SQLK_MAINTENANCE = 1u << 12,  /* VACUUM, ANALYZE, CLUSTER, REINDEX, CHECKPOINT */
	SQLK_UTILITY = 1u << 13,      /* LISTEN/NOTIFY/UNLISTEN, DISCARD, DEALLOCATE, LOAD, ... */
	SQLK_UNKNOWN = 1u << 14,      /* rejected by the parser, or a node not classified;
				       * also (fail closed): an EXECUTE inside another
				       * statement, and SET/RESET of standard_conforming_strings
				       * or client_encoding (they change how later text lexes) */
};
#define SQLK_COUNT 15

/* flags: bits */
enum {
	SQLF_MULTI_STATEMENT = 1u << 0,   /* set on every statement of a text holding more than one */
	SQLF_WRITES_IN_CTE = 1u << 1,     /* a data-modifying WITH inside any statement */
	SQLF_NO_WHERE = 1u << 2,          /* UPDATE or DELETE without WHERE (WHERE CURRENT OF counts as WHERE) */
	SQLF_EXPLAIN_ANALYZE = 1u << 3,   /* EXPLAIN ANALYZE: the inner statement runs */
	SQLF_PREPARED = 1u << 4,          /* PREPARE name AS ... / EXECUTE name */
	SQLF_DANGEROUS_FUNCTION = 1u << 5,/* set by the policy from policy.dangerous_functions */
};
#define SQLF_COUNT 6

typedef struct sql_object {
	char *schema;           /* as written, folded as PostgreSQL folds it; NULL when unqualified */
	char *name;
	int written;            /* 1: the statement writes it (or alters/drops it); 0: reads */
} sql_object;

/*
 * A change of name column rules see (exposure.h): they mask columns by
 * "schema.table.column", so a statement giving a column, a relation's
 * columns or a schema's tables other names can take them out of the rules.
 *   column:   column `column` of relation schema.relation renamed to `to`
 *   relation: the columns of schema.relation seen as those of to_schema.to
 *             (RENAME: same_schema; SET SCHEMA; INHERIT and ATTACH PARTITION:
 *             the parent's scans return the child's rows under its names)
 *   schema:   relation NULL, schema `schema` renamed to `to`
 * Schemas as written (NULL: unqualified).
 */
typedef struct sql_rename {
	char *schema, *relation, *column;
	char *to_schema, *to;
	int same_schema;
	int detaches;           /* DETACH PARTITION, NO INHERIT: relation is the parent whose rows (and its
				 * parents') to stop holding: their rules cover them no longer */
} sql_rename;

typedef struct sql_stmt {
	uint32_t kinds;
	uint32_t flags;
	const char *command;    /* static lowercase word: "select", "insert", "drop", "truncate", ... */
	sql_object *objects;    /* each relation once (written wins over read) */
	size_t n_objects;
	char **functions;       /* called functions, "schema.name" or "name", lowercase as folded */
	size_t n_functions;
	char *prepare_name;     /* PREPARE name AS ...: the name; the kinds are the inner statement's */
	const char *inner_command; /* PREPARE: the prepared statement's command word ("delete") */
	char *execute_name;     /* EXECUTE name */
	char *deallocate_name;  /* DEALLOCATE name; "" for DEALLOCATE ALL */
	int sets_search_path;   /* SET/RESET [LOCAL] search_path */
	char **search_path;     /* the schemas it sets (empty for RESET / DEFAULT), or a
				 * set_config('search_path', ...) call does (sets_search_path unset) */
	size_t n_search_path;
	int search_path_unknown; /* set_config() of search_path (or of a name not a constant) to a value
				  * not a constant */
	int tx_end;             /* COMMIT/END/ROLLBACK/ABORT/PREPARE TRANSACTION */
	int sets_lexing;        /* SET/RESET of standard_conforming_strings or client_encoding, or a
				 * set_config() call: classified by its value, so never cached by
				 * normalized text */
	int leaves_utf8;        /* it may send rows in another encoding than UTF-8 (SET
				 * client_encoding, SET NAMES, set_config(), COPY's ENCODING):
				 * bytes the detectors do not read */
	int location, length;   /* byte range in the text; length 0 = to the end */
	/* column rules (exposure.h): the column names it computes on, and
	 * whether columns it does not name are (a whole row, `*` in an expression) */
	char **computed;
	size_t n_computed;
	int computed_whole;
	sql_rename *renames;    /* the names it changes */
	size_t n_renames;
	int defines_code;       /* DO, CREATE FUNCTION/PROCEDURE, TRIGGER, RULE: code the walk cannot read */
	int links_foreign;      /* CREATE FOREIGN TABLE/SERVER, USER MAPPING, IMPORT FOREIGN SCHEMA, ALTER of one */
	int reorders;           /* CLUSTER, ALTER TABLE ... CLUSTER ON: rows stored in an index's order */
	int function_call;      /* a FunctionCall message (request_desc.function_call): kinds call + unknown */
	const char *query_function; /* a call running SQL given as text or reading whole tables
				     * (query_to_xml, table_to_xml, ts_stat, dblink, ...): its name (static) */
	/* json_keys (exposure.h): the keys it reads JSON values at by name, what
	 * reads them at keys its text does not give (its name, static), and
	 * whether it reads JSON by key or path at all */
	char **json_keys;
	size_t n_json_keys;
	const char *json_any;
	int json_reads;
	/* json_keys (exposure.h): the column names it computes on other than as
	 * JSON documents (read by key, or sent whole), and whether columns it
	 * does not name are */
	char **doc_computed;
	size_t n_doc_computed;
	int doc_whole;
	char **doc_texted;      /* ... and those it sends whole cast to text (an array of documents'
				 * text is none: policy.c refuses that) */
	size_t n_doc_texted;
	char **doc_stored;      /* ... and the columns its SETs give documents (exposure.c's doc_stores),
				 * each from the column doc_stored_from[i] names (policy.c refuses a JSON
				 * column's stored into one that is no JSON column of what it writes) */
	char **doc_stored_from;
	size_t n_doc_stored;
	/* the columns it writes (INSERT's, UPDATE's SET, MERGE's, COPY FROM's) but
	 * those given DEFAULT or NULL, or every column of what it writes
	 * (writes_all: no column list); writes_const: a constant is written (NULL
	 * or not: normalization gives both one text, policy.c's cache tells them apart) */
	char **written;
	size_t n_written;
	int writes_all;
	int writes_const;
	int unparsed;           /* the text does not parse (sql_class.error): nothing of it is known */
	int execute_unknown;    /* (policy.c) an EXECUTE of a name no PREPARE of the session made: a
				 * protocol Parse's, whose text the policy does not hold */
	/* transforms: refuse (reshape.h): the first column reference it reshapes
	 * and what reshapes it (both NULL: none), and whether that answer read a
	 * constant's text (a separator), which normalization hides */
	char *reshaped, *reshaped_by;
	int reshape_consts;
	/* ... when all it reshapes is columns cast to a number or formatted as
	 * one (to_char), and no CTE, subquery in FROM, VALUES or alias list of
	 * it names a column so (nor a function or XMLTABLE in FROM, which may
	 * name any): their names, which the policy lets through when the
	 * catalog says each holds numbers (numbers_held) */
	char **number_casts;
	size_t n_number_casts;
} sql_stmt;

typedef struct sql_class {
	sql_stmt *stmts;
	size_t n;
	uint32_t kinds;         /* union over statements */
	uint32_t flags;         /* union over statements */
	char *error;            /* the parser's message when the text does not parse */
} sql_class;

/*
 * Classifies text[0, len). Always returns a result (NULL only when out of
 * memory): text that does not parse gives one SQLK_UNKNOWN statement and
 * `error`. An empty text (only whitespace/comments) gives n == 0.
 */
sql_class *sqlclass_classify(const char *text, size_t len);
void sqlclass_free(sql_class *c);
sql_rename *sqlclass_renames_dup(const sql_rename *r, size_t n);
void sqlclass_renames_free(sql_rename *r, size_t n);

const char *sqlclass_kind_name(uint32_t kind_bit);   /* "read", "write", ...; NULL if not one bit */
const char *sqlclass_flag_name(uint32_t flag_bit);   /* "multi_statement", ... */
/* Returns the bit for a name, or 0. */
uint32_t sqlclass_kind_parse(const char *name);
uint32_t sqlclass_flag_parse(const char *name);
/*
 * Whether the server lexes text as libpg_query does under this client_encoding
 * (ASCII-safe encodings; not SJIS, BIG5, GBK, UHC, GB18030, JOHAB, ...), or
 * this standard_conforming_strings value is on.
 */
int sqlclass_encoding_safe(const char *encoding);
/* Whether the encoding name is UTF8's (PostgreSQL's matching: case and non-alphanumerics aside; UNICODE too). */
int sqlclass_encoding_utf8(const char *encoding);
int sqlclass_bool_on(const char *value);
/* 1 when name is a command word sqlclass can give (the `statements` match key checks it). */
int sqlclass_command_known(const char *name);

/* What a COPY ... TO STDOUT sends, for the mask stage to find its columns. */
typedef struct sql_copy_out {
	char *schema, *table;   /* NULL table: COPY (query) TO STDOUT */
	char **columns;         /* the column list as written; n_columns 0: every column */
	size_t n_columns;
	int csv, binary;
	int header;             /* the first row is the column names */
	char delimiter, quote;  /* as given, or the format's default */
	char escape;            /* CSV's: as given, or the quote */
} sql_copy_out;

/*
 * The COPY ... TO STDOUT statements of text, in their order (the k-th
 * CopyOutResponse of its results is the k-th's), into *out (NULL when none);
 * returns how many. -1: text does not parse.
 */
int sqlclass_copy_outs(const char *text, size_t len, sql_copy_out **out);
void sqlclass_copy_out_free(sql_copy_out *c);

#endif
