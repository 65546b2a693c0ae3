#!/usr/bin/env node
'use strict';
// A real OpenID Connect provider (npm `oidc-provider` 9.x) for warden's
// integration tests. See tests/node/OIDC.md for the full description.
//
//   node tests/node/oidc_provider.js --port P [--state-dir DIR] [--alg RS256|ES256|EdDSA]
//        [--user carol] [--groups dev,oncall] [--account NAME=g1,g2 ...]
//
// Listens on 127.0.0.1:P only (P may be 0: an ephemeral port is picked and the
// issuer uses it). Issuer is exactly "http://127.0.0.1:P". When ready, prints ONE
// line of JSON to stdout ({"issuer","jwks_uri","token_endpoint",
// "device_authorization_endpoint","admin_uri","signing_kid","alg"}); all logs
// go to stderr.
//
// Admin API (same port, under /admin/, loopback only) for key rotation:
//   GET    /admin/keys                      -> {signing_kid, keys:[{kid,alg,kty,crv,signing}]}
//   POST   /admin/keys/rotate[?alg=A][&remove=previous|others|KID]
//                                           -> new key (new kid) becomes the signing key
//   POST   /admin/keys/add[?alg=A]          -> new key published in JWKS, not signing
//   POST   /admin/keys/activate?kid=K       -> existing key K becomes the signing key
//   POST   /admin/keys/remove?kid=K  (or DELETE /admin/keys/K)
//                                           -> K removed from JWKS (not the signing key)
// oidc-provider fixes its keystore at construction, so every change builds a
// fresh Provider instance with the new key set and swaps it in atomically.
// An in-memory adapter shared by all those instances keeps grants, device
// codes, sessions and refresh tokens across a rotation (not across restarts). With --state-dir the key
// set is written to DIR/keys.json and reused on the next start.

const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const querystring = require('node:querystring');

// oidc-provider prints its notices with console.info (stdout); stdout is
// reserved for the ready line, so send every console output to stderr.
for (const m of ['log', 'info', 'debug']) console[m] = console.error.bind(console);

const RESOURCE = 'urn:warden:gateway';
const ALGS = ['RS256', 'ES256', 'EdDSA'];
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

function die(msg) {
  process.stderr.write(`oidc_provider: ${msg}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const o = {
    port: undefined, stateDir: undefined, alg: 'RS256', user: 'carol', groups: ['dev', 'oncall'], accounts: {},
  };
  const need = (i) => {
    if (i + 1 >= argv.length) die(`${argv[i]} needs a value`);
    return argv[i + 1];
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    switch (a) {
      case '--port': o.port = Number(need(i)); i++; break;
      case '--state-dir': o.stateDir = need(i); i++; break;
      case '--alg': o.alg = need(i); i++; break;
      case '--user': o.user = need(i); i++; break;
      case '--groups': o.groups = splitGroups(need(i)); i++; break;
      case '--account': {
        const v = need(i); i++;
        const eq = v.indexOf('=');
        if (eq <= 0) die(`--account wants NAME=g1,g2, got ${v}`);
        o.accounts[v.slice(0, eq)] = splitGroups(v.slice(eq + 1));
        break;
      }
      case '-h': case '--help':
        process.stderr.write('usage: oidc_provider.js --port P [--state-dir DIR] [--alg RS256|ES256|EdDSA] '
          + '[--user NAME] [--groups g1,g2] [--account NAME=g1,g2 ...]\n');
        process.exit(0);
        break;
      default: die(`unknown argument ${a}`);
    }
  }
  if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535) die('--port P is required (0..65535)');
  if (!ALGS.includes(o.alg)) die(`--alg must be one of ${ALGS.join(', ')}`);
  // carol always exists; the default token user too.
  o.accounts = { carol: ['dev', 'oncall'], [o.user]: o.groups, ...o.accounts };
  return o;
}

function splitGroups(v) {
  if (Array.isArray(v)) return v.flatMap(splitGroups);
  return String(v).split(',').map((s) => s.trim()).filter(Boolean);
}

// ---------------------------------------------------------------- keys

function generateKey(alg) {
  let kp;
  switch (alg) {
    case 'RS256': kp = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }); break;
    case 'ES256': kp = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }); break;
    case 'EdDSA': kp = crypto.generateKeyPairSync('ed25519'); break;
    default: throw new Error(`unsupported alg ${alg}`);
  }
  const jwk = kp.privateKey.export({ format: 'jwk' });
  const stamp = new Date().toISOString().replace(/[-:]/g, '').slice(0, 15); // 20250101T120000
  jwk.kid = `${alg.toLowerCase()}-${stamp}-${crypto.randomBytes(4).toString('hex')}`;
  jwk.alg = alg;
  jwk.use = 'sig';
  return jwk;
}

class KeySet {
  constructor(file) {
    this.file = file;
    this.keys = [];
    this.signing = undefined;
  }

  load() {
    if (!this.file || !fs.existsSync(this.file)) return false;
    const st = JSON.parse(fs.readFileSync(this.file, 'utf8'));
    if (!Array.isArray(st.keys) || !st.keys.length) throw new Error(`${this.file}: no keys`);
    this.keys = st.keys;
    this.signing = st.signing && this.find(st.signing) ? st.signing : st.keys[0].kid;
    return true;
  }

  save() {
    if (!this.file) return;
    const tmp = `${this.file}.tmp.${process.pid}`;
    fs.writeFileSync(tmp, `${JSON.stringify({ version: 1, signing: this.signing, keys: this.keys }, null, 2)}\n`, { mode: 0o600 });
    fs.renameSync(tmp, this.file);
  }

  find(kid) { return this.keys.find((k) => k.kid === kid); }

  signingKey() { return this.find(this.signing); }

  // Signing key first: oidc-provider picks the first key matching an alg (ID
  // tokens); JWT access tokens name the kid explicitly (getResourceServerInfo).
  ordered() {
    const s = this.signingKey();
    return [s, ...this.keys.filter((k) => k !== s)];
  }

  clone() {
    const c = new KeySet(this.file);
    c.keys = [...this.keys];
    c.signing = this.signing;
    return c;
  }

  summary() {
    return {
      signing_kid: this.signing,
      keys: this.ordered().map((k) => ({
        kid: k.kid, alg: k.alg, kty: k.kty, crv: k.crv, signing: k.kid === this.signing,
      })),
    };
  }
}

// ---------------------------------------------------------------- storage

// In-memory adapter shared by every Provider instance of this process, so a
// key rotation (= a new Provider) keeps sessions, grants, device codes and
// refresh tokens. (oidc-provider's own memory adapter is per instance.)
const store = new Map(); // key -> { payload, exp (ms epoch or Infinity) }
const GRANTABLE = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest']);

function sget(key) {
  const e = store.get(key);
  if (!e) return undefined;
  if (e.exp <= Date.now()) { store.delete(key); return undefined; }
  return e.payload;
}

function sset(key, payload, expiresIn) {
  store.set(key, { payload, exp: typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : Infinity });
}

class SharedAdapter {
  constructor(model) { this.model = model; }

  key(id) { return `${this.model}:${id}`; }

  async upsert(id, payload, expiresIn) {
    const key = this.key(id);
    if (this.model === 'Session') sset(`sessionUid:${payload.uid}`, id, expiresIn);
    if (GRANTABLE.has(this.model) && payload.grantId) {
      const gk = `grant:${payload.grantId}`;
      const members = sget(gk) || [];
      if (!members.includes(key)) members.push(key);
      sset(gk, members, Math.max(expiresIn || 0, 14 * 24 * 3600));
    }
    if (payload.userCode) sset(`userCode:${payload.userCode}`, id, expiresIn);
    sset(key, payload, expiresIn);
  }

  async find(id) { return sget(this.key(id)); }

  async findByUid(uid) {
    const id = sget(`sessionUid:${uid}`);
    return id === undefined ? undefined : this.find(id);
  }

  async findByUserCode(userCode) {
    const id = sget(`userCode:${userCode}`);
    return id === undefined ? undefined : this.find(id);
  }

  async consume(id) {
    const p = sget(this.key(id));
    if (p) p.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id) { store.delete(this.key(id)); }

  async revokeByGrantId(grantId) {
    const gk = `grant:${grantId}`;
    for (const k of sget(gk) || []) store.delete(k);
    store.delete(gk);
  }
}

// Drop expired entries now and then (tests are short-lived; this only
// bounds memory for long runs).
setInterval(() => { for (const k of store.keys()) sget(k); }, 60000).unref();

// ---------------------------------------------------------------- provider

function bodyOf(ctx) {
  return (ctx && ctx.oidc && ctx.oidc.body) || {};
}

function buildConfig(opts, keyset, cookieSecret, errors) {
  const signing = keyset.signingKey();

  const groupsFor = (user) => (Object.prototype.hasOwnProperty.call(opts.accounts, user) ? opts.accounts[user] : []);

  const ttlFromBody = (ctx) => {
    const v = Number(bodyOf(ctx).ttl);
    return Number.isInteger(v) && v > 0 ? v : undefined;
  };

  return {
    adapter: SharedAdapter,
    clients: [
      {
        client_id: 'warden-test',
        client_secret: 'warden-test-secret',
        client_name: 'warden integration tests',
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        token_endpoint_auth_method: 'client_secret_basic',
      },
      {
        client_id: 'warden-cli',
        client_name: 'warden CLI',
        application_type: 'native',
        grant_types: [DEVICE_GRANT, 'refresh_token'],
        response_types: [],
        redirect_uris: [],
        token_endpoint_auth_method: 'none',
        id_token_signed_response_alg: signing.alg,
      },
    ],
    clientDefaults: {
      grant_types: ['authorization_code'],
      id_token_signed_response_alg: signing.alg,
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
    jwks: { keys: keyset.ordered() },
    cookies: { keys: [cookieSecret] },
    scopes: ['openid', 'offline_access', 'profile', 'groups'],
    claims: {
      openid: ['sub'],
      profile: ['preferred_username', 'name'],
      groups: ['groups'],
    },
    async findAccount(ctx, sub) {
      return {
        accountId: sub,
        async claims() {
          return {
            sub, preferred_username: sub, name: sub, groups: groupsFor(sub),
          };
        },
      };
    },
    // Claims on access tokens. Client credentials: the token's "user" comes
    // from the token request body (user=, groups=) or the --user/--groups
    // defaults. Device flow / refresh: the logged-in account.
    async extraTokenClaims(ctx, token) {
      if (token.kind === 'ClientCredentials') {
        const body = bodyOf(ctx);
        let user = opts.user;
        let groups = opts.groups;
        if (typeof body.user === 'string' && body.user) {
          user = body.user;
          groups = groupsFor(user);
        }
        if (body.groups !== undefined) groups = splitGroups(body.groups);
        return { preferred_username: user, groups };
      }
      if (token.accountId) {
        return { preferred_username: token.accountId, groups: groupsFor(token.accountId) };
      }
      return undefined;
    },
    features: {
      devInteractions: { enabled: true },
      clientCredentials: { enabled: true },
      deviceFlow: { enabled: true },
      introspection: { enabled: true },
      revocation: { enabled: true },
      resourceIndicators: {
        enabled: true,
        async defaultResource(ctx, client, oneOf) {
          if (oneOf) return oneOf.includes(RESOURCE) ? RESOURCE : oneOf[0];
          return RESOURCE;
        },
        async useGrantedResource() { return true; },
        async getResourceServerInfo(ctx, resourceIndicator) {
          if (resourceIndicator !== RESOURCE) throw new errors.InvalidTarget();
          return {
            scope: 'gateway',
            audience: RESOURCE,
            accessTokenFormat: 'jwt',
            accessTokenTTL: ttlFromBody(ctx) || 600,
            jwt: { sign: { alg: signing.alg, kid: signing.kid } },
          };
        },
      },
    },
    ttl: {
      AccessToken: (ctx, token) => token.resourceServer?.accessTokenTTL || 600,
      ClientCredentials: (ctx, token) => token.resourceServer?.accessTokenTTL || 600,
      AuthorizationCode: 60,
      DeviceCode: 600,
      IdToken: 3600,
      Interaction: 3600,
      Grant: 14 * 24 * 3600,
      Session: 14 * 24 * 3600,
      RefreshToken: 14 * 24 * 3600,
    },
    async renderError(ctx, out) {
      ctx.type = 'json';
      ctx.body = out;
    },
  };
}

// ---------------------------------------------------------------- admin

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      if (!raw) return resolve({});
      try {
        if ((req.headers['content-type'] || '').includes('json')) return resolve(JSON.parse(raw));
        return resolve(querystring.parse(raw));
      } catch (e) { return reject(e); }
    });
    req.on('error', reject);
  });
}

function send(res, status, obj) {
  const s = `${JSON.stringify(obj)}\n`;
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(s) });
  res.end(s);
}

class HttpError extends Error {
  constructor(status, msg) { super(msg); this.status = status; }
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  // oidc-provider 9 targets Node 22 LTS (on Node 20 it only prints an
  // "Unsupported runtime" warning) but calls URL.parse and crypto.hash, which
  // Node 20 has from 20.18 on.
  if (typeof URL.parse !== 'function' || typeof crypto.hash !== 'function') {
    die(`node ${process.version} is too old for oidc-provider 9 (needs URL.parse and crypto.hash: node >= 20.18)`);
  }
  const { Provider, errors } = await import('oidc-provider');

  let keyFile;
  let cookieSecret = crypto.randomBytes(32).toString('hex');
  if (opts.stateDir) {
    fs.mkdirSync(opts.stateDir, { recursive: true, mode: 0o700 });
    keyFile = path.join(opts.stateDir, 'keys.json');
    const cf = path.join(opts.stateDir, 'cookie-secret');
    if (fs.existsSync(cf)) cookieSecret = fs.readFileSync(cf, 'utf8').trim();
    else fs.writeFileSync(cf, `${cookieSecret}\n`, { mode: 0o600 });
  }

  let keyset = new KeySet(keyFile);
  if (keyset.load()) {
    const s = keyset.signingKey();
    if (s.alg !== opts.alg && process.argv.includes('--alg')) {
      process.stderr.write(`oidc_provider: note: ${keyFile} signs with ${s.alg}; --alg ${opts.alg} ignored (rotate with ?alg= or delete the state dir)\n`);
    }
  } else {
    const k = generateKey(opts.alg);
    keyset.keys = [k];
    keyset.signing = k.kid;
    keyset.save();
  }

  let current; // { provider, handler, keyset }
  let issuer;

  function install(ks) {
    const provider = new Provider(issuer, buildConfig(opts, ks, cookieSecret, errors));
    provider.on('server_error', (ctx, err) => process.stderr.write(`oidc_provider: server_error: ${err && err.stack}\n`));
    current = { provider, handler: provider.callback(), keyset: ks };
  }

  // Apply a key-set change: build and swap the provider, then persist.
  function commit(ks) {
    install(ks);
    keyset = ks;
    keyset.save();
    process.stderr.write(`oidc_provider: keys now ${JSON.stringify(keyset.summary())}\n`);
  }

  async function admin(req, res, url) {
    const p = url.pathname.replace(/\/+$/, '');
    const params = { ...Object.fromEntries(url.searchParams), ...(req.method === 'GET' ? {} : await readBody(req)) };
    const algOf = () => {
      const a = params.alg || keyset.signingKey().alg;
      if (!ALGS.includes(a)) throw new HttpError(400, `alg must be one of ${ALGS.join(', ')}`);
      return a;
    };
    const needKid = (kid) => {
      if (!kid) throw new HttpError(400, 'kid is required');
      if (!keyset.find(kid)) throw new HttpError(404, `unknown kid ${kid}`);
      return kid;
    };
    const removeKid = (ks, kid) => {
      if (kid === ks.signing) throw new HttpError(409, `kid ${kid} is the signing key; activate or rotate to another key first`);
      ks.keys = ks.keys.filter((k) => k.kid !== kid);
    };

    if (req.method === 'GET' && (p === '/admin' || p === '/admin/keys')) {
      return send(res, 200, keyset.summary());
    }
    if (req.method === 'GET' && p === '/admin/health') {
      return send(res, 200, { ok: true, issuer });
    }
    if (req.method === 'POST' && p === '/admin/keys/rotate') {
      const ks = keyset.clone();
      const previous = ks.signing;
      const k = generateKey(algOf());
      ks.keys.push(k);
      ks.signing = k.kid;
      const removed = [];
      if (params.remove === 'previous') {
        removeKid(ks, previous); removed.push(previous);
      } else if (params.remove === 'others' || params.remove === 'all') {
        for (const o of ks.keys.filter((x) => x.kid !== k.kid)) { removeKid(ks, o.kid); removed.push(o.kid); }
      } else if (params.remove) {
        needKid(params.remove); removeKid(ks, params.remove); removed.push(params.remove);
      }
      commit(ks);
      return send(res, 200, {
        kid: k.kid, alg: k.alg, previous_kid: previous, removed, ...keyset.summary(),
      });
    }
    if (req.method === 'POST' && p === '/admin/keys/add') {
      const ks = keyset.clone();
      const k = generateKey(algOf());
      ks.keys.push(k);
      commit(ks);
      return send(res, 200, { kid: k.kid, alg: k.alg, ...keyset.summary() });
    }
    if (req.method === 'POST' && p === '/admin/keys/activate') {
      const ks = keyset.clone();
      const previous = ks.signing;
      ks.signing = needKid(params.kid);
      commit(ks);
      return send(res, 200, { kid: ks.signing, previous_kid: previous, ...keyset.summary() });
    }
    const del = p.match(/^\/admin\/keys\/([^/]+)$/);
    if ((req.method === 'POST' && p === '/admin/keys/remove') || (req.method === 'DELETE' && del)) {
      const kid = needKid(req.method === 'DELETE' ? decodeURIComponent(del[1]) : params.kid);
      const ks = keyset.clone();
      removeKid(ks, kid);
      commit(ks);
      return send(res, 200, { removed: [kid], ...keyset.summary() });
    }
    throw new HttpError(404, `no admin route ${req.method} ${url.pathname}`);
  }

  const server = http.createServer((req, res) => {
    let url;
    try { url = new URL(req.url, 'http://127.0.0.1'); } catch { return send(res, 400, { error: 'bad url' }); }
    if (url.pathname === '/admin' || url.pathname.startsWith('/admin/')) {
      admin(req, res, url).catch((e) => send(res, e.status || 500, { error: e.message }));
      return undefined;
    }
    if (!current) return send(res, 503, { error: 'starting' });
    return current.handler(req, res);
  });

  server.on('error', (e) => die(`listen: ${e.message}`));
  await new Promise((resolve) => server.listen(opts.port, '127.0.0.1', resolve));
  const { port } = server.address();
  issuer = `http://127.0.0.1:${port}`;
  install(keyset);

  // Take the endpoints from our own discovery document, so the ready line
  // shows what clients will see.
  const disc = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json();
  const ready = {
    issuer: disc.issuer,
    jwks_uri: disc.jwks_uri,
    token_endpoint: disc.token_endpoint,
    device_authorization_endpoint: disc.device_authorization_endpoint,
    admin_uri: `${issuer}/admin`,
    signing_kid: keyset.signing,
    alg: keyset.signingKey().alg,
  };
  process.stdout.write(`${JSON.stringify(ready)}\n`);

  const stop = (sig) => {
    process.stderr.write(`oidc_provider: ${sig}, exiting\n`);
    server.close();
    server.closeAllConnections?.();
    process.exit(0);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((e) => die(e && e.stack ? e.stack : String(e)));
