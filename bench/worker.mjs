// One benchmark run in a fresh process: `node worker.mjs <peer> <csv|ndjson> <file.ndjson>`; prints one JSON line.
//
// Every peer does the same job (bench/job.json) on the same input and must write the same bytes
// as userexport (COMPATIBILITY.md). The output is sha256-hashed as it is produced; the time spent
// hashing is measured and taken off, so the hash costs no peer anything.

import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { pipeline } from 'node:stream/promises';
import { Readable, Writable } from 'node:stream';
import { COLUMNS, CSV_HEADER, FIELDS, cell, csvRow, headerCell, isBareDate, ndjsonLine, pick } from './plain.mjs';

const [peer, format, file] = process.argv.slice(2);
const JOB = JSON.parse(readFileSync(new URL('./job.json', import.meta.url), 'utf8'));
const CHUNK = 64 * 1024; // output flushes, and the pushes of the in-memory row (as the native bench)
// Files are read 1 MiB at a time, as the CLI reads them: with Node's default 64 KiB, the read
// stream alone costs 0.28 CPU s per 120 MB (0.09 s at 1 MiB), more than half what the native core
// needs for the whole job. Every streaming peer reads the same way.
const READ_CHUNK = 1 << 20;
// The built npm package's Node entry; USEREXPORT_PKG points elsewhere (a path to node.js) when set.
const PKG = process.env.USEREXPORT_PKG ? new URL(`file://${process.env.USEREXPORT_PKG}`) : new URL('../pkg/node.js', import.meta.url);

// ---- output: hashed, with the hashing time measured so it can be taken off --------------

// The hashing's wall time comes off the wall time and its CPU time off the CPU time: on a loaded
// machine the wall time of a hash can be many times its CPU time, and taking it off the CPU
// time made a 1M-user row read 3 GB/s.
const out = { bytes: 0, hash: createHash('sha256'), hashMs: 0, hashCpuMs: 0 };
// USEREXPORT_BENCH_DISCARD=1: the output is counted, not hashed, so a whole-process timing
// (against the native core's `--profile --stream`, which discards its output too) has no hash in it.
const discard = process.env.USEREXPORT_BENCH_DISCARD === '1';
function sink(data) {
  const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  if (discard) {
    out.bytes += buf.length;
    return;
  }
  const t = performance.now();
  const c = process.cpuUsage();
  out.hash.update(buf);
  const used = process.cpuUsage(c);
  out.hashMs += performance.now() - t;
  out.hashCpuMs += (used.user + used.system) / 1000;
  out.bytes += buf.length;
}
const sinkStream = () =>
  new Writable({
    write(chunk, _enc, done) {
      sink(chunk);
      done();
    },
  });

// ---- input -------------------------------------------------------------------------------

/** Lines of the file as strings, read in 1 MiB chunks (blank lines skipped, CR stripped). */
async function* lines() {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  for await (const chunk of createReadStream(file, { highWaterMark: READ_CHUNK })) {
    const parts = (rest + decoder.write(chunk)).split('\n');
    rest = parts.pop();
    for (const l of parts) if (l.trim() !== '') yield l.endsWith('\r') ? l.slice(0, -1) : l;
  }
  rest += decoder.end();
  if (rest.trim() !== '') yield rest;
}

/** The whole file parsed into an array of users, as the in-memory libraries need it (read
 *  line by line: a 1M-user file is longer than V8's largest string, so no readFileSync). */
async function allUsers() {
  const users = [];
  for await (const line of lines()) users.push(JSON.parse(line));
  return users;
}

// ---- the peers ---------------------------------------------------------------------------

/** The package's Exporter over NDJSON byte chunks: push each, pull what is ready, finish. */
async function userexportRun(chunks) {
  const { Exporter } = await import(PKG);
  const ex = new Exporter({ ...JOB, format: format === 'csv' ? 'csv' : 'json' }, {});
  for await (const chunk of chunks) {
    ex.pushNdjson(chunk);
    for (let c = ex.pull(); c; c = ex.pull()) sink(c);
  }
  ex.finish();
  for (let c = ex.pull(); c; c = ex.pull()) sink(c);
  const users = ex.stats.usersWritten;
  ex.free?.();
  return users;
}

const peers = {
  // stream → split → JSON.parse → pick → build, by hand.
  async 'plain-js'() {
    const build = format === 'csv' ? csvRow : ndjsonLine;
    let buf = format === 'csv' ? CSV_HEADER : '';
    let users = 0;
    for await (const line of lines()) {
      buf += build(JSON.parse(line));
      users++;
      if (buf.length >= CHUNK) {
        sink(buf);
        buf = '';
      }
    }
    sink(buf);
    return users;
  },

  // The wasm core as the native bench drives the native one: the file already in memory,
  // 64 KiB pushes, 64 KiB pulls. Against the native row it is the price of wasm alone; against
  // userexport-stream, the price of Node's file reading.
  async 'userexport-memory'() {
    const data = readFileSync(file);
    startClock();
    return userexportRun(function* () {
      for (let i = 0; i < data.length; i += CHUNK) yield data.subarray(i, i + CHUNK);
    }());
  },

  // userexport in Node, streaming API: NDJSON bytes in (1 MiB reads), 64 KiB pulls out.
  async 'userexport-stream'() {
    return userexportRun(createReadStream(file, { highWaterMark: READ_CHUNK }));
  },

  async '@json2csv/plainjs'() {
    const { Parser } = await import('@json2csv/plainjs');
    const users = await allUsers();
    const parser = new Parser({ ...json2csvOptions(), fields: json2csvFields() });
    sink(parser.parse(users) + '\n'); // json2csv puts no line end after the last row
    return users.length;
  },

  async '@json2csv/node'() {
    const { Transform } = await import('@json2csv/node');
    let users = 0;
    const t = new Transform({ ...json2csvOptions(), fields: json2csvFields(), ndjson: true }, {}, {});
    t.on('line', () => users++);
    await pipeline(createReadStream(file, { highWaterMark: READ_CHUNK }), t, sinkStream());
    sink('\n'); // no line end after the last row
    return users;
  },

  async papaparse() {
    const Papa = (await import('papaparse')).default;
    const users = await allUsers();
    // Papa has no per-type hooks: strings are given their `'` here, and `quotes` quotes them.
    const rows = users.map((u) =>
      FIELDS.map((f) => {
        const v = pick(u, f.path);
        if (typeof v === 'string') return isBareDate(f, v) ? v : "'" + v;
        if (v !== null && typeof v === 'object') return "'" + JSON.stringify(v);
        return v;
      }),
    );
    const csv = Papa.unparse(
      { fields: COLUMNS, data: rows },
      { newline: '\n', quotes: (v) => typeof v === 'string' && v.charCodeAt(0) === 39 },
    );
    sink(csv + '\n'); // Papa puts no line end after the last row
    return users.length;
  },

  async 'csv-stringify/sync'() {
    const { stringify } = await import('csv-stringify/sync');
    const users = await allUsers();
    const rows = users.map((u) => FIELDS.map((f) => pick(u, f.path)));
    sink(stringify(rows, csvStringifyOptions()));
    return users.length;
  },

  async 'csv-stringify/stream'() {
    const { stringify } = await import('csv-stringify');
    let users = 0;
    async function* rows() {
      for await (const line of lines()) {
        const u = JSON.parse(line);
        users++;
        yield FIELDS.map((f) => pick(u, f.path));
      }
    }
    await pipeline(Readable.from(rows()), stringify(csvStringifyOptions()), sinkStream());
    return users;
  },
};

// From already-parsed objects: parsing is done before the clock starts, for both of these.
const fromObjects = {
  async 'plain-js-objects'(users) {
    const build = format === 'csv' ? csvRow : ndjsonLine;
    let buf = format === 'csv' ? CSV_HEADER : '';
    for (const u of users) {
      buf += build(u);
      if (buf.length >= CHUNK) {
        sink(buf);
        buf = '';
      }
    }
    sink(buf);
    return users.length;
  },
  async 'userexport-pushUsers'(users) {
    const { Exporter } = await import(PKG);
    const ex = new Exporter({ ...JOB, format: format === 'csv' ? 'csv' : 'json' }, {});
    const BATCH = 512;
    for (let i = 0; i < users.length; i += BATCH) {
      ex.pushUsers(users.slice(i, i + BATCH), i);
      for (let c = ex.pull(); c; c = ex.pull()) sink(c);
    }
    ex.finish();
    for (let c = ex.pull(); c; c = ex.pull()) sink(c);
    ex.free?.();
    return users.length;
  },
};

/** A value json2csv must write bare (an Auth0 date in a date column); see the object formatter. */
class Bare {
  constructor(text) {
    this.text = text;
  }
}
function json2csvFields() {
  return FIELDS.map((f) => ({
    label: f.column,
    value: f.date
      ? (u) => {
          const v = pick(u, f.path);
          return isBareDate(f, v) ? new Bare(v) : v;
        }
      : // json2csv's own path strings would also read `a.b` when it is a literal key; pick() does not.
        (u) => pick(u, f.path),
  }));
}
function json2csvOptions() {
  return {
    eol: '\n',
    formatters: {
      header: (s) => headerCell(s),
      string: (s) => cell(s),
      object: (o) => (o === null ? '' : o instanceof Bare ? o.text : cell(JSON.stringify(o))),
    },
  };
}

function csvStringifyOptions() {
  const bare = { quoted_string: false };
  return {
    columns: COLUMNS,
    header: true,
    record_delimiter: '\n',
    quoted_string: true,
    cast: {
      // The header goes through cast too; our column names need no quotes (headerCell says so).
      string: (v, ctx) =>
        ctx.header ? { value: v, ...bare } : isBareDate(FIELDS[ctx.index], v) ? { value: v, ...bare } : "'" + v,
      boolean: (v) => (v ? 'true' : 'false'),
      object: (v) => ({ value: "'" + JSON.stringify(v), quoted: true }),
    },
  };
}

// ---- run ---------------------------------------------------------------------------------

let start;
/** Restarts the clock: for a peer whose setup (reading the whole file into memory) is not the job. */
function startClock() {
  start = { wall: performance.now(), cpu: process.cpuUsage() };
}

async function main() {
  let users;
  const needsPkg = peer.startsWith('userexport');
  if (needsPkg && !existsSync(PKG)) {
    console.log(JSON.stringify({ peer, format, pending: 'the npm package is not built (../pkg/node.js missing)' }));
    return;
  }
  if (fromObjects[peer]) {
    const parsed = await allUsers();
    // Both peers' code is loaded before their clock starts (plain.mjs is imported at the top),
    // so the package's module and wasm compile are setup here, as the parsing is.
    if (needsPkg) await import(PKG);
    startClock();
    users = await fromObjects[peer](parsed);
  } else {
    startClock();
    users = await peers[peer]();
  }
  const wallMs = performance.now() - start.wall - out.hashMs;
  const cpu = process.cpuUsage(start.cpu);
  const cpuMs = (cpu.user + cpu.system) / 1000 - out.hashCpuMs;
  const inputBytes = statSync(file).size;
  console.log(
    JSON.stringify({
      peer,
      format,
      users,
      inputBytes,
      outputBytes: out.bytes,
      wallSeconds: wallMs / 1000,
      cpuSeconds: cpuMs / 1000,
      maxRssKiB: process.resourceUsage().maxRSS,
      sha256: discard ? null : out.hash.digest('hex'),
    }),
  );
}

main().catch((e) => {
  console.error(e?.stack ?? String(e));
  process.exit(1);
});
