#!/usr/bin/env bash
# TLS between client and warden: tls.require, tls.mode off, tls.mode files
# (a client that verifies warden's certificate with sslmode=verify-full).
source "$(dirname "$0")/lib.sh"
it_init
export PGAPPNAME=t85-psql

# ---- tls.require: true -> plain clients refused, TLS clients served
wd_new "$(conn appdb)"
sed -i 's/^  mode: auto$/  mode: auto\n  require: true/' "$WD_CFG"
wd_start
wd_env disable
out=$(psql -X -At -c "select 'plain-ran'" 2>&1); rc=$?
assert_nonzero "$rc" "tls.require: a plain client is refused"
assert_not_contains "$out" "plain-ran" "tls.require: nothing ran for the plain client ($(show "$out" 200))"
wd_env require
out=$(psql -X -At -c "select 'tls-ran'" 2>&1)
assert_eq "$out" "tls-ran" "tls.require: a TLS client is served"
wd_stop
audit_export || it_finish
audit_expect_request "select 'tls-ran'" alice t85-psql appdb
n=$(audit_count '.kind == "request" and .statement == "select '"'"'plain-ran'"'"'"')
assert_eq "$n" "0" "tls.require: the plain client's statement is not recorded as a request"

# ---- tls.mode off -> SSLRequest answered N; prefer works, require fails
wd_new "$(conn appdb)"
sed -i 's/^  mode: auto$/  mode: off/' "$WD_CFG"
wd_start
wd_env prefer
out=$(psql -X -c '\conninfo' -c "select 'off-prefer'" 2>&1)
assert_contains "$out" "off-prefer" "tls off: sslmode=prefer falls back to plain"
assert_not_contains "$out" "SSL connection" "tls off: the link is plain"
wd_env require
out=$(psql -X -At -c "select 'off-require'" 2>&1); rc=$?
assert_nonzero "$rc" "tls off: sslmode=require fails"
assert_contains "$out" "does not support SSL" "tls off: libpq reports the server does not support SSL ($(show "$out" 200))"
wd_stop

# ---- tls.mode files with a certificate for 127.0.0.1; the client verifies it
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=warden-test" \
  -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
  -keyout "$T/wd.key" -out "$T/wd.crt" >/dev/null 2>&1 || die "openssl failed"
wd_new "$(conn appdb)"
sed -i "s|^  mode: auto\$|  mode: files\n  cert: $T/wd.crt\n  key: $T/wd.key|" "$WD_CFG"
wd_start
wd_env verify-full
out=$(PGSSLROOTCERT="$T/wd.crt" psql -X -At -c "select 'verified'" 2>&1)
assert_eq "$out" "verified" "tls files: client sslmode=verify-full with warden's certificate"
out=$(PGSSLROOTCERT="$IT_PG_CERT" psql -X -At -c "select 'wrong-ca'" 2>&1); rc=$?
assert_nonzero "$rc" "tls files: verify-full against another CA fails (the client really verifies)"
wd_stop
audit_export || it_finish
audit_expect_request "select 'verified'" alice t85-psql appdb
audit_expect_no_foreign_users "alice"
it_finish
