/*
 * config.c — owns warden's configuration: reading the YAML file, walking the
 * libyaml document against the schema (unknown keys, wrong types, ranges),
 * filling in defaults, resolving password_env, cross-checks (duplicate names,
 * TLS files mode) and freeing everything again.
 *
 * The walk is driven by the schema, never by the document's shape, so its
 * depth is fixed and alias cycles (`&a [*a]`) cannot make it recurse. Every
 * problem found is offered to fail(); it keeps the one on the lowest line, so
 * the message names the first error in the file whatever order we check in.
 */
#include "core/config.h"
#include "mask/detectors.h"

#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yaml.h>

#include "core/util.h"
#include "policy/sqlclass.h"

#define CONFIG_MAX_FILE_BYTES ((size_t)16 << 20)
#define CONFIG_PATH_LEN 256     /* dotted key paths in messages */
#define CONFIG_MAX_MSG_LIMIT ((size_t)INT32_MAX) /* PostgreSQL length field */
#define CONFIG_MIN_MSG_LIMIT ((size_t)8)

typedef struct cfg_ctx {
	yaml_document_t *doc;
	const char *name;           /* file name used in messages */
	char *err;
	size_t errlen;
	int failed;
	size_t err_line;
	unsigned flags;             /* CONFIG_NO_SECRETS, ... */
	const warden_config *cfg;   /* what is parsed so far (rules look up masking profiles) */
} cfg_ctx;

/* ---- messages ---------------------------------------------------------- */

static size_t node_line(const yaml_node_t *n)
{
	return n ? n->start_mark.line + 1 : 1;
}

/*
 * Records the error if it ranks first in the file so far; returns -1. line is
 * shown, rank orders errors: it is the line, except that a missing key ranks
 * at the end of its mapping, so a misspelt key inside wins over "is required".
 */
__attribute__((format(printf, 5, 0)))
static int vfail(cfg_ctx *c, size_t line, size_t rank, const char *path,
		 const char *fmt, va_list ap)
{
	if (c->failed && rank >= c->err_line)
		return -1;
	c->failed = 1;
	c->err_line = rank;
	if (!c->err || c->errlen == 0)
		return -1;
	char msg[512];
	vsnprintf(msg, sizeof msg, fmt, ap);
	if (path && *path)
		snprintf(c->err, c->errlen, "%s:%zu: %s: %s", c->name, line, path, msg);
	else
		snprintf(c->err, c->errlen, "%s:%zu: %s", c->name, line, msg);
	return -1;
}

__attribute__((format(printf, 4, 5)))
static int fail(cfg_ctx *c, const yaml_node_t *n, const char *path, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfail(c, node_line(n), node_line(n), path, fmt, ap);
	va_end(ap);
	return -1;
}

/* A key missing from map: shown at the mapping's first line. */
__attribute__((format(printf, 4, 5)))
static int fail_missing(cfg_ctx *c, const yaml_node_t *map, const char *path, const char *fmt, ...)
{
	size_t line = node_line(map), rank = map->end_mark.line + 1;
	va_list ap;
	va_start(ap, fmt);
	vfail(c, line, rank > line ? rank : line, path, fmt, ap);
	va_end(ap);
	return -1;
}

/* Copies user text for a message: printable ASCII only, bounded. */
static void sanitize(char *dst, size_t dstlen, const unsigned char *src, size_t len)
{
	size_t max = dstlen - 1, j = 0;
	int cut = 0;
	if (len > 64) {
		len = 64;
		cut = 1;
	}
	for (size_t i = 0; i < len && j < max; i++)
		dst[j++] = (src[i] >= 0x20 && src[i] < 0x7f) ? (char)src[i] : '?';
	if (cut) {
		for (int k = 0; k < 3 && j < max; k++)
			dst[j++] = '.';
	}
	dst[j] = '\0';
}

/* Dotted key paths; a path too long for the buffer is cut (messages only). */
static void join_key(char *dst, size_t dstlen, const char *parent, const char *key)
{
	int w;
	if (parent && *parent)
		w = snprintf(dst, dstlen, "%s.%s", parent, key);
	else
		w = snprintf(dst, dstlen, "%s", key);
	if (w < 0)
		dst[0] = '\0';
}

static void join_index(char *dst, size_t dstlen, const char *parent, size_t i)
{
	if (snprintf(dst, dstlen, "%s[%zu]", parent, i) < 0)
		dst[0] = '\0';
}

/* ---- node access -------------------------------------------------------- */

static yaml_node_t *node_at(cfg_ctx *c, int idx)
{
	return yaml_document_get_node(c->doc, idx);
}

static int scalar_is(const yaml_node_t *n, const char *s)
{
	size_t l = strlen(s);
	return n->data.scalar.length == l && memcmp(n->data.scalar.value, s, l) == 0;
}

static int is_null(const yaml_node_t *n)
{
	if (!n || n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return 0;
	return scalar_is(n, "") || scalar_is(n, "~") || scalar_is(n, "null") ||
	       scalar_is(n, "Null") || scalar_is(n, "NULL");
}

/*
 * The value for key in map, or NULL when absent or null. *keynode gets the
 * key's node when the key is present (even with a null value).
 */
static yaml_node_t *map_get(cfg_ctx *c, yaml_node_t *map, const char *key, yaml_node_t **keynode)
{
	if (keynode)
		*keynode = NULL;
	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node_at(c, p->key);
		if (!k || k->type != YAML_SCALAR_NODE || !scalar_is(k, key))
			continue;
		if (keynode)
			*keynode = k;
		yaml_node_t *v = node_at(c, p->value);
		return is_null(v) ? NULL : v;
	}
	return NULL;
}

/* Checks that every key of map is a known, non-repeated string. */
static int check_keys(cfg_ctx *c, yaml_node_t *map, const char *path,
		      const char *const *keys, size_t nkeys)
{
	char allowed[256] = "";
	size_t off = 0;
	for (size_t i = 0; i < nkeys && off < sizeof allowed; i++) {
		int w = snprintf(allowed + off, sizeof allowed - off, "%s%s", i ? ", " : "", keys[i]);
		if (w < 0)
			break;
		off += (size_t)w;
	}
	uint32_t seen = 0;
	int rc = 0;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node_at(c, p->key);
		if (!k || k->type != YAML_SCALAR_NODE) {
			rc = fail(c, k ? k : map, path, "keys must be plain strings");
			continue;
		}
		size_t i = 0;
		while (i < nkeys && !scalar_is(k, keys[i]))
			i++;
		char kp[CONFIG_PATH_LEN];
		if (i == nkeys) {
			char shown[80];
			sanitize(shown, sizeof shown, k->data.scalar.value, k->data.scalar.length);
			join_key(kp, sizeof kp, path, shown);
			rc = fail(c, k, kp, "unknown key (expected one of: %s)", allowed);
			continue;
		}
		join_key(kp, sizeof kp, path, keys[i]);
		if (seen & (UINT32_C(1) << i))
			rc = fail(c, k, kp, "duplicate key");
		seen |= UINT32_C(1) << i;
	}
	return rc;
}

static char *dup_scalar(const yaml_node_t *n)
{
	return strndup((const char *)n->data.scalar.value, n->data.scalar.length);
}

/* ---- typed getters: 0 = absent or stored, -1 = error recorded ---------- */

static yaml_node_t *get_map(cfg_ctx *c, yaml_node_t *parent, const char *path, const char *key,
			    char *kp, size_t kplen)
{
	join_key(kp, kplen, path, key);
	yaml_node_t *v = map_get(c, parent, key, NULL);
	if (v && v->type != YAML_MAPPING_NODE) {
		fail(c, v, kp, "must be a mapping");
		return NULL;
	}
	return v;
}

static yaml_node_t *get_seq(cfg_ctx *c, yaml_node_t *parent, const char *path, const char *key,
			    char *kp, size_t kplen)
{
	join_key(kp, kplen, path, key);
	yaml_node_t *v = map_get(c, parent, key, NULL);
	if (v && v->type != YAML_SEQUENCE_NODE) {
		fail(c, v, kp, "must be a list");
		return NULL;
	}
	return v;
}

/* A non-empty string scalar without NUL bytes. */
static int check_string(cfg_ctx *c, const yaml_node_t *v, const char *kp)
{
	if (v->type != YAML_SCALAR_NODE)
		return fail(c, v, kp, "must be a string");
	if (v->data.scalar.length == 0)
		return fail(c, v, kp, "must not be empty");
	if (memchr(v->data.scalar.value, '\0', v->data.scalar.length))
		return fail(c, v, kp, "must not contain NUL characters");
	return 0;
}

static int get_str(cfg_ctx *c, yaml_node_t *map, const char *path, const char *key,
		   int required, char **out, yaml_node_t **vnode)
{
	char kp[CONFIG_PATH_LEN];
	join_key(kp, sizeof kp, path, key);
	yaml_node_t *kn;
	yaml_node_t *v = map_get(c, map, key, &kn);
	if (vnode)
		*vnode = v;
	if (!v) {
		if (!required)
			return 0;
		return kn ? fail(c, kn, kp, "must not be empty") : fail_missing(c, map, kp, "is required");
	}
	if (check_string(c, v, kp) < 0)
		return -1;
	char *s = dup_scalar(v);
	if (!s)
		return fail(c, v, kp, "out of memory");
	free(*out);
	*out = s;
	return 0;
}

static int get_int(cfg_ctx *c, yaml_node_t *map, const char *path, const char *key,
		   int lo, int hi, int *out)
{
	char kp[CONFIG_PATH_LEN];
	join_key(kp, sizeof kp, path, key);
	yaml_node_t *v = map_get(c, map, key, NULL);
	if (!v)
		return 0;
	if (v->type != YAML_SCALAR_NODE || v->data.scalar.style != YAML_PLAIN_SCALAR_STYLE ||
	    v->data.scalar.length == 0 || v->data.scalar.length > 20)
		return fail(c, v, kp, "must be an integer %d..%d", lo, hi);
	const char *s = (const char *)v->data.scalar.value;
	const char *p = s;
	if (*p == '-' || *p == '+')
		p++;
	if (*p < '0' || *p > '9')
		return fail(c, v, kp, "must be an integer %d..%d", lo, hi);
	errno = 0;
	char *end;
	long long n = strtoll(s, &end, 10);
	if (errno || end != s + v->data.scalar.length || n < lo || n > hi)
		return fail(c, v, kp, "must be an integer %d..%d", lo, hi);
	*out = (int)n;
	return 0;
}

static int get_bool(cfg_ctx *c, yaml_node_t *map, const char *path, const char *key, int *out)
{
	char kp[CONFIG_PATH_LEN];
	join_key(kp, sizeof kp, path, key);
	yaml_node_t *v = map_get(c, map, key, NULL);
	if (!v)
		return 0;
	if (v->type == YAML_SCALAR_NODE && v->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
		if (scalar_is(v, "true") || scalar_is(v, "True") || scalar_is(v, "TRUE")) {
			*out = 1;
			return 0;
		}
		if (scalar_is(v, "false") || scalar_is(v, "False") || scalar_is(v, "FALSE")) {
			*out = 0;
			return 0;
		}
	}
	return fail(c, v, kp, "must be true or false");
}

/* names[i] is the spelling of value i; *out gets the index. */
static int get_enum(cfg_ctx *c, yaml_node_t *map, const char *path, const char *key,
		    const char *const *names, size_t n, int *out)
{
	char kp[CONFIG_PATH_LEN];
	join_key(kp, sizeof kp, path, key);
	yaml_node_t *v = map_get(c, map, key, NULL);
	if (!v)
		return 0;
	if (v->type == YAML_SCALAR_NODE) {
		for (size_t i = 0; i < n; i++) {
			if (scalar_is(v, names[i])) {
				*out = (int)i;
				return 0;
			}
		}
	}
	char list[128] = "";
	size_t off = 0;
	for (size_t i = 0; i < n && off < sizeof list; i++) {
		int w = snprintf(list + off, sizeof list - off, "%s%s", i ? " | " : "", names[i]);
		if (w < 0)
			break;
		off += (size_t)w;
	}
	return fail(c, v, kp, "must be one of: %s", list);
}

/* "1048576", "64KiB", "10 k", "1G": bytes, 1024-based suffixes. */
static int parse_size(const char *s, size_t len, size_t *out)
{
	size_t i = 0;
	uint64_t n = 0;
	if (i >= len || s[i] < '0' || s[i] > '9')
		return -1;
	while (i < len && s[i] >= '0' && s[i] <= '9') {
		if (n > (UINT64_MAX - 9) / 10)
			return -1;
		n = n * 10 + (uint64_t)(s[i] - '0');
		i++;
	}
	while (i < len && s[i] == ' ')
		i++;
	static const struct { const char *sfx; unsigned shift; } units[] = {
		{ "", 0 }, { "B", 0 },
		{ "KiB", 10 }, { "k", 10 }, { "K", 10 },
		{ "MiB", 20 }, { "M", 20 },
		{ "GiB", 30 }, { "G", 30 },
	};
	const char *rest = s + i;
	size_t rlen = len - i;
	for (size_t u = 0; u < sizeof units / sizeof units[0]; u++) {
		if (strlen(units[u].sfx) != rlen || memcmp(rest, units[u].sfx, rlen) != 0)
			continue;
		if (n > (UINT64_MAX >> units[u].shift))
			return -1;
		n <<= units[u].shift;
		if (n > SIZE_MAX)
			return -1;
		*out = (size_t)n;
		return 0;
	}
	return -1;
}

static int get_size(cfg_ctx *c, yaml_node_t *map, const char *path, const char *key, size_t *out)
{
	char kp[CONFIG_PATH_LEN];
	join_key(kp, sizeof kp, path, key);
	yaml_node_t *v = map_get(c, map, key, NULL);
	if (!v)
		return 0;
	size_t n;
	if (v->type != YAML_SCALAR_NODE ||
	    parse_size((const char *)v->data.scalar.value, v->data.scalar.length, &n) < 0 ||
	    n < CONFIG_MIN_MSG_LIMIT || n > CONFIG_MAX_MSG_LIMIT)
		return fail(c, v, kp, "must be a size of %zu..%zu bytes, as an integer or with a "
			    "suffix B, KiB, MiB, GiB (e.g. 10KiB, 1GiB)",
			    CONFIG_MIN_MSG_LIMIT, CONFIG_MAX_MSG_LIMIT);
	*out = n;
	return 0;
}

/* ---- sections ----------------------------------------------------------- */

/* "host:port" or "[v6addr]:port". */
static int parse_listen(cfg_ctx *c, yaml_node_t *v, const char *kp, char **out_host, int *out_port)
{
	if (check_string(c, v, kp) < 0)
		return -1;
	const char *s = (const char *)v->data.scalar.value;
	size_t len = v->data.scalar.length;
	const char *host, *hend, *port;
	if (s[0] == '[') {
		host = s + 1;
		hend = memchr(s, ']', len);
		if (!hend || hend[1] != ':')
			goto bad;
		port = hend + 2;
	} else {
		hend = memrchr(s, ':', len);
		if (!hend)
			goto bad;
		if (memchr(s, ':', (size_t)(hend - s)))
			return fail(c, v, kp, "IPv6 addresses must be bracketed: [addr]:port");
		if (memchr(s, '[', (size_t)(hend - s)) || memchr(s, ']', (size_t)(hend - s)))
			goto bad;
		host = s;
		port = hend + 1;
	}
	if (hend == host)
		goto bad;
	size_t plen = (size_t)(s + len - port);
	if (plen == 0 || plen > 5)
		goto bad;
	int pn = 0;
	for (size_t i = 0; i < plen; i++) {
		if (port[i] < '0' || port[i] > '9')
			goto bad;
		pn = pn * 10 + (port[i] - '0');
	}
	if (pn < 1 || pn > 65535)
		goto bad;
	char *h = strndup(host, (size_t)(hend - host));
	if (!h)
		return fail(c, v, kp, "out of memory");
	free(*out_host);
	*out_host = h;
	*out_port = pn;
	return 0;
bad:
	return fail(c, v, kp, "must be host:port with a port 1..65535 "
		    "(e.g. 127.0.0.1:6432 or [::1]:6432)");
}

static void parse_listen_section(cfg_ctx *c, yaml_node_t *root, warden_config *out)
{
	static const char *const keys[] = { "postgres", "admin" };
	char path[CONFIG_PATH_LEN];
	yaml_node_t *m = get_map(c, root, "", "listen", path, sizeof path);
	if (!m)
		return;
	check_keys(c, m, path, keys, 2);
	yaml_node_t *v = map_get(c, m, "postgres", NULL);
	char kp[CONFIG_PATH_LEN];
	if (v) {
		join_key(kp, sizeof kp, path, "postgres");
		parse_listen(c, v, kp, &out->listen_pg_host, &out->listen_pg_port);
	}
	if ((v = map_get(c, m, "admin", NULL))) {
		join_key(kp, sizeof kp, path, "admin");
		parse_listen(c, v, kp, &out->listen_admin_host, &out->listen_admin_port);
	}
}

static char *path_in(const char *dir, const char *file)
{
	size_t dl = strlen(dir), fl = strlen(file);
	int slash = dl > 0 && dir[dl - 1] == '/';
	char *p = malloc(dl + fl + 2);
	if (!p)
		return NULL;
	memcpy(p, dir, dl);
	size_t off = dl;
	if (!slash)
		p[off++] = '/';
	memcpy(p + off, file, fl + 1);
	return p;
}

static void parse_audit(cfg_ctx *c, yaml_node_t *root, warden_config *out)
{
	static const char *const keys[] = { "durability", "batch_window_ms", "path",
					    "sth_interval", "signing_key", "capture_results", "max_result_bytes" };
	static const char *const captures[] = { "none", "summary", "masked" };
	static const char *const durability[] = { "strict", "batch" };
	char path[CONFIG_PATH_LEN];
	yaml_node_t *m = get_map(c, root, "", "audit", path, sizeof path);
	if (m) {
		check_keys(c, m, path, keys, sizeof keys / sizeof keys[0]);
		int cap = (int)out->capture_results;
		if (get_enum(c, m, path, "capture_results", captures, 3, &cap) == 0)
			out->capture_results = (config_capture)cap;
		get_size(c, m, path, "max_result_bytes", &out->max_result_bytes);
		int secs = out->sth_interval_ms / 1000;
		if (get_int(c, m, path, "sth_interval", 1, 86400, &secs) == 0)
			out->sth_interval_ms = secs * 1000;
		get_str(c, m, path, "signing_key", 0, &out->signing_key, NULL);
		int d = (int)out->durability;
		if (get_enum(c, m, path, "durability", durability, 2, &d) == 0)
			out->durability = d == 1 ? DURABILITY_BATCH : DURABILITY_STRICT;
		get_int(c, m, path, "batch_window_ms", 1, 10000, &out->batch_window_ms);
		get_str(c, m, path, "path", 0, &out->audit_path, NULL);
	}
	if (!out->audit_path && out->data_dir) {
		out->audit_path = path_in(out->data_dir, "audit.db");
		if (!out->audit_path)
			fail(c, m ? m : root, "audit.path", "out of memory");
	}
	if (!out->signing_key && out->data_dir) {
		out->signing_key = path_in(out->data_dir, "audit.key");
		if (!out->signing_key)
			fail(c, m ? m : root, "audit.signing_key", "out of memory");
	}
}

static void parse_tls(cfg_ctx *c, yaml_node_t *root, warden_config *out)
{
	static const char *const keys[] = { "mode", "cert", "key", "require" };
	/* indexed by config_tls_mode */
	static const char *const modes[] = { "off", "auto", "files" };
	char path[CONFIG_PATH_LEN];
	yaml_node_t *m = get_map(c, root, "", "tls", path, sizeof path);
	if (m) {
		check_keys(c, m, path, keys, 4);
		int mode = (int)out->tls_mode;
		if (get_enum(c, m, path, "mode", modes, 3, &mode) == 0)
			out->tls_mode = mode == 0 ? TLS_MODE_OFF : mode == 1 ? TLS_MODE_AUTO : TLS_MODE_FILES;
		get_str(c, m, path, "cert", 0, &out->tls_cert, NULL);
		get_str(c, m, path, "key", 0, &out->tls_key, NULL);
		get_bool(c, m, path, "require", &out->tls_require);
		if (out->tls_mode == TLS_MODE_FILES) {
			if (!out->tls_cert)
				fail_missing(c, m, "tls.cert", "is required when tls.mode is files");
			if (!out->tls_key)
				fail_missing(c, m, "tls.key", "is required when tls.mode is files");
		}
		if (out->tls_mode == TLS_MODE_OFF && out->tls_require)
			fail(c, map_get(c, m, "require", NULL), "tls.require",
			     "cannot be true when tls.mode is off");
	}
	/* auto mode: the self-signed pair lives in data_dir unless placed elsewhere */
	if (out->tls_mode == TLS_MODE_AUTO && out->data_dir) {
		if (!out->tls_cert && !(out->tls_cert = path_in(out->data_dir, "tls.crt")))
			fail(c, m ? m : root, "tls.cert", "out of memory");
		if (!out->tls_key && !(out->tls_key = path_in(out->data_dir, "tls.key")))
			fail(c, m ? m : root, "tls.key", "out of memory");
	}
}

static void parse_limits(cfg_ctx *c, yaml_node_t *root, warden_config *out)
{
	static const char *const keys[] = {
		"max_message_size", "max_startup_size", "connect_timeout_ms", "auth_timeout_ms"
	};
	char path[CONFIG_PATH_LEN];
	yaml_node_t *m = get_map(c, root, "", "limits", path, sizeof path);
	if (!m)
		return;
	check_keys(c, m, path, keys, 4);
	get_size(c, m, path, "max_message_size", &out->max_message_bytes);
	get_size(c, m, path, "max_startup_size", &out->max_startup_bytes);
	get_int(c, m, path, "connect_timeout_ms", 1, 86400000, &out->connect_timeout_ms);
	get_int(c, m, path, "auth_timeout_ms", 1, 86400000, &out->auth_timeout_ms);
}


static void parse_groups(cfg_ctx *c, yaml_node_t *item, const char *ipath, config_api_key *k)
{
	char path[CONFIG_PATH_LEN];
	yaml_node_t *seq = get_seq(c, item, ipath, "groups", path, sizeof path);
	if (!seq)
		return;
	size_t n = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
	if (n == 0)
		return;
	k->groups = calloc(n, sizeof *k->groups);
	if (!k->groups) {
		fail(c, seq, path, "out of memory");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *g = node_at(c, seq->data.sequence.items.start[i]);
		char gp[CONFIG_PATH_LEN];
		join_index(gp, sizeof gp, path, i);
		if (!g || check_string(c, g, gp) < 0)
			continue;
		if (!(k->groups[k->n_groups] = dup_scalar(g))) {
			fail(c, g, gp, "out of memory");
			continue;
		}
		k->n_groups++;
	}
}

typedef void (*item_fn)(cfg_ctx *c, yaml_node_t *item, const char *ipath, void *elem, void *arg);

/*
 * A list of mappings at parent.key: *arr gets one zeroed element of
 * elem_size per item (and *n their number) before fn(elem, arg) runs for each
 * mapping, so fn may look at the items before its own; an item that is not a
 * mapping is an error saying what it should hold (shape). Returns the
 * sequence node, or NULL when the key is absent or the list empty.
 */
static yaml_node_t *parse_list(cfg_ctx *c, yaml_node_t *parent, const char *path, const char *key,
			       void **arr, size_t *n, size_t elem_size, const char *shape, item_fn fn,
			       void *arg)
{
	char spath[CONFIG_PATH_LEN];
	yaml_node_t *seq = get_seq(c, parent, path, key, spath, sizeof spath);
	size_t count = seq ? (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start) : 0;
	if (!count)
		return NULL;
	if (!(*arr = calloc(count, elem_size))) {
		fail(c, seq, spath, "out of memory");
		return NULL;
	}
	*n = count;
	for (size_t i = 0; i < count; i++) {
		yaml_node_t *item = node_at(c, seq->data.sequence.items.start[i]);
		char ipath[CONFIG_PATH_LEN];
		join_index(ipath, sizeof ipath, spath, i);
		if (!item || item->type != YAML_MAPPING_NODE) {
			fail(c, item ? item : seq, ipath, "must be a mapping %s", shape);
			continue;
		}
		fn(c, item, ipath, (char *)*arr + i * elem_size, arg);
	}
	return seq;
}

static void parse_api_key(cfg_ctx *c, yaml_node_t *item, const char *ipath, void *elem, void *arg)
{
	warden_config *out = arg;
	config_api_key *k = elem;
	static const char *const keys[] = { "name", "key_sha256", "groups" };
	check_keys(c, item, ipath, keys, 3);
	yaml_node_t *nv;
	if (get_str(c, item, ipath, "name", 1, &k->name, &nv) == 0 && k->name) {
		for (config_api_key *o = out->api_keys; o < k; o++) {
			if (o->name && strcmp(o->name, k->name) == 0) {
				char kp[CONFIG_PATH_LEN];
				join_key(kp, sizeof kp, ipath, "name");
				fail(c, nv, kp, "duplicate api key name (also identity.api_keys[%zu])",
				     (size_t)(o - out->api_keys));
				break;
			}
		}
	}
	char *hex = NULL;
	yaml_node_t *hv;
	if (get_str(c, item, ipath, "key_sha256", 1, &hex, &hv) == 0 && hex) {
		char kp[CONFIG_PATH_LEN];
		join_key(kp, sizeof kp, ipath, "key_sha256");
		int ok = strlen(hex) == 64;
		for (size_t i = 0; ok && i < 32; i++) {
			int hi = util_hexval(hex[2 * i]), lo = util_hexval(hex[2 * i + 1]);
			if (hi < 0 || lo < 0)
				ok = 0;
			else
				k->key_sha256[i] = (unsigned char)(hi << 4 | lo);
		}
		if (!ok)
			fail(c, hv, kp, "must be 64 hex characters (the SHA-256 of the key)");
	}
	free(hex);
	parse_groups(c, item, ipath, k);
}

static void parse_oidc(cfg_ctx *c, yaml_node_t *m, const char *ipath, warden_config *out)
{
	static const char *const keys[] = { "issuer", "audience", "username_claim", "groups_claim",
					    "allowed_algs", "leeway_s", "jwks_refresh_s", "ca_file",
					    "cli_client_id", "cli_resource" };
	static const char *const algs[] = { "RS256", "ES256", "EdDSA" };
	char path[CONFIG_PATH_LEN];
	yaml_node_t *o = get_map(c, m, ipath, "oidc", path, sizeof path);
	if (!o)
		return;
	check_keys(c, o, path, keys, sizeof keys / sizeof keys[0]);
	config_oidc *oc = &out->oidc;
	out->oidc_enabled = 1;
	get_str(c, o, path, "issuer", 1, &oc->issuer, NULL);
	get_str(c, o, path, "audience", 1, &oc->audience, NULL);
	get_str(c, o, path, "username_claim", 0, &oc->username_claim, NULL);
	get_str(c, o, path, "groups_claim", 0, &oc->groups_claim, NULL);
	get_str(c, o, path, "ca_file", 0, &oc->ca_file, NULL);
	get_str(c, o, path, "cli_client_id", 0, &oc->cli_client_id, NULL);
	get_str(c, o, path, "cli_resource", 0, &oc->cli_resource, NULL);
	get_int(c, o, path, "leeway_s", 0, 3600, &oc->leeway_s);
	get_int(c, o, path, "jwks_refresh_s", 10, 86400, &oc->jwks_refresh_s);
	if (oc->issuer && strncmp(oc->issuer, "https://", 8) != 0 && strncmp(oc->issuer, "http://127.0.0.1", 16) != 0 &&
	    strncmp(oc->issuer, "http://localhost", 16) != 0) {
		char kp[CONFIG_PATH_LEN];
		join_key(kp, sizeof kp, path, "issuer");
		fail(c, o, kp, "must be an https:// URL (plain http only for 127.0.0.1 / localhost)");
	}
	char apath[CONFIG_PATH_LEN];
	yaml_node_t *seq = get_seq(c, o, path, "allowed_algs", apath, sizeof apath);
	if (!seq)
		return;
	oc->allowed_algs = 0;
	size_t n = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *g = node_at(c, seq->data.sequence.items.start[i]);
		char gp[CONFIG_PATH_LEN];
		join_index(gp, sizeof gp, apath, i);
		if (!g || check_string(c, g, gp) < 0)
			continue;
		int found = -1;
		for (int k = 0; k < 3; k++)
			if (strcmp((const char *)g->data.scalar.value, algs[k]) == 0)
				found = k;
		if (found < 0)
			fail(c, g, gp, "must be RS256, ES256 or EdDSA (HMAC and none are never accepted)");
		else
			oc->allowed_algs |= 1u << found;
	}
}

static void parse_identity(cfg_ctx *c, yaml_node_t *root, warden_config *out)
{
	static const char *const keys[] = { "api_keys", "oidc" };
	char path[CONFIG_PATH_LEN];
	yaml_node_t *m = get_map(c, root, "", "identity", path, sizeof path);
	if (!m)
		return;
	check_keys(c, m, path, keys, 2);
	parse_oidc(c, m, path, out);
	parse_list(c, m, path, "api_keys", (void **)&out->api_keys, &out->n_api_keys, sizeof *out->api_keys,
		   "(name, key_sha256, groups)", parse_api_key, out);
}

static void parse_connection(cfg_ctx *c, yaml_node_t *item, const char *ipath, void *elem, void *arg)
{
	warden_config *out = arg;
	config_connection *conn = elem;
	static const char *const keys[] = {
		"name", "type", "host", "port", "database", "user",
		"password_env", "sslmode", "sslrootcert"
	};
	static const char *const types[] = { "postgres" };
	/* indexed by config_sslmode */
	static const char *const sslmodes[] = { "disable", "prefer", "require", "verify-full" };
	char kp[CONFIG_PATH_LEN];

	check_keys(c, item, ipath, keys, sizeof keys / sizeof keys[0]);
	yaml_node_t *nv;
	if (get_str(c, item, ipath, "name", 1, &conn->name, &nv) == 0 && conn->name) {
		for (config_connection *o = out->connections; o < conn; o++) {
			if (o->name && strcmp(o->name, conn->name) == 0) {
				join_key(kp, sizeof kp, ipath, "name");
				fail(c, nv, kp, "duplicate connection name (also connections[%zu])",
				     (size_t)(o - out->connections));
				break;
			}
		}
	}
	int t = 0;
	get_enum(c, item, ipath, "type", types, 1, &t);
	conn->type = strdup(types[0]);
	if (!conn->type)
		fail(c, item, ipath, "out of memory");
	get_str(c, item, ipath, "host", 1, &conn->host, NULL);
	conn->port = 5432;
	get_int(c, item, ipath, "port", 1, 65535, &conn->port);
	get_str(c, item, ipath, "database", 0, &conn->database, NULL);
	if (!conn->database && conn->name && !(conn->database = strdup(conn->name)))
		fail(c, item, ipath, "out of memory");
	get_str(c, item, ipath, "user", 1, &conn->user, NULL);
	yaml_node_t *pv;
	if (get_str(c, item, ipath, "password_env", 0, &conn->password_env, &pv) == 0 &&
	    conn->password_env) {
		join_key(kp, sizeof kp, ipath, "password_env");
		char shown[80];
		sanitize(shown, sizeof shown, (const unsigned char *)conn->password_env,
			 strlen(conn->password_env));
		const char *val = strchr(conn->password_env, '=') ? NULL : getenv(conn->password_env);
		if (c->flags & CONFIG_NO_SECRETS)
			; /* the CLI reads the audit store only: it needs no target password */
		else if (!val)
			fail(c, pv, kp, "environment variable %s is not set", shown);
		else if (!(conn->password = strdup(val)))
			fail(c, pv, kp, "out of memory");
	}
	int sm = (int)SSLMODE_PREFER;
	if (get_enum(c, item, ipath, "sslmode", sslmodes, 4, &sm) < 0)
		sm = (int)SSLMODE_PREFER;
	conn->sslmode = sm == 0 ? SSLMODE_DISABLE : sm == 1 ? SSLMODE_PREFER
		      : sm == 2 ? SSLMODE_REQUIRE : SSLMODE_VERIFY_FULL;
	get_str(c, item, ipath, "sslrootcert", 0, &conn->sslrootcert, NULL);
}

static void parse_connections(cfg_ctx *c, yaml_node_t *root, warden_config *out)
{
	parse_list(c, root, "", "connections", (void **)&out->connections, &out->n_connections,
		   sizeof *out->connections, "(name, host, user, ...)", parse_connection, out);
}

/* ---- policy ------------------------------------------------------------- */

/* "90", "90s", "10m", "2h", "1d" -> seconds in [lo, hi]. */
int config_parse_duration(const char *s, long lo, long hi, long *out)
{
	char *end;
	if (!s || !*s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || v < 0 || v > 100000000)
		return -1;
	long long mul = 1;
	if (*end == 's')
		end++;
	else if (*end == 'm')
		mul = 60, end++;
	else if (*end == 'h')
		mul = 3600, end++;
	else if (*end == 'd')
		mul = 86400, end++;
	if (*end || v * mul < lo || v * mul > hi)
		return -1;
	*out = (long)(v * mul);
	return 0;
}

static void get_duration(cfg_ctx *c, yaml_node_t *map, const char *path, const char *key, long lo,
			 long hi, int *out)
{
	char kp[CONFIG_PATH_LEN];
	join_key(kp, sizeof kp, path, key);
	yaml_node_t *v = map_get(c, map, key, NULL);
	if (!v)
		return;
	long secs;
	char text[40] = "";
	if (v->type == YAML_SCALAR_NODE && v->data.scalar.length < sizeof text)
		memcpy(text, v->data.scalar.value, v->data.scalar.length);
	if (v->type != YAML_SCALAR_NODE || config_parse_duration(text, lo, hi, &secs) != 0) {
		fail(c, v, kp, "must be a duration like 90s, 10m or 2h, between %lds and %lds", lo, hi);
		return;
	}
	*out = (int)secs;
}

/* A list of non-empty strings; a single string is taken as a list of one. */
static int get_strlist(cfg_ctx *c, yaml_node_t *map, const char *path, const char *key,
		       config_strlist *out)
{
	char kp[CONFIG_PATH_LEN];
	join_key(kp, sizeof kp, path, key);
	yaml_node_t *v = map_get(c, map, key, NULL);
	if (!v)
		return 0;
	if (v->type == YAML_SCALAR_NODE) {
		if (check_string(c, v, kp) < 0)
			return -1;
		out->v = calloc(1, sizeof *out->v);
		if (!out->v || !(out->v[0] = dup_scalar(v)))
			return fail(c, v, kp, "out of memory");
		out->n = 1;
		return 0;
	}
	if (v->type != YAML_SEQUENCE_NODE)
		return fail(c, v, kp, "must be a list of strings");
	size_t n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
	if (n == 0)
		return fail(c, v, kp, "must not be an empty list (leave the key out to match anything)");
	out->v = calloc(n, sizeof *out->v);
	if (!out->v)
		return fail(c, v, kp, "out of memory");
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *g = node_at(c, v->data.sequence.items.start[i]);
		char gp[CONFIG_PATH_LEN];
		join_index(gp, sizeof gp, kp, i);
		if (!g || check_string(c, g, gp) < 0) {
			rc = -1;
			continue;
		}
		if (!(out->v[out->n] = dup_scalar(g)))
			return fail(c, g, gp, "out of memory");
		out->n++;
	}
	return rc;
}

/* kinds / flags: names to bits through sqlclass's spelling. */
static void get_bits(cfg_ctx *c, yaml_node_t *map, const char *path, const char *key,
		     uint32_t (*parse)(const char *), const char *(*name)(uint32_t), int count,
		     uint32_t *out)
{
	config_strlist l = {0};
	char kp[CONFIG_PATH_LEN];
	join_key(kp, sizeof kp, path, key);
	if (get_strlist(c, map, path, key, &l) == 0) {
		for (size_t i = 0; i < l.n; i++) {
			uint32_t bit = parse(l.v[i]);
			if (bit) {
				*out |= bit;
				continue;
			}
			char list[400] = "";
			size_t off = 0;
			for (int b = 0; b < count && off < sizeof list; b++) {
				int w = snprintf(list + off, sizeof list - off, "%s%s", b ? ", " : "", name(1u << b));
				if (w < 0)
					break;
				off += (size_t)w;
			}
			char ip[CONFIG_PATH_LEN];
			join_index(ip, sizeof ip, kp, i);
			fail(c, map_get(c, map, key, NULL), ip, "unknown %s \"%s\" (expected one of: %s)",
			     strcmp(key, "kinds") == 0 ? "kind" : "flag", l.v[i], list);
		}
	}
	for (size_t i = 0; i < l.n; i++)
		free(l.v[i]);
	free(l.v);
}

static void parse_rule(cfg_ctx *c, yaml_node_t *item, const char *ipath, void *elem, void *arg)
{
	config_policy *p = arg;
	config_rule *r = elem;
	static const char *const keys[] = { "name", "match", "action", "message", "reviewers",
					    "approvals", "timeout", "grant", "max_duration", "mask" };
	static const char *const grants[] = { "once", "session", "duration" };
	static const char *const match_keys[] = { "users", "groups", "agents", "connections", "kinds",
						  "statements", "objects", "functions", "flags" };
	static const char *const actions[] = { "allow", "review", "deny" };
	check_keys(c, item, ipath, keys, sizeof keys / sizeof keys[0]);
	r->line = node_line(item);
	yaml_node_t *nv;
	if (get_str(c, item, ipath, "name", 1, &r->name, &nv) == 0 && r->name) {
		for (config_rule *o = p->rules; o < r; o++) {
			if (o->name && strcmp(o->name, r->name) == 0) {
				char kp[CONFIG_PATH_LEN];
				join_key(kp, sizeof kp, ipath, "name");
				fail(c, nv, kp, "duplicate rule name (also policy.rules[%zu])", (size_t)(o - p->rules));
				break;
			}
		}
	}
	char kp[CONFIG_PATH_LEN];
	join_key(kp, sizeof kp, ipath, "action");
	int action = -1;
	if (!map_get(c, item, "action", NULL))
		fail_missing(c, item, kp, "is required (allow, review or deny)");
	else
		get_enum(c, item, ipath, "action", actions, 3, &action);
	r->action = action < 0 ? CONFIG_ACTION_DENY : (config_action)action;
	get_str(c, item, ipath, "message", 0, &r->message, NULL);
	r->mask_profile = -1;
	yaml_node_t *mv;
	char *mask_name = NULL;
	if (get_str(c, item, ipath, "mask", 0, &mask_name, &mv) == 0 && mask_name) {
		char mp[CONFIG_PATH_LEN];
		join_key(mp, sizeof mp, ipath, "mask");
		for (size_t i = 0; i < c->cfg->n_mask_profiles && r->mask_profile < 0; i++)
			if (c->cfg->mask_profiles[i].name && strcmp(c->cfg->mask_profiles[i].name, mask_name) == 0)
				r->mask_profile = (int)i;
		if (r->mask_profile < 0)
			fail(c, mv, mp, "no masking profile named \"%s\" (masking.profiles)", mask_name);
		else if (r->action != CONFIG_ACTION_ALLOW && r->action != CONFIG_ACTION_REVIEW)
			fail(c, mv, mp, "applies to rules that let results through (allow or review)");
	}
	free(mask_name);
	r->approvals = 1;
	r->timeout_s = 600;
	r->max_duration_s = 3600;
	get_strlist(c, item, ipath, "reviewers", &r->reviewers);
	get_int(c, item, ipath, "approvals", 1, 10, &r->approvals);
	get_duration(c, item, ipath, "timeout", 1, 86400, &r->timeout_s);
	get_duration(c, item, ipath, "max_duration", 60, 30 * 86400, &r->max_duration_s);
	int g = 0;
	get_enum(c, item, ipath, "grant", grants, 3, &g);
	r->grant = (config_grant)g;
	static const char *const review_keys[] = { "reviewers", "approvals", "timeout", "grant", "max_duration" };
	if (r->action != CONFIG_ACTION_REVIEW) {
		for (size_t k = 0; k < 5; k++) {
			yaml_node_t *kn;
			map_get(c, item, review_keys[k], &kn);
			if (kn) {
				char rp[CONFIG_PATH_LEN];
				join_key(rp, sizeof rp, ipath, review_keys[k]);
				fail(c, kn, rp, "applies only to rules with action: review");
			}
		}
	} else if (!r->reviewers.n) {
		char rp[CONFIG_PATH_LEN];
		join_key(rp, sizeof rp, ipath, "reviewers");
		fail_missing(c, item, rp, "is required for action: review (the groups whose members may decide)");
	}

	char mpath[CONFIG_PATH_LEN];
	join_key(mpath, sizeof mpath, ipath, "match");
	yaml_node_t *mk;
	yaml_node_t *m = map_get(c, item, "match", &mk);
	if (!mk) {
		fail_missing(c, item, mpath, "is required (use `match: {}` to match every statement)");
		return;
	}
	if (m && m->type != YAML_MAPPING_NODE) {
		fail(c, m, mpath, "must be a mapping");
		return;
	}
	if (!m || m->data.mapping.pairs.top == m->data.mapping.pairs.start) {
		r->catch_all = 1;
		return;
	}
	check_keys(c, m, mpath, match_keys, sizeof match_keys / sizeof match_keys[0]);
	get_strlist(c, m, mpath, "users", &r->users);
	get_strlist(c, m, mpath, "groups", &r->groups);
	get_strlist(c, m, mpath, "agents", &r->agents);
	get_strlist(c, m, mpath, "connections", &r->connections);
	get_strlist(c, m, mpath, "objects", &r->objects);
	get_strlist(c, m, mpath, "functions", &r->functions);
	get_bits(c, m, mpath, "kinds", sqlclass_kind_parse, sqlclass_kind_name, SQLK_COUNT, &r->kinds);
	get_bits(c, m, mpath, "flags", sqlclass_flag_parse, sqlclass_flag_name, SQLF_COUNT, &r->flags);
	if (get_strlist(c, m, mpath, "statements", &r->statements) == 0) {
		char sp[CONFIG_PATH_LEN];
		join_key(sp, sizeof sp, mpath, "statements");
		for (size_t i = 0; i < r->statements.n; i++) {
			if (!sqlclass_command_known(r->statements.v[i])) {
				char ip[CONFIG_PATH_LEN];
				join_index(ip, sizeof ip, sp, i);
				fail(c, map_get(c, m, "statements", NULL), ip,
				     "unknown statement \"%s\" (a lowercase command word: select, insert, update, "
				     "delete, create, alter, drop, truncate, grant, ...)", r->statements.v[i]);
			}
		}
	}
}

static const char *const default_dangerous_functions[] = {
	"pg_read_file", "pg_read_binary_file", "pg_ls_*dir", "pg_stat_file", "lo_import", "lo_export",
	"dblink*", "pg_terminate_backend", "pg_cancel_backend", "set_config", "pg_reload_conf",
	"query_to_xml*", "pg_file_write", "pg_file_unlink", "pg_file_rename",
};

static void parse_policy(cfg_ctx *c, yaml_node_t *root, warden_config *out)
{
	static const char *const keys[] = { "default", "dangerous_functions", "rules" };
	static const char *const defaults[] = { "allow", "review", "deny" };
	config_policy *p = &out->policy;
	char path[CONFIG_PATH_LEN];
	yaml_node_t *m = get_map(c, root, "", "policy", path, sizeof path);
	if (m) {
		p->present = 1;
		p->default_action = CONFIG_ACTION_DENY;
		check_keys(c, m, path, keys, 3);
		int d = (int)p->default_action;
		get_enum(c, m, path, "default", defaults, 3, &d);
		p->default_action = (config_action)d;
		if (p->default_action == CONFIG_ACTION_REVIEW) {
			char kp[CONFIG_PATH_LEN];
			join_key(kp, sizeof kp, path, "default");
			fail(c, map_get(c, m, "default", NULL), kp,
			     "review needs reviewers: write a rule with action: review (and reviewers), or use allow or deny");
		}
		get_strlist(c, m, path, "dangerous_functions", &p->dangerous_functions);
	}
	if (!p->dangerous_functions.v && !map_get(c, m, "dangerous_functions", NULL)) {
		size_t n = sizeof default_dangerous_functions / sizeof default_dangerous_functions[0];
		p->dangerous_functions.v = calloc(n, sizeof(char *));
		if (!p->dangerous_functions.v) {
			fail(c, root, "policy.dangerous_functions", "out of memory");
			return;
		}
		for (size_t i = 0; i < n; i++)
			if ((p->dangerous_functions.v[i] = strdup(default_dangerous_functions[i])))
				p->dangerous_functions.n++;
	}
	if (!m)
		return;
	yaml_node_t *seq = parse_list(c, m, path, "rules", (void **)&p->rules, &p->n_rules, sizeof *p->rules,
				      "with name, match and action", parse_rule, p);
	if (!seq)
		return;
	size_t n = p->n_rules;
	char spath[CONFIG_PATH_LEN];
	join_key(spath, sizeof spath, path, "rules");
	/* a rule after a catch-all can never decide anything: a policy bug, refused */
	for (size_t i = 0; i + 1 < n; i++) {
		if (!p->rules[i].catch_all)
			continue;
		yaml_node_t *item = node_at(c, seq->data.sequence.items.start[i + 1]);
		char ipath[CONFIG_PATH_LEN];
		join_index(ipath, sizeof ipath, spath, i + 1);
		fail(c, item, ipath, "rule \"%s\" is unreachable: rule \"%s\" (line %zu) has an empty match "
		     "and decides every statement before it", p->rules[i + 1].name ? p->rules[i + 1].name : "?",
		     p->rules[i].name ? p->rules[i].name : "?", p->rules[i].line);
		break;
	}
}

/* the built-in detectors, as mask.c has them */
#define X(id, name) name,
static const char *const mask_detector_names[] = {MASK_DETECTORS(X)};
#undef X

/*
 * Columns holding other columns' values, out of any column rule's reach: the
 * planner's statistics sample every column (ANALYZE: `select histogram_bounds
 * from pg_stats where attname = 'password'` lists passwords), and
 * pg_stat_activity.query holds every session's latest statement — warden's
 * identities share the target's role, so PostgreSQL shows them each other's
 * (an UPDATE's literals) — and pg_stat_statements.query (the extension's, in
 * whichever schema it is) the statements it does not normalize (utility
 * statements, CALL's arguments). A profile with column rules masks these
 * whole too.
 */
static const char *const stats_columns[] = {
	"pg_catalog.pg_stat_activity.query",          "*.pg_stat_statements.query",
	"pg_catalog.pg_stats.most_common_vals",       "pg_catalog.pg_stats.histogram_bounds",
	"pg_catalog.pg_stats.most_common_elems",      "pg_catalog.pg_stats_ext.most_common_vals",
	"pg_catalog.pg_stats_ext_exprs.most_common_vals", "pg_catalog.pg_stats_ext_exprs.histogram_bounds",
	"pg_catalog.pg_stats_ext_exprs.most_common_elems", "pg_catalog.pg_statistic.stavalues[1-5]",
	"pg_catalog.pg_statistic_ext_data.stxdmcv",   "pg_catalog.pg_statistic_ext_data.stxdexpr",
	/* ... and what the statistics say of the values: with rows of one's own
	 * added and ANALYZE run (in a transaction rolled back), correlation
	 * answers whether a guess sorts before a value, n_distinct whether it
	 * equals one, avg_width its length */
	"pg_catalog.pg_stats.avg_width",              "pg_catalog.pg_stats.n_distinct",
	"pg_catalog.pg_stats.correlation",            "pg_catalog.pg_stats.most_common_freqs",
	"pg_catalog.pg_stats.most_common_elem_freqs", "pg_catalog.pg_stats.elem_count_histogram",
	"pg_catalog.pg_stats_ext.n_distinct",         "pg_catalog.pg_stats_ext.dependencies",
	"pg_catalog.pg_stats_ext.most_common_val_nulls", "pg_catalog.pg_stats_ext.most_common_freqs",
	"pg_catalog.pg_stats_ext.most_common_base_freqs", "pg_catalog.pg_stats_ext_exprs.avg_width",
	"pg_catalog.pg_stats_ext_exprs.n_distinct",   "pg_catalog.pg_stats_ext_exprs.correlation",
	"pg_catalog.pg_stats_ext_exprs.most_common_freqs", "pg_catalog.pg_stats_ext_exprs.most_common_elem_freqs",
	"pg_catalog.pg_stats_ext_exprs.elem_count_histogram", "pg_catalog.pg_statistic.stawidth",
	"pg_catalog.pg_statistic.stadistinct",        "pg_catalog.pg_statistic.stanumbers[1-5]",
	"pg_catalog.pg_statistic_ext_data.stxdndistinct", "pg_catalog.pg_statistic_ext_data.stxddependencies",
};

static void add_stats_columns(config_strlist *l)
{
	size_t n = sizeof stats_columns / sizeof stats_columns[0];
	l->v = util_xrealloc(l->v, (l->n + n) * sizeof *l->v);
	for (size_t i = 0; i < n; i++)
		l->v[l->n++] = util_strndup(stats_columns[i], strlen(stats_columns[i]));
}

static void parse_mask_profile(cfg_ctx *c, yaml_node_t *item, const char *ipath, void *elem, void *arg)
{
	warden_config *out = arg;
	config_mask_profile *p = elem;
	static const char *const keys[] = { "name", "detectors", "custom", "columns", "json_keys", "style",
					    "transforms" };
	static const char *const styles[] = { "redact", "partial", "hash" };
	static const char *const transforms[] = { "allow", "refuse" };
	check_keys(c, item, ipath, keys, sizeof keys / sizeof keys[0]);
	yaml_node_t *nv;
	if (get_str(c, item, ipath, "name", 1, &p->name, &nv) == 0 && p->name) {
		for (config_mask_profile *o = out->mask_profiles; o < p; o++) {
			if (o->name && strcmp(o->name, p->name) == 0) {
				char kp[CONFIG_PATH_LEN];
				join_key(kp, sizeof kp, ipath, "name");
				fail(c, nv, kp, "duplicate profile name");
				break;
			}
		}
	}
	if (get_strlist(c, item, ipath, "detectors", &p->detectors) == 0) {
		char dp[CONFIG_PATH_LEN];
		join_key(dp, sizeof dp, ipath, "detectors");
		for (size_t i = 0; i < p->detectors.n; i++) {
			size_t k = 0, n = sizeof mask_detector_names / sizeof mask_detector_names[0];
			while (k < n && strcmp(p->detectors.v[i], mask_detector_names[k]) != 0)
				k++;
			if (k == n) {
				char ip[CONFIG_PATH_LEN], known[512];
				size_t kl = 0;
				known[0] = '\0';
				for (size_t j = 0; j < n && kl < sizeof known; j++)
					kl += (size_t)snprintf(known + kl, sizeof known - kl, "%s%s", j ? ", " : "",
							       mask_detector_names[j]);
				join_index(ip, sizeof ip, dp, i);
				fail(c, map_get(c, item, "detectors", NULL), ip, "unknown detector \"%s\" (%s)",
				     p->detectors.v[i], known);
			}
		}
	}
	if (get_strlist(c, item, ipath, "columns", &p->columns) == 0 && p->columns.n)
		add_stats_columns(&p->columns);
	get_strlist(c, item, ipath, "json_keys", &p->json_keys);
	int st = 0;
	get_enum(c, item, ipath, "style", styles, 3, &st);
	p->style = (config_mask_style)st;
	int tr = 0;
	get_enum(c, item, ipath, "transforms", transforms, 2, &tr);
	p->transforms_refuse = tr == 1;
	char cpath[CONFIG_PATH_LEN];
	yaml_node_t *seq = get_seq(c, item, ipath, "custom", cpath, sizeof cpath);
	size_t n = seq ? (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start) : 0;
	if (n) {
		p->custom_names.v = calloc(n, sizeof(char *));
		p->custom_patterns.v = calloc(n, sizeof(char *));
		if (!p->custom_names.v || !p->custom_patterns.v) {
			fail(c, seq, cpath, "out of memory");
			return;
		}
	}
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *ci = node_at(c, seq->data.sequence.items.start[i]);
		char cip[CONFIG_PATH_LEN];
		join_index(cip, sizeof cip, cpath, i);
		if (!ci || ci->type != YAML_MAPPING_NODE) {
			fail(c, ci ? ci : seq, cip, "must be a mapping with name and pattern");
			continue;
		}
		static const char *const ckeys[] = { "name", "pattern" };
		check_keys(c, ci, cip, ckeys, 2);
		char *cn = NULL, *cpat = NULL;
		get_str(c, ci, cip, "name", 1, &cn, NULL);
		get_str(c, ci, cip, "pattern", 1, &cpat, NULL);
		if (cn && cpat) {
			p->custom_names.v[p->custom_names.n++] = cn;
			p->custom_patterns.v[p->custom_patterns.n++] = cpat;
		} else {
			free(cn);
			free(cpat);
		}
	}
	if (!p->detectors.n && !p->custom_names.n && !p->columns.n && !p->json_keys.n)
		fail(c, item, ipath, "masks nothing: give detectors, custom, columns or json_keys");
}

static void parse_masking(cfg_ctx *c, yaml_node_t *root, warden_config *out)
{
	static const char *const keys[] = { "engine", "profiles" };
	static const char *const engines[] = { "auto", "hyperscan", "pcre2" };
	char path[CONFIG_PATH_LEN];
	yaml_node_t *m = get_map(c, root, "", "masking", path, sizeof path);
	if (!m)
		return;
	check_keys(c, m, path, keys, 2);
	int e = 0;
	get_enum(c, m, path, "engine", engines, 3, &e);
	out->mask_engine = (config_mask_engine)e;
	parse_list(c, m, path, "profiles", (void **)&out->mask_profiles, &out->n_mask_profiles,
		   sizeof *out->mask_profiles, "with name and detectors", parse_mask_profile, out);
}

static void parse_webhook(cfg_ctx *c, yaml_node_t *item, const char *ipath, void *elem, void *arg)
{
	static const char *const wkeys[] = { "url", "format", "secret_env" };
	static const char *const formats[] = { "json", "slack" };
	(void)arg;
	config_webhook *wh = elem;
	check_keys(c, item, ipath, wkeys, 3);
	yaml_node_t *uv;
	if (get_str(c, item, ipath, "url", 1, &wh->url, &uv) == 0 && wh->url &&
	    strncmp(wh->url, "https://", 8) != 0 && strncmp(wh->url, "http://", 7) != 0) {
		char kp[CONFIG_PATH_LEN];
		join_key(kp, sizeof kp, ipath, "url");
		fail(c, uv, kp, "must be an http:// or https:// URL");
	}
	int f = 0;
	get_enum(c, item, ipath, "format", formats, 2, &f);
	wh->format = (config_webhook_format)f;
	yaml_node_t *sv;
	if (get_str(c, item, ipath, "secret_env", 0, &wh->secret_env, &sv) == 0 && wh->secret_env &&
	    !(c->flags & CONFIG_NO_SECRETS)) {
		char kp[CONFIG_PATH_LEN];
		join_key(kp, sizeof kp, ipath, "secret_env");
		const char *val = getenv(wh->secret_env);
		if (!val || !*val)
			fail(c, sv, kp, "environment variable %s is not set", wh->secret_env);
		else if (!(wh->secret = strdup(val)))
			fail(c, sv, kp, "out of memory");
	}
}

static void parse_notify(cfg_ctx *c, yaml_node_t *root, warden_config *out)
{
	static const char *const keys[] = { "webhooks", "review_url" };
	char path[CONFIG_PATH_LEN];
	yaml_node_t *m = get_map(c, root, "", "notify", path, sizeof path);
	if (!m)
		return;
	check_keys(c, m, path, keys, 2);
	get_str(c, m, path, "review_url", 0, &out->review_url, NULL);
	parse_list(c, m, path, "webhooks", (void **)&out->webhooks, &out->n_webhooks, sizeof *out->webhooks,
		   "with url, format and secret_env", parse_webhook, NULL);
}

static void parse_root(cfg_ctx *c, yaml_node_t *root, warden_config *out)
{
	static const char *const keys[] = {
		"data_dir", "listen", "workers", "log_level", "audit",
		"tls", "limits", "identity", "connections", "policy", "notify", "masking"
	};
	static const char *const levels[] = { "error", "warn", "info", "debug" };

	if (root->type != YAML_MAPPING_NODE) {
		fail(c, root, "", "the top level must be a mapping of settings");
		return;
	}
	check_keys(c, root, "", keys, sizeof keys / sizeof keys[0]);

	get_str(c, root, "", "data_dir", 0, &out->data_dir, NULL);
	if (!out->data_dir && !(out->data_dir = strdup("./var")))
		fail(c, root, "data_dir", "out of memory");
	parse_listen_section(c, root, out);
	get_int(c, root, "", "workers", 1, 256, &out->workers);
	get_enum(c, root, "", "log_level", levels, 4, &out->log_level);
	parse_audit(c, root, out);
	parse_tls(c, root, out);
	parse_limits(c, root, out);
	parse_identity(c, root, out);
	parse_connections(c, root, out);
	parse_masking(c, root, out);    /* before policy: rules name profiles */
	parse_policy(c, root, out);
	parse_notify(c, root, out);
}

static void set_defaults(warden_config *out)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	out->workers = cpus < 1 ? 1 : cpus > 256 ? 256 : (int)cpus;
	out->log_level = 2;
	out->durability = DURABILITY_STRICT;
	out->batch_window_ms = 5;
	out->sth_interval_ms = 10000;
	out->oidc.allowed_algs = CONFIG_ALG_RS256 | CONFIG_ALG_ES256 | CONFIG_ALG_EDDSA;
	out->oidc.leeway_s = 30;
	out->oidc.jwks_refresh_s = 300;
	out->tls_mode = TLS_MODE_AUTO;
	out->tls_require = 0;
	out->max_message_bytes = (size_t)1 << 30;
	out->max_startup_bytes = (size_t)10 << 10;
	out->connect_timeout_ms = 10000;
	out->capture_results = CONFIG_CAPTURE_SUMMARY;
	out->max_result_bytes = (size_t)64 << 10;
	out->auth_timeout_ms = 60000;
}

/* ---- libyaml errors ----------------------------------------------------- */

static void yaml_fail(cfg_ctx *c, const yaml_parser_t *p, const char *buf, size_t len)
{
	size_t line;
	if (p->error == YAML_READER_ERROR) {
		/* reader errors carry a byte offset, not a mark */
		line = 1;
		size_t end = p->problem_offset < len ? p->problem_offset : len;
		for (size_t i = 0; i < end; i++)
			line += buf[i] == '\n';
	} else {
		line = p->problem_mark.line + 1;
	}
	const char *problem = p->problem ? p->problem : "unknown error";
	if (p->error == YAML_MEMORY_ERROR)
		problem = "out of memory";
	c->failed = 1;
	c->err_line = line;
	if (!c->err || c->errlen == 0)
		return;
	if (p->context)
		snprintf(c->err, c->errlen, "%s:%zu: YAML syntax error: %s (%s, line %zu)",
			 c->name, line, problem, p->context, (size_t)p->context_mark.line + 1);
	else
		snprintf(c->err, c->errlen, "%s:%zu: YAML syntax error: %s", c->name, line, problem);
}

/* ---- public API --------------------------------------------------------- */

int config_load_string(const char *yaml, size_t len, const char *name,
		       warden_config *out, char *err, size_t errlen)
{
	return config_load_string_ex(yaml, len, name, out, err, errlen, 0);
}

int config_load_string_ex(const char *yaml, size_t len, const char *name,
			  warden_config *out, char *err, size_t errlen, unsigned flags)
{
	memset(out, 0, sizeof *out);
	if (err && errlen)
		err[0] = '\0';
	if (!name)
		name = "<config>";
	cfg_ctx c = { .name = name, .err = err, .errlen = errlen, .flags = flags, .cfg = out };
	const char *buf = yaml ? yaml : "";
	size_t blen = yaml ? len : 0;

	yaml_parser_t parser;
	yaml_document_t doc, extra;
	if (!yaml_parser_initialize(&parser)) {
		if (err && errlen)
			snprintf(err, errlen, "%s: out of memory", name);
		return -1;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, blen);
	if (!yaml_parser_load(&parser, &doc)) {
		yaml_fail(&c, &parser, buf, blen);
		yaml_parser_delete(&parser);
		return -1;
	}
	c.doc = &doc;
	yaml_node_t *root = yaml_document_get_root_node(&doc);
	if (!root) {
		fail(&c, NULL, "", "the configuration is empty");
	} else {
		/* a second document is an error (and its syntax must be valid) */
		if (!yaml_parser_load(&parser, &extra)) {
			yaml_fail(&c, &parser, buf, blen);
		} else {
			yaml_node_t *r2 = yaml_document_get_root_node(&extra);
			if (r2) {
				size_t l2 = node_line(r2);
				if (c.err && c.errlen)
					snprintf(c.err, c.errlen, "%s:%zu: only one YAML document is allowed",
						 name, l2);
				c.failed = 1;
			}
			yaml_document_delete(&extra);
		}
		if (!c.failed) {
			if (!(out->path = strdup(name)))
				fail(&c, root, "", "out of memory");
			set_defaults(out);
			parse_root(&c, root, out);
			/* the policy refuses what column rules cannot mask (exposure.h) */
			out->policy.mask_profiles = out->mask_profiles;
			out->policy.n_mask_profiles = out->n_mask_profiles;
			out->policy.capture_profile =
				out->capture_results == CONFIG_CAPTURE_MASKED && out->n_mask_profiles ? 0 : -1;
		}
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	if (c.failed) {
		config_free(out);
		return -1;
	}
	return 0;
}

int config_load(const char *path, warden_config *out, char *err, size_t errlen)
{
	return config_load_ex(path, out, err, errlen, 0);
}

int config_load_ex(const char *path, warden_config *out, char *err, size_t errlen, unsigned flags)
{
	memset(out, 0, sizeof *out);
	FILE *f = fopen(path, "re");
	if (!f) {
		if (err && errlen)
			snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	int rc = -1;
	if (!buf) {
		if (err && errlen)
			snprintf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	for (;;) {
		if (len == cap) {
			if (cap >= CONFIG_MAX_FILE_BYTES) {
				if (err && errlen)
					snprintf(err, errlen, "%s: file is larger than %zu bytes",
						 path, CONFIG_MAX_FILE_BYTES);
				goto out;
			}
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				if (err && errlen)
					snprintf(err, errlen, "%s: out of memory", path);
				goto out;
			}
			buf = nb;
			cap *= 2;
		}
		size_t got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (got == 0) {
			if (ferror(f)) {
				if (err && errlen)
					snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
				goto out;
			}
			break;
		}
	}
	rc = config_load_string_ex(buf, len, path, out, err, errlen, flags);
out:
	free(buf);
	fclose(f);
	return rc;
}

static void free_str(char **s)
{
	free(*s);
	*s = NULL;
}

static void free_strlist(config_strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

void config_policy_free(config_policy *p)
{
	for (size_t i = 0; i < p->n_rules; i++) {
		config_rule *r = &p->rules[i];
		free(r->name);
		free(r->message);
		free_strlist(&r->users);
		free_strlist(&r->groups);
		free_strlist(&r->agents);
		free_strlist(&r->connections);
		free_strlist(&r->statements);
		free_strlist(&r->objects);
		free_strlist(&r->functions);
		free_strlist(&r->reviewers);
	}
	free(p->rules);
	free_strlist(&p->dangerous_functions);
	memset(p, 0, sizeof *p);
}

void config_free(warden_config *cfg)
{
	if (!cfg)
		return;
	free_str(&cfg->path);
	free_str(&cfg->data_dir);
	free_str(&cfg->listen_pg_host);
	free_str(&cfg->listen_admin_host);
	free_str(&cfg->review_url);
	for (size_t i = 0; i < cfg->n_webhooks; i++) {
		config_webhook *wh = &cfg->webhooks[i];
		free(wh->url);
		free(wh->secret_env);
		if (wh->secret) {
			explicit_bzero(wh->secret, strlen(wh->secret));
			free(wh->secret);
		}
	}
	free(cfg->webhooks);
	for (size_t i = 0; i < cfg->n_mask_profiles; i++) {
		config_mask_profile *mp = &cfg->mask_profiles[i];
		free(mp->name);
		free_strlist(&mp->detectors);
		free_strlist(&mp->custom_names);
		free_strlist(&mp->custom_patterns);
		free_strlist(&mp->columns);
		free_strlist(&mp->json_keys);
	}
	free(cfg->mask_profiles);
	free_str(&cfg->audit_path);
	free_str(&cfg->signing_key);
	free_str(&cfg->oidc.issuer);
	free_str(&cfg->oidc.audience);
	free_str(&cfg->oidc.username_claim);
	free_str(&cfg->oidc.groups_claim);
	free_str(&cfg->oidc.ca_file);
	free_str(&cfg->oidc.cli_client_id);
	free_str(&cfg->oidc.cli_resource);
	free_str(&cfg->tls_cert);
	free_str(&cfg->tls_key);
	for (size_t i = 0; i < cfg->n_api_keys; i++) {
		config_api_key *k = &cfg->api_keys[i];
		free(k->name);
		for (size_t g = 0; g < k->n_groups; g++)
			free(k->groups[g]);
		free(k->groups);
		explicit_bzero(k->key_sha256, sizeof k->key_sha256);
	}
	free(cfg->api_keys);
	for (size_t i = 0; i < cfg->n_connections; i++) {
		config_connection *cn = &cfg->connections[i];
		free(cn->name);
		free(cn->type);
		free(cn->host);
		free(cn->database);
		free(cn->user);
		free(cn->password_env);
		if (cn->password) {
			explicit_bzero(cn->password, strlen(cn->password));
			free(cn->password);
		}
		free(cn->sslrootcert);
	}
	free(cfg->connections);
	config_policy_free(&cfg->policy);
	memset(cfg, 0, sizeof *cfg);
}

const config_connection *config_find_connection(const warden_config *cfg, const char *name)
{
	if (!cfg || !name)
		return NULL;
	for (size_t i = 0; i < cfg->n_connections; i++) {
		if (cfg->connections[i].name && strcmp(cfg->connections[i].name, name) == 0)
			return &cfg->connections[i];
	}
	return NULL;
}

int config_globs_match(const config_strlist *globs, const char *name)
{
	for (size_t g = 0; g < globs->n; g++)
		if (fnmatch(globs->v[g], name, FNM_CASEFOLD) == 0)
			return 1;
	return 0;
}
