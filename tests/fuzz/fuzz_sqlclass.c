/*
 * libFuzzer target for the SQL classifier: any bytes (a client's query text)
 * must classify without a crash, a leak or a read past len, and the result
 * must keep the promises the policy relies on: every statement has a known
 * command and some kind (only a plain EXECUTE has none: the policy gives it
 * the prepared statement's), every object a name and no duplicates, unions
 * that are unions, byte ranges inside the text, every rename a new name and
 * something renamed, a reshaped column with what reshapes it, and the same
 * answer twice (column rules' and transforms' inputs too);
 * a NULL spelled as a value changes what is written only where the class
 * says a constant is written (the cache keeps such a class to its own text).
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <pg_query.h>

#include "policy/sqlclass.h"

static int same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void check(const sql_class *c, size_t size)
{
	if (!c)
		abort();
	if (c->n == 0) {
		if (c->kinds || c->flags || c->error)
			abort();
		return;
	}
	if (c->error && (c->n != 1 || c->kinds != SQLK_UNKNOWN))
		abort();
	uint32_t kinds = 0, flags = 0;
	for (size_t i = 0; i < c->n; i++) {
		const sql_stmt *st = &c->stmts[i];
		if (!st->command || !sqlclass_command_known(st->command))
			abort();
		if (st->kinds == 0 && strcmp(st->command, "execute") != 0)
			abort();
		if (st->kinds >> SQLK_COUNT || st->flags >> SQLF_COUNT)
			abort();
		if (!st->reshaped != !st->reshaped_by) /* a column reshaped, and by what: both or neither */
			abort();
		if (!!(st->flags & SQLF_MULTI_STATEMENT) != (c->n > 1))
			abort();
		for (size_t k = 0; k < st->n_objects; k++) {
			if (!st->objects[k].name || (st->objects[k].written & ~1))
				abort();
			for (size_t j = 0; j < k; j++)
				if (same(st->objects[j].schema, st->objects[k].schema) &&
				    strcmp(st->objects[j].name, st->objects[k].name) == 0)
					abort();
		}
		for (size_t k = 0; k < st->n_functions; k++) {
			if (!st->functions[k] || !st->functions[k][0])
				abort();
			for (size_t j = 0; j < k; j++)
				if (strcmp(st->functions[j], st->functions[k]) == 0)
					abort();
		}
		if (st->n_search_path && !st->sets_search_path)
			abort();
		for (size_t k = 0; k < st->n_search_path; k++)
			if (!st->search_path[k])
				abort();
		if ((st->execute_name && strcmp(st->command, "execute") != 0) ||
		    (st->prepare_name && strcmp(st->command, "prepare") != 0))
			abort();
		/* column rules' inputs: names to compare against the rules' globs */
		for (size_t k = 0; k < st->n_computed; k++)
			if (!st->computed[k])
				abort();
		/* json_keys' inputs: a SET's documents, each from a column */
		for (size_t k = 0; k < st->n_doc_stored; k++)
			if (!st->doc_stored[k] || !st->doc_stored_from[k])
				abort();
		for (size_t k = 0; k < st->n_renames; k++) {
			const sql_rename *r = &st->renames[k];
			if (!r->to || (!r->relation && !r->schema) || (r->column && !r->relation))
				abort();
		}
		if (st->function_call || (st->defines_code & ~1) || (st->links_foreign & ~1) ||
		    (st->computed_whole & ~1))
			abort();
		if (st->location < 0 || st->length < 0 || (size_t)st->location > size ||
		    (size_t)st->location + (size_t)st->length > size)
			abort();
		kinds |= st->kinds;
		flags |= st->flags;
	}
	if (kinds != c->kinds || flags != c->flags)
		abort();
}

static int ident_char(unsigned char ch)
{
	return ch == '_' || ch == '$' || ch >= 0x80 || (ch >= '0' && ch <= '9') || ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'z');
}

/* text with each word "null" (any case) spelled '0', or NULL when it has none */
static char *nulls_as_values(const char *text, size_t size)
{
	char *t = malloc(size + 1); /* (4 bytes become 3) */
	size_t o = 0, hits = 0;
	if (!t)
		return NULL;
	for (size_t i = 0; i < size;) {
		if (i + 4 <= size && strncasecmp(text + i, "null", 4) == 0 &&
		    (i == 0 || !ident_char((unsigned char)text[i - 1])) &&
		    (i + 4 == size || !ident_char((unsigned char)text[i + 4]))) {
			memcpy(t + o, "'0'", 3);
			o += 3;
			i += 4;
			hits++;
			continue;
		}
		t[o++] = text[i++];
	}
	t[o] = '\0';
	if (!hits) {
		free(t);
		return NULL;
	}
	return t;
}

/*
 * The classification cache's premise (policy.c): texts that normalize alike
 * are classified alike, unless the class says it depends on a constant's value
 * (json_reads, writes_const: then it is cached under its own text only). A NULL
 * and a value normalize alike; a NULL written is no guess, a value is. Text
 * that is no UTF-8 is left out: PostgreSQL refuses it in a UTF8 database, and
 * the parse tree of an identifier cut to 63 bytes holds its bytes or not as
 * the cut falls ("null" is one byte longer than '0').
 */
static void check_nulls(const char *text, size_t size, const sql_class *c)
{
	if (c->error || memchr(text, '\0', size))
		return;
	json_t *utf8 = json_stringn(text, size); /* (NULL: not UTF-8) */
	if (!utf8)
		return;
	json_decref(utf8);
	char *z = strndup(text, size), *v = nulls_as_values(text, size);
	if (!z || !v) {
		free(z);
		free(v);
		return;
	}
	PgQueryNormalizeResult a = pg_query_normalize(z), b = pg_query_normalize(v);
	if (!a.error && !b.error && a.normalized_query && b.normalized_query &&
	    strcmp(a.normalized_query, b.normalized_query) == 0) {
		sql_class *d = sqlclass_classify(v, strlen(v));
		if (d->error || d->n != c->n)
			abort();
		for (size_t i = 0; i < c->n; i++) {
			const sql_stmt *x = &c->stmts[i], *y = &d->stmts[i];
			if (x->json_reads || y->json_reads)
				continue;
			if (x->writes_const != y->writes_const)
				abort();
			if (!x->writes_const && (x->n_written != y->n_written || x->writes_all != y->writes_all))
				abort();
		}
		sqlclass_free(d);
	}
	pg_query_free_normalize_result(a);
	pg_query_free_normalize_result(b);
	free(z);
	free(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* the classifier must read only [0, size): a copy with no slack lets ASan see it */
	char *text = malloc(size ? size : 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	sql_class *c = sqlclass_classify(text, size);
	check(c, size);
	check_nulls(text, size, c);
	/* nothing depends on anything but the text */
	sql_class *again = sqlclass_classify(text, size);
	if (again->n != c->n || again->kinds != c->kinds || again->flags != c->flags ||
	    !same(again->error, c->error))
		abort();
	for (size_t i = 0; i < c->n; i++)
		if (again->stmts[i].n_objects != c->stmts[i].n_objects ||
		    again->stmts[i].n_functions != c->stmts[i].n_functions ||
		    again->stmts[i].n_computed != c->stmts[i].n_computed ||
		    again->stmts[i].computed_whole != c->stmts[i].computed_whole ||
		    again->stmts[i].n_renames != c->stmts[i].n_renames ||
		    again->stmts[i].n_doc_stored != c->stmts[i].n_doc_stored ||
		    again->stmts[i].defines_code != c->stmts[i].defines_code ||
		    again->stmts[i].links_foreign != c->stmts[i].links_foreign ||
		    !same(again->stmts[i].query_function, c->stmts[i].query_function) ||
		    !same(again->stmts[i].reshaped, c->stmts[i].reshaped) ||
		    !same(again->stmts[i].reshaped_by, c->stmts[i].reshaped_by))
			abort();
	sqlclass_free(again);
	sqlclass_free(c);
	free(text);
	return 0;
}
