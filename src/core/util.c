/* util — see util.h. Allocation failures abort: warden cannot keep a promise it has no memory for. */
#include "core/util.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <ctype.h>
#include <string.h>
#include <strings.h>
#include <time.h>

int64_t util_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void util_hex(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

int util_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int util_unhex(const char *in, size_t n, unsigned char *out)
{
	if (n % 2)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		int hi = util_hexval(in[2 * i]), lo = util_hexval(in[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

void util_random(void *out, size_t n)
{
	if (RAND_bytes(out, (int)n) != 1)
		abort();
}

void *util_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		abort();
	return p;
}

void *util_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		abort();
	return q;
}

char *util_strndup(const char *s, size_t n)
{
	char *p = util_xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *util_strdup_or_null(const char *s)
{
	return s ? util_strndup(s, strlen(s)) : NULL;
}

/* Invalid UTF-8 (a client may use another client_encoding) becomes U+FFFD, byte by byte. */
static char *utf8_sanitize(const char *s, size_t n)
{
	char *out = util_xmalloc(n * 3 + 1);
	size_t o = 0;
	for (size_t i = 0; i < n;) {
		json_t *probe = NULL;
		size_t len = 1;
		unsigned char c = (unsigned char)s[i];
		if (c >= 0xf0)
			len = 4;
		else if (c >= 0xe0)
			len = 3;
		else if (c >= 0xc0)
			len = 2;
		if (c >= 0x80 && i + len <= n)
			probe = json_stringn(s + i, len);
		if (c < 0x80 || probe) {
			memcpy(out + o, s + i, len);
			o += len;
			i += len;
		} else {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			i += 1;
		}
		json_decref(probe);
	}
	out[o] = '\0';
	return out;
}

char *util_json_string(const char *s, size_t n)
{
	json_t *j = json_stringn(s, n);
	if (!j) {
		char *clean = utf8_sanitize(s, n);
		j = json_string(clean);
		free(clean);
	}
	char *out = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;
	json_decref(j);
	if (!out)
		abort();
	return out;
}

/* mkdir -p with mode 0700 for the directories it creates. */
int util_mkdir_p(const char *dir, char *err, size_t errlen)
{
	char p[PATH_MAX];
	int n = snprintf(p, sizeof(p), "%s", dir);
	if (n < 0 || (size_t)n >= sizeof(p)) {
		snprintf(err, errlen, "the path %s is too long", dir);
		return -1;
	}
	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char saved = *s;
		*s = '\0';
		if (mkdir(p, 0700) != 0 && errno != EEXIST) {
			snprintf(err, errlen, "cannot create the directory %s: %s", p, strerror(errno));
			return -1;
		}
		*s = saved;
		if (saved == '\0')
			break;
	}
	struct stat st;
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s is not a directory", dir);
		return -1;
	}
	return 0;
}


void util_errf(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || errlen == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

int util_memcasemem(const char *hay, size_t n, const char *needle, size_t m)
{
	if (m == 0)
		return 1;
	if (m > n)
		return 0;
	/* candidates are where the first byte occurs, in either case */
	char lo = (char)tolower((unsigned char)needle[0]), up = (char)toupper((unsigned char)needle[0]);
	const char *end = hay + (n - m) + 1;
	for (const char *p = hay; p < end;) {
		const char *a = memchr(p, lo, (size_t)(end - p));
		const char *b = lo == up ? NULL : memchr(p, up, (size_t)(end - p));
		const char *c = !a ? b : !b ? a : a < b ? a : b;
		if (!c)
			return 0;
		if (strncasecmp(c + 1, needle + 1, m - 1) == 0)
			return 1;
		p = c + 1;
	}
	return 0;
}
