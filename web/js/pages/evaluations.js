// Evaluations: Bedrock's evaluation jobs; one job's report as charts (overall score and each
// metric's mean per model), the paired comparisons with their verdicts, the answers side by side;
// and two runs compared (#/evaluations/<id>?compare=<other id>).
import { getJson, seg } from '../api.js';
import { h, badge, when, num, table, facts } from '../dom.js';
import { livePart } from '../refresh.js';

const COLORS = ['#1d4ed8', '#b45309', '#15803d', '#7e22ce', '#be123c', '#0e7490'];

function metricsChart(box, models) {
  if (!window.Chart) { box.append(h('p.notice', 'Charts need Chart.js (apt-get install libjs-chart.js).')); return null; }
  const names = [...new Set(models.flatMap((m) => Object.keys(m.metrics || {})))].filter((k) =>
    models.some((m) => m.metrics[k] && typeof m.metrics[k].mean === 'number' && m.metrics[k].mean <= 1 && m.metrics[k].mean >= 0));
  const labels = ['overallScore', ...names];
  const canvas = h('canvas', { role: 'img', 'aria-label': 'Mean score per metric for ' + models.map((m) => m.label).join(', ') });
  box.append(h('div.chart-box', canvas));
  return new window.Chart(canvas, {
    type: 'bar',
    data: { labels, datasets: models.map((m, i) => ({ label: m.label, backgroundColor: COLORS[i % COLORS.length],
      data: labels.map((k) => k === 'overallScore' ? m.overallScore : (m.metrics[k] || {}).mean ?? null) })) },
    options: { animation: false, maintainAspectRatio: false, scales: { y: { min: 0, max: 1 } }, plugins: { legend: { position: 'bottom' } } },
  });
}

async function list(main, ctx) {
  const body = h('div');
  main.append(h('h1', 'Evaluations'), body);
  return livePart(body, () => getJson('evaluations'), (r) => {
    const picked = new Set();
    const compare = h('button', { type: 'button', disabled: true, onclick: () => {
      const [a, b] = [...picked];
      ctx.navigate('#/evaluations/' + seg(a) + '?compare=' + encodeURIComponent(b));
    } }, 'Compare the two selected');
    return h('section.panel', table([
      { title: 'Pick', cell: (j) => h('input', { type: 'checkbox', 'aria-label': 'Pick ' + j.jobName, onchange: (e) => {
        const id = j.jobArn.split('/').pop();
        if (e.target.checked) picked.add(id); else picked.delete(id);
        compare.disabled = picked.size !== 2;
      } }) },
      { title: 'Job', cell: (j) => h('a', { href: '#/evaluations/' + seg(j.jobArn.split('/').pop()) }, j.jobName) },
      { title: 'Status', cell: (j) => badge(j.status) },
      { title: 'Models', cell: (j) => (j.modelIdentifiers || []).join(', ') },
      { title: 'Created', cell: (j) => when(j.creationTime) }], r.evaluations), h('p', compare));
  }, (s, prev) => s.topics['aws.bedrock'] !== prev.topics['aws.bedrock']);
}

export async function render(main, { params, query }, ctx) {
  if (!params.length) return list(main, ctx);
  const e = await getJson('evaluations/' + seg(params[0]));
  const other = query.get('compare') ? await getJson('evaluations/' + seg(query.get('compare'))) : null;
  const charts = [];
  const report = e.report;
  main.append(h('h1', 'Evaluation ', h('span.mono', e.job.jobName)),
    h('p', badge(e.job.status)), facts([['Created', when(e.job.creationTime)], ['Report', (e.results || {}).reportUri]]));
  if (!report) { main.append(h('p.notice', 'No report yet: it appears when the job has completed.')); return {}; }
  const chartPanel = h('section.panel', h('h2', other ? 'Scores of both runs' : 'Scores'));
  main.append(chartPanel);
  const both = other && other.report;
  const models = both
    ? report.models.map((m) => ({ ...m, label: e.job.jobName + ': ' + m.label })).concat(other.report.models.map((m) => ({ ...m, label: other.job.jobName + ': ' + m.label })))
    : report.models;
  charts.push(metricsChart(chartPanel, models));
  // The answers: this run's models, then the other run's, case by case where both asked the same prompt.
  const otherCases = new Map(both ? other.report.cases.map((c) => [c.prompt, c]) : []);
  const answerColumns = report.models.map((m, i) => ({ title: both ? e.job.jobName + ': ' + m.label : m.label, cell: (c) => (c.answers[i] || {}).text || '' }))
    .concat(both ? other.report.models.map((m, i) => ({ title: other.job.jobName + ': ' + m.label,
      cell: (c) => ((otherCases.get(c.prompt) || { answers: [] }).answers[i] || {}).text || '—' })) : []);
  main.append(h('section.panel', h('h2', 'Comparisons'), report.comparisons.length ? null : h('p.muted', 'One model in this run: nothing to compare within it.'),
    report.comparisons.map((c) => [h('h3', `${c.candidate} vs ${c.baseline}`),
    table([{ title: 'Metric', cell: (r) => r[0] }, { title: 'Mean difference', num: true, cell: (r) => num(r[1].meanDiff) },
           { title: '95% interval', cell: (r) => `${num(r[1].ciLow)} … ${num(r[1].ciHigh)}` },
           { title: 'Wins / ties / losses', cell: (r) => `${r[1].wins} / ${r[1].ties} / ${r[1].losses}` },
           { title: 'Verdict', cell: (r) => badge(r[1].verdict) }], Object.entries(c.metrics))])),
    h('section.panel', h('h2', `Answers side by side (${report.cases.length} of ${report.caseCount})`),
      table([{ title: 'Prompt', cell: (c) => [c.prompt, c.category ? h('div.muted', c.category) : null] },
             { title: 'Reference', cell: (c) => c.reference },
             ...answerColumns], report.cases)));
  return { dispose: () => charts.forEach((c) => c && c.destroy()) };
}
