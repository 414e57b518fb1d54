// `Client.record` of the browser benchmark's event in a tight loop, in node: the wasm of an
// SDK build (wasm/pkg by default) without the page around it, quieter than the browser
// benchmark. Inputs come from the native driver (wasm/benches/record.rs), so both run the
// same text:
//
//   target/release/deps/record-* fixtures /tmp/rec
//   node wasm/benches/record.mjs /tmp/rec [PKG_DIR ...]    # µs per record(), per build
//
// Builds given together are measured in turn, several rounds (A B A B ...): compare within
// one run only. V8 flags (e.g. --liftoff-only, --no-liftoff) go before the script name.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [fixtures = '/tmp/rec', ...pkgs] = process.argv.slice(2);
if (!pkgs.length) pkgs.push(new URL('../pkg', import.meta.url).pathname);
const config = readFileSync(`${fixtures}/config.json`, 'utf8');
const event = readFileSync(`${fixtures}/event.json`, 'utf8');
const context = readFileSync(`${fixtures}/context.json`, 'utf8');
const whole = `{"context":${context},${event.slice(1)}`;
const ROUNDS = Number(process.env.ROUNDS || 5), CALLS = Number(process.env.CALLS || 20000);

async function load(dir) {
  const glue = await import(pathToFileURL(resolve(dir, 'sieve_wasm.js')).href + `?${dir}`);
  glue.initSync({ module: readFileSync(resolve(dir, 'sieve_wasm_bg.wasm')) });
  const client = new glue.Client(config, '{"max_queue": 100000}');
  const id = '0123456789abcdef0123456789abcdef';
  return () => {
    // Empty the queue between rounds (untimed), as the page's sends do.
    for (let b; (b = client.take_batch('2026-11-22T17:03:12.441Z', 1000, 4 << 20)); ) client.ack(JSON.parse(b).n);
    const t = process.hrtime.bigint();
    // A build from before `record` took the context apart gets the whole raw event.
    if (client.record.length === 2) for (let i = 0; i < CALLS; i++) client.record(whole, id);
    else for (let i = 0; i < CALLS; i++) client.record(event, context, id);
    return Number(process.hrtime.bigint() - t) / 1e3 / CALLS;
  };
}

const runs = [];
for (const dir of pkgs) runs.push({ dir, run: await load(dir), us: [] });
for (const r of runs) r.run(); // warm up: tier up to TurboFan
for (let i = 0; i < ROUNDS; i++) for (const r of runs) r.us.push(r.run());
for (const { dir, us } of runs) {
  const sorted = [...us].sort((a, b) => a - b);
  console.log(`${dir}: record() ${sorted[sorted.length >> 1].toFixed(2)} µs median of ${ROUNDS} rounds (${us.map((u) => u.toFixed(2)).join(' ')})`);
}
