/*
 * exposure — the columns a statement computes on rather than reads as
 * themselves, for column rules (masking.profiles[].columns).
 *
 * A column rule masks a column's values where they arrive as themselves: the
 * RowDescription names their table and column. A value computed on —
 * upper(password), password || '', password::int (whose error quotes it), a
 * scalar subquery, a WHERE that compares it, an INSERT ... SELECT that copies
 * it — arrives with no such name, so a statement doing that to a masked
 * column is refused instead (policy.c). So is one renaming what the rules
 * name (a column, a relation, a schema) out of them, and one defining code
 * (a DO block, a function, a trigger, a rule) whose reads the walk cannot
 * see. exposure.c says how the parse tree is read.
 *
 * For json_keys (masking.profiles[].json_keys), which mask a value inside its
 * document by its key: the keys the statement reads JSON values at apart
 * from their documents (->>, #>>, a subscript, a jsonpath, ...), and whether
 * it reads at keys its text does not give (jsonb_each, a key from a
 * parameter): such a value would arrive with no key to mask it by. And the
 * column names it computes on other than as JSON documents — read by a key
 * or path its text gives, tested for what they are (IS NULL, ?,
 * jsonb_typeof), or sent whole in its own select list (as themselves, cast
 * to json, jsonb or text, in a row, an array, array_agg, to_jsonb, ...):
 * replace(profile::text, ...) gives a document's values with no key to mask
 * them by. policy.c reads those names against the target's JSON columns.
 */
#ifndef WARDEN_EXPOSURE_H
#define WARDEN_EXPOSURE_H

#include <stddef.h>

#include <jansson.h>

#include "policy/sqlclass.h"

/*
 * For the statement node key ("SelectStmt", "InsertStmt", ...) with body
 * body (libpg_query's JSON), fills st's column-rule fields: computed
 * (malloc'd, each malloc'd) the column names computed on, as the parser
 * folded them; computed_whole 1 when columns the text does not name are (a
 * whole row, a `*` inside an expression, a FROM alias list over a table, a
 * NATURAL JOIN, a position after a `*` in ORDER BY, GROUP BY or DISTINCT
 * ON); renames, the names it changes; defines_code; json_keys (malloc'd,
 * each malloc'd), json_any and json_reads; doc_computed and doc_whole, as
 * computed and computed_whole are for documents, and doc_texted, the names
 * it sends whole cast to text (no document when the column is an array of
 * them). sqlclass_free frees them.
 */
void exposure_of(const char *key, json_t *body, sql_stmt *st);

#endif
