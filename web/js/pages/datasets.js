// Datasets: S3's buckets, a prefix browser, and for a JSONL object the validator's report and the
// statistics (length histograms, duplicates, short and long completions, leakage against a
// validation object) as charts.
import { getJson, postJson, seg } from '../api.js';
import { h, append, clear, bytes, when, table, facts, errorBox } from '../dom.js';

function bars(box, title, labels, counts, color = '#1d4ed8') {
  if (!window.Chart) { box.append(h('p.notice', 'Charts need Chart.js (apt-get install libjs-chart.js).')); return null; }
  const canvas = h('canvas', { role: 'img', 'aria-label': title + ': ' + labels.map((l, i) => `${l}: ${counts[i]}`).join(', ') });
  box.append(h('div.chart-box.small', canvas));
  return new window.Chart(canvas, { type: 'bar', data: { labels, datasets: [{ label: title, data: counts, backgroundColor: color }] },
    options: { animation: false, maintainAspectRatio: false, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
      plugins: { legend: { display: false }, title: { display: true, text: title } } } });
}

function histogram(box, title, buckets, counts) {
  const labels = buckets.map((b, i) => (i ? buckets[i - 1] : 0) + '–' + (b - 1)).concat('≥' + buckets[buckets.length - 1]);
  return bars(box, title, labels, counts);
}

async function check(box, bucket, key, validationKey, charts) {
  clear(box).append(h('p.muted', { role: 'status' }, 'Checking s3://' + bucket + '/' + key + '…'));
  let r;
  try { r = await postJson('datasets/' + seg(bucket) + '/check', { key, validationKey: validationKey || undefined }); } catch (e) { clear(box).append(errorBox(e)); return; }
  const rep = r.report, st = r.stats;
  clear(box).append(h('h2', 'Check of ', h('span.mono', r.uri)),
    h('p', rep.ok ? h('span.badge.Completed', 'valid') : h('span.badge.Failed', 'invalid'), ' ',
      `${rep.records} records (${rep.validRecords} valid), ${rep.format}, ${bytes(rep.bytes)}, ${rep.errors} errors, ${rep.warnings} warnings`),
    rep.problems.length ? table([{ title: 'Line', num: true, cell: (p) => String(p.line || '') }, { title: 'Severity', cell: (p) => p.severity },
           { title: 'Problem', cell: (p) => [p.message, p.fix ? h('div.muted', 'fix: ' + p.fix) : null] }], rep.problems, 'First problems') :
      h('p.muted', 'The validator found no problem.'));
  if (!st) { box.append(h('p.notice', r.statsError || 'No statistics')); return; }
  const findings = [['Exact duplicate groups', st.exactDuplicates.length], ['Near-duplicate groups', st.normalizedDuplicates.length],
    ['Very short completions', st.shortCompletions.length], ['Very long completions', st.longCompletions.length]];
  if (st.validation) findings.push(['Leaked into validation', st.validation.leaks.length]);
  append(box, [facts(findings.map(([k, v]) => [k, String(v)])),
    st.warnings.length ? h('ul', st.warnings.map((w) => h('li.notice', w))) : null]);
  const grid = h('div.grid');
  box.append(grid);
  charts.push(bars(grid, 'Duplicates, outliers and leakage', findings.map(([k]) => k), findings.map(([, v]) => v), '#b45309'));
  charts.push(histogram(grid, 'Prompt length (characters)', st.lengthBuckets, st.promptChars.histogram));
  charts.push(histogram(grid, 'Completion length (characters)', st.lengthBuckets, st.completionChars.histogram));
}

export async function render(main, { params, query }) {
  const charts = [];
  if (!params.length) {
    const r = await getJson('datasets');
    main.append(h('h1', 'Datasets'), h('section.panel', table([
      { title: 'Bucket', cell: (b) => h('a', { href: '#/datasets/' + seg(b.name) }, b.name) },
      { title: 'Region', cell: (b) => b.region }, { title: 'Versioning', cell: (b) => b.versioning || 'off' }], r.buckets)));
    return {};
  }
  const bucket = params[0], prefix = query.get('prefix') || '', key = query.get('key') || '';
  const listing = await getJson('datasets/' + seg(bucket), { prefix, after: query.get('after') || '' });
  const link = (p, extra = '') => '#/datasets/' + seg(bucket) + '?prefix=' + encodeURIComponent(p) + extra;
  const crumbs = [h('a', { href: link('') }, bucket)];
  let acc = '';
  for (const part of prefix.split('/').filter(Boolean)) { acc += part + '/'; crumbs.push(' / ', h('a', { href: link(acc) }, part)); }
  const validation = h('input', { id: 'validation-key', maxlength: 1024, placeholder: 'optional: key of a validation JSONL (for leakage)',
    value: query.get('validationKey') || '' });
  // Checking again with a validation object is a new URL, so the result can be shared too.
  const recheck = h('form.row', { onsubmit: (e) => {
    e.preventDefault();
    location.hash = link(prefix, '&key=' + encodeURIComponent(key) + (validation.value ? '&validationKey=' + encodeURIComponent(validation.value) : ''));
  } }, h('div', h('label', { for: 'validation-key' }, 'Validation object (for leakage)'), validation),
    h('button', { type: 'submit', id: 'recheck' }, 'Check again'));
  const result = h('section.panel', { id: 'dataset-check', 'aria-live': 'polite' });
  main.append(h('h1', 'Datasets'), h('nav', { 'aria-label': 'Prefix' }, crumbs),
    h('section.panel', table([
      { title: 'Name', cell: (o) => o.prefix ? h('a', { href: link(o.prefix) }, o.prefix.slice(prefix.length)) :
          o.key.endsWith('.jsonl') ? h('a', { href: link(prefix, '&key=' + encodeURIComponent(o.key)) }, o.key.slice(prefix.length) + ' (check)') : o.key.slice(prefix.length) },
      { title: 'Size', num: true, cell: (o) => o.prefix ? '' : bytes(o.size) },
      { title: 'Modified', cell: (o) => o.prefix ? '' : when(o.modified) }],
      listing.prefixes.map((p) => ({ prefix: p })).concat(listing.objects)),
      listing.next ? h('p', h('a', { href: link(prefix, '&after=' + encodeURIComponent(listing.next)) }, 'more →')) : null),
    key ? recheck : null, key ? result : null);
  if (key) await check(result, bucket, key, validation.value, charts);
  return { dispose: () => charts.forEach((c) => c && c.destroy()) };
}
