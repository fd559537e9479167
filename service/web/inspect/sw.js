// The inspector page's service worker: keeps the page and its scripts so
// that it opens with no network. The page and its own scripts are answered
// from the cache and refreshed behind (a new version shows on the next
// open); vendored libraries are answered from the cache once fetched; the
// API and the scan answers always go to the network (the page falls back
// to its own offline verifier).
const CACHE = "agricert-inspect-1";
const CORE = ["./", "app.js", "verify.js", "/vendor/sm-crypto/sm2.js"];

self.addEventListener("install", (e) => {
  e.waitUntil(caches.open(CACHE).then((c) => c.addAll(CORE)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (e) => {
  e.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k.startsWith("agricert-inspect-") && k !== CACHE)
      .map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

async function fromNetwork(cache, request) {
  const r = await fetch(request);
  if (r.ok) await cache.put(request, r.clone());
  return r;
}

async function answer(request, refresh) {
  const cache = await caches.open(CACHE);
  const hit = await cache.match(request, { ignoreSearch: true });
  if (!hit) return fromNetwork(cache, request);
  if (refresh) fromNetwork(cache, request).catch(() => null);
  return hit;
}

self.addEventListener("fetch", (e) => {
  const url = new URL(e.request.url);
  if (e.request.method !== "GET" || url.origin !== location.origin) return;
  if (url.pathname.startsWith("/inspect/") || url.pathname === "/inspect")
    e.respondWith(answer(e.request, true));
  else if (url.pathname.startsWith("/vendor/"))
    e.respondWith(answer(e.request, false));
});
