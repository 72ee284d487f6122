// `node edge/dev.mjs`: the Worker on 127.0.0.1 (PORT, default any free port) with the sample tenant "acme", its client and a token.
import { startEdge, SAMPLE_CONNECTIONS, DEV_DOMAIN } from './lib/edge.mjs';

const port = process.env.PORT ? Number(process.env.PORT) : 0;
const edge = await startEdge({ port, devHs256Secret: process.env.DEV_HS256_SECRET || undefined });
const client = edge.clients.acme;
const token = await edge.token({ tenant: 'acme' });

console.log(`userexport edge (workerd via miniflare) on ${edge.url}
tenant "acme": 1000 sample users; domain for the auth0 SDK: acme.${DEV_DOMAIN}
connections: ${Object.entries(SAMPLE_CONNECTIONS).map(([id, name]) => `${id}=${name}`).join(', ')}

machine-to-machine client (every scope): clientId ${client.id}  clientSecret ${client.secret}
  curl -s ${edge.url}/oauth/token -H 'content-type: application/json' \\
       -d '{"grant_type":"client_credentials","client_id":"${client.id}","client_secret":"${client.secret}","audience":"https://acme.${DEV_DOMAIN}/api/v2/"}'

access token (RS256, 24 h):
${token}

try:
  curl -s -X POST ${edge.url}/api/v2/jobs/users-exports -H "authorization: Bearer $TOKEN" \\
       -H 'content-type: application/json' -d '{"format":"csv","connection_id":"con_GithubDevSample1","limit":10}'
  curl -s ${edge.url}/api/v2/jobs/<job id> -H "authorization: Bearer $TOKEN"
  curl -s "<location>" | gunzip
Ctrl-C stops it.`);

const stop = async () => {
  await edge.dispose();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
