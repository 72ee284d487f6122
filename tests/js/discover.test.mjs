// The wasm Discoverer through the package's Node entry: the same paths whatever the chunking and
// input form, maxUsers read and not one user more, its options checked, bad records listed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Discoverer } from 'userexport';

const sample = readFileSync(new URL('../../samples/users.ndjson', import.meta.url));

function discover(bytes, options, chunk = bytes.length) {
  const d = new Discoverer(options);
  for (let at = 0; at < bytes.length && !d.full; at += chunk) d.push(bytes.subarray(at, at + chunk));
  d.finish();
  const result = d.result();
  const errors = d.errors;
  d.free();
  return { result, errors };
}

test('the sample users: the same result at every chunk size, and as a JSON array', () => {
  const whole = discover(sample).result;
  assert.equal(whole.users, 1000);
  assert.equal(whole.complete, true);
  // Every user has a user_id; the first one's is the example.
  const first = JSON.parse(sample.toString('utf8').split('\n')[0]);
  assert.deepEqual(whole.paths[0], { path: 'user_id', present: 1000, filled: 1000, kinds: ['string'], example: JSON.stringify(first.user_id) });
  for (const chunk of [1, 1000, 65536]) assert.deepEqual(discover(sample, undefined, chunk).result, whole);
  const lines = sample.toString('utf8').split('\n').filter(Boolean);
  const array = Buffer.from(`[\n${lines.join(',\n')}\n]`);
  assert.deepEqual(discover(array, { input: 'json' }, 4096).result, whole);
});

test('maxUsers: full after that many records, not one more read', () => {
  const { result } = discover(sample, { maxUsers: 7 }, 333);
  assert.equal(result.users, 7);
  assert.equal(result.usersRead, 7);
  assert.equal(result.complete, false);
});

test('bad records are skipped and listed with their line', () => {
  const { result, errors } = discover(Buffer.from('{"a":1}\n{oops}\n{"a":null}\n'));
  assert.equal(result.users, 2);
  assert.equal(result.usersSkipped, 1);
  assert.deepEqual(result.paths, [{ path: 'a', present: 2, filled: 1, kinds: ['number', 'null'], example: '1' }]);
  assert.equal(errors.length, 1);
  assert.equal(errors[0].line, 2);
  assert.equal(errors[0].code, 'invalid_json');
});

test('options are checked: an unknown or bad one is a TypeError naming it', () => {
  assert.throws(() => new Discoverer({ maxUser: 10 }), { name: 'TypeError', code: 'invalid_argument', message: /unknown option "maxUser"/ });
  assert.throws(() => new Discoverer({ maxUsers: 0 }), { name: 'TypeError', message: /maxUsers/ });
  assert.throws(() => new Discoverer({ input: 'xml' }), { name: 'TypeError', message: /input/ });
  const d = new Discoverer({ maxIndex: 0 });
  d.push('{"roles":["a","b"]}');
  d.finish();
  assert.deepEqual(d.result().paths.map((p) => p.path), ['roles']);
  d.free();
});
