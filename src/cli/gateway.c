/* gateway — see gateway.h. */
#include "cli/gateway.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/http.h"
#include "core/util.h"
#include "identity/tokens.h"

int cli_credential(char *out, size_t len, char *err, size_t errlen)
{
	const char *env = getenv("WARDEN_TOKEN");
	if (env && *env) {
		snprintf(out, len, "%s", env);
		return 0;
	}
	char why[512];
	if (tokens_current(out, len, why, sizeof(why)) != 0) {
		util_errf(err, errlen, "no credential: set WARDEN_TOKEN or run `warden login` (%s)", why);
		return -1;
	}
	return 0;
}

int cli_gateway_call(const char *gateway, const char *method, const char *path, const json_t *body,
		     const char *bearer, const char *cacert, int insecure, json_t **out, char *err,
		     size_t errlen)
{
	char url[2048];
	size_t gl = strlen(gateway);
	while (gl && gateway[gl - 1] == '/')
		gl--;
	snprintf(url, sizeof(url), "%.*s%s", (int)gl, gateway, path);
	char *json = body ? json_dumps(body, JSON_COMPACT) : NULL;
	http_req r = {.method = method, .url = url, .json = json, .bearer = bearer, .ca_file = cacert,
		      .insecure = insecure};
	long status = 0;
	buf b = {0};
	int rc = http_request(&r, &status, &b, err, errlen);
	free(json);
	if (rc != 0) {
		buf_free(&b);
		return -1;
	}
	json_error_t jerr;
	json_t *v = b.len ? json_loadb(b.data, b.len, 0, &jerr) : NULL;
	buf_free(&b);
	if (status < 200 || status >= 300) {
		const char *m = json_string_value(json_object_get(v, "message"));
		util_errf(err, errlen, "the gateway answered %ld: %s", status, m ? m : "(no message)");
		json_decref(v);
		return -1;
	}
	if (!json_is_object(v)) {
		json_decref(v);
		util_errf(err, errlen, "the gateway's answer to %s %s is not a JSON object", method, url);
		return -1;
	}
	*out = v;
	return 0;
}
