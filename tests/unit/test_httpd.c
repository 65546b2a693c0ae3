/*
 * httpd — the admin HTTP/1.1 server end to end: a real server thread on
 * 127.0.0.1 (port 0), an echo handler, libcurl for well-formed traffic and
 * raw sockets for malformed, oversized, pipelined, slow and non-reading
 * clients; TLS with a certificate generated here; the socket-free parser
 * and the query helper directly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "admin/httpd.h"
#include "core/buf.h"

/* ---- the echo handler ---------------------------------------------------- */

static json_t *str_or_null(const char *s, size_t n)
{
	if (!s)
		return json_null();
	json_t *j = json_stringn(s, n);
	return j ? j : json_string("<not utf-8>");
}

/*
 * Echoes the request. Paths with a meaning:
 *   /extra        401 with two extra headers
 *   /bad-extra    malformed extra headers (the server drops them)
 *   /status/NNN   that status
 *   /big?n=N      a body with an N-byte string
 */
static void echo_handler(const httpd_request *r, int *status, json_t **body, char **extra,
			 void *arg)
{
	(void)arg;
	json_t *o = json_object();
	json_object_set_new(o, "method", json_string(r->method));
	json_object_set_new(o, "path", str_or_null(r->path, strlen(r->path)));
	json_object_set_new(o, "query", str_or_null(r->query, strlen(r->query)));
	json_object_set_new(o, "body", str_or_null(r->body, r->body_len));
	json_object_set_new(o, "body_len", json_integer((json_int_t)r->body_len));
	json_object_set_new(o, "authorization",
			    str_or_null(r->authorization, r->authorization ? strlen(r->authorization) : 0));
	json_object_set_new(o, "user_agent",
			    str_or_null(r->user_agent, r->user_agent ? strlen(r->user_agent) : 0));
	json_object_set_new(o, "content_type",
			    str_or_null(r->content_type, r->content_type ? strlen(r->content_type) : 0));
	json_object_set_new(o, "client", json_string(r->client_addr));
	char v[64];
	if (httpd_query_param(r, "name", v, sizeof(v)))
		json_object_set_new(o, "name", str_or_null(v, strlen(v)));
	if (httpd_query_param(r, "x", v, sizeof(v)))
		json_object_set_new(o, "x", str_or_null(v, strlen(v)));
	if (httpd_query_param(r, "flag", v, sizeof(v)))
		json_object_set_new(o, "flag", str_or_null(v, strlen(v)));
	*status = 200;
	if (strcmp(r->path, "/extra") == 0) {
		*status = 401;
		*extra = strdup("WWW-Authenticate: Bearer realm=\"warden\"\r\nX-Test: yes\r\n");
	} else if (strcmp(r->path, "/bad-extra") == 0) {
		*extra = strdup("X-Evil: a\r\n\r\nHTTP/1.1 200 OK\r\n");
	} else if (strncmp(r->path, "/status/", 8) == 0) {
		*status = atoi(r->path + 8);
	} else if (strcmp(r->path, "/big") == 0) {
		size_t n = 0;
		if (httpd_query_param(r, "n", v, sizeof(v)))
			n = (size_t)strtoul(v, NULL, 10);
		char *s = malloc(n + 1);
		memset(s, 'x', n);
		s[n] = '\0';
		json_object_set_new(o, "big", json_string(s));
		free(s);
	}
	*body = o;
}

/* ---- fixtures ------------------------------------------------------------- */

static int start_server(void **state)
{
	(void)state;
	char err[256];
	int rc = httpd_start("127.0.0.1", 0, NULL, echo_handler, NULL, err, sizeof(err));
	if (rc != 0)
		fprintf(stderr, "httpd_start: %s\n", err);
	assert_int_equal(rc, 0);
	assert_true(httpd_port() > 0);
	return 0;
}

static int start_server_short_idle(void **state)
{
	httpd_set_idle_timeout_ms(300);
	int rc = start_server(state);
	httpd_set_idle_timeout_ms(0);
	return rc;
}

static int start_server_two_conns(void **state)
{
	httpd_set_max_connections(2);
	int rc = start_server(state);
	httpd_set_max_connections(0);
	return rc;
}

static int stop_server(void **state)
{
	(void)state;
	httpd_stop();
	assert_int_equal(httpd_port(), -1);
	return 0;
}

/* ---- curl helpers --------------------------------------------------------- */

static size_t collect(char *p, size_t size, size_t n, void *ud)
{
	buf_append(ud, p, size * n);
	return size * n;
}

static void url_of(char *out, size_t n, const char *scheme, const char *path)
{
	snprintf(out, n, "%s://127.0.0.1:%d%s", scheme, httpd_port(), path);
}

/* One request on handle h; body and headers collected, NUL-terminated. */
static long curl_do(CURL *h, const char *path, const char *post, buf *body, buf *hdrs)
{
	char url[256];
	url_of(url, sizeof(url), "http", path);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, body);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, collect);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, hdrs);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
	if (post) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, post);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(post));
	}
	CURLcode rc = curl_easy_perform(h);
	if (rc != CURLE_OK)
		fprintf(stderr, "curl: %s\n", curl_easy_strerror(rc));
	assert_int_equal(rc, CURLE_OK);
	long status = 0;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	buf_append(body, "", 1);
	body->len--;
	buf_append(hdrs, "", 1);
	hdrs->len--;
	return status;
}

static json_t *parse_json(const buf *b)
{
	json_error_t e;
	json_t *j = json_loadb(b->data, b->len, 0, &e);
	if (!j)
		fprintf(stderr, "bad JSON (%s): %.*s\n", e.text, (int)b->len, b->data);
	assert_non_null(j);
	return j;
}

static void assert_json_str(json_t *o, const char *key, const char *want)
{
	json_t *v = json_object_get(o, key);
	if (!want) {
		assert_true(v == NULL || json_is_null(v));
		return;
	}
	assert_non_null(v);
	assert_true(json_is_string(v));
	assert_string_equal(json_string_value(v), want);
}

/* ---- raw socket helpers ----------------------------------------------------- */

static int raw_connect_port(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

static int raw_connect(void)
{
	return raw_connect_port(httpd_port());
}

static void raw_send(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n > 0) {
		ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		assert_true(w > 0);
		c += w;
		n -= (size_t)w;
	}
}

static void raw_sends(int fd, const char *s)
{
	raw_send(fd, s, strlen(s));
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Reads into b until EOF (returns 1), until `until` occurs in what was read
 * (returns 0), or timeout_ms passes (returns -1). b stays NUL-terminated.
 */
static int raw_read(int fd, buf *b, const char *until, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;
	for (;;) {
		if (until && b->len && memmem(b->data, b->len, until, strlen(until)))
			return 0;
		int64_t left = deadline - now_ms();
		if (left <= 0)
			return -1;
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		int pr = poll(&pfd, 1, (int)left);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr == 0)
			return -1;
		buf_reserve(b, 65537);
		ssize_t n = recv(fd, b->data + b->len, 65536, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			b->data[b->len] = '\0';
			return 1; /* EOF or reset: the server is done with us */
		}
		b->len += (size_t)n;
		b->data[b->len] = '\0';
	}
}

static size_t count_of(const buf *b, const char *needle)
{
	size_t n = 0, nl = strlen(needle);
	const char *p = b->data, *end = b->data + b->len;
	while (p && p < end) {
		p = memmem(p, (size_t)(end - p), needle, nl);
		if (p) {
			n++;
			p += nl;
		}
	}
	return n;
}

/* The JSON body of the first response in b. */
static json_t *first_body(const buf *b)
{
	const char *h = strstr(b->data, "\r\n\r\n");
	assert_non_null(h);
	const char *cl = strcasestr(b->data, "Content-Length: ");
	assert_non_null(cl);
	assert_true(cl < h);
	size_t n = (size_t)strtoul(cl + 16, NULL, 10);
	assert_true((size_t)(b->data + b->len - (h + 4)) >= n);
	assert_int_equal(h[4 + n - 1], '\n');
	json_error_t e;
	json_t *j = json_loadb(h + 4, n, 0, &e);
	assert_non_null(j);
	return j;
}

/* ---- tests: well-formed traffic -------------------------------------------- */

static void test_get_query(void **state)
{
	(void)state;
	CURL *h = curl_easy_init();
	buf body = {0}, hdrs = {0};
	curl_easy_setopt(h, CURLOPT_USERAGENT, "test-agent/1.0");
	long st = curl_do(h, "/echo%20path/a%2Fb?name=J%C3%B6rg+Doe&x=a%26b&flag", NULL, &body, &hdrs);
	assert_int_equal(st, 200);
	json_t *j = parse_json(&body);
	assert_json_str(j, "method", "GET");
	assert_json_str(j, "path", "/echo path/a/b");
	assert_json_str(j, "query", "name=J%C3%B6rg+Doe&x=a%26b&flag");
	assert_json_str(j, "name", "J\xc3\xb6rg Doe");
	assert_json_str(j, "x", "a&b");
	assert_json_str(j, "flag", "");
	assert_json_str(j, "user_agent", "test-agent/1.0");
	assert_json_str(j, "authorization", NULL);
	assert_json_str(j, "body", "");
	const char *client = json_string_value(json_object_get(j, "client"));
	assert_non_null(client);
	assert_true(strncmp(client, "127.0.0.1:", 10) == 0);
	/* the fixed headers */
	assert_non_null(strstr(hdrs.data, "Content-Type: application/json\r\n"));
	assert_non_null(strstr(hdrs.data, "Cache-Control: no-store\r\n"));
	assert_non_null(strstr(hdrs.data, "Connection: keep-alive\r\n"));
	/* compact JSON followed by one newline */
	assert_int_equal(body.data[body.len - 1], '\n');
	assert_null(strstr(body.data, ": "));
	json_decref(j);
	buf_free(&body);
	buf_free(&hdrs);
	curl_easy_cleanup(h);
}

static void test_post_json(void **state)
{
	(void)state;
	CURL *h = curl_easy_init();
	buf body = {0}, hdrs = {0};
	struct curl_slist *sl = NULL;
	sl = curl_slist_append(sl, "Content-Type: application/json");
	sl = curl_slist_append(sl, "Authorization: Bearer s3cret-token");
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, sl);
	const char *doc = "{\"sql\":\"select 1\",\"n\":[1,2,3]}";
	long st = curl_do(h, "/v1/things", doc, &body, &hdrs);
	assert_int_equal(st, 200);
	json_t *j = parse_json(&body);
	assert_json_str(j, "method", "POST");
	assert_json_str(j, "path", "/v1/things");
	assert_json_str(j, "query", "");
	assert_json_str(j, "body", doc);
	assert_json_str(j, "content_type", "application/json");
	assert_json_str(j, "authorization", "Bearer s3cret-token");
	json_decref(j);

	/* a large body: curl asks with Expect: 100-continue first */
	size_t big = 300 * 1024;
	char *s = malloc(big + 1);
	memset(s, 'b', big);
	s[big] = '\0';
	body.len = hdrs.len = 0;
	st = curl_do(h, "/upload", s, &body, &hdrs);
	assert_int_equal(st, 200);
	j = parse_json(&body);
	assert_int_equal(json_integer_value(json_object_get(j, "body_len")), (json_int_t)big);
	json_decref(j);
	free(s);
	curl_slist_free_all(sl);
	buf_free(&body);
	buf_free(&hdrs);
	curl_easy_cleanup(h);
}

static void test_keepalive(void **state)
{
	(void)state;
	CURL *h = curl_easy_init();
	buf body = {0}, hdrs = {0};
	assert_int_equal(curl_do(h, "/one", NULL, &body, &hdrs), 200);
	long conns = -1;
	curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &conns);
	assert_int_equal(conns, 1);
	body.len = hdrs.len = 0;
	assert_int_equal(curl_do(h, "/two", NULL, &body, &hdrs), 200);
	curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &conns);
	assert_int_equal(conns, 0); /* the second request reused the connection */
	json_t *j = parse_json(&body);
	assert_json_str(j, "path", "/two");
	json_decref(j);
	buf_free(&body);
	buf_free(&hdrs);
	curl_easy_cleanup(h);
}

static void test_pipelined(void **state)
{
	(void)state;
	int fd = raw_connect();
	raw_sends(fd, "GET /first HTTP/1.1\r\nHost: x\r\n\r\n"
		      "POST /second HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
		      "GET /third?x=3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	buf b = {0};
	assert_int_equal(raw_read(fd, &b, NULL, 5000), 1);
	assert_int_equal(count_of(&b, "HTTP/1.1 200 OK\r\n"), 3);
	const char *a1 = strstr(b.data, "\"/first\"");
	const char *a2 = strstr(b.data, "\"/second\"");
	const char *a3 = strstr(b.data, "\"/third\"");
	assert_non_null(a1);
	assert_non_null(a2);
	assert_non_null(a3);
	assert_true(a1 < a2 && a2 < a3);
	assert_non_null(strstr(b.data, "\"body\":\"hello\""));
	assert_int_equal(count_of(&b, "Connection: keep-alive\r\n"), 2);
	assert_int_equal(count_of(&b, "Connection: close\r\n"), 1);
	buf_free(&b);
	close(fd);
}

static void test_split_writes(void **state)
{
	(void)state;
	/* every byte in its own segment: callbacks see values in pieces */
	int fd = raw_connect();
	const char *req = "GET /slow HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer piece-by-piece\r\n"
			  "Connection: close\r\n\r\n";
	for (const char *c = req; *c; c++) {
		raw_send(fd, c, 1);
		if ((c - req) % 7 == 0)
			usleep(1000);
	}
	buf b = {0};
	assert_int_equal(raw_read(fd, &b, NULL, 5000), 1);
	json_t *j = first_body(&b);
	assert_json_str(j, "authorization", "Bearer piece-by-piece");
	assert_json_str(j, "path", "/slow");
	json_decref(j);
	buf_free(&b);
	close(fd);
}

static void test_http10(void **state)
{
	(void)state;
	int fd = raw_connect();
	raw_sends(fd, "GET /old HTTP/1.0\r\n\r\n");
	buf b = {0};
	assert_int_equal(raw_read(fd, &b, NULL, 5000), 1);
	assert_true(strncmp(b.data, "HTTP/1.1 200 OK\r\n", 17) == 0);
	assert_non_null(strstr(b.data, "Connection: close\r\n"));
	buf_free(&b);
	close(fd);
}

static void test_head(void **state)
{
	(void)state;
	int fd = raw_connect();
	raw_sends(fd, "HEAD /h HTTP/1.1\r\nHost: x\r\n\r\nGET /after HTTP/1.1\r\nConnection: close\r\n\r\n");
	buf b = {0};
	assert_int_equal(raw_read(fd, &b, NULL, 5000), 1);
	/* the HEAD answer has a Content-Length but no body: the next response follows at once */
	const char *end = strstr(b.data, "\r\n\r\n");
	assert_non_null(end);
	assert_true(strncmp(end + 4, "HTTP/1.1 200 OK\r\n", 17) == 0);
	assert_null(strstr(b.data, "\"/h\""));
	assert_non_null(strstr(b.data, "\"/after\""));
	buf_free(&b);
	close(fd);
}

static void test_chunked(void **state)
{
	(void)state;
	int fd = raw_connect();
	raw_sends(fd, "POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
		      "Connection: close\r\n\r\n"
		      "5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nX-Trailer: t\r\n\r\n");
	buf b = {0};
	assert_int_equal(raw_read(fd, &b, NULL, 5000), 1);
	json_t *j = first_body(&b);
	assert_json_str(j, "body", "hello, world");
	json_decref(j);
	buf_free(&b);
	close(fd);
}

static void test_expect(void **state)
{
	(void)state;
	int fd = raw_connect();
	raw_sends(fd, "POST /e HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
	buf b = {0};
	assert_int_equal(raw_read(fd, &b, "\r\n\r\n", 5000), 0);
	assert_string_equal(b.data, "HTTP/1.1 100 Continue\r\n\r\n");
	raw_sends(fd, "abcde");
	assert_int_equal(raw_read(fd, &b, "}\n", 5000), 0);
	assert_non_null(strstr(b.data, "HTTP/1.1 200 OK\r\n"));
	assert_non_null(strstr(b.data, "\"body\":\"abcde\""));
	close(fd);

	/* an expectation we do not know: 417 */
	fd = raw_connect();
	b.len = 0;
	raw_sends(fd, "POST /e HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: telepathy\r\n\r\n");
	assert_int_equal(raw_read(fd, &b, NULL, 5000), 1);
	assert_true(strncmp(b.data, "HTTP/1.1 417 ", 13) == 0);
	json_t *j = first_body(&b);
	assert_json_str(j, "error", "expectation_failed");
	json_decref(j);
	buf_free(&b);
	close(fd);
}

static void test_extra_headers(void **state)
{
	(void)state;
	CURL *h = curl_easy_init();
	buf body = {0}, hdrs = {0};
	assert_int_equal(curl_do(h, "/extra", NULL, &body, &hdrs), 401);
	assert_non_null(strstr(hdrs.data, "WWW-Authenticate: Bearer realm=\"warden\"\r\n"));
	assert_non_null(strstr(hdrs.data, "X-Test: yes\r\n"));
	/* extra headers come before Connection, the last header */
	assert_true(strstr(hdrs.data, "X-Test: yes") < strstr(hdrs.data, "Connection: "));
	body.len = hdrs.len = 0;
	assert_int_equal(curl_do(h, "/bad-extra", NULL, &body, &hdrs), 200);
	assert_null(strstr(hdrs.data, "X-Evil"));
	assert_int_equal(count_of(&hdrs, "HTTP/1.1 "), 1);
	body.len = hdrs.len = 0;
	assert_int_equal(curl_do(h, "/status/404", NULL, &body, &hdrs), 404);
	assert_non_null(strstr(hdrs.data, "HTTP/1.1 404 Not Found\r\n"));
	body.len = hdrs.len = 0;
	/* a handler status outside 200..599 becomes 500 */
	assert_int_equal(curl_do(h, "/status/42", NULL, &body, &hdrs), 500);
	buf_free(&body);
	buf_free(&hdrs);
	curl_easy_cleanup(h);
}

/* ---- tests: bad input -------------------------------------------------------- */

/* Sends req on a new connection; expects `status`, a JSON error body, then EOF. */
static void expect_error(const char *req, size_t len, int status, const char *code)
{
	int fd = raw_connect();
	raw_send(fd, req, len);
	buf b = {0};
	assert_int_equal(raw_read(fd, &b, NULL, 5000), 1);
	char want[32];
	snprintf(want, sizeof(want), "HTTP/1.1 %d ", status);
	if (strncmp(b.data ? b.data : "", want, strlen(want)) != 0)
		fprintf(stderr, "expected %d, got: %.200s\n", status, b.data ? b.data : "(nothing)");
	assert_true(strncmp(b.data, want, strlen(want)) == 0);
	assert_non_null(strstr(b.data, "Connection: close\r\n"));
	json_t *j = first_body(&b);
	assert_json_str(j, "error", code);
	assert_true(json_is_string(json_object_get(j, "message")));
	json_decref(j);
	buf_free(&b);
	close(fd);
}

static void expect_errors(const char *req, int status, const char *code)
{
	expect_error(req, strlen(req), status, code);
}

static void test_malformed(void **state)
{
	(void)state;
	expect_errors("GARBAGE\r\n\r\n", 400, "bad_request");
	expect_errors("GET / HTTP/1.1 extra\r\n\r\n", 400, "bad_request");
	expect_errors("GET /\x01 HTTP/1.1\r\n\r\n", 400, "bad_request");
	expect_errors("GET / HTTP/1.1\r\nBad Header\r\n\r\n", 400, "bad_request");
	expect_errors("GET /a%00b HTTP/1.1\r\n\r\n", 400, "bad_request");
	expect_errors("GET /a%zz HTTP/1.1\r\n\r\n", 400, "bad_request");
	expect_errors("GET * HTTP/1.1\r\n\r\n", 400, "bad_request");
	expect_errors("CONNECT example.com:443 HTTP/1.1\r\n\r\n", 400, "bad_request");
	expect_errors("POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400,
		      "bad_request");
	expect_errors("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 400, "bad_request");
	expect_errors("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400,
		      "bad_request");
	expect_errors("GET / HTTP/1.1\r\nAuthorization: a\r\nAuthorization: b\r\n\r\n", 400,
		      "bad_request");
	/* a NUL byte in the request line */
	expect_error("GET /\0 HTTP/1.1\r\n\r\n", 19, 400, "bad_request");

	/* after a good request, a bad one still gets its 400, and only that */
	int fd = raw_connect();
	raw_sends(fd, "GET /ok HTTP/1.1\r\n\r\nNOPE\r\n\r\nGET /never HTTP/1.1\r\n\r\n");
	buf b = {0};
	assert_int_equal(raw_read(fd, &b, NULL, 5000), 1);
	assert_true(strncmp(b.data, "HTTP/1.1 200 OK\r\n", 17) == 0);
	const char *second = strstr(b.data + 1, "HTTP/1.1 ");
	assert_non_null(second);
	assert_true(strncmp(second, "HTTP/1.1 400 Bad Request\r\n", 26) == 0);
	assert_int_equal(count_of(&b, "HTTP/1.1 "), 2);
	assert_null(strstr(b.data, "/never"));
	buf_free(&b);
	close(fd);
}

static void test_header_too_large(void **state)
{
	(void)state;
	buf r = {0};
	buf_printf(&r, "GET / HTTP/1.1\r\nHost: x\r\nX-Pad: ");
	for (int i = 0; i < HTTPD_MAX_HEADER_BYTES; i++)
		buf_append(&r, "a", 1);
	buf_printf(&r, "\r\n\r\n");
	expect_error(r.data, r.len, 431, "headers_too_large");
	/* many small headers */
	r.len = 0;
	buf_printf(&r, "GET / HTTP/1.1\r\n");
	for (int i = 0; i < 2000; i++)
		buf_printf(&r, "X-H%d: v\r\n", i);
	buf_printf(&r, "\r\n");
	expect_error(r.data, r.len, 431, "headers_too_large");
	/* a long URL */
	r.len = 0;
	buf_printf(&r, "GET /");
	for (int i = 0; i < HTTPD_MAX_HEADER_BYTES; i++)
		buf_append(&r, "u", 1);
	buf_printf(&r, " HTTP/1.1\r\n\r\n");
	expect_error(r.data, r.len, 431, "headers_too_large");
	/* just under the limit is fine */
	r.len = 0;
	buf_printf(&r, "GET /fits HTTP/1.1\r\nConnection: close\r\nX-Pad: ");
	while (r.len < HTTPD_MAX_HEADER_BYTES - 100)
		buf_append(&r, "a", 1);
	buf_printf(&r, "\r\n\r\n");
	int fd = raw_connect();
	raw_send(fd, r.data, r.len);
	buf b = {0};
	assert_int_equal(raw_read(fd, &b, NULL, 5000), 1);
	assert_true(strncmp(b.data, "HTTP/1.1 200 ", 13) == 0);
	close(fd);
	buf_free(&b);
	buf_free(&r);
}

static void test_body_too_large(void **state)
{
	(void)state;
	char req[256];
	snprintf(req, sizeof(req), "POST / HTTP/1.1\r\nContent-Length: %d\r\n\r\n",
		 HTTPD_MAX_BODY_BYTES + 1);
	expect_errors(req, 413, "body_too_large");

	/* chunked, over the limit while the client is still sending */
	buf r = {0};
	buf_printf(&r, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
	for (int i = 0; i < 20; i++) {
		buf_printf(&r, "10000\r\n");
		buf_reserve(&r, 0x10000);
		memset(r.data + r.len, 'c', 0x10000);
		r.len += 0x10000;
		buf_printf(&r, "\r\n");
	}
	expect_error(r.data, r.len, 413, "body_too_large");
	buf_free(&r);

	/* exactly at the limit is accepted */
	CURL *h = curl_easy_init();
	char *s = malloc(HTTPD_MAX_BODY_BYTES + 1);
	memset(s, 'z', HTTPD_MAX_BODY_BYTES);
	s[HTTPD_MAX_BODY_BYTES] = '\0';
	buf body = {0}, hdrs = {0};
	assert_int_equal(curl_do(h, "/max", s, &body, &hdrs), 200);
	json_t *j = parse_json(&body);
	assert_int_equal(json_integer_value(json_object_get(j, "body_len")), HTTPD_MAX_BODY_BYTES);
	json_decref(j);
	free(s);
	buf_free(&body);
	buf_free(&hdrs);
	curl_easy_cleanup(h);
}

/* ---- tests: connection management --------------------------------------------- */

static void test_idle_timeout(void **state)
{
	(void)state;
	/* nothing sent: closed without a word */
	int fd = raw_connect();
	int64_t t0 = now_ms();
	buf b = {0};
	assert_int_equal(raw_read(fd, &b, NULL, 5000), 1);
	int64_t dt = now_ms() - t0;
	assert_int_equal(b.len, 0);
	assert_true(dt >= 250 && dt < 3000);
	close(fd);

	/* a request that never completes (slow loris): 408 */
	fd = raw_connect();
	raw_sends(fd, "GET /never HTTP/1.1\r\nHost: x\r\n");
	assert_int_equal(raw_read(fd, &b, NULL, 5000), 1);
	assert_true(strncmp(b.data, "HTTP/1.1 408 ", 13) == 0);
	json_t *j = first_body(&b);
	assert_json_str(j, "error", "request_timeout");
	json_decref(j);
	close(fd);

	/* trickling header bytes does not extend the deadline */
	fd = raw_connect();
	b.len = 0;
	t0 = now_ms();
	raw_sends(fd, "GET /trickle HTTP/1.1\r\n");
	int r = -1;
	for (int i = 0; i < 40 && r != 1; i++) {
		(void)send(fd, "X-A: b\r\n", 8, MSG_NOSIGNAL);
		r = raw_read(fd, &b, NULL, 50);
	}
	assert_int_equal(r, 1);
	assert_true(now_ms() - t0 < 1500);
	assert_true(strncmp(b.data, "HTTP/1.1 408 ", 13) == 0);
	close(fd);

	/* after a complete request the clock restarts, then an idle keep-alive closes */
	fd = raw_connect();
	b.len = 0;
	raw_sends(fd, "GET /a HTTP/1.1\r\n\r\n");
	assert_int_equal(raw_read(fd, &b, "}\n", 5000), 0);
	assert_int_equal(raw_read(fd, &b, NULL, 5000), 1);
	assert_int_equal(count_of(&b, "HTTP/1.1 "), 1);
	close(fd);

	/* a client that asks for a lot and reads nothing is cut after the timeout */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	int small = 4096;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)httpd_port())};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	buf reqs = {0};
	for (int i = 0; i < 32; i++)
		buf_printf(&reqs, "GET /big?n=262144 HTTP/1.1\r\n\r\n");
	raw_send(fd, reqs.data, reqs.len);
	usleep(1200 * 1000); /* the timeout passes while we read nothing */
	b.len = 0;
	assert_int_equal(raw_read(fd, &b, NULL, 5000), 1);
	assert_true(count_of(&b, "HTTP/1.1 200 OK\r\n") < 32);
	close(fd);
	buf_free(&reqs);
	buf_free(&b);
}

static void test_too_many_connections(void **state)
{
	(void)state;
	int a = raw_connect();
	int b2 = raw_connect();
	/* make sure both were accepted before the third */
	raw_sends(a, "GET /a HTTP/1.1\r\n\r\n");
	raw_sends(b2, "GET /b HTTP/1.1\r\n\r\n");
	buf b = {0};
	assert_int_equal(raw_read(a, &b, "}\n", 5000), 0);
	b.len = 0;
	assert_int_equal(raw_read(b2, &b, "}\n", 5000), 0);
	b.len = 0;
	int c = raw_connect();
	assert_int_equal(raw_read(c, &b, NULL, 5000), 1);
	assert_true(strncmp(b.data, "HTTP/1.1 503 ", 13) == 0);
	json_t *j = first_body(&b);
	assert_json_str(j, "error", "too_many_connections");
	json_decref(j);
	close(c);
	/* the two open ones are untouched */
	b.len = 0;
	raw_sends(a, "GET /again HTTP/1.1\r\nConnection: close\r\n\r\n");
	assert_int_equal(raw_read(a, &b, NULL, 5000), 1);
	assert_non_null(strstr(b.data, "\"/again\""));
	close(a);
	/* a closed slot is free again */
	usleep(100 * 1000);
	c = raw_connect();
	b.len = 0;
	raw_sends(c, "GET /later HTTP/1.1\r\nConnection: close\r\n\r\n");
	assert_int_equal(raw_read(c, &b, NULL, 5000), 1);
	assert_non_null(strstr(b.data, "\"/later\""));
	close(c);
	close(b2);
	buf_free(&b);
}

static void test_backpressure(void **state)
{
	(void)state;
	/* a client that pipelines 64 requests for 256 KiB each and reads nothing */
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int small = 4096;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)httpd_port())};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	const int n = 64;
	buf r = {0};
	for (int i = 0; i < n; i++)
		buf_printf(&r, "GET /big?n=262144 HTTP/1.1\r\n%s\r\n",
			   i == n - 1 ? "Connection: close\r\n" : "");
	raw_send(fd, r.data, r.len);
	usleep(300 * 1000);

	/* the server still serves others meanwhile */
	CURL *h = curl_easy_init();
	buf body = {0}, hdrs = {0};
	assert_int_equal(curl_do(h, "/other", NULL, &body, &hdrs), 200);
	curl_easy_cleanup(h);

	/* then everything arrives, in order */
	buf b = {0};
	assert_int_equal(raw_read(fd, &b, NULL, 20000), 1);
	assert_int_equal(count_of(&b, "HTTP/1.1 200 OK\r\n"), (size_t)n);
	assert_true(b.len > (size_t)n * 262144);
	close(fd);
	buf_free(&b);
	buf_free(&r);
	buf_free(&body);
	buf_free(&hdrs);
}

static void test_stop_with_open_connections(void **state)
{
	(void)state;
	int idle = raw_connect();
	int partial = raw_connect();
	raw_sends(partial, "POST /x HTTP/1.1\r\nContent-Length: 100\r\n\r\nabc");
	/* one that does not read a large answer */
	int stuck = socket(AF_INET, SOCK_STREAM, 0);
	int small = 4096;
	setsockopt(stuck, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)httpd_port())};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(stuck, (struct sockaddr *)&a, sizeof(a)), 0);
	raw_sends(stuck, "GET /big?n=3000000 HTTP/1.1\r\n\r\n");
	/* and one on keep-alive after an answer */
	int kept = raw_connect();
	raw_sends(kept, "GET /k HTTP/1.1\r\n\r\n");
	buf b = {0};
	assert_int_equal(raw_read(kept, &b, "}\n", 5000), 0);
	usleep(200 * 1000);

	int64_t t0 = now_ms();
	httpd_stop();
	assert_true(now_ms() - t0 < 2000);
	b.len = 0;
	assert_int_equal(raw_read(idle, &b, NULL, 2000), 1);
	b.len = 0;
	assert_int_equal(raw_read(partial, &b, NULL, 2000), 1);
	b.len = 0;
	assert_int_equal(raw_read(kept, &b, NULL, 2000), 1);
	close(idle);
	close(partial);
	close(kept);
	close(stuck);
	buf_free(&b);
	/* start again: stop left nothing behind (the teardown stops this one) */
	assert_int_equal(start_server(state), 0);
}

static void test_port_taken(void **state)
{
	(void)state;
	/* a socket of ours holds a port */
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 1), 0);
	socklen_t al = sizeof(a);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
	int port = ntohs(a.sin_port);

	char err[256] = "";
	assert_int_equal(httpd_start("127.0.0.1", port, NULL, echo_handler, NULL, err, sizeof(err)), -1);
	char want[128];
	snprintf(want, sizeof(want), "listen.admin 127.0.0.1:%d: address already in use", port);
	assert_string_equal(err, want);
	assert_int_equal(httpd_port(), -1);

	assert_int_equal(httpd_start("not-an-ip", 8080, NULL, echo_handler, NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not an IP address"));
	close(fd);

	/* and a second start while running is refused */
	assert_int_equal(httpd_start("127.0.0.1", 0, NULL, echo_handler, NULL, err, sizeof(err)), 0);
	assert_int_equal(httpd_start("127.0.0.1", 0, NULL, echo_handler, NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "already running"));
	httpd_stop();
}

static void test_ipv6(void **state)
{
	(void)state;
	char err[256];
	if (httpd_start("::1", 0, NULL, echo_handler, NULL, err, sizeof(err)) != 0) {
		fprintf(stderr, "no IPv6 loopback here (%s); skipped\n", err);
		return;
	}
	CURL *h = curl_easy_init();
	char url[128];
	snprintf(url, sizeof(url), "http://[::1]:%d/six", httpd_port());
	buf body = {0};
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
	assert_int_equal(curl_easy_perform(h), CURLE_OK);
	json_t *j = parse_json(&body);
	assert_json_str(j, "path", "/six");
	const char *client = json_string_value(json_object_get(j, "client"));
	assert_true(strncmp(client, "::1:", 4) == 0);
	json_decref(j);
	buf_free(&body);
	curl_easy_cleanup(h);
	httpd_stop();
}

/* ---- TLS ----------------------------------------------------------------------- */

static SSL_CTX *self_signed_ctx(void)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	assert_non_null(key);
	X509 *x = X509_new();
	assert_non_null(x);
	assert_int_equal(X509_set_version(x, 2), 1);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), 1), 1);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), -60));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 3600));
	assert_int_equal(X509_set_pubkey(x, key), 1);
	X509_NAME *name = X509_get_subject_name(x);
	assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
						    (const unsigned char *)"localhost", -1, -1, 0),
			 1);
	assert_int_equal(X509_set_issuer_name(x, name), 1);
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	assert_non_null(ctx);
	assert_int_equal(SSL_CTX_use_certificate(ctx, x), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(ctx, key), 1);
	X509_free(x);
	EVP_PKEY_free(key);
	return ctx;
}

static void test_tls(void **state)
{
	(void)state;
	SSL_CTX *ctx = self_signed_ctx();
	char err[256];
	assert_int_equal(httpd_start("127.0.0.1", 0, ctx, echo_handler, NULL, err, sizeof(err)), 0);
	CURL *h = curl_easy_init();
	char url[128];
	url_of(url, sizeof(url), "https", "/secure?name=t%20ls");
	buf body = {0};
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
	assert_int_equal(curl_easy_perform(h), CURLE_OK);
	long st = 0;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &st);
	assert_int_equal(st, 200);
	json_t *j = parse_json(&body);
	assert_json_str(j, "path", "/secure");
	assert_json_str(j, "name", "t ls");
	json_decref(j);
	/* keep-alive over TLS, with a body large enough to span TLS records */
	size_t big = 200 * 1024;
	char *s = malloc(big + 1);
	memset(s, 'q', big);
	s[big] = '\0';
	body.len = 0;
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, s);
	assert_int_equal(curl_easy_perform(h), CURLE_OK);
	long conns = -1;
	curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &conns);
	assert_int_equal(conns, 0);
	j = parse_json(&body);
	assert_int_equal(json_integer_value(json_object_get(j, "body_len")), (json_int_t)big);
	json_decref(j);
	free(s);

	/* plain HTTP to a TLS port is cut, and the server carries on */
	int fd = raw_connect();
	raw_sends(fd, "GET / HTTP/1.1\r\n\r\n");
	buf b = {0};
	assert_int_equal(raw_read(fd, &b, NULL, 5000), 1);
	close(fd);
	buf_free(&b);

	curl_easy_cleanup(h);
	buf_free(&body);
	httpd_stop();
	SSL_CTX_free(ctx);
}

/* ---- the socket-free parts ------------------------------------------------------ */

static void test_query_param(void **state)
{
	(void)state;
	httpd_request r = {.query = "a=1&b=x+y%21&empty=&bare&a=2&k%65y=v&pct=%zz%4"};
	char out[8];
	assert_int_equal(httpd_query_param(&r, "a", out, sizeof(out)), 1);
	assert_string_equal(out, "1"); /* the first one */
	assert_int_equal(httpd_query_param(&r, "b", out, sizeof(out)), 1);
	assert_string_equal(out, "x y!");
	assert_int_equal(httpd_query_param(&r, "empty", out, sizeof(out)), 1);
	assert_string_equal(out, "");
	assert_int_equal(httpd_query_param(&r, "bare", out, sizeof(out)), 1);
	assert_string_equal(out, "");
	assert_int_equal(httpd_query_param(&r, "key", out, sizeof(out)), 1);
	assert_string_equal(out, "v");
	assert_int_equal(httpd_query_param(&r, "pct", out, sizeof(out)), 1);
	assert_string_equal(out, "%zz%4");
	assert_int_equal(httpd_query_param(&r, "missing", out, sizeof(out)), 0);
	assert_string_equal(out, "");
	assert_int_equal(httpd_query_param(&r, "ke", out, sizeof(out)), 0);
	/* truncation */
	httpd_request r2 = {.query = "long=0123456789abcdef&nul=ab%00cd"};
	assert_int_equal(httpd_query_param(&r2, "long", out, sizeof(out)), 1);
	assert_string_equal(out, "0123456");
	assert_int_equal(httpd_query_param(&r2, "long", out, 1), 1);
	assert_string_equal(out, "");
	assert_int_equal(httpd_query_param(&r2, "long", NULL, 0), 1);
	assert_int_equal(httpd_query_param(&r2, "nul", out, sizeof(out)), 1);
	assert_string_equal(out, "ab");
	httpd_request r3 = {.query = ""};
	assert_int_equal(httpd_query_param(&r3, "", out, sizeof(out)), 0);
}

static void test_error_body(void **state)
{
	(void)state;
	json_t *e = httpd_error("not_found", "no such route");
	char *s = json_dumps(e, JSON_COMPACT);
	assert_string_equal(s, "{\"error\":\"not_found\",\"message\":\"no such route\"}");
	free(s);
	json_decref(e);
	e = httpd_error("x", "bad \xff utf-8");
	assert_non_null(e);
	assert_json_str(e, "message", "");
	json_decref(e);
}

static int parse_calls;

static void count_handler(const httpd_request *r, int *status, json_t **body, char **extra,
			  void *arg)
{
	(void)extra;
	(void)arg;
	parse_calls++;
	*status = 200;
	*body = json_pack("{s:s, s:s?}", "path", r->path, "auth", r->authorization);
}

static void test_parse_feed_bytewise(void **state)
{
	(void)state;
	const char *req = "POST /p%41th?q=1 HTTP/1.1\r\nAuthorization: Basic dXNlcjpwYXNz\r\n"
			  "Content-Length: 3\r\n\r\nxyz"
			  "GET /two HTTP/1.1\r\nConnection: close\r\n\r\n"
			  "GET /ignored HTTP/1.1\r\n\r\n";
	httpd_parse *p = httpd_parse_new(count_handler, NULL, "192.0.2.1:9");
	buf out = {0};
	parse_calls = 0;
	int closed = 0;
	for (const char *c = req; *c; c++) {
		closed = httpd_parse_feed(p, c, 1, &out);
		if (closed)
			break;
	}
	assert_int_equal(closed, 1);
	assert_int_equal(parse_calls, 2);
	buf_append(&out, "", 1);
	assert_non_null(strstr(out.data, "{\"path\":\"/pAth\",\"auth\":\"Basic dXNlcjpwYXNz\"}\n"));
	assert_non_null(strstr(out.data, "{\"path\":\"/two\",\"auth\":null}\n"));
	assert_null(strstr(out.data, "ignored"));
	/* nothing more once closed */
	size_t was = out.len;
	assert_int_equal(httpd_parse_feed(p, "GET / HTTP/1.1\r\n\r\n", 18, &out), 1);
	assert_int_equal(out.len, was);
	httpd_parse_free(p);
	buf_free(&out);
}

/* A large header section arriving in many reads is measured once, not per read. */
static void test_parse_feed_split_limit(void **state)
{
	(void)state;
	buf r = {0};
	buf_printf(&r, "GET /big-headers HTTP/1.1\r\nAuthorization: Bearer ");
	while (r.len < HTTPD_MAX_HEADER_BYTES - 200)
		buf_append(&r, "t", 1);
	buf_printf(&r, "\r\nConnection: close\r\n\r\n");
	for (size_t piece = 1000; piece <= 9000; piece += 4000) {
		httpd_parse *p = httpd_parse_new(count_handler, NULL, "192.0.2.1:9");
		buf out = {0};
		parse_calls = 0;
		int closed = 0;
		for (size_t off = 0; off < r.len && !closed; off += piece)
			closed = httpd_parse_feed(p, r.data + off, r.len - off < piece ? r.len - off : piece,
						  &out);
		assert_int_equal(closed, 1);
		assert_int_equal(parse_calls, 1);
		assert_true(out.len > 13 && strncmp(out.data, "HTTP/1.1 200 ", 13) == 0);
		httpd_parse_free(p);
		buf_free(&out);
	}
	/* and one byte more than the limit, in pieces, is refused */
	r.len = 0;
	buf_printf(&r, "GET / HTTP/1.1\r\nX-Pad: ");
	while (r.len < HTTPD_MAX_HEADER_BYTES)
		buf_append(&r, "p", 1);
	buf_printf(&r, "\r\n\r\n");
	httpd_parse *p = httpd_parse_new(count_handler, NULL, "192.0.2.1:9");
	buf out = {0};
	parse_calls = 0;
	int closed = 0;
	for (size_t off = 0; off < r.len && !closed; off += 3000)
		closed = httpd_parse_feed(p, r.data + off, r.len - off < 3000 ? r.len - off : 3000, &out);
	assert_int_equal(closed, 1);
	assert_int_equal(parse_calls, 0);
	assert_true(strncmp(out.data, "HTTP/1.1 431 ", 13) == 0);
	httpd_parse_free(p);
	buf_free(&out);
	buf_free(&r);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_query_param),
		cmocka_unit_test(test_error_body),
		cmocka_unit_test(test_parse_feed_bytewise),
		cmocka_unit_test(test_parse_feed_split_limit),
		cmocka_unit_test_setup_teardown(test_get_query, start_server, stop_server),
		cmocka_unit_test_setup_teardown(test_post_json, start_server, stop_server),
		cmocka_unit_test_setup_teardown(test_keepalive, start_server, stop_server),
		cmocka_unit_test_setup_teardown(test_pipelined, start_server, stop_server),
		cmocka_unit_test_setup_teardown(test_split_writes, start_server, stop_server),
		cmocka_unit_test_setup_teardown(test_http10, start_server, stop_server),
		cmocka_unit_test_setup_teardown(test_head, start_server, stop_server),
		cmocka_unit_test_setup_teardown(test_chunked, start_server, stop_server),
		cmocka_unit_test_setup_teardown(test_expect, start_server, stop_server),
		cmocka_unit_test_setup_teardown(test_extra_headers, start_server, stop_server),
		cmocka_unit_test_setup_teardown(test_malformed, start_server, stop_server),
		cmocka_unit_test_setup_teardown(test_header_too_large, start_server, stop_server),
		cmocka_unit_test_setup_teardown(test_body_too_large, start_server, stop_server),
		cmocka_unit_test_setup_teardown(test_idle_timeout, start_server_short_idle, stop_server),
		cmocka_unit_test_setup_teardown(test_too_many_connections, start_server_two_conns,
						stop_server),
		cmocka_unit_test_setup_teardown(test_backpressure, start_server, stop_server),
		cmocka_unit_test_setup_teardown(test_stop_with_open_connections, start_server,
						stop_server),
		cmocka_unit_test(test_port_taken),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_tls),
	};
	int rc = cmocka_run_group_tests_name("httpd", tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
