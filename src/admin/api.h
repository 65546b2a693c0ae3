/*
 * api — the admin API (reviews, grants, whoami) on `listen.admin`; see api.c
 * for the routes. Off when listen.admin is not configured.
 */
#ifndef WARDEN_ADMIN_API_H
#define WARDEN_ADMIN_API_H

#include <openssl/ssl.h>
#include <stddef.h>

#include "core/config.h"

/* Starts the server (tls: the client-facing context, or NULL for plain HTTP). */
int admin_api_start(const warden_config *cfg, SSL_CTX *tls, char *err, size_t errlen)
	__attribute__((warn_unused_result));
void admin_api_stop(void);

#endif
