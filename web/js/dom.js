// Building the pages' DOM without innerHTML: every text from the server goes in as text, so a
// model's answer or an object key can never become markup.

// h('tag.class', {attr: value, onclick: fn}, child, 'text', [children]) -> Element
export function h(spec, attrs, ...children) {
  const [tag, ...classes] = spec.split('.');
  const el = document.createElement(tag || 'div');
  if (classes.length) el.className = classes.join(' ');
  if (attrs && (typeof attrs !== 'object' || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = null;
  }
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'style') Object.assign(el.style, v);  // CSSOM, which the CSP allows (a style attribute it does not)
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// Empties `el`; the answer's append() skips null and false (the native one would write "null").
export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return { append: (...children) => append(el, children) };
}

// SVG elements (the pipeline graph).
export function svg(tag, attrs, ...children) {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null) el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

export function badge(status) {
  return h('span.badge.' + String(status || '').replace(/[^A-Za-z_]/g, ''), status || '—');
}

export function bytes(n) {
  if (n === undefined || n === null) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(1) : String(n)) + ' ' + units[i];
}

export function duration(seconds) {
  if (seconds === undefined || seconds === null || seconds < 0 || !isFinite(seconds)) return '—';
  seconds = Math.round(seconds);
  if (seconds < 60) return seconds + ' s';
  if (seconds < 3600) return Math.floor(seconds / 60) + ' min ' + (seconds % 60) + ' s';
  return Math.floor(seconds / 3600) + ' h ' + Math.floor((seconds % 3600) / 60) + ' min';
}

export function when(iso) {
  if (!iso) return '—';
  const d = new Date(typeof iso === 'number' ? iso : iso);
  return isNaN(d) ? String(iso) : d.toLocaleString();
}

export function num(x, digits = 3) {
  return typeof x === 'number' && isFinite(x) ? x.toFixed(digits) : '—';
}

// The last part of an ARN ("…:model-customization-job/abc" -> "abc").
export function shortArn(arn) {
  if (!arn) return '—';
  const s = String(arn);
  return s.slice(Math.max(s.lastIndexOf('/'), s.lastIndexOf(':')) + 1) || s;
}

// A table: columns [{title, cell: row => node|string, num?}], rows.
export function table(columns, rows, caption) {
  return h('div.table-wrap', h('table', caption ? h('caption.muted', caption) : null,
    h('thead', h('tr', columns.map((c) => h('th' + (c.num ? '.num' : ''), { scope: 'col' }, c.title)))),
    h('tbody', rows.length ? rows.map((r) => h('tr', columns.map((c) => h('td' + (c.num ? '.num' : ''), c.cell(r))))) :
      h('tr', h('td.muted', { colspan: columns.length }, 'Nothing yet.')))));
}

export function facts(pairs) {
  return h('dl.facts', pairs.filter((p) => p).map(([k, v]) => [h('dt', k), h('dd', v === undefined || v === '' ? '—' : v)]));
}

export function errorBox(e) {
  return h('p.error', { role: 'alert' }, e && e.message ? e.message : String(e));
}
