#!/usr/bin/env bash
# OIDC tokens as the PostgreSQL password, against a real OpenID Connect
# provider (npm oidc-provider, tests/node/oidc_provider.js): discovery and JWKS
# fetched by warden, the identity and groups from the token in the audit trail,
# a wrong audience and an expired sign-in refused with precise errors, key
# rotation followed on an unknown kid, a removed key refused, API keys still
# accepted beside tokens.
source "$(dirname "$0")/lib.sh"
it_init

op_start
token() { node "$NODE_DIR/oidc_token.js" --issuer "$ISSUER" "$@"; }

WD_IDENTITY_EXTRA="  oidc:
    issuer: $ISSUER
    audience: urn:warden:gateway
    leeway_s: 0" wd_new "$(conn appdb)"
wd_start
started=$(date +%s)
wd_env disable
export PGAPPNAME=t98-agent

TOK=$(token); assert_rc $? 0 "a client-credentials token from the provider"
out=$(PGPASSWORD=$TOK psql -X -At -c "select 'oidc-ok'" 2>&1)
assert_eq "$out" "oidc-ok" "psql with the token as password"
out=$(PGPASSWORD=$KEY_ALICE psql -X -At -c "select 'apikey-still-ok'" 2>&1)
assert_eq "$out" "apikey-still-ok" "API keys work beside tokens"
TOK_DAVE=$(token --user dave --groups ops,sre)
out=$(PGPASSWORD=$TOK_DAVE psql -X -At -c "select 'dave-here'" 2>&1)
assert_eq "$out" "dave-here" "another identity from the same provider"

# a tampered token: flip one character of the payload
bad=$(/usr/bin/python3 -c 'import sys; h,p,s=sys.argv[1].split("."); p=p[:10]+("A" if p[10]!="A" else "B")+p[11:]; print(".".join([h,p,s]))' "$TOK")
out=$(PGPASSWORD=$bad psql -X -At -c "select 1" 2>&1); rc=$?
assert_nonzero "$rc" "a tampered token is refused"
assert_contains "$out" "the token was rejected" "tampered token: precise error"

# expiry: a 3-second token works, then the next request on that session is refused (28000)
SHORT=$(token --ttl 3)
out=$(printf '%s\n' '\set VERBOSITY verbose' "select 'before-expiry';" '\! sleep 4.5' "select 'after-expiry';" |
      PGPASSWORD=$SHORT PGAPPNAME=t98-expiry psql -X -At 2>&1)
assert_contains "$out" "before-expiry" "a short-lived token works while valid"
assert_not_contains "$out" "after-expiry" "the request after exp does not run"
assert_contains "$out" "FATAL:  28000: your sign-in expired" "after exp the session's next request is refused (28000)"
assert_contains "$out" "warden login" "the expiry message says to sign in again"

# key rotation: a token signed by a new key (unknown kid) is accepted after warden refreshes the JWKS
now=$(date +%s); (( now - started < 11 )) && sleep $(( 11 - (now - started) ))   # the on-demand refresh is rate-limited to one per 10 s
OLD_TOK=$(token)
old_kid=$(jq -r .signing_kid "$T/op.json")   # op.json: the provider's ready line
curl -s -X POST "$ISSUER/admin/keys/rotate?remove=previous" >"$T/rotate.json"
new_kid=$(jq -r .kid "$T/rotate.json")
[[ -n "$new_kid" && "$new_kid" != "$old_kid" ]] || die "rotation failed: $(cat "$T/rotate.json")"
NEW_TOK=$(token)
out=$(PGPASSWORD=$NEW_TOK psql -X -At -c "select 'rotated-ok'" 2>&1)
assert_eq "$out" "rotated-ok" "a token from the rotated key is accepted after a JWKS refresh"
out=$(PGPASSWORD=$OLD_TOK psql -X -At -c "select 1" 2>&1); rc=$?
assert_nonzero "$rc" "a token signed by the removed key is refused"
assert_contains "$out" "the token was rejected" "removed key: precise error"

# an identity-provider outage: tokens whose key warden holds keep working
kill "$OP_PID"; wait "$OP_PID" 2>/dev/null
out=$(PGPASSWORD=$NEW_TOK psql -X -At -c "select 'idp-down-ok'" 2>&1)
assert_eq "$out" "idp-down-ok" "with the provider down, a token whose key is cached still works"
wd_stop
op_start   # again: same port, same keys

# wrong audience: the same provider, warden configured for another audience
WD_IDENTITY_EXTRA="  oidc:
    issuer: $ISSUER
    audience: urn:some:other:service" wd_new "$(conn appdb)"
wd_start
wd_env disable
out=$(PGPASSWORD=$(token) psql -X -At -c "select 1" 2>&1); rc=$?
assert_nonzero "$rc" "a token for another audience is refused"
assert_contains "$out" "the token was rejected" "wrong audience: precise error"
wd_stop

audit_export "$WD_CFG" || it_finish
n=$(audit_count '.kind == "auth_failure" and ((.reason // "") | startswith("token rejected"))')
assert_eq "$n" "1" "the refused token is an auth_failure entry with its reason"

# the first gateway's trail: the provider's usernames and groups, and the agent
WD_CFG=$T/wd1/warden.yaml
audit_export "$WD_CFG" || it_finish
audit_expect_request "select 'oidc-ok'" carol t98-agent appdb
audit_expect_request "select 'dave-here'" dave t98-agent appdb
g=$(audit_q '[.[] | select(.kind == "request" and .user == "carol")][0].groups | join(",")')
assert_eq "$g" "dev,oncall" "groups from the token's groups claim"
g=$(audit_q '[.[] | select(.kind == "request" and .user == "dave")][0].groups | join(",")')
assert_eq "$g" "ops,sre" "dave's groups"
n=$(audit_count '.kind == "session_end" and .reason == "identity_expired"')
assert_eq "$n" "1" "the expired session ended with reason identity_expired"
n=$(audit_count '.kind == "auth_failure" and ((.reason // "") | startswith("token rejected"))')
assert_match "$n" '^[2-9]$' "tampered and removed-key tokens are auth_failure entries"
it_finish
