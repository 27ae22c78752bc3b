// Pipelines: the state machines with their last execution, and a machine's executions, newest
// first (50 at a time).
import { getJson, seg } from '../api.js';
import { h, badge, when, shortArn, table } from '../dom.js';
import { livePart } from '../refresh.js';

export async function render(main, { params, query }) {
  const machine = params[0] || '';
  const body = h('div');
  main.append(h('h1', machine ? ['Pipeline ', h('span.mono', shortArn(machine))] : 'Pipelines'), body);
  // The machines (on the list of all) and the executions, fetched together.
  const load = () => Promise.all([machine ? null : getJson('pipelines'),
    getJson(machine ? 'pipelines/' + seg(machine) : 'executions', { limit: 50, after: query.get('after') || '' })]);
  return livePart(body, load, ([machines, executions]) => {
    const execTable = table([
      { title: 'Execution', cell: (e) => h('a', { href: '#/executions/' + seg(e.arn) }, e.name) },
      { title: 'State machine', cell: (e) => h('a', { href: '#/pipelines/' + seg(e.stateMachineArn) }, shortArn(e.stateMachineArn)) },
      { title: 'Status', cell: (e) => badge(e.status) },
      { title: 'Started', cell: (e) => when(e.startDate) },
      { title: 'Stopped', cell: (e) => when(e.stopDate) }], executions.executions);
    const more = executions.next ? h('p', h('a', { href: (machine ? '#/pipelines/' + seg(machine) : '#/pipelines') + '?after=' + encodeURIComponent(executions.next) }, 'older →')) : null;
    return [
      machines ? h('section.panel', { 'aria-labelledby': 'h-machines' }, h('h2', { id: 'h-machines' }, 'State machines'),
        table([{ title: 'Name', cell: (m) => h('a', { href: '#/pipelines/' + seg(m.arn) }, m.name) },
               { title: 'Type', cell: (m) => m.type },
               { title: 'Last execution', cell: (m) => m.lastExecution ? [h('a', { href: '#/executions/' + seg(m.lastExecution.arn) }, m.lastExecution.name), ' ', badge(m.lastExecution.status)] : '—' },
               { title: 'Created', cell: (m) => when(m.creationDate) }], machines.stateMachines)) : null,
      h('section.panel', { 'aria-labelledby': 'h-execs' }, h('h2', { id: 'h-execs' }, machine ? 'Executions' : 'Recent executions'), execTable, more)];
  }, (s, prev) => JSON.stringify(s.executions) !== JSON.stringify(prev.executions) || s.topics['aws.states'] !== prev.topics['aws.states']);
}
