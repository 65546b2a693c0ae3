/*
 * worker — one thread, one libuv loop, one SO_REUSEPORT listener per
 * protocol. The kernel spreads new connections across workers by a hash of
 * their addresses, which can put several long sessions on one worker while
 * another idles; so the worker that accepts a connection hands it to the
 * least loaded worker when that one holds fewer sessions (its socket passed
 * through the target's mailbox). A session then lives on its worker for its
 * whole life.
 */
#ifndef WARDEN_WORKER_H
#define WARDEN_WORKER_H

#include <openssl/ssl.h>
#include <uv.h>

#include "core/config.h"
#include "core/mailbox.h"

typedef struct worker {
	int index;
	uv_loop_t loop;
	uv_thread_t thread;
	mailbox mb;
	uv_tcp_t pg_listener;
	int listening;
	const warden_config *cfg;
	SSL_CTX *server_tls;        /* NULL when client TLS is off */
	SSL_CTX **target_tls;       /* per cfg->connections[i]; NULL for sslmode disable */
	void *sessions;             /* the protocol adapter's list of live sessions */
	int n_sessions;             /* its sessions and those handed to it, not yet opened:
				     * read by other workers, so only through worker_load()
				     * and worker_sessions_add() */
	int stopping;
} worker;

typedef struct worker_shared {
	const warden_config *cfg;
	SSL_CTX *server_tls;
	SSL_CTX **target_tls;
} worker_shared;

/* Binds every listener first (so a taken port fails start-up), then runs the threads. */
int workers_start(const worker_shared *shared, int n, char *err, size_t errlen)
	__attribute__((warn_unused_result));
/* Asks every worker to close its sessions with reason gateway_shutdown and joins them. */
void workers_stop(void);

/* Called by the adapter when its last session on a stopping worker is gone. */
void worker_session_gone(worker *w);

int worker_load(const worker *w);
void worker_sessions_add(worker *w, int delta);

/*
 * For a connection w's listener has: the worker it should live on (w itself
 * unless another holds fewer sessions). The chosen worker's count already
 * includes the connection.
 */
worker *worker_pick(worker *w);

#endif
