#!/usr/bin/env node
// The userexport CLI: NDJSON / JSON users in, Auth0's export file (NDJSON or CSV, optionally gzip) out.
import { closeSync, createReadStream, existsSync, mkdirSync, openSync, readSync, readdirSync, renameSync, rmSync, statSync, createWriteStream, writeFileSync, writeSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { open, readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname, basename, join } from 'node:path';
import { parseArgs as parseFlags } from 'node:util';
import { createGunzip } from 'node:zlib';
import { Exporter, crc32Combine, detectInput, gzipMemberEnd, isGzip, manifestOf } from 'userexport';
import { SHARD_MIN_BYTES, evenCuts, shardCount, shardRanges, shardResults } from './shards.mjs';

const USAGE = `usage: userexport [INPUT ...] [options]
       userexport verify FILE MANIFEST
  INPUT                 files, or - / nothing for stdin; gzip detected
  --request-file FILE   Auth0 request body as JSON      --request JSON   the same, inline
  --format json|csv     --field NAME[=EXPORT_AS] (repeatable)   --limit N   --sample (= limit 10)
  --connection NAME     only users whose identities[0].connection is NAME
  --query Q             only users Auth0's user-search query Q matches (v3 syntax, e.g.
                        'email.domain:"example.com" AND logins_count:[10 TO *]'); a bad Q exits 2
  --input-format auto|ndjson|json   default auto: a JSON text when it starts with [ or is one
                        JSON value (one user, an array, a Management API page), else NDJSON;
                        several INPUTs must all be NDJSON (lines are numbered per file)
  --tenant NAME         output file is NAME.csv / NAME.json (default tenant: "export")
  --out FILE | -        default ./<tenant>.<ext>; - writes to stdout
  --gzip                gzip output (<tenant>.<ext>.gz)
  --manifest            also write <tenant>.manifest.json beside the file (the current folder
                        with --out -): request, options, counts, sha256 and size of the plain
                        and of the gzip bytes, start and end time, version
  --for-import          write Auth0's bulk-import files instead: <tenant>.import.001.json, …
                        (JSON arrays of at most 500,000 bytes, database-connection users,
                        user_id without its provider prefix) and <tenant>.import.unimportable.json
                        (the users left out, with why) into the folder --out DIR (default .,
                        made if missing); no --format csv, --field, --gzip or --manifest
  --lenient             skip bad records, report each on stderr with its line, exit 0
  --threads N           an NDJSON file of at least 16 MiB (any size when N is given) is cut at
                        line boundaries into shards of about 4 MiB exported on N threads,
                        the same bytes as one thread; default: the machine's cores; 1: one
                        thread. stdin, gzipped input, several INPUTs and a JSON text are read
                        on one thread
  --quiet               no progress or summary on stderr
verify FILE MANIFEST    exit 0 when FILE's sha256 and size are the manifest's (its gzip ones when
                        FILE is gzipped, else its plain ones), 1 naming what differs, 2 on misuse
`;

class UsageError extends Error {}

/** @type {import('node:util').ParseArgsConfig['options']} */
const FLAGS = {
  'request-file': { type: 'string' },
  request: { type: 'string' },
  format: { type: 'string' },
  field: { type: 'string', multiple: true },
  limit: { type: 'string' },
  sample: { type: 'boolean' },
  connection: { type: 'string' },
  query: { type: 'string' },
  'input-format': { type: 'string' },
  tenant: { type: 'string' },
  out: { type: 'string' },
  gzip: { type: 'boolean' },
  manifest: { type: 'boolean' },
  'for-import': { type: 'boolean' },
  lenient: { type: 'boolean' },
  threads: { type: 'string' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

/**
 * @typedef {object} Args
 * @property {string[]} inputs
 * @property {{ name: string, export_as?: string }[] | null} fields
 * @property {string} tenant
 * @property {'auto' | 'ndjson' | 'json'} inputFormat
 * @property {string} [requestFile]
 * @property {string} [request]
 * @property {string} [format]
 * @property {string} [connection]
 * @property {string} [query]
 * @property {string} [out]
 * @property {number} [limit]
 * @property {number} [threads]
 * @property {boolean} gzip
 * @property {boolean} manifest
 * @property {boolean} forImport
 * @property {boolean} lenient
 * @property {boolean} quiet
 * @property {boolean} help
 */

/**
 * node:util's parseArgs, with its errors turned into usage errors in this CLI's words.
 * @param {string[]} argv
 * @returns {Args}
 */
function parseArgs(argv) {
  let parsed;
  try {
    parsed = parseFlags({ args: argv, options: FLAGS, allowPositionals: true, strict: true, tokens: true });
  } catch (e) {
    const flag = /'(-[^' ]+)/.exec(e.message)?.[1];
    if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new UsageError(`unknown option ${flag}`);
    if (e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && /argument missing|ambiguous/.test(e.message)) {
      throw new UsageError(`${flag} needs a value (a value starting with - is written ${flag}=VALUE)`);
    }
    if (e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') throw new UsageError(`${flag} takes no value`);
    throw new UsageError(e.message);
  }
  // parseArgs types every value as any flag's type; FLAGS says which is which.
  const v = /** @type {Record<string, any>} */ (parsed.values);
  /** @type {Args} */
  const a = {
    inputs: parsed.positionals,
    fields: null,
    tenant: v.tenant ?? 'export',
    inputFormat: v['input-format'] ?? 'auto',
    requestFile: v['request-file'],
    request: v.request,
    format: v.format,
    connection: v.connection,
    query: v.query,
    out: v.out,
    gzip: !!v.gzip,
    manifest: !!v.manifest,
    forImport: !!v['for-import'],
    lenient: !!v.lenient,
    quiet: !!v.quiet,
    help: !!v.help,
  };
  if (v.field) {
    a.fields = v.field.map((f) => {
      const eq = f.indexOf('=');
      return eq < 0 ? { name: f } : { name: f.slice(0, eq), export_as: f.slice(eq + 1) };
    });
  }
  // --limit and --sample both set the limit: the later one on the command line wins.
  for (const t of parsed.tokens) {
    if (t.kind !== 'option') continue;
    if (t.name === 'sample') a.limit = 10;
    if (t.name === 'threads') {
      if (!/^\d+$/.test(t.value ?? '') || Number(t.value) < 1) throw new UsageError(`--threads needs a whole number of at least 1, got ${JSON.stringify(t.value)}`);
      a.threads = Number(t.value);
    }
    if (t.name === 'limit') {
      if (!/^\d+$/.test(t.value ?? '')) throw new UsageError(`--limit needs a whole number, got ${JSON.stringify(t.value)}`);
      a.limit = Number(t.value);
    }
  }
  if (!['auto', 'ndjson', 'json'].includes(a.inputFormat)) throw new UsageError('--input-format must be auto, ndjson or json');
  if (a.request !== undefined && a.requestFile !== undefined) throw new UsageError('give --request or --request-file, not both');
  if (a.forImport && a.out === '-') throw new UsageError('--for-import writes several files: --out names their folder, not -');
  if (a.inputs.length === 0) a.inputs.push('-');
  if (a.inputs.filter((f) => f === '-').length > 1) throw new UsageError('stdin (-) can be read only once');
  if (a.inputs.length > 1 && a.inputFormat === 'json') throw new UsageError('--input-format json reads one INPUT: one JSON text per export');
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

/**
 * The form the core tells for one INPUT file (gunzipped when gzipped), reading only as far as it
 * needs: for several INPUTs, which are one NDJSON stream, a JSON text among them is refused.
 */
async function formOf(path) {
  const parts = [];
  let size = 0;
  let tried = 0;
  for await (const c of inputChunks(path)) {
    // Kept past the next read, so copied.
    parts.push(Buffer.from(c));
    size += c.length;
    // Asked again only when the bytes have doubled, so a long undecided prefix costs linear time.
    if (size < tried * 2) continue;
    tried = size;
    const form = detectInput(Buffer.concat(parts), false);
    if (form) return form;
  }
  return detectInput(Buffer.concat(parts), true);
}

/**
 * The bytes of one input: a file or stdin, gunzipped when it starts with gzip's magic bytes.
 * A plain file's chunks all come in one buffer, refilled for each: a chunk is only good until
 * the next is asked for (a new 1 MiB Buffer per read is garbage the export does not need).
 * @param {string} path
 */
async function* inputChunks(path) {
  if (path !== '-') {
    const file = await open(path);
    try {
      const buf = Buffer.allocUnsafe(1 << 20);
      let n = (await file.read(buf, 0, buf.length, null)).bytesRead;
      if (!isGzip(buf.subarray(0, n))) {
        for (; n > 0; n = (await file.read(buf, 0, buf.length, null)).bytesRead) yield buf.subarray(0, n);
        return;
      }
      // A gzip file is read again from its start below (its first MiB twice, once per file).
    } finally {
      await file.close();
    }
  }
  const raw = path === '-' ? process.stdin : createReadStream(path, { highWaterMark: 1 << 20 });
  const it = raw[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done) return;
  const head = first.value;
  const rest = { [Symbol.asyncIterator]: () => it };
  if (isGzip(head)) {
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

/**
 * `userexport verify FILE MANIFEST`: FILE's sha256 and size against the manifest's, the gzip
 * ones when FILE starts with gzip's magic bytes, else the plain ones (so a gunzipped copy of a
 * gzip export checks against its plain digest). 0: they match; 1: they differ; 2: misuse.
 * @param {string[]} args
 */
async function verify(args) {
  const usage = (msg) => {
    process.stderr.write(`userexport verify: ${msg}\n${USAGE}`);
    return 2;
  };
  if (args.length !== 2) return usage(`needs FILE and MANIFEST, got ${args.length} argument${args.length === 1 ? '' : 's'}`);
  const [file, manifestPath] = args;
  if (!(existsSync(file) && statSync(file).isFile())) return usage(`no such file: ${file}`);
  let manifest;
  try {
    manifest = JSON.parse(await readFile(manifestPath, 'utf8'));
  } catch (e) {
    return usage(`cannot read the manifest ${manifestPath}: ${e.message}`);
  }
  const isDigest = (d) => d !== null && typeof d === 'object' && typeof d.sha256 === 'string' && /^[0-9a-f]{64}$/.test(d.sha256) && Number.isSafeInteger(d.bytes);
  if (manifest?.tool !== 'userexport' || !isDigest(manifest.plain) || !(manifest.gzip === null || isDigest(manifest.gzip))) {
    return usage(`${manifestPath} is not a userexport manifest (no tool "userexport" with plain and gzip digests)`);
  }
  const hash = createHash('sha256');
  let bytes = 0;
  let head = Buffer.alloc(0);
  for await (const c of createReadStream(file, { highWaterMark: 1 << 20 })) {
    hash.update(c);
    bytes += c.length;
    if (head.length < 2) head = Buffer.concat([head, c.subarray(0, 2 - head.length)]);
  }
  const sha256 = hash.digest('hex');
  const kind = isGzip(head) ? 'gzip' : 'plain';
  const want = manifest[kind];
  if (want === null) {
    process.stderr.write(`userexport verify: ${file} is gzipped, but ${manifestPath} is of a plain export (it has no gzip sha256)\n`);
    return 1;
  }
  const diffs = [];
  if (bytes !== want.bytes) diffs.push(`size: ${file} has ${bytes} bytes, the manifest's ${kind} size is ${want.bytes}`);
  if (sha256 !== want.sha256) diffs.push(`sha256: ${file} has ${sha256}, the manifest's ${kind} sha256 is ${want.sha256}`);
  if (diffs.length) {
    process.stderr.write(`userexport verify: ${file} does not match ${manifestPath}:\n${diffs.map((d) => `  ${d}\n`).join('')}`);
    return 1;
  }
  process.stdout.write(`${file}: OK (${kind} sha256 ${sha256}, ${bytes} bytes)\n`);
  return 0;
}

async function main(argv) {
  if (argv[0] === 'verify') return verify(argv.slice(1));
  let a;
  let ex;
  let request;
  try {
    a = parseArgs(argv);
    if (a.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    request = await buildRequest(a);
    if (a.inputs.length > 1 && a.inputFormat === 'auto') {
      for (const f of a.inputs.filter((f) => f !== '-')) {
        if ((await formOf(f)) === 'json') {
          throw new UsageError(`${f} is a JSON text, which must be the only INPUT (several INPUTs are read as one NDJSON stream; --input-format ndjson reads it line by line)`);
        }
      }
    }
    // The core gzips the output itself (gzip: true): what is pulled is the .gz file's bytes.
    // Several INPUTs are one NDJSON stream (each file's lines numbered on their own below): the
    // core tells NDJSON from JSON text by the whole input, and one JSON text is a whole input.
    const input = a.inputs.length > 1 ? 'ndjson' : a.inputFormat;
    ex = new Exporter(request, { tenant: a.tenant, connection: a.connection, query: a.query, lenient: a.lenient, gzip: a.gzip, input, manifest: !!a.manifest, ...(a.forImport ? { forImport: true } : {}) });
  } catch (e) {
    process.stderr.write(`userexport: ${e.message}\n`);
    if (e instanceof UsageError || e.code === 'invalid_argument') process.stderr.write(USAGE);
    return 2;
  }
  if (a.forImport) return runImport(a, ex);
  const { fileName: name } = ex.describe();
  const toStdout = a.out === '-';
  const outPath = a.out === undefined ? join('.', name) : a.out;
  if (!toStdout && !(existsSync(dirname(outPath)) && statSync(dirname(outPath)).isDirectory())) {
    process.stderr.write(`userexport: --out ${outPath}: no such folder ${dirname(outPath)}\n`);
    ex.free();
    return 2;
  }
  // Write beside the target and rename on success, so a failed export leaves no file behind.
  const tmpPath = toStdout ? null : join(dirname(outPath), `.${basename(outPath)}.${process.pid}.tmp`);
  const at = { file: '-', lineBase: 0 };
  const describe = (e) => describeAt(at, e);
  const plan = await threadPlan(a);
  const { sink, write } = outputSink(toStdout, tmpPath);
  if (plan) {
    at.file = plan.path;
    return exportThreaded({ a, request, ex, plan, outPath, toStdout, tmpPath, sink, write, describe });
  }
  const meter = progress(a.quiet);
  let reported = 0;
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
    await feedInputs(a, ex, drain, at);
    meter.end(ex);
    if (!toStdout) {
      await new Promise((resolve, reject) => {
        sink.once('error', reject);
        sink.once('finish', resolve);
        sink.end();
      });
      renameSync(tmpPath, outPath);
    }
    if (a.manifest) {
      // Beside the file, under the tenant's name (like the file's default name); written whole
      // then renamed, as the file is.
      const manifestPath = join(toStdout ? '.' : dirname(outPath), `${a.tenant}.manifest.json`);
      const tmp = join(dirname(manifestPath), `.${basename(manifestPath)}.${process.pid}.tmp`);
      writeFileSync(tmp, `${JSON.stringify(ex.manifest(), null, 2)}\n`);
      renameSync(tmp, manifestPath);
      if (!a.quiet) process.stderr.write(`userexport: wrote the manifest ${manifestPath}\n`);
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
      // A write still under way fails once the stream is destroyed: nothing to report then.
      sink.on('error', () => {});
      sink.destroy();
      rmSync(tmpPath, { force: true });
    }
    process.stderr.write(`userexport: ${e.code ? describe(e) : e.stack}\n`);
    return 1;
  }
}

/**
 * Every INPUT through the exporter in order, `drain` after each chunk, until the core is done.
 * The core reads the bytes in the form the Exporter was given (for one INPUT it tells NDJSON from
 * JSON text itself; a JSON text is read once the input is finished). `at` follows the file being
 * read and the line count the core had when it began, for messages numbered per file.
 * @param {Args} a
 * @param {any} ex
 * @param {() => unknown} drain  may return a promise (a stream's backpressure)
 * @param {{ file: string, lineBase: number }} at
 */
async function feedInputs(a, ex, drain, at) {
  for (const file of a.inputs) {
    if (ex.limitReached) break;
    at.file = file;
    at.lineBase = ex.stats.lines;
    let last = 0x0a;
    for await (const c of inputChunks(file)) {
      if (c.length === 0) continue;
      ex.push(c);
      last = c[c.length - 1];
      await drain();
      if (ex.limitReached) break;
    }
    // A file's last line may lack its newline; it must not run into the next file's first line.
    if (a.inputs.length > 1 && last !== 0x0a && !ex.limitReached) {
      ex.push('\n');
      await drain();
    }
  }
  ex.finish();
  while (!ex.done) await drain();
}

/**
 * A core error as the CLI prints it: the core numbers the lines of the whole stream (its message
 * starts with "line N", ", column C" in a JSON text), the CLI those of each file, named.
 * @param {{ file: string, lineBase: number }} at
 * @param {{ message: string, line?: number }} e
 */
function describeAt(at, e) {
  const head = /^line \d+(, column \d+)?: /.exec(e.message);
  const msg = e.line !== undefined ? `line ${e.line - at.lineBase}${head?.[1] ?? ''}: ${e.message.slice(head ? head[0].length : 0)}` : e.message;
  return `${at.file === '-' ? '' : `${at.file}: `}${msg}`;
}

/**
 * `--for-import`: the core's import files, each gathered whole (at most 500,000 bytes) and written
 * beside its final name, then every file renamed once the export succeeded, so a failed export
 * leaves nothing in the folder. A folder already holding this tenant's import files is refused:
 * an old set with more files would mix with the new one.
 * @param {Args} a
 * @param {any} ex
 */
async function runImport(a, ex) {
  const dir = a.out ?? '.';
  const mine = new RegExp(`^${a.tenant}\\.import\\.(\\d{3,}|unimportable)\\.json$`); // the core checked the tenant: [a-z0-9_-]
  try {
    mkdirSync(dir, { recursive: true });
    const old = readdirSync(dir).filter((f) => mine.test(f));
    if (old.length) {
      throw new UsageError(`${dir} already holds import files of the tenant ${a.tenant} (${old.slice(0, 3).join(', ')}${old.length > 3 ? ', …' : ''}): move them away or choose another --out folder`);
    }
  } catch (e) {
    process.stderr.write(`userexport: ${e instanceof UsageError ? e.message : `--out ${dir}: ${e.message}`}\n`);
    ex.free();
    return 2;
  }
  /** @type {[string, string][]} (temporary path, final path) of every file written */
  const written = [];
  const save = (name, bytes) => {
    const path = join(dir, name);
    const tmp = join(dir, `.${name}.${process.pid}.tmp`);
    written.push([tmp, path]);
    writeFileSync(tmp, bytes);
  };
  // The list of users left out is written as it grows (a tenant of mostly social users would
  // otherwise hold one entry per user in memory), beside its name like the files.
  const listName = `${a.tenant}.import.unimportable.json`;
  const listTmp = join(dir, `.${listName}.${process.pid}.tmp`);
  written.push([listTmp, join(dir, listName)]);
  const list = openSync(listTmp, 'w');
  const meter = progress(a.quiet);
  let parts = [];
  let reported = 0;
  const at = { file: '-', lineBase: 0 };
  const describe = (e) => describeAt(at, e);
  const drain = () => {
    for (let c = ex.pullImport(); c; c = ex.pullImport()) {
      parts.push(c.bytes);
      if (c.endsFile) {
        save(c.fileName, Buffer.concat(parts));
        parts = [];
      }
    }
    writeSync(list, ex.takeUnimportableJson(false));
    if (a.lenient && ex.stats.usersSkipped > reported) {
      const errors = ex.errors;
      for (; reported < errors.length; reported++) process.stderr.write(`userexport: skipped ${describe(errors[reported])}\n`);
    }
    meter.tick(ex);
  };
  try {
    await feedInputs(a, ex, drain, at);
    meter.end(ex);
    writeSync(list, ex.takeUnimportableJson(true));
    closeSync(list);
    for (const [tmp, path] of written) renameSync(tmp, path);
    if (!a.quiet) {
      const s = ex.stats;
      const files = ex.importFiles.length;
      const skipped = s.usersSkipped ? `, ${s.usersSkipped} skipped` : '';
      process.stderr.write(`userexport: wrote ${s.usersWritten} users to ${files} import file${files === 1 ? '' : 's'} in ${dir}${skipped}\n`);
      const left = ex.unimportableCount;
      if (left) process.stderr.write(`userexport: ${left} user${left === 1 ? '' : 's'} cannot be imported, listed with why in ${join(dir, listName)}\n`);
    }
    ex.free();
    return 0;
  } catch (e) {
    try {
      closeSync(list);
    } catch {
      // already closed
    }
    for (const [tmp] of written) rmSync(tmp, { force: true });
    process.stderr.write(`userexport: ${e.code ? describe(e) : e.stack}\n`);
    return 1;
  }
}

/**
 * Where the export's bytes go: stdout, or the temp file beside the target. `write(chunk, done)`
 * resolves once the stream can take more (`done`: called when the chunk is written). 8 MiB may
 * wait in the stream: with its default 16 KiB every 64 KiB pull waited for its own write, so the
 * export stalled on the disk instead of running beside it.
 * @param {boolean} toStdout
 * @param {string | null} tmpPath
 */
function outputSink(toStdout, tmpPath) {
  /** @type {import('node:stream').Writable} */
  const sink = toStdout ? process.stdout : createWriteStream(tmpPath, { highWaterMark: 8 << 20 });
  /** @param {Uint8Array} chunk @param {() => void} [done] */
  const write = async (chunk, done = undefined) => {
    if (!sink.write(chunk, done)) await new Promise((r) => sink.once('drain', r));
  };
  return { sink, write };
}

/**
 * Whether this export runs on threads, and its shards: one plain NDJSON file (not stdin, not
 * gzipped, not a JSON text), of at least SHARD_MIN_BYTES unless --threads was given, and more than
 * one thread; `shardCount` shards (several per thread for a large file) on that many threads.
 * Tests choose the cut points with USEREXPORT_SHARD_CUTS (byte offsets, comma-separated).
 * @param {Args} a
 */
async function threadPlan(a) {
  if (a.inputs.length !== 1 || a.inputs[0] === '-' || a.inputFormat === 'json') return null;
  const cutsEnv = process.env.USEREXPORT_SHARD_CUTS;
  const n = a.threads ?? availableParallelism();
  if (n < 2) return null;
  const path = a.inputs[0];
  const size = statSync(path).size;
  if (a.threads === undefined && cutsEnv === undefined && size < SHARD_MIN_BYTES) return null;
  const head = Buffer.alloc(2);
  const fd = openSync(path, 'r');
  const got = readSync(fd, head, 0, 2, 0);
  closeSync(fd);
  if (isGzip(head.subarray(0, got))) return null;
  if (a.inputFormat === 'auto' && (await formOf(path)) !== 'ndjson') return null;
  const cuts = cutsEnv !== undefined ? cutsEnv.split(',').filter(Boolean).map(Number) : evenCuts(size, shardCount(size, n));
  const ranges = await shardRanges(path, size, cuts);
  return ranges.length > 1 ? { path, size, ranges, threads: n } : null;
}

/**
 * The export on threads (bin/shards.mjs): the shards' parts written in input order to the same
 * file or stdout, their lenient errors reported in order with the stream's line numbers, the
 * manifest's counts summed and its sha256s taken over the joined bytes. A gzip export is one gzip
 * member of the shards' segments (COMPATIBILITY.md, "Threads"): gunzipped, the one-thread bytes.
 */
async function exportThreaded({ a, request, ex, plan, outPath, toStdout, tmpPath, sink, write, describe }) {
  const options = { tenant: a.tenant, connection: a.connection, query: a.query, lenient: a.lenient, gzip: a.gzip };
  const plain = a.manifest ? { hash: createHash('sha256'), bytes: 0 } : null;
  const gz = a.manifest && a.gzip ? { hash: createHash('sha256'), bytes: 0 } : null;
  const totals = { usersRead: 0, usersWritten: 0, usersSkipped: 0, usersFiltered: 0, usersMatched: 0, bytesIn: 0, lines: 0 };
  // The codes of the records skipped, in input order, for the manifest's counts.
  const skippedCodes = [];
  const startedAt = new Date().toISOString();
  // With --gzip the shards write segments of one gzip member (the core's gzipSegment): the first
  // part opens with its header, the member's end follows the last part.
  const member = a.gzip ? { crc32: 0, bytes: 0 } : null;
  // The manifest's plain digest of a gzip export: the joined member, gunzipped as it is written.
  const gunzip = gz ? createGunzip() : null;
  const plainDone = gunzip
    ? (async () => {
        for await (const c of gunzip) {
          plain.hash.update(c);
          plain.bytes += c.length;
        }
      })()
    : null;
  plainDone?.catch(() => {});
  /** The manifest's digests of the bytes written (`done`: called once gunzip let go of them). */
  const hash = async (c, done = undefined) => {
    if (gunzip) {
      gz.hash.update(c);
      gz.bytes += c.length;
      if (!gunzip.write(c, done)) await new Promise((res) => gunzip.once('drain', res));
    } else if (plain) {
      plain.hash.update(c);
      plain.bytes += c.length;
    }
  };
  try {
    for await (const r of shardResults({ path: plan.path, ranges: plan.ranges, threads: plan.threads, request, options })) {
      if (r.failed) throw Object.assign(new Error(r.failed.message), r.failed);
      for (const e of r.errors) {
        process.stderr.write(`userexport: skipped ${describe(e)}\n`);
        skippedCodes.push(e.code);
      }
      for (const key of Object.keys(totals)) totals[key] += r.stats[key];
      if (r.limitReached) {
        // What one thread reads: its 1 MiB reads up to the one that holds the limit's last line.
        const end = r.range.start + r.consumed;
        totals.bytesIn = Math.min(plan.size, (Math.floor((end - 1) / (1 << 20)) + 1) * (1 << 20));
      }
      if (member) {
        member.crc32 = crc32Combine(member.crc32, r.segment.crc32, r.segment.bytes);
        member.bytes += r.segment.bytes;
      }
      for (const c of r.parts) {
        // The buffer goes back to the threads once the file and the manifest's gunzip are done with it.
        let holders = gunzip ? 2 : 1;
        const done = () => --holders === 0 && r.release(c);
        await hash(c, done);
        await write(c, done);
      }
    }
    if (member) {
      // The member's end: an empty final block and the trailer of every part's plain bytes.
      const end = gzipMemberEnd(member.crc32, member.bytes);
      await write(end);
      await hash(end);
    }
    if (gunzip) {
      gunzip.end();
      await plainDone;
    }
    if (!toStdout) {
      await new Promise((resolve, reject) => {
        sink.once('error', reject);
        sink.end(resolve);
      });
      renameSync(tmpPath, outPath);
    }
    if (a.manifest) {
      // The core's manifest of the joined parts, with the digests of the bytes written.
      const m = manifestOf(request, options, { stats: totals, skipped: skippedCodes, startedAt, endedAt: new Date().toISOString() });
      m.plain = { sha256: plain.hash.digest('hex'), bytes: plain.bytes };
      m.gzip = gz ? { sha256: gz.hash.digest('hex'), bytes: gz.bytes } : null;
      const manifestPath = join(toStdout ? '.' : dirname(outPath), `${a.tenant}.manifest.json`);
      const tmp = join(dirname(manifestPath), `.${basename(manifestPath)}.${process.pid}.tmp`);
      writeFileSync(tmp, `${JSON.stringify(m, null, 2)}\n`);
      renameSync(tmp, manifestPath);
      if (!a.quiet) process.stderr.write(`userexport: wrote the manifest ${manifestPath}\n`);
    }
    if (!a.quiet && !toStdout) {
      const skipped = totals.usersSkipped ? `, ${totals.usersSkipped} skipped` : '';
      process.stderr.write(`userexport: wrote ${totals.usersWritten} users to ${outPath}${skipped}\n`);
    }
    ex.free();
    return 0;
  } catch (e) {
    if (sink && !toStdout) {
      sink.on('error', () => {});
      sink.destroy();
    }
    if (!toStdout) rmSync(tmpPath, { force: true });
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
