// A Node script bundled by esbuild (tests/bundlers/bundlers.test.mjs) as ESM and as CommonJS (so no
// top-level await) and run from a folder with no node_modules: NDJSON on stdin, the request as
// argv[2], the export on stdout.
import { exportStream } from 'userexport/inline';

async function main() {
  const chunks = [];
  for await (const c of process.stdin) chunks.push(c);
  const out = exportStream(Buffer.concat(chunks), process.argv[2], { tenant: 'acme' });
  for await (const c of out) process.stdout.write(c);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
