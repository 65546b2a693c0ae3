/*
 * libFuzzer target for the SQL classifier: any bytes (a client's query text)
 * must classify without a crash, a leak or a read past len, and the result
 * must keep the promises the policy relies on: every statement has a known
 * command and some kind (only a plain EXECUTE has none: the policy gives it
 * the prepared statement's), every object a name and no duplicates, unions
 * that are unions, byte ranges inside the text, every rename a new name and
 * something renamed, and the same answer twice (column rules' inputs too).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* the classifier must read only [0, size): a copy with no slack lets ASan see it */
	char *text = malloc(size ? size : 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	sql_class *c = sqlclass_classify(text, size);
	check(c, size);
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
		    !same(again->stmts[i].query_function, c->stmts[i].query_function))
			abort();
	sqlclass_free(again);
	sqlclass_free(c);
	free(text);
	return 0;
}
