// Models & registry: the model groups with their latest version and aliases.
import { getJson, seg } from '../api.js';
import { h, clear, when, table, errorBox } from '../dom.js';
import { refresher } from '../refresh.js';

export async function render(main) {
  const body = h('div');
  main.append(h('h1', 'Models & registry'), body);
  async function draw() {
    let r;
    try { r = await getJson('registry'); } catch (e) { clear(body).append(errorBox(e)); return; }
    clear(body).append(h('section.panel', table([
      { title: 'Group', cell: (g) => h('a', { href: '#/registry/' + seg(g.name) }, g.name) },
      { title: 'Latest version', num: true, cell: (g) => String(g.latestVersion) },
      { title: 'Aliases', cell: (g) => Object.entries(g.aliases).map(([a, v]) => h('span.badge', `${a} → v${v}`)) },
      { title: 'Description', cell: (g) => g.description },
      { title: 'Created', cell: (g) => when(g.creationTime) }], r.groups)));
  }
  await draw();
  const refresh = refresher(draw, 2000);
  return { onState: (s, prev) => { if (prev && s.topics['lathe.registry'] !== prev.topics['lathe.registry']) refresh(); }, dispose: refresh.stop };
}
