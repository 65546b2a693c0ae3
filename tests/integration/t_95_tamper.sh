#!/usr/bin/env bash
# Tamper evidence: every edit, deletion, reordering or truncation of the audit
# store is reported by `warden audit verify` (with --sth where only a tree head
# saved earlier can reveal it: a truncated log, a replaced signing key). Also
# the inclusion proof round trip: prove, show --json, pubkey, check-proof.
source "$(dirname "$0")/lib.sh"
it_init

WD_AUDIT_EXTRA="sth_interval: 1" wd_new "$(conn appdb)"
wd_start
wd_env disable
export PGAPPNAME=t95
for i in $(seq 1 30); do echo "select 'tamper-$i';"; done | psql -X -q -At >/dev/null 2>&1
sleep 1.5   # a tree head while entries arrive, then one at shutdown
for i in $(seq 31 40); do echo "select 'tamper-$i';"; done | psql -X -q -At >/dev/null 2>&1
wd_stop

DB=$WD_DATA/audit.db
out=$("$WARDEN" audit verify -c "$WD_CFG" 2>&1); rc=$?
assert_rc "$rc" 0 "verify passes on an untouched store"
assert_match "$out" '^OK: [0-9]+ entries, [0-9]+ signed tree heads verified' "verify summary line"
heads=$(sqlite3 "$DB" "select count(*) from tree_heads")
assert_match "$heads" '^[2-9]|^[1-9][0-9]' "more than one signed tree head (interval and shutdown)"

"$WARDEN" audit sth -c "$WD_CFG" >"$T/saved.json"; assert_rc $? 0 "audit sth"
assert_eq "$(jq -r '.tree_size > 0 and (.root_hash | length) == 64 and (.key_id | length) == 64' "$T/saved.json")" true "sth JSON fields"
id=$(sqlite3 "$DB" "select id from entries where kind = 'request' order by id limit 1 offset 3")
"$WARDEN" audit prove -c "$WD_CFG" "$id" >"$T/proof.json"; assert_rc $? 0 "audit prove $id"
"$WARDEN" audit show -c "$WD_CFG" "$id" --json >"$T/entry.json"; assert_rc $? 0 "audit show --json $id"
"$WARDEN" audit pubkey -c "$WD_CFG" >"$T/pub.pem"; assert_rc $? 0 "audit pubkey"
out=$("$WARDEN" audit check-proof --pubkey "$T/pub.pem" "$T/proof.json" "$T/entry.json" 2>&1)
assert_rc $? 0 "check-proof accepts the proof"
assert_contains "$out" "OK: entry $id is leaf" "check-proof says which leaf"
# an outside tool recomputes the leaf from the canonical bytes (RFC 6962: SHA-256 of 0x00 || bytes)
leaf=$(jq -r .canonical "$T/entry.json" | base64 -d | (printf '\0'; cat) | sha256sum | cut -d' ' -f1)
assert_eq "$leaf" "$(jq -r .leaf_hash "$T/proof.json")" "sha256sum of 0x00 || canonical bytes is the proof's leaf hash"
# the public key is usable by plain OpenSSL
assert_contains "$(openssl pkey -pubin -in "$T/pub.pem" -noout -text 2>&1)" "ED25519" "pubkey is an Ed25519 PEM key"
# a proof for another entry does not prove this one
jq '.leaf_index += 1' "$T/proof.json" >"$T/proof-bad.json"
"$WARDEN" audit check-proof --pubkey "$T/pub.pem" "$T/proof-bad.json" "$T/entry.json" >/dev/null 2>&1
assert_nonzero $? "check-proof refuses a wrong leaf index"
jq '.statement = "drop table everything"' "$T/entry.json" >"$T/entry-bad.json"
"$WARDEN" audit check-proof --pubkey "$T/pub.pem" "$T/proof.json" "$T/entry-bad.json" >/dev/null 2>&1
assert_nonzero $? "check-proof refuses an entry whose shown fields were edited"

cp "$DB" "$T/pristine.db"
# Attacks use the sqlite3 shell after dropping the append-only triggers.
tamper() { # sql...
  cp "$T/pristine.db" "$DB"
  rm -f "$DB-wal" "$DB-shm"
  sqlite3 "$DB" "drop trigger entries_append_only_u; drop trigger entries_append_only_d;
                 drop trigger tree_heads_append_only_u; drop trigger tree_heads_append_only_d; $1"
}
verify_fails() { # what expected-message-part [--sth FILE]
  local what=$1 want=$2; shift 2
  out=$("$WARDEN" audit verify -c "$WD_CFG" "$@" 2>&1); rc=$?
  assert_nonzero "$rc" "verify reports: $what"
  assert_contains "$out" "$want" "verify names the problem ($what)"
}

# Changes one byte of the entry holding OLD (the canonical bytes are binary);
# with "leaf", also recomputes its leaf hash as an attacker would.
edit_entry() { # old new [leaf]
  python3 - "$DB" "$1" "$2" "${3:-}" <<'PY'
import hashlib, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
old, new = sys.argv[2].encode(), sys.argv[3].encode()
n = 0
for (i, e) in db.execute("select id, entry from entries").fetchall():
    if old in e:
        e = e.replace(old, new)
        db.execute("update entries set entry = ? where id = ?", (e, i))
        if sys.argv[4] == "leaf":
            db.execute("update entries set leaf = ? where id = ?", (hashlib.sha256(b"\0" + e).digest(), i))
        n += 1
db.commit()
sys.exit(0 if n == 1 else 1)
PY
}
# 1. one byte of one entry changed (the statement text)
tamper ""
edit_entry "'tamper-7'" "'tamper-X'"; assert_rc $? 0 "edited one entry"
verify_fails "one byte changed" "do not match its recorded leaf hash"
# 2. the same, with the leaf hash recomputed to match
tamper ""
edit_entry "'tamper-7'" "'tamper-X'" leaf; assert_rc $? 0 "edited one entry and its leaf"
verify_fails "entry and its leaf hash changed" "does not match the log"
# 3. an entry deleted
tamper "delete from entries where id = $id;"
verify_fails "an entry deleted" "does not match the log"
# 4. two entries swapped (bytes and leaf hashes exchanged between rows)
a=$((id + 1)); b=$((id + 2))
tamper "create temp table s as select id, leaf, entry from entries where id in ($a, $b);
        update entries set leaf = (select leaf from s where id = $b), entry = (select entry from s where id = $b) where id = $a;
        update entries set leaf = (select leaf from s where id = $a), entry = (select entry from s where id = $a) where id = $b;"
verify_fails "two entries swapped" "disagrees with the recorded entry"
# 5. the tail truncated, with the tree heads that covered it
keep=$(( $(sqlite3 "$T/pristine.db" "select count(*) from entries") - 5 ))
tamper "delete from entries where id > (select id from entries order by id limit 1 offset $((keep - 1)));
        delete from tree_heads where tree_size > $keep;"
out=$("$WARDEN" audit verify -c "$WD_CFG" 2>&1)
log "truncated log without a saved head: $(show "$out")"
verify_fails "tail truncated (saved tree head)" "the log was truncated" --sth "$T/saved.json"
cp -p "$WD_DATA/audit.key" "$T/orig.key"
# 6. the signing key replaced and every tree head re-signed by warden with the new key
tamper "delete from tree_heads;"
rm -f "$WD_DATA/audit.key"
wd_start; wd_stop   # a new key, a new head over the (unchanged) log at shutdown
out=$("$WARDEN" audit verify -c "$WD_CFG" 2>&1)
assert_rc $? 0 "re-signed log verifies on its own (only a saved head can tell)"
verify_fails "signing key replaced" "the signing key was replaced" --sth "$T/saved.json"
# 7. the log rewritten (an early entry changed, leaf recomputed), every tree head
#    dropped and re-signed: only the saved head, signed by the old key, reveals it
tamper "delete from tree_heads;"
edit_entry "'tamper-3'" "'tamper-Y'" leaf; assert_rc $? 0 "rewrote an early entry"
rm -f "$WD_DATA/audit.key"
wd_start; wd_stop
out=$("$WARDEN" audit verify -c "$WD_CFG" 2>&1)
assert_rc $? 0 "the rewritten, re-signed log verifies on its own"
verify_fails "rewritten and re-signed log" "FAILED" --sth "$T/saved.json"
# 8. the same rewrite by someone holding the original key: the new heads are
#    validly signed, but the log no longer extends the saved head
tamper "delete from tree_heads;"
edit_entry "'tamper-3'" "'tamper-Y'" leaf; assert_rc $? 0 "rewrote an early entry"
cp -p "$T/orig.key" "$WD_DATA/audit.key"
wd_start; wd_stop
out=$("$WARDEN" audit verify -c "$WD_CFG" 2>&1)
assert_rc $? 0 "rewritten log re-signed with the original key verifies on its own"
verify_fails "rewritten log, original key" "does not extend the saved tree head" --sth "$T/saved.json"

it_finish
