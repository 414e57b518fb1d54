// Browser transfer size: what a page downloads for Sieve (wasm/pkg: sieve.js + the
// wasm-bindgen glue + the wasm) beside the peers' shipped browser bundles, raw, gzip -9 and
// brotli -q 11 (node's zlib, the same settings as scripts/sdk-size). Peers are fetched with
// `npm pack NAME@VERSION` (versions pinned in bench/peers.json) into bench/.cache/npm, once.
// Writes bench/results/size.json.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

const root = path.resolve(import.meta.dirname, '..');
const cache = path.join(root, 'bench/.cache/npm');
const peers = JSON.parse(fs.readFileSync(path.join(root, 'bench/peers.json'), 'utf8'));

/** Unpack NAME@VERSION into the cache (npm pack, then tar), once; returns its directory. */
export function fetchPackage(name, version) {
  const dir = path.join(cache, 'x', `${name.replace('@', '').replace('/', '-')}-${version}`);
  if (fs.existsSync(path.join(dir, 'package/package.json'))) return path.join(dir, 'package');
  fs.mkdirSync(dir, { recursive: true });
  const tgz = execFileSync('npm', ['pack', `${name}@${version}`, '--silent', '--pack-destination', cache],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split('\n').pop();
  execFileSync('tar', ['xzf', path.join(cache, tgz), '-C', dir]);
  return path.join(dir, 'package');
}

const sizes = (buf) => ({
  raw: buf.length,
  gzip: zlib.gzipSync(buf, { level: 9 }).length,
  brotli: zlib.brotliCompressSync(buf, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
});
const add = (a, b) => ({ raw: a.raw + b.raw, gzip: a.gzip + b.gzip, brotli: a.brotli + b.brotli });
const zero = { raw: 0, gzip: 0, brotli: 0 };

function measure(dir, files) {
  // Files of one package are compressed one by one, as a browser fetches them.
  return [].concat(files).reduce((t, f) => add(t, sizes(fs.readFileSync(path.join(dir, f)))), zero);
}

export function sizeTable() {
  const pkg = path.join(root, 'wasm/pkg');
  const js = measure(pkg, ['sieve.js', 'sieve_wasm.js']);
  const wasm = measure(pkg, ['sieve_wasm_bg.wasm']);
  const rows = [
    { name: 'sieve-sdk (total)', version: JSON.parse(fs.readFileSync(path.join(pkg, 'package.json'), 'utf8')).version,
      file: 'sieve.js + sieve_wasm.js + sieve_wasm_bg.wasm', kind: 'sieve', ...add(js, wasm) },
    { name: 'sieve-sdk: JavaScript', version: '', file: 'sieve.js + sieve_wasm.js', kind: 'sieve-part', ...js },
    { name: 'sieve-sdk: WebAssembly', version: '', file: 'sieve_wasm_bg.wasm', kind: 'sieve-part', ...wasm },
  ];
  // init({ persist: true }) loads the persistent queue's build instead of the default wasm
  // (scripts/build-sdk), beside sieve.js and its static import of the default glue.
  const persist = ['sieve.js', 'sieve_wasm.js', 'persist/sieve_wasm.js', 'persist/sieve_wasm_bg.wasm'];
  if (persist.every((f) => fs.existsSync(path.join(pkg, f)))) {
    rows.push({ name: 'sieve-sdk with `persist: true`', version: '', file: persist.join(' + '), kind: 'sieve-part', ...measure(pkg, persist) });
  }
  for (const [kind, list] of [['peer', peers.sdks], ['reference', peers.reference]]) {
    for (const p of list) {
      const dir = fetchPackage(p.name, p.version);
      rows.push({ name: p.name, version: p.version, file: [].concat(p.bundle).join(' + '), kind, note: p.note, ...measure(dir, p.bundle) });
    }
  }
  const peerRows = rows.filter((r) => r.kind === 'peer');
  const smallest = peerRows.reduce((a, b) => (b.brotli < a.brotli ? b : a));
  const sieve = rows[0];
  return {
    rows,
    target: { smallest_peer: smallest.name, smallest_peer_brotli: smallest.brotli, sieve_brotli: sieve.brotli,
      met: peerRows.every((r) => sieve.brotli < r.brotli), ratio_to_smallest: sieve.brotli / smallest.brotli },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const t = sizeTable();
  fs.mkdirSync(path.join(root, 'bench/results'), { recursive: true });
  fs.writeFileSync(path.join(root, 'bench/results/size.json'), JSON.stringify(t, null, 2) + '\n');
  for (const r of t.rows) console.log(`${r.name.padEnd(32)} ${String(r.raw).padStart(9)} ${String(r.gzip).padStart(9)} ${String(r.brotli).padStart(9)}  ${r.file}`);
}
