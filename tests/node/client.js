// node-postgres (npm `pg`) client test for warden: run by tests/integration/t_60_node.sh.
// Env: WD_PORT, WD_KEY, WD_SSL=1 for TLS (warden's certificate is self-signed).
// Exits non-zero on any failure.
'use strict';
const { Client } = require('pg');
const { check, run } = require('./report');

async function main() {
  const ssl = process.env.WD_SSL === '1';
  const client = new Client({
    host: '127.0.0.1',
    port: Number(process.env.WD_PORT),
    database: 'appdb',
    user: 'alice',
    password: process.env.WD_KEY,
    application_name: 'node-test',
    ssl: ssl ? { rejectUnauthorized: false } : false,
    connectionTimeoutMillis: 20000,
  });
  await client.connect();
  const tag = ssl ? '[ssl] ' : '[plain] ';

  // simple query protocol (no parameters)
  let r = await client.query("select 1 as one, 'two'::text as two, null::int as nothing");
  check(r.rows.length === 1 && r.rows[0].one === 1 && r.rows[0].two === 'two' && r.rows[0].nothing === null,
    tag + 'simple query', r.rows);

  // parameterised (extended protocol, unnamed statement)
  r = await client.query('select $1::int + $2::int as sum, $3::text as t', [2, 3, 'node-param-é']);
  check(r.rows[0].sum === 5 && r.rows[0].t === 'node-param-é', tag + 'parameterised query', r.rows);

  // a parameterised query returning many rows
  r = await client.query('select g, md5(g::text) from generate_series(1, $1::int) g', [5000]);
  check(r.rowCount === 5000 && r.rows[4999].g === 5000, tag + 'parameterised query with 5000 rows', r.rowCount);

  // named prepared statement, run twice (second time: Bind/Execute only)
  const named = { name: 't60-get', text: 'select $1::text || $2::text as v', values: ['a', 'b'] };
  r = await client.query(named);
  check(r.rows[0].v === 'ab', tag + 'named prepared statement, first run', r.rows);
  named.values = ['c', 'd'];
  r = await client.query(named);
  check(r.rows[0].v === 'cd', tag + 'named prepared statement, second run', r.rows);

  // DDL + DML with parameters
  await client.query('drop table if exists t60' + (ssl ? 's' : 'p'));
  await client.query('create table t60' + (ssl ? 's' : 'p') + ' (id int primary key, v text)');
  r = await client.query('insert into t60' + (ssl ? 's' : 'p') + ' values ($1, $2), ($3, $4)', [1, 'x', 2, null]);
  check(r.rowCount === 2 && r.command === 'INSERT', tag + 'insert with parameters', r.command);

  // error handling: server error, then the connection still works
  try {
    await client.query('select * from no_such_table_t60');
    check(false, tag + 'error raised for a missing table');
  } catch (e) {
    check(e.code === '42P01', tag + 'error has SQLSTATE 42P01', e.code);
  }
  try {
    await client.query('select $1::int', ['not-an-int']);
    check(false, tag + 'error raised for a bad parameter');
  } catch (e) {
    check(e.code === '22P02', tag + 'bad parameter gives 22P02', e.code);
  }
  r = await client.query('select $1::text as ok', ['after-error']);
  check(r.rows[0].ok === 'after-error', tag + 'connection usable after errors');

  // transaction
  await client.query('begin');
  await client.query('insert into t60' + (ssl ? 's' : 'p') + ' values ($1, $2)', [3, 'rolled-back']);
  await client.query('rollback');
  r = await client.query('select count(*)::int as n from t60' + (ssl ? 's' : 'p'));
  check(r.rows[0].n === 2, tag + 'rollback', r.rows);

  // several queries in flight at once (node-pg queues them)
  const many = await Promise.all([...Array(20).keys()].map((i) => client.query('select $1::int as i', [i])));
  check(many.every((x, i) => x.rows[0].i === i), tag + '20 queued queries');

  await client.end();
}

run(main);
