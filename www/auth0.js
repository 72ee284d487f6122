// "Fetch from Auth0": pages through GET /api/v2/users (50 a page, with totals) up to Auth0's
// 1000-result ceiling. The token goes into the Authorization header of these requests and
// nowhere else: it is never written to storage.

export const PER_PAGE = 50;
export const CAP = 1000;

/** `acme.eu.auth0.com` or an https URL; plain http only for a stand-in on this machine. */
export function auth0Origin(domain) {
  const text = domain.trim();
  if (!text) throw new Error('Enter your Auth0 domain, for example acme.eu.auth0.com.');
  let url;
  try {
    url = new URL(/^[a-z]+:\/\//i.test(text) ? text : `https://${text}`);
  } catch {
    throw new Error(`"${text}" is not a domain name.`);
  }
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new Error('The domain must use https:// (plain http is allowed only for 127.0.0.1 or localhost).');
  }
  return url.origin;
}

/**
 * Every page's JSON text, as Auth0 sent it (so numbers keep their text), and the counts.
 * `capped` says the tenant has more users than Auth0 lets this endpoint list.
 */
export async function fetchUsers(domain, token, onPage = () => {}) {
  const origin = auth0Origin(domain);
  if (!token.trim()) throw new Error('Enter a Management API token with the read:users scope.');
  const pages = [];
  let fetched = 0;
  let total = 0;
  let capped = false;
  for (let page = 0; ; page++) {
    if (page * PER_PAGE >= CAP) {
      capped = total > fetched;
      break;
    }
    const url = `${origin}/api/v2/users?per_page=${PER_PAGE}&page=${page}&include_totals=true`;
    let res;
    try {
      res = await fetch(url, {
        headers: { authorization: `Bearer ${token.trim()}`, accept: 'application/json' },
        credentials: 'omit',
        cache: 'no-store',
        referrerPolicy: 'no-referrer',
      });
    } catch (e) {
      throw new Error(`Could not reach ${origin} (${e.message}). Check the domain, and that the tenant allows this page's origin (CORS).`, { cause: e });
    }
    const text = await res.text();
    if (!res.ok) {
      const message = auth0Message(text) ?? res.statusText;
      // Auth0's own ceiling, should the listing grow while we page.
      if (res.status === 400 && /first 1000 records/.test(message)) {
        capped = true;
        break;
      }
      throw new Error(`Auth0 answered ${res.status} on page ${page}: ${message}`);
    }
    let body;
    try {
      body = JSON.parse(text);
    } catch {
      throw new Error(`Page ${page} from ${origin} is not JSON.`);
    }
    if (!body || !Array.isArray(body.users)) throw new Error(`Page ${page} from ${origin} has no "users" list.`);
    pages.push(text);
    fetched += body.users.length;
    total = Number.isInteger(body.total) ? body.total : fetched;
    onPage({ page, fetched, total });
    if (body.users.length < PER_PAGE || fetched >= total) break;
  }
  return { pages, fetched, total, capped };
}

function auth0Message(text) {
  try {
    const m = JSON.parse(text).message;
    return typeof m === 'string' ? m : null;
  } catch {
    return null;
  }
}
