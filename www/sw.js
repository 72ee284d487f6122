// Service worker that lets the export page open and run with no network: every file the page
// loaded is kept in Cache Storage; the network is still asked first, so a server's newer files win.
const CACHE = 'userexport-page-v1';

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

// The page sends the URLs it loaded before this worker controlled it (the first visit).
self.addEventListener('message', (event) => {
  if (event.data?.type !== 'cache') return;
  const urls = event.data.urls.filter((u) => new URL(u).origin === self.location.origin);
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(urls))
      .then(() => event.source.postMessage({ type: 'cached', count: urls.length })),
  );
});

self.addEventListener('fetch', (event) => {
  const { request } = event;
  // Only this site's own files: the Auth0 fetch and blob: downloads go straight through.
  if (request.method !== 'GET' || new URL(request.url).origin !== self.location.origin) return;
  event.respondWith(
    fetch(request)
      .then((response) => {
        if (response.ok) {
          const copy = response.clone();
          event.waitUntil(caches.open(CACHE).then((cache) => cache.put(request, copy)));
        }
        return response;
      })
      .catch(() => caches.match(request, { ignoreSearch: true }).then((hit) => hit ?? Response.error())),
  );
});
