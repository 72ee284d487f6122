// HS256 JSON Web Tokens and base64url with Web Crypto only, shared by the Worker (verify) and Node tools (mint).

const enc = new TextEncoder();
const dec = new TextDecoder();

export function b64url(bytes) {
  let bin = '';
  for (let i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Decodes base64url; null for anything that is not strictly base64url. */
export function fromB64url(text) {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) return null;
  const bin = atob(text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function hmacKey(secret) {
  return crypto.subtle.importKey('raw', enc.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
}

export async function hmacSign(key, text) {
  return new Uint8Array(await crypto.subtle.sign('HMAC', key, enc.encode(text)));
}

/** Constant-time check (crypto.subtle.verify), so a forger learns nothing from timing. */
export function hmacVerify(key, signature, text) {
  return crypto.subtle.verify('HMAC', key, signature, enc.encode(text));
}

export async function signJwt(claims, secret) {
  const head = b64url(enc.encode(JSON.stringify({ alg: 'HS256', typ: 'JWT' })));
  const body = b64url(enc.encode(JSON.stringify(claims)));
  const sig = await hmacSign(await hmacKey(secret), `${head}.${body}`);
  return `${head}.${body}.${b64url(sig)}`;
}

/**
 * Checks an HS256 token. Returns `{claims}` or `{fail}` where fail is "malformed" (not a JWT,
 * or not HS256: no algorithm confusion), "signature" or "expired".
 */
export async function verifyJwt(token, secret, nowSeconds) {
  const parts = token.split('.');
  if (parts.length !== 3) return { fail: 'malformed' };
  let header;
  let claims;
  try {
    header = JSON.parse(dec.decode(fromB64url(parts[0]) ?? new Uint8Array([0])));
    claims = JSON.parse(dec.decode(fromB64url(parts[1]) ?? new Uint8Array([0])));
  } catch {
    return { fail: 'malformed' };
  }
  if (!header || header.alg !== 'HS256' || !claims || typeof claims !== 'object' || Array.isArray(claims)) {
    return { fail: 'malformed' };
  }
  const sig = fromB64url(parts[2]);
  if (!sig || !(await hmacVerify(await hmacKey(secret), sig, `${parts[0]}.${parts[1]}`))) return { fail: 'signature' };
  if (claims.exp !== undefined && !(typeof claims.exp === 'number' && nowSeconds < claims.exp)) return { fail: 'expired' };
  return { claims };
}
