/*
 * buf — a growable byte buffer, and the refcounted chunk the byte mover
 * passes between connections.
 *
 * A chunk is a heap block holding bytes read from one peer. Whoever forwards
 * it takes a reference for the write and drops it when the write completes,
 * so bytes go from the read buffer to the other socket without a copy.
 */
#ifndef WARDEN_BUF_H
#define WARDEN_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct buf {
	char *data;
	size_t len, cap;
} buf;

void buf_reserve(buf *b, size_t extra);
void buf_append_grow(buf *b, const void *p, size_t n);

/* Inline when it fits (the mask stage appends a few bytes at a time, many
 * times a row); buf_append_grow otherwise, and for n == 0 (p may be NULL). */
static inline void buf_append(buf *b, const void *p, size_t n)
{
	if (n && b->cap - b->len >= n) {
		memcpy(b->data + b->len, p, n);
		b->len += n;
		return;
	}
	buf_append_grow(b, p, n);
}
void buf_free(buf *b);
/* Appends formatted text (no terminating NUL is counted in len). */
void buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

typedef struct chunk {
	int refs;
	size_t cap;
	size_t start, end;      /* unconsumed bytes are data[start, end) */
	char *data;             /* right after the chunk (chunk_new), or a buf's (chunk_adopt) */
	void *own;              /* what chunk_adopt took over, freed with the chunk */
} chunk;

chunk *chunk_new(size_t cap);
/* A chunk holding b's bytes [0, b->len) without a copy: b's memory becomes
 * the chunk's, and b is left empty. */
chunk *chunk_adopt(buf *b);
chunk *chunk_ref(chunk *c);
void chunk_unref(chunk *c);

#endif
