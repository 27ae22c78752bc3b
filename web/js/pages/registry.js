// Models & registry: the model groups with their latest version and aliases.
import { getJson, seg } from '../api.js';
import { h, when, table } from '../dom.js';
import { livePart } from '../refresh.js';

export async function render(main) {
  const body = h('div');
  main.append(h('h1', 'Models & registry'), body);
  return livePart(body, () => getJson('registry'), (r) => h('section.panel', table([
      { title: 'Group', cell: (g) => h('a', { href: '#/registry/' + seg(g.name) }, g.name) },
      { title: 'Latest version', num: true, cell: (g) => String(g.latestVersion) },
      { title: 'Aliases', cell: (g) => Object.entries(g.aliases).map(([a, v]) => h('span.badge', `${a} → v${v}`)) },
      { title: 'Description', cell: (g) => g.description },
      { title: 'Created', cell: (g) => when(g.creationTime) }], r.groups)),
    (s, prev) => s.topics['lathe.registry'] !== prev.topics['lathe.registry']);
}
