/* buf — see buf.h. Chunks are only ever touched by the worker that owns both ends. */
#include "core/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

void buf_reserve(buf *b, size_t extra)
{
	if (b->len + extra <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < b->len + extra)
		cap *= 2;
	b->data = util_xrealloc(b->data, cap);
	b->cap = cap;
}

void buf_append_grow(buf *b, const void *p, size_t n)
{
	if (n == 0)
		return; /* p may be NULL then; memcpy(NULL, ..., 0) is undefined */
	buf_reserve(b, n);
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

void buf_printf(buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	buf_reserve(b, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void buf_free(buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

chunk *chunk_new(size_t cap)
{
	chunk *c = util_xmalloc(sizeof(*c) + cap);
	c->refs = 1;
	c->cap = cap;
	c->start = c->end = 0;
	c->data = (char *)(c + 1);
	c->own = NULL;
	return c;
}

chunk *chunk_adopt(buf *b)
{
	chunk *c = util_xmalloc(sizeof(*c));
	c->refs = 1;
	c->cap = b->cap;
	c->start = 0;
	c->end = b->len;
	c->data = c->own = b->data;
	b->data = NULL;
	b->len = b->cap = 0;
	return c;
}

chunk *chunk_ref(chunk *c)
{
	c->refs++;
	return c;
}

void chunk_unref(chunk *c)
{
	if (c && --c->refs == 0) {
		free(c->own);
		free(c);
	}
}
