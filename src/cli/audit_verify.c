/*
 * audit verify — the commands that prove the audit trail:
 *
 *   warden audit verify -c FILE [--sth SAVED.json]
 *   warden audit sth -c FILE
 *   warden audit prove -c FILE ID
 *   warden audit check-proof --pubkey KEY PROOF.json ENTRY.json
 *   warden audit pubkey -c FILE
 *
 * verify recomputes every leaf from the stored canonical bytes, checks that
 * the filter columns agree with those bytes, rebuilds the Merkle tree, and
 * checks every stored tree head's root and signature. With --sth it also
 * proves that today's log extends a tree head an auditor saved earlier, which
 * catches a rewritten or truncated log even if every stored head was re-signed
 * with a new key. check-proof needs nothing but the public key and two files.
 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit/canon.h"
#include "audit/entry.h"
#include "audit/merkle.h"
#include "audit/sth.h"
#include "audit/store.h"
#include "cli/cli.h"
#include "core/config.h"
#include "core/util.h"

typedef struct verify_ctx {
	warden_config cfg;
	audit_store *store;
	sth_key *key;
} verify_ctx;

static void ctx_close(verify_ctx *v)
{
	audit_store_close(v->store);
	sth_key_free(v->key);
	config_free(&v->cfg);
}

/* Loads the configuration, the store (read-only) and, when want_key, the signing key. */
static int ctx_open(verify_ctx *v, const char *config_path, int want_key, const char *cmd)
{
	char err[1024];
	memset(v, 0, sizeof(*v));
	if (config_load_ex(config_path, &v->cfg, err, sizeof(err), CONFIG_NO_SECRETS) != 0) {
		fprintf(stderr, "warden audit %s: %s\n", cmd, err);
		return -1;
	}
	if (want_key) {
		if (!v->cfg.signing_key || access(v->cfg.signing_key, F_OK) != 0) {
			fprintf(stderr, "warden audit %s: no signing key at %s (warden creates it on its first start)\n",
				cmd, v->cfg.signing_key ? v->cfg.signing_key : "(none)");
			ctx_close(v);
			return -1;
		}
		v->key = sth_key_load_or_create(v->cfg.signing_key, err, sizeof(err));
		if (!v->key) {
			fprintf(stderr, "warden audit %s: %s\n", cmd, err);
			ctx_close(v);
			return -1;
		}
	}
	if (!v->cfg.audit_path ||
	    !(v->store = audit_store_open(v->cfg.audit_path, AUDIT_STORE_READ, err, sizeof(err)))) {
		fprintf(stderr, "warden audit %s: %s\n", cmd, v->cfg.audit_path ? err : "no audit store");
		ctx_close(v);
		return -1;
	}
	return 0;
}

static void hex32(const uint8_t h[32], char out[65])
{
	util_hex(h, 32, out);
}

static void time_ms(int64_t ms, char *out, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	snprintf(out, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

static void head_to_sth(const audit_store_head *row, sth *h)
{
	h->tree_size = row->tree_size;
	h->timestamp_ms = row->timestamp_ms;
	memcpy(h->root_hash, row->root_hash, 32);
	memcpy(h->signature, row->signature, 64);
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	buf b = {0};
	char part[4096];
	size_t n;
	while ((n = fread(part, 1, sizeof(part), f)) > 0 && b.len < (64u << 20))
		buf_append(&b, part, n);
	fclose(f);
	buf_append(&b, "", 1);
	*len = b.len - 1;
	return b.data;
}

/* ---- verify ---------------------------------------------------------------- */

static int str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

#define BAD(...)                                                        \
	do {                                                            \
		fprintf(stderr, "warden audit verify: FAILED: ");       \
		fprintf(stderr, __VA_ARGS__);                           \
		fprintf(stderr, "\n");                                  \
		goto out;                                               \
	} while (0)

static int verify_saved(verify_ctx *v, const char *saved_path, uint8_t (*leaves)[32], uint64_t n)
{
	size_t len;
	char *json = read_file(saved_path, &len);
	if (!json) {
		fprintf(stderr, "warden audit verify: cannot read %s: %s\n", saved_path, strerror(errno));
		return -1;
	}
	sth saved;
	char kid[65], our_kid[65], err[256];
	int rc = sth_from_json(json, len, &saved, kid, err, sizeof(err));
	free(json);
	if (rc != 0) {
		fprintf(stderr, "warden audit verify: %s: %s\n", saved_path, err);
		return -1;
	}
	sth_key_id(v->key, our_kid);
	if (strcmp(kid, our_kid) != 0) {
		fprintf(stderr,
			"warden audit verify: FAILED: the saved tree head (size %" PRIu64 ") was signed by key %s, "
			"but the store's signing key is %s: the signing key was replaced\n",
			saved.tree_size, kid, our_kid);
		return -1;
	}
	if (sth_verify(v->key, &saved) != 0) {
		fprintf(stderr, "warden audit verify: FAILED: the saved tree head's signature is not valid\n");
		return -1;
	}
	if (saved.tree_size > n) {
		fprintf(stderr,
			"warden audit verify: FAILED: the log has %" PRIu64 " entries, fewer than the saved tree "
			"head's %" PRIu64 ": the log was truncated\n",
			n, saved.tree_size);
		return -1;
	}
	uint8_t now_root[32];
	merkle_root(leaves, n, now_root);
	uint8_t proof[MERKLE_MAX_PROOF][32];
	int plen = saved.tree_size == 0 ? 0
					: merkle_consistency_proof(leaves, saved.tree_size, n, proof,
								   MERKLE_MAX_PROOF);
	if (plen < 0 || (saved.tree_size > 0 &&
			 merkle_verify_consistency(saved.tree_size, n, saved.root_hash, now_root,
						   (const uint8_t(*)[32])proof, (size_t)plen) != 0)) {
		fprintf(stderr,
			"warden audit verify: FAILED: the log does not extend the saved tree head of size %" PRIu64
			": an entry among its first %" PRIu64 " was changed, removed or reordered\n",
			saved.tree_size, saved.tree_size);
		return -1;
	}
	printf("the log extends the saved tree head of size %" PRIu64 " (consistency proof of %d hashes "
	       "verified)\n",
	       saved.tree_size, plen);
	return 0;
}

static int cmd_verify(const char *config_path, const char *saved_path)
{
	verify_ctx v;
	if (ctx_open(&v, config_path, 1, "verify") != 0)
		return 1;
	int status = 1;
	audit_store_iter *it = NULL;
	audit_store_head *heads = NULL;
	size_t n_heads = 0, next_head = 0;
	uint8_t (*leaves)[32] = NULL;
	uint64_t n = 0, cap = 0;
	merkle_frontier tree;
	merkle_frontier_init(&tree);
	char our_kid[65];
	sth_key_id(v.key, our_kid);

	if (audit_store_heads(v.store, &heads, &n_heads) != 0 || audit_store_raw_open(v.store, &it) != 0)
		BAD("cannot read the store: %s", audit_store_errmsg(v.store));
	while (next_head < n_heads && heads[next_head].tree_size == 0)
		next_head++;
	audit_store_raw row;
	int rc;
	int64_t last_id = 0;
	while ((rc = audit_store_raw_next(it, &row)) == 1) {
		uint8_t leaf[32];
		merkle_leaf_hash(row.entry, row.entry_len, leaf);
		if (row.leaf_len != 32 || memcmp(leaf, row.leaf, 32) != 0)
			BAD("entry %" PRId64 " (leaf %" PRIu64 "): its bytes do not match its recorded leaf "
			    "hash: the entry was modified",
			    row.id, n);
		audit_entry *e;
		char why[200];
		if (audit_canon_decode(row.entry, row.entry_len, &e, why, sizeof(why)) != 0)
			BAD("entry %" PRId64 ": not a valid entry: %s", row.id, why);
		const char *col = NULL;
		if (e->id != row.id)
			col = "id";
		else if (e->time_us != row.time_us)
			col = "time_us";
		else if (e->seq != row.seq)
			col = "seq";
		else if (!str_eq(audit_kind_name(e->kind), row.kind))
			col = "kind";
		else if (!str_eq(e->session, row.session))
			col = "session";
		else if ((e->kind == AUDIT_RESULT ? e->request_id : 0) != row.request_id)
			col = "request_id";
		else if (!str_eq(e->user, row.user))
			col = "user";
		else if (!str_eq(e->connection, row.connection))
			col = "connection";
		audit_entry_free(e);
		if (col)
			BAD("entry %" PRId64 ": the stored %s column disagrees with the recorded entry", row.id,
			    col);
		if (row.id <= last_id)
			BAD("entry %" PRId64 ": ids out of order", row.id);
		last_id = row.id;
		if (n == cap) {
			cap = cap ? cap * 2 : 4096;
			leaves = util_xrealloc(leaves, cap * 32);
		}
		memcpy(leaves[n++], leaf, 32);
		merkle_frontier_append(&tree, leaf);
		for (; next_head < n_heads && heads[next_head].tree_size == n; next_head++) {
			const audit_store_head *h = &heads[next_head];
			uint8_t root[32];
			char when[40];
			merkle_frontier_root(&tree, root);
			time_ms(h->timestamp_ms, when, sizeof(when));
			if (memcmp(root, h->root_hash, 32) != 0)
				BAD("tree head of size %" PRIu64 " (signed %s) does not match the log: an entry "
				    "at or before position %" PRIu64 " was changed, removed or reordered",
				    h->tree_size, when, h->tree_size);
			sth s;
			head_to_sth(h, &s);
			if (strcmp(h->key_id, our_kid) != 0 || sth_verify(v.key, &s) != 0)
				BAD("tree head of size %" PRIu64 " (signed %s): the signature does not verify "
				    "with the store's key %s",
				    h->tree_size, when, our_kid);
		}
	}
	if (rc < 0)
		BAD("cannot read the store: %s", audit_store_errmsg(v.store));
	if (next_head < n_heads)
		BAD("tree head of size %" PRIu64 " but the log has only %" PRIu64
		    " entries: the log was truncated",
		    heads[next_head].tree_size, n);
	if (saved_path && verify_saved(&v, saved_path, leaves, n) != 0)
		goto out;
	uint8_t root[32];
	char root_hex[65];
	merkle_frontier_root(&tree, root);
	hex32(root, root_hex);
	if (n_heads) {
		char when[40];
		const audit_store_head *last = &heads[n_heads - 1];
		time_ms(last->timestamp_ms, when, sizeof(when));
		printf("OK: %" PRIu64 " entries, %zu signed tree heads verified (latest: size %" PRIu64
		       ", %s); root %s",
		       n, n_heads, last->tree_size, when, root_hex);
		if (n > last->tree_size)
			printf("; %" PRIu64 " newer entries await the next tree head", n - last->tree_size);
		printf("\n");
	} else {
		printf("OK: %" PRIu64 " entries, no signed tree head yet; root %s\n", n, root_hex);
	}
	status = 0;
out:
	audit_store_iter_close(it);
	free(heads);
	free(leaves);
	ctx_close(&v);
	return status;
}

#undef BAD

/* ---- sth, pubkey ------------------------------------------------------------ */

static int latest_head(verify_ctx *v, audit_store_head *out, const char *cmd)
{
	audit_store_head *heads;
	size_t n;
	if (audit_store_heads(v->store, &heads, &n) != 0) {
		fprintf(stderr, "warden audit %s: %s\n", cmd, audit_store_errmsg(v->store));
		return -1;
	}
	if (n == 0) {
		free(heads);
		fprintf(stderr, "warden audit %s: no signed tree head yet (warden signs one every "
				"audit.sth_interval while entries arrive, and at shutdown)\n",
			cmd);
		return -1;
	}
	*out = heads[n - 1];
	free(heads);
	return 0;
}

static int cmd_sth(const char *config_path)
{
	verify_ctx v;
	if (ctx_open(&v, config_path, 1, "sth") != 0)
		return 1;
	audit_store_head row;
	int status = 1;
	if (latest_head(&v, &row, "sth") == 0) {
		sth h;
		head_to_sth(&row, &h);
		char *json = sth_to_json(&h, v.key);
		if (json) {
			printf("%s\n", json);
			free(json);
			status = 0;
		}
	}
	ctx_close(&v);
	return status;
}

static int cmd_pubkey(const char *config_path)
{
	verify_ctx v;
	if (ctx_open(&v, config_path, 1, "pubkey") != 0)
		return 1;
	char *pem = sth_key_public_pem(v.key);
	int status = pem ? 0 : 1;
	if (pem)
		fputs(pem, stdout);
	free(pem);
	ctx_close(&v);
	return status;
}

/* ---- prove / check-proof ----------------------------------------------------- */

static char *base64(const void *p, size_t n)
{
	char *out = util_xmalloc(4 * ((n + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)out, p, (int)n);
	return out;
}

/* Strict base64 decode; returns malloc'd bytes or NULL. */
static unsigned char *unbase64(const char *s, size_t *n)
{
	size_t len = strlen(s);
	if (len == 0 || len % 4)
		return NULL;
	unsigned char *out = util_xmalloc(len / 4 * 3 + 1);
	int m = EVP_DecodeBlock(out, (const unsigned char *)s, (int)len);
	if (m < 0) {
		free(out);
		return NULL;
	}
	size_t pad = (s[len - 1] == '=') + (s[len - 2] == '=');
	*n = (size_t)m - pad;
	return out;
}

static int cmd_prove(const char *config_path, const char *id_text)
{
	char *end;
	errno = 0;
	long long id = strtoll(id_text, &end, 10);
	if (errno || *end || id <= 0) {
		fprintf(stderr, "warden audit prove: '%s' is not an entry id\n", id_text);
		return 2;
	}
	verify_ctx v;
	if (ctx_open(&v, config_path, 1, "prove") != 0)
		return 1;
	int status = 1;
	uint8_t (*leaves)[32] = NULL;
	uint64_t n, index;
	audit_store_head row;
	int rc = audit_store_index_of(v.store, id, &index);
	if (rc == 0) {
		fprintf(stderr, "warden audit prove: no audit entry with id %lld\n", id);
		goto out;
	}
	if (rc < 0 || latest_head(&v, &row, "prove") != 0)
		goto out;
	if (index >= row.tree_size) {
		fprintf(stderr, "warden audit prove: entry %lld is newer than the latest signed tree head "
				"(size %" PRIu64 "); try again after the next one (audit.sth_interval)\n",
			id, row.tree_size);
		goto out;
	}
	if (audit_store_leaves(v.store, &leaves, &n) != 0 || n < row.tree_size) {
		fprintf(stderr, "warden audit prove: cannot read the leaves: %s\n", audit_store_errmsg(v.store));
		goto out;
	}
	uint8_t path[MERKLE_MAX_PROOF][32];
	int plen = merkle_inclusion_proof((const uint8_t(*)[32])leaves, row.tree_size, index, path,
					  MERKLE_MAX_PROOF);
	if (plen < 0)
		goto out;
	sth h;
	head_to_sth(&row, &h);
	char *head_json = sth_to_json(&h, v.key);
	json_error_t jerr;
	json_t *head = head_json ? json_loads(head_json, 0, &jerr) : NULL;
	free(head_json);
	json_t *proof = json_object();
	json_t *audit_path = json_array();
	char hex[65];
	for (int i = 0; i < plen; i++) {
		hex32(path[i], hex);
		json_array_append_new(audit_path, json_string(hex));
	}
	hex32(leaves[index], hex);
	json_object_set_new(proof, "entry_id", json_integer(id));
	json_object_set_new(proof, "leaf_index", json_integer((json_int_t)index));
	json_object_set_new(proof, "tree_size", json_integer((json_int_t)row.tree_size));
	json_object_set_new(proof, "leaf_hash", json_string(hex));
	json_object_set_new(proof, "audit_path", audit_path);
	json_object_set_new(proof, "tree_head", head ? head : json_null());
	char *text = json_dumps(proof, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(proof);
	if (text) {
		printf("%s\n", text);
		free(text);
		status = 0;
	}
out:
	free(leaves);
	ctx_close(&v);
	return status;
}

static int hex_field(json_t *obj, const char *key, uint8_t out[32])
{
	const char *s = json_string_value(json_object_get(obj, key));
	return s && strlen(s) == 64 && util_unhex(s, 64, out) == 0 ? 0 : -1;
}

static int cmd_check_proof(const char *pubkey_path, const char *proof_path, const char *entry_path)
{
	char err[256];
	int status = 1;
	json_error_t jerr;
	json_t *proof = json_load_file(proof_path, 0, &jerr);
	json_t *entry_json = json_load_file(entry_path, 0, &jerr);
	sth_key *key = sth_key_load_public(pubkey_path, err, sizeof(err));
	unsigned char *canon = NULL;
	audit_entry *e = NULL;
	if (!key) {
		fprintf(stderr, "warden audit check-proof: %s\n", err);
		goto out;
	}
	if (!proof || !entry_json) {
		fprintf(stderr, "warden audit check-proof: cannot read %s as JSON\n", proof ? entry_path : proof_path);
		goto out;
	}
	/* the tree head: signed by this key */
	json_t *head = json_object_get(proof, "tree_head");
	char *head_text = head ? json_dumps(head, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	sth h;
	char kid[65], our_kid[65];
	int hrc = head_text ? sth_from_json(head_text, strlen(head_text), &h, kid, err, sizeof(err)) : -1;
	free(head_text);
	if (hrc != 0) {
		fprintf(stderr, "warden audit check-proof: the proof's tree head: %s\n", head ? err : "missing");
		goto out;
	}
	sth_key_id(key, our_kid);
	if (strcmp(kid, our_kid) != 0 || sth_verify(key, &h) != 0) {
		fprintf(stderr, "warden audit check-proof: FAILED: the tree head is not signed by this key\n");
		goto out;
	}
	/* the entry: its canonical bytes, and the fields shown beside them */
	const char *b64 = json_string_value(json_object_get(entry_json, "canonical"));
	size_t clen = 0;
	if (!b64 || !(canon = unbase64(b64, &clen))) {
		fprintf(stderr, "warden audit check-proof: %s has no valid \"canonical\" field "
				"(produce it with warden audit show -c FILE ID --json)\n",
			entry_path);
		goto out;
	}
	char why[200];
	if (audit_canon_decode(canon, clen, &e, why, sizeof(why)) != 0) {
		fprintf(stderr, "warden audit check-proof: FAILED: the entry's bytes are not an entry: %s\n", why);
		goto out;
	}
	json_int_t shown_id = json_integer_value(json_object_get(entry_json, "id"));
	const char *shown_stmt = json_string_value(json_object_get(entry_json, "statement"));
	if (shown_id != e->id || !str_eq(shown_stmt, e->statement)) {
		fprintf(stderr, "warden audit check-proof: FAILED: the entry's fields do not match its bytes\n");
		goto out;
	}
	uint8_t leaf[32], claimed[32];
	merkle_leaf_hash(canon, clen, leaf);
	json_t *jpath = json_object_get(proof, "audit_path");
	size_t plen = json_array_size(jpath);
	json_int_t index = json_integer_value(json_object_get(proof, "leaf_index"));
	json_int_t size = json_integer_value(json_object_get(proof, "tree_size"));
	if (hex_field(proof, "leaf_hash", claimed) != 0 || memcmp(leaf, claimed, 32) != 0 ||
	    json_integer_value(json_object_get(proof, "entry_id")) != e->id || plen > MERKLE_MAX_PROOF ||
	    index < 0 || size <= 0 || (uint64_t)size != h.tree_size) {
		fprintf(stderr, "warden audit check-proof: FAILED: the proof is not about this entry "
				"or this tree head\n");
		goto out;
	}
	uint8_t path[MERKLE_MAX_PROOF][32];
	for (size_t i = 0; i < plen; i++) {
		const char *s = json_string_value(json_array_get(jpath, i));
		if (!s || strlen(s) != 64 || util_unhex(s, 64, path[i]) != 0) {
			fprintf(stderr, "warden audit check-proof: FAILED: audit_path[%zu] is not a hash\n", i);
			goto out;
		}
	}
	if (merkle_verify_inclusion(leaf, (uint64_t)index, h.tree_size, (const uint8_t(*)[32])path, plen,
				    h.root_hash) != 0) {
		fprintf(stderr, "warden audit check-proof: FAILED: the entry is not in the signed tree\n");
		goto out;
	}
	char when[40];
	time_ms(h.timestamp_ms, when, sizeof(when));
	printf("OK: entry %" PRId64 " is leaf %lld of the tree of size %" PRIu64 " signed %s by key %s\n",
	       e->id, (long long)index, h.tree_size, when, our_kid);
	status = 0;
out:
	audit_entry_free(e);
	free(canon);
	json_decref(proof);
	json_decref(entry_json);
	sth_key_free(key);
	return status;
}

/* show --json: the export object of one entry plus its canonical bytes (ENTRY.json for check-proof). */
int cli_audit_show_json(audit_store *s, const audit_entry *e)
{
	void *bytes;
	size_t len;
	if (audit_store_get_canonical(s, e->id, &bytes, &len) != 1)
		return -1;
	json_t *obj = audit_entry_to_json(e);
	char *b64 = base64(bytes, len);
	free(bytes);
	json_object_set_new(obj, "canonical", json_string(b64));
	free(b64);
	char *text = json_dumps(obj, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(obj);
	if (!text)
		return -1;
	printf("%s\n", text);
	free(text);
	return 0;
}

/* ---- argument handling --------------------------------------------------------- */

static int usage(const char *sub, const char *msg)
{
	fprintf(stderr, "warden audit %s: %s\n"
			"usage: warden audit verify -c FILE [--sth SAVED.json]\n"
			"       warden audit sth -c FILE\n"
			"       warden audit prove -c FILE ID\n"
			"       warden audit check-proof --pubkey KEY PROOF.json ENTRY.json\n"
			"       warden audit pubkey -c FILE\n",
		sub, msg);
	return 2;
}

int cli_audit_verify_main(int argc, char **argv)
{
	const char *sub = argv[1];
	const char *config = NULL, *saved = NULL, *pubkey = NULL;
	const char *pos[2] = {NULL, NULL};
	int n_pos = 0;
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];
		if ((strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) && i + 1 < argc)
			config = argv[++i];
		else if (strcmp(a, "--sth") == 0 && i + 1 < argc)
			saved = argv[++i];
		else if (strcmp(a, "--pubkey") == 0 && i + 1 < argc)
			pubkey = argv[++i];
		else if (a[0] == '-' && a[1])
			return usage(sub, "unknown option");
		else if (n_pos < 2)
			pos[n_pos++] = a;
		else
			return usage(sub, "too many arguments");
	}
	if (strcmp(sub, "check-proof") == 0) {
		if (!pubkey || n_pos != 2)
			return usage(sub, "needs --pubkey KEY, PROOF.json and ENTRY.json");
		return cmd_check_proof(pubkey, pos[0], pos[1]);
	}
	if (!config)
		return usage(sub, "-c FILE (the warden configuration) is required");
	if (strcmp(sub, "verify") == 0)
		return n_pos ? usage(sub, "unexpected argument") : cmd_verify(config, saved);
	if (strcmp(sub, "sth") == 0)
		return n_pos ? usage(sub, "unexpected argument") : cmd_sth(config);
	if (strcmp(sub, "pubkey") == 0)
		return n_pos ? usage(sub, "unexpected argument") : cmd_pubkey(config);
	if (strcmp(sub, "prove") == 0)
		return n_pos == 1 ? cmd_prove(config, pos[0]) : usage(sub, "which entry? give its ID");
	return usage(sub, "unknown subcommand");
}
