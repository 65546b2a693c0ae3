/*
 * exposure — the columns a statement computes on rather than reads as
 * themselves, for column rules (masking.profiles[].columns).
 *
 * A column rule masks a column's values where they arrive as themselves: the
 * RowDescription names their table and column. A value computed on —
 * upper(password), password || '', password::int (whose error quotes it), a
 * scalar subquery, a WHERE that compares it, an INSERT ... SELECT that copies
 * it — arrives with no such name, so a statement doing that to a masked
 * column is refused instead (policy.c). exposure.c says how the parse tree
 * is read.
 */
#ifndef WARDEN_EXPOSURE_H
#define WARDEN_EXPOSURE_H

#include <stddef.h>

#include <jansson.h>

/*
 * For the statement node key ("SelectStmt", "InsertStmt", ...) with body
 * body (libpg_query's JSON): *computed (malloc'd, each malloc'd) the column
 * names computed on, as the parser folded them; *whole 1 when columns the
 * text does not name are (a whole row, a `*` inside an expression, a FROM
 * alias list over a table).
 */
void exposure_of(const char *key, json_t *body, char ***computed, size_t *n_computed, int *whole);

#endif
