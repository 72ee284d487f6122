// The CLI (bin/userexport.mjs): its bytes equal the core's on the shared fixtures, and its exit
// codes, temp-file-and-rename, lenient report and flags behave as issue 3 specifies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync, gunzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/userexport.mjs', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));

function cli(args, { input, cwd } = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], { input, cwd, maxBuffer: 1 << 28 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr.toString('utf8') };
}
const tmp = () => mkdtempSync(join(tmpdir(), 'userexport-cli-'));

function fixtureArgs(name) {
  const dir = join(FIXTURES, name);
  const args = [join(dir, 'input.ndjson'), '--request-file', join(dir, 'request.json')];
  if (existsSync(join(dir, 'options.json'))) {
    const o = JSON.parse(readFileSync(join(dir, 'options.json'), 'utf8'));
    if (o.connection) args.push('--connection', o.connection);
    if (o.lenient) args.push('--lenient');
  }
  const expectedName = readdirSync(dir).find((f) => f.startsWith('expected.'));
  return { dir, args, expected: readFileSync(join(dir, expectedName)), ext: expectedName.split('.')[1] };
}

const fixtureNames = readdirSync(FIXTURES).filter((f) => existsSync(join(FIXTURES, f, 'request.json')));

test('the CLI writes the core\'s bytes for every shared fixture (stdout, file, stdin, gzip in and out)', () => {
  assert.ok(fixtureNames.length >= 4);
  for (const name of fixtureNames) {
    const { dir, args, expected, ext } = fixtureArgs(name);
    const out = cli([...args, '--out', '-', '--quiet']);
    assert.equal(out.code, 0, out.stderr);
    assert.ok(out.stdout.equals(expected), `${name}: stdout differs from the core`);
    const cwd = tmp();
    const file = cli([...args, '--tenant', 'acme'], { cwd });
    assert.equal(file.code, 0, file.stderr);
    assert.deepEqual(readdirSync(cwd), [`acme.${ext}`]);
    assert.ok(readFileSync(join(cwd, `acme.${ext}`)).equals(expected), `${name}: file differs`);
    const gz = cli([...args, '--tenant', 'acme', '--gzip'], { cwd });
    assert.equal(gz.code, 0, gz.stderr);
    assert.ok(gunzipSync(readFileSync(join(cwd, `acme.${ext}.gz`))).equals(expected), `${name}: gzip differs`);
    const input = readFileSync(join(dir, 'input.ndjson'));
    const stdinArgs = args.slice(1);
    const viaStdin = cli(['-', ...stdinArgs, '--out', '-'], { input: gzipSync(input) });
    assert.equal(viaStdin.code, 0, viaStdin.stderr);
    assert.ok(viaStdin.stdout.equals(expected), `${name}: gzipped stdin differs`);
    const noInputArg = cli([...stdinArgs, '--out', '-'], { input });
    assert.ok(noInputArg.stdout.equals(expected), `${name}: plain stdin differs`);
    rmSync(cwd, { recursive: true });
  }
});

test('exit 2 for a bad request or usage: message on stderr, nothing on stdout, no file', () => {
  const cwd = tmp();
  const input = join(FIXTURES, 'csv-sample', 'input.ndjson');
  for (const args of [
    [input, '--format', 'xml'],
    [input, '--request', '{"limit":0}'],
    [input, '--request', '{"connection_id":"con_0123456789abcdef"}'],
    [input, '--bogus'],
    [input, '--limit', 'ten'],
    [input, '--tenant', 'Not/Valid'],
    [join(cwd, 'missing.ndjson')],
    [input, '--input-format', 'xml'],
    [input, '--format', 'csv', '--field', 'app_metadata'],
    [input, '--out', join(cwd, 'no', 'such', 'x.csv')],
  ]) {
    const r = cli(args, { cwd });
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stdout.length, 0);
    assert.match(r.stderr, /^userexport: /);
    assert.deepEqual(readdirSync(cwd), []);
  }
  assert.match(cli([input, '--format', 'xml']).stderr, /format/);
  rmSync(cwd, { recursive: true });
});

test('exit 1 for bad input in strict mode: stderr names the file and line, no output file is left', () => {
  const cwd = tmp();
  const bad = join(cwd, 'users.ndjson');
  const good = readFileSync(join(FIXTURES, 'csv-sample', 'input.ndjson'), 'utf8').split('\n').slice(0, 6).join('\n');
  writeFileSync(bad, `${good}\n{"user_id":"x", oops}\n{"user_id":"y"}\n`);
  for (const extra of [[], ['--gzip'], ['--out', join(cwd, 'named.csv')]]) {
    const r = cli([bad, '--format', 'csv', ...extra], { cwd });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /users\.ndjson: line 7: /);
    assert.deepEqual(readdirSync(cwd), ['users.ndjson'], 'no output or temp file left behind');
  }
  rmSync(cwd, { recursive: true });
});

test('--lenient skips bad records, reports each with its line (numbered per file), exits 0', () => {
  const cwd = tmp();
  writeFileSync(join(cwd, 'a.ndjson'), '{"user_id":"a1"}\n[1]\n{"user_id":"a3"}'); // no final newline
  writeFileSync(join(cwd, 'b.ndjson'), '\n{"user_id":"b2","user_id":"dup"}\n{"user_id":"b3"}\n');
  const r = cli(['a.ndjson', 'b.ndjson', '--lenient', '--field', 'user_id', '--format', 'csv', '--out', '-'], { cwd });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.toString(), 'user_id\n"\'a1"\n"\'a3"\n"\'b3"\n');
  const lines = r.stderr.trim().split('\n');
  assert.match(lines[0], /^userexport: skipped a\.ndjson: line 2: .*not an array/);
  assert.match(lines[1], /^userexport: skipped b\.ndjson: line 2: .*user_id/);
  assert.equal(lines.length, 2);
  rmSync(cwd, { recursive: true });
});

test('flags: --field NAME=EXPORT_AS, --limit, --sample, --connection, --input-format json, --quiet, --help', () => {
  const input = join(FIXTURES, 'csv-sample', 'input.ndjson');
  const r = cli([input, '--format', 'csv', '--field', 'email=E-mail', '--field', 'identities[0].connection', '--limit', '2', '--out', '-']);
  assert.equal(r.code, 0);
  assert.equal(r.stdout.toString().split('\n')[0], 'E-mail,identities[0].connection');
  assert.equal(r.stdout.toString().trim().split('\n').length, 3);
  const s = cli([input, '--sample', '--out', '-']);
  assert.equal(s.stdout.toString().trim().split('\n').length, 10);
  const c = cli([input, '--connection', 'github', '--field', 'identities[0].connection=c', '--out', '-']);
  const rows = c.stdout.toString().trim().split('\n');
  assert.ok(rows.length > 5 && rows.every((l) => l === '{"c":"github"}'));
  const cwd = tmp();
  writeFileSync(join(cwd, 'page.json'), '{"start":0,"limit":2,"length":2,"users":[{"user_id":"p1"},{"user_id":"p2"}],"total":2}');
  const j = cli(['page.json', '--input-format', 'json', '--field', 'user_id'], { cwd });
  assert.equal(j.code, 0, j.stderr);
  assert.match(j.stderr, /wrote 2 users to export\.json/);
  assert.equal(readFileSync(join(cwd, 'export.json'), 'utf8'), '{"user_id":"p1"}\n{"user_id":"p2"}\n');
  const q = cli(['page.json', '--input-format', 'json', '--quiet', '--out', 'x.json'], { cwd });
  assert.equal(q.stderr, '');
  assert.equal(q.code, 0);
  const h = cli(['--help']);
  assert.equal(h.code, 0);
  assert.match(h.stdout.toString(), /--request-file FILE/);
  rmSync(cwd, { recursive: true });
});

test('progress (users, MB, rate) only when stderr is a terminal, and --quiet silences it', { skip: !existsSync('/usr/bin/script') && 'needs script(1) for a pty' }, () => {
  const cwd = tmp();
  const input = join(FIXTURES, 'csv-sample', 'input.ndjson');
  const piped = cli([input, '--out', 'a.json'], { cwd });
  assert.equal(piped.code, 0);
  assert.ok(!piped.stderr.includes('\r') && !/MB\/s/.test(piped.stderr), 'no progress into a pipe');
  const quote = (s) => `'${s.replaceAll("'", "'\\''")}'`;
  const inPty = (extra) => spawnSync('/usr/bin/script', ['-qec', [process.execPath, BIN, input, '--out', 'b.json', ...extra].map(quote).join(' '), '/dev/null'], { cwd, encoding: 'utf8' });
  const tty = inPty([]);
  assert.equal(tty.status, 0);
  assert.match(tty.stdout, /\r200 users, 0\.\d MB read, [\d.]+ MB\/s/);
  const quiet = inPty(['--quiet']);
  assert.equal(quiet.status, 0);
  assert.equal(quiet.stdout, '');
  rmSync(cwd, { recursive: true });
});

test('parseArgs forms: --flag=value, -h, the later of --limit / --sample wins, value errors are usage errors', () => {
  const input = join(FIXTURES, 'csv-sample', 'input.ndjson');
  const rows = (r) => r.stdout.toString().trim().split('\n').length;
  const eq = cli([input, '--format=csv', '--field=email=E-mail', '--limit=3', '--out=-']);
  assert.equal(eq.code, 0, eq.stderr);
  assert.equal(eq.stdout.toString().split('\n')[0], 'E-mail');
  assert.equal(rows(eq), 4);
  assert.equal(rows(cli([input, '--limit', '3', '--sample', '--out', '-'])), 10);
  assert.equal(rows(cli([input, '--sample', '--limit', '3', '--out', '-'])), 3);
  const h = cli(['-h']);
  assert.equal(h.code, 0);
  assert.match(h.stdout.toString(), /--input-format auto\|ndjson\|json/);
  for (const [args, want] of [
    [[input, '--tenant'], /^userexport: --tenant needs a value/],
    [[input, '--out', '--gzip'], /^userexport: --out needs a value/],
    [[input, '--gzip=yes'], /^userexport: --gzip takes no value/],
    [[input, '-x'], /^userexport: unknown option -x/],
    [[input, input, '--input-format', 'json'], /^userexport: --input-format json reads one INPUT/],
    [[input, '--input-format', 'xml'], /^userexport: --input-format must be auto, ndjson or json/],
  ]) {
    const r = cli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, want);
    assert.match(r.stderr, /usage: userexport/);
    assert.equal(r.stdout.length, 0);
  }
});

test('--gzip is the core\'s gzip: stdout and file gunzip (node:zlib) to the plain bytes, named .gz', () => {
  const cwd = tmp();
  const input = join(FIXTURES, 'csv-sample', 'input.ndjson');
  const plain = cli([input, '--format', 'csv', '--out', '-']).stdout;
  const gz = cli([input, '--format', 'csv', '--gzip', '--out', '-']);
  assert.equal(gz.code, 0, gz.stderr);
  assert.deepEqual([...gz.stdout.subarray(0, 2)], [0x1f, 0x8b]);
  assert.ok(gunzipSync(gz.stdout).equals(plain));
  const f = cli([input, '--format', 'csv', '--gzip', '--tenant', 'acme'], { cwd });
  assert.equal(f.code, 0, f.stderr);
  assert.match(f.stderr, /wrote \d+ users to acme\.csv\.gz/);
  assert.deepEqual(readdirSync(cwd), ['acme.csv.gz']);
  assert.ok(gunzipSync(readFileSync(join(cwd, 'acme.csv.gz'))).equals(plain));
  rmSync(cwd, { recursive: true });
});

test('--input-format auto (default): the core tells NDJSON from JSON text; a bad first line is NDJSON line 1', () => {
  const cwd = tmp();
  const users = Array.from({ length: 30 }, (_, i) => JSON.stringify({ user_id: `auth0|${i + 1}` }));
  writeFileSync(join(cwd, 'first-bad.ndjson'), ['{"user_id":"x",', ...users.slice(1)].join('\n') + '\n');
  const strict = cli(['first-bad.ndjson', '--field', 'user_id', '--out', 'x.json'], { cwd });
  assert.equal(strict.code, 1, strict.stderr);
  assert.match(strict.stderr, /^userexport: first-bad\.ndjson: line 1: /);
  assert.ok(!existsSync(join(cwd, 'x.json')));
  const lenient = cli(['first-bad.ndjson', '--field', 'user_id', '--lenient', '--out', '-'], { cwd });
  assert.equal(lenient.code, 0, lenient.stderr);
  assert.equal(lenient.stdout.toString(), users.slice(1).map((u) => `${u}\n`).join(''));
  assert.match(lenient.stderr, /^userexport: skipped first-bad\.ndjson: line 1: /);
  assert.equal(lenient.stderr.trim().split('\n').length, 1, 'one skipped line (no summary with --out -)');

  // One pretty-printed JSON array or user: a JSON text, read whole (auto and json agree; stdin too).
  const want = users.map((u) => `${u}\n`).join('');
  writeFileSync(join(cwd, 'pretty.json'), JSON.stringify(users.map((u) => JSON.parse(u)), null, 2));
  writeFileSync(join(cwd, 'one.json'), JSON.stringify({ user_id: 'solo', email: 's@example.com' }, null, 2));
  for (const extra of [[], ['--input-format', 'auto'], ['--input-format', 'json']]) {
    const r = cli(['pretty.json', '--field', 'user_id', '--out', '-', ...extra], { cwd });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.toString(), want);
    const one = cli(['one.json', '--field', 'user_id', '--out', '-', ...extra], { cwd });
    assert.equal(one.stdout.toString(), '{"user_id":"solo"}\n', one.stderr);
  }
  const viaStdin = cli(['--field', 'user_id', '--out', '-'], { cwd, input: gzipSync(readFileSync(join(cwd, 'pretty.json'))) });
  assert.equal(viaStdin.stdout.toString(), want, viaStdin.stderr);

  // Named NDJSON, a JSON array fails at its first line (a bare "["), lenient or not: never a
  // completed export with its users dropped because the form was guessed.
  const named = cli(['pretty.json', '--field', 'user_id', '--input-format', 'ndjson', '--out', '-'], { cwd });
  assert.equal(named.code, 1);
  assert.match(named.stderr, /pretty\.json: line 1: /);

  // Several INPUTs are one NDJSON stream: a JSON text among them is a usage error before anything
  // is read (the core's detectInput tells, per file), lenient or not; named NDJSON reads it by line.
  writeFileSync(join(cwd, 'good.ndjson'), users.slice(0, 2).join('\n'));
  for (const extra of [[], ['--lenient']]) {
    const mixed = cli(['good.ndjson', 'pretty.json', '--field', 'user_id', '--out', 'z.csv', ...extra], { cwd });
    assert.equal(mixed.code, 2, mixed.stderr);
    assert.match(mixed.stderr, /^userexport: pretty\.json is a JSON text, which must be the only INPUT/);
    assert.ok(!existsSync(join(cwd, 'z.csv')));
  }
  const asLines = cli(['good.ndjson', 'pretty.json', '--field', 'user_id', '--input-format', 'ndjson', '--out', '-'], { cwd });
  assert.equal(asLines.code, 1);
  assert.match(asLines.stderr, /^userexport: pretty\.json: line 1: /);
  const badFirst = cli(['first-bad.ndjson', 'good.ndjson', '--field', 'user_id', '--out', '-'], { cwd });
  assert.equal(badFirst.code, 1);
  assert.match(badFirst.stderr, /^userexport: first-bad\.ndjson: line 1: /);

  // A JSON text that is not one valid value fails naming line and column, lenient too.
  writeFileSync(join(cwd, 'broken.json'), '[\n  {"user_id":"a"},\n  {"user_id":"b"}\n  {"user_id":"c"}\n]\n');
  for (const extra of [[], ['--lenient']]) {
    const r = cli(['broken.json', '--field', 'user_id', '--out', 'y.json', ...extra], { cwd });
    assert.equal(r.code, 1, `${extra}: ${r.stderr}`);
    assert.match(r.stderr, /^userexport: broken\.json: line 4, column 3: the input is not one valid JSON text/);
    assert.ok(!existsSync(join(cwd, 'y.json')));
  }
  rmSync(cwd, { recursive: true });
});

test('--query keeps the users the query matches; a bad query exits 2 with its position, before any output', () => {
  const cwd = tmp();
  const users = [
    { user_id: 'a', email: 'A@Example.com', logins_count: 12, identities: [{ connection: 'db' }, { connection: 'github' }] },
    { user_id: 'b', email: 'b@other.org', logins_count: 40, identities: [{ connection: 'github' }] },
    { user_id: 'c', email: 'c@example.com', logins_count: 3, identities: [{ connection: 'github' }] },
  ];
  writeFileSync(join(cwd, 'in.ndjson'), users.map((u) => JSON.stringify(u) + '\n').join(''));
  const q = 'email.domain:"example.com" AND logins_count:[10 TO *] AND identities.connection:github';
  const r = cli(['in.ndjson', '--field', 'user_id', '--query', q, '--out', '-'], { cwd });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.toString(), '{"user_id":"a"}\n');
  const bad = cli(['in.ndjson', '--query', 'logins_count:[10 20]', '--out', 'x.json'], { cwd });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /query: position 18: expected TO in a range/);
  assert.equal(existsSync(join(cwd, 'x.json')), false);
  rmSync(cwd, { recursive: true });
});
