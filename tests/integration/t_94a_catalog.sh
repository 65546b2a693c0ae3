#!/usr/bin/env bash
# pg catalog (src/proto/pg/catalog.c) against the shared cluster: runs the
# cmocka binary tests/unit/test_catalog.c, which skips without a server. It is
# the binary built next to $WARDEN (build/unit/..., or build/asan/unit/... for
# the sanitizer run); `make integration` and `make asan` build it.
source "$(dirname "$0")/lib.sh"
it_init

BIN="$(dirname "$WARDEN")/unit/test_catalog"
[[ -x "$BIN" ]] || die "$BIN missing (make $(dirname "$WARDEN")/unit/test_catalog)"

out=$(cd "$IT_ROOT/../.." && WARDEN_TEST_PGHOST=127.0.0.1 WARDEN_TEST_PGPORT=$IT_PG_PORT \
  WARDEN_TEST_PGUSER=app_scram WARDEN_TEST_PGDATABASE=app WARDEN_TEST_PGPASSWORD=$IT_PG_PASSWORD \
  WARDEN_TEST_PGSSLROOTCERT=$IT_PG_CERT "$BIN" 2>&1)
rc=$?
printf '%s\n' "$out" | grep -v -F -- "$IT_PG_PASSWORD" | sed 's/^/  | /'
assert_rc "$rc" 0 "test_catalog passes against the cluster"
assert_match "$out" "PASSED +\] 10 test" "all ten catalog tests ran"
assert_not_contains "$out" "SKIPPED" "no catalog test skipped"
assert_contains "$out" "catalog: connection cat_test: connecting failed" "a failed login is logged with the connection name"
assert_not_contains "$out" "wrong_pw_cat7q" "the (wrong) password is never logged"
assert_not_contains "$out" "$IT_PG_PASSWORD" "the target password is never logged"
if [[ "$SANITIZED" == 1 ]]; then check_sanitizer <(printf '%s\n' "$out"); fi

it_finish
