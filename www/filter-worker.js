// Counts, off the page's thread, how many of the first users of the chosen source a user-search
// query matches: the wasm Exporter with that query reads them and its stats say how many matched,
// so the page never evaluates a query itself. A newer request makes the running count give up.
import init, { Exporter } from '../pkg/userexport.js';
import { answerLatest, bytesOf } from './look-ahead.js';

/** How many users the preview reads at most (the page says "of the first 10,000 users"). */
export const PREVIEW_USERS = 10_000;
// A JSON text (array, page) is only read once whole: past this it is not counted.
const MAX_BYTES = 64 << 20;
// The preview writes nothing anyone keeps: the smallest request, its output pulled and dropped.
const REQUEST = { format: 'json', fields: [{ name: 'user_id' }] };

answerLatest(init(), count);

/** Resolves to `{ read, matched, complete }`, or null when a newer request came in. */
async function count({ source, query }, superseded) {
  // Lenient: a bad record is counted as read and skipped, so one bad line does not hide the count.
  const ex = new Exporter(REQUEST, { query, lenient: true });
  const out = new Uint8Array(1 << 16);
  const drain = () => {
    while (ex.pullInto(out));
  };
  try {
    if (source.kind === 'pages') {
      for (const text of source.pages) {
        ex.pushJson(text);
        drain();
        if (ex.stats.usersRead >= PREVIEW_USERS) break;
      }
      return finish(ex, drain, ex.stats.usersRead < PREVIEW_USERS);
    }
    const reader = await bytesOf(source.blob);
    let bytes = 0;
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (superseded()) return null;
        if (done) return finish(ex, drain, true);
        bytes += value.length;
        // Pieces that end at most `left` newlines further: a piece completes at most that many
        // NDJSON users, so the core never reads past the 10,000th (a JSON text is only gathered).
        let rest = value;
        while (rest.length) {
          const left = PREVIEW_USERS - ex.stats.usersRead;
          const cut = afterNewlines(rest, left);
          ex.push(rest.subarray(0, cut));
          drain();
          rest = rest.subarray(cut);
          if (ex.stats.usersRead >= PREVIEW_USERS) return finish(ex, drain, false);
        }
        if (bytes > MAX_BYTES && ex.stats.usersRead === 0) {
          return { error: { message: `the first ${MAX_BYTES >> 20} MB hold no whole user: the preview counts NDJSON, or a JSON file up to that size` } };
        }
      }
    } finally {
      await reader.cancel().catch(() => {});
    }
  } finally {
    ex.free();
  }
}

/** Ends the count: `complete` says the whole source was read (finish() flushes a last line). */
function finish(ex, drain, complete) {
  if (complete) {
    ex.finish();
    drain();
  }
  const { usersRead, usersMatched } = ex.stats;
  return { read: usersRead, matched: usersMatched, complete };
}

/** The index just past the `n`-th newline of `bytes` (or its length when it has fewer). */
function afterNewlines(bytes, n) {
  let at = 0;
  for (let i = 0; i < n; i++) {
    const nl = bytes.indexOf(0x0a, at);
    if (nl < 0) return bytes.length;
    at = nl + 1;
  }
  return Math.max(at, 1);
}

