// Overview: what runs now (jobs with progress and ETA), deployments and their traffic, recent
// pipeline executions, the disk, and compute beside what Bedrock would have charged.
import { getJson, seg } from '../api.js';
import { h, badge, bytes, duration, when, num, shortArn, table, facts } from '../dom.js';
import { livePart } from '../refresh.js';

export function jobProgress(j) {
  const p = j.progress || {};
  const share = p.totalSteps ? Math.min(1, p.step / p.totalSteps) : 0;
  return h('div',
    h('div.progress', { role: 'progressbar', 'aria-label': 'Training progress of ' + j.name,
      'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': Math.round(share * 100) },
      h('span', { style: { width: (share * 100).toFixed(1) + '%' } })),
    h('span.muted', p.totalSteps ? `step ${p.step} of ${p.totalSteps} · epoch ${p.epoch}/${p.epochs} · loss ${num(p.loss)} · ` +
      `${num(p.tokensPerSecond, 0)} tokens/s · ETA ${duration(p.etaSeconds)}` : phase(j)));
}

function phase(j) {
  const d = j.statusDetails || {};
  for (const [key, label] of [['validationDetails', 'validating data'], ['dataProcessingDetails', 'processing data'],
                              ['trainingDetails', 'training']])
    if (d[key] && d[key].status === 'InProgress') return label;
  return 'queued';
}

export async function render(main) {
  const body = h('div');
  main.append(h('h1', 'Overview'), body);
  return livePart(body, () => getJson('overview'), (o) => {
    const counts = o.jobCounts || {};
    const costs = o.costs || {};
    const totals = costs.totals || {};
    const disk = o.disk || {};
    return [
      h('div.grid',
        h('section.panel', { 'aria-labelledby': 'h-jobs' }, h('h2', { id: 'h-jobs' }, 'Jobs'),
          facts(['InProgress', 'Completed', 'Failed', 'Stopped'].map((s) => [s, String(counts[s] || 0)])),
          h('p', h('a', { href: '#/jobs' }, 'All jobs'))),
        h('section.panel', { 'aria-labelledby': 'h-cost' }, h('h2', { id: 'h-cost' }, 'Compute and Bedrock price'),
          h('div.stat', totals.bedrockCost !== undefined ? `${num(totals.bedrockCost, 2)} ${costs.currency || ''}` : '—'),
          h('p.muted', 'what Bedrock would have charged for this work', costs.countedAt ? ' (counted ' + when(costs.countedAt) + ')' : ''),
          facts([['CPU hours', num(totals.cpuHours, 2)], ['Wall hours', num(totals.wallHours, 2)],
                 ['Unpriced lines', String(totals.unpricedLines ?? '—')]])),
        h('section.panel', { 'aria-labelledby': 'h-disk' }, h('h2', { id: 'h-disk' }, 'Disk'),
          h('div.stat', bytes(disk.freeBytes) + ' free'),
          facts([['Total', bytes(disk.totalBytes)], ['lathe.db', bytes(disk.databaseBytes)]]))),
      h('section.panel', { 'aria-labelledby': 'h-running' }, h('h2', { id: 'h-running' }, 'Running jobs'),
        o.runningJobs.length ? o.runningJobs.map((j) => h('div',
          h('a', { href: '#/jobs/' + seg(j.id) }, j.name), ' ', badge(j.status), jobProgress(j))) :
          h('p.muted', 'No job is running.')),
      h('div.grid',
        h('section.panel', { 'aria-labelledby': 'h-dep' }, h('h2', { id: 'h-dep' }, 'Deployments'),
          table([{ title: 'Name', cell: (d) => d.customModelDeploymentName },
                 { title: 'Status', cell: (d) => badge(d.status) },
                 { title: 'Serves', cell: (d) => shortArn(d.modelArn) },
                 { title: 'Requests (1 h)', num: true,
                   cell: (d) => String((d.variants || []).reduce((n, v) => n + ((v.window || {}).requests || 0), 0)) }],
                o.deployments)),
        h('section.panel', { 'aria-labelledby': 'h-exec' }, h('h2', { id: 'h-exec' }, 'Recent pipeline executions'),
          table([{ title: 'Execution', cell: (e) => h('a', { href: '#/executions/' + seg(e.arn) }, e.name) },
                 { title: 'Status', cell: (e) => badge(e.status) },
                 { title: 'Started', cell: (e) => when(e.startDate) }], o.executions)))];
  }, (s, prev) => s.version !== prev.version, 1000);
}
