// Prepare the ingest benchmark's request bodies with the SDK's own core (the wasm `Client`
// from wasm/pkg, run in node): real clean events of bench/event.json under the running
// collector's /v1/config, batched as the browser would send them. Each event id is replaced
// by `@@ID@@`, which the load generators (wrk's Lua script, the open-loop client) fill with a
// fresh id per request, so every request stores new rows.
//
//   node bench/ingest/gen-batches.mjs http://127.0.0.1:PORT OUT_DIR 1 10 50
// writes OUT_DIR/batch-1.tmpl, batch-10.tmpl, batch-50.tmpl.

import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';

const root = path.resolve(import.meta.dirname, '../..');
const [base, outDir, ...sizes] = process.argv.slice(2);
const { default: initWasm, Client } = await import(path.join(root, 'wasm/pkg/sieve_wasm.js'));
await initWasm({ module_or_path: fs.readFileSync(path.join(root, 'wasm/pkg/sieve_wasm_bg.wasm')) });

const config = await (await fetch(`${base}/v1/config`)).text();
const e = JSON.parse(fs.readFileSync(path.join(root, 'bench/event.json'), 'utf8'));
const raw = JSON.stringify({
  event: e.name,
  timestamp: new Date().toISOString(),
  props: e.props,
  user_id: e.user_id,
  groups: { org: e.org },
  context: {
    url: `https://shop.example.com${e.url}`,
    referrer: 'https://www.google.com/search?q=team+analytics+pricing',
    user_agent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36',
    language: 'en-US',
    screen: { width: 1440 },
  },
});

fs.mkdirSync(outDir, { recursive: true });
for (const n of sizes.map(Number)) {
  const c = new Client(config, '{"max_queue": 1000}');
  for (let i = 0; i < n; i++) {
    const out = JSON.parse(c.track(raw, crypto.randomBytes(16).toString('hex')));
    if (!out.sent) throw new Error(`the bench event was not kept: ${JSON.stringify(out)}`);
  }
  const b = JSON.parse(c.take_batch(new Date().toISOString(), n, 10_000_000));
  if (b.events !== n) throw new Error(`batch of ${b.events}, wanted ${n}`);
  const tmpl = b.body.replace(/"id":"[0-9a-f]{32}"/g, '"id":"@@ID@@"');
  if (tmpl.split('@@ID@@').length - 1 !== n) throw new Error('could not template the event ids');
  fs.writeFileSync(path.join(outDir, `batch-${n}.tmpl`), tmpl);
  console.error(`gen-batches: batch-${n}.tmpl, ${tmpl.length} bytes`);
}
