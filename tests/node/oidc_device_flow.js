#!/usr/bin/env node
'use strict';
// Completes the OAuth 2.0 device authorization grant (RFC 8628) against
// tests/node/oidc_provider.js without a browser, as client "warden-cli", and
// prints the token response JSON (id_token, access_token, refresh_token, ...)
// on stdout. The HTTP sequence is the one a person's browser would make; it
// is documented in tests/node/OIDC.md.
//
//   node tests/node/oidc_device_flow.js --issuer URL [--user carol] [--password x]
//        [--scope "openid profile groups offline_access gateway"] [--resource urn:warden:gateway]
//        [--client-id warden-cli] [--refresh] [--user-code CODE] [-v]
//
// --refresh also redeems the refresh token once and adds the answer as
// "refreshed" to the printed JSON. -v logs every request to stderr.
// --user-code CODE only plays the browser's part for a device code that
// someone else (e.g. `warden login`) requested and polls for: it approves
// CODE as --user and prints {"approved":true,"user_code":CODE}.
// Exit status: 0 with tokens printed, 1 with a message on stderr otherwise.

function fail(msg) {
  process.stderr.write(`oidc_device_flow: ${msg}\n`);
  process.exit(1);
}

function parseArgs(argv) {
  const o = {
    issuer: undefined,
    user: 'carol',
    password: 'any-password',
    scope: 'openid profile groups offline_access gateway',
    resource: 'urn:warden:gateway',
    clientId: 'warden-cli',
    refresh: false,
    userCode: undefined,
    verbose: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) fail(`${a} needs a value`);
      return argv[++i];
    };
    switch (a) {
      case '--issuer': o.issuer = val().replace(/\/+$/, ''); break;
      case '--user': o.user = val(); break;
      case '--password': o.password = val(); break;
      case '--scope': o.scope = val(); break;
      case '--resource': o.resource = val(); break;
      case '--client-id': o.clientId = val(); break;
      case '--refresh': o.refresh = true; break;
      case '--user-code': o.userCode = val(); break;
      case '-v': case '--verbose': o.verbose = true; break;
      default: fail(`unknown argument ${a}`);
    }
  }
  if (!o.issuer) fail('--issuer URL is required');
  return o;
}

const opts = parseArgs(process.argv.slice(2));
const log = (s) => { if (opts.verbose) process.stderr.write(`${s}\n`); };

// ------------------------------------------------------------ tiny browser

const jar = new Map();

function storeCookies(res) {
  for (const sc of res.headers.getSetCookie()) {
    const [pair, ...attrs] = sc.split(';');
    const eq = pair.indexOf('=');
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    const expires = attrs.map((x) => x.trim()).find((x) => /^expires=/i.test(x));
    if (!value || (expires && Date.parse(expires.slice(8)) < Date.now())) jar.delete(name);
    else jar.set(name, value);
  }
}

function cookieHeader() {
  return [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
}

// One request, no automatic redirects; cookies kept in the jar.
async function request(method, url, form) {
  const headers = { cookie: cookieHeader(), accept: 'text/html,application/json' };
  let body;
  if (form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(form).toString();
  }
  const res = await fetch(url, {
    method, headers, body, redirect: 'manual',
  });
  storeCookies(res);
  const text = await res.text();
  const location = res.headers.get('location');
  log(`${method} ${new URL(url).pathname}${new URL(url).search}${form ? ` ${body}` : ''} -> ${res.status}${location ? ` Location: ${location}` : ''}`);
  return {
    status: res.status, text, location: location && new URL(location, url).href, url,
  };
}

// Follows 3xx redirects with GET (as a browser does after a form POST).
async function browse(method, url, form) {
  let r = await request(method, url, form);
  for (let hops = 0; r.status >= 300 && r.status < 400 && r.location; hops++) {
    if (hops > 10) fail('too many redirects');
    r = await request('GET', r.location);
  }
  if (r.status !== 200) fail(`${method} ${url} answered ${r.status}: ${r.text.slice(0, 300)}`);
  return r;
}

function htmlDecode(s) {
  return s.replace(/&quot;/g, '"').replace(/&#39;|&#x27;/g, "'").replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

function attr(tag, name) {
  const m = tag.match(new RegExp(`\\s${name}="([^"]*)"`, 'i'));
  return m ? htmlDecode(m[1]) : undefined;
}

// The first <form> of a page: its action (absolute) and hidden inputs.
function parseForm(page) {
  const m = page.text.match(/<form\b[^>]*>[\s\S]*?<\/form>/i);
  if (!m) fail(`no form on ${page.url}: ${page.text.slice(0, 300)}`);
  const formTag = m[0].match(/<form\b[^>]*>/i)[0];
  const fields = {};
  for (const input of m[0].match(/<input\b[^>]*>/gi) || []) {
    if ((attr(input, 'type') || '').toLowerCase() === 'hidden' && attr(input, 'name')) {
      fields[attr(input, 'name')] = attr(input, 'value') ?? '';
    }
  }
  return { action: new URL(attr(formTag, 'action') || page.url, page.url).href, fields };
}

async function postJSON(url, form) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams(form).toString(),
  });
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { fail(`${url} answered ${res.status} non-JSON: ${text.slice(0, 300)}`); }
  log(`POST ${new URL(url).pathname} -> ${res.status}${json.error ? ` ${json.error}` : ''}`);
  return { status: res.status, json };
}

// ------------------------------------------------------------ the flow

// The user's part: open verification_uri, enter the user code, confirm,
// log in, consent.
async function approve(verificationUri, userCode) {
  // 2. The user opens verification_uri: a form with a hidden xsrf field.
  const input = parseForm(await browse('GET', verificationUri));

  // 3. ...types in the user code: a confirmation form (xsrf, user_code, confirm=yes).
  const entered = await browse('POST', input.action, { ...input.fields, user_code: userCode });
  const confirm = parseForm(entered);
  if (confirm.fields.confirm !== 'yes') {
    const why = (entered.text.match(/<p class="red">([^<]*)<\/p>/) || [])[1] || 'no confirmation form';
    fail(`user code ${userCode} not accepted: ${why}`);
  }

  // 4. ...confirms: redirected to /interaction/UID, the login form.
  let page = await browse('POST', confirm.action, confirm.fields);

  // 5. Login, then consent (devInteractions); each submit redirects through
  //    /device/UID (resume) to the next interaction or to the success page.
  for (let step = 0; step < 5 && !/Sign-in Success/.test(page.text); step++) {
    const form = parseForm(page);
    switch (form.fields.prompt) {
      case 'login':
        page = await browse('POST', form.action, { ...form.fields, login: opts.user, password: opts.password });
        break;
      case 'consent':
        page = await browse('POST', form.action, form.fields);
        break;
      default:
        fail(`unexpected page at ${page.url}: ${page.text.slice(0, 300)}`);
    }
  }
  if (!/Sign-in Success/.test(page.text)) fail(`device flow did not reach the success page: ${page.text.slice(0, 300)}`);
}

async function main() {
  let disc;
  try {
    disc = await (await fetch(`${opts.issuer}/.well-known/openid-configuration`)).json();
  } catch (e) {
    fail(`discovery at ${opts.issuer} failed: ${e.cause ? e.cause.message || e.cause.code : e.message}`);
  }

  if (opts.userCode) {
    await approve(`${opts.issuer}/device`, opts.userCode);
    process.stdout.write(`${JSON.stringify({ approved: true, user_code: opts.userCode })}\n`);
    return;
  }

  // 1. The device asks for a device code and a user code.
  const da = await postJSON(disc.device_authorization_endpoint, {
    client_id: opts.clientId, scope: opts.scope, resource: opts.resource,
  });
  if (da.status !== 200) fail(`device authorization failed: ${JSON.stringify(da.json)}`);
  const { device_code: deviceCode, user_code: userCode, verification_uri: verificationUri } = da.json;
  const interval = Math.max(1, Number(da.json.interval) || 5);
  log(`user_code ${userCode}, verification_uri ${verificationUri}`);

  // 2-5. The user's part, in a "browser".
  await approve(verificationUri, userCode);

  // 6. Meanwhile the device polls the token endpoint.
  const deadline = Date.now() + 60000;
  let tokens;
  for (;;) {
    const t = await postJSON(disc.token_endpoint, {
      grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: deviceCode, client_id: opts.clientId,
    });
    if (t.status === 200) { tokens = t.json; break; }
    if (t.json.error !== 'authorization_pending' && t.json.error !== 'slow_down') fail(`token request failed: ${JSON.stringify(t.json)}`);
    if (Date.now() > deadline) fail('timed out polling the token endpoint');
    await new Promise((r) => { setTimeout(r, interval * 1000); });
  }

  // Optional: one refresh_token grant.
  if (opts.refresh) {
    if (!tokens.refresh_token) fail('no refresh_token to refresh with');
    const r = await postJSON(disc.token_endpoint, {
      grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: opts.clientId,
    });
    if (r.status !== 200) fail(`refresh failed: ${JSON.stringify(r.json)}`);
    tokens.refreshed = r.json;
  }

  process.stdout.write(`${JSON.stringify(tokens)}\n`);
}

main().catch((e) => fail(e && e.stack ? e.stack : String(e)));
