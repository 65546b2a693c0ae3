/*
 * pg frontend — the PostgreSQL adapter's entry points for a worker.
 */
#ifndef WARDEN_PG_FRONTEND_H
#define WARDEN_PG_FRONTEND_H

#include <uv.h>

struct worker;

void pg_frontend_accept(struct worker *w, uv_stream_t *server);
/* The same for a socket another worker accepted for w (worker_pick counted it). */
void pg_frontend_adopt(struct worker *w, int fd);
/* Closes every session of the worker with reason gateway_shutdown. */
void pg_frontend_shutdown(struct worker *w);

#endif
