/* apikey — see apikey.h. */
#include "identity/apikey.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

const config_api_key *apikey_identify(const warden_config *cfg, const char *key, size_t len)
{
	unsigned char digest[32];
	unsigned int dlen = 0;
	if (len == 0 || EVP_Digest(key, len, digest, &dlen, EVP_sha256(), NULL) != 1)
		return NULL;
	const config_api_key *found = NULL;
	for (size_t i = 0; i < cfg->n_api_keys; i++)
		if (CRYPTO_memcmp(digest, cfg->api_keys[i].key_sha256, 32) == 0 && !found)
			found = &cfg->api_keys[i];
	OPENSSL_cleanse(digest, sizeof(digest));
	return found;
}
