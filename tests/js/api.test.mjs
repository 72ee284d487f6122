// The wasm Exporter through the package's Node entry: every public call, error codes, strict and
// lenient mode, string/byte input split anywhere, and each JS value JSON cannot carry as-is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Exporter, fileName } from 'userexport';

const CSV = { format: 'csv', fields: [{ name: 'user_id' }, { name: 'email' }] };
const text = (chunks) => Buffer.concat(chunks).toString('utf8');

/** Pushes with `push`, finishes, and pulls every chunk: the harness pattern. */
function run(request, options, push) {
  const ex = new Exporter(request, options);
  const chunks = [];
  const drain = () => {
    for (let c = ex.pull(); c; c = ex.pull()) {
      assert.ok(c instanceof Uint8Array);
      chunks.push(c);
    }
  };
  push(ex, drain);
  drain();
  ex.finish();
  drain();
  assert.equal(ex.done, true);
  const result = { out: text(chunks), stats: ex.stats, errors: ex.errors, ex };
  return result;
}

// A strict export still hands out the users encoded before its bad record, then throws: what it
// gives before the error does not depend on how the input was chunked.
test('pullInto: the same bytes as pull() for every target size 1..64, split input, and no new arrays', () => {
  const input = readFileSync(new URL('../fixtures/csv-sample/input.ndjson', import.meta.url));
  const request = JSON.parse(readFileSync(new URL('../fixtures/csv-sample/request.json', import.meta.url), 'utf8'));
  const want = run(request, {}, (ex) => ex.pushNdjson(input)).out;
  for (let size = 1; size <= 64; size++) {
    const ex = new Exporter(request, {});
    const target = new Uint8Array(size + 3).subarray(3); // a view that does not start its buffer
    const parts = [];
    const drain = () => {
      for (let n = ex.pullInto(target); n; n = ex.pullInto(target)) {
        assert.ok(n <= size);
        parts.push(Buffer.from(target.subarray(0, n)));
      }
    };
    for (let i = 0; i < input.length; i += 97) {
      ex.pushNdjson(input.subarray(i, i + 97));
      drain();
    }
    ex.finish();
    drain();
    assert.equal(ex.done, true);
    assert.equal(Buffer.concat(parts).toString('utf8'), want, `target size ${size}`);
    ex.free();
  }
  const ex = new Exporter(request, {});
  throwsCode(() => ex.pullInto(new Uint8Array(0)), 'invalid_argument');
  // A strict export's error comes through pullInto as through pull().
  const bad = new Exporter(request, {});
  bad.pushNdjson('{"user_id":"a"}\n{"user_id":\n');
  bad.finish();
  const buf = new Uint8Array(1 << 16);
  throwsCode(() => {
    while (bad.pullInto(buf));
  }, 'invalid_json', { line: 2 });
});

const pullAll = (ex) => () => {
  while (ex.pull() !== undefined);
};

function throwsCode(fn, code, extra = {}) {
  let caught;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught, `expected an error with code ${code}`);
  assert.ok(caught instanceof Error, 'errors are Error objects');
  assert.equal(caught.code, code, caught.message);
  for (const [k, v] of Object.entries(extra)) assert.equal(caught[k], v, `${k} of ${caught.message}`);
  return caught;
}

test('pushUsers / pull / finish / done / stats write Auth0 CSV', () => {
  const r = run(CSV, { tenant: 'acme' }, (ex) => ex.pushUsers([{ user_id: 'auth0|1', email: '=a@x' }, { user_id: 2 }]));
  assert.equal(r.out, 'user_id,email\n"\'auth0|1","\'=a@x"\n2,\n');
  assert.deepEqual(r.stats, { usersRead: 2, usersWritten: 2, usersSkipped: 0, usersFiltered: 0, usersMatched: 2, bytesIn: r.stats.bytesIn, bytesOut: r.out.length, lines: 0 });
  assert.equal(r.ex.fileName(), 'acme.csv');
  assert.equal(r.ex.fileName(true), 'acme.csv.gz');
  assert.equal(r.ex.format, 'csv');
  r.ex.free();
});

test('request as JSON text, default request, default tenant', () => {
  const r = run('{"fields":[{"name":"email","export_as":"E"}]}', undefined, (ex) => ex.pushUsers({ email: 'a', x: 1 }));
  assert.equal(r.out, '{"E":"a"}\n');
  assert.equal(r.ex.fileName(), 'export.json');
  const d = run(undefined, undefined, (ex) => ex.pushUsers({ user_id: 'u', blocked: false, extra: 1 }));
  assert.equal(d.out, '{"user_id":"u","blocked":false}\n');
});

test('bad request bodies throw invalid_request with statusCode 400 and errorCode invalid_body', () => {
  for (const body of [{ format: 'xml' }, { limit: 0 }, { nope: 1 }, '{not json', [], { fields: [{ name: 'a' }, { name: 'b', export_as: 'a' }] }, { format: 'csv', fields: [{ name: 'app_metadata' }] }, { limit: 10n }]) {
    const e = throwsCode(() => new Exporter(body), 'invalid_request', { statusCode: 400, errorCode: 'invalid_body' });
    assert.ok(e.message.length > 20, e.message);
  }
});

test('options: tenant checked, wrong types are invalid_argument TypeErrors', () => {
  throwsCode(() => new Exporter({}, { tenant: '../etc' }), 'invalid_tenant');
  throwsCode(() => new Exporter({}, { tenant: 'Acme' }), 'invalid_tenant');
  assert.ok(throwsCode(() => new Exporter({}, { chunkSize: 0 }), 'invalid_argument') instanceof TypeError);
  throwsCode(() => new Exporter({}, { chunkSize: 1.5 }), 'invalid_argument');
  throwsCode(() => new Exporter({}, { lenient: 'yes' }), 'invalid_argument');
  throwsCode(() => new Exporter({}, { connection: 5 }), 'invalid_argument');
  throwsCode(() => new Exporter({}, { maxRecordBytes: -1 }), 'invalid_argument');
  const ex = new Exporter({});
  throwsCode(() => ex.pushNdjson(42), 'invalid_argument');
  throwsCode(() => ex.pushJson({}), 'invalid_argument');
  ex.free();
});

test('fileName checks the tenant and names gzip files', () => {
  assert.equal(fileName('acme', 'csv'), 'acme.csv');
  assert.equal(fileName('acme', 'json', { gzip: true }), 'acme.json.gz');
  assert.equal(fileName('dev-tenant_2', 'csv', { gzip: false }), 'dev-tenant_2.csv');
  throwsCode(() => fileName('a/b', 'csv'), 'invalid_tenant');
  throwsCode(() => fileName('', 'csv'), 'invalid_tenant');
  throwsCode(() => fileName('x'.repeat(65), 'csv'), 'invalid_tenant');
  throwsCode(() => fileName('acme', 'xml'), 'invalid_argument');
});

test('chunkSize bounds every pulled chunk; pull copies out of wasm memory', () => {
  const ex = new Exporter(CSV, { chunkSize: 5 });
  ex.pushUsers(Array.from({ length: 20 }, (_, i) => ({ user_id: `u${i}` })));
  ex.finish();
  const chunks = [];
  for (let c = ex.pull(); c; c = ex.pull()) chunks.push(c);
  assert.ok(chunks.every((c) => c.length <= 5 && c.length > 0));
  const first = chunks[0].slice();
  ex.free();
  assert.deepEqual(chunks[0], first, 'a pulled chunk survives free()');
  assert.ok(text(chunks).startsWith('user_id,email\n"\'u0",\n'));
});

test('pushNdjson: bytes and strings split every 3 bytes / code units give the same output', () => {
  const input = readFileSync(new URL('../fixtures/csv-escaping/input.ndjson', import.meta.url));
  const request = JSON.parse(readFileSync(new URL('../fixtures/csv-escaping/request.json', import.meta.url), 'utf8'));
  const expected = readFileSync(new URL('../fixtures/csv-escaping/expected.csv', import.meta.url), 'utf8');
  const whole = run(request, {}, (ex) => ex.pushNdjson(input));
  assert.equal(whole.out, expected);
  const bytes3 = run(request, {}, (ex, drain) => {
    for (let i = 0; i < input.length; i += 3) {
      ex.pushNdjson(input.subarray(i, i + 3));
      drain();
    }
  });
  assert.equal(bytes3.out, expected);
  const str = input.toString('utf8');
  const units3 = run(request, {}, (ex, drain) => {
    for (let i = 0; i < str.length; i += 3) {
      ex.pushNdjson(str.slice(i, i + 3)); // splits surrogate pairs (the emoji) too
      drain();
    }
  });
  assert.equal(units3.out, expected);
  const ab = run(request, {}, (ex) => ex.pushNdjson(input.buffer.slice(input.byteOffset, input.byteOffset + input.length)));
  assert.equal(ab.out, expected);
});

test('strict: the first bad NDJSON line fails the export with code and line, and stays failed', () => {
  const ex = new Exporter(CSV);
  ex.pushNdjson('{"user_id":"a"}\n\n{"user_id":"b","user_id":"c"}\n{"user_id":"d"}\n');
  const e = throwsCode(pullAll(ex), 'duplicate_key', { line: 3 });
  assert.match(e.message, /^line 3: /);
  throwsCode(pullAll(ex), 'duplicate_key', { line: 3 });
  throwsCode(() => ex.pushNdjson('{}\n'), 'invalid_state');
  throwsCode(() => ex.finish(), 'duplicate_key');
  ex.free();
});

test('errors name the user_id when it could be read', () => {
  const ex = new Exporter(CSV);
  ex.pushNdjson('{"user_id":"auth0|9","email":"\\ud800"}\n');
  throwsCode(pullAll(ex), 'lone_surrogate', { line: 1, userId: 'auth0|9' });
});

test('lenient: bad records are skipped and reported with line / index, good ones written', () => {
  const r = run(CSV, { lenient: true }, (ex) => ex.pushNdjson('{"user_id":"a"}\n[1]\n{"user_id":"b"\n\xff\n{"user_id":"c"}'));
  assert.equal(r.out, 'user_id,email\n"\'a",\n"\'c",\n');
  assert.deepEqual(r.errors.map((e) => [e.code, e.line]), [['not_an_object', 2], ['invalid_json', 3], ['invalid_json', 4]]);
  assert.equal(r.stats.usersSkipped, 3);
  assert.equal(r.stats.lines, 5);
  assert.ok(r.errors.every((e) => typeof e.message === 'string' && e.index === undefined));
  const j = run(CSV, { lenient: true }, (ex) => ex.pushJson('[{"user_id":"a"},1,{"user_id":"b"}]'));
  assert.deepEqual(j.errors.map((e) => [e.code, e.index]), [['not_an_object', 1]]);
});

test('pushJson: one user, an array, a Management API page, as string or bytes', () => {
  const r = run(CSV, {}, (ex) => {
    ex.pushJson('{"user_id":"one"}');
    ex.pushJson(new TextEncoder().encode('[{"user_id":"a1"},{"user_id":"a2"}]'));
    ex.pushJson('{"start":0,"limit":50,"length":1,"users":[{"user_id":"p1"}],"total":1}');
  });
  assert.equal(r.out, 'user_id,email\n"\'one",\n"\'a1",\n"\'a2",\n"\'p1",\n');
  const ex = new Exporter(CSV);
  ex.pushJson('{"user_id":"x"}');
  throwsCode(() => ex.pushNdjson('{}\n'), 'invalid_state');
});

test('limitReached tells the caller to stop reading; connection filters on identities[0]', () => {
  const ex = new Exporter({ ...CSV, limit: 2 }, { connection: 'github' });
  ex.pushUsers([
    { user_id: 'a', identities: [{ connection: 'google-oauth2' }] },
    { user_id: 'b', identities: [{ connection: 'github' }] },
    { user_id: 'c', identities: [{ connection: 'github' }] },
    { user_id: 'd', identities: [{ connection: 'github' }] },
  ]);
  const chunks = [];
  for (let c = ex.pull(); c; c = ex.pull()) chunks.push(c);
  assert.equal(ex.limitReached, true);
  assert.equal(ex.done, true, 'a reached limit ends the export without finish()');
  assert.equal(text(chunks), 'user_id,email\n"\'b",\n"\'c",\n');
  assert.equal(ex.stats.usersFiltered, 1);
});

test('record cap: maxRecordBytes rejects a longer line as record_too_large', () => {
  const r = run(CSV, { lenient: true, maxRecordBytes: 32 }, (ex) => ex.pushNdjson(`{"user_id":"${'x'.repeat(40)}"}\n{"user_id":"ok"}\n`));
  assert.equal(r.out, 'user_id,email\n"\'ok",\n');
  assert.deepEqual(r.errors.map((e) => [e.code, e.line]), [['record_too_large', 1]]);
});

test('finish() then push is invalid_state; free() twice is harmless for callers that guard', () => {
  const ex = new Exporter(CSV);
  ex.finish();
  throwsCode(() => ex.pushUsers({}), 'invalid_state');
  ex.free();
});

// Each JS value that JSON cannot carry as-is, with its documented outcome.
const NDJSON_ALL = { fields: [{ name: 'user_id' }, { name: 'v' }] };
const one = (v, options = {}) => run(NDJSON_ALL, options, (ex) => ex.pushUsers({ user_id: 'u', v })).out;
const strictError = (users, code, index) => {
  const ex = new Exporter(NDJSON_ALL);
  ex.pushUsers(users);
  ex.finish();
  const e = throwsCode(() => {
    while (ex.pull());
  }, code, { index });
  ex.free();
  return e;
};

test('JS values: NaN, ±Infinity, BigInt and cycles are unsupported_value at their index', () => {
  for (const bad of [NaN, Infinity, -Infinity, 10n, { deep: [1, NaN] }]) {
    const e = strictError([{ user_id: 'ok' }, { user_id: 'bad', v: bad }], 'unsupported_value', 1);
    assert.match(e.message, /^index 1: /);
  }
  strictError([{ v: [new Number(NaN)] }], 'unsupported_value', 0);
  strictError([{}, { v: { toJSON: () => Infinity } }], 'unsupported_value', 1);
  assert.equal(one(new Number(5)), '{"user_id":"u","v":5}\n');
  const cyclic = { user_id: 'c', v: {} };
  cyclic.v.self = cyclic.v;
  assert.match(strictError([{}, {}, cyclic], 'unsupported_value', 2).message, /"v".*cycle/);
  // Only the selected paths are read: a cycle, a NaN or a BigInt elsewhere in a user is never seen.
  const elsewhere = { user_id: 'e', other: { nan: NaN, big: 1n } };
  elsewhere.self = elsewhere;
  assert.equal(run(NDJSON_ALL, {}, (ex) => ex.pushUsers([elsewhere])).out, '{"user_id":"e"}\n');
  const r = run(NDJSON_ALL, { lenient: true }, (ex) => ex.pushUsers([{ user_id: 'a', v: null }, { user_id: 'b', v: NaN }, { user_id: 'c', v: 1n }, { user_id: 'd' }]));
  assert.equal(r.out, '{"user_id":"a","v":null}\n{"user_id":"d"}\n');
  assert.deepEqual(r.errors.map((e) => [e.code, e.index]), [['unsupported_value', 1], ['unsupported_value', 2]]);
  // firstIndex numbers a batch inside a longer list
  const b = run(NDJSON_ALL, { lenient: true }, (ex) => ex.pushUsers([{ user_id: 'x' }, { v: NaN }], 1000));
  assert.deepEqual(b.errors.map((e) => e.index), [1001]);
});

test('JS values: a getter or toJSON that throws is unsupported_value naming the thrown error', () => {
  const user = { user_id: 'g' };
  Object.defineProperty(user, 'v', { enumerable: true, get() { throw new Error('boom'); } });
  assert.match(strictError([user], 'unsupported_value', 0).message, /boom/);
  assert.match(strictError([{}, { v: { toJSON() { throw new RangeError('nope'); } } }], 'unsupported_value', 1).message, /nope/);
});

test('JS values: lone surrogates in values and keys are lone_surrogate, never U+FFFD', () => {
  strictError([{ user_id: 'x', v: 'a\ud800b' }], 'lone_surrogate', 0);
  // A lone surrogate in a key no field selects is never read.
  assert.equal(run(NDJSON_ALL, {}, (ex) => ex.pushUsers([{ user_id: 'x', ['k\udc00']: 1 }])).out, '{"user_id":"x"}\n');
  strictError([{}, { user_id: 'x', v: { ['k\udc00']: 1 } }], 'lone_surrogate', 1);
  const ex = new Exporter(NDJSON_ALL);
  ex.pushJson('{"user_id":"a\udbff"}');
  throwsCode(pullAll(ex), 'lone_surrogate', { index: 0 });
  const nd = new Exporter(NDJSON_ALL);
  nd.pushNdjson('{"user_id":"ok"}\n{"user_id":"x\ud800"}\n');
  throwsCode(pullAll(nd), 'lone_surrogate', { line: 2 });
  // a string chunk ending in a high surrogate whose pair never comes
  for (const next of ['"}\n', new TextEncoder().encode('"}\n')]) {
    const tail = new Exporter(NDJSON_ALL);
    tail.pushNdjson('{"user_id":"x\ud83d');
    tail.pushNdjson(next);
    throwsCode(pullAll(tail), 'lone_surrogate', { line: 1 });
  }
  const end = new Exporter(NDJSON_ALL);
  end.pushNdjson('{"user_id":"ok"}\n{"user_id":"x\ud83d');
  end.finish();
  throwsCode(pullAll(end), 'invalid_json', { line: 2 });
  // a well-formed pair is fine
  assert.equal(one('😀'), '{"user_id":"u","v":"😀"}\n');
});

test('JS values written as JSON.stringify writes them', () => {
  assert.equal(one(undefined), '{"user_id":"u"}\n', 'undefined members are left out');
  assert.equal(one(() => 1), '{"user_id":"u"}\n', 'functions are left out');
  assert.equal(one(Symbol('s')), '{"user_id":"u"}\n', 'symbols are left out');
  assert.equal(one([1, undefined, () => 1, Symbol('s')]), '{"user_id":"u","v":[1,null,null,null]}\n', 'in arrays they become null');
  assert.equal(one(-0), '{"user_id":"u","v":0}\n', '-0 is written 0');
  assert.equal(one(new Date(Date.UTC(2024, 1, 29, 12))), '{"user_id":"u","v":"2024-02-29T12:00:00.000Z"}\n', 'Date via toJSON');
  assert.equal(one(new Date(NaN)), '{"user_id":"u","v":null}\n', 'an invalid Date is null (its toJSON)');
  assert.equal(one(new Map([['a', 1]])), '{"user_id":"u","v":{}}\n', 'Map has no enumerable own members');
  assert.equal(one(new Set([1])), '{"user_id":"u","v":{}}\n');
  // eslint-disable-next-line no-sparse-arrays
  assert.equal(one([1, , 3]), '{"user_id":"u","v":[1,null,3]}\n', 'holes are null');
  assert.equal(one({ toJSON: () => 'custom' }), '{"user_id":"u","v":"custom"}\n', 'toJSON honoured');
  assert.equal(one({ [Symbol('k')]: 1, a: 1 }), '{"user_id":"u","v":{"a":1}}\n', 'symbol keys ignored');
  assert.equal(one(JSON.parse('{"__proto__":{"x":1}}')), '{"user_id":"u","v":{"__proto__":{"x":1}}}\n', 'an own __proto__ key is data');
  assert.equal(one({ __proto__: { inherited: 1 } }), '{"user_id":"u","v":{}}\n', 'a literal __proto__ sets the prototype: nothing to write');
  assert.equal(one(1e21), '{"user_id":"u","v":1e+21}\n');
  assert.equal(one(new String('boxed')), '{"user_id":"u","v":"boxed"}\n');
});

test('JS values: a user that is not an object is not_an_object at its index (holes and undefined included)', () => {
  // eslint-disable-next-line no-sparse-arrays
  const r = run(NDJSON_ALL, { lenient: true }, (ex) => ex.pushUsers([{ user_id: 'a' }, , undefined, 'str', [1], null, 5, { user_id: 'b' }]));
  assert.equal(r.out, '{"user_id":"a"}\n{"user_id":"b"}\n');
  assert.deepEqual(r.errors.map((e) => [e.code, e.index]), [1, 2, 3, 4, 5, 6].map((i) => ['not_an_object', i]));
  strictError(42, 'not_an_object', 0);
});

test('query: Auth0 user-search syntax over the export; a bad query is refused before any user is read', () => {
  const users = [
    { user_id: 'a', email: 'Ann@Example.com', identities: [{ connection: 'db' }, { connection: 'github' }], logins_count: 5 },
    { user_id: 'b', email: 'bob@other.org', identities: [{ connection: 'db' }], logins_count: 50 },
    { user_id: 'c', identities: [{ connection: 'github' }] },
  ];
  const ndjson = users.map((u) => JSON.stringify(u)).join('\n') + '\n';
  const req = { fields: [{ name: 'user_id' }] };
  for (const [query, want] of [
    ['identities.connection:github', 'a c'],
    ['email.domain:example.com', 'a'],
    ['email:"ann@example.com"', 'a'],
    ['logins_count:[10 TO *]', 'b'],
    ['NOT _exists_:email', 'c'],
    ['(identities.connection:github AND logins_count:{1 TO 10}) OR user_id:b', 'a b'],
  ]) {
    for (const push of [(ex) => ex.pushUsers(users), (ex) => ex.push(ndjson), (ex) => ex.pushJson(JSON.stringify(users))]) {
      const r = run(req, { query }, push);
      assert.equal(r.out.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l).user_id).join(' '), want, query);
      assert.equal(r.stats.usersMatched, want.split(' ').length, query);
    }
  }
  const e = throwsCode(() => new Exporter(req, { query: 'logins_count:[1 10]' }), 'invalid_query', { statusCode: 400 });
  assert.match(e.message, /position \d+/);
  assert.match(e.message, /TO/);
});

test('detectInput: the rule of input "auto", asked of a prefix', async () => {
  const { detectInput } = await import('userexport');
  assert.equal(detectInput('[{"user_id":"a"}'), 'json');
  assert.equal(detectInput('{"user_id":"a",\n{"user_id":"b"}\n'), 'ndjson');
  assert.equal(detectInput('{"user_id":"a"}\n{"user_id":"b"}'), 'ndjson');
  assert.equal(detectInput('{\n  "user_id": "a"'), undefined);
  assert.equal(detectInput('{\n  "user_id": "a"\n}\n', true), 'json');
  assert.equal(detectInput(new TextEncoder().encode('  \n'), true), 'ndjson');
  assert.equal(detectInput('\u{feff}[1]', true), 'json');
  throwsCode(() => detectInput(42), 'invalid_argument');
});
