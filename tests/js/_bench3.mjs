import { readFileSync } from 'node:fs';
import { Exporter } from 'userexport';
const lines = readFileSync('target/bench-data/users-100k.ndjson','utf8').split('\n').filter(Boolean).slice(0, 50000);
const users = lines.map(l=>JSON.parse(l));
const JOB = JSON.parse(readFileSync('bench/job.json','utf8'));
function parsePath(name){const s=[];for(const part of name.split('.')){const m=/^([^[]*)((?:\[\d+\])*)$/.exec(part);s.push(m[1]);for(const i of m[2].matchAll(/\[(\d+)\]/g))s.push(Number(i[1]));}return s;}
function pick(user, path) { let v = user; for (const step of path) { if (typeof step === 'number') { if (!Array.isArray(v) || step >= v.length) return undefined; v = v[step]; } else { if (v === null || typeof v !== 'object' || Array.isArray(v) || !Object.hasOwn(v, step)) return undefined; v = v[step]; } } return v; }
const DATE_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;
const FIELDS = JOB.fields.map((f) => ({ path: parsePath(f.name), date: ['created_at','last_login'].includes(f.name) }));
const cell = (s) => `"'${s.replaceAll('"', '""')}"`;
function csvRow(user) { let row = ''; for (let i = 0; i < FIELDS.length; i++) { const f = FIELDS[i]; const v = pick(user, f.path); if (i > 0) row += ','; if (v === undefined || v === null) continue; switch (typeof v) { case 'string': row += f.date && DATE_RE.test(v) ? v : cell(v); break; case 'object': row += cell(JSON.stringify(v)); break; default: row += String(v); } } return row + '\n'; }
function plain(){ let buf='', n=0; for (const u of users){ buf+=csvRow(u); if(buf.length>=65536){ n+=Buffer.from(buf).length; buf='';}} return n+Buffer.from(buf).length; }
function door(){ const ex=new Exporter({...JOB, format:'csv'}); let n=0; for(let i=0;i<users.length;i+=512){ ex.pushUsers(users.slice(i,i+512), i); for(let c=ex.pull(); c; c=ex.pull()) n+=c.length;} ex.finish(); for(let c=ex.pull(); c; c=ex.pull()) n+=c.length; ex.free(); return n;}
for (let k=0;k<4;k++) for (const [name, f] of [['plain', plain], ['pushUsers', door]]) { const t=performance.now(); const n=f(); console.log(name, (performance.now()-t).toFixed(0),'ms', n); }
