/* util — small helpers shared by every module: time, hex, random ids. */
#ifndef WARDEN_UTIL_H
#define WARDEN_UTIL_H

#include <stddef.h>
#include <stdint.h>

int64_t util_now_us(void);
/* Lower-case hex of n bytes into out (2n+1 bytes). */
void util_hex(const unsigned char *in, size_t n, char *out);
/* 1 when needle[0, m) occurs in hay[0, n), ASCII case ignored. */
int util_memcasemem(const char *hay, size_t n, const char *needle, size_t m);
/* 0 on success; out must hold n/2 bytes; rejects odd length and non-hex. */
/* The value of one hex digit, or -1. */
int util_hexval(char c);
int util_unhex(const char *in, size_t n, unsigned char *out) __attribute__((warn_unused_result));
/* Cryptographically random bytes (OpenSSL); aborts if the RNG fails. */
void util_random(void *out, size_t n);
/* malloc'd copy of [s, s+n) with a NUL appended; aborts on OOM. */
char *util_strndup(const char *s, size_t n);
/* malloc'd copy of s, or NULL when s is NULL; aborts on OOM. */
char *util_strdup_or_null(const char *s);
void *util_xmalloc(size_t n);
void *util_xrealloc(void *p, size_t n);
/* snprintf into a caller's error buffer; err may be NULL or errlen 0. */
void util_errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* mkdir -p; the directories it creates get mode 0700. 0, or -1 with err. */
int util_mkdir_p(const char *dir, char *err, size_t errlen) __attribute__((warn_unused_result));
/* JSON string literal of s (quotes included), malloc'd. */
char *util_json_string(const char *s, size_t n);

#endif
