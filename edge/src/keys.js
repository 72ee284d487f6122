// A tenant's keys: RS256 key pairs that sign its access tokens (public halves in its JWKS), and the HMAC key of its download links.
import { SignJWT, calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK } from 'jose';

const enc = new TextEncoder();

/** A new RS256 key pair as JWKs, named by the RFC 7638 thumbprint of its public half. */
export async function newSigningKey(nowMs) {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
  const pub = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(pub);
  return {
    kid,
    createdMs: nowMs,
    privateJwk: { ...(await exportJWK(privateKey)), kid, alg: 'RS256' },
    publicJwk: { kty: pub.kty, n: pub.n, e: pub.e, kid, alg: 'RS256', use: 'sig' },
  };
}

/** Signs access-token claims with a stored key; the header names the key so verifiers can pick it. */
export async function signAccessToken(key, claims) {
  const privateKey = await importJWK(key.privateJwk, 'RS256');
  return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: key.kid }).sign(privateKey);
}

/** 32 random bytes: the HMAC-SHA256 key of a tenant's download links, never used for anything else. */
export function newLinkKey() {
  return crypto.getRandomValues(new Uint8Array(32));
}

function hmacKey(raw) {
  return crypto.subtle.importKey('raw', raw, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
}

/** The text a link's signature covers: a prefix, the path (job, tenant, format) and the expiry. */
const linkText = (path, expires) => enc.encode(`userexport-download\n${path}\n${expires}`);

export async function signLink(raw, path, expires) {
  return new Uint8Array(await crypto.subtle.sign('HMAC', await hmacKey(raw), linkText(path, expires)));
}

/** Constant-time check (crypto.subtle.verify), so a forger learns nothing from timing. */
export async function verifyLink(raw, path, expires, signature) {
  return crypto.subtle.verify('HMAC', await hmacKey(raw), signature, linkText(path, expires));
}

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
