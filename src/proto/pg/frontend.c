/*
 * pg frontend — the client side of the PostgreSQL adapter: startup, TLS,
 * authentication by API key (identify), and the request scanner that turns
 * client messages into requests, has each decided (policy) and recorded
 * (audit) before the bytes that carry it are forwarded.
 *
 * Client bytes accumulate in one chunk (ps->cin). Whole messages are scanned
 * from its start; the scanned range is forwarded from that same chunk, so
 * forwarding copies nothing. While a range waits for its audit commit, the
 * client is not read: the range, and what follows it, keep their order.
 */
#include "proto/pg/frontend.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <search.h>
#include <stdio.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit/audit.h"
#include "core/log.h"
#include "core/util.h"
#include "identity/apikey.h"
#include "identity/keystore.h"
#include "identity/oidc.h"
#include "policy/policy.h"
#include "policy/redact.h"
#include "policy/sqlclass.h"
#include "proto/pg/cancel.h"
#include "proto/pg/catalog.h"
#include "review/review.h"
#include "proto/pg/codec.h"
#include "proto/pg/pg_session.h"

#define HIGH_WATER (1u << 20)
#define LOW_WATER (256u << 10)

static void process_client(pg_session *ps);

static const warden_config *cfg_of(pg_session *ps)
{
	return ps->w->cfg;
}

void pgs_set_state(pg_session *ps, pgs_state st)
{
	log_debug("session %s: state %d -> %d", ps->s.id, ps->state, st);
	ps->state = st;
}

/* ---- teardown ---- */

static void undo_free(pg_undo *u);

static void named_free(pg_named *n)
{
	free(n->name);
	free(n->text);
	free(n->params);
	free(n);
}

static void nothing(void *p)
{
	(void)p;
}

static void free_names(pg_names *ns)
{
	tdestroy(ns->index, nothing); /* (the list holds them) */
	ns->index = NULL;
	while (ns->list) {
		pg_named *next = ns->list->next;
		named_free(ns->list);
		ns->list = next;
	}
}

static void undo_name_free(void *p)
{
	pg_undo_name *un = p;
	free(un->name);
	free(un);
}

void pg_request_free(pg_request *r)
{
	buf_free(&r->tags);
	free(r->error_code);
	free(r->error_message);
	free(r->deny_message);
	free(r->deny_detail);
	free(r->deny_hint);
	free(r->statement);
	free(r->classification);
	free(r->mask_counts);
	if (r->copy) {
		for (int i = 0; i < r->n_copy; i++)
			sqlclass_copy_out_free(&r->copy[i]);
		free(r->copy);
	}
	buf_free(&r->captured);
	buf_free(&r->captured_columns);
	free(r);
}

static void free_requests(pg_request *r)
{
	while (r) {
		pg_request *next = r->next;
		pg_request_free(r);
		r = next;
	}
}

/* Drops what the policy asked parents about. */
static void families_forget(pg_session *ps)
{
	for (size_t i = 0; i < ps->fam_n; i++)
		free(ps->fam_asked[i]);
	ps->fam_n = 0;
}

void pg_session_maybe_free(pg_session *ps)
{
	if (ps->handles > 0 || ps->refs > 0)
		return;
	worker *w = ps->w;
	if (ps->prev)
		ps->prev->next = ps->next;
	else
		w->sessions = ps->next;
	if (ps->next)
		ps->next->prev = ps->prev;
	chunk_unref(ps->cin);
	buf_free(&ps->startup);
	buf_free(&ps->hold);
	buf_free(&ps->t_body);
	buf_free(&ps->t_row);
	free(ps->z_drops);
	free(ps->inject_portal);
	buf_free(&ps->t_out);
	pgm_desc_free(&ps->mdesc);
	free((void *)ps->copy_spec.whole);
	free((void *)ps->copy_spec.types);
	pgm_ctx_release(&ps->mctx);
	families_forget(ps);
	free(ps->fam_asked);
	free(ps->fam_listed);
	if (ps->t_rest)
		chunk_unref(ps->t_rest);
	buf_free(&ps->deferred);
	free_names(&ps->stmts);
	free_names(&ps->portals);
	tdestroy(ps->undo_names, undo_name_free);
	ps->undo_names = NULL;
	while (ps->undo) {
		pg_undo *u = ps->undo;
		ps->undo = u->next;
		undo_free(u);
	}
	free_requests(ps->pending);
	free_requests(ps->inflight);
	scram_client_free(&ps->scram);
	if (ps->token) {
		OPENSSL_cleanse(ps->token, strlen(ps->token));
		free(ps->token);
	}
	session_release(&ps->s);
	free(ps);
	worker_sessions_add(w, -1);
	worker_session_gone(w);
}

static void on_timer_closed(uv_handle_t *h)
{
	pg_session *ps = h->data;
	ps->handles--;
	pg_session_maybe_free(ps);
}

static void record(pg_session *ps, audit_entry *e)
{
	audit_kind kind = e->kind;
	audit_entry *one[1] = {e};
	if (audit_submit(one, 1, NULL, NULL, NULL) != 0)
		log_error("session %s: %s entry could not be queued", ps->s.id, audit_kind_name(kind));
}

void pgs_close(pg_session *ps, const char *reason)
{
	if (ps->state == PGS_CLOSING)
		return;
	pgs_set_state(ps, PGS_CLOSING);
	ps->close_reason = reason;
	uv_timer_stop(&ps->timer);
	if (ps->review_wait) {
		/* the client is gone or the gateway stops: the review is withdrawn, nothing is forwarded */
		if (review_withdraw(ps->review_id, reason ? reason : "session_closed"))
			ps->refs--;     /* no outcome will come */
		ps->review_wait = 0;
	}
	if (ps->held_req) {
		pg_request_free(ps->held_req);
		ps->held_req = NULL;
	}
	review_session_end(ps->s.id);
	if (ps->inflight)
		pg_backend_finish_all(ps, "08006", "the session ended before the target replied");
	if (ps->s.recorded)
		record(ps, session_end_entry(&ps->s, reason));
	if (ps->cancel_registered)
		pg_cancel_unregister(ps->own_pid, ps->own_key);
	ps->cancel_registered = 0;
	conn_close(&ps->client);
	if (ps->target_inited) {
		if (ps->tstate == TGT_READY)
			conn_write_copy(&ps->target, "X\0\0\0\4", 5);
		conn_close(&ps->target);
	} else if (ps->tstate == TGT_RESOLVING) {
		uv_cancel((uv_req_t *)&ps->gai);
	}
	uv_close((uv_handle_t *)&ps->timer, on_timer_closed);
	if (reason)
		log_info("session %s: closed (%s)", ps->s.id, reason);
}

void pgs_fatal(pg_session *ps, const char *sqlstate, const char *message, const char *reason)
{
	if (ps->state == PGS_CLOSING)
		return;
	buf b = {0};
	pg_put_error(&b, "FATAL", sqlstate, message, NULL, NULL);
	conn_write_copy(&ps->client, b.data, b.len);
	buf_free(&b);
	log_info("session %s: %s: %s", ps->s.id, sqlstate, message);
	pgs_close(ps, reason);
}

static void record_auth_failure(pg_session *ps, const char *reason)
{
	audit_entry *e = session_entry(&ps->s, AUDIT_AUTH_FAILURE);
	e->reason = util_strndup(reason, strlen(reason));
	record(ps, e);
}

/* ---- reading control ---- */

#define REVIEW_READ_LIMIT ((size_t)256 << 10)
/* Parse, Bind and Close messages awaiting the target's answer, at most (pg_undo) */
#define UNDO_MAX 65536

static void update_client_reading(pg_session *ps)
{
	/*
	 * While a review is open the client is still read (so a client that goes
	 * away withdraws it at once), up to REVIEW_READ_LIMIT bytes kept unscanned.
	 */
	size_t kept = ps->cin ? ps->cin->end - ps->cin->start : 0;
	int want = (ps->state == PGS_STARTUP || ps->state == PGS_AUTH || ps->state == PGS_READY) &&
		   !ps->audit_wait && !ps->fn_wait && !ps->fam_wait && !ps->undo_wait &&
		   (!ps->review_wait || kept < REVIEW_READ_LIMIT) &&
		   (!ps->target_inited || conn_write_queued(&ps->target) < HIGH_WATER);
	if (want)
		conn_read_start(&ps->client);
	else
		conn_read_stop(&ps->client);
}

void pg_frontend_resume_client(pg_session *ps)
{
	update_client_reading(ps);
	if (ps->client.reading)
		process_client(ps);
	conn_drain(&ps->client);
}

/* ---- client events ---- */

static void cin_append(pg_session *ps, chunk *ch)
{
	size_t n = ch->end - ch->start;
	chunk *c = ps->cin;
	if (!c) {
		ps->cin = ch;
		return;
	}
	if (c->cap - c->end >= n) {
		memcpy(c->data + c->end, ch->data + ch->start, n);
		c->end += n;
		chunk_unref(ch);
		return;
	}
	size_t have = c->end - c->start;
	size_t cap = have + n;
	if (cap < c->cap + c->cap / 2)
		cap = c->cap + c->cap / 2;
	chunk *nc = chunk_new(cap);
	memcpy(nc->data, c->data + c->start, have);
	memcpy(nc->data + have, ch->data + ch->start, n);
	nc->end = have + n;
	chunk_unref(c);
	chunk_unref(ch);
	ps->cin = nc;
}

static void consume(pg_session *ps, size_t n)
{
	ps->cin->start += n;
	if (ps->cin->start == ps->cin->end) {
		chunk_unref(ps->cin);
		ps->cin = NULL;
	}
}

static void client_on_read(conn *c, chunk *ch)
{
	pg_session *ps = c->owner;
	if (ps->state == PGS_CLOSING) {
		chunk_unref(ch);
		return;
	}
	cin_append(ps, ch);
	process_client(ps);
	if (ps->review_wait)
		update_client_reading(ps);
}

static void client_on_event(conn *c, enum conn_event ev, int status)
{
	pg_session *ps = c->owner;
	switch (ev) {
	case CONN_CLOSED:
		ps->handles--;
		pg_session_maybe_free(ps);
		return;
	case CONN_WRITTEN:
		if (ps->target_paused && conn_write_queued(&ps->client) < LOW_WATER) {
			ps->target_paused = 0;
			if (!ps->catalog_wait) { /* else the lookup's answer resumes reading */
				conn_read_start(&ps->target);
				conn_drain(&ps->target);
			}
		}
		return;
	case CONN_EOF:
		pgs_close(ps, "client_disconnect");
		return;
	case CONN_ERROR:
		if (status == CONN_ERR_TLS)
			log_info("session %s: client %s", ps->s.id, c->err);
		pgs_close(ps, "client_error");
		return;
	default:
		return;
	}
}

static void on_auth_timeout(uv_timer_t *t)
{
	pg_session *ps = t->data;
	if (ps->state == PGS_STARTUP || ps->state == PGS_AUTH) {
		record_auth_failure(ps, "authentication timed out");
		pgs_fatal(ps, "08006", "authentication timed out (limits.auth_timeout_ms)", "auth_timeout");
	} else if (ps->state == PGS_CONNECTING) {
		pgs_fatal(ps, "08006", "timed out connecting to the target (limits.connect_timeout_ms)",
			  "target_unavailable");
	}
}

/*
 * session.h's parents, uniques, references, json_columns and
 * number_columns: the connection's partitions and inheritance children, its
 * unique columns, its foreign keys, its JSON columns and its number columns
 * (catalog.c's families).
 */
static int family(pg_session *ps, const char *schema, const char *table,
		  int (*lookup)(int, const char *, const char *, char ***, int *), char ***out)
{
	*out = NULL;
	if (!ps->cc)
		return 0;
	int listed;
	int rc = lookup(ps->cc_index, schema, table, out, &listed);
	/* which relations the families list, for add_request (one created since) */
	size_t i = 0;
	while (i < ps->fam_n && strcmp(ps->fam_asked[i], table) != 0)
		i++;
	if (i == ps->fam_n) {
		if (ps->fam_n == ps->fam_cap) {
			ps->fam_cap = ps->fam_cap ? 2 * ps->fam_cap : 8;
			ps->fam_asked = util_xrealloc(ps->fam_asked, ps->fam_cap * sizeof(*ps->fam_asked));
			ps->fam_listed = util_xrealloc(ps->fam_listed, ps->fam_cap);
		}
		ps->fam_asked[ps->fam_n] = util_strndup(table, strlen(table));
		ps->fam_listed[ps->fam_n++] = 0;
	}
	ps->fam_listed[i] |= (uint8_t)listed;
	return rc;
}

static int parents(void *ctx, const char *schema, const char *table, char ***out)
{
	return family(ctx, schema, table, pg_catalog_parents, out);
}

static int uniques(void *ctx, const char *schema, const char *table, char ***out)
{
	return family(ctx, schema, table, pg_catalog_unique, out);
}

static int references(void *ctx, const char *schema, const char *table, char ***out)
{
	return family(ctx, schema, table, pg_catalog_references, out);
}

static int json_columns(void *ctx, const char *schema, const char *table, char ***out)
{
	return family(ctx, schema, table, pg_catalog_json_columns, out);
}

static int number_columns(void *ctx, const char *schema, const char *table, char ***out)
{
	return family(ctx, schema, table, pg_catalog_number_columns, out);
}

/*
 * A session for a new connection on w, which worker_pick has counted; its
 * socket is then attached by the caller (pgs_close on failure). NULL when
 * nothing could be set up (the count is given back).
 */
static pg_session *session_new(worker *w)
{
	pg_session *ps = calloc(1, sizeof(*ps));
	if (!ps) {
		worker_sessions_add(w, -1);
		return NULL;
	}
	ps->w = w;
	ps->tx_status = 'I';
	ps->async_mask = -1;
	session_init(&ps->s, "postgres");
	ps->s.parents = parents;
	ps->s.parents_ctx = ps;
	ps->s.uniques = uniques;
	ps->s.uniques_ctx = ps;
	ps->s.references = references;
	ps->s.references_ctx = ps;
	ps->s.json_columns = json_columns;
	ps->s.json_columns_ctx = ps;
	ps->s.number_columns = number_columns;
	ps->s.number_columns_ctx = ps;
	if (conn_init(&ps->client, &w->loop, ps, client_on_read, client_on_event) != 0) {
		session_release(&ps->s);
		free(ps);
		worker_sessions_add(w, -1);
		return NULL;
	}
	ps->handles = 1;
	uv_timer_init(&w->loop, &ps->timer);
	ps->timer.data = ps;
	ps->handles++;
	ps->next = w->sessions;
	if (ps->next)
		ps->next->prev = ps;
	w->sessions = ps;
	return ps;
}

static void session_start(pg_session *ps)
{
	worker *w = ps->w;
	uv_tcp_nodelay(&ps->client.tcp, 1);
	char addr[80];
	if (conn_peer_name(&ps->client, addr, sizeof(addr)) == 0)
		ps->s.client_addr = util_strndup(addr, strlen(addr));
	uv_timer_start(&ps->timer, on_auth_timeout, (uint64_t)w->cfg->auth_timeout_ms, 0);
	conn_read_start(&ps->client);
}

static void free_tcp(uv_handle_t *h)
{
	free(h);
}

void pg_frontend_accept(worker *w, uv_stream_t *server)
{
	pg_session *ps = session_new(w);
	if (!ps) {
		/* take the connection off the listener anyway, and drop it */
		uv_tcp_t *t = malloc(sizeof(*t));
		if (t && uv_tcp_init(&w->loop, t) == 0) {
			uv_accept(server, (uv_stream_t *)t);
			uv_close((uv_handle_t *)t, free_tcp);
		} else {
			free(t);
		}
		return;
	}
	if (uv_accept(server, (uv_stream_t *)&ps->client.tcp) != 0) {
		pgs_close(ps, NULL);
		return;
	}
	session_start(ps);
}

void pg_frontend_adopt(worker *w, int fd)
{
	pg_session *ps = w->stopping ? NULL : session_new(w);
	if (!ps) {
		if (w->stopping)
			worker_sessions_add(w, -1);
		close(fd);
		worker_session_gone(w);
		return;
	}
	if (uv_tcp_open(&ps->client.tcp, fd) != 0) {
		close(fd);
		pgs_close(ps, NULL);
		return;
	}
	session_start(ps);
}

void pg_frontend_shutdown(worker *w)
{
	pg_session *ps = w->sessions;
	while (ps) {
		pg_session *next = ps->next;
		if (ps->state == PGS_READY || ps->state == PGS_CONNECTING)
			pgs_fatal(ps, "57P01", "warden is shutting down", "gateway_shutdown");
		else
			pgs_close(ps, "gateway_shutdown");
		ps = next;
	}
}

/* ---- startup and authentication ---- */

static void send_auth_request(pg_session *ps)
{
	buf b = {0};
	size_t at = pg_msg_begin(&b, 'R');
	pg_put_i32(&b, 3); /* AuthenticationCleartextPassword: the password is the API key */
	pg_msg_end(&b, at);
	conn_write_copy(&ps->client, b.data, b.len);
	buf_free(&b);
}

static void process_startup(pg_session *ps)
{
	const warden_config *cfg = cfg_of(ps);
	while (ps->state == PGS_STARTUP && ps->cin) {
		chunk *c = ps->cin;
		size_t avail = c->end - c->start;
		if (avail < 4)
			return;
		uint32_t len = pg_be32(c->data + c->start);
		if (len < 8 || len > cfg->max_startup_bytes) {
			char msg[160];
			snprintf(msg, sizeof(msg),
				 "invalid startup packet length %u (limit %zu bytes, limits.max_startup_size)",
				 len, cfg->max_startup_bytes);
			record_auth_failure(ps, "malformed startup packet");
			pgs_fatal(ps, "08P01", msg, "protocol_error");
			return;
		}
		if (avail < len)
			return;
		ps->startup.len = 0;
		buf_append(&ps->startup, c->data + c->start, len);
		consume(ps, len);
		pg_startup st;
		char err[200];
		if (pg_parse_startup(ps->startup.data, ps->startup.len, &st, err, sizeof(err)) != 0) {
			record_auth_failure(ps, "malformed startup packet");
			pgs_fatal(ps, "08P01", err, "protocol_error");
			return;
		}
		switch (st.code) {
		case PG_SSL_REQUEST:
			if (ps->cin) {
				pgs_fatal(ps, "08P01", "received unencrypted data after SSL request",
					  "protocol_error");
				return;
			}
			if (ps->client_tls) {
				pgs_fatal(ps, "08P01", "SSL request on an already encrypted connection",
					  "protocol_error");
				return;
			}
			if (ps->w->server_tls) {
				conn_write_copy(&ps->client, "S", 1);
				if (conn_tls_server(&ps->client, ps->w->server_tls) != 0) {
					pgs_close(ps, "client_error");
					return;
				}
				ps->client_tls = 1;
			} else {
				conn_write_copy(&ps->client, "N", 1);
			}
			continue;
		case PG_GSSENC_REQUEST:
			conn_write_copy(&ps->client, "N", 1);
			continue;
		case PG_CANCEL_REQUEST: {
			/*
			 * A held request is what the session waits for: withdrawing it is
			 * the cancel. Forwarding the CancelRequest as well would race the
			 * client's next statement (the target would cancel that one).
			 */
			pg_cancel_target ct;
			if (pg_cancel_lookup(st.cancel_pid, st.cancel_key, &ct) == 0 && ct.review_id[0] &&
			    review_cancel(ct.review_id))
				log_info("cancel request: review %s withdrawn", ct.review_id);
			else
				pg_cancel_forward(ps->w, st.cancel_pid, st.cancel_key);
			pgs_close(ps, NULL);
			return;
		}
		default:
			break;
		}
		ps->s.startup_user = util_strndup(st.user, strlen(st.user));
		ps->s.connection = util_strndup(st.database, strlen(st.database));
		if (st.application_name)
			ps->s.agent = util_strndup(st.application_name, strlen(st.application_name));
		if (cfg->tls_require && !ps->client_tls) {
			record_auth_failure(ps, "TLS required");
			pgs_fatal(ps, "28000", "warden requires TLS: connect with sslmode=require",
				  "auth_failure");
			return;
		}
		pgs_set_state(ps, PGS_AUTH);
		send_auth_request(ps);
	}
}

static char *groups_json(const config_api_key *k)
{
	json_t *a = json_array();
	for (size_t i = 0; i < k->n_groups; i++)
		json_array_append_new(a, json_string(k->groups[i]));
	char *s = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	return s;
}

/* Identified: pick the connection, record the session, open the target. */
static void identified(pg_session *ps, char *user, char *groups)
{
	const warden_config *cfg = cfg_of(ps);
	ps->s.user = user;
	ps->s.groups_json = groups;
	const config_connection *cc = config_find_connection(cfg, ps->s.connection);
	if (!cc) {
		char msg[256];
		snprintf(msg, sizeof(msg),
			 "warden has no connection named \"%s\": set dbname to a connection name from the gateway configuration",
			 ps->s.connection);
		record_auth_failure(ps, "unknown connection");
		pgs_fatal(ps, "3D000", msg, "unknown_connection");
		return;
	}
	ps->cc = cc;
	ps->cc_index = (int)(cc - cfg->connections);
	if (cc->user)
		ps->s.target_user = util_strndup(cc->user, strlen(cc->user));
	audit_entry *start = session_entry(&ps->s, AUDIT_SESSION_START);
	ps->s.recorded = 1;
	record(ps, start);
	pgs_set_state(ps, PGS_CONNECTING);
	uv_timer_stop(&ps->timer);
	uv_timer_start(&ps->timer, on_auth_timeout, (uint64_t)cfg->connect_timeout_ms, 0);
	update_client_reading(ps);
	pg_backend_connect(ps);
}

static char *groups_json_list(char **groups, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(groups[i]));
	char *s = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	return s;
}

static void token_rejected(pg_session *ps, const char *why)
{
	char reason[300], msg[400];
	snprintf(reason, sizeof(reason), "token rejected: %s", why);
	snprintf(msg, sizeof(msg), "password authentication failed for user \"%s\": the token was rejected: %s",
		 ps->s.startup_user, why);
	record_auth_failure(ps, reason);
	pgs_fatal(ps, "28P01", msg, "auth_failure");
}

/* Verifies ps->token; may_refresh: an unknown key id may wait for one key refresh. */
static void check_token(pg_session *ps, int may_refresh);

static void on_keys_refreshed(void *arg, int status)
{
	pg_session *ps = arg;
	(void)status;
	ps->refs--;
	if (ps->state == PGS_CLOSING) {
		pg_session_maybe_free(ps);
		return;
	}
	check_token(ps, 0);
}

static void check_token(pg_session *ps, int may_refresh)
{
	jwt_identity id;
	char err[300];
	memset(&id, 0, sizeof(id));
	jwt_status st = oidc_verify(ps->token, strlen(ps->token), &id, err, sizeof(err));
	if (st == JWT_UNKNOWN_KID && may_refresh) {
		ps->refs++; /* the answer comes back through the mailbox */
		oidc_refresh_then(&ps->w->mb, on_keys_refreshed, ps);
		return;
	}
	OPENSSL_cleanse(ps->token, strlen(ps->token));
	free(ps->token);
	ps->token = NULL;
	if (st != JWT_OK) {
		jwt_identity_free(&id);
		token_rejected(ps, err);
		return;
	}
	ps->identity_expires = id.expires_at;
	char *user = id.username;
	id.username = NULL;
	char *groups = groups_json_list(id.groups, id.n_groups);
	jwt_identity_free(&id);
	identified(ps, user, groups);
}

static void process_password(pg_session *ps)
{
	const warden_config *cfg = cfg_of(ps);
	chunk *c = ps->cin;
	char type;
	size_t total;
	if (ps->token)
		return; /* a token check is under way */
	int rc = pg_frame(c->data + c->start, c->end - c->start, cfg->max_startup_bytes, &type, &total);
	if (rc < 0 || (rc > 0 && type != 'p')) {
		record_auth_failure(ps, "malformed password message");
		pgs_fatal(ps, "08P01", "expected a password message (an API key or a token)", "protocol_error");
		return;
	}
	if (rc == 0 || c->end - c->start < total)
		return;
	char *body = c->data + c->start + 5;
	size_t blen = total - 5;
	char *nul = memchr(body, '\0', blen);
	if (!nul) {
		record_auth_failure(ps, "malformed password message");
		pgs_fatal(ps, "08P01", "invalid password message", "protocol_error");
		return;
	}
	size_t plen = (size_t)(nul - body);
	if (oidc_enabled() && oidc_looks_like_jwt(body, plen)) {
		ps->token = util_strndup(body, plen);
		OPENSSL_cleanse(body, blen);
		consume(ps, total);
		check_token(ps, 1);
		return;
	}
	const config_api_key *k = apikey_identify(cfg, body, plen);
	char *stored_name = NULL, *stored_groups = NULL;
	if (!k && keystore_identify(body, plen, &stored_name, &stored_groups, ps->stored_key) == 0)
		ps->stored_key_used = 1;
	OPENSSL_cleanse(body, blen);
	consume(ps, total);
	if (ps->stored_key_used) {
		identified(ps, stored_name, stored_groups);
		return;
	}
	if (!k) {
		char msg[256];
		snprintf(msg, sizeof(msg),
			 "password authentication failed for user \"%s\": the password must be a valid warden API key%s",
			 ps->s.startup_user, oidc_enabled() ? " or an OIDC token" : "");
		record_auth_failure(ps, "invalid API key");
		pgs_fatal(ps, "28P01", msg, "auth_failure");
		return;
	}
	identified(ps, util_strndup(k->name, strlen(k->name)), groups_json(k));
}

void pg_frontend_target_ready(pg_session *ps)
{
	const config_connection *cc = ps->cc;
	pg_cancel_target t = {.pid = ps->target_pid, .key = ps->target_key};
	memcpy(&t.addr, &ps->target_addr, sizeof(t.addr));
	pg_cancel_register(&t, &ps->own_pid, &ps->own_key);
	ps->cancel_registered = 1;
	buf b = {0};
	size_t at = pg_msg_begin(&b, 'R');
	pg_put_i32(&b, 0);
	pg_msg_end(&b, at);
	buf_append(&b, ps->hold.data, ps->hold.len);
	at = pg_msg_begin(&b, 'K');
	pg_put_i32(&b, (int32_t)ps->own_pid);
	pg_put_i32(&b, (int32_t)ps->own_key);
	pg_msg_end(&b, at);
	pg_put_ready(&b, ps->tx_status);
	conn_write_copy(&ps->client, b.data, b.len);
	buf_free(&b);
	buf_free(&ps->hold);
	uv_timer_stop(&ps->timer);
	pgs_set_state(ps, PGS_READY);
	log_info("session %s: %s via %s -> %s (%s, worker %d)", ps->s.id, ps->s.user,
		 ps->s.agent ? ps->s.agent : "-", cc->name, ps->s.client_addr, ps->w->index);
	pg_frontend_resume_client(ps);
}

/* ---- the request scanner ---- */

static int named_cmp(const void *a, const void *b)
{
	return strcmp(((const pg_named *)a)->name, ((const pg_named *)b)->name);
}

static pg_named *named_find(const pg_names *ns, const char *name)
{
	pg_named key = {.name = (char *)name};
	void *const *p = tfind(&key, &ns->index, named_cmp);
	return p ? *p : NULL;
}

static void named_remove(pg_names *ns, const char *name)
{
	pg_named *n = named_find(ns, name);
	if (!n)
		return;
	tdelete(n, &ns->index, named_cmp);
	if (n->prev)
		n->prev->next = n->next;
	else
		ns->list = n->next;
	if (n->next)
		n->next->prev = n->prev;
	named_free(n);
}

static void named_set(pg_names *ns, const char *name, char *text, char *params)
{
	pg_named *n = named_find(ns, name);
	if (!n) {
		n = calloc(1, sizeof(*n));
		if (!n)
			abort();
		n->name = util_strndup(name, strlen(name));
		if (!tsearch(n, &ns->index, named_cmp))
			abort();
		n->next = ns->list;
		if (ns->list)
			ns->list->prev = n;
		ns->list = n;
	}
	free(n->text);
	free(n->params);
	n->text = text;
	n->params = params;
}

static int families_fetch(pg_session *ps);

static void undo_free(pg_undo *u)
{
	free(u->name);
	free(u->text);
	free(u->params);
	free(u);
}

/* Records what name holds in stmts or portals before a scanned Parse, Bind or Close changes it
 * (the change follows at once: the name's text and params move into the record). */
static int undo_name_cmp(const void *a, const void *b)
{
	const pg_undo_name *x = a, *y = b;
	if (x->portal != y->portal)
		return x->portal - y->portal;
	return strcmp(x->name, y->name);
}

/* The changes of (portal, name) still in the log, or NULL. */
static pg_undo_name *undo_name_find(const pg_session *ps, int portal, const char *name)
{
	pg_undo_name key = {.portal = portal, .name = (char *)name};
	void *const *p = tfind(&key, &ps->undo_names, undo_name_cmp);
	return p ? *p : NULL;
}

/* u leaves its name's changes (the log's own list is the caller's). */
static void undo_unlink(pg_session *ps, pg_undo *u)
{
	pg_undo_name *un = u->of;
	if (u->same_prev)
		u->same_prev->same_next = u->same_next;
	else
		un->head = u->same_next;
	if (u->same_next)
		u->same_next->same_prev = u->same_prev;
	else
		un->tail = u->same_prev;
	u->of = NULL;
	u->same_next = u->same_prev = NULL;
	if (!un->head) {
		tdelete(un, &ps->undo_names, undo_name_cmp);
		undo_name_free(un);
	}
}

/* Takes the oldest change off the log: the target answered it. */
static void undo_settle_oldest(pg_session *ps)
{
	pg_undo *u = ps->undo;
	ps->undo = u->next;
	if (!ps->undo)
		ps->undo_tail = NULL;
	ps->n_undo--;
	undo_unlink(ps, u);
	undo_free(u);
}

static void undo_push(pg_session *ps, int portal, const char *name)
{
	pg_undo *u = calloc(1, sizeof(*u));
	if (!u)
		abort();
	pg_undo_name *un = undo_name_find(ps, portal, name);
	if (!un) {
		un = calloc(1, sizeof(*un));
		if (!un)
			abort();
		un->portal = portal;
		un->name = util_strndup(name, strlen(name));
		if (!tsearch(un, &ps->undo_names, undo_name_cmp))
			abort();
	}
	u->of = un;
	u->same_prev = un->tail;
	if (un->tail)
		un->tail->same_next = u;
	else
		un->head = u;
	un->tail = u;
	pg_named *n = named_find(portal ? &ps->portals : &ps->stmts, name);
	u->unit = ps->units_scanned;
	u->portal = portal;
	u->name = util_strndup(name, strlen(name));
	u->existed = n != NULL;
	if (n) { /* (taken over: the change about to be made would free them) */
		u->text = n->text;
		u->params = n->params;
		n->text = n->params = NULL;
	}
	if (ps->undo_tail)
		ps->undo_tail->next = u;
	else
		ps->undo = u;
	ps->undo_tail = u;
	ps->n_undo++;
}

/* Puts back what u's name held (a change the target did not make). */
static void undo_apply(pg_session *ps, pg_undo *u)
{
	pg_names *list = u->portal ? &ps->portals : &ps->stmts;
	if (u->existed) {
		named_set(list, u->name, u->text, u->params);
		u->text = u->params = NULL;
	} else {
		named_remove(list, u->name);
	}
}

/* Undoes, newest first, the unanswered changes of units lo to hi, and forgets them. */
static void undo_units(pg_session *ps, uint64_t lo, uint64_t hi)
{
	pg_undo *keep = NULL, **tail = &keep, *undone = NULL, *last = ps->undo_tail;
	ps->undo_tail = NULL;
	pg_undo *u = ps->undo, *next;
	/* (the log is in unit order: what comes after hi is kept as it is) */
	for (; u && u->unit <= hi; u = next) {
		next = u->next;
		u->next = NULL;
		if (u->unit >= lo) {
			u->next = undone;
			undone = u;
			ps->n_undo--;
			undo_unlink(ps, u);
		} else {
			*tail = u;
			tail = &u->next;
			ps->undo_tail = u;
		}
	}
	*tail = u;
	if (u)
		ps->undo_tail = last; /* (the rest is kept, its last too) */
	ps->undo = keep;
	for (u = undone; u; u = next) {
		next = u->next;
		/* a later change of the name, still unanswered, was made on top of
		 * this one: it now changes what this one found (Parse x failing,
		 * then Close x and Parse x: x holds the second Parse's text, and
		 * the Close closed what the failed Parse found): the first of the
		 * name's changes left after hi */
		pg_undo_name *un = hi == UINT64_MAX ? NULL : undo_name_find(ps, u->portal, u->name);
		pg_undo *later = un ? un->head : NULL;
		while (later && later->unit <= hi)
			later = later->same_next;
		if (later) {
			free(later->text);
			free(later->params);
			later->existed = u->existed;
			later->text = u->text;
			later->params = u->params;
			u->text = u->params = NULL;
		} else {
			undo_apply(ps, u);
		}
		undo_free(u);
	}
}

/*
 * ok: the target answered the oldest change (ParseComplete, BindComplete,
 * CloseComplete): it stands. !ok: the target failed the unit it is in
 * (backend.c's z_count): every change of that unit still unanswered is undone,
 * newest first; and so is any of an earlier unit (its ReadyForQuery came).
 */
void pg_frontend_names_settled(pg_session *ps, int ok)
{
	if (!ok)
		undo_units(ps, 0, ps->z_count);
	else if (ps->undo)
		undo_settle_oldest(ps);
}

/* Undoes the changes of units not forwarded (refuse_range answered them itself). */
static void undo_unforwarded(pg_session *ps)
{
	undo_units(ps, ps->units_forwarded, UINT64_MAX);
}

/*
 * SQL's DEALLOCATE and DISCARD ALL free statement names the protocol's Parse
 * shares: warden forgets the names they free (a Bind of one fails as on an
 * unknown name until it is Parsed again), rather than decide a Bind by a text
 * the target no longer holds. Each name freed is kept in the undo log, as a
 * Close is: its statement's CommandComplete settles it, and the target
 * failing the statement (DISCARD ALL in a transaction block, anything in an
 * aborted one) puts it back. (A PREPARE of a name a Parse made fails: the
 * name is taken. One of another name is SQL's own, which warden never binds.)
 */
static void sql_names_changed(pg_session *ps, const char *sql, size_t len)
{
	if (!sql || (!util_memcasemem(sql, len, "deallocate", 10) && !util_memcasemem(sql, len, "discard", 7)))
		return;
	if (ps->sql_frees_unit != ps->units_scanned) {
		ps->sql_frees_unit = ps->units_scanned;
		ps->sql_frees = 0;
	}
	sql_class *c = sqlclass_classify(sql, len);
	for (size_t i = 0; c && i < c->n; i++) {
		const char *name = c->stmts[i].deallocate_name;
		if (!name)
			continue;
		int group = ++ps->sql_frees;
		/* (ALL frees the named statements; the unnamed one stays) */
		pg_named *next;
		for (pg_named *v = ps->stmts.list; v; v = next) {
			next = v->next;
			if (*name ? strcmp(v->name, name) != 0 : !*v->name)
				continue;
			if (ps->n_undo < UNDO_MAX) {
				undo_push(ps, 0, v->name);
				ps->undo_tail->sql = group;
			} /* (else forgotten whatever the answer) */
			named_remove(&ps->stmts, v->name);
		}
	}
	sqlclass_free(c);
}

void pg_frontend_sql_names_settled(pg_session *ps)
{
	int group = ++ps->sql_freed;
	while (ps->undo && ps->undo->sql == group && ps->undo->unit == ps->z_count)
		undo_settle_oldest(ps);
}

/* Whether name (a statement for a Bind, a portal for an Execute) was changed in an earlier unit the target has not answered. */
static int name_unsettled(const pg_session *ps, int portal, const char *name)
{
	/* (a name's changes are in unit order: its oldest tells) */
	const pg_undo_name *un = undo_name_find(ps, portal, name);
	return un && un->head->unit < ps->units_scanned;
}


typedef struct scan_batch {
	audit_entry **entries;
	size_t n, cap;
} scan_batch;

/*
 * Whether rows reach the client in UTF-8, which the detectors read: its
 * client_encoding is UTF8, or SQL_ASCII (no conversion) over a UTF8
 * database; unknown (no ParameterStatus yet) counts as UTF8, PostgreSQL's
 * default for libpq's "auto".
 */
static int enc_utf8(const pg_session *ps, const char *c)
{
	return !c[0] || sqlclass_encoding_utf8(c) ||
	       (!strcasecmp(c, "SQL_ASCII") && (!ps->server_enc[0] || sqlclass_encoding_utf8(ps->server_enc)));
}

static int rows_in_utf8(const pg_session *ps)
{
	return enc_utf8(ps, ps->client_enc);
}

/*
 * Decides and records one request. Returns 0 (allowed), 2 when the policy
 * denies it: the caller stops scanning there, and the message is replaced on
 * the way to the target by one that fails there (see pg_session.h), so the
 * target itself applies PostgreSQL's error semantics (aborted transaction,
 * skip to Sync); or 3 when it is held for a review: scanning stops, and the
 * message waits at the start of cin until the review ends.
 */
static int add_request(pg_session *ps, scan_batch *b, int extended, uint64_t unit,
		       const char *text, size_t text_len, const char *params, int function_call,
		       const char *function_name)
{
	request_desc d = {.statement = text, .statement_len = text_len, .params_json = params,
			  .function_call = function_call, .function_name = function_name};
	policy_decision dec;
	families_forget(ps);
	policy_decide(&cfg_of(ps)->policy, ps->s.policy, &ps->s, &d, &dec);
	int unlisted = 0;
	for (size_t i = 0; i < ps->fam_n; i++)
		unlisted |= !ps->fam_listed[i];
	families_forget(ps);
	if (unlisted && !ps->fam_rechecked && !pg_catalog_families_recent(ps->cc_index) && families_fetch(ps)) {
		/* it names a relation the families list in none of the schemas
		 * its name can mean (a partition created since they were
		 * fetched?): decided again once they are fetched again, once
		 * (what the policy remembers of an allowed statement is the same
		 * twice) */
		ps->fam_rechecked = 1;
		policy_decision_release(&dec);
		return 5;
	}
	ps->fam_rechecked = 0;
	if (ps->refuse_message) {
		/* not the policy's: a name warden does not hold (refuse_name) */
		free(dec.message);
		free(dec.detail);
		free(dec.hint);
		dec.action = POLICY_DENY;
		dec.rule = "unknown-name";
		dec.message = ps->refuse_message;
		dec.detail = NULL;
		dec.hint = ps->refuse_hint;
		ps->refuse_message = ps->refuse_hint = NULL;
	}
	if (ps->lexing_unsafe && cfg_of(ps)->policy.present && dec.action == POLICY_ALLOW) {
		/* the server would not read this text as the parser did (see backend.c watch_parameter) */
		const char *m = ps->lexing_unsafe & 1
			? "warden cannot classify statements while standard_conforming_strings is off"
			: "warden cannot classify statements in this client_encoding (a multibyte encoding "
			  "whose bytes can hide quotes)";
		const char *h = "Reconnect with standard_conforming_strings on and an ASCII-safe client_encoding "
				"such as UTF8; every statement of this session is denied until then.";
		dec.action = POLICY_DENY;
		dec.rule = "unsafe-lexing";
		dec.message = util_strndup(m, strlen(m));
		dec.hint = util_strndup(h, strlen(h));
	}
	/* what only sets parameters or ends a transaction returns no rows (a SET
	 * back to UTF8 runs); a session started in another encoding: RESET ALL
	 * and DISCARD ALL would go back to it, so every masked request, SET too,
	 * waits for a reconnect */
	int rowless = dec.kinds && !(dec.kinds & ~(uint32_t)(SQLK_SET | SQLK_TRANSACTION));
	if (dec.action != POLICY_DENY && dec.mask_profile >= 0 &&
	    (!enc_utf8(ps, ps->start_enc) || (!rows_in_utf8(ps) && !rowless))) {
		/* a LATIN1 client gets zoë@müller-bäckerei.de in bytes no detector reads as letters */
		char m[256];
		snprintf(m, sizeof(m), "warden masks values it reads as UTF-8, and this session's client_encoding is %s: "
			 "letters outside ASCII would reach you in bytes its detectors do not read",
			 rows_in_utf8(ps) ? ps->start_enc : ps->client_enc);
		const char *h = enc_utf8(ps, ps->start_enc)
					? "SET client_encoding = 'UTF8'; a person with unmasked access can use another encoding."
					: "Reconnect with client_encoding UTF8 (PGCLIENTENCODING=UTF8); a person with unmasked "
					  "access can use another encoding.";
		free(dec.message);
		free(dec.hint);
		dec.action = POLICY_DENY;
		dec.rule = "masking-encoding";
		dec.message = util_strndup(m, strlen(m));
		dec.hint = util_strndup(h, strlen(h));
	}
	const config_rule *rule = NULL;
	char grant[200] = "";
	if (dec.action == POLICY_REVIEW) {
		for (size_t i = 0; i < cfg_of(ps)->policy.n_rules && !rule; i++)
			if (strcmp(cfg_of(ps)->policy.rules[i].name, dec.rule) == 0)
				rule = &cfg_of(ps)->policy.rules[i];
		/* an earlier approval may cover it: same user, connection and rule */
		if (rule && review_grant_use(ps->s.user, ps->s.connection, rule->name, ps->s.id, 0, grant,
					     sizeof(grant)))
			dec.action = POLICY_ALLOW;
		else if (!rule)
			dec.action = POLICY_DENY; /* policy.default review: no reviewers to ask */
	}
	int held = dec.action == POLICY_REVIEW;
	int denied = dec.action == POLICY_DENY;
	/* what is recorded (the audit, a review's notification): credentials typed into
	 * the statement or its parameters replaced; the target gets the message as sent */
	request_desc rec = d;
	size_t red_len = 0;
	char *red = redact_statement(text, text_len, &red_len);
	char *red_params = redact_params(params);
	if (red) {
		rec.statement = red;
		rec.statement_len = red_len;
	}
	if (red_params)
		rec.params_json = red_params;
	audit_entry *e = session_request_entry(&ps->s, &rec, held ? "review" : denied ? "deny" : "allow",
					       dec.rule, dec.classification);
	free(red_params);
	if (grant[0])
		e->grant = util_strndup(grant, strlen(grant));
	if (!denied && dec.mask_profile >= 0) {
		/* the results go out masked: the request says with which profile (policy test reads it) */
		json_t *m = json_pack("{s:s}", "profile", cfg_of(ps)->mask_profiles[dec.mask_profile].name);
		e->masked = m ? json_dumps(m, JSON_COMPACT) : NULL;
		json_decref(m);
	}
	pg_request *r = calloc(1, sizeof(*r));
	if (!r)
		abort();
	r->extended = extended;
	r->unit = unit;
	r->seq = ps->msgs_scanned;
	r->syncs_before = ps->syncs_scanned;
	r->rows = -1;
	r->mask_profile = denied ? -1 : dec.mask_profile; /* (held: once approved) */
	if (r->mask_profile >= 0)
		ps->async_mask = r->mask_profile; /* a LISTEN's notifications come later, outside it */
	/* the audit never holds an unmasked row: captured rows are masked with the
	 * request's profile, or the first one when its results go out in clear */
	r->capture_profile = -1;
	/* (rows in another encoding than UTF-8 are not captured: the detectors would not read them) */
	if (cfg_of(ps)->capture_results == CONFIG_CAPTURE_MASKED && cfg_of(ps)->n_mask_profiles && rows_in_utf8(ps))
		r->capture_profile = r->mask_profile >= 0 ? r->mask_profile : dec.capture_unmaskable ? -1 : 0;
	/* a COPY's rows carry no RowDescription: its columns come from the statement */
	if ((r->mask_profile >= 0 || r->capture_profile >= 0) && text && util_memcasemem(text, text_len, "copy", 4)) {
		r->n_copy = sqlclass_copy_outs(text, text_len, &r->copy);
	}
	if (held) {
		/* not pending: it waits outside the in-flight order until its review ends */
		r->rule = rule;
		r->statement = red ? red : text ? util_strndup(text, text_len) : NULL;
		red = NULL;
		r->classification = dec.classification ? util_strndup(dec.classification, strlen(dec.classification))
						       : NULL;
		ps->held_req = r;
		policy_decision_release(&dec);
		if (b->n == b->cap) {
			b->cap = b->cap ? b->cap * 2 : 8;
			b->entries = util_xrealloc(b->entries, b->cap * sizeof(*b->entries));
		}
		b->entries[b->n++] = e;
		return 3;
	}
	if (denied) {
		r->denied = 1;
		r->deny_code = ps->refuse_code;
		ps->refuse_code = NULL;
		r->deny_message = dec.message;
		r->deny_detail = dec.detail;
		r->deny_hint = dec.hint;
		dec.message = dec.detail = dec.hint = NULL;
	}
	policy_decision_release(&dec);
	pg_request **tail = &ps->pending;
	while (*tail)
		tail = &(*tail)->next;
	*tail = r;
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 8;
		b->entries = util_xrealloc(b->entries, b->cap * sizeof(*b->entries));
	}
	b->entries[b->n++] = e;
	free(red);
	return denied ? 2 : 0;
}

/* What replaces a denied message on the way to the target: it fails there, harmlessly. */
static void write_substitute(pg_session *ps)
{
	buf m = {0};
	if (ps->subst_type == 'E') {
		/* a Parse that fails: a syntax error (or the name taken), so nothing
		 * runs; not an Execute of a portal that cannot exist, since a
		 * client's DECLARE can make one of any name */
		pg_put_parse(&m, PG_DENIED_PORTAL, "warden: statement denied by policy");
	} else {
		/* Query / FunctionCall: a syntax error, so nothing at all runs */
		pg_put_query(&m, "warden: statement denied by policy");
	}
	conn_write_copy(&ps->target, m.data, m.len);
	buf_free(&m);
}

static void hold(pg_session *ps);

static void forward_range(pg_session *ps)
{
	chunk *c = ps->cin;
	if (ps->scanned > ps->held_len) {
		size_t keep = ps->scanned - ps->subst_len - ps->held_len - ps->inject_len;
		if (keep)
			conn_write(&ps->target, c, c->start, keep);
		if (ps->subst_len)
			write_substitute(ps);
		if (ps->inject_len) {
			buf m = {0};
			size_t at = pg_msg_begin(&m, 'D');
			pg_put_u8(&m, 'P');
			pg_put_str(&m, ps->inject_portal);
			pg_msg_end(&m, at);
			conn_write_copy(&ps->target, m.data, m.len);
			buf_free(&m);
			conn_write(&ps->target, c, c->start + keep, ps->inject_len);
			ps->inject_len = 0;
		}
		consume(ps, ps->scanned - ps->held_len);
		ps->scanned = ps->held_len;   /* a held message stays, scanned, at the start of cin */
		ps->subst_len = 0;
	}
	if (ps->sync_inject && !ps->held_req) {
		buf m = {0};
		size_t at = pg_msg_begin(&m, 'S');
		pg_msg_end(&m, at);
		conn_write_copy(&ps->target, m.data, m.len);
		buf_free(&m);
		ps->sync_inject = 0;
	}
	int64_t now = util_now_us();
	while (ps->pending) {
		pg_request *r = ps->pending;
		ps->pending = r->next;
		r->next = NULL;
		r->start_us = now;
		if (ps->inflight_tail)
			ps->inflight_tail->next = r;
		else
			ps->inflight = r;
		ps->inflight_tail = r;
	}
	ps->units_forwarded = ps->units_scanned;
	if (ps->held_req && ps->held_type != 'E')
		ps->units_forwarded--;        /* the held Query/FunctionCall's unit is not forwarded yet */
	if (ps->held_req && !ps->review_wait)
		hold(ps);
}

/* ---- review: a held request ---- */

static void append_pending(pg_session *ps, pg_request *r)
{
	pg_request **tail = &ps->pending;
	while (*tail)
		tail = &(*tail)->next;
	*tail = r;
}

static char *dupf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *dupf(const char *fmt, ...)
{
	buf b = {0};
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	buf_reserve(&b, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(b.data, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return b.data;
}

/*
 * The review ended: an approved request goes to the target as it is, any
 * other outcome is answered the way a denial is (the target fails a stand-in,
 * so a transaction aborts as on a server error).
 */
static void review_ended(pg_session *ps, review_status st, const char *reviewer, const char *comment,
			 const char *reason)
{
	ps->review_wait = 0;
	uv_timer_stop(&ps->timer);
	if (ps->cancel_registered)
		pg_cancel_set_review(ps->own_pid, ps->own_key, NULL);
	pg_request *r = ps->held_req;
	ps->held_req = NULL;
	const config_rule *rule = r->rule;
	log_info("session %s: review %s %s%s%s", ps->s.id, ps->review_id, review_status_name(st),
		 reviewer ? " by " : "", reviewer ? reviewer : "");
	if (st != REVIEW_APPROVED) {
		r->denied = 1;
		r->describe_injected = 0;
		if (st == REVIEW_DENIED) {
			r->deny_message = dupf("review %s denied by %s: %s", ps->review_id, reviewer ? reviewer : "a reviewer",
					       comment && *comment ? comment : "no reason given");
			r->deny_hint = dupf("A reviewer of rule \"%s\" decided: the statement did not run. Do not send it "
					    "again unchanged.", rule->name);
		} else if (st == REVIEW_EXPIRED) {
			r->deny_message = dupf("review %s for rule \"%s\" expired after %ds without a decision: the "
					       "statement did not run", ps->review_id, rule->name, rule->timeout_s);
			r->deny_hint = dupf("Nobody decided in time. Ask a reviewer to look, then send it again.");
		} else {
			r->deny_code = "57014";
			r->deny_message = dupf("canceling statement due to user request (review %s withdrawn: %s)",
					       ps->review_id, reason ? reason : "withdrawn");
		}
		ps->subst_len = ps->held_len;
		ps->subst_type = ps->held_type == 'E' ? 'E' : 'Q';
	} else if (r->describe_injected) {
		ps->inject_len = ps->held_len; /* a masked Execute: warden's Describe of its portal first */
	}
	ps->held_len = 0;
	append_pending(ps, r);
	forward_range(ps);
	pg_frontend_resume_client(ps);
}

static void on_review_timeout(uv_timer_t *t)
{
	pg_session *ps = t->data;
	if (!ps->review_wait || ps->state != PGS_READY)
		return;
	if (review_expire(ps->review_id)) {
		ps->refs--; /* no outcome will come */
		review_ended(ps, REVIEW_EXPIRED, NULL, NULL, "timeout");
	}
}

static void on_review_outcome(void *owner, review_outcome *o)
{
	pg_session *ps = owner;
	ps->refs--;
	if (ps->state != PGS_READY || !ps->review_wait || strcmp(o->review_id, ps->review_id) != 0) {
		review_outcome_free(o);
		pg_session_maybe_free(ps);
		return;
	}
	review_ended(ps, o->status, o->reviewer, o->comment, o->reason);
	review_outcome_free(o);
}

/* The held request is recorded: open its review and wait. */
static void hold(pg_session *ps)
{
	pg_request *r = ps->held_req;
	const config_rule *rule = r->rule;
	review_ticket t = {
		.rule = rule,
		.session_id = ps->s.id,
		.user = ps->s.user,
		.groups_json = ps->s.groups_json,
		.agent = ps->s.agent,
		.connection = ps->s.connection,
		.statement = r->statement,
		.classification = r->classification,
		.request_id = r->id,
	};
	ps->review_wait = 1;
	ps->refs++; /* the outcome holds the session until it is delivered */
	review_open(&t, &ps->w->mb, on_review_outcome, ps, ps->review_id);
	if (ps->cancel_registered)
		pg_cancel_set_review(ps->own_pid, ps->own_key, ps->review_id);
	uv_timer_stop(&ps->timer);
	uv_timer_start(&ps->timer, on_review_timeout, (uint64_t)rule->timeout_s * 1000, 0);
	update_client_reading(ps);
}

static void emit_to_client(pg_session *ps, buf *b)
{
	if (b->len == 0)
		return;
	if (ps->units_forwarded > ps->z_count)
		buf_append(&ps->deferred, b->data, b->len); /* after the replies still owed */
	else
		conn_write_copy(&ps->client, b->data, b->len);
}

/*
 * Answers every message of the scanned range as the server would had each
 * unit failed at its first message, without forwarding any of it.
 */
static void refuse_range(pg_session *ps, const char *sqlstate, const char *message)
{
	chunk *c = ps->cin;
	buf out = {0};
	size_t pos = 0;
	int unit_failed = 0;
	while (pos < ps->scanned) {
		const char *m = c->data + c->start + pos;
		size_t total = (size_t)pg_be32(m + 1) + 1;
		switch (m[0]) {
		case 'Q':
		case 'F':
			pg_put_error(&out, "ERROR", sqlstate, message, NULL, NULL);
			pg_put_ready(&out, ps->tx_status);
			break;
		case 'S':
			pg_put_ready(&out, ps->tx_status);
			unit_failed = 0;
			break;
		case 'P':
		case 'B':
		case 'E':
		case 'D':
		case 'C':
			if (!unit_failed)
				pg_put_error(&out, "ERROR", sqlstate, message, NULL, NULL);
			unit_failed = 1;
			break;
		default:
			break;
		}
		pos += total;
	}
	ps->skip_until_sync = unit_failed;
	consume(ps, ps->scanned);
	ps->scanned = 0;
	ps->subst_len = 0;
	ps->held_len = 0;
	if (ps->held_req) {
		pg_request_free(ps->held_req);
		ps->held_req = NULL;
	}
	ps->units_scanned = ps->units_forwarded;
	ps->unit_replies_scanned = 0;
	ps->sql_frees_unit = UINT64_MAX; /* (the unit is scanned again: its DEALLOCATEs counted anew) */
	ps->sync_inject = 0;
	while (ps->n_z_drops && ps->z_drops[ps->n_z_drops - 1] >= ps->units_forwarded)
		ps->n_z_drops--; /* (warden's Sync was never sent) */
	undo_unforwarded(ps);
	free_requests(ps->pending);
	ps->pending = NULL;
	emit_to_client(ps, &out);
	buf_free(&out);
}

static void on_recorded(void *arg, int status)
{
	pg_session *ps = arg;
	ps->refs--;
	ps->audit_wait = 0;
	if (ps->state == PGS_CLOSING) {
		free_requests(ps->pending);
		ps->pending = NULL;
		pg_session_maybe_free(ps);
		return;
	}
	if (status == 0)
		forward_range(ps);
	else
		refuse_range(ps, "58030",
			     "the audit trail is unavailable: warden does not forward statements it cannot record");
	pg_frontend_resume_client(ps);
}

static void submit_batch(pg_session *ps, scan_batch *b)
{
	int64_t *ids = util_xmalloc(b->n * sizeof(*ids));
	ps->refs++;
	ps->audit_wait = 1;
	int rc = audit_record(b->entries, b->n, ids, &ps->w->mb, on_recorded, ps);
	free(b->entries);
	if (rc != 1) {
		ps->refs--;
		ps->audit_wait = 0;
	}
	if (rc < 0) {
		free(ids);
		refuse_range(ps, "58030",
			     "the audit trail is unavailable: warden does not forward statements it cannot record");
		update_client_reading(ps);
		return;
	}
	size_t i = 0;
	for (pg_request *r = ps->pending; r; r = r->next)
		r->id = ids[i++];
	if (ps->held_req)
		ps->held_req->id = ids[i++];   /* always the batch's last entry */
	free(ids);
	if (rc == 0)
		forward_range(ps); /* batch mode: recorded within the window */
	else
		update_client_reading(ps); /* wait for the commit: on_recorded forwards */
}

static int protocol_violation(pg_session *ps, const char *what)
{
	char msg[200];
	snprintf(msg, sizeof(msg), "invalid frontend message: %s", what);
	pgs_fatal(ps, "08P01", msg, "protocol_error");
	return -1;
}

/*
 * A Bind of a statement, or an Execute of a portal, this session's own Parse
 * and Bind did not make: a statement PREPAREd or a cursor DECLAREd in SQL
 * (they share the protocol's names), whose text warden does not hold for the
 * policy, nor the columns it would mask by. The session ends.
 */
/*
 * A Bind of a statement or an Execute of a portal this session's Parse and
 * Bind did not make: the target may hold one of that name (a SQL PREPARE, a
 * cursor DECLAREd in SQL, what DISCARD ALL freed), made of text warden did
 * not decide as this message's. It never reaches the target: it is refused
 * as PostgreSQL answers a name it does not hold (26000, 34000), recorded as
 * a denied request, and the target fails a stand-in, so the unit fails there
 * as it would on an unknown name.
 */
static int refuse_name(pg_session *ps, scan_batch *b, const char *what, const char *name)
{
	int bind = what[0] == 'B';
	char text[300];
	snprintf(text, sizeof(text), "-- %s of %s \"%.200s\", which this session's %s did not make", what,
		 bind ? "statement" : "portal", name, bind ? "Parse" : "Parse and Bind");
	ps->refuse_code = bind ? "26000" : "34000";
	ps->refuse_message = dupf("%s \"%.200s\" does not exist", bind ? "prepared statement" : "portal", name);
	ps->refuse_hint = dupf("warden %s only %s this session's %s made: read a cursor with FETCH, run a PREPAREd "
			       "statement with EXECUTE%s", bind ? "binds" : "executes", bind ? "statements" : "portals",
			       bind ? "Parse" : "Parse and Bind",
			       bind ? "; after DISCARD ALL or DEALLOCATE, Parse the statement again" : "");
	int rc = add_request(ps, b, 1, ps->units_scanned, text, strlen(text), NULL, 0, NULL);
	free(ps->refuse_message);
	free(ps->refuse_hint);
	ps->refuse_message = ps->refuse_hint = NULL;
	ps->refuse_code = NULL;
	return rc;
}

/* A FunctionCall's function was looked up: its message is read again. */
static void on_function(void *arg, int ok)
{
	pg_session *ps = arg;
	ps->refs--;
	if (ps->state == PGS_CLOSING) {
		pg_session_maybe_free(ps);
		return;
	}
	if (!ok)
		ps->fn_unnamed = ps->fn_wait; /* the target could not be asked: decided unnamed */
	ps->fn_wait = 0;
	pg_frontend_resume_client(ps);
}

/* The connection's partitions were looked up: the request waiting is read again. */
static void on_families(void *arg, int ok)
{
	(void)ok; /* unanswered: what was known stays (catalog.c), or none, and the policy fails closed */
	pg_session *ps = arg;
	ps->refs--;
	if (ps->state == PGS_CLOSING) {
		pg_session_maybe_free(ps);
		return;
	}
	ps->fam_wait = 0;
	pg_frontend_resume_client(ps);
}

/* Fetches the connection's families; 1: the message waits (on_families). */
static int families_fetch(pg_session *ps)
{
	ps->refs++;
	if (pg_catalog_fetch_families(&ps->w->loop, ps->cc, ps->cc_index, on_families, ps) != 0) {
		ps->refs--;
		return 0; /* decided with what is known */
	}
	ps->fam_wait = 1;
	return 1;
}

/*
 * Column rules written for a table cover its partitions and inheritance
 * children, and json_keys cover the documents of JSON columns, which the
 * policy learns from the target's catalog: with column rules or json_keys
 * configured, a request is decided once the connection's families are
 * fresh (fetched at most every CATALOG_TTL_S, and again when a statement
 * names a relation created since). 1: the message waits (on_families).
 */
static int families_wait(pg_session *ps)
{
	const warden_config *cfg = cfg_of(ps);
	int rules = 0;
	for (size_t i = 0; i < cfg->n_mask_profiles && !rules; i++)
		rules = cfg->mask_profiles[i].columns.n > 0 || cfg->mask_profiles[i].json_keys.n > 0;
	if (!rules || !ps->cc || pg_catalog_families(ps->cc_index))
		return 0;
	return families_fetch(ps);
}

/*
 * Scans one whole message at m; returns 0, 1 to stop scanning after it
 * (Terminate), 2 when it is a denied request (scanning stops after it and it
 * is substituted when forwarded), 3 when it is held for a review, 5 when it
 * waits, unscanned, for a lookup in the target's catalog (its function's
 * name: on_function, or the connection's partitions: on_families, read it
 * again), or -1 (closed).
 */
static int scan_message(pg_session *ps, scan_batch *b, const char *m, size_t total)
{
	const char *body = m + 5;
	size_t blen = total - 5;
	pg_reader r;
	pg_reader_init(&r, body, blen);
	ps->msgs_scanned++;
	if (ps->in_copy_data && m[0] != 'd' && m[0] != 'c' && m[0] != 'f' && m[0] != 'H')
		/* the target, copying in, would ignore a Sync there, or take the
		 * message for an error in the COPY: which, warden cannot know */
		return protocol_violation(ps, "only CopyData, CopyDone, CopyFail or Flush may follow CopyData");
	if (ps->ext_open && (m[0] == 'Q' || m[0] == 'F')) {
		/*
		 * The target runs it, or drops it unanswered when an extended
		 * message before it failed (pgJDBC's autosave sends BEGIN by
		 * Parse/Bind/Execute, then SAVEPOINT by Query): a Sync of warden's
		 * goes ahead of it, so the target answers it in any case, and that
		 * Sync's ReadyForQuery stays in warden (backend.c). Not while a
		 * COPY FROM may be copying in: the target would ignore the Sync.
		 */
		if (ps->ext_copy)
			return protocol_violation(ps, "a Query or FunctionCall after an extended-protocol COPY needs a "
						      "Sync before it");
		if (ps->n_z_drops == ps->cap_z_drops) {
			ps->cap_z_drops = ps->cap_z_drops ? ps->cap_z_drops * 2 : 4;
			ps->z_drops = util_xrealloc(ps->z_drops, ps->cap_z_drops * sizeof(*ps->z_drops));
		}
		ps->z_drops[ps->n_z_drops++] = ps->units_scanned;
		ps->units_scanned++;
		ps->syncs_scanned++;
		ps->ext_open = 0;
		ps->ext_copy = 0;
		ps->unit_replies_scanned = 0;
		ps->sync_inject = 1;
		return 6;
	}
	if (m[0] == 'P' || m[0] == 'B' || m[0] == 'E' || m[0] == 'D' || m[0] == 'C')
		ps->ext_open = 1;
	switch (m[0]) {
	case 'Q': {
		size_t len;
		const char *sql = pg_get_str(&r, &len);
		if (!sql)
			return protocol_violation(ps, "Query is not NUL-terminated");
		if (families_wait(ps))
			return 5;
		int rc = add_request(ps, b, 0, ps->units_scanned, sql, len, NULL, 0, NULL);
		if (rc == 0 || rc == 3) /* (not a denied one: it does not run) */
			sql_names_changed(ps, sql, len);
		if (rc != 5)
			ps->units_scanned++;
		return rc;
	}
	case 'P': {
		const char *name = pg_get_str(&r, NULL);
		size_t len;
		const char *sql = pg_get_str(&r, &len);
		if (!name || !sql)
			return protocol_violation(ps, "malformed Parse");
		if (ps->n_undo >= UNDO_MAX)
			return protocol_violation(ps, "too many Parse, Bind and Close messages awaiting the target's answer");
		/* (a Parse of a name the target holds fails, and is undone then; one
		 * warden holds may be gone there: DEALLOCATE, DISCARD) */
		undo_push(ps, 0, name);
		named_set(&ps->stmts, name, util_strndup(sql, len), NULL);
		ps->unit_replies_scanned++; /* (ParseComplete) */
		return 0;
	}
	case 'B': {
		const char *portal, *stmt;
		char *params;
		if (pg_parse_bind(body, blen, &portal, &stmt, &params) != 0)
			return protocol_violation(ps, "malformed Bind");
		if (strcmp(portal, PG_DENIED_PORTAL) == 0) {
			free(params);
			return protocol_violation(ps, "the portal name \"" PG_DENIED_PORTAL "\" is reserved by warden");
		}
		if (name_unsettled(ps, 0, stmt)) {
			free(params);
			ps->undo_wait = 1; /* read again once the target settled the statement's Parse */
			return 5;
		}
		pg_named *s = named_find(&ps->stmts, stmt);
		if (!s || !s->text) {
			free(params);
			return refuse_name(ps, b, "Bind", stmt);
		}
		if (ps->n_undo >= UNDO_MAX) {
			free(params);
			return protocol_violation(ps, "too many Parse, Bind and Close messages awaiting the target's answer");
		}
		/* (as a Parse: a portal the target holds fails it, one gone there at a
		 * transaction's end, a CLOSE, takes it) */
		undo_push(ps, 1, portal);
		named_set(&ps->portals, portal, util_strndup(s->text, strlen(s->text)), params);
		ps->unit_replies_scanned++; /* (BindComplete) */
		return 0;
	}
	case 'E': {
		const char *portal = pg_get_str(&r, NULL);
		pg_get_i32(&r);
		if (!portal || r.bad)
			return protocol_violation(ps, "malformed Execute");
		if (name_unsettled(ps, 1, portal)) {
			ps->undo_wait = 1;
			return 5;
		}
		pg_named *p = named_find(&ps->portals, portal);
		if (!p || !p->text)
			return refuse_name(ps, b, "Execute", portal);
		const char *text = p->text;
		if (families_wait(ps))
			return 5;
		ps->ext_copy |= util_memcasemem(text, strlen(text), "copy", 4);
		int rc = add_request(ps, b, 1, ps->units_scanned, text, text ? strlen(text) : 0,
				     p ? p->params : NULL, 0, NULL);
		if (rc == 0 || rc == 3) /* (not a denied one: it does not run) */
			sql_names_changed(ps, text, strlen(text));
		if (rc == 5) /* (read again) */
			return rc;
		pg_request *last = ps->pending;
		while (last && last->next)
			last = last->next;
		if (rc == 3)
			last = ps->held_req; /* (its Describe goes ahead of it once approved: review_ended) */
		if ((rc == 0 || rc == 3) && last && (last->mask_profile >= 0 || last->capture_profile >= 0)) {
			/*
			 * Rows to mask need their RowDescription (types, formats, table
			 * columns): a Describe of the portal goes to the target right
			 * before the Execute, and its reply stays in warden (backend.c).
			 * Always, whether the client described the portal or not: a
			 * Describe of a statement between the two would describe other
			 * columns, all in text.
			 */
			last->describe_injected = 1;
			last->replies_before = ps->unit_replies_scanned++;
			free(ps->inject_portal);
			ps->inject_portal = util_strndup(portal, strlen(portal));
			return rc == 3 ? 3 : 4;
		}
		return rc;
	}
	case 'D': {
		uint8_t what = pg_get_u8(&r);
		const char *name = pg_get_str(&r, NULL);
		if (!name || (what != 'S' && what != 'P'))
			return protocol_violation(ps, "malformed Describe");
		ps->unit_replies_scanned++; /* (RowDescription or NoData) */
		return 0;
	}
	case 'F': {
		uint32_t oid;
		char *args;
		if (pg_parse_function_call(body, blen, &oid, &args) != 0)
			return protocol_violation(ps, "malformed FunctionCall");
		/* the function is decided by its name, from the target's catalog */
		char name[300];
		int known = pg_catalog_function(ps->cc_index, oid, name, sizeof(name));
		if (known == 0 && ps->fn_unnamed != oid) {
			ps->refs++;
			if (pg_catalog_fetch_function(&ps->w->loop, ps->cc, ps->cc_index, oid, on_function, ps) == 0) {
				ps->fn_wait = oid;
				free(args);
				return 5;
			}
			ps->refs--;
		}
		ps->fn_unnamed = 0;
		char text[340];
		int n = snprintf(text, sizeof(text), "-- FunctionCall oid %u%s%s", oid, known == 1 ? ": " : "",
				 known == 1 ? name : "");
		/* its arguments are recorded as a Bind's parameters are */
		int rc = add_request(ps, b, 0, ps->units_scanned, text, (size_t)n, args, 1,
				     known == 1 ? strchr(text, ':') + 2 : NULL);
		free(args);
		if (rc != 5)
			ps->units_scanned++;
		return rc;
	}
	case 'C': {
		uint8_t what = pg_get_u8(&r);
		const char *name = pg_get_str(&r, NULL);
		if (!name || (what != 'S' && what != 'P'))
			return protocol_violation(ps, "malformed Close");
		if (ps->n_undo >= UNDO_MAX)
			return protocol_violation(ps, "too many Parse, Bind and Close messages awaiting the target's answer");
		undo_push(ps, what == 'P', name);
		named_remove(what == 'S' ? &ps->stmts : &ps->portals, name);
		ps->unit_replies_scanned++; /* (CloseComplete) */
		return 0;
	}
	case 'S':
		ps->units_scanned++;
		ps->syncs_scanned++;
		ps->ext_open = 0;
		ps->ext_copy = 0;
		ps->unit_replies_scanned = 0;
		if (ps->copy_in_open)
			ps->z_bonus++; /* the target ignores it: the COPY's ReadyForQuery counts for it */
		return 0;
	case 'X':
		return 1;
	case 'c':
	case 'f':
		ps->in_copy_data = 0;
		if (ps->copy_in_open) {
			ps->copy_in_open = 0;
			if (ps->copy_in_req) /* a second COPY of the request counts Syncs from here */
				ps->copy_in_req->syncs_before = ps->syncs_scanned;
			ps->copy_in_req = NULL;
		} else {
			/* matched with the request whose CopyInResponse comes (backend.c) */
			if (ps->n_copy_ends == sizeof(ps->copy_ends) / sizeof(ps->copy_ends[0]))
				return protocol_violation(ps, "too many CopyDone or CopyFail messages outside COPY");
			ps->copy_ends[ps->n_copy_ends].seq = ps->msgs_scanned;
			ps->copy_ends[ps->n_copy_ends++].syncs = ps->syncs_scanned;
		}
		return 0;
	case 'd':
		ps->in_copy_data = 1;
		return 0;
	case 'H':
		return 0;
	default: {
		char what[64];
		snprintf(what, sizeof(what), "unexpected message type 0x%02x", (unsigned char)m[0]);
		return protocol_violation(ps, what);
	}
	}
}

/* A session's identity ends with its token: the next request after exp is refused. */
static int identity_expired(pg_session *ps)
{
	if (!ps->identity_expires || time(NULL) < ps->identity_expires)
		return 0;
	char when[40], msg[200];
	time_t t = (time_t)ps->identity_expires;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(msg, sizeof(msg), "your sign-in expired at %s: run `warden login` again and reconnect", when);
	pgs_fatal(ps, "28000", msg, "identity_expired");
	return 1;
}

/*
 * Scans and forwards what the client sent. 1 when the scan stopped after a
 * message that changes what goes to the target (a denial's stand-in, a
 * Describe sent ahead) and nothing is awaited: the rest (the unit's Sync) is
 * to be scanned now, as no record's callback will (batch durability records
 * within its window and calls none).
 */
static int scan_ready(pg_session *ps)
{
	const warden_config *cfg = cfg_of(ps);
	if (ps->cin && identity_expired(ps))
		return 0;
	if (ps->cin && ps->stored_key_used && keystore_revoked(ps->stored_key)) {
		pgs_fatal(ps, "28000", "the API key of this session was revoked", "apikey_revoked");
		return 0;
	}
	scan_batch b = {0};
	int terminate = 0, again = 0;
	while (ps->cin && !ps->audit_wait && !ps->review_wait && !ps->fn_wait && !ps->fam_wait && !ps->undo_wait &&
	       ps->state == PGS_READY) {
		chunk *c = ps->cin;
		size_t avail = c->end - c->start - ps->scanned;
		const char *m = c->data + c->start + ps->scanned;
		char type;
		size_t total;
		int rc = pg_frame(m, avail, cfg->max_message_bytes, &type, &total);
		if (rc < 0) {
			char msg[200];
			snprintf(msg, sizeof(msg),
				 "invalid message length %u or over the limit of %zu bytes (limits.max_message_size)",
				 avail >= 5 ? pg_be32(m + 1) : 0, cfg->max_message_bytes);
			free(b.entries);
			pgs_fatal(ps, "08P01", msg, "protocol_error");
			return 0;
		}
		if (rc == 0 || avail < total)
			break;
		if (ps->skip_until_sync && ps->scanned == 0) {
			/* the rest of a refused extended unit: dropped, Sync answered */
			consume(ps, total);
			if (type == 'S') {
				ps->skip_until_sync = 0;
				ps->ext_open = 0;
				ps->ext_copy = 0;
				buf out = {0};
				pg_put_ready(&out, ps->tx_status);
				emit_to_client(ps, &out);
				buf_free(&out);
			}
			continue;
		}
		int sr = scan_message(ps, &b, m, total);
		if (sr < 0) {
			for (size_t i = 0; i < b.n; i++)
				audit_entry_free(b.entries[i]);
			free(b.entries);
			return 0;
		}
		if (sr == 1) {
			terminate = 1; /* Terminate: not forwarded; warden ends the target session itself */
			break;
		}
		if (sr == 5)
			break; /* read again when the lookup is done */
		if (sr == 6) {
			again = 1; /* read again after warden's Sync (forward_range) */
			break;
		}
		ps->scanned += total;
		if (sr == 2) {
			ps->subst_len = total;
			ps->subst_type = type == 'E' || type == 'B' ? 'E' : 'Q'; /* (extended: a Parse) */
			again = 1;
			break;
		}
		if (sr == 3) {
			ps->held_len = total;
			ps->held_type = type;
			break;
		}
		if (sr == 4) {
			ps->inject_len = total;
			again = 1;
			break;
		}
	}
	if (b.n > 0)
		submit_batch(ps, &b);
	else if (ps->scanned > 0 || ps->sync_inject)
		forward_range(ps);
	if (terminate && ps->state == PGS_READY) {
		if (ps->audit_wait)
			return 0; /* the Terminate is read again after the commit */
		pgs_close(ps, "client_terminate");
		return 0;
	}
	return again && ps->cin && !ps->audit_wait && !ps->review_wait && !ps->fn_wait && !ps->fam_wait &&
	       !ps->undo_wait && ps->state == PGS_READY;
}

static void process_ready(pg_session *ps)
{
	while (scan_ready(ps))
		;
}

static void process_client(pg_session *ps)
{
	switch (ps->state) {
	case PGS_STARTUP:
		process_startup(ps);
		if (ps->state != PGS_AUTH || !ps->cin)
			return;
		/* fall through */
	case PGS_AUTH:
		if (ps->cin)
			process_password(ps);
		return;
	case PGS_READY:
		process_ready(ps);
		if (ps->target_inited && conn_write_queued(&ps->target) >= HIGH_WATER)
			update_client_reading(ps);
		return;
	default:
		return;
	}
}
