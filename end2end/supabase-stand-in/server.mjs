// A loopback stand-in for a Supabase project's Auth API (GoTrue), for the browser tests: no
// Supabase project is reachable from the test machine. It serves exactly the documented requests
// Kros Numbers makes, with the documented answers:
//
//   GET  /auth/v1/.well-known/jwks.json              {"keys": [ES256 JWK with kid, alg, use]}
//   POST /auth/v1/token?grant_type=password           {email, password} -> a session
//   POST /auth/v1/token?grant_type=refresh_token      {refresh_token}   -> a new session
//   POST /auth/v1/logout?scope=local                  Bearer access token -> 204
//
// Every call needs the project's publishable key in `apikey`. Access tokens are ES256 JWTs with
// Supabase's claims (iss <url>/auth/v1, aud and role authenticated, session_id...), signed with a
// key made at start. Refresh tokens are single use (a used one is accepted again within 10 s,
// Supabase's reuse interval); logout revokes the session's refresh tokens. Errors have Supabase's
// current shape: {"code", "error_code", "msg"}.
//
// One endpoint is the stand-in's own, for the tests to see what happened:
//   GET  /__stand-in/calls      [{"path", "grant_type"}...]
//
//   node server.mjs PORT   (STAND_IN_TOKEN_SECONDS: access token lifetime, default 3600)

import { createServer } from 'node:http';
import { generateKeyPairSync, randomBytes, randomUUID, sign, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';

const port = Number(process.argv[2] ?? 3190);
const base = `http://127.0.0.1:${port}`;
const issuer = `${base}/auth/v1`;
const project = JSON.parse(readFileSync(new URL('./project.json', import.meta.url), 'utf8'));
const tokenSeconds = Number(process.env.STAND_IN_TOKEN_SECONDS ?? 3600);
const REUSE_INTERVAL_MS = 10_000;

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const kid = randomUUID();
const jwk = { ...publicKey.export({ format: 'jwk' }), kid, alg: 'ES256', use: 'sig', key_ops: ['verify'], ext: true };

/** refresh token -> { sessionId, user, revoked, usedAt } */
const refreshTokens = new Map();
const calls = [];

const b64 = (data) => Buffer.from(data).toString('base64url');

function accessToken(user, sessionId) {
  const now = Math.floor(Date.now() / 1000);
  const header = { alg: 'ES256', typ: 'JWT', kid };
  const claims = {
    iss: issuer, sub: user.id, aud: 'authenticated', exp: now + tokenSeconds, iat: now,
    email: user.email, phone: '', app_metadata: { provider: 'email', providers: ['email'] },
    user_metadata: {}, role: 'authenticated', aal: 'aal1',
    amr: [{ method: 'password', timestamp: now }], session_id: sessionId, is_anonymous: false,
  };
  const input = `${b64(JSON.stringify(header))}.${b64(JSON.stringify(claims))}`;
  const signature = sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' });
  return `${input}.${b64(signature)}`;
}

/** The claims of an access token this project signed and that has not expired, or null. */
function verifiedClaims(token) {
  const [header, claims, signature] = (token ?? '').split('.');
  if (!signature) return null;
  const ok = verify('sha256', Buffer.from(`${header}.${claims}`), { key: publicKey, dsaEncoding: 'ieee-p1363' },
    Buffer.from(signature, 'base64url'));
  if (!ok) return null;
  const parsed = JSON.parse(Buffer.from(claims, 'base64url').toString());
  return parsed.exp > Date.now() / 1000 ? parsed : null;
}

function session(user, sessionId) {
  const refresh = randomBytes(9).toString('base64url');
  refreshTokens.set(refresh, { sessionId, user, revoked: false, usedAt: null });
  const now = Math.floor(Date.now() / 1000);
  return {
    access_token: accessToken(user, sessionId), token_type: 'bearer', expires_in: tokenSeconds,
    expires_at: now + tokenSeconds, refresh_token: refresh,
    user: { id: user.id, aud: 'authenticated', role: 'authenticated', email: user.email },
  };
}

const error = (status, errorCode, msg) => [status, { code: status, error_code: errorCode, msg }];

function passwordGrant(body) {
  const user = project.users.find((u) => u.email === body.email && u.password === body.password);
  if (!user) return error(400, 'invalid_credentials', 'Invalid login credentials');
  return [200, session(user, randomUUID())];
}

function refreshGrant(body) {
  const entry = refreshTokens.get(body.refresh_token);
  if (!entry || entry.revoked) return error(400, 'refresh_token_not_found', 'Invalid Refresh Token: Refresh Token Not Found');
  if (entry.usedAt !== null && Date.now() - entry.usedAt > REUSE_INTERVAL_MS) {
    return error(400, 'refresh_token_already_used', 'Invalid Refresh Token: Already Used');
  }
  entry.usedAt ??= Date.now();
  return [200, session(entry.user, entry.sessionId)];
}

function logout(authorization) {
  const claims = verifiedClaims((authorization ?? '').replace(/^Bearer /i, ''));
  if (!claims) return error(403, 'bad_jwt', 'invalid JWT: unable to parse or verify signature');
  for (const entry of refreshTokens.values()) {
    if (entry.sessionId === claims.session_id) entry.revoked = true;
  }
  return [204, null];
}

async function route(req, url) {
  if (req.method === 'GET' && url.pathname === '/auth/v1/.well-known/jwks.json') return [200, { keys: [jwk] }];
  if (req.method === 'GET' && url.pathname === '/auth/v1/health') return [200, { name: 'GoTrue (stand-in)' }];
  if (req.method === 'GET' && url.pathname === '/__stand-in/calls') return [200, calls];
  if (req.headers.apikey !== project.publishable_key) {
    return [401, { message: 'Invalid API key', hint: 'Double check your Supabase `anon` or `service_role` API key.' }];
  }
  let body = {};
  try {
    const text = await new Promise((resolve) => {
      let data = '';
      req.on('data', (chunk) => (data += chunk));
      req.on('end', () => resolve(data));
    });
    body = text ? JSON.parse(text) : {};
  } catch {
    return error(400, 'bad_json', 'Could not parse request body as JSON');
  }
  const grantType = url.searchParams.get('grant_type');
  if (req.method === 'POST' && url.pathname === '/auth/v1/token') {
    calls.push({ path: url.pathname, grant_type: grantType });
    if (grantType === 'password') return passwordGrant(body);
    if (grantType === 'refresh_token') return refreshGrant(body);
    return error(400, 'unsupported_grant_type', 'unsupported_grant_type');
  }
  if (req.method === 'POST' && url.pathname === '/auth/v1/logout') {
    calls.push({ path: url.pathname, scope: url.searchParams.get('scope') });
    return logout(req.headers.authorization);
  }
  return error(404, 'not_found', 'Not Found');
}

createServer(async (req, res) => {
  const [status, body] = await route(req, new URL(req.url, base));
  res.writeHead(status, body === null ? {} : { 'content-type': 'application/json' });
  res.end(body === null ? undefined : JSON.stringify(body));
}).listen(port, '127.0.0.1', () => console.log(`Supabase Auth stand-in on ${base}`));
