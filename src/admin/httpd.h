/*
 * httpd — the admin API's HTTP/1.1 server: one thread with its own libuv
 * loop, http-parser for the wire, TLS through core/conn when the gateway's
 * client TLS is on. It knows routes only through one handler callback and
 * answers every request with a JSON body.
 *
 * Requests are handled one at a time per connection (pipelined requests are
 * answered in order), synchronously on the server thread: a handler must not
 * block for long (no network, no disk beyond a quick lookup).
 *
 * Bad input gets a precise status and a JSON body {"error": CODE, "message":
 * TEXT} and loses nothing else: malformed request 400, header section over
 * the limit 431, body over the limit 413, unsupported Transfer-Encoding or
 * Expect 400/417, a client idle or too slow for HTTPD_IDLE_TIMEOUT_MS closed;
 * other connections are untouched.
 */
#ifndef WARDEN_HTTPD_H
#define WARDEN_HTTPD_H

#include <jansson.h>
#include <openssl/ssl.h>
#include <stddef.h>

#include "core/buf.h"

#define HTTPD_MAX_HEADER_BYTES (16 * 1024)    /* request line + headers */
#define HTTPD_MAX_BODY_BYTES (1024 * 1024)
#define HTTPD_IDLE_TIMEOUT_MS 30000          /* no complete request within this: closed */
#define HTTPD_MAX_CONNECTIONS 1024           /* more are refused with 503 and closed */

/* Every pointer in a request is valid only during the handler call. */
typedef struct httpd_request {
	const char *method;        /* "GET", "POST", "DELETE", ... */
	const char *path;          /* the URL path, percent-decoded; never NULL */
	const char *query;         /* raw query string after '?', "" when none */
	const char *authorization; /* the Authorization header, or NULL */
	const char *user_agent;    /* or NULL */
	const char *content_type;  /* or NULL */
	const char *body;          /* NUL-terminated (an extra NUL after body_len) */
	size_t body_len;
	const char *client_addr;   /* "ip:port" */
} httpd_request;

/*
 * Query parameter `name` (percent-decoded, '+' as space) into out; returns 1
 * when present. The value is cut to outlen - 1 bytes, and ends at a decoded
 * NUL; out is always NUL-terminated when outlen > 0.
 */
int httpd_query_param(const httpd_request *req, const char *name, char *out, size_t outlen);

/*
 * A handler sets *status and *body (a JSON value the server takes ownership
 * of; NULL gives an empty object). extra_headers: optional "Name: value\r\n"
 * lines (e.g. WWW-Authenticate), malloc'd, freed by the server.
 */
typedef void (*httpd_handler)(const httpd_request *req, int *status, json_t **body,
			      char **extra_headers, void *arg);

/*
 * Binds host:port (a taken port fails here, with err), then runs the server
 * thread. host is an IPv4 or IPv6 literal without brackets; port 0 picks a
 * free port (see httpd_port). tls: NULL for plain HTTP; it must outlive
 * httpd_stop. The process should ignore SIGPIPE (a client may leave while a
 * response is being written). Returns 0 or -1.
 */
int httpd_start(const char *host, int port, SSL_CTX *tls, httpd_handler handler, void *arg,
		char *err, size_t errlen) __attribute__((warn_unused_result));
/* Closes the listener and every connection, joins the thread. */
void httpd_stop(void);

/* The port the running server listens on (useful after port 0), or -1. */
int httpd_port(void);

/*
 * Test hooks, read by the next httpd_start: the idle timeout and the
 * connection limit. 0 restores HTTPD_IDLE_TIMEOUT_MS / HTTPD_MAX_CONNECTIONS.
 */
void httpd_set_idle_timeout_ms(int ms);
void httpd_set_max_connections(int n);

/* The JSON error body {"error": code, "message": message} as a new reference. */
json_t *httpd_error(const char *code, const char *message);

/*
 * The socket-free half of one connection, which the server runs for every
 * connection and the fuzzer drives directly: bytes in, the handler called for
 * each complete request, response bytes out.
 */
typedef struct httpd_parse httpd_parse;

httpd_parse *httpd_parse_new(httpd_handler handler, void *arg, const char *client_addr);
/*
 * Parses len more bytes, answering every complete request, and appends the
 * responses (including any "100 Continue") to out. Returns 1 once the
 * connection is to be closed: the last response says "Connection: close" and
 * later input is ignored. Otherwise 0.
 */
int httpd_parse_feed(httpd_parse *p, const void *data, size_t len, buf *out);
void httpd_parse_free(httpd_parse *p);

#endif
