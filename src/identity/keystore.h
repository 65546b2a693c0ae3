/*
 * keystore — API keys kept in the store (the `api_keys` table of the
 * SQLite file at audit.path), managed with `warden apikey create|list|revoke`.
 *
 * Only the SHA-256 of a key is stored. The gateway reads the table every
 * second on its own thread into an immutable snapshot that workers consult
 * (no I/O on a worker loop); a revoked key stops working for new sessions and
 * for the next request of open sessions within about a second.
 */
#ifndef WARDEN_KEYSTORE_H
#define WARDEN_KEYSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "core/config.h"

#define KEYSTORE_PREFIX "wdn_"

/* Gateway side: start/stop the refresher. */
int keystore_start(const warden_config *cfg) __attribute__((warn_unused_result));
void keystore_stop(void);

/*
 * Looks a presented key up among the stored, unrevoked keys (constant time
 * over all of them). On success fills name/groups_json (malloc'd) and the
 * key's hash, and returns 0.
 */
int keystore_identify(const char *key, size_t len, char **name, char **groups_json,
		      uint8_t sha256[32]) __attribute__((warn_unused_result));
/* True when the key with this hash is no longer valid (revoked or deleted). */
int keystore_revoked(const uint8_t sha256[32]);

/* CLI side (run while the gateway runs: SQLite serialises the writers). */
int keystore_cli_create(const char *db_path, const char *name, const char *groups_csv,
			char *key_out, size_t key_len, char *err, size_t errlen)
	__attribute__((warn_unused_result));
int keystore_cli_revoke(const char *db_path, const char *name, char *err, size_t errlen)
	__attribute__((warn_unused_result));
int keystore_cli_list(const char *db_path, char *err, size_t errlen) __attribute__((warn_unused_result));

#endif
