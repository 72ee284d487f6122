// Mints an HS256 Management API token for the edge Worker: node edge/mint-token.mjs --tenant acme [--scope "read:users"] [--expires-in 3600].
import { mintToken, DEV_SECRET, DEV_DOMAIN } from './lib/edge.mjs';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
if (!args.tenant) {
  console.error('usage: node edge/mint-token.mjs --tenant NAME [--scope "read:users create:users"] [--domain D] [--expires-in SECONDS]\n' +
    '  the secret comes from AUTH_SECRET (default: the dev secret of edge/dev.mjs)');
  process.exit(2);
}
const secret = process.env.AUTH_SECRET || DEV_SECRET;
if (secret === DEV_SECRET) console.error('note: signing with the dev secret (set AUTH_SECRET for a deployed Worker)');
console.log(
  await mintToken({
    tenant: args.tenant,
    scope: args.scope ?? 'read:users create:users',
    domain: args.domain ?? DEV_DOMAIN,
    secret,
    expiresIn: args['expires-in'] !== undefined ? Number(args['expires-in']) : 3600,
  }),
);
