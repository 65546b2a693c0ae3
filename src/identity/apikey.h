/*
 * apikey — the identify stage for API keys. Keys are configured only as the
 * SHA-256 of the key; a presented key is hashed and compared in constant time
 * against every configured hash, so timing reveals neither which key nor how
 * much of it matched.
 */
#ifndef WARDEN_APIKEY_H
#define WARDEN_APIKEY_H

#include <stddef.h>

#include "core/config.h"

/* The matching key's entry, or NULL. */
const config_api_key *apikey_identify(const warden_config *cfg, const char *key, size_t len);

#endif
