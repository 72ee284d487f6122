// Writes samples/users.ndjson: deterministic generated Auth0-style users (no real people) for
// `npm start`, the throughput figure and tests. The generator is the page's own (www/sample.js),
// so "Use sample users" and this file are the same bytes. Run: node scripts/gen-sample.mjs [COUNT]
import { writeFileSync } from 'node:fs';
import { sampleNdjson } from '../www/sample.js';

const count = Number(process.argv[2] ?? 1000);
writeFileSync(new URL('../samples/users.ndjson', import.meta.url), sampleNdjson(count));
