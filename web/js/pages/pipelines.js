// Pipelines: the state machines with their last execution, and a machine's executions, newest
// first (50 at a time).
import { getJson, seg } from '../api.js';
import { h, clear, badge, when, shortArn, table, errorBox } from '../dom.js';
import { refresher } from '../refresh.js';

export async function render(main, { params, query }) {
  const machine = params[0] || '';
  const body = h('div');
  main.append(h('h1', machine ? ['Pipeline ', h('span.mono', shortArn(machine))] : 'Pipelines'), body);
  async function draw() {
    let machines = null, executions;
    try {
      if (!machine) machines = await getJson('pipelines');
      executions = await getJson(machine ? 'pipelines/' + seg(machine) : 'executions', { limit: 50, after: query.get('after') || '' });
    } catch (e) { clear(body).append(errorBox(e)); return; }
    const execTable = table([
      { title: 'Execution', cell: (e) => h('a', { href: '#/executions/' + seg(e.arn) }, e.name) },
      { title: 'State machine', cell: (e) => h('a', { href: '#/pipelines/' + seg(e.stateMachineArn) }, shortArn(e.stateMachineArn)) },
      { title: 'Status', cell: (e) => badge(e.status) },
      { title: 'Started', cell: (e) => when(e.startDate) },
      { title: 'Stopped', cell: (e) => when(e.stopDate) }], executions.executions);
    const more = executions.next ? h('p', h('a', { href: (machine ? '#/pipelines/' + seg(machine) : '#/pipelines') + '?after=' + encodeURIComponent(executions.next) }, 'older →')) : null;
    clear(body).append(
      machines ? h('section.panel', { 'aria-labelledby': 'h-machines' }, h('h2', { id: 'h-machines' }, 'State machines'),
        table([{ title: 'Name', cell: (m) => h('a', { href: '#/pipelines/' + seg(m.arn) }, m.name) },
               { title: 'Type', cell: (m) => m.type },
               { title: 'Last execution', cell: (m) => m.lastExecution ? [h('a', { href: '#/executions/' + seg(m.lastExecution.arn) }, m.lastExecution.name), ' ', badge(m.lastExecution.status)] : '—' },
               { title: 'Created', cell: (m) => when(m.creationDate) }], machines.stateMachines)) : null,
      h('section.panel', { 'aria-labelledby': 'h-execs' }, h('h2', { id: 'h-execs' }, machine ? 'Executions' : 'Recent executions'), execTable, more));
  }
  await draw();
  const refresh = refresher(draw, 2000);
  return {
    onState: (s, prev) => {
      if (prev && (JSON.stringify(s.executions) !== JSON.stringify(prev.executions) || s.topics['aws.states'] !== prev.topics['aws.states'])) refresh();
    },
    dispose: refresh.stop,
  };
}
