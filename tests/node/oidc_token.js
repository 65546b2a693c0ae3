#!/usr/bin/env node
'use strict';
// Obtains a client-credentials JWT access token for resource
// urn:warden:gateway from tests/node/oidc_provider.js and prints only the
// token on stdout. See tests/node/OIDC.md.
//
//   node tests/node/oidc_token.js --issuer URL [--user carol] [--groups dev,oncall]
//        [--ttl SECONDS] [--scope gateway] [--resource urn:warden:gateway]
//        [--client-id warden-test] [--client-secret warden-test-secret] [--json]
//
// --user / --groups set the token's preferred_username / groups claims (the
// provider's --user/--groups defaults apply when absent; --user alone takes
// that account's groups, --groups "" gives an empty list). --ttl sets the
// token lifetime (exp - iat). --json prints the whole token response instead.
// Exits 1 with a message on stderr on any failure.

function fail(msg) {
  process.stderr.write(`oidc_token: ${msg}\n`);
  process.exit(1);
}

const o = {
  issuer: undefined,
  user: undefined,
  groups: undefined,
  ttl: undefined,
  scope: undefined,
  resource: 'urn:warden:gateway',
  clientId: 'warden-test',
  clientSecret: 'warden-test-secret',
  json: false,
};
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  const val = () => {
    if (i + 1 >= argv.length) fail(`${a} needs a value`);
    return argv[++i];
  };
  switch (a) {
    case '--issuer': o.issuer = val().replace(/\/+$/, ''); break;
    case '--user': o.user = val(); break;
    case '--groups': o.groups = val(); break;
    case '--ttl': o.ttl = val(); break;
    case '--scope': o.scope = val(); break;
    case '--resource': o.resource = val(); break;
    case '--client-id': o.clientId = val(); break;
    case '--client-secret': o.clientSecret = val(); break;
    case '--json': o.json = true; break;
    default: fail(`unknown argument ${a}`);
  }
}
if (!o.issuer) fail('--issuer URL is required');

async function main() {
  // The token endpoint is taken from discovery, as a real client would.
  let disc;
  try {
    const r = await fetch(`${o.issuer}/.well-known/openid-configuration`);
    if (!r.ok) fail(`discovery answered ${r.status}`);
    disc = await r.json();
  } catch (e) {
    fail(`discovery at ${o.issuer} failed: ${e.cause ? e.cause.message || e.cause.code : e.message}`);
  }

  const form = { grant_type: 'client_credentials' };
  if (o.resource) form.resource = o.resource;
  if (o.scope) form.scope = o.scope;
  if (o.user !== undefined) form.user = o.user;
  if (o.groups !== undefined) form.groups = o.groups;
  if (o.ttl !== undefined) form.ttl = o.ttl;

  const basic = Buffer.from(`${encodeURIComponent(o.clientId)}:${encodeURIComponent(o.clientSecret)}`).toString('base64');
  const res = await fetch(disc.token_endpoint, {
    method: 'POST',
    headers: {
      authorization: `Basic ${basic}`,
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    },
    body: new URLSearchParams(form).toString(),
  });
  const text = await res.text();
  let body;
  try { body = JSON.parse(text); } catch { fail(`token endpoint answered ${res.status} non-JSON: ${text.slice(0, 300)}`); }
  if (res.status !== 200 || !body.access_token) fail(`token endpoint answered ${res.status}: ${text}`);
  if (body.access_token.split('.').length !== 3) fail(`access token is not a JWS: ${body.access_token}`);
  process.stdout.write(o.json ? `${JSON.stringify(body)}\n` : `${body.access_token}\n`);
}

main().catch((e) => fail(e && e.stack ? e.stack : String(e)));
