// `npm start`: exports the bundled sample (samples/users.ndjson) to CSV with the CLI and says where it went.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const outDir = `${root}out`;
mkdirSync(outDir, { recursive: true });
const out = `${outDir}/sample.csv`;
execFileSync(process.execPath, [`${root}bin/userexport.mjs`, `${root}samples/users.ndjson`,
  '--request-file', `${root}samples/request.json`, '--tenant', 'sample', '--out', out], { stdio: 'inherit' });
console.log(`\nThe sample export is at ${out}\n(try: node bin/userexport.mjs --help)`);
