#!/usr/bin/env bash
# node-postgres (npm pg, tests/node/client.js) through warden, TLS and plain.
source "$(dirname "$0")/lib.sh"
it_init

NODE_DIR="$IT_ROOT/../node"
[[ -d "$NODE_DIR/node_modules/pg" ]] || die "tests/node/node_modules/pg missing: run scripts/deps.sh"

wd_new "$(conn appdb)"
wd_start

for ssl in 1 0; do
  out=$(cd "$NODE_DIR" && WD_PORT=$WD_PORT WD_KEY=$KEY_ALICE WD_SSL=$ssl timeout $((120 * WAIT_SCALE)) node client.js 2>&1); rc=$?
  echo "$out"
  assert_rc "$rc" 0 "node client (ssl=$ssl)"
  assert_contains "$out" "NODE-FAILURES 0" "node client ran to the end (ssl=$ssl)"
done

wd_alive
wd_stop
audit_export || it_finish
audit_expect_request "select 1 as one, 'two'::text as two" alice node-test appdb 2
audit_expect_request "select \$1::int + \$2::int as sum" alice node-test appdb 2
audit_expect_request "select \$1::text || \$2::text as v" alice node-test appdb 4
audit_expect '.kind == "request" and .agent == "node-test" and ((.params // []) == ["c", "d"])' "second run of the named statement recorded with its params [c, d]"
audit_expect '.kind == "request" and .agent == "node-test" and ((.params // []) | any(. == "node-param-é"))' "unicode text parameter recorded"
audit_expect '.kind == "result" and .error_code == "42P01"' "error recorded in a result entry"
audit_expect_no_foreign_users "alice"
it_finish
