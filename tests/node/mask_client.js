// node-postgres (npm `pg`) reading the seeded customers table through warden:
// run by tests/integration/t_94_mask.sh, which checks the files written here for
// seeded sensitive values (a masked identity's must hold none, the dba's all).
// node-postgres parses what it gets: a json/jsonb value into an object (a masked
// document must still be JSON), integers into numbers, and with `binary: true`
// asks for every result column in binary format.
// Env: WD_PORT, WD_USER, WD_KEY, OUT (prefix of the files written), ROWS (expected
// row count). Exits non-zero on any failure.
'use strict';
const fs = require('fs');
const { Client } = require('pg');
const { check, run } = require('./report');

// Every value as text, one row per line: what the client got, to search for seeded values.
function dump(file, rows) {
  const text = (v) => (v === null ? '\\N' : Buffer.isBuffer(v) ? v.toString('utf8')
    : typeof v === 'object' ? JSON.stringify(v) : String(v));
  fs.writeFileSync(file, rows.map((r) => r.map(text).join('\t')).join('\n') + '\n');
}

async function main() {
  const user = process.env.WD_USER, out = process.env.OUT, want = Number(process.env.ROWS);
  const client = new Client({
    host: '127.0.0.1', port: Number(process.env.WD_PORT), database: 'appdb', user,
    password: process.env.WD_KEY, application_name: 't94-node', connectionTimeoutMillis: 20000,
    ssl: { rejectUnauthorized: false },   // warden's certificate is self-signed
  });
  await client.connect();
  const sql = 'select id, name, email, phone, card, ssn, notes, profile, api_key, employee from customers';

  // simple query protocol, rows as objects
  let r = await client.query(sql + ' order by id');
  check(r.rowCount === want, user + ': simple query returned every row', r.rowCount);
  check(r.rows.every((x) => typeof x.id === 'number'), user + ': ids parsed as numbers');
  check(r.rows.every((x) => x.profile === null || typeof x.profile === 'object'),
    user + ': every jsonb document parsed by JSON.parse', r.rows.find((x) => x.profile !== null && typeof x.profile !== 'object'));
  dump(out + '.simple', r.rows.map((x) => r.fields.map((f) => x[f.name])));

  // extended protocol with a parameter, rows as arrays
  r = await client.query({ text: sql + ' where id > $1 order by id', values: [0], rowMode: 'array' });
  check(r.rowCount === want, user + ': parameterised query returned every row', r.rowCount);
  dump(out + '.param', r.rows);

  // binary results for every column (node-postgres 8 hands a binary integer to its text
  // parser, so ids read NaN here, directly from PostgreSQL as through warden)
  r = await client.query({ text: sql + ' where id > $1 order by id', values: [0], rowMode: 'array', binary: true });
  check(r.rowCount === want, user + ': binary-format query returned every row', r.rowCount);
  dump(out + '.binary', r.rows);

  // a named prepared statement, run twice (the second time Bind/Execute only)
  const named = { name: 't94-node', text: sql + ' where id between $1 and $2 order by id', values: [1, 500], rowMode: 'array' };
  const first = await client.query(named);
  named.values = [501, 100000];
  const second = await client.query(named);
  check(first.rowCount + second.rowCount === want, user + ': named statement, two runs, every row once',
    [first.rowCount, second.rowCount]);
  dump(out + '.named', first.rows.concat(second.rows));

  await client.end();
}

run(main);
