// The README's claims that sieve-sdk works from a bundler and ships TypeScript types:
// - its types (wasm/js/sieve.d.ts, and the built package's as a TypeScript app resolves them)
//   check under `tsc --noEmit --strict` with usage.ts, whose @ts-expect-error lines (wrong
//   calls) make tsc fail if the declarations ever accept them;
// - a minimal Vite app (index.html + main.js, `import { init, track } from 'sieve-sdk'`, the
//   package installed from file:../../wasm/pkg) builds, with the wasm as an asset of the bundle;
// - served by a real collector without --sdk-dir, the bundle alone runs in headless Chromium
//   and the event it tracks is stored.
//
// Run by scripts/test after build-sdk and the collector build, once tests/bundler has its
// node_modules (`npm ci` there): node --test --test-concurrency=1 tests/bundler/

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { exportRows, launchBrowser, openPage, root, startCollector, until } from '../browser/harness.mjs';

const dir = import.meta.dirname;
const dist = path.join(dir, 'dist');
const bin = (name) => path.join(dir, 'node_modules/.bin', name);
const run = (cmd, args) => execFileSync(cmd, args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

function runOk(cmd, args) {
  try {
    return run(cmd, args);
  } catch (e) {
    assert.fail(`${path.basename(cmd)} ${args.join(' ')} failed:\n${e.stdout}${e.stderr}`);
  }
}

test('the TypeScript declarations check under --strict with every export used', () => {
  // Against the source declarations, then as an app resolves the installed package
  // (package.json "exports" → "types").
  for (const project of ['tsconfig.json', 'tsconfig.package.json']) {
    const files = runOk(bin('tsc'), ['-p', project, '--noEmit', '--strict', '--listFiles']);
    const want = project === 'tsconfig.json' ? 'wasm/js/sieve.d.ts' : 'wasm/pkg/sieve.d.ts';
    assert.ok(files.split('\n').some((f) => f.endsWith(want)), `${project} checked ${want}:\n${files}`);
  }
});

let built;

test('vite build bundles the SDK with its wasm as an asset', () => {
  runOk(bin('vite'), ['build']);
  const assets = fs.readdirSync(path.join(dist, 'assets'));
  const js = assets.filter((f) => f.endsWith('.js'));
  const read = (f) => fs.readFileSync(path.join(dist, 'assets', f));
  // Two builds of the wasm (scripts/build-sdk): the default, and the persistent queue's.
  const asset = (pkgFile) => {
    const want = fs.readFileSync(path.join(root, 'wasm/pkg', pkgFile));
    const found = assets.filter((f) => f.endsWith('.wasm') && read(f).equals(want));
    assert.equal(found.length, 1, `one asset is the package's ${pkgFile}: ${assets}`);
    const chunks = js.filter((f) => read(f).toString('utf8').includes(found[0]));
    assert.equal(chunks.length, 1, `one JS chunk references ${found[0]}: ${js}`);
    return { wasm: found[0], chunk: chunks[0] };
  };
  assert.equal(assets.filter((f) => f.endsWith('.wasm')).length, 2, `two wasm assets: ${assets}`);
  const main = asset('sieve_wasm_bg.wasm');
  const persist = asset('persist/sieve_wasm_bg.wasm');
  assert.notEqual(persist.chunk, main.chunk, 'the persist build is a chunk of its own, loaded on demand');
  const chunk = read(main.chunk).toString('utf8');
  assert.ok(chunk.includes('sieve:opt-out') && chunk.includes('/v1/events'), 'the chunk carries the SDK');
  assert.ok(chunk.includes(persist.chunk), 'the SDK imports the persist chunk by name');
  const html = fs.readFileSync(path.join(dist, 'index.html'), 'utf8');
  assert.ok(html.includes(`/demo/assets/${main.chunk}`), `index.html loads the chunk: ${html}`);
  assert.ok(!html.includes(persist.chunk), 'index.html does not load the persist chunk');
  built = { wasm: main.wasm, chunk: main.chunk, persist };
});

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

for (const persist of [false, true]) {
  test(`the bundled app runs in Chromium and its event is stored${persist ? ', with persist: its own wasm build' : ''}`, { timeout: 60000 }, async (t) => {
    if (!built) return t.skip('the build failed');
    // No --sdk-dir: the bundle must bring the SDK and its wasm itself.
    const c = await startCollector({ demoDir: dist, sdkDir: null });
    try {
      const { page, errors } = await openPage(browser, {});
      const loaded = [];
      page.on('response', (res) => loaded.push(`${res.status()} ${new URL(res.url()).pathname}`));
      await page.goto(`${c.base}/demo/${persist ? '?persist' : ''}`);
      const result = await (await page.waitForFunction(() => window.__bundled, null, { timeout: 30000 })).jsonValue();
      assert.equal(result.ok, true, `the app initialised and sent: ${JSON.stringify(result)}`);
      const rows = await until('the bundled app\'s event', () => {
        const r = exportRows(c.dataDir);
        return r.some((e) => e.event === 'feature_used') ? r : null;
      });
      const e = rows.find((e) => e.event === 'feature_used');
      assert.equal(e.props.feature, 'export_csv');
      assert.ok(rows.some((e) => e.event === 'page_view'), 'the automatic page view too');
      const [want, not] = persist ? [built.persist.wasm, built.wasm] : [built.wasm, built.persist.wasm];
      assert.ok(loaded.includes(`200 /demo/assets/${want}`), `the wasm came from the bundle: ${loaded}`);
      assert.ok(!loaded.some((l) => l.includes(not)), `only one wasm build loaded: ${loaded}`);
      assert.ok(!loaded.some((l) => l.includes('/sdk/')), 'nothing loaded from /sdk/');
      assert.deepEqual(errors, []);
      await page.close();
    } finally {
      c.stop();
    }
  });
}
