// Rules, topics and notifications: EventBridge's rules with their targets and the latest events
// each matched, SNS's topics and subscriptions, recent deliveries, and the email outbox.
import { getJson } from '../api.js';
import { h, badge, when, shortArn, table } from '../dom.js';
import { livePart } from '../refresh.js';

export async function render(main) {
  const body = h('div');
  main.append(h('h1', 'Rules, topics and notifications'), body);
  return livePart(body, () => getJson('notifications'), (r) => [
      h('section.panel', { 'aria-labelledby': 'h-rules' }, h('h2', { id: 'h-rules' }, 'EventBridge rules'),
        table([{ title: 'Rule', cell: (x) => [x.name, h('div.muted', x.region + ' · ' + x.bus)] },
               { title: 'State', cell: (x) => badge(x.state) },
               { title: 'Pattern or schedule', cell: (x) => h('code', x.scheduleExpression || x.eventPattern) },
               { title: 'Targets', cell: (x) => x.targets.map((t) => h('div', shortArn(t.arn))) },
               { title: 'Recent matches', cell: (x) => x.matches.length ? x.matches.map((m) => h('div', `${m.detailType} (${when(m.time)})`)) : '—' }], r.rules)),
      h('div.grid',
        h('section.panel', { 'aria-labelledby': 'h-topics' }, h('h2', { id: 'h-topics' }, 'SNS topics'),
          table([{ title: 'Topic', cell: (t) => shortArn(t.arn) },
                 { title: 'Subscriptions', cell: (t) => t.subscriptions.map((s) => h('div', `${s.protocol}: ${s.endpoint} `, s.confirmed ? '' : h('span.badge', 'pending'))) }], r.topics)),
        h('section.panel', { 'aria-labelledby': 'h-del' }, h('h2', { id: 'h-del' }, 'Recent deliveries'),
          table([{ title: 'Topic', cell: (d) => shortArn(d.topicArn) }, { title: 'To', cell: (d) => `${d.protocol}: ${d.endpoint}` },
                 { title: 'Status', cell: (d) => [badge(d.status), d.lastError ? h('div.muted', d.lastError) : null] },
                 { title: 'When', cell: (d) => when(d.time) }], r.deliveries))),
      h('section.panel', { 'aria-labelledby': 'h-outbox' }, h('h2', { id: 'h-outbox' }, 'Email outbox'),
        r.outbox.length ? r.outbox.map((m) => h('details', h('summary', `${m.Subject || '(no subject)'} — to ${m.To || '?'} — ${m.Date || m.file}`),
          h('pre', m.body || ''))) : h('p.muted', 'No email yet.'))],
    (s, prev) => s.outboxSeq !== prev.outboxSeq);
}
