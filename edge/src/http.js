// Responses in the Management API's, OAuth's and S3's shapes, and request bodies read with a byte limit.
import { errorEnvelope } from 'userexport';
import { MAX_BODY_BYTES } from './config.js';

export function json(status, body, headers = {}) {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers },
  });
}

/** The Management API's error envelope `{statusCode, error, message, errorCode?}`, as the core writes it. */
export function apiError(status, message, errorCode) {
  return json(status, errorEnvelope(status, message, errorCode || undefined));
}

/** 401 as the Management API's hapi/Boom layer writes it (attributes + WWW-Authenticate). */
export function unauthorized(message) {
  if (message === null) {
    return json(401, { statusCode: 401, error: 'Unauthorized', message: 'Missing authentication' }, { 'www-authenticate': 'Bearer' });
  }
  return json(
    401,
    { statusCode: 401, error: 'Unauthorized', message, attributes: { error: message } },
    { 'www-authenticate': `Bearer error="${message}"` },
  );
}

/** Errors of the token endpoint, as OAuth 2.0 (RFC 6749 §5.2) and Auth0 write them. */
export function oauthError(status, error, description) {
  return json(status, { error, error_description: description });
}

export function s3Error(status, code, message) {
  const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`;
  return new Response(xml, { status, headers: { 'content-type': 'application/xml', 'cache-control': 'no-store' } });
}

export const tooLarge = () => apiError(413, `Payload content length greater than maximum allowed: ${MAX_BODY_BYTES}`);

/**
 * The body as text, or `{response}` (413) once more than MAX_BODY_BYTES bytes arrive: a declared
 * Content-Length over the limit is refused unread, and a body without one is counted while read,
 * so at most one chunk past the limit is ever held.
 */
export async function readText(request) {
  const declared = request.headers.get('content-length');
  if (declared !== null && /^\d+$/.test(declared.trim()) && Number(declared) > MAX_BODY_BYTES) {
    await request.body?.cancel().catch(() => {});
    return { response: tooLarge() };
  }
  if (request.body === null) return { text: '' };
  const reader = request.body.getReader();
  const chunks = [];
  let size = 0;
  for (let r = await reader.read(); !r.done; r = await reader.read()) {
    size += r.value.byteLength;
    if (size > MAX_BODY_BYTES) {
      await reader.cancel().catch(() => {});
      return { response: tooLarge() };
    }
    chunks.push(r.value);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.byteLength;
  }
  // Invalid UTF-8 becomes U+FFFD, and the JSON parser then names what it found.
  return { text: new TextDecoder().decode(bytes) };
}

/** `application/x-www-form-urlencoded` or JSON, by Content-Type; JSON is the default. */
export function isForm(request) {
  return (request.headers.get('content-type') ?? '').toLowerCase().startsWith('application/x-www-form-urlencoded');
}
