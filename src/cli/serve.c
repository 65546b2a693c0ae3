/*
 * serve — `warden serve -c FILE [--check]`: load and validate the
 * configuration, build TLS contexts, open the audit store, bind listeners,
 * start the workers, and on SIGINT/SIGTERM close every session (recording
 * gateway_shutdown), commit the audit queue and exit.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <uv.h>

#include "admin/api.h"
#include "audit/audit.h"
#include "cli/cli.h"
#include "core/config.h"
#include "core/log.h"
#include "core/tls.h"
#include "core/worker.h"
#include "identity/keystore.h"
#include "identity/oidc.h"
#include "mask/profiles.h"
#include "policy/redact.h"
#include "proto/pg/catalog.h"
#include "review/notify.h"
#include "review/review.h"

static void on_signal(uv_signal_t *h, int signum)
{
	log_info("signal %d: shutting down", signum);
	uv_stop(h->loop);
}

static int usage(void)
{
	fprintf(stderr, "usage: warden serve -c FILE [--check]\n");
	return 2;
}

int cli_serve_main(int argc, char **argv)
{
	const char *path = NULL;
	int check = 0;
	for (int i = 1; i < argc; i++) {
		if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) && i + 1 < argc)
			path = argv[++i];
		else if (strcmp(argv[i], "--check") == 0)
			check = 1;
		else
			return usage();
	}
	if (!path)
		return usage();

	warden_config cfg;
	char err[512];
	if (config_load(path, &cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "warden: %s\n", err);
		return 1;
	}
	log_level = cfg.log_level;

	/* TLS contexts are part of what --check validates (files mode reads the files). */
	if (cfg.tls_mode == TLS_MODE_FILES || !check) {
		if (mkdir(cfg.data_dir, 0700) != 0 && access(cfg.data_dir, W_OK) != 0 && !check) {
			fprintf(stderr, "warden: data_dir %s is not writable\n", cfg.data_dir);
			config_free(&cfg);
			return 1;
		}
	}
	SSL_CTX *server_tls = NULL;
	if (!check || cfg.tls_mode == TLS_MODE_FILES) {
		server_tls = tls_server_ctx(&cfg, err, sizeof(err));
		if (!server_tls && err[0]) {
			fprintf(stderr, "warden: tls: %s\n", err);
			config_free(&cfg);
			return 1;
		}
	}
	SSL_CTX **target_tls = calloc(cfg.n_connections ? cfg.n_connections : 1, sizeof(*target_tls));
	for (size_t i = 0; i < cfg.n_connections; i++) {
		target_tls[i] = tls_client_ctx(&cfg.connections[i], err, sizeof(err));
		if (!target_tls[i] && err[0]) {
			fprintf(stderr, "warden: connections[%zu] (%s): %s\n", i, cfg.connections[i].name, err);
			config_free(&cfg);
			return 1;
		}
	}
	/* captured rows are stored masked, never in clear: that needs a profile to mask them with;
	 * masking profiles compile here, so --check reports a bad custom pattern too */
	int bad = 0;
	if (cfg.capture_results == CONFIG_CAPTURE_MASKED && cfg.n_mask_profiles == 0) {
		snprintf(err, sizeof(err), "%s: audit.capture_results: masked needs a masking profile "
			 "(masking.profiles) to mask the captured rows with", path);
		bad = 1;
	} else {
		bad = mask_profiles_load(&cfg, check, err, sizeof(err)) != 0;
	}
	/* the credential detectors statements are recorded through (policy/redact.h) */
	if (!bad && redact_init(err, sizeof(err)) != 0)
		bad = 1;
	if (bad) {
		fprintf(stderr, "warden: %s\n", err);
		for (size_t i = 0; i < cfg.n_connections; i++)
			SSL_CTX_free(target_tls[i]);
		free(target_tls);
		SSL_CTX_free(server_tls);
		config_free(&cfg);
		return 1;
	}
	if (check) {
		mask_profiles_free();
		redact_free();
		printf("%s: configuration is valid (%zu connection%s, %zu API key%s)\n", path,
		       cfg.n_connections, cfg.n_connections == 1 ? "" : "s", cfg.n_api_keys,
		       cfg.n_api_keys == 1 ? "" : "s");
		for (size_t i = 0; i < cfg.n_connections; i++)
			SSL_CTX_free(target_tls[i]);
		free(target_tls);
		SSL_CTX_free(server_tls);
		config_free(&cfg);
		return 0;
	}

	signal(SIGPIPE, SIG_IGN);
	if (audit_start(&cfg) != 0) {
		fprintf(stderr, "warden: cannot open the audit store %s\n", cfg.audit_path);
		config_free(&cfg);
		return 1;
	}
	if (oidc_start(&cfg) != 0 || keystore_start(&cfg) != 0) {
		fprintf(stderr, "warden: cannot start the identity threads (OIDC keys, stored API keys)\n");
		oidc_stop();
		audit_stop();
		config_free(&cfg);
		return 1;
	}
	review_start(&cfg);
	if (notify_start(&cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "warden: notify: %s\n", err);
		keystore_stop();
		oidc_stop();
		audit_stop();
		config_free(&cfg);
		return 1;
	}
	worker_shared shared = {.cfg = &cfg, .server_tls = server_tls, .target_tls = target_tls};
	if (workers_start(&shared, cfg.workers, err, sizeof(err)) != 0) {
		fprintf(stderr, "warden: %s\n", err);
		notify_stop();
		keystore_stop();
		oidc_stop();
		audit_stop();
		config_free(&cfg);
		return 1;
	}
	if (admin_api_start(&cfg, server_tls, err, sizeof(err)) != 0) {
		fprintf(stderr, "warden: admin API: %s\n", err);
		workers_stop();
		notify_stop();
		review_stop();
		keystore_stop();
		oidc_stop();
		audit_stop();
		config_free(&cfg);
		return 1;
	}
	log_info("listening for PostgreSQL clients on %s:%d (%d workers, audit %s, durability %s, TLS %s)",
		 cfg.listen_pg_host, cfg.listen_pg_port, cfg.workers, cfg.audit_path,
		 cfg.durability == DURABILITY_STRICT ? "strict" : "batch",
		 server_tls ? "on" : "off");

	uv_loop_t *loop = uv_default_loop();
	uv_signal_t sigint, sigterm;
	uv_signal_init(loop, &sigint);
	uv_signal_init(loop, &sigterm);
	uv_signal_start(&sigint, on_signal, SIGINT);
	uv_signal_start(&sigterm, on_signal, SIGTERM);
	uv_run(loop, UV_RUN_DEFAULT);

	admin_api_stop();       /* no decision arrives while sessions close */
	workers_stop();         /* held requests are withdrawn with their sessions */
	notify_stop();
	review_stop();
	mask_profiles_free();
	redact_free();
	pg_catalog_shutdown();
	keystore_stop();
	oidc_stop();
	audit_stop();
	uv_close((uv_handle_t *)&sigint, NULL);
	uv_close((uv_handle_t *)&sigterm, NULL);
	uv_run(loop, UV_RUN_DEFAULT);
	uv_loop_close(loop);
	for (size_t i = 0; i < cfg.n_connections; i++)
		SSL_CTX_free(target_tls[i]);
	free(target_tls);
	SSL_CTX_free(server_tls);
	config_free(&cfg);
	log_info("stopped");
	return 0;
}
