// Jobs: every customization job, newest first, a page at a time, filtered by status.
import { getJson, seg } from '../api.js';
import { h, badge, when, num, shortArn, table } from '../dom.js';
import { livePart } from '../refresh.js';
import { jobProgress } from './overview.js';

const PAGE = 50;

export async function render(main, { query }, ctx) {
  const status = query.get('status') || '';
  const offset = Math.max(0, parseInt(query.get('offset') || '0', 10) || 0);
  const body = h('div');
  const filter = h('select', { id: 'job-status', onchange: (e) => ctx.navigate('#/jobs?status=' + e.target.value) },
    ['', 'InProgress', 'Completed', 'Failed', 'Stopping', 'Stopped'].map((s) =>
      h('option', { value: s, selected: s === status }, s || 'any status')));
  main.append(h('h1', 'Jobs'), h('div.row', h('div', h('label', { for: 'job-status' }, 'Status'), filter)), body);
  const link = (o) => '#/jobs?status=' + status + '&offset=' + o;
  return livePart(body, () => getJson('jobs', { status, offset, limit: PAGE }), (r) => [
      table([{ title: 'Job', cell: (j) => h('a', { href: '#/jobs/' + seg(j.id) }, j.name) },
             { title: 'Status', cell: (j) => j.status === 'InProgress' ? [badge(j.status), jobProgress(j)] : badge(j.status) },
             { title: 'Base model', cell: (j) => shortArn(j.baseModelArn) },
             { title: 'Training loss', num: true, cell: (j) => num((j.trainingMetrics || {}).trainingLoss) },
             { title: 'Created', cell: (j) => when(j.creationTime) }], r.jobs),
      h('p.row', h('span.muted', `${r.total} jobs`),
        offset > 0 ? h('a', { href: link(Math.max(0, offset - PAGE)) }, '← newer') : null,
        offset + PAGE < r.total ? h('a', { href: link(offset + PAGE) }, 'older →') : null)],
    (s, prev) => JSON.stringify(s.jobs) + s.topics['aws.bedrock'] !== JSON.stringify(prev.jobs) + prev.topics['aws.bedrock']);
}
