// sieve-sdk: the browser side of Sieve's SDK.
//
// This module does browser I/O only: it reads the page context the schema allows, keeps the
// identity in memory, batches clean events and sends them. Every privacy transform runs in
// sieve-core (the wasm `Client`): a raw event never leaves this module except into core, and
// only what core returns is ever sent. Nothing here throws into the host page except `init`.
//
// Storage: none by default. `optOut()` remembers `sieve:opt-out` in localStorage; the opt-in
// `persist` option keeps clean (never raw) events in `sieve:queue` across page loads.

import initWasm, { Client } from './sieve_wasm.js';

const VERSION = '0.1.0';
// keepalive requests (and beacons) share a 64 KiB in-flight cap per page; stay under it.
const MAX_BODY = 60000;
// Raw events waiting for the config stay in memory only, and only this many.
const MAX_WAITING = 100;
const CONFIG_ATTEMPTS = 4;
const OPT_OUT_KEY = 'sieve:opt-out';
const QUEUE_KEY = 'sieve:queue';
// Transient by nature; anything else (400, 401, 403, 413, 415, 500 ...) would fail again.
const RETRY_STATUS = [408, 429, 502, 503, 504];
// A 500 is retried too, but only this many times in a row: a proxy or load balancer in front of
// the collector answers 500 for a moment (a restart, a deploy), and the collector stores a
// retried batch once (by event id); a batch that gets a 500 every time is dropped and counted
// rather than holding up every batch behind it.
const MAX_500_RETRIES = 4;

let opts = null; // normalised init options
let started = null; // the promise init returned
let off = false; // opted out, or privacySignals 'none' met a signal: nothing at all happens
let config = null; // GET /v1/config, cached for its epoch
let expiresAt = 0; // ms; after this, reload the config before cleaning more events
let loading = null; // the config load in progress
let clients = []; // the current Client last; older ones still drain their epoch's queue
let waiting = []; // raw calls made before the config arrived (memory only)
let identity = { groups: {}, traits: {} };
let lastPage = ''; // path + query of the last page view, to spot SPA navigations
let timer = 0; // batch timer
let retryAt = 0; // no send before this (backoff or Retry-After)
let attempt = 0; // consecutive failed sends
let got500 = 0; // consecutive answers of HTTP 500
let sending = null; // the send loop in progress
let busy = null; // the client whose batch is in flight
// Batches sent and not yet answered ({ c, body }): with `persist`, leaving the page saves them
// too, since a client's exported queue holds only unsent events.
const inFlight = new Set();
let listening = false;
let watching = false; // history wrapped
const counts = { bad_calls: 0, waiting_overflow: 0, rejected_events: 0, beacon_batches: 0 };

const debug = (...a) => opts && opts.debug && console.debug('sieve:', ...a);
const warn = (...a) => opts && opts.debug && console.warn('sieve:', ...a);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// Full-ish jitter, so that many pages recovering from one outage do not retry in step.
const backoff = (n, base, cap) => Math.min(cap, base * 2 ** n) * (0.5 + Math.random() / 2);
const client = () => clients[clients.length - 1];
const path = () => location.pathname + location.search;
const storage = (f) => {
  try {
    return f(localStorage);
  } catch {
    return null; // storage disabled or full: behave as if nothing was stored
  }
};

function bad(why) {
  counts.bad_calls++;
  warn('bad call:', why);
}

// Guard every public call: the host page must never see an exception from us.
const safe = (name, f) => (...args) => {
  try {
    return f(...args);
  } catch (e) {
    bad(`${name}: ${e && e.message}`);
  }
};

const isMap = (v) => v != null && typeof v === 'object' && !Array.isArray(v);
const isId = (v) => (typeof v === 'string' && v !== '') || Number.isInteger(v);

/** Load the wasm and the config, then clean what waited. `init` is the one call that may reject. */
export function init(options) {
  if (started) {
    warn('init called twice; the second call is ignored');
    return started;
  }
  started = start(options).catch((e) => {
    started = null; // a later init may try again
    throw e;
  });
  return started;
}

async function start(o = {}) {
  if (typeof o.collector !== 'string' || !o.collector) throw new Error('sieve: init needs `collector`, the collector URL');
  if (typeof o.writeKey !== 'string' || !o.writeKey) throw new Error('sieve: init needs `writeKey`');
  const num = (v, d) => (Number.isFinite(v) && v > 0 ? Math.floor(v) : d);
  opts = {
    collector: o.collector.replace(/\/+$/, ''),
    writeKey: o.writeKey,
    debug: !!o.debug,
    batchSize: num(o.batchSize, 20),
    flushInterval: num(o.flushInterval, 5000),
    maxQueue: num(o.maxQueue, 500),
    persist: !!o.persist,
    autoPage: o.autoPage !== false,
    privacySignals: ['none', 'ignore'].includes(o.privacySignals) ? o.privacySignals : 'anonymous',
  };
  const signal = navigator.globalPrivacyControl === true || navigator.doNotTrack === '1';
  opts.anonymous = signal && opts.privacySignals === 'anonymous';
  if (storage((s) => s.getItem(OPT_OUT_KEY)) === '1') off = true;
  if (signal && opts.privacySignals === 'none') off = true;
  if (off) {
    waiting = [];
    debug('off:', signal ? 'privacy signal with privacySignals "none"' : 'opted out');
    return;
  }
  if (opts.anonymous) debug('privacy signal: sending anonymous events only');
  listen();
  // The first page view is recorded now, with this URL; it is cleaned when the config arrives.
  if (opts.autoPage) {
    watchHistory();
    page();
  }
  await load();
}

// Fetch the config (retrying), build a Client for its epoch, and clean the waiting calls.
function load() {
  return (loading ||= (async () => {
    try {
      // The persistent queue's import re-checks stored events with core's verify_event: that
      // code is in its own build, persist/, which only a page with `persist` downloads.
      let wasm;
      try {
        wasm = opts.persist ? await import('./persist/sieve_wasm.js') : { default: initWasm, Client };
        await wasm.default();
      } catch (e) {
        throw new Error(`sieve: could not load the wasm module: ${e && e.message}`);
      }
      const cfg = await fetchConfig();
      if (off) return;
      const epoch = cfg.epoch || {};
      // The same epoch and schema again (a clock ahead of the collector's): keep the client.
      if (!clients.length || epoch.id !== config.epoch.id || cfg.fingerprint !== config.fingerprint) {
        let c;
        try {
          c = new wasm.Client(
            JSON.stringify(cfg),
            JSON.stringify({ max_queue: opts.maxQueue, anonymous: opts.anonymous, sdk_version: VERSION }),
          );
        } catch (e) {
          throw new Error(`sieve: the collector's config was refused: ${e}`);
        }
        config = cfg;
        if (opts.persist && !clients.length) restore(c);
        clients.push(c);
        debug('config loaded, epoch', epoch.id, 'until', epoch.expires);
      }
      // At most one reload a minute, however far this clock is from the collector's.
      expiresAt = Math.max(Date.parse(epoch.expires) || 0, Date.now() + 60e3);
    } finally {
      loading = null;
    }
    drain();
  })());
}

async function fetchConfig() {
  const url = `${opts.collector}/v1/config`;
  let why = '';
  for (let i = 0; i < CONFIG_ATTEMPTS; i++) {
    if (i) await sleep(backoff(i - 1, 500, 8000));
    try {
      const res = await fetch(url, { credentials: 'omit' });
      if (res.ok) return await res.json();
      why = `HTTP ${res.status}`;
      // A wrong URL or a refused site will not fix itself by waiting.
      if (res.status < 500 && res.status !== 408 && res.status !== 429) break;
    } catch (e) {
      why = (e && e.message) || 'network error';
    }
  }
  throw new Error(`sieve: could not load ${url}: ${why}`);
}

// The epoch's key has expired (or opt-in starts again): fetch the config. Until it arrives calls
// wait; if it cannot be had, keep using the old key (the collector accepts it until the epoch is
// destroyed) and try again in a minute rather than lose the events.
function refresh() {
  load().catch((e) => {
    debug('config reload failed; trying again in a minute:', e.message);
    expiresAt = Date.now() + 60e3;
    drain();
  });
}

// ---- recording -------------------------------------------------------------------------

function record(event, props) {
  if (off) return;
  if (props !== undefined && !isMap(props)) return bad(`${event}: props must be an object`);
  const call = makeCall(event, props);
  if (loading || !clients.length || Date.now() >= expiresAt) {
    if (waiting.push(call) > MAX_WAITING) {
      waiting.shift(); // the oldest go, as in core's queue
      counts.waiting_overflow++;
      debug('dropped a waiting event: more than', MAX_WAITING, 'before the config arrived');
    }
    if (config && !loading && Date.now() >= expiresAt) refresh();
    return;
  }
  clean(call);
}

// A call as it stands now. Props are kept as their JSON text, a copy a later change by the app
// cannot alter, and the text raw() splices in as it is (serialising once, not copying and then
// serialising). The identity's maps are replaced, never mutated, so they are taken as they are.
// Only the URL can change before the config arrives (SPA navigation), so only it is read ahead;
// it stays in memory and raw() leaves it out if the schema does not want it.
const makeCall = (event, props) => ({
  event,
  timestamp: new Date().toISOString(),
  props: props && json(props),
  user_id: identity.user_id,
  groups: identity.groups,
  traits: identity.traits,
  href: location.href,
});

// JSON text of props or traits; one whose toJSON yields nothing is a bad call, as JSON.parse of
// nothing was before.
function json(v) {
  const text = JSON.stringify(v);
  if (text === undefined) throw new TypeError('not representable as JSON');
  return text;
}

function drain() {
  if (!clients.length) return;
  const calls = waiting;
  waiting = [];
  for (const call of calls) clean(call);
}

// The raw event of docs/events.md as JSON text, with only the context the schema captures.
const raw = (call) => `{"context":${context(call.href)},${eventText(call).slice(1)}`;

// The raw event without its context: what `record` takes, beside the context's text, so that
// the wasm can tell an unchanged context from its text alone and skip reading it again.
function eventText(call) {
  let r = `{"event":${JSON.stringify(call.event)},"timestamp":"${call.timestamp}"`;
  if (call.props) r += `,"props":${call.props}`;
  if (call.user_id !== undefined) r += `,"user_id":${JSON.stringify(call.user_id)}`;
  if (Object.keys(call.groups).length) r += `,"groups":${JSON.stringify(call.groups)}`;
  if (Object.keys(call.traits).length) r += `,"traits":${JSON.stringify(call.traits)}`;
  return r + '}';
}

// The context's JSON text. The user agent and its client hints cannot change while the page
// lives: read once per config (which says whether they are wanted). The URL, referrer, language
// and screen width can (SPA navigation, a language setting, a window moved to another screen):
// read at every call, and the last text reused while all four stay the same.
let ctx = { config: null };
function context(href) {
  const want = (k) => ((config.schema && config.schema.context) || {})[k] !== 'none';
  if (ctx.config !== config) ctx = { config, ua: want('user_agent') ? userAgent() : null, text: '' };
  const url = want('url') ? href : undefined;
  const referrer = (want('referrer') && document.referrer) || undefined;
  const language = (want('language') && navigator.language) || undefined;
  // The width decides the size class; the height is never sent, so it is not read.
  const width = want('screen') && self.screen ? screen.width : undefined;
  if (!ctx.text || url !== ctx.url || referrer !== ctx.referrer || language !== ctx.language || width !== ctx.width) {
    Object.assign(ctx, { url, referrer, language, width });
    ctx.text = JSON.stringify({ url, referrer, ...ctx.ua, language, screen: width === undefined ? undefined : { width } });
  }
  return ctx.text;
}

function userAgent() {
  const ua = { user_agent: navigator.userAgent };
  const h = navigator.userAgentData; // client hints: Chromium only
  if (h) {
    ua.ua_hints = {
      brands: (h.brands || []).map(({ brand, version }) => ({ brand, version })),
      mobile: h.mobile,
      platform: h.platform,
    };
  }
  return ua;
}

// 128 random bits as 32 hex digits, for the collector to drop a batch that arrives twice.
// The bits of 64 ids are drawn at once (one getRandomValues call, not one per event; each
// byte is used once) and written through a table: ~2.5 µs a call before, ~0.1 µs now (node).
const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));
const idBytes = new Uint8Array(16 * 64);
let idAt = idBytes.length;
function newId() {
  if (idAt === idBytes.length) {
    crypto.getRandomValues(idBytes);
    idAt = 0;
  }
  let id = '';
  for (const end = idAt + 16; idAt < end; idAt++) id += HEX[idBytes[idAt]];
  return id;
}

function hasEvent(name) {
  if (config.schema && config.schema.events && config.schema.events[name]) return true;
  debug(`${name}: not in the schema, nothing recorded`);
  return false;
}

function clean(call) {
  try {
    if (call.event === 'page_view' && !hasEvent('page_view')) return;
    const c = client();
    let queued;
    // The outcome is read only in debug mode; otherwise `record` cleans and queues alike
    // without building it, copying it out of the wasm and parsing it, and reuses the clean
    // context while the context's text stays the same.
    if (opts.debug) {
      report(call.event, JSON.parse(c.track(raw(call), newId())));
      queued = c.queued();
    } else queued = c.record(eventText(call), context(call.href), newId());
    if (queued >= opts.batchSize) pump();
    else arm();
  } catch (e) {
    bad(`${call.event}: ${(e && e.message) || e}`); // e.g. props that JSON cannot hold
  }
}

// Debug mode shows what core did to each event, so a developer sees it before shipping.
function report(name, out) {
  if (!opts.debug) return;
  if (!out.sent) debug(`${name}: not sent`, out.dropped);
  else for (const d of out.dropped || []) debug(`${name}: dropped ${d}`);
  for (const r of out.redactions || []) debug(`${name}: redacted ${r}`);
}

/** Record an event. Never throws. */
export const track = safe('track', (name, props) => {
  if (typeof name !== 'string' || !name) return bad('track: the event name must be a non-empty string');
  record(name, props);
});

/** Set the user id (kept in memory only, hashed by core) and traits (undeclared ones are dropped by core). */
export const identify = safe('identify', (userId, traits) => {
  if (!isId(userId)) return bad('identify: the user id must be a non-empty string or a whole number');
  if (traits !== undefined && !isMap(traits)) return bad('identify: traits must be an object');
  identity.user_id = userId;
  // Replaced, never mutated, so waiting calls keep the traits they were made with.
  identity.traits = { ...identity.traits, ...(traits && JSON.parse(JSON.stringify(traits))) };
});

/** Set the group of a kind (e.g. "org"), kept in memory only and hashed by core. */
export const group = safe('group', (kind, id) => {
  if (typeof kind !== 'string' || !kind || !isId(id)) return bad('group: needs a kind and an id');
  // Replaced, never mutated (as traits are), so waiting calls keep the groups they were made
  // with. Assigned rather than spread in, so a kind such as `__proto__` does what it did.
  const groups = { ...identity.groups };
  groups[kind] = id;
  identity.groups = groups;
});

/** Record a `page_view`; automatic on load and SPA navigation unless `autoPage: false`. */
export const page = safe('page', () => {
  lastPage = path();
  if (config && !hasEvent('page_view')) return;
  record('page_view');
});

/** Forget the user id, groups and traits. */
export const reset = safe('reset', () => {
  identity = { groups: {}, traits: {} };
});

function watchHistory() {
  if (watching) return;
  watching = true;
  lastPage = path();
  // SPA routers move with pushState/replaceState; back and forward fire popstate. A change of
  // fragment only is not a new page.
  const changed = () => !off && path() !== lastPage && page(); // page() never throws
  for (const m of ['pushState', 'replaceState']) {
    const orig = history[m];
    history[m] = function (...args) {
      const r = orig.apply(this, args);
      changed();
      return r;
    };
  }
  addEventListener('popstate', changed);
}

/** The event exactly as it would be sent now (`{sent, dropped, redactions}`), or null before init. */
export const preview = (name, props) => {
  try {
    if (!clients.length || typeof name !== 'string' || (props !== undefined && !isMap(props))) return null;
    return JSON.parse(client().preview(raw(makeCall(name, props)), newId()));
  } catch (e) {
    bad(`preview: ${e && e.message}`);
    return null;
  }
};

/** Core's counters plus the SDK's own. */
export const stats = () => {
  let core = {};
  try {
    if (clients.length) core = JSON.parse(client().stats());
  } catch {}
  return { ...core, ...counts, waiting: waiting.length };
};

// ---- sending ---------------------------------------------------------------------------

async function post(body) {
  const res = await fetch(eventsUrl(), {
    method: 'POST',
    keepalive: true, // survives the page going away
    credentials: 'omit', // the site's cookies are none of the collector's business
    headers: { 'Content-Type': 'text/plain' }, // a simple request: no CORS preflight
    body,
  });
  // Read the answer to the end: Chromium counts a keepalive request against the page's
  // 64 KiB quota until its response is consumed, and past the quota every send fails.
  await res.arrayBuffer().catch(() => {});
  return res;
}

const eventsUrl = () => `${opts.collector}/v1/events?key=${encodeURIComponent(opts.writeKey)}`;

function take(c, max) {
  const b = c.take_batch(new Date().toISOString(), max, MAX_BODY);
  return b ? JSON.parse(b) : null;
}

function arm() {
  if (!timer && !off && clients.some((c) => c.queued())) {
    timer = setTimeout(() => {
      timer = 0;
      pump();
    }, Math.max(opts.flushInterval, Math.ceil(retryAt - Date.now()))); // not a fraction of a ms early
  }
}

// Send queued batches one at a time, oldest epoch first, until the queue is empty or a send
// fails; a failure schedules the retry.
function pump() {
  return (sending ||= (async () => {
    try {
      // Yield once first: were this body to finish synchronously (nothing queued, or in a
      // backoff), its `finally` would clear `sending` before `||=` assigned the promise, leaving
      // a settled promise in `sending` and every later pump() a no-op.
      await null;
      while (!off && Date.now() >= retryAt) {
        const c = clients.find((c) => c.queued());
        const b = c && take(c, opts.batchSize);
        busy = c;
        if (!b) break;
        let res = null;
        const flight = { c, body: b.body };
        inFlight.add(flight);
        try {
          res = await post(b.body);
        } catch {} // network error: res stays null
        inFlight.delete(flight);
        busy = null;
        if (!clients.includes(c)) return c.free(); // opted out meanwhile: the queue is gone
        got500 = res && res.status === 500 ? got500 + 1 : 0;
        const retry = res && (RETRY_STATUS.includes(res.status) || (res.status === 500 && got500 <= MAX_500_RETRIES));
        if (res && !retry) {
          c.ack(b.n);
          attempt = 0;
          got500 = 0;
          if (!res.ok) {
            // Sending it again would be refused again (or it got a 500 every time): count it and
            // move on.
            counts.rejected_events += b.events;
            warn(`collector refused a batch of ${b.events} (HTTP ${res.status}); dropped`);
          }
          continue;
        }
        c.nack(b.n);
        const after = res && Number(res.headers.get('Retry-After'));
        const wait = after > 0 ? Math.min(after * 1000, 3600e3) : backoff(attempt, 1000, 60000);
        attempt++;
        retryAt = Date.now() + wait;
        debug(`send failed (${res ? 'HTTP ' + res.status : 'network error'}); retry in ${Math.round(wait)} ms`);
      }
    } catch (e) {
      bad(`send: ${e && e.message}`);
    } finally {
      busy = null;
      sending = null;
      retire();
      arm();
    }
  })());
}

// An old epoch's client is forgotten once its queue has gone.
function retire() {
  while (clients.length > 1 && !clients[0].queued() && !JSON.parse(clients[0].stats()).in_flight) {
    clients.shift().free();
  }
}

/** Send everything queued now. Resolves when the queue is empty, or when the collector asked to wait (the retry goes on in the background). Never rejects. */
export const flush = async () => {
  try {
    if (off) return;
    if (loading) await loading.catch(() => {});
    await pump();
  } catch (e) {
    bad(`flush: ${e && e.message}`);
  }
};

// The page is going away (or may be frozen): hand everything to sendBeacon, which outlives it.
// A beacon cannot report failure, so its batches are acked. Sent even during a backoff: this
// is the last chance, and the collector drops a batch that arrives twice.
function hide() {
  try {
    if (off || !clients.length) return;
    for (const c of clients) {
      for (let b; c.queued() && (b = take(c, opts.maxQueue)); ) {
        if (navigator.sendBeacon(eventsUrl(), new Blob([b.body], { type: 'text/plain' }))) {
          c.ack(b.n);
          counts.beacon_batches++;
          continue;
        }
        // The beacon quota is spent: try fetch keepalive once, and keep the rest for later
        // (the page may come back from the back/forward cache, or `persist` saves it).
        const n = b.n;
        const flight = { c, body: b.body };
        inFlight.add(flight);
        const settle = (ok) => {
          inFlight.delete(flight);
          ok ? c.ack(n) : c.nack(n);
        };
        post(b.body)
          .then((res) => settle(res.ok), () => settle(false))
          .then(() => opts.persist && !off && save())
          .catch(() => {});
        break;
      }
    }
    // Saved too, with every batch still in flight, in case the page dies first; if a fetch did
    // arrive, the collector drops the second copy by event id.
    if (opts.persist) save();
  } catch (e) {
    bad(`pagehide: ${e && e.message}`);
  }
}

function listen() {
  if (listening) return;
  listening = true;
  addEventListener('pagehide', hide);
  document.addEventListener('visibilitychange', () => document.visibilityState === 'hidden' && hide());
}

// ---- opt-out and the opt-in persistent queue -------------------------------------------

// Clean events only, tagged with their epoch: pseudonyms hashed under another epoch's key
// would be re-keyed with the wrong pepper, so those are not restored.
// A page that hides twice (visibilitychange, then pagehide) saves twice: the second save still
// holds the first one's unanswered fetch.
function save() {
  if (!clients.length) return;
  const c = client();
  const events = [];
  for (const f of inFlight) if (f.c === c) events.push(...JSON.parse(f.body).events);
  events.push(...JSON.parse(c.export_queue()));
  storage((s) =>
    events.length ? s.setItem(QUEUE_KEY, JSON.stringify({ epoch: config.epoch.id, events })) : s.removeItem(QUEUE_KEY),
  );
}

function restore(c) {
  const saved = storage((s) => {
    const v = s.getItem(QUEUE_KEY);
    s.removeItem(QUEUE_KEY); // it is in memory now; pagehide saves what is left
    return v && JSON.parse(v);
  });
  if (!saved) return;
  if (saved.epoch !== config.epoch.id) return debug('saved events are from another key epoch; dropped');
  debug('restored', c.import_queue(JSON.stringify(saved.events)), 'saved events');
}

/** Stop everything, drop the queue, and remember the choice (localStorage `sieve:opt-out`). */
export const optOut = safe('optOut', () => {
  off = true;
  waiting = [];
  clearTimeout(timer);
  timer = 0;
  for (const c of clients) if (c !== busy) c.free(); // the send in flight frees its own
  clients = [];
  storage((s) => {
    s.setItem(OPT_OUT_KEY, '1');
    s.removeItem(QUEUE_KEY);
  });
  debug('opted out');
});

/** Forget the opt-out; if init was called, start again. */
export const optIn = safe('optIn', () => {
  storage((s) => s.removeItem(OPT_OUT_KEY));
  if (!off) return;
  off = false;
  if (!opts) return;
  const signal = navigator.globalPrivacyControl === true || navigator.doNotTrack === '1';
  if (signal && opts.privacySignals === 'none') {
    off = true;
    return debug('still off: privacy signal with privacySignals "none"');
  }
  listen();
  if (opts.autoPage) watchHistory();
  refresh();
});
