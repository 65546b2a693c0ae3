/* pg cancel — see cancel.h. A mutex-protected hash table keyed by pid. */
#include "proto/pg/cancel.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "core/util.h"

#define CANCEL_BUCKETS 4096

typedef struct cancel_entry {
	struct cancel_entry *next;
	uint32_t pid, key;
	pg_cancel_target target;
} cancel_entry;

static cancel_entry *buckets[CANCEL_BUCKETS];
static uv_mutex_t lock;
static uv_once_t once = UV_ONCE_INIT;

static void init_lock(void)
{
	if (uv_mutex_init(&lock) != 0)
		abort();
}

static cancel_entry *find(uint32_t pid)
{
	for (cancel_entry *e = buckets[pid % CANCEL_BUCKETS]; e; e = e->next)
		if (e->pid == pid)
			return e;
	return NULL;
}

void pg_cancel_register(const pg_cancel_target *t, uint32_t *pid, uint32_t *key)
{
	uv_once(&once, init_lock);
	cancel_entry *e = util_xmalloc(sizeof(*e));
	e->target = *t;
	uv_mutex_lock(&lock);
	do {
		util_random(&e->pid, sizeof(e->pid));
		e->pid &= 0x7fffffff; /* clients treat it as a positive int */
	} while (e->pid == 0 || find(e->pid));
	util_random(&e->key, sizeof(e->key));
	e->next = buckets[e->pid % CANCEL_BUCKETS];
	buckets[e->pid % CANCEL_BUCKETS] = e;
	*pid = e->pid;
	*key = e->key;
	uv_mutex_unlock(&lock);
}

void pg_cancel_unregister(uint32_t pid, uint32_t key)
{
	uv_once(&once, init_lock);
	uv_mutex_lock(&lock);
	for (cancel_entry **p = &buckets[pid % CANCEL_BUCKETS]; *p; p = &(*p)->next) {
		if ((*p)->pid == pid && (*p)->key == key) {
			cancel_entry *e = *p;
			*p = e->next;
			free(e);
			break;
		}
	}
	uv_mutex_unlock(&lock);
}

int pg_cancel_lookup(uint32_t pid, uint32_t key, pg_cancel_target *out)
{
	uv_once(&once, init_lock);
	int rc = -1;
	uv_mutex_lock(&lock);
	cancel_entry *e = find(pid);
	if (e && CRYPTO_memcmp(&e->key, &key, sizeof(key)) == 0) {
		*out = e->target;
		rc = 0;
	}
	uv_mutex_unlock(&lock);
	return rc;
}

void pg_cancel_set_review(uint32_t pid, uint32_t key, const char *review_id)
{
	uv_once(&once, init_lock);
	uv_mutex_lock(&lock);
	cancel_entry *e = find(pid);
	if (e && e->key == key)
		snprintf(e->target.review_id, sizeof(e->target.review_id), "%s", review_id ? review_id : "");
	uv_mutex_unlock(&lock);
}
