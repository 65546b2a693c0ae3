#!/usr/bin/env bash
# `warden proxy`: after `warden login`, an agent connects to a loopback
# listener with no password at all; the proxy reaches the gateway over TLS
# (verifying its certificate), presents the stored token, and relays. The
# audit names the signed-in user and the agent. Cancel works through it, and
# it refuses to send a token to a gateway that does not offer TLS.
source "$(dirname "$0")/lib.sh"
it_init

op_start

# sign in (device flow, approved as carol)
export WARDEN_CONFIG_HOME=$T/home WARDEN_LOGIN_POLL_MS=200
"$WARDEN" login --issuer "$ISSUER" --client-id warden-cli --resource urn:warden:gateway >"$T/login.out" 2>"$T/login.err" &
LOGIN_PID=$!
bg_track "$LOGIN_PID"
for _ in $(seq 1 $((100 * WAIT_SCALE))); do grep -q 'enter the code' "$T/login.err" && break; sleep 0.1; done
CODE=$(grep 'enter the code' "$T/login.err" | awk '{print $NF}')
node "$NODE_DIR/oidc_device_flow.js" --issuer "$ISSUER" --user-code "$CODE" >/dev/null 2>&1
wait "$LOGIN_PID"; assert_rc $? 0 "warden login"

WD_IDENTITY_EXTRA="  oidc:
    issuer: $ISSUER
    audience: urn:warden:gateway" wd_new "$(conn appdb)"
wd_start

PX_PORT=$(free_port)
"$WARDEN" proxy appdb --gateway "127.0.0.1:$WD_PORT" --port "$PX_PORT" --sslrootcert "$WD_DATA/tls.crt" \
  >"$T/proxy.log" 2>&1 &
PX_PID=$!
bg_track "$PX_PID"
wait_port "$PX_PORT" "$PX_PID" $((10 * WAIT_SCALE)) || die "proxy did not listen: $(cat "$T/proxy.log")"

unset PGPASSWORD PGSSLMODE
out=$(psql -X -At "postgresql://agent@127.0.0.1:$PX_PORT/anything?application_name=t99c-agent" -c "select 'via-proxy'" 2>&1)
assert_eq "$out" "via-proxy" "psql through the proxy, with no password"
out=$(psql -X -At "postgresql://agent@127.0.0.1:$PX_PORT/appdb?application_name=t99c-agent&sslmode=prefer" \
  -c "create table if not exists t99c (v int)" -c "insert into t99c values (1), (2)" -c "select count(*) from t99c" 2>&1)
assert_contains "$out" "2" "several statements through the proxy"

# cancel through the proxy
/usr/bin/python3 - "$PX_PORT" >"$T/cancel.out" 2>&1 <<'PY'
import sys, threading, time, psycopg
conn = psycopg.connect(host="127.0.0.1", port=int(sys.argv[1]), dbname="appdb", user="agent",
                       application_name="t99c-cancel", autocommit=True)
threading.Timer(1.0, conn.cancel).start()
t = time.time()
try:
    conn.execute("select pg_sleep(20)")
    print("not cancelled")
except psycopg.errors.QueryCanceled:
    print("cancelled after %.1f s" % (time.time() - t))
PY
assert_match "$(cat "$T/cancel.out")" '^cancelled after [0-9]\.[0-9] s$' "a cancel request goes through the proxy"

# the proxy verifies the gateway: a wrong CA is refused, and so is a gateway without TLS
PX2=$(free_port)
"$WARDEN" proxy appdb --gateway "127.0.0.1:$WD_PORT" --port "$PX2" --sslrootcert "$(dirname "$0")/../../examples/quickstart.yaml" >"$T/proxy2.log" 2>&1 &
bg_track $!
sleep 0.5
out=$(psql -X -At "postgresql://agent@127.0.0.1:$PX2/appdb" -c "select 1" 2>&1); rc=$?
if [[ $rc -eq 0 ]]; then fail "a proxy with an unusable CA file must not connect"; else ok "a proxy without a usable CA refuses to start or connect"; fi
wd_stop

WD_IDENTITY_EXTRA="  oidc:
    issuer: $ISSUER
    audience: urn:warden:gateway" wd_new "$(conn appdb)"
sed -i 's/^  mode: auto$/  mode: off/' "$WD_CFG"
wd_start
PX3=$(free_port)
"$WARDEN" proxy appdb --gateway "127.0.0.1:$WD_PORT" --port "$PX3" --insecure >"$T/proxy3.log" 2>&1 &
bg_track $!
wait_port "$PX3" "$!" $((10 * WAIT_SCALE)) || true
out=$(psql -X -At "postgresql://agent@127.0.0.1:$PX3/appdb" -c "select 1" 2>&1); rc=$?
assert_nonzero "$rc" "no token is sent to a gateway without TLS"
assert_contains "$out" "does not offer TLS" "the proxy says why"
wd_stop

audit_export "$T/wd1/warden.yaml" || it_finish
audit_expect_request "select 'via-proxy'" carol t99c-agent appdb
n=$(audit_count '.kind == "session_start" and .user == "carol" and .startup_user == "agent"')
assert_match "$n" '^[1-9][0-9]*$' "the startup user is recorded, the identity comes from the token"
it_finish
