/*
 * audit — the record stage: hand entries to the single writer thread.
 *
 * Workers call audit_submit() with entries they have built. Ids are assigned
 * under the queue lock, so id order is queue order is commit order. The writer
 * thread takes everything queued, writes it in one SQLite transaction (group
 * commit) and then calls each batch's completion on the submitting worker's
 * loop through its mailbox:
 *   strict: completion after the transaction is committed and fsync-durable;
 *   batch:  completion at once (status 0) — the writer commits within
 *           batch_window_ms; a crash may lose at most that window.
 * status is 0 on success, or -1 when the store could not commit (the caller
 * must not forward: fail closed). audit_healthy() is false while the last
 * commit failed; the writer retries and turns it true again on success.
 */
#ifndef WARDEN_AUDIT_H
#define WARDEN_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "audit/entry.h"
#include "core/config.h"
#include "core/mailbox.h"

/* Opens the store (creating schema), starts the writer thread. */
int audit_start(const warden_config *cfg) __attribute__((warn_unused_result));
/* Commits everything queued and stops the writer. */
void audit_stop(void);

/*
 * Takes ownership of entries[0..n) (and frees them after commit, whatever
 * happens). Assigns entries[i]->id before returning (consecutive ids). The
 * writer may commit and free the entries before audit_submit even returns,
 * so a caller that needs the ids (a result names its request) gets them from
 * audit_submit_ids(), never by reading the entries afterwards. When
 * mb != NULL, done(arg, status) runs on mb's loop as described above.
 * Returns -1 (and frees the entries, and posts nothing) when the writer is
 * not running, or when mb != NULL and the store is known to be failing;
 * entries without a waiter are still accepted then, kept and retried.
 */
int audit_submit(audit_entry **entries, size_t n, mailbox *mb, mailbox_fn done, void *arg);
/* The same; on success ids[i] (when ids != NULL) is the id given to entries[i]. */
int audit_submit_ids(audit_entry **entries, size_t n, int64_t *ids, mailbox *mb,
		     mailbox_fn done, void *arg);

/*
 * The record stage as the pipeline calls it. Returns -1 when refused (fail
 * closed: do not forward), 1 when the caller must wait for done(arg, status)
 * before forwarding (strict mode; or batch mode while the writer is behind:
 * backpressure keeps batch mode's loss bound at its window), and 0 when the
 * caller may forward at once (batch mode; no done() will come).
 */
int audit_record(audit_entry **entries, size_t n, int64_t *ids, mailbox *mb, mailbox_fn done,
		 void *arg) __attribute__((warn_unused_result));

int audit_healthy(void);

/*
 * For tests only: while on != 0 every commit fails as if the disk were full
 * (the transaction is rolled back), so the fail-closed path can be exercised.
 */
void audit_test_fail_commits(int on);

#endif
