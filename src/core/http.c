/* http — see http.h. */
#include "core/http.h"

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

#define HTTP_MAX_RESPONSE (1u << 20)

static int http_do(const http_req *r, const char *form, long *status, buf *out, char *err, size_t errlen);

static size_t collect(char *data, size_t size, size_t n, void *userp)
{
	buf *b = userp;
	if (b->len + size * n > HTTP_MAX_RESPONSE)
		return 0; /* makes curl fail: no answer warden reads is this large */
	buf_append(b, data, size * n);
	return size * n;
}

int http_call(const char *url, const char *form, const char *ca_file, long *status, buf *out,
	      char *err, size_t errlen)
{
	http_req r = {.method = form ? "POST" : "GET", .url = url, .ca_file = ca_file};
	return http_do(&r, form, status, out, err, errlen);
}

int http_request(const http_req *r, long *status, buf *out, char *err, size_t errlen)
{
	return http_do(r, NULL, status, out, err, errlen);
}

static int http_do(const http_req *r, const char *form, long *status, buf *out, char *err, size_t errlen)
{
	*status = 0;
	CURL *h = curl_easy_init();
	if (!h) {
		snprintf(err, errlen, "cannot create an HTTP client");
		return -1;
	}
	char curl_err[CURL_ERROR_SIZE] = "";
	const char *url = r->url;
	struct curl_slist *hdrs = curl_slist_append(NULL, "Accept: application/json");
	char auth[8192];
	if (r->bearer) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", r->bearer);
		hdrs = curl_slist_append(hdrs, auth);
		OPENSSL_cleanse(auth, sizeof(auth));
	}
	if (r->json)
		hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curl_err);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 15000L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	if (r->ca_file)
		curl_easy_setopt(h, CURLOPT_CAINFO, r->ca_file);
	if (r->insecure) {
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (form)
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, form);
	else if (r->json)
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, r->json);
	if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "POST") != 0)
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r->method);
	CURLcode rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	curl_easy_cleanup(h);
	curl_slist_free_all(hdrs);
	if (rc != CURLE_OK) {
		snprintf(err, errlen, "%s %s: %s", r->method, url,
			 curl_err[0] ? curl_err : curl_easy_strerror(rc));
		return -1;
	}
	buf_append(out, "", 1);
	out->len--;
	return 0;
}
