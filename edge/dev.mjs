// `node edge/dev.mjs [--users FILE] [--tenant NAME] [--persist DIR] [--port N]`: the Worker on 127.0.0.1 with one tenant, its client and a token.
import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startEdge, sampleTenant, SAMPLE_CONNECTIONS, DEV_DOMAIN } from './lib/edge.mjs';

const USAGE = `usage: node edge/dev.mjs [--users FILE] [--tenant NAME] [--persist DIR] [--port N] [--lenient]
  --users FILE    NDJSON users (plain or .gz, told by its first bytes) served as the tenant's source
                  (default: the package's 1000 sample users)
  --tenant NAME   the tenant (default acme)
  --persist DIR   keep R2 objects, jobs and keys in DIR across restarts (default: in memory)
  --port N        listen on 127.0.0.1:N (default PORT, else any free port)
  --lenient       skip bad records and list them at /errors instead of failing the job
Worker variables come from the environment when set: SLICE_MS, SHARD_BYTES, MAX_SHARDS,
TASK_POLL_MS, MAX_CONCURRENT_JOBS, R2_PART_BYTES (edge/README.md).`;

let args;
try {
  args = parseArgs({
    options: {
      users: { type: 'string' },
      tenant: { type: 'string', default: 'acme' },
      persist: { type: 'string' },
      port: { type: 'string' },
      lenient: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  }).values;
} catch (e) {
  console.error(`${e.message}\n${USAGE}`);
  process.exit(2);
}
if (args.help) {
  console.log(USAGE);
  process.exit(0);
}
const tenant = args.tenant;
if (!/^[a-z0-9_-]{1,64}$/.test(tenant)) {
  console.error(`--tenant: 1-64 of a-z 0-9 - _, not ${JSON.stringify(tenant)}`);
  process.exit(2);
}
let t = sampleTenant(tenant);
if (args.users) {
  const file = resolve(args.users);
  if (!existsSync(file)) {
    console.error(`--users: no such file ${file}`);
    process.exit(2);
  }
  t = { config: { users: `${tenant}/users.ndjson`, connections: SAMPLE_CONNECTIONS }, seed: { [`${tenant}/users.ndjson`]: { file } } };
}
t.config.lenient = args.lenient;
if (args.persist) mkdirSync(args.persist, { recursive: true });
const vars = {};
for (const k of ['SLICE_MS', 'SHARD_BYTES', 'MAX_SHARDS', 'TASK_POLL_MS', 'MAX_CONCURRENT_JOBS']) if (process.env[k]) vars[k] = process.env[k];
const port = Number(args.port ?? process.env.PORT ?? 0);
const edge = await startEdge({
  port,
  tenants: { [tenant]: t },
  persistDir: args.persist ? resolve(args.persist) : undefined,
  devHs256Secret: process.env.DEV_HS256_SECRET || undefined,
  partBytes: process.env.R2_PART_BYTES ? Number(process.env.R2_PART_BYTES) : undefined,
  vars,
});
const client = edge.clients[tenant];
const token = await edge.token({ tenant });

console.log(`userexport edge (workerd via miniflare) on ${edge.url}
tenant "${tenant}": ${args.users ? `users from ${resolve(args.users)}` : '1000 sample users'}; domain for the auth0 SDK: ${tenant}.${DEV_DOMAIN}${args.persist ? `\nstate kept in ${resolve(args.persist)}` : ''}
connections: ${Object.entries(SAMPLE_CONNECTIONS).map(([id, name]) => `${id}=${name}`).join(', ')}

machine-to-machine client (every scope): clientId ${client.id}  clientSecret ${client.secret}
  curl -s ${edge.url}/oauth/token -H 'content-type: application/json' \\
       -d '{"grant_type":"client_credentials","client_id":"${client.id}","client_secret":"${client.secret}","audience":"https://${tenant}.${DEV_DOMAIN}/api/v2/"}'

access token (RS256, 24 h):
${token}

try:
  curl -s -X POST ${edge.url}/api/v2/jobs/users-exports -H "authorization: Bearer $TOKEN" \\
       -H 'content-type: application/json' -d '{"format":"csv","limit":10}'
  curl -s ${edge.url}/api/v2/jobs/<job id> -H "authorization: Bearer $TOKEN"
  curl -s "<location>" | gunzip
Ctrl-C stops it.`);
// One machine-readable line for scripts (edge/test/kill.test.mjs).
console.log(`READY ${JSON.stringify({ url: edge.url, tenant, token })}`);

const stop = async () => {
  await edge.dispose();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
