// A minimal app that installs sieve-sdk as a package and lets Vite bundle it, as the README's
// "With a bundler (Vite)" snippet does. Served by the collector (`--demo-dir tests/bundler/dist`)
// in tests/bundler/bundler.test.mjs, without `--sdk-dir`: the bundle must carry the SDK and its
// WebAssembly itself.
import { init, track, flush, stats } from 'sieve-sdk';

const status = document.getElementById('status');
try {
  const { writeKey } = await (await fetch('/demo/sieve-demo.json')).json();
  // ?persist: the opt-in persistent queue, whose wasm build the bundle loads on demand.
  const persist = new URLSearchParams(location.search).has('persist');
  await init({ collector: location.origin, writeKey, flushInterval: 200, persist });
  track('feature_used', { feature: 'export_csv', duration_s: 3 });
  await flush();
  window.__bundled = { ok: true, stats: stats() };
  status.textContent = 'sent';
} catch (e) {
  window.__bundled = { ok: false, error: String(e) };
  status.textContent = `failed: ${e}`;
}
