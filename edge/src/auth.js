// Bearer tokens as Auth0 makes them: RS256 from the tenant's JWKS (jose), iss/aud/exp required, nbf/iat honoured.
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, errors, jwtVerify } from 'jose';
import { CLOCK_SKEW_SECONDS, issuerOf, jobsStub, tenantOfAudience } from './config.js';
import { apiError, unauthorized } from './http.js';

const INVALID = 'Invalid token';
const BAD_SIGNATURE = 'Invalid signature received for JSON Web Token validation';
const EXPIRED = 'Expired token received for JSON Web Token validation';

/** What a token's header and claims say before anything is checked, or null when it is no JWT. */
function peek(token) {
  try {
    return { header: decodeProtectedHeader(token), claims: decodeJwt(token) };
  } catch {
    return null;
  }
}

/**
 * The verification key: the tenant's JWKS (RS256), or, only when DEV_HS256_SECRET is set (local
 * development), that secret for a token whose header says HS256.
 */
async function keyFor(env, tenant, header) {
  if (header.alg === 'HS256' && env.DEV_HS256_SECRET) {
    return { key: new TextEncoder().encode(env.DEV_HS256_SECRET), algorithms: ['HS256'] };
  }
  return { key: createLocalJWKSet(await jobsStub(env, tenant).jwks()), algorithms: ['RS256'] };
}

/**
 * Checks the request's bearer token. Returns `{tenant, claims}` or `{response}` (401, or 403 for
 * an audience the Worker does not serve or a missing scope). `scopes.anyOf` / `scopes.allOf`.
 */
export async function authenticate(request, env, nowMs, scopes) {
  const header = request.headers.get('authorization');
  if (header === null) return { response: unauthorized(null) };
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!m) return { response: unauthorized('Bad HTTP authentication header format') };
  const token = m[1];
  const seen = peek(token);
  if (!seen || seen.claims.aud === undefined) return { response: unauthorized(INVALID) };
  // The audience picks the tenant, and only that tenant's keys can make the token valid.
  const target = tenantOfAudience(env, seen.claims.aud);
  if (!target) {
    const aud = Array.isArray(seen.claims.aud) ? seen.claims.aud.join(' ') : String(seen.claims.aud);
    return { response: apiError(403, `Service not enabled within domain: ${aud}`) };
  }
  const { tenant, audience } = target;
  let claims;
  try {
    const { key, algorithms } = await keyFor(env, tenant, seen.header);
    ({ payload: claims } = await jwtVerify(token, key, {
      algorithms,
      issuer: issuerOf(env, tenant),
      audience,
      requiredClaims: ['exp'],
      clockTolerance: CLOCK_SKEW_SECONDS,
      currentDate: new Date(nowMs),
    }));
  } catch (e) {
    if (e instanceof errors.JWTExpired) return { response: unauthorized(EXPIRED) };
    if (e instanceof errors.JWSSignatureVerificationFailed || e instanceof errors.JWKSNoMatchingKey) {
      return { response: unauthorized(BAD_SIGNATURE) };
    }
    return { response: unauthorized(INVALID) };
  }
  // jose checks `iat` only against a maximum age; a token issued in the future is refused here.
  if (typeof claims.iat === 'number' && claims.iat > nowMs / 1000 + CLOCK_SKEW_SECONDS) return { response: unauthorized(INVALID) };
  const granted = typeof claims.scope === 'string' ? claims.scope.split(' ') : [];
  if (scopes.allOf && !scopes.allOf.every((s) => granted.includes(s))) {
    return { response: apiError(403, `Insufficient scope, expected all of: ${scopes.allOf.join(',')}`, 'insufficient_scope') };
  }
  if (scopes.anyOf && !scopes.anyOf.some((s) => granted.includes(s))) {
    return { response: apiError(403, `Insufficient scope, expected any of: ${scopes.anyOf.join(',')}`, 'insufficient_scope') };
  }
  return { tenant, claims };
}
