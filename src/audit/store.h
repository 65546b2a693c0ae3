/*
 * audit store — where audit entries live (SQLite today; PostgreSQL later).
 *
 * One table, `entries`, one row per audit_entry, one column per field, keyed
 * by the entry id. The log is append-only: the store can insert and read,
 * nothing else, and the schema refuses UPDATE and DELETE with triggers.
 *
 * A writer store is used by exactly one thread at a time (audit_start opens
 * it, then only the audit writer thread touches it) and by one process at a
 * time (an exclusive lock on "<path>.lock"), because ids come from
 * MAX(id)+1 at start. Readers (the CLI) may run alongside the writer.
 *
 * Writes: audit_store_begin(), audit_store_insert() for each entry,
 * audit_store_commit(); on any failure audit_store_rollback(). A commit in
 * AUDIT_STORE_WRITE_STRICT mode is fsync-durable when it returns.
 *
 * Fallible functions return 0 on success and -1 on failure, with the cause in
 * audit_store_errmsg(); the read functions return 1 (found), 0 (none), -1.
 */
#ifndef WARDEN_AUDIT_STORE_H
#define WARDEN_AUDIT_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "audit/entry.h"

typedef struct audit_store audit_store;
typedef struct audit_store_iter audit_store_iter;

typedef enum {
	AUDIT_STORE_READ = 0,     /* read-only (the CLI); waits up to 5 s on a busy writer */
	AUDIT_STORE_WRITE_STRICT, /* the writer; every commit fsync'd (synchronous=FULL) */
	AUDIT_STORE_WRITE_BATCH,  /* the writer; synchronous=NORMAL (WAL synced at checkpoints) */
} audit_store_mode;

/*
 * Opens (a writer also creates: the parent directory with mode 0700, the
 * file with mode 0600, the schema) the store at path. Returns NULL with a
 * message in err on failure.
 */
audit_store *audit_store_open(const char *path, audit_store_mode mode, char *err, size_t errlen)
	__attribute__((warn_unused_result));
void audit_store_close(audit_store *s);

/* The cause of the last failure, for logs. */
const char *audit_store_errmsg(const audit_store *s);

/* The highest id stored, 0 when empty. */
int audit_store_max_id(audit_store *s, int64_t *out) __attribute__((warn_unused_result));

int audit_store_begin(audit_store *s) __attribute__((warn_unused_result));
/*
 * Stores e (e->id set and unused) as its canonical bytes; leaf receives the
 * Merkle leaf hash of those bytes. The entry is not retained after return.
 */
int audit_store_insert(audit_store *s, const audit_entry *e, uint8_t leaf[32])
	__attribute__((warn_unused_result));

/* A signed tree head as stored (the signature covers sth.h's signed bytes). */
typedef struct audit_store_head {
	uint64_t tree_size;
	int64_t timestamp_ms;
	uint8_t root_hash[32];
	uint8_t signature[64];
	char key_id[65];
} audit_store_head;

int audit_store_insert_head(audit_store *s, const audit_store_head *h)
	__attribute__((warn_unused_result));
int audit_store_commit(audit_store *s) __attribute__((warn_unused_result));
/* Ends the open transaction, if any, discarding it. Safe to call when none is open. */
void audit_store_rollback(audit_store *s);

/* Read side. */
typedef struct audit_store_filter {
	const char *user;        /* NULL = any */
	const char *connection;  /* NULL = any */
	int64_t since_us;        /* time_us >= since_us; INT64_MIN = no bound */
	unsigned kinds;          /* bit (1u << kind) set = wanted; 0 = every kind */
	int64_t limit;           /* at most this many; 0 = no limit */
	int newest_first;        /* id descending instead of ascending */
} audit_store_filter;

/* Fills f with "everything, oldest first". */
void audit_store_filter_init(audit_store_filter *f);

int audit_store_iter_open(audit_store *s, const audit_store_filter *f, audit_store_iter **out)
	__attribute__((warn_unused_result));
/* 1 with a new entry in *out (the caller frees it), 0 at the end, -1 on error. */
int audit_store_iter_next(audit_store_iter *it, audit_entry **out)
	__attribute__((warn_unused_result));
void audit_store_iter_close(audit_store_iter *it);

/* The entry with this id. */
int audit_store_get(audit_store *s, int64_t id, audit_entry **out)
	__attribute__((warn_unused_result));
/* --- for verification and proofs ------------------------------------- */

/* One stored row as it is, for `warden audit verify`; pointers valid until the next call. */
typedef struct audit_store_raw {
	int64_t id, time_us, seq;
	int64_t request_id;         /* 0 when NULL */
	const char *kind, *session, *user, *connection;   /* NULL when NULL */
	const void *leaf, *entry;
	size_t leaf_len, entry_len;
} audit_store_raw;

/* Every row in id order. */
int audit_store_raw_open(audit_store *s, audit_store_iter **out) __attribute__((warn_unused_result));
int audit_store_raw_next(audit_store_iter *it, audit_store_raw *row)
	__attribute__((warn_unused_result));
/* Every tree head, by tree size; *out is malloc'd (NULL when none). */
int audit_store_heads(audit_store *s, audit_store_head **out, size_t *n)
	__attribute__((warn_unused_result));
/* The stored leaf hashes in id order (the Merkle tree's leaves); *out malloc'd. */
int audit_store_leaves(audit_store *s, uint8_t (**out)[32], uint64_t *n)
	__attribute__((warn_unused_result));
/* The same, one at a time to fn, none kept (a store of millions costs no
 * memory to walk); *n: how many. */
int audit_store_each_leaf(audit_store *s, void (*fn)(void *ctx, const uint8_t leaf[32]), void *ctx,
			  uint64_t *n) __attribute__((warn_unused_result));
/* The leaf index of entry id (how many entries precede it); 1 found, 0 no such id. */
int audit_store_index_of(audit_store *s, int64_t id, uint64_t *index)
	__attribute__((warn_unused_result));

/* The canonical bytes of entry id (malloc'd); 1 found, 0 none, -1 error. */
int audit_store_get_canonical(audit_store *s, int64_t id, void **bytes, size_t *len)
	__attribute__((warn_unused_result));

/* Sessions with a session_start and no session_end, with their last seq. */
typedef struct audit_store_open_session {
	char session[65];
	int64_t last_seq;
} audit_store_open_session;
int audit_store_open_sessions(audit_store *s, audit_store_open_session **out, size_t *n)
	__attribute__((warn_unused_result));

/* The result entry of request request_id (the first, if ever more than one). */
int audit_store_get_result(audit_store *s, int64_t request_id, audit_entry **out)
	__attribute__((warn_unused_result));

#endif
