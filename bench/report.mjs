// Turn bench/results/*.json and criterion's estimates into Markdown tables: printed on stdout
// and, with `--write FILE`, put between the `<!-- bench:begin -->` and `<!-- bench:end -->`
// markers of FILE (BENCHMARKS.md). Only measured figures appear; a missing result says so.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const res = (f) => {
  try {
    return JSON.parse(fs.readFileSync(path.join(root, 'bench/results', f), 'utf8'));
  } catch {
    return null;
  }
};
const sh = (cmd, args) => {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch (e) {
    return (e.stdout || '').trim() || 'unknown';
  }
};
const kib = (n) => (n / 1024).toFixed(1);
const f1 = (n) => (Number.isFinite(n) ? n.toFixed(1) : 'n/a');
const f2 = (n) => (Number.isFinite(n) ? n.toFixed(2) : 'n/a');
const int = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a');
const table = (head, rows) => [`| ${head.join(' | ')} |`, `|${head.map((h, i) => (i ? '---:' : '---')).join('|')}|`,
  ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
const yes = (b) => (b ? '**met**' : '**not met**');

const out = [];
const targets = [];
const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');

// ---- machine -------------------------------------------------------------------------------
const cpu = (fs.readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.*)$/m) || [])[1] || 'unknown';
const resultText = (name) => { try { return fs.readFileSync(path.join(root, 'bench/results', name), 'utf8').trim(); } catch { return null; } };
const loadavg = (name) => { const t = resultText(name); return t ? t.split(' ').slice(0, 3).join(' ') : null; };
// scripts/bench records when its last part ended; a report regenerated alone says it was not.
const finished = resultText('finished') || `not recorded (report written ${now})`;
const browser = res('browser.json');
out.push(`Run finished ${finished}. Machine: ${os.cpus().length} cores (\`nproc\` ${sh('nproc', [])}), ${cpu}, `
  + `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Linux ${os.release()}; load average at start ${loadavg('loadavg-start') || 'n/a'}, `
  + `at the end ${loadavg('loadavg-end') || 'n/a'}. `
  + `${sh('rustc', ['--version'])}; node ${process.version}; ${sh('wrk', ['--version']).split('\n')[0].split(' [')[0]}; `
  + `Chromium ${browser ? browser.chromium : 'n/a'}.`);

// ---- size ----------------------------------------------------------------------------------
const size = res('size.json');
out.push('\n### Browser transfer size\n');
if (size) {
  const sieve = size.rows[0];
  out.push(table(['package', 'version', 'file a page loads', 'raw KiB', 'gzip -9 KiB', 'brotli -q 11 KiB', 'Sieve ÷ this (brotli)'],
    size.rows.map((r) => [r.kind === 'sieve-part' ? `  ${r.name}` : r.kind === 'reference' ? `${r.name} (reference)` : r.name,
      r.version, `\`${r.file}\``, kib(r.raw), kib(r.gzip), kib(r.brotli), r.kind === 'peer' || r.kind === 'reference' ? f2(sieve.brotli / r.brotli) : ''])));
  targets.push(['SDK smaller than every peer in brotli', `Sieve ${kib(size.target.sieve_brotli)} KiB vs smallest peer `
    + `${size.target.smallest_peer} ${kib(size.target.smallest_peer_brotli)} KiB (${f1(size.target.ratio_to_smallest)}x)`, yes(size.target.met)]);
} else out.push('_not measured in this run_');

// ---- browser -------------------------------------------------------------------------------
out.push('\n### Cost per call in headless Chromium\n');
if (browser) {
  const s = browser.sdks.sieve;
  const peers = JSON.parse(fs.readFileSync(path.join(root, 'bench/peers.json'), 'utf8')).sdks;
  const ver = { sieve: 'sieve-sdk 0.1.0', posthog: `posthog-js ${peers[0].version}`, mixpanel: `mixpanel-browser ${peers[1].version}` };
  out.push(`${browser.reps} fresh pages per SDK, interleaved, ${browser.calls_per_page} timed \`track()\` calls each after 200 `
    + `warm-up calls (${int(s.samples)} samples per SDK); cross-origin isolated page (5 µs timer): ${browser.isolated}.\n`);
  out.push(table(['SDK', 'track() median µs', 'p99 µs', 'mean µs', 'Sieve ÷ this (median)', 'Sieve ÷ this (p99)', 'init ms', 'init → first event sent ms', 'requests stubbed'],
    Object.entries(browser.sdks).map(([k, v]) => [ver[k], f1(v.track_median_us), f1(v.track_p99_us), f1(v.track_mean_us),
      k === 'sieve' ? '' : f2(s.track_median_us / v.track_median_us), k === 'sieve' ? '' : f2(s.track_p99_us / v.track_p99_us),
      f1(v.init_ms), f1(v.first_send_ms), int(v.requests_stubbed)])));
  const w = browser.wasm;
  out.push(`\nWasm (${kib(w.bytes)} KiB): \`WebAssembly.compile\` ${f1(w.compile_ms)} ms, instantiate ${f2(w.instantiate_ms)} ms `
    + `(medians of fresh pages, bytes already fetched); the SDK's own path, \`instantiateStreaming\` from the URL over `
    + `loopback, ${f1(w.streaming_ms)} ms.`);
  const half = Object.entries(browser.sdks).filter(([k]) => k !== 'sieve').every(([, v]) => s.track_median_us <= v.track_median_us / 2);
  targets.push(['track() at most half of each peer (median)', Object.entries(browser.sdks).filter(([k]) => k !== 'sieve')
    .map(([k, v]) => `${f2(s.track_median_us / v.track_median_us)}x ${k}`).join(', '), yes(half)]);
} else out.push('_not measured in this run_');

// ---- ingest --------------------------------------------------------------------------------
const ingest = res('ingest.json');
out.push('\n### Collector ingest over loopback\n');
if (ingest) {
  out.push(`Each phase ${ingest.seconds} s. Saturation: \`wrk -t2 -c32\` (closed loop). Half: open loop at half of that `
    + `server's saturation rate (bench/loadgen, 64 connections, latency from the scheduled send). Body bytes per batch: `
    + `${Object.entries(ingest.body_bytes).map(([n, b]) => `${n}: ${int(b)}`).join(', ')}.\n`);
  const rows = [];
  for (const r of ingest.rows) {
    const bare = ingest.rows.find((x) => x.server === 'bare' && x.batch === r.batch);
    rows.push([r.batch, r.server, int(r.saturation.rps), int(r.saturation.rps * r.batch), f2(r.saturation.p50_ms), f2(r.saturation.p99_ms),
      int(r.saturation.non2xx), f1(r.saturation.server_cpu_cores), f1(r.saturation.server_cpu_us_per_event), r.server === 'bare' ? '' : f2(r.saturation.rps / bare.saturation.rps),
      int(r.half.offered_rps), int(r.half.achieved_rps), f2(r.half.p50_ms), f2(r.half.p99_ms), Object.entries(r.half.status).map(([c, n]) => `${c}: ${int(n)}`).join(' ')]);
  }
  out.push(table(['events/batch', 'server', 'saturation req/s', 'events/s', 'p50 ms', 'p99 ms', 'non-2xx', 'server CPU cores', 'server CPU µs/event', 'collector ÷ bare',
    'half: offered req/s', 'achieved', 'p50 ms', 'p99 ms', 'statuses'], rows));
  const c10 = ingest.rows.find((x) => x.server === 'collector' && x.batch === 10);
  const b10 = ingest.rows.find((x) => x.server === 'bare' && x.batch === 10);
  // The target's ratio: the median of the batch-of-10 saturation pairs (bench/ingest/run.mjs
  // measures the pair twice more, each time the other server first), so that one slow spell of
  // the machine in one phase does not make it. A run without the pairs uses its one pair.
  const pairs = ingest.pairs_10?.length ? ingest.pairs_10 : [{ bare: b10.saturation.rps, collector: c10.saturation.rps, order: 'bare, collector' }];
  const ratios = pairs.map((p) => p.collector / p.bare).sort((a, b) => a - b);
  const ratio10 = ratios.length % 2 ? ratios[(ratios.length - 1) / 2] : (ratios[ratios.length / 2 - 1] + ratios[ratios.length / 2]) / 2;
  if (pairs.length > 1) {
    out.push(`\n**Batches of 10, saturation, in pairs** (the first pair is the table's; each later pair measured right after, `
      + `the other server first, with a collector of its own on a new store): ${pairs.map((p) => `${int(p.collector)} vs ${int(p.bare)} req/s (${f2(p.collector / p.bare)}x; ${p.order})`).join('; ')}. `
      + `Median ratio: ${f2(ratio10)}x.`);
  }
  const o = ingest.overload;
  out.push(`\n**10x overload** (collector, batches of 10, open loop at ${int(o.offered_rps)} req/s offered, ${int(o.connections)} connections, ${ingest.seconds} s): `
    + `${int(o.completed)} answered (${Object.entries(o.status).map(([c, n]) => `${c}: ${int(n)}`).join(', ') || 'none'}), `
    + `${int(o.errors)} connection errors, ${int(o.unsent)} not sent before the deadline; latency from the scheduled send p50 ${f1(o.p50_ms)} ms, `
    + `p99 ${f1(o.p99_ms)} ms; from the actual send (the collector's answer time) p50 ${f1(o.service_p50_ms)} ms, p99 ${f1(o.service_p99_ms)} ms; `
    + `\`/healthz\` afterwards: ${o.healthz_after}; process alive: ${o.alive}.`);
  const m = ingest.memory;
  out.push(`\n**Peak RSS** (VmHWM) of the collector: ${f1(m.after_saturation.hwm_kb / 1024)} MiB after every saturation and half-rate phase, `
    + `${f1(m.after_overload.hwm_kb / 1024)} MiB after the overload phase.`);
  const metric = (name) => Number((ingest.metrics || []).map((l) => l.split(' ')).find(([k]) => k === name)?.[1]);
  const commits = metric('sieve_store_commit_seconds_count');
  if (commits > 0) {
    out.push(`\n**Group commit** over the whole run: ${int(commits)} commits, mean ${f2((metric('sieve_store_commit_seconds_sum') / commits) * 1000)} ms `
      + `per commit (durable: WAL, \`synchronous=FULL\`), ${f1(metric('sieve_store_commit_events_sum') / metric('sieve_store_commit_events_count'))} events per commit.`);
  }
  if (ingest.metrics?.length) out.push(`\nCollector counters at the end: ${ingest.metrics.map((l) => `\`${l}\``).join(', ')}.`);
  targets.push(['batches of 10 at >= 0.7x the bare server\'s request rate',
    pairs.length > 1 ? `${f2(ratio10)}x (median of ${pairs.length} pairs: ${pairs.map((p) => f2(p.collector / p.bare)).join(', ')}; first pair ${int(c10.saturation.rps)} vs ${int(b10.saturation.rps)} req/s)`
      : `${f2(ratio10)}x (${int(c10.saturation.rps)} vs ${int(b10.saturation.rps)} req/s)`,
    yes(ratio10 >= 0.7)]);
  targets.push(['p99 < 20 ms at half of saturation (batches of 10)', `${f1(c10.half.p99_ms)} ms`, yes(c10.half.p99_ms < 20)]);
  const refused = Object.entries(o.status).filter(([c]) => c === '429' || c === '503').reduce((t, [, n]) => t + n, 0);
  // Every answer a 2xx or a refusal (no 500, no dropped connection), the process alive, and the
  // refusals prompt: p99 under 1 s from the moment each request was written. The latency from
  // the *scheduled* send is shown too, but when the load generator itself falls behind (requests
  // "not sent before the deadline": 10x this collector's saturation can be more than this
  // machine can generate) that figure is the generator's own backlog, not the collector's.
  const other = Object.entries(o.status).filter(([c]) => !(Number(c) < 300 || c === '429' || c === '503')).reduce((t, [, n]) => t + n, 0);
  targets.push(['10x overload answered with 429/503, memory bounded, no crash',
    `${int(refused)} of ${int(o.completed)} answers were 429/503, ${int(other)} other errors, ${int(o.errors)} connection errors; alive ${o.alive}; `
      + `peak RSS ${f1(m.after_overload.hwm_kb / 1024)} MiB; answer p99 ${f1(o.service_p99_ms)} ms from send`
      + (o.unsent > 0 ? ` (${f1(o.p99_ms)} ms from schedule: the load generator left ${int(o.unsent)} requests unsent)` : ''),
    yes(refused > 0 && other === 0 && o.errors === 0 && o.alive && o.service_p99_ms < 1000)]);
} else out.push('_not measured in this run_');

// ---- criterion -----------------------------------------------------------------------------
out.push('\n### Core transforms, native (criterion)\n');
const critDir = path.join(root, 'target/criterion/core');
if (fs.existsSync(critDir)) {
  const rows = [];
  for (const d of fs.readdirSync(critDir).sort()) {
    try {
      const b = JSON.parse(fs.readFileSync(path.join(critDir, d, 'new/benchmark.json'), 'utf8'));
      const e = JSON.parse(fs.readFileSync(path.join(critDir, d, 'new/estimates.json'), 'utf8'));
      const ns = e.median.point_estimate;
      const per = b.throughput?.Elements ? `${int(1e9 / ns)} events/s per core` : b.throughput?.Bytes ? `${f1((b.throughput.Bytes / ns) * 1e9 / 2 ** 20)} MiB/s` : '';
      rows.push([b.function_id, ns >= 1000 ? `${f1(ns / 1000)} µs` : `${f1(ns)} ns`,
        `${f1(e.median.confidence_interval.lower_bound / (ns >= 1000 ? 1000 : 1))} – ${f1(e.median.confidence_interval.upper_bound / (ns >= 1000 ? 1000 : 1))}`, per]);
    } catch {}
  }
  out.push(table(['benchmark', 'median', '95% CI', 'rate'], rows));
} else out.push('_not measured in this run_');

out.push('\n### Targets\n');
out.push(table(['target', 'this run', 'status'], targets));

const text = out.join('\n');
console.log(text);
const i = process.argv.indexOf('--write');
if (i > 0) {
  const file = path.resolve(process.argv[i + 1]);
  const doc = fs.readFileSync(file, 'utf8');
  const begin = '<!-- bench:begin -->';
  const end = '<!-- bench:end -->';
  const a = doc.indexOf(begin);
  const b = doc.indexOf(end);
  if (a < 0 || b < a) throw new Error(`${file} has no ${begin} ... ${end} markers`);
  fs.writeFileSync(file, `${doc.slice(0, a + begin.length)}\n<!-- generated by scripts/bench (bench/report.mjs): do not edit by hand -->\n\n${text}\n\n${doc.slice(b)}`);
}
