/* The field app's service worker: keeps the app's page and files so it opens without a signal.
   Served by /field/sw.js (scope /field/), which fills in the version and the files to keep.
   The app's data (lots, queued events) lives in IndexedDB, written by app.js; this only serves files. */
"use strict";

const VERSION = "__VERSION__";
const CACHE = "field-app-" + VERSION;
const SHELL = __SHELL__;
const PAGE = SHELL[0]; // the app's page, /field/
const PAGE_TIMEOUT_MS = 4000; // a weak signal: after this, the kept page opens

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE).then(async (cache) => {
      // The page needs the session cookie; a signed-out answer (a redirect to sign in) is not kept.
      await Promise.all(
        SHELL.map(async (url) => {
          const response = await fetch(url, { credentials: "same-origin", cache: "no-cache" });
          if (response.ok && !response.redirected) await cache.put(url, response);
        })
      );
      await self.skipWaiting();
    })
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith("field-app-") && name !== CACHE) await caches.delete(name);
      }
      await self.clients.claim();
    })()
  );
});

function withTimeout(promise, ms) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("timeout")), ms);
    promise.then(
      (value) => { clearTimeout(timer); resolve(value); },
      (error) => { clearTimeout(timer); reject(error); }
    );
  });
}

async function page(request) {
  const cache = await caches.open(CACHE);
  const network = fetch(request);
  try {
    const response = await withTimeout(network, PAGE_TIMEOUT_MS);
    if (response.ok && !response.redirected) await cache.put(PAGE, response.clone());
    return response;
  } catch (error) {
    const kept = await cache.match(PAGE);
    if (kept) {
      network.then((response) => {
        if (response.ok && !response.redirected) cache.put(PAGE, response);
      }, () => {});
      return kept;
    }
    return network; // nothing kept yet: the network's answer, or its failure
  }
}

async function file(request) {
  const cache = await caches.open(CACHE);
  const kept = await cache.match(request, { ignoreSearch: true });
  if (kept) return kept;
  const response = await fetch(request);
  if (response.ok) await cache.put(request, response.clone());
  return response;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return; // the sync goes to the network, always
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate" && url.pathname === PAGE) {
    event.respondWith(page(request));
  } else if (url.pathname.startsWith("/static/") || url.pathname === SHELL[1]) {
    event.respondWith(file(request));
  }
  // Anything else (the lots, the session, a scanned code) asks the network; the app handles its absence.
});
