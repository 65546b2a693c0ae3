/*
 * worker — see worker.h. Stopping is two-phase: the listener closes and every
 * session is told to close; the mailbox stays open until the last session is
 * freed, because audit completions for those sessions may still arrive.
 * Then the loop has no handles left and uv_run() returns.
 */
#include "core/worker.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/log.h"
#include "core/util.h"
#include "proto/pg/frontend.h"

static worker *workers;
static int n_workers;

static void on_pg_connection(uv_stream_t *server, int status)
{
	worker *w = server->data;
	if (status < 0) {
		log_warn("accept failed: %s", uv_strerror(status));
		return;
	}
	pg_frontend_accept(w, server);
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
	if (w->stopping && w->n_sessions == 0)
		mailbox_close(&w->mb);
}

static void on_stop(void *arg, int status)
{
	worker *w = arg;
	(void)status;
	if (w->stopping)
		return;
	w->stopping = 1;
	if (w->listening) {
		w->listening = 0;
		uv_close((uv_handle_t *)&w->pg_listener, NULL);
	}
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
		mailbox_post(&workers[i].mb, on_stop, &workers[i], 0);
	for (int i = 0; i < n_workers; i++) {
		uv_thread_join(&workers[i].thread);
		uv_loop_close(&workers[i].loop);
	}
	free(workers);
	workers = NULL;
	n_workers = 0;
}
