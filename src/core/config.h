/*
 * config — warden's YAML configuration, loaded once at start.
 *
 * config_load() parses the file with libyaml into a warden_config, fills in
 * every default, resolves `password_env` from the environment, and validates
 * cross-references. On failure it writes one message naming the file, the line
 * and the key of the first error ("quickstart.yaml:12: connections[0].port: ...")
 * and returns -1; the struct is then empty and safe to config_free().
 *
 * The struct is read-only after load and shared by every thread.
 */
#ifndef WARDEN_CONFIG_H
#define WARDEN_CONFIG_H

#include <stddef.h>
#include <stdint.h>

typedef enum { DURABILITY_STRICT = 0, DURABILITY_BATCH } config_durability;
typedef enum { TLS_MODE_OFF = 0, TLS_MODE_AUTO, TLS_MODE_FILES } config_tls_mode;
typedef enum {
	SSLMODE_DISABLE = 0,
	SSLMODE_PREFER,
	SSLMODE_REQUIRE,
	SSLMODE_VERIFY_FULL
} config_sslmode;

typedef struct config_api_key {
	char *name;                 /* identity the key stands for */
	unsigned char key_sha256[32];
	char **groups;
	size_t n_groups;
} config_api_key;

/* identity.oidc: OpenID Connect tokens as the PostgreSQL password. */
#define CONFIG_ALG_RS256 1u
#define CONFIG_ALG_ES256 2u
#define CONFIG_ALG_EDDSA 4u

typedef struct config_oidc {
	char *issuer;               /* required; discovery at <issuer>/.well-known/openid-configuration */
	char *audience;             /* required: the token's aud must contain it */
	char *username_claim;       /* NULL: preferred_username, then email, then sub */
	char *groups_claim;         /* default "groups" */
	unsigned allowed_algs;      /* CONFIG_ALG_* bits, default all three */
	int leeway_s;               /* default 30 */
	int jwks_refresh_s;         /* default 300 */
	char *ca_file;              /* CA bundle for an https issuer (default: system store) */
	char *cli_client_id;        /* device-flow client `warden login --gateway` signs in with */
	char *cli_resource;         /* resource indicator it asks for (tokens whose aud is the gateway) */
} config_oidc;

typedef struct config_connection {
	char *name;                 /* clients select it as dbname */
	char *type;                 /* "postgres" */
	char *host;
	int port;
	char *database;
	char *user;
	char *password_env;         /* may be NULL (trust / peer targets) */
	char *password;             /* resolved from password_env at load; never logged */
	config_sslmode sslmode;
	char *sslrootcert;          /* CA file for verify-full; NULL = system store */
} config_connection;

typedef struct config_strlist {
	char **v;
	size_t n;
} config_strlist;

/* masking.profiles[]: what to mask in results (see mask/mask.h). */
typedef enum { CONFIG_MASK_REDACT = 0, CONFIG_MASK_PARTIAL, CONFIG_MASK_HASH } config_mask_style;
typedef enum { CONFIG_MASK_AUTO = 0, CONFIG_MASK_HYPERSCAN, CONFIG_MASK_PCRE2 } config_mask_engine;

typedef struct config_mask_profile {
	char *name;
	config_strlist detectors;   /* built-in detector names */
	config_strlist custom_names, custom_patterns;
	config_strlist columns;     /* "schema.table.column" globs: the whole value is masked */
	config_strlist json_keys;   /* key-name globs: values under them in JSON documents */
	config_mask_style style;
	int transforms_refuse;      /* transforms: refuse — statements reshaping column values (policy/reshape.h) */
} config_mask_profile;

typedef enum { CONFIG_CAPTURE_NONE = 0, CONFIG_CAPTURE_SUMMARY, CONFIG_CAPTURE_MASKED } config_capture;

/* A review's approval covers: this request only, the rest of the session, or a while. */
typedef enum { CONFIG_GRANT_ONCE = 0, CONFIG_GRANT_SESSION, CONFIG_GRANT_DURATION } config_grant;

/* notify.webhooks[]: where reviews are announced. */
typedef enum { CONFIG_WEBHOOK_JSON = 0, CONFIG_WEBHOOK_SLACK } config_webhook_format;

typedef struct config_webhook {
	char *url;                  /* http(s) URL the event is POSTed to */
	config_webhook_format format;
	char *secret_env;           /* environment variable holding the HMAC-SHA256 key, or NULL */
	char *secret;               /* resolved at load; never logged */
} config_webhook;

/* policy: ordered rules, first match decides (see policy/policy.h). */
typedef enum { CONFIG_ACTION_ALLOW = 0, CONFIG_ACTION_REVIEW, CONFIG_ACTION_DENY } config_action;

typedef struct config_rule {
	char *name;
	size_t line;                /* where it is in the file, for messages */
	/* match: keys combine with AND, a list matches any item; globs (fnmatch) for names */
	config_strlist users, groups, agents, connections;
	uint32_t kinds;             /* SQLK_* bits; 0 = any */
	config_strlist statements;  /* command words: "drop", "truncate", ... */
	config_strlist objects;     /* "schema.table" globs */
	config_strlist functions;   /* function name globs */
	uint32_t flags;             /* SQLF_* bits; 0 = any */
	int catch_all;              /* the match is empty: every statement */
	config_action action;
	char *message;              /* told to the client on deny/review */
	/* action review */
	config_strlist reviewers;   /* groups whose members may decide; required for review */
	int approvals;              /* distinct reviewers needed (default 1) */
	int timeout_s;              /* the request waits this long (timeout, default 600) */
	config_grant grant;         /* the widest grant a reviewer may give (default once) */
	int max_duration_s;         /* cap of a duration grant (max_duration, default 3600) */
	int mask_profile;           /* action allow: masking.profiles index applied to results, -1 none */
} config_rule;

typedef struct config_policy {
	int present;                /* a policy section exists */
	config_action default_action; /* no rule matched: deny when the section exists, else allow */
	config_strlist dangerous_functions;
	config_rule *rules;
	size_t n_rules;
	/* the masking profiles rules name (not owned: warden_config's) */
	const struct config_mask_profile *mask_profiles;
	size_t n_mask_profiles;
	int capture_profile;        /* the profile clear results are captured with (audit), -1 none */
} config_policy;

typedef struct warden_config {
	char *path;                 /* the file it came from */
	char *data_dir;             /* absolute or relative to cwd; created if missing */

	char *listen_pg_host;       /* NULL when no postgres listener */
	int listen_pg_port;
	char *listen_admin_host;    /* listen.admin: the HTTP admin API; NULL when off */
	int listen_admin_port;

	config_webhook *webhooks;   /* notify.webhooks */
	size_t n_webhooks;
	char *review_url;           /* notify.review_url: link template, "{id}" replaced */

	int workers;                /* default: number of online CPUs */

	config_durability durability;
	int batch_window_ms;        /* default 5 */
	char *audit_path;           /* default <data_dir>/audit.db */
	int sth_interval_ms;        /* audit.sth_interval (seconds in the file), default 10 s */
	char *signing_key;          /* Ed25519 key for tree heads, default <data_dir>/audit.key */

	config_tls_mode tls_mode;   /* default auto */
	char *tls_cert;             /* files mode: paths; auto mode: <data_dir>/tls.{crt,key} */
	char *tls_key;
	int tls_require;            /* refuse clients that do not ask for TLS (default 0) */

	config_api_key *api_keys;
	size_t n_api_keys;

	int oidc_enabled;
	config_oidc oidc;

	config_connection *connections;
	size_t n_connections;

	config_policy policy;

	config_mask_engine mask_engine;     /* masking.engine */
	config_mask_profile *mask_profiles; /* masking.profiles */
	size_t n_mask_profiles;
	config_capture capture_results;     /* audit.capture_results (default summary) */
	size_t max_result_bytes;            /* audit.max_result_bytes (default 64 KiB) */

	size_t max_message_bytes;   /* limits.max_message_size, default 1 GiB */
	size_t max_startup_bytes;   /* limits.max_startup_size, default 10 KiB */
	int connect_timeout_ms;     /* limits.connect_timeout_ms, default 10000 */
	int auth_timeout_ms;        /* limits.auth_timeout_ms, default 60000 */

	int log_level;              /* 0 error, 1 warn, 2 info (default), 3 debug */
} warden_config;

/* Returns 0 on success, -1 with a message in err. */
int config_load(const char *path, warden_config *out, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* Same, from a buffer (used by tests and the fuzzer); name appears in messages. */
int config_load_string(const char *yaml, size_t len, const char *name,
		       warden_config *out, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* Flags for the _ex variants. */
#define CONFIG_NO_SECRETS 1u   /* do not resolve password_env (CLI commands that need no target) */

int config_load_ex(const char *path, warden_config *out, char *err, size_t errlen, unsigned flags)
	__attribute__((warn_unused_result));
int config_load_string_ex(const char *yaml, size_t len, const char *name, warden_config *out,
			  char *err, size_t errlen, unsigned flags) __attribute__((warn_unused_result));

void config_free(warden_config *cfg);
void config_policy_free(config_policy *p);
/* "90", "90s", "10m", "2h", "1d" -> seconds within [lo, hi]; 0 or -1. */
int config_parse_duration(const char *s, long lo, long hi, long *out) __attribute__((warn_unused_result));

const config_connection *config_find_connection(const warden_config *cfg, const char *name);

/* Whether one of globs (column rules: "schema.table.column") matches name: fnmatch, case-insensitive. */
int config_globs_match(const config_strlist *globs, const char *name);

#endif
