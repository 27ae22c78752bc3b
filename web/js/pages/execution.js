// An execution: the state machine it runs drawn as a graph (the server lays it out in layers),
// each state coloured by its progress and updated live, the history beside it, and a state's
// input and output on click (or Enter, keyboard users).
import { getJson, seg } from '../api.js';
import { h, svg, clear, badge, when, facts, errorBox } from '../dom.js';
import { refresher } from '../refresh.js';

const PAD = 24;

function edgePath(from, to, back) {
  const x1 = from.x + from.width / 2, y1 = from.y + from.height;
  const x2 = to.x + to.width / 2, y2 = to.y;
  if (back) {  // a loop: out of the right side, up, into the target's right side
    const right = Math.max(from.x + from.width, to.x + to.width) + 30;
    return `M${from.x + from.width},${from.y + from.height / 2} C${right},${from.y + from.height / 2} ${right},${to.y + to.height / 2} ${to.x + to.width},${to.y + to.height / 2}`;
  }
  const mid = (y1 + y2) / 2;
  return `M${x1},${y1} C${x1},${mid} ${x2},${mid} ${x2},${y2}`;
}

function drawGraph(graph, states, onSelect) {
  const byName = Object.fromEntries(graph.nodes.map((n) => [n.name, n]));
  const width = graph.width + 2 * PAD + 40, height = graph.height + 2 * PAD;
  const root = svg('svg', { class: 'graph', viewBox: `${-PAD} ${-PAD} ${width} ${height}`, role: 'group',
    'aria-label': 'State machine graph; each state is a button' });
  root.append(svg('defs', {}, svg('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto' },
    svg('path', { d: 'M0,0 L10,5 L0,10 z', fill: '#6b7280' }))));
  for (const e of graph.edges) {
    const a = byName[e.from], b = byName[e.to];
    if (!a || !b) continue;
    root.append(svg('path', { class: 'edge' + (e.back ? ' back' : ''), d: edgePath(a, b, e.back), 'marker-end': 'url(#arrow)' }));
    if (e.label) root.append(svg('text', { class: 'edge-label', x: (a.x + b.x + a.width) / 2 + 4, y: (a.y + a.height + b.y) / 2 }, e.label));
  }
  const nodes = {};
  for (const n of graph.nodes) {
    const state = states[n.name] || 'none';
    const g = svg('g', { class: 'node state-' + state, transform: `translate(${n.x},${n.y})`, tabindex: 0, role: 'button',
      'data-state': n.name, 'data-progress': state, 'aria-label': `${n.name} (${n.type}): ${state === 'none' ? 'not reached' : state}` },
      svg('rect', { width: n.width, height: n.height, rx: 8 }),
      svg('text', { x: n.width / 2, y: n.height / 2 + 4, 'text-anchor': 'middle' }, n.name.length > 24 ? n.name.slice(0, 23) + '…' : n.name));
    g.addEventListener('click', () => onSelect(n.name));
    g.addEventListener('keydown', (ev) => { if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); onSelect(n.name); } });
    nodes[n.name] = g;
    root.append(g);
  }
  return { root, nodes };
}

function json(v) { return h('pre', v === undefined ? '—' : JSON.stringify(v, null, 2)); }

export async function render(main, { params }) {
  const arn = params[0];
  let e = await getJson('executions/' + seg(arn));
  let selected = null, drawn = null;
  const fullEvents = new Map();  // event id -> the event with its whole input and output (fetched once)
  const head = h('div'), graphBox = h('div', { id: 'graph' }), history = h('ol.history', { 'aria-label': 'Execution history' });
  const stepBox = h('div', { id: 'step', 'aria-live': 'polite' });
  main.append(h('h1', 'Execution ', h('span.mono', e.name)), head,
    h('div.split',
      h('section.panel', { 'aria-labelledby': 'h-graph' }, h('h2', { id: 'h-graph' }, 'State machine'),
        h('div.legend', h('span.l-none', 'not reached'), h('span.l-running', 'running'), h('span.l-succeeded', 'succeeded'), h('span.l-failed', 'failed')),
        graphBox, stepBox),
      h('section.panel', { 'aria-labelledby': 'h-history' }, h('h2', { id: 'h-history' }, 'History'), history)));

  function showStep(name) {
    selected = name;
    for (const [n, g] of Object.entries(drawn ? drawn.nodes : {})) g.classList.toggle('selected', n === name);
    const entered = e.history.filter((x) => x.type.endsWith('StateEntered') && x.details.name === name).pop();
    const exited = e.history.filter((x) => x.type.endsWith('StateExited') && x.details.name === name).pop();
    const input = h('div'), output = h('div');
    clear(stepBox).append(h('h2', 'State ', h('span.mono', name), ' ', badge(e.states[name] || 'not reached')),
      h('h3', 'Input'), input, h('h3', 'Output'), output);
    payload(input, entered, 'input');
    payload(output, exited, 'output');
  }
  // The history carries the first 2 KiB of a long input or output; the whole one is fetched here.
  function payload(box, event, key) {
    const cut = event && event.details.truncated && event.details.truncated[key];
    if (!cut) return box.append(json(event ? event.details[key] : undefined));
    if (fullEvents.has(event.id)) return box.append(json(fullEvents.get(event.id).details[key]));
    box.append(h('p.muted', `The first 2 KiB of ${cut.toLocaleString()} bytes; loading the whole…`), h('pre', event.details[key]));
    getJson('executions/' + seg(arn) + '/events/' + event.id).then(
      (full) => { fullEvents.set(event.id, full); clear(box).append(json(full.details[key])); },
      (err) => { box.append(errorBox(err)); });
  }
  function draw() {
    clear(head).append(h('p', badge(e.status)), facts([['State machine', h('a', { href: '#/pipelines/' + seg(e.stateMachineArn) }, e.stateMachineArn)],
      ['Started', when(e.startDate)], ['Stopped', when(e.stopDate)], e.error ? ['Error', e.error] : null, e.cause ? ['Cause', e.cause] : null]),
      h('details', h('summary', 'Execution input and output'), h('h3', 'Input'), json(e.input), h('h3', 'Output'), json(e.output)));
    if (e.graph) {
      // A redraw keeps the keyboard's place on the graph.
      const focused = graphBox.contains(document.activeElement) ? document.activeElement.dataset.state : null;
      drawn = drawGraph(e.graph, e.states, showStep);
      clear(graphBox).append(drawn.root);
      if (focused && drawn.nodes[focused]) drawn.nodes[focused].focus({ preventScroll: true });
    } else {
      clear(graphBox).append(h('p.notice', 'No graph: ' + (e.graphError || 'no definition')));
    }
    clear(history).append(e.history.map((x) => h('li', h('span.muted', `#${x.id} ${when(x.timestamp)} `), h('strong', x.type),
      x.details && x.details.name ? [' ', h('button.link', { type: 'button', onclick: () => showStep(x.details.name) }, x.details.name)] : null)));
    if (e.historyTruncated) history.append(h('li.muted', 'Only the first 2,000 events are shown.'));
    if (selected) showStep(selected);
  }
  draw();
  const refresh = refresher(async () => {
    try { e = await getJson('executions/' + seg(arn)); draw(); } catch (err) { clear(head).append(errorBox(err)); }
  }, 500);
  return {
    onState: (s, prev) => {
      if (!prev) return;
      if ((s.executions || {})[arn] !== (prev.executions || {})[arn] || s.topics['aws.states'] !== prev.topics['aws.states']) refresh();
    },
    dispose: refresh.stop,
  };
}
