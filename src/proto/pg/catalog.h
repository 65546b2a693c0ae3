/*
 * pg catalog — names the table columns a result comes from, for masking's
 * column rules. A RowDescription gives each column's table OID and column
 * number; the names ("schema.table.column") come from the target's catalog,
 * looked up on a connection of warden's own (libpq, the target's credentials,
 * run in libuv's thread pool so no worker loop ever blocks) and cached per
 * configured connection for CATALOG_TTL_S seconds, shared by every worker.
 *
 * A table the lookup cannot see (a temporary table, one created in the
 * client's open transaction, a dropped one) is cached as unknown: callers
 * treat its columns as nameless.
 */
#ifndef WARDEN_PG_CATALOG_H
#define WARDEN_PG_CATALOG_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "core/config.h"

#define CATALOG_TTL_S 30

/*
 * The name of column attnum of table table_oid on connection cc_index, as
 * "schema.table.column" (copied into name, NUL-terminated, truncated to cap).
 * Returns 1 when known, 0 when the table is not cached (or its entry is older
 * than CATALOG_TTL_S; fetch it), -1 when the table is cached as unknown or has
 * no such column (a dropped one, attnum <= 0), and -1 for table_oid 0 (a
 * result column that is no table's). Names are raw, as PostgreSQL stores them
 * (no quoting): "public.customers.ssn". Any thread may call it.
 */
int pg_catalog_column(int cc_index, uint32_t table_oid, int16_t attnum, char *name, size_t cap);
/* The same, with the column's type OID in *type when known. */
int pg_catalog_column_type(int cc_index, uint32_t table_oid, int16_t attnum, char *name, size_t cap,
			   uint32_t *type);
/*
 * The same, and (when known) whether one of globs (column rules, fnmatch,
 * case-insensitive) matches the column: its own "schema.table.column", or the
 * same column under the name of a table its table inherits from, at any depth
 * (a partition's, a partition's partition's, an inheritance child's): a rule
 * written for a table masks its partitions' columns too. globs and masked may
 * be NULL.
 */
int pg_catalog_column_rule(int cc_index, uint32_t table_oid, int16_t attnum, const config_strlist *globs,
			   char *name, size_t cap, uint32_t *type, int *masked);

/*
 * Fetches the columns of tables[0, n) (deduplicated by the caller or not) on
 * connection cc (index cc_index) and caches them; then calls done(arg, ok) on
 * loop's thread. ok is 0 when the target could not be asked (then nothing is
 * cached, and the caller decides: masking treats the columns as nameless and
 * masks them whole when a column rule exists). The caller keeps arg and cc
 * alive until done runs. The lookup is one query on a connection of a small
 * per-cc_index pool, retried once on a new connection when a pooled one turns
 * out broken. Returns -1 (done is not called) when the work could not be queued.
 */
typedef void (*pg_catalog_done)(void *arg, int ok);
int pg_catalog_fetch(uv_loop_t *loop, const config_connection *cc, int cc_index,
		     const uint32_t *tables, size_t n, pg_catalog_done done, void *arg);

/*
 * COPY without a column list names a table, not OIDs: the OID of table
 * ("schema.table" or "table", unquoted as the parser gives them; an
 * unqualified name is found through the lookup connection's search_path).
 * Returns 1 with *oid when cached, 0 when not cached (fetch it), -1 when the
 * table is cached as not visible.
 */
int pg_catalog_table(int cc_index, const char *schema, const char *table, uint32_t *oid);
/* Fetches that table's OID and columns; done as for pg_catalog_fetch. */
int pg_catalog_fetch_table(uv_loop_t *loop, const config_connection *cc, int cc_index,
			   const char *schema, const char *table, pg_catalog_done done, void *arg);

/*
 * A FunctionCall names its function by OID: its name, quoted as SQL reads
 * it ("pg_catalog"."lo_open"), into name (truncated to cap: give it 300). 1 when known, 0 when not
 * cached (fetch it), -1 when the target has no function of that OID.
 */
int pg_catalog_function(int cc_index, uint32_t oid, char *name, size_t cap);
/* Fetches that function's name; done as for pg_catalog_fetch. */
int pg_catalog_fetch_function(uv_loop_t *loop, const config_connection *cc, int cc_index, uint32_t oid,
			      pg_catalog_done done, void *arg);

/*
 * Partitions and inheritance children, for the policy (session.h's
 * parent_rule): every relation of the connection with the tables it
 * inherits from at any depth, fetched whole and cached for CATALOG_TTL_S.
 * pg_catalog_families: 1 when what is cached is fresh (0: fetch).
 * pg_catalog_parents: the tables schema.table inherits from, as
 * "schema.table" into *out (malloc'd, each string too, sorted): how many,
 * or -1 when not known (never fetched, the target never answered, or more
 * relations than warden keeps); *listed is 1 when
 * the relation is among them (one that is not in any schema a statement's
 * name can mean was created since, or is none: fetch again, and ask again,
 * unless pg_catalog_families_recent says they were fetched a moment ago).
 * A fetch the target does not answer keeps what was known for another
 * CATALOG_TTL_S.
 */
int pg_catalog_families(int cc_index);
int pg_catalog_families_recent(int cc_index);
int pg_catalog_parents(int cc_index, const char *schema, const char *table, char ***out, int *listed);
/*
 * The columns of schema.table that a unique index or an exclusion constraint
 * decides on, its own or a partition's or child's (every column of a table
 * with such an index on an expression or with a predicate), as
 * pg_catalog_parents gives parents: how many, -1 when not known.
 */
int pg_catalog_unique(int cc_index, const char *schema, const char *table, char ***out, int *listed);
/*
 * The columns of schema.table a foreign key holds, each followed in *out by
 * the column it references ("schema.table.column"): 2 entries per column,
 * so an even count, or -1 when not known.
 */
int pg_catalog_references(int cc_index, const char *schema, const char *table, char ***out, int *listed);
/*
 * The columns of schema.table whose type is json or jsonb, an array of one
 * or a domain over one, as pg_catalog_parents gives parents ("name[]" for
 * an array of documents): how many, -1 when not known.
 */
int pg_catalog_json_columns(int cc_index, const char *schema, const char *table, char ***out, int *listed);
/*
 * The columns of schema.table whose type is a number (int2, int4, int8,
 * float4, float8, numeric, money, a domain over one), and as "!name" each of
 * another type named as some relation's number column is: how many, -1 when
 * not known or when the families do not list schema.table.
 */
int pg_catalog_number_columns(int cc_index, const char *schema, const char *table, char ***out, int *listed);
int pg_catalog_fetch_families(uv_loop_t *loop, const config_connection *cc, int cc_index, pg_catalog_done done,
			      void *arg);

/* Drops every cached entry and closes warden's catalog connections (gateway
 * stop); no fetch may be in flight. */
void pg_catalog_shutdown(void);

#endif
