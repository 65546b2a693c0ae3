/*
 * libFuzzer target for the admin server's request reader (src/admin/httpd.c,
 * httpd_parse): the same code every admin connection runs, without sockets.
 *
 * The first input byte picks how the rest is cut into reads (1..64 bytes at
 * a time, or all at once), so header values, URLs and bodies arrive split
 * across parser callbacks. The rest is one connection's bytes.
 *
 * Each input runs twice, whole and cut, and both runs must agree.
 *
 * Checked: every request the handler sees is well-formed (method, a path
 * starting with '/' and free of NUL, a query, a NUL after the body); the
 * output is a sequence of well-formed responses (status line, headers ending
 * in Connection, Content-Length matching a compact JSON body plus "\n", no
 * body for HEAD/204/304), one per handled request in order, plus at most one
 * closing error response at the end; once closed, nothing more comes out.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/httpd.h"
#include "core/buf.h"
#include "core/log.h"

#define CHECK(c)                                                                     \
	do {                                                                         \
		if (!(c)) {                                                          \
			fprintf(stderr, "fuzz_httpd: check failed: %s (line %d)\n", #c, \
				__LINE__);                                           \
			abort();                                                     \
		}                                                                    \
	} while (0)

typedef struct calls {
	size_t n, cap;
	unsigned char *bodiless; /* per handled request: its response has no body */
} calls;

static void record(calls *c, int bodiless)
{
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 16;
		c->bodiless = realloc(c->bodiless, c->cap);
		CHECK(c->bodiless);
	}
	c->bodiless[c->n++] = (unsigned char)bodiless;
}

static void handler(const httpd_request *r, int *status, json_t **body, char **extra, void *arg)
{
	calls *c = arg;
	CHECK(r->method && r->method[0]);
	CHECK(r->path && r->path[0] == '/');
	CHECK(r->query);
	CHECK(r->body && r->body[r->body_len] == '\0');
	CHECK(r->body_len <= HTTPD_MAX_BODY_BYTES);
	CHECK(r->client_addr && strcmp(r->client_addr, "192.0.2.7:4242") == 0);
	CHECK(strlen(r->path) <= HTTPD_MAX_HEADER_BYTES);

	char v[8];
	int has = httpd_query_param(r, "a", v, sizeof(v));
	CHECK(strlen(v) < sizeof(v));
	CHECK(has || v[0] == '\0');
	(void)httpd_query_param(r, "", v, 1);
	CHECK(v[0] == '\0');
	(void)httpd_query_param(r, "b c", NULL, 0);

	/* the path's second byte picks the answer, to reach every response shape */
	unsigned char k = (unsigned char)r->path[1];
	static const int statuses[] = {200, 201, 204, 304, 400, 401, 404, 405, 500, 599, 42, 600};
	*status = statuses[k % (sizeof(statuses) / sizeof(statuses[0]))];
	json_t *o = json_object();
	json_t *p = json_stringn(r->path, strlen(r->path));
	json_object_set_new(o, "path", p ? p : json_null());
	json_t *q = json_stringn(r->query, strlen(r->query));
	json_object_set_new(o, "query", q ? q : json_null());
	if (r->authorization)
		json_object_set_new(o, "auth", json_integer((json_int_t)strlen(r->authorization)));
	json_object_set_new(o, "a", has ? json_string("") : json_false());
	if (k % 5 == 1)
		*extra = strdup("WWW-Authenticate: Bearer realm=\"x\"\r\n");
	else if (k % 5 == 2)
		*extra = strdup("Bad\r\n\r\nHTTP/1.1 200 OK\r\n");
	if (k % 7 == 3) {
		json_decref(o);
		o = NULL; /* an empty object */
	}
	*body = o;

	int st = *status < 200 || *status > 599 ? 500 : *status;
	record(c, strcmp(r->method, "HEAD") == 0 || st == 204 || st == 304);
}

static const char *find(const char *hay, size_t n, const char *needle)
{
	return memmem(hay, n, needle, strlen(needle));
}

/*
 * Walks the output response by response. Sets err_off and err_status to
 * where the closing server-made error response starts and its status (0
 * when there is none).
 */
static void verify(const buf *out, const calls *c, int closed, size_t *err_off, int *err_status)
{
	*err_off = out->len;
	*err_status = 0;
	size_t off = 0, handled = 0;
	int saw_close = 0;
	while (off < out->len) {
		CHECK(!saw_close); /* nothing after a closing response */
		const char *r = out->data + off;
		size_t left = out->len - off;
		CHECK(left >= 13 && memcmp(r, "HTTP/1.1 ", 9) == 0);
		int status = (r[9] - '0') * 100 + (r[10] - '0') * 10 + (r[11] - '0');
		CHECK(r[12] == ' ');
		const char *end = find(r, left, "\r\n\r\n");
		CHECK(end);
		size_t hlen = (size_t)(end - r) + 4;
		if (status == 100) {
			CHECK(hlen == 25 && memcmp(r, "HTTP/1.1 100 Continue\r\n\r\n", 25) == 0);
			off += hlen;
			continue;
		}
		CHECK(status >= 200 && status <= 599);
		/* Connection is the last header */
		const char *conn = find(r, hlen, "\r\nConnection: ");
		CHECK(conn);
		int keep;
		if (conn + 2 + 22 == end && memcmp(conn + 2, "Connection: keep-alive", 22) == 0)
			keep = 1;
		else if (conn + 2 + 17 == end && memcmp(conn + 2, "Connection: close", 17) == 0)
			keep = 0;
		else
			CHECK(0 && "Connection header is not last or malformed");
		CHECK(find(r, hlen, "\r\nCache-Control: no-store\r\n"));
		int by_handler = handled < c->n;
		int bodiless = by_handler ? c->bodiless[handled] : 0;
		size_t clen = 0;
		const char *cl = find(r, hlen, "\r\nContent-Length: ");
		if (status == 204 || status == 304) {
			CHECK(!cl);
		} else {
			CHECK(cl);
			clen = strtoul(cl + 18, NULL, 10);
			CHECK(find(r, hlen, "\r\nContent-Type: application/json\r\n"));
		}
		size_t blen = bodiless ? 0 : clen;
		CHECK(hlen + blen <= left);
		if (blen > 0) {
			const char *b = r + hlen;
			CHECK(b[blen - 1] == '\n');
			json_error_t e;
			json_t *j = json_loadb(b, blen - 1, 0, &e);
			CHECK(j);
			if (!by_handler) {
				/* an error response: {"error": ..., "message": ...} */
				CHECK(json_is_string(json_object_get(j, "error")));
				CHECK(json_is_string(json_object_get(j, "message")));
			}
			json_decref(j);
		}
		if (!by_handler) {
			CHECK(!keep); /* server-made errors always close */
			*err_off = off;
			*err_status = status;
		}
		if (!keep)
			saw_close = 1;
		handled += by_handler;
		off += hlen + blen;
	}
	CHECK(handled == c->n);
	CHECK(saw_close == closed);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_level = LOG_ERROR; /* every refused request logs a line: too slow here */
	return 0;
}

typedef struct run {
	calls c;
	buf out;
	int closed;
	size_t err_off;
	int err_status;
} run;

/* One connection fed `piece` bytes at a time; output verified. */
static void run_once(run *r, const uint8_t *data, size_t size, size_t piece)
{
	memset(r, 0, sizeof(*r));
	httpd_parse *p = httpd_parse_new(handler, &r->c, "192.0.2.7:4242");
	size_t off = 0;
	while (off < size && !r->closed) {
		size_t n = size - off < piece ? size - off : piece;
		/* an exact-size copy, so ASan sees any read past the piece */
		uint8_t *copy = malloc(n);
		CHECK(copy);
		memcpy(copy, data + off, n);
		r->closed = httpd_parse_feed(p, copy, n, &r->out);
		free(copy);
		off += n;
	}
	verify(&r->out, &r->c, r->closed, &r->err_off, &r->err_status);
	if (r->closed) {
		size_t was = r->out.len;
		CHECK(httpd_parse_feed(p, "GET / HTTP/1.1\r\n\r\n", 18, &r->out) == 1);
		CHECK(r->out.len == was);
	}
	httpd_parse_free(p);
}

static void run_free(run *r)
{
	buf_free(&r->out);
	free(r->c.bodiless);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	size_t piece = data[0] >= 0xc0 ? size : (size_t)(data[0] % 64) + 1;
	data++;
	size--;

	run whole, split;
	run_once(&whole, data, size, size ? size : 1);
	run_once(&split, data, size, piece ? piece : 1);
	/*
	 * How the bytes were cut must not matter: same requests handled, same
	 * bytes out. One exception: a header section over the limit may be
	 * caught by size (431) in one run before a syntax error that the other
	 * reports (400 and friends); everything before that last response is
	 * still identical.
	 */
	CHECK(whole.c.n == split.c.n);
	CHECK(whole.closed == split.closed);
	if (whole.out.len != split.out.len ||
	    (whole.out.len && memcmp(whole.out.data, split.out.data, whole.out.len) != 0)) {
		CHECK(whole.err_status && split.err_status);
		CHECK(whole.err_status == 431 || split.err_status == 431);
		CHECK(whole.err_off == split.err_off);
		CHECK(whole.err_off == 0 || memcmp(whole.out.data, split.out.data, whole.err_off) == 0);
	}
	run_free(&whole);
	run_free(&split);
	return 0;
}
