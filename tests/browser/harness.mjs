// Shared by the browser tests (e2e, privacy) and the bundler test: a real collector binary on
// loopback, its store read back with `sieve-collector export`, and Debian's headless Chromium
// driven by playwright-core.
//
// SIEVE_COLLECTOR_BIN overrides the collector binary (default: target/debug/sieve-collector);
// CHROMIUM overrides the browser (default: /usr/bin/chromium).

import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { chromium } from 'playwright-core';

export const root = path.resolve(import.meta.dirname, '../..');
export const bin = process.env.SIEVE_COLLECTOR_BIN || path.join(root, 'target/debug/sieve-collector');
export const schema = path.join(root, 'core/schema/example.json');
export const WRITE_KEY = 'wk_browser_e2e_1';

/**
 * Start `sieve-collector serve` on a free loopback port with a fresh data directory. It serves
 * `demoDir` at /demo/ (default: tests/browser/site) and, unless `sdkDir` is null, the SDK
 * package at /sdk/ (default: wasm/pkg).
 */
/**
 * A collector on a fresh data directory. `clockAt` (a Date) starts the collector's clock there,
 * running at real speed from then on, with libfaketime (Debian's `faketime`, scripts/setup).
 * `schemaDoc` serves that schema instead of the example (`exampleSchema()` is a copy to edit).
 */
export async function startCollector({ demoDir = path.join(root, 'tests/browser/site'), sdkDir = path.join(root, 'wasm/pkg'), clockAt = null, schemaDoc = null } = {}) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sieve-e2e-'));
  // `schemaDoc` (an object) replaces the example schema; it is written into the data directory.
  let schemaPath = schema;
  if (schemaDoc) {
    schemaPath = path.join(dataDir, 'schema.json');
    fs.writeFileSync(schemaPath, JSON.stringify(schemaDoc));
  }
  const args = ['serve', '--schema', schemaPath, '--listen', '127.0.0.1:0', '--data-dir', dataDir, '--write-key', WRITE_KEY,
    '--demo-dir', demoDir];
  if (sdkDir) args.push('--sdk-dir', sdkDir);
  // Preloaded in the collector's own process (the `faketime` command would fork a child that
  // killing it leaves running). `@` starts the clock at that time when the process starts.
  const fake = clockAt
    ? { LD_PRELOAD: '/usr/$LIB/faketime/libfaketime.so.1', FAKETIME: `@${clockAt.toISOString().slice(0, 19).replace('T', ' ')}`, TZ: 'UTC' }
    : {};
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SIEVE_LOG: 'warn', ...fake } });
  let logs = '';
  child.stderr.on('data', (d) => { logs += d; });
  const lines = readline.createInterface({ input: child.stdout });
  const base = await new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`collector exited with ${code}: ${logs}`)));
    lines.once('line', (line) => resolve(line.replace('listening on ', '').trim()));
  });
  const stop = () => {
    child.kill();
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  return { child, base, dataDir, logs: () => logs, stop };
}

/** A fresh copy of the example schema, to change for one test. */
export const exampleSchema = () => JSON.parse(fs.readFileSync(schema, 'utf8'));

/** Every stored event, as `sieve-collector export` prints it. */
export function exportRows(dataDir) {
  const out = execFileSync(bin, ['export', '--data-dir', dataDir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return out.split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

/** Poll `fn` until it returns something truthy (returned), or fail after the deadline. */
export async function until(what, fn, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Wait, with a deadline, until the store's rows satisfy `pred`; returns all rows. */
export const stored = (c, what, pred, timeoutMs) =>
  until(what, () => {
    const rows = exportRows(c.dataDir);
    return pred(rows) ? rows : null;
  }, timeoutMs);

/** Go to `url` (the test page, tests/browser/site/index.html) and wait for its `init`. */
export async function visit(page, url) {
  await page.goto(url);
  await page.waitForFunction(() => window.__sieveReady === true, null, { timeout: 30000 });
}

/**
 * Debian's Chromium, headless, in a fresh profile. The flags keep it from calling hosts this
 * network refuses (TOOLCHAIN.md). Returns the browser context; `close()` also removes the profile.
 */
export async function launchBrowser() {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sieve-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  const close = context.close.bind(context);
  context.close = async () => {
    await close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
  };
  return context;
}

/**
 * A page that records console errors, page errors, every request to the collector's API
 * (`requests`: `{method, url}`), and every body POSTed to /v1/events (`bodies`). `options`
 * becomes `window.__sieveTest` before the page's scripts run.
 */
export async function openPage(context, options) {
  const page = await context.newPage();
  const errors = [];
  const bodies = [];
  const requests = [];
  // Not the browser's own favicon request: a page with no icon of its own (the demo's JSON,
  // where the persist test goes between loads) makes Chromium ask for /favicon.ico, and its 404
  // is logged, or not, depending on whether it returns before the next navigation.
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.location()?.url?.endsWith('/favicon.ico')) errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('request', (r) => {
    if (r.url().includes('/v1/')) requests.push({ method: r.method(), url: r.url() });
    if (r.url().includes('/v1/events') && r.method() === 'POST') bodies.push({ type: r.resourceType(), body: r.postData() ?? '' });
  });
  await page.addInitScript((o) => { window.__sieveTest = o; }, options);
  return { page, errors, bodies, requests };
}
