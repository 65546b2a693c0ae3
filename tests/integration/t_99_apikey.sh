#!/usr/bin/env bash
# API keys kept in the store: `warden apikey create` prints a key once (only its
# hash is stored), the running gateway accepts it within a second, `list` shows
# it, and `revoke` ends open sessions at their next request and refuses new ones.
source "$(dirname "$0")/lib.sh"
it_init

wd_new "$(conn appdb)"
wd_start
wd_env disable

KEY=$("$WARDEN" apikey create -c "$WD_CFG" ci-bot --groups ci,deploy 2>"$T/create.err"); rc=$?
assert_rc "$rc" 0 "apikey create"
assert_match "$KEY" '^wdn_[A-Za-z0-9_-]{43}$' "the key is wdn_ + 43 base64url characters"
assert_contains "$(cat "$T/create.err")" "shown only this once" "create says the key is shown once"
n=$(sqlite3 "$WD_DATA/audit.db" "select count(*) from api_keys where hex(key_sha256) = upper('$(printf %s "$KEY" | sha256sum | cut -d' ' -f1)')")
assert_eq "$n" "1" "the store holds the key's SHA-256"
n=$(sqlite3 "$WD_DATA/audit.db" "select count(*) from api_keys where cast(key_sha256 as text) like '%${KEY#wdn_}%' or name like '%${KEY#wdn_}%'")
assert_eq "$n" "0" "the store does not hold the key itself"
"$WARDEN" apikey create -c "$WD_CFG" ci-bot >/dev/null 2>"$T/dup.err"
assert_nonzero $? "a second live key with the same name is refused"
assert_contains "$(cat "$T/dup.err")" "already exists" "duplicate name: precise error"
out=$("$WARDEN" apikey list -c "$WD_CFG" 2>&1)
assert_contains "$out" "ci-bot" "list shows the key's name"
assert_contains "$out" '["ci","deploy"]' "list shows its groups"

# the gateway re-reads the keys twice a second: retry for up to 3 s
for i in $(seq 1 30); do
  out=$(PGPASSWORD=$KEY PGAPPNAME=t99 psql -X -At -c "select 'stored-key-ok'" 2>&1) && break
  sleep 0.1
done
assert_eq "$out" "stored-key-ok" "the new key works against the running gateway"

# revoke while a session is open: its next request is refused, new sessions too
printf '%s\n' '\set VERBOSITY verbose' "select 'before-revoke';" '\! sleep 2.5' "select 'after-revoke';" |
  PGPASSWORD=$KEY PGAPPNAME=t99 psql -X -At >"$T/session.out" 2>&1 &
SESSION=$!
sleep 1
out=$("$WARDEN" apikey revoke -c "$WD_CFG" ci-bot 2>&1); rc=$?
assert_rc "$rc" 0 "apikey revoke"
wait "$SESSION"
out=$(cat "$T/session.out")
assert_contains "$out" "before-revoke" "the open session worked before the revocation"
assert_not_contains "$out" "after-revoke" "its request after the revocation did not run"
assert_contains "$out" "FATAL:  28000: the API key of this session was revoked" "revoked key: the open session's next request is refused"
out=$(PGPASSWORD=$KEY psql -X -At -c "select 1" 2>&1); rc=$?
assert_nonzero "$rc" "a revoked key cannot open a session"
assert_contains "$out" "password authentication failed" "revoked key: authentication fails"
"$WARDEN" apikey revoke -c "$WD_CFG" ci-bot >/dev/null 2>&1
assert_nonzero $? "revoking twice says there is no live key"
assert_contains "$("$WARDEN" apikey list -c "$WD_CFG")" "ci-bot" "list still shows the revoked key"
wd_stop

audit_export "$WD_CFG" || it_finish
audit_expect_request "select 'stored-key-ok'" ci-bot t99 appdb
g=$(audit_q '[.[] | select(.kind == "request" and .user == "ci-bot")][0].groups | join(",")')
assert_eq "$g" "ci,deploy" "the stored key's groups are on its entries"
n=$(audit_count '.kind == "session_end" and .reason == "apikey_revoked"')
assert_eq "$n" "1" "the open session ended with reason apikey_revoked"
it_finish
