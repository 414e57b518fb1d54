// The pages of the browser benchmark, one per SDK. Each page, in a module script:
//   1. moves to the event's URL (a path with ids and a query), as an app page would be;
//   2. inits its SDK, identifies the user and the org, tracks one event and asks for it to be
//      sent now, recording when the first event request leaves (init-to-first-event-sent);
//   3. times `track()` of the ~1 KB event (bench/event.json) one call at a time, in chunks of
//      20 with a 25 ms pause between them so each SDK's timers and sends run as in an app.
// Results land in `window.benchResult`. Every SDK points at /stub/<sdk>, answered by
// page.route in run.mjs: the network is stubbed, nothing reaches a real endpoint.

export const SDKS = ['sieve', 'posthog', 'mixpanel'];

// Shared by every page: the event, the timing loop and the send recorder.
const common = (event, calls, warm, chunk, pause) => `
const EVENT = ${JSON.stringify(event)};
const CALLS = ${calls}, WARM = ${warm}, CHUNK = ${chunk}, PAUSE = ${pause};
history.replaceState(null, '', EVENT.url);
window.sends = [];
const isEvent = (u) => /\\/stub\\//.test(String(u)) && !/\\/v1\\/config|\\/flags|\\/decide/.test(String(u));
const origFetch = window.fetch;
window.fetch = function (u, o) { if (isEvent(u && u.url || u)) sends.push(performance.now()); return origFetch.apply(this, arguments); };
const origBeacon = navigator.sendBeacon && navigator.sendBeacon.bind(navigator);
if (origBeacon) navigator.sendBeacon = (u, d) => { if (isEvent(u)) sends.push(performance.now()); return origBeacon(u, d); };
const origOpen = XMLHttpRequest.prototype.open, origSend = XMLHttpRequest.prototype.send;
XMLHttpRequest.prototype.open = function (m, u) { this.__u = u; return origOpen.apply(this, arguments); };
XMLHttpRequest.prototype.send = function () { if (isEvent(this.__u)) sends.push(performance.now()); return origSend.apply(this, arguments); };
const firstSend = () => new Promise((resolve) => {
  const t = setInterval(() => { if (sends.length) { clearInterval(t); resolve(sends[0]); } }, 1);
  setTimeout(() => { clearInterval(t); resolve(NaN); }, 10000);
});
async function timeTrack(track, calls = CALLS) {
  const samples = new Float64Array(calls);
  for (let i = 0; i < calls; i += CHUNK) {
    for (let j = i; j < Math.min(calls, i + CHUNK); j++) {
      const t = performance.now();
      track(EVENT.name, EVENT.props);
      samples[j] = performance.now() - t;
    }
    await new Promise((r) => setTimeout(r, PAUSE));
  }
  return Array.from(samples);
}
`;

// 20 calls, then 25 ms for timers and sends: a busy page, not a loop that only fills queues
// (each SDK bounds its queue, and dropping is cheaper than sending). Few calls per page, many
// pages: mixpanel-browser keeps its batch queue in localStorage, rewritten on every call, and
// its renderer crashed after ~1500 calls in 4 s (it flushes 50 events every 5 s).
export function page(sdk, event, { calls = 400, warm = 200, chunk = 20, pause = 25 } = {}) {
  const head = common(event, calls, warm, chunk, pause);
  const bodies = {
    sieve: `
const sieve = await import('/sdk/sieve.js');
const t0 = performance.now();
await sieve.init({ collector: location.origin + '/stub/sieve', writeKey: 'wk_bench_browser_1', autoPage: false });
const tInit = performance.now();
sieve.identify(EVENT.user_id);
sieve.group('org', EVENT.org);
sieve.track(EVENT.name, EVENT.props);
sieve.flush();
const first = await firstSend();
await timeTrack(sieve.track, WARM);
const samples = await timeTrack(sieve.track);
await sieve.flush();
window.benchResult = { init_ms: tInit - t0, first_send_ms: first - t0, samples, stats: sieve.stats() };
`,
    posthog: `
await import('/peers/posthog.js');
const ph = window.posthog;
const t0 = performance.now();
ph.init('phc_bench0000000000000000000000000000000000', {
  api_host: location.origin + '/stub/posthog', autocapture: false, capture_pageview: false, capture_pageleave: false,
  disable_session_recording: true, advanced_disable_flags: true, advanced_disable_decide: true,
  advanced_disable_feature_flags: true, disable_surveys: true, persistence: 'memory', capture_performance: false,
  disable_external_dependency_loading: true, opt_out_useragent_filter: true,
  rate_limiting: { events_per_second: 1e6, events_burst_limit: 1e7 }, // default 10/s, burst 100: past it capture drops events (cheaper), so it is lifted
});
const tInit = performance.now();
ph.identify(EVENT.user_id);
ph.group('org', EVENT.org);
ph.capture(EVENT.name, EVENT.props, { send_instantly: true });
const first = await firstSend();
const track = (n, p) => ph.capture(n, p);
await timeTrack(track, WARM);
const samples = await timeTrack(track);
window.benchResult = { init_ms: tInit - t0, first_send_ms: first - t0, samples };
`,
    mixpanel: `
await new Promise((resolve, reject) => { const s = document.createElement('script'); s.src = '/peers/mixpanel.js'; s.onload = resolve; s.onerror = reject; document.head.append(s); });
const mp = window.mixpanel;
const t0 = performance.now();
await new Promise((resolve) => mp.init('bench0000000000000000000000000000', {
  api_host: location.origin + '/stub/mixpanel', track_pageview: false, disable_persistence: true,
  batch_requests: true, ignore_dnt: true, autocapture: false, loaded: resolve,
}));
const tInit = performance.now();
mp.identify(EVENT.user_id);
mp.register({ org: EVENT.org });
mp.track(EVENT.name, EVENT.props, { send_immediately: true });
const first = await firstSend();
const track = (n, p) => mp.track(n, p);
await timeTrack(track, WARM);
const samples = await timeTrack(track);
window.benchResult = { init_ms: tInit - t0, first_send_ms: first - t0, samples };
`,
    // The wasm instantiate time on its own: compile + instantiate from bytes already fetched,
    // and the SDK's own path (instantiateStreaming from the URL, loopback fetch included).
    wasm: `
const { default: initWasm } = await import('/sdk/sieve_wasm.js');
const bytes = await (await fetch('/sdk/sieve_wasm_bg.wasm', { cache: 'no-store' })).arrayBuffer();
const t0 = performance.now();
const mod = await WebAssembly.compile(bytes);
const t1 = performance.now();
await initWasm({ module_or_path: mod });
const t2 = performance.now();
window.benchResult = { compile_ms: t1 - t0, instantiate_ms: t2 - t1, bytes: bytes.byteLength };
`,
    'wasm-streaming': `
const { default: initWasm } = await import('/sdk/sieve_wasm.js');
const t0 = performance.now();
await initWasm();
window.benchResult = { streaming_ms: performance.now() - t0 };
`,
  };
  return `<!doctype html><meta charset="utf-8"><title>bench ${sdk}</title>
<script type="module">
${sdk.startsWith('wasm') ? '' : head}
try {
${bodies[sdk]}
} catch (e) { window.benchResult = { error: String(e && e.stack || e) }; }
</script>`;
}
