/* policy — see policy.h. */
#include "policy/policy.h"

#include <fnmatch.h>
#include <jansson.h>
#include <pg_query.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/util.h"
#include "policy/pgtree.h"
#include "policy/sqlclass.h"

/* ---- per-session state ---- */

typedef struct prepared {
	struct prepared *next;
	char *name;
	sql_class *cls;         /* a one-statement class: the PREPARE's inner statement */
	char *summary;
} prepared;

struct policy_session {
	int groups_parsed;
	char **groups;
	size_t n_groups;
	prepared *prepared;
	char **search_path;     /* NULL: the default "$user", public */
	size_t n_search_path;
	int search_path_set;
	/* every schema a SET search_path or set_config() of the session named
	 * (the request being decided's too): PostgreSQL's search_path may hold
	 * any of them, or the default's, whatever the last SET said (one rolled
	 * back with its transaction, SET LOCAL, a SET in a request that failed,
	 * leave the path before); path_unknown: set_config() gave it a value
	 * warden cannot read */
	char **seen;
	size_t n_seen;
	int path_unknown;
	int catalog_late;       /* a path of the session lists pg_catalog after another schema */
	json_t *inherits;       /* the decision being made: the parents it asked about, for its classification */
	json_t *uniques;        /* ... and the unique columns */
	json_t *references;     /* ... and the foreign keys */
	json_t *json_cols;      /* ... and the JSON columns */
	json_t *num_cols;       /* ... and the number columns */
	int names_moved;        /* the session (or the request) ran DDL or set search_path: a relation's name
				 * may mean one the catalog warden read does not know */
	char doc_col[600];      /* the decision being made: "table.column", the JSON column it computes on */
	char unique_col[256];   /* the decision being made: the unique column it would write (written_unique) */
	char unique_ref[800];   /* ... and the masked column its foreign key references, or "" */
	int unique_unknown;     /* ... or the catalog cannot say what its foreign keys reference */
};

policy_session *policy_session_new(void)
{
	policy_session *st = calloc(1, sizeof(*st));
	if (!st)
		abort();
	return st;
}

static void free_strs(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void prepared_free(prepared *p)
{
	free(p->name);
	sqlclass_free(p->cls);
	free(p->summary);
	free(p);
}

void policy_session_free(policy_session *st)
{
	if (!st)
		return;
	free_strs(st->groups, st->n_groups);
	while (st->prepared) {
		prepared *p = st->prepared;
		st->prepared = p->next;
		prepared_free(p);
	}
	free_strs(st->search_path, st->n_search_path);
	free_strs(st->seen, st->n_seen);
	json_decref(st->inherits);
	json_decref(st->uniques);
	json_decref(st->references);
	json_decref(st->json_cols);
	json_decref(st->num_cols);
	free(st);
}

static void parse_groups(policy_session *st, const session *s)
{
	if (st->groups_parsed)
		return;
	st->groups_parsed = 1;
	if (!s || !s->groups_json)
		return;
	json_t *a = json_loads(s->groups_json, 0, NULL);
	if (json_is_array(a) && json_array_size(a) > 0) {
		st->groups = util_xmalloc(json_array_size(a) * sizeof(char *));
		size_t i;
		json_t *v;
		json_array_foreach(a, i, v) {
			if (json_is_string(v))
				st->groups[st->n_groups++] = util_strndup(json_string_value(v),
									  json_string_length(v));
		}
	}
	json_decref(a);
}

/* ---- copies of classifications (for PREPARE) ---- */

static char **dup_strs(char **v, size_t n)
{
	if (!n)
		return NULL;
	char **out = util_xmalloc(n * sizeof(char *));
	for (size_t i = 0; i < n; i++)
		out[i] = util_strdup_or_null(v[i]);
	return out;
}

static sql_class *class_of_stmt(const sql_stmt *in)
{
	sql_class *c = calloc(1, sizeof(*c));
	sql_stmt *o = calloc(1, sizeof(*o));
	if (!c || !o)
		abort();
	*o = *in;
	o->prepare_name = o->execute_name = o->deallocate_name = NULL;
	if (in->inner_command)
		o->command = in->inner_command;   /* EXECUTE runs the prepared statement */
	o->inner_command = NULL;
	o->search_path = NULL;
	o->n_search_path = 0;
	o->sets_search_path = 0;
	if (in->n_objects) {
		o->objects = util_xmalloc(in->n_objects * sizeof(sql_object));
		for (size_t i = 0; i < in->n_objects; i++) {
			o->objects[i].schema = util_strdup_or_null(in->objects[i].schema);
			o->objects[i].name = util_strdup_or_null(in->objects[i].name);
			o->objects[i].written = in->objects[i].written;
		}
	}
	o->functions = dup_strs(in->functions, in->n_functions);
	o->computed = dup_strs(in->computed, in->n_computed);
	o->json_keys = dup_strs(in->json_keys, in->n_json_keys);
	o->doc_computed = dup_strs(in->doc_computed, in->n_doc_computed);
	o->doc_texted = dup_strs(in->doc_texted, in->n_doc_texted);
	o->doc_stored = dup_strs(in->doc_stored, in->n_doc_stored);
	o->doc_stored_from = dup_strs(in->doc_stored_from, in->n_doc_stored);
	o->written = dup_strs(in->written, in->n_written);
	o->renames = sqlclass_renames_dup(in->renames, in->n_renames);
	o->reshaped = util_strdup_or_null(in->reshaped);
	o->reshaped_by = util_strdup_or_null(in->reshaped_by);
	o->number_casts = dup_strs(in->number_casts, in->n_number_casts);
	c->stmts = o;
	c->n = 1;
	c->kinds = o->kinds;
	c->flags = o->flags;
	return c;
}

/* ---- the classification cache: per thread, keyed by normalized text ---- */

#define CACHE_BUCKETS 4096
#define CACHE_MAX 8192

typedef struct cache_entry {
	struct cache_entry *next;
	uint64_t hash;
	char *key;
	sql_class *cls;
	char *summary;
	int alias;              /* a number-run key for another entry's cls/summary (not owned) */
} cache_entry;

typedef struct class_cache {
	const config_policy *policy;    /* the dangerous-function flags depend on it */
	cache_entry *buckets[CACHE_BUCKETS];
	size_t n;
} class_cache;

static void cache_clear(class_cache *c);
static __thread class_cache *tcache;
static pthread_key_t cache_key;
static pthread_once_t cache_key_once = PTHREAD_ONCE_INIT;

/* A worker thread's cache is freed when the thread ends. */
static void cache_destroy(void *p)
{
	cache_clear(p);
	free(p);
}

static void cache_key_create(void)
{
	if (pthread_key_create(&cache_key, cache_destroy) != 0)
		abort();
}

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ull;
	}
	return h;
}

static void cache_clear(class_cache *c)
{
	for (size_t i = 0; i < CACHE_BUCKETS; i++) {
		while (c->buckets[i]) {
			cache_entry *e = c->buckets[i];
			c->buckets[i] = e->next;
			free(e->key);
			if (!e->alias) {
				sqlclass_free(e->cls);
				free(e->summary);
			}
			free(e);
		}
	}
	c->n = 0;
}

/* ---- classification summary (the audit entry's `classification`) ---- */

static json_t *name_list(uint32_t bits, const char *(*name)(uint32_t), int count)
{
	json_t *a = json_array();
	for (int b = 0; b < count; b++)
		if (bits & (1u << b))
			json_array_append_new(a, json_string(name(1u << b)));
	return a;
}

static char *object_text(const sql_object *o)
{
	buf b = {0};
	if (o->schema) {
		buf_append(&b, o->schema, strlen(o->schema));
		buf_append(&b, ".", 1);
	}
	buf_append(&b, o->name, strlen(o->name));
	buf_append(&b, "", 1);
	return b.data;
}

static void add_unique(json_t *a, const char *s)
{
	size_t i;
	json_t *v;
	json_array_foreach(a, i, v) {
		if (strcmp(json_string_value(v), s) == 0)
			return;
	}
	json_array_append_new(a, json_string(s));
}

/*
 * {"kinds":[..],"statements":[..],"read":[..],"written":[..],"functions":[..],
 *  "flags":[..]} over all statements; empty members left out.
 */
static char *summarize(const sql_class *c)
{
	if (!c || c->n == 0)
		return NULL;
	json_t *o = json_object();
	json_t *cmds = json_array(), *rd = json_array(), *wr = json_array(), *fn = json_array();
	for (size_t i = 0; i < c->n; i++) {
		const sql_stmt *st = &c->stmts[i];
		add_unique(cmds, st->command ? st->command : "unknown");
		for (size_t k = 0; k < st->n_objects; k++) {
			char *t = object_text(&st->objects[k]);
			add_unique(st->objects[k].written ? wr : rd, t);
			free(t);
		}
		for (size_t k = 0; k < st->n_functions; k++)
			add_unique(fn, st->functions[k]);
	}
	json_object_set_new(o, "kinds", name_list(c->kinds, sqlclass_kind_name, SQLK_COUNT));
	json_object_set_new(o, "statements", cmds);
	if (json_array_size(rd))
		json_object_set(o, "read", rd);
	if (json_array_size(wr))
		json_object_set(o, "written", wr);
	if (json_array_size(fn))
		json_object_set(o, "functions", fn);
	json_decref(rd);
	json_decref(wr);
	json_decref(fn);
	if (c->flags)
		json_object_set_new(o, "flags", name_list(c->flags, sqlclass_flag_name, SQLF_COUNT));
	if (c->error)
		json_object_set_new(o, "error", json_string(c->error));
	if (c->n == 1 && c->stmts[0].function_call) /* (what a replay needs: there is no SQL text) */
		json_object_set_new(o, "function_call", json_true());
	char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (!s)
		abort();
	return s;
}

/* ---- classification with the policy's flags ---- */

static int bare_match(const char *pattern, const char *fn)
{
	const char *dot = strrchr(fn, '.');
	if (strchr(pattern, '.'))
		return fnmatch(pattern, fn, 0) == 0;
	return fnmatch(pattern, dot ? dot + 1 : fn, 0) == 0;
}

static void flag_dangerous(const config_policy *p, sql_class *c)
{
	for (size_t i = 0; i < c->n; i++) {
		sql_stmt *st = &c->stmts[i];
		for (size_t k = 0; k < st->n_functions; k++) {
			for (size_t d = 0; d < p->dangerous_functions.n; d++) {
				if (bare_match(p->dangerous_functions.v[d], st->functions[k])) {
					st->flags |= SQLF_DANGEROUS_FUNCTION;
					c->flags |= SQLF_DANGEROUS_FUNCTION;
				}
			}
		}
	}
}

/* Whether a profile p's rules name has column rules. */
static int has_column_rules(const config_policy *p)
{
	for (size_t i = 0; i < p->n_mask_profiles; i++)
		if (p->mask_profiles[i].columns.n)
			return 1;
	return 0;
}

/*
 * Whether c's classification depends on the value of a constant, which
 * normalization hides, so that c is cached under its own text only and a hit
 * by another text is not used: a JSON key or path read (`doc->>'theme'` and
 * `doc->>'token'` share a key), a separator glued to a value (`a || ' ' || b`
 * and `a || '0' || b` share a key), and, where column rules apply, a constant
 * written (`SET api_key = NULL` runs, `SET api_key = 'guess'` on a unique
 * column does not).
 */
static int by_own_text(const config_policy *p, const sql_class *c)
{
	int consts = 0;
	for (size_t i = 0; i < c->n; i++) {
		if (c->stmts[i].json_reads || c->stmts[i].reshape_consts)
			return 1;
		consts |= c->stmts[i].writes_const;
	}
	return consts && has_column_rules(p);
}

static int cacheable(const sql_class *c)
{
	/* SET search_path values are constants: normalization hides them */
	for (size_t i = 0; i < c->n; i++)
		if (c->stmts[i].sets_search_path || c->stmts[i].sets_lexing)
			return 0;
	return c->error == NULL;
}

/*
 * The classification of text, with its summary. *owned tells the caller to
 * free both (not cached); otherwise they belong to the cache.
 */
static cache_entry *cache_find(class_cache *cc, const char *key, uint64_t h)
{
	for (cache_entry *e = cc->buckets[h % CACHE_BUCKETS]; e; e = e->next)
		if (e->hash == h && strcmp(e->key, key) == 0)
			return e;
	return NULL;
}

static class_cache *thread_cache(const config_policy *p)
{
	if (!tcache) {
		tcache = calloc(1, sizeof(*tcache));
		if (!tcache)
			abort();
		pthread_once(&cache_key_once, cache_key_create);
		pthread_setspecific(cache_key, tcache);
	}
	if (tcache->policy != p) {
		cache_clear(tcache);
		tcache->policy = p;
	}
	return tcache;
}

/*
 * The number-run key. pg_query_normalize costs a parse per statement; most
 * statements that vary differ only in numbers ("... WHERE aid = 48213"). A
 * number run is a maximal run of digits with neither an identifier character
 * nor a dot on either side; the key is the text with each run replaced by
 * \001. A key is only ever stored for a text whose normalization replaced
 * exactly its number runs and nothing else (number_runs_normalized): every
 * text with the same key then differs from it only in the values of
 * constants in the same places, which is what the normalized key stands for.
 * Texts holding \001 themselves bypass the cache.
 */
static int ident_byte(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	       c == '$' || c >= 0x80;
}

/* The end of the number run starting at i, or 0 when none starts there. */
static size_t number_run(const char *z, size_t n, size_t i)
{
	if (z[i] < '0' || z[i] > '9' || (i > 0 && (ident_byte((unsigned char)z[i - 1]) || z[i - 1] == '.')))
		return 0;
	size_t j = i;
	while (j < n && z[j] >= '0' && z[j] <= '9')
		j++;
	if (j < n && (ident_byte((unsigned char)z[j]) || z[j] == '.'))
		return 0;
	return j;
}

/* NULL when z has no number run. */
static char *number_key(const char *z, size_t n)
{
	buf k = {0};
	size_t runs = 0;
	for (size_t i = 0; i < n;) {
		size_t j = number_run(z, n, i);
		if (j) {
			buf_append(&k, "\001", 1);
			runs++;
			i = j;
			continue;
		}
		buf_append(&k, z + i, 1);
		i++;
	}
	if (!runs) {
		buf_free(&k);
		return NULL;
	}
	buf_append(&k, "", 1);
	return k.data;
}

/* Whether normalization turned exactly z's number runs into $n and changed nothing else. */
static int number_runs_normalized(const char *z, size_t n, const char *norm)
{
	size_t k = 0;
	for (size_t i = 0; i < n;) {
		size_t j = number_run(z, n, i);
		if (j) {
			if (norm[k] != '$' || norm[k + 1] < '0' || norm[k + 1] > '9')
				return 0;
			k++;
			while (norm[k] >= '0' && norm[k] <= '9')
				k++;
			i = j;
			continue;
		}
		if (norm[k] != z[i])
			return 0;
		i++;
		k++;
	}
	return norm[k] == '\0';
}

static void cache_put(class_cache *cc, const char *key, uint64_t h, sql_class *c, char *summary, int alias)
{
	if (cc->n >= CACHE_MAX)
		cache_clear(cc);
	cache_entry *e = calloc(1, sizeof(*e));
	if (!e)
		abort();
	e->hash = h;
	e->key = util_strndup(key, strlen(key));
	e->cls = c;
	e->summary = summary;
	e->alias = alias;
	cache_entry **slot = &cc->buckets[h % CACHE_BUCKETS];
	e->next = *slot;
	*slot = e;
	cc->n++;
}

static sql_class *classify(const config_policy *p, const char *text, size_t len, char **summary,
			   int *owned)
{
	char *z = util_strndup(text, len);
	if (memchr(z, '\001', len)) {
		/* could spell a number-run key: never looked up */
		free(z);
		sql_class *c = sqlclass_classify(text, len);
		flag_dangerous(p, c);
		*summary = summarize(c);
		*owned = 1;
		return c;
	}
	/*
	 * A text without constants (a prepared statement's "... = $1") is its own
	 * normalized form: looked up as it is, it skips the normalization.
	 */
	class_cache *cc = thread_cache(p);
	uint64_t zh = fnv1a(z);
	cache_entry *hit = cache_find(cc, z, zh);
	char *nk = hit ? NULL : number_key(z, len);
	if (!hit && nk) {
		hit = cache_find(cc, nk, fnv1a(nk));
		if (hit && by_own_text(p, hit->cls))
			hit = NULL;
	}
	if (hit) {
		free(z);
		free(nk);
		*summary = hit->summary;
		*owned = 0;
		return hit->cls;
	}
	PgQueryNormalizeResult nr = pg_query_normalize(z);
	if (nr.error || !nr.normalized_query) {
		pg_query_free_normalize_result(nr);
		sql_class *c = sqlclass_classify(text, len);
		free(z);
		free(nk);
		flag_dangerous(p, c);
		*summary = summarize(c);
		*owned = 1;
		return c;
	}
	int alias = nk && number_runs_normalized(z, len, nr.normalized_query);
	uint64_t h = fnv1a(nr.normalized_query);
	if ((hit = cache_find(cc, nr.normalized_query, h)) && !by_own_text(p, hit->cls)) {
		if (alias && cc->n < CACHE_MAX) /* never a clear here: it would free hit */
			cache_put(cc, nk, fnv1a(nk), hit->cls, hit->summary, 1);
		pg_query_free_normalize_result(nr);
		free(z);
		free(nk);
		*summary = hit->summary;
		*owned = 0;
		return hit->cls;
	}
	sql_class *c = sqlclass_classify(text, len);
	flag_dangerous(p, c);
	*summary = summarize(c);
	if (!cacheable(c)) {
		pg_query_free_normalize_result(nr);
		free(z);
		free(nk);
		*owned = 1;
		return c;
	}
	if (by_own_text(p, c)) { /* under its own text only */
		pg_query_free_normalize_result(nr);
		free(nk);
		cache_put(cc, z, zh, c, *summary, 0);
		free(z);
		*owned = 0;
		return c;
	}
	free(z);
	cache_put(cc, nr.normalized_query, h, c, *summary, 0);
	if (alias && cc->n < CACHE_MAX)
		cache_put(cc, nk, fnv1a(nk), c, *summary, 1);
	pg_query_free_normalize_result(nr);
	free(nk);
	*owned = 0;
	return c;
}

/* ---- matching ---- */

typedef struct subject {
	const char *user, *agent, *connection;
	char **groups;
	size_t n_groups;
} subject;

static int any_glob(const config_strlist *l, const char *s, int flags)
{
	for (size_t i = 0; i < l->n; i++)
		if (fnmatch(l->v[i], s ? s : "", flags) == 0)
			return 1;
	return 0;
}

static int object_glob(const char *pattern, const char *schema, const char *name)
{
	const char *dot = strchr(pattern, '.');
	if (!dot)
		return fnmatch(pattern, name, 0) == 0;
	if (!strchr(schema, '.') && !strchr(name, '.') && !strchr(dot + 1, '.')) {
		/* "schema.table": each side on its own, no string built per check */
		char sp[128];
		size_t n = (size_t)(dot - pattern);
		if (n < sizeof(sp)) {
			memcpy(sp, pattern, n);
			sp[n] = '\0';
			return fnmatch(sp, schema, 0) == 0 && fnmatch(dot + 1, name, 0) == 0;
		}
	}
	char full[512];
	snprintf(full, sizeof(full), "%s.%s", schema, name);
	return fnmatch(pattern, full, 0) == 0;
}

/* Appends schema sch (path's "$user": the target user) to out[0, *k) unless it is there. */
static void add_schema(const char **out, size_t *k, const char *sch, const session *s)
{
	if (strcmp(sch, "$user") == 0)
		sch = s ? s->target_user : NULL;
	if (!sch)
		return;
	for (size_t i = 0; i < *k; i++)
		if (strcmp(out[i], sch) == 0)
			return;
	out[(*k)++] = sch;
}

static char *const default_path[] = {"$user", "public"};

/*
 * The schemas relation o may be in, into out[0, returned): the one written,
 * else pg_catalog for a pg_ name, then the last search path set's ("$user"
 * as the target user), and, unless latest, every other the session's path
 * may be (policy_session's seen, and the default's). out must hold
 * max_schemas(st).
 */
static size_t schemas_of_path(const sql_object *o, const policy_session *st, const session *s, const char **out,
			      int latest)
{
	if (o->schema) {
		out[0] = o->schema;
		return 1;
	}
	size_t k = 0;
	if (strncmp(o->name, "pg_", 3) == 0)
		out[k++] = "pg_catalog";
	char *const *path = st->search_path_set ? st->search_path : default_path;
	size_t n = st->search_path_set ? st->n_search_path : 2;
	for (size_t i = 0; i < n; i++)
		add_schema(out, &k, path[i], s);
	if (latest)
		return k;
	for (size_t i = 0; i < 2; i++)
		add_schema(out, &k, default_path[i], s);
	for (size_t i = 0; i < st->n_seen; i++)
		add_schema(out, &k, st->seen[i], s);
	return k;
}

/* ... every one it may be in: what a column rule, json_keys and a deny or review rule read */
static size_t schemas_of(const sql_object *o, const policy_session *st, const session *s, const char **out)
{
	return schemas_of_path(o, st, s, out, 0);
}

static size_t max_schemas(const policy_session *st)
{
	return 1 + (st->search_path_set ? st->n_search_path : 2) + 2 + st->n_seen;
}

/*
 * Whether a glob of l names relation o: in one of the schemas it may be in,
 * or, latest (an allow rule's, which must cover it), in one of the last
 * search path's. After set_config() gave the path a value warden cannot
 * read, an unqualified name is in any schema: a deny or review rule's
 * "schema.table" matches it by its table, an allow rule's never.
 */
static int object_match(const config_strlist *l, const policy_session *st, const session *s,
			const sql_object *o, int latest)
{
	if (!o->schema && st->path_unknown) {
		if (latest)
			return 0;
		for (size_t i = 0; i < l->n; i++) {
			const char *dot = strchr(l->v[i], '.');
			if (fnmatch(dot ? dot + 1 : l->v[i], o->name, 0) == 0)
				return 1;
		}
		return 0;
	}
	const char *small[8], **schemas = max_schemas(st) <= 8 ? small : util_xmalloc(max_schemas(st) * sizeof(char *));
	size_t n = schemas_of_path(o, st, s, schemas, latest);
	int hit = 0;
	for (size_t i = 0; i < l->n && !hit; i++)
		for (size_t k = 0; k < n && !hit; k++)
			hit = object_glob(l->v[i], schemas[k], o->name);
	if (schemas != small)
		free(schemas);
	return hit;
}

/* What a session.h hook said of schema.table, recorded into *rec (keyed "schema.table"). */
static int ask_catalog(int (*hook)(void *, const char *, const char *, char ***), void *ctx, json_t **rec,
		       const char *schema, const char *table, char ***out)
{
	*out = NULL;
	if (!hook)
		return 0;
	int n = hook(ctx, schema, table, out);
	if (n == 0)
		return 0;
	if (!*rec)
		*rec = json_object();
	json_t *v = n < 0 ? json_null() : json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(v, json_string((*out)[i]));
	buf key = {0};
	buf_printf(&key, "%s.%s", schema, table);
	json_object_set_new(*rec, key.data, v);
	buf_free(&key);
	return n;
}

static int parents_of(policy_session *st, const session *s, const char *schema, const char *table, char ***out)
{
	return ask_catalog(s ? s->parents : NULL, s ? s->parents_ctx : NULL, &st->inherits, schema, table, out);
}

static int uniques_of(policy_session *st, const session *s, const char *schema, const char *table, char ***out)
{
	return ask_catalog(s ? s->uniques : NULL, s ? s->uniques_ctx : NULL, &st->uniques, schema, table, out);
}

static int references_of(policy_session *st, const session *s, const char *schema, const char *table, char ***out)
{
	return ask_catalog(s ? s->references : NULL, s ? s->references_ctx : NULL, &st->references, schema, table,
			   out);
}

static int json_columns_of(policy_session *st, const session *s, const char *schema, const char *table,
			   char ***out)
{
	return ask_catalog(s ? s->json_columns : NULL, s ? s->json_columns_ctx : NULL, &st->json_cols, schema, table,
			   out);
}

static int number_columns_of(policy_session *st, const session *s, const char *schema, const char *table,
			     char ***out)
{
	return ask_catalog(s ? s->number_columns : NULL, s ? s->number_columns_ctx : NULL, &st->num_cols, schema,
			   table, out);
}

/*
 * Whether every column stmt casts to a number or formats as one
 * (number_casts) holds numbers: a number column of some relation the
 * statement reads, and a column of another type in none of them, in any
 * schema its name can mean that the catalog lists it in (one it lists in
 * none, created since the catalog was read, may hold any column). The
 * digits of a number are the table's numbers, which a column rule guards.
 */
static int numbers_held(policy_session *st, const session *s, const sql_stmt *stmt)
{
	/* (after DDL or a search_path change the name may mean a relation the
	 * catalog warden read does not know: a temporary table hides one in
	 * every schema, one made in an open transaction is no other session's
	 * to see) */
	if (!stmt->n_number_casts || !stmt->n_objects || st->names_moved)
		return 0;
	const char *small[8], **schemas = max_schemas(st) <= 8 ? small : util_xmalloc(max_schemas(st) * sizeof(char *));
	uint8_t held_small[8], *held = stmt->n_number_casts <= 8 ? held_small : util_xmalloc(stmt->n_number_casts);
	memset(held, 0, stmt->n_number_casts);
	int ok = 1;
	for (size_t i = 0; i < stmt->n_objects && ok; i++) {
		size_t n = schemas_of(&stmt->objects[i], st, s, schemas);
		int listed = 0;
		for (size_t k = 0; k < n && ok; k++) {
			char **cols;
			int nc = number_columns_of(st, s, schemas[k], stmt->objects[i].name, &cols);
			listed |= nc >= 0;
			for (int j = 0; j < nc && ok; j++)
				for (size_t c = 0; c < stmt->n_number_casts && ok; c++) {
					if (!strcmp(cols[j], stmt->number_casts[c]))
						held[c] = 1;
					else if (cols[j][0] == '!' && !strcmp(cols[j] + 1, stmt->number_casts[c]))
						ok = 0;
				}
			free_strs(cols, nc > 0 ? (size_t)nc : 0);
		}
		ok &= listed;
	}
	for (size_t c = 0; c < stmt->n_number_casts && ok; c++)
		ok = held[c];
	if (schemas != small)
		free(schemas);
	if (held != held_small)
		free(held);
	return ok;
}

/* Whether the statement writes column col (by name, or as one of every column). */
static int writes_column(const sql_stmt *stmt, const char *col)
{
	int written = stmt->writes_all;
	for (size_t c = 0; c < stmt->n_written && !written; c++)
		written = strcmp(stmt->written[c], col) == 0;
	return written;
}

/* Whether globs mask column col of schema.table, or of one of the np tables in par. */
static int column_masked(const config_strlist *globs, const char *schema, const char *table, char **par, int np,
			 const char *col)
{
	char full[3 * 256];
	snprintf(full, sizeof(full), "%s.%s.%s", schema, table, col);
	if (any_glob(globs, full, FNM_CASEFOLD))
		return 1;
	for (int j = 0; j < np; j++) {
		snprintf(full, sizeof(full), "%s.%s", par[j], col);
		if (any_glob(globs, full, FNM_CASEFOLD))
			return 1;
	}
	return 0;
}

/*
 * A write to a masked column that a unique index or an exclusion constraint
 * decides on (session.h's uniques) answers whether a guessed value is
 * there: the write fails (or ON CONFLICT DO NOTHING does nothing) exactly
 * when it is, as `WHERE password = 'guess'` would answer, which is refused.
 * So does a write to a column whose foreign key references a masked column
 * (session.h's references): it fails exactly when the value is not there
 * (st->unique_ref names the referenced column, "" otherwise).
 * Returns the written column's name, "" for one the text does not name (a
 * write of every column, or a catalog that cannot say), or NULL.
 */
static const char *written_unique(const config_mask_profile *mp, policy_session *st, const session *s,
				  const sql_stmt *stmt)
{
	const config_strlist *globs = &mp->columns;
	st->unique_ref[0] = '\0';
	st->unique_unknown = 0;
	if (!globs->n || (!stmt->n_written && !stmt->writes_all))
		return NULL;
	const char *small[8], **schemas = max_schemas(st) <= 8 ? small : util_xmalloc(max_schemas(st) * sizeof(char *));
	const char *hit = NULL;
	for (size_t i = 0; i < stmt->n_objects && !hit; i++) {
		const sql_object *o = &stmt->objects[i];
		if (!o->written)
			continue;
		size_t n = schemas_of(o, st, s, schemas);
		for (size_t k = 0; k < n && !hit; k++) {
			char **par, **uq;
			int np = parents_of(st, s, schemas[k], o->name, &par);
			int nu = uniques_of(st, s, schemas[k], o->name, &uq);
			if (nu < 0 || np < 0) {
				/* not known: a masked column written counts */
				for (size_t c = 0; c < stmt->n_written && !hit; c++)
					if (np < 0 || column_masked(globs, schemas[k], o->name, par, np, stmt->written[c]))
						hit = stmt->written[c];
				if (!hit && stmt->writes_all)
					hit = "";
			}
			for (int u = 0; u < nu && !hit; u++) {
				if (writes_column(stmt, uq[u]) && column_masked(globs, schemas[k], o->name, par, np, uq[u])) {
					snprintf(st->unique_col, sizeof(st->unique_col), "%s", uq[u]);
					hit = st->unique_col; /* (outlives uq) */
				}
			}
			char **rf;
			int nr = hit ? 0 : references_of(st, s, schemas[k], o->name, &rf);
			for (int j = 0; j + 1 < nr && !hit; j += 2) {
				if (writes_column(stmt, rf[j]) && any_glob(globs, rf[j + 1], FNM_CASEFOLD)) {
					snprintf(st->unique_col, sizeof(st->unique_col), "%s", rf[j]);
					snprintf(st->unique_ref, sizeof(st->unique_ref), "%s", rf[j + 1]);
					hit = st->unique_col;
				}
			}
			if (nr < 0 && !hit) {
				/* not known: any column written may reference a masked one */
				snprintf(st->unique_col, sizeof(st->unique_col), "%s",
					 stmt->n_written ? stmt->written[0] : "");
				st->unique_unknown = 1;
				hit = st->unique_col;
			}
			free_strs(par, np > 0 ? (size_t)np : 0);
			free_strs(uq, nu > 0 ? (size_t)nu : 0);
			if (nr > 0)
				free_strs(rf, (size_t)nr);
		}
	}
	if (schemas != small)
		free(schemas);
	return hit;
}
/*
 * Column rules mask a column's values where they arrive as themselves (the
 * RowDescription names the column); a value computed on arrives with no
 * name, so a statement computing on a column the profile's rules name is
 * refused (exposure.h). The column is one of a relation the statement names:
 * "schema.table.column" for each schema an unqualified name may resolve to,
 * and the same column of each table that relation inherits from (a rule
 * written for a partitioned table covers its partitions: session.h's
 * parents; when the target's catalog could not say, the column counts).
 * The parents asked about go into the decision's classification
 * ("inherits"), so that a replay decides the same without the target.
 * Returns the column's name ("" for columns the text does not name), or NULL.
 */
static const char *masked_computed(const config_mask_profile *mp, policy_session *st, const session *s,
				   const sql_stmt *stmt)
{
	const config_strlist *globs = &mp->columns;
	if (!globs->n || !stmt->n_objects)
		return NULL;
	if (stmt->computed_whole)
		return "";
	const char *small[8], **schemas = max_schemas(st) <= 8 ? small : util_xmalloc(max_schemas(st) * sizeof(char *));
	const char *hit = NULL;
	for (size_t i = 0; i < stmt->n_objects && !hit && stmt->n_computed; i++) {
		const sql_object *o = &stmt->objects[i];
		size_t n = schemas_of(o, st, s, schemas);
		for (size_t k = 0; k < n && !hit; k++) {
			char **par;
			int np = parents_of(st, s, schemas[k], o->name, &par);
			for (size_t c = 0; c < stmt->n_computed && !hit; c++)
				if (np < 0 || column_masked(globs, schemas[k], o->name, par, np, stmt->computed[c]))
					hit = stmt->computed[c];
			free_strs(par, np > 0 ? (size_t)np : 0);
		}
	}
	if (schemas != small)
		free(schemas);
	return hit;
}

/* Whether name is the JSON column catalog entry js names (session.h's
 * json_columns; "name[]" for an array of documents), and, with array set,
 * one of an array. */
static int json_column_is(const char *js, const char *name, int array)
{
	size_t l = strlen(js), n = strlen(name);
	int arr = l >= 2 && strcmp(js + l - 2, "[]") == 0;
	if (array && !arr)
		return 0;
	return strcmp(js, name) == 0 || (arr && n == l - 2 && strncmp(js, name, n) == 0);
}

/*
 * json_keys mask a value inside its document, by its key; a document
 * computed on — replace(profile::text, ...), left(profile::text, 40), a
 * WHERE comparing its text, md5 of it — gives its values with no key to
 * mask them by, or answers questions about them. So a statement computing
 * on a JSON column (session.h's json_columns: json, jsonb, an array of one,
 * a domain over one) of a relation it names, other than reading it by key or
 * sending it whole (exposure.h), is refused; so is one sending an array of
 * documents as text (no document: `{"{\"token\": ...}"}`), one computing
 * on columns it does not name (a whole row) of a relation with JSON
 * columns, and, when the target's catalog cannot say which columns are
 * JSON, one computing on any column or sending one as text. The JSON
 * columns asked about go into the decision's classification
 * ("json_columns"), so that a replay decides the same. Returns the column's
 * name ("" for columns the text does not name), with "table.column" in
 * st->doc_col, or NULL. A document a SET stores (doc_stored) keeps its keys
 * only in a JSON column: one stored into another column of a relation the
 * statement writes (`notes = profile - 'plan'`, text a later statement can
 * cut), or into one the catalog cannot say is JSON, is refused too, with
 * *stored set.
 */
static const char *doc_stored_out(policy_session *st, const session *s, const sql_stmt *stmt, int *stored);

static const char *doc_computed(policy_session *st, const session *s, const sql_stmt *stmt, int *stored)
{
	st->doc_col[0] = '\0';
	*stored = 0;
	if (!stmt->n_doc_computed && !stmt->doc_whole && !stmt->n_doc_texted && !stmt->n_doc_stored)
		return NULL;
	const char *small[8], **schemas = max_schemas(st) <= 8 ? small : util_xmalloc(max_schemas(st) * sizeof(char *));
	const char *hit = NULL;
	for (size_t i = 0; i < stmt->n_objects && !hit; i++) {
		const sql_object *o = &stmt->objects[i];
		size_t n = schemas_of(o, st, s, schemas);
		for (size_t k = 0; k < n && !hit; k++) {
			char **js;
			int nj = json_columns_of(st, s, schemas[k], o->name, &js);
			if ((nj < 0 || (nj > 0 && stmt->doc_whole)) &&
			    (stmt->doc_whole || stmt->n_doc_computed || stmt->n_doc_texted))
				hit = stmt->doc_whole ? ""
				      : stmt->n_doc_computed ? stmt->doc_computed[0]
				      : stmt->doc_texted[0];
			for (int j = 0; j < nj && !hit; j++) {
				for (size_t c = 0; c < stmt->n_doc_computed && !hit; c++)
					if (json_column_is(js[j], stmt->doc_computed[c], 0))
						hit = stmt->doc_computed[c];
				for (size_t c = 0; c < stmt->n_doc_texted && !hit; c++)
					if (json_column_is(js[j], stmt->doc_texted[c], 1))
						hit = stmt->doc_texted[c];
			}
			if (hit && nj < 0)
				snprintf(st->doc_col, sizeof(st->doc_col), "%s (the target's catalog cannot say which of "
					 "its columns are JSON)", o->name);
			else if (hit && *hit)
				snprintf(st->doc_col, sizeof(st->doc_col), "%s.%s", o->name, hit);
			else if (hit) /* (a whole row: its first JSON column) */
				snprintf(st->doc_col, sizeof(st->doc_col), "%s.%.*s", o->name,
					 (int)strcspn(js[0], "["), js[0]);
			free_strs(js, nj > 0 ? (size_t)nj : 0);
		}
	}
	if (schemas != small)
		free(schemas);
	return hit ? hit : doc_stored_out(st, s, stmt, stored);
}

/* Whether name is a JSON column of a relation stmt names, or may be (a
 * relation the catalog cannot say of). */
static int json_column_named(policy_session *st, const session *s, const sql_stmt *stmt, const char *name,
			     const char **schemas)
{
	int is = 0;
	for (size_t i = 0; i < stmt->n_objects && !is; i++) {
		size_t n = schemas_of(&stmt->objects[i], st, s, schemas);
		for (size_t k = 0; k < n && !is; k++) {
			char **js;
			int nj = json_columns_of(st, s, schemas[k], stmt->objects[i].name, &js);
			is = nj < 0;
			for (int j = 0; j < nj && !is; j++)
				is = json_column_is(js[j], name, 0);
			free_strs(js, nj > 0 ? (size_t)nj : 0);
		}
	}
	return is;
}

/*
 * The first of doc_stored given a JSON column's documents (doc_stored_from)
 * that is no JSON column of a relation the statement writes: in a schema the
 * relation may be in (schemas_of) whose catalog lists JSON columns of it, or
 * in every one, when none of them lists it as one. (A schema listing none may
 * hold no such relation: "$user"'s, mostly. A relation of that name there
 * without JSON columns, before the one that has the column as JSON, would
 * take the document as PostgreSQL resolves the name: the README says so.)
 * doc_col says which, and *stored is set.
 */
static const char *doc_stored_out(policy_session *st, const session *s, const sql_stmt *stmt, int *stored)
{
	if (!stmt->n_doc_stored)
		return NULL;
	const char *small[8], **schemas = max_schemas(st) <= 8 ? small : util_xmalloc(max_schemas(st) * sizeof(char *));
	const char *hit = NULL;
	for (size_t c = 0; c < stmt->n_doc_stored && !hit; c++) {
		if (!json_column_named(st, s, stmt, stmt->doc_stored_from[c], schemas))
			continue; /* (no document: `set name = notes`) */
		for (size_t i = 0; i < stmt->n_objects && !hit; i++) {
			const sql_object *o = &stmt->objects[i];
			if (!o->written)
				continue;
			size_t n = schemas_of(o, st, s, schemas);
			int json = 0, other = 0, unknown = 0;
			for (size_t k = 0; k < n; k++) {
				char **js;
				int nj = json_columns_of(st, s, schemas[k], o->name, &js), is = 0;
				for (int j = 0; j < nj && !is; j++)
					is = json_column_is(js[j], stmt->doc_stored[c], 0);
				json |= is;
				other |= nj > 0 && !is;
				unknown |= nj < 0;
				free_strs(js, nj > 0 ? (size_t)nj : 0);
			}
			if (json && !other && !unknown)
				continue;
			hit = stmt->doc_stored[c];
			*stored = 1;
			/* (doc_stored's names are never NULL: the loops' !hit is what was found) */
			/* cppcheck-suppress nullPointerRedundantCheck */
			snprintf(st->doc_col, sizeof(st->doc_col), "%s.%s, which %s", o->name, hit,
				 unknown ? "the target's catalog cannot say is a JSON column" : "is no JSON column");
		}
	}
	if (schemas != small)
		free(schemas);
	return hit;
}

/*
 * Renames. Column rules name "schema.table.column"; a statement giving
 * columns other names must not take them out of the rules. For a relation
 * or schema the columns are not in the text, so the glob itself is read:
 * after a name's prefix ("public.customers."), what the glob can still match
 * is what its rest matches from each cut k where its first k bytes match the
 * prefix whole (a "*" there may go on reading: the cut after it says so).
 * When every such cut of the old prefix is one of the new prefix's, every
 * column the glob masked it still masks; otherwise the statement is refused.
 * Cuts inside a "[...]" or after a "\" are not token boundaries and only
 * ever add a cut, so they can refuse a rename that keeps the masking (a name
 * holding such bytes), never let through one that loses it.
 */
static void glob_after(const char *g, size_t len, const char *p, unsigned char *at, char *tmp)
{
	for (size_t k = 0; k <= len; k++) {
		memcpy(tmp, g, k);
		tmp[k] = '\0';
		at[k] = fnmatch(tmp, p, FNM_CASEFOLD) == 0;
	}
}

/* Whether glob g may match a name starting with from that the same name with to instead does not. */
static int glob_loses(const char *g, const char *from, const char *to)
{
	size_t len = strlen(g);
	unsigned char *a = util_xmalloc(2 * (len + 1)), *b = a + len + 1;
	char *tmp = util_xmalloc(len + 1);
	glob_after(g, len, from, a, tmp);
	glob_after(g, len, to, b, tmp);
	int loses = 0;
	for (size_t k = 0; k <= len && !loses; k++)
		loses = a[k] && !b[k];
	free(tmp);
	free(a);
	return loses;
}

static int globs_lose(const config_strlist *globs, const char *from, const char *to)
{
	for (size_t i = 0; i < globs->n; i++)
		if (glob_loses(globs->v[i], from, to))
			return 1;
	return 0;
}

/* What a masked identity's statement is refused for (unmaskable). */
typedef struct refusal {
	enum {
		REF_NONE, REF_COMPUTED, REF_WHOLE, REF_RENAME, REF_CODE, REF_QUERY_FUNCTION, REF_FUNCTION_CALL, REF_FOREIGN, REF_CLUSTER,
		REF_JSON_KEY, REF_JSON_ANY, REF_UNPARSED, REF_NESTED, REF_UNIQUE, REF_REFERENCES, REF_JSON_COMPUTED,
		REF_JSON_STORED, REF_RESHAPED, REF_ENCODING, REF_PATH, REF_CATALOG_LATE
	} why;
	const char *what, *name;   /* REF_RENAME: "column", "relation" or "schema", and its name;
				    * REF_RESHAPED: what reshapes column name */
} refusal;

static int renames_out(const config_strlist *globs, policy_session *st, const session *s, const sql_rename *r)
{
	const char *small[8], **from = max_schemas(st) <= 8 ? small : util_xmalloc(max_schemas(st) * sizeof(char *));
	const char *small2[8], **to = max_schemas(st) <= 8 ? small2 : util_xmalloc(max_schemas(st) * sizeof(char *));
	int out = 0;
	if (!r->relation) {
		char a[520], b[520];
		snprintf(a, sizeof(a), "%s.", r->schema);
		snprintf(b, sizeof(b), "%s.", r->to);
		out = globs_lose(globs, a, b);
	} else {
		sql_object o = {.schema = r->schema, .name = r->relation};
		size_t nf = schemas_of(&o, st, s, from);
		for (size_t i = 0; i < nf && !out; i++) {
			char a[780], b[780];
			if (r->column) {
				snprintf(a, sizeof(a), "%s.%s.%s", from[i], r->relation, r->column);
				snprintf(b, sizeof(b), "%s.%s.%s", from[i], r->relation, r->to);
				out = any_glob(globs, a, FNM_CASEFOLD) && !any_glob(globs, b, FNM_CASEFOLD);
				continue;
			}
			snprintf(a, sizeof(a), "%s.%s.", from[i], r->relation);
			sql_object t = {.schema = r->same_schema ? (char *)from[i] : r->to_schema, .name = r->to};
			size_t nt = schemas_of(&t, st, s, to);
			/* a detached partition leaves its parent's rules, and its parent's parents' */
			char **par = NULL;
			int np = r->detaches ? parents_of(st, s, from[i], r->relation, &par) : 0;
			for (size_t k = 0; k < nt && !out; k++) {
				snprintf(b, sizeof(b), "%s.%s.", to[k], r->to);
				out = np < 0 || globs_lose(globs, a, b);
				for (int j = 0; j < np && !out; j++) {
					char pa[780];
					snprintf(pa, sizeof(pa), "%s.", par[j]);
					out = globs_lose(globs, pa, b);
				}
			}
			for (int j = 0; j < np; j++)
				free(par[j]);
			free(par);
		}
	}
	if (from != small)
		free(from);
	if (to != small2)
		free(to);
	return out;
}

/* What reshapes a column, as a message names it: "encode()", "the operator ||", "a cast". */
static void reshaper(char *out, size_t n, const char *what)
{
	if (strchr(what, ' '))
		snprintf(out, n, "%s", what);
	else if ((what[0] >= 'a' && what[0] <= 'z') || what[0] == '_' || (unsigned char)what[0] >= 0x80)
		snprintf(out, n, "%s()", what);
	else
		snprintf(out, n, "the operator %s", what);
}

/* A reshaped value's source as the messages name it: column "x", or what lo_get() returns. */
static void reshaped_source(char *out, size_t n, const char *name)
{
	size_t l = strlen(name);
	if (l > 2 && strcmp(name + l - 2, "()") == 0)
		snprintf(out, n, "what %s returns", name);
	else
		snprintf(out, n, "column \"%s\"", name);
}

static void trace_refusal(FILE *trace, const refusal *why, const char *profile)
{
	switch (why->why) {
	case REF_COMPUTED:
		fprintf(trace, "    -> deny: it computes on column \"%s\", which profile \"%s\" masks whole\n",
			why->name, profile);
		break;
	case REF_WHOLE:
		fprintf(trace, "    -> deny: it computes on columns it does not name (a whole row, * in an "
			"expression, NATURAL JOIN, a position after *); profile \"%s\" masks columns whole\n",
			profile);
		break;
	case REF_RENAME:
		fprintf(trace, "    -> deny: it renames %s \"%s\" out of profile \"%s\"'s column rules\n", why->what,
			why->name, profile);
		break;
	case REF_FOREIGN:
		fprintf(trace, "    -> deny: it defines or changes a foreign table or server under profile \"%s\"'s "
			"column rules\n", profile);
		break;
	case REF_CATALOG_LATE:
		fprintf(trace, "    -> deny: the session's search_path may put pg_catalog after another schema, whose "
			"functions and operators would take built-ins' names (profile \"%s\")\n", profile);
		break;
	case REF_PATH:
		fprintf(trace, "    -> deny: it names relation \"%s\" without its schema, and set_config() gave the "
			"search path a value warden cannot read (profile \"%s\")\n", why->name, profile);
		break;
	case REF_CLUSTER:
		fprintf(trace, "    -> deny: it stores a table's rows in an index's order (CLUSTER) under profile "
			"\"%s\"'s column rules\n", profile);
		break;
	case REF_FUNCTION_CALL:
		fprintf(trace, "    -> deny: a FunctionCall (a function by OID) under profile \"%s\"'s column rules\n",
			profile);
		break;
	case REF_QUERY_FUNCTION:
		fprintf(trace, "    -> deny: it calls %s(), which runs SQL text or reads whole tables or sessions' statements, under profile "
			"\"%s\"'s column rules\n", why->name, profile);
		break;
	case REF_JSON_KEY:
		fprintf(trace, "    -> deny: it reads the value of JSON key \"%s\" apart from its document, and "
			"profile \"%s\" masks that key's values\n", why->name, profile);
		break;
	case REF_JSON_ANY:
		fprintf(trace, "    -> deny: it reads JSON values at keys its text does not give (%s), and profile "
			"\"%s\" masks values by key\n", why->name, profile);
		break;
	case REF_UNIQUE:
		if (why->what)
			fprintf(trace, "    -> deny: it writes column \"%s\", whose foreign key references %s, which "
				"profile \"%s\" masks whole\n", why->name, why->what, profile);
		else
			fprintf(trace, "    -> deny: it writes column \"%s\", which profile \"%s\" masks whole and a "
				"unique index or exclusion constraint decides on\n",
				*why->name ? why->name : "(every column)", profile);
		break;
	case REF_REFERENCES:
		fprintf(trace, "    -> deny: it writes %s%s%s, and the target's catalog cannot say whether a foreign "
			"key references a column profile \"%s\" masks\n", *why->name ? "column \"" : "",
			*why->name ? why->name : "every column", *why->name ? "\"" : "", profile);
		break;
	case REF_UNPARSED:
		fprintf(trace, "    -> deny: the SQL parser cannot read it, and profile \"%s\" masks columns or JSON "
			"keys\n", profile);
		break;
	case REF_NESTED:
		fprintf(trace, "    -> deny: it runs a prepared statement (or another statement) inside it, and profile "
			"\"%s\" masks columns or JSON keys\n", profile);
		break;
	case REF_ENCODING:
		fprintf(trace, "    -> deny: it may send rows in another encoding than UTF-8 (client_encoding, COPY's "
			"ENCODING), and profile \"%s\"'s detectors read UTF-8\n", profile);
		break;
	case REF_JSON_COMPUTED:
		fprintf(trace, "    -> deny: it computes on the JSON documents of %s other than by key, and profile "
			"\"%s\" masks values in them by key\n", why->what, profile);
		break;
	case REF_RESHAPED: {
		char by[160];
		char src[240];
		reshaper(by, sizeof(by), why->what);
		reshaped_source(src, sizeof(src), why->name);
		fprintf(trace, "    -> deny: %s reshapes %s, and profile \"%s\" refuses transforms\n", by, src,
			profile);
		break;
	}
	case REF_JSON_STORED:
		fprintf(trace, "    -> deny: it stores JSON documents into %s, and profile \"%s\" masks values in "
			"them by key\n", why->what, profile);
		break;
	default:
		fprintf(trace, "    -> deny: it defines code (DO, a function, an operator, an aggregate, a cast, a trigger, a "
			"rule) under profile "
			"\"%s\"'s column rules\n", profile);
		break;
	}
}

static int column_refusal(const config_mask_profile *mp, policy_session *st, const session *s,
			  const sql_stmt *stmt, refusal *why);

/*
 * Whether stmt reads the catalog's description of the schema only, which
 * transforms: refuse leaves alone (psql's \d formats and cuts catalog
 * columns): relations of information_schema, and the listed ones of
 * pg_catalog, qualified or not (pg_catalog comes first in every search path
 * that does not name it). Not pg_stats, pg_stat_activity, pg_authid and the
 * like, which hold values and statements.
 */
static int reads_catalog_only(const sql_stmt *stmt)
{
	static const char *const described[] = {
		"pg_class", "pg_namespace", "pg_attribute", "pg_attrdef", "pg_type", "pg_proc", "pg_index",
		"pg_constraint", "pg_database", "pg_roles", "pg_tables", "pg_views", "pg_matviews", "pg_indexes",
		"pg_sequences", "pg_sequence", "pg_settings", "pg_extension", "pg_available_extensions",
		"pg_description", "pg_shdescription", "pg_am", "pg_amop", "pg_amproc", "pg_trigger", "pg_inherits",
		"pg_depend", "pg_collation", "pg_enum", "pg_language", "pg_opclass", "pg_opfamily", "pg_operator",
		"pg_policy", "pg_policies", "pg_publication", "pg_publication_rel", "pg_publication_tables",
		"pg_publication_namespace", "pg_rewrite", "pg_tablespace", "pg_auth_members", "pg_stat_user_tables", "pg_stat_all_tables",
		"pg_stat_sys_tables", "pg_statio_user_tables", "pg_statio_all_tables", "pg_stat_user_indexes",
		"pg_stat_all_indexes", "pg_statio_user_indexes", "pg_stat_database", "pg_locks",
		"pg_foreign_table", "pg_foreign_server", "pg_foreign_data_wrapper", "pg_event_trigger",
		"pg_partitioned_table", "pg_statistic_ext", "pg_range", "pg_cast", "pg_conversion", "pg_ts_config",
		"pg_ts_dict", "pg_ts_parser", "pg_ts_template", "pg_default_acl", "pg_init_privs", "pg_seclabel",
		"pg_largeobject_metadata", "pg_subscription_rel", "pg_timezone_names", "pg_timezone_abbrevs",
		"pg_transform", "pg_aggregate", "pg_user", "pg_group",
	};
	if (!stmt->n_objects)
		return 0;
	for (size_t i = 0; i < stmt->n_objects; i++) {
		const sql_object *o = &stmt->objects[i];
		if (o->schema && strcmp(o->schema, "information_schema") == 0)
			continue;
		if (o->schema && strcmp(o->schema, "pg_catalog") != 0)
			return 0;
		if (!PGTREE_LISTED(o->name, described))
			return 0;
	}
	return 1;
}

/* Whether profile mp's column rules, json_keys or transforms refuse stmt, and why (*why). */
static int unmaskable(const config_mask_profile *mp, policy_session *st, const session *s, const sql_stmt *stmt,
		      refusal *why)
{
	*why = (refusal){REF_NONE, NULL, NULL};
	if (stmt->leaves_utf8) {
		/* every profile: the detectors read UTF-8 (the PostgreSQL adapter
		 * refuses masked requests while the session is in another encoding;
		 * this statement would change it before its own rows, or the next
		 * statement's in the same message, leave) */
		why->why = REF_ENCODING;
		return 1;
	}
	if ((stmt->unparsed || stmt->execute_unknown) && (mp->columns.n || mp->json_keys.n || mp->transforms_refuse)) {
		/* what it reads, computes or renames is not known */
		why->why = REF_UNPARSED;
		return 1;
	}
	if (mp->json_keys.n && stmt->json_any) {
		why->why = REF_JSON_ANY;
		why->name = stmt->json_any;
		return 1;
	}
	for (size_t i = 0; i < stmt->n_json_keys && mp->json_keys.n; i++) {
		if (config_globs_match(&mp->json_keys, stmt->json_keys[i])) {
			why->why = REF_JSON_KEY;
			why->name = stmt->json_keys[i];
			return 1;
		}
	}
	if (!mp->columns.n && !mp->json_keys.n && !mp->transforms_refuse)
		return 0;
	/* a function or an operator of another schema may take a built-in's name
	 * once pg_catalog comes after it (an aggregate public.max(text) whose
	 * final function is reverse), which the walk reads as pg_catalog's */
	if (st->catalog_late && (stmt->n_functions || stmt->n_objects)) {
		why->why = REF_CATALOG_LATE;
		return 1;
	}
	/* which table an unqualified name means, when set_config() set the path to what warden cannot read */
	for (size_t i = 0; i < stmt->n_objects && st->path_unknown; i++) {
		if (!stmt->objects[i].schema) {
			why->why = REF_PATH;
			why->name = stmt->objects[i].name;
			return 1;
		}
	}
	/* what reads tables out of the walk's sight: column rules', json_keys' and transforms' */
	if (stmt->defines_code) {
		why->why = REF_CODE;
		return 1;
	}
	if (stmt->function_call) {
		why->why = REF_FUNCTION_CALL;
		return 1;
	}
	if (stmt->links_foreign) {
		why->why = REF_FOREIGN;
		return 1;
	}
	if (stmt->query_function) {
		why->why = REF_QUERY_FUNCTION;
		why->name = stmt->query_function;
		return 1;
	}
	if (stmt->kinds & SQLK_UNKNOWN) {
		/* an EXECUTE inside another statement (CREATE TABLE ... AS EXECUTE p: its
		 * columns land in a table under names no rule says), or a statement
		 * where none is expected: what it reads is not known */
		why->why = REF_NESTED;
		return 1;
	}
	const char *col;
	if (mp->columns.n && column_refusal(mp, st, s, stmt, why))
		return 1;
	int stored;
	if (mp->json_keys.n && (col = doc_computed(st, s, stmt, &stored))) {
		why->why = stored ? REF_JSON_STORED : REF_JSON_COMPUTED;
		why->name = col;
		why->what = st->doc_col;
		return 1;
	}
	/* (a large object's bytes are no description of the schema, whatever
	 * the statement reads them by: pg_largeobject_metadata's oids) */
	size_t rl = stmt->reshaped ? strlen(stmt->reshaped) : 0;
	int lo = rl > 2 && strcmp(stmt->reshaped + rl - 2, "()") == 0;
	if (mp->transforms_refuse && stmt->reshaped && (lo || !reads_catalog_only(stmt)) &&
	    !numbers_held(st, s, stmt)) {
		why->why = REF_RESHAPED;
		why->name = stmt->reshaped;
		why->what = stmt->reshaped_by;
		return 1;
	}
	return 0;
}

/* Whether profile mp's column rules refuse stmt past what unmaskable asks of every profile. */
static int column_refusal(const config_mask_profile *mp, policy_session *st, const session *s,
			  const sql_stmt *stmt, refusal *why)
{
	const char *col;
	if (stmt->reorders) {
		why->why = REF_CLUSTER;
		return 1;
	}
	for (size_t i = 0; i < stmt->n_renames; i++) {
		const sql_rename *r = &stmt->renames[i];
		if (renames_out(&mp->columns, st, s, r)) {
			why->why = REF_RENAME;
			why->what = r->column ? "column" : r->relation ? "relation" : "schema";
			why->name = r->column ? r->column : r->relation ? r->relation : r->schema;
			return 1;
		}
	}
	col = masked_computed(mp, st, s, stmt);
	if (col) {
		why->why = *col ? REF_COMPUTED : REF_WHOLE;
		why->name = col;
		return 1;
	}
	if ((col = written_unique(mp, st, s, stmt))) {
		why->why = st->unique_unknown ? REF_REFERENCES : REF_UNIQUE;
		why->name = col;
		why->what = st->unique_ref[0] ? st->unique_ref : NULL;
		return 1;
	}
	return 0;
}

typedef enum { M_NO = 0, M_YES, M_DANGEROUS } match_result;

static match_result rule_matches(const config_rule *r, const subject *who, const policy_session *st,
				 const session *s, const sql_stmt *stmt)
{
	if (r->catch_all)
		return M_YES;
	if (r->users.n && !any_glob(&r->users, who->user, 0))
		return M_NO;
	if (r->groups.n) {
		int hit = 0;
		for (size_t g = 0; g < who->n_groups && !hit; g++)
			hit = any_glob(&r->groups, who->groups[g], 0);
		if (!hit)
			return M_NO;
	}
	if (r->agents.n && !any_glob(&r->agents, who->agent, FNM_CASEFOLD))
		return M_NO;
	if (r->connections.n && !any_glob(&r->connections, who->connection, 0))
		return M_NO;
	/*
	 * What the statement does: an allow rule must cover all of it (kinds
	 * [read] does not allow EXPLAIN ANALYZE DELETE, which is read+write;
	 * objects [public.orders] does not allow a join with customers); a deny
	 * or review rule matches when any of it is listed.
	 */
	int all = r->action == CONFIG_ACTION_ALLOW;
	if (r->kinds && (all ? (stmt->kinds & ~r->kinds) != 0 : !(r->kinds & stmt->kinds)))
		return M_NO;
	if (r->flags && !(r->flags & stmt->flags))
		return M_NO;
	if (r->statements.n) {
		int hit = 0;
		for (size_t i = 0; i < r->statements.n && !hit; i++)
			hit = stmt->command && strcmp(r->statements.v[i], stmt->command) == 0;
		if (!hit)
			return M_NO;
	}
	if (r->objects.n) {
		size_t hits = 0;
		for (size_t k = 0; k < stmt->n_objects; k++)
			hits += (size_t)object_match(&r->objects, st, s, &stmt->objects[k], all);
		if (all ? (stmt->n_objects == 0 || hits < stmt->n_objects) : hits == 0)
			return M_NO;
	}
	if (r->functions.n) {
		size_t hits = 0;
		for (size_t k = 0; k < stmt->n_functions; k++) {
			int hit = 0;
			for (size_t i = 0; i < r->functions.n && !hit; i++)
				hit = bare_match(r->functions.v[i], stmt->functions[k]);
			hits += (size_t)hit;
		}
		if (all ? (stmt->n_functions == 0 || hits < stmt->n_functions) : hits == 0)
			return M_NO;
	}
	if (r->action == CONFIG_ACTION_ALLOW && (stmt->flags & SQLF_DANGEROUS_FUNCTION) &&
	    (r->kinds || r->statements.n) && !(r->flags & SQLF_DANGEROUS_FUNCTION) && !r->functions.n)
		return M_DANGEROUS;
	return M_YES;
}

static policy_action action_of(config_action a)
{
	return a == CONFIG_ACTION_ALLOW ? POLICY_ALLOW : a == CONFIG_ACTION_REVIEW ? POLICY_REVIEW : POLICY_DENY;
}

/*
 * The rule whose `mask` applies to the results of a statement rule i lets
 * through: an allow rule's own; for a review rule without one, the first
 * later rule the statement matches that masks, or allows (what it would
 * be masked by had no review been asked: an approval lets the statement
 * run, it does not show its results in clear); -1 for none.
 */
static int masking_rule(const config_policy *p, const subject *who, const policy_session *st, const session *s,
			const sql_stmt *stmt, int i, policy_action a)
{
	if (i < 0 || a == POLICY_DENY)
		return -1;
	if (a == POLICY_ALLOW || p->rules[i].mask_profile >= 0)
		return i;
	for (size_t j = (size_t)i + 1; j < p->n_rules; j++)
		if ((p->rules[j].mask_profile >= 0 || action_of(p->rules[j].action) == POLICY_ALLOW) &&
		    rule_matches(&p->rules[j], who, st, s, stmt) == M_YES)
			return (int)j;
	return -1;
}

/* The deciding rule index for one statement, or -1 for the default. */
static int decide_stmt(const config_policy *p, const subject *who, const policy_session *st,
		       const session *s, const sql_stmt *stmt, FILE *trace)
{
	for (size_t i = 0; i < p->n_rules; i++) {
		match_result m = rule_matches(&p->rules[i], who, st, s, stmt);
		if (m == M_YES)
			return (int)i;
		if (m == M_DANGEROUS && trace)
			fprintf(trace, "    skipped rule \"%s\": it allows by kind or statement, and this calls a "
				"dangerous function (an allow needs `functions:` or `flags: [dangerous_function]`)\n",
				p->rules[i].name);
	}
	return -1;
}

/* The statement a request runs: EXECUTE name runs what PREPARE name held. */
/*
 * The statement a request runs: EXECUTE name runs what PREPARE name held,
 * together with what its own arguments do (EXECUTE p(pg_read_file('x'))).
 * *merged is set when a new class had to be made; the caller frees it.
 */
static const sql_stmt *effective(const policy_session *st, const sql_stmt *stmt, sql_stmt *unknown_out,
				 sql_class **merged)
{
	*merged = NULL;
	if (!stmt->execute_name)
		return stmt;
	const sql_stmt *prep = NULL;
	for (const prepared *p = st->prepared; p && !prep; p = p->next)
		if (strcmp(p->name, stmt->execute_name) == 0)
			prep = &p->cls->stmts[0];
	if (!prep) {
		memset(unknown_out, 0, sizeof(*unknown_out));
		unknown_out->kinds = SQLK_UNKNOWN | stmt->kinds;
		unknown_out->flags = SQLF_PREPARED | stmt->flags;
		unknown_out->command = "execute";
		unknown_out->objects = stmt->objects;
		unknown_out->n_objects = stmt->n_objects;
		unknown_out->functions = stmt->functions;
		unknown_out->n_functions = stmt->n_functions;
		unknown_out->computed = stmt->computed;
		unknown_out->n_computed = stmt->n_computed;
		unknown_out->computed_whole = stmt->computed_whole;
		unknown_out->defines_code = stmt->defines_code;
		unknown_out->query_function = stmt->query_function;
		unknown_out->json_keys = stmt->json_keys;
		unknown_out->n_json_keys = stmt->n_json_keys;
		unknown_out->json_any = stmt->json_any;
		unknown_out->json_reads = stmt->json_reads;
		unknown_out->doc_computed = stmt->doc_computed;
		unknown_out->n_doc_computed = stmt->n_doc_computed;
		unknown_out->doc_whole = stmt->doc_whole;
		unknown_out->doc_texted = stmt->doc_texted;
		unknown_out->n_doc_texted = stmt->n_doc_texted;
		unknown_out->reshaped = stmt->reshaped;
		unknown_out->reshaped_by = stmt->reshaped_by;
		unknown_out->number_casts = stmt->number_casts;
		unknown_out->n_number_casts = stmt->n_number_casts;
		unknown_out->leaves_utf8 = stmt->leaves_utf8;
		unknown_out->execute_unknown = 1;
		return unknown_out;
	}
	if (!stmt->kinds && !stmt->n_objects && !stmt->n_functions && !stmt->n_computed && !stmt->computed_whole &&
	    !stmt->n_doc_computed && !stmt->doc_whole && !stmt->defines_code && !stmt->query_function && !stmt->n_json_keys && !stmt->json_any &&
	    !(stmt->flags & ~(uint32_t)(SQLF_PREPARED | SQLF_MULTI_STATEMENT)))
		return prep;
	sql_class *m = class_of_stmt(prep);
	sql_stmt *o = &m->stmts[0];
	o->kinds |= stmt->kinds;
	o->flags |= stmt->flags;
	o->computed_whole |= stmt->computed_whole;
	o->doc_whole |= stmt->doc_whole;
	o->defines_code |= stmt->defines_code;
	o->leaves_utf8 |= stmt->leaves_utf8;
	if (!o->query_function)
		o->query_function = stmt->query_function; /* EXECUTE p(query_to_xml(...)) */
	if (!o->json_any)
		o->json_any = stmt->json_any;     /* EXECUTE p(doc->>k) */
	o->json_reads |= stmt->json_reads;
	if (stmt->n_json_keys) {
		o->json_keys = util_xrealloc(o->json_keys, (o->n_json_keys + stmt->n_json_keys) * sizeof(char *));
		for (size_t i = 0; i < stmt->n_json_keys; i++)
			o->json_keys[o->n_json_keys++] = util_strdup_or_null(stmt->json_keys[i]);
	}
	if (stmt->n_computed) { /* EXECUTE p(upper(x)): its arguments compute too */
		o->computed = util_xrealloc(o->computed, (o->n_computed + stmt->n_computed) * sizeof(char *));
		for (size_t i = 0; i < stmt->n_computed; i++)
			o->computed[o->n_computed++] = util_strdup_or_null(stmt->computed[i]);
	}
	if (stmt->n_doc_computed) {
		o->doc_computed = util_xrealloc(o->doc_computed,
						(o->n_doc_computed + stmt->n_doc_computed) * sizeof(char *));
		for (size_t i = 0; i < stmt->n_doc_computed; i++)
			o->doc_computed[o->n_doc_computed++] = util_strdup_or_null(stmt->doc_computed[i]);
	}
	if (stmt->n_objects) {
		o->objects = util_xrealloc(o->objects, (o->n_objects + stmt->n_objects) * sizeof(sql_object));
		for (size_t i = 0; i < stmt->n_objects; i++) {
			sql_object *d = &o->objects[o->n_objects++];
			d->schema = util_strdup_or_null(stmt->objects[i].schema);
			d->name = util_strdup_or_null(stmt->objects[i].name);
			d->written = stmt->objects[i].written;
		}
	}
	if (stmt->n_functions) {
		o->functions = util_xrealloc(o->functions, (o->n_functions + stmt->n_functions) * sizeof(char *));
		for (size_t i = 0; i < stmt->n_functions; i++)
			o->functions[o->n_functions++] = util_strdup_or_null(stmt->functions[i]);
	}
	m->kinds = o->kinds;
	m->flags = o->flags;
	*merged = m;
	return o;
}

/* ---- messages ---- */

static void describe(buf *b, const sql_stmt *stmt)
{
	char tmp[160];
	const char *sep = "";
	for (int k = 0; k < SQLK_COUNT; k++) {
		if (stmt->kinds & (1u << k)) {
			buf_printf(b, "%s%s", sep, sqlclass_kind_name(1u << k));
			sep = "+";
		}
	}
	buf_printf(b, " (%s)", stmt->command ? stmt->command : "unknown");
	size_t shown = 0;
	for (int pass = 1; pass >= 0; pass--) {
		for (size_t k = 0; k < stmt->n_objects && shown < 4; k++) {
			const sql_object *o = &stmt->objects[k];
			if (o->written != pass)
				continue;
			snprintf(tmp, sizeof(tmp), "%s%s%s", o->schema ? o->schema : "", o->schema ? "." : "", o->name);
			buf_printf(b, "%s%s", shown ? ", " : " on ", tmp);
			shown++;
		}
	}
	if (stmt->n_objects > shown)
		buf_printf(b, " and %zu more", stmt->n_objects - shown);
	if (stmt->flags & SQLF_DANGEROUS_FUNCTION) {
		buf_printf(b, ", calling");
		sep = " ";
		for (size_t k = 0; k < stmt->n_functions; k++) {
			buf_printf(b, "%s%s()", sep, stmt->functions[k]);
			sep = ", ";
		}
	}
	if (stmt->flags & SQLF_NO_WHERE)
		buf_printf(b, ", without WHERE");
	if (stmt->flags & SQLF_WRITES_IN_CTE)
		buf_printf(b, ", writing inside WITH");
	if (stmt->flags & SQLF_EXPLAIN_ANALYZE)
		buf_printf(b, ", EXPLAIN ANALYZE runs it");
}

static void fill_messages(const config_policy *p, policy_decision *d, int rule, const sql_stmt *stmt,
			  const sql_class *c)
{
	buf b = {0};
	if (rule >= 0)
		buf_printf(&b, "warden policy rule \"%s\" %s this statement: ", p->rules[rule].name,
			   d->action == POLICY_REVIEW ? "requires a human review for" : "denies");
	else
		buf_printf(&b, "warden policy: no rule allows this statement (policy.default is %s): ",
			   d->action == POLICY_REVIEW ? "review" : "deny");
	describe(&b, stmt);
	if (stmt->kinds & SQLK_UNKNOWN && c->error)
		buf_printf(&b, " - the SQL parser rejects it: %s", c->error);
	buf_append(&b, "", 1);
	d->message = b.data;
	if (rule >= 0 && p->rules[rule].message)
		d->detail = util_strdup_or_null(p->rules[rule].message);
	const char *instead;
	if (d->action == POLICY_REVIEW)
		instead = "It waits for a reviewer's decision; if none comes in time it is not run.";
	else if (stmt->kinds & (SQLK_WRITE | SQLK_DDL | SQLK_DCL | SQLK_COPY_IN | SQLK_COPY_PROGRAM |
				 SQLK_PROCEDURAL | SQLK_CALL))
		instead = "This is the gateway's access policy, not a database error: sending it again will be "
			  "denied again. Continue with statements the policy allows (reads, if your rules allow "
			  "them), or ask a person with the right access to make this change.";
	else
		instead = "This is the gateway's access policy, not a database error: sending it again will be "
			  "denied again. Rewrite the query without what was detected, or ask the policy owner.";
	d->hint = util_strndup(instead, strlen(instead));
}

/* A statement its column rules refuse (unmaskable). */
static void refusal_messages(policy_decision *d, const refusal *r, const char *profile)
{
	buf b = {0};
	const char *hint = "Select the columns as they are (masked columns arrive masked) and name each one you "
			   "need; a person with unmasked access can run this statement.";
	switch (r->why) {
	case REF_COMPUTED:
		buf_printf(&b, "warden masks column \"%s\" for you (masking profile \"%s\"): it can be read as "
			   "itself only, and this statement computes on it (a function, an operator, a cast, a "
			   "comparison, a sort, an index or constraint, or a copy into another table), which would "
			   "show its values unmasked",
			   r->name, profile);
		break;
	case REF_WHOLE:
		buf_printf(&b, "warden masks columns for you (masking profile \"%s\"): this statement computes on "
			   "columns it does not name (a whole row, * inside an expression, a NATURAL JOIN, or an "
			   "ORDER BY, GROUP BY or DISTINCT ON position at or after a *), which would show their "
			   "values unmasked", profile);
		hint = "Name the columns you need (in the select list, the join's ON or USING, the ORDER BY); "
		       "masked columns arrive masked; a person with unmasked access can run this statement.";
		break;
	case REF_RENAME:
		buf_printf(&b, "warden masks columns by name for you (masking profile \"%s\"): this statement would "
			   "give %s \"%s\" a name the profile's column rules do not cover (a rename, SET SCHEMA, "
			   "INHERIT or ATTACH PARTITION), and its masked values would then arrive unmasked",
			   profile, r->what, r->name);
		hint = "A person with unmasked access can run this statement, once the profile's column rules "
		       "cover the new name.";
		break;
	case REF_CLUSTER:
		buf_printf(&b, "warden masks columns for you (masking profile \"%s\"): this statement stores a "
			   "table's rows in the order of an index (CLUSTER, or the index a later CLUSTER takes), "
			   "whose columns it does not name: read back in that order, the rows would answer "
			   "questions about masked values, as an ORDER BY on them would", profile);
		hint = "A person with unmasked access can run this statement.";
		break;
	case REF_CATALOG_LATE:
		buf_printf(&b, "warden masks columns for you (masking profile \"%s\"): this session's search_path "
			   "may put pg_catalog after another schema, where a function or an operator can take a "
			   "built-in's name (max, lower, =) and reshape what warden reads as passed on whole", profile);
		hint = "Start a new session and keep pg_catalog first in search_path (or leave it out: "
		       "PostgreSQL then reads it first).";
		break;
	case REF_PATH:
		buf_printf(&b, "warden masks columns for you (masking profile \"%s\"): this statement names relation "
			   "\"%s\" without its schema, and set_config() gave this session's search_path a value warden "
			   "cannot read, so which table that is, and which of its columns the profile's rules mask, "
			   "is not known", profile, r->name);
		hint = "Name the schema (schema.table), or start a new session.";
		break;
	case REF_FOREIGN:
		buf_printf(&b, "warden masks columns for you (masking profile \"%s\"): this statement defines or "
			   "changes a foreign table or server, which reads tables (this database's too) under names "
			   "of its own that the profile's column rules do not cover", profile);
		hint = "A person with unmasked access can run this statement.";
		break;
	case REF_FUNCTION_CALL:
		buf_printf(&b, "warden masks columns for you (masking profile \"%s\"): this request is a FunctionCall "
			   "(the protocol's fast path), which runs a function known by its OID only, and whose "
			   "result warden cannot tie to a column", profile);
		hint = "Call the function in a query (SELECT f(...)); a person with unmasked access can send "
		       "this request.";
		break;
	case REF_JSON_KEY:
		buf_printf(&b, "warden masks the values of JSON key \"%s\" for you (masking profile \"%s\"): they "
			   "can be read inside their documents only, and this statement reads one apart from its key "
			   "(->, ->>, #>, #>>, a subscript, jsonb_extract_path, a jsonpath, a jsonb_to_record column "
			   "or a containment test), which would show it unmasked or answer questions about it",
			   r->name, profile);
		hint = "Select the JSON document itself (values under masked keys arrive masked), or read keys "
		       "the profile does not mask; a person with unmasked access can run this statement.";
		break;
	case REF_JSON_ANY:
		buf_printf(&b, "warden masks values in JSON documents by key for you (masking profile \"%s\"): this "
			   "statement reads JSON values at keys its text does not give (%s: every key, or a key from a "
			   "parameter, a column or a path's wildcard), which could show masked values unmasked",
			   profile, r->name);
		hint = "Name each key in the statement's text (doc->>'key', doc #>> '{a,b}'), or select the "
		       "document itself (values under masked keys arrive masked); a person with unmasked access "
		       "can run this statement.";
		break;
	case REF_UNIQUE:
		if (*r->name && r->what)
			buf_printf(&b, "warden masks column %s for you (masking profile \"%s\"): this statement writes "
				   "column \"%s\", whose foreign key references it, so whether the write fails would "
				   "answer whether a value is there, as comparing the masked column would", r->what,
				   profile, r->name);
		else if (*r->name)
			buf_printf(&b, "warden masks column \"%s\" for you (masking profile \"%s\"): this statement "
				   "writes it, and a unique index or an exclusion constraint decides on it, so whether the "
				   "write fails would answer whether a value is already there, as comparing the column "
				   "would", r->name, profile);
		else
			buf_printf(&b, "warden masks columns for you (masking profile \"%s\"): this statement writes "
				   "columns it does not name or the target's catalog cannot say which of them a unique "
				   "index decides on, so whether the write fails could answer whether a masked value is "
				   "already there", profile);
		hint = "Name the columns you write and leave out masked ones a unique index covers; a person "
		       "with unmasked access can run this statement.";
		break;
	case REF_REFERENCES:
		buf_printf(&b, "warden masks columns for you (masking profile \"%s\"): this statement writes %s%s%s, "
			   "and the target's catalog cannot say whether a foreign key from it references a masked "
			   "column, so whether the write fails could answer whether a masked value is there",
			   profile, *r->name ? "column \"" : "", *r->name ? r->name : "columns it does not name",
			   *r->name ? "\"" : "");
		hint = "Try again when the target's catalog can be read; a person with unmasked access can run "
		       "this statement.";
		break;
	case REF_JSON_COMPUTED:
		buf_printf(&b, "warden masks values in the JSON documents of %s by key for you (masking profile "
			   "\"%s\"): they can be read by key or as whole documents only, and this statement computes "
			   "on %s (a function, an operator, a cast that cuts it short, a comparison, a sort, or a copy "
			   "into another table), which would show masked values unmasked or answer questions about "
			   "them", r->what, profile, *r->name ? "a document" : "documents it does not name (a whole row)");
		hint = "Select the document itself, read it by key (doc->>'key', doc #>> '{a,b}') or edit it "
		       "(jsonb_set, doc - 'key', doc #- '{a,b}', doc || '{...}'::jsonb): values under masked keys "
		       "arrive masked; a person with unmasked access can run this statement.";
		break;
	case REF_JSON_STORED:
		buf_printf(&b, "warden masks values in JSON documents by key for you (masking profile \"%s\"): this "
			   "statement stores documents into %s, where their values would have no key to mask them by",
			   profile, r->what);
		hint = "Store documents into json or jsonb columns only (SET profile = jsonb_set(profile, ...)); a "
		       "person with unmasked access can run this statement.";
		break;
	case REF_RESHAPED: {
		char by[160], src[240];
		reshaper(by, sizeof(by), r->what);
		reshaped_source(src, sizeof(src), r->name);
		buf_printf(&b, "warden masks what its detectors recognise for you (masking profile \"%s\"), and "
			   "recognises values by their shape: this statement reshapes %s with %s, which "
			   "could return its values in a form no detector recognises (encoded, cut, replaced, "
			   "reversed, split, re-cased, glued to other text or hashed)", profile, src, by);
		hint = "Select the column as it is (coalesce, CASE, casts to text, count, min, max, array_agg, "
		       "comparisons and || ' ' keep it whole; lower and upper in a comparison); a person with "
		       "unmasked access can run this statement.";
		break;
	}
	case REF_ENCODING:
		buf_printf(&b, "warden masks values it reads as UTF-8 for you (masking profile \"%s\"): this statement "
			   "may send rows in another encoding (SET client_encoding, set_config(), COPY's ENCODING), in "
			   "which letters outside ASCII would reach you in bytes its detectors do not read", profile);
		hint = "Keep client_encoding UTF8 and leave out COPY's ENCODING; a person with unmasked access can use "
		       "another encoding.";
		break;
	case REF_UNPARSED:
		if (!r->name) {
			buf_printf(&b, "warden masks columns for you (masking profile \"%s\"): this EXECUTE runs a "
				   "statement no PREPARE of this session made (a protocol Parse's), whose text warden "
				   "did not classify, so what it computes on is not known", profile);
			hint = "Run it with Bind and Execute, or PREPARE it in SQL first.";
			break;
		}
		buf_printf(&b, "warden masks columns for you (masking profile \"%s\"): its SQL parser (PostgreSQL "
			   PG_MAJORVERSION "'s grammar) cannot read this statement (%s), so what it computes on is not "
			   "known", profile, r->name);
		hint = "Correct the statement, or write it in syntax PostgreSQL " PG_MAJORVERSION " knows; a person "
		       "with unmasked access can run statements warden cannot read.";
		break;
	case REF_NESTED:
		buf_printf(&b, "warden masks columns for you (masking profile \"%s\"): this statement runs a prepared "
			   "statement (or another statement) inside it, as CREATE TABLE ... AS EXECUTE and EXPLAIN "
			   "ANALYZE EXECUTE do, or one warden cannot place, so what it reads and where its columns land "
			   "is not known", profile);
		hint = "Run the EXECUTE on its own (masked columns arrive masked); a person with unmasked access can "
		       "run this statement.";
		break;
	case REF_QUERY_FUNCTION:
		buf_printf(&b, "warden masks columns for you (masking profile \"%s\"): this statement calls %s(), "
			   "which runs a query given as text or reads whole tables or other sessions' statements on the "
			   "server, and would return masked columns unmasked", profile, r->name);
		hint = "Run the query itself (masked columns arrive masked); a person with unmasked access can "
		       "run this statement.";
		break;
	default:
		buf_printf(&b, "warden masks columns for you (masking profile \"%s\"): this statement defines "
			   "code (a DO block, a function or procedure, an operator, an aggregate or a cast, a trigger "
			   "or a rule) whose reads warden "
			   "cannot see, which could return masked columns unmasked", profile);
		hint = "Run the statements the code would run one by one; a person with unmasked access can "
		       "run this statement.";
		break;
	}
	buf_append(&b, "", 1);
	d->message = b.data;
	d->hint = util_strndup(hint, strlen(hint));
}

/* ---- session state updates (on an allowed request) ---- */

/* Adds the schemas stmt sets the search path to into st->seen (whether or
 * not the request is allowed: a path it may have). */
static void paths_seen(policy_session *st, const sql_stmt *stmt)
{
	st->path_unknown |= stmt->search_path_unknown;
	for (size_t i = 1; i < stmt->n_search_path; i++)
		st->catalog_late |= strcmp(stmt->search_path[i], "pg_catalog") == 0;
	for (size_t i = 0; i < stmt->n_search_path; i++) {
		int have = 0;
		for (size_t j = 0; j < st->n_seen && !have; j++)
			have = strcmp(st->seen[j], stmt->search_path[i]) == 0;
		if (have)
			continue;
		st->seen = util_xrealloc(st->seen, (st->n_seen + 1) * sizeof(*st->seen));
		st->seen[st->n_seen++] = util_strndup(stmt->search_path[i], strlen(stmt->search_path[i]));
	}
}

static void remember(policy_session *st, const sql_stmt *stmt)
{
	if (stmt->prepare_name) {
		prepared **pp = &st->prepared;
		while (*pp && strcmp((*pp)->name, stmt->prepare_name) != 0)
			pp = &(*pp)->next;
		if (*pp) {
			prepared *old = *pp;
			*pp = old->next;
			prepared_free(old);
		}
		prepared *n = calloc(1, sizeof(*n));
		if (!n)
			abort();
		n->name = util_strdup_or_null(stmt->prepare_name);
		n->cls = class_of_stmt(stmt);
		n->cls->stmts[0].flags &= ~(uint32_t)SQLF_MULTI_STATEMENT;
		n->cls->flags = n->cls->stmts[0].flags;
		n->summary = summarize(n->cls);
		n->next = st->prepared;
		st->prepared = n;
	}
	if (stmt->deallocate_name) {
		prepared **pp = &st->prepared;
		while (*pp) {
			if (!*stmt->deallocate_name || strcmp((*pp)->name, stmt->deallocate_name) == 0) {
				prepared *old = *pp;
				*pp = old->next;
				prepared_free(old);
			} else {
				pp = &(*pp)->next;
			}
		}
	}
	if (stmt->sets_search_path) {
		free_strs(st->search_path, st->n_search_path);
		st->search_path = dup_strs(stmt->search_path, stmt->n_search_path);
		st->n_search_path = stmt->n_search_path;
		st->search_path_set = stmt->n_search_path > 0;
	}
}

/* ---- decide ---- */

static void subject_of(subject *who, policy_session *st, const session *s)
{
	parse_groups(st, s);
	who->user = s ? s->user : NULL;
	who->agent = s ? s->agent : NULL;
	who->connection = s ? s->connection : NULL;
	who->groups = st->groups;
	who->n_groups = st->n_groups;
}

/*
 * A FunctionCall message runs a function known by its OID, with no SQL text.
 * When the target's catalog named it (name, quoted), it is decided as `SELECT
 * that_function()` would be (its kinds, the function for `functions:` rules
 * and dangerous_functions); otherwise it is one statement of kinds call and
 * unknown (only a rule letting unknown statements through allows it). Either
 * way it is marked a function call: column rules refuse it, and a replay
 * decides it as one again.
 */
static sql_class *function_call_class(const config_policy *p, const char *name, char **summary)
{
	if (name) {
		buf q = {0};
		buf_printf(&q, "SELECT %s()", name);
		sql_class *c = sqlclass_classify(q.data, q.len);
		buf_free(&q);
		if (c->n == 1 && !c->error && c->stmts[0].n_functions == 1) {
			flag_dangerous(p, c);
			c->stmts[0].function_call = 1;
			*summary = summarize(c);
			return c;
		}
		sqlclass_free(c);
	}
	sql_class *c = calloc(1, sizeof(*c));
	sql_stmt *st = calloc(1, sizeof(*st));
	if (!c || !st)
		abort();
	st->kinds = SQLK_CALL | SQLK_UNKNOWN;
	st->command = "call";
	st->function_call = 1;
	c->stmts = st;
	c->n = 1;
	c->kinds = st->kinds;
	*summary = summarize(c);
	return c;
}

static policy_action run(const config_policy *p, policy_session *st, const session *s,
			 const char *text, size_t len, int function_call, const char *function_name,
			 policy_decision *d, FILE *trace)
{
	memset(d, 0, sizeof(*d));
	d->stmt = -1;
	d->rule = "default";
	d->mask_profile = -1;
	subject who;
	subject_of(&who, st, s);
	json_decref(st->inherits);
	st->inherits = NULL;
	json_decref(st->uniques);
	st->uniques = NULL;
	json_decref(st->references);
	st->references = NULL;
	json_decref(st->json_cols);
	st->json_cols = NULL;
	json_decref(st->num_cols);
	st->num_cols = NULL;
	char *summary;
	int owned = 1;
	sql_class *c = function_call ? function_call_class(p, function_name, &summary)
				     : classify(p, text ? text : "", text ? len : 0, &summary, &owned);
	int best_rule = -1, best_stmt = -1;
	policy_action best = POLICY_ALLOW;
	/* per statement scratch: on the stack for the usual few statements */
	sql_stmt unknown_small[4];
	sql_class *merged_small[4];
	sql_stmt *unknown_exec = c->n <= 4 ? unknown_small : calloc(c->n, sizeof(sql_stmt));
	sql_class **merged = c->n <= 4 ? merged_small : calloc(c->n, sizeof(sql_class *));
	if (!unknown_exec || !merged)
		abort();
	memset(merged, 0, (c->n <= 4 ? 4 : c->n) * sizeof(sql_class *));
	for (size_t i = 0; i < c->n; i++) { /* (from the request on: one statement may make it, the next read it) */
		st->names_moved |= (c->stmts[i].kinds & SQLK_DDL) || c->stmts[i].sets_search_path;
		paths_seen(st, &c->stmts[i]);
	}
	const sql_stmt *best_eff = NULL;
	refusal refused = {REF_NONE, NULL, NULL};
	const char *refused_profile = NULL;
	int refused_stmt = -1;
	for (size_t i = 0; i < c->n; i++) {
		const sql_stmt *eff = effective(st, &c->stmts[i], &unknown_exec[i], &merged[i]);
		d->kinds |= eff->kinds;
		if (trace) {
			buf b = {0};
			describe(&b, eff);
			buf_append(&b, "", 1);
			fprintf(trace, "statement %zu: %s\n", i + 1, b.data);
			buf_free(&b);
			if (eff != &c->stmts[i])
				fprintf(trace, "    EXECUTE %s runs the statement prepared under that name\n",
					c->stmts[i].execute_name);
		}
		int rule = decide_stmt(p, &who, st, s, eff, trace);
		policy_action a = rule >= 0 ? action_of(p->rules[rule].action) : action_of(p->default_action);
		if (trace)
			fprintf(trace, "    -> %s by %s%s%s\n", policy_action_name(a), rule >= 0 ? "rule \"" : "",
				rule >= 0 ? p->rules[rule].name : "policy.default", rule >= 0 ? "\"" : "");
		/* an allowed (or reviewed) statement's rule may ask for its results masked */
		int mrule = masking_rule(p, &who, st, s, eff, rule, a);
		int mprof = mrule >= 0 ? p->rules[mrule].mask_profile : -1;
		if (mprof >= 0 && d->mask_profile < 0) {
			d->mask_profile = mprof;
			if (trace)
				fprintf(trace, "    results masked (rule \"%s\"%s)\n", p->rules[mrule].name,
					a == POLICY_REVIEW ? ", once approved" : "");
		}
		/* results going out in clear are captured masked (audit.capture_results):
		 * what the capture's column rules could not mask is not captured */
		refusal cw;
		if (a != POLICY_DENY && mprof < 0 && p->capture_profile >= 0 &&
		    (size_t)p->capture_profile < p->n_mask_profiles &&
		    unmaskable(&p->mask_profiles[p->capture_profile], st, s, eff, &cw))
			d->capture_unmaskable = 1;
		/* ... and then what its column rules could not mask is refused */
		if (mprof >= 0 && (size_t)mprof < p->n_mask_profiles) {
			const config_mask_profile *mp = &p->mask_profiles[mprof];
			refusal why;
			if (unmaskable(mp, st, s, eff, &why)) {
				if (why.why == REF_UNPARSED)
					why.name = c->error;
				a = POLICY_DENY;
				if (refused.why == REF_NONE) {
					refused = why;
					refused_profile = mp->name;
					refused_stmt = (int)i;
				}
				if (trace)
					trace_refusal(trace, &why, mp->name);
			}
		}
		if (best_stmt < 0 || a > best) {
			best = a;
			best_rule = rule;
			best_stmt = (int)i;
			best_eff = eff;
		}
		/* EXECUTE's summary is the prepared statement's (with its arguments') */
		if (eff != &c->stmts[i] && c->n == 1) {
			if (merged[i])
				d->classification = summarize(merged[i]);
			for (const prepared *pp = st->prepared; pp && !d->classification; pp = pp->next)
				if (&pp->cls->stmts[0] == eff)
					d->classification = util_strdup_or_null(pp->summary);
		}
	}
	if (c->n == 0) {
		/* nothing to run (empty text): the rule is the default only in name */
		best = POLICY_ALLOW;
	}
	d->action = best;
	d->stmt = best_stmt;
	if (best_stmt >= 0)
		d->rule = best_rule >= 0 ? p->rules[best_rule].name : "default";
	else
		d->rule = "empty";
	if (!d->classification)
		d->classification = util_strdup_or_null(summary);
	if ((st->inherits || st->uniques || st->references || st->json_cols || st->num_cols) && d->classification) {
		/* what the target's catalog said of the relations' parents
		 * (masked_computed) and unique columns (written_unique) */
		json_t *cls = json_loads(d->classification, 0, NULL);
		if (json_is_object(cls)) {
			if (st->inherits)
				json_object_set(cls, "inherits", st->inherits);
			if (st->uniques)
				json_object_set(cls, "unique", st->uniques);
			if (st->references)
				json_object_set(cls, "references", st->references);
			if (st->json_cols)
				json_object_set(cls, "json_columns", st->json_cols);
			if (st->num_cols)
				json_object_set(cls, "number_columns", st->num_cols);
			char *t = json_dumps(cls, JSON_COMPACT | JSON_PRESERVE_ORDER);
			if (t) {
				free(d->classification);
				d->classification = t;
			}
		}
		json_decref(cls);
	}
	if (best != POLICY_ALLOW && best_stmt == refused_stmt)
		refusal_messages(d, &refused, refused_profile);
	else if (best != POLICY_ALLOW)
		fill_messages(p, d, best_rule, best_eff, c);
	else
		for (size_t i = 0; i < c->n; i++)
			remember(st, &c->stmts[i]);
	for (size_t i = 0; i < c->n; i++)
		sqlclass_free(merged[i]);
	if (merged != merged_small)
		free(merged);
	if (unknown_exec != unknown_small)
		free(unknown_exec);
	if (owned) {
		sqlclass_free(c);
		free(summary);
	}
	return best;
}

void policy_decide(const config_policy *p, policy_session *st, const session *s,
		   const request_desc *r, policy_decision *out)
{
	if (!p->present && p->capture_profile >= 0 && (size_t)p->capture_profile < p->n_mask_profiles &&
	    p->mask_profiles[p->capture_profile].columns.n) {
		/* no policy section, but the capture's column rules need to know
		 * what each statement computes on: everything is allowed */
		run(p, st, s, r->statement, r->statement ? r->statement_len : 0, r->function_call, r->function_name, out, NULL);
		out->rule = "no-policy";
		return;
	}
	if (!p->present) {
		/* no policy section: nothing to match, so nothing is parsed */
		memset(out, 0, sizeof(*out));
		out->action = POLICY_ALLOW;
		out->rule = "no-policy";
		out->stmt = -1;
		out->mask_profile = -1;
		return;
	}
	run(p, st, s, r->statement, r->statement ? r->statement_len : 0, r->function_call, r->function_name, out, NULL);
}

policy_action policy_explain(const config_policy *p, policy_session *st, const session *s,
			     const char *sql, FILE *out)
{
	policy_decision d;
	policy_action a = run(p, st, s, sql, strlen(sql), 0, NULL, &d, out);
	fprintf(out, "request: %s (rule %s)\n", policy_action_name(a), d.rule);
	if (d.classification)
		fprintf(out, "classification: %s\n", d.classification);
	if (d.message)
		fprintf(out, "client is told: ERROR 42501 %s\n", d.message);
	if (d.detail)
		fprintf(out, "  DETAIL: %s\n", d.detail);
	if (d.hint)
		fprintf(out, "  HINT: %s\n", d.hint);
	policy_decision_release(&d);
	return a;
}

void policy_decision_release(policy_decision *d)
{
	free(d->message);
	free(d->detail);
	free(d->hint);
	free(d->classification);
	memset(d, 0, sizeof(*d));
}

const char *policy_action_name(policy_action a)
{
	switch (a) {
	case POLICY_ALLOW: return "allow";
	case POLICY_REVIEW: return "review";
	default: return "deny";
	}
}
