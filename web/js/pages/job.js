// Job: the training and validation loss curves, growing as the job trains (the poller's samples
// between epochs, then the step CSVs), progress, status details, hyperparameters, data, log, Stop.
import { getJson, postJson, seg } from '../api.js';
import { h, clear, badge, when, num, duration, facts, table, errorBox } from '../dom.js';
import { refresher } from '../refresh.js';
import { jobProgress } from './overview.js';

function phases(details) {
  const rows = [['validationDetails', 'Validation'], ['dataProcessingDetails', 'Data processing'], ['trainingDetails', 'Training']]
    .filter(([k]) => details && details[k]).map(([k, label]) => ({ label, ...details[k] }));
  return h('ol.timeline', rows.map((p) => h('li', h('strong', p.label), ' ', badge(p.status),
    h('span.muted', ' ', when(p.creationTime), p.lastModifiedTime ? ' → ' + when(p.lastModifiedTime) : ''))));
}

function lossChart(box) {
  if (!window.Chart) {
    box.append(h('p.notice', 'Charts need Chart.js, which this server could not serve (apt-get install libjs-chart.js).'));
    return null;
  }
  const canvas = h('canvas', { role: 'img', 'aria-label': 'Training and validation loss by step' });
  box.append(canvas);
  return new window.Chart(canvas, {
    type: 'line',
    data: { datasets: [
      { label: 'training loss', data: [], borderColor: '#1d4ed8', backgroundColor: '#1d4ed8', pointRadius: 0, borderWidth: 2 },
      { label: 'validation loss', data: [], borderColor: '#b45309', backgroundColor: '#b45309', pointRadius: 3, borderWidth: 2 },
    ] },
    options: { animation: false, maintainAspectRatio: false, parsing: false, normalized: true,
      scales: { x: { type: 'linear', title: { display: true, text: 'step' } }, y: { title: { display: true, text: 'loss' } } },
      plugins: { legend: { position: 'bottom' } } },
  });
}

// The data each registry version this job made was trained on, as the job read it.
function manifest(versions) {
  if (!versions.length) return h('p.muted', 'Not in the model registry yet: a version registered from this job records its data manifest.');
  return versions.map((v) => [h('p', 'Registered as ', h('a', { href: '#/registry/' + seg(v.group) }, `${v.group} v${v.version}`), ' ', badge(v.status)),
    table([{ title: 'Purpose', cell: (d) => d.purpose }, { title: 'Object', cell: (d) => h('span.mono', d.uri) },
           { title: 'Records', num: true, cell: (d) => String(d.records) }, { title: 'Format', cell: (d) => d.format },
           { title: 'SHA-256', cell: (d) => h('code', { title: d.sha256 }, String(d.sha256 || '').slice(0, 12) + '…') },
           { title: 'ETag / version', cell: (d) => [d.etag, d.versionId ? ' / ' + d.versionId : ''].join('') || '—' }], v.data)]);
}

export async function render(main, { params }, ctx) {
  const id = params[0];
  // The job and its curve so far, fetched together.
  let [job, firstMetrics] = await Promise.all([getJson('jobs/' + seg(id)), getJson('jobs/' + seg(id) + '/metrics', { afterStep: -1 })]);
  const head = h('div'), chartBox = h('div.chart-box', { id: 'loss-chart', dataset: { points: '0' } });
  const details = h('div'), log = h('pre', { 'aria-label': 'Training log' });
  main.append(h('h1', 'Job ', h('span.mono', job.jobName)), head,
    h('div.split',
      h('section.panel', { 'aria-labelledby': 'h-loss' }, h('h2', { id: 'h-loss' }, 'Loss'), chartBox),
      h('section.panel', { 'aria-labelledby': 'h-status' }, h('h2', { id: 'h-status' }, 'Status'), details)),
    h('section.panel', { 'aria-labelledby': 'h-log' }, h('h2', { id: 'h-log' }, 'Log (last 16 KiB)'), log));
  const chart = lossChart(chartBox);
  let lastStep = -1;

  // The Stop button is made once: a redraw (every few seconds while the job runs) changes only
  // what it shows, so a click never lands on a button just replaced.
  const statusSlot = h('span'), progressSlot = h('div'), stopMessage = h('div');
  const stop = h('button.danger', { type: 'button', onclick: async () => {
    const answer = await ctx.confirm({ title: 'Stop this job?', text: `Stop ${job.jobName}? It ends as Stopped; its metrics so far are kept.`,
      okLabel: 'Stop job', danger: true });
    if (!answer.ok) return;
    try { await postJson('jobs/' + seg(id) + '/stop'); job = await getJson('jobs/' + seg(id)); drawHead(); drawDetails(); clear(stopMessage); }
    catch (e) { clear(stopMessage).append(errorBox(e)); }
  } }, 'Stop');
  head.append(h('p.row', statusSlot, stop), progressSlot, stopMessage);
  function drawHead() {
    const running = job.status === 'InProgress';
    stop.disabled = !running;
    clear(statusSlot).append(badge(job.status));
    clear(progressSlot).append(running ? jobProgress({ name: job.jobName, progress: job.latheProgress, statusDetails: job.statusDetails }) : null,
      job.failureMessage ? h('p.error', job.failureMessage) : null);
  }
  function drawDetails() {
    const hp = job.hyperParameters || {};
    const compute = job.latheCompute || {};
    clear(details).append(phases(job.statusDetails),
      facts([['Base model', job.baseModelArn], ['Custom model', job.outputModelArn || job.outputModelName],
             ['Created', when(job.creationTime)], ['Ended', when(job.endTime)],
             ['Training data', (job.trainingDataConfig || {}).s3Uri],
             ['Validation data', ((job.validationDataConfig || {}).validators || []).map((v) => v.s3Uri).join(', ')],
             ['Output', (job.outputDataConfig || {}).s3Uri],
             ['Training loss', num((job.trainingMetrics || {}).trainingLoss)],
             compute.cpuSeconds !== undefined ? ['CPU time', duration(compute.cpuSeconds)] : null]),
      h('h2', 'Hyperparameters'),
      table([{ title: 'Name', cell: (r) => r[0] }, { title: 'Value', cell: (r) => h('code', r[1]) }], Object.entries(hp)),
      h('h2', 'Data manifest'), manifest(job.latheRegisteredVersions || []));
    // The trainer redraws its progress line with '\r': keep what a terminal would show.
    log.textContent = job.log ? job.log.split('\n').map((line) => line.split('\r').filter(Boolean).pop() || '').join('\n') : '(no log yet)';
  }
  async function drawMetrics(fetched) {
    const m = fetched || await getJson('jobs/' + seg(id) + '/metrics', { afterStep: lastStep });
    if (chart) {
      const training = chart.data.datasets[0].data;
      for (const [x, y] of m.training) training.push({ x, y });
      chart.data.datasets[1].data = m.validation.map(([x, y]) => ({ x, y }));
      chart.update('none');
      chartBox.dataset.points = String(training.length);
    } else {
      chartBox.dataset.points = String(Number(chartBox.dataset.points) + m.training.length);
    }
    if (m.training.length) lastStep = m.training[m.training.length - 1][0];
  }
  drawHead();
  drawDetails();
  await drawMetrics(firstMetrics);

  const refreshJob = refresher(async () => {
    const was = job.status;
    job = await getJson('jobs/' + seg(id));
    drawHead();
    drawDetails();
    if (was === 'InProgress' && job.status !== 'InProgress' && chart) {
      // Ended: the step CSV now holds every step, also those between the samples seen live.
      chart.data.datasets[0].data = [];
      lastStep = -1;
      await drawMetrics();
    }
  }, 2000);
  const refreshMetrics = refresher(drawMetrics, 500);
  return {
    onState: (s, prev) => {
      const now = JSON.stringify((s.jobs || {})[id] || null), before = prev ? JSON.stringify((prev.jobs || {})[id] || null) : '';
      if (now !== before) { refreshMetrics(); refreshJob(); }
      else if (prev && s.topics['aws.bedrock'] !== prev.topics['aws.bedrock']) { refreshMetrics(); refreshJob(); }
    },
    dispose: () => { refreshJob.stop(); refreshMetrics.stop(); if (chart) chart.destroy(); },
  };
}
