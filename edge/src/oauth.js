// POST /oauth/token: the client-credentials grant for each tenant's machine-to-machine clients.
import { audienceOf, issuerOf, jobsStub, tenantConfig, tenantOfAudience, tokenSeconds } from './config.js';
import { isForm, json, oauthError, readText } from './http.js';

const enc = new TextEncoder();

/** The request's parameters: form or JSON body, and HTTP Basic client authentication. */
function params(request, text) {
  let p = {};
  if (isForm(request)) p = Object.fromEntries(new URLSearchParams(text));
  else if (text.trim() !== '') {
    try {
      const v = JSON.parse(text);
      if (v && typeof v === 'object' && !Array.isArray(v)) p = v;
      else return null;
    } catch {
      return null;
    }
  }
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(request.headers.get('authorization') ?? '');
  if (basic) {
    let decoded;
    try {
      decoded = atob(basic[1]);
    } catch {
      return null;
    }
    const at = decoded.indexOf(':');
    if (at < 0) return null;
    try {
      p.client_id = decodeURIComponent(decoded.slice(0, at));
      p.client_secret = decodeURIComponent(decoded.slice(at + 1));
    } catch {
      return null;
    }
  }
  // Only strings count: a number, array or object where a string belongs is a missing parameter.
  const out = {};
  for (const k of ['grant_type', 'client_id', 'client_secret', 'audience', 'scope']) {
    if (typeof p[k] === 'string' && p[k] !== '') out[k] = p[k];
  }
  return out;
}

async function sha256(text) {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', enc.encode(text)));
}

/** Whether `secret` hashes to the stored hex digest; the comparison takes the same time either way. */
async function secretMatches(secret, storedHex) {
  const got = await sha256(secret);
  const want = new Uint8Array(32);
  const ok = typeof storedHex === 'string' && /^[0-9a-f]{64}$/i.test(storedHex);
  if (ok) for (let i = 0; i < 32; i++) want[i] = parseInt(storedHex.slice(i * 2, i * 2 + 2), 16);
  return crypto.subtle.timingSafeEqual(got, want) && ok;
}

const scopeList = (s) => (Array.isArray(s) ? s.filter((x) => typeof x === 'string') : typeof s === 'string' ? s.split(' ').filter(Boolean) : []);

export async function issueToken(request, env, nowMs) {
  const read = await readText(request);
  if (read.response) return read.response;
  const p = params(request, read.text);
  if (!p) return oauthError(400, 'invalid_request', 'The request body is not valid JSON or form data.');
  for (const k of ['grant_type', 'client_id']) {
    if (!p[k]) return oauthError(400, 'invalid_request', `Missing required parameter: ${k}`);
  }
  if (p.grant_type !== 'client_credentials') {
    return oauthError(400, 'unsupported_grant_type', `Unsupported grant type: ${p.grant_type}`);
  }
  if (!p.audience) return oauthError(403, 'access_denied', 'No audience parameter was provided.');
  const target = tenantOfAudience(env, p.audience);
  if (!target) return oauthError(403, 'access_denied', `Service not found: ${p.audience}`);
  const { tenant } = target;
  const clients = tenantConfig(env, tenant).clients ?? {};
  const client = Object.hasOwn(clients, p.client_id) ? clients[p.client_id] : null;
  // The hash is computed for unknown clients too, so a wrong id and a wrong secret look alike.
  const matches = await secretMatches(p.client_secret ?? '', client?.secret_sha256);
  if (!client || !p.client_secret || !matches) return oauthError(401, 'access_denied', 'Unauthorized');
  const granted = scopeList(client.scopes);
  if (granted.length === 0) {
    return oauthError(403, 'access_denied', `Client is not authorized to access "${audienceOf(env, tenant)}".`);
  }
  let scopes = granted;
  if (p.scope) {
    scopes = [...new Set(scopeList(p.scope))];
    const missing = scopes.filter((s) => !granted.includes(s));
    if (missing.length) return oauthError(403, 'access_denied', `Client has not been granted scopes: ${missing.join(' ')}`);
  }
  const lifetime = tokenSeconds(env, tenant);
  const iat = Math.floor(nowMs / 1000);
  const claims = {
    iss: issuerOf(env, tenant),
    sub: `${p.client_id}@clients`,
    aud: audienceOf(env, tenant),
    iat,
    exp: iat + lifetime,
    scope: scopes.join(' '),
    gty: 'client-credentials',
    azp: p.client_id,
  };
  const accessToken = await jobsStub(env, tenant).issueToken(claims);
  return json(200, { access_token: accessToken, scope: claims.scope, expires_in: lifetime, token_type: 'Bearer' }, { pragma: 'no-cache' });
}
