#!/usr/bin/env node
// The userexport CLI: NDJSON / JSON users in, Auth0's export file (NDJSON or CSV, optionally gzip) out.
import { createReadStream, existsSync, renameSync, rmSync, statSync, createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { createGunzip, createGzip } from 'node:zlib';
import { Exporter, fileName } from 'userexport';

const USAGE = `usage: userexport [INPUT ...] [options]
  INPUT                 files, or - / nothing for stdin; NDJSON by default, gzip detected
  --request-file FILE   Auth0 request body as JSON      --request JSON   the same, inline
  --format json|csv     --field NAME[=EXPORT_AS] (repeatable)   --limit N   --sample (= limit 10)
  --connection NAME     only users whose identities[0].connection is NAME
  --query Q             only users Auth0's user-search query Q matches (v3 syntax, e.g.
                        'email.domain:"example.com" AND logins_count:[10 TO *]'); a bad Q exits 2
  --input-format ndjson|json   json = one user, an array, or a Management API page
  --tenant NAME         output file is NAME.csv / NAME.json (default tenant: "export")
  --out FILE | -        default ./<tenant>.<ext>; - writes to stdout
  --gzip                gzip output (<tenant>.<ext>.gz)
  --lenient             skip bad records, report each on stderr with its line, exit 0
  --quiet               no progress or summary on stderr
`;

class UsageError extends Error {}

function parseArgs(argv) {
  const a = { inputs: [], fields: null, tenant: 'export', inputFormat: 'ndjson' };
  const value = (i, flag) => {
    if (i + 1 >= argv.length) throw new UsageError(`${flag} needs a value`);
    return argv[i + 1];
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    let m = /^(--[a-z-]+)=(.*)$/s.exec(arg);
    const flag = m ? m[1] : arg;
    const takes = () => {
      if (m) return m[2];
      return value(i++, flag);
    };
    switch (flag) {
      case '--request-file': a.requestFile = takes(); break;
      case '--request': a.request = takes(); break;
      case '--format': a.format = takes(); break;
      case '--field': {
        const f = takes();
        const eq = f.indexOf('=');
        (a.fields ??= []).push(eq < 0 ? { name: f } : { name: f.slice(0, eq), export_as: f.slice(eq + 1) });
        break;
      }
      case '--limit': {
        const v = takes();
        if (!/^\d+$/.test(v)) throw new UsageError(`--limit needs a whole number, got ${JSON.stringify(v)}`);
        a.limit = Number(v);
        break;
      }
      case '--sample': a.limit = 10; break;
      case '--connection': a.connection = takes(); break;
      case '--query': a.query = takes(); break;
      case '--input-format': a.inputFormat = takes(); break;
      case '--tenant': a.tenant = takes(); break;
      case '--out': a.out = takes(); break;
      case '--gzip': a.gzip = true; break;
      case '--lenient': a.lenient = true; break;
      case '--quiet': a.quiet = true; break;
      case '-h': case '--help': a.help = true; break;
      default:
        if (arg !== '-' && arg.startsWith('-')) throw new UsageError(`unknown option ${arg}`);
        a.inputs.push(arg);
    }
    m = null;
  }
  if (!['ndjson', 'json'].includes(a.inputFormat)) throw new UsageError('--input-format must be ndjson or json');
  if (a.request !== undefined && a.requestFile !== undefined) throw new UsageError('give --request or --request-file, not both');
  if (a.inputs.length === 0) a.inputs.push('-');
  if (a.inputs.filter((f) => f === '-').length > 1) throw new UsageError('stdin (-) can be read only once');
  for (const f of a.inputs) {
    if (f !== '-' && !(existsSync(f) && statSync(f).isFile())) throw new UsageError(`no such input file: ${f}`);
  }
  return a;
}

async function buildRequest(a) {
  const text = a.request ?? (a.requestFile !== undefined ? await readFile(a.requestFile, 'utf8').catch((e) => {
    throw new UsageError(`cannot read --request-file ${a.requestFile}: ${e.message}`);
  }) : '{}');
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    return text; // the core's message says what is wrong with it
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return text;
  if (a.format !== undefined) body.format = a.format;
  if (a.fields) body.fields = a.fields;
  if (a.limit !== undefined) body.limit = a.limit;
  if (body.connection_id !== undefined && a.connection === undefined) {
    throw new UsageError('the request has connection_id, which the CLI cannot look up: give the connection name with --connection NAME');
  }
  return body;
}

/** The bytes of one input: a file or stdin, gunzipped when it starts with gzip's magic bytes. */
async function* inputChunks(path) {
  const raw = path === '-' ? process.stdin : createReadStream(path, { highWaterMark: 1 << 20 });
  const it = raw[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done) return;
  const head = first.value;
  const rest = { [Symbol.asyncIterator]: () => it };
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) {
    const gunzip = createGunzip();
    (async () => {
      try {
        gunzip.write(head);
        for await (const c of rest) if (!gunzip.write(c)) await new Promise((r) => gunzip.once('drain', r));
        gunzip.end();
      } catch (e) {
        gunzip.destroy(e);
      }
    })();
    yield* gunzip;
  } else {
    yield head;
    yield* rest;
  }
}

function progress(quiet) {
  if (quiet || !process.stderr.isTTY) return { tick() {}, end() {} };
  const t0 = Date.now();
  let last = 0;
  const show = (s) => {
    const secs = Math.max((Date.now() - t0) / 1000, 0.001);
    const mb = s.bytesIn / 1e6;
    process.stderr.write(`\r${s.usersWritten} users, ${mb.toFixed(1)} MB read, ${(mb / secs).toFixed(1)} MB/s `);
  };
  return {
    tick(ex) {
      if (Date.now() - last > 200) {
        last = Date.now();
        show(ex.stats);
      }
    },
    end(ex) {
      show(ex.stats);
      process.stderr.write('\n');
    },
  };
}

async function main(argv) {
  let a;
  let ex;
  try {
    a = parseArgs(argv);
    if (a.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    const request = await buildRequest(a);
    ex = new Exporter(request, { tenant: a.tenant, connection: a.connection, query: a.query, lenient: !!a.lenient });
  } catch (e) {
    process.stderr.write(`userexport: ${e.message}\n`);
    if (e instanceof UsageError || e.code === 'invalid_argument') process.stderr.write(USAGE);
    return 2;
  }
  const name = fileName(a.tenant, ex.format, { gzip: !!a.gzip });
  const toStdout = a.out === '-';
  const outPath = a.out === undefined ? join('.', name) : a.out;
  if (!toStdout && !(existsSync(dirname(outPath)) && statSync(dirname(outPath)).isDirectory())) {
    process.stderr.write(`userexport: --out ${outPath}: no such folder ${dirname(outPath)}\n`);
    return 2;
  }
  // Write beside the target and rename on success, so a failed export leaves no file behind.
  const tmpPath = toStdout ? null : join(dirname(outPath), `.${basename(outPath)}.${process.pid}.tmp`);
  /** @type {import('node:stream').Writable} */
  const sink = toStdout ? process.stdout : createWriteStream(tmpPath);
  let gzip = null;
  if (a.gzip) {
    gzip = createGzip();
    gzip.pipe(sink);
  }
  /** @type {import('node:stream').Writable} */
  const target = gzip ?? sink;
  const write = async (chunk) => {
    if (!target.write(chunk)) await new Promise((r) => target.once('drain', r));
  };
  const meter = progress(a.quiet);
  let reported = 0;
  let lineBase = 0;
  let file = '-';
  const where = () => (file === '-' ? '' : `${file}: `);
  // Lines are numbered per file; the core numbers the whole stream, so subtract each file's start.
  const describe = (e) => {
    const msg = e.line !== undefined ? `line ${e.line - lineBase}: ${e.message.replace(/^line \d+: /, '')}` : e.message;
    return `${where()}${msg}`;
  };
  const reportSkipped = () => {
    // ex.errors copies every skipped record out of wasm: only when there is a new one.
    if (!a.lenient || ex.stats.usersSkipped <= reported) return;
    const errors = ex.errors;
    for (; reported < errors.length; reported++) process.stderr.write(`userexport: skipped ${describe(errors[reported])}\n`);
  };
  const drain = async () => {
    for (let c = ex.pull(); c; c = ex.pull()) await write(c);
    reportSkipped();
    meter.tick(ex);
  };
  try {
    for (file of a.inputs) {
      if (ex.limitReached) break;
      if (a.inputFormat === 'json') {
        const chunks = [];
        for await (const c of inputChunks(file)) chunks.push(c);
        ex.pushJson(Buffer.concat(chunks));
        await drain();
        continue;
      }
      lineBase = ex.stats.lines;
      let last = 0x0a;
      for await (const c of inputChunks(file)) {
        if (c.length === 0) continue;
        ex.pushNdjson(c);
        last = c[c.length - 1];
        await drain();
        if (ex.limitReached) break;
      }
      // A file's last line may lack its newline; it must not run into the next file's first line.
      if (last !== 0x0a && !ex.limitReached) {
        ex.pushNdjson('\n');
        await drain();
      }
    }
    ex.finish();
    while (!ex.done) await drain();
    meter.end(ex);
    if (gzip) gzip.end();
    if (!toStdout) {
      await new Promise((resolve, reject) => {
        sink.once('error', reject);
        sink.once('finish', resolve);
        if (!gzip) sink.end();
      });
      renameSync(tmpPath, outPath);
    } else if (gzip) {
      await new Promise((r) => gzip.once('end', r));
    }
    const s = ex.stats;
    if (!a.quiet && !toStdout) {
      const skipped = s.usersSkipped ? `, ${s.usersSkipped} skipped` : '';
      process.stderr.write(`userexport: wrote ${s.usersWritten} users to ${outPath}${skipped}\n`);
    }
    ex.free();
    return 0;
  } catch (e) {
    if (!toStdout) {
      sink.destroy();
      rmSync(tmpPath, { force: true });
    }
    process.stderr.write(`userexport: ${e.code ? describe(e) : e.stack}\n`);
    return 1;
  }
}

// A reader that stops early (`| head`) is not an error of the export.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});
process.exitCode = await main(process.argv.slice(2));
