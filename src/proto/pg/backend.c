/*
 * pg backend — the target side of the PostgreSQL adapter: connect, TLS per
 * sslmode, log in with the credentials warden keeps (SCRAM-SHA-256, MD5,
 * cleartext), then relay the target's replies to the client while watching
 * them to complete requests (command tags, rows, errors, durations).
 *
 * During start-up the target's messages are small and copied into a buffer.
 * Once ready, replies stream: each chunk read from the target is inspected by
 * a frame walker that keeps only the bodies it needs (CommandComplete,
 * ErrorResponse, ReadyForQuery) and is then written to the client as it was
 * read — no copy, whatever its size.
 *
 * The mask stage: when a request's results are masked (a policy rule's
 * `mask:`) or its rows captured for the audit, each DataRow (and CopyData of
 * a COPY TO STDOUT) is taken whole — in place when the read holds all of it,
 * else gathered in t_row — and rewritten by pgmask.c before it is relayed.
 * Column rules need the names of the columns a RowDescription points at: when
 * the catalog cache (catalog.c) does not know a table, the relay stops after
 * the RowDescription, the rest of the read waits in t_rest, and it goes on
 * when the lookup answers.
 */
#include <pthread.h>
#include <jansson.h>
#include <netdb.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "core/log.h"
#include "core/util.h"
#include "mask/profiles.h"
#include "policy/sqlclass.h"
#include "proto/pg/pgmask.h"
#include "proto/pg/cancel.h"
#include "proto/pg/catalog.h"
#include "proto/pg/codec.h"
#include "proto/pg/pg_session.h"

#define HIGH_WATER (1u << 20)
#define BODY_KEEP 8192          /* bytes of an inspected body worth keeping */
#define DESC_KEEP (1u << 20)    /* a RowDescription is kept whole (1664 columns at most) */
#define ROW_MAX (256u << 20)    /* the largest row the mask stage takes whole */

static const config_connection *cc_of(pg_session *ps)
{
	return ps->cc;
}

/* fmt has two %s: the connection name, then detail (may be NULL). */
static void target_fail(pg_session *ps, const char *sqlstate, const char *fmt, const char *detail)
{
	char msg[512];
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	snprintf(msg, sizeof(msg), fmt, cc_of(ps)->name, detail ? detail : "");
#pragma GCC diagnostic pop
	pgs_fatal(ps, sqlstate, msg, "target_unavailable");
}

/* ---- start-up ---- */

static void send_startup(pg_session *ps)
{
	const config_connection *cc = cc_of(ps);
	pg_startup st;
	char err[64];
	buf b = {0};
	size_t at = pg_msg_begin(&b, 0);
	pg_put_i32(&b, (int32_t)PG_PROTOCOL_V3);
	pg_put_str(&b, "user");
	pg_put_str(&b, cc->user);
	pg_put_str(&b, "database");
	pg_put_str(&b, cc->database);
	if (pg_parse_startup(ps->startup.data, ps->startup.len, &st, err, sizeof(err)) == 0) {
		for (size_t i = 0; i < st.n_params; i++) {
			const char *n = st.params[i].name;
			/* identity and routing are warden's; replication is never passed through */
			if (strcmp(n, "user") == 0 || strcmp(n, "database") == 0 ||
			    strcmp(n, "replication") == 0)
				continue;
			pg_put_str(&b, n);
			pg_put_str(&b, st.params[i].value);
		}
	}
	pg_put_u8(&b, 0);
	pg_msg_end(&b, at);
	conn_write_copy(&ps->target, b.data, b.len);
	buf_free(&b);
	ps->tstate = TGT_AUTH;
}

static void send_password_msg(pg_session *ps, const void *data, size_t len, const char *mech)
{
	buf b = {0};
	size_t at = pg_msg_begin(&b, 'p');
	if (mech) {
		pg_put_str(&b, mech);
		pg_put_i32(&b, (int32_t)len);
	}
	pg_put_bytes(&b, data, len);
	pg_msg_end(&b, at);
	conn_write_copy(&ps->target, b.data, b.len);
	OPENSSL_cleanse(b.data, b.len);
	buf_free(&b);
}

static int handle_auth(pg_session *ps, const char *body, size_t len)
{
	const config_connection *cc = cc_of(ps);
	pg_reader r;
	pg_reader_init(&r, body, len);
	int32_t code = pg_get_i32(&r);
	if (r.bad) {
		target_fail(ps, "08P01", "target \"%s\" sent a malformed authentication request%s", NULL);
		return -1;
	}
	if (code == 0) {
		ps->tstate = TGT_WAIT_READY;
		return 0;
	}
	if (code != 12 && !cc->password) {
		target_fail(ps, "08004",
			    "target \"%s\" asks for a password but the connection has no password_env%s", NULL);
		return -1;
	}
	char out[512], err[200];
	switch (code) {
	case 3: /* cleartext */
		send_password_msg(ps, cc->password, strlen(cc->password) + 1, NULL);
		return 0;
	case 5: { /* md5 */
		const char *salt = pg_get_bytes(&r, 4);
		char md5[36];
		if (!salt || pg_md5_password(cc->user, cc->password, (const unsigned char *)salt, md5) != 0) {
			target_fail(ps, "08004", "MD5 authentication with target \"%s\" failed%s", NULL);
			return -1;
		}
		send_password_msg(ps, md5, strlen(md5) + 1, NULL);
		return 0;
	}
	case 10: { /* SASL: pick SCRAM-SHA-256 */
		int found = 0;
		const char *mech;
		while ((mech = pg_get_str(&r, NULL)) && *mech)
			if (strcmp(mech, "SCRAM-SHA-256") == 0)
				found = 1;
		if (!found) {
			target_fail(ps, "08004", "target \"%s\" offers no SASL mechanism warden supports%s", NULL);
			return -1;
		}
		int n;
		if (scram_client_init(&ps->scram, cc->password, NULL) != 0 ||
		    (n = scram_client_first(&ps->scram, out, sizeof(out))) < 0) {
			target_fail(ps, "08004", "SCRAM with target \"%s\" failed%s", NULL);
			return -1;
		}
		send_password_msg(ps, out, (size_t)n, "SCRAM-SHA-256");
		return 0;
	}
	case 11: { /* SASLContinue */
		int n = scram_client_final(&ps->scram, body + 4, len - 4, out, sizeof(out), err,
					   sizeof(err));
		if (n < 0) {
			target_fail(ps, "08004", "SCRAM with target \"%s\" failed: %s", err);
			return -1;
		}
		send_password_msg(ps, out, (size_t)n, NULL);
		return 0;
	}
	case 12: /* SASLFinal */
		if (scram_client_verify(&ps->scram, body + 4, len - 4, err, sizeof(err)) != 0) {
			target_fail(ps, "08004", "target \"%s\" failed to prove it knows the password: %s", err);
			return -1;
		}
		return 0;
	default: {
		char detail[32];
		snprintf(detail, sizeof(detail), "%d", code);
		target_fail(ps, "08004", "target \"%s\" asks for authentication method %s, which warden does not support",
			    detail);
		return -1;
	}
	}
}

/* One whole start-up message from the target. Returns -1 when the session closed. */
/*
 * ParameterStatus: the server reports every change of standard_conforming_strings
 * and client_encoding, however it happened (startup options, SET, set_config(),
 * a function's SET clause). With a value other than the ones libpg_query lexes
 * as is, what the policy classifies may not be what the server runs, so every
 * request of the session is denied from then on (see frontend.c add_request).
 */
static void watch_parameter(pg_session *ps, const char *body, size_t len)
{
	const char *nul = memchr(body, '\0', len);
	if (!nul || !memchr(nul + 1, '\0', len - (size_t)(nul + 1 - body)))
		return;
	const char *name = body, *value = nul + 1;
	int unsafe;
	if (strcmp(name, "server_encoding") == 0) {
		snprintf(ps->server_enc, sizeof(ps->server_enc), "%s", value);
		return;
	}
	if (strcmp(name, "client_encoding") == 0) {
		snprintf(ps->client_enc, sizeof(ps->client_enc), "%s", value);
		if (!ps->start_enc[0])
			snprintf(ps->start_enc, sizeof(ps->start_enc), "%s", value);
	}
	if (strcmp(name, "standard_conforming_strings") == 0)
		unsafe = !sqlclass_bool_on(value);
	else if (strcmp(name, "client_encoding") == 0)
		unsafe = !sqlclass_encoding_safe(value);
	else
		return;
	const char *bit_name = name[0] == 's' ? "standard_conforming_strings" : "client_encoding";
	unsigned bit = name[0] == 's' ? 1u : 2u;
	if (unsafe) {
		if (!(ps->lexing_unsafe & bit))
			log_warn("session %s: the target reports %s = %s: warden denies every statement of this "
				 "session from now on", ps->s.id, bit_name, value);
		ps->lexing_unsafe |= bit;
	} else {
		ps->lexing_unsafe &= ~bit;
	}
}

static int handle_startup_msg(pg_session *ps, char type, const char *body, size_t len)
{
	switch (type) {
	case 'R':
		return handle_auth(ps, body, len);
	case 'E': {
		pg_error_fields f;
		char msg[512];
		if (pg_parse_error_fields(body, len, &f) != 0 || !f.code) {
			target_fail(ps, "08P01", "target \"%s\" sent a malformed error%s", NULL);
			return -1;
		}
		int auth = strncmp(f.code, "28", 2) == 0;
		snprintf(msg, sizeof(msg), "%s target \"%s\": %s",
			 auth ? "warden could not log in to" : "", cc_of(ps)->name,
			 f.message ? f.message : "(no message)");
		pgs_fatal(ps, auth ? "08004" : f.code, msg + (auth ? 0 : 1), "target_unavailable");
		return -1;
	}
	case 'S':
	case 'N': {
		if (type == 'S')
			watch_parameter(ps, body, len);
		size_t at = pg_msg_begin(&ps->hold, type);
		pg_put_bytes(&ps->hold, body, len);
		pg_msg_end(&ps->hold, at);
		return 0;
	}
	case 'K': {
		if (len != 8) {
			target_fail(ps, "08P01", "target \"%s\" sent a malformed BackendKeyData%s", NULL);
			return -1;
		}
		ps->target_pid = pg_be32(body);
		ps->target_key = pg_be32(body + 4);
		return 0;
	}
	case 'Z':
		ps->tx_status = len >= 1 ? body[0] : 'I';
		ps->tstate = TGT_READY;
		pg_frontend_target_ready(ps);
		return 0;
	case 'v': /* NegotiateProtocolVersion: the target speaks an older minor version; fine */
		return 0;
	default:
		target_fail(ps, "08P01", "target \"%s\" sent an unexpected message during start-up%s", NULL);
		return -1;
	}
}

/* ---- results ---- */

static pg_request *current_request(pg_session *ps)
{
	pg_request *r = ps->inflight;
	return r && r->unit == ps->z_count ? r : NULL;
}

/* ---- the mask stage ---- */

static const warden_config *cfg_of(pg_session *ps)
{
	return ps->w->cfg;
}

static int mask_active(const pg_request *r)
{
	return r && (r->mask_profile >= 0 || r->capture_profile >= 0);
}

/* One scratch per worker thread and profile (Hyperscan scratch is per thread). */
typedef struct scratch_set {
	size_t n;
	mask_scratch **s;
} scratch_set;

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

static void scratch_set_free(void *p)
{
	scratch_set *set = p;
	for (size_t i = 0; i < set->n; i++)
		mask_scratch_free(set->s[i]);
	free(set->s);
	free(set);
}

static void scratch_key_create(void)
{
	if (pthread_key_create(&scratch_key, scratch_set_free) != 0)
		abort();
}

static mask_scratch *scratch_for(size_t profile)
{
	pthread_once(&scratch_once, scratch_key_create);
	scratch_set *set = pthread_getspecific(scratch_key);
	if (!set) {
		set = calloc(1, sizeof(*set));
		if (!set)
			abort();
		pthread_setspecific(scratch_key, set);
	}
	if (profile >= set->n) {
		set->s = util_xrealloc(set->s, (profile + 1) * sizeof(*set->s));
		memset(set->s + set->n, 0, (profile + 1 - set->n) * sizeof(*set->s));
		set->n = profile + 1;
	}
	if (!set->s[profile] && !(set->s[profile] = mask_scratch_new(mask_profiles_get(profile))))
		abort();
	return set->s[profile];
}

static pgm_ctx *ctx_for(pg_session *ps, int profile, uint32_t *counts)
{
	pgm_ctx *c = &ps->mctx;
	c->mp = mask_profiles_get((size_t)profile);
	c->scratch = scratch_for((size_t)profile);
	c->json_keys = &cfg_of(ps)->mask_profiles[profile].json_keys;
	c->row_details = cfg_of(ps)->mask_profiles[profile].columns.n > 0;
	c->piece_details = cfg_of(ps)->mask_profiles[profile].transforms_refuse;
	c->counts = counts;
	return c;
}

static void capture(pg_session *ps, pg_request *r, char type, const char *body, size_t len)
{
	if (r->captured_truncated)
		return;
	buf row = {0};
	if (type == 'D') {
		if (pgm_row_json(&ps->mdesc, body, len, &row) != 0)
			buf_append(&row, "null", 4);
	} else {
		json_t *s = json_stringn(body, len);
		char *t = s ? json_dumps(s, JSON_ENCODE_ANY) : NULL;
		json_decref(s);
		buf_append(&row, t ? t : "null", t ? strlen(t) : 4);
		free(t);
	}
	if (r->captured.len + row.len + 1 > cfg_of(ps)->max_result_bytes) {
		r->captured_truncated = 1;
	} else {
		if (r->captured.len)
			buf_append(&r->captured, ",", 1);
		buf_append(&r->captured, row.data, row.len);
	}
	buf_free(&row);
}

/*
 * One whole DataRow / CopyData of a request whose rows are masked or captured.
 * Returns 1 when repl holds the message to relay instead, 0 to relay it as it
 * is, -1 when it is malformed.
 */
static int mask_frame(pg_session *ps, pg_request *r, char type, const char *body, size_t len, buf *repl)
{
	/* r NULL: a message outside any request, masked as the session's latest masked
	 * request's; so is a notification (no part of the request's results) */
	if (type == 'A' && r && r->mask_profile < 0)
		r = NULL;
	int wire = !r || r->mask_profile >= 0;
	int profile = !r ? ps->async_mask : wire ? r->mask_profile : r->capture_profile;
	uint32_t *counts = NULL;
	if (wire && r) {
		if (!r->mask_counts)
			r->mask_counts = calloc(mask_detector_total(mask_profiles_get((size_t)profile)) + PGM_COUNT_EXTRA,
						sizeof(uint32_t));
		counts = r->mask_counts;
	}
	pgm_ctx *c = ctx_for(ps, profile, counts);
	buf own = {0};
	buf *dst = wire ? repl : &own;
	size_t at = dst->len;
	int rc;
	switch (type) {
	case 'D': rc = pgm_data_row(c, &ps->mdesc, body, len, dst); break;
	case 'd': rc = pgm_copy_data(c, &ps->copy_spec, body, len, dst); break;
	case 'V': rc = pgm_function_result(c, body, len, dst); break;
	case 'A': rc = pgm_notification(c, body, len, dst); break;
	case 'S': rc = pgm_parameter_status(c, body, len, dst); break;
	default: rc = pgm_notice(c, type, body, len, dst); break;
	}
	/* what the audit sees; a parameter is watched as the target set it */
	int masked_view = rc == 1 && type != 'S';
	const char *view = masked_view ? dst->data + at + 5 : body;
	size_t view_len = masked_view ? dst->len - at - 5 : len;
	if (rc >= 0 && r && r->capture_profile >= 0 && (type == 'D' || type == 'd'))
		capture(ps, r, type, view, view_len);
	if (rc >= 0 && ps->t_capture) {
		/* inspected as the audit may hold it: an error's message masked too */
		ps->t_body.len = 0;
		buf_append(&ps->t_body, view, view_len < BODY_KEEP ? view_len : BODY_KEEP);
	}
	buf_free(&own);
	return wire ? rc : (rc < 0 ? -1 : 0);
}

/*
 * The DataRows that follow in ch from from (the header of a whole one), as
 * far as they are whole in this read: scanned at once (pgm_batch) before
 * mask_frame takes them one by one. The batch ends with the read (relay).
 */
static void batch_rows(pg_session *ps, const pg_request *r, const chunk *ch, size_t from, size_t end)
{
	size_t q = from, rows = 0;
	while (end - q >= 5 && ch->data[q] == 'D') {
		uint32_t l = pg_be32(ch->data + q + 1);
		if (l < 4 || l - 4 > end - q - 5)
			break;
		q += 1 + (size_t)l;
		rows++;
	}
	if (rows < 2)
		return; /* one row: its own scan is the same */
	int profile = r->mask_profile >= 0 ? r->mask_profile : r->capture_profile;
	pgm_batch(ctx_for(ps, profile, NULL), &ps->mdesc, ch->data + from, q - from);
}

/* The JSON of what was masked: {"detector": count, ...}; NULL when nothing was masked on the wire. */
static char *masked_json(pg_session *ps, const pg_request *r)
{
	if (r->mask_profile < 0)
		return NULL;
	const mask_profile *mp = mask_profiles_get((size_t)r->mask_profile);
	size_t total = mask_detector_total(mp);
	json_t *o = json_object();
	for (size_t i = 0; r->mask_counts && i < total + PGM_COUNT_EXTRA; i++) {
		if (!r->mask_counts[i])
			continue;
		const char *name = i < total ? mask_detector_name(mp, i) : i == total + PGM_COUNT_COLUMN ? "column" : "json_key";
		json_object_set_new(o, name, json_integer(r->mask_counts[i]));
	}
	json_object_set_new(o, "profile", json_string(cfg_of(ps)->mask_profiles[r->mask_profile].name));
	char *t = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return t;
}

/* The field names of a RowDescription (parsed already) as a JSON array. */
static void column_names(const char *body, size_t len, buf *out)
{
	json_t *a = json_array();
	size_t p = 2;
	int16_t n = (int16_t)(((unsigned char)body[0] << 8) | (unsigned char)body[1]);
	for (int16_t i = 0; i < n && p < len; i++) {
		const char *nul = memchr(body + p, '\0', len - p);
		if (!nul)
			break;
		json_t *s = json_stringn(body + p, (size_t)(nul - body - (ptrdiff_t)p));
		json_array_append_new(a, s ? s : json_null());
		p = (size_t)(nul - body) + 1 + 18;
	}
	char *t = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	if (t)
		buf_append(out, t, strlen(t));
	free(t);
}

static char *result_json(const pg_request *r)
{
	if (r->capture_profile < 0)
		return NULL;
	buf b = {0};
	buf_append(&b, "{\"columns\":", 11);
	if (r->captured_columns.len)
		buf_append(&b, r->captured_columns.data, r->captured_columns.len);
	else
		buf_append(&b, "null", 4);
	buf_append(&b, ",\"rows\":[", 9);
	buf_append(&b, r->captured.data, r->captured.len);
	buf_printf(&b, "],\"truncated\":%s}", r->captured_truncated ? "true" : "false");
	char *t = util_strndup(b.data, b.len);
	buf_free(&b);
	return t;
}

/*
 * Column rules: the columns of the RowDescription just read whose names match
 * the profile's `columns:` are masked whole. A table the catalog cache does
 * not know is looked up first (returns 1: the relay waits for the answer);
 * final: the lookup has answered, and a table still unknown (the target could
 * not be asked) has every column masked whole.
 */
static void on_catalog(void *arg, int ok);

static int resolve_columns(pg_session *ps, int final)
{
	pg_request *r = current_request(ps);
	if (!mask_active(r) || !ps->mdesc.known)
		return 0;
	int profile = r->mask_profile >= 0 ? r->mask_profile : r->capture_profile;
	const config_strlist *globs = &cfg_of(ps)->mask_profiles[profile].columns;
	if (!globs->n)
		return 0;
	uint32_t *fetch = NULL;
	size_t n_fetch = 0;
	for (size_t i = 0; i < ps->mdesc.n; i++) {
		pgm_col *col = &ps->mdesc.cols[i];
		if (!col->table_oid || col->attnum <= 0)
			continue;
		char name[3 * 64 + 8];
		uint32_t type;
		int masked;
		int rc = pg_catalog_column_rule(ps->cc_index, col->table_oid, col->attnum, globs, name, sizeof(name),
						&type, &masked);
		if (rc == 1) {
			if (masked) /* by its table's name or a parent's (a partition's columns) */
				col->action = PGM_WHOLE;
		} else if (rc == 0 && final) {
			col->action = PGM_WHOLE; /* the names could not be learnt: nothing leaves unread */
		} else if (rc == 0) {
			if (!fetch)
				fetch = calloc(ps->mdesc.n, sizeof(*fetch));
			if (!fetch)
				abort();
			fetch[n_fetch++] = col->table_oid;
		}
	}
	int waiting = 0;
	if (n_fetch) {
		ps->refs++;
		if (pg_catalog_fetch(&ps->w->loop, cc_of(ps), ps->cc_index, fetch, n_fetch, on_catalog, ps) == 0) {
			ps->catalog_wait = 1;
			waiting = 1;
		} else {
			ps->refs--;
			free(fetch);
			return resolve_columns(ps, 1);
		}
	}
	free(fetch);
	return waiting;
}

/*
 * A COPY TO STDOUT: the fields column rules mask whole, and their types (a
 * masked number is written NULL, as in rows). The table's columns come from
 * the target's catalog (looked up by name as for RowDescription: returns 1
 * while the lookup runs); the statement's column list, when it has one, picks
 * and orders them. What cannot be named — COPY (query), a table the lookup
 * cannot see, a lookup that failed (final) — has every field masked whole
 * when a column rule exists (with a column list: named from the statement).
 */
static int copy_columns(pg_session *ps, const pg_request *r, int final)
{
	size_t n_fields = ps->copy_nfields;
	pgm_copy *cp = &ps->copy_spec;
	free((void *)cp->whole);
	free((void *)cp->types);
	memset(cp, 0, sizeof(*cp));
	cp->delimiter = '\t';
	cp->quote = cp->escape = '"';
	const sql_copy_out *co = ps->copy_co;
	if (!co) {
		/* a COPY the statement does not tell of (its text did not parse):
		 * its format, and so its fields, are not known */
		cp->all_whole = 1;
		return 0;
	}
	cp->csv = co->csv;
	cp->delimiter = co->delimiter;
	cp->quote = co->quote;
	cp->escape = co->escape;
	int profile = r->mask_profile >= 0 ? r->mask_profile : r->capture_profile;
	const config_strlist *globs = &cfg_of(ps)->mask_profiles[profile].columns;
	if (!co->table) {
		cp->all_whole = globs->n > 0;
		return 0;
	}
	uint32_t oid = 0;
	int rc = pg_catalog_table(ps->cc_index, co->schema, co->table, &oid);
	if (rc == 0 && !final) {
		ps->refs++;
		if (pg_catalog_fetch_table(&ps->w->loop, cc_of(ps), ps->cc_index, co->schema, co->table, on_catalog,
					   ps) == 0) {
			ps->catalog_wait = 2; /* 2: for a COPY (on_catalog calls copy_columns) */
			return 1;
		}
		ps->refs--;
	}
	size_t n = n_fields > co->n_columns ? n_fields : co->n_columns;
	uint8_t *whole = calloc(n ? n : 1, 1);
	uint32_t *types = calloc(n ? n : 1, sizeof(uint32_t));
	if (!whole || !types)
		abort();
	cp->whole = whole;
	cp->types = types;
	char name[3 * 64 + 8];
	if (rc == 1) {
		/* the table's columns in attnum order, dropped ones left out: COPY's order without a list */
		size_t f = 0;
		for (int16_t att = 1; att <= 1600 && (co->n_columns || f < n_fields); att++) {
			uint32_t type;
			int masked;
			int k = pg_catalog_column_rule(ps->cc_index, oid, att, globs, name, sizeof(name), &type, &masked);
			if (k == 0)
				break; /* expired meanwhile: what is not named below is masked whole */
			if (k != 1)
				continue;
			if (!co->n_columns) {
				whole[f] = (uint8_t)masked;
				types[f++] = type;
				continue;
			}
			const char *col = strrchr(name, '.');
			for (size_t i = 0; col && i < co->n_columns; i++) {
				if (strcmp(co->columns[i], col + 1) == 0) {
					whole[i] = (uint8_t)masked;
					types[i] = type;
				}
			}
		}
		if (!co->n_columns) {
			cp->n_whole = cp->n_types = f;
			cp->all_whole = f < n_fields && globs->n > 0;
			return 0;
		}
	}
	if (co->n_columns) {
		/* columns the catalog did not name: by the statement's names */
		for (size_t i = 0; i < co->n_columns; i++) {
			if (rc == 1 && types[i])
				continue;
			snprintf(name, sizeof(name), "%s.%s.%s", co->schema ? co->schema : "public", co->table,
				 co->columns[i]);
			whole[i] = (uint8_t)config_globs_match(globs, name);
		}
		cp->n_whole = cp->n_types = co->n_columns;
		return 0;
	}
	cp->all_whole = globs->n > 0;
	return 0;
}

static void finish_head(pg_session *ps, const char *code, const char *message)
{
	pg_request *r = ps->inflight;
	if (!r)
		return;
	ps->inflight = r->next;
	if (!ps->inflight)
		ps->inflight_tail = NULL;
	if (ps->copy_in_req == r)
		ps->copy_in_req = NULL;
	if (r->denied && !r->error_code) {
		code = r->deny_code ? r->deny_code : "42501";
		message = r->deny_message;
	}
	if (code && !r->error_code) {
		r->error_code = util_strndup(code, strlen(code));
		r->error_message = util_strndup(message, strlen(message));
	}
	request_result res = {
		.command_tag = r->tags.len ? r->tags.data : NULL,
		.rows = r->rows >= 0 ? r->rows : (r->data_rows ? r->data_rows : -1),
		.error_code = r->error_code,
		.error_message = r->error_message,
		.duration_us = util_now_us() - r->start_us,
	};
	char *masked = masked_json(ps, r), *result = result_json(r);
	res.masked = masked;
	res.result = result;
	if (r->tags.len)
		buf_append(&r->tags, "", 1);
	res.command_tag = r->tags.len ? r->tags.data : NULL;
	if (cfg_of(ps)->capture_results == CONFIG_CAPTURE_NONE) {
		/* audit.capture_results none: that it ran, how long, any error; not what came back */
		res.command_tag = NULL;
		res.rows = -1;
	}
	audit_entry *e = session_result_entry(&ps->s, r->id, &res);
	free(masked);
	free(result);
	audit_entry *one[1] = {e};
	if (audit_submit(one, 1, NULL, NULL, NULL) != 0)
		log_error("session %s: result of request %lld could not be recorded", ps->s.id,
			  (long long)r->id);
	r->next = NULL;
	pg_request_free(r);
}

void pg_backend_finish_all(pg_session *ps, const char *code, const char *message)
{
	while (ps->inflight)
		finish_head(ps, code, message);
}

static void add_tag(pg_request *r, const char *tag)
{
	if (r->tags.len)
		buf_append(&r->tags, "; ", 2);
	buf_append(&r->tags, tag, strlen(tag));
	int64_t n = pg_tag_rows(tag);
	if (n >= 0)
		r->rows = (r->rows < 0 ? 0 : r->rows) + n;
}

/*
 * The target copies in for request r (CopyInResponse): the Syncs the client
 * sends from r on until it ends the COPY (CopyDone, CopyFail) get no
 * ReadyForQuery of their own; the one ending r's unit counts for them.
 */
static void copy_in_started(pg_session *ps, pg_request *r)
{
	if (!r)
		return;
	size_t k = 0;
	while (k < ps->n_copy_ends && ps->copy_ends[k].seq < r->seq)
		k++; /* (ends of earlier COPYs, or of none) */
	if (k < ps->n_copy_ends) {
		ps->z_bonus += ps->copy_ends[k].syncs - r->syncs_before;
		r->syncs_before = ps->copy_ends[k].syncs; /* (a second COPY of the request counts from there) */
		k++;
	} else {
		ps->z_bonus += ps->syncs_scanned - r->syncs_before;
		ps->copy_in_open = 1; /* (frontend.c counts the Syncs still to come) */
		ps->copy_in_req = r;
	}
	memmove(ps->copy_ends, ps->copy_ends + k, (ps->n_copy_ends - k) * sizeof(ps->copy_ends[0]));
	ps->n_copy_ends -= k;
}

/*
 * Whether a frame of type can come now: a reply to a request (rows, a
 * command's end, COPY's start and data, a function's result) only while one
 * is current and not denied, a ReadyForQuery only for a unit forwarded. Otherwise warden no
 * longer knows which request the target answers (a client that got its
 * units counted wrong), and would relay rows unmasked: the session ends.
 */
static int frame_expected(pg_session *ps, char type)
{
	if (type == 'Z')
		return ps->z_count + 1 + ps->z_bonus <= ps->units_forwarded;
	if (type && strchr("DdCcGHWIsV", type)) {
		/* (a denied request's substitute fails before it runs anything) */
		const pg_request *r = current_request(ps);
		return r && (!r->denied || ps->copy_refused); /* (a binary COPY refused: its rows dropped) */
	}
	return 1;
}

static void inspect_message(pg_session *ps, char type, const char *body, size_t len)
{
	pg_request *r = current_request(ps);
	switch (type) {
	case 'D':
		if (r)
			r->data_rows++;
		return;
	case 'T':
		if (mask_active(r)) {
			if (pgm_row_description(body, len, &ps->mdesc) != 0)
				ps->mdesc.known = 0; /* read as undescribed: a value with a match is NULL */
			else if (r->capture_profile >= 0 && !r->captured_columns.len)
				column_names(body, len, &r->captured_columns); /* the first result's */
			resolve_columns(ps, 0);
		}
		return;
	case 'H':
		/* CopyOutResponse: text or CSV rows are masked; binary ones cannot be */
		if (!mask_active(r))
			return;
		/* (the request's k-th COPY TO STDOUT statement's) */
		ps->copy_co = r->copy && r->copy_at < r->n_copy ? &r->copy[r->copy_at] : NULL;
		r->copy_at++;
		if (len >= 3 && body[0] == 0) {
			ps->copy_out = 1;
			ps->copy_skip = ps->copy_co && ps->copy_co->header; /* the header line holds names, not values */
			ps->copy_nfields = (size_t)(uint16_t)((unsigned char)body[1] << 8 | (unsigned char)body[2]);
			copy_columns(ps, r, 0);
		} else if (r->mask_profile >= 0) {
			/* its rows are dropped; the COPY ends with this error instead of its tag */
			static const char msg[] = "warden cannot mask a binary COPY";
			ps->copy_refused = 1;
			r->denied = 1;
			r->deny_code = "0A000";
			r->deny_message = util_strndup(msg, sizeof(msg) - 1);
			free(r->deny_hint);
			r->deny_hint = util_strndup("Use COPY ... TO STDOUT in text or CSV format.", 45);
		} else {
			r->captured_truncated = 1; /* relayed in clear to a client allowed it; not captured */
		}
		return;
	case 'c':
		ps->copy_out = 0;
		return;
	case 'C': {
		ps->mdesc.known = 0;
		ps->copy_out = 0;
		ps->copy_refused = 0;
		if (!r)
			return;
		const char *nul = memchr(body, '\0', len);
		char *tag = util_strndup(body, nul ? (size_t)(nul - body) : len);
		if (!strncmp(tag, "DEALLOCATE", 10) || !strcmp(tag, "DISCARD ALL"))
			pg_frontend_sql_names_settled(ps);
		add_tag(r, tag);
		free(tag);
		if (r->extended)
			finish_head(ps, NULL, NULL);
		return;
	}
	case 'I':
		if (r && r->extended)
			finish_head(ps, NULL, NULL);
		return;
	case 's':
		if (r && r->extended) {
			add_tag(r, "PORTAL SUSPENDED");
			finish_head(ps, NULL, NULL);
		}
		return;
	case 'E': {
		ps->mdesc.known = 0;
		ps->copy_out = 0;
		ps->copy_refused = 0;
		ps->copy_in_open = 0; /* (a COPY failed: the target counts Syncs again) */
		ps->copy_in_req = NULL;
		/* the target drops the rest of the unit: its Parse, Bind and Close too */
		pg_frontend_names_settled(ps, 0);
		pg_error_fields f;
		if (pg_parse_error_fields(body, len, &f) != 0)
			return;
		if (r) {
			if (!r->error_code && r->denied) {
				r->error_code = util_strndup(r->deny_code ? r->deny_code : "42501", 5);
				r->error_message = util_strndup(r->deny_message, strlen(r->deny_message));
			} else if (!r->error_code) {
				r->error_code = util_strndup(f.code ? f.code : "XX000", strlen(f.code ? f.code : "XX000"));
				r->error_message = util_strndup(f.message ? f.message : "", strlen(f.message ? f.message : ""));
			}
			if (r->extended)
				finish_head(ps, NULL, NULL);
		}
		return;
	}
	case 'S':
		watch_parameter(ps, body, len);
		return;
	case 'G':
		copy_in_started(ps, r);
		return;
	case '1':
	case '2':
	case '3':
		/* ParseComplete, BindComplete, CloseComplete: the oldest change to the names stands */
		pg_frontend_names_settled(ps, 1);
		return;
	case 'Z':
		ps->mdesc.known = 0;
		ps->copy_out = 0;
		ps->copy_refused = 0;
		ps->copy_in_open = 0;
		ps->copy_in_req = NULL;
		ps->tx_status = len >= 1 ? body[0] : 'I';
		pg_frontend_names_settled(ps, 0); /* (none of the unit's is left unanswered, or it failed) */
		ps->sql_freed = 0;
		ps->unit_replies = 0;
		ps->z_count += 1 + ps->z_bonus;
		ps->z_bonus = 0;
		while (ps->inflight && ps->inflight->unit < ps->z_count)
			finish_head(ps, ps->inflight->extended ? "00000" : NULL,
				    "not executed: an earlier message of the same pipeline failed");
		return;
	default:
		return;
	}
}

static int wants_body(char type)
{
	return type == 'C' || type == 'E' || type == 'Z' || type == 'S';
}

/*
 * The target's ErrorResponse for a request the policy denied is the reply to
 * the substitute warden sent in its place: the client gets warden's own
 * error instead, with the same position in the stream.
 */
static int frame_replaced(pg_session *ps, char type)
{
	pg_request *r = current_request(ps);
	if (type == 'E')
		return r && r->denied;
	/* the ReadyForQuery of a Sync warden sent ahead of a Query (frontend.c) */
	if (type == 'Z' && ps->n_z_drops && ps->z_drops[0] == ps->z_count) {
		memmove(ps->z_drops, ps->z_drops + 1, --ps->n_z_drops * sizeof(*ps->z_drops));
		return 2;
	}
	/* the reply to the Describe warden sent: its place among the unit's
	 * ParseComplete ... descriptions (frontend.c counts them as it sends);
	 * read (inspect_message), not relayed */
	if (type && strchr("123Tn", type)) {
		int ours = (type == 'T' || type == 'n') && r && r->describe_injected &&
			   ps->unit_replies == r->replies_before;
		ps->unit_replies++;
		if (ours) {
			r->describe_injected = 0;
			return 2;
		}
	}
	/* a refused COPY: its rows and CopyDone dropped, its tag replaced by the error */
	if (ps->copy_refused && (type == 'd' || type == 'c'))
		return 2;
	return ps->copy_refused && type == 'C' && r && r->denied;
}

/*
 * What the relay writes to the client: segments of the read go out without a
 * copy until something rewritten is written; from then on everything of the
 * read is gathered in t_out and written once (emit_flush: t_out's memory
 * becomes the write's), so a result whose rows are masked costs one write per
 * read, not one per row. t_out starts about as large as the read (t_read), so
 * that it seldom grows.
 */
static void out_reserve(pg_session *ps, size_t len)
{
	if (!ps->t_out.cap)
		buf_reserve(&ps->t_out, ps->t_read + len);
}

static void emit_seg(pg_session *ps, chunk *ch, size_t off, size_t len)
{
	if (!len)
		return;
	if (ps->t_out.len)
		buf_append(&ps->t_out, ch->data + off, len);
	else
		conn_write(&ps->client, ch, off, len);
}

static void emit_copy(pg_session *ps, const void *p, size_t len)
{
	out_reserve(ps, len);
	buf_append(&ps->t_out, p, len);
}

static void emit_flush(pg_session *ps)
{
	if (ps->t_out.len) {
		chunk *ch = chunk_adopt(&ps->t_out);
		conn_write(&ps->client, ch, 0, ch->end);
		chunk_unref(ch);
	}
}

static void write_replacement(pg_session *ps)
{
	pg_request *r = current_request(ps);
	buf m = {0};
	pg_put_error(&m, "ERROR", r->deny_code ? r->deny_code : "42501", r->deny_message, r->deny_detail,
		     r->deny_hint);
	emit_copy(ps, m.data, m.len);
	buf_free(&m);
}

static int frame_masked(pg_session *ps, const pg_request *r, char type)
{
	if (type == 'A') /* a notification (LISTEN): no part of any request's results */
		return (r && r->mask_profile >= 0) || ps->async_mask >= 0;
	if (!r) /* between requests: a notice, an error, a parameter's new value */
		return (type == 'N' || type == 'E' || type == 'S') && ps->async_mask >= 0;
	if (!mask_active(r))
		return 0;
	switch (type) {
	case 'D':
	case 'V':
		return 1;
	case 'd':
		if (ps->copy_out && ps->copy_skip) {
			ps->copy_skip = 0;
			return 0;
		}
		return ps->copy_out;
	case 'E':
	case 'N':
		return !r->denied; /* a denied request's error is warden's own */
	case 'S':
		/* set_config('application_name', email, false) reports the value */
		return r->mask_profile >= 0;
	default:
		return 0;
	}
}

static int frame_done(pg_session *ps)
{
	ps->t_hdr_have = 0;
	if (ps->t_drop) {
		if (ps->t_drop == 1)
			write_replacement(ps);
		ps->t_drop = 0;
	}
	if (ps->t_mask) {
		/* a row gathered over several reads: rewritten (or not), then relayed whole */
		ps->t_mask = 0;
		buf repl = {0};
		int rc = mask_frame(ps, current_request(ps), ps->t_type, ps->t_row.data ? ps->t_row.data : "",
				    ps->t_row.len, &repl);
		if (rc < 0) {
			buf_free(&repl);
			return -1;
		}
		if (rc == 1) {
			emit_copy(ps, repl.data, repl.len);
		} else {
			emit_copy(ps, ps->t_hdr, 5);
			emit_copy(ps, ps->t_row.data, ps->t_row.len);
		}
		buf_free(&repl);
		ps->t_row.len = 0;
	}
	if (ps->t_capture) {
		buf_append(&ps->t_body, "", 1); /* keeps truncated strings terminated */
		inspect_message(ps, ps->t_type, ps->t_body.data, ps->t_body.len - 1);
	} else {
		inspect_message(ps, ps->t_type, NULL, 0);
	}
	return 0;
}

/*
 * Walks the frames of ch and relays them to the client: unchanged bytes are
 * written from the chunk itself, a replaced frame is cut out and warden's
 * message written in its place. A header split across reads is held back
 * (ps->t_hdr) until it is whole, since only then is it known whether its
 * frame is relayed. A row to mask is rewritten in place when the read holds
 * all of it, else gathered in t_row (frame_done relays it). After a
 * RowDescription that starts a catalog lookup, the rest of ch waits in
 * t_rest. Returns -1 on a malformed frame, -2 on a row too large to mask.
 */
static int relay_frames(pg_session *ps, chunk *ch)
{
	size_t p = ch->start, end = ch->end;
	size_t out = p;                 /* first byte of ch not yet written or skipped */
	size_t hdr_from = p;            /* where the header in progress starts in ch */
	size_t held = ps->t_remaining == 0 ? ps->t_hdr_have : 0; /* header bytes from earlier reads */
	int stop = 0;
	while (p < end && !stop) {
		if (ps->t_remaining == 0 && ps->t_hdr_have < 5) {
			if (ps->t_hdr_have == 0) {
				hdr_from = p;
				held = 0;
			}
			size_t take = 5 - ps->t_hdr_have;
			if (take > end - p)
				take = end - p;
			memcpy(ps->t_hdr + ps->t_hdr_have, ch->data + p, take);
			ps->t_hdr_have += take;
			p += take;
			if (ps->t_hdr_have < 5)
				break;
			uint32_t len = pg_be32(ps->t_hdr + 1);
			if (len < 4)
				return -1;
			ps->t_type = ps->t_hdr[0];
			ps->t_remaining = len - 4;
			if (!frame_expected(ps, ps->t_type))
				return -3;
			pg_request *r = current_request(ps);
			ps->t_capture = wants_body(ps->t_type) ||
					((ps->t_type == 'T' || ps->t_type == 'H') && mask_active(r));
			ps->t_body.len = 0;
			if (frame_masked(ps, r, ps->t_type)) {
				if (!held && ps->t_remaining <= end - p) {
					/* the whole row is in this read: masked in place */
					if (ps->t_type == 'D' && !pgm_batch_holds(&ps->mctx, ch->data + p))
						batch_rows(ps, r, ch, hdr_from, end);
					int rc;
					if (ps->t_out.len) {
						/* the read is being gathered: the row is masked
						 * into it, after what is unchanged before it */
						if (hdr_from > out)
							emit_seg(ps, ch, out, hdr_from - out);
						out = hdr_from;
						size_t at = ps->t_out.len;
						rc = mask_frame(ps, r, ps->t_type, ch->data + p, ps->t_remaining, &ps->t_out);
						if (rc < 0)
							return -1;
						if (rc == 1)
							out = p + ps->t_remaining;
						else
							ps->t_out.len = at;
					} else {
						ps->t_row.len = 0;
						rc = mask_frame(ps, r, ps->t_type, ch->data + p, ps->t_remaining, &ps->t_row);
						if (rc < 0)
							return -1;
						if (rc == 1) {
							if (hdr_from > out)
								emit_seg(ps, ch, out, hdr_from - out);
							emit_copy(ps, ps->t_row.data, ps->t_row.len);
							out = p + ps->t_remaining;
						}
					}
					p += ps->t_remaining;
					ps->t_remaining = 0;
					ps->t_row.len = 0;
					if (frame_done(ps) != 0)
						return -1;
					continue;
				}
				if (ps->t_remaining > ROW_MAX)
					return -2;
				if (hdr_from > out)
					emit_seg(ps, ch, out, hdr_from - out);
				ps->t_mask = 1;
				ps->t_row.len = 0;
				out = p;
				held = 0;
				if (ps->t_remaining == 0 && frame_done(ps) != 0)
					return -1;
				continue;
			}
			int repl = frame_replaced(ps, ps->t_type);
			if (repl) {
				if (hdr_from > out)
					emit_seg(ps, ch, out, hdr_from - out);
				ps->t_drop = repl;
			} else if (held) {
				emit_copy(ps, ps->t_hdr, held);
			}
			held = 0;
			if (ps->t_remaining == 0) {
				if (ps->t_drop)
					out = p;
				if (frame_done(ps) != 0)
					return -1;
			}
			continue;
		}
		size_t take = ps->t_remaining;
		if (take > end - p)
			take = end - p;
		if (ps->t_mask) {
			buf_append(&ps->t_row, ch->data + p, take);
		} else if (ps->t_capture) {
			size_t lim = ps->t_type == 'T' ? DESC_KEEP : BODY_KEEP;
			if (ps->t_body.len < lim) {
				size_t keep = lim - ps->t_body.len;
				buf_append(&ps->t_body, ch->data + p, take < keep ? take : keep);
			}
		}
		p += take;
		ps->t_remaining -= take;
		if (ps->t_drop || ps->t_mask)
			out = p;
		if (ps->t_remaining == 0) {
			if (frame_done(ps) != 0)
				return -1;
			stop = ps->catalog_wait;
		}
	}
	size_t upto = end;
	if (stop)
		upto = p;
	else if (ps->t_drop || ps->t_mask)
		upto = out;
	else if (ps->t_remaining == 0 && ps->t_hdr_have > 0 && ps->t_hdr_have < 5)
		upto = hdr_from; /* held back until the header is whole */
	if (upto > out)
		emit_seg(ps, ch, out, upto - out);
	if (stop && p < end) {
		ps->t_rest = chunk_ref(ch);
		ps->t_rest->start = p;
	}
	return 0;
}

static void relay(pg_session *ps, chunk *ch)
{
	ps->t_read = ch->end - ch->start;
	int rc = relay_frames(ps, ch);
	pgm_batch_end(&ps->mctx); /* its rows lived in ch */
	emit_flush(ps);
	chunk_unref(ch);
	if (rc == -2) {
		pgs_fatal(ps, "54000", "a row larger than 256 MiB cannot be masked: select fewer or smaller columns",
			  "mask_refused");
		return;
	}
	if (rc == -1) {
		pgs_fatal(ps, "08P01", "the target sent a malformed message", "target_disconnect");
		return;
	}
	if (rc == -3) {
		log_warn("session %s: the target sent '%c' where no request of the session was waiting for it; "
			 "closing", ps->s.id, ps->t_type);
		pgs_fatal(ps, "08P01", "warden lost track of which request the target is answering (a Sync or a "
			  "Query the target did not answer as counted); the session ends", "protocol_desync");
		return;
	}
	if (ps->catalog_wait) {
		conn_read_stop(&ps->target); /* on_catalog relays t_rest, then reads again */
		return;
	}
	if (ps->deferred.len && ps->units_forwarded == ps->z_count) {
		conn_write_copy(&ps->client, ps->deferred.data, ps->deferred.len);
		ps->deferred.len = 0;
	}
	if (conn_write_queued(&ps->client) >= HIGH_WATER) {
		ps->target_paused = 1;
		conn_read_stop(&ps->target);
	}
	if (ps->undo_wait && ps->state == PGS_READY) {
		/* a Bind or Execute waited for names this read may have settled: read again */
		ps->undo_wait = 0;
		pg_frontend_resume_client(ps);
	}
}

static void on_catalog(void *arg, int ok)
{
	pg_session *ps = arg;
	(void)ok; /* a failed lookup leaves the tables unknown: resolve_columns masks them whole */
	ps->refs--;
	if (ps->state == PGS_CLOSING) {
		pg_session_maybe_free(ps);
		return;
	}
	int for_copy = ps->catalog_wait == 2;
	ps->catalog_wait = 0;
	if (for_copy)
		copy_columns(ps, current_request(ps), 1);
	else
		resolve_columns(ps, 1);
	chunk *rest = ps->t_rest;
	ps->t_rest = NULL;
	if (rest)
		relay(ps, rest);
	if (ps->state != PGS_CLOSING && !ps->catalog_wait && !ps->target_paused) {
		conn_read_start(&ps->target);
		conn_drain(&ps->target);
	}
}

/* Start-up: messages are parsed whole from a small copy buffer. */
static void startup_read(pg_session *ps, chunk *ch)
{
	buf_append(&ps->t_body, ch->data + ch->start, ch->end - ch->start);
	chunk_unref(ch);
	size_t pos = 0;
	while (ps->tstate == TGT_AUTH || ps->tstate == TGT_WAIT_READY) {
		char type;
		size_t total;
		int rc = pg_frame(ps->t_body.data + pos, ps->t_body.len - pos, 1 << 20, &type, &total);
		if (rc < 0) {
			target_fail(ps, "08P01", "target \"%s\" sent a malformed message%s", NULL);
			return;
		}
		if (rc == 0 || ps->t_body.len - pos < total)
			break;
		if (handle_startup_msg(ps, type, ps->t_body.data + pos + 5, total - 5) != 0)
			return;
		pos += total;
	}
	size_t rest = ps->t_body.len - pos;
	if (ps->tstate == TGT_READY) {
		ps->t_body.len = 0;
		if (rest) {
			chunk *tail = chunk_new(rest);
			memcpy(tail->data, ps->t_body.data + pos, rest);
			tail->end = rest;
			relay(ps, tail);
		}
		return;
	}
	memmove(ps->t_body.data, ps->t_body.data + pos, rest);
	ps->t_body.len = rest;
}

void pg_backend_on_read(conn *c, chunk *ch)
{
	pg_session *ps = c->owner;
	if (ps->state == PGS_CLOSING) {
		chunk_unref(ch);
		return;
	}
	switch (ps->tstate) {
	case TGT_SSL_REQUESTED: {
		char answer = ch->data[ch->start];
		size_t n = ch->end - ch->start;
		chunk_unref(ch);
		if (n != 1) {
			target_fail(ps, "08P01", "target \"%s\" sent unencrypted data after its SSL response%s", NULL);
			return;
		}
		const config_connection *cc = cc_of(ps);
		if (answer == 'S') {
			if (conn_tls_client(&ps->target, ps->w->target_tls[ps->cc_index], cc->host,
					    cc->sslmode == SSLMODE_VERIFY_FULL) != 0) {
				target_fail(ps, "08006", "TLS set-up for target \"%s\" failed%s", NULL);
				return;
			}
			ps->tstate = TGT_TLS_HANDSHAKE;
		} else if (answer == 'N' && cc->sslmode == SSLMODE_PREFER) {
			send_startup(ps);
		} else if (answer == 'N') {
			target_fail(ps, "08001", "target \"%s\" does not accept TLS, and its sslmode requires it%s", NULL);
		} else {
			target_fail(ps, "08P01", "target \"%s\" answered the SSL request with garbage%s", NULL);
		}
		return;
	}
	case TGT_AUTH:
	case TGT_WAIT_READY:
		startup_read(ps, ch);
		return;
	case TGT_READY:
		relay(ps, ch);
		return;
	default:
		chunk_unref(ch);
		return;
	}
}

void pg_backend_on_event(conn *c, enum conn_event ev, int status)
{
	pg_session *ps = c->owner;
	switch (ev) {
	case CONN_CLOSED:
		ps->handles--;
		if (ps->state != PGS_CLOSING)
			pgs_close(ps, "target_disconnect");
		else
			pg_session_maybe_free(ps);
		return;
	case CONN_CONNECTED:
		if (ps->state == PGS_CLOSING)
			return;
		if (status < 0) {
			target_fail(ps, "08006", "could not connect to target \"%s\": %s", uv_strerror(status));
			return;
		}
		conn_read_start(&ps->target);
		if (cc_of(ps)->sslmode != SSLMODE_DISABLE) {
			static const char ssl_request[8] = {0, 0, 0, 8, 0x04, (char)0xd2, 0x16, 0x2f};
			conn_write_copy(&ps->target, ssl_request, sizeof(ssl_request));
			ps->tstate = TGT_SSL_REQUESTED;
		} else {
			send_startup(ps);
		}
		return;
	case CONN_TLS_READY:
		if (ps->tstate == TGT_TLS_HANDSHAKE)
			send_startup(ps);
		return;
	case CONN_WRITTEN:
		if (ps->state == PGS_READY && !ps->client.reading && !ps->audit_wait &&
		    conn_write_queued(&ps->target) < HIGH_WATER / 4)
			pg_frontend_resume_client(ps);
		return;
	case CONN_EOF:
	case CONN_ERROR:
		if (ps->state == PGS_CLOSING)
			return;
		if (ps->tstate != TGT_READY) {
			target_fail(ps, "08006", "the connection to target \"%s\" failed during start-up: %s",
				    status == CONN_ERR_TLS ? c->err : (ev == CONN_EOF ? "closed by the target" : uv_strerror(status)));
			return;
		}
		pg_backend_finish_all(ps, "08006", "the target connection was lost");
		pgs_fatal(ps, "08006", "the connection to the target was lost", "target_disconnect");
		return;
	}
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
	pg_session *ps = req->data;
	ps->refs--;
	if (ps->state == PGS_CLOSING) {
		uv_freeaddrinfo(res);
		pg_session_maybe_free(ps);
		return;
	}
	if (status < 0 || !res) {
		target_fail(ps, "08006", "could not resolve the host of target \"%s\": %s", uv_strerror(status));
		uv_freeaddrinfo(res);
		return;
	}
	memset(&ps->target_addr, 0, sizeof(ps->target_addr));
	memcpy(&ps->target_addr, res->ai_addr, res->ai_addrlen);
	uv_freeaddrinfo(res);
	if (conn_init(&ps->target, &ps->w->loop, ps, pg_backend_on_read, pg_backend_on_event) != 0) {
		target_fail(ps, "08006", "could not create a socket for target \"%s\"%s", NULL);
		return;
	}
	ps->target_inited = 1;
	ps->handles++;
	ps->tstate = TGT_CONNECTING;
	if (conn_connect(&ps->target, (struct sockaddr *)&ps->target_addr) != 0)
		target_fail(ps, "08006", "could not connect to target \"%s\"%s", NULL);
}

void pg_backend_connect(pg_session *ps)
{
	const config_connection *cc = cc_of(ps);
	char port[8];
	snprintf(port, sizeof(port), "%d", cc->port);
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
	ps->gai.data = ps;
	ps->tstate = TGT_RESOLVING;
	ps->refs++;
	int rc = uv_getaddrinfo(&ps->w->loop, &ps->gai, on_resolved, cc->host, port, &hints);
	if (rc != 0) {
		ps->refs--;
		ps->tstate = TGT_NONE;
		target_fail(ps, "08006", "could not resolve the host of target \"%s\": %s", uv_strerror(rc));
	}
}

/* ---- cancel ---- */

typedef struct cancel_op {
	conn c;
	char packet[16];
} cancel_op;

static void cancel_on_read(conn *c, chunk *ch)
{
	(void)c;
	chunk_unref(ch);
}

static void cancel_on_event(conn *c, enum conn_event ev, int status)
{
	cancel_op *op = c->owner;
	switch (ev) {
	case CONN_CONNECTED:
		if (status == 0)
			conn_write_copy(c, op->packet, sizeof(op->packet));
		else
			log_warn("cancel: could not reach the target: %s", uv_strerror(status));
		conn_close(c);
		return;
	case CONN_CLOSED:
		free(op);
		return;
	default:
		conn_close(c);
		return;
	}
}

void pg_cancel_forward(worker *w, uint32_t pid, uint32_t key)
{
	pg_cancel_target t;
	if (pg_cancel_lookup(pid, key, &t) != 0) {
		log_info("cancel request with an unknown key ignored");
		return;
	}
	cancel_op *op = calloc(1, sizeof(*op));
	if (!op)
		return;
	buf b = {0};
	size_t at = pg_msg_begin(&b, 0);
	pg_put_i32(&b, (int32_t)PG_CANCEL_REQUEST);
	pg_put_i32(&b, (int32_t)t.pid);
	pg_put_i32(&b, (int32_t)t.key);
	pg_msg_end(&b, at);
	memcpy(op->packet, b.data, sizeof(op->packet));
	buf_free(&b);
	if (conn_init(&op->c, &w->loop, op, cancel_on_read, cancel_on_event) != 0) {
		free(op);
		return;
	}
	if (conn_connect(&op->c, (struct sockaddr *)&t.addr) != 0)
		conn_close(&op->c);
	log_info("cancel request forwarded to the target");
}
