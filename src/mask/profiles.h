/*
 * profiles — the configured masking profiles (masking.profiles), compiled
 * once at start with the engine of masking.engine and shared read-only by
 * every thread. The `hash` style's HMAC key lives in <data_dir>/mask.key
 * (32 random bytes, created 0600 on first start, refused when others can read it).
 */
#ifndef WARDEN_MASK_PROFILES_H
#define WARDEN_MASK_PROFILES_H

#include <stddef.h>

#include "core/config.h"
#include "mask/mask.h"

/*
 * Compiles every profile; -1 with "masking.profiles[i] (name): why" in err.
 * check: validate only (a hash profile gets a throwaway key; nothing is written).
 */
int mask_profiles_load(const warden_config *cfg, int check, char *err, size_t errlen)
	__attribute__((warn_unused_result));
void mask_profiles_free(void);
/* Where the hash style's key is: <data_dir>/mask.key. */
void mask_key_path(const warden_config *cfg, char *path, size_t n);

/* The compiled profile for masking.profiles[i], or NULL. */
const mask_profile *mask_profiles_get(size_t i);

#endif
