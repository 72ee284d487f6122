// The plain-JS peer of the benchmark: bench/job.json picked and written by hand, exactly per
// COMPATIBILITY.md (the builders every "plain-js" row runs, in a fresh process or in turns).
import { readFileSync } from 'node:fs';

const JOB = JSON.parse(readFileSync(new URL('./job.json', import.meta.url), 'utf8'));

/** `a.b[0].c` → ['a', 'b', 0, 'c'] (numbers are array indexes). */
function parsePath(name) {
  const steps = [];
  for (const part of name.split('.')) {
    const m = /^([^[]*)((?:\[\d+\])*)$/.exec(part);
    steps.push(m[1]);
    for (const idx of m[2].matchAll(/\[(\d+)\]/g)) steps.push(Number(idx[1]));
  }
  return steps;
}
const DATE_ATTRIBUTES = ['created_at', 'updated_at', 'last_login', 'last_password_reset', 'multifactor_last_modified'];
export const DATE_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;
export const FIELDS = JOB.fields.map((f) => ({
  name: f.name,
  column: f.export_as ?? f.name,
  path: parsePath(f.name),
  date: DATE_ATTRIBUTES.includes(f.name),
}));
export const COLUMNS = FIELDS.map((f) => f.column);

/** COMPATIBILITY.md: a key step enters only an object, an index step only an array; else absent. */
export function pick(user, path) {
  let v = user;
  for (const step of path) {
    if (typeof step === 'number') {
      if (!Array.isArray(v) || step >= v.length) return undefined;
      v = v[step];
    } else {
      if (v === null || typeof v !== 'object' || Array.isArray(v) || !Object.hasOwn(v, step)) return undefined;
      v = v[step];
    }
  }
  return v;
}

/** OWASP cell: `"` + `'` + text with `"` doubled + `"`. */
export const cell = (s) => `"'${s.replaceAll('"', '""')}"`;
export const isBareDate = (field, v) => field.date && typeof v === 'string' && DATE_RE.test(v);
export function headerCell(name) {
  return /^[=+\-@\t\r]/.test(name) || /[,"\r\n]/.test(name) ? cell(name) : name;
}
export const CSV_HEADER = COLUMNS.map(headerCell).join(',') + '\n';

export function csvRow(user) {
  let row = '';
  for (let i = 0; i < FIELDS.length; i++) {
    const f = FIELDS[i];
    const v = pick(user, f.path);
    if (i > 0) row += ',';
    if (v === undefined || v === null) continue;
    switch (typeof v) {
      case 'string':
        row += isBareDate(f, v) ? v : cell(v);
        break;
      case 'object':
        row += cell(JSON.stringify(v));
        break;
      default:
        row += String(v); // booleans and numbers (integers here: JSON.stringify's text)
    }
  }
  return row + '\n';
}

const KEYS = COLUMNS.map((c) => JSON.stringify(c) + ':');
export function ndjsonLine(user) {
  let line = '{';
  for (let i = 0; i < FIELDS.length; i++) {
    const v = pick(user, FIELDS[i].path);
    if (v === undefined) continue;
    if (line.length > 1) line += ',';
    line += KEYS[i] + JSON.stringify(v);
  }
  return line + '}\n';
}
