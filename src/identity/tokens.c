/*
 * tokens — see tokens.h.
 *
 * Owns: the token file ($WARDEN_CONFIG_HOME/tokens.json, default
 * ~/.config/warden/tokens.json) and the HTTP exchanges with the identity
 * provider that fill it (discovery, device authorization, token endpoint).
 *
 * Invariants:
 *  - the file is only ever replaced whole (temp file in the same directory,
 *    fsync, rename), mode 0600 in a 0700 directory; a reader never sees half
 *    a file;
 *  - load, refresh and store happen under an exclusive lock (tokens.lock
 *    beside the file): refresh tokens rotate and the provider revokes the
 *    whole grant when one is presented twice, so two concurrent
 *    `warden login --print-token` must not both redeem the same one;
 *  - token payloads are decoded here only to show them; the gateway is what
 *    verifies them;
 *  - no token ever goes into an error message.
 */
#include "identity/tokens.h"

#include "core/http.h"
#include "core/util.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"

#define TOKENS_MIN_LEFT_S 30
#define TOKENS_SCOPE "openid offline_access"
#define TOKENS_DEVICE_GRANT "urn:ietf:params:oauth:grant-type:device_code"
#define TOKENS_DEFAULT_INTERVAL_S 5
#define TOKENS_DEFAULT_DEVICE_TTL_S 600
#define TOKENS_MIN_POLL_MS 100
#define TOKENS_MAX_TRANSPORT_RETRIES 3

/* ---- paths and the lock ---- */

/* The directory holding tokens.json. 0, or -1 with err. */
static int config_dir(char *out, size_t outlen, char *err, size_t errlen)
{
	const char *home = getenv("WARDEN_CONFIG_HOME");
	int n;
	if (home && home[0]) {
		n = snprintf(out, outlen, "%s", home);
	} else {
		home = getenv("HOME");
		if (!home || !home[0]) {
			snprintf(err, errlen, "neither WARDEN_CONFIG_HOME nor HOME is set: where should the tokens go?");
			return -1;
		}
		n = snprintf(out, outlen, "%s/.config/warden", home);
	}
	if (n < 0 || (size_t)n >= outlen) {
		snprintf(err, errlen, "the configuration directory path is too long");
		return -1;
	}
	while (n > 1 && out[n - 1] == '/')
		out[--n] = '\0';
	return 0;
}

static int path_in(char *out, size_t outlen, const char *dir, const char *name, char *err, size_t errlen)
{
	int n = snprintf(out, outlen, "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= outlen) {
		snprintf(err, errlen, "the path %s/%s is too long", dir, name);
		return -1;
	}
	return 0;
}

/* Takes the exclusive lock on <dir>/tokens.lock; returns the fd, or -1 with err. */
static int lock_dir(const char *dir, char *err, size_t errlen)
{
	char path[PATH_MAX];
	if (path_in(path, sizeof(path), dir, "tokens.lock", err, errlen) != 0)
		return -1;
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	while (flock(fd, LOCK_EX) != 0) {
		if (errno == EINTR)
			continue;
		snprintf(err, errlen, "cannot lock %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static void unlock_dir(int fd)
{
	if (fd >= 0)
		close(fd); /* releases the flock */
}

/* ---- HTTP ---- */


/*
 * Plain HTTP is accepted only to a loopback host (a provider on this
 * machine, as in the tests): anywhere else the tokens would cross the network
 * in the clear.
 */
static int url_allowed(const char *url)
{
	if (strncmp(url, "https://", 8) == 0)
		return 1;
	static const char *const loopback[] = {"http://127.0.0.1", "http://localhost", "http://[::1]"};
	for (size_t i = 0; i < sizeof(loopback) / sizeof(loopback[0]); i++) {
		size_t n = strlen(loopback[i]);
		if (strncmp(url, loopback[i], n) == 0 && (url[n] == ':' || url[n] == '/' || url[n] == '\0'))
			return 1;
	}
	return 0;
}

/*
 * GET url (form NULL) or POST form (application/x-www-form-urlencoded) to it.
 * Returns 0 with the HTTP status in *status and the body (NUL-terminated) in
 * out, or -1 with err when no answer came.
 */
static int call(const char *url, const char *form, long *status, buf *out, char *err, size_t errlen)
{
	*status = 0;
	if (!url_allowed(url)) {
		snprintf(err, errlen, "refusing %s: only https:// (or http:// to this machine) may carry tokens",
			 url);
		return -1;
	}
	return http_call(url, form, NULL, status, out, err, errlen);
}

/* Appends name=value (value URL-encoded) to a form body. */
static void form_add(buf *form, const char *name, const char *value)
{
	char *enc = curl_easy_escape(NULL, value, 0);
	if (!enc) {
		fprintf(stderr, "warden: out of memory\n");
		abort();
	}
	if (form->len)
		buf_append(form, "&", 1);
	buf_append(form, name, strlen(name));
	buf_append(form, "=", 1);
	buf_append(form, enc, strlen(enc));
	buf_append(form, "", 1);
	form->len--;
	curl_free(enc);
}

/*
 * POSTs form to url and parses the JSON answer. Returns the object (any
 * status: OAuth errors come as 400 with {"error": ...}) with the status in
 * *status, or NULL with err when there is no JSON object to read.
 */
static json_t *post_json(const char *url, const buf *form, long *status, char *err, size_t errlen)
{
	buf body = {0};
	json_t *j = NULL;
	if (call(url, form->data, status, &body, err, errlen) == 0) {
		json_error_t jerr;
		j = json_loadb(body.data ? body.data : "", body.len, 0, &jerr);
		if (!json_is_object(j)) {
			json_decref(j);
			j = NULL;
			snprintf(err, errlen, "POST %s: HTTP status %ld without a JSON answer", url, *status);
		}
	}
	buf_free(&body);
	return j;
}

/* "error: description" of an OAuth error answer, into out. */
static void oauth_error(const json_t *j, long status, char *out, size_t outlen)
{
	const char *e = json_string_value(json_object_get(j, "error"));
	const char *d = json_string_value(json_object_get(j, "error_description"));
	if (e && d)
		snprintf(out, outlen, "%s (%s)", e, d);
	else if (e)
		snprintf(out, outlen, "%s", e);
	else
		snprintf(out, outlen, "HTTP status %ld", status);
}

typedef struct endpoints {
	char *token;
	char *device;   /* NULL when the provider has no device flow */
} endpoints;

static void endpoints_free(endpoints *e)
{
	free(e->token);
	free(e->device);
	e->token = e->device = NULL;
}

/* Reads <issuer>/.well-known/openid-configuration; its issuer must be ours. */
static int discover(const char *issuer, endpoints *ep, char *err, size_t errlen)
{
	memset(ep, 0, sizeof(*ep));
	size_t n = strlen(issuer);
	char url[2048];
	int w = snprintf(url, sizeof(url), "%.*s/.well-known/openid-configuration",
			 (int)(n && issuer[n - 1] == '/' ? n - 1 : n), issuer);
	if (w < 0 || (size_t)w >= sizeof(url)) {
		snprintf(err, errlen, "the issuer URL is too long");
		return -1;
	}
	buf body = {0};
	json_t *d = NULL;
	long status = 0;
	int rc = -1;
	char why[768];
	if (call(url, NULL, &status, &body, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "cannot reach the identity provider %s: %s", issuer, why);
		goto out;
	}
	if (status != 200) {
		snprintf(err, errlen, "%s is not an OpenID Connect issuer: %s answered HTTP status %ld", issuer, url,
			 status);
		goto out;
	}
	json_error_t jerr;
	d = json_loadb(body.data, body.len, 0, &jerr);
	const char *iss = json_string_value(json_object_get(d, "issuer"));
	const char *token = json_string_value(json_object_get(d, "token_endpoint"));
	const char *device = json_string_value(json_object_get(d, "device_authorization_endpoint"));
	if (!iss || !token) {
		snprintf(err, errlen, "%s is not an OpenID Connect issuer: %s is not a discovery document", issuer,
			 url);
		goto out;
	}
	/* a trailing slash is the only difference tolerated */
	size_t il = strlen(iss), ml = n;
	while (il && iss[il - 1] == '/')
		il--;
	while (ml && issuer[ml - 1] == '/')
		ml--;
	if (il != ml || strncmp(iss, issuer, il) != 0) {
		snprintf(err, errlen, "wrong issuer: %s names issuer \"%s\", not \"%s\"", url, iss, issuer);
		goto out;
	}
	ep->token = strdup(token);
	ep->device = device ? strdup(device) : NULL;
	if (!ep->token || (device && !ep->device)) {
		snprintf(err, errlen, "out of memory");
		endpoints_free(ep);
		goto out;
	}
	rc = 0;
out:
	json_decref(d);
	buf_free(&body);
	return rc;
}

/* ---- token payloads ---- */

/* The payload of a JWT as a JSON object (not verified), or NULL. */
static json_t *jwt_payload(const char *token)
{
	const char *a = token ? strchr(token, '.') : NULL;
	const char *b = a ? strchr(a + 1, '.') : NULL;
	if (!a || !b || b - a - 1 <= 0 || b - a - 1 > 65536)
		return NULL;
	size_t n = (size_t)(b - a - 1);
	size_t padded = (n + 3) / 4 * 4;
	unsigned char *std = malloc(padded + 1), *dec = malloc(padded / 4 * 3 + 1);
	json_t *j = NULL;
	if (!std || !dec)
		goto out;
	for (size_t i = 0; i < n; i++) {
		char c = a[1 + i];
		std[i] = (unsigned char)(c == '-' ? '+' : c == '_' ? '/' : c);
	}
	for (size_t i = n; i < padded; i++)
		std[i] = '=';
	std[padded] = '\0';
	int got = EVP_DecodeBlock(dec, std, (int)padded);
	if (got < 0)
		goto out;
	size_t len = (size_t)got - (padded - n); /* EVP_DecodeBlock counts the padding as zero bytes */
	json_error_t jerr;
	j = json_loadb((const char *)dec, len, 0, &jerr);
	if (!json_is_object(j)) {
		json_decref(j);
		j = NULL;
	}
out:
	free(std);
	free(dec);
	return j;
}

/* ---- the token file ---- */

static int store_tokens(const char *dir, json_t *doc, char *err, size_t errlen)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	if (path_in(path, sizeof(path), dir, "tokens.json", err, errlen) != 0 ||
	    path_in(tmp, sizeof(tmp), dir, ".tokens.json.XXXXXX", err, errlen) != 0)
		return -1;
	char *text = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (!text) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	int fd = mkstemp(tmp); /* 0600 */
	if (fd < 0) {
		snprintf(err, errlen, "cannot create a file in %s: %s", dir, strerror(errno));
		free(text);
		return -1;
	}
	size_t len = strlen(text), off = 0;
	int rc = fchmod(fd, 0600);
	while (rc == 0 && off < len) {
		ssize_t w = write(fd, text + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			rc = -1;
		else
			off += (size_t)w;
	}
	if (rc == 0 && write(fd, "\n", 1) != 1)
		rc = -1;
	if (rc == 0)
		rc = fsync(fd);
	int saved = errno;
	if (close(fd) != 0 && rc == 0) {
		rc = -1;
		saved = errno;
	}
	free(text);
	if (rc == 0 && rename(tmp, path) != 0) {
		rc = -1;
		saved = errno;
	}
	if (rc != 0) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(saved));
		unlink(tmp);
		return -1;
	}
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		(void)fsync(dfd); /* the rename itself; the data is already safe */
		close(dfd);
	}
	return 0;
}

/* Loads tokens.json: the object, or NULL with err (saying to sign in). */
static json_t *load_tokens(const char *dir, char *err, size_t errlen)
{
	char path[PATH_MAX];
	if (path_in(path, sizeof(path), dir, "tokens.json", err, errlen) != 0)
		return NULL;
	struct stat st;
	if (stat(path, &st) == 0 && (st.st_mode & 077)) {
		snprintf(err, errlen, "%s is readable by others (mode %03o): its tokens may have leaked; "
			 "run chmod 600 %s, or delete it and run warden login",
			 path, (unsigned)(st.st_mode & 0777), path);
		return NULL;
	}
	json_error_t jerr;
	json_t *doc = json_load_file(path, 0, &jerr);
	if (!doc) {
		if (access(path, F_OK) != 0)
			snprintf(err, errlen, "not signed in: run warden login");
		else
			snprintf(err, errlen, "%s is unreadable (%s): run warden login", path, jerr.text);
		return NULL;
	}
	if (!json_is_object(doc) || !json_string_value(json_object_get(doc, "issuer")) ||
	    !json_string_value(json_object_get(doc, "client_id")) ||
	    !json_string_value(json_object_get(doc, "access_token"))) {
		snprintf(err, errlen, "%s lacks issuer, client_id or access_token: run warden login", path);
		json_decref(doc);
		return NULL;
	}
	return doc;
}

/*
 * Moves a token endpoint answer into doc: access_token (required),
 * refresh_token and id_token when given (the refresh token rotates: a new one
 * always replaces the old), expires_at from expires_in or else the access
 * token's exp.
 */
static int take_token_answer(json_t *doc, const json_t *ans, char *err, size_t errlen)
{
	const char *at = json_string_value(json_object_get(ans, "access_token"));
	if (!at || !at[0]) {
		snprintf(err, errlen, "the token endpoint answered without an access_token");
		return -1;
	}
	json_object_set_new(doc, "access_token", json_string(at));
	const char *rt = json_string_value(json_object_get(ans, "refresh_token"));
	if (rt)
		json_object_set_new(doc, "refresh_token", json_string(rt));
	const char *it = json_string_value(json_object_get(ans, "id_token"));
	if (it)
		json_object_set_new(doc, "id_token", json_string(it));
	json_int_t expires_at = 0;
	json_t *ei = json_object_get(ans, "expires_in");
	if (json_is_integer(ei) && json_integer_value(ei) > 0) {
		expires_at = (json_int_t)time(NULL) + json_integer_value(ei);
	} else {
		json_t *p = jwt_payload(at);
		if (json_is_integer(json_object_get(p, "exp")))
			expires_at = json_integer_value(json_object_get(p, "exp"));
		json_decref(p);
	}
	json_object_set_new(doc, "expires_at", json_integer(expires_at));
	return 0;
}

/* ---- login ---- */

static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* WARDEN_LOGIN_POLL_MS (tests), at least TOKENS_MIN_POLL_MS; 0 when unset. */
static long poll_override_ms(void)
{
	const char *s = getenv("WARDEN_LOGIN_POLL_MS");
	if (!s || !s[0])
		return 0;
	char *end;
	long v = strtol(s, &end, 10);
	if (*end != '\0' || v <= 0)
		return 0;
	return v < TOKENS_MIN_POLL_MS ? TOKENS_MIN_POLL_MS : v;
}

int tokens_login(const char *issuer, const char *client_id, const char *resource, char *err, size_t errlen)
{
	char dir[PATH_MAX];
	if (config_dir(dir, sizeof(dir), err, errlen) != 0)
		return -1;
	endpoints ep;
	if (discover(issuer, &ep, err, errlen) != 0)
		return -1;
	int rc = -1;
	json_t *da = NULL, *ans = NULL, *doc = NULL;
	buf form = {0};
	long status = 0;
	char why[512];
	if (!ep.device) {
		snprintf(err, errlen, "the identity provider %s offers no device authorization endpoint", issuer);
		goto out;
	}

	form_add(&form, "client_id", client_id);
	form_add(&form, "scope", TOKENS_SCOPE);
	if (resource)
		form_add(&form, "resource", resource);
	da = post_json(ep.device, &form, &status, err, errlen);
	if (!da)
		goto out;
	if (status != 200) {
		oauth_error(da, status, why, sizeof(why));
		snprintf(err, errlen, "the identity provider refused the sign-in request for client \"%s\": %s",
			 client_id, why);
		goto out;
	}
	const char *device_code = json_string_value(json_object_get(da, "device_code"));
	const char *user_code = json_string_value(json_object_get(da, "user_code"));
	const char *vuri = json_string_value(json_object_get(da, "verification_uri"));
	const char *vuri_complete = json_string_value(json_object_get(da, "verification_uri_complete"));
	if (!device_code || !user_code || !(vuri || vuri_complete)) {
		snprintf(err, errlen, "%s answered without device_code, user_code or verification_uri", ep.device);
		goto out;
	}
	json_t *iv = json_object_get(da, "interval"), *ev = json_object_get(da, "expires_in");
	long interval_ms = (json_is_integer(iv) && json_integer_value(iv) > 0 && json_integer_value(iv) < 3600)
				   ? (long)json_integer_value(iv) * 1000
				   : TOKENS_DEFAULT_INTERVAL_S * 1000;
	long over = poll_override_ms();
	if (over)
		interval_ms = over;
	time_t deadline = time(NULL) + (json_is_integer(ev) && json_integer_value(ev) > 0
						? (time_t)json_integer_value(ev)
						: TOKENS_DEFAULT_DEVICE_TTL_S);

	fprintf(stderr, "Open %s and enter the code %s\n", vuri_complete ? vuri_complete : vuri, user_code);
	fprintf(stderr, "Waiting for the sign-in to be approved...\n");
	fflush(stderr);

	form.len = 0;
	form_add(&form, "grant_type", TOKENS_DEVICE_GRANT);
	form_add(&form, "device_code", device_code);
	form_add(&form, "client_id", client_id);
	int transport_errors = 0;
	for (;;) {
		sleep_ms(interval_ms);
		if (time(NULL) >= deadline) {
			snprintf(err, errlen, "the code %s expired before the sign-in was approved: run warden login again",
				 user_code);
			goto out;
		}
		json_decref(ans);
		ans = post_json(ep.token, &form, &status, why, sizeof(why));
		if (!ans) {
			/* a provider restarting or a network blip: the device code is still good */
			if (++transport_errors > TOKENS_MAX_TRANSPORT_RETRIES) {
				snprintf(err, errlen, "polling the token endpoint failed: %s", why);
				goto out;
			}
			continue;
		}
		transport_errors = 0;
		if (status == 200)
			break;
		const char *e = json_string_value(json_object_get(ans, "error"));
		if (e && strcmp(e, "authorization_pending") == 0)
			continue;
		if (e && strcmp(e, "slow_down") == 0) {
			interval_ms += 5000; /* RFC 8628 3.5 */
			continue;
		}
		oauth_error(ans, status, why, sizeof(why));
		if (e && strcmp(e, "expired_token") == 0)
			snprintf(err, errlen, "the code %s expired before the sign-in was approved: run warden login again",
				 user_code);
		else if (e && strcmp(e, "access_denied") == 0)
			snprintf(err, errlen, "the sign-in was denied at the identity provider: %s", why);
		else
			snprintf(err, errlen, "the identity provider refused to issue tokens: %s", why);
		goto out;
	}

	doc = json_object();
	json_object_set_new(doc, "issuer", json_string(issuer));
	json_object_set_new(doc, "client_id", json_string(client_id));
	json_object_set_new(doc, "resource", resource ? json_string(resource) : json_null());
	json_object_set_new(doc, "refresh_token", json_null());
	json_object_set_new(doc, "id_token", json_null());
	if (take_token_answer(doc, ans, err, errlen) != 0)
		goto out;
	if (util_mkdir_p(dir, err, errlen) != 0)
		goto out;
	int lock = lock_dir(dir, err, errlen);
	if (lock < 0)
		goto out;
	rc = store_tokens(dir, doc, err, errlen);
	unlock_dir(lock);
out:
	json_decref(doc);
	json_decref(ans);
	json_decref(da);
	buf_free(&form);
	endpoints_free(&ep);
	return rc;
}

/* ---- current token ---- */

/* Redeems doc's refresh token; on success doc holds the new tokens. */
static int refresh(json_t *doc, char *err, size_t errlen)
{
	const char *issuer = json_string_value(json_object_get(doc, "issuer"));
	const char *client_id = json_string_value(json_object_get(doc, "client_id"));
	const char *rt = json_string_value(json_object_get(doc, "refresh_token"));
	const char *resource = json_string_value(json_object_get(doc, "resource"));
	if (!rt || !rt[0]) {
		snprintf(err, errlen, "your sign-in expired and there is no refresh token: run warden login");
		return -1;
	}
	endpoints ep;
	char why[768];
	if (discover(issuer, &ep, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "cannot refresh your sign-in (%s): run warden login when the provider is back",
			 why);
		return -1;
	}
	buf form = {0};
	form_add(&form, "grant_type", "refresh_token");
	form_add(&form, "client_id", client_id);
	form_add(&form, "refresh_token", rt);
	if (resource)
		form_add(&form, "resource", resource);
	long status = 0;
	int rc = -1;
	json_t *ans = post_json(ep.token, &form, &status, why, sizeof(why));
	if (!ans) {
		snprintf(err, errlen, "cannot refresh your sign-in (%s): run warden login", why);
	} else if (status != 200) {
		char oe[512];
		oauth_error(ans, status, oe, sizeof(oe));
		snprintf(err, errlen, "your sign-in has ended (the provider refused the refresh: %s): run warden login",
			 oe);
	} else if (take_token_answer(doc, ans, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "cannot refresh your sign-in (%s): run warden login", why);
	} else {
		rc = 0;
	}
	json_decref(ans);
	buf_free(&form);
	endpoints_free(&ep);
	return rc;
}

int tokens_current(char *out, size_t outlen, char *err, size_t errlen)
{
	char dir[PATH_MAX];
	if (config_dir(dir, sizeof(dir), err, errlen) != 0)
		return -1;
	char path[PATH_MAX];
	if (path_in(path, sizeof(path), dir, "tokens.json", err, errlen) != 0)
		return -1;
	if (access(path, F_OK) != 0) {
		snprintf(err, errlen, "not signed in: run warden login");
		return -1;
	}
	int lock = lock_dir(dir, err, errlen);
	if (lock < 0)
		return -1;
	int rc = -1;
	json_t *doc = load_tokens(dir, err, errlen); /* read under the lock: another process may have refreshed */
	if (!doc)
		goto out;
	json_t *ea = json_object_get(doc, "expires_at");
	json_int_t expires_at = json_is_integer(ea) ? json_integer_value(ea) : 0;
	if (expires_at - (json_int_t)time(NULL) < TOKENS_MIN_LEFT_S) {
		if (refresh(doc, err, errlen) != 0)
			goto out;
		if (store_tokens(dir, doc, err, errlen) != 0)
			goto out;
	}
	const char *at = json_string_value(json_object_get(doc, "access_token"));
	size_t n = strlen(at);
	if (n + 1 > outlen) {
		snprintf(err, errlen, "the access token is too long (%zu bytes)", n);
		goto out;
	}
	memcpy(out, at, n + 1);
	rc = 0;
out:
	json_decref(doc);
	unlock_dir(lock);
	return rc;
}

char *tokens_describe(char *err, size_t errlen)
{
	char dir[PATH_MAX];
	if (config_dir(dir, sizeof(dir), err, errlen) != 0)
		return NULL;
	json_t *doc = load_tokens(dir, err, errlen);
	if (!doc)
		return NULL;
	char *text = NULL;
	json_t *claims = jwt_payload(json_string_value(json_object_get(doc, "access_token")));
	if (!claims)
		snprintf(err, errlen, "the stored access token is not a JWT: run warden login");
	else if (!(text = json_dumps(claims, JSON_INDENT(2) | JSON_SORT_KEYS)))
		snprintf(err, errlen, "out of memory");
	json_decref(claims);
	json_decref(doc);
	return text;
}
