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
