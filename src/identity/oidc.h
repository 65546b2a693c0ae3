/*
 * oidc — the identify stage for OpenID Connect tokens: the issuer's signing
 * keys, fetched and kept fresh off the worker loops, and token verification
 * against them.
 *
 * One fetcher thread (libcurl) reads the discovery document and the JWKS at
 * start, every identity.oidc.jwks_refresh_s, and when a token names a key id
 * it does not know (at most once per OIDC_MIN_REFRESH_S). Workers verify
 * tokens on their own loop against the current key set (signature checks are
 * microseconds); a failed fetch keeps the previous key set, so an identity
 * provider outage stops no session and no token whose key is known.
 */
#ifndef WARDEN_OIDC_H
#define WARDEN_OIDC_H

#include <stddef.h>

#include "core/config.h"
#include "core/mailbox.h"
#include "identity/jwt.h"

#define OIDC_MIN_REFRESH_S 10

int oidc_start(const warden_config *cfg) __attribute__((warn_unused_result));
void oidc_stop(void);
int oidc_enabled(void);

/* Verifies a token with the current keys. err gets a precise reason on failure. */
jwt_status oidc_verify(const char *token, size_t len, jwt_identity *out, char *err, size_t errlen);

/*
 * Asks for a key refresh (rate-limited) and calls done(arg, 0) on mb's loop
 * once the attempt is over (done(arg, -1) when no attempt was allowed).
 */
void oidc_refresh_then(mailbox *mb, mailbox_fn done, void *arg);

/* True when s looks like a compact JWS (three base64url parts): tokens and API keys share the password. */
int oidc_looks_like_jwt(const char *s, size_t len);

#endif
