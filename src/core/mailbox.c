/*
 * mailbox — cross-thread calls onto a libuv loop (see mailbox.h).
 *
 * Posting appends to a locked singly-linked list and wakes the loop with
 * uv_async_send(); libuv coalesces wake-ups, so the drain takes the whole
 * list at once and runs it in order without holding the lock.
 */
#include "core/mailbox.h"

#include <stdlib.h>

static void mailbox_drain(uv_async_t *async)
{
	mailbox *mb = async->data;
	uv_mutex_lock(&mb->lock);
	mailbox_msg *m = mb->head;
	mb->head = mb->tail = NULL;
	uv_mutex_unlock(&mb->lock);
	while (m) {
		mailbox_msg *next = m->next;
		m->fn(m->arg, m->status);
		free(m);
		m = next;
	}
}

int mailbox_init(mailbox *mb, uv_loop_t *loop)
{
	mb->head = mb->tail = NULL;
	if (uv_mutex_init(&mb->lock) != 0)
		return -1;
	if (uv_async_init(loop, &mb->async, mailbox_drain) != 0) {
		uv_mutex_destroy(&mb->lock);
		return -1;
	}
	mb->async.data = mb;
	return 0;
}

void mailbox_post(mailbox *mb, mailbox_fn fn, void *arg, int status)
{
	mailbox_msg *m = malloc(sizeof(*m));
	if (!m)
		abort(); /* a lost completion would strand a session forever */
	m->next = NULL;
	m->fn = fn;
	m->arg = arg;
	m->status = status;
	uv_mutex_lock(&mb->lock);
	if (mb->tail)
		mb->tail->next = m;
	else
		mb->head = m;
	mb->tail = m;
	uv_mutex_unlock(&mb->lock);
	uv_async_send(&mb->async);
}

/* Runs whatever is still queued, then closes the handle (on the loop thread). */
void mailbox_close(mailbox *mb)
{
	mailbox_drain(&mb->async);
	uv_close((uv_handle_t *)&mb->async, NULL);
}
