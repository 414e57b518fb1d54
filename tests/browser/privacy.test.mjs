// The SDK's privacy promises, each checked in a real browser (Debian's headless Chromium)
// against a real collector binary: no storage by default, Global Privacy Control and Do Not
// Track, opt-out, preview() being exactly what is sent, track() never throwing, and the bound
// on the queue while the collector is unreachable.
//
// Run by scripts/test with the other browser tests: node --test --test-concurrency=1 tests/browser/
// Waits poll with deadlines (harness `until`); the only fixed waits are "nothing more arrives"
// settles, which a slow machine can make weaker but never turn into a false failure.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { exportRows, launchBrowser, openPage as openTestPage, startCollector, stored, until, visit } from './harness.mjs';

let browser;

before(async () => {
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
});

const openPage = (options) => openTestPage(browser, options);

/** A collector for one test, stopped (and its data removed) whatever happens. */
async function withCollector(fn) {
  const c = await startCollector();
  try {
    return await fn(c);
  } finally {
    c.stop();
  }
}

/** Open the test page (tests/browser/site/index.html) with these options and wait for init. */
async function ready(c, options, initScript) {
  const p = await openPage({ scenario: 'none', ...options });
  if (initScript) await p.page.addInitScript(initScript);
  await visit(p.page, `${c.base}/demo/`);
  return p;
}

/** Every event in the bodies the page POSTed (beacon bodies cannot be read and are skipped). */
const sentEvents = (bodies) => bodies.filter((b) => b.body).flatMap((b) => JSON.parse(b.body).events);

// The stored searches' queries, sorted (the export's order is not the order of arrival).
const searches = (rows) => rows.filter((e) => e.event === 'search').map((e) => e.props.query).sort();

// "Nothing more arrives": the page's flush interval is 200 ms, so after this long anything the
// SDK wrongly queued would have been sent. A slow machine weakens the check, never fails it.
const settle = () => new Promise((r) => setTimeout(r, 1500));

// The browser's privacy signals, set before any page script runs.
const SIGNALS = {
  'Global Privacy Control': () => {
    Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true, configurable: true });
  },
  'Do Not Track': () => {
    Object.defineProperty(Navigator.prototype, 'doNotTrack', { get: () => '1', configurable: true });
  },
};

// What a signed-in user's page does: identity, a group, an event with an identifier property.
async function identifiedSession(page) {
  await page.evaluate(async () => {
    const s = window.sieve;
    s.identify('user_priv_5150', { plan: 'team', role: 'admin', email: 'priv.user@example.com' });
    s.group('org', 'org_priv_9090');
    s.group('workspace', 'ws_priv_3030');
    s.track('document_opened', { document_id: 'doc_priv_7070', source: 'search' });
    s.track('signup', { plan: 'team', method: 'email', invited: true });
    await s.flush();
  });
}
const IDENTIFIERS = ['user_priv_5150', 'org_priv_9090', 'ws_priv_3030', 'doc_priv_7070', 'priv.user@example.com'];

test('by default the SDK writes no cookie, web storage or IndexedDB', { timeout: 60000 }, async () => {
  await withCollector(async (c) => {
    const { page, errors } = await ready(c);
    await identifiedSession(page);
    await stored(c, 'the session stored', (r) => r.some((e) => e.event === 'signup') && r.some((e) => e.event === 'document_opened'));
    const found = await page.evaluate(async () => ({
      cookie: document.cookie,
      local: Object.keys(localStorage),
      session: Object.keys(sessionStorage),
      idb: (await indexedDB.databases()).map((d) => d.name),
      caches: await caches.keys(),
    }));
    assert.deepEqual(found, { cookie: '', local: [], session: [], idb: [], caches: [] });
    assert.deepEqual(await browser.cookies(c.base), [], 'no cookie for the collector origin');
    assert.deepEqual(errors, []);
    await page.close();
  });
});

for (const [signal, setSignal] of Object.entries(SIGNALS)) {
  test(`${signal}: by default events are stored without user, groups or identifier props`, { timeout: 60000 }, async () => {
    await withCollector(async (c) => {
      const { page, errors, bodies } = await ready(c, {}, setSignal);
      await identifiedSession(page);
      const rows = await stored(c, 'the anonymous session', (r) => r.some((e) => e.event === 'signup') && r.some((e) => e.event === 'document_opened'));
      const sent = sentEvents(bodies);
      for (const [where, events] of [['the store', rows], ['the request bodies', sent]]) {
        assert.ok(events.length >= 3, `page view, document_opened and signup in ${where}`);
        for (const e of events) {
          assert.equal(e.user, undefined, `no user in ${where}: ${JSON.stringify(e)}`);
          assert.equal(e.groups, undefined, `no groups in ${where}: ${JSON.stringify(e)}`);
        }
        const doc = events.find((e) => e.event === 'document_opened');
        assert.deepEqual(doc.props, { source: 'search' }, `no identifier prop in ${where}`);
        assert.deepEqual(events.find((e) => e.event === 'signup').props, { plan: 'team', method: 'email', invited: true });
      }
      for (const b of bodies) for (const v of IDENTIFIERS) assert.ok(!b.body.includes(v), `${v} in a request body`);
      for (const v of IDENTIFIERS) assert.ok(!JSON.stringify(rows).includes(v), `${v} in the store`);
      // No session link either: the batch says the visitor sent a signal, and the collector
      // then computes no cookieless visitor id (export shows `visitor` only when there is one).
      for (const b of bodies.filter((x) => x.body)) assert.equal(JSON.parse(b.body).anonymous, true, 'the batch is marked anonymous');
      for (const e of rows) assert.equal(e.visitor, undefined, `no visitor id in the store: ${JSON.stringify(e)}`);
      const stats = await page.evaluate(() => window.sieve.stats());
      assert.ok(stats.dropped_fields.anonymous >= 4, `anonymous drops counted: ${JSON.stringify(stats)}`);
      assert.deepEqual(errors, []);
      await page.close();
    });
  });

  test(`${signal} with privacySignals 'none': nothing is sent at all`, { timeout: 60000 }, async () => {
    await withCollector(async (c) => {
      const { page, errors, requests } = await ready(c, { privacySignals: 'none' }, setSignal);
      await identifiedSession(page);
      await page.evaluate(() => {
        window.sieve.page();
        history.pushState({}, '', '/demo/elsewhere');
      });
      await settle();
      // init resolved without asking for the config: the SDK never started.
      assert.deepEqual(requests, [], 'no request to the collector API, not even /v1/config');
      assert.deepEqual(exportRows(c.dataDir), []);
      assert.equal(await page.evaluate(() => window.sieve.preview('search', { query: 'x' })), null);
      const found = await page.evaluate(() => ({ cookie: document.cookie, local: Object.keys(localStorage) }));
      assert.deepEqual(found, { cookie: '', local: [] });
      assert.deepEqual(errors, []);
      await page.close();
    });
  });
}

test('optOut() stops sending, is remembered across a reload in sieve:opt-out only, optIn() resumes', { timeout: 90000 }, async () => {
  await withCollector(async (c) => {
    const { page, errors, bodies, requests } = await ready(c);
    const track = (q) => page.evaluate(async (q) => {
      window.sieve.track('search', { query: q, results: 1 });
      await window.sieve.flush();
    }, q);

    await track('q-before');
    await stored(c, 'the event before opting out', (r) => searches(r).includes('q-before'));

    await page.evaluate(() => window.sieve.optOut());
    await track('q-opted-out');
    assert.deepEqual(await page.evaluate(() => ({ ...localStorage })), { 'sieve:opt-out': '1' }, 'the opt-out, and only it, is stored');

    // A new page load: init finds the opt-out and starts nothing.
    const before = requests.length;
    await page.reload();
    await page.waitForFunction(() => window.__sieveReady === true, null, { timeout: 30000 });
    await track('q-reloaded');
    assert.deepEqual(requests.slice(before), [], 'after the reload the opted-out page asks the collector nothing');
    const storage = await page.evaluate(async () => ({
      local: { ...localStorage },
      session: Object.keys(sessionStorage),
      cookie: document.cookie,
      idb: (await indexedDB.databases()).map((d) => d.name),
    }));
    assert.deepEqual(storage, { local: { 'sieve:opt-out': '1' }, session: [], cookie: '', idb: [] });
    assert.deepEqual(await browser.cookies(c.base), []);

    await page.evaluate(() => window.sieve.optIn());
    assert.deepEqual(await page.evaluate(() => Object.keys(localStorage)), [], 'optIn() forgets the opt-out');
    await track('q-opted-in');
    const rows = await stored(c, 'the event after opting in', (r) => searches(r).includes('q-opted-in'));
    // Events are sent in order, so anything queued while opted out would have arrived by now.
    assert.deepEqual(searches(rows), ['q-before', 'q-opted-in'], 'nothing tracked while opted out was stored');
    assert.equal(rows.filter((e) => e.event === 'page_view').length, 1, 'no page view from the opted-out reload');
    for (const b of bodies) {
      assert.ok(!b.body.includes('q-opted-out') && !b.body.includes('q-reloaded'), 'nothing tracked while opted out was sent');
    }
    assert.deepEqual(errors, []);
    await page.close();
  });
});

test('preview() is exactly the event track() then sends', { timeout: 60000 }, async () => {
  await withCollector(async (c) => {
    const { page, errors, bodies } = await ready(c, { flushInterval: 600000 });
    const props = { query: 'refund for bob@example.com, card 4111 1111 1111 1111', results: 42, note: 'undeclared' };
    const { preview, queued } = await page.evaluate(async (props) => {
      const s = window.sieve;
      s.identify('user_prev_1', { plan: 'business', email: 'bob@example.com' });
      s.group('org', 'org_prev_1');
      await s.flush(); // the page view goes now, so the only event left to send is the search
      const queued = [s.stats().queued];
      const preview = s.preview('search', props);
      queued.push(s.stats().queued);
      s.track('search', props);
      await s.flush();
      return { preview, queued };
    }, props);
    assert.deepEqual(queued, [0, 0], 'preview() queues nothing');
    assert.ok(preview.sent, `preview kept the event: ${JSON.stringify(preview)}`);
    assert.ok(preview.dropped.some((d) => d.startsWith('props.note')), `the undeclared prop's drop is shown: ${preview.dropped}`);
    assert.ok(preview.redactions.length > 0, 'the redactions are shown');
    const rows = await stored(c, 'the search', (r) => r.some((e) => e.event === 'search'));
    const sent = sentEvents(bodies).filter((e) => e.event === 'search');
    assert.equal(sent.length, 1);
    const strip = ({ id, time, ...rest }) => rest;
    assert.deepEqual(strip(sent[0]), strip(preview.sent), 'the sent event is the preview, but for id and time');
    assert.match(preview.sent.id, /^[0-9a-f]{32}$/);
    assert.notEqual(sent[0].id, preview.sent.id, 'each event gets its own id');
    // The store holds the same event, with the pseudonyms re-keyed by the collector's pepper.
    const row = rows.find((e) => e.id === sent[0].id);
    assert.ok(row, 'the sent search is stored under its id');
    for (const k of ['event', 'props', 'traits', 'context']) assert.deepEqual(row[k], preview.sent[k], `stored ${k} as previewed`);
    assert.match(row.user, /^[0-9a-f]{32}$/);
    assert.deepEqual(Object.keys(row.groups), Object.keys(preview.sent.groups));
    assert.deepEqual(errors, []);
    await page.close();
  });
});

test('track() with garbage never throws into the page and is counted', { timeout: 60000 }, async () => {
  await withCollector(async (c) => {
    const { page, errors } = await ready(c);
    const result = await page.evaluate(async () => {
      const s = window.sieve;
      const cyclic = { query: 'loop' };
      cyclic.self = cyclic;
      const many = {};
      for (let i = 0; i < 10_000; i++) many[`p${i}`] = i;
      const throwing = { get query() { throw new Error('getter'); } };
      const before = s.stats();
      const calls = [
        () => s.track(undefined),
        () => s.track(),
        () => s.track('', {}),
        () => s.track(42, {}),
        () => s.track(Symbol('x')),
        () => s.track('search', 'not an object'),
        () => s.track('search', ['an', 'array']),
        () => s.track('search', cyclic),
        () => s.track('search', { results: 10n }),
        () => s.track('search', throwing),
        () => s.identify(undefined),
        () => s.identify({ id: 1 }),
        () => s.identify('u', cyclic),
        () => s.group(null, 'x'),
        () => s.group('org', { id: 1 }),
      ];
      const thrown = [];
      const returned = [];
      for (const [i, call] of calls.entries()) {
        try {
          returned.push(call());
        } catch (e) {
          thrown.push(`${i}: ${e}`);
        }
      }
      // Not a bad call: 10,000 undeclared props are each dropped by core, and counted.
      try {
        s.track('search', { ...many, results: 3 });
        s.preview('search', cyclic);
        s.preview(undefined);
      } catch (e) {
        thrown.push(`many/preview: ${e}`);
      }
      await s.flush();
      return { before, after: s.stats(), thrown, returned: returned.filter((r) => r !== undefined).length, n: calls.length };
    });
    assert.deepEqual(result.thrown, [], 'no call threw');
    assert.equal(result.returned, 0);
    // Each bad call is counted once (the cyclic preview once more).
    assert.equal(result.after.bad_calls - result.before.bad_calls, result.n + 1, JSON.stringify(result.after));
    const undeclared = (s) => (s.dropped_fields && s.dropped_fields.undeclared) || 0;
    assert.ok(undeclared(result.after) - undeclared(result.before) >= 10_000, `10,000 undeclared props counted: ${JSON.stringify(result.after)}`);
    // The SDK still works, and the one readable event of the lot arrived, cleaned.
    await page.evaluate(async () => {
      window.sieve.track('search', { query: 'still alive', results: 1 });
      await window.sieve.flush();
    });
    const rows = await stored(c, 'events after the garbage', (r) => searches(r).includes('still alive'));
    const many = rows.filter((e) => e.event === 'search' && e.props.query === undefined);
    assert.equal(many.length, 1, 'the 10,000-prop event was stored once');
    assert.deepEqual(Object.keys(many[0].props), ['results'], 'only the declared prop of the 10,000 kept');
    assert.deepEqual(errors, [], 'no page error');
    await page.close();
  });
});

test('with the collector unreachable the queue stays bounded: oldest dropped and counted, newest sent later', { timeout: 90000 }, async () => {
  await withCollector(async (c) => {
    const MAX = 5;
    const TRACKED = 10;
    const { page, errors, bodies } = await openPage({ scenario: 'none', maxQueue: MAX, flushInterval: 200 });
    let refused = 0;
    await page.route('**/v1/events**', (route) => {
      refused += 1;
      return route.abort('connectionrefused');
    });
    await visit(page, `${c.base}/demo/`);
    await page.evaluate((n) => {
      for (let i = 0; i < n; i++) window.sieve.track('search', { query: `q${i}`, results: i });
    }, TRACKED);
    // The page view and ten searches met a bound of five: six dropped, whatever was in flight.
    await until('a refused send', () => refused > 0);
    const during = await until('the overflow counted', async () => {
      const s = await page.evaluate(() => window.sieve.stats());
      return s.overflow === 1 + TRACKED - MAX && s.queued + s.in_flight === MAX ? s : null;
    });
    assert.equal(during.sent, 0);
    assert.deepEqual(exportRows(c.dataDir), [], 'nothing reached the collector');

    await page.unroute('**/v1/events**');
    // The retry waits for its backoff (at most a few seconds after so few failures).
    const rows = await stored(c, 'the newest events', (r) => searches(r).length >= MAX, 60000);
    await until('the queue emptied', async () => (await page.evaluate(() => window.sieve.stats())).queued === 0);
    assert.deepEqual(searches(rows), ['q5', 'q6', 'q7', 'q8', 'q9'], 'the newest five were stored');
    // The last body is the delivered batch (the aborted attempts are recorded too, before it).
    const sent = sentEvents(bodies).filter((e) => e.event === 'search').map((e) => e.props.query);
    assert.deepEqual(sent.slice(-MAX), ['q5', 'q6', 'q7', 'q8', 'q9'], 'sent in the order tracked');
    assert.equal(rows.filter((e) => e.event === 'page_view').length, 0, 'the oldest (the page view) was dropped');
    const after = await page.evaluate(() => window.sieve.stats());
    assert.equal(after.overflow, 6);
    assert.equal(after.sent, MAX);
    // Chromium logs each refused request as a console error; nothing else may appear.
    assert.deepEqual(errors.filter((e) => !e.includes('ERR_CONNECTION_REFUSED') && !e.includes('Failed to fetch')), []);
    await page.close();
  });
});

// A regression test: pump() finished synchronously when nothing was queued (or in a backoff)
// and left a settled promise in `sending`, after which nothing was ever sent again.
test('a flush() with nothing queued does not stop later sends', { timeout: 60000 }, async () => {
  await withCollector(async (c) => {
    const { page, errors } = await ready(c, { flushInterval: 200 });
    await page.evaluate(() => window.sieve.flush());
    await stored(c, 'the page view', (r) => r.length === 1);
    await until('the queue empty', async () => {
      const s = await page.evaluate(() => window.sieve.stats());
      return s.queued === 0 && s.in_flight === 0;
    });
    await page.evaluate(() => window.sieve.flush()); // nothing queued
    await page.evaluate(async () => {
      window.sieve.track('search', { query: 'after an empty flush', results: 1 });
      await window.sieve.flush();
    });
    await stored(c, 'the event tracked after an empty flush', (r) => searches(r).includes('after an empty flush'));
    assert.deepEqual(errors, []);
    await page.close();
  });
});
