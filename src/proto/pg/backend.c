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
 */
#include <netdb.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "core/log.h"
#include "core/util.h"
#include "policy/sqlclass.h"
#include "proto/pg/cancel.h"
#include "proto/pg/codec.h"
#include "proto/pg/pg_session.h"

#define HIGH_WATER (1u << 20)
#define BODY_KEEP 8192          /* bytes of an inspected body worth keeping */

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

static void finish_head(pg_session *ps, const char *code, const char *message)
{
	pg_request *r = ps->inflight;
	if (!r)
		return;
	ps->inflight = r->next;
	if (!ps->inflight)
		ps->inflight_tail = NULL;
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
	if (r->tags.len)
		buf_append(&r->tags, "", 1);
	res.command_tag = r->tags.len ? r->tags.data : NULL;
	audit_entry *e = session_result_entry(&ps->s, r->id, &res);
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

static void inspect_message(pg_session *ps, char type, const char *body, size_t len)
{
	pg_request *r = current_request(ps);
	switch (type) {
	case 'D':
		if (r)
			r->data_rows++;
		return;
	case 'C': {
		if (!r)
			return;
		const char *nul = memchr(body, '\0', len);
		char *tag = util_strndup(body, nul ? (size_t)(nul - body) : len);
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
	case 'Z':
		ps->tx_status = len >= 1 ? body[0] : 'I';
		ps->z_count++;
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
	if (type != 'E')
		return 0;
	pg_request *r = current_request(ps);
	return r && r->denied;
}

static void write_replacement(pg_session *ps)
{
	pg_request *r = current_request(ps);
	buf m = {0};
	pg_put_error(&m, "ERROR", r->deny_code ? r->deny_code : "42501", r->deny_message, r->deny_detail,
		     r->deny_hint);
	conn_write_copy(&ps->client, m.data, m.len);
	buf_free(&m);
}

static void frame_done(pg_session *ps)
{
	ps->t_hdr_have = 0;
	if (ps->t_drop) {
		write_replacement(ps);
		ps->t_drop = 0;
	}
	if (ps->t_capture) {
		buf_append(&ps->t_body, "", 1); /* keeps truncated strings terminated */
		inspect_message(ps, ps->t_type, ps->t_body.data, ps->t_body.len - 1);
	} else {
		inspect_message(ps, ps->t_type, NULL, 0);
	}
}

/*
 * Walks the frames of ch and relays them to the client: unchanged bytes are
 * written from the chunk itself, a replaced frame is cut out and warden's
 * message written in its place. A header split across reads is held back
 * (ps->t_hdr) until it is whole, since only then is it known whether its
 * frame is relayed. Returns -1 on a malformed frame.
 */
static int relay_frames(pg_session *ps, chunk *ch)
{
	size_t p = ch->start, end = ch->end;
	size_t out = p;                 /* first byte of ch not yet written or skipped */
	size_t hdr_from = p;            /* where the header in progress starts in ch */
	size_t held = ps->t_remaining == 0 ? ps->t_hdr_have : 0; /* header bytes from earlier reads */
	while (p < end) {
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
			ps->t_capture = wants_body(ps->t_type);
			ps->t_body.len = 0;
			if (frame_replaced(ps, ps->t_type)) {
				if (hdr_from > out)
					conn_write(&ps->client, ch, out, hdr_from - out);
				ps->t_drop = 1;
			} else if (held) {
				conn_write_copy(&ps->client, ps->t_hdr, held);
			}
			held = 0;
			if (ps->t_remaining == 0) {
				if (ps->t_drop)
					out = p;
				frame_done(ps);
			}
			continue;
		}
		size_t take = ps->t_remaining;
		if (take > end - p)
			take = end - p;
		if (ps->t_capture && ps->t_body.len < BODY_KEEP) {
			size_t keep = BODY_KEEP - ps->t_body.len;
			buf_append(&ps->t_body, ch->data + p, take < keep ? take : keep);
		}
		p += take;
		ps->t_remaining -= take;
		if (ps->t_drop)
			out = p;
		if (ps->t_remaining == 0)
			frame_done(ps);
	}
	size_t upto = end;
	if (ps->t_drop)
		upto = out;
	else if (ps->t_remaining == 0 && ps->t_hdr_have > 0 && ps->t_hdr_have < 5)
		upto = hdr_from; /* held back until the header is whole */
	if (upto > out)
		conn_write(&ps->client, ch, out, upto - out);
	return 0;
}

static void relay(pg_session *ps, chunk *ch)
{
	if (relay_frames(ps, ch) != 0) {
		chunk_unref(ch);
		pgs_fatal(ps, "08P01", "the target sent a malformed message", "target_disconnect");
		return;
	}
	chunk_unref(ch);
	if (ps->deferred.len && ps->units_forwarded == ps->z_count) {
		conn_write_copy(&ps->client, ps->deferred.data, ps->deferred.len);
		ps->deferred.len = 0;
	}
	if (conn_write_queued(&ps->client) >= HIGH_WATER) {
		ps->target_paused = 1;
		conn_read_stop(&ps->target);
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
