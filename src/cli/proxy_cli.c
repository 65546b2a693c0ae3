/*
 * proxy — `warden proxy CONNECTION --gateway HOST:PORT [--port 5433]`: a
 * loopback-only PostgreSQL listener for a developer's machine. An agent
 * connects to it with no password; the proxy opens a TLS connection to the
 * gateway, selects CONNECTION, answers the gateway's password request with the
 * token `warden login` stored (refreshed when needed), and from then on moves
 * bytes both ways unchanged. The agent holds no secret at all.
 *
 * One libuv loop. A CancelRequest from the agent is passed to the gateway on a
 * new connection, as PostgreSQL clients do. Refreshing a token is a blocking
 * HTTP call on the loop: acceptable on a developer's machine, where it happens
 * once per token lifetime.
 */
#include <openssl/crypto.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "core/conn.h"
#include "core/log.h"
#include "identity/tokens.h"
#include "proto/pg/codec.h"

typedef enum { PX_STARTUP, PX_GW_CONNECTING, PX_GW_SSL, PX_GW_TLS, PX_GW_AUTH, PX_RELAY, PX_CLOSING } px_state;

typedef struct px_opts {
	const char *connection, *gateway_host, *sslrootcert;
	int gateway_port, port, insecure;
	SSL_CTX *tls;
	struct sockaddr_storage gateway_addr;
} px_opts;

typedef struct px_session {
	px_opts *o;
	conn client, gw;
	int handles;
	px_state state;
	buf in;                 /* client bytes before relaying starts */
	buf gw_in;              /* gateway bytes during authentication */
	buf startup;            /* the startup packet sent to the gateway */
	int cancel;             /* a cancel-request relay: send startup, close */
} px_session;

static void px_free_maybe(px_session *s)
{
	if (s->handles > 0)
		return;
	buf_free(&s->in);
	buf_free(&s->gw_in);
	OPENSSL_cleanse(s->startup.data, s->startup.cap);
	buf_free(&s->startup);
	free(s);
}

static void px_close(px_session *s)
{
	if (s->state == PX_CLOSING)
		return;
	s->state = PX_CLOSING;
	conn_close(&s->client);
	if (s->handles > 1)
		conn_close(&s->gw);
}

static void px_fail(px_session *s, const char *sqlstate, const char *msg)
{
	buf b = {0};
	pg_put_error(&b, "FATAL", sqlstate, msg, NULL, NULL);
	conn_write_copy(&s->client, b.data, b.len);
	buf_free(&b);
	log_warn("proxy: %s", msg);
	px_close(s);
}

static void gw_send_startup(px_session *s)
{
	conn_write_copy(&s->gw, s->startup.data, s->startup.len);
	if (s->cancel) {
		px_close(s);
		return;
	}
	s->state = PX_GW_AUTH;
}

/* Authentication with the gateway: answer its cleartext password request with the token. */
static void gw_auth_read(px_session *s)
{
	size_t pos = 0;
	while (s->state == PX_GW_AUTH) {
		char type;
		size_t total;
		int rc = pg_frame(s->gw_in.data + pos, s->gw_in.len - pos, 1 << 20, &type, &total);
		if (rc < 0) {
			px_fail(s, "08P01", "the gateway sent a malformed message");
			return;
		}
		if (rc == 0 || s->gw_in.len - pos < total)
			break;
		const char *body = s->gw_in.data + pos + 5;
		if (type == 'R' && total >= 9 && pg_be32(body) == 3) {
			char token[16384], err[256];
			if (tokens_current(token, sizeof(token), err, sizeof(err)) != 0) {
				px_fail(s, "28000", err);
				return;
			}
			buf b = {0};
			size_t at = pg_msg_begin(&b, 'p');
			pg_put_str(&b, token);
			pg_msg_end(&b, at);
			conn_write_copy(&s->gw, b.data, b.len);
			OPENSSL_cleanse(b.data, b.len);
			OPENSSL_cleanse(token, sizeof(token));
			buf_free(&b);
			pos += total;
			continue;
		}
		if (type == 'R' && total >= 9 && pg_be32(body) != 0) {
			px_fail(s, "08004", "the gateway asked for an authentication method the proxy does not speak");
			return;
		}
		/* AuthenticationOk, or an error: from here on the agent talks to the gateway */
		s->state = PX_RELAY;
		conn_write_copy(&s->client, s->gw_in.data + pos, s->gw_in.len - pos);
		if (s->in.len)
			conn_write_copy(&s->gw, s->in.data, s->in.len);
		buf_free(&s->in);
		buf_free(&s->gw_in);
		conn_read_start(&s->client);
		return;
	}
	memmove(s->gw_in.data, s->gw_in.data + pos, s->gw_in.len - pos);
	s->gw_in.len -= pos;
}

static void gw_on_read(conn *c, chunk *ch)
{
	px_session *s = c->owner;
	if (s->state == PX_RELAY) {
		conn_write(&s->client, ch, ch->start, ch->end - ch->start);
	} else if (s->state == PX_GW_SSL) {
		char answer = ch->data[ch->start];
		if (ch->end - ch->start != 1 || answer != 'S') {
			px_fail(s, "08001", "the gateway does not offer TLS: the proxy never sends a token in the clear");
		} else if (conn_tls_client(&s->gw, s->o->tls, s->o->gateway_host, !s->o->insecure) != 0) {
			px_fail(s, "08006", "cannot start TLS with the gateway");
		} else {
			s->state = PX_GW_TLS;
		}
	} else if (s->state == PX_GW_AUTH) {
		buf_append(&s->gw_in, ch->data + ch->start, ch->end - ch->start);
		gw_auth_read(s);
	}
	chunk_unref(ch);
}

static void gw_on_event(conn *c, enum conn_event ev, int status)
{
	px_session *s = c->owner;
	switch (ev) {
	case CONN_CLOSED:
		s->handles--;
		px_free_maybe(s);
		return;
	case CONN_CONNECTED:
		if (status < 0) {
			char msg[200];
			snprintf(msg, sizeof(msg), "cannot reach the gateway %s:%d: %s", s->o->gateway_host,
				 s->o->gateway_port, uv_strerror(status));
			px_fail(s, "08006", msg);
			return;
		}
		conn_read_start(&s->gw);
		if (s->cancel) {
			gw_send_startup(s);
			return;
		}
		static const char ssl_request[8] = {0, 0, 0, 8, 0x04, (char)0xd2, 0x16, 0x2f};
		conn_write_copy(&s->gw, ssl_request, sizeof(ssl_request));
		s->state = PX_GW_SSL;
		return;
	case CONN_TLS_READY:
		gw_send_startup(s);
		return;
	case CONN_EOF:
	case CONN_ERROR:
		if (s->state != PX_RELAY && s->state != PX_CLOSING && !s->cancel) {
			char msg[300];
			snprintf(msg, sizeof(msg), "the connection to the gateway failed%s%s",
				 status == CONN_ERR_TLS ? ": " : "", status == CONN_ERR_TLS ? c->err : "");
			px_fail(s, "08006", msg);
			return;
		}
		px_close(s);
		return;
	default:
		return;
	}
}

static void open_gateway(px_session *s)
{
	if (conn_init(&s->gw, s->client.tcp.loop, s, gw_on_read, gw_on_event) != 0) {
		px_close(s);
		return;
	}
	s->handles++;
	s->state = PX_GW_CONNECTING;
	if (conn_connect(&s->gw, (struct sockaddr *)&s->o->gateway_addr) != 0)
		px_fail(s, "08006", "cannot connect to the gateway");
}

/* The agent's startup packet: rewritten to select the connection, sent after TLS. */
static void client_startup(px_session *s)
{
	if (s->in.len < 4)
		return;
	uint32_t len = pg_be32(s->in.data);
	if (len < 8 || len > 10240) {
		px_fail(s, "08P01", "invalid startup packet length");
		return;
	}
	if (s->in.len < len)
		return;
	pg_startup st;
	char err[200];
	if (pg_parse_startup(s->in.data, len, &st, err, sizeof(err)) != 0) {
		px_fail(s, "08P01", err);
		return;
	}
	if (st.code == PG_SSL_REQUEST || st.code == PG_GSSENC_REQUEST) {
		conn_write_copy(&s->client, "N", 1); /* loopback: no TLS between agent and proxy */
		memmove(s->in.data, s->in.data + len, s->in.len - len);
		s->in.len -= len;
		client_startup(s);
		return;
	}
	s->startup.len = 0;
	if (st.code == PG_CANCEL_REQUEST) {
		buf_append(&s->startup, s->in.data, len);
		s->cancel = 1;
	} else {
		size_t at = pg_msg_begin(&s->startup, 0);
		pg_put_i32(&s->startup, (int32_t)PG_PROTOCOL_V3);
		pg_put_str(&s->startup, "database");
		pg_put_str(&s->startup, s->o->connection);
		for (size_t i = 0; i < st.n_params; i++) {
			if (strcmp(st.params[i].name, "database") == 0)
				continue;
			pg_put_str(&s->startup, st.params[i].name);
			pg_put_str(&s->startup, st.params[i].value);
		}
		pg_put_u8(&s->startup, 0);
		pg_msg_end(&s->startup, at);
	}
	memmove(s->in.data, s->in.data + len, s->in.len - len);
	s->in.len -= len;
	conn_read_stop(&s->client); /* what the agent sends next waits for the gateway */
	open_gateway(s);
}

static void client_on_read(conn *c, chunk *ch)
{
	px_session *s = c->owner;
	if (s->state == PX_RELAY) {
		conn_write(&s->gw, ch, ch->start, ch->end - ch->start);
	} else if (s->state == PX_STARTUP) {
		buf_append(&s->in, ch->data + ch->start, ch->end - ch->start);
		client_startup(s);
	} else if (s->state != PX_CLOSING) {
		buf_append(&s->in, ch->data + ch->start, ch->end - ch->start);
	}
	chunk_unref(ch);
}

static void client_on_event(conn *c, enum conn_event ev, int status)
{
	px_session *s = c->owner;
	(void)status;
	if (ev == CONN_CLOSED) {
		s->handles--;
		px_free_maybe(s);
	} else if (ev == CONN_EOF || ev == CONN_ERROR) {
		if (!s->cancel)
			px_close(s);
	}
}

static void on_connection(uv_stream_t *server, int status)
{
	px_opts *o = server->data;
	if (status < 0)
		return;
	px_session *s = calloc(1, sizeof(*s));
	if (!s || conn_init(&s->client, server->loop, s, client_on_read, client_on_event) != 0) {
		free(s);
		return;
	}
	s->o = o;
	s->handles = 1;
	if (uv_accept(server, (uv_stream_t *)&s->client.tcp) != 0) {
		px_close(s);
		return;
	}
	uv_tcp_nodelay(&s->client.tcp, 1);
	conn_read_start(&s->client);
}

static void on_signal(uv_signal_t *h, int signum)
{
	(void)signum;
	uv_stop(h->loop);
}

static int usage(const char *msg)
{
	fprintf(stderr, "warden proxy: %s\n"
			"usage: warden proxy CONNECTION --gateway HOST:PORT [--port 5433]\n"
			"                    [--sslrootcert CA.pem | --insecure]\n",
		msg);
	return 2;
}

int cli_proxy_main(int argc, char **argv)
{
	px_opts o = {.port = 5433};
	const char *gateway = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--gateway") == 0 && i + 1 < argc)
			gateway = argv[++i];
		else if (strcmp(argv[i], "--port") == 0 && i + 1 < argc)
			o.port = atoi(argv[++i]);
		else if (strcmp(argv[i], "--sslrootcert") == 0 && i + 1 < argc)
			o.sslrootcert = argv[++i];
		else if (strcmp(argv[i], "--insecure") == 0)
			o.insecure = 1;
		else if (argv[i][0] == '-')
			return usage("unknown option");
		else if (!o.connection)
			o.connection = argv[i];
		else
			return usage("too many arguments");
	}
	if (!o.connection || !gateway)
		return usage("CONNECTION and --gateway HOST:PORT are required");
	if (o.port <= 0 || o.port > 65535)
		return usage("--port must be 1..65535");
	char host[256];
	const char *colon = strrchr(gateway, ':');
	if (!colon || colon == gateway || (size_t)(colon - gateway) >= sizeof(host))
		return usage("--gateway wants HOST:PORT");
	memcpy(host, gateway, (size_t)(colon - gateway));
	host[colon - gateway] = '\0';
	o.gateway_host = host;
	o.gateway_port = atoi(colon + 1);
	if (uv_ip4_addr(host, o.gateway_port, (struct sockaddr_in *)&o.gateway_addr) != 0 &&
	    uv_ip6_addr(host, o.gateway_port, (struct sockaddr_in6 *)&o.gateway_addr) != 0) {
		struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
		if (getaddrinfo(host, colon + 1, &hints, &res) != 0 || !res)
			return usage("cannot resolve the gateway's host");
		memcpy(&o.gateway_addr, res->ai_addr, res->ai_addrlen);
		freeaddrinfo(res);
	}
	o.tls = SSL_CTX_new(TLS_client_method());
	if (!o.tls)
		return 1;
	SSL_CTX_set_min_proto_version(o.tls, TLS1_2_VERSION);
	if (!o.insecure) {
		int ok = o.sslrootcert ? SSL_CTX_load_verify_locations(o.tls, o.sslrootcert, NULL)
				       : SSL_CTX_set_default_verify_paths(o.tls);
		if (ok != 1) {
			fprintf(stderr, "warden proxy: cannot load CA certificates from %s\n",
				o.sslrootcert ? o.sslrootcert : "the system store");
			SSL_CTX_free(o.tls);
			return 1;
		}
		SSL_CTX_set_verify(o.tls, SSL_VERIFY_PEER, NULL);
	}
	char err[256];
	char probe[16384];
	if (tokens_current(probe, sizeof(probe), err, sizeof(err)) != 0) {
		fprintf(stderr, "warden proxy: %s\n", err);
		SSL_CTX_free(o.tls);
		return 1;
	}
	OPENSSL_cleanse(probe, sizeof(probe));

	signal(SIGPIPE, SIG_IGN);
	uv_loop_t *loop = uv_default_loop();
	uv_tcp_t server;
	struct sockaddr_in addr;
	uv_ip4_addr("127.0.0.1", o.port, &addr); /* loopback only: the proxy lends its token to anyone who connects */
	uv_tcp_init(loop, &server);
	server.data = &o;
	int rc = uv_tcp_bind(&server, (struct sockaddr *)&addr, 0);
	if (rc == 0)
		rc = uv_listen((uv_stream_t *)&server, 128, on_connection);
	if (rc != 0) {
		fprintf(stderr, "warden proxy: listen on 127.0.0.1:%d: %s\n", o.port, uv_strerror(rc));
		SSL_CTX_free(o.tls);
		return 1;
	}
	fprintf(stderr, "warden proxy: %s on postgresql://127.0.0.1:%d/%s via %s:%d (no password needed)\n",
		o.connection, o.port, o.connection, host, o.gateway_port);
	uv_signal_t sigint, sigterm;
	uv_signal_init(loop, &sigint);
	uv_signal_init(loop, &sigterm);
	uv_signal_start(&sigint, on_signal, SIGINT);
	uv_signal_start(&sigterm, on_signal, SIGTERM);
	uv_run(loop, UV_RUN_DEFAULT);
	SSL_CTX_free(o.tls);
	return 0;
}
