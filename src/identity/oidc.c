/*
 * oidc — see oidc.h.
 *
 * Owns: the current key set (under a reader/writer lock: workers read it to
 * verify, the fetcher swaps it), the fetcher thread and its wake-up queue of
 * sessions waiting for a refresh.
 *
 * Invariants: a key set, once published, is never modified, only replaced;
 * a failed fetch never empties the key set; waiters are always answered,
 * whatever the fetch did.
 */
#include "identity/oidc.h"

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uv.h>

#include "core/buf.h"
#include "core/http.h"
#include "core/log.h"
#include "core/util.h"


typedef struct waiter {
	struct waiter *next;
	mailbox *mb;
	mailbox_fn done;
	void *arg;
} waiter;

static struct {
	int enabled;
	const config_oidc *cfg;
	uv_rwlock_t keys_lock;
	jwt_keyset *keys;           /* under keys_lock */

	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t thread;
	int running, stopping, refresh_wanted;
	int fetching;               /* a fetch is under way: waiters join it */
	time_t last_fetch;          /* wall clock of the last attempt */
	waiter *waiters;
} O = {.lock = PTHREAD_MUTEX_INITIALIZER};

int oidc_enabled(void)
{
	return O.enabled;
}

int oidc_looks_like_jwt(const char *s, size_t len)
{
	int dots = 0;
	for (size_t i = 0; i < len; i++) {
		char ch = s[i];
		if (ch == '.')
			dots++;
		else if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
			   ch == '-' || ch == '_'))
			return 0;
	}
	return dots == 2 && len > 16;
}

/* ---- fetching ---- */

static int http_get(const char *url, buf *out, char *err, size_t errlen)
{
	long status;
	if (http_call(url, NULL, O.cfg->ca_file, &status, out, err, errlen) != 0)
		return -1;
	if (status != 200) {
		snprintf(err, errlen, "GET %s: HTTP status %ld", url, status);
		return -1;
	}
	return 0;
}

/* Discovery, then the JWKS. Returns a new key set or NULL with err. */
static jwt_keyset *fetch_keys(char *err, size_t errlen)
{
	const char *issuer = O.cfg->issuer;
	size_t n = strlen(issuer);
	char url[1024];
	snprintf(url, sizeof(url), "%.*s/.well-known/openid-configuration",
		 (int)(n && issuer[n - 1] == '/' ? n - 1 : n), issuer);
	buf doc = {0}, jwks = {0};
	jwt_keyset *ks = NULL;
	json_t *d = NULL;
	if (http_get(url, &doc, err, errlen) != 0)
		goto out;
	json_error_t jerr;
	d = json_loadb(doc.data, doc.len, 0, &jerr);
	const char *iss = json_string_value(json_object_get(d, "issuer"));
	const char *jwks_uri = json_string_value(json_object_get(d, "jwks_uri"));
	if (!d || !iss || !jwks_uri) {
		snprintf(err, errlen, "%s: not a discovery document (issuer and jwks_uri are required)", url);
		goto out;
	}
	if (strcmp(iss, issuer) != 0) {
		snprintf(err, errlen, "%s names issuer \"%s\", not the configured \"%s\"", url, iss, issuer);
		goto out;
	}
	if (http_get(jwks_uri, &jwks, err, errlen) != 0)
		goto out;
	char why[256];
	ks = jwt_keyset_parse(jwks.data, jwks.len, why, sizeof(why));
	if (!ks)
		snprintf(err, errlen, "%s: %s", jwks_uri, why);
out:
	json_decref(d);
	buf_free(&doc);
	buf_free(&jwks);
	return ks;
}

static void answer_waiters(waiter *w)
{
	while (w) {
		waiter *next = w->next;
		mailbox_post(w->mb, w->done, w->arg, 0);
		free(w);
		w = next;
	}
}

static void *fetcher_main(void *unused)
{
	(void)unused;
	pthread_mutex_lock(&O.lock);
	int first = 1;
	while (!O.stopping) {
		if (!first && !O.refresh_wanted) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += O.cfg->jwks_refresh_s;
			int rc = 0;
			while (!O.stopping && !O.refresh_wanted && rc == 0)
				rc = pthread_cond_timedwait(&O.wake, &O.lock, &ts);
			if (O.stopping)
				break;
		}
		first = 0;
		O.refresh_wanted = 0;
		O.fetching = 1;
		O.last_fetch = time(NULL);
		pthread_mutex_unlock(&O.lock);

		char err[512];
		jwt_keyset *ks = fetch_keys(err, sizeof(err));
		if (ks) {
			uv_rwlock_wrlock(&O.keys_lock);
			jwt_keyset *old = O.keys;
			O.keys = ks;
			uv_rwlock_wrunlock(&O.keys_lock);
			jwt_keyset_free(old);
			log_info("oidc: %zu signing keys from %s", jwt_keyset_count(ks), O.cfg->issuer);
		} else {
			log_warn("oidc: key refresh failed (keeping the previous keys): %s", err);
		}

		pthread_mutex_lock(&O.lock);
		O.fetching = 0;
		waiter *w = O.waiters;
		O.waiters = NULL;
		pthread_mutex_unlock(&O.lock);
		answer_waiters(w);
		pthread_mutex_lock(&O.lock);
	}
	waiter *w = O.waiters;
	O.waiters = NULL;
	pthread_mutex_unlock(&O.lock);
	answer_waiters(w);
	return NULL;
}

int oidc_start(const warden_config *cfg)
{
	if (!cfg->oidc_enabled)
		return 0;
	O.cfg = &cfg->oidc;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0 || uv_rwlock_init(&O.keys_lock) != 0 ||
	    pthread_cond_init(&O.wake, NULL) != 0)
		return -1;
	O.stopping = 0;
	O.running = 1;
	if (pthread_create(&O.thread, NULL, fetcher_main, NULL) != 0) {
		O.running = 0;
		return -1;
	}
	O.enabled = 1;
	return 0;
}

void oidc_stop(void)
{
	if (!O.running)
		return;
	pthread_mutex_lock(&O.lock);
	O.stopping = 1;
	pthread_cond_signal(&O.wake);
	pthread_mutex_unlock(&O.lock);
	pthread_join(O.thread, NULL);
	O.running = 0;
	O.enabled = 0;
	jwt_keyset_free(O.keys);
	O.keys = NULL;
	uv_rwlock_destroy(&O.keys_lock);
	pthread_cond_destroy(&O.wake);
	curl_global_cleanup();
}

void oidc_refresh_then(mailbox *mb, mailbox_fn done, void *arg)
{
	pthread_mutex_lock(&O.lock);
	/* joining a fetch under way (the first one at start, say) is always allowed */
	int allowed = O.running && !O.stopping &&
		      (O.fetching || O.refresh_wanted || O.waiters ||
		       time(NULL) - O.last_fetch >= OIDC_MIN_REFRESH_S);
	if (allowed) {
		waiter *w = util_xmalloc(sizeof(*w));
		w->mb = mb;
		w->done = done;
		w->arg = arg;
		w->next = O.waiters;
		O.waiters = w;
		O.refresh_wanted = 1;
		pthread_cond_signal(&O.wake);
	}
	pthread_mutex_unlock(&O.lock);
	if (!allowed)
		mailbox_post(mb, done, arg, -1);
}

jwt_status oidc_verify(const char *token, size_t len, jwt_identity *out, char *err, size_t errlen)
{
	const config_oidc *c = O.cfg;
	jwt_policy p = {
		.issuer = c->issuer,
		.audience = c->audience,
		.username_claim = c->username_claim,
		.groups_claim = c->groups_claim,
		.allowed_algs = (c->allowed_algs & CONFIG_ALG_RS256 ? JWT_ALG_RS256 : 0) |
				(c->allowed_algs & CONFIG_ALG_ES256 ? JWT_ALG_ES256 : 0) |
				(c->allowed_algs & CONFIG_ALG_EDDSA ? JWT_ALG_EDDSA : 0),
		.leeway_s = c->leeway_s > 0 ? c->leeway_s : -1, /* jwt: 0 would mean its default */
	};
	uv_rwlock_rdlock(&O.keys_lock);
	jwt_status st;
	if (!O.keys) {
		snprintf(err, errlen, "the identity provider's signing keys are not known yet");
		st = JWT_UNKNOWN_KID;
	} else {
		st = jwt_verify(token, len, O.keys, &p, out, err, errlen);
	}
	uv_rwlock_rdunlock(&O.keys_lock);
	return st;
}
