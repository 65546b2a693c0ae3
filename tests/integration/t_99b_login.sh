#!/usr/bin/env bash
# `warden login` / `warden whoami` against a real OpenID Connect provider
# (npm oidc-provider, tests/node/oidc_provider.js): the device flow (warden
# polls, tests/node/oidc_device_flow.js plays the browser and approves the user
# code as carol), the token file (mode 0600, atomic), the stored access token
# as the PostgreSQL password through a gateway with identity.oidc (audit: user
# carol), refresh of an expiring access token with a rotating refresh token, a
# reused refresh token refused, a wrong or unreachable issuer refused clearly.
source "$(dirname "$0")/lib.sh"
it_init

op_start

export WARDEN_CONFIG_HOME=$T/home/warden   # two levels that do not exist yet
export WARDEN_LOGIN_POLL_MS=200
TF=$WARDEN_CONFIG_HOME/tokens.json

# ---- the device flow: warden requests the code and polls, the "browser" approves it
"$WARDEN" login --issuer "$ISSUER" --client-id warden-cli --resource urn:warden:gateway \
  >"$T/login.out" 2>"$T/login.err" &
LOGIN_PID=$!
bg_track "$LOGIN_PID"
for _ in $(seq 1 $((100 * WAIT_SCALE))); do grep -q 'enter the code' "$T/login.err" && break; sleep 0.1; done
line=$(grep 'enter the code' "$T/login.err")
assert_match "$line" "^Open $ISSUER/device[^ ]* and enter the code [A-Z]{4}-[A-Z]{4}\$" "login prints the verification URL and user code on stderr"
CODE=${line##* }
sleep 0.5   # a few polls while the code is still pending
out=$(node "$NODE_DIR/oidc_device_flow.js" --issuer "$ISSUER" --user-code "$CODE" 2>&1)
assert_contains "$out" '"approved":true' "the user code is approved (as carol)"
for _ in $(seq 1 $((100 * WAIT_SCALE))); do kill -0 "$LOGIN_PID" 2>/dev/null || break; sleep 0.1; done
wait "$LOGIN_PID"; rc=$?
assert_rc "$rc" 0 "warden login exits 0 once the code is approved"
((rc == 0)) || log "login stderr: $(show "$(cat "$T/login.err")")"
check_sanitizer "$T/login.err"
assert_eq "$(cat "$T/login.out")" "signed in as carol (groups: dev, oncall)" "login says who signed in"

# ---- the token file
assert_eq "$(stat -c %a "$TF" 2>&1)" "600" "tokens.json is mode 0600"
assert_eq "$(stat -c %a "$WARDEN_CONFIG_HOME" 2>&1) $(stat -c %a "$T/home" 2>&1)" "700 700" "the directories it created are 0700"
assert_eq "$(jq -r '[.issuer, .client_id, .resource] | join(" ")' "$TF")" "$ISSUER warden-cli urn:warden:gateway" "tokens.json: issuer, client_id, resource"
assert_eq "$(jq -r '[.access_token, .id_token] | map(split(".") | length) | join(",")' "$TF")" "3,3" "tokens.json: access and ID tokens are JWTs"
assert_match "$(jq -r .refresh_token "$TF")" '^[A-Za-z0-9_-]{20,}$' "tokens.json: a refresh token"
now=$(date +%s); exp_at=$(jq -r .expires_at "$TF")
if ((exp_at > now + 500 && exp_at <= now + 601)); then ok "tokens.json: expires_at ~ now + 600 s"; else fail "tokens.json: expires_at $exp_at, now $now"; fi
assert_eq "$(ls -A "$WARDEN_CONFIG_HOME" | grep -c '^\.tokens\.json\.')" "0" "no temporary file left behind"

# ---- whoami
out=$("$WARDEN" whoami 2>&1); rc=$?
assert_rc "$rc" 0 "warden whoami"
assert_contains "$out" "issuer:   $ISSUER" "whoami: issuer"
assert_contains "$out" "username: carol" "whoami: username carol"
assert_contains "$out" "groups:   dev, oncall" "whoami: groups dev, oncall"
assert_match "$out" 'expires:  20[0-9-]+T[0-9:]+Z \(in (9|10) min' "whoami: expiry"
assert_contains "$out" "the gateway verifies it" "whoami says the gateway verifies the token"
out=$(WARDEN_CONFIG_HOME=$T/nobody "$WARDEN" whoami 2>&1); rc=$?
assert_rc "$rc" 1 "whoami without a token file exits 1"
assert_contains "$out" "not signed in: run warden login" "whoami without a token file says to sign in"

# ---- the stored token as the PostgreSQL password
WD_IDENTITY_EXTRA="  oidc:
    issuer: $ISSUER
    audience: urn:warden:gateway" wd_new "$(conn appdb)"
wd_start
wd_env disable
export PGAPPNAME=t99b-login
# a token file others can read is refused, not used
chmod 644 "$TF"
"$WARDEN" login --print-token >/dev/null 2>"$T/perm.err"
assert_nonzero $? "a tokens.json readable by others is refused"
assert_contains "$(cat "$T/perm.err")" "readable by others" "and the message says why"
chmod 600 "$TF"
TOK=$("$WARDEN" login --print-token 2>"$T/print.err"); rc=$?
assert_rc "$rc" 0 "login --print-token"
((rc == 0)) || log "stderr: $(show "$(cat "$T/print.err")")"
assert_eq "$TOK" "$(jq -r .access_token "$TF")" "--print-token prints the stored access token (still valid: no refresh)"
out=$(PGPASSWORD=$TOK psql -X -At -c "select 'login-ok'" 2>&1)
assert_eq "$out" "login-ok" "psql with the token from warden login as the password"

# ---- the gateway's admin API: `warden login --gateway`, `warden whoami --gateway`
ADMIN_PORT=$(free_port)
SAVED=("$WD_PORT" "$WD_PID" "$WD_CFG" "$WD_LOG" "$WD_DIR" "$WD_DATA")
WD_LISTEN_EXTRA="admin: 127.0.0.1:$ADMIN_PORT" WD_IDENTITY_EXTRA="  oidc:
    issuer: $ISSUER
    audience: urn:warden:gateway
    cli_client_id: warden-cli
    cli_resource: urn:warden:gateway" wd_new "$(conn appdb)"
wd_start
GW=https://127.0.0.1:$ADMIN_PORT
out=$("$WARDEN" whoami --gateway "$GW" --insecure 2>&1); rc=$?
assert_rc "$rc" 0 "whoami --gateway"
assert_eq "$out" "the gateway sees you as carol (groups: dev, oncall; by oidc)" "whoami --gateway: the identity and groups the gateway verified"
out=$(WARDEN_TOKEN=$KEY_BOB "$WARDEN" whoami --gateway "$GW" --insecure 2>&1)
assert_eq "$out" "the gateway sees you as bob (groups: ops, dev; by api_key)" "whoami --gateway with an API key in WARDEN_TOKEN"
out=$(WARDEN_TOKEN=wdn_wrong "$WARDEN" whoami --gateway "$GW" --insecure 2>&1); rc=$?
assert_nonzero "$rc" "whoami --gateway with a wrong key fails"
assert_contains "$out" "answered 401: invalid API key or token" "whoami --gateway: the gateway's reason"
mv "$TF" "$T/tokens.saved.json"
"$WARDEN" login --gateway "$GW" --insecure >"$T/glogin.out" 2>"$T/glogin.err" &
GLOGIN_PID=$!
bg_track "$GLOGIN_PID"
for _ in $(seq 1 $((100 * WAIT_SCALE))); do grep -q 'enter the code' "$T/glogin.err" && break; sleep 0.1; done
line=$(grep 'enter the code' "$T/glogin.err")
assert_match "$line" "^Open $ISSUER/device[^ ]* and enter the code [A-Z]{4}-[A-Z]{4}\$" "login --gateway: the issuer comes from the gateway"
out=$(node "$NODE_DIR/oidc_device_flow.js" --issuer "$ISSUER" --user-code "${line##* }" 2>&1)
for _ in $(seq 1 $((100 * WAIT_SCALE))); do kill -0 "$GLOGIN_PID" 2>/dev/null || break; sleep 0.1; done
wait "$GLOGIN_PID"; rc=$?
assert_rc "$rc" 0 "login --gateway completes the device flow"
assert_eq "$(cat "$T/glogin.out")" "signed in as carol (groups: dev, oncall)" "login --gateway: signed in"
assert_eq "$(jq -r '[.client_id, .resource] | join(" ")' "$TF")" "warden-cli urn:warden:gateway" "login --gateway: client and resource from the gateway"
wd_stop
mv "$T/tokens.saved.json" "$TF"
WD_PORT=${SAVED[0]} WD_PID=${SAVED[1]} WD_CFG=${SAVED[2]} WD_LOG=${SAVED[3]} WD_DIR=${SAVED[4]} WD_DATA=${SAVED[5]}

# ---- refresh: the access token has < 30 s left -> refreshed, the refresh token rotates
cp -p "$TF" "$T/tokens.before.json"
jq --argjson t $(($(date +%s) + 10)) '.expires_at = $t' "$T/tokens.before.json" >"$TF"
OLD_RT=$(jq -r .refresh_token "$TF")
TOK2=$("$WARDEN" login --print-token 2>"$T/print2.err"); rc=$?
assert_rc "$rc" 0 "--print-token refreshes an expiring token"
((rc == 0)) || log "stderr: $(show "$(cat "$T/print2.err")")"
check_sanitizer "$T/print2.err"
[[ -n "$TOK2" && "$TOK2" != "$TOK" ]] && ok "a new access token" || fail "no new access token after refresh"
assert_eq "$(jq -r .access_token "$TF")" "$TOK2" "the new access token is stored"
new_rt=$(jq -r .refresh_token "$TF")
[[ -n "$new_rt" && "$new_rt" != null && "$new_rt" != "$OLD_RT" ]] && ok "the new (rotated) refresh token is stored" ||
  fail "refresh token not rotated in tokens.json"
now=$(date +%s)
(($(jq -r .expires_at "$TF") > now + 500)) && ok "expires_at moved forward" || fail "expires_at after refresh: $(jq -r .expires_at "$TF")"
assert_eq "$(stat -c %a "$TF")" "600" "tokens.json still 0600 after the refresh"
assert_eq "$("$WARDEN" login --print-token 2>&1)" "$TOK2" "the next --print-token reuses the fresh token"
out=$(PGPASSWORD=$TOK2 psql -X -At -c "select 'refreshed-ok'" 2>&1)
assert_eq "$out" "refreshed-ok" "psql with the refreshed token"
out=$("$WARDEN" whoami 2>&1)
assert_contains "$out" "username: carol" "whoami after the refresh"
wd_stop

# ---- the token never shows in the gateway's log
assert_not_contains "$(cat "$WD_LOG")" "$TOK" "the access token is not in warden's log"

audit_export "$WD_CFG" || it_finish
audit_expect_request "select 'login-ok'" carol t99b-login appdb
audit_expect_request "select 'refreshed-ok'" carol t99b-login appdb
g=$(audit_q '[.[] | select(.kind == "request" and .user == "carol")][0].groups | join(",")')
assert_eq "$g" "dev,oncall" "audit: carol's groups from the token"

# ---- a refresh token that was already used is refused (the provider revokes the grant)
jq '.expires_at = 1' "$T/tokens.before.json" >"$TF"
out=$("$WARDEN" login --print-token 2>&1); rc=$?
assert_rc "$rc" 1 "--print-token with a used refresh token fails"
assert_contains "$out" "invalid_grant" "the refusal names the provider's error"
assert_contains "$out" "run warden login" "and says to run warden login"

# ---- wrong and unreachable issuers
out=$("$WARDEN" login --issuer "http://localhost:$OP_PORT" --client-id warden-cli 2>&1); rc=$?
assert_rc "$rc" 1 "login against a wrong issuer fails"
assert_contains "$out" "wrong issuer" "wrong issuer: clear message"
assert_contains "$out" "names issuer \"$ISSUER\"" "wrong issuer: names the provider's issuer"
DEAD_PORT=$(free_port)
out=$("$WARDEN" login --issuer "http://127.0.0.1:$DEAD_PORT" --client-id warden-cli 2>&1); rc=$?
assert_rc "$rc" 1 "login against an unreachable issuer fails"
assert_contains "$out" "cannot reach the identity provider http://127.0.0.1:$DEAD_PORT" "unreachable issuer: clear message"
out=$("$WARDEN" login --issuer "$ISSUER/nope" --client-id warden-cli 2>&1); rc=$?
assert_rc "$rc" 1 "login against a URL that is no issuer fails"
assert_contains "$out" "is not an OpenID Connect issuer" "no discovery document: clear message"
out=$("$WARDEN" login --issuer "$ISSUER" --client-id no-such-client 2>&1); rc=$?
assert_rc "$rc" 1 "login with an unknown client fails"
assert_contains "$out" "invalid_client" "unknown client: the provider's error"
out=$("$WARDEN" login --issuer "http://example.invalid" --client-id warden-cli 2>&1); rc=$?
assert_rc "$rc" 1 "plain http to another machine is refused"
assert_contains "$out" "only https://" "plain http: clear message"
it_finish
