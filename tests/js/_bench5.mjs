import { readFileSync } from 'node:fs';
const lines = readFileSync('target/bench-data/users-100k.ndjson','utf8').split('\n').filter(Boolean).slice(0, 50000);
const users = lines.map(l=>JSON.parse(l));
const JOB = JSON.parse(readFileSync('bench/job.json','utf8'));
function parsePath(name){const s=[];for(const part of name.split('.')){const m=/^([^[]*)((?:\[\d+\])*)$/.exec(part);s.push(m[1]);for(const i of m[2].matchAll(/\[(\d+)\]/g))s.push(Number(i[1]));}return s;}
const paths = JOB.fields.map(f=>parsePath(f.name));
function gen(mode){
  const lines=['let v;'];
  const vars=[];
  paths.forEach((path,i)=>{
    lines.push(`let v${i}=u;`);
    path.forEach((step,s)=>{
      if(typeof step==='number') lines.push(`v${i} = Array.isArray(v${i}) && ${step} < v${i}.length ? v${i}[${step}] : undefined;`);
      else { const k=JSON.stringify(step); lines.push(`if (v${i} !== null && typeof v${i} === "object" && !Array.isArray(v${i}) && Object.hasOwn(v${i}, ${k})) v${i} = v${i}[${k}]; else v${i} = undefined;`);}
      if (s<path.length-1) lines.push(`if (v${i} !== undefined) {`);
    });
    for(let s=1;s<path.length;s++) lines.push('}');
  });
  if (mode==='int') { lines.push('const o={};'); paths.forEach((_,i)=>lines.push(`if (v${i}!==undefined) o[${i}]=v${i};`)); lines.push('return o;'); }
  if (mode==='lit') lines.push(`return {${paths.map((_,i)=>`f${i}:v${i}`).join(',')}};`);
  if (mode==='arr') lines.push(`return [${paths.map((_,i)=>`v${i}`).join(',')}];`);
  return new Function(`return function(u){${lines.join('\n')}}`)();
}
for (const mode of ['int','lit','arr','int','lit','arr']) {
  const p=gen(mode); let tp=0, ts=0, n=0;
  for(let i=0;i<users.length;i+=512){ const b=users.slice(i,i+512); let t=performance.now(); const arr=b.map(p); tp+=performance.now()-t; t=performance.now(); n+=JSON.stringify(arr).length; ts+=performance.now()-t; }
  console.log(mode, 'pick', tp.toFixed(0), 'stringify', ts.toFixed(0), 'bytes', n);
}
