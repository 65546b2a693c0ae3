/*
 * worker — see worker.h. Stopping is two-phase: the listener closes and every
 * session is told to close; the mailbox stays open until the last session is
 * freed, because audit completions for those sessions may still arrive.
 * Then the loop has no handles left and uv_run() returns.
 */
#include "core/worker.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "proto/pg/frontend.h"

static worker *workers;
static int n_workers;

/* workers_stop's first phase: every listener closed, so no hand-off starts after it */
static uv_mutex_t stop_lock;
static uv_cond_t stop_cond;
static int stop_acks;

int worker_load(const worker *w)
{
	return __atomic_load_n(&w->n_sessions, __ATOMIC_RELAXED);
}

void worker_sessions_add(worker *w, int delta)
{
	__atomic_add_fetch(&w->n_sessions, delta, __ATOMIC_RELAXED);
}

worker *worker_pick(worker *w)
{
	worker *best = w;
	int least = worker_load(w);
	for (int i = 0; i < n_workers; i++) {
		int l = worker_load(&workers[i]);
		if (l < least) {
			best = &workers[i];
			least = l;
		}
	}
	worker_sessions_add(best, 1);
	return best;
}

static void free_handle(uv_handle_t *h)
{
	free(h);
}

/* On the target's loop: the socket another worker accepted for it. */
static void on_handoff(void *arg, int fd)
{
	pg_frontend_adopt(arg, fd);
}

/*
 * The connection server holds goes to target: accepted here, its socket
 * duplicated and posted to target's mailbox (the libuv handle that accepted
 * it belongs to this loop and is closed here).
 */
static void hand_off(worker *w, uv_stream_t *server, worker *target)
{
	uv_tcp_t *t = malloc(sizeof(*t));
	uv_os_fd_t fd;
	int dup_fd = -1;
	if (t && uv_tcp_init(&w->loop, t) == 0) {
		if (uv_accept(server, (uv_stream_t *)t) == 0 && uv_fileno((uv_handle_t *)t, &fd) == 0)
			dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
		uv_close((uv_handle_t *)t, free_handle);
	} else {
		free(t);
	}
	if (dup_fd < 0) {
		log_warn("worker %d: a connection for worker %d was lost: %s", w->index, target->index,
			 strerror(errno));
		worker_sessions_add(target, -1);
		return;
	}
	mailbox_post(&target->mb, on_handoff, target, dup_fd);
}

static void on_pg_connection(uv_stream_t *server, int status)
{
	worker *w = server->data;
	if (status < 0) {
		log_warn("accept failed: %s", uv_strerror(status));
		return;
	}
	worker *target = worker_pick(w);
	if (target == w)
		pg_frontend_accept(w, server);
	else
		hand_off(w, server, target);
}

static int listen_pg(worker *w, char *err, size_t errlen)
{
	const warden_config *cfg = w->cfg;
	struct sockaddr_storage addr;
	if (uv_ip4_addr(cfg->listen_pg_host, cfg->listen_pg_port, (struct sockaddr_in *)&addr) != 0 &&
	    uv_ip6_addr(cfg->listen_pg_host, cfg->listen_pg_port, (struct sockaddr_in6 *)&addr) != 0) {
		snprintf(err, errlen, "listen.postgres: %s is not an IP address", cfg->listen_pg_host);
		return -1;
	}
	if (uv_tcp_init_ex(&w->loop, &w->pg_listener, addr.ss_family) != 0)
		return -1;
	w->pg_listener.data = w;
	uv_os_fd_t fd;
	int one = 1;
	if (uv_fileno((uv_handle_t *)&w->pg_listener, &fd) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0) {
		snprintf(err, errlen, "SO_REUSEPORT: %s", strerror(errno));
		return -1;
	}
	int rc = uv_tcp_bind(&w->pg_listener, (struct sockaddr *)&addr, 0);
	if (rc == 0)
		rc = uv_listen((uv_stream_t *)&w->pg_listener, 1024, on_pg_connection);
	if (rc != 0) {
		snprintf(err, errlen, "listen on %s:%d: %s", cfg->listen_pg_host, cfg->listen_pg_port,
			 uv_strerror(rc));
		return -1;
	}
	w->listening = 1;
	return 0;
}

static void worker_main(void *arg)
{
	worker *w = arg;
	uv_run(&w->loop, UV_RUN_DEFAULT);
}

static void maybe_finish(worker *w)
{
	if (w->stopping && worker_load(w) == 0)
		mailbox_close(&w->mb);
}

static void on_stop_accepting(void *arg, int status)
{
	worker *w = arg;
	(void)status;
	if (w->listening) {
		w->listening = 0;
		uv_close((uv_handle_t *)&w->pg_listener, NULL);
	}
	uv_mutex_lock(&stop_lock);
	stop_acks++;
	uv_cond_signal(&stop_cond);
	uv_mutex_unlock(&stop_lock);
}

/* After every worker stopped accepting: a hand-off posted before that is
 * ahead of this in the mailbox, so its session exists and is closed too. */
static void on_stop(void *arg, int status)
{
	worker *w = arg;
	(void)status;
	if (w->stopping)
		return;
	w->stopping = 1;
	pg_frontend_shutdown(w);
	maybe_finish(w);
}

void worker_session_gone(worker *w)
{
	maybe_finish(w);
}

int workers_start(const worker_shared *shared, int n, char *err, size_t errlen)
{
	workers = calloc((size_t)n, sizeof(*workers));
	if (!workers)
		return -1;
	if (uv_mutex_init(&stop_lock) != 0 || uv_cond_init(&stop_cond) != 0) {
		snprintf(err, errlen, "cannot create a lock");
		return -1;
	}
	stop_acks = 0;
	n_workers = n;
	for (int i = 0; i < n; i++) {
		worker *w = &workers[i];
		w->index = i;
		w->cfg = shared->cfg;
		w->server_tls = shared->server_tls;
		w->target_tls = shared->target_tls;
		if (uv_loop_init(&w->loop) != 0 || mailbox_init(&w->mb, &w->loop) != 0) {
			snprintf(err, errlen, "cannot create event loop");
			return -1;
		}
		if (shared->cfg->listen_pg_host && listen_pg(w, err, errlen) != 0)
			return -1;
	}
	for (int i = 0; i < n; i++)
		if (uv_thread_create(&workers[i].thread, worker_main, &workers[i]) != 0) {
			snprintf(err, errlen, "cannot start worker thread");
			return -1;
		}
	return 0;
}

void workers_stop(void)
{
	for (int i = 0; i < n_workers; i++)
		mailbox_post(&workers[i].mb, on_stop_accepting, &workers[i], 0);
	uv_mutex_lock(&stop_lock);
	while (stop_acks < n_workers)
		uv_cond_wait(&stop_cond, &stop_lock);
	uv_mutex_unlock(&stop_lock);
	for (int i = 0; i < n_workers; i++)
		mailbox_post(&workers[i].mb, on_stop, &workers[i], 0);
	for (int i = 0; i < n_workers; i++) {
		uv_thread_join(&workers[i].thread);
		uv_loop_close(&workers[i].loop);
	}
	free(workers);
	workers = NULL;
	n_workers = 0;
	uv_cond_destroy(&stop_cond);
	uv_mutex_destroy(&stop_lock);
}
