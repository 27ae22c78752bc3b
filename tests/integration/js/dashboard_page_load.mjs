// The dashboard's page load times in Debian's headless Chromium, for bench/bench_dashboard.py:
// logs in once, then loads each route afresh `--loads` times and takes the time from the start of
// the navigation until the page is interactive (the app sets body[data-ready="1"] once the page's
// data is drawn and its handlers are attached). One JSON object a line on stdout:
//   {"route": "#/jobs", "ms": [..each load..]}   then   {"done": true}
//   argv: --url URL --key ID --secret S --routes JSON-array --loads N [--chromium PATH]
import puppeteer from 'puppeteer-core';
import { parseArgs } from 'node:util';

const { values: a } = parseArgs({ options: {
  url: { type: 'string' }, key: { type: 'string' }, secret: { type: 'string' }, routes: { type: 'string' },
  loads: { type: 'string', default: '5' }, chromium: { type: 'string', default: '/usr/bin/chromium' } } });
const say = (o) => process.stdout.write(JSON.stringify(o) + '\n');

const browser = await puppeteer.launch({ executablePath: a.chromium, headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'] });
try {
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 860 });
  await page.goto(a.url + '/ui/login');
  await page.type('#accessKeyId', a.key);
  await page.type('#secretAccessKey', a.secret);
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
  await page.waitForSelector('body[data-ready="1"]');
  for (const route of JSON.parse(a.routes)) {
    const ms = [];
    // One load first that is not counted: the browser's cache then holds the scripts, as it does
    // for anyone who opened the dashboard before.
    for (let i = 0; i <= Number(a.loads); i++) {
      await page.goto('about:blank');
      await page.goto(a.url + '/ui/' + route);
      await page.waitForSelector('body[data-ready="1"]', { timeout: 30000 });
      const t = await page.evaluate(() => Number(document.body.dataset.readyMs));
      const failed = await page.$('main p.error[role=alert]');  // errorBox: the page could not load
      if (failed) throw new Error(route + ': ' + await page.evaluate((e) => e.textContent, failed));
      if (i) ms.push(t);
    }
    say({ route, ms });
  }
  say({ done: true });
} catch (e) {
  say({ error: String(e && e.stack || e) });
  process.exitCode = 1;
} finally {
  await browser.close();
}
