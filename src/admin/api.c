/*
 * api — the admin API's routes, on httpd (see httpd.h): who may see and
 * decide reviews, and grants.
 *
 *   GET    /v1/login                     (no credential) the issuer and client `warden login --gateway` uses
 *   GET    /v1/whoami                    the caller's identity as the gateway sees it
 *   GET    /v1/reviews[?status=pending]  reviews the caller may see
 *   GET    /v1/reviews/{id}
 *   POST   /v1/reviews/{id}/approve      {"grant": "once|session|duration", "duration": "30m", "comment": "..."}
 *   POST   /v1/reviews/{id}/deny         {"reason": "..."}
 *   GET    /v1/grants
 *   DELETE /v1/grants/{id}
 *
 * Every call carries `Authorization: Bearer <credential>`: an OIDC token
 * (verified like a PostgreSQL password) or an API key (configured or
 * stored). A caller sees the reviews they asked for and those of rules whose
 * reviewer groups they are in; review.c enforces who may decide. A refused
 * credential is an auth_failure entry in the audit trail.
 */
#include "admin/api.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/httpd.h"
#include "audit/audit.h"
#include "core/log.h"
#include "core/tls.h"
#include "core/util.h"
#include "identity/apikey.h"
#include "identity/keystore.h"
#include "identity/oidc.h"
#include "review/review.h"

static const warden_config *config;

typedef struct caller {
	char *user;
	char *groups_json;
	char **groups;
	size_t n_groups;
	const char *via;        /* "oidc" | "api_key" */
} caller;

static void caller_free(caller *c)
{
	free(c->user);
	free(c->groups_json);
	for (size_t i = 0; i < c->n_groups; i++)
		free(c->groups[i]);
	free(c->groups);
}

static char *groups_json_of(char **groups, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(groups[i]));
	char *s = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	return s;
}

static void groups_from_json(caller *c)
{
	json_t *a = c->groups_json ? json_loads(c->groups_json, 0, NULL) : NULL;
	if (json_is_array(a) && json_array_size(a)) {
		c->groups = util_xmalloc(json_array_size(a) * sizeof(char *));
		size_t i;
		json_t *v;
		json_array_foreach(a, i, v) {
			if (json_is_string(v))
				c->groups[c->n_groups++] = util_strndup(json_string_value(v), json_string_length(v));
		}
	}
	json_decref(a);
}

static void record_refused(const httpd_request *req, const char *reason)
{
	audit_entry *e = audit_entry_new(AUDIT_AUTH_FAILURE);
	unsigned char raw[16];
	char sid[33];
	util_random(raw, sizeof(raw));
	util_hex(raw, sizeof(raw), sid);
	e->session = util_strndup(sid, 32);
	e->protocol = util_strndup("admin", 5);
	e->client_addr = req->client_addr ? util_strndup(req->client_addr, strlen(req->client_addr)) : NULL;
	e->agent = req->user_agent ? util_strndup(req->user_agent, strlen(req->user_agent)) : NULL;
	e->reason = util_strndup(reason, strlen(reason));
	audit_entry *one[1] = {e};
	if (audit_submit(one, 1, NULL, NULL, NULL) != 0)
		log_error("admin: a refused credential could not be recorded");
}

/* 0 with c filled, or an HTTP status with msg. */
static int authenticate(const httpd_request *req, caller *c, char *msg, size_t len)
{
	memset(c, 0, sizeof(*c));
	const char *h = req->authorization;
	if (!h || strncasecmp(h, "Bearer ", 7) != 0) {
		util_errf(msg, len, "send Authorization: Bearer <token from warden login, or an API key>");
		return 401;
	}
	const char *cred = h + 7;
	while (*cred == ' ')
		cred++;
	size_t n = strlen(cred);
	if (oidc_enabled() && oidc_looks_like_jwt(cred, n)) {
		jwt_identity id;
		memset(&id, 0, sizeof(id));
		char err[300];
		jwt_status st = oidc_verify(cred, n, &id, err, sizeof(err));
		if (st != JWT_OK) {
			jwt_identity_free(&id);
			util_errf(msg, len, "the token was rejected: %s", err);
			return 401;
		}
		c->user = id.username;
		id.username = NULL;
		c->groups_json = groups_json_of(id.groups, id.n_groups);
		jwt_identity_free(&id);
		c->via = "oidc";
	} else {
		const config_api_key *k = apikey_identify(config, cred, n);
		uint8_t sha[32];
		if (k) {
			c->user = util_strndup(k->name, strlen(k->name));
			c->groups_json = groups_json_of(k->groups, k->n_groups);
		} else if (keystore_identify(cred, n, &c->user, &c->groups_json, sha) != 0) {
			util_errf(msg, len, "invalid API key or token");
			return 401;
		}
		c->via = "api_key";
	}
	groups_from_json(c);
	return 0;
}

/* The caller asked for it, or is in a reviewer group of its rule. */
static int may_see(const caller *c, json_t *review)
{
	const char *user = json_string_value(json_object_get(review, "user"));
	if (user && c->user && strcmp(user, c->user) == 0)
		return 1;
	json_t *reviewers = json_object_get(review, "reviewers");
	size_t i;
	json_t *v;
	json_array_foreach(reviewers, i, v) {
		for (size_t g = 0; g < c->n_groups; g++)
			if (json_is_string(v) && fnmatch(json_string_value(v), c->groups[g], 0) == 0)
				return 1;
	}
	return 0;
}

/* "/v1/reviews/ID/approve" -> id and action; returns the number of segments after the collection. */
static int split(const char *path, const char *prefix, char *id, size_t idlen, char *action, size_t alen)
{
	size_t pl = strlen(prefix);
	if (strncmp(path, prefix, pl) != 0)
		return -1;
	const char *p = path + pl;
	if (*p == '\0')
		return 0;
	if (*p != '/')
		return -1;
	p++;
	const char *slash = strchr(p, '/');
	size_t n = slash ? (size_t)(slash - p) : strlen(p);
	if (n == 0 || n >= idlen)
		return -1;
	memcpy(id, p, n);
	id[n] = '\0';
	if (!slash)
		return 1;
	snprintf(action, alen, "%s", slash + 1);
	return strchr(slash + 1, '/') || !*action ? -1 : 2;
}

static json_t *error(int *status, int code, const char *name, const char *message)
{
	*status = code;
	return httpd_error(name, message);
}

static void handle(const httpd_request *req, int *status, json_t **body, char **extra, void *arg)
{
	(void)arg;
	char msg[400];
	if (strcmp(req->path, "/v1/login") == 0) {
		/* public: how `warden login --gateway URL` signs a developer in */
		if (!config->oidc_enabled || !config->oidc.cli_client_id) {
			*body = error(status, 404, "not_found",
				      "this gateway has no sign-in for the CLI (identity.oidc.cli_client_id)");
			return;
		}
		json_t *o = json_object();
		json_object_set_new(o, "issuer", json_string(config->oidc.issuer));
		json_object_set_new(o, "client_id", json_string(config->oidc.cli_client_id));
		json_object_set_new(o, "resource", config->oidc.cli_resource ? json_string(config->oidc.cli_resource)
									  : json_null());
		json_object_set_new(o, "audience", json_string(config->oidc.audience));
		*status = 200;
		*body = o;
		return;
	}
	caller c;
	int rc = authenticate(req, &c, msg, sizeof(msg));
	if (rc) {
		record_refused(req, msg);
		*extra = util_strndup("WWW-Authenticate: Bearer realm=\"warden\"\r\n", 41);
		*body = error(status, rc, "unauthorized", msg);
		return;
	}
	char id[64] = "", action[32] = "";
	int seg;
	*status = 200;
	if (strcmp(req->path, "/v1/whoami") == 0) {
		if (strcmp(req->method, "GET") != 0) {
			*body = error(status, 405, "method_not_allowed", "use GET");
		} else {
			json_t *o = json_object();
			json_object_set_new(o, "user", json_string(c.user ? c.user : ""));
			json_t *g = json_loads(c.groups_json ? c.groups_json : "[]", 0, NULL);
			json_object_set_new(o, "groups", g ? g : json_array());
			json_object_set_new(o, "via", json_string(c.via));
			*body = o;
		}
	} else if ((seg = split(req->path, "/v1/reviews", id, sizeof(id), action, sizeof(action))) >= 0) {
		if (seg == 0 && strcmp(req->method, "GET") == 0) {
			char st[32];
			int has = httpd_query_param(req, "status", st, sizeof(st));
			json_t *all = review_list_json(has ? st : NULL), *mine = json_array();
			size_t i;
			json_t *v;
			json_array_foreach(all, i, v) {
				if (may_see(&c, v))
					json_array_append(mine, v);
			}
			json_decref(all);
			json_t *o = json_object();
			json_object_set_new(o, "reviews", mine);
			*body = o;
		} else if (seg == 1 && strcmp(req->method, "GET") == 0) {
			json_t *r = review_get_json(id);
			if (!r || !may_see(&c, r)) {
				json_decref(r);
				*body = error(status, 404, "not_found", "no such review (or not yours to see)");
			} else {
				*body = r;
			}
		} else if (seg == 2 && strcmp(req->method, "POST") == 0 &&
			   (strcmp(action, "approve") == 0 || strcmp(action, "deny") == 0)) {
			json_error_t jerr;
			json_t *in = req->body_len ? json_loadb(req->body, req->body_len, 0, &jerr) : json_object();
			if (!json_is_object(in)) {
				json_decref(in);
				*body = error(status, 400, "bad_request", "the body must be a JSON object");
			} else {
				int approve = strcmp(action, "approve") == 0;
				const char *grant = json_string_value(json_object_get(in, "grant"));
				const char *dur = json_string_value(json_object_get(in, "duration"));
				const char *comment = json_string_value(json_object_get(in, approve ? "comment" : "reason"));
				long secs = 0;
				if (dur && config_parse_duration(dur, 1, 30L * 86400, &secs) != 0) {
					*body = error(status, 400, "bad_request", "duration must look like 30m or 2h (at least 1s)");
				} else if (!approve && (!comment || !*comment)) {
					*body = error(status, 400, "bad_request", "a denial needs a reason");
				} else {
					int code = review_decide(id, c.user, c.groups_json, approve, grant, secs, comment, msg,
								 sizeof(msg));
					if (code == 200) {
						json_t *r = review_get_json(id);
						json_t *o = json_object();
						json_object_set_new(o, "result", json_string(msg));
						json_object_set_new(o, "review", r ? r : json_null());
						*body = o;
					} else {
						*body = error(status, code, code == 404 ? "not_found" : code == 403 ? "forbidden"
										: code == 409 ? "conflict" : "bad_request", msg);
					}
				}
				json_decref(in);
			}
		} else {
			*body = error(status, 405, "method_not_allowed",
				      "GET /v1/reviews, GET /v1/reviews/{id}, POST /v1/reviews/{id}/approve|deny");
		}
	} else if ((seg = split(req->path, "/v1/grants", id, sizeof(id), action, sizeof(action))) >= 0 &&
		   seg <= 1) {
		if (seg == 0 && strcmp(req->method, "GET") == 0) {
			json_t *o = json_object();
			json_object_set_new(o, "grants", review_grants_json());
			*body = o;
		} else if (seg == 1 && strcmp(req->method, "DELETE") == 0) {
			int code = review_grant_revoke(id, c.user, msg, sizeof(msg));
			if (code == 200) {
				json_t *o = json_object();
				json_object_set_new(o, "result", json_string(msg));
				*body = o;
			} else {
				*body = error(status, code, "not_found", msg);
			}
		} else {
			*body = error(status, 405, "method_not_allowed", "GET /v1/grants, DELETE /v1/grants/{id}");
		}
	} else {
		*body = error(status, 404, "not_found", "no such endpoint (see /v1/reviews, /v1/grants, /v1/whoami)");
	}
	caller_free(&c);
}

int admin_api_start(const warden_config *cfg, SSL_CTX *tls, char *err, size_t errlen)
{
	config = cfg;
	if (!cfg->listen_admin_host)
		return 0;
	return httpd_start(cfg->listen_admin_host, cfg->listen_admin_port, tls, handle, NULL, err, errlen);
}

void admin_api_stop(void)
{
	if (config && config->listen_admin_host)
		httpd_stop();
	config = NULL;
}
