#!/usr/bin/env bash
# pg_dump of `app` through warden, restored with psql through warden into a
# second database `restore`; every table's content compared.
source "$(dirname "$0")/lib.sh"
it_init

# A fresh `restore` database on the cluster (created directly).
pg_direct -d postgres -c "drop database if exists restore" -c "create database restore owner app_scram" \
  || die "could not create database restore"

wd_new "$(conn appdb)" "$(conn restoredb database=restore)"
wd_start
wd_env require appdb
export PGAPPNAME=t40-setup

# Objects of many kinds and types, in their own schema.
out=$(psql -X -q -v ON_ERROR_STOP=1 2>&1 <<'SQL'
drop schema if exists t40 cascade;
create schema t40;
create type t40.mood as enum ('sad', 'ok', 'happy');
create table t40.kinds (
  id serial primary key, i2 smallint, i8 bigint, n numeric(20,6), f float8, b boolean,
  t text, vc varchar(40), by bytea, j jsonb, arr int[], ts timestamptz, d date, iv interval,
  u uuid, m t40.mood, ip inet
);
insert into t40.kinds (i2, i8, n, f, b, t, vc, by, j, arr, ts, d, iv, u, m, ip)
select g % 32000, g::bigint * 1000003, g / 7.0, g * 0.5, g % 2 = 0,
       case when g % 11 = 0 then null else repeat(chr(65 + g % 26), g % 50) || E'\t\\ é\n日本' end,
       'v' || g, decode(md5(g::text), 'hex'), jsonb_build_object('g', g, 's', 'x' || g),
       array[g, g + 1], '2024-01-01 00:00:00+00'::timestamptz + g * interval '1 minute',
       '2024-01-01'::date + g, g * interval '1 second', md5(g::text)::uuid,
       (array['sad','ok','happy'])[1 + g % 3]::t40.mood, ('10.0.' || (g % 256) || '.1')::inet
from generate_series(1, 3000) g;
create index kinds_t_idx on t40.kinds (t);
create view t40.happy as select id, t from t40.kinds where m = 'happy';
create function t40.twice(x int) returns int language sql immutable as 'select x * 2';
create table t40.child (id int primary key, kind_id int references t40.kinds(id), note text);
insert into t40.child select g, g, 'child ' || g from generate_series(1, 500) g;
comment on table t40.kinds is 'every type';
SQL
); rc=$?
assert_rc "$rc" 0 "create the t40 schema through warden ($(show "$out" 300))"

# Dump through warden (plain format) ...
unset PGAPPNAME   # pg_dump, psql and pg_restore name themselves
pg_dump -d appdb --no-owner -f "$T/app.sql" 2>"$T/pg_dump.err"; rc=$?
assert_rc "$rc" 0 "pg_dump through warden ($(show "$(cat "$T/pg_dump.err")" 300))"
grep -q '^COPY t40.kinds ' "$T/app.sql" && ok "dump contains t40.kinds data" || fail "dump lacks COPY t40.kinds"

# ... restored through warden into restoredb.
out=$(psql -X -q -v ON_ERROR_STOP=1 -d restoredb -f "$T/app.sql" 2>&1); rc=$?
assert_rc "$rc" 0 "psql restore through warden ($(show "$out" 400))"

# Compare every table of app with its copy in restore.
tables=$(psql -X -At -d appdb -c "select format('%I.%I', schemaname, tablename) from pg_tables
          where schemaname not in ('pg_catalog', 'information_schema') order by 1" 2>&1)
ntables=0
for tb in $tables; do
  q="select count(*) || ':' || md5(coalesce(string_agg(x::text, ',' order by x::text), '')) from $tb x"
  a=$(psql -X -At -d appdb -c "$q" 2>&1)
  b=$(psql -X -At -d restoredb -c "$q" 2>&1)
  if [[ -n "$a" && "$a" == "$b" ]]; then ntables=$((ntables + 1)); else fail "table $tb differs: app [$(show "$a" 100)] restore [$(show "$b" 100)]"; fi
done
if ((ntables >= 2)); then ok "$ntables tables identical in app and restore"; else fail "only $ntables tables compared"; fi
out=$(psql -X -At -d restoredb -c "select t40.twice(21), (select count(*) from t40.happy), obj_description('t40.kinds'::regclass)" 2>&1)
assert_eq "$out" "42|1000|every type" "function, view and comment restored"

# Custom format + pg_restore through warden, too.
pg_direct -d postgres -c "drop database if exists restore" -c "create database restore owner app_scram" \
  || die "could not recreate database restore"
pg_dump -d appdb -Fc -n t40 -f "$T/app.dump" 2>"$T/pg_dump_fc.err"; rc=$?
assert_rc "$rc" 0 "pg_dump -Fc -n t40 through warden ($(show "$(cat "$T/pg_dump_fc.err")" 300))"
out=$(pg_restore --no-owner -d restoredb "$T/app.dump" 2>&1); rc=$?
assert_rc "$rc" 0 "pg_restore through warden ($(show "$out" 300))"
q="select count(*) || ':' || md5(coalesce(string_agg(x::text, ',' order by x::text), '')) from t40.kinds x"
a=$(psql -X -At -d appdb -c "$q" 2>&1); b=$(psql -X -At -d restoredb -c "$q" 2>&1)
assert_eq "$b" "$a" "t40.kinds identical after pg_restore"

# Parallel dump and restore (directory format, 2 jobs: synchronized snapshots
# across several sessions through warden).
pg_direct -d postgres -c "drop database if exists restore" -c "create database restore owner app_scram" \
  || die "could not recreate database restore"
pg_dump -d appdb -Fd -j 2 -n t40 -f "$T/app.dir" 2>"$T/pg_dump_j.err"; rc=$?
assert_rc "$rc" 0 "pg_dump -Fd -j 2 through warden ($(show "$(cat "$T/pg_dump_j.err")" 300))"
out=$(pg_restore --no-owner -j 2 -d restoredb "$T/app.dir" 2>&1); rc=$?
assert_rc "$rc" 0 "pg_restore -j 2 through warden ($(show "$out" 300))"
for tb in t40.kinds t40.child; do
  q="select count(*) || ':' || md5(coalesce(string_agg(x::text, ',' order by x::text), '')) from $tb x"
  a=$(psql -X -At -d appdb -c "$q" 2>&1); b=$(psql -X -At -d restoredb -c "$q" 2>&1)
  assert_eq "$b" "$a" "$tb identical after a parallel dump and restore"
done

wd_alive
wd_stop
audit_export || it_finish
audit_expect_request "copy t40.kinds" alice pg_dump appdb
audit_expect_request "copy t40.kinds" alice psql restoredb
audit_expect_request "create table t40.kinds" alice psql restoredb
audit_expect_request "create schema t40" alice t40-setup appdb
audit_expect_request "copy t40.kinds" alice pg_restore restoredb
audit_expect_no_foreign_users "alice"
it_finish
