/*
 * tokens — the developer side of OIDC sign-in: the tokens `warden login`
 * obtained (OAuth 2.0 Device Authorization Grant, RFC 8628), kept in
 * ~/.config/warden/tokens.json (mode 0600; $WARDEN_CONFIG_HOME overrides the
 * directory), and refreshed with the refresh token when they expire.
 */
#ifndef WARDEN_TOKENS_H
#define WARDEN_TOKENS_H

#include <stddef.h>

/*
 * Runs the device flow against issuer (discovery at
 * <issuer>/.well-known/openid-configuration) for client_id, asking for scope
 * "openid offline_access" and, when resource is not NULL, that resource
 * indicator (RFC 8707). Prints the verification URL and user code to stderr,
 * polls the token endpoint as the provider asks (interval, slow_down), stores
 * the tokens. Returns 0, or -1 with a message in err.
 */
int tokens_login(const char *issuer, const char *client_id, const char *resource, char *err,
		 size_t errlen) __attribute__((warn_unused_result));

/*
 * A currently valid access token (at least 30 s left), refreshing it with the
 * stored refresh token when needed (and storing the new tokens). Returns 0,
 * or -1 with a message telling the user to run `warden login`.
 */
int tokens_current(char *out, size_t outlen, char *err, size_t errlen) __attribute__((warn_unused_result));

/* The stored access token's claims (not verified: the gateway verifies), as pretty JSON text (malloc'd). */
char *tokens_describe(char *err, size_t errlen);

#endif
