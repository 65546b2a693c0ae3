/*
 * gateway — the CLI's calls to a gateway's admin API (review, grant, login
 * --gateway, whoami --gateway): the caller's credential and one JSON call.
 */
#ifndef WARDEN_CLI_GATEWAY_H
#define WARDEN_CLI_GATEWAY_H

#include <jansson.h>
#include <stddef.h>

/* $WARDEN_TOKEN (a token or an API key), else a valid token from `warden login`; 0 or -1 with err. */
int cli_credential(char *out, size_t len, char *err, size_t errlen) __attribute__((warn_unused_result));

/*
 * method gateway+path (a trailing '/' of gateway ignored) with an optional
 * JSON body and bearer. 0 with the parsed answer (a 2xx JSON object) in
 * *out, or -1 with err ("the gateway answered 403: <its message>").
 */
int cli_gateway_call(const char *gateway, const char *method, const char *path, const json_t *body,
		     const char *bearer, const char *cacert, int insecure, json_t **out, char *err,
		     size_t errlen) __attribute__((warn_unused_result));

#endif
