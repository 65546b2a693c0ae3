#!/usr/bin/env bash
# psycopg 3 (Debian python3-psycopg) through warden: text and binary parameters,
# executemany (pipelined), transactions, server errors, cancel, server-side cursor.
source "$(dirname "$0")/lib.sh"
it_init

wd_new "$(conn appdb)"
wd_start

cat >"$T/t50.py" <<'PY'
import os, sys, threading, time
import psycopg
from psycopg import errors, sql

port, key, scale = int(os.environ["WD_PORT"]), os.environ["KEY"], int(os.environ["SCALE"])
MODE = os.environ["MODE"]          # sslmode of the main part
failures = 0
def check(cond, what, detail=""):
    global failures
    if cond:
        print("  ok   py:", what)
    else:
        failures += 1
        print("  FAIL py:", what, detail)

def connect(**kw):
    return psycopg.connect(host="127.0.0.1", port=port, dbname="appdb", user="alice",
                           password=key, application_name="psycopg-test",
                           connect_timeout=10 * scale, **kw)

for sslmode in (MODE,):
    with connect(sslmode=sslmode) as conn:
        cur = conn.cursor()
        cur.execute("select %s::text, %s::int, %s::numeric, %s::text is null",
                    ("hello-text", 42, "3.25", None))
        row = cur.fetchone()
        check(row == ("hello-text", 42, __import__("decimal").Decimal("3.25"), True),
              f"[{sslmode}] text params", repr(row))
        # binary results and binary params (bytes are always sent binary)
        cur.execute("select %s::bytea, %s::int8, %s::text", (b"\x00\x01\xfe\xff", 7, "bin-é"), binary=True)
        row = cur.fetchone()
        check(row == (b"\x00\x01\xfe\xff", 7, "bin-é"), f"[{sslmode}] binary params + results", repr(row))
        cur.execute("select %b::bytea = decode('deadbeef', 'hex')", (bytes.fromhex("deadbeef"),))
        check(cur.fetchone() == (True,), f"[{sslmode}] explicit binary placeholder %b")
        conn.commit()

conn = connect(sslmode=MODE)
cur = conn.cursor()
cur.execute("drop table if exists t50")
cur.execute("create table t50 (id int primary key, name text, data bytea)")
conn.commit()

# executemany (psycopg 3.1 pipelines it: many Bind/Execute before one Sync)
rows = [(i, f"row-{i}", bytes([i % 256]) * (i % 10)) for i in range(1, 201)]
cur.executemany("insert into t50 (id, name, data) values (%s, %s, %s)", rows)
conn.commit()
cur.execute("select count(*), sum(length(data)) from t50")
check(cur.fetchone() == (200, sum(len(r[2]) for r in rows)), "executemany inserted 200 rows")

# explicit pipeline with several queries in flight
with conn.pipeline():
    c1 = conn.execute("select 'p1'")
    c2 = conn.execute("select %s::int * 2", (21,))
    c3 = conn.execute("select count(*) from t50 where id > %s", (100,))
check((c1.fetchone(), c2.fetchone(), c3.fetchone()) == (("p1",), (42,), (100,)), "pipeline of three queries")
conn.commit()

# transaction rollback
with conn.transaction():
    cur.execute("insert into t50 (id, name) values (%s, %s)", (1000, "keep"))
try:
    with conn.transaction():
        cur.execute("insert into t50 (id, name) values (%s, %s)", (1001, "discard"))
        raise psycopg.Rollback()
except Exception as e:
    check(False, "Rollback raised", repr(e))
cur.execute("select array_agg(id order by id) from t50 where id >= 1000")
check(cur.fetchone() == ([1000],), "rolled-back insert is gone, committed one kept")
conn.rollback()

# server-side error -> UndefinedTable, connection usable afterwards
try:
    cur.execute("select * from no_such_table_t50")
    check(False, "UndefinedTable raised")
except errors.UndefinedTable as e:
    check(e.sqlstate == "42P01", "UndefinedTable with SQLSTATE 42P01")
conn.rollback()
try:
    cur.execute("insert into t50 (id, name) values (%s, %s)", (1, "dup"))
    check(False, "UniqueViolation raised")
except errors.UniqueViolation:
    check(True, "UniqueViolation on duplicate key")
conn.rollback()
cur.execute("select 'after-errors'")
check(cur.fetchone() == ("after-errors",), "connection usable after errors")
conn.commit()

# server-side (named) cursor
with conn.cursor(name="t50_cursor") as scur:
    scur.itersize = 50
    scur.execute("select id from t50 where id <= %s order by id", (200,))
    ids = [r[0] for r in scur]
check(ids == list(range(1, 201)), "server-side cursor fetched 200 rows in batches", str(len(ids)))
conn.commit()

# an error in the middle of a pipeline: later queries are skipped until Sync
try:
    with conn.pipeline():
        conn.execute("select 'before'")
        conn.execute("select * from no_such_table_pipeline")
        conn.execute("select 'skipped'")
    check(False, "pipeline error raised")
except errors.UndefinedTable:
    check(True, "pipeline: error in the middle raises UndefinedTable")
except Exception as e:
    check(False, "pipeline: error in the middle raises UndefinedTable", repr(e))
conn.rollback()
check(conn.execute("select 'after-pipeline-error'").fetchone() == ("after-pipeline-error",),
      "connection usable after a pipeline error")
conn.commit()

# COPY through psycopg: text in, binary out, and back
with cur.copy("copy t50 (id, name, data) from stdin") as cp:
    for i in range(5000, 5500):
        cp.write_row((i, f"copy-{i}", bytes([i % 256, 0, 255])))
conn.commit()
cur.execute("select count(*) from t50 where id >= 5000 and id < 5500")
check(cur.fetchone() == (500,), "COPY FROM STDIN of 500 rows (psycopg copy)")
got = []
with cur.copy("copy (select id, name, data from t50 where id >= 5000 order by id) to stdout (format binary)") as cp:
    cp.set_types(["int4", "text", "bytea"])
    for row in cp.rows():
        got.append(row)
check(len(got) == 500 and got[0] == (5000, "copy-5000", bytes([5000 % 256, 0, 255])), "COPY TO STDOUT binary format", repr(got[:1]))
conn.commit()

# notices and parameter status changes reach the client
notices = []
conn.add_notice_handler(lambda d: notices.append(d.message_primary))
conn.execute("do $$ begin raise notice 't50-notice %', 42; end $$")
check("t50-notice 42" in notices, "NoticeResponse from a DO block", repr(notices))
conn.commit()
conn.execute("set client_encoding to 'LATIN1'")
row = conn.execute("select 'é' || %s::text, current_setting('client_encoding')", ("ü",)).fetchone()
check(row == ("éü", "LATIN1") and conn.info.encoding in ("iso8859-1", "latin1", "latin-1"),
      "client_encoding change seen by the client (ParameterStatus)", repr((row, conn.info.encoding)))
conn.execute("set client_encoding to 'UTF8'")
conn.commit()
check(conn.info.parameter_status("application_name") == "psycopg-test",
      "application_name ParameterStatus", repr(conn.info.parameter_status("application_name")))

# cancel from another thread while pg_sleep(30) runs
conn.autocommit = True
timer = threading.Timer(1.0, conn.cancel)
t0 = time.time()
timer.start()
try:
    cur.execute("select pg_sleep(30)")
    check(False, "QueryCanceled raised")
except errors.QueryCanceled as e:
    el = time.time() - t0
    check(el < 8 * scale, "cancel: QueryCanceled after %.1fs" % el)
except Exception as e:
    check(False, "cancel raised QueryCanceled", repr(e))
timer.cancel()
cur.execute("select 'after-cancel'")
check(cur.fetchone() == ("after-cancel",), "connection usable after cancel")
conn.close()

# many short connections in a row
t0 = time.time()
for i in range(20):
    with connect(sslmode=MODE) as c:
        c.execute("select %s::int", (i,)).fetchone()
check(True, "20 sequential connections (%.2fs)" % (time.time() - t0))

print("PY-FAILURES", failures)
sys.exit(1 if failures else 0)
PY
for mode in disable require; do
  out=$(PYTHONUNBUFFERED=1 MODE=$mode WD_PORT=$WD_PORT KEY=$KEY_ALICE SCALE=$WAIT_SCALE timeout $((60 * WAIT_SCALE)) "$PY" "$T/t50.py" 2>&1); rc=$?
  echo "$out" | sed "s/^/[$mode] /"
  assert_rc "$rc" 0 "psycopg script, sslmode=$mode"
  assert_contains "$out" "PY-FAILURES 0" "psycopg script ran to the end with no failures, sslmode=$mode"
done

wd_alive
wd_stop
audit_export || it_finish
audit_expect_request "select \$1::text, \$2::int" alice psycopg-test appdb 2
audit_expect '.kind == "request" and .agent == "psycopg-test" and ((.params // []) | any(. == "hello-text"))' "text parameter recorded"
audit_expect '.kind == "request" and .agent == "psycopg-test" and ((.params // []) | any(. == {"hex": "0001feff"}))' "bytes parameter recorded as hex 0001feff"
audit_expect '.kind == "request" and .agent == "psycopg-test" and ((.params // []) | any(. == {"hex": "deadbeef"}))' "bytes parameter recorded as hex deadbeef"
audit_expect_request "insert into t50 (id, name, data) values" alice psycopg-test appdb 200
audit_expect_request "select pg_sleep(30)" alice psycopg-test appdb
audit_expect '.kind == "result" and .error_code == "57014"' "the cancelled statement's result records 57014"
audit_expect '.kind == "result" and .error_code == "42P01"' "the failed statement's result records 42P01"
audit_expect_no_foreign_users "alice"
it_finish
