// Acme Docs: a small single-page app instrumented with Sieve the way a frontend developer would
// do it: init once, page views left to the SDK, identify/group at sign-up, track on actions.
// The app hands the SDK raw values (a name, an email, ids, free text, URLs with ids in them);
// cleaning them is the SDK's job, not the app's.
//
// The panel on the right is demo-only: it shows, with preview() and stats(), what the SDK
// makes of each call, so a visitor sees exactly what leaves the browser.

import { init, track, identify, group, preview, stats, flush } from '/sdk/sieve.js';

const ORG_ID = '8812';
const DOCS = [
  { id: '550e8400-e29b-41d4-a716-446655440000', title: 'Quarterly plan' },
  { id: '6fa459ea-ee8a-4ca4-894e-db77e160355e', title: 'Invoice template' },
  { id: '16fd2706-8baf-433b-82eb-8c7fada847da', title: 'Onboarding checklist' },
  { id: '9b2d1c4e-7f3a-4e6b-a1d2-3c4b5a6f7e8d', title: 'Pricing research' },
];

const $ = (selector, root = document) => root.querySelector(selector);
const args = (...a) => a.map((v) => JSON.stringify(v)).join(', ');
const PAGE_CALL = 'page()   // automatic, on load and on every pushState / popstate';

// ---- start-up ---------------------------------------------------------------------------

async function start() {
  const status = $('#status');
  try {
    // Write keys are public (they ship in every page); the collector hands the demo its own.
    const res = await fetch('/demo/sieve-demo.json');
    if (!res.ok) throw new Error(`/demo/sieve-demo.json: HTTP ${res.status}`);
    const { writeKey } = await res.json();
    await init({ collector: location.origin, writeKey, debug: true });
    status.textContent =
      `Ready. Each event is cleaned in this page by sieve-core (WebAssembly), then sent in ` +
      `batches to ${location.origin}. Debug mode logs every drop in the console.`;
  } catch (e) {
    status.textContent = `The SDK could not start: ${e.message}`;
    status.className = 'error';
  }
}

const ready = start();

// ---- routes -----------------------------------------------------------------------------

function route(path) {
  let m;
  if (path === '/demo' || path === '/demo/') return { view: 'home' };
  if ((m = path.match(/^\/demo\/orgs\/([^/]+)\/settings\/?$/))) return { view: 'settings', org: m[1] };
  if ((m = path.match(/^\/demo\/docs\/([^/]+)\/?$/))) return { view: 'doc', id: m[1] };
  return { view: 'not-found' };
}

// Each view fills its template and returns the event it tracked, if any, for the panel.
const VIEWS = {
  home(view) {
    const form = $('#signup', view);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const f = new FormData(form);
      // In a real app the id comes back from the sign-up API.
      const userId = `user_${crypto.getRandomValues(new Uint32Array(1))[0] % 1000000}`;
      const traits = { name: f.get('name'), email: f.get('email'), plan: f.get('plan') };
      const props = { plan: f.get('plan'), method: f.get('method'), invited: f.get('invited') === 'on' };
      identify(userId, traits);
      group('org', ORG_ID);
      track('signup', props);
      show([{
        calls: [`identify(${args(userId, traits)})`, `group(${args('org', ORG_ID)})`, `track(${args('signup', props)})`],
        name: 'signup',
        props,
      }]);
      $('#welcome', view).hidden = false;
    });
    document.title = 'Start your free trial · Acme Docs';
  },

  settings(view, r) {
    $('[data-org]', view).textContent = r.org;
    docList($('[data-docs]', view), DOCS.slice(0, 3), 'recent');
    const shown = Date.now();
    $('#export', view).addEventListener('click', (e) => {
      const props = { feature: 'export_csv', duration_s: Math.round((Date.now() - shown) / 1000) };
      track('feature_used', props);
      show([{ calls: [`track(${args('feature_used', props)})`], name: 'feature_used', props }]);
      e.target.textContent = 'Export started';
    });
    document.title = `Organisation ${r.org} settings · Acme Docs`;
  },

  doc(view, r, source) {
    const doc = DOCS.find((d) => d.id === r.id);
    $('[data-title]', view).textContent = doc ? doc.title : 'Untitled document';
    $('[data-id]', view).textContent = r.id;
    const props = { document_id: r.id, source };
    track('document_opened', props);
    document.title = `${doc ? doc.title : 'Document'} · Acme Docs`;
    return { calls: [`track(${args('document_opened', props)})`], name: 'document_opened', props };
  },

  'not-found'() {
    const props = { code: 'not_found' };
    track('error_shown', props);
    document.title = 'Not found · Acme Docs';
    return { calls: [`track(${args('error_shown', props)})`], name: 'error_shown', props };
  },
};

function render(source) {
  const r = route(location.pathname);
  const view = $('#view');
  view.replaceChildren($(`#${r.view}`).content.cloneNode(true));
  const tracked = VIEWS[r.view](view, r, source);
  show([{ calls: [PAGE_CALL], name: 'page_view' }, ...(tracked ? [tracked] : [])]);
}

function docList(ul, docs, source) {
  ul.replaceChildren(
    ...docs.map((d) => {
      const a = Object.assign(document.createElement('a'), { href: `/demo/docs/${d.id}`, textContent: d.title });
      a.dataset.source = source;
      const li = document.createElement('li');
      li.append(a);
      return li;
    }),
  );
}

// SPA navigation: links under /demo/ switch views with pushState; the SDK sees the URL change
// and records the page view itself.
document.addEventListener('click', (e) => {
  const a = e.target.closest('a[href^="/demo"]');
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  e.preventDefault();
  const href = a.getAttribute('href');
  if (href !== location.pathname) history.pushState(null, '', href);
  render(a.dataset.source || 'link');
});
addEventListener('popstate', () => render('link'));

// ---- search -----------------------------------------------------------------------------

$('#search').addEventListener('submit', (e) => {
  e.preventDefault();
  const query = String(new FormData(e.target).get('query') || '').trim();
  if (!query) return;
  const words = query.toLowerCase().split(/\s+/);
  const hits = DOCS.filter((d) => words.some((w) => d.title.toLowerCase().includes(w)));
  // Free text, as typed: the schema caps it and core scrubs emails, cards, tokens and the like.
  const props = { query, results: hits.length };
  track('search', props);
  const view = $('#view');
  view.replaceChildren($('#results').content.cloneNode(true));
  $('[data-summary]', view).textContent = `${hits.length} document${hits.length === 1 ? '' : 's'} for “${query}”`;
  docList($('[data-docs]', view), hits, 'search');
  show([{ calls: [`track(${args('search', props)})`], name: 'search', props }]);
});

// ---- the panel (demo only) --------------------------------------------------------------

// preview() gives exactly the event the SDK would send for this call now (the same identity,
// URL and schema), with what the schema dropped and what the text rules redacted.
function show(entries) {
  ready.then(() => {
    $('#last').replaceChildren(...entries.map(entry));
    showStats();
  });
}

function entry({ calls, name, props }) {
  const node = $('#entry').content.cloneNode(true);
  $('[data-call]', node).textContent = calls.join('\n');
  const out = preview(name, props);
  $('[data-sent]', node).textContent = !out
    ? '(the SDK is not running)'
    : out.sent
      ? JSON.stringify(out.sent, null, 2)
      : 'nothing: the event was dropped';
  notes($('[data-dropped]', node), out?.dropped);
  notes($('[data-redactions]', node), out?.redactions);
  return node;
}

function notes(ul, items = []) {
  ul.replaceChildren(
    ...(items.length ? items : ['none']).map((t) => Object.assign(document.createElement('li'), { textContent: t })),
  );
}

function showStats() {
  $('#stats').textContent = JSON.stringify(stats(), null, 2);
}

$('#flush').addEventListener('click', async () => {
  await flush();
  showStats();
});
setInterval(showStats, 1000);

render('link');
