/*
 * audit — the record stage: the submission queue and the writer thread.
 *
 * Owns: the queue of submitted batches (under `lock`), the id counter, the
 * writer thread, and the audit store (touched only by audit_start/audit_stop
 * and the writer thread; never by a worker).
 *
 * Invariants:
 *  - ids are assigned under `lock` in queue order, starting at MAX(id)+1 of
 *    the store, and the writer commits in queue order: id order = queue order
 *    = commit order. A failed transaction may leave a gap (its waiters were
 *    refused, so their requests never ran).
 *  - strict: a waiter's done(arg, 0) is posted only after the COMMIT that
 *    holds its entries returned (fsync'd, synchronous=FULL). One transaction
 *    per wake-up of the writer takes everything queued: group commit.
 *    Entries nobody waits for are committed with the next waited-for batch
 *    or batch_window_ms after they arrived, whichever is first.
 *  - batch: done(arg, 0) is posted by audit_submit itself; the writer commits
 *    at most batch_window_ms after the first entry of a batch was queued.
 *  - fail closed: when a commit fails, every batch still waiting gets
 *    done(arg, -1); entries nobody waits for (results, session ends, and in
 *    batch mode everything, already acknowledged) are kept in order and
 *    retried every 500 ms, at most AUDIT_KEEP_MAX of them. While unhealthy,
 *    audit_submit refuses any batch with a waiter.
 *  - every batch is freed exactly once, by the writer (or by audit_submit
 *    when it refuses the batch).
 */
#include "audit/audit.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit/merkle.h"
#include "audit/sth.h"
#include "audit/store.h"
#include "core/log.h"
#include "core/util.h"

#define AUDIT_RETRY_NS (500ull * 1000 * 1000)
#define AUDIT_KEEP_MAX ((size_t)1000000)

typedef struct audit_batch {
	struct audit_batch *next;
	mailbox *mb; /* NULL when nobody waits for the commit */
	mailbox_fn done;
	void *arg;
	size_t n;
	audit_entry *entries[];
} audit_batch;

typedef struct batch_list {
	audit_batch *head, *tail;
	size_t entries;
} batch_list;

static struct {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t thread;

	/* under lock */
	int started;           /* the writer thread exists */
	int running;           /* audit_submit accepts batches */
	int stopping;          /* audit_stop: commit what is queued, then exit */
	batch_list queue;
	size_t queue_waiters;  /* queued batches someone waits for (strict) */
	uint64_t first_ns;     /* monotonic time the oldest queued batch arrived */
	int64_t next_id;

	/* fixed while the writer runs */
	config_durability durability;
	uint64_t window_ns;
	char *path;

	/* writer thread only */
	audit_store *store;
	merkle_frontier tree;  /* every committed leaf */
	uint8_t (*txn_leaves)[32];  /* leaves of the transaction being written */
	size_t txn_cap;
	sth_key *key;
	uint64_t head_size;    /* tree size of the last signed tree head */
	uint64_t head_ns;      /* monotonic time it was signed */
	uint64_t sth_interval_ns;
	batch_list kept;       /* no-waiter batches of failed transactions, oldest first */
	size_t dropped;        /* entries given up on beyond AUDIT_KEEP_MAX */
	uint64_t retry_ns;     /* when unhealthy: next attempt */
} A = {.lock = PTHREAD_MUTEX_INITIALIZER};

static atomic_int healthy;
static atomic_int test_fail;

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Waits on A.wake until the monotonic deadline (lock held). */
static void wait_until(uint64_t deadline_ns)
{
	struct timespec ts = {.tv_sec = (time_t)(deadline_ns / 1000000000ull),
			      .tv_nsec = (long)(deadline_ns % 1000000000ull)};
	int rc = pthread_cond_timedwait(&A.wake, &A.lock, &ts);
	(void)rc; /* ETIMEDOUT or a wake-up: the caller re-checks its condition either way */
}

static void list_append(batch_list *l, audit_batch *b)
{
	b->next = NULL;
	if (l->tail)
		l->tail->next = b;
	else
		l->head = b;
	l->tail = b;
	l->entries += b->n;
}

static void batch_free(audit_batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		audit_entry_free(b->entries[i]);
	free(b);
}

int audit_healthy(void)
{
	return atomic_load(&healthy);
}

void audit_test_fail_commits(int on)
{
	atomic_store(&test_fail, on != 0);
}

/* Writes every entry of l in one transaction. 0 when committed. */
static int write_transaction(const batch_list *l)
{
	if (audit_store_begin(A.store) != 0)
		return -1;
	if (l->entries > A.txn_cap) {
		A.txn_cap = l->entries * 2;
		A.txn_leaves = util_xrealloc(A.txn_leaves, A.txn_cap * 32);
	}
	size_t k = 0;
	for (audit_batch *b = l->head; b; b = b->next)
		for (size_t i = 0; i < b->n; i++)
			if (audit_store_insert(A.store, b->entries[i], A.txn_leaves[k++]) != 0)
				return -1;
	if (atomic_load(&test_fail))
		return -1; /* the caller rolls back, as after a real COMMIT failure */
	return audit_store_commit(A.store);
}

static void on_committed(batch_list *l)
{
	/* wake the waiters first; freeing can wait */
	for (audit_batch *b = l->head; b; b = b->next)
		if (b->mb)
			mailbox_post(b->mb, b->done, b->arg, 0);
	if (!atomic_load(&healthy)) {
		atomic_store(&healthy, 1);
		log_warn("audit: store %s is writable again (%zu waiting entries committed); "
			 "requests are accepted",
			 A.path, l->entries);
		if (A.dropped) {
			log_error("audit: %zu entries without a waiter were lost while the store "
				  "was failing",
				  A.dropped);
			A.dropped = 0;
		}
	}
	for (audit_batch *b = l->head, *next; b; b = next) {
		next = b->next;
		batch_free(b);
	}
}

static void on_failed(batch_list *l)
{
	uint64_t t = now_ns();
	if (atomic_load(&healthy)) {
		atomic_store(&healthy, 0);
		log_error("audit: cannot commit %zu entries to %s: %s; refusing requests until it "
			  "recovers (retrying every 500 ms)",
			  l->entries,
			  A.path, atomic_load(&test_fail) ? "injected failure (test)"
							  : audit_store_errmsg(A.store));
	}
	A.retry_ns = t + AUDIT_RETRY_NS;
	batch_list keep = {0};
	for (audit_batch *b = l->head, *next; b; b = next) {
		next = b->next;
		if (b->mb) {
			mailbox_post(b->mb, b->done, b->arg, -1);
			batch_free(b);
		} else if (keep.entries + b->n <= AUDIT_KEEP_MAX) {
			list_append(&keep, b);
		} else {
			if (A.dropped == 0)
				log_error("audit: more than %zu entries waiting for the store; "
					  "dropping entries without a waiter",
					  AUDIT_KEEP_MAX);
			A.dropped += b->n;
			batch_free(b);
		}
	}
	A.kept = keep;
}

/* One attempt: the kept entries, then `taken`, in one transaction. */
static int commit_round(batch_list *taken)
{
	batch_list all = A.kept;
	if (taken->head) {
		if (all.tail)
			all.tail->next = taken->head;
		else
			all.head = taken->head;
		all.tail = taken->tail;
		all.entries += taken->entries;
	}
	A.kept = (batch_list){0};
	if (write_transaction(&all) == 0) {
		for (size_t i = 0; i < all.entries; i++)
			merkle_frontier_append(&A.tree, A.txn_leaves[i]);
		on_committed(&all);
		return 0;
	}
	audit_store_rollback(A.store);
	on_failed(&all);
	return -1;
}

/* Monotonic time the next tree head is due, 0 when the tree has not grown. */
static uint64_t head_due(void)
{
	return A.tree.size > A.head_size ? A.head_ns + A.sth_interval_ns : 0;
}

/*
 * Signs the root of everything committed and stores it as a tree head, in
 * its own transaction. Writer thread only. A failure is logged and retried
 * at the next due time: entries keep their durability either way.
 */
static void sign_head(void)
{
	if (A.tree.size == A.head_size || !A.key)
		return;
	sth h = {.tree_size = A.tree.size, .timestamp_ms = util_now_us() / 1000};
	merkle_frontier_root(&A.tree, h.root_hash);
	audit_store_head row = {.tree_size = h.tree_size, .timestamp_ms = h.timestamp_ms};
	A.head_ns = now_ns();
	if (sth_sign(A.key, &h) != 0) {
		log_error("audit: cannot sign the tree head of size %llu", (unsigned long long)h.tree_size);
		return;
	}
	memcpy(row.root_hash, h.root_hash, 32);
	memcpy(row.signature, h.signature, 64);
	sth_key_id(A.key, row.key_id);
	if (audit_store_begin(A.store) != 0 || audit_store_insert_head(A.store, &row) != 0 ||
	    audit_store_commit(A.store) != 0) {
		log_error("audit: cannot store the tree head of size %llu: %s",
			  (unsigned long long)h.tree_size, audit_store_errmsg(A.store));
		audit_store_rollback(A.store);
		return;
	}
	A.head_size = h.tree_size;
}

/* With A.lock held and not stopping: returns when there is something to do now. */
static void wait_for_work(void)
{
	for (;;) {
		if (A.stopping)
			return;
		if (!atomic_load(&healthy)) {
			if (now_ns() >= A.retry_ns)
				return;
			wait_until(A.retry_ns);
			continue;
		}
		if (!A.queue.head) {
			uint64_t due = head_due();
			if (!due) {
				pthread_cond_wait(&A.wake, &A.lock);
				continue;
			}
			if (now_ns() >= due)
				return; /* a tree head is due */
			wait_until(due);
			continue;
		}
		/*
		 * Entries nobody waits for wait for the window: in batch mode all
		 * of them; in strict mode results and session ends, which ride
		 * along with the next request's commit, or go at the end of the
		 * window: one fsync per round trip instead of two. A waiter (a
		 * strict request, or batch backpressure) is committed at once.
		 */
		if (A.queue_waiters == 0) {
			uint64_t deadline = A.first_ns + A.window_ns;
			if (now_ns() < deadline) {
				wait_until(deadline);
				continue;
			}
		}
		return;
	}
}

static void *writer_main(void *unused)
{
	pthread_mutex_lock(&A.lock);
	for (;;) {
		wait_for_work();
		if (A.stopping && !A.queue.head && !A.kept.head)
			break;
		batch_list taken = A.queue;
		A.queue = (batch_list){0};
		A.queue_waiters = 0;
		int stopping = A.stopping;
		int work = taken.head || A.kept.head || !atomic_load(&healthy);
		pthread_mutex_unlock(&A.lock);

		int rc = work ? commit_round(&taken) : 0;
		uint64_t due = head_due();
		if (due && now_ns() >= due)
			sign_head();

		pthread_mutex_lock(&A.lock);
		if (rc != 0 && stopping) {
			/* the last chance is gone: nothing will commit these */
			size_t lost = A.kept.entries;
			for (audit_batch *b = A.kept.head, *next; b; b = next) {
				next = b->next;
				batch_free(b);
			}
			A.kept = (batch_list){0};
			if (lost + A.dropped)
				log_error("audit: stopping with the store failing: %zu entries lost",
					  lost + A.dropped);
			A.dropped = 0;
			break;
		}
	}
	pthread_mutex_unlock(&A.lock);
	sign_head(); /* at shutdown: the final tree head covers everything committed */
	return NULL;
}

/*
 * Rebuilds the Merkle frontier from the stored leaves and checks it against
 * the latest stored tree head (a mismatch is logged loudly; `warden audit
 * verify` says exactly where). Returns -1 only when the store cannot be read.
 */
typedef struct tree_load {
	const audit_store_head *last; /* the latest signed tree head, or NULL */
	const char *path;
} tree_load;

/* One stored leaf onto the frontier (load_tree), the latest head checked where it ends. */
static void load_leaf(void *ctx, const uint8_t leaf[32])
{
	const tree_load *l = ctx;
	merkle_frontier_append(&A.tree, leaf);
	if (l->last && A.tree.size == l->last->tree_size) {
		uint8_t root[32];
		merkle_frontier_root(&A.tree, root);
		if (memcmp(root, l->last->root_hash, 32) != 0)
			log_error("audit: %s does not match its latest signed tree head (size %llu): "
				  "run `warden audit verify`",
				  l->path, (unsigned long long)l->last->tree_size);
	}
}

static int load_tree(audit_store *store, const char *path)
{
	audit_store_head *heads;
	size_t n_heads;
	if (audit_store_heads(store, &heads, &n_heads) != 0) {
		log_error("audit: %s: %s", path, audit_store_errmsg(store));
		return -1;
	}
	merkle_frontier_init(&A.tree);
	const audit_store_head *last = n_heads ? &heads[n_heads - 1] : NULL;
	tree_load l = {.last = last, .path = path};
	uint64_t n;
	/* (leaf by leaf: the frontier is all the tree keeps, whatever the store holds) */
	if (audit_store_each_leaf(store, load_leaf, &l, &n) != 0) {
		free(heads);
		log_error("audit: %s: %s", path, audit_store_errmsg(store));
		return -1;
	}
	if (last && last->tree_size > n)
		log_error("audit: %s has %llu entries, fewer than its latest signed tree head "
			  "(%llu): the log was truncated; run `warden audit verify`",
			  path, (unsigned long long)n, (unsigned long long)last->tree_size);
	A.head_size = last && last->tree_size <= n ? last->tree_size : 0;
	free(heads);
	return 0;
}

/* Sessions the last run left open (found before the writer starts) end now, with reason gateway_restart. */
static void end_open_sessions(audit_store_open_session *open, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		audit_entry *e = audit_entry_new(AUDIT_SESSION_END);
		e->session = util_strndup(open[i].session, strlen(open[i].session));
		e->seq = open[i].last_seq + 1;
		e->reason = util_strndup("gateway_restart", 15);
		audit_entry *one[1] = {e};
		if (audit_submit(one, 1, NULL, NULL, NULL) != 0)
			log_error("audit: cannot record the end of session %s", open[i].session);
	}
	if (n)
		log_warn("audit: %zu sessions left open by the last run ended (gateway_restart)", n);
	free(open);
}

int audit_start(const warden_config *cfg)
{
	pthread_mutex_lock(&A.lock);
	int already = A.started;
	pthread_mutex_unlock(&A.lock);
	if (already) {
		log_error("audit: already started");
		return -1;
	}

	char *path;
	if (cfg->audit_path) {
		path = strdup(cfg->audit_path);
	} else {
		const char *dir = cfg->data_dir ? cfg->data_dir : ".";
		size_t n = strlen(dir) + sizeof("/audit.db");
		path = malloc(n);
		if (path)
			snprintf(path, n, "%s/audit.db", dir);
	}
	if (!path) {
		log_error("audit: out of memory");
		return -1;
	}

	char err[600];
	audit_store_mode mode = cfg->durability == DURABILITY_BATCH ? AUDIT_STORE_WRITE_BATCH
								    : AUDIT_STORE_WRITE_STRICT;
	audit_store *store = audit_store_open(path, mode, err, sizeof(err));
	if (!store) {
		log_error("audit: %s", err);
		free(path);
		return -1;
	}
	int64_t max_id;
	if (audit_store_max_id(store, &max_id) != 0) {
		log_error("audit: %s: %s", path, audit_store_errmsg(store));
		audit_store_close(store);
		free(path);
		return -1;
	}
	sth_key *key = NULL;
	if (cfg->signing_key && !(key = sth_key_load_or_create(cfg->signing_key, err, sizeof(err)))) {
		log_error("audit: signing key: %s", err);
		audit_store_close(store);
		free(path);
		return -1;
	}
	audit_store_open_session *open_sessions = NULL;
	size_t n_open = 0;
	if (load_tree(store, path) != 0 ||
	    audit_store_open_sessions(store, &open_sessions, &n_open) != 0) {
		log_error("audit: %s: %s", path, audit_store_errmsg(store));
		sth_key_free(key);
		audit_store_close(store);
		free(path);
		return -1;
	}

	pthread_condattr_t ca;
	int cond_ok = pthread_condattr_init(&ca) == 0;
	if (cond_ok) {
		cond_ok = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 &&
			  pthread_cond_init(&A.wake, &ca) == 0;
		pthread_condattr_destroy(&ca);
	}
	if (!cond_ok) {
		log_error("audit: cannot create the queue condition variable");
		sth_key_free(key);
		free(open_sessions);
		audit_store_close(store);
		free(path);
		return -1;
	}

	pthread_mutex_lock(&A.lock);
	A.store = store;
	A.key = key;
	A.head_ns = now_ns();
	A.sth_interval_ns = (uint64_t)(cfg->sth_interval_ms > 0 ? cfg->sth_interval_ms : 10000) * 1000000ull;
	A.path = path;
	A.durability = cfg->durability;
	A.window_ns = cfg->batch_window_ms > 0 ? (uint64_t)cfg->batch_window_ms * 1000000ull : 0;
	A.next_id = max_id + 1;
	A.queue = (batch_list){0};
	A.kept = (batch_list){0};
	A.dropped = 0;
	A.stopping = 0;
	A.running = 1;
	A.started = 1;
	atomic_store(&healthy, 1);
	int rc = pthread_create(&A.thread, NULL, writer_main, NULL);
	if (rc != 0) {
		A.running = A.started = 0;
		atomic_store(&healthy, 0);
		A.store = NULL;
		A.path = NULL;
	}
	pthread_mutex_unlock(&A.lock);
	if (rc != 0) {
		log_error("audit: cannot start the writer thread: %s", strerror(rc));
		pthread_cond_destroy(&A.wake);
		sth_key_free(key);
		A.key = NULL;
		free(open_sessions);
		audit_store_close(store);
		free(path);
		return -1;
	}
	end_open_sessions(open_sessions, n_open);
	return 0;
}

void audit_stop(void)
{
	pthread_mutex_lock(&A.lock);
	if (!A.started) {
		pthread_mutex_unlock(&A.lock);
		return;
	}
	A.running = 0;
	A.stopping = 1;
	pthread_cond_signal(&A.wake);
	pthread_mutex_unlock(&A.lock);

	pthread_join(A.thread, NULL);

	audit_store_close(A.store);
	A.store = NULL;
	sth_key_free(A.key);
	A.key = NULL;
	free(A.txn_leaves);
	A.txn_leaves = NULL;
	A.txn_cap = 0;
	free(A.path);
	A.path = NULL;
	pthread_cond_destroy(&A.wake);
	atomic_store(&healthy, 0);
	pthread_mutex_lock(&A.lock);
	A.started = 0;
	A.stopping = 0;
	pthread_mutex_unlock(&A.lock);
}

int audit_submit(audit_entry **entries, size_t n, mailbox *mb, mailbox_fn done, void *arg)
{
	return audit_submit_ids(entries, n, NULL, mb, done, arg);
}

/*
 * Batch mode forwards before the commit, so the queue must not run ahead of
 * the writer: when the oldest queued entry has waited more than two windows,
 * or the queue holds more than AUDIT_BATCH_BACKLOG entries, a request waits
 * for its commit as in strict mode until the writer has caught up.
 */
#define AUDIT_BATCH_BACKLOG 65536

static int submit(audit_entry **entries, size_t n, int64_t *ids, mailbox *mb, mailbox_fn done,
		  void *arg, int may_proceed)
{
	audit_batch *b = malloc(sizeof(*b) + n * sizeof(b->entries[0]));
	if (!b) {
		for (size_t i = 0; i < n; i++)
			audit_entry_free(entries[i]);
		return -1;
	}
	b->n = n;
	b->done = done;
	b->arg = arg;

	pthread_mutex_lock(&A.lock);
	int batch_mode = A.durability == DURABILITY_BATCH;
	if (!A.running || (mb && !atomic_load(&healthy))) {
		pthread_mutex_unlock(&A.lock);
		for (size_t i = 0; i < n; i++)
			audit_entry_free(entries[i]);
		free(b);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (ids)
			ids[i] = A.next_id;
		entries[i]->id = A.next_id++;
		b->entries[i] = entries[i];
	}
	uint64_t now = now_ns();
	int behind = A.queue.head && (now - A.first_ns > 2 * A.window_ns ||
				      A.queue.entries >= AUDIT_BATCH_BACKLOG);
	int post_now = 0, rc = 0;
	if (!mb || !batch_mode) {
		b->mb = mb;
		rc = mb ? 1 : 0;
	} else if (may_proceed && !behind) {
		b->mb = NULL; /* nobody waits: the caller goes ahead, the writer commits within the window */
	} else if (may_proceed) {
		b->mb = mb;   /* backpressure */
		rc = 1;
	} else {
		b->mb = NULL;
		post_now = 1;
	}
	int wake = !A.queue.head || b->mb;
	if (!A.queue.head)
		A.first_ns = now;
	if (b->mb)
		A.queue_waiters++;
	list_append(&A.queue, b);
	if (wake)
		pthread_cond_signal(&A.wake);
	pthread_mutex_unlock(&A.lock);

	if (post_now)
		mailbox_post(mb, done, arg, 0);
	return rc;
}

int audit_submit_ids(audit_entry **entries, size_t n, int64_t *ids, mailbox *mb,
		     mailbox_fn done, void *arg)
{
	return submit(entries, n, ids, mb, done, arg, 0) < 0 ? -1 : 0;
}

int audit_record(audit_entry **entries, size_t n, int64_t *ids, mailbox *mb, mailbox_fn done,
		 void *arg)
{
	return submit(entries, n, ids, mb, done, arg, 1);
}
