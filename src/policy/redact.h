/*
 * redact — credentials written into a statement, kept out of the record.
 *
 * An agent that types `ALTER ROLE app PASSWORD 'hunter2'`, a user mapping's
 * `OPTIONS (password '...')`, a DSN with its password or a cloud key into a
 * statement sends it to the target (it must), but the audit store, a
 * reviewer's notification and the admin API get the text with those values
 * replaced. Two readers find them:
 *
 *   - PostgreSQL's own scanner (libpg_query's pg_query_scan): a string
 *     literal right after PASSWORD, or after a name that says it holds a
 *     credential (sslpassword, "app.api_token", secret_key, ...; `=` or TO
 *     between allowed, as in SET). The literal's whole token, whatever its
 *     quoting (E'..', $$..$$, U&'..', continued over lines), becomes '****',
 *     so the recorded text still parses as the statement did.
 *   - The credential detectors of the mask stage over the whole text (keys,
 *     tokens, private keys, passwords in URLs, DSNs and key=value text).
 *
 * Personal data in statements (an email in a WHERE clause) is not touched:
 * that is what the statement was about, and column rules decide who may send
 * it. Thread-safe: the detectors are compiled once, each thread scans with
 * its own scratch.
 */
#ifndef WARDEN_REDACT_H
#define WARDEN_REDACT_H

#include <stddef.h>

/* Compiles the credential detectors (otherwise done at first use). 0, or -1 with err. */
int redact_init(char *err, size_t errlen);
void redact_free(void);

/*
 * text[0, len) as recorded: a new string (NUL-terminated, its length in
 * *out_len) when something was replaced, NULL when nothing was (record the
 * text as it is).
 */
char *redact_statement(const char *text, size_t len, size_t *out_len);

/*
 * Text that is not SQL (an error's message: PostgreSQL quotes the input it
 * could not read) as recorded, the detectors alone: NULL when nothing was
 * replaced.
 */
char *redact_text(const char *text, size_t len);

/*
 * A request's parameters as recorded (a JSON array of strings, nulls and
 * {"hex": ...} objects): a new JSON text with the credentials inside its
 * strings replaced, or NULL when nothing was.
 */
char *redact_params(const char *params_json);

#endif
