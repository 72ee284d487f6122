import { readFileSync } from 'node:fs';
const lines = readFileSync('target/bench-data/users-100k.ndjson','utf8').split('\n').filter(Boolean).slice(0, 50000);
const users = lines.map(l=>JSON.parse(l));
const JOB = JSON.parse(readFileSync('bench/job.json','utf8'));
function parsePath(name){const s=[];for(const part of name.split('.')){const m=/^([^[]*)((?:\[\d+\])*)$/.exec(part);s.push(m[1]);for(const i of m[2].matchAll(/\[(\d+)\]/g))s.push(Number(i[1]));}return s;}
const paths = JOB.fields.map(f=>parsePath(f.name));
function gen(variant){
  const lines=['const o={}; let v;'];
  paths.forEach((path,i)=>{
    lines.push('v=u;');
    path.forEach((step,s)=>{
      if(typeof step==='number') lines.push(`v = Array.isArray(v) && ${step} < v.length ? v[${step}] : undefined;`);
      else { const k=JSON.stringify(step);
        const own = variant==='enum' ? `isEnumerable(v, ${k})` : variant==='hasOwn' ? `Object.hasOwn(v, ${k})` : variant==='pie' ? `Object.prototype.propertyIsEnumerable.call(v, ${k})` : `v[${k}] !== undefined`;
        lines.push(`if (v !== null && typeof v === "object" && !Array.isArray(v) && ${own}) v = v[${k}]; else v = undefined;`);}
      if (s<path.length-1) lines.push('if (v !== undefined) {');
    });
    lines.push(variant==='arr' ? `o[${i}]=v;` : `if (v !== undefined) o[${i}] = v;`);
    for(let s=1;s<path.length;s++) lines.push('}');
  });
  lines.push('return o;');
  const isEnumerable = Function.prototype.call.bind(Object.prototype.propertyIsEnumerable);
  return new Function('isEnumerable', `return function(u){${lines.join('\n')}}`)(isEnumerable);
}
for (const variant of ['enum','hasOwn','pie','none','enum','hasOwn','pie','none']) {
  const p = gen(variant); let t=performance.now(); let n=0; for (const u of users) { const o=p(u); n+=o[0]?1:0; } console.log(variant, (performance.now()-t).toFixed(0),'ms');
}
// the bench's plain loop
function pick(user, path) { let v = user; for (const step of path) { if (typeof step === 'number') { if (!Array.isArray(v) || step >= v.length) return undefined; v = v[step]; } else { if (v === null || typeof v !== 'object' || Array.isArray(v) || !Object.hasOwn(v, step)) return undefined; v = v[step]; } } return v; }
const DATE_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;
const FIELDS = JOB.fields.map((f) => ({ path: parsePath(f.name), date: ['created_at','last_login'].includes(f.name) }));
const cell = (s) => `"'${s.replaceAll('"', '""')}"`;
function csvRow(user) { let row = ''; for (let i = 0; i < FIELDS.length; i++) { const f = FIELDS[i]; const v = pick(user, f.path); if (i > 0) row += ','; if (v === undefined || v === null) continue; switch (typeof v) { case 'string': row += f.date && DATE_RE.test(v) ? v : cell(v); break; case 'object': row += cell(JSON.stringify(v)); break; default: row += String(v); } } return row + '\n'; }
const enc = new TextEncoder();
for (let k=0;k<4;k++){ let t=performance.now(); let buf='', n=0; for (const u of users){ buf+=csvRow(u); if(buf.length>=65536){ n+=enc.encode(buf).length; buf='';}} console.log('plain', (performance.now()-t).toFixed(0),'ms');}
for (const variant of ['hasOwn','none']) { const p = gen(variant); for (let k=0;k<3;k++){ let t=performance.now(); let n=0; for(let i=0;i<users.length;i+=512){ const b=users.slice(i,i+512); const arr=new Array(b.length); for(let j=0;j<b.length;j++) arr[j]=p(b[j]); n+=JSON.stringify(arr).length;} console.log(variant,'+stringify', (performance.now()-t).toFixed(0),'ms');} }
