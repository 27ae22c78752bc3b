import { clear, errorBox } from './dom.js';

// A page's refetch on live changes: at most one request in flight and one per `minMs`; a change
// arriving meanwhile is served by one more request afterwards, never lost.
export function refresher(fetchAndDraw, minMs = 1000) {
  let running = false, pending = false, last = 0, timer = null, stopped = false;
  async function run() {
    timer = null;
    if (stopped) return;
    running = true;
    pending = false;
    last = Date.now();
    try { await fetchAndDraw(); } catch (e) { /* the page shows its own errors */ }
    running = false;
    if (pending) trigger();
  }
  function trigger() {
    if (stopped) return;
    if (running) { pending = true; return; }
    if (timer) return;
    timer = setTimeout(run, Math.max(0, last + minMs - Date.now()));
  }
  trigger.stop = () => { stopped = true; if (timer) clearTimeout(timer); };
  return trigger;
}

// A page's live part: fetch() its data, draw(data) into `body` (the nodes it returns; a failed
// fetch shows its error there instead), and again, at most once per `minMs`, whenever
// changed(state, previous) says a new state of the live feed concerns it. Resolves, once drawn,
// to what a page's render returns: {onState, dispose}.
export async function livePart(body, fetch, draw, changed, minMs = 2000) {
  async function update() {
    let data;
    try { data = await fetch(); } catch (e) { clear(body).append(errorBox(e)); return; }
    clear(body).append(draw(data));
  }
  await update();
  const refresh = refresher(update, minMs);
  return { onState: (s, prev) => { if (prev && changed(s, prev)) refresh(); }, dispose: refresh.stop };
}
