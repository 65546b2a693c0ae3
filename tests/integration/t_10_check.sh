#!/usr/bin/env bash
# warden serve --check: a good config passes, a bad key is reported as file:line: key.
source "$(dirname "$0")/lib.sh"
it_init

wd_new "$(conn appdb)"
GOOD=$WD_CFG

out=$("$WARDEN" serve -c "$GOOD" --check 2>&1); rc=$?
assert_rc "$rc" 0 "serve --check on a good config exits 0 ($(show "$out" 200))"

# The shipped quickstart must pass --check too (run in $T: data_dir is relative).
out=$(cd "$T" && APPDB_PASSWORD=x "$WARDEN" serve -c "$IT_ROOT/../../examples/quickstart.yaml" --check 2>&1); rc=$?
assert_rc "$rc" 0 "serve --check on examples/quickstart.yaml exits 0 ($(show "$out" 200))"

# Unknown top-level key at a known line.
BAD="$T/bad.yaml"
{ head -n 4 "$GOOD"; echo "bogus_setting: 12"; tail -n +5 "$GOOD"; } >"$BAD"
out=$("$WARDEN" serve -c "$BAD" --check 2>&1); rc=$?
assert_nonzero "$rc" "serve --check on an unknown top-level key exits non-zero"
assert_contains "$out" "bad.yaml:5:" "message names the file and line (bad.yaml:5:)"
assert_contains "$out" "bogus_setting" "message names the key"

# Unknown key inside a connection: find the line of `sslmode:` and put it after.
BAD2="$T/bad2.yaml"
line=$(grep -n '^    sslmode:' "$GOOD" | head -1 | cut -d: -f1)
{ head -n "$line" "$GOOD"; echo "    colour: blue"; tail -n +$((line + 1)) "$GOOD"; } >"$BAD2"
out=$("$WARDEN" serve -c "$BAD2" --check 2>&1); rc=$?
assert_nonzero "$rc" "serve --check on an unknown connection key exits non-zero"
assert_contains "$out" "bad2.yaml:$((line + 1)):" "message names the file and line (bad2.yaml:$((line + 1)):)"
assert_contains "$out" "colour" "message names the nested key"

# Masking profiles compile at --check: a custom pattern PCRE2 rejects is reported with its detector.
BADM="$T/badmask.yaml"
{ cat "$GOOD"; printf '%s\n' "masking:" "  profiles:" "    - name: pii" "      detectors: [email]" \
  "      custom:" "        - { name: employee_id, pattern: \"EMP-[0-9\" }" "      style: hash"; } >"$BADM"
out=$("$WARDEN" serve -c "$BADM" --check 2>&1); rc=$?
assert_nonzero "$rc" "serve --check on a bad custom masking pattern exits non-zero"
assert_contains "$out" "masking.profiles[0] (pii):" "bad masking pattern: the profile is named"
assert_contains "$out" "employee_id" "bad masking pattern: the detector is named"
sed -i 's/EMP-\[0-9\]*"/EMP-[0-9]{6}"/' "$BADM"
sed -i 's/pattern: "EMP-\[0-9"/pattern: "EMP-[0-9]{6}"/' "$BADM"
out=$("$WARDEN" serve -c "$BADM" --check 2>&1); rc=$?
assert_rc "$rc" 0 "serve --check with a valid masking profile exits 0 ($(show "$out" 200))"
printf '%s\n' "policy:" "  rules:" "    - { name: masked, match: {}, action: allow, mask: pii }" >>"$BADM"
out=$("$WARDEN" serve -c "$BADM" --check 2>&1); rc=$?
assert_rc "$rc" 0 "a rule asking for results masked with a profile passes --check ($(show "$out" 200))"
sed -i 's/mask: pii/mask: nosuch/' "$BADM"
out=$("$WARDEN" serve -c "$BADM" --check 2>&1); rc=$?
assert_nonzero "$rc" "a rule naming an unknown masking profile is refused"
assert_contains "$out" "nosuch" "unknown masking profile: the message names it"
# captured rows are stored masked: capture_results masked without any profile is refused
sed 's/^audit:$/audit:\n  capture_results: masked/' "$GOOD" >"$T/capnoprof.yaml"
grep -q "capture_results: masked" "$T/capnoprof.yaml" || echo "  (the good config has no audit section to extend)" >&2
out=$("$WARDEN" serve -c "$T/capnoprof.yaml" --check 2>&1); rc=$?
assert_nonzero "$rc" "capture_results masked without a masking profile is refused"
assert_contains "$out" "needs a masking profile" "capture without profile: the message says why"

# A wrong type / value at a known line.
BAD3="$T/bad3.yaml"
sed "s/^    port: .*/    port: not-a-port/" "$GOOD" >"$BAD3"
pline=$(grep -n '^    port: not-a-port' "$BAD3" | cut -d: -f1)
out=$("$WARDEN" serve -c "$BAD3" --check 2>&1); rc=$?
assert_nonzero "$rc" "serve --check on a bad port value exits non-zero"
assert_contains "$out" "bad3.yaml:$pline:" "bad value: message names file:line"
assert_contains "$out" "port" "bad value: message names the key"

# A missing file.
out=$("$WARDEN" serve -c "$T/nope.yaml" --check 2>&1); rc=$?
assert_nonzero "$rc" "serve --check on a missing file exits non-zero"
assert_contains "$out" "nope.yaml" "missing file: message names the file"

# --check must not have started anything or left a listener.
if "$PY" -c "import socket,sys; socket.create_connection(('127.0.0.1', $WD_PORT), timeout=1)" 2>/dev/null; then
  fail "something listens on $WD_PORT after --check"
else
  ok "--check does not listen"
fi

# The good config also serves: one statement through it, then the audit.
wd_start
wd_env require
export PGAPPNAME=t10-check
out=$(psql -X -At -c "select 'check-ok'" 2>&1); rc=$?
assert_rc "$rc" 0 "psql through the checked config"
assert_eq "$out" "check-ok" "query result"
wd_stop
audit_export && {
  audit_expect_request "select 'check-ok'" alice t10-check appdb
  audit_expect_no_foreign_users "alice"
}
it_finish
