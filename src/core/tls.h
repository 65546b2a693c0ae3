/*
 * tls — OpenSSL contexts: the client-facing server context (with a
 * self-signed certificate generated into data_dir in `auto` mode) and one
 * client context per target sslmode. Contexts are built once at start and
 * shared read-only by every worker.
 */
#ifndef WARDEN_TLS_H
#define WARDEN_TLS_H

#include <openssl/ssl.h>

#include "core/config.h"

/* NULL with a message in err when TLS is off or on error (err[0] != 0 then). */
SSL_CTX *tls_server_ctx(const warden_config *cfg, char *err, size_t errlen);
/* Client context for one target connection. */
SSL_CTX *tls_client_ctx(const config_connection *conn, char *err, size_t errlen);
/* Configures hostname/IP verification on a new client SSL for verify-full. */
int tls_client_set_host(SSL *ssl, const char *host, int verify) __attribute__((warn_unused_result));

#endif
