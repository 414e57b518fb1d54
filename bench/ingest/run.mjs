// The collector ingest benchmark: `sieve-collector serve` (release build, SQLite, durable
// group commit) beside the bare server (bench/bare: same transport and JSON parse, no storage)
// in the same run, over loopback, with prepared batches of 1, 10 and 50 events.
//
// For each server and batch size:
//   1. saturation: Debian's wrk, closed loop (2 threads, 32 connections), events/s, p50/p99;
//   2. open loop at half of that saturation rate: bench/loadgen (wrk2-style, latency from the
//      scheduled send time), p50/p99.
// Batches of 10, the target's phase, are measured at saturation twice more right after it, in
// pairs of the other order first (collector, bare; then bare, collector): one slow spell of a
// shared machine in one phase must not make the run's ratio. Each later pair has a collector of
// its own on a new store (the same keys, so the same batches verify): the store grows by ~1 M
// events per phase, and a grown store is slower (BENCHMARKS.md, "Ingest, tenth round"), which
// would make the later pairs measure growth rather than noise. The report gives each pair's
// ratio and takes the median of the three.
// Then the collector alone under 10x overload (open loop at 10x its batch-of-10 saturation
// rate): status codes, whether it still answers /healthz, peak RSS (VmHWM).
//
// Everything listens on 127.0.0.1, every phase has a fixed duration, and both servers are
// stopped at the end (or on error). Writes bench/results/ingest.json.
//
//   node bench/ingest/run.mjs [--quick]

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';

const root = path.resolve(import.meta.dirname, '../..');
const quick = process.argv.includes('--quick');
const SECONDS = quick ? 3 : 8; // each measured phase
// More saturation pairs for batches of 10 (SIEVE_BENCH_PAIRS to change it, e.g. to try --quick with them).
const REPEAT_PAIRS = Number(process.env.SIEVE_BENCH_PAIRS ?? (quick ? 0 : 2));
const WARMUP = quick ? 1 : 2;
const BATCHES = [1, 10, 50];
const WRITE_KEY = 'wk_bench_ingest_01';
const collectorBin = path.join(root, 'target/release/sieve-collector');
const bareBin = path.join(root, 'bench/target/release/sieve-bench-bare');
const loadgenBin = path.join(root, 'bench/target/release/sieve-bench-loadgen');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'sieve-bench-ingest-'));
const children = [];

function stopAll() {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
}
process.on('exit', () => {
  stopAll();
  fs.rmSync(work, { recursive: true, force: true });
});
for (const s of ['SIGINT', 'SIGTERM']) process.on(s, () => process.exit(130));

async function start(bin, args, env = {}) {
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  children.push(child);
  let logs = '';
  child.stderr.on('data', (d) => { logs = (logs + d).slice(-4000); });
  const lines = readline.createInterface({ input: child.stdout });
  const base = await new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${path.basename(bin)} exited with ${code}: ${logs}`)));
    lines.once('line', (line) => resolve(line.replace('listening on ', '').trim()));
  });
  return { child, base, logs: () => logs };
}

/** CPU time (user + system) of a process so far, in ms, from /proc/PID/stat. */
const cpuMs = (pid) => {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime, stime in clock ticks (USER_HZ 100)
  } catch {
    return NaN;
  }
};

const status = (pid) => {
  try {
    const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k) => Number((s.match(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm')) || [])[1] || NaN);
    return { rss_kb: kb('VmRSS'), hwm_kb: kb('VmHWM') };
  } catch {
    return { rss_kb: NaN, hwm_kb: NaN };
  }
};

function run(cmd, args, env = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, ...env }, timeout: (SECONDS + 30) * 1000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  const line = r.stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop();
  return JSON.parse(line);
}

let nonceCounter = 0;
const nonce = () => (Date.now().toString(16) + (nonceCounter++).toString(16).padStart(4, '0')).padStart(16, '0').slice(-16);

function wrk(url, body, seconds) {
  const r = run('wrk', ['-t2', '-c32', `-d${seconds}s`, '--latency', '-s', path.join(import.meta.dirname, 'post.lua'), url],
    { BODY: body, NONCE: nonce() });
  r.rps = r.requests / r.duration_s;
  return r;
}

function openLoop(url, body, rate, seconds, connections = 64) {
  return run(loadgenBin, ['--url', url, '--body', body, '--rate', String(Math.round(rate)), '--duration', String(seconds),
    '--connections', String(connections)]);
}

async function main() {
  for (const b of [collectorBin, bareBin, loadgenBin]) if (!fs.existsSync(b)) throw new Error(`${b} is not built`);
  const dataDir = path.join(work, 'data');
  const cfg = path.join(work, 'sieve.toml');
  // The per-client rate limit is for the open internet; every request here comes from one
  // loopback address, so it is lifted. Everything else is the default (durable commit).
  const config = (dir) => [
    `schema = ${JSON.stringify(path.join(root, 'bench/schema.json'))}`,
    `listen = "127.0.0.1:0"`,
    `data_dir = ${JSON.stringify(dir)}`,
    `write_keys = ["${WRITE_KEY}"]`,
    `rate_per_second = 1000000000.0`,
    `rate_burst = 1000000000.0`,
  ].join('\n') + '\n';
  fs.writeFileSync(cfg, config(dataDir));
  const collector = await start(collectorBin, ['serve', '--config', cfg], { SIEVE_LOG: 'warn' });
  const bare = await start(bareBin, ['127.0.0.1:0']);
  const pid = collector.child.pid;
  console.error(`ingest: collector ${collector.base} (pid ${pid}), bare ${bare.base}`);

  const tmplDir = path.join(work, 'batches');
  const gen = spawnSync('node', [path.join(import.meta.dirname, 'gen-batches.mjs'), collector.base, tmplDir, ...BATCHES.map(String)],
    { encoding: 'utf8' });
  if (gen.status !== 0) throw new Error(`gen-batches failed: ${gen.stderr}`);
  const bodyBytes = Object.fromEntries(BATCHES.map((n) => [n, fs.statSync(path.join(tmplDir, `batch-${n}.tmpl`)).size]));

  // A quick check that the prepared batches are stored, not rejected.
  {
    const r = await fetch(`${collector.base}/v1/events?key=${WRITE_KEY}`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: fs.readFileSync(path.join(tmplDir, 'batch-10.tmpl'), 'utf8').replaceAll('@@ID@@', () => crypto.randomUUID().replaceAll('-', '')),
    });
    const j = await r.json();
    if (r.status !== 200 || j.accepted.length !== 10) throw new Error(`probe batch not stored: ${r.status} ${JSON.stringify(j)}`);
  }

  const servers = { bare: bare.base, collector: collector.base };
  const results = { seconds: SECONDS, body_bytes: bodyBytes, rows: [], memory: {}, overload: null };
  for (const n of BATCHES) {
    const body = path.join(tmplDir, `batch-${n}.tmpl`);
    for (const [name, base] of Object.entries(servers)) {
      const url = `${base}/v1/events?key=${WRITE_KEY}`;
      wrk(url, body, WARMUP);
      const pidOf = name === 'bare' ? bare.child.pid : pid;
      const cpu0 = cpuMs(pidOf);
      const sat = wrk(url, body, SECONDS);
      // Server CPU per request at saturation: what each request costs, whatever the load.
      sat.server_cpu_ms = cpuMs(pidOf) - cpu0;
      sat.server_cpu_us_per_event = (sat.server_cpu_ms * 1000) / (sat.requests * n);
      sat.server_cpu_cores = sat.server_cpu_ms / 1000 / sat.duration_s;
      const half = openLoop(url, body, sat.rps / 2, SECONDS);
      results.rows.push({ server: name, batch: n, saturation: sat, half });
      console.error(`ingest: ${name} batch ${n}: ${sat.rps.toFixed(0)} req/s (${(sat.rps * n).toFixed(0)} ev/s), `
        + `p50 ${sat.p50_ms} ms p99 ${sat.p99_ms} ms, non-2xx ${sat.non2xx}; half rate p99 ${half.p99_ms} ms`);
    }
    if (n !== 10) continue;
    const first = (name) => results.rows.find((r) => r.server === name && r.batch === n).saturation;
    results.pairs_10 = [{ bare: first('bare').rps, collector: first('collector').rps, order: 'bare, collector' }];
    for (let i = 0; i < REPEAT_PAIRS; i++) {
      const order = i % 2 === 0 ? ['collector', 'bare'] : ['bare', 'collector'];
      const pair = { order: order.join(', ') };
      const fresh = path.join(work, `data-pair-${i + 2}`);
      fs.mkdirSync(fresh);
      fs.copyFileSync(path.join(dataDir, 'keys.json'), path.join(fresh, 'keys.json'));
      const freshCfg = path.join(work, `sieve-pair-${i + 2}.toml`);
      fs.writeFileSync(freshCfg, config(fresh));
      const own = await start(collectorBin, ['serve', '--config', freshCfg], { SIEVE_LOG: 'warn' });
      const bases = { bare: bare.base, collector: own.base };
      for (const name of order) {
        const url = `${bases[name]}/v1/events?key=${WRITE_KEY}`;
        wrk(url, body, WARMUP);
        const sat = wrk(url, body, SECONDS);
        if (sat.non2xx > 0) throw new Error(`pair ${i + 2}: ${sat.non2xx} non-2xx answers from ${name}`);
        pair[name] = sat.rps;
      }
      await new Promise((resolve) => {
        own.child.once('exit', resolve);
        own.child.kill('SIGTERM');
      });
      fs.rmSync(fresh, { recursive: true, force: true });
      results.pairs_10.push(pair);
      console.error(`ingest: batch 10 again (${pair.order}): collector ${pair.collector.toFixed(0)}, bare ${pair.bare.toFixed(0)} req/s, `
        + `${(pair.collector / pair.bare).toFixed(2)}x`);
    }
  }
  results.memory.after_saturation = status(pid);

  // 10x overload, batches of 10: open loop at ten times the collector's saturation rate.
  const sat10 = results.rows.find((r) => r.server === 'collector' && r.batch === 10).saturation.rps;
  const url = `${collector.base}/v1/events?key=${WRITE_KEY}`;
  // Enough connections that the offered load is not capped by the server's latency: the
  // collector's queue (20 000 events by default) must be able to fill.
  const over = openLoop(url, path.join(tmplDir, 'batch-10.tmpl'), sat10 * 10, SECONDS, 3000);
  const health = await fetch(`${collector.base}/healthz`).then((r) => r.status).catch((e) => `error: ${e.message}`);
  results.overload = { offered_rps: sat10 * 10, ...over, healthz_after: health, alive: collector.child.exitCode === null };
  results.memory.after_overload = status(pid);
  console.error(`ingest: overload x10 (${(sat10 * 10).toFixed(0)} req/s offered): ${JSON.stringify(over.status)}, `
    + `healthz ${health}, VmHWM ${results.memory.after_overload.hwm_kb} kB`);

  const metrics = await fetch(`${collector.base}/metrics`).then((r) => r.text()).catch(() => '');
  results.metrics = metrics.split('\n').filter((l) => /^sieve_(events_accepted_total|events_duplicate_total|batches_refused_total|events_rejected_total|store_commit_seconds_(sum|count)|store_commit_events_(sum|count))/.test(l));
  stopAll();
  fs.mkdirSync(path.join(root, 'bench/results'), { recursive: true });
  fs.writeFileSync(path.join(root, 'bench/results/ingest.json'), JSON.stringify(results, null, 2) + '\n');
}

main().catch((e) => {
  console.error(`ingest: ${e.stack || e}`);
  process.exitCode = 1;
});
