/*
 * pgtree — reading libpg_query's JSON parse tree (jansson): the helpers
 * sqlclass.c and exposure.c share.
 */
#ifndef WARDEN_PGTREE_H
#define WARDEN_PGTREE_H

#include <stddef.h>
#include <string.h>

#include <jansson.h>

/* The string member key of object o, or NULL. */
static inline const char *pgtree_str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* The sval of a {"String":{"sval":...}} node; "" when the value is empty, NULL for another node. */
static inline const char *pgtree_string(const json_t *n)
{
	const json_t *s = json_object_get(n, "String");
	if (!json_is_object(s))
		return NULL;
	const char *v = pgtree_str(s, "sval");
	return v ? v : "";
}

/* The entry of list l[0, n) that is s (NULL matches none), or NULL. */
static inline const char *pgtree_listed(const char *s, const char *const *l, size_t n)
{
	for (size_t i = 0; s && i < n; i++)
		if (strcmp(s, l[i]) == 0)
			return l[i];
	return NULL;
}
#define PGTREE_LISTED(s, l) pgtree_listed((s), (l), sizeof(l) / sizeof((l)[0]))

/*
 * The function column reference fields (a.b, s.a.b) calls on a's whole row
 * when its last name is one of these: PostgreSQL reads `c.to_json` as
 * to_json(c) where c has no column of that name (the built-ins taking a
 * record or any value alone, aggregates too: c.array_agg is array_agg(c);
 * hstore is an extension's). NULL when it is not.
 */
static inline const char *pgtree_field_function(const json_t *fields)
{
	static const char *const row_functions[] = {
		"array_agg", "concat", "hash_record", "hstore", "json_agg", "json_build_array", "jsonb_agg",
		"jsonb_build_array", "num_nonnulls", "num_nulls", "pg_column_size", "quote_literal", "quote_nullable",
		"record_out", "record_send", "row_to_json", "to_json", "to_jsonb",
	};
	size_t n = json_array_size(fields);
	return n >= 2 ? PGTREE_LISTED(pgtree_string(json_array_get(fields, n - 1)), row_functions) : NULL;
}

#endif
