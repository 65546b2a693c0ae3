/*
 * test_config — unit tests for src/core/config.c: a full valid file with
 * every field, defaults, and error messages (file:line: key: problem).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/config.h"

#define KEY_HEX "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF"

static const char full_yaml[] =
	"data_dir: /tmp/warden-test\n"                 /* 1 */
	"listen:\n"                                     /* 2 */
	"  postgres: 0.0.0.0:7432\n"                    /* 3 */
	"workers: 3\n"                                  /* 4 */
	"log_level: debug\n"                            /* 5 */
	"audit:\n"                                      /* 6 */
	"  durability: batch\n"                         /* 7 */
	"  batch_window_ms: 25\n"                       /* 8 */
	"  path: /tmp/elsewhere/audit.db\n"             /* 9 */
	"tls:\n"                                        /* 10 */
	"  mode: files\n"                               /* 11 */
	"  cert: /etc/warden/cert.pem\n"                /* 12 */
	"  key: /etc/warden/key.pem\n"                  /* 13 */
	"  require: true\n"                             /* 14 */
	"limits:\n"                                     /* 15 */
	"  max_message_size: 64MiB\n"                   /* 16 */
	"  max_startup_size: 16k\n"                     /* 17 */
	"  connect_timeout_ms: 1500\n"                  /* 18 */
	"  auth_timeout_ms: 30000\n"                    /* 19 */
	"identity:\n"                                   /* 20 */
	"  api_keys:\n"                                 /* 21 */
	"    - name: alice\n"                           /* 22 */
	"      key_sha256: \"" KEY_HEX "\"\n"           /* 23 */
	"      groups: [dev, ops]\n"                    /* 24 */
	"    - name: bob\n"                             /* 25 */
	"      key_sha256: " KEY_HEX "\n"               /* 26 */
	"connections:\n"                                /* 27 */
	"  - name: appdb\n"                             /* 28 */
	"    type: postgres\n"                          /* 29 */
	"    host: db.internal\n"                       /* 30 */
	"    port: 5433\n"                              /* 31 */
	"    database: app\n"                           /* 32 */
	"    user: app_user\n"                          /* 33 */
	"    password_env: WARDEN_TEST_APPDB_PW\n"      /* 34 */
	"    sslmode: verify-full\n"                    /* 35 */
	"    sslrootcert: /etc/ssl/ca.pem\n"            /* 36 */
	"  - name: other\n"                             /* 37 */
	"    host: 10.0.0.2\n"                          /* 38 */
	"    user: reader\n";                           /* 39 */

static int load(const char *yaml, warden_config *cfg, char *err, size_t errlen)
{
	return config_load_string(yaml, strlen(yaml), "t.yaml", cfg, err, errlen);
}

/* Loads yaml, expects failure and that the message starts with prefix and
 * contains fragment (when not NULL). */
static void expect_error(const char *yaml, const char *prefix, const char *fragment)
{
	warden_config cfg;
	char err[512];
	memset(&cfg, 0xab, sizeof cfg);
	int rc = load(yaml, &cfg, err, sizeof err);
	if (rc == 0 || strncmp(err, prefix, strlen(prefix)) != 0 ||
	    (fragment && !strstr(err, fragment)))
		print_error("yaml:\n%s\nexpected prefix: %s (fragment %s)\ngot rc=%d: %s\n",
			    yaml, prefix, fragment ? fragment : "-", rc, err);
	assert_int_equal(rc, -1);
	assert_true(strncmp(err, prefix, strlen(prefix)) == 0);
	if (fragment)
		assert_non_null(strstr(err, fragment));
	/* the struct is empty and safe to free */
	assert_null(cfg.path);
	assert_null(cfg.connections);
	assert_int_equal(cfg.n_connections, 0);
	config_free(&cfg);
}

static void test_full(void **state)
{
	setenv("WARDEN_TEST_APPDB_PW", "s3cret pw", 1);
	warden_config cfg;
	char err[512] = "";
	int rc = load(full_yaml, &cfg, err, sizeof err);
	if (rc != 0)
		print_error("%s\n", err);
	assert_int_equal(rc, 0);

	assert_string_equal(cfg.path, "t.yaml");
	assert_string_equal(cfg.data_dir, "/tmp/warden-test");
	assert_string_equal(cfg.listen_pg_host, "0.0.0.0");
	assert_int_equal(cfg.listen_pg_port, 7432);
	assert_int_equal(cfg.workers, 3);
	assert_int_equal(cfg.log_level, 3);
	assert_int_equal(cfg.durability, DURABILITY_BATCH);
	assert_int_equal(cfg.batch_window_ms, 25);
	assert_string_equal(cfg.audit_path, "/tmp/elsewhere/audit.db");
	assert_int_equal(cfg.tls_mode, TLS_MODE_FILES);
	assert_string_equal(cfg.tls_cert, "/etc/warden/cert.pem");
	assert_string_equal(cfg.tls_key, "/etc/warden/key.pem");
	assert_int_equal(cfg.tls_require, 1);
	assert_int_equal(cfg.max_message_bytes, 64u << 20);
	assert_int_equal(cfg.max_startup_bytes, 16u << 10);
	assert_int_equal(cfg.connect_timeout_ms, 1500);
	assert_int_equal(cfg.auth_timeout_ms, 30000);

	static const unsigned char want[32] = {
		0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
		0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
	};
	assert_int_equal(cfg.n_api_keys, 2);
	assert_string_equal(cfg.api_keys[0].name, "alice");
	assert_memory_equal(cfg.api_keys[0].key_sha256, want, 32);
	assert_int_equal(cfg.api_keys[0].n_groups, 2);
	assert_string_equal(cfg.api_keys[0].groups[0], "dev");
	assert_string_equal(cfg.api_keys[0].groups[1], "ops");
	assert_string_equal(cfg.api_keys[1].name, "bob");
	assert_memory_equal(cfg.api_keys[1].key_sha256, want, 32);
	assert_int_equal(cfg.api_keys[1].n_groups, 0);
	assert_null(cfg.api_keys[1].groups);

	assert_int_equal(cfg.n_connections, 2);
	const config_connection *c = &cfg.connections[0];
	assert_string_equal(c->name, "appdb");
	assert_string_equal(c->type, "postgres");
	assert_string_equal(c->host, "db.internal");
	assert_int_equal(c->port, 5433);
	assert_string_equal(c->database, "app");
	assert_string_equal(c->user, "app_user");
	assert_string_equal(c->password_env, "WARDEN_TEST_APPDB_PW");
	assert_string_equal(c->password, "s3cret pw");
	assert_int_equal(c->sslmode, SSLMODE_VERIFY_FULL);
	assert_string_equal(c->sslrootcert, "/etc/ssl/ca.pem");

	c = &cfg.connections[1];
	assert_string_equal(c->name, "other");
	assert_string_equal(c->type, "postgres");
	assert_string_equal(c->host, "10.0.0.2");
	assert_int_equal(c->port, 5432);
	assert_string_equal(c->database, "other");
	assert_string_equal(c->user, "reader");
	assert_null(c->password_env);
	assert_null(c->password);
	assert_int_equal(c->sslmode, SSLMODE_PREFER);
	assert_null(c->sslrootcert);

	assert_ptr_equal(config_find_connection(&cfg, "appdb"), &cfg.connections[0]);
	assert_ptr_equal(config_find_connection(&cfg, "other"), &cfg.connections[1]);
	assert_null(config_find_connection(&cfg, "nope"));
	assert_null(config_find_connection(&cfg, NULL));

	config_free(&cfg);
	static const warden_config zero;
	assert_memory_equal(&cfg, &zero, sizeof cfg);
	config_free(&cfg); /* twice is fine */
	unsetenv("WARDEN_TEST_APPDB_PW");
}

static void test_defaults(void **state)
{
	static const char yaml[] =
		"connections:\n"
		"  - {name: db, host: localhost, user: u}\n";
	warden_config cfg;
	char err[256];
	assert_int_equal(load(yaml, &cfg, err, sizeof err), 0);

	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int want_workers = cpus < 1 ? 1 : cpus > 256 ? 256 : (int)cpus;
	assert_string_equal(cfg.data_dir, "./var");
	assert_null(cfg.listen_pg_host);
	assert_int_equal(cfg.workers, want_workers);
	assert_int_equal(cfg.log_level, 2);
	assert_int_equal(cfg.durability, DURABILITY_STRICT);
	assert_int_equal(cfg.batch_window_ms, 5);
	assert_string_equal(cfg.audit_path, "./var/audit.db");
	assert_int_equal(cfg.tls_mode, TLS_MODE_AUTO);
	assert_string_equal(cfg.tls_cert, "./var/tls.crt");
	assert_string_equal(cfg.tls_key, "./var/tls.key");
	assert_int_equal(cfg.tls_require, 0);
	assert_int_equal(cfg.max_message_bytes, (size_t)1 << 30);
	assert_int_equal(cfg.max_startup_bytes, 10240);
	assert_int_equal(cfg.connect_timeout_ms, 10000);
	assert_int_equal(cfg.auth_timeout_ms, 60000);
	assert_int_equal(cfg.n_api_keys, 0);
	assert_int_equal(cfg.n_connections, 1);
	assert_string_equal(cfg.connections[0].type, "postgres");
	assert_int_equal(cfg.connections[0].port, 5432);
	assert_string_equal(cfg.connections[0].database, "db");
	assert_int_equal(cfg.connections[0].sslmode, SSLMODE_PREFER);
	config_free(&cfg);
}

static void test_defaults_follow_data_dir(void **state)
{
	static const char yaml[] =
		"data_dir: /srv/warden/\n"
		"tls: {mode: auto}\n"
		"listen: {postgres: \"[::1]:6432\"}\n";
	warden_config cfg;
	char err[256];
	assert_int_equal(load(yaml, &cfg, err, sizeof err), 0);
	assert_string_equal(cfg.audit_path, "/srv/warden/audit.db");
	assert_string_equal(cfg.tls_cert, "/srv/warden/tls.crt");
	assert_string_equal(cfg.tls_key, "/srv/warden/tls.key");
	assert_string_equal(cfg.listen_pg_host, "::1");
	assert_int_equal(cfg.listen_pg_port, 6432);
	config_free(&cfg);

	assert_int_equal(load("tls:\n  mode: off\n", &cfg, err, sizeof err), 0);
	assert_int_equal(cfg.tls_mode, TLS_MODE_OFF);
	assert_null(cfg.tls_cert);
	assert_null(cfg.tls_key);
	config_free(&cfg);
}

static void test_sizes(void **state)
{
	static const struct { const char *in; size_t want; } ok[] = {
		{ "1GiB", (size_t)1 << 30 }, { "1G", (size_t)1 << 30 }, { "512", 512 },
		{ "512B", 512 }, { "10KiB", 10240 }, { "10k", 10240 }, { "10K", 10240 },
		{ "2 MiB", (size_t)2 << 20 }, { "3M", (size_t)3 << 20 }, { "\"4KiB\"", 4096 },
	};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		char yaml[128];
		snprintf(yaml, sizeof yaml, "limits:\n  max_message_size: %s\n", ok[i].in);
		warden_config cfg;
		char err[256];
		assert_int_equal(load(yaml, &cfg, err, sizeof err), 0);
		assert_int_equal(cfg.max_message_bytes, ok[i].want);
		config_free(&cfg);
	}
	static const char *const bad[] = {
		"1TB", "1 KB", "-1", "0", "KiB", "1.5GiB", "99999999999999999999999", "4GiB", "[1]",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char yaml[128];
		snprintf(yaml, sizeof yaml, "limits:\n  max_startup_size: %s\n", bad[i]);
		expect_error(yaml, "t.yaml:2: limits.max_startup_size: ", "must be a size");
	}
}

/* ---- errors: each names file, line and dotted key ---- */

static void test_err_port_range(void **state)
{
	expect_error("connections:\n"
		     "  - name: a\n"
		     "    host: h\n"
		     "    user: u\n"
		     "    port: 70000\n",
		     "t.yaml:5: connections[0].port: must be an integer 1..65535", NULL);
	expect_error("connections:\n"
		     "  - {name: a, host: h, user: u}\n"
		     "  - {name: b, host: h, user: u, port: \"5432\"}\n",
		     "t.yaml:3: connections[1].port: must be an integer 1..65535", NULL);
}

static void test_err_unknown_keys(void **state)
{
	expect_error("data_dir: x\nlisten_on: 1\n", "t.yaml:2: listen_on: unknown key", NULL);
	expect_error("connections:\n"
		     "  - name: a\n"
		     "    host: h\n"
		     "    prot: 1\n"
		     "    user: u\n",
		     "t.yaml:4: connections[0].prot: unknown key", "expected one of");
	expect_error("tls:\n  mode: auto\n  ca: x\n", "t.yaml:3: tls.ca: unknown key", NULL);
	expect_error("identity:\n  api_keys:\n    - name: a\n      key: b\n",
		     "t.yaml:4: identity.api_keys[0].key: unknown key", NULL);
}

static void test_err_wrong_types(void **state)
{
	expect_error("workers: two\n", "t.yaml:1: workers: must be an integer 1..256", NULL);
	expect_error("workers: 0\n", "t.yaml:1: workers: must be an integer 1..256", NULL);
	expect_error("log_level: info\nworkers: 257\n", "t.yaml:2: workers: ", NULL);
	expect_error("listen: 127.0.0.1:6432\n", "t.yaml:1: listen: must be a mapping", NULL);
	expect_error("connections:\n  name: a\n", "t.yaml:2: connections: must be a list", NULL);
	expect_error("connections:\n  - just-a-name\n",
		     "t.yaml:2: connections[0]: must be a mapping", NULL);
	expect_error("tls:\n  require: yes please\n", "t.yaml:2: tls.require: must be true or false",
		     NULL);
	expect_error("log_level: verbose\n", "t.yaml:1: log_level: must be one of: error | warn",
		     NULL);
	expect_error("data_dir: [a, b]\n", "t.yaml:1: data_dir: must be a string", NULL);
	expect_error("identity:\n"
		     "  api_keys:\n"
		     "    - name: a\n"
		     "      key_sha256: " KEY_HEX "\n"
		     "      groups: dev\n",
		     "t.yaml:5: identity.api_keys[0].groups: must be a list", NULL);
	expect_error("identity:\n"
		     "  api_keys:\n"
		     "    - name: a\n"
		     "      key_sha256: " KEY_HEX "\n"
		     "      groups:\n"
		     "        - dev\n"
		     "        - {x: 1}\n",
		     "t.yaml:7: identity.api_keys[0].groups[1]: must be a string", NULL);
	expect_error("audit:\n  batch_window_ms: 10001\n",
		     "t.yaml:2: audit.batch_window_ms: must be an integer 1..10000", NULL);
	expect_error("audit:\n  durability: sometimes\n",
		     "t.yaml:2: audit.durability: must be one of: strict | batch", NULL);
	expect_error("connections:\n  - {name: a, host: h, user: u, sslmode: allow}\n",
		     "t.yaml:2: connections[0].sslmode: must be one of: disable | prefer", NULL);
	expect_error("connections:\n  - {name: a, host: h, user: u, type: mysql}\n",
		     "t.yaml:2: connections[0].type: must be one of: postgres", NULL);
}

static void test_err_duplicates(void **state)
{
	expect_error("connections:\n"
		     "  - name: appdb\n"
		     "    host: h\n"
		     "    user: u\n"
		     "  - name: appdb\n"
		     "    host: h2\n"
		     "    user: u\n",
		     "t.yaml:5: connections[1].name: duplicate connection name", "connections[0]");
	expect_error("identity:\n"
		     "  api_keys:\n"
		     "    - {name: alice, key_sha256: " KEY_HEX "}\n"
		     "    - {name: bob, key_sha256: " KEY_HEX "}\n"
		     "    - {name: alice, key_sha256: " KEY_HEX "}\n",
		     "t.yaml:5: identity.api_keys[2].name: duplicate api key name", NULL);
	expect_error("workers: 2\nlog_level: info\nworkers: 3\n",
		     "t.yaml:3: workers: duplicate key", NULL);
}

static void test_err_bad_hex(void **state)
{
	expect_error("identity:\n"
		     "  api_keys:\n"
		     "    - name: alice\n"
		     "      key_sha256: abcd\n",
		     "t.yaml:4: identity.api_keys[0].key_sha256: must be 64 hex characters", NULL);
	expect_error("identity:\n"
		     "  api_keys:\n"
		     "    - name: alice\n"
		     "      key_sha256: \"zz112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\"\n",
		     "t.yaml:4: identity.api_keys[0].key_sha256: must be 64 hex characters", NULL);
}

static void test_err_missing_required(void **state)
{
	expect_error("connections:\n"
		     "  - name: a\n"
		     "    host: h\n",
		     "t.yaml:2: connections[0].user: is required", NULL);
	expect_error("connections:\n"
		     "  - {name: a, user: u}\n",
		     "t.yaml:2: connections[0].host: is required", NULL);
	expect_error("connections:\n"
		     "  - {name: a, host: h, user: u}\n"
		     "  - host: h\n"
		     "    user: u\n",
		     "t.yaml:3: connections[1].name: is required", NULL);
	expect_error("connections:\n"
		     "  - name: a\n"
		     "    host:\n"
		     "    user: u\n",
		     "t.yaml:3: connections[0].host: must not be empty", NULL);
	expect_error("identity:\n  api_keys:\n    - name: alice\n",
		     "t.yaml:3: identity.api_keys[0].key_sha256: is required", NULL);
	expect_error("identity:\n  api_keys:\n    - key_sha256: " KEY_HEX "\n",
		     "t.yaml:3: identity.api_keys[0].name: is required", NULL);
}

static void test_err_tls(void **state)
{
	expect_error("log_level: info\n"
		     "tls:\n"
		     "  mode: files\n"
		     "  key: /k.pem\n",
		     "t.yaml:3: tls.cert: is required when tls.mode is files", NULL);
	expect_error("tls:\n  mode: files\n  cert: /c.pem\n",
		     "t.yaml:2: tls.key: is required when tls.mode is files", NULL);
	expect_error("tls:\n  mode: off\n  require: true\n",
		     "t.yaml:3: tls.require: cannot be true when tls.mode is off", NULL);
	expect_error("tls:\n  mode: sometimes\n", "t.yaml:2: tls.mode: must be one of: off | auto | files",
		     NULL);
}

static void test_err_password_env(void **state)
{
	unsetenv("WARDEN_TEST_UNSET_VAR");
	expect_error("connections:\n"
		     "  - name: a\n"
		     "    host: h\n"
		     "    user: u\n"
		     "    password_env: WARDEN_TEST_UNSET_VAR\n",
		     "t.yaml:5: connections[0].password_env: environment variable "
		     "WARDEN_TEST_UNSET_VAR is not set", NULL);
}

static void test_err_listen(void **state)
{
	expect_error("listen:\n  postgres: 6432\n", "t.yaml:2: listen.postgres: must be host:port", NULL);
	expect_error("listen:\n  postgres: \"::1:6432\"\n",
		     "t.yaml:2: listen.postgres: IPv6 addresses must be bracketed", NULL);
	expect_error("listen:\n  postgres: \"[::1]6432\"\n", "t.yaml:2: listen.postgres: ", NULL);
	expect_error("listen:\n  postgres: \"localhost:0\"\n", "t.yaml:2: listen.postgres: ", NULL);
	expect_error("listen:\n  postgres: \":6432\"\n", "t.yaml:2: listen.postgres: ", NULL);
	expect_error("listen:\n  http: 1\n", "t.yaml:2: listen.http: unknown key", NULL);
}

static void test_err_yaml_syntax(void **state)
{
	expect_error("data_dir: ./var\n"
		     "listen:\n"
		     "  postgres: [127.0.0.1:6432\n"
		     "workers: 2\n",
		     "t.yaml:", "YAML syntax error");
	expect_error("data_dir: ./var\n"
		     "workers: 2\n"
		     "  log_level: info\n",
		     "t.yaml:3: YAML syntax error: ", NULL);
	expect_error("data_dir: \"unterminated\n", "t.yaml:", "YAML syntax error");
	expect_error("", "t.yaml:1: the configuration is empty", NULL);
	expect_error("- a\n- b\n", "t.yaml:1: the top level must be a mapping", NULL);
	expect_error("workers: 1\n---\nworkers: 2\n", "t.yaml:3: only one YAML document", NULL);
}

/* The lowest-numbered line wins, whatever order the sections are checked in. */
static void test_err_first_in_file(void **state)
{
	expect_error("connections:\n"
		     "  - {name: a, host: h, user: u, port: 0}\n"
		     "workers: 0\n"
		     "data_dir: [x]\n",
		     "t.yaml:2: connections[0].port: ", NULL);
}

static void test_alias_cycle(void **state)
{
	expect_error("connections: &a [*a]\n", "t.yaml:1: connections[0]: must be a mapping", NULL);
	/* aliases to a mapping are accepted (and duplicated names detected) */
	expect_error("connections:\n  - &c {name: a, host: h, user: u}\n  - *c\n",
		     "t.yaml:2: connections[1].name: duplicate connection name", NULL);
}

static void test_load_file(void **state)
{
	char path[] = "/tmp/warden-test-config-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	static const char yaml[] = "workers: 4\nconnections:\n  - {name: x, host: h, user: u}\n";
	assert_int_equal(write(fd, yaml, sizeof yaml - 1), (ssize_t)(sizeof yaml - 1));
	close(fd);

	warden_config cfg;
	char err[256];
	assert_int_equal(config_load(path, &cfg, err, sizeof err), 0);
	assert_string_equal(cfg.path, path);
	assert_int_equal(cfg.workers, 4);
	assert_non_null(config_find_connection(&cfg, "x"));
	config_free(&cfg);
	unlink(path);

	assert_int_equal(config_load(path, &cfg, err, sizeof err), -1);
	assert_true(strncmp(err, path, strlen(path)) == 0);
	assert_non_null(strstr(err, "cannot open"));
	config_free(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_defaults_follow_data_dir),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_err_port_range),
		cmocka_unit_test(test_err_unknown_keys),
		cmocka_unit_test(test_err_wrong_types),
		cmocka_unit_test(test_err_duplicates),
		cmocka_unit_test(test_err_bad_hex),
		cmocka_unit_test(test_err_missing_required),
		cmocka_unit_test(test_err_tls),
		cmocka_unit_test(test_err_password_env),
		cmocka_unit_test(test_err_listen),
		cmocka_unit_test(test_err_yaml_syntax),
		cmocka_unit_test(test_err_first_in_file),
		cmocka_unit_test(test_alias_cycle),
		cmocka_unit_test(test_load_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
