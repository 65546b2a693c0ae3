/*
 * keystore — see keystore.h.
 *
 * Owns: the `api_keys` table (its schema and every statement on it), the
 * refresher thread and the published snapshot (replaced whole under a
 * reader/writer lock, never modified once published).
 *
 * A key is "wdn_" followed by 43 base64url characters (32 random bytes from
 * OpenSSL); the table keeps its SHA-256, the name it stands for, its groups
 * (JSON array text) and when it was created and revoked. Names are unique
 * among keys that are not revoked.
 */
#include "identity/keystore.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <uv.h>

#include "core/log.h"
#include "core/util.h"

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS api_keys ("
	" key_sha256 BLOB PRIMARY KEY, name TEXT NOT NULL, groups TEXT NOT NULL,"
	" created_us INTEGER NOT NULL, revoked_us INTEGER);"
	"CREATE UNIQUE INDEX IF NOT EXISTS api_keys_live_name ON api_keys(name) WHERE revoked_us IS NULL;";

typedef struct stored_key {
	uint8_t sha256[32];
	char *name;
	char *groups;
} stored_key;

typedef struct snapshot {
	stored_key *keys;
	size_t n;
} snapshot;

static struct {
	const char *path;
	uv_rwlock_t lock;
	snapshot *current;      /* under lock */
	pthread_mutex_t stop_lock;
	pthread_cond_t stop_wake;
	pthread_t thread;
	int running, stopping;
} K = {.stop_lock = PTHREAD_MUTEX_INITIALIZER};

static void snapshot_free(snapshot *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		free(s->keys[i].name);
		free(s->keys[i].groups);
	}
	free(s->keys);
	free(s);
}

static sqlite3 *open_db(const char *path, int create, char *err, size_t errlen)
{
	sqlite3 *db = NULL;
	int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
	if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot open the store %s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, 5000);
	if (sqlite3_exec(db, schema, NULL, NULL, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(db));
		sqlite3_close(db);
		return NULL;
	}
	return db;
}

/* Reads every live key; NULL on error. */
static snapshot *load(sqlite3 *db)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "SELECT key_sha256, name, groups FROM api_keys WHERE revoked_us IS NULL",
			       -1, &st, NULL) != SQLITE_OK)
		return NULL;
	snapshot *s = calloc(1, sizeof(*s));
	size_t cap = 0;
	int rc;
	while (s && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (sqlite3_column_bytes(st, 0) != 32)
			continue;
		if (s->n == cap) {
			cap = cap ? cap * 2 : 16;
			s->keys = util_xrealloc(s->keys, cap * sizeof(*s->keys));
		}
		stored_key *k = &s->keys[s->n++];
		memcpy(k->sha256, sqlite3_column_blob(st, 0), 32);
		k->name = util_strndup((const char *)sqlite3_column_text(st, 1), (size_t)sqlite3_column_bytes(st, 1));
		k->groups = util_strndup((const char *)sqlite3_column_text(st, 2), (size_t)sqlite3_column_bytes(st, 2));
	}
	sqlite3_finalize(st);
	return s;
}

static void *refresher_main(void *unused)
{
	(void)unused;
	char err[256];
	sqlite3 *db = NULL;
	pthread_mutex_lock(&K.stop_lock);
	while (!K.stopping) {
		pthread_mutex_unlock(&K.stop_lock);
		if (!db)
			db = open_db(K.path, 1, err, sizeof(err));
		snapshot *s = db ? load(db) : NULL;
		if (s) {
			uv_rwlock_wrlock(&K.lock);
			snapshot *old = K.current;
			K.current = s;
			uv_rwlock_wrunlock(&K.lock);
			snapshot_free(old);
		} else {
			log_warn("apikeys: cannot read the stored keys (keeping the last ones): %s",
				 db ? sqlite3_errmsg(db) : err);
		}
		pthread_mutex_lock(&K.stop_lock);
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 500 * 1000000L;   /* twice a second: revocation within a second */
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		if (!K.stopping)
			pthread_cond_timedwait(&K.stop_wake, &K.stop_lock, &ts);
	}
	pthread_mutex_unlock(&K.stop_lock);
	sqlite3_close(db);
	return NULL;
}

int keystore_start(const warden_config *cfg)
{
	if (!cfg->audit_path)
		return 0;
	K.path = cfg->audit_path;
	if (uv_rwlock_init(&K.lock) != 0 || pthread_cond_init(&K.stop_wake, NULL) != 0)
		return -1;
	K.stopping = 0;
	if (pthread_create(&K.thread, NULL, refresher_main, NULL) != 0)
		return -1;
	K.running = 1;
	return 0;
}

void keystore_stop(void)
{
	if (!K.running)
		return;
	pthread_mutex_lock(&K.stop_lock);
	K.stopping = 1;
	pthread_cond_signal(&K.stop_wake);
	pthread_mutex_unlock(&K.stop_lock);
	pthread_join(K.thread, NULL);
	K.running = 0;
	snapshot_free(K.current);
	K.current = NULL;
	uv_rwlock_destroy(&K.lock);
	pthread_cond_destroy(&K.stop_wake);
}

int keystore_identify(const char *key, size_t len, char **name, char **groups_json, uint8_t sha256[32])
{
	if (!K.running || len == 0)
		return -1;
	unsigned int dlen;
	if (EVP_Digest(key, len, sha256, &dlen, EVP_sha256(), NULL) != 1)
		return -1;
	int found = -1;
	uv_rwlock_rdlock(&K.lock);
	const snapshot *s = K.current;
	for (size_t i = 0; s && i < s->n; i++) {
		if (CRYPTO_memcmp(sha256, s->keys[i].sha256, 32) == 0 && found < 0) {
			*name = util_strndup(s->keys[i].name, strlen(s->keys[i].name));
			*groups_json = util_strndup(s->keys[i].groups, strlen(s->keys[i].groups));
			found = 0;
		}
	}
	uv_rwlock_rdunlock(&K.lock);
	return found;
}

int keystore_revoked(const uint8_t sha256[32])
{
	if (!K.running)
		return 0;
	int live = 0;
	uv_rwlock_rdlock(&K.lock);
	const snapshot *s = K.current;
	for (size_t i = 0; s && i < s->n; i++)
		if (memcmp(sha256, s->keys[i].sha256, 32) == 0)
			live = 1;
	uv_rwlock_rdunlock(&K.lock);
	return !live;
}

/* ---- CLI ---- */

static char *groups_from_csv(const char *csv)
{
	json_t *a = json_array();
	if (csv) {
		const char *p = csv;
		while (*p) {
			size_t n = strcspn(p, ",");
			if (n)
				json_array_append_new(a, json_stringn(p, n));
			p += n;
			if (*p == ',')
				p++;
		}
	}
	char *s = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	return s;
}

int keystore_cli_create(const char *db_path, const char *name, const char *groups_csv, char *key_out,
			size_t key_len, char *err, size_t errlen)
{
	uint8_t raw[32], digest[32];
	char b64[48];
	util_random(raw, sizeof(raw));
	int n = EVP_EncodeBlock((unsigned char *)b64, raw, sizeof(raw)); /* 44 chars, one '=' */
	for (int i = 0; i < n; i++)
		b64[i] = b64[i] == '+' ? '-' : b64[i] == '/' ? '_' : b64[i];
	while (n > 0 && b64[n - 1] == '=')
		n--;
	b64[n] = '\0';
	snprintf(key_out, key_len, "%s%s", KEYSTORE_PREFIX, b64);
	OPENSSL_cleanse(raw, sizeof(raw));
	unsigned int dlen;
	EVP_Digest(key_out, strlen(key_out), digest, &dlen, EVP_sha256(), NULL);
	sqlite3 *db = open_db(db_path, 1, err, errlen);
	if (!db)
		return -1;
	chmod(db_path, 0600); /* the store may be new: it is private like the audit trail */
	char *groups = groups_from_csv(groups_csv);
	sqlite3_stmt *st;
	int rc = -1;
	if (sqlite3_prepare_v2(db, "INSERT INTO api_keys (key_sha256, name, groups, created_us) VALUES (?,?,?,?)",
			       -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_blob(st, 1, digest, 32, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, groups, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, util_now_us());
		int s = sqlite3_step(st);
		if (s == SQLITE_DONE)
			rc = 0;
		else if (s == SQLITE_CONSTRAINT)
			snprintf(err, errlen, "an API key named \"%s\" already exists (revoke it first)", name);
		else
			snprintf(err, errlen, "cannot store the key: %s", sqlite3_errmsg(db));
		sqlite3_finalize(st);
	} else {
		snprintf(err, errlen, "%s", sqlite3_errmsg(db));
	}
	free(groups);
	sqlite3_close(db);
	if (rc != 0)
		OPENSSL_cleanse(key_out, key_len);
	return rc;
}

int keystore_cli_revoke(const char *db_path, const char *name, char *err, size_t errlen)
{
	sqlite3 *db = open_db(db_path, 0, err, errlen);
	if (!db)
		return -1;
	sqlite3_stmt *st;
	int rc = -1;
	if (sqlite3_prepare_v2(db, "UPDATE api_keys SET revoked_us = ? WHERE name = ? AND revoked_us IS NULL",
			       -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, util_now_us());
		sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			snprintf(err, errlen, "cannot revoke: %s", sqlite3_errmsg(db));
		else if (sqlite3_changes(db) == 0)
			snprintf(err, errlen, "no live API key named \"%s\"", name);
		else
			rc = 0;
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	return rc;
}

int keystore_cli_list(const char *db_path, char *err, size_t errlen)
{
	sqlite3 *db = open_db(db_path, 0, err, errlen);
	if (!db)
		return -1;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "SELECT name, groups, created_us, revoked_us FROM api_keys ORDER BY created_us",
			       -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s", sqlite3_errmsg(db));
		sqlite3_close(db);
		return -1;
	}
	printf("%-20s %-24s %-20s %s\n", "NAME", "GROUPS", "CREATED (UTC)", "REVOKED (UTC)");
	while (sqlite3_step(st) == SQLITE_ROW) {
		char created[32] = "-", revoked[32] = "-";
		for (int c = 2; c <= 3; c++) {
			if (sqlite3_column_type(st, c) == SQLITE_NULL)
				continue;
			time_t t = (time_t)(sqlite3_column_int64(st, c) / 1000000);
			struct tm tm;
			gmtime_r(&t, &tm);
			strftime(c == 2 ? created : revoked, 32, "%Y-%m-%d %H:%M:%S", &tm);
		}
		printf("%-20s %-24s %-20s %s\n", (const char *)sqlite3_column_text(st, 0),
		       (const char *)sqlite3_column_text(st, 1), created, revoked);
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	return 0;
}
