/*
 * pg mask — the mask stage on PostgreSQL's wire: rewrites DataRow and
 * CopyData messages so that what the profile finds never reaches the client,
 * with every length fixed up. Pure functions over message bodies (no I/O), so
 * backend.c calls them from its relay and the fuzz target calls them alone.
 *
 * A value is handled by the type and format RowDescription gives its column:
 *   - text-like types (text, varchar, bpchar, name, char, unknown, xml, json,
 *     jsonb, bytea) in either format, and every other type in text format
 *     except the strictly parsed ones below: matches are rewritten in place
 *     (JSON documents: by detector, then the values under json_keys);
 *   - integers and numeric in binary format are read as their decimal text,
 *     inet in binary as its address text; strictly parsed types in text
 *     format (numbers, booleans, dates and times, uuid, inet, money, ...) and
 *     any type warden cannot rewrite in binary: a value with a match becomes
 *     NULL, which every client reads and which reveals nothing;
 *   - a column a column rule names (PGM_WHOLE) is masked whole in the
 *     profile's style (a JSON string for json/jsonb), or NULL when its type
 *     cannot hold the masked text.
 * Rows with no RowDescription (a client that never described the statement)
 * are read with unknown types and formats: a value with a match becomes NULL.
 */
#ifndef WARDEN_PG_MASK_H
#define WARDEN_PG_MASK_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/config.h"
#include "mask/mask.h"

enum { PGM_SCAN = 0, PGM_WHOLE };

typedef struct pgm_col {
	uint32_t table_oid;     /* 0: not a plain table column */
	int16_t attnum;
	uint32_t type_oid;
	int16_t format;         /* 0 text, 1 binary */
	uint8_t action;         /* PGM_SCAN or PGM_WHOLE (set by the caller from column rules) */
} pgm_col;

typedef struct pgm_desc {
	pgm_col *cols;
	size_t n, cap;
	int known;              /* a RowDescription describes the rows that follow */
} pgm_desc;

/* Counters beyond the profile's detectors (index mask_detector_total + these). */
enum { PGM_COUNT_COLUMN = 0, PGM_COUNT_JSON_KEY, PGM_COUNT_EXTRA };

typedef struct pgm_ctx {
	const mask_profile *mp;
	mask_scratch *scratch;
	const config_strlist *json_keys;    /* may be NULL */
	int row_details;        /* the profile has column rules: a constraint's DETAIL is masked whole (pgm_notice) */
	int piece_details;      /* the profile refuses transforms: a data error's DETAIL and CONTEXT too (pgm_notice) */
	uint32_t *counts;       /* mask_detector_total(mp) + PGM_COUNT_EXTRA slots, or NULL */
	buf tmp, tmp2, det;     /* scratch, reused (det: a value's text after the detectors) */
	/* pgm_data_row's one scan of a row: its hints, and the value being
	 * masked with them (vh_off: where that value starts in the row) */
	mask_hint *hints;
	size_t hints_cap, n_hints;
	const char *vh_subj;
	size_t vh_len, vh_off;
	size_t vh_lo, vh_n;     /* its hints: hints[vh_lo, vh_lo + vh_n) (sorted by end) */
	int vh_nokeys;          /* its row holds no glob's literal and no backslash */
	int vh_nobs;            /* its row holds no backslash (so no bytea in hex: hex_runs) */
	int vh_by_hint;         /* the hints carry every glob's literal (keys_in_hints) */
	/* pgm_batch: one scan of many rows; their hints sorted by end */
	const char *batch;
	size_t batch_len;
	const mask_profile *batch_mp;
	const pgm_desc *batch_desc; /* the rows' description (its columns say what was skipped) */
	mask_hint *bhints;      /* two runs sorted by end: [0, bh_split) and [bh_split, n_bhints) */
	size_t bhints_cap, n_bhints, bh_split;
	size_t bh_next, bh_next2; /* each run's hints past the last row taken (rows come in order) */
	mask_range *skip;       /* values the batch's scan reads as zeros (batch_skips) */
	size_t skip_cap, n_skip;
	/* batch_skips' rows (well formed): where each body is in the batch and
	 * where its values' lengths are (voff's, row after row), taken in order
	 * by pgm_data_row instead of a second walk of the row */
	size_t *brow_at;
	uint32_t *brow_voff;
	size_t n_brows, brows_cap, brow_next;
	uint32_t *voff;         /* a DataRow's values: where each one's length is (row_valid) */
	size_t voff_cap;
	void *jtoks;            /* JSON tokens (jsmntok_t), reused */
	size_t jtoks_cap;
	int json_tree;          /* 1: json_keys by the jansson tree walk alone (what the
				 * in-place pass is fuzzed against) */
	void *kv_md;            /* PCRE2 match data for JSON pairs inside text (json_fragments) */
	void *tp_md;            /* ... for other pairs in text (text_pairs) */
	void *ep_md;            /* ... for JSON pairs escaped once more (escaped_pairs) */
	buf tp;                 /* text_pairs' output */
	int jdepth;             /* JSON in JSON strings being read (string_keys), how deep */
} pgm_ctx;

/* Parses a RowDescription body into d (actions PGM_SCAN). -1 when malformed. */
int pgm_row_description(const char *body, size_t len, pgm_desc *d);
void pgm_desc_free(pgm_desc *d);

/*
 * One DataRow body. Returns 0 when nothing was masked (out untouched), 1 when
 * out holds the whole rewritten message (type byte and length included), -1
 * when the body is malformed.
 */
int pgm_data_row(pgm_ctx *c, const pgm_desc *d, const char *body, size_t len, buf *out);

/*
 * One value of a text-format column of type type_oid, masked as
 * pgm_data_row masks it (whole: a column rule names its column): 1 when out
 * holds what goes out instead, 0 when it goes out as it is, 2 when it goes
 * out as NULL (a strictly parsed type with a match). For `warden mask`.
 */
int pgm_value(pgm_ctx *c, uint32_t type_oid, int whole, const char *v, size_t n, buf *out);

/*
 * Many rows, one scan: msgs[0, len) holds whole DataRow messages (type byte
 * and length included) about to go through pgm_data_row one by one. One
 * Hyperscan scan of them all replaces one per row (its per-call cost counts
 * with rows of a hundred bytes); pgm_data_row takes each row's hints from it.
 * d (NULL when there is none) is the description the rows will be masked
 * with: the values of its columns that take no hints (column rules, bytea in
 * text) are skipped by the scan, and a row masked with another description
 * is scanned on its own. The memory must stay as it is until pgm_batch_end,
 * which the caller calls before msgs goes away. Rows elsewhere are scanned as
 * usual.
 */
void pgm_batch(pgm_ctx *c, const pgm_desc *d, const char *msgs, size_t len);
void pgm_batch_end(pgm_ctx *c);
int pgm_batch_holds(const pgm_ctx *c, const char *p); /* p is inside the current batch */

/*
 * The fields of a COPY TO STDOUT row that column rules mask whole (one
 * CopyData holds one row). Text format: fields split at the delimiter (data
 * never holds it raw), \N is NULL; CSV: quoted fields may hold anything.
 */
typedef struct pgm_copy {
	int csv;
	char delimiter, quote, escape;  /* escape: CSV's (the quote: doubled) */
	const uint8_t *whole;   /* per field: mask it whole */
	size_t n_whole;
	const uint32_t *types;  /* per field: its type OID (0 unknown), from the catalog */
	size_t n_types;
	int all_whole;          /* the columns could not be named: every field */
} pgm_copy;

/*
 * One CopyData body of a text or CSV COPY TO STDOUT: fields cp names masked
 * whole (cp may be NULL), then detectors over each field's value; same returns (type 'd').
 */
int pgm_copy_data(pgm_ctx *c, const pgm_copy *cp, const char *body, size_t len, buf *out);

/*
 * ErrorResponse / NoticeResponse (type 'E' / 'N'): every field's text is
 * masked as a text value in a row is, detectors and json_keys (a failed cast
 * quotes the value it failed on, a document's text too: `(doc->'k')::text::int`
 * quotes the object under k; a JSON error's CONTEXT quotes the document); with
 * c->row_details or c->piece_details, the DETAIL of an integrity constraint's
 * or a WITH CHECK OPTION's error (SQLSTATE class 23, 44: "Failing row contains
 * (...)", "Key (...)=(...)") replaced whole, as it quotes values no detector
 * knows (a column rule's, and each cut to 64 bytes); with c->piece_details,
 * the DETAIL and CONTEXT of a data exception's error (class 22) replaced
 * whole, as they quote a piece of a value no detector knows as one (a JSON
 * error's "Token "219-09" is invalid", "JSON data, line 1: 219-09..."). Same
 * returns.
 */
int pgm_notice(pgm_ctx *c, char type, const char *body, size_t len, buf *out);

/*
 * NotificationResponse (type 'A', LISTEN/NOTIFY): its channel name and its
 * payload masked as text values in a row are (pg_notify(ch, an email) would
 * carry it past the rows; a trigger's pg_notify(ch, row_to_json(NEW)::text), a
 * document); same returns.
 */
int pgm_notification(pgm_ctx *c, const char *body, size_t len, buf *out);

/*
 * ParameterStatus (type 'S'): the value masked as a text value in a row is. The
 * target reports application_name whenever it changes, and
 * set_config('application_name', email, false) sets it to a column's value;
 * the name is the target's own. Same returns.
 */
int pgm_parameter_status(pgm_ctx *c, const char *body, size_t len, buf *out);

/* FunctionCallResponse: a result with a match becomes NULL; same returns. */
int pgm_function_result(pgm_ctx *c, const char *body, size_t len, buf *out);

/*
 * The values of a DataRow body appended to a JSON array text in cap ("[...]"
 * rows for the audit's captured result): text as JSON strings, NULL as null,
 * binary values as {"hex": "..."}. Returns -1 when the body is malformed.
 */
int pgm_row_json(const pgm_desc *d, const char *body, size_t len, buf *cap);

void pgm_ctx_release(pgm_ctx *c);

#endif
