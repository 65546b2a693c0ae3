/*
 * fuzz_config — libFuzzer target for the configuration loader: any input must
 * either load or fail with a "name:line: ..." message, never crash or leak.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	warden_config cfg;
	char err[256];
	int rc = config_load_string((const char *)data, size, "fuzz.yaml", &cfg, err, sizeof err);
	if (rc == 0) {
		/* a loaded config is complete: every default filled in */
		if (!cfg.path || !cfg.data_dir || !cfg.audit_path || cfg.workers < 1)
			abort();
		for (size_t i = 0; i < cfg.n_connections; i++) {
			const config_connection *c = &cfg.connections[i];
			if (!c->name || !c->host || !c->user || !c->database || !c->type)
				abort();
			if (config_find_connection(&cfg, c->name) != c)
				abort();
		}
	} else if (strncmp(err, "fuzz.yaml:", 10) != 0) {
		abort();
	}
	config_free(&cfg);
	return 0;
}
