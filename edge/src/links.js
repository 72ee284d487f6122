// Download links: signed for 60 seconds by the tenant's own link key (never a token key), on a configured origin only.
import { LINK_SECONDS, jobsStub, publicOrigin, tenantConfig } from './config.js';
import { s3Error } from './http.js';
import { b64url, fromB64url } from './keys.js';
import { gzipHeader, gzipMemberEnd } from 'userexport';

const LINK_PATH = /^\/download\/(job_[A-Za-z0-9]{16})\/(([a-z0-9_-]{1,64})\.(?:csv|json)\.gz)$/;

/** The job's file on the tenant's public origin, with `Expires` and `Signature` (HMAC-SHA256). */
export async function signedLocation(env, stub, rec, nowMs) {
  const path = `/download/${rec.id}/${rec.file}`;
  const expires = Math.floor(nowMs / 1000) + LINK_SECONDS;
  const sig = await stub.signLink(path, String(expires));
  return `${publicOrigin(env, rec.tenant)}${path}?Expires=${expires}&Signature=${b64url(sig)}`;
}

const badSignature = () => s3Error(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.');
const noSuchKey = () => s3Error(404, 'NoSuchKey', 'The specified key does not exist.');

/** The tenant a download path names (its file is named after the tenant), or null. */
export function tenantOfLink(env, pathname) {
  const m = LINK_PATH.exec(pathname);
  return m && tenantConfig(env, m[3]) ? m[3] : null;
}

export async function download(request, env, url, nowMs) {
  const m = LINK_PATH.exec(url.pathname);
  if (!m || request.method !== 'GET') return noSuchKey();
  const tenant = tenantOfLink(env, url.pathname);
  const expires = url.searchParams.get('Expires') ?? '';
  const sig = fromB64url(url.searchParams.get('Signature') ?? '');
  if (!tenant || !/^\d{1,12}$/.test(expires) || !sig || sig.length !== 32) return badSignature();
  if (!(await jobsStub(env, tenant).verifyLink(url.pathname, expires, sig))) return badSignature();
  if (Math.floor(nowMs / 1000) > Number(expires)) return s3Error(403, 'AccessDenied', 'Request has expired');
  // The file is one gzip member: a header, the job's slices (deflate segments) in order, the
  // final block and the trailer (edge/README.md).
  const list = await env.EXPORTS.get(`${m[1]}/parts.json`);
  if (!list) return noSuchKey();
  const { parts, crc32, plain } = await list.json();
  const head = gzipHeader();
  const tail = gzipMemberEnd(crc32, plain);
  const size = head.length + parts.reduce((n, [, bytes]) => n + bytes, 0) + tail.length;
  // workerd's FixedLengthStream: a streamed body with a Content-Length.
  // eslint-disable-next-line no-undef
  const { readable, writable } = new FixedLengthStream(size);
  concatParts(env.EXPORTS, parts, head, tail).pipeTo(writable).catch((e) => console.warn(`userexport edge: download ${m[1]}: ${e?.message ?? e}`));
  // A plain gzip file, not Content-Encoding: consumers gunzip it themselves.
  return new Response(readable, {
    headers: {
      'content-type': 'application/gzip',
      'content-length': String(size),
      'content-disposition': `attachment; filename="${m[2]}"`,
      'cache-control': 'private, no-store',
    },
  });
}

/** `head`, the objects named in `parts` ([key, bytes] pairs) one after another, then `tail`, as one stream. */
function concatParts(bucket, parts, head, tail) {
  let next = 0;
  let reader = null;
  let started = false;
  return new ReadableStream(
    {
      async pull(controller) {
        if (!started) {
          started = true;
          return controller.enqueue(head.slice());
        }
        for (;;) {
          if (!reader) {
            if (next === parts.length) {
              if (tail) controller.enqueue(tail);
              tail = null;
              return controller.close();
            }
            const obj = await bucket.get(parts[next++][0]);
            if (!obj) throw new Error(`a slice of the export is missing: ${parts[next - 1][0]}`);
            reader = obj.body.getReader();
          }
          const r = await reader.read();
          if (!r.done) return controller.enqueue(r.value);
          reader = null;
        }
      },
      cancel: (reason) => reader?.cancel(reason),
    },
    { highWaterMark: 0 },
  );
}
