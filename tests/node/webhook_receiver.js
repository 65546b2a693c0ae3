#!/usr/bin/env node
// webhook_receiver — a stand-in for a team's webhook endpoint, for the tests of
// warden's notifier (src/review/notify.c). Only Node's built-in modules.
//
//   node webhook_receiver.js --port 0 --out FILE [--secret S] [--fail-first N]
//
// Listens on 127.0.0.1 and prints {"port": N} on stdout once listening. Every
// POST becomes one JSON line appended to FILE (written before the answer, so a
// sender that saw the answer finds the line):
//   {"status", "method", "path", "headers" (lower-cased), "body" (parsed JSON
//    or the raw text), "raw", "signature_ok" (true/false; null without --secret)}
// The first N POSTs are answered 500 (to exercise retries), later ones 200.
// Exits on SIGTERM / SIGINT.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const http = require('http');

function usage(msg) {
  process.stderr.write(`webhook_receiver: ${msg}\n` +
    'usage: node webhook_receiver.js --port N --out FILE [--secret S] [--fail-first N]\n');
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { port: 0, out: null, secret: null, failFirst: 0 };
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i];
    const value = argv[i + 1];
    if (value === undefined) usage(`${name} needs a value`);
    i++;
    switch (name) {
      case '--port': opts.port = Number(value); break;
      case '--out': opts.out = value; break;
      case '--secret': opts.secret = value; break;
      case '--fail-first': opts.failFirst = Number(value); break;
      default: usage(`unknown option ${name}`);
    }
  }
  if (!opts.out) usage('--out is required');
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) usage('bad --port');
  if (!Number.isInteger(opts.failFirst) || opts.failFirst < 0) usage('bad --fail-first');
  return opts;
}

const opts = parseArgs(process.argv.slice(2));
let posts = 0;

// Compares in constant time, as a real receiver should.
function signatureOk(raw, header) {
  if (opts.secret === null) return null;
  if (typeof header !== 'string') return false;
  const want = Buffer.from('sha256=' +
    crypto.createHmac('sha256', opts.secret).update(raw).digest('hex'));
  const got = Buffer.from(header);
  return got.length === want.length && crypto.timingSafeEqual(got, want);
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    if (req.method !== 'POST') {
      res.writeHead(405, { 'Content-Type': 'text/plain', Allow: 'POST' });
      res.end('POST only\n');
      return;
    }
    const raw = Buffer.concat(chunks);
    const text = raw.toString('utf8');
    let body;
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
    posts++;
    const status = posts <= opts.failFirst ? 500 : 200;
    const record = {
      status,
      method: req.method,
      path: req.url,
      headers: req.headers,
      body,
      raw: text,
      signature_ok: signatureOk(raw, req.headers['x-warden-signature']),
    };
    fs.appendFileSync(opts.out, JSON.stringify(record) + '\n');
    res.writeHead(status, { 'Content-Type': 'text/plain' });
    res.end(status === 200 ? 'ok\n' : 'failing on purpose\n');
  });
});

server.on('error', (e) => {
  process.stderr.write(`webhook_receiver: ${e.message}\n`);
  process.exit(1);
});

server.listen(opts.port, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n');
});

function stop() {
  server.close();
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
