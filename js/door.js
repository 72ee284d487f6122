// The JS half of the wasm door (bound by src/wasm.rs): what must run as JS to be fast or exact.
//
// pushUsers reads JS objects only along the selected paths (COMPATIBILITY.md, "JS objects"): a
// picker built once per export walks each user's selected paths and hands the wasm one compact
// JSON text per batch, `[{"0":v0,"2":v2,…},…]`, where key i is field i's value and absent
// fields are left out. The wasm then encodes those values; keys no field selects are never read.

// Property reads go through a generated function where the platform allows it: constant keys give
// V8 monomorphic loads (2-3x faster than a loop over path steps). Workers and pages with a strict
// CSP forbid `new Function`; there the interpreted picker below does the same walk.
let canGenerate;
function generationAllowed() {
  if (canGenerate === undefined) {
    try {
      canGenerate = new Function('return 1')() === 1;
    } catch {
      canGenerate = false;
    }
  }
  return canGenerate;
}

const isEnumerable = Function.prototype.call.bind(Object.prototype.propertyIsEnumerable);

/** What JSON.stringify makes of a value met as an array element: absent things become null. */
const elementValue = (v) => (v === undefined || typeof v === 'function' || typeof v === 'symbol' ? null : v);

/** JSON.stringify reads an object through its toJSON, if it has one. */
function viaToJson(v, key) {
  if (v !== null && (typeof v === 'object' || typeof v === 'bigint') && typeof v.toJSON === 'function') return v.toJSON(key);
  return v;
}

/** The value at `path` in `root` (a user after its toJSON) as JSON.stringify would write it, or undefined when absent. */
function walk(root, path) {
  let v = root;
  let key = '';
  for (let s = 0; s < path.length; s++) {
    const step = path[s];
    if (s > 0) v = viaToJson(v, key);
    if (typeof step === 'number') {
      if (!Array.isArray(v) || step >= v.length) return undefined;
      v = elementValue(v[step]);
      key = String(step);
    } else {
      if (v === null || typeof v !== 'object' || Array.isArray(v) || isBoxed(v) || !isEnumerable(v, step)) return undefined;
      v = v[step];
      if (typeof v === 'function' || typeof v === 'symbol') return undefined;
      key = step;
    }
  }
  return v;
}

/** Boxed primitives are written as the primitive, so no key step enters them. */
const isBoxed = (v) => v instanceof String || v instanceof Number || v instanceof Boolean;

/**
 * A picker for `paths` (arrays of keys and indexes): `pick(user)` returns the compact object of
 * the user's selected values, or throws a `Bad` naming the field whose value JSON cannot carry.
 */
export function make_picker(paths, names) {
  const fields = paths.map((path, i) => ({ path, name: names[i], key: String(i) }));
  if (generationAllowed()) return generatedPicker(fields);
  return function pick(user) {
    const root = checkUser(user);
    const out = {};
    for (let i = 0; i < fields.length; i++) {
      const v = walk(root, fields[i].path);
      if (v !== undefined) out[fields[i].key] = checked(v, fields[i].name);
    }
    return out;
  };
}

function generatedPicker(fields) {
  // Each step is the interpreted walk() unrolled with its key as a constant. The fast tests come
  // first; toJSON, boxed primitives and non-enumerable members are handled exactly but rarely seen.
  const lines = ['const r = checkUser(u); const o = {}; let v, k;'];
  fields.forEach((f, i) => {
    lines.push('v = r; k = "";');
    f.path.forEach((step, s) => {
      if (s > 0) lines.push('if (v !== null && typeof v === "object" && typeof v.toJSON === "function") v = v.toJSON(k);');
      if (typeof step === 'number') {
        lines.push(`v = Array.isArray(v) && ${step} < v.length ? elementValue(v[${step}]) : undefined; k = "${step}";`);
      } else {
        const key = JSON.stringify(step);
        lines.push(
          `if (v !== null && typeof v === "object" && !Array.isArray(v) && !isBoxed(v) && isEnumerable(v, ${key})) {` +
            ` v = v[${key}]; if (typeof v === "function" || typeof v === "symbol") v = undefined; } else v = undefined; k = ${key};`,
        );
      }
      if (s < f.path.length - 1) lines.push('if (v !== undefined) {');
    });
    lines.push(`if (v !== undefined) o[${i}] = checked(v, names[${i}]);`);
    for (let s = 1; s < f.path.length; s++) lines.push('}');
  });
  lines.push('return o;');
  const names = fields.map((f) => f.name);
  // eslint-disable-next-line no-new-func -- generated once per export from the request's own paths
  const make = new Function('checkUser', 'viaToJson', 'elementValue', 'isBoxed', 'isEnumerable', 'checked', 'names', `return function pick(u) {\n${lines.join('\n')}\n};`);
  return make(checkUser, viaToJson, elementValue, isBoxed, isEnumerable, checked, names);
}

class Bad {
  constructor(message, code = 'unsupported_value') {
    this.message = message;
    this.code = code;
  }
}

function checkUser(user) {
  const u = viaToJson(user, '');
  if (u === null || typeof u !== 'object' || Array.isArray(u) || isBoxed(u)) {
    const what = u === null ? 'null' : Array.isArray(u) ? 'an array' : typeof u === 'object' ? `a boxed ${typeof u.valueOf()}` : `a ${typeof u}`;
    throw new Bad(`a user must be an object, not ${what}`, 'not_an_object');
  }
  return u;
}

/** A selected value JSON can carry as it is, or a Bad naming the field. */
function checked(v, name) {
  switch (typeof v) {
    case 'string':
      // One-byte strings answer at once; only two-byte strings are scanned.
      if (!wellFormed(v)) throw new Bad(`the field ${JSON.stringify(name)} holds a lone surrogate, which UTF-8 and JSON cannot carry`, 'lone_surrogate');
      return v;
    case 'number':
      if (!Number.isFinite(v)) throw new Bad(`the field ${JSON.stringify(name)} is ${v}: JSON has no NaN or Infinity`);
      return v;
    case 'bigint':
      throw new Bad(`the field ${JSON.stringify(name)} is a BigInt: JSON numbers cannot carry it exactly; convert it to a string or a number first`);
    case 'object':
      if (v !== null) objects.push(v, name);
      return v;
    default:
      return v;
  }
}

// Objects picked whole in the current batch, with their field names: JSON.stringify writes a NaN
// inside them as null, so when the batch's text has a null they are walked for one.
let objects = [];

/**
 * The users of `batch` (an array, or one user) as one JSON text of picked objects, or, when one of
 * them cannot be written, an array with per user either its picked JSON text or `{index, code,
 * message}` — so the wasm can take the good ones and report the bad ones in order.
 */
export function pick_batch(users, pick, names) {
  currentNames = names;
  const batch = Array.isArray(users) ? users : [users];
  objects = [];
  const picked = new Array(batch.length);
  let bad = false;
  for (let i = 0; i < batch.length; i++) {
    try {
      picked[i] = pick(batch[i]);
    } catch (e) {
      picked[i] = problem(e, i);
      bad = true;
    }
  }
  if (!bad) {
    try {
      const text = JSON.stringify(picked);
      if (!(objects.length && text.includes('null') && objects.some((o, j) => j % 2 === 0 && nonFinite(o, '')))) {
        objects = [];
        return text;
      }
    } catch {
      // A BigInt or a cycle inside a picked object: found user by user below.
    }
  }
  objects = [];
  return picked.map((p, i) => (p instanceof Problem ? p.toJs(i) : one(p, i)));
}

class Problem {
  constructor(code, message) {
    this.code = code;
    this.message = message;
  }
  toJs(index) {
    return { index, code: this.code, message: this.message };
  }
}

function problem(e, index) {
  if (e instanceof Bad) return new Problem(e.code, e.message);
  return new Problem('unsupported_value', `reading user ${index} threw: ${e}`);
}

/** One picked user's JSON text, or the reason it has none. */
function one(picked, index) {
  objects = [];
  let text;
  try {
    text = JSON.stringify(picked);
  } catch (e) {
    const text = String(e && e.message);
    if (e instanceof TypeError && /circular|cyclic/i.test(text)) {
      return { index, code: 'unsupported_value', message: `the field ${fieldOf(picked, cycleIn)} holds a cycle (an object that contains itself), which JSON cannot write` };
    }
    if (e instanceof TypeError && /bigint/i.test(text)) {
      return { index, code: 'unsupported_value', message: `the field ${fieldOf(picked, bigIntIn)} holds a BigInt: JSON numbers cannot carry it exactly; convert it to a string or a number first` };
    }
    return { index, code: 'unsupported_value', message: `writing user ${index} threw: ${e}` };
  }
  if (text.includes('null')) {
    for (const [k, v] of Object.entries(picked)) {
      if (v !== null && typeof v === 'object' && nonFinite(v, k)) {
        return { index, code: 'unsupported_value', message: `the field ${fieldName(k)} holds a NaN or an Infinity: JSON has none` };
      }
    }
  }
  return text;
}

// The field names of the batch being picked, for messages about a picked object.
let currentNames = [];
const fieldName = (key) => JSON.stringify(currentNames[Number(key)] ?? key);

function fieldOf(picked, test) {
  for (const [k, v] of Object.entries(picked)) if (test(v)) return fieldName(k);
  return 'of the user';
}

const bigIntIn = (v) => {
  try {
    JSON.stringify(v);
    return false;
  } catch (e) {
    return /bigint/i.test(String(e && e.message));
  }
};
const cycleIn = (v) => {
  try {
    JSON.stringify(v);
    return false;
  } catch (e) {
    return /circular|cyclic/i.test(String(e && e.message));
  }
};

/** True when JSON.stringify would write a NaN or an Infinity somewhere in `value` as null. */
function nonFinite(value, key) {
  value = viaToJson(value, key);
  if (typeof value === 'number') return !Number.isFinite(value);
  if (typeof value !== 'object' || value === null) return false;
  if (value instanceof Number) return !Number.isFinite(Number(value));
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (nonFinite(value[i], String(i))) return true;
    return false;
  }
  for (const k in value) if (Object.hasOwn(value, k) && nonFinite(value[k], k)) return true;
  return false;
}

const SURROGATE = /\p{Surrogate}/u;
// isWellFormed answers one-byte strings at once; engines before 2023 lack it.
const wellFormed = typeof String.prototype.isWellFormed === 'function' ? (s) => s.isWellFormed() : (s) => !SURROGATE.test(s);

/** Whether a UTF-16 string is well formed (no lone surrogate). */
export function well_formed(s) {
  return wellFormed(s);
}

/** A string's lone surrogates as `\uXXXX` escapes, which the core rejects as `lone_surrogate` where they stand. */
export function escape_lone_surrogates(s) {
  return s.replace(/\p{Surrogate}/gu, (c) => '\\u' + c.charCodeAt(0).toString(16));
}
