#!/usr/bin/env bash
# pgbench through warden: initialise (COPY, DDL, VACUUM), then select-only runs
# in simple, extended and prepared query modes.
source "$(dirname "$0")/lib.sh"
it_init

wd_new "$(conn appdb)"
wd_start
wd_env require
unset PGAPPNAME   # pgbench names itself: agent "pgbench"

if [[ "$SANITIZED" == 1 ]]; then TX=50; else TX=200; fi
CLIENTS=2

out=$(pgbench -i -s 1 2>&1); rc=$?
assert_rc "$rc" 0 "pgbench -i -s 1 ($(show "$(tail -n 3 <<<"$out")" 300))"
assert_contains "$out" "done in" "pgbench -i finished"
n=$(psql -X -At -c "select count(*) from pgbench_accounts" 2>&1)
assert_eq "$n" "100000" "pgbench_accounts has 100000 rows"

for mode in simple extended prepared; do
  out=$(pgbench -n -S -t "$TX" -c "$CLIENTS" -j 2 -M "$mode" 2>&1); rc=$?
  assert_rc "$rc" 0 "pgbench -S -M $mode ($(show "$(tail -n 3 <<<"$out")" 300))"
  want=$((TX * CLIENTS))
  assert_contains "$out" "number of transactions actually processed: $want/$want" "pgbench -M $mode processed $want transactions"
  assert_contains "$out" "number of failed transactions: 0" "pgbench -M $mode: no failed transactions"
done

# A new connection (startup, TLS, auth, target login) for every transaction.
out=$(pgbench -n -S -C -t 25 -c 2 -M extended 2>&1); rc=$?
assert_rc "$rc" 0 "pgbench -S -C (reconnect per transaction) ($(show "$(tail -n 3 <<<"$out")" 300))"
assert_contains "$out" "number of transactions actually processed: 50/50" "pgbench -C processed 50 transactions"

# A short write (TPC-B like) run, extended protocol, exercises transactions.
out=$(pgbench -n -t 20 -c 2 -M extended 2>&1); rc=$?
assert_rc "$rc" 0 "pgbench TPC-B -M extended ($(show "$(tail -n 3 <<<"$out")" 300))"
assert_contains "$out" "number of transactions actually processed: 40/40" "TPC-B run processed 40 transactions"

wd_alive
wd_stop
audit_export || it_finish
audit_expect_request "copy pgbench_accounts from stdin" alice pgbench appdb
audit_expect_request "create table pgbench_accounts" alice pgbench appdb
audit_expect_request "vacuum" alice pgbench appdb
want=$((TX * CLIENTS))
# simple mode: statement text has the literal aid; extended/prepared: $1 + params.
n=$(audit_count '.kind == "request" and .user == "alice" and .agent == "pgbench" and ((.statement // "") | test("^\\s*SELECT abalance FROM pgbench_accounts WHERE aid = [0-9]+;?\\s*$"; "i"))')
if ((n >= want)); then ok "audit: $n simple-mode pgbench selects (>= $want)"; else fail "audit: simple-mode pgbench selects: $n, expected >= $want"; fi
n=$(audit_count '.kind == "request" and .user == "alice" and .agent == "pgbench" and ((.statement // "") | test("SELECT abalance FROM pgbench_accounts WHERE aid = \\$1"; "i")) and ((.params // []) | length == 1)')
if ((n >= 2 * want)); then ok "audit: $n extended/prepared pgbench selects with one param (>= $((2 * want)))"; else
  fail "audit: extended/prepared pgbench selects with their parameter: $n, expected >= $((2 * want)); sample: $(show "$(audit_q '[.[] | select(.kind == "request" and ((.statement // "") | test("aid = \\$1"; "i")))][0] | tostring')" 300)"
fi
audit_expect_no_foreign_users "alice"
it_finish
