import { readFileSync } from 'node:fs';
import { Exporter } from 'userexport';
const lines = readFileSync('target/bench-data/users-100k.ndjson','utf8').split('\n').filter(Boolean).slice(0, 50000);
const users = lines.map(l=>JSON.parse(l));
const JOB = JSON.parse(readFileSync('bench/job.json','utf8'));
function run(){ const ex=new Exporter({...JOB, format:'csv'}); let n=0; for(let i=0;i<users.length;i+=512){ ex.pushUsers(users.slice(i,i+512), i); for(let c=ex.pull(); c; c=ex.pull()) n+=c.length;} ex.finish(); for(let c=ex.pull(); c; c=ex.pull()) n+=c.length; ex.free(); return n;}
function runNoWasm(){ // picker only, via a dummy exporter? measure JSON side by monkeypatch not possible; skip
}
for (let k=0;k<5;k++){ const t=performance.now(); const n=run(); console.log('pushUsers', (performance.now()-t).toFixed(0),'ms', n);}
const door = await import('../../js/door.js');
function parsePath(name){const s=[];for(const part of name.split('.')){const m=/^([^[]*)((?:\[\d+\])*)$/.exec(part);s.push(m[1]);for(const i of m[2].matchAll(/\[(\d+)\]/g))s.push(Number(i[1]));}return s;}
const paths = JOB.fields.map(f=>parsePath(f.name)); const names = JOB.fields.map(f=>f.name);
const pick = door.make_picker(paths, names);
for (let k=0;k<4;k++){ let t=performance.now(); let n=0; for(let i=0;i<users.length;i+=512){ const r=door.pick_batch(users.slice(i,i+512), pick, names); n+=r.length;} console.log('pick+stringify', (performance.now()-t).toFixed(0),'ms', n);}
for (let k=0;k<3;k++){ let t=performance.now(); let n=0; for(let i=0;i<users.length;i+=512){ const b=users.slice(i,i+512); for (const u of b) n+=Object.keys(pick(u)).length;} console.log('pick only', (performance.now()-t).toFixed(0),'ms', n);}
const texts=[]; for(let i=0;i<users.length;i+=512) texts.push(door.pick_batch(users.slice(i,i+512), pick, names));
for (let k=0;k<3;k++){ const ex=new Exporter({...JOB, format:'csv'}); let t=performance.now(); let n=0; texts.forEach((tx)=>{ ex.pushJson(tx); for(let c=ex.pull(); c; c=ex.pull()) n+=c.length;}); console.log('wasm pushJson of picked text', (performance.now()-t).toFixed(0),'ms', n); ex.free();}
console.log('picked text bytes', texts.reduce((a,t)=>a+t.length,0));
