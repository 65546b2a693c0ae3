/*
 * http — the one small HTTP client warden needs (OIDC discovery, JWKS, the
 * device flow): libcurl, blocking, never on a worker loop. Redirects are not
 * followed, only http and https are spoken, answers are capped at 1 MiB.
 */
#ifndef WARDEN_HTTP_H
#define WARDEN_HTTP_H

#include <stddef.h>

#include "core/buf.h"

/*
 * GET url (form NULL) or POST form (application/x-www-form-urlencoded).
 * Returns 0 with the HTTP status in *status and the body (NUL-terminated) in
 * out, or -1 with err when no answer came. ca_file: CA bundle, NULL = system.
 */
int http_call(const char *url, const char *form, const char *ca_file, long *status, buf *out,
	      char *err, size_t errlen) __attribute__((warn_unused_result));

/* Any method, a JSON body, a bearer credential: the CLI's calls to the admin API. */
typedef struct http_req {
	const char *method;     /* "GET", "POST", "DELETE" */
	const char *url;
	const char *json;       /* request body (Content-Type: application/json), or NULL */
	const char *bearer;     /* Authorization: Bearer ..., or NULL (never logged) */
	const char *ca_file;    /* CA bundle, NULL = system store */
	int insecure;           /* do not verify the server's certificate (local testing) */
} http_req;

int http_request(const http_req *r, long *status, buf *out, char *err, size_t errlen)
	__attribute__((warn_unused_result));

#endif
