/* profiles — see profiles.h. */
#include "mask/profiles.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"

static mask_profile **compiled;
static size_t n_compiled;

void mask_key_path(const warden_config *cfg, char *path, size_t n)
{
	snprintf(path, n, "%s/mask.key", cfg->data_dir ? cfg->data_dir : ".");
}

/* Reads <data_dir>/mask.key, creating it on first use. */
static int hash_key(const warden_config *cfg, unsigned char key[32], char *err, size_t errlen)
{
	char path[4096];
	mask_key_path(cfg, path, sizeof(path));
	if (util_mkdir_p(cfg->data_dir ? cfg->data_dir : ".", err, errlen) != 0)
		return -1;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		util_random(key, 32);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0 || write(fd, key, 32) != 32 || fsync(fd) != 0) {
			util_errf(err, errlen, "cannot create %s: %s", path, strerror(errno));
			if (fd >= 0)
				close(fd);
			return -1;
		}
		close(fd);
		log_info("masking: created the hash key %s", path);
		return 0;
	}
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0) {
		util_errf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (st.st_mode & 077) {
		close(fd);
		util_errf(err, errlen, "%s is readable by others (mode %03o): chmod 600 it", path, st.st_mode & 0777);
		return -1;
	}
	ssize_t n = read(fd, key, 32);
	close(fd);
	if (n != 32) {
		util_errf(err, errlen, "%s must hold 32 bytes", path);
		return -1;
	}
	return 0;
}

int mask_profiles_load(const warden_config *cfg, int check, char *err, size_t errlen)
{
	mask_profiles_free();
	if (!cfg->n_mask_profiles)
		return 0;
	unsigned char key[32];
	int need_key = 0;
	for (size_t i = 0; i < cfg->n_mask_profiles; i++)
		need_key |= cfg->mask_profiles[i].style == CONFIG_MASK_HASH;
	if (need_key && check)
		util_random(key, sizeof(key));
	else if (need_key && hash_key(cfg, key, err, errlen) != 0)
		return -1;
	compiled = calloc(cfg->n_mask_profiles, sizeof(*compiled));
	if (!compiled)
		abort();
	for (size_t i = 0; i < cfg->n_mask_profiles; i++) {
		const config_mask_profile *cp = &cfg->mask_profiles[i];
		/* the json_keys globs' literals: a row's one scan also says where a key may be */
		char **lits;
		size_t n_lits = mask_key_literals((const char *const *)cp->json_keys.v, cp->json_keys.n, &lits);
		mask_spec spec = {
			.detectors = (const char *const *)cp->detectors.v,
			.n_detectors = cp->detectors.n,
			.custom_names = (const char *const *)cp->custom_names.v,
			.custom_patterns = (const char *const *)cp->custom_patterns.v,
			.n_custom = cp->custom_names.n,
			.hint_literals = (const char *const *)lits,
			.n_hint_literals = n_lits,
			.style = cp->style == CONFIG_MASK_HASH ? MASK_STYLE_HASH
				 : cp->style == CONFIG_MASK_PARTIAL ? MASK_STYLE_PARTIAL : MASK_STYLE_REDACT,
			.hash_key = need_key ? key : NULL,
			.hash_key_len = need_key ? sizeof(key) : 0,
			.engine = cfg->mask_engine == CONFIG_MASK_HYPERSCAN ? MASK_ENGINE_HYPERSCAN
				  : cfg->mask_engine == CONFIG_MASK_PCRE2 ? MASK_ENGINE_PCRE2 : MASK_ENGINE_AUTO,
		};
		char why[512];
		compiled[i] = mask_profile_new(&spec, why, sizeof(why));
		mask_literals_free(lits, n_lits);
		if (!compiled[i]) {
			util_errf(err, errlen, "masking.profiles[%zu] (%s): %s", i, cp->name ? cp->name : "?", why);
			n_compiled = i;
			OPENSSL_cleanse(key, sizeof(key));
			mask_profiles_free();
			return -1;
		}
		log_info("masking: profile \"%s\" compiled (%zu detectors, %s)", cp->name,
			 mask_detector_total(compiled[i]),
			 mask_profile_engine(compiled[i]) == MASK_ENGINE_HYPERSCAN ? "hyperscan" : "pcre2");
	}
	n_compiled = cfg->n_mask_profiles;
	OPENSSL_cleanse(key, sizeof(key));
	return 0;
}

void mask_profiles_free(void)
{
	for (size_t i = 0; i < n_compiled; i++)
		mask_profile_free(compiled[i]);
	free(compiled);
	compiled = NULL;
	n_compiled = 0;
}

const mask_profile *mask_profiles_get(size_t i)
{
	return i < n_compiled ? compiled[i] : NULL;
}
