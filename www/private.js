// Whether this window keeps the page's storage (the exported files in OPFS) in memory, as a
// private window does: there a large export grows the tab by its whole size and is lost when
// the window closes. What a page can still tell, measured in www/README.md ("Private windows").

/** A source at least this large gets the warning (about 80,000 users of Auth0's export). */
export const LARGE_BYTES = 100e6;
// Old Chromium and other engines gave a private window a quota of about 100 MB.
const PRIVATE_QUOTA = 120e6;
// Chromium 138 and later report usage + min(10 GiB, disk) in every kind of window, so that a
// page cannot tell a private one: with this quota the answer is "unknown".
const GIB = 2 ** 30;

/**
 * Resolves to 'private' (storage is kept in memory or unavailable), 'unknown' (the browser
 * hides which kind of window this is) or 'normal'.
 */
export async function storageMode() {
  try {
    // Firefox's private windows refuse origin-private storage outright.
    await navigator.storage.getDirectory();
  } catch {
    return 'private';
  }
  let estimate;
  try {
    estimate = await navigator.storage.estimate();
  } catch {
    return 'unknown';
  }
  const { quota = 0, usage = 0 } = estimate;
  if (quota > 0 && quota < PRIVATE_QUOTA) return 'private';
  const free = quota - usage;
  if (free > 0 && free % GIB === 0 && free <= 10 * GIB) return 'unknown';
  return 'normal';
}
