#!/usr/bin/env bash
# warden's own login to the target: SCRAM, md5, cleartext, TLS-only role;
# sslmode disable / prefer / require / verify-full (good and wrong CA).
source "$(dirname "$0")/lib.sh"
it_init

# A CA the cluster's certificate is not signed by (for verify-full to refuse).
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=127.0.0.1" \
  -addext "subjectAltName=IP:127.0.0.1" -keyout "$T/other.key" -out "$T/other.crt" >/dev/null 2>&1 \
  || die "openssl failed"

# name user sslmode expect_ssl(t/f)
CASES=(
  "scram_dis app_scram disable f"
  "scram_pre app_scram prefer t"
  "scram_req app_scram require t"
  "md5_dis app_md5 disable f"
  "md5_req app_md5 require t"
  "plain_dis app_plain disable f"
  "plain_req app_plain require t"
  "sslonly_req app_sslonly require t"
  "sslonly_pre app_sslonly prefer t"
)
conns=()
for c in "${CASES[@]}"; do
  read -r name user mode _ <<<"$c"
  conns+=("$(conn "$name" user="$user" sslmode="$mode")")
done
conns+=("$(conn vfull_ip user=app_scram sslmode=verify-full sslrootcert="$IT_PG_CERT")")
conns+=("$(conn vfull_dns host=localhost user=app_sslonly sslmode=verify-full sslrootcert="$IT_PG_CERT")")
conns+=("$(conn vfull_wrongca user=app_scram sslmode=verify-full sslrootcert="$T/other.crt")")
conns+=("$(conn sslonly_dis user=app_sslonly sslmode=disable)")
wd_new "${conns[@]}"
wd_start
export PGAPPNAME=t80-psql

Q="select current_user, coalesce((select ssl::text from pg_stat_ssl where pid = pg_backend_pid()), '?'), 'via-' || current_database()"
for client_ssl in require disable; do
  wd_env "$client_ssl"
  for c in "${CASES[@]}" "vfull_ip app_scram verify-full t" "vfull_dns app_sslonly verify-full t"; do
    read -r name user mode want_ssl <<<"$c"
    out=$(psql -X -At -d "$name" -c "$Q" 2>&1); rc=$?
    want="$user|$( [[ $want_ssl == t ]] && echo true || echo false )|via-app"
    assert_eq "$out" "$want" "client sslmode=$client_ssl -> $name ($user, target sslmode=$mode)"
  done
done

wd_env require
out=$(psql -X -At -d vfull_wrongca -c "select 'must-not-run'" 2>&1); rc=$?
assert_nonzero "$rc" "verify-full with a CA that did not sign the target's certificate is refused"
assert_not_contains "$out" "must-not-run" "nothing ran against an unverified target"
out=$(psql -X -At -d sslonly_dis -c "select 'must-not-run'" 2>&1); rc=$?
assert_nonzero "$rc" "a TLS-only role over sslmode=disable is refused by the target"
assert_not_contains "$out" "must-not-run" "nothing ran for the refused TLS-only login"

# Several concurrent sessions on different connections.
pids=()
for name in scram_req md5_dis plain_req sslonly_req; do
  (for i in 1 2 3 4 5; do psql -X -At -d "$name" -c "select '$name-$i'" >/dev/null 2>&1 || exit 1; done) &
  pids+=($!)
done
bad=0
for p in "${pids[@]}"; do wait "$p" || bad=$((bad + 1)); done
assert_eq "$bad" 0 "concurrent sessions on four connections"

wd_alive
wd_stop
audit_export || it_finish
for c in "${CASES[@]}" "vfull_ip x x x" "vfull_dns x x x"; do
  read -r name _ <<<"$c"
  audit_expect_request "select current_user" alice t80-psql "$name" 2
done
audit_expect_no_foreign_users "alice"
it_finish
