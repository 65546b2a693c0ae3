/*
 * pg session — the PostgreSQL adapter's per-connection state, shared by
 * frontend.c (the client side, requests) and backend.c (the target side,
 * results). Private to proto/pg/.
 *
 * Life cycle (pgs_set_state is the only place the state changes):
 *
 *   STARTUP --SSLRequest--> STARTUP (over TLS)
 *   STARTUP --StartupMessage--> AUTH --valid key--> CONNECTING --target ready--> READY
 *   any --error / EOF / Terminate / shutdown--> CLOSING (pgs_close, one reason)
 *
 * Requests: every Query, Execute and FunctionCall is a request. Client bytes
 * are scanned whole-message by whole-message; the scanned range is forwarded
 * only once every request in it has been recorded (strict: committed). Each
 * forwarded request joins the in-flight queue with the index of the Sync (or
 * Query) unit it belongs to; the target's replies complete them in order.
 */
#ifndef WARDEN_PG_SESSION_H
#define WARDEN_PG_SESSION_H

#include <stdint.h>

#include "core/buf.h"
#include "core/conn.h"
#include "core/worker.h"
#include "pipeline/session.h"
#include "proto/pg/pgmask.h"
#include "proto/pg/scram.h"

typedef enum {
	PGS_STARTUP = 0,
	PGS_AUTH,
	PGS_CONNECTING,
	PGS_READY,
	PGS_CLOSING,
} pgs_state;

typedef enum {
	TGT_NONE = 0,
	TGT_RESOLVING,
	TGT_CONNECTING,
	TGT_SSL_REQUESTED,
	TGT_TLS_HANDSHAKE,
	TGT_AUTH,
	TGT_WAIT_READY,
	TGT_READY,
} target_state;

typedef struct pg_request {
	struct pg_request *next;
	int64_t id;             /* audit id of the request entry */
	int extended;           /* Execute (1) or Query/FunctionCall (0) */
	uint64_t unit;          /* index of the Sync/Query unit it belongs to */
	uint64_t seq;           /* its message's place among those scanned (msgs_scanned) */
	uint64_t syncs_before;  /* Syncs scanned before it (syncs_scanned) */
	int64_t start_us;
	buf tags;               /* command tags, "; "-joined */
	int64_t rows;           /* sum of tag rows, -1 unknown */
	int64_t data_rows;      /* DataRow messages seen */
	char *error_code, *error_message;
	int denied;             /* the policy denied it: the target's error is replaced by this one */
	const char *deny_code;  /* SQLSTATE of that error (NULL: 42501) */
	char *deny_message, *deny_detail, *deny_hint;
	const void *rule;       /* held: the config_rule that asks for the review */
	char *statement, *classification;   /* held: for the review */
	/* the mask stage (see backend.c): the profile its results are masked with on the wire
	 * (-1 none), the one the audit's captured rows are masked with (-1: no capture) */
	int mask_profile, capture_profile;
	uint32_t *mask_counts;  /* values masked per detector (+ PGM_COUNT_EXTRA), or NULL */
	buf captured;           /* capture_results masked: JSON rows, comma-joined */
	buf captured_columns;   /* ... and the first result's column names, a JSON array */
	struct sql_copy_out *copy;      /* its COPY TO STDOUT statements: table, columns and format ... */
	int n_copy;                     /* ... how many (-1: the text does not parse) ... */
	int copy_at;                    /* ... and the CopyOutResponses seen */
	int describe_injected;  /* warden sent a Describe of its portal: the reply is not relayed ... */
	uint64_t replies_before;   /* ... the unit's ParseComplete, BindComplete, CloseComplete and
				    * descriptions before it (its place among them) */
	int captured_truncated;
} pg_request;

/* The portal a denied Execute is replaced with; a client's Bind may not use it. */
#define PG_DENIED_PORTAL "warden: statement denied by policy"

typedef struct pg_named {   /* a prepared statement or a portal */
	struct pg_named *next, *prev;
	char *name;
	char *text;
	char *params;           /* portals: JSON params */
} pg_named;

/* A session's prepared statements or portals: a list, and an index of it by
 * name (tsearch(3)), so that a client holding many costs a lookup, not a walk. */
typedef struct pg_names {
	pg_named *list;
	void *index;
} pg_names;

/*
 * A Parse, Bind or Close warden applied to its names (stmts, portals) before
 * the target answered it, and what the name held before: undone when the
 * target fails the unit instead (an error drops the unit's messages up to
 * its Sync, and a Parse of a name taken fails), forgotten when it answers
 * ParseComplete, BindComplete or CloseComplete.
 */
typedef struct pg_undo {
	struct pg_undo *next;
	struct pg_undo *same_next, *same_prev;  /* the log's changes of the same name (pg_undo_name) */
	struct pg_undo_name *of;
	uint64_t unit;
	int portal;             /* portals (Bind, Close 'P'), else stmts */
	char *name;
	int existed;            /* the name was there, with text and params */
	int sql;                /* freed by the unit's sql-th DEALLOCATE or DISCARD ALL (its tag settles it), or 0 */
	char *text, *params;
} pg_undo;

/* The changes of one name in the undo log, oldest first (an index of the log
 * by name: name_unsettled and undo_units ask for a name's, not for all). */
typedef struct pg_undo_name {
	int portal;
	char *name;
	pg_undo *head, *tail;
} pg_undo_name;

typedef struct pg_session {
	session s;
	worker *w;
	struct pg_session *prev, *next;   /* worker's list */
	pgs_state state;
	int handles;            /* open libuv handles; freed when 0 and refs == 0 */
	int refs;               /* pending audit completions */

	conn client;
	int client_tls;
	chunk *cin;             /* unprocessed client bytes: cin->data[start, end) */
	uv_timer_t timer;       /* auth timeout, then target connect timeout */

	/* startup */
	char *token;            /* an OIDC token being verified (waiting for a key refresh) */
	int64_t identity_expires;   /* unix seconds; 0 = the identity does not expire (API key) */
	uint8_t stored_key[32];     /* SHA-256 of a stored API key, checked for revocation */
	int stored_key_used;
	buf startup;            /* the client's startup packet, kept for its parameters */
	const void *cc;         /* const config_connection * */
	int cc_index;

	/* target */
	conn target;
	int target_inited;
	target_state tstate;
	uv_getaddrinfo_t gai;
	struct sockaddr_storage target_addr;
	scram_client scram;
	buf hold;               /* ParameterStatus/Notice from target startup, relayed at ready */
	uint32_t target_pid, target_key;
	uint32_t own_pid, own_key;
	int cancel_registered;
	char tx_status;
	unsigned lexing_unsafe;         /* 1: standard_conforming_strings off, 2: an unsafe client_encoding */
	/* the target's client_encoding and server_encoding (ParameterStatus): the
	 * detectors read UTF-8, so a masked request's rows must reach the client in it */
	char client_enc[32], server_enc[32];
	char start_enc[32];     /* client_encoding at start-up: RESET ALL and DISCARD ALL go back to it */

	/* target -> client stream inspection */
	char t_hdr[5];
	size_t t_hdr_have;
	size_t t_remaining;
	char t_type;
	int t_capture;
	int t_drop;             /* the frame in progress is replaced (1) or dropped (2) (see backend.c) */
	uint64_t unit_replies;  /* ParseComplete ... descriptions the target sent in the unit it answers */
	buf t_body;
	int target_paused;
	/* the mask stage: rows are buffered whole, rewritten, then relayed */
	int t_mask;             /* the frame in progress is buffered in t_row to be masked */
	buf t_row;
	buf t_out;              /* the read's output once something in it was rewritten */
	size_t t_read;          /* the read's length (how large t_out starts) */
	pgm_desc mdesc;         /* the columns of the result being relayed */
	int async_mask;         /* the profile of what comes outside a request (a notification,
				 * a notice): the latest masked request's, -1 before any */
	pgm_ctx mctx;
	int copy_out;           /* a COPY TO STDOUT is relaying its rows */
	pgm_copy copy_spec;     /* its fields' types and which column rules mask whole */
	const struct sql_copy_out *copy_co;     /* its statement (the request's), NULL: not known */
	chunk *t_rest;          /* a catalog lookup is under way: the rest of the read waits here */
	int catalog_wait;       /* 1: for a RowDescription's tables, 2: for a COPY's table */
	int copy_refused;       /* a binary COPY of masked rows: dropped, ended by an error */
	int copy_skip;          /* the next CopyData is COPY's header line */
	size_t copy_nfields;

	/* requests */
	pg_request *pending;            /* scanned, waiting to be recorded */
	pg_request *inflight, *inflight_tail;
	uint64_t units_scanned;         /* Syncs/Queries/FunctionCalls scanned */
	uint64_t units_forwarded;
	uint64_t z_count;               /* ReadyForQuery received */
	/*
	 * What keeps the units counted as the target ends them: a Query or a
	 * FunctionCall after extended messages without a Sync is refused (after
	 * an error the target would drop it unanswered); the Syncs a client sends
	 * while the target is copying in (COPY FROM STDIN: after its
	 * CopyInResponse, before CopyDone or CopyFail) get no ReadyForQuery, so
	 * the one that ends the COPY's unit counts for them too (z_bonus).
	 */
	int ext_open;                   /* extended messages scanned since the last Sync */
	pg_undo *undo, *undo_tail;      /* in the order of the target's answers */
	size_t n_undo;
	void *undo_names;               /* tsearch(3) tree of pg_undo_name */
	int undo_wait;                  /* a Bind or Execute waits until an earlier unit's names are settled */
	uint64_t msgs_scanned, syncs_scanned;
	struct { uint64_t seq, syncs; } copy_ends[8];   /* CopyDone/CopyFail scanned, not yet matched */
	size_t n_copy_ends;
	int copy_in_open;               /* the target copies in, and the client has not ended it */
	struct pg_request *copy_in_req; /* ... for this request */
	int in_copy_data;               /* a CopyData scanned, no CopyDone or CopyFail since */
	uint64_t z_bonus;
	size_t scanned;                 /* bytes of cin already scanned, awaiting forward */
	int audit_wait;
	int skip_until_sync;            /* a refused extended unit: drop until Sync */
	size_t subst_len;               /* the last scanned message is denied: its length */
	size_t inject_len;              /* the last scanned Execute needs a Describe first: its length */
	int ext_copy;                   /* the open extended unit Executes a COPY */
	uint64_t unit_replies_scanned;  /* its Parse, Bind, Close and Describe messages, warden's too */
	int sql_frees;                  /* DEALLOCATE/DISCARD ALL scanned in unit sql_frees_unit ... */
	uint64_t sql_frees_unit;
	int sql_freed;                  /* ... and answered in the unit the target answers */
	int sync_inject;                /* forward_range sends a Sync of warden's ahead of a Query ... */
	uint64_t *z_drops;              /* ... and the units whose ReadyForQuery is warden's, not relayed */
	size_t n_z_drops, cap_z_drops;
	const char *refuse_code;        /* refuse_name's error for add_request, in place of the policy's */
	char *refuse_message, *refuse_hint;
	char *inject_portal;
	char subst_type;                /* 'Q' or 'E': what replaces it */
	/* review: the last scanned message is held until people decide (review.h) */
	pg_request *held_req;           /* its request, recorded with decision "review" */
	size_t held_len;                /* its bytes, kept at the start of cin */
	char held_type;                 /* 'Q', 'F' or 'E' */
	int review_wait;                /* a review is open: client input waits */
	uint32_t fn_wait;               /* a FunctionCall's function (OID) is being looked up: input waits */
	uint32_t fn_unnamed;            /* the OID whose lookup failed: decided unnamed when read again */
	int fam_wait;                   /* the connection's partitions are being looked up: input waits */
	/* the relations the policy asked about for the request being decided,
	 * and whether the families list each under one of the schemas asked */
	char **fam_asked;
	uint8_t *fam_listed;
	size_t fam_n, fam_cap;
	int fam_rechecked;              /* the request being decided waited for them once already */
	char review_id[33];
	buf deferred;                   /* synthesized replies queued behind in-flight ones */
	pg_names stmts, portals;

	const char *close_reason;
} pg_session;

void pgs_set_state(pg_session *ps, pgs_state st);
/* Sends an ErrorResponse (FATAL) to the client, then closes with reason. */
void pgs_fatal(pg_session *ps, const char *sqlstate, const char *message, const char *reason);
void pgs_close(pg_session *ps, const char *reason);
/* Frees the session once no handle is open and no completion is pending. */
void pg_session_maybe_free(pg_session *ps);

/* frontend.c: the target settled the oldest Parse/Bind/Close (1), or failed unit's (0) */
void pg_frontend_names_settled(pg_session *ps, int ok);
/* The target answered a DEALLOCATE or DISCARD ALL (CommandComplete): the names it freed are gone. */
void pg_frontend_sql_names_settled(pg_session *ps);

/* backend.c */
void pg_backend_connect(pg_session *ps);
void pg_backend_on_read(conn *c, chunk *ch);
void pg_backend_on_event(conn *c, enum conn_event ev, int status);
void pg_backend_finish_all(pg_session *ps, const char *code, const char *message);
void pg_cancel_forward(worker *w, uint32_t pid, uint32_t key);

/* frontend.c */
void pg_request_free(pg_request *r);
void pg_frontend_target_ready(pg_session *ps);
void pg_frontend_resume_client(pg_session *ps);

#endif
