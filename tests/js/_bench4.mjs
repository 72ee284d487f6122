import { readFileSync } from 'node:fs';
import { Exporter } from 'userexport';
const lines = readFileSync('target/bench-data/users-100k.ndjson','utf8').split('\n').filter(Boolean).slice(0, 50000);
const users = lines.map(l=>JSON.parse(l));
const JOB = JSON.parse(readFileSync('bench/job.json','utf8'));
function door(){ const ex=new Exporter({...JOB, format:'csv'}); let n=0; for(let i=0;i<users.length;i+=512){ ex.pushUsers(users.slice(i,i+512), i); for(let c=ex.pull(); c; c=ex.pull()) n+=c.length;} ex.finish(); for(let c=ex.pull(); c; c=ex.pull()) n+=c.length; ex.free(); return n;}
globalThis.gc?.();
const t0=performance.now(); for (let k=0;k<4;k++) door(); console.error('door x4', performance.now()-t0);
