/*
 * conn — the byte mover: one TCP socket on a worker loop, optionally wrapped
 * in TLS through OpenSSL memory BIOs. It knows nothing about protocols.
 *
 * Reads are delivered as chunks (ownership of one reference passes to the
 * owner). Plain writes send the caller's chunk bytes as they are, holding a
 * reference until the kernel has them: forwarding never copies. TLS writes
 * encrypt into a fresh chunk. A conn never frees itself inside a callback:
 * conn_close() ends with CONN_CLOSED from libuv's close callback, after
 * which the owner may free the memory the conn lives in.
 */
#ifndef WARDEN_CONN_H
#define WARDEN_CONN_H

#include <openssl/ssl.h>
#include <uv.h>

#include "core/buf.h"

enum conn_event {
	CONN_CONNECTED,  /* status 0 or a libuv error */
	CONN_TLS_READY,  /* handshake finished */
	CONN_WRITTEN,    /* a write completed; check conn_write_queued() */
	CONN_EOF,        /* peer closed its side */
	CONN_ERROR,      /* status: libuv error, or CONN_ERR_TLS with conn->err set */
	CONN_CLOSED,     /* the handle is closed: owner may free */
};

#define CONN_ERR_TLS (-100000)

typedef struct conn conn;
typedef void (*conn_read_fn)(conn *c, chunk *ch);
typedef void (*conn_event_fn)(conn *c, enum conn_event ev, int status);

struct conn {
	uv_tcp_t tcp;
	uv_connect_t connect_req;
	uv_shutdown_t shutdown_req;
	SSL *ssl;
	BIO *rbio, *wbio;
	int tls_ready;
	int reading;
	int closing;
	void *owner;
	conn_read_fn on_read;
	conn_event_fn on_event;
	char err[160];
};

int conn_init(conn *c, uv_loop_t *loop, void *owner, conn_read_fn on_read, conn_event_fn on_event)
	__attribute__((warn_unused_result));
int conn_connect(conn *c, const struct sockaddr *addr) __attribute__((warn_unused_result));
void conn_read_start(conn *c);
void conn_read_stop(conn *c);
/*
 * With TLS, records that arrived while reading was stopped wait inside
 * OpenSSL and no socket event will announce them: after conn_read_start, the
 * owner calls conn_drain from a context where on_read may run (not from
 * inside its own on_read).
 */
void conn_drain(conn *c);

/* Begin TLS on an established socket. Client side verifies per `verify`. */
int conn_tls_server(conn *c, SSL_CTX *ctx) __attribute__((warn_unused_result));
int conn_tls_client(conn *c, SSL_CTX *ctx, const char *host, int verify)
	__attribute__((warn_unused_result));

/* Send ch->data[off, off+len). Takes its own reference. */
void conn_write(conn *c, chunk *ch, size_t off, size_t len);
/* Copy and send. */
void conn_write_copy(conn *c, const void *p, size_t len);
size_t conn_write_queued(const conn *c);

void conn_close(conn *c);
int conn_peer_name(conn *c, char *out, size_t outlen);

#endif
