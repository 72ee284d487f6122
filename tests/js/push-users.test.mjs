// pushUsers reads JS objects along the selected paths only: for any objects JSON can carry, its
// bytes equal those of the same users pushed as JSON.stringify's text, and keys no field selects
// are never read (COMPATIBILITY.md, "JS objects").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Exporter } from 'userexport';
// Seeded, so a failure names a seed that replays it.
import { mulberry32 as rng } from '../seeded.mjs';

const KEYS = ['user_id', 'email', 'identities', 'connection', 'app_metadata', 'plan', 'a', 'b', 'created_at', '0'];
const STRINGS = ['', 'x', 'a"b', "=1+1", 'line\nbreak\r\n', 'tab\t', '\u0000nul', 'é', '😀', '\u2028', 'auth0|1', '2024-01-02T03:04:05.678Z', 'null'];
const NUMBERS = [0, -0, 1, -1, 0.1, 1e21, 1.5e-7, 123456789012, 2 ** 53, -3.25];

function value(r, depth) {
  const k = Math.floor(r() * (depth > 3 ? 6 : 14));
  switch (k) {
    case 0: return STRINGS[Math.floor(r() * STRINGS.length)];
    case 1: return NUMBERS[Math.floor(r() * NUMBERS.length)];
    case 2: return r() < 0.5;
    case 3: return null;
    case 4: return undefined;
    case 5: return () => 1;
    case 6: return object(r, depth + 1);
    case 7: return array(r, depth + 1);
    case 8: return new Date(Date.UTC(2024, 0, 1 + Math.floor(r() * 300)));
    case 9: {
      const result = r() < 0.5 ? 'via toJSON' : { plan: 'from toJSON' };
      return { toJSON: () => result };
    }
    case 10: return r() < 0.5 ? new String('boxed') : new Number(7);
    case 11: return Symbol('s');
    case 12: {
      const o = object(r, depth + 1);
      Object.defineProperty(o, 'plan', { value: 'hidden', enumerable: false });
      return o;
    }
    default: {
      const proto = { plan: 'inherited', email: 'inherited@x' };
      return Object.assign(Object.create(proto), object(r, depth + 1));
    }
  }
}

function object(r, depth) {
  const o = {};
  const n = Math.floor(r() * 5);
  for (let i = 0; i < n; i++) o[KEYS[Math.floor(r() * KEYS.length)]] = value(r, depth);
  return o;
}

function array(r, depth) {
  const a = [];
  const n = Math.floor(r() * 4);
  for (let i = 0; i < n; i++) a.push(value(r, depth));
  if (r() < 0.2) a.length += 2; // holes
  return a;
}

function user(r) {
  const u = object(r, 1);
  if (r() < 0.8) u.user_id = `auth0|${Math.floor(r() * 1000)}`;
  if (r() < 0.6) u.identities = [{ connection: r() < 0.5 ? 'db' : 'github' }, ...array(r, 2)];
  return u;
}

const REQUESTS = [
  { format: 'json', fields: [{ name: 'user_id' }, { name: 'email' }, { name: 'identities[0].connection', export_as: 'c' }, { name: 'app_metadata' }, { name: 'app_metadata.plan', export_as: 'p' }, { name: 'a' }, { name: 'a[0]', export_as: 'a0' }, { name: 'a[2].b', export_as: 'a2b' }, { name: 'identities' }, { name: '0' }] },
  { format: 'csv', fields: [{ name: 'user_id' }, { name: 'email' }, { name: 'created_at' }, { name: 'identities[1]', export_as: 'i1' }, { name: 'app_metadata.plan' }, { name: 'b.a.plan' }, { name: 'a[1][0]', export_as: 'a10' }, { name: 'connection' }] },
  { format: 'csv', fields: [{ name: 'b' }] },
  {},
];

const drain = (ex, out) => {
  for (let c = ex.pull(); c; c = ex.pull()) out.push(Buffer.from(c));
};

function exportWith(request, options, push) {
  const ex = new Exporter(request, options);
  const out = [];
  push(ex);
  drain(ex, out);
  ex.finish();
  drain(ex, out);
  const result = { bytes: Buffer.concat(out).toString('utf8'), stats: ex.stats, errors: ex.errors };
  ex.free();
  return result;
}

test('pushUsers writes the bytes of JSON.stringify(users) pushed as text, for hostile objects', () => {
  for (let seed = 1; seed <= 60; seed++) {
    const r = rng(seed);
    const users = Array.from({ length: 40 }, () => user(r));
    for (const request of REQUESTS) {
      for (const options of [{}, { connection: 'github' }, { lenient: true }, { query: 'identities.connection:github' }, { query: '_exists_:email OR app_metadata.plan:gold' }, { query: 'NOT a:x AND created_at:[2024-01-01 TO *]', connection: 'db' }]) {
        const text = JSON.stringify(users);
        const viaText = exportWith(request, options, (ex) => ex.pushJson(text));
        const viaObjects = exportWith(request, options, (ex) => {
          for (let i = 0; i < users.length; i += 7) ex.pushUsers(users.slice(i, i + 7), i);
        });
        const what = `seed ${seed}, request ${JSON.stringify(request)}, options ${JSON.stringify(options)}`;
        assert.equal(viaObjects.bytes, viaText.bytes, what);
        assert.equal(viaObjects.stats.usersWritten, viaText.stats.usersWritten, what);
        assert.equal(viaObjects.stats.usersFiltered, viaText.stats.usersFiltered, what);
        assert.equal(viaObjects.stats.usersMatched, viaText.stats.usersMatched, what);
      }
    }
  }
});

test('keys no field selects are never read: their getters never run, their values are never checked', () => {
  let reads = 0;
  const u = { user_id: 'u1', email: 'a@x', huge: { nan: NaN, big: 1n } };
  Object.defineProperty(u, 'secret', { enumerable: true, get: () => { reads++; return 'x'; } });
  const cyclic = { user_id: 'u2' };
  cyclic.self = cyclic;
  const r = exportWith({ format: 'csv', fields: [{ name: 'user_id' }, { name: 'email' }] }, {}, (ex) => ex.pushUsers([u, cyclic]));
  assert.equal(r.bytes, `user_id,email\n"'u1","'a@x"\n"'u2",\n`);
  assert.equal(reads, 0);
});

test('a selected value JSON cannot carry names the user index and the field', () => {
  const request = { format: 'json', fields: [{ name: 'user_id' }, { name: 'app_metadata.score', export_as: 'score' }, { name: 'user_metadata' }] };
  const users = [
    { user_id: 'ok1' },
    { user_id: 'nan', app_metadata: { score: NaN } },
    { user_id: 'big', app_metadata: { score: 10n } },
    { user_id: 'deep-nan', user_metadata: { a: [1, Infinity] } },
    { user_id: 'deep-big', user_metadata: { a: { b: 2n } } },
    { user_id: 'lone', app_metadata: { score: 'x\ud800' } },
    'not a user',
    { user_id: 'ok2', app_metadata: { score: 3, other: NaN } },
  ];
  const cyc = { user_id: 'cycle', user_metadata: {} };
  cyc.user_metadata.me = cyc.user_metadata;
  users.splice(7, 0, cyc);
  const r = exportWith(request, { lenient: true }, (ex) => ex.pushUsers(users, 100));
  assert.equal(r.bytes, '{"user_id":"ok1"}\n{"user_id":"ok2","score":3}\n');
  const seen = r.errors.map((e) => [e.index, e.code, e.message.replace(/^index \d+: /, '')]);
  assert.deepEqual(seen.map((s) => s.slice(0, 2)), [
    [101, 'unsupported_value'],
    [102, 'unsupported_value'],
    [103, 'unsupported_value'],
    [104, 'unsupported_value'],
    [105, 'lone_surrogate'],
    [106, 'not_an_object'],
    [107, 'unsupported_value'],
  ]);
  for (const [, , message] of seen.slice(0, 6)) assert.match(message, /"app_metadata\.score"|"user_metadata"|an object/);
  assert.match(seen[6][2], /"user_metadata".*cycle/);
  // Strict: the first bad one fails the export after the good user before it.
  const strict = new Exporter(request);
  strict.pushUsers(users);
  const out = [];
  assert.throws(() => drain(strict, out), (e) => e.code === 'unsupported_value' && e.index === 1 && /NaN/.test(e.message));
  assert.equal(Buffer.concat(out).toString(), '{"user_id":"ok1"}\n');
});

test('batches of any size: columns that turn non-ASCII late, arrays of strings, bad users between', () => {
  // The door encodes its texts every so many users and keeps non-ASCII columns apart from the
  // first one seen: batches of every size below cross those steps at different users.
  const ROLES = [[], ['admin', 'billing'], ['a"b'], ['😀'], ['x', 1], ['é', 'line\n'], ['\\'], ['tab\t'], ['lone\udc00'], ['null']];
  const users = Array.from({ length: 700 }, (_, i) => ({
    user_id: `auth0|${i}`,
    email: i >= 300 && i % 3 === 0 ? `é${i}@x` : `u${i}@x`,
    // 131: a high surrogate ending one cell and a low one starting the next pair up in the
    // batch's text, but each cell alone is ill-formed.
    name: i === 129 ? 'Zoë 😀' : i === 130 ? 'x\ud83d' : i === 131 ? '\ude00y' : `n${i}`,
    nickname: i === 131 ? 'n\ud83d' : `k${i}`,
    app_metadata: { roles: ROLES[i % ROLES.length], plan: i % 5 === 0 ? '"gold"' : 'free' },
  }));
  const request = { format: 'csv', fields: [{ name: 'user_id' }, { name: 'email' }, { name: 'nickname' }, { name: 'name' }, { name: 'app_metadata.roles' }, { name: 'app_metadata.plan' }] };
  for (const format of ['csv', 'json']) {
    const viaText = exportWith({ ...request, format }, { lenient: true }, (ex) => ex.pushJson(JSON.stringify(users)));
    for (const size of [700, 300, 129, 128, 127, 64, 1]) {
      const viaObjects = exportWith({ ...request, format }, { lenient: true }, (ex) => {
        for (let i = 0; i < users.length; i += size) ex.pushUsers(users.slice(i, i + size), i);
      });
      assert.equal(viaObjects.bytes, viaText.bytes, `${format}, batches of ${size}`);
      assert.deepEqual(viaObjects.errors.map((e) => [e.index, e.code]), viaText.errors.map((e) => [e.index, e.code]), `${format}, batches of ${size}`);
    }
    assert.ok(viaText.errors.length > 70, 'the lone surrogates make users bad');
  }
});

test('objects of hundreds of shapes: which selected keys each has is never taken from another shape', () => {
  // Every user a shape of its own (a key that is data), half of them with a selected key that is
  // not enumerable, so a stale answer for a key list would show in the bytes.
  const users = Array.from({ length: 900 }, (_, i) => {
    const u = { [`k${i}`]: i, user_id: `u${i}`, app_metadata: { [`x${i % 300}`]: 1, plan: `p${i}` } };
    if (i % 2 === 1) Object.defineProperty(u, 'email', { value: `hidden${i}`, enumerable: false });
    else u.email = `e${i}`;
    if (i % 3 === 0) Object.defineProperty(u.app_metadata, 'plan', { enumerable: false });
    return u;
  });
  const request = { format: 'json', fields: [{ name: 'user_id' }, { name: 'email' }, { name: 'app_metadata.plan' }] };
  const viaText = exportWith(request, {}, (ex) => ex.pushJson(JSON.stringify(users)));
  const viaObjects = exportWith(request, {}, (ex) => ex.pushUsers(users));
  assert.equal(viaObjects.bytes, viaText.bytes);
  assert.equal(viaText.bytes.split('\n')[3], '{"user_id":"u3"}');
});

// Workers and strict-CSP pages forbid `new Function`: there the door walks the paths with its
// interpreted picker. This file runs again in a Node that forbids it too, so every test above
// also holds for that picker.
const interpreted = process.env.USEREXPORT_INTERPRETED_PICKER === '1';
test('the interpreted picker (no new Function, as in Workers) passes every test above', { skip: interpreted }, () => {
  // Without the runner's NODE_TEST_CONTEXT, the child reports as a test file run on its own.
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  const r = spawnSync(process.execPath, ['--disallow-code-generation-from-strings', fileURLToPath(import.meta.url)], {
    env: { ...env, USEREXPORT_INTERPRETED_PICKER: '1' },
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /# pass 6\b/);
});
test('code generation is forbidden in the run of the interpreted picker', { skip: !interpreted }, () => {
  // eslint-disable-next-line no-new-func -- the probe: it must throw here
  assert.throws(() => new Function('return 1'), EvalError);
});
