// Mints an HS256 token for local development only (the Worker takes it only when DEV_HS256_SECRET is set): node edge/mint-token.mjs --tenant acme.
import { foreignToken, ALL_SCOPES, DEV_DOMAIN } from './lib/edge.mjs';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
const secret = process.env.DEV_HS256_SECRET;
if (!args.tenant || !secret) {
  console.error('usage: DEV_HS256_SECRET=… node edge/mint-token.mjs --tenant NAME [--scope "read:users"] [--domain D] [--expires-in SECONDS]\n' +
    '  HS256 is a local-development switch: a deployed Worker hands out RS256 tokens at /oauth/token.');
  process.exit(2);
}
const iat = Math.floor(Date.now() / 1000);
console.log(
  await foreignToken({
    tenant: args.tenant,
    domain: args.domain ?? DEV_DOMAIN,
    secret,
    claims: { scope: args.scope ?? ALL_SCOPES, sub: 'dev|userexport-edge', exp: iat + Number(args['expires-in'] ?? 3600) },
  }),
);
