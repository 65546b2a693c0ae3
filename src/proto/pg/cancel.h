/*
 * pg cancel — the process-wide table that maps the BackendKeyData warden
 * hands a client to the target connection that key stands for. A
 * CancelRequest may arrive on any worker; the entry holds everything needed
 * to send the cancel (target address and the target's own key) by value, so
 * no worker ever touches another worker's session.
 */
#ifndef WARDEN_PG_CANCEL_H
#define WARDEN_PG_CANCEL_H

#include <stdint.h>
#include <sys/socket.h>

typedef struct pg_cancel_target {
	struct sockaddr_storage addr;
	uint32_t pid, key;      /* the target's BackendKeyData */
	char review_id[33];     /* the session holds a request for this review ("" none) */
} pg_cancel_target;

/* Picks an unused (pid, key) for the client and remembers the target. */
void pg_cancel_register(const pg_cancel_target *t, uint32_t *pid, uint32_t *key);
void pg_cancel_unregister(uint32_t pid, uint32_t key);
/* 0 and *out filled when the pair is known (key compared in constant time). */
int pg_cancel_lookup(uint32_t pid, uint32_t key, pg_cancel_target *out);
/* The session's held review (NULL: none), so a CancelRequest can withdraw it. */
void pg_cancel_set_review(uint32_t pid, uint32_t key, const char *review_id);

#endif
