// `npm start`: exports the bundled sample (samples/users.ndjson) with the CLI, says where it went,
// then serves the export page (www/) on 127.0.0.1 and prints its URL.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startServer } from '../www/serve.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const outDir = `${root}out`;
mkdirSync(outDir, { recursive: true });
const out = `${outDir}/sample.csv`;
execFileSync(process.execPath, [`${root}bin/userexport.mjs`, `${root}samples/users.ndjson`,
  '--request-file', `${root}samples/request.json`, '--tenant', 'sample', '--out', out], { stdio: 'inherit' });
console.log(`\nThe sample export is at ${out}  (try: node bin/userexport.mjs --help)`);

const { url } = await startServer({ port: Number(process.env.PORT ?? 0) });
console.log(`The export page is at ${url}  (Ctrl-C stops it)`);
