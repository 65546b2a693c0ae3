/*
 * tls — see tls.h. In auto mode the certificate is an ECDSA P-256 key and a
 * self-signed X.509 certificate (SAN: localhost, 127.0.0.1, ::1), written
 * once into data_dir with mode 0600 and reused on every start.
 */
#include "core/tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void ssl_err(char *err, size_t errlen, const char *what)
{
	char detail[256];
	ERR_error_string_n(ERR_get_error(), detail, sizeof(detail));
	snprintf(err, errlen, "%s: %s", what, detail);
}

static FILE *open_private(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	return fd < 0 ? NULL : fdopen(fd, "w");
}

static int generate_self_signed(const char *cert_path, const char *key_path, char *err,
				size_t errlen)
{
	int rc = -1;
	X509 *x = NULL;
	FILE *f = NULL;
	EVP_PKEY *pkey = EVP_EC_gen("P-256");
	if (!pkey) {
		ssl_err(err, errlen, "generating TLS key");
		return -1;
	}
	x = X509_new();
	if (!x)
		goto out;
	X509_set_version(x, 2);
	unsigned char serial[16];
	if (RAND_bytes(serial, sizeof(serial)) != 1)
		goto out;
	serial[0] &= 0x7f;
	BIGNUM *bn = BN_bin2bn(serial, sizeof(serial), NULL);
	BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
	BN_free(bn);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 60L * 60 * 24 * 825);
	X509_set_pubkey(x, pkey);
	X509_NAME *name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"warden", -1, -1, 0);
	X509_set_issuer_name(x, name);
	X509V3_CTX v3;
	X509V3_set_ctx_nodb(&v3);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name,
						  "DNS:localhost,IP:127.0.0.1,IP:::1");
	if (!ext)
		goto out;
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	if (!X509_sign(x, pkey, EVP_sha256()))
		goto out;
	f = open_private(key_path);
	if (!f || !PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL)) {
		snprintf(err, errlen, "writing %s: %s", key_path, strerror(errno));
		goto out;
	}
	fclose(f);
	f = open_private(cert_path);
	if (!f || !PEM_write_X509(f, x)) {
		snprintf(err, errlen, "writing %s: %s", cert_path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (rc && !err[0])
		ssl_err(err, errlen, "generating self-signed certificate");
	if (f)
		fclose(f);
	X509_free(x);
	EVP_PKEY_free(pkey);
	return rc;
}

SSL_CTX *tls_server_ctx(const warden_config *cfg, char *err, size_t errlen)
{
	err[0] = '\0';
	if (cfg->tls_mode == TLS_MODE_OFF)
		return NULL;
	if (cfg->tls_mode == TLS_MODE_AUTO && (access(cfg->tls_cert, R_OK) != 0 ||
					       access(cfg->tls_key, R_OK) != 0)) {
		mkdir(cfg->data_dir, 0700);
		if (generate_self_signed(cfg->tls_cert, cfg->tls_key, err, errlen) != 0)
			return NULL;
	}
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx) {
		ssl_err(err, errlen, "creating TLS context");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
	if (SSL_CTX_use_certificate_chain_file(ctx, cfg->tls_cert) != 1) {
		ssl_err(err, errlen, cfg->tls_cert);
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, cfg->tls_key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		ssl_err(err, errlen, cfg->tls_key);
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

SSL_CTX *tls_client_ctx(const config_connection *conn, char *err, size_t errlen)
{
	err[0] = '\0';
	if (conn->sslmode == SSLMODE_DISABLE)
		return NULL;
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx) {
		ssl_err(err, errlen, "creating TLS client context");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	if (conn->sslmode == SSLMODE_VERIFY_FULL) {
		int ok = conn->sslrootcert
				 ? SSL_CTX_load_verify_locations(ctx, conn->sslrootcert, NULL)
				 : SSL_CTX_set_default_verify_paths(ctx);
		if (ok != 1) {
			ssl_err(err, errlen, conn->sslrootcert ? conn->sslrootcert : "default CA paths");
			SSL_CTX_free(ctx);
			return NULL;
		}
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	} else {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	}
	return ctx;
}

int tls_client_set_host(SSL *ssl, const char *host, int verify)
{
	unsigned char addr[16];
	int is_ip = inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1;
	if (!is_ip && SSL_set_tlsext_host_name(ssl, host) != 1)
		return -1;
	if (!verify)
		return 0;
	X509_VERIFY_PARAM *param = SSL_get0_param(ssl);
	if (is_ip)
		return X509_VERIFY_PARAM_set1_ip_asc(param, host) == 1 ? 0 : -1;
	X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	return X509_VERIFY_PARAM_set1_host(param, host, 0) == 1 ? 0 : -1;
}
