// One model group: its versions, the lineage (data -> job -> model -> evaluation -> alias ->
// deployment), each alias with its history on a timeline, and promote / roll back (confirmed,
// with a reason the registry records beside the dashboard's key).
import { getJson, postJson, seg } from '../api.js';
import { h, clear, badge, when, num, shortArn, table, errorBox } from '../dom.js';
import { refresher } from '../refresh.js';

function lineage(g) {
  const col = (title, items) => h('div.col', h('h3', title), items.length ? items.map((i) => h('div.item', i)) : h('div.muted', '—'));
  const data = [...new Set(g.versions.flatMap((v) => v.data.map((d) => d.uri)))];
  const jobs = g.versions.filter((v) => v.trainingJobArn).map((v) =>
    h('a', { href: '#/jobs/' + seg(shortArn(v.trainingJobArn)) }, shortArn(v.trainingJobArn)));
  const versions = g.versions.map((v) => [`v${v.version} `, badge(v.status), h('div.muted', shortArn(v.customModelArn))]);
  const evaluations = g.versions.flatMap((v) => v.evaluations.map((e) =>
    `v${v.version}: ${num(e.overallScore)}${e.verdict ? ' (' + e.verdict + ')' : ''}`));
  const aliases = Object.entries(g.aliases).map(([a, x]) => `${a} → v${x.version}`);
  const deployments = g.deployments.map((d) => [d.name, ' ', badge(d.status), h('div.muted', d.model)]);
  return h('div.lineage', { role: 'group', 'aria-label': 'Lineage' }, col('Data', data), col('Jobs', jobs), col('Versions', versions),
    col('Evaluations', evaluations), col('Aliases', aliases), col('Deployments', deployments));
}

export async function render(main, { params }, ctx) {
  const name = params[0];
  // message.dataset.outcome: what the last button led to ("moved", "cancelled", "failed").
  const body = h('div'), message = h('div', { id: 'alias-message', 'aria-live': 'polite' });
  main.append(h('h1', 'Model group ', h('span.mono', name)), message, body);

  async function act(alias, payload, text) {
    const answer = await ctx.confirm({ title: payload.action === 'rollback' ? 'Roll back?' : 'Promote?', text, askReason: true,
      okLabel: payload.action === 'rollback' ? 'Roll back' : 'Promote', danger: payload.action === 'rollback' });
    if (!answer.ok) { clear(message); message.dataset.outcome = 'cancelled'; return; }
    try {
      const move = await postJson('registry/' + seg(name) + '/aliases/' + seg(alias), { ...payload, reason: answer.reason });
      clear(message).append(h('p.notice', { role: 'status' }, `${move.alias}: v${move.fromVersion} → v${move.toVersion}`));
      await draw();
      message.dataset.outcome = 'moved';
    } catch (e) { clear(message).append(errorBox(e)); message.dataset.outcome = 'failed'; }
  }

  // The promote form is made once: a redraw (the registry changed) keeps what the user typed and chose.
  const aliasInput = h('input', { id: 'alias-name', maxlength: 63, required: true });
  const versionSelect = h('select', { id: 'promote-version' });
  const promote = h('button', { id: 'promote', type: 'button', onclick: () => act(aliasInput.value, { action: 'promote', version: Number(versionSelect.value) },
    `Point ${aliasInput.value} at v${versionSelect.value} of ${name}? Deployments that follow it switch to that version.`) }, 'Promote');
  let drawnOnce = false;

  async function draw() {
    let g;
    try { g = await getJson('registry/' + seg(name)); } catch (e) { clear(body).append(errorBox(e)); return; }
    if (!drawnOnce) aliasInput.value = Object.keys(g.aliases)[0] || 'production';
    drawnOnce = true;
    const chosen = versionSelect.value;
    clear(versionSelect).append(g.versions.map((v) => h('option', { value: v.version, selected: String(v.version) === chosen }, `v${v.version} (${v.status})`)));
    clear(body).append(
      h('section.panel', { 'aria-labelledby': 'h-lineage' }, h('h2', { id: 'h-lineage' }, 'Lineage'), lineage(g)),
      h('div.split',
        h('section.panel', { 'aria-labelledby': 'h-versions' }, h('h2', { id: 'h-versions' }, 'Versions'),
          table([{ title: 'Version', cell: (v) => 'v' + v.version }, { title: 'Status', cell: (v) => badge(v.status) },
                 { title: 'Base model', cell: (v) => v.baseModel },
                 { title: 'Score', num: true, cell: (v) => v.evaluations.length ? num(v.evaluations[v.evaluations.length - 1].overallScore) : '—' },
                 { title: 'Created', cell: (v) => when(v.creationTime) }], g.versions)),
        h('section.panel', { 'aria-labelledby': 'h-aliases' }, h('h2', { id: 'h-aliases' }, 'Aliases'),
          h('div.row', h('div', h('label', { for: 'alias-name' }, 'Alias'), aliasInput),
            h('div', h('label', { for: 'promote-version' }, 'Version'), versionSelect), promote),
          Object.entries(g.aliases).map(([alias, a]) => h('div', { dataset: { alias } },
            h('h3', alias, ' → ', h('span', { class: 'alias-version' }, 'v' + a.version), ' ',
              h('button.secondary', { type: 'button', 'data-rollback': alias, onclick: () => act(alias, { action: 'rollback' },
                `Move ${alias} back to where its last move took it from?`) }, 'Roll back')),
            h('ol.timeline', { 'aria-label': 'History of ' + alias }, a.history.slice().reverse().map((m) =>
              h('li' + (m.rollback ? '.rollback' : ''), h('strong', `v${m.fromVersion || '–'} → v${m.toVersion || '–'}`),
                ' ', m.rollback ? '(rollback) ' : '', h('span.muted', when(m.time), ' · ', m.actor), m.reason ? h('div', m.reason) : null))))))));
  }
  await draw();
  const refresh = refresher(draw, 2000);
  return { onState: (s, prev) => { if (prev && s.topics['lathe.registry'] !== prev.topics['lathe.registry']) refresh(); }, dispose: refresh.stop };
}
