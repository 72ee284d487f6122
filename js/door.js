// The JS half of the wasm door (bound by src/wasm/mod.rs): what must run as JS to be fast or exact.
//
// pushUsers reads JS objects only along the selected paths (COMPATIBILITY.md, "JS objects"): a
// picker built once per export walks each user's selected paths and writes each value as a typed
// cell (absent, null, false, true, text, number, JSON) into one batch: a tag array, a length
// array and two texts (below), which cross to the wasm as UTF-8 by encodeInto. The wasm encodes
// the cells without parsing anything but whole objects; keys no field selects are never read.
// Cell tags are those of the core's `Cell` (src/input/cells.rs).

// Property reads go through a generated function where the platform allows it: constant keys give
// V8 monomorphic loads (2-3x faster than a loop over path steps). Workers and pages with a strict
// CSP forbid `new Function`; there the interpreted picker below does the same walk.
let canGenerate;
function generationAllowed() {
  if (canGenerate === undefined) {
    try {
      // eslint-disable-next-line no-new-func -- the probe for the CSP check above
      canGenerate = new Function('return 1')() === 1;
    } catch {
      canGenerate = false;
    }
  }
  return canGenerate;
}

const propertyIsEnumerable = Object.prototype.propertyIsEnumerable;
const isEnumerable = (o, key) => propertyIsEnumerable.call(o, key);

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

/** Boxed primitives are written as the primitive, so no key step enters them (a plain object's
 *  constructor answers first: one load instead of three instanceof). */
const isBoxed = (v) => v.constructor !== Object && (v instanceof String || v instanceof Number || v instanceof Boolean);

/**
 * A picker for `paths` (arrays of keys and indexes): `pick(user)` writes the user's selected
 * values as cells of the current batch, or throws a `Bad` naming the field JSON cannot carry.
 */
export function make_picker(paths, queryPaths, names) {
  const fields = generationAllowed() ? generatedPicker(paths) : interpretedPicker(paths);
  const pick =
    queryPaths.length === 0
      ? fields
      : function pick(user) {
          const root = fields(user);
          for (let i = 0; i < queryPaths.length; i++) putReached(root, queryPaths[i], paths.length + i);
        };
  // Per export: the column names (for messages) and which columns have shown non-ASCII text.
  pick.names = names;
  pick.wide = new Uint8Array(names.length);
  return pick;
}

function interpretedPicker(paths) {
  return function pick(user) {
    const root = checkUser(user);
    for (let i = 0; i < paths.length; i++) put(walk(root, paths[i]), i);
    return root;
  };
}

/**
 * A query path's cell: what its keys reach, arrays crossed at any level (Auth0's search skips
 * array levels: `identities.connection` looks at every identity). One value is written as it
 * is; values reached through arrays go as one JSON array, which the core reads through.
 */
function putReached(root, keys, col) {
  const reached = [];
  let crossed = false;
  const visit = (v, i, key) => {
    v = viaToJson(v, key);
    if (Array.isArray(v)) {
      crossed = true;
      for (let e = 0; e < v.length; e++) visit(elementValue(v[e]), i, String(e));
      return;
    }
    if (i === keys.length) {
      reached.push(v);
      return;
    }
    if (v === null || typeof v !== 'object' || isBoxed(v) || !isEnumerable(v, keys[i])) return;
    const next = v[keys[i]];
    if (next === undefined || typeof next === 'function' || typeof next === 'symbol') return;
    visit(next, i + 1, keys[i]);
  };
  visit(root, 0, '');
  if (reached.length === 0) put(undefined, col);
  else put(crossed ? reached : reached[0], col);
}

function generatedPicker(paths) {
  // The paths as a tree, so a prefix several fields share (app_metadata for .plan and .roles)
  // is read once, as JSON.stringify reads each member once. Each node is walk() unrolled with
  // its keys as constants, which gives V8 monomorphic loads; every value reached goes into the
  // field's local, and the cells are written in field order at the end.
  const root = { keys: new Map(), indexes: new Map(), fields: [] };
  paths.forEach((path, i) => {
    let node = root;
    for (const step of path) {
      const children = typeof step === 'number' ? node.indexes : node.keys;
      if (!children.has(step)) children.set(step, { keys: new Map(), indexes: new Map(), fields: [] });
      node = children.get(step);
    }
    node.fields.push(i);
  });
  const shapes = []; // per object node: the shape cache and the keys it looks for
  let next = 0;
  const lines = [`const r = checkUser(u); let ${paths.map((_, i) => `f${i}`).join(', ')};`];
  const emit = (node, raw, key, isRoot) => {
    for (const f of node.fields) lines.push(`f${f} = ${raw};`);
    if (node.keys.size === 0 && node.indexes.size === 0) return;
    const v = `v${next++}`;
    if (isRoot) lines.push(`const ${v} = ${raw};`);
    else lines.push(`let ${v} = ${raw}; if (${v} !== null && typeof ${v} === "object" && typeof ${v}.toJSON === "function") ${v} = ${v}.toJSON(${key});`);
    if (node.keys.size > 0) {
      // Own enumerable keys (what JSON.stringify reads) from one Object.keys per object: an
      // object of a shape seen before gets its answer from the cache; a key it lacks is absent.
      const wanted = [...node.keys.keys()];
      const s = shapes.length;
      // One key is cheaper asked of the object (one builtin call) than found in its key list.
      const ask = wanted.length === 1;
      lines.push(`if (${v} !== null && typeof ${v} === "object" && !Array.isArray(${v}) && !isBoxed(${v})) {`);
      if (!ask) {
        shapes.push({ cache: new Map(), lists: 0, wanted });
        lines.push(`const m${s} = present(shapes[${s}], keysOf(${v}));`);
      }
      wanted.forEach((k, bit) => {
        const lit = JSON.stringify(k);
        const c = `v${next++}`;
        // Past 30 keys the mask has no bit left: those few ask the object.
        const has = bit < 30 && !ask ? `(m${s} & ${2 ** bit}) !== 0` : `isEnumerable(${v}, ${lit})`;
        lines.push(`let ${c} = ${has} ? ${v}[${lit}] : undefined;`);
        lines.push(`if (typeof ${c} === "function" || typeof ${c} === "symbol") ${c} = undefined;`);
        emit(node.keys.get(k), c, lit, false);
      });
      lines.push('}');
    }
    if (node.indexes.size > 0) {
      lines.push(`if (Array.isArray(${v})) {`);
      for (const [index, child] of node.indexes) {
        const c = `v${next++}`;
        lines.push(`const ${c} = ${index} < ${v}.length ? elementValue(${v}[${index}]) : undefined;`);
        emit(child, c, `"${index}"`, false);
      }
      lines.push('}');
    }
  };
  emit(root, 'r', '""', true);
  paths.forEach((_, i) => lines.push(`put(f${i}, ${i});`));
  lines.push('return r;');
  // eslint-disable-next-line no-new-func -- generated once per export from the request's own paths
  const make = new Function('checkUser', 'elementValue', 'isBoxed', 'isEnumerable', 'put', 'present', 'keysOf', 'shapes', `return function pick(u) {\n${lines.join('\n')}\n};`);
  return make(checkUser, elementValue, isBoxed, isEnumerable, put, present, Object.keys, shapes);
}

/**
 * Which of `shape.wanted` (the first 30) are among `keys` (an object's Object.keys), as bits.
 * Objects of one shape give equal key lists, so the lists seen and their answers are kept, by
 * length: comparing a list (interned keys, compared by identity) is cheaper than asking each
 * key (propertyIsEnumerable is not inlined). Users whose optional keys differ come in tens of
 * shapes, which a few recent lists would miss.
 */
function present(shape, keys) {
  const bucket = shape.cache.get(keys.length);
  if (bucket !== undefined) {
    for (let e = 0; e < bucket.length; e += 2) {
      const known = bucket[e];
      let i = 0;
      while (i < keys.length && known[i] === keys[i]) i++;
      if (i === keys.length) return bucket[e + 1];
    }
  }
  let mask = 0;
  const wanted = shape.wanted;
  for (let w = 0; w < wanted.length && w < 30; w++) if (keys.includes(wanted[w])) mask |= 1 << w;
  // Objects of ever new shapes (keys that are data) would grow the cache without end.
  if (++shape.lists > 256) {
    shape.cache.clear();
    shape.lists = 1;
  }
  if (bucket !== undefined && shape.cache.has(keys.length)) bucket.push(keys, mask);
  else shape.cache.set(keys.length, [keys, mask]);
  return mask;
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

// ---- the batch being written ---------------------------------------------------------------

const ABSENT = 0, NULL = 1, FALSE = 2, TRUE = 3, TEXT = 4, NUMBER = 5, JSON_TEXT = 6, BAD = 7;
let tags = new Uint8Array(1 << 12);
let lens = new Uint32Array(1 << 12);
// Texts go in two strings: columns that have only shown ASCII in `text` (a one-byte string,
// which V8 flattens and encodes at memcpy speed, and whose UTF-8 lengths are its UTF-16 ones),
// columns that have shown other characters in `wideText`, their lengths marked with WIDE; the
// core reads the two apart (`CellBatch::second_text`). One non-ASCII cell in a single string
// would make the whole flattened batch two-byte.
const WIDE = 0x80000000;
let text = '';
let wideText = '';
let at = 0;
let bads = [];
let names = [];
let wide = new Uint8Array(0);

/** Writes the next cell, of column `col`, with its text: in `wideText` once the column is wide. */
function putText(tag, s, col) {
  tags[at] = tag;
  if (wide[col] === 0) {
    lens[at++] = s.length;
    text += s;
  } else {
    lens[at++] = s.length | WIDE;
    wideText += s;
  }
}

/** Writes one selected value (undefined: absent) as the next cell, that of column `col`. */
function put(v, col) {
  switch (typeof v) {
    case 'undefined':
      tags[at] = ABSENT;
      lens[at++] = 0;
      return;
    case 'string':
      // Lone surrogates are looked for by `encodeTexts`, only where the UTF-8 shows one may be.
      putText(TEXT, v, col);
      return;
    case 'number': {
      if (!Number.isFinite(v)) throw new Bad(`the field ${JSON.stringify(names[col])} is ${v}: JSON has no NaN or Infinity`);
      const s = String(v); // JSON.stringify's text for every finite number
      tags[at] = NUMBER;
      lens[at++] = s.length;
      text += s;
      return;
    }
    case 'boolean':
      tags[at] = v ? TRUE : FALSE;
      lens[at++] = 0;
      return;
    case 'bigint':
      throw new Bad(`the field ${JSON.stringify(names[col])} is a BigInt: JSON numbers cannot carry it exactly; convert it to a string or a number first`);
    default:
      if (v === null) {
        tags[at] = NULL;
        lens[at++] = 0;
        return;
      }
      putJson(v, col);
  }
}

// A string JSON.stringify writes with an escape (or, a lone surrogate, that JSON cannot carry).
// eslint-disable-next-line no-control-regex -- the controls are what JSON escapes
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/**
 * An array of plain strings none of which needs an escape, as JSON.stringify writes it, or
 * undefined. Arrays of short strings (roles, tags, groups) are common, and JSON.stringify
 * costs several hundred nanoseconds per call whatever the array's size.
 */
function stringArray(v) {
  if (!Array.isArray(v) || v.toJSON !== undefined || v.length > 64) return undefined;
  let s = '[';
  for (let i = 0; i < v.length; i++) {
    const e = v[i];
    if (typeof e !== 'string' || NEEDS_ESCAPE.test(e)) return undefined;
    s += i === 0 ? '"' + e + '"' : ',"' + e + '"';
  }
  return s + ']';
}

const loneSurrogate = (col) => new Bad(`the field ${JSON.stringify(names[col])} holds a lone surrogate, which UTF-8 and JSON cannot carry`, 'lone_surrogate');

/** An object (or anything with a toJSON) as JSON.stringify writes it, checked for what it would hide. */
function putJson(v, col) {
  const name = names[col];
  let s = stringArray(v);
  if (s !== undefined) {
    putText(JSON_TEXT, s, col);
    return;
  }
  try {
    s = JSON.stringify(v);
  } catch (e) {
    const m = String(e && e.message);
    if (e instanceof TypeError && /circular|cyclic/i.test(m)) throw new Bad(`the field ${JSON.stringify(name)} holds a cycle (an object that contains itself), which JSON cannot write`);
    if (e instanceof TypeError && /bigint/i.test(m)) throw new Bad(`the field ${JSON.stringify(name)} holds a BigInt: JSON numbers cannot carry it exactly; convert it to a string or a number first`);
    throw new Bad(`reading the field ${JSON.stringify(name)} threw: ${e}`);
  }
  if (s === undefined) {
    // A toJSON that gives undefined (or a function): JSON.stringify leaves the member out.
    tags[at] = ABSENT;
    lens[at++] = 0;
    return;
  }
  // JSON.stringify writes NaN and Infinity as null: only a text with a null can hide one.
  if (s.includes('null') && nonFinite(v, '')) throw new Bad(`the field ${JSON.stringify(name)} holds a NaN or an Infinity: JSON has none`);
  putText(JSON_TEXT, s, col);
}

function grow(cells) {
  if (tags.length >= cells) return;
  const size = Math.max(cells, tags.length * 2);
  const t = new Uint8Array(size);
  t.set(tags.subarray(0, at));
  const l = new Uint32Array(size);
  l.set(lens.subarray(0, at));
  tags = t;
  lens = l;
}

// The texts go to the wasm as UTF-8 in one reused buffer: TextEncoder's encodeInto is the
// engine's fast path, where handing over a string would copy it char by char.
const encoder = new TextEncoder();
let utf8 = new Uint8Array(1 << 16);

/**
 * Picks `users` (an array, or one user) into one batch of `width` cells per user: returns
 * `[tags, lens, text, wideText, bad, ascii]`: the UTF-8 of the two texts; lens count UTF-16
 * units, with WIDE (the core's `CellBatch::SECOND`) set for the cells of `wideText` (the
 * others' units are their bytes when `ascii`); `bad` is the `{code, message}` of each user
 * marked bad, in order. The arrays are views of buffers reused by the next call.
 */
export function pick_batch(users, pick, width) {
  const batch = Array.isArray(users) ? users : [users];
  grow(batch.length * width);
  at = 0;
  text = '';
  wideText = '';
  bads = [];
  names = pick.names;
  wide = pick.wide;
  narrowAt = 0;
  wideAt = 0;
  cellsEncoded = 0;
  ascii = true;
  for (let i = 0; i < batch.length; i++) {
    const mark = at;
    const textMark = text.length;
    const wideMark = wideText.length;
    try {
      pick(batch[i]);
    } catch (e) {
      at = mark;
      if (text.length !== textMark) text = text.slice(0, textMark);
      if (wideText.length !== wideMark) wideText = wideText.slice(0, wideMark);
      tags[at] = BAD;
      lens[at++] = 0;
      for (let c = 1; c < width; c++) {
        tags[at] = ABSENT;
        lens[at++] = 0;
      }
      bads.push(e instanceof Bad ? { code: e.code, message: e.message } : { code: 'unsupported_value', message: `reading the user threw: ${e}` });
    }
    if ((i & (SUB - 1)) === SUB - 1) encodeTexts(width);
  }
  encodeTexts(width);
  return [tags.subarray(0, at), lens.subarray(0, at), utf8.subarray(0, narrowAt), utf8Wide.subarray(0, wideAt), bads, ascii];
}

// The texts are encoded every SUB users: V8 flattens a rope into one new string before encoding
// it, and a rope of a few thousand pieces flattened in half the time per byte of one of tens of
// thousands (bench/README.md, "pushUsers").
const SUB = 128;
let utf8Wide = new Uint8Array(1 << 16);
let narrowAt = 0;
let wideAt = 0;
let ascii = true;
let cellsEncoded = 0;

/**
 * Appends the UTF-8 of `text` and `wideText` to their buffers and empties them. A lone
 * surrogate is encoded as U+FFFD (EF BF BD): only a one-byte-column text that is not ASCII, or
 * a wide one with an EF byte, can hide one, and only then are its cells checked one by one.
 */
function encodeTexts(width) {
  if (text.length === 0 && wideText.length === 0) return;
  if (utf8.length < narrowAt + text.length * 3) utf8 = growBytes(utf8, narrowAt, narrowAt + text.length * 3);
  if (utf8Wide.length < wideAt + wideText.length * 3) utf8Wide = growBytes(utf8Wide, wideAt, wideAt + wideText.length * 3);
  let written = text.length === 0 ? 0 : encoder.encodeInto(text, utf8.subarray(narrowAt)).written;
  let wideWritten = wideText.length === 0 ? 0 : encoder.encodeInto(wideText, utf8Wide.subarray(wideAt)).written;
  const suspect = written !== text.length || utf8Wide.subarray(wideAt, wideAt + wideWritten).indexOf(0xef) !== -1;
  if (suspect && dropIllFormed(width)) {
    written = text.length === 0 ? 0 : encoder.encodeInto(text, utf8.subarray(narrowAt)).written;
    wideWritten = wideText.length === 0 ? 0 : encoder.encodeInto(wideText, utf8Wide.subarray(wideAt)).written;
  }
  if (ascii && written !== text.length) {
    ascii = false;
    widen(narrowAt, narrowAt + written, width);
  }
  narrowAt += written;
  wideAt += wideWritten;
  text = '';
  wideText = '';
  cellsEncoded = at;
}

/**
 * The users since the last encoding with a lone surrogate in a text cell become bad users,
 * their texts taken out of `text` and `wideText`. Returns whether there were any.
 */
function dropIllFormed(width) {
  const bad = new Map(); // row -> the first column with a lone surrogate
  for (let c = cellsEncoded, o = 0, w = 0; c < at; c++) {
    const len = lens[c] & ~WIDE;
    const row = (c / width) | 0;
    const piece = lens[c] >= WIDE ? wideText.slice(w, (w += len)) : text.slice(o, (o += len));
    if (tags[c] === TEXT && !bad.has(row) && !wellFormed(piece)) bad.set(row, c % width);
  }
  if (bad.size === 0) return false;
  let narrow = '';
  let wider = '';
  for (let c = cellsEncoded, o = 0, w = 0; c < at; c++) {
    const len = lens[c] & ~WIDE;
    const keep = !bad.has((c / width) | 0);
    if (lens[c] >= WIDE) {
      if (keep) wider += wideText.slice(w, w + len);
      w += len;
    } else {
      if (keep) narrow += text.slice(o, o + len);
      o += len;
    }
  }
  text = narrow;
  wideText = wider;
  for (const [row, col] of bad) {
    let before = 0; // bad users ahead of this one: its place in `bads`
    for (let r = 0; r < row; r++) if (tags[r * width] === BAD) before++;
    bads.splice(before, 0, { code: 'lone_surrogate', message: loneSurrogate(col).message });
    tags[row * width] = BAD;
    lens[row * width] = 0;
    for (let c = row * width + 1; c < (row + 1) * width; c++) {
      tags[c] = ABSENT;
      lens[c] = 0;
    }
  }
  return true;
}

function growBytes(buf, used, need) {
  const b = new Uint8Array(Math.max(need, buf.length * 2));
  b.set(buf.subarray(0, used));
  return b;
}

/**
 * Marks wide the column of the first non-ASCII cell among those picked since the last encoding
 * (whose narrow text is `utf8[from..end]`), so later users put that column's texts in `wideText`.
 * Every narrow byte before it is ASCII, so units and bytes agree up to it.
 */
function widen(from, end, width) {
  let first = from;
  while (first < end && utf8[first] < 0x80) first++;
  let pos = from;
  for (let c = cellsEncoded; c < at; c++) {
    if (lens[c] >= WIDE) continue;
    pos += lens[c];
    if (pos > first) {
      wide[c % width] = 1;
      return;
    }
  }
}

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
