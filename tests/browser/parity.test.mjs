// One fixture set through both paths: the collector's native `preview` (sieve-core compiled for
// the machine) and the SDK's WebAssembly build (the same sieve-core, compiled to wasm32 and run
// by the wasm engine Node shares with Chromium). Every line must give identical output: the
// same clean event, byte for byte, and the same drop reasons.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { initSync, Client } from '../../wasm/pkg/sieve_wasm.js';

const root = path.resolve(import.meta.dirname, '../..');
const bin = process.env.SIEVE_COLLECTOR_BIN || path.join(root, 'target/debug/sieve-collector');
const schemaPath = path.join(root, 'core/schema/example.json');
const KEY = '5a'.repeat(32);

test('native core and the wasm SDK clean every fixture identically', () => {
  initSync({ module: fs.readFileSync(path.join(root, 'wasm/pkg/sieve_wasm_bg.wasm')) });
  const schema = JSON.parse(fs.readFileSync(schemaPath, 'utf8'));
  const { fingerprint } = JSON.parse(execFileSync(bin, ['audit', '--schema', schemaPath, '--format', 'json'], { encoding: 'utf8' }));
  const config = {
    site: schema.site, fingerprint, schema, client_key: KEY, wire_version: 1,
    epoch: { id: '2026-11-22', start: '2026-11-22T00:00:00Z', expires: '2026-11-23T00:00:00Z' },
  };
  const client = new Client(JSON.stringify(config), '{}');

  const fixtures = ['tests/fixtures/raw-events.jsonl', 'demo/incident.jsonl'].map((f) => path.join(root, f));
  let compared = 0;
  for (const file of fixtures) {
    const lines = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim());
    const native = execFileSync(bin, ['preview', '--schema', schemaPath, '--client-key', KEY], {
      input: lines.join('\n'), encoding: 'utf8', stdio: ['pipe', 'pipe', 'ignore'],
    }).split('\n').filter(Boolean).map((l) => JSON.parse(l));
    assert.equal(native.length, lines.length, `one output line per input in ${file}`);
    lines.forEach((line, i) => {
      const want = native[i];
      // The native preview derives the id from the line; give the wasm side the same id.
      const id = want.sent?.id ?? '00'.repeat(16);
      const got = JSON.parse(client.preview(line, id));
      assert.deepEqual(got.sent ?? null, want.sent ?? null, `${path.basename(file)} line ${i + 1}: sent differs`);
      assert.deepEqual(got.dropped, want.dropped, `${path.basename(file)} line ${i + 1}: drops differ`);
      compared += 1;
    });
  }
  assert.ok(compared >= 30, `compared ${compared} fixtures`);
  client.free();
});
