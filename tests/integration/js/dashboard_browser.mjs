// The dashboard in Debian's headless Chromium, driven by puppeteer-core (never a downloaded
// browser), for tests/integration/dashboard_browser_test.py, which starts `lathe serve`, seeds
// it and talks to this script over stdin/stdout, one JSON object a line:
//   argv: --url URL --key ID --secret S --group G --bucket B --object KEY --model ID --shots DIR
//   out:  {"need": "job"}        in: {"job": "<job id>"}  (the test starts the job and the execution
//   out:  {"need": "execution"}  in: {"arn": "..."}        when asked, so the page sees them run)
//   out:  {"need": "evaluations"} in: {"ids": [a, b]}      (two evaluation jobs, once they have ended)
//   out:  {"step": name, ...findings}                    (one per step; the test asserts on them)
//   out:  {"done": true}
// Screenshots of each page go to DIR/ui-<page>.png (docs/images/ in the test run).
import puppeteer from 'puppeteer-core';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';

const { values: a } = parseArgs({ options: {
  url: { type: 'string' }, key: { type: 'string' }, secret: { type: 'string' }, group: { type: 'string' }, bucket: { type: 'string' }, object: { type: 'string' }, model: { type: 'string' },
  shots: { type: 'string' }, chromium: { type: 'string', default: '/usr/bin/chromium' } } });

const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const say = (o) => process.stdout.write(JSON.stringify(o) + '\n');
async function ask(o) { say(o); const { value } = await lines.next(); return JSON.parse(value); }
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// A click inside the page, in one step: for parts the live feed redraws (the graph, the group's
// aliases), where puppeteer's click (find, scroll, then press at its box) can meet a replaced node.
const clickNow = (page, selector) => page.$eval(selector, (e) => e.dispatchEvent(new MouseEvent('click', { bubbles: true })));
// Form controls on the page without a label (a <label for>, an enclosing label or aria-label).
const unlabelled = (page) => page.$$eval('main input:not([type=hidden]), main select, main textarea, dialog input',
  (els) => els.filter((e) => !e.labels.length && !e.getAttribute('aria-label')).map((e) => [e.id || e.outerHTML.slice(0, 80),
    document.querySelectorAll('[id="' + e.id + '"]').length, document.querySelectorAll('label[for="' + e.id + '"]').length, e.isConnected].join(' ')));

async function until(what, fn, timeoutMs = 30000, everyMs = 100) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out waiting for ' + what);
    await sleep(everyMs);
  }
}

const browser = await puppeteer.launch({ executablePath: a.chromium, headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'] });
const errors = [];
try {
  // 1. Without a session: the app redirects to the login page, the API answers 401.
  const anonymous = await browser.createBrowserContext();
  const anon = await anonymous.newPage();
  await anon.goto(a.url + '/ui/#/jobs/some-job');
  const landed = anon.url();
  const anonApi = await anon.evaluate(async () => (await fetch('/ui/api/overview')).status);
  const anonPost = await anon.evaluate(async () => (await fetch('/ui/api/logout', { method: 'POST' })).status);
  await anon.screenshot({ path: a.shots + '/ui-login.png' });
  say({ step: 'anonymous', landed, api: anonApi, post: anonPost });
  await anonymous.close();

  // 2. Log in with the form (the route asked for survives the login).
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 860 });
  page.on('pageerror', (e) => errors.push(String(e)));
  // Script errors and CSP violations; a refused fetch (the CSRF step's 403s) is an answer, not an error.
  page.on('console', (m) => { if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(m.text()); });
  // Everything the pages load comes from lathe itself (Chart.js too): no CDN, works offline.
  const elsewhere = [];
  page.on('request', (r) => { if (!r.url().startsWith(a.url + '/') && !r.url().startsWith('data:')) elsewhere.push(r.url()); });
  await page.goto(a.url + '/ui/#/');
  await page.waitForSelector('#accessKeyId');
  await page.type('#accessKeyId', a.key);
  await page.type('#secretAccessKey', a.secret);
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
  await page.waitForSelector('body[data-ready="1"][data-page="overview"]');
  const cookies = await page.cookies();
  const session = cookies.find((c) => c.name === 'lathe_session');
  await until('the live feed', () => page.$eval('#live', (e) => e.textContent === 'live'));
  const overview = await page.$$eval('main h2', (hs) => hs.map((e) => e.textContent));
  say({ step: 'login', url: page.url(), httpOnly: session && session.httpOnly, sameSite: session && session.sameSite,
        documentCookie: await page.evaluate(() => document.cookie), overview,
        chart: await page.evaluate(() => typeof window.Chart === 'function' && window.Chart.version) });

  // 3. A forged CSRF token and a missing one are refused; the page's own token works.
  const csrf = await page.evaluate(async () => {
    const tryStop = async (headers) => (await fetch('/ui/api/jobs/no-such-job/stop', { method: 'POST', headers })).status;
    return { forged: await tryStop({ 'X-CSRF-Token': 'f'.repeat(64) }), missing: await tryStop({}),
             real: await tryStop({ 'X-CSRF-Token': (await (await fetch('/ui/api/session')).json()).csrfToken }) };
  });
  say({ step: 'csrf', ...csrf });

  // 4. A real job: its loss curve gains points while it trains.
  const { job: jobId } = await ask({ need: 'job' });
  await page.goto(a.url + '/ui/#/jobs/' + encodeURIComponent(jobId));
  await page.waitForSelector('body[data-ready="1"][data-page="job"]');
  const points = () => page.$eval('#loss-chart', (e) => Number(e.dataset.points));
  const status = () => page.$eval('main .badge', (e) => e.textContent);
  const first = await until('the first loss point', async () => (await points()) >= 1 ? await points() : 0, 60000, 200);
  const firstStatus = await status();
  const later = await until('more loss points', async () => {
    const n = await points();
    return n >= first + 2 ? n : 0;
  }, 60000, 200);
  const laterStatus = await status();
  const manifestShown = await page.evaluate(() => [...document.querySelectorAll('main h2')].some((e) => e.textContent === 'Data manifest'));
  await page.screenshot({ path: a.shots + '/ui-job.png', fullPage: true });
  // The overview, in a second tab of the same session, shows the job running with its progress.
  const side = await browser.newPage();
  await side.setViewport({ width: 1280, height: 860 });
  await side.goto(a.url + '/ui/#/');
  await side.waitForSelector('body[data-ready="1"][data-page="overview"] main [role=progressbar]');
  const overviewRunning = await side.$$eval('main a[href^="#/jobs/"]', (as) => as.map((x) => x.textContent));
  const progressText = await side.$eval('main [role=progressbar] + span', (e) => e.textContent);
  await side.screenshot({ path: a.shots + '/ui-overview.png', fullPage: true });
  await side.close();
  // Stop, confirmed in the dialog: the job ends Stopped (and frees the machine for the rest).
  await page.click('main button.danger');
  await page.waitForSelector('dialog#confirm[open]');
  await page.click('#confirm-ok');
  const stopped = await until('the job to stop', async () => (await status()) === 'Stopped' ? 'Stopped' : null, 60000, 200);
  const stopDisabled = await page.$eval('main button.danger', (b) => b.disabled);
  say({ step: 'job', first, firstStatus, later, laterStatus, stopped, stopDisabled, overviewRunning, progressText, manifestShown });

  // 5. A pipeline execution: states change colour as it runs.
  const { arn } = await ask({ need: 'execution' });
  await page.goto(a.url + '/ui/#/executions/' + encodeURIComponent(arn));
  await page.waitForSelector('body[data-ready="1"][data-page="execution"] svg.graph');
  const seen = {};  // state -> [progress, fill] in the order seen
  let shot = false;
  await until('the execution to end', async () => {
    const now = await page.$$eval('svg.graph g.node', (gs) => gs.map((g) => [g.dataset.state, g.dataset.progress,
      getComputedStyle(g.querySelector('rect')).fill]));
    for (const [state, progress, fill] of now) {
      const list = seen[state] || (seen[state] = []);
      if (!list.length || list[list.length - 1][0] !== progress) list.push([progress, fill]);
    }
    if (!shot && now.some(([, p]) => p === 'running') && now.some(([, p]) => p === 'succeeded')) {
      await clickNow(page, 'svg.graph g.node[data-progress="succeeded"]');
      await page.screenshot({ path: a.shots + '/ui-pipeline.png', fullPage: true });
      shot = true;
    }
    const badge = await page.$eval('main .badge', (b) => b.textContent);
    return badge === 'SUCCEEDED' && now.every(([, p]) => p === 'succeeded' || p === 'none') ? true : null;
  }, 60000, 150);  // two 8 s waits, on a loaded machine
  // A state's input and output by keyboard: the graph's states are focusable buttons.
  await page.$eval('svg.graph g.node[data-state="Finish"]', (g) => g.focus());  // an SVG element: puppeteer's focus() takes HTML ones only
  const focused = await page.evaluate(() => document.activeElement && document.activeElement.dataset.state);
  await page.keyboard.press('Enter');
  await until('the state by keyboard', () => page.$eval('#step', (e) => e.textContent.includes('Finish')));
  const stepShown = await page.$eval('#step', (e) => e.textContent);
  say({ step: 'pipeline', seen, stepShown, focused });

  // 6. Registry: promote version 2, then roll back, each confirmed in the dialog.
  await page.goto(a.url + '/ui/#/registry/' + encodeURIComponent(a.group));
  await page.waitForSelector('body[data-ready="1"][data-page="group"] #promote');
  const aliasShown = () => page.$eval('[data-alias="production"] .alias-version', (e) => e.textContent).catch(() => null);
  const before = await aliasShown();
  await page.$eval('#alias-name', (e) => { e.value = 'production'; });
  await page.select('#promote-version', '2');
  await clickNow(page, '#promote');
  await page.waitForSelector('dialog#confirm[open]');
  await page.type('#confirm-reason', 'better scores');
  await page.click('#confirm-ok');
  const promoted = await until('the promotion', async () => (await aliasShown()) === 'v2' ? 'v2' : null);
  await page.screenshot({ path: a.shots + '/ui-registry.png', fullPage: true });
  const registryUnlabelled = await unlabelled(page);
  await clickNow(page, '[data-rollback="production"]');
  await page.waitForSelector('dialog#confirm[open]');
  await page.type('#confirm-reason', 'answers got worse');
  await page.click('#confirm-ok');
  const rolledBack = await until('the rollback', async () => (await aliasShown()) === 'v1' ? 'v1' : null);
  // Cancelling the dialog changes nothing (the page says it sent nothing; the server agrees).
  await page.waitForSelector('#alias-message[data-outcome="moved"]');
  await clickNow(page, '#promote');
  await page.waitForSelector('dialog#confirm[open]');
  await page.click('dialog#confirm button[value=cancel]');
  await page.waitForSelector('#alias-message[data-outcome="cancelled"]');
  const onServer = await page.evaluate(async (g) => (await (await fetch('/ui/api/registry/' + encodeURIComponent(g))).json()).aliases.production.version, a.group);
  say({ step: 'registry', before, promoted, rolledBack, afterCancel: await aliasShown(), onServer, unlabelled: registryUnlabelled });

  // 7. Playground: answers streamed into the page, two models side by side (here the same model
  //    twice: the test's server serves one).
  await page.goto(a.url + '/ui/#/playground');
  await page.waitForSelector('body[data-ready="1"][data-page="playground"]');
  await page.select('#model-a', a.model);
  await page.select('#model-b', a.model);
  await page.type('#prompt', 'How do I reset my PIN?');
  await page.click('#send');
  await page.waitForSelector('#chat-a .msg.assistant[data-streaming="0"]', { timeout: 60000 });
  await page.waitForSelector('#chat-b .msg.assistant[data-streaming="0"]', { timeout: 60000 });
  const answer = await page.$eval('#chat-a .msg.assistant', (e) => e.textContent);
  const answerB = await page.$eval('#chat-b .msg.assistant', (e) => e.textContent);
  const meta = await page.$eval('#chat-a .meta', (e) => e.textContent);
  await page.screenshot({ path: a.shots + '/ui-playground.png', fullPage: true });
  const unlabelledControls = { playground: await unlabelled(page) };
  say({ step: 'playground', answer, answerB, meta });

  // 8. The other pages, for the screenshots (and no script errors on any of them).
  await page.goto(a.url + '/ui/#/datasets/' + encodeURIComponent(a.bucket) + '?prefix=' + encodeURIComponent(a.object.replace(/[^/]*$/, '')) +
    '&key=' + encodeURIComponent(a.object));
  await page.waitForSelector('body[data-ready="1"][data-page="bucket"] #dataset-check h2', { timeout: 30000 });
  const datasetCheck = await page.$eval('#dataset-check', (e) => e.textContent.slice(0, 300));
  const datasetCharts = await page.$$eval('#dataset-check canvas', (cs) => cs.map((c) => c.getAttribute('aria-label')));
  await page.screenshot({ path: a.shots + '/ui-datasets.png', fullPage: true });
  unlabelledControls.datasets = await unlabelled(page);
  // The dataset check's bad input: each refused by status before any object is read.
  const badChecks = await page.evaluate(async (bucket, key) => {
    const { csrfToken } = await (await fetch('/ui/api/session')).json();
    const post = async (b, body) => (await fetch('/ui/api/datasets/' + encodeURIComponent(b) + '/check',
      { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrfToken }, body: JSON.stringify(body) })).status;
    const check = (body) => post(bucket, body);
    return { noKey: await check({}), longKey: await check({ key: 'k'.repeat(1025) }), controlKey: await check({ key: 'a\u0001b' }),
             badValidation: await check({ key, validationKey: 'v\u0000' }), missing: await check({ key: 'no/such.jsonl' }),
             noBucket: await post('no-such-bucket-here', { key: 'x.jsonl' }), wrongType: await check({ key: 7 }),
             byGet: (await fetch('/ui/api/datasets/' + encodeURIComponent(bucket) + '/check?key=' + encodeURIComponent(key))).status,
             noToken: (await fetch('/ui/api/datasets/' + encodeURIComponent(bucket) + '/check', { method: 'POST', body: JSON.stringify({ key }) })).status };
  }, a.bucket, a.object);
  // Two evaluation runs compared: one chart of both, the answers side by side.
  const { ids: [evalA, evalB] } = await ask({ need: 'evaluations' });
  await page.goto(a.url + '/ui/#/evaluations/' + encodeURIComponent(evalA) + '?compare=' + encodeURIComponent(evalB));
  await page.waitForSelector('body[data-ready="1"][data-page="evaluation"]');
  const evaluation = await page.evaluate(() => ({
    chart: (document.querySelector('main canvas') || { getAttribute: () => '' }).getAttribute('aria-label'),
    comparing: [...document.querySelectorAll('main h2')].some((e) => e.textContent === 'Scores of both runs'),
    rows: [...document.querySelectorAll('main h2')].filter((e) => e.textContent.startsWith('Answers side by side'))
      .map((e) => e.parentElement.querySelectorAll('tbody tr').length)[0],
    columns: [...document.querySelectorAll('main h2')].filter((e) => e.textContent.startsWith('Answers side by side'))
      .map((e) => [...e.parentElement.querySelectorAll('thead th')].map((th) => th.textContent))[0] }));
  await page.screenshot({ path: a.shots + '/ui-evaluation.png', fullPage: true });
  say({ step: 'evaluation', ...evaluation });
  for (const [name, hash] of [['evaluations', '#/evaluations'], ['notifications', '#/notifications'], ['pipelines', '#/pipelines'], ['jobs', '#/jobs']]) {
    await page.goto(a.url + '/ui/' + hash);
    await page.waitForSelector(`body[data-ready="1"][data-page="${name}"]`);
    await page.screenshot({ path: a.shots + `/ui-${name}.png`, fullPage: true });
    unlabelledControls[name] = await unlabelled(page);
  }
  await page.goto(a.url + '/ui/#/');
  await page.waitForSelector('body[data-ready="1"][data-page="overview"]');
  const executionLink = await until('the execution on the overview', () =>
    page.$$eval('main a[href^="#/executions/"]', (as) => as.map((x) => x.textContent).join(',')));
  // On a phone: no page wider than the screen (wide tables and the graph scroll in their own box).
  await page.setViewport({ width: 390, height: 844, isMobile: true });
  const phoneOverflow = {};
  for (const [name, hash] of [['group', '#/registry/' + encodeURIComponent(a.group)], ['execution', '#/executions/' + encodeURIComponent(arn)],
    ['job', '#/jobs/' + encodeURIComponent(jobId)], ['playground', '#/playground'], ['evaluation', '#/evaluations/' + encodeURIComponent(evalA)],
    ['notifications', '#/notifications'], ['overview', '#/']]) {
    await page.goto(a.url + '/ui/' + hash);
    await page.waitForSelector(`body[data-ready="1"][data-page="${name}"]`);
    phoneOverflow[name] = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  }
  await page.screenshot({ path: a.shots + '/ui-overview-phone.png', fullPage: true });
  say({ step: 'pages', datasetCheck, datasetCharts, badChecks, phoneOverflow, unlabelledControls });

  // 9. Logging out ends the session on the server, and its live feed in another tab: that tab
  // goes to the login page by itself (the feed's reconnect meets 401).
  const other = await browser.newPage();
  await other.goto(a.url + '/ui/#/');
  await other.waitForSelector('body[data-ready="1"][data-page="overview"]');
  await other.waitForFunction(() => document.getElementById('live').textContent === 'live');
  await page.bringToFront();  // a background tab runs no animation frames: puppeteer's waits poll on them
  await page.click('#logout');
  await page.waitForSelector('#accessKeyId');
  const after = await page.evaluate(async () => (await fetch('/ui/api/session')).status);
  await other.bringToFront();
  await other.waitForSelector('#accessKeyId', { timeout: 30000 });
  const otherTabToLogin = other.url().includes('/ui/login');
  await other.close();
  say({ step: 'logout', after, errors, elsewhere, executionLink, otherTabToLogin });
  say({ done: true });
} catch (e) {
  say({ error: String(e && e.stack || e), errors });
  process.exitCode = 1;
} finally {
  await browser.close();
  process.exit();  // stdin (the test's pipe) would keep node alive
}
