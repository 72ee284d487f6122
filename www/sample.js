// "Use sample users": generated Auth0-style users (no real people), byte for byte the same
// NDJSON as the repository's samples/users.ndjson (scripts/gen-sample.mjs), so a page export of
// the sample can be checked against the CLI's export of that file.

const given = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Ken', 'Dennis', 'Frances', 'José', 'Zoë', 'Ærin', '美咲', 'Олег', "O'Neil"];
const family = ['Lovelace', 'Hopper', 'Turing', 'Dijkstra', 'Liskov', 'Thompson', 'Ritchie', 'Allen', 'Nuñez', 'Smith, Jr.', '=HYPERLINK("x")', '+1 Ltd', '"Quoted"'];
const connections = ['Username-Password-Authentication', 'google-oauth2', 'github', 'acme-saml'];
const plans = ['free', 'pro', 'enterprise', null];
const iso = (t) => new Date(t).toISOString();

/** `count` users as NDJSON text (every line ends with \n). */
export function sampleNdjson(count = 1000) {
  let seed = 0x2545f491;
  const rand = () => {
    // xorshift32: the same users on every machine.
    seed ^= seed << 13; seed >>>= 0;
    seed ^= seed >>> 17;
    seed ^= seed << 5; seed >>>= 0;
    return seed / 2 ** 32;
  };
  const pick = (a) => a[Math.floor(rand() * a.length)];
  const hex = (n) => Array.from({ length: n }, () => Math.floor(rand() * 16).toString(16)).join('');
  const lines = [];
  for (let i = 0; i < count; i++) {
    const g = pick(given);
    const f = pick(family);
    const conn = pick(connections);
    const id = hex(24);
    const provider = conn === 'google-oauth2' ? 'google-oauth2' : conn === 'github' ? 'github' : conn === 'acme-saml' ? 'samlp' : 'auth0';
    const created = Date.UTC(2021, 0, 1) + Math.floor(rand() * 1.2e11);
    const email = `${g.toLowerCase().replace(/[^a-z]/g, '') || 'user'}.${i}@example.com`;
    const user = {
      user_id: `${provider}|${id}`,
      email,
      email_verified: rand() < 0.8,
      name: `${g} ${f}`,
      given_name: g,
      family_name: f,
      nickname: g.toLowerCase(),
      picture: `https://example.com/avatars/${id}.png`,
      created_at: iso(created),
      updated_at: iso(created + Math.floor(rand() * 1e10)),
      last_login: iso(created + Math.floor(rand() * 2e10)),
      last_ip: `203.0.113.${Math.floor(rand() * 255)}`,
      logins_count: Math.floor(rand() * 500),
      blocked: rand() < 0.05,
      identities: [{ connection: conn, user_id: id, provider, isSocial: provider !== 'auth0' && provider !== 'samlp' }],
      app_metadata: { plan: pick(plans), roles: rand() < 0.3 ? ['admin', 'billing'] : ['member'], score: Math.round(rand() * 1e4) / 100 },
      user_metadata: { locale: pick(['en', 'fr', 'de', 'ja']), bio: rand() < 0.1 ? 'line one\nline two, with "quotes"' : `hi, I'm ${g}` },
    };
    if (rand() < 0.3) user.phone_number = `+1555${String(Math.floor(rand() * 1e7)).padStart(7, '0')}`;
    if (rand() < 0.2) user.username = `${g.toLowerCase()}${i}`;
    lines.push(JSON.stringify(user));
  }
  return lines.join('\n') + '\n';
}
