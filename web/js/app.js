// The dashboard's shell: hash routes (each page has a URL to share: #/jobs/<id>,
// #/executions/<arn>, ...), the live feed (one EventSource for every page: the server pushes a
// "state" message when anything changed), the confirmation dialog, and logging out.
import { getJson, session, postJson } from './api.js';
import { h, clear, errorBox } from './dom.js';

const routes = [
  ['overview', /^\/?$/, () => import('./pages/overview.js')],
  ['jobs', /^\/jobs$/, () => import('./pages/jobs.js')],
  ['job', /^\/jobs\/([^/]+)$/, () => import('./pages/job.js')],
  ['pipelines', /^\/pipelines$/, () => import('./pages/pipelines.js')],
  ['pipeline', /^\/pipelines\/([^/]+)$/, () => import('./pages/pipelines.js')],
  ['execution', /^\/executions\/([^/]+)$/, () => import('./pages/execution.js')],
  ['registry', /^\/registry$/, () => import('./pages/registry.js')],
  ['group', /^\/registry\/([^/]+)$/, () => import('./pages/group.js')],
  ['playground', /^\/playground$/, () => import('./pages/playground.js')],
  ['datasets', /^\/datasets$/, () => import('./pages/datasets.js')],
  ['bucket', /^\/datasets\/([^/]+)$/, () => import('./pages/datasets.js')],
  ['evaluations', /^\/evaluations$/, () => import('./pages/evaluations.js')],
  ['evaluation', /^\/evaluations\/([^/]+)$/, () => import('./pages/evaluations.js')],
  ['notifications', /^\/notifications$/, () => import('./pages/notifications.js')],
];

const main = document.getElementById('main');
let current = null;      // the page shown: {onState, dispose}
let liveState = null;    // the last "state" message
let renderId = 0;

// "#/datasets/b?prefix=x" -> {path: "/datasets/b", query: URLSearchParams}
function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/';
  const q = raw.indexOf('?');
  return { path: q < 0 ? raw : raw.slice(0, q), query: new URLSearchParams(q < 0 ? '' : raw.slice(q + 1)) };
}

async function show() {
  const id = ++renderId;
  const { path, query } = parseHash();
  if (current && current.dispose) current.dispose();
  current = null;
  document.body.dataset.ready = '0';
  const match = routes.map(([name, re, load]) => [name, path.match(re), load]).find(([, m]) => m);
  // Each route draws into a view of its own: a slower earlier one, still drawing when the user
  // moved on, then draws into a view no longer in the page.
  const view = h('div.view');
  clear(main).append(view);
  if (!match) {
    view.append(h('h1', 'Not found'), h('p', 'No page at ', h('code', path), '. ', h('a', { href: '#/' }, 'Overview')));
    ready();
    return;
  }
  const [name, m, load] = match;
  document.body.dataset.page = name;
  for (const a of document.querySelectorAll('#nav a')) {
    const target = a.getAttribute('href').slice(1);
    const active = target === '/' ? path === '/' || path === '' : path.startsWith(target);
    if (active) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  try {
    const page = await load();
    const params = m.slice(1).map((s) => decodeURIComponent(s));
    const shown = await page.render(view, { name, params, query }, context);
    if (id !== renderId) {
      if (shown && shown.dispose) shown.dispose();
      return;
    }
    current = shown || {};
    if (liveState && current.onState) current.onState(liveState, null);
  } catch (e) {
    if (id !== renderId) return;
    view.append(errorBox(e));
  }
  if (id === renderId) {
    ready();
    main.focus({ preventScroll: true });
  }
}

// The page is drawn and its handlers attached: tests and bench/bench_dashboard.py wait for
// data-ready, and read data-ready-ms (since the document's navigation began).
function ready() {
  document.body.dataset.readyMs = String(Math.round(performance.now()));
  document.body.dataset.ready = '1';
}

// The confirmation dialog: resolves {ok, reason}.
function confirmAction({ title, text, okLabel = 'Confirm', danger = false, askReason = false }) {
  const dialog = document.getElementById('confirm');
  document.getElementById('confirm-title').textContent = title;
  document.getElementById('confirm-text').textContent = text;
  const reason = document.getElementById('confirm-reason');
  reason.value = '';
  reason.hidden = !askReason;
  document.getElementById('confirm-reason-label').hidden = !askReason;
  const ok = document.getElementById('confirm-ok');
  ok.textContent = okLabel;
  ok.className = danger ? 'danger' : '';
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve({ ok: dialog.returnValue === 'ok', reason: reason.value }), { once: true });
    dialog.returnValue = '';
    dialog.showModal();
    (askReason ? reason : ok).focus();
  });
}

const context = {
  confirm: confirmAction,
  live: () => liveState,
  navigate: (hash) => { location.hash = hash; },
};

// The live feed. EventSource retries by itself after a dropped connection, but not after an
// answer that is not a stream (401: the session ended; 503: too many feeds open): then it is
// CLOSED. Then the session is asked for (a 401 goes to the login page) and the feed reopened
// after a wait that doubles up to a minute.
let liveRetryMs = 1000;

function connectLive() {
  const indicator = document.getElementById('live');
  const source = new EventSource('/ui/api/events');
  source.addEventListener('open', () => { indicator.textContent = 'live'; indicator.classList.add('on'); liveRetryMs = 1000; });
  source.addEventListener('error', () => {
    indicator.textContent = 'reconnecting…';
    indicator.classList.remove('on');
    if (source.readyState !== EventSource.CLOSED) return;
    const wait = liveRetryMs;
    liveRetryMs = Math.min(liveRetryMs * 2, 60000);
    setTimeout(() => {
      getJson('session').then(connectLive, (e) => { if (e.status !== 401) setTimeout(connectLive, wait); });
    }, wait);
  });
  source.addEventListener('state', (event) => {
    const previous = liveState;
    liveState = JSON.parse(event.data);
    if (current && current.onState) current.onState(liveState, previous);
  });
}

document.getElementById('logout').addEventListener('click', async () => {
  try { await postJson('logout'); } finally { location.assign('/ui/login'); }
});

window.addEventListener('hashchange', show);
// The session (for the CSRF token), the live feed and the first page, all at once.
session().catch((e) => { main.append(errorBox(e)); });
connectLive();
show();
