/*
 * conn — see conn.h.
 *
 * Plain:  socket --read--> chunk --on_read--> owner --conn_write--> socket
 * TLS:    socket --read--> ciphertext chunk --BIO_write--> rbio
 *         SSL_read --> plaintext chunk --on_read--> owner
 *         owner --conn_write--> SSL_write --> wbio --> ciphertext chunk --> socket
 *
 * A chunk is allocated only when the socket is readable and freed when its
 * bytes are written, so an idle connection holds no buffers.
 */
#include "core/conn.h"

#include <openssl/err.h>
#include <stdio.h>
#include <string.h>

#include "core/tls.h"
#include "core/util.h"

#define CONN_READ_SIZE 65536

typedef struct write_req {
	uv_write_t req;
	chunk *ch;
	conn *c;
} write_req;

static void tls_fail(conn *c, const char *what)
{
	unsigned long e = ERR_get_error();
	char detail[200];
	if (e)
		ERR_error_string_n(e, detail, sizeof(detail));
	else
		snprintf(detail, sizeof(detail), "peer closed the connection");
	snprintf(c->err, sizeof(c->err), "%s: %s", what, detail);
	ERR_clear_error();
	c->on_event(c, CONN_ERROR, CONN_ERR_TLS);
}

static void on_write_done(uv_write_t *req, int status)
{
	write_req *w = (write_req *)req;
	conn *c = w->c;
	chunk_unref(w->ch);
	free(w);
	if (c->closing)
		return;
	if (status < 0)
		c->on_event(c, CONN_ERROR, status);
	else
		c->on_event(c, CONN_WRITTEN, 0);
}

static void raw_write(conn *c, chunk *ch, size_t off, size_t len)
{
	write_req *w = util_xmalloc(sizeof(*w));
	w->ch = chunk_ref(ch);
	w->c = c;
	uv_buf_t b = uv_buf_init(ch->data + off, (unsigned)len);
	int rc = uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, on_write_done);
	if (rc < 0) {
		chunk_unref(w->ch);
		free(w);
		if (!c->closing)
			c->on_event(c, CONN_ERROR, rc);
	}
}

/* Moves whatever OpenSSL has produced for the network onto the socket. */
static void tls_flush(conn *c)
{
	size_t pending;
	while ((pending = BIO_ctrl_pending(c->wbio)) > 0) {
		chunk *ch = chunk_new(pending);
		int n = BIO_read(c->wbio, ch->data, (int)pending);
		if (n > 0)
			raw_write(c, ch, 0, (size_t)n);
		chunk_unref(ch);
		if (n <= 0)
			break;
	}
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
	(void)suggested;
	chunk *ch = chunk_new(CONN_READ_SIZE);
	b->base = ch->data;
	b->len = CONN_READ_SIZE;
	(void)h;
}

static chunk *chunk_of(char *data)
{
	return (chunk *)(void *)data - 1; /* (chunk_new's: its bytes follow it) */
}

static void tls_read_all(conn *c)
{
	if (!c->tls_ready) {
		int rc = SSL_do_handshake(c->ssl);
		tls_flush(c);
		if (rc != 1) {
			int e = SSL_get_error(c->ssl, rc);
			if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
				tls_fail(c, "TLS handshake failed");
			return;
		}
		c->tls_ready = 1;
		c->on_event(c, CONN_TLS_READY, 0);
		if (c->closing)
			return;
	}
	while (c->reading && !c->closing) {
		chunk *ch = chunk_new(CONN_READ_SIZE);
		int n = SSL_read(c->ssl, ch->data, CONN_READ_SIZE);
		if (n <= 0) {
			chunk_unref(ch);
			int e = SSL_get_error(c->ssl, n);
			tls_flush(c);
			if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
				return;
			if (e == SSL_ERROR_ZERO_RETURN)
				c->on_event(c, CONN_EOF, 0);
			else
				tls_fail(c, "TLS read failed");
			return;
		}
		ch->end = (size_t)n;
		c->on_read(c, ch);
	}
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	conn *c = s->data;
	chunk *ch = b->base ? chunk_of(b->base) : NULL;
	if (n <= 0 || c->closing) {
		chunk_unref(ch);
		if (n < 0 && !c->closing)
			c->on_event(c, n == UV_EOF ? CONN_EOF : CONN_ERROR, (int)n);
		return;
	}
	if (!c->ssl) {
		ch->end = (size_t)n;
		c->on_read(c, ch);
		return;
	}
	int w = BIO_write(c->rbio, ch->data, (int)n);
	chunk_unref(ch);
	if (w != n) {
		tls_fail(c, "TLS buffer");
		return;
	}
	tls_read_all(c);
}

int conn_init(conn *c, uv_loop_t *loop, void *owner, conn_read_fn on_read_fn, conn_event_fn on_event)
{
	memset(c, 0, sizeof(*c));
	c->owner = owner;
	c->on_read = on_read_fn;
	c->on_event = on_event;
	if (uv_tcp_init(loop, &c->tcp) != 0)
		return -1;
	c->tcp.data = c;
	return 0;
}

static void on_connect(uv_connect_t *req, int status)
{
	conn *c = req->handle->data;
	if (c->closing)
		return;
	if (status == 0)
		uv_tcp_nodelay(&c->tcp, 1);
	c->on_event(c, CONN_CONNECTED, status);
}

int conn_connect(conn *c, const struct sockaddr *addr)
{
	return uv_tcp_connect(&c->connect_req, &c->tcp, addr, on_connect) == 0 ? 0 : -1;
}

void conn_read_start(conn *c)
{
	if (c->reading || c->closing)
		return;
	c->reading = 1;
	uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

void conn_drain(conn *c)
{
	if (c->reading && !c->closing && c->ssl && c->tls_ready &&
	    (SSL_pending(c->ssl) > 0 || BIO_ctrl_pending(c->rbio) > 0))
		tls_read_all(c);
}

void conn_read_stop(conn *c)
{
	if (!c->reading)
		return;
	c->reading = 0;
	uv_read_stop((uv_stream_t *)&c->tcp);
}

static int tls_begin(conn *c, SSL_CTX *ctx)
{
	c->ssl = SSL_new(ctx);
	c->rbio = BIO_new(BIO_s_mem());
	c->wbio = BIO_new(BIO_s_mem());
	if (!c->ssl || !c->rbio || !c->wbio)
		return -1;
	SSL_set_bio(c->ssl, c->rbio, c->wbio);
	return 0;
}

int conn_tls_server(conn *c, SSL_CTX *ctx)
{
	if (tls_begin(c, ctx) != 0)
		return -1;
	SSL_set_accept_state(c->ssl);
	return 0;
}

int conn_tls_client(conn *c, SSL_CTX *ctx, const char *host, int verify)
{
	if (tls_begin(c, ctx) != 0)
		return -1;
	if (tls_client_set_host(c->ssl, host, verify) != 0)
		return -1;
	SSL_set_connect_state(c->ssl);
	int rc = SSL_do_handshake(c->ssl);
	(void)rc;
	tls_flush(c);
	return 0;
}

void conn_write(conn *c, chunk *ch, size_t off, size_t len)
{
	if (c->closing || len == 0)
		return;
	if (!c->ssl) {
		raw_write(c, ch, off, len);
		return;
	}
	while (len > 0) {
		int n = SSL_write(c->ssl, ch->data + off, (int)(len > 1 << 30 ? 1 << 30 : len));
		if (n <= 0) {
			tls_flush(c);
			tls_fail(c, "TLS write failed");
			return;
		}
		off += (size_t)n;
		len -= (size_t)n;
	}
	tls_flush(c);
}

void conn_write_copy(conn *c, const void *p, size_t len)
{
	chunk *ch = chunk_new(len);
	memcpy(ch->data, p, len);
	conn_write(c, ch, 0, len);
	chunk_unref(ch);
}

size_t conn_write_queued(const conn *c)
{
	return c->tcp.write_queue_size;
}

static void on_closed(uv_handle_t *h)
{
	conn *c = h->data;
	if (c->ssl)
		SSL_free(c->ssl); /* frees both BIOs */
	c->ssl = NULL;
	c->on_event(c, CONN_CLOSED, 0);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
	conn *c = req->handle->data;
	(void)status;
	uv_close((uv_handle_t *)&c->tcp, on_closed);
}

/*
 * A last small reply (an ErrorResponse) may still be queued: let it drain
 * with a shutdown before closing. A large backlog means the peer is not
 * reading, and is dropped.
 */
void conn_close(conn *c)
{
	if (c->closing)
		return;
	c->closing = 1;
	if (c->reading)
		uv_read_stop((uv_stream_t *)&c->tcp);
	c->reading = 0;
	if (c->ssl && c->tls_ready) {
		SSL_shutdown(c->ssl);
		tls_flush(c);
	}
	if (c->tcp.write_queue_size > 0 && c->tcp.write_queue_size <= 65536 &&
	    uv_shutdown(&c->shutdown_req, (uv_stream_t *)&c->tcp, on_shutdown) == 0)
		return;
	uv_close((uv_handle_t *)&c->tcp, on_closed);
}

int conn_peer_name(conn *c, char *out, size_t outlen)
{
	struct sockaddr_storage ss;
	int len = sizeof(ss);
	if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) != 0)
		return -1;
	char ip[64];
	int port;
	if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		uv_ip6_name(a, ip, sizeof(ip));
		port = ntohs(a->sin6_port);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		uv_ip4_name(a, ip, sizeof(ip));
		port = ntohs(a->sin_port);
	}
	snprintf(out, outlen, "%s:%d", ip, port);
	return 0;
}
