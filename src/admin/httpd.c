/*
 * httpd — see httpd.h. This module owns the admin server thread, its libuv
 * loop, the listening socket and every admin connection.
 *
 * Two layers:
 *   httpd_parse  bytes in, responses out, no sockets: http-parser in
 *                HTTP_REQUEST mode, header/body collection with the limits,
 *                the handler call and the response formatting. The fuzzer
 *                drives it through httpd_parse_feed.
 *   hconn        one accepted socket (core/conn, optionally TLS), its idle
 *                timer, backpressure and the close sequence.
 *
 * Invariants:
 *   - The parser is paused at the end of each header section and each
 *     message, so exactly one request is answered per step and the handler
 *     for request N+1 runs only after response N has been queued.
 *   - A request's header section (request line, headers, and any blank
 *     lines before it) is at most HTTPD_MAX_HEADER_BYTES and its body at
 *     most HTTPD_MAX_BODY_BYTES, so one connection buffers at most about
 *     HTTPD_MAX_BODY_BYTES + HTTPD_MAX_HEADER_BYTES + one read.
 *   - After a response with "Connection: close" nothing more is parsed.
 *   - Every loop object is touched only on the server thread; httpd_stop
 *     reaches it through a uv_async_t and joins the thread.
 *   - An hconn is freed only after both its conn (CONN_CLOSED) and its timer
 *     have closed.
 *   - Authorization values and bodies are never logged.
 */
#include "admin/httpd.h"

#include <http_parser.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <uv.h>

#include "core/conn.h"
#include "core/log.h"
#include "core/util.h"

/* Stop reading from a client whose unsent responses pass HIGH; resume below LOW. */
#define HTTPD_HIGH_WATER (1024 * 1024)
#define HTTPD_LOW_WATER (256 * 1024)
/*
 * How long a closing connection may take: to receive the peer's FIN after
 * our last response (lingering close), or to flush what conn_close queued.
 * After that the socket is cut.
 */
#define HTTPD_LINGER_MS 2000
/* Buffers larger than this are freed once empty, so idle connections stay small. */
#define IDLE_BUF_KEEP 4096

/* ======================================================================== */
/* httpd_parse: the socket-free request reader                              */
/* ======================================================================== */

enum step_result {
	STEP_MORE,     /* all input consumed; waiting for more */
	STEP_ANSWERED, /* one request answered; more input may follow */
	STEP_CLOSE,    /* the last response is out; close the connection */
};

/* What the parser paused for. */
enum pause_reason { PAUSE_NONE, PAUSE_HEADERS, PAUSE_MESSAGE };

struct httpd_parse {
	http_parser parser;
	httpd_handler handler;
	void *arg;
	char client_addr[80];

	buf in;            /* received, not yet parsed: in.data[in_off, in.len) */
	size_t in_off;
	buf out;           /* response bytes not yet handed to the socket */
	int dead;          /* a closing response is in out: parse nothing more */
	enum pause_reason paused;

	/* the request being read */
	int begun;          /* on_message_begin seen */
	int headers_done;   /* on_headers_complete seen: later fields are trailers */
	size_t header_bytes; /* bytes consumed towards the header section by earlier executes */
	size_t cb_bytes;    /* url/field/value bytes seen by callbacks in this execute */
	buf url;
	buf field, value;   /* the header being read */
	int in_value;       /* value bytes seen for the current field */
	char *authorization, *user_agent, *content_type, *expect;
	char *path, *query;
	buf body;
	int keep_alive;

	/* set by a callback that fails the request */
	int err_status;
	const char *err_code, *err_msg;
};

/*
 * buf_append with nothing to add: http-parser reports empty values ("X:")
 * as zero-length callbacks, and buf_append would memcpy into a NULL buffer.
 */
static void append(buf *b, const void *data, size_t len)
{
	if (len > 0)
		buf_append(b, data, len);
}

/*
 * Records why the request fails. A size limit (431/413) replaces a recorded
 * header problem: it aborts parsing at once, to bound memory.
 */
static void set_err(httpd_parse *p, int status, const char *code, const char *msg)
{
	if (p->err_status && status != 431 && status != 413)
		return;
	p->err_status = status;
	p->err_code = code;
	p->err_msg = msg;
}

/* A short printable copy of untrusted text for a log line. */
static void loggable(const char *s, size_t n, char *out, size_t outlen)
{
	size_t j = 0;
	for (size_t i = 0; i < n && j + 4 < outlen; i++)
		out[j++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	if (n > 0 && j + 4 >= outlen && j < n) {
		out[j++] = '.';
		out[j++] = '.';
		out[j++] = '.';
	}
	out[j] = '\0';
}

static const char *reason_phrase(int status)
{
	const char *r = http_status_str((enum http_status)status);
	return (r && r[0] != '<') ? r : "Unknown";
}

/*
 * extra_headers come from handlers, which may build them from config or
 * request data: accept only complete "Name: value\r\n" lines so nothing can
 * end the header section early or smuggle a second response.
 */
static int extra_headers_ok(const char *h)
{
	const char *line = h;
	while (*line) {
		const char *eol = strstr(line, "\r\n");
		if (!eol)
			return 0;
		const char *colon = memchr(line, ':', (size_t)(eol - line));
		if (!colon || colon == line)
			return 0;
		for (const char *c = line; c < eol; c++)
			if (*c == '\r' || *c == '\n')
				return 0;
		line = eol + 2;
	}
	return 1;
}

static void put_response(httpd_parse *p, int status, json_t *body, const char *extra,
			 int keep_alive, int head)
{
	static const char unencodable[] =
		"{\"error\":\"internal\",\"message\":\"the response could not be encoded\"}";
	char *json = body ? json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
	if (!json) {
		status = 500;
		json = util_strndup(unencodable, sizeof(unencodable) - 1);
	}
	size_t json_len = strlen(json);
	/* 1xx, 204 and 304 carry no body (RFC 9110 6.4.1). */
	int bodiless = status == 204 || status == 304;
	buf_printf(&p->out, "HTTP/1.1 %d %s\r\n", status, reason_phrase(status));
	if (!bodiless)
		buf_printf(&p->out, "Content-Type: application/json\r\nContent-Length: %zu\r\n",
			   json_len + 1);
	buf_printf(&p->out, "Cache-Control: no-store\r\n");
	if (extra)
		append(&p->out, extra, strlen(extra));
	buf_printf(&p->out, "Connection: %s\r\n\r\n", keep_alive ? "keep-alive" : "close");
	if (!bodiless && !head) {
		buf_append(&p->out, json, json_len);
		buf_append(&p->out, "\n", 1);
	}
	free(json);
}

/* Answers with an error and ends the connection. */
static int fail(httpd_parse *p, int status, const char *code, const char *msg)
{
	json_t *body = httpd_error(code, msg);
	put_response(p, status, body, NULL, 0, 0);
	json_decref(body);
	p->dead = 1;
	log_info("admin %s: %d %s", p->client_addr, status, msg);
	return STEP_CLOSE;
}

/* ---- percent-decoding --------------------------------------------------- */


/*
 * Decodes s[0, n) into out (at least n bytes; the result is never longer).
 * strict: a '%' not followed by two hex digits fails (-1); otherwise it is
 * kept as it is. plus: '+' means space (query strings). Returns the length.
 */
static long pct_decode(const char *s, size_t n, int strict, int plus, char *out)
{
	size_t j = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%') {
			int hi = i + 2 < n ? util_hexval(s[i + 1]) : -1;
			int lo = i + 2 < n ? util_hexval(s[i + 2]) : -1;
			if (hi >= 0 && lo >= 0) {
				out[j++] = (char)(hi << 4 | lo);
				i += 2;
				continue;
			}
			if (strict)
				return -1;
			out[j++] = '%';
		} else if (plus && s[i] == '+') {
			out[j++] = ' ';
		} else {
			out[j++] = s[i];
		}
	}
	return (long)j;
}

int httpd_query_param(const httpd_request *req, const char *name, char *out, size_t outlen)
{
	if (outlen > 0)
		out[0] = '\0';
	if (!req || !req->query || !name)
		return 0;
	size_t name_len = strlen(name);
	const char *q = req->query;
	while (*q) {
		const char *end = strchr(q, '&');
		size_t n = end ? (size_t)(end - q) : strlen(q);
		const char *eq = memchr(q, '=', n);
		size_t klen = eq ? (size_t)(eq - q) : n;
		char *key = util_xmalloc(klen + 1);
		long kdec = pct_decode(q, klen, 0, 1, key);
		int match = (size_t)kdec == name_len && memcmp(key, name, name_len) == 0;
		free(key);
		if (match) {
			const char *v = eq ? eq + 1 : q + n;
			size_t vlen = eq ? n - klen - 1 : 0;
			char *val = util_xmalloc(vlen + 1);
			long vdec = pct_decode(v, vlen, 0, 1, val);
			val[vdec] = '\0';
			if (outlen > 0) {
				size_t len = strnlen(val, (size_t)vdec);
				if (len > outlen - 1)
					len = outlen - 1;
				memcpy(out, val, len);
				out[len] = '\0';
			}
			free(val);
			return 1;
		}
		q += n;
		if (*q == '&')
			q++;
	}
	return 0;
}

json_t *httpd_error(const char *code, const char *message)
{
	json_t *o = json_object();
	if (!o)
		return NULL;
	json_t *c = json_string(code ? code : "");
	json_t *m = json_string(message ? message : "");
	/* json_string refuses invalid UTF-8: keep the shape with empty text */
	json_object_set_new(o, "error", c ? c : json_string(""));
	json_object_set_new(o, "message", m ? m : json_string(""));
	return o;
}

/* ---- http-parser callbacks ---------------------------------------------- */

static void free_request(httpd_parse *p)
{
	free(p->authorization);
	free(p->user_agent);
	free(p->content_type);
	free(p->expect);
	free(p->path);
	free(p->query);
	p->authorization = p->user_agent = p->content_type = p->expect = NULL;
	p->path = p->query = NULL;
	/* a large request's buffers are not kept by an idle connection */
	buf_free(&p->body);
	p->url.len = p->field.len = p->value.len = 0;
	if (p->url.cap > IDLE_BUF_KEEP)
		buf_free(&p->url);
	if (p->field.cap > IDLE_BUF_KEEP)
		buf_free(&p->field);
	if (p->value.cap > IDLE_BUF_KEEP)
		buf_free(&p->value);
	p->in_value = 0;
	p->begun = p->headers_done = 0;
	p->header_bytes = p->cb_bytes = 0;
	p->keep_alive = 0;
}

/* Counts callback bytes towards the header section; fails past the limit. */
static int header_budget(httpd_parse *p, size_t len)
{
	p->cb_bytes += len;
	if (p->header_bytes + p->cb_bytes > HTTPD_MAX_HEADER_BYTES) {
		set_err(p, 431, "headers_too_large", "the request header section is too large");
		return -1;
	}
	return 0;
}

static int on_message_begin(http_parser *hp)
{
	httpd_parse *p = hp->data;
	/* keep header_bytes: blank lines before the request count towards it */
	size_t hb = p->header_bytes;
	free_request(p);
	p->header_bytes = hb;
	p->begun = 1;
	return 0;
}

static int on_url(http_parser *hp, const char *at, size_t len)
{
	httpd_parse *p = hp->data;
	if (header_budget(p, len) != 0)
		return -1;
	append(&p->url, at, len);
	return 0;
}

static int name_is(const buf *b, const char *name)
{
	size_t n = strlen(name);
	return b->len == n && strncasecmp(b->data, name, n) == 0;
}

/*
 * The field and value of one header are complete: keep it if we want it.
 * A problem is only recorded here and reported at on_headers_complete: this
 * runs when the next field starts, which with a read boundary can be before
 * http-parser has seen that field is malformed, and the answer must not
 * depend on where reads split the input (a syntax error anywhere in the
 * header section wins).
 */
static void finish_header(httpd_parse *p)
{
	char **slot = NULL;
	int dup_fails = 0;
	if (name_is(&p->field, "authorization")) {
		slot = &p->authorization;
		dup_fails = 1; /* two credentials: refuse rather than pick one */
	} else if (name_is(&p->field, "content-type")) {
		slot = &p->content_type;
		dup_fails = 1;
	} else if (name_is(&p->field, "expect")) {
		slot = &p->expect;
		dup_fails = 1;
	} else if (name_is(&p->field, "user-agent")) {
		slot = &p->user_agent;
	}
	size_t vlen = p->value.len;
	/* http-parser drops leading whitespace but keeps trailing */
	while (vlen > 0 && (p->value.data[vlen - 1] == ' ' || p->value.data[vlen - 1] == '\t'))
		vlen--;
	if (slot) {
		if (*slot) {
			if (dup_fails)
				set_err(p, 400, "bad_request", "a header that must appear once is repeated");
		} else if (vlen > 0 && memchr(p->value.data, '\0', vlen)) {
			set_err(p, 400, "bad_request", "a header value holds a NUL byte");
		} else {
			*slot = util_strndup(vlen ? p->value.data : "", vlen);
		}
	}
	p->field.len = p->value.len = 0;
	p->in_value = 0;
}

static int on_header_field(http_parser *hp, const char *at, size_t len)
{
	httpd_parse *p = hp->data;
	if (header_budget(p, len) != 0)
		return -1;
	if (p->headers_done)
		return 0; /* a chunked trailer: counted, not kept */
	if (p->in_value)
		finish_header(p);
	append(&p->field, at, len);
	return 0;
}

static int on_header_value(http_parser *hp, const char *at, size_t len)
{
	httpd_parse *p = hp->data;
	if (header_budget(p, len) != 0)
		return -1;
	if (p->headers_done)
		return 0;
	p->in_value = 1;
	append(&p->value, at, len);
	return 0;
}

static int on_headers_complete(http_parser *hp)
{
	httpd_parse *p = hp->data;
	if (p->in_value)
		finish_header(p);
	if (p->err_status)
		return -1; /* a header problem recorded by finish_header */
	p->headers_done = 1;
	/* checked outside the callback, in headers_ready() */
	p->paused = PAUSE_HEADERS;
	http_parser_pause(hp, 1);
	return 0;
}

static int on_body(http_parser *hp, const char *at, size_t len)
{
	httpd_parse *p = hp->data;
	/* Content-Length was checked at the headers; this catches chunked bodies */
	if (p->body.len + len > HTTPD_MAX_BODY_BYTES) {
		set_err(p, 413, "body_too_large", "the request body is too large");
		return -1;
	}
	append(&p->body, at, len);
	return 0;
}

static int on_message_complete(http_parser *hp)
{
	httpd_parse *p = hp->data;
	p->keep_alive = http_should_keep_alive(hp);
	p->paused = PAUSE_MESSAGE;
	http_parser_pause(hp, 1);
	return 0;
}

/*
 * Chunked request bodies are supported: http-parser removes the framing, the
 * body limit applies to the decoded bytes, trailers are counted towards the
 * header limit and dropped. Transfer-Encodings other than chunked, and
 * chunked together with Content-Length, are refused by http-parser (400).
 */
static const http_parser_settings settings = {
	.on_message_begin = on_message_begin,
	.on_url = on_url,
	.on_header_field = on_header_field,
	.on_header_value = on_header_value,
	.on_headers_complete = on_headers_complete,
	.on_body = on_body,
	.on_message_complete = on_message_complete,
};

/* ---- steps ---------------------------------------------------------------- */

/* The header section is complete: check what can be checked before the body. */
static int headers_ready(httpd_parse *p)
{
	http_parser *hp = &p->parser;
	if (p->header_bytes > HTTPD_MAX_HEADER_BYTES)
		return fail(p, 431, "headers_too_large", "the request header section is too large");

	struct http_parser_url u;
	http_parser_url_init(&u);
	if (p->url.len == 0 || http_parser_parse_url(p->url.data, p->url.len, 0, &u) != 0 ||
	    !(u.field_set & (1 << UF_PATH)))
		return fail(p, 400, "bad_request", "malformed request target");
	const char *raw = p->url.data + u.field_data[UF_PATH].off;
	size_t raw_len = u.field_data[UF_PATH].len;
	if (raw_len == 0 || raw[0] != '/')
		return fail(p, 400, "bad_request", "the request path must start with '/'");
	p->path = util_xmalloc(raw_len + 1);
	long n = pct_decode(raw, raw_len, 1, 0, p->path);
	if (n < 0)
		return fail(p, 400, "bad_request", "malformed percent-encoding in the path");
	p->path[n] = '\0';
	if (memchr(p->path, '\0', (size_t)n))
		return fail(p, 400, "bad_request", "the path holds a NUL byte");
	if (u.field_set & (1 << UF_QUERY))
		p->query = util_strndup(p->url.data + u.field_data[UF_QUERY].off,
					u.field_data[UF_QUERY].len);
	else
		p->query = util_strndup("", 0);

	int chunked = (hp->flags & F_CHUNKED) != 0;
	uint64_t declared = (!chunked && hp->content_length != ULLONG_MAX) ? hp->content_length : 0;
	if (declared > HTTPD_MAX_BODY_BYTES)
		return fail(p, 413, "body_too_large", "the request body is too large");

	/*
	 * Expect: 100-continue is honoured (curl sends it before large bodies)
	 * once the declared length is known to fit; any other expectation gets
	 * 417 (RFC 9110 10.1.1).
	 */
	if (p->expect) {
		if (strcasecmp(p->expect, "100-continue") != 0)
			return fail(p, 417, "expectation_failed", "only Expect: 100-continue is supported");
		if ((hp->http_major > 1 || (hp->http_major == 1 && hp->http_minor >= 1)) &&
		    (chunked || declared > 0))
			buf_printf(&p->out, "HTTP/1.1 100 Continue\r\n\r\n");
	}
	return STEP_MORE;
}

/* A complete message: call the handler and queue its response. */
static int answer(httpd_parse *p)
{
	http_parser *hp = &p->parser;
	if (!p->path) /* cannot happen: headers_ready() runs first and sets it */
		return fail(p, 500, "internal", "request completed before its headers");
	buf_reserve(&p->body, 1);
	p->body.data[p->body.len] = '\0';
	httpd_request req = {
		.method = http_method_str((enum http_method)hp->method),
		.path = p->path,
		.query = p->query,
		.authorization = p->authorization,
		.user_agent = p->user_agent,
		.content_type = p->content_type,
		.body = p->body.data,
		.body_len = p->body.len,
		.client_addr = p->client_addr,
	};
	int status = 500;
	json_t *body = NULL;
	char *extra = NULL;
	p->handler(&req, &status, &body, &extra, p->arg);
	if (status < 200 || status > 599) {
		log_warn("admin: handler answered %s with status %d; sending 500", req.method, status);
		json_decref(body);
		body = httpd_error("internal", "the handler gave no valid status");
		status = 500;
	}
	if (extra && !extra_headers_ok(extra)) {
		log_warn("admin: handler gave malformed extra headers for %s; dropped", req.method);
		free(extra);
		extra = NULL;
	}
	if (!body)
		body = json_object();
	/* the server never switches protocols: an upgrade request ends the connection */
	int keep = p->keep_alive && !hp->upgrade;
	put_response(p, status, body, extra, keep, hp->method == HTTP_HEAD);
	if (log_level >= LOG_DEBUG) {
		char path[128];
		loggable(p->path, strlen(p->path), path, sizeof(path));
		log_debug("admin %s: %s %s -> %d", p->client_addr, req.method, path, status);
	}
	json_decref(body);
	free(extra);
	free_request(p);
	if (!keep)
		p->dead = 1;
	return keep ? STEP_ANSWERED : STEP_CLOSE;
}

static int parser_failed(httpd_parse *p, enum http_errno e)
{
	/* a callback's own reason; a recorded header problem loses to a syntax error */
	if (p->err_status && e >= HPE_CB_message_begin && e <= HPE_CB_chunk_complete)
		return fail(p, p->err_status, p->err_code, p->err_msg);
	if (e == HPE_HEADER_OVERFLOW)
		return fail(p, 431, "headers_too_large", "the request header section is too large");
	if (e == HPE_INVALID_TRANSFER_ENCODING)
		return fail(p, 400, "bad_request", "unsupported Transfer-Encoding");
	return fail(p, 400, "bad_request", http_errno_description(e));
}

/*
 * Parses buffered input up to the next answered request. Response bytes are
 * appended to p->out for the caller to send.
 */
static int step(httpd_parse *p)
{
	if (p->dead)
		return STEP_CLOSE;
	for (;;) {
		size_t avail = p->in.len - p->in_off;
		if (avail == 0) {
			p->in.len = p->in_off = 0;
			if (p->in.cap > IDLE_BUF_KEEP) /* idle connections hold little */
				buf_free(&p->in);
			return STEP_MORE;
		}
		int in_header = !p->headers_done;
		/*
		 * header_bytes holds what earlier calls consumed; the callbacks of
		 * this call see a subset of this call's bytes, so the sum stays a
		 * lower bound of the true size (never a false 431).
		 */
		p->cb_bytes = 0;
		size_t n = http_parser_execute(&p->parser, &settings, p->in.data + p->in_off, avail);
		if (n > avail)
			n = avail;
		p->in_off += n;
		if (in_header)
			p->header_bytes += n;
		enum http_errno e = HTTP_PARSER_ERRNO(&p->parser);
		if (e == HPE_PAUSED) {
			http_parser_pause(&p->parser, 0);
			enum pause_reason why = p->paused;
			p->paused = PAUSE_NONE;
			if (why == PAUSE_HEADERS) {
				int r = headers_ready(p);
				if (r != STEP_MORE)
					return r;
				continue;
			}
			if (why == PAUSE_MESSAGE)
				return answer(p);
			return fail(p, 500, "internal", "parser paused unexpectedly");
		}
		if (e != HPE_OK)
			return parser_failed(p, e);
		if (in_header && p->header_bytes > HTTPD_MAX_HEADER_BYTES)
			return fail(p, 431, "headers_too_large", "the request header section is too large");
		if (n < avail) /* http-parser stops early only to hand over an upgrade */
			return fail(p, 400, "bad_request", "protocol upgrades are not supported");
	}
}

/* A partial request is buffered or being read (for the idle timeout's 408). */
static int partial_request(const httpd_parse *p)
{
	return !p->dead && (p->begun || p->header_bytes > 0 || p->in.len > p->in_off);
}

static void parse_append(httpd_parse *p, const void *data, size_t len)
{
	if (p->in_off > 0) {
		memmove(p->in.data, p->in.data + p->in_off, p->in.len - p->in_off);
		p->in.len -= p->in_off;
		p->in_off = 0;
	}
	append(&p->in, data, len);
}

httpd_parse *httpd_parse_new(httpd_handler handler, void *arg, const char *client_addr)
{
	httpd_parse *p = util_xmalloc(sizeof(*p));
	memset(p, 0, sizeof(*p));
	http_parser_init(&p->parser, HTTP_REQUEST);
	p->parser.data = p;
	p->handler = handler;
	p->arg = arg;
	snprintf(p->client_addr, sizeof(p->client_addr), "%s", client_addr ? client_addr : "");
	return p;
}

int httpd_parse_feed(httpd_parse *p, const void *data, size_t len, buf *out)
{
	if (p->dead)
		return 1;
	if (len > 0)
		parse_append(p, data, len);
	int r;
	do {
		r = step(p);
		if (p->out.len > 0) {
			buf_append(out, p->out.data, p->out.len);
			p->out.len = 0;
			if (p->out.cap > IDLE_BUF_KEEP)
				buf_free(&p->out);
		}
	} while (r == STEP_ANSWERED);
	return r == STEP_CLOSE;
}

void httpd_parse_free(httpd_parse *p)
{
	if (!p)
		return;
	free_request(p);
	buf_free(&p->in);
	buf_free(&p->out);
	buf_free(&p->url);
	buf_free(&p->field);
	buf_free(&p->value);
	free(p);
}

/* ======================================================================== */
/* hconn: one admin connection on the server loop                           */
/* ======================================================================== */

enum hconn_state {
	HC_OPEN,     /* reading and answering requests */
	HC_DRAINING, /* the last response is queued; waiting for it to reach the kernel */
	HC_LINGER,   /* our side is shut; reading until the peer's FIN so it gets no RST */
	HC_CLOSING,  /* conn_close called; waiting for CONN_CLOSED */
};

typedef struct hconn {
	conn c;
	uv_timer_t timer;
	httpd_parse *p;
	struct hconn *prev, *next;
	enum hconn_state state;
	int handles;      /* conn + timer still open */
	int timer_inited;
	int conn_closed;
	int paused;       /* reading stopped for backpressure */
	int eof;          /* the peer's FIN was seen */
} hconn;

static struct {
	int running;
	uv_loop_t loop;
	uv_tcp_t listener;
	uv_async_t stop_async;
	uv_thread_t thread;
	SSL_CTX *tls;
	httpd_handler handler;
	void *arg;
	int port;
	int idle_ms;
	int max_conns;
	hconn *conns;
	int n_conns; /* allocated, closing ones included */
	int n_open;  /* not yet closing: what the connection limit counts */
	int stopping;
} srv;

static int test_idle_ms;
static int test_max_conns;

void httpd_set_idle_timeout_ms(int ms)
{
	test_idle_ms = ms > 0 ? ms : 0;
}

void httpd_set_max_connections(int n)
{
	test_max_conns = n > 0 ? n : 0;
}

int httpd_port(void)
{
	return srv.running ? srv.port : -1;
}

static void maybe_finish(void)
{
	if (srv.stopping && srv.n_conns == 0 && !uv_is_closing((uv_handle_t *)&srv.stop_async))
		uv_close((uv_handle_t *)&srv.stop_async, NULL);
}

static void hconn_free(hconn *hc)
{
	if (hc->prev)
		hc->prev->next = hc->next;
	else
		srv.conns = hc->next;
	if (hc->next)
		hc->next->prev = hc->prev;
	srv.n_conns--;
	httpd_parse_free(hc->p);
	free(hc);
	maybe_finish();
}

static void on_timer_closed(uv_handle_t *h)
{
	hconn *hc = h->data;
	if (--hc->handles == 0)
		hconn_free(hc);
}

static void on_timer(uv_timer_t *t);

static void timer_set(hconn *hc, int ms)
{
	if (hc->timer_inited && !uv_is_closing((uv_handle_t *)&hc->timer))
		uv_timer_start(&hc->timer, on_timer, (uint64_t)ms, 0);
}

/*
 * Cuts a socket that conn_close left waiting on uv_shutdown (a peer that
 * reads nothing keeps that pending forever): the pending write fails, the
 * shutdown completes, the handle closes.
 */
static void hconn_force(hconn *hc)
{
	if (hc->conn_closed || uv_is_closing((uv_handle_t *)&hc->c.tcp))
		return;
	uv_os_fd_t fd;
	if (uv_fileno((uv_handle_t *)&hc->c.tcp, &fd) == 0)
		shutdown(fd, SHUT_RDWR);
}

static void hconn_close(hconn *hc)
{
	if (hc->state == HC_CLOSING)
		return;
	if (hc->state == HC_OPEN)
		srv.n_open--;
	hc->state = HC_CLOSING;
	timer_set(hc, HTTPD_LINGER_MS);
	conn_close(&hc->c);
}

/* Sends what the parser produced. */
static void hconn_flush(hconn *hc)
{
	buf *out = &hc->p->out;
	if (out->len == 0)
		return;
	if (hc->state != HC_CLOSING)
		conn_write_copy(&hc->c, out->data, out->len);
	out->len = 0;
	if (out->cap > IDLE_BUF_KEEP)
		buf_free(out);
}

/* DRAINING: once the last response has reached the kernel, shut our side. */
static void hconn_drain_step(hconn *hc)
{
	if (hc->state != HC_DRAINING || conn_write_queued(&hc->c) > 0)
		return;
	/*
	 * Closing a socket with unread input makes the kernel send RST, which can
	 * destroy the response before the client reads it (a 413 while the body
	 * is still arriving). So half-close, read and discard until the peer's
	 * FIN or HTTPD_LINGER_MS. TLS needs close_notify first: conn_close does
	 * that, so TLS connections close directly.
	 */
	uv_os_fd_t fd;
	if (hc->eof || hc->c.ssl || uv_fileno((uv_handle_t *)&hc->c.tcp, &fd) != 0 ||
	    shutdown(fd, SHUT_WR) != 0) {
		hconn_close(hc);
		return;
	}
	hc->state = HC_LINGER;
	timer_set(hc, HTTPD_LINGER_MS);
	conn_read_start(&hc->c);
}

/* The last response is queued: close once it is out. */
static void hconn_finish(hconn *hc)
{
	if (hc->state != HC_OPEN)
		return;
	srv.n_open--;
	hc->state = HC_DRAINING;
	/* a client that does not read its last response gets the idle timeout */
	timer_set(hc, srv.idle_ms);
	hconn_drain_step(hc);
}

/* Answers buffered requests until input runs out, the connection ends, or the client lags. */
static void hconn_process(hconn *hc)
{
	while (hc->state == HC_OPEN) {
		if (conn_write_queued(&hc->c) > HTTPD_HIGH_WATER) {
			if (!hc->paused)
				log_debug("admin %s: client lags behind; reading paused", hc->p->client_addr);
			hc->paused = 1;
			conn_read_stop(&hc->c);
			return;
		}
		int r = step(hc->p);
		hconn_flush(hc);
		if (r == STEP_MORE)
			return;
		if (r == STEP_CLOSE) {
			hconn_finish(hc);
			return;
		}
		/* a complete request arrived: the idle clock starts again */
		timer_set(hc, srv.idle_ms);
	}
}

static void on_timer(uv_timer_t *t)
{
	hconn *hc = t->data;
	switch (hc->state) {
	case HC_OPEN:
		if (hc->paused) {
			/* its requests are in, it just reads none of the answers */
			log_info("admin %s: client does not read its responses; closed",
				 hc->p->client_addr);
			hconn_close(hc);
			hconn_force(hc);
		} else if (partial_request(hc->p)) {
			(void)fail(hc->p, 408, "request_timeout", "the request did not arrive in time");
			hconn_flush(hc);
			hconn_finish(hc);
		} else {
			log_debug("admin %s: idle connection closed", hc->p->client_addr);
			hconn_close(hc);
		}
		return;
	case HC_DRAINING:
		log_info("admin %s: client does not read its response; closed", hc->p->client_addr);
		hconn_close(hc);
		hconn_force(hc);
		return;
	case HC_LINGER:
		hconn_close(hc);
		return;
	case HC_CLOSING:
		hconn_force(hc);
		return;
	}
}

static void hconn_on_read(conn *c, chunk *ch)
{
	hconn *hc = c->owner;
	if (hc->state != HC_OPEN) {
		chunk_unref(ch); /* lingering: discarded */
		return;
	}
	parse_append(hc->p, ch->data + ch->start, ch->end - ch->start);
	chunk_unref(ch);
	hconn_process(hc);
}

static void hconn_on_event(conn *c, enum conn_event ev, int status)
{
	hconn *hc = c->owner;
	switch (ev) {
	case CONN_CLOSED:
		hc->conn_closed = 1;
		if (hc->timer_inited && !uv_is_closing((uv_handle_t *)&hc->timer))
			uv_close((uv_handle_t *)&hc->timer, on_timer_closed);
		if (--hc->handles == 0)
			hconn_free(hc);
		return;
	case CONN_WRITTEN:
		if (hc->state == HC_DRAINING) {
			hconn_drain_step(hc);
		} else if (hc->state == HC_OPEN && hc->paused &&
			   conn_write_queued(&hc->c) < HTTPD_LOW_WATER) {
			hc->paused = 0;
			conn_read_start(&hc->c);
			hconn_process(hc);
			conn_drain(&hc->c);
		}
		return;
	case CONN_EOF:
		hc->eof = 1;
		if (hc->state == HC_OPEN)
			hconn_finish(hc);
		else if (hc->state == HC_LINGER)
			hconn_close(hc);
		return;
	case CONN_ERROR:
		if (status == CONN_ERR_TLS)
			log_info("admin %s: %s", hc->p ? hc->p->client_addr : "?", c->err);
		hconn_close(hc);
		return;
	default:
		return;
	}
}

static void on_connection(uv_stream_t *server, int status)
{
	if (status < 0) {
		log_warn("admin: accept failed: %s", uv_strerror(status));
		return;
	}
	hconn *hc = util_xmalloc(sizeof(*hc));
	memset(hc, 0, sizeof(*hc));
	if (conn_init(&hc->c, &srv.loop, hc, hconn_on_read, hconn_on_event) != 0) {
		free(hc);
		log_warn("admin: cannot set up a connection");
		return;
	}
	hc->handles = 1;
	if (uv_timer_init(&srv.loop, &hc->timer) == 0) {
		hc->timer.data = hc;
		hc->timer_inited = 1;
		hc->handles++;
	}
	hc->next = srv.conns;
	if (hc->next)
		hc->next->prev = hc;
	srv.conns = hc;
	srv.n_conns++;
	srv.n_open++;
	hc->state = HC_OPEN;
	char addr[80] = "";
	if (uv_accept(server, (uv_stream_t *)&hc->c.tcp) != 0 || !hc->timer_inited) {
		hc->p = httpd_parse_new(srv.handler, srv.arg, "");
		hconn_close(hc);
		return;
	}
	uv_tcp_nodelay(&hc->c.tcp, 1);
	if (conn_peer_name(&hc->c, addr, sizeof(addr)) != 0)
		snprintf(addr, sizeof(addr), "unknown");
	hc->p = httpd_parse_new(srv.handler, srv.arg, addr);
	if (srv.n_open > srv.max_conns) {
		log_warn("admin %s: refused, %d connections open", addr, srv.n_open - 1);
		/* over TLS a reply needs a handshake first: just close */
		if (!srv.tls) {
			(void)fail(hc->p, 503, "too_many_connections",
				   "the admin API has too many open connections");
			hconn_flush(hc);
			hconn_finish(hc);
		} else {
			hconn_close(hc);
		}
		return;
	}
	if (srv.tls && conn_tls_server(&hc->c, srv.tls) != 0) {
		log_warn("admin %s: cannot start TLS", addr);
		hconn_close(hc);
		return;
	}
	timer_set(hc, srv.idle_ms);
	conn_read_start(&hc->c);
}

static void on_stop(uv_async_t *a)
{
	(void)a;
	if (srv.stopping)
		return;
	srv.stopping = 1;
	uv_close((uv_handle_t *)&srv.listener, NULL);
	for (hconn *hc = srv.conns; hc; hc = hc->next) {
		hconn_close(hc);
		hconn_force(hc); /* stopping does not wait for slow readers */
	}
	maybe_finish();
}

static void server_main(void *arg)
{
	(void)arg;
	uv_run(&srv.loop, UV_RUN_DEFAULT);
}

int httpd_start(const char *host, int port, SSL_CTX *tls, httpd_handler handler, void *arg,
		char *err, size_t errlen)
{
	if (srv.running) {
		util_errf(err, errlen, "listen.admin: the admin server is already running");
		return -1;
	}
	if (!host || !handler || port < 0 || port > 65535) {
		util_errf(err, errlen, "listen.admin: invalid address or handler");
		return -1;
	}
	int v6 = strchr(host, ':') != NULL;
	char shown[96];
	snprintf(shown, sizeof(shown), v6 ? "[%s]:%d" : "%s:%d", host, port);
	struct sockaddr_storage addr;
	memset(&addr, 0, sizeof(addr));
	if (uv_ip4_addr(host, port, (struct sockaddr_in *)&addr) != 0 &&
	    uv_ip6_addr(host, port, (struct sockaddr_in6 *)&addr) != 0) {
		util_errf(err, errlen, "listen.admin %s: not an IP address", shown);
		return -1;
	}

	memset(&srv, 0, sizeof(srv));
	srv.tls = tls;
	srv.handler = handler;
	srv.arg = arg;
	srv.idle_ms = test_idle_ms ? test_idle_ms : HTTPD_IDLE_TIMEOUT_MS;
	srv.max_conns = test_max_conns ? test_max_conns : HTTPD_MAX_CONNECTIONS;
	if (uv_loop_init(&srv.loop) != 0) {
		util_errf(err, errlen, "listen.admin %s: cannot create an event loop", shown);
		return -1;
	}
	int listener_inited = 0, async_inited = 0;
	int rc = uv_tcp_init_ex(&srv.loop, &srv.listener, addr.ss_family);
	if (rc != 0)
		goto fail;
	listener_inited = 1;
	/* libuv sets SO_REUSEADDR; bind errors may only show at listen() */
	rc = uv_tcp_bind(&srv.listener, (struct sockaddr *)&addr, 0);
	if (rc == 0)
		rc = uv_listen((uv_stream_t *)&srv.listener, 128, on_connection);
	if (rc != 0)
		goto fail;
	struct sockaddr_storage bound;
	int blen = sizeof(bound);
	rc = uv_tcp_getsockname(&srv.listener, (struct sockaddr *)&bound, &blen);
	if (rc != 0)
		goto fail;
	srv.port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
						     : ((struct sockaddr_in *)&bound)->sin_port);
	rc = uv_async_init(&srv.loop, &srv.stop_async, on_stop);
	if (rc != 0)
		goto fail;
	async_inited = 1;
	rc = uv_thread_create(&srv.thread, server_main, NULL);
	if (rc != 0)
		goto fail;
	srv.running = 1;
	snprintf(shown, sizeof(shown), v6 ? "[%s]:%d" : "%s:%d", host, srv.port);
	log_info("admin API listening on %s%s", shown, tls ? " (TLS)" : "");
	return 0;

fail:
	util_errf(err, errlen, "listen.admin %s: %s", shown, uv_strerror(rc));
	if (listener_inited)
		uv_close((uv_handle_t *)&srv.listener, NULL);
	if (async_inited)
		uv_close((uv_handle_t *)&srv.stop_async, NULL);
	uv_run(&srv.loop, UV_RUN_DEFAULT);
	if (uv_loop_close(&srv.loop) != 0)
		log_warn("admin: event loop not closed cleanly");
	return -1;
}

void httpd_stop(void)
{
	if (!srv.running)
		return;
	if (uv_async_send(&srv.stop_async) != 0)
		log_error("admin: cannot signal the server thread to stop");
	if (uv_thread_join(&srv.thread) != 0)
		log_error("admin: cannot join the server thread");
	if (uv_loop_close(&srv.loop) != 0)
		log_warn("admin: event loop not closed cleanly");
	srv.running = 0;
}
