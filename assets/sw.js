// Kei Drive service worker: keeps the app shell so that, after one visit, the
// Drive screen opens and shows live speed with no network at all.
// v2: API answers are never stored (v1 stored some; its cache is dropped on activation).
const VERSION = "kei-drive-v2";
const SHELL = [
  "/",
  "/manifest.webmanifest",
  "/icons/icon-192.png",
  "/icons/icon-512.png",
  "/kei/kei.css",
  "/data/us_states_light.geojson",
];
// Offline basemap tiles (/tiles/...) live in their own cache, apart from the app shell, with
// a size cap and least-recently-used eviction (see "Basemap cache" below).
const BASEMAP_CACHE = "kei-drive-basemap-v1";
const BASEMAP_CAP_BYTES = 200 * 1024 * 1024;
const BASEMAP_INFO = "/tiles/basemap.json";
const BASEMAP_INDEX = "/tiles/__kei_index.json"; // synthetic entry: sizes and last use per tile
const PREFETCH_CONCURRENCY = 4;
// Live channels and uploads are never cached.
// Sign-in forms carry one-time codes and per-user answers: never cached.
// /api/ answers belong to one account (its trips, garage, rules with its overrides): never
// cached, so after a sign-out or a change of account nothing of the previous one is served
// offline (the Drive screen keeps what it needs offline itself; private_data.js forgets it).
const BYPASS = ["/_event", "/_upload", "/ping", "/_health", "/api/", "/signin", "/signout", "/setup", "/join", "/settings"];
const bypassed = (url) => BYPASS.some((p) => new URL(url, self.location).pathname.startsWith(p));
const NETWORK_TIMEOUT_MS = 4000;
const TIMED_OUT = "timeout";
// The build whose files the shell cache was last pruned to (a synthetic entry holding its
// React Router manifest's URL, which changes with every build).
const BUILD_MARK = "/__kei_build";
const BUILD_MANIFEST = /\/assets\/manifest-[\w-]+\.js/;

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(VERSION)
      .then((cache) => Promise.allSettled(SHELL.map((url) => cache.add(url))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) =>
        Promise.all(keys.filter((k) => k !== VERSION && k !== BASEMAP_CACHE).map((k) => caches.delete(k))),
      )
      .then(() => self.clients.claim()),
  );
});

// The page sends the URLs it loaded before this worker took control.
self.addEventListener("message", (event) => {
  if (event.data?.type === "basemap-prefetch") {
    event.waitUntil(prefetchBasemap(event.data, event.source));
    return;
  }
  if (event.data?.type === "basemap-cap") {
    event.waitUntil(setBasemapCap(event.data.bytes, event.source));
    return;
  }
  if (event.data?.type !== "cache-urls") return;
  const own = event.data.urls.filter((u) => new URL(u, self.location).origin === self.location.origin);
  // Basemap tiles the page loaded before this worker ran go to the basemap cache, not the shell.
  const isTile = (u) => new URL(u, self.location).pathname.startsWith("/tiles/");
  const tiles = own.filter((u) => isTile(u) && !u.endsWith(BASEMAP_INFO)).map((u) => new URL(u).pathname);
  const urls = own.filter((u) => !isTile(u) && !bypassed(u));
  if (tiles.length) event.waitUntil(prefetchBasemap({ id: "page-load", urls: tiles }, null));
  event.waitUntil(
    caches.open(VERSION).then((cache) =>
      Promise.allSettled(
        urls.map((u) => cache.match(u, { ignoreVary: true }).then((hit) => hit || cache.add(u))),
      ),
    ),
  );
});

function withTimeout(promise, ms) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(TIMED_OUT)), ms);
    promise.then(
      (v) => (clearTimeout(timer), resolve(v)),
      (e) => (clearTimeout(timer), reject(e)),
    );
  });
}

/** The network, else the copy kept (``page``: of the page at this path, whatever its query,
 * with or without the closing slash). A network slower than NETWORK_TIMEOUT_MS gives way to
 * a kept copy; with none kept, the network is waited for (a slow link is not "offline").
 * ``afterStored(response)`` runs once a fresh copy is kept; ``event`` is kept alive until the
 * network answered (also when a kept copy was served first). */
async function networkFirst(request, fallbackUrl, { page = false, afterStored = null, event = null } = {}) {
  const cache = await caches.open(VERSION);
  const fetching = fetch(request).then((response) => {
    if (response.ok) {
      const copy = afterStored ? response.clone() : null;
      const stored = cache.put(request, response.clone());
      event?.waitUntil(stored.catch(() => null));
      if (afterStored) afterStored(stored.then(() => copy));
    }
    return response;
  });
  event?.waitUntil(fetching.catch(() => null));
  try {
    return await withTimeout(fetching, NETWORK_TIMEOUT_MS);
  } catch (err) {
    const hit =
      (await cache.match(request, { ignoreVary: true })) ||
      (page && (await keptPage(cache, new URL(request.url)))) ||
      (fallbackUrl && (await cache.match(fallbackUrl, { ignoreVary: true })));
    if (hit) return hit;
    if (err?.message === TIMED_OUT) return fetching;
    throw err;
  }
}

// Links say "/states"; the server answers "/states/" (a redirect the browser follows itself,
// so only the page at "/states/" is kept).
async function keptPage(cache, url) {
  const options = { ignoreVary: true, ignoreSearch: true };
  const path = url.pathname;
  const other = path.endsWith("/") ? path.slice(0, -1) || "/" : `${path}/`;
  return (await cache.match(path, options)) || (await cache.match(other, options));
}

// A page: the network, else the copy kept. A page this phone never kept, offline, sends the
// driver to the Drive screen (its code is kept), which says the page needs a connection.
// Serving the Drive screen's page at the other page's address made the router load that
// page's code, fail offline, and reload without end; recording stopped meanwhile.
// A page's query only tells its code what to show ("/states?state=MD"): offline, the page kept
// with another query or none serves.
async function navigation(request, url, event) {
  const fallback = url.pathname === "/" ? "/" : null; // "/?guide=1" is "/" too
  try {
    // Pruning waits until this page is kept: it drops pages of other builds, and must read
    // this page's new copy, not the one it replaces.
    const afterStored = (stored) =>
      event.waitUntil(stored.then((page) => page.text()).then(pruneOldBuilds).catch(() => null));
    return await networkFirst(request, fallback, { page: true, afterStored, event });
  } catch (err) {
    if (fallback) throw err;
    return Response.redirect(`/?offline=${encodeURIComponent(url.pathname)}`, 302);
  }
}

// ------------------------------------------------------------------ Old builds
// Build output has hashed names, kept first-hit: without pruning, every deploy added its files
// to the phone's cache for good. A page fetched from the network names its build's manifest;
// when that differs from the last build pruned to, the files no file of this build refers to
// (the manifest lists the routes' modules; lazy chunks are named only inside the modules that
// load them, so cached modules are read too) and the pages of other builds are dropped.

/** Build files a page, manifest, module or style sheet refers to, as "/assets/<name>" (modules,
 * style sheets, and fonts and images, should a build ever hold them). */
function assetRefs(text) {
  const refs = new Set();
  for (const match of text.matchAll(/(?:\/assets\/|\bassets\/|\.\/)([\w.$-]+\.(?:js|css|woff2?|ttf|svg|png|jpe?g|webp))\b/g)) {
    refs.add(`/assets/${match[1]}`);
  }
  return refs;
}

let pruning = Promise.resolve();
function pruneOldBuilds(pageHtml) {
  const manifest = pageHtml.match(BUILD_MANIFEST)?.[0];
  if (!manifest) return pruning;
  pruning = pruning.then(() => pruneTo(manifest, pageHtml)).catch(() => null);
  return pruning;
}

async function pruneTo(manifest, pageHtml) {
  const cache = await caches.open(VERSION);
  const mark = await cache.match(BUILD_MARK);
  if (mark && (await mark.text()) === manifest) return;
  const manifestResponse = await cacheFirst(new Request(manifest));
  if (!manifestResponse.ok) return; // not this build's after all: prune nothing
  const manifestText = await manifestResponse.text();
  // The Drive screen opens offline whatever page came first after the deploy (a restored tab
  // on /trips): its new page is kept before the old one goes, or nothing is pruned yet.
  const shell = await keptShell(cache, manifest);
  if (shell === null) return;
  const keep = new Set([manifest, ...assetRefs(pageHtml), ...assetRefs(shell), ...assetRefs(manifestText)]);
  const keys = await cache.keys();
  const cached = new Map(keys.map((r) => [new URL(r.url).pathname, r]));
  const queue = [...keep];
  while (queue.length) {
    const path = queue.pop();
    const request = cached.get(path);
    if (!request || path === manifest || !/\.(js|css)$/.test(path)) continue;
    const hit = await cache.match(request);
    for (const ref of assetRefs(hit ? await hit.text() : "")) {
      if (!keep.has(ref)) keep.add(ref), queue.push(ref);
    }
  }
  for (const request of keys) {
    const path = new URL(request.url).pathname;
    if (path.startsWith("/assets/")) {
      if (!keep.has(path)) await cache.delete(request);
      continue;
    }
    const hit = await cache.match(request);
    if (!hit || !(hit.headers.get("Content-Type") || "").includes("text/html")) continue;
    const build = (await hit.text()).match(BUILD_MANIFEST)?.[0];
    if (build && build !== manifest) await cache.delete(request);
  }
  await cache.put(BUILD_MARK, new Response(manifest));
}

const SHELL_FILES_MAX = 300; // the Drive screen's modules and style sheets, with lazy ones

/** The Drive screen's page of this build, kept with every module it loads (fetched when the
 * page kept is another build's), or null when they cannot all be had now. */
async function keptShell(cache, manifest) {
  const kept = await cache.match("/", { ignoreVary: true });
  const text = kept ? await kept.text() : "";
  if (text.match(BUILD_MANIFEST)?.[0] === manifest) return text;
  try {
    const response = await withTimeout(fetch("/", { cache: "no-cache" }), NETWORK_TIMEOUT_MS);
    const fresh = response.ok ? await response.clone().text() : "";
    if (fresh.match(BUILD_MANIFEST)?.[0] !== manifest) return null;
    const seen = new Set(assetRefs(fresh));
    const queue = [...seen];
    while (queue.length) {
      if (seen.size > SHELL_FILES_MAX) return null;
      const path = queue.pop();
      const file = await cacheFirst(new Request(path));
      if (!file.ok) return null;
      if (!/\.(js|css)$/.test(path)) continue;
      for (const ref of assetRefs(await file.clone().text())) {
        if (!seen.has(ref)) seen.add(ref), queue.push(ref);
      }
    }
    await cache.put("/", response);
    return fresh;
  } catch {
    return null;
  }
}

async function cacheFirst(request) {
  const cache = await caches.open(VERSION);
  const hit = await cache.match(request, { ignoreVary: true });
  if (hit) return hit;
  const response = await fetch(request);
  if (response.ok) cache.put(request, response.clone());
  return response;
}

// ------------------------------------------------------------------ Basemap cache
// Tiles are cached first-hit (they only change when the driver rebuilds the basemap; then
// basemap.json has a new build_id and the old tiles are dropped). The index (url -> [bytes,
// last use]) is kept in memory and saved in the cache itself, a second after the last change.

let basemapIndex = null; // {buildId, capBytes?, entries: {url: [bytes, lastUsedMs]}}
let basemapIndexLoading = null;
let indexSaveTimer = null;

// One read of the saved index, shared by every caller: when a fresh worker's first tile
// requests and a prefetch each read it, the later read replaced the index the earlier ones
// had added tiles to, and those tiles stayed in the cache unknown to the index.
function loadIndex(cache) {
  if (basemapIndex) return Promise.resolve(basemapIndex);
  basemapIndexLoading ??= cache
    .match(BASEMAP_INDEX)
    .then((hit) => (hit ? hit.json().catch(() => null) : null))
    .then((saved) => {
      basemapIndex = saved || { buildId: null, entries: {} };
      basemapIndexLoading = null;
      return basemapIndex;
    });
  return basemapIndexLoading;
}

function saveIndexSoon(cache) {
  clearTimeout(indexSaveTimer);
  indexSaveTimer = setTimeout(() => saveIndex(cache), 1000);
}

function saveIndex(cache) {
  clearTimeout(indexSaveTimer);
  const body = JSON.stringify(basemapIndex);
  return cache.put(BASEMAP_INDEX, new Response(body, { headers: { "Content-Type": "application/json" } }));
}

function indexBytes(index) {
  return Object.values(index.entries).reduce((sum, [bytes]) => sum + bytes, 0);
}

/** Drop the least recently used tiles until the cache is under 90% of its cap. */
async function evict(cache, index) {
  const cap = index.capBytes ?? BASEMAP_CAP_BYTES;
  let total = indexBytes(index);
  if (total <= cap) return;
  const oldestFirst = Object.entries(index.entries).sort((a, b) => a[1][1] - b[1][1]);
  for (const [url, [bytes]] of oldestFirst) {
    if (total <= cap * 0.9) break;
    await cache.delete(url);
    delete index.entries[url];
    total -= bytes;
  }
}

// Changes to the basemap cache and its index run one at a time: two prefetches (the page's
// own tiles and a route corridor) interleaving at their awaits left tiles in the cache that
// the index had dropped.
let basemapQueue = Promise.resolve();
function oneAtATime(change) {
  const run = basemapQueue.then(change, change);
  basemapQueue = run.catch(() => null);
  return run;
}

async function storeTile(cache, url, response) {
  const body = await response.clone().arrayBuffer();
  const bytes = Number(response.headers.get("Content-Length")) || body.byteLength;
  return oneAtATime(async () => {
    await cache.put(url, response);
    const index = await loadIndex(cache);
    index.entries[url] = [bytes, Date.now()];
    await evict(cache, index);
    saveIndexSoon(cache);
    return bytes;
  });
}

/** A basemap tile: from the cache, else from the network (and then kept). 204s are kept too. */
async function basemapTile(request) {
  const cache = await caches.open(BASEMAP_CACHE);
  const url = new URL(request.url).pathname;
  const hit = await cache.match(url);
  if (hit) {
    const index = await loadIndex(cache);
    if (index.entries[url]) index.entries[url][1] = Date.now();
    saveIndexSoon(cache);
    return hit;
  }
  const response = await fetch(request);
  if (response.ok) await storeTile(cache, url, response.clone());
  return response;
}

/** basemap.json: network first (it says whether a basemap exists); a new build drops old tiles. */
async function basemapInfo(request) {
  const cache = await caches.open(BASEMAP_CACHE);
  try {
    const response = await withTimeout(fetch(request), NETWORK_TIMEOUT_MS);
    if (response.ok) {
      const info = await response.clone().json();
      await oneAtATime(async () => {
        const index = await loadIndex(cache);
        if (index.buildId && index.buildId !== info.build_id) {
          await Promise.all(Object.keys(index.entries).map((u) => cache.delete(u)));
          index.entries = {};
        }
        index.buildId = info.build_id;
        await saveIndex(cache);
        await cache.put(BASEMAP_INFO, response.clone());
      });
    } else if (response.status === 404) {
      await cache.delete(BASEMAP_INFO); // no basemap any more: maps fall back to raster tiles
    }
    return response;
  } catch (err) {
    const hit = await cache.match(BASEMAP_INFO);
    if (hit) return hit;
    throw err;
  }
}

/** A different cap for the basemap cache (bytes; null restores the default), applied at once. */
async function setBasemapCap(bytes, client) {
  const cache = await caches.open(BASEMAP_CACHE);
  const index = await oneAtATime(async () => {
    const loaded = await loadIndex(cache);
    loaded.capBytes = Number.isFinite(bytes) && bytes > 0 ? bytes : undefined;
    await evict(cache, loaded);
    await saveIndex(cache);
    return loaded;
  });
  client?.postMessage({ type: "basemap-cap-set", bytes: index.capBytes ?? BASEMAP_CAP_BYTES });
}

/** Store a list of tile URLs for offline use, reporting progress to the page that asked. */
async function prefetchBasemap({ id, urls }, client) {
  // The maps need basemap.json to draw stored tiles offline; a page that read it before this
  // worker controlled it (the worker registers a few seconds after load) never stored it.
  await basemapInfo(new Request(BASEMAP_INFO, { cache: "no-cache" })).catch(() => null);
  const cache = await caches.open(BASEMAP_CACHE);
  const report = { type: "basemap-progress", id, done: 0, total: urls.length, bytes: 0, failed: 0, finished: false };
  const post = () => client?.postMessage({ ...report });
  let lastPost = 0;
  const queue = [...urls];
  const worker = async () => {
    while (queue.length) {
      const url = queue.shift();
      try {
        const hit = await cache.match(url);
        if (hit) {
          const index = await loadIndex(cache);
          const entry = index.entries[url];
          if (entry) entry[1] = Date.now();
          report.bytes += entry ? entry[0] : 0;
        } else {
          const response = await fetch(url);
          if (!response.ok) throw new Error(`HTTP ${response.status}`);
          report.bytes += await storeTile(cache, url, response);
        }
      } catch {
        report.failed += 1;
      }
      report.done += 1;
      if (Date.now() - lastPost > 250) {
        lastPost = Date.now();
        post();
      }
    }
  };
  await Promise.all(Array.from({ length: PREFETCH_CONCURRENCY }, worker));
  await saveIndex(cache);
  report.finished = true;
  post();
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (url.pathname === BASEMAP_INFO) {
    event.respondWith(basemapInfo(request));
    return;
  }
  if (url.pathname.startsWith("/tiles/")) {
    event.respondWith(basemapTile(request));
    return;
  }
  if (bypassed(url)) return;
  if (request.mode === "navigate") {
    event.respondWith(navigation(request, url, event));
  } else if (url.pathname.startsWith("/assets/")) {
    event.respondWith(cacheFirst(request)); // hashed build output: immutable
  } else {
    event.respondWith(networkFirst(request, null, { event }));
  }
});
