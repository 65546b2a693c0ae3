#!/usr/bin/env bash
# psql through warden: queries, DDL/DML, multi-statement, errors, \d, \copy,
# LISTEN/NOTIFY, application_name as agent; with sslmode require and disable.
source "$(dirname "$0")/lib.sh"
it_init

wd_new "$(conn appdb)"
wd_start

if [[ "$SANITIZED" == 1 ]]; then NROWS=2000; else NROWS=20000; fi

# A COPY text-format file with awkward content: tabs/newlines/backslashes
# escaped, NULLs, unicode, long values.
"$PY" - "$T/copy_in.txt" "$NROWS" <<'PY'
import sys
path, n = sys.argv[1], int(sys.argv[2])
def esc(s):
    return s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
with open(path, "w", encoding="utf-8") as f:
    for i in range(1, n + 1):
        name = esc("row %d\twith tab\nnewline \\ backslash é 日本" % i) if i % 7 == 0 else "name-%d" % i
        note = "\\N" if i % 5 == 0 else esc("x" * (i % 300))
        f.write("%d\t%s\t%s\n" % (i, name, note))
PY

for mode in require disable; do
  echo "-- sslmode=$mode"
  wd_env "$mode"
  export PGAPPNAME=psql-test
  tbl="t20_$mode"

  out=$(psql -X -c '\conninfo' 2>&1); rc=$?
  assert_rc "$rc" 0 "[$mode] connect"
  if [[ $mode == require ]]; then
    assert_contains "$out" "SSL connection" "[$mode] client link uses TLS"
  else
    assert_not_contains "$out" "SSL connection" "[$mode] client link is plain"
  fi

  out=$(psql -X -At -c "select 40 + 2" 2>&1)
  assert_eq "$out" "42" "[$mode] SELECT"

  out=$(psql -X -q -At -v ON_ERROR_STOP=1 2>"$T/dml_$mode.err" <<SQL
drop table if exists $tbl;
create table $tbl (id int primary key, name text not null, val numeric, created timestamptz default now());
insert into $tbl (id, name, val) values (1, 'one', 1.5), (2, 'two', null), (3, 'thrée', -3);
select count(*), sum(val) from $tbl;
update $tbl set val = 2 where id = 2;
delete from $tbl where id = 3;
select string_agg(name || '=' || coalesce(val::text, 'null'), ',' order by id) from $tbl;
SQL
  ); rc=$?
  assert_rc "$rc" 0 "[$mode] CREATE/INSERT/UPDATE/DELETE script ($(show "$(cat "$T/dml_$mode.err")" 200))"
  assert_eq "$out" $'3|-1.5\none=1.5,two=2' "[$mode] DML results"

  out=$(psql -X -At -c "select 1; select 2" 2>&1)
  assert_eq "$out" $'1\n2' "[$mode] multi-statement string returns both results"

  out=$(psql -X -At -c "select 'a' as x; insert into $tbl (id, name) values (10, 'ten'); select count(*) from $tbl" 2>&1)
  assert_eq "$out" $'a\nINSERT 0 1\n3' "[$mode] multi-statement with a write in the middle"

  out=$(psql -X -At 2>&1 <<'SQL'
\set VERBOSITY verbose
select * from no_such_table_t20;
select 'after-error';
SQL
  )
  assert_contains "$out" "42P01" "[$mode] error shows SQLSTATE 42P01"
  assert_contains "$out" "no_such_table_t20" "[$mode] error message names the relation"
  assert_contains "$out" "after-error" "[$mode] session usable after an error"

  # An error inside a transaction block, then rollback.
  out=$(psql -X -At 2>&1 <<SQL
begin;
insert into $tbl (id, name) values (20, 'tx');
select 1/0;
rollback;
select count(*) from $tbl where id = 20;
SQL
  )
  assert_contains "$out" "division by zero" "[$mode] error inside a transaction"
  assert_contains "$out" $'ROLLBACK\n0' "[$mode] rollback discarded the insert"

  out=$(psql -X -c '\d' 2>&1); rc=$?
  assert_rc "$rc" 0 "[$mode] \\d"
  assert_contains "$out" "$tbl" "[$mode] \\d lists the table"
  out=$(psql -X -c "\\d $tbl" 2>&1); rc=$?
  assert_rc "$rc" 0 "[$mode] \\d $tbl"
  assert_contains "$out" "Table \"public.$tbl\"" "[$mode] \\d table header"
  assert_match "$out" "created +\| timestamp with time zone" "[$mode] \\d shows the columns"
  assert_contains "$out" "${tbl}_pkey" "[$mode] \\d shows the index"

  # \copy in and out, identical content.
  psql -X -q -v ON_ERROR_STOP=1 -c "drop table if exists ${tbl}_copy" \
    -c "create table ${tbl}_copy (id int, name text, note text)" >/dev/null 2>&1
  out=$(psql -X -v ON_ERROR_STOP=1 -c "\\copy ${tbl}_copy from '$T/copy_in.txt'" 2>&1); rc=$?
  assert_rc "$rc" 0 "[$mode] \\copy from file ($(show "$out" 200))"
  assert_eq "$out" "COPY $NROWS" "[$mode] \\copy from: row count"
  out=$(psql -X -v ON_ERROR_STOP=1 -c "\\copy ${tbl}_copy to '$T/copy_out_$mode.txt'" 2>&1); rc=$?
  assert_rc "$rc" 0 "[$mode] \\copy to file ($(show "$out" 200))"
  # heap order need not be insertion order: compare sorted, and exactly with ORDER BY
  sort "$T/copy_in.txt" >"$T/copy_in.sorted"; sort "$T/copy_out_$mode.txt" >"$T/copy_out_$mode.sorted"
  assert_files_equal "$T/copy_in.sorted" "$T/copy_out_$mode.sorted" "[$mode] \\copy table to file: same rows"
  out=$(psql -X -v ON_ERROR_STOP=1 -c "\\copy (select * from ${tbl}_copy order by id) to '$T/copy_outq_$mode.txt'" 2>&1); rc=$?
  assert_rc "$rc" 0 "[$mode] \\copy (query) to file ($(show "$out" 200))"
  assert_files_equal "$T/copy_in.txt" "$T/copy_outq_$mode.txt" "[$mode] \\copy round trip is byte-identical"
  # COPY with an error in the data: the server rejects it, the session goes on.
  out=$(printf '1\tok\tx\nnot-a-number\tbad\tx\n' | psql -X -At -c "\\copy ${tbl}_copy from stdin" -c "select 'after-copy-error'" 2>&1)
  assert_contains "$out" "invalid input syntax for type integer" "[$mode] COPY data error is reported"
  assert_contains "$out" "after-copy-error" "[$mode] session usable after a COPY error"

  # LISTEN/NOTIFY between two sessions.
  rm -f "$T/listening"
  psql -X -At >"$T/listen_$mode.out" 2>&1 <<SQL &
listen t20_chan;
\\! touch $T/listening
select pg_sleep(2);
select 'listener-done';
SQL
  lpid=$!; bg_track $lpid
  if wait_file "$T/listening" $((10 * WAIT_SCALE)); then
    out=$(psql -X -At -c "notify t20_chan, 'hello-$mode'" 2>&1)
    assert_eq "$out" "NOTIFY" "[$mode] NOTIFY from a second session"
  else
    fail "[$mode] listener session did not start"
  fi
  wait $lpid
  lout=$(cat "$T/listen_$mode.out")
  assert_contains "$lout" "Asynchronous notification \"t20_chan\" with payload \"hello-$mode\" received" "[$mode] listener received the notification"
  assert_contains "$lout" "listener-done" "[$mode] listener session finished"

  # The startup user name is not the identity: warden uses the key's identity.
  out=$(PGUSER=mallory psql -X -At -c "select 'claimed-mallory'" 2>&1)
  assert_eq "$out" "claimed-mallory" "[$mode] startup user name other than the key's name"
done

# Startup parameters reach the target: application_name, and options (PGOPTIONS).
out=$(psql -X -At -c "select current_setting('application_name')" 2>&1)
assert_eq "$out" "psql-test" "application_name is passed on to the target"
out=$(PGOPTIONS="-c statement_timeout=4321 -c search_path=t20_nowhere,public" psql -X -At -c "show statement_timeout" -c "show search_path" 2>&1)
assert_eq "$out" $'4321ms\nt20_nowhere,public' "startup options (PGOPTIONS -c ...) are passed on to the target"
out=$(PGCLIENTENCODING=LATIN1 psql -X -At -c "show client_encoding" 2>&1)
assert_eq "$out" "LATIN1" "client_encoding from the startup packet is passed on"

# Large messages both ways (well under limits.max_message_size).
if [[ "$SANITIZED" == 1 ]]; then BIG=$((2 * 1024 * 1024)); else BIG=$((16 * 1024 * 1024)); fi
wd_env require
export PGAPPNAME=psql-test
{ printf "select 'big-query', length('"; head -c "$BIG" /dev/zero | tr '\0' 'q'; printf "');\n"; } >"$T/big.sql"
out=$(psql -X -At -f "$T/big.sql" 2>&1)
assert_eq "$out" "big-query|$BIG" "a $BIG-byte query text"
n=$(psql -X -At -c "select repeat('r', $BIG)" 2>&1 | tr -d '\n' | wc -c)
assert_eq "$n" "$BIG" "a $BIG-byte result value"
out=$(psql -X -At -c "select count(*), sum(length(x)) from (select repeat('z', 1000) x from generate_series(1, 20000)) s" 2>&1)
assert_eq "$out" "20000|20000000" "a 20 MB result in 20000 rows"

# A second identity (bob) is recorded as bob.
wd_env require appdb "$KEY_BOB"
PGUSER=bob PGAPPNAME=psql-test psql -X -At -c "select 'i-am-bob'" >/dev/null 2>&1

wd_alive
wd_stop

audit_export || it_finish
for mode in require disable; do
  audit_expect_request "create table t20_$mode" alice psql-test appdb
  audit_expect_request "insert into t20_$mode (id, name, val) values" alice psql-test appdb
  audit_expect_request "select 1; select 2" alice psql-test appdb 2
  audit_expect_request "copy t20_${mode}_copy from stdin" alice psql-test appdb
  audit_expect_request "copy t20_${mode}_copy to stdout" alice psql-test appdb
  audit_expect_request "notify t20_chan, 'hello-$mode'" alice psql-test appdb
  audit_expect_request "listen t20_chan" alice psql-test appdb
done
audit_expect_request "select * from no_such_table_t20" alice psql-test appdb
audit_expect '.kind == "result" and .error_code == "42P01"' "a result entry records SQLSTATE 42P01"
audit_expect '.kind == "result" and ((.command_tag // "") | contains("COPY '"$NROWS"'"))' "a result entry records COPY $NROWS"
audit_expect '.kind == "request" and .startup_user == "mallory" and .user == "alice" and .statement == "select '"'"'claimed-mallory'"'"'"' \
  "startup user 'mallory' recorded as startup_user, identity stays alice"
audit_expect_request "select 'i-am-bob'" bob psql-test appdb
audit_expect '.kind == "request" and .user == "bob" and .groups == ["ops","dev"]' "bob's groups recorded"
audit_expect_no_foreign_users "alice bob"
it_finish
