/*
 * reshape — whether a statement reshapes column values, for profiles with
 * `transforms: refuse` (masking.profiles[].transforms).
 *
 * Detectors find a sensitive value by its shape: an email's "@", a card's
 * digits and checksum, an SSN's groups. A statement that reshapes a value
 * before it leaves the target — encode(notes::bytea, 'base64'),
 * replace(email, '@', ' at '), reverse(x), substr(ssn, 1, 3),
 * regexp_split_to_table(x, ''), ssn || '0', md5(pin) — returns it in a form
 * no detector recognises, or a piece of it, or one a dictionary reverses.
 * Such a profile refuses it: a column may be read as itself, compared,
 * counted, or passed through what keeps it whole (lower, upper, coalesce,
 * CASE, casts to text, aggregates that collect values, JSON builders, date
 * and number functions, `||` with a constant that separates) — wherever it
 * stands, since a reshaped value in a WHERE can come back in an error's text
 * (`encode(x::bytea, 'base64')::int`). reshape.c says how the tree is read.
 */
#ifndef WARDEN_RESHAPE_H
#define WARDEN_RESHAPE_H

#include <jansson.h>

#include "policy/sqlclass.h"

/*
 * For the statement body (libpg_query's JSON, the node under its type name
 * kind),
 * sets st->reshaped (malloc'd: the first column reference reshaped, as
 * written, "t.x" or "x") and st->reshaped_by (malloc'd: the function, the
 * operator or the cast reshaping it), or leaves them NULL; and
 * st->reshape_consts when the answer read a constant's text (a separator),
 * which normalization hides.
 */
void reshape_of(const char *kind, json_t *body, sql_stmt *st);

#endif
