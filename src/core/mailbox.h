/*
 * mailbox — run a function on another thread's libuv loop.
 *
 * Each worker owns one mailbox. Any thread may mailbox_post(); the function
 * runs later on the mailbox's loop, in post order. This is the only way other
 * threads (the audit writer, for one) hand results back to a worker, so no
 * worker state is ever touched from outside its loop.
 */
#ifndef WARDEN_MAILBOX_H
#define WARDEN_MAILBOX_H

#include <uv.h>

typedef void (*mailbox_fn)(void *arg, int status);

typedef struct mailbox_msg {
	struct mailbox_msg *next;
	mailbox_fn fn;
	void *arg;
	int status;
} mailbox_msg;

typedef struct mailbox {
	uv_async_t async;
	uv_mutex_t lock;
	mailbox_msg *head, *tail;
} mailbox;

int mailbox_init(mailbox *mb, uv_loop_t *loop) __attribute__((warn_unused_result));
/* Thread-safe. The message is allocated by the poster and freed after fn runs. */
void mailbox_post(mailbox *mb, mailbox_fn fn, void *arg, int status);
void mailbox_close(mailbox *mb);

#endif
